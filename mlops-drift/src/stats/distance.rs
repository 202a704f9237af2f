//! Distances between two empirical distributions: Wasserstein-1 (raw and normed) and the energy
//! distance, both as `scipy.stats.wasserstein_distance` / `scipy.stats.energy_distance` compute
//! them (the integral of the CDF difference over the merged sorted sample).
//!
//! Agreed entry points: [`wasserstein_distance`] and [`energy_distance`] take raw samples;
//! [`wasserstein_distance_sorted`] and [`energy_distance_sorted`] take samples already sorted
//! ascending (a fitted reference profile keeps its reference sorted, so scoring never re-sorts
//! it); the `_view` variants take `ndarray` views.
//!
//! The normed Wasserstein distance divides by `max(σ_ref, 0.001)` where `σ_ref` is the
//! population standard deviation of the reference (NumPy's `np.std`), which is Evidently's
//! `wasserstein` drift score. Its conventional drift threshold is [`DEFAULT_NORMED_THRESHOLD`].
//!
//! Huge finite values: where SciPy's formula overflows (values near ±`f64::MAX`, whose
//! differences are infinite), the integral and the standard deviation are formed in units
//! scaled by a power of two (exact), so the normed distance is finite and correct (SciPy gives
//! NaN or 0 there) and the distances are their true values, `+∞` only when the true value
//! exceeds `f64::MAX` (a raw distance near it, or one divided by the 0.001 floor of a constant
//! reference). Results that do not overflow are computed exactly as before.
//!
//! ```
//! use mlops_drift::stats::distance::wasserstein_distance;
//! let r = wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0])?;
//! assert!((r.distance - 5.0).abs() < 1e-12);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::input::{
    check_sorted, contiguous, mean_and_population_std, power_of_two_scale, sorted_copy,
};
use crate::error::{Result, Sample};

/// Drift is flagged when the normed Wasserstein distance is at least this (Evidently's default).
pub const DEFAULT_NORMED_THRESHOLD: f64 = 0.1;

/// The floor of the normalising standard deviation (Evidently's `0.001`).
pub const NORM_FLOOR: f64 = 0.001;

/// The Wasserstein-1 distance between the reference and the current sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WassersteinResult {
    /// The raw distance, in the units of the data.
    pub distance: f64,
    /// `distance / max(reference_std, 0.001)`.
    pub normed: f64,
    /// The population standard deviation of the reference sample.
    pub reference_std: f64,
    /// Size of the reference sample.
    pub n_reference: usize,
    /// Size of the current sample.
    pub n_current: usize,
}

impl WassersteinResult {
    /// Whether the normed distance reaches `threshold` (use [`DEFAULT_NORMED_THRESHOLD`]).
    #[must_use]
    pub fn drifted(&self, threshold: f64) -> bool {
        self.normed >= threshold
    }
}

/// The energy distance between the reference and the current sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyResult {
    /// `sqrt(2) · sqrt(∫ (F_ref − F_cur)²)`, SciPy's definition.
    pub distance: f64,
    /// Size of the reference sample.
    pub n_reference: usize,
    /// Size of the current sample.
    pub n_current: usize,
}

/// Wasserstein-1 distance of two raw samples (sorted internally).
///
/// # Errors
/// [`crate::DriftError::EmptySample`] if a sample is empty, [`crate::DriftError::NonFinite`] if it
/// holds NaN or an infinity.
pub fn wasserstein_distance(reference: &[f64], current: &[f64]) -> Result<WassersteinResult> {
    let r = sorted_copy(reference, Sample::Reference)?;
    let c = sorted_copy(current, Sample::Current)?;
    Ok(wasserstein_unchecked(&r, &c))
}

/// Wasserstein-1 distance of two samples already sorted ascending.
///
/// # Errors
/// As [`wasserstein_distance`], and [`crate::DriftError::InvalidParameter`] if a sample is not
/// sorted.
pub fn wasserstein_distance_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
) -> Result<WassersteinResult> {
    check_sorted(reference_sorted, Sample::Reference)?;
    check_sorted(current_sorted, Sample::Current)?;
    Ok(wasserstein_unchecked(reference_sorted, current_sorted))
}

/// [`wasserstein_distance`] on `ndarray` views.
///
/// # Errors
/// As [`wasserstein_distance`].
pub fn wasserstein_distance_view(
    reference: ArrayView1<'_, f64>,
    current: ArrayView1<'_, f64>,
) -> Result<WassersteinResult> {
    wasserstein_distance(&contiguous(reference), &contiguous(current))
}

/// Energy distance of two raw samples (sorted internally).
///
/// # Errors
/// As [`wasserstein_distance`].
pub fn energy_distance(reference: &[f64], current: &[f64]) -> Result<EnergyResult> {
    let r = sorted_copy(reference, Sample::Reference)?;
    let c = sorted_copy(current, Sample::Current)?;
    Ok(energy_unchecked(&r, &c))
}

/// Energy distance of two samples already sorted ascending.
///
/// # Errors
/// As [`wasserstein_distance_sorted`].
pub fn energy_distance_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
) -> Result<EnergyResult> {
    check_sorted(reference_sorted, Sample::Reference)?;
    check_sorted(current_sorted, Sample::Current)?;
    Ok(energy_unchecked(reference_sorted, current_sorted))
}

/// [`energy_distance`] on `ndarray` views.
///
/// # Errors
/// As [`energy_distance`].
pub fn energy_distance_view(
    reference: ArrayView1<'_, f64>,
    current: ArrayView1<'_, f64>,
) -> Result<EnergyResult> {
    energy_distance(&contiguous(reference), &contiguous(current))
}

fn wasserstein_unchecked(r: &[f64], c: &[f64]) -> WassersteinResult {
    let (scaled, scale) = cdf_integral_scaled(r, c, f64::abs);
    let (_, reference_std) = mean_and_population_std(r);
    WassersteinResult {
        distance: scaled * scale,
        normed: normed_in_scale(scaled, scale, reference_std),
        reference_std,
        n_reference: r.len(),
        n_current: c.len(),
    }
}

fn energy_unchecked(r: &[f64], c: &[f64]) -> EnergyResult {
    let (scaled, scale) = cdf_integral_scaled(r, c, |d| d * d);
    EnergyResult {
        distance: energy_from_scaled(scaled, scale),
        n_reference: r.len(),
        n_current: c.len(),
    }
}

/// `distance / max(σ, 0.001)` from a distance given as `scaled · scale`: exactly that formula
/// when `scale` is 1, and finite when `distance` alone would overflow.
pub(crate) fn normed_in_scale(scaled: f64, scale: f64, reference_std: f64) -> f64 {
    scaled / (reference_std / scale).max(NORM_FLOOR / scale)
}

/// `√2 · √integral` from an integral given as `scaled · scale`.
pub(crate) fn energy_from_scaled(scaled: f64, scale: f64) -> f64 {
    std::f64::consts::SQRT_2 * scaled.sqrt() * scale.sqrt()
}

/// [`cdf_integral`] as `(integral / scale, scale)`: `scale` is 1 unless the direct sum
/// overflows (values near ±`f64::MAX`), and then the power of two at least the largest
/// magnitude, the integral being formed on the values divided by it (exact).
pub(crate) fn cdf_integral_scaled(r: &[f64], c: &[f64], g: impl Fn(f64) -> f64) -> (f64, f64) {
    let direct = cdf_integral(r, c, &g);
    if direct.is_finite() {
        return (direct, 1.0);
    }
    let scale = power_of_two_scale(r.iter().chain(c).copied());
    let rs: Vec<f64> = r.iter().map(|x| x / scale).collect();
    let cs: Vec<f64> = c.iter().map(|x| x / scale).collect();
    (cdf_integral(&rs, &cs, g), scale)
}

/// `Σ_k g(F_r(x_k) − F_c(x_k)) · (x_{k+1} − x_k)` over the merged sorted sample `x`, exactly as
/// SciPy's `_cdf_distance` forms it (CDFs as `count / n`). Both inputs are non-empty and sorted.
///
/// After consuming `x_k` the consumed counts are the CDF counts at `x_k` whenever
/// `x_{k+1} > x_k` (every element ≤ `x_k` has then been consumed); when `x_{k+1} = x_k` the term
/// is zero anyway.
pub(crate) fn cdf_integral(r: &[f64], c: &[f64], g: impl Fn(f64) -> f64) -> f64 {
    let (nr, nc) = (r.len() as f64, c.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut sum = 0.0;
    let mut current = match (r.first(), c.first()) {
        (Some(&a), Some(&b)) if a <= b => {
            i = 1;
            a
        }
        (Some(_) | None, Some(&b)) => {
            j = 1;
            b
        }
        (Some(&a), None) => {
            i = 1;
            a
        }
        (None, None) => return 0.0,
    };
    loop {
        // The next merged value and the side it comes from (the reference first on ties, as a
        // stable merge; the order among equal values does not change the integral).
        let (next, from_reference) = match (r.get(i), c.get(j)) {
            (Some(&a), Some(&b)) => {
                if a <= b {
                    (a, true)
                } else {
                    (b, false)
                }
            }
            (Some(&a), None) => (a, true),
            (None, Some(&b)) => (b, false),
            (None, None) => break,
        };
        let delta = next - current;
        if delta > 0.0 {
            sum += g(i as f64 / nr - j as f64 / nc) * delta;
        }
        if from_reference {
            i += 1;
        } else {
            j += 1;
        }
        current = next;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scipy_docstring_examples() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        let w = wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]).unwrap();
        assert!((w.distance - 5.0).abs() < 1e-12);
        // scipy.stats.energy_distance([0], [2]) == 2.0000000000000004
        let e = energy_distance(&[0.0], &[2.0]).unwrap();
        assert!((e.distance - 2.000_000_000_000_000_4).abs() < 1e-12);
    }

    #[test]
    fn errors_on_bad_input() {
        assert!(matches!(
            wasserstein_distance(&[], &[1.0]),
            Err(crate::DriftError::EmptySample {
                which: Sample::Reference
            })
        ));
        assert!(matches!(
            energy_distance(&[1.0], &[f64::NAN]),
            Err(crate::DriftError::NonFinite {
                which: Sample::Current,
                index: 0,
                ..
            })
        ));
        assert!(matches!(
            wasserstein_distance_sorted(&[2.0, 1.0], &[1.0]),
            Err(crate::DriftError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn constant_reference_uses_the_floor() {
        let w = wasserstein_distance(&[1.0, 1.0], &[1.5]).unwrap();
        assert!((w.distance - 0.5).abs() < 1e-15);
        assert!((w.normed - 500.0).abs() < 1e-9);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn symmetric_and_zero_on_self(
            a in prop::collection::vec(-1e6f64..1e6, 1..40),
            b in prop::collection::vec(-1e6f64..1e6, 1..40),
        ) {
            let ab = wasserstein_distance(&a, &b).unwrap();
            let ba = wasserstein_distance(&b, &a).unwrap();
            prop_assert!((ab.distance - ba.distance).abs() <= 1e-9 * ab.distance.max(1.0));
            prop_assert!(ab.distance >= 0.0);
            let aa = energy_distance(&a, &a).unwrap();
            prop_assert!(aa.distance == 0.0);
            // Translation moves the distance by exactly the shift when the samples are equal.
            let shifted: Vec<f64> = a.iter().map(|x| x + 3.0).collect();
            let s = wasserstein_distance(&a, &shifted).unwrap();
            prop_assert!((s.distance - 3.0).abs() < 1e-6);
        }
    }
}
