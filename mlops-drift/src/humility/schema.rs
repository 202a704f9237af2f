//! The features a policy is compiled against: names in row order, each numeric or categorical.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{HumilityError, Result};
use super::{MAX_FEATURES, MAX_NAME_BYTES};
use crate::profile::{DatasetProfile, ReferenceProfile};

/// What kind of value a feature holds.
///
/// Exhaustive on purpose: every trigger states which kind it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Numbers ([`FeatureValue::Number`](super::FeatureValue::Number)).
    Numeric,
    /// Categories ([`FeatureValue::Category`](super::FeatureValue::Category)).
    Categorical,
}

impl fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Numeric => "numeric",
            Self::Categorical => "categorical",
        })
    }
}

impl From<&ReferenceProfile> for FeatureKind {
    fn from(p: &ReferenceProfile) -> Self {
        match p {
            ReferenceProfile::Categorical(_) => Self::Categorical,
            ReferenceProfile::Numeric(_) => Self::Numeric,
        }
    }
}

/// The features of a row, in the order rows give them: what a policy's feature names are
/// resolved against once, at compile time, so evaluation addresses features by index.
///
/// ```
/// use mlops_drift::humility::{FeatureKind, FeatureSchema};
///
/// let schema = FeatureSchema::new([("age", FeatureKind::Numeric), ("plan", FeatureKind::Categorical)])?;
/// assert_eq!(schema.index_of("plan"), Some(1));
/// assert!(FeatureSchema::new([("age", FeatureKind::Numeric), ("age", FeatureKind::Numeric)]).is_err());
/// # Ok::<(), mlops_drift::humility::HumilityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureSchema {
    features: Vec<(String, FeatureKind)>,
    index: BTreeMap<String, usize>,
}

impl FeatureSchema {
    /// A schema from `(name, kind)` pairs in row order.
    ///
    /// # Errors
    /// [`HumilityError::InvalidSchema`] for an empty, too long or duplicate name;
    /// [`HumilityError::Limit`] for more than [`MAX_FEATURES`] features.
    pub fn new<S: Into<String>>(
        features: impl IntoIterator<Item = (S, FeatureKind)>,
    ) -> Result<Self> {
        let mut out = Self {
            features: Vec::new(),
            index: BTreeMap::new(),
        };
        for (name, kind) in features {
            if out.features.len() == MAX_FEATURES {
                return Err(HumilityError::Limit {
                    what: "features in a schema",
                    limit: MAX_FEATURES,
                    found: MAX_FEATURES + 1,
                });
            }
            let name = name.into();
            if name.is_empty() || name.len() > MAX_NAME_BYTES {
                return Err(HumilityError::InvalidSchema {
                    reason: format!(
                        "a feature name must have 1 to {MAX_NAME_BYTES} bytes (feature {})",
                        out.features.len()
                    ),
                });
            }
            if out.index.contains_key(&name) {
                return Err(HumilityError::InvalidSchema {
                    reason: format!("duplicate feature `{name}`"),
                });
            }
            out.index.insert(name.clone(), out.features.len());
            out.features.push((name, kind));
        }
        Ok(out)
    }

    /// Every column of `profile`, in the profile's order, with its kind.
    ///
    /// # Errors
    /// As [`FeatureSchema::new`].
    pub fn from_profile(profile: &DatasetProfile) -> Result<Self> {
        Self::new(
            profile
                .columns()
                .iter()
                .map(|c| (c.name.as_str(), FeatureKind::from(&c.profile))),
        )
    }

    /// The columns `features` of `profile` in that order (the order a
    /// [`DriftMonitor`](crate::stream::DriftMonitor) built with the same list expects), each
    /// with its kind in the profile.
    ///
    /// # Errors
    /// [`HumilityError::InvalidSchema`] for a feature the profile does not hold, and as
    /// [`FeatureSchema::new`].
    pub fn from_profile_features(profile: &DatasetProfile, features: &[&str]) -> Result<Self> {
        if features.len() > MAX_FEATURES {
            return Err(HumilityError::Limit {
                what: "features in a schema",
                limit: MAX_FEATURES,
                found: features.len(),
            });
        }
        let mut pairs = Vec::with_capacity(features.len());
        for &f in features {
            let p = profile.get(f).ok_or_else(|| HumilityError::InvalidSchema {
                reason: format!("the profile has no column `{f}`"),
            })?;
            pairs.push((f, FeatureKind::from(p)));
        }
        Self::new(pairs)
    }

    /// The number of features (the width of a row).
    #[must_use]
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the schema has no features.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The position of `name` in a row.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name and kind of the feature at `index`.
    #[must_use]
    pub fn feature(&self, index: usize) -> Option<(&str, FeatureKind)> {
        self.features.get(index).map(|(n, k)| (n.as_str(), *k))
    }

    /// The features, in row order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FeatureKind)> {
        self.features.iter().map(|(n, k)| (n.as_str(), *k))
    }
}
