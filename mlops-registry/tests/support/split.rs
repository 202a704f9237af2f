//! `Split`: sends every call to one of two stores, alternating by thread, so concurrent
//! tests exercise two connections (or two replicas) on one database.

#![allow(dead_code, clippy::indexing_slicing, reason = "test helper")]

use mlops_registry::store::ModelStore;

/// Sends every call to one of two stores, alternating by thread, so concurrent tests
/// exercise two connections on one file.
pub(crate) struct Split<'a>(pub(crate) [&'a dyn ModelStore; 2]);

impl Split<'_> {
    fn pick(&self) -> &dyn ModelStore {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::thread::current().id().hash(&mut h);
        self.0[(h.finish() % 2) as usize]
    }
}

impl ModelStore for Split<'_> {
    fn name(&self) -> String {
        "split".into()
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
    fn audit_head(&self) -> mlops_registry::Result<Option<mlops_registry::audit::ChainHead>> {
        self.pick().audit_head()
    }
}
