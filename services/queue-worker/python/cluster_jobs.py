"""Chapter 11's jobs for Python's rq workers: the same Monte Carlo π batches and prime counts
as the Rust queue-worker (services/queue-worker), importable by `rq worker` from this folder."""

import numpy as np


def pi_hits(seed, samples):
    """Points of `samples` drawn in the unit square (numpy's generator seeded with `seed`)
    that fall inside the quarter circle."""
    rng = np.random.default_rng(seed)
    x = rng.random(samples)
    y = rng.random(samples)
    return int(np.count_nonzero(x * x + y * y <= 1.0))


def is_prime(n):
    """The book's check_prime: trial division by odd numbers up to sqrt(n)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for divisor in range(3, int(n**0.5) + 1, 2):
        if n % divisor == 0:
            return False
    return True


def count_primes(start, end):
    """The number of primes in range(start, end)."""
    return sum(1 for n in range(start, end) if is_prime(n))
