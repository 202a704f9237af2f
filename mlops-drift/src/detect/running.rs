//! Running statistics with River's exact update arithmetic (`stats.Mean`, `stats.Var`,
//! `stats.EWMean`), so the detectors built on them reproduce River bit for bit.

use serde::{Deserialize, Serialize};

/// Running mean: `n += 1; mean += 1 / n * (x - mean)`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Mean {
    pub(crate) n: f64,
    pub(crate) mean: f64,
}

impl Mean {
    pub(crate) fn update(&mut self, x: f64) {
        self.update_recip(x);
    }

    /// [`Mean::update`] with `recip` already computed: it must be `1.0 / (self.n + 1.0)`.
    pub(crate) fn update_with_recip(&mut self, x: f64, recip: f64) {
        self.n += 1.0;
        debug_assert_eq!(recip.to_bits(), (1.0 / self.n).to_bits());
        self.mean += recip * (x - self.mean);
    }

    /// [`Mean::update`], returning the `1 / n` it used (bit for bit what `1.0 / n` gives later,
    /// so callers reuse it instead of dividing again).
    pub(crate) fn update_recip(&mut self, x: f64) -> f64 {
        self.n += 1.0;
        let recip = 1.0 / self.n;
        self.mean += recip * (x - self.mean);
        recip
    }
}

/// Below this, `q * SHRINK` or `d * d` could lose relative precision to underflow, so
/// [`at_least_sqrt`] takes the square root.
const MIN_SQUARED: f64 = 1e-290;
/// `1 - 2^-40`: a relative margin far wider than the rounding of `d * d`, `q * SHRINK` and
/// `q.sqrt()` together (each within 2^-53).
const SHRINK: f64 = 1.0 - 1.0 / 1_099_511_627_776.0;

/// Whether `d` is certainly below `q.sqrt()` as rounded, decided without the square root.
///
/// If `q` is normal and `fl(d * d) < fl(q * SHRINK)`, then `d² < q (1 - 2^-41)`, so
/// `d < sqrt(q) (1 - 2^-42) < fl(sqrt(q))`. A `d * d` that underflows means `|d| < 1e-153`,
/// below `sqrt(MIN_SQUARED)`. `false` means "take the square root", never "above".
fn certainly_below_sqrt(d: f64, q: f64) -> bool {
    d < 0.0 || (q >= MIN_SQUARED && d * d < q * SHRINK)
}

/// `d >= q.sqrt()`, exactly as written, usually without taking the square root.
pub(crate) fn at_least_sqrt(d: f64, q: f64) -> bool {
    !certainly_below_sqrt(d, q) && d >= q.sqrt()
}

/// Running sample variance (ddof = 1) by Welford's update.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Var {
    pub(crate) mean: Mean,
    s: f64,
}

impl Var {
    pub(crate) fn update(&mut self, x: f64) {
        let old = self.mean.mean;
        self.mean.update(x);
        self.s += 1.0 * (x - old) * (x - self.mean.mean);
    }

    pub(crate) fn get(&self) -> f64 {
        if self.mean.n > 1.0 {
            self.s / (self.mean.n - 1.0)
        } else {
            0.0
        }
    }
}

/// Exponentially weighted mean: the first value, then `alpha * x + (1 - alpha) * mean`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct EwMean {
    pub(crate) mean: f64,
    alpha: f64,
    one_minus_alpha: f64,
    initialized: bool,
}

impl EwMean {
    pub(crate) fn new(alpha: f64) -> Self {
        Self {
            mean: 0.0,
            alpha,
            one_minus_alpha: 1.0 - alpha,
            initialized: false,
        }
    }

    pub(crate) fn update(&mut self, x: f64) {
        if self.initialized {
            self.mean = self.alpha * x + self.one_minus_alpha * self.mean;
        } else {
            self.mean = x;
            self.initialized = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_comparison_agrees_with_the_square_root() {
        let mut next = crate::test_support::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for _ in 0..200_000 {
            let q = f64::from_bits(next() >> 2);
            let s = q.sqrt();
            // Values at, next to and near the rounded root, and arbitrary ones.
            let near = [
                s,
                f64::from_bits(s.to_bits().wrapping_add(1)),
                f64::from_bits(s.to_bits().wrapping_sub(1)),
                s * (1.0 - 1e-12),
                s * (1.0 + 1e-12),
                -s,
                f64::from_bits(next()),
                0.0,
                -0.0,
            ];
            for d in near {
                assert_eq!(at_least_sqrt(d, q), d >= q.sqrt(), "{d:e} {q:e}");
                checked += 1;
            }
        }
        for (d, q) in [
            (0.0, 0.0),
            (1e-160, 1e-300),
            (f64::NAN, 1.0),
            (1.0, f64::NAN),
        ] {
            assert_eq!(at_least_sqrt(d, q), d >= q.sqrt());
        }
        assert!(checked > 1_000_000);
    }

    #[test]
    fn update_recip_is_the_reciprocal_the_mean_used() {
        let mut m = Mean::default();
        for i in 1..1_000 {
            let r = m.update_recip(f64::from(i % 7));
            assert_eq!(r.to_bits(), (1.0 / f64::from(i)).to_bits());
        }
    }

    #[test]
    fn mean_and_var_match_textbook_values() {
        let mut v = Var::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            v.update(x);
        }
        assert!((v.mean.mean - 5.0).abs() < 1e-12);
        assert!((v.get() - 32.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn ewmean_matches_river_docstring() {
        // river.stats.EWMean(0.5) on [1, 3, 5, 4, 6, 8, 7, 9, 11] prints these values.
        let mut e = EwMean::new(0.5);
        let want = [
            1.0, 2.0, 3.5, 3.75, 4.875, 6.4375, 6.71875, 7.859375, 9.4296875,
        ];
        for (x, w) in [1.0, 3.0, 5.0, 4.0, 6.0, 8.0, 7.0, 9.0, 11.0]
            .into_iter()
            .zip(want)
        {
            e.update(x);
            assert_eq!(e.mean, w);
        }
    }
}
