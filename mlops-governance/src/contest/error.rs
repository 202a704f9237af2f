//! The errors of contests and bandits.

use mlops_core::VersionNumber;
use mlops_registry::routing::{ConfigRevision, RoutingError};

use crate::error::{AuditError, GovernanceError};

/// Why a contest or bandit could not be built, fed or acted on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ContestError {
    /// A parameter is out of its range.
    #[error("`{name}` is `{value}`: must be {expected}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The bad value.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// A metric name is empty, repeated, or not usable in an evidence check name.
    #[error("metric name `{name}` is invalid: {reason}")]
    InvalidMetric {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// The route table has no challenger, or a contest arm is not in it.
    #[error("the route table at {revision} has no challenger to contest")]
    NoChallenger {
        /// The table's revision.
        revision: ConfigRevision,
    },
    /// An outcome was given for a version that is not an arm of the contest.
    #[error("`v{version}` is not an arm of this contest")]
    UnknownArm {
        /// The version.
        version: VersionNumber,
    },
    /// An outcome was given for a metric the contest does not measure.
    #[error("metric index `{index}` is not measured by this contest")]
    UnknownMetric {
        /// The index.
        index: usize,
    },
    /// An outcome was given for a challenger removed from the route table mid-contest.
    #[error("challenger `v{version}` was removed from the route table")]
    ArmRemoved {
        /// The challenger.
        version: VersionNumber,
    },
    /// An outcome is NaN or infinite (rejected and counted).
    #[error("outcome `{value}` for `v{version}` is not finite")]
    NonFinite {
        /// The arm.
        version: VersionNumber,
        /// The value.
        value: f64,
    },
    /// A proportion metric got a value outside `[0, 1]` (rejected and counted).
    #[error("outcome `{value}` for `v{version}` is outside [0, 1]")]
    OutOfRange {
        /// The arm.
        version: VersionNumber,
        /// The value.
        value: f64,
    },
    /// The route table was changed by someone else: its revision is not the one the contest
    /// runs on. The contest is invalidated.
    #[error("route table moved from {expected} to {found} outside the contest")]
    RevisionMoved {
        /// The revision the contest runs on.
        expected: ConfigRevision,
        /// The serving revision.
        found: ConfigRevision,
        /// Challengers no longer in the table.
        removed: Vec<VersionNumber>,
    },
    /// An automated action was asked for a challenger whose outcome does not call for it.
    #[error("`v{version}` cannot be {action}: its outcome is {outcome}")]
    NotActionable {
        /// The challenger.
        version: VersionNumber,
        /// `promoted` or `rolled back`.
        action: &'static str,
        /// Its outcome.
        outcome: String,
    },
    /// The contest was invalidated (a sample-ratio mismatch, a moved table, too many rejected
    /// outcomes): it can no longer promote.
    #[error("the contest is invalid: {reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// A route table could not be built or published.
    #[error(transparent)]
    Routing(#[from] RoutingError),
    /// The governance engine refused or failed.
    #[error(transparent)]
    Governance(#[from] Box<GovernanceError>),
    /// The audit log failed (after the route change it was to describe was applied).
    #[error("audit failed after route table {revision} was published: {source}")]
    Audit {
        /// The revision already serving.
        revision: ConfigRevision,
        /// The failure.
        source: AuditError,
    },
}

impl ContestError {
    pub(crate) fn invalid(name: &'static str, value: f64, expected: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value,
            expected,
        }
    }
}
