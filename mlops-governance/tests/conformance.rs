//! The conformance kits (feature `testkit`) against every implementation in the workspace of
//! the traits hosts implement, directly and through `Box<dyn>`, `Arc<dyn>` and `&dyn`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use mlops_governance::audit::{AuditLog, MemoryAuditLog, StoreAuditLog};
use mlops_governance::change::InheritingPolicy;
use mlops_governance::matrix::GovernanceMatrix;
use mlops_governance::policy::{Policy, PolicyEngine};
use mlops_governance::raci::Raci;
use mlops_governance::testkit;
use mlops_registry::store::{InMemoryStore, ModelStore};

#[test]
fn memory_audit_log_conforms() {
    testkit::audit_log::run_all(&MemoryAuditLog::new());
}

#[test]
fn memory_audit_log_conforms_through_box_arc_and_ref() {
    let boxed: Box<dyn AuditLog> = Box::new(MemoryAuditLog::new());
    testkit::audit_log::run_all(&boxed);
    let shared: Arc<dyn AuditLog> = Arc::new(MemoryAuditLog::new());
    testkit::audit_log::run_all(&shared);
    let log = MemoryAuditLog::new();
    let by_ref: &dyn AuditLog = &log;
    testkit::audit_log::run_all(&by_ref);
}

#[test]
fn store_audit_log_on_the_memory_store_conforms() {
    let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
    testkit::audit_log::run_all(&StoreAuditLog::new(store.clone()));
    let boxed: Box<dyn AuditLog> = Box::new(StoreAuditLog::new(store.clone()));
    testkit::audit_log::run_all(&boxed);
    let shared: Arc<dyn AuditLog> = Arc::new(StoreAuditLog::new(store));
    testkit::audit_log::run_all(&shared);
}

#[cfg(feature = "sqlite")]
#[test]
fn store_audit_log_on_sqlite_conforms() {
    use mlops_registry::store::sqlite::SqliteStore;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ModelStore> =
        Arc::new(SqliteStore::open(dir.path().join("registry.db")).unwrap());
    testkit::audit_log::run_all(&StoreAuditLog::new(store.clone()));
    let shared: Arc<dyn AuditLog> = Arc::new(StoreAuditLog::new(store));
    testkit::audit_log::run_all(&shared);
}

/// Every policy the workspace ships or builds: permissive, a host's spec, the governance
/// matrix's compiled default, and the change plans' inheriting wrapper around each.
fn policies() -> Vec<(&'static str, Arc<dyn PolicyEngine>)> {
    let permissive = Arc::new(Policy::permissive("anything-goes"));
    let bank = Arc::new(support::bank_policy());
    let template = Arc::new(
        GovernanceMatrix::default()
            .compile("template", &Raci::default())
            .unwrap(),
    );
    vec![
        ("permissive", permissive.clone() as Arc<dyn PolicyEngine>),
        ("bank", bank.clone()),
        ("template", template.clone()),
        (
            "inheriting permissive",
            Arc::new(InheritingPolicy::new(permissive)),
        ),
        ("inheriting bank", Arc::new(InheritingPolicy::new(bank))),
        (
            "inheriting template",
            Arc::new(InheritingPolicy::new(template)),
        ),
    ]
}

#[test]
fn every_policy_engine_conforms() {
    for (name, engine) in policies() {
        eprintln!("policy engine: {name}");
        testkit::policy_engine::run_all(engine.as_ref());
    }
}

#[test]
fn policy_engines_conform_through_box_arc_and_ref() {
    let policy = support::bank_policy();
    testkit::policy_engine::run_all(&policy);
    let by_ref: &dyn PolicyEngine = &policy;
    testkit::policy_engine::run_all(&by_ref);
    let boxed: Box<dyn PolicyEngine> = Box::new(policy.clone());
    testkit::policy_engine::run_all(&boxed);
    let shared: Arc<dyn PolicyEngine> = Arc::new(policy);
    testkit::policy_engine::run_all(&shared);
    testkit::policy_engine::run_all(&Box::new(shared));
}

/// The kit sees refusals: a policy whose permissions a role-less actor lacks refuses it with
/// the exact variant, and the kit's check of that refusal passes.
#[test]
fn the_policy_kit_checks_real_refusals() {
    let policy = support::bank_policy();
    let nobody = mlops_core::Actor::human("nobody").unwrap();
    assert!(matches!(
        policy.authorize(&nobody, mlops_governance::policy::Action::Override, None),
        Err(mlops_governance::AuthorizationError::MissingRole { .. })
    ));
    testkit::policy_engine::refusals_name_the_actor(&policy);
}
