//! Replacing the policy: permissioned by the current policy, audited with both identities.

use std::sync::Arc;

use mlops_core::{ActorId, Digest};
use mlops_registry::audit::{AuditAction, AuditDraft};
use serde_json::json;

use super::{Governance, Result};
use crate::policy::{Action, Policy, PolicyEngine};

impl Governance {
    /// Replaces the policy engine, auditing the change with both identities.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`](crate::GovernanceError::UnknownActor); [`GovernanceError::Unauthorized`](crate::GovernanceError::Unauthorized) (audited) unless the
    /// current policy lets `actor` change policy.
    pub fn change_policy(
        &self,
        actor: &ActorId,
        new: Arc<dyn PolicyEngine>,
        justification: &str,
    ) -> Result<Digest> {
        let who = self.actor(actor)?;
        let mut guard = self.policy.write();
        if let Err(e) = guard.authorize(&who, Action::ChangePolicy, None) {
            let current = guard.identity();
            drop(guard);
            return Err(self.audit_unauthorized(
                &who,
                Action::ChangePolicy,
                crate::audit::policy_subject(current),
                e,
            ));
        }
        let old = guard.identity();
        let id = new.identity();
        let mut draft = AuditDraft::new(
            self.clock.now(),
            who,
            AuditAction::POLICY_CHANGED,
            crate::audit::policy_subject(id),
        )
        .with_details(json!({ "from": old.to_string(), "to": id.to_string() }));
        if !crate::names::is_blank(justification) {
            draft = draft.with_justification(justification);
        }
        self.append_governed(vec![draft])?;
        *guard = new;
        tracing::info!(from = %old, to = %id, "policy changed");
        Ok(id)
    }

    /// Replaces the policy with a declarative one after checking it against the lifecycle. See
    /// [`Governance::change_policy`].
    ///
    /// # Errors
    /// [`GovernanceError::Policy`](crate::GovernanceError::Policy) if it names a state the lifecycle lacks (nothing written);
    /// otherwise as [`Governance::change_policy`].
    pub fn change_to_policy(
        &self,
        actor: &ActorId,
        policy: Policy,
        justification: &str,
    ) -> Result<Digest> {
        policy.check_against(&self.lifecycle)?;
        self.change_policy(actor, Arc::new(policy), justification)
    }
}
