//! Engines racing approvals, rejections and promotions on one store, and the invariants every
//! engine must agree on afterwards (used by the SQLite and PostgreSQL multi-engine tests).

use mlops_core::{ModelRef, RiskTier};
use mlops_governance::GovernanceError;
use mlops_governance::approval::{ApprovalId, RequestStatus};
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::lifecycle::names;

use super::Cast;

/// A second validator, who rejects.
pub fn vera() -> mlops_core::Actor {
    mlops_core::Actor::human("vera")
        .unwrap()
        .with_role(mlops_core::Role::model_validator())
}

/// `n` medium-tier versions of `model` in `pre_production`.
pub fn versions_in_pre_production(gov: &Governance, model: &str, n: usize) -> Vec<ModelRef> {
    let c = Cast::new();
    let ctx = PlanContext::default();
    (0..n)
        .map(|_| {
            let v = gov
                .register_version_for_test(model, &c.alice, RiskTier::Medium)
                .unwrap();
            gov.transition(&v, &names::SUBMIT, &c.eve.id, &ctx).unwrap();
            gov.transition(&v, &names::VALIDATE, &c.eve.id, &ctx)
                .unwrap();
            v
        })
        .collect()
}

/// Asks for the promotion; returns the request it waits for, if any.
pub fn ask(gov: &Governance, v: &ModelRef) -> Option<ApprovalId> {
    let c = Cast::new();
    match gov.transition(v, &names::PROMOTE, &c.eve.id, &PlanContext::default()) {
        Err(GovernanceError::Denied { approval, .. }) => approval,
        _ => None,
    }
}

/// One actor's turn in the race: open or find the request, approve or reject it, promote.
pub fn race_step(gov: &Governance, v: &ModelRef, approve: bool) {
    let c = Cast::new();
    if let Some(req) = ask(gov, v) {
        let _ = if approve {
            gov.approve(&req, &c.val.id, "validated")
        } else {
            gov.reject(&req, &vera().id, "not without a fairness review")
        };
    }
    let _ = gov.transition(v, &names::PROMOTE, &c.eve.id, &PlanContext::default());
}

/// The invariants every engine must agree on after the race.
pub fn check_one_truth(engines: &[&Governance], model: &str) {
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
