//! Online change detectors, ns per value on a stream of 1M values (every detector with River's
//! defaults). `detect/*` feeds the stream through `ChangeDetector::update_many`, the batch entry
//! point; `detect_single/*` calls `update` once per value. `benches/compare/run.sh` runs River's
//! detectors (one `update` per value, River has no batch entry point) on the same stream.
//!
//! With `MLOPS_DETECTOR_COMPARE_DATA=<dir>` set, the bench writes its streams there
//! (little-endian `f64`) for the Python side, and `drifts.json` with the number of drifts each
//! detector reports on them, and exits without benchmarking.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mlops_benches::detector_data::{binary_stream, real_stream};
use mlops_benches::drift_data::write_f64;
use mlops_drift::detect::{Adwin, ChangeDetector, Ddm, Eddm, HddmA, HddmW, PageHinkley};

const N: usize = 1_000_000;

/// Feeds the whole stream to a fresh detector in one batch; returns how many drifts it reported.
fn run<D: ChangeDetector>(mut detector: D, stream: &[f64]) -> u64 {
    detector.update_many(black_box(stream)).len() as u64
}

/// Feeds the whole stream to a fresh detector one value at a time; returns how many drifts it
/// reported.
fn run_single<D: ChangeDetector>(mut detector: D, stream: &[f64]) -> u64 {
    let mut drifts = 0;
    for &x in stream {
        detector.update(black_box(x));
        drifts += u64::from(detector.drift_detected());
    }
    drifts
}

/// Every detector in one criterion group, each fed its stream by `$feed`.
macro_rules! bench_group {
    ($c:expr, $group:literal, $feed:ident, $real:expr, $binary:expr) => {{
        let (real, binary): (&[f64], &[f64]) = ($real, $binary);
        let mut g = $c.benchmark_group($group);
        g.sample_size(10);
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function(BenchmarkId::new("adwin", N), |b| {
            b.iter(|| $feed(Adwin::default(), real))
        });
        g.bench_function(BenchmarkId::new("page_hinkley", N), |b| {
            b.iter(|| $feed(PageHinkley::default(), real))
        });
        g.bench_function(BenchmarkId::new("ddm", N), |b| {
            b.iter(|| $feed(Ddm::default(), binary))
        });
        g.bench_function(BenchmarkId::new("eddm", N), |b| {
            b.iter(|| $feed(Eddm::default(), binary))
        });
        g.bench_function(BenchmarkId::new("hddm_a", N), |b| {
            b.iter(|| $feed(HddmA::default(), binary))
        });
        g.bench_function(BenchmarkId::new("hddm_w", N), |b| {
            b.iter(|| $feed(HddmW::default(), binary))
        });
        g.finish();
    }};
}

fn detectors(c: &mut Criterion) {
    let real = real_stream(N);
    let binary = binary_stream(N);
    // Each detector must see the change in its stream, or the bench times an idle path.
    assert!(run(Adwin::default(), &real) > 0);
    assert!(run(Ddm::default(), &binary) > 0);
    // Both entry points must report the same drifts.
    assert_eq!(
        run(Adwin::default(), &real),
        run_single(Adwin::default(), &real)
    );
    assert_eq!(
        run(Ddm::default(), &binary),
        run_single(Ddm::default(), &binary)
    );
    bench_group!(c, "detect", run, &real, &binary);
    bench_group!(c, "detect_single", run_single, &real, &binary);
}

criterion_group!(benches, detectors);

fn main() -> std::io::Result<()> {
    if let Some(dir) = std::env::var_os("MLOPS_DETECTOR_COMPARE_DATA") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir)?;
        let (real, binary) = (real_stream(N), binary_stream(N));
        write_f64(&dir.join("stream_real.f64"), &real)?;
        write_f64(&dir.join("stream_binary.f64"), &binary)?;
        // The drifts each detector reports, so the Python side can check that River did the
        // same work (the same restarts) on the same stream.
        let drifts = [
            ("adwin", run(Adwin::default(), &real)),
            ("page_hinkley", run(PageHinkley::default(), &real)),
            ("ddm", run(Ddm::default(), &binary)),
            ("eddm", run(Eddm::default(), &binary)),
            ("hddm_a", run(HddmA::default(), &binary)),
            ("hddm_w", run(HddmW::default(), &binary)),
        ]
        .map(|(name, count)| format!("\"{name}\": {count}"))
        .join(", ");
        return std::fs::write(dir.join("drifts.json"), format!("{{{drifts}}}\n"));
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    Ok(())
}
