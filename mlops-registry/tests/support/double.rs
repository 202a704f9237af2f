//! `Double`: a test double of a store says only what it changes (its name, its declared
//! capabilities, its commits, its feed); [`Doubled`] forwards every other `ModelStore` call to
//! the store it wraps. Written once for the registry tests (included with `#[path]`).

#![allow(dead_code, unreachable_pub)]

use mlops_core::{ModelName, ModelRef};
use mlops_registry::Result;
use mlops_registry::audit::{AuditDraft, AuditRecord, ChainHead};
use mlops_registry::model::{ModelAggregate, ModelVersion, RegisteredModel, Revision};
use mlops_registry::store::{
    Capabilities, Capability, ChangeFeed, ModelQuery, ModelStore, NewVersion, Page, VersionCreated,
    VersionQuery,
};

/// What a test double changes; every method it does not override forwards to [`Double::inner`].
pub trait Double: Send + Sync {
    /// The store calls go to (it may differ from call to call).
    fn inner(&self) -> &dyn ModelStore;
    /// The double's name.
    fn name(&self) -> String;
    /// What it declares: the inner store's capabilities unless overridden.
    fn capabilities(&self) -> Capabilities {
        self.inner().capabilities()
    }
    /// Its commit: the inner store's unless overridden.
    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        self.inner().commit(model, expected, new, audit)
    }
    /// Whether it passes the inner store's change feed on (`false`: it has none).
    fn has_feed(&self) -> bool {
        true
    }
}

/// A [`Double`] as a `ModelStore`.
pub struct Doubled<D>(pub D);

impl<D: Double> std::fmt::Debug for Doubled<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.name())
    }
}

impl<D: Double> ModelStore for Doubled<D> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
        self.0.inner().create_model(aggregate, audit)
    }
    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        self.0.commit(model, expected, new, audit)
    }
    fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
        self.0.inner().create_version(request)
    }
    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
        self.0.inner().append_audit(audit)
    }
    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
        self.0.inner().get_model(model)
    }
    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
        self.0.inner().get_version(version)
    }
    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
        self.0.inner().list_models(query)
    }
    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        self.0.inner().search_versions(query)
    }
    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        self.0.inner().read_audit(from, limit)
    }
    fn audit_head(&self) -> Result<Option<ChainHead>> {
        self.0.inner().audit_head()
    }
    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        if self.0.has_feed() {
            self.0.inner().subscribe()
        } else {
            Err(mlops_registry::RegistryError::MissingCapability {
                store: self.name(),
                capability: Capability::ChangeFeed,
            })
        }
    }
}
