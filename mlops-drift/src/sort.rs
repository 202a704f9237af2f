//! Sorting of numeric samples: the one sort per column that every order-based method
//! (Kolmogorov–Smirnov, Cramér–von Mises, Anderson–Darling, Wasserstein, energy distance,
//! quantiles) reuses.
//!
//! Large samples are sorted by their IEEE-754 bit pattern mapped to an order-preserving `u64`
//! (the order of [`f64::total_cmp`]): a least-significant-digit radix sort on the top 33 bits
//! of that key (three passes of 11 bits), then a fix-up of the runs of keys that share those
//! bits. Small samples use the standard library's unstable sort. Both give the same order.
//!
//! Why only the top 33 bits: they hold the sign, the exponent and 21 bits of mantissa, so two
//! values share them only when they agree to a relative 2^-21 (about 5e-7). In continuous data
//! such runs are short (a million standard normals give runs of mostly one or two), and the
//! fix-up sorts each run by its full key: three passes plus a linear sweep instead of six or
//! eight full passes. Data that is not continuous falls back gracefully: runs of equal values
//! are already in order (the sweep just checks them), and a long run of distinct values that
//! agree to 5e-7 is sorted with the standard library's sort (O(n log n), never quadratic).
//!
//! Each thread keeps its scratch buffer between sorts (see `spare`): fresh buffers cost page
//! faults that on virtual machines rival the sort itself.

use crate::parallel::Threads;

/// Below this length the comparison sort is faster than the radix passes.
const RADIX_THRESHOLD: usize = 4096;
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Radix passes over the top `PASSES * DIGIT_BITS` bits of the key.
const PASSES: usize = 3;
/// The key bits below the ones the radix passes sort on.
const LOW_BITS: u32 = 64 - PASSES as u32 * DIGIT_BITS;

/// Sorts `values` ascending in the order of [`f64::total_cmp`] (−NaN < −∞ < … < −0 < +0 < … <
/// +∞ < NaN).
pub(crate) fn sort_f64(values: &mut [f64]) {
    if !radix_pays(values.len()) {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let counts = histograms(values.iter().map(|&v| key(v)));
    let live = live_passes(&counts, values.len());
    let Some((&first, rest)) = live.split_first() else {
        // One run for the fix-up: every key shares its high bits.
        for v in values.iter_mut() {
            *v = f64::from_bits(key(*v));
        }
        finish_in_place(values);
        return;
    };
    let mut scratch = spare::keys(values.len());
    scatter(values.iter().map(|&v| key(v)), first, &counts, &mut scratch);
    ping_pong(rest, &counts, &mut scratch, values);
    spare::keep_keys(scratch);
}

/// The finite values of `values` (NaN and ±∞ left out), sorted ascending: the copy and the
/// sort in one, so the input is read twice (to count, then to scatter) and never copied first.
pub(crate) fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    if !radix_pays(values.len()) {
        let mut out: Vec<f64> = finite().collect();
        out.sort_unstable_by(f64::total_cmp);
        return out;
    }
    // The histograms also count the finite values.
    let counts = histograms(finite().map(key));
    let n = counts
        .first()
        .map_or(0, |c| c.iter().map(|&c| c as usize).sum());
    let live = live_passes(&counts, n);
    let mut out = spare::values(n);
    if let Some((&first, rest)) = live.split_first() {
        let mut scratch = spare::keys(n);
        scatter(finite().map(key), first, &counts, &mut scratch);
        ping_pong(rest, &counts, &mut scratch, &mut out);
        spare::keep_keys(scratch);
    } else {
        for (o, k) in out.iter_mut().zip(finite().map(key)) {
            *o = f64::from_bits(k);
        }
        finish_in_place(&mut out);
    }
    out
}

/// [`sorted_finite`], the same result, with the two halves of a large sample sorted on two
/// threads of the current rayon pool and merged on both (from [`SPLIT_SORT_MIN_LEN`] values
/// on, when the pool has two threads; otherwise on the caller's thread alone).
pub(crate) fn sorted_finite_split(values: &[f64]) -> Vec<f64> {
    if !Threads::UpToTwo.split(values.len(), SPLIT_SORT_MIN_LEN) {
        return sorted_finite(values);
    }
    let (first, second) = values.split_at(values.len() / 2);
    let (a, b) = rayon::join(|| sorted_finite(first), || sorted_finite(second));
    let mut out = spare::values(a.len() + b.len());
    merge_on_two_threads(&a, &b, &mut out);
    out
}

/// From this many values on, [`sorted_finite_split`] splits the work.
pub(crate) const SPLIT_SORT_MIN_LEN: usize = 1 << 18;

/// Merges two ascending samples into `out` (of their total length), each half of `out` on its
/// own thread: the first half takes the `i` smallest of `a` and the `half - i` smallest of `b`
/// for the `i` that keeps both halves in order (found by bisection).
fn merge_on_two_threads(a: &[f64], b: &[f64], out: &mut [f64]) {
    let half = out.len() / 2;
    let lowest = half.saturating_sub(b.len());
    let highest = half.min(a.len());
    // The first `i` in lowest..highest with `b[half - i - 1] <= a[i]`: fewer from `a` would
    // leave a larger `b` value in the first half than an `a` value in the second.
    let (mut lo, mut hi) = (lowest, highest);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let need_more_from_a = match (a.get(mid), b.get(half - mid - 1)) {
            (Some(&x), Some(&y)) => key(x) < key(y),
            _ => false,
        };
        if need_more_from_a {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let (from_a, from_b) = (lo, half - lo);
    let (a_low, a_high) = a.split_at(from_a.min(a.len()));
    let (b_low, b_high) = b.split_at(from_b.min(b.len()));
    let (out_low, out_high) = out.split_at_mut(half);
    rayon::join(
        || merge_into(a_low, b_low, out_low),
        || merge_into(a_high, b_high, out_high),
    );
}

/// Merges two ascending samples into `out` (of their total length). The choice at each step
/// is arithmetic, not a branch: the comparisons of a merge are a coin toss for the predictor.
fn merge_into(a: &[f64], b: &[f64], out: &mut [f64]) {
    let (mut i, mut j) = (0, 0);
    let mut slots = out.iter_mut();
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        let Some(slot) = slots.next() else {
            return;
        };
        let take_a = key(x) <= key(y);
        *slot = if take_a { x } else { y };
        i += usize::from(take_a);
        j += usize::from(!take_a);
    }
    let rest = a.get(i..).unwrap_or_default().iter();
    for (slot, &v) in slots.zip(rest.chain(b.get(j..).unwrap_or_default())) {
        *slot = v;
    }
}

/// Hands a buffer that [`sorted_finite`] returned back for the thread's next sort, once its
/// values are no longer needed.
pub(crate) fn recycle(values: Vec<f64>) {
    spare::keep_values(values);
}

/// Buffers kept between sorts on one thread.
///
/// A fresh buffer of n words costs n/512 page faults when first written, and on virtual
/// machines those can cost more than the sort itself (35 → 24 ms for scoring 1M values against
/// a profile when memory is never returned to the system). So the sort keeps its scratch
/// buffer, and takes back the output buffer a caller recycles, for the thread's next call: at
/// most one of each, of at most [`spare::MAX_LEN`] words (32 MiB).
mod spare {
    use std::cell::RefCell;

    /// The longest buffer kept.
    pub(super) const MAX_LEN: usize = 1 << 22;

    thread_local! {
        static KEYS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        static VALUES: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer of length `n` (contents unspecified), the kept one when there is one.
    pub(super) fn keys(n: usize) -> Vec<u64> {
        let mut v = take(&KEYS);
        v.resize(n, 0);
        v
    }

    pub(super) fn values(n: usize) -> Vec<f64> {
        let mut v = take(&VALUES);
        v.resize(n, 0.0);
        v
    }

    pub(super) fn keep_keys(v: Vec<u64>) {
        keep(&KEYS, v);
    }

    pub(super) fn keep_values(v: Vec<f64>) {
        keep(&VALUES, v);
    }

    fn take<T>(cell: &'static std::thread::LocalKey<RefCell<Vec<T>>>) -> Vec<T> {
        cell.try_with(|c| c.try_borrow_mut().map(|mut v| std::mem::take(&mut *v)))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }

    /// Keeps `v` unless it is too long or the kept buffer is larger.
    fn keep<T>(cell: &'static std::thread::LocalKey<RefCell<Vec<T>>>, v: Vec<T>) {
        if v.capacity() > MAX_LEN {
            return;
        }
        let _ = cell.try_with(|c| {
            if let Ok(mut kept) = c.try_borrow_mut()
                && kept.capacity() < v.capacity()
            {
                *kept = v;
            }
        });
    }
}

/// Below this length [`sort_by_range`] leaves the work to the standard library's sort.
const RANGE_THRESHOLD: usize = 128;
/// Buckets of [`sort_by_range`]: 16 bits, two counting passes of 8.
const RANGE_BUCKETS: f64 = 65_536.0;

/// Sorts `values` ascending as [`sort_f64`] does, faster for the few thousand values a sketch
/// merge sorts: each value is bucketed by its position between the smallest and the largest
/// (a 16-bit key, two 8-bit counting passes with no data-dependent branches), then one
/// insertion sweep orders values that share a bucket. On this project's VM the standard
/// library's sort of 2,000 fresh values costs about 25 ns a value, mostly mispredicted
/// branches; this costs a third of that.
///
/// The key never reverses the order of two values, so only values of one bucket can be out of
/// order. When values crowd a few buckets (one far outlier stretches the range) the sweep's
/// linear budget runs out and [`sort_f64`] sorts instead; non-finite values go there at once.
#[expect(
    clippy::indexing_slicing,
    reason = "i < 257 in the prefix sums, 1 <= j <= i < n below"
)]
pub(crate) fn sort_by_range(values: &mut [f64]) {
    let n = values.len();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values.iter() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let span = hi - lo;
    let all_finite = values.iter().all(|v| v.is_finite());
    if n < RANGE_THRESHOLD || !all_finite || !(span > 0.0 && span.is_finite()) {
        // Equal values are sorted; -0.0 and +0.0 still need ordering.
        sort_f64(values);
        return;
    }
    // `as` saturates, and the factor keeps the largest value below the top bucket's end.
    let scale = RANGE_BUCKETS * (1.0 - 1e-9) / span;
    let bucket = |v: f64| ((v - lo) * scale) as u32;
    let mut low = [0_u32; 257];
    let mut high = [0_u32; 257];
    for &v in values.iter() {
        let b = bucket(v);
        if let Some(c) = low.get_mut((b & 0xFF) as usize + 1) {
            *c += 1;
        }
        if let Some(c) = high.get_mut((b >> 8 & 0xFF) as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..low.len() {
        low[i] += low[i - 1];
        high[i] += high[i - 1];
    }
    let mut scratch = vec![0.0_f64; n];
    scatter_by(values, &mut scratch, &mut low, |v| bucket(v) & 0xFF);
    scatter_by(&scratch, values, &mut high, |v| bucket(v) >> 8 & 0xFF);
    // Now ordered by bucket; order each bucket's values.
    let budget = 4 * n;
    let mut moves = 0;
    for i in 1..n {
        let mut j = i;
        while j > 0 && values[j - 1].total_cmp(&values[j]).is_gt() {
            values.swap(j - 1, j);
            j -= 1;
        }
        moves += i - j;
        if moves > budget {
            sort_f64(values);
            return;
        }
    }
}

/// One stable counting pass: `from` into `to` by the digit `digit(v)`, at the offsets
/// `counts` (prefix sums, advanced as values land).
fn scatter_by(from: &[f64], to: &mut [f64], counts: &mut [u32; 257], digit: impl Fn(f64) -> u32) {
    for &v in from {
        if let Some(slot) = counts.get_mut(digit(v) as usize)
            && let Some(out) = to.get_mut(*slot as usize)
        {
            *out = v;
            *slot += 1;
        }
    }
}

/// Whether the radix passes beat the comparison sort. Their histograms count in `u32` (they
/// then fit the L1 cache), so longer inputs also take the comparison sort.
fn radix_pays(n: usize) -> bool {
    n >= RADIX_THRESHOLD && u32::try_from(n).is_ok()
}

/// An order-preserving map from `f64` (total order) to `u64`.
#[inline(always)]
fn key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[inline(always)]
fn unkey(k: u64) -> f64 {
    let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(bits)
}

#[inline(always)]
fn digit(k: u64, pass: usize) -> usize {
    ((k >> (LOW_BITS + pass as u32 * DIGIT_BITS)) & (BUCKETS as u64 - 1)) as usize
}

type Histograms = [[u32; BUCKETS]; PASSES];

/// The digit counts of every pass, in one read of the keys.
#[expect(clippy::indexing_slicing, reason = "digits are masked to < BUCKETS")]
fn histograms(keys: impl Iterator<Item = u64>) -> Box<Histograms> {
    let mut counts = Box::new([[0_u32; BUCKETS]; PASSES]);
    for k in keys {
        for (pass, count) in counts.iter_mut().enumerate() {
            count[digit(k, pass)] += 1;
        }
    }
    counts
}

/// The passes whose digit varies: a digit that every key shares moves nothing.
fn live_passes(counts: &Histograms, n: usize) -> Vec<usize> {
    (0..PASSES)
        .filter(|&p| {
            !counts
                .get(p)
                .is_some_and(|c| c.iter().any(|&c| c as usize == n))
        })
        .collect()
}

/// Where each digit's keys start in the output of a pass.
fn offsets(counts: &Histograms, pass: usize) -> [usize; BUCKETS] {
    let mut offsets = [0_usize; BUCKETS];
    let mut total = 0;
    if let Some(count) = counts.get(pass) {
        for (o, &c) in offsets.iter_mut().zip(count.iter()) {
            *o = total;
            total += c as usize;
        }
    }
    offsets
}

/// One stable counting pass of keys into `dest` by their digit of `pass`.
#[expect(
    clippy::indexing_slicing,
    reason = "digits are masked to < BUCKETS and offsets are < len"
)]
fn scatter(keys: impl Iterator<Item = u64>, pass: usize, counts: &Histograms, dest: &mut [u64]) {
    let mut offsets = offsets(counts, pass);
    for k in keys {
        let d = digit(k, pass);
        dest[offsets[d]] = k;
        offsets[d] += 1;
    }
}

/// [`scatter`] into a float buffer that holds key bits between passes (the patterns are only
/// moved, never used in arithmetic, so they survive intact).
#[expect(
    clippy::indexing_slicing,
    reason = "digits are masked to < BUCKETS and offsets are < len"
)]
fn scatter_bits(keys: &[u64], pass: usize, counts: &Histograms, dest: &mut [f64]) {
    let mut offsets = offsets(counts, pass);
    for &k in keys {
        let d = digit(k, pass);
        dest[offsets[d]] = f64::from_bits(k);
        offsets[d] += 1;
    }
}

/// Runs the remaining `passes` with the keys starting in `scratch`, alternating between it and
/// `out`, then fixes up the runs and leaves the sorted floats in `out`.
fn ping_pong(passes: &[usize], counts: &Histograms, scratch: &mut [u64], out: &mut [f64]) {
    let mut in_scratch = true;
    for &pass in passes {
        if in_scratch {
            scatter_bits(scratch, pass, counts, out);
        } else {
            scatter(out.iter().map(|v| v.to_bits()), pass, counts, scratch);
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        finish_from(scratch, out);
    } else {
        finish_in_place(out);
    }
}

/// Writes the keys (ordered by their bits above [`LOW_BITS`]) into `out` as sorted floats,
/// fixing up each run of keys that share those bits on the way (see [`insertion_sweep`]).
fn finish_from(keys: &[u64], out: &mut [f64]) {
    debug_assert_eq!(keys.len(), out.len());
    insertion_sweep(out, |_, i| keys.get(i).copied().unwrap_or_default());
}

/// [`finish_from`] for keys held as bits in `out` itself: the key at `i` is read before the
/// sweep writes anything at or after `i`.
fn finish_in_place(out: &mut [f64]) {
    insertion_sweep(out, |out, i| out.get(i).map_or(0, |v| v.to_bits()));
}

/// Fills `out` with the sorted floats of the keys `key_at(out, i)`, which are ordered by their
/// bits above [`LOW_BITS`] (the key at `i` must be readable until the sweep reaches `i`).
///
/// One insertion-sort sweep: a value only ever moves back past values of its own run, so the
/// sweep is linear when runs are short and in order. Should the moves exceed a linear budget
/// (long runs out of order), each run is sorted by the standard library's sort instead, so the
/// worst case stays O(n log n).
#[expect(clippy::indexing_slicing, reason = "1 <= j <= i < len")]
fn insertion_sweep(out: &mut [f64], key_at: impl Fn(&[f64], usize) -> u64) {
    let budget = 8 * out.len();
    let mut moves = 0;
    for i in 0..out.len() {
        let k = key_at(out, i);
        let mut j = i;
        while j > 0 && key(out[j - 1]) > k {
            out[j] = out[j - 1];
            j -= 1;
        }
        out[j] = unkey(k);
        moves += i - j;
        if moves > budget {
            for rest in i + 1..out.len() {
                out[rest] = unkey(key_at(out, rest));
            }
            sort_each_run(out);
            return;
        }
    }
}

/// Sorts each run of values whose keys share the bits above [`LOW_BITS`] (the runs are
/// already in order among themselves).
fn sort_each_run(values: &mut [f64]) {
    let mut rest = values;
    while let Some(&first) = rest.first() {
        let high = key(first) >> LOW_BITS;
        let len = rest
            .iter()
            .position(|&v| key(v) >> LOW_BITS != high)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at_mut(len);
        run.sort_unstable_by(f64::total_cmp);
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_split_sort_is_the_sort_bit_for_bit() {
        let two = crate::test_support::pool(2);
        let mut next = crate::test_support::xorshift(0x9e37_79b9_7f4a_7c15);
        let n = SPLIT_SORT_MIN_LEN + 4_321;
        // Continuous values; few distinct values with both zeros; every bit pattern (NaN and
        // infinities left out by both); one half all larger than the other.
        let samples: [Vec<f64>; 4] = [
            (0..n).map(|_| (next() >> 11) as f64 - 4e15).collect(),
            (0..n)
                .map(|_| [0.0, -0.0, 1.5, -2.0][(next() % 4) as usize])
                .collect(),
            (0..n).map(|_| f64::from_bits(next())).collect(),
            (0..n)
                .map(|i| if i < n / 2 { 1e6 + i as f64 } else { i as f64 })
                .collect(),
        ];
        for values in &samples {
            let want: Vec<u64> = sorted_finite(values).iter().map(|v| v.to_bits()).collect();
            let got: Vec<u64> = two
                .install(|| sorted_finite_split(values))
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(got, want);
        }
    }

    proptest! {
        #[test]
        fn merging_on_two_threads_is_sorting(
            mut a in proptest::collection::vec(-5_i8..5, 0..60),
            mut b in proptest::collection::vec(-5_i8..5, 0..60),
        ) {
            a.sort_unstable();
            b.sort_unstable();
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let mut want: Vec<f64> = a.iter().chain(&b).copied().collect();
            want.sort_unstable_by(f64::total_cmp);
            let mut out = vec![f64::NAN; a.len() + b.len()];
            merge_on_two_threads(&a, &b, &mut out);
            prop_assert_eq!(out, want);
        }
    }

    #[test]
    fn key_round_trips_and_orders() {
        let vals = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::INFINITY,
        ];
        for w in vals.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{w:?}");
        }
        for v in vals {
            assert_eq!(unkey(key(v)).to_bits(), v.to_bits());
        }
    }

    /// Both entry points against the standard library's sort.
    fn sorted_like_std(mut v: Vec<f64>) {
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let mut expected = v.clone();
        expected.sort_unstable_by(f64::total_cmp);
        let finite: Vec<f64> = expected.iter().copied().filter(|x| x.is_finite()).collect();
        assert_eq!(bits(&sorted_finite(&v)), bits(&finite));
        sort_f64(&mut v);
        assert_eq!(bits(&v), bits(&expected));
    }

    #[test]
    fn radix_with_skipped_passes_and_long_runs() {
        // The key bits that vary decide the live passes: bits 31.. (one pass), 31..53 (two),
        // all (three), or only bits below 31 (no pass: one long run for the fix-up).
        let base = 1.0_f64.to_bits();
        for (shift, width) in [(LOW_BITS, 11), (LOW_BITS, 22), (0, 62), (0, 31), (0, 8)] {
            let modulus = 1_u64 << width;
            let v: Vec<f64> = (0..6000_u64)
                .map(|i| {
                    let varying = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7) % modulus;
                    f64::from_bits((base & !((modulus - 1) << shift)) | (varying << shift))
                })
                .collect();
            sorted_like_std(v);
        }
        sorted_like_std(vec![2.5; 5000]);
    }

    #[test]
    fn runs_sharing_high_bits_of_every_length() {
        // Groups of 1..=70 values that agree in their top 33 key bits, shuffled together.
        let mut v = Vec::new();
        for (g, len) in (1..=70_u64).enumerate() {
            let high = (1.0 + g as f64).to_bits() & !((1 << LOW_BITS) - 1);
            v.extend((0..len).map(|i| f64::from_bits(high | ((i * 7919) % (1 << 20)))));
        }
        v.extend(v.clone().iter().map(|x| -x));
        v.reverse();
        let n = v.len();
        v.rotate_left(n / 3);
        assert!(n >= RADIX_THRESHOLD);
        sorted_like_std(v);
    }

    #[test]
    fn sorted_finite_leaves_out_nan_and_infinities() {
        for len in [0, 5, 5000] {
            let v: Vec<f64> = (0..len)
                .map(|i| match i % 9 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    3 => -0.0,
                    _ => ((i * 7919) % 1013) as f64 - 500.5,
                })
                .collect();
            let mut want: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            want.sort_unstable_by(f64::total_cmp);
            let got = sorted_finite(&v);
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "len {len}");
        }
    }

    #[test]
    fn kept_buffers_never_leak_old_values() {
        // Longer, shorter, then longer again: each sort reuses (and resizes) the kept buffers.
        for (len, seed) in [(9000_u64, 1_u64), (5000, 2), (12_000, 3)] {
            let v: Vec<f64> = (0..len)
                .map(|i| ((i * 7919 + seed * 104_729) % 10_007) as f64 - 5000.0)
                .collect();
            sorted_like_std(v.clone());
            let out = sorted_finite(&v);
            assert_eq!(out.len(), v.len());
            assert!(out.is_sorted_by(|a, b| a.total_cmp(b).is_le()));
            recycle(out);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn radix_matches_comparison_sort(v in proptest::collection::vec(any::<f64>(), 4096..6000)) {
            sorted_like_std(v);
        }

        #[test]
        fn radix_matches_comparison_sort_with_clustered_values(
            highs in proptest::collection::vec(any::<u64>(), 1..40),
            picks in proptest::collection::vec((any::<prop::sample::Index>(), 0_u64..64), 4096..6000),
        ) {
            // Few distinct high parts and few distinct low parts: long runs and many ties.
            let v = picks
                .iter()
                .map(|(i, low)| f64::from_bits((*i.get(&highs) & !((1 << LOW_BITS) - 1)) | low))
                .collect();
            sorted_like_std(v);
        }

        /// The range sort against the standard library's, on samples a sketch merge sorts
        /// (runs of sorted values, ties, signed zeros) and on arbitrary floats (outliers that
        /// stretch the range, NaN and infinities: the fallbacks).
        #[test]
        fn range_sort_matches_comparison_sort(
            runs in proptest::collection::vec(
                proptest::collection::vec(-1e3_f64..1e3, 0..40), 0..120),
            extra in proptest::collection::vec(any::<f64>(), 0..3),
            ties in 0_usize..50,
        ) {
            let mut v: Vec<f64> = Vec::new();
            for mut run in runs {
                run.sort_by(f64::total_cmp);
                v.extend(run);
            }
            v.extend(std::iter::repeat_n(0.25, ties));
            v.extend([-0.0, 0.0, -0.0]);
            let mut want = v.clone();
            want.sort_unstable_by(f64::total_cmp);
            let mut got = v.clone();
            sort_by_range(&mut got);
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got), bits(&want));
            v.extend(extra);
            let mut want = v.clone();
            want.sort_unstable_by(f64::total_cmp);
            sort_by_range(&mut v);
            prop_assert_eq!(bits(&v), bits(&want));
        }
    }

    #[test]
    fn range_sort_handles_crowded_and_degenerate_ranges() {
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let check = |mut v: Vec<f64>| {
            let mut want = v.clone();
            want.sort_unstable_by(f64::total_cmp);
            sort_by_range(&mut v);
            assert_eq!(bits(&v), bits(&want));
        };
        let spread = |i: u64| ((i * 7919) % 1013) as f64;
        // One far outlier: everything else crowds one bucket, the sweep's budget runs out.
        let mut v: Vec<f64> = (0..3000).map(|i| spread(i) * 1e-9).collect();
        v.push(1e300);
        check(v);
        // The full finite range: the span overflows.
        check(
            (0..500)
                .map(|i| if i % 2 == 0 { f64::MAX } else { -f64::MAX } / (1.0 + spread(i)))
                .collect(),
        );
        // All equal, signed zeros, and below the threshold.
        check(vec![7.0; 1000]);
        check(
            (0..400)
                .map(|i| if i % 3 == 0 { -0.0 } else { 0.0 })
                .collect(),
        );
        check((0..50).map(|i| 50.0 - f64::from(i)).collect());
        check(Vec::new());
    }
}
