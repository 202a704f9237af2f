//! Location tests: Welch's t-test (unequal variances) and the Mann–Whitney U test, as SciPy
//! computes them.
//!
//! * [`welch_t_test`] — `scipy.stats.ttest_ind(reference, current, equal_var=False,
//!   alternative=...)`. Each sample needs at least two values. When both samples are constant
//!   the statistic is 0 and p is 1 if their values are equal; otherwise the statistic is ±∞ and
//!   p is 0 (SciPy returns NaN in both cases).
//! * [`mann_whitney_u`] — `scipy.stats.mannwhitneyu(reference, current)` with its defaults:
//!   two-sided, `method='auto'` (exact null distribution when one sample has at most 8 values and
//!   there are no ties, otherwise the normal approximation with tie correction and continuity
//!   correction). The statistic is `U1`, the U of the reference sample.
//!
//! ```
//! use mlops_drift::stats::location::mann_whitney_u;
//! let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0])?;
//! assert_eq!(r.statistic, 0.0);
//! assert!((r.p_value.p - 0.1).abs() < 1e-12); // 2 / C(6, 3)
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

use super::categorical::normal_two_sided;
use super::input::{check_finite, contiguous};
use super::{Alternative, PValue};
use crate::error::{DriftError, Result, Sample};

/// Welch's unequal-variances t-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelchResult {
    /// `t = (mean_ref − mean_cur) / sqrt(s²_ref/n_ref + s²_cur/n_cur)`.
    #[serde(with = "mlops_core::float_serde")]
    pub statistic: f64,
    /// The p-value under the alternative.
    pub p_value: PValue,
    /// Welch–Satterthwaite degrees of freedom.
    #[serde(with = "mlops_core::float_serde")]
    pub df: f64,
    /// The alternative tested.
    pub alternative: Alternative,
    /// Reference mean.
    pub mean_reference: f64,
    /// Current mean.
    pub mean_current: f64,
    /// Reference sample variance (ddof = 1).
    pub var_reference: f64,
    /// Current sample variance (ddof = 1).
    pub var_current: f64,
    /// Reference sample size.
    pub n_reference: usize,
    /// Current sample size.
    pub n_current: usize,
}

impl WelchResult {
    /// Whether `p < alpha` (conventionally [`super::categorical::DEFAULT_ALPHA`], 0.05).
    #[must_use]
    pub fn drifted(&self, alpha: f64) -> bool {
        self.p_value.p < alpha
    }
}

/// Welch's t-test.
///
/// # Errors
/// [`DriftError::EmptySample`] / [`DriftError::NonFinite`] for bad samples,
/// [`DriftError::InvalidParameter`] when a sample has fewer than two values.
pub fn welch_t_test(
    reference: &[f64],
    current: &[f64],
    alternative: Alternative,
) -> Result<WelchResult> {
    check_finite(reference, Sample::Reference)?;
    check_finite(current, Sample::Current)?;
    for (s, which) in [(reference, Sample::Reference), (current, Sample::Current)] {
        if s.len() < 2 {
            return Err(DriftError::InvalidParameter {
                name: "sample",
                reason: format!("the {which} sample needs at least two values for a t-test"),
            });
        }
    }
    let (m1, v1) = mean_var(reference);
    let (m2, v2) = mean_var(current);
    if ![m1, v1, m2, v2].iter().all(|x| x.is_finite()) {
        return Err(DriftError::Numerical {
            method: "welch_t_test",
            reason: "the sample mean or variance overflows f64 (values beyond about 1e154)".into(),
        });
    }
    let (n1, n2) = (reference.len() as f64, current.len() as f64);
    let (vn1, vn2) = (v1 / n1, v2 / n2);
    let df_raw = (vn1 + vn2).powi(2) / (vn1 * vn1 / (n1 - 1.0) + vn2 * vn2 / (n2 - 1.0));
    let df = if df_raw.is_nan() { 1.0 } else { df_raw };
    let denom = (vn1 + vn2).sqrt();
    let (statistic, p_value) = if denom > 0.0 {
        let t = (m1 - m2) / denom;
        (t, t_p_value(t, df, alternative))
    } else if m1 == m2 {
        (0.0, PValue::from_p(1.0))
    } else {
        let t = if m1 > m2 {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        let p = match alternative {
            Alternative::TwoSided => 0.0,
            Alternative::Less => f64::from(u8::from(t > 0.0)),
            Alternative::Greater => f64::from(u8::from(t < 0.0)),
        };
        (t, PValue::from_p(p))
    };
    Ok(WelchResult {
        statistic,
        p_value,
        df,
        alternative,
        mean_reference: m1,
        mean_current: m2,
        var_reference: v1,
        var_current: v2,
        n_reference: reference.len(),
        n_current: current.len(),
    })
}

/// [`welch_t_test`] on `ndarray` views.
///
/// # Errors
/// As [`welch_t_test`].
pub fn welch_t_test_view(
    reference: ArrayView1<'_, f64>,
    current: ArrayView1<'_, f64>,
    alternative: Alternative,
) -> Result<WelchResult> {
    welch_t_test(&contiguous(reference), &contiguous(current), alternative)
}

fn t_p_value(t: f64, df: f64, alternative: Alternative) -> PValue {
    if t.is_nan() {
        return PValue::from_p(1.0);
    }
    // statrs panics outside the support of its incomplete beta: keep to finite t and df, and
    // use the normal limit when df overflowed.
    let student = if df.is_finite() {
        StudentsT::new(0.0, 1.0, df).ok()
    } else {
        None
    };
    let sf = |x: f64| -> f64 {
        if x.is_infinite() {
            f64::from(u8::from(x < 0.0))
        } else if let Some(d) = &student {
            d.sf(x)
        } else {
            Normal::standard().sf(x)
        }
    };
    let (x, factor) = match alternative {
        Alternative::TwoSided => (t.abs(), 2.0),
        // cdf(t) = sf(−t) by symmetry.
        Alternative::Less => (-t, 1.0),
        Alternative::Greater => (t, 1.0),
    };
    let p = (factor * sf(x)).min(1.0);
    if p > 0.0 || x.is_infinite() || !df.is_finite() {
        return PValue::from_p(p);
    }
    // The tail underflowed: keep its log from the leading term of the t tail,
    // sf(x) ≈ c · ν^((ν+1)/2) · x^(−ν) / ν with c = Γ((ν+1)/2) / (√(νπ) Γ(ν/2)).
    PValue::from_ln_p(factor.ln() + t_ln_sf_tail(x, df))
}

/// `ln sf(x)` of Student's t with `nu` degrees of freedom, leading term for large `x`.
fn t_ln_sf_tail(x: f64, nu: f64) -> f64 {
    let ln_c =
        ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - 0.5 * (nu * std::f64::consts::PI).ln();
    ln_c + (nu + 1.0) / 2.0 * nu.ln() - nu * x.ln() - nu.ln()
}

/// Mean and sample variance (ddof = 1), two-pass like NumPy.
fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// How the Mann–Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MannWhitneyMethod {
    /// The exact null distribution of U.
    Exact,
    /// The normal approximation with tie and continuity corrections.
    Asymptotic,
}

/// The Mann–Whitney U test, two-sided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitneyResult {
    /// `U1 = R1 − n1(n1+1)/2`, the U statistic of the reference sample (midranks for ties).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: PValue,
    /// The standardised statistic of the normal approximation (with continuity correction),
    /// whichever method gave the p-value.
    #[serde(with = "mlops_core::float_serde")]
    pub z: f64,
    /// How the p-value was computed.
    pub method_used: MannWhitneyMethod,
    /// Whether the pooled sample has ties.
    pub ties: bool,
    /// Reference sample size.
    pub n_reference: usize,
    /// Current sample size.
    pub n_current: usize,
}

impl MannWhitneyResult {
    /// Whether `p < alpha` (conventionally [`super::categorical::DEFAULT_ALPHA`], 0.05).
    #[must_use]
    pub fn drifted(&self, alpha: f64) -> bool {
        self.p_value.p < alpha
    }
}

/// The Mann–Whitney U test with SciPy's defaults (two-sided, `method='auto'`, continuity
/// correction).
///
/// # Errors
/// [`DriftError::EmptySample`] / [`DriftError::NonFinite`] for bad samples.
pub fn mann_whitney_u(reference: &[f64], current: &[f64]) -> Result<MannWhitneyResult> {
    check_finite(reference, Sample::Reference)?;
    check_finite(current, Sample::Current)?;
    let (n1, n2) = (reference.len(), current.len());
    // Pool, sort (reference first among equals: irrelevant for midranks) and rank.
    let mut pooled: Vec<(f64, bool)> = reference
        .iter()
        .map(|&x| (x, true))
        .chain(current.iter().map(|&x| (x, false)))
        .collect();
    pooled.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut r1 = 0.0;
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut start = 0usize;
    while let Some(&(value, _)) = pooled.get(start) {
        let group = pooled
            .get(start..)
            .map_or(0, |rest| {
                rest.iter().take_while(|(v, _)| *v == value).count()
            })
            .max(1);
        // Ranks start..start+group (1-based): their average.
        let avg_rank = start as f64 + (group as f64 + 1.0) / 2.0;
        let from_ref = pooled
            .get(start..start + group)
            .map_or(0, |g| g.iter().filter(|(_, r)| *r).count());
        r1 += avg_rank * from_ref as f64;
        if group > 1 {
            ties = true;
            let t = group as f64;
            tie_term += t * t * t - t;
        }
        start += group;
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let u = u1.max(u2);
    let n = f1 + f2;
    let mu = f1 * f2 / 2.0;
    let s = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    let z = (u - mu - 0.5) / s;
    let method_used = if (n1 > 8 && n2 > 8) || ties {
        MannWhitneyMethod::Asymptotic
    } else {
        MannWhitneyMethod::Exact
    };
    let p_value = match method_used {
        MannWhitneyMethod::Exact => {
            // P(U ≥ u) = P(U ≤ n1·n2 − u) by symmetry; U is an integer without ties.
            let kc = (f1 * f2 - u).round().max(0.0) as usize;
            PValue::from_p((2.0 * exact_u_cdf(n1.min(n2), n1.max(n2), kc)).min(1.0))
        }
        MannWhitneyMethod::Asymptotic => {
            if z.is_nan() || z <= 0.0 {
                // U at (or within the continuity correction of) its mean, or no spread.
                PValue::from_p(if z.is_nan() || z < 0.0 {
                    1.0
                } else {
                    (2.0 * Normal::standard().cdf(-z)).min(1.0)
                })
            } else {
                normal_two_sided(z)
            }
        }
    };
    Ok(MannWhitneyResult {
        statistic: u1,
        p_value,
        z,
        method_used,
        ties,
        n_reference: n1,
        n_current: n2,
    })
}

/// [`mann_whitney_u`] on `ndarray` views.
///
/// # Errors
/// As [`mann_whitney_u`].
pub fn mann_whitney_u_view(
    reference: ArrayView1<'_, f64>,
    current: ArrayView1<'_, f64>,
) -> Result<MannWhitneyResult> {
    mann_whitney_u(&contiguous(reference), &contiguous(current))
}

/// `P(U ≤ k)` under the null for sample sizes `m ≤ n` without ties: the coefficients of the
/// Gaussian binomial `[m+n choose m]_q` (the number of arrangements with each U), built as
/// `Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i)` and truncated at degree `k`. Exact in `i128` while the
/// total number of arrangements stays below 1e36, in `f64` beyond.
fn exact_u_cdf(m: usize, n: usize, k: usize) -> f64 {
    let total_f = ln_binomial(m + n, m).exp();
    if total_f < 1e36 {
        let mut poly = vec![0i128; k + 1];
        if let Some(c) = poly.first_mut() {
            *c = 1;
        }
        for i in 1..=m {
            // Multiply by (1 − q^{n+i}), from the top down.
            let a = n + i;
            for u in (a..=k).rev() {
                let sub = poly.get(u - a).copied().unwrap_or(0);
                if let Some(c) = poly.get_mut(u) {
                    *c -= sub;
                }
            }
            // Divide by (1 − q^i): prefix sums with stride i, bottom up.
            for u in i..=k {
                let add = poly.get(u - i).copied().unwrap_or(0);
                if let Some(c) = poly.get_mut(u) {
                    *c += add;
                }
            }
        }
        let below: i128 = poly.iter().sum();
        let total = binomial_i128(m + n, m);
        below as f64 / total as f64
    } else {
        let mut poly = vec![0.0f64; k + 1];
        if let Some(c) = poly.first_mut() {
            *c = 1.0;
        }
        for i in 1..=m {
            let a = n + i;
            for u in (a..=k).rev() {
                let sub = poly.get(u - a).copied().unwrap_or(0.0);
                if let Some(c) = poly.get_mut(u) {
                    *c -= sub;
                }
            }
            for u in i..=k {
                let add = poly.get(u - i).copied().unwrap_or(0.0);
                if let Some(c) = poly.get_mut(u) {
                    *c += add;
                }
            }
        }
        poly.iter().sum::<f64>() / total_f
    }
}

fn binomial_i128(n: usize, k: usize) -> i128 {
    let k = k.min(n - k);
    let mut r: i128 = 1;
    for i in 0..k {
        r = r * (n - i) as i128 / (i + 1) as i128;
    }
    r
}

fn ln_binomial(n: usize, k: usize) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_distribution_small() {
        // U for m = 2, n = 2: arrangements per U = [1, 1, 2, 1, 1] over C(4, 2) = 6.
        assert!((exact_u_cdf(2, 2, 0) - 1.0 / 6.0).abs() < 1e-15);
        assert!((exact_u_cdf(2, 2, 2) - 4.0 / 6.0).abs() < 1e-15);
        assert!((exact_u_cdf(2, 2, 4) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn exact_f64_path_agrees_with_the_integer_path_and_the_normal_limit() {
        // C(m+n, m) beyond 1e36 switches to f64 coefficients; the cdf must stay a probability
        // close to the normal approximation for such a lopsided design.
        for (m, n, f64_path) in [(8usize, 200_000usize, true), (8, 20_000, false)] {
            assert_eq!(ln_binomial(m + n, m).exp() >= 1e36, f64_path);
            let mean = (m * n) as f64 / 2.0;
            let sd = ((m * n) as f64 * (m + n + 1) as f64 / 12.0).sqrt();
            let k = (mean - 1.5 * sd) as usize;
            let exact = exact_u_cdf(m, n, k);
            let normal = Normal::standard().cdf((k as f64 + 0.5 - mean) / sd);
            assert!(
                (exact - normal).abs() < 0.01,
                "{m} {n}: {exact} vs {normal}"
            );
        }
    }

    #[test]
    fn constant_samples() {
        let r = welch_t_test(&[1.0, 1.0], &[1.0, 1.0, 1.0], Alternative::TwoSided).unwrap();
        assert_eq!((r.statistic, r.p_value.p), (0.0, 1.0));
        let r = welch_t_test(&[1.0, 1.0], &[2.0, 2.0], Alternative::TwoSided).unwrap();
        assert_eq!((r.statistic, r.p_value.p), (f64::NEG_INFINITY, 0.0));
        let m = mann_whitney_u(&[1.0; 20], &[1.0; 20]).unwrap();
        assert_eq!(m.p_value.p, 1.0);
        assert!(matches!(
            welch_t_test(&[1.0], &[1.0, 2.0], Alternative::TwoSided),
            Err(DriftError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn t_tail_approximation_matches_where_sf_is_representable() {
        for (nu, x) in [(5.0, 1e30), (50.0, 1e5), (2.5, 1e40)] {
            let exact = StudentsT::new(0.0, 1.0, nu).unwrap().sf(x).ln();
            let approx = t_ln_sf_tail(x, nu);
            assert!(
                (exact - approx).abs() < 1e-6 * exact.abs(),
                "{nu} {x}: {exact} vs {approx}"
            );
        }
    }

    #[test]
    fn underflowing_t_tail_keeps_its_log() {
        let a: Vec<f64> = (0..200).map(|i| f64::from(i % 7) * 1e-9).collect();
        let b: Vec<f64> = (0..200).map(|i| 1.0 + f64::from(i % 5) * 1e-9).collect();
        let r = welch_t_test(&a, &b, Alternative::TwoSided).unwrap();
        assert_eq!(r.p_value.p, 0.0);
        assert!(r.p_value.ln_p.is_finite() && r.p_value.ln_p < -700.0);
        let less = welch_t_test(&a, &b, Alternative::Less).unwrap();
        assert!((less.p_value.ln_p - (r.p_value.ln_p - std::f64::consts::LN_2)).abs() < 1e-9);
        assert_eq!(
            welch_t_test(&a, &b, Alternative::Greater)
                .unwrap()
                .p_value
                .p,
            1.0
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn u_statistics_are_complementary(
            a in prop::collection::vec(-100.0f64..100.0, 1..30),
            b in prop::collection::vec(-100.0f64..100.0, 1..30),
        ) {
            let ab = mann_whitney_u(&a, &b).unwrap();
            let ba = mann_whitney_u(&b, &a).unwrap();
            let prod = (a.len() * b.len()) as f64;
            prop_assert!((ab.statistic + ba.statistic - prod).abs() < 1e-9);
            prop_assert!((ab.p_value.p - ba.p_value.p).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&ab.p_value.p));
            if a.len() >= 2 && b.len() >= 2 {
                let w = welch_t_test(&a, &b, Alternative::TwoSided).unwrap();
                prop_assert!((0.0..=1.0).contains(&w.p_value.p));
            }
        }
    }
}
