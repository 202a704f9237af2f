//! Risk classification: a use-case questionnaire as a typed value, and a
//! documented, configurable scoring that turns its answers into a [`RiskTier`] with the reasons
//! that drove it.
//!
//! A [`Questionnaire`] is what a host collects (from a form, a file): every question is optional
//! so that an unanswered one is caught, not defaulted. [`Questionnaire::complete`] checks that
//! every question is answered (an empty set of regulations is an answer: "none apply") and returns
//! a [`UseCase`]. A [`Scoring`] gives points per answer, sums them, maps the sum to a tier by
//! thresholds, and raises the tier to any [`Floor`] whose condition holds. The result is a
//! [`Classification`]: the tier, the score and every [`Reason`].
//!
//! Storing the tier on the registered model is a governed, audited action:
//! [`assign_risk_tier`].
//!
//! # The default scoring
//!
//! | question | answer → points |
//! |---|---|
//! | regulations (each that applies) | sector 3, regional 2, personal data 3 |
//! | consumers | internal 0, external customers 3, public 5 |
//! | availability | ad hoc 0, scheduled batch 1, real time (24/7) 3 |
//! | impact of errors (each of legal, financial, personal, public trust) | none 0, limited 1, significant 3, severe 5 |
//! | release cadence | rarely 0, quarterly 1, monthly 1, weekly 2, continuous 3 |
//! | lifetime of the model | days 0, months 1, years 2 |
//! | lifetime of its decisions | days 0, months 1, years 3 |
//! | expected quality decay | slow 0, moderate 1, fast 2 |
//! | explainability need | not needed 0, helpful 1, required 3 |
//!
//! Thresholds: a score of 4 or more is medium, 10 or more high, 18 or more critical; below 4 low.
//! Floors: results consumed by the public are at least high; any severe impact is at least high.
//!
//! ```
//! use mlops_core::RiskTier;
//! use mlops_governance::classification::*;
//!
//! let ad_hoc = Questionnaire {
//!     regulations: Some(Default::default()),
//!     consumers: Some(Consumers::Internal),
//!     availability: Some(Availability::AdHoc),
//!     impact: Some(ErrorImpact::none()),
//!     release_cadence: Some(ReleaseCadence::Rarely),
//!     model_lifetime: Some(Lifetime::Days),
//!     decision_lifetime: Some(Lifetime::Days),
//!     quality_decay: Some(QualityDecay::Slow),
//!     explainability: Some(Explainability::NotNeeded),
//! };
//! let c = Scoring::default().classify(&ad_hoc.complete()?);
//! assert_eq!(c.tier, RiskTier::Low);
//! # Ok::<(), mlops_governance::ClassificationError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mlops_core::{ActorId, Digest, ModelName, RiskTier, Role, Subject};
use mlops_registry::audit::{AuditAction, AuditDraft};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::engine::Governance;
use crate::error::{AuthorizationError, ClassificationError, GovernanceError};
use crate::policy::Action;

macro_rules! answer_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $ty {
            $($(#[$vdoc])* $v),+
        }

        impl $ty {
            /// Every answer, in order.
            pub const ALL: &'static [Self] = &[$(Self::$v),+];

            /// The answer's name, as in serde.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$v => $s),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

answer_enum! {
    /// A kind of regulation that applies to the use case. Exhaustive on purpose: a
    /// scoring must price each of the three kinds.
    Regulation {
        /// Sector regulation (banking, insurance, health).
        Sector => "sector",
        /// Regional regulation (such as the EU AI Act).
        Regional => "regional",
        /// Personal-data protection (such as the GDPR).
        PersonalData => "personal_data",
    }
}

answer_enum! {
    /// Who consumes the model's results, widest audience first answered. Exhaustive on purpose.
    Consumers {
        /// Only people inside the organisation.
        Internal => "internal",
        /// The organisation's customers.
        ExternalCustomers => "external_customers",
        /// The general public.
        Public => "public",
    }
}

answer_enum! {
    /// How available the model must be. Exhaustive on purpose.
    Availability {
        /// Run by hand when needed.
        AdHoc => "ad_hoc",
        /// Runs on a schedule (batch).
        ScheduledBatch => "scheduled_batch",
        /// Serves in real time, around the clock.
        RealTime => "real_time",
    }
}

answer_enum! {
    /// An area in which the model's errors can do harm. Exhaustive on purpose: a scoring
    /// must price each of the four.
    ImpactArea {
        /// Legal exposure.
        Legal => "legal",
        /// Financial loss.
        Financial => "financial",
        /// Harm to persons.
        Personal => "personal",
        /// Loss of public trust.
        PublicTrust => "public_trust",
    }
}

answer_enum! {
    /// How badly an error hurts in one area. Exhaustive on purpose.
    Severity {
        /// No harm.
        None => "none",
        /// Limited, easily corrected harm.
        Limited => "limited",
        /// Significant harm.
        Significant => "significant",
        /// Severe or irreversible harm.
        Severe => "severe",
    }
}

answer_enum! {
    /// How often new versions are released. Exhaustive on purpose.
    ReleaseCadence {
        /// Once or rarely (yearly or less).
        Rarely => "rarely",
        /// About every quarter.
        Quarterly => "quarterly",
        /// About every month.
        Monthly => "monthly",
        /// About every week.
        Weekly => "weekly",
        /// Continuously (automated retraining).
        Continuous => "continuous",
    }
}

answer_enum! {
    /// How long something lasts: the model in service, or the effect of its decisions.
    /// Exhaustive on purpose.
    Lifetime {
        /// Days.
        Days => "days",
        /// Months.
        Months => "months",
        /// Years.
        Years => "years",
    }
}

answer_enum! {
    /// How fast the model's quality is expected to decay. Exhaustive on purpose.
    QualityDecay {
        /// Slowly (stable data).
        Slow => "slow",
        /// Moderately.
        Moderate => "moderate",
        /// Fast (adversarial or seasonal data).
        Fast => "fast",
    }
}

answer_enum! {
    /// How much its decisions must be explained. Exhaustive on purpose.
    Explainability {
        /// No need.
        NotNeeded => "not_needed",
        /// Helpful for users.
        Helpful => "helpful",
        /// Required (by regulation or the people affected).
        Required => "required",
    }
}

/// The impact of errors: a severity for each of the four areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorImpact {
    /// Legal exposure.
    pub legal: Severity,
    /// Financial loss.
    pub financial: Severity,
    /// Harm to persons.
    pub personal: Severity,
    /// Loss of public trust.
    pub public_trust: Severity,
}

impl ErrorImpact {
    /// No harm in any area.
    #[must_use]
    pub fn none() -> Self {
        Self {
            legal: Severity::None,
            financial: Severity::None,
            personal: Severity::None,
            public_trust: Severity::None,
        }
    }

    /// The severity in `area`.
    #[must_use]
    pub fn severity(&self, area: ImpactArea) -> Severity {
        match area {
            ImpactArea::Legal => self.legal,
            ImpactArea::Financial => self.financial,
            ImpactArea::Personal => self.personal,
            ImpactArea::PublicTrust => self.public_trust,
        }
    }
}

/// The use-case questionnaire as a host collects it: every answer optional, so that an
/// unanswered question is an error rather than a silent default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    /// The regulations that apply (an empty set answers "none").
    #[serde(default)]
    pub regulations: Option<BTreeSet<Regulation>>,
    /// Who consumes the results (the widest audience).
    #[serde(default)]
    pub consumers: Option<Consumers>,
    /// Availability needs.
    #[serde(default)]
    pub availability: Option<Availability>,
    /// Impact of errors in each area.
    #[serde(default)]
    pub impact: Option<ErrorImpact>,
    /// How often versions are released.
    #[serde(default)]
    pub release_cadence: Option<ReleaseCadence>,
    /// How long the model stays in service.
    #[serde(default)]
    pub model_lifetime: Option<Lifetime>,
    /// How long its decisions have effect.
    #[serde(default)]
    pub decision_lifetime: Option<Lifetime>,
    /// Expected rate of quality decay.
    #[serde(default)]
    pub quality_decay: Option<QualityDecay>,
    /// Need for explainability.
    #[serde(default)]
    pub explainability: Option<Explainability>,
}

/// A completely answered questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseCase {
    /// The regulations that apply.
    pub regulations: BTreeSet<Regulation>,
    /// Who consumes the results.
    pub consumers: Consumers,
    /// Availability needs.
    pub availability: Availability,
    /// Impact of errors.
    pub impact: ErrorImpact,
    /// Release cadence.
    pub release_cadence: ReleaseCadence,
    /// Lifetime of the model.
    pub model_lifetime: Lifetime,
    /// Lifetime of its decisions.
    pub decision_lifetime: Lifetime,
    /// Expected quality decay.
    pub quality_decay: QualityDecay,
    /// Explainability need.
    pub explainability: Explainability,
}

impl Questionnaire {
    /// Checks that every question is answered.
    ///
    /// # Errors
    /// [`ClassificationError::Incomplete`] naming every unanswered question.
    pub fn complete(&self) -> Result<UseCase, ClassificationError> {
        let mut missing = Vec::new();
        let mut need = |name: &str, answered: bool| {
            if !answered {
                missing.push(name.to_owned());
            }
        };
        need("regulations", self.regulations.is_some());
        need("consumers", self.consumers.is_some());
        need("availability", self.availability.is_some());
        need("impact", self.impact.is_some());
        need("release_cadence", self.release_cadence.is_some());
        need("model_lifetime", self.model_lifetime.is_some());
        need("decision_lifetime", self.decision_lifetime.is_some());
        need("quality_decay", self.quality_decay.is_some());
        need("explainability", self.explainability.is_some());
        match (
            &self.regulations,
            self.consumers,
            self.availability,
            self.impact,
            self.release_cadence,
            self.model_lifetime,
            self.decision_lifetime,
            self.quality_decay,
            self.explainability,
        ) {
            (
                Some(regulations),
                Some(consumers),
                Some(availability),
                Some(impact),
                Some(release_cadence),
                Some(model_lifetime),
                Some(decision_lifetime),
                Some(quality_decay),
                Some(explainability),
            ) if missing.is_empty() => Ok(UseCase {
                regulations: regulations.clone(),
                consumers,
                availability,
                impact,
                release_cadence,
                model_lifetime,
                decision_lifetime,
                quality_decay,
                explainability,
            }),
            _ => Err(ClassificationError::Incomplete { missing }),
        }
    }

    /// Parses a questionnaire from JSON (unanswered questions may be omitted).
    ///
    /// # Errors
    /// [`ClassificationError::Load`] for bad JSON or an unknown answer.
    pub fn from_json(text: &str) -> Result<Self, ClassificationError> {
        serde_json::from_str(text).map_err(|e| ClassificationError::Load(e.into()))
    }
}

impl From<&UseCase> for Questionnaire {
    fn from(u: &UseCase) -> Self {
        Self {
            regulations: Some(u.regulations.clone()),
            consumers: Some(u.consumers),
            availability: Some(u.availability),
            impact: Some(u.impact),
            release_cadence: Some(u.release_cadence),
            model_lifetime: Some(u.model_lifetime),
            decision_lifetime: Some(u.decision_lifetime),
            quality_decay: Some(u.quality_decay),
            explainability: Some(u.explainability),
        }
    }
}

/// A condition that raises the tier to at least a floor, whatever the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Condition {
    /// The results reach at least this audience.
    ConsumersAtLeast {
        /// The audience.
        consumers: Consumers,
    },
    /// Some area's impact is at least this severe.
    ImpactAtLeast {
        /// The severity.
        severity: Severity,
    },
    /// The regulation applies.
    Regulated {
        /// The regulation.
        regulation: Regulation,
    },
}

impl Condition {
    fn holds(&self, u: &UseCase) -> bool {
        match self {
            Self::ConsumersAtLeast { consumers } => u.consumers >= *consumers,
            Self::ImpactAtLeast { severity } => ImpactArea::ALL
                .iter()
                .any(|a| u.impact.severity(*a) >= *severity),
            Self::Regulated { regulation } => u.regulations.contains(regulation),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConsumersAtLeast { consumers } => write!(f, "consumers at least `{consumers}`"),
            Self::ImpactAtLeast { severity } => write!(f, "an impact at least `{severity}`"),
            Self::Regulated { regulation } => write!(f, "`{regulation}` regulation applies"),
        }
    }
}

/// A floor: when the condition holds, the tier is at least `tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Floor {
    /// When it applies.
    #[serde(flatten)]
    pub condition: Condition,
    /// The least tier.
    pub tier: RiskTier,
}

/// Least scores for the tiers above [`RiskTier::Low`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Least score for medium.
    pub medium: u32,
    /// Least score for high.
    pub high: u32,
    /// Least score for critical.
    pub critical: u32,
}

/// Points per answer, thresholds and floors. See the [module documentation](self) for the
/// default. Load a host's own with [`Scoring::from_json`] / [`Scoring::from_toml`]; every
/// answer must have points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scoring {
    /// Points for each regulation that applies.
    pub regulations: BTreeMap<Regulation, u32>,
    /// Points per audience.
    pub consumers: BTreeMap<Consumers, u32>,
    /// Points per availability need.
    pub availability: BTreeMap<Availability, u32>,
    /// Points per severity, counted for each impact area.
    pub impact: BTreeMap<Severity, u32>,
    /// Points per release cadence.
    pub release_cadence: BTreeMap<ReleaseCadence, u32>,
    /// Points per model lifetime.
    pub model_lifetime: BTreeMap<Lifetime, u32>,
    /// Points per decision lifetime.
    pub decision_lifetime: BTreeMap<Lifetime, u32>,
    /// Points per decay rate.
    pub quality_decay: BTreeMap<QualityDecay, u32>,
    /// Points per explainability need.
    pub explainability: BTreeMap<Explainability, u32>,
    /// Score thresholds.
    pub thresholds: Thresholds,
    /// Floors, applied after the thresholds.
    #[serde(default)]
    pub floors: Vec<Floor>,
}

fn points<K: Ord + Copy>(pairs: &[(K, u32)]) -> BTreeMap<K, u32> {
    pairs.iter().copied().collect()
}

impl Default for Scoring {
    /// The documented default (see the [module documentation](self)).
    fn default() -> Self {
        use Availability as Av;
        use Consumers as C;
        use Explainability as E;
        use Lifetime as L;
        use QualityDecay as Q;
        use Regulation as R;
        use ReleaseCadence as Rc;
        use Severity as S;
        Self {
            regulations: points(&[(R::Sector, 3), (R::Regional, 2), (R::PersonalData, 3)]),
            consumers: points(&[(C::Internal, 0), (C::ExternalCustomers, 3), (C::Public, 5)]),
            availability: points(&[(Av::AdHoc, 0), (Av::ScheduledBatch, 1), (Av::RealTime, 3)]),
            impact: points(&[
                (S::None, 0),
                (S::Limited, 1),
                (S::Significant, 3),
                (S::Severe, 5),
            ]),
            release_cadence: points(&[
                (Rc::Rarely, 0),
                (Rc::Quarterly, 1),
                (Rc::Monthly, 1),
                (Rc::Weekly, 2),
                (Rc::Continuous, 3),
            ]),
            model_lifetime: points(&[(L::Days, 0), (L::Months, 1), (L::Years, 2)]),
            decision_lifetime: points(&[(L::Days, 0), (L::Months, 1), (L::Years, 3)]),
            quality_decay: points(&[(Q::Slow, 0), (Q::Moderate, 1), (Q::Fast, 2)]),
            explainability: points(&[(E::NotNeeded, 0), (E::Helpful, 1), (E::Required, 3)]),
            thresholds: Thresholds {
                medium: 4,
                high: 10,
                critical: 18,
            },
            floors: vec![
                Floor {
                    condition: Condition::ConsumersAtLeast {
                        consumers: C::Public,
                    },
                    tier: RiskTier::High,
                },
                Floor {
                    condition: Condition::ImpactAtLeast {
                        severity: S::Severe,
                    },
                    tier: RiskTier::High,
                },
            ],
        }
    }
}

/// Which question a reason is about.
///
/// Exhaustive on purpose: one per question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// A regulation.
    Regulation,
    /// The consumers.
    Consumers,
    /// Availability.
    Availability,
    /// The impact in one area.
    Impact,
    /// Release cadence.
    ReleaseCadence,
    /// Model lifetime.
    ModelLifetime,
    /// Decision lifetime.
    DecisionLifetime,
    /// Quality decay.
    QualityDecay,
    /// Explainability.
    Explainability,
}

/// One answer's contribution to the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The question.
    pub factor: Factor,
    /// The answer, such as `public` or `legal: severe`.
    pub answer: String,
    /// The points it gave.
    pub points: u32,
}

/// A classification: the tier, the score, the answers that scored and the floors that applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The tier.
    pub tier: RiskTier,
    /// The tier the score alone gives.
    pub score_tier: RiskTier,
    /// The total score.
    pub score: u32,
    /// Every answer that gave points, highest first.
    pub reasons: Vec<Reason>,
    /// The floors that raised the tier (or held it), in the scoring's order.
    pub floors: Vec<Floor>,
    /// The answers classified.
    pub use_case: UseCase,
}

impl Classification {
    /// The reasons as sentences, for people: the score, then each contribution and floor.
    #[must_use]
    pub fn explain(&self) -> Vec<String> {
        let mut out = vec![format!(
            "score {} gives tier `{}`",
            self.score, self.score_tier
        )];
        out.extend(
            self.reasons
                .iter()
                .map(|r| format!("{:?} `{}`: +{}", r.factor, r.answer, r.points)),
        );
        out.extend(
            self.floors
                .iter()
                .map(|f| format!("{} raises the tier to at least `{}`", f.condition, f.tier)),
        );
        out
    }
}

fn check_all<K: Ord + Copy + fmt::Display>(
    factor: &'static str,
    all: &[K],
    map: &BTreeMap<K, u32>,
) -> Result<(), ClassificationError> {
    match all.iter().find(|k| !map.contains_key(k)) {
        Some(k) => Err(ClassificationError::MissingPoints {
            factor,
            answer: k.to_string(),
        }),
        None => Ok(()),
    }
}

impl Scoring {
    /// Checks that every answer has points and the thresholds increase.
    ///
    /// # Errors
    /// [`ClassificationError::MissingPoints`] naming the first answer without points;
    /// [`ClassificationError::Thresholds`].
    pub fn validate(&self) -> Result<(), ClassificationError> {
        check_all("regulations", Regulation::ALL, &self.regulations)?;
        check_all("consumers", Consumers::ALL, &self.consumers)?;
        check_all("availability", Availability::ALL, &self.availability)?;
        check_all("impact", Severity::ALL, &self.impact)?;
        check_all(
            "release_cadence",
            ReleaseCadence::ALL,
            &self.release_cadence,
        )?;
        check_all("model_lifetime", Lifetime::ALL, &self.model_lifetime)?;
        check_all("decision_lifetime", Lifetime::ALL, &self.decision_lifetime)?;
        check_all("quality_decay", QualityDecay::ALL, &self.quality_decay)?;
        check_all("explainability", Explainability::ALL, &self.explainability)?;
        let t = self.thresholds;
        if !(t.medium <= t.high && t.high <= t.critical) {
            return Err(ClassificationError::Thresholds {
                medium: t.medium,
                high: t.high,
                critical: t.critical,
            });
        }
        Ok(())
    }

    /// Parses and validates a JSON scoring.
    ///
    /// # Errors
    /// [`ClassificationError::Load`]; otherwise as [`Scoring::validate`].
    pub fn from_json(text: &str) -> Result<Self, ClassificationError> {
        let s: Self =
            serde_json::from_str(text).map_err(|e| ClassificationError::Load(e.into()))?;
        s.validate()?;
        Ok(s)
    }

    /// Parses and validates a TOML scoring.
    ///
    /// # Errors
    /// As [`Scoring::from_json`].
    pub fn from_toml(text: &str) -> Result<Self, ClassificationError> {
        let s: Self = toml::from_str(text).map_err(|e| ClassificationError::Load(e.into()))?;
        s.validate()?;
        Ok(s)
    }

    /// The tier the thresholds give `score`.
    #[must_use]
    pub fn tier_of(&self, score: u32) -> RiskTier {
        let t = self.thresholds;
        if score >= t.critical {
            RiskTier::Critical
        } else if score >= t.high {
            RiskTier::High
        } else if score >= t.medium {
            RiskTier::Medium
        } else {
            RiskTier::Low
        }
    }

    /// Classifies a complete use case. An answer missing from a scoring that was not validated
    /// scores 0.
    #[must_use]
    pub fn classify(&self, u: &UseCase) -> Classification {
        let mut reasons = Vec::new();
        let mut add = |factor: Factor, answer: String, points: Option<&u32>| {
            let points = points.copied().unwrap_or(0);
            if points > 0 {
                reasons.push(Reason {
                    factor,
                    answer,
                    points,
                });
            }
        };
        for r in &u.regulations {
            add(Factor::Regulation, r.to_string(), self.regulations.get(r));
        }
        add(
            Factor::Consumers,
            u.consumers.to_string(),
            self.consumers.get(&u.consumers),
        );
        add(
            Factor::Availability,
            u.availability.to_string(),
            self.availability.get(&u.availability),
        );
        for area in ImpactArea::ALL {
            let s = u.impact.severity(*area);
            add(Factor::Impact, format!("{area}: {s}"), self.impact.get(&s));
        }
        add(
            Factor::ReleaseCadence,
            u.release_cadence.to_string(),
            self.release_cadence.get(&u.release_cadence),
        );
        add(
            Factor::ModelLifetime,
            u.model_lifetime.to_string(),
            self.model_lifetime.get(&u.model_lifetime),
        );
        add(
            Factor::DecisionLifetime,
            u.decision_lifetime.to_string(),
            self.decision_lifetime.get(&u.decision_lifetime),
        );
        add(
            Factor::QualityDecay,
            u.quality_decay.to_string(),
            self.quality_decay.get(&u.quality_decay),
        );
        add(
            Factor::Explainability,
            u.explainability.to_string(),
            self.explainability.get(&u.explainability),
        );
        reasons.sort_by(|a, b| b.points.cmp(&a.points).then(a.factor.cmp(&b.factor)));
        let score = reasons
            .iter()
            .fold(0u32, |acc, r| acc.saturating_add(r.points));
        let score_tier = self.tier_of(score);
        let floors: Vec<Floor> = self
            .floors
            .iter()
            .filter(|f| f.condition.holds(u))
            .copied()
            .collect();
        let tier = floors.iter().map(|f| f.tier).fold(score_tier, Ord::max);
        Classification {
            tier,
            score_tier,
            score,
            reasons,
            floors,
            use_case: u.clone(),
        }
    }
}

/// The roles that may set a model's risk tier by default: risk officers and governance admins.
#[must_use]
pub fn default_tier_setters() -> BTreeSet<Role> {
    [Role::risk_officer(), Role::governance_admin()].into()
}

/// Stores `classification`'s tier on `model` as `actor`: a governed, audited action.
///
/// The actor must hold one of `setters` (see [`default_tier_setters`]); lowering a tier needs a
/// justification. The model's tier and a `governance.risk_tier.changed` record (with the old and
/// new tiers, the score, the reasons and a digest of the answers) are committed in one
/// compare-and-swap on the model (retried up to 3 times on a conflict). An unchanged tier still
/// records the (re-)classification. Returns the previous tier.
///
/// # Errors
/// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited, with action
/// `set_risk_tier` in the record's details; the error names [`Action::ChangePolicy`] because the
/// tier selects the policy a model is governed by) for an actor without a setter role; [`GovernanceError::MissingJustification`] when lowering without one;
/// [`GovernanceError::Registry`] for an unknown model or a store failure;
/// [`GovernanceError::Conflict`] after the retries.
pub fn assign_risk_tier(
    gov: &Governance,
    model: &ModelName,
    classification: &Classification,
    actor: &ActorId,
    setters: &BTreeSet<Role>,
    justification: &str,
) -> Result<RiskTier, GovernanceError> {
    let who = gov.actor(actor)?;
    let now = gov.clock().now();
    let subject = Subject::Model {
        model: model.clone(),
    };
    if !who.roles.iter().any(|r| setters.contains(r)) {
        let error = AuthorizationError::MissingRole {
            actor: who.id.to_string(),
            action: Action::ChangePolicy,
            allowed: setters
                .iter()
                .map(Role::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        };
        let draft = AuditDraft::new(now, who, AuditAction::UNAUTHORIZED, subject)
            .with_details(json!({ "action": "set_risk_tier", "reason": error.to_string() }));
        gov.append_governed(vec![draft])?;
        return Err(GovernanceError::Unauthorized(error));
    }
    let answers = serde_json::to_vec(&classification.use_case).unwrap_or_default();
    let mut attempt = 0;
    loop {
        let mut agg = gov.store().get_model(model)?;
        let before = agg.model().risk_tier;
        if classification.tier < before && crate::names::is_blank(justification) {
            return Err(GovernanceError::MissingJustification);
        }
        let revision = agg.revision();
        agg.model_mut().risk_tier = classification.tier;
        agg.model_mut().updated_at = now;
        let mut draft = AuditDraft::new(
            now,
            who.clone(),
            AuditAction::RISK_TIER_CHANGED,
            subject.clone(),
        )
        .with_details(json!({
            "from": before,
            "to": classification.tier,
            "score": classification.score,
            "score_tier": classification.score_tier,
            "reasons": classification.reasons,
            "floors": classification.floors,
            "answers": Digest::of(&answers).to_string(),
        }));
        if !crate::names::is_blank(justification) {
            draft = draft.with_justification(justification);
        }
        match gov.commit_governed(revision, agg, vec![draft]) {
            Ok(_) => {
                tracing::info!(model = %model, from = %before, to = %classification.tier, "risk tier assigned");
                return Ok(before);
            }
            Err(GovernanceError::Conflict { .. }) if attempt < 3 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Questionnaire {
        Questionnaire {
            regulations: Some(BTreeSet::new()),
            consumers: Some(Consumers::Internal),
            availability: Some(Availability::AdHoc),
            impact: Some(ErrorImpact::none()),
            release_cadence: Some(ReleaseCadence::Rarely),
            model_lifetime: Some(Lifetime::Days),
            decision_lifetime: Some(Lifetime::Days),
            quality_decay: Some(QualityDecay::Slow),
            explainability: Some(Explainability::NotNeeded),
        }
    }

    #[test]
    fn incomplete_names_every_missing_answer() {
        let mut q = full();
        q.impact = None;
        q.explainability = None;
        let Err(ClassificationError::Incomplete { missing }) = q.complete() else {
            panic!("expected incomplete");
        };
        assert_eq!(missing, ["impact", "explainability"]);
        assert!(matches!(
            Questionnaire::default().complete(),
            Err(ClassificationError::Incomplete { missing }) if missing.len() == 9
        ));
    }

    #[test]
    fn default_scoring_is_valid_and_round_trips() {
        let s = Scoring::default();
        s.validate().unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(Scoring::from_json(&json).unwrap(), s);
        let toml = toml::to_string(&s).unwrap();
        assert_eq!(Scoring::from_toml(&toml).unwrap(), s);
    }

    #[test]
    fn bad_scoring_is_a_typed_error() {
        let mut s = Scoring::default();
        s.consumers.remove(&Consumers::Public);
        assert_eq!(
            s.validate(),
            Err(ClassificationError::MissingPoints {
                factor: "consumers",
                answer: "public".into()
            })
        );
        let mut s = Scoring::default();
        s.thresholds.high = 30;
        assert!(matches!(
            s.validate(),
            Err(ClassificationError::Thresholds { high: 30, .. })
        ));
        assert!(matches!(
            Scoring::from_json("{"),
            Err(ClassificationError::Load(crate::error::LoadError::Json(_)))
        ));
    }

    #[test]
    fn thresholds_and_floors() {
        let s = Scoring::default();
        assert_eq!(s.tier_of(3), RiskTier::Low);
        assert_eq!(s.tier_of(4), RiskTier::Medium);
        assert_eq!(s.tier_of(10), RiskTier::High);
        assert_eq!(s.tier_of(18), RiskTier::Critical);
        // Public consumers alone score 5 (medium) but the floor makes it high.
        let mut q = full();
        q.consumers = Some(Consumers::Public);
        let c = s.classify(&q.complete().unwrap());
        assert_eq!(
            (c.score, c.score_tier, c.tier),
            (5, RiskTier::Medium, RiskTier::High)
        );
        assert_eq!(c.floors.len(), 1);
        assert_eq!(c.reasons[0].factor, Factor::Consumers);
    }

    #[test]
    fn questionnaire_parses_from_json_with_gaps() {
        let q = Questionnaire::from_json(r#"{"consumers":"public","regulations":[]}"#).unwrap();
        assert_eq!(q.consumers, Some(Consumers::Public));
        assert!(
            matches!(q.complete(), Err(ClassificationError::Incomplete { missing }) if missing.len() == 7)
        );
        assert!(Questionnaire::from_json(r#"{"consumers":"martians"}"#).is_err());
    }
}
