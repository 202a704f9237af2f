//! The conformance kit for [`AuditLog`] implementations.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use mlops_core::{Actor, Subject};
use mlops_registry::RegistryError;
use mlops_registry::audit::{
    AuditAction, AuditDraft, ChainHead, MAX_JUSTIFICATION_LEN, RESERVED_NAMESPACE,
};
use serde_json::json;

use crate::audit::{AuditLog, AuditLogExt};
use crate::error::AuditError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// A draft no other kit call has written in this process (its details carry a counter).
fn draft(tag: &str) -> AuditDraft {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    AuditDraft::new(
        t0(),
        Actor::human("testkit@example.com").unwrap(),
        AuditAction::new("testkit.event").unwrap(),
        Subject::Model {
            model: format!("tk-{tag}").parse().unwrap(),
        },
    )
    .with_details(json!({ "tag": tag, "n": n, "pid": std::process::id() }))
}

/// The head's sequence number (0: empty).
fn head_seq(log: &dyn AuditLog) -> u64 {
    log.head().unwrap().map_or(0, |h| h.seq)
}

/// `append` returns the next sequence numbers in order, and `read` gives back the drafts as
/// written, at those positions.
pub fn append_then_read_back(log: &dyn AuditLog) {
    let before = head_seq(log);
    let drafts = vec![draft("read-back"), draft("read-back"), draft("read-back")];
    let seqs = log.append(drafts.clone()).unwrap();
    assert_eq!(
        seqs,
        vec![before + 1, before + 2, before + 3],
        "append must return the next sequence numbers, in order"
    );
    let records = log.read(before + 1, 3).unwrap();
    assert_eq!(records.len(), 3, "read must return the appended records");
    for ((record, seq), draft) in records.iter().zip(&seqs).zip(&drafts) {
        assert_eq!(record.seq, *seq, "a record's seq is its position");
        assert_eq!(record.draft.action, draft.action);
        assert_eq!(record.draft.actor, draft.actor);
        assert_eq!(record.draft.subject, draft.subject);
        assert_eq!(
            record.draft.details, draft.details,
            "details must read back as written"
        );
    }
}

/// After every append, `head` is the last record appended.
pub fn head_follows_every_append(log: &dyn AuditLog) {
    for n in 1..=3 {
        let drafts = (0..n).map(|_| draft("head")).collect();
        let seqs = log.append(drafts).unwrap();
        let last = *seqs.last().unwrap();
        let head = log.head().unwrap().expect("a log with records has a head");
        assert_eq!(head.seq, last, "the head must be the last record appended");
        let record = log.read(last, 1).unwrap().pop().unwrap();
        assert_eq!(
            head,
            ChainHead::of(&record),
            "the head must be that record's hash"
        );
    }
}

/// `read` pages by position: at most `limit` records, fewer only at the end, none past it.
pub fn read_pages_by_position(log: &dyn AuditLog) {
    log.append((0..5).map(|_| draft("page")).collect()).unwrap();
    let end = head_seq(log);
    let start = end - 4;
    let page = log.read(start, 2).unwrap();
    assert_eq!(
        page.len(),
        2,
        "read must return `limit` records when there are more"
    );
    assert_eq!(page[0].seq, start);
    assert_eq!(page[1].seq, start + 1);
    let tail = log.read(end - 1, 10).unwrap();
    assert_eq!(
        tail.len(),
        2,
        "read returns fewer than `limit` only at the end"
    );
    assert!(
        log.read(end + 1, 10).unwrap().is_empty(),
        "nothing past the end"
    );
    assert!(
        log.read(start, 0).unwrap().is_empty(),
        "a zero limit reads nothing"
    );
}

/// A draft breaking a limit fails with [`AuditError::Registry`] and nothing of its batch is
/// appended.
pub fn invalid_drafts_append_nothing(log: &dyn AuditLog) {
    let before = log.head().unwrap();
    let too_long = draft("invalid").with_justification("x".repeat(MAX_JUSTIFICATION_LEN + 1));
    assert!(
        matches!(
            log.append(vec![draft("invalid"), too_long]),
            Err(AuditError::Registry(RegistryError::InvalidInput { .. }))
        ),
        "an over-long justification must be refused as invalid input"
    );
    assert_eq!(
        log.head().unwrap(),
        before,
        "nothing may be appended on error"
    );
}

/// An unsealed draft in the reserved `governance.` namespace is refused (only the engine may
/// write there) and nothing is appended.
pub fn reserved_actions_need_the_seal(log: &dyn AuditLog) {
    let before = log.head().unwrap();
    let forged = AuditDraft::new(
        t0(),
        Actor::human("forger@example.com").unwrap(),
        AuditAction::new(format!("{RESERVED_NAMESPACE}transition.applied")).unwrap(),
        Subject::Model {
            model: "tk-forged".parse().unwrap(),
        },
    );
    assert!(
        matches!(
            log.append(vec![forged]),
            Err(AuditError::Registry(RegistryError::ReservedAction { .. }))
        ),
        "an unsealed governance action must be refused"
    );
    assert_eq!(
        log.head().unwrap(),
        before,
        "nothing may be appended on error"
    );
}

/// What the log holds verifies, ends at its head, and still contains an earlier checkpoint.
pub fn appended_records_verify(log: &dyn AuditLog) {
    log.append(vec![draft("verify")]).unwrap();
    let earlier = log.verify().expect("the log must verify");
    assert_eq!(earlier.seq, head_seq(log), "verification ends at the head");
    log.append(vec![draft("verify"), draft("verify")]).unwrap();
    let later = log
        .verify_against(&earlier)
        .expect("the log must still contain an earlier checkpoint");
    assert_eq!(later.seq, earlier.seq + 2);
    assert_eq!(log.checkpoint().unwrap(), later);
}

/// Appends from many threads are all kept, each at its own position, and the chain verifies.
pub fn concurrent_appends_are_all_kept(log: &dyn AuditLog) {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 25;
    let before = head_seq(log);
    let mut seqs: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    (0..PER_THREAD)
                        .flat_map(|_| log.append(vec![draft("concurrent")]).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    seqs.sort_unstable();
    let expected: Vec<u64> = (before + 1..=before + THREADS * PER_THREAD).collect();
    assert_eq!(
        seqs, expected,
        "every append must get its own position: none lost"
    );
    assert_eq!(log.verify().unwrap().seq, before + THREADS * PER_THREAD);
}

/// Runs every behaviour above.
pub fn run_all(log: &dyn AuditLog) {
    append_then_read_back(log);
    head_follows_every_append(log);
    read_pages_by_position(log);
    invalid_drafts_append_nothing(log);
    reserved_actions_need_the_seal(log);
    appended_records_verify(log);
    concurrent_appends_are_all_kept(log);
}
