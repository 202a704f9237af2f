//! Population Stability Index, the project's default definition.
//!
//! Bins are reference quantiles: the edges are NumPy's linear quantiles (`np.quantile`, default
//! method) of the reference at `0, 1/bins, …, 1`, duplicate edges are removed, and the outer
//! edges are replaced by −∞ and +∞, so every current value falls into some bin. Bins are
//! half-open, `[e_i, e_{i+1})`. Proportions are smoothed as `p ← (p + ε) / (1 + bins·ε)` (with
//! `bins` the number after de-duplication, default `ε = 1e-4`), so an empty bin on either side
//! never yields an infinite PSI. Then
//! `PSI = Σ (p_cur − p_ref) · ln(p_cur / p_ref)`; drift is conventionally `PSI ≥ 0.1`
//! ([`DEFAULT_THRESHOLD`]).
//!
//! A constant reference (every value `v`) has the three bins `(−∞, v)`, `[v, v⁺)` and
//! `[v⁺, +∞)` with `v⁺` the next float above `v` (two bins when `v = f64::MAX`), so a current
//! sample elsewhere, even constant itself, gives a large PSI instead of the 0 of a single bin.
//!
//! Limits: at most [`MAX_PSI_BINS`] bins are requested ([`DriftError::LimitExceeded`] above);
//! the counts of [`psi_from_counts`] and their totals are at most [`crate::MAX_COUNT`].
//!
//! Agreed entry points: [`psi`] (raw samples), [`QuantileBins::fit`] on the reference once and
//! [`QuantileBins::bin_counts`] on each current batch, then [`psi_from_counts`] on the two count
//! vectors (what a fitted reference profile does).
//!
//! ```
//! use mlops_drift::stats::psi::{psi, PsiOptions};
//! let reference: Vec<f64> = (0..100).map(f64::from).collect();
//! let r = psi(&reference, &reference, PsiOptions::default())?;
//! assert!(r.psi.abs() < 1e-12);
//! assert_eq!(r.bins, 10);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::input::{check_aligned, check_counts, check_finite, contiguous, sorted_copy};
use crate::error::{DriftError, Result, Sample};

/// Default number of quantile bins.
pub const DEFAULT_BINS: usize = 10;
/// Default smoothing added to every proportion.
pub const DEFAULT_EPSILON: f64 = 1e-4;
/// Drift is conventionally flagged when PSI is at least this.
pub const DEFAULT_THRESHOLD: f64 = 0.1;
/// The most bins a PSI (or a profile's PSI binning) may request: more is
/// [`DriftError::LimitExceeded`] before anything is allocated. Quantile bins beyond a few
/// hundred carry no information a drift check can use.
pub const MAX_PSI_BINS: usize = 1 << 16;

/// Parameters of the default PSI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PsiOptions {
    /// Number of reference-quantile bins requested (before duplicate edges are removed), ≥ 1.
    pub bins: usize,
    /// Smoothing, ≥ 0 and finite.
    pub epsilon: f64,
}

impl Default for PsiOptions {
    fn default() -> Self {
        Self {
            bins: DEFAULT_BINS,
            epsilon: DEFAULT_EPSILON,
        }
    }
}

/// A PSI value with the bins that explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsiResult {
    /// The index (infinite only with `epsilon = 0` and a bin empty on one side; serialized as
    /// the string `"inf"`).
    #[serde(with = "mlops_core::float_serde")]
    pub psi: f64,
    /// Number of bins actually used.
    pub bins: usize,
    /// The bin edges, `bins + 1` of them with −∞ and +∞ outside (NaN and infinities serialize as
    /// the strings `"nan"`, `"inf"`, `"-inf"`); empty when computed from counts alone.
    #[serde(with = "float_vec")]
    pub edges: Vec<f64>,
    /// Reference count per bin.
    pub reference_counts: Vec<u64>,
    /// Current count per bin.
    pub current_counts: Vec<u64>,
    /// Smoothed reference proportion per bin.
    pub reference_proportions: Vec<f64>,
    /// Smoothed current proportion per bin.
    pub current_proportions: Vec<f64>,
    /// Each bin's term `(p_cur − p_ref) · ln(p_cur / p_ref)`; they sum to `psi`.
    #[serde(with = "float_vec")]
    pub contributions: Vec<f64>,
    /// The smoothing used.
    pub epsilon: f64,
    /// Size of the reference sample.
    pub n_reference: u64,
    /// Size of the current sample.
    pub n_current: u64,
}

impl PsiResult {
    /// Whether PSI reaches `threshold` (use [`DEFAULT_THRESHOLD`]).
    #[must_use]
    pub fn drifted(&self, threshold: f64) -> bool {
        self.psi >= threshold
    }

    /// Bin indices ordered by decreasing contribution.
    #[must_use]
    pub fn top_bins(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.contributions.len()).collect();
        idx.sort_by(|&a, &b| {
            let ca = self.contributions.get(a).copied().unwrap_or(0.0);
            let cb = self.contributions.get(b).copied().unwrap_or(0.0);
            cb.total_cmp(&ca)
        });
        idx
    }
}

/// Reference-quantile bins, fitted once on the reference sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileBins {
    /// Interior edges (finite, strictly increasing); bin `k` is `[cuts[k-1], cuts[k])` with
    /// −∞ and +∞ outside.
    cuts: Vec<f64>,
}

impl QuantileBins {
    /// Fits `bins` quantile bins on the reference.
    ///
    /// # Errors
    /// [`DriftError::EmptySample`] / [`DriftError::NonFinite`] for a bad reference,
    /// [`DriftError::InvalidParameter`] if `bins` is 0, [`DriftError::LimitExceeded`] above
    /// [`MAX_PSI_BINS`].
    pub fn fit(reference: &[f64], bins: usize) -> Result<Self> {
        check_bins(bins)?;
        let sorted = sorted_copy(reference, Sample::Reference)?;
        Self::fit_sorted_unchecked(&sorted, bins)
    }

    /// Fits on a reference already sorted ascending.
    ///
    /// # Errors
    /// As [`QuantileBins::fit`], and [`DriftError::InvalidParameter`] if it is not sorted.
    pub fn fit_sorted(reference_sorted: &[f64], bins: usize) -> Result<Self> {
        super::input::check_sorted(reference_sorted, Sample::Reference)?;
        Self::fit_sorted_unchecked(reference_sorted, bins)
    }

    /// Builds bins from interior edges (as stored in a profile).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if an edge is not finite or they are not strictly
    /// increasing.
    pub fn from_cuts(cuts: Vec<f64>) -> Result<Self> {
        if cuts.iter().any(|c| !c.is_finite())
            || cuts.windows(2).any(|w| matches!(w, [a, b] if a >= b))
        {
            return Err(DriftError::InvalidParameter {
                name: "cuts",
                reason: "interior edges must be finite and strictly increasing".into(),
            });
        }
        Ok(Self { cuts })
    }

    fn fit_sorted_unchecked(sorted: &[f64], bins: usize) -> Result<Self> {
        check_bins(bins)?;
        // Quantile levels exactly as np.linspace(0, 1, bins + 1) forms them.
        let step = 1.0 / bins as f64;
        let mut edges: Vec<f64> = (0..=bins)
            .map(|k| {
                let q = if k == bins { 1.0 } else { k as f64 * step };
                numpy_linear_quantile(sorted, q)
            })
            .collect();
        edges.dedup();
        // Drop the outer edges (they become −∞/+∞); what remains are the interior cuts. A
        // constant reference keeps its value as a bin of its own.
        let cuts = match edges.as_slice() {
            [v] => {
                let above = v.next_up();
                if above.is_finite() {
                    vec![*v, above]
                } else {
                    vec![*v]
                }
            }
            [] | [_, _] => Vec::new(),
            all => all
                .get(1..all.len() - 1)
                .map(<[f64]>::to_vec)
                .unwrap_or_default(),
        };
        Ok(Self { cuts })
    }

    /// Number of bins.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cuts.len() + 1
    }

    /// Always false: there is at least one bin.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The interior edges.
    #[must_use]
    pub fn cuts(&self) -> &[f64] {
        &self.cuts
    }

    /// All edges, with −∞ and +∞ outside.
    #[must_use]
    pub fn edges(&self) -> Vec<f64> {
        let mut e = Vec::with_capacity(self.cuts.len() + 2);
        e.push(f64::NEG_INFINITY);
        e.extend_from_slice(&self.cuts);
        e.push(f64::INFINITY);
        e
    }

    /// The bin of one finite value.
    #[must_use]
    pub fn bin_of(&self, x: f64) -> usize {
        self.cuts.partition_point(|&c| c <= x)
    }

    /// Counts of `values` per bin.
    ///
    /// # Errors
    /// [`DriftError::EmptySample`] / [`DriftError::NonFinite`] (reported as the current sample).
    pub fn bin_counts(&self, values: &[f64]) -> Result<Vec<u64>> {
        check_finite(values, Sample::Current)?;
        let mut counts = vec![0u64; self.len()];
        for &x in values {
            if let Some(c) = counts.get_mut(self.bin_of(x)) {
                *c += 1;
            }
        }
        Ok(counts)
    }
}

/// PSI of two raw samples with reference-quantile bins.
///
/// # Errors
/// [`DriftError::EmptySample`], [`DriftError::NonFinite`], or
/// [`DriftError::InvalidParameter`] for bad options.
pub fn psi(reference: &[f64], current: &[f64], options: PsiOptions) -> Result<PsiResult> {
    check_epsilon(options.epsilon)?;
    let bins = QuantileBins::fit(reference, options.bins)?;
    let ref_counts = bins.bin_counts(reference)?;
    let cur_counts = bins.bin_counts(current)?;
    let mut r = psi_from_counts(&ref_counts, &cur_counts, options.epsilon)?;
    r.edges = bins.edges();
    Ok(r)
}

/// [`psi`] on `ndarray` views.
///
/// # Errors
/// As [`psi`].
pub fn psi_view(
    reference: ArrayView1<'_, f64>,
    current: ArrayView1<'_, f64>,
    options: PsiOptions,
) -> Result<PsiResult> {
    psi(&contiguous(reference), &contiguous(current), options)
}

/// PSI from aligned per-bin (or per-category) counts, with smoothing `epsilon`.
///
/// # Errors
/// [`DriftError::Shape`] if the vectors differ in length, [`DriftError::EmptySample`] if a side
/// has no counts, [`DriftError::InvalidParameter`] for a negative or non-finite `epsilon`.
pub fn psi_from_counts(
    reference_counts: &[u64],
    current_counts: &[u64],
    epsilon: f64,
) -> Result<PsiResult> {
    let smooth = Smoothing::check(reference_counts, current_counts, epsilon)?;
    let Smoothing {
        n_ref, n_cur, bins, ..
    } = smooth;
    let reference_proportions: Vec<f64> = reference_counts
        .iter()
        .map(|&c| smooth.reference(c))
        .collect();
    let current_proportions: Vec<f64> = current_counts.iter().map(|&c| smooth.current(c)).collect();
    let contributions: Vec<f64> = reference_proportions
        .iter()
        .zip(&current_proportions)
        .map(|(&p, &q)| psi_term(p, q))
        .collect();
    Ok(PsiResult {
        psi: contributions.iter().sum(),
        bins,
        edges: Vec::new(),
        reference_counts: reference_counts.to_vec(),
        current_counts: current_counts.to_vec(),
        reference_proportions,
        current_proportions,
        contributions,
        epsilon,
        n_reference: n_ref,
        n_current: n_cur,
    })
}

/// The index alone of [`psi_from_counts`], bit for bit, without building the result: what
/// scoring against a fitted profile needs, with no allocation.
///
/// # Errors
/// As [`psi_from_counts`].
pub(crate) fn psi_value(
    reference_counts: &[u64],
    current_counts: &[u64],
    epsilon: f64,
) -> Result<f64> {
    let smooth = Smoothing::check(reference_counts, current_counts, epsilon)?;
    Ok(reference_counts
        .iter()
        .zip(current_counts)
        .map(|(&r, &c)| psi_term(smooth.reference(r), smooth.current(c)))
        .sum())
}

/// The checked inputs of the PSI and its smoothing `p ← (p + ε) / (1 + bins·ε)`.
#[derive(Clone, Copy)]
struct Smoothing {
    n_ref: u64,
    n_cur: u64,
    bins: usize,
    epsilon: f64,
}

impl Smoothing {
    fn check(reference_counts: &[u64], current_counts: &[u64], epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        check_aligned(reference_counts.len(), current_counts.len())?;
        Ok(Self {
            n_ref: check_counts(reference_counts, Sample::Reference)?,
            n_cur: check_counts(current_counts, Sample::Current)?,
            bins: reference_counts.len(),
            epsilon,
        })
    }

    fn share(self, count: u64, n: u64) -> f64 {
        (count as f64 / n as f64 + self.epsilon) / (1.0 + self.bins as f64 * self.epsilon)
    }

    fn reference(self, count: u64) -> f64 {
        self.share(count, self.n_ref)
    }

    fn current(self, count: u64) -> f64 {
        self.share(count, self.n_cur)
    }
}

/// `(q − p) · ln(q / p)`, 0 when both are 0 (only possible with ε = 0 on an empty bin).
fn psi_term(p: f64, q: f64) -> f64 {
    if p == q { 0.0 } else { (q - p) * (q / p).ln() }
}

/// Checks a requested number of bins: at least 1, at most [`MAX_PSI_BINS`].
pub(crate) fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(DriftError::InvalidParameter {
            name: "bins",
            reason: "at least one bin is needed".into(),
        });
    }
    crate::limits::check_size("bins", bins, MAX_PSI_BINS)
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if epsilon.is_finite() && epsilon >= 0.0 {
        Ok(())
    } else {
        Err(DriftError::InvalidParameter {
            name: "epsilon",
            reason: format!("must be finite and non-negative, got {epsilon}"),
        })
    }
}

/// NumPy's default (`method="linear"`) quantile of a sorted, non-empty sample, reproduced
/// operation by operation: virtual index `(n − 1)·q`, then `_lerp`.
pub(crate) fn numpy_linear_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let last = sorted.last().copied().unwrap_or(f64::NAN);
    let virtual_index = (n as f64 - 1.0) * q;
    if virtual_index >= n as f64 - 1.0 {
        return last;
    }
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    // `previous` is in [0, n − 2] here because 0 ≤ virtual_index < n − 1.
    let lo = previous as usize;
    let (Some(&a), Some(&b)) = (sorted.get(lo), sorted.get(lo + 1)) else {
        return last;
    };
    let diff = b - a;
    if !diff.is_finite() {
        // Only for values beyond ±8.9e307, where NumPy's formula overflows to NaN.
        return a * (1.0 - gamma) + b * gamma;
    }
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Serde for `Vec<f64>` with the non-finite values as strings.
pub(crate) mod float_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct F(#[serde(with = "mlops_core::float_serde")] f64);

    pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| F(x)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<F>::deserialize(d)?
            .into_iter()
            .map(|F(x)| x)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numpy_quantiles() {
        // np.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.9, 1]) == [1, 1.75, 2.5, 3.7, 4]
        let s = [1.0, 2.0, 3.0, 4.0];
        let got: Vec<f64> = [0.0, 0.25, 0.5, 0.9, 1.0]
            .iter()
            .map(|&q| numpy_linear_quantile(&s, q))
            .collect();
        let want = [1.0, 1.75, 2.5, 3.7, 4.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn duplicate_edges_collapse_and_constant_reference_is_one_bin() {
        let b = QuantileBins::fit(&[1.0; 50], 10).unwrap();
        assert_eq!(b.cuts(), &[1.0, 1.0_f64.next_up()]);
        // A constant reference still sees a current sample elsewhere (issue 17).
        let r = psi(&[1.0; 50], &[5.0; 10], PsiOptions::default()).unwrap();
        assert_eq!(r.bins, 3);
        assert!(r.psi > 1.0, "{}", r.psi);
        let same = psi(&[1.0; 50], &[1.0; 10], PsiOptions::default()).unwrap();
        assert_eq!(same.psi, 0.0);
        let top = QuantileBins::fit(&[f64::MAX; 3], 10).unwrap();
        assert_eq!(top.cuts(), &[f64::MAX]);
        let mut v = vec![0.0; 80];
        v.extend((0..20).map(f64::from));
        let b = QuantileBins::fit(&v, 10).unwrap();
        assert!(b.len() < 10);
        assert!(b.cuts().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn empty_bins_stay_finite() {
        let reference: Vec<f64> = (0..100).map(f64::from).collect();
        let r = psi(&reference, &[1000.0; 30], PsiOptions::default()).unwrap();
        assert!(r.psi.is_finite() && r.psi > 1.0);
        assert_eq!(r.top_bins()[0], 9);
        assert!(matches!(
            psi_from_counts(&[1, 2], &[1], 1e-4),
            Err(DriftError::Shape { .. })
        ));
        assert!(matches!(
            psi_from_counts(&[0, 0], &[1, 1], 1e-4),
            Err(DriftError::EmptySample {
                which: Sample::Reference
            })
        ));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"-inf\""));
        let back: PsiResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        let unsmoothed = psi_from_counts(&[5, 0], &[3, 2], 0.0).unwrap();
        assert_eq!(unsmoothed.psi, f64::INFINITY);
        let json = serde_json::to_string(&unsmoothed).unwrap();
        let back: PsiResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back.psi, f64::INFINITY);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn psi_value_is_psi_from_counts_bit_for_bit(
            a in prop::collection::vec(0u64..1_000_000, 1..20),
            shift in 0u64..1000,
        ) {
            let b: Vec<u64> = a.iter().rev().map(|x| (x * 7 + shift) % 999_983).collect();
            prop_assume!(a.iter().sum::<u64>() > 0 && b.iter().sum::<u64>() > 0);
            let full = psi_from_counts(&a, &b, 1e-4).unwrap();
            prop_assert_eq!(psi_value(&a, &b, 1e-4).unwrap().to_bits(), full.psi.to_bits());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn psi_is_non_negative_and_symmetric_in_counts(
            a in prop::collection::vec(0u64..50, 1..12),
            seed in 0u64..1000,
        ) {
            let b: Vec<u64> = a.iter().enumerate().map(|(i, x)| (x + seed + i as u64 * 7) % 53).collect();
            prop_assume!(a.iter().sum::<u64>() > 0 && b.iter().sum::<u64>() > 0);
            let ab = psi_from_counts(&a, &b, 1e-4).unwrap();
            let ba = psi_from_counts(&b, &a, 1e-4).unwrap();
            prop_assert!(ab.psi >= 0.0 && ab.psi.is_finite());
            prop_assert!((ab.psi - ba.psi).abs() <= 1e-12 * ab.psi.max(1.0));
        }
    }
}
