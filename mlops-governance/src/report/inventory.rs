//! The inventory: a single view of every model, its versions' states, its champion, its open
//! approval requests and its alarms.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use mlops_core::{ActorId, AliasName, Evidence, ModelName, ModelRef, RiskTier, VersionNumber};
use mlops_registry::model::StateName;
use mlops_registry::store::ModelStore;
use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalId, RequestKind, RequestStatus};
use crate::audit::AuditLog;
use crate::error::ReportError;

use super::ReportScope;
use super::sources::{all_models, evidence_about, last_drift_check, render_json, snapshots};

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
