//! Parsing and validating core identifiers: done at every API boundary, so it must be cheap.

use criterion::{Criterion, criterion_group, criterion_main};
use mlops_core::{Digest, ModelRef};
use std::hint::black_box;

fn identifiers(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    g.bench_function("parse_model_ref", |b| {
        b.iter(|| black_box("fraud-scorer.gbm@v123").parse::<ModelRef>())
    });
    let hex = Digest::of(b"artifact").to_string();
    g.bench_function("parse_digest", |b| {
        b.iter(|| black_box(hex.as_str()).parse::<Digest>())
    });
    g.finish();
}

criterion_group!(benches, identifiers);
criterion_main!(benches);
