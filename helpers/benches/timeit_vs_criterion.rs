//! Compares `hpr::timeit` with criterion on three workloads of about 10 ns, 1 µs and 1 ms:
//! the ratio of their median estimates and the wall time each needs. Writes
//! `target/bench/timeit_vs_criterion.json`. Run with `cargo bench -p hpr`.

use criterion::Criterion;
use std::hint::black_box;
use std::time::Instant;

/// A dependent chain of xorshift steps: each needs the previous one and no algebra collapses
/// them (a multiply-add chain would be folded by LLVM), so time grows linearly with `steps`.
fn chain(steps: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn main() {
    let workloads: [(&str, u64); 3] = [
        ("about 10 ns", 16),
        ("about 1 µs", 800),
        ("about 1 ms", 800_000),
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut criterion = Criterion::default()
        .output_directory(&root.join("criterion"))
        .configure_from_args();
    let mut rows = Vec::new();
    for (name, steps) in workloads {
        let started = Instant::now();
        let timing = hpr::timeit(|| chain(black_box(steps))).expect("timeit failed");
        let hpr_wall = started.elapsed().as_secs_f64();

        let id = format!("chain_{steps}");
        let started = Instant::now();
        criterion.bench_function(&id, |b| b.iter(|| chain(black_box(steps))));
        let criterion_wall = started.elapsed().as_secs_f64();
        let estimates = root.join("criterion").join(&id).join("new/estimates.json");
        let criterion_median = std::fs::read_to_string(&estimates)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["median"]["point_estimate"].as_f64())
            .map(|nanoseconds| nanoseconds * 1e-9);
        let ratio = criterion_median.map(|c| timing.median() / c);
        println!(
            "{name:>12}: hpr {} in {hpr_wall:.1} s, criterion {} in {criterion_wall:.1} s, ratio {}",
            hpr::format_duration(timing.median()),
            criterion_median.map_or("?".into(), hpr::format_duration),
            ratio.map_or("?".into(), |r| format!("{r:.3}")),
        );
        rows.push(serde_json::json!({
            "workload": name,
            "steps": steps,
            "hpr_median_seconds": timing.median(),
            "hpr_wall_seconds": hpr_wall,
            "criterion_median_seconds": criterion_median,
            "criterion_wall_seconds": criterion_wall,
            "median_ratio_hpr_over_criterion": ratio,
        }));
    }
    let out = root.join("bench");
    std::fs::create_dir_all(&out).expect("creating target/bench");
    let path = out.join("timeit_vs_criterion.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows).unwrap())
        .expect("writing the results");
    println!("wrote {}", path.display());
}
