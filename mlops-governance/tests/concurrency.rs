//! Real threads racing to promote different versions into the exclusive production state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::names;
use std::sync::{Arc, Barrier};
use std::thread;

use mlops_core::{ModelRef, RiskTier};
use mlops_governance::GovernanceError;
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{Governance, PlanContext};
use mlops_registry::audit::AuditAction;
use mlops_registry::store::ModelStore;
use support::{Cast, World, bank_policy};

fn to_pre_production(w: &World) -> (ModelRef, ModelRef) {
    let ctx = PlanContext::default();
    let a = w.version("churn", RiskTier::Low);
    let b = w.version("churn", RiskTier::Low);
    for v in [&a, &b] {
        for e in [names::SUBMIT, names::VALIDATE] {
            w.gov.transition(v, &e, &w.cast.eve.id, &ctx).unwrap();
        }
    }
    (a, b)
}

#[test]
fn two_planned_promotions_race_exactly_one_wins_the_other_replans() {
    for round in 0..20 {
        let w = World::new(bank_policy());
        // A second engine over the same store: another replica of the service.
        let replica = Arc::new(
            Governance::builder(w.store_dyn(), Arc::new(w.clock.clone()))
                .policy(bank_policy())
                .unwrap()
                .actors(Cast::new().all())
                .build(),
        );
        let (a, b) = to_pre_production(&w);
        let gov = Arc::new(w.gov);
        let barrier = Arc::new(Barrier::new(2));
        let eve = w.cast.eve.id.clone();
        let alice = w.cast.alice.id.clone();
        let results: Vec<_> = [
            (gov.clone(), a.clone(), eve),
            (replica.clone(), b.clone(), alice),
        ]
        .into_iter()
        .map(|(engine, v, actor)| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let plan = engine.plan(
                    v.name(),
                    v.version(),
                    &names::PROMOTE,
                    &actor,
                    &PlanContext::default(),
                );
                // Wait even if planning failed, so the other thread is never stranded.
                barrier.wait();
                let plan = plan.unwrap();
                assert!(plan.verdict().is_allowed(), "{}", plan.verdict());
                (v, plan.clone(), engine.commit(&plan))
            })
        })
        .collect::<Vec<_>>() // spawn both before joining either
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
        let winners: Vec<_> = results.iter().filter(|r| r.2.is_ok()).collect();
        let losers: Vec<_> = results.iter().filter(|r| r.2.is_err()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one wins");
        assert!(
            matches!(losers[0].2, Err(GovernanceError::Conflict { .. })),
            "round {round}: the other gets a conflict, got {:?}",
            losers[0].2
        );
        let store = w.store.clone();
        let (winner, loser) = (&winners[0].0, &losers[0].0);
        assert_eq!(
            store.get_version(winner).unwrap().state().as_str(),
            "production"
        );
        assert_eq!(
            store.get_version(loser).unwrap().state().as_str(),
            "pre_production"
        );
        // The loser re-plans: now the plan evicts the winner.
        let plan = gov
            .plan(
                loser.name(),
                loser.version(),
                &names::PROMOTE,
                &w.cast.eve.id,
                &PlanContext::default(),
            )
            .unwrap();
        assert_eq!(plan.evicts().map(|e| e.0), Some(winner.version()));
        gov.commit(&plan).unwrap();
        assert_eq!(
            store.get_version(loser).unwrap().state().as_str(),
            "production"
        );
        assert_eq!(
            store.get_version(winner).unwrap().state().as_str(),
            "retired"
        );
        gov.audit_log().verify().unwrap();
    }
}

#[test]
fn concurrent_transitions_retry_and_never_leave_two_in_production() {
    let w = World::new(bank_policy());
    let gov = Arc::new(w.gov);
    let ctx = PlanContext::default();
    let versions: Vec<ModelRef> = (0..4)
        .map(|_| {
            let v = gov
                .register_version_for_test("ranker", &w.cast.alice, RiskTier::Low)
                .unwrap();
            for e in [names::SUBMIT, names::VALIDATE] {
                gov.transition(&v, &e, &w.cast.eve.id, &ctx).unwrap();
            }
            v
        })
        .collect();
    let barrier = Arc::new(Barrier::new(versions.len()));
    let handles: Vec<_> = versions
        .iter()
        .cloned()
        .map(|v| {
            let gov = gov.clone();
            let barrier = barrier.clone();
            let eve = w.cast.eve.id.clone();
            thread::spawn(move || {
                barrier.wait();
                // Promote, then roll back and promote again: lots of contention.
                for _ in 0..5 {
                    gov.transition(&v, &names::PROMOTE, &eve, &PlanContext::default())?;
                    let state = gov.store().get_version(&v)?.state().clone();
                    if state.as_str() == "production" {
                        match gov.transition(&v, &names::ROLLBACK, &eve, &PlanContext::default()) {
                            Ok(_) | Err(GovernanceError::Lifecycle(_)) => {}
                            Err(e) => return Err(e),
                        }
                    } else {
                        // Evicted meanwhile: bring it back to pre-production via reinstate.
                        return Ok(());
                    }
                }
                Ok::<(), GovernanceError>(())
            })
        })
        .collect();
    for h in handles {
        match h.join().unwrap() {
            Ok(()) | Err(GovernanceError::Conflict { .. } | GovernanceError::Lifecycle(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let agg = gov.store().get_model(versions[0].name()).unwrap();
    let in_production = agg
        .versions()
        .values()
        .filter(|s| s.state.as_str() == "production")
        .count();
    assert!(in_production <= 1, "{in_production} versions in production");
    let log = gov.audit_log();
    log.verify().unwrap();
    // Every state change has its audit record: count the production entries both ways.
    let entries = agg
        .state_history()
        .iter()
        .filter(|e| e.to.as_str() == "production")
        .count();
    let records = log
        .read_all()
        .unwrap()
        .iter()
        .filter(|r| {
            r.draft.action.as_str() == AuditAction::TRANSITION_APPLIED.as_str()
                && r.draft.state_after.as_ref().map(|s| s.as_str()) == Some("production")
        })
        .count();
    assert_eq!(entries, records);
    assert!(entries >= 4);
}
