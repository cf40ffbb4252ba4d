//! Files in the temporary directory named after the process that made them, and the removal of
//! those whose process is gone: a kernel that crashed or was killed never cleans up after itself.

use std::path::PathBuf;

/// `<pid>-<start>`: the process id and its start time, so that a later process that reuses the
/// id is not mistaken for this one.
pub(crate) fn process_tag() -> String {
    tag_of(std::process::id()).unwrap_or_else(|| format!("{}-0", std::process::id()))
}

/// The path `<temp dir>/<prefix><process tag><suffix>`.
pub(crate) fn path_for_this_process(prefix: &str, suffix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{prefix}{}{suffix}", process_tag()))
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
    fn the_tag_names_this_process() {
        assert!(process_tag().starts_with(&format!("{}-", std::process::id())));
        assert!(!is_stale("not-a-pid"));
    }
}
