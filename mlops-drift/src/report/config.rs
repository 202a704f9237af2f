//! What a report computes: the method and threshold of each column, the policies, the
//! multiple-testing correction and the dataset rule.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

use crate::correction::Correction;
use crate::error::{DriftError, Result};
use crate::policy::{InfPolicy, NanPolicy};
use crate::profile::DEFAULT_PSI_BINS;

/// A drift method a report can run on a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov test (numeric; p-value).
    Ks,
    /// Two-sample Cramér–von Mises test (numeric; p-value).
    CramerVonMises,
    /// k-sample Anderson–Darling test with k = 2 (numeric; p-value).
    AndersonDarling,
    /// Wasserstein-1 distance divided by max(population σ of the reference, 0.001) (numeric;
    /// score).
    WassersteinNormed,
    /// Energy distance (numeric; score).
    Energy,
    /// Population stability index: reference-quantile bins for numeric columns, categories for
    /// categorical ones (score).
    Psi,
    /// Chi-squared test of homogeneity on the 2×K table of counts (p-value). On a numeric
    /// column each distinct value is a category.
    ChiSquared,
    /// Two-proportion z-test on the share of one category (binary columns; p-value).
    ZTest,
    /// Jensen–Shannon distance, natural log (score). On a numeric column each distinct value is
    /// a category.
    JensenShannon,
}

impl Method {
    /// Whether the method's decision is a p-value against α (otherwise a score against a
    /// ceiling).
    #[must_use]
    pub fn is_p_value_test(self) -> bool {
        matches!(
            self,
            Self::Ks
                | Self::CramerVonMises
                | Self::AndersonDarling
                | Self::ChiSquared
                | Self::ZTest
        )
    }

    /// The conventional default threshold: α = 0.05 for p-value tests, 0.1 for PSI, normed
    /// Wasserstein, Jensen–Shannon and energy distance.
    #[must_use]
    pub fn default_threshold(self) -> f64 {
        if self.is_p_value_test() { 0.05 } else { 0.1 }
    }

    /// The short name used in check names and JSON (`ks`, `psi`, `wasserstein_normed`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ks => "ks",
            Self::CramerVonMises => "cramer_von_mises",
            Self::AndersonDarling => "anderson_darling",
            Self::WassersteinNormed => "wasserstein_normed",
            Self::Energy => "energy",
            Self::Psi => "psi",
            Self::ChiSquared => "chi_squared",
            Self::ZTest => "z_test",
            Self::JensenShannon => "jensen_shannon",
        }
    }

    /// Whether the method needs numeric values (it cannot run on a categorical column).
    #[must_use]
    pub fn needs_numeric(self) -> bool {
        matches!(
            self,
            Self::Ks
                | Self::CramerVonMises
                | Self::AndersonDarling
                | Self::WassersteinNormed
                | Self::Energy
        )
    }
}

/// How one column is scored. Unset fields take the report's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnConfig {
    /// The method; `None` chooses by Evidently's rule (see [`ReportConfig`]).
    pub method: Option<Method>,
    /// The threshold; `None` takes [`Method::default_threshold`].
    pub threshold: Option<f64>,
    /// The NaN policy.
    pub nan_policy: NanPolicy,
    /// The infinity policy.
    pub inf_policy: InfPolicy,
}

impl ColumnConfig {
    /// The defaults: automatic method, default threshold, omit NaN and infinities.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the method.
    #[must_use]
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Sets the threshold.
    #[must_use]
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Sets the infinity policy.
    #[must_use]
    pub fn inf_policy(mut self, policy: InfPolicy) -> Self {
        self.inf_policy = policy;
        self
    }
}

/// The configuration of a [`DriftReport`](super::DriftReport).
///
/// The automatic method is Evidently's rule: with at most [`ReportConfig::small_reference`]
/// (1000) reference values (after missing and infinite values are dropped), a numeric column with more than 5 distinct values (reference and
/// current together) gets [`Method::Ks`]; a categorical column, or a numeric one with at most 5
/// distinct values, gets [`Method::ChiSquared`] when it has more than 2 distinct values and
/// [`Method::ZTest`] otherwise. With more reference rows a numeric column gets
/// [`Method::WassersteinNormed`] (or [`Method::JensenShannon`] when it has at most 5 distinct
/// values) and a categorical one [`Method::JensenShannon`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReportConfig {
    /// Per-column settings, by column name.
    pub columns: BTreeMap<String, ColumnConfig>,
    /// Settings for columns without an entry in `columns`.
    pub default_column: ColumnConfig,
    /// The dataset drifts when the share of drifted columns is at least this (default 0.5).
    pub drift_share: f64,
    /// Correction applied across the columns scored by p-value tests (default none).
    pub correction: Correction,
    /// Reference sizes (present values) up to this use the small-sample methods of the automatic
    /// rule (1000).
    pub small_reference: u64,
    /// Bins of the project's default PSI for numeric columns (10; at most
    /// [`MAX_PSI_BINS`](crate::stats::psi::MAX_PSI_BINS)).
    pub psi_bins: usize,
    /// How many contributing bins or categories each explanation lists (5).
    pub top_contributors: usize,
    /// α of the missing-share test reported for every column (0.05).
    pub missing_alpha: f64,
    /// At most this many columns are scored (and, for a report from raw data, profiled) at
    /// once, each on a thread of the current rayon pool; `None` (the default) uses every thread
    /// of the pool, `Some(1)` the caller's thread alone. Small tables are always scored on the
    /// caller's thread. The report is the same whatever the number of threads.
    #[serde(default)]
    pub max_threads: Option<NonZeroUsize>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            columns: BTreeMap::new(),
            default_column: ColumnConfig::default(),
            drift_share: 0.5,
            correction: Correction::None,
            small_reference: 1000,
            psi_bins: DEFAULT_PSI_BINS,
            top_contributors: 5,
            missing_alpha: 0.05,
            max_threads: None,
        }
    }
}

impl ReportConfig {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one column's configuration.
    #[must_use]
    pub fn column(mut self, name: impl Into<String>, config: ColumnConfig) -> Self {
        self.columns.insert(name.into(), config);
        self
    }

    /// Sets the configuration of columns without their own.
    #[must_use]
    pub fn default_column(mut self, config: ColumnConfig) -> Self {
        self.default_column = config;
        self
    }

    /// Sets the dataset drift share.
    #[must_use]
    pub fn drift_share(mut self, share: f64) -> Self {
        self.drift_share = share;
        self
    }

    /// Sets the multiple-testing correction.
    #[must_use]
    pub fn correction(mut self, correction: Correction) -> Self {
        self.correction = correction;
        self
    }

    /// Caps the threads that score columns at once (`1`: the caller's thread alone).
    #[must_use]
    pub fn max_threads(mut self, threads: NonZeroUsize) -> Self {
        self.max_threads = Some(threads);
        self
    }

    /// The configuration of column `name`.
    #[must_use]
    pub fn for_column(&self, name: &str) -> ColumnConfig {
        self.columns
            .get(name)
            .copied()
            .unwrap_or(self.default_column)
    }

    /// Checks every value once, so the report itself cannot meet a bad parameter.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] naming the bad value; [`DriftError::LimitExceeded`] for
    /// `psi_bins` above [`MAX_PSI_BINS`](crate::stats::psi::MAX_PSI_BINS).
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name: &'static str, reason: String| DriftError::InvalidParameter { name, reason };
        if !(0.0..=1.0).contains(&self.drift_share) {
            return Err(invalid(
                "drift_share",
                format!("`{}` is outside [0, 1]", self.drift_share),
            ));
        }
        if !(self.missing_alpha > 0.0 && self.missing_alpha < 1.0) {
            return Err(invalid(
                "missing_alpha",
                format!("`{}` is outside (0, 1)", self.missing_alpha),
            ));
        }
        if self.psi_bins < 1 {
            return Err(invalid("psi_bins", "must be at least 1".to_owned()));
        }
        crate::limits::check_size("psi_bins", self.psi_bins, crate::stats::psi::MAX_PSI_BINS)?;
        for (name, c) in std::iter::once(("<default>", &self.default_column))
            .chain(self.columns.iter().map(|(n, c)| (n.as_str(), c)))
        {
            if let Some(t) = c.threshold {
                let p_test = c.method.is_none_or(Method::is_p_value_test);
                let ok = if p_test && c.method.is_some() {
                    t > 0.0 && t < 1.0
                } else {
                    t.is_finite() && t >= 0.0
                };
                if !ok {
                    return Err(invalid(
                        "threshold",
                        format!("`{t}` is not a valid threshold for column `{name}`"),
                    ));
                }
            }
        }
        Ok(())
    }
}
