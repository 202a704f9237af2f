//! The governance matrix: risk tier × governance consideration → required
//! measures, each of which compiles into lifecycle policy guards.
//!
//! There are nine considerations ([`Consideration`]), the areas a model-risk review covers. A measure is one entry of the
//! catalogue ([`Measure`]), with the states whose entry it guards (`at`; each measure has a
//! sensible default for the default lifecycle). [`GovernanceMatrix::compile`] turns the matrix
//! into a declarative [`Policy`]; [`GovernanceMatrix::guards`] lists what a tier faces and why.
//!
//! A default matrix ships ([`GovernanceMatrix::default_matrix`]); hosts load their own from JSON
//! or TOML. A cell naming a measure the catalogue does not know is a
//! [`MatrixError::UnknownMeasure`], never ignored.
//!
//! Documentation measures check model-card fields; [`ModelCard::fields`](crate::card::ModelCard::fields)
//! fills `lineage.datasets`, `lineage.code`, `lineage.params`, `risk_tier` and `owner` from the
//! registry, and hosts fill `intended_use`, `limitations`, `explainability` and
//! `lineage.columns`.
//!
//! ```
//! use mlops_core::RiskTier;
//! use mlops_governance::matrix::GovernanceMatrix;
//! use mlops_governance::raci::Raci;
//!
//! let matrix = GovernanceMatrix::default_matrix();
//! let policy = matrix.compile("bank", &Raci::default_raci())?;
//! let production = "production".parse()?;
//! assert!(policy.guards(RiskTier::Critical, &production).len()
//!     > policy.guards(RiskTier::Low, &production).len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mlops_core::{CheckName, RiskTier, Role};
use serde::{Deserialize, Serialize};

use crate::error::{LoadError, MatrixError, PolicyError};
use crate::lifecycle::StateName;
use crate::lifecycle::names::{PRE_PRODUCTION, PRODUCTION};
use crate::names::Period;
use crate::policy::{Guard, Policy, PolicySpec, Threshold};
use crate::raci::{Raci, Task};

/// A governance consideration: one area a model-risk review covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Consideration {
    /// Reproducibility and traceability.
    ReproducibilityAndTraceability,
    /// Audit and documentation.
    AuditAndDocumentation,
    /// Human-in-the-loop sign-off.
    HumanInTheLoopSignoff,
    /// Pre-production verification.
    PreProductionVerification,
    /// Transparency and explainability.
    TransparencyAndExplainability,
    /// Bias and harm testing.
    BiasAndHarmTesting,
    /// Production deployment mode.
    ProductionDeploymentMode,
    /// Production monitoring.
    ProductionMonitoring,
    /// Data quality and compliance.
    DataQualityAndCompliance,
}

impl Consideration {
    /// Every consideration, in the matrix's order.
    pub const ALL: [Self; 9] = [
        Self::ReproducibilityAndTraceability,
        Self::AuditAndDocumentation,
        Self::HumanInTheLoopSignoff,
        Self::PreProductionVerification,
        Self::TransparencyAndExplainability,
        Self::BiasAndHarmTesting,
        Self::ProductionDeploymentMode,
        Self::ProductionMonitoring,
        Self::DataQualityAndCompliance,
    ];

    /// The name, as in serde.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReproducibilityAndTraceability => "reproducibility_and_traceability",
            Self::AuditAndDocumentation => "audit_and_documentation",
            Self::HumanInTheLoopSignoff => "human_in_the_loop_signoff",
            Self::PreProductionVerification => "pre_production_verification",
            Self::TransparencyAndExplainability => "transparency_and_explainability",
            Self::BiasAndHarmTesting => "bias_and_harm_testing",
            Self::ProductionDeploymentMode => "production_deployment_mode",
            Self::ProductionMonitoring => "production_monitoring",
            Self::DataQualityAndCompliance => "data_quality_and_compliance",
        }
    }
}

impl fmt::Display for Consideration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_validation_check() -> CheckName {
    const { CheckName::from_static("validation.auc") }
}
fn default_bias_check() -> CheckName {
    const { CheckName::from_static("fairness.parity_gap") }
}
fn default_drift_check() -> CheckName {
    const { CheckName::from_static("drift.monitoring") }
}
fn default_quality_check() -> CheckName {
    const { CheckName::from_static("data_quality.checks") }
}
fn default_max_age() -> Period {
    const { Period::from_static_days(30) }
}
fn default_drift_age() -> Period {
    const { Period::from_static_days(7) }
}

/// A measure from the catalogue. Each compiles into one lifecycle guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "measure", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Measure {
    /// The datasets (with digests) are on the model card (`lineage.datasets`).
    DatasetLineage,
    /// The code reference is on the model card (`lineage.code`).
    CodeReference,
    /// Column-level lineage is documented (`lineage.columns`, host-filled).
    ColumnLineage,
    /// The model card has these fields.
    ModelCard {
        /// Required fields.
        fields: Vec<String>,
    },
    /// `count` sign-offs from people holding any of `roles`.
    Signoffs {
        /// How many distinct people.
        count: u32,
        /// The roles that count.
        roles: BTreeSet<Role>,
    },
    /// The sign-off of the person holding the task's Accountable role in the RACI matrix.
    AccountableSignoff {
        /// The task.
        task: Task,
    },
    /// Two distinct people other than the author and the requester sign off.
    TwoPersonRule,
    /// Passing validation evidence.
    ValidationEvidence {
        /// The check (default `validation.auc`).
        #[serde(default = "default_validation_check")]
        check: CheckName,
        /// The oldest acceptable measurement (default 30 days).
        #[serde(default = "default_max_age")]
        max_age: Period,
        /// A threshold to judge against instead of the recorded outcome.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<Threshold>,
    },
    /// A minimum stay in the previous state (a trial, a shadow or canary period).
    TrialPeriod {
        /// The minimum stay.
        period: Period,
    },
    /// The explanation method is documented (`explainability`, host-filled).
    ExplainabilityReport,
    /// Passing bias testing evidence.
    BiasTest {
        /// The check (default `fairness.parity_gap`).
        #[serde(default = "default_bias_check")]
        check: CheckName,
        /// The oldest acceptable measurement (default 30 days).
        #[serde(default = "default_max_age")]
        max_age: Period,
        /// A threshold to judge against instead of the recorded outcome.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<Threshold>,
    },
    /// Evidence that drift monitoring runs and passes.
    DriftMonitoring {
        /// The check (default `drift.monitoring`).
        #[serde(default = "default_drift_check")]
        check: CheckName,
        /// The oldest acceptable measurement (default 7 days).
        #[serde(default = "default_drift_age")]
        max_age: Period,
    },
    /// Passing data-quality evidence.
    DataQuality {
        /// The check (default `data_quality.checks`).
        #[serde(default = "default_quality_check")]
        check: CheckName,
        /// The oldest acceptable measurement (default 30 days).
        #[serde(default = "default_max_age")]
        max_age: Period,
    },
}

impl Measure {
    /// The catalogue: every measure's name.
    pub const NAMES: [&'static str; 13] = [
        "dataset_lineage",
        "code_reference",
        "column_lineage",
        "model_card",
        "signoffs",
        "accountable_signoff",
        "two_person_rule",
        "validation_evidence",
        "trial_period",
        "explainability_report",
        "bias_test",
        "drift_monitoring",
        "data_quality",
    ];

    /// The measure's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::DatasetLineage => "dataset_lineage",
            Self::CodeReference => "code_reference",
            Self::ColumnLineage => "column_lineage",
            Self::ModelCard { .. } => "model_card",
            Self::Signoffs { .. } => "signoffs",
            Self::AccountableSignoff { .. } => "accountable_signoff",
            Self::TwoPersonRule => "two_person_rule",
            Self::ValidationEvidence { .. } => "validation_evidence",
            Self::TrialPeriod { .. } => "trial_period",
            Self::ExplainabilityReport => "explainability_report",
            Self::BiasTest { .. } => "bias_test",
            Self::DriftMonitoring { .. } => "drift_monitoring",
            Self::DataQuality { .. } => "data_quality",
        }
    }

    /// The states whose entry the measure guards when an entry names none: sign-offs at both
    /// `pre_production` and `production` ("per environment move"); verification, bias and
    /// data-quality evidence at `pre_production`; documentation, lineage, trials and monitoring
    /// at `production`.
    #[must_use]
    pub fn default_states(&self) -> Vec<StateName> {
        match self {
            Self::Signoffs { .. } | Self::AccountableSignoff { .. } | Self::TwoPersonRule => {
                vec![PRE_PRODUCTION, PRODUCTION]
            }
            Self::ValidationEvidence { .. } | Self::BiasTest { .. } | Self::DataQuality { .. } => {
                vec![PRE_PRODUCTION]
            }
            _ => vec![PRODUCTION],
        }
    }

    /// The guard the measure compiles into.
    ///
    /// # Errors
    /// [`MatrixError::Raci`] for an accountable sign-off on a task the RACI matrix lacks.
    pub fn guard(&self, raci: &Raci) -> Result<Guard, MatrixError> {
        Ok(match self {
            Self::DatasetLineage => Guard::documentation(["lineage.datasets"]),
            Self::CodeReference => Guard::documentation(["lineage.code"]),
            Self::ColumnLineage => Guard::documentation(["lineage.columns"]),
            Self::ExplainabilityReport => Guard::documentation(["explainability"]),
            Self::ModelCard { fields } => Guard::documentation(fields.iter().cloned()),
            Self::Signoffs { count, roles } => Guard::Approvals {
                count: *count,
                roles: roles.clone(),
                humans_only: true,
            },
            Self::AccountableSignoff { task } => raci.accountable_guard(task)?,
            Self::TwoPersonRule => Guard::TwoPersonRule,
            Self::ValidationEvidence {
                check,
                max_age,
                threshold,
            }
            | Self::BiasTest {
                check,
                max_age,
                threshold,
            } => Guard::Evidence {
                check: check.clone(),
                max_age: *max_age,
                threshold: *threshold,
            },
            Self::DriftMonitoring { check, max_age } | Self::DataQuality { check, max_age } => {
                Guard::evidence(check.clone(), *max_age)
            }
            Self::TrialPeriod { period } => Guard::min_time_in_state(*period),
        })
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Self::Signoffs { count: 0, .. } => {
                Err("a sign-off measure needs a count of at least 1".into())
            }
            Self::Signoffs { roles, .. } if roles.is_empty() => {
                Err("a sign-off measure must name at least one role".into())
            }
            Self::ModelCard { fields } if fields.iter().all(|f| f.trim().is_empty()) => {
                Err("a model-card measure must name at least one field".into())
            }
            Self::ValidationEvidence {
                threshold: Some(t), ..
            }
            | Self::BiasTest {
                threshold: Some(t), ..
            } if !t.value.is_finite() => Err(format!("threshold `{}` is not finite", t.value)),
            _ => Ok(()),
        }
    }
}

/// One cell entry: a measure and the states whose entry it guards (empty: its defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureEntry {
    /// The measure.
    #[serde(flatten)]
    pub measure: Measure,
    /// The states (empty: [`Measure::default_states`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at: Vec<StateName>,
}

impl MeasureEntry {
    /// `measure` at its default states.
    #[must_use]
    pub fn new(measure: Measure) -> Self {
        Self {
            measure,
            at: Vec::new(),
        }
    }

    /// `measure` at `states`.
    #[must_use]
    pub fn at(measure: Measure, states: impl IntoIterator<Item = StateName>) -> Self {
        Self {
            measure,
            at: states.into_iter().collect(),
        }
    }

    /// The states it guards.
    #[must_use]
    pub fn states(&self) -> Vec<StateName> {
        if self.at.is_empty() {
            self.measure.default_states()
        } else {
            self.at.clone()
        }
    }
}

/// A tier's row: consideration → measures.
pub type TierMeasures = BTreeMap<Consideration, Vec<MeasureEntry>>;

/// One guard a tier faces, with the consideration and measure it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledGuard {
    /// The consideration.
    pub consideration: Consideration,
    /// The measure's name.
    pub measure: String,
    /// The state whose entry it guards.
    pub state: StateName,
    /// The guard.
    pub guard: Guard,
}

/// A validated governance matrix: for each risk tier, the measures per consideration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernanceMatrix {
    /// The rows; every tier is present (possibly empty).
    pub tiers: BTreeMap<RiskTier, TierMeasures>,
}

fn role(name: &str) -> Role {
    Role::new(name).unwrap_or_else(|_| Role::governance_admin())
}

impl GovernanceMatrix {
    /// A matrix requiring nothing at any tier.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            tiers: RiskTier::ALL
                .into_iter()
                .map(|t| (t, TierMeasures::new()))
                .collect(),
        }
    }

    /// Adds `entry` to the cell (`tier`, `consideration`).
    #[must_use]
    pub fn require(
        mut self,
        tier: RiskTier,
        consideration: Consideration,
        entry: MeasureEntry,
    ) -> Self {
        self.tiers
            .entry(tier)
            .or_default()
            .entry(consideration)
            .or_default()
            .push(entry);
        self
    }

    /// The default matrix, each tier adding to the one below:
    ///
    /// | consideration | low | medium | high | critical |
    /// |---|---|---|---|---|
    /// | reproducibility and traceability | dataset lineage | = | + code reference, column lineage | = |
    /// | audit and documentation | card: intended use | card: + limitations | card: + risk tier, owner | = |
    /// | human-in-the-loop sign-off | — | 1 validator (production) | 2 of validator / risk officer per move | + two-person rule, accountable for acceptance and deployment |
    /// | pre-production verification | — | validation evidence | = | = |
    /// | transparency and explainability | — | — | explainability documented | = |
    /// | bias and harm testing | — | — | bias test evidence | = |
    /// | production deployment mode | — | — | 7-day trial in pre-production | 14-day trial |
    /// | production monitoring | — | drift monitoring evidence | = | = |
    /// | data quality and compliance | — | — | data-quality evidence | + compliance officer sign-off |
    #[must_use]
    pub fn default_matrix() -> Self {
        use Consideration as C;
        use RiskTier::{Critical, High, Low, Medium};
        let production = || PRODUCTION;
        let pre = || PRE_PRODUCTION;
        let card = |fields: &[&str]| {
            MeasureEntry::new(Measure::ModelCard {
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            })
        };
        let validation = || {
            MeasureEntry::new(Measure::ValidationEvidence {
                check: default_validation_check(),
                max_age: default_max_age(),
                threshold: None,
            })
        };
        let drift = || {
            MeasureEntry::new(Measure::DriftMonitoring {
                check: default_drift_check(),
                max_age: default_drift_age(),
            })
        };
        let mut m = Self::empty()
            .require(
                Low,
                C::ReproducibilityAndTraceability,
                MeasureEntry::new(Measure::DatasetLineage),
            )
            .require(Low, C::AuditAndDocumentation, card(&["intended_use"]))
            .require(
                Medium,
                C::ReproducibilityAndTraceability,
                MeasureEntry::new(Measure::DatasetLineage),
            )
            .require(
                Medium,
                C::AuditAndDocumentation,
                card(&["intended_use", "limitations"]),
            )
            .require(
                Medium,
                C::HumanInTheLoopSignoff,
                MeasureEntry::at(
                    Measure::Signoffs {
                        count: 1,
                        roles: [Role::model_validator()].into(),
                    },
                    [production()],
                ),
            )
            .require(Medium, C::PreProductionVerification, validation())
            .require(Medium, C::ProductionMonitoring, drift());
        for tier in [High, Critical] {
            m = m
                .require(
                    tier,
                    C::ReproducibilityAndTraceability,
                    MeasureEntry::new(Measure::DatasetLineage),
                )
                .require(
                    tier,
                    C::ReproducibilityAndTraceability,
                    MeasureEntry::new(Measure::CodeReference),
                )
                .require(
                    tier,
                    C::ReproducibilityAndTraceability,
                    MeasureEntry::new(Measure::ColumnLineage),
                )
                .require(
                    tier,
                    C::AuditAndDocumentation,
                    card(&["intended_use", "limitations", "risk_tier", "owner"]),
                )
                .require(
                    tier,
                    C::HumanInTheLoopSignoff,
                    MeasureEntry::new(Measure::Signoffs {
                        count: 2,
                        roles: [Role::model_validator(), Role::risk_officer()].into(),
                    }),
                )
                .require(tier, C::PreProductionVerification, validation())
                .require(
                    tier,
                    C::TransparencyAndExplainability,
                    MeasureEntry::new(Measure::ExplainabilityReport),
                )
                .require(
                    tier,
                    C::BiasAndHarmTesting,
                    MeasureEntry::new(Measure::BiasTest {
                        check: default_bias_check(),
                        max_age: default_max_age(),
                        threshold: None,
                    }),
                )
                .require(
                    tier,
                    C::ProductionDeploymentMode,
                    MeasureEntry::new(Measure::TrialPeriod {
                        period: if tier == Critical {
                            const { Period::from_static_days(14) }
                        } else {
                            const { Period::from_static_days(7) }
                        },
                    }),
                )
                .require(tier, C::ProductionMonitoring, drift())
                .require(
                    tier,
                    C::DataQualityAndCompliance,
                    MeasureEntry::new(Measure::DataQuality {
                        check: default_quality_check(),
                        max_age: default_max_age(),
                    }),
                );
        }
        m.require(
            Critical,
            C::HumanInTheLoopSignoff,
            MeasureEntry::new(Measure::TwoPersonRule),
        )
        .require(
            Critical,
            C::HumanInTheLoopSignoff,
            MeasureEntry::at(
                Measure::AccountableSignoff {
                    task: Task::model_acceptance(),
                },
                [pre()],
            ),
        )
        .require(
            Critical,
            C::HumanInTheLoopSignoff,
            MeasureEntry::at(
                Measure::AccountableSignoff {
                    task: Task::deployments(),
                },
                [production()],
            ),
        )
        .require(
            Critical,
            C::DataQualityAndCompliance,
            MeasureEntry::at(
                Measure::Signoffs {
                    count: 1,
                    roles: [role("compliance-officer")].into(),
                },
                [production()],
            ),
        )
    }

    /// Validates the matrix: every tier present, every measure well-formed.
    ///
    /// # Errors
    /// [`MatrixError::Policy`] with [`PolicyError::MissingTier`]; [`MatrixError::InvalidMeasure`].
    pub fn validate(&self) -> Result<(), MatrixError> {
        for tier in RiskTier::ALL {
            let row = self
                .tiers
                .get(&tier)
                .ok_or(PolicyError::MissingTier { tier })?;
            for entry in row.values().flatten() {
                entry
                    .measure
                    .check()
                    .map_err(|reason| MatrixError::InvalidMeasure {
                        tier,
                        measure: entry.measure.name().to_owned(),
                        reason,
                    })?;
            }
        }
        Ok(())
    }

    /// Parses and validates a JSON matrix: `{"tiers": {"high": {"bias_and_harm_testing":
    /// [{"measure": "bias_test"}]}}}` (every tier must be present).
    ///
    /// # Errors
    /// [`MatrixError::Load`]; [`MatrixError::UnknownMeasure`] for a measure not in the
    /// catalogue; otherwise as [`GovernanceMatrix::validate`].
    pub fn from_json(text: &str) -> Result<Self, MatrixError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| MatrixError::Load(e.into()))?;
        Self::from_value(value, "json")
    }

    /// Parses and validates a TOML matrix (`[[tiers.high.bias_and_harm_testing]]` then
    /// `measure = "bias_test"`).
    ///
    /// # Errors
    /// As [`GovernanceMatrix::from_json`].
    pub fn from_toml(text: &str) -> Result<Self, MatrixError> {
        let value: toml::Value = toml::from_str(text).map_err(|e| MatrixError::Load(e.into()))?;
        let value = serde_json::to_value(value).map_err(|e| MatrixError::Load(toml_shape(&e)))?;
        Self::from_value(value, "toml")
    }

    /// Checks and types a parsed document (`format`: `json` or `toml`, for the error).
    fn from_value(value: serde_json::Value, format: &'static str) -> Result<Self, MatrixError> {
        // Name unknown measures before serde would call them "unknown variant".
        if let Some(tiers) = value.get("tiers").and_then(serde_json::Value::as_object) {
            for (tier, row) in tiers {
                let Ok(tier) = tier.parse::<RiskTier>() else {
                    continue;
                };
                for (consideration, cell) in row.as_object().into_iter().flatten() {
                    for entry in cell.as_array().into_iter().flatten() {
                        let name = entry.get("measure").and_then(serde_json::Value::as_str);
                        if let Some(name) = name
                            && !Measure::NAMES.contains(&name)
                        {
                            return Err(MatrixError::UnknownMeasure {
                                tier,
                                consideration: consideration.clone(),
                                measure: name.to_owned(),
                                known: Measure::NAMES.join(", "),
                            });
                        }
                    }
                }
            }
        }
        let matrix: Self = serde_json::from_value(value).map_err(|e| {
            MatrixError::Load(if format == "toml" {
                toml_shape(&e)
            } else {
                e.into()
            })
        })?;
        matrix.validate()?;
        Ok(matrix)
    }

    /// The matrix as pretty JSON.
    ///
    /// # Errors
    /// [`MatrixError::Load`] if serialization fails.
    pub fn to_json(&self) -> Result<String, MatrixError> {
        serde_json::to_string_pretty(self).map_err(|e| MatrixError::Load(e.into()))
    }

    /// The matrix as TOML.
    ///
    /// # Errors
    /// [`MatrixError::Load`] if serialization fails.
    pub fn to_toml(&self) -> Result<String, MatrixError> {
        toml::to_string(self).map_err(|e| MatrixError::Load(e.into()))
    }

    /// Every guard `tier` faces, with its consideration, measure and state, in the matrix's
    /// order.
    ///
    /// # Errors
    /// [`MatrixError::Raci`] for an accountable sign-off on a task `raci` lacks.
    pub fn guards(&self, tier: RiskTier, raci: &Raci) -> Result<Vec<CompiledGuard>, MatrixError> {
        let mut out = Vec::new();
        for (consideration, entries) in self.tiers.get(&tier).into_iter().flatten() {
            for entry in entries {
                let guard = entry.measure.guard(raci)?;
                for state in entry.states() {
                    out.push(CompiledGuard {
                        consideration: *consideration,
                        measure: entry.measure.name().to_owned(),
                        state,
                        guard: guard.clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Adds the matrix's guards to `spec` (its permissions and enforcement are kept).
    ///
    /// # Errors
    /// As [`GovernanceMatrix::guards`].
    pub fn compile_into(
        &self,
        mut spec: PolicySpec,
        raci: &Raci,
    ) -> Result<PolicySpec, MatrixError> {
        for tier in RiskTier::ALL {
            for g in self.guards(tier, raci)? {
                spec.tiers
                    .entry(tier)
                    .or_default()
                    .entering
                    .entry(g.state)
                    .or_default()
                    .push(g.guard);
            }
        }
        Ok(spec)
    }

    /// Compiles the matrix into a validated policy named `name`, with default permissions and
    /// enforcement everywhere.
    ///
    /// # Errors
    /// As [`GovernanceMatrix::guards`]; [`MatrixError::Policy`] if the compiled policy is
    /// invalid.
    pub fn compile(&self, name: &str, raci: &Raci) -> Result<Policy, MatrixError> {
        self.validate()?;
        Ok(self.compile_into(PolicySpec::new(name), raci)?.validate()?)
    }
}

impl Default for GovernanceMatrix {
    fn default() -> Self {
        Self::default_matrix()
    }
}

/// A shape error found after a TOML document was parsed (it is checked as a JSON value): a
/// TOML error with the checker's message, so the load error names the format the host wrote.
fn toml_shape(e: &serde_json::Error) -> LoadError {
    LoadError::Toml(<toml::de::Error as serde::de::Error>::custom(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::GuardKind;

    #[test]
    fn default_matrix_compiles_and_round_trips() {
        let m = GovernanceMatrix::default_matrix();
        m.validate().unwrap();
        let json = m.to_json().unwrap();
        assert_eq!(GovernanceMatrix::from_json(&json).unwrap(), m);
        let toml = m.to_toml().unwrap();
        assert_eq!(GovernanceMatrix::from_toml(&toml).unwrap(), m);
        let policy = m.compile("default", &Raci::default_raci()).unwrap();
        policy
            .check_against(&crate::lifecycle::Lifecycle::default_lifecycle())
            .unwrap();
        let prod = StateName::new("production").unwrap();
        let kinds =
            |t| -> Vec<GuardKind> { policy.guards(t, &prod).iter().map(Guard::kind).collect() };
        assert_eq!(
            kinds(RiskTier::Low),
            [GuardKind::Documentation, GuardKind::Documentation]
        );
        assert!(kinds(RiskTier::Critical).contains(&GuardKind::TwoPersonRule));
        assert!(!kinds(RiskTier::High).contains(&GuardKind::TwoPersonRule));
    }

    #[test]
    fn defaults_are_valid_names() {
        for c in [
            default_validation_check(),
            default_bias_check(),
            default_drift_check(),
            default_quality_check(),
        ] {
            assert_ne!(c.as_str(), "check");
        }
        assert_eq!(default_max_age().seconds(), 30 * 86_400);
    }

    #[test]
    fn unknown_measure_is_a_typed_error() {
        let text = r#"{"tiers": {"low": {}, "medium": {}, "critical": {},
            "high": {"bias_and_harm_testing": [{"measure": "vibes_check"}]}}}"#;
        let Err(MatrixError::UnknownMeasure {
            tier,
            consideration,
            measure,
            ..
        }) = GovernanceMatrix::from_json(text)
        else {
            panic!("expected an unknown measure");
        };
        assert_eq!(
            (tier, consideration.as_str(), measure.as_str()),
            (RiskTier::High, "bias_and_harm_testing", "vibes_check")
        );
        let toml = "[tiers.low]\n[tiers.medium]\n[tiers.high]\n[tiers.critical]\n[[tiers.critical.production_monitoring]]\nmeasure = \"crystal_ball\"\n";
        assert!(matches!(
            GovernanceMatrix::from_toml(toml),
            Err(MatrixError::UnknownMeasure { measure, .. }) if measure == "crystal_ball"
        ));
    }

    #[test]
    fn ill_formed_matrices_are_typed_errors() {
        let missing = r#"{"tiers": {"low": {}}}"#;
        assert!(matches!(
            GovernanceMatrix::from_json(missing),
            Err(MatrixError::Policy(PolicyError::MissingTier {
                tier: RiskTier::Medium
            }))
        ));
        let zero = r#"{"tiers": {"low": {}, "medium": {}, "critical": {},
            "high": {"human_in_the_loop_signoff": [{"measure": "signoffs", "count": 0, "roles": ["risk-officer"]}]}}}"#;
        assert!(matches!(
            GovernanceMatrix::from_json(zero),
            Err(MatrixError::InvalidMeasure {
                tier: RiskTier::High,
                ..
            })
        ));
        let m = GovernanceMatrix::empty().require(
            RiskTier::High,
            Consideration::HumanInTheLoopSignoff,
            MeasureEntry::new(Measure::AccountableSignoff {
                task: Task::new("astrology").unwrap(),
            }),
        );
        assert!(matches!(
            m.compile("x", &Raci::default_raci()),
            Err(MatrixError::Raci(crate::RaciError::UnknownTask { .. }))
        ));
    }

    #[test]
    fn entries_with_states_compile_there() {
        let m = GovernanceMatrix::from_json(
            r#"{"tiers": {"low": {}, "medium": {}, "high": {}, "critical": {"production_deployment_mode":
                [{"measure": "trial_period", "period": "3d", "at": ["pre_production"]}]}}}"#,
        )
        .unwrap();
        let g = m.guards(RiskTier::Critical, &Raci::default_raci()).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].state.as_str(), "pre_production");
        assert_eq!(g[0].guard, Guard::min_time_in_state("3d".parse().unwrap()));
    }
}
