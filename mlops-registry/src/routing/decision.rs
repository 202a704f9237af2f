//! Decisions: small `Copy` values that say which arm served a request and why.

use std::fmt;

use mlops_core::VersionNumber;
use serde::{Deserialize, Serialize};

use super::hash::Bucket;

/// A route table's configuration revision. Every decision records it, so a decision can be
/// replayed against the table that made it. Revisions published to a router strictly increase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigRevision(u64);

impl ConfigRevision {
    /// A revision number.
    #[must_use]
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for ConfigRevision {
    fn from(n: u64) -> Self {
        Self::new(n)
    }
}

impl fmt::Display for ConfigRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// The role of the arm that a decision names.
///
/// Exhaustive on purpose: a host must handle every role it can be handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmRole {
    /// The version that serves by default.
    Champion,
    /// A version that serves a share of the traffic.
    Challenger,
    /// A version that is called on mirrored traffic and never serves.
    Shadow,
}

/// Why a decision went the way it did.
///
/// Exhaustive on purpose: an audit of a decision must be able to explain every reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The unit id has a per-unit override (for QA).
    Override,
    /// The request matched a segment rule (evaluated before hashing).
    Segment,
    /// The unit's bucket fell in the arm's share (sticky assignment).
    Hash,
    /// The kill switch is on: everything goes to the champion.
    KillSwitch,
    /// A shadow call on mirrored traffic.
    Mirror,
}

/// A set of shadow indices (at most 16), as a bit mask: which shadows a request is mirrored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShadowSet(u16);

impl ShadowSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Whether no shadow is included.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether shadow `index` (its position in the table's shadows) is included.
    #[must_use]
    pub const fn contains(self, index: usize) -> bool {
        index < 16 && self.0 & (1 << index) != 0
    }

    /// How many shadows are included.
    #[must_use]
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The set with `index` added (indices of 16 and above are ignored).
    #[must_use]
    pub const fn with(self, index: usize) -> Self {
        if index < 16 {
            Self(self.0 | (1 << index))
        } else {
            self
        }
    }

    /// The raw mask.
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }
}

/// Which arm serves a request, and why: the version, its role, the config revision of the table
/// that decided, the probability with which this arm is chosen for a unit of this kind, and the
/// reason. 40 bytes, `Copy`; making one allocates nothing.
///
/// The probability is the arm's realized share of the 10 000 buckets for [`Reason::Hash`], and
/// `1.0` for an override, a segment rule or the kill switch (deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Decision {
    /// The version that serves (or, for [`ArmRole::Shadow`], is called).
    pub version: VersionNumber,
    /// The table's config revision.
    pub revision: ConfigRevision,
    /// The probability with which this arm was chosen.
    pub probability: f64,
    /// The arm's role.
    pub role: ArmRole,
    /// Why.
    pub reason: Reason,
    /// The arm's index in the table (0 is the champion, then challengers in order).
    pub arm: u8,
    /// The unit's bucket, when it was computed (hash decisions and mirrored requests).
    pub bucket: Option<Bucket>,
    /// The shadows this request is mirrored to (only requests the champion serves are mirrored).
    pub shadows: ShadowSet,
}

impl Decision {
    /// A value to fill arrays with before the real decisions are written.
    pub(crate) const PLACEHOLDER: Self = Self {
        version: VersionNumber::FIRST,
        revision: ConfigRevision(0),
        probability: 1.0,
        role: ArmRole::Champion,
        reason: Reason::Hash,
        arm: 0,
        bucket: None,
        shadows: ShadowSet::EMPTY,
    };

    /// Whether the champion serves.
    #[must_use]
    pub fn is_champion(&self) -> bool {
        self.role == ArmRole::Champion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_is_small_and_copy() {
        fn assert_copy<T: Copy + Send + Sync>() {}
        assert_copy::<Decision>();
        assert!(std::mem::size_of::<Decision>() <= 40);
    }

    #[test]
    fn shadow_set_bits() {
        let s = ShadowSet::EMPTY.with(0).with(3).with(16);
        assert!(s.contains(0) && s.contains(3) && !s.contains(1) && !s.contains(16));
        assert_eq!(s.len(), 2);
        assert_eq!(s.bits(), 0b1001);
        assert!(ShadowSet::EMPTY.is_empty());
    }
}
