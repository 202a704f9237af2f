//! Change classification: is a new version within an approved change plan, or a material
//! change?
//!
//! A [`ChangePlan`] is approved together with a baseline version: it says what may change
//! without a new review (fresh snapshots of the same training datasets, the listed tunable
//! parameters) and which training metrics the new version must still reach. [`ChangePlan::assess`]
//! compares a candidate version's immutable core with the baseline's and lists every
//! [`Finding`]; any material finding makes the change [`ChangeClass::Material`].
//!
//! Within plan, the candidate **inherits the baseline's approvals**: [`InheritingPolicy`] wraps
//! the policy engine and, for a candidate granted by [`InheritingPolicy::grant`], counts the
//! sign-offs the baseline received for entering each state as if given on the candidate's
//! request (separation of duties still applies to them; evidence, documentation and time guards
//! are evaluated as usual). Every assessment, within plan or material, is audited
//! (`governance.change.assessed`) with its findings and the inherited approvers. A material change
//! is refused ([`ChangeError::Material`]): the candidate goes through full re-approval.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use mlops_core::{Actor, ActorId, Digest, ModelRef, Subject};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::{StateName, VersionCore};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::approval::{RequestKind, RequestStatus, Vote};
use crate::engine::Governance;
use crate::error::{ChangeError, GovernanceError, PolicyError};
use crate::policy::{Action, GuardInput, PolicyEngine, Signoff, Threshold, Verdict};

/// Whether training data may change within the plan.
///
/// Exhaustive on purpose: a plan must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataPolicy {
    /// The datasets must be identical (same names, roles and digests).
    #[default]
    Frozen,
    /// The same datasets (names and roles) may have new snapshots (new digests): a retrain.
    NewSnapshots,
}

/// An approved change plan for a baseline version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePlan {
    /// The plan's name, such as `monthly-retrain`.
    pub name: String,
    /// The approved version the plan is about.
    pub baseline: ModelRef,
    /// Whether training data may change.
    #[serde(default)]
    pub data: DataPolicy,
    /// Parameters that may take new values.
    #[serde(default)]
    pub tunable_params: BTreeSet<String>,
    /// Training metrics the candidate must reach.
    #[serde(default)]
    pub metric_bounds: BTreeMap<String, Threshold>,
}

impl ChangePlan {
    /// A plan for `baseline` allowing nothing to change (add allowances with the builders).
    #[must_use]
    pub fn new(name: impl Into<String>, baseline: ModelRef) -> Self {
        Self {
            name: name.into(),
            baseline,
            data: DataPolicy::Frozen,
            tunable_params: BTreeSet::new(),
            metric_bounds: BTreeMap::new(),
        }
    }

    /// Allows new snapshots of the same datasets.
    #[must_use]
    pub fn retrain_on_new_data(mut self) -> Self {
        self.data = DataPolicy::NewSnapshots;
        self
    }

    /// Allows `param` to take a new value.
    #[must_use]
    pub fn tunable(mut self, param: impl Into<String>) -> Self {
        self.tunable_params.insert(param.into());
        self
    }

    /// Requires training metric `metric` to pass `bound`.
    #[must_use]
    pub fn bound(mut self, metric: impl Into<String>, bound: Threshold) -> Self {
        self.metric_bounds.insert(metric.into(), bound);
        self
    }

    /// Parses a JSON plan.
    ///
    /// # Errors
    /// [`ChangeError::Load`].
    pub fn from_json(text: &str) -> Result<Self, ChangeError> {
        serde_json::from_str(text).map_err(|e| ChangeError::Load(e.into()))
    }

    /// Compares `candidate` (with its core) against the baseline's core.
    #[must_use]
    pub fn assess(
        &self,
        baseline: &VersionCore,
        candidate: &ModelRef,
        core: &VersionCore,
    ) -> ChangeAssessment {
        let mut findings = Vec::new();
        let mut add = |change: Change, material: bool| findings.push(Finding { change, material });
        if candidate.name() != self.baseline.name()
            || candidate.version() <= self.baseline.version()
        {
            add(
                Change::NotASuccessor {
                    candidate: candidate.clone(),
                },
                true,
            );
        }
        let (old, new) = (baseline.lineage(), core.lineage());
        // Code.
        let code = |c: &Option<mlops_registry::model::CodeRef>| {
            c.as_ref().map(|c| format!("{}@{}", c.repository, c.commit))
        };
        if old.code != new.code {
            add(
                Change::CodeChanged {
                    from: code(&old.code),
                    to: code(&new.code),
                },
                true,
            );
        }
        // Parameters.
        let names: BTreeSet<&String> = old.params.keys().chain(new.params.keys()).collect();
        for name in names {
            let (from, to) = (old.params.get(name), new.params.get(name));
            if from != to {
                let within = from.is_some() && to.is_some() && self.tunable_params.contains(name);
                add(
                    Change::ParamChanged {
                        name: name.clone(),
                        from: from.cloned(),
                        to: to.cloned(),
                    },
                    !within,
                );
            }
        }
        // Datasets: by (name, role).
        let key = |d: &mlops_registry::model::DatasetRef| format!("{} ({:?})", d.name, d.role);
        let old_sets: BTreeMap<String, Digest> =
            old.datasets.iter().map(|d| (key(d), d.digest)).collect();
        let new_sets: BTreeMap<String, Digest> =
            new.datasets.iter().map(|d| (key(d), d.digest)).collect();
        let added: Vec<String> = new_sets
            .keys()
            .filter(|k| !old_sets.contains_key(*k))
            .cloned()
            .collect();
        let removed: Vec<String> = old_sets
            .keys()
            .filter(|k| !new_sets.contains_key(*k))
            .cloned()
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            add(Change::DatasetsChanged { added, removed }, true);
        }
        for (k, d) in &new_sets {
            if let Some(before) = old_sets.get(k)
                && before != d
            {
                add(
                    Change::DataRefreshed {
                        dataset: k.clone(),
                        from: *before,
                        to: *d,
                    },
                    self.data == DataPolicy::Frozen,
                );
            }
        }
        // Artifacts: by name (new digests are expected for any retrain).
        let old_art: BTreeSet<&str> = baseline
            .artifacts()
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        let new_art: BTreeSet<&str> = core.artifacts().iter().map(|a| a.name.as_str()).collect();
        if old_art != new_art {
            add(
                Change::ArtifactsChanged {
                    added: new_art
                        .difference(&old_art)
                        .map(|s| (*s).to_owned())
                        .collect(),
                    removed: old_art
                        .difference(&new_art)
                        .map(|s| (*s).to_owned())
                        .collect(),
                },
                true,
            );
        }
        // Metric bounds.
        for (metric, bound) in &self.metric_bounds {
            let value = new.metrics.get(metric).copied();
            if !value.is_some_and(|v| bound.direction.passes(v, bound.value)) {
                add(
                    Change::MetricOutOfBounds {
                        metric: metric.clone(),
                        value,
                        bound: *bound,
                    },
                    true,
                );
            }
        }
        let class = if findings.iter().any(|f| f.material) {
            ChangeClass::Material
        } else {
            ChangeClass::WithinPlan
        };
        ChangeAssessment {
            plan: self.name.clone(),
            baseline: self.baseline.clone(),
            candidate: candidate.clone(),
            class,
            findings,
        }
    }
}

/// One difference between the candidate and the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// The candidate is not a later version of the baseline's model.
    NotASuccessor {
        /// The candidate.
        candidate: ModelRef,
    },
    /// The code reference changed.
    CodeChanged {
        /// Before (`repository@commit`).
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
    /// A parameter was added, removed or changed.
    ParamChanged {
        /// The parameter.
        name: String,
        /// Before.
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
    /// Datasets were added or removed (by name and role).
    DatasetsChanged {
        /// Added datasets.
        added: Vec<String>,
        /// Removed datasets.
        removed: Vec<String>,
    },
    /// A dataset has a new snapshot.
    DataRefreshed {
        /// The dataset (name and role).
        dataset: String,
        /// Its digest before.
        from: Digest,
        /// After.
        to: Digest,
    },
    /// Artifacts were added or removed (by name).
    ArtifactsChanged {
        /// Added.
        added: Vec<String>,
        /// Removed.
        removed: Vec<String>,
    },
    /// A training metric misses its bound (or is absent).
    MetricOutOfBounds {
        /// The metric.
        metric: String,
        /// Its value, if present.
        value: Option<f64>,
        /// The bound.
        bound: Threshold,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
        match self {
            Self::NotASuccessor { candidate } => write!(
                f,
                "`{candidate}` is not a later version of the baseline's model"
            ),
            Self::CodeChanged { from, to } => {
                write!(f, "code changed from `{}` to `{}`", opt(from), opt(to))
            }
            Self::ParamChanged { name, from, to } => {
                write!(
                    f,
                    "parameter `{name}` changed from `{}` to `{}`",
                    opt(from),
                    opt(to)
                )
            }
            Self::DatasetsChanged { added, removed } => {
                write!(
                    f,
                    "datasets added [{}], removed [{}]",
                    added.join(", "),
                    removed.join(", ")
                )
            }
            Self::DataRefreshed { dataset, .. } => {
                write!(f, "dataset `{dataset}` has a new snapshot")
            }
            Self::ArtifactsChanged { added, removed } => {
                write!(
                    f,
                    "artifacts added [{}], removed [{}]",
                    added.join(", "),
                    removed.join(", ")
                )
            }
            Self::MetricOutOfBounds {
                metric,
                value,
                bound,
            } => write!(
                f,
                "metric `{metric}` = {} misses {} {}",
                value.map_or_else(|| "absent".to_owned(), |v| v.to_string()),
                bound.direction.symbol(),
                bound.value
            ),
        }
    }
}

/// A finding and whether it is material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
    /// Whether it takes the candidate outside the plan.
    pub material: bool,
}

/// Within the plan or not.
///
/// Exhaustive on purpose: a caller must handle both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// Every difference is allowed by the plan: the baseline's approvals carry over.
    WithinPlan,
    /// Some difference is not: full re-approval.
    Material,
}

/// The result of comparing a candidate with a plan's baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeAssessment {
    /// The plan's name.
    pub plan: String,
    /// The baseline.
    pub baseline: ModelRef,
    /// The candidate.
    pub candidate: ModelRef,
    /// The class.
    pub class: ChangeClass,
    /// Every difference found.
    pub findings: Vec<Finding>,
}

impl ChangeAssessment {
    /// The material findings, as sentences.
    #[must_use]
    pub fn material(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.material)
            .map(|f| f.change.to_string())
            .collect()
    }
}

/// Approvals a candidate inherits from its baseline: the baseline's sign-offs per state entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inheritance {
    /// The plan.
    pub plan: String,
    /// The baseline whose approvals carry over.
    pub baseline: ModelRef,
    /// The sign-offs per state the baseline entered with them.
    pub signoffs: BTreeMap<StateName, Vec<Signoff>>,
}

/// A policy engine that lets versions granted a within-plan change inherit their baseline's
/// sign-offs; everything else is decided by the wrapped engine. Its identity is the wrapped
/// engine's (the rules do not change; the grants are audited).
pub struct InheritingPolicy {
    inner: Arc<dyn PolicyEngine>,
    grants: RwLock<BTreeMap<ModelRef, Inheritance>>,
}

impl fmt::Debug for InheritingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InheritingPolicy")
            .field("inner", &self.inner)
            .field("grants", &self.grants.read().len())
            .finish()
    }
}

impl InheritingPolicy {
    /// Wraps `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn PolicyEngine>) -> Self {
        Self {
            inner,
            grants: RwLock::new(BTreeMap::new()),
        }
    }

    /// The inheritance granted to `candidate`, if any.
    #[must_use]
    pub fn inheritance(&self, candidate: &ModelRef) -> Option<Inheritance> {
        self.grants.read().get(candidate).cloned()
    }

    /// Withdraws `candidate`'s inheritance (for example when the plan is revoked); returns it.
    pub fn revoke(&self, candidate: &ModelRef) -> Option<Inheritance> {
        self.grants.write().remove(candidate)
    }

    /// Assesses `candidate` against `plan` through `gov`'s store and audits the assessment as
    /// `actor`. Within plan, grants the candidate the sign-offs its baseline received (from the
    /// fulfilled approval requests in the audit log) and returns them; a material change is
    /// refused.
    ///
    /// # Errors
    /// [`ChangeError::Material`] (audited); [`ChangeError::Governance`] for an unknown actor,
    /// version or a store failure.
    pub fn grant(
        &self,
        gov: &Governance,
        plan: &ChangePlan,
        candidate: &ModelRef,
        actor: &ActorId,
    ) -> Result<Inheritance, ChangeError> {
        let who: Actor = gov.actor(actor)?;
        let store = gov.store();
        let baseline = store
            .get_version(&plan.baseline)
            .map_err(GovernanceError::from)?;
        let new = store
            .get_version(candidate)
            .map_err(GovernanceError::from)?;
        let assessment = plan.assess(baseline.core(), candidate, new.core());
        let mut signoffs: BTreeMap<StateName, Vec<Signoff>> = BTreeMap::new();
        if assessment.class == ChangeClass::WithinPlan {
            // The baseline's fulfilled requests, as the store holds them (not the log).
            let baseline_model = store
                .get_model(plan.baseline.name())
                .map_err(GovernanceError::from)?;
            for r in crate::approval::ApprovalBook::of_model(&baseline_model)
                .map_err(GovernanceError::from)?
                .iter()
            {
                if r.version == plan.baseline
                    && r.kind == RequestKind::Transition
                    && r.status == RequestStatus::Fulfilled
                {
                    signoffs.entry(r.to.clone()).or_default().extend(
                        r.decisions
                            .iter()
                            .filter(|d| d.vote == Vote::Approve)
                            .map(|d| d.signoff.clone()),
                    );
                }
            }
        }
        let inherited: BTreeMap<&str, Vec<&str>> = signoffs
            .iter()
            .map(|(s, v)| (s.as_str(), v.iter().map(|x| x.actor.as_str()).collect()))
            .collect();
        let draft = AuditDraft::new(
            gov.clock().now(),
            who,
            AuditAction::CHANGE_ASSESSED,
            Subject::Version {
                version: candidate.clone(),
            },
        )
        .with_details(json!({
            "plan": plan.name,
            "baseline": plan.baseline.to_string(),
            "class": assessment.class,
            "findings": assessment.findings,
            "inherited": inherited,
        }));
        gov.append_governed(vec![draft])?;
        if assessment.class == ChangeClass::Material {
            tracing::info!(candidate = %candidate, plan = %plan.name, "material change: full re-approval");
            return Err(ChangeError::Material {
                candidate: candidate.clone(),
                baseline: plan.baseline.clone(),
                findings: assessment.material(),
            });
        }
        let inheritance = Inheritance {
            plan: plan.name.clone(),
            baseline: plan.baseline.clone(),
            signoffs,
        };
        self.grants
            .write()
            .insert(candidate.clone(), inheritance.clone());
        tracing::info!(candidate = %candidate, plan = %plan.name, "within plan: approvals inherited");
        Ok(inheritance)
    }
}

impl PolicyEngine for InheritingPolicy {
    fn identity(&self) -> Digest {
        self.inner.identity()
    }

    fn evaluate(&self, input: &GuardInput<'_>) -> Result<Verdict, PolicyError> {
        let grants = self.grants.read();
        let inherited = grants
            .get(input.version)
            .and_then(|g| g.signoffs.get(&input.to.name));
        match inherited {
            Some(extra) if !extra.is_empty() => {
                let mut merged: Vec<Signoff> = input.signoffs.to_vec();
                merged.extend(extra.iter().cloned());
                self.inner.evaluate(&GuardInput {
                    signoffs: &merged,
                    ..*input
                })
            }
            _ => self.inner.evaluate(input),
        }
    }

    fn authorize(
        &self,
        actor: &Actor,
        action: Action,
        input: Option<&GuardInput<'_>>,
    ) -> Result<(), crate::error::AuthorizationError> {
        self.inner.authorize(actor, action, input)
    }
}
