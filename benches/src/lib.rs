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

/// The drift benches' data, shared with the Python side-by-side script in `benches/compare/`
/// (which reads the files [`write_f64`](crate::drift_data::write_f64) writes, so both sides score
/// the very same numbers).
pub mod drift_data {
    use super::normal;

    /// Reference and current samples of `n` values: N(0, 1) against N(0.05, 1.05²).
    #[must_use]
    pub fn pair(n: usize) -> (Vec<f64>, Vec<f64>) {
        (normal(1, n, 0.0, 1.0), normal(2, n, 0.05, 1.05))
    }

    /// Columns of the dataset-report bench: `cols` reference columns of `rows` values, and the
    /// current ones, of which every other one is shifted by 0.2 σ.
    #[must_use]
    pub fn table(rows: usize, cols: usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let reference = (0..cols)
            .map(|i| normal(100 + i as u64, rows, i as f64, 1.0 + i as f64 * 0.1))
            .collect();
        let current = (0..cols)
            .map(|i| {
                let shift = if i % 2 == 0 { 0.2 } else { 0.0 };
                let sd = 1.0 + i as f64 * 0.1;
                normal(200 + i as u64, rows, i as f64 + shift * sd, sd)
            })
            .collect();
        (reference, current)
    }

    /// Writes values as little-endian `f64` (NumPy: `numpy.fromfile(path, dtype="<f8")`).
    ///
    /// # Errors
    /// The I/O error of the write.
    pub fn write_f64(path: &std::path::Path, values: &[f64]) -> std::io::Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(path, bytes)
    }
}

/// The detector benches' streams, shared with `benches/compare/` (River on the same values).
pub mod detector_data {
    use super::{normal, rng};
    use rand::RngExt as _;

    /// `n` real values for ADWIN and Page–Hinkley: N(0, 1), then N(0.5, 1) from the middle on.
    #[must_use]
    pub fn real_stream(n: usize) -> Vec<f64> {
        let mut v = normal(300, n / 2, 0.0, 1.0);
        v.extend(normal(301, n - n / 2, 0.5, 1.0));
        v
    }

    /// `n` 0/1 errors for DDM, EDDM and HDDM: an error rate of 0.1, then 0.3 from the middle on.
    #[must_use]
    pub fn binary_stream(n: usize) -> Vec<f64> {
        let mut r = rng(302);
        (0..n)
            .map(|i| {
                let rate = if i < n / 2 { 0.1 } else { 0.3 };
                f64::from(u8::from(r.random::<f64>() < rate))
            })
            .collect()
    }
}
