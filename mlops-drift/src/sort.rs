//! Sorting of numeric samples: the one sort per column that every order-based method
//! (Kolmogorov–Smirnov, Cramér–von Mises, Anderson–Darling, Wasserstein, energy distance,
//! quantiles) reuses.
//!
//! Large samples are sorted with a least-significant-digit radix sort on the IEEE-754 bit
//! pattern mapped to an order-preserving `u64` (the order of [`f64::total_cmp`]); small ones with
//! the standard library's unstable sort. Both give the same order.

/// Below this length the comparison sort is faster than the radix passes.
const RADIX_THRESHOLD: usize = 4096;
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = 6; // 6 × 11 ≥ 64 bits

/// Sorts `values` ascending in the order of [`f64::total_cmp`] (−NaN < −∞ < … < −0 < +0 < … <
/// +∞ < NaN).
pub(crate) fn sort_f64(values: &mut Vec<f64>) {
    if values.len() < RADIX_THRESHOLD {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let mut keys: Vec<u64> = values.iter().map(|v| key(*v)).collect();
    radix_sort_u64(&mut keys);
    values.clear();
    values.extend(keys.into_iter().map(unkey));
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

#[allow(clippy::indexing_slicing)] // reason: digits are masked to < BUCKETS and offsets are < len
fn radix_sort_u64(keys: &mut Vec<u64>) {
    let n = keys.len();
    let mask = (BUCKETS - 1) as u64;
    let mut counts = vec![[0_usize; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, count) in counts.iter_mut().enumerate() {
            count[((k >> (pass as u32 * DIGIT_BITS)) & mask) as usize] += 1;
        }
    }
    let mut buf = vec![0_u64; n];
    for (pass, count) in counts.iter().enumerate() {
        // A digit that every key shares moves nothing.
        if count.contains(&n) {
            continue;
        }
        let mut offsets = [0_usize; BUCKETS];
        let mut total = 0;
        for (o, &c) in offsets.iter_mut().zip(count.iter()) {
            *o = total;
            total += c;
        }
        let shift = pass as u32 * DIGIT_BITS;
        for &k in keys.iter() {
            let d = ((k >> shift) & mask) as usize;
            buf[offsets[d]] = k;
            offsets[d] += 1;
        }
        std::mem::swap(keys, &mut buf);
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
