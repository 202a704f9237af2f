//! Tests on categorical columns: the chi-squared test of homogeneity and the G-test on the 2×K
//! table (reference row, current row), the two-proportion z-test and Fisher's exact test (2×2).
//!
//! Agreed entry points take **aligned counts** (`&[u64]` per category, the same category order on
//! both sides) so that a reference profile that keeps a category table can call them directly:
//! [`chi2_homogeneity`]`(ref_counts, cur_counts)`, [`g_test`], [`two_proportion_z_test`],
//! [`fisher_exact`]. [`CategoryTable::from_labels`] builds the table over the union of categories
//! from two label slices (any `Ord` label: `&str`, `String`, integer codes), and the `_labels`
//! conveniences do both steps.
//!
//! Unseen and vanished categories: the homogeneity tests use expected counts from the pooled
//! margins, which are positive for every category present on either side, so a category seen
//! only in the current sample gives a finite statistic (no smoothing is needed). Categories with
//! a zero count on **both** sides carry no information and are dropped before the test (SciPy
//! would reject the table). With fewer than two categories left the statistic is 0 and p is 1.
//!
//! Limits: every count vector's total is at most [`crate::MAX_COUNT`] (2^53, so every count is
//! exact as `f64`) and the total of a Fisher table at most [`FISHER_MAX_TOTAL`]; larger is
//! [`DriftError::LimitExceeded`]. Fisher's exact test walks the hypergeometric distribution,
//! whose cost grows with its standard deviation; above a variance of
//! [`FISHER_EXACT_MAX_VARIANCE`] (σ = 10⁴, about 10⁶ steps) it switches to the normal
//! approximation with continuity correction, which is then accurate to a few parts in 10⁴
//! ([`FisherMethod`] says which was used).
//!
//! ```
//! use mlops_drift::stats::categorical::chi2_homogeneity_labels;
//! let r = chi2_homogeneity_labels(&["a", "a", "b", "b"], &["a", "b", "b", "b"])?;
//! assert_eq!(r.dof, 1);
//! assert!(r.p_value.p > 0.05);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::PValue;
use super::input::{check_aligned, check_counts};
use crate::error::{DriftError, Result, Sample};

/// Drift is conventionally flagged when the p-value is below this.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// Above this variance of the hypergeometric distribution of a 2×2 table, [`fisher_exact`]
/// uses the normal approximation instead of the exact walk (whose length grows with the
/// standard deviation: about 10⁶ steps, a few milliseconds, at this bound).
pub const FISHER_EXACT_MAX_VARIANCE: f64 = 1e8;

/// The largest total of a table [`fisher_exact`] accepts (its margins and their products are
/// then formed without overflow).
pub const FISHER_MAX_TOTAL: u64 = 1 << 62;

/// A 2×K table of counts over the union of categories, categories in ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTable<L> {
    /// The categories, ascending.
    pub categories: Vec<L>,
    /// Reference count per category.
    pub reference: Vec<u64>,
    /// Current count per category.
    pub current: Vec<u64>,
}

impl<L: Ord + Clone> CategoryTable<L> {
    /// Counts both label slices over the union of their categories.
    #[must_use]
    pub fn from_labels(reference: &[L], current: &[L]) -> Self {
        let mut map: BTreeMap<&L, (u64, u64)> = BTreeMap::new();
        for l in reference {
            map.entry(l).or_default().0 += 1;
        }
        for l in current {
            map.entry(l).or_default().1 += 1;
        }
        let mut categories = Vec::with_capacity(map.len());
        let mut r = Vec::with_capacity(map.len());
        let mut c = Vec::with_capacity(map.len());
        for (l, (a, b)) in map {
            categories.push(l.clone());
            r.push(a);
            c.push(b);
        }
        Self {
            categories,
            reference: r,
            current: c,
        }
    }

    /// Categories present in the current sample but not in the reference.
    #[must_use]
    pub fn new_categories(&self) -> Vec<&L> {
        self.categories
            .iter()
            .zip(self.reference.iter().zip(&self.current))
            .filter(|(_, (r, c))| **r == 0 && **c > 0)
            .map(|(l, _)| l)
            .collect()
    }

    /// Categories present in the reference but not in the current sample.
    #[must_use]
    pub fn vanished_categories(&self) -> Vec<&L> {
        self.categories
            .iter()
            .zip(self.reference.iter().zip(&self.current))
            .filter(|(_, (r, c))| **r > 0 && **c == 0)
            .map(|(l, _)| l)
            .collect()
    }
}

/// Which statistic of the power-divergence family a contingency test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContingencyStatistic {
    /// Pearson's chi-squared, `Σ (O − E)² / E`.
    Pearson,
    /// The G statistic (log-likelihood ratio), `2 Σ O ln(O / E)`.
    LogLikelihood,
}

/// A test of homogeneity on the 2×K table, as `scipy.stats.chi2_contingency` computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContingencyResult {
    /// Which statistic.
    pub method: ContingencyStatistic,
    /// The statistic.
    pub statistic: f64,
    /// Its p-value from the chi-squared distribution with `dof` degrees of freedom.
    pub p_value: PValue,
    /// Degrees of freedom, `K' − 1` over the `K'` categories with a non-zero count.
    pub dof: usize,
    /// Whether Yates' continuity correction was applied (when `dof == 1`, as SciPy does).
    pub yates: bool,
    /// Expected reference count per input category (0 for a category absent on both sides).
    pub expected_reference: Vec<f64>,
    /// Expected current count per input category.
    pub expected_current: Vec<f64>,
    /// Each category's share of the statistic (both rows).
    pub contributions: Vec<f64>,
    /// Reference sample size.
    pub n_reference: u64,
    /// Current sample size.
    pub n_current: u64,
}

impl ContingencyResult {
    /// Whether `p < alpha` (use [`DEFAULT_ALPHA`]).
    #[must_use]
    pub fn drifted(&self, alpha: f64) -> bool {
        self.p_value.p < alpha
    }
}

/// Chi-squared test of homogeneity on aligned counts: `scipy.stats.chi2_contingency([ref, cur])`
/// with its default Yates correction when `dof == 1`.
///
/// # Errors
/// [`DriftError::Shape`] if the vectors differ in length, [`DriftError::EmptySample`] if a side
/// has no counts.
pub fn chi2_homogeneity(
    reference_counts: &[u64],
    current_counts: &[u64],
) -> Result<ContingencyResult> {
    contingency_test(
        reference_counts,
        current_counts,
        ContingencyStatistic::Pearson,
    )
}

/// [`chi2_homogeneity`] on two label slices, over the union of their categories.
///
/// # Errors
/// [`DriftError::EmptySample`] if a slice is empty.
pub fn chi2_homogeneity_labels<L: Ord + Clone>(
    reference: &[L],
    current: &[L],
) -> Result<ContingencyResult> {
    let t = CategoryTable::from_labels(reference, current);
    chi2_homogeneity(&t.reference, &t.current)
}

/// G-test of homogeneity: `scipy.stats.chi2_contingency([ref, cur], lambda_="log-likelihood")`
/// (Yates correction when `dof == 1`, as SciPy's default).
///
/// # Errors
/// As [`chi2_homogeneity`].
pub fn g_test(reference_counts: &[u64], current_counts: &[u64]) -> Result<ContingencyResult> {
    contingency_test(
        reference_counts,
        current_counts,
        ContingencyStatistic::LogLikelihood,
    )
}

/// [`g_test`] on two label slices.
///
/// # Errors
/// As [`chi2_homogeneity_labels`].
pub fn g_test_labels<L: Ord + Clone>(reference: &[L], current: &[L]) -> Result<ContingencyResult> {
    let t = CategoryTable::from_labels(reference, current);
    g_test(&t.reference, &t.current)
}

fn contingency_test(
    reference_counts: &[u64],
    current_counts: &[u64],
    method: ContingencyStatistic,
) -> Result<ContingencyResult> {
    check_aligned(reference_counts.len(), current_counts.len())?;
    let n_ref = check_counts(reference_counts, Sample::Reference)?;
    let n_cur = check_counts(current_counts, Sample::Current)?;
    let total = (n_ref + n_cur) as f64;
    let k_present = reference_counts
        .iter()
        .zip(current_counts)
        .filter(|(r, c)| **r + **c > 0)
        .count();
    let dof = k_present.saturating_sub(1);
    let yates = dof == 1;
    let mut expected_reference = Vec::with_capacity(reference_counts.len());
    let mut expected_current = Vec::with_capacity(reference_counts.len());
    let mut contributions = Vec::with_capacity(reference_counts.len());
    for (&r, &c) in reference_counts.iter().zip(current_counts) {
        let col = (r + c) as f64;
        // SciPy's expected_freq: row margin × column margin / total.
        let er = n_ref as f64 * col / total;
        let ec = n_cur as f64 * col / total;
        expected_reference.push(if r + c > 0 { er } else { 0.0 });
        expected_current.push(if r + c > 0 { ec } else { 0.0 });
        let term = if r + c == 0 || dof == 0 {
            0.0
        } else {
            cell_term(r as f64, er, yates, method) + cell_term(c as f64, ec, yates, method)
        };
        contributions.push(term);
    }
    let (statistic, p_value) = if dof == 0 {
        (0.0, PValue::from_p(1.0))
    } else {
        let s: f64 = contributions.iter().sum();
        (s, chi2_sf(s, dof as f64))
    };
    Ok(ContingencyResult {
        method,
        statistic,
        p_value,
        dof,
        yates,
        expected_reference,
        expected_current,
        contributions,
        n_reference: n_ref,
        n_current: n_cur,
    })
}

/// One cell's term; with Yates the observed count moves towards the expected by at most 0.5.
fn cell_term(observed: f64, expected: f64, yates: bool, method: ContingencyStatistic) -> f64 {
    let o = if yates {
        let diff = expected - observed;
        observed + diff.abs().min(0.5).copysign(diff)
    } else {
        observed
    };
    match method {
        ContingencyStatistic::Pearson => (o - expected) * (o - expected) / expected,
        ContingencyStatistic::LogLikelihood => {
            if o == 0.0 {
                0.0
            } else {
                2.0 * o * (o / expected).ln()
            }
        }
    }
}

/// Upper tail of the chi-squared distribution, with `ln p` kept when `p` underflows.
pub(crate) fn chi2_sf(statistic: f64, dof: f64) -> PValue {
    if statistic.is_nan() || statistic <= 0.0 {
        return PValue::from_p(1.0);
    }
    let p = ChiSquared::new(dof).map_or(f64::NAN, |d| d.sf(statistic));
    if p > 0.0 {
        PValue::from_p(p)
    } else {
        // Leading term of the asymptotic expansion of Q(k/2, x/2):
        // ln Q ≈ (k/2 − 1) ln(x/2) − x/2 − ln Γ(k/2).
        let a = dof / 2.0;
        let x = statistic / 2.0;
        PValue::from_ln_p((a - 1.0) * x.ln() - x - statrs::function::gamma::ln_gamma(a))
    }
}

/// Two-sided p-value of a standard normal statistic, with `ln p` kept when `p` underflows.
pub(crate) fn normal_two_sided(z: f64) -> PValue {
    if z.is_nan() {
        return PValue::from_p(1.0);
    }
    let a = z.abs();
    let p = Normal::standard().sf(a) * 2.0;
    if p > 0.0 {
        PValue::from_p(p)
    } else {
        // Mills ratio: sf(a) ≈ φ(a)/a.
        PValue::from_ln_p(
            std::f64::consts::LN_2 - a * a / 2.0 - a.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln(),
        )
    }
}

/// The pooled two-proportion z-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZTestResult {
    /// `z = (p_ref − p_cur) / sqrt(P (1 − P) (1/n_ref + 1/n_cur))`, 0 when `P` is 0 or 1.
    pub statistic: f64,
    /// Two-sided p-value, `2 · Φ(−|z|)`.
    pub p_value: PValue,
    /// The reference proportion.
    pub proportion_reference: f64,
    /// The current proportion.
    pub proportion_current: f64,
    /// The pooled proportion `P`.
    pub pooled: f64,
    /// Reference sample size.
    pub n_reference: u64,
    /// Current sample size.
    pub n_current: u64,
}

impl ZTestResult {
    /// Whether `p < alpha`.
    #[must_use]
    pub fn drifted(&self, alpha: f64) -> bool {
        self.p_value.p < alpha
    }
}

/// Two-proportion z-test (pooled variance, two-sided): the test Evidently uses for binary
/// columns and the one this crate uses for missing-share drift. When both samples are all
/// successes or all failures the statistic is 0 and p is 1.
///
/// # Errors
/// [`DriftError::EmptySample`] if a size is 0; [`DriftError::InvalidParameter`] if successes
/// exceed the size.
pub fn two_proportion_z_test(
    reference_successes: u64,
    n_reference: u64,
    current_successes: u64,
    n_current: u64,
) -> Result<ZTestResult> {
    for (s, n, which) in [
        (reference_successes, n_reference, Sample::Reference),
        (current_successes, n_current, Sample::Current),
    ] {
        if n == 0 {
            return Err(DriftError::EmptySample { which });
        }
        if s > n {
            return Err(DriftError::InvalidParameter {
                name: "successes",
                reason: format!("{s} successes out of {n} in the {which} sample"),
            });
        }
    }
    let (n1, n2) = (n_reference as f64, n_current as f64);
    let p1 = reference_successes as f64 / n1;
    let p2 = current_successes as f64 / n2;
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    let statistic = if var > 0.0 {
        (p1 - p2) / var.sqrt()
    } else {
        0.0
    };
    Ok(ZTestResult {
        statistic,
        p_value: normal_two_sided(statistic),
        proportion_reference: p1,
        proportion_current: p2,
        pooled,
        n_reference,
        n_current,
    })
}

/// How [`fisher_exact`] computed its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FisherMethod {
    /// The exact hypergeometric sum (SciPy's `fisher_exact`).
    #[default]
    Exact,
    /// The normal approximation with continuity correction, for tables whose hypergeometric
    /// variance exceeds [`FISHER_EXACT_MAX_VARIANCE`].
    NormalApproximation,
}

/// Fisher's exact test on a 2×2 table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisherResult {
    /// The sample odds ratio `a·d / (b·c)` (`inf` when `b·c = 0`, NaN when a margin is 0).
    #[serde(with = "mlops_core::float_serde")]
    pub odds_ratio: f64,
    /// Two-sided p-value.
    pub p_value: PValue,
    /// How the p-value was computed.
    #[serde(default)]
    pub method: FisherMethod,
}

impl FisherResult {
    /// Whether `p < alpha` (use [`DEFAULT_ALPHA`]).
    #[must_use]
    pub fn drifted(&self, alpha: f64) -> bool {
        self.p_value.p < alpha
    }
}

/// Fisher's exact test, two-sided, on `[[a, b], [c, d]]`: `scipy.stats.fisher_exact(table)`.
/// The p-value sums the hypergeometric probabilities of the tables no more likely than the
/// observed one (relative tolerance 1e-14, as SciPy); a zero margin gives p = 1.
///
/// For a binary column, put the reference counts of the two categories in the first row and
/// the current counts in the second.
///
/// Tables whose hypergeometric variance exceeds [`FISHER_EXACT_MAX_VARIANCE`] get the normal
/// approximation ([`FisherMethod::NormalApproximation`]), so the cost is bounded whatever the
/// counts.
///
/// # Errors
/// [`DriftError::LimitExceeded`] when the table's total exceeds [`FISHER_MAX_TOTAL`].
pub fn fisher_exact(table: [[u64; 2]; 2]) -> Result<FisherResult> {
    let [[a, b], [c, d]] = table;
    crate::limits::total_within("fisher table", [a, b, c, d], FISHER_MAX_TOTAL)?;
    if a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0 {
        return Ok(FisherResult {
            odds_ratio: f64::NAN,
            p_value: PValue::from_p(1.0),
            method: FisherMethod::Exact,
        });
    }
    let odds_ratio = if c > 0 && b > 0 {
        (a as f64 * d as f64) / (c as f64 * b as f64)
    } else {
        f64::INFINITY
    };
    // Hypergeometric over x = table[0][0] with row sums n1, n2 and first column n.
    let (n1, n2, n) = (a + b, c + d, a + c);
    if let Some(p_value) = fisher_normal_approximation(table) {
        return Ok(FisherResult {
            odds_ratio,
            p_value,
            method: FisherMethod::NormalApproximation,
        });
    }
    let lo = n.saturating_sub(n2);
    let hi = n.min(n1);
    // Unnormalised weights by the ratio recurrence from the mode, which is exact enough and
    // never overflows: w(x+1)/w(x) = (n1 − x)(n − x) / ((x + 1)(n2 − n + x + 1)).
    let mode = (((n + 1) as f64 * (n1 + 1) as f64) / ((n1 + n2 + 2) as f64)) as u64;
    let mode = mode.clamp(lo, hi);
    let ratio_up = |x: u64| -> f64 {
        ((n1 - x) as f64 * (n - x) as f64) / ((x + 1) as f64 * ((n2 + x + 1) - n) as f64)
    };
    // The weights fall monotonically away from the mode (where the weight is 1), so each walk
    // stops once they become negligible (subnormal products may never reach 0); nothing is
    // allocated, whatever the counts. An observed table that far out has p < 1e-290.
    const NEGLIGIBLE: f64 = 1e-300;
    let w_obs = {
        let mut w = 1.0;
        if a >= mode {
            for x in mode..a {
                w *= ratio_up(x);
                if w < NEGLIGIBLE {
                    break;
                }
            }
        } else {
            for x in (a..mode).rev() {
                w /= ratio_up(x);
                if w < NEGLIGIBLE {
                    break;
                }
            }
        }
        if w < NEGLIGIBLE { 0.0 } else { w }
    };
    let cutoff = w_obs * (1.0 + 1e-14);
    let (mut total, mut below) = (1.0f64, if 1.0 <= cutoff { 1.0f64 } else { 0.0 });
    let mut w = 1.0;
    for x in mode..hi {
        w *= ratio_up(x);
        if w < NEGLIGIBLE {
            break;
        }
        total += w;
        if w <= cutoff {
            below += w;
        }
    }
    w = 1.0;
    for x in (lo..mode).rev() {
        w /= ratio_up(x);
        if w < NEGLIGIBLE {
            break;
        }
        total += w;
        if w <= cutoff {
            below += w;
        }
    }
    let p = if (1.0 - w_obs).abs() / w_obs.max(1.0) <= 1e-14 {
        1.0
    } else {
        (below / total).min(1.0)
    };
    Ok(FisherResult {
        odds_ratio,
        p_value: PValue::from_p(p),
        method: FisherMethod::Exact,
    })
}

/// The two-sided p-value `2 Φ(−(|a − μ| − ½) / σ)` of a table (margins all positive, total at
/// most [`FISHER_MAX_TOTAL`]) whose hypergeometric variance `σ²` exceeds
/// [`FISHER_EXACT_MAX_VARIANCE`]; `None` below it. `a − μ = (ad − bc) / N` is formed exactly
/// in integers.
fn fisher_normal_approximation(table: [[u64; 2]; 2]) -> Option<PValue> {
    let [[a, b], [c, d]] = table;
    let (n1, n2, n, m) = (a + b, c + d, a + c, b + d);
    let total = (n1 + n2) as f64;
    let variance = n1 as f64 * n2 as f64 * (n as f64 * m as f64) / (total * total * (total - 1.0));
    if variance.is_nan() || variance <= FISHER_EXACT_MAX_VARIANCE {
        return None;
    }
    let ad = u128::from(a) * u128::from(d);
    let bc = u128::from(b) * u128::from(c);
    let deviation = ad.abs_diff(bc) as f64 / total;
    let z = (deviation - 0.5).max(0.0) / variance.sqrt();
    Some(normal_two_sided(z))
}

/// [`fisher_exact`] on a binary column given as two label slices: the table is
/// `[[reference counts], [current counts]]` over the sorted categories (a single category gets an
/// empty second column).
///
/// # Errors
/// [`DriftError::EmptySample`] for an empty slice, [`DriftError::InvalidParameter`] when the
/// union has more than two categories.
pub fn fisher_exact_labels<L: Ord + Clone>(reference: &[L], current: &[L]) -> Result<FisherResult> {
    let t = CategoryTable::from_labels(reference, current);
    check_counts(&t.reference, Sample::Reference)?;
    check_counts(&t.current, Sample::Current)?;
    let cell = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    if t.categories.len() > 2 {
        return Err(DriftError::InvalidParameter {
            name: "categories",
            reason: format!(
                "Fisher's exact test needs at most 2 categories, got {}",
                t.categories.len()
            ),
        });
    }
    fisher_exact([
        [cell(&t.reference, 0), cell(&t.reference, 1)],
        [cell(&t.current, 0), cell(&t.current, 1)],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_category_is_no_drift() {
        let r = chi2_homogeneity(&[10, 0], &[5, 0]).unwrap();
        assert_eq!((r.statistic, r.p_value.p, r.dof), (0.0, 1.0, 0));
    }

    #[test]
    fn unseen_category_is_finite() {
        let r = chi2_homogeneity_labels(&["a", "b", "a"], &["a", "zz", "zz"]).unwrap();
        assert!(r.statistic.is_finite() && r.p_value.p > 0.0);
        let t = CategoryTable::from_labels(&["a", "b"], &["a", "zz"]);
        assert_eq!(t.new_categories(), vec![&"zz"]);
        assert_eq!(t.vanished_categories(), vec![&"b"]);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            chi2_homogeneity(&[1], &[1, 2]),
            Err(DriftError::Shape { .. })
        ));
        assert!(matches!(
            chi2_homogeneity(&[1, 2], &[0, 0]),
            Err(DriftError::EmptySample {
                which: Sample::Current
            })
        ));
        assert!(matches!(
            two_proportion_z_test(3, 2, 1, 1),
            Err(DriftError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn tiny_p_values_keep_their_log() {
        let r = chi2_homogeneity(&[100_000, 0], &[0, 100_000]).unwrap();
        assert_eq!(r.p_value.p, 0.0);
        assert!(r.p_value.ln_p.is_finite() && r.p_value.ln_p < -1000.0);
        let z = two_proportion_z_test(100_000, 100_000, 0, 100_000).unwrap();
        assert!(z.p_value.ln_p.is_finite() && z.p_value.ln_p < -1000.0);
    }

    #[test]
    fn fisher_on_huge_tables_finishes() {
        // The hypergeometric weights become subnormal far from the mode; the walk must stop.
        let f = fisher_exact([[9_999_999_999, 1], [1, 9_999_999_999]]).unwrap();
        assert_eq!(f.p_value.p, 0.0);
        let f = fisher_exact([
            [5_000_000_000, 5_000_000_001],
            [5_000_000_000, 5_000_000_000],
        ])
        .unwrap();
        assert!(f.p_value.p > 0.9);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn p_values_in_unit_interval(
            r in prop::collection::vec(0u64..40, 1..6),
            c in prop::collection::vec(0u64..40, 1..6),
            a in 0u64..30, b in 0u64..30, cc in 0u64..30, d in 0u64..30,
        ) {
            let k = r.len().min(c.len());
            let (r, c) = (&r[..k], &c[..k]);
            prop_assume!(r.iter().sum::<u64>() > 0 && c.iter().sum::<u64>() > 0);
            for res in [chi2_homogeneity(r, c).unwrap(), g_test(r, c).unwrap()] {
                prop_assert!((0.0..=1.0).contains(&res.p_value.p));
                prop_assert!(res.statistic >= 0.0 && res.statistic.is_finite());
            }
            // Swapping the rows leaves the homogeneity statistic unchanged.
            let s1 = chi2_homogeneity(r, c).unwrap().statistic;
            let s2 = chi2_homogeneity(c, r).unwrap().statistic;
            prop_assert!((s1 - s2).abs() <= 1e-9 * s1.max(1.0));
            let f = fisher_exact([[a, b], [cc, d]]).unwrap();
            prop_assert!((0.0..=1.0).contains(&f.p_value.p));
            let f2 = fisher_exact([[b, a], [d, cc]]).unwrap();
            prop_assert!((f.p_value.p - f2.p_value.p).abs() < 1e-9);
        }
    }
}
