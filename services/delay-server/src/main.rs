//! The server that chapter 9 crawls: `GET /add?name=NAME&delay=MS` waits `MS` milliseconds
//! (without blocking other requests) and answers `NAME CHECKSUM`, where `CHECKSUM` is the
//! 64-bit FNV-1a hash of `NAME` in 16 hex digits, so a client can verify every answer.
//!
//! Usage: `delay-server [--port N]` (0, the default, lets the system pick a free port). Once
//! bound it prints `listening on 127.0.0.1:PORT`; when the port is taken it exits with code 2
//! and `cannot listen on 127.0.0.1:N: address already in use`.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpSocket;

/// The longest delay a request may ask for, in milliseconds.
const MAX_DELAY_MS: u64 = 60_000;

fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("delay-server: {message}\nusage: delay-server [--port N]");
            return ExitCode::from(64);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("delay-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(port))
}

fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port {value}: not a port number (0 to 65535)"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(port)
}

async fn serve(port: u16) -> ExitCode {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match listen(address) {
        Ok(listener) => listener,
        Err(e) => {
            let reason = match e.kind() {
                ErrorKind::AddrInUse => "address already in use".to_string(),
                _ => e.to_string(),
            };
            eprintln!("cannot listen on {address}: {reason}");
            return ExitCode::from(2);
        }
    };
    let bound = listener.local_addr().map_or(address, |a| a);
    println!("listening on {bound}");
    let _ = std::io::stdout().flush();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors or a connection reset before accept: keep serving.
            Err(e) => {
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            // A client that hangs up early is not the server's error.
            let _ = connection.await;
        });
    }
}

/// Binds with a backlog deep enough for thousands of clients connecting at once.
fn listen(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // As std and tokio do on Unix: a port left in TIME_WAIT can be bound again, while a port
    // that another socket listens on still cannot.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(4096)
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() != "/add" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "only /add?name=..&delay=.. is served\n",
        ));
    }
    let (name, delay) = match parse_query(request.uri().query().unwrap_or("")) {
        Ok(found) => found,
        Err(message) => return Ok(reply(StatusCode::BAD_REQUEST, &message)),
    };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(reply(
        StatusCode::OK,
        &format!("{name} {:016x}\n", fnv1a64(name.as_bytes())),
    ))
}

/// `name` and `delay` (milliseconds) from a query string; the name is taken as written.
fn parse_query(query: &str) -> Result<(String, u64), String> {
    let (mut name, mut delay) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("name", value)) => name = Some(value.to_string()),
            Some(("delay", value)) => delay = Some(value),
            _ => {}
        }
    }
    let name = name.ok_or("missing name=\n")?;
    let delay = delay.unwrap_or("0");
    match delay.parse::<u64>() {
        Ok(ms) if ms <= MAX_DELAY_MS => Ok((name, ms)),
        _ => Err(format!(
            "delay={delay}: not a whole number of ms up to {MAX_DELAY_MS}\n"
        )),
    }
}

fn reply(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

/// 64-bit FNV-1a: a checksum that is a few lines in any language.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn queries_are_read_or_refused() {
        assert_eq!(parse_query("name=ab&delay=100"), Ok(("ab".into(), 100)));
        assert_eq!(parse_query("delay=5&name=x"), Ok(("x".into(), 5)));
        assert_eq!(parse_query("name=x"), Ok(("x".into(), 0)));
        assert!(parse_query("delay=5").is_err());
        assert!(parse_query("name=x&delay=soon").is_err());
        assert!(parse_query("name=x&delay=99999999").is_err());
    }

    #[test]
    fn ports_are_parsed() {
        let args = |v: &[&str]| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert_eq!(parse_port(args(&[])), Ok(0));
        assert_eq!(parse_port(args(&["--port", "8080"])), Ok(8080));
        assert!(parse_port(args(&["--port"])).is_err());
        assert!(parse_port(args(&["--port", "70000"])).is_err());
        assert!(parse_port(args(&["--verbose"])).is_err());
    }
}
