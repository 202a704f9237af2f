//! Triggers: the condition under which a rule fires on one prediction.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::schema::FeatureKind;
use super::{MAX_CATEGORIES, MAX_CATEGORY_BYTES, MAX_EDGES, MAX_NAME_BYTES};

/// Which side of a score band is uncertain.
///
/// Exhaustive on purpose: a band has two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandSide {
    /// Scores in `[low, high]` are uncertain: a classifier's probabilities near its decision
    /// threshold (`0.4 ..= 0.6`).
    #[default]
    Inside,
    /// Scores below `low` or above `high` are uncertain: a regressor predicting outside the
    /// range of its holdout predictions.
    Outside,
}

/// The condition under which a rule fires.
///
/// Every feature trigger looks at one feature of the row. A value that is absent, missing, NaN
/// or of the wrong kind for its feature never fires the feature triggers: that is the
/// [`MissingFeature`](Trigger::MissingFeature) trigger's business.
///
/// The JSON form is internally tagged by `kind`:
///
/// | `kind` | fires when | fields |
/// |---|---|---|
/// | `uncertain_score` | the score is inside (or, with `fires = "outside"`, outside) `[low, high]`, or NaN | `low`, `high`, `fires` (`inside` by default) |
/// | `outlying_input` | the numeric feature is below `low` or above `high` (±∞ included) | `feature`, `low`, `high` |
/// | `unseen_category` | the categorical feature's value is not one of `known` | `feature`, `known` |
/// | `rare_category` | the value is unseen, or its share of the reference counts is below `min_share` | `feature`, `counts`, `min_share` |
/// | `sparse_bin` | the numeric value falls in a bin with fewer than `min_rows` reference rows | `feature`, `edges`, `counts`, `min_rows` |
/// | `missing_feature` | the feature is absent from the row, missing, NaN, or of the wrong kind | `feature` |
///
/// Non-finite bounds are written `"inf"` / `"-inf"` in JSON (a one-sided bound); NaN is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Trigger {
    /// An uncertain prediction: the score is inside (or outside) a band. A NaN score always
    /// fires (it is never a prediction to trust).
    UncertainScore {
        /// The band's lower end (inclusive).
        #[serde(with = "mlops_core::float_serde")]
        low: f64,
        /// The band's upper end (inclusive).
        #[serde(with = "mlops_core::float_serde")]
        high: f64,
        /// Which side of the band fires.
        #[serde(default)]
        fires: BandSide,
    },
    /// An outlying input: a numeric feature outside `[low, high]`.
    OutlyingInput {
        /// The feature.
        feature: String,
        /// The smallest value that does not fire (`-inf` for no lower bound).
        #[serde(with = "mlops_core::float_serde")]
        low: f64,
        /// The largest value that does not fire (`inf` for no upper bound).
        #[serde(with = "mlops_core::float_serde")]
        high: f64,
    },
    /// A low-observation region: a category that is not in `known`.
    UnseenCategory {
        /// The categorical feature.
        feature: String,
        /// The categories that do not fire.
        known: Vec<String>,
    },
    /// A low-observation region: a category that is unseen, or whose share of the reference
    /// counts is below `min_share`.
    RareCategory {
        /// The categorical feature.
        feature: String,
        /// The reference count of each category.
        counts: BTreeMap<String, u64>,
        /// The smallest share of the reference (count ÷ total count) that does not fire, in
        /// [0, 1].
        min_share: f64,
    },
    /// A low-observation region: a numeric value in a bin with fewer than `min_rows` reference
    /// rows. Bins are `(-inf, e₀)`, `[e₀, e₁)`, …, `[eₖ, +inf)` (the profile's PSI bins), so ±∞
    /// fall in the outer bins.
    SparseBin {
        /// The numeric feature.
        feature: String,
        /// The interior edges, finite and strictly increasing.
        edges: Vec<f64>,
        /// The reference count of each bin (one more than the edges).
        counts: Vec<u64>,
        /// Bins with fewer reference rows than this fire.
        min_rows: u64,
    },
    /// A missing required feature: absent from the row (a row shorter than the schema),
    /// [`FeatureValue::Missing`](super::FeatureValue::Missing), NaN, or a value of the wrong
    /// kind for the feature.
    MissingFeature {
        /// The feature.
        feature: String,
    },
}

impl Trigger {
    /// The feature the trigger looks at (`None` for the score band).
    #[must_use]
    pub fn feature(&self) -> Option<&str> {
        match self {
            Self::UncertainScore { .. } => None,
            Self::OutlyingInput { feature, .. }
            | Self::UnseenCategory { feature, .. }
            | Self::RareCategory { feature, .. }
            | Self::SparseBin { feature, .. }
            | Self::MissingFeature { feature } => Some(feature),
        }
    }

    /// The kind of feature the trigger needs (`None`: any kind, or no feature).
    #[must_use]
    pub fn needs(&self) -> Option<FeatureKind> {
        match self {
            Self::OutlyingInput { .. } | Self::SparseBin { .. } => Some(FeatureKind::Numeric),
            Self::UnseenCategory { .. } | Self::RareCategory { .. } => {
                Some(FeatureKind::Categorical)
            }
            Self::UncertainScore { .. } | Self::MissingFeature { .. } => None,
        }
    }

    /// The trigger's `kind` in the wire format.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::UncertainScore { .. } => "uncertain_score",
            Self::OutlyingInput { .. } => "outlying_input",
            Self::UnseenCategory { .. } => "unseen_category",
            Self::RareCategory { .. } => "rare_category",
            Self::SparseBin { .. } => "sparse_bin",
            Self::MissingFeature { .. } => "missing_feature",
        }
    }

    /// Checks the trigger's own invariants; the reason on failure.
    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(f) = self.feature()
            && (f.is_empty() || f.len() > MAX_NAME_BYTES)
        {
            return Err(format!(
                "a feature name must have 1 to {MAX_NAME_BYTES} bytes"
            ));
        }
        match self {
            Self::UncertainScore { low, high, .. } | Self::OutlyingInput { low, high, .. } => {
                check_bounds(*low, *high)
            }
            Self::UnseenCategory { known, .. } => {
                check_category_count(known.len())?;
                let mut seen = BTreeSet::new();
                for k in known {
                    check_category(k)?;
                    if !seen.insert(k.as_str()) {
                        return Err(format!("category `{}` is listed twice", shorten(k)));
                    }
                }
                Ok(())
            }
            Self::RareCategory {
                counts, min_share, ..
            } => {
                check_category_count(counts.len())?;
                if !(0.0..=1.0).contains(min_share) {
                    return Err(format!("min_share must be in [0, 1], not {min_share}"));
                }
                let mut total = 0_u64;
                for (k, c) in counts {
                    check_category(k)?;
                    total = total
                        .checked_add(*c)
                        .ok_or_else(|| "the counts overflow 64 bits".to_owned())?;
                }
                Ok(())
            }
            Self::SparseBin { edges, counts, .. } => {
                if edges.len() > MAX_EDGES {
                    return Err(format!(
                        "{} bin edges (the limit is {MAX_EDGES})",
                        edges.len()
                    ));
                }
                if edges.iter().any(|e| !e.is_finite()) {
                    return Err("bin edges must be finite".to_owned());
                }
                if edges.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
                    return Err("bin edges must be strictly increasing".to_owned());
                }
                if counts.len() != edges.len() + 1 {
                    return Err(format!(
                        "{} edges need {} counts, not {}",
                        edges.len(),
                        edges.len() + 1,
                        counts.len()
                    ));
                }
                Ok(())
            }
            Self::MissingFeature { .. } => Ok(()),
        }
    }
}

fn check_bounds(low: f64, high: f64) -> Result<(), String> {
    if low.is_nan() || high.is_nan() {
        return Err("a bound is NaN".to_owned());
    }
    if low > high {
        return Err(format!("the band is inverted: low {low} > high {high}"));
    }
    Ok(())
}

fn check_category_count(n: usize) -> Result<(), String> {
    if n > MAX_CATEGORIES {
        return Err(format!("{n} categories (the limit is {MAX_CATEGORIES})"));
    }
    Ok(())
}

fn check_category(k: &str) -> Result<(), String> {
    if k.len() > MAX_CATEGORY_BYTES {
        return Err(format!(
            "a category of {} bytes (the limit is {MAX_CATEGORY_BYTES})",
            k.len()
        ));
    }
    Ok(())
}

/// A rule or feature name quoted in an error: at most 64 characters.
pub(crate) fn shorten(s: &str) -> String {
    mlops_core::error::shorten_to(s, 64)
}
