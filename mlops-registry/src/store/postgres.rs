//! [`PostgresStore`] (feature `postgres`): one registry shared by many replicas, on a
//! PostgreSQL server.
//!
//! - The synchronous [`postgres`] client (pure Rust, no libpq) behind an [`r2d2`] pool. TLS is
//!   the host's connector ([`PostgresStoreBuilder::connect_with_tls`]); the default is none.
//! - Everything lives in one schema chosen by the host ([`PostgresStoreBuilder::schema`],
//!   default `mlops_registry`), so several registries can share a database.
//! - Schema migrations are numbered (the `registry_meta` table) and applied under a
//!   transaction-scoped advisory lock, so replicas starting together migrate once. A schema
//!   written by a newer version of this library is refused with
//!   [`RegistryError::SchemaTooNew`], one holding tables but no registry version (or a
//!   damaged record) with [`RegistryError::Corrupt`].
//! - Every write is one transaction. A commit locks the model's row (`SELECT … FOR UPDATE`),
//!   checks the revision, writes with `UPDATE … WHERE revision = $n` (no row: `Conflict`),
//!   appends its audit records after locking the single-row `audit_head` (so the chain has
//!   one global order across replicas, and the head moves in the same transaction), and sends
//!   `NOTIFY` for the change feed; all of it commits or none of it does. Version numbers are
//!   allocated under the model's row lock and a primary key on (model, number): never reused.
//! - Version cores and the audit log are append-only (triggers refuse `UPDATE`, `DELETE`
//!   and `TRUNCATE`).
//! - Aggregates are cached per process and validated against the stored revision inside each
//!   transaction, so replicas never read stale state through the cache.
//! - The change feed ([`ModelStore::subscribe`]) is `LISTEN` on a dedicated connection; a
//!   lost connection is re-established and reported as [`ChangeEvent::Lagged`].
//! - When the server is unreachable every call fails with [`RegistryError::Unavailable`]
//!   (after the pool's connection timeout) and succeeds again once it is back.
//!
//! # Async hosts
//!
//! The `postgres` client runs a small tokio runtime of its own per connection, and tokio
//! panics ("Cannot start a runtime from within a runtime") when such a call is made on a
//! thread that drives async tasks. Tokio offers no public way to tell such a thread from a
//! `spawn_blocking` thread (both carry a runtime handle), so whenever the calling thread has a
//! tokio context this store runs the call on a short-lived helper thread with none: it never
//! panics. Calling a synchronous store straight from async code still blocks that executor
//! thread, so call it through `tokio::task::spawn_blocking`:
//!
//! ```no_run
//! use std::sync::Arc;
//! use mlops_registry::store::{ModelStore, PostgresStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let store = Arc::new(
//!         tokio::task::spawn_blocking(|| {
//!             PostgresStore::connect("host=/run/postgresql user=registry dbname=models")
//!         })
//!         .await??,
//!     );
//!     let s = Arc::clone(&store);
//!     let champion = tokio::task::spawn_blocking(move || s.get_model(&"fraud".parse()?))
//!         .await??
//!         .alias(&"champion".parse()?);
//!     println!("champion: {champion:?}");
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! })
//! .map_err(|e| e.to_string())?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::DerefMut;
use std::sync::Arc;
use std::time::Duration;

use mlops_core::{ModelName, ModelRef, VersionNumber};
use parking_lot::Mutex;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::types::Type;
use postgres::{Client, GenericClient, NoTls, Socket};
use r2d2_postgres::PostgresConnectionManager;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::audit::{self, AuditDraft, AuditRecord, ChainHead};
use crate::error::{EntityKind, RegistryError, Result};
use crate::model::{
    AggregateParts, ModelAggregate, ModelVersion, RegisteredModel, Revision, VersionCore,
    VersionStatus,
};
use crate::store::feed::{Change, ChangeEvent, ChangeFeed};
use crate::store::search::{self, Source};
use crate::store::sql_codec::{from_json, to_i64, to_json, to_u64, version_number};
use crate::store::{
    Capabilities, Capability, CreateOutcome, ModelQuery, ModelStore, NewVersion, Page, PageToken,
    VersionCreated, VersionQuery, version_created_draft,
};

pub use postgres;

/// The newest schema version this code writes and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// The schema used when the host chooses none.
pub const DEFAULT_SCHEMA: &str = "mlops_registry";

/// The longest schema name (PostgreSQL identifiers hold 63 bytes; the feed's channel name
/// adds a suffix).
pub const MAX_SCHEMA_LEN: usize = 48;

const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE models (
        name TEXT PRIMARY KEY,
        revision BIGINT NOT NULL,
        record TEXT NOT NULL,
        aliases TEXT NOT NULL,
        protected TEXT NOT NULL,
        governed TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE versions (
        model TEXT NOT NULL REFERENCES models(name),
        number BIGINT NOT NULL,
        core TEXT NOT NULL,
        status TEXT NOT NULL,
        idempotency_key TEXT,
        PRIMARY KEY (model, number)
    );
    CREATE UNIQUE INDEX versions_idempotency ON versions(model, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$;
    CREATE TRIGGER versions_core_immutable BEFORE UPDATE OF model, number, core, idempotency_key
        ON versions FOR EACH ROW EXECUTE FUNCTION refuse('a version core is immutable');
    CREATE TRIGGER versions_never_deleted BEFORE DELETE ON versions
        FOR EACH ROW EXECUTE FUNCTION refuse('versions are never deleted');
    CREATE TRIGGER versions_never_truncated BEFORE TRUNCATE ON versions
        FOR EACH STATEMENT EXECUTE FUNCTION refuse('versions are never deleted');
    CREATE TABLE alias_history (
        model TEXT NOT NULL, idx BIGINT NOT NULL, event TEXT NOT NULL, PRIMARY KEY (model, idx)
    );
    CREATE TABLE state_history (
        model TEXT NOT NULL, idx BIGINT NOT NULL, event TEXT NOT NULL, PRIMARY KEY (model, idx)
    );
    CREATE TABLE audit (seq BIGINT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION refuse('the audit log is append-only');
    CREATE TRIGGER audit_never_truncated BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION refuse('the audit log is append-only');
    CREATE TABLE audit_head (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash)
        VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');",
];

fn db_err(e: postgres::Error) -> RegistryError {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    match e.code() {
        Some(c) if *c == SqlState::DATA_CORRUPTED || *c == SqlState::INDEX_CORRUPTED => {
            RegistryError::Corrupt { detail: message }
        }
        Some(c)
            if c.code().starts_with("08")
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS =>
        {
            RegistryError::Unavailable { message }
        }
        Some(_) => RegistryError::Storage { message },
        None => RegistryError::Unavailable { message },
    }
}

fn pool_err(e: &r2d2::Error) -> RegistryError {
    RegistryError::Unavailable {
        message: format!("no database connection: {e}"),
    }
}

/// Checks a schema name: 1 to [`MAX_SCHEMA_LEN`] characters of `[a-z0-9_]`, starting with a
/// letter or `_`, and not starting with `pg_`.
fn validate_schema(schema: &str) -> Result<()> {
    let ok_start = schema
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_chars = schema
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_start || !ok_chars || schema.len() > MAX_SCHEMA_LEN || schema.starts_with("pg_") {
        return Err(RegistryError::invalid(
            "postgres schema",
            schema,
            "must be 1 to 48 characters of `[a-z0-9_]`, start with a letter or `_`, not `pg_`",
        ));
    }
    Ok(())
}

/// The advisory lock key that serialises migrations of `schema`.
fn migration_lock_key(schema: &str) -> i64 {
    let d = Sha256::digest(format!("mlops-registry migrate {schema}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    i64::from_be_bytes(b)
}

/// Runs `f` where the synchronous client may block: on the calling thread when it has no
/// tokio context, otherwise on a helper thread without one (see the [module docs](self)).
fn off_runtime<R: Send>(f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("mlops-postgres-call".to_owned())
            .spawn_scoped(s, f)
            .map_err(|e| RegistryError::Storage {
                message: format!("cannot start a thread for a blocking call: {e}"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(RegistryError::Storage {
                    message: "a blocking database call panicked".to_owned(),
                })
            })
    })
}

/// Holds a value whose drop talks to the server (a client closes its connection, a pool its
/// clients), and drops it off any tokio runtime, where that would panic.
struct DropOffRuntime<T: Send>(Option<T>);

impl<T: Send> DropOffRuntime<T> {
    fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
    fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_mut()
    }
}

impl<T: Send> Drop for DropOffRuntime<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            // Dropping on the calling thread is the common case; a failed helper thread
            // leaves the value to be dropped here regardless.
            let _ = off_runtime(move || {
                drop(v);
                Ok(())
            });
        }
    }
}

type Conn = Box<dyn DerefMut<Target = Client> + Send>;

/// The connection source, with the TLS connector type erased.
trait Connector: Send + Sync {
    fn pooled(&self) -> Result<Conn>;
    fn dedicated(&self) -> Result<Client>;
}

struct Pooled<T>
where
    T: MakeTlsConnect<Socket> + Clone + 'static + Sync + Send,
    T::TlsConnect: Send,
    T::Stream: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    pool: DropOffRuntime<r2d2::Pool<PostgresConnectionManager<T>>>,
    config: postgres::Config,
    tls: T,
    search_path: String,
}

impl<T> Connector for Pooled<T>
where
    T: MakeTlsConnect<Socket> + Clone + 'static + Sync + Send,
    T::TlsConnect: Send,
    T::Stream: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    fn pooled(&self) -> Result<Conn> {
        let pool = self.pool.get().ok_or_else(|| RegistryError::Unavailable {
            message: "the store is shutting down".to_owned(),
        })?;
        pool.get()
            .map(|c| Box::new(c) as Conn)
            .map_err(|e| pool_err(&e))
    }

    fn dedicated(&self) -> Result<Client> {
        let mut c = self.config.connect(self.tls.clone()).map_err(db_err)?;
        c.batch_execute(&self.search_path).map_err(db_err)?;
        Ok(c)
    }
}

/// Sets the schema on every new pooled connection.
#[derive(Debug)]
struct SearchPath(String);

impl r2d2::CustomizeConnection<Client, postgres::Error> for SearchPath {
    fn on_acquire(&self, conn: &mut Client) -> std::result::Result<(), postgres::Error> {
        conn.batch_execute(&self.0)
    }
}

/// Builds a [`PostgresStore`]: the connection configuration up front, then the schema and the
/// pool's limits.
///
/// ```no_run
/// use std::time::Duration;
/// use mlops_registry::store::PostgresStore;
///
/// let store = PostgresStore::builder("host=db.internal user=registry dbname=models".parse()?)
///     .schema("fraud_team")
///     .pool_size(16)
///     .connection_timeout(Duration::from_secs(5))
///     .connect()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStoreBuilder {
    config: postgres::Config,
    schema: String,
    pool_size: u32,
    connection_timeout: Duration,
}

impl PostgresStoreBuilder {
    /// Uses `schema` (created if missing) instead of [`DEFAULT_SCHEMA`].
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The most pooled connections (default 8; the change feed uses one more per
    /// subscription).
    #[must_use]
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = n;
        self
    }

    /// How long a call waits for a pooled connection before failing with
    /// [`RegistryError::Unavailable`] (default 5 s).
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Connects without TLS (a Unix socket or a trusted network) and migrates the schema.
    ///
    /// # Errors
    /// As [`connect_with_tls`](Self::connect_with_tls).
    pub fn connect(self) -> Result<PostgresStore> {
        self.connect_with_tls(NoTls)
    }

    /// Connects through the host's TLS connector (for example `postgres-native-tls` or
    /// `postgres-openssl`) and migrates the schema.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad schema name or a pool size of 0;
    /// [`RegistryError::Unavailable`] when the server cannot be reached;
    /// [`RegistryError::SchemaTooNew`] for a schema written by a newer version;
    /// [`RegistryError::Corrupt`] for a schema holding other tables or a damaged version
    /// record; [`RegistryError::Storage`] for other database errors.
    pub fn connect_with_tls<T>(self, tls: T) -> Result<PostgresStore>
    where
        T: MakeTlsConnect<Socket> + Clone + 'static + Sync + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        validate_schema(&self.schema)?;
        if self.pool_size == 0 {
            return Err(RegistryError::invalid(
                "pool size",
                "0",
                "must be at least 1",
            ));
        }
        off_runtime(move || {
            let search_path = format!("SET search_path TO \"{}\"", self.schema);
            let manager = PostgresConnectionManager::new(self.config.clone(), tls.clone());
            let pool = r2d2::Pool::builder()
                .max_size(self.pool_size)
                .min_idle(Some(0))
                .test_on_check_out(false)
                .connection_timeout(self.connection_timeout)
                .connection_customizer(Box::new(SearchPath(search_path.clone())))
                .build_unchecked(manager);
            let connector = Pooled {
                pool: DropOffRuntime(Some(pool)),
                config: self.config,
                tls,
                search_path,
            };
            let store = PostgresStore {
                connector: Arc::new(connector),
                cache: Mutex::new(HashMap::new()),
                channel: format!("{}.changes", self.schema),
                schema: self.schema,
            };
            store.migrate()?;
            Ok(store)
        })
    }
}

#[derive(Debug)]
struct Cached {
    aggregate: Arc<ModelAggregate>,
    cores: Vec<Arc<VersionCore>>,
}

/// The multi-replica [`ModelStore`] on a PostgreSQL server (see the [module docs](self)).
pub struct PostgresStore {
    connector: Arc<dyn Connector>,
    cache: Mutex<HashMap<ModelName, Cached>>,
    schema: String,
    channel: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A builder for the server at `config` (parse one from a connection string:
    /// `"host=… user=… dbname=…".parse()?` or a `postgresql://` URL).
    #[must_use]
    pub fn builder(config: postgres::Config) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            config,
            schema: DEFAULT_SCHEMA.to_owned(),
            pool_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }

    /// Connects to the server named by a connection string (key=value pairs or a URL), in
    /// the [`DEFAULT_SCHEMA`], without TLS.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a connection string that does not parse; otherwise
    /// as [`PostgresStoreBuilder::connect_with_tls`].
    pub fn connect(connection: &str) -> Result<Self> {
        let config: postgres::Config = connection.parse().map_err(|e: postgres::Error| {
            RegistryError::invalid("postgres connection string", "(hidden)", e.to_string())
        })?;
        Self::builder(config).connect()
    }

    /// The schema holding this registry.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.connector.pooled()?;
        let key = migration_lock_key(&self.schema);
        let found = {
            let mut tx = conn.transaction().map_err(db_err)?;
            tx.query_typed("SELECT pg_advisory_xact_lock($1)", &[(&key, Type::INT8)])
                .map_err(db_err)?;
            let found = read_schema_version(&mut tx, &self.schema)?;
            if found == 0 {
                tx.batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{0}\";
                     CREATE TABLE \"{0}\".registry_meta (
                        id SMALLINT PRIMARY KEY CHECK (id = 1), schema_version BIGINT NOT NULL);
                     INSERT INTO \"{0}\".registry_meta VALUES (1, 0);",
                    self.schema
                ))
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            found
        };
        if found > SCHEMA_VERSION {
            return Err(RegistryError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // Apply migrations `found+1 ..= SCHEMA_VERSION`, each in its own transaction with the
        // version bump, under the advisory lock.
        let start = usize::try_from(found).unwrap_or(usize::MAX);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            let mut tx = conn.transaction().map_err(db_err)?;
            tx.query_typed("SELECT pg_advisory_xact_lock($1)", &[(&key, Type::INT8)])
                .map_err(db_err)?;
            // Another replica may have migrated while we waited for the lock.
            let now = read_schema_version(&mut tx, &self.schema)?;
            let target = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if now >= target {
                continue;
            }
            tx.batch_execute(sql).map_err(db_err)?;
            tx.query_typed(
                "UPDATE registry_meta SET schema_version = $1 WHERE id = 1",
                &[(&target, Type::INT8)],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            tracing::info!(schema = %self.schema, schema_version = target, "postgres registry schema migrated");
        }
        Ok(())
    }
}

/// The schema version recorded in `schema` (0 for a missing or empty schema).
fn read_schema_version(tx: &mut impl GenericClient, schema: &str) -> Result<i64> {
    let tables: i64 = tx
        .query_typed_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[(&schema, Type::TEXT)],
        )
        .map_err(db_err)?
        .try_get(0)
        .map_err(db_err)?;
    let has_meta: bool = tx
        .query_typed_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'registry_meta')",
            &[(&schema, Type::TEXT)],
        )
        .map_err(db_err)?
        .try_get(0)
        .map_err(db_err)?;
    if !has_meta {
        if tables > 0 {
            return Err(RegistryError::Corrupt {
                detail: format!("schema `{schema}` has tables but no registry schema version"),
            });
        }
        return Ok(0);
    }
    let rows = tx
        .query(
            &format!("SELECT schema_version FROM \"{schema}\".registry_meta"),
            &[],
        )
        .map_err(db_err)?;
    match rows.as_slice() {
        [row] => {
            let v: i64 = row.try_get(0).map_err(db_err)?;
            if v < 0 {
                return Err(RegistryError::Corrupt {
                    detail: format!("negative schema version {v}"),
                });
            }
            Ok(v)
        }
        _ => Err(RegistryError::Corrupt {
            detail: format!("schema `{schema}` has {} schema version rows", rows.len()),
        }),
    }
}

fn read_revision(
    tx: &mut impl GenericClient,
    model: &ModelName,
    lock: bool,
) -> Result<Option<Revision>> {
    let sql = if lock {
        "SELECT revision FROM models WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT revision FROM models WHERE name = $1"
    };
    let row = tx
        .query_typed_opt(sql, &[(&model.as_str(), Type::TEXT)])
        .map_err(db_err)?;
    row.map(|r| {
        let rev: i64 = r.try_get(0).map_err(db_err)?;
        Ok(Revision::from_u64(to_u64("revision", rev)?))
    })
    .transpose()
}

fn load_aggregate(
    tx: &mut impl GenericClient,
    model: &ModelName,
    revision: Revision,
) -> Result<ModelAggregate> {
    let name = model.as_str();
    let row = tx
        .query_typed_one(
            "SELECT record, aliases, protected, governed FROM models WHERE name = $1",
            &[(&name, Type::TEXT)],
        )
        .map_err(db_err)?;
    let (record, aliases, protected, governed): (String, String, String, String) = (
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
        row.try_get(2).map_err(db_err)?,
        row.try_get(3).map_err(db_err)?,
    );
    let governed = crate::store::sql_codec::from_column(&governed)?;
    let mut versions = BTreeMap::new();
    for row in tx
        .query_typed(
            "SELECT number, status FROM versions WHERE model = $1 ORDER BY number",
            &[(&name, Type::TEXT)],
        )
        .map_err(db_err)?
    {
        let n: i64 = row.try_get(0).map_err(db_err)?;
        let status: String = row.try_get(1).map_err(db_err)?;
        versions.insert(
            version_number(n)?,
            from_json::<VersionStatus>("version status", &status)?,
        );
    }
    let mut history = |table: &str| -> Result<Vec<String>> {
        tx.query_typed(
            &format!("SELECT event FROM {table} WHERE model = $1 ORDER BY idx"),
            &[(&name, Type::TEXT)],
        )
        .map_err(db_err)?
        .iter()
        .map(|r| r.try_get::<_, String>(0).map_err(db_err))
        .collect()
    };
    let alias_history = history("alias_history")?
        .iter()
        .map(|s| from_json("alias history", s))
        .collect::<Result<_>>()?;
    let state_history = history("state_history")?
        .iter()
        .map(|s| from_json("state history", s))
        .collect::<Result<_>>()?;
    ModelAggregate::from_parts(AggregateParts {
        model: from_json::<RegisteredModel>("model", &record)?,
        revision,
        versions,
        aliases: from_json("aliases", &aliases)?,
        protected_aliases: from_json("protected aliases", &protected)?,
        protected_states: governed.protected_states,
        governance: governed.records,
        alias_history,
        state_history,
    })
}

fn load_cores_after(
    tx: &mut impl GenericClient,
    model: &ModelName,
    after: usize,
) -> Result<Vec<Arc<VersionCore>>> {
    let after_i = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = tx
        .query_typed(
            "SELECT number, core FROM versions WHERE model = $1 AND number > $2 ORDER BY number",
            &[(&model.as_str(), Type::TEXT), (&after_i, Type::INT8)],
        )
        .map_err(db_err)?;
    let mut out = Vec::new();
    let mut expected = after_i;
    for row in rows {
        let n: i64 = row.try_get(0).map_err(db_err)?;
        let core: String = row.try_get(1).map_err(db_err)?;
        expected += 1;
        if n != expected {
            return Err(RegistryError::Corrupt {
                detail: format!("model `{model}` skips from version {} to {n}", expected - 1),
            });
        }
        out.push(Arc::new(from_json::<VersionCore>("version core", &core)?));
    }
    Ok(out)
}

/// Locks the chain head and returns the last record (`None` for an empty log), checking
/// that the head names it.
fn last_audit(tx: &mut impl GenericClient) -> Result<Option<AuditRecord>> {
    let head = tx
        .query_typed_one(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(|e| match e.code() {
            None => db_err(e),
            Some(_) => RegistryError::Corrupt {
                detail: format!("the audit head row is missing or unreadable: {e}"),
            },
        })?;
    let seq: i64 = head.try_get(0).map_err(db_err)?;
    let hash: String = head.try_get(1).map_err(db_err)?;
    if seq == 0 {
        return Ok(None);
    }
    let rec: Option<String> = tx
        .query_typed_opt(
            "SELECT record FROM audit WHERE seq = $1",
            &[(&seq, Type::INT8)],
        )
        .map_err(db_err)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(db_err)?;
    let rec: AuditRecord = match rec {
        Some(s) => from_json("audit", &s)?,
        None => {
            return Err(RegistryError::Corrupt {
                detail: format!("the audit head names record {seq}, which is missing"),
            });
        }
    };
    if rec.hash.to_string() != hash {
        return Err(RegistryError::Corrupt {
            detail: format!("the audit head hash differs from record {seq}'s"),
        });
    }
    Ok(Some(rec))
}

fn append_audit_tx(tx: &mut impl GenericClient, drafts: Vec<AuditDraft>) -> Result<Vec<u64>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let prev = last_audit(tx)?;
    let sealed = audit::seal_all(prev.as_ref(), drafts)?;
    for r in &sealed {
        let seq = to_i64(r.seq)?;
        let json = to_json(r)?;
        tx.query_typed(
            "INSERT INTO audit (seq, record) VALUES ($1, $2)",
            &[(&seq, Type::INT8), (&json, Type::TEXT)],
        )
        .map_err(db_err)?;
    }
    if let Some(last) = sealed.last() {
        let seq = to_i64(last.seq)?;
        let hash = last.hash.to_string();
        tx.query_typed(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[(&seq, Type::INT8), (&hash, Type::TEXT)],
        )
        .map_err(db_err)?;
    }
    Ok(sealed.iter().map(|r| r.seq).collect())
}

/// Queues the change-feed notification; PostgreSQL delivers it when (and only if) the
/// transaction commits.
fn notify(
    tx: &mut impl GenericClient,
    channel: &str,
    model: &ModelName,
    rev: Revision,
) -> Result<()> {
    let payload = format!("{} {model}", rev.as_u64());
    tx.query_typed(
        "SELECT pg_notify($1, $2)",
        &[(&channel, Type::TEXT), (&payload, Type::TEXT)],
    )
    .map_err(db_err)?;
    Ok(())
}

impl PostgresStore {
    /// The aggregate at `revision`, from the cache when it is current.
    fn aggregate(
        &self,
        tx: &mut impl GenericClient,
        model: &ModelName,
        revision: Revision,
    ) -> Result<Arc<ModelAggregate>> {
        if let Some(c) = self.cache.lock().get(model)
            && c.aggregate.revision() == revision
        {
            return Ok(Arc::clone(&c.aggregate));
        }
        let agg = Arc::new(load_aggregate(tx, model, revision)?);
        let mut cache = self.cache.lock();
        let cores = cache.remove(model).map(|c| c.cores).unwrap_or_default();
        cache.insert(
            model.clone(),
            Cached {
                aggregate: Arc::clone(&agg),
                cores,
            },
        );
        Ok(agg)
    }

    /// Brings the cached cores of `model` up to date (cores never change, so only new ones
    /// are read).
    fn refresh_cores(&self, tx: &mut impl GenericClient, model: &ModelName) -> Result<()> {
        let have = self.cache.lock().get(model).map_or(0, |c| c.cores.len());
        let new = load_cores_after(tx, model, have)?;
        if let Some(c) = self.cache.lock().get_mut(model)
            && c.cores.len() == have
        {
            c.cores.extend(new);
        }
        Ok(())
    }

    fn remember(&self, aggregate: ModelAggregate) {
        let mut cache = self.cache.lock();
        match cache.get_mut(aggregate.name()) {
            Some(c) => c.aggregate = Arc::new(aggregate),
            None => {
                cache.insert(
                    aggregate.name().clone(),
                    Cached {
                        aggregate: Arc::new(aggregate),
                        cores: Vec::new(),
                    },
                );
            }
        }
    }
}

impl ModelStore for PostgresStore {
    fn name(&self) -> String {
        format!("postgres:{}", self.schema)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::required()
            .with(Capability::Durable)
            .with(Capability::ChangeFeed)
    }

    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
        aggregate.check_new()?;
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn.transaction().map_err(db_err)?;
            let name = aggregate.name().clone();
            let mut aggregate = aggregate;
            aggregate.set_revision(Revision::initial());
            let parts = aggregate.clone().into_parts();
            let rev = to_i64(Revision::initial().as_u64())?;
            let (record, aliases, protected, governed) = (
                to_json(&parts.model)?,
                to_json(&parts.aliases)?,
                to_json(&parts.protected_aliases)?,
                crate::store::sql_codec::to_column(&aggregate)?,
            );
            let inserted = tx
                .query_typed(
                    "INSERT INTO models (name, revision, record, aliases, protected, governed)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING 1",
                    &[
                        (&name.as_str(), Type::TEXT),
                        (&rev, Type::INT8),
                        (&record, Type::TEXT),
                        (&aliases, Type::TEXT),
                        (&protected, Type::TEXT),
                        (&governed, Type::TEXT),
                    ],
                )
                .map_err(db_err)?;
            if inserted.is_empty() {
                return Err(RegistryError::AlreadyExists {
                    kind: EntityKind::Model,
                    id: name.to_string(),
                });
            }
            append_history(&mut tx, &name, "alias_history", 0, &parts.alias_history)?;
            append_history(&mut tx, &name, "state_history", 0, &parts.state_history)?;
            append_audit_tx(&mut tx, audit)?;
            notify(&mut tx, &self.channel, &name, Revision::initial())?;
            tx.commit().map_err(db_err)?;
            self.remember(aggregate);
            Ok(Revision::initial())
        })
    }

    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn.transaction().map_err(db_err)?;
            // Lock the model's row first, so the revision read below cannot go stale.
            let actual = read_revision(&mut tx, model, true)?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            if actual != expected {
                return Err(RegistryError::Conflict {
                    model: model.clone(),
                    expected,
                    actual,
                });
            }
            let old = self.aggregate(&mut tx, model, actual)?;
            new.check_successor_of(&old)?;
            let revision = actual.next();
            let mut new = new;
            new.set_revision(revision);
            write_diff(&mut tx, &old, &new)?;
            append_audit_tx(&mut tx, audit)?;
            notify(&mut tx, &self.channel, model, revision)?;
            tx.commit().map_err(db_err)?;
            self.remember(new);
            Ok(revision)
        })
    }

    fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
        request.core.validate()?;
        crate::model::validate_description(&request.annotations.description)?;
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn.transaction().map_err(db_err)?;
            let model = request.model.clone();
            let name = model.as_str();
            // The row lock serialises creators of one model across every replica.
            let revision = read_revision(&mut tx, &model, true)?
                .ok_or_else(|| RegistryError::model_not_found(&model))?;
            if let Some(key) = &request.idempotency_key {
                let row = tx
                    .query_typed_opt(
                        "SELECT number, core, status FROM versions WHERE model = $1 AND idempotency_key = $2",
                        &[(&name, Type::TEXT), (&key.as_str(), Type::TEXT)],
                    )
                    .map_err(db_err)?;
                if let Some(row) = row {
                    let n = version_number(row.try_get(0).map_err(db_err)?)?;
                    let core: VersionCore = from_json(
                        "version core",
                        &row.try_get::<_, String>(1).map_err(db_err)?,
                    )?;
                    if !core.same_content(&request.core) {
                        return Err(RegistryError::IdempotencyMismatch {
                            model,
                            key: key.to_string(),
                            version: n,
                        });
                    }
                    let status: VersionStatus = from_json(
                        "version status",
                        &row.try_get::<_, String>(2).map_err(db_err)?,
                    )?;
                    return Ok(VersionCreated {
                        version: ModelVersion::new(model, n, core, status),
                        revision,
                        outcome: CreateOutcome::Replayed,
                    });
                }
            }
            let governed: String = tx
                .query_typed_one(
                    "SELECT governed FROM models WHERE name = $1",
                    &[(&name, Type::TEXT)],
                )
                .map_err(db_err)?
                .try_get(0)
                .map_err(db_err)?;
            let governed = crate::store::sql_codec::from_column(&governed)?;
            if governed.protected_states.contains(&request.initial_state) {
                return Err(RegistryError::Protected {
                    model: model.clone(),
                    change: crate::governed::ProtectedChange::InitialState {
                        state: request.initial_state,
                    },
                });
            }
            let max: Option<i64> = tx
                .query_typed_one(
                    "SELECT max(number) FROM versions WHERE model = $1",
                    &[(&name, Type::TEXT)],
                )
                .map_err(db_err)?
                .try_get(0)
                .map_err(db_err)?;
            let number = match max {
                None => VersionNumber::FIRST,
                Some(m) => version_number(m)?.next().ok_or(RegistryError::Exhausted {
                    what: "version numbers",
                })?,
            };
            let status = VersionStatus {
                state: request.initial_state,
                annotations: request.annotations,
                humility_rules: request.humility_rules,
            };
            let version = ModelVersion::new(model.clone(), number, request.core, status);
            let n = to_i64(number.get())?;
            let (core, status) = (to_json(version.core())?, to_json(version.status())?);
            let key = request
                .idempotency_key
                .as_ref()
                .map(|k| k.as_str().to_owned());
            tx.query_typed(
                "INSERT INTO versions (model, number, core, status, idempotency_key) VALUES ($1, $2, $3, $4, $5)",
                &[
                    (&name, Type::TEXT),
                    (&n, Type::INT8),
                    (&core, Type::TEXT),
                    (&status, Type::TEXT),
                    (&key, Type::TEXT),
                ],
            )
            .map_err(db_err)?;
            let new_revision = revision.next();
            let (new_rev, old_rev) = (to_i64(new_revision.as_u64())?, to_i64(revision.as_u64())?);
            let updated = tx
                .query_typed(
                    "UPDATE models SET revision = $2 WHERE name = $1 AND revision = $3 RETURNING 1",
                    &[
                        (&name, Type::TEXT),
                        (&new_rev, Type::INT8),
                        (&old_rev, Type::INT8),
                    ],
                )
                .map_err(db_err)?;
            if updated.len() != 1 {
                return Err(RegistryError::Storage {
                    message: format!("model `{model}` changed under its row lock"),
                });
            }
            let mut drafts = Vec::with_capacity(1 + request.audit.len());
            drafts.push(version_created_draft(&version));
            drafts.extend(request.audit);
            append_audit_tx(&mut tx, drafts)?;
            notify(&mut tx, &self.channel, &model, new_revision)?;
            tx.commit().map_err(db_err)?;
            // Keep the cache current when it was current before; otherwise drop it.
            let mut cache = self.cache.lock();
            let mut keep = false;
            if let Some(c) = cache.get_mut(&model)
                && c.aggregate.revision() == revision
            {
                let agg = Arc::make_mut(&mut c.aggregate);
                if agg.insert_version(number, version.state().clone()).is_ok()
                    && agg
                        .set_humility_rules(number, version.status().humility_rules.clone())
                        .is_ok()
                    && let Ok(a) = agg.annotations_mut(number)
                {
                    *a = version.annotations().clone();
                    agg.set_revision(new_revision);
                    if c.cores.len() as u64 + 1 == number.get() {
                        c.cores.push(Arc::new(version.core().clone()));
                    }
                    keep = true;
                }
            }
            if !keep {
                cache.remove(&model);
            }
            Ok(VersionCreated {
                version,
                revision: new_revision,
                outcome: CreateOutcome::Created,
            })
        })
    }

    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn.transaction().map_err(db_err)?;
            let seqs = append_audit_tx(&mut tx, audit)?;
            tx.commit().map_err(db_err)?;
            Ok(seqs)
        })
    }

    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            // One repeatable-read transaction: the revision and the aggregate come from the
            // same snapshot.
            let mut tx = conn
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db_err)?;
            let revision = read_revision(&mut tx, model, false)?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            let agg = self.aggregate(&mut tx, model, revision)?;
            tx.commit().map_err(db_err)?;
            Ok(ModelAggregate::clone(&agg))
        })
    }

    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let n = version.version();
            let ni = to_i64(n.get())?;
            let row = conn
                .query_typed_opt(
                    "SELECT core, status FROM versions WHERE model = $1 AND number = $2",
                    &[(&version.name().as_str(), Type::TEXT), (&ni, Type::INT8)],
                )
                .map_err(db_err)?;
            match row {
                Some(row) => Ok(ModelVersion::new(
                    version.name().clone(),
                    n,
                    from_json(
                        "version core",
                        &row.try_get::<_, String>(0).map_err(db_err)?,
                    )?,
                    from_json(
                        "version status",
                        &row.try_get::<_, String>(1).map_err(db_err)?,
                    )?,
                )),
                None => {
                    if read_revision(&mut **conn, version.name(), false)?.is_none() {
                        Err(RegistryError::model_not_found(version.name()))
                    } else {
                        Err(RegistryError::version_not_found(version.name(), n))
                    }
                }
            }
        })
    }

    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
        let after = query
            .page_token
            .as_ref()
            .map(PageToken::decode)
            .transpose()?;
        let after_name = after.map(|(m, _)| m.to_string()).unwrap_or_default();
        let page_size = query.effective_page_size();
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn.transaction().map_err(db_err)?;
            // A cursor reads the models in batches, so a filter that skips most of them does
            // not load them all at once.
            let portal = tx
                .bind(
                    "SELECT record FROM models WHERE name > $1 ORDER BY name COLLATE \"C\"",
                    &[&after_name],
                )
                .map_err(db_err)?;
            let batch = i32::try_from(page_size + 1).unwrap_or(i32::MAX);
            let mut items: Vec<RegisteredModel> = Vec::new();
            loop {
                let rows = tx.query_portal(&portal, batch).map_err(db_err)?;
                if rows.is_empty() {
                    return Ok(Page { items, next: None });
                }
                for row in rows {
                    let m: RegisteredModel =
                        from_json("model", &row.try_get::<_, String>(0).map_err(db_err)?)?;
                    if !query.matches(&m) {
                        continue;
                    }
                    if items.len() >= page_size {
                        let next = items.last().map(|l| PageToken::after(l.name(), None));
                        return Ok(Page { items, next });
                    }
                    items.push(m);
                }
            }
        })
    }

    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let mut tx = conn
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db_err)?;
            let mut names = Vec::new();
            for row in tx
                .query_typed(
                    "SELECT name, revision FROM models ORDER BY name COLLATE \"C\"",
                    &[],
                )
                .map_err(db_err)?
            {
                let name: String = row.try_get(0).map_err(db_err)?;
                let rev: i64 = row.try_get(1).map_err(db_err)?;
                let name = ModelName::new(name).map_err(|e| RegistryError::Corrupt {
                    detail: format!("bad model name: {e}"),
                })?;
                names.push((name, Revision::from_u64(to_u64("revision", rev)?)));
            }
            // Descendant filters follow parent links across models, so they need every model.
            let needs_all = query
                .filters
                .iter()
                .any(|f| matches!(f, crate::store::VersionFilter::DescendantOf(_)));
            names.retain(|(n, _)| needs_all || search::model_may_match(query, n));
            let mut held = Vec::with_capacity(names.len());
            for (name, rev) in &names {
                let agg = self.aggregate(&mut tx, name, *rev)?;
                self.refresh_cores(&mut tx, name)?;
                let cores = self
                    .cache
                    .lock()
                    .get(name)
                    .map(|c| c.cores.clone())
                    .unwrap_or_default();
                held.push((agg, cores));
            }
            tx.commit().map_err(db_err)?;
            let sources: Vec<Source<'_>> = held
                .iter()
                .map(|(aggregate, cores)| Source { aggregate, cores })
                .collect();
            search::run(&sources, query)
        })
    }

    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            // By position: the key column, never the seq inside a record; 0 reads as 1.
            let from = i64::try_from(from.max(1)).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            conn.query_typed(
                "SELECT record FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
                &[(&from, Type::INT8), (&limit, Type::INT8)],
            )
            .map_err(db_err)?
            .iter()
            .map(|r| from_json("audit", &r.try_get::<_, String>(0).map_err(db_err)?))
            .collect()
        })
    }

    fn audit_head(&self) -> Result<Option<ChainHead>> {
        off_runtime(move || {
            let mut conn = self.connector.pooled()?;
            let row = conn
                .query_typed_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
                .map_err(|e| match e.code() {
                    None => db_err(e),
                    Some(_) => RegistryError::Corrupt {
                        detail: format!("the audit head row is missing or unreadable: {e}"),
                    },
                })?;
            let seq: i64 = row.try_get(0).map_err(db_err)?;
            let hash: String = row.try_get(1).map_err(db_err)?;
            if seq == 0 {
                return Ok(None);
            }
            Ok(Some(ChainHead {
                seq: to_u64("audit head", seq)?,
                hash: hash.parse().map_err(|e| RegistryError::Corrupt {
                    detail: format!("bad audit head hash: {e}"),
                })?,
            }))
        })
    }

    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        let mut feed = PgFeed {
            connector: Arc::clone(&self.connector),
            channel: self.channel.clone(),
            client: DropOffRuntime(None),
        };
        off_runtime(|| feed.listen())?;
        Ok(Box::new(feed))
    }
}

/// A `LISTEN` subscription on a dedicated connection (not from the pool).
struct PgFeed {
    connector: Arc<dyn Connector>,
    channel: String,
    client: DropOffRuntime<Client>,
}

impl PgFeed {
    fn listen(&mut self) -> Result<()> {
        let mut client = self.connector.dedicated()?;
        client
            .batch_execute(&format!("LISTEN \"{}\"", self.channel))
            .map_err(db_err)?;
        self.client = DropOffRuntime(Some(client));
        Ok(())
    }

    fn next_on_thread(&mut self, timeout: Duration) -> Result<Option<ChangeEvent>> {
        let Some(client) = self.client.get_mut() else {
            // The connection was lost: notifications may have been missed meanwhile.
            self.listen()?;
            return Ok(Some(ChangeEvent::Lagged));
        };
        let got = client.notifications().timeout_iter(timeout).next();
        match got.transpose() {
            Some(Ok(n)) => Ok(Some(parse_notification(n.payload()))),
            Some(Err(e)) => {
                self.client = DropOffRuntime(None);
                Err(db_err(e))
            }
            None if client.is_closed() => {
                self.client = DropOffRuntime(None);
                Err(RegistryError::Unavailable {
                    message: "the change feed connection closed".to_owned(),
                })
            }
            None => Ok(None),
        }
    }
}

/// `"<revision> <model>"`; anything else (written by a foreign client) makes the subscriber
/// resynchronise.
fn parse_notification(payload: &str) -> ChangeEvent {
    let parsed = payload.split_once(' ').and_then(|(rev, model)| {
        Some(Change {
            model: ModelName::new(model).ok()?,
            revision: Revision::from_u64(rev.parse().ok()?),
        })
    });
    parsed.map_or(ChangeEvent::Lagged, ChangeEvent::Changed)
}

impl ChangeFeed for PgFeed {
    fn next(&mut self, timeout: Duration) -> Result<Option<ChangeEvent>> {
        off_runtime(|| self.next_on_thread(timeout))
    }
}

fn append_history<T: Serialize>(
    tx: &mut impl GenericClient,
    model: &ModelName,
    table: &str,
    from: usize,
    events: &[T],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let sql = format!("INSERT INTO {table} (model, idx, event) VALUES ($1, $2, $3)");
    for (i, e) in events.iter().enumerate() {
        let idx = i64::try_from(from + i).unwrap_or(i64::MAX);
        let json = to_json(e)?;
        tx.query_typed(
            &sql,
            &[
                (&model.as_str(), Type::TEXT),
                (&idx, Type::INT8),
                (&json, Type::TEXT),
            ],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

/// Writes what changed between `old` and `new` (a valid successor: same versions, histories
/// that only grew), as a compare-and-swap on the model's revision.
fn write_diff(
    tx: &mut impl GenericClient,
    old: &ModelAggregate,
    new: &ModelAggregate,
) -> Result<()> {
    let name = new.name();
    let (rev, old_rev) = (
        to_i64(new.revision().as_u64())?,
        to_i64(old.revision().as_u64())?,
    );
    let (record, aliases, protected, governed) = (
        to_json(new.model())?,
        to_json(new.aliases())?,
        to_json(new.protected_aliases())?,
        crate::store::sql_codec::to_column(new)?,
    );
    let updated = tx
        .query_typed(
            "UPDATE models SET revision = $2, record = $3, aliases = $4, protected = $5,
             governed = $7 WHERE name = $1 AND revision = $6 RETURNING 1",
            &[
                (&name.as_str(), Type::TEXT),
                (&rev, Type::INT8),
                (&record, Type::TEXT),
                (&aliases, Type::TEXT),
                (&protected, Type::TEXT),
                (&old_rev, Type::INT8),
                (&governed, Type::TEXT),
            ],
        )
        .map_err(db_err)?;
    if updated.is_empty() {
        let actual =
            read_revision(tx, name, false)?.ok_or_else(|| RegistryError::model_not_found(name))?;
        return Err(RegistryError::Conflict {
            model: name.clone(),
            expected: old.revision(),
            actual,
        });
    }
    for ((n, new_status), old_status) in new.versions().iter().zip(old.versions().values()) {
        if new_status != old_status {
            let (ni, status) = (to_i64(n.get())?, to_json(new_status)?);
            tx.query_typed(
                "UPDATE versions SET status = $3 WHERE model = $1 AND number = $2",
                &[
                    (&name.as_str(), Type::TEXT),
                    (&ni, Type::INT8),
                    (&status, Type::TEXT),
                ],
            )
            .map_err(db_err)?;
        }
    }
    let old_a = old.alias_history().len();
    append_history(
        tx,
        name,
        "alias_history",
        old_a,
        new.alias_history().get(old_a..).unwrap_or_default(),
    )?;
    let old_s = old.state_history().len();
    append_history(
        tx,
        name,
        "state_history",
        old_s,
        new.state_history().get(old_s..).unwrap_or_default(),
    )?;
    Ok(())
}
