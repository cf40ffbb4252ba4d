//! A job-queue worker for chapter 11 (clusters and job queues): it pulls jobs from a Redis
//! stream through a consumer group, records each result once, and acknowledges it.
//!
//! ```text
//! queue-worker REDIS_URL STREAM GROUP CONSUMER [--claim-idle-ms N] [--max-attempts N] [--burst]
//! ```
//!
//! A server that requires a password gets it from the environment variable `REDIS_PASSWORD`
//! (when set and not empty), not on the command line, which every user of the host can read.
//!
//! Any number of workers, on any host that reaches the Redis server, share one stream's jobs:
//! the group hands each entry to one consumer (`XREADGROUP`), and an entry stays pending until
//! its consumer acknowledges it (`XACK`). A worker that dies leaves its entry pending; another
//! worker takes it over once it has been idle `--claim-idle-ms` (`XAUTOCLAIM`), which must be
//! longer than the longest job: a job still running when it is claimed counts as lost.
//!
//! Deliveries are counted before a job runs: Redis raises an entry's delivery count as it hands
//! the entry out (`XREADGROUP`, `XAUTOCLAIM`), and the worker reads it (`XPENDING`) for each
//! entry it claims. An entry delivered more than `--max-attempts` times goes to the
//! dead-letter stream `STREAM:dead` without running again: each attempt before it killed or
//! hung its worker (a crash, the OOM killer, a worker stopped for taking too long). A job that
//! fails goes there as soon as it has failed on its `--max-attempts`-th delivery. A dead letter
//! holds the entry's `job` and `kind`, the `error`, its `deliveries` and its `attempts` (the
//! deliveries that ran it).
//!
//! A job is a stream entry with the fields `job` (its id), `kind` and `a`, `b`:
//! - `pi`: `a` points drawn in the unit square from the generator seeded with the job id; the
//!   result is how many fall inside the quarter circle.
//! - `primes`: the number of primes in `a..b`, by trial division (as the book's `check_prime`).
//! - `sleep`: waits `a` milliseconds (a stand-in for a long job); the result is 0.
//! - `fail`: always fails.
//!
//! Results go to the hash `STREAM:results`, field = job id, written with `HSETNX`: a job done
//! twice (redelivered while its first worker was slow, not dead) is recorded once, and the
//! hash `STREAM:stats` counts the `duplicates` and the workers' `compute_ns`. When a worker
//! takes over an entry it records the server's clock in `STREAM:claimed` (milliseconds).
//! With `--burst` a worker exits once the stream has no new entry and nothing is pending.

use queue_worker::{with_password, Keys};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{Connection, IntoConnectionInfo, RedisResult};
use std::time::{Duration, Instant};

mod jobs;

/// How long one `XREADGROUP` waits for a new entry.
const BLOCK_MS: u64 = 100;

struct Options {
    url: String,
    stream: String,
    group: String,
    consumer: String,
    claim_idle_ms: u64,
    max_attempts: usize,
    burst: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: queue-worker REDIS_URL STREAM GROUP CONSUMER \
         [--claim-idle-ms N] [--max-attempts N] [--burst]"
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        usage();
    }
    let mut options = Options {
        url: args[0].clone(),
        stream: args[1].clone(),
        group: args[2].clone(),
        consumer: args[3].clone(),
        claim_idle_ms: 30_000,
        max_attempts: 3,
        burst: false,
    };
    let mut rest = args[4..].iter();
    while let Some(flag) = rest.next() {
        let mut number = || -> u64 {
            rest.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage())
        };
        match flag.as_str() {
            "--claim-idle-ms" => options.claim_idle_ms = number(),
            "--max-attempts" => options.max_attempts = number() as usize,
            "--burst" => options.burst = true,
            _ => usage(),
        }
    }
    if options.claim_idle_ms == 0 || options.max_attempts == 0 {
        usage();
    }
    options
}

fn main() {
    let options = parse_args();
    if let Err(e) = run(&options) {
        eprintln!("worker {}: {e}", options.consumer);
        std::process::exit(1);
    }
}

/// The server's address from the command line, with the password of `REDIS_PASSWORD`.
fn connection_info(url: &str) -> RedisResult<redis::ConnectionInfo> {
    let password = std::env::var("REDIS_PASSWORD").unwrap_or_default();
    Ok(with_password(url.into_connection_info()?, &password))
}

fn run(options: &Options) -> RedisResult<()> {
    let client = redis::Client::open(connection_info(&options.url)?)?;
    let mut con = client.get_connection()?;
    let worker = Worker {
        options,
        keys: Keys::new(&options.stream),
    };
    worker.join_group(&mut con)?;
    println!("worker {} ready", options.consumer);
    let claim_every = Duration::from_millis((options.claim_idle_ms / 2).max(1));
    let mut next_claim = Instant::now();
    loop {
        if Instant::now() >= next_claim {
            next_claim = Instant::now() + claim_every;
            let claimed = worker.claim_idle(&mut con)?;
            if !claimed.is_empty() {
                for entry in &claimed {
                    let delivery = worker.deliveries(&mut con, &entry.id)?;
                    worker.take(&mut con, entry, delivery)?;
                }
                continue;
            }
        }
        match worker.read_new(&mut con)? {
            // A new entry has never been delivered before.
            Some(entry) => worker.take(&mut con, &entry, 1)?,
            None if options.burst && worker.nothing_pending(&mut con)? => break,
            None => {}
        }
    }
    println!("worker {} done", options.consumer);
    Ok(())
}

struct Worker<'a> {
    options: &'a Options,
    keys: Keys,
}

impl Worker<'_> {
    /// Creates the stream and its group (reading from the start) unless they exist, so that
    /// workers may start before the first job is submitted.
    fn join_group(&self, con: &mut Connection) -> RedisResult<()> {
        let o = self.options;
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&o.stream)
            .arg(&o.group)
            .arg("0")
            .arg("MKSTREAM")
            .exec(con);
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// One new entry for this consumer, waiting up to [`BLOCK_MS`].
    fn read_new(&self, con: &mut Connection) -> RedisResult<Option<StreamId>> {
        let o = self.options;
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&o.group)
            .arg(&o.consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(&o.stream)
            .arg(">")
            .query(con)?;
        Ok(reply.and_then(|r| r.keys.into_iter().next()?.ids.into_iter().next()))
    }

    /// Takes over entries that another consumer left idle longer than `--claim-idle-ms`, and
    /// notes when (the server's clock) for each job.
    fn claim_idle(&self, con: &mut Connection) -> RedisResult<Vec<StreamId>> {
        let o = self.options;
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&o.stream)
            .arg(&o.group)
            .arg(&o.consumer)
            .arg(o.claim_idle_ms)
            .arg("0-0")
            .arg("COUNT")
            .arg(1)
            .query(con)?;
        if !reply.claimed.is_empty() {
            let (seconds, micros): (u64, u64) = redis::cmd("TIME").query(con)?;
            let now_ms = seconds * 1000 + micros / 1000;
            for entry in &reply.claimed {
                let job: String = entry.get("job").unwrap_or_default();
                redis::cmd("HSETNX")
                    .arg(&self.keys.claimed)
                    .arg(job)
                    .arg(now_ms)
                    .exec(con)?;
            }
        }
        Ok(reply.claimed)
    }

    /// Whether no entry of the group waits for an acknowledgement.
    fn nothing_pending(&self, con: &mut Connection) -> RedisResult<bool> {
        let o = self.options;
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&o.stream)
            .arg(&o.group)
            .arg("-")
            .arg("+")
            .arg(1)
            .query(con)?;
        Ok(reply.ids.is_empty())
    }

    /// How many times the group has delivered the entry `id`, this delivery included (Redis
    /// counts each one as it hands the entry out).
    fn deliveries(&self, con: &mut Connection, id: &str) -> RedisResult<usize> {
        let o = self.options;
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&o.stream)
            .arg(&o.group)
            .arg(id)
            .arg(id)
            .arg(1)
            .query(con)?;
        Ok(reply.ids.first().map_or(0, |p| p.times_delivered))
    }

    /// Takes an entry on its `delivery`-th delivery. Past `--max-attempts` deliveries it goes
    /// to the dead-letter stream unrun: every attempt so far ended without an answer, so its
    /// workers died or hung. Otherwise the job runs; its result is recorded once and the entry
    /// acknowledged, or on failure it stays pending (to be claimed again) unless this was its
    /// last attempt.
    fn take(&self, con: &mut Connection, entry: &StreamId, delivery: usize) -> RedisResult<()> {
        let job: String = entry.get("job").unwrap_or_default();
        let attempts = self.options.max_attempts;
        if delivery > attempts {
            // Each earlier delivery ran the job, or lost its worker before it could.
            let tried = delivery - 1;
            let error =
                format!("no answer from {tried} attempt(s): each worker that took it died or hung");
            println!("job {job} delivered {delivery} times: {error}");
            let dead = DeadLetter {
                job: &job,
                error: &error,
                deliveries: delivery,
                attempts: tried,
            };
            return self.dead_letter(con, entry, &dead);
        }
        let started = Instant::now();
        match jobs::run(entry) {
            Ok(value) => self.record(con, entry, &job, value, started.elapsed()),
            Err(error) => {
                println!("job {job} failed (attempt {delivery}): {error}");
                if delivery >= attempts {
                    let dead = DeadLetter {
                        job: &job,
                        error: &error,
                        deliveries: delivery,
                        attempts: delivery,
                    };
                    self.dead_letter(con, entry, &dead)?;
                }
                Ok(())
            }
        }
    }

    fn record(
        &self,
        con: &mut Connection,
        entry: &StreamId,
        job: &str,
        value: u64,
        took: Duration,
    ) -> RedisResult<()> {
        let o = self.options;
        let (first, _, _): (bool, i64, i64) = redis::pipe()
            .atomic()
            .cmd("HSETNX")
            .arg(&self.keys.results)
            .arg(job)
            .arg(value)
            .cmd("HINCRBY")
            .arg(&self.keys.stats)
            .arg("compute_ns")
            .arg(took.as_nanos() as u64)
            .cmd("XACK")
            .arg(&o.stream)
            .arg(&o.group)
            .arg(&entry.id)
            .query(con)?;
        if !first {
            println!("job {job} was already done: counted once");
            redis::cmd("HINCRBY")
                .arg(&self.keys.stats)
                .arg("duplicates")
                .arg(1)
                .exec(con)?;
        }
        Ok(())
    }

    /// Moves the entry to the dead-letter stream and acknowledges it, in one transaction.
    fn dead_letter(
        &self,
        con: &mut Connection,
        entry: &StreamId,
        dead: &DeadLetter,
    ) -> RedisResult<()> {
        let o = self.options;
        let kind: String = entry.get("kind").unwrap_or_default();
        redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(&self.keys.dead)
            .arg("*")
            .arg(&[("job", dead.job), ("kind", &kind), ("error", dead.error)])
            .arg("deliveries")
            .arg(dead.deliveries)
            .arg("attempts")
            .arg(dead.attempts)
            .cmd("XACK")
            .arg(&o.stream)
            .arg(&o.group)
            .arg(&entry.id)
            .exec(con)?;
        println!(
            "job {} moved to {} after {} attempts",
            dead.job, self.keys.dead, dead.attempts
        );
        Ok(())
    }
}

/// What the dead-letter stream records about a job besides its entry's fields.
struct DeadLetter<'a> {
    job: &'a str,
    error: &'a str,
    /// How many times the group delivered it.
    deliveries: usize,
    /// How many of those deliveries ran it.
    attempts: usize,
}
