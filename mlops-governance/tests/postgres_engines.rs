//! Governance engines on one PostgreSQL schema, in threads with their own pools and in separate
//! processes, racing approvals, rejections and promotions: one truth, distinct request ids, at
//! most one production version, a chain that verifies and state the audit log explains.
//!
//! The server comes from `MLOPS_TEST_POSTGRES_URL` (`eval "$(bash .ci/postgres.sh start)"`);
//! without it the tests skip, unless `MLOPS_REQUIRE_POSTGRES=1` (as in CI).
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

mod support;

use std::sync::{Arc, Barrier};

use mlops_core::{ManualClock, ModelRef};
use mlops_governance::engine::Governance;
use mlops_registry::store::{ModelStore, PostgresStore};
use support::race::{self, check_one_truth, race_step, versions_in_pre_production};
use support::{Cast, bank_policy, start};

const CHILD_SCHEMA: &str = "MLOPS_GOVERNANCE_CHILD_SCHEMA";
const CHILD_SEED: &str = "MLOPS_GOVERNANCE_CHILD_SEED";

fn url() -> Option<String> {
    match std::env::var("MLOPS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("MLOPS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MLOPS_REQUIRE_POSTGRES=1 but MLOPS_TEST_POSTGRES_URL is not set"
            );
            eprintln!("skipped: MLOPS_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

fn schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("g_{tag}_{}_{nanos}", std::process::id())
}

fn engine(url: &str, schema: &str) -> Governance {
    let store: Arc<dyn ModelStore> = Arc::new(
        PostgresStore::builder(url.parse().unwrap())
            .schema(schema)
            .connect()
            .unwrap(),
    );
    Governance::builder(store, Arc::new(ManualClock::new(start())))
        .policy(bank_policy())
        .unwrap()
        .actors(Cast::new().all())
        .actor(race::vera())
        .environment("prod")
        .build()
}

/// The audit log kit against the PostgreSQL store's log.
#[test]
fn store_audit_log_on_postgres_conforms() {
    let Some(url) = url() else { return };
    let store: Arc<dyn ModelStore> = Arc::new(
        PostgresStore::builder(url.parse().unwrap())
            .schema(schema("kit"))
            .connect()
            .unwrap(),
    );
    mlops_governance::testkit::audit_log::run_all(&mlops_governance::audit::StoreAuditLog::new(
        store,
    ));
}

#[test]
fn engines_on_two_pools_race_approvals_rejections_and_promotions() {
    let Some(url) = url() else { return };
    let schema = schema("threads");
    let (a, b) = (engine(&url, &schema), engine(&url, &schema));
    let versions = versions_in_pre_production(&a, "fraud", 4);
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for t in 0..8usize {
            let (gov, barrier, versions) = (if t % 2 == 0 { &a } else { &b }, &barrier, &versions);
            s.spawn(move || {
                barrier.wait();
                for round in 0..5 {
                    race_step(gov, &versions[(t + round) % versions.len()], t % 4 != 3);
                }
            });
        }
    });
    check_one_truth(&[&a, &b], "fraud");
}

/// The body of a child process (run by the test below with the environment set; a no-op
/// otherwise).
#[test]
fn child_engine_process_on_postgres() {
    let (Some(url), Ok(schema)) = (
        std::env::var("MLOPS_TEST_POSTGRES_URL").ok(),
        std::env::var(CHILD_SCHEMA),
    ) else {
        return;
    };
    let seed: usize = std::env::var(CHILD_SEED).unwrap().parse().unwrap();
    let gov = engine(&url, &schema);
    let versions: Vec<ModelRef> = (1..=3)
        .map(|n| format!("fraud@v{n}").parse().unwrap())
        .collect();
    for round in 0..6 {
        race_step(
            &gov,
            &versions[(seed + round) % 3],
            !(seed + round).is_multiple_of(3),
        );
    }
}

#[test]
fn engines_in_three_processes_on_postgres_race_and_agree() {
    let Some(url) = url() else { return };
    let schema = schema("procs");
    let parent = engine(&url, &schema);
    let versions = versions_in_pre_production(&parent, "fraud", 3);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|seed| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_engine_process_on_postgres",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD_SCHEMA, &schema)
                .env(CHILD_SEED, seed.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for round in 0..6 {
        race_step(&parent, &versions[round % 3], round % 4 != 1);
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child engine failed");
    }
    let other = engine(&url, &schema);
    check_one_truth(&[&parent, &other], "fraud");
}
