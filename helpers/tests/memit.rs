//! `memit` counts every allocation in the process, so its checks run in this binary of their
//! own, one after another: unit tests running in parallel threads would add their allocations.

use hpr::{memit, HprError};
use std::hint::black_box;
use std::io::Write as _;

/// Says, where `cargo test` shows it, that a check could not run here (libtest hides what
/// passing tests print with `println!`, not what they write to the real stderr).
fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// The run of `work` with the fewest allocations out of five: memit counts the whole process,
/// and libtest's main thread may still be writing this test's name (allocating) when the test
/// starts, which a busy machine makes likely. Another thread's allocations only add to a count.
fn quietest<R>(work: impl Fn() -> R) -> hpr::MemoryUsage {
    (0..5)
        .map(|_| memit(&work).unwrap())
        .min_by_key(|usage| usage.allocations.unwrap_or(0) + usage.reallocations.unwrap_or(0))
        .unwrap()
}

#[test]
fn memit_counts_exactly() {
    // One allocation of the requested size.
    let usage = quietest(|| {
        let mut v: Vec<u64> = Vec::with_capacity(1000);
        v.extend(0..1000);
        black_box(v)
    });
    assert_eq!(usage.allocations, Some(1));
    assert_eq!(usage.reallocations, Some(0));
    assert_eq!(usage.bytes_allocated, Some(8000));
    assert_eq!(usage.bytes_in_moved_blocks, Some(0));
    assert_eq!(usage.peak_heap_increase, Some(8000));

    // Growing by push: capacity 4, 8, ..., 1024, each reallocation counted with its new size.
    let usage = quietest(|| {
        let mut v: Vec<u64> = Vec::new();
        for i in 0..1000 {
            v.push(i);
        }
        black_box(v)
    });
    assert_eq!(usage.allocations.unwrap() + usage.reallocations.unwrap(), 9);
    assert_eq!(usage.bytes_allocated, Some(8 * (2048 - 4)));
    // A moved block held at most 32 + 64 + ... + 4096 bytes for the eight growths.
    assert!(
        usage.bytes_in_moved_blocks.unwrap() <= 8 * (1024 - 4),
        "{usage}"
    );
    assert!(usage.peak_heap_increase.unwrap() >= 8 * 1024);

    // A large, touched block shows in RSS and in glibc's heap statistics.
    let usage = memit(|| {
        let mut v = vec![0u8; 64 << 20];
        for page in v.chunks_mut(4096) {
            page[0] = 1;
        }
        black_box(v)
    })
    .unwrap();
    match usage.peak_rss_increase {
        Some(peak) => assert!(peak >= 60 << 20, "{usage}"),
        None => skipped("the peak RSS check: this kernel cannot reset VmHWM"),
    }
    assert!(
        usage.retained_heap.expect("glibc reports heap use") >= 64 << 20,
        "{usage}"
    );

    // A panic is reported, and counting stops with it.
    let error = memit(|| -> u8 { panic!("out of ideas") }).unwrap_err();
    assert!(error.to_string().contains("out of ideas"));
    assert_eq!(quietest(|| black_box(Box::new(1u8))).allocations, Some(1));

    // Nested calls are refused, and the outer call still releases the counters.
    let mut inner = None;
    memit(|| inner = Some(memit(|| 1))).unwrap();
    assert!(matches!(
        inner,
        Some(Err(HprError::InvalidArgument { name: "work", .. }))
    ));
    assert!(memit(|| 1).is_ok());

    child_processes_do_not_adopt_the_parents_counters();
}

/// A child process inherits the environment variable that publishes the counters' address; it
/// must make its own counters instead of adopting an address from its parent (which crashed it).
fn child_processes_do_not_adopt_the_parents_counters() {
    memit(|| 1).unwrap(); // publishes this process's counters
    let published = std::env::var(hpr::COUNTERS_ENV).expect("published after the first allocation");
    assert!(
        published.starts_with(&format!("{:x}:", std::process::id())),
        "{published}"
    );
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_counts_its_own_allocations",
            "--include-ignored",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
#[ignore = "run as a child process by child_processes_do_not_adopt_the_parents_counters"]
fn child_counts_its_own_allocations() {
    let usage = memit(|| black_box(vec![1u8; 100])).unwrap();
    assert_eq!(usage.allocations, Some(1));
}
