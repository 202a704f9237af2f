//! The governance template as code: classify a use case, give responsibilities, compile
//! the governance matrix into guards, take a model to production under them, document it, and
//! report to the auditor with KPIs.

use mlops_governance::lifecycle::EventName;
use mlops_governance::lifecycle::names;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, Clock, Digest, Direction, Evidence, ManualClock, ModelName, ModelRef, Role, Subject,
};
use mlops_governance::card::{CardInputs, ModelCard};
use mlops_governance::classification::{
    Availability, Consumers, ErrorImpact, Explainability, Lifetime, QualityDecay, Questionnaire,
    Regulation, ReleaseCadence, Scoring, Severity, assign_risk_tier, default_tier_setters,
};
use mlops_governance::engine::PlanContext;
use mlops_governance::kpi::Kpis;
use mlops_governance::matrix::GovernanceMatrix;
use mlops_governance::raci::Raci;
use mlops_governance::report::{AuditReport, ReportScope, ReportingPeriod};
use mlops_governance::{Governance, GovernanceError};
use mlops_registry::model::{DatasetRole, ModelAggregate, RegisteredModel, StateName, VersionCore};
use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .ok_or("invalid start")?;
    let clock = ManualClock::new(start);
    let store = Arc::new(InMemoryStore::new());

    // Step 1: classify the use case.
    let credit = Questionnaire {
        regulations: Some(BTreeSet::from([
            Regulation::Sector,
            Regulation::PersonalData,
        ])),
        consumers: Some(Consumers::ExternalCustomers),
        availability: Some(Availability::ScheduledBatch),
        impact: Some(ErrorImpact {
            financial: Severity::Limited,
            ..ErrorImpact::none()
        }),
        release_cadence: Some(ReleaseCadence::Monthly),
        model_lifetime: Some(Lifetime::Months),
        decision_lifetime: Some(Lifetime::Months),
        quality_decay: Some(QualityDecay::Slow),
        explainability: Some(Explainability::Helpful),
    };
    let classification = Scoring::default().classify(&credit.complete()?);
    println!(
        "1. the credit-limit use case is tier `{}`:",
        classification.tier
    );
    for reason in classification.explain() {
        println!("   - {reason}");
    }

    // Step 2: responsibilities. Steps 3–4: the matrix compiled into a policy.
    let raci = Raci::default_raci();
    println!("\n2. responsibilities (RACI):\n{}", raci.to_markdown());
    let matrix = GovernanceMatrix::default_matrix();
    let policy = matrix.compile("bank", &raci)?;
    println!("3. what tier `{}` faces:", classification.tier);
    for g in matrix.guards(classification.tier, &raci)? {
        println!(
            "   - entering `{}`: {} ({})",
            g.state, g.measure, g.consideration
        );
    }

    let h = |id: &str, role: Role| Actor::human(id).map(|a| a.with_role(role));
    let alice = h("alice", Role::data_scientist())?;
    let eve = h("eve", Role::ml_engineer())?;
    let val = h("val", Role::model_validator())?;
    let rita = h("rita", Role::risk_officer())?;
    let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy(policy)?
        .actors([alice.clone(), eve.clone(), val.clone(), rita.clone()])
        .build();

    // Register the model and store its tier as a governed action.
    let name = ModelName::new("credit-limit")?;
    store.create_model(
        ModelAggregate::new(RegisteredModel::new(name.clone(), alice.id.clone(), start)),
        Vec::new(),
    )?;
    assign_risk_tier(
        &gov,
        &name,
        &classification,
        &rita.id,
        &default_tier_setters(),
        "",
    )?;
    let core = VersionCore::builder(alice.clone(), start)
        .artifact(
            "model",
            "s3://models/credit/1",
            Digest::of(b"weights"),
            1024,
        )
        .dataset(
            "applications-2026q1",
            DatasetRole::Training,
            "s3://data/q1",
            Digest::of(b"q1"),
        )
        .code(
            "git@example.com:credit.git",
            "4f2a9c1",
            Some("train.py".into()),
        )
        .param("max_depth", "6")
        .metric("auc", 0.87)
        .build()?;
    let v: ModelRef = store
        .create_version(NewVersion::new(name, core).with_initial_state(StateName::development()))?
        .version
        .model_ref();

    // Take it to production: each move asks for what the matrix requires.
    let evidence = |checks: &[&str]| {
        checks.iter().try_fold(PlanContext::default(), |ctx, c| {
            Ok::<_, Box<dyn std::error::Error>>(ctx.with_evidence(Evidence::new(
                c.parse()?,
                Subject::Version { version: v.clone() },
                0.9,
                0.5,
                Direction::AtLeast,
                clock.now(),
            )))
        })
    };
    let card_inputs = CardInputs::default()
        .intended_use("monthly credit-limit reviews for existing customers")
        .limitations("not validated for business customers")
        .field("explainability", "reason codes per decision")
        .field("lineage.columns", "income <- payroll.net_monthly");
    let step = |event: &EventName, ctx: &PlanContext| -> Result<(), Box<dyn std::error::Error>> {
        match gov.transition(&v, event, &eve.id, ctx) {
            Ok(t) => println!("   {event}: now in `{}`", t.to),
            Err(GovernanceError::Denied {
                verdict,
                approval: Some(req),
            }) => {
                println!(
                    "   {event}: waits for sign-offs ({})",
                    verdict.reasons().join("; ")
                );
                clock.advance(TimeDelta::hours(3));
                gov.approve(&req, &val.id, "validated")?;
                clock.advance(TimeDelta::hours(2));
                gov.approve(&req, &rita.id, "risk accepted")?;
                let t = gov.transition(&v, event, &eve.id, ctx)?;
                println!("   {event}: signed by val and rita, now in `{}`", t.to);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    };
    println!("\n4. to production:");
    step(&names::SUBMIT, &PlanContext::default())?;
    step(
        &names::VALIDATE,
        &evidence(&[
            "validation.auc",
            "fairness.parity_gap",
            "data_quality.checks",
        ])?,
    )?;
    clock.advance(TimeDelta::days(7));
    let card = ModelCard::build(store.as_ref(), &gov.audit_log(), &v, &card_inputs)?;
    step(
        &names::PROMOTE,
        &card.into_context(evidence(&["drift.monitoring"])?),
    )?;

    // Documentation, the auditor's report and KPIs.
    let card = ModelCard::build(store.as_ref(), &gov.audit_log(), &v, &card_inputs)?;
    println!("\n5. the model card:\n\n{}", card.to_markdown());
    let march = ReportingPeriod::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .ok_or("invalid start")?,
        clock.now() + TimeDelta::days(1),
    )?;
    let scope = ReportScope::default();
    let report = AuditReport::build(&gov.audit_log(), march, &scope)?;
    println!("6. the auditor's report:\n\n{}", report.to_markdown());
    let drift = vec![Evidence::new(
        "drift.psi".parse()?,
        Subject::Version { version: v.clone() },
        0.04,
        0.2,
        Direction::Below,
        clock.now(),
    )];
    let kpis = Kpis::compute(
        store.as_ref(),
        &gov.audit_log(),
        march,
        &scope,
        &drift,
        &BTreeMap::from([(v.clone(), card_inputs)]),
    )?;
    println!("7. governance KPIs:\n{}", kpis.to_json()?);
    Ok(())
}
