//! Evidence kept in the store: recorded against a version (audited, hash-chained), the latest
//! per check, and counted by the evidence guards without the caller passing it again.

use mlops_core::{ActorId, Evidence, ModelRef, Subject, VersionNumber};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::{ModelAggregate, Revision};
use serde_json::json;

use super::{Governance, Result, version_subject};
use crate::error::GovernanceError;
use crate::policy::{Action, PolicyEngine};

/// The most checks a version keeps recorded evidence for (the latest of each): the store keeps
/// one entry per check, the audit chain every recording.
pub const MAX_RECORDED_CHECKS: usize = 64;

fn key(version: VersionNumber, check: &str) -> String {
    format!("v{}/{check}", version.get())
}

/// The evidence recorded for `version` in `aggregate`, by check name.
pub(crate) fn recorded_for(aggregate: &ModelAggregate, version: VersionNumber) -> Vec<Evidence> {
    let prefix = format!("v{}/", version.get());
    aggregate
        .governance_records()
        .evidence
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        // A stored entry that does not parse counts as no evidence (fail closed).
        .filter_map(|(_, v)| serde_json::from_value(v.clone()).ok())
        .collect()
}

impl Governance {
    /// Records `evidence` against `version` as `actor`, in one sealed commit with a
    /// `governance.evidence.recorded` audit record: it replaces the version's earlier evidence
    /// for the same check, and evidence guards count it from then on without the caller passing
    /// it in a [`PlanContext`](super::PlanContext) (still only while it is fresh and passing).
    /// The evidence must be about the version or its model.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited) without
    /// the record-evidence permission; [`GovernanceError::InvalidEvidence`] for evidence about
    /// another subject or beyond [`MAX_RECORDED_CHECKS`] checks; store errors.
    pub fn record_evidence(
        &self,
        version: &ModelRef,
        evidence: Evidence,
        actor: &ActorId,
    ) -> Result<Revision> {
        let who = self.actor(actor)?;
        if let Err(e) = self
            .policy
            .read()
            .authorize(&who, Action::RecordEvidence, None)
        {
            return Err(self.audit_unauthorized(
                &who,
                Action::RecordEvidence,
                version_subject(version),
                e,
            ));
        }
        let about = match &evidence.subject {
            Subject::Version { version: v } => v == version,
            Subject::Model { model } => model == version.name(),
            Subject::Feature { version: v, .. } | Subject::Segment { version: v, .. } => {
                v.as_ref() == Some(version)
            }
            _ => false,
        };
        if !about {
            return Err(GovernanceError::InvalidEvidence {
                version: version.clone(),
                check: evidence.check.clone(),
                reason: format!("it is about {}", evidence.subject),
            });
        }
        let value =
            serde_json::to_value(&evidence).map_err(|e| GovernanceError::InvalidEvidence {
                version: version.clone(),
                check: evidence.check.clone(),
                reason: format!("it cannot be encoded: {e}"),
            })?;
        let now = self.clock.now();
        let k = key(version.version(), evidence.check.as_str());
        let (_, revision) = self.update_governed(version.name(), |agg| {
            agg.version(version.version()).ok_or_else(|| {
                mlops_registry::RegistryError::version_not_found(version.name(), version.version())
            })?;
            let records = &mut agg.governance_records_mut().evidence;
            let prefix = format!("v{}/", version.version().get());
            let checks = records.keys().filter(|k| k.starts_with(&prefix)).count();
            if !records.contains_key(&k) && checks >= MAX_RECORDED_CHECKS {
                return Err(GovernanceError::InvalidEvidence {
                    version: version.clone(),
                    check: evidence.check.clone(),
                    reason: format!("it already keeps evidence for {MAX_RECORDED_CHECKS} checks"),
                });
            }
            records.insert(k.clone(), value.clone());
            let draft = AuditDraft::new(
                now,
                who.clone(),
                AuditAction::EVIDENCE_RECORDED,
                version_subject(version),
            )
            .with_details(json!({ "evidence": evidence }));
            Ok(((), vec![draft]))
        })?;
        tracing::info!(version = %version, check = %evidence.check, outcome = ?evidence.outcome, "evidence recorded");
        Ok(revision)
    }

    /// The evidence recorded for `version` (the latest per check).
    ///
    /// # Errors
    /// Store errors.
    pub fn recorded_evidence(&self, version: &ModelRef) -> Result<Vec<Evidence>> {
        let agg = self.store.get_model(version.name())?;
        Ok(recorded_for(&agg, version.version()))
    }
}
