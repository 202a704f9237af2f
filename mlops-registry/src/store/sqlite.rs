//! [`SqliteStore`] (feature `sqlite`): the durable embedded store, over bundled SQLite.
//!
//! - WAL journal; every write is one `BEGIN IMMEDIATE` transaction holding the state change and
//!   its audit records, so a crash leaves either all of it or none of it.
//! - [`Synchronous::Full`] (the default) syncs every commit to disk: an acknowledged commit
//!   survives a process kill and a power loss. [`Synchronous::Normal`] survives a process kill
//!   but may lose the last commits on power loss, for several times the throughput.
//! - Schema migrations are numbered (`PRAGMA user_version`); a file from a newer version of
//!   this library is refused with [`RegistryError::SchemaTooNew`], a file that is not a database
//!   or is damaged with [`RegistryError::Corrupt`] — never a panic or a silent reset.
//! - The version core column cannot be updated or deleted, audit records cannot be updated or
//!   deleted, and the audit head only moves forward (triggers enforce it; they stop mistakes and
//!   ordinary SQL clients, not someone who drops them, which verification catches).
//! - The audit head (schema version 3: table `audit_head`, one row) is written in the same
//!   transaction as every audit insert; an older file gets it from its last record when it
//!   is migrated. Audit records are keyed by their position (`audit.seq`, the append counter).
//! - Aggregates and version cores are cached in memory, validated against the stored revision
//!   inside each transaction, so other processes may share the file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mlops_core::{ModelName, ModelRef, VersionNumber};
use parking_lot::Mutex;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::audit::{self, AuditDraft, AuditRecord, ChainHead};
use crate::error::{EntityKind, RegistryError, Result};
use crate::model::{
    AggregateParts, ModelAggregate, ModelVersion, RegisteredModel, Revision, VersionCore,
    VersionStatus,
};
use crate::store::search::{self, Source};
use crate::store::sql_codec::{from_json, to_i64, to_json, to_u64, version_number};
use crate::store::{
    Capabilities, Capability, CreateOutcome, ModelQuery, ModelStore, NewVersion, Page, PageToken,
    VersionCreated, VersionQuery, version_created_draft,
};

/// The newest schema version this code writes and understands.
pub const SCHEMA_VERSION: i64 = 3;

const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE models (
        name TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        record TEXT NOT NULL,
        aliases TEXT NOT NULL,
        protected TEXT NOT NULL
    ) STRICT;
    CREATE TABLE versions (
        model TEXT NOT NULL REFERENCES models(name),
        number INTEGER NOT NULL,
        core TEXT NOT NULL,
        status TEXT NOT NULL,
        idempotency_key TEXT,
        PRIMARY KEY (model, number)
    ) STRICT;
    CREATE UNIQUE INDEX versions_idempotency ON versions(model, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TRIGGER versions_core_immutable BEFORE UPDATE OF model, number, core, idempotency_key ON versions
        BEGIN SELECT RAISE(ABORT, 'a version core is immutable'); END;
    CREATE TRIGGER versions_never_deleted BEFORE DELETE ON versions
        BEGIN SELECT RAISE(ABORT, 'versions are never deleted'); END;
    CREATE TABLE alias_history (
        model TEXT NOT NULL, idx INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (model, idx)
    ) STRICT;
    CREATE TABLE state_history (
        model TEXT NOT NULL, idx INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (model, idx)
    ) STRICT;
    CREATE TABLE audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL) STRICT;
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 2: what only governance changes: protected states and approval requests (JSON of
    // `GovernedPart`; `{}` reads as the baseline protection and no requests).
    "ALTER TABLE models ADD COLUMN governed TEXT NOT NULL DEFAULT '{}';",
    // 3: the audit chain head, moved with every append; filled from the last record.
    "CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    ) STRICT;
    INSERT INTO audit_head (id, seq, hash)
        SELECT 1, seq, COALESCE(json_extract(record, '$.hash'), '') FROM audit
        ORDER BY seq DESC LIMIT 1;
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.seq <= OLD.seq OR NEW.id != OLD.id
        BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
    CREATE TRIGGER audit_head_never_deleted BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'the audit head is never deleted'); END;",
];

/// How hard SQLite syncs each commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// Sync every commit (`PRAGMA synchronous = FULL`): survives process kill and power loss.
    #[default]
    Full,
    /// Sync at WAL checkpoints (`PRAGMA synchronous = NORMAL`): survives process kill; the
    /// latest commits may be lost on power loss.
    Normal,
}

fn db_err(e: rusqlite::Error) -> RegistryError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => RegistryError::Corrupt {
            detail: e.to_string(),
        },
        _ => RegistryError::Storage {
            message: e.to_string(),
        },
    }
}

#[derive(Debug)]
struct Cached {
    aggregate: Arc<ModelAggregate>,
    cores: Vec<Arc<VersionCore>>,
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    cache: HashMap<ModelName, Cached>,
}

/// The durable embedded [`ModelStore`] over one SQLite file (see the [module docs](self)).
///
/// ```
/// use mlops_registry::store::{Capability, ModelStore, SqliteStore};
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("registry.db"))?;
/// assert!(store.capabilities().contains(Capability::Durable));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    inner: Mutex<Inner>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, syncing every commit.
    ///
    /// # Errors
    /// [`RegistryError::Corrupt`] for a file that is not a registry database or is damaged;
    /// [`RegistryError::SchemaTooNew`] for a file written by a newer version;
    /// [`RegistryError::Storage`] for I/O errors.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, Synchronous::Full)
    }

    /// As [`SqliteStore::open`], choosing the sync mode.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_with(path: impl AsRef<Path>, sync: Synchronous) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(db_err)?;
        let store = Self::init(conn, sync, Some(path))?;
        Ok(store)
    }

    /// A private in-memory database (not durable; for tests).
    ///
    /// # Errors
    /// [`RegistryError::Storage`] if SQLite cannot start.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(db_err)?;
        Self::init(conn, Synchronous::Full, None)
    }

    fn init(mut conn: Connection, sync: Synchronous, path: Option<PathBuf>) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        // Reading the schema version is the first access to the file: a non-database fails here.
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)?;
        if found > SCHEMA_VERSION {
            return Err(RegistryError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < 0 {
            return Err(RegistryError::Corrupt {
                detail: format!("negative schema version {found}"),
            });
        }
        if path.is_some() {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(db_err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(RegistryError::Storage {
                    message: format!("cannot enable WAL journal mode (got `{mode}`)"),
                });
            }
        }
        let sync_pragma = match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync_pragma)
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        if found == 0 {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(db_err)?;
            if tables > 0 {
                return Err(RegistryError::Corrupt {
                    detail: "the database has tables but no registry schema version".to_owned(),
                });
            }
        }
        // Apply migrations `found+1 ..= SCHEMA_VERSION`, each in its own transaction with the
        // version bump.
        let start = usize::try_from(found).unwrap_or(usize::MAX);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Exclusive)
                .map_err(db_err)?;
            // Another process may have migrated while we waited for the lock.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(db_err)?;
            let target = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if now >= target {
                continue;
            }
            tx.execute_batch(sql).map_err(db_err)?;
            tx.pragma_update(None, "user_version", target)
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            tracing::info!(schema_version = target, "sqlite registry schema migrated");
        }
        Ok(Self {
            inner: Mutex::new(Inner {
                conn,
                cache: HashMap::new(),
            }),
            path,
        })
    }
}

fn read_revision(tx: &Connection, model: &ModelName) -> Result<Option<Revision>> {
    let rev: Option<i64> = tx
        .query_row(
            "SELECT revision FROM models WHERE name = ?1",
            params![model.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    rev.map(|r| Ok(Revision::from_u64(to_u64("revision", r)?)))
        .transpose()
}

fn load_aggregate(
    conn: &Connection,
    model: &ModelName,
    revision: Revision,
) -> Result<ModelAggregate> {
    let (record, aliases, protected, governed): (String, String, String, String) = conn
        .query_row(
            "SELECT record, aliases, protected, governed FROM models WHERE name = ?1",
            params![model.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .map_err(db_err)?;
    let governed = crate::store::sql_codec::from_column(&governed)?;
    let mut versions = BTreeMap::new();
    let mut stmt = conn
        .prepare_cached("SELECT number, status FROM versions WHERE model = ?1 ORDER BY number")
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![model.as_str()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db_err)?;
    for row in rows {
        let (n, status) = row.map_err(db_err)?;
        versions.insert(
            version_number(n)?,
            from_json::<VersionStatus>("version status", &status)?,
        );
    }
    let history = |table: &str| -> Result<Vec<String>> {
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT event FROM {table} WHERE model = ?1 ORDER BY idx"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![model.as_str()], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        rows.map(|r| r.map_err(db_err)).collect()
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
    conn: &Connection,
    model: &ModelName,
    after: usize,
) -> Result<Vec<Arc<VersionCore>>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT number, core FROM versions WHERE model = ?1 AND number > ?2 ORDER BY number",
        )
        .map_err(db_err)?;
    let after_i = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![model.as_str(), after_i], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    let mut expected = after_i;
    for row in rows {
        let (n, core) = row.map_err(db_err)?;
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

fn last_audit(conn: &Connection) -> Result<Option<AuditRecord>> {
    let rec: Option<String> = conn
        .query_row(
            "SELECT record FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    rec.map(|s| from_json("audit", &s)).transpose()
}

fn read_head(conn: &Connection) -> Result<Option<ChainHead>> {
    let row: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(db_err)?;
    row.map(|(seq, hash)| {
        Ok(ChainHead {
            seq: to_u64("audit head", seq)?,
            hash: hash.parse().map_err(|e| RegistryError::Corrupt {
                detail: format!("bad audit head hash: {e}"),
            })?,
        })
    })
    .transpose()
}

fn append_audit_tx(tx: &Connection, drafts: Vec<AuditDraft>) -> Result<Vec<u64>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let prev = last_audit(tx)?;
    let head = read_head(tx)?;
    let last = prev.as_ref().map(ChainHead::of);
    if last != head {
        // Sealing after a tampered tail would make the tampering part of a valid chain.
        return Err(RegistryError::Corrupt {
            detail: format!(
                "the audit log does not end at its head (last record {}, head {})",
                last.map_or(0, |h| h.seq),
                head.map_or(0, |h| h.seq)
            ),
        });
    }
    let sealed = audit::seal_all(prev.as_ref(), drafts)?;
    let mut stmt = tx
        .prepare_cached("INSERT INTO audit (seq, record) VALUES (?1, ?2)")
        .map_err(db_err)?;
    for r in &sealed {
        stmt.execute(params![to_i64(r.seq)?, to_json(r)?])
            .map_err(db_err)?;
    }
    if let Some(r) = sealed.last() {
        tx.prepare_cached(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .map_err(db_err)?
        .execute(params![to_i64(r.seq)?, r.hash.to_string()])
        .map_err(db_err)?;
    }
    Ok(sealed.iter().map(|r| r.seq).collect())
}

impl Inner {
    /// The aggregate at `revision`, from the cache when it is current.
    fn aggregate(&mut self, model: &ModelName, revision: Revision) -> Result<Arc<ModelAggregate>> {
        if let Some(c) = self.cache.get(model)
            && c.aggregate.revision() == revision
        {
            return Ok(Arc::clone(&c.aggregate));
        }
        let agg = Arc::new(load_aggregate(&self.conn, model, revision)?);
        let cores = self
            .cache
            .remove(model)
            .map(|c| c.cores)
            .unwrap_or_default();
        self.cache.insert(
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
    fn refresh_cores(&mut self, model: &ModelName) -> Result<()> {
        let have = self.cache.get(model).map_or(0, |c| c.cores.len());
        let new = load_cores_after(&self.conn, model, have)?;
        if let Some(c) = self.cache.get_mut(model) {
            c.cores.extend(new);
        }
        Ok(())
    }
}

impl ModelStore for SqliteStore {
    fn name(&self) -> String {
        match &self.path {
            Some(p) => format!("sqlite:{}", p.display()),
            None => "sqlite::memory:".to_owned(),
        }
    }

    fn capabilities(&self) -> Capabilities {
        let caps = Capabilities::required();
        if self.path.is_some() {
            caps.with(Capability::Durable).with(Capability::ChangeFeed)
        } else {
            caps
        }
    }

    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
        aggregate.check_new()?;
        let mut inner = self.inner.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let name = aggregate.name().clone();
        if read_revision(&tx, &name)?.is_some() {
            return Err(RegistryError::AlreadyExists {
                kind: EntityKind::Model,
                id: name.to_string(),
            });
        }
        let mut aggregate = aggregate;
        aggregate.set_revision(Revision::initial());
        let parts = aggregate.clone().into_parts();
        tx.execute(
            "INSERT INTO models (name, revision, record, aliases, protected, governed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                name.as_str(),
                to_i64(Revision::initial().as_u64())?,
                to_json(&parts.model)?,
                to_json(&parts.aliases)?,
                to_json(&parts.protected_aliases)?,
                crate::store::sql_codec::to_column(&aggregate)?
            ],
        )
        .map_err(db_err)?;
        append_history(&tx, &name, "alias_history", 0, &parts.alias_history)?;
        append_history(&tx, &name, "state_history", 0, &parts.state_history)?;
        append_audit_tx(&tx, audit)?;
        tx.commit().map_err(db_err)?;
        inner.cache.insert(
            name,
            Cached {
                aggregate: Arc::new(aggregate),
                cores: Vec::new(),
            },
        );
        Ok(Revision::initial())
    }

    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        // Take the write lock first, so the revision read below cannot go stale.
        inner
            .conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(db_err)?;
        let result = (|| {
            let actual = read_revision(&inner.conn, model)?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            if actual != expected {
                return Err(RegistryError::Conflict {
                    model: model.clone(),
                    expected,
                    actual,
                });
            }
            let old = inner.aggregate(model, actual)?;
            new.check_successor_of(&old)?;
            let revision = actual.next();
            let mut new = new;
            new.set_revision(revision);
            write_diff(&inner.conn, &old, &new)?;
            append_audit_tx(&inner.conn, audit)?;
            Ok((revision, new))
        })();
        match result {
            Ok((revision, new)) => {
                inner.conn.execute_batch("COMMIT").map_err(|e| {
                    let _ = inner.conn.execute_batch("ROLLBACK");
                    db_err(e)
                })?;
                if let Some(c) = inner.cache.get_mut(model) {
                    c.aggregate = Arc::new(new);
                }
                Ok(revision)
            }
            Err(e) => {
                inner.conn.execute_batch("ROLLBACK").map_err(db_err)?;
                Err(e)
            }
        }
    }

    fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
        request.core.validate()?;
        crate::model::validate_description(&request.annotations.description)?;
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let model = request.model.clone();
        let revision =
            read_revision(&tx, &model)?.ok_or_else(|| RegistryError::model_not_found(&model))?;
        if let Some(key) = &request.idempotency_key {
            let row: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT number, core, status FROM versions WHERE model = ?1 AND idempotency_key = ?2",
                    params![model.as_str(), key.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(db_err)?;
            if let Some((n, core, status)) = row {
                let n = version_number(n)?;
                let core: VersionCore = from_json("version core", &core)?;
                if !core.same_content(&request.core) {
                    return Err(RegistryError::IdempotencyMismatch {
                        model,
                        key: key.to_string(),
                        version: n,
                    });
                }
                let status: VersionStatus = from_json("version status", &status)?;
                return Ok(VersionCreated {
                    version: ModelVersion::new(model, n, core, status),
                    revision,
                    outcome: CreateOutcome::Replayed,
                });
            }
        }
        let governed: String = tx
            .query_row(
                "SELECT governed FROM models WHERE name = ?1",
                params![model.as_str()],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let governed = crate::store::sql_codec::from_column(&governed)?;
        if governed.protected_states.contains(&request.initial_state) {
            return Err(RegistryError::Protected {
                model,
                change: crate::governed::ProtectedChange::InitialState {
                    state: request.initial_state,
                },
            });
        }
        let max: Option<i64> = tx
            .query_row(
                "SELECT max(number) FROM versions WHERE model = ?1",
                params![model.as_str()],
                |r| r.get(0),
            )
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
        tx.execute(
            "INSERT INTO versions (model, number, core, status, idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                model.as_str(),
                to_i64(number.get())?,
                to_json(version.core())?,
                to_json(version.status())?,
                request.idempotency_key.as_ref().map(|k| k.as_str().to_owned())
            ],
        )
        .map_err(db_err)?;
        let new_revision = revision.next();
        tx.execute(
            "UPDATE models SET revision = ?2 WHERE name = ?1",
            params![model.as_str(), to_i64(new_revision.as_u64())?],
        )
        .map_err(db_err)?;
        let mut drafts = Vec::with_capacity(1 + request.audit.len());
        drafts.push(version_created_draft(&version));
        drafts.extend(request.audit);
        append_audit_tx(&tx, drafts)?;
        tx.commit().map_err(db_err)?;
        // Keep the cache current when it was current before; otherwise drop it.
        let mut keep = false;
        if let Some(c) = inner.cache.get_mut(&model)
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
            inner.cache.remove(&model);
        }
        Ok(VersionCreated {
            version,
            revision: new_revision,
            outcome: CreateOutcome::Created,
        })
    }

    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
        let mut inner = self.inner.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let seqs = append_audit_tx(&tx, audit)?;
        tx.commit().map_err(db_err)?;
        Ok(seqs)
    }

    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        // One read transaction: the revision and the aggregate come from the same snapshot.
        inner.conn.execute_batch("BEGIN").map_err(db_err)?;
        let result = (|| {
            let revision = read_revision(&inner.conn, model)?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            inner.aggregate(model, revision)
        })();
        inner.conn.execute_batch("COMMIT").map_err(db_err)?;
        let agg = result?;
        Ok(ModelAggregate::clone(&agg))
    }

    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
        let inner = self.inner.lock();
        let n = version.version();
        let row: Option<(String, String)> = inner
            .conn
            .query_row(
                "SELECT core, status FROM versions WHERE model = ?1 AND number = ?2",
                params![version.name().as_str(), to_i64(n.get())?],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        match row {
            Some((core, status)) => Ok(ModelVersion::new(
                version.name().clone(),
                n,
                from_json("version core", &core)?,
                from_json("version status", &status)?,
            )),
            None => {
                if read_revision(&inner.conn, version.name())?.is_none() {
                    Err(RegistryError::model_not_found(version.name()))
                } else {
                    Err(RegistryError::version_not_found(version.name(), n))
                }
            }
        }
    }

    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
        let after = query
            .page_token
            .as_ref()
            .map(PageToken::decode)
            .transpose()?;
        let after_name = after.map(|(m, _)| m.to_string()).unwrap_or_default();
        let page_size = query.effective_page_size();
        let inner = self.inner.lock();
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT record FROM models WHERE name > ?1 ORDER BY name")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![after_name], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut items: Vec<RegisteredModel> = Vec::new();
        for row in rows {
            let m: RegisteredModel = from_json("model", &row.map_err(db_err)?)?;
            if !query.matches(&m) {
                continue;
            }
            if items.len() >= page_size {
                let next = items.last().map(|l| PageToken::after(l.name(), None));
                return Ok(Page { items, next });
            }
            items.push(m);
        }
        Ok(Page { items, next: None })
    }

    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        inner.conn.execute_batch("BEGIN").map_err(db_err)?;
        let result = (|| {
            let mut names = Vec::new();
            {
                let mut stmt = inner
                    .conn
                    .prepare_cached("SELECT name, revision FROM models ORDER BY name")
                    .map_err(db_err)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(db_err)?;
                for row in rows {
                    let (name, rev) = row.map_err(db_err)?;
                    let name = ModelName::new(name).map_err(|e| RegistryError::Corrupt {
                        detail: format!("bad model name: {e}"),
                    })?;
                    names.push((name, Revision::from_u64(to_u64("revision", rev)?)));
                }
            }
            // Descendant filters follow parent links across models, so they need every model.
            let needs_all = query
                .filters
                .iter()
                .any(|f| matches!(f, crate::store::VersionFilter::DescendantOf(_)));
            names.retain(|(n, _)| needs_all || search::model_may_match(query, n));
            for (name, rev) in &names {
                inner.aggregate(name, *rev)?;
                inner.refresh_cores(name)?;
            }
            let sources: Vec<Source<'_>> = names
                .iter()
                .filter_map(|(n, _)| inner.cache.get(n))
                .map(|c| Source {
                    aggregate: &c.aggregate,
                    cores: &c.cores,
                })
                .collect();
            search::run(&sources, query)
        })();
        inner.conn.execute_batch("COMMIT").map_err(db_err)?;
        result
    }

    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        let inner = self.inner.lock();
        // Positions are the table's key (the append counter), never the seq inside the record.
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT seq, record FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
            .map_err(db_err)?;
        let from = i64::try_from(from.max(1)).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![from, limit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err)?;
        rows.map(|r| {
            let (position, record) = r.map_err(db_err)?;
            from_json(&format!("audit (position {position})"), &record)
        })
        .collect()
    }

    fn audit_head(&self) -> Result<Option<ChainHead>> {
        read_head(&self.inner.lock().conn)
    }

    fn subscribe(&self) -> Result<Box<dyn crate::store::ChangeFeed>> {
        match &self.path {
            Some(p) => Ok(Box::new(crate::store::sqlite_feed::SqliteFeed::open(p)?)),
            None => Err(RegistryError::MissingCapability {
                store: self.name(),
                capability: Capability::ChangeFeed,
            }),
        }
    }
}

fn append_history<T: Serialize>(
    conn: &Connection,
    model: &ModelName,
    table: &str,
    from: usize,
    events: &[T],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached(&format!(
            "INSERT INTO {table} (model, idx, event) VALUES (?1, ?2, ?3)"
        ))
        .map_err(db_err)?;
    for (i, e) in events.iter().enumerate() {
        let idx = i64::try_from(from + i).unwrap_or(i64::MAX);
        stmt.execute(params![model.as_str(), idx, to_json(e)?])
            .map_err(db_err)?;
    }
    Ok(())
}

/// Writes what changed between `old` and `new` (a valid successor: same versions, histories
/// that only grew).
fn write_diff(conn: &Connection, old: &ModelAggregate, new: &ModelAggregate) -> Result<()> {
    let name = new.name();
    conn.execute(
        "UPDATE models SET revision = ?2, record = ?3, aliases = ?4, protected = ?5, governed = ?6 WHERE name = ?1",
        params![
            name.as_str(),
            to_i64(new.revision().as_u64())?,
            to_json(new.model())?,
            to_json(new.aliases())?,
            to_json(new.protected_aliases())?,
            crate::store::sql_codec::to_column(new)?
        ],
    )
    .map_err(db_err)?;
    let mut stmt = conn
        .prepare_cached("UPDATE versions SET status = ?3 WHERE model = ?1 AND number = ?2")
        .map_err(db_err)?;
    for ((n, new_status), old_status) in new.versions().iter().zip(old.versions().values()) {
        if new_status != old_status {
            stmt.execute(params![
                name.as_str(),
                to_i64(n.get())?,
                to_json(new_status)?
            ])
            .map_err(db_err)?;
        }
    }
    let old_a = old.alias_history().len();
    append_history(
        conn,
        name,
        "alias_history",
        old_a,
        new.alias_history().get(old_a..).unwrap_or_default(),
    )?;
    let old_s = old.state_history().len();
    append_history(
        conn,
        name,
        "state_history",
        old_s,
        new.state_history().get(old_s..).unwrap_or_default(),
    )?;
    Ok(())
}
