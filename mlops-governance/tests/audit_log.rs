//! Conformance of every `AuditLog` implementation (in memory, store-backed on the in-memory and
//! SQLite stores), also through `Box<dyn>`, `Arc<dyn>` and `&dyn`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, Subject};
use mlops_governance::AuditError;
use mlops_governance::audit::{AuditLog, AuditLogExt, MemoryAuditLog, StoreAuditLog};
use mlops_registry::audit::{self, AuditAction, AuditDraft, MAX_JUSTIFICATION_LEN};
use mlops_registry::store::InMemoryStore;

fn draft(i: i64) -> AuditDraft {
    AuditDraft::new(
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i),
        Actor::human("auditor").unwrap(),
        AuditAction::new("host.report.exported").unwrap(),
        Subject::Model {
            model: "m".parse().unwrap(),
        },
    )
    .with_details(mlops_registry::serde_json::json!({ "i": i }))
}

fn appends_in_order_and_chains(log: &dyn AuditLog) {
    let start = log.checkpoint().unwrap();
    let seqs = log.append(vec![draft(1), draft(2), draft(3)]).unwrap();
    assert_eq!(seqs, [start.seq + 1, start.seq + 2, start.seq + 3]);
    let seqs = log.append(vec![draft(4)]).unwrap();
    assert_eq!(seqs, [start.seq + 4]);
    let all = log.read_all().unwrap();
    assert_eq!(all.len() as u64, start.seq + 4);
    // The hashes are the registry's, whoever sealed them.
    audit::verify_chain(&all).unwrap();
    let head = log.verify().unwrap();
    assert_eq!(head.seq, start.seq + 4);
    assert_eq!(head.head, all.last().unwrap().hash);
}

fn reads_pages(log: &dyn AuditLog) {
    log.append((0..10).map(draft).collect()).unwrap();
    let head = log.checkpoint().unwrap().seq;
    let page = log.read(head - 4, 3).unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [head - 4, head - 3, head - 2]
    );
    assert!(log.read(head + 1, 10).unwrap().is_empty());
    assert_eq!(log.read(1, 0).unwrap().len(), 0);
}

/// Records in governance's namespace cannot be appended through the generic append: a forged
/// `governance.approval.approved` is refused and nothing is written.
fn refuses_forged_governance_records(log: &dyn AuditLog) {
    let before = log.checkpoint().unwrap();
    let mut forged = draft(1);
    forged.action = AuditAction::new("governance.approval.approved").unwrap();
    assert!(matches!(
        log.append(vec![draft(0), forged]),
        Err(AuditError::Registry(
            mlops_registry::RegistryError::ReservedAction { .. }
        ))
    ));
    assert_eq!(log.checkpoint().unwrap(), before, "nothing appended");
}

fn rejects_a_bad_batch_atomically(log: &dyn AuditLog) {
    let before = log.checkpoint().unwrap();
    let too_long = draft(1).with_justification("x".repeat(MAX_JUSTIFICATION_LEN + 1));
    assert!(matches!(
        log.append(vec![draft(0), too_long]),
        Err(AuditError::Registry(_))
    ));
    assert_eq!(log.checkpoint().unwrap(), before, "nothing appended");
}

fn checkpoints_hold_as_the_log_grows(log: &dyn AuditLog) {
    log.append(vec![draft(1)]).unwrap();
    let cp = log.verify().unwrap();
    log.append(vec![draft(2)]).unwrap();
    assert_eq!(log.verify_against(&cp).unwrap().seq, cp.seq + 1);
    let future = mlops_governance::audit::Checkpoint {
        seq: cp.seq + 100,
        head: cp.head,
    };
    assert!(matches!(
        log.verify_against(&future),
        Err(AuditError::Truncated { .. })
    ));
}

fn run_all(make: &dyn Fn() -> Box<dyn AuditLog>) {
    appends_in_order_and_chains(make().as_ref());
    reads_pages(make().as_ref());
    rejects_a_bad_batch_atomically(make().as_ref());
    refuses_forged_governance_records(make().as_ref());
    checkpoints_hold_as_the_log_grows(make().as_ref());
    // Through Arc<dyn> and &dyn as well.
    let arc: Arc<dyn AuditLog> = Arc::from(make());
    appends_in_order_and_chains(&arc);
    let boxed: Box<dyn AuditLog> = make();
    let by_ref: &dyn AuditLog = &boxed;
    reads_pages(&by_ref);
}

#[test]
fn memory_audit_log_conforms() {
    run_all(&|| Box::new(MemoryAuditLog::new()));
}

#[test]
fn store_audit_log_on_the_in_memory_store_conforms() {
    run_all(&|| Box::new(StoreAuditLog::new(Arc::new(InMemoryStore::new()))));
}

#[cfg(feature = "sqlite")]
#[test]
fn store_audit_log_on_sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    run_all(&|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let store =
            mlops_registry::store::SqliteStore::open(dir.path().join(format!("{i}.db"))).unwrap();
        Box::new(StoreAuditLog::new(Arc::new(store)))
    });
}
