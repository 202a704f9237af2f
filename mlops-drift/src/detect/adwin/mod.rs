//! ADWIN (adaptive windowing), Bifet & Gavaldà 2007, with River 0.26.1's arithmetic.

use serde::{Deserialize, Serialize};

mod no_cut;
mod rows;

use no_cut::ScanCache;
use rows::{Row, Summary, merge};

use super::{Flags, check_unit_open, impl_detector_via_flags};
use crate::error::{DriftError, Result};

/// ADWIN's parameters; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdwinParams {
    /// Confidence δ in (0, 1); smaller is more conservative. Default 0.002.
    pub delta: f64,
    /// Cut points are checked every `clock` updates. Default 32.
    pub clock: u32,
    /// Summaries kept per row of the exponential histogram before two merge. Default 5.
    pub max_buckets: u32,
    /// The smallest sub-window either side of a cut. Default 5.
    pub min_window_length: u32,
    /// No cut is checked while the window holds this many values or fewer. Default 10.
    pub grace_period: u32,
}

impl Default for AdwinParams {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

/// The ADWIN change detector for real-valued streams.
///
/// Keeps a window of recent values as an exponential histogram (row `r` holds summaries of
/// 2^r values each) and drops its oldest part whenever two sub-windows have means that differ by
/// more than a Hoeffding-style bound.
///
/// Every number is River 0.26.1's, computed in River's order, so the drifts and the window's
/// numbers are River's. Each scan first tries to prove, with multiplications only and margins
/// for rounding, that no split can cut (a sufficient condition on how far each split's old
/// side strays from the window mean); River's scan decides whenever the proof does not hold.
///
/// ```
/// use mlops_drift::detect::{Adwin, ChangeDetector};
///
/// let mut adwin = Adwin::default();
/// let drifts: Vec<usize> = (0..2_000)
///     .filter(|&i| {
///         adwin.update(if i < 1_000 { f64::from(i as u32 % 2) } else { 5.0 });
///         adwin.drift_detected()
///     })
///     .collect();
/// assert!(!drifts.is_empty() && drifts[0] >= 1_000);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adwin {
    #[serde(deserialize_with = "super::checked_params")]
    params: AdwinParams,
    /// Row `r` holds summaries of 2^r values, oldest first (a queue: merges take the two
    /// oldest). Serialized as nested arrays.
    rows: Vec<Row>,
    total: f64,
    variance: f64,
    width: f64,
    tick: u64,
    detections: u64,
    flags: Flags,
    /// What the scans keep between them (a cache, not part of the state).
    #[serde(skip)]
    scan_cache: ScanCache,
    /// The variance increments of a run's last block, from its take-in until its scan's proof
    /// has run (empty between calls).
    #[serde(skip)]
    pending: PendingIncrements,
}

#[cfg(test)]
thread_local! {
    /// Set by the tests that compare the detector with River's scan alone.
    static RIVERS_SCAN_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Default for Adwin {
    fn default() -> Self {
        Self::fresh(AdwinParams::default())
    }
}

impl Adwin {
    /// A detector with the given parameters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `delta` is not in (0, 1), `clock` or `max_buckets` is
    /// 0, or `min_window_length` is 0.
    pub fn new(params: AdwinParams) -> Result<Self> {
        check_unit_open("delta", params.delta)?;
        for (name, v) in [
            ("clock", params.clock),
            ("max_buckets", params.max_buckets),
            ("min_window_length", params.min_window_length),
        ] {
            if v == 0 {
                return Err(DriftError::InvalidParameter {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(Self::fresh(params))
    }

    fn fresh(params: AdwinParams) -> Self {
        Self {
            params,
            rows: vec![Row::default()],
            total: 0.0,
            variance: 0.0,
            width: 0.0,
            tick: 0,
            detections: 0,
            flags: Flags::default(),
            scan_cache: ScanCache::default(),
            pending: PendingIncrements::default(),
        }
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> AdwinParams {
        self.params
    }

    /// How many values the window holds now.
    #[must_use]
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The mean of the window (0 when empty).
    #[must_use]
    pub fn estimation(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.total / self.width
        }
    }

    /// How many changes this detector has reported since it was created or reset.
    #[must_use]
    pub fn detections(&self) -> u64 {
        self.detections
    }

    fn restart(&mut self) {
        let params = self.params;
        let flags = self.flags;
        *self = Self::fresh(params);
        self.flags = flags;
    }

    /// One value (`update`): what [`Self::run_segment`] does with a run of one, without the
    /// run's bookkeeping.
    fn step(&mut self, x: f64) {
        if !super::usable(x) {
            self.flags.count_ignored();
            return;
        }
        if self.flags.drift {
            self.start_fresh_window();
        }
        self.take_in_one(x);
        self.scan_cache.took_in(1, x.abs());
        let summary = Summary {
            total: x,
            variance: 0.0,
        };
        match self.rows.first_mut() {
            Some(first) => first.push(summary),
            None => self.push_to_first_row([summary]),
        }
        self.merge_overfull_rows();
        let on_tick = self
            .tick
            .saturating_add(1)
            .is_multiple_of(u64::from(self.params.clock));
        self.end_run(1, on_tick);
    }

    /// River starts a fresh window after reporting drift; the count of detections stays.
    fn start_fresh_window(&mut self) {
        let detections = self.detections;
        self.restart();
        self.detections = detections;
    }

    /// Appends to row 0 (which a checkpoint may lack).
    fn push_to_first_row(&mut self, summaries: impl IntoIterator<Item = Summary>) {
        if self.rows.is_empty() {
            self.rows.push(Row::default());
        }
        if let Some(first) = self.rows.first_mut() {
            first.extend(summaries);
        }
    }

    /// Ends a run of `taken` values: [`Self::tick_and_scan`], noting a drift.
    fn end_run(&mut self, taken: usize, on_tick: bool) -> bool {
        self.flags.drift = self.tick_and_scan(taken, on_tick);
        // (Where the run ended without a scan.)
        self.scan_cache.forget_terms_ahead();
        self.add_pending_increments();
        if self.flags.drift {
            self.detections = self.detections.saturating_add(1);
        }
        self.flags.drift
    }

    /// The batch loop: takes values in until one reports drift, and returns its position.
    ///
    /// Values are taken in a clock run at a time (the values up to the next scan). The
    /// histogram's merges depend only on each row's length and the order in which summaries
    /// arrive, so merging a whole run row by row leaves the rows that merging value by value
    /// leaves: the pairs merged are the same, in the same order, with the same arithmetic.
    fn run_segment(&mut self, xs: &[f64]) -> Option<usize> {
        let mut done = 0;
        while let Some(rest) = xs.get(done..).filter(|rest| !rest.is_empty()) {
            let until_scan = self.values_until_scan();
            let candidates = rest.get(..until_scan).unwrap_or(rest);
            // Usually every value is usable: checked without a branch per value first, in the
            // pass that sums their magnitudes.
            let (all_usable, abs_sum) = usable_and_abs_sum(candidates);
            let (run_len, abs_sum) = if all_usable {
                (candidates.len(), abs_sum)
            } else {
                let len = candidates
                    .iter()
                    .position(|&x| !super::usable(x))
                    .unwrap_or(candidates.len());
                let run = candidates.get(..len).unwrap_or_default();
                (len, usable_and_abs_sum(run).1)
            };
            let Some(run) = rest.get(..run_len).filter(|run| !run.is_empty()) else {
                // An unusable value: counted, and nothing else changes.
                self.flags.count_ignored();
                done += 1;
                continue;
            };
            if self.flags.drift {
                self.start_fresh_window();
            }
            self.take_in(run, abs_sum);
            done += run.len();
            // The run ends on a tick of the clock exactly when it is as long as allowed.
            if self.end_run(run.len(), run.len() == until_scan) {
                return Some(done - 1);
            }
        }
        None
    }

    /// How many values the next run takes: up to and including the one after which the clock
    /// ticks a scan (`usize::MAX` when the saturated tick never reaches one).
    fn values_until_scan(&self) -> usize {
        let clock = u64::from(self.params.clock);
        if self.tick == u64::MAX {
            return if u64::MAX.is_multiple_of(clock) {
                1
            } else {
                usize::MAX
            };
        }
        (self.tick / clock + 1)
            .checked_mul(clock)
            .map_or(usize::MAX, |next| {
                usize::try_from(next - self.tick).unwrap_or(usize::MAX)
            })
    }

    /// Advances the clock by the `taken` values of a run and, if the run ended on a tick of
    /// the clock (`on_tick`), drops the window's oldest part while a cut is found. Returns
    /// whether one was.
    fn tick_and_scan(&mut self, taken: usize, on_tick: bool) -> bool {
        self.tick = self
            .tick
            .saturating_add(u64::try_from(taken).unwrap_or(u64::MAX));
        if !on_tick || self.width <= f64::from(self.params.grace_period) {
            return false;
        }
        let mut change = false;
        while self.width > 0.0 && self.cut_found() {
            change = true;
            if !self.delete_oldest() {
                break;
            }
        }
        change
    }

    /// Takes in a run of usable values, whose magnitudes sum to `abs_sum`: the window's width,
    /// total and variance, with River's arithmetic value by value, then the histogram. A run of
    /// at least [`BLOCK`] values leaves its last block's variance increments pending (see
    /// [`Self::take_in_last_block`]).
    fn take_in(&mut self, xs: &[f64], abs_sum: f64) {
        let mut rest = xs;
        // Whole counts well below 2^53 can be computed ahead (`width + k`), which lets the
        // divisions of a block run two at a time; anything else goes value by value.
        while let Some((&x, after)) = rest.split_first() {
            let last_width = self.width + rest.len() as f64;
            // (A block's buffers are not worth filling for a few values, as in `update`.)
            if rest.len() >= 8
                && self.width >= 1.0
                && is_whole(self.width)
                && last_width <= power_of_two(52)
            {
                let Some((blocks, last)) = rest.split_last_chunk::<BLOCK>() else {
                    self.take_in_blocks(rest);
                    break;
                };
                if !blocks.is_empty() {
                    self.take_in_blocks(blocks);
                }
                self.take_in_last_block(xs, abs_sum, last);
                return;
            }
            self.take_in_one(x);
            rest = after;
        }
        self.scan_cache.took_in(xs.len(), abs_sum);
        self.add_run_to_rows(xs);
    }

    /// Adds a run's values to row 0 and merges overfull rows. The pairs row 0 would merge are
    /// merged straight from the run, without storing those values in row 0 first.
    fn add_run_to_rows(&mut self, xs: &[f64]) {
        let max = self.params.max_buckets as usize;
        let held = self.rows.first().map_or(0, Row::len);
        // (`max + 1` could overflow a 32-bit `usize`: `max` is taken off first.)
        let Some(pairs) = (held + xs.len())
            .checked_sub(max)
            .and_then(|over| over.checked_sub(1))
            .map(|over| over / 2 + 1)
        else {
            self.push_to_first_row(xs.iter().map(|&x| Summary::of_value(x)));
            return;
        };
        if self.rows.len() < 2 {
            self.rows.resize_with(2, Row::default);
        }
        let (lower, upper) = self.rows.split_at_mut(1);
        let (Some(first), Some(second)) = (lower.first_mut(), upper.first_mut()) else {
            return;
        };
        // The oldest `2·pairs` of row 0's summaries followed by the run merge: those from row
        // 0, then (when row 0 held an odd number of them) one pair across, then the run's.
        let from_row = held.min(2 * pairs);
        let from_run = 2 * pairs - from_row;
        let (stored, straddling) = first.live().split_at(from_row - from_row % 2);
        second.extend(
            stored
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&[a, b]| merge(a, b, 1.0, 1.0)),
        );
        let (merged, kept) = xs.split_at(from_run.min(xs.len()));
        let merged = match (straddling.first(), merged.split_first()) {
            (Some(&a), Some((&x, rest))) => {
                second.push(merge(a, Summary::of_value(x), 1.0, 1.0));
                rest
            }
            _ => merged,
        };
        second.extend(
            merged
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&[a, b]| merge(Summary::of_value(a), Summary::of_value(b), 1.0, 1.0)),
        );
        first.drop_front(from_row);
        first.extend(kept.iter().map(|&x| Summary::of_value(x)));
        self.merge_overfull_rows_from(1);
    }

    /// River's update of the window's width, total and variance for one value.
    fn take_in_one(&mut self, x: f64) {
        self.width += 1.0;
        let old_total = self.total;
        self.total = old_total + x;
        // River adds an increment of 0 to the variance of a window of one value; that variance
        // is 0 (a window of one is a fresh one), so skipping the addition changes nothing.
        if self.width > 1.0 {
            let d = x - old_total / (self.width - 1.0);
            self.variance += (self.width - 1.0) * d * d / self.width;
        }
    }

    /// [`Self::take_in_one`] on every value, in blocks of three passes: the running totals,
    /// then the variance increments (independent of each other, so the divisions, which bound
    /// this loop, run two at a time), then their running sum. Each number is the one River
    /// computes: the widths are whole and at least 1, so `width + k` is what `k` additions of
    /// 1 give, and no increment is skipped.
    fn take_in_blocks(&mut self, xs: &[f64]) {
        let (mut width, mut total, mut variance) = (self.width, self.total, self.variance);
        // The totals before each value, then (in place) each value's variance increment.
        let mut buffer = [0.0; BLOCK];
        for block in xs.chunks(BLOCK) {
            for (before, &x) in buffer.iter_mut().zip(block) {
                *before = total;
                total += x;
            }
            for (k, (slot, &x)) in buffer.iter_mut().zip(block).enumerate() {
                let width = width + (k as f64 + 1.0);
                let d = x - *slot / (width - 1.0);
                *slot = (width - 1.0) * d * d / width;
            }
            for &increment in buffer.iter().take(block.len()) {
                variance += increment;
            }
            width += block.len() as f64;
        }
        (self.width, self.total, self.variance) = (width, total, variance);
    }

    /// Takes in the `run` whose values before its `last` block are taken in already (the width
    /// whole, the run's end below 2^52), in the order that lets the divider work while the
    /// scan's proof runs:
    /// 1. the block's totals and River's mean before each value (the first of River's two
    ///    divisions per value, two at a time);
    /// 2. the run's histogram;
    /// 3. the next proof's terms, on the variance without the block's increments;
    /// 4. the increments (the second division), left pending: [`Self::cut_found`] adds them
    ///    after the proof, or [`Self::end_run`] when no scan comes.
    ///
    /// The proof needs only a lower bound on the variance, and the variance without the block's
    /// increments is one (none is negative). A proof with a smaller variance is a proof with
    /// River's, and River's scan, when the proof fails, sees River's variance. Measured on the
    /// bench's stream, this order takes about 0.6 ns off ADWIN's 6.3 ns per value: the proof's
    /// three divisions enter the divider before the block's second 32, which then run while
    /// the proof's walk does, and the increments are summed after it. (Storing the width and
    /// total only after the merges accounts for about 0.15 ns of that, for reasons not
    /// understood.)
    fn take_in_last_block(&mut self, run: &[f64], abs_sum: f64, last: &[f64; BLOCK]) {
        let (width, mut total) = (self.width, self.total);
        // The totals before each value, then (in place) the means, then the increments.
        let mut slots = [0.0; BLOCK];
        for (before, &x) in slots.iter_mut().zip(last) {
            *before = total;
            total += x;
        }
        for (k, mean) in slots.iter_mut().enumerate() {
            // River divides by `width − 1` after counting the value: `width + k` here.
            *mean /= width + k as f64;
        }
        self.scan_cache.took_in(run.len(), abs_sum);
        self.add_run_to_rows(run);
        self.width = width + BLOCK as f64;
        self.total = total;
        self.scan_cache.terms_ahead = Some(self.scan_terms());
        for (k, (slot, &x)) in slots.iter_mut().zip(last).enumerate() {
            let width = width + (k as f64 + 1.0);
            let d = x - *slot;
            *slot = (width - 1.0) * d * d / width;
        }
        self.pending = PendingIncrements(Some(slots));
    }

    /// Adds the pending variance increments, in order (River's sum).
    fn add_pending_increments(&mut self) {
        if let Some(increments) = self.pending.0.take() {
            let mut variance = self.variance;
            for &increment in &increments {
                variance += increment;
            }
            self.variance = variance;
        }
    }

    /// Merges the two oldest summaries of every row that holds more than `max_buckets`, until
    /// none does.
    ///
    /// Value by value, a row merges each time it reaches `max_buckets + 1` summaries, which
    /// pairs its summaries oldest first: (0, 1), (2, 3), … So a row holding `n > max` after a
    /// run merges `(n − max − 1) / 2 + 1` pairs, and keeps `max − 1` or `max`.
    fn merge_overfull_rows(&mut self) {
        self.merge_overfull_rows_from(0);
    }

    /// [`Self::merge_overfull_rows`] from `row` up (the rows below hold no more than allowed).
    fn merge_overfull_rows_from(&mut self, mut row: usize) {
        let max = self.params.max_buckets as usize;
        // Doubling gives `row_size` and halving `row_size_recip` exactly, at every row.
        let (mut size, mut recip) = (row_size(row), row_size_recip(row));
        while let Some(len) = self.rows.get(row).map(Row::len).filter(|&len| len > max) {
            if self.rows.len() == row + 1 {
                self.rows.push(Row::default());
            }
            let Ok([current, next]) = self.rows.get_disjoint_mut([row, row + 1]) else {
                return;
            };
            next.take_merged_pairs(current, (len - max - 1) / 2 + 1, size, recip);
            row += 1;
            size *= 2.0;
            recip *= 0.5;
        }
    }

    /// Drops the oldest summary (from the last row that holds one); false if there is none.
    fn delete_oldest(&mut self) -> bool {
        // Empty rows at the end can only come from a checkpoint; they hold nothing to drop.
        while self.rows.len() > 1 && self.rows.last().is_some_and(|row| row.len() == 0) {
            self.rows.pop();
        }
        let last = self.rows.len().saturating_sub(1);
        let size = row_size(last);
        let Some(oldest_row) = self.rows.get_mut(last) else {
            return false;
        };
        let Some(oldest) = oldest_row.pop_front() else {
            return false;
        };
        self.scan_cache.forget_old_part();
        let emptied = oldest_row.len() == 0;
        let mean = oldest.total * row_size_recip(last);
        self.width -= size;
        self.total -= oldest.total;
        let window_mean = self.total / self.width;
        self.variance -= oldest.variance
            + size * self.width * (mean - window_mean) * (mean - window_mean) / (size + self.width);
        if emptied && self.rows.len() > 1 {
            self.rows.pop();
        }
        true
    }

    /// One value with River's scan alone deciding, for the tests that compare.
    #[cfg(test)]
    fn run_segment_with_rivers_scan(&mut self, x: f64) -> bool {
        RIVERS_SCAN_ONLY.set(true);
        let drift = self.run_segment(std::slice::from_ref(&x)).is_some();
        RIVERS_SCAN_ONLY.set(false);
        drift
    }

    /// Whether some split of the window has sub-window means further apart than ADWIN's bound:
    /// River's scan, unless [`Self::no_cut_possible`] proves first that none does.
    fn cut_found(&mut self) -> bool {
        #[cfg(test)]
        if RIVERS_SCAN_ONLY.get() {
            self.add_pending_increments();
            return self.river_cut_found();
        }
        // The proof first: it may run on the variance without the pending increments.
        let proved = self.no_cut_possible();
        self.add_pending_increments();
        !proved && self.river_cut_found()
    }

    /// River's scan: whether some split of the window, oldest summaries first, has sub-window
    /// means further apart than the bound. The terms of the bound that do not depend on the
    /// split are computed once per scan, with River's arithmetic.
    fn river_cut_found(&self) -> bool {
        let min_len = f64::from(self.params.min_window_length);
        let delta_prime = (2.0 * self.width.ln() / self.params.delta).ln();
        let variance_per_value = self.variance / self.width;
        let two_thirds_delta_prime = 2.0 / 3.0 * delta_prime;
        let mut n0 = 0.0;
        let mut n1 = self.width;
        let mut u0 = 0.0;
        let mut u1 = self.total;
        for (row, summaries) in self.rows.iter().enumerate().rev() {
            let size = row_size(row);
            let last = summaries.len().saturating_sub(1);
            for (k, summary) in summaries.live().iter().enumerate() {
                n0 += size;
                n1 -= size;
                u0 += summary.total;
                u1 -= summary.total;
                if row == 0 && k == last {
                    return false;
                }
                if n1 < min_len || n0 < min_len {
                    continue;
                }
                let delta_mean = (u0 / n0 - u1 / n1).abs();
                let m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
                // River: delta_mean > sqrt(a) + b, with the rounding of every step.
                let a = 2.0 * m_recip * variance_per_value * delta_prime;
                let b = two_thirds_delta_prime * m_recip;
                if delta_mean > a.sqrt() + b {
                    return true;
                }
            }
        }
        false
    }
}

/// Values per block of the window statistics (their divisions run two at a time).
const BLOCK: usize = 32;

/// A block's variance increments, computed but not yet added ([`Adwin::take_in_last_block`]).
#[derive(Debug, Clone, Default)]
struct PendingIncrements(Option<[f64; BLOCK]>);

/// Always empty between calls: not part of the detector's state.
impl PartialEq for PendingIncrements {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Whether every value is usable, and the sum of their magnitudes (four partial sums, so that
/// the additions do not wait on each other).
fn usable_and_abs_sum(xs: &[f64]) -> (bool, f64) {
    let (mut all, mut sums) = (true, [0.0; 4]);
    let mut chunks = xs.chunks_exact(4);
    for chunk in &mut chunks {
        for (sum, &x) in sums.iter_mut().zip(chunk) {
            all &= super::usable(x);
            *sum += x.abs();
        }
    }
    let mut rest = 0.0;
    for &x in chunks.remainder() {
        all &= super::usable(x);
        rest += x.abs();
    }
    (all, sums.iter().sum::<f64>() + rest)
}

/// Whether `x` is a whole number, for `|x| < 2^63` (beyond, false). `fract` would call the C
/// library's `trunc` (the SSE2 baseline has no rounding instruction), twice per clock run.
fn is_whole(x: f64) -> bool {
    // Exact for whole numbers in range; NaN converts to 0 and infinities saturate.
    (x as i64) as f64 == x && x.abs() < power_of_two(63)
}

/// How many values one summary of `row` stands for: 2^row.
fn row_size(row: usize) -> f64 {
    power_of_two(i32::try_from(row).unwrap_or(i32::MAX))
}

/// `1 / row_size(row)`: 2^-row, exact.
fn row_size_recip(row: usize) -> f64 {
    power_of_two(i32::try_from(row).map_or(i32::MIN, |r| -r))
}

/// 2^e, built from its bits: `powi` is a library call, and row sizes are needed on every merge.
/// (The compiler calls a `powi` even on a branch not taken, so there is none here.)
fn power_of_two(e: i32) -> f64 {
    let e = i64::from(e);
    if e > 1023 {
        f64::INFINITY
    } else if let Ok(biased @ 1..) = u64::try_from(e + 1023) {
        f64::from_bits(biased << 52)
    } else if let Ok(shift @ 0..) = u64::try_from(e + 1074) {
        f64::from_bits(1 << shift)
    } else {
        0.0
    }
}

impl_detector_via_flags!(Adwin, "adwin", own_segment_in_place);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ChangeDetector;

    #[test]
    fn is_whole_agrees_with_fract_below_two_to_the_63() {
        let two_52 = 2f64.powi(52);
        let xs = [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.5,
            -0.5,
            two_52,
            two_52 + 1.0,
            two_52 - 0.5,
        ];
        for x in xs
            .into_iter()
            .chain([2f64.powi(62), 1e-300, f64::MIN_POSITIVE])
        {
            assert_eq!(is_whole(x), x.fract() == 0.0, "{x}");
        }
        for x in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2f64.powi(63),
            1e300,
        ] {
            assert!(!is_whole(x), "{x}");
        }
    }

    #[test]
    fn window_statistics_are_exact_for_a_short_sequence() {
        let mut a = Adwin::default();
        for x in [1.0, 2.0, 3.0, 4.0, 5.0] {
            a.update(x);
        }
        assert_eq!(a.width(), 5.0);
        assert_eq!(a.estimation(), 3.0);
        assert!((a.variance - 10.0).abs() < 1e-12);
    }

    #[test]
    fn constant_stream_never_drifts_and_memory_stays_logarithmic() {
        let mut a = Adwin::default();
        for _ in 0..20_000 {
            assert!(!a.update(1.0).eq(&crate::detect::DetectorState::Drift));
        }
        let summaries: usize = a.rows.iter().map(Row::len).sum();
        assert!(summaries <= 6 * a.rows.len());
        assert!(a.rows.len() <= 16, "{} rows", a.rows.len());
        let held: f64 = a
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| row_size(r) * row.len() as f64)
            .sum();
        assert_eq!(held, a.width());
    }

    /// River's scan as first written here: every split, every division, every square root.
    fn cut_found_plain(a: &Adwin) -> bool {
        let min_len = f64::from(a.params.min_window_length);
        let (mut n0, mut n1, mut u0, mut u1) = (0.0, a.width, 0.0, a.total);
        for row in (0..a.rows.len()).rev() {
            let size = row_size(row);
            let len = a.rows[row].len();
            for k in 0..len {
                let total = a.rows[row].live()[k].total;
                n0 += size;
                n1 -= size;
                u0 += total;
                u1 -= total;
                if row == 0 && k + 1 == len {
                    return false;
                }
                let delta_mean = u0 / n0 - u1 / n1;
                if n1 >= min_len && n0 >= min_len {
                    let delta_prime = (2.0 * a.width.ln() / a.params.delta).ln();
                    let m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
                    let epsilon = (2.0 * m_recip * (a.variance / a.width) * delta_prime).sqrt()
                        + 2.0 / 3.0 * delta_prime * m_recip;
                    if delta_mean.abs() > epsilon {
                        return true;
                    }
                }
            }
        }
        false
    }

    #[test]
    fn scan_agrees_with_the_plain_scan_on_every_window() {
        // Streams of several scales and shapes, with the window checked before every value
        // (not only on the clock), so that many windows near a cut are compared.
        let mut uniform = crate::test_support::uniform(0x2545_f491_4f6c_dd1d);
        let (mut compared, mut cuts, mut ruled_out) = (0, 0, 0);
        for (scale, offset) in [(1.0, 0.0), (1e-6, 3.0), (1e90, -1e90), (1e-90, 0.0)] {
            for shift in [0.0, 0.05, 0.3, 2.0] {
                let mut a = Adwin::new(AdwinParams {
                    grace_period: 0,
                    ..AdwinParams::default()
                })
                .unwrap();
                for i in 0..6_000 {
                    let level = if (i / 1_500) % 2 == 0 { 0.0 } else { shift };
                    let x = offset + scale * (uniform() + level);
                    if a.width > 1.0 {
                        let plain = cut_found_plain(&a);
                        assert_eq!(a.cut_found(), plain, "scale {scale} shift {shift} at {i}");
                        let proved = a.no_cut_possible();
                        assert!(!(proved && plain), "scale {scale} shift {shift} at {i}");
                        compared += 1;
                        cuts += usize::from(plain);
                        ruled_out += usize::from(proved);
                    }
                    a.update(x);
                }
            }
        }
        eprintln!("{compared} windows, {cuts} cuts, {ruled_out} ruled out without River's scan");
        assert!(
            compared > 90_000 && cuts > 100 && ruled_out > compared / 2,
            "{compared} windows, {cuts} cuts, {ruled_out} ruled out"
        );
    }

    /// A stream whose level changes every 500 values.
    fn steps(n: usize) -> Vec<f64> {
        let mut uniform = crate::test_support::uniform(0x9e37_79b9_7f4a_7c15);
        (0..n)
            .map(|i| uniform() + if (i / 500) % 2 == 0 { 0.0 } else { 3.0 })
            .collect()
    }

    #[test]
    fn runs_merge_like_single_values_for_every_row_capacity() {
        let xs = steps(6_000);
        for max_buckets in [1, 2, 3, 5, 8] {
            // (32 and 100: runs that end in a block whose variance waits for the scan.)
            for clock in [1, 5, 32, 100] {
                let params = AdwinParams {
                    max_buckets,
                    clock,
                    ..AdwinParams::default()
                };
                let case = format!("max_buckets {max_buckets} clock {clock}");
                let (drifts, batch) = batch_matches_single(params, &xs, &case);
                assert!(!drifts.is_empty());
                assert!(
                    batch
                        .rows
                        .iter()
                        .all(|row| row.len() <= max_buckets as usize)
                );
            }
        }
    }

    /// Runs that end without a scan (in the grace period, or cut short by an unusable value)
    /// still add their last block's pending variance increments.
    #[test]
    fn runs_that_end_without_a_scan_keep_every_variance_increment() {
        let mut xs = steps(6_000);
        for i in (70..xs.len()).step_by(170) {
            xs[i] = f64::NAN;
        }
        for grace_period in [10, 2_000] {
            let params = AdwinParams {
                clock: 100,
                grace_period,
                ..AdwinParams::default()
            };
            batch_matches_single(params, &xs, &format!("grace {grace_period}"));
        }
    }

    /// Feeds `xs` to two detectors, one batch (`update_many`) and one value at a time: they
    /// must report the same drifts and end in the same state. Returns the batch's drifts and
    /// detector.
    fn batch_matches_single(params: AdwinParams, xs: &[f64], case: &str) -> (Vec<usize>, Adwin) {
        let mut batch = Adwin::new(params).unwrap();
        let mut single = batch.clone();
        let drifts = batch.update_many(xs);
        let singles: Vec<usize> = (0..xs.len())
            .filter(|&i| {
                single.update(xs[i]);
                single.drift_detected()
            })
            .collect();
        assert_eq!(drifts, singles, "{case}");
        assert_eq!(batch, single, "{case}");
        (drifts, batch)
    }

    #[test]
    fn rows_compact_their_dead_prefix() {
        // Wide rows, so that merges drop many summaries from each row's front.
        let mut a = Adwin::new(AdwinParams {
            max_buckets: 100,
            ..AdwinParams::default()
        })
        .unwrap();
        for (k, x) in steps(20_000).into_iter().enumerate() {
            a.update(x);
            if k % 97 == 0 {
                for row in &a.rows {
                    let dead = row.head;
                    assert!(
                        dead <= row.len().max(rows::DEAD_KEPT),
                        "{dead} dead, {} live",
                        row.len()
                    );
                    assert_eq!(row.stored(), dead + row.len());
                }
            }
        }
        assert!(a.rows.iter().any(|row| row.len() > 50));
    }

    /// A checkpoint's rows: an empty last row (ADWIN never leaves one) and an overfull row.
    #[test]
    fn odd_rows_from_a_checkpoint_neither_hang_nor_differ_between_batch_and_single() {
        let xs = steps(2_000);
        let mut a = Adwin::default();
        a.update_many(xs.get(..400).unwrap());
        let mut json = serde_json::to_value(&a).unwrap();
        json["rows"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!([]));
        let with_empty_row: Adwin = serde_json::from_value(json.clone()).unwrap();
        // Before, dropping the oldest summary from an empty last row did nothing, and the scan
        // found the same cut forever.
        let mut b = with_empty_row.clone();
        assert_eq!(
            b.update_many(xs.get(400..).unwrap()),
            a.clone().update_many(xs.get(400..).unwrap())
        );

        let first = json["rows"][0].as_array_mut().unwrap();
        let extra = first.clone();
        first.extend(extra.iter().cloned().chain(extra.iter().cloned()));
        let overfull: Adwin = serde_json::from_value(json).unwrap();
        let (mut batch, mut single) = (overfull.clone(), overfull);
        let drifts = batch.update_many(xs.get(400..).unwrap());
        let singles: Vec<usize> = xs
            .get(400..)
            .unwrap()
            .iter()
            .enumerate()
            .filter(|&(_, &x)| {
                single.update(x);
                single.drift_detected()
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(drifts, singles);
        assert_eq!(batch, single);
    }

    #[test]
    fn rows_serialize_as_nested_arrays() {
        // The JSON form kept from when rows were `Vec<Vec<Summary>>`.
        let mut a = Adwin::default();
        for x in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0] {
            a.update(x);
        }
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json["rows"],
            serde_json::json!([
                [
                    {"total": 3.0, "variance": 0.0},
                    {"total": 4.0, "variance": 0.0},
                    {"total": 5.0, "variance": 0.0},
                    {"total": 6.0, "variance": 0.0},
                    {"total": 7.0, "variance": 0.0}
                ],
                [{"total": 3.0, "variance": 0.5}]
            ])
        );
        let back: Adwin = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn powers_of_two_are_exact() {
        for e in -1022..=1023 {
            assert_eq!(power_of_two(e).to_bits(), 2f64.powi(e).to_bits(), "{e}");
        }
        assert_eq!(power_of_two(1024), f64::INFINITY);
        assert_eq!(power_of_two(-1074), f64::from_bits(1));
        assert_eq!(power_of_two(-1023) * 2.0, f64::MIN_POSITIVE);
        assert_eq!(power_of_two(-1075), 0.0);
        assert_eq!(power_of_two(i32::MIN), 0.0);
        assert_eq!(power_of_two(i32::MAX), f64::INFINITY);
        for row in 0..70 {
            assert_eq!(row_size(row) * row_size_recip(row), 1.0);
        }
    }

    #[test]
    fn invalid_parameters_are_typed_errors() {
        let bad = AdwinParams {
            delta: 1.5,
            ..AdwinParams::default()
        };
        assert!(matches!(
            Adwin::new(bad),
            Err(DriftError::InvalidParameter { name: "delta", .. })
        ));
        let bad = AdwinParams {
            clock: 0,
            ..AdwinParams::default()
        };
        assert!(matches!(
            Adwin::new(bad),
            Err(DriftError::InvalidParameter { name: "clock", .. })
        ));
    }
}
