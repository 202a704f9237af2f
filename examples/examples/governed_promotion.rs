//! A governed promotion, step by step: a policy per risk tier, denials that list every unmet
//! requirement, approval requests (signed, rejected, re-opened), separation of duties, a
//! break-glass rollback with its post-hoc review, and the auditor's view of it all.

use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, Clock, Digest, Direction, Evidence, ManualClock, ModelName, RiskTier, Role, Subject,
};
use mlops_governance::audit::{self, AuditLogExt};
use mlops_governance::engine::PlanContext;
use mlops_governance::lifecycle::StateName;
use mlops_governance::policy::{Guard, GuardStatus, PolicyEngine, PolicySpec, TierRules};
use mlops_governance::{Governance, GovernanceError};
use mlops_registry::Registry;
use mlops_registry::model::{DatasetRole, VersionCore};
use mlops_registry::store::InMemoryStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("governed promotion\n");
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let alice = Actor::human("alice")?.with_role(Role::data_scientist());
    let eve = Actor::human("eve")?.with_role(Role::ml_engineer());
    let val = Actor::human("val")?.with_role(Role::model_validator());
    let rita = Actor::human("rita")?.with_role(Role::risk_officer());
    let ivan = Actor::human("ivan")?.with_role(Role::incident_responder());

    // 1. The policy: what entering each state needs, per risk tier. It is data (JSON or TOML),
    //    and every decision names it by its content hash.
    let state = |s: &str| s.parse::<StateName>();
    let high = TierRules::default()
        .entering(
            state("pre_production")?,
            Guard::approvals(1, [Role::model_validator()]),
        )
        .entering(
            state("production")?,
            Guard::approvals(1, [Role::risk_officer()]),
        )
        .entering(
            state("production")?,
            Guard::evidence("validation.auc".parse()?, "30d".parse()?),
        )
        .entering(
            state("production")?,
            Guard::documentation(["intended_use", "limitations"]),
        )
        .entering(
            state("production")?,
            Guard::min_time_in_state("7d".parse()?),
        );
    let policy = PolicySpec::new("bank")
        .tier(RiskTier::High, high.clone())
        .tier(RiskTier::Critical, high)
        .validate()?;
    println!(
        "1. policy `bank` ({} bytes of TOML), identity {}",
        policy.to_toml()?.len(),
        policy.identity()
    );

    let store = Arc::new(InMemoryStore::new());
    let registry = Registry::new(store.clone(), Arc::new(clock.clone()))?;
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

    // 2. A high-risk model and its first version, authored by Alice.
    let name = ModelName::new("fraud")?;
    registry.register_model(&name, &alice, "card fraud score")?;
    registry.update(&name, |agg| {
        agg.model_mut().risk_tier = RiskTier::High;
        Ok(((), Vec::new()))
    })?;
    let core = VersionCore::builder(alice.clone(), clock.now())
        .artifact(
            "model",
            "s3://models/fraud/1",
            Digest::of(b"fraud v1"),
            1 << 20,
        )
        .dataset(
            "tx-2025",
            DatasetRole::Training,
            "s3://data/tx-2025",
            Digest::of(b"tx"),
        )
        .metric("auc", 0.92)
        .build()?;
    let v1 = registry.add_version(&name, core, None)?.version.model_ref();
    println!("2. {v1} registered by alice, risk tier high, state development");

    // 3. Validation needs a validator's sign-off: the denial opens a request.
    let none = PlanContext::in_environment("prod");
    gov.transition(&v1, "submit", &eve.id, &none)?;
    let Err(GovernanceError::Denied {
        approval: Some(req),
        verdict,
    }) = gov.transition(&v1, "validate", &eve.id, &none)
    else {
        return Err("validation should await a sign-off".into());
    };
    println!(
        "3. validate: denied ({}); request {req} opened",
        verdict.reasons().join("; ")
    );
    match gov.approve(req, &rita.id, "fine by me") {
        Err(e) => println!("   rita (risk officer, not a validator) approves: refused: {e}"),
        Ok(_) => return Err("a risk officer signed a validator's guard".into()),
    }
    gov.approve(req, &val.id, "backtest and stability verified")?;
    let t = gov.transition(&v1, "validate", &eve.id, &none)?;
    println!("   val signs; validate: {} -> {}", t.from, t.to);

    // 4. Production: every unmet guard is listed at once.
    let Err(GovernanceError::Denied { verdict, .. }) =
        gov.transition(&v1, "promote", &eve.id, &none)
    else {
        return Err("promotion should be denied".into());
    };
    println!("4. promote right away: denied");
    for o in verdict.unmet() {
        if let GuardStatus::Unmet { reason } = &o.status {
            println!("   - {:?}: {reason}", o.kind);
        }
    }

    // A week later, with evidence and the model card's fields, only the sign-off is missing.
    clock.advance(TimeDelta::days(7));
    let ctx = PlanContext::in_environment("prod")
        .with_evidence(Evidence::new(
            "validation.auc".parse()?,
            Subject::Version {
                version: v1.clone(),
            },
            0.92,
            0.85,
            Direction::AtLeast,
            clock.now(),
        ))
        .with_card_field("intended_use", "card-not-present fraud screening")
        .with_card_field("limitations", "EU cardholders only");
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = gov.transition(&v1, "promote", &eve.id, &ctx)
    else {
        return Err("promotion should await a sign-off".into());
    };
    gov.reject(
        req,
        &rita.id,
        "limitations must name the merchant categories",
    )?;
    println!("   7 days later: request {req} opened; rita REJECTS it (comment is mandatory)");
    let ctx = ctx.with_card_field(
        "limitations",
        "EU cardholders only; not for gambling or crypto merchants",
    );
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = gov.transition(&v1, "promote", &eve.id, &ctx)
    else {
        return Err("promotion should await a new sign-off".into());
    };
    clock.advance(TimeDelta::hours(5));
    gov.approve(req, &rita.id, "risk accepted")?;
    let t = gov.transition(&v1, "promote", &eve.id, &ctx)?;
    println!(
        "   limitations fixed; new request {req} signed by rita; promote: {} -> {}",
        t.from, t.to
    );

    // 5. An incident: the on-call responder rolls back at once, without waiting for sign-offs.
    clock.advance(TimeDelta::days(2));
    match gov.break_glass(&v1, "rollback", &ivan.id, "  ", &none) {
        Err(e) => println!("5. break glass without a justification: refused ({e})"),
        Ok(_) => return Err("an override without justification".into()),
    }
    let t = gov.break_glass(
        &v1,
        "rollback",
        &ivan.id,
        "false positives tripled after the 04:00 feature pipeline release",
        &none,
    )?;
    let review = t.review.ok_or("no review opened")?;
    println!(
        "   break glass by ivan: {} -> {} ({:?}); post-hoc review {review} opened",
        t.from, t.to, t.applied
    );
    gov.approve(review, &val.id, "rollback was warranted")?;
    println!("   val closes the review");

    // 6. The auditor: the chain verifies; the roster says who put what into production.
    let log = gov.audit_log();
    let checkpoint = log.verify()?;
    println!(
        "6. audit chain verifies: {} records (checkpoint {})",
        checkpoint.seq, checkpoint.head
    );
    for e in audit::production_roster(&log, &[state("production")?])? {
        println!(
            "   {} entered production at {} requested by {}, approved by {}",
            e.version,
            e.at,
            e.requested_by,
            e.approved_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for r in audit::history(&log, &v1)? {
        println!(
            "   #{:<2} {} {:<34} {}",
            r.seq,
            r.draft.at.format("%m-%d %H:%M"),
            r.draft.action.as_str(),
            r.draft.actor.id
        );
    }
    Ok(())
}
