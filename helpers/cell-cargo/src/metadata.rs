//! `cargo metadata` in the kernel's build folder, answered from an earlier run with the same
//! inputs.
//!
//! evcxr checks each new `:dep` line with `cargo metadata` on a manifest that holds that
//! dependency alone (package `evcxr_dummy_validate_dep`, in the cell crate's folder), and runs it
//! on the cell crate for an `extern crate` item. The launcher removes the lock file when a kernel
//! starts, so each check resolves the graph again and asks the registry's index: 0.5 s for the
//! shared setup's `:dep hpr`, 1.8 s and 1.4 s for chapter 07's `:dep polars` and its pins, on
//! every restart. The answer depends on the manifest, the lock file, cargo's configuration, the
//! path dependencies, the toolchain and the registry; for the same snapshot of the first five,
//! the recorded answer is what cargo gave then, lock file included, which is what a lock file
//! would have pinned anyway.

use crate::record::log;
use crate::snapshot;
use serde_json::{json, Value};
use std::ffi::OsString;
use std::hash::{DefaultHasher, Hasher};
use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode};

/// The packages evcxr runs `cargo metadata` for: the cell crate and its check of a new `:dep`.
pub const PACKAGES: [&str; 2] = [crate::CELL_CRATE, "evcxr_dummy_validate_dep"];
/// How many answers a build folder keeps (polars' is about 2 MB).
const MOST_ANSWERS: usize = 16;
/// Variables that Jupyter and hpr set anew for each kernel or notebook, and that cargo never reads:
/// with them the snapshot would differ on every restart.
const PER_KERNEL_VARIABLES: [&str; 4] = ["JPY_", "HPR_RESULTS_", "PWD", "OLDPWD"];

/// Replays the answer recorded for this snapshot, or runs cargo and records its answer.
pub fn replay_or_run(
    real_cargo: &OsString,
    args: &[OsString],
    folder: &Path,
) -> Result<ExitCode, String> {
    let state = folder.join("target/hpr-cell-cargo");
    let Some(before) = inputs(folder, args) else {
        log(&state, "metadata cargo (no snapshot)");
        return Err(crate::exec(Command::new(real_cargo).args(args)));
    };
    let answers = state.join("metadata");
    let file = answers.join(format!("{:016x}.json", digest(&before)));
    if let Some(answer) = Answer::load(&file).filter(|a| a.snapshot == before) {
        log(&state, "metadata replay");
        return answer.replay(folder);
    }
    log(&state, "metadata cargo (no answer)");
    let output = Command::new(real_cargo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(real_cargo).display()))?;
    let _ = std::io::stdout().write_all(&output.stdout);
    let _ = std::io::stderr().write_all(&output.stderr);
    // Kept only when cargo succeeded and nothing but the lock file (its own output) changed meanwhile.
    let unchanged = inputs(folder, args).is_some_and(|after| {
        snapshot::without_lock(&after, folder) == snapshot::without_lock(&before, folder)
    });
    if let (true, true, Ok(stdout), Ok(stderr)) = (
        output.status.success(),
        unchanged,
        String::from_utf8(output.stdout),
        String::from_utf8(output.stderr),
    ) {
        let answer = Answer {
            snapshot: before,
            stdout,
            stderr,
            lock: std::fs::read_to_string(folder.join("Cargo.lock")).ok(),
        };
        let _ = answer.save(&file);
        forget_oldest(&answers);
    }
    Ok(ExitCode::from(
        output.status.code().unwrap_or(101).clamp(0, 255) as u8,
    ))
}

/// The snapshot the answer depends on: the build's, less the variables set per kernel.
fn inputs(folder: &Path, args: &[OsString]) -> Option<Vec<String>> {
    Some(without_per_kernel_variables(snapshot::take(folder, args)?))
}

fn without_per_kernel_variables(mut lines: Vec<String>) -> Vec<String> {
    lines.retain(|line| {
        let Some(variable) = line.strip_prefix("env ") else {
            return true;
        };
        let name = variable.split('=').next().unwrap_or_default();
        !PER_KERNEL_VARIABLES
            .iter()
            .any(|p| name.starts_with(p) && (p.ends_with('_') || name == *p))
    });
    lines
}

fn digest(lines: &[String]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for line in lines {
        hasher.write(line.as_bytes());
        hasher.write_u8(b'\n');
    }
    hasher.finish()
}

/// What cargo printed for one snapshot, and the lock file it left.
struct Answer {
    snapshot: Vec<String>,
    stdout: String,
    stderr: String,
    /// `None` when cargo left no lock file.
    lock: Option<String>,
}

impl Answer {
    fn load(file: &Path) -> Option<Answer> {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
        Some(Answer {
            snapshot: crate::record::strings(&value, "snapshot")?,
            stdout: value["stdout"].as_str()?.to_owned(),
            stderr: value["stderr"].as_str()?.to_owned(),
            lock: value["lock"].as_str().map(str::to_owned),
        })
    }

    fn save(&self, file: &Path) -> std::io::Result<()> {
        let value = json!({
            "snapshot": self.snapshot, "stdout": self.stdout, "stderr": self.stderr,
            "lock": self.lock,
        });
        std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
        crate::record::write_whole(file, &value.to_string())
    }

    /// Leaves the lock file as cargo left it, then prints what cargo printed.
    fn replay(&self, folder: &Path) -> Result<ExitCode, String> {
        let lock = folder.join("Cargo.lock");
        let now = std::fs::read_to_string(&lock).ok();
        if now != self.lock {
            match &self.lock {
                Some(text) => std::fs::write(&lock, text),
                None => std::fs::remove_file(&lock),
            }
            .map_err(|e| format!("cannot restore {}: {e}", lock.display()))?;
        }
        let _ = std::io::stdout().write_all(self.stdout.as_bytes());
        let _ = std::io::stderr().write_all(self.stderr.as_bytes());
        Ok(ExitCode::SUCCESS)
    }
}

/// Keeps the newest `MOST_ANSWERS` answers.
fn forget_oldest(answers: &Path) {
    let Ok(entries) = std::fs::read_dir(answers) else {
        return;
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(MOST_ANSWERS);
    for (_, path) in files.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_kernel_variables_leave_the_inputs_alone() {
        let lines = [
            "arg metadata",
            "env CARGO_HOME=/root/.cargo",
            "env JPY_PARENT_PID=4242",
            "env HPR_RESULTS_FILE=/tmp/07.json",
            "env HPR_RESULTSX=kept",
            "env PWD=/work/main/notebooks",
            "env PWDX=kept",
            "env OLDPWD=/",
            "content /b/Cargo.lock absent",
        ];
        let kept = without_per_kernel_variables(lines.iter().map(|l| l.to_string()).collect());
        assert_eq!(
            kept,
            [
                "arg metadata",
                "env CARGO_HOME=/root/.cargo",
                "env HPR_RESULTSX=kept",
                "env PWDX=kept",
                "content /b/Cargo.lock absent"
            ]
        );
    }
}
