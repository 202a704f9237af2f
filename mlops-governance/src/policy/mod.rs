//! Policies: what a transition requires, per risk tier, and who may do what.
//!
//! A [`PolicyEngine`] evaluates a planned transition into a [`Verdict`] that lists **every**
//! guard's outcome (not only the first failure), and authorizes actions by role. Evaluation fails
//! closed: [`PolicyEngineExt::evaluate_or_deny`] turns an evaluation error into a denial whose
//! reason is the error. [`Policy`] is the built-in declarative engine, loadable from JSON or
//! TOML.

mod declarative;

use std::fmt;
use std::sync::Arc;

use mlops_core::{Actor, Digest};
use serde::{Deserialize, Serialize};

pub use declarative::{Enforcement, Permissions, Policy, PolicySpec, TierRules};
// Guards live with the lifecycle whose transitions carry them (no lifecycle <-> policy cycle);
// the policy evaluates them, so their public path is here.
pub use crate::lifecycle::guard::{Guard, GuardInput, GuardKind, GuardStatus, Signoff, Threshold};

use crate::error::{AuthorizationError, PolicyError};

/// How a denial is enforced in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnforcementMode {
    /// A denial blocks the transition.
    #[default]
    Enforce,
    /// The transition proceeds; the would-be denial is recorded and logged as a warning.
    Warn,
    /// The transition proceeds; the would-be denial is recorded only.
    Observe,
}

/// Something an actor does, checked against the policy's permissions.
///
/// Exhaustive on purpose: a policy must decide every action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Request a transition.
    Request,
    /// Approve or reject an approval request.
    Approve,
    /// Apply a break-glass override.
    Override,
    /// Replace the policy.
    ChangePolicy,
    /// Cancel an approval request (its requester may always cancel their own).
    Cancel,
    /// Record evidence against a version (monitoring results, validation metrics).
    RecordEvidence,
}

impl Action {
    /// The action's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Approve => "approve",
            Self::Override => "override",
            Self::ChangePolicy => "change_policy",
            Self::Cancel => "cancel",
            Self::RecordEvidence => "record_evidence",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a guard came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GuardSource {
    /// The lifecycle's transition (applies at every tier).
    Lifecycle,
    /// The policy's rules for the model's risk tier.
    Policy,
    /// A rule built into the engine (permissions, the two-person rule at the highest tier).
    Builtin,
}

/// One guard's outcome in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardOutcome {
    /// Where the guard came from.
    pub source: GuardSource,
    /// Its position in its source's list.
    pub index: u16,
    /// Its kind.
    pub kind: GuardKind,
    /// Met or unmet with the reason.
    #[serde(flatten)]
    pub status: GuardStatus,
}

/// Whether a verdict allows the transition.
///
/// Exhaustive on purpose: a caller must handle both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every guard is met.
    Allow,
    /// At least one guard is unmet (or the evaluation failed).
    Deny,
}

/// The result of evaluating a transition: the decision, every guard's outcome, the enforcement
/// mode and the identity of the policy that decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Allow or deny.
    pub decision: Decision,
    /// How a denial is enforced where the transition happens.
    pub mode: EnforcementMode,
    /// The content hash of the policy that decided.
    pub policy: Digest,
    /// Every guard's outcome, in evaluation order.
    pub outcomes: Vec<GuardOutcome>,
}

impl Verdict {
    /// A verdict from guard outcomes: allowed when all are met.
    #[must_use]
    pub fn from_outcomes(
        policy: Digest,
        mode: EnforcementMode,
        outcomes: Vec<GuardOutcome>,
    ) -> Self {
        let decision = if outcomes.iter().all(|o| o.status.is_met()) {
            Decision::Allow
        } else {
            Decision::Deny
        };
        Self {
            decision,
            mode,
            policy,
            outcomes,
        }
    }

    /// A denial because evaluation failed (fail closed), always enforced.
    #[must_use]
    pub fn evaluation_error(policy: Digest, error: &PolicyError) -> Self {
        Self {
            decision: Decision::Deny,
            mode: EnforcementMode::Enforce,
            policy,
            outcomes: vec![GuardOutcome {
                source: GuardSource::Builtin,
                index: 0,
                kind: GuardKind::Evaluation,
                status: GuardStatus::Unmet {
                    reason: format!("policy evaluation failed: {error}"),
                },
            }],
        }
    }

    /// Whether every guard is met.
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Whether the transition may proceed: allowed, or denied in `warn` / `observe` mode.
    #[must_use]
    pub fn proceeds(&self) -> bool {
        self.is_allowed() || self.mode != EnforcementMode::Enforce
    }

    /// The unmet guards.
    pub fn unmet(&self) -> impl Iterator<Item = &GuardOutcome> {
        self.outcomes.iter().filter(|o| !o.status.is_met())
    }

    /// The reasons of the unmet guards.
    #[must_use]
    pub fn reasons(&self) -> Vec<&str> {
        self.unmet()
            .filter_map(|o| match &o.status {
                GuardStatus::Unmet { reason } => Some(reason.as_str()),
                GuardStatus::Met => None,
            })
            .collect()
    }

    /// Whether the only unmet guards are sign-offs (approvals or the two-person rule), so that
    /// opening an approval request can make the transition possible.
    #[must_use]
    pub fn awaits_only_signoffs(&self) -> bool {
        let mut any = false;
        for o in self.unmet() {
            match o.kind {
                GuardKind::Approvals | GuardKind::TwoPersonRule => any = true,
                _ => return false,
            }
        }
        any
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.decision {
            Decision::Allow => write!(f, "allowed ({} guards met)", self.outcomes.len()),
            Decision::Deny => write!(f, "denied: {}", self.reasons().join("; ")),
        }
    }
}

/// Decides transitions and authorizes actions. Hosts may implement their own; [`Policy`] is the
/// built-in declarative one.
pub trait PolicyEngine: Send + Sync + fmt::Debug {
    /// The policy's identity: a content hash, recorded in every audit record it decides.
    fn identity(&self) -> Digest;

    /// Evaluates every guard for the transition described by `input`.
    ///
    /// # Errors
    /// [`PolicyError`] if the policy cannot be evaluated (callers deny: see
    /// [`PolicyEngineExt::evaluate_or_deny`]).
    fn evaluate(&self, input: &GuardInput<'_>) -> Result<Verdict, PolicyError>;

    /// Whether `actor` may perform `action` on the transition described by `input` (for
    /// [`Action::Approve`], whether they may sign off on it).
    ///
    /// # Errors
    /// [`AuthorizationError::MissingRole`] naming the actor, the action and the roles that would
    /// allow it; [`AuthorizationError::WrongRole`] for an approver whose roles count toward no
    /// sign-off the transition needs; [`AuthorizationError::Evaluation`] if the engine cannot
    /// decide (the action is refused).
    fn authorize(
        &self,
        actor: &Actor,
        action: Action,
        input: Option<&GuardInput<'_>>,
    ) -> Result<(), AuthorizationError>;
}

/// Conveniences over [`PolicyEngine`].
pub trait PolicyEngineExt: PolicyEngine {
    /// Evaluates, turning an evaluation error into a denial whose reason is the error (fail
    /// closed).
    fn evaluate_or_deny(&self, input: &GuardInput<'_>) -> Verdict {
        match self.evaluate(input) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, version = %input.version, "policy evaluation failed; denying");
                Verdict::evaluation_error(self.identity(), &e)
            }
        }
    }
}

impl<T: PolicyEngine + ?Sized> PolicyEngineExt for T {}

/// Forwards [`PolicyEngine`] through a pointer, so `Box<dyn PolicyEngine>`, `Arc<dyn
/// PolicyEngine>` and `&dyn PolicyEngine` are engines too.
macro_rules! forward_policy_engine {
    ($($ty:ty),*) => {$(
        impl<T: PolicyEngine + ?Sized> PolicyEngine for $ty {
            fn identity(&self) -> Digest {
                (**self).identity()
            }
            fn evaluate(&self, input: &GuardInput<'_>) -> Result<Verdict, PolicyError> {
                (**self).evaluate(input)
            }
            fn authorize(
                &self,
                actor: &Actor,
                action: Action,
                input: Option<&GuardInput<'_>>,
            ) -> Result<(), AuthorizationError> {
                (**self).authorize(actor, action, input)
            }
        }
    )*};
}

forward_policy_engine!(Box<T>, Arc<T>, &T);

#[cfg(test)]
mod tests;
