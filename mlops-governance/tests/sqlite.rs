//! The engine over the registry's SQLite store: state and audit survive a restart, the chain
//! verifies, and approval requests are rebuilt from the log.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::names;
use std::sync::Arc;

use mlops_core::{ManualClock, RiskTier};
use mlops_governance::GovernanceError;
use mlops_governance::approval::RequestStatus;
use mlops_governance::audit::{self, AuditLogExt};
use mlops_governance::engine::{Governance, PlanContext};
use mlops_registry::store::ModelStore;
use mlops_registry::store::sqlite::SqliteStore;
use support::{Cast, bank_policy, start, state};

fn engine(store: Arc<dyn ModelStore>, clock: &ManualClock) -> Governance {
    Governance::builder(store, Arc::new(clock.clone()))
        .policy(bank_policy())
        .unwrap()
        .actors(Cast::new().all())
        .build()
}

#[test]
fn governance_on_sqlite_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let clock = ManualClock::new(start());
    let c = Cast::new();
    let ctx = PlanContext::default();
    let (v, request, checkpoint) = {
        let store: Arc<dyn ModelStore> = Arc::new(SqliteStore::open(&path).unwrap());
        let gov = engine(store, &clock);
        let v = gov
            .register_version_for_test("aml", &c.alice, RiskTier::Medium)
            .unwrap();
        gov.transition(&v, &names::SUBMIT, &c.eve.id, &ctx).unwrap();
        gov.transition(&v, &names::VALIDATE, &c.eve.id, &ctx)
            .unwrap();
        let Err(GovernanceError::Denied {
            approval: Some(request),
            ..
        }) = gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
        else {
            panic!("expected a denial awaiting sign-off");
        };
        gov.approve(&request, &c.val.id, "validated").unwrap();
        let checkpoint = gov.audit_log().verify().unwrap();
        (v, request, checkpoint)
    };
    // Restart: a new store handle and a new engine over the same file.
    let store: Arc<dyn ModelStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let gov = engine(store.clone(), &clock);
    let req = gov.approvals().unwrap().get(&request).cloned().unwrap();
    assert_eq!(req.status, RequestStatus::Open);
    assert_eq!(req.signoffs().len(), 1, "the sign-off survived the restart");
    gov.audit_log().verify_against(&checkpoint).unwrap();
    gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(
        store.get_version(&v).unwrap().state().as_str(),
        "production"
    );
    let roster = audit::production_roster(&gov.audit_log(), &[state("production")]).unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].approved_by, vec![c.val.id.clone()]);
    assert!(gov.audit_log().verify().unwrap().seq > checkpoint.seq);
}
