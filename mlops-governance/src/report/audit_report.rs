//! The auditor's report for a period: production spells, transitions with their requesters and
//! approvers, overrides and their reviews, risk-tier changes, and the chain's verification.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use mlops_core::{ActorId, ModelName, ModelRef, RiskTier, Subject};
use mlops_registry::audit::AuditAction;
use mlops_registry::model::StateName;
use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalId, RequestKind, RequestStatus, Vote};
use crate::audit::{AuditLog, AuditLogExt};
use crate::error::{AuditError, ReportError};
use crate::policy::Decision;

use super::sources::{approvers_of, render_json, snapshots, verdict_of, version_of};
use super::{ReportScope, ReportingPeriod};

/// The audit chain's verification result.
///
/// Exhaustive on purpose: the chain verifies or it is broken, and an auditor must handle both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    /// Every record verifies up to the head.
    Verified {
        /// The head's sequence number (0: empty log).
        head_seq: u64,
        /// The head's hash.
        head_hash: String,
    },
    /// The chain is broken.
    Broken {
        /// The first bad record.
        first_bad_seq: u64,
        /// Why.
        reason: String,
    },
}

/// Sign-offs a version inherited from its baseline under an approved change plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritedApprovals {
    /// The change plan.
    pub plan: String,
    /// The baseline whose sign-offs carried over.
    pub baseline: String,
    /// The baseline's approvers for the same state.
    pub approvers: Vec<ActorId>,
}

/// A time a version spent in production that overlaps the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionSpell {
    /// The version.
    pub version: ModelRef,
    /// The state.
    pub state: StateName,
    /// When it entered.
    pub entered_at: DateTime<Utc>,
    /// When it left, if it did.
    pub left_at: Option<DateTime<Utc>>,
    /// Who requested the entry.
    pub requested_by: ActorId,
    /// Who signed off on the entry.
    pub approved_by: Vec<ActorId>,
    /// Whether the entry was a break-glass override.
    pub overridden: bool,
    /// Sign-offs inherited under a change plan, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<InheritedApprovals>,
}

/// How a transition was applied.
///
/// Exhaustive on purpose: an auditor distinguishes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HowApplied {
    /// Every guard was met.
    Allowed,
    /// Denied, but not enforced in that environment.
    Unenforced,
    /// A break-glass override.
    Overridden,
}

/// One committed transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionEntry {
    /// The audit record.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The version.
    pub version: ModelRef,
    /// From.
    pub from: Option<StateName>,
    /// To.
    pub to: Option<StateName>,
    /// Who requested it.
    pub requested_by: ActorId,
    /// Who signed off.
    pub approved_by: Vec<ActorId>,
    /// How it was applied.
    pub applied: HowApplied,
    /// Sign-offs inherited under a change plan, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<InheritedApprovals>,
    /// The policy that decided (content hash).
    pub policy: String,
}

/// A reviewer's decision on an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// Who.
    pub reviewer: ActorId,
    /// Approve or reject.
    pub vote: Vote,
    /// Why.
    pub comment: String,
}

/// The post-hoc review of an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewOutcome {
    /// The review request, if one was found.
    pub request: Option<ApprovalId>,
    /// Its status (`None` when no review was found).
    pub status: Option<RequestStatus>,
    /// The decisions.
    pub decisions: Vec<ReviewDecision>,
}

/// A break-glass override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideEntry {
    /// The audit record.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The version.
    pub version: ModelRef,
    /// From.
    pub from: Option<StateName>,
    /// To.
    pub to: Option<StateName>,
    /// Who overrode.
    pub actor: ActorId,
    /// Their justification.
    pub justification: String,
    /// The review's outcome.
    pub review: ReviewOutcome,
}

/// A change of a model's risk tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierChangeEntry {
    /// The audit record.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The model.
    pub model: ModelName,
    /// Before.
    pub from: Option<RiskTier>,
    /// After.
    pub to: Option<RiskTier>,
    /// Who.
    pub actor: ActorId,
}

/// An auditor's report for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The period.
    pub period: ReportingPeriod,
    /// The chain's verification result (of the whole log, at generation).
    pub chain: ChainStatus,
    /// Every version in production at some time in the period.
    pub in_production: Vec<ProductionSpell>,
    /// Every transition committed in the period.
    pub transitions: Vec<TransitionEntry>,
    /// Every override in the period.
    pub overrides: Vec<OverrideEntry>,
    /// Every risk-tier change in the period.
    pub tier_changes: Vec<TierChangeEntry>,
    /// How many transitions were denied in the period.
    pub denials: usize,
}

fn chain_status(log: &dyn AuditLog) -> Result<ChainStatus, ReportError> {
    match log.verify() {
        Ok(cp) => Ok(ChainStatus::Verified {
            head_seq: cp.seq,
            head_hash: cp.head.to_string(),
        }),
        Err(AuditError::Broken(b)) => Ok(ChainStatus::Broken {
            first_bad_seq: b.seq,
            reason: b.to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}

impl AuditReport {
    /// Builds the report for `period` from the audit log (every record, so that versions which
    /// entered production before the period are included) with `scope`'s production states.
    ///
    /// # Errors
    /// [`ReportError::Audit`] if the log cannot be read. A broken chain is not an error: it is
    /// reported in [`AuditReport::chain`].
    pub fn build(
        log: &dyn AuditLog,
        period: ReportingPeriod,
        scope: &ReportScope,
    ) -> Result<Self, ReportError> {
        let chain = chain_status(log)?;
        let records = log.read_all()?;
        let requests = snapshots(log)?;
        let mut spells: Vec<ProductionSpell> = Vec::new();
        let mut open: BTreeMap<ModelRef, usize> = BTreeMap::new();
        let mut transitions = Vec::new();
        let mut overrides = Vec::new();
        let mut tier_changes = Vec::new();
        let mut denials = 0;
        let mut plans: BTreeMap<ModelRef, (String, String, serde_json::Value)> = BTreeMap::new();
        for r in &records {
            let action = &r.draft.action;
            let in_period = period.contains(r.draft.at);
            if *action == AuditAction::CHANGE_ASSESSED {
                let d = &r.draft.details;
                if let Some(v) = version_of(r)
                    && d.get("class").and_then(serde_json::Value::as_str) == Some("within_plan")
                {
                    let text = |k: &str| {
                        d.get(k)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    plans.insert(
                        v.clone(),
                        (
                            text("plan"),
                            text("baseline"),
                            d.get("inherited").cloned().unwrap_or_default(),
                        ),
                    );
                }
                continue;
            }
            if *action == AuditAction::RISK_TIER_CHANGED && in_period {
                if let Subject::Model { model } = &r.draft.subject {
                    let tier = |k: &str| {
                        r.draft
                            .details
                            .get(k)
                            .and_then(|t| serde_json::from_value::<RiskTier>(t.clone()).ok())
                    };
                    tier_changes.push(TierChangeEntry {
                        seq: r.seq,
                        at: r.draft.at,
                        model: model.clone(),
                        from: tier("from"),
                        to: tier("to"),
                        actor: r.draft.actor.id.clone(),
                    });
                }
                continue;
            }
            if *action == AuditAction::TRANSITION_DENIED {
                denials += usize::from(in_period);
                continue;
            }
            let overridden = *action == AuditAction::TRANSITION_OVERRIDDEN;
            let applied = overridden || *action == AuditAction::TRANSITION_APPLIED;
            let evicted = *action == AuditAction::TRANSITION_EVICTED;
            let Some(version) = version_of(r) else {
                continue;
            };
            if !(applied || evicted) {
                continue;
            }
            // Leaving production.
            if r.draft
                .state_before
                .as_ref()
                .is_some_and(|s| scope.is_production(s))
                && !r
                    .draft
                    .state_after
                    .as_ref()
                    .is_some_and(|s| scope.is_production(s))
                && let Some(i) = open.remove(version)
                && let Some(spell) = spells.get_mut(i)
            {
                spell.left_at = Some(r.draft.at);
            }
            if evicted {
                continue;
            }
            let inherited = plans.get(version).and_then(|(plan, baseline, by_state)| {
                let state = r.draft.state_after.as_ref()?;
                let approvers: Vec<ActorId> =
                    serde_json::from_value(by_state.get(state.as_str())?.clone()).ok()?;
                Some(InheritedApprovals {
                    plan: plan.clone(),
                    baseline: baseline.clone(),
                    approvers,
                })
            });
            // Entering production.
            if let Some(state) = r
                .draft
                .state_after
                .as_ref()
                .filter(|s| scope.is_production(s))
                && !r
                    .draft
                    .state_before
                    .as_ref()
                    .is_some_and(|s| scope.is_production(s))
            {
                open.insert(version.clone(), spells.len());
                spells.push(ProductionSpell {
                    version: version.clone(),
                    state: state.clone(),
                    entered_at: r.draft.at,
                    left_at: None,
                    requested_by: r.draft.actor.id.clone(),
                    approved_by: approvers_of(r),
                    overridden,
                    inherited: inherited.clone(),
                });
            }
            if !in_period {
                continue;
            }
            let how = if overridden {
                HowApplied::Overridden
            } else if verdict_of(r).is_some_and(|v| v.decision == Decision::Deny) {
                HowApplied::Unenforced
            } else {
                HowApplied::Allowed
            };
            transitions.push(TransitionEntry {
                seq: r.seq,
                at: r.draft.at,
                version: version.clone(),
                from: r.draft.state_before.clone(),
                to: r.draft.state_after.clone(),
                requested_by: r.draft.actor.id.clone(),
                approved_by: approvers_of(r),
                applied: how,
                inherited,
                policy: r
                    .draft
                    .details
                    .get("policy")
                    .and_then(|p| p.as_str())
                    .unwrap_or_default()
                    .to_owned(),
            });
            if overridden {
                let review = requests
                    .iter()
                    .find(|q| {
                        q.kind == RequestKind::PostHocReview
                            && &q.version == version
                            && q.opened_at == r.draft.at
                            && Some(&q.to) == r.draft.state_after.as_ref()
                    })
                    .map_or(
                        ReviewOutcome {
                            request: None,
                            status: None,
                            decisions: Vec::new(),
                        },
                        |q| ReviewOutcome {
                            request: Some(q.id.clone()),
                            status: Some(q.status),
                            decisions: q
                                .decisions
                                .iter()
                                .map(|d| ReviewDecision {
                                    reviewer: d.signoff.actor.clone(),
                                    vote: d.vote,
                                    comment: d.comment.clone(),
                                })
                                .collect(),
                        },
                    );
                overrides.push(OverrideEntry {
                    seq: r.seq,
                    at: r.draft.at,
                    version: version.clone(),
                    from: r.draft.state_before.clone(),
                    to: r.draft.state_after.clone(),
                    actor: r.draft.actor.id.clone(),
                    justification: r.draft.justification.clone().unwrap_or_default(),
                    review,
                });
            }
        }
        let in_production = spells
            .into_iter()
            .filter(|s| s.entered_at < period.end && s.left_at.is_none_or(|l| l > period.start))
            .collect();
        Ok(Self {
            period,
            chain,
            in_production,
            transitions,
            overrides,
            tier_changes,
            denials,
        })
    }

    /// Whether nothing happened in the period and nothing was in production: the documented
    /// empty result.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.in_production.is_empty()
            && self.transitions.is_empty()
            && self.overrides.is_empty()
            && self.tier_changes.is_empty()
            && self.denials == 0
    }

    /// The report as pretty JSON.
    ///
    /// # Errors
    /// [`ReportError::Render`] if serialization fails.
    pub fn to_json(&self) -> Result<String, ReportError> {
        render_json(self)
    }

    /// The report as Markdown.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "# Audit report {} – {}\n\n",
            self.period.start.to_rfc3339(),
            self.period.end.to_rfc3339()
        );
        let _ = match &self.chain {
            ChainStatus::Verified {
                head_seq,
                head_hash,
            } => {
                writeln!(
                    s,
                    "Audit chain: **verified** up to record {head_seq} (head {head_hash}).\n"
                )
            }
            ChainStatus::Broken {
                first_bad_seq,
                reason,
            } => {
                writeln!(
                    s,
                    "Audit chain: **BROKEN** at record {first_bad_seq}: {reason}.\n"
                )
            }
        };
        if self.is_empty() {
            s.push_str("No activity in this period: no model was in production, no transition was requested.\n");
            return s;
        }
        s.push_str("## Models in production\n\n");
        if self.in_production.is_empty() {
            s.push_str("none\n");
        }
        for p in &self.in_production {
            let approved: Vec<&str> = p.approved_by.iter().map(ActorId::as_str).collect();
            let _ = writeln!(
                s,
                "- {} in `{}` from {} to {}; requested by {}, approved by {}{}",
                p.version,
                p.state,
                p.entered_at.to_rfc3339(),
                p.left_at
                    .map_or_else(|| "now".to_owned(), |t| t.to_rfc3339()),
                p.requested_by,
                if approved.is_empty() {
                    "nobody".to_owned()
                } else {
                    approved.join(", ")
                },
                if p.overridden { " (override)" } else { "" }
            );
            if let Some(i) = &p.inherited {
                let by: Vec<&str> = i.approvers.iter().map(ActorId::as_str).collect();
                let _ = writeln!(
                    s,
                    "  - sign-offs inherited from {} under change plan `{}`: {}",
                    i.baseline,
                    i.plan,
                    by.join(", ")
                );
            }
        }
        s.push_str("\n## Transitions\n\n| # | at | version | from | to | requested by | approved by | applied |\n|---|---|---|---|---|---|---|---|\n");
        for t in &self.transitions {
            let approved: Vec<&str> = t.approved_by.iter().map(ActorId::as_str).collect();
            let st =
                |x: &Option<StateName>| x.as_ref().map_or_else(String::new, ToString::to_string);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {:?} |",
                t.seq,
                t.at.to_rfc3339(),
                t.version,
                st(&t.from),
                st(&t.to),
                t.requested_by,
                approved.join(", "),
                t.applied
            );
        }
        let _ = writeln!(s, "\nDenied requests: {}", self.denials);
        s.push_str("\n## Overrides\n\n");
        if self.overrides.is_empty() {
            s.push_str("none\n");
        }
        for o in &self.overrides {
            let review = match (o.review.request.clone(), o.review.status) {
                (Some(id), Some(status)) => {
                    let who: Vec<String> = o
                        .review
                        .decisions
                        .iter()
                        .map(|d| format!("{:?} by {}: {}", d.vote, d.reviewer, d.comment))
                        .collect();
                    format!(
                        "review {id} {status:?}{}{}",
                        if who.is_empty() { "" } else { " — " },
                        who.join("; ")
                    )
                }
                _ => "no review found".to_owned(),
            };
            let _ = writeln!(
                s,
                "- #{} {} {} by {}: \"{}\"; {}",
                o.seq,
                o.at.to_rfc3339(),
                o.version,
                o.actor,
                o.justification,
                review
            );
        }
        if !self.tier_changes.is_empty() {
            s.push_str("\n## Risk-tier changes\n\n");
            for t in &self.tier_changes {
                let tier =
                    |x: Option<RiskTier>| x.map_or_else(|| "?".to_owned(), |t| t.to_string());
                let _ = writeln!(
                    s,
                    "- #{} {} {}: {} → {} by {}",
                    t.seq,
                    t.at.to_rfc3339(),
                    t.model,
                    tier(t.from),
                    tier(t.to),
                    t.actor
                );
            }
        }
        s
    }
}
