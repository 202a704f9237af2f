//! Two-sample Cramér–von Mises test, agreeing with `scipy.stats.cramervonmises_2samp`
//! (SciPy 1.17).
//!
//! The statistic is Anderson's (1962) `T = U / (n m (n + m)) - (4 m n - 1) / (6 (m + n))` with
//! `U = n Σ (r(x_i) - i)^2 + m Σ (r(y_j) - j)^2`, ranks taken in the pooled sample with mid-ranks
//! for ties. Both samples are sorted once and the ranks come from a merge walk.
//!
//! * [`CvmMethod::Exact`] enumerates the exact null distribution of `U` with the frequency-table
//!   recursion of Xiao, Gordon & Yakovlev (2006), as SciPy does.
//! * [`CvmMethod::Asymptotic`] normalises `T` by its exact mean and variance and evaluates the
//!   limiting one-sample Cramér–von Mises distribution (Csörgő & Faraway 1996, eq. 1.2) with
//!   SciPy's series and stopping rule; the modified Bessel function `K_{1/4}` is evaluated by
//!   the trapezoidal rule on its integral representation, which converges geometrically.
//! * [`CvmMethod::Auto`] is exact when both samples have at most 20 values (SciPy's rule).
//!   The exact table grows quickly with the sample sizes (as in SciPy); request `Exact`
//!   explicitly only for small samples.
//!
//! The asymptotic p-value is SciPy's `1 - cdf`, so below about 1e-12 it carries the absolute
//! rounding (~1e-15) of that difference, as SciPy's does, and it reaches 0 for very strong
//! drift; `ln p` is its plain logarithm (no log-space tail for this distribution).
//!
//! NaN is rejected ([`DriftError::NonFinite`]); `±inf` are ordinary extreme values (ranks only).
//! SciPy requires at least two values per sample; so does this function.

use serde::{Deserialize, Serialize};

use super::PValue;
use crate::error::{DriftError, Result, Sample};

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CvmMethod {
    /// Exact when both samples have at most 20 values, asymptotic otherwise (SciPy's `'auto'`).
    #[default]
    Auto,
    /// The exact null distribution (SciPy's `'exact'`).
    Exact,
    /// The asymptotic distribution (SciPy's `'asymptotic'`).
    Asymptotic,
}

/// The result of a two-sample Cramér–von Mises test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvmResult {
    /// The statistic `T`.
    pub statistic: f64,
    /// The p-value and its log.
    pub p_value: PValue,
    /// [`CvmMethod::Exact`] or [`CvmMethod::Asymptotic`] (after resolving `Auto`).
    pub method_used: CvmMethod,
    /// Size of the reference sample.
    pub n_reference: usize,
    /// Size of the current sample.
    pub n_current: usize,
}

/// Largest sample size for which `Auto` uses the exact distribution.
pub const MAX_EXACT_AUTO_N: usize = 20;

/// Two-sample Cramér–von Mises test, as
/// `scipy.stats.cramervonmises_2samp(reference, current, method)`.
///
/// ```
/// use mlops_drift::stats::cvm::{cramervonmises_2samp, CvmMethod};
/// let r = cramervonmises_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], CvmMethod::Auto)?;
/// assert!(r.p_value.p <= 0.1);
/// # Ok::<(), mlops_drift::DriftError>(())
/// ```
///
/// # Errors
///
/// [`DriftError::EmptySample`] if a sample is empty; [`DriftError::InvalidParameter`] if a
/// sample has a single value (SciPy needs two) or the exact distribution was requested for sizes
/// whose number of arrangements `binom(n + m, n)` exceeds 2^127; [`DriftError::NonFinite`] on NaN.
pub fn cramervonmises_2samp(
    reference: &[f64],
    current: &[f64],
    method: CvmMethod,
) -> Result<CvmResult> {
    check(reference, Sample::Reference)?;
    check(current, Sample::Current)?;
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    super::ks::sort_total(&mut a);
    super::ks::sort_total(&mut b);
    compute(&a, &b, method)
}

/// [`cramervonmises_2samp`] for samples already sorted ascending (not re-sorted).
///
/// # Errors
///
/// As [`cramervonmises_2samp`], and [`DriftError::InvalidParameter`] if a sample is not sorted.
pub fn cramervonmises_2samp_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    method: CvmMethod,
) -> Result<CvmResult> {
    super::ks::check_sorted_input(reference_sorted, Sample::Reference)?;
    super::ks::check_sorted_input(current_sorted, Sample::Current)?;
    check_len(reference_sorted, Sample::Reference)?;
    check_len(current_sorted, Sample::Current)?;
    compute(reference_sorted, current_sorted, method)
}

fn check(x: &[f64], which: Sample) -> Result<()> {
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
    check_len(x, which)
}

fn check_len(x: &[f64], which: Sample) -> Result<()> {
    if x.len() < 2 {
        return Err(DriftError::InvalidParameter {
            name: match which {
                Sample::Reference => "reference",
                Sample::Current => "current",
            },
            reason: "the Cramér–von Mises test needs at least two values per sample".to_owned(),
        });
    }
    Ok(())
}

/// `Σ (r(x_i) - i)^2` for both samples, with pooled mid-ranks, from a merge walk.
fn rank_deviation_sums(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (mut i, mut j) = (0_usize, 0_usize);
    let (mut sa, mut sb) = (0.0_f64, 0.0_f64);
    loop {
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
        let (i0, j0) = (i, j);
        while a.get(i).is_some_and(|&x| x == v) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y == v) {
            j += 1;
        }
        let start = (i0 + j0) as f64; // values before this group
        let count = ((i - i0) + (j - j0)) as f64;
        let midrank = start + (count + 1.0) / 2.0;
        for k in i0..i {
            let d = midrank - (k + 1) as f64;
            sa += d * d;
        }
        for k in j0..j {
            let d = midrank - (k + 1) as f64;
            sb += d * d;
        }
    }
    (sa, sb)
}

fn compute(a: &[f64], b: &[f64], method: CvmMethod) -> Result<CvmResult> {
    let nx = a.len();
    let ny = b.len();
    let method = match method {
        CvmMethod::Auto if nx.max(ny) > MAX_EXACT_AUTO_N => CvmMethod::Asymptotic,
        CvmMethod::Auto => CvmMethod::Exact,
        other => other,
    };
    let (sa, sb) = rank_deviation_sums(a, b);
    let (nxf, nyf) = (nx as f64, ny as f64);
    let u = nxf * sa + nyf * sb;
    let k = nxf * nyf;
    let n = nxf + nyf;
    let t = u / (k * n) - (4.0 * k - 1.0) / (6.0 * n);
    let p = match method {
        CvmMethod::Exact => exact_p(u, nx as u64, ny as u64)?,
        _ => asymptotic_p(t, n, nxf, nyf, k),
    };
    Ok(CvmResult {
        statistic: t,
        p_value: PValue::from_p(p),
        method_used: method,
        n_reference: nx,
        n_current: ny,
    })
}

/// Python's float floor division `a // b`.
fn py_floordiv(a: f64, b: f64) -> f64 {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        m += b;
        div -= 1.0;
    }
    let _ = m;
    if div != 0.0 {
        let fl = div.floor();
        if div - fl > 0.5 { fl + 1.0 } else { fl }
    } else {
        0.0_f64.copysign(a / b)
    }
}

fn binom_u128(n: u64, k: u64) -> Option<u128> {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.checked_mul(u128::from(n - i))? / u128::from(i + 1);
    }
    Some(c)
}

/// Merges two frequency tables sorted by value, summing counts of equal values.
fn merge_tables(x: &[(u128, u128)], y: &[(u128, u128)], out: &mut Vec<(u128, u128)>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    loop {
        match (x.get(i), y.get(j)) {
            (Some(&(vx, cx)), Some(&(vy, cy))) => {
                if vx == vy {
                    out.push((vx, cx + cy));
                    i += 1;
                    j += 1;
                } else if vx < vy {
                    out.push((vx, cx));
                    i += 1;
                } else {
                    out.push((vy, cy));
                    j += 1;
                }
            }
            (Some(&e), None) => {
                out.push(e);
                i += 1;
            }
            (None, Some(&e)) => {
                out.push(e);
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// Exact p-value (SciPy's `_pval_cvm_2samp_exact`): the share of all arrangements whose
/// statistic is at least the observed one.
fn exact_p(u: f64, m: u64, n: u64) -> Result<f64> {
    let combinations = binom_u128(m + n, m)
        .filter(|c| *c < (1_u128 << 127))
        .ok_or_else(|| DriftError::InvalidParameter {
            name: "method",
            reason: format!("the exact Cramér–von Mises distribution for sizes {m} and {n} is too large; use the asymptotic method"),
        })?;
    let g = super::gcd(m, n);
    let lcm = m / g * n;
    let a = u128::from(lcm / m);
    let b = u128::from(lcm / n);
    let mn = (m * n) as f64;
    let lcm2_mn = (lcm as f64) * (lcm as f64) * ((m + n) as f64);
    let zeta = py_floordiv(lcm2_mn * (6.0 * u - mn * (4.0 * mn - 1.0)), 6.0 * mn * mn);

    let rows = usize::try_from(m).unwrap_or(0) + 1;
    let mut gs: Vec<Vec<(u128, u128)>> = vec![Vec::new(); rows];
    if let Some(first) = gs.first_mut() {
        first.push((0, 1));
    }
    let mut tmp: Vec<(u128, u128)> = Vec::new();
    let mut merged: Vec<(u128, u128)> = Vec::new();
    for uu in 0..=u128::from(n) {
        tmp.clear();
        for (v, g_v) in gs.iter_mut().enumerate() {
            merge_tables(&tmp, g_v, &mut merged);
            let dev = (a * v as u128).abs_diff(b * uu);
            let shift = dev * dev;
            merged.iter_mut().for_each(|e| e.0 += shift);
            std::mem::swap(&mut tmp, &mut merged);
            g_v.clone_from(&tmp);
        }
    }
    let last = gs.last().map(Vec::as_slice).unwrap_or_default();
    let tail: u128 = last
        .iter()
        .filter(|(value, _)| *value as f64 >= zeta)
        .map(|(_, c)| *c)
        .sum();
    Ok(tail as f64 / combinations as f64)
}

/// Asymptotic p-value (SciPy's `_pval_cvm_2samp_asymptotic`).
fn asymptotic_p(t: f64, n: f64, nx: f64, ny: f64, k: f64) -> f64 {
    let et = (1.0 + 1.0 / n) / 6.0;
    let vt = (n + 1.0) * (4.0 * k * n - 3.0 * (nx * nx + ny * ny) - 2.0 * k);
    let vt = vt / (45.0 * n * n * 4.0 * k);
    let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
    if tn >= 0.003 {
        (1.0 - cdf_cvm_inf(tn)).max(0.0)
    } else {
        1.0
    }
}

/// CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996, eq. 1.2), summed
/// with SciPy's stopping rule (stop after the first term below 1e-7 in absolute value).
pub(crate) fn cdf_cvm_inf(x: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let mut total = 0.0;
    let mut k = 0.0_f64;
    loop {
        let u = (ln_gamma(k + 0.5) - ln_gamma(k + 1.0)).exp()
            / (std::f64::consts::PI.powf(1.5) * x.sqrt());
        let y = 4.0 * k + 1.0;
        let q = y * y / (16.0 * x);
        // exp(-q) K_{1/4}(q) = exp(-2q) * (e^q K_{1/4}(q))
        let z = u * y.sqrt() * (-2.0 * q).exp() * bessel_k_scaled(0.25, q);
        total += z;
        if z.abs() < 1e-7 || k > 1000.0 {
            break;
        }
        k += 1.0;
    }
    total
}

/// `e^x K_nu(x)` for `x > 0` by the trapezoidal rule on
/// `K_nu(x) = ∫_0^∞ exp(-x cosh t) cosh(nu t) dt`; the integrand is entire and decays
/// double-exponentially, so the rule converges geometrically (error far below 1e-16 here).
pub(crate) fn bessel_k_scaled(nu: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return f64::INFINITY;
    }
    let h = (0.5 / x.sqrt()).min(0.1);
    let f = |t: f64| (-x * (t.cosh() - 1.0)).exp() * (nu * t).cosh();
    let mut sum = 0.5 * f(0.0);
    let mut j = 1.0_f64;
    loop {
        let term = f(j * h);
        sum += term;
        if term < 1e-18 * sum || j > 1e6 {
            break;
        }
        j += 1.0;
    }
    sum * h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_k_matches_closed_form_for_half_order() {
        // K_{1/2}(x) = sqrt(pi / (2x)) e^{-x}
        for x in [1e-3, 0.1, 0.7, 2.0, 15.0, 300.0] {
            let got = bessel_k_scaled(0.5, x);
            let want = (std::f64::consts::PI / (2.0 * x)).sqrt();
            assert!((got - want).abs() <= 1e-13 * want, "x={x}: {got} vs {want}");
        }
    }

    #[test]
    fn python_floor_division() {
        assert_eq!(py_floordiv(7.0, 2.0), 3.0);
        assert_eq!(py_floordiv(-7.0, 2.0), -4.0);
        assert_eq!(py_floordiv(6.0, 3.0), 2.0);
    }
}
