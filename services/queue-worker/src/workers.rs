//! `queue-worker` processes started beside the kernel with hpr's `Service`: ready once they say
//! so, stopped for sure.

use crate::{Broker, Queue};
use hpr::{Result, Service};
use std::path::PathBuf;

/// The worker binary `make setup` builds (`target/release/queue-worker`).
pub fn worker_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/queue-worker")
}

/// Starts worker `name` on `stream` of `queue`, with the worker's flags in `extra`
/// (`--burst`, `--claim-idle-ms N`, `--max-attempts N`); it gets the password in its
/// environment, and is ready once it has joined the group.
pub fn start_worker(
    broker: &Broker,
    queue: &Queue,
    stream: &str,
    name: &str,
    extra: &[&str],
) -> Result<Service> {
    Service::command(name, worker_binary())
        .args([broker.url.as_str(), &queue.key(stream), crate::GROUP, name])
        .args(extra)
        .env("REDIS_PASSWORD", &broker.password)
        .ready_when_line_starts_with(format!("worker {name} ready"))
        .hint("build it with `make setup` (scripts/setup.sh)")
        .start()
}

/// `count` workers on `stream`, named `STREAM-w0`, `STREAM-w1`…
pub fn start_workers(
    broker: &Broker,
    queue: &Queue,
    stream: &str,
    count: usize,
    extra: &[&str],
) -> Result<Vec<Service>> {
    (0..count)
        .map(|i| start_worker(broker, queue, stream, &format!("{stream}-w{i}"), extra))
        .collect()
}

/// Stops every worker, waiting for each.
pub fn stop_all(workers: Vec<Service>) -> Result<()> {
    for worker in workers {
        worker.stop()?;
    }
    Ok(())
}
