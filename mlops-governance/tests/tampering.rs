//! Edit, reorder, delete or cut off any record of a stored log: verification names it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_core::RiskTier;
use mlops_governance::AuditError;
use mlops_governance::audit::{AuditLogExt, MemoryAuditLog};
use mlops_governance::engine::PlanContext;
use mlops_governance::lifecycle::names;
use mlops_registry::audit::{self, AuditRecord, ChainBreakReason};
use support::{World, bank_policy};

/// What a forger with write access to the storage does: compute a record's hash by the
/// documented encoding (the SDK's own `seal` refuses unsealed governance records).
fn forge(prev: Option<&AuditRecord>, draft: mlops_registry::audit::AuditDraft) -> AuditRecord {
    let (seq, prev_hash) = prev.map_or((1, audit::genesis_hash()), |p| (p.seq + 1, p.hash));
    let hash = audit::record_hash(seq, &prev_hash, &draft).unwrap();
    AuditRecord {
        seq,
        draft,
        prev_hash,
        hash,
    }
}

/// A real log: a few versions through the lifecycle with denials and approvals.
fn recorded_log() -> Vec<AuditRecord> {
    let w = World::new(bank_policy());
    let c = &w.cast;
    for tier in [RiskTier::Low, RiskTier::Medium] {
        let v = w.version("fraud", tier);
        let ctx = PlanContext::default();
        w.gov
            .transition(&v, &names::SUBMIT, &c.eve.id, &ctx)
            .unwrap();
        w.gov
            .transition(&v, &names::VALIDATE, &c.eve.id, &ctx)
            .unwrap();
        match w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx) {
            Ok(_) => {}
            Err(mlops_governance::GovernanceError::Denied {
                approval: Some(r), ..
            }) => {
                w.gov.approve(&r, &c.val.id, "ok").unwrap();
                w.gov
                    .transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
                    .unwrap();
            }
            Err(e) => panic!("{e}"),
        }
    }
    let records = w.gov.audit_log().read_all().unwrap();
    assert!(records.len() >= 10, "{}", records.len());
    records
}

fn verify(records: Vec<AuditRecord>) -> Result<(), AuditError> {
    MemoryAuditLog::from_records(records).verify().map(|_| ())
}

fn broken_at(r: Result<(), AuditError>) -> (u64, ChainBreakReason) {
    match r {
        Err(AuditError::Broken(b)) => (b.seq, b.reason),
        other => panic!("expected a chain break, got {other:?}"),
    }
}

#[test]
fn the_untouched_log_verifies() {
    verify(recorded_log()).unwrap();
}

#[test]
fn editing_any_record_is_named() {
    let log = recorded_log();
    for i in 0..log.len() {
        let mut t = log.clone();
        t[i].draft.justification = Some("nothing to see here".into());
        assert_eq!(
            broken_at(verify(t)),
            (log[i].seq, ChainBreakReason::HashMismatch),
            "record {i}"
        );
        // Changing who acted, or the verdict in the details, is caught the same way.
        let mut t = log.clone();
        t[i].draft.details["approvers"] = serde_json::json!(["mallory"]);
        assert_eq!(broken_at(verify(t)).0, log[i].seq);
        let mut t = log.clone();
        t[i].draft.at += mlops_core::chrono::TimeDelta::seconds(1);
        assert_eq!(broken_at(verify(t)).0, log[i].seq);
    }
}

#[test]
fn an_edit_with_a_recomputed_hash_is_named_at_the_next_record() {
    let log = recorded_log();
    for i in 0..log.len() - 1 {
        let mut t = log.clone();
        t[i].draft.actor = mlops_core::Actor::human("mallory").unwrap();
        t[i].hash = audit::record_hash(t[i].seq, &t[i].prev_hash, &t[i].draft).unwrap();
        assert_eq!(
            broken_at(verify(t)),
            (log[i + 1].seq, ChainBreakReason::PrevHashMismatch),
            "record {i}"
        );
    }
}

#[test]
fn reordering_any_two_neighbours_is_named() {
    let log = recorded_log();
    for i in 0..log.len() - 1 {
        let mut t = log.clone();
        t.swap(i, i + 1);
        let (seq, _) = broken_at(verify(t));
        assert_eq!(
            seq,
            log[i + 1].seq,
            "the record moved into position {i} is named"
        );
    }
}

#[test]
fn deleting_any_record_but_the_last_is_named() {
    let log = recorded_log();
    for i in 0..log.len() - 1 {
        let mut t = log.clone();
        t.remove(i);
        let (seq, reason) = broken_at(verify(t));
        assert_eq!(seq, log[i + 1].seq, "record {i}");
        assert_eq!(
            reason,
            ChainBreakReason::SeqGap {
                expected: log[i].seq
            }
        );
    }
}

#[test]
fn checkpoints_reveal_truncation_and_rewrites() {
    let log = recorded_log();
    let checkpoint = MemoryAuditLog::from_records(log.clone()).verify().unwrap();
    assert_eq!(checkpoint.seq, log.len() as u64);
    // Cutting records off the end leaves a valid chain; only the checkpoint shows it.
    for keep in [0, 1, log.len() / 2, log.len() - 1] {
        let cut = MemoryAuditLog::from_records(log[..keep].to_vec());
        cut.verify().unwrap();
        assert_eq!(
            cut.verify_against(&checkpoint),
            Err(AuditError::Truncated {
                checkpoint_seq: checkpoint.seq,
                head_seq: keep as u64
            })
        );
    }
    // Rewriting the whole tail consistently also verifies, but not against the checkpoint.
    let mut forged = log[..3].to_vec();
    for r in &log[3..] {
        let mut d = r.draft.clone();
        d.justification = Some("rewritten".into());
        let sealed = forge(forged.last(), d);
        forged.push(sealed);
    }
    let forged = MemoryAuditLog::from_records(forged);
    forged.verify().unwrap();
    assert_eq!(
        forged.verify_against(&checkpoint),
        Err(AuditError::CheckpointMismatch {
            seq: checkpoint.seq
        })
    );
    // The honest log, grown by one record, still contains the checkpoint.
    let grown = MemoryAuditLog::from_records(log.clone());
    use mlops_governance::audit::AuditLog;
    grown.append(vec![log[0].draft.clone()]).unwrap(); // a registry record: any host may append
    assert_eq!(
        grown.verify_against(&checkpoint).unwrap().seq,
        checkpoint.seq + 1
    );
}

#[test]
fn parallel_verification_names_the_earliest_break_in_a_long_chain() {
    let base = recorded_log();
    let mut records: Vec<AuditRecord> = Vec::new();
    for _ in 0..460 {
        for r in base.iter().take(10) {
            let next = forge(records.last(), r.draft.clone());
            records.push(next);
        }
    }
    assert!(records.len() > 4096, "long enough for the parallel path");
    mlops_governance::audit::verify_records(&records).unwrap();
    for i in [records.len() - 1, records.len() / 2, 4000, 100] {
        let mut t = records.clone();
        t[i].draft.justification = Some("x".into());
        // A second, later break must not hide the first.
        let last = t.len() - 1;
        if i != last {
            t[last].draft.justification = Some("y".into());
        }
        match mlops_governance::audit::verify_records(&t) {
            Err(AuditError::Broken(b)) => assert_eq!(b.seq, records[i].seq),
            other => panic!("{other:?}"),
        }
    }
}

/// The log-level verification reads a page in parallel parts: a break anywhere (inside a part,
/// on either side of a part or page boundary, the last record) is named exactly, and a later
/// break never hides an earlier one.
#[test]
fn streamed_verification_names_a_break_at_any_part_or_page_boundary() {
    use mlops_governance::audit::PAGE;
    let base = recorded_log();
    let n = PAGE + 5000;
    let mut records: Vec<AuditRecord> = Vec::with_capacity(n);
    for r in base.iter().cycle().take(n) {
        let next = forge(records.last(), r.draft.clone());
        records.push(next);
    }
    assert_eq!(
        MemoryAuditLog::from_records(records.clone())
            .verify()
            .unwrap()
            .seq,
        n as u64
    );
    let half = PAGE / 2;
    for i in [0, half - 1, half, PAGE - 1, PAGE, n - 1] {
        let mut t = records.clone();
        t[i].draft.justification = Some("x".into());
        if i + 10 < n {
            t[n - 1].draft.justification = Some("later".into());
        }
        assert_eq!(
            broken_at(verify(t)),
            (records[i].seq, ChainBreakReason::HashMismatch),
            "edit at index {i}"
        );
        if i + 1 < n {
            let mut t = records.clone();
            t.remove(i);
            let (seq, _) = broken_at(verify(t));
            assert_eq!(seq, records[i + 1].seq, "removal at index {i}");
        }
    }
}
