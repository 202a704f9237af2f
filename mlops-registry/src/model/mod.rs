//! The registry's records: registered models, versions with an immutable core and mutable
//! annotations, aliases, lifecycle state names, history, and the per-model aggregate that every
//! commit replaces as a whole.
//!
//! One file each: the records ([`RegisteredModel`], [`Tags`]), a version's immutable core and
//! its builder ([`VersionCore`], [`Lineage`]), a version as read ([`ModelVersion`],
//! [`VersionStatus`]), the history ([`AliasEvent`], [`StateEvent`]), the aggregate
//! ([`ModelAggregate`]) and the identifiers of a commit ([`Revision`], [`IdempotencyKey`]).
//!
//! # Limits
//!
//! | what | limit |
//! |---|---|
//! | tags per model or version | [`Tags::MAX_TAGS`] (64) |
//! | tag key | 1–[`Tags::MAX_KEY_LEN`] (128) characters of `[A-Za-z0-9._:/-]` |
//! | tag value | at most [`Tags::MAX_VALUE_LEN`] (4096) characters, no control characters |
//! | description | at most [`MAX_DESCRIPTION_LEN`] (16 384) characters |
//! | URI, code reference, run id, text fields | at most [`MAX_TEXT_LEN`] (2048) characters, no control characters |
//! | parameters / metrics per version | [`MAX_LINEAGE_ENTRIES`] (1024) each |
//! | state name | 1–64 characters of `[a-z0-9_-]`, starting with a letter |

mod aggregate;
mod history;
mod ids;
mod registered;
mod tags;
#[cfg(test)]
mod tests;
mod version;
mod version_core;

pub use aggregate::{AggregateParts, ModelAggregate, Protection};
pub use history::{AliasEvent, AliasTarget, StateEvent};
pub use ids::{IdempotencyKey, Revision};
pub use registered::RegisteredModel;
pub use tags::Tags;
pub use version::{Annotations, ModelVersion, RulesRef, VersionStatus};
pub use version_core::{
    ArtifactRef, CodeRef, DatasetRef, DatasetRole, Lineage, ProfileRef, VersionCore,
    VersionCoreBuilder,
};

use crate::error::{RegistryError, Result};

/// The longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 16_384;
/// The longest URI, code reference, run id or other short text field, in characters.
pub const MAX_TEXT_LEN: usize = 2048;
/// The most parameters, metrics, datasets or artifacts a version may carry (each).
pub const MAX_LINEAGE_ENTRIES: usize = 1024;

fn check_text(field: &'static str, value: &str, max: usize, allow_empty: bool) -> Result<()> {
    // Descriptions may span lines; short fields may not.
    let multiline = max > MAX_TEXT_LEN;
    if !allow_empty && value.is_empty() {
        return Err(RegistryError::invalid(field, value, "must not be empty"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(RegistryError::invalid(
            field,
            value,
            format!("{len} characters; at most {max} are allowed"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))
    {
        return Err(RegistryError::invalid(
            field,
            value,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(())
}

/// Validates a description: at most [`MAX_DESCRIPTION_LEN`] characters; newlines and tabs are
/// allowed, other control characters are not.
///
/// # Errors
/// [`RegistryError::InvalidInput`] naming the value.
pub fn validate_description(description: &str) -> Result<()> {
    check_text("description", description, MAX_DESCRIPTION_LEN, true)
}

/// The name of a lifecycle state (defined in `mlops-core`, beside the other identifiers).
pub use mlops_core::StateName;
