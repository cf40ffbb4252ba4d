//! Running cargo while noting the rustc command it runs for the cell crate, and keeping that
//! command with the snapshot it is valid for.

use crate::compile_cache::CompileCache;
use crate::sources::{self, Units};
use crate::{snapshot, CELL_CRATE, INNER_WRAPPER_ENV, RECORD_ENV};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::SystemTime;

const RECORDING_FILE: &str = "recording.json";
/// One line per build, `replay` or `cargo (why)`: which way each cell went, for tests and readers.
const LOG_FILE: &str = "builds.log";

/// The rustc command cargo last ran for the cell crate, and when it may be replayed.
pub struct Recording {
    /// What `snapshot::take` gave before and after that cargo run, then `sources::stamps` of
    /// `sources` after it.
    pub snapshot: Vec<String>,
    /// Every file cargo checks before it reuses a unit of a path package (see `sources`).
    pub sources: Vec<String>,
    pub program: String,
    pub args: Vec<String>,
    pub folder: String,
    pub env: Map<String, Value>,
    /// cargo's `compiler-artifact` message for the cell crate.
    pub artifact: Value,
    /// `snapshot::stamp` of every library rustc was given with `--extern`.
    pub externs: Vec<String>,
}

impl Recording {
    pub fn load(state: &Path) -> Option<Recording> {
        let text = std::fs::read_to_string(state.join(RECORDING_FILE)).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        Some(Recording {
            snapshot: strings(&value, "snapshot")?,
            sources: strings(&value, "sources")?,
            program: value["program"].as_str()?.to_owned(),
            args: strings(&value, "args")?,
            folder: value["folder"].as_str()?.to_owned(),
            env: value["env"].as_object()?.clone(),
            artifact: value["artifact"].clone(),
            externs: strings(&value, "externs")?,
        })
    }

    fn save(&self, state: &Path) -> std::io::Result<()> {
        let value = json!({
            "snapshot": self.snapshot, "sources": self.sources, "program": self.program,
            "args": self.args, "folder": self.folder, "env": self.env,
            "artifact": self.artifact, "externs": self.externs,
        });
        write_whole(&state.join(RECORDING_FILE), &value.to_string())
    }

    /// `None` when cargo would do nothing now but compile the cell crate with this command;
    /// otherwise the first thing that changed. `snapshot` is what `snapshot::take` gives now.
    pub fn why_invalid(&self, snapshot: &[String]) -> Option<String> {
        let Some(stamps) = sources::stamps(&self.sources) else {
            return Some("a source's path is not UTF-8".to_owned());
        };
        let snapshot: Vec<String> = snapshot.iter().cloned().chain(stamps).collect();
        if self.snapshot != snapshot {
            let (now, then): (HashSet<_>, HashSet<_>) =
                (snapshot.iter().collect(), self.snapshot.iter().collect());
            // The first line that differs, in the snapshot's order (the cell's manifest before the
            // manifests it leads to).
            let changed = snapshot.iter().find(|line| !then.contains(line));
            let gone = self.snapshot.iter().find(|line| !now.contains(line));
            let why = match (changed, gone) {
                (Some(changed), _) => format!("changed: {changed}"),
                (None, Some(gone)) => format!("gone: {gone}"),
                (None, None) => "reordered".to_owned(),
            };
            return Some(why);
        }
        if self.externs != extern_stamps(&self.args).unwrap_or_default() {
            return Some("a dependency's library changed".to_owned());
        }
        None
    }
}

/// Forgets the recorded command, so that the next cell runs cargo.
pub fn forget(state: &Path) {
    let _ = std::fs::remove_file(state.join(RECORDING_FILE));
}

/// Writes `text` to a neighbour of `file`, then renames it over `file`, so that a reader never
/// sees half of it (a kernel killed mid-write leaves the old file or none).
pub fn write_whole(file: &Path, text: &str) -> std::io::Result<()> {
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(".new");
    std::fs::write(&temporary, text)?;
    std::fs::rename(temporary, file)
}

/// Appends one word to the build log (best effort: the log only informs tests and readers).
pub fn log(state: &Path, word: &str) {
    let _ = std::fs::create_dir_all(state);
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state.join(LOG_FILE))
    {
        let _ = writeln!(file, "{word}");
    }
}

/// Runs cargo as evcxr asked, with this program as rustc's wrapper so that the cell crate's rustc
/// command is noted, and keeps that command when nothing else changed meanwhile.
pub fn build_and_record(
    real_cargo: &OsString,
    args: &[OsString],
    folder: &Path,
    state: &Path,
    before: Option<Vec<String>>,
    lock: Option<&Path>,
) -> Result<ExitCode, String> {
    let noted = state.join("rustc-command.json");
    forget(state);
    let _ = std::fs::remove_file(&noted);
    let start = start_time(state);
    let this = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let cache = CompileCache::from_env()?;
    let mut cargo = Command::new(real_cargo);
    let inner_wrapper = match &cache {
        Some(cache) => {
            cargo.envs(cache.environment(folder));
            cache.wrapper().clone()
        }
        None => std::env::var_os("RUSTC_WRAPPER").unwrap_or_default(),
    };
    let mut child = cargo
        .args(args)
        .env(RECORD_ENV, &noted)
        .env(INNER_WRAPPER_ENV, inner_wrapper)
        .env("RUSTC_WRAPPER", this)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(real_cargo).display()))?;
    // cargo's messages go on to evcxr as they come; the cell crate's artifact is kept, and what
    // cargo says of the units of path packages.
    let mut artifact = Value::Null;
    let mut units = Units::default();
    let stdout = std::io::stdout();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        let _ = writeln!(stdout.lock(), "{line}");
        if let Ok(message) = serde_json::from_str::<Value>(&line) {
            units.note(&message);
            if message["reason"] == "compiler-artifact" && message["target"]["name"] == CELL_CRATE {
                artifact = message;
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if let Some(cache) = &cache {
        cache.trim();
    }
    if status.success() {
        let after = unchanged(folder, args, lock, before);
        match after.and_then(|after| keep(&noted, folder, after, start, &units, artifact)) {
            Ok(recording) => {
                let _ = recording.save(state);
            }
            Err(why) => log(state, &format!("not recorded ({why})")),
        }
    }
    let _ = std::fs::remove_file(&noted);
    Ok(crate::exit_code(status))
}

/// When cargo started, by the file system's clock (which stamps the files compared with it): the
/// modification time of a file made now.
fn start_time(state: &Path) -> Option<SystemTime> {
    let file = state.join("started");
    let _ = std::fs::create_dir_all(state);
    let _ = std::fs::remove_file(&file);
    std::fs::write(&file, "").ok()?;
    std::fs::metadata(&file).and_then(|m| m.modified()).ok()
}

/// The snapshot after cargo's run, if it is the one before (the lock file aside, which is cargo's
/// own output); otherwise cargo may have read older files, and the next cell runs it again.
fn unchanged(
    folder: &Path,
    args: &[OsString],
    lock: Option<&Path>,
    before: Option<Vec<String>>,
) -> Result<Vec<String>, String> {
    let before = before.ok_or("no snapshot before")?;
    let after = snapshot::take(folder, args, lock).ok_or("no snapshot after")?;
    if snapshot::without_lock(&before, folder) != snapshot::without_lock(&after, folder) {
        return Err("a manifest or configuration changed while cargo ran".to_owned());
    }
    Ok(after)
}

/// The recording of a successful cargo run whose snapshot was `after` throughout, or why there
/// is none (then the next cell runs cargo again): a file of a path package's unit that changed
/// since cargo started (cargo may have read the older file), a unit cargo's records do not
/// explain.
fn keep(
    noted: &Path,
    folder: &Path,
    after: Vec<String>,
    start: Option<SystemTime>,
    units: &Units,
    artifact: Value,
) -> Result<Recording, String> {
    if !artifact.is_object() {
        return Err("cargo named no library of the cell crate".to_owned());
    }
    let tracked = units.tracked(folder)?;
    tracked.unchanged_since(start.ok_or("no start time")?)?;
    let sources: Vec<String> = tracked
        .files
        .iter()
        .map(|f| f.to_str().map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or("a source's path is not UTF-8")?;
    let stamps = sources::stamps(&sources).ok_or("a source's path is not UTF-8")?;
    let snapshot = after.into_iter().chain(stamps).collect();
    noted_command(noted, snapshot, sources, artifact).ok_or_else(|| "no rustc command".to_owned())
}

/// The command the wrapper noted, as a recording for `snapshot` and `sources`.
fn noted_command(
    noted: &Path,
    snapshot: Vec<String>,
    sources: Vec<String>,
    artifact: Value,
) -> Option<Recording> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(noted).ok()?).ok()?;
    let args = strings(&value, "args")?;
    Some(Recording {
        snapshot,
        sources,
        program: value["program"].as_str()?.to_owned(),
        externs: extern_stamps(&args)?,
        args,
        folder: value["folder"].as_str()?.to_owned(),
        env: value["env"].as_object()?.clone(),
        artifact,
    })
}

/// As cargo's wrapper: notes the cell crate's command in `noted`, then runs what evcxr asked for
/// (its own wrapper, or rustc). Returns only why that could not start.
pub fn wrap_rustc(noted: &Path, args: &[OsString]) -> String {
    let inner = std::env::var_os(INNER_WRAPPER_ENV).filter(|w| !w.is_empty());
    let (program, rest) = match &inner {
        Some(wrapper) => (wrapper.clone(), args.to_vec()),
        None => (args[0].clone(), args[1..].to_vec()),
    };
    let mut command = Command::new(&program);
    command
        .args(&rest)
        .env_remove(RECORD_ENV)
        .env_remove(INNER_WRAPPER_ENV);
    match &inner {
        Some(wrapper) => command.env("RUSTC_WRAPPER", wrapper),
        None => command.env_remove("RUSTC_WRAPPER"),
    };
    let is_cell = args
        .windows(2)
        .any(|w| w[0] == "--crate-name" && w[1] == CELL_CRATE);
    if is_cell {
        note(noted, &command);
    }
    crate::exec(&mut command)
}

/// Writes the command with its full environment and folder (best effort: without the note,
/// the next cell runs cargo again).
fn note(noted: &Path, command: &Command) {
    let Some(environment) = snapshot::environment() else {
        return;
    };
    let mut env: Map<String, Value> = environment
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    for (key, value) in command.get_envs() {
        let Some(key) = key.to_str() else { return };
        match value.map(|v| v.to_str()) {
            Some(Some(value)) => env.insert(key.to_owned(), value.into()),
            Some(None) => return,
            None => env.remove(key),
        };
    }
    let strings: Option<Vec<&str>> = command.get_args().map(|a| a.to_str()).collect();
    let (Some(program), Some(args), Ok(folder)) = (
        command.get_program().to_str(),
        strings,
        std::env::current_dir(),
    ) else {
        return;
    };
    let Some(folder) = folder.to_str().map(str::to_owned) else {
        return;
    };
    let value = json!({ "program": program, "args": args, "folder": folder, "env": env });
    let _ = std::fs::write(noted, value.to_string());
}

/// The array of strings under `key`, or `None` if it is anything else.
pub fn strings(value: &Value, key: &str) -> Option<Vec<String>> {
    value[key]
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// `snapshot::stamp` of the library after each `--extern name=path` (or `--extern=name=path`).
fn extern_stamps(args: &[String]) -> Option<Vec<String>> {
    let mut stamps = Vec::new();
    let mut after_flag = false;
    for arg in args {
        let given = if after_flag {
            Some(arg.as_str())
        } else {
            arg.strip_prefix("--extern=")
        };
        after_flag = arg == "--extern";
        if let Some((_, path)) = given.and_then(|g| g.split_once('=')) {
            stamps.push(snapshot::stamp(Path::new(path))?);
        }
    }
    Some(stamps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Instant;

    /// What deciding between a replay and cargo costs in a real build folder: the snapshot, the
    /// sources' stamps and the libraries' stamps, as a cell pays them.
    #[test]
    #[ignore = "a measurement: HPR_CELL_CARGO_TIMING names a kernel build folder with a recording"]
    fn time_the_replay_check() {
        let folder = PathBuf::from(std::env::var_os("HPR_CELL_CARGO_TIMING").expect("a folder"));
        let recording = Recording::load(&folder.join("target/hpr-cell-cargo")).expect("recorded");
        let args: Vec<OsString> = recording
            .snapshot
            .iter()
            .filter_map(|l| l.strip_prefix("arg "))
            .map(OsString::from)
            .collect();
        let lock = std::env::var_os(crate::lock::LOCK_ENV).map(PathBuf::from);
        let runs = 500;
        let start = Instant::now();
        for _ in 0..runs {
            let snapshot = snapshot::take(&folder, &args, lock.as_deref()).expect("a snapshot");
            // A valid recording stamps the libraries itself.
            if recording.why_invalid(&snapshot).is_some() {
                std::hint::black_box(extern_stamps(&recording.args));
            }
        }
        let each = start.elapsed() / runs;
        eprintln!(
            "replay check: {each:?} ({} sources)",
            recording.sources.len()
        );
    }
}
