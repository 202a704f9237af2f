//! Governance is enforced, not advised: every bypass found by an adversarial read of the public
//! API is a named regression test here. Each one succeeded before the commit boundary learned
//! which states, aliases and tiers are protected.
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
use mlops_core::{Actor, AliasName, Clock, ModelRef, RiskTier, Role};
use mlops_governance::approval::RequestStatus;
use mlops_governance::audit::{AuditLog, AuditLogExt};
use mlops_governance::engine::{Applied, Governance, PlanContext};
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_governance::{ApprovalError, GovernanceError};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::governed::{GovernanceSeal, ProtectedChange};
use mlops_registry::model::{Protection, StateName};
use mlops_registry::store::ModelStore;
use mlops_registry::{Registry, RegistryError};
use support::{World, bank_policy, state};

fn registry(w: &World) -> Registry<Arc<dyn ModelStore>> {
    Registry::new(w.store_dyn(), Arc::new(w.clock.clone())).unwrap()
}

/// A medium-tier version in `pre_production` (no guards on the way there at this tier).
fn in_pre_production(w: &World, model: &str) -> ModelRef {
    let v = w.version(model, RiskTier::Medium);
    let ctx = PlanContext::default();
    w.gov
        .transition(&v, &names::SUBMIT, &w.cast.eve.id, &ctx)
        .unwrap();
    w.gov
        .transition(&v, &names::VALIDATE, &w.cast.eve.id, &ctx)
        .unwrap();
    v
}

/// Denied for want of a sign-off: the request opened (or still open).
fn awaiting(w: &World, v: &ModelRef) -> mlops_governance::approval::ApprovalId {
    match w
        .gov
        .transition(v, &names::PROMOTE, &w.cast.eve.id, &PlanContext::default())
    {
        Err(GovernanceError::Denied {
            approval: Some(id), ..
        }) => id,
        other => panic!("expected a denial awaiting sign-off, got {other:?}"),
    }
}

/// A medium-tier version promoted to production by the rules: `champion` points at it.
fn in_production(w: &World, model: &str) -> ModelRef {
    let v = in_pre_production(w, model);
    let req = awaiting(w, &v);
    w.gov.approve(&req, &w.cast.val.id, "validated").unwrap();
    w.gov
        .transition(&v, &names::PROMOTE, &w.cast.eve.id, &PlanContext::default())
        .unwrap();
    v
}

fn protected(err: &RegistryError) -> &ProtectedChange {
    match err {
        RegistryError::Protected { change, .. } => change,
        other => panic!("expected a protected-change refusal, got {other:?}"),
    }
}

fn assert_audit_and_state_consistent(w: &World) {
    w.gov.audit_log().verify().unwrap();
    w.gov.verify_consistency().unwrap().unwrap();
}

#[test]
fn registry_update_cannot_put_a_critical_version_into_production() {
    let w = World::new(bank_policy());
    let v = w.version("fraud", RiskTier::Critical);
    let before = w.gov.audit_log().checkpoint().unwrap();
    let err = registry(&w)
        .update(v.name(), |agg| {
            agg.set_state(
                v.version(),
                state("production"),
                &w.cast.eve.id,
                w.clock.now(),
            )?;
            Ok(((), vec![]))
        })
        .unwrap_err();
    assert!(
        matches!(protected(&err), ProtectedChange::State { to, .. } if to.as_str() == "production")
    );
    assert_eq!(w.state_of(&v), "development");
    assert_eq!(
        w.gov.audit_log().checkpoint().unwrap(),
        before,
        "nothing written"
    );
    assert_audit_and_state_consistent(&w);
}

#[test]
fn registry_update_cannot_move_unprotect_or_remove_the_champion() {
    let w = World::new(bank_policy());
    let v1 = in_production(&w, "fraud");
    let v2 = w.version("fraud", RiskTier::Medium);
    let reg = registry(&w);
    let err = reg
        .update(v1.name(), |agg| {
            agg.set_alias(
                AliasName::champion(),
                v2.version(),
                &w.cast.eve.id,
                w.clock.now(),
            )?;
            Ok(((), vec![]))
        })
        .unwrap_err();
    assert!(matches!(protected(&err), ProtectedChange::Alias { .. }));
    let err = reg
        .update(v1.name(), |agg| {
            agg.set_protected(AliasName::champion(), Protection::Unprotected);
            Ok(((), vec![]))
        })
        .unwrap_err();
    assert!(matches!(protected(&err), ProtectedChange::Unprotect { .. }));
    assert!(matches!(
        reg.remove_alias(v1.name(), &AliasName::champion(), &w.cast.eve),
        Err(RegistryError::ProtectedAlias { .. })
    ));
    assert_eq!(
        reg.resolve(v1.name(), &AliasName::champion())
            .unwrap()
            .number(),
        v1.version()
    );
    assert_audit_and_state_consistent(&w);
}

#[test]
fn registry_update_cannot_change_the_risk_tier() {
    let w = World::new(bank_policy());
    let v = w.version("fraud", RiskTier::Critical);
    let err = registry(&w)
        .update(v.name(), |agg| {
            agg.model_mut().risk_tier = RiskTier::Low;
            Ok(((), vec![]))
        })
        .unwrap_err();
    assert!(matches!(
        protected(&err),
        ProtectedChange::RiskTier {
            from: RiskTier::Critical,
            to: RiskTier::Low
        }
    ));
    assert_eq!(
        w.store.get_model(v.name()).unwrap().model().risk_tier,
        RiskTier::Critical
    );
}

#[test]
fn a_raw_store_commit_is_refused_like_the_facade() {
    let w = World::new(bank_policy());
    let v = in_pre_production(&w, "fraud");
    let mut agg = w.store.get_model(v.name()).unwrap();
    let rev = agg.revision();
    agg.set_state(
        v.version(),
        state("production"),
        &w.cast.eve.id,
        w.clock.now(),
    )
    .unwrap();
    agg.set_alias(
        AliasName::champion(),
        v.version(),
        &w.cast.eve.id,
        w.clock.now(),
    )
    .unwrap();
    let err = w.store.commit(v.name(), rev, agg, vec![]).unwrap_err();
    assert!(matches!(protected(&err), ProtectedChange::State { .. }));
    // A version cannot be created in a protected state either.
    let core = w.store.get_version(&v).unwrap().core().clone();
    let err = w
        .store
        .create_version(
            mlops_registry::store::NewVersion::new(v.name().clone(), core)
                .with_initial_state(state("production")),
        )
        .unwrap_err();
    assert!(matches!(
        protected(&err),
        ProtectedChange::InitialState { .. }
    ));
    assert_eq!(w.state_of(&v), "pre_production");
}

#[test]
fn champion_is_protected_from_the_models_creation() {
    let w = World::new(bank_policy());
    let reg = registry(&w);
    let name = "churn".parse().unwrap();
    reg.register_model(&name, &w.cast.alice, "").unwrap();
    let v = w.version("churn", RiskTier::Medium);
    assert!(matches!(
        reg.set_alias(&name, &AliasName::champion(), v.version(), &w.cast.eve),
        Err(RegistryError::ProtectedAlias { .. })
    ));
    let agg = w.store.get_model(&name).unwrap();
    assert!(agg.is_protected(&AliasName::champion()));
    assert!(agg.is_protected_state(&state("production")));
}

#[test]
fn governance_cannot_be_bypassed_with_a_claimed_seal() {
    let _w = World::new(bank_policy());
    assert!(
        GovernanceSeal::claim().is_none(),
        "the engine holds the process's seal; no other code can obtain it"
    );
}

#[test]
fn a_plan_is_a_preview_the_commit_reevaluates_the_policy() {
    // Production at medium needs a validator; the freeze window opens an hour after planning.
    let start = support::start();
    let frozen = PolicySpec::new("frozen")
        .tier(
            RiskTier::Medium,
            TierRules::default()
                .entering(
                    state("production"),
                    Guard::approvals(1, [Role::model_validator()]),
                )
                .entering(
                    state("production"),
                    Guard::FreezeWindow {
                        start: start + TimeDelta::hours(1),
                        end: start + TimeDelta::hours(5),
                        reason: "quarter close".into(),
                    },
                ),
        )
        .validate()
        .unwrap();
    let w = World::new(frozen);
    let v = in_pre_production(&w, "fraud");
    let req = awaiting(&w, &v);
    w.gov.approve(&req, &w.cast.val.id, "validated").unwrap();
    let plan = w
        .gov
        .plan(
            v.name(),
            v.version(),
            &names::PROMOTE,
            &w.cast.eve.id,
            &PlanContext::default(),
        )
        .unwrap();
    assert!(plan.verdict().is_allowed(), "{}", plan.verdict());
    w.clock.advance(TimeDelta::hours(2));
    assert!(matches!(
        w.gov.commit(&plan),
        Err(GovernanceError::Denied { .. })
    ));
    assert_eq!(w.state_of(&v), "pre_production");

    // After a policy change, a plan made under the old policy commits nothing the new one denies.
    w.clock.advance(TimeDelta::hours(4));
    let plan = w
        .gov
        .plan(
            v.name(),
            v.version(),
            &names::PROMOTE,
            &w.cast.eve.id,
            &PlanContext::default(),
        )
        .unwrap();
    assert!(plan.verdict().is_allowed(), "{}", plan.verdict());
    let two = PolicySpec::new("two-validators")
        .tier(
            RiskTier::Medium,
            TierRules::default().entering(
                state("production"),
                Guard::approvals(2, [Role::model_validator()]),
            ),
        )
        .validate()
        .unwrap();
    w.gov
        .change_to_policy(&w.cast.gina.id, two, "second validator required")
        .unwrap();
    assert!(matches!(
        w.gov.commit(&plan),
        Err(GovernanceError::Denied { .. })
    ));
    assert_eq!(w.state_of(&v), "pre_production");
    assert_audit_and_state_consistent(&w);
}

#[test]
fn a_plan_whose_approver_left_does_not_commit() {
    let w = World::new(bank_policy());
    let v = in_pre_production(&w, "fraud");
    let req = awaiting(&w, &v);
    w.gov.approve(&req, &w.cast.val.id, "validated").unwrap();
    let plan = w
        .gov
        .plan(
            v.name(),
            v.version(),
            &names::PROMOTE,
            &w.cast.eve.id,
            &PlanContext::default(),
        )
        .unwrap();
    assert!(plan.verdict().is_allowed());
    w.gov.deactivate_actor(&w.cast.val.id).unwrap();
    assert!(matches!(
        w.gov.commit(&plan),
        Err(GovernanceError::Denied { .. })
    ));
    assert_eq!(w.state_of(&v), "pre_production");
}

#[test]
fn the_environment_is_the_engines_configuration_not_the_requests() {
    let policy = {
        let mut spec = bank_policy().spec().clone();
        spec.enforcement.environments.insert(
            "staging".into(),
            mlops_governance::policy::EnforcementMode::Warn,
        );
        spec.validate().unwrap()
    };
    // An engine serving prod enforces, whatever the request says (it cannot say anything).
    let prod = World::new(policy.clone());
    let v = in_pre_production(&prod, "fraud");
    assert!(matches!(
        prod.gov.transition(
            &v,
            &names::PROMOTE,
            &prod.cast.eve.id,
            &PlanContext::default()
        ),
        Err(GovernanceError::Denied { .. })
    ));
    assert_eq!(prod.state_of(&v), "pre_production");
    // The host configured this one for staging: denials are warnings there.
    let staging = World::in_environment(policy, "staging");
    let v = in_pre_production(&staging, "fraud");
    let done = staging
        .gov
        .transition(
            &v,
            &names::PROMOTE,
            &staging.cast.eve.id,
            &PlanContext::default(),
        )
        .unwrap();
    assert_eq!(done.applied, Applied::Unenforced);
    assert_eq!(staging.gov.environment(), "staging");
}

#[test]
fn two_engines_on_one_store_share_approvals_and_ids() {
    let w = World::new(bank_policy());
    let other = Governance::builder(w.store_dyn(), Arc::new(w.clock.clone()))
        .policy(bank_policy())
        .unwrap()
        .actors(w.cast.all())
        .environment("prod")
        .build();
    let v = in_pre_production(&w, "fraud");
    let req = awaiting(&w, &v);
    // B sees A's request and rejects it; A then refuses to promote.
    assert_eq!(other.approval(&req).unwrap().status, RequestStatus::Open);
    other
        .reject(&req, &w.cast.val.id, "calibration is off")
        .unwrap();
    assert!(matches!(
        w.gov
            .transition(&v, &names::PROMOTE, &w.cast.eve.id, &PlanContext::default()),
        Err(GovernanceError::Rejected { ref request }) if *request == req
    ));
    // Ids are unique per store, whichever engine opens the request.
    let u = in_pre_production(&w, "churn");
    let r1 = match other.transition(&u, &names::PROMOTE, &w.cast.eve.id, &PlanContext::default()) {
        Err(GovernanceError::Denied {
            approval: Some(id), ..
        }) => id,
        o => panic!("{o:?}"),
    };
    let r2 = w
        .gov
        .reopen(&req, &w.cast.eve.id, "recalibrated")
        .unwrap()
        .id;
    let all = w.gov.approvals().unwrap();
    assert_eq!(all.len(), 3);
    assert!(req != r1 && r1 != r2 && req != r2);
    assert_eq!(all, other.approvals().unwrap(), "one truth");
}

#[test]
fn forged_approval_records_are_refused_and_never_trusted() {
    let w = World::new(bank_policy());
    let v = w.version("fraud", RiskTier::Critical);
    let forged = AuditDraft::new(
        w.clock.now(),
        Actor::human("mallory")
            .unwrap()
            .with_role(Role::risk_officer()),
        AuditAction::new("governance.approval.approved").unwrap(),
        mlops_core::Subject::Version { version: v.clone() },
    )
    .with_details(mlops_registry::serde_json::json!({"request": {"id": 1}}));
    let before = w.gov.audit_log().checkpoint().unwrap();
    assert!(matches!(
        w.gov.audit_log().append(vec![forged.clone()]),
        Err(mlops_governance::AuditError::Registry(
            RegistryError::ReservedAction { .. }
        ))
    ));
    assert!(matches!(
        w.store.append_audit(vec![forged]),
        Err(RegistryError::ReservedAction { .. })
    ));
    assert_eq!(w.gov.audit_log().checkpoint().unwrap(), before);
    // A restarted engine reads requests from the store, not from the log.
    let restarted = Governance::builder(w.store_dyn(), Arc::new(w.clock.clone()))
        .policy(bank_policy())
        .unwrap()
        .actors(w.cast.all())
        .build();
    assert!(restarted.approvals().unwrap().is_empty());
}

#[test]
fn signoffs_lapse_when_the_version_leaves_the_state_they_were_given_for() {
    let w = World::new(bank_policy());
    let ctx = PlanContext::default();
    let v = in_pre_production(&w, "fraud");
    let old = awaiting(&w, &v);
    w.gov.approve(&old, &w.cast.val.id, "validated").unwrap();
    // Rejected, reworked and revalidated: the old sign-off no longer counts.
    w.gov
        .transition(&v, &names::REJECT, &w.cast.eve.id, &ctx)
        .unwrap();
    assert_eq!(
        w.gov.approval(&old).unwrap().status,
        RequestStatus::Superseded
    );
    for event in [names::REWORK, names::SUBMIT, names::VALIDATE] {
        w.gov.transition(&v, &event, &w.cast.eve.id, &ctx).unwrap();
    }
    let new = awaiting(&w, &v);
    assert_ne!(new, old);
    assert_eq!(w.state_of(&v), "pre_production");
    w.gov.approve(&new, &w.cast.val.id, "revalidated").unwrap();
    w.gov
        .transition(&v, &names::PROMOTE, &w.cast.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v), "production");
    assert_audit_and_state_consistent(&w);
}

#[test]
fn signoffs_lapse_when_the_approver_loses_the_role_or_is_deactivated() {
    let w = World::new(bank_policy());
    let ctx = PlanContext::default();
    let v = in_pre_production(&w, "fraud");
    let req = awaiting(&w, &v);
    w.gov.approve(&req, &w.cast.val.id, "validated").unwrap();
    // Val moves to another team and loses the validator role before the promotion.
    w.gov
        .add_actor(Actor::human("val").unwrap().with_role(Role::auditor()));
    assert!(matches!(
        w.gov.transition(&v, &names::PROMOTE, &w.cast.eve.id, &ctx),
        Err(GovernanceError::Denied { .. })
    ));
    // Back in the role, the sign-off counts again; deactivated, it does not.
    w.gov.add_actor(w.cast.val.clone());
    let plan = w
        .gov
        .plan(v.name(), v.version(), &names::PROMOTE, &w.cast.eve.id, &ctx)
        .unwrap();
    assert!(plan.verdict().is_allowed());
    w.gov.deactivate_actor(&w.cast.val.id);
    assert!(matches!(
        w.gov.transition(&v, &names::PROMOTE, &w.cast.eve.id, &ctx),
        Err(GovernanceError::Denied { .. })
    ));
    assert_eq!(w.state_of(&v), "pre_production");
}

#[test]
fn a_rejection_is_sticky_and_reopening_records_it() {
    let w = World::new(bank_policy());
    let ctx = PlanContext::default();
    let v = in_pre_production(&w, "fraud");
    let req = awaiting(&w, &v);
    w.gov
        .reject(&req, &w.cast.val.id, "calibration is off")
        .unwrap();
    for _ in 0..2 {
        assert!(matches!(
            w.gov.transition(&v, &names::PROMOTE, &w.cast.eve.id, &ctx),
            Err(GovernanceError::Rejected { ref request }) if *request == req
        ));
    }
    assert_eq!(
        w.gov.approvals().unwrap().len(),
        1,
        "asking again opened nothing"
    );
    assert!(matches!(
        w.gov.reopen(&req, &w.cast.eve.id, " \u{200b} "),
        Err(GovernanceError::MissingJustification)
    ));
    let again = w
        .gov
        .reopen(&req, &w.cast.eve.id, "recalibrated on the Q2 sample")
        .unwrap();
    assert_eq!(again.reopens.as_ref(), Some(&req));
    assert_eq!(again.prior_decisions.len(), 1);
    assert_eq!(again.prior_decisions[0].comment, "calibration is off");
    assert!(matches!(
        w.gov.reopen(&again.id, &w.cast.eve.id, "again"),
        Err(GovernanceError::Approval(ApprovalError::NotRejected { .. }))
    ));
    w.gov
        .approve(&again.id, &w.cast.val.id, "recalibration verified")
        .unwrap();
    w.gov
        .transition(&v, &names::PROMOTE, &w.cast.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v), "production");
    assert_audit_and_state_consistent(&w);
}

#[test]
fn a_post_hoc_review_excludes_the_author_and_the_overrider() {
    let w = World::new(bank_policy());
    // Olga responds to incidents and validates models: she may not review her own override.
    let olga = Actor::human("olga")
        .unwrap()
        .with_role(Role::incident_responder())
        .with_role(Role::model_validator());
    w.gov.add_actor(olga.clone());
    let v = in_pre_production(&w, "fraud");
    let done = w
        .gov
        .break_glass(
            &v,
            &names::PROMOTE,
            &olga.id,
            "incident 7: regulator deadline",
            &PlanContext::default(),
        )
        .unwrap();
    let review = done.review.unwrap();
    for who in [&olga.id, &w.cast.alice.id] {
        assert!(
            matches!(
                w.gov.approve(&review, who, "fine"),
                Err(GovernanceError::Approval(
                    ApprovalError::SeparationOfDuties { .. }
                ))
            ),
            "{who}"
        );
    }
    w.gov.approve(&review, &w.cast.val.id, "reviewed").unwrap();
    assert_eq!(
        w.gov.approval(&review).unwrap().status,
        RequestStatus::Fulfilled
    );
    assert_audit_and_state_consistent(&w);
}

#[test]
fn invisible_justifications_and_comments_are_refused() {
    let w = World::new(bank_policy());
    let v = in_pre_production(&w, "fraud");
    for blank in [
        "",
        "   ",
        "\u{200b}",
        "\u{feff}\u{2060}\u{200d}",
        "\t\u{00ad}\n",
    ] {
        assert!(
            matches!(
                w.gov.break_glass(
                    &v,
                    &names::PROMOTE,
                    &w.cast.ivan.id,
                    blank,
                    &PlanContext::default()
                ),
                Err(GovernanceError::MissingJustification)
            ),
            "{blank:?}"
        );
    }
    let req = awaiting(&w, &v);
    assert!(matches!(
        w.gov.reject(&req, &w.cast.val.id, "\u{200b}\u{200b}"),
        Err(GovernanceError::Approval(
            ApprovalError::MissingComment { .. }
        ))
    ));
    assert_eq!(w.state_of(&v), "pre_production");
}

#[test]
fn a_custom_lifecycles_protected_names_are_guarded_from_registration() {
    let w = World::new(bank_policy());
    let (states, aliases) = w.gov.protected_names();
    assert!(states.contains(&state("production")) && aliases.contains(&AliasName::champion()));
    let name = "pricing".parse().unwrap();
    let agg = w.gov.register_model(&name, &w.cast.alice, "").unwrap();
    for s in &states {
        assert!(agg.is_protected_state(s), "{s}");
    }
    let stored = w.store.get_model(&name).unwrap();
    assert!(!stored.is_sealed());
    assert_eq!(stored.protected_states(), agg.protected_states());
    let _: &StateName = states.iter().next().unwrap();
}
