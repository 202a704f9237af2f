//! The conformance test kit run against every store shipped with the crate, directly and
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! through `Box<dyn ModelStore>` / `Arc<dyn ModelStore>`.
#![cfg(feature = "testkit")]

use std::sync::Arc;

use mlops_registry::store::{InMemoryStore, ModelStore};
use mlops_registry::testkit;

#[test]
fn in_memory_passes_the_kit() {
    testkit::run_all(&InMemoryStore::new());
}

#[test]
fn in_memory_through_box_dyn() {
    let store: Box<dyn ModelStore> = Box::new(InMemoryStore::new());
    testkit::run_all(&store);
}

#[test]
fn in_memory_through_arc_dyn() {
    let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
    testkit::run_all(&store);
}

#[test]
fn in_memory_through_a_reference() {
    let inner = InMemoryStore::new();
    let store: &dyn ModelStore = &inner;
    testkit::run_all(&store);
}

#[cfg(feature = "sqlite")]
#[path = "support/split.rs"]
mod split;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::sync::Arc;

    use mlops_registry::store::{ModelStore, SqliteStore, Synchronous};
    use mlops_registry::testkit;

    use super::split::Split;

    #[test]
    fn sqlite_file_passes_the_kit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with(dir.path().join("r.db"), Synchronous::Normal).unwrap();
        testkit::run_all(&store);
    }

    #[test]
    fn sqlite_file_full_sync_through_arc_dyn() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ModelStore> =
            Arc::new(SqliteStore::open(dir.path().join("r.db")).unwrap());
        // Every commit is synced to disk (milliseconds each on a shared CI disk): the whole
        // kit runs in `sqlite_file_passes_the_kit`; here the write-path behaviours.
        testkit::declares_required_capabilities(&store);
        testkit::create_and_get_model(&store);
        testkit::stale_revision_conflicts(&store);
        testkit::commit_writes_audit_atomically(&store);
        testkit::invalid_commits_write_nothing(&store);
        testkit::idempotent_create(&store);
        testkit::concurrent_version_creation_sized(&store, 4, 5);
    }

    #[test]
    fn sqlite_in_memory_through_box_dyn() {
        let store: Box<dyn ModelStore> = Box::new(SqliteStore::open_in_memory().unwrap());
        testkit::run_all_sized(&store, 8, 50);
    }

    #[test]
    fn two_handles_on_one_file_share_state_and_never_lose_updates() {
        // Two stores on one file behave like two processes: their caches must not hide each
        // other's commits.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let a = SqliteStore::open_with(&path, Synchronous::Normal).unwrap();
        let b = SqliteStore::open_with(&path, Synchronous::Normal).unwrap();
        testkit::stale_revision_conflicts(&a);
        let both = [&a as &dyn ModelStore, &b];
        // Version creation alternating between handles still numbers 1, 2, 3, ...
        testkit::concurrent_version_creation_sized(&Split(both), 4, 50);
        testkit::concurrent_alias_race(&Split(both));
    }
}
