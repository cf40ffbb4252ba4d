//! Build-folder slots: `<base>/slot-0` … `slot-7`, each evcxr's build folder for one kernel at a
//! time, so that the next kernel reuses the last one's build. A slot is held with `flock` on
//! `slot-N.lock` through a descriptor that only this process has (close-on-exec): nothing a cell
//! starts can keep it held after the kernel is gone.
//!
//! A slot is trimmed when it is taken (what no new kernel can use), and all slots together are
//! held under a size limit, least recently used first; each removal is noted in the slot's
//! build log, beside hpr-cell-cargo's lines.

use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub const SLOTS: usize = 8;
/// Incremental-compilation folders kept per crate: the newest serve the next edit of `hpr`.
const INCREMENTAL_KEPT: usize = 2;
/// Lines of the build log kept.
const LOG_LINES_KEPT: usize = 400;
const LOG: &str = "target/hpr-cell-cargo/builds.log";

/// A slot this process holds until it exits.
pub struct Slot {
    pub folder: PathBuf,
    _lock: File,
}

/// Takes the first free slot of `base`, or `None` when all are held.
pub fn take(base: &Path) -> std::io::Result<Option<Slot>> {
    std::fs::create_dir_all(base)?;
    for n in 0..SLOTS {
        let lock_path = base.join(format!("slot-{n}.lock"));
        // std opens files close-on-exec.
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        // SAFETY: flock takes the descriptor of a file we own, open for the call.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            let folder = base.join(format!("slot-{n}"));
            std::fs::create_dir_all(&folder)?;
            // The lock file's time says when the slot was last taken (least recently used).
            lock.set_modified(SystemTime::now())?;
            return Ok(Some(Slot {
                folder,
                _lock: lock,
            }));
        }
    }
    Ok(None)
}

/// Removes from a slot just taken what no new kernel can use: the per-cell libraries of earlier
/// kernels (`libcode_N.so`, which a kernel numbers from 1 again), all but the newest incremental
/// folders of each crate, and all but the last lines of the build log.
pub fn trim(slot: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let target = slot.join("target");
    let mut per_cell = (0usize, 0u64);
    let mut incremental = (0usize, 0u64);
    for profile in profile_folders(&target) {
        for entry in read_dir(&profile.join("deps")) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("libcode_") || name.starts_with("code_") {
                let size = size_of(&entry.path());
                if std::fs::remove_file(entry.path()).is_ok() {
                    per_cell.0 += 1;
                    per_cell.1 += size;
                }
            }
        }
        let mut by_crate: std::collections::BTreeMap<String, Vec<(SystemTime, PathBuf)>> =
            Default::default();
        for entry in read_dir(&profile.join("incremental")) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let krate = name.rsplit_once('-').map_or(name.as_str(), |(k, _)| k);
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            by_crate
                .entry(krate.to_owned())
                .or_default()
                .push((modified, entry.path()));
        }
        for mut folders in by_crate.into_values() {
            folders.sort_by_key(|f| std::cmp::Reverse(f.0));
            for (_, folder) in folders.into_iter().skip(INCREMENTAL_KEPT) {
                let size = size_of(&folder);
                if std::fs::remove_dir_all(&folder).is_ok() {
                    incremental.0 += 1;
                    incremental.1 += size;
                }
            }
        }
    }
    if per_cell.0 > 0 {
        notes.push(format!(
            "trim: removed {} per-cell libraries of earlier kernels ({})",
            per_cell.0,
            mib(per_cell.1)
        ));
    }
    if incremental.0 > 0 {
        notes.push(format!(
            "trim: removed {} older incremental-compilation folders ({})",
            incremental.0,
            mib(incremental.1)
        ));
    }
    let log = slot.join(LOG);
    if let Ok(text) = std::fs::read_to_string(&log) {
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > LOG_LINES_KEPT {
            let kept = lines[lines.len() - LOG_LINES_KEPT..].join("\n") + "\n";
            let partial = log.with_extension("log.new");
            if std::fs::write(&partial, kept).is_ok() && std::fs::rename(&partial, &log).is_ok() {
                notes.push(format!(
                    "trim: kept the last {LOG_LINES_KEPT} of {} lines of this log",
                    lines.len()
                ));
            }
        }
    }
    notes
}

/// Holds the slots of `base` together under `limit` bytes: removes whole slots that no kernel
/// holds, least recently taken first, never `current`. Returns what it did, for the log.
pub fn hold_under(base: &Path, limit: u64, current: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let mut slots: Vec<(SystemTime, PathBuf, u64)> = (0..SLOTS)
        .map(|n| base.join(format!("slot-{n}")))
        .filter(|folder| folder.is_dir())
        .map(|folder| {
            let taken = std::fs::metadata(folder.with_extension("lock"))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let size = size_of(&folder);
            (taken, folder, size)
        })
        .collect();
    let mut total: u64 = slots.iter().map(|s| s.2).sum();
    slots.sort_by_key(|s| s.0);
    for (_, folder, size) in slots {
        if total <= limit {
            break;
        }
        if folder == current {
            continue;
        }
        // Only a slot no kernel holds; the lock is taken while removing, so none starts in it.
        let Ok(lock) = File::options()
            .write(true)
            .open(folder.with_extension("lock"))
        else {
            continue;
        };
        // SAFETY: as in `take`.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            continue;
        }
        if std::fs::remove_dir_all(&folder).is_ok() {
            total -= size;
            notes.push(format!(
                "trim: removed {} ({}, the least recently used) to keep all slots under {}",
                folder.display(),
                mib(size),
                mib(limit)
            ));
        }
    }
    if total > limit {
        notes.push(format!(
            "trim: the slots still hold {}, over the limit of {}: the slots in use are not removed",
            mib(total),
            mib(limit)
        ));
    }
    notes
}

/// Appends lines to the slot's build log.
pub fn log(slot: &Path, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let log = slot.join(LOG);
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Ok(mut file) = File::options().create(true).append(true).open(&log) {
        for line in lines {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// `target/debug` and `target/<triple>/debug` (evcxr builds for the host triple).
fn profile_folders(target: &Path) -> Vec<PathBuf> {
    let mut folders = vec![target.join("debug")];
    for entry in read_dir(target) {
        let nested = entry.path().join("debug");
        if nested.is_dir() {
            folders.push(nested);
        }
    }
    folders
}

fn read_dir(folder: &Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(folder)
        .map(|entries| entries.flatten().collect())
        .unwrap_or_default()
}

/// Bytes in a file or a folder, not following links.
pub fn size_of(path: &Path) -> u64 {
    let Ok(meta) = path.symlink_metadata() else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    read_dir(path).iter().map(|e| size_of(&e.path())).sum()
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch;

    fn file(path: &Path, bytes: usize) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![0u8; bytes]).unwrap();
    }

    #[test]
    fn a_held_slot_is_skipped_and_freed_with_its_holder() {
        let base = scratch("take");
        let first = take(&base).unwrap().unwrap();
        let second = take(&base).unwrap().unwrap();
        assert!(first.folder.ends_with("slot-0") && second.folder.ends_with("slot-1"));
        drop(first);
        let again = take(&base).unwrap().unwrap();
        assert!(again.folder.ends_with("slot-0"));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn trimming_keeps_what_a_new_kernel_uses() {
        let slot = scratch("trim");
        let deps = slot.join("target/x86_64-unknown-linux-gnu/debug/deps");
        file(&deps.join("libcode_1.so"), 10);
        file(&deps.join("libcode_22.so"), 10);
        file(&deps.join("libhpr-0123456789abcdef.rlib"), 10);
        let incremental = slot.join("target/x86_64-unknown-linux-gnu/debug/incremental");
        for (name, age) in [("hpr-a", 3), ("hpr-b", 2), ("hpr-c", 1), ("ctx-a", 1)] {
            file(&incremental.join(name).join("f"), 10);
            let when = SystemTime::now() - std::time::Duration::from_secs(age * 100);
            File::open(incremental.join(name))
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        file(&slot.join(LOG), 0);
        std::fs::write(slot.join(LOG), "replay\n".repeat(LOG_LINES_KEPT + 5)).unwrap();

        let notes = trim(&slot);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(!deps.join("libcode_1.so").exists() && !deps.join("libcode_22.so").exists());
        assert!(deps.join("libhpr-0123456789abcdef.rlib").exists());
        assert!(!incremental.join("hpr-a").exists(), "the oldest goes");
        for kept in ["hpr-b", "hpr-c", "ctx-a"] {
            assert!(incremental.join(kept).exists(), "{kept} is kept");
        }
        let log = std::fs::read_to_string(slot.join(LOG)).unwrap();
        assert_eq!(log.lines().count(), LOG_LINES_KEPT);
        std::fs::remove_dir_all(&slot).unwrap();
    }

    #[test]
    fn slots_over_the_limit_go_least_recently_used_first_but_never_a_held_one() {
        let base = scratch("limit");
        let mut held = Vec::new();
        for n in 0..4 {
            held.push(take(&base).unwrap().unwrap());
            file(&base.join(format!("slot-{n}/big")), 1000);
            let when = SystemTime::now() - std::time::Duration::from_secs(1000 - n * 100);
            File::options()
                .write(true)
                .open(base.join(format!("slot-{n}.lock")))
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        // slot-0 is the oldest but still held; slot-1 and slot-2 are free; slot-3 is ours.
        held.drain(1..3);
        let current = base.join("slot-3");
        let notes = hold_under(&base, 3000, &current);
        assert!(base.join("slot-0").exists(), "held: kept");
        assert!(
            !base.join("slot-1").exists(),
            "least recently used free slot: removed"
        );
        assert!(base.join("slot-2").exists(), "the limit was met without it");
        assert!(current.exists());
        assert_eq!(notes.len(), 1, "{notes:?}");
        let over = hold_under(&base, 100, &current);
        assert!(!base.join("slot-2").exists());
        assert!(over.last().unwrap().contains("over the limit"), "{over:?}");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
