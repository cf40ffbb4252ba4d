//! Programs a notebook starts beside itself (an HTTP server, a broker, queue workers): started
//! with a clear error when they cannot be, and never left running.
//!
//! A [`Service`] is stopped when it is dropped, and dies with the kernel even when the kernel
//! is killed: it is started with `PR_SET_PDEATHSIG`, so Linux sends it `SIGKILL` when the thread
//! that started it ends (a notebook's cells all run on the kernel's main thread). It runs in a
//! process group of its own, so a Jupyter interrupt aimed at the kernel does not reach it, and
//! stopping it also stops whatever it started.
//!
//! [`PrivateRedis`] sets up a Redis server for one notebook: its own folder, a loopback port,
//! and a random password that every client must give.

use crate::error::{HprError, Result};
use crate::processes::files;
use std::ffi::OsStr;
use std::fs::File;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const LOG_PREFIX: &str = "hpr-service-";
const POLL: Duration = Duration::from_millis(10);
/// How long [`Service::stop`] waits after `SIGTERM` before it sends `SIGKILL`.
const GRACE: Duration = Duration::from_secs(5);

/// When a starting service counts as ready.
#[derive(Debug, Clone)]
enum Ready {
    /// As soon as the process runs.
    Started,
    /// When a line of its output starts with this text.
    Line(String),
    /// When a TCP connection to this loopback port succeeds.
    Port(u16),
}

/// How to start a [`Service`]: made by [`Service::command`], started by [`start`](Self::start).
#[derive(Debug)]
pub struct ServiceBuilder {
    name: String,
    program: String,
    command: Command,
    ready: Ready,
    timeout: Duration,
    hint: Option<String>,
}

/// A running program that the notebook started; stopped (with its process group) on drop.
#[derive(Debug)]
pub struct Service {
    name: String,
    child: Child,
    log: PathBuf,
    ready_line: Option<String>,
    exit: Option<ExitStatus>,
}

impl Service {
    /// Starts describing the service `name` (used in messages) that runs `program`.
    ///
    /// ```
    /// use hpr::Service;
    /// let mut greeter = Service::command("greeter", "sh")
    ///     .args(["-c", "echo listening on 127.0.0.1:1234; sleep 30"])
    ///     .ready_when_line_starts_with("listening on ")
    ///     .start()?;
    /// assert_eq!(greeter.ready_line(), Some("127.0.0.1:1234"));
    /// assert!(greeter.is_running());
    /// greeter.stop()?;
    /// # Ok::<(), hpr::HprError>(())
    /// ```
    pub fn command(name: impl Into<String>, program: impl AsRef<OsStr>) -> ServiceBuilder {
        ServiceBuilder {
            name: name.into(),
            program: program.as_ref().to_string_lossy().into_owned(),
            command: Command::new(program),
            ready: Ready::Started,
            timeout: Duration::from_secs(30),
            hint: None,
        }
    }

    /// The name given to [`Service::command`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The rest of the line that made the service ready, after the awaited prefix, trimmed
    /// (e.g. the address a server printed); `None` unless it waited for a line.
    pub fn ready_line(&self) -> Option<&str> {
        self.ready_line.as_deref()
    }

    /// Everything the service wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.poll_exit().is_none()
    }

    /// Waits up to `timeout` for the process to end by itself; `None` if it still runs.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.poll_exit() {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Kills the process group at once with `SIGKILL`, as a crash would, and reaps it. Used to
    /// show what survives a worker or a broker that dies mid-job.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        self.signal_group(libc::SIGKILL);
        self.reap()
    }

    /// Asks the process group to end (`SIGTERM`), waits up to 5 s, then kills it. Returns the
    /// exit status; an error only if the process cannot be waited for.
    pub fn stop(mut self) -> Result<ExitStatus> {
        if self.poll_exit().is_none() {
            self.signal_group(libc::SIGTERM);
            if self.wait_timeout(GRACE)?.is_none() {
                self.signal_group(libc::SIGKILL);
            }
        }
        self.reap()
    }

    fn reap(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        let status = self
            .child
            .wait()
            .map_err(|e| HprError::io(format!("waiting for {}", self.name), &e))?;
        self.exit = Some(status);
        Ok(status)
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Signals the whole group (the service and anything it started), once the leader has not
    /// been reaped, so the group id cannot belong to another process yet.
    fn signal_group(&mut self, signal: libc::c_int) {
        if self.exit.is_some() {
            return;
        }
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
        unsafe { libc::kill(-group, signal) };
    }

    fn failure(&self, message: impl Into<String>) -> HprError {
        let output = self.output();
        let tail = last_lines(&output, 20);
        let mut message = message.into();
        if !tail.is_empty() {
            message.push_str("; its last output:\n");
            message.push_str(tail);
            message.push('\n');
        }
        HprError::Service {
            name: self.name.clone(),
            message,
        }
    }
}

/// The last `count` lines of a program's output, for an error that says what it printed last.
pub(crate) fn last_lines(output: &str, count: usize) -> &str {
    let output = output.trim_end_matches('\n');
    let start = output
        .rmatch_indices('\n')
        .nth(count.saturating_sub(1))
        .map_or(0, |(at, _)| at + 1);
    if count == 0 {
        ""
    } else {
        &output[start..]
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
        let _ = self.reap();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl ServiceBuilder {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable for the service.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs the service in this folder.
    pub fn current_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Counts the service as ready when a line of its output (stdout or stderr) starts with
    /// `prefix`; [`Service::ready_line`] then holds the rest of that line.
    pub fn ready_when_line_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.ready = Ready::Line(prefix.into());
        self
    }

    /// Counts the service as ready when it accepts TCP connections on `127.0.0.1:port`.
    pub fn ready_when_port_open(mut self, port: u16) -> Self {
        self.ready = Ready::Port(port);
        self
    }

    /// How long to wait for readiness (30 s unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What to tell the reader when the program cannot be found, e.g. which package has it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Starts the program and waits until it is ready.
    ///
    /// # Errors
    /// [`HprError::Service`] when the program cannot be started (with the hint), exits before it
    /// is ready, or is not ready within the timeout (then it is killed); the message ends with
    /// the service's last lines of output.
    pub fn start(mut self) -> Result<Service> {
        if self.timeout.is_zero() {
            return Err(HprError::invalid("timeout", "must be longer than zero"));
        }
        files::remove_stale(LOG_PREFIX);
        let safe_name: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let log = files::path_for_this_process(
            LOG_PREFIX,
            &format!("-{safe_name}-{}.log", next_serial()),
        );
        let file = File::create(&log)
            .map_err(|e| HprError::io(format!("creating {}", log.display()), &e))?;
        let stderr = file
            .try_clone()
            .map_err(|e| HprError::io("duplicating the service's log file", &e))?;
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(stderr));
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec the closure calls only async-signal-safe functions
        // (setpgid, prctl, getppid, kill) and allocates nothing.
        unsafe {
            self.command.pre_exec(move || {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
                Ok(())
            });
        }
        let child = match self.command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_file(&log);
                let mut message = if e.kind() == ErrorKind::NotFound {
                    format!("cannot start `{}`: no such program", self.program)
                } else {
                    format!("cannot start `{}`: {e}", self.program)
                };
                if let Some(hint) = &self.hint {
                    message.push_str(&format!(" ({hint})"));
                }
                return Err(HprError::Service {
                    name: self.name,
                    message,
                });
            }
        };
        let mut service = Service {
            name: self.name,
            child,
            log,
            ready_line: None,
            exit: None,
        };
        service.ready_line = wait_until_ready(&mut service, &self.ready, self.timeout)?;
        Ok(service)
    }
}

/// Polls until `ready` holds; on failure the service is dropped, which kills it.
fn wait_until_ready(
    service: &mut Service,
    ready: &Ready,
    timeout: Duration,
) -> Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    loop {
        match ready {
            Ready::Started => return Ok(None),
            Ready::Line(prefix) => {
                let output = service.output();
                let found = output
                    .lines()
                    .find_map(|line| line.strip_prefix(prefix.as_str()));
                if let Some(rest) = found {
                    return Ok(Some(rest.trim().to_string()));
                }
            }
            Ready::Port(port) => {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, *port));
                if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
                    return Ok(None);
                }
            }
        }
        if let Some(status) = service.poll_exit() {
            return Err(service.failure(format!(
                "exited ({}) before it was ready",
                describe_exit(status)
            )));
        }
        if Instant::now() >= deadline {
            let what = match ready {
                Ready::Line(prefix) => format!("printed no line starting with {prefix:?}"),
                Ready::Port(port) => format!("accepted no connection on 127.0.0.1:{port}"),
                Ready::Started => unreachable!("a started service is ready at once"),
            };
            return Err(service.failure(format!(
                "{what} within {:.1} s, so it was stopped",
                timeout.as_secs_f64()
            )));
        }
        std::thread::sleep(POLL);
    }
}

fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// A TCP port on 127.0.0.1 that is free now (the system picks it); a service started right
/// after can bind it. Another program could take it in between, which a service reports as a
/// port in use.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| HprError::io("finding a free port on 127.0.0.1", &e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| HprError::io("reading the free port's number", &e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_lines_of_an_output_keep_their_order() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("", 3), "");
        assert_eq!(last_lines("a\nb", 0), "");
    }

    use super::*;

    fn sh(name: &str, script: &str) -> ServiceBuilder {
        Service::command(name, "sh").args(["-c", script])
    }

    fn alive(pid: u32) -> bool {
        // A zombie (state Z) has ended; only its parent has not reaped it yet.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                let state = stat[stat.rfind(')').unwrap() + 2..].chars().next();
                state != Some('Z')
            })
            .unwrap_or(false)
    }

    fn wait_gone(pid: u32) -> bool {
        // SIGKILL ends a process at once; the margin is for a machine under heavy load.
        let deadline = Instant::now() + Duration::from_secs(30);
        while alive(pid) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(POLL);
        }
        true
    }

    #[test]
    fn a_ready_line_is_awaited_and_returned() {
        let mut service = sh("late", "sleep 0.2; echo noise; echo ready at 42; sleep 30")
            .ready_when_line_starts_with("ready at ")
            .start()
            .unwrap();
        assert_eq!(service.ready_line(), Some("42"));
        assert!(service.output().contains("noise"));
        assert!(service.is_running());
        let status = service.stop().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[test]
    fn a_missing_program_names_itself_and_the_hint() {
        let error = Service::command("broker", "/nonexistent/redis-server")
            .hint("install the Debian package redis-server")
            .start()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("broker"), "{text}");
        assert!(text.contains("/nonexistent/redis-server"), "{text}");
        assert!(text.contains("no such program"), "{text}");
        assert!(text.contains("redis-server)"), "{text}");
    }

    #[test]
    fn exiting_before_ready_reports_the_exit_and_the_output() {
        let error = sh("server", "echo 'bind: address already in use' >&2; exit 3")
            .ready_when_line_starts_with("listening")
            .start()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("exit code 3"), "{text}");
        assert!(text.contains("address already in use"), "{text}");
    }

    #[test]
    fn a_service_never_ready_is_stopped_after_the_timeout() {
        let error = sh("mute", "echo $$; sleep 30")
            .ready_when_line_starts_with("never")
            .timeout(Duration::from_millis(300))
            .start()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("within 0.3 s"), "{text}");
        let pid: u32 = text.lines().last().unwrap().trim().parse().unwrap();
        assert!(wait_gone(pid), "the timed-out service still runs");
    }

    #[test]
    fn readiness_by_port_waits_for_a_listener() {
        let port = free_port().unwrap();
        let (done, wait_for_done) = std::sync::mpsc::channel::<()>();
        let opener = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
            // Listens until the service was found ready, however long starting it took.
            let _ = wait_for_done.recv();
            drop(listener);
        });
        let started = Instant::now();
        let service = sh("port", "sleep 30")
            .ready_when_port_open(port)
            .start()
            .unwrap();
        // Nothing listened during the first 200 ms, so readiness cannot have come sooner.
        assert!(started.elapsed() >= Duration::from_millis(150));
        drop(service);
        done.send(()).unwrap();
        opener.join().unwrap();
    }

    #[test]
    fn dropping_or_killing_ends_what_the_service_started() {
        let service = sh("parent", "sleep 30 & echo child $!; wait")
            .ready_when_line_starts_with("child ")
            .start()
            .unwrap();
        let child: u32 = service.ready_line().unwrap().parse().unwrap();
        assert!(alive(child));
        drop(service);
        assert!(wait_gone(child), "the service's own child outlived it");

        let mut service = sh("victim", "sleep 30").start().unwrap();
        let status = service.kill().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(!service.is_running());
    }

    #[test]
    fn a_service_dies_with_the_thread_that_started_it() {
        // What happens to a notebook's services when the kernel dies, in miniature.
        let pid = std::thread::spawn(|| {
            let service = sh("orphan", "sleep 30").start().unwrap();
            let pid = service.pid();
            std::mem::forget(service);
            pid
        })
        .join()
        .unwrap();
        assert!(wait_gone(pid), "the service outlived its starter");
    }

    #[test]
    fn a_zero_timeout_is_rejected() {
        let error = sh("x", "true").timeout(Duration::ZERO).start().unwrap_err();
        assert!(matches!(error, HprError::InvalidArgument { .. }));
    }
}
