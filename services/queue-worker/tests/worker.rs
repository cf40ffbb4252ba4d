//! The worker against a real Redis (setup installs `redis-server`; the test fails without it):
//! jobs are done and recorded once, a failing job ends in the dead-letter stream, and `--burst`
//! exits.

use std::collections::HashMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server on a free port, killed on drop.
struct Server(Child, u16, std::path::PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

fn start_server() -> Option<Server> {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let dir = std::env::temp_dir().join(format!("queue-worker-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child, port, dir);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(server)
}

#[test]
fn a_burst_worker_drains_the_stream() {
    // `make setup` installs it: without it this test would prove nothing.
    let server = start_server()
        .expect("redis-server is not installed: run `make setup` (Debian package redis-server)");
    let url = format!("redis://127.0.0.1:{}/", server.1);
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let jobs = [
        ("1", "pi", "1000"),
        ("2", "primes", "0"),
        ("3", "fail", "0"),
    ];
    for (job, kind, a) in jobs {
        let b = if kind == "primes" { "100" } else { "0" };
        redis::cmd("XADD")
            .arg("jobs")
            .arg("*")
            .arg(&[("job", job), ("kind", kind), ("a", a), ("b", b)])
            .exec(&mut con)
            .unwrap();
    }
    let status = Command::new(env!("CARGO_BIN_EXE_queue-worker"))
        .args([url.as_str(), "jobs", "workers", "w1"])
        .args(["--claim-idle-ms", "50", "--max-attempts", "2", "--burst"])
        .stdout(Stdio::null())
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
    let dead: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg("jobs:dead")
        .arg("-")
        .arg("+")
        .query(&mut con)
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].1["job"], "3");
    assert_eq!(dead[0].1["attempts"], "2");
}
