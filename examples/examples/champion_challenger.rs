//! Champion/challenger routing end to end: a table built from the registry's aliases, sticky
//! assignment, a ramp that never moves a user back, a sample-ratio check as evidence, shadow
//! comparison off the request path, and the kill switch.

use mlops_governance::lifecycle::names;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops_core::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Digest, ManualClock, ModelName, ModelRef, Role, VersionNumber};
use mlops_governance::Governance;
use mlops_governance::engine::PlanContext;
use mlops_registry::model::{DatasetRole, VersionCore};
use mlops_registry::routing::{
    AliasRoutes, ArmRole, Prediction, Ramp, Request, Router, SegmentRule, ShadowConfig,
    ShadowError, ShadowModel, ShadowRunner,
};
use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};

/// The host's models: a toy fraud score per version, deterministic in the input.
struct Models;

impl Models {
    fn score(version: VersionNumber, amount: f64) -> Prediction {
        let tilt = 0.02 * version.get() as f64;
        let score = (amount / 1_000.0 + tilt).min(1.0);
        Prediction::new(Some(u64::from(score > 0.5)), Some(score))
    }
}

impl ShadowModel<f64> for Models {
    fn predict(
        &self,
        version: VersionNumber,
        amount: &f64,
        _deadline: Instant,
    ) -> Result<Prediction, ShadowError> {
        Ok(Self::score(version, *amount))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A registry with four versions of `fraud`: champion v1, challenger v2.
    let store = Arc::new(InMemoryStore::new());
    let name: ModelName = "fraud".parse()?;
    let actor = Actor::human("ml-team@example.com")?.with_role(Role::ml_engineer());
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .ok_or("bad date")?;
    // `champion` moves only through governance (here with a policy that requires nothing).
    let gov = Governance::builder(store.clone(), Arc::new(ManualClock::new(t0)))
        .actor(actor.clone())
        .build();
    gov.register_model(&name, &actor, "card fraud scorer")?;
    for seed in 1..=4_u64 {
        let core = VersionCore::builder(actor.clone(), t0)
            .artifact(
                "model",
                format!("s3://models/fraud/{seed}"),
                Digest::of(&seed.to_be_bytes()),
                seed,
            )
            .dataset(
                "train",
                DatasetRole::Training,
                "s3://data/train",
                Digest::of(b"train"),
            )
            .build()?;
        store.create_version(NewVersion::new(name.clone(), core))?;
    }
    let v1 = ModelRef::new(name.clone(), VersionNumber::FIRST);
    for event in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
        gov.transition(&v1, &event, &actor.id, &PlanContext::default())?;
    }
    let mut agg = store.get_model(&name)?;
    let rev = agg.revision();
    agg.set_alias(
        AliasName::challenger(),
        VersionNumber::new(2)?,
        &actor.id,
        t0,
    )?;
    store.commit(&name, rev, agg, vec![])?;

    // 2. The route table from the aliases: the challenger ramps 1 → 5 → 10 → 25 → 50 → 100 %,
    //    v3 shadows 20 % of champion traffic, staff always see the challenger.
    let routes = AliasRoutes::load(store.as_ref(), &name)?;
    let challenger = routes.resolve(&AliasName::challenger())?;
    let mut builder = routes
        .builder()?
        .salt("fraud-2026-03".parse()?)
        .ramped_challenger(challenger.clone(), Ramp::standard(), 0)
        .shadow("fraud@v3".parse()?, 20.0)
        .segment(SegmentRule::new("staff", challenger.version()).when_equals("staff", "yes"));
    let router = Router::new(builder.build()?);
    println!("serving {} at revision {}", name, router.revision());

    // 3. Sticky assignment, explained.
    let users: Vec<String> = (0..20_000).map(|i| format!("user-{i:05}")).collect();
    for u in &users[..3] {
        let d = router.route(u.as_bytes());
        println!(
            "  {u}: v{} ({:?}, reason {:?}, bucket {}, p = {})",
            d.version.get(),
            d.role,
            d.reason,
            d.bucket
                .map_or_else(|| "none".to_owned(), |b| b.get().to_string()),
            d.probability
        );
    }
    let staff =
        router.route_request(&Request::new(b"user-00000").with_attributes(&[("staff", "yes")]));
    println!(
        "  user-00000 as staff: v{} (reason {:?})",
        staff.version.get(),
        staff.reason
    );

    // 4. Step the ramp; count users who ever go back to the champion (always 0).
    let on_challenger = |router: &Router| -> Vec<bool> {
        users
            .iter()
            .map(|u| router.route(u.as_bytes()).role == ArmRole::Challenger)
            .collect()
    };
    let mut before = on_challenger(&router);
    for _ in 1..Ramp::standard().len() {
        let share = builder.advance_ramp(challenger.version())?;
        let next = router.revision().get() + 1;
        builder = builder.revision(next.into());
        router.publish(builder.build()?)?;
        let after = on_challenger(&router);
        let back = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| **b && !**a)
            .count();
        let frac = after.iter().filter(|x| **x).count() as f64 / users.len() as f64;
        println!(
            "ramp to {share:>5.1} %: revision {}, {:.1} % of users on the challenger, {back} moved back",
            router.revision(),
            100.0 * frac
        );
        before = after;
        if share >= 25.0 {
            break;
        }
    }

    // 5. The live sample-ratio check of this revision, as governance evidence.
    if let Some(srm) = router.exposures().sample_ratio_check() {
        let ev = srm.to_evidence(t0);
        println!(
            "sample-ratio check: chi2 = {:.2}, p = {:.3} -> {:?} ({} >= {})",
            srm.chi_squared, srm.p_value, ev.outcome, ev.check, ev.threshold
        );
    }

    // 6. Shadows: the champion answers; v3 is called on worker threads and compared.
    let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let shadows = ShadowRunner::start(
        &router,
        Arc::new(Models),
        &ShadowConfig {
            window: TimeDelta::minutes(1),
            ..ShadowConfig::default()
        },
        clock.clone(),
    )?;
    for (i, u) in users.iter().enumerate().take(5_000) {
        let d = router.route(u.as_bytes());
        let amount = (i % 997) as f64;
        if d.is_champion() {
            let served = Models::score(d.version, amount);
            shadows.submit(&d, amount, served, Duration::from_micros(300));
        }
    }
    let recorder = shadows.recorder();
    let counters = shadows.shutdown(); // lets the queued work finish
    clock.advance(TimeDelta::minutes(1));
    recorder.flush();
    println!(
        "shadows: {} queued, {} dropped, {} compared",
        counters.queued, counters.dropped_full, counters.completed
    );
    for w in recorder.take_completed() {
        println!(
            "  v{} vs champion: class agreement {:.3}, mean |score diff| {:.3}, over {} requests",
            w.shadow.get(),
            w.class_agreement.unwrap_or(f64::NAN),
            w.mean_abs_score_diff.unwrap_or(f64::NAN),
            w.compared
        );
    }

    // 7. Kill switch: everyone back on the champion in one atomic step.
    let killed = router.kill();
    let d = router.route(users[0].as_bytes());
    println!(
        "kill switch at revision {killed}: user-00000 -> v{} ({:?})",
        d.version.get(),
        d.reason
    );
    Ok(())
}
