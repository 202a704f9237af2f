//! The Page–Hinkley test with River 0.26.1's arithmetic.

use serde::{Deserialize, Serialize};

use super::running::Mean;
use super::{Flags, check_finite_non_negative, impl_detector_via_flags};
use crate::error::{DriftError, Result};

/// Which direction of change a one-dimensional detector watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tail {
    /// Increases of the mean only (River's `mode="up"`).
    Up,
    /// Decreases only (`mode="down"`).
    Down,
    /// Both (`mode="both"`, the default).
    #[default]
    Both,
}

impl Tail {
    pub(super) fn fires(self, increase: f64, decrease: f64, limit: f64) -> bool {
        match self {
            Self::Up => increase > limit,
            Self::Down => decrease > limit,
            Self::Both => increase > limit || decrease > limit,
        }
    }
}

/// Page–Hinkley parameters; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageHinkleyParams {
    /// No drift is reported before this many values. Default 30.
    pub min_instances: u32,
    /// The magnitude of change tolerated. Default 0.005.
    pub delta: f64,
    /// The detection threshold λ. Default 50.
    pub threshold: f64,
    /// The forgetting factor of the cumulative sums. Default 1 − 0.0001.
    pub alpha: f64,
    /// Which changes count. Default both.
    pub mode: Tail,
}

impl Default for PageHinkleyParams {
    fn default() -> Self {
        Self {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 0.0001,
            mode: Tail::Both,
        }
    }
}

/// The Page–Hinkley change detector for real-valued streams: cumulative deviations from the
/// running mean, compared with their running extreme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageHinkley {
    #[serde(deserialize_with = "super::checked_params")]
    params: PageHinkleyParams,
    mean: Mean,
    sum_increase: f64,
    sum_decrease: f64,
    #[serde(with = "mlops_core::float_serde")]
    min_increase: f64,
    max_decrease: f64,
    flags: Flags,
}

impl Default for PageHinkley {
    fn default() -> Self {
        Self::fresh(PageHinkleyParams::default())
    }
}

impl PageHinkley {
    /// A detector with the given parameters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if `delta` or `threshold` is negative, not finite or above
    /// [`MAX_DETECTOR_MAGNITUDE`](super::MAX_DETECTOR_MAGNITUDE), or
    /// `alpha` is not in (0, 1].
    pub fn new(params: PageHinkleyParams) -> Result<Self> {
        check_finite_non_negative("delta", params.delta)?;
        check_finite_non_negative("threshold", params.threshold)?;
        if !(params.alpha > 0.0 && params.alpha <= 1.0) {
            return Err(DriftError::InvalidParameter {
                name: "alpha",
                reason: format!("must be in (0, 1], got `{}`", params.alpha),
            });
        }
        Ok(Self::fresh(params))
    }

    fn fresh(params: PageHinkleyParams) -> Self {
        Self {
            params,
            mean: Mean::default(),
            sum_increase: 0.0,
            sum_decrease: 0.0,
            min_increase: f64::INFINITY,
            max_decrease: -1.0,
            flags: Flags::default(),
        }
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> PageHinkleyParams {
        self.params
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
        self.mean.update(x);
        let dev = x - self.mean.mean;
        let alpha = self.params.alpha;
        self.sum_increase = alpha * self.sum_increase + dev - self.params.delta;
        self.sum_decrease = alpha * self.sum_decrease + dev + self.params.delta;
        if self.sum_increase < self.min_increase {
            self.min_increase = self.sum_increase;
        }
        if self.sum_decrease > self.max_decrease {
            self.max_decrease = self.sum_decrease;
        }
        if self.mean.n >= f64::from(self.params.min_instances) {
            let increase = self.sum_increase - self.min_increase;
            let decrease = self.max_decrease - self.sum_decrease;
            self.flags.drift = self
                .params
                .mode
                .fires(increase, decrease, self.params.threshold);
        }
    }
}

impl_detector_via_flags!(PageHinkley, "page_hinkley");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{ChangeDetector, DetectorState};

    #[test]
    fn one_sided_modes_only_see_their_direction() {
        let run = |mode: Tail, high: f64| {
            let mut ph = PageHinkley::new(PageHinkleyParams {
                mode,
                ..PageHinkleyParams::default()
            })
            .unwrap();
            (0..2_000)
                .any(|i| ph.update(if i < 1_000 { 0.0 } else { high }) == DetectorState::Drift)
        };
        assert!(run(Tail::Up, 10.0));
        assert!(!run(Tail::Up, -10.0));
        assert!(run(Tail::Down, -10.0));
        assert!(!run(Tail::Down, 10.0));
        assert!(run(Tail::Both, -10.0) && run(Tail::Both, 10.0));
    }

    #[test]
    fn bad_alpha_is_rejected() {
        let p = PageHinkleyParams {
            alpha: 0.0,
            ..PageHinkleyParams::default()
        };
        assert!(matches!(
            PageHinkley::new(p),
            Err(DriftError::InvalidParameter { name: "alpha", .. })
        ));
    }
}
