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

use std::path::Path;
use std::sync::{Arc, Barrier};

use mlops_core::{ManualClock, ModelRef, RiskTier};
use mlops_governance::GovernanceError;
use mlops_governance::approval::{ApprovalId, RequestStatus};
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{Governance, PlanContext};
use mlops_registry::consistency::Finding;
use mlops_registry::store::ModelStore;
use mlops_registry::store::sqlite::SqliteStore;
use support::{Cast, bank_policy, start};

const CHILD_DB: &str = "MLOPS_GOVERNANCE_CHILD_DB";
const CHILD_SEED: &str = "MLOPS_GOVERNANCE_CHILD_SEED";

fn engine(path: &Path) -> Governance {
    let store: Arc<dyn ModelStore> = Arc::new(SqliteStore::open(path).unwrap());
    Governance::builder(store, Arc::new(ManualClock::new(start())))
        .policy(bank_policy())
        .unwrap()
        .actors(Cast::new().all())
        .actor(vera())
        .environment("prod")
        .build()
}

/// A second validator, who rejects.
fn vera() -> mlops_core::Actor {
    mlops_core::Actor::human("vera")
        .unwrap()
        .with_role(mlops_core::Role::model_validator())
}

/// `n` medium-tier versions of `model` in `pre_production`.
fn versions_in_pre_production(gov: &Governance, model: &str, n: usize) -> Vec<ModelRef> {
    let c = Cast::new();
    let ctx = PlanContext::default();
    (0..n)
        .map(|_| {
            let v = gov
                .register_version_for_test(model, &c.alice, RiskTier::Medium)
                .unwrap();
            gov.transition(&v, "submit", &c.eve.id, &ctx).unwrap();
            gov.transition(&v, "validate", &c.eve.id, &ctx).unwrap();
            v
        })
        .collect()
}

/// Asks for the promotion; returns the request it waits for, if any.
fn ask(gov: &Governance, v: &ModelRef) -> Option<ApprovalId> {
    let c = Cast::new();
    match gov.transition(v, "promote", &c.eve.id, &PlanContext::default()) {
        Err(GovernanceError::Denied { approval, .. }) => approval,
        _ => None,
    }
}

/// One actor's turn in the race: open or find the request, approve or reject it, promote.
fn race_step(gov: &Governance, v: &ModelRef, approve: bool) {
    let c = Cast::new();
    if let Some(req) = ask(gov, v) {
        let _ = if approve {
            gov.approve(&req, &c.val.id, "validated")
        } else {
            gov.reject(&req, &vera().id, "not without a fairness review")
        };
    }
    let _ = gov.transition(v, "promote", &c.eve.id, &PlanContext::default());
}

/// The invariants every engine must agree on after the race.
fn check_one_truth(engines: &[&Governance], model: &str) {
    let gov = engines[0];
    let name = model.parse().unwrap();
    let agg = gov.store().get_model(&name).unwrap();
    let in_production: Vec<_> = agg
        .versions()
        .iter()
        .filter(|(_, s)| s.state.as_str() == "production")
        .map(|(n, _)| *n)
        .collect();
    assert!(in_production.len() <= 1, "{in_production:?}");
    assert_eq!(
        agg.alias(&mlops_core::AliasName::champion()),
        in_production.first().copied()
    );
    let book = gov.approvals().unwrap();
    for e in engines {
        assert_eq!(
            e.approvals().unwrap(),
            book,
            "every engine sees the same requests"
        );
    }
    let mut numbers: Vec<u64> = book.iter().map(|r| r.id.number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), book.len(), "request ids are distinct");
    // A version reached production only through a fulfilled request, never a rejected one.
    for n in &in_production {
        let v = ModelRef::new(name.clone(), *n);
        let fulfilled = book
            .iter()
            .filter(|r| r.version == v && r.status == RequestStatus::Fulfilled)
            .count();
        assert_eq!(
            fulfilled, 1,
            "{v} entered production once, through one request"
        );
    }
    // The race did happen: requests were opened and decided (which way depends on timing).
    assert!(book.iter().any(|r| !r.decisions.is_empty()), "{book:?}");
    // A rejected request never let its version into production afterwards in its stay.
    for r in book.iter().filter(|r| r.status == RequestStatus::Rejected) {
        let fulfilled_later = book.iter().any(|q| {
            q.version == r.version && q.stay == r.stay && q.status == RequestStatus::Fulfilled
        });
        assert!(
            !fulfilled_later,
            "{} was rejected, then fulfilled without a re-open",
            r.id
        );
    }
    gov.audit_log().verify().unwrap();
    gov.verify_consistency().unwrap().unwrap();
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
        gov.transition(&v, "promote", &c.eve.id, &PlanContext::default())
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
