//! Two-sample Kolmogorov–Smirnov test, agreeing with `scipy.stats.ks_2samp` (SciPy 1.17).
//!
//! The statistic is the largest distance between the two empirical CDFs. Both samples are
//! sorted once (by [`f64::total_cmp`]) and walked together; [`ks_2samp_sorted`] skips the sort
//! for samples that are already ascending (a fitted reference profile keeps its sample sorted).
//!
//! # p-values
//!
//! * [`KsMethod::Exact`] counts lattice paths exactly as SciPy does: the two-sided p for equal
//!   sizes by the alternating binomial series, for unequal sizes by Hodges' "inside" recursion
//!   (Viehmann's stable form); one-sided p for equal sizes as a product, for unequal sizes by
//!   counting paths outside the boundary. When SciPy's exact computation fails (floating-point
//!   overflow or a result outside [0, 1]; or, for an explicit `Exact`, `lcm(n1, n2)` too large),
//!   it falls back to the asymptotic method and so does this function; [`KsResult::method_used`]
//!   says which method produced the p-value.
//! * [`KsMethod::Asymptotic`]: two-sided, the exact one-sample Kolmogorov distribution `kstwo`
//!   at `n = round(n1 n2 / (n1 + n2))`; one-sided, Hodges' approximation (his eq. 5.3).
//! * [`KsMethod::Auto`] is exact when `max(n1, n2) <= 10_000` and asymptotic otherwise.
//!
//! `ln p` is computed in log space where the method allows (equal-size exact tails, one-sided
//! asymptotic, the Smirnov tail of `kstwo`), so it stays finite where `p` underflows.
//!
//! # Non-finite values
//!
//! NaN is rejected with [`DriftError::NonFinite`] (the NaN policy is applied before this point).
//! `±inf` are ordinary, extreme values for this order-based test: `-inf` sorts first, `+inf`
//! last, and equal infinities tie. Note SciPy's special case: with one value on each side and the
//! asymptotic two-sided method, `round(0.5) = 0` and SciPy's p-value is NaN; this function
//! reproduces that (`p` and `ln_p` are NaN) rather than invent a value.

use serde::{Deserialize, Serialize};

use super::{Alternative, PValue};
use crate::error::{DriftError, Result, Sample};

mod kolmogorov;

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KsMethod {
    /// Exact when `max(n1, n2) <= 10_000`, asymptotic otherwise (SciPy's `'auto'`).
    #[default]
    Auto,
    /// Exact lattice-path counting (SciPy's `'exact'`), falling back to asymptotic where SciPy
    /// does.
    Exact,
    /// Asymptotic distribution (SciPy's `'asymp'`).
    Asymptotic,
}

/// Options of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct KsOptions {
    /// The alternative hypothesis (default two-sided).
    pub alternative: Alternative,
    /// How the p-value is computed (default [`KsMethod::Auto`]).
    pub method: KsMethod,
}

/// The result of a two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// The KS statistic for the chosen alternative, in [0, 1].
    pub statistic: f64,
    /// The p-value and its log.
    pub p_value: PValue,
    /// The value (from either sample) at which the statistic is attained.
    pub statistic_location: f64,
    /// `+1` if the reference ECDF exceeds the current one there, `-1` otherwise (SciPy's
    /// `statistic_sign`).
    pub statistic_sign: i8,
    /// The method that produced the p-value: [`KsMethod::Exact`] or [`KsMethod::Asymptotic`]
    /// (after resolving `Auto` and any fallback).
    pub method_used: KsMethod,
    /// Size of the reference sample.
    pub n_reference: usize,
    /// Size of the current sample.
    pub n_current: usize,
}

/// Largest sample size for which `Auto` computes the exact p-value (SciPy's `MAX_AUTO_N`).
pub const MAX_AUTO_N: usize = 10_000;

/// Two-sample Kolmogorov–Smirnov test of `reference` against `current`, as
/// `scipy.stats.ks_2samp(reference, current, alternative, method)`.
///
/// ```
/// use mlops_drift::stats::ks::{ks_2samp, KsOptions};
/// let reference = [0.1, 0.4, 0.35, 0.8];
/// let current = [1.1, 1.4, 0.9, 1.3, 1.2];
/// let r = ks_2samp(&reference, &current, KsOptions::default())?;
/// assert_eq!(r.statistic, 1.0);
/// assert!(r.p_value.p < 0.05);
/// # Ok::<(), mlops_drift::DriftError>(())
/// ```
///
/// # Errors
///
/// [`DriftError::EmptySample`] if either sample is empty; [`DriftError::NonFinite`] if either
/// holds a NaN.
pub fn ks_2samp(reference: &[f64], current: &[f64], options: KsOptions) -> Result<KsResult> {
    check_input(reference, Sample::Reference)?;
    check_input(current, Sample::Current)?;
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    Ok(ks_sorted_unchecked(&a, &b, options))
}

/// [`ks_2samp`] for samples that are already sorted ascending; they are not re-sorted.
///
/// # Errors
///
/// [`DriftError::EmptySample`] if either sample is empty; [`DriftError::NonFinite`] if either
/// holds a NaN; [`DriftError::InvalidParameter`] if either is not sorted ascending.
pub fn ks_2samp_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    options: KsOptions,
) -> Result<KsResult> {
    check_sorted_input(reference_sorted, Sample::Reference)?;
    check_sorted_input(current_sorted, Sample::Current)?;
    Ok(ks_sorted_unchecked(
        reference_sorted,
        current_sorted,
        options,
    ))
}

fn check_input(x: &[f64], which: Sample) -> Result<()> {
    if x.is_empty() {
        return Err(DriftError::EmptySample { which });
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| v.is_nan()) {
        return Err(DriftError::NonFinite {
            which,
            index,
            value,
        });
    }
    Ok(())
}

/// Rejects empty, NaN-holding and unsorted input in one pass.
pub(crate) fn check_sorted_input(x: &[f64], which: Sample) -> Result<()> {
    let Some(&first) = x.first() else {
        return Err(DriftError::EmptySample { which });
    };
    let mut prev = first;
    let mut unsorted = false;
    for (index, &value) in x.iter().enumerate() {
        if value.is_nan() {
            return Err(DriftError::NonFinite {
                which,
                index,
                value,
            });
        }
        unsorted |= value < prev;
        prev = value;
    }
    if unsorted {
        return Err(DriftError::InvalidParameter {
            name: match which {
                Sample::Reference => "reference_sorted",
                Sample::Current => "current_sorted",
            },
            reason: "the sample is not sorted ascending".to_owned(),
        });
    }
    Ok(())
}

/// The extremes of the ECDF difference, with SciPy's tie rules for their location.
struct Extremes {
    max: f64,
    max_loc: f64,
    min: f64,
    min_loc: f64,
}

/// One running extreme: SciPy takes `argmax` over `concat(sorted a, sorted b)`, so among equal
/// values the first position wins — any value of `a` before any value of `b`, smaller values
/// first within each.
#[derive(Clone, Copy)]
struct Best {
    value: f64,
    loc: f64,
    seen: bool,
}

impl Best {
    const NONE: Self = Self {
        value: 0.0,
        loc: f64::NAN,
        seen: false,
    };

    #[inline]
    fn offer_max(&mut self, d: f64, at: f64) {
        if !self.seen || d > self.value {
            *self = Self {
                value: d,
                loc: at,
                seen: true,
            };
        }
    }

    #[inline]
    fn offer_min(&mut self, d: f64, at: f64) {
        if !self.seen || d < self.value {
            *self = Self {
                value: d,
                loc: at,
                seen: true,
            };
        }
    }
}

fn pick(first: Best, second: Best, prefer_larger: bool) -> (f64, f64) {
    match (first.seen, second.seen) {
        (true, true) => {
            let second_wins = if prefer_larger {
                second.value > first.value
            } else {
                second.value < first.value
            };
            if second_wins {
                (second.value, second.loc)
            } else {
                (first.value, first.loc)
            }
        }
        (true, false) => (first.value, first.loc),
        (false, _) => (second.value, second.loc),
    }
}

/// Merge-walks two ascending samples and finds the extremes of `ECDF_a - ECDF_b` over the
/// pooled values, evaluated as SciPy does (`searchsorted(side='right') / n`).
fn ecdf_extremes(a: &[f64], b: &[f64]) -> Extremes {
    let n1 = a.len() as f64;
    let n2 = b.len() as f64;
    let (mut i, mut j) = (0_usize, 0_usize);
    let (mut max_a, mut max_b, mut min_a, mut min_b) =
        (Best::NONE, Best::NONE, Best::NONE, Best::NONE);
    loop {
        // The next distinct pooled value.
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => {
                if x <= y {
                    x
                } else {
                    y
                }
            }
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let in_a = a.get(i).is_some_and(|&x| x == v);
        let in_b = b.get(j).is_some_and(|&y| y == v);
        while a.get(i).is_some_and(|&x| x == v) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y == v) {
            j += 1;
        }
        let d = (i as f64) / n1 - (j as f64) / n2;
        if in_a {
            max_a.offer_max(d, v);
            min_a.offer_min(d, v);
        } else if in_b {
            max_b.offer_max(d, v);
            min_b.offer_min(d, v);
        }
    }
    let (max, max_loc) = pick(max_a, max_b, true);
    let (min, min_loc) = pick(min_a, min_b, false);
    Extremes {
        max,
        max_loc,
        min,
        min_loc,
    }
}

fn ks_sorted_unchecked(a: &[f64], b: &[f64], options: KsOptions) -> KsResult {
    let n1 = a.len();
    let n2 = b.len();
    let ext = ecdf_extremes(a, b);
    let min_s = (-ext.min).clamp(0.0, 1.0);
    let max_s = ext.max;
    let (mut d, location, sign) = match options.alternative {
        Alternative::Less => (min_s, ext.min_loc, -1_i8),
        Alternative::TwoSided if min_s > max_s => (min_s, ext.min_loc, -1_i8),
        Alternative::TwoSided | Alternative::Greater => (max_s, ext.max_loc, 1_i8),
    };

    let g = gcd(n1 as u64, n2 as u64);
    let n1g = n1 as u64 / g;
    let n2g = n2 as u64 / g;
    let mut method = match options.method {
        KsMethod::Auto if n1.max(n2) <= MAX_AUTO_N => KsMethod::Exact,
        KsMethod::Auto | KsMethod::Asymptotic => KsMethod::Asymptotic,
        KsMethod::Exact => {
            if n1g as f64 >= f64::from(i32::MAX) / n2g as f64 {
                tracing::debug!(
                    n1,
                    n2,
                    "ks_2samp: exact p-value not possible, using asymptotic"
                );
                KsMethod::Asymptotic
            } else {
                KsMethod::Exact
            }
        }
    };
    let mut p_value = PValue { p: 1.0, ln_p: 0.0 };
    if method == KsMethod::Exact {
        let (ok, d_exact, p) = exact_p(n1 as u64, n2 as u64, g, d, options.alternative);
        d = d_exact;
        if let Some(p) = p.filter(|_| ok) {
            p_value = p;
        } else {
            tracing::debug!(
                n1,
                n2,
                "ks_2samp: exact calculation unsuccessful, using asymptotic"
            );
            method = KsMethod::Asymptotic;
        }
    }
    if method == KsMethod::Asymptotic {
        p_value = asymptotic_p(n1 as f64, n2 as f64, d, options.alternative);
    }
    KsResult {
        statistic: d,
        p_value,
        statistic_location: location,
        statistic_sign: sign,
        method_used: method,
        n_reference: n1,
        n_current: n2,
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.max(1)
}

/// Round half to even, as NumPy's `np.round`.
fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

fn pvalue_from(p: f64, ln_p: f64) -> PValue {
    if p.is_nan() {
        PValue {
            p: f64::NAN,
            ln_p: f64::NAN,
        }
    } else {
        PValue {
            p: p.clamp(0.0, 1.0),
            ln_p: ln_p.min(0.0),
        }
    }
}

fn asymptotic_p(n1: f64, n2: f64, d: f64, alternative: Alternative) -> PValue {
    let (m, n) = if n1 >= n2 { (n1, n2) } else { (n2, n1) };
    let en = m * n / (m + n);
    match alternative {
        Alternative::TwoSided => {
            let nr = round_half_even(en);
            if nr < 1.0 {
                // SciPy: kstwo.sf(d, 0) is NaN (the shape parameter must be >= 1).
                return pvalue_from(f64::NAN, f64::NAN);
            }
            let t = kolmogorov::kstwo_sf(nr as u64, d);
            pvalue_from(t.p, t.ln_p)
        }
        Alternative::Less | Alternative::Greater => {
            let z = en.sqrt() * d;
            let expt = -2.0 * z * z - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0;
            let p = expt.exp();
            pvalue_from(p, if p >= 1.0 { 0.0 } else { expt })
        }
    }
}

/// SciPy's `_attempt_exact_2kssamp`: returns (success, d rounded to the lattice, p-value).
fn exact_p(
    n1: u64,
    n2: u64,
    g: u64,
    d: f64,
    alternative: Alternative,
) -> (bool, f64, Option<PValue>) {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h_f = round_half_even(d * lcm);
    let d = h_f / lcm;
    if h_f == 0.0 {
        return (true, d, Some(PValue { p: 1.0, ln_p: 0.0 }));
    }
    let h = h_f as u64;
    let result = match alternative {
        Alternative::TwoSided => {
            if n1 == n2 {
                prob_outside_square(n1, h)
            } else {
                outer_prob_inside(n1, n2, g, h).map(|p| (p, p.ln()))
            }
        }
        Alternative::Less | Alternative::Greater => {
            if n1 == n2 {
                let ln_p: f64 = (0..h)
                    .map(|j| ((n1 - j) as f64 / (n1 as f64 + j as f64 + 1.0)).ln())
                    .sum();
                let p = (0..h).fold(1.0, |acc, j| {
                    acc * ((n1 - j) as f64 / (n1 as f64 + j as f64 + 1.0))
                });
                Some((p, if p > 0.0 { p.ln() } else { ln_p }))
            } else {
                let bin = binom((n1 + n2) as f64, n1 as f64);
                if bin.is_finite() {
                    count_paths_outside(n1, n2, g, h).and_then(|num| {
                        if num > bin || !num.is_finite() {
                            None
                        } else {
                            let p = num / bin;
                            Some((p, p.ln()))
                        }
                    })
                } else {
                    None
                }
            }
        }
    };
    match result {
        Some((p, ln_p)) if (0.0..=1.0).contains(&p) => (true, d, Some(pvalue_from(p, ln_p))),
        _ => (false, d, None),
    }
}

/// Two-sided exact p for equal sizes: `2 Σ (-1)^(k+1) binom(2n, n - k h) / binom(2n, n)` in
/// SciPy's Horner-like form. Returns (p, ln p).
fn prob_outside_square(n: u64, h: u64) -> Option<(f64, f64)> {
    let nf = n as f64;
    let hf = h as f64;
    let mut p_acc = 0.0_f64;
    let mut k = (nf / hf).floor() as i64;
    let mut ln_last = 0.0;
    while k >= 0 {
        let kf = k as f64;
        let mut p1 = 1.0_f64;
        let mut ln_p1 = 0.0_f64;
        for j in 0..h {
            let jf = j as f64;
            let num = nf - kf * hf - jf;
            let den = nf + kf * hf + jf + 1.0;
            p1 = num * p1 / den;
            if k == 0 {
                ln_p1 += (num / den).ln();
            }
        }
        if k == 0 {
            ln_last = ln_p1 + (1.0 - p_acc).ln();
        }
        p_acc = p1 * (1.0 - p_acc);
        k -= 1;
    }
    let p = 2.0 * p_acc;
    let ln_p = if p > 0.0 {
        p.ln()
    } else {
        std::f64::consts::LN_2 + ln_last
    };
    Some((p, ln_p))
}

/// SciPy's `_compute_outer_prob_inside_method`: the proportion of lattice paths from (0,0) to
/// (m,n) that leave the band |x/m - y/n| < h/lcm(m,n), computed as 1 - (inside) directly.
#[allow(clippy::indexing_slicing)] // reason: indices follow SciPy's window bookkeeping and are checked against the buffer length first
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64) / (mg as f64)).ceil() as i64;
    maxj = maxj.min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1);
    let len = usize::try_from(len_a).ok()?;
    let mut a = vec![1.0_f64; len];
    for e in a.iter_mut().take(usize::try_from(maxj).ok()?) {
        *e = 0.0;
    }
    for i in 1..=m {
        let lastminj = minj;
        let lastlen = curlen;
        minj = ((((ng * i - h) as f64) / (mg as f64)).floor() as i64 + 1).max(0);
        minj = minj.min(n);
        maxj = ((((ng * i + h) as f64) / (mg as f64)).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let width = maxj - minj;
        let shift = minj - lastminj;
        if width > len_a || shift < 0 || width - 1 + shift >= len_a {
            return None;
        }
        for jj in 0..width {
            let j = (jj + minj) as f64;
            // In bounds: jj + shift < width + shift <= len_a, checked above.
            val = (a[(jj + shift) as usize] * fi + val * j) / (fi + j);
            a[jj as usize] = val;
        }
        curlen = width;
        if lastlen > curlen {
            let start = width;
            let end = (width + (lastlen - curlen)).min(len_a);
            for e in &mut a[start as usize..end.max(start) as usize] {
                *e = 1.0;
            }
        }
    }
    a.get(usize::try_from(maxj - minj - 1).ok()?).copied()
}

/// SciPy's `_count_paths_outside_method`: the number of lattice paths from (0,0) to (m,n) that
/// reach `m y <= n x - h g` (may overflow; the caller checks).
fn count_paths_outside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let lxj = n + (mg - h).div_euclid(mg);
    if lxj <= 0 {
        return Some(binom((m + n) as f64, n as f64));
    }
    let xj: Vec<i64> = (0..lxj)
        .map(|j| (h + mg * j + ng - 1).div_euclid(ng))
        .collect();
    let mut b: Vec<f64> = Vec::with_capacity(xj.len());
    b.push(1.0);
    for (j, &xjj) in xj.iter().enumerate().skip(1) {
        let jf = j as i64;
        let mut bj = binom((xjj + jf) as f64, jf as f64);
        for (i, (&xji, &bi)) in xj.iter().zip(&b).enumerate() {
            let ii = i as i64;
            let bin = binom((xjj - xji + jf - ii) as f64, (jf - ii) as f64);
            bj -= bin * bi;
        }
        if !bj.is_finite() {
            return None;
        }
        b.push(bj);
    }
    let mut num_paths = 0.0;
    for (j, (&xjj, &bj)) in xj.iter().zip(&b).enumerate() {
        let jf = j as i64;
        let bin = binom(((m - xjj) + (n - jf)) as f64, (n - jf) as f64);
        num_paths += bj * bin;
    }
    if num_paths.is_finite() {
        Some(num_paths)
    } else {
        None
    }
}

/// Binomial coefficient for non-negative integral arguments, in floating point (overflows to
/// infinity like `scipy.special.binom`).
pub(crate) fn binom(n: f64, k: f64) -> f64 {
    if k < 0.0 || k > n {
        return 0.0;
    }
    let k = if k > n / 2.0 { n - k } else { k };
    if k < 20.0 {
        let mut num = 1.0_f64;
        let mut den = 1.0_f64;
        let kk = k as u64;
        for i in 1..=kk {
            num *= i as f64 + n - k;
            den *= i as f64;
            if num.abs() > 1e50 {
                num /= den;
                den = 1.0;
            }
        }
        return num / den;
    }
    let ln = statrs::function::gamma::ln_gamma(n + 1.0)
        - statrs::function::gamma::ln_gamma(k + 1.0)
        - statrs::function::gamma::ln_gamma(n - k + 1.0);
    ln.exp().round_if_integral()
}

trait RoundIfIntegral {
    fn round_if_integral(self) -> f64;
}

impl RoundIfIntegral for f64 {
    fn round_if_integral(self) -> f64 {
        // Below 2^53 a binomial coefficient is an integer; snapping removes the last-bit noise of
        // the log-gamma evaluation.
        if self < 9.007_199_254_740_992e15 {
            self.round()
        } else {
            self
        }
    }
}
