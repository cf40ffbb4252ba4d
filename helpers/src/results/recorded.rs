//! Reading the recorded results back: chapter 13 gathers what every chapter before it measured.

use super::headline::{Aspect, BookFigure, Headline};
use crate::error::{HprError, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The folder of results files `<notebook>.json` that [`Results::load_before`] reads; set by the
/// notebook runner. Unset (e.g. in JupyterLab), it is `../build/results`, where `make run` writes
/// them, seen from the `notebooks/` folder a kernel runs in.
pub const RESULTS_DIR_ENV: &str = "HPR_RESULTS_DIR";

/// What one notebook's last run recorded: its status, run time, headline results and claims.
#[derive(Debug, Clone, PartialEq)]
pub struct ChapterResults {
    /// The notebook's file name without `.ipynb`, e.g. `03-vec-arrays-tuples`.
    pub name: String,
    /// Its title (its first heading).
    pub title: String,
    /// Whether every cell passed.
    pub passed: bool,
    /// Seconds the whole notebook took.
    pub seconds: f64,
    /// The results it recorded with [`Headline::record`].
    pub results: Vec<Headline>,
    /// Timing claims ([`claim`](crate::claim)) the run showed.
    pub claims_seen: Vec<String>,
    /// Timing claims the run did not show.
    pub claims_not_seen: Vec<String>,
    /// Names of the results that moved beyond their noise since the run before, on the same
    /// machine.
    pub changed: Vec<String>,
    /// Which machine and toolchain measured them (host, CPU, cores, rustc).
    pub machine_key: String,
    /// The same in a sentence, with the Python version and the build profile.
    pub machine_summary: String,
    /// When the run ended, `YYYY-MM-DDTHH:MM:SS` in local time.
    pub recorded: String,
}

impl ChapterResults {
    /// The chapter's number, the digits its name starts with (`"03"`).
    pub fn number(&self) -> &str {
        leading_digits(&self.name)
    }

    /// Reads one results file as the notebook runner writes it.
    ///
    /// # Errors
    /// A file that is not JSON or lacks the runner's fields.
    pub fn parse(text: &str) -> Result<ChapterResults> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| HprError::invalid("results file", format!("not JSON: {e}")))?;
        let field = |key: &str| -> Result<&Value> {
            json.get(key).ok_or_else(|| {
                HprError::invalid("results file", format!("it has no field {key:?}"))
            })
        };
        let text_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let results = field("results")?
            .as_array()
            .map(|list| list.iter().map(headline).collect::<Result<Vec<_>>>())
            .transpose()?
            .unwrap_or_default();
        Ok(ChapterResults {
            name: text_of(field("name")?),
            title: text_of(field("title")?),
            passed: field("status")? == "ok",
            seconds: field("seconds")?.as_f64().unwrap_or(f64::NAN),
            results,
            claims_seen: texts(json.get("claims_seen")),
            claims_not_seen: texts(json.get("claims_not_seen")),
            changed: json
                .get("changes")
                .and_then(Value::as_array)
                .map(|list| list.iter().map(|c| text_of(&c["name"])).collect())
                .unwrap_or_default(),
            machine_key: text_of(&field("machine")?["key"]),
            machine_summary: text_of(&field("machine")?["summary"]),
            recorded: json.get("recorded").map(text_of).unwrap_or_default(),
        })
    }
}

/// One recorded result from its JSON object.
fn headline(json: &Value) -> Result<Headline> {
    let bad = |what: &str| HprError::invalid("results file", format!("a result {what}: {json}"));
    let name = json["name"].as_str().ok_or_else(|| bad("has no name"))?;
    let value = json["value"].as_f64().ok_or_else(|| bad("has no value"))?;
    let unit = json["unit"].as_str().ok_or_else(|| bad("has no unit"))?;
    let aspect = match json["aspect"].as_str() {
        None => Aspect::Technique,
        Some(key) => Aspect::from_key(key).ok_or_else(|| bad("has an unknown aspect"))?,
    };
    let mut result = Headline::new(name, value, unit)
        .compares(json["compares"].as_str().unwrap_or_default())
        .aspect(aspect);
    result.noise = json["noise"].as_f64();
    result.book = json["book"]["value"].as_f64().map(|value| BookFigure {
        value,
        source: json["book"]["source"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    });
    Ok(result)
}

/// The `text` fields of the runner's `[{cell, text}]` lists.
fn texts(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|entries| {
            let text = |e: &Value| e["text"].as_str().map(str::to_owned);
            entries.iter().filter_map(text).collect()
        })
        .unwrap_or_default()
}

/// Every chapter's recorded results, as chapter 13 reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The folder they were read from.
    pub dir: PathBuf,
    /// One entry per notebook, in the notebooks' order.
    pub chapters: Vec<ChapterResults>,
}

impl Results {
    /// The results of every notebook in the current folder whose file name sorts before
    /// `this_notebook` (the reading notebook's own name, e.g. `"13-lessons"`), read from
    /// [`RESULTS_DIR_ENV`] or `../build/results`.
    ///
    /// # Errors
    /// [`HprError::MissingResults`] naming every notebook without results (or whose last run
    /// failed) and the `make run` command that records them.
    pub fn load_before(this_notebook: &str) -> Result<Results> {
        let here = std::env::current_dir().map_err(|e| HprError::io("the current folder", &e))?;
        let notebooks = notebooks_before(&here, this_notebook)?;
        let dir = std::env::var_os(RESULTS_DIR_ENV)
            .map_or_else(|| here.join("../build/results"), PathBuf::from);
        Results::load_from(&dir, &notebooks)
    }

    /// The results of the notebooks named `notebooks` (file names without `.ipynb`) in `dir`.
    ///
    /// # Errors
    /// As [`load_before`](Results::load_before); an unreadable or malformed file is named.
    pub fn load_from(dir: &Path, notebooks: &[String]) -> Result<Results> {
        if notebooks.is_empty() {
            return Err(HprError::Empty { what: "notebooks" });
        }
        let mut chapters = Vec::new();
        let mut missing = Vec::new();
        for name in notebooks {
            let path = dir.join(format!("{name}.json"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                missing.push((name.clone(), "no results file"));
                continue;
            };
            let chapter = ChapterResults::parse(&text).map_err(|e| {
                HprError::invalid("results file", format!("{}: {e}", path.display()))
            })?;
            match (chapter.passed, chapter.results.is_empty()) {
                (false, _) => missing.push((name.clone(), "its last run failed")),
                (true, true) => missing.push((name.clone(), "it recorded no results")),
                (true, false) => chapters.push(chapter),
            }
        }
        if missing.is_empty() {
            return Ok(Results {
                dir: dir.to_path_buf(),
                chapters,
            });
        }
        let numbers: Vec<&str> = missing.iter().map(|(name, _)| number_of(name)).collect();
        Err(HprError::MissingResults {
            dir: dir.display().to_string(),
            notebooks: missing
                .iter()
                .map(|(name, why)| format!("{name} ({why})"))
                .collect(),
            command: format!("make run NB=\"{}\"", numbers.join(" ")),
        })
    }

    /// The chapter whose name starts with `number` (`"03"` or the whole name).
    ///
    /// # Errors
    /// No such chapter among the results.
    pub fn chapter(&self, number: &str) -> Result<&ChapterResults> {
        self.chapters
            .iter()
            .find(|c| c.name.starts_with(number))
            .ok_or_else(|| {
                let known: Vec<&str> = self.chapters.iter().map(|c| c.name.as_str()).collect();
                HprError::invalid(
                    "chapter",
                    format!(
                        "no chapter {number:?} among the results ({})",
                        known.join(", ")
                    ),
                )
            })
    }

    /// The result named `name` of chapter `number`.
    ///
    /// # Errors
    /// No such chapter, or no such result in it (the message lists the chapter's results).
    pub fn result(&self, number: &str, name: &str) -> Result<&Headline> {
        let chapter = self.chapter(number)?;
        chapter
            .results
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = chapter.results.iter().map(|r| r.name.as_str()).collect();
                HprError::invalid(
                    "result",
                    format!(
                        "{} recorded no result {name:?} (it has: {})",
                        chapter.name,
                        known.join(", ")
                    ),
                )
            })
    }

    /// The value of [`result`](Results::result).
    ///
    /// # Errors
    /// As [`result`](Results::result).
    pub fn value(&self, number: &str, name: &str) -> Result<f64> {
        self.result(number, name).map(|r| r.value)
    }

    /// Every result of `aspect`, chapter by chapter.
    pub fn of_aspect(&self, aspect: Aspect) -> Vec<(&ChapterResults, &Headline)> {
        self.entries(|r| r.aspect == aspect)
    }

    /// Every result that carries the book's figure for the same measure.
    pub fn with_book_figures(&self) -> Vec<(&ChapterResults, &Headline)> {
        self.entries(|r| r.book.is_some())
    }

    fn entries(&self, keep: impl Fn(&Headline) -> bool) -> Vec<(&ChapterResults, &Headline)> {
        let keep = &keep;
        self.chapters
            .iter()
            .flat_map(|c| c.results.iter().filter(|r| keep(r)).map(move |r| (c, r)))
            .collect()
    }
}

/// The digits a notebook's name starts with (`"03"` of `03-vec`), empty when there are none.
pub(super) fn leading_digits(name: &str) -> &str {
    let end = name
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(name.len());
    &name[..end]
}

/// The digits a notebook's name starts with, or the whole name.
fn number_of(name: &str) -> &str {
    match leading_digits(name) {
        "" => name,
        digits => digits,
    }
}

/// The `.ipynb` files in `dir` whose names sort before `this_notebook`, without the extension.
fn notebooks_before(dir: &Path, this_notebook: &str) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| HprError::io(format!("listing {}", dir.display()), &e))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let is_notebook = path.extension().is_some_and(|ext| ext == "ipynb");
            let stem = path.file_stem()?.to_str()?.to_owned();
            (is_notebook && stem.as_str() < this_notebook).then_some(stem)
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(HprError::invalid(
            "this_notebook",
            format!(
                "no notebook in {} sorts before {this_notebook:?}: run this from the notebooks \
                 folder",
                dir.display()
            ),
        ));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results_file(name: &str, status: &str, results: &str) -> String {
        format!(
            r#"{{"name": "{name}", "title": "T", "status": "{status}", "seconds": 12.5,
            "results": [{results}], "headlines": [], "claims_seen": [{{"cell": 1, "text": "a"}}],
            "claims_not_seen": [], "changes": [{{"name": "x", "previous": 1, "value": 2}}],
            "machine": {{"key": "host | cpu | 2 cores | rustc 1.95.0", "summary": "s"}},
            "recorded": "2026-12-02T18:00:00"}}"#
        )
    }

    const SPEEDUP: &str = r#"{"name": "x", "value": 40.0, "unit": "×", "compares": "a against b",
        "noise": 0.1, "aspect": "against_python", "book": {"value": 30, "source": "ch. 2"}}"#;

    fn folder(files: &[(&str, String)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hpr-results-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_results_file_reads_back_with_its_aspects_and_book_figures() {
        let text = results_file("02-profiling", "ok", SPEEDUP);
        let chapter = ChapterResults::parse(&text).unwrap();
        assert_eq!(chapter.number(), "02");
        assert!(chapter.passed);
        assert_eq!(chapter.results[0].aspect, Aspect::AgainstPython);
        assert_eq!(chapter.results[0].noise, Some(0.1));
        assert_eq!(chapter.results[0].book.as_ref().unwrap().value, 30.0);
        assert_eq!(chapter.claims_seen, ["a"]);
        assert_eq!(chapter.changed, ["x"]);
        assert!(chapter.machine_key.ends_with("rustc 1.95.0"));
        // Files written before aspects existed read as techniques.
        let old = results_file("00-tour", "ok", r#"{"name": "y", "value": 2, "unit": "s"}"#);
        let old = ChapterResults::parse(&old).unwrap();
        assert_eq!(old.results[0].aspect, Aspect::Technique);
        assert!(old.results[0].book.is_none());
        assert!(ChapterResults::parse("{}").is_err());
        let unknown = results_file(
            "00-tour",
            "ok",
            r#"{"name": "y", "value": 2, "unit": "s",
            "aspect": "speed"}"#,
        );
        assert!(ChapterResults::parse(&unknown).is_err());
    }

    #[test]
    fn missing_and_failed_notebooks_are_named_with_the_command_to_run() {
        let dir = folder(&[
            ("00-tour", results_file("00-tour", "ok", SPEEDUP)),
            (
                "02-profiling",
                results_file("02-profiling", "failed", SPEEDUP),
            ),
        ]);
        let names = ["00-tour", "01-understanding", "02-profiling"].map(str::to_owned);
        let error = Results::load_from(&dir, &names).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, HprError::MissingResults { .. }),
            "{error:?}"
        );
        assert!(
            message.contains("01-understanding (no results file)"),
            "{message}"
        );
        assert!(
            message.contains("02-profiling (its last run failed)"),
            "{message}"
        );
        assert!(message.contains("make run NB=\"01 02\""), "{message}");
        assert!(!message.contains("00-tour"), "{message}");
        let results = Results::load_from(&dir, &names[..1]).unwrap();
        assert_eq!(results.value("00", "x").unwrap(), 40.0);
        assert!(results.value("00", "nothing").is_err());
        assert!(results.chapter("07").is_err());
        assert_eq!(results.of_aspect(Aspect::AgainstPython).len(), 1);
        assert!(results.of_aspect(Aspect::Memory).is_empty());
        assert_eq!(results.with_book_figures().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_notebooks_before_this_one_are_found() {
        let dir = folder(&[]);
        for name in [
            "00-tour.ipynb",
            "12-less-ram.ipynb",
            "13-lessons.ipynb",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), "{}").unwrap();
        }
        let found = notebooks_before(&dir, "13-lessons").unwrap();
        assert_eq!(found, ["00-tour", "12-less-ram"]);
        assert!(notebooks_before(&dir, "00").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
