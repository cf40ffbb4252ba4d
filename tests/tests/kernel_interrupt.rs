//! Interrupting a running cell, as JupyterLab's stop button does: evcxr stops the cell at once
//! by restarting the process that runs the code. The kernel stays usable; functions, types and
//! dependencies are kept (evcxr compiles them again), variables are lost. The README says so.

use notebook_tests::interrupt_check;

#[test]
fn an_interrupt_stops_the_cell_and_keeps_the_kernel_usable() {
    let report = interrupt_check().unwrap_or_else(|e| panic!("{e}"));
    let step = |name: &str| &report[name];
    assert_eq!(step("before")["status"], "ok", "{report:#}");
    // The endless loop answers with an error status instead of running on.
    assert_eq!(step("interrupt")["status"], "error", "{report:#}");
    let waited = step("interrupt")["seconds"].as_f64().unwrap();
    assert!(
        waited < 60.0,
        "the interrupted cell answered only after {waited} s"
    );
    // Variables live in the process that was restarted: they are gone, with a compile error.
    let variable = step("variable_after");
    assert_eq!(variable["status"], "error", "{report:#}");
    let message = variable["error"].as_str().unwrap_or_default();
    assert!(message.contains("kept_value"), "{report:#}");
    // Functions are kept, and new cells run.
    assert_eq!(step("function_after")["value"], "42", "{report:#}");
    assert_eq!(step("new_cell_after")["value"], "42", "{report:#}");
}
