//! A version as read: its immutable core and its mutable status (state, annotations, humility rules).

use mlops_core::{Digest, ModelName, ModelRef, VersionNumber};
use serde::{Deserialize, Serialize};

use super::{StateName, Tags, VersionCore};

/// The mutable part of a version: description and tags.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Annotations {
    /// Free text (see [`validate_description`](super::validate_description)).
    pub description: String,
    /// Tags.
    pub tags: Tags,
}

/// The per-version mutable record kept in the model aggregate: lifecycle state, annotations and
/// the per-prediction (humility) rules the version serves with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionStatus {
    /// The lifecycle state name.
    pub state: StateName,
    /// Description and tags.
    pub annotations: Annotations,
    /// The humility rules the version serves with, stored beside its drift profile. Changing
    /// them while the version is in a protected state is a governed change (see
    /// [`governed`](crate::governed)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humility_rules: Option<RulesRef>,
}

/// A reference to a version's serialized humility rules (`mlops_drift::humility` JSON or TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesRef {
    /// Where the serialized rules are stored.
    pub uri: String,
    /// The SHA-256 digest of the serialized rules.
    pub digest: Digest,
}

/// A version as read from a store: its number, immutable core, and current state and
/// annotations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    model: ModelName,
    number: VersionNumber,
    core: VersionCore,
    status: VersionStatus,
}

impl ModelVersion {
    /// Assembles a version (for store implementations).
    #[must_use]
    pub fn new(
        model: ModelName,
        number: VersionNumber,
        core: VersionCore,
        status: VersionStatus,
    ) -> Self {
        Self {
            model,
            number,
            core,
            status,
        }
    }
    /// The model's name.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.model
    }
    /// The version number.
    #[must_use]
    pub fn number(&self) -> VersionNumber {
        self.number
    }
    /// `name@vN`.
    #[must_use]
    pub fn model_ref(&self) -> ModelRef {
        ModelRef::new(self.model.clone(), self.number)
    }
    /// The immutable core.
    #[must_use]
    pub fn core(&self) -> &VersionCore {
        &self.core
    }
    /// The lifecycle state name.
    #[must_use]
    pub fn state(&self) -> &StateName {
        &self.status.state
    }
    /// Description and tags.
    #[must_use]
    pub fn annotations(&self) -> &Annotations {
        &self.status.annotations
    }
    /// State and annotations together.
    #[must_use]
    pub fn status(&self) -> &VersionStatus {
        &self.status
    }
}
