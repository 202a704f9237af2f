//! SQLite durability and damage: a writer killed with SIGKILL loses no acknowledged commit and
//! leaves nothing half-written; corrupted files and newer schemas give clear errors.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, AliasName, Digest, ModelName, ModelRef, VersionNumber};
use mlops_registry::RegistryError;
use mlops_registry::audit;
use mlops_registry::model::{ModelAggregate, RegisteredModel, VersionCore};
use mlops_registry::store::{ModelStore, NewVersion, SqliteStore};

fn register(store: &SqliteStore, name: &ModelName) {
    store
        .create_model(
            ModelAggregate::new(RegisteredModel::new(
                name.clone(),
                Actor::service("w").unwrap().id,
                DateTime::UNIX_EPOCH,
            )),
            vec![],
        )
        .unwrap();
}

const CHILD_ENV: &str = "MLOPS_REGISTRY_SIGKILL_CHILD_DB";

fn model() -> ModelName {
    ModelName::new("durable").unwrap()
}

fn core(i: u64) -> VersionCore {
    VersionCore::builder(
        Actor::service("writer").unwrap(),
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i64::try_from(i).unwrap()),
    )
    .artifact(
        "model",
        format!("file:///m/{i}"),
        Digest::of(&i.to_be_bytes()),
        i,
    )
    .build()
    .unwrap()
}

/// The child's loop: create a version, then move `champion` to it, printing `ack <n>` after
/// each acknowledged write pair. Runs only when re-invoked by the parent test with
/// `MLOPS_REGISTRY_SIGKILL_CHILD_DB` set; otherwise it returns at once.
#[test]
fn sigkill_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = SqliteStore::open(&path).unwrap();
    let name = model();
    let by = Actor::service("writer").unwrap();
    let _ = store.create_model(
        ModelAggregate::new(RegisteredModel::new(
            name.clone(),
            by.id.clone(),
            DateTime::UNIX_EPOCH,
        )),
        vec![],
    );
    let stdout = std::io::stdout();
    // Continue numbering after the previous round (the only writer, so version `i` gets core(i)).
    let first = store
        .get_model(&name)
        .unwrap()
        .latest_version()
        .map_or(1, |v| v.get() + 1);
    for i in first.. {
        let created = store
            .create_version(NewVersion::new(name.clone(), core(i)))
            .unwrap();
        let n = created.version.number();
        assert_eq!(n.get(), i);
        let mut agg = store.get_model(&name).unwrap();
        let rev = agg.revision();
        agg.set_alias(AliasName::challenger(), n, &by.id, DateTime::UNIX_EPOCH)
            .unwrap();
        store.commit(&name, rev, agg, vec![]).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "ack {}", n.get()).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_loses_no_acknowledged_commit() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.db");
    let mut last_acked = 0_u64;
    // Three kill rounds on the same file: each reopen must continue cleanly.
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sigkill_child_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let start = Instant::now();
        let mut acked_this_round = 0;
        // Let it write for a while (at least a few acknowledged commits), then kill it
        // mid-stream.
        while start.elapsed() < Duration::from_millis(400 + 150 * round) || acked_this_round < 5 {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(n) = line.strip_prefix("ack ") {
                        last_acked = n.parse().unwrap();
                        acked_this_round += 1;
                    }
                }
                _ => panic!("child writer exited early"),
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        // Acknowledgements already in the pipe were acknowledged before the kill.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ack ") {
                last_acked = n.parse().unwrap();
            }
        }
        child.wait().unwrap();
        check_store(&path, last_acked);
    }
    assert!(last_acked >= 15);
}

fn check_store(path: &Path, last_acked: u64) {
    let store = SqliteStore::open(path).unwrap();
    let name = model();
    let agg = store.get_model(&name).unwrap();
    let latest = agg.latest_version().unwrap().get();
    // Every acknowledged version is there; at most one more (created, not yet acknowledged).
    assert!(
        latest == last_acked || latest == last_acked + 1,
        "latest {latest}, last acknowledged {last_acked}"
    );
    for n in 1..=latest {
        let v = store
            .get_version(&ModelRef::new(name.clone(), VersionNumber::new(n).unwrap()))
            .unwrap();
        assert_eq!(v.core(), &core(n), "version {n} damaged");
    }
    // The acknowledged alias move is there (a later unacknowledged one may be too).
    let champion = agg.alias(&AliasName::challenger()).unwrap().get();
    assert!(
        champion >= last_acked,
        "champion {champion} < acked {last_acked}"
    );
    // The audit log holds exactly one creation record per version, and verifies.
    let log = store.read_audit(1, usize::MAX).unwrap();
    audit::verify_chain(&log).unwrap();
    let created = log
        .iter()
        .filter(|r| r.draft.action == audit::AuditAction::version_created())
        .count() as u64;
    assert_eq!(created, latest, "audit and state disagree");
    let integrity: String = rusqlite_check(path);
    assert_eq!(integrity, "ok");
}

fn rusqlite_check(path: &Path) -> String {
    // SQLite's own consistency check, through a second connection as another process would.
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0xAB_u8; 8192]).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, RegistryError::Corrupt { .. }), "{err:?}");
    // Nothing was reset: the bytes are untouched.
    assert_eq!(std::fs::read(&path).unwrap(), vec![0xAB_u8; 8192]);
}

#[test]
fn a_damaged_database_gives_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let name = model();
        register(&store, &name);
        for i in 1..=50 {
            store
                .create_version(NewVersion::new(name.clone(), core(i)))
                .unwrap();
        }
    }
    // Fold the WAL into the main file, then overwrite pages after the header.
    let mut bytes = std::fs::read(&path).unwrap();
    let wal = dir.path().join("damaged.db-wal");
    if wal.exists() {
        // Reopen and close to checkpoint.
        drop(SqliteStore::open(&path).unwrap());
        bytes = std::fs::read(&path).unwrap();
    }
    for b in bytes.iter_mut().skip(4096) {
        *b = 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::remove_file(dir.path().join("damaged.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("damaged.db-shm"));
    let result = SqliteStore::open(&path).and_then(|s| {
        s.get_model(&model())?;
        s.read_audit(1, 100)
    });
    assert!(
        matches!(
            result,
            Err(RegistryError::Corrupt { .. } | RegistryError::Storage { .. })
        ),
        "{result:?}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    drop(SqliteStore::open(&path).unwrap());
    // A future version of the library bumped the schema.
    set_user_version(&path, mlops_registry::store::sqlite::SCHEMA_VERSION + 1);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, RegistryError::SchemaTooNew { found, supported } if found == supported + 1),
        "{err:?}"
    );
}

/// Writes SQLite's `user_version` header field (big-endian i32 at byte offset 60) directly,
/// as a newer library would have by migrating.
fn set_user_version(path: &Path, v: i64) {
    let mut bytes = std::fs::read(path).unwrap();
    let v = i32::try_from(v).unwrap().to_be_bytes();
    bytes[60..64].copy_from_slice(&v);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn reopening_keeps_everything_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    let name = model();
    let before = {
        let store = SqliteStore::open(&path).unwrap();
        register(&store, &name);
        store
            .create_version(NewVersion::new(name.clone(), core(1)))
            .unwrap();
        store.get_model(&name).unwrap()
    };
    for _ in 0..2 {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.get_model(&name).unwrap(), before);
        audit::verify_chain(&store.read_audit(1, 100).unwrap()).unwrap();
    }
}

/// Turns a file back into schema version 2, before the audit head table.
fn before_audit_head(path: &Path) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER audit_head_forward_only; DROP TRIGGER audit_head_never_deleted;
             DROP TABLE audit_head; PRAGMA user_version = 2;",
        )
        .unwrap();
}

#[test]
fn a_file_from_before_the_audit_head_gets_it_from_its_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let name = model();
    {
        let store = SqliteStore::open(&path).unwrap();
        register(&store, &name);
        for i in 1..=3 {
            store
                .create_version(NewVersion::new(name.clone(), core(i)))
                .unwrap();
        }
    }
    before_audit_head(&path);
    let store = SqliteStore::open(&path).unwrap();
    let log = store.read_audit(1, 100).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(
        store.audit_head().unwrap(),
        Some(audit::ChainHead::of(log.last().unwrap())),
        "migration 3 fills the head from the last record"
    );
    // And the migrated file keeps moving its head.
    store
        .create_version(NewVersion::new(name.clone(), core(4)))
        .unwrap();
    assert_eq!(store.audit_head().unwrap().unwrap().seq, 4);
    // An empty older file gets no head.
    let empty = dir.path().join("empty.db");
    drop(SqliteStore::open(&empty).unwrap());
    before_audit_head(&empty);
    assert_eq!(
        SqliteStore::open(&empty).unwrap().audit_head().unwrap(),
        None
    );
}

#[test]
fn the_audit_head_only_moves_forward_and_an_append_after_a_tampered_tail_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head.db");
    let store = SqliteStore::open(&path).unwrap();
    let draft = |i: i64| {
        audit::AuditDraft::new(
            DateTime::UNIX_EPOCH + TimeDelta::seconds(i),
            Actor::service("w").unwrap(),
            audit::AuditAction::new("host.event").unwrap(),
            mlops_core::Subject::Model { model: model() },
        )
    };
    store.append_audit((0..5).map(draft).collect()).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The triggers refuse to rewind or delete the head.
    assert!(conn.execute("UPDATE audit_head SET seq = 3", []).is_err());
    assert!(conn.execute("DELETE FROM audit_head", []).is_err());
    // With the triggers dropped, cut the last two records off: the store will not seal after
    // the shortened tail (which would hide the cut inside a valid chain).
    conn.execute_batch("DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE seq > 3;")
        .unwrap();
    let err = store.append_audit(vec![draft(9)]).unwrap_err();
    assert!(
        matches!(&err, RegistryError::Corrupt { detail } if detail.contains("last record 3, head 5")),
        "{err}"
    );
    assert_eq!(
        store.read_audit(1, 100).unwrap().len(),
        3,
        "nothing appended"
    );
}
