//! Validation errors for the core identifiers.

use std::fmt;

/// Which identifier a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// A [`ModelName`](crate::ModelName).
    ModelName,
    /// A [`VersionNumber`](crate::VersionNumber).
    VersionNumber,
    /// A [`ModelRef`](crate::ModelRef).
    ModelRef,
    /// An [`AliasName`](crate::AliasName).
    AliasName,
    /// An [`ActorId`](crate::ActorId).
    ActorId,
    /// A [`Role`](crate::Role).
    Role,
    /// A [`CheckName`](crate::CheckName).
    CheckName,
    /// A [`Digest`](crate::Digest).
    Digest,
    /// A [`RiskTier`](crate::RiskTier).
    RiskTier,
    /// A [`StateName`](crate::StateName).
    StateName,
    /// An [`EventName`](crate::EventName).
    EventName,
    /// An [`AuditAction`](crate::AuditAction).
    AuditAction,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ModelName => "model name",
            Self::VersionNumber => "version number",
            Self::ModelRef => "model reference",
            Self::AliasName => "alias name",
            Self::ActorId => "actor id",
            Self::Role => "role",
            Self::CheckName => "check name",
            Self::Digest => "digest",
            Self::RiskTier => "risk tier",
            Self::StateName => "state name",
            Self::EventName => "event name",
            Self::AuditAction => "audit action",
        })
    }
}

/// An identifier failed validation. Each variant names the identifier kind, the offending value
/// (shortened to 80 characters) and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The value was empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// The identifier kind.
        kind: IdKind,
    },
    /// The value was longer than the limit.
    #[error("{kind} `{value}` is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The value contained a character outside the allowed set.
    #[error("{kind} `{value}` contains {ch:?} at position {position}; allowed: {allowed}")]
    InvalidChar {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
        /// The first character that is not allowed.
        ch: char,
        /// Its position, in characters from 0.
        position: usize,
        /// The allowed set, in words.
        allowed: &'static str,
    },
    /// The value started with a character that may not begin it.
    #[error("{kind} `{value}` must not start with {ch:?}")]
    BadStart {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
        /// The first character.
        ch: char,
    },
    /// The value contained `..`, which could escape a directory when used in a path.
    #[error("{kind} `{value}` contains `..` (path traversal)")]
    PathTraversal {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
    },
    /// The value is reserved and cannot be used.
    #[error("{kind} `{value}` is reserved: {reason}")]
    Reserved {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
        /// Why it is reserved.
        reason: &'static str,
    },
    /// A version number was zero; versions start at 1.
    #[error("version number must be at least 1, got 0")]
    ZeroVersion,
    /// The value does not have the expected shape (for example `name@v3`).
    #[error("{kind} `{value}` is malformed: expected {expected}")]
    Malformed {
        /// The identifier kind.
        kind: IdKind,
        /// The offending value, shortened.
        value: String,
        /// The expected shape, in words.
        expected: &'static str,
    },
}

/// Shortens user input for an error message so a huge value cannot flood a log line: at most
/// 80 characters, then `…`. Every crate of the SDK quotes user input through it (or
/// [`shorten_to`] where a tighter bound suits).
///
/// ```
/// assert_eq!(mlops_core::error::shorten("abc"), "abc");
/// assert_eq!(mlops_core::error::shorten(&"x".repeat(100)).chars().count(), 81);
/// ```
#[must_use]
pub fn shorten(value: &str) -> String {
    shorten_to(value, 80)
}

/// [`shorten`] to at most `max_chars` characters (then `…`).
#[must_use]
pub fn shorten_to(value: &str, max_chars: usize) -> String {
    let mut out: String = value.chars().take(max_chars).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}
