//! Many replicas on one registry: commits per second with 1, 4 and 16 concurrent writers on
//! one model and on different models, PostgreSQL beside SQLite in the same run; and the time
//! from a champion move committed in replica A to the first routing decision on the new table
//! in replica B (another process, following the change feed).
//!
//! PostgreSQL comes from `MLOPS_TEST_POSTGRES_URL` (`eval "$(bash .ci/postgres.sh start)"`);
//! without it only SQLite is measured. `MLOPS_BENCH_SECS` sets the time per cell (default 2).
//!
//! ```sh
//! cargo bench -p mlops-benches --bench replicas
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mlops_core::chrono::DateTime;
use mlops_core::{Actor, AliasName, Digest, ModelName, VersionNumber};
use mlops_registry::RegistryError;
use mlops_registry::model::{ModelAggregate, RegisteredModel, VersionCore};
use mlops_registry::routing::{AliasRoutes, RouteWatcher, Router};
use mlops_registry::store::{ModelStore, NewVersion, PostgresStore, SqliteStore, Synchronous};

fn actor() -> Actor {
    Actor::human("bench").unwrap()
}

fn setup(store: &dyn ModelStore, name: &ModelName) {
    store
        .create_model(
            ModelAggregate::new(RegisteredModel::new(
                name.clone(),
                actor().id,
                DateTime::UNIX_EPOCH,
            )),
            vec![],
        )
        .unwrap();
    for i in 0..2u64 {
        let core = VersionCore::builder(actor(), DateTime::UNIX_EPOCH)
            .artifact("m", format!("mem://{i}"), Digest::of(&i.to_be_bytes()), 1)
            .build()
            .unwrap();
        store
            .create_version(NewVersion::new(name.clone(), core))
            .unwrap();
    }
}

/// This test binary plays governance: it holds the process's seal to move `champion`.
fn seal() -> &'static mlops_registry::governed::GovernanceSeal {
    static SEAL: std::sync::OnceLock<Option<&'static mlops_registry::governed::GovernanceSeal>> =
        std::sync::OnceLock::new();
    SEAL.get_or_init(mlops_registry::governed::GovernanceSeal::claim)
        .expect("this test binary claims the seal once")
}

/// One alias move, retried on conflict. Returns the revision committed.
fn move_alias(store: &dyn ModelStore, name: &ModelName, to: u64) -> u64 {
    loop {
        let mut agg = store.get_model(name).unwrap();
        let rev = agg.revision();
        agg.set_alias(
            AliasName::champion(),
            VersionNumber::new(to).unwrap(),
            &actor().id,
            DateTime::UNIX_EPOCH,
        )
        .unwrap();
        // `champion` is protected: the bench plays governance and holds the process's seal.
        agg.authorize(seal());
        match store.commit(name, rev, agg, vec![]) {
            Ok(r) => return r.as_u64(),
            Err(RegistryError::Conflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

fn commits_per_second(
    store: &dyn ModelStore,
    tag: &str,
    writers: u64,
    same: bool,
    secs: f64,
) -> f64 {
    let names: Vec<ModelName> = (0..writers)
        .map(|w| {
            format!("{tag}-{}-{w}", if same { "same" } else { "diff" })
                .parse()
                .unwrap()
        })
        .collect();
    let shared: ModelName = format!("{tag}-shared-{writers}").parse().unwrap();
    if same {
        setup(store, &shared);
    } else {
        for n in &names {
            setup(store, n);
        }
    }
    let done = AtomicU64::new(0);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let (done, names, shared) = (&done, &names, &shared);
            s.spawn(move || {
                let name = if same { shared } else { &names[w as usize] };
                let mut i = 0u64;
                while Instant::now() < end {
                    move_alias(store, name, i % 2 + 1);
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn router_child(url: &str, schema: &str, name: &str, last: u64) {
    let store: Arc<dyn ModelStore> = Arc::new(
        PostgresStore::builder(url.parse().unwrap())
            .schema(schema)
            .connect()
            .unwrap(),
    );
    let name: ModelName = name.parse().unwrap();
    let router = Arc::new(Router::new(
        AliasRoutes::load(&*store, &name)
            .unwrap()
            .builder()
            .unwrap()
            .build()
            .unwrap(),
    ));
    let _w = RouteWatcher::builder(Arc::clone(&store), name, Arc::clone(&router))
        .spawn()
        .unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY").unwrap();
    out.flush().unwrap();
    let mut prev = router.route(b"unit").revision;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let d = router.route(b"unit");
        if d.revision != prev {
            prev = d.revision;
            writeln!(out, "SAW {} {}", d.revision.get(), unix_nanos()).unwrap();
            out.flush().unwrap();
            if d.revision.get() >= last {
                return;
            }
        }
        // A busy service routes continuously; leave the cores to the watcher and the server.
        std::thread::sleep(Duration::from_micros(50));
    }
}

fn unix_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn feed_latency(url: &str, moves: u64) {
    let schema = format!("bench_feed_{}", std::process::id());
    let store = PostgresStore::builder(url.parse().unwrap())
        .schema(&schema)
        .connect()
        .unwrap();
    let name: ModelName = "routed".parse().unwrap();
    setup(&store, &name);
    let start_rev = move_alias(&store, &name, 1);
    let last = start_rev + moves;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("MLOPS_BENCH_ROLE", "router")
        .env("MLOPS_BENCH_SCHEMA", &schema)
        .env("MLOPS_BENCH_LAST", last.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    assert_eq!(rx.recv().unwrap(), "READY");
    let mut started = std::collections::BTreeMap::new();
    for i in 0..moves {
        let t = unix_nanos();
        let rev = move_alias(&store, &name, (i + 1) % 2 + 1);
        started.insert(rev, t);
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait().unwrap();
    let mut ms: Vec<f64> = rx
        .try_iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("SAW ")?.to_owned();
            let (rev, at) = rest.split_once(' ')?;
            let t0 = started.get(&rev.parse().ok()?)?;
            Some(at.parse::<u128>().ok()?.saturating_sub(*t0) as f64 / 1e6)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "feed: commit in A -> first decision on the new table in B (another process): \
         n={} of {moves} tables, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
}

fn main() {
    let url = std::env::var("MLOPS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if std::env::var("MLOPS_BENCH_ROLE").as_deref() == Ok("router") {
        let last = std::env::var("MLOPS_BENCH_LAST").unwrap().parse().unwrap();
        router_child(
            &url.unwrap(),
            &std::env::var("MLOPS_BENCH_SCHEMA").unwrap(),
            "routed",
            last,
        );
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a token pass.
    let secs: f64 = std::env::var("MLOPS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            2.0
        } else {
            0.05
        });
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let pg = url.as_ref().map(|u| {
        PostgresStore::builder(u.parse().unwrap())
            .schema(format!("bench_{pid}"))
            .pool_size(20)
            .connect()
            .unwrap()
    });
    if pg.is_none() {
        println!("postgres: skipped (MLOPS_TEST_POSTGRES_URL is not set)");
    }
    let sqlite_normal =
        SqliteStore::open_with(dir.path().join("normal.db"), Synchronous::Normal).unwrap();
    let sqlite_full =
        SqliteStore::open_with(dir.path().join("full.db"), Synchronous::Full).unwrap();
    println!("commits per second (alias moves, retried on conflict), {secs} s per cell:");
    println!(
        "{:<22} {:>8} {:>12} {:>12}",
        "store", "writers", "same model", "diff models"
    );
    for writers in [1, 4, 16] {
        let mut stores: Vec<(&str, &dyn ModelStore)> = Vec::new();
        if let Some(p) = &pg {
            stores.push(("postgres", p));
        }
        stores.push(("sqlite (sync normal)", &sqlite_normal));
        stores.push(("sqlite (sync full)", &sqlite_full));
        for (label, store) in stores {
            let tag = format!("w{writers}-{}", label.len());
            let same = commits_per_second(store, &tag, writers, true, secs);
            let diff = commits_per_second(store, &tag, writers, false, secs);
            println!("{label:<22} {writers:>8} {same:>12.0} {diff:>12.0}");
        }
    }
    if let Some(u) = &url {
        feed_latency(u, if secs < 1.0 { 5 } else { 200 });
    }
}
