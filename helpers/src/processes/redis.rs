//! A Redis server of the notebook's own ([`PrivateRedis`]), started as a [`Service`]: the broker
//! of chapter 11's job queues, with a folder and a password no other user shares.

use crate::error::{HprError, Result};
use crate::processes::service::{Service, ServiceBuilder};
use std::fs::File;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;

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
    use crate::free_port;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT_TEST: AtomicUsize = AtomicUsize::new(0);

    /// A fresh folder for one test, inside this process's private folder.
    fn test_dir(name: &str) -> PathBuf {
        let dir = crate::work_dir().unwrap().join(format!(
            "{name}-{}",
            NEXT_TEST.fetch_add(1, Ordering::Relaxed)
        ));
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
}
