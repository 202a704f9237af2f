//! The rows of ADWIN's exponential histogram.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One summary of the exponential histogram: the total and the variance (sum of squared
/// deviations) of 2^row values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Summary {
    pub(super) total: f64,
    pub(super) variance: f64,
}

impl Summary {
    /// One value: a summary of row 0.
    pub(super) fn of_value(x: f64) -> Self {
        Self {
            total: x,
            variance: 0.0,
        }
    }
}

/// Two summaries of `size` values merged, with River's arithmetic. Dividing by a power of two
/// and multiplying by its reciprocal round the same exact quotient, so `total * recip` is
/// River's `total / size` bit for bit.
pub(super) fn merge(a: Summary, b: Summary, size: f64, recip: f64) -> Summary {
    let (mean_a, mean_b) = (a.total * recip, b.total * recip);
    Summary {
        total: a.total + b.total,
        variance: a.variance + b.variance + size * 0.5 * (mean_a - mean_b) * (mean_a - mean_b),
    }
}

/// Up to this many dropped summaries stay at a row's front before it is compacted.
pub(super) const DEAD_KEPT: usize = 32;

/// One row of the exponential histogram: its summaries, oldest first, live from `head` on.
///
/// Merges take summaries from the front in pairs. Taking them moves `head`; the dead prefix is
/// dropped once it is as long as the live part (and [`DEAD_KEPT`]), so a summary is moved a
/// bounded number of times on average, whatever `max_buckets` is. (A `VecDeque` did the same
/// with a store and a reload of its head and length on every push and pop, which cost more
/// than the arithmetic.)
#[derive(Debug, Clone, Default)]
pub(super) struct Row {
    summaries: Vec<Summary>,
    pub(super) head: usize,
    /// The sums the scan's bound needs, kept until the row changes (old rows change rarely).
    sums: Option<RowSums>,
}

/// A row's total, Σ|t| and Σ|t − centre·size|, as of its last change.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowSums {
    pub(super) total: f64,
    pub(super) abs: f64,
    pub(super) spread: f64,
    pub(super) centre: f64,
}

impl Row {
    pub(super) fn from_summaries(summaries: Vec<Summary>) -> Self {
        Self {
            summaries,
            head: 0,
            sums: None,
        }
    }

    pub(super) fn push(&mut self, summary: Summary) {
        self.summaries.push(summary);
        self.sums = None;
    }

    pub(super) fn extend(&mut self, summaries: impl IntoIterator<Item = Summary>) {
        self.summaries.extend(summaries);
        self.sums = None;
    }

    /// The row's sums, computed now if the row changed since they were, with `centre` as the
    /// centre of the spread.
    pub(super) fn sums(&mut self, centre: f64, size: f64) -> RowSums {
        if let Some(sums) = self.sums {
            return sums;
        }
        let sums = self.sums_about(centre, size);
        self.sums = Some(sums);
        sums
    }

    /// Σ|t − centre·size| now, kept for the next scans.
    pub(super) fn fresh_spread(&mut self, centre: f64, size: f64) -> f64 {
        let sums = self.sums_about(centre, size);
        self.sums = Some(sums);
        sums.spread
    }

    pub(super) fn sums_about(&self, centre: f64, size: f64) -> RowSums {
        let centre_total = centre * size;
        let (mut total, mut abs, mut spread) = (0.0, 0.0, 0.0);
        for summary in self.live() {
            total += summary.total;
            abs += summary.total.abs();
            spread += (summary.total - centre_total).abs();
        }
        RowSums {
            total,
            abs,
            spread,
            centre,
        }
    }

    pub(super) fn live(&self) -> &[Summary] {
        self.summaries.get(self.head..).unwrap_or_default()
    }

    /// Appends the merges of `from`'s oldest `2·pairs` summaries, pair by pair, and drops them
    /// from `from`. (Inlined: a call per row cost about 0.1 ns per value in the batch loop.)
    #[inline(always)]
    pub(super) fn take_merged_pairs(
        &mut self,
        from: &mut Row,
        pairs: usize,
        size: f64,
        recip: f64,
    ) {
        let (merged, _) = from.live().as_chunks::<2>();
        let merged = merged.get(..pairs).unwrap_or(merged);
        self.summaries
            .extend(merged.iter().map(|&[a, b]| merge(a, b, size, recip)));
        self.sums = None;
        from.drop_front(2 * pairs);
    }

    /// Summaries stored, dropped ones included.
    #[cfg(test)]
    pub(super) fn stored(&self) -> usize {
        self.summaries.len()
    }

    pub(super) fn len(&self) -> usize {
        self.summaries.len().saturating_sub(self.head)
    }

    pub(super) fn pop_front(&mut self) -> Option<Summary> {
        let first = self.live().first().copied()?;
        self.drop_front(1);
        Some(first)
    }

    /// Forgets the `n` oldest live summaries.
    pub(super) fn drop_front(&mut self, n: usize) {
        self.sums = None;
        self.head = self.head.saturating_add(n).min(self.summaries.len());
        if self.head >= self.len().max(DEAD_KEPT) {
            self.summaries.drain(..self.head);
            self.head = 0;
        }
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.live() == other.live()
    }
}

/// A row is written as the array of its live summaries (the form rows had as `Vec`s).
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.live().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(Self::from_summaries(Vec::deserialize(deserializer)?))
    }
}
