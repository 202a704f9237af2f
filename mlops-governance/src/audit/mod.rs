//! The audit log: governance's records in the registry's hash-chained format.
//!
//! Every applied, denied and overridden transition, every eviction, approval, rejection, expiry,
//! cancellation, unauthorized attempt and policy change is a record (an
//! [`AuditRecord`](mlops_registry::audit::AuditRecord) sealed by the store in the same commit as
//! the change it describes). The action names are in the registry's catalogue
//! ([`AuditAction::ALL`], namespace `governance.`); a record's `details` carry the verdict with
//! every guard's outcome and the policy identity (content hash); policy records have the policy
//! itself as subject ([`Subject::Policy`]).
//!
//! An [`AuditLog`] appends and reads records; [`MemoryAuditLog`] keeps them in memory and
//! [`StoreAuditLog`] reads the registry store's chain (where the engine writes). The
//! [`AuditLogExt`] conveniences verify the chain page by page (naming the first modified,
//! reordered or removed record) and check that it ends exactly at the head the store recorded
//! with its last append (revealing records cut off the end and a rewritten tail), export and
//! check [`Checkpoint`]s, and answer the auditor's questions: the history of a version, and
//! every version ever in production with who approved it.
//!
//! # What needs an exported checkpoint
//!
//! The store's head is kept in the same store as the records. Whoever can rewrite the whole
//! store, head included (a database administrator, an attacker with the file), can replace the
//! history with a consistent forgery that verifies. Export a [`Checkpoint`] regularly
//! ([`AuditLogExt::verify`] returns one) to somewhere that person cannot write (a ticket, a
//! WORM bucket, the auditor's own records) and check the log with
//! [`AuditLogExt::verify_against`].

mod log;
mod query;

pub use log::{
    AuditLog, AuditLogExt, Checkpoint, MemoryAuditLog, PAGE, StoreAuditLog, verify_records,
    verify_records_after,
};
pub use query::{ProductionEntry, history, production_roster};

use mlops_core::{Digest, Subject};
use mlops_registry::audit::{AuditAction, AuditNamespace};

/// The subject of policy records (a policy change, an unauthorized attempt to change it): the
/// policy, by its identity (content hash).
#[must_use]
pub fn policy_subject(identity: Digest) -> Subject {
    Subject::Policy { identity }
}

/// Whether `action` is one of governance's (`governance.*`).
#[must_use]
pub fn is_governance_action(action: &AuditAction) -> bool {
    action.namespace() == AuditNamespace::Governance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn governance_actions_are_the_catalogued_governance_namespace() {
        let ours: Vec<_> = AuditAction::ALL
            .iter()
            .filter(|a| is_governance_action(a))
            .collect();
        assert!(ours.contains(&&AuditAction::TRANSITION_APPLIED));
        assert!(ours.iter().all(|a| a.as_str().starts_with("governance.")));
        assert!(!is_governance_action(&AuditAction::ALIAS_MOVED));
        let id = Digest::of(b"policy");
        assert_eq!(policy_subject(id), Subject::Policy { identity: id });
    }
}
