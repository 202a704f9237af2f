//! Arrow batches into the streaming monitor against row-by-row observes (ns per value), and the
//! hot paths (routing decision, stream observe) with the `metrics` features on and a Prometheus
//! recorder installed.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlops_benches::normal;
use mlops_core::ManualClock;
use mlops_core::chrono::TimeDelta;
use mlops_drift::arrow::arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::stream::{DriftMonitor, FeatureValue, MonitorConfig, ValueRetention, WindowSpec};
use mlops_drift::table::Table;
use mlops_registry::routing::{RouteTable, Router};

const FEATURES: usize = 4;
const ROWS: usize = 4_096;

fn monitor() -> (DriftMonitor, Vec<Vec<f64>>) {
    let names: Vec<String> = (0..FEATURES).map(|i| format!("f{i}")).collect();
    let data: Vec<Vec<f64>> = (0..FEATURES)
        .map(|i| normal(i as u64, 5_000, 0.0, 1.0))
        .collect();
    let mut table = Table::new();
    for (n, d) in names.iter().zip(&data) {
        table = table.with_numeric(n.clone(), d).unwrap();
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = DriftMonitor::new(
        DatasetProfile::fit(&table),
        &refs,
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::days(365),
            },
            retention: ValueRetention::BinsOnly,
            ..MonitorConfig::default()
        },
        Arc::new(ManualClock::default()),
    )
    .unwrap();
    let current: Vec<Vec<f64>> = (0..FEATURES)
        .map(|i| normal(100 + i as u64, ROWS, 0.2, 1.1))
        .collect();
    (m, current)
}

#[allow(clippy::needless_range_loop)] // reason: `r` indexes every column of a row
fn arrow_vs_rows(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream/arrow_batch_vs_rows");
    g.throughput(Throughput::Elements((ROWS * FEATURES) as u64));
    let (m, current) = monitor();
    g.bench_function("row_by_row", |b| {
        b.iter(|| {
            for r in 0..ROWS {
                let row: [FeatureValue<'_>; FEATURES] =
                    std::array::from_fn(|f| FeatureValue::Number(current[f][r]));
                black_box(m.observe(&row).unwrap());
            }
        });
    });
    let f64_batch = RecordBatch::try_from_iter((0..FEATURES).map(|f| {
        (
            format!("f{f}"),
            Arc::new(Float64Array::from(current[f].clone())) as ArrayRef,
        )
    }))
    .unwrap();
    g.bench_function("record_batch_float64_in_place", |b| {
        b.iter(|| m.observe_record_batch(black_box(&f64_batch)).unwrap());
    });
    let i32_batch = RecordBatch::try_from_iter((0..FEATURES).map(|f| {
        (
            format!("f{f}"),
            Arc::new(Int32Array::from_iter_values(
                current[f].iter().map(|x| (x * 100.0) as i32),
            )) as ArrayRef,
        )
    }))
    .unwrap();
    g.bench_function("record_batch_int32_converted", |b| {
        b.iter(|| m.observe_record_batch(black_box(&i32_batch)).unwrap());
    });
    g.finish();
}

fn with_recorder(c: &mut Criterion) {
    // Installed once for the rest of this bench process: every later call sees it.
    let _handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let mut g = c.benchmark_group("metrics_recorder_installed");
    g.throughput(Throughput::Elements(1));
    let router = Router::new(
        RouteTable::builder("fraud@v1".parse().unwrap())
            .challenger("fraud@v2".parse().unwrap(), 10.0)
            .build()
            .unwrap(),
    );
    let ids: Vec<[u8; 8]> = (0..1_000_000_u64).map(u64::to_le_bytes).collect();
    let mut i = 0usize;
    g.bench_function("routing_decision", |b| {
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(router.route(&ids[i]))
        });
    });
    let (m, current) = monitor();
    let mut j = 0usize;
    g.bench_function("stream_observe_one_row_of_4", |b| {
        b.iter(|| {
            j = (j + 1) % ROWS;
            let row: [FeatureValue<'_>; FEATURES] =
                std::array::from_fn(|f| FeatureValue::Number(current[f][j]));
            black_box(m.observe(&row).unwrap())
        });
    });
    g.finish();
}

criterion_group!(benches, arrow_vs_rows, with_recorder);
criterion_main!(benches);
