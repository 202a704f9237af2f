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

/// LSD radix sort: the key transform is fused with the histogram pass and the inverse transform
/// with the last scatter, so the data is read `1 + passes` times.
#[allow(clippy::indexing_slicing)] // reason: digits are masked to < BUCKETS and offsets are < len
fn radix_sort_f64(values: &mut [f64]) {
    let n = values.len();
    let mask = (BUCKETS - 1) as u64;
    let digit = |k: u64, pass: usize| ((k >> (pass as u32 * DIGIT_BITS)) & mask) as usize;
    let mut counts = vec![[0_usize; BUCKETS]; PASSES];
    let mut keys: Vec<u64> = Vec::with_capacity(n);
    for &v in values.iter() {
        let k = key(v);
        for (pass, count) in counts.iter_mut().enumerate() {
            count[digit(k, pass)] += 1;
        }
        keys.push(k);
    }
    // A digit that every key shares moves nothing.
    let live: Vec<usize> = (0..PASSES).filter(|&p| !counts[p].contains(&n)).collect();
    let mut buf = vec![0_u64; n];
    for (i, &pass) in live.iter().enumerate() {
        let mut offsets = [0_usize; BUCKETS];
        let mut total = 0;
        for (o, &c) in offsets.iter_mut().zip(counts[pass].iter()) {
            *o = total;
            total += c;
        }
        if i + 1 == live.len() {
            for &k in &keys {
                let d = digit(k, pass);
                values[offsets[d]] = unkey(k);
                offsets[d] += 1;
            }
            return;
        }
        for &k in &keys {
            let d = digit(k, pass);
            buf[offsets[d]] = k;
            offsets[d] += 1;
        }
        std::mem::swap(&mut keys, &mut buf);
    }
    // No live pass: every key is equal, and so is every value.
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
