//! Peak floating-point throughput of one thread.

use std::hint::black_box;
use std::time::Instant;

/// Peak double-precision FLOP/s of one thread, from a loop of independent fused multiply-adds
/// (AVX2+FMA where the CPU has it, plain SSE2 multiply and add otherwise), and which path ran.
pub fn peak_flops_one_thread(seconds: f64) -> (f64, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features this function needs were detected just above.
            return (unsafe { fma_avx2(seconds) }, "AVX2 FMA, 4 lanes");
        }
    }
    (multiply_add_portable(seconds), "portable multiply-add")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_avx2(seconds: f64) -> f64 {
    use std::arch::x86_64::*;
    // Ten independent chains hide the FMA latency (4 cycles) behind two FMA units.
    let mut acc = [_mm256_set1_pd(0.0); 10];
    let x = _mm256_set1_pd(black_box(0.999_999));
    let y = _mm256_set1_pd(black_box(1e-9));
    let mut flops = 0u64;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..10_000 {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_pd(*a, x, y);
            }
        }
        flops += 10_000 * 10 * 4 * 2;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lanes = [0.0f64; 4];
    for a in acc {
        // SAFETY: `lanes` holds four f64, as the unaligned store writes.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), a) };
        black_box(lanes);
    }
    flops as f64 / elapsed
}

fn multiply_add_portable(seconds: f64) -> f64 {
    let mut acc = [0.0f64; 16];
    let x = black_box(0.999_999);
    let y = black_box(1e-9);
    let mut flops = 0u64;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..10_000 {
            for a in acc.iter_mut() {
                *a = *a * x + y;
            }
        }
        flops += 10_000 * 16 * 2;
    }
    black_box(acc);
    flops as f64 / started.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_flops_are_a_positive_rate() {
        let (flops, method) = peak_flops_one_thread(0.01);
        assert!(flops.is_finite() && flops > 0.0, "{flops} via {method}");
        let portable = multiply_add_portable(0.005);
        assert!(portable.is_finite() && portable > 0.0);
    }
}
