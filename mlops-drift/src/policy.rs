//! What to do with missing and infinite values, per column.
//!
//! A profile always records how many values were missing (NaN for numeric columns, `None` for
//! categorical ones) and how many were ±∞, whatever the policy: the policy is applied when a
//! column is scored, so one fitted profile serves every policy.

use serde::{Deserialize, Serialize};

/// What to do with missing values (NaN in a numeric column, `None` in a categorical one).
///
/// Whatever the policy, the change in the share of missing values is always reported with a
/// two-proportion z-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NanPolicy {
    /// Drop missing values before the drift test (the default). Their share is still reported.
    #[default]
    Omit,
    /// A missing value in either sample is an error
    /// ([`DriftError::NonFinite`](crate::DriftError::NonFinite) for numeric columns,
    /// [`DriftError::InvalidParameter`](crate::DriftError::InvalidParameter) for categorical ones),
    /// reported as the column's status.
    Error,
    /// Treat "missing" as a value of its own. For a categorical column it is the category
    /// [`MISSING_CATEGORY`] of the drift test. For a numeric column the numeric test runs on the
    /// present values and the missing-share test joins the decision: the column drifts when
    /// either says so.
    AsCategory,
}

/// What to do with +∞ and −∞ in a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InfPolicy {
    /// Drop infinities before the drift test (the default); their counts are still reported.
    #[default]
    Omit,
    /// Count infinities as missing values, so the [`NanPolicy`] decides.
    AsMissing,
    /// An infinity in either sample is an error, reported as the column's status.
    Error,
}

/// The name of the category that stands for missing values under [`NanPolicy::AsCategory`].
pub const MISSING_CATEGORY: &str = "<missing>";

/// The name of the bucket that collects current categories never seen in the reference.
pub const OTHER_CATEGORY: &str = "<other>";
