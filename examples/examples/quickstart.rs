//! The mlops quickstart: the whole story of one model in a few seconds, with in-memory storage,
//! a manual clock and seeded data.
//!
//! 1. register a model and two versions (artifact digests, lineage) and fit a drift profile;
//! 2. govern version 1 into production: denied with every unmet requirement, sign-offs (the
//!    author's own is refused), promoted;
//! 3. route traffic between the champion and version 2 as challenger, sticky per user;
//! 4. stream shifted data into a drift monitor and explain which features drifted;
//! 5. run a contest until it decides, and act on it through governance;
//! 6. verify the audit chain, tamper with a copy, and see the bad record named;
//! 7. print the champion's model card and its history.
//!
//! Run it with `cargo run --example quickstart`.

use mlops_governance::lifecycle::names;
use std::collections::BTreeSet;
use std::sync::Arc;

use mlops_core::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, AliasName, Clock, Digest, Direction, Evidence, ManualClock, ModelName, ModelRef,
    Outcome, RiskTier, Role, Subject,
};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::stream::{DriftMonitor, FeatureValue, MonitorConfig, WindowSpec};
use mlops_drift::table::Table;
use mlops_governance::audit::{self, AuditLogExt, MemoryAuditLog};
use mlops_governance::card::{CardInputs, ModelCard};
use mlops_governance::classification::{
    Availability, Consumers, ErrorImpact, Explainability, Lifetime, QualityDecay, Questionnaire,
    Regulation, ReleaseCadence, Scoring, Severity, assign_risk_tier, default_tier_setters,
};
use mlops_governance::contest::{
    Better, ChallengerOutcome, Contest, ContestConfig, MetricSpec, Promotion, request_promotion,
};
use mlops_governance::engine::PlanContext;
use mlops_governance::lifecycle::StateName;
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_governance::{AuditError, Governance, GovernanceError};
use mlops_registry::Registry;
use mlops_registry::audit::AuditAction;
use mlops_registry::model::{DatasetRole, VersionCore};
use mlops_registry::routing::{AliasRoutes, Router};
use mlops_registry::store::{InMemoryStore, ModelStore};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHANNELS: [&str; 3] = ["web", "branch", "phone"];

/// Seeded applicant rows: income (thousands), age, channel. `shift` moves income and age up and
/// sends some applicants through a channel the model never saw.
fn applicants(rng: &mut ChaCha8Rng, n: usize, shift: f64) -> (Vec<f64>, Vec<f64>, Vec<&str>) {
    let mut income = Vec::with_capacity(n);
    let mut age = Vec::with_capacity(n);
    let mut channel = Vec::with_capacity(n);
    for i in 0..n {
        // A sum of uniforms: roughly normal, with no extra dependency.
        let z: f64 = (0..6).map(|_| rng.random::<f64>()).sum::<f64>() - 3.0;
        income.push(55.0 + 15.0 * shift + 18.0 * z);
        age.push(30.0 + 4.0 * shift + 25.0 * rng.random::<f64>());
        let unseen = shift > 0.0 && i % 8 == 0;
        channel.push(if unseen {
            "partner-app"
        } else {
            CHANNELS[i % 3]
        });
    }
    (income, age, channel)
}

/// Evidence and documentation the production policy asks for, as the host supplies them.
fn release_context(
    version: &ModelRef,
    auc: f64,
    now: DateTime<Utc>,
) -> Result<PlanContext, mlops_core::IdError> {
    Ok(PlanContext::default()
        .with_evidence(Evidence::new(
            "validation.auc".parse()?,
            Subject::Version {
                version: version.clone(),
            },
            auc,
            0.75,
            Direction::AtLeast,
            now,
        ))
        .with_card_field(
            "intended_use",
            "pre-screening of consumer loan applications",
        )
        .with_card_field(
            "limitations",
            "not validated for business loans or applicants under 21",
        ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("mlops quickstart: one credit model from training to audit\n");
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(2026);

    // The people. Alice builds the model (and validates other teams' models: separation of
    // duties must still stop her approving her own); Eve deploys; Val validates; Rita owns risk.
    let alice = Actor::human("alice@bank.example")?
        .with_role(Role::data_scientist())
        .with_role(Role::model_validator());
    let eve = Actor::human("eve@bank.example")?.with_role(Role::ml_engineer());
    let val = Actor::human("val@bank.example")?.with_role(Role::model_validator());
    let rita = Actor::human("rita@bank.example")?.with_role(Role::risk_officer());

    // ------------------------------------------------------------------------------------------
    println!("== 1. Register the model, two versions and a drift reference profile");
    let store = Arc::new(InMemoryStore::new());
    let registry = Registry::new(store.clone(), Arc::new(clock.clone()))?;
    // The policy for high-risk models: production needs a validator's and a risk officer's
    // sign-off, a recent AUC of at least 0.75, and documentation.
    let production: StateName = "production".parse()?;
    let policy = PolicySpec::new("bank-credit")
        .tier(
            RiskTier::High,
            TierRules::default()
                .entering(
                    production.clone(),
                    Guard::approvals(1, [Role::model_validator()]),
                )
                .entering(
                    production.clone(),
                    Guard::approvals(1, [Role::risk_officer()]),
                )
                .entering(
                    production.clone(),
                    Guard::evidence("validation.auc".parse()?, "30d".parse()?),
                )
                .entering(
                    production,
                    Guard::documentation(["intended_use", "limitations"]),
                ),
        )
        .validate()?;
    let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy(policy)?
        .actors([alice.clone(), eve.clone(), val.clone(), rita.clone()])
        .build();

    // Governance registers the model (its protected states and the `champion` alias are
    // guarded from creation) and Rita classifies it: the tier is set only through this audited
    // path, never by editing the model.
    let name = ModelName::new("credit-risk")?;
    gov.register_model(&name, &alice, "probability of default for consumer loans")?;
    let use_case = Questionnaire {
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
    let classification = Scoring::default().classify(&use_case.complete()?);
    assign_risk_tier(
        &gov,
        &name,
        &classification,
        &rita.id,
        &default_tier_setters(),
        "",
    )?;
    println!(
        "   {name} classified `{}` by {}",
        classification.tier, rita.id
    );

    // Training data, and the reference profile fitted once on it (stored next to the model).
    let (income, age, channel) = applicants(&mut rng, 5_000, 0.0);
    let profile = DatasetProfile::fit(
        &Table::new()
            .with_numeric("income", &income)?
            .with_numeric("age", &age)?
            .with_categorical("channel", &channel)?,
    );
    let profile_json = profile.to_json()?;
    let profile_digest = Digest::of(profile_json.as_bytes());
    let train_digest = Digest::of(b"applications-2025.parquet");
    println!(
        "   reference profile of {} columns fitted on {} rows ({} bytes of JSON, sha256 {}…)",
        profile.columns().len(),
        income.len(),
        profile_json.len(),
        profile_digest.to_string().get(..12).unwrap_or_default()
    );

    let mut versions = Vec::new();
    for (n, auc) in [(1_u64, 0.81), (2, 0.83)] {
        clock.advance(TimeDelta::days(1));
        let mut core = VersionCore::builder(alice.clone(), clock.now())
            .artifact(
                "model",
                format!("s3://models/credit-risk/{n}/model.onnx"),
                Digest::of(format!("credit-risk weights {n}").as_bytes()),
                4_200_000,
            )
            .dataset(
                "applications-2025",
                DatasetRole::Training,
                "s3://data/applications-2025.parquet",
                train_digest,
            )
            .param("max_depth", if n == 1 { "6" } else { "8" })
            .metric("auc", auc)
            .run_id(format!("train-run-{n}"))
            .drift_profile("s3://models/credit-risk/profile.json", profile_digest);
        if let Some(parent) = versions.last() {
            core = core.parent(ModelRef::clone(parent));
        }
        let created = registry.add_version(&name, core.build()?, None)?;
        let v = created.version;
        println!(
            "   {} by {}: artifact sha256 {}…, trained on applications-2025, auc {auc}{}",
            v.model_ref(),
            v.core().created_by().id,
            v.core()
                .artifacts()
                .first()
                .map(|a| a.digest.to_string())
                .unwrap_or_default()
                .get(..12)
                .unwrap_or_default(),
            v.core()
                .lineage()
                .parent
                .as_ref()
                .map_or_else(String::new, |p| format!(", parent {p}")),
        );
        versions.push(v.model_ref());
    }
    let (v1, v2) = (versions[0].clone(), versions[1].clone());
    let lineage: Vec<String> = registry
        .lineage(&v2)?
        .iter()
        .map(|v| v.model_ref().to_string())
        .collect();
    println!("   lineage of {v2}: {}", lineage.join(" <- "));

    // ------------------------------------------------------------------------------------------
    println!("\n== 2. Govern version 1 into production");
    let nothing = PlanContext::default();
    for event in [names::SUBMIT, names::VALIDATE] {
        let t = gov.transition(&v1, &event, &eve.id, &nothing)?;
        println!("   {event}: {v1} {} -> {}", t.from, t.to);
    }
    match gov.transition(&v1, &names::PROMOTE, &eve.id, &nothing) {
        Err(GovernanceError::Denied { verdict, .. }) => {
            println!("   promote without anything: DENIED, unmet:");
            for reason in verdict.reasons() {
                println!("     - {reason}");
            }
        }
        other => return Err(format!("expected a denial, got {other:?}").into()),
    }
    let ctx = release_context(&v1, 0.81, clock.now())?;
    let request = match gov.transition(&v1, &names::PROMOTE, &eve.id, &ctx) {
        Err(GovernanceError::Denied {
            verdict,
            approval: Some(request),
        }) => {
            println!(
                "   with evidence and documentation: still denied ({}); approval request {request} opened",
                verdict.reasons().join("; ")
            );
            request
        }
        other => return Err(format!("expected a pending approval, got {other:?}").into()),
    };
    match gov.approve(&request, &alice.id, "looks good to me") {
        Err(e) => println!(
            "   {} tries to approve her own model: REFUSED ({e})",
            alice.id
        ),
        Ok(_) => return Err("the author approved her own model".into()),
    }
    clock.advance(TimeDelta::hours(3));
    gov.approve(&request, &val.id, "AUC, calibration and stability verified")?;
    println!("   {} approves (validator)", val.id);
    clock.advance(TimeDelta::hours(2));
    gov.approve(&request, &rita.id, "risk accepted for consumer loans")?;
    println!("   {} approves (risk officer)", rita.id);
    let t = gov.transition(&v1, &names::PROMOTE, &eve.id, &ctx)?;
    println!(
        "   promote: {v1} {} -> {}; champion alias now v{}",
        t.from,
        t.to,
        registry
            .resolve(&name, &AliasName::champion())?
            .number()
            .get()
    );

    // ------------------------------------------------------------------------------------------
    println!("\n== 3. Route traffic: champion v1, challenger v2 at 50 %");
    for event in [names::SUBMIT, names::VALIDATE] {
        gov.transition(&v2, &event, &eve.id, &nothing)?;
    }
    registry.set_alias(&name, &AliasName::challenger(), v2.version(), &eve)?;
    let routes = AliasRoutes::load(store.as_ref(), &name)?;
    let router = Router::new(
        routes
            .builder_with(&[(AliasName::challenger(), 50.0)])?
            .salt("credit-2026-03".parse()?)
            .build()?,
    );
    for unit in [
        "applicant-1001",
        "applicant-1002",
        "applicant-1003",
        "applicant-1004",
    ] {
        let d = router.route(unit.as_bytes());
        let again: Vec<u64> = (0..1_000)
            .map(|_| router.route(unit.as_bytes()).version.get())
            .collect();
        let sticky = again.iter().all(|v| *v == d.version.get());
        println!(
            "   {unit} -> v{} ({:?}); same model on 1000 more requests: {sticky}",
            d.version.get(),
            d.role
        );
    }

    // ------------------------------------------------------------------------------------------
    println!("\n== 4. Monitor drift: a week of normal traffic, then a shifted week");
    let monitor = DriftMonitor::new(
        profile,
        &["income", "age", "channel"],
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::days(7),
            },
            ..MonitorConfig::default()
        },
        Arc::new(clock.clone()),
    )?;
    for (week, shift) in [(1, 0.0), (2, 1.0)] {
        let (income, age, channel) = applicants(&mut rng, 3_000, shift);
        for ((x, a), c) in income.iter().zip(&age).zip(&channel) {
            monitor.observe(&[
                FeatureValue::Number(*x),
                FeatureValue::Number(*a),
                FeatureValue::Category(c),
            ])?;
        }
        clock.advance(TimeDelta::days(7));
        for w in monitor.poll()? {
            let r = &w.report;
            println!(
                "   week {week}: {} rows, {} of {} features drifted (dataset drift: {})",
                w.summary.rows, r.n_drifted, r.n_tested, r.dataset_drifted
            );
            for c in r.columns.iter().filter(|c| c.drifted) {
                let method = c.method.map_or("-", |m| m.name());
                let test = match c.p_value {
                    Some(p) => format!("{method} statistic {:.3}, p = {p:.1e}", c.statistic),
                    None => format!("{method} = {:.3} >= threshold {}", c.statistic, c.threshold),
                };
                let why = if let Some(median) = c.explanation.quantiles.iter().find(|q| q.q == 0.5)
                {
                    format!("median {:.1} -> {:.1}", median.reference, median.current)
                } else if !c.explanation.new_categories.is_empty() {
                    format!("new categories {:?}", c.explanation.new_categories)
                } else {
                    c.explanation
                        .top_contributors
                        .first()
                        .map_or_else(String::new, |t| {
                            format!(
                                "{}: {:.1} % -> {:.1} %",
                                t.label,
                                100.0 * t.reference_share,
                                100.0 * t.current_share
                            )
                        })
                };
                println!("     - {}: {test}; {why}", c.column);
            }
            if r.dataset_drifted {
                let evidence = r.to_evidence(&v1, &clock)?;
                let failing: Vec<String> = evidence
                    .iter()
                    .filter(|e| e.outcome == Outcome::Fail)
                    .map(|e| e.check.to_string())
                    .collect();
                println!(
                    "     -> {} evidence values for governance; failing: {}",
                    evidence.len(),
                    failing.join(", ")
                );
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    println!("\n== 5. Contest: is v2 right more often, without slowing down?");
    let config =
        ContestConfig::builder(MetricSpec::proportion("approval_accuracy", Better::Higher))
            .guardrail(MetricSpec::mean("latency_ms", Better::Lower, 5.0), 3.0)
            .min_samples(1_000)
            .min_duration(TimeDelta::days(3))
            .build()?;
    let mut contest = Contest::new(config, &router.table(), Arc::new(clock.clone()))?;
    let mut day = 0;
    let report = loop {
        day += 1;
        for i in 0..2_000 {
            let unit = format!("applicant-{day}-{i}");
            let d = router.route(unit.as_bytes());
            let rate = if d.version == v2.version() {
                0.78
            } else {
                0.74
            };
            let good = f64::from(u8::from(rng.random::<f64>() < rate));
            let latency = 20.0 + 6.0 * rng.random::<f64>();
            contest.record_decision(&d, 0, good)?;
            contest.record_decision(&d, 1, latency)?;
        }
        clock.advance(TimeDelta::days(1));
        let look = contest.look();
        let ch = look
            .challenger(v2.version())
            .ok_or("v2 is not in the contest")?;
        if let Some(m) = ch.metrics.first() {
            println!(
                "   day {day}: v1 {:.3} vs v2 {:.3} over {}+{} units, improvement in [{:+.3}, {:+.3}], p = {:.3} -> {}",
                m.mean_champion,
                m.mean_challenger,
                m.n_champion,
                m.n_challenger,
                m.improvement_low,
                m.improvement_high,
                m.p_value,
                ch.outcome
            );
        }
        if ch.outcome.is_final() || day >= 14 {
            break ch.clone();
        }
    };
    match report.outcome {
        ChallengerOutcome::Promote => {
            let ctx = release_context(&v2, 0.83, clock.now())?;
            match request_promotion(&gov, &report, &names::PROMOTE, &eve.id, ctx.clone())? {
                Promotion::Applied(t) => println!("   promoted at once: {} -> {}", t.from, t.to),
                Promotion::AwaitingSignoffs { approval, verdict } => {
                    println!(
                        "   promotion requested with the contest's evidence; awaiting: {}",
                        verdict.reasons().join("; ")
                    );
                    let request = approval.ok_or("no approval request was opened")?;
                    clock.advance(TimeDelta::hours(4));
                    gov.approve(&request, &val.id, "contest result reviewed")?;
                    gov.approve(&request, &rita.id, "go")?;
                    println!("   {} and {} sign off", val.id, rita.id);
                    match request_promotion(&gov, &report, &names::PROMOTE, &eve.id, ctx)? {
                        Promotion::Applied(t) => {
                            println!("   promoted: {v2} {} -> {}", t.from, t.to);
                        }
                        Promotion::AwaitingSignoffs { verdict, .. } => {
                            return Err(format!("still waiting: {:?}", verdict.reasons()).into());
                        }
                    }
                }
            }
        }
        ChallengerOutcome::RollBackNow { .. } => {
            let rev = contest.roll_back(v2.version(), &router, &gov.audit_log(), &eve)?;
            println!("   guardrail breached: rolled back, route table revision {rev}");
        }
        other => println!("   the contest ended with {other}: v1 stays champion"),
    }
    let champion = registry.resolve(&name, &AliasName::champion())?.model_ref();
    println!(
        "   champion is now {champion}; {v1} is {}",
        store.get_version(&v1)?.state()
    );

    // ------------------------------------------------------------------------------------------
    println!("\n== 6. Audit: verify the chain, then tamper with a copy");
    let log = gov.audit_log();
    let checkpoint = log.verify()?;
    println!(
        "   {} records, hash chain verifies (head seq {})",
        log.read_all()?.len(),
        checkpoint.seq
    );
    let mut copy = log.read_all()?;
    let target = copy
        .iter()
        .position(|r| r.draft.actor.id == rita.id)
        .ok_or("no record by the risk officer")?;
    let forged = copy.get_mut(target).ok_or("record vanished")?;
    forged.draft.actor = Actor::human("mallory@bank.example")?.with_role(Role::risk_officer());
    println!(
        "   in a copy, record {} ({}) now claims mallory signed it",
        forged.seq, forged.draft.action
    );
    match MemoryAuditLog::from_records(copy).verify() {
        Err(AuditError::Broken(b)) => println!(
            "   verification of the copy: BROKEN at record {} ({:?})",
            b.seq, b.reason
        ),
        other => return Err(format!("tampering went unnoticed: {other:?}").into()),
    }

    // ------------------------------------------------------------------------------------------
    println!("\n== 7. The champion's model card and history");
    let card = ModelCard::build(
        store.as_ref(),
        &log,
        &champion,
        &CardInputs::default()
            .intended_use("pre-screening of consumer loan applications")
            .limitations("not validated for business loans or applicants under 21")
            .evidence(report.to_evidence()),
    )?;
    for line in card.to_markdown().lines() {
        println!("   | {line}");
    }
    println!("\n   who approved what, and when (from the audit log, every version):");
    for v in [&v1, &v2] {
        for r in audit::history(&log, v)? {
            let d = &r.draft;
            if d.action.as_str() != AuditAction::APPROVAL_APPROVED.as_str() {
                continue;
            }
            let note = d
                .justification
                .as_deref()
                .or_else(|| d.details.get("comment").and_then(|c| c.as_str()))
                .unwrap_or("");
            println!(
                "   {} record #{:<3} {v}: approved by {} \"{note}\"",
                d.at.format("%Y-%m-%d %H:%M"),
                r.seq,
                d.actor.id,
            );
        }
    }
    println!("\nDone. Next: examples/README.md lists one focused example per capability.");
    Ok(())
}
