//! A champion/challenger contest run to its end, automatically: a ranking model's challenger
//! serves half the traffic, conversions and latency are fed back per arm, the always-valid
//! statistics are looked at every simulated hour, and the promotion is requested from governance
//! with the evidence attached (the policy requires it). A second challenger that adds latency is
//! rolled back by the kill switch, audited. Finally a Thompson-sampling bandit shifts traffic
//! among three arms.
#![allow(clippy::print_stdout)]

use mlops_governance::lifecycle::names;
use std::sync::Arc;

use mlops_core::chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{
    Actor, Clock, Digest, ManualClock, ModelName, ModelRef, RiskTier, Role, VersionNumber,
};
use mlops_governance::contest::{
    Bandit, BanditConfig, Better, ChallengerOutcome, Contest, ContestConfig, MetricSpec, Promotion,
    Reward, request_promotion,
};
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::lifecycle::StateName;
use mlops_governance::policy::{Guard, Policy, PolicySpec, TierRules};
use mlops_registry::model::VersionCore;
use mlops_registry::routing::{RouteTable, Router};
use mlops_registry::store::{InMemoryStore, NewVersion};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = Arc::new(ManualClock::new(DateTime::<Utc>::UNIX_EPOCH));
    let store = Arc::new(InMemoryStore::new());
    let alice = Actor::human("alice")?.with_role(Role::data_scientist());
    let bot = Actor::service("contest-bot")?.with_role(Role::ml_engineer());
    let admin = Actor::human("root")?.with_role(Role::governance_admin());
    let gov = Governance::builder(store, clock.clone())
        .policy(Policy::permissive("setup"))?
        .actors([alice.clone(), bot.clone(), admin.clone()])
        .build();
    // The model is registered through governance (at the default tier, medium); its versions
    // through the store.
    let ranker: ModelName = "ranker".parse()?;
    gov.register_model(&ranker, &alice, "feed ranking")?;
    let mut versions = Vec::new();
    for seed in 1..=3_u8 {
        let core = VersionCore::builder(alice.clone(), clock.now())
            .artifact(
                "model.bin",
                format!("mem://ranker/{seed}/model.bin"),
                Digest::of(&[seed]),
                1,
            )
            .build()?;
        let created = gov
            .store()
            .create_version(NewVersion::new(ranker.clone(), core))?;
        versions.push(created.version.model_ref());
    }
    let [v1, v2, v3] = <[ModelRef; 3]>::try_from(versions).map_err(|_| "three versions")?;
    for e in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
        gov.transition(&v1, &e, &bot.id, &PlanContext::default())?;
    }
    for v in [&v2, &v3] {
        for e in [names::SUBMIT, names::VALIDATE] {
            gov.transition(v, &e, &bot.id, &PlanContext::default())?;
        }
    }
    // From now on, entering production needs a contest's promotion evidence.
    let rules = TierRules::default().entering(
        StateName::new("production")?,
        Guard::Evidence {
            check: "contest.promote".parse()?,
            max_age: "1d".parse()?,
            threshold: None,
        },
    );
    let policy = Policy::new(PolicySpec::new("contest-gated").tier(RiskTier::Medium, rules))?;
    gov.change_policy(
        &admin.id,
        Arc::new(policy),
        "promotion needs contest evidence",
    )?;
    println!(
        "v1 in production; v2 and v3 in pre-production; production requires `contest.promote`"
    );

    let router = Router::new(
        RouteTable::builder(v1.clone())
            .challenger(v2.clone(), 30.0)
            .challenger(v3.clone(), 30.0)
            .build()?,
    );
    let config = ContestConfig::builder(MetricSpec::proportion("conversion", Better::Higher))
        .guardrail(MetricSpec::mean("latency_ms", Better::Lower, 5.0), 10.0)
        .min_samples(2_000)
        .min_duration(TimeDelta::days(2))
        .build()?;
    let mut contest = Contest::new(config, &router.table(), clock.clone())?;
    // Truth: v2 converts 12 % against the champion's 10 %; v3 converts the same but adds 40 ms.
    let truth = |v: VersionNumber| match v.get() {
        2 => (0.12, 120.0),
        3 => (0.10, 160.0),
        _ => (0.10, 120.0),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut unit = 0_u64;
    let audit = gov.audit_log();
    'hours: for hour in 1..=24 * 14 {
        for _ in 0..400 {
            unit += 1;
            let d = router.route(format!("user-{unit}").as_bytes());
            let (p, latency) = truth(d.version);
            let converted = f64::from(u8::from(rng.random::<f64>() < p));
            // Decisions of an older revision (after a rollback) are refused and skipped.
            if contest.record_decision(&d, 0, converted).is_ok() {
                contest.record_decision(&d, 1, normal(&mut rng, latency, 40.0))?;
            }
        }
        clock.advance(TimeDelta::hours(1));
        if let Some(srm) = contest.check_table(&router.table())?
            && !srm.passed()
        {
            println!("hour {hour}: sample ratio mismatch, contest invalid");
            break;
        }
        let report = contest.look();
        for ch in &report.challengers {
            match ch.outcome {
                ChallengerOutcome::RollBackNow { .. }
                    if !contest.is_removed(ch.version.version()) =>
                {
                    let g = &ch.metrics[1];
                    println!(
                        "hour {hour}: {} adds {:.1} ms latency (≥ {:.1} with confidence, tolerance 10): rolling back",
                        ch.version, -g.improvement, -g.improvement_high
                    );
                    let revision =
                        contest.roll_back(ch.version.version(), &router, &audit, &bot)?;
                    let how = if router.table().is_killed() {
                        "kill switch on"
                    } else {
                        "challenger removed from the route table"
                    };
                    println!("  {how} at {revision}, audited; the contest goes on for the others");
                }
                ChallengerOutcome::Promote => {
                    let p = &ch.metrics[0];
                    println!(
                        "hour {hour}: {} converts {:.2} % vs {:.2} %, improvement ≥ {:.2} points (always-valid p = {:.1e}, n = {} / {})",
                        ch.version,
                        100.0 * p.mean_challenger,
                        100.0 * p.mean_champion,
                        100.0 * p.improvement_low,
                        p.p_value,
                        p.n_challenger,
                        p.n_champion
                    );
                    match request_promotion(
                        &gov,
                        ch,
                        &names::PROMOTE,
                        &bot.id,
                        PlanContext::default(),
                    )? {
                        Promotion::Applied(t) => println!(
                            "  governance moved {} {} -> {} (v{} evicted to {})",
                            t.version,
                            t.from,
                            t.to,
                            t.evicted.as_ref().map_or(0, |e| e.0.get()),
                            t.evicted.as_ref().map_or("-", |e| e.1.as_str())
                        ),
                        Promotion::AwaitingSignoffs { approval, .. } => {
                            println!("  waiting for sign-offs on {approval:?}");
                        }
                    }
                    break 'hours;
                }
                _ => {}
            }
        }
    }

    println!("\nThompson sampling over three arms converting 5 %, 8 % and 12 %:");
    let router = Router::new(
        RouteTable::builder("ads@v1".parse()?)
            .challenger("ads@v2".parse()?, 33.3)
            .challenger("ads@v3".parse()?, 33.3)
            .build()?,
    );
    let mut bandit = Bandit::new(
        BanditConfig {
            seed: 7,
            ..BanditConfig::thompson(Reward::Bernoulli)
        },
        &router.table(),
    )?;
    let mut now = DateTime::<Utc>::UNIX_EPOCH;
    for round in 1..=30 {
        for _ in 0..1_000 {
            unit += 1;
            let d = router.route(&unit.to_le_bytes());
            let p = [0.05, 0.08, 0.12][usize::from(d.arm).min(2)];
            bandit.record_decision(&d, f64::from(u8::from(rng.random::<f64>() < p)))?;
        }
        now += TimeDelta::minutes(1);
        if let Some(rev) = bandit.step(&router, now)?
            && matches!(round, 1 | 2 | 3 | 5 | 10 | 20 | 30)
        {
            let w: Vec<String> = bandit
                .weights()
                .iter()
                .map(|w| format!("{:.1} %", 100.0 * w))
                .collect();
            println!("  round {round:>2}: {rev} weights {}", w.join(", "));
        }
    }
    Ok(())
}
