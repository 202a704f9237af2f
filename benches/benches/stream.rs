//! Streaming monitor benchmarks (DESIGN.md targets): `observe` of one numeric value (≤ 50 ns),
//! two threads observing one monitor (≥ 1.5× one thread's throughput), memory per feature after
//! 1M and 100M values (printed, independent of stream length), and merging 100 replica
//! summaries of 20 features (in one pass with `WindowSummary::merge_all`, and one replica at a
//! time for context).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlops_benches::normal;
use mlops_core::ManualClock;
use mlops_core::chrono::TimeDelta;
use mlops_drift::profile::DatasetProfile;
use mlops_drift::stream::{
    ColumnBatch, DriftMonitor, FeatureSummary, FeatureValue, MonitorConfig, ValueRetention,
    WindowSpec, WindowSummary,
};
use mlops_drift::table::Table;

fn profile(features: usize) -> (DatasetProfile, Vec<String>) {
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    let data: Vec<Vec<f64>> = (0..features)
        .map(|i| normal(i as u64, 5_000, 0.0, 1.0))
        .collect();
    let mut table = Table::new();
    for (n, d) in names.iter().zip(&data) {
        table = table.with_numeric(n.clone(), d).unwrap();
    }
    (DatasetProfile::fit(&table), names)
}

fn monitor(features: usize, retention: ValueRetention, budget: usize) -> DriftMonitor {
    // A window that never closes during the bench: time windows close in `poll` only.
    let window = WindowSpec::Time {
        length: TimeDelta::days(365),
    };
    monitor_with(features, retention, budget, window)
}

fn monitor_with(
    features: usize,
    retention: ValueRetention,
    budget: usize,
    window: WindowSpec,
) -> DriftMonitor {
    let (p, names) = profile(features);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    DriftMonitor::new(
        p,
        &refs,
        MonitorConfig {
            window,
            retention,
            exact_budget: budget,
            ..MonitorConfig::default()
        },
        Arc::new(ManualClock::default()),
    )
    .unwrap()
}

fn observe_one(c: &mut Criterion) {
    let values = normal(7, 4_096, 0.3, 1.1);
    let mut g = c.benchmark_group("stream/observe_one_numeric");
    g.throughput(Throughput::Elements(1));
    // Context for a loaded machine: an uncontended lock, one binary search and an increment,
    // the floor under any shared-monitor observe.
    let floor = parking_lot::Mutex::new(vec![0_u64; 10]);
    let cuts: Vec<f64> = (1..10).map(|i| f64::from(i) / 5.0 - 1.0).collect();
    let mut j = 0usize;
    g.bench_function("baseline_lock_search_increment", |b| {
        b.iter(|| {
            j = (j + 1) & 4_095;
            let x = values.get(j).copied().unwrap_or(0.0);
            let bin = cuts.partition_point(|&c| c <= x);
            if let Some(c) = floor.lock().get_mut(bin) {
                *c += 1;
            }
        });
    });
    for (label, retention) in [
        ("exact_then_sketch", ValueRetention::ExactThenSketch),
        ("bins_only", ValueRetention::BinsOnly),
    ] {
        let m = monitor(1, retention, 4_096);
        let mut i = 0usize;
        g.bench_function(label, |b| {
            b.iter(|| {
                i = (i + 1) & 4_095;
                let x = values.get(i).copied().unwrap_or(0.0);
                black_box(m.observe(&[FeatureValue::Number(x)]).unwrap());
            });
        });
    }
    g.finish();
}

/// Total time for `threads` threads each observing `per_thread` values into one monitor.
fn run_threads(m: &DriftMonitor, threads: usize, per_thread: u64, values: &[f64]) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut i = t * 97;
                for _ in 0..per_thread {
                    i = (i + 1) & 4_095;
                    let x = values.get(i).copied().unwrap_or(0.0);
                    black_box(m.observe(&[FeatureValue::Number(x)]).unwrap());
                }
            });
        }
    });
    start.elapsed()
}

fn threads_scaling(c: &mut Criterion) {
    let values = normal(8, 4_096, 0.0, 1.0);
    let mut g = c.benchmark_group("stream/observe_threads");
    // Control: the same thread setup with no shared state at all, so the machine's own
    // scaling (other load, SMT) is measured in the same run as the monitor's.
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_function(BenchmarkId::new("independent_work", threads), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..threads {
                        s.spawn(move || {
                            let mut x = t as u64 + 1;
                            for i in 0..iters {
                                x = black_box(
                                    x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i),
                                );
                            }
                            x
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    // Count windows add one shared atomic increment per row (a window too long to close here).
    let count = WindowSpec::Count { rows: u64::MAX };
    for (label, retention, window) in [
        ("exact_then_sketch", ValueRetention::ExactThenSketch, None),
        ("bins_only", ValueRetention::BinsOnly, None),
        (
            "bins_only_count_window",
            ValueRetention::BinsOnly,
            Some(count),
        ),
    ] {
        for threads in [1usize, 2] {
            let m = match window {
                Some(w) => monitor_with(1, retention, 4_096, w),
                None => monitor(1, retention, 4_096),
            };
            // Throughput is values per second over all threads.
            g.throughput(Throughput::Elements(threads as u64));
            g.bench_function(BenchmarkId::new(label, threads), |b| {
                b.iter_custom(|iters| run_threads(&m, threads, iters, &values));
            });
        }
    }
    g.finish();
}

fn memory(c: &mut Criterion) {
    // Not a timing: bytes per feature after 1M and 100M values (printed once), for both
    // retentions. The window never closes, so everything seen stays summarized.
    for retention in [ValueRetention::ExactThenSketch, ValueRetention::BinsOnly] {
        let m = monitor(1, retention, 65_536);
        let mut seen = 0u64;
        let mut x = 0.5_f64;
        for target in [1_000_000u64, 100_000_000] {
            let batch: Vec<f64> = (0..100_000)
                .map(|_| {
                    // A cheap deterministic chaotic sequence in (0, 1).
                    x = 3.999 * x * (1.0 - x);
                    x * 4.0 - 2.0
                })
                .collect();
            while seen < target {
                m.observe_batch(&[ColumnBatch::Numeric(&batch)]).unwrap();
                seen += batch.len() as u64;
            }
            println!(
                "stream/memory retention={retention:?} values={seen} bytes_per_feature={}",
                m.heap_bytes_of_feature(0)
            );
        }
    }
    let m = monitor(1, ValueRetention::ExactThenSketch, 65_536);
    c.bench_function("stream/memory/heap_bytes_query", |b| {
        b.iter(|| black_box(m.heap_bytes_of_feature(0)));
    });
}

fn replicas(retention: ValueRetention) -> Vec<WindowSummary> {
    let features = 20;
    let rows = 5_000;
    let (p, names) = profile(features);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    (0..100u64)
        .map(|r| {
            let m = DriftMonitor::new(
                p.clone(),
                &refs,
                MonitorConfig {
                    retention,
                    exact_budget: 1_000,
                    sketch_k: 200,
                    shards: 1,
                    ..MonitorConfig::default()
                },
                Arc::new(ManualClock::default()),
            )
            .unwrap();
            let cols: Vec<Vec<f64>> = (0..features)
                .map(|f| normal(1_000 * r + f as u64, rows, 0.1, 1.0))
                .collect();
            let batch: Vec<ColumnBatch<'_>> =
                cols.iter().map(|c| ColumnBatch::Numeric(c)).collect();
            m.observe_batch(&batch).unwrap();
            m.snapshot()
        })
        .collect()
}

fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream/merge_100_replicas_20_features");
    let sketched = replicas(ValueRetention::ExactThenSketch);
    // What replicas ship when they compact their summaries first (`WindowSummary::compacted`).
    let shipped =
        |items| -> Vec<WindowSummary> { sketched.iter().map(|s| s.compacted(items)).collect() };
    let (compacted_32, compacted_16) = (shipped(32), shipped(16));
    print_accuracy("with_sketches", &sketched);
    print_accuracy("compacted_32", &compacted_32);
    print_accuracy("compacted_16", &compacted_16);
    for (label, summaries) in [
        ("bins_only", replicas(ValueRetention::BinsOnly)),
        ("with_sketches", sketched),
        ("compacted_32", compacted_32),
        ("compacted_16", compacted_16),
    ] {
        // One pass over all replicas: what a collector does.
        g.bench_function(label, |b| {
            b.iter(|| black_box(WindowSummary::merge_all(&summaries).unwrap().rows));
        });
        // Context: the same merge done one replica at a time.
        g.bench_function(format!("{label}_pairwise"), |b| {
            b.iter(|| {
                let mut acc = summaries.first().cloned().unwrap();
                for s in summaries.iter().skip(1) {
                    acc.merge_from(s).unwrap();
                }
                black_box(acc.rows)
            });
        });
    }
    g.finish();
}

/// Prints the bytes per feature a replica ships and the merged rank-error bound.
fn print_accuracy(label: &str, summaries: &[WindowSummary]) {
    let merged = WindowSummary::merge_all(summaries).unwrap();
    let bound = |s: &WindowSummary| match s.feature("f0") {
        Some(FeatureSummary::Numeric(n)) => (n.values.rank_error(), n.values.heap_bytes()),
        _ => (0.0, 0),
    };
    let wire = summaries[0].to_json().unwrap().len() / summaries[0].features.len();
    println!(
        "stream/merge/{label}: json bytes per feature per replica={wire} replica bound={:.2}% merged bound={:.2}%",
        bound(&summaries[0]).0 * 100.0,
        bound(&merged).0 * 100.0,
    );
}

criterion_group!(benches, observe_one, threads_scaling, merge, memory);
criterion_main!(benches);
