//! Tampering with a SQLite registry file directly, with its append-only triggers dropped (what
//! someone with write access to the file can do): verification finishes in bounded time and
//! memory, names the bad record, and catches records cut off the end or a rewritten tail by
//! the head the store keeps. A rewrite of the whole store, head included, is caught only by a
//! checkpoint exported earlier.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, ManualClock, Subject};
use mlops_governance::AuditError;
use mlops_governance::audit::{AuditLog, AuditLogExt, Checkpoint, PAGE, StoreAuditLog};
use mlops_governance::engine::Governance;
use mlops_registry::audit::{
    self, AuditAction, AuditDraft, AuditRecord, ChainBreakReason, ChainHead,
};
use mlops_registry::store::ModelStore;
use mlops_registry::store::sqlite::{SqliteStore, Synchronous};

fn draft(i: u64) -> AuditDraft {
    AuditDraft::new(
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i64::try_from(i).unwrap()),
        Actor::human("rita").unwrap(),
        AuditAction::new("host.review.recorded").unwrap(),
        Subject::Model {
            model: "fraud".parse().unwrap(),
        },
    )
    .with_details(mlops_registry::serde_json::json!({ "n": i }))
}

/// A registry file holding `n` audit records.
fn file_with(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let store = SqliteStore::open_with(&path, Synchronous::Normal).unwrap();
    let mut i = 0;
    while i < n {
        let batch = (n - i).min(10_000);
        store
            .append_audit((i..i + batch).map(draft).collect())
            .unwrap();
        i += batch;
    }
    (dir, path)
}

/// A connection to the file with every audit trigger dropped.
fn tamper(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;
         DROP TRIGGER audit_head_forward_only; DROP TRIGGER audit_head_never_deleted;",
    )
    .unwrap();
    conn
}

fn log(path: &Path) -> StoreAuditLog {
    StoreAuditLog::new(Arc::new(SqliteStore::open(path).unwrap()))
}

/// Runs `f` on another thread and fails the test if it has not finished within `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("did not finish within {secs} s (looping?)"))
}

/// An audit log that counts what verification asks of the store.
#[derive(Debug)]
struct Counting {
    inner: StoreAuditLog,
    reads: AtomicU64,
    largest: AtomicUsize,
}

impl AuditLog for Counting {
    fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError> {
        self.inner.append(drafts)
    }
    fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let page = self.inner.read(from, limit)?;
        self.largest.fetch_max(page.len(), Ordering::Relaxed);
        Ok(page)
    }
    fn head(&self) -> Result<Option<ChainHead>, AuditError> {
        self.inner.head()
    }
}

/// The counting wrapper is an audit log like any other: the kit holds for it.
#[test]
fn the_counting_log_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ModelStore> =
        Arc::new(SqliteStore::open(dir.path().join("registry.db")).unwrap());
    let log = Counting {
        inner: StoreAuditLog::new(store),
        reads: AtomicU64::new(0),
        largest: AtomicUsize::new(0),
    };
    mlops_governance::testkit::audit_log::run_all(&log);
    assert!(
        log.reads.load(Ordering::Relaxed) > 0,
        "the kit reads through the wrapper"
    );
}

fn broken(r: Result<Checkpoint, AuditError>) -> (u64, ChainBreakReason) {
    match r {
        Err(AuditError::Broken(b)) => (b.seq, b.reason),
        other => panic!("expected a chain break, got {other:?}"),
    }
}

#[test]
fn an_edited_seq_at_65536_of_70000_is_named_in_bounded_time_and_memory() {
    let (_dir, path) = file_with(70_000);
    tamper(&path)
        .execute(
            "UPDATE audit SET record = json_set(record, '$.seq', 0) WHERE seq = 65536",
            [],
        )
        .unwrap();
    let p = path.clone();
    let (result, reads, largest) = within(120, move || {
        let log = Counting {
            inner: log(&p),
            reads: AtomicU64::new(0),
            largest: AtomicUsize::new(0),
        };
        let r = log.verify();
        (r, log.reads.into_inner(), log.largest.into_inner())
    });
    // The record at position 65536 now says seq 0: named, with the number it should carry.
    assert_eq!(
        broken(result),
        (0, ChainBreakReason::SeqGap { expected: 65_536 })
    );
    // Memory is bounded by the page, not the log: at most one page of records at a time, and
    // no more pages than the head allows.
    // (Each page is read in one part per core, a part with the record before it.)
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as u64;
    assert!(largest <= PAGE + 1, "a read of {largest} records");
    assert!(reads <= (70_000 / PAGE as u64 + 2) * cores, "{reads} reads");
    // The engine starts on the tampered file (it does not loop rebuilding from the log), and
    // the scans behind reports end.
    let p = path.clone();
    within(120, move || {
        let store: Arc<dyn ModelStore> = Arc::new(SqliteStore::open(&p).unwrap());
        let gov =
            Governance::builder(store, Arc::new(ManualClock::new(DateTime::UNIX_EPOCH))).build();
        let all = gov.audit_log().read_all().unwrap();
        assert_eq!(all.len(), 70_000);
        assert_eq!(all[65_535].seq, 0);
    });
}

#[test]
fn a_seq_edited_to_jump_ahead_does_not_hide_the_records_after_it() {
    let (_dir, path) = file_with(300);
    tamper(&path)
        .execute(
            "UPDATE audit SET record = json_set(record, '$.seq', 9000000000000000000) WHERE seq = 100",
            [],
        )
        .unwrap();
    let log = log(&path);
    assert_eq!(
        broken(within(60, move || log.verify())),
        (
            9_000_000_000_000_000_000,
            ChainBreakReason::SeqGap { expected: 100 }
        )
    );
}

#[test]
fn cutting_records_off_the_end_is_caught_by_the_head() {
    for cut in [1u64, 7, 200] {
        let (_dir, path) = file_with(200);
        tamper(&path)
            .execute("DELETE FROM audit WHERE seq > ?1", [200 - cut as i64])
            .unwrap();
        assert_eq!(
            log(&path).verify(),
            Err(AuditError::HeadTruncated {
                head_seq: 200,
                last_seq: 200 - cut
            }),
            "cut {cut}"
        );
    }
}

/// Rewrites records `from..=to` (positions) with a new justification, re-chained so that
/// every hash and link is valid again.
fn rewrite_tail(conn: &rusqlite::Connection, store: &SqliteStore, from: u64) -> AuditRecord {
    let mut prev = store.read_audit(from - 1, 1).unwrap().pop();
    let tail = store.read_audit(from, usize::MAX).unwrap();
    let mut last = None;
    for r in tail {
        let mut d = r.draft.clone();
        d.justification = Some("rewritten".into());
        let forged = audit::seal(prev.as_ref(), d).unwrap();
        conn.execute(
            "UPDATE audit SET record = ?2 WHERE seq = ?1",
            rusqlite::params![
                i64::try_from(forged.seq).unwrap(),
                mlops_registry::serde_json::to_string(&forged).unwrap()
            ],
        )
        .unwrap();
        prev = Some(forged.clone());
        last = Some(forged);
    }
    last.unwrap()
}

#[test]
fn a_rewritten_and_rechained_tail_is_caught_by_the_head() {
    let (_dir, path) = file_with(200);
    let conn = tamper(&path);
    let forged = rewrite_tail(&conn, &SqliteStore::open(&path).unwrap(), 150);
    // Every hash and link verifies on its own ...
    let records = log(&path).read_all().unwrap();
    audit::verify_chain(&records).unwrap();
    assert_eq!(records.last().unwrap(), &forged);
    // ... but the log no longer ends at the head the store recorded.
    assert_eq!(
        log(&path).verify(),
        Err(AuditError::HeadMismatch { seq: 200 })
    );
}

#[test]
fn records_added_after_the_head_are_caught() {
    let (_dir, path) = file_with(50);
    let conn = tamper(&path);
    let store = SqliteStore::open(&path).unwrap();
    let last = store.read_audit(50, 1).unwrap().pop();
    let extra = audit::seal(last.as_ref(), draft(99)).unwrap();
    conn.execute(
        "INSERT INTO audit (seq, record) VALUES (51, ?1)",
        [mlops_registry::serde_json::to_string(&extra).unwrap()],
    )
    .unwrap();
    assert_eq!(
        log(&path).verify(),
        Err(AuditError::BeyondHead { head_seq: 50 })
    );
    // Deleting the head row instead leaves records and no head.
    let (_dir2, path2) = file_with(5);
    tamper(&path2)
        .execute("DELETE FROM audit_head", [])
        .unwrap();
    assert_eq!(
        log(&path2).verify(),
        Err(AuditError::BeyondHead { head_seq: 0 })
    );
}

/// Whoever can rewrite the whole store, the head included, forges a history that verifies:
/// only a checkpoint exported before, and kept outside the store, reveals it.
#[test]
fn rewriting_the_head_too_needs_an_exported_checkpoint() {
    let (_dir, path) = file_with(200);
    let checkpoint = log(&path).verify().unwrap();
    assert_eq!(checkpoint.seq, 200);
    let conn = tamper(&path);
    let forged = rewrite_tail(&conn, &SqliteStore::open(&path).unwrap(), 150);
    conn.execute(
        "UPDATE audit_head SET seq = ?1, hash = ?2",
        rusqlite::params![i64::try_from(forged.seq).unwrap(), forged.hash.to_string()],
    )
    .unwrap();
    let forged_head = log(&path).verify().unwrap();
    assert_eq!(forged_head.seq, 200, "the forgery verifies on its own");
    assert_ne!(forged_head, checkpoint);
    assert_eq!(
        log(&path).verify_against(&checkpoint),
        Err(AuditError::CheckpointMismatch { seq: 200 })
    );
    // Cutting records off and moving the head back with them: again only the checkpoint.
    conn.execute_batch("DELETE FROM audit WHERE seq > 120")
        .unwrap();
    let at_120 = log(&path).read_all().unwrap().pop().unwrap();
    conn.execute(
        "UPDATE audit_head SET seq = 120, hash = ?1",
        [at_120.hash.to_string()],
    )
    .unwrap();
    assert_eq!(log(&path).verify().unwrap().seq, 120);
    assert_eq!(
        log(&path).verify_against(&checkpoint),
        Err(AuditError::Truncated {
            checkpoint_seq: 200,
            head_seq: 120
        })
    );
}

#[test]
fn an_untouched_file_verifies_to_its_head_and_against_its_checkpoint() {
    let (_dir, path) = file_with(PAGE as u64 + 10);
    let cp = log(&path).verify().unwrap();
    assert_eq!(cp.seq, PAGE as u64 + 10);
    assert_eq!(
        Checkpoint::from(SqliteStore::open(&path).unwrap().audit_head().unwrap()),
        cp
    );
    // Growing past a checkpoint keeps it valid.
    log(&path).append(vec![draft(1)]).unwrap();
    assert_eq!(log(&path).verify_against(&cp).unwrap().seq, cp.seq + 1);
}
