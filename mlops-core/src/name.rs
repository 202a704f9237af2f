//! The names of the governed lifecycle and of the audit trail: lifecycle states
//! ([`StateName`]), lifecycle events ([`EventName`]) and audit actions ([`AuditAction`]).
//!
//! They are identifiers like the others in this crate: one validation each, reported as an
//! [`IdError`] naming its [`IdKind`]. Each can also be made from a literal at compile time with
//! `from_static`, which is how the SDK spells the names it knows
//! ([`StateName::DEVELOPMENT`], the [`AuditAction`] catalogue, the default lifecycle's
//! constants in `mlops-governance`):
//!
//! ```
//! use mlops_core::{EventName, StateName};
//! const SHIP: EventName = EventName::from_static("ship");
//! const LIVE: StateName = StateName::from_static("live");
//! assert_eq!(SHIP.as_str(), "ship");
//! assert_eq!(LIVE, "live".parse::<StateName>()?);
//! # Ok::<(), mlops_core::IdError>(())
//! ```
//!
//! In a `const` item an invalid literal is a compile error:
//!
//! ```compile_fail
//! const BAD: mlops_core::StateName = mlops_core::StateName::from_static("Not Valid");
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::{IdError, IdKind, shorten};
use crate::id::check_chars;

/// A set of ASCII characters that a `const fn` can test, built from named classes:
/// `AsciiSet::LOWER.and(AsciiSet::DIGITS).plus(b"_-")`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AsciiSet {
    lower: bool,
    upper: bool,
    digits: bool,
    extra: &'static [u8],
}

impl AsciiSet {
    const NONE: Self = Self {
        lower: false,
        upper: false,
        digits: false,
        extra: b"",
    };
    /// `a`–`z`.
    pub(crate) const LOWER: Self = Self {
        lower: true,
        ..Self::NONE
    };
    /// `A`–`Z`.
    pub(crate) const UPPER: Self = Self {
        upper: true,
        ..Self::NONE
    };
    /// `0`–`9`.
    pub(crate) const DIGITS: Self = Self {
        digits: true,
        ..Self::NONE
    };

    /// The union of two classes (the extra characters of `self`, or else of `other`).
    pub(crate) const fn and(self, other: Self) -> Self {
        Self {
            lower: self.lower || other.lower,
            upper: self.upper || other.upper,
            digits: self.digits || other.digits,
            extra: if self.extra.is_empty() {
                other.extra
            } else {
                self.extra
            },
        }
    }

    /// The set with `extra` characters added.
    pub(crate) const fn plus(self, extra: &'static [u8]) -> Self {
        Self { extra, ..self }
    }

    const fn contains(self, b: u8) -> bool {
        if (self.lower && b.is_ascii_lowercase())
            || (self.upper && b.is_ascii_uppercase())
            || (self.digits && b.is_ascii_digit())
        {
            return true;
        }
        let mut extra = self.extra;
        while let [e, rest @ ..] = extra {
            if *e == b {
                return true;
            }
            extra = rest;
        }
        false
    }

    fn contains_char(self, c: char) -> bool {
        u8::try_from(c).is_ok_and(|b| self.contains(b))
    }
}

/// The rules of an identifier made of ASCII characters: a length limit, the characters allowed
/// anywhere and those allowed first. Checked in full (with a precise [`IdError`]) at run time,
/// and as a yes/no in `const fn`s for literals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AsciiRules {
    pub(crate) kind: IdKind,
    pub(crate) max: usize,
    pub(crate) chars: AsciiSet,
    pub(crate) chars_words: &'static str,
    /// The set the first character must be in (a subset of `chars`); `None`: any of `chars`.
    pub(crate) first: Option<AsciiSet>,
}

impl AsciiRules {
    /// Whether `value` follows the rules.
    pub(crate) const fn accepts(&self, value: &str) -> bool {
        let bytes = value.as_bytes();
        if bytes.len() > self.max {
            return false;
        }
        let [first, ..] = bytes else {
            return false;
        };
        if let Some(set) = self.first
            && !set.contains(*first)
        {
            return false;
        }
        let mut rest = bytes;
        while let [b, tail @ ..] = rest {
            if !self.chars.contains(*b) {
                return false;
            }
            rest = tail;
        }
        true
    }

    /// Checks `value`, naming the rule it breaks.
    pub(crate) fn check(&self, value: &str) -> Result<(), IdError> {
        let chars = self.chars;
        check_chars(
            self.kind,
            value,
            self.max,
            |c| chars.contains_char(c),
            self.chars_words,
        )?;
        if let Some(set) = self.first
            && let Some(ch) = value.chars().next().filter(|&c| !set.contains_char(c))
        {
            return Err(IdError::BadStart {
                kind: self.kind,
                value: shorten(value),
                ch,
            });
        }
        Ok(())
    }
}

/// Defines a name type stored as `Cow<'static, str>`: `new` (validated), `from_static` (a
/// literal, checked at compile time in a `const`), `as_str`, and the string conversions.
macro_rules! static_name {
    ($(#[$doc:meta])* $ty:ident, $rules:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(Cow<'static, str>);

        impl $ty {
            const RULES: AsciiRules = $rules;
            /// The longest allowed name, in characters.
            pub const MAX_LEN: usize = Self::RULES.max;

            /// Validates `name`.
            ///
            /// # Errors
            /// [`IdError`] naming the rule broken: empty, too long, a character outside the
            /// allowed set, or a bad first character.
            pub fn new(name: impl Into<String>) -> Result<Self, IdError> {
                let name = name.into();
                Self::RULES.check(&name)?;
                Ok(Self(Cow::Owned(name)))
            }

            /// A name from a literal, for `const` items: there an invalid literal is a compile
            /// error (see the [module docs](crate::name)).
            ///
            /// # Panics
            /// If `name` breaks the rules of [`Self::new`], which in a `const` item is caught
            /// at compile time.
            #[must_use]
            pub const fn from_static(name: &'static str) -> Self {
                assert!(
                    Self::RULES.accepts(name),
                    concat!("not a valid ", stringify!($ty), " literal")
                );
                Self(Cow::Borrowed(name))
            }

            /// The name as a string slice.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        $crate::id::string_id_conversions!($ty);

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

pub(crate) use static_name;

static_name!(
    /// The name of a lifecycle state, such as `development`, `validation`, `production`,
    /// `archived`: 1–64 characters of `[a-z0-9_-]`, starting with a letter. The states
    /// themselves are defined by governance as data; the registry stores the name.
    ///
    /// ```
    /// use mlops_core::StateName;
    /// assert_eq!(StateName::DEVELOPMENT.as_str(), "development");
    /// assert!(StateName::new("Prod").is_err());
    /// ```
    StateName,
    AsciiRules {
        kind: IdKind::StateName,
        max: 64,
        chars: AsciiSet::LOWER.and(AsciiSet::DIGITS).plus(b"_-"),
        chars_words: "lowercase ASCII letters, digits, `_` and `-`",
        first: Some(AsciiSet::LOWER),
    }
);

impl StateName {
    /// `development`: the state of a new version.
    pub const DEVELOPMENT: Self = Self::from_static("development");

    /// `development` ([`StateName::DEVELOPMENT`]).
    #[must_use]
    pub fn development() -> Self {
        Self::DEVELOPMENT
    }
}

impl Default for StateName {
    fn default() -> Self {
        Self::DEVELOPMENT
    }
}

static_name!(
    /// The name of a lifecycle event, such as `promote`: 1–64 ASCII letters, digits, `_` or
    /// `-`, starting with a letter.
    ///
    /// ```
    /// use mlops_core::EventName;
    /// assert!(EventName::new("promote_to-prod2").is_ok());
    /// assert!(EventName::new("9lives").is_err());
    /// ```
    EventName,
    AsciiRules {
        kind: IdKind::EventName,
        max: 64,
        chars: AsciiSet::LOWER
            .and(AsciiSet::UPPER)
            .and(AsciiSet::DIGITS)
            .plus(b"_-"),
        chars_words: "ASCII letters, digits, `_` and `-`",
        first: Some(AsciiSet::LOWER.and(AsciiSet::UPPER)),
    }
);

static_name!(
    /// What happened, such as `registry.version.created` or `governance.transition.applied`:
    /// 1–128 characters of `[a-z0-9._-]`.
    ///
    /// Every action the SDK itself writes is an associated constant listed in
    /// [`AuditAction::ALL`] (the catalogue), named `<namespace>.<object>.<event>` with the
    /// namespace `registry` (written by the registry and its stores), `governance` (written by
    /// the governance engine only: the registry refuses the namespace without governance's seal)
    /// or `contest` (the contest automation). A host may record its own actions under any other
    /// first segment ([`AuditNamespace::Host`]).
    ///
    /// ```
    /// use mlops_core::{AuditAction, AuditNamespace};
    /// assert_eq!(AuditAction::ALIAS_MOVED.as_str(), "registry.alias.moved");
    /// assert_eq!(AuditAction::TRANSITION_APPLIED.namespace(), AuditNamespace::Governance);
    /// assert!(AuditAction::ALL.contains(&"governance.policy.changed".parse()?));
    /// assert_eq!(AuditAction::new("billing.invoice.sent")?.namespace(), AuditNamespace::Host);
    /// # Ok::<(), mlops_core::IdError>(())
    /// ```
    AuditAction,
    AsciiRules {
        kind: IdKind::AuditAction,
        max: 128,
        chars: AsciiSet::LOWER.and(AsciiSet::DIGITS).plus(b"._-"),
        chars_words: "lowercase ASCII letters, digits, `.`, `_` and `-`",
        first: None,
    }
);

/// Who writes an [`AuditAction`]: the first segment of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuditNamespace {
    /// `registry.*`: the registry and its stores.
    Registry,
    /// `governance.*`: the governance engine (reserved: only drafts carrying governance's
    /// seal may use it).
    Governance,
    /// `contest.*`: the champion/challenger contest automation.
    Contest,
    /// Anything else: an action a host records itself.
    Host,
}

impl AuditNamespace {
    /// The prefix of the namespace's actions (`registry.`, `governance.`; empty for a host).
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Registry => "registry.",
            Self::Governance => "governance.",
            Self::Contest => "contest.",
            Self::Host => "",
        }
    }
}

/// The catalogue: one line per action the SDK writes. Add an action by adding a line (the
/// constant, its name and its doc); [`AuditAction::ALL`] follows.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $konst:ident = $name:literal; )*) => {
        impl AuditAction {
            $( $(#[$doc])* #[doc = concat!("\n\n`", $name, "`")]
            pub const $konst: AuditAction = AuditAction::from_static($name); )*

            /// Every action the SDK writes, in catalogue order.
            pub const ALL: &'static [AuditAction] = &[$(Self::$konst),*];
        }
    };
}

catalogue! {
    /// A model was registered.
    MODEL_REGISTERED = "registry.model.registered";
    /// A model's record (description, tags, owner…) was updated.
    MODEL_UPDATED = "registry.model.updated";
    /// A version was created (written by every store when it creates a version).
    VERSION_CREATED = "registry.version.created";
    /// A version's annotations (tags, description) changed.
    VERSION_ANNOTATED = "registry.version.annotated";
    /// An alias was moved through the registry.
    ALIAS_MOVED = "registry.alias.moved";
    /// An alias was removed through the registry.
    ALIAS_REMOVED = "registry.alias.removed";
    /// A transition was committed (allowed, or denied but not enforced in this environment).
    TRANSITION_APPLIED = "governance.transition.applied";
    /// A transition was denied.
    TRANSITION_DENIED = "governance.transition.denied";
    /// A break-glass override was applied.
    TRANSITION_OVERRIDDEN = "governance.transition.overridden";
    /// A version was evicted from an exclusive state by another's entry.
    TRANSITION_EVICTED = "governance.transition.evicted";
    /// An approval request was opened.
    APPROVAL_OPENED = "governance.approval.opened";
    /// An approver signed off.
    APPROVAL_APPROVED = "governance.approval.approved";
    /// An approver rejected.
    APPROVAL_REJECTED = "governance.approval.rejected";
    /// An approval request expired.
    APPROVAL_EXPIRED = "governance.approval.expired";
    /// An approval request was cancelled.
    APPROVAL_CANCELLED = "governance.approval.cancelled";
    /// An approval request's transition was committed.
    APPROVAL_FULFILLED = "governance.approval.fulfilled";
    /// An actor attempted something it may not do.
    UNAUTHORIZED = "governance.action.unauthorized";
    /// The policy was replaced.
    POLICY_CHANGED = "governance.policy.changed";
    /// A model's risk tier was assigned or changed through the classification path.
    RISK_TIER_CHANGED = "governance.risk_tier.changed";
    /// A change to a version was assessed against its baseline (material or within plan).
    CHANGE_ASSESSED = "governance.change.assessed";
    /// A request lapsed because its version left the state it was for.
    APPROVAL_SUPERSEDED = "governance.approval.superseded";
    /// A rejected request was re-opened as a new request.
    APPROVAL_REOPENED = "governance.approval.reopened";
    /// A governed transition moved a protected alias.
    GOVERNANCE_ALIAS_MOVED = "governance.alias.moved";
    /// A governed transition removed a protected alias.
    GOVERNANCE_ALIAS_REMOVED = "governance.alias.removed";
    /// Evidence was recorded against a version.
    EVIDENCE_RECORDED = "governance.evidence.recorded";
    /// An alarm on a serving version was answered (recorded, review opened, rolled back).
    ALARM_ANSWERED = "governance.alarm.answered";
    /// A champion/challenger contest rolled a challenger back (written by the contest
    /// automation through the host's log, so outside the reserved `governance.` namespace).
    CONTEST_ROLLBACK = "contest.rollback";
}

impl AuditAction {
    /// `registry.model.registered` ([`AuditAction::MODEL_REGISTERED`]).
    #[must_use]
    pub fn model_registered() -> Self {
        Self::MODEL_REGISTERED
    }
    /// `registry.model.updated` ([`AuditAction::MODEL_UPDATED`]).
    #[must_use]
    pub fn model_updated() -> Self {
        Self::MODEL_UPDATED
    }
    /// `registry.version.created` ([`AuditAction::VERSION_CREATED`]).
    #[must_use]
    pub fn version_created() -> Self {
        Self::VERSION_CREATED
    }
    /// `registry.version.annotated` ([`AuditAction::VERSION_ANNOTATED`]).
    #[must_use]
    pub fn version_annotated() -> Self {
        Self::VERSION_ANNOTATED
    }
    /// `registry.alias.moved` ([`AuditAction::ALIAS_MOVED`]).
    #[must_use]
    pub fn alias_moved() -> Self {
        Self::ALIAS_MOVED
    }
    /// `registry.alias.removed` ([`AuditAction::ALIAS_REMOVED`]).
    #[must_use]
    pub fn alias_removed() -> Self {
        Self::ALIAS_REMOVED
    }

    /// Who writes it, by its first segment.
    #[must_use]
    pub fn namespace(&self) -> AuditNamespace {
        [
            AuditNamespace::Registry,
            AuditNamespace::Governance,
            AuditNamespace::Contest,
        ]
        .into_iter()
        .find(|n| self.0.starts_with(n.prefix()))
        .unwrap_or(AuditNamespace::Host)
    }

    /// Whether it is in the SDK's catalogue ([`AuditAction::ALL`]).
    #[must_use]
    pub fn is_catalogued(&self) -> bool {
        Self::ALL.contains(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_name_rules() {
        assert!(StateName::new("production").is_ok());
        assert!(StateName::new("under-review_2").is_ok());
        for bad in ["", "Prod", "1st", "-x", "a b", &"x".repeat(65)] {
            let err = StateName::new(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    IdError::Empty {
                        kind: IdKind::StateName
                    } | IdError::TooLong {
                        kind: IdKind::StateName,
                        ..
                    } | IdError::InvalidChar {
                        kind: IdKind::StateName,
                        ..
                    } | IdError::BadStart {
                        kind: IdKind::StateName,
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
        assert!(serde_json::from_str::<StateName>("\"Bad\"").is_err());
        assert_eq!(StateName::default(), StateName::development());
    }

    #[test]
    fn event_name_rules() {
        assert!(EventName::new("promote_to-prod2").is_ok());
        assert!(EventName::new("Promote").is_ok());
        for bad in ["", "1x", "a b", "a.b", "-a", &"x".repeat(65)] {
            assert!(EventName::new(bad).is_err(), "{bad:?}");
        }
        let e = EventName::new("no way").unwrap_err().to_string();
        assert!(e.contains("`no way`") && e.contains("event name"), "{e}");
        assert!(serde_json::from_str::<EventName>("\"9\"").is_err());
    }

    #[test]
    fn audit_action_rules() {
        assert!(AuditAction::new("billing.invoice.sent").is_ok());
        assert!(AuditAction::new(".odd-but_allowed.").is_ok());
        for bad in ["", "Registry.x", "a b", "é", &"x".repeat(129)] {
            assert!(AuditAction::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(AuditAction::MAX_LEN, 128);
    }

    #[test]
    fn literal_and_runtime_checks_agree() {
        // The const check (bytes) and the run-time check (chars, precise errors) are two
        // implementations of one rule set: they must agree on every input.
        let samples = [
            "",
            "a",
            "A",
            "z9",
            "9z",
            "_x",
            "x_",
            "x-y",
            "x.y",
            "x y",
            "é",
            "aé",
            "a\u{0}",
            "promote",
            "production",
            "registry.alias.moved",
        ];
        let long = "a".repeat(64);
        let longer = "a".repeat(65);
        let longest = "a".repeat(129);
        for s in samples
            .iter()
            .copied()
            .chain([long.as_str(), longer.as_str(), longest.as_str()])
        {
            assert_eq!(
                StateName::RULES.accepts(s),
                StateName::new(s).is_ok(),
                "{s:?}"
            );
            assert_eq!(
                EventName::RULES.accepts(s),
                EventName::new(s).is_ok(),
                "{s:?}"
            );
            assert_eq!(
                AuditAction::RULES.accepts(s),
                AuditAction::new(s).is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn catalogue_is_valid_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AuditAction::ALL {
            assert!(AuditAction::new(a.as_str()).is_ok(), "{a}");
            assert!(seen.insert(a.as_str()), "{a} twice");
            assert!(a.is_catalogued());
            assert_ne!(a.namespace(), AuditNamespace::Host, "{a}");
        }
    }
}
