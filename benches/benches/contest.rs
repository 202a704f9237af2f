//! Contests and bandits: recording one outcome (the per-request cost a host pays), looking at a
//! contest (the always-valid statistics for every challenger and metric), and recomputing bandit
//! weights (off the hot path) for 2 to 10 arms.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mlops_benches::normal;
use mlops_core::chrono::TimeDelta;
use mlops_core::{ManualClock, VersionNumber};
use mlops_governance::contest::{
    Bandit, BanditConfig, Better, Contest, ContestConfig, MetricSpec, Reward,
};
use mlops_registry::routing::RouteTable;

fn table(arms: u64) -> RouteTable {
    let mut b = RouteTable::builder("ranker@v1".parse().unwrap_or_else(|_| unreachable!()));
    #[allow(clippy::cast_precision_loss)]
    let w = 100.0 / arms as f64;
    for i in 2..=arms {
        b = b.challenger(
            format!("ranker@v{i}")
                .parse()
                .unwrap_or_else(|_| unreachable!()),
            w,
        );
    }
    b.build().unwrap_or_else(|e| panic!("{e}"))
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap_or(VersionNumber::FIRST)
}

fn contest(c: &mut Criterion) {
    let config = ContestConfig::builder(MetricSpec::mean("log_loss", Better::Lower, 0.05))
        .guardrail(MetricSpec::mean("latency_ms", Better::Lower, 5.0), 5.0)
        .min_duration(TimeDelta::zero())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let values = normal(1, 4096, 0.4, 0.1);
    let mut g = c.benchmark_group("contest");
    let mut ct = Contest::new(config.clone(), &table(2), Arc::new(ManualClock::default()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut i = 0_usize;
    g.bench_function("record_one_outcome", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            let x = values.get(i).copied().unwrap_or(0.0);
            let arm = if i & 1 == 0 { v(1) } else { v(2) };
            black_box(ct.record(arm, 0, black_box(x)))
        })
    });
    for arms in [2_u64, 4] {
        let mut ct = Contest::new(
            config.clone(),
            &table(arms),
            Arc::new(ManualClock::default()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for (j, x) in values.iter().enumerate() {
            let arm = v(1 + (j as u64 % arms));
            let _ = ct.record(arm, 0, *x);
            let _ = ct.record(arm, 1, 100.0 + *x);
        }
        g.bench_with_input(BenchmarkId::new("look", arms), &arms, |b, _| {
            b.iter(|| black_box(ct.look()))
        });
    }
    g.finish();
}

fn bandit(c: &mut Criterion) {
    let mut g = c.benchmark_group("bandit");
    for arms in [2_u64, 10] {
        for (name, reward) in [
            ("thompson_beta", Reward::Bernoulli),
            ("thompson_gauss", Reward::Gaussian),
        ] {
            let mut bandit = Bandit::new(BanditConfig::thompson(reward), &table(arms))
                .unwrap_or_else(|e| panic!("{e}"));
            let xs = normal(2, 10_000, 0.5, 0.2);
            for (j, x) in xs.iter().enumerate() {
                let _ = bandit.record(v(1 + (j as u64 % arms)), x.clamp(0.0, 1.0));
            }
            g.bench_with_input(BenchmarkId::new(name, arms), &arms, |b, _| {
                b.iter(|| black_box(bandit.compute_weights().len()))
            });
        }
        let mut eg = Bandit::new(
            BanditConfig::epsilon_greedy(Reward::Gaussian, 0.1),
            &table(arms),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for j in 0..1000_u64 {
            let _ = eg.record(v(1 + j % arms), 0.5);
        }
        g.bench_with_input(BenchmarkId::new("epsilon_greedy", arms), &arms, |b, _| {
            b.iter(|| black_box(eg.compute_weights().len()))
        });
    }
    g.finish();
}

criterion_group!(benches, contest, bandit);
criterion_main!(benches);
