//! The [`Registry`] facade: the everyday operations over any [`ModelStore`], with validation,
//! retry on conflict, audit records and `tracing` spans.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, AliasName, Clock, ModelName, ModelRef, Subject, VersionNumber};
use serde_json::json;

use crate::audit::{AuditAction, AuditDraft};
use crate::error::{EntityKind, RegistryError, Result};
use crate::model::{
    AliasEvent, Annotations, IdempotencyKey, ModelAggregate, ModelVersion, RegisteredModel,
    Revision, RulesRef, Tags, VersionCore, validate_description,
};
use crate::store::{
    Capabilities, ModelStore, NewVersion, Page, VersionCreated, VersionFilter, VersionQuery,
};

/// How many times a read–modify–commit is retried on [`RegistryError::Conflict`] before giving
/// up with [`RegistryError::RetriesExhausted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (at least 1).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 32 }
    }
}

/// A model registry over a store.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::{Actor, AliasName, Digest, ManualClock, ModelName};
/// use mlops_registry::{Registry, model::VersionCore, store::InMemoryStore};
///
/// let clock = Arc::new(ManualClock::default());
/// let registry = Registry::new(InMemoryStore::new(), clock.clone())?;
/// let alice = Actor::human("alice")?;
/// let fraud = ModelName::new("fraud")?;
/// registry.register_model(&fraud, &alice, "card fraud scorer")?;
/// let core = VersionCore::builder(alice.clone(), registry.now())
///     .artifact("model", "s3://m/1", Digest::of(b"w1"), 10)
///     .build()?;
/// let v1 = registry.add_version(&fraud, core, None)?.version.number();
/// registry.set_alias(&fraud, &AliasName::challenger(), v1, &alice)?;
/// assert_eq!(registry.resolve(&fraud, &AliasName::challenger())?.number(), v1);
/// // `champion` is protected from the model's creation: only governance moves it.
/// assert!(registry.set_alias(&fraud, &AliasName::champion(), v1, &alice).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Registry<S> {
    store: S,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
}

impl<S: ModelStore> Registry<S> {
    /// A registry over `store`, telling time by `clock`.
    ///
    /// # Errors
    /// [`RegistryError::MissingCapability`] if the store does not declare every capability in
    /// [`Capabilities::required`] (compare-and-swap, atomic audit, atomic version numbers,
    /// idempotent create): the registry refuses to run where updates could be lost.
    pub fn new(store: S, clock: Arc<dyn Clock>) -> Result<Self> {
        if let Some(capability) = store.capabilities().missing(Capabilities::required()) {
            tracing::error!(store = %store.name(), ?capability, "store lacks a required capability");
            return Err(RegistryError::MissingCapability {
                store: store.name(),
                capability,
            });
        }
        Ok(Self {
            store,
            clock,
            retry: RetryPolicy::default(),
        })
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The current time, by the registry's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn draft(&self, actor: &Actor, action: AuditAction, subject: Subject) -> AuditDraft {
        AuditDraft::new(self.now(), actor.clone(), action, subject)
    }

    /// Registers a model owned by `owner`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad description; [`RegistryError::AlreadyExists`];
    /// store errors.
    pub fn register_model(
        &self,
        name: &ModelName,
        owner: &Actor,
        description: &str,
    ) -> Result<ModelAggregate> {
        let _span = tracing::info_span!("registry.register_model", model = %name).entered();
        validate_description(description)?;
        let mut model = RegisteredModel::new(name.clone(), owner.id.clone(), self.now());
        model.description = description.to_owned();
        let agg = ModelAggregate::new(model);
        let draft = self.draft(
            owner,
            AuditAction::model_registered(),
            Subject::Model {
                model: name.clone(),
            },
        );
        self.store.create_model(agg.clone(), vec![draft])?;
        tracing::info!(model = %name, "model registered");
        Ok(agg)
    }

    /// Adds a version with `core` in the default initial state; with an idempotency key, a
    /// retry returns the first call's version.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad core; [`RegistryError::NotFound`] for an unknown
    /// model, or for a parent version that does not exist; store errors.
    pub fn add_version(
        &self,
        model: &ModelName,
        core: VersionCore,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<VersionCreated> {
        self.add_version_with(NewVersion {
            idempotency_key,
            ..NewVersion::new(model.clone(), core)
        })
    }

    /// Adds a version from a full request (annotations, initial state, extra audit).
    ///
    /// # Errors
    /// As [`Registry::add_version`].
    pub fn add_version_with(&self, request: NewVersion) -> Result<VersionCreated> {
        let _span = tracing::info_span!("registry.add_version", model = %request.model).entered();
        request.core.validate()?;
        validate_description(&request.annotations.description)?;
        if let Some(parent) = &request.core.lineage().parent {
            self.store.get_version(parent)?;
        }
        let created = self.store.create_version(request)?;
        tracing::info!(
            version = %created.version.model_ref(),
            outcome = ?created.outcome,
            "version added"
        );
        Ok(created)
    }

    /// Reads the model, applies `change`, and commits with `audit(aggregate_before)` drafts,
    /// retrying from a fresh read on [`RegistryError::Conflict`] up to the retry policy. The
    /// commit is unsealed: a change to a protected state or alias, the risk tier or the approval
    /// requests is refused (see [`governed`](crate::governed)).
    ///
    /// # Errors
    /// Any error of `change` (nothing is written); [`RegistryError::Protected`];
    /// [`RegistryError::RetriesExhausted`]; store errors.
    pub fn update<T>(
        &self,
        model: &ModelName,
        mut change: impl FnMut(&mut ModelAggregate) -> Result<(T, Vec<AuditDraft>)>,
    ) -> Result<(T, Revision)> {
        let attempts = self.retry.max_attempts.max(1);
        for attempt in 1..=attempts {
            let mut agg = self.store.get_model(model)?;
            let expected = agg.revision();
            let (out, drafts) = change(&mut agg)?;
            #[cfg(feature = "metrics")]
            let started = std::time::Instant::now();
            let committed = self.store.commit(model, expected, agg, drafts);
            #[cfg(feature = "metrics")]
            crate::metrics::record_commit(started.elapsed());
            match committed {
                Ok(rev) => return Ok((out, rev)),
                Err(RegistryError::Conflict { actual, .. }) => {
                    #[cfg(feature = "metrics")]
                    crate::metrics::record_conflict();
                    tracing::debug!(model = %model, attempt, %expected, %actual, "conflict; retrying");
                }
                Err(e) => return Err(e),
            }
        }
        Err(RegistryError::RetriesExhausted {
            model: model.clone(),
            attempts,
        })
    }

    /// Points `alias` at `version`, retrying on conflict; returns where it pointed before.
    ///
    /// # Errors
    /// [`RegistryError::ProtectedAlias`] for a protected alias (move it through governance);
    /// [`RegistryError::NotFound`] for an unknown model or version;
    /// [`RegistryError::RetriesExhausted`]; store errors. Nothing is written on error.
    pub fn set_alias(
        &self,
        model: &ModelName,
        alias: &AliasName,
        version: VersionNumber,
        actor: &Actor,
    ) -> Result<Option<VersionNumber>> {
        let _span =
            tracing::info_span!("registry.set_alias", model = %model, alias = %alias, %version)
                .entered();
        let (from, _) = self.update(model, |agg| {
            if agg.is_protected(alias) {
                return Err(RegistryError::ProtectedAlias {
                    model: model.clone(),
                    alias: alias.clone(),
                });
            }
            let now = self.now();
            let from = agg.set_alias(alias.clone(), version, &actor.id, now)?;
            agg.model_mut().updated_at = now;
            let draft = self
                .draft(
                    actor,
                    AuditAction::alias_moved(),
                    Subject::Version {
                        version: ModelRef::new(model.clone(), version),
                    },
                )
                .with_details(json!({
                    "alias": alias.as_str(),
                    "from": from.map(VersionNumber::get),
                    "to": version.get(),
                }));
            Ok((from, vec![draft]))
        })?;
        tracing::info!(model = %model, alias = %alias, ?from, to = %version, "alias moved");
        Ok(from)
    }

    /// Removes `alias`; returns where it pointed.
    ///
    /// # Errors
    /// [`RegistryError::ProtectedAlias`]; [`RegistryError::NotFound`] for an unknown model or
    /// an alias that is not set; store errors.
    pub fn remove_alias(
        &self,
        model: &ModelName,
        alias: &AliasName,
        actor: &Actor,
    ) -> Result<VersionNumber> {
        let _span =
            tracing::info_span!("registry.remove_alias", model = %model, alias = %alias).entered();
        let (from, _) = self.update(model, |agg| {
            if agg.is_protected(alias) {
                return Err(RegistryError::ProtectedAlias {
                    model: model.clone(),
                    alias: alias.clone(),
                });
            }
            let now = self.now();
            let from = agg.remove_alias(alias, &actor.id, now)?;
            agg.model_mut().updated_at = now;
            let draft = self
                .draft(
                    actor,
                    AuditAction::alias_removed(),
                    Subject::Model {
                        model: model.clone(),
                    },
                )
                .with_details(json!({ "alias": alias.as_str(), "from": from.get() }));
            Ok((from, vec![draft]))
        })?;
        Ok(from)
    }

    /// Moves `alias` back to the version it pointed at before its last move; returns that
    /// version.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] (kind [`EntityKind::Alias`]) when the alias has no previous
    /// target; otherwise as [`Registry::set_alias`].
    pub fn rollback_alias(
        &self,
        model: &ModelName,
        alias: &AliasName,
        actor: &Actor,
    ) -> Result<VersionNumber> {
        let _span = tracing::info_span!("registry.rollback_alias", model = %model, alias = %alias)
            .entered();
        let agg = self.store.get_model(model)?;
        let previous = agg
            .previous_alias_target(alias)
            .ok_or_else(|| RegistryError::NotFound {
                kind: EntityKind::Alias,
                id: format!("{model}#{alias} (previous target)"),
            })?;
        self.set_alias(model, alias, previous, actor)?;
        Ok(previous)
    }

    /// The version `alias` points at.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown model or an alias that is not set; store
    /// errors.
    pub fn resolve(&self, model: &ModelName, alias: &AliasName) -> Result<ModelVersion> {
        let agg = self.store.get_model(model)?;
        let n = agg.alias(alias).ok_or_else(|| RegistryError::NotFound {
            kind: EntityKind::Alias,
            id: format!("{model}#{alias}"),
        })?;
        self.store.get_version(&ModelRef::new(model.clone(), n))
    }

    /// Which version `alias` pointed at, at instant `at` (`None`: not set then).
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown model; store errors.
    pub fn alias_at(
        &self,
        model: &ModelName,
        alias: &AliasName,
        at: DateTime<Utc>,
    ) -> Result<Option<VersionNumber>> {
        Ok(self.store.get_model(model)?.alias_at(alias, at))
    }

    /// Every move of `alias`, oldest first.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown model; store errors.
    pub fn alias_history(&self, model: &ModelName, alias: &AliasName) -> Result<Vec<AliasEvent>> {
        Ok(self
            .store
            .get_model(model)?
            .alias_history()
            .iter()
            .filter(|e| &e.alias == alias)
            .cloned()
            .collect())
    }

    /// Sets tag `key` to `value` on a version.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad key or value or too many tags;
    /// [`RegistryError::NotFound`]; store errors. Nothing is written on error.
    pub fn tag_version(
        &self,
        version: &ModelRef,
        key: &str,
        value: &str,
        actor: &Actor,
    ) -> Result<Revision> {
        let _span = tracing::info_span!("registry.tag_version", version = %version, key).entered();
        Tags::validate_key(key)?;
        Tags::validate_value(value)?;
        let (_, rev) = self.update(version.name(), |agg| {
            let now = self.now();
            agg.annotations_mut(version.version())?
                .tags
                .insert(key, value)?;
            agg.model_mut().updated_at = now;
            let draft = self
                .draft(
                    actor,
                    AuditAction::version_annotated(),
                    Subject::Version {
                        version: version.clone(),
                    },
                )
                .with_details(json!({ "tag": key, "value": value }));
            Ok(((), vec![draft]))
        })?;
        Ok(rev)
    }

    /// Replaces a version's annotations (description and tags).
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad description; [`RegistryError::NotFound`];
    /// store errors.
    pub fn annotate_version(
        &self,
        version: &ModelRef,
        annotations: Annotations,
        actor: &Actor,
    ) -> Result<Revision> {
        let _span = tracing::info_span!("registry.annotate_version", version = %version).entered();
        validate_description(&annotations.description)?;
        let (_, rev) = self.update(version.name(), |agg| {
            agg.model_mut().updated_at = self.now();
            *agg.annotations_mut(version.version())? = annotations.clone();
            let draft = self.draft(
                actor,
                AuditAction::version_annotated(),
                Subject::Version {
                    version: version.clone(),
                },
            );
            Ok(((), vec![draft]))
        })?;
        Ok(rev)
    }

    /// Sets (or clears) the humility rules `version` serves with. While the version is in a
    /// protected state this is a governed change: the commit is refused with
    /// [`RegistryError::Protected`] (amend them through governance).
    ///
    /// # Errors
    /// [`RegistryError::Protected`]; [`RegistryError::NotFound`]; store errors.
    pub fn set_humility_rules(
        &self,
        version: &ModelRef,
        rules: Option<RulesRef>,
        actor: &Actor,
    ) -> Result<Revision> {
        let _span =
            tracing::info_span!("registry.set_humility_rules", version = %version).entered();
        let (_, rev) = self.update(version.name(), |agg| {
            agg.model_mut().updated_at = self.now();
            agg.set_humility_rules(version.version(), rules.clone())?;
            let draft = self
                .draft(
                    actor,
                    AuditAction::version_annotated(),
                    Subject::Version {
                        version: version.clone(),
                    },
                )
                .with_details(json!({
                    "humility_rules": rules.as_ref().map(|r| json!({
                        "uri": r.uri, "digest": r.digest.to_string(),
                    })),
                }));
            Ok(((), vec![draft]))
        })?;
        Ok(rev)
    }

    /// Sets tag `key` to `value` on a model.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad key or value or too many tags;
    /// [`RegistryError::NotFound`]; store errors.
    pub fn tag_model(
        &self,
        model: &ModelName,
        key: &str,
        value: &str,
        actor: &Actor,
    ) -> Result<Revision> {
        let _span = tracing::info_span!("registry.tag_model", model = %model, key).entered();
        Tags::validate_key(key)?;
        Tags::validate_value(value)?;
        let (_, rev) = self.update(model, |agg| {
            let now = self.now();
            let m = agg.model_mut();
            m.tags.insert(key, value)?;
            m.updated_at = now;
            let draft = self
                .draft(
                    actor,
                    AuditAction::model_updated(),
                    Subject::Model {
                        model: model.clone(),
                    },
                )
                .with_details(json!({ "tag": key, "value": value }));
            Ok(((), vec![draft]))
        })?;
        Ok(rev)
    }

    /// One version.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; store errors.
    pub fn version(&self, version: &ModelRef) -> Result<ModelVersion> {
        self.store.get_version(version)
    }

    /// A model's aggregate.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; store errors.
    pub fn model(&self, model: &ModelName) -> Result<ModelAggregate> {
        self.store.get_model(model)
    }

    /// One page of models matching `query`, in name order.
    ///
    /// # Errors
    /// [`RegistryError::InvalidPageToken`]; store errors.
    pub fn models(&self, query: &crate::store::ModelQuery) -> Result<Page<RegisteredModel>> {
        self.store.list_models(query)
    }

    /// One page of versions matching `query`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidPageToken`]; store errors.
    pub fn search(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
        let _span =
            tracing::debug_span!("registry.search", filters = query.filters.len()).entered();
        self.store.search_versions(query)
    }

    /// Every version matching `filters` (all pages).
    ///
    /// # Errors
    /// As [`Registry::search`].
    pub fn search_all(&self, filters: Vec<VersionFilter>) -> Result<Vec<ModelVersion>> {
        let mut query = VersionQuery {
            filters,
            page_size: crate::store::MAX_PAGE_SIZE,
            page_token: None,
        };
        let mut out = Vec::new();
        loop {
            let page = self.search(&query)?;
            out.extend(page.items);
            match page.next {
                Some(t) => query.page_token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// The ancestry of `version`: the version itself, then its parent, its parent's parent… up
    /// to a version without a parent (a parent that no longer resolves ends the chain).
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown `version`; store errors.
    pub fn lineage(&self, version: &ModelRef) -> Result<Vec<ModelVersion>> {
        let _span = tracing::debug_span!("registry.lineage", version = %version).entered();
        let mut out = vec![self.store.get_version(version)?];
        let mut seen: HashSet<ModelRef> = HashSet::from([version.clone()]);
        while let Some(parent) = out.last().and_then(|v| v.core().lineage().parent.clone()) {
            if !seen.insert(parent.clone()) {
                break;
            }
            match self.store.get_version(&parent) {
                Ok(p) => out.push(p),
                Err(RegistryError::NotFound { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Every version descending from `version` (transitively), in (model, number) order.
    ///
    /// # Errors
    /// Store errors.
    pub fn descendants(&self, version: &ModelRef) -> Result<Vec<ModelVersion>> {
        self.search_all(vec![VersionFilter::DescendantOf(version.clone())])
    }

    /// Every version trained on the dataset with `digest`.
    ///
    /// # Errors
    /// Store errors.
    pub fn trained_on(&self, digest: mlops_core::Digest) -> Result<Vec<ModelVersion>> {
        self.search_all(vec![VersionFilter::TrainedOn(digest)])
    }
}
