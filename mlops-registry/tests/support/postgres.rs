//! Shared helpers for the tests that need a PostgreSQL server.
//!
//! The server comes from `MLOPS_TEST_POSTGRES_URL` (`.ci/postgres.sh start` prints it). Without
//! it a test prints why it is skipped and passes, unless `MLOPS_REQUIRE_POSTGRES=1` (set by CI),
//! where a missing server fails the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};

use mlops_registry::store::PostgresStore;

/// The connection string, or `None` (after printing why) when the test should be skipped.
pub fn url() -> Option<String> {
    match std::env::var("MLOPS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("MLOPS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MLOPS_REQUIRE_POSTGRES=1 but MLOPS_TEST_POSTGRES_URL is not set \
                 (run `eval \"$(bash .ci/postgres.sh start)\"`)"
            );
            eprintln!(
                "skipped: MLOPS_TEST_POSTGRES_URL is not set \
                 (start a server with `eval \"$(bash .ci/postgres.sh start)\"`)"
            );
            None
        }
    }
}

static N: AtomicU64 = AtomicU64::new(0);

/// A schema name no other test (in any process of this run) uses.
pub fn fresh_schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store in `schema`.
pub fn store(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::builder(url.parse().unwrap())
        .schema(schema)
        .pool_size(16)
        .connect()
        .unwrap()
}

/// A raw client, for tests that inspect or damage the schema behind the store's back.
pub fn raw(url: &str) -> mlops_registry::store::postgres::postgres::Client {
    url.parse::<mlops_registry::store::postgres::postgres::Config>()
        .unwrap()
        .connect(mlops_registry::store::postgres::postgres::NoTls)
        .unwrap()
}
