//! Evidence: a measured check, carried from the crate that measured it to the policies that
//! judge it.
//!
//! A drift report, a validation run or a champion/challenger contest each produce [`Evidence`]
//! values; governance policies consume them ("validation AUC ≥ 0.8, measured in the last 30
//! days"). Because the type lives here, `mlops-governance` never depends on `mlops-drift`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{IdError, IdKind};
use crate::id::{ModelName, ModelRef};
use crate::name::{AsciiRules, AsciiSet, static_name};

static_name!(
    /// The name of a check, such as `validation.auc` or `drift.psi.age`: 1–128 characters of
    /// `[A-Za-z0-9._:/-]`. Policies look evidence up by this name.
    ///
    /// ```
    /// const AUC: mlops_core::CheckName = mlops_core::CheckName::from_static("validation.auc");
    /// assert_eq!(AUC.as_str(), "validation.auc");
    /// assert!(mlops_core::CheckName::new("auc score").is_err());
    /// ```
    CheckName,
    AsciiRules {
        kind: IdKind::CheckName,
        max: 128,
        chars: AsciiSet::LOWER
            .and(AsciiSet::UPPER)
            .and(AsciiSet::DIGITS)
            .plus(b"._:/-"),
        chars_words: "ASCII letters, digits, `.`, `_`, `:`, `/` and `-`",
        first: None,
    }
);

/// The side of the threshold on which a check passes.
///
/// Exhaustive on purpose: every consumer must know how to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Passes when `value >= threshold` (a metric that must reach a floor; a p-value against α).
    AtLeast,
    /// Passes when `value > threshold`.
    Above,
    /// Passes when `value <= threshold` (a gap that must stay under a ceiling).
    AtMost,
    /// Passes when `value < threshold` (a drift score that must stay under its threshold).
    Below,
}

impl Direction {
    /// Whether `value` passes against `threshold`. A NaN on either side fails (fail closed).
    #[must_use]
    pub fn passes(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => value >= threshold,
            Self::Above => value > threshold,
            Self::AtMost => value <= threshold,
            Self::Below => value < threshold,
        }
    }

    /// The comparison as a symbol, for messages: `>=`, `>`, `<=`, `<`.
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Self::AtLeast => ">=",
            Self::Above => ">",
            Self::AtMost => "<=",
            Self::Below => "<",
        }
    }
}

/// Whether a check passed.
///
/// Exhaustive on purpose: policies must handle both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The value is on the passing side of the threshold.
    Pass,
    /// It is not (or it is NaN).
    Fail,
}

/// What a piece of evidence is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Subject {
    /// A registered model as a whole.
    Model {
        /// The model.
        model: ModelName,
    },
    /// One version of a model.
    Version {
        /// The version.
        version: ModelRef,
    },
    /// One input feature (a column), optionally of a given model version.
    Feature {
        /// The model version whose input it is, if known.
        version: Option<ModelRef>,
        /// The feature's name.
        feature: String,
    },
    /// A subpopulation (for fairness checks), optionally of a given model version.
    Segment {
        /// The model version, if known.
        version: Option<ModelRef>,
        /// The segment's name, such as `region=eu`.
        segment: String,
    },
    /// A dataset, by digest.
    Dataset {
        /// Its SHA-256 digest.
        digest: Digest,
    },
    /// A governance policy, by its identity: the content hash of the policy definition (so a
    /// record names exactly the rules it concerns, not a name that could be reused).
    Policy {
        /// The policy's identity digest.
        identity: Digest,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Model { model } => write!(f, "model {model}"),
            Self::Version { version } => write!(f, "version {version}"),
            Self::Feature {
                version: Some(v),
                feature,
            } => write!(f, "feature `{feature}` of {v}"),
            Self::Feature {
                version: None,
                feature,
            } => write!(f, "feature `{feature}`"),
            Self::Segment {
                version: Some(v),
                segment,
            } => write!(f, "segment `{segment}` of {v}"),
            Self::Segment {
                version: None,
                segment,
            } => write!(f, "segment `{segment}`"),
            Self::Dataset { digest } => write!(f, "dataset {digest}"),
            Self::Policy { identity } => write!(f, "policy {identity}"),
        }
    }
}

/// One measured check: its value, the threshold it was judged against, the side that passes, the
/// outcome, when it was measured, what it is about and which component measured it.
///
/// ```
/// use mlops_core::{Direction, Evidence, Outcome, Subject};
/// use mlops_core::chrono::{TimeZone, Utc};
///
/// let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
/// let auc = Evidence::new(
///     "validation.auc".parse()?,
///     Subject::Version { version: "fraud@v3".parse()? },
///     0.91,
///     0.85,
///     Direction::AtLeast,
///     at,
/// )
/// .with_source("offline-validation")
/// .with_detail("n", 25_000.0);
/// assert_eq!(auc.outcome, Outcome::Pass);
/// # Ok::<(), mlops_core::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The check's name.
    pub check: CheckName,
    /// What was measured.
    pub subject: Subject,
    /// The measured value (non-finite values serialize as `"nan"`, `"inf"`, `"-inf"`).
    #[serde(with = "crate::float_serde")]
    pub value: f64,
    /// The threshold it was judged against.
    #[serde(with = "crate::float_serde")]
    pub threshold: f64,
    /// The side of the threshold that passes.
    pub direction: Direction,
    /// Pass or fail, as decided by [`Direction::passes`] when the evidence was made.
    pub outcome: Outcome,
    /// When the value was measured.
    pub measured_at: DateTime<Utc>,
    /// The component that measured it (for example `mlops-drift/ks`); empty if unknown.
    #[serde(default)]
    pub source: String,
    /// Supporting numbers (sample sizes, p-values, confidence bounds), keyed by name.
    #[serde(default, with = "crate::float_serde::map")]
    pub details: BTreeMap<String, f64>,
}

impl Evidence {
    /// Judges `value` against `threshold` and records the outcome.
    #[must_use]
    pub fn new(
        check: CheckName,
        subject: Subject,
        value: f64,
        threshold: f64,
        direction: Direction,
        measured_at: DateTime<Utc>,
    ) -> Self {
        let outcome = if direction.passes(value, threshold) {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        Self {
            check,
            subject,
            value,
            threshold,
            direction,
            outcome,
            measured_at,
            source: String::new(),
            details: BTreeMap::new(),
        }
    }

    /// Names the component that measured it.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Adds a supporting number.
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: f64) -> Self {
        self.details.insert(key.into(), value);
        self
    }

    /// Whether the check passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    /// Whether the recorded outcome agrees with the value, threshold and direction. Evidence read
    /// from outside (a file, another service) should be checked with this before it is trusted.
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        (self.outcome == Outcome::Pass) == self.direction.passes(self.value, self.threshold)
    }

    /// The evidence's age at `now` (negative if measured in the future).
    #[must_use]
    pub fn age(&self, now: DateTime<Utc>) -> TimeDelta {
        now.signed_duration_since(self.measured_at)
    }

    /// Whether it was measured no longer than `max_age` before `now`, and not in the future.
    #[must_use]
    pub fn is_fresh(&self, now: DateTime<Utc>, max_age: TimeDelta) -> bool {
        let age = self.age(now);
        age >= TimeDelta::zero() && age <= max_age
    }
}

impl FromStr for Direction {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            ">=" | "at_least" => Ok(Self::AtLeast),
            ">" | "above" => Ok(Self::Above),
            "<=" | "at_most" => Ok(Self::AtMost),
            "<" | "below" => Ok(Self::Below),
            _ => Err(IdError::Malformed {
                kind: IdKind::CheckName,
                value: crate::error::shorten(s),
                expected: "one of `>=`, `>`, `<=`, `<`",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }

    fn ev(value: f64, threshold: f64, d: Direction) -> Evidence {
        Evidence::new(
            CheckName::new("c").unwrap(),
            Subject::Model {
                model: ModelName::new("m").unwrap(),
            },
            value,
            threshold,
            d,
            at(),
        )
    }

    #[test]
    fn directions_decide_at_the_boundary() {
        assert!(ev(0.1, 0.1, Direction::AtLeast).passed());
        assert!(!ev(0.1, 0.1, Direction::Above).passed());
        assert!(ev(0.1, 0.1, Direction::AtMost).passed());
        assert!(!ev(0.1, 0.1, Direction::Below).passed());
        assert!(ev(0.09, 0.1, Direction::Below).passed());
    }

    #[test]
    fn nan_fails_closed_in_every_direction() {
        for d in [
            Direction::AtLeast,
            Direction::Above,
            Direction::AtMost,
            Direction::Below,
        ] {
            assert!(!ev(f64::NAN, 0.1, d).passed());
            assert!(!ev(0.1, f64::NAN, d).passed());
            assert!(ev(f64::NAN, 0.1, d).is_consistent());
        }
    }

    #[test]
    fn freshness_and_consistency() {
        let mut e = ev(1.0, 0.5, Direction::AtLeast);
        let now = at() + TimeDelta::days(3);
        assert!(e.is_fresh(now, TimeDelta::days(3)));
        assert!(!e.is_fresh(now, TimeDelta::days(2)));
        assert!(!e.is_fresh(at() - TimeDelta::seconds(1), TimeDelta::days(2)));
        e.outcome = Outcome::Fail;
        assert!(!e.is_consistent());
    }

    #[test]
    fn check_name_rules() {
        assert!(CheckName::new("drift.psi/age:v2").is_ok());
        assert!(CheckName::new("has space").is_err());
        assert!(CheckName::new("").is_err());
        assert_eq!(">=".parse::<Direction>().unwrap(), Direction::AtLeast);
        assert!("=>".parse::<Direction>().is_err());
    }
}
