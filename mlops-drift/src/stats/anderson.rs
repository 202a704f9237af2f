//! k-sample Anderson–Darling test, agreeing with `scipy.stats.anderson_ksamp` (SciPy 1.17,
//! default `midrank` variant).
//!
//! The statistic is Scholz & Stephens' (1987) `A2akN` (their eq. 7, for data with ties),
//! standardised as `(A2akN - (k - 1)) / σ_N`. The p-value is SciPy's: the log of the significance
//! levels 0.25 … 0.001 is fitted by a quadratic in the critical values of Scholz & Stephens'
//! Table 2 (interpolated for `k - 1` degrees of freedom) and evaluated at the statistic; outside
//! the table it is capped at 0.25 and floored at 0.001. (SciPy 1.17 offers a permutation p-value
//! through its `method` argument; the default, reproduced here, is this interpolation.)
//!
//! Each sample is sorted once and the pooled mid-ranks come from a k-way merge walk. NaN is
//! rejected; `±inf` are ordinary extreme values (ranks only).

use serde::{Deserialize, Serialize};

use super::PValue;
use crate::error::{DriftError, Result, Sample};

/// The result of a k-sample Anderson–Darling test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AndersonResult {
    /// The standardised statistic `(A2akN - (k - 1)) / σ_N` (can be negative).
    pub statistic: f64,
    /// SciPy's interpolated p-value, capped to [0.001, 0.25].
    pub p_value: PValue,
    /// Critical values of the statistic at [`Self::significance_levels`].
    pub critical_values: Vec<f64>,
    /// The significance levels of the critical values: 0.25, 0.1, 0.05, 0.025, 0.01, 0.005,
    /// 0.001.
    pub significance_levels: Vec<f64>,
    /// The size of each sample, in input order.
    pub sample_sizes: Vec<usize>,
}

/// Significance levels of Scholz & Stephens' Table 2.
const SIG: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
/// Interpolation coefficients of Scholz & Stephens' Table 2.
const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// Two-sample Anderson–Darling test: [`anderson_ksamp`] on `[reference, current]`.
///
/// ```
/// use mlops_drift::stats::anderson::anderson_2samp;
/// let r = anderson_2samp(&[0.1, 0.5, 0.9, 1.3, 1.7], &[2.1, 2.5, 2.9, 3.3, 3.7])?;
/// assert!(r.p_value.p < 0.05);
/// # Ok::<(), mlops_drift::DriftError>(())
/// ```
///
/// # Errors
///
/// As [`anderson_ksamp`]; empty or NaN-holding samples are reported with [`Sample`] naming the
/// side.
pub fn anderson_2samp(reference: &[f64], current: &[f64]) -> Result<AndersonResult> {
    anderson_ksamp(&[reference, current])
}

/// k-sample Anderson–Darling test, as `scipy.stats.anderson_ksamp(samples)` (mid-rank variant).
///
/// # Errors
///
/// [`DriftError::InvalidParameter`] if there are fewer than two samples, fewer than four values
/// in total or fewer than two distinct values overall; [`DriftError::EmptySample`] / [`DriftError::NonFinite`] for an empty
/// or NaN-holding sample (for more than two samples, [`DriftError::InvalidParameter`] naming the
/// sample's position).
pub fn anderson_ksamp(samples: &[&[f64]]) -> Result<AndersonResult> {
    let k = samples.len();
    if k < 2 {
        return Err(DriftError::InvalidParameter {
            name: "samples",
            reason: format!("anderson_ksamp needs at least two samples, got {k}"),
        });
    }
    for (i, s) in samples.iter().enumerate() {
        let side = match (k, i) {
            (2, 0) => Some(Sample::Reference),
            (2, _) => Some(Sample::Current),
            _ => None,
        };
        if s.is_empty() {
            return Err(match side {
                Some(which) => DriftError::EmptySample { which },
                None => DriftError::InvalidParameter {
                    name: "samples",
                    reason: format!("sample {i} is empty"),
                },
            });
        }
        if let Some((index, &value)) = s.iter().enumerate().find(|(_, v)| v.is_nan()) {
            return Err(match side {
                Some(which) => DriftError::NonFinite {
                    which,
                    index,
                    value,
                },
                None => DriftError::InvalidParameter {
                    name: "samples",
                    reason: format!("sample {i} holds NaN at index {index}"),
                },
            });
        }
    }
    let total: usize = samples.iter().map(|s| s.len()).sum();
    if total < 4 {
        // SciPy raises for N = 2 and returns NaN for N = 3 (its variance formula divides by
        // (N - 2)(N - 3)); a typed error is more useful than a NaN.
        return Err(DriftError::InvalidParameter {
            name: "samples",
            reason: format!(
                "anderson_ksamp needs at least four observations in total, got {total}"
            ),
        });
    }
    let sorted: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            let mut v = s.to_vec();
            super::ks::sort_total(&mut v);
            v
        })
        .collect();
    let views: Vec<&[f64]> = sorted.iter().map(Vec::as_slice).collect();
    compute(&views)
}

/// `A2akN` (Scholz & Stephens eq. 7) from sorted samples; `None` if fewer than two distinct
/// values.
fn a2akn(sorted: &[&[f64]]) -> Option<f64> {
    let n_total: usize = sorted.iter().map(|s| s.len()).sum();
    let nf = n_total as f64;
    let mut pos = vec![0_usize; sorted.len()];
    let mut sums = vec![0.0_f64; sorted.len()];
    let mut before = 0_usize; // pooled values below the current one
    let mut distinct = 0_usize;
    let mut counts_before: Vec<(usize, usize)> = Vec::with_capacity(sorted.len());
    // First pass would be needed only for SciPy's `lj = 1.` shortcut when all values are
    // distinct; the general formula gives the same numbers (lj = 1.0 exactly).
    loop {
        let next = sorted
            .iter()
            .zip(&pos)
            .filter_map(|(s, &p)| s.get(p).copied())
            .reduce(f64::min);
        let Some(v) = next else { break };
        distinct += 1;
        let mut lj = 0_usize;
        counts_before.clear();
        for (s, p) in sorted.iter().zip(pos.iter_mut()) {
            let start = *p;
            while s.get(*p).is_some_and(|&x| x == v) {
                *p += 1;
            }
            lj += *p - start;
            counts_before.push((start, *p - start));
        }
        let ljf = lj as f64;
        let bj = before as f64 + ljf / 2.0;
        let denom = bj * (nf - bj) - nf * ljf / 4.0;
        for ((s, &(start, fij)), sum) in sorted.iter().zip(&counts_before).zip(sums.iter_mut()) {
            let mij = (start + fij) as f64 - fij as f64 / 2.0;
            let ni = s.len() as f64;
            let dev = nf * mij - bj * ni;
            *sum += ljf / nf * dev * dev / denom;
        }
        before += lj;
    }
    if distinct < 2 {
        return None;
    }
    let total: f64 = sorted
        .iter()
        .zip(&sums)
        .map(|(s, sum)| sum / s.len() as f64)
        .sum();
    Some(total * (nf - 1.0) / nf)
}

fn compute(sorted: &[&[f64]]) -> Result<AndersonResult> {
    let k = sorted.len();
    let a2kn = a2akn(sorted).ok_or_else(|| DriftError::InvalidParameter {
        name: "samples",
        reason: "anderson_ksamp needs more than one distinct observation".to_owned(),
    })?;
    let n_total: usize = sorted.iter().map(|s| s.len()).sum();
    let nf = n_total as f64;
    let kf = k as f64;
    let big_h: f64 = sorted.iter().map(|s| 1.0 / s.len() as f64).sum();
    // hs_cs = cumsum(1 / [N-1, N-2, ..., 2]); h = hs_cs[-1] + 1; g = Σ hs_cs / [2, ..., N-1]
    let mut cum = 0.0_f64;
    let mut g = 0.0_f64;
    let mut idx = 0_usize;
    let mut denom = n_total.saturating_sub(1);
    while denom >= 2 {
        cum += 1.0 / denom as f64;
        g += cum / (idx + 2) as f64;
        idx += 1;
        denom -= 1;
    }
    let h = cum + 1.0;
    let a = (4.0 * g - 6.0) * (kf - 1.0) + (10.0 - 6.0 * g) * big_h;
    let b = (2.0 * g - 4.0) * kf * kf + 8.0 * h * kf + (2.0 * g - 14.0 * h - 4.0) * big_h - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * kf * kf
        + (4.0 * h - 4.0 * g + 6.0) * kf
        + (2.0 * h - 6.0) * big_h
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * kf * kf - 4.0 * h * kf;
    let sigmasq =
        (a * nf.powi(3) + b * nf * nf + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0));
    let m = kf - 1.0;
    let statistic = (a2kn - m) / sigmasq.sqrt();

    let critical: Vec<f64> = B0
        .iter()
        .zip(B1)
        .zip(B2)
        .map(|((b0, b1), b2)| b0 + b1 / m.sqrt() + b2 / m)
        .collect();
    let cmin = critical.iter().copied().fold(f64::INFINITY, f64::min);
    let cmax = critical.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let p = if statistic < cmin {
        0.25
    } else if statistic > cmax {
        0.001
    } else if statistic.is_nan() {
        f64::NAN
    } else {
        let ln_sig: Vec<f64> = SIG.iter().map(|s| s.ln()).collect();
        quadratic_fit_eval(&critical, &ln_sig, statistic).exp()
    };
    Ok(AndersonResult {
        statistic,
        p_value: PValue::from_p(p),
        critical_values: critical,
        significance_levels: SIG.to_vec(),
        sample_sizes: sorted.iter().map(|s| s.len()).collect(),
    })
}

/// Least-squares quadratic through `(x, y)` evaluated at `at` (NumPy's `polyfit(x, y, 2)` then
/// `polyval`). Solved in a centred, scaled variable so the normal equations are well conditioned.
fn quadratic_fit_eval(x: &[f64], y: &[f64], at: f64) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let scale = x
        .iter()
        .map(|v| (v - mean).abs())
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    // Normal equations for basis 1, t, t^2 with t = (x - mean) / scale.
    let mut s = [0.0_f64; 5]; // Σ t^p, p = 0..4
    let mut r = [0.0_f64; 3]; // Σ y t^p, p = 0..2
    for (&xv, &yv) in x.iter().zip(y) {
        let t = (xv - mean) / scale;
        let mut tp = 1.0;
        for (p, sp) in s.iter_mut().enumerate() {
            *sp += tp;
            if let Some(rp) = r.get_mut(p) {
                *rp += yv * tp;
            }
            tp *= t;
        }
    }
    let [s0, s1, s2, s3, s4] = s;
    let mat = [[s0, s1, s2], [s1, s2, s3], [s2, s3, s4]];
    let coef = solve3(mat, r);
    let t = (at - mean) / scale;
    coef[0] + t * (coef[1] + t * coef[2])
}

/// Solves a 3×3 linear system by Gaussian elimination with partial pivoting.
#[expect(
    clippy::indexing_slicing,
    clippy::needless_range_loop,
    reason = "fixed 3×3 arrays indexed by loop counters below 3"
)]
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> [f64; 3] {
    for col in 0..3 {
        let mut piv = col;
        for row in col + 1..3 {
            if a[row][col].abs() > a[piv][col].abs() {
                piv = row;
            }
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            for c in col..3 {
                a[row][c] -= f * a[col][c];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0_f64; 3];
    for row in (0..3).rev() {
        let mut acc = b[row];
        for c in row + 1..3 {
            acc -= a[row][c] * x[c];
        }
        x[row] = acc / a[row][row];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_fit_reproduces_an_exact_quadratic() {
        let x = [0.5, 1.0, 1.7, 2.2, 3.0, 3.1, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 1.5 - 0.3 * v + 0.07 * v * v).collect();
        let got = quadratic_fit_eval(&x, &y, 2.5);
        let want = 1.5 - 0.3 * 2.5 + 0.07 * 6.25;
        assert!((got - want).abs() < 1e-13, "{got} vs {want}");
    }
}
