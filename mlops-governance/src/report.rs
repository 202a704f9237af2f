//! Inventory and audit reports (template step 5).
//!
//! - [`Inventory`]: a single view of every model: its risk tier, the state of each version, its
//!   champion, its open approval requests and its alarms (an override awaiting its post-hoc
//!   review, a production version without a recent drift check, a failing latest check).
//! - [`AuditReport`]: an auditor's report for a [`ReportingPeriod`]: every version that was in
//!   production at any time in the period, who requested and who approved each transition,
//!   every break-glass override with its justification and the outcome of its review, every
//!   risk-tier change, and the audit chain's verification result.
//!
//! Both render as Markdown and JSON. A period that ends before it starts is a
//! [`ReportError::InvalidPeriod`]; a valid period without activity gives a report whose lists
//! are empty ([`AuditReport::is_empty`]) and whose Markdown says so — that is the documented
//! empty result, not an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use mlops_core::{
    ActorId, AliasName, Evidence, ModelName, ModelRef, RiskTier, Subject, VersionNumber,
};
use mlops_registry::audit::{AuditAction, AuditRecord};
use mlops_registry::model::{RegisteredModel, StateName};
use mlops_registry::store::{ModelQuery, ModelStore};
use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalId, ApprovalRequest, RequestKind, RequestStatus, Vote};
use crate::audit::{AuditLog, AuditLogExt};
use crate::error::{AuditError, ReportError};
use crate::names::Period;
use crate::policy::{Decision, Verdict};

/// A half-open span of time `[start, end)` that a report covers.
///
/// ```
/// use mlops_core::chrono::{TimeZone, Utc};
/// use mlops_governance::audit::MemoryAuditLog;
/// use mlops_governance::report::{AuditReport, ReportScope, ReportingPeriod};
///
/// let march = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
/// let april = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
/// assert!(ReportingPeriod::new(april, march).is_err());
/// // A period without activity is a documented empty result, not an error.
/// let report = AuditReport::build(&MemoryAuditLog::new(), ReportingPeriod::new(march, april)?, &ReportScope::default())?;
/// assert!(report.is_empty());
/// assert!(report.to_markdown().contains("No activity in this period"));
/// # Ok::<(), mlops_governance::ReportError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingPeriod {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl ReportingPeriod {
    /// The period `[start, end)`.
    ///
    /// # Errors
    /// [`ReportError::InvalidPeriod`] unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ReportError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(ReportError::InvalidPeriod { start, end })
        }
    }

    /// Whether `at` falls in the period.
    #[must_use]
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// What the reports consider production, which checks are drift checks, and which model-card
/// fields make documentation complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportScope {
    /// The lifecycle states that count as production.
    pub production_states: Vec<StateName>,
    /// Evidence whose check name starts with this is a drift check.
    pub drift_prefix: String,
    /// A drift check older than this is not recent.
    pub drift_max_age: Period,
    /// The model-card fields complete documentation needs.
    pub required_fields: Vec<String>,
}

impl Default for ReportScope {
    /// `production`; checks named `drift.*`, at most 7 days old; `intended_use` and
    /// `limitations`.
    fn default() -> Self {
        Self {
            production_states: vec![StateName::new("production").unwrap_or_default()],
            drift_prefix: "drift.".into(),
            drift_max_age: week(),
            required_fields: vec!["intended_use".into(), "limitations".into()],
        }
    }
}

#[allow(clippy::expect_used)] // reason: seven days is a valid period (a test pins the default scope)
fn week() -> Period {
    Period::days(7).expect("seven days is a valid period")
}

impl ReportScope {
    fn is_production(&self, state: &StateName) -> bool {
        self.production_states.contains(state)
    }
}

pub(crate) fn all_models(store: &dyn ModelStore) -> Result<Vec<RegisteredModel>, ReportError> {
    let mut out = Vec::new();
    let mut query = ModelQuery {
        page_size: mlops_registry::store::MAX_PAGE_SIZE,
        ..ModelQuery::default()
    };
    loop {
        let page = store.list_models(&query)?;
        out.extend(page.items);
        match page.next {
            Some(token) => query.page_token = Some(token),
            None => return Ok(out),
        }
    }
}

pub(crate) fn evidence_about(e: &Evidence, v: &ModelRef) -> bool {
    match &e.subject {
        Subject::Version { version } => version == v,
        Subject::Model { model } => model == v.name(),
        Subject::Feature {
            version: Some(x), ..
        }
        | Subject::Segment {
            version: Some(x), ..
        } => x == v,
        _ => false,
    }
}

/// The time of the latest drift check about `v` measured no later than `now`, and whether it is
/// recent.
pub(crate) fn last_drift_check(
    evidence: &[Evidence],
    v: &ModelRef,
    scope: &ReportScope,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, bool) {
    let last = evidence
        .iter()
        .filter(|e| {
            e.check.as_str().starts_with(&scope.drift_prefix)
                && evidence_about(e, v)
                && e.measured_at <= now
        })
        .map(|e| e.measured_at)
        .max();
    let recent =
        last.is_some_and(|t| now.signed_duration_since(t) <= scope.drift_max_age.as_delta());
    (last, recent)
}

/// An open approval request, as the inventory shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenApproval {
    /// The request.
    pub id: ApprovalId,
    /// The version.
    pub version: VersionNumber,
    /// Sign-offs for a transition, or a post-hoc review.
    pub kind: RequestKind,
    /// The state it would enter.
    pub to: StateName,
    /// Who asked.
    pub requested_by: ActorId,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Something about a model that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "alarm", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Alarm {
    /// A break-glass override whose post-hoc review is not signed.
    UnreviewedOverride {
        /// The version overridden.
        version: VersionNumber,
        /// The review request.
        request: ApprovalId,
        /// Its status (open or expired).
        status: RequestStatus,
    },
    /// A production version without a recent drift check.
    NoRecentDriftCheck {
        /// The version.
        version: VersionNumber,
        /// Its latest drift check, if any.
        last_checked: Option<DateTime<Utc>>,
    },
    /// The latest measurement of a check about a production version failed.
    FailingCheck {
        /// The version.
        version: VersionNumber,
        /// The check.
        check: String,
        /// Its value.
        #[serde(with = "mlops_core::float_serde")]
        value: f64,
    },
}

/// One model in the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// The model.
    pub model: ModelName,
    /// Its owner.
    pub owner: ActorId,
    /// Its risk tier.
    pub tier: RiskTier,
    /// Every version and its state.
    pub versions: BTreeMap<VersionNumber, StateName>,
    /// The champion, if any.
    pub champion: Option<VersionNumber>,
    /// Open approval requests.
    pub open_approvals: Vec<OpenApproval>,
    /// Alarms.
    pub alarms: Vec<Alarm>,
}

/// A single view of every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Every model, by name.
    pub models: Vec<InventoryEntry>,
}

fn snapshots(log: &dyn AuditLog) -> Result<Vec<ApprovalRequest>, ReportError> {
    Ok(log.approval_snapshots()?)
}

impl Inventory {
    /// Takes the inventory at `now` from the store and the audit log; `evidence` is what the
    /// host's monitors measured (drift and other checks), judged by `scope`.
    ///
    /// # Errors
    /// [`ReportError::Registry`] or [`ReportError::Audit`] on backend failure.
    pub fn build(
        store: &dyn ModelStore,
        log: &dyn AuditLog,
        evidence: &[Evidence],
        scope: &ReportScope,
        now: DateTime<Utc>,
    ) -> Result<Self, ReportError> {
        let requests = snapshots(log)?;
        let mut models = Vec::new();
        for m in all_models(store)? {
            let agg = store.get_model(m.name())?;
            let versions: BTreeMap<VersionNumber, StateName> = agg
                .versions()
                .iter()
                .map(|(n, s)| (*n, s.state.clone()))
                .collect();
            let mut open_approvals = Vec::new();
            let mut alarms = Vec::new();
            for r in requests.iter().filter(|r| r.version.name() == m.name()) {
                let open = r.status == RequestStatus::Open && !r.is_due(now);
                if open {
                    open_approvals.push(OpenApproval {
                        id: r.id.clone(),
                        version: r.version.version(),
                        kind: r.kind,
                        to: r.to.clone(),
                        requested_by: r.requested_by.clone(),
                        opened_at: r.opened_at,
                        expires_at: r.expires_at,
                    });
                }
                if r.kind == RequestKind::PostHocReview
                    && !matches!(r.status, RequestStatus::Fulfilled | RequestStatus::Rejected)
                {
                    alarms.push(Alarm::UnreviewedOverride {
                        version: r.version.version(),
                        request: r.id.clone(),
                        status: if open {
                            RequestStatus::Open
                        } else if r.status == RequestStatus::Open {
                            RequestStatus::Expired
                        } else {
                            r.status
                        },
                    });
                }
            }
            for (n, state) in &versions {
                if !scope.is_production(state) {
                    continue;
                }
                let v = ModelRef::new(m.name().clone(), *n);
                let (last, recent) = last_drift_check(evidence, &v, scope, now);
                if !recent {
                    alarms.push(Alarm::NoRecentDriftCheck {
                        version: *n,
                        last_checked: last,
                    });
                }
                let mut latest: BTreeMap<&str, &Evidence> = BTreeMap::new();
                for e in evidence
                    .iter()
                    .filter(|e| evidence_about(e, &v) && e.measured_at <= now)
                {
                    let slot = latest.entry(e.check.as_str()).or_insert(e);
                    if e.measured_at >= slot.measured_at {
                        *slot = e;
                    }
                }
                for (check, e) in latest {
                    if !e.passed() {
                        alarms.push(Alarm::FailingCheck {
                            version: *n,
                            check: check.to_owned(),
                            value: e.value,
                        });
                    }
                }
            }
            models.push(InventoryEntry {
                model: m.name().clone(),
                owner: m.owner.clone(),
                tier: m.risk_tier,
                champion: agg.alias(&AliasName::champion()),
                versions,
                open_approvals,
                alarms,
            });
        }
        Ok(Self { at: now, models })
    }

    /// The inventory as pretty JSON.
    ///
    /// # Errors
    /// [`ReportError::Render`] if serialization fails.
    pub fn to_json(&self) -> Result<String, ReportError> {
        render_json(self)
    }

    /// The inventory as Markdown: one table row per model, then the alarms.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# Model inventory at {}\n\n", self.at.to_rfc3339());
        if self.models.is_empty() {
            s.push_str("No models are registered.\n");
            return s;
        }
        s.push_str("| model | tier | owner | champion | versions | open approvals | alarms |\n|---|---|---|---|---|---|---|\n");
        for m in &self.models {
            let versions: Vec<String> = m
                .versions
                .iter()
                .map(|(n, st)| format!("{n}: {st}"))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                m.model,
                m.tier,
                m.owner,
                m.champion.map_or_else(|| "—".to_owned(), |v| v.to_string()),
                versions.join(", "),
                m.open_approvals.len(),
                m.alarms.len()
            );
        }
        let alarms: Vec<(&ModelName, &Alarm)> = self
            .models
            .iter()
            .flat_map(|m| m.alarms.iter().map(move |a| (&m.model, a)))
            .collect();
        if !alarms.is_empty() {
            s.push_str("\n## Alarms\n\n");
            for (model, a) in alarms {
                let _ = match a {
                    Alarm::UnreviewedOverride {
                        version,
                        request,
                        status,
                    } => {
                        writeln!(
                            s,
                            "- {model}@{version}: override not reviewed ({request}, {status:?})"
                        )
                    }
                    Alarm::NoRecentDriftCheck {
                        version,
                        last_checked,
                    } => writeln!(
                        s,
                        "- {model}@{version}: no recent drift check (last: {})",
                        last_checked.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
                    ),
                    Alarm::FailingCheck {
                        version,
                        check,
                        value,
                    } => {
                        writeln!(s, "- {model}@{version}: `{check}` failing ({value})")
                    }
                };
            }
        }
        s
    }
}

fn render_json<T: Serialize>(value: &T) -> Result<String, ReportError> {
    serde_json::to_string_pretty(value).map_err(|e| ReportError::Render {
        reason: e.to_string(),
    })
}

/// The audit chain's verification result.
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

pub(crate) fn version_of(r: &AuditRecord) -> Option<&ModelRef> {
    match &r.draft.subject {
        Subject::Version { version } => Some(version),
        _ => None,
    }
}

pub(crate) fn approvers_of(r: &AuditRecord) -> Vec<ActorId> {
    r.draft
        .details
        .get("approvers")
        .and_then(|a| serde_json::from_value::<Vec<ActorId>>(a.clone()).ok())
        .unwrap_or_default()
}

pub(crate) fn verdict_of(r: &AuditRecord) -> Option<Verdict> {
    r.draft
        .details
        .get("verdict")
        .and_then(|v| serde_json::from_value::<Verdict>(v.clone()).ok())
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
