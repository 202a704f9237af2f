//! Model cards generated from what the system already knows.
//!
//! A [`ModelCard`] for one version is built from the registry (the model's owner and risk tier,
//! the version's state, artifacts with digests, lineage: datasets with digests, code, parameters,
//! training metrics, parent), from the audit log (approval requests with every decision and its
//! actor, the version's lifecycle history) and from what the host supplies in [`CardInputs`]
//! (intended use, known limitations, evidence such as validation, drift and per-segment fairness
//! checks, and any other field). Version tags named `card.<field>` are host-filled fields too
//! (the inputs win).
//!
//! It renders as Markdown ([`ModelCard::to_markdown`]) and JSON ([`ModelCard::to_json`]), and
//! flattens into the fields the documentation guard checks ([`ModelCard::fields`],
//! [`ModelCard::missing`], [`ModelCard::into_context`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use mlops_core::{ActorId, AliasName, Evidence, ModelRef, RiskTier, Role};
use mlops_registry::model::{ArtifactRef, CodeRef, DatasetRef, StateName};
use mlops_registry::store::ModelStore;
use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalId, RequestKind, RequestStatus, Vote};
use crate::audit::{AuditLog, AuditLogExt, history};
use crate::engine::PlanContext;
use crate::error::ReportError;
use crate::report::evidence_about;

/// What the host adds to a card: the fields the system cannot know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardInputs {
    /// What the model is for, and for whom.
    #[serde(default)]
    pub intended_use: String,
    /// Known limitations (populations, conditions, failure modes).
    #[serde(default)]
    pub limitations: String,
    /// Evidence about the version or its model (validation, drift, fairness per segment).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Any other field (such as `explainability` or `lineage.columns`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

impl CardInputs {
    /// Sets the intended use.
    #[must_use]
    pub fn intended_use(mut self, text: impl Into<String>) -> Self {
        self.intended_use = text.into();
        self
    }

    /// Sets the known limitations.
    #[must_use]
    pub fn limitations(mut self, text: impl Into<String>) -> Self {
        self.limitations = text.into();
        self
    }

    /// Adds evidence.
    #[must_use]
    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Sets another field.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }
}

/// Where the version came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardLineage {
    /// Datasets with their digests.
    pub datasets: Vec<DatasetRef>,
    /// The code.
    pub code: Option<CodeRef>,
    /// Training parameters.
    pub params: BTreeMap<String, String>,
    /// The parent version.
    pub parent: Option<ModelRef>,
    /// The training run.
    pub run_id: Option<String>,
}

/// One decision on an approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDecision {
    /// Who.
    pub actor: ActorId,
    /// Their roles when deciding.
    pub roles: Vec<Role>,
    /// Approve or reject.
    pub vote: Vote,
    /// Why.
    pub comment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One approval request about the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardApproval {
    /// The request.
    pub id: ApprovalId,
    /// A transition's sign-offs, or a post-hoc review of an override.
    pub kind: RequestKind,
    /// The state left.
    pub from: StateName,
    /// The state entered.
    pub to: StateName,
    /// Who asked.
    pub requested_by: ActorId,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Every decision.
    pub decisions: Vec<CardDecision>,
}

/// One event in the version's history (from the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardEvent {
    /// The audit record's sequence number.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The audit action, such as `governance.transition.applied`.
    pub action: String,
    /// Who.
    pub actor: ActorId,
    /// The state before, if the record names one.
    pub from: Option<StateName>,
    /// The state after, if the record names one.
    pub to: Option<StateName>,
    /// The justification, for overrides and comments.
    pub justification: Option<String>,
    /// The evidence a transition's decision saw (`check = value (outcome)`), for transitions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relied_on: Vec<String>,
}

/// A model card for one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The version.
    pub version: ModelRef,
    /// The model's description.
    pub description: String,
    /// The model's owner.
    pub owner: ActorId,
    /// The model's risk tier.
    pub risk_tier: RiskTier,
    /// The version's lifecycle state.
    pub state: StateName,
    /// Whether it is the champion.
    pub champion: bool,
    /// Who registered it.
    pub created_by: ActorId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// What it is for (host-filled).
    pub intended_use: String,
    /// Known limitations (host-filled).
    pub limitations: String,
    /// Artifacts with digests.
    pub artifacts: Vec<ArtifactRef>,
    /// Where it came from.
    pub lineage: CardLineage,
    /// Training-time metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Evidence about it (validation, drift, fairness per segment).
    pub evidence: Vec<Evidence>,
    /// Approval requests with every decision.
    pub approvals: Vec<CardApproval>,
    /// Its lifecycle history.
    pub history: Vec<CardEvent>,
    /// Other host-filled fields.
    pub extra: BTreeMap<String, String>,
}

/// The evidence a transition record lists (`details.evidence`), as `check = value (outcome)`.
fn relied_on(details: &serde_json::Value) -> Vec<String> {
    details
        .get("evidence")
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|e| {
                    Some(format!(
                        "{} = {} ({})",
                        e.get("check")?.as_str()?,
                        e.get("value")?,
                        e.get("outcome")?.as_str()?
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ModelCard {
    /// Builds the card of `version` from the store, the audit log and the host's inputs.
    ///
    /// # Errors
    /// [`ReportError::Registry`] for an unknown model or version or a store failure;
    /// [`ReportError::Audit`] if the log cannot be read.
    pub fn build(
        store: &dyn ModelStore,
        log: &dyn AuditLog,
        version: &ModelRef,
        inputs: &CardInputs,
    ) -> Result<Self, ReportError> {
        let agg = store.get_model(version.name())?;
        let v = store.get_version(version)?;
        let core = v.core();
        let lineage = core.lineage();
        let mut extra: BTreeMap<String, String> = v
            .annotations()
            .tags
            .iter()
            .filter_map(|(k, val)| {
                k.strip_prefix("card.")
                    .map(|f| (f.to_owned(), val.to_owned()))
            })
            .collect();
        extra.extend(
            inputs
                .fields
                .iter()
                .map(|(k, val)| (k.clone(), val.clone())),
        );
        let pick = |name: &str, given: &str| -> String {
            if given.trim().is_empty() {
                extra.get(name).cloned().unwrap_or_default()
            } else {
                given.to_owned()
            }
        };
        let intended_use = pick("intended_use", &inputs.intended_use);
        let limitations = pick("limitations", &inputs.limitations);
        extra.remove("intended_use");
        extra.remove("limitations");
        let approvals = log
            .approval_snapshots()?
            .into_iter()
            .filter(|r| &r.version == version)
            .map(|r| CardApproval {
                id: r.id,
                kind: r.kind,
                from: r.from,
                to: r.to,
                requested_by: r.requested_by,
                status: r.status,
                opened_at: r.opened_at,
                closed_at: r.closed_at,
                decisions: r
                    .decisions
                    .into_iter()
                    .map(|d| CardDecision {
                        actor: d.signoff.actor,
                        roles: d.signoff.roles.into_iter().collect(),
                        vote: d.vote,
                        comment: d.comment,
                        at: d.signoff.at,
                    })
                    .collect(),
            })
            .collect();
        let history = history(log, version)?
            .into_iter()
            .map(|r| CardEvent {
                seq: r.seq,
                at: r.draft.at,
                action: r.draft.action.as_str().to_owned(),
                actor: r.draft.actor.id,
                from: r.draft.state_before,
                to: r.draft.state_after,
                relied_on: relied_on(&r.draft.details),
                justification: r.draft.justification,
            })
            .collect();
        // The evidence recorded in the store for the version, then what the caller brings.
        let mut evidence = crate::engine::recorded_evidence_of(&agg, version.version());
        evidence.extend(
            inputs
                .evidence
                .iter()
                .filter(|e| evidence_about(e, version))
                .cloned(),
        );
        evidence.sort_by(|a, b| {
            a.check
                .cmp(&b.check)
                .then(a.measured_at.cmp(&b.measured_at))
        });
        Ok(Self {
            version: version.clone(),
            description: if v.annotations().description.is_empty() {
                agg.model().description.clone()
            } else {
                v.annotations().description.clone()
            },
            owner: agg.model().owner.clone(),
            risk_tier: agg.model().risk_tier,
            state: v.state().clone(),
            champion: agg.alias(&AliasName::champion()) == Some(version.version()),
            created_by: core.created_by().id.clone(),
            created_at: core.created_at(),
            intended_use,
            limitations,
            artifacts: core.artifacts().to_vec(),
            lineage: CardLineage {
                datasets: lineage.datasets.clone(),
                code: lineage.code.clone(),
                params: lineage.params.clone(),
                parent: lineage.parent.clone(),
                run_id: lineage.run_id.clone(),
            },
            metrics: lineage.metrics.clone(),
            evidence,
            approvals,
            history,
            extra,
        })
    }

    /// The card as flat fields, as the documentation guard reads them: `intended_use`,
    /// `limitations`, `risk_tier`, `owner`, `state`, `artifacts`, `lineage.datasets` (name, role
    /// and digest of each), `lineage.code`, `lineage.params`, `lineage.parent`, `metrics`,
    /// `evidence`, `approvals`, and every extra field. Empty values are left out, so that a
    /// guard requiring them fails.
    #[must_use]
    pub fn fields(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            if !v.trim().is_empty() {
                out.insert(k.to_owned(), v);
            }
        };
        put("intended_use", self.intended_use.clone());
        put("limitations", self.limitations.clone());
        put("risk_tier", self.risk_tier.to_string());
        put("owner", self.owner.to_string());
        put("state", self.state.to_string());
        put(
            "artifacts",
            self.artifacts
                .iter()
                .map(|a| format!("{} {}", a.name, a.digest))
                .collect::<Vec<_>>()
                .join("; "),
        );
        put(
            "lineage.datasets",
            self.lineage
                .datasets
                .iter()
                .map(|d| format!("{} ({:?}) {}", d.name, d.role, d.digest))
                .collect::<Vec<_>>()
                .join("; "),
        );
        put(
            "lineage.code",
            self.lineage
                .code
                .as_ref()
                .map(code_text)
                .unwrap_or_default(),
        );
        put(
            "lineage.params",
            self.lineage
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        put(
            "lineage.parent",
            self.lineage
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        put(
            "metrics",
            self.metrics
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        put(
            "evidence",
            self.evidence
                .iter()
                .map(|e| format!("{}={}", e.check, e.value))
                .collect::<Vec<_>>()
                .join(", "),
        );
        put(
            "approvals",
            self.approvals
                .iter()
                .flat_map(|a| {
                    a.decisions
                        .iter()
                        .map(move |d| format!("{} {:?} {}", a.to, d.vote, d.actor))
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
        for (k, v) in &self.extra {
            put(k, v.clone());
        }
        out
    }

    /// The required fields the card lacks (empty or absent), in the order given.
    #[must_use]
    pub fn missing<S: AsRef<str>>(&self, required: &[S]) -> Vec<String> {
        let fields = self.fields();
        required
            .iter()
            .map(AsRef::as_ref)
            .filter(|f| !fields.contains_key(*f))
            .map(str::to_owned)
            .collect()
    }

    /// Whether the card has every `required` field.
    #[must_use]
    pub fn is_complete<S: AsRef<str>>(&self, required: &[S]) -> bool {
        self.missing(required).is_empty()
    }

    /// Adds the card's fields to `context` (fields already there win), so that the documentation
    /// guard checks them.
    #[must_use]
    pub fn into_context(&self, mut context: PlanContext) -> PlanContext {
        for (k, v) in self.fields() {
            context.card.entry(k).or_insert(v);
        }
        context
    }

    /// The card as pretty JSON.
    ///
    /// # Errors
    /// [`ReportError::Render`] if serialization fails.
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(|e| ReportError::Render {
            reason: e.to_string(),
        })
    }

    /// The card as Markdown.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let or_dash = |t: &str| {
            if t.trim().is_empty() {
                "—".to_owned()
            } else {
                t.to_owned()
            }
        };
        let _ = writeln!(s, "# Model card: {}\n", self.version);
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(s, "| risk tier | {} |", self.risk_tier);
        let _ = writeln!(
            s,
            "| state | {}{} |",
            self.state,
            if self.champion { " (champion)" } else { "" }
        );
        let _ = writeln!(s, "| owner | {} |", self.owner);
        let _ = writeln!(
            s,
            "| registered | {} by {} |",
            self.created_at.to_rfc3339(),
            self.created_by
        );
        let _ = writeln!(s, "| description | {} |\n", or_dash(&self.description));
        let _ = writeln!(s, "## Intended use\n\n{}\n", or_dash(&self.intended_use));
        let _ = writeln!(
            s,
            "## Known limitations\n\n{}\n",
            or_dash(&self.limitations)
        );
        let _ = writeln!(s, "## Lineage\n");
        for a in &self.artifacts {
            let _ = writeln!(
                s,
                "- artifact `{}`: {} ({} bytes)",
                a.name, a.digest, a.size_bytes
            );
        }
        for d in &self.lineage.datasets {
            let _ = writeln!(
                s,
                "- dataset `{}` ({:?}): {} at {}",
                d.name, d.role, d.digest, d.uri
            );
        }
        if let Some(c) = &self.lineage.code {
            let _ = writeln!(s, "- code: {}", code_text(c));
        }
        for (k, v) in &self.lineage.params {
            let _ = writeln!(s, "- param `{k}` = {v}");
        }
        if let Some(p) = &self.lineage.parent {
            let _ = writeln!(s, "- parent: {p}");
        }
        if let Some(r) = &self.lineage.run_id {
            let _ = writeln!(s, "- run: {r}");
        }
        let _ = writeln!(s, "\n## Metrics and evidence\n");
        for (k, v) in &self.metrics {
            let _ = writeln!(s, "- training `{k}` = {v}");
        }
        for e in &self.evidence {
            let _ = writeln!(
                s,
                "- `{}` on {}: {} {} {} → {:?} (measured {})",
                e.check,
                e.subject,
                e.value,
                e.direction.symbol(),
                e.threshold,
                e.outcome,
                e.measured_at.to_rfc3339()
            );
        }
        let _ = writeln!(s, "\n## Approvals\n");
        if self.approvals.is_empty() {
            let _ = writeln!(s, "none");
        }
        for a in &self.approvals {
            let _ = writeln!(
                s,
                "- {} {:?} `{}` → `{}` requested by {}: {:?}",
                a.id, a.kind, a.from, a.to, a.requested_by, a.status
            );
            for d in &a.decisions {
                let roles: Vec<&str> = d.roles.iter().map(Role::as_str).collect();
                let _ = writeln!(
                    s,
                    "  - {:?} by {} [{}] at {}: {}",
                    d.vote,
                    d.actor,
                    roles.join(", "),
                    d.at.to_rfc3339(),
                    d.comment
                );
            }
        }
        let _ = writeln!(s, "\n## Lifecycle history\n");
        for h in &self.history {
            let states = match (&h.from, &h.to) {
                (Some(f), Some(t)) => format!(" `{f}` → `{t}`"),
                (None, Some(t)) => format!(" → `{t}`"),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "- #{} {} {} by {}{}{}",
                h.seq,
                h.at.to_rfc3339(),
                h.action,
                h.actor,
                states,
                h.justification
                    .as_ref()
                    .map(|j| format!(" — {j}"))
                    .unwrap_or_default()
            );
            if !h.relied_on.is_empty() {
                let _ = writeln!(s, "  - relied on: {}", h.relied_on.join("; "));
            }
        }
        if !self.extra.is_empty() {
            let _ = writeln!(s, "\n## Other\n");
            for (k, v) in &self.extra {
                let _ = writeln!(s, "- {k}: {v}");
            }
        }
        s
    }
}

fn code_text(c: &CodeRef) -> String {
    match &c.path {
        Some(p) => format!("{}@{}:{p}", c.repository, c.commit),
        None => format!("{}@{}", c.repository, c.commit),
    }
}
