//! Seeded data generators shared by the criterion benches in `benches/benches/`.
//!
//! Every generator takes a seed and uses ChaCha8, so a bench's inputs are the same on every
//! machine and every run (and the Python comparison scripts can be checked against them).

use rand::{RngExt as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded, portable random generator for bench inputs.
#[must_use]
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` draws from a normal distribution N(`mean`, `sd`²) (Box–Muller, so no extra dependency).
#[must_use]
pub fn normal(seed: u64, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let u1: f64 = 1.0 - r.random::<f64>();
            let u2: f64 = r.random::<f64>();
            mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

/// `n` unit ids shaped like UUIDs (36 bytes), all distinct with overwhelming probability.
#[must_use]
pub fn unit_ids(seed: u64, n: usize) -> Vec<String> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let a: u128 = r.random();
            let h = format!("{a:032x}");
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        })
        .collect()
}
