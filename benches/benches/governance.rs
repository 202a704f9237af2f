//! Governance benchmarks against the targets in DESIGN.md: plan a transition against a policy
//! of 20 guards (≤ 5 µs), append audit records in memory (≥ 100 000 records/s), verify a
//! 1M-record chain (about a second or less).

use mlops_governance::lifecycle::names;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, Clock, Direction, Evidence, ManualClock, ModelRef, RiskTier, Role, Subject,
};
use mlops_governance::audit::{AuditLog, AuditLogExt, MemoryAuditLog, verify_records};
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::policy::{Guard, Policy, PolicySpec, TierRules};
use mlops_governance::{GovernanceError, Period};
use mlops_registry::audit::{self, AuditAction, AuditDraft, AuditRecord};
use mlops_registry::store::{InMemoryStore, ModelStore};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

fn period(s: &str) -> Period {
    s.parse().unwrap()
}

const CHECKS: [&str; 6] = [
    "validation.auc",
    "validation.ks",
    "drift.psi.max",
    "fairness.gap.gender",
    "fairness.gap.age",
    "backtest.pnl",
];

/// 20 guards for entering production: 3 approval groups, 6 evidence checks, 5 documentation
/// guards, 3 freeze windows (none active) and 3 minimum stays.
fn policy_of_20_guards() -> Policy {
    let prod: mlops_governance::lifecycle::StateName = "production".parse().unwrap();
    let mut rules = TierRules::default()
        .entering(prod.clone(), Guard::approvals(1, [Role::risk_officer()]))
        .entering(prod.clone(), Guard::approvals(1, [Role::model_validator()]))
        .entering(
            prod.clone(),
            Guard::approvals(2, [Role::risk_officer(), Role::model_validator()]),
        );
    for c in CHECKS {
        rules = rules.entering(
            prod.clone(),
            Guard::evidence(c.parse().unwrap(), period("30d")),
        );
    }
    for f in [
        "intended_use",
        "limitations",
        "training_data",
        "owner",
        "ethics",
    ] {
        rules = rules.entering(prod.clone(), Guard::documentation([f]));
    }
    for year in [2024, 2025, 2027] {
        rules = rules.entering(
            prod.clone(),
            Guard::FreezeWindow {
                start: Utc.with_ymd_and_hms(year, 12, 20, 0, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(year + 1, 1, 3, 0, 0, 0).unwrap(),
                reason: "year-end".into(),
            },
        );
    }
    for p in ["1d", "3d", "7d"] {
        rules = rules.entering(prod.clone(), Guard::min_time_in_state(period(p)));
    }
    let spec = PolicySpec::new("bench-20").tier(RiskTier::High, rules);
    assert_eq!(
        spec.tiers[&RiskTier::High].entering[&prod].len(),
        20,
        "twenty guards"
    );
    spec.validate().unwrap()
}

fn plan_bench(c: &mut Criterion) {
    let clock = ManualClock::new(start());
    let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
    let h = |id: &str, r: Role| Actor::human(id).unwrap().with_role(r);
    let (alice, eve, rita, val) = (
        h("alice", Role::data_scientist()),
        h("eve", Role::ml_engineer()),
        h("rita", Role::risk_officer()),
        h("val", Role::model_validator()),
    );
    let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy(policy_of_20_guards())
        .unwrap()
        .actors([alice.clone(), eve.clone(), rita.clone(), val.clone()])
        .build();
    let v: ModelRef = gov
        .register_version_for_test("bench", &alice, RiskTier::High)
        .unwrap();
    for e in [names::SUBMIT, names::VALIDATE] {
        gov.transition(&v, &e, &eve.id, &PlanContext::default())
            .unwrap();
    }
    clock.advance(TimeDelta::days(8));
    let now = clock.now();
    let mut ctx = PlanContext::default();
    for check in CHECKS {
        ctx.evidence.push(Evidence::new(
            check.parse().unwrap(),
            Subject::Version { version: v.clone() },
            0.9,
            0.5,
            Direction::AtLeast,
            now - TimeDelta::days(1),
        ));
    }
    ctx.card = [
        "intended_use",
        "limitations",
        "training_data",
        "owner",
        "ethics",
    ]
    .into_iter()
    .map(|f| (f.to_owned(), "documented".to_owned()))
    .collect::<BTreeMap<_, _>>();
    // Open the approval request and collect the sign-offs, so every guard is met.
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = gov.transition(&v, &names::PROMOTE, &eve.id, &ctx)
    else {
        panic!("expected a denial awaiting sign-offs");
    };
    gov.approve(&req, &rita.id, "ok").unwrap();
    gov.approve(&req, &val.id, "ok").unwrap();
    let aggregate = store.get_model(v.name()).unwrap();
    let version = store.get_version(&v).unwrap();
    let plan = gov
        .plan_on(&aggregate, &version, &names::PROMOTE, &eve, &ctx)
        .unwrap();
    assert!(plan.verdict().is_allowed(), "{}", plan.verdict());
    assert_eq!(plan.verdict().outcomes.len(), 21, "20 guards + permission");

    let mut g = c.benchmark_group("governance/plan");
    g.bench_function("20_guards_all_met", |b| {
        b.iter(|| {
            gov.plan_on(
                black_box(&aggregate),
                &version,
                &names::PROMOTE,
                &eve,
                black_box(&ctx),
            )
        })
    });
    let bare = PlanContext::default();
    g.bench_function("20_guards_all_reasons", |b| {
        b.iter(|| {
            gov.plan_on(
                black_box(&aggregate),
                &version,
                &names::PROMOTE,
                &eve,
                black_box(&bare),
            )
        })
    });
    g.bench_function("20_guards_with_store_reads", |b| {
        b.iter(|| {
            gov.plan(
                v.name(),
                v.version(),
                &names::PROMOTE,
                &eve.id,
                black_box(&ctx),
            )
        })
    });
    g.finish();
}

fn draft(i: u64) -> AuditDraft {
    AuditDraft::new(
        start() + TimeDelta::seconds(i as i64),
        Actor::human("eve").unwrap().with_role(Role::ml_engineer()),
        AuditAction::new("governance.transition.applied").unwrap(),
        Subject::Version {
            version: "fraud@v3".parse().unwrap(),
        },
    )
    .with_states(
        Some("pre_production".parse().unwrap()),
        Some("production".parse().unwrap()),
    )
    .with_details(mlops_registry::serde_json::json!({
        "event": "promote",
        "policy": "5d41402abc4b2a76b9719d911017c592aaaabbbbccccddddeeeeffff00001111",
        "approvers": ["rita"],
        "n": i,
    }))
}

fn append_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("governance/audit_append");
    g.throughput(Throughput::Elements(1_000));
    let drafts: Vec<AuditDraft> = (0..1_000).map(draft).collect();
    g.bench_function("memory_1000_one_by_one", |b| {
        b.iter_batched(
            || (MemoryAuditLog::new(), drafts.clone()),
            |(log, drafts)| {
                for d in drafts {
                    log.append(vec![d]).unwrap();
                }
                log
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("memory_1000_batched", |b| {
        b.iter_batched(
            || (MemoryAuditLog::new(), drafts.clone()),
            |(log, drafts)| {
                log.append(drafts).unwrap();
                log
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn chain(n: usize) -> Vec<AuditRecord> {
    audit::seal_all(None, (0..n).map(|i| draft(i as u64)).collect()).unwrap()
}

fn verify_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("governance/verify");
    g.sample_size(10);
    for n in [10_000usize, 1_000_000] {
        let records = chain(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("parallel", n), &records, |b, r| {
            b.iter(|| verify_records(black_box(r)).unwrap())
        });
        if n <= 10_000 {
            // One thread, the registry's verify_chain (same encoder).
            g.bench_with_input(BenchmarkId::new("one_thread", n), &records, |b, r| {
                b.iter(|| audit::verify_chain(black_box(r)).unwrap())
            });
        }
        // The whole log API: paged by position (copies each page out of the log), streamed,
        // checked against the head.
        let log = MemoryAuditLog::from_records(records);
        g.bench_with_input(BenchmarkId::new("log_streamed", n), &log, |b, l| {
            b.iter(|| l.verify().unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, plan_bench, append_bench, verify_bench);
criterion_main!(benches);
