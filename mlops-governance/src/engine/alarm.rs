//! Monitoring closes the loop: an alarm on a serving version (a sustained drift alarm, a
//! performance guardrail breach, as failing `Evidence`) is recorded against the version and, by
//! the [`AlarmPolicy`] for the model's risk tier, opens a review of the rollback or rolls back to
//! the previous champion through gated transitions, audited with the alarm as their evidence.

use std::collections::BTreeMap;

use mlops_core::{ActorId, AliasName, Evidence, ModelRef, RiskTier};
use mlops_registry::audit::{AuditAction, AuditDraft};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Governance, PlanContext, Result, version_subject};
use crate::approval::{ApprovalBook, ApprovalId, RequestKind, RequestStatus};
use crate::error::GovernanceError;
use crate::lifecycle::{EventName, names};

/// What an alarm on a serving version does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlarmAction {
    /// Record it as evidence only.
    Record,
    /// Open a review: an approval request for the rollback, one at a time per version. Where
    /// the policy requires no sign-off to roll back at that tier, the request is a notice: anyone
    /// permitted may commit the rollback, or cancel the request.
    OpenReview,
    /// Roll back now through the gated rollback transition and reinstate the previous champion
    /// (each denied transition falls back to its approval request).
    RollBack,
}

/// The alarm policy: an action per risk tier (default [`AlarmAction::OpenReview`]) and the
/// lifecycle events it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmPolicy {
    /// The action for tiers not listed.
    pub default: AlarmAction,
    /// Actions by tier.
    #[serde(default)]
    pub tiers: BTreeMap<RiskTier, AlarmAction>,
    /// The event that takes a version out of service (default `rollback`).
    pub rollback_event: EventName,
    /// The event that puts the previous champion back (default `reinstate`).
    pub reinstate_event: EventName,
}

impl Default for AlarmPolicy {
    fn default() -> Self {
        Self {
            default: AlarmAction::OpenReview,
            tiers: BTreeMap::new(),
            rollback_event: names::ROLLBACK,
            reinstate_event: names::REINSTATE,
        }
    }
}

impl AlarmPolicy {
    /// Sets the action for `tier`.
    #[must_use]
    pub fn with_tier(mut self, tier: RiskTier, action: AlarmAction) -> Self {
        self.tiers.insert(tier, action);
        self
    }

    /// The action for `tier`.
    #[must_use]
    pub fn action(&self, tier: RiskTier) -> AlarmAction {
        self.tiers.get(&tier).copied().unwrap_or(self.default)
    }
}

/// What [`Governance::respond_to_alarm`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlarmResponse {
    /// Recorded as evidence (the policy says so, or the version does not serve).
    Recorded,
    /// A review of the rollback was opened.
    ReviewOpened(ApprovalId),
    /// A review of this version's rollback was already open: nothing new (a flapping alarm
    /// never opens a second one).
    ReviewAlreadyOpen(ApprovalId),
    /// The version was rolled back. `reinstated` is the previous champion if it was put back;
    /// `awaiting` the approval request its reinstatement waits for, if it needs sign-offs.
    RolledBack {
        /// The version taken out of service.
        from: ModelRef,
        /// The previous champion, back in service.
        reinstated: Option<ModelRef>,
        /// The request the reinstatement waits for.
        awaiting: Option<ApprovalId>,
    },
}

impl Governance {
    /// Answers an alarm on `version` raised by `responder` (a monitoring service in the
    /// directory): records `alarm` as evidence against the version, then, if the version
    /// serves (its state has the policy's rollback event), acts by the engine's
    /// [`AlarmPolicy`] for the model's tier. Every step is audited; the rollback and the
    /// reinstatement are ordinary gated transitions with the alarm as their evidence.
    ///
    /// # Errors
    /// As [`Governance::record_evidence`] and [`Governance::transition`] (a rollback denied for
    /// other reasons than sign-offs is returned as its denial).
    pub fn respond_to_alarm(
        &self,
        version: &ModelRef,
        alarm: Evidence,
        responder: &ActorId,
    ) -> Result<AlarmResponse> {
        self.record_evidence(version, alarm.clone(), responder)?;
        let agg = self.store.get_model(version.name())?;
        let state = agg.state(version.version()).cloned().ok_or_else(|| {
            mlops_registry::RegistryError::version_not_found(version.name(), version.version())
        })?;
        let policy = &self.alarm_policy;
        let serves = self
            .lifecycle
            .transition(&state, &policy.rollback_event)
            .is_ok();
        let action = if serves {
            policy.action(agg.model().risk_tier)
        } else {
            AlarmAction::Record
        };
        let ctx = PlanContext::default().with_evidence(alarm.clone());
        let response = match action {
            AlarmAction::Record => AlarmResponse::Recorded,
            AlarmAction::OpenReview => {
                let stay = super::transition::stay_of(&agg, version.version());
                let open = ApprovalBook::of_model(&agg)?
                    .latest_for(version, &state, &policy.rollback_event, stay)
                    .filter(|r| r.status == RequestStatus::Open)
                    .map(|r| r.id.clone());
                match open {
                    Some(id) => AlarmResponse::ReviewAlreadyOpen(id),
                    None => {
                        AlarmResponse::ReviewOpened(self.open_review(version, responder, &ctx)?)
                    }
                }
            }
            AlarmAction::RollBack => self.roll_back(version, responder, &ctx)?,
        };
        let draft = AuditDraft::new(
            self.clock.now(),
            self.actor(responder)?,
            AuditAction::ALARM_ANSWERED,
            version_subject(version),
        )
        .with_details(json!({
            "alarm": { "check": alarm.check.as_str(), "value": alarm.value, "outcome": alarm.outcome },
            "action": action,
            "response": format!("{response:?}"),
        }));
        self.append_governed(vec![draft])?;
        tracing::warn!(version = %version, check = %alarm.check, ?action, "alarm answered");
        Ok(response)
    }

    /// Opens an approval request for the rollback of `version`, whatever the policy requires.
    fn open_review(
        &self,
        version: &ModelRef,
        responder: &ActorId,
        ctx: &PlanContext,
    ) -> Result<ApprovalId> {
        let event = self.alarm_policy.rollback_event.clone();
        let mut attempt = 0;
        loop {
            let plan = self.plan(version.name(), version.version(), &event, responder, ctx)?;
            let now = self.clock.now();
            let mut agg = self.store.get_model(version.name())?;
            let expected = agg.revision();
            let req = super::approvals::open_request(
                &mut agg,
                RequestKind::Transition,
                &plan,
                now,
                self.approval_ttl,
            )?;
            let draft =
                self.approval_draft(&plan.actor, AuditAction::APPROVAL_OPENED, &req, None, now);
            match self.commit_governed(expected, agg, vec![draft]) {
                Ok(_) => return Ok(req.id),
                Err(GovernanceError::Conflict { .. }) if attempt < super::RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Rolls `version` back and reinstates the champion before it, through gated transitions.
    fn roll_back(
        &self,
        version: &ModelRef,
        responder: &ActorId,
        ctx: &PlanContext,
    ) -> Result<AlarmResponse> {
        let policy = &self.alarm_policy;
        let previous = self
            .store
            .get_model(version.name())?
            .previous_alias_target(&AliasName::champion())
            .filter(|p| *p != version.version())
            .map(|p| ModelRef::new(version.name().clone(), p));
        match self.transition(version, &policy.rollback_event, responder, ctx) {
            Ok(_) => {}
            Err(GovernanceError::Denied {
                approval: Some(id), ..
            }) => return Ok(AlarmResponse::ReviewOpened(id)),
            Err(e) => return Err(e),
        }
        let (mut reinstated, mut awaiting) = (None, None);
        if let Some(prev) = previous {
            match self.transition(&prev, &policy.reinstate_event, responder, ctx) {
                Ok(_) => reinstated = Some(prev),
                Err(GovernanceError::Denied {
                    approval: Some(id), ..
                }) => awaiting = Some(id),
                // The previous champion cannot come back (archived, unknown state): the
                // rollback stands; the audit trail shows the attempt.
                Err(GovernanceError::Denied { .. } | GovernanceError::Lifecycle(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(AlarmResponse::RolledBack {
            from: version.clone(),
            reinstated,
            awaiting,
        })
    }
}
