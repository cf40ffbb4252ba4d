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
use crate::process_files;
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
        let tail: Vec<&str> = output.lines().rev().take(20).collect();
        let mut message = message.into();
        if !tail.is_empty() {
            message.push_str("; its last output:\n");
            for line in tail.iter().rev() {
                message.push_str(line);
                message.push('\n');
            }
        }
        HprError::Service {
            name: self.name.clone(),
            message,
        }
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
        process_files::remove_stale(LOG_PREFIX);
        let safe_name: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let log = process_files::path_for_this_process(
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

/// A Redis server of the notebook's own: on a loopback port, with its files in a folder of its
/// own, and a password that every client must give (without it Redis answers `NOAUTH`), drawn
/// from the operating system's randomness. Any program on the machine can reach a loopback
/// port; without the password it could read or flush the queue.
///
/// The password is written into the server's configuration file, `redis.conf` in the folder
/// (readable by this user only), never onto a command line, which every user can read with
/// `ps`. Give it to clients through their environment or a file, and print [`url`](Self::url),
/// which does not hold it.
///
/// ```no_run
/// let redis = hpr::PrivateRedis::new(hpr::work_dir()?.join("redis"), hpr::free_port()?)?;
/// let server = redis.command()?.args(["--appendonly", "yes"]).start()?;
/// println!("Redis at {} (pid {})", redis.url(), server.pid());
/// # Ok::<(), hpr::HprError>(())
/// ```
pub struct PrivateRedis {
    dir: PathBuf,
    port: u16,
    password: String,
}

impl std::fmt::Debug for PrivateRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateRedis")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("password", &"(hidden)")
            .finish()
    }
}

impl PrivateRedis {
    /// Makes the folder `dir` (mode 0700), draws a new password and writes the server's
    /// configuration there: port `port` on 127.0.0.1, its files in `dir`, no snapshots (add
    /// `--appendonly yes` to [`command`](Self::command) for a log that a restart replays).
    ///
    /// # Errors
    /// [`HprError::Service`] when `dir` already holds files: a new server must not replay
    /// another's append-only file (a new kernel's [`work_dir`](crate::work_dir) is empty;
    /// restart the kernel to start from an empty queue). [`HprError::Io`] when the folder
    /// cannot be made, is not this user's, or the operating system gives no randomness.
    pub fn new(dir: impl Into<PathBuf>, port: u16) -> Result<PrivateRedis> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        let dir = dir.into();
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let meta = dir
                    .symlink_metadata()
                    .map_err(|e| HprError::io(format!("reading {}", dir.display()), &e))?;
                // SAFETY: getuid cannot fail and touches no memory.
                if !meta.is_dir() || meta.uid() != unsafe { libc::getuid() } {
                    let problem = std::io::Error::new(
                        ErrorKind::PermissionDenied,
                        "not a folder of this user",
                    );
                    return Err(HprError::io(format!("using {}", dir.display()), &problem));
                }
                let held = held_files(&dir)?;
                if !held.is_empty() {
                    return Err(HprError::Service {
                        name: "redis".into(),
                        message: format!(
                            "{} already holds {}: a new server would replay another's files; \
                             give it a new folder (restart the kernel for an empty work_dir)",
                            dir.display(),
                            held.join(", ")
                        ),
                    });
                }
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| HprError::io(format!("making {} private", dir.display()), &e))?;
            }
            Err(e) => return Err(HprError::io(format!("creating {}", dir.display()), &e)),
        }
        let redis = PrivateRedis {
            dir,
            port,
            password: random_hex(16)?,
        };
        redis.write_config()?;
        Ok(redis)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("redis.conf")
    }

    fn write_config(&self) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let quoted =
            |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
        let config = format!(
            "# Written by hpr::PrivateRedis: one notebook's server, reachable from this machine only.\n\
             bind 127.0.0.1\nport {}\ndir {}\nrequirepass {}\nsave \"\"\n",
            self.port,
            quoted(&self.dir.to_string_lossy()),
            self.password
        );
        let path = self.config_path();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| HprError::io(format!("creating {}", path.display()), &e))?;
        file.write_all(config.as_bytes())
            .map_err(|e| HprError::io(format!("writing {}", path.display()), &e))
    }

    /// The server's folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password the server requires: 32 hexadecimal digits (128 bits).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `redis://127.0.0.1:PORT/`, without the password (safe to print).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// How to start the server, first or again after it was stopped or killed (same folder,
    /// port and password): `redis-server` with the configuration file, ready when the port
    /// accepts connections. More options go after it ([`ServiceBuilder::args`]).
    ///
    /// # Errors
    /// [`HprError::Service`] when another program already listens on the port: it would
    /// look ready.
    pub fn command(&self) -> Result<ServiceBuilder> {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
            return Err(HprError::Service {
                name: "redis".into(),
                message: format!("port {} is in use by another program", self.port),
            });
        }
        Ok(Service::command("redis", "redis-server")
            .arg(self.config_path())
            .ready_when_port_open(self.port)
            .hint("install the Debian package redis-server"))
    }
}

/// The names of what `dir` holds, sorted.
fn held_files(dir: &std::path::Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| HprError::io(format!("reading {}", dir.display()), &e))?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// `bytes` bytes from the operating system's randomness (`/dev/urandom`), in hexadecimal.
fn random_hex(bytes: usize) -> Result<String> {
    use std::io::Read;
    let mut buffer = vec![0_u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(&mut buffer))
        .map_err(|e| HprError::io("reading /dev/urandom", &e))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
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

    /// A fresh folder for one test, inside this process's private folder.
    fn test_dir(name: &str) -> PathBuf {
        let dir = crate::work_dir()
            .unwrap()
            .join(format!("{name}-{}", next_serial()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Sends one inline command and returns the server's first reply line.
    fn ask(stream: &mut TcpStream, command: &str) -> String {
        use std::io::{BufRead, BufReader, Write};
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut line = String::new();
        BufReader::new(stream.try_clone().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim_end().to_owned()
    }

    #[test]
    fn a_private_redis_refuses_a_client_without_its_password() {
        use std::os::unix::fs::PermissionsExt;
        // `make setup` installs it; like the other Redis tests, this one fails without it.
        let dir = test_dir("private-redis");
        let redis = PrivateRedis::new(&dir, free_port().unwrap()).unwrap();
        let server = redis
            .command()
            .unwrap()
            .args(["--appendonly", "yes"])
            .start()
            .expect(
                "redis-server is not installed: run `make setup` (Debian package redis-server)",
            );
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, redis.port())).unwrap();
        assert!(ask(&mut stream, "PING").starts_with("-NOAUTH"));
        assert!(ask(&mut stream, "AUTH wrong").starts_with("-WRONGPASS"));
        assert_eq!(
            ask(&mut stream, &format!("AUTH {}", redis.password())),
            "+OK"
        );
        assert_eq!(ask(&mut stream, "PING"), "+PONG");
        // The password is nowhere that other users can read.
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap();
        assert!(!String::from_utf8_lossy(&cmdline).contains(redis.password()));
        assert!(!format!("{redis:?}").contains(redis.password()));
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode(&dir) & 0o777, 0o700);
        assert_eq!(mode(&dir.join("redis.conf")) & 0o777, 0o600);
        // A second server on the same port is refused, and so is one in the same folder.
        let taken = redis.command().unwrap_err().to_string();
        assert!(taken.contains("in use"), "{taken}");
        drop(server);
        let refused = PrivateRedis::new(&dir, free_port().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("already holds") && refused.contains("redis.conf"),
            "{refused}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_private_redis_starts_in_an_empty_folder_with_a_new_password() {
        use std::os::unix::fs::PermissionsExt;
        let dir = test_dir("empty-redis");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let first = PrivateRedis::new(&dir, 1).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "an empty folder is taken, and made private"
        );
        let second = PrivateRedis::new(dir.join("other"), 1).unwrap();
        for password in [first.password(), second.password()] {
            assert_eq!(password.len(), 32);
            assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
        }
        assert_ne!(first.password(), second.password());
        assert_eq!(first.url(), "redis://127.0.0.1:1/");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_zero_timeout_is_rejected() {
        let error = sh("x", "true").timeout(Duration::ZERO).start().unwrap_err();
        assert!(matches!(error, HprError::InvalidArgument { .. }));
    }
}
