//! One measurement of the limits per kernel process, shared by every cell through a file.
//!
//! Each evcxr cell has its own copy of `hpr`'s statics, so a `OnceLock` would measure again in
//! every cell. The process's environment would be shared, but writing it (`setenv`) while
//! another thread reads it is undefined behaviour in glibc. A file named after the process is
//! shared by every cell and safe to write: the process id plus its start time (so that a later
//! process that reuses the id does not read a stale file), in the system's temporary directory.

use crate::process_files::{path_for_this_process, remove_stale};
use std::path::PathBuf;

const PREFIX: &str = "hpr-limits-";

/// The file that holds this process's measured limits.
pub(super) fn path() -> PathBuf {
    path_for_this_process(PREFIX, ".txt")
}

/// What an earlier cell of this process measured, if any.
pub(super) fn read() -> Option<String> {
    std::fs::read_to_string(path()).ok()
}

/// Keeps `encoded` for the later cells; a failure only means they measure again. The files of
/// kernels that are gone are removed first.
pub(super) fn write(encoded: &str) {
    remove_stale(PREFIX);
    let path = path();
    // Written beside and renamed, so a reader never sees half a file.
    let partial = path.with_extension(format!("partial-{:?}", std::thread::current().id()));
    if std::fs::write(&partial, encoded).is_ok() && std::fs::rename(&partial, &path).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_named_after_this_process() {
        let name = path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!("hpr-limits-{}-", std::process::id())));
        assert!(name.ends_with(".txt"));
    }
}
