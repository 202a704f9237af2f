//! Break-glass overrides: applied despite the guards, always audited, with a post-hoc review.

use mlops_core::EventName;
use mlops_core::{ActorId, ModelRef};

use super::{Applied, Governance, PlanContext, RETRIES, Result, Transitioned, version_subject};
use crate::error::GovernanceError;
use crate::policy::{Action, PolicyEngine};

impl Governance {
    /// Applies `event` as a break-glass override: the actor must hold an override role and give
    /// a justification (blank or invisible text does not count); the guards are evaluated and
    /// recorded but do not block; the record is an override; a post-hoc review request is
    /// opened in the same commit, which neither the overrider nor the version's author may
    /// approve.
    ///
    /// # Errors
    /// [`GovernanceError::MissingJustification`] (nothing written);
    /// [`GovernanceError::Unauthorized`] (audited); otherwise as [`Governance::plan`] and
    /// [`Governance::commit`] (a conflict is retried).
    pub fn break_glass(
        &self,
        version: &ModelRef,
        event: &EventName,
        actor: &ActorId,
        justification: &str,
        context: &PlanContext,
    ) -> Result<Transitioned> {
        let who = self.actor(actor)?;
        if crate::names::is_blank(justification) {
            return Err(GovernanceError::MissingJustification);
        }
        self.expire_model(version.name())?;
        if let Err(e) = self.policy.read().authorize(&who, Action::Override, None) {
            return Err(self.audit_unauthorized(
                &who,
                Action::Override,
                version_subject(version),
                e,
            ));
        }
        let mut attempt = 0;
        loop {
            let plan = self.plan(version.name(), version.version(), event, actor, context)?;
            tracing::warn!(version = %version, event = %event, actor = %actor, "break-glass override");
            match self.apply(&plan, Applied::Overridden, Some(justification)) {
                Err(GovernanceError::Conflict { .. }) if attempt < RETRIES => attempt += 1,
                other => return other,
            }
        }
    }
}
