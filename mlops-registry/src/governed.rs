//! What only governance may change, and the capability that lets it.
//!
//! Every model aggregate names its *protected* lifecycle states and aliases
//! ([`ModelAggregate::protected_states`](crate::model::ModelAggregate::protected_states),
//! [`ModelAggregate::protected_aliases`](crate::model::ModelAggregate::protected_aliases)), from
//! its creation: [`BASELINE_PROTECTED_STATES`] and [`BASELINE_PROTECTED_ALIASES`] at least. The
//! commit boundary ([`ModelAggregate::check_successor_of`](crate::model::ModelAggregate::check_successor_of),
//! which every store runs inside its compare-and-swap) refuses, with
//! [`RegistryError::Protected`](crate::RegistryError::Protected), a commit that
//!
//! - moves a version into or out of a protected state,
//! - adds, moves or removes a protected alias,
//! - removes a name from the protected sets (adding one is always allowed: it only restricts),
//! - changes the model's risk tier,
//! - changes the humility rules of a version in a protected state, or
//! - changes the [`GovernanceRecords`] (approval requests) kept in the aggregate,
//!
//! unless the commit carries the [`GovernanceSeal`]. Audit records in the `governance.`
//! namespace need the seal too, in a commit or in a plain append
//! ([`AuditDraft::authorize`](crate::audit::AuditDraft::authorize)), so no host can write a
//! forged approval through the generic append.
//!
//! # The seal
//!
//! The seal is a process-wide capability with a private constructor. [`GovernanceSeal::claim`]
//! hands it out exactly once per process; `mlops-governance` claims it when its first engine is
//! built and never gives it away. So in a process that runs a governance engine no other code can
//! obtain it, whatever API it calls; a process that claims it for itself and never builds an
//! engine writes protected changes that no governance record explains, which the
//! [consistency check](crate::consistency) reports.
//!
//! What the seal cannot stop: code with direct write access to the storage (SQL on the database
//! file). The audit chain, the store's chain head, the consistency check and exported
//! checkpoints are the controls for that.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use mlops_core::{AliasName, RiskTier, VersionNumber};
use serde::{Deserialize, Serialize};

use crate::model::StateName;

/// The lifecycle states every model protects from creation: those the default lifecycle
/// protects. A governance engine with another lifecycle adds its own.
pub const BASELINE_PROTECTED_STATES: [StateName; 2] = [
    StateName::from_static("pre_production"),
    StateName::from_static("production"),
];

/// The aliases every model protects from creation.
pub const BASELINE_PROTECTED_ALIASES: [AliasName; 1] = [AliasName::CHAMPION];

/// The capability to commit protected changes (see the [module docs](self)).
///
/// It cannot be constructed, cloned or deserialized outside this module; the only one is handed
/// out once per process by [`GovernanceSeal::claim`].
pub struct GovernanceSeal {
    _private: (),
}

static SEAL: GovernanceSeal = GovernanceSeal { _private: () };
static CLAIMED: AtomicBool = AtomicBool::new(false);

impl GovernanceSeal {
    /// Claims the process's seal: `Some` the first time it is called in a process, `None` ever
    /// after. `mlops-governance` claims it when it builds its first engine.
    #[must_use]
    pub fn claim() -> Option<&'static Self> {
        CLAIMED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then_some(&SEAL)
    }
}

impl fmt::Debug for GovernanceSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GovernanceSeal")
    }
}

/// Whether a value carries the seal. Never serialized; equal to every other `Authority` so that
/// it does not affect the equality of the value carrying it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Authority(Option<&'static GovernanceSeal>);

impl Authority {
    pub(crate) fn sealed(seal: &'static GovernanceSeal) -> Self {
        Self(Some(seal))
    }
    pub(crate) fn is_sealed(self) -> bool {
        self.0.is_some()
    }
}

impl PartialEq for Authority {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_sealed() {
            "sealed"
        } else {
            "unsealed"
        })
    }
}

/// Records governance keeps inside a model's aggregate, so that every engine on the store sees
/// them through the same compare-and-swap: approval requests, by id, and the latest recorded
/// evidence per version and check, in governance's own JSON form (the registry stores them
/// without interpreting them), and the count of requests ever opened for the model (ids are
/// never reused).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GovernanceRecords {
    /// Approval requests by their number within the model.
    #[serde(default)]
    pub approvals: BTreeMap<u64, serde_json::Value>,
    /// How many approval requests were ever opened for the model.
    #[serde(default)]
    pub approvals_opened: u64,
    /// The latest evidence recorded per version and check (keyed `v{N}/{check}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, serde_json::Value>,
}

impl GovernanceRecords {
    /// Whether there is nothing in it.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.approvals.is_empty() && self.approvals_opened == 0 && self.evidence.is_empty()
    }
}

/// What an unsealed commit tried to change (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtectedChange {
    /// A version entering or leaving a protected state.
    State {
        /// The version.
        version: VersionNumber,
        /// Its state before.
        from: StateName,
        /// Its state after.
        to: StateName,
    },
    /// A protected alias added, moved or removed.
    Alias {
        /// The alias.
        alias: AliasName,
    },
    /// A protected state or alias unprotected.
    Unprotect {
        /// The name that lost its protection.
        name: String,
    },
    /// The risk tier changed.
    RiskTier {
        /// The tier before.
        from: RiskTier,
        /// The tier after.
        to: RiskTier,
    },
    /// A new model created with a tier other than the default, or with governance records.
    Creation {
        /// What is wrong.
        reason: &'static str,
    },
    /// A version created in a protected state.
    InitialState {
        /// The state.
        state: StateName,
    },
    /// The approval requests kept in the aggregate changed.
    GovernanceRecords,
    /// The humility rules of a version in a protected state changed.
    HumilityRules {
        /// The version.
        version: VersionNumber,
    },
}

impl fmt::Display for ProtectedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::State { version, from, to } => write!(
                f,
                "version {version} cannot move from `{from}` to `{to}`: a protected state changes only through a governed transition"
            ),
            Self::Alias { alias } => write!(
                f,
                "alias `{alias}` is protected: it moves only through a governed transition"
            ),
            Self::Unprotect { name } => write!(f, "`{name}` cannot be unprotected"),
            Self::RiskTier { from, to } => write!(
                f,
                "the risk tier cannot change from {from} to {to}: tiers change only through the audited classification"
            ),
            Self::Creation { reason } => write!(f, "a new model {reason}"),
            Self::InitialState { state } => write!(
                f,
                "a version cannot be created in the protected state `{state}`"
            ),
            Self::GovernanceRecords => {
                f.write_str("approval requests change only through governance")
            }
            Self::HumilityRules { version } => write!(
                f,
                "the humility rules of version {version} change only through a governed amendment while it serves"
            ),
        }
    }
}

pub(crate) fn baseline_states() -> impl Iterator<Item = StateName> {
    BASELINE_PROTECTED_STATES.into_iter()
}

pub(crate) fn baseline_aliases() -> impl Iterator<Item = AliasName> {
    BASELINE_PROTECTED_ALIASES.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_names_are_the_default_lifecycle_s_and_valid() {
        let states: Vec<String> = baseline_states().map(String::from).collect();
        assert_eq!(states, ["pre_production", "production"]);
        let aliases: Vec<String> = baseline_aliases().map(String::from).collect();
        assert_eq!(aliases, ["champion"]);
        for s in &states {
            assert!(StateName::new(s.as_str()).is_ok());
        }
    }

    #[test]
    fn authority_never_affects_equality() {
        assert_eq!(Authority::default(), Authority::sealed(&SEAL));
        assert!(!Authority::default().is_sealed());
    }
}
