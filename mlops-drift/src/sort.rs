//! Sorting of numeric samples: the one sort per column that every order-based method
//! (Kolmogorov–Smirnov, Cramér–von Mises, Anderson–Darling, Wasserstein, energy distance,
//! quantiles) reuses.
//!
//! Large samples are sorted with a least-significant-digit radix sort on the IEEE-754 bit
//! pattern mapped to an order-preserving `u64` (the order of [`f64::total_cmp`]); small ones with
//! the standard library's unstable sort. Both give the same order.

/// Below this length the comparison sort is faster than the radix passes.
const RADIX_THRESHOLD: usize = 4096;
const DIGIT_BITS: u32 = 8;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = 8; // 8 × 8 = 64 bits

/// Sorts `values` ascending in the order of [`f64::total_cmp`] (−NaN < −∞ < … < −0 < +0 < … <
/// +∞ < NaN).
pub(crate) fn sort_f64(values: &mut [f64]) {
    if values.len() < RADIX_THRESHOLD {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    radix_sort_f64(values);
}

/// An order-preserving map from `f64` (total order) to `u64`.
fn key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn unkey(k: u64) -> f64 {
    let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(bits)
}

/// LSD radix sort. The key transform is fused with the histogram pass and the inverse transform
/// with the last scatter; the passes ping-pong between one scratch buffer and `values` itself
/// (holding key bits in between), so one buffer of `n` words is allocated.
#[allow(clippy::indexing_slicing)] // reason: digits are masked to < BUCKETS and offsets are < len
fn radix_sort_f64(values: &mut [f64]) {
    let n = values.len();
    let mask = (BUCKETS - 1) as u64;
    let digit = |k: u64, pass: usize| ((k >> (pass as u32 * DIGIT_BITS)) & mask) as usize;
    let mut counts = vec![[0_usize; BUCKETS]; PASSES];
    for &v in values.iter() {
        let k = key(v);
        for (pass, count) in counts.iter_mut().enumerate() {
            count[digit(k, pass)] += 1;
        }
    }
    // A digit that every key shares moves nothing.
    let live: Vec<usize> = (0..PASSES).filter(|&p| !counts[p].contains(&n)).collect();
    if live.is_empty() {
        return; // every value has the same bits
    }
    let mut scratch = vec![0_u64; n];
    // Where the data is: `values` as plain floats (before the first pass), `values` as key bits,
    // or `scratch` as keys.
    let mut in_scratch = false;
    for (i, &pass) in live.iter().enumerate() {
        let mut offsets = [0_usize; BUCKETS];
        let mut total = 0;
        for (o, &c) in offsets.iter_mut().zip(counts[pass].iter()) {
            *o = total;
            total += c;
        }
        let last = i + 1 == live.len();
        if in_scratch {
            for &k in scratch.iter() {
                let d = digit(k, pass);
                values[offsets[d]] = if last { unkey(k) } else { f64::from_bits(k) };
                offsets[d] += 1;
            }
        } else {
            for &v in values.iter() {
                let k = if i == 0 { key(v) } else { v.to_bits() };
                let d = digit(k, pass);
                scratch[offsets[d]] = k;
                offsets[d] += 1;
            }
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        for (v, &k) in values.iter_mut().zip(scratch.iter()) {
            *v = unkey(k);
        }
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

    #[test]
    fn radix_with_skipped_passes() {
        // Only the lowest 1, 2 or 3 bytes of the bit patterns vary: 1, 2 or 3 live passes (odd
        // counts end in the scratch buffer), plus all-equal input (no live pass).
        for bytes in [1_u32, 2, 3] {
            let modulus = 1_u64 << (8 * bytes);
            let mut v: Vec<f64> = (0..5000_u64)
                .map(|i| f64::from_bits(1.0_f64.to_bits() + (i * 7919) % modulus))
                .collect();
            let mut expected = v.clone();
            expected.sort_unstable_by(f64::total_cmp);
            sort_f64(&mut v);
            assert_eq!(v, expected, "{bytes} bytes");
        }
        let mut same = vec![2.5; 5000];
        sort_f64(&mut same);
        assert!(same.iter().all(|&x| x == 2.5));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn radix_matches_comparison_sort(
            mut v in proptest::collection::vec(any::<f64>(), 4096..6000)
        ) {
            let mut expected = v.clone();
            expected.sort_unstable_by(f64::total_cmp);
            sort_f64(&mut v);
            let a: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
            let b: Vec<u64> = expected.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(a, b);
        }
    }
}
