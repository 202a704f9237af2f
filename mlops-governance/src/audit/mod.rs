//! The audit log: governance's records in the registry's hash-chained format.
//!
//! Every applied, denied and overridden transition, every eviction, approval, rejection, expiry,
//! cancellation, unauthorized attempt and policy change is a record (an
//! [`AuditRecord`](mlops_registry::audit::AuditRecord) sealed by the store in the same commit as
//! the change it describes). The action names are in [`actions`]; a record's `details` carry the
//! verdict with every guard's outcome and the policy identity (content hash).
//!
//! An [`AuditLog`] appends and reads records; [`MemoryAuditLog`] keeps them in memory and
//! [`StoreAuditLog`] reads the registry store's chain (where the engine writes). The
//! [`AuditLogExt`] conveniences verify the chain (naming the first modified, reordered or removed
//! record), export and check [`Checkpoint`]s (revealing truncation), and answer the auditor's
//! questions: the history of a version, and every version ever in production with who approved
//! it.

mod hash;
mod log;
mod query;

pub use hash::{fast_record_hash, fast_seal};
pub use log::{AuditLog, AuditLogExt, Checkpoint, MemoryAuditLog, StoreAuditLog, verify_records};
pub use query::{ProductionEntry, history, production_roster};

use mlops_core::{ModelName, Subject};
use mlops_registry::audit::AuditAction;

/// The audit actions written by governance.
pub mod actions {
    use mlops_registry::audit::AuditAction;

    /// A transition was committed (allowed, or denied but not enforced in this environment).
    pub const TRANSITION_APPLIED: &str = "governance.transition.applied";
    /// A transition was denied.
    pub const TRANSITION_DENIED: &str = "governance.transition.denied";
    /// A break-glass override was applied.
    pub const TRANSITION_OVERRIDDEN: &str = "governance.transition.overridden";
    /// A version was evicted from an exclusive state by another's entry.
    pub const TRANSITION_EVICTED: &str = "governance.transition.evicted";
    /// An approval request was opened.
    pub const APPROVAL_OPENED: &str = "governance.approval.opened";
    /// An approver signed off.
    pub const APPROVAL_APPROVED: &str = "governance.approval.approved";
    /// An approver rejected.
    pub const APPROVAL_REJECTED: &str = "governance.approval.rejected";
    /// A request expired.
    pub const APPROVAL_EXPIRED: &str = "governance.approval.expired";
    /// A request was cancelled.
    pub const APPROVAL_CANCELLED: &str = "governance.approval.cancelled";
    /// A request's transition was committed.
    pub const APPROVAL_FULFILLED: &str = "governance.approval.fulfilled";
    /// An actor attempted something it may not do.
    pub const UNAUTHORIZED: &str = "governance.action.unauthorized";
    /// The policy was replaced.
    pub const POLICY_CHANGED: &str = "governance.policy.changed";
    /// A request lapsed because its version left the state it was for.
    pub const APPROVAL_SUPERSEDED: &str = "governance.approval.superseded";
    /// A rejected request was re-opened as a new request.
    pub const APPROVAL_REOPENED: &str = "governance.approval.reopened";
    /// A governed transition moved a protected alias.
    pub const ALIAS_MOVED: &str = "governance.alias.moved";
    /// A governed transition removed a protected alias.
    pub const ALIAS_REMOVED: &str = "governance.alias.removed";
    /// Evidence was recorded against a version.
    pub const EVIDENCE_RECORDED: &str = "governance.evidence.recorded";
    /// An alarm on a serving version was answered (recorded, review opened, rolled back).
    pub const ALARM_ANSWERED: &str = "governance.alarm.answered";

    /// The action named `name` (one of the constants above, which are all valid).
    #[must_use]
    pub fn action(name: &str) -> AuditAction {
        AuditAction::new(name).unwrap_or_else(|_| AuditAction::model_updated())
    }

    /// Every governance action.
    pub const ALL: [&str; 18] = [
        TRANSITION_APPLIED,
        TRANSITION_DENIED,
        TRANSITION_OVERRIDDEN,
        TRANSITION_EVICTED,
        APPROVAL_OPENED,
        APPROVAL_APPROVED,
        APPROVAL_REJECTED,
        APPROVAL_EXPIRED,
        APPROVAL_CANCELLED,
        APPROVAL_FULFILLED,
        UNAUTHORIZED,
        POLICY_CHANGED,
        APPROVAL_SUPERSEDED,
        APPROVAL_REOPENED,
        ALIAS_MOVED,
        ALIAS_REMOVED,
        EVIDENCE_RECORDED,
        ALARM_ANSWERED,
    ];
}

/// The subject of policy-change records: the pseudo-model `governance-policy` (the core
/// vocabulary has no policy subject).
#[must_use]
pub fn policy_subject() -> Subject {
    Subject::Model {
        model: ModelName::new("governance-policy").unwrap_or_else(|_| fallback_name()),
    }
}

#[allow(clippy::unwrap_used)] // reason: "policy" is a valid model name; never reached
fn fallback_name() -> ModelName {
    ModelName::new("policy").unwrap()
}

/// Whether `action` is one of governance's.
#[must_use]
pub fn is_governance_action(action: &AuditAction) -> bool {
    action.as_str().starts_with("governance.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_valid_audit_actions() {
        for a in actions::ALL {
            assert_eq!(AuditAction::new(a).unwrap().as_str(), a);
            assert!(is_governance_action(&actions::action(a)));
        }
        assert!(
            matches!(policy_subject(), Subject::Model { model } if model.as_str() == "governance-policy")
        );
    }
}
