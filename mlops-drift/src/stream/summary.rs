//! Mergeable window summaries: what a monitor accumulated for each feature during one window.
//!
//! A summary is plain data (serde), so replicas can ship theirs to one place and merge them.
//! Merging is associative and commutative: counts, bin counts and category tables add exactly;
//! numeric values are kept exactly (sorted) while they fit the configured budget, and beyond it
//! in a [`KllSketch`] whose rank-error bound travels with the summary. Replicas ship
//! [`WindowSummary::compacted`] summaries: a few dozen items per feature, which a collector
//! merges fast and, over many replicas, with little loss of accuracy.
//!
//! Hostile summaries: [`WindowSummary::from_json`] (and [`WindowSummary::validate`]) check that
//! every count is at most [`MAX_COUNT`](crate::MAX_COUNT) and that the counts agree with each
//! other (per feature, present + missing + infinite + wrong-type values are the window's rows;
//! the bin counts, the values and the category counts add up to the present values). Merges add
//! counts with checked arithmetic and refuse a merge whose sums would exceed
//! [`MAX_COUNT`](crate::MAX_COUNT) ([`MergeMismatch`]), leaving `self` unchanged.

use std::collections::BTreeMap;

use mlops_core::chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::kll::KllSketch;

/// The name under which unseen categories are pooled once a window already holds
/// [`MAX_UNSEEN_NAMES`] distinct unseen names.
pub const UNSEEN_OVERFLOW: &str = "<unseen:overflow>";

/// The most distinct unseen category names a window keeps by name.
pub const MAX_UNSEEN_NAMES: usize = 256;

/// The values of a numeric feature in a window: exact while they fit the budget, then a sketch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Values {
    /// Every finite value (ascending after a merge or a close).
    Exact {
        /// The values.
        values: Vec<f64>,
    },
    /// A quantile sketch of them.
    Sketch {
        /// The sketch.
        sketch: KllSketch,
    },
    /// Only the bin counts are kept ([`ValueRetention::BinsOnly`](super::ValueRetention)).
    BinsOnly {
        /// How many values the bins hold.
        n: u64,
    },
}

impl Values {
    /// How many values are summarized.
    #[must_use]
    pub fn len(&self) -> u64 {
        match self {
            Self::Exact { values } => values.len() as u64,
            Self::Sketch { sketch } => sketch.len(),
            Self::BinsOnly { n } => *n,
        }
    }

    /// Heap bytes held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Self::Exact { values } => values.capacity() * 8,
            Self::Sketch { sketch } => sketch.heap_bytes(),
            Self::BinsOnly { .. } => 0,
        }
    }

    /// Whether no value is summarized.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the values are exact.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        matches!(self, Self::Exact { .. })
    }

    /// The normalized rank-error bound of statistics derived from these values: 0 when exact,
    /// the sketch's bound when sketched; for bins only, see
    /// [`FeatureWindow::rank_error`](super::FeatureWindow::rank_error).
    #[must_use]
    pub fn rank_error(&self) -> f64 {
        match self {
            Self::Exact { .. } | Self::BinsOnly { .. } => 0.0,
            Self::Sketch { sketch } => sketch.rank_error(),
        }
    }

    pub(crate) fn push(&mut self, x: f64, budget: usize, k: u32) {
        match self {
            Self::Exact { values } => {
                if values.len() < budget {
                    values.push(x);
                } else {
                    let mut sketch = KllSketch::with_k(k);
                    for &v in values.iter() {
                        sketch.insert(v);
                    }
                    sketch.insert(x);
                    *self = Self::Sketch { sketch };
                }
            }
            Self::Sketch { sketch } => sketch.insert(x),
            Self::BinsOnly { n } => *n += 1,
        }
    }

    /// Sorts exact values and a sketch's lowest level (the canonical form).
    pub(crate) fn canonicalize(&mut self) {
        match self {
            Self::Exact { values } => values.sort_unstable_by(f64::total_cmp),
            Self::Sketch { sketch } => sketch.canonicalize(),
            Self::BinsOnly { .. } => {}
        }
    }

    /// A copy holding at most about `items` values or sketch items: longer exact lists become
    /// sketches of accuracy `k`, and sketches are compacted ([`KllSketch::compact_to`]).
    fn compacted(&self, items: usize, k: u32) -> Self {
        match self {
            Self::Exact { values } if values.len() > items => {
                let mut sketch = KllSketch::with_k(k);
                values.iter().for_each(|&v| sketch.insert(v));
                sketch.compact_to(items);
                Self::Sketch { sketch }
            }
            Self::Sketch { sketch } => {
                let mut sketch = sketch.clone();
                sketch.compact_to(items);
                Self::Sketch { sketch }
            }
            _ => self.clone(),
        }
    }

    /// Merges `other` into `self`, as [`Values::merge_all`] (two sketches in place).
    fn merge_from(&mut self, other: &Self, budget: usize, k: u32) -> Result<(), MergeMismatch> {
        match (&mut *self, other) {
            (Self::Sketch { sketch }, Self::Sketch { sketch: theirs }) if sketch.k() <= k => {
                sketch.merge(theirs).map_err(overflow)?;
            }
            (Self::BinsOnly { n }, _) => *n = add_counts("values", *n, other.len())?,
            _ => *self = Self::merge_all(&[&*self, other], budget, k)?,
        }
        Ok(())
    }

    /// Merges many: exact values stay exact (sorted) while all of them together fit the
    /// budget; otherwise the result is one sketch of everything, built in one pass
    /// ([`KllSketch::merge_many`]: sorted runs merged level by level, exact values as weight-1
    /// runs). Bins-only absorbs everything.
    pub(crate) fn merge_all(parts: &[&Self], budget: usize, k: u32) -> Result<Self, MergeMismatch> {
        let total =
            crate::limits::total("values", parts.iter().map(|v| v.len())).map_err(overflow)?;
        if parts.iter().any(|v| matches!(v, Self::BinsOnly { .. })) {
            return Ok(Self::BinsOnly { n: total });
        }
        let mut sketches: Vec<&KllSketch> = Vec::new();
        let mut exact: Vec<&[f64]> = Vec::new();
        for part in parts {
            match part {
                Self::Exact { values } => exact.push(values),
                Self::Sketch { sketch } => sketches.push(sketch),
                Self::BinsOnly { .. } => {}
            }
        }
        if sketches.is_empty() && usize::try_from(total).is_ok_and(|t| t <= budget) {
            let mut values = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
            for e in &exact {
                values.extend_from_slice(e);
            }
            values.sort_unstable_by(f64::total_cmp);
            return Ok(Self::Exact { values });
        }
        Ok(Self::Sketch {
            sketch: KllSketch::merge_parts(k, &sketches, &exact).map_err(overflow)?,
        })
    }
}

/// The window's accumulation for one numeric feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Finite values observed.
    pub count: u64,
    /// Missing values (explicitly missing or NaN).
    pub missing: u64,
    /// Infinite values (excluded from the statistics).
    pub infinite: u64,
    /// Values of the wrong type (a category where a number was expected).
    pub wrong_type: u64,
    /// Finite values below the reference minimum.
    pub below_range: u64,
    /// Finite values above the reference maximum.
    pub above_range: u64,
    /// Counts on the reference profile's PSI bins (exact).
    pub bin_counts: Vec<u64>,
    /// The finite values, exact or sketched.
    pub values: Values,
}

impl NumericSummary {
    pub(crate) fn new(bins: usize, keep_values: bool) -> Self {
        Self {
            count: 0,
            missing: 0,
            infinite: 0,
            wrong_type: 0,
            below_range: 0,
            above_range: 0,
            bin_counts: padded_counts(bins),
            values: if keep_values {
                Values::Exact { values: Vec::new() }
            } else {
                Values::BinsOnly { n: 0 }
            },
        }
    }

    /// Heap bytes held (bin counts and values).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.bin_counts.capacity() * 8 + self.values.heap_bytes()
    }
}

/// Zeroed counts with spare capacity after them, so the counters written by one shard never
/// share a cache line with the next heap allocation (another shard's counters).
fn padded_counts(bins: usize) -> Vec<u64> {
    let mut v = Vec::with_capacity(bins + 16);
    v.resize(bins, 0);
    v
}

/// The window's accumulation for one categorical feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSummary {
    /// Present values observed.
    pub count: u64,
    /// Missing values.
    pub missing: u64,
    /// Values of the wrong type (a number where a category was expected).
    pub wrong_type: u64,
    /// Values of categories the reference never saw.
    pub unseen: u64,
    /// Count per category (unseen ones by name, up to [`MAX_UNSEEN_NAMES`]; then pooled under
    /// [`UNSEEN_OVERFLOW`]).
    pub counts: BTreeMap<String, u64>,
}

impl CategoricalSummary {
    pub(crate) fn new() -> Self {
        Self {
            count: 0,
            missing: 0,
            wrong_type: 0,
            unseen: 0,
            counts: BTreeMap::new(),
        }
    }
}

/// One feature's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeatureSummary {
    /// A numeric feature.
    Numeric(NumericSummary),
    /// A categorical feature.
    Categorical(CategoricalSummary),
}

/// Observations the monitor could not use as given, per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BadInput {
    /// Rows with the wrong number of features (rejected whole).
    pub wrong_width: u64,
    /// Batches whose columns had different lengths (rejected whole; counted per batch).
    pub ragged_batches: u64,
}

impl BadInput {
    fn add(&mut self, o: &Self) -> Result<(), MergeMismatch> {
        self.wrong_width = add_counts("wrong_width", self.wrong_width, o.wrong_width)?;
        self.ragged_batches = add_counts("ragged_batches", self.ragged_batches, o.ragged_batches)?;
        Ok(())
    }
}

/// Everything a monitor accumulated in one window, for every feature: mergeable across replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    /// When the earliest merged window opened (from the monitor's clock).
    pub start: DateTime<Utc>,
    /// When the latest merged window closed.
    pub end: DateTime<Utc>,
    /// Rows accepted.
    pub rows: u64,
    /// Rows or batches rejected.
    pub bad_input: BadInput,
    /// Per feature, in the monitor's feature order.
    pub features: Vec<(String, FeatureSummary)>,
    /// The exact-value budget per numeric feature.
    pub exact_budget: usize,
    /// The sketch accuracy parameter used beyond the budget.
    pub sketch_k: u32,
}

/// Why two summaries cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("window summaries do not match: {reason}")]
pub struct MergeMismatch {
    /// What differs.
    pub reason: String,
}

impl WindowSummary {
    /// Merges `other` into a new summary.
    ///
    /// # Errors
    /// [`MergeMismatch`] when the two summaries describe different features (names, kinds or
    /// bin counts), or when a merged count would exceed [`MAX_COUNT`](crate::MAX_COUNT).
    pub fn merge(&self, other: &Self) -> Result<Self, MergeMismatch> {
        let mut out = self.clone();
        out.merge_from(other)?;
        Ok(out)
    }

    /// Merges `other` into `self`.
    ///
    /// # Errors
    /// As [`WindowSummary::merge`]; `self` is unchanged on error.
    pub fn merge_from(&mut self, other: &Self) -> Result<(), MergeMismatch> {
        self.check_compatible(other)?;
        // Every sum first, so nothing is changed when one would overflow.
        self.check_sums(other)?;
        let budget = self.exact_budget.min(other.exact_budget);
        let k = self.sketch_k.min(other.sketch_k);
        self.exact_budget = budget;
        self.sketch_k = k;
        self.start = self.start.min(other.start);
        self.end = self.end.max(other.end);
        self.rows = add_counts("rows", self.rows, other.rows)?;
        self.bad_input.add(&other.bad_input)?;
        for ((_, mine), (_, theirs)) in self.features.iter_mut().zip(&other.features) {
            match (mine, theirs) {
                (FeatureSummary::Numeric(x), FeatureSummary::Numeric(y)) => {
                    add_numeric_counts(x, y)?;
                    x.values.merge_from(&y.values, budget, k)?;
                }
                (FeatureSummary::Categorical(x), FeatureSummary::Categorical(y)) => {
                    merge_categorical(x, y)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether every sum a merge of `other` into `self` forms stays within
    /// [`MAX_COUNT`](crate::MAX_COUNT) (the features are compatible).
    fn check_sums(&self, other: &Self) -> Result<(), MergeMismatch> {
        let mut scratch = self.bad_input;
        scratch.add(&other.bad_input)?;
        add_counts("rows", self.rows, other.rows)?;
        for ((_, mine), (_, theirs)) in self.features.iter().zip(&other.features) {
            match (mine, theirs) {
                (FeatureSummary::Numeric(x), FeatureSummary::Numeric(y)) => {
                    let mut counts = NumericSummary {
                        values: Values::BinsOnly { n: 0 },
                        bin_counts: x.bin_counts.clone(),
                        ..*x
                    };
                    add_numeric_counts(&mut counts, y)?;
                    add_counts("values", x.values.len(), y.values.len())?;
                }
                (FeatureSummary::Categorical(x), FeatureSummary::Categorical(y)) => {
                    for (name, &c) in &y.counts {
                        add_counts(
                            "category counts",
                            x.counts.get(name).copied().unwrap_or(0),
                            c,
                        )?;
                    }
                    for (a, b) in [
                        (x.count, y.count),
                        (x.missing, y.missing),
                        (x.wrong_type, y.wrong_type),
                        (x.unseen, y.unseen),
                    ] {
                        add_counts("categorical counts", a, b)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Merges many summaries (from replicas, shards or panes) in one pass: the counts of every
    /// feature add up as in pairwise merges, and each numeric feature's values are merged at
    /// once ([`KllSketch::merge_many`]) instead of one summary at a time, which is much faster
    /// for many replicas. The exact parts equal those of any sequence of pairwise merges.
    ///
    /// ```
    /// # use mlops_drift::stream::WindowSummary;
    /// # fn merged(replicas: &[WindowSummary]) -> Result<WindowSummary, mlops_drift::stream::MergeMismatch> {
    /// let total = WindowSummary::merge_all(replicas)?;
    /// # Ok(total) }
    /// ```
    ///
    /// # Errors
    /// [`MergeMismatch`] when there is no summary, when two describe different features
    /// (names, kinds or bin counts), or when a merged count would exceed
    /// [`MAX_COUNT`](crate::MAX_COUNT).
    pub fn merge_all<'a>(
        summaries: impl IntoIterator<Item = &'a Self>,
    ) -> Result<Self, MergeMismatch> {
        let all: Vec<&Self> = summaries.into_iter().collect();
        let Some(&first) = all.first() else {
            return Err(MergeMismatch {
                reason: "no summary to merge".to_owned(),
            });
        };
        for s in all.iter().skip(1) {
            first.check_compatible(s)?;
        }
        let budget = all.iter().map(|s| s.exact_budget).min().unwrap_or(0);
        let k = all
            .iter()
            .map(|s| s.sketch_k)
            .min()
            .unwrap_or(first.sketch_k);
        let mut bad_input = BadInput::default();
        for s in &all {
            bad_input.add(&s.bad_input)?;
        }
        // Counts summary by summary (each summary's features are read in order), values
        // gathered per feature and merged at once.
        let mut features: Vec<(String, FeatureSummary)> = first
            .features
            .iter()
            .map(|(name, f)| {
                let empty = match f {
                    FeatureSummary::Numeric(n) => {
                        FeatureSummary::Numeric(NumericSummary::new(n.bin_counts.len(), false))
                    }
                    FeatureSummary::Categorical(_) => {
                        FeatureSummary::Categorical(CategoricalSummary::new())
                    }
                };
                (name.clone(), empty)
            })
            .collect();
        let mut values: Vec<Vec<&Values>> = features
            .iter()
            .map(|_| Vec::with_capacity(all.len()))
            .collect();
        for s in &all {
            for (((_, out), (_, f)), vals) in features.iter_mut().zip(&s.features).zip(&mut values)
            {
                match (out, f) {
                    (FeatureSummary::Numeric(x), FeatureSummary::Numeric(y)) => {
                        add_numeric_counts(x, y)?;
                        vals.push(&y.values);
                    }
                    (FeatureSummary::Categorical(x), FeatureSummary::Categorical(y)) => {
                        merge_categorical(x, y)?;
                    }
                    _ => {}
                }
            }
        }
        for ((_, out), vals) in features.iter_mut().zip(&values) {
            if let FeatureSummary::Numeric(x) = out {
                x.values = Values::merge_all(vals, budget, k)?;
            }
        }
        Ok(Self {
            start: all.iter().map(|s| s.start).min().unwrap_or(first.start),
            end: all.iter().map(|s| s.end).max().unwrap_or(first.end),
            rows: crate::limits::total("rows", all.iter().map(|s| s.rows)).map_err(overflow)?,
            bad_input,
            features,
            exact_budget: budget,
            sketch_k: k,
        })
    }

    /// Whether `other` describes the same features (names, kinds, bin counts) as `self`.
    fn check_compatible(&self, other: &Self) -> Result<(), MergeMismatch> {
        if self.features.len() != other.features.len() {
            return Err(MergeMismatch {
                reason: format!(
                    "{} features against {}",
                    self.features.len(),
                    other.features.len()
                ),
            });
        }
        for ((a, fa), (b, fb)) in self.features.iter().zip(&other.features) {
            let same = a == b
                && match (fa, fb) {
                    (FeatureSummary::Numeric(x), FeatureSummary::Numeric(y)) => {
                        x.bin_counts.len() == y.bin_counts.len()
                    }
                    (FeatureSummary::Categorical(_), FeatureSummary::Categorical(_)) => true,
                    _ => false,
                };
            if !same {
                return Err(MergeMismatch {
                    reason: format!("feature `{a}` against `{b}`"),
                });
            }
        }
        Ok(())
    }

    /// A copy to ship to a collector: every numeric feature keeps at most about `items`
    /// values (its exact values, or the items of its sketch), so the collector reads little
    /// and merges fast. Counts, bin counts, category tables and quality counters are untouched
    /// (exact). Longer exact lists become sketches and sketches are compacted
    /// ([`KllSketch::compact_to`]); each sketch's [`Values::rank_error`] says what that cost.
    ///
    /// The merged sketch is built with [`WindowSummary::sketch_k`], and its bound is mostly
    /// its own compactions': the replicas' errors are independent, so they add up in
    /// quadrature. A compacted summary is coarse on its own (about 10 % at 32 items of a
    /// 5,000-row window), but 100 such replicas merge at `sketch_k = 200` to a bound of about
    /// 1 %, better than one sketch fed every value, and in a fraction of the time of full
    /// sketches (see the stream benchmark). Keep `items × replicas` in the thousands.
    ///
    /// ```
    /// # use mlops_drift::stream::WindowSummary;
    /// # fn ship(replica: &WindowSummary) -> mlops_drift::Result<String> {
    /// let wire = replica.compacted(32).to_json()?;
    /// # Ok(wire) }
    /// ```
    #[must_use]
    pub fn compacted(&self, items: usize) -> Self {
        let mut out = self.clone();
        for (_, f) in &mut out.features {
            if let FeatureSummary::Numeric(n) = f {
                n.values = n.values.compacted(items, self.sketch_k);
            }
        }
        out
    }

    /// The summary of the feature named `name`.
    #[must_use]
    pub fn feature(&self, name: &str) -> Option<&FeatureSummary> {
        self.features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f)
    }

    /// Serializes to JSON (exact floats round-trip).
    ///
    /// # Errors
    /// [`crate::DriftError::InvalidParameter`] if serialization fails (it does not for a
    /// summary built by a monitor).
    pub fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string(self).map_err(|e| crate::DriftError::InvalidParameter {
            name: "summary",
            reason: e.to_string(),
        })
    }

    /// Reads a summary written by [`WindowSummary::to_json`] and checks it
    /// ([`WindowSummary::validate`]).
    ///
    /// # Errors
    /// [`crate::DriftError::InvalidParameter`] for text that is not a summary or a summary whose
    /// counts do not agree, [`crate::DriftError::LimitExceeded`] for a count above
    /// [`MAX_COUNT`](crate::MAX_COUNT).
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let summary: Self =
            serde_json::from_str(json).map_err(|e| crate::DriftError::InvalidParameter {
                name: "summary",
                reason: e.to_string(),
            })?;
        summary.validate()?;
        Ok(summary)
    }

    /// Checks the invariants every summary a monitor builds (or merges) keeps: every count at
    /// most [`MAX_COUNT`](crate::MAX_COUNT); per numeric feature, present + missing + infinite +
    /// wrong-type values equal `rows`, the bin counts and the values each add up to the present
    /// values, out-of-range values are among them and exact values are finite; per categorical
    /// feature, present + missing + wrong-type values equal `rows` and the category counts add
    /// up to the present values, unseen ones among them; feature names are distinct; the sketch
    /// parameter is valid. Work is linear in the summary's size.
    ///
    /// # Errors
    /// [`crate::DriftError::InvalidParameter`] naming the broken invariant,
    /// [`crate::DriftError::LimitExceeded`] for a count above [`MAX_COUNT`](crate::MAX_COUNT).
    pub fn validate(&self) -> crate::Result<()> {
        use crate::limits::total;
        let bad = |feature: &str, reason: String| crate::DriftError::InvalidParameter {
            name: "summary",
            reason: if feature.is_empty() {
                reason
            } else {
                format!("feature `{feature}`: {reason}")
            },
        };
        total("rows", [self.rows])?;
        total(
            "bad input",
            [self.bad_input.wrong_width, self.bad_input.ragged_batches],
        )?;
        KllSketch::new(self.sketch_k)?;
        let mut names = std::collections::HashSet::with_capacity(self.features.len());
        for (name, f) in &self.features {
            if !names.insert(name.as_str()) {
                return Err(bad(name, "duplicate feature".to_owned()));
            }
            let (present, rows) = match f {
                FeatureSummary::Numeric(n) => {
                    let rows = total(
                        "feature rows",
                        [n.count, n.missing, n.infinite, n.wrong_type],
                    )?;
                    let binned = total("bin counts", n.bin_counts.iter().copied())?;
                    if binned != n.count || n.values.len() != n.count {
                        return Err(bad(
                            name,
                            format!(
                                "{} present values but {binned} in the bins and {} values",
                                n.count,
                                n.values.len()
                            ),
                        ));
                    }
                    if total("out of range", [n.below_range, n.above_range])? > n.count {
                        return Err(bad(
                            name,
                            "more values out of range than present".to_owned(),
                        ));
                    }
                    if let Values::Exact { values } = &n.values
                        && values.iter().any(|v| !v.is_finite())
                    {
                        return Err(bad(name, "a non-finite exact value".to_owned()));
                    }
                    (n.count, rows)
                }
                FeatureSummary::Categorical(c) => {
                    let rows = total("feature rows", [c.count, c.missing, c.wrong_type])?;
                    let counted = total("category counts", c.counts.values().copied())?;
                    if counted != c.count || c.unseen > c.count {
                        return Err(bad(
                            name,
                            format!(
                                "{} present values but {counted} in the categories ({} unseen)",
                                c.count, c.unseen
                            ),
                        ));
                    }
                    (c.count, rows)
                }
            };
            if rows != self.rows {
                return Err(bad(
                    name,
                    format!(
                        "{present} present values and {rows} rows in all, not {}",
                        self.rows
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `a + b`, refused above [`MAX_COUNT`](crate::MAX_COUNT).
fn add_counts(name: &'static str, a: u64, b: u64) -> Result<u64, MergeMismatch> {
    crate::limits::total(name, [a, b]).map_err(overflow)
}

fn overflow(e: crate::DriftError) -> MergeMismatch {
    MergeMismatch {
        reason: e.to_string(),
    }
}

fn add_numeric_counts(x: &mut NumericSummary, y: &NumericSummary) -> Result<(), MergeMismatch> {
    x.count = add_counts("count", x.count, y.count)?;
    x.missing = add_counts("missing", x.missing, y.missing)?;
    x.infinite = add_counts("infinite", x.infinite, y.infinite)?;
    x.wrong_type = add_counts("wrong_type", x.wrong_type, y.wrong_type)?;
    x.below_range = add_counts("below_range", x.below_range, y.below_range)?;
    x.above_range = add_counts("above_range", x.above_range, y.above_range)?;
    for (a, b) in x.bin_counts.iter_mut().zip(&y.bin_counts) {
        *a = add_counts("bin counts", *a, *b)?;
    }
    Ok(())
}

fn merge_categorical(
    x: &mut CategoricalSummary,
    y: &CategoricalSummary,
) -> Result<(), MergeMismatch> {
    x.count = add_counts("count", x.count, y.count)?;
    x.missing = add_counts("missing", x.missing, y.missing)?;
    x.wrong_type = add_counts("wrong_type", x.wrong_type, y.wrong_type)?;
    x.unseen = add_counts("unseen", x.unseen, y.unseen)?;
    for (name, c) in &y.counts {
        match x.counts.get_mut(name) {
            Some(n) => *n = add_counts("category counts", *n, *c)?,
            None => {
                x.counts.insert(name.clone(), *c);
            }
        }
    }
    Ok(())
}
