//! # mlops-drift
//!
//! Is the data my model scores still the data it was trained on? This crate answers with
//! two-sample statistics that agree with SciPy (Kolmogorov–Smirnov, Cramér–von Mises,
//! Anderson–Darling, Wasserstein, energy distance, PSI, chi-squared and more), reference profiles
//! fitted once at training time, dataset drift reports, streaming monitors cheap enough for the
//! request path, online change detectors (ADWIN, Page–Hinkley, DDM, …) and performance monitoring
//! when ground truth arrives late.
//!
//! It depends only on `mlops-core`: results leave the crate as `mlops_core::Evidence`.
//!
//! Batch drift, in layers:
//!
//! - [`stats`]: the two-sample statistics themselves.
//! - [`table`]: the input of profiles and reports, named numeric or categorical columns borrowed
//!   from the caller.
//! - [`profile`]: reference profiles fitted once at training time, stored as versioned JSON and
//!   scored against without sorting or binning the reference again.
//! - [`report`]: dataset drift reports (method per column by Evidently's rule or chosen,
//!   thresholds, [`policy`] for missing and infinite values, [`correction`] for multiple
//!   testing, explanations, evidence).
//!
//! Online, in the service:
//!
//! - [`stream`]: the thread-safe [`DriftMonitor`](stream::DriftMonitor): constant memory per
//!   feature, windows closed by count or clock, each closed window scored as a batch report.
//! - [`detect`]: online change detectors (ADWIN, Page–Hinkley, DDM, …) on a metric stream.
//! - [`monitor`]: alerts with hysteresis and cooldown, and performance monitoring once late
//!   ground truth arrives.
//! - [`humility`]: per-prediction humility rules in the request path (uncertain scores,
//!   outlying inputs, unseen or rare categories, sparse bins, missing features) that count,
//!   override or reject a prediction before the service answers, in nanoseconds.
//! - `conformance` (feature `testkit`): the runner that checks these statistics against SciPy,
//!   Evidently and River case files.
//! - [`limits`]: every limit on caller-supplied counts and sizes ([`MAX_COUNT`] and the
//!   `MAX_*` constants of each module), and the decisions for huge finite values.
//!
//! ## Reference profiles
//!
//! Drift is always a comparison with what the model was trained on. Re-reading the training set
//! on every check is slow and often impossible in a service, so the training pipeline fits a
//! [`DatasetProfile`](profile::DatasetProfile) once: per numeric column the sorted sample (what
//! KS, Cramér–von Mises, Anderson–Darling and Wasserstein need), quantile bins for PSI and the
//! counts of missing and infinite values; per categorical column the category counts. The profile
//! serializes to versioned JSON; store it beside the model artifact and pin its digest in the
//! registry (`VersionCoreBuilder::drift_profile` in `mlops-registry`). At start-up the service
//! loads it, and every report or monitor scores current data against it without sorting or
//! binning the reference again.
//!
//! A report decides per column (p-value tests against α, distances against a threshold), ranks
//! columns by a comparable effect size, explains each decision (quantiles before and after, the
//! bins or categories that moved most, unseen categories) and leaves the crate as
//! `mlops_core::Evidence` for governance. Messy data (NaN, infinities, empty or constant columns,
//! unseen categories) gives a documented status, never a panic.
//!
//! ```
//! use mlops_drift::profile::DatasetProfile;
//! use mlops_drift::report::{DriftReport, ReportConfig};
//! use mlops_drift::table::Table;
//!
//! // Training time: fit and store.
//! let ages: Vec<f64> = (0..1_000).map(|i| 20.0 + f64::from(i % 40)).collect();
//! let plans: Vec<&str> = (0..1_000).map(|i| ["basic", "pro"][i % 2]).collect();
//! let training = Table::new().with_numeric("age", &ages)?.with_categorical("plan", &plans)?;
//! let json = DatasetProfile::fit(&training).to_json()?;
//!
//! // Serving: load once, score each batch.
//! let profile = DatasetProfile::from_json(&json)?;
//! let older: Vec<f64> = ages.iter().map(|a| a + 15.0).collect();
//! let report = DriftReport::from_profile(
//!     &profile,
//!     &Table::new().with_numeric("age", &older)?.with_categorical("plan", &plans)?,
//!     &ReportConfig::default(),
//! )?;
//! assert!(report.column("age").is_some_and(|c| c.drifted));
//! assert!(report.column("plan").is_some_and(|c| !c.drifted));
//! assert_eq!(report.ranking.first().map(String::as_str), Some("age"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use mlops_core;
pub use ndarray;

#[cfg(feature = "arrow")]
pub mod arrow;
#[cfg(feature = "testkit")]
pub mod conformance;
pub mod correction;
pub mod detect;
pub mod error;
pub mod humility;
pub mod limits;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod monitor;
mod parallel;
pub mod policy;
pub mod profile;
pub mod report;
mod sort;
pub mod stats;
pub mod stream;
pub mod table;
#[cfg(test)]
mod test_support;

pub use error::{DriftError, PerformanceError, Result, Sample};
pub use limits::MAX_COUNT;
