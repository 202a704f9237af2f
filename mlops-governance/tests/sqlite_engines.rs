//! Several governance engines on one SQLite file, as threads with their own store handles and as
//! separate processes, racing approvals, rejections and promotions: one truth (the requests live
//! in the store), distinct request ids, at most one production version per model, a chain that
//! verifies and state the audit log explains. And the state tables edited behind the SDK's back
//! (triggers dropped): the consistency check names what no governance record explains.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::names;
use std::path::Path;
use std::sync::{Arc, Barrier};

use mlops_core::{ManualClock, ModelRef, RiskTier};
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{Governance, PlanContext};
use mlops_registry::consistency::Finding;
use mlops_registry::store::ModelStore;
use mlops_registry::store::sqlite::SqliteStore;
use support::race::{self, ask, check_one_truth, race_step, versions_in_pre_production};
use support::{Cast, bank_policy, start};

const CHILD_DB: &str = "MLOPS_GOVERNANCE_CHILD_DB";
const CHILD_SEED: &str = "MLOPS_GOVERNANCE_CHILD_SEED";

fn engine(path: &Path) -> Governance {
    let store: Arc<dyn ModelStore> = Arc::new(SqliteStore::open(path).unwrap());
    Governance::builder(store, Arc::new(ManualClock::new(start())))
        .policy(bank_policy())
        .unwrap()
        .actors(Cast::new().all())
        .actor(race::vera())
        .environment("prod")
        .build()
}

#[test]
fn engines_on_two_handles_race_approvals_rejections_and_promotions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let a = engine(&path);
    let b = engine(&path);
    let versions = versions_in_pre_production(&a, "fraud", 4);
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for t in 0..8usize {
            let (gov, barrier, versions) = (if t % 2 == 0 { &a } else { &b }, &barrier, &versions);
            s.spawn(move || {
                barrier.wait();
                for round in 0..6 {
                    let v = &versions[(t + round) % versions.len()];
                    // One thread in four rejects: some versions are rejected, others promoted.
                    race_step(gov, v, t % 4 != 3);
                }
            });
        }
    });
    check_one_truth(&[&a, &b], "fraud");
}

/// The body of a child process (run by the test below with the environment set; a no-op
/// otherwise).
#[test]
fn child_engine_process() {
    let Ok(db) = std::env::var(CHILD_DB) else {
        return;
    };
    let seed: usize = std::env::var(CHILD_SEED).unwrap().parse().unwrap();
    let gov = engine(Path::new(&db));
    let name: mlops_core::ModelName = "fraud".parse().unwrap();
    let versions: Vec<ModelRef> = gov
        .store()
        .get_model(&name)
        .unwrap()
        .versions()
        .keys()
        .map(|n| ModelRef::new(name.clone(), *n))
        .collect();
    for round in 0..8 {
        let v = &versions[(seed + round) % versions.len()];
        race_step(&gov, v, !(seed + round).is_multiple_of(3));
    }
}

#[test]
fn engines_in_two_processes_race_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let parent = engine(&path);
    versions_in_pre_production(&parent, "fraud", 3);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|seed| {
            std::process::Command::new(&exe)
                .args(["--exact", "child_engine_process", "--test-threads", "1"])
                .env(CHILD_DB, &path)
                .env(CHILD_SEED, seed.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let versions: Vec<ModelRef> = (1..=3)
        .map(|n| format!("fraud@v{n}").parse().unwrap())
        .collect();
    for round in 0..8 {
        race_step(&parent, &versions[round % 3], round % 4 != 1);
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child engine failed");
    }
    let other = engine(&path);
    check_one_truth(&[&parent, &other], "fraud");
}

/// Edits the database directly, as someone with write access to the file would.
fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS versions_core_immutable;
         DROP TRIGGER IF EXISTS versions_never_deleted;
         DROP TRIGGER IF EXISTS audit_append_only_update;
         DROP TRIGGER IF EXISTS audit_append_only_delete;",
    )
    .unwrap();
    conn.execute_batch(sql).unwrap();
}

fn finding_after(sql: &str) -> Finding {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    {
        let gov = engine(&path);
        let c = Cast::new();
        let v = versions_in_pre_production(&gov, "fraud", 2).remove(0);
        let req = ask(&gov, &v).unwrap();
        gov.approve(&req, &c.val.id, "validated").unwrap();
        gov.transition(&v, &names::PROMOTE, &c.eve.id, &PlanContext::default())
            .unwrap();
        gov.verify_consistency().unwrap().unwrap();
    }
    tamper(&path, sql);
    // A fresh handle (no cache) on the edited file.
    let gov = engine(&path);
    gov.audit_log().verify().unwrap(); // the chain itself is intact
    gov.verify_consistency().unwrap().unwrap_err().finding
}

#[test]
fn a_version_set_to_production_in_the_table_is_named() {
    let f = finding_after(
        "UPDATE versions SET status = json_set(status, '$.state', 'production') \
         WHERE model = 'fraud' AND number = 2",
    );
    assert!(
        matches!(&f, Finding::StateNotInHistory { version, state } if version.get() == 2 && state.as_str() == "production"),
        "{f:?}"
    );
}

#[test]
fn a_forged_state_history_entry_is_named() {
    // The forger writes the state and a matching history entry, but cannot write the governance
    // record that would explain it (the chain would break).
    let f = finding_after(
        "UPDATE versions SET status = json_set(status, '$.state', 'production') \
         WHERE model = 'fraud' AND number = 2;
         INSERT INTO state_history (model, idx, event) VALUES ('fraud', 100, \
         json_object('version', 2, 'from', 'pre_production', 'to', 'production', \
         'at', '2026-03-02T09:00:00Z', 'by', 'mallory'));",
    );
    assert!(
        matches!(&f, Finding::UnexplainedStateEntry { version, records: 0, .. } if version.get() == 2),
        "{f:?}"
    );
}

#[test]
fn a_moved_champion_is_named() {
    let f = finding_after(
        "UPDATE models SET aliases = json_set(aliases, '$.champion.version', 2) WHERE name = 'fraud'",
    );
    assert!(matches!(&f, Finding::AliasNotInHistory { .. }), "{f:?}");
}

#[test]
fn a_downgraded_tier_is_named() {
    let f = finding_after(
        "UPDATE models SET record = json_set(record, '$.risk_tier', 'low') WHERE name = 'fraud'",
    );
    assert!(
        matches!(
            &f,
            Finding::UnexplainedTier {
                tier: RiskTier::Low,
                recorded: RiskTier::Medium
            }
        ),
        "{f:?}"
    );
}
