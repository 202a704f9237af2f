//! Dataset drift reports: every column of a table scored against its reference, the share of
//! drifted columns, the dataset decision, a multiple-testing correction across the p-value tests,
//! and an explanation per column.
//!
//! ```
//! use mlops_drift::report::{DriftReport, ReportConfig};
//! use mlops_drift::table::Table;
//!
//! let ref_age: Vec<f64> = (0..200).map(|i| 20.0 + (i % 40) as f64).collect();
//! let cur_age: Vec<f64> = (0..200).map(|i| 35.0 + (i % 40) as f64).collect();
//! let ref_plan = ["basic"; 200];
//! let cur_plan = ["basic"; 200];
//! let reference = Table::new()
//!     .with_numeric("age", &ref_age)?
//!     .with_categorical("plan", &ref_plan)?;
//! let current = Table::new()
//!     .with_numeric("age", &cur_age)?
//!     .with_categorical("plan", &cur_plan)?;
//! let report = DriftReport::compute(&reference, &current, &ReportConfig::default())?;
//! assert!(report.column("age").unwrap().drifted);
//! assert!(!report.column("plan").unwrap().drifted);
//! assert_eq!(report.n_drifted, 1);
//! assert!(report.dataset_drifted); // 1 of 2 columns: share 0.5 ≥ 0.5
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```
//!
//! # Decisions
//!
//! A p-value test drifts when its p-value (adjusted, if a correction is set) is below α; a score
//! drifts when it is at least its threshold. Two rules override the method: a reference that is
//! constant while the current sample varies is drift (with the reason), and under
//! [`NanPolicy::AsCategory`](crate::policy::NanPolicy::AsCategory) a numeric column also drifts
//! when its missing share does. The drift share is drifted columns over tested columns (skipped
//! and failed columns are excluded); the dataset drifts when the share is at least
//! [`ReportConfig::drift_share`] and at least one column was tested.
//!
//! # Unseen categories
//!
//! Current categories that the reference never saw are pooled into one bucket,
//! [`OTHER_CATEGORY`](crate::policy::OTHER_CATEGORY), whose reference count is 0. The
//! chi-squared and z-tests and the Jensen–Shannon distance are finite with an empty reference
//! bucket; PSI smooths every share as `(p + 1e-4) / (1 + K·1e-4)` over its K buckets, so no
//! statistic is ever infinite and no p-value is a silent 0. The new categories are listed by name
//! in the explanation.

mod calls;
mod column;
mod config;
#[cfg(feature = "html")]
pub mod html;

use serde::{Deserialize, Serialize};

use mlops_core::{CheckName, Clock, Direction, Evidence, ModelRef, Subject};

use crate::error::Result;
use crate::parallel;
use crate::profile::DatasetProfile;
use crate::table::Table;

pub use column::{MethodScore, score_column, score_numeric};
pub use config::{ColumnConfig, Method, ReportConfig};

/// The format version of the report's JSON form.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The smoothing ε of the project's PSI.
pub const PSI_EPSILON: f64 = 1e-4;

/// Whether a column was scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ColumnStatus {
    /// The column was scored.
    Tested,
    /// The column could not be scored (empty, all missing, absent on one side); the report goes
    /// on without it.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Scoring failed (a policy refused the data, the method does not fit the column); the
    /// report goes on without it.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Whether a column holds numbers or categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ColumnKind {
    /// Numbers.
    Numeric,
    /// Categories.
    Categorical,
}

/// The change in the share of missing values, always reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingShare {
    /// Missing values in the reference.
    pub reference_missing: u64,
    /// Rows of the reference.
    pub reference_rows: u64,
    /// Missing values in the current sample.
    pub current_missing: u64,
    /// Rows of the current sample.
    pub current_rows: u64,
    /// Reference share (0 for an empty sample).
    #[serde(with = "mlops_core::float_serde")]
    pub reference_share: f64,
    /// Current share.
    pub current_share: f64,
    /// Pooled two-proportion z statistic (reference minus current).
    pub z: f64,
    /// Its two-sided p-value.
    pub p_value: f64,
    /// Natural log of the p-value.
    #[serde(with = "mlops_core::float_serde")]
    pub ln_p: f64,
    /// Whether the share changed at the report's `missing_alpha`.
    pub drifted: bool,
}

/// One row of a quantile table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileRow {
    /// The probability (0.05, 0.25, 0.5, 0.75, 0.95).
    pub q: f64,
    /// The reference quantile (NumPy's linear method).
    pub reference: f64,
    /// The current quantile.
    pub current: f64,
}

/// A bin or category and its contribution to the drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The bin (`[a, b)`) or category.
    pub label: String,
    /// Its share of the reference.
    pub reference_share: f64,
    /// Its share of the current sample.
    pub current_share: f64,
    /// Its PSI term `(c − r) ln(c / r)` with the smoothed shares (always ≥ 0).
    pub contribution: f64,
}

/// Why a column drifted, or what changed in it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Explanation {
    /// The bins (numeric: the reference-quantile PSI bins) or categories that contribute most,
    /// largest first.
    pub top_contributors: Vec<Contribution>,
    /// p5, p25, p50, p75 and p95 of reference and current (numeric columns).
    pub quantiles: Vec<QuantileRow>,
    /// Categories of the current sample that the reference never saw (pooled into
    /// [`OTHER_CATEGORY`](crate::policy::OTHER_CATEGORY) for the test).
    pub new_categories: Vec<String>,
    /// Reference categories absent from the current sample.
    pub vanished_categories: Vec<String>,
}

/// The result for one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    /// The column's name.
    pub column: String,
    /// Numbers or categories (as profiled).
    pub kind: ColumnKind,
    /// Whether it was scored.
    pub status: ColumnStatus,
    /// The method used (`None` when skipped before a method was chosen).
    pub method: Option<Method>,
    /// The statistic: the test statistic of a p-value test, the score otherwise (NaN if not
    /// computed).
    #[serde(with = "mlops_core::float_serde")]
    pub statistic: f64,
    /// The p-value of a p-value test.
    #[serde(with = "opt_float")]
    pub p_value: Option<f64>,
    /// Its natural log (finite even when the p-value underflows to 0).
    #[serde(with = "opt_float")]
    pub ln_p: Option<f64>,
    /// The p-value after the report's multiple-testing correction.
    #[serde(with = "opt_float")]
    pub adjusted_p_value: Option<f64>,
    /// The threshold: α for p-value tests, the score ceiling otherwise (NaN when no method
    /// ran).
    #[serde(with = "mlops_core::float_serde")]
    pub threshold: f64,
    /// The decision.
    pub drifted: bool,
    /// Jensen–Shannon distance (base 2, in [0, 1]) between reference and current over the
    /// explanation's bins or categories: comparable across columns and methods, used to rank.
    pub effect_size: f64,
    /// Values used by the test, reference side (after policies).
    pub n_reference: u64,
    /// Values used by the test, current side.
    pub n_current: u64,
    /// Why the decision was made when a rule overrode the method (constant reference, missing
    /// share under `AsCategory`), or a note about the data (both constant).
    pub reason: Option<String>,
    /// The missing-share comparison.
    pub missing: Option<MissingShare>,
    /// The explanation.
    pub explanation: Explanation,
}

impl ColumnReport {
    /// Whether the column was scored.
    #[must_use]
    pub fn is_tested(&self) -> bool {
        self.status == ColumnStatus::Tested
    }

    fn decide(&mut self, forced: bool) {
        let by_method = match (self.method, self.adjusted_p_value.or(self.p_value)) {
            (Some(m), Some(p)) if m.is_p_value_test() => p < self.threshold,
            (Some(_), _) => self.statistic >= self.threshold,
            (None, _) => false,
        };
        self.drifted = self.is_tested() && (by_method || forced);
    }
}

/// A dataset drift report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The format version ([`REPORT_FORMAT_VERSION`]).
    pub format_version: u32,
    /// Per column, in the order of the reference profile (then current-only columns).
    pub columns: Vec<ColumnReport>,
    /// Column names ranked by effect size, largest first (tested columns only).
    pub ranking: Vec<String>,
    /// Tested columns.
    pub n_tested: usize,
    /// Drifted columns.
    pub n_drifted: usize,
    /// `n_drifted / n_tested` (0 when nothing was tested).
    pub drift_share: f64,
    /// The share at which the dataset drifts.
    pub drift_share_threshold: f64,
    /// The dataset decision.
    pub dataset_drifted: bool,
    /// The correction applied across p-value tests.
    pub correction: crate::correction::Correction,
    /// α of the missing-share tests.
    pub missing_alpha: f64,
}

impl DriftReport {
    /// Fits a profile of `reference` and scores `current` against it.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`](crate::DriftError::InvalidParameter) for an invalid
    /// configuration. Problems with a column's data never fail the report: they become that
    /// column's status.
    pub fn compute(
        reference: &Table<'_>,
        current: &Table<'_>,
        config: &ReportConfig,
    ) -> Result<Self> {
        config.validate()?;
        let profile =
            DatasetProfile::fit_with_threads(reference, config.psi_bins, config.max_threads)?;
        Self::from_profile(&profile, current, config)
    }

    /// Scores `current` against a fitted profile. The reference is never sorted or binned again.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`](crate::DriftError::InvalidParameter) for an invalid
    /// configuration.
    pub fn from_profile(
        profile: &DatasetProfile,
        current: &Table<'_>,
        config: &ReportConfig,
    ) -> Result<Self> {
        config.validate()?;
        let _span =
            tracing::debug_span!("drift.report", columns = profile.columns().len()).entered();
        let values = current.columns().iter().map(|c| c.data().len()).sum();
        let threads = parallel::threads_for(profile.columns().len(), values, config.max_threads);
        let mut scored: Vec<(ColumnReport, bool)> =
            parallel::map_columns(profile.columns(), threads, |pc| {
                let cfg = config.for_column(&pc.name);
                let cur = current.get(&pc.name).map(|c| c.data());
                column::score_column(&pc.name, &pc.profile, cur, &cfg, config)
            });
        for c in current.columns() {
            if profile.get(c.name()).is_none() {
                let kind = if c.data().is_numeric() {
                    ColumnKind::Numeric
                } else {
                    ColumnKind::Categorical
                };
                scored.push((
                    column::skipped(
                        c.name(),
                        kind,
                        "the column is absent from the reference".to_owned(),
                    ),
                    false,
                ));
            }
        }

        // Multiple-testing correction across the p-value tests.
        let idx: Vec<usize> = scored
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.is_tested() && c.method.is_some_and(Method::is_p_value_test))
            .map(|(i, _)| i)
            .collect();
        let ps: Vec<f64> = idx
            .iter()
            .filter_map(|&i| scored.get(i).and_then(|(c, _)| c.p_value))
            .collect();
        if ps.len() == idx.len() {
            let adjusted = config.correction.adjust(&ps)?;
            for (&i, adj) in idx.iter().zip(adjusted) {
                if let Some((c, _)) = scored.get_mut(i) {
                    c.adjusted_p_value = Some(adj);
                }
            }
        }
        let mut columns = Vec::with_capacity(scored.len());
        for (mut c, forced) in scored {
            c.decide(forced);
            columns.push(c);
        }

        let n_tested = columns.iter().filter(|c| c.is_tested()).count();
        let n_drifted = columns.iter().filter(|c| c.drifted).count();
        let drift_share = if n_tested == 0 {
            0.0
        } else {
            n_drifted as f64 / n_tested as f64
        };
        let mut ranked: Vec<&ColumnReport> = columns.iter().filter(|c| c.is_tested()).collect();
        ranked.sort_by(|a, b| {
            b.effect_size
                .total_cmp(&a.effect_size)
                .then_with(|| a.column.cmp(&b.column))
        });
        let ranking = ranked.iter().map(|c| c.column.clone()).collect();
        let report = Self {
            format_version: REPORT_FORMAT_VERSION,
            ranking,
            n_tested,
            n_drifted,
            drift_share,
            drift_share_threshold: config.drift_share,
            dataset_drifted: n_tested > 0 && drift_share >= config.drift_share,
            correction: config.correction,
            missing_alpha: config.missing_alpha,
            columns,
        };
        tracing::debug!(
            n_tested = report.n_tested,
            n_drifted = report.n_drifted,
            dataset_drifted = report.dataset_drifted,
            "drift report computed"
        );
        Ok(report)
    }

    /// The report of the column named `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&ColumnReport> {
        self.columns.iter().find(|c| c.column == name)
    }

    /// Serializes to pretty JSON (stable field names, pinned by a golden-file test).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`](crate::DriftError::InvalidParameter) if serialization
    /// fails (it does not for a computed report).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| crate::DriftError::InvalidParameter {
            name: "report",
            reason: e.to_string(),
        })
    }

    /// Converts into `mlops-core` evidence about `version`, measured at `clock.now()`.
    ///
    /// Per tested column: `drift.<method>.<column>` (a p-value test's adjusted p-value with
    /// [`Direction::AtLeast`] α, or a score with [`Direction::Below`] its threshold), and
    /// `drift.missing_share.<column>` (the missing-share p-value, `AtLeast` the report's
    /// `missing_alpha`). When a rule overrode the method (constant reference, missing share
    /// under `AsCategory`), `drift.forced.<column>` with value 1, threshold 1, `Below`, so it
    /// fails. Dataset level: `drift.dataset.share` (the drift share, `Below` the dataset
    /// threshold; 0 tested columns gives NaN, which fails closed). Characters of a column name
    /// outside `[A-Za-z0-9._:/-]` become `_`, and names are cut to fit 128 characters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`](crate::DriftError::InvalidParameter) if a check name
    /// cannot be built (it always can after the sanitizing above).
    pub fn to_evidence(&self, version: &ModelRef, clock: &dyn Clock) -> Result<Vec<Evidence>> {
        let at = clock.now();
        let mut out = Vec::new();
        let source = "mlops-drift/report";
        for c in self.columns.iter().filter(|c| c.is_tested()) {
            let Some(method) = c.method else { continue };
            let subject = Subject::Feature {
                version: Some(version.clone()),
                feature: c.column.clone(),
            };
            let (value, direction) = if method.is_p_value_test() {
                (
                    c.adjusted_p_value.or(c.p_value).unwrap_or(f64::NAN),
                    Direction::AtLeast,
                )
            } else {
                (c.statistic, Direction::Below)
            };
            let mut ev = Evidence::new(
                check_name(method.name(), &c.column)?,
                subject.clone(),
                value,
                c.threshold,
                direction,
                at,
            )
            .with_source(source)
            .with_detail("statistic", c.statistic)
            .with_detail("effect_size", c.effect_size)
            .with_detail("n_reference", c.n_reference as f64)
            .with_detail("n_current", c.n_current as f64)
            .with_detail("drifted", if c.drifted { 1.0 } else { 0.0 });
            if let Some(p) = c.p_value {
                ev = ev.with_detail("p_value", p);
            }
            if let Some(lp) = c.ln_p {
                ev = ev.with_detail("ln_p", lp);
            }
            let by_method_drift = !ev.passed();
            out.push(ev);
            if let Some(m) = &c.missing {
                out.push(
                    Evidence::new(
                        check_name("missing_share", &c.column)?,
                        subject.clone(),
                        m.p_value,
                        self.missing_alpha,
                        Direction::AtLeast,
                        at,
                    )
                    .with_source(source)
                    .with_detail("reference_share", m.reference_share)
                    .with_detail("current_share", m.current_share)
                    .with_detail("z", m.z),
                );
            }
            if c.drifted && !by_method_drift {
                out.push(
                    Evidence::new(
                        check_name("forced", &c.column)?,
                        subject,
                        1.0,
                        1.0,
                        Direction::Below,
                        at,
                    )
                    .with_source(source),
                );
            }
        }
        let share = if self.n_tested == 0 {
            f64::NAN
        } else {
            self.drift_share
        };
        out.push(
            Evidence::new(
                check_name_raw("drift.dataset.share")?,
                Subject::Version {
                    version: version.clone(),
                },
                share,
                self.drift_share_threshold,
                Direction::Below,
                at,
            )
            .with_source(source)
            .with_detail("n_tested", self.n_tested as f64)
            .with_detail("n_drifted", self.n_drifted as f64),
        );
        Ok(out)
    }
}

/// Serde for `Option<f64>` with non-finite values as `"nan"`, `"inf"`, `"-inf"`.
mod opt_float {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct F(#[serde(with = "mlops_core::float_serde")] f64);

    pub(super) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(F).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<F>::deserialize(d)?.map(|F(v)| v))
    }
}

fn check_name(method: &str, column: &str) -> Result<CheckName> {
    let prefix = format!("drift.{method}.");
    let room = CheckName::MAX_LEN.saturating_sub(prefix.len());
    let col: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(room)
        .collect();
    let col = if col.is_empty() { "_".to_owned() } else { col };
    check_name_raw(&format!("{prefix}{col}"))
}

fn check_name_raw(name: &str) -> Result<CheckName> {
    CheckName::new(name).map_err(|e| crate::DriftError::InvalidParameter {
        name: "check",
        reason: e.to_string(),
    })
}
