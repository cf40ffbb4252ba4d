//! Compiling the cell crate with the recorded rustc command, and printing what cargo would print.

use crate::record::Recording;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The variables through which make and cargo hand a jobserver to the programs they run.
const JOBSERVER_ENV: [&str; 3] = ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"];

impl Recording {
    /// Runs the command in its folder with its environment. rustc's JSON diagnostics go to stdout
    /// wrapped as cargo's `compiler-message`, with the colours cargo strips removed; then come
    /// the artifact (hard-linked where cargo puts it) and `build-finished`, as from cargo.
    pub fn replay(&self) -> Result<ExitCode, String> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .current_dir(&self.folder)
            .env_clear()
            .envs(
                self.env
                    .iter()
                    // cargo's jobserver names descriptors of its own run, closed by now: rustc
                    // would warn on every replay that it cannot connect to it.
                    .filter(|(k, _)| !JOBSERVER_ENV.contains(&k.as_str()))
                    .filter_map(|(k, v)| Some((k, v.as_str()?))),
            )
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
            let line = line.map_err(|e| format!("reading rustc's output: {e}"))?;
            match serde_json::from_str::<Value>(&line) {
                Ok(mut message) if message.get("$message_type").is_some() => {
                    if message["$message_type"] == "diagnostic" {
                        strip_colours(&mut message);
                        let wrapped = self.as_cargo_message(message);
                        let _ = writeln!(stdout.lock(), "{wrapped}");
                    }
                }
                _ => {
                    let _ = writeln!(stderr.lock(), "{line}");
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for rustc: {e}"))?;
        let success = status.success() && self.uplift().is_ok();
        let mut out = stdout.lock();
        if success {
            let _ = writeln!(out, "{}", self.artifact);
        } else {
            let _ = writeln!(stderr.lock(), "error: could not compile `ctx` (lib)");
        }
        let _ = writeln!(
            out,
            "{}",
            json!({ "reason": "build-finished", "success": success })
        );
        Ok(ExitCode::from(if success { 0 } else { 101 }))
    }

    fn as_cargo_message(&self, message: Value) -> Value {
        json!({
            "reason": "compiler-message",
            "package_id": self.artifact["package_id"],
            "manifest_path": self.artifact["manifest_path"],
            "target": self.artifact["target"],
            "message": message,
        })
    }

    /// cargo links each output from rustc's `--out-dir` to the path its artifact message names.
    fn uplift(&self) -> std::io::Result<()> {
        let Some(out_dir) = self
            .args
            .windows(2)
            .find(|w| w[0] == "--out-dir")
            .map(|w| PathBuf::from(&w[1]))
        else {
            return Ok(());
        };
        let named = self.artifact["filenames"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for target in named.iter().filter_map(Value::as_str).map(Path::new) {
            let Some(name) = target.file_name() else {
                continue;
            };
            let built = out_dir.join(name);
            if built == target || !built.exists() {
                continue;
            }
            let _ = std::fs::remove_file(target);
            if std::fs::hard_link(&built, target).is_err() {
                std::fs::copy(&built, target)?;
            }
        }
        Ok(())
    }
}

/// Removes ANSI escape sequences from every `rendered` text, as cargo does for
/// `--message-format=json` (rustc is asked for coloured text so that cargo could show it).
fn strip_colours(message: &mut Value) {
    if let Some(rendered) = message.get_mut("rendered") {
        if let Some(text) = rendered.as_str() {
            *rendered = Value::from(without_escapes(text));
        }
    }
    if let Some(children) = message.get_mut("children").and_then(Value::as_array_mut) {
        children.iter_mut().for_each(strip_colours);
    }
}

fn without_escapes(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                // Parameters, then one final byte in '@'..='~'.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_colour_codes_only() {
        let coloured = "\u{1b}[0m\u{1b}[1m\u{1b}[38;5;9merror[E0425]\u{1b}[0m: cannot find `x`";
        assert_eq!(without_escapes(coloured), "error[E0425]: cannot find `x`");
        assert_eq!(without_escapes("plain [text]"), "plain [text]");
    }

    #[test]
    fn children_lose_their_colours_too() {
        let mut message = json!({
            "rendered": "\u{1b}[1mwarning\u{1b}[0m",
            "children": [{ "rendered": "\u{1b}[1mnote\u{1b}[0m", "children": [] }],
        });
        strip_colours(&mut message);
        assert_eq!(message["rendered"], "warning");
        assert_eq!(message["children"][0]["rendered"], "note");
    }
}
