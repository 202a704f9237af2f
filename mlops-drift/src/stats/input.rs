//! Input validation shared by the statistics: finiteness, emptiness, sortedness.

use ndarray::ArrayView1;

use crate::error::{DriftError, Result, Sample};

/// Checks that a sample is non-empty and holds only finite values.
pub(crate) fn check_finite(values: &[f64], which: Sample) -> Result<()> {
    if values.is_empty() {
        return Err(DriftError::EmptySample { which });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(DriftError::NonFinite {
            which,
            index,
            value: values.get(index).copied().unwrap_or(f64::NAN),
        }),
        None => Ok(()),
    }
}

/// Checks a sample as [`check_finite`] does and that it is sorted ascending.
pub(crate) fn check_sorted(values: &[f64], which: Sample) -> Result<()> {
    check_finite(values, which)?;
    if values.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
        return Err(DriftError::InvalidParameter {
            name: match which {
                Sample::Reference => "reference_sorted",
                Sample::Current => "current_sorted",
            },
            reason: "the sample must be sorted ascending".into(),
        });
    }
    Ok(())
}

/// A validated, sorted copy of a sample.
pub(crate) fn sorted_copy(values: &[f64], which: Sample) -> Result<Vec<f64>> {
    check_finite(values, which)?;
    let mut out = values.to_vec();
    out.sort_unstable_by(f64::total_cmp);
    Ok(out)
}

/// A contiguous view of an ndarray vector, copying only when it is strided.
pub(crate) fn contiguous(view: ArrayView1<'_, f64>) -> std::borrow::Cow<'_, [f64]> {
    match view.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(view.iter().copied().collect()),
    }
}

/// Checks that a count vector has at least one positive entry and that its total is at most
/// [`crate::MAX_COUNT`] ([`DriftError::LimitExceeded`]).
pub(crate) fn check_counts(counts: &[u64], which: Sample) -> Result<u64> {
    let total = crate::limits::total(
        match which {
            Sample::Reference => "reference counts",
            Sample::Current => "current counts",
        },
        counts.iter().copied(),
    )?;
    if total == 0 {
        return Err(DriftError::EmptySample { which });
    }
    Ok(total)
}

/// Checks that two aligned count vectors have the same length.
pub(crate) fn check_aligned(reference: usize, current: usize) -> Result<()> {
    if reference == current {
        Ok(())
    } else {
        Err(DriftError::Shape {
            reason: format!(
                "reference has {reference} categories or bins but current has {current}"
            ),
        })
    }
}

/// Mean and population standard deviation (NumPy's `np.std`, ddof = 0), two-pass; NaN for an
/// empty sample. For finite values both are finite: when the direct sums overflow (values near
/// ±`f64::MAX`) they are formed in units scaled by a power of two, which is exact.
pub(crate) fn mean_and_population_std(values: &[f64]) -> (f64, f64) {
    let (mean, std) = moments_in(values, 1.0);
    if mean.is_finite() && std.is_finite() || values.iter().any(|v| !v.is_finite()) {
        return (mean, std);
    }
    let scale = power_of_two_scale(values.iter().copied());
    let (mean, std) = moments_in(values, 1.0 / scale);
    (mean * scale, std * scale)
}

fn moments_in(values: &[f64], unit: f64) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().map(|x| x * unit).sum::<f64>() / n;
    let ss: f64 = values
        .iter()
        .map(|x| (x * unit - mean) * (x * unit - mean))
        .sum();
    (mean, (ss / n).sqrt())
}

/// A power of two at least the largest magnitude of `values` (1 when they are all 0), so that
/// `x / scale` is in [−1, 1] and the division is exact (up to values far below the scale that
/// become subnormal, whose share of any sum is then negligible).
pub(crate) fn power_of_two_scale(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        return 1.0;
    }
    // 2^ceil(log2(max)), computed from the exponent so it is exact; at most 2^1024 would
    // overflow, so cap at 2^1023 (then x / scale is within [−2, 2]).
    let exp = max.log2().ceil().clamp(-1022.0, 1023.0);
    2.0_f64.powi(exp as i32)
}
