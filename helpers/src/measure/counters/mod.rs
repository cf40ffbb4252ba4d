//! `counters`: the kernel's performance counters for one call, through `perf_event_open`.
//!
//! Software events (page faults, context switches, task clock) work in virtual machines too;
//! hardware events (cycles, instructions, cache and branch misses) need a CPU whose counters the
//! hypervisor exposes. Each event that cannot be opened is reported with the kernel's reason.

mod perf;

use crate::error::{HprError, Result};
use crate::processes::guard::catch_panics;
use crate::render::html::{notes_html, Table};
use crate::render::units::format_duration;
use crate::render::Render;
use std::fmt;
use std::time::Instant;

/// One counted event.
#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    /// The event's name as `perf` spells it, e.g. `page-faults`.
    pub event: &'static str,
    /// The count (nanoseconds for `task-clock`), scaled for time-sharing of hardware
    /// counters; `Err` holds why this event is unavailable.
    pub value: std::result::Result<u64, String>,
}

/// The result of [`counters`]: each event's count over the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Counters {
    /// Every event asked for, available or not.
    pub events: Vec<Counter>,
    /// Wall time of the call, in seconds.
    pub seconds: f64,
    /// Threads of the process that were counted (all that existed at the start, and threads
    /// they start later).
    pub threads: usize,
}

impl Counters {
    /// The count of `event`, if it was available.
    pub fn get(&self, event: &str) -> Option<u64> {
        self.events
            .iter()
            .find(|c| c.event == event)
            .and_then(|c| c.value.as_ref().ok().copied())
    }

    /// True when at least one hardware event could be counted.
    pub fn has_hardware_counters(&self) -> bool {
        EVENTS
            .iter()
            .filter(|e| e.kind == HARDWARE)
            .any(|e| self.get(e.name).is_some())
    }
}

impl Render for Counters {
    /// An HTML table of the events.
    fn to_html(&self) -> String {
        let mut table = Table::new("performance counters", &["event", "count"]);
        for counter in &self.events {
            let value = match &counter.value {
                Ok(n) if counter.event == "task-clock" => format_duration(*n as f64 * 1e-9),
                Ok(n) => n.to_string(),
                Err(why) => format!("unavailable: {why}"),
            };
            table.row(vec![counter.event.into(), value]);
        }
        let mut notes = vec![format!(
            "Wall time {} over {} thread(s).",
            format_duration(self.seconds),
            self.threads
        )];
        if !self.has_hardware_counters() {
            notes.push(
                "This machine exposes no hardware counters (typical of virtual machines); \
                 software events still work."
                    .into(),
            );
        }
        format!("<div>{}{}</div>", table.to_html(), notes_html(&notes))
    }

    /// `event,count` CSV; unavailable events have an empty count.
    fn to_csv(&self) -> String {
        let mut csv = String::from("event,count\n");
        for counter in &self.events {
            let value = counter
                .value
                .as_ref()
                .map(u64::to_string)
                .unwrap_or_default();
            csv.push_str(&format!("{},{value}\n", counter.event));
        }
        csv
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .events
            .iter()
            .map(|c| match &c.value {
                Ok(n) if c.event == "task-clock" => {
                    format!("{}: {}", c.event, format_duration(*n as f64 * 1e-9))
                }
                Ok(n) => format!("{}: {n}", c.event),
                Err(_) => format!("{}: unavailable", c.event),
            })
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

const HARDWARE: u32 = 0;
const SOFTWARE: u32 = 1;

struct EventSpec {
    name: &'static str,
    kind: u32,
    config: u64,
}

/// The events counted, in the order shown. Configs are the kernel's `PERF_COUNT_*` values.
const EVENTS: [EventSpec; 10] = [
    EventSpec {
        name: "task-clock",
        kind: SOFTWARE,
        config: 1,
    },
    EventSpec {
        name: "page-faults",
        kind: SOFTWARE,
        config: 2,
    },
    EventSpec {
        name: "minor-faults",
        kind: SOFTWARE,
        config: 5,
    },
    EventSpec {
        name: "major-faults",
        kind: SOFTWARE,
        config: 6,
    },
    EventSpec {
        name: "context-switches",
        kind: SOFTWARE,
        config: 3,
    },
    EventSpec {
        name: "cpu-migrations",
        kind: SOFTWARE,
        config: 4,
    },
    EventSpec {
        name: "cycles",
        kind: HARDWARE,
        config: 0,
    },
    EventSpec {
        name: "instructions",
        kind: HARDWARE,
        config: 1,
    },
    EventSpec {
        name: "cache-misses",
        kind: HARDWARE,
        config: 3,
    },
    EventSpec {
        name: "branch-misses",
        kind: HARDWARE,
        config: 5,
    },
];

/// Counts page faults, context switches, CPU time and (where available) hardware events while
/// `work` runs, over all threads of the process.
///
/// ```
/// let counts = hpr::counters(|| vec![1u8; 1 << 24]).unwrap();
/// if let Some(faults) = counts.get("page-faults") {
///     assert!(faults > 0); // touching 16 MiB of fresh memory faults pages in
/// }
/// ```
pub fn counters<R>(work: impl FnOnce() -> R) -> Result<Counters> {
    let threads = thread_ids();
    let mut events = Vec::with_capacity(EVENTS.len());
    for spec in &EVENTS {
        events.push(perf::EventGroup::open(spec, &threads));
    }
    for group in events.iter().flatten() {
        group.reset_and_enable();
    }
    let started = Instant::now();
    let outcome = catch_panics(work);
    let seconds = started.elapsed().as_secs_f64();
    for group in events.iter().flatten() {
        group.disable();
    }
    let _ = outcome?;
    Ok(Counters {
        events: EVENTS
            .iter()
            .zip(events)
            .map(|(spec, group)| Counter {
                event: spec.name,
                value: group.and_then(|g| g.read()),
            })
            .collect(),
        seconds,
        threads: threads.len(),
    })
}

/// Thread ids of this process (only the caller's where `/proc` is absent).
fn thread_ids() -> Vec<i32> {
    let listed: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec![0]
    } else {
        listed
    }
}

/// Fails with a clear error if not even software counters can be opened here.
pub fn software_counters_available() -> Result<()> {
    perf::EventGroup::open(&EVENTS[0], &[0])
        .map(|_| ())
        .map_err(|reason| HprError::Unsupported {
            what: "performance counters",
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Render;
    use std::hint::black_box;

    #[test]
    fn software_events_see_page_faults_and_cpu_time() {
        if let Err(why) = software_counters_available() {
            return crate::test_support::skip(&why.to_string());
        }
        let counts = counters(|| {
            let mut v = vec![0u8; 32 << 20];
            for page in v.chunks_mut(4096) {
                page[0] = 1;
            }
            black_box(v)
        })
        .unwrap();
        // 32 MiB is 8192 small pages or 16 huge ones: at least 16 faults either way.
        assert!(counts.get("page-faults").unwrap() >= 16, "{counts}");
        assert!(counts.get("task-clock").unwrap() > 0, "{counts}");
        assert_eq!(counts.events.len(), EVENTS.len());
    }

    #[test]
    fn counts_threads_started_during_the_call() {
        if let Err(why) = software_counters_available() {
            return crate::test_support::skip(&why.to_string());
        }
        // Spins until the thread itself has used 50 ms of CPU, however busy the machine is.
        let spin = || {
            while crate::test_support::thread_cpu_seconds() < 0.05 {
                black_box(0);
            }
        };
        let counts = counters(|| std::thread::scope(|s| s.spawn(spin).join().unwrap())).unwrap();
        // The spawned thread's CPU time is included through `inherit`.
        assert!(counts.get("task-clock").unwrap() >= 45_000_000, "{counts}");
    }

    #[test]
    fn unavailable_events_render_with_a_reason() {
        let counts = Counters {
            events: vec![Counter {
                event: "cycles",
                value: Err("not supported by this CPU or hypervisor".into()),
            }],
            seconds: 0.0,
            threads: 1,
        };
        assert!(counts.to_html().contains("unavailable: not supported"));
        assert!(!counts.has_hardware_counters());
        assert_eq!(counts.to_csv(), "event,count\ncycles,\n");
    }

    #[test]
    fn a_panic_becomes_an_error() {
        assert!(counters(|| -> u8 { panic!("no") }).is_err());
    }
}
