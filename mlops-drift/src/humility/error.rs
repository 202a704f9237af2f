//! Errors of the humility rules, and the typed rejection a caller turns into an error response.

use std::fmt;

use super::evaluation::RuleId;
use super::schema::FeatureKind;

/// Everything that can go wrong when a humility policy is built, read, derived or compiled.
///
/// Evaluating a compiled policy never fails: a prediction it refuses is a
/// [`Verdict::Reject`](super::Verdict::Reject), a decision, not an error (see [`Rejected`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HumilityError {
    /// A rule is malformed: a NaN bound, an inverted band, unsorted bin edges, a share outside
    /// [0, 1], a blank name.
    #[error("invalid humility rule `{rule}`: {reason}")]
    InvalidRule {
        /// The rule's name (or its position, `#3`, when the name itself is the problem).
        rule: String,
        /// What is wrong.
        reason: String,
    },
    /// Two rules share a name.
    #[error("duplicate humility rule name `{name}`")]
    DuplicateRule {
        /// The name.
        name: String,
    },
    /// A rule names a feature the schema does not hold.
    #[error("humility rule `{rule}` names unknown feature `{feature}`")]
    UnknownFeature {
        /// The rule.
        rule: String,
        /// The feature.
        feature: String,
    },
    /// A rule's trigger needs a feature of another kind (bounds on a categorical feature).
    #[error("humility rule `{rule}` needs a {expected} feature, but `{feature}` is {found}")]
    FeatureKind {
        /// The rule.
        rule: String,
        /// The feature.
        feature: String,
        /// The kind the trigger needs.
        expected: FeatureKind,
        /// The feature's kind in the schema.
        found: FeatureKind,
    },
    /// A caller-controlled size is above its documented limit (see the constants of
    /// [`humility`](super)).
    #[error("too many {what}: {found} (the limit is {limit})")]
    Limit {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// What was found.
        found: usize,
    },
    /// A feature schema is malformed (an empty or duplicate name).
    #[error("invalid feature schema: {reason}")]
    InvalidSchema {
        /// What is wrong.
        reason: String,
    },
    /// A rule file could not be parsed (syntax, an unknown field, a wrong type).
    #[error("malformed humility policy ({format}): {reason}")]
    Malformed {
        /// `json` or `toml`.
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A rule file was written by a newer format.
    #[error(
        "humility policy format version {found} is newer than the supported version {supported}"
    )]
    FormatVersion {
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A rule could not be derived from a profile or a holdout sample (an unknown column, one of
    /// the wrong kind, no finite values).
    #[error("cannot derive a humility rule for `{feature}`: {reason}")]
    Derive {
        /// The column (empty for a holdout sample of scores).
        feature: String,
        /// Why.
        reason: String,
    },
    /// A parameter is outside its domain (a quantile outside [0, 1], a lower quantile above the
    /// upper one).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The result type of the humility module.
pub type Result<T, E = HumilityError> = std::result::Result<T, E>;

/// A prediction a humility rule rejected: the typed outcome a service turns into an error
/// response (HTTP 422 or a fallback path). Returned by
/// [`Decision::apply`](super::Decision::apply); the rule's name is
/// [`CompiledPolicy::rule_name`](super::CompiledPolicy::rule_name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub struct Rejected {
    /// The rule that decided.
    pub rule: RuleId,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the prediction was rejected by humility rule {}",
            self.rule
        )
    }
}
