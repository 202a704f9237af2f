//! Who acts: people and services, and the roles they hold.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{IdError, IdKind};
use crate::id::{check_chars, string_id_conversions};

/// The stable identity of an actor (a user name, an e-mail, a service account): 1–256 printable
/// characters, no control characters and no surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActorId(Cow<'static, str>);

impl ActorId {
    /// The longest allowed id, in characters.
    pub const MAX_LEN: usize = 256;

    /// Validates `id`.
    ///
    /// # Errors
    /// [`IdError`] for an empty or too long id, a control character, or leading/trailing
    /// whitespace.
    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        check_chars(
            IdKind::ActorId,
            &id,
            Self::MAX_LEN,
            |c| !c.is_control(),
            "printable characters",
        )?;
        if id.trim() != id {
            return Err(IdError::Malformed {
                kind: IdKind::ActorId,
                value: crate::error::shorten(&id),
                expected: "no leading or trailing whitespace",
            });
        }
        Ok(Self(Cow::Owned(id)))
    }

    /// An id from a literal of printable ASCII (no surrounding spaces), for `const` items,
    /// where an invalid literal is a compile error.
    ///
    /// ```
    /// const PIPELINE: mlops_core::ActorId = mlops_core::ActorId::from_static("svc:pipeline");
    /// assert_eq!(PIPELINE.as_str(), "svc:pipeline");
    /// ```
    ///
    /// # Panics
    /// If `id` is empty, longer than [`ActorId::MAX_LEN`], not printable ASCII, or starts or
    /// ends with a space: at compile time in a `const` item.
    #[must_use]
    pub const fn from_static(id: &'static str) -> Self {
        assert!(
            Self::is_printable_ascii_literal(id),
            "not a valid ActorId literal"
        );
        Self(Cow::Borrowed(id))
    }

    const fn is_printable_ascii_literal(id: &str) -> bool {
        let bytes = id.as_bytes();
        if bytes.len() > Self::MAX_LEN {
            return false;
        }
        let ([b' ', ..] | [.., b' '] | []) = bytes else {
            let mut rest = bytes;
            while let [b, tail @ ..] = rest {
                if !(*b >= b' ' && *b <= b'~') {
                    return false;
                }
                rest = tail;
            }
            return true;
        };
        false
    }

    /// The id as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role an actor holds, such as `data-scientist` or `model-risk-officer`: 1–64 characters of
/// lowercase ASCII letters, digits, `-` and `_`.
///
/// Roles are data, not a closed enum, because every organisation names its own; the well-known
/// ones used by the default policies have constructors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Role(String);

impl Role {
    /// The longest allowed role, in characters.
    pub const MAX_LEN: usize = 64;

    /// Validates `role`.
    ///
    /// # Errors
    /// [`IdError`] for an empty or too long role or a character outside `[a-z0-9_-]`.
    pub fn new(role: impl Into<String>) -> Result<Self, IdError> {
        let role = role.into();
        check_chars(
            IdKind::Role,
            &role,
            Self::MAX_LEN,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'),
            "lowercase ASCII letters, digits, `-` and `_`",
        )?;
        Ok(Self(role))
    }

    fn known(name: &str) -> Self {
        Self(name.to_owned())
    }

    /// Builds and trains models.
    #[must_use]
    pub fn data_scientist() -> Self {
        Self::known("data-scientist")
    }
    /// Deploys and operates models.
    #[must_use]
    pub fn ml_engineer() -> Self {
        Self::known("ml-engineer")
    }
    /// Independently validates models before production.
    #[must_use]
    pub fn model_validator() -> Self {
        Self::known("model-validator")
    }
    /// Owns model risk for the organisation; signs off high-risk models.
    #[must_use]
    pub fn risk_officer() -> Self {
        Self::known("risk-officer")
    }
    /// Checks legal and regulatory compliance.
    #[must_use]
    pub fn compliance_officer() -> Self {
        Self::known("compliance-officer")
    }
    /// Owns the business use of a model.
    #[must_use]
    pub fn business_owner() -> Self {
        Self::known("business-owner")
    }
    /// Reads everything, changes nothing.
    #[must_use]
    pub fn auditor() -> Self {
        Self::known("auditor")
    }
    /// May use emergency (break-glass) overrides.
    #[must_use]
    pub fn incident_responder() -> Self {
        Self::known("incident-responder")
    }
    /// May change policies and lifecycles.
    #[must_use]
    pub fn governance_admin() -> Self {
        Self::known("governance-admin")
    }

    /// Every built-in role above, in the order they are documented.
    #[must_use]
    pub fn built_in() -> [Self; 9] {
        [
            Self::data_scientist(),
            Self::ml_engineer(),
            Self::model_validator(),
            Self::risk_officer(),
            Self::compliance_officer(),
            Self::business_owner(),
            Self::auditor(),
            Self::incident_responder(),
            Self::governance_admin(),
        ]
    }

    /// The role as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_id_conversions!(ActorId);
string_id_conversions!(Role);

/// Whether an actor is a person or an automated service.
///
/// Exhaustive on purpose: policies must decide for each kind (for example, a sign-off must come
/// from a human).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person.
    Human,
    /// An automated system (a pipeline, a monitor, a contest controller).
    Service,
}

/// Someone or something that acts: requests a transition, approves it, registers a version.
///
/// ```
/// use mlops_core::{Actor, Role};
/// let alice = Actor::human("alice@example.com")?.with_role(Role::data_scientist());
/// assert!(alice.has_role(&Role::data_scientist()));
/// # Ok::<(), mlops_core::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Who.
    pub id: ActorId,
    /// Person or service.
    pub kind: ActorKind,
    /// The roles held.
    pub roles: BTreeSet<Role>,
}

impl Actor {
    /// An actor with no roles.
    #[must_use]
    pub fn new(id: ActorId, kind: ActorKind) -> Self {
        Self {
            id,
            kind,
            roles: BTreeSet::new(),
        }
    }

    /// A person with no roles yet.
    ///
    /// # Errors
    /// [`IdError`] if `id` is not a valid [`ActorId`].
    pub fn human(id: impl Into<String>) -> Result<Self, IdError> {
        Ok(Self::new(ActorId::new(id)?, ActorKind::Human))
    }

    /// A service with no roles yet.
    ///
    /// # Errors
    /// [`IdError`] if `id` is not a valid [`ActorId`].
    pub fn service(id: impl Into<String>) -> Result<Self, IdError> {
        Ok(Self::new(ActorId::new(id)?, ActorKind::Service))
    }

    /// Adds a role.
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        self.roles.insert(role);
        self
    }

    /// Whether the actor holds `role`.
    #[must_use]
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_literal_check_is_within_validation() {
        // The literal check is stricter (printable ASCII only); whatever it accepts is valid.
        for s in [
            "",
            "a",
            "svc:pipeline",
            "alice@example.com",
            " a",
            "a ",
            "a\tb",
            "é",
            "x".repeat(256).as_str(),
            "x".repeat(257).as_str(),
        ] {
            if ActorId::is_printable_ascii_literal(s) {
                assert!(ActorId::new(s).is_ok(), "{s:?}");
            }
        }
        assert!(ActorId::is_printable_ascii_literal("svc:pipeline"));
        assert!(!ActorId::is_printable_ascii_literal(" a"));
        assert!(!ActorId::is_printable_ascii_literal(""));
    }

    #[test]
    fn actor_id_rules() {
        assert!(ActorId::new("alice@example.com").is_ok());
        assert!(ActorId::new("svc:pipeline/nightly").is_ok());
        assert!(matches!(ActorId::new(""), Err(IdError::Empty { .. })));
        assert!(matches!(
            ActorId::new("a\nb"),
            Err(IdError::InvalidChar { ch: '\n', .. })
        ));
        assert!(matches!(
            ActorId::new(" alice"),
            Err(IdError::Malformed { .. })
        ));
        assert!(matches!(
            ActorId::new("x".repeat(257)),
            Err(IdError::TooLong { .. })
        ));
    }

    #[test]
    fn role_rules() {
        assert!(Role::new("risk-officer").is_ok());
        assert!(matches!(
            Role::new("Risk"),
            Err(IdError::InvalidChar { ch: 'R', .. })
        ));
        assert!(matches!(Role::new(""), Err(IdError::Empty { .. })));
        for known in Role::built_in() {
            assert_eq!(Role::new(known.as_str()).unwrap(), known);
        }
    }

    #[test]
    fn actor_roles() {
        let a = Actor::service("ci")
            .unwrap()
            .with_role(Role::ml_engineer())
            .with_role(Role::ml_engineer());
        assert_eq!(a.roles.len(), 1);
        assert_eq!(a.kind, ActorKind::Service);
        assert!(!a.has_role(&Role::auditor()));
    }
}
