//! Risk tiers: how much harm a model's errors can do, which decides how strictly it is governed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{IdError, IdKind, shorten};

/// The risk tier of a model, ordered from [`Low`](RiskTier::Low) to
/// [`Critical`](RiskTier::Critical). Governance assigns it; policies key on it.
///
/// Exhaustive on purpose: a policy must say what each tier requires.
///
/// ```
/// use mlops_core::RiskTier;
/// assert!(RiskTier::High > RiskTier::Medium);
/// assert_eq!("critical".parse::<RiskTier>()?, RiskTier::Critical);
/// # Ok::<(), mlops_core::IdError>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    /// Internal, ad-hoc or easily reversed uses.
    Low,
    /// Internal decisions with limited impact. The default until a model is classified.
    #[default]
    Medium,
    /// Decisions about customers, money or safety.
    High,
    /// Regulated, public-facing or irreversible decisions.
    Critical,
}

impl RiskTier {
    /// Every tier, lowest first.
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The tier's lowercase name, as used in serde and policy files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for RiskTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RiskTier {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| IdError::Malformed {
                kind: IdKind::RiskTier,
                value: shorten(s),
                expected: "one of `low`, `medium`, `high`, `critical`",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_and_parsed() {
        assert!(RiskTier::ALL.windows(2).all(|w| w[0] < w[1]));
        for t in RiskTier::ALL {
            assert_eq!(t.to_string().parse::<RiskTier>().unwrap(), t);
        }
        assert!("severe".parse::<RiskTier>().is_err());
    }
}
