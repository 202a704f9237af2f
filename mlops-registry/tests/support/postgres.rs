//! Shared helpers for the tests that need a PostgreSQL server.
//!
//! The server comes from `MLOPS_TEST_POSTGRES_URL` (`.ci/postgres.sh start` prints it). Without
//! it a test prints why it is skipped and passes, unless `MLOPS_REQUIRE_POSTGRES=1` (set by CI),
//! where a missing server fails the test.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers"
)]

use std::sync::atomic::{AtomicU64, Ordering};

use mlops_registry::store::PostgresStore;

/// The connection string, or `None` (after printing why) when the test should be skipped.
pub(crate) fn url() -> Option<String> {
    match std::env::var("MLOPS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("MLOPS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MLOPS_REQUIRE_POSTGRES=1 but MLOPS_TEST_POSTGRES_URL is not set \
                 (run `eval \"$(bash .ci/postgres.sh start)\"`)"
            );
            eprintln!(
                "skipped: MLOPS_TEST_POSTGRES_URL is not set \
                 (start a server with `eval \"$(bash .ci/postgres.sh start)\"`)"
            );
            None
        }
    }
}

static N: AtomicU64 = AtomicU64::new(0);

/// A schema name no other test (in any process of this run) uses.
pub(crate) fn fresh_schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store in `schema`.
pub(crate) fn store(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::builder(url.parse().unwrap())
        .schema(schema)
        .pool_size(16)
        .connect()
        .unwrap()
}

/// A raw client, for tests that inspect or damage the schema behind the store's back.
pub(crate) fn raw(url: &str) -> mlops_registry::store::postgres::postgres::Client {
    url.parse::<mlops_registry::store::postgres::postgres::Config>()
        .unwrap()
        .connect(mlops_registry::store::postgres::postgres::NoTls)
        .unwrap()
}

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use mlops_core::chrono::{DateTime, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Digest, ModelName, Subject, VersionNumber};
use mlops_registry::audit::{AuditAction, AuditDraft, AuditRecord};
use mlops_registry::model::{ModelAggregate, RegisteredModel, VersionCore};
use mlops_registry::store::{ModelStore, NewVersion};

/// Re-runs this test binary as a child process executing the ignored test `entry`, with
/// `role` and the given extra environment.
pub(crate) fn spawn_child(entry: &str, env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        entry,
        "--nocapture",
        "--test-threads=1",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The lines a child printed that start with `tag `, without the tag.
pub(crate) fn tagged_lines(out: ChildStdout, tag: &str) -> impl Iterator<Item = String> {
    let prefix = format!("{tag} ");
    BufReader::new(out)
        .lines()
        .map_while(std::result::Result::ok)
        .filter_map(move |l| l.strip_prefix(&prefix).map(str::to_owned))
}

pub(crate) fn actor() -> Actor {
    Actor::human("replica@example.com").unwrap()
}

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

pub(crate) fn core(seed: u64) -> VersionCore {
    VersionCore::builder(actor(), t0())
        .artifact(
            "model",
            format!("mem://{seed}"),
            Digest::of(&seed.to_be_bytes()),
            seed,
        )
        .build()
        .unwrap()
}

pub(crate) fn register(store: &dyn ModelStore, name: &ModelName) {
    let agg = ModelAggregate::new(RegisteredModel::new(name.clone(), actor().id, t0()));
    store.create_model(agg, vec![]).unwrap();
}

pub(crate) fn add_versions(store: &dyn ModelStore, name: &ModelName, n: u64) {
    for seed in 1..=n {
        store
            .create_version(NewVersion::new(name.clone(), core(seed)))
            .unwrap();
    }
}

pub(crate) fn marker(name: &ModelName, n: u64) -> AuditDraft {
    AuditDraft::new(
        t0(),
        actor(),
        AuditAction::new("test.marker").unwrap(),
        Subject::Model {
            model: name.clone(),
        },
    )
    .with_details(mlops_registry::serde_json::json!({ "n": n }))
}

/// Moves `champion` to `version` at the revision read (read, new revision, whether the alias
/// moved); `Ok(None)` on a conflict.
pub(crate) fn move_champion(
    store: &dyn ModelStore,
    name: &ModelName,
    version: VersionNumber,
    audit: Vec<AuditDraft>,
) -> mlops_registry::Result<Option<(u64, u64, bool)>> {
    let mut agg = store.get_model(name)?;
    let read = agg.revision();
    let moved = agg.set_alias(AliasName::champion(), version, &actor().id, t0())? != Some(version);
    // `champion` is protected: these tests play governance and hold the process's seal.
    agg.authorize(seal());
    match store.commit(name, read, agg, audit) {
        Ok(rev) => Ok(Some((read.as_u64(), rev.as_u64(), moved))),
        Err(mlops_registry::RegistryError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// This test binary plays governance: it holds the process's seal to move `champion`.
fn seal() -> &'static mlops_registry::governed::GovernanceSeal {
    static SEAL: std::sync::OnceLock<Option<&'static mlops_registry::governed::GovernanceSeal>> =
        std::sync::OnceLock::new();
    SEAL.get_or_init(mlops_registry::governed::GovernanceSeal::claim)
        .expect("this test binary claims the seal once")
}

/// Every audit record of the store, and a check that the chain verifies.
pub(crate) fn verified_audit(store: &dyn ModelStore) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    loop {
        let from = all.last().map_or(1, |r: &AuditRecord| r.seq + 1);
        let batch = store.read_audit(from, 10_000).unwrap();
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    mlops_registry::audit::verify_chain(&all).unwrap();
    all
}

/// The markers (`details.n`) in `records`.
pub(crate) fn markers(records: &[AuditRecord]) -> std::collections::BTreeSet<u64> {
    records
        .iter()
        .filter(|r| r.draft.action.as_str() == "test.marker")
        .filter_map(|r| r.draft.details.get("n").and_then(serde_json_u64))
        .collect()
}

fn serde_json_u64(v: &mlops_registry::serde_json::Value) -> Option<u64> {
    v.as_u64()
}
