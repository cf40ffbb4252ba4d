//! Where measured limits are kept: for the kernel process, and for this boot of this machine.
//!
//! Each evcxr cell has its own copy of `hpr`'s statics, so a `OnceLock` would measure again in
//! every cell. The process's environment would be shared, but writing it (`setenv`) while
//! another thread reads it is undefined behaviour in glibc. A file named after the process is
//! shared by every cell and safe to write: the process id plus its start time (so that a later
//! process that reuses the id does not read a stale file).
//!
//! The limits are the hardware's, so a kernel also keeps them for the later kernels of this boot,
//! in `~/.cache/hpr/limits/<boot id>.txt` under a line that describes the machine: on a machine
//! whose last-level cache is large they take a minute to measure, once per chapter otherwise.
//! Only the notebook runner's kernels in full mode (`make run`, which runs one chapter at a time)
//! write that file: `make test` runs chapters two at a time, and its browser test opens
//! JupyterLab beside them, and limits measured beside other work would be kept for the whole
//! boot. Kernels in JupyterLab read it, and measure for themselves without it. Kernels in check
//! mode, whose numbers are rough anyway, keep theirs in `<boot id>.check.txt`, which only kernels
//! in check mode read (after the full mode's file).

use crate::measure::check_mode;
use crate::processes::files::{path_for_this_process, remove_stale, WORK_DIR_ENV};
use crate::results::RESULTS_FILE_ENV;
use std::path::{Path, PathBuf};

const PREFIX: &str = "hpr-limits-";

/// The file that holds this process's measured limits.
pub(super) fn path() -> PathBuf {
    path_for_this_process(PREFIX, ".txt")
}

/// The file that holds this boot's limits: `$XDG_CACHE_HOME/hpr/limits` (or `~/.cache/...`),
/// named after the boot id (`None` where Linux gives none).
pub(super) fn boot_path() -> Option<PathBuf> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let cache = crate::processes::files::cache_dir()?;
    Some(cache.join("limits").join(format!("{}.txt", boot.trim())))
}

/// The check mode's file beside the boot's file.
fn check_path(boot: &Path) -> PathBuf {
    boot.with_extension("check.txt")
}

/// What an earlier cell of this process measured or read.
pub(super) fn read_for_process() -> Option<String> {
    std::fs::read_to_string(path()).ok()
}

/// What a kernel measured earlier in this boot on the machine that `machine` describes (in check
/// mode, also a kernel in check mode).
pub(super) fn read_for_boot(machine: &str) -> Option<String> {
    let boot = boot_path()?;
    let kept = |file: &Path| {
        let text = std::fs::read_to_string(file).ok()?;
        let (described, limits) = text.split_once('\n')?;
        (described == machine).then(|| limits.to_owned())
    };
    kept(&boot).or_else(|| check_mode().then(|| kept(&check_path(&boot))).flatten())
}

/// Keeps `encoded` for the later cells of this process; a failure only means they measure or
/// read again. The files of kernels that are gone are removed first.
pub(super) fn keep_for_process(encoded: &str) {
    remove_stale(PREFIX);
    write_whole(&path(), encoded);
}

/// Keeps `encoded`, measured on the machine that `machine` describes, for the later kernels of
/// this boot: from the runner's kernels in full mode for all, from check mode's for check mode.
/// The files of other boots are removed first.
pub(super) fn keep_for_boot(machine: &str, encoded: &str) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    let (Some(boot), true) = (boot_path(), set(WORK_DIR_ENV)) else {
        return;
    };
    let file = match (check_mode(), set(RESULTS_FILE_ENV)) {
        (true, _) => check_path(&boot),
        (false, true) => boot.clone(),
        (false, false) => return, // JupyterLab's kernel
    };
    if let Some(folder) = boot.parent() {
        let _ = std::fs::create_dir_all(folder);
        remove_other_boots(folder, &boot);
    }
    write_whole(&file, &format!("{machine}\n{encoded}"));
}

/// Removes the files of `folder` that another boot than `boot`'s wrote.
fn remove_other_boots(folder: &Path, boot: &Path) {
    let Some(this) = boot.file_stem().and_then(|stem| stem.to_str()) else {
        return;
    };
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if !entry.file_name().to_string_lossy().starts_with(this) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Written beside and renamed, so a reader never sees half a file.
fn write_whole(path: &Path, text: &str) {
    let partial = path.with_extension(format!(
        "partial-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&partial, text).is_ok() && std::fs::rename(&partial, path).is_err() {
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

    /// Runs `cache_child` in a process of its own with `env`, and returns what it printed.
    fn child(env: &[(&str, &std::path::Path)], action: &str) -> String {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "machine::limits::cache::tests::cache_child"])
            .args(["--include-ignored", "--nocapture"])
            .env("HPR_TEST_CACHE_ACTION", action)
            .env_remove(crate::MODE_ENV)
            .env_remove(WORK_DIR_ENV)
            .env_remove(RESULTS_FILE_ENV);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{text}");
        text
    }

    #[test]
    fn the_boot_keeps_make_runs_limits_for_all_and_check_modes_for_check_mode() {
        let root = std::env::temp_dir().join(format!("hpr-limits-test-{}", std::process::id()));
        let (cache, work) = (root.join("cache"), root.join("work"));
        std::fs::create_dir_all(&work).unwrap();
        // A kernel's private folder, where the children's own files go (and go with it).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).unwrap();
        let (check, results) = (Path::new("check"), root.join("results.jsonl"));
        // A kernel in JupyterLab, one of make test's check mode, one of make run.
        let lab = [
            ("XDG_CACHE_HOME", cache.as_path()),
            (WORK_DIR_ENV, work.as_path()),
        ];
        let file = (RESULTS_FILE_ENV, results.as_path());
        let checking = [lab[0], lab[1], file, (crate::MODE_ENV, check)];
        let running = [lab[0], lab[1], file];
        let checker = [lab[0], (crate::MODE_ENV, check)];
        child(&lab, "write");
        let after_lab = child(&lab[..1], "read");
        child(&checking, "write");
        let after_check = child(&lab[..1], "read");
        let check_reads = child(&checker, "read");
        child(&running, "write");
        let after_full = child(&lab[..1], "read");
        let other_machine = child(&lab[..1], "read-other");
        let _ = std::fs::remove_dir_all(&root);
        assert!(after_lab.contains("read: None"), "{after_lab}");
        assert!(after_check.contains("read: None"), "{after_check}");
        assert!(check_reads.contains("read: Some"), "{check_reads}");
        assert!(
            after_full.contains("read: Some(\"flops=1\")"),
            "{after_full}"
        );
        assert!(other_machine.contains("read: None"), "{other_machine}");
    }

    #[test]
    #[ignore = "run by the_boot_keeps_make_runs_limits_for_all_and_check_modes_for_check_mode"]
    fn cache_child() {
        match std::env::var("HPR_TEST_CACHE_ACTION").as_deref() {
            Ok("write") => keep_for_boot("the machine", "flops=1"),
            Ok("read") => println!("read: {:?}", read_for_boot("the machine")),
            Ok("read-other") => println!("read: {:?}", read_for_boot("another machine")),
            other => panic!("no action: {other:?}"),
        }
    }

    #[test]
    fn the_boot_file_is_named_after_the_boot() {
        let boot = boot_path().expect("Linux names the boot, and HOME is set");
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
        assert_eq!(
            boot.file_name().unwrap().to_string_lossy(),
            format!("{}.txt", id.trim())
        );
        assert!(boot.parent().unwrap().ends_with("hpr/limits"));
    }
}
