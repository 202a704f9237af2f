//! The record at the top of a model's aggregate.

use chrono::{DateTime, Utc};
use mlops_core::{ModelName, RiskTier};
use serde::{Deserialize, Serialize};

use super::Tags;

/// A registered model: the record at the top of a model's aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub(super) name: ModelName,
    /// Free text (see [`validate_description`](super::validate_description)).
    pub description: String,
    /// Who owns the model.
    pub owner: mlops_core::ActorId,
    /// Tags.
    pub tags: Tags,
    /// The risk tier (set by governance).
    pub risk_tier: RiskTier,
    pub(super) created_at: DateTime<Utc>,
    /// When the model record or anything in its aggregate last changed (set by whoever commits).
    pub updated_at: DateTime<Utc>,
}

impl RegisteredModel {
    /// A new model record, created and updated at `at`.
    #[must_use]
    pub fn new(name: ModelName, owner: mlops_core::ActorId, at: DateTime<Utc>) -> Self {
        Self {
            name,
            description: String::new(),
            owner,
            tags: Tags::new(),
            risk_tier: RiskTier::default(),
            created_at: at,
            updated_at: at,
        }
    }

    /// The model's name (never changes).
    #[must_use]
    pub fn name(&self) -> &ModelName {
        &self.name
    }

    /// When it was registered (never changes).
    #[must_use]
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}
