//! `PostgresStore` against a real server (see `tests/support/postgres.rs` for how the server
//! is found): the conformance kit, migrations, the change feed, async callers, and replicas in
//! several processes (the test binary re-runs itself as child processes).
#![cfg(all(feature = "postgres", feature = "testkit"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/postgres.rs"]
mod support;

use std::sync::Arc;

use mlops_registry::RegistryError;
use mlops_registry::store::{ModelStore, PostgresStore};
use mlops_registry::testkit;

#[test]
fn postgres_passes_the_kit() {
    let Some(url) = support::url() else { return };
    let store = support::store(&url, &support::fresh_schema("kit"));
    testkit::run_all(&store);
}

#[test]
fn postgres_through_arc_dyn_and_two_replicas_on_one_schema() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("two");
    let a: Arc<dyn ModelStore> = Arc::new(support::store(&url, &schema));
    let b = support::store(&url, &schema);
    testkit::stale_revision_conflicts(&a);
    testkit::change_feed_reports_commits(&a);
    // A commit through `a` is seen through `b` (the cache never hides another replica's
    // commit), and `b` cannot commit from a revision `a` moved past.
    testkit::concurrent_alias_race(&Replicas([&*a, &b]));
    testkit::concurrent_version_creation_sized(&Replicas([&*a, &b]), 4, 50);
}

#[test]
fn migrations_are_numbered_and_refuse_newer_or_foreign_schemas() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("mig");
    drop(support::store(&url, &schema));
    // Reopening is a no-op; several replicas starting at once migrate once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| drop(support::store(&url, &schema)));
        }
    });
    let mut raw = support::raw(&url);
    let v: i64 = raw
        .query_one(
            &format!("SELECT schema_version FROM \"{schema}\".registry_meta"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(v, mlops_registry::store::postgres::SCHEMA_VERSION);
    raw.batch_execute(&format!(
        "UPDATE \"{schema}\".registry_meta SET schema_version = 99"
    ))
    .unwrap();
    let err = PostgresStore::builder(url.parse().unwrap())
        .schema(&schema)
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );

    let foreign = support::fresh_schema("foreign");
    raw.batch_execute(&format!(
        "CREATE SCHEMA \"{foreign}\"; CREATE TABLE \"{foreign}\".payroll (id int)"
    ))
    .unwrap();
    let err = PostgresStore::builder(url.parse().unwrap())
        .schema(&foreign)
        .connect()
        .unwrap_err();
    assert!(matches!(err, RegistryError::Corrupt { .. }), "{err:?}");

    for bad in ["", "Upper", "pg_catalog", "a;drop", &"x".repeat(49)] {
        let err = PostgresStore::builder(url.parse().unwrap())
            .schema(bad)
            .connect()
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidInput { .. }),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn the_audit_log_and_version_cores_are_append_only_in_the_database() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("ro");
    let store = support::store(&url, &schema);
    testkit::versions_are_numbered_and_read_back(&store);
    let mut raw = support::raw(&url);
    for sql in [
        "UPDATE audit SET record = record",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "UPDATE versions SET core = core",
        "DELETE FROM versions",
    ] {
        let err = raw
            .batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}"))
            .unwrap_err();
        let msg = err
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default();
        assert!(
            msg.contains("append-only")
                || msg.contains("immutable")
                || msg.contains("never deleted"),
            "{sql}: {err:?}"
        );
    }
    // The chain head row names the last record.
    let head: (i64, String) = {
        let r = raw
            .query_one(
                &format!("SELECT seq, hash FROM \"{schema}\".audit_head"),
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    let last = store.read_audit(1, 100_000).unwrap();
    let last = last.last().unwrap();
    assert_eq!(head, (last.seq as i64, last.hash.to_string()));
}

#[test]
fn unreachable_server_is_a_typed_error_not_a_panic() {
    let Some(_) = support::url() else { return };
    let err = PostgresStore::builder("host=127.0.0.1 port=1 user=nobody".parse().unwrap())
        .connection_timeout(std::time::Duration::from_millis(300))
        .connect()
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unavailable { .. }), "{err:?}");
}

#[test]
fn async_callers_never_panic() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("async");
    for flavor in ["current", "multi"] {
        let rt = match flavor {
            "current" => tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            _ => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        };
        let (url, schema) = (url.clone(), schema.clone());
        rt.block_on(async move {
            // Straight from async code (blocks the executor thread, but never panics) ...
            let store = Arc::new(support::store(&url, &schema));
            testkit::create_and_get_model(&*store);
            // ... and the recommended way, through spawn_blocking.
            let s = Arc::clone(&store);
            tokio::task::spawn_blocking(move || testkit::stale_revision_conflicts(&*s))
                .await
                .unwrap();
            let s = Arc::clone(&store);
            tokio::spawn(async move { testkit::append_audit_only(&*s) })
                .await
                .unwrap();
        });
    }
}

/// Sends every call to one of two stores, alternating by thread.
struct Replicas<'a>([&'a dyn ModelStore; 2]);

impl Replicas<'_> {
    fn pick(&self) -> &dyn ModelStore {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::thread::current().id().hash(&mut h);
        self.0[(h.finish() % 2) as usize]
    }
}

impl ModelStore for Replicas<'_> {
    fn name(&self) -> String {
        "replicas".into()
    }
    fn capabilities(&self) -> mlops_registry::store::Capabilities {
        self.0[0].capabilities()
    }
    fn create_model(
        &self,
        a: mlops_registry::model::ModelAggregate,
        d: Vec<mlops_registry::audit::AuditDraft>,
    ) -> mlops_registry::Result<mlops_registry::model::Revision> {
        self.pick().create_model(a, d)
    }
    fn commit(
        &self,
        m: &mlops_core::ModelName,
        e: mlops_registry::model::Revision,
        n: mlops_registry::model::ModelAggregate,
        d: Vec<mlops_registry::audit::AuditDraft>,
    ) -> mlops_registry::Result<mlops_registry::model::Revision> {
        self.pick().commit(m, e, n, d)
    }
    fn create_version(
        &self,
        r: mlops_registry::store::NewVersion,
    ) -> mlops_registry::Result<mlops_registry::store::VersionCreated> {
        self.pick().create_version(r)
    }
    fn append_audit(
        &self,
        d: Vec<mlops_registry::audit::AuditDraft>,
    ) -> mlops_registry::Result<Vec<u64>> {
        self.pick().append_audit(d)
    }
    fn get_model(
        &self,
        m: &mlops_core::ModelName,
    ) -> mlops_registry::Result<mlops_registry::model::ModelAggregate> {
        self.pick().get_model(m)
    }
    fn get_version(
        &self,
        v: &mlops_core::ModelRef,
    ) -> mlops_registry::Result<mlops_registry::model::ModelVersion> {
        self.pick().get_version(v)
    }
    fn list_models(
        &self,
        q: &mlops_registry::store::ModelQuery,
    ) -> mlops_registry::Result<mlops_registry::store::Page<mlops_registry::model::RegisteredModel>>
    {
        self.pick().list_models(q)
    }
    fn search_versions(
        &self,
        q: &mlops_registry::store::VersionQuery,
    ) -> mlops_registry::Result<mlops_registry::store::Page<mlops_registry::model::ModelVersion>>
    {
        self.pick().search_versions(q)
    }
    fn read_audit(
        &self,
        from: u64,
        limit: usize,
    ) -> mlops_registry::Result<Vec<mlops_registry::audit::AuditRecord>> {
        self.pick().read_audit(from, limit)
    }
}
