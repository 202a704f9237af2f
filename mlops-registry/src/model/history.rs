//! Where aliases point, and the alias and state history, kept forever.

use chrono::{DateTime, Utc};
use mlops_core::{AliasName, VersionNumber};
use serde::{Deserialize, Serialize};

use super::StateName;

/// Where an alias points now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasTarget {
    /// The version.
    pub version: VersionNumber,
    /// When it was set.
    pub set_at: DateTime<Utc>,
    /// Who set it.
    pub set_by: mlops_core::ActorId,
}

/// One alias move, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasEvent {
    /// The alias.
    pub alias: AliasName,
    /// The version it pointed at before (`None`: it did not exist).
    pub from: Option<VersionNumber>,
    /// The version it points at after (`None`: it was removed).
    pub to: Option<VersionNumber>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: mlops_core::ActorId,
}

/// One lifecycle state change, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEvent {
    /// The version.
    pub version: VersionNumber,
    /// The state before.
    pub from: StateName,
    /// The state after.
    pub to: StateName,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: mlops_core::ActorId,
}
