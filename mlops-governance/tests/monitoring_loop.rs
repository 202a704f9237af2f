//! Monitoring closes the loop: evidence recorded in the store counts for the guards, model cards
//! list what decisions relied on, and alarms on a serving version open one review at a time or
//! roll back through gated transitions, by policy per tier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::names;
use std::sync::Arc;

use mlops_core::chrono::TimeDelta;
use mlops_core::{Actor, Clock, Direction, Evidence, ModelRef, Outcome, RiskTier, Role, Subject};
use mlops_governance::GovernanceError;
use mlops_governance::audit::AuditLogExt;
use mlops_governance::card::{CardInputs, ModelCard};
use mlops_governance::engine::{
    AlarmAction, AlarmPolicy, AlarmResponse, Governance, MAX_RECORDED_CHECKS, PlanContext,
};
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_registry::audit::AuditAction;
use mlops_registry::store::ModelStore;
use support::{World, bank_policy};

fn auc(w: &World, v: &ModelRef, value: f64) -> Evidence {
    Evidence::new(
        "validation.auc".parse().unwrap(),
        Subject::Version { version: v.clone() },
        value,
        0.85,
        Direction::AtLeast,
        w.clock.now(),
    )
}

fn drift_alarm(w: &World, v: &ModelRef) -> Evidence {
    Evidence::new(
        "drift.share_drifted".parse().unwrap(),
        Subject::Version { version: v.clone() },
        0.6,
        0.3,
        Direction::AtMost,
        w.clock.now(),
    )
}

/// A monitoring service allowed to record evidence (and to request transitions).
fn monitor() -> Actor {
    Actor::service("drift-monitor")
        .unwrap()
        .with_role(Role::ml_engineer())
}

fn world_with(alarms: AlarmPolicy) -> World {
    world_with_policy(bank_policy(), alarms)
}

fn world_with_policy(policy: mlops_governance::policy::Policy, alarms: AlarmPolicy) -> World {
    let mut w = World::new(policy.clone());
    w.gov = Governance::builder(w.store_dyn(), Arc::new(w.clock.clone()))
        .policy(policy)
        .unwrap()
        .actors(w.cast.all())
        .actor(monitor())
        .environment("prod")
        .approval_ttl("3d".parse().unwrap())
        .alarm_policy(alarms)
        .build();
    w
}

/// `tier` versions promoted in turn: the last is champion, the one before it retired.
fn two_champions(w: &World, tier: RiskTier) -> (ModelRef, ModelRef) {
    let ctx = PlanContext::default();
    let mut out = Vec::new();
    for _ in 0..2 {
        let v = w.version("fraud", tier);
        for event in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
            match w.gov.transition(&v, &event, &w.cast.eve.id, &ctx) {
                Ok(_) => {}
                Err(GovernanceError::Denied {
                    approval: Some(r), ..
                }) => {
                    w.gov.approve(&r, &w.cast.val.id, "validated").unwrap();
                    w.gov.transition(&v, &event, &w.cast.eve.id, &ctx).unwrap();
                }
                Err(e) => panic!("{e}"),
            }
        }
        out.push(v);
    }
    (out[0].clone(), out[1].clone())
}

#[test]
fn recorded_evidence_counts_for_the_guards_without_being_passed_again() {
    let w = world_with(AlarmPolicy::default());
    let ctx = PlanContext::default();
    let v = w.version("fraud", RiskTier::High);
    w.gov
        .transition(&v, &names::SUBMIT, &w.cast.eve.id, &ctx)
        .unwrap();
    // Without evidence, validation awaits more than sign-offs.
    let Err(GovernanceError::Denied { approval: None, .. }) =
        w.gov.transition(&v, &names::VALIDATE, &w.cast.eve.id, &ctx)
    else {
        panic!("the evidence guard is unmet");
    };
    w.gov
        .record_evidence(&v, auc(&w, &v, 0.91), &w.cast.val.id)
        .unwrap();
    let plan = w
        .gov
        .plan(
            v.name(),
            v.version(),
            &names::VALIDATE,
            &w.cast.eve.id,
            &ctx,
        )
        .unwrap();
    assert_eq!(plan.evidence().len(), 1);
    assert!(plan.verdict().awaits_only_signoffs(), "{}", plan.verdict());
    // Stale evidence stops counting.
    w.clock.advance(TimeDelta::days(31));
    let plan = w
        .gov
        .plan(
            v.name(),
            v.version(),
            &names::VALIDATE,
            &w.cast.eve.id,
            &ctx,
        )
        .unwrap();
    assert!(!plan.verdict().awaits_only_signoffs());
    // A newer recording replaces the older one for the same check.
    w.gov
        .record_evidence(&v, auc(&w, &v, 0.93), &w.cast.val.id)
        .unwrap();
    let recorded = w.gov.recorded_evidence(&v).unwrap();
    assert_eq!(recorded.len(), 1);
    assert!((recorded[0].value - 0.93).abs() < 1e-12);
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v, &names::VALIDATE, &w.cast.eve.id, &ctx)
    else {
        panic!("only the sign-off is missing now");
    };
    w.gov.approve(&req, &w.cast.val.id, "validated").unwrap();
    w.gov
        .transition(&v, &names::VALIDATE, &w.cast.eve.id, &ctx)
        .unwrap();
    // The transition record lists the evidence the decision relied on; the card shows it.
    let card = ModelCard::build(
        w.store.as_ref(),
        &w.gov.audit_log(),
        &v,
        &CardInputs::default(),
    )
    .unwrap();
    assert!(
        card.evidence
            .iter()
            .any(|e| e.check.as_str() == "validation.auc")
    );
    let relied: Vec<_> = card
        .history
        .iter()
        .flat_map(|h| h.relied_on.clone())
        .collect();
    assert!(
        relied
            .iter()
            .any(|r| r.starts_with("validation.auc = 0.93 (pass)")),
        "{relied:?}"
    );
    assert!(
        card.to_markdown()
            .contains("relied on: validation.auc = 0.93")
    );
    w.gov.audit_log().verify().unwrap();
    w.gov.verify_consistency().unwrap().unwrap();
}

#[test]
fn recording_evidence_is_permissioned_bounded_and_about_the_version() {
    let w = world_with(AlarmPolicy::default());
    let v = w.version("fraud", RiskTier::High);
    let other = w.version("fraud", RiskTier::High);
    assert!(matches!(
        w.gov.record_evidence(&v, auc(&w, &v, 0.9), &w.cast.aud.id),
        Err(GovernanceError::Unauthorized(_))
    ));
    assert!(matches!(
        w.gov
            .record_evidence(&v, auc(&w, &other, 0.9), &w.cast.val.id),
        Err(GovernanceError::InvalidEvidence { .. })
    ));
    for i in 0..MAX_RECORDED_CHECKS {
        let mut e = auc(&w, &v, 0.9);
        e.check = format!("check.{i}").parse().unwrap();
        w.gov.record_evidence(&v, e, &w.cast.val.id).unwrap();
    }
    let mut e = auc(&w, &v, 0.9);
    e.check = "check.one-too-many".parse().unwrap();
    assert!(matches!(
        w.gov.record_evidence(&v, e, &w.cast.val.id),
        Err(GovernanceError::InvalidEvidence { .. })
    ));
    // Re-recording a kept check is still fine.
    let mut e = auc(&w, &v, 0.95);
    e.check = "check.0".parse().unwrap();
    w.gov.record_evidence(&v, e, &w.cast.val.id).unwrap();
    assert_eq!(
        w.gov.recorded_evidence(&v).unwrap().len(),
        MAX_RECORDED_CHECKS
    );
}

#[test]
fn a_flapping_alarm_opens_one_review_and_a_validator_rolls_back() {
    // Leaving production for pre_production needs a validator's sign-off at this tier.
    let policy = PolicySpec::new("validated-moves")
        .tier(
            RiskTier::Medium,
            TierRules::default()
                .entering(
                    "pre_production".parse().unwrap(),
                    Guard::approvals(1, [Role::model_validator()]),
                )
                .entering(
                    "production".parse().unwrap(),
                    Guard::approvals(1, [Role::model_validator()]),
                ),
        )
        .validate()
        .unwrap();
    let w = world_with_policy(policy, AlarmPolicy::default());
    let (v1, v2) = two_champions(&w, RiskTier::Medium);
    assert_eq!(w.state_of(&v2), "production");
    let mon = monitor();
    let first = w
        .gov
        .respond_to_alarm(&v2, drift_alarm(&w, &v2), &mon.id)
        .unwrap();
    let AlarmResponse::ReviewOpened(review) = first else {
        panic!("{first:?}");
    };
    for _ in 0..5 {
        w.clock.advance(TimeDelta::minutes(10));
        assert_eq!(
            w.gov
                .respond_to_alarm(&v2, drift_alarm(&w, &v2), &mon.id)
                .unwrap(),
            AlarmResponse::ReviewAlreadyOpen(review.clone())
        );
    }
    let opened = w
        .gov
        .approvals()
        .unwrap()
        .iter()
        .filter(|r| r.version == v2 && r.event.as_str() == "rollback")
        .count();
    assert_eq!(opened, 1, "a flapping alarm never opens a second review");
    // The rollback needs the validator's sign-off at this tier (it re-enters pre_production).
    w.gov
        .approve(&review, &w.cast.val.id, "drift confirmed")
        .unwrap();
    w.gov
        .transition(&v2, &names::ROLLBACK, &mon.id, &PlanContext::default())
        .unwrap();
    assert_eq!(w.state_of(&v2), "pre_production");
    let _ = v1;
    let answered = w
        .gov
        .audit_log()
        .read_all()
        .unwrap()
        .iter()
        .filter(|r| r.draft.action.as_str() == AuditAction::ALARM_ANSWERED.as_str())
        .count();
    assert_eq!(answered, 6);
    w.gov.verify_consistency().unwrap().unwrap();
}

#[test]
fn where_the_policy_says_so_an_alarm_rolls_back_to_the_previous_champion() {
    let w = world_with(AlarmPolicy::default().with_tier(RiskTier::Low, AlarmAction::RollBack));
    let (v1, v2) = two_champions(&w, RiskTier::Low);
    assert_eq!(w.state_of(&v1), "retired");
    let alarm = drift_alarm(&w, &v2);
    assert_eq!(alarm.outcome, Outcome::Fail);
    let response = w.gov.respond_to_alarm(&v2, alarm, &monitor().id).unwrap();
    assert_eq!(
        response,
        AlarmResponse::RolledBack {
            from: v2.clone(),
            reinstated: Some(v1.clone()),
            awaiting: None,
        }
    );
    assert_eq!(w.state_of(&v2), "pre_production");
    assert_eq!(w.state_of(&v1), "production");
    let agg = w.store.get_model(v1.name()).unwrap();
    assert_eq!(
        agg.alias(&mlops_core::AliasName::champion()),
        Some(v1.version())
    );
    // Both transitions are audited with the alarm as their evidence.
    let log = w.gov.audit_log().read_all().unwrap();
    let with_alarm = log
        .iter()
        .filter(|r| r.draft.action.as_str() == AuditAction::TRANSITION_APPLIED.as_str())
        .filter(|r| {
            r.draft.details["evidence"]
                .to_string()
                .contains("drift.share_drifted")
        })
        .count();
    assert_eq!(with_alarm, 2);
    // The rolled-back version no longer serves: a later alarm is only recorded.
    assert_eq!(
        w.gov
            .respond_to_alarm(&v2, drift_alarm(&w, &v2), &monitor().id)
            .unwrap(),
        AlarmResponse::Recorded
    );
    w.gov.audit_log().verify().unwrap();
    w.gov.verify_consistency().unwrap().unwrap();
}

#[test]
fn an_automatic_rollback_still_needs_the_sign_offs_the_policy_requires() {
    let w = world_with(AlarmPolicy::default().with_tier(RiskTier::Medium, AlarmAction::RollBack));
    let (_v1, v2) = two_champions(&w, RiskTier::Medium);
    // At medium, re-entering pre_production needs no guard but the permission... and the
    // rollback goes through; reinstating v1 into production needs a validator's sign-off.
    let response = w
        .gov
        .respond_to_alarm(&v2, drift_alarm(&w, &v2), &monitor().id)
        .unwrap();
    let AlarmResponse::RolledBack {
        reinstated: None,
        awaiting: Some(req),
        ..
    } = response
    else {
        panic!("{response:?}");
    };
    assert_eq!(w.state_of(&v2), "pre_production");
    assert_eq!(w.gov.approval(&req).unwrap().event.as_str(), "reinstate");
}

fn rules(tag: &str) -> mlops_registry::model::RulesRef {
    mlops_registry::model::RulesRef {
        uri: format!("s3://rules/{tag}.json"),
        digest: mlops_core::Digest::of(tag.as_bytes()),
    }
}

#[test]
fn humility_rules_of_a_serving_version_change_only_through_a_governed_amendment() {
    let w = world_with(AlarmPolicy::default());
    let (_v1, v2) = two_champions(&w, RiskTier::Medium);
    let registry = mlops_registry::Registry::new(w.store_dyn(), Arc::new(w.clock.clone())).unwrap();
    // Beside the drift profile, from creation; freely changed while in development.
    let core = w.store.get_version(&v2).unwrap().core().clone();
    let v3 = w
        .store
        .create_version(
            mlops_registry::store::NewVersion::new(v2.name().clone(), core)
                .with_humility_rules(rules("v3-draft")),
        )
        .unwrap()
        .version
        .model_ref();
    assert_eq!(
        w.store.get_version(&v3).unwrap().status().humility_rules,
        Some(rules("v3-draft"))
    );
    registry
        .set_humility_rules(&v3, Some(rules("v3")), &w.cast.eve)
        .unwrap();
    // Serving: the facade is refused; the amendment needs the production sign-off.
    let err = registry
        .set_humility_rules(&v2, Some(rules("sneaky")), &w.cast.eve)
        .unwrap_err();
    assert!(matches!(
        err,
        mlops_registry::RegistryError::Protected {
            change: mlops_registry::governed::ProtectedChange::HumilityRules { .. },
            ..
        }
    ));
    let ctx = PlanContext::default();
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w
        .gov
        .amend_rules(&v2, Some(rules("v2-tight")), &w.cast.eve.id, &ctx)
    else {
        panic!("an amendment needs the policy's sign-offs");
    };
    assert_eq!(
        w.store.get_version(&v2).unwrap().status().humility_rules,
        None
    );
    w.gov
        .approve(&req, &w.cast.val.id, "tighter bands reviewed")
        .unwrap();
    let done = w
        .gov
        .amend_rules(&v2, Some(rules("v2-tight")), &w.cast.eve.id, &ctx)
        .unwrap();
    assert_eq!(
        (done.from.as_str(), done.to.as_str()),
        ("production", "production")
    );
    let now = w.store.get_version(&v2).unwrap();
    assert_eq!(now.status().humility_rules, Some(rules("v2-tight")));
    assert_eq!(now.state().as_str(), "production");
    let agg = w.store.get_model(v2.name()).unwrap();
    assert_eq!(
        agg.alias(&mlops_core::AliasName::champion()),
        Some(v2.version())
    );
    let record = w
        .gov
        .audit_log()
        .read_all()
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.draft.action.as_str() == AuditAction::TRANSITION_APPLIED.as_str())
        .unwrap();
    assert_eq!(record.draft.details["event"], "amend");
    assert_eq!(
        record.draft.details["humility_rules"]["uri"],
        "s3://rules/v2-tight.json"
    );
    w.gov.audit_log().verify().unwrap();
    w.gov.verify_consistency().unwrap().unwrap();
}
