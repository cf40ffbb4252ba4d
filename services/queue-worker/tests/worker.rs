//! The worker against a real Redis that requires a password (setup installs `redis-server`; the
//! tests fail without it): jobs are done and recorded once, a failing job and a job that never
//! finishes end in the dead-letter stream, `--burst` exits, and a worker without the password
//! is refused.

use std::collections::HashMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The test server's password (a test's own server; chapter 11 draws one at random).
const PASSWORD: &str = "queue-worker-test-password";

/// A redis-server on a free port, killed on drop.
struct Server(Child, u16, std::path::PathBuf);

impl Server {
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.1)
    }

    /// A connection that gives the password.
    fn connect(&self) -> redis::Connection {
        let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/", self.1);
        redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

fn start_server() -> Server {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("queue-worker-test-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--requirepass", PASSWORD])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn();
    // `make setup` installs it: without it these tests would prove nothing.
    let child = spawned
        .expect("redis-server is not installed: run `make setup` (Debian package redis-server)");
    let server = Server(child, port, dir);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    server
}

/// The worker `consumer` of group `workers` on stream `jobs`, given the password.
fn worker(server: &Server, consumer: &str, options: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_queue-worker"));
    command
        .args([server.url().as_str(), "jobs", "workers", consumer])
        .args(options)
        .env("REDIS_PASSWORD", PASSWORD)
        .stdout(Stdio::null());
    command
}

fn submit(con: &mut redis::Connection, job: &str, kind: &str, a: &str, b: &str) {
    redis::cmd("XADD")
        .arg("jobs")
        .arg("*")
        .arg(&[("job", job), ("kind", kind), ("a", a), ("b", b)])
        .exec(con)
        .unwrap();
}

fn dead_letters(con: &mut redis::Connection) -> Vec<HashMap<String, String>> {
    let dead: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg("jobs:dead")
        .arg("-")
        .arg("+")
        .query(con)
        .unwrap();
    dead.into_iter().map(|(_, fields)| fields).collect()
}

#[test]
fn a_burst_worker_drains_the_stream() {
    let server = start_server();
    let mut con = server.connect();
    submit(&mut con, "1", "pi", "1000", "0");
    submit(&mut con, "2", "primes", "0", "100");
    submit(&mut con, "3", "fail", "0", "0");
    let status = worker(&server, "w1", &["--claim-idle-ms", "50"])
        .args(["--max-attempts", "2", "--burst"])
        .status()
        .unwrap();
    assert!(status.success());
    let results: HashMap<u64, u64> = redis::cmd("HGETALL")
        .arg("jobs:results")
        .query(&mut con)
        .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[&2], 25, "25 primes below 100");
    assert!(
        (700..=850).contains(&results[&1]),
        "π/4 of 1000 points: {}",
        results[&1]
    );
    let dead = dead_letters(&mut con);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["job"], "3");
    assert_eq!(
        (dead[0]["attempts"].as_str(), dead[0]["deliveries"].as_str()),
        ("2", "2")
    );
}

#[test]
fn a_worker_without_the_password_is_refused() {
    let server = start_server();
    let mut stranger = redis::Client::open(server.url().as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let refused = redis::cmd("XLEN")
        .arg("jobs")
        .query::<usize>(&mut stranger)
        .unwrap_err();
    assert_eq!(refused.code(), Some("NOAUTH"), "{refused}");
    let output = worker(&server, "w1", &["--burst"])
        .env_remove("REDIS_PASSWORD")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("NOAUTH"), "{stderr}");
}

/// Waits until `worker` ends (its status) or has held an entry of the group for 300 ms without
/// acknowledging it, i.e. it is running that job (`None`).
fn ended_or_running(
    con: &mut redis::Connection,
    worker: &mut Child,
    consumer: &str,
) -> Option<ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = worker.try_wait().unwrap() {
            return Some(status);
        }
        let held: Vec<redis::Value> = redis::cmd("XPENDING")
            .arg("jobs")
            .arg("workers")
            .arg("IDLE")
            .arg(300)
            .arg("-")
            .arg("+")
            .arg(10)
            .arg(consumer)
            .query(con)
            .unwrap();
        if !held.is_empty() {
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "{consumer} neither ended nor took the job"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_job_that_never_finishes_is_dead_lettered_after_max_attempts() {
    // A job that hangs (longer than the test) stands for one that hangs or kills its worker:
    // each worker that takes it is killed, as a supervisor would stop a worker past its
    // deadline. Without a count of deliveries it would be claimed and run forever.
    let server = start_server();
    let mut con = server.connect();
    submit(&mut con, "7", "sleep", "600000", "0");
    // The group exists before the first worker starts, so it can be watched at once.
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("jobs")
        .arg("workers")
        .arg("0")
        .exec(&mut con)
        .unwrap();
    let options = ["--claim-idle-ms", "100", "--max-attempts", "2", "--burst"];
    let mut killed = 0;
    let status = loop {
        assert!(
            killed <= 4,
            "the job was run by {killed} workers, each killed: it is never dead-lettered"
        );
        let consumer = format!("w{killed}");
        let mut worker = worker(&server, &consumer, &options).spawn().unwrap();
        match ended_or_running(&mut con, &mut worker, &consumer) {
            Some(status) => break status,
            None => {
                worker.kill().unwrap();
                worker.wait().unwrap();
                killed += 1;
            }
        }
    };
    assert!(status.success(), "the last worker failed: {status}");
    assert_eq!(killed, 2, "2 attempts, each killed");
    let dead = dead_letters(&mut con);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["job"], "7");
    assert_eq!(
        (dead[0]["attempts"].as_str(), dead[0]["deliveries"].as_str()),
        ("2", "3")
    );
    let results: usize = redis::cmd("HLEN")
        .arg("jobs:results")
        .query(&mut con)
        .unwrap();
    assert_eq!(results, 0);
}

/// The library the notebook uses speaks the worker's protocol: what it submits a worker runs,
/// and it reads back the results, the counters and the dead letters under the run's prefix.
#[test]
fn the_library_submits_and_reads_back_through_a_worker() {
    let server = start_server();
    let broker = queue_worker::Broker::new(server.url(), PASSWORD);
    let mut queue =
        queue_worker::Queue::new(broker.connect(Duration::from_secs(10)).unwrap(), "run");
    assert_eq!(queue.key("jobs"), "run:jobs");
    let mut jobs = queue_worker::pi_jobs(2, 1000);
    jobs.push(queue_worker::Job::primes(2, 0, 100));
    jobs.push(queue_worker::Job::fail(3));
    queue.submit("jobs", &jobs).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_queue-worker"))
        .args([
            server.url().as_str(),
            &queue.key("jobs"),
            queue_worker::GROUP,
            "w1",
        ])
        .args(["--claim-idle-ms", "50", "--max-attempts", "1", "--burst"])
        .env("REDIS_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    queue
        .wait_results("jobs", 3, Duration::from_secs(10))
        .unwrap();
    let results = queue.results("jobs").unwrap();
    assert_eq!((results.len(), results[&2]), (3, 25), "{results:?}");
    assert!(queue.stat("jobs", "compute_ns").unwrap() > 0);
    assert_eq!(queue.stat("jobs", "duplicates").unwrap(), 0);
    let dead = queue.dead_letters("jobs").unwrap();
    assert_eq!((dead.len(), dead[0]["job"].as_str()), (1, "3"));
    assert_eq!(queue.pending_to("jobs", "w1").unwrap(), 0);
    let waited = queue.wait_results("jobs", 4, Duration::from_millis(50));
    assert!(waited.unwrap_err().to_string().contains("3 of 4 results"));
    assert!(
        queue.delete_keys().unwrap() >= 4,
        "stream, results, stats, dead letters"
    );
    assert!(queue.results("jobs").unwrap().is_empty());
}
