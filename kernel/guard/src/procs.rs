//! The process table, read from `/proc`: who a process's children are, which processes carry a
//! kernel's tag in their environment, and killing them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The variable every process of a kernel inherits: the tag of the guard that started it.
pub const TAG_ENV: &str = "HPR_KERNEL_TAG";

/// `<pid>-<start>`: a process id and its start time (in clock ticks since boot), which no later
/// process that reuses the id shares. `None` when the process does not run.
pub fn tag_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; the fields after the last ')'
    // do not. The start time is field 22.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    Some(format!("{pid}-{start}"))
}

/// Whether the process a tag names still runs.
pub fn is_running(tag: &str) -> bool {
    let Some(pid) = tag.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    tag_of(pid).as_deref() == Some(tag)
}

/// The children of `pid`, over all of its threads (each thread's children are listed apart).
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for task in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            children.extend(
                list.split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    children
}

/// The program a process runs (`/proc/<pid>/exe`), when it can be read.
pub fn program_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// Every process but this one whose environment holds `HPR_KERNEL_TAG=<tag>`, or, with `None`,
/// any such tag of a guard that no longer runs. Processes whose environment cannot be read
/// (another user's) are not ours.
pub fn tagged(tag: Option<&str>) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let prefix = format!("{TAG_ENV}=");
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let value = environ
            .split(|&b| b == 0)
            .find_map(|var| var.strip_prefix(prefix.as_bytes()))
            .and_then(|v| std::str::from_utf8(v).ok());
        let ours = match (value, tag) {
            (Some(value), Some(tag)) => value == tag,
            (Some(value), None) => !is_running(value),
            (None, _) => false,
        };
        if ours {
            found.push(pid);
        }
    }
    found
}

/// Sends `SIGKILL` to each process.
pub fn kill_each(pids: &[u32]) {
    for &pid in pids {
        // SAFETY: kill(2) takes two integers and touches no memory of ours.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
}

/// Collects the exit status of every child of this process that has ended, so none stays a
/// zombie; returns the status of `watched` if it was among them.
pub fn reap(watched: Option<u32>) -> Option<i32> {
    let mut watched_status = None;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes only the status integer we hand it.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return watched_status;
        }
        if Some(pid as u32) == watched {
            watched_status = Some(exit_code(status));
        }
    }
}

/// The exit code a shell would report for a wait status: the code, or 128 + the signal.
fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

/// Kills every process `find` names until it names none (a killed process's children may
/// appear later, and then are killed in turn), for at most `patience`. Returns how many it
/// killed.
pub fn kill_until_none(find: impl Fn() -> Vec<u32>, patience: Duration) -> usize {
    let deadline = Instant::now() + patience;
    let mut killed = std::collections::BTreeSet::new();
    loop {
        // A killed child of this process stays a zombie until it is reaped.
        reap(None);
        let pids = find();
        if pids.is_empty() || Instant::now() >= deadline {
            return killed.len();
        }
        kill_each(&pids);
        killed.extend(pids);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_a_made_up_one_does_not() {
        let mine = tag_of(std::process::id()).expect("this process has a tag");
        assert!(is_running(&mine));
        // pid_max is at most 2^22 on Linux.
        assert!(!is_running("4294967-1"));
        let pid = std::process::id();
        assert!(
            !is_running(&format!("{pid}-1")),
            "an earlier process with our id"
        );
        assert!(!is_running("not-a-tag"));
    }

    #[test]
    // kill_until_none reaps the child, as the guard reaps what it kills.
    #[allow(clippy::zombie_processes)]
    fn a_child_is_listed_found_by_its_tag_and_killed() {
        let tag = format!("test-{}", std::process::id());
        let child = std::process::Command::new("sleep")
            .arg("30")
            .env(TAG_ENV, &tag)
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(children_of(std::process::id()).contains(&pid));
        // Until the child has exec'd `sleep`, its environment is still this process's.
        let deadline = Instant::now() + Duration::from_secs(10);
        while tagged(Some(&tag)).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(tagged(Some(&tag)), vec![pid]);
        let killed = kill_until_none(|| tagged(Some(&tag)), Duration::from_secs(5));
        assert_eq!(killed, 1);
        // Killed and reaped: a zombie would keep its id.
        assert_eq!(tag_of(pid), None);
    }
}
