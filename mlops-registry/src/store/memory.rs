//! [`InMemoryStore`]: the reference implementation of [`ModelStore`], for tests and quickstarts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mlops_core::{ModelName, ModelRef, VersionNumber};
use parking_lot::RwLock;

use crate::audit::{self, AuditDraft, AuditRecord, ChainHead};
use crate::error::{EntityKind, RegistryError, Result};
use crate::model::{
    IdempotencyKey, ModelAggregate, ModelVersion, RegisteredModel, Revision, VersionCore,
    VersionStatus,
};
use crate::store::feed::{Change, ChangeEvent, ChangeFeed, ChangeHub};
use crate::store::search::{self, Source, core_of};
use crate::store::{
    Capabilities, Capability, CreateOutcome, ModelQuery, ModelStore, NewVersion, Page, PageToken,
    VersionCreated, VersionQuery, version_created_draft,
};

#[derive(Debug)]
struct Entry {
    aggregate: Arc<ModelAggregate>,
    cores: Vec<Arc<VersionCore>>,
    idempotency: HashMap<IdempotencyKey, VersionNumber>,
}

#[derive(Debug, Default)]
struct State {
    models: BTreeMap<ModelName, Entry>,
    audit: Vec<AuditRecord>,
    /// The head, moved with every append (kept apart from `audit`, as a durable store keeps it).
    head: Option<ChainHead>,
}

impl State {
    /// Seals `drafts` after the current last record without appending (so a later failure
    /// leaves nothing written).
    fn seal(&self, drafts: Vec<AuditDraft>) -> Result<Vec<AuditRecord>> {
        let last = self.audit.last();
        if last.map(ChainHead::of) != self.head {
            return Err(RegistryError::Corrupt {
                detail: "the audit log does not end at its head".to_owned(),
            });
        }
        audit::seal_all(last, drafts)
    }
}

/// Appends sealed records and moves the head.
fn append_sealed(
    audit: &mut Vec<AuditRecord>,
    head: &mut Option<ChainHead>,
    sealed: Vec<AuditRecord>,
) {
    if let Some(last) = sealed.last() {
        *head = Some(ChainHead::of(last));
    }
    audit.extend(sealed);
}

/// Everything in memory behind one `parking_lot` reader–writer lock: writers are serialised,
/// readers run in parallel. Not durable.
///
/// ```
/// use mlops_registry::store::{Capability, InMemoryStore, ModelStore};
/// let store = InMemoryStore::new();
/// assert!(store.capabilities().contains(Capability::CompareAndSwap));
/// ```
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: RwLock<State>,
    changes: Arc<ChangeHub>,
}

/// A subscription to an [`InMemoryStore`]'s changes.
#[derive(Debug)]
struct MemoryFeed {
    hub: Arc<ChangeHub>,
    cursor: u64,
}

impl ChangeFeed for MemoryFeed {
    fn next(&mut self, timeout: std::time::Duration) -> Result<Option<ChangeEvent>> {
        Ok(self.hub.next(&mut self.cursor, timeout))
    }
}

impl InMemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl ModelStore for InMemoryStore {
    fn name(&self) -> String {
        "in-memory".to_owned()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::required().with(Capability::ChangeFeed)
    }

    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        Ok(Box::new(MemoryFeed {
            cursor: self.changes.cursor(),
            hub: Arc::clone(&self.changes),
        }))
    }

    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
        aggregate.check_new()?;
        let mut state = self.state.write();
        if state.models.contains_key(aggregate.name()) {
            return Err(RegistryError::AlreadyExists {
                kind: EntityKind::Model,
                id: aggregate.name().to_string(),
            });
        }
        let sealed = state.seal(audit)?;
        let mut aggregate = aggregate;
        aggregate.set_revision(Revision::initial());
        let aggregate_name = aggregate.name().clone();
        state.models.insert(
            aggregate.name().clone(),
            Entry {
                aggregate: Arc::new(aggregate),
                cores: Vec::new(),
                idempotency: HashMap::new(),
            },
        );
        let State { audit, head, .. } = &mut *state;
        append_sealed(audit, head, sealed);
        self.changes.publish(Change {
            model: aggregate_name,
            revision: Revision::initial(),
        });
        Ok(Revision::initial())
    }

    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision> {
        let mut state = self.state.write();
        let entry = state
            .models
            .get(model)
            .ok_or_else(|| RegistryError::model_not_found(model))?;
        let actual = entry.aggregate.revision();
        if actual != expected {
            return Err(RegistryError::Conflict {
                model: model.clone(),
                expected,
                actual,
            });
        }
        new.check_successor_of(&entry.aggregate)?;
        let sealed = state.seal(audit)?;
        let revision = actual.next();
        let mut new = new;
        new.set_revision(revision);
        if let Some(entry) = state.models.get_mut(model) {
            entry.aggregate = Arc::new(new);
        }
        let State { audit, head, .. } = &mut *state;
        append_sealed(audit, head, sealed);
        self.changes.publish(Change {
            model: model.clone(),
            revision,
        });
        Ok(revision)
    }

    fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
        request.core.validate()?;
        crate::model::validate_description(&request.annotations.description)?;
        let mut state = self.state.write();
        let entry = state
            .models
            .get(&request.model)
            .ok_or_else(|| RegistryError::model_not_found(&request.model))?;
        if let Some(key) = &request.idempotency_key
            && let Some(&n) = entry.idempotency.get(key)
        {
            let core = core_of(&entry.cores, n).ok_or_else(|| RegistryError::Corrupt {
                detail: format!("idempotency key `{key}` points at missing version {n}"),
            })?;
            if !core.same_content(&request.core) {
                return Err(RegistryError::IdempotencyMismatch {
                    model: request.model.clone(),
                    key: key.to_string(),
                    version: n,
                });
            }
            let status =
                entry
                    .aggregate
                    .version(n)
                    .cloned()
                    .ok_or_else(|| RegistryError::Corrupt {
                        detail: format!("version {n} has a core but no status"),
                    })?;
            return Ok(VersionCreated {
                version: ModelVersion::new(request.model, n, VersionCore::clone(core), status),
                revision: entry.aggregate.revision(),
                outcome: CreateOutcome::Replayed,
            });
        }
        let number = match entry.aggregate.latest_version() {
            None => VersionNumber::FIRST,
            Some(v) => v.next().ok_or(RegistryError::Exhausted {
                what: "version numbers",
            })?,
        };
        let version = ModelVersion::new(
            request.model.clone(),
            number,
            request.core,
            VersionStatus {
                state: request.initial_state,
                annotations: request.annotations,
                humility_rules: request.humility_rules,
            },
        );
        let mut drafts = Vec::with_capacity(1 + request.audit.len());
        drafts.push(version_created_draft(&version));
        drafts.extend(request.audit);
        let sealed = state.seal(drafts)?;
        let State {
            models,
            audit,
            head,
        } = &mut *state;
        let entry = models
            .get_mut(&request.model)
            .ok_or_else(|| RegistryError::model_not_found(&request.model))?;
        let agg = Arc::make_mut(&mut entry.aggregate);
        agg.insert_version(number, version.state().clone())?;
        *agg.annotations_mut(number)? = version.annotations().clone();
        agg.set_humility_rules(number, version.status().humility_rules.clone())?;
        let revision = agg.revision().next();
        agg.set_revision(revision);
        entry.cores.push(Arc::new(version.core().clone()));
        if let Some(key) = request.idempotency_key {
            entry.idempotency.insert(key, number);
        }
        append_sealed(audit, head, sealed);
        self.changes.publish(Change {
            model: request.model.clone(),
            revision,
        });
        Ok(VersionCreated {
            version,
            revision,
            outcome: CreateOutcome::Created,
        })
    }

    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
        let mut state = self.state.write();
        let sealed = state.seal(audit)?;
        let seqs = sealed.iter().map(|r| r.seq).collect();
        let State { audit, head, .. } = &mut *state;
        append_sealed(audit, head, sealed);
        Ok(seqs)
    }

    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
        let state = self.state.read();
        state
            .models
            .get(model)
            .map(|e| ModelAggregate::clone(&e.aggregate))
            .ok_or_else(|| RegistryError::model_not_found(model))
    }

    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
        let state = self.state.read();
        let entry = state
            .models
            .get(version.name())
            .ok_or_else(|| RegistryError::model_not_found(version.name()))?;
        let n = version.version();
        let not_found = || RegistryError::version_not_found(version.name(), n);
        let core = core_of(&entry.cores, n).ok_or_else(not_found)?;
        let status = entry.aggregate.version(n).ok_or_else(not_found)?;
        Ok(ModelVersion::new(
            version.name().clone(),
            n,
            VersionCore::clone(core),
            status.clone(),
        ))
    }

    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
        let after = query
            .page_token
            .as_ref()
            .map(PageToken::decode)
            .transpose()?;
        let page_size = query.effective_page_size();
        let state = self.state.read();
        let mut items: Vec<RegisteredModel> = Vec::new();
        for (name, entry) in &state.models {
            if after.as_ref().is_some_and(|(a, _)| name <= a) {
                continue;
            }
            if !query.matches(entry.aggregate.model()) {
                continue;
            }
            if items.len() >= page_size {
                let next = items.last().map(|m| PageToken::after(m.name(), None));
                return Ok(Page { items, next });
            }
            items.push(entry.aggregate.model().clone());
        }
        Ok(Page { items, next: None })
    }

    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        let state = self.state.read();
        let sources: Vec<Source<'_>> = state
            .models
            .values()
            .map(|e| Source {
                aggregate: &e.aggregate,
                cores: &e.cores,
            })
            .collect();
        search::run(&sources, query)
    }

    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        let state = self.state.read();
        // Position `p` (1-based) is index `p - 1`, whatever the records say.
        let start = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(state
            .audit
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }

    fn audit_head(&self) -> Result<Option<ChainHead>> {
        Ok(self.state.read().head)
    }
}
