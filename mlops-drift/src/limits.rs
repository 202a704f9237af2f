//! The limits this crate enforces on caller-supplied counts and sizes, and its decisions for
//! huge finite values.
//!
//! Every count a caller can hand in (bin and category counts, the counts of a stored profile or
//! window summary, the weight of a sketch) and every sum of them is checked against
//! [`MAX_COUNT`]; every size parameter that decides an allocation or a loop has its own
//! documented cap. Exceeding one is [`DriftError::LimitExceeded`], never a panic, an abort or a
//! wrapped (silently wrong) count.
//!
//! | limit | value | where |
//! |---|---|---|
//! | [`MAX_COUNT`] | 2^53 | every count and every sum of counts |
//! | [`MAX_PSI_BINS`](crate::stats::psi::MAX_PSI_BINS) | 65 536 | `PsiOptions::bins`, `fit_with_bins`, `ReportConfig::psi_bins` |
//! | [`FISHER_MAX_TOTAL`](crate::stats::categorical::FISHER_MAX_TOTAL) | 2^62 | the total of a `fisher_exact` table |
//! | [`FISHER_EXACT_MAX_VARIANCE`](crate::stats::categorical::FISHER_EXACT_MAX_VARIANCE) | 10^8 | above it `fisher_exact` uses the normal approximation |
//! | [`MAX_SHARDS`](crate::stream::MAX_SHARDS), [`MAX_PANES`](crate::stream::MAX_PANES), [`MAX_EXACT_BUDGET`](crate::stream::MAX_EXACT_BUDGET), [`MAX_PENDING_REPORTS`](crate::stream::MAX_PENDING_REPORTS) | 4 096, 1 024, 2^24, 65 536 | `MonitorConfig` |
//! | [`MAX_SCORED_VALUES`](crate::stream::MAX_SCORED_VALUES), [`MAX_SCORED_CELLS`](crate::stream::MAX_SCORED_CELLS) | 2^20 per feature, 2^22 in all | values materialized to score a window summary |
//! | [`MAX_DETECTOR_MAGNITUDE`](crate::detect::MAX_DETECTOR_MAGNITUDE) | 1e100 | larger values are ignored (counted) by ADWIN, Page–Hinkley and CUSUM |
//!
//! Huge finite values (up to ±`f64::MAX`) in the batch statistics: the rank-based tests (KS,
//! Cramér–von Mises, Anderson–Darling, Mann–Whitney) only compare values and are exact; the
//! distances (Wasserstein, energy) and the moments of a profile are computed in units scaled by
//! a power of two when the direct formula overflows, so the normed Wasserstein score stays
//! finite and exact (a raw distance beyond `f64::MAX` is `+∞`, the true value rounded); PSI bins
//! and category tables only count.

use crate::error::{DriftError, Result};

/// The largest count this crate accepts: every count, and every sum of counts it forms (the
/// total of a count vector, the rows of a merged summary, the weight of a sketch), is at most
/// 2^53, so each is exact as an `f64` and no sum of two of them can overflow `u64`.
pub const MAX_COUNT: u64 = 1 << 53;

/// The sum of `counts`, checked against [`MAX_COUNT`].
pub(crate) fn total(name: &'static str, counts: impl IntoIterator<Item = u64>) -> Result<u64> {
    total_within(name, counts, MAX_COUNT)
}

/// The sum of `counts`, checked against `limit`.
pub(crate) fn total_within(
    name: &'static str,
    counts: impl IntoIterator<Item = u64>,
    limit: u64,
) -> Result<u64> {
    let mut sum: u128 = 0;
    for c in counts {
        sum += u128::from(c);
        if sum > u128::from(limit) {
            return Err(DriftError::LimitExceeded {
                name,
                value: sum,
                limit: u128::from(limit),
            });
        }
    }
    u64::try_from(sum).map_err(|_| too_large(name, sum))
}

fn too_large(name: &'static str, value: u128) -> DriftError {
    DriftError::LimitExceeded {
        name,
        value,
        limit: u128::from(MAX_COUNT),
    }
}

/// Checks a size parameter against its cap.
pub(crate) fn check_size(name: &'static str, value: usize, limit: usize) -> Result<()> {
    if value > limit {
        return Err(DriftError::LimitExceeded {
            name,
            value: value as u128,
            limit: limit as u128,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_checked() {
        assert_eq!(total("c", [1, 2, 3]), Ok(6));
        assert_eq!(total("c", [MAX_COUNT]), Ok(MAX_COUNT));
        assert!(matches!(
            total("c", [u64::MAX, 1]),
            Err(DriftError::LimitExceeded { value, .. }) if value == u128::from(u64::MAX)
        ));
        assert!(total("c", [MAX_COUNT, 1]).is_err());
        assert!(check_size("bins", 11, 10).is_err());
        assert!(check_size("bins", 10, 10).is_ok());
    }
}
