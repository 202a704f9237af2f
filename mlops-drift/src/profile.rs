//! Reference profiles: fitted once from training data, stored with the model version, scored
//! against many times.
//!
//! A [`NumericProfile`] keeps the sorted finite sample (for every order-based method), the
//! reference-quantile PSI bins with their counts, the moments, the range, and how many values were
//! missing or infinite. A [`CategoricalProfile`] keeps the category table and the missing count.
//! A [`DatasetProfile`] holds one [`ReferenceProfile`] per named column.
//!
//! Profiles record raw counts and never apply a [`NanPolicy`](crate::policy::NanPolicy) or
//! [`InfPolicy`](crate::policy::InfPolicy): the policy is applied when a column is scored, so one
//! profile serves every policy. Scoring against a profile never sorts or bins the reference again.
//!
//! Profiles are serialized with a `format_version`; [`DatasetProfile::from_json`] refuses a newer
//! version with [`DriftError::FormatVersion`] and checks every invariant before the profile is
//! used: the sample is finite and sorted, the counts add up (each at most
//! [`MAX_COUNT`](crate::MAX_COUNT), with checked sums), the PSI bins match the sample, and the
//! summary fields (`mean`, `std`, `min`, `max`, `small_support`) agree with the stored sample,
//! so a tampered summary cannot turn drift into "no drift". The number of PSI bins is at most
//! [`MAX_PSI_BINS`].
//!
//! ```
//! use mlops_drift::profile::DatasetProfile;
//! use mlops_drift::table::Table;
//!
//! let income = [3.1, 2.7, 5.0, 4.2, f64::NAN, 3.3];
//! let region = ["n", "s", "s", "e", "n", "n"];
//! let train = Table::new()
//!     .with_numeric("income", &income)?
//!     .with_categorical("region", &region)?;
//! let profile = DatasetProfile::fit(&train);
//! let json = profile.to_json()?;
//! let loaded = DatasetProfile::from_json(&json)?;
//! assert_eq!(loaded, profile);
//! let income = loaded.get("income").and_then(|p| p.as_numeric()).unwrap();
//! assert_eq!(income.sorted(), &[2.7, 3.1, 3.3, 4.2, 5.0]);
//! assert_eq!(income.n_nan(), 1);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use std::collections::BTreeMap;

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::error::{DriftError, Result};
use crate::sort::sort_f64;
use crate::stats::mean_and_population_std;
use crate::stats::psi::{QuantileBins, check_bins, numpy_linear_quantile};
use crate::table::{ColumnData, Table};

/// The format version written by this build. Readers accept this version and older ones.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// The number of reference-quantile bins of the project's default PSI.
pub const DEFAULT_PSI_BINS: usize = 10;

pub use crate::stats::psi::MAX_PSI_BINS;

/// A numeric column with at most this many distinct values is "discrete" for Evidently's
/// automatic method rule; the profile keeps those values.
pub const SMALL_SUPPORT: usize = 5;

/// The project's default PSI binning ([`QuantileBins`]: reference quantiles, duplicate edges
/// removed, outer edges −∞ and +∞, bins `[e_i, e_{i+1})`) together with the reference count of
/// each bin, so scoring never bins the reference again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileBinning {
    /// The requested number of bins (before duplicate edges were removed).
    requested_bins: usize,
    /// Interior edges, finite and strictly increasing (`cuts` of [`QuantileBins`]).
    cuts: Vec<f64>,
    /// Reference count per bin.
    reference_counts: Vec<u64>,
}

impl QuantileBinning {
    /// Fits `bins` quantile bins to an ascending, finite sample (one bin for an empty sample).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `bins` is 0, [`DriftError::LimitExceeded`] above
    /// [`MAX_PSI_BINS`].
    pub fn fit_sorted(sorted: &[f64], bins: usize) -> Result<Self> {
        check_bins(bins)?;
        Ok(Self::fit_sorted_unchecked(sorted, bins))
    }

    /// [`QuantileBinning::fit_sorted`] with `bins` already checked.
    fn fit_sorted_unchecked(sorted: &[f64], bins: usize) -> Self {
        // An empty reference has one bin.
        let cuts = QuantileBins::fit_sorted(sorted, bins)
            .map(|b| b.cuts().to_vec())
            .unwrap_or_default();
        let reference_counts = counts_sorted(sorted, &cuts);
        Self {
            requested_bins: bins,
            cuts,
            reference_counts,
        }
    }

    /// The requested number of bins.
    #[must_use]
    pub fn requested_bins(&self) -> usize {
        self.requested_bins
    }

    /// The number of bins after duplicate edges were removed.
    #[must_use]
    pub fn n_bins(&self) -> usize {
        self.cuts.len() + 1
    }

    /// The interior edges.
    #[must_use]
    pub fn edges(&self) -> &[f64] {
        &self.cuts
    }

    /// The reference count in each bin.
    #[must_use]
    pub fn reference_counts(&self) -> &[u64] {
        &self.reference_counts
    }

    /// The bin of a finite `value`.
    #[must_use]
    pub fn bin_of(&self, value: f64) -> usize {
        self.cuts.partition_point(|&c| c <= value)
    }

    /// Counts unsorted values into the bins: one binary search over the edges per value, no
    /// sort.
    #[must_use]
    pub fn count(&self, values: impl IntoIterator<Item = f64>) -> Vec<u64> {
        let mut counts = vec![0_u64; self.n_bins()];
        for v in values {
            if let Some(c) = counts.get_mut(self.bin_of(v)) {
                *c += 1;
            }
        }
        counts
    }
}

/// Counts an ascending sample into bins `[e_i, e_{i+1})` with binary searches (no pass over the
/// sample).
pub(crate) fn counts_sorted(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut prev = 0;
    for &e in edges {
        let at = sorted.partition_point(|&v| v < e);
        counts.push((at - prev) as u64);
        prev = at;
    }
    counts.push((sorted.len() - prev) as u64);
    counts
}

/// NumPy's default (`linear`) quantile of an ascending sample; NaN for an empty one.
#[must_use]
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    numpy_linear_quantile(sorted, q.clamp(0.0, 1.0))
}

/// The fitted profile of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    n_rows: u64,
    n_nan: u64,
    n_pos_inf: u64,
    n_neg_inf: u64,
    #[serde(with = "mlops_core::float_serde")]
    mean: f64,
    #[serde(with = "mlops_core::float_serde")]
    std: f64,
    #[serde(with = "mlops_core::float_serde")]
    min: f64,
    #[serde(with = "mlops_core::float_serde")]
    max: f64,
    /// Distinct finite values when there are at most [`SMALL_SUPPORT`] of them.
    small_support: Option<Vec<f64>>,
    psi_bins: QuantileBinning,
    /// The finite values, ascending.
    sorted: Vec<f64>,
}

impl NumericProfile {
    /// Fits a profile with the default PSI bins.
    #[must_use]
    pub fn fit(values: &[f64]) -> Self {
        Self::fit_view_unchecked(ArrayView1::from(values), DEFAULT_PSI_BINS)
    }

    /// Fits a profile from an `ndarray` view with `psi_bins` PSI bins.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `psi_bins` is 0, [`DriftError::LimitExceeded`] above
    /// [`MAX_PSI_BINS`].
    pub fn fit_view(values: ArrayView1<'_, f64>, psi_bins: usize) -> Result<Self> {
        check_bins(psi_bins)?;
        Ok(Self::fit_view_unchecked(values, psi_bins))
    }

    fn fit_view_unchecked(values: ArrayView1<'_, f64>, psi_bins: usize) -> Self {
        let mut finite = Vec::with_capacity(values.len());
        let (mut n_nan, mut n_pos_inf, mut n_neg_inf) = (0_u64, 0_u64, 0_u64);
        for &v in values {
            if v.is_nan() {
                n_nan += 1;
            } else if v == f64::INFINITY {
                n_pos_inf += 1;
            } else if v == f64::NEG_INFINITY {
                n_neg_inf += 1;
            } else {
                finite.push(v);
            }
        }
        sort_f64(&mut finite);
        Self::from_sorted_parts(
            finite,
            values.len() as u64,
            n_nan,
            n_pos_inf,
            n_neg_inf,
            psi_bins,
        )
    }

    fn from_sorted_parts(
        sorted: Vec<f64>,
        n_rows: u64,
        n_nan: u64,
        n_pos_inf: u64,
        n_neg_inf: u64,
        psi_bins: usize,
    ) -> Self {
        let (mean, std) = mean_and_population_std(&sorted);
        let min = sorted.first().copied().unwrap_or(f64::NAN);
        let max = sorted.last().copied().unwrap_or(f64::NAN);
        let small_support = distinct_up_to(&sorted, SMALL_SUPPORT);
        let psi_bins = QuantileBinning::fit_sorted_unchecked(&sorted, psi_bins);
        Self {
            n_rows,
            n_nan,
            n_pos_inf,
            n_neg_inf,
            mean,
            std,
            min,
            max,
            small_support,
            psi_bins,
            sorted,
        }
    }

    /// The finite values, ascending.
    #[must_use]
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// All rows, including missing and infinite ones.
    #[must_use]
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// The number of NaN values.
    #[must_use]
    pub fn n_nan(&self) -> u64 {
        self.n_nan
    }

    /// The number of +∞ values.
    #[must_use]
    pub fn n_pos_inf(&self) -> u64 {
        self.n_pos_inf
    }

    /// The number of −∞ values.
    #[must_use]
    pub fn n_neg_inf(&self) -> u64 {
        self.n_neg_inf
    }

    /// The mean of the finite values (NaN if there are none).
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The population standard deviation (`ddof = 0`, NumPy's `std`) of the finite values.
    #[must_use]
    pub fn std(&self) -> f64 {
        self.std
    }

    /// The smallest finite value (NaN if there are none).
    #[must_use]
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The largest finite value (NaN if there are none).
    #[must_use]
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The distinct finite values when there are at most [`SMALL_SUPPORT`].
    #[must_use]
    pub fn small_support(&self) -> Option<&[f64]> {
        self.small_support.as_deref()
    }

    /// The fitted PSI bins.
    #[must_use]
    pub fn psi_bins(&self) -> &QuantileBinning {
        &self.psi_bins
    }

    /// NumPy's linear quantile of the finite values.
    #[must_use]
    pub fn quantile(&self, q: f64) -> f64 {
        quantile_sorted(&self.sorted, q)
    }

    fn validate(&self, column: &str) -> Result<()> {
        let bad = |reason: String| DriftError::InvalidProfile {
            column: column.to_owned(),
            reason,
        };
        if self.sorted.iter().any(|v| !v.is_finite()) {
            return Err(bad("the sorted sample holds a non-finite value".to_owned()));
        }
        if self.sorted.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
            return Err(bad("the sample is not sorted".to_owned()));
        }
        let total = crate::limits::total(
            "profile counts",
            [
                self.sorted.len() as u64,
                self.n_nan,
                self.n_pos_inf,
                self.n_neg_inf,
            ],
        )
        .map_err(|e| bad(e.to_string()))?;
        if total != self.n_rows {
            return Err(bad(format!(
                "counts add up to {total}, not n_rows = {}",
                self.n_rows
            )));
        }
        let bins = &self.psi_bins;
        if check_bins(bins.requested_bins).is_err()
            || bins.n_bins() > bins.requested_bins.max(3)
            || QuantileBins::from_cuts(bins.edges().to_vec()).is_err()
            || bins.reference_counts != counts_sorted(&self.sorted, bins.edges())
        {
            return Err(bad("the PSI bins do not match the sample".to_owned()));
        }
        self.validate_summary().map_err(bad)
    }

    /// The summary fields against the stored sample: `min`, `max` and `small_support` exactly,
    /// `mean` and `std` to a relative 1e-9 (they are recomputed the same way on load, so only a
    /// different summation order could differ at all).
    fn validate_summary(&self) -> std::result::Result<(), String> {
        let (mean, std) = mean_and_population_std(&self.sorted);
        let (min, max) = match (self.sorted.first(), self.sorted.last()) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (f64::NAN, f64::NAN),
        };
        let scale = min.abs().max(max.abs());
        let close = |stored: f64, want: f64| {
            (stored.is_nan() && want.is_nan())
                || (stored - want).abs() <= 1e-9 * want.abs() + 8.0 * f64::EPSILON * scale
        };
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        let fields = [
            ("min", same(self.min, min), self.min, min),
            ("max", same(self.max, max), self.max, max),
            ("mean", close(self.mean, mean), self.mean, mean),
            ("std", close(self.std, std), self.std, std),
        ];
        if let Some((name, _, stored, want)) = fields.into_iter().find(|f| !f.1) {
            return Err(format!(
                "`{name}` is {stored} but the stored sample gives {want}"
            ));
        }
        if self.small_support != distinct_up_to(&self.sorted, SMALL_SUPPORT) {
            return Err("`small_support` does not match the stored sample".to_owned());
        }
        Ok(())
    }
}

/// The distinct values of an ascending sample if there are at most `limit`.
fn distinct_up_to(sorted: &[f64], limit: usize) -> Option<Vec<f64>> {
    let mut out: Vec<f64> = Vec::new();
    let mut rest = sorted;
    while let Some(&v) = rest.first() {
        if out.len() == limit {
            return None;
        }
        out.push(v);
        let next = rest.partition_point(|&x| x <= v);
        rest = rest.get(next..).unwrap_or_default();
    }
    Some(out)
}

/// The fitted profile of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    n_rows: u64,
    n_missing: u64,
    counts: BTreeMap<String, u64>,
}

impl CategoricalProfile {
    /// Fits a profile from string values (all present).
    #[must_use]
    pub fn fit<S: AsRef<str>>(values: &[S]) -> Self {
        let mut p = Self::empty();
        for v in values {
            p.add(Some(v.as_ref()));
        }
        p
    }

    pub(crate) fn fit_column(data: &ColumnData<'_>) -> Self {
        let mut p = Self::empty();
        data.for_each_category(|v| p.add(v));
        p
    }

    fn empty() -> Self {
        Self {
            n_rows: 0,
            n_missing: 0,
            counts: BTreeMap::new(),
        }
    }

    fn add(&mut self, v: Option<&str>) {
        self.n_rows += 1;
        match v {
            Some(s) => match self.counts.get_mut(s) {
                Some(c) => *c += 1,
                None => {
                    self.counts.insert(s.to_owned(), 1);
                }
            },
            None => self.n_missing += 1,
        }
    }

    /// All rows, including missing ones.
    #[must_use]
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// The number of missing values.
    #[must_use]
    pub fn n_missing(&self) -> u64 {
        self.n_missing
    }

    /// The count of each category (missing values excluded).
    #[must_use]
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    fn validate(&self, column: &str) -> Result<()> {
        let total = crate::limits::total(
            "category counts",
            self.counts
                .values()
                .copied()
                .chain(std::iter::once(self.n_missing)),
        )
        .map_err(|e| DriftError::InvalidProfile {
            column: column.to_owned(),
            reason: e.to_string(),
        })?;
        if total != self.n_rows || self.counts.values().any(|&c| c == 0) {
            return Err(DriftError::InvalidProfile {
                column: column.to_owned(),
                reason: format!(
                    "category counts add up to {total}, not n_rows = {}, or a count is zero",
                    self.n_rows
                ),
            });
        }
        Ok(())
    }
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferenceProfile {
    /// A numeric column.
    Numeric(NumericProfile),
    /// A categorical column.
    Categorical(CategoricalProfile),
}

impl ReferenceProfile {
    /// Fits the profile of one column's values.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `psi_bins` is 0, [`DriftError::LimitExceeded`] above
    /// [`MAX_PSI_BINS`].
    pub fn fit(data: &ColumnData<'_>, psi_bins: usize) -> Result<Self> {
        check_bins(psi_bins)?;
        Ok(Self::fit_unchecked(data, psi_bins))
    }

    fn fit_unchecked(data: &ColumnData<'_>, psi_bins: usize) -> Self {
        match data {
            ColumnData::Numeric(v) => {
                Self::Numeric(NumericProfile::fit_view_unchecked(v.view(), psi_bins))
            }
            other => Self::Categorical(CategoricalProfile::fit_column(other)),
        }
    }

    /// The numeric profile, if it is one.
    #[must_use]
    pub fn as_numeric(&self) -> Option<&NumericProfile> {
        match self {
            Self::Numeric(p) => Some(p),
            Self::Categorical(_) => None,
        }
    }

    /// The categorical profile, if it is one.
    #[must_use]
    pub fn as_categorical(&self) -> Option<&CategoricalProfile> {
        match self {
            Self::Categorical(p) => Some(p),
            Self::Numeric(_) => None,
        }
    }

    /// All rows of the reference column.
    #[must_use]
    pub fn n_rows(&self) -> u64 {
        match self {
            Self::Numeric(p) => p.n_rows,
            Self::Categorical(p) => p.n_rows,
        }
    }
}

/// A named column's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfiledColumn {
    /// The column's name.
    pub name: String,
    /// Its profile.
    pub profile: ReferenceProfile,
}

/// The profiles of a dataset's columns, in the order of the table they were fitted from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    /// The format version ([`PROFILE_FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    columns: Vec<ProfiledColumn>,
}

#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl DatasetProfile {
    /// Fits every column of `table` with the default PSI bins.
    #[must_use]
    pub fn fit(table: &Table<'_>) -> Self {
        Self::fit_unchecked(table, DEFAULT_PSI_BINS, None)
    }

    /// Fits every column of `table` with `psi_bins` PSI bins, columns in parallel on the
    /// current rayon pool (see [`DatasetProfile::fit_with_threads`]).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `psi_bins` is 0, [`DriftError::LimitExceeded`] above
    /// [`MAX_PSI_BINS`] (checked before anything is allocated).
    pub fn fit_with_bins(table: &Table<'_>, psi_bins: usize) -> Result<Self> {
        Self::fit_with_threads(table, psi_bins, None)
    }

    /// Fits every column of `table` with `psi_bins` PSI bins, at most `max_threads` columns at
    /// once on the current rayon pool (`None`: every thread of the pool). The profile is the
    /// same whatever the number of threads.
    ///
    /// # Errors
    /// As [`DatasetProfile::fit_with_bins`].
    pub fn fit_with_threads(
        table: &Table<'_>,
        psi_bins: usize,
        max_threads: Option<std::num::NonZeroUsize>,
    ) -> Result<Self> {
        check_bins(psi_bins)?;
        Ok(Self::fit_unchecked(table, psi_bins, max_threads))
    }

    fn fit_unchecked(
        table: &Table<'_>,
        psi_bins: usize,
        max_threads: Option<std::num::NonZeroUsize>,
    ) -> Self {
        let _span =
            tracing::debug_span!("drift.profile.fit", columns = table.columns().len()).entered();
        let values = table.columns().iter().map(|c| c.data().len()).sum();
        let threads = crate::parallel::threads_for(table.columns().len(), values, max_threads);
        Self {
            format_version: PROFILE_FORMAT_VERSION,
            columns: crate::parallel::map_columns(table.columns(), threads, |c| ProfiledColumn {
                name: c.name().to_owned(),
                profile: ReferenceProfile::fit_unchecked(c.data(), psi_bins),
            }),
        }
    }

    /// The columns, in fitting order.
    #[must_use]
    pub fn columns(&self) -> &[ProfiledColumn] {
        &self.columns
    }

    /// The profile of the column named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&ReferenceProfile> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.profile)
    }

    /// Serializes to JSON.
    ///
    /// # Errors
    /// [`DriftError::InvalidProfile`] if serialization fails (it does not for a fitted profile).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| DriftError::InvalidProfile {
            column: String::new(),
            reason: e.to_string(),
        })
    }

    /// Reads a profile from JSON, refusing newer format versions and checking every invariant.
    ///
    /// # Errors
    /// [`DriftError::FormatVersion`] for a profile written by a newer format,
    /// [`DriftError::InvalidProfile`] for malformed JSON or a broken invariant.
    pub fn from_json(json: &str) -> Result<Self> {
        let malformed = |e: serde_json::Error| DriftError::InvalidProfile {
            column: String::new(),
            reason: e.to_string(),
        };
        let probe: VersionProbe = serde_json::from_str(json).map_err(malformed)?;
        if probe.format_version > PROFILE_FORMAT_VERSION {
            return Err(DriftError::FormatVersion {
                found: probe.format_version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        let profile: Self = serde_json::from_str(json).map_err(malformed)?;
        profile.validate()?;
        Ok(profile)
    }

    /// Checks the invariants of every column (what [`DatasetProfile::from_json`] does after
    /// parsing).
    ///
    /// # Errors
    /// [`DriftError::InvalidProfile`] naming the first bad column, or
    /// [`DriftError::FormatVersion`].
    pub fn validate(&self) -> Result<()> {
        if self.format_version > PROFILE_FORMAT_VERSION {
            return Err(DriftError::FormatVersion {
                found: self.format_version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(self.columns.len());
        for c in &self.columns {
            // A profile is fitted from a `Table`, which refuses an empty name: a stored profile
            // with one was not written by us, and no table could be scored against it.
            if c.name.is_empty() {
                return Err(DriftError::InvalidProfile {
                    column: String::new(),
                    reason: "a column name must not be empty".to_owned(),
                });
            }
            if !seen.insert(c.name.as_str()) {
                return Err(DriftError::InvalidProfile {
                    column: c.name.clone(),
                    reason: "duplicate column".to_owned(),
                });
            }
            match &c.profile {
                ReferenceProfile::Numeric(p) => p.validate(&c.name)?,
                ReferenceProfile::Categorical(p) => p.validate(&c.name)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_linear_quantiles() {
        // numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.9, 1]) == [1, 1.75, 2.5, 3.7, 4]
        let s = [1.0, 2.0, 3.0, 4.0];
        let got: Vec<f64> = [0.0, 0.25, 0.5, 0.9, 1.0]
            .iter()
            .map(|&q| quantile_sorted(&s, q))
            .collect();
        for (g, w) in got.iter().zip([1.0, 1.75, 2.5, 3.7, 4.0]) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn bins_dedupe_and_count() {
        let s = [1.0, 1.0, 1.0, 1.0, 2.0, 3.0];
        let b = QuantileBinning::fit_sorted(&s, 4).unwrap();
        // numpy.quantile(s, [0, .25, .5, .75, 1]) = [1, 1, 1, 1.75, 3] → unique [1, 1.75, 3]
        // → interior cut [1.75]
        assert_eq!(b.edges(), &[1.75]);
        assert_eq!(b.reference_counts(), &[4, 2]);
        assert_eq!(b.count([0.5, 1.0, 1.74, 1.75, 9.0]), vec![3, 2]);
        assert_eq!(QuantileBinning::fit_sorted(&[], 10).unwrap().n_bins(), 1);
    }

    #[test]
    fn small_support_is_kept_up_to_five() {
        let p = NumericProfile::fit(&[1.0, 2.0, 2.0, 3.0, 5.0, 8.0]);
        assert_eq!(p.small_support(), Some(&[1.0, 2.0, 3.0, 5.0, 8.0][..]));
        let p = NumericProfile::fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(p.small_support(), None);
    }

    #[test]
    fn counts_messy_values() {
        let p = NumericProfile::fit(&[f64::NAN, 1.0, f64::INFINITY, -0.5, f64::NEG_INFINITY]);
        assert_eq!(
            (p.n_rows(), p.n_nan(), p.n_pos_inf(), p.n_neg_inf()),
            (5, 1, 1, 1)
        );
        assert_eq!(p.sorted(), &[-0.5, 1.0]);
        assert!((p.mean() - 0.25).abs() < 1e-15);
        assert!((p.std() - 0.75).abs() < 1e-15);
        let empty = NumericProfile::fit(&[]);
        assert!(empty.mean().is_nan());
        assert_eq!(empty.psi_bins().n_bins(), 1);
    }
}
