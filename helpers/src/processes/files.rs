//! Where a notebook's files go: the kernel's private folder ([`work_dir`]), and, outside a
//! kernel, files in the temporary directory named after the process that made them, removed once
//! their process is gone (a process that crashed or was killed never cleans up after itself).

use crate::error::{HprError, Result};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The variable that names the kernel's private folder; the notebooks' kernel
/// (`hpr-kernel-guard`) sets it, and removes the folder when the kernel ends.
pub const WORK_DIR_ENV: &str = "HPR_WORK_DIR";
const OWN_PREFIX: &str = "hpr-work-";

/// A folder for the files a notebook writes (data sets, compiled programs, a broker's files):
/// readable by this user only, new for each kernel, and removed with the kernel, whether it
/// ends, fails or is killed. Outside the notebooks' kernel, a folder of this process in the
/// temporary directory (removed by a later call once this process is gone).
///
/// ```
/// let csv = hpr::work_dir()?.join("timings.csv");
/// std::fs::write(&csv, "n,seconds\n")?;
/// # if std::env::var_os(hpr::WORK_DIR_ENV).is_none() {
/// #     std::fs::remove_dir_all(hpr::work_dir()?)?; // this doctest's own folder
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`HprError::Io`] when the folder cannot be made, or when it is not a private folder of this
/// user (someone else made it, or it is a link).
pub fn work_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(WORK_DIR_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        check_private(&dir)?;
        return Ok(dir);
    }
    remove_stale(OWN_PREFIX);
    let dir = std::env::temp_dir().join(format!("{OWN_PREFIX}{}", process_tag()));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(HprError::io(format!("creating {}", dir.display()), &e)),
    }
    // The name is predictable: a folder of that name that someone else made is refused.
    check_private(&dir)?;
    Ok(dir)
}

/// Fails unless `dir` is a folder (not a link) of this user that no one else may read or write.
fn check_private(dir: &Path) -> Result<()> {
    let meta = dir
        .symlink_metadata()
        .map_err(|e| HprError::io(format!("reading {}", dir.display()), &e))?;
    // SAFETY: getuid cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        let problem = std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "not a folder that only this user can read and write",
        );
        return Err(HprError::io(format!("using {}", dir.display()), &problem));
    }
    Ok(())
}

/// `<pid>-<start>`: the process id and its start time, so that a later process that reuses the
/// id is not mistaken for this one.
pub(crate) fn process_tag() -> String {
    tag_of(std::process::id()).unwrap_or_else(|| format!("{}-0", std::process::id()))
}

/// `<prefix><process tag><suffix>` in the kernel's private folder, or, where there is none, in
/// the temporary directory.
pub(crate) fn path_for_this_process(prefix: &str, suffix: &str) -> PathBuf {
    let folder = match std::env::var_os(WORK_DIR_ENV) {
        Some(_) => work_dir().unwrap_or_else(|_| std::env::temp_dir()),
        None => std::env::temp_dir(),
    };
    folder.join(format!("{prefix}{}{suffix}", process_tag()))
}

/// Removes the files and folders `<prefix><pid>-<start>...` of the temporary directory whose
/// process no longer runs. Best effort: what cannot be read or removed is left alone.
pub(crate) fn remove_stale(prefix: &str) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        if is_stale(rest) {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Whether `rest` (`<pid>-<start>...`) names a process that no longer runs. Unreadable names,
/// and systems without `/proc`, count as alive.
fn is_stale(rest: &str) -> bool {
    let mut parts = rest.splitn(3, |c: char| !c.is_ascii_digit());
    let (Some(pid), Some(start)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if !std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    tag_of(pid).is_none_or(|running| running != format!("{pid}-{start}"))
}

/// The tag of the running process `pid`, from its start time in `/proc/<pid>/stat` (field 22).
fn tag_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' do not.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    Some(format!("{pid}-{start}"))
}

/// hpr's folder in the user's cache: `$XDG_CACHE_HOME/hpr`, or `~/.cache/hpr`; `None` without
/// either variable.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|cache| cache.join("hpr"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_gone_processes_are_removed_and_ours_kept() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return crate::test_support::skip("no /proc: processes cannot be looked up");
        }
        let prefix = format!("hpr-stale-test-{}-", std::process::id());
        let temp = std::env::temp_dir();
        let ours = temp.join(format!("{prefix}{}-a", process_tag()));
        // pid_max is at most 2^22 on Linux, so this process cannot exist.
        let gone = temp.join(format!("{prefix}4294967-1-b"));
        let reused = temp.join(format!("{prefix}{}-1-c", std::process::id()));
        for dir in [&ours, &gone, &reused] {
            std::fs::create_dir_all(dir).unwrap();
        }
        remove_stale(&prefix);
        assert!(ours.exists(), "this process's folder is kept");
        assert!(
            !gone.exists(),
            "a folder of a process that does not exist is removed"
        );
        assert!(
            !reused.exists(),
            "a folder of an earlier process with our id is removed"
        );
        std::fs::remove_dir_all(&ours).unwrap();
    }

    #[test]
    fn the_work_dir_is_private_and_a_planted_one_is_refused() {
        let dir = work_dir().unwrap();
        assert_eq!(dir, work_dir().unwrap(), "one folder for the process");
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let planted = std::env::temp_dir().join(format!("hpr-planted-{}", process_tag()));
        std::fs::create_dir_all(&planted).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = check_private(&planted).unwrap_err().to_string();
        assert!(refused.contains("only this user"), "{refused}");
        std::fs::remove_dir_all(&planted).unwrap();
        // The folder stays: other tests of this process write in it at the same time. A later
        // process's first call removes it once this one has ended.
    }

    #[test]
    fn the_tag_names_this_process() {
        assert!(process_tag().starts_with(&format!("{}-", std::process::id())));
        assert!(!is_stale("not-a-pid"));
    }
}
