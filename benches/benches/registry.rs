//! Registry benchmarks: in-memory create version / get version / move alias, SQLite commits per
//! second on a temporary file (both sync modes), and search over 10 000 versions with a tag
//! filter (in-memory and SQLite), and the audit encoder: appending audit-only records to the
//! in-memory store (the DESIGN target is at least 100 000 records/s) and verifying a chain.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, AliasName, Digest, ModelName, ModelRef, VersionNumber};
use mlops_registry::model::{DatasetRole, ModelAggregate, RegisteredModel, VersionCore};
use mlops_registry::store::{
    InMemoryStore, ModelStore, NewVersion, SqliteStore, Synchronous, VersionFilter, VersionQuery,
};
use rand::RngExt as _;

fn actor() -> Actor {
    Actor::service("bench").unwrap_or_else(|_| unreachable!())
}

fn core(i: u64) -> VersionCore {
    VersionCore::builder(
        actor(),
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i64::try_from(i).unwrap_or(0)),
    )
    .artifact(
        "model",
        format!("s3://models/m/{i}"),
        Digest::of(&i.to_le_bytes()),
        i,
    )
    .dataset(
        "train",
        DatasetRole::Training,
        "s3://data/train",
        Digest::of(&(i % 17).to_le_bytes()),
    )
    .param("seed", i.to_string())
    .metric("auc", 0.8)
    .build()
    .unwrap_or_else(|e| panic!("{e}"))
}

fn model_name() -> ModelName {
    ModelName::new("bench-model").unwrap_or_else(|e| panic!("{e}"))
}

fn register(store: &dyn ModelStore) {
    let agg = ModelAggregate::new(RegisteredModel::new(
        model_name(),
        actor().id,
        DateTime::UNIX_EPOCH,
    ));
    store
        .create_model(agg, vec![])
        .unwrap_or_else(|e| panic!("{e}"));
}

fn with_versions(store: &dyn ModelStore, n: u64) {
    register(store);
    for i in 1..=n {
        store
            .create_version(NewVersion::new(model_name(), core(i)))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Reads the model, moves `champion` to another version, commits.
fn move_alias(store: &dyn ModelStore, versions: u64, i: u64) {
    let mut agg = store
        .get_model(&model_name())
        .unwrap_or_else(|e| panic!("{e}"));
    let rev = agg.revision();
    let target = VersionNumber::new(1 + i % versions).unwrap_or(VersionNumber::FIRST);
    let target = if agg.alias(&AliasName::champion()) == Some(target) {
        VersionNumber::new(1 + (i + 1) % versions).unwrap_or(VersionNumber::FIRST)
    } else {
        target
    };
    agg.set_alias(
        AliasName::champion(),
        target,
        &actor().id,
        DateTime::UNIX_EPOCH,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .commit(&model_name(), rev, agg, vec![])
        .unwrap_or_else(|e| panic!("{e}"));
}

fn in_memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry/in_memory");
    g.throughput(Throughput::Elements(1));
    // A fresh store per sample, so the model does not grow without bound across samples.
    g.bench_function("create_version", |b| {
        b.iter_custom(|iters| {
            let store = InMemoryStore::new();
            register(&store);
            let cores: Vec<VersionCore> = (0..iters).map(core).collect();
            let start = Instant::now();
            for c in cores {
                black_box(
                    store
                        .create_version(NewVersion::new(model_name(), c))
                        .unwrap_or_else(|e| panic!("{e}")),
                );
            }
            start.elapsed()
        });
    });
    let store = InMemoryStore::new();
    with_versions(&store, 1000);
    let mut rng = mlops_benches::rng(7);
    let refs: Vec<ModelRef> = (0..4096)
        .map(|_| {
            ModelRef::new(
                model_name(),
                VersionNumber::new(rng.random_range(1..=1000_u64)).unwrap_or(VersionNumber::FIRST),
            )
        })
        .collect();
    let mut k = 0;
    g.bench_function("get_version", |b| {
        b.iter(|| {
            k = (k + 1) % refs.len();
            black_box(
                store
                    .get_version(&refs[k])
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        });
    });
    // Move an alias (read the aggregate, change it, compare-and-swap commit). The aggregate
    // holds every version's status and the alias history and is cloned on read, so the cost
    // grows with both: measured at (10 versions, no history) and (1000 versions, 1000 moves).
    // The store is rebuilt (untimed) every 200 moves so the history stays in range.
    for (versions, history) in [(10_u64, 0_u64), (1000, 1000)] {
        let build = || {
            let store = InMemoryStore::new();
            with_versions(&store, versions);
            for i in 0..history {
                move_alias(&store, versions, i);
            }
            store
        };
        g.bench_function(
            BenchmarkId::new("move_alias", format!("{versions}v_{history}h")),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let store = build();
                        let batch = (iters - done).min(200);
                        let start = Instant::now();
                        for i in 0..batch {
                            move_alias(&store, versions, i);
                        }
                        total += start.elapsed();
                        done += batch;
                    }
                    total
                });
            },
        );
    }
    g.finish();
}

fn sqlite_commits(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry/sqlite_commit");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    for (label, sync) in [("normal", Synchronous::Normal), ("full", Synchronous::Full)] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // Alias moves on a model with 10 versions; a fresh file every 200 moves (untimed) keeps
        // the alias history, which every read-modify-commit carries, in a realistic range.
        let mut files = 0_u32;
        g.bench_function(BenchmarkId::new("move_alias", label), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    files += 1;
                    let store =
                        SqliteStore::open_with(dir.path().join(format!("m{files}.db")), sync)
                            .unwrap_or_else(|e| panic!("{e}"));
                    with_versions(&store, 10);
                    let batch = (iters - done).min(200);
                    let start = Instant::now();
                    for i in 0..batch {
                        move_alias(&store, 10, i);
                    }
                    total += start.elapsed();
                    done += batch;
                }
                total
            });
        });
        let store = SqliteStore::open_with(dir.path().join("bench.db"), sync)
            .unwrap_or_else(|e| panic!("{e}"));
        with_versions(&store, 10);
        let mut j = 1000;
        g.bench_function(BenchmarkId::new("create_version", label), |b| {
            b.iter_batched(
                || {
                    j += 1;
                    core(j)
                },
                |c| {
                    store
                        .create_version(NewVersion::new(model_name(), c))
                        .unwrap_or_else(|e| panic!("{e}"))
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn tag_every_tenth(store: &dyn ModelStore) {
    let mut agg = store
        .get_model(&model_name())
        .unwrap_or_else(|e| panic!("{e}"));
    let rev = agg.revision();
    let numbers: Vec<VersionNumber> = agg.versions().keys().copied().collect();
    for n in numbers.into_iter().filter(|n| n.get() % 10 == 0) {
        agg.annotations_mut(n)
            .and_then(|a| a.tags.insert("flavour", "gbm"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store
        .commit(&model_name(), rev, agg, vec![])
        .unwrap_or_else(|e| panic!("{e}"));
}

fn search(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry/search_10k_tag");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    let query = VersionQuery::new()
        .filter(VersionFilter::Tag {
            key: "flavour".into(),
            value: "gbm".into(),
        })
        .page_size(1000);
    let mem = InMemoryStore::new();
    with_versions(&mem, 10_000);
    tag_every_tenth(&mem);
    g.bench_function("in_memory", |b| {
        b.iter(|| {
            let page = mem
                .search_versions(&query)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(page.items.len(), 1000);
            black_box(page)
        });
    });
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sqlite = SqliteStore::open_with(dir.path().join("search.db"), Synchronous::Normal)
        .unwrap_or_else(|e| panic!("{e}"));
    with_versions(&sqlite, 10_000);
    tag_every_tenth(&sqlite);
    g.bench_function("sqlite_warm", |b| {
        b.iter(|| {
            let page = sqlite
                .search_versions(&query)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(page.items.len(), 1000);
            black_box(page)
        });
    });
    // Cold: a fresh handle on the same file, so the aggregate and the cores are read from disk.
    let path = dir.path().join("search.db");
    g.bench_function("sqlite_cold", |b| {
        b.iter_batched(
            || SqliteStore::open_with(&path, Synchronous::Normal).unwrap_or_else(|e| panic!("{e}")),
            |s| {
                let page = s.search_versions(&query).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(page.items.len(), 1000);
                black_box(page)
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

fn audit_draft(i: u64) -> mlops_registry::audit::AuditDraft {
    mlops_registry::audit::AuditDraft::new(
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i64::try_from(i).unwrap_or(0)),
        actor(),
        mlops_registry::audit::AuditAction::new("host.event.recorded")
            .unwrap_or_else(|e| panic!("{e}")),
        mlops_core::Subject::Version {
            version: ModelRef::new(model_name(), VersionNumber::FIRST),
        },
    )
    .with_details(mlops_registry::serde_json::json!({
        "event": "promote",
        "approvers": ["rita"],
        "n": i,
        "nested": {"b": 1, "a": [true, null]},
    }))
}

fn audit(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry/audit");
    g.throughput(Throughput::Elements(1_000));
    let drafts: Vec<_> = (0..1_000).map(audit_draft).collect();
    g.bench_function("in_memory_append_1000_one_by_one", |b| {
        b.iter_batched(
            || (InMemoryStore::new(), drafts.clone()),
            |(store, drafts)| {
                for d in drafts {
                    store
                        .append_audit(vec![d])
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                store
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("seal_all_1000", |b| {
        b.iter_batched(
            || drafts.clone(),
            |d| mlops_registry::audit::seal_all(None, d).unwrap_or_else(|e| panic!("{e}")),
            BatchSize::SmallInput,
        )
    });
    let chain = mlops_registry::audit::seal_all(None, drafts).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function("verify_chain_1000", |b| {
        b.iter(|| {
            mlops_registry::audit::verify_chain(black_box(&chain)).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.finish();
}

criterion_group!(benches, in_memory, sqlite_commits, search, audit);
criterion_main!(benches);
