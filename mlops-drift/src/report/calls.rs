//! The report's calls into the two-sample statistics of [`crate::stats`].

use crate::error::Result;
use crate::parallel::Threads;
use crate::stats::PValue;
use crate::stats::{anderson, cvm, ks};

/// Two-sided Kolmogorov–Smirnov (SciPy's `auto` method) on ascending samples, the current one
/// sorted by [`crate::sort`]: `(D, p)`.
pub(crate) fn ks(reference: &[f64], current: &[f64], threads: Threads) -> Result<(f64, PValue)> {
    let r = ks::ks_2samp_sorted_own_current(reference, current, ks::KsOptions::default(), threads)?;
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
