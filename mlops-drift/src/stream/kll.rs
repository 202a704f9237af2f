//! A KLL quantile sketch (Karnin, Lang, Liberty 2016) with a rank-error bound it can state.
//!
//! Level `h` holds items of weight 2^h. When a level is full it is sorted and every other item
//! (odd or even positions, by a seeded coin) is promoted to the next level. Each such compaction
//! moves the rank of any point by exactly 0 or ±2^h with equal probability, independently of the
//! others, so after compactions of weights w₁, w₂, … the rank error of any query is a sum of
//! independent zero-mean terms bounded by wᵢ; Hoeffding's inequality gives
//! `|error| ≤ sqrt(2 · Σwᵢ² · ln(2/δ))` with probability at least `1 − δ`. The sketch tracks
//! `Σwᵢ²` exactly (merging adds it), so [`KllSketch::rank_error`] is a bound for this sketch's
//! actual history, not a worst case for its size.

use serde::{Deserialize, Serialize};

use crate::error::{DriftError, Result};

/// (2/3)^d for d < 64.
const TWO_THIRDS_POW: [f64; 64] = {
    let mut t = [1.0_f64; 64];
    let mut i = 1;
    while i < 64 {
        #[allow(clippy::indexing_slicing)] // reason: 1 <= i < 64 in a const initializer
        {
            t[i] = t[i - 1] * 2.0 / 3.0;
        }
        i += 1;
    }
    t
};

/// The smallest capacity of a level.
const MIN_LEVEL_CAPACITY: usize = 32;

/// The failure probability δ of the reported rank-error bound.
pub const RANK_ERROR_DELTA: f64 = 0.01;

/// A mergeable, serializable quantile sketch of `f64` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketch {
    k: u32,
    n: u64,
    levels: Vec<Vec<f64>>,
    #[serde(with = "mlops_core::float_serde")]
    min: f64,
    #[serde(with = "mlops_core::float_serde")]
    max: f64,
    /// Σ wᵢ² over all compactions that built this sketch.
    error_variance: f64,
    rng: u64,
}

impl KllSketch {
    /// The default accuracy parameter: about 0.5 % normalized rank error at 99 % confidence.
    pub const DEFAULT_K: u32 = 400;

    /// A sketch whose top level holds `k` items (memory about `3k` values).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `k < 8`.
    pub fn new(k: u32) -> Result<Self> {
        if k < 8 {
            return Err(DriftError::InvalidParameter {
                name: "k",
                reason: format!("must be at least 8, got `{k}`"),
            });
        }
        Ok(Self::with_k(k))
    }

    pub(crate) fn with_k(k: u32) -> Self {
        Self {
            k: k.max(8),
            n: 0,
            levels: vec![Vec::new()],
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            error_variance: 0.0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The accuracy parameter.
    #[must_use]
    pub fn k(&self) -> u32 {
        self.k
    }

    /// How many values were inserted.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether no value was inserted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The smallest value inserted (exact), `+inf` when empty.
    #[must_use]
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The largest value inserted (exact), `-inf` when empty.
    #[must_use]
    pub fn max(&self) -> f64 {
        self.max
    }

    /// How many items the sketch retains (its memory is about 8 bytes per item).
    #[must_use]
    pub fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Heap bytes held by the sketch's buffers.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.capacity() * 8).sum::<usize>()
            + self.levels.capacity() * std::mem::size_of::<Vec<f64>>()
    }

    /// The bound on the normalized rank error (a fraction of [`KllSketch::len`]) of every rank
    /// and quantile query, holding with probability at least `1 − RANK_ERROR_DELTA`; 0 while no
    /// compaction has happened (the sketch is then exact).
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // reason: counts far below 2^53
    pub fn rank_error(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        (2.0 * self.error_variance * (2.0 / RANK_ERROR_DELTA).ln()).sqrt() / self.n as f64
    }

    /// Inserts a finite value (non-finite values are the caller's to count; they are ignored).
    pub fn insert(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if let Some(level0) = self.levels.first_mut() {
            level0.push(x);
        }
        if self.levels.first().map_or(0, Vec::len) >= self.capacity(0) {
            self.compress(false);
        }
    }

    /// Merges `other` into `self`. Counts, minimum, maximum and the error variance add exactly;
    /// the retained items are those of both, compacted.
    pub fn merge(&mut self, other: &Self) {
        if other.n == 0 {
            return;
        }
        self.k = self.k.min(other.k);
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.error_variance += other.error_variance;
        self.rng ^= other.rng.rotate_left(17);
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (mine, theirs) in self.levels.iter_mut().zip(&other.levels) {
            mine.extend_from_slice(theirs);
        }
        self.compress(true);
    }

    /// The capacity of level `h` now: `k · (2/3)^depth` counted from the top, at least
    /// [`MIN_LEVEL_CAPACITY`] (a table lookup: this runs on the insert path).
    fn capacity(&self, h: usize) -> usize {
        let top = self.levels.len().saturating_sub(1);
        let depth = top.saturating_sub(h);
        let factor = TWO_THIRDS_POW.get(depth).copied().unwrap_or(0.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // reason: the product is in [0, k]
        let cap = (f64::from(self.k) * factor) as usize;
        cap.max(MIN_LEVEL_CAPACITY)
    }

    fn coin(&mut self) -> bool {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63 == 1
    }

    /// Compacts levels over their capacity, lowest first. After an insert only a chain from
    /// level 0 can overflow, so the pass stops at the first level within capacity; after a merge
    /// (`full`) every level is checked.
    fn compress(&mut self, full: bool) {
        let mut h = 0;
        while h < self.levels.len() {
            let cap = self.capacity(h);
            if self.levels.get(h).map_or(0, Vec::len) < cap {
                if !full {
                    break;
                }
            } else {
                if h + 1 == self.levels.len() {
                    self.levels.push(Vec::new());
                }
                let odd = self.coin();
                let weight = 2f64.powi(i32::try_from(h).unwrap_or(i32::MAX));
                self.error_variance += weight * weight;
                let (lower, upper) = self.levels.split_at_mut(h + 1);
                let (Some(level), Some(next)) = (lower.last_mut(), upper.first_mut()) else {
                    break;
                };
                // Only finite values are inserted, so `partial_cmp` is total here (and cheaper).
                // A stable sort: levels above 0 are concatenations of sorted runs (promotions
                // and merged sketches), which it merges in near-linear time.
                level.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                // An odd leftover stays at this level, so weights are conserved exactly.
                let keep = if level.len() % 2 == 1 {
                    level.pop()
                } else {
                    None
                };
                next.extend(level.iter().skip(usize::from(odd)).step_by(2).copied());
                level.clear();
                level.extend(keep);
                // Capacities shrink as the sketch grows: give back what the level no longer needs.
                // Eight spare slots keep the level's writes off the next allocation's line.
                level.shrink_to(cap + 8);
            }
            h += 1;
        }
    }

    /// The retained items with their weights, ascending by value.
    #[must_use]
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, level)| {
                let w = 1_u64 << h.min(63);
                level.iter().map(move |&v| (v, w))
            })
            .collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        items
    }

    /// The estimated number of inserted values `≤ x`.
    #[must_use]
    pub fn rank(&self, x: f64) -> u64 {
        self.levels
            .iter()
            .enumerate()
            .map(|(h, level)| {
                level.iter().filter(|&&v| v <= x).count() as u64 * (1_u64 << h.min(63))
            })
            .sum()
    }

    /// The estimated `q`-quantile (`q` in [0, 1]): the smallest retained value whose estimated
    /// rank reaches `q · n`. `None` when empty or `q` is outside [0, 1].
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // reason: counts far below 2^53
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        if q == 0.0 {
            return Some(self.min);
        }
        if q == 1.0 {
            return Some(self.max);
        }
        let target = q * self.n as f64;
        let mut acc = 0_u64;
        for (v, w) in self.weighted_items() {
            acc += w;
            if acc as f64 >= target {
                return Some(v);
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl Iterator<Item = f64> {
        let mut s = seed;
        std::iter::repeat_with(move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
    }

    #[test]
    fn ranks_stay_within_the_reported_bound() {
        let mut s = KllSketch::with_k(200);
        let values: Vec<f64> = lcg(7).take(200_000).collect();
        for &v in &values {
            s.insert(v);
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let bound = s.rank_error();
        assert!(bound > 0.0 && bound < 0.05, "bound {bound}");
        let total: u64 = s.weighted_items().iter().map(|p| p.1).sum();
        assert_eq!(total, s.len(), "weights are conserved");
        for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
            let x = sorted[(q * sorted.len() as f64) as usize];
            let true_rank = sorted.partition_point(|&v| v <= x) as f64;
            let err = (s.rank(x) as f64 - true_rank).abs() / sorted.len() as f64;
            assert!(err <= bound, "q {q}: error {err} > bound {bound}");
        }
        assert!(s.retained() < 3 * 200 + 200);
        assert_eq!(s.min(), sorted[0]);
        assert_eq!(s.max(), *sorted.last().unwrap());
    }

    #[test]
    fn small_streams_are_exact() {
        let mut s = KllSketch::with_k(400);
        for v in [3.0, 1.0, 2.0] {
            s.insert(v);
        }
        assert_eq!(s.rank_error(), 0.0);
        assert_eq!(s.quantile(0.5), Some(2.0));
        assert_eq!(s.rank(2.0), 2);
        assert_eq!(s.quantile(1.5), None);
    }

    #[test]
    fn merged_sketches_keep_counts_and_bounds() {
        let mut a = KllSketch::with_k(100);
        let mut b = KllSketch::with_k(100);
        lcg(1).take(30_000).for_each(|v| a.insert(v));
        lcg(2).take(50_000).for_each(|v| b.insert(v + 1.0));
        let mut ab = a.clone();
        ab.merge(&b);
        assert_eq!(ab.len(), 80_000);
        assert_eq!(ab.weighted_items().iter().map(|p| p.1).sum::<u64>(), 80_000);
        // 3/8 of the mass is below 1.
        let r = ab.rank(1.0) as f64 / 80_000.0;
        assert!((r - 0.375).abs() <= ab.rank_error() + 0.01, "{r}");
        assert!(KllSketch::new(2).is_err());
    }
}
