//! The streaming drift monitor.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use mlops_core::chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use mlops_core::Clock;

use super::kll::KllSketch;
use super::summary::{
    BadInput, CategoricalSummary, FeatureSummary, MAX_UNSEEN_NAMES, NumericSummary,
    UNSEEN_OVERFLOW, Values, WindowSummary,
};
use crate::error::{DriftError, Result};
use crate::profile::{DatasetProfile, QuantileBinning, ReferenceProfile};
use crate::report::{DriftReport, PSI_EPSILON, ReportConfig};
use crate::stats::psi::psi_from_counts;
use crate::table::{Column, ColumnData, Table};

/// How windows are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WindowSpec {
    /// A window closes once it holds `rows` accepted rows (exactly, with one observing thread;
    /// with several, rows other threads hold in their current count batches when the window
    /// fills go with it, so it may hold a few more). None is lost.
    Count {
        /// Rows per window (at least 1).
        rows: u64,
    },
    /// A window closes when [`DriftMonitor::poll`] finds that `length` has passed on the
    /// monitor's clock since it opened.
    Time {
        /// Window length (positive).
        length: TimeDelta,
    },
}

/// What a monitor keeps of each numeric feature's values besides the bin counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValueRetention {
    /// The exact values up to the budget, then a KLL sketch (order-based methods are exact or
    /// carry the sketch's bound).
    #[default]
    ExactThenSketch,
    /// Only the bin counts: the cheapest observe and the smallest summaries. Bin-based methods
    /// (PSI, and chi-squared/JS on bins) stay exact; order-based methods see each value at its
    /// bin's lower edge, with a rank-error bound of the largest bin's share.
    BinsOnly,
}

/// The monitor's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    /// How windows are cut.
    pub window: WindowSpec,
    /// Each report covers the last `panes` closed windows: 1 is tumbling, more is sliding.
    pub panes: usize,
    /// What is kept of numeric values besides the bin counts.
    pub retention: ValueRetention,
    /// Numeric values kept exactly per feature and window before switching to a sketch.
    pub exact_budget: usize,
    /// The sketch's accuracy parameter beyond the budget.
    pub sketch_k: u32,
    /// Accumulation shards, rounded up to a power of two (0: twice the available parallelism, at
    /// most [`MAX_SHARDS`]).
    pub shards: usize,
    /// Closed windows held for [`DriftMonitor::poll`]; older ones are dropped and counted.
    pub max_pending_reports: usize,
    /// How each window is scored: the batch report's settings.
    pub report: ReportConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            window: WindowSpec::Count { rows: 10_000 },
            panes: 1,
            retention: ValueRetention::ExactThenSketch,
            exact_budget: 65_536,
            sketch_k: KllSketch::DEFAULT_K,
            shards: 0,
            max_pending_reports: 64,
            report: ReportConfig::default(),
        }
    }
}

/// One feature value of an observed row.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FeatureValue<'a> {
    /// A number (NaN counts as missing; infinities are counted and excluded).
    Number(f64),
    /// A category.
    Category(&'a str),
    /// No value.
    Missing,
}

/// One column of a batch: all values of one feature.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ColumnBatch<'a> {
    /// Numbers.
    Numeric(&'a [f64]),
    /// Categories (`None` is missing).
    Categorical(&'a [Option<&'a str>]),
}

impl ColumnBatch<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Numeric(v) => v.len(),
            Self::Categorical(v) => v.len(),
        }
    }
}

/// Data-quality and humility flags of one observation, as a small bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Quality(u8);

impl Quality {
    /// A feature was missing or NaN.
    pub const MISSING: Self = Self(1);
    /// A feature had the wrong type.
    pub const WRONG_TYPE: Self = Self(2);
    /// A numeric feature was outside the reference range.
    pub const OUT_OF_RANGE: Self = Self(4);
    /// A categorical feature had a category the reference never saw.
    pub const UNSEEN_CATEGORY: Self = Self(8);
    /// A numeric feature was infinite.
    pub const INFINITE: Self = Self(16);

    /// Whether every flag of `other` is set.
    #[must_use]
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set: the model's input looks like its training data.
    #[must_use]
    pub fn is_clean(self) -> bool {
        self.0 == 0
    }

    fn set(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// What the monitor knows about one feature's reference.
#[derive(Debug)]
enum Plan {
    Numeric {
        bins: QuantileBinning,
        min: f64,
        max: f64,
    },
    Categorical {
        known: BTreeSet<String>,
    },
}

#[derive(Debug)]
struct Shard {
    rows: u64,
    /// Rows not yet added to the monitor's shared count (count windows).
    unflushed: u64,
    bad: BadInput,
    features: Vec<FeatureSummary>,
}

/// A value aligned to its own cache lines so shards do not share them.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

#[derive(Debug)]
struct Windows {
    start: DateTime<Utc>,
    recent: VecDeque<WindowSummary>,
    pending: VecDeque<WindowSummary>,
}

/// Counters that outlive windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MonitorCounters {
    /// Windows closed.
    pub windows_closed: u64,
    /// Closed windows dropped because nobody polled them in time.
    pub reports_dropped: u64,
    /// Times the clock was seen going backwards.
    pub clock_regressions: u64,
}

/// Statistics of one feature in a window report, next to the batch report's column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureWindow {
    /// The feature.
    pub feature: String,
    /// Whether order-based statistics were computed from the exact values.
    pub exact: bool,
    /// The normalized rank-error bound (99 % confidence) of every order-based statistic of
    /// this feature (KS, Cramér–von Mises, Anderson–Darling, Wasserstein); 0 when exact.
    pub rank_error: f64,
    /// PSI from the exact bin counts (numeric features), equal to the batch PSI on the same
    /// values whatever the window size.
    pub exact_psi: Option<f64>,
    /// Present values.
    pub count: u64,
    /// Missing values.
    pub missing: u64,
    /// Infinite values.
    pub infinite: u64,
    /// Values of the wrong type.
    pub wrong_type: u64,
    /// Numeric values outside the reference range.
    pub out_of_range: u64,
    /// Values of unseen categories.
    pub unseen: u64,
}

/// The result of one closed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// The merged summary the report was computed from.
    pub summary: WindowSummary,
    /// The batch drift report on the window's values (the same methods and fields as
    /// [`DriftReport::from_profile`]).
    pub report: DriftReport,
    /// Per feature: exactness, rank-error bound and quality counters.
    pub features: Vec<FeatureWindow>,
}

/// Most rows materialized per feature when a window is scored.
pub const MAX_SCORED_VALUES: u64 = 1 << 20;

/// Most values materialized in all (rows × features) when a window is scored: a wide window is
/// scored on a proportional reduction to `MAX_SCORED_CELLS / features` rows, so the memory and
/// time of [`WindowReport::from_summary`] are bounded by the summary's own size plus this
/// constant, never by the counts the summary claims.
pub const MAX_SCORED_CELLS: u64 = 1 << 22;

/// The most accumulation shards a monitor accepts ([`MonitorConfig::shards`]).
pub const MAX_SHARDS: usize = 4096;

/// The most panes a sliding window may span ([`MonitorConfig::panes`]).
pub const MAX_PANES: usize = 1024;

/// The largest exact-value budget per feature and window ([`MonitorConfig::exact_budget`]):
/// 2^24 values, 128 MiB per feature.
pub const MAX_EXACT_BUDGET: usize = 1 << 24;

/// The most closed windows held for [`DriftMonitor::poll`]
/// ([`MonitorConfig::max_pending_reports`]).
pub const MAX_PENDING_REPORTS: usize = 1 << 16;

impl WindowReport {
    /// Scores a (possibly merged) summary against the profile: the batch report on the window's
    /// values. Exact values are scored exactly; a sketched feature is scored on the sketch's
    /// weighted items repeated by weight, and its [`FeatureWindow::rank_error`] states the
    /// bound. Missing, infinite and wrong-type values are scored as missing. A window of more
    /// than [`MAX_SCORED_VALUES`] rows is scored on a proportional, quantile-preserving
    /// reduction to that many rows (p-values then reflect that sample size; the bin counts and
    /// [`FeatureWindow::exact_psi`] still use every value), and so is a wide window whose rows
    /// × features exceed [`MAX_SCORED_CELLS`]: what is materialized is bounded by the summary's
    /// size plus that constant, whatever counts the summary claims.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] for an invalid report configuration or a summary that
    /// breaks its invariants ([`WindowSummary::validate`]), [`DriftError::LimitExceeded`] for a
    /// count above [`MAX_COUNT`](crate::MAX_COUNT).
    pub fn from_summary(
        profile: &DatasetProfile,
        summary: WindowSummary,
        config: &ReportConfig,
    ) -> Result<Self> {
        summary.validate()?;
        let mut numeric: Vec<(String, Vec<f64>)> = Vec::new();
        let mut categorical: Vec<(String, Vec<Option<&str>>)> = Vec::new();
        let mut features = Vec::new();
        // Every column gets exactly `target` rows: the window's rows, or a proportional
        // reduction of them for very large windows.
        let rows = summary.rows;
        let per_feature = MAX_SCORED_CELLS / (summary.features.len() as u64).max(1);
        let target = rows.min(MAX_SCORED_VALUES).min(per_feature.max(1));
        let scaled = |count: u64| -> u64 {
            u64::try_from(u128::from(count) * u128::from(target) / u128::from(rows.max(1)))
                .unwrap_or(target)
        };
        for (name, f) in &summary.features {
            match f {
                FeatureSummary::Numeric(s) => {
                    let numeric_profile = profile.get(name).and_then(ReferenceProfile::as_numeric);
                    let keep = scaled(s.count);
                    let mut values = match (&s.values, numeric_profile) {
                        (Values::BinsOnly { .. }, Some(p)) => {
                            let reps = bin_representatives(p.psi_bins().edges(), p.quantile(0.5));
                            expand(reps.into_iter().zip(s.bin_counts.iter().copied()), keep)
                        }
                        (Values::Exact { values }, _) => {
                            expand(values.iter().map(|&v| (v, 1)), keep)
                        }
                        (Values::Sketch { sketch }, _) => {
                            expand(sketch.weighted_items().into_iter(), keep)
                        }
                        (Values::BinsOnly { .. }, None) => Vec::new(),
                    };
                    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
                    let rank_error = match s.values {
                        Values::BinsOnly { n } if n > 0 => {
                            s.bin_counts.iter().copied().max().unwrap_or(0) as f64 / n as f64
                        }
                        _ => s.values.rank_error(),
                    };
                    // Missing, infinite and wrong-type values are scored as missing.
                    values.resize(usize_of(target), f64::NAN);
                    let exact_psi = profile
                        .get(name)
                        .and_then(ReferenceProfile::as_numeric)
                        .and_then(|p| {
                            psi_from_counts(
                                p.psi_bins().reference_counts(),
                                &s.bin_counts,
                                PSI_EPSILON,
                            )
                            .ok()
                        })
                        .map(|r| r.psi);
                    features.push(FeatureWindow {
                        feature: name.clone(),
                        exact: s.values.is_exact(),
                        rank_error,
                        exact_psi,
                        count: s.count,
                        missing: s.missing,
                        infinite: s.infinite,
                        wrong_type: s.wrong_type,
                        out_of_range: s.below_range + s.above_range,
                        unseen: 0,
                    });
                    numeric.push((name.clone(), values));
                }
                FeatureSummary::Categorical(s) => {
                    let mut values: Vec<Option<&str>> = expand(
                        s.counts.iter().map(|(cat, &c)| (Some(cat.as_str()), c)),
                        scaled(s.count),
                    );
                    // Missing and wrong-type values are scored as missing.
                    values.resize(usize_of(target), None);
                    features.push(FeatureWindow {
                        feature: name.clone(),
                        exact: true,
                        rank_error: 0.0,
                        exact_psi: None,
                        count: s.count,
                        missing: s.missing,
                        infinite: 0,
                        wrong_type: s.wrong_type,
                        out_of_range: 0,
                        unseen: s.unseen,
                    });
                    categorical.push((name.clone(), values));
                }
            }
        }
        let mut table = Table::new();
        for (name, v) in &numeric {
            table.push(Column::new(
                name.clone(),
                ColumnData::Numeric(v.as_slice().into()),
            ))?;
        }
        for (name, v) in &categorical {
            table.push(Column::new(name.clone(), ColumnData::OptStrs(v)))?;
        }
        let report = DriftReport::from_profile(profile, &table, config)?;
        Ok(Self {
            summary,
            report,
            features,
        })
    }

    /// The window statistics of the feature named `name`.
    #[must_use]
    pub fn feature(&self, name: &str) -> Option<&FeatureWindow> {
        self.features.iter().find(|f| f.feature == name)
    }

    /// The batch report's evidence ([`DriftReport::to_evidence`]), each feature's evidence
    /// carrying the window's `rank_error`, `exact` (1 or 0), `missing`, `unseen` and
    /// `out_of_range` as details, so a policy can see how a streaming statistic was derived.
    ///
    /// # Errors
    /// As [`DriftReport::to_evidence`].
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
    pub fn to_evidence(
        &self,
        version: &mlops_core::ModelRef,
        clock: &dyn Clock,
    ) -> Result<Vec<mlops_core::Evidence>> {
        let mut evidence = self.report.to_evidence(version, clock)?;
        for e in &mut evidence {
            let mlops_core::Subject::Feature { feature, .. } = &e.subject else {
                continue;
            };
            let Some(f) = self.feature(feature) else {
                continue;
            };
            let details = [
                ("rank_error", f.rank_error),
                ("exact", f64::from(u8::from(f.exact))),
                ("missing", f.missing as f64),
                ("unseen", f.unseen as f64),
                ("out_of_range", f.out_of_range as f64),
            ];
            for (k, v) in details {
                e.details.insert(k.to_owned(), v);
            }
        }
        Ok(evidence)
    }
}

/// A value inside each bin: its lower edge, or just below the first edge for the first bin
/// (`fallback` when there is a single bin).
fn bin_representatives(edges: &[f64], fallback: f64) -> Vec<f64> {
    let first = edges.first().map_or(fallback, |e| e.next_down());
    std::iter::once(first)
        .chain(edges.iter().copied())
        .collect()
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Weighted items (ascending, for numbers) repeated by weight, reduced to exactly `keep`
/// values in all (at most the total weight) by cumulative shares, so quantiles are preserved.
fn expand<T: Copy>(items: impl Iterator<Item = (T, u64)>, keep: u64) -> Vec<T> {
    let items: Vec<(T, u64)> = items.collect();
    let total: u128 = items.iter().map(|p| u128::from(p.1)).sum();
    let keep = u128::from(keep).min(total);
    let mut out = Vec::with_capacity(usize::try_from(keep).unwrap_or(0));
    let mut cum: u128 = 0;
    let mut emitted: u128 = 0;
    for (v, w) in items {
        cum += u128::from(w);
        let upto = cum * keep / total.max(1);
        let copies = upto.saturating_sub(emitted);
        emitted = upto;
        out.extend(std::iter::repeat_n(v, usize::try_from(copies).unwrap_or(0)));
    }
    out
}

/// A drift monitor shared by every request thread: `observe` takes `&self`, costs a shard lock
/// and a binary search per numeric value, and holds memory bounded by the window budget and the
/// sketch size, whatever the stream's length.
///
/// ```
/// use std::sync::Arc;
/// use mlops_drift::profile::DatasetProfile;
/// use mlops_drift::stream::{DriftMonitor, FeatureValue, MonitorConfig, WindowSpec};
/// use mlops_drift::table::Table;
/// use mlops_drift::mlops_core::ManualClock;
///
/// let age: Vec<f64> = (0..1_000).map(|i| f64::from(i % 50)).collect();
/// let profile = DatasetProfile::fit(&Table::new().with_numeric("age", &age)?);
/// let config = MonitorConfig { window: WindowSpec::Count { rows: 500 }, ..MonitorConfig::default() };
/// let monitor = DriftMonitor::new(profile, &["age"], config, Arc::new(ManualClock::default()))?;
/// for i in 0..500 {
///     monitor.observe(&[FeatureValue::Number(f64::from(i % 50) + 30.0)])?;
/// }
/// let reports = monitor.poll()?;
/// assert_eq!(reports.len(), 1);
/// assert!(reports[0].report.column("age").unwrap().drifted);
/// # Ok::<(), mlops_drift::DriftError>(())
/// ```
#[derive(Debug)]
pub struct DriftMonitor {
    profile: DatasetProfile,
    names: Vec<String>,
    plans: Vec<Plan>,
    config: MonitorConfig,
    clock: Arc<dyn Clock>,
    shards: Box<[Padded<Mutex<Shard>>]>,
    rows_in_window: Padded<AtomicU64>,
    windows: Mutex<Windows>,
    counters: Mutex<MonitorCounters>,
}

static NEXT_THREAD_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_SLOT: usize = NEXT_THREAD_SLOT.fetch_add(1, Ordering::Relaxed);
}

impl DriftMonitor {
    /// A monitor of `features` (in the order rows will give them) against their reference
    /// profiles.
    ///
    /// # Errors
    /// [`DriftError::UnknownColumn`] for a feature the profile does not hold;
    /// [`DriftError::InvalidParameter`] for an empty feature list, a zero-row or non-positive
    /// window, zero panes, a zero budget, a sketch parameter outside [8, [`MAX_K`](super::MAX_K)],
    /// or an invalid report configuration; [`DriftError::LimitExceeded`] for more than
    /// [`MAX_SHARDS`] shards, [`MAX_PANES`] panes, [`MAX_PENDING_REPORTS`] pending reports or an
    /// exact budget above [`MAX_EXACT_BUDGET`].
    pub fn new(
        profile: DatasetProfile,
        features: &[&str],
        config: MonitorConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        config.report.validate()?;
        let invalid = |name: &'static str, reason: &str| DriftError::InvalidParameter {
            name,
            reason: reason.to_owned(),
        };
        if features.is_empty() {
            return Err(invalid("features", "at least one feature is needed"));
        }
        match config.window {
            WindowSpec::Count { rows: 0 } => return Err(invalid("window", "zero rows")),
            WindowSpec::Time { length } if length <= TimeDelta::zero() => {
                return Err(invalid("window", "the length must be positive"));
            }
            _ => {}
        }
        if config.panes == 0 {
            return Err(invalid("panes", "must be at least 1"));
        }
        if config.exact_budget == 0 {
            return Err(invalid("exact_budget", "must be at least 1"));
        }
        crate::limits::check_size("shards", config.shards, MAX_SHARDS)?;
        crate::limits::check_size("panes", config.panes, MAX_PANES)?;
        crate::limits::check_size("exact_budget", config.exact_budget, MAX_EXACT_BUDGET)?;
        crate::limits::check_size(
            "max_pending_reports",
            config.max_pending_reports,
            MAX_PENDING_REPORTS,
        )?;
        KllSketch::new(config.sketch_k)?;
        let mut plans = Vec::new();
        let mut kept = Vec::new();
        for &name in features {
            let p = profile.get(name).ok_or_else(|| DriftError::UnknownColumn {
                name: name.to_owned(),
            })?;
            plans.push(match p {
                ReferenceProfile::Numeric(n) => Plan::Numeric {
                    bins: n.psi_bins().clone(),
                    min: n.min(),
                    max: n.max(),
                },
                ReferenceProfile::Categorical(c) => Plan::Categorical {
                    known: c.counts().keys().cloned().collect(),
                },
            });
            kept.push(name.to_owned());
        }
        let shards = if config.shards == 0 {
            std::thread::available_parallelism().map_or(2, usize::from) * 2
        } else {
            config.shards
        }
        .clamp(1, MAX_SHARDS)
        .next_power_of_two();
        let monitor = Self {
            profile,
            names: kept,
            plans,
            shards: Vec::new().into_boxed_slice(),
            rows_in_window: Padded(AtomicU64::new(0)),
            windows: Mutex::new(Windows {
                start: clock.now(),
                recent: VecDeque::new(),
                pending: VecDeque::new(),
            }),
            counters: Mutex::new(MonitorCounters::default()),
            config,
            clock,
        };
        let shards: Vec<Padded<Mutex<Shard>>> = (0..shards)
            .map(|_| Padded(Mutex::new(monitor.fresh_shard())))
            .collect();
        Ok(Self {
            shards: shards.into_boxed_slice(),
            ..monitor
        })
    }

    fn fresh_shard(&self) -> Shard {
        let shard = Shard {
            rows: 0,
            unflushed: 0,
            bad: BadInput::default(),
            features: self
                .plans
                .iter()
                .map(|p| match p {
                    Plan::Numeric { bins, .. } => FeatureSummary::Numeric(NumericSummary::new(
                        bins.n_bins(),
                        self.config.retention == ValueRetention::ExactThenSketch,
                    )),
                    Plan::Categorical { .. } => {
                        FeatureSummary::Categorical(CategoricalSummary::new())
                    }
                })
                .collect::<Vec<_>>(),
        };
        let mut shard = shard;
        // Spare capacity after the summaries: one shard's hot counters never share a cache
        // line with the next heap allocation.
        shard.features.reserve_exact(1);
        shard
    }

    /// The monitored features, in row order.
    #[must_use]
    pub fn features(&self) -> &[String] {
        &self.names
    }

    /// Heap bytes the open window holds for the feature at `index` (summed over shards): bin
    /// counts plus exact values or sketch. Independent of the stream's length: bounded by the
    /// exact budget, then by the sketch's size.
    #[must_use]
    pub fn heap_bytes_of_feature(&self, index: usize) -> usize {
        self.shards
            .iter()
            .map(|s| match s.0.lock().features.get(index) {
                Some(FeatureSummary::Numeric(n)) => n.heap_bytes(),
                Some(FeatureSummary::Categorical(c)) => {
                    c.counts.keys().map(|k| k.capacity() + 48).sum::<usize>()
                }
                None => 0,
            })
            .sum()
    }

    /// Counters kept across windows.
    #[must_use]
    pub fn counters(&self) -> MonitorCounters {
        *self.counters.lock()
    }

    fn shard(&self) -> &Mutex<Shard> {
        let slot = THREAD_SLOT.with(|s| *s);
        // A power of two: a mask instead of a division.
        let mask = self.shards.len().saturating_sub(1);
        match self.shards.get(slot & mask) {
            Some(s) => &s.0,
            None => &self.shards_fallback().0,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`new` always builds at least one shard"
    )]
    fn shards_fallback(&self) -> &Padded<Mutex<Shard>> {
        &self.shards[0]
    }

    /// Observes one row, given in the order of [`DriftMonitor::features`]. Returns the row's
    /// quality flags (missing, wrong type, out of range, unseen category, infinite): values that
    /// are not usable are counted per window, never fatal.
    ///
    /// # Errors
    /// [`DriftError::Shape`] for a row of the wrong width (counted in the window's
    /// [`BadInput::wrong_width`]); the monitor keeps working.
    pub fn observe(&self, row: &[FeatureValue<'_>]) -> Result<Quality> {
        let mut quality = Quality::default();
        let due;
        {
            let mut shard = self.shard().lock();
            if row.len() != self.plans.len() {
                shard.bad.wrong_width += 1;
                drop(shard);
                return Err(DriftError::Shape {
                    reason: format!(
                        "a row of {} values for {} features",
                        row.len(),
                        self.plans.len()
                    ),
                });
            }
            let budget = self.config.exact_budget;
            let k = self.config.sketch_k;
            for ((plan, value), summary) in
                self.plans.iter().zip(row).zip(shard.features.iter_mut())
            {
                record(plan, summary, *value, budget, k, &mut quality);
            }
            shard.rows += 1;
            due = self.count_rows(&mut shard, 1, false);
        }
        if due {
            self.close_if_full();
        }
        Ok(quality)
    }

    /// Observes a batch of rows given column by column (one column per feature, in order): one
    /// lock for the whole batch.
    ///
    /// # Errors
    /// [`DriftError::Shape`] when the column count is wrong or columns differ in length (the
    /// batch is rejected and counted).
    pub fn observe_batch(&self, columns: &[ColumnBatch<'_>]) -> Result<()> {
        let rows = columns.first().map_or(0, ColumnBatch::len);
        let mut shard = self.shard().lock();
        if columns.len() != self.plans.len() || columns.iter().any(|c| c.len() != rows) {
            shard.bad.ragged_batches += 1;
            drop(shard);
            return Err(DriftError::Shape {
                reason: format!(
                    "a batch of {} columns (lengths {:?}) for {} features",
                    columns.len(),
                    columns.iter().map(ColumnBatch::len).collect::<Vec<_>>(),
                    self.plans.len()
                ),
            });
        }
        let budget = self.config.exact_budget;
        let k = self.config.sketch_k;
        let mut q = Quality::default();
        for ((plan, column), summary) in self
            .plans
            .iter()
            .zip(columns)
            .zip(shard.features.iter_mut())
        {
            match column {
                ColumnBatch::Numeric(values) => {
                    for &x in *values {
                        record(plan, summary, FeatureValue::Number(x), budget, k, &mut q);
                    }
                }
                ColumnBatch::Categorical(values) => {
                    for v in *values {
                        let fv = v.map_or(FeatureValue::Missing, FeatureValue::Category);
                        record(plan, summary, fv, budget, k, &mut q);
                    }
                }
            }
        }
        shard.rows += rows as u64;
        let due = self.count_rows(&mut shard, rows as u64, true);
        drop(shard);
        if due {
            self.close_if_full();
        }
        Ok(())
    }

    /// Count windows: counts `rows` new rows of `shard` (whose lock the caller holds) and
    /// returns whether the window is full. Rows are counted per shard and added to the shared
    /// count in batches of at most 1/(2 · shards) of what the window still lacks (`all`: now),
    /// so threads rarely write the shared counter (it was the bottleneck of two threads
    /// observing one monitor), while a window's last rows are added one by one: with one
    /// thread a window closes at exactly `rows` rows. Batches are added under the shard's
    /// lock and a close takes back exactly the rows its shards had added, so the shared count
    /// is always the added rows of the open window.
    fn count_rows(&self, shard: &mut Shard, rows: u64, all: bool) -> bool {
        let WindowSpec::Count { rows: per_window } = self.config.window else {
            return false;
        };
        shard.unflushed += rows;
        let counter = &self.rows_in_window.0;
        // The shard count is a power of two: a shift, not a division, on this hot path.
        let quota = per_window.saturating_sub(counter.load(Ordering::Relaxed))
            >> (self.shards.len().trailing_zeros() + 1);
        if !all && shard.unflushed < quota.max(1) {
            return false;
        }
        let add = std::mem::take(&mut shard.unflushed);
        counter.fetch_add(add, Ordering::Relaxed) + add >= per_window
    }

    /// Closes a full count window (one thread closes; the others carry on into the next).
    fn close_if_full(&self) {
        if let WindowSpec::Count { rows: per_window } = self.config.window
            && let Some(mut w) = self.windows.try_lock()
            && self.rows_in_window.0.load(Ordering::Relaxed) >= per_window
        {
            self.close_locked(&mut w);
        }
    }

    /// Closes the current window if it is due (time windows: its length has passed on the
    /// clock), then returns the reports of every window closed since the last poll, oldest first.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] for an invalid report configuration (checked at
    /// construction, so not in practice).
    pub fn poll(&self) -> Result<Vec<WindowReport>> {
        let pending: Vec<WindowSummary> = {
            let mut w = self.windows.lock();
            if let WindowSpec::Time { length } = self.config.window {
                let now = self.clock.now();
                if now < w.start {
                    self.counters.lock().clock_regressions += 1;
                } else if now - w.start >= length {
                    self.close_locked(&mut w);
                }
            }
            w.pending.drain(..).collect()
        };
        pending
            .into_iter()
            .map(|s| WindowReport::from_summary(&self.profile, s, &self.config.report))
            .inspect(|_r| {
                #[cfg(feature = "metrics")]
                if let Ok(r) = _r {
                    crate::metrics::record_report(&r.report);
                }
            })
            .collect()
    }

    /// Closes the current window now, whatever its size or age, and returns its report (merged
    /// over the last `panes` windows); this report is not also queued for [`DriftMonitor::poll`].
    ///
    /// # Errors
    /// As [`DriftMonitor::poll`].
    pub fn close_window(&self) -> Result<WindowReport> {
        let summary = {
            let mut w = self.windows.lock();
            self.close_locked(&mut w);
            w.pending.pop_back()
        };
        let summary = summary.unwrap_or_else(|| self.empty_summary(self.clock.now()));
        let report = WindowReport::from_summary(&self.profile, summary, &self.config.report)?;
        #[cfg(feature = "metrics")]
        crate::metrics::record_report(&report.report);
        Ok(report)
    }

    /// A merged summary of the open window so far, without closing it (for shipping to a
    /// central place between closes).
    #[must_use]
    pub fn snapshot(&self) -> WindowSummary {
        let start = self.windows.lock().start;
        let end = self.clock.now();
        let mut out = self.empty_summary(start);
        out.end = end;
        let mut parts = vec![out];
        for s in &*self.shards {
            let shard = s.0.lock();
            let part = self.summary_of(&shard, start, end);
            drop(shard);
            parts.push(part);
        }
        // Same features by construction, so the merge cannot fail.
        WindowSummary::merge_all(&parts).unwrap_or_else(|_| parts.swap_remove(0))
    }

    fn empty_summary(&self, start: DateTime<Utc>) -> WindowSummary {
        self.summary_of(&self.fresh_shard(), start, start)
    }

    fn summary_of(&self, shard: &Shard, start: DateTime<Utc>, end: DateTime<Utc>) -> WindowSummary {
        let mut features: Vec<(String, FeatureSummary)> = self
            .names
            .iter()
            .cloned()
            .zip(shard.features.iter().cloned())
            .collect();
        for (_, f) in &mut features {
            if let FeatureSummary::Numeric(n) = f {
                n.values.canonicalize();
            }
        }
        WindowSummary {
            start,
            end,
            rows: shard.rows,
            bad_input: shard.bad,
            features,
            exact_budget: self.config.exact_budget,
            sketch_k: self.config.sketch_k,
        }
    }

    /// Swaps every shard for a fresh one and queues the merged window (over the last panes).
    fn close_locked(&self, w: &mut Windows) {
        let now = self.clock.now();
        let mut counted = 0;
        let old: Vec<Shard> = self
            .shards
            .iter()
            .map(|s| {
                let fresh = self.fresh_shard();
                let old = std::mem::replace(&mut *s.0.lock(), fresh);
                counted += old.rows.saturating_sub(old.unflushed);
                old
            })
            .collect();
        if matches!(self.config.window, WindowSpec::Count { .. }) {
            // Exactly the rows the closed shards had added to the count: rows added since
            // (observed while this window is being merged) belong to the next window.
            self.rows_in_window.0.fetch_sub(counted, Ordering::Relaxed);
        }
        let mut parts = vec![self.empty_summary(w.start)];
        parts.extend(old.iter().map(|s| self.summary_of(s, w.start, now)));
        // Same features by construction, so the merge cannot fail.
        let mut closed = WindowSummary::merge_all(&parts).unwrap_or_else(|_| parts.swap_remove(0));
        closed.end = now;
        w.start = now;
        w.recent.push_back(closed);
        while w.recent.len() > self.config.panes {
            w.recent.pop_front();
        }
        let merged = WindowSummary::merge_all(&w.recent).ok();
        let mut counters = self.counters.lock();
        counters.windows_closed += 1;
        if let Some(m) = merged {
            w.pending.push_back(m);
        }
        while w.pending.len() > self.config.max_pending_reports.max(1) {
            w.pending.pop_front();
            counters.reports_dropped += 1;
        }
        tracing::debug!(
            target: "mlops_drift::stream",
            windows_closed = counters.windows_closed,
            "drift window closed"
        );
    }
}

/// The bin of a finite `x` among ascending `cuts`: the number of cuts `<= x`, as
/// [`QuantileBinning::bin_of`]. For the usual handful of PSI bins a branch-free count has a far
/// shorter dependency chain than a binary search; many bins use the binary search.
#[inline]
fn bin_of(cuts: &[f64], x: f64) -> usize {
    if cuts.len() <= 32 {
        cuts.iter().map(|&c| usize::from(c <= x)).sum()
    } else {
        cuts.partition_point(|&c| c <= x)
    }
}

fn record(
    plan: &Plan,
    summary: &mut FeatureSummary,
    value: FeatureValue<'_>,
    budget: usize,
    k: u32,
    quality: &mut Quality,
) {
    match (plan, summary) {
        (Plan::Numeric { bins, min, max }, FeatureSummary::Numeric(s)) => match value {
            FeatureValue::Number(x) if x.is_finite() => {
                s.count += 1;
                if x < *min {
                    s.below_range += 1;
                    quality.set(Quality::OUT_OF_RANGE);
                } else if x > *max {
                    s.above_range += 1;
                    quality.set(Quality::OUT_OF_RANGE);
                }
                if let Some(c) = s.bin_counts.get_mut(bin_of(bins.edges(), x)) {
                    *c += 1;
                }
                s.values.push(x, budget, k);
            }
            FeatureValue::Number(x) if x.is_nan() => {
                s.missing += 1;
                quality.set(Quality::MISSING);
            }
            FeatureValue::Number(_) => {
                s.infinite += 1;
                quality.set(Quality::INFINITE);
            }
            FeatureValue::Missing => {
                s.missing += 1;
                quality.set(Quality::MISSING);
            }
            FeatureValue::Category(_) => {
                s.wrong_type += 1;
                quality.set(Quality::WRONG_TYPE);
            }
        },
        (Plan::Categorical { known }, FeatureSummary::Categorical(s)) => match value {
            FeatureValue::Category(c) => {
                s.count += 1;
                if let Some(n) = s.counts.get_mut(c) {
                    *n += 1;
                    if !known.contains(c) {
                        s.unseen += 1;
                        quality.set(Quality::UNSEEN_CATEGORY);
                    }
                    return;
                }
                let key = if known.contains(c) {
                    c
                } else {
                    s.unseen += 1;
                    quality.set(Quality::UNSEEN_CATEGORY);
                    let named = s.counts.keys().filter(|k| !known.contains(*k)).count();
                    if named >= MAX_UNSEEN_NAMES {
                        UNSEEN_OVERFLOW
                    } else {
                        c
                    }
                };
                *s.counts.entry(key.to_owned()).or_insert(0) += 1;
            }
            FeatureValue::Missing => {
                s.missing += 1;
                quality.set(Quality::MISSING);
            }
            FeatureValue::Number(_) => {
                s.wrong_type += 1;
                quality.set(Quality::WRONG_TYPE);
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_repeats_by_weight_and_reduces_proportionally() {
        let items = [(1.0, 2_u64), (2.0, 4), (3.0, 2)];
        assert_eq!(
            expand(items.into_iter(), 8),
            vec![1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0]
        );
        assert_eq!(expand(items.into_iter(), 4), vec![1.0, 2.0, 2.0, 3.0]);
        // Never more than the total weight, and exactly `keep` otherwise.
        assert_eq!(expand(items.into_iter(), 100).len(), 8);
        assert_eq!(expand(items.into_iter(), 3).len(), 3);
        assert!(expand(std::iter::empty::<(f64, u64)>(), 5).is_empty());
    }

    #[test]
    fn bin_representatives_fall_in_their_bins() {
        let edges = [-1.0, 0.0, 2.5];
        let reps = bin_representatives(&edges, 0.0);
        for (i, r) in reps.iter().enumerate() {
            assert_eq!(bin_of(&edges, *r), i, "{r}");
        }
        assert_eq!(bin_representatives(&[], 7.0), vec![7.0]);
    }
}
