//! Streaming drift monitoring: a [`DriftMonitor`] shared by all request threads accumulates
//! each window's values against a fitted [`DatasetProfile`](crate::profile::DatasetProfile) and
//! scores every closed window with the batch [`DriftReport`](crate::report::DriftReport).
//!
//! - Exact where exact is cheap: counts on the profile's PSI bins and category tables are kept
//!   exactly, so PSI and the categorical tests equal their batch values.
//! - Order-based methods (KS, Cramér–von Mises, Anderson–Darling, Wasserstein) use the exact
//!   values while a window fits [`MonitorConfig::exact_budget`], beyond it a [`KllSketch`]
//!   whose rank-error bound is reported next to the statistic ([`FeatureWindow::rank_error`]).
//! - Window summaries ([`WindowSummary`]) serialize and merge across replicas: counts add
//!   exactly, merging is associative and commutative on the exact parts, and
//!   [`WindowSummary::merge_all`] merges many replicas in one pass.
//! - Memory per feature does not depend on the stream's length: the exact values up to the
//!   budget, then one sketch buffer of fixed size ([`KllSketch::allocation`]).
//! - Missing values, infinities, wrong types, out-of-range values and unseen categories are
//!   flagged per observation ([`Quality`]) and counted per window; rows of the wrong width are
//!   typed errors, counted, and the monitor keeps working.

mod kll;
mod monitor;
mod summary;

pub use kll::{
    KllSketch, MAX_K, MAX_LEVELS, MIN_LEVEL_CAPACITY, MIN_LEVEL0_CAPACITY, RANK_ERROR_DELTA,
};
pub use monitor::{
    ColumnBatch, DriftMonitor, FeatureValue, FeatureWindow, MAX_EXACT_BUDGET, MAX_PANES,
    MAX_PENDING_REPORTS, MAX_SCORED_CELLS, MAX_SCORED_VALUES, MAX_SHARDS, MonitorConfig,
    MonitorCounters, Quality, ValueRetention, WindowReport, WindowSpec,
};
pub use summary::{
    BadInput, CategoricalSummary, FeatureSummary, MAX_UNSEEN_NAMES, MergeMismatch, NumericSummary,
    UNSEEN_OVERFLOW, Values, WindowSummary,
};
