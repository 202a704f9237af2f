//! A governance workflow written as documentation: the bank template, step by step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_core::chrono::TimeDelta;
use mlops_core::{AliasName, RiskTier};
use mlops_governance::GovernanceError;
use mlops_governance::approval::RequestStatus;
use mlops_governance::audit::{self, AuditLogExt};
use mlops_governance::engine::{Applied, PlanContext};
use mlops_governance::lifecycle::EventName;
use mlops_governance::lifecycle::names;
use mlops_governance::policy::GuardKind;
use mlops_registry::audit::AuditAction;
use support::{World, bank_policy, state};

/// A high-risk fraud model goes from development to production under the bank policy:
/// the data scientist builds it, the ML engineer requests each step, a validator and a risk
/// officer sign off, and the audit log tells the story.
#[test]
fn a_high_risk_model_reaches_production_with_its_signoffs() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let v1 = w.version("fraud", RiskTier::High);
    let ctx = w.ready_context(&v1);

    // 1. Submitting for validation needs nothing at this tier.
    w.gov
        .transition(&v1, &names::SUBMIT, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v1), "validation");

    // 2. Entering pre-production needs a validator's sign-off: the request is denied, and an
    //    approval request is opened for exactly that.
    let Err(GovernanceError::Denied { verdict, approval }) =
        w.gov.transition(&v1, &names::VALIDATE, &c.eve.id, &ctx)
    else {
        panic!("expected a denial awaiting sign-off");
    };
    assert_eq!(
        verdict.unmet().map(|o| o.kind).collect::<Vec<_>>(),
        [GuardKind::Approvals]
    );
    let request = approval.expect("an approval request is opened");

    // 3. The author cannot approve her own model, though she is a validator (audited).
    assert!(matches!(
        w.gov.approve(&request, &c.alice.id, "mine"),
        Err(GovernanceError::Approval(
            mlops_governance::ApprovalError::SeparationOfDuties { .. }
        ))
    ));
    // ... and a risk officer is not a validator (wrong role), which is audited.
    assert!(matches!(
        w.gov.approve(&request, &c.rita.id, "ok"),
        Err(GovernanceError::Unauthorized(
            mlops_governance::AuthorizationError::WrongRole { .. }
        ))
    ));
    w.gov
        .approve(&request, &c.val.id, "AUC and calibration verified")
        .unwrap();

    // 4. Now it passes, and the request is fulfilled in the same commit.
    w.gov
        .transition(&v1, &names::VALIDATE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v1), "pre_production");
    assert_eq!(
        w.gov.approvals().unwrap().get(&request).unwrap().status,
        RequestStatus::Fulfilled
    );

    // 5. Production: a risk officer, documentation and a week in pre-production. Every unmet
    //    guard is reported at once.
    let Err(GovernanceError::Denied { verdict, .. }) =
        w.gov
            .transition(&v1, &names::PROMOTE, &c.eve.id, &PlanContext::default())
    else {
        panic!("expected a denial");
    };
    let unmet: Vec<GuardKind> = verdict.unmet().map(|o| o.kind).collect();
    assert_eq!(
        unmet,
        [
            GuardKind::Approvals,
            GuardKind::Documentation,
            GuardKind::MinTimeInState
        ]
    );

    // A week later, with documentation, only the sign-off is missing.
    w.clock.advance(TimeDelta::days(7));
    let ctx = w.ready_context(&v1);
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v1, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!("expected a denial awaiting sign-off");
    };
    // The requester is a risk officer too, but cannot sign off on his own request.
    assert!(matches!(
        w.gov.approve(&req, &c.eve.id, "self-service"),
        Err(GovernanceError::Approval(
            mlops_governance::ApprovalError::SeparationOfDuties { .. }
        ))
    ));
    w.gov.approve(&req, &c.rita.id, "risk accepted").unwrap();
    let done = w
        .gov
        .transition(&v1, &names::PROMOTE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(done.applied, Applied::Allowed);
    assert_eq!(w.state_of(&v1), "production");

    // Entering production moved the champion alias.
    let agg = w.store_dyn().get_model(v1.name()).unwrap();
    assert_eq!(agg.alias(&AliasName::champion()), Some(v1.version()));

    // 6. The auditor: the chain verifies, and the production roster names the approvers.
    let log = w.gov.audit_log();
    log.verify().unwrap();
    let roster = audit::production_roster(&log, &[state("production")]).unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].version, v1);
    assert_eq!(roster[0].requested_by, c.eve.id);
    assert_eq!(roster[0].approved_by, vec![c.rita.id.clone()]);
    let history = audit::history(&log, &v1).unwrap();
    let actions_seen: Vec<&str> = history.iter().map(|r| r.draft.action.as_str()).collect();
    for a in [
        AuditAction::TRANSITION_APPLIED.as_str(),
        AuditAction::TRANSITION_DENIED.as_str(),
        AuditAction::APPROVAL_OPENED.as_str(),
        AuditAction::APPROVAL_APPROVED.as_str(),
        AuditAction::APPROVAL_FULFILLED.as_str(),
        AuditAction::UNAUTHORIZED.as_str(),
    ] {
        assert!(actions_seen.contains(&a), "missing {a} in {actions_seen:?}");
    }
    // Every transition record names the policy by its content hash.
    let policy = w.gov.policy().identity().to_string();
    assert!(
        history
            .iter()
            .filter(|r| r.draft.action.as_str().starts_with("governance.transition"))
            .all(|r| r.draft.details["policy"] == policy.as_str())
    );
}

#[test]
fn promoting_a_second_version_evicts_the_champion() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let ctx = PlanContext::default();
    let mut versions = Vec::new();
    for _ in 0..2 {
        let v = w.version("churn", RiskTier::Low);
        for e in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
            w.gov.transition(&v, &e, &c.eve.id, &ctx).unwrap();
        }
        versions.push(v);
    }
    assert_eq!(w.state_of(&versions[0]), "retired");
    assert_eq!(w.state_of(&versions[1]), "production");
    let agg = w.store_dyn().get_model(versions[0].name()).unwrap();
    assert_eq!(
        agg.alias(&AliasName::champion()),
        Some(versions[1].version())
    );
    assert!(agg.is_protected(&AliasName::champion()));
    let log = w.gov.audit_log();
    let evicted = audit::history(&log, &versions[0]).unwrap();
    assert!(
        evicted
            .iter()
            .any(|r| r.draft.action.as_str() == AuditAction::TRANSITION_EVICTED.as_str())
    );
}

#[test]
fn break_glass_rolls_back_at_once_and_opens_a_review() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let v = w.version("credit", RiskTier::Critical);
    // Nobody signed anything: only an override can put it into production.
    w.gov
        .transition(&v, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    assert_eq!(w.state_of(&v), "validation");
    // Without a justification nothing happens.
    assert!(matches!(
        w.gov.break_glass(
            &v,
            &names::VALIDATE,
            &c.ivan.id,
            "  ",
            &PlanContext::default()
        ),
        Err(GovernanceError::MissingJustification)
    ));
    // The wrong role is refused and audited.
    let before = w.gov.audit_log().checkpoint().unwrap().seq;
    assert!(matches!(
        w.gov.break_glass(
            &v,
            &names::VALIDATE,
            &c.eve.id,
            "trust me",
            &PlanContext::default()
        ),
        Err(GovernanceError::Unauthorized(_))
    ));
    let after = w.gov.audit_log().checkpoint().unwrap();
    assert_eq!(after.seq, before + 1);
    assert_eq!(w.state_of(&v), "validation");

    let done = w
        .gov
        .break_glass(
            &v,
            &names::VALIDATE,
            &c.ivan.id,
            "regulator deadline; validation report attached",
            &PlanContext::default(),
        )
        .unwrap();
    assert_eq!(done.applied, Applied::Overridden);
    assert!(
        !done.verdict.is_allowed(),
        "the verdict is recorded even though it was overridden"
    );
    let review = done.review.expect("a post-hoc review is opened");
    assert_eq!(w.state_of(&v), "pre_production");
    // The overrider cannot review their own override; a validator can.
    assert!(w.gov.approve(&review, &c.ivan.id, "fine").is_err());
    let r = w
        .gov
        .approve(&review, &c.val.id, "reviewed after the fact")
        .unwrap();
    assert_eq!(r.status, RequestStatus::Fulfilled);
    let last = audit::history(&w.gov.audit_log(), &v).unwrap();
    let overridden = last
        .iter()
        .find(|r| r.draft.action.as_str() == AuditAction::TRANSITION_OVERRIDDEN.as_str())
        .unwrap();
    assert_eq!(
        overridden.draft.justification.as_deref(),
        Some("regulator deadline; validation report attached")
    );
}

#[test]
fn approval_requests_expire_by_the_clock_and_can_be_cancelled() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let v = w.version("aml", RiskTier::Medium);
    let ctx = PlanContext::default();
    for e in [names::SUBMIT, names::VALIDATE] {
        w.gov.transition(&v, &e, &c.eve.id, &ctx).unwrap();
    }
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!()
    };
    w.clock.advance(TimeDelta::days(3));
    assert!(matches!(
        w.gov.approve(&req, &c.val.id, "late"),
        Err(GovernanceError::Approval(
            mlops_governance::ApprovalError::NotOpen {
                status: RequestStatus::Expired,
                ..
            }
        ))
    ));
    assert_eq!(
        w.gov.approvals().unwrap().get(&req).unwrap().status,
        RequestStatus::Expired
    );
    // A new request is opened by the next attempt; its requester cancels it.
    let Err(GovernanceError::Denied {
        approval: Some(req2),
        ..
    }) = w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!()
    };
    assert_ne!(req, req2);
    assert!(matches!(
        w.gov.cancel(&req2, &c.aud.id),
        Err(GovernanceError::Unauthorized(_))
    ));
    assert_eq!(
        w.gov.cancel(&req2, &c.eve.id).unwrap().status,
        RequestStatus::Cancelled
    );
    let log = w.gov.audit_log();
    let acts: Vec<String> = log
        .read_all()
        .unwrap()
        .iter()
        .map(|r| r.draft.action.to_string())
        .collect();
    assert!(acts.contains(&AuditAction::APPROVAL_EXPIRED.as_str().to_string()));
    assert!(acts.contains(&AuditAction::APPROVAL_CANCELLED.as_str().to_string()));
    // Another engine on the same store sees the same requests: they live in the store.
    let rebuilt =
        mlops_governance::Governance::builder(w.store_dyn(), std::sync::Arc::new(w.clock.clone()))
            .build();
    assert_eq!(
        rebuilt.approvals().unwrap().get(&req2).unwrap().status,
        RequestStatus::Cancelled
    );
}

#[test]
fn bad_input_is_a_typed_error_and_commits_nothing() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let v = w.version("fraud", RiskTier::High);
    let ctx = PlanContext::default();
    let log = w.gov.audit_log();
    let head = log.checkpoint().unwrap();
    let unknown = mlops_core::ActorId::new("stranger").unwrap();
    assert!(matches!(
        w.gov.transition(&v, &names::SUBMIT, &unknown, &ctx),
        Err(GovernanceError::UnknownActor { .. })
    ));
    assert!(matches!(
        w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx),
        Err(GovernanceError::Lifecycle(
            mlops_governance::LifecycleError::UnknownEvent { .. }
        ))
    ));
    // A malformed event name cannot reach the engine: it is refused where it is parsed.
    assert!(matches!(
        "no such event!".parse::<EventName>(),
        Err(mlops_core::IdError::InvalidChar { .. })
    ));
    let missing = "fraud@v99".parse().unwrap();
    assert!(matches!(
        w.gov.transition(&missing, &names::SUBMIT, &c.eve.id, &ctx),
        Err(GovernanceError::Registry(_))
    ));
    assert!(matches!(
        w.gov.approve(
            &mlops_governance::approval::ApprovalId::new("fraud".parse().unwrap(), 42),
            &c.val.id,
            ""
        ),
        Err(GovernanceError::Approval(
            mlops_governance::ApprovalError::NotFound { .. }
        ))
    ));
    assert_eq!(log.checkpoint().unwrap(), head, "nothing was written");
    assert_eq!(w.state_of(&v), "development");
}

#[test]
fn warn_and_observe_modes_proceed_and_record_the_would_be_denial() {
    let policy = {
        let mut spec = bank_policy().spec().clone();
        spec.enforcement.environments.insert(
            "staging".into(),
            mlops_governance::policy::EnforcementMode::Warn,
        );
        spec.validate().unwrap()
    };
    // The environment is the engine's configuration, never the request's.
    let w = World::in_environment(policy, "staging");
    let c = &w.cast;
    let v = w.version("fraud", RiskTier::High);
    let staging = PlanContext::default();
    w.gov
        .transition(&v, &names::SUBMIT, &c.eve.id, &staging)
        .unwrap();
    let done = w
        .gov
        .transition(&v, &names::VALIDATE, &c.eve.id, &staging)
        .unwrap();
    assert_eq!(done.applied, Applied::Unenforced);
    assert!(!done.verdict.is_allowed());
    let rec = audit::history(&w.gov.audit_log(), &v)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        rec.draft.action.as_str(),
        AuditAction::TRANSITION_APPLIED.as_str()
    );
    assert_eq!(rec.draft.details["verdict"]["decision"], "deny");
    assert_eq!(rec.draft.details["verdict"]["mode"], "warn");
}

#[test]
fn policy_changes_are_permissioned_and_audited() {
    let w = World::new(bank_policy());
    let c = &w.cast;
    let new = std::sync::Arc::new(mlops_governance::policy::Policy::permissive("lenient"));
    assert!(matches!(
        w.gov.change_policy(&c.rita.id, new.clone(), "quarter end"),
        Err(GovernanceError::Unauthorized(_))
    ));
    let old = w.gov.policy().identity();
    let id = w
        .gov
        .change_policy(&c.gina.id, new, "approved by the model risk committee")
        .unwrap();
    assert_ne!(id, old);
    let recs = w.gov.audit_log().read_all().unwrap();
    let last = recs.last().unwrap();
    assert_eq!(
        last.draft.action.as_str(),
        AuditAction::POLICY_CHANGED.as_str()
    );
    assert_eq!(last.draft.details["from"], old.to_string().as_str());
    assert_eq!(last.draft.details["to"], id.to_string().as_str());
    assert_eq!(
        recs[recs.len() - 2].draft.action.as_str(),
        AuditAction::UNAUTHORIZED.as_str()
    );
}

#[test]
fn a_version_in_a_state_the_lifecycle_does_not_know_is_a_typed_error() {
    let w = World::new(bank_policy());
    let v = w.version("fraud", RiskTier::Low);
    let custom = mlops_governance::lifecycle::Lifecycle::from_toml(
        r#"
name = "two-step"
initial = "draft"
[[states]]
name = "draft"
[[states]]
name = "live"
[[transitions]]
from = "draft"
event = "ship"
to = "live"
"#,
    )
    .unwrap();
    // A host's policy that names a state the lifecycle lacks is refused when building.
    assert!(matches!(
        mlops_governance::Governance::builder(w.store_dyn(), std::sync::Arc::new(w.clock.clone()))
            .lifecycle(custom.clone())
            .policy(bank_policy()),
        Err(mlops_governance::PolicyError::UnknownState { .. })
    ));
    let other =
        mlops_governance::Governance::builder(w.store_dyn(), std::sync::Arc::new(w.clock.clone()))
            .lifecycle(custom)
            .actors(w.cast.all())
            .build();
    let head = w.gov.audit_log().checkpoint().unwrap();
    assert!(matches!(
        other.transition(
            &v,
            &EventName::from_static("ship"),
            &w.cast.eve.id,
            &PlanContext::default()
        ),
        Err(GovernanceError::Lifecycle(
            mlops_governance::LifecycleError::UnknownState { .. }
        ))
    ));
    assert_eq!(w.gov.audit_log().checkpoint().unwrap(), head);
}

#[test]
fn a_declarative_policy_is_checked_against_the_lifecycle_before_it_replaces_the_current_one() {
    let w = World::new(bank_policy());
    let bad = mlops_governance::policy::PolicySpec::new("bad")
        .tier(
            RiskTier::Low,
            mlops_governance::policy::TierRules::default().entering(
                state("limbo"),
                mlops_governance::policy::Guard::TwoPersonRule,
            ),
        )
        .validate()
        .unwrap();
    let head = w.gov.audit_log().checkpoint().unwrap();
    assert!(matches!(
        w.gov.change_to_policy(&w.cast.gina.id, bad, "typo"),
        Err(GovernanceError::Policy(
            mlops_governance::PolicyError::UnknownState { .. }
        ))
    ));
    assert_eq!(
        w.gov.audit_log().checkpoint().unwrap(),
        head,
        "nothing written"
    );
    let id = w
        .gov
        .change_to_policy(
            &w.cast.gina.id,
            mlops_governance::policy::Policy::permissive("open"),
            "pilot",
        )
        .unwrap();
    assert_eq!(w.gov.policy().identity(), id);
}
