//! A proof, cheaper than River's scan, that the scan would find no cut.

use super::{Adwin, power_of_two, row_size};

/// `δ′ = ln(2·ln(W)/δ)` computed for a width `W0`, to stand for `δ′` at widths from `W0` to
/// `2·W0`: it grows with the width, so it is a lower bound there (less the rounding of the two
/// logarithms, under 11 units in the last place for every `W ≥ 2`, and 2^-40 is taken off).
/// Saves the two logarithms per scan when the bound decides. Never compared: it is a cache.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DeltaPrimeFloor {
    width: f64,
    delta_prime: f64,
}

impl PartialEq for DeltaPrimeFloor {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl DeltaPrimeFloor {
    fn at(&mut self, width: f64, delta: f64) -> f64 {
        if !(self.width <= width && width <= 2.0 * self.width) {
            *self = Self {
                width,
                delta_prime: (2.0 * width.ln() / delta).ln(),
            };
        }
        self.delta_prime * (1.0 - power_of_two(-40))
    }
}

impl Adwin {
    /// A proof that River's scan would find no cut, with a few multiplications per row of the
    /// histogram instead of four divisions and a square root per split. False means "not
    /// proved", not "a cut".
    ///
    /// River cuts at a split into the oldest `n0` values (total `u0`) and the `n1` newest
    /// (total `u1`) when `|u0/n0 − u1/n1| > sqrt(2·m·v·δ′) + (2/3)·δ′·m`, where
    /// `m = 1/(n0−ℓ+1) + 1/(n1−ℓ+1)`, ℓ is `min_window_length`, `v` the variance per value and
    /// `δ′ = ln(2·ln(W)/δ)`. In exact arithmetic, with `W = n0 + n1`, `μ = total/W` and
    /// `q = n0·n1/W`:
    /// - `u0/n0 − u1/n1 = dev/q`, where `dev = u0 − μ·n0` is how far the oldest values' total
    ///   is from their share of the window's;
    /// - `m ≥ 1/n0 + 1/n1 = 1/q` (ℓ ≥ 1), and the second term is positive when `v, δ′ > 0`;
    /// - so no cut is possible where `dev² ≤ 2·v·δ′·q`.
    ///
    /// Within a row each summary moves `dev` by `t − μ·size`, so
    /// `|dev at the row's start| + Σ|t − μ·size|` bounds it at every split of the row, and `q`
    /// (concave in `n0`) is smallest at an end of the row's range of tested splits: one test per
    /// row, and the row's splits one by one only when that fails.
    ///
    /// Rounding: the test needs the counts exact (integers up to 2^52) and at most 2^16
    /// summaries. Then every sum here and in River's scan is within 2^-36·S of the exact one,
    /// where `S = Σ|t| + |total|`, and River's quotients add less than 2^-35·S/q. A margin of
    /// 2^-33·S on `|dev|` and a factor 1 − 2^-30 on the right cover both and this test's own
    /// rounding. The right side must be at least 2^-900 (no underflow) and finite.
    pub(super) fn no_cut_possible(&mut self) -> bool {
        const MAX_SUMMARIES: usize = 1 << 16;
        const MAX_ROWS: usize = 50;
        const EXACT_COUNTS: u128 = 1 << 52;
        let width = self.width;
        let rows = self.rows.len();
        if !(2.0..=power_of_two(50)).contains(&width) || width.fract() != 0.0 || rows > MAX_ROWS {
            return false;
        }
        let (mut summaries, mut held) = (0usize, 0u128);
        for (r, row) in self.rows.iter().enumerate() {
            summaries += row.len();
            held += (row.len() as u128) << r;
        }
        if summaries > MAX_SUMMARIES || held > EXACT_COUNTS {
            return false;
        }
        // River's numbers, computed as its scan computes them; `δ′` from below.
        let min_len = f64::from(self.params.min_window_length);
        let delta_prime = self.delta_prime_floor.at(width, self.params.delta);
        let variance_per_value = self.variance / width;
        if !(variance_per_value > 0.0 && delta_prime > 0.0) {
            return false;
        }
        // The right side of the test is `c·n0·n1`.
        let c = 2.0 * variance_per_value * delta_prime * (1.0 - power_of_two(-30)) / width;
        let mean = self.total / width;

        // Per row: its total, Σ|t| and a bound on Σ|t − μ·size|. A row's sums are kept until it
        // changes; their spread about an older centre bounds the spread about μ by the
        // triangle inequality.
        let mut per_row = [(0.0, 0.0); MAX_ROWS];
        let mut abs_sum = self.total.abs();
        for ((r, row), stats) in self.rows.iter_mut().enumerate().zip(&mut per_row) {
            let size = row_size(r);
            let sums = row.sums(mean, size);
            let moved = row.len() as f64 * size * (mean - sums.centre).abs();
            *stats = (sums.total, sums.spread + moved);
            abs_sum += sums.abs;
        }
        // Also false for NaN.
        if !(..=power_of_two(1000)).contains(&abs_sum) {
            return false;
        }
        let margin = abs_sum * power_of_two(-33);
        let proved = |dev_bound: f64, n0: f64| {
            let rhs = c * (n0 * (width - n0));
            let lhs = dev_bound + margin;
            lhs * lhs <= rhs && (power_of_two(-900)..=f64::MAX).contains(&rhs)
        };

        // Oldest first: `n0` and `u0` before each row.
        let (mut n0, mut u0) = (0.0, 0.0);
        for ((r, row), &(total, spread)) in self.rows.iter_mut().enumerate().zip(&per_row).rev() {
            let size = row_size(r);
            let len = row.len() as f64;
            // The range of the row's tested splits (all numbers here are exact integers).
            let (first, last) = (n0 + size, n0 + len * size);
            let lo = if first > min_len { first } else { min_len };
            let hi = if last < width - min_len {
                last
            } else {
                width - min_len
            };
            let dev = (u0 - mean * n0).abs();
            let row_proved = |spread: f64| proved(dev + spread, lo) && proved(dev + spread, hi);
            if lo <= hi && !row_proved(spread) && !row_proved(row.fresh_spread(mean, size)) {
                let (mut n0, mut u0) = (n0, u0);
                for summary in row.live() {
                    n0 += size;
                    u0 += summary.total;
                    if (min_len..=width - min_len).contains(&n0)
                        && !proved((u0 - mean * n0).abs(), n0)
                    {
                        return false;
                    }
                }
            }
            n0 += len * size;
            u0 += total;
        }
        true
    }
}
