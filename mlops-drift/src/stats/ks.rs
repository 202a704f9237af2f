//! Two-sample Kolmogorov–Smirnov test, agreeing with `scipy.stats.ks_2samp` (SciPy 1.17).
//!
//! The statistic is the largest distance between the two empirical CDFs. Both samples are
//! sorted once (by [`f64::total_cmp`]) and walked together; [`ks_2samp_sorted`] skips the sort
//! for samples that are already ascending (a fitted reference profile keeps its sample sorted).
//!
//! # p-values
//!
//! * [`KsMethod::Exact`] counts lattice paths exactly as SciPy does: the two-sided p for equal
//!   sizes by the alternating binomial series, for unequal sizes by Hodges' "inside" recursion
//!   (Viehmann's stable form); one-sided p for equal sizes as a product, for unequal sizes by
//!   counting paths outside the boundary. When SciPy's exact computation fails (floating-point
//!   overflow or a result outside [0, 1]; or, for an explicit `Exact`, `lcm(n1, n2)` too large),
//!   it falls back to the asymptotic method and so does this function; [`KsResult::method_used`]
//!   says which method produced the p-value.
//! * [`KsMethod::Asymptotic`]: two-sided, the exact one-sample Kolmogorov distribution `kstwo`
//!   at `n = round(n1 n2 / (n1 + n2))`; one-sided, Hodges' approximation (his eq. 5.3). Where
//!   `kstwo` uses twice the Smirnov tail and `n > 1_000_000`, SciPy's `smirnov` switches from
//!   its exact sum to `exp(-(6nx + 1)² / 18n)`, and so does this function (at 1M vs 1M,
//!   `n = 500_000`, the sum is still exact).
//! * [`KsMethod::Auto`] is exact when `max(n1, n2) <= 10_000` and asymptotic otherwise.
//!   An explicit [`KsMethod::Exact`] on large samples of unequal sizes costs up to
//!   `O(n1 · n2)`, as in SciPy; `Auto` bounds that by its size rule.
//!
//! `ln p` is computed in log space where the method allows (equal-size exact tails, one-sided
//! asymptotic, the Smirnov tail of `kstwo`), so it stays finite where `p` underflows. Where the
//! p-value still underflows to 0 (exact counts for unequal sizes, complete separation), `ln p` is
//! the exact lattice value at complete separation and otherwise Hodges' approximation, capped
//! below `ln(f64::MIN_POSITIVE subnormal)` — good for ranking strong drift, not a precise tail.
//!
//! # Non-finite values
//!
//! NaN is rejected with [`DriftError::NonFinite`] (the NaN policy is applied before this point).
//! `±inf` are ordinary, extreme values for this order-based test: `-inf` sorts first, `+inf`
//! last, and equal infinities tie. Note SciPy's special case: with one value on each side and the
//! asymptotic two-sided method, `round(0.5) = 0` and SciPy's p-value is NaN; this function
//! reproduces that (`p` and `ln_p` are NaN) rather than invent a value.

use serde::{Deserialize, Serialize};

use super::{Alternative, PValue};
use crate::error::{DriftError, Result, Sample};
use crate::parallel::Threads;

mod kolmogorov;

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KsMethod {
    /// Exact when `max(n1, n2) <= 10_000`, asymptotic otherwise (SciPy's `'auto'`).
    #[default]
    Auto,
    /// Exact lattice-path counting (SciPy's `'exact'`), falling back to asymptotic where SciPy
    /// does.
    Exact,
    /// Asymptotic distribution (SciPy's `'asymp'`).
    Asymptotic,
}

/// Options of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct KsOptions {
    /// The alternative hypothesis (default two-sided).
    pub alternative: Alternative,
    /// How the p-value is computed (default [`KsMethod::Auto`]).
    pub method: KsMethod,
}

/// The result of a two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// The KS statistic for the chosen alternative, in [0, 1].
    pub statistic: f64,
    /// The p-value and its log.
    pub p_value: PValue,
    /// The value (from either sample) at which the statistic is attained (may be `±inf`).
    #[serde(with = "mlops_core::float_serde")]
    pub statistic_location: f64,
    /// `+1` if the reference ECDF exceeds the current one there, `-1` otherwise (SciPy's
    /// `statistic_sign`).
    pub statistic_sign: i8,
    /// The method that produced the p-value: [`KsMethod::Exact`] or [`KsMethod::Asymptotic`]
    /// (after resolving `Auto` and any fallback).
    pub method_used: KsMethod,
    /// Size of the reference sample.
    pub n_reference: usize,
    /// Size of the current sample.
    pub n_current: usize,
}

/// Largest sample size for which `Auto` computes the exact p-value (SciPy's `MAX_AUTO_N`).
pub const MAX_AUTO_N: usize = 10_000;

/// Two-sample Kolmogorov–Smirnov test of `reference` against `current`, as
/// `scipy.stats.ks_2samp(reference, current, alternative, method)`.
///
/// ```
/// use mlops_drift::stats::ks::{ks_2samp, KsOptions};
/// let reference = [0.1, 0.4, 0.35, 0.8];
/// let current = [1.1, 1.4, 0.9, 1.3, 1.2];
/// let r = ks_2samp(&reference, &current, KsOptions::default())?;
/// assert_eq!(r.statistic, 1.0);
/// assert!(r.p_value.p < 0.05);
/// # Ok::<(), mlops_drift::DriftError>(())
/// ```
///
/// # Errors
///
/// [`DriftError::EmptySample`] if either sample is empty; [`DriftError::NonFinite`] if either
/// holds a NaN.
pub fn ks_2samp(reference: &[f64], current: &[f64], options: KsOptions) -> Result<KsResult> {
    check_input(reference, Sample::Reference)?;
    check_input(current, Sample::Current)?;
    // The two copies are sorted at once on the current rayon pool when both are large (each
    // sort is the same either way, so the result is too).
    let sort_copy = |x: &[f64]| {
        let mut v = x.to_vec();
        sort_total(&mut v);
        v
    };
    let (a, b) = if reference.len().min(current.len()) >= PARALLEL_SORT_MIN_LEN {
        rayon::join(|| sort_copy(reference), || sort_copy(current))
    } else {
        (sort_copy(reference), sort_copy(current))
    };
    Ok(ks_sorted_unchecked(&a, &b, options, Threads::One))
}

/// Both samples at least this long: [`ks_2samp`] sorts them on two threads.
const PARALLEL_SORT_MIN_LEN: usize = 1 << 16;

/// [`ks_2samp`] for samples that are already sorted ascending; they are not re-sorted.
///
/// # Errors
///
/// [`DriftError::EmptySample`] if either sample is empty; [`DriftError::NonFinite`] if either
/// holds a NaN; [`DriftError::InvalidParameter`] if either is not sorted ascending.
pub fn ks_2samp_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    options: KsOptions,
) -> Result<KsResult> {
    check_sorted_input(reference_sorted, Sample::Reference)?;
    check_sorted_input(current_sorted, Sample::Current)?;
    Ok(ks_sorted_unchecked(
        reference_sorted,
        current_sorted,
        options,
        Threads::One,
    ))
}

/// [`ks_2samp_sorted`] where the current sample was sorted by this crate's own sort (so it is
/// ascending in total order, and any NaN would sit at one of its ends): only the reference is
/// scanned, which spares a pass over the current sample on the profile path. `threads` says
/// whether a long merge walk may split over two threads.
pub(crate) fn ks_2samp_sorted_own_current(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    options: KsOptions,
    threads: Threads,
) -> Result<KsResult> {
    check_sorted_input(reference_sorted, Sample::Reference)?;
    debug_assert!(current_sorted.is_sorted_by(|x, y| x.total_cmp(y).is_le()));
    let nan_at = |x: Option<&f64>| x.is_none_or(|v| v.is_nan());
    if nan_at(current_sorted.first()) || nan_at(current_sorted.last()) {
        // Empty or holding a NaN: the full check names the error.
        check_sorted_input(current_sorted, Sample::Current)?;
    }
    Ok(ks_sorted_unchecked(
        reference_sorted,
        current_sorted,
        options,
        threads,
    ))
}

fn check_input(x: &[f64], which: Sample) -> Result<()> {
    if x.is_empty() {
        return Err(DriftError::EmptySample { which });
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| v.is_nan()) {
        return Err(DriftError::NonFinite {
            which,
            index,
            value,
        });
    }
    Ok(())
}

/// Rejects empty, NaN-holding and unsorted input in one pass.
pub(crate) fn check_sorted_input(x: &[f64], which: Sample) -> Result<()> {
    let Some(&first) = x.first() else {
        return Err(DriftError::EmptySample { which });
    };
    let mut prev = first;
    let mut unsorted = false;
    for (index, &value) in x.iter().enumerate() {
        if value.is_nan() {
            return Err(DriftError::NonFinite {
                which,
                index,
                value,
            });
        }
        unsorted |= value < prev;
        prev = value;
    }
    if unsorted {
        return Err(DriftError::InvalidParameter {
            name: match which {
                Sample::Reference => "reference_sorted",
                Sample::Current => "current_sorted",
            },
            reason: "the sample is not sorted ascending".to_owned(),
        });
    }
    Ok(())
}

/// The extremes of the ECDF difference, with SciPy's tie rules for their location.
struct Extremes {
    max: f64,
    max_loc: f64,
    min: f64,
    min_loc: f64,
}

/// Receives the ECDF counts after each group of equal pooled values during the merge walk.
trait Offer {
    /// `i`, `j`: values of `a`, `b` at or below `at`; `in_a`: whether `at` occurs in `a`.
    fn offer(&mut self, i: usize, j: usize, at: f64, in_a: bool);
    /// Takes in the extremes a walk over later (larger) values found: theirs win only where
    /// strictly more extreme, as if they had been offered after this tracker's.
    fn absorb(&mut self, later: Self);
    fn extremes(self) -> Extremes;
}

/// Running extremes of the ECDF difference. SciPy takes `argmax`/`argmin` over
/// `concat(sorted a, sorted b)`, so among equal differences the first position wins: a value
/// present in `a` before any value found only in `b`, and the smaller value within each part
/// (hence the strict comparisons).
///
/// The minimum is therefore kept apart by whether the pooled value occurs in `a`. The maximum
/// needs no such split: a group of values found only in `b` lowers the difference below the
/// group before it (or below 0, the difference at the last group, when it comes first), so it
/// never holds the maximum, nor ties it. (For the float differences this holds while `1/n`
/// exceeds their rounding, that is for any sample that fits in memory.)
///
/// This tracker evaluates SciPy's float difference `i/n1 - j/n2` at every group.
struct FloatTracker {
    n1: f64,
    n2: f64,
    max: (f64, f64),
    min_a: (f64, f64),
    min_b: (f64, f64),
}

impl FloatTracker {
    fn new(n1: usize, n2: usize) -> Self {
        Self {
            n1: n1 as f64,
            n2: n2 as f64,
            max: (f64::NEG_INFINITY, f64::NAN),
            min_a: (f64::INFINITY, f64::NAN),
            min_b: (f64::INFINITY, f64::NAN),
        }
    }
}

/// Picks between the minima seen at values of `a` and at values found only in `b`: the `a` one
/// wins unless the `b` one is strictly lower (or `a` saw none).
fn pick_extremes(max: (f64, f64), min_a: (f64, f64), min_b: (f64, f64)) -> Extremes {
    let (max, max_loc) = max;
    let (min, min_loc) = if min_b.0 < min_a.0 { min_b } else { min_a };
    Extremes {
        max,
        max_loc,
        min,
        min_loc,
    }
}

impl Offer for FloatTracker {
    #[inline(always)]
    fn offer(&mut self, i: usize, j: usize, at: f64, in_a: bool) {
        let d = (i as f64) / self.n1 - (j as f64) / self.n2;
        if d > self.max.0 {
            self.max = (d, at);
        }
        // Non-short-circuit `&` keeps the rarely taken branches predictable.
        if in_a & (d < self.min_a.0) {
            self.min_a = (d, at);
        }
        if !in_a & (d < self.min_b.0) {
            self.min_b = (d, at);
        }
    }

    fn absorb(&mut self, later: Self) {
        let max = |best: &mut (f64, f64), other: (f64, f64)| {
            if other.0 > best.0 {
                *best = other;
            }
        };
        let min = |best: &mut (f64, f64), other: (f64, f64)| {
            if other.0 < best.0 {
                *best = other;
            }
        };
        max(&mut self.max, later.max);
        min(&mut self.min_a, later.min_a);
        min(&mut self.min_b, later.min_b);
    }

    fn extremes(self) -> Extremes {
        pick_extremes(self.max, self.min_a, self.min_b)
    }
}

/// One extreme tracked by the exact integer key `i n2 - j n1` (= `n1 n2 (i/n1 - j/n2)`), with
/// SciPy's float value and location.
#[derive(Clone, Copy)]
struct KeyedBest {
    key: i64,
    value: f64,
    loc: f64,
}

/// The same extremes as [`FloatTracker`], found with exact integer keys: the float difference is
/// computed only where the key reaches the running extreme. Valid while `n1 n2 < 1e15`: then
/// distinct keys differ by more than the rounding of SciPy's float differences, so the float
/// order agrees with the key order and only equal keys (whose floats may differ in the last
/// bit) need the float comparison.
struct KeyTracker {
    n1: i64,
    n2: i64,
    n1f: f64,
    n2f: f64,
    max: KeyedBest,
    min_a: KeyedBest,
    min_b: KeyedBest,
}

/// Below this `n1 n2` the [`KeyTracker`] is exact (see there).
const KEY_TRACKER_MAX_PRODUCT: f64 = 1e15;

impl KeyTracker {
    fn new(n1: usize, n2: usize) -> Self {
        let lowest = KeyedBest {
            key: i64::MIN,
            value: f64::NEG_INFINITY,
            loc: f64::NAN,
        };
        let highest = KeyedBest {
            key: i64::MAX,
            value: f64::INFINITY,
            loc: f64::NAN,
        };
        Self {
            n1: n1 as i64,
            n2: n2 as i64,
            n1f: n1 as f64,
            n2f: n2 as f64,
            max: lowest,
            min_a: highest,
            min_b: highest,
        }
    }

    #[cold]
    fn update_max(best: &mut KeyedBest, key: i64, d: f64, at: f64) {
        if key > best.key || d > best.value {
            *best = KeyedBest {
                key,
                value: d,
                loc: at,
            };
        }
    }

    #[cold]
    fn update_min(best: &mut KeyedBest, key: i64, d: f64, at: f64) {
        if key < best.key || d < best.value {
            *best = KeyedBest {
                key,
                value: d,
                loc: at,
            };
        }
    }
}

impl Offer for KeyTracker {
    #[inline(always)]
    fn offer(&mut self, i: usize, j: usize, at: f64, in_a: bool) {
        let key = (i as i64) * self.n2 - (j as i64) * self.n1;
        let d = || (i as f64) / self.n1f - (j as f64) / self.n2f;
        if key >= self.max.key {
            Self::update_max(&mut self.max, key, d(), at);
        }
        if in_a & (key <= self.min_a.key) {
            Self::update_min(&mut self.min_a, key, d(), at);
        }
        if !in_a & (key <= self.min_b.key) {
            Self::update_min(&mut self.min_b, key, d(), at);
        }
    }

    fn absorb(&mut self, later: Self) {
        let m = later.max;
        Self::update_max(&mut self.max, m.key, m.value, m.loc);
        let (a, b) = (later.min_a, later.min_b);
        Self::update_min(&mut self.min_a, a.key, a.value, a.loc);
        Self::update_min(&mut self.min_b, b.key, b.value, b.loc);
    }

    fn extremes(self) -> Extremes {
        let pair = |b: KeyedBest| (b.value, b.loc);
        pick_extremes(pair(self.max), pair(self.min_a), pair(self.min_b))
    }
}

/// Finds the extremes of `ECDF_a - ECDF_b` over the pooled values of two ascending, non-empty
/// samples, evaluated as SciPy does (`searchsorted(side='right') / n`).
fn ecdf_extremes(a: &[f64], b: &[f64], threads: Threads) -> Extremes {
    if (a.len() as f64) * (b.len() as f64) < KEY_TRACKER_MAX_PRODUCT {
        segmented_walk(a, b, || KeyTracker::new(a.len(), b.len()), threads)
    } else {
        segmented_walk(a, b, || FloatTracker::new(a.len(), b.len()), threads)
    }
}

/// Interleaved segments of the merge walk on one thread (see [`segmented_walk`]).
const WALK_SEGMENTS: usize = 4;
/// Below this many pooled values one walk is as fast as interleaved segments.
const SEGMENTED_WALK_MIN_LEN: usize = 1 << 14;
/// From this many pooled values on, [`Threads::UpToTwo`] walks on two threads.
const SPLIT_WALK_MIN_LEN: usize = 1 << 19;

/// The merge walk split by value into segments, [`WALK_SEGMENTS`] advancing in one loop per
/// thread.
///
/// A merge walk is one long dependency chain (each step's positions depend on the previous
/// comparison), so a single walk runs at the latency of a load and a compare per value.
/// Independent segments in one loop overlap their chains: about twice as fast on 1M + 1M; two
/// threads (each with its own [`WALK_SEGMENTS`]) halve that again.
/// Segments are cut at values of `a` (with every copy of a cut value in the later segment),
/// so no group of equal values straddles two segments, and each segment offers the global
/// counts. The trackers are then absorbed in value order, which reproduces the single walk's
/// tie rules (the first extreme wins), however many segments and threads there are.
fn segmented_walk<T: Offer + Send>(
    a: &[f64],
    b: &[f64],
    tracker: impl Fn() -> T + Sync,
    threads: Threads,
) -> Extremes {
    if a.len() + b.len() < SEGMENTED_WALK_MIN_LEN {
        return single_walk(a, b, tracker());
    }
    let groups = if threads.split(a.len() + b.len(), SPLIT_WALK_MIN_LEN) {
        2
    } else {
        1
    };
    let segments = WALK_SEGMENTS * groups;
    // Where segment k starts: the first copy of the value at a's k-th cut, in both.
    let start = |k: usize| match a.get(k * a.len() / segments) {
        Some(&s) if k > 0 && k < segments => {
            (a.partition_point(|&x| x < s), b.partition_point(|&y| y < s))
        }
        _ if k == 0 => (0, 0),
        _ => (a.len(), b.len()),
    };
    let walk = |k: usize| {
        let ((i0, j0), (i1, j1)) = (start(k), start(k + 1));
        let part_a = a.get(i0..i1).unwrap_or_default();
        let part_b = b.get(j0..j1).unwrap_or_default();
        Walk::new(part_a, part_b, (i0, j0), tracker())
    };
    // One thread's share: segments `first..first + 4`, stepping together.
    let group = |first: usize| {
        let (mut w0, mut w1, mut w2, mut w3) = (
            walk(first),
            walk(first + 1),
            walk(first + 2),
            walk(first + 3),
        );
        // `&` (not `&&`): every segment steps in every round, until one runs out.
        while w0.step() & w1.step() & w2.step() & w3.step() {}
        let mut t = w0.finish();
        t.absorb(w1.finish());
        t.absorb(w2.finish());
        t.absorb(w3.finish());
        t
    };
    let t = if groups == 2 {
        let (mut low, high) = rayon::join(|| group(0), || group(WALK_SEGMENTS));
        low.absorb(high);
        low
    } else {
        group(0)
    };
    t.extremes()
}

/// The whole merge walk in one segment.
fn single_walk<T: Offer>(a: &[f64], b: &[f64], tracker: T) -> Extremes {
    Walk::new(a, b, (0, 0), tracker).finish().extremes()
}

/// A merge walk over one segment of two ascending samples, offering the global counts after
/// each group of equal pooled values. No allocation; the choice of sample at each step is
/// branch-free.
struct Walk<'s, T> {
    a: &'s [f64],
    b: &'s [f64],
    /// Positions within the segment's parts.
    i: usize,
    j: usize,
    /// Values of `a` and `b` before the segment.
    base: (usize, usize),
    /// The current group of equal pooled values; NaN (never equal) before the first.
    cur: f64,
    cur_in_a: bool,
    started: bool,
    tracker: T,
}

impl<'s, T: Offer> Walk<'s, T> {
    fn new(a: &'s [f64], b: &'s [f64], base: (usize, usize), tracker: T) -> Self {
        Self {
            a,
            b,
            i: 0,
            j: 0,
            base,
            cur: f64::NAN,
            cur_in_a: false,
            started: false,
            tracker,
        }
    }

    #[inline(always)]
    fn offer_current(&mut self) {
        if self.started {
            self.tracker.offer(
                self.base.0 + self.i,
                self.base.1 + self.j,
                self.cur,
                self.cur_in_a,
            );
        }
    }

    /// Takes the next pooled value while both parts have values left; `false` once one is
    /// exhausted (then nothing is taken).
    #[inline(always)]
    fn step(&mut self) -> bool {
        let (Some(&x), Some(&y)) = (self.a.get(self.i), self.b.get(self.j)) else {
            return false;
        };
        let take_a = x <= y;
        let v = if take_a { x } else { y };
        if v != self.cur {
            self.offer_current();
            self.started = true;
            self.cur = v;
            self.cur_in_a = false;
        }
        self.cur_in_a |= take_a;
        self.i += usize::from(take_a);
        self.j += usize::from(!take_a);
        true
    }

    /// Walks to the end of both parts and offers the last group.
    fn finish(mut self) -> T {
        while self.step() {}
        while let Some(&x) = self.a.get(self.i) {
            if x != self.cur {
                self.offer_current();
                self.started = true;
                self.cur = x;
            }
            self.cur_in_a = true;
            self.i += 1;
        }
        while let Some(&y) = self.b.get(self.j) {
            if y != self.cur {
                self.offer_current();
                self.started = true;
                self.cur = y;
                self.cur_in_a = false;
            }
            self.j += 1;
        }
        self.offer_current();
        self.tracker
    }
}

/// Sorts ascending in [`f64::total_cmp`] order (so `-0.0` before `0.0`, and NaNs, if any, at
/// the ends) — the order [`ks_2samp_sorted`] and the other `_sorted` entry points expect.
///
/// Large inputs are radix-sorted on the order-preserving integer image of their bits (see the
/// crate's `sort` module); the values are unchanged bit for bit.
///
/// ```
/// let mut v = [3.0, -1.0, f64::INFINITY, 0.5, -0.0, 0.0];
/// mlops_drift::stats::ks::sort_ascending(&mut v);
/// assert_eq!(v, [-1.0, -0.0, 0.0, 0.5, 3.0, f64::INFINITY]);
/// assert!(v[1].is_sign_negative());
/// ```
pub fn sort_ascending(v: &mut [f64]) {
    sort_total(v);
}

pub(crate) fn sort_total(v: &mut [f64]) {
    crate::sort::sort_f64(v);
}

fn ks_sorted_unchecked(a: &[f64], b: &[f64], options: KsOptions, threads: Threads) -> KsResult {
    let n1 = a.len();
    let n2 = b.len();
    let ext = ecdf_extremes(a, b, threads);
    let min_s = (-ext.min).clamp(0.0, 1.0);
    let max_s = ext.max;
    let (mut d, location, sign) = match options.alternative {
        Alternative::Less => (min_s, ext.min_loc, -1_i8),
        Alternative::TwoSided if min_s > max_s => (min_s, ext.min_loc, -1_i8),
        Alternative::TwoSided | Alternative::Greater => (max_s, ext.max_loc, 1_i8),
    };

    let g = super::gcd(n1 as u64, n2 as u64);
    let n1g = n1 as u64 / g;
    let n2g = n2 as u64 / g;
    let mut method = match options.method {
        KsMethod::Auto if n1.max(n2) <= MAX_AUTO_N => KsMethod::Exact,
        KsMethod::Auto | KsMethod::Asymptotic => KsMethod::Asymptotic,
        KsMethod::Exact => {
            if n1g as f64 >= f64::from(i32::MAX) / n2g as f64 {
                tracing::debug!(
                    n1,
                    n2,
                    "ks_2samp: exact p-value not possible, using asymptotic"
                );
                KsMethod::Asymptotic
            } else {
                KsMethod::Exact
            }
        }
    };
    let mut p_value = PValue { p: 1.0, ln_p: 0.0 };
    if method == KsMethod::Exact {
        let (d_exact, p) = exact_p(n1 as u64, n2 as u64, g, d, options.alternative);
        d = d_exact;
        if let Some(p) = p {
            p_value = p;
        } else {
            tracing::debug!(
                n1,
                n2,
                "ks_2samp: exact calculation unsuccessful, using asymptotic"
            );
            method = KsMethod::Asymptotic;
        }
    }
    if method == KsMethod::Asymptotic {
        p_value = asymptotic_p(n1 as f64, n2 as f64, d, options.alternative);
    }
    if p_value.p == 0.0 && p_value.ln_p == f64::NEG_INFINITY {
        p_value.ln_p = underflow_ln_p(n1 as f64, n2 as f64, d, options.alternative);
    }
    KsResult {
        statistic: d,
        p_value,
        statistic_location: location,
        statistic_sign: sign,
        method_used: method,
        n_reference: n1,
        n_current: n2,
    }
}

/// Round half to even, as NumPy's `np.round`.
fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

fn pvalue_from(p: f64, ln_p: f64) -> PValue {
    if p.is_nan() {
        PValue {
            p: f64::NAN,
            ln_p: f64::NAN,
        }
    } else {
        PValue {
            p: p.clamp(0.0, 1.0),
            ln_p: ln_p.min(0.0),
        }
    }
}

fn asymptotic_p(n1: f64, n2: f64, d: f64, alternative: Alternative) -> PValue {
    let (m, n) = if n1 >= n2 { (n1, n2) } else { (n2, n1) };
    let en = m * n / (m + n);
    match alternative {
        Alternative::TwoSided => {
            let nr = round_half_even(en);
            if nr < 1.0 {
                // SciPy: kstwo.sf(d, 0) is NaN (the shape parameter must be >= 1).
                return pvalue_from(f64::NAN, f64::NAN);
            }
            let t = kolmogorov::kstwo_sf(nr as u64, d);
            pvalue_from(t.p, t.ln_p)
        }
        Alternative::Less | Alternative::Greater => {
            let z = en.sqrt() * d;
            let expt = -2.0 * z * z - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0;
            let p = expt.exp();
            pvalue_from(p, if p >= 1.0 { 0.0 } else { expt })
        }
    }
}

/// Natural log of the p-value where SciPy's p underflows to 0, so strong signals stay ranked:
/// at complete separation (`d = 1`) the exact lattice value (`2 / binom(n1 + n2, n1)`
/// two-sided, `1 / binom` one-sided); below it Hodges' one-sided exponent (doubled two-sided),
/// an approximation that decreases with `d`. Capped below the log of the smallest positive
/// double, so it stays consistent with `p = 0`.
fn underflow_ln_p(n1: f64, n2: f64, d: f64, alternative: Alternative) -> f64 {
    use statrs::function::gamma::ln_gamma;
    const LN_MIN_POSITIVE: f64 = -744.440_072;
    let ln_two = if alternative == Alternative::TwoSided {
        std::f64::consts::LN_2
    } else {
        0.0
    };
    let ln = if d >= 1.0 {
        ln_two - (ln_gamma(n1 + n2 + 1.0) - ln_gamma(n1 + 1.0) - ln_gamma(n2 + 1.0))
    } else {
        let (m, n) = if n1 >= n2 { (n1, n2) } else { (n2, n1) };
        let z = (m * n / (m + n)).sqrt() * d;
        ln_two - 2.0 * z * z - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0
    };
    if ln.is_nan() {
        f64::NEG_INFINITY
    } else {
        ln.min(LN_MIN_POSITIVE)
    }
}

/// SciPy's `_attempt_exact_2kssamp`: returns `d` rounded to the lattice and the p-value, or
/// `None` where SciPy's exact computation fails (it then falls back to the asymptotic one).
fn exact_p(n1: u64, n2: u64, g: u64, d: f64, alternative: Alternative) -> (f64, Option<PValue>) {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h_f = round_half_even(d * lcm);
    let d = h_f / lcm;
    if h_f == 0.0 {
        return (d, Some(PValue { p: 1.0, ln_p: 0.0 }));
    }
    let h = h_f as u64;
    let result = match alternative {
        Alternative::TwoSided => {
            if n1 == n2 {
                prob_outside_square(n1, h)
            } else {
                outer_prob_inside(n1, n2, g, h).map(|p| (p, p.ln()))
            }
        }
        Alternative::Less | Alternative::Greater => {
            if n1 == n2 {
                let ln_p: f64 = (0..h)
                    .map(|j| ((n1 - j) as f64 / (n1 as f64 + j as f64 + 1.0)).ln())
                    .sum();
                let p = (0..h).fold(1.0, |acc, j| {
                    acc * ((n1 - j) as f64 / (n1 as f64 + j as f64 + 1.0))
                });
                Some((p, if p > 0.0 { p.ln() } else { ln_p }))
            } else {
                let bin = binom((n1 + n2) as f64, n1 as f64);
                if bin.is_finite() {
                    count_paths_outside(n1, n2, g, h).and_then(|num| {
                        if num > bin || !num.is_finite() {
                            None
                        } else {
                            let p = num / bin;
                            Some((p, p.ln()))
                        }
                    })
                } else {
                    None
                }
            }
        }
    };
    match result {
        Some((p, ln_p)) if (0.0..=1.0).contains(&p) => (d, Some(pvalue_from(p, ln_p))),
        _ => (d, None),
    }
}

/// Two-sided exact p for equal sizes: `2 Σ (-1)^(k+1) binom(2n, n - k h) / binom(2n, n)` in
/// SciPy's Horner-like form. Returns (p, ln p).
fn prob_outside_square(n: u64, h: u64) -> Option<(f64, f64)> {
    let nf = n as f64;
    let hf = h as f64;
    let mut p_acc = 0.0_f64;
    let mut k = (nf / hf).floor() as i64;
    let mut ln_last = 0.0;
    while k >= 0 {
        let kf = k as f64;
        let mut p1 = 1.0_f64;
        let mut ln_p1 = 0.0_f64;
        for j in 0..h {
            let jf = j as f64;
            let num = nf - kf * hf - jf;
            let den = nf + kf * hf + jf + 1.0;
            p1 = num * p1 / den;
            if k == 0 {
                ln_p1 += (num / den).ln();
            }
        }
        if k == 0 {
            ln_last = ln_p1 + (1.0 - p_acc).ln();
        }
        p_acc = p1 * (1.0 - p_acc);
        k -= 1;
    }
    let p = 2.0 * p_acc;
    let ln_p = if p > 0.0 {
        p.ln()
    } else {
        std::f64::consts::LN_2 + ln_last
    };
    Some((p, ln_p))
}

/// SciPy's `_compute_outer_prob_inside_method`: the proportion of lattice paths from (0,0) to
/// (m,n) that leave the band |x/m - y/n| < h/lcm(m,n), computed as 1 - (inside) directly.
#[expect(
    clippy::indexing_slicing,
    reason = "indices follow SciPy's window bookkeeping and are checked against the buffer length first"
)]
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64) / (mg as f64)).ceil() as i64;
    maxj = maxj.min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1);
    let len = usize::try_from(len_a).ok()?;
    let mut a = vec![1.0_f64; len];
    for e in a.iter_mut().take(usize::try_from(maxj).ok()?) {
        *e = 0.0;
    }
    for i in 1..=m {
        let lastminj = minj;
        let lastlen = curlen;
        minj = ((((ng * i - h) as f64) / (mg as f64)).floor() as i64 + 1).max(0);
        minj = minj.min(n);
        maxj = ((((ng * i + h) as f64) / (mg as f64)).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let width = maxj - minj;
        let shift = minj - lastminj;
        if width > len_a || shift < 0 || width - 1 + shift >= len_a {
            return None;
        }
        for jj in 0..width {
            let j = (jj + minj) as f64;
            // In bounds: jj + shift < width + shift <= len_a, checked above.
            val = (a[(jj + shift) as usize] * fi + val * j) / (fi + j);
            a[jj as usize] = val;
        }
        curlen = width;
        if lastlen > curlen {
            let start = width;
            let end = (width + (lastlen - curlen)).min(len_a);
            for e in &mut a[start as usize..end.max(start) as usize] {
                *e = 1.0;
            }
        }
    }
    a.get(usize::try_from(maxj - minj - 1).ok()?).copied()
}

/// SciPy's `_count_paths_outside_method`: the number of lattice paths from (0,0) to (m,n) that
/// reach `m y <= n x - h g` (may overflow; the caller checks).
fn count_paths_outside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let lxj = n + (mg - h).div_euclid(mg);
    if lxj <= 0 {
        return Some(binom((m + n) as f64, n as f64));
    }
    let xj: Vec<i64> = (0..lxj)
        .map(|j| (h + mg * j + ng - 1).div_euclid(ng))
        .collect();
    let mut b: Vec<f64> = Vec::with_capacity(xj.len());
    b.push(1.0);
    for (j, &xjj) in xj.iter().enumerate().skip(1) {
        let jf = j as i64;
        let mut bj = binom((xjj + jf) as f64, jf as f64);
        for (i, (&xji, &bi)) in xj.iter().zip(&b).enumerate() {
            let ii = i as i64;
            let bin = binom((xjj - xji + jf - ii) as f64, (jf - ii) as f64);
            bj -= bin * bi;
        }
        if !bj.is_finite() {
            return None;
        }
        b.push(bj);
    }
    let mut num_paths = 0.0;
    for (j, (&xjj, &bj)) in xj.iter().zip(&b).enumerate() {
        let jf = j as i64;
        let bin = binom(((m - xjj) + (n - jf)) as f64, (n - jf) as f64);
        num_paths += bj * bin;
    }
    if num_paths.is_finite() {
        Some(num_paths)
    } else {
        None
    }
}

/// Binomial coefficient for non-negative integral arguments, in floating point (overflows to
/// infinity like `scipy.special.binom`).
pub(crate) fn binom(n: f64, k: f64) -> f64 {
    if k < 0.0 || k > n {
        return 0.0;
    }
    let k = if k > n / 2.0 { n - k } else { k };
    if k < 20.0 {
        let mut num = 1.0_f64;
        let mut den = 1.0_f64;
        let kk = k as u64;
        for i in 1..=kk {
            num *= i as f64 + n - k;
            den *= i as f64;
            if num.abs() > 1e50 {
                num /= den;
                den = 1.0;
            }
        }
        return num / den;
    }
    let ln = statrs::function::gamma::ln_gamma(n + 1.0)
        - statrs::function::gamma::ln_gamma(k + 1.0)
        - statrs::function::gamma::ln_gamma(n - k + 1.0);
    ln.exp().round_if_integral()
}

trait RoundIfIntegral {
    fn round_if_integral(self) -> f64;
}

impl RoundIfIntegral for f64 {
    fn round_if_integral(self) -> f64 {
        // Below 2^53 a binomial coefficient is an integer; snapping removes the last-bit noise of
        // the log-gamma evaluation.
        if self < 9.007_199_254_740_992e15 {
            self.round()
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sort_matches_total_cmp_sort() {
        // A simple LCG is enough to scatter bits; special values are mixed in.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let specials = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE / 8.0,
            -f64::MIN_POSITIVE / 8.0,
            f64::MAX,
            f64::MIN,
            1.0,
            -1.0,
        ];
        for len in [4096_usize, 5000, 20_011] {
            let v: Vec<f64> = (0..len)
                .map(|i| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    if i % 7 == 0 {
                        specials[(state >> 60) as usize % specials.len()]
                    } else if i % 3 == 0 {
                        f64::from((state >> 40) as u32 % 50) - 25.0
                    } else {
                        let bits = state >> 2; // finite: exponent never all ones
                        f64::from_bits(bits)
                    }
                })
                .filter(|x| !x.is_nan())
                .collect();
            let mut want = v.clone();
            want.sort_by(f64::total_cmp);
            let mut got = v;
            sort_total(&mut got);
            assert_eq!(got.len(), want.len());
            assert!(
                want.iter()
                    .zip(&got)
                    .all(|(w, g)| w.to_bits() == g.to_bits()),
                "sort differs for len {len}"
            );
        }
    }

    #[test]
    fn key_tracker_agrees_with_float_tracker() {
        let mut state = 12_345_u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        for round in 0..400 {
            let n1 = 1 + next(60) as usize;
            let n2 = if round % 3 == 0 {
                n1
            } else {
                1 + next(60) as usize
            };
            let spread = 1 + next(30);
            let mut a: Vec<f64> = (0..n1).map(|_| next(spread) as f64 * 0.1).collect();
            let mut b: Vec<f64> = (0..n2)
                .map(|_| next(spread) as f64 * 0.1 + 0.05 * (round % 2) as f64)
                .collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let k = single_walk(&a, &b, KeyTracker::new(n1, n2));
            let f = single_walk(&a, &b, FloatTracker::new(n1, n2));
            assert_eq!(k.max.to_bits(), f.max.to_bits(), "round {round}");
            assert_eq!(k.min.to_bits(), f.min.to_bits(), "round {round}");
            assert_eq!(k.max_loc.to_bits(), f.max_loc.to_bits(), "round {round}");
            assert_eq!(k.min_loc.to_bits(), f.min_loc.to_bits(), "round {round}");
        }
    }

    /// The same extremes, bit for bit.
    fn same(x: &Extremes, y: &Extremes) -> bool {
        [x.max, x.max_loc, x.min, x.min_loc].map(f64::to_bits)
            == [y.max, y.max_loc, y.min, y.min_loc].map(f64::to_bits)
    }

    #[test]
    fn segmented_walk_agrees_with_one_walk_including_ties_at_the_cuts() {
        let mut state = 99_u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        for round in 0..24_u64 {
            // Few distinct values (long runs of ties, also across the cuts), many, or one
            // sample far larger than the other; shifted so both the max and the min matter.
            let spread = [3, 40, 5000, 1 << 30][round as usize % 4];
            let (n1, n2) = if round % 3 == 0 {
                (20_000, 300)
            } else {
                (9000 + next(4000) as usize, 9000 + next(4000) as usize)
            };
            let shift = (round % 5) as f64 * 0.1;
            let mut a: Vec<f64> = (0..n1)
                .map(|_| next(spread) as f64 / spread as f64)
                .collect();
            let mut b: Vec<f64> = (0..n2)
                .map(|_| next(spread) as f64 / spread as f64 * (1.0 + shift) - shift / 3.0)
                .collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            for (x, y) in [(&a, &b), (&b, &a)] {
                let one = single_walk(x, y, KeyTracker::new(x.len(), y.len()));
                let seg = segmented_walk(x, y, || KeyTracker::new(x.len(), y.len()), Threads::One);
                assert!(same(&one, &seg), "round {round}: key tracker");
                let one = single_walk(x, y, FloatTracker::new(x.len(), y.len()));
                let seg =
                    segmented_walk(x, y, || FloatTracker::new(x.len(), y.len()), Threads::One);
                assert!(same(&one, &seg), "round {round}: float tracker");
            }
        }
    }

    #[test]
    fn the_walk_on_two_threads_finds_the_single_walks_extremes() {
        let two = crate::test_support::pool(2);
        let mut bits = crate::test_support::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = move |m: u64| bits() % m;
        // Pooled lengths past the split threshold; many ties (small spreads) and none.
        for (spread, shift) in [(50_u64, 0.0), (5_000, 0.02), (1 << 40, 0.1), (1 << 40, 0.0)] {
            let n1 = SPLIT_WALK_MIN_LEN / 2 + next(10_000) as usize;
            let n2 = SPLIT_WALK_MIN_LEN / 2 + next(10_000) as usize;
            let mut a: Vec<f64> = (0..n1)
                .map(|_| next(spread) as f64 / spread as f64)
                .collect();
            let mut b: Vec<f64> = (0..n2)
                .map(|_| next(spread) as f64 / spread as f64 + shift)
                .collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let one = single_walk(&a, &b, FloatTracker::new(a.len(), b.len()));
            let split = two.install(|| {
                segmented_walk(
                    &a,
                    &b,
                    || FloatTracker::new(a.len(), b.len()),
                    Threads::UpToTwo,
                )
            });
            assert!(same(&one, &split), "spread {spread} shift {shift}");
            let opts = KsOptions::default();
            let serial = ks_sorted_unchecked(&a, &b, opts, Threads::One);
            let parallel = two.install(|| ks_sorted_unchecked(&a, &b, opts, Threads::UpToTwo));
            assert_eq!(serial, parallel);
        }
    }

    #[test]
    fn large_samples_take_the_key_sort_path_and_agree_with_the_sorted_entry() {
        let a: Vec<f64> = (0..9000)
            .map(|i| f64::from((i * 7919) % 9000) * 0.001)
            .collect();
        let b: Vec<f64> = (0..7000)
            .map(|i| f64::from((i * 104_729) % 7000) * 0.0013 - 0.5)
            .collect();
        let o = KsOptions::default();
        let r = ks_2samp(&a, &b, o).unwrap();
        let mut sa = a.clone();
        sa.sort_by(f64::total_cmp);
        let mut sb = b.clone();
        sb.sort_by(f64::total_cmp);
        assert_eq!(ks_2samp_sorted(&sa, &sb, o).unwrap(), r);
    }
}
