//! evcxr's compile cache (`~/.cache/evcxr`), switched on for the cargo runs of the cell crate.
//!
//! With `:cache N`, evcxr sets rustc's wrapper to its own binary, which serves every dependency
//! it has compiled before from the cache, and after every cell's build it walks the whole cache
//! to keep it under N MiB: 840 entries and 4,600 files took 25 ms of the kernel's CPU on each
//! cell, a trivial one included, although only a cargo run can add to the cache. So the notebooks
//! leave `:cache` off and this program asks evcxr's wrapper for the cache itself, with the
//! variables evcxr 0.22 would set, whenever it runs cargo (a replayed cell compiles only the cell
//! crate, which the cache never holds), and trims the cache after such a run as evcxr would.
//! `HPR_EVCXR_CACHE_MIB` sets the limit (4096 by default, 0 turns the cache off); a kernel given
//! `:cache` or another rustc wrapper keeps its own.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The kernel binary, which acts as evcxr's rustc wrapper (the launcher sets it).
const EVCXR_BINARY_ENV: &str = "HPR_EVCXR_BIN";
const LIMIT_ENV: &str = "HPR_EVCXR_CACHE_MIB";
const DEFAULT_LIMIT_MIB: u64 = 4096;

/// evcxr's cache as this program switches it on for one cargo run.
pub struct CompileCache {
    /// The kernel binary, which serves the cache as rustc's wrapper.
    evcxr: OsString,
    /// The most bytes the cache keeps.
    limit: u64,
}

impl CompileCache {
    /// The cache to switch on, when evcxr's binary is known, evcxr has set no rustc wrapper of its
    /// own (`:cache`, sccache) and the limit is not 0.
    pub fn from_env() -> Result<Option<CompileCache>, String> {
        let Some(evcxr) = std::env::var_os(EVCXR_BINARY_ENV) else {
            return Ok(None);
        };
        if !Path::new(&evcxr).is_file() || std::env::var_os("RUSTC_WRAPPER").is_some() {
            return Ok(None);
        }
        let mib = match std::env::var(LIMIT_ENV) {
            Ok(text) => parse_mib(&text)?,
            Err(_) => DEFAULT_LIMIT_MIB,
        };
        Ok((mib > 0).then(|| CompileCache {
            evcxr,
            limit: mib * 1024 * 1024,
        }))
    }

    /// rustc's wrapper that serves the cache: evcxr's binary.
    pub fn wrapper(&self) -> &OsString {
        &self.evcxr
    }

    /// The other variables evcxr 0.22 gives cargo with its cache on (its `Config::cargo_command`):
    /// the wrapper's mode, and the target folder that it takes out of each cache key.
    pub fn environment(&self, folder: &Path) -> [(&'static str, OsString); 3] {
        // evcxr names its build folder as EVCXR_TMPDIR gives it, not as the kernel's cwd resolves.
        let crate_folder = std::env::var_os("EVCXR_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| folder.to_path_buf());
        [
            ("EVCXR_RUSTC_WRAPPER", "1".into()),
            ("EVCXR_CACHE_ENABLED", "1".into()),
            ("EVCXR_TARGET_DIR", crate_folder.join("target").into()),
        ]
    }

    /// Removes the least recently used entries (by their `hits` file) until evcxr's cache holds
    /// at most the limit, as evcxr's cleanup does. Best effort: an entry that cannot be read stays.
    pub fn trim(&self) {
        if let Some(cache) = cache_folder() {
            trim_folder(&cache, self.limit);
        }
    }
}

fn parse_mib(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|mib| mib.checked_mul(1024 * 1024).is_some())
        .ok_or_else(|| {
            format!("{LIMIT_ENV} must be a size in MiB (0 turns the cache off), not {text:?}")
        })
}

fn trim_folder(cache: &Path, limit: u64) {
    let mut entries = entries(cache);
    let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
    entries.sort();
    for (_, size, folder) in entries {
        if total <= limit {
            break;
        }
        if std::fs::remove_dir_all(&folder).is_ok() {
            total -= size;
        }
    }
}

/// `$XDG_CACHE_HOME/evcxr`, or `~/.cache/evcxr`, as evcxr finds it.
fn cache_folder() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| Path::new(p).is_absolute())
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache")))?;
    Some(base.join("evcxr"))
}

/// Each entry's last use, size in bytes and folder.
fn entries(cache: &Path) -> Vec<(SystemTime, u64, PathBuf)> {
    let Ok(folders) = std::fs::read_dir(cache) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for folder in folders.flatten().map(|e| e.path()) {
        let Ok(used) = std::fs::metadata(folder.join("hits")).and_then(|m| m.modified()) else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(&folder) else {
            continue;
        };
        let size = files
            .flatten()
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum();
        found.push((used, size, folder));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_limit_is_whole_mebibytes() {
        assert_eq!(parse_mib(" 4096\n"), Ok(4096));
        assert_eq!(parse_mib("0"), Ok(0));
        for bad in ["", "4 GiB", "-1", "1.5", "99999999999999999999"] {
            let error = parse_mib(bad).unwrap_err();
            assert!(
                error.contains("HPR_EVCXR_CACHE_MIB must be a size in MiB"),
                "{error}"
            );
        }
    }

    #[test]
    fn trimming_drops_the_least_recently_used_entries_first() {
        let cache = std::env::temp_dir().join(format!("hpr-compile-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        let now = SystemTime::now();
        for (name, age_s, bytes) in [("old", 300, 600), ("middle", 200, 500), ("new", 100, 400)] {
            let entry = cache.join(name);
            std::fs::create_dir_all(&entry).unwrap();
            std::fs::write(entry.join("libx.rlib"), vec![0u8; bytes]).unwrap();
            let hits = std::fs::File::create(entry.join("hits")).unwrap();
            hits.set_modified(now - Duration::from_secs(age_s)).unwrap();
        }
        let sizes: Vec<u64> = {
            let mut e = entries(&cache);
            e.sort();
            e.iter().map(|e| e.1).collect()
        };
        assert_eq!(sizes, [600, 500, 400]);

        let kept = |cache: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(cache)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        trim_folder(&cache, 1500);
        assert_eq!(kept(&cache), ["middle", "new", "old"]);
        trim_folder(&cache, 1000);
        assert_eq!(kept(&cache), ["middle", "new"]);
        trim_folder(&cache, 0);
        assert!(kept(&cache).is_empty());
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
