//! The jobs themselves: chapter 10's Monte Carlo π batches and prime counts.

use redis::streams::StreamId;

/// Runs the job described by a stream entry; its result, or why it failed.
pub fn run(entry: &StreamId) -> Result<u64, String> {
    let kind: String = entry.get("kind").ok_or("the entry has no kind")?;
    let number = |field: &str| -> Result<u64, String> {
        entry
            .get::<u64>(field)
            .ok_or_else(|| format!("the entry has no number {field}"))
    };
    match kind.as_str() {
        "pi" => Ok(pi_hits(number("job")?, number("a")?)),
        "primes" => Ok(count_primes(number("a")?, number("b")?)),
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_millis(number("a")?));
            Ok(0)
        }
        "fail" => Err("this job always fails".to_owned()),
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// How many of `samples` points, drawn uniformly in the unit square by the generator seeded
/// with `seed` (`fastrand`, as `hpr::rng(seed)`), fall inside the quarter circle: π ≈ 4 hits / samples.
pub fn pi_hits(seed: u64, samples: u64) -> u64 {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut hits = 0;
    for _ in 0..samples {
        let (x, y) = (rng.f64(), rng.f64());
        hits += u64::from(x * x + y * y <= 1.0);
    }
    hits
}

/// Whether `n` is prime, by trial division with odd divisors up to √n (the book's `check_prime`).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut divisor = 3;
    while divisor * divisor <= n {
        if n.is_multiple_of(divisor) {
            return false;
        }
        divisor += 2;
    }
    true
}

/// The number of primes in `start..end`.
pub fn count_primes(start: u64, end: u64) -> u64 {
    (start..end).filter(|&n| is_prime(n)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_below_100_are_25() {
        assert_eq!(count_primes(0, 100), 25);
        assert!(is_prime(2) && is_prime(97) && !is_prime(1) && !is_prime(91));
    }

    #[test]
    fn pi_estimate_is_close_and_seeded() {
        let samples = 1 << 20;
        let hits = pi_hits(7, samples);
        assert_eq!(
            hits,
            pi_hits(7, samples),
            "the same seed gives the same result"
        );
        let pi = 4.0 * hits as f64 / samples as f64;
        // Standard error of the estimate: 4·√(p(1−p)/n) ≈ 0.0016; allow 5 of them.
        assert!((pi - std::f64::consts::PI).abs() < 0.008, "{pi}");
    }
}
