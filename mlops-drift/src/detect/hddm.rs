//! HDDM-A and HDDM-W (Frías-Blanco et al. 2015): Hoeffding / McDiarmid bound tests on a stream
//! of 0/1 errors, with River 0.26.1's arithmetic.

use serde::{Deserialize, Serialize};

use super::running::{EwMean, Mean, at_least_sqrt};
use super::{Flags, check_unit_open, impl_detector_via_flags, is_binary};
use crate::error::{DriftError, Result};

/// HDDM-A parameters; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HddmAParams {
    /// Confidence level of the drift test, in (0, 1). Default 0.001.
    pub drift_confidence: f64,
    /// Confidence level of the warning test, in (0, 1). Default 0.005.
    pub warning_confidence: f64,
    /// Also watch for decreases of the error rate. Default false.
    pub two_sided_test: bool,
}

impl Default for HddmAParams {
    fn default() -> Self {
        Self {
            drift_confidence: 0.001,
            warning_confidence: 0.005,
            two_sided_test: false,
        }
    }
}

fn check_confidences(drift: f64, warning: f64) -> Result<()> {
    check_unit_open("drift_confidence", drift)?;
    check_unit_open("warning_confidence", warning)?;
    if warning < drift {
        return Err(DriftError::InvalidParameter {
            name: "warning_confidence",
            reason: format!("must be at least drift_confidence `{drift}`, got `{warning}`"),
        });
    }
    Ok(())
}

/// HDDM-A: compares the running mean with the mean at the point where it was lowest (and, two
/// sided, highest), using Hoeffding's inequality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "HddmAState")]
pub struct HddmA {
    params: HddmAParams,
    z: Mean,
    x_min: Mean,
    x_max: Mean,
    flags: Flags,
    /// Functions of the fields above, kept so that `step` does not recompute them; not part of
    /// the serialized form (deserializing recomputes them).
    #[serde(skip_serializing)]
    derived: HddmADerived,
}

/// The serialized form of [`HddmA`].
#[derive(Deserialize)]
struct HddmAState {
    #[serde(deserialize_with = "super::checked_params")]
    params: HddmAParams,
    z: Mean,
    x_min: Mean,
    x_max: Mean,
    flags: Flags,
}

impl From<HddmAState> for HddmA {
    fn from(s: HddmAState) -> Self {
        let ln = HddmALogs::new(s.params);
        Self {
            params: s.params,
            z: s.z,
            x_min: s.x_min,
            x_max: s.x_max,
            flags: s.flags,
            derived: HddmADerived {
                eps_min: hoeffding_bound(ln.inv_drift, s.x_min.n),
                eps_max: hoeffding_bound(ln.inv_drift, s.x_max.n),
                ln,
            },
        }
    }
}

/// The logarithms of the confidences that HDDM-A's bounds use.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HddmALogs {
    /// `ln(1 / drift_confidence)`.
    inv_drift: f64,
    /// `ln(2 / drift_confidence)`.
    two_over_drift: f64,
    /// `ln(2 / warning_confidence)`.
    two_over_warning: f64,
}

impl HddmALogs {
    fn new(params: HddmAParams) -> Self {
        Self {
            inv_drift: (1.0 / params.drift_confidence).ln(),
            two_over_drift: (2.0 / params.drift_confidence).ln(),
            two_over_warning: (2.0 / params.warning_confidence).ln(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct HddmADerived {
    ln: HddmALogs,
    /// `hoeffding_bound(x_min.n)`.
    eps_min: f64,
    /// `hoeffding_bound(x_max.n)`.
    eps_max: f64,
}

/// River's `sqrt(1 / (2 n) * ln(1 / drift_confidence))`.
fn hoeffding_bound(ln_inv_drift: f64, n: f64) -> f64 {
    (1.0 / (2.0 * n) * ln_inv_drift).sqrt()
}

impl Default for HddmA {
    fn default() -> Self {
        Self::fresh(HddmAParams::default())
    }
}

impl HddmA {
    /// A detector with the given parameters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if a confidence is not in (0, 1) or the warning
    /// confidence is below the drift confidence.
    pub fn new(params: HddmAParams) -> Result<Self> {
        check_confidences(params.drift_confidence, params.warning_confidence)?;
        Ok(Self::fresh(params))
    }

    fn fresh(params: HddmAParams) -> Self {
        HddmAState {
            params,
            z: Mean::default(),
            x_min: Mean::default(),
            x_max: Mean::default(),
            flags: Flags::default(),
        }
        .into()
    }

    fn restart(&mut self) {
        let flags = self.flags;
        *self = Self::fresh(self.params);
        self.flags = flags;
    }

    fn step(&mut self, x: f64) {
        if !is_binary(x) {
            self.flags.count_ignored();
            return;
        }
        if self.flags.drift {
            self.restart();
            self.flags.clear();
        }
        // `recip` is `1.0 / z.n`; `0.5 * recip` is `1.0 / (2.0 * z.n)` bit for bit (halving is
        // exact), so `eps_z` is `hoeffding_bound(z.n)`.
        let recip = self.z.update_recip(x);
        let ln = self.derived.ln;
        let eps_z = (0.5 * recip * ln.inv_drift).sqrt();
        if self.x_min.n == 0.0 {
            self.x_min = self.z;
            self.derived.eps_min = eps_z;
        }
        if self.x_max.n == 0.0 {
            self.x_max = self.z;
            self.derived.eps_max = eps_z;
        }
        if self.x_min.mean + self.derived.eps_min >= self.z.mean + eps_z {
            self.x_min = self.z;
            self.derived.eps_min = eps_z;
        }
        if self.x_max.mean - self.derived.eps_max <= self.z.mean - eps_z {
            self.x_max = self.z;
            self.derived.eps_max = eps_z;
        }
        let increase = self.z.mean - self.x_min.mean;
        match self.bound_scale(self.x_min, recip) {
            Some(m) if at_least_sqrt(increase, m / 2.0 * ln.two_over_drift) => {
                self.flags.warning = false;
                self.flags.drift = true;
            }
            m => {
                self.flags.warning =
                    m.is_some_and(|m| at_least_sqrt(increase, m / 2.0 * ln.two_over_warning));
                self.flags.drift = false;
            }
        }
        if self.params.two_sided_test {
            let decrease = self.x_max.mean - self.z.mean;
            if let Some(m) = self.bound_scale(self.x_max, recip) {
                if at_least_sqrt(decrease, m / 2.0 * ln.two_over_drift) {
                    self.flags.drift = true;
                } else if at_least_sqrt(decrease, m / 2.0 * ln.two_over_warning) {
                    self.flags.warning = true;
                }
            }
        }
    }

    /// River's `(n_z - n_since) / n_since * (1 / n_z)` (`recip` is `1 / n_z`); the bound is
    /// `sqrt(m / 2 * ln(2 / confidence))`. `None` when `since` is the current point.
    fn bound_scale(&self, since: Mean, recip: f64) -> Option<f64> {
        if since.n == self.z.n {
            return None;
        }
        Some((self.z.n - since.n) / since.n * recip)
    }
}

impl_detector_via_flags!(HddmA, "hddm_a");

/// HDDM-W parameters; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HddmWParams {
    /// Confidence level of the drift test, in (0, 1). Default 0.001.
    pub drift_confidence: f64,
    /// Confidence level of the warning test, in (0, 1). Default 0.005.
    pub warning_confidence: f64,
    /// Weight of the newest value in the exponentially weighted means, in (0, 1). Default 0.05.
    pub lambda_val: f64,
    /// Also watch for decreases of the error rate. Default false.
    pub two_sided_test: bool,
}

impl Default for HddmWParams {
    fn default() -> Self {
        Self {
            drift_confidence: 0.001,
            warning_confidence: 0.005,
            lambda_val: 0.05,
            two_sided_test: false,
        }
    }
}

/// An exponentially weighted mean with its independent bounded condition (McDiarmid) term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Sample {
    ewma: EwMean,
    init: bool,
    ibc: f64,
    lambda_sq: f64,
    complement_sq: f64,
}

impl Sample {
    fn new(lambda: f64) -> Self {
        Self {
            ewma: EwMean::new(lambda),
            init: false,
            ibc: 1.0,
            lambda_sq: lambda * lambda,
            complement_sq: (1.0 - lambda) * (1.0 - lambda),
        }
    }

    fn update(&mut self, x: f64) {
        self.ewma.update(x);
        self.init = true;
        self.ibc = self.lambda_sq + self.complement_sq * self.ibc;
    }
}

/// HDDM-W: like HDDM-A on exponentially weighted means, using McDiarmid's inequality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "HddmWState")]
pub struct HddmW {
    params: HddmWParams,
    total: Sample,
    s1_decr: Sample,
    s1_incr: Sample,
    s2_decr: Sample,
    s2_incr: Sample,
    #[serde(with = "mlops_core::float_serde")]
    incr_cutpoint: f64,
    #[serde(with = "mlops_core::float_serde")]
    decr_cutpoint: f64,
    flags: Flags,
    /// Functions of the fields above, kept so that `step` does not recompute them; not part of
    /// the serialized form (deserializing recomputes them).
    #[serde(skip_serializing)]
    derived: HddmWDerived,
}

/// The serialized form of [`HddmW`].
#[derive(Deserialize)]
struct HddmWState {
    #[serde(deserialize_with = "super::checked_params")]
    params: HddmWParams,
    total: Sample,
    s1_decr: Sample,
    s1_incr: Sample,
    s2_decr: Sample,
    s2_incr: Sample,
    #[serde(with = "mlops_core::float_serde")]
    incr_cutpoint: f64,
    #[serde(with = "mlops_core::float_serde")]
    decr_cutpoint: f64,
    flags: Flags,
}

impl From<HddmWState> for HddmW {
    fn from(s: HddmWState) -> Self {
        let ln_inv_drift = (1.0 / s.params.drift_confidence).ln();
        Self {
            derived: HddmWDerived {
                ln_inv_drift,
                ln_inv_warning: (1.0 / s.params.warning_confidence).ln(),
                eps_total: mcdiarmid_bound(s.total.ibc, ln_inv_drift),
            },
            params: s.params,
            total: s.total,
            s1_decr: s.s1_decr,
            s1_incr: s.s1_incr,
            s2_decr: s.s2_decr,
            s2_incr: s.s2_incr,
            incr_cutpoint: s.incr_cutpoint,
            decr_cutpoint: s.decr_cutpoint,
            flags: s.flags,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct HddmWDerived {
    /// `ln(1 / drift_confidence)`.
    ln_inv_drift: f64,
    /// `ln(1 / warning_confidence)`.
    ln_inv_warning: f64,
    /// `mcdiarmid_bound(total.ibc, ln_inv_drift)`; `total.ibc` soon stops changing.
    eps_total: f64,
}

impl Default for HddmW {
    fn default() -> Self {
        Self::fresh(HddmWParams::default())
    }
}

/// River's `sqrt(ibc * ln(1 / confidence) / 2)`, given `ln(1 / confidence)`.
fn mcdiarmid_bound(ibc: f64, ln_inv_confidence: f64) -> f64 {
    (ibc * ln_inv_confidence / 2.0).sqrt()
}

/// Whether `later`'s weighted mean exceeds `earlier`'s by more than the bound.
fn has_mean_changed(earlier: &Sample, later: &Sample, ln_inv_confidence: f64) -> bool {
    if !(earlier.init && later.init) {
        return false;
    }
    later.ewma.mean - earlier.ewma.mean
        > mcdiarmid_bound(earlier.ibc + later.ibc, ln_inv_confidence)
}

impl HddmW {
    /// A detector with the given parameters.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if a confidence or `lambda_val` is not in (0, 1), or the
    /// warning confidence is below the drift confidence.
    pub fn new(params: HddmWParams) -> Result<Self> {
        check_confidences(params.drift_confidence, params.warning_confidence)?;
        check_unit_open("lambda_val", params.lambda_val)?;
        Ok(Self::fresh(params))
    }

    fn fresh(params: HddmWParams) -> Self {
        let s = Sample::new(params.lambda_val);
        HddmWState {
            params,
            total: s,
            s1_decr: s,
            s1_incr: s,
            s2_decr: s,
            s2_incr: s,
            incr_cutpoint: f64::INFINITY,
            decr_cutpoint: f64::NEG_INFINITY,
            flags: Flags::default(),
        }
        .into()
    }

    fn restart(&mut self) {
        let flags = self.flags;
        *self = Self::fresh(self.params);
        self.flags = flags;
    }

    fn step(&mut self, x: f64) {
        if !is_binary(x) {
            self.flags.count_ignored();
            return;
        }
        if self.flags.drift {
            self.restart();
            self.flags.clear();
        }
        let HddmWDerived {
            ln_inv_drift: drift,
            ln_inv_warning: warning,
            ..
        } = self.derived;
        let ibc = self.total.ibc;
        self.total.update(x);
        if self.total.ibc != ibc {
            self.derived.eps_total = mcdiarmid_bound(self.total.ibc, drift);
        }
        let eps = self.derived.eps_total;

        if self.total.ewma.mean + eps < self.incr_cutpoint {
            self.incr_cutpoint = self.total.ewma.mean + eps;
            self.s1_incr = self.total;
            self.s2_incr = Sample::new(self.params.lambda_val);
        } else {
            self.s2_incr.update(x);
        }
        if has_mean_changed(&self.s1_incr, &self.s2_incr, drift) {
            self.flags.warning = false;
            self.flags.drift = true;
        } else {
            self.flags.warning = has_mean_changed(&self.s1_incr, &self.s2_incr, warning);
            self.flags.drift = false;
        }

        if self.total.ewma.mean - eps > self.decr_cutpoint {
            self.decr_cutpoint = self.total.ewma.mean - eps;
            self.s1_decr = self.total;
            self.s2_decr = Sample::new(self.params.lambda_val);
        } else {
            self.s2_decr.update(x);
        }
        if self.params.two_sided_test {
            if has_mean_changed(&self.s2_decr, &self.s1_decr, drift) {
                self.flags.drift = true;
            } else if has_mean_changed(&self.s2_decr, &self.s1_decr, warning) {
                self.flags.warning = true;
            }
        }
    }
}

impl_detector_via_flags!(HddmW, "hddm_w");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{ChangeDetector, DetectorState};

    fn jump(d: &mut dyn ChangeDetector, low: u32, high: u32) -> (bool, bool) {
        let mut before = false;
        let mut after = false;
        for i in 0..3_000u32 {
            let (period, rate) = if i < 1_500 { (20, low) } else { (20, high) };
            let x = f64::from(u8::from(i % period < rate));
            let drift = d.update(x) == DetectorState::Drift;
            if i < 1_500 {
                before |= drift;
            } else {
                after |= drift;
            }
        }
        (before, after)
    }

    #[test]
    fn both_variants_see_a_rise_and_two_sided_sees_a_fall() {
        assert_eq!(jump(&mut HddmA::default(), 2, 10), (false, true));
        assert_eq!(jump(&mut HddmW::default(), 2, 10), (false, true));
        assert!(!jump(&mut HddmA::default(), 10, 2).1);
        let two = HddmAParams {
            two_sided_test: true,
            ..HddmAParams::default()
        };
        assert!(jump(&mut HddmA::new(two).unwrap(), 10, 2).1);
        let two = HddmWParams {
            two_sided_test: true,
            ..HddmWParams::default()
        };
        assert!(jump(&mut HddmW::new(two).unwrap(), 10, 2).1);
    }

    #[test]
    fn confidences_are_checked() {
        let p = HddmAParams {
            drift_confidence: 0.01,
            warning_confidence: 0.001,
            two_sided_test: false,
        };
        assert!(matches!(
            HddmA::new(p),
            Err(DriftError::InvalidParameter {
                name: "warning_confidence",
                ..
            })
        ));
    }
}
