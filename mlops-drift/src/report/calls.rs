//! The report's calls into the two-sample statistics of [`crate::stats`].

use crate::error::Result;
use crate::stats::PValue;
use crate::stats::{anderson, cvm, ks};

/// Two-sided Kolmogorov–Smirnov (SciPy's `auto` method) on ascending samples: `(D, p)`.
pub(crate) fn ks(reference: &[f64], current: &[f64]) -> Result<(f64, PValue)> {
    let r = ks::ks_2samp_sorted(reference, current, ks::KsOptions::default())?;
    Ok((r.statistic, r.p_value))
}

/// Cramér–von Mises (SciPy's `auto` method) on ascending samples: `(T, p)`.
pub(crate) fn cvm(reference: &[f64], current: &[f64]) -> Result<(f64, PValue)> {
    let r = cvm::cramervonmises_2samp_sorted(reference, current, cvm::CvmMethod::Auto)?;
    Ok((r.statistic, r.p_value))
}

/// Anderson–Darling k = 2 (midrank, p capped to [0.001, 0.25]): `(A, p)`.
pub(crate) fn anderson(reference: &[f64], current: &[f64]) -> Result<(f64, PValue)> {
    let r = anderson::anderson_2samp(reference, current)?;
    Ok((r.statistic, r.p_value))
}

/// Chi-squared test of homogeneity on the 2×K table (SciPy's `chi2_contingency`: Yates'
/// correction when dof = 1; one bucket gives statistic 0, p 1). Buckets empty on both sides are
/// dropped.
pub(crate) fn chi2_homogeneity(reference: &[u64], current: &[u64]) -> (f64, PValue) {
    let cols: Vec<(f64, f64)> = reference
        .iter()
        .zip(current)
        .filter(|(a, b)| **a + **b > 0)
        .map(|(&a, &b)| (a as f64, b as f64))
        .collect();
    let k = cols.len();
    let n1: f64 = cols.iter().map(|c| c.0).sum();
    let n2: f64 = cols.iter().map(|c| c.1).sum();
    if k < 2 || n1 == 0.0 || n2 == 0.0 {
        return (0.0, PValue::from_p(1.0));
    }
    let n = n1 + n2;
    let dof = (k - 1) as f64;
    let mut stat = 0.0;
    for &(a, b) in &cols {
        let col = a + b;
        for (obs, row) in [(a, n1), (b, n2)] {
            let exp = row * col / n;
            let mut o = obs;
            if k == 2 {
                let diff = exp - o;
                o += diff.signum() * diff.abs().min(0.5);
            }
            stat += (o - exp) * (o - exp) / exp;
        }
    }
    let p = statrs::function::gamma::gamma_ur(dof / 2.0, stat / 2.0);
    (stat, PValue::from_p(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2_matches_scipy() {
        // scipy.stats.chi2_contingency([[10, 20, 30], [15, 15, 40]])
        // → statistic 2.3877551020408165, p 0.30304391468510006
        let (s, p) = chi2_homogeneity(&[10, 20, 30], &[15, 15, 40]);
        assert!((s - 2.387_755_102_040_816_5).abs() < 1e-12, "{s}");
        assert!((p.p - 0.303_043_914_685_100_06).abs() < 1e-12, "{}", p.p);
        // scipy.stats.chi2_contingency([[10, 20], [25, 12]]) (Yates)
        // → statistic 6.470536317567568, p 0.010967742913603307
        let (s, p) = chi2_homogeneity(&[10, 25], &[20, 12]);
        assert!((s - 6.470_536_317_567_568).abs() < 1e-12, "{s}");
        assert!((p.p - 0.010_967_742_913_603_307).abs() < 1e-12, "{}", p.p);
        assert_eq!(chi2_homogeneity(&[5], &[7]).0, 0.0);
    }
}
