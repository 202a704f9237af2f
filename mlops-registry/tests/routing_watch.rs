//! `RouteWatcher` against the in-process stores: it follows the champion through the change
//! feed (in-memory, SQLite from another handle on the file) or by polling (a store without a
//! feed), never publishes for unrelated commits, and routing threads never see a torn or
//! older table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/double.rs"]
mod double;
use double::{Double, Doubled};

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops_core::chrono::DateTime;
use mlops_core::{Actor, AliasName, Digest, ModelName, VersionNumber};
use mlops_registry::model::{ModelAggregate, RegisteredModel, VersionCore};
use mlops_registry::routing::{AliasRoutes, Following, RouteWatcher, Router};
use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};

fn setup(store: &dyn ModelStore, versions: u64) -> ModelName {
    let name = ModelName::new("watched").unwrap();
    let actor = Actor::human("a").unwrap();
    store
        .create_model(
            ModelAggregate::new(RegisteredModel::new(
                name.clone(),
                actor.id.clone(),
                DateTime::UNIX_EPOCH,
            )),
            vec![],
        )
        .unwrap();
    for i in 0..versions {
        let core = VersionCore::builder(actor.clone(), DateTime::UNIX_EPOCH)
            .artifact("m", format!("mem://{i}"), Digest::of(&i.to_be_bytes()), 1)
            .build()
            .unwrap();
        store
            .create_version(NewVersion::new(name.clone(), core))
            .unwrap();
    }
    set_champion(store, &name, 1);
    name
}

fn set_champion(store: &dyn ModelStore, name: &ModelName, v: u64) -> u64 {
    let mut agg = store.get_model(name).unwrap();
    let rev = agg.revision();
    agg.set_alias(
        AliasName::champion(),
        VersionNumber::new(v).unwrap(),
        &Actor::human("a").unwrap().id,
        DateTime::UNIX_EPOCH,
    )
    .unwrap();
    // `champion` is protected: this test plays governance and holds the process's seal.
    agg.authorize(seal());
    store.commit(name, rev, agg, vec![]).unwrap().as_u64()
}

/// This test binary plays governance: it holds the process's seal to move `champion`.
fn seal() -> &'static mlops_registry::governed::GovernanceSeal {
    static SEAL: std::sync::OnceLock<Option<&'static mlops_registry::governed::GovernanceSeal>> =
        std::sync::OnceLock::new();
    SEAL.get_or_init(mlops_registry::governed::GovernanceSeal::claim)
        .expect("this test binary claims the seal once")
}

fn wait_for(router: &Router, v: u64) {
    let until = Instant::now() + Duration::from_secs(10);
    while router.route(b"u").version.get() != v {
        assert!(Instant::now() < until, "the router never reached v{v}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Moves the champion 1 -> 2 -> ... -> `versions` through `writer` while two threads route
/// through the router `reader`'s watcher keeps current: every decision's (revision, version)
/// is one the writer committed, and revisions never go back.
fn follows(
    writer: Arc<dyn ModelStore>,
    reader: Arc<dyn ModelStore>,
    versions: u64,
    expect: Following,
) {
    let name = setup(&*writer, versions);
    let router = Arc::new(Router::new(
        AliasRoutes::load(&*reader, &name)
            .unwrap()
            .builder()
            .unwrap()
            .build()
            .unwrap(),
    ));
    let watcher = RouteWatcher::builder(Arc::clone(&reader), name.clone(), Arc::clone(&router))
        .poll_every(Duration::from_millis(5))
        .spawn()
        .unwrap();
    let committed = parking_lot::Mutex::new(vec![(router.revision().get(), 1u64)]);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut seen = Vec::new();
                let mut last = router.route(b"unit");
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    let d = router.route(b"unit");
                    assert!(d.revision >= last.revision, "went back to an older table");
                    if d.revision != last.revision {
                        seen.push((d.revision.get(), d.version.get()));
                    }
                    last = d;
                    std::thread::yield_now();
                }
                seen.push((last.revision.get(), last.version.get()));
                let committed = committed.lock();
                for pair in seen {
                    assert!(
                        committed.contains(&pair),
                        "decision {pair:?} matches no committed table"
                    );
                }
            });
        }
        for v in 2..=versions {
            let rev = set_champion(&*writer, &name, v);
            committed.lock().push((rev, v));
            wait_for(&router, v);
        }
        done.store(true, std::sync::atomic::Ordering::Release);
    });
    // An unrelated commit (a tag) publishes nothing: exposure counters are not reset.
    let before = watcher.status().published;
    let mut agg = writer.get_model(&name).unwrap();
    let rev = agg.revision();
    agg.model_mut().description = "retagged".into();
    writer.commit(&name, rev, agg, vec![]).unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while watcher.status().seen.map(|r| r.as_u64()) != Some(rev.as_u64() + 1) {
        assert!(
            Instant::now() < until,
            "the watcher never read the unrelated commit"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = watcher.status();
    assert_eq!(
        status.published, before,
        "published a table for an unrelated commit"
    );
    assert_eq!(status.following, expect);
    assert_eq!(status.last_error, None);
}

#[test]
fn follows_an_in_memory_store_through_its_feed() {
    let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
    follows(Arc::clone(&store), store, 12, Following::Feed);
}

#[test]
fn polls_a_store_without_a_feed() {
    let store: Arc<dyn ModelStore> = Arc::new(Doubled(NoFeed(InMemoryStore::new())));
    follows(Arc::clone(&store), store, 6, Following::Polling);
}

#[cfg(feature = "sqlite")]
#[test]
fn follows_another_sqlite_handle_through_data_version() {
    use mlops_registry::store::{SqliteStore, Synchronous};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let writer: Arc<dyn ModelStore> =
        Arc::new(SqliteStore::open_with(&path, Synchronous::Normal).unwrap());
    let reader: Arc<dyn ModelStore> =
        Arc::new(SqliteStore::open_with(&path, Synchronous::Normal).unwrap());
    follows(writer, reader, 8, Following::Feed);
}

/// An in-memory store that hides its feed, like a host store that has none.
struct NoFeed(InMemoryStore);

impl Double for NoFeed {
    fn inner(&self) -> &dyn ModelStore {
        &self.0
    }
    fn name(&self) -> String {
        "no-feed".into()
    }
    fn capabilities(&self) -> mlops_registry::store::Capabilities {
        mlops_registry::store::Capabilities::required()
    }
    fn has_feed(&self) -> bool {
        false
    }
}
