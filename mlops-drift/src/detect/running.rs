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
        self.n += 1.0;
        self.mean += 1.0 / self.n * (x - self.mean);
    }
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
