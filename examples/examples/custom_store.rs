//! A host wires the registry to its own storage by implementing `ModelStore`, then proves the
//! implementation with the conformance test kit before trusting it.
//!
//! The host here keeps everything in its own key–value database (`Kv`: string keys, JSON text
//! values, all-or-nothing transactions; a stand-in for the host's etcd, DynamoDB or key–value
//! table) and does the store's own work: compare-and-swap on each model's revision, version
//! numbers and idempotency keys allocated in the same transaction, the audit chain sealed and
//! its head moved with every append, and the commit boundary that refuses protected changes
//! without governance's seal (`ModelAggregate::check_new`, `check_successor_of`). It runs the
//! kit, then uses the store through the `Registry` facade: register, add versions with lineage,
//! move the `stable` alias (unprotected: `champion` moves only through governance), roll back,
//! and verify the audit chain.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Digest, ManualClock, ModelName, ModelRef, Role, VersionNumber};
use mlops_registry::audit::{self, AuditDraft, AuditRecord, ChainHead};
use mlops_registry::model::{
    DatasetRole, IdempotencyKey, ModelAggregate, ModelVersion, RegisteredModel, Revision,
    VersionCore, VersionStatus,
};
use mlops_registry::store::{
    Capabilities, CreateOutcome, ModelQuery, ModelStore, NewVersion, Page, PageToken,
    VersionCreated, VersionQuery, search_versions_in_memory, version_created_draft,
};
use mlops_registry::{EntityKind, Registry, RegistryError};
use serde::Serialize;
use serde::de::DeserializeOwned;

type Result<T> = mlops_registry::Result<T>;

// --- the host's database ----------------------------------------------------------------------

/// The host's key–value database: ordered keys, JSON values, and transactions that apply all
/// their writes or none.
#[derive(Debug, Default)]
struct Kv {
    map: Mutex<BTreeMap<String, String>>,
}

/// One transaction: reads see its own writes; [`Kv::transact`] applies the writes only if the
/// closure succeeds.
struct Txn<'a> {
    map: &'a BTreeMap<String, String>,
    writes: BTreeMap<String, String>,
}

impl Txn<'_> {
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.writes
            .get(key)
            .or_else(|| self.map.get(key))
            .map(|text| decode(key, text))
            .transpose()
    }
    fn put<T: Serialize>(&mut self, key: String, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|e| RegistryError::Storage {
            message: format!("cannot encode `{key}`: {e}"),
        })?;
        self.writes.insert(key, text);
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(key: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| RegistryError::Corrupt {
        detail: format!("`{key}` does not decode: {e}"),
    })
}

impl Kv {
    fn transact<T>(&self, f: impl FnOnce(&mut Txn<'_>) -> Result<T>) -> Result<T> {
        let mut map = self.map.lock().map_err(|_| RegistryError::Storage {
            message: "the database lock is poisoned".to_owned(),
        })?;
        let mut txn = Txn {
            map: &map,
            writes: BTreeMap::new(),
        };
        let out = f(&mut txn)?;
        let writes = txn.writes;
        map.extend(writes);
        Ok(out)
    }

    /// The values of every key starting with `prefix`, in key order.
    fn scan<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>> {
        self.transact(|txn| {
            txn.map
                .range(prefix.to_owned()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| decode(k, v))
                .collect()
        })
    }
}

// --- the host's store on it ---------------------------------------------------------------------

// The keys. Zero-padded numbers keep the key order the numeric order.
fn model_key(model: &ModelName) -> String {
    format!("model/{model}")
}
fn core_key(model: &ModelName, n: VersionNumber) -> String {
    format!("core/{model}/{:020}", n.get())
}
fn idempotency_key(model: &ModelName, key: &IdempotencyKey) -> String {
    format!("idempotency/{model}/{key}")
}
fn audit_key(position: u64) -> String {
    format!("audit/{position:020}")
}
const AUDIT_HEAD: &str = "audit-head";

/// The host's `ModelStore`: everything in [`Kv`], every write one transaction.
#[derive(Debug, Default)]
struct KvStore {
    db: Kv,
    writes: AtomicU64,
    conflicts: AtomicU64,
}

impl KvStore {
    /// Seals `drafts` after the chain's head and stages them with the moved head. The head is
    /// read from the database, so the chain has one order whatever the writer.
    fn append_in(txn: &mut Txn<'_>, drafts: Vec<AuditDraft>) -> Result<Vec<u64>> {
        let head: Option<ChainHead> = txn.get(AUDIT_HEAD)?;
        let last: Option<AuditRecord> = match head {
            Some(h) => Some(
                txn.get(&audit_key(h.seq))?
                    .ok_or_else(|| RegistryError::Corrupt {
                        detail: format!("the audit head names record {} that is missing", h.seq),
                    })?,
            ),
            None => None,
        };
        if last.as_ref().map(ChainHead::of) != head {
            return Err(RegistryError::Corrupt {
                detail: "the audit log does not end at its head".to_owned(),
            });
        }
        let sealed = audit::seal_all(last.as_ref(), drafts)?;
        let mut seqs = Vec::with_capacity(sealed.len());
        for record in &sealed {
            // The sequence number is the record's position: 1, 2, 3, …
            txn.put(audit_key(record.seq), record)?;
            seqs.push(record.seq);
        }
        if let Some(last) = sealed.last() {
            txn.put(AUDIT_HEAD.to_owned(), &ChainHead::of(last))?;
        }
        Ok(seqs)
    }

    fn counted<T>(&self, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(RegistryError::Conflict { .. }) => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        result
    }
}

impl ModelStore for KvStore {
    fn name(&self) -> String {
        "host-kv".to_owned()
    }

    fn capabilities(&self) -> Capabilities {
        // Compare-and-swap, atomic audit, atomic version numbers and idempotent create: one
        // transaction each. Not durable (the stand-in database is in memory) and no change
        // feed: routers on this store poll.
        Capabilities::required()
    }

    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
        // The commit boundary for a new model: no versions, baseline protection, no
        // governance records without the seal.
        aggregate.check_new()?;
        let result = self.db.transact(|txn| {
            let key = model_key(aggregate.name());
            if txn.get::<ModelAggregate>(&key)?.is_some() {
                return Err(RegistryError::AlreadyExists {
                    kind: EntityKind::Model,
                    id: aggregate.name().to_string(),
                });
            }
            Self::append_in(txn, audit)?;
            let mut aggregate = aggregate;
            aggregate.set_revision(Revision::initial());
            txn.put(key, &aggregate)?;
            Ok(Revision::initial())
        });
        self.counted(result)
    }

    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        let result = self.db.transact(|txn| {
            let key = model_key(model);
            let old: ModelAggregate = txn
                .get(&key)?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            // The compare-and-swap.
            if old.revision() != expected {
                return Err(RegistryError::Conflict {
                    model: model.clone(),
                    expected,
                    actual: old.revision(),
                });
            }
            // The commit boundary: no renamed model, no lost version or history, and no
            // protected change (state, alias, tier, approvals) without governance's seal.
            new.check_successor_of(&old)?;
            Self::append_in(txn, audit)?;
            let revision = expected.next();
            let mut new = new;
            new.set_revision(revision);
            txn.put(key, &new)?;
            Ok(revision)
        });
        self.counted(result)
    }

    fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
        request.core.validate()?;
        mlops_registry::model::validate_description(&request.annotations.description)?;
        let result = self.db.transact(|txn| {
            let key = model_key(&request.model);
            let mut aggregate: ModelAggregate = txn
                .get(&key)?
                .ok_or_else(|| RegistryError::model_not_found(&request.model))?;
            if let Some(k) = &request.idempotency_key
                && let Some(n) = txn.get::<VersionNumber>(&idempotency_key(&request.model, k))?
            {
                // A retry: the version the first attempt made, if the content is the same.
                let core: VersionCore =
                    txn.get(&core_key(&request.model, n))?.ok_or_else(|| {
                        RegistryError::Corrupt {
                            detail: format!("idempotency key `{k}` points at missing version {n}"),
                        }
                    })?;
                if !core.same_content(&request.core) {
                    return Err(RegistryError::IdempotencyMismatch {
                        model: request.model.clone(),
                        key: k.to_string(),
                        version: n,
                    });
                }
                let status =
                    aggregate
                        .version(n)
                        .cloned()
                        .ok_or_else(|| RegistryError::Corrupt {
                            detail: format!("version {n} has a core but no status"),
                        })?;
                return Ok(VersionCreated {
                    version: ModelVersion::new(request.model.clone(), n, core, status),
                    revision: aggregate.revision(),
                    outcome: CreateOutcome::Replayed,
                });
            }
            // The next number, under the transaction: never reused.
            let number = match aggregate.latest_version() {
                None => VersionNumber::FIRST,
                Some(v) => v.next().ok_or(RegistryError::Exhausted {
                    what: "version numbers",
                })?,
            };
            let version = ModelVersion::new(
                request.model.clone(),
                number,
                request.core.clone(),
                VersionStatus {
                    state: request.initial_state.clone(),
                    annotations: request.annotations.clone(),
                    humility_rules: request.humility_rules.clone(),
                },
            );
            let mut drafts = vec![version_created_draft(&version)];
            drafts.extend(request.audit.iter().cloned());
            Self::append_in(txn, drafts)?;
            // The aggregate refuses an initial state that is protected, as every store must.
            aggregate.insert_version(number, version.state().clone())?;
            *aggregate.annotations_mut(number)? = version.annotations().clone();
            aggregate.set_humility_rules(number, version.status().humility_rules.clone())?;
            let revision = aggregate.revision().next();
            aggregate.set_revision(revision);
            txn.put(key, &aggregate)?;
            txn.put(core_key(&request.model, number), version.core())?;
            if let Some(k) = &request.idempotency_key {
                txn.put(idempotency_key(&request.model, k), &number)?;
            }
            Ok(VersionCreated {
                version,
                revision,
                outcome: CreateOutcome::Created,
            })
        });
        self.counted(result)
    }

    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
        let result = self.db.transact(|txn| Self::append_in(txn, audit));
        self.counted(result)
    }

    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
        self.db
            .transact(|txn| txn.get(&model_key(model)))?
            .ok_or_else(|| RegistryError::model_not_found(model))
    }

    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
        let (model, n) = (version.name(), version.version());
        self.db.transact(|txn| {
            let not_found = || RegistryError::version_not_found(model, n);
            let aggregate: ModelAggregate = txn
                .get(&model_key(model))?
                .ok_or_else(|| RegistryError::model_not_found(model))?;
            let status = aggregate.version(n).cloned().ok_or_else(not_found)?;
            let core: VersionCore = txn.get(&core_key(model, n))?.ok_or_else(not_found)?;
            Ok(ModelVersion::new(model.clone(), n, core, status))
        })
    }

    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
        let after = query
            .page_token
            .as_ref()
            .map(PageToken::decode)
            .transpose()?;
        let page_size = query.effective_page_size();
        let mut items: Vec<RegisteredModel> = Vec::new();
        // `model/` keys are in name order, so pages follow the name order.
        for aggregate in self.db.scan::<ModelAggregate>("model/")? {
            let model = aggregate.model();
            if after.as_ref().is_some_and(|(a, _)| model.name() <= a) || !query.matches(model) {
                continue;
            }
            if items.len() >= page_size {
                let next = items.last().map(|m| PageToken::after(m.name(), None));
                return Ok(Page { items, next });
            }
            items.push(model.clone());
        }
        Ok(Page { items, next: None })
    }

    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        // No query index in a key–value store: load what the query needs and let the SDK's
        // in-memory search apply the filters and the paging.
        let aggregates: Vec<ModelAggregate> = self.db.scan("model/")?;
        let mut cores: Vec<Vec<Arc<VersionCore>>> = Vec::with_capacity(aggregates.len());
        for aggregate in &aggregates {
            let prefix = format!("core/{}/", aggregate.name());
            cores.push(
                self.db
                    .scan::<VersionCore>(&prefix)?
                    .into_iter()
                    .map(Arc::new)
                    .collect(),
            );
        }
        let models: Vec<(&ModelAggregate, &[Arc<VersionCore>])> = aggregates
            .iter()
            .zip(&cores)
            .map(|(a, c)| (a, c.as_slice()))
            .collect();
        search_versions_in_memory(&models, query)
    }

    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        // By position (the key), whatever a stored record says about itself.
        let from = from.max(1);
        self.db.transact(|txn| {
            txn.map
                .range(audit_key(from)..)
                .take_while(|(k, _)| k.starts_with("audit/"))
                .take(limit)
                .map(|(k, v)| decode(k, v))
                .collect()
        })
    }

    fn audit_head(&self) -> Result<Option<ChainHead>> {
        self.db.transact(|txn| txn.get(AUDIT_HEAD))
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    println!("custom ModelStore: the host's own store on its key–value database\n");

    // 1. Prove the implementation with the conformance kit (smaller concurrency for a quick run).
    let proving = KvStore::default();
    mlops_registry::testkit::run_all_sized(&proving, 8, 50);
    println!(
        "1. conformance kit passed: {} writes, {} conflicts detected (and refused) in the races",
        proving.writes.load(Ordering::Relaxed),
        proving.conflicts.load(Ordering::Relaxed)
    );

    // 2. Use it through the Registry facade.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    ));
    let registry = Registry::new(KvStore::default(), clock.clone())?;
    let alice = Actor::human("alice@example.com")?.with_role(Role::data_scientist());
    let ops = Actor::service("deployer")?.with_role(Role::ml_engineer());
    let churn = ModelName::new("churn")?;
    registry.register_model(&churn, &alice, "monthly churn propensity")?;
    let train = Digest::of(b"customers-2026-02.parquet");
    let mut previous: Option<ModelRef> = None;
    for (i, auc) in [0.81, 0.84, 0.79].into_iter().enumerate() {
        clock.advance(TimeDelta::days(7));
        let mut core = VersionCore::builder(alice.clone(), registry.now())
            .artifact(
                "model",
                format!("s3://models/churn/{}/model.onnx", i + 1),
                Digest::of(format!("weights {i}").as_bytes()),
                2_000_000,
            )
            .dataset(
                "customers-2026-02",
                DatasetRole::Training,
                "s3://data/customers.parquet",
                train,
            )
            .metric("auc", auc)
            .run_id(format!("run-{}", i + 1));
        if let Some(p) = &previous {
            core = core.parent(p.clone());
        }
        let v = registry.add_version(&churn, core.build()?, None)?.version;
        println!(
            "2. added {} (auc {auc}, parent {})",
            v.model_ref(),
            previous
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string)
        );
        previous = Some(v.model_ref());
    }

    // An unprotected alias: `champion` is guarded from creation and moves only through
    // governance.
    let champion = AliasName::new("stable")?;
    for n in [1, 2, 3] {
        clock.advance(TimeDelta::hours(1));
        registry.set_alias(&churn, &champion, n.try_into()?, &ops)?;
    }
    let when = registry.now() - TimeDelta::minutes(90);
    println!(
        "3. stable is v{}; at {when} it was {}",
        registry.resolve(&churn, &champion)?.number().get(),
        registry
            .alias_at(&churn, &champion, when)?
            .map_or_else(|| "unset".to_owned(), |v| v.to_string())
    );
    let back = registry.rollback_alias(&churn, &champion, &ops)?;
    println!("4. v3 underperforms (auc 0.79): stable rolled back to {back}");

    let lineage: Vec<String> = registry
        .lineage(&ModelRef::new(churn.clone(), 3.try_into()?))?
        .iter()
        .map(|v| v.model_ref().to_string())
        .collect();
    println!("5. lineage of churn@v3: {}", lineage.join(" <- "));
    println!(
        "   versions trained on {}…: {}",
        train.to_string().get(..12).unwrap_or_default(),
        registry.trained_on(train)?.len()
    );

    let log = registry.store().read_audit(1, usize::MAX)?;
    audit::verify_chain(&log)?;
    // The chain must also end exactly at the head the store recorded with its last append.
    if registry.store().audit_head()? != log.last().map(ChainHead::of) {
        return Err("the audit log does not end at the store's head".into());
    }
    println!(
        "6. audit chain of {} records verifies and ends at the store's head; {} writes, {} keys in the host's database",
        log.len(),
        registry.store().writes.load(Ordering::Relaxed),
        registry
            .store()
            .db
            .map
            .lock()
            .map_err(|_| "database lock poisoned")?
            .len()
    );
    Ok(())
}
