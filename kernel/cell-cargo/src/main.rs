//! `hpr-cell-cargo`: the cargo that the notebooks' `rust` kernel runs (see `kernel/launcher`).
//!
//! Every cargo run in the kernel's build folder starts from the kernels' lock file (`lock`): the
//! repository's `Cargo.lock`, written over the folder's before cargo resolves, so a kernel builds
//! the locked versions and nothing else, whatever the registry has published since.
//!
//! evcxr builds every cell with `cargo build`, and cargo checks each unit of the dependency graph
//! before it compiles the cell crate: about 0.07 s for hpr's 58 units and 0.3 s for polars' 354,
//! on every cell. Between two cells usually nothing but the cell's source has changed. So in
//! evcxr's cell crate (package `ctx`) this program runs cargo only when something else did (the
//! arguments, the environment, a manifest cargo reads, the lock file, cargo's configuration, the
//! toolchain, a dependency's library, or a file that cargo's own records of its last run say a
//! path package's unit read: see `snapshot` and `sources`); otherwise it replays the rustc
//! command that cargo ran for the cell last time and prints what cargo would have printed.
//! `HPR_CELL_CARGO=off` turns the replay off (cargo runs for every cell, from the lock file).
//!
//! Four ways it runs:
//! - `hpr-cell-cargo build …` in evcxr's cell crate: the replay, or cargo recording the command;
//! - `hpr-cell-cargo metadata …` there, or in evcxr's check of a new `:dep`: cargo, from the lock;
//! - any other command, or any other folder: the real cargo (`$HPR_REAL_CARGO`), untouched;
//! - as cargo's `RUSTC_WRAPPER` while it records: notes the cell crate's rustc command, then runs
//!   evcxr's wrapper (its compile cache, which this program switches on, see `compile_cache`) or
//!   rustc itself.

mod compile_cache;
mod lock;
mod record;
mod replay;
mod snapshot;
mod sources;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Where cargo's wrapper writes the cell crate's rustc command; set only while recording.
const RECORD_ENV: &str = "HPR_CELL_CARGO_RECORD";
/// The `RUSTC_WRAPPER` evcxr asked for, while this program stands in for it.
const INNER_WRAPPER_ENV: &str = "HPR_CELL_CARGO_INNER_WRAPPER";
/// The real cargo, by full path (the launcher sets it).
const REAL_CARGO_ENV: &str = "HPR_REAL_CARGO";
/// The crate evcxr compiles each cell into.
const CELL_CRATE: &str = "ctx";
/// The package of evcxr's check of a new `:dep` line (`cargo metadata`, in the same folder).
const DEP_CHECK_CRATE: &str = "evcxr_dummy_validate_dep";
/// `off` turns the replay off.
const REPLAY_ENV: &str = "HPR_CELL_CARGO";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("hpr-cell-cargo: {error}");
            ExitCode::from(101)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(record_to) = std::env::var_os(RECORD_ENV) {
        if args.first().is_some_and(names_rustc) {
            return Err(record::wrap_rustc(Path::new(&record_to), &args));
        }
    }
    let real_cargo = std::env::var_os(REAL_CARGO_ENV)
        .filter(|path| !path.is_empty())
        .ok_or_else(|| {
            format!("{REAL_CARGO_ENV} is not set: start the kernel through kernel/launcher")
        })?;
    let folder = std::env::current_dir().map_err(|e| format!("no current folder: {e}"))?;
    let Some(subcommand) = subcommand_in_kernel_folder(&args, &folder) else {
        return Err(exec(Command::new(&real_cargo).args(&args)));
    };
    let lock = lock::KernelLock::from_env()?;
    let lock_path = lock.as_ref().map(lock::KernelLock::path);
    let state = folder.join("target/hpr-cell-cargo");
    let replays = subcommand == "build" && std::env::var_os(REPLAY_ENV).is_none_or(|v| v != "off");
    let snapshot = replays
        .then(|| snapshot::take(&folder, &args, lock_path))
        .flatten();
    if replays {
        let why = match (&snapshot, record::Recording::load(&state)) {
            (None, _) => "no snapshot".to_owned(),
            (Some(_), None) => "no recording".to_owned(),
            (Some(snapshot), Some(recording)) => match recording.why_invalid(snapshot) {
                None => {
                    record::log(&state, "replay");
                    return recording.replay();
                }
                Some(why) => why,
            },
        };
        record::log(&state, &format!("cargo ({why})"));
    } else {
        record::log(&state, &format!("{subcommand} cargo"));
    }
    if let Some(lock) = &lock {
        lock.seed(&folder)?;
    }
    let code = if replays {
        record::build_and_record(&real_cargo, &args, &folder, &state, snapshot, lock_path)?
    } else {
        let status = Command::new(&real_cargo)
            .args(&args)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", Path::new(&real_cargo).display()))?;
        exit_code(status)
    };
    if let Some(Err(error)) = lock.as_ref().map(|lock| lock.check(&folder)) {
        record::forget(&state);
        return Err(error);
    }
    Ok(code)
}

/// `build` for `cargo build …` in a folder whose manifest is evcxr's cell crate, `metadata` for
/// `cargo metadata …` there or in evcxr's check of a new dependency; `None` for anything else.
fn subcommand_in_kernel_folder<'a>(args: &'a [OsString], folder: &Path) -> Option<&'a str> {
    let subcommand = args
        .iter()
        .find(|a| !a.to_string_lossy().starts_with('-'))?
        .to_str()?;
    let packages: &[&str] = match subcommand {
        "build" => &[CELL_CRATE],
        "metadata" => &[CELL_CRATE, DEP_CHECK_CRATE],
        _ => return None,
    };
    let manifest = std::fs::read_to_string(folder.join("Cargo.toml")).ok()?;
    let named = |package: &&str| {
        manifest.lines().any(|line| {
            let line: String = line.split_whitespace().collect();
            line == format!("name=\"{package}\"")
        })
    };
    packages.iter().any(named).then_some(subcommand)
}

/// cargo calls its wrapper as `wrapper RUSTC ARGS…`, RUSTC being a path to (or a name of) rustc.
fn names_rustc(arg: &OsString) -> bool {
    Path::new(arg)
        .file_name()
        .is_some_and(|name| name.to_string_lossy().contains("rustc"))
}

/// cargo's exit status as this program's (101, cargo's own, when a signal ended it).
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    ExitCode::from(status.code().unwrap_or(101).clamp(0, 255) as u8)
}

/// Replaces this process with `command`; returns only why that failed.
fn exec(command: &mut Command) -> String {
    let program: PathBuf = command.get_program().into();
    format!("cannot run {}: {}", program.display(), command.exec())
}
