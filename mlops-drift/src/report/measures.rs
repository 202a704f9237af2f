//! Small measures the report needs on counts and sorted samples (shares, contributions,
//! distances over merged sorted samples, the missing-share test).

use crate::stats::PValue;

/// Two-sided p-value of a standard normal z.
pub(crate) fn normal_two_sided(z: f64) -> PValue {
    if !z.is_finite() {
        return if z.is_nan() {
            PValue::from_p(1.0)
        } else {
            PValue::from_p(0.0)
        };
    }
    let p = statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2);
    if p > 0.0 {
        PValue::from_p(p)
    } else {
        // Asymptotic log tail: ln erfc(x) ≈ -x² - ln(x √π).
        let x = z.abs() / std::f64::consts::SQRT_2;
        PValue::from_ln_p(-x * x - (x * std::f64::consts::PI.sqrt()).ln())
    }
}

/// Pooled two-proportion z-test of `k1 / n1` against `k2 / n2`: `(z, p)`; z = 0, p = 1 when the
/// pooled share is 0 or 1 or a sample is empty.
pub(crate) fn two_proportion(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, PValue) {
    if n1 == 0 || n2 == 0 {
        return (0.0, PValue::from_p(1.0));
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let (p1, p2) = (k1 as f64 / n1f, k2 as f64 / n2f);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    let var = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if var <= 0.0 {
        return (0.0, PValue::from_p(1.0));
    }
    let z = (p1 - p2) / var.sqrt();
    (z, normal_two_sided(z))
}

/// Shares smoothed as in the project's PSI: `(p + ε) / (1 + k ε)`.
pub(crate) fn smoothed_shares(counts: &[u64], epsilon: f64) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    let k = counts.len() as f64;
    counts
        .iter()
        .map(|&c| {
            let p = if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            };
            (p + epsilon) / (1.0 + k * epsilon)
        })
        .collect()
}

/// PSI terms `(c − r) ln(c / r)` of smoothed shares.
pub(crate) fn psi_terms(reference: &[u64], current: &[u64], epsilon: f64) -> Vec<f64> {
    let r = smoothed_shares(reference, epsilon);
    let c = smoothed_shares(current, epsilon);
    r.iter()
        .zip(&c)
        .map(|(&r, &c)| (c - r) * (c / r).ln())
        .collect()
}

/// Jensen–Shannon distance (natural log, SciPy's `jensenshannon` default base) of two count
/// vectors over the same buckets; 0 when either is all zero.
pub(crate) fn jensen_shannon_counts(reference: &[u64], current: &[u64], base2: bool) -> f64 {
    let rt: u64 = reference.iter().sum();
    let ct: u64 = current.iter().sum();
    if rt == 0 || ct == 0 {
        return 0.0;
    }
    let mut js = 0.0;
    for (&r, &c) in reference.iter().zip(current) {
        let p = r as f64 / rt as f64;
        let q = c as f64 / ct as f64;
        let m = 0.5 * (p + q);
        if p > 0.0 {
            js += 0.5 * p * (p / m).ln();
        }
        if q > 0.0 {
            js += 0.5 * q * (q / m).ln();
        }
    }
    let js = js.max(0.0);
    let js = if base2 {
        js / std::f64::consts::LN_2
    } else {
        js
    };
    js.sqrt()
}

/// `(∫ |F_u − F_v|^p)` over two ascending samples, for p = 1 (Wasserstein-1) or p = 2 (the square
/// of SciPy's CDF distance behind the energy distance). NaN when a sample is empty.
pub(crate) fn cdf_distance_sorted(u: &[f64], v: &[f64], power: i32) -> f64 {
    if u.is_empty() || v.is_empty() {
        return f64::NAN;
    }
    let (nu, nv) = (u.len() as f64, v.len() as f64);
    let (mut i, mut j) = (0_usize, 0_usize);
    let mut acc = 0.0;
    let mut prev: Option<f64> = None;
    loop {
        let x = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        if let Some(p) = prev {
            let diff = (i as f64 / nu - j as f64 / nv).abs();
            acc += diff.powi(power) * (x - p);
        }
        while u.get(i).is_some_and(|&a| a <= x) {
            i += 1;
        }
        while v.get(j).is_some_and(|&b| b <= x) {
            j += 1;
        }
        prev = Some(x);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_and_energy_match_scipy() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert!((cdf_distance_sorted(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0], 1) - 5.0).abs() < 1e-12);
        // scipy.stats.energy_distance([0], [2]) == 2.0000000000000004
        let e = (2.0 * cdf_distance_sorted(&[0.0], &[2.0], 2)).sqrt();
        assert!((e - 2.0).abs() < 1e-12);
        // scipy.stats.energy_distance([0, 8], [0, 8, 1]) == 0.6666666666666666
        let e = (2.0 * cdf_distance_sorted(&[0.0, 8.0], &[0.0, 1.0, 8.0], 2)).sqrt();
        assert!((e - 0.666_666_666_666_666_6).abs() < 1e-12, "{e}");
        // scipy.stats.wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]) == 2.7
        let w = cdf_distance_sorted(&[3.4, 3.9, 7.5, 7.8], &[1.4, 4.5], 1);
        assert!((w - 2.7).abs() < 1e-12, "{w}");
    }

    #[test]
    fn js_and_z_match_scipy() {
        // scipy.spatial.distance.jensenshannon([1, 0], [0, 1]) == sqrt(ln 2)
        let js = jensen_shannon_counts(&[1, 0], &[0, 1], false);
        assert!((js - std::f64::consts::LN_2.sqrt()).abs() < 1e-12);
        assert!((jensen_shannon_counts(&[1, 0], &[0, 1], true) - 1.0).abs() < 1e-12);
        // statsmodels.stats.proportion.proportions_ztest([30, 45], [100, 100])
        // → (-2.1908902300206647, 0.02845973691631055)
        let (z, p) = two_proportion(30, 100, 45, 100);
        assert!((z + 2.190_890_230_020_664_7).abs() < 1e-12, "{z}");
        assert!((p.p - 0.028_459_736_916_310_55).abs() < 1e-10, "{}", p.p);
        let (_, p) = two_proportion(0, 100, 0, 100);
        assert_eq!(p.p, 1.0);
        let p = normal_two_sided(60.0);
        assert!(p.ln_p < -1000.0 && p.ln_p.is_finite());
    }
}
