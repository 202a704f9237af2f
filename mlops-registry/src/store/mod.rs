//! The [`ModelStore`] trait that hosts implement over their own storage, its request and query
//! types, and the stores shipped with the crate.
//!
//! # Contract
//!
//! - Per model there is one [`ModelAggregate`] with one [`Revision`]. The only mutation of an
//!   existing aggregate is [`ModelStore::commit`]: it writes the new aggregate and its audit
//!   records atomically if and only if the stored revision equals the expected one, and
//!   otherwise returns [`RegistryError::Conflict`] and writes nothing.
//! - [`ModelStore::create_version`] allocates the next version number atomically (numbers are
//!   never reused), writes the immutable core, adds the version to the aggregate in its initial
//!   state, bumps the revision and appends one `registry.version.created` audit record
//!   ([`version_created_draft`]) plus the request's drafts, all atomically. With an idempotency
//!   key, a retry returns the version the first call created.
//! - Every audit record is sealed with [`audit::seal`](crate::audit::seal) in the same atomic
//!   step as the state it describes; sequence numbers are global and gap-free.
//! - A failed call writes nothing.
//!
//! The conformance test kit (`testkit` feature) checks all of this against any implementation.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mlops_core::{AliasName, Digest, ModelName, ModelRef, Subject};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditAction, AuditDraft, AuditRecord, ChainHead};
use crate::error::{RegistryError, Result};
use crate::model::{
    Annotations, IdempotencyKey, ModelAggregate, ModelVersion, RegisteredModel, Revision, RulesRef,
    StateName, VersionCore,
};

pub mod feed;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub(crate) mod search;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_codec;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_feed;

pub use feed::{Change, ChangeEvent, ChangeFeed};
pub use memory::InMemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder};
pub use search::search_versions_in_memory;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, Synchronous};

/// Something a store guarantees. The [`Registry`](crate::Registry) refuses a store lacking what
/// it needs rather than silently losing updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Capability {
    /// `commit` is a true compare-and-swap on the revision.
    CompareAndSwap,
    /// Audit records are written in the same atomic step as the state they describe.
    AtomicAudit,
    /// Version numbers are allocated atomically and never reused.
    AtomicVersionNumbers,
    /// Idempotency keys on version creation are honoured.
    IdempotentCreate,
    /// Acknowledged writes survive a process crash.
    Durable,
    /// [`ModelStore::subscribe`] delivers a change feed (see [`feed`]).
    ChangeFeed,
}

/// The set of capabilities a store declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities(u32);

impl Capabilities {
    fn bit(c: Capability) -> u32 {
        match c {
            Capability::CompareAndSwap => 1,
            Capability::AtomicAudit => 2,
            Capability::AtomicVersionNumbers => 4,
            Capability::IdempotentCreate => 8,
            Capability::Durable => 16,
            Capability::ChangeFeed => 32,
        }
    }

    /// No capabilities.
    #[must_use]
    pub fn none() -> Self {
        Self(0)
    }

    /// Adds `c`.
    #[must_use]
    pub fn with(self, c: Capability) -> Self {
        Self(self.0 | Self::bit(c))
    }

    /// Whether `c` is declared.
    #[must_use]
    pub fn contains(self, c: Capability) -> bool {
        self.0 & Self::bit(c) != 0
    }

    /// Every capability the registry needs: compare-and-swap, atomic audit, atomic version
    /// numbers and idempotent create.
    #[must_use]
    pub fn required() -> Self {
        Self::none()
            .with(Capability::CompareAndSwap)
            .with(Capability::AtomicAudit)
            .with(Capability::AtomicVersionNumbers)
            .with(Capability::IdempotentCreate)
    }

    /// The first capability of `needed` missing from `self`.
    #[must_use]
    pub fn missing(self, needed: Self) -> Option<Capability> {
        [
            Capability::CompareAndSwap,
            Capability::AtomicAudit,
            Capability::AtomicVersionNumbers,
            Capability::IdempotentCreate,
            Capability::Durable,
            Capability::ChangeFeed,
        ]
        .into_iter()
        .find(|&c| needed.contains(c) && !self.contains(c))
    }
}

/// A request to create a version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The model (must exist).
    pub model: ModelName,
    /// The immutable core.
    pub core: VersionCore,
    /// The initial annotations.
    pub annotations: Annotations,
    /// The initial lifecycle state (default: [`StateName::development`]).
    pub initial_state: StateName,
    /// Makes a retried create return the original version.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The humility rules the version will serve with (stored beside its drift profile).
    pub humility_rules: Option<RulesRef>,
    /// Extra audit records to write with the creation (after the `registry.version.created`
    /// record).
    pub audit: Vec<AuditDraft>,
}

impl NewVersion {
    /// A request with no annotations, the default initial state, no key and no extra audit.
    #[must_use]
    pub fn new(model: ModelName, core: VersionCore) -> Self {
        Self {
            model,
            core,
            annotations: Annotations::default(),
            initial_state: StateName::development(),
            idempotency_key: None,
            humility_rules: None,
            audit: Vec::new(),
        }
    }

    /// Sets the idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Sets the annotations.
    #[must_use]
    pub fn with_annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Sets the humility rules the version serves with.
    #[must_use]
    pub fn with_humility_rules(mut self, rules: RulesRef) -> Self {
        self.humility_rules = Some(rules);
        self
    }

    /// Sets the initial state.
    #[must_use]
    pub fn with_initial_state(mut self, state: StateName) -> Self {
        self.initial_state = state;
        self
    }
}

/// Whether a create made a new version or replayed an earlier one.
///
/// Exhaustive on purpose: a caller retrying a create must handle both outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreateOutcome {
    /// A new version was created.
    Created,
    /// The idempotency key matched an earlier create; nothing was written.
    Replayed,
}

/// The result of [`ModelStore::create_version`].
#[derive(Debug, Clone, PartialEq)]
pub struct VersionCreated {
    /// The version (new or replayed).
    pub version: ModelVersion,
    /// The model's revision after the call.
    pub revision: Revision,
    /// Created or replayed.
    pub outcome: CreateOutcome,
}

/// The audit draft every store writes when it creates a version: action
/// `registry.version.created`, actor and time from the core, subject the version, `state_after`
/// the initial state, details listing artifact digests, dataset digests and the parent.
#[must_use]
pub fn version_created_draft(version: &ModelVersion) -> AuditDraft {
    let core = version.core();
    let details = serde_json::json!({
        "artifacts": core.artifacts().iter().map(|a| serde_json::json!({
            "name": a.name, "digest": a.digest.to_string(), "size_bytes": a.size_bytes,
        })).collect::<Vec<_>>(),
        "datasets": core.lineage().datasets.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>(),
        "parent": core.lineage().parent.as_ref().map(ToString::to_string),
    });
    AuditDraft::new(
        core.created_at(),
        core.created_by().clone(),
        AuditAction::version_created(),
        Subject::Version {
            version: version.model_ref(),
        },
    )
    .with_states(None, Some(version.state().clone()))
    .with_details(details)
}

/// An opaque continuation token for a paginated listing. Pass it back unchanged with the same
/// query to get the next page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(String);

impl PageToken {
    /// Wraps a token received from a caller (validated when used).
    #[must_use]
    pub fn from_string(token: String) -> Self {
        Self(token)
    }

    /// The token as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A token meaning "after this model and version" (for store implementations).
    #[must_use]
    pub fn after(model: &ModelName, version: Option<mlops_core::VersionNumber>) -> Self {
        let raw = match version {
            Some(v) => format!("{model}@{}", v.get()),
            None => model.to_string(),
        };
        Self(hex::encode(raw.as_bytes()))
    }

    /// Decodes a token made by [`PageToken::after`].
    ///
    /// # Errors
    /// [`RegistryError::InvalidPageToken`] for anything else.
    pub fn decode(&self) -> Result<(ModelName, Option<mlops_core::VersionNumber>)> {
        let bad = || RegistryError::InvalidPageToken {
            token: crate::error::shorten(&self.0),
        };
        let bytes = hex::decode(&self.0).map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        match raw.split_once('@') {
            Some((m, v)) => {
                let n: u64 = v.parse().map_err(|_| bad())?;
                Ok((
                    ModelName::new(m).map_err(|_| bad())?,
                    Some(mlops_core::VersionNumber::new(n).map_err(|_| bad())?),
                ))
            }
            None => Ok((ModelName::new(raw).map_err(|_| bad())?, None)),
        }
    }
}

impl fmt::Display for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the listing's stable order.
    pub items: Vec<T>,
    /// The token for the next page; `None` on the last page.
    pub next: Option<PageToken>,
}

/// The largest page size; larger requests are clamped.
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when none is given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// One condition on versions. A [`VersionQuery`] matches versions meeting all its filters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VersionFilter {
    /// The model's name is exactly this.
    Model(ModelName),
    /// The model's name starts with this.
    ModelNamePrefix(String),
    /// The version has tag `key` equal to `value`.
    Tag {
        /// The tag key.
        key: String,
        /// The tag value.
        value: String,
    },
    /// The version is currently the target of this alias.
    Alias(AliasName),
    /// The version is in this lifecycle state.
    State(StateName),
    /// The version was created in `[from, to)`.
    CreatedBetween {
        /// Inclusive start.
        from: DateTime<Utc>,
        /// Exclusive end.
        to: DateTime<Utc>,
    },
    /// The version's lineage lists a dataset with this digest.
    TrainedOn(Digest),
    /// The version descends (through parent links, transitively) from this version.
    DescendantOf(ModelRef),
}

/// A search over versions, ordered by model name then version number, paginated.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionQuery {
    /// All must match.
    pub filters: Vec<VersionFilter>,
    /// Page size (1 to [`MAX_PAGE_SIZE`]; 0 means [`DEFAULT_PAGE_SIZE`]).
    pub page_size: usize,
    /// Where to continue.
    pub page_token: Option<PageToken>,
}

impl Default for VersionQuery {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
            page_token: None,
        }
    }
}

impl VersionQuery {
    /// Every version, first page.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a filter.
    #[must_use]
    pub fn filter(mut self, f: VersionFilter) -> Self {
        self.filters.push(f);
        self
    }
    /// Sets the page size.
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n;
        self
    }
    /// Continues after `token`.
    #[must_use]
    pub fn after(mut self, token: Option<PageToken>) -> Self {
        self.page_token = token;
        self
    }
    /// The effective page size.
    #[must_use]
    pub fn effective_page_size(&self) -> usize {
        match self.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

/// A listing of models, ordered by name, paginated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelQuery {
    /// Only names starting with this.
    pub name_prefix: Option<String>,
    /// Only models with this tag key and value.
    pub tag: Option<(String, String)>,
    /// Page size (1 to [`MAX_PAGE_SIZE`]; 0 means [`DEFAULT_PAGE_SIZE`]).
    pub page_size: usize,
    /// Where to continue.
    pub page_token: Option<PageToken>,
}

impl ModelQuery {
    /// The effective page size.
    #[must_use]
    pub fn effective_page_size(&self) -> usize {
        match self.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
    /// Whether `model` passes the name and tag conditions.
    #[must_use]
    pub fn matches(&self, model: &RegisteredModel) -> bool {
        self.name_prefix
            .as_deref()
            .is_none_or(|p| model.name().as_str().starts_with(p))
            && self
                .tag
                .as_ref()
                .is_none_or(|(k, v)| model.tags.get(k) == Some(v.as_str()))
    }
}

/// The storage behind a registry: synchronous, object-safe, `Send + Sync`.
///
/// See the [module docs](self) for the contract, and the `testkit` feature for its conformance
/// tests.
pub trait ModelStore: Send + Sync {
    /// A short name for logs and errors (`in-memory`, `sqlite:/path`).
    fn name(&self) -> String;

    /// What this store guarantees.
    fn capabilities(&self) -> Capabilities;

    /// Creates a model with `aggregate` (which must have no versions) at
    /// [`Revision::initial`], writing `audit` atomically with it.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyExists`] if the name is taken; [`RegistryError::InvalidCommit`]
    /// if the aggregate has versions; [`RegistryError::InvalidInput`] for a bad audit draft;
    /// [`RegistryError::Storage`] on backend failure.
    fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision>;

    /// Replaces the aggregate of `model` with `new` and appends `audit`, atomically, if and
    /// only if its stored revision is `expected`. Returns the new revision.
    ///
    /// # Errors
    /// [`RegistryError::Conflict`] when the stored revision differs;
    /// [`RegistryError::NotFound`] for an unknown model; [`RegistryError::InvalidCommit`] when
    /// `new` is not a valid successor (see [`ModelAggregate::check_successor_of`]);
    /// [`RegistryError::InvalidInput`] for a bad audit draft; [`RegistryError::Storage`] on
    /// backend failure. Nothing is written on error.
    fn commit(
        &self,
        model: &ModelName,
        expected: Revision,
        new: ModelAggregate,
        audit: Vec<AuditDraft>,
    ) -> Result<Revision>;

    /// Creates a version (see the [module docs](self)).
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown model; [`RegistryError::IdempotencyMismatch`]
    /// when the key created a version with different content; [`RegistryError::InvalidInput`]
    /// for a bad core or draft; [`RegistryError::Exhausted`]; [`RegistryError::Storage`].
    fn create_version(&self, request: NewVersion) -> Result<VersionCreated>;

    /// Appends audit records that change no state (a denied transition, a report export),
    /// atomically; returns their sequence numbers.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for a bad draft; [`RegistryError::Storage`].
    fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>>;

    /// The aggregate of `model`, at its current revision.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; [`RegistryError::Storage`].
    fn get_model(&self, model: &ModelName) -> Result<ModelAggregate>;

    /// One version.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown model or version; [`RegistryError::Storage`].
    fn get_version(&self, version: &ModelRef) -> Result<ModelVersion>;

    /// Models in name order.
    ///
    /// # Errors
    /// [`RegistryError::InvalidPageToken`]; [`RegistryError::Storage`].
    fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>>;

    /// Versions matching `query`, in (model name, version number) order.
    ///
    /// # Errors
    /// [`RegistryError::InvalidPageToken`]; [`RegistryError::Storage`].
    fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>>;

    /// Up to `limit` audit records by position: the record appended `from`-th (1-based) and
    /// the ones appended after it, in append order. Fewer than `limit` only at the end of the
    /// log; `from` 0 reads as 1. The position is the store's own key for the record (for a
    /// store that was not tampered with it equals the record's `seq`), never read from the
    /// record itself, so a reader paging with `from += page.len()` always advances.
    ///
    /// # Errors
    /// [`RegistryError::Corrupt`] for a stored record that cannot be decoded (naming its
    /// position); [`RegistryError::Storage`].
    fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>>;

    /// The chain head the store recorded with its last append (`None`: nothing appended yet).
    /// Verification checks that the log ends exactly there.
    ///
    /// It protects against removing or rewriting records at the end of the log by whoever can
    /// edit the audit records but not the head. Whoever can rewrite the whole store, head
    /// included, is caught only by a checkpoint exported earlier and kept elsewhere.
    ///
    /// # Errors
    /// [`RegistryError::Corrupt`] for an unreadable head; [`RegistryError::Storage`].
    fn audit_head(&self) -> Result<Option<ChainHead>>;

    /// Subscribes to the store's change feed (capability [`Capability::ChangeFeed`]; see
    /// [`feed`]). The default, for stores without a feed, refuses.
    ///
    /// # Errors
    /// [`RegistryError::MissingCapability`] when the store has no feed;
    /// [`RegistryError::Unavailable`] or [`RegistryError::Storage`] when it cannot start one.
    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        Err(RegistryError::MissingCapability {
            store: self.name(),
            capability: Capability::ChangeFeed,
        })
    }
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<T: ModelStore + ?Sized> ModelStore for $ty {
            fn name(&self) -> String {
                (**self).name()
            }
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn create_model(&self, aggregate: ModelAggregate, audit: Vec<AuditDraft>) -> Result<Revision> {
                (**self).create_model(aggregate, audit)
            }
            fn commit(
                &self,
                model: &ModelName,
                expected: Revision,
                new: ModelAggregate,
                audit: Vec<AuditDraft>,
            ) -> Result<Revision> {
                (**self).commit(model, expected, new, audit)
            }
            fn create_version(&self, request: NewVersion) -> Result<VersionCreated> {
                (**self).create_version(request)
            }
            fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<Vec<u64>> {
                (**self).append_audit(audit)
            }
            fn get_model(&self, model: &ModelName) -> Result<ModelAggregate> {
                (**self).get_model(model)
            }
            fn get_version(&self, version: &ModelRef) -> Result<ModelVersion> {
                (**self).get_version(version)
            }
            fn list_models(&self, query: &ModelQuery) -> Result<Page<RegisteredModel>> {
                (**self).list_models(query)
            }
            fn search_versions(&self, query: &VersionQuery) -> Result<Page<ModelVersion>> {
                (**self).search_versions(query)
            }
            fn read_audit(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>> {
                (**self).read_audit(from, limit)
            }
            fn audit_head(&self) -> Result<Option<ChainHead>> {
                (**self).audit_head()
            }
            fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
                (**self).subscribe()
            }
        }
    )*};
}

forward_store!(Box<T>, Arc<T>, &T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let m = ModelName::new("fraud.v2").unwrap();
        let v = mlops_core::VersionNumber::new(12).unwrap();
        assert_eq!(
            PageToken::after(&m, Some(v)).decode().unwrap(),
            (m.clone(), Some(v))
        );
        assert_eq!(PageToken::after(&m, None).decode().unwrap(), (m, None));
        for bad in [
            "",
            "zz",
            "00",
            &hex::encode("a@x"),
            &hex::encode("a@0"),
            &hex::encode("../x"),
        ] {
            let t = PageToken::from_string(bad.to_owned());
            assert!(
                matches!(t.decode(), Err(RegistryError::InvalidPageToken { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn capabilities_set_logic() {
        let c = Capabilities::none().with(Capability::CompareAndSwap);
        assert!(c.contains(Capability::CompareAndSwap));
        assert!(!c.contains(Capability::Durable));
        assert_eq!(
            c.missing(Capabilities::required()),
            Some(Capability::AtomicAudit)
        );
        assert_eq!(
            Capabilities::required().missing(Capabilities::required()),
            None
        );
    }

    #[test]
    fn page_sizes_are_clamped() {
        assert_eq!(
            VersionQuery::new().page_size(0).effective_page_size(),
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(
            VersionQuery::new().page_size(5000).effective_page_size(),
            MAX_PAGE_SIZE
        );
        assert_eq!(VersionQuery::new().page_size(7).effective_page_size(), 7);
    }
}
