//! Humility rule benchmarks (issue target): evaluating a policy of 5 rules on a 20-feature row
//! in at most 50 ns, counted (`evaluate`) and as a what-if (`decide`), the rule count swept, a
//! recommended policy of a 20-column profile for context, and two threads evaluating one policy
//! (the sharded counters must not make them contend).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlops_benches::{normal, rng};
use mlops_drift::humility::{
    Action, BandSide, CompiledPolicy, FeatureSchema, FeatureValue, HumilityPolicy,
    RecommendOptions, Trigger,
};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::table::Table;
use rand::RngExt as _;

const NUMERIC: usize = 16;
const CATEGORICAL: usize = 4;
const ROWS: usize = 4_096;

/// 24 categories per categorical column, like a country or product code.
fn categories() -> Vec<String> {
    (0..24).map(|i| format!("cat-{i:02}")).collect()
}

fn profile() -> DatasetProfile {
    let cats = categories();
    let numeric: Vec<Vec<f64>> = (0..NUMERIC)
        .map(|i| normal(100 + i as u64, 20_000, 0.0, 1.0))
        .collect();
    let categorical: Vec<Vec<&str>> = (0..CATEGORICAL)
        .map(|i| {
            let mut r = rng(200 + i as u64);
            (0..20_000)
                .map(|_| cats[r.random_range(0..cats.len())].as_str())
                .collect()
        })
        .collect();
    let mut t = Table::new();
    for (i, v) in numeric.iter().enumerate() {
        t = t.with_numeric(format!("x{i}"), v).unwrap();
    }
    for (i, v) in categorical.iter().enumerate() {
        t = t.with_categorical(format!("c{i}"), v).unwrap();
    }
    DatasetProfile::fit(&t)
}

/// The policy: one rule of each trigger family, every action, on a 20-feature row.
fn five_rules(profile: &DatasetProfile) -> HumilityPolicy {
    HumilityPolicy::default()
        .with(
            "uncertain",
            Trigger::UncertainScore {
                low: 0.45,
                high: 0.55,
                fires: BandSide::Inside,
            },
            Action::Override { value: 0.0 },
        )
        .with(
            "outlier:x3",
            Trigger::outlier_from_profile(profile, "x3", 0.005, 0.995).unwrap(),
            Action::Reject,
        )
        .with(
            "sparse_bin:x7",
            // 2 000 reference rows per bin: none is sparse, but the binary search over the
            // edges runs on every evaluation all the same.
            Trigger::sparse_bins_from_profile(profile, "x7", 30).unwrap(),
            Action::NoOp,
        )
        .with(
            "unseen:c1",
            Trigger::unseen_from_profile(profile, "c1").unwrap(),
            Action::NoOp,
        )
        .with(
            "missing:x15",
            Trigger::MissingFeature {
                feature: "x15".into(),
            },
            Action::Reject,
        )
}

/// `n` rules cycling through the five kinds over different features.
fn n_rules(profile: &DatasetProfile, n: usize) -> HumilityPolicy {
    let mut p = HumilityPolicy::default();
    for i in 0..n {
        let x = format!("x{}", i % NUMERIC);
        let c = format!("c{}", i % CATEGORICAL);
        let (trigger, action) = match i % 5 {
            0 => (
                Trigger::UncertainScore {
                    low: 0.45,
                    high: 0.55,
                    fires: BandSide::Inside,
                },
                Action::Override { value: 0.0 },
            ),
            1 => (
                Trigger::outlier_from_profile(profile, &x, 0.005, 0.995).unwrap(),
                Action::Reject,
            ),
            2 => (
                Trigger::sparse_bins_from_profile(profile, &x, 30).unwrap(),
                Action::NoOp,
            ),
            3 => (
                Trigger::unseen_from_profile(profile, &c).unwrap(),
                Action::NoOp,
            ),
            _ => (Trigger::MissingFeature { feature: x }, Action::Reject),
        };
        p = p.with(format!("r{i}"), trigger, action);
    }
    p
}

struct Inputs {
    cats: Vec<String>,
    numbers: Vec<[f64; NUMERIC]>,
    picks: Vec<[usize; CATEGORICAL]>,
    scores: Vec<f64>,
}

/// Rows of mostly ordinary traffic: about 1 % outlying x3, 1 % unseen c1 values, 1 % missing
/// x15, 10 % of scores inside the uncertain band.
fn inputs() -> Inputs {
    let mut cats = categories();
    cats.push("never-seen".into());
    let mut r = rng(300);
    let numbers = (0..ROWS)
        .map(|_| {
            let mut row = [0.0; NUMERIC];
            for v in &mut row {
                *v = r.random_range(-2.5..2.5);
            }
            if r.random_range(0..100) == 0 {
                row[3] = 9.0;
            }
            if r.random_range(0..100) == 0 {
                row[15] = f64::NAN;
            }
            row
        })
        .collect();
    let picks = (0..ROWS)
        .map(|_| {
            let mut p = [0; CATEGORICAL];
            for v in &mut p {
                *v = r.random_range(0..24);
            }
            if r.random_range(0..100) == 0 {
                p[1] = 24;
            }
            p
        })
        .collect();
    let scores = (0..ROWS).map(|_| r.random_range(0.0..1.0)).collect();
    Inputs {
        cats,
        numbers,
        picks,
        scores,
    }
}

fn rows(inputs: &Inputs) -> Vec<[FeatureValue<'_>; NUMERIC + CATEGORICAL]> {
    inputs
        .numbers
        .iter()
        .zip(&inputs.picks)
        .map(|(n, p)| {
            let mut row = [FeatureValue::Missing; NUMERIC + CATEGORICAL];
            for (slot, &x) in row.iter_mut().zip(n) {
                *slot = FeatureValue::Number(x);
            }
            for (slot, &c) in row.iter_mut().skip(NUMERIC).zip(p) {
                *slot = FeatureValue::Category(&inputs.cats[c]);
            }
            row
        })
        .collect()
}

fn compile(p: &HumilityPolicy, profile: &DatasetProfile) -> CompiledPolicy {
    p.compile(&FeatureSchema::from_profile(profile).unwrap())
        .unwrap()
}

fn one_thread(c: &mut Criterion) {
    let profile = profile();
    let inputs = inputs();
    let rows = rows(&inputs);
    let policy = compile(&five_rules(&profile), &profile);
    let mut g = c.benchmark_group("humility/evaluate");
    g.throughput(Throughput::Elements(1));
    // The floor: reading the row and score that every variant reads.
    let mut i = 0usize;
    g.bench_function("baseline_read_row", |b| {
        b.iter(|| {
            i = (i + 1) & (ROWS - 1);
            black_box((&rows[i], inputs.scores[i]));
        });
    });
    let mut i = 0usize;
    g.bench_function("5_rules_20_features", |b| {
        b.iter(|| {
            i = (i + 1) & (ROWS - 1);
            black_box(policy.evaluate(inputs.scores[i], &rows[i]))
        });
    });
    let mut i = 0usize;
    g.bench_function("5_rules_20_features_uncounted", |b| {
        b.iter(|| {
            i = (i + 1) & (ROWS - 1);
            black_box(policy.decide(inputs.scores[i], &rows[i]))
        });
    });
    for n in [1usize, 5, 20, 64] {
        let p = compile(&n_rules(&profile, n), &profile);
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("rules", n), |b| {
            b.iter(|| {
                i = (i + 1) & (ROWS - 1);
                black_box(p.evaluate(inputs.scores[i], &rows[i]))
            });
        });
    }
    let recommended = HumilityPolicy::recommended(&profile, &RecommendOptions::default()).unwrap();
    let size = recommended.rules.len();
    let p = compile(&recommended, &profile);
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("recommended_20_columns", size), |b| {
        b.iter(|| {
            i = (i + 1) & (ROWS - 1);
            black_box(p.evaluate(inputs.scores[i], &rows[i]))
        });
    });
    g.finish();
}

fn run_threads(
    policy: &CompiledPolicy,
    rows: &[[FeatureValue<'_>; NUMERIC + CATEGORICAL]],
    scores: &[f64],
    threads: usize,
    per_thread: u64,
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut i = t * 997;
                for _ in 0..per_thread {
                    i = (i + 1) & (ROWS - 1);
                    black_box(policy.evaluate(scores[i], &rows[i]));
                }
            });
        }
    });
    start.elapsed()
}

fn threads(c: &mut Criterion) {
    let profile = profile();
    let inputs = inputs();
    let rows = rows(&inputs);
    let policy = compile(&five_rules(&profile), &profile);
    let mut g = c.benchmark_group("humility/threads");
    for threads in [1usize, 2] {
        // Throughput is evaluations per second over all threads.
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_function(BenchmarkId::new("5_rules_20_features", threads), |b| {
            b.iter_custom(|iters| run_threads(&policy, &rows, &inputs.scores, threads, iters));
        });
    }
    g.finish();
}

criterion_group!(benches, one_thread, threads);
criterion_main!(benches);
