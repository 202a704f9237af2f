//! The PostgreSQL server restarted (immediate shutdown: a crash) under load: calls fail with
//! typed errors while it is down, then succeed again; no acknowledged write is lost; a router
//! keeps serving its last table and follows the champion once the server is back.
//!
//! Its own test binary, because restarting the server would disturb the other PostgreSQL
//! tests running in parallel. Needs the server to have been started by `.ci/postgres.sh`
//! (which restarts it).
#![cfg(all(feature = "postgres", feature = "testkit"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/postgres.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlops_core::{ModelName, VersionNumber};
use mlops_registry::RegistryError;
use mlops_registry::model::IdempotencyKey;
use mlops_registry::routing::{AliasRoutes, RouteWatcher, Router};
use mlops_registry::store::{CreateOutcome, ModelStore, NewVersion, PostgresStore};

fn restart_server() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/postgres.sh");
    let status = std::process::Command::new("bash")
        .args([script, "restart"])
        .status()
        .unwrap();
    assert!(status.success(), "`{script} restart` failed");
}

#[test]
fn a_server_restart_under_load_gives_typed_errors_then_recovers_losing_nothing() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("restart");
    let store: Arc<dyn ModelStore> = Arc::new(
        PostgresStore::builder(url.parse().unwrap())
            .schema(&schema)
            .pool_size(8)
            .connection_timeout(Duration::from_secs(2))
            .connect()
            .unwrap(),
    );
    let name: ModelName = "restarted".parse().unwrap();
    support::register(&*store, &name);
    support::add_versions(&*store, &name, 1);
    support::move_champion(&*store, &name, VersionNumber::FIRST, vec![]).unwrap();
    let router = Arc::new(Router::new(
        AliasRoutes::load(&*store, &name)
            .unwrap()
            .builder()
            .unwrap()
            .build()
            .unwrap(),
    ));
    let watcher = RouteWatcher::builder(Arc::clone(&store), name.clone(), Arc::clone(&router))
        .retry_after(Duration::from_millis(50))
        .spawn()
        .unwrap();

    let acked = Mutex::new(BTreeMap::<String, u64>::new());
    let errors = Mutex::new(Vec::<RegistryError>::new());
    let (restarted, after) = (AtomicBool::new(false), AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(90);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (store, name, acked, errors, restarted, after) =
                (&store, &name, &acked, &errors, &restarted, &after);
            s.spawn(move || {
                for i in 0.. {
                    if restarted.load(Ordering::Acquire) && after.load(Ordering::Acquire) >= 40 {
                        break;
                    }
                    assert!(Instant::now() < deadline, "no recovery within 90 s");
                    // Retry with the same key until acknowledged: an outcome lost with the
                    // connection is replayed, never duplicated.
                    let key = format!("t{t}-{i}");
                    let seed = 1000 + t * 100_000 + i;
                    loop {
                        let req = NewVersion::new(name.clone(), support::core(seed))
                            .with_idempotency_key(IdempotencyKey::new(key.clone()).unwrap());
                        match store.create_version(req) {
                            Ok(c) => {
                                assert!(matches!(
                                    c.outcome,
                                    CreateOutcome::Created | CreateOutcome::Replayed
                                ));
                                acked.lock().unwrap().insert(key, c.version.number().get());
                                if restarted.load(Ordering::Acquire) {
                                    after.fetch_add(1, Ordering::AcqRel);
                                }
                                break;
                            }
                            Err(e) => {
                                errors.lock().unwrap().push(e);
                                std::thread::sleep(Duration::from_millis(20));
                            }
                        }
                        assert!(Instant::now() < deadline, "no recovery within 90 s");
                    }
                }
            });
        }
        while acked.lock().unwrap().len() < 40 {
            std::thread::sleep(Duration::from_millis(5));
        }
        restart_server();
        restarted.store(true, Ordering::Release);
    });

    let errors = errors.into_inner().unwrap();
    assert!(
        !errors.is_empty(),
        "the restart went unnoticed: was the server restarted?"
    );
    let untyped: Vec<_> = errors
        .iter()
        .filter(|e| !matches!(e, RegistryError::Unavailable { .. }))
        .collect();
    assert!(
        untyped.is_empty(),
        "errors other than Unavailable: {untyped:?}"
    );
    println!("{} typed errors during the restart", errors.len());

    // Nothing acknowledged was lost, nothing was created twice.
    let acked = acked.into_inner().unwrap();
    let agg = store.get_model(&name).unwrap();
    assert_eq!(
        agg.versions().len(),
        acked.len() + 1,
        "a phantom or lost version"
    );
    for (key, n) in &acked {
        let v = store
            .get_version(&mlops_core::ModelRef::new(
                name.clone(),
                VersionNumber::new(*n).unwrap(),
            ))
            .unwrap();
        let (t, i) = key[1..].split_once('-').unwrap();
        let seed = 1000 + t.parse::<u64>().unwrap() * 100_000 + i.parse::<u64>().unwrap();
        assert!(v.core().same_content(&support::core(seed)), "{key}");
    }
    support::verified_audit(&*store);

    // The router kept serving, and follows the champion now that the server is back.
    let target = agg.latest_version().unwrap();
    support::move_champion(&*store, &name, target, vec![]).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while router.route(b"u").version != target {
        assert!(
            Instant::now() < until,
            "the router did not follow after the restart: {:?}",
            watcher.status()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
