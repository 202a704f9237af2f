//! Evidently-compatible mode: the drift scores of Evidently 0.7.23's legacy stattests
//! (`evidently.legacy.calculations.stattests`), reproduced step by step so that a team moving
//! from Evidently gets the same numbers and decisions.
//!
//! | function | Evidently stattest | score | drift when | default threshold |
//! |---|---|---|---|---|
//! | [`psi_numeric`], [`psi_categorical`] | `psi` | PSI | score ≥ threshold | 0.1 |
//! | [`wasserstein_normed`] | `wasserstein` | W1 / max(σ_ref, 0.001) | score ≥ threshold | 0.1 |
//! | [`jensenshannon_numeric`], [`jensenshannon_categorical`] | `jensenshannon` | JS distance (natural log) | score ≥ threshold | 0.1 |
//! | [`chisquare`] | `chisquare` | p-value of a goodness-of-fit test | score < threshold | 0.05 |
//!
//! Binning (`get_binned_data`): a numeric column whose **reference** has more than 20 distinct
//! values is cut into `np.histogram_bin_edges(concat(reference, current), bins="sturges")`
//! equal-width bins (edges over the min and max of both samples; bins `[e_i, e_{i+1})`, the last
//! closed); otherwise, and for categorical columns, every distinct value of either sample is a
//! category. Proportions are counts over the sample size. PSI then fills empty bins on each side
//! with `min(non-zero proportions)/10⁶` if that minimum is ≤ 0.0001, else with 0.0001
//! ("zero filling"); Jensen–Shannon uses the unfilled proportions.
//!
//! The chi-square variant is Evidently's goodness-of-fit test of the current counts against the
//! reference counts scaled to the current size (`scipy.stats.chisquare(f_obs, f_exp)`), with
//! `K − 1` degrees of freedom. **A category absent from the reference makes its expected count 0
//! and the p-value 0** — that is Evidently's behaviour, reproduced here on purpose; the project's
//! own [`super::categorical::chi2_homogeneity`] has no such pitfall. With a single category the
//! score is NaN and drift is not flagged, as in Evidently (SciPy's `chi2.sf(0, 0)` is NaN).
//!
//! ```
//! use mlops_drift::stats::evidently::psi_categorical;
//! let s = psi_categorical(&["a", "a", "b"], &["a", "b", "b"])?;
//! assert!(s.score > 0.0 && s.threshold == 0.1);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::categorical::chi2_sf;
use super::distance::wasserstein_distance;
use super::divergence::jensen_shannon_from_weights;
use super::input::check_finite;
use crate::error::{DriftError, Result, Sample};

/// Evidently's default threshold for PSI, normed Wasserstein and Jensen–Shannon.
pub const DEFAULT_DISTANCE_THRESHOLD: f64 = 0.1;
/// Evidently's default threshold for p-value tests.
pub const DEFAULT_P_THRESHOLD: f64 = 0.05;
/// Reference columns with at most this many distinct values are binned as categories.
pub const MAX_CATEGORICAL_UNIQUE: usize = 20;

/// Which Evidently stattest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EvidentlyMethod {
    /// `psi`.
    Psi,
    /// `wasserstein` (normed).
    Wasserstein,
    /// `jensenshannon`.
    JensenShannon,
    /// `chisquare` (p-value).
    ChiSquare,
}

impl EvidentlyMethod {
    /// The default threshold of the stattest.
    #[must_use]
    pub fn default_threshold(self) -> f64 {
        match self {
            Self::ChiSquare => DEFAULT_P_THRESHOLD,
            Self::Psi | Self::Wasserstein | Self::JensenShannon => DEFAULT_DISTANCE_THRESHOLD,
        }
    }

    /// Whether the score is a p-value (drift when below the threshold) rather than a distance
    /// (drift when at or above it).
    #[must_use]
    pub fn is_p_value(self) -> bool {
        matches!(self, Self::ChiSquare)
    }
}

/// An Evidently drift score with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidentlyScore {
    /// The stattest.
    pub method: EvidentlyMethod,
    /// The score (a distance, or a p-value for [`EvidentlyMethod::ChiSquare`]); NaN where
    /// Evidently's is (serialized as the string `"nan"`).
    #[serde(with = "mlops_core::float_serde")]
    pub score: f64,
    /// The threshold used.
    pub threshold: f64,
    /// Evidently's decision: `score ≥ threshold` for distances, `score < threshold` for p-values.
    pub drifted: bool,
}

impl EvidentlyScore {
    fn new(method: EvidentlyMethod, score: f64, threshold: Option<f64>) -> Self {
        let threshold = threshold.unwrap_or_else(|| method.default_threshold());
        let drifted = if method.is_p_value() {
            score < threshold
        } else {
            score >= threshold
        };
        Self {
            method,
            score,
            threshold,
            drifted,
        }
    }
}

/// Scores a numeric column with an Evidently stattest (`threshold` `None` = the default).
///
/// # Errors
/// [`DriftError::EmptySample`] / [`DriftError::NonFinite`] for bad samples (Evidently drops
/// NaN before the stattest; apply the column's NaN policy first),
/// [`DriftError::Unsupported`] for [`EvidentlyMethod::ChiSquare`] on a numeric column (Evidently
/// allows it only for categorical columns).
pub fn score_numeric(
    method: EvidentlyMethod,
    reference: &[f64],
    current: &[f64],
    threshold: Option<f64>,
) -> Result<EvidentlyScore> {
    check_finite(reference, Sample::Reference)?;
    check_finite(current, Sample::Current)?;
    let score = match method {
        EvidentlyMethod::Wasserstein => wasserstein_distance(reference, current)?.normed,
        EvidentlyMethod::Psi => {
            let (r, c) = binned_numeric(reference, current);
            psi_of(&r, &c)
        }
        EvidentlyMethod::JensenShannon => {
            let (r, c) = binned_numeric(reference, current);
            jensen_shannon_from_weights(&r, &c, None)
        }
        EvidentlyMethod::ChiSquare => {
            return Err(DriftError::Unsupported {
                what: "Evidently's chisquare stattest on a numeric column".into(),
            });
        }
    };
    Ok(EvidentlyScore::new(method, score, threshold))
}

/// Scores a categorical column with an Evidently stattest (`threshold` `None` = the default).
///
/// # Errors
/// [`DriftError::EmptySample`] for an empty sample, [`DriftError::Unsupported`] for
/// [`EvidentlyMethod::Wasserstein`] (numeric only in Evidently).
pub fn score_categorical<L: Ord + Clone>(
    method: EvidentlyMethod,
    reference: &[L],
    current: &[L],
    threshold: Option<f64>,
) -> Result<EvidentlyScore> {
    if reference.is_empty() {
        return Err(DriftError::EmptySample {
            which: Sample::Reference,
        });
    }
    if current.is_empty() {
        return Err(DriftError::EmptySample {
            which: Sample::Current,
        });
    }
    let table = super::categorical::CategoryTable::from_labels(reference, current);
    let (nr, nc) = (reference.len() as f64, current.len() as f64);
    let score = match method {
        EvidentlyMethod::Psi | EvidentlyMethod::JensenShannon => {
            let r: Vec<f64> = table.reference.iter().map(|&k| k as f64 / nr).collect();
            let c: Vec<f64> = table.current.iter().map(|&k| k as f64 / nc).collect();
            if method == EvidentlyMethod::Psi {
                psi_of(&r, &c)
            } else {
                jensen_shannon_from_weights(&r, &c, None)
            }
        }
        EvidentlyMethod::ChiSquare => chisquare_gof(&table.reference, &table.current, nr, nc),
        EvidentlyMethod::Wasserstein => {
            return Err(DriftError::Unsupported {
                what: "Evidently's wasserstein stattest on a categorical column".into(),
            });
        }
    };
    Ok(EvidentlyScore::new(method, score, threshold))
}

/// Evidently `psi` on a numeric column, default threshold.
///
/// # Errors
/// As [`score_numeric`].
pub fn psi_numeric(reference: &[f64], current: &[f64]) -> Result<EvidentlyScore> {
    score_numeric(EvidentlyMethod::Psi, reference, current, None)
}

/// Evidently `wasserstein` (normed) on a numeric column, default threshold.
///
/// # Errors
/// As [`score_numeric`].
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> Result<EvidentlyScore> {
    score_numeric(EvidentlyMethod::Wasserstein, reference, current, None)
}

/// Evidently `jensenshannon` on a numeric column, default threshold.
///
/// # Errors
/// As [`score_numeric`].
pub fn jensenshannon_numeric(reference: &[f64], current: &[f64]) -> Result<EvidentlyScore> {
    score_numeric(EvidentlyMethod::JensenShannon, reference, current, None)
}

/// Evidently `psi` on a categorical column, default threshold.
///
/// # Errors
/// As [`score_categorical`].
pub fn psi_categorical<L: Ord + Clone>(reference: &[L], current: &[L]) -> Result<EvidentlyScore> {
    score_categorical(EvidentlyMethod::Psi, reference, current, None)
}

/// Evidently `jensenshannon` on a categorical column, default threshold.
///
/// # Errors
/// As [`score_categorical`].
pub fn jensenshannon_categorical<L: Ord + Clone>(
    reference: &[L],
    current: &[L],
) -> Result<EvidentlyScore> {
    score_categorical(EvidentlyMethod::JensenShannon, reference, current, None)
}

/// Evidently `chisquare` on a categorical column, default threshold.
///
/// # Errors
/// As [`score_categorical`].
pub fn chisquare<L: Ord + Clone>(reference: &[L], current: &[L]) -> Result<EvidentlyScore> {
    score_categorical(EvidentlyMethod::ChiSquare, reference, current, None)
}

/// `scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts · n_cur / n_ref)`.
fn chisquare_gof(reference: &[u64], current: &[u64], nr: f64, nc: f64) -> f64 {
    let k_norm = nc / nr;
    let mut stat = 0.0;
    for (&r, &c) in reference.iter().zip(current) {
        let e = r as f64 * k_norm;
        let o = c as f64;
        stat += if e == 0.0 {
            if o == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (o - e) * (o - e) / e
        };
    }
    let dof = reference.len().saturating_sub(1);
    if dof == 0 {
        // SciPy's chi2.sf(0, 0) is NaN, and so is Evidently's score.
        return f64::NAN;
    }
    if stat.is_infinite() {
        return 0.0;
    }
    chi2_sf(stat, dof as f64).p
}

/// Σ (r − c) · ln(r / c) over Evidently's zero-filled proportions.
fn psi_of(reference: &[f64], current: &[f64]) -> f64 {
    let r = fill_zeroes(reference);
    let c = fill_zeroes(current);
    r.iter()
        .zip(&c)
        .map(|(&a, &b)| (a - b) * (a / b).ln())
        .sum()
}

/// Evidently's `feel_zeroes`: zeros become `min(non-zero)/1e6` if that minimum ≤ 1e-4, else 1e-4.
fn fill_zeroes(p: &[f64]) -> Vec<f64> {
    let min_nonzero = p
        .iter()
        .copied()
        .filter(|&x| x != 0.0)
        .fold(f64::INFINITY, f64::min);
    let fill = if min_nonzero <= 0.0001 {
        min_nonzero / 1e6
    } else {
        0.0001
    };
    p.iter().map(|&x| if x == 0.0 { fill } else { x }).collect()
}

/// Evidently's `get_binned_data` for a numeric column, without zero filling: proportions per
/// Sturges bin over both samples, or per distinct value when the reference has at most 20.
fn binned_numeric(reference: &[f64], current: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (nr, nc) = (reference.len() as f64, current.len() as f64);
    let key = |x: f64| {
        if x == 0.0 {
            0.0f64.to_bits()
        } else {
            x.to_bits()
        }
    };
    let distinct: std::collections::HashSet<u64> = reference.iter().map(|&x| key(x)).collect();
    if distinct.len() > MAX_CATEGORICAL_UNIQUE {
        let edges = sturges_edges(reference, current);
        let r = histogram(reference, &edges);
        let c = histogram(current, &edges);
        (
            r.iter().map(|&k| k as f64 / nr).collect(),
            c.iter().map(|&k| k as f64 / nc).collect(),
        )
    } else {
        let mut table: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for &x in reference {
            table.entry(key(x)).or_default().0 += 1;
        }
        for &x in current {
            table.entry(key(x)).or_default().1 += 1;
        }
        table
            .values()
            .map(|&(a, b)| (a as f64 / nr, b as f64 / nc))
            .unzip()
    }
}

/// `np.histogram_bin_edges(concat, bins="sturges")`, operation by operation.
fn sturges_edges(reference: &[f64], current: &[f64]) -> Vec<f64> {
    let all = reference.iter().chain(current);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in all {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let size = (reference.len() + current.len()) as f64;
    let ptp = hi - lo;
    let (first, last) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let width = ptp / (size.log2() + 1.0);
    let n_bins = if width > 0.0 {
        // int(np.ceil((last − first) / width)), at least 1.
        ((last - first) / width).ceil().max(1.0) as usize
    } else {
        1
    };
    linspace(first, last, n_bins + 1)
}

/// `np.linspace(start, stop, num)` with `endpoint=True`, as NumPy forms it.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = num.saturating_sub(1).max(1) as f64;
    let step = (stop - start) / div;
    let mut y: Vec<f64> = (0..num)
        .map(|i| {
            if step == 0.0 {
                (i as f64 / div) * (stop - start) + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(l) = y.last_mut() {
        *l = stop;
    }
    y
}

/// `np.histogram(values, edges)[0]` for explicit edges: `[e_i, e_{i+1})`, the last bin closed,
/// values outside the edges dropped.
fn histogram(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let n_bins = edges.len().saturating_sub(1);
    let mut counts = vec![0u64; n_bins];
    let (Some(&first), Some(&last)) = (edges.first(), edges.last()) else {
        return counts;
    };
    let inner = edges.get(1..).unwrap_or(&[]);
    for &x in values {
        if x < first || x > last {
            continue;
        }
        let bin = inner
            .partition_point(|&e| e <= x)
            .min(n_bins.saturating_sub(1));
        if let Some(c) = counts.get_mut(bin) {
            *c += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_sturges_edges() {
        // np.histogram_bin_edges(np.arange(10.0), bins="sturges")
        //   == [0., 1.8, 3.6, 5.4, 7.2, 9.]  (ceil(log2(10) + 1) = 5 bins)
        let r: Vec<f64> = (0..10).map(f64::from).collect();
        let e = sturges_edges(&r, &[]);
        let want = [0.0, 1.8, 3.6, 5.4, 7.2, 9.0];
        assert_eq!(e.len(), want.len());
        for (g, w) in e.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{e:?}");
        }
        // np.histogram(np.arange(10.0), e)[0] == [2, 2, 2, 2, 2]
        assert_eq!(histogram(&r, &e), vec![2, 2, 2, 2, 2]);
    }

    #[test]
    fn zero_filling_and_decisions() {
        assert_eq!(fill_zeroes(&[0.0, 0.5, 0.5]), vec![0.0001, 0.5, 0.5]);
        assert_eq!(fill_zeroes(&[0.0, 0.00005, 1.0])[0], 0.00005 / 1e6);
        let s = chisquare(&["a", "a"], &["a", "zz"]).unwrap();
        assert_eq!(s.score, 0.0);
        assert!(s.drifted);
        let s = chisquare(&["a", "a"], &["a"]).unwrap();
        assert!(s.score.is_nan() && !s.drifted);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"nan\""), "{json}");
        let back: EvidentlyScore = serde_json::from_str(&json).unwrap();
        assert!(back.score.is_nan() && back.method == EvidentlyMethod::ChiSquare);
        assert!(matches!(
            score_numeric(EvidentlyMethod::ChiSquare, &[1.0], &[1.0], None),
            Err(DriftError::Unsupported { .. })
        ));
    }
}
