//! The kernel's private folder: made fresh in the temporary directory for each kernel, readable
//! by its user only, and removed when the kernel ends (or, after a kill, by the next kernel).

use crate::procs;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The variable that names the folder to the kernel's cells (read by `hpr::work_dir`).
pub const WORK_DIR_ENV: &str = "HPR_WORK_DIR";
const PREFIX: &str = "hpr-kernel-";

/// Makes `<temp>/hpr-kernel-<tag>-<random>` with mode 0700. A name that exists already is never
/// reused (another user could have planted it): another random part is tried.
pub fn make_private(temp: &Path, tag: &str) -> std::io::Result<PathBuf> {
    let mut last_error = None;
    for attempt in 0..16u32 {
        let folder = temp.join(format!("{PREFIX}{tag}-{:08x}", random(attempt)));
        match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| ErrorKind::AlreadyExists.into()))
}

/// Removes the private folders of kernels whose guard no longer runs; returns how many.
pub fn remove_stale(temp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(tag) = name.strip_prefix(PREFIX).and_then(owner_tag) else {
            continue;
        };
        // Only our own folders: symlink_metadata does not follow a planted link.
        let ours = entry.path().symlink_metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == current_uid()
        });
        if ours && !procs::is_running(&tag) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// `<pid>-<start>` from `<pid>-<start>-<random>`.
fn owner_tag(rest: &str) -> Option<String> {
    let mut parts = rest.splitn(3, '-');
    let (pid, start) = (parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(start)).then(|| format!("{pid}-{start}"))
}

fn current_uid() -> u32 {
    // SAFETY: getuid cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// Not cryptographic: the folder's name only needs to differ from names that exist.
fn random(attempt: u32) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16) ^ attempt.wrapping_mul(0x9e37_79b9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_folder_is_new_and_only_ours() {
        let temp = scratch("private");
        let tag = procs::tag_of(std::process::id()).unwrap();
        let first = make_private(&temp, &tag).unwrap();
        let second = make_private(&temp, &tag).unwrap();
        assert_ne!(first, second, "never the same folder twice");
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::remove_dir_all(&temp).unwrap();
    }

    #[test]
    fn folders_of_kernels_gone_are_removed_and_live_ones_kept() {
        let temp = scratch("stale");
        let tag = procs::tag_of(std::process::id()).unwrap();
        let live = make_private(&temp, &tag).unwrap();
        let gone = make_private(&temp, "4294967-1").unwrap();
        let other = temp.join("hpr-kernel-notes");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(remove_stale(&temp), 1);
        assert!(live.exists() && other.exists() && !gone.exists());
        std::fs::remove_dir_all(&temp).unwrap();
    }
}
