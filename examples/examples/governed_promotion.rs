//! A governed promotion: a high-risk credit model moves from development to production under a
//! bank-style policy (sign-offs with separation of duties, validation evidence, documentation,
//! a week in pre-production), an incident forces a break-glass rollback, and an auditor verifies
//! the hash-chained log and lists who approved every production model.

use mlops_governance::lifecycle::names;
use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, Clock, Direction, Evidence, ManualClock, RiskTier, Role, Subject};
use mlops_governance::GovernanceError;
use mlops_governance::audit::{self, AuditLogExt};
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_registry::store::{InMemoryStore, ModelStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("governed promotion\n");
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let store = Arc::new(InMemoryStore::new());

    // The people, with the roles the directory vouches for.
    let alice = Actor::human("alice")?
        .with_role(Role::data_scientist())
        .with_role(Role::model_validator());
    let eve = Actor::human("eve")?.with_role(Role::ml_engineer());
    let val = Actor::human("val")?.with_role(Role::model_validator());
    let rita = Actor::human("rita")?.with_role(Role::risk_officer());
    let ivan = Actor::human("ivan")?.with_role(Role::incident_responder());

    // The policy for high-risk models.
    let pre = "pre_production".parse()?;
    let prod: mlops_governance::lifecycle::StateName = "production".parse()?;
    let high = TierRules::default()
        .entering(pre, Guard::approvals(1, [Role::model_validator()]))
        .entering(prod.clone(), Guard::approvals(1, [Role::risk_officer()]))
        .entering(
            prod.clone(),
            Guard::evidence("validation.auc".parse()?, "30d".parse()?),
        )
        .entering(
            prod.clone(),
            Guard::documentation(["intended_use", "limitations"]),
        )
        .entering(prod.clone(), Guard::min_time_in_state("7d".parse()?));
    let policy = PolicySpec::new("bank")
        .tier(RiskTier::High, high)
        .validate()?;
    println!(
        "policy `bank` identity {}",
        mlops_governance::policy::PolicyEngine::identity(&policy)
    );

    let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy(policy)?
        .actors([
            alice.clone(),
            eve.clone(),
            val.clone(),
            rita.clone(),
            ivan.clone(),
        ])
        .approval_ttl("3d".parse()?)
        .build();

    // A shortcut of mlops-governance's `testkit` feature: registered directly at tier high. A
    // host registers the model with `register_model` and classifies it with
    // `assign_risk_tier` (the quickstart example shows both).
    let v1 = gov.register_version_for_test("credit", &alice, RiskTier::High)?;
    println!("1. {v1} registered by alice, risk tier high, state development");

    let ctx = PlanContext::default();
    gov.transition(&v1, &names::SUBMIT, &eve.id, &ctx)?;
    println!("2. eve submits it for validation");

    let req = match gov.transition(&v1, &names::VALIDATE, &eve.id, &ctx) {
        Err(GovernanceError::Denied {
            verdict,
            approval: Some(req),
        }) => {
            println!("3. validate denied: {verdict}; approval request {req} opened");
            req
        }
        other => return Err(format!("expected a denial, got {other:?}").into()),
    };
    match gov.approve(&req, &alice.id, "looks fine to me") {
        Err(e) => println!("   alice (the author) tries to sign off: {e}"),
        Ok(_) => return Err("the author must not approve".into()),
    }
    gov.approve(&req, &val.id, "independent validation passed")?;
    gov.transition(&v1, &names::VALIDATE, &eve.id, &ctx)?;
    println!("   val signs off; {v1} enters pre_production");

    match gov.transition(&v1, &names::PROMOTE, &eve.id, &ctx) {
        Err(GovernanceError::Denied { verdict, .. }) => {
            println!("4. promote denied; every unmet guard at once:");
            for reason in verdict.reasons() {
                println!("   - {reason}");
            }
        }
        other => return Err(format!("expected a denial, got {other:?}").into()),
    }

    clock.advance(TimeDelta::days(7));
    let ready = PlanContext::default()
        .with_evidence(Evidence::new(
            "validation.auc".parse()?,
            Subject::Version {
                version: v1.clone(),
            },
            0.88,
            0.8,
            Direction::AtLeast,
            clock.now(),
        ))
        .with_card_field("intended_use", "retail credit limits")
        .with_card_field("limitations", "not for business lending");
    if let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = gov.transition(&v1, &names::PROMOTE, &eve.id, &ready)
    {
        gov.approve(&req, &rita.id, "risk accepted")?;
    }
    let done = gov.transition(&v1, &names::PROMOTE, &eve.id, &ready)?;
    println!(
        "5. a week later, with evidence, documentation and rita's sign-off: {} -> {}",
        done.from, done.to
    );

    let rolled = gov.break_glass(
        &v1,
        &names::ROLLBACK,
        &ivan.id,
        "INC-311: approval rate collapsed",
        &ctx,
    )?;
    println!(
        "6. ivan breaks glass: {} -> {} (override recorded; post-hoc review {} opened)",
        rolled.from,
        rolled.to,
        rolled
            .review
            .map_or_else(|| "none".to_owned(), |r| r.to_string())
    );

    let log = gov.audit_log();
    let head = log.verify()?;
    println!(
        "7. the audit chain verifies: {} records, head {}",
        head.seq, head.head
    );
    for e in audit::production_roster(&log, &[prod])? {
        let approvers: Vec<&str> = e.approved_by.iter().map(|a| a.as_str()).collect();
        println!(
            "   in production: {} at {} requested by {}, approved by {:?}{}",
            e.version,
            e.at,
            e.requested_by,
            approvers,
            if e.overridden { " (override)" } else { "" }
        );
    }
    println!(
        "   final state of {v1}: {}",
        store.get_version(&v1)?.state()
    );
    Ok(())
}
