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
//! The capabilities land module by module; see the workspace README for what is available.

pub use mlops_core;
pub use ndarray;

pub mod conformance;
pub mod correction;
pub mod detect;
pub mod error;
pub mod monitor;
pub mod policy;
pub mod profile;
pub mod report;
mod sort;
pub mod stats;
pub mod stream;
pub mod table;

pub use error::{DriftError, PerformanceError, Result, Sample};
