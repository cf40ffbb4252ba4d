//! Seeded random data: the same numbers on every run and every machine.
//!
//! The generator is [`fastrand`]'s wyrand, small and fast, seeded explicitly so that a notebook's
//! data, and so its checksums, never change between runs. To give the Python side the very same
//! data, write it with [`Exchange::put`](crate::Exchange::put) and `load` it there.

pub use fastrand::Rng;

/// A generator seeded with `seed`: equal seeds give equal sequences.
///
/// ```
/// let mut a = hpr::rng(42);
/// let mut b = hpr::rng(42);
/// assert_eq!(a.u64(..), b.u64(..));
/// let dice: Vec<u8> = (0..5).map(|_| a.u8(1..=6)).collect();
/// assert!(dice.iter().all(|d| (1..=6).contains(d)));
/// ```
pub fn rng(seed: u64) -> Rng {
    Rng::with_seed(seed)
}

/// `count` integers drawn uniformly from `range`, from the generator seeded with `seed`.
///
/// ```
/// let needles = hpr::random_u64s(7, 1_000, 0..10_000);
/// assert_eq!(needles.len(), 1_000);
/// assert!(needles.iter().all(|&n| n < 10_000));
/// assert_eq!(needles, hpr::random_u64s(7, 1_000, 0..10_000));
/// ```
pub fn random_u64s(seed: u64, count: usize, range: std::ops::Range<u64>) -> Vec<u64> {
    let mut generator = rng(seed);
    (0..count).map(|_| generator.u64(range.clone())).collect()
}

/// `count` floats drawn uniformly from `[0, 1)`, from the generator seeded with `seed`.
pub fn random_f64s(seed: u64, count: usize) -> Vec<f64> {
    let mut generator = rng(seed);
    (0..count).map(|_| generator.f64()).collect()
}

/// The numbers `0..count` in a random order (a uniform shuffle).
///
/// ```
/// let mut order = hpr::shuffled(3, 100);
/// order.sort_unstable();
/// assert_eq!(order, (0..100).collect::<Vec<_>>());
/// ```
pub fn shuffled(seed: u64, count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    rng(seed).shuffle(&mut order);
    order
}

/// A random single cycle through `0..count` (Sattolo's algorithm): following `next[i]` from
/// any start visits every index once before returning. Pointer chasing uses it so that no
/// shorter loop lets a walk stay in a cache.
///
/// ```
/// let next = hpr::random_cycle(1, 1_000);
/// let (mut at, mut steps) = (next[0], 1);
/// while at != 0 { at = next[at]; steps += 1; }
/// assert_eq!(steps, 1_000);
/// ```
pub fn random_cycle(seed: u64, count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut generator = rng(seed);
    for i in (1..count).rev() {
        order.swap(i, generator.usize(..i));
    }
    let mut next = vec![0; count];
    for i in 0..count {
        next[order[i]] = order[(i + 1) % count];
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_fix_the_sequence() {
        assert_eq!(random_f64s(5, 10), random_f64s(5, 10));
        assert_ne!(random_f64s(5, 10), random_f64s(6, 10));
        assert!(random_f64s(5, 1000).iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn a_cycle_of_one_or_two_is_still_a_cycle() {
        assert_eq!(random_cycle(0, 1), vec![0]);
        assert_eq!(random_cycle(0, 2), vec![1, 0]);
        assert!(random_cycle(0, 0).is_empty());
    }
}
