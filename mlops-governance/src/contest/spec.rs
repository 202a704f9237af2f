//! What a contest measures and how it decides: metrics, guardrails, thresholds, the test method.

use chrono::TimeDelta;
use mlops_core::CheckName;
use serde::{Deserialize, Serialize};

use super::error::ContestError;
use super::stats::check_probability;

/// What kind of outcome a metric is.
///
/// Exhaustive on purpose: the statistics differ by kind only in validation and planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Outcomes in `[0, 1]`: conversions, errors (0/1), or fractional rewards.
    Proportion,
    /// Any finite real value: log loss, a regression error, latency.
    Mean,
}

/// Which direction of the metric is better.
///
/// Exhaustive on purpose: a metric has exactly two directions, and the statistics use the sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Larger is better (conversion, accuracy).
    Higher,
    /// Smaller is better (error rate, log loss, latency).
    Lower,
}

impl Better {
    /// `+1` for [`Better::Higher`], `-1` for [`Better::Lower`]: multiplies `challenger −
    /// champion` into an improvement.
    #[must_use]
    pub fn sign(self) -> f64 {
        match self {
            Self::Higher => 1.0,
            Self::Lower => -1.0,
        }
    }
}

/// One metric: its name (usable in an evidence check name), kind, better direction and the
/// mSPRT mixing standard deviation `τ` (in the metric's units: the size of difference the test
/// is most sensitive to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// Name, such as `conversion` or `latency_ms`.
    pub name: String,
    /// Proportion or mean.
    pub kind: MetricKind,
    /// Better direction.
    pub better: Better,
    /// `τ` of the normal mixture.
    pub mixing_sd: f64,
}

impl MetricSpec {
    /// A proportion metric with `τ = 0.02` (two percentage points).
    #[must_use]
    pub fn proportion(name: impl Into<String>, better: Better) -> Self {
        Self {
            name: name.into(),
            kind: MetricKind::Proportion,
            better,
            mixing_sd: 0.02,
        }
    }

    /// A mean metric with mixing standard deviation `mixing_sd` in the metric's units.
    #[must_use]
    pub fn mean(name: impl Into<String>, better: Better, mixing_sd: f64) -> Self {
        Self {
            name: name.into(),
            kind: MetricKind::Mean,
            better,
            mixing_sd,
        }
    }

    /// Sets `τ`.
    #[must_use]
    pub fn with_mixing_sd(mut self, mixing_sd: f64) -> Self {
        self.mixing_sd = mixing_sd;
        self
    }

    fn validate(&self) -> Result<(), ContestError> {
        if CheckName::new(format!("contest.guardrail.{}", self.name)).is_err()
            || self.name.is_empty()
        {
            return Err(ContestError::InvalidMetric {
                name: self.name.clone(),
                reason: "must be 1–100 characters of `[A-Za-z0-9._:/-]`",
            });
        }
        if !(self.mixing_sd > 0.0 && self.mixing_sd.is_finite()) {
            return Err(ContestError::invalid(
                "mixing_sd",
                self.mixing_sd,
                "finite and positive",
            ));
        }
        Ok(())
    }
}

/// A guardrail: a metric that must not get worse than `tolerance` (in the metric's units, in its
/// worse direction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    /// The metric.
    pub metric: MetricSpec,
    /// Tolerated degradation (≥ 0).
    pub tolerance: f64,
}

/// How the primary metric is tested.
///
/// Exhaustive on purpose: the decision rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// The always-valid mSPRT, looked at as often as wanted.
    Sequential,
    /// A two-sided z test once both arms reach `per_arm` outcomes (see
    /// [`sample_size`](super::stats::sample_size)); before that the primary decides nothing.
    FixedHorizon {
        /// The planned outcomes per arm.
        per_arm: u64,
    },
}

/// What promotion requires of each guardrail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GuardrailProof {
    /// Non-inferiority shown: the upper confidence bound of the degradation is within the
    /// tolerance (the default).
    NonInferior,
    /// Only not significantly harmful (the lower bound is within the tolerance).
    NotHarmful,
}

/// A validated contest configuration. Build with [`ContestConfig::builder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestConfig {
    pub(crate) primary: MetricSpec,
    pub(crate) guardrails: Vec<Guardrail>,
    pub(crate) alpha: f64,
    pub(crate) min_improvement: f64,
    pub(crate) warmup: u64,
    pub(crate) min_samples: u64,
    pub(crate) max_samples: Option<u64>,
    pub(crate) min_duration: TimeDelta,
    pub(crate) method: Method,
    pub(crate) guardrail_proof: GuardrailProof,
    pub(crate) max_rejected_fraction: f64,
}

impl ContestConfig {
    /// A builder for a contest on `primary`, with `α = 0.05`, no minimum improvement, warm-up 100,
    /// minimum sample 1 000 per arm, no maximum, minimum duration 7 days, the sequential method,
    /// non-inferior guardrails and at most 1 % rejected outcomes.
    #[must_use]
    pub fn builder(primary: MetricSpec) -> ContestConfigBuilder {
        ContestConfigBuilder {
            config: Self {
                primary,
                guardrails: Vec::new(),
                alpha: 0.05,
                min_improvement: 0.0,
                warmup: 100,
                min_samples: 1_000,
                max_samples: None,
                min_duration: TimeDelta::days(7),
                method: Method::Sequential,
                guardrail_proof: GuardrailProof::NonInferior,
                max_rejected_fraction: 0.01,
            },
        }
    }

    /// The primary metric.
    #[must_use]
    pub fn primary(&self) -> &MetricSpec {
        &self.primary
    }

    /// The guardrails, in order (metric index `i + 1`).
    #[must_use]
    pub fn guardrails(&self) -> &[Guardrail] {
        &self.guardrails
    }

    /// The significance level of each challenger's comparison family (before the split across
    /// challengers).
    #[must_use]
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The metric at `index`: 0 the primary, then the guardrails.
    #[must_use]
    pub fn metric(&self, index: usize) -> Option<&MetricSpec> {
        match index.checked_sub(1) {
            None => Some(&self.primary),
            Some(i) => self.guardrails.get(i).map(|g| &g.metric),
        }
    }

    /// The index of the metric named `name`.
    #[must_use]
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        (0..=self.guardrails.len()).find(|&i| self.metric(i).is_some_and(|m| m.name == name))
    }
}

/// Builds a [`ContestConfig`].
#[derive(Debug, Clone)]
pub struct ContestConfigBuilder {
    config: ContestConfig,
}

impl ContestConfigBuilder {
    /// Adds a guardrail tolerating `tolerance` of degradation.
    #[must_use]
    pub fn guardrail(mut self, metric: MetricSpec, tolerance: f64) -> Self {
        self.config.guardrails.push(Guardrail { metric, tolerance });
        self
    }

    /// The significance level (split equally across challengers, Bonferroni).
    #[must_use]
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.config.alpha = alpha;
        self
    }

    /// The improvement (in the primary's units, in its better direction) a challenger must beat
    /// with confidence to be promoted; a challenger whose upper bound falls to it is stopped.
    #[must_use]
    pub fn min_improvement(mut self, delta: f64) -> Self {
        self.config.min_improvement = delta;
        self
    }

    /// Outcomes each arm needs, per metric, before any decision on that metric (the plug-in
    /// variance needs data; at least 2).
    #[must_use]
    pub fn warmup(mut self, n: u64) -> Self {
        self.config.warmup = n;
        self
    }

    /// Outcomes each arm needs on the primary before promoting or stopping.
    #[must_use]
    pub fn min_samples(mut self, n: u64) -> Self {
        self.config.min_samples = n;
        self
    }

    /// Outcomes per arm after which an undecided challenger is stopped.
    #[must_use]
    pub fn max_samples(mut self, n: u64) -> Self {
        self.config.max_samples = Some(n);
        self
    }

    /// Time (from the contest's clock) before promoting or stopping. A rollback does not wait.
    #[must_use]
    pub fn min_duration(mut self, d: TimeDelta) -> Self {
        self.config.min_duration = d;
        self
    }

    /// The test of the primary metric.
    #[must_use]
    pub fn method(mut self, method: Method) -> Self {
        self.config.method = method;
        self
    }

    /// What promotion requires of the guardrails.
    #[must_use]
    pub fn guardrail_proof(mut self, proof: GuardrailProof) -> Self {
        self.config.guardrail_proof = proof;
        self
    }

    /// The largest fraction of rejected (NaN, out-of-range) outcomes before the contest is
    /// invalidated (judged once 100 outcomes were offered).
    #[must_use]
    pub fn max_rejected_fraction(mut self, f: f64) -> Self {
        self.config.max_rejected_fraction = f;
        self
    }

    /// Validates.
    ///
    /// # Errors
    /// [`ContestError::InvalidParameter`] for `α` outside `(0, 1)`, a non-finite minimum
    /// improvement, a negative or non-finite tolerance, a warm-up below 2, a negative duration, a
    /// maximum below the minimum sample, a fixed horizon of fewer than 2, or a rejected fraction
    /// outside `[0, 1]`; [`ContestError::InvalidMetric`] for a bad or repeated metric name.
    pub fn build(self) -> Result<ContestConfig, ContestError> {
        let c = self.config;
        check_probability("alpha", c.alpha)?;
        if !c.min_improvement.is_finite() {
            return Err(ContestError::invalid(
                "min_improvement",
                c.min_improvement,
                "finite",
            ));
        }
        c.primary.validate()?;
        for (i, g) in c.guardrails.iter().enumerate() {
            g.metric.validate()?;
            if !(g.tolerance >= 0.0 && g.tolerance.is_finite()) {
                return Err(ContestError::invalid(
                    "tolerance",
                    g.tolerance,
                    "finite and not negative",
                ));
            }
            if g.metric.name == c.primary.name
                || c.guardrails
                    .iter()
                    .take(i)
                    .any(|o| o.metric.name == g.metric.name)
            {
                return Err(ContestError::InvalidMetric {
                    name: g.metric.name.clone(),
                    reason: "metric names must be unique",
                });
            }
        }
        #[expect(clippy::cast_precision_loss, reason = "reporting the bad count")]
        if c.warmup < 2 {
            return Err(ContestError::invalid(
                "warmup",
                c.warmup as f64,
                "at least 2",
            ));
        }
        if c.min_duration < TimeDelta::zero() {
            #[expect(clippy::cast_precision_loss, reason = "reporting only")]
            return Err(ContestError::invalid(
                "min_duration",
                c.min_duration.num_seconds() as f64,
                "not negative",
            ));
        }
        #[expect(clippy::cast_precision_loss, reason = "reporting the bad count")]
        if let Some(max) = c.max_samples
            && max < c.min_samples.max(c.warmup)
        {
            return Err(ContestError::invalid(
                "max_samples",
                max as f64,
                "at least min_samples and warmup",
            ));
        }
        #[expect(clippy::cast_precision_loss, reason = "reporting the bad count")]
        if let Method::FixedHorizon { per_arm } = c.method
            && per_arm < 2
        {
            return Err(ContestError::invalid(
                "per_arm",
                per_arm as f64,
                "at least 2",
            ));
        }
        if !(0.0..=1.0).contains(&c.max_rejected_fraction) {
            return Err(ContestError::invalid(
                "max_rejected_fraction",
                c.max_rejected_fraction,
                "in [0, 1]",
            ));
        }
        Ok(c)
    }
}
