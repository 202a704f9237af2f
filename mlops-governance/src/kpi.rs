//! Governance KPIs, computed from the audit log and the registry, and
//! serializable so that a host can publish them.
//!
//! Definitions, for a [`ReportingPeriod`]:
//!
//! - **time to approval per tier**: for each transition approval request *opened* in the period
//!   and fulfilled (its transition committed), the time from its opening to its last sign-off;
//!   grouped by the model's risk tier when the request was opened (from the risk-tier change
//!   records, else the current tier). Count, mean, median and maximum, in seconds.
//! - **first-time-pass rate**: a *transition attempt* is the sequence of audit records for one
//!   version and one move (its state and event), up to and including its commit. It passed first time if it
//!   was committed as allowed with no substantive denial before it (a denial whose only unmet
//!   guards are sign-offs is the normal way to ask for them and does not count) and no sign-off
//!   was rejected. Attempts still waiting for sign-offs at the end of the period are left out;
//!   attempts that were denied or rejected and not (yet) committed count as not passed. The rate
//!   covers attempts whose first record falls in the period.
//! - **overrides per month**: break-glass overrides in the period by calendar month (`YYYY-MM`).
//! - **approvals expired**: approval requests that expired in the period.
//! - **production without a recent drift check**: versions in a production state now (per the
//!   store) whose latest drift check (per the [`ReportScope`]) measured no later than the end of
//!   the period is older than the scope's maximum age, or absent.
//! - **documentation**: of the models with a version in production, the share whose production
//!   versions' model cards have every field the scope requires.
//!
//! A period without activity gives zero counts, empty maps and rates of `None`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use mlops_core::{Evidence, ModelName, ModelRef, RiskTier, Subject};
use mlops_registry::audit::AuditAction;
use mlops_registry::store::ModelStore;
use serde::{Deserialize, Serialize};

use crate::approval::{RequestKind, RequestStatus, Vote};
use crate::audit::{AuditLog, AuditLogExt};
use crate::card::{CardInputs, ModelCard};
use crate::error::ReportError;
use crate::report::{
    ReportScope, ReportingPeriod, all_models, last_drift_check, verdict_of, version_of,
};

/// Summary statistics of durations, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many.
    pub count: usize,
    /// Mean.
    pub mean_seconds: f64,
    /// Median (the mean of the two middle values for an even count).
    pub median_seconds: f64,
    /// Maximum.
    pub max_seconds: i64,
}

impl DurationStats {
    /// Statistics of `seconds` (`None` when empty).
    #[must_use]
    pub fn of(mut seconds: Vec<i64>) -> Option<Self> {
        if seconds.is_empty() {
            return None;
        }
        seconds.sort_unstable();
        let count = seconds.len();
        #[expect(
            clippy::cast_precision_loss,
            reason = "durations and counts far below 2^52"
        )]
        let mean = seconds.iter().map(|s| *s as f64).sum::<f64>() / count as f64;
        let mid = count / 2;
        #[expect(clippy::cast_precision_loss, reason = "durations far below 2^52")]
        let median = match (seconds.get(mid.wrapping_sub(1)), seconds.get(mid)) {
            (Some(a), Some(b)) if count.is_multiple_of(2) => (*a as f64 + *b as f64) / 2.0,
            (_, Some(b)) => *b as f64,
            _ => 0.0,
        };
        Some(Self {
            count,
            mean_seconds: mean,
            median_seconds: median,
            max_seconds: seconds.last().copied().unwrap_or_default(),
        })
    }
}

/// A share: how many of how many, and the ratio (`None` when there are none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// How many qualify.
    pub count: usize,
    /// Out of how many.
    pub total: usize,
    /// `count / total`, if `total > 0`.
    pub ratio: Option<f64>,
}

impl Share {
    /// `count` of `total`.
    #[must_use]
    pub fn new(count: usize, total: usize) -> Self {
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let ratio = (total > 0).then(|| count as f64 / total as f64);
        Self {
            count,
            total,
            ratio,
        }
    }
}

/// The governance KPIs for a period. See the [module documentation](self) for the definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// The period.
    pub period: ReportingPeriod,
    /// Time from request to approval, per tier (tiers without requests are absent).
    pub time_to_approval: BTreeMap<RiskTier, DurationStats>,
    /// Transition attempts that passed the first time.
    pub first_time_pass: Share,
    /// Overrides per month (`YYYY-MM`).
    pub overrides_per_month: BTreeMap<String, usize>,
    /// Approval requests that expired.
    pub approvals_expired: usize,
    /// Production versions without a recent drift check.
    pub without_recent_drift_check: Vec<ModelRef>,
    /// Models in production with complete documentation.
    pub documentation_complete: Share,
}

#[derive(Default)]
struct Attempt {
    first_in_period: bool,
    failed: bool,
}

fn tier_at(
    model: &ModelName,
    at: DateTime<Utc>,
    changes: &[(ModelName, DateTime<Utc>, Option<RiskTier>)],
    current: &BTreeMap<ModelName, RiskTier>,
) -> RiskTier {
    changes
        .iter()
        .find(|(m, t, _)| m == model && *t > at)
        .and_then(|(_, _, from)| *from)
        .or_else(|| current.get(model).copied())
        .unwrap_or_default()
}

impl Kpis {
    /// Computes the KPIs for `period` from the store and the audit log. `evidence` is what the
    /// host's monitors measured; `cards` adds host-filled card fields per version (version tags
    /// `card.<field>` are read as well).
    ///
    /// # Errors
    /// [`ReportError::Registry`] or [`ReportError::Audit`] on backend failure.
    pub fn compute(
        store: &dyn ModelStore,
        log: &dyn AuditLog,
        period: ReportingPeriod,
        scope: &ReportScope,
        evidence: &[Evidence],
        cards: &BTreeMap<ModelRef, CardInputs>,
    ) -> Result<Self, ReportError> {
        let records = log.read_all()?;
        let models = all_models(store)?;
        let current: BTreeMap<ModelName, RiskTier> = models
            .iter()
            .map(|m| (m.name().clone(), m.risk_tier))
            .collect();
        let changes: Vec<(ModelName, DateTime<Utc>, Option<RiskTier>)> = records
            .iter()
            .filter(|r| r.draft.action == AuditAction::RISK_TIER_CHANGED)
            .filter_map(|r| match &r.draft.subject {
                Subject::Model { model } => Some((
                    model.clone(),
                    r.draft.at,
                    r.draft
                        .details
                        .get("from")
                        .and_then(|t| serde_json::from_value(t.clone()).ok()),
                )),
                _ => None,
            })
            .collect();

        // Time to approval.
        let mut waits: BTreeMap<RiskTier, Vec<i64>> = BTreeMap::new();
        for q in log.approval_snapshots()? {
            if q.kind != RequestKind::Transition
                || q.status != RequestStatus::Fulfilled
                || !period.contains(q.opened_at)
            {
                continue;
            }
            let Some(last) = q
                .decisions
                .iter()
                .filter(|d| d.vote == Vote::Approve)
                .map(|d| d.signoff.at)
                .max()
            else {
                continue;
            };
            let tier = tier_at(q.version.name(), q.opened_at, &changes, &current);
            waits
                .entry(tier)
                .or_default()
                .push(last.signed_duration_since(q.opened_at).num_seconds());
        }
        let time_to_approval = waits
            .into_iter()
            .filter_map(|(t, w)| DurationStats::of(w).map(|s| (t, s)))
            .collect();

        // First-time pass, overrides, expiries.
        let mut attempts: BTreeMap<(ModelRef, String, String), Attempt> = BTreeMap::new();
        let (mut passed, mut total) = (0usize, 0usize);
        let mut overrides_per_month: BTreeMap<String, usize> = BTreeMap::new();
        let mut expired: BTreeSet<crate::approval::ApprovalId> = BTreeSet::new();
        for r in records.iter().filter(|r| r.draft.at < period.end) {
            let action = &r.draft.action;
            let in_period = period.contains(r.draft.at);
            if *action == AuditAction::APPROVAL_EXPIRED && in_period {
                if let Some(id) = r
                    .draft
                    .details
                    .get("request")
                    .and_then(|q| q.get("id"))
                    .and_then(|id| serde_json::from_value(id.clone()).ok())
                {
                    expired.insert(id);
                }
                continue;
            }
            let Some(version) = version_of(r) else {
                continue;
            };
            let from = r
                .draft
                .state_before
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let key = (version.clone(), from, event_of(r).unwrap_or_default());
            match action {
                a if *a == AuditAction::TRANSITION_DENIED => {
                    let substantive = !verdict_of(r).is_some_and(|v| v.awaits_only_signoffs());
                    let a = attempts.entry(key).or_insert_with(|| Attempt {
                        first_in_period: in_period,
                        failed: false,
                    });
                    a.failed |= substantive;
                }
                a if *a == AuditAction::APPROVAL_REJECTED => {
                    if let Some(a) = attempts.get_mut(&key) {
                        a.failed = true;
                    } else {
                        attempts.insert(
                            key,
                            Attempt {
                                first_in_period: in_period,
                                failed: true,
                            },
                        );
                    }
                }
                a if *a == AuditAction::TRANSITION_APPLIED
                    || *a == AuditAction::TRANSITION_OVERRIDDEN =>
                {
                    let a = attempts.remove(&key).unwrap_or(Attempt {
                        first_in_period: in_period,
                        failed: false,
                    });
                    let overridden = *action == AuditAction::TRANSITION_OVERRIDDEN;
                    let unenforced = verdict_of(r).is_some_and(|v| !v.is_allowed());
                    if a.first_in_period {
                        total += 1;
                        if !(a.failed || overridden || unenforced) {
                            passed += 1;
                        }
                    }
                    if overridden && in_period {
                        let month = format!("{:04}-{:02}", r.draft.at.year(), r.draft.at.month());
                        *overrides_per_month.entry(month).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        // Attempts not committed by the end of the period: failed ones count, pending ones not.
        for a in attempts.values() {
            if a.first_in_period && a.failed {
                total += 1;
            }
        }

        // Production: drift checks and documentation.
        let mut without_recent_drift_check = Vec::new();
        let (mut documented, mut in_production) = (0usize, 0usize);
        for m in &models {
            let agg = store.get_model(m.name())?;
            let mut prod = agg
                .versions()
                .iter()
                .filter(|(_, s)| scope.production_states.contains(&s.state))
                .map(|(n, _)| ModelRef::new(m.name().clone(), *n))
                .peekable();
            if prod.peek().is_none() {
                continue;
            }
            in_production += 1;
            let mut complete = true;
            for v in prod {
                let (_, recent) = last_drift_check(evidence, &v, scope, period.end);
                if !recent {
                    without_recent_drift_check.push(v.clone());
                }
                let inputs = cards.get(&v).cloned().unwrap_or_default();
                let card = ModelCard::build(store, log, &v, &inputs)?;
                complete &= card.is_complete(&scope.required_fields);
            }
            documented += usize::from(complete);
        }

        Ok(Self {
            period,
            time_to_approval,
            first_time_pass: Share::new(passed, total),
            overrides_per_month,
            approvals_expired: expired.len(),
            without_recent_drift_check,
            documentation_complete: Share::new(documented, in_production),
        })
    }

    /// The KPIs as pretty JSON.
    ///
    /// # Errors
    /// [`ReportError::Render`] if serialization fails.
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(|e| ReportError::Render {
            reason: e.to_string(),
        })
    }
}

/// The event of a transition record (`details.event`) or of an approval record
/// (`details.request.event`).
fn event_of(r: &mlops_registry::audit::AuditRecord) -> Option<String> {
    let d = &r.draft.details;
    d.get("event")
        .or_else(|| d.get("request").and_then(|q| q.get("event")))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}
