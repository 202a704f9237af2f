//! Online change detectors, ns per value on a stream of 1M values (every detector with River's
//! defaults, fed one value at a time). `benches/compare/run.sh` runs River's detectors on the
//! same stream.
//!
//! With `MLOPS_DETECTOR_COMPARE_DATA=<dir>` set, the bench writes its streams there
//! (little-endian `f64`) for the Python side and exits without benchmarking.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mlops_benches::detector_data::{binary_stream, real_stream};
use mlops_benches::drift_data::write_f64;
use mlops_drift::detect::{Adwin, ChangeDetector, Ddm, Eddm, HddmA, HddmW, PageHinkley};

const N: usize = 1_000_000;

/// Feeds the whole stream to a fresh detector; returns how many drifts it reported.
fn run<D: ChangeDetector>(mut detector: D, stream: &[f64]) -> u64 {
    let mut drifts = 0;
    for &x in stream {
        detector.update(black_box(x));
        drifts += u64::from(detector.drift_detected());
    }
    drifts
}

fn detectors(c: &mut Criterion) {
    let real = real_stream(N);
    let binary = binary_stream(N);
    // Each detector must see the change in its stream, or the bench times an idle path.
    assert!(run(Adwin::default(), &real) > 0);
    assert!(run(Ddm::default(), &binary) > 0);
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("adwin", N), |b| {
        b.iter(|| run(Adwin::default(), &real))
    });
    g.bench_function(BenchmarkId::new("page_hinkley", N), |b| {
        b.iter(|| run(PageHinkley::default(), &real))
    });
    g.bench_function(BenchmarkId::new("ddm", N), |b| {
        b.iter(|| run(Ddm::default(), &binary))
    });
    g.bench_function(BenchmarkId::new("eddm", N), |b| {
        b.iter(|| run(Eddm::default(), &binary))
    });
    g.bench_function(BenchmarkId::new("hddm_a", N), |b| {
        b.iter(|| run(HddmA::default(), &binary))
    });
    g.bench_function(BenchmarkId::new("hddm_w", N), |b| {
        b.iter(|| run(HddmW::default(), &binary))
    });
    g.finish();
}

criterion_group!(benches, detectors);

fn main() -> std::io::Result<()> {
    if let Some(dir) = std::env::var_os("MLOPS_DETECTOR_COMPARE_DATA") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir)?;
        write_f64(&dir.join("stream_real.f64"), &real_stream(N))?;
        return write_f64(&dir.join("stream_binary.f64"), &binary_stream(N));
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    Ok(())
}
