//! Ramps: a non-decreasing schedule of traffic shares for a challenger, such as
//! 1 → 5 → 10 → 25 → 50 → 100 %.

use serde::{Deserialize, Serialize};

use super::error::{Result, RoutingError};

/// A non-decreasing schedule of traffic shares, in percent of all traffic, each in (0, 100].
///
/// A ramped challenger reserves a lane as wide as the ramp's last step, so stepping the ramp up
/// only ever moves units from the champion to that challenger (see
/// [`RouteTableBuilder::ramped_challenger`](super::RouteTableBuilder::ramped_challenger)).
///
/// ```
/// use mlops_registry::routing::Ramp;
///
/// let ramp = Ramp::new([1.0, 5.0, 10.0, 25.0, 50.0, 100.0])?;
/// assert_eq!(ramp.share(2)?, 10.0);
/// assert_eq!(ramp.last(), 100.0);
/// assert!(Ramp::new([10.0, 5.0]).is_err());
/// # Ok::<(), mlops_registry::routing::RoutingError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct Ramp {
    steps: Vec<f64>,
}

impl Ramp {
    /// Validates a schedule.
    ///
    /// # Errors
    /// [`RoutingError::EmptyRamp`] for no steps, [`RoutingError::InvalidRampStep`] for a step
    /// outside (0, 100] or NaN, [`RoutingError::RampDecreases`] where a step is below the one
    /// before it.
    pub fn new(steps: impl IntoIterator<Item = f64>) -> Result<Self> {
        let steps: Vec<f64> = steps.into_iter().collect();
        if steps.is_empty() {
            return Err(RoutingError::EmptyRamp);
        }
        if let Some(&share) = steps.iter().find(|&&s| !(s > 0.0 && s <= 100.0)) {
            return Err(RoutingError::InvalidRampStep { share });
        }
        if let Some((i, w)) = steps
            .windows(2)
            .enumerate()
            .find(|(_, w)| matches!(w, [a, b] if b < a))
            && let [from, to] = *w
        {
            return Err(RoutingError::RampDecreases {
                step: i + 1,
                from,
                to,
            });
        }
        Ok(Self { steps })
    }

    /// The usual schedule: 1, 5, 10, 25, 50, 100 %.
    #[must_use]
    pub fn standard() -> Self {
        Self {
            steps: vec![1.0, 5.0, 10.0, 25.0, 50.0, 100.0],
        }
    }

    /// The steps, in percent.
    #[must_use]
    pub fn steps(&self) -> &[f64] {
        &self.steps
    }

    /// The number of steps.
    #[must_use]
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Always `false`: a ramp has at least one step.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The share at step `step` (0-based), in percent.
    ///
    /// # Errors
    /// [`RoutingError::RampStepOutOfRange`] past the last step.
    pub fn share(&self, step: usize) -> Result<f64> {
        self.steps
            .get(step)
            .copied()
            .ok_or(RoutingError::RampStepOutOfRange {
                step,
                len: self.steps.len(),
            })
    }

    /// The last (largest) share, in percent: the width of the lane a ramped challenger reserves.
    #[must_use]
    pub fn last(&self) -> f64 {
        self.steps.last().copied().unwrap_or(100.0)
    }
}

impl TryFrom<Vec<f64>> for Ramp {
    type Error = RoutingError;
    fn try_from(steps: Vec<f64>) -> Result<Self> {
        Self::new(steps)
    }
}

impl From<Ramp> for Vec<f64> {
    fn from(r: Ramp) -> Self {
        r.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ramps_are_typed_errors() {
        assert_eq!(Ramp::new([]), Err(RoutingError::EmptyRamp));
        assert!(matches!(
            Ramp::new([1.0, f64::NAN]),
            Err(RoutingError::InvalidRampStep { .. })
        ));
        assert!(matches!(
            Ramp::new([0.0, 5.0]),
            Err(RoutingError::InvalidRampStep { share }) if share == 0.0
        ));
        assert!(matches!(
            Ramp::new([1.0, 101.0]),
            Err(RoutingError::InvalidRampStep { .. })
        ));
        assert_eq!(
            Ramp::new([1.0, 5.0, 25.0, 10.0]),
            Err(RoutingError::RampDecreases {
                step: 3,
                from: 25.0,
                to: 10.0
            })
        );
        assert!(Ramp::new([5.0, 5.0, 10.0]).is_ok());
        assert_eq!(Ramp::standard().share(5), Ok(100.0));
        assert!(matches!(
            Ramp::standard().share(6),
            Err(RoutingError::RampStepOutOfRange { step: 6, len: 6 })
        ));
        let json = serde_json::to_string(&Ramp::standard()).unwrap();
        assert_eq!(json, "[1.0,5.0,10.0,25.0,50.0,100.0]");
        assert!(serde_json::from_str::<Ramp>("[5.0,1.0]").is_err());
    }
}
