//! Chapter 11's job queue from the notebook's side: submit jobs to a Redis stream, wait for and
//! read their results, and (with the `notebook` feature) start and stop `queue-worker`
//! processes. The worker itself is this package's binary (src/main.rs), which documents the
//! protocol: a stream per experiment, a consumer group `workers`, results in `STREAM:results`,
//! counters in `STREAM:stats`, claims in `STREAM:claimed`, dead letters in `STREAM:dead`.
//!
//! A chapter connects to its broker with [`Broker::connect`] and works through a [`Queue`],
//! which prefixes every key with the run's own name, so that runs sharing a Redis never mix.

use redis::{Connection, IntoConnectionInfo};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use redis;

#[cfg(feature = "notebook")]
mod workers;
#[cfg(feature = "notebook")]
pub use workers::{start_worker, start_workers, stop_all, worker_binary};

/// Any error of a queue operation: Redis's, or a wait that ran out.
pub type Error = Box<dyn std::error::Error>;
/// A queue operation's result.
pub type Result<T> = std::result::Result<T, Error>;

/// The consumer group every worker of a stream joins.
pub const GROUP: &str = "workers";

/// One job, as the worker reads it: its id, its kind and two numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// The job's id: its result's field in `STREAM:results`, and the π job's seed.
    pub id: u64,
    /// `pi`, `primes`, `sleep` or `fail`.
    pub kind: &'static str,
    /// The first number: points (`pi`), the range's start (`primes`), milliseconds (`sleep`).
    pub a: u64,
    /// The second number: the range's end (`primes`).
    pub b: u64,
}

impl Job {
    /// `points` random points in the unit square, seeded by `id`: the result is how many fall
    /// inside the quarter circle.
    pub fn pi(id: u64, points: u64) -> Job {
        Job {
            id,
            kind: "pi",
            a: points,
            b: 0,
        }
    }

    /// The number of primes in `start..end`, by trial division.
    pub fn primes(id: u64, start: u64, end: u64) -> Job {
        Job {
            id,
            kind: "primes",
            a: start,
            b: end,
        }
    }

    /// Waits `milliseconds` (a stand-in for a long job); the result is 0.
    pub fn sleep(id: u64, milliseconds: u64) -> Job {
        Job {
            id,
            kind: "sleep",
            a: milliseconds,
            b: 0,
        }
    }

    /// Always fails.
    pub fn fail(id: u64) -> Job {
        Job {
            id,
            kind: "fail",
            a: 0,
            b: 0,
        }
    }
}

/// `count` π jobs of `points` points each, ids `0..count`.
pub fn pi_jobs(count: u64, points: u64) -> Vec<Job> {
    (0..count).map(|id| Job::pi(id, points)).collect()
}

/// The keys a stream's jobs use besides the stream itself.
pub struct Keys {
    /// `STREAM:results`: job id → value, each written once.
    pub results: String,
    /// `STREAM:stats`: the workers' counters.
    pub stats: String,
    /// `STREAM:claimed`: when a job was taken over (the server's clock, in ms).
    pub claimed: String,
    /// `STREAM:dead`: the dead-letter stream.
    pub dead: String,
}

impl Keys {
    /// The keys of `stream` (its full key).
    pub fn new(stream: &str) -> Keys {
        Keys {
            results: format!("{stream}:results"),
            stats: format!("{stream}:stats"),
            claimed: format!("{stream}:claimed"),
            dead: format!("{stream}:dead"),
        }
    }
}

/// `info` with `password` given to the server, unless it is empty (a server without one).
pub fn with_password(info: redis::ConnectionInfo, password: &str) -> redis::ConnectionInfo {
    if password.is_empty() {
        return info;
    }
    let settings = info.redis_settings().clone().set_password(password);
    info.set_redis_settings(settings)
}

/// Where clients and workers find the broker: its URL, and the password it wants (empty: none),
/// which workers get in their environment, never on a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// `redis://host:port/`.
    pub url: String,
    /// The password; empty for a server without one.
    pub password: String,
}

impl Broker {
    /// The broker at `url`, with `password` (empty: none).
    pub fn new(url: impl Into<String>, password: impl Into<String>) -> Broker {
        Broker {
            url: url.into(),
            password: password.into(),
        }
    }

    /// A connection, once the server answers `PING` (a restarted server first replays its
    /// append-only file), waiting up to `patience`.
    pub fn connect(&self, patience: Duration) -> Result<Connection> {
        let info = with_password(self.url.as_str().into_connection_info()?, &self.password);
        let client = redis::Client::open(info)?;
        let mut con = client.get_connection_with_timeout(Duration::from_secs(5))?;
        let deadline = Instant::now() + patience;
        while let Err(error) = redis::cmd("PING").exec(&mut con) {
            if Instant::now() > deadline {
                return Err(error.into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(con)
    }
}

/// A run's jobs on one broker: every key it uses is `PREFIX:name`.
pub struct Queue {
    con: Connection,
    prefix: String,
}

impl Queue {
    /// The queue of the run named `prefix` over `con`.
    pub fn new(con: Connection, prefix: impl Into<String>) -> Queue {
        Queue {
            con,
            prefix: prefix.into(),
        }
    }

    /// The Redis key of `name` for this run.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// The connection, for commands this type does not wrap.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.con
    }

    /// Uses `con` from now on (after the broker restarted).
    pub fn reconnect(&mut self, con: Connection) {
        self.con = con;
    }

    /// Creates `stream` and its group unless they exist, and appends `jobs` in one round trip.
    pub fn submit(&mut self, stream: &str, jobs: &[Job]) -> Result<()> {
        let stream = self.key(stream);
        let made: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query(&mut self.con);
        if let Err(error) = made {
            if error.code() != Some("BUSYGROUP") {
                return Err(error.into());
            }
        }
        let mut pipe = redis::pipe();
        for job in jobs {
            pipe.cmd("XADD")
                .arg(&stream)
                .arg("*")
                .arg("job")
                .arg(job.id)
                .arg("kind")
                .arg(job.kind)
                .arg("a")
                .arg(job.a)
                .arg("b")
                .arg(job.b)
                .ignore();
        }
        pipe.exec(&mut self.con)?;
        Ok(())
    }

    /// The results recorded for `stream`: job id → value.
    pub fn results(&mut self, stream: &str) -> Result<HashMap<u64, u64>> {
        let key = Keys::new(&self.key(stream)).results;
        Ok(redis::cmd("HGETALL").arg(key).query(&mut self.con)?)
    }

    /// A counter of the workers of `stream`: `compute_ns` or `duplicates` (0 until counted).
    pub fn stat(&mut self, stream: &str, field: &str) -> Result<u64> {
        let key = Keys::new(&self.key(stream)).stats;
        let value: Option<u64> = redis::cmd("HGET")
            .arg(key)
            .arg(field)
            .query(&mut self.con)?;
        Ok(value.unwrap_or(0))
    }

    /// Waits until `stream` has `count` results; an error after `limit` says how many came.
    pub fn wait_results(&mut self, stream: &str, count: usize, limit: Duration) -> Result<()> {
        let key = Keys::new(&self.key(stream)).results;
        let deadline = Instant::now() + limit;
        loop {
            let done: usize = redis::cmd("HLEN").arg(&key).query(&mut self.con)?;
            if done >= count {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{stream}: {done} of {count} results after {limit:?}").into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// How many entries of `stream` wait for `consumer`'s acknowledgement (at most 10).
    pub fn pending_to(&mut self, stream: &str, consumer: &str) -> Result<usize> {
        let pending: Vec<redis::Value> = redis::cmd("XPENDING")
            .arg(self.key(stream))
            .arg(GROUP)
            .arg("-")
            .arg("+")
            .arg(10)
            .arg(consumer)
            .query(&mut self.con)?;
        Ok(pending.len())
    }

    /// Whether `consumer` has held an entry of `stream` for `idle_ms` without acknowledging it.
    pub fn held_by(&mut self, stream: &str, consumer: &str, idle_ms: u64) -> Result<bool> {
        let held: Vec<redis::Value> = redis::cmd("XPENDING")
            .arg(self.key(stream))
            .arg(GROUP)
            .arg("IDLE")
            .arg(idle_ms)
            .arg("-")
            .arg("+")
            .arg(1)
            .arg(consumer)
            .query(&mut self.con)?;
        Ok(!held.is_empty())
    }

    /// When (the server's clock, in milliseconds) a worker took over job `job` of `stream`.
    pub fn claimed_at(&mut self, stream: &str, job: u64) -> Result<u64> {
        let key = Keys::new(&self.key(stream)).claimed;
        Ok(redis::cmd("HGET").arg(key).arg(job).query(&mut self.con)?)
    }

    /// The entries of `stream`'s dead-letter stream, each as its fields.
    pub fn dead_letters(&mut self, stream: &str) -> Result<Vec<HashMap<String, String>>> {
        let key = Keys::new(&self.key(stream)).dead;
        let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
            .arg(key)
            .arg("-")
            .arg("+")
            .query(&mut self.con)?;
        Ok(entries.into_iter().map(|(_, fields)| fields).collect())
    }

    /// The server's clock, in milliseconds.
    pub fn server_ms(&mut self) -> Result<u64> {
        let (seconds, micros): (u64, u64) = redis::cmd("TIME").query(&mut self.con)?;
        Ok(seconds * 1000 + micros / 1000)
    }

    /// Deletes every key of this run (for a broker that is not the run's own); returns how
    /// many there were.
    pub fn delete_keys(&mut self) -> Result<usize> {
        let ours: Vec<String> = redis::cmd("KEYS").arg(self.key("*")).query(&mut self.con)?;
        if !ours.is_empty() {
            redis::cmd("DEL").arg(&ours).exec(&mut self.con)?;
        }
        Ok(ours.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_carry_the_fields_the_worker_reads() {
        assert_eq!(
            Job::pi(7, 1 << 20),
            Job {
                id: 7,
                kind: "pi",
                a: 1 << 20,
                b: 0
            }
        );
        assert_eq!(Job::primes(1, 10, 20).kind, "primes");
        assert_eq!(
            pi_jobs(3, 16).iter().map(|j| j.id).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }
}
