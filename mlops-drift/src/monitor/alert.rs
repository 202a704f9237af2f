//! Alert rules over windowed values, with hysteresis and cool-down so alerts do not flap.
//!
//! An [`Alert`] judges one value per window (a drift share, a PSI, an accuracy). It fires after
//! `fire_after` consecutive failing windows, unless it fired less than `cooldown` ago (then the
//! breach is counted as suppressed); once firing it resolves only when the value passes the
//! stricter `clear_threshold`. Every evaluation returns `mlops-core` evidence for governance,
//! and firing and resolving emit `tracing` events with structured fields.
//!
//! ```
//! use mlops_drift::monitor::alert::{Alert, AlertEvent, AlertRule};
//! use mlops_drift::mlops_core::{Direction, Subject};
//! use mlops_drift::mlops_core::chrono::{DateTime, TimeDelta, Utc};
//!
//! let rule = AlertRule::new("performance.accuracy".parse()?, Direction::AtLeast, 0.90, 0.93)?
//!     .fire_after(2)
//!     .cooldown(TimeDelta::hours(1));
//! let mut alert = Alert::new(rule, Subject::Model { model: "fraud".parse()? });
//! let t = DateTime::<Utc>::UNIX_EPOCH;
//! assert_eq!(alert.evaluate(0.85, t).0, None); // one bad window: not yet
//! assert!(matches!(alert.evaluate(0.84, t).0, Some(AlertEvent::Fired { .. })));
//! assert_eq!(alert.evaluate(0.91, t).0, None); // passes 0.90 but not the 0.93 clear level
//! assert!(matches!(alert.evaluate(0.95, t).0, Some(AlertEvent::Resolved { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use mlops_core::chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{CheckName, Direction, Evidence, Subject};

use crate::error::{DriftError, Result};

/// An alert rule: the passing side of a threshold, a stricter level to clear, how many failing
/// windows in a row fire it, and the least time between two firings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    /// The check's name (also the evidence's name).
    pub check: CheckName,
    /// The side of the thresholds that passes.
    pub direction: Direction,
    /// A value failing this threshold is a breach.
    #[serde(with = "mlops_core::float_serde")]
    pub threshold: f64,
    /// A firing alert resolves only when a value passes this (at least as strict) level.
    #[serde(with = "mlops_core::float_serde")]
    pub clear_threshold: f64,
    /// Consecutive breaching windows needed to fire (at least 1).
    pub fire_after: u32,
    /// The least time between two firings.
    pub cooldown: TimeDelta,
}

impl AlertRule {
    /// A rule firing on the first breach, without cool-down.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] if a threshold is NaN or `clear_threshold` is on the
    /// failing side of `threshold` (no hysteresis would be possible).
    pub fn new(
        check: CheckName,
        direction: Direction,
        threshold: f64,
        clear_threshold: f64,
    ) -> Result<Self> {
        if threshold.is_nan() || clear_threshold.is_nan() {
            return Err(DriftError::InvalidParameter {
                name: "threshold",
                reason: "thresholds must not be NaN".into(),
            });
        }
        let stricter = match direction {
            Direction::AtLeast | Direction::Above => clear_threshold >= threshold,
            Direction::AtMost | Direction::Below => clear_threshold <= threshold,
        };
        if !stricter {
            return Err(DriftError::InvalidParameter {
                name: "clear_threshold",
                reason: format!(
                    "`{clear_threshold}` must be on the passing side ({}) of `{threshold}`",
                    direction.symbol()
                ),
            });
        }
        Ok(Self {
            check,
            direction,
            threshold,
            clear_threshold,
            fire_after: 1,
            cooldown: TimeDelta::zero(),
        })
    }

    /// Fires only after `n` consecutive breaching windows (0 is taken as 1).
    #[must_use]
    pub fn fire_after(mut self, n: u32) -> Self {
        self.fire_after = n.max(1);
        self
    }

    /// Sets the least time between two firings.
    #[must_use]
    pub fn cooldown(mut self, cooldown: TimeDelta) -> Self {
        self.cooldown = cooldown.max(TimeDelta::zero());
        self
    }
}

/// A change of an alert's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertEvent {
    /// The alert started firing.
    Fired {
        /// The check.
        check: CheckName,
        /// The breaching value.
        #[serde(with = "mlops_core::float_serde")]
        value: f64,
        /// When.
        at: DateTime<Utc>,
    },
    /// The alert stopped firing.
    Resolved {
        /// The check.
        check: CheckName,
        /// The clearing value.
        #[serde(with = "mlops_core::float_serde")]
        value: f64,
        /// When.
        at: DateTime<Utc>,
    },
}

/// An alert rule applied to one subject, with its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    rule: AlertRule,
    subject: Subject,
    firing: bool,
    consecutive: u32,
    last_fired: Option<DateTime<Utc>>,
    suppressed: u64,
}

impl Alert {
    /// A quiet alert.
    #[must_use]
    pub fn new(rule: AlertRule, subject: Subject) -> Self {
        Self {
            rule,
            subject,
            firing: false,
            consecutive: 0,
            last_fired: None,
            suppressed: 0,
        }
    }

    /// Whether the alert is firing.
    #[must_use]
    pub fn is_firing(&self) -> bool {
        self.firing
    }

    /// Breaches that would have fired but fell inside the cool-down.
    #[must_use]
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Judges one window's value at `at`: returns the state change, if any, and the evidence
    /// (value against the rule's threshold; NaN fails).
    pub fn evaluate(&mut self, value: f64, at: DateTime<Utc>) -> (Option<AlertEvent>, Evidence) {
        let r = &self.rule;
        let breach = !r.direction.passes(value, r.threshold);
        let mut event = None;
        if self.firing {
            if r.direction.passes(value, r.clear_threshold) {
                self.firing = false;
                self.consecutive = 0;
                tracing::info!(
                    target: "mlops_drift::alert",
                    check = r.check.as_str(),
                    value,
                    clear_threshold = r.clear_threshold,
                    "alert resolved"
                );
                event = Some(AlertEvent::Resolved {
                    check: r.check.clone(),
                    value,
                    at,
                });
            }
        } else if breach {
            self.consecutive = self.consecutive.saturating_add(1);
            if self.consecutive >= r.fire_after {
                let cooling = self.last_fired.is_some_and(|t| at - t < r.cooldown);
                if cooling {
                    self.suppressed += 1;
                    tracing::debug!(
                        target: "mlops_drift::alert",
                        check = r.check.as_str(),
                        value,
                        "alert suppressed by cool-down"
                    );
                } else {
                    self.firing = true;
                    self.last_fired = Some(at);
                    #[cfg(feature = "metrics")]
                    crate::metrics::record_alert(r.check.as_str());
                    tracing::warn!(
                        target: "mlops_drift::alert",
                        check = r.check.as_str(),
                        value,
                        threshold = r.threshold,
                        direction = r.direction.symbol(),
                        consecutive = self.consecutive,
                        "alert fired"
                    );
                    event = Some(AlertEvent::Fired {
                        check: r.check.clone(),
                        value,
                        at,
                    });
                }
            }
        } else {
            self.consecutive = 0;
        }
        let evidence = Evidence::new(
            r.check.clone(),
            self.subject.clone(),
            value,
            r.threshold,
            r.direction,
            at,
        )
        .with_source("mlops-drift/alert")
        .with_detail("firing", f64::from(u8::from(self.firing)))
        .with_detail("consecutive_breaches", f64::from(self.consecutive));
        (event, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlops_core::Outcome;

    fn rule() -> AlertRule {
        AlertRule::new("drift.psi.age".parse().unwrap(), Direction::Below, 0.2, 0.1).unwrap()
    }

    #[test]
    fn hysteresis_prevents_flapping_around_the_threshold() {
        let mut a = Alert::new(
            rule(),
            Subject::Model {
                model: "m".parse().unwrap(),
            },
        );
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let values = [0.25, 0.19, 0.21, 0.19, 0.21, 0.05, 0.21];
        let events: Vec<_> = values.iter().map(|&v| a.evaluate(v, t).0).collect();
        let fired = events
            .iter()
            .filter(|e| matches!(e, Some(AlertEvent::Fired { .. })))
            .count();
        let resolved = events
            .iter()
            .filter(|e| matches!(e, Some(AlertEvent::Resolved { .. })))
            .count();
        // Fires at 0.25, stays firing through the 0.19/0.21 flapping, resolves at 0.05, and
        // fires again at the final 0.21 (no cool-down).
        assert_eq!((fired, resolved), (2, 1));
    }

    #[test]
    fn cooldown_suppresses_refiring_and_evidence_fails_closed() {
        let r = rule().cooldown(TimeDelta::minutes(30));
        let mut a = Alert::new(
            r,
            Subject::Model {
                model: "m".parse().unwrap(),
            },
        );
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert!(a.evaluate(0.3, t0).0.is_some());
        assert!(a.evaluate(0.0, t0 + TimeDelta::minutes(5)).0.is_some());
        assert!(a.evaluate(0.3, t0 + TimeDelta::minutes(10)).0.is_none());
        assert_eq!(a.suppressed(), 1);
        let (e, ev) = a.evaluate(f64::NAN, t0 + TimeDelta::minutes(40));
        assert!(matches!(e, Some(AlertEvent::Fired { .. })));
        assert_eq!(ev.outcome, Outcome::Fail);
        assert!(AlertRule::new("x".parse().unwrap(), Direction::Below, 0.2, 0.3).is_err());
    }
}
