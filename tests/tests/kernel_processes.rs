//! Nothing outlives its kernel or its cell: after the stop button, a kill of evcxr_jupyter alone,
//! a kill of the kernel's process group and the death of the process that started the kernel,
//! no program a cell started still runs (an `hpr::Service`'s child, a plain child, a child in a
//! session of its own, a Python baseline), no process carries the kernel's tag, its private
//! folder is gone and its build-folder slot is free. See kernel/guard.

use notebook_tests::processes_check;
use serde_json::Value;

/// The checks every case shares: the programs ran before, and nothing of the kernel is left.
fn assert_nothing_left(case: &str, report: &Value) {
    let facts = &report[case];
    let before = facts["running_before"].as_array().map_or(0, Vec::len);
    let expected = if case == "interrupt" { 4 } else { 3 };
    assert_eq!(
        before, expected,
        "{case}: the cell's programs did not all start, so nothing was tested: {facts:#}"
    );
    assert_eq!(
        facts["left_running"],
        Value::Array(vec![]),
        "{case}: {facts:#}"
    );
    assert_eq!(
        facts["tagged_left"],
        Value::Array(vec![]),
        "{case}: {facts:#}"
    );
}

#[test]
fn no_process_file_or_slot_outlives_an_interrupt_or_a_killed_kernel() {
    let report = processes_check().unwrap_or_else(|e| panic!("{e}"));

    assert_nothing_left("interrupt", &report);
    let interrupt = &report["interrupt"];
    assert_eq!(interrupt["interrupt_status"], "error", "{interrupt:#}");
    assert_eq!(
        interrupt["after"]["value"], "42",
        "the kernel goes on: {interrupt:#}"
    );

    for case in ["kill_evcxr", "kill_group", "server_dies"] {
        assert_nothing_left(case, &report);
        let facts = &report[case];
        assert_eq!(facts["work_dir_left"], false, "{case}: {facts:#}");
        assert_eq!(facts["slot_free"], true, "{case}: {facts:#}");
        assert_eq!(facts["guard_running"], false, "{case}: {facts:#}");
    }

    // Without a slot the kernel builds inside its private folder, which goes with it: nothing in
    // the temporary directory is left behind (evcxr's own folder would be, after a kill).
    let cold = &report["cold"];
    assert_eq!(cold["value"], "42", "{cold:#}");
    let work = cold["work_dir"].as_str().unwrap_or_default();
    let build = cold["build_dir"].as_str().unwrap_or_default();
    assert!(
        !work.is_empty() && build.starts_with(work),
        "the build folder {build:?} is not inside the private folder {work:?}"
    );
    // So is its temporary directory: what tools leave there goes with the kernel too.
    let tmpdir = cold["tmpdir"].as_str().unwrap_or_default();
    assert!(
        tmpdir.starts_with(work),
        "TMPDIR {tmpdir:?} is not inside the private folder {work:?}"
    );
    assert_eq!(cold["work_dir_left"], false, "{cold:#}");
    assert_eq!(
        cold["said_why"], true,
        "the kernel did not say it builds from scratch"
    );
    assert_eq!(cold["tagged_left"], Value::Array(vec![]), "{cold:#}");
}
