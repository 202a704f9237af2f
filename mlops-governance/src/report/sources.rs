//! Reading the registry and the audit log for reports: every model, drift checks, the facts
//! recorded in audit records, approval requests, JSON rendering.

use chrono::{DateTime, Utc};
use mlops_core::{ActorId, Evidence, ModelRef, Subject};
use mlops_registry::audit::AuditRecord;
use mlops_registry::model::RegisteredModel;
use mlops_registry::store::{ModelQuery, ModelStore};
use serde::Serialize;

use crate::approval::ApprovalRequest;
use crate::audit::{AuditLog, AuditLogExt};
use crate::error::ReportError;
use crate::policy::Verdict;

use super::ReportScope;

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

pub(super) fn snapshots(log: &dyn AuditLog) -> Result<Vec<ApprovalRequest>, ReportError> {
    Ok(log.approval_snapshots()?)
}

pub(super) fn render_json<T: Serialize>(value: &T) -> Result<String, ReportError> {
    serde_json::to_string_pretty(value).map_err(|e| ReportError::Render {
        reason: e.to_string(),
    })
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
