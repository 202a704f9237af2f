//! The compare-and-swap token of an aggregate and the idempotency key of a version creation.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check_text;
use crate::error::{RegistryError, Result, shorten};

/// The compare-and-swap token of a model aggregate. Opaque to callers: compare it for equality
/// and hand it back to [`ModelStore::commit`](crate::store::ModelStore::commit). Stores create
/// it with [`Revision::initial`] and [`Revision::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(u64);

impl Revision {
    /// The revision of a newly created model.
    #[must_use]
    pub const fn initial() -> Self {
        Self(1)
    }

    /// The revision after this one (saturating; 2⁶⁴ commits are not reachable).
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }

    /// Rebuilds a revision a store persisted with [`Revision::as_u64`].
    #[must_use]
    pub const fn from_u64(n: u64) -> Self {
        Self(n)
    }

    /// The number a store persists.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// An idempotency key for version creation: a retried create with the same key returns the
/// version the first attempt created. 1–128 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates `key`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for an empty or too long key or a control character.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        check_text("idempotency key", &key, 128, false)?;
        Ok(Self(key))
    }

    /// The key as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = RegistryError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shorten(&self.0))
    }
}
