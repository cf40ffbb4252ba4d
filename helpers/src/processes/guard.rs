//! Runs user code so that a panic becomes an [`HprError::Panicked`] instead of killing the cell.

use crate::error::{HprError, Result};
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How many `catch_panics` calls are active on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The first panic on this thread while capturing: (message, location).
    static RECORDED: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Installs, once, a panic hook that records panics on threads inside `catch_panics` and hands
/// every other panic to the hook that was there before. Swapping hooks per call instead would
/// race when two threads measure at once and could leave panics silenced for good.
fn install_recording_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let capturing = DEPTH.try_with(|d| d.get() > 0).unwrap_or(false);
            if !capturing {
                return previous(info);
            }
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let _ = RECORDED.try_with(|recorded| {
                recorded
                    .borrow_mut()
                    .get_or_insert_with(|| (payload_message(info.payload()), location));
            });
        }));
    });
}

/// Does the guard's one-time allocations (the hook, this thread's locals) now, so that a
/// measurement that counts allocations does not count them.
pub(crate) fn prepare() {
    install_recording_hook();
    DEPTH.with(|d| d.get());
    RECORDED.with(|r| r.borrow().is_some());
}

/// Runs `work`, turning a panic into an error that carries the panic message and location.
///
/// A panic on the calling thread is recorded instead of printed, so a measured closure that
/// panics shows one clean error rather than a backtrace on stderr.
pub(crate) fn catch_panics<R>(work: impl FnOnce() -> R) -> Result<R> {
    install_recording_hook();
    let outermost = DEPTH.with(|d| d.replace(d.get() + 1)) == 0;
    if outermost {
        RECORDED.with(|r| r.borrow_mut().take());
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(work));
    DEPTH.with(|d| d.set(d.get() - 1));
    outcome.map_err(|payload| {
        let recorded = if outermost {
            RECORDED.with(|r| r.borrow_mut().take())
        } else {
            None
        };
        match recorded {
            Some((message, location)) => HprError::Panicked {
                message,
                location: (!location.is_empty()).then_some(location),
            },
            None => HprError::Panicked {
                message: payload_message(payload.as_ref()),
                location: None,
            },
        }
    })
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_when_nothing_panics() {
        assert_eq!(catch_panics(|| 6 * 7), Ok(42));
    }

    #[test]
    fn turns_a_panic_into_an_error_with_message_and_location() {
        let error = catch_panics(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        match error {
            HprError::Panicked { message, location } => {
                assert_eq!(message, "boom 7");
                assert!(location.unwrap().contains("guard.rs"));
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn panics_on_other_threads_meanwhile_still_reach_the_previous_hook() {
        // Many threads capturing at once must each get their own message back.
        let handles: Vec<_> = (0..8)
            .map(|i| std::thread::spawn(move || catch_panics(|| -> u8 { panic!("thread {i}") })))
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            let error = handle.join().unwrap().unwrap_err();
            assert!(
                error.to_string().ends_with(&format!("thread {i}")),
                "{error}"
            );
        }
    }

    #[test]
    fn nested_calls_report_the_inner_panic() {
        let outer = catch_panics(|| catch_panics(|| -> u8 { panic!("inner") }));
        let inner = outer.unwrap().unwrap_err();
        assert!(inner.to_string().contains("inner"));
    }
}
