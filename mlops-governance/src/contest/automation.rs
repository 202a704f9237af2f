//! Acting on outcomes: a promotion becomes a governance transition request carrying the
//! contest's evidence; a rollback is an automatic, audited route-table change back to the
//! champion (the harmful challenger removed, or the kill switch for the last one).

use mlops_core::EventName;
use mlops_core::{Actor, ActorId, Subject, VersionNumber};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::routing::{ArmRole, ConfigRevision, Router};
use serde_json::json;

use super::engine::{ChallengerOutcome, ChallengerReport, Contest};
use super::error::ContestError;
use crate::approval::ApprovalId;
use crate::audit::AuditLog;
use crate::engine::{Governance, PlanContext, Transitioned};
use crate::error::GovernanceError;
use crate::policy::Verdict;

/// What became of a promotion request.
///
/// Exhaustive on purpose: the host must handle a pending approval.
#[derive(Debug, Clone, PartialEq)]
pub enum Promotion {
    /// The policy allowed it: the transition is committed.
    Applied(Box<Transitioned>),
    /// The policy still needs sign-offs: an approval request is open (the denial is audited).
    AwaitingSignoffs {
        /// The open request.
        approval: Option<ApprovalId>,
        /// The verdict with the unmet sign-off guards.
        verdict: Box<Verdict>,
    },
}

/// Requests the lifecycle `event` (for example `promote`) for a challenger whose outcome is
/// [`ChallengerOutcome::Promote`], carrying its evidence (`contest.promote` and every metric's
/// `contest.primary.*` / `contest.guardrail.*`) in `context`. The engine plans and commits it
/// (re-planning on a concurrent change); the policy decides whether sign-offs are still needed.
///
/// # Errors
/// [`ContestError::NotActionable`] unless the outcome is promote and the report is valid;
/// [`ContestError::Governance`] for any other denial or failure.
pub fn request_promotion(
    governance: &Governance,
    report: &ChallengerReport,
    event: &EventName,
    actor: &ActorId,
    context: PlanContext,
) -> Result<Promotion, ContestError> {
    if report.outcome != ChallengerOutcome::Promote || report.invalid.is_some() {
        return Err(ContestError::NotActionable {
            version: report.version.version(),
            action: "promoted",
            outcome: report.outcome.to_string(),
        });
    }
    let mut context = context.with_evidence(report.to_evidence());
    context.evidence.extend(report.metric_evidence());
    match governance.transition(&report.version, event, actor, &context) {
        Ok(t) => {
            tracing::info!(version = %report.version, to = %t.to, "contest promotion applied");
            Ok(Promotion::Applied(Box::new(t)))
        }
        Err(GovernanceError::Denied { verdict, approval }) if verdict.awaits_only_signoffs() => {
            tracing::info!(version = %report.version, "contest promotion awaits sign-offs");
            Ok(Promotion::AwaitingSignoffs { approval, verdict })
        }
        Err(e) => Err(ContestError::Governance(Box::new(e))),
    }
}

impl Contest {
    /// Rolls `challenger` back after its outcome became [`ChallengerOutcome::RollBackNow`], in
    /// one atomic route-table step: when other challengers remain in the serving table, a new
    /// revision without `challenger` (its traffic, segment rules and overrides go back to the
    /// champion); when it is the last one, or the new table cannot be built, the router's kill
    /// switch (everything to the champion). Then one `contest.rollback` audit record (about the
    /// challenger, with both revisions, the method and the outcome's evidence) is appended, and
    /// the contest adopts the new revision. The route change comes first on purpose: stopping
    /// harm does not wait for the audit log. A table moved by someone else is rolled back all
    /// the same (the record names both revisions).
    ///
    /// Units of the remaining challengers may be reassigned by the new revision (the bucket
    /// layout is recomputed); their comparison continues on the new revision's decisions.
    ///
    /// # Errors
    /// [`ContestError::NotActionable`] unless the latched outcome is a rollback;
    /// [`ContestError::UnknownArm`]; [`ContestError::ArmRemoved`] if it was already rolled back
    /// or removed (nothing is changed); [`ContestError::Audit`] if the record could not be written
    /// (the route change is already serving; the error names its revision).
    pub fn roll_back(
        &mut self,
        challenger: VersionNumber,
        router: &Router,
        audit: &dyn AuditLog,
        actor: &Actor,
    ) -> Result<ConfigRevision, ContestError> {
        let outcome = self.outcome(challenger).ok_or(ContestError::UnknownArm {
            version: challenger,
        })?;
        if !matches!(outcome, ChallengerOutcome::RollBackNow { .. }) {
            return Err(ContestError::NotActionable {
                version: challenger,
                action: "rolled back",
                outcome: outcome.to_string(),
            });
        }
        if self.is_removed(challenger) {
            return Err(ContestError::ArmRemoved {
                version: challenger,
            });
        }
        let before = router.revision();
        let report = self.look();
        let evidence = report
            .challenger(challenger)
            .map(ChallengerReport::to_evidence);
        let current = router.table();
        let others = current
            .arms()
            .iter()
            .filter(|a| a.role == ArmRole::Challenger && a.version != challenger)
            .count();
        let in_table = current.arms().iter().any(|a| a.version == challenger);
        let removal = (others > 0 && in_table && !current.is_killed())
            .then(|| {
                let mut b = current.to_builder();
                b.remove_challenger(challenger).ok()?;
                b.revision(ConfigRevision::new(
                    current.revision().get().saturating_add(1),
                ))
                .build()
                .ok()
            })
            .flatten()
            .and_then(|t| router.publish(t).ok());
        let (revision, kill_switch) = match removal {
            Some(r) => (r, false),
            None => (router.kill(), true),
        };
        self.adopt_revision(revision);
        self.set_outcome(challenger, outcome);
        self.mark_removed(challenger);
        tracing::warn!(model = %self.model(), challenger = challenger.get(), from = before.get(),
            to = revision.get(), "contest rolled back to the champion");
        let draft = AuditDraft::new(
            report.at,
            actor.clone(),
            AuditAction::CONTEST_ROLLBACK,
            Subject::Version {
                version: mlops_core::ModelRef::new(self.model().clone(), challenger),
            },
        )
        .with_details(json!({
            "champion": self.champion().get(),
            "revision_before": before.get(),
            "revision_after": revision.get(),
            "kill_switch": kill_switch,
            "evidence": evidence,
        }));
        audit
            .append(vec![draft])
            .map_err(|source| ContestError::Audit { revision, source })?;
        Ok(revision)
    }
}
