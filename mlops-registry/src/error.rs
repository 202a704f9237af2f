//! The registry's error type.

use std::fmt;

pub(crate) use mlops_core::error::shorten;
use mlops_core::{IdError, ModelName};

use crate::model::Revision;
use crate::store::Capability;

/// `Result` with [`RegistryError`] as the default error.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// What kind of thing an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntityKind {
    /// A registered model.
    Model,
    /// A model version.
    Version,
    /// An alias of a model.
    Alias,
    /// An audit record.
    AuditRecord,
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Model => "model",
            Self::Version => "version",
            Self::Alias => "alias",
            Self::AuditRecord => "audit record",
        })
    }
}

/// Everything that can go wrong in the registry and its stores.
///
/// Every variant names the value it is about, so a caller can act on it without parsing the
/// message. Nothing is written when an operation returns an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A compare-and-swap commit found a different revision than the one the caller read: someone
    /// else changed the model in between. Re-read and retry (or give up).
    #[error("model `{model}` changed concurrently: expected revision {expected}, found {actual}")]
    Conflict {
        /// The model.
        model: ModelName,
        /// The revision the caller expected.
        expected: Revision,
        /// The revision actually stored.
        actual: Revision,
    },
    /// The thing does not exist.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What kind of thing.
        kind: EntityKind,
        /// Its identifier, as text.
        id: String,
    },
    /// The thing already exists.
    #[error("{kind} `{id}` already exists")]
    AlreadyExists {
        /// What kind of thing.
        kind: EntityKind,
        /// Its identifier, as text.
        id: String,
    },
    /// An identifier failed validation.
    #[error(transparent)]
    InvalidId(#[from] IdError),
    /// A field failed validation (a tag, a description, a URI, a metric...).
    #[error("invalid {field} `{value}`: {reason}")]
    InvalidInput {
        /// Which field.
        field: &'static str,
        /// The offending value, shortened to 80 characters.
        value: String,
        /// The rule it broke.
        reason: String,
    },
    /// A commit's new aggregate is not a valid successor of the stored one (renamed model, added
    /// or removed versions, rewritten history, alias to a missing version...).
    #[error("invalid commit for model `{model}`: {reason}")]
    InvalidCommit {
        /// The model.
        model: ModelName,
        /// What was wrong.
        reason: String,
    },
    /// An idempotency key was reused for a version with different content.
    #[error(
        "idempotency key `{key}` of model `{model}` already created version {version} with different content"
    )]
    IdempotencyMismatch {
        /// The model.
        model: ModelName,
        /// The key.
        key: String,
        /// The version the key created.
        version: mlops_core::VersionNumber,
    },
    /// The alias is protected and can only be moved through governance.
    #[error("alias `{alias}` of model `{model}` is protected; move it through governance")]
    ProtectedAlias {
        /// The model.
        model: ModelName,
        /// The alias.
        alias: mlops_core::AliasName,
    },
    /// An unsealed commit tried to change what only governance may change (see
    /// [`governed`](crate::governed)).
    #[error("model `{model}`: {change}")]
    Protected {
        /// The model.
        model: ModelName,
        /// What the commit tried to change.
        change: crate::governed::ProtectedChange,
    },
    /// An audit record in a namespace reserved for governance was offered without the seal.
    #[error("audit action `{action}` is reserved for governance")]
    ReservedAction {
        /// The action.
        action: String,
    },
    /// The store lacks a capability the registry needs.
    #[error("store `{store}` lacks the capability {capability:?}")]
    MissingCapability {
        /// The store's name.
        store: String,
        /// The missing capability.
        capability: Capability,
    },
    /// A model ran out of version numbers or the audit log out of sequence numbers.
    #[error("{what} exhausted")]
    Exhausted {
        /// What ran out.
        what: &'static str,
    },
    /// A page token was not produced by this query.
    #[error("invalid page token `{token}`")]
    InvalidPageToken {
        /// The token, shortened.
        token: String,
    },
    /// Retrying a conflicting operation did not succeed within the retry budget.
    #[error("gave up on model `{model}` after {attempts} conflicting attempts")]
    RetriesExhausted {
        /// The model.
        model: ModelName,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The storage file or database holds data this code cannot read (corrupted file, bad
    /// record).
    #[error("storage is corrupt: {detail}")]
    Corrupt {
        /// What was found.
        detail: String,
    },
    /// The storage was written by a newer version of this library.
    #[error("storage schema version {found} is newer than the supported version {supported}")]
    SchemaTooNew {
        /// The schema version found.
        found: i64,
        /// The newest version this code understands.
        supported: i64,
    },
    /// The storage backend failed (I/O, locking, database error).
    #[error("storage error: {message}")]
    Storage {
        /// The backend's message.
        message: String,
    },
    /// The database server cannot be reached (connection refused or lost, server shutting
    /// down or restarting, no pooled connection within the timeout). Retry later. If the
    /// connection was lost while a commit was being acknowledged, the commit may or may not
    /// have been applied: re-read (a retried commit then gets `Conflict`; a retried create
    /// with the same idempotency key returns the version it made).
    #[error("storage unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
    },
}

impl RegistryError {
    /// A [`RegistryError::NotFound`] for a model.
    #[must_use]
    pub fn model_not_found(model: &ModelName) -> Self {
        Self::NotFound {
            kind: EntityKind::Model,
            id: model.to_string(),
        }
    }

    /// A [`RegistryError::NotFound`] for a version.
    #[must_use]
    pub fn version_not_found(model: &ModelName, version: mlops_core::VersionNumber) -> Self {
        Self::NotFound {
            kind: EntityKind::Version,
            id: format!("{model}@{version}"),
        }
    }

    /// A [`RegistryError::InvalidInput`], shortening `value` to 80 characters.
    #[must_use]
    pub fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            value: shorten(value),
            reason: reason.into(),
        }
    }
}
