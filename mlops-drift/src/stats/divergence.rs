//! Divergences between two discrete distributions — binned numeric data or category tables:
//! Jensen–Shannon distance, Kullback–Leibler divergence, Hellinger distance and total variation
//! distance.
//!
//! Every function takes two aligned weight vectors (counts or proportions, `&[f64]`, the same
//! bin or category order on both sides; [`super::psi::QuantileBins::bin_counts`] and
//! [`super::categorical::CategoryTable`] produce them) and normalises each to sum to 1, as SciPy
//! does. Jensen–Shannon, Hellinger and total variation are bounded and need no smoothing: a bin
//! that is empty on one side is fine. Kullback–Leibler is infinite when the current side has an
//! empty bin the reference does not, so [`kl_divergence`] smooths both sides with
//! `p ← (p + ε) / (1 + K·ε)` (the PSI smoothing, default ε = 1e-4); pass ε = 0 for SciPy's
//! unsmoothed value (which may then be `inf`).
//!
//! | function | definition | SciPy |
//! |---|---|---|
//! | [`jensen_shannon`] | `sqrt((KL(p‖m) + KL(q‖m)) / 2)`, `m = (p+q)/2`, log in the stated base | `scipy.spatial.distance.jensenshannon(p, q, base)` |
//! | [`kl_divergence`] | `Σ p ln(p/q)` (reference `p`, current `q`) | `scipy.stats.entropy(p, q)` |
//! | [`hellinger`] | `sqrt(Σ (√p − √q)² / 2)`, in [0, 1] | — |
//! | [`total_variation`] | `Σ |p − q| / 2`, in [0, 1] | — |
//!
//! ```
//! use mlops_drift::stats::divergence::{jensen_shannon, LogBase};
//! let r = jensen_shannon(&[1.0, 0.0], &[0.0, 1.0], LogBase::Two)?;
//! assert!((r.value - 1.0).abs() < 1e-12);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use serde::{Deserialize, Serialize};

use super::input::check_aligned;
use crate::error::{DriftError, Result, Sample};

/// Drift is conventionally flagged when the Jensen–Shannon distance is at least this.
pub const DEFAULT_JS_THRESHOLD: f64 = 0.1;

/// The base of the logarithm of an information-theoretic quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LogBase {
    /// Natural log (nats), SciPy's default.
    #[default]
    E,
    /// Base 2 (bits); the Jensen–Shannon distance is then in [0, 1].
    Two,
    /// Any base > 0, ≠ 1.
    Other(f64),
}

impl LogBase {
    fn ln(self) -> Result<Option<f64>> {
        match self {
            Self::E => Ok(None),
            Self::Two => Ok(Some(std::f64::consts::LN_2)),
            Self::Other(b) if b.is_finite() && b > 0.0 && b != 1.0 => Ok(Some(b.ln())),
            Self::Other(b) => Err(DriftError::InvalidParameter {
                name: "base",
                reason: format!("a log base must be positive, finite and not 1, got {b}"),
            }),
        }
    }
}

/// Which divergence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Divergence {
    /// Jensen–Shannon distance.
    JensenShannon,
    /// Kullback–Leibler divergence of the reference from the current distribution.
    KullbackLeibler,
    /// Hellinger distance.
    Hellinger,
    /// Total variation distance.
    TotalVariation,
}

/// A divergence value with its per-bin terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivergenceResult {
    /// Which divergence.
    pub method: Divergence,
    /// The value (`inf` only for unsmoothed KL; serialized as the string `"inf"`).
    #[serde(with = "mlops_core::float_serde")]
    pub value: f64,
    /// Each bin's additive term before the final transform (square root for JS and Hellinger,
    /// halving for total variation), for explaining which bins drive it.
    #[serde(with = "super::psi::float_vec")]
    pub terms: Vec<f64>,
    /// Number of bins or categories.
    pub bins: usize,
}

impl DivergenceResult {
    /// Whether the value reaches `threshold` ([`DEFAULT_JS_THRESHOLD`] for Jensen–Shannon).
    #[must_use]
    pub fn drifted(&self, threshold: f64) -> bool {
        self.value >= threshold
    }
}

/// Jensen–Shannon distance in the given log base.
///
/// # Errors
/// [`DriftError::Shape`] for vectors of different lengths, [`DriftError::EmptySample`] for a
/// side with zero total weight, [`DriftError::NonFinite`] / [`DriftError::InvalidParameter`]
/// for a non-finite or negative weight or a bad base.
pub fn jensen_shannon(
    reference: &[f64],
    current: &[f64],
    base: LogBase,
) -> Result<DivergenceResult> {
    let (p, q) = normalised(reference, current)?;
    let ln_base = base.ln()?;
    let terms: Vec<f64> = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| {
            let m = (a + b) / 2.0;
            rel_entr(a, m) + rel_entr(b, m)
        })
        .collect();
    let mut js: f64 = terms.iter().sum();
    if let Some(l) = ln_base {
        js /= l;
    }
    Ok(DivergenceResult {
        method: Divergence::JensenShannon,
        value: (js / 2.0).sqrt(),
        bins: terms.len(),
        terms,
    })
}

/// SciPy's `jensenshannon(p, q, base)` on weights already validated (used by the Evidently
/// mode): normalise, `rel_entr` against the midpoint, sum both sides, divide by `ln(base)`.
pub(crate) fn jensen_shannon_from_weights(p: &[f64], q: &[f64], ln_base: Option<f64>) -> f64 {
    let sp: f64 = p.iter().sum();
    let sq: f64 = q.iter().sum();
    let (mut left, mut right) = (0.0, 0.0);
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    let mut js = left + right;
    if let Some(l) = ln_base {
        js /= l;
    }
    (js / 2.0).sqrt()
}

/// Kullback–Leibler divergence `KL(reference ‖ current)` in nats, with smoothing `epsilon`.
/// The sum is clamped at 0: KL is non-negative, and rounding of nearly equal distributions
/// could otherwise give about −1e−16.
///
/// # Errors
/// As [`jensen_shannon`], and [`DriftError::InvalidParameter`] for a negative or non-finite
/// `epsilon`.
pub fn kl_divergence(reference: &[f64], current: &[f64], epsilon: f64) -> Result<DivergenceResult> {
    if !(epsilon.is_finite() && epsilon >= 0.0) {
        return Err(DriftError::InvalidParameter {
            name: "epsilon",
            reason: format!("must be finite and non-negative, got {epsilon}"),
        });
    }
    let (p, q) = normalised(reference, current)?;
    let k = p.len() as f64;
    let smooth = |x: f64| (x + epsilon) / (1.0 + k * epsilon);
    let terms: Vec<f64> = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| rel_entr(smooth(a), smooth(b)))
        .collect();
    Ok(DivergenceResult {
        method: Divergence::KullbackLeibler,
        value: terms.iter().sum::<f64>().max(0.0),
        bins: terms.len(),
        terms,
    })
}

/// Hellinger distance, in [0, 1].
///
/// # Errors
/// As [`jensen_shannon`].
pub fn hellinger(reference: &[f64], current: &[f64]) -> Result<DivergenceResult> {
    let (p, q) = normalised(reference, current)?;
    let terms: Vec<f64> = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| (a.sqrt() - b.sqrt()).powi(2))
        .collect();
    let s: f64 = terms.iter().sum();
    Ok(DivergenceResult {
        method: Divergence::Hellinger,
        value: (s / 2.0).sqrt(),
        bins: terms.len(),
        terms,
    })
}

/// Total variation distance, in [0, 1].
///
/// # Errors
/// As [`jensen_shannon`].
pub fn total_variation(reference: &[f64], current: &[f64]) -> Result<DivergenceResult> {
    let (p, q) = normalised(reference, current)?;
    let terms: Vec<f64> = p.iter().zip(&q).map(|(&a, &b)| (a - b).abs()).collect();
    let s: f64 = terms.iter().sum();
    Ok(DivergenceResult {
        method: Divergence::TotalVariation,
        value: s / 2.0,
        bins: terms.len(),
        terms,
    })
}

/// Converts integer counts to weights for the functions above.
#[must_use]
pub fn counts_to_weights(counts: &[u64]) -> Vec<f64> {
    counts.iter().map(|&c| c as f64).collect()
}

/// `scipy.special.rel_entr`: `x ln(x/y)` for `x, y > 0`, 0 for `x = 0`, `inf` otherwise.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

fn normalised(reference: &[f64], current: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_aligned(reference.len(), current.len())?;
    let norm = |w: &[f64], which: Sample| -> Result<Vec<f64>> {
        if let Some(index) = w.iter().position(|x| !x.is_finite()) {
            return Err(DriftError::NonFinite {
                which,
                index,
                value: w.get(index).copied().unwrap_or(f64::NAN),
            });
        }
        if w.iter().any(|&x| x < 0.0) {
            return Err(DriftError::InvalidParameter {
                name: "weights",
                reason: format!("the {which} weights must be non-negative"),
            });
        }
        let s: f64 = w.iter().sum();
        if s.is_nan() || s <= 0.0 {
            return Err(DriftError::EmptySample { which });
        }
        Ok(w.iter().map(|&x| x / s).collect())
    };
    Ok((
        norm(reference, Sample::Reference)?,
        norm(current, Sample::Current)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn disjoint_supports_are_finite_and_maximal() {
        let js = jensen_shannon(&[3.0, 0.0], &[0.0, 5.0], LogBase::Two).unwrap();
        assert!((js.value - 1.0).abs() < 1e-12);
        assert!((hellinger(&[1.0, 0.0], &[0.0, 1.0]).unwrap().value - 1.0).abs() < 1e-12);
        assert!((total_variation(&[1.0, 0.0], &[0.0, 1.0]).unwrap().value - 1.0).abs() < 1e-12);
        let kl = kl_divergence(&[1.0, 1.0], &[1.0, 0.0], 1e-4).unwrap();
        assert!(kl.value.is_finite() && kl.value > 1.0);
        assert_eq!(
            kl_divergence(&[1.0, 1.0], &[1.0, 0.0], 0.0).unwrap().value,
            f64::INFINITY
        );
        let json =
            serde_json::to_string(&kl_divergence(&[1.0, 1.0], &[1.0, 0.0], 0.0).unwrap()).unwrap();
        assert!(json.contains("\"inf\""));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            jensen_shannon(&[1.0], &[1.0, 2.0], LogBase::E),
            Err(DriftError::Shape { .. })
        ));
        assert!(matches!(
            hellinger(&[0.0], &[1.0]),
            Err(DriftError::EmptySample {
                which: Sample::Reference
            })
        ));
        assert!(matches!(
            total_variation(&[1.0], &[f64::NAN]),
            Err(DriftError::NonFinite { .. })
        ));
        assert!(matches!(
            jensen_shannon(&[1.0], &[1.0], LogBase::Other(1.0)),
            Err(DriftError::InvalidParameter { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn bounded_and_symmetric(
            p in prop::collection::vec(0.0f64..100.0, 1..10),
            q in prop::collection::vec(0.0f64..100.0, 1..10),
        ) {
            let k = p.len().min(q.len());
            let (p, q) = (&p[..k], &q[..k]);
            prop_assume!(p.iter().sum::<f64>() > 0.0 && q.iter().sum::<f64>() > 0.0);
            let js = jensen_shannon(p, q, LogBase::Two).unwrap().value;
            let js2 = jensen_shannon(q, p, LogBase::Two).unwrap().value;
            prop_assert!((0.0..=1.0 + 1e-12).contains(&js));
            prop_assert!((js - js2).abs() < 1e-12);
            let h = hellinger(p, q).unwrap().value;
            prop_assert!((0.0..=1.0 + 1e-12).contains(&h));
            let t = total_variation(p, q).unwrap().value;
            prop_assert!((0.0..=1.0 + 1e-12).contains(&t));
            prop_assert!(kl_divergence(p, q, 1e-4).unwrap().value >= -1e-12);
        }
    }
}
