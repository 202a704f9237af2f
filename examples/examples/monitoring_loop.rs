//! Monitoring closes the loop: the champion drifts in production, the drift alarm is recorded
//! as evidence and opens a review of its rollback, a validator signs off, the rollback and the
//! previous champion's reinstatement go through gated transitions, the router follows the
//! `champion` alias, and the audit trail tells the story.

use mlops_governance::lifecycle::EventName;
use mlops_governance::lifecycle::names;
use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Clock, Direction, ManualClock, ModelName, Role, Subject};
use mlops_core::{Digest, ModelRef, RiskTier};
use mlops_drift::monitor::alert::{Alert, AlertEvent, AlertRule};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::stream::{DriftMonitor, FeatureValue, MonitorConfig, WindowSpec};
use mlops_drift::table::Table;
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{AlarmPolicy, AlarmResponse, PlanContext};
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_governance::{Governance, GovernanceError};
use mlops_registry::model::{DatasetRole, VersionCore};
use mlops_registry::routing::{AliasRoutes, Router};
use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 4, 1, 8, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let store = Arc::new(InMemoryStore::new());
    let eve = Actor::human("eve")?.with_role(Role::ml_engineer());
    let val = Actor::human("val")?.with_role(Role::model_validator());
    let monitor_id = Actor::service("drift-monitor")?.with_role(Role::ml_engineer());
    // Every move into or out of serving needs an independent validator at this tier.
    let validated = || Guard::approvals(1, [Role::model_validator()]);
    let policy = PolicySpec::new("loop")
        .tier(
            RiskTier::Medium,
            TierRules::default()
                .entering("pre_production".parse()?, validated())
                .entering("production".parse()?, validated()),
        )
        .validate()?;
    let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy(policy)?
        .actors([eve.clone(), val.clone(), monitor_id.clone()])
        .environment("prod")
        .alarm_policy(AlarmPolicy::default())
        .build();

    // 1. Two versions, each validated and promoted in turn: v2 is the champion, v1 retired.
    let name = ModelName::new("churn")?;
    gov.register_model(&name, &eve, "monthly churn propensity")?;
    let ctx = PlanContext::default();
    let promote = |v: &ModelRef, event: &EventName| -> Result<(), Box<dyn std::error::Error>> {
        match gov.transition(v, event, &eve.id, &ctx) {
            Ok(_) => Ok(()),
            Err(GovernanceError::Denied {
                approval: Some(req),
                ..
            }) => {
                gov.approve(&req, &val.id, "validated")?;
                gov.transition(v, event, &eve.id, &ctx)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    };
    let mut versions = Vec::new();
    for seed in 1..=2u64 {
        let core = VersionCore::builder(eve.clone(), clock.now())
            .artifact(
                "model",
                format!("s3://churn/{seed}"),
                Digest::of(&seed.to_be_bytes()),
                1,
            )
            .dataset(
                "customers",
                DatasetRole::Training,
                "s3://data",
                Digest::of(b"customers"),
            )
            .build()?;
        let v = store
            .create_version(NewVersion::new(name.clone(), core))?
            .version
            .model_ref();
        for event in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
            promote(&v, &event)?;
        }
        versions.push(v);
    }
    let (v1, v2) = (versions[0].clone(), versions[1].clone());
    let router = Router::new(
        AliasRoutes::load(store.as_ref(), &name)?
            .builder()?
            .build()?,
    );
    println!(
        "1. champion {v2} serves (router at {}), {v1} retired",
        router.revision()
    );

    // 2. Serving: a drift monitor on the champion's inputs; from window 2 on, ages shift.
    let ages: Vec<f64> = (0..4_000)
        .map(|_| 25.0 + 30.0 * rng.random::<f64>())
        .collect();
    let profile = DatasetProfile::fit(&Table::new().with_numeric("age", &ages)?);
    let monitor = DriftMonitor::new(
        profile,
        &["age"],
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::minutes(10),
            },
            ..MonitorConfig::default()
        },
        Arc::new(clock.clone()),
    )?;
    let rule =
        AlertRule::new("drift.dataset.share".parse()?, Direction::Below, 0.5, 0.25)?.fire_after(1);
    let mut alert = Alert::new(
        rule,
        Subject::Version {
            version: v2.clone(),
        },
    );
    for window in 0..4 {
        let shift = if window >= 2 { 15.0 } else { 0.0 };
        for _ in 0..1_000 {
            monitor.observe(&[FeatureValue::Number(
                25.0 + shift + 30.0 * rng.random::<f64>(),
            )])?;
        }
        clock.advance(TimeDelta::minutes(10));
        for w in monitor.poll()? {
            let (event, evidence) = alert.evaluate(w.report.drift_share, clock.now());
            println!(
                "2. window {window}: drift share {:.2}{}",
                w.report.drift_share,
                if matches!(event, Some(AlertEvent::Fired { .. })) {
                    " -> ALARM"
                } else {
                    ""
                }
            );
            // Every window's result reaches governance while the alarm fires (it flaps or
            // stays on): one review at a time.
            if alert.is_firing() {
                match gov.respond_to_alarm(&v2, evidence, &monitor_id.id)? {
                    AlarmResponse::ReviewOpened(id) => {
                        println!("   review {id} opened for the rollback")
                    }
                    AlarmResponse::ReviewAlreadyOpen(id) => println!("   review {id} already open"),
                    other => println!("   {other:?}"),
                }
            }
        }
    }

    // 3. The validator signs the rollback; the rollback and the reinstatement are gated.
    let review = gov
        .approvals()?
        .iter()
        .find(|r| r.version == v2 && r.event.as_str() == "rollback")
        .map(|r| r.id.clone())
        .ok_or("no review")?;
    gov.approve(&review, &val.id, "drift confirmed on the age feature")?;
    gov.transition(&v2, &names::ROLLBACK, &monitor_id.id, &ctx)?;
    promote(&v1, &names::REINSTATE)?;
    println!(
        "3. {v2} rolled back (review {review} signed by {}), {v1} reinstated",
        val.id
    );

    // 4. The router follows the alias: a new table from the registry, swapped without a pause.
    router.publish(
        AliasRoutes::load(store.as_ref(), &name)?
            .builder()?
            .build()?,
    )?;
    let d = router.route(b"user-42");
    println!(
        "4. router at {}: user-42 -> v{} (champion {:?})",
        router.revision(),
        d.version.get(),
        store
            .get_model(&name)?
            .alias(&AliasName::champion())
            .map(|v| v.get())
    );

    // 5. The audit trail tells the story.
    println!("5. the audit trail:");
    let log = gov.audit_log();
    for r in log.read_all()? {
        let action = r.draft.action.as_str();
        if action.starts_with("governance.alarm")
            || action.starts_with("governance.evidence")
            || action.contains("transition.applied")
            || action.starts_with("governance.approval.approved")
        {
            let states = match (&r.draft.state_before, &r.draft.state_after) {
                (Some(a), Some(b)) => format!(" {a} -> {b}"),
                _ => String::new(),
            };
            println!("   #{:<3} {action} by {}{states}", r.seq, r.draft.actor.id);
        }
    }
    println!("   chain verified up to record {}", log.verify()?.seq);
    gov.verify_consistency()?
        .map_err(|e| format!("inconsistent: {e}"))?;
    Ok(())
}
