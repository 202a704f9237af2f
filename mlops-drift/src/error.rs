//! Errors of the drift crate.

use std::fmt;

/// Which side of a two-sample comparison a value or error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sample {
    /// The reference (training-time) sample.
    Reference,
    /// The current (serving-time) sample.
    Current,
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reference => "reference",
            Self::Current => "current",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriftError {
    /// A sample had no usable values (after the NaN policy was applied).
    #[error("the {which} sample is empty")]
    EmptySample {
        /// Which sample.
        which: Sample,
    },
    /// A non-finite value was found where the policy forbids it.
    #[error("the {which} sample holds a non-finite value ({value}) at index {index}")]
    NonFinite {
        /// Which sample.
        which: Sample,
        /// Its index in the input.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A parameter was out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A column name was not found.
    #[error("unknown column `{name}`")]
    UnknownColumn {
        /// The column's name.
        name: String,
    },
    /// Input shapes disagree (columns of different lengths, a row of the wrong width).
    #[error("shape mismatch: {reason}")]
    Shape {
        /// What disagrees.
        reason: String,
    },
    /// A numeric computation could not produce a result (for example a series that did not
    /// converge).
    #[error("numerical failure in {method}: {reason}")]
    Numerical {
        /// The method.
        method: &'static str,
        /// What failed.
        reason: String,
    },
    /// The requested method or case is not supported.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// An Arrow column's type cannot be read as numbers or categories (feature `arrow`).
    #[error("column `{column}` has the unsupported Arrow type {data_type}")]
    UnsupportedArrowType {
        /// The column.
        column: String,
        /// Its Arrow type, as Arrow displays it.
        data_type: String,
    },
    /// A stored profile or report was written by a newer version of this crate.
    #[error("format version {found} is newer than the supported version {supported}")]
    FormatVersion {
        /// The version found in the input.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A stored profile could not be read or breaks an invariant (unsorted sample, counts that
    /// do not add up).
    #[error("invalid profile for column `{column}`: {reason}")]
    InvalidProfile {
        /// The column (empty for problems with the whole profile).
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A caller-supplied count or size exceeds a documented limit ([`crate::MAX_COUNT`] for
    /// counts and their sums, the `MAX_*` constants of each module for sizes), or an operation
    /// on counts would overflow.
    #[error("`{name}` is too large: {value} exceeds the limit {limit}")]
    LimitExceeded {
        /// What is too large (a parameter, or the counts being added).
        name: &'static str,
        /// Its value (as `u128`, so a sum that overflows `u64` is still reported).
        value: u128,
        /// The largest accepted value.
        limit: u128,
    },
    /// A conformance case file or case could not be read (feature `testkit`).
    #[cfg(feature = "testkit")]
    #[error("conformance case `{id}`: {reason}")]
    Conformance {
        /// The case id (empty for file-level problems).
        id: String,
        /// What is wrong.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = DriftError> = std::result::Result<T, E>;

/// What can go wrong when recording predictions and outcomes for performance monitoring.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PerformanceError {
    /// A prediction with this id is already pending.
    #[error("prediction `{id}` is already recorded")]
    DuplicatePrediction {
        /// The id.
        id: String,
    },
    /// An outcome arrived for an id with no pending prediction (never recorded, already
    /// matched, expired or evicted).
    #[error("no pending prediction `{id}` for this outcome")]
    UnknownPrediction {
        /// The id.
        id: String,
    },
    /// A score, value or outcome was NaN or infinite, or a probability outside [0, 1].
    #[error("invalid {what} for `{id}`: {value}")]
    InvalidValue {
        /// The id.
        id: String,
        /// Which value.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// The outcome's kind (class or number) does not match the prediction's.
    #[error("outcome for `{id}` does not match its prediction's kind")]
    KindMismatch {
        /// The id.
        id: String,
    },
    /// A configuration value was out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
