//! Tabular CUSUM (Page 1954), as River's `drift.CUSUM` (added after 0.26.1): reference mean and
//! standard deviation frozen after a warm-up, slack and threshold in units of that deviation.

use serde::{Deserialize, Serialize};

use super::page_hinkley::Tail;
use super::running::Var;
use super::{Flags, check_finite_non_negative, impl_detector_via_flags};
use crate::error::{DriftError, Result};

/// CUSUM parameters; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CusumParams {
    /// Values used to estimate the reference mean and deviation (at least 1). Default 30.
    pub min_instances: u32,
    /// The slack k, in reference standard deviations. Default 0.5.
    pub slack: f64,
    /// The decision interval h, in reference standard deviations (> 0). Default 5.
    pub threshold: f64,
    /// Which changes count. Default both.
    pub mode: Tail,
}

impl Default for CusumParams {
    fn default() -> Self {
        Self {
            min_instances: 30,
            slack: 0.5,
            threshold: 5.0,
            mode: Tail::Both,
        }
    }
}

/// The tabular CUSUM change detector for real-valued streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    #[serde(deserialize_with = "super::checked_params")]
    params: CusumParams,
    n: u64,
    var: Var,
    reference: Option<(f64, f64)>,
    sum_increase: f64,
    sum_decrease: f64,
    flags: Flags,
}

impl Default for Cusum {
    fn default() -> Self {
        Self::fresh(CusumParams::default())
    }
}

impl Cusum {
    /// A detector with the given parameters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `slack` is negative, not finite or above
    /// [`MAX_DETECTOR_MAGNITUDE`](super::MAX_DETECTOR_MAGNITUDE), `threshold` is not
    /// positive and finite, or `min_instances` is 0.
    pub fn new(params: CusumParams) -> Result<Self> {
        check_finite_non_negative("slack", params.slack)?;
        check_finite_non_negative("threshold", params.threshold)?;
        if params.threshold == 0.0 {
            return Err(DriftError::InvalidParameter {
                name: "threshold",
                reason: "must be greater than 0".into(),
            });
        }
        if params.min_instances == 0 {
            return Err(DriftError::InvalidParameter {
                name: "min_instances",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self::fresh(params))
    }

    fn fresh(params: CusumParams) -> Self {
        Self {
            params,
            n: 0,
            var: Var::default(),
            reference: None,
            sum_increase: 0.0,
            sum_decrease: 0.0,
            flags: Flags::default(),
        }
    }

    /// The frozen reference `(mean, standard deviation)`, once the warm-up is over.
    #[must_use]
    pub fn reference(&self) -> Option<(f64, f64)> {
        self.reference
    }

    fn restart(&mut self) {
        let flags = self.flags;
        *self = Self::fresh(self.params);
        self.flags = flags;
    }

    fn step(&mut self, x: f64) {
        if !super::usable(x) {
            self.flags.count_ignored();
            return;
        }
        if self.flags.drift {
            self.restart();
            self.flags.clear();
        }
        self.n = self.n.saturating_add(1);
        self.var.update(x);
        if self.n < u64::from(self.params.min_instances) {
            self.flags.drift = false;
            return;
        }
        let (mean, sigma) = *self
            .reference
            .get_or_insert_with(|| (self.var.mean.mean, self.var.get().max(0.0).powf(0.5)));
        let k = self.params.slack * sigma;
        let limit = self.params.threshold * sigma;
        let deviation = x - mean;
        self.sum_increase = (self.sum_increase + deviation - k).max(0.0);
        self.sum_decrease = (self.sum_decrease - deviation - k).max(0.0);
        self.flags.drift = self
            .params
            .mode
            .fires(self.sum_increase, self.sum_decrease, limit);
    }
}

impl_detector_via_flags!(Cusum, "cusum");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{ChangeDetector, DetectorState};

    #[test]
    fn detects_a_three_sigma_shift_within_a_few_values() {
        let mut c = Cusum::default();
        // A deterministic zig-zag with standard deviation about 1.
        let noise = |i: i32| f64::from((i * 7919) % 21 - 10) / 6.0;
        for i in 0..200 {
            c.update(noise(i));
        }
        let (_, sigma) = c.reference().unwrap();
        assert!(sigma > 0.5 && sigma < 2.0);
        let first = (0..200).position(|i| c.update(noise(i) + 3.0 * sigma) == DetectorState::Drift);
        assert!(matches!(first, Some(i) if i < 10), "{first:?}");
    }

    #[test]
    fn zero_threshold_is_rejected() {
        let p = CusumParams {
            threshold: 0.0,
            ..CusumParams::default()
        };
        assert!(Cusum::new(p).is_err());
    }
}
