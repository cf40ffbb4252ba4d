//! One measurement of the limits per kernel process, shared by every cell through a file.
//!
//! Each evcxr cell has its own copy of `hpr`'s statics, so a `OnceLock` would measure again in
//! every cell. The process's environment would be shared, but writing it (`setenv`) while
//! another thread reads it is undefined behaviour in glibc. A file named after the process is
//! shared by every cell and safe to write: the process id plus its start time (so that a later
//! process that reuses the id does not read a stale file), in the system's temporary directory.

use std::path::PathBuf;

/// The file that holds this process's measured limits.
pub(super) fn path() -> PathBuf {
    let pid = std::process::id();
    let started = process_start_ticks().unwrap_or(0);
    std::env::temp_dir().join(format!("hpr-limits-{pid}-{started}.txt"))
}

/// What an earlier cell of this process measured, if any.
pub(super) fn read() -> Option<String> {
    std::fs::read_to_string(path()).ok()
}

/// Keeps `encoded` for the later cells; a failure only means they measure again.
pub(super) fn write(encoded: &str) {
    let path = path();
    // Written beside and renamed, so a reader never sees half a file.
    let partial = path.with_extension(format!("partial-{:?}", std::thread::current().id()));
    if std::fs::write(&partial, encoded).is_ok() && std::fs::rename(&partial, &path).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}

/// The process's start time in clock ticks since boot (field 22 of `/proc/self/stat`).
fn process_start_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' do not.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_named_after_this_process() {
        let name = path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!("hpr-limits-{}-", std::process::id())));
        if cfg!(target_os = "linux") {
            assert!(process_start_ticks().unwrap() > 0);
        }
    }
}
