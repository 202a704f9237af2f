//! Drift benchmarks (targets in DESIGN.md): KS 1M vs 1M from raw samples and against a fitted
//! profile, PSI of 1M values against a profile, and a dataset report of 100k rows × 20 numeric
//! columns. `benches/compare/run.sh` times SciPy, NumPy and Evidently on the same data and prints
//! the ratios.
//!
//! With `MLOPS_DRIFT_COMPARE_DATA=<dir>` set, the bench writes its inputs there (little-endian
//! `f64`) for the Python side and exits without benchmarking.

use std::hint::black_box;
use std::num::NonZeroUsize;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mlops_benches::drift_data::{pair, table, write_f64};
use mlops_drift::profile::{DatasetProfile, NumericProfile};
use mlops_drift::report::{DriftReport, Method, ReportConfig, score_numeric};
use mlops_drift::stats::ks::{KsOptions, ks_2samp};
use mlops_drift::table::Table;

const REPORT_ROWS: usize = 100_000;
const REPORT_COLS: usize = 20;

fn ks(c: &mut Criterion) {
    let mut g = c.benchmark_group("drift/ks");
    g.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let (r, cur) = pair(n);
        let profile = NumericProfile::fit(&r);
        g.throughput(Throughput::Elements(2 * n as u64));
        g.bench_with_input(BenchmarkId::new("raw", n), &n, |b, _| {
            b.iter(|| ks_2samp(black_box(&r), black_box(&cur), KsOptions::default()))
        });
        g.bench_with_input(BenchmarkId::new("profile", n), &n, |b, _| {
            b.iter(|| score_numeric(black_box(&profile), black_box(&cur), Method::Ks))
        });
    }
    g.finish();
}

fn psi(c: &mut Criterion) {
    let mut g = c.benchmark_group("drift/psi");
    g.sample_size(10);
    for n in [100_000, 1_000_000] {
        let (r, cur) = pair(n);
        let profile = NumericProfile::fit(&r);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("profile", n), &n, |b, _| {
            b.iter(|| score_numeric(black_box(&profile), black_box(&cur), Method::Psi))
        });
    }
    g.finish();
}

fn report(c: &mut Criterion) {
    let (r, cur) = table(REPORT_ROWS, REPORT_COLS);
    let names: Vec<String> = (0..REPORT_COLS).map(|i| format!("f{i}")).collect();
    let mut rt = Table::new();
    let mut ct = Table::new();
    for ((name, rv), cv) in names.iter().zip(&r).zip(&cur) {
        rt = rt.with_numeric(name.clone(), rv).unwrap_or_default();
        ct = ct.with_numeric(name.clone(), cv).unwrap_or_default();
    }
    assert_eq!(rt.columns().len(), REPORT_COLS);
    assert_eq!(ct.columns().len(), REPORT_COLS);
    let cfg = ReportConfig::default();
    let profile = DatasetProfile::fit(&rt);
    let mut g = c.benchmark_group("drift/report");
    g.sample_size(10);
    let id = format!("{REPORT_ROWS}x{REPORT_COLS}");
    g.bench_function(BenchmarkId::new("raw", &id), |b| {
        b.iter(|| DriftReport::compute(black_box(&rt), black_box(&ct), &cfg))
    });
    g.bench_function(BenchmarkId::new("profile", &id), |b| {
        b.iter(|| DriftReport::from_profile(black_box(&profile), black_box(&ct), &cfg))
    });
    // The same reports on one thread, for the parallel speed-up measured in this run.
    let serial = cfg.clone().max_threads(NonZeroUsize::MIN);
    g.bench_function(BenchmarkId::new("raw_1thread", &id), |b| {
        b.iter(|| DriftReport::compute(black_box(&rt), black_box(&ct), &serial))
    });
    g.bench_function(BenchmarkId::new("profile_1thread", &id), |b| {
        b.iter(|| DriftReport::from_profile(black_box(&profile), black_box(&ct), &serial))
    });
    g.finish();
}

fn write_compare_data(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (r, c) = pair(1_000_000);
    write_f64(&dir.join("pair_ref.f64"), &r)?;
    write_f64(&dir.join("pair_cur.f64"), &c)?;
    let (rt, ct) = table(REPORT_ROWS, REPORT_COLS);
    let flat = |cols: &[Vec<f64>]| cols.iter().flatten().copied().collect::<Vec<f64>>();
    write_f64(&dir.join("table_ref.f64"), &flat(&rt))?;
    write_f64(&dir.join("table_cur.f64"), &flat(&ct))?;
    std::fs::write(
        dir.join("shape.txt"),
        format!("{REPORT_COLS} {REPORT_ROWS}\n"),
    )
}

criterion_group!(benches, ks, psi, report);

fn main() -> std::io::Result<()> {
    if let Some(dir) = std::env::var_os("MLOPS_DRIFT_COMPARE_DATA") {
        return write_compare_data(std::path::Path::new(&dir));
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    Ok(())
}
