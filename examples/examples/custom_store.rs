//! A host wires the registry to its own storage by implementing `ModelStore`, then proves the
//! implementation with the conformance test kit before trusting it.
//!
//! The host here wraps the in-memory reference store with an operations journal (what a host
//! might ship to its own metrics or change-data-capture pipeline) and a write counter. It runs
//! the kit, then uses the store through the `Registry` facade: register, add versions with
//! lineage, move the `stable` alias (unprotected: `champion` moves only through governance), roll
//! back, and verify the audit chain.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Digest, ManualClock, ModelName, ModelRef, Role};
use mlops_registry::Registry;
use mlops_registry::audit::{self, AuditDraft, AuditRecord, ChainHead};
use mlops_registry::model::{
    DatasetRole, ModelAggregate, ModelVersion, RegisteredModel, Revision, VersionCore,
};
use mlops_registry::store::{
    Capabilities, InMemoryStore, ModelQuery, ModelStore, NewVersion, Page, VersionCreated,
    VersionQuery,
};

/// The host's store: every write goes to the inner store and, on success, into a journal.
#[derive(Debug, Default)]
struct JournaledStore {
    inner: InMemoryStore,
    journal: Mutex<Vec<String>>,
    writes: AtomicU64,
    conflicts: AtomicU64,
}

impl JournaledStore {
    fn note<T>(
        &self,
        what: String,
        result: mlops_registry::Result<T>,
    ) -> mlops_registry::Result<T> {
        match &result {
            Ok(_) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut journal) = self.journal.lock() {
                    journal.push(what);
                }
            }
            Err(mlops_registry::RegistryError::Conflict { .. }) => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        result
    }
}

impl ModelStore for JournaledStore {
    fn name(&self) -> String {
        format!("journaled({})", self.inner.name())
    }
    fn capabilities(&self) -> Capabilities {
        // Declares exactly what the inner store guarantees: wrapping adds nothing and loses
        // nothing, because every write is a single call to the inner store.
        self.inner.capabilities()
    }
    fn create_model(
        &self,
        aggregate: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> mlops_registry::Result<Revision> {
        let what = format!("create model {}", aggregate.name());
        let r = self.inner.create_model(aggregate, audit);
        self.note(what, r)
    }
    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> mlops_registry::Result<Revision> {
        let r = self.inner.commit(model, expected, new, audit);
        self.note(format!("commit {model} from {expected}"), r)
    }
    fn create_version(&self, request: NewVersion) -> mlops_registry::Result<VersionCreated> {
        let model = request.model.clone();
        let r = self.inner.create_version(request);
        let what = match &r {
            Ok(c) => format!("create version {} ({:?})", c.version.model_ref(), c.outcome),
            Err(_) => format!("create version of {model}"),
        };
        self.note(what, r)
    }
    fn append_audit(&self, audit: Vec<AuditDraft>) -> mlops_registry::Result<Vec<u64>> {
        let r = self.inner.append_audit(audit);
        self.note("append audit".to_owned(), r)
    }
    fn get_model(&self, model: &ModelName) -> mlops_registry::Result<ModelAggregate> {
        self.inner.get_model(model)
    }
    fn get_version(&self, version: &ModelRef) -> mlops_registry::Result<ModelVersion> {
        self.inner.get_version(version)
    }
    fn list_models(&self, query: &ModelQuery) -> mlops_registry::Result<Page<RegisteredModel>> {
        self.inner.list_models(query)
    }
    fn search_versions(&self, query: &VersionQuery) -> mlops_registry::Result<Page<ModelVersion>> {
        self.inner.search_versions(query)
    }
    fn read_audit(&self, from: u64, limit: usize) -> mlops_registry::Result<Vec<AuditRecord>> {
        self.inner.read_audit(from, limit)
    }
    fn audit_head(&self) -> mlops_registry::Result<Option<ChainHead>> {
        self.inner.audit_head()
    }
    fn subscribe(&self) -> mlops_registry::Result<Box<dyn mlops_registry::store::ChangeFeed>> {
        // The inner store's feed reports every commit made through this wrapper.
        self.inner.subscribe()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("custom ModelStore: a journaled wrapper over the in-memory store\n");

    // 1. Prove the implementation with the conformance kit (smaller concurrency for a quick run).
    let proving = JournaledStore::default();
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
    let registry = Registry::new(JournaledStore::default(), clock.clone())?;
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
        "6. audit chain of {} records verifies; the host's journal:",
        log.len()
    );
    let journal = registry
        .store()
        .journal
        .lock()
        .map_err(|_| "journal lock poisoned")?;
    for line in journal.iter() {
        println!("   - {line}");
    }
    Ok(())
}
