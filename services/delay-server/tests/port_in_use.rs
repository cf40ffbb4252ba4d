//! The delay server as a notebook sees it: a clear error when its port is taken, and answers
//! that arrive after the asked delay with a checksum the client can verify.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_delay-server");

/// Kills the server when a test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with `args` and returns it with the address it says it listens on.
fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(SERVER)
        .args(args)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let server = Running(child);
    let first = lines.next().unwrap().unwrap();
    let address = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_string();
    (server, address)
}

/// 64-bit FNV-1a, written again here so the test checks the server against the definition.
fn fnv1a64(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

#[test]
fn a_port_in_use_gives_a_clear_error_and_a_failing_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut child = Command::new(SERVER)
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that hangs instead of failing is the bug; a minute is far beyond any start-up.
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server neither listened nor failed: it hangs on a port in use");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "exit status: {}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("cannot listen on 127.0.0.1:{port}: address already in use");
    assert!(stderr.contains(&expected), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "it must not claim to listen");
}

#[test]
fn the_server_answers_after_the_delay_with_the_checksum() {
    let (_server, address) = start(&["--port", "0"]);
    assert!(
        address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
        "{address}"
    );

    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let request = "GET /add?name=hpr_chapter_9&delay=200 HTTP/1.1\r\n\
                   Host: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let elapsed = started.elapsed();

    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        format!("hpr_chapter_9 {:016x}\n", fnv1a64("hpr_chapter_9"))
    );
    assert!(
        elapsed >= Duration::from_millis(200),
        "answered after {elapsed:?}"
    );
}

#[test]
fn a_bad_request_is_refused_with_a_reason() {
    let (_server, address) = start(&[]);
    let mut stream = TcpStream::connect(&address).unwrap();
    let request = "GET /add?name=x&delay=soon HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("delay=soon"), "{response}");
}
