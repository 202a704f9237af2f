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
    // The radix histograms count in u32 (they then fit the L1 cache).
    if values.len() < RADIX_THRESHOLD || u32::try_from(values.len()).is_err() {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    radix_sort_f64(values);
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

/// LSD radix sort on the high key bits, then [`fix_up_runs`]. The keys live in one scratch
/// buffer of `n` words and, between passes, in `values` itself (as key bits; the patterns are
/// only moved, never used in arithmetic, so they survive intact). The passes are arranged to
/// end in the scratch buffer, from which the fix-up writes the sorted floats back.
#[allow(clippy::indexing_slicing)] // reason: digits are masked to < BUCKETS and offsets are < len
fn radix_sort_f64(values: &mut [f64]) {
    let n = values.len();
    let mut counts = vec![[0_u32; BUCKETS]; PASSES];
    for &v in values.iter() {
        let k = key(v);
        for (pass, count) in counts.iter_mut().enumerate() {
            count[digit(k, pass)] += 1;
        }
    }
    // A digit that every key shares moves nothing.
    let live: Vec<usize> = (0..PASSES)
        .filter(|&p| !counts[p].iter().any(|&c| c as usize == n))
        .collect();
    let mut scratch = vec![0_u64; n];
    // With an even number of passes, first move the keys into the scratch buffer, so that the
    // last pass ends there.
    let mut in_scratch = false;
    let mut keyed = false;
    if live.len().is_multiple_of(2) {
        for (s, &v) in scratch.iter_mut().zip(values.iter()) {
            *s = key(v);
        }
        in_scratch = true;
        keyed = true;
    }
    for &pass in &live {
        let mut offsets = [0_usize; BUCKETS];
        let mut total = 0;
        for (o, &c) in offsets.iter_mut().zip(counts[pass].iter()) {
            *o = total;
            total += c as usize;
        }
        if in_scratch {
            for &k in scratch.iter() {
                let d = digit(k, pass);
                values[offsets[d]] = f64::from_bits(k);
                offsets[d] += 1;
            }
        } else {
            for &v in values.iter() {
                let k = if keyed { v.to_bits() } else { key(v) };
                let d = digit(k, pass);
                scratch[offsets[d]] = k;
                offsets[d] += 1;
            }
        }
        in_scratch = !in_scratch;
        keyed = true;
    }
    debug_assert!(in_scratch);
    fix_up_runs(&mut scratch);
    for (v, &k) in values.iter_mut().zip(scratch.iter()) {
        *v = unkey(k);
    }
}

/// Completes the sort of keys that are already ordered by their bits above [`LOW_BITS`].
///
/// One insertion-sort sweep: a key only ever moves back past keys of its own run (those that
/// share its high bits), so the sweep is linear when runs are short and in order. Should the
/// moves exceed a linear budget (long runs out of order), each remaining run is sorted by the
/// standard library's sort instead, so the worst case stays O(n log n).
#[allow(clippy::indexing_slicing)] // reason: 1 <= j <= i < len
fn fix_up_runs(keys: &mut [u64]) {
    let budget = 8 * keys.len();
    let mut moves = 0;
    for i in 1..keys.len() {
        let k = keys[i];
        let mut j = i;
        while j > 0 && keys[j - 1] > k {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = k;
        moves += i - j;
        if moves > budget {
            sort_each_run(keys);
            return;
        }
    }
}

/// Sorts each run of keys sharing the bits above [`LOW_BITS`] by the full key.
fn sort_each_run(keys: &mut [u64]) {
    let mut rest = keys;
    while let Some(&first) = rest.first() {
        let high = first >> LOW_BITS;
        let len = rest
            .iter()
            .position(|&k| k >> LOW_BITS != high)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at_mut(len);
        run.sort_unstable();
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn sorted_like_std(mut v: Vec<f64>) {
        let mut expected = v.clone();
        expected.sort_unstable_by(f64::total_cmp);
        sort_f64(&mut v);
        let got: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> = expected.iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, want);
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
    }
}
