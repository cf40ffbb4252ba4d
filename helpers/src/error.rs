//! One error type for every fallible entry point, with messages a notebook reader can act on.

use std::fmt;

/// Everything that can go wrong when measuring.
///
/// Each variant's message says what was wrong and what to do instead, because it is read in a
/// notebook cell rather than in a debugger.
#[derive(Debug, Clone, PartialEq)]
pub enum HprError {
    /// A list that must hold at least one value was empty (`what` names it).
    Empty {
        /// What was empty, e.g. "samples" or "implementations".
        what: &'static str,
    },
    /// A value was NaN or infinite where a finite number is needed.
    NotFinite {
        /// What held the value.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// An argument was out of its allowed range.
    InvalidArgument {
        /// Which argument.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The measured closure panicked; the panic's message and location are kept.
    Panicked {
        /// The panic message, as `panic!` formatted it.
        message: String,
        /// Where it panicked, `file:line:column`, when known.
        location: Option<String>,
    },
    /// The measurement is not possible on this machine or platform.
    Unsupported {
        /// What could not be measured.
        what: &'static str,
        /// Why, as the operating system or the platform put it.
        reason: String,
    },
    /// Python could not be started, or the Python code raised an exception.
    Python {
        /// What went wrong, with Python's traceback where there is one.
        message: String,
    },
    /// A plot could not be drawn (the plotting library or the image encoder failed).
    Draw {
        /// What was being drawn.
        what: String,
        /// The plotting library's message.
        message: String,
    },
    /// A program the notebook starts beside itself (a server, a broker, a worker) could not be
    /// started, exited before it was ready, or was not ready in time.
    Service {
        /// The service's name, as given to [`Service::command`](crate::Service::command).
        name: String,
        /// What happened, with the service's last lines of output.
        message: String,
    },
    /// Chapter 13 reads the results other notebooks recorded, and some are missing or failed.
    MissingResults {
        /// The folder the results were looked for in.
        dir: String,
        /// Each notebook without usable results, with why (no file, its last run failed...).
        notebooks: Vec<String>,
        /// The command that records them.
        command: String,
    },
    /// An I/O error from the operating system (reading `/proc`, writing a file...).
    Io {
        /// What was being done.
        context: String,
        /// The operating system's message.
        message: String,
    },
}

/// `Result` with [`HprError`] as the error.
pub type Result<T, E = HprError> = std::result::Result<T, E>;

impl fmt::Display for HprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HprError::Empty { what } => write!(f, "no {what} were given: at least one is needed"),
            HprError::NotFinite { what, value } => {
                write!(f, "{what} must be finite numbers, but one is {value}")
            }
            HprError::InvalidArgument { name, reason } => write!(f, "invalid `{name}`: {reason}"),
            HprError::Panicked { message, location } => match location {
                Some(at) => write!(f, "the measured code panicked at {at}: {message}"),
                None => write!(f, "the measured code panicked: {message}"),
            },
            HprError::Unsupported { what, reason } => {
                write!(f, "{what} cannot be measured here: {reason}")
            }
            HprError::Draw { what, message } => write!(f, "drawing {what} failed: {message}"),
            HprError::Service { name, message } => write!(f, "service `{name}`: {message}"),
            HprError::Io { context, message } => write!(f, "{context}: {message}"),
            HprError::MissingResults {
                dir,
                notebooks,
                command,
            } => write!(
                f,
                "run {} first, then this one again: `{command}`. No usable results in {dir} \
                 for: {}",
                if notebooks.len() == 1 {
                    "this notebook"
                } else {
                    "these notebooks"
                },
                notebooks.join("; ")
            ),
            HprError::Python { message } => write!(f, "Python: {message}"),
        }
    }
}

impl std::error::Error for HprError {}

impl HprError {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        HprError::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, error: &std::io::Error) -> Self {
        HprError::Io {
            context: context.into(),
            message: error.to_string(),
        }
    }

    /// The names of the variants, as a `Debug` dump of an error starts (`Panicked { ...`).
    /// The notebook runner recognises such a dump as an error evcxr could not render.
    pub const VARIANT_NAMES: &'static [&'static str] = &[
        "Empty",
        "NotFinite",
        "InvalidArgument",
        "Panicked",
        "Unsupported",
        "Python",
        "Draw",
        "Service",
        "Io",
        "MissingResults",
    ];

    /// The name of this error's variant, one of [`HprError::VARIANT_NAMES`].
    pub fn variant_name(&self) -> &'static str {
        match self {
            HprError::Empty { .. } => "Empty",
            HprError::NotFinite { .. } => "NotFinite",
            HprError::InvalidArgument { .. } => "InvalidArgument",
            HprError::Panicked { .. } => "Panicked",
            HprError::Unsupported { .. } => "Unsupported",
            HprError::Python { .. } => "Python",
            HprError::Draw { .. } => "Draw",
            HprError::Service { .. } => "Service",
            HprError::Io { .. } => "Io",
            HprError::MissingResults { .. } => "MissingResults",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        assert_eq!(
            HprError::Empty { what: "samples" }.to_string(),
            "no samples were given: at least one is needed"
        );
        let nan = HprError::NotFinite {
            what: "samples",
            value: f64::NAN,
        };
        assert!(nan.to_string().contains("NaN"));
        let panicked = HprError::Panicked {
            message: "boom".into(),
            location: Some("src/lib.rs:3:5".into()),
        };
        assert_eq!(
            panicked.to_string(),
            "the measured code panicked at src/lib.rs:3:5: boom"
        );
    }

    #[test]
    fn variant_names_match_the_debug_dump() {
        let all = [
            HprError::Empty { what: "x" },
            HprError::NotFinite {
                what: "x",
                value: 1.0,
            },
            HprError::invalid("x", "y"),
            HprError::Panicked {
                message: String::new(),
                location: None,
            },
            HprError::Unsupported {
                what: "x",
                reason: String::new(),
            },
            HprError::Python {
                message: String::new(),
            },
            HprError::Draw {
                what: String::new(),
                message: String::new(),
            },
            HprError::Service {
                name: String::new(),
                message: String::new(),
            },
            HprError::io("x", &std::io::Error::other("y")),
            HprError::MissingResults {
                dir: String::new(),
                notebooks: Vec::new(),
                command: String::new(),
            },
        ];
        let names: Vec<&str> = all.iter().map(HprError::variant_name).collect();
        assert_eq!(names, HprError::VARIANT_NAMES);
        for error in &all {
            assert!(format!("{error:?}").starts_with(&format!("{} {{", error.variant_name())));
        }
    }
}
