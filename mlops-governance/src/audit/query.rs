//! The auditor's questions, answered from the log.

use chrono::{DateTime, Utc};
use mlops_core::{ActorId, ModelRef, Subject};
use mlops_registry::audit::{AuditAction, AuditRecord};
use mlops_registry::model::StateName;
use serde::{Deserialize, Serialize};

use super::log::{AuditLog, AuditLogExt};
use crate::error::AuditError;

/// One entry of a version into a production state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionEntry {
    /// The version.
    pub version: ModelRef,
    /// The state entered.
    pub state: StateName,
    /// When.
    pub at: DateTime<Utc>,
    /// Who requested it.
    pub requested_by: ActorId,
    /// Who signed off (separation of duties applied), empty for an override or an unguarded
    /// transition.
    pub approved_by: Vec<ActorId>,
    /// Whether it was a break-glass override.
    pub overridden: bool,
    /// The override's justification.
    pub justification: Option<String>,
    /// The sequence number of the record.
    pub seq: u64,
}

fn about(record: &AuditRecord, version: &ModelRef) -> bool {
    matches!(&record.draft.subject, Subject::Version { version: v } if v == version)
}

/// Every record about `version`, in order.
///
/// # Errors
/// [`AuditError::Registry`] on backend failure.
pub fn history(log: &dyn AuditLog, version: &ModelRef) -> Result<Vec<AuditRecord>, AuditError> {
    Ok(log
        .read_all()?
        .into_iter()
        .filter(|r| about(r, version))
        .collect())
}

/// Every committed entry into one of `states` (for the default lifecycle: `production`), with
/// who requested and who approved it, in order.
///
/// # Errors
/// [`AuditError::Registry`] on backend failure.
pub fn production_roster(
    log: &dyn AuditLog,
    states: &[StateName],
) -> Result<Vec<ProductionEntry>, AuditError> {
    let mut out = Vec::new();
    for r in log.read_all()? {
        let action = &r.draft.action;
        let overridden = *action == AuditAction::TRANSITION_OVERRIDDEN;
        if !(overridden || *action == AuditAction::TRANSITION_APPLIED) {
            continue;
        }
        let (Some(state), Subject::Version { version }) = (&r.draft.state_after, &r.draft.subject)
        else {
            continue;
        };
        if !states.contains(state) {
            continue;
        }
        let approved_by = r
            .draft
            .details
            .get("approvers")
            .and_then(|a| serde_json::from_value::<Vec<ActorId>>(a.clone()).ok())
            .unwrap_or_default();
        out.push(ProductionEntry {
            version: version.clone(),
            state: state.clone(),
            at: r.draft.at,
            requested_by: r.draft.actor.id.clone(),
            approved_by,
            overridden,
            justification: r.draft.justification.clone(),
            seq: r.seq,
        });
    }
    Ok(out)
}
