//! Rules derived from data: bands from a holdout's scores, bounds, category lists and sparse
//! bins from a fitted [`DatasetProfile`], and a whole recommended policy in one call.

use serde::{Deserialize, Serialize};

use super::error::{HumilityError, Result};
use super::rules::{Action, Combine, HumilityPolicy, Rule};
use super::triggers::{BandSide, Trigger, shorten};
use super::{MAX_CATEGORIES, MAX_RULES};
use crate::profile::{
    CategoricalProfile, DatasetProfile, NumericProfile, ReferenceProfile, quantile_sorted,
};
use crate::sort::sorted_finite;

/// Which categorical rule [`HumilityPolicy::recommended`] writes.
///
/// Exhaustive on purpose: a recommendation covers every case it offers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CategoryRecommendation {
    /// No categorical rule.
    Skip,
    /// `unseen_category`: fire on a category the reference never saw.
    Unseen,
    /// `rare_category`: fire on a category unseen or below `min_share` of the reference.
    Rare {
        /// The smallest share that does not fire, in [0, 1].
        min_share: f64,
    },
}

/// Which columns [`HumilityPolicy::recommended`] writes a missing-feature rule for.
///
/// Exhaustive on purpose: a recommendation covers every case it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRecommendation {
    /// None.
    Skip,
    /// Columns that had no missing value in the reference: the model never learnt what a
    /// missing value means there.
    WhereReferenceComplete,
    /// Every column.
    Every,
}

/// The settings of [`HumilityPolicy::recommended`]. Every action defaults to
/// [`Action::NoOp`]: a recommended policy starts by counting, and a person promotes the rules
/// whose counts justify it to override or reject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendOptions {
    /// The reference quantile under which a numeric value is outlying (default 0.005).
    pub lower_quantile: f64,
    /// The reference quantile above which a numeric value is outlying (default 0.995).
    pub upper_quantile: f64,
    /// The action of outlier rules.
    pub outlier_action: Action,
    /// The categorical rule (default [`CategoryRecommendation::Unseen`]).
    pub categories: CategoryRecommendation,
    /// The action of categorical rules.
    pub category_action: Action,
    /// Write a `sparse_bin` rule for a numeric column when one of its profile bins holds fewer
    /// reference rows than this (default `Some(30)`; `None`: never).
    pub min_bin_rows: Option<u64>,
    /// The action of sparse-bin rules.
    pub sparse_action: Action,
    /// Which columns get a missing-feature rule (default
    /// [`MissingRecommendation::WhereReferenceComplete`]).
    pub missing: MissingRecommendation,
    /// The action of missing-feature rules.
    pub missing_action: Action,
    /// How the rules combine.
    pub combine: Combine,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self {
            lower_quantile: 0.005,
            upper_quantile: 0.995,
            outlier_action: Action::NoOp,
            categories: CategoryRecommendation::Unseen,
            category_action: Action::NoOp,
            min_bin_rows: Some(30),
            sparse_action: Action::NoOp,
            missing: MissingRecommendation::WhereReferenceComplete,
            missing_action: Action::NoOp,
            combine: Combine::MostSevere,
        }
    }
}

fn check_quantiles(lower: f64, upper: f64) -> Result<()> {
    let bad = |name, reason: String| Err(HumilityError::InvalidParameter { name, reason });
    if !(0.0..=1.0).contains(&lower) {
        return bad("lower_quantile", format!("must be in [0, 1], not {lower}"));
    }
    if !(0.0..=1.0).contains(&upper) {
        return bad("upper_quantile", format!("must be in [0, 1], not {upper}"));
    }
    if lower > upper {
        return bad(
            "lower_quantile",
            format!("{lower} is above the upper quantile {upper}"),
        );
    }
    Ok(())
}

fn derive_error(feature: &str, reason: impl Into<String>) -> HumilityError {
    HumilityError::Derive {
        feature: shorten(feature),
        reason: reason.into(),
    }
}

fn numeric<'a>(profile: &'a DatasetProfile, feature: &str) -> Result<&'a NumericProfile> {
    match profile.get(feature) {
        None => Err(derive_error(feature, "the profile has no such column")),
        Some(p) => p
            .as_numeric()
            .ok_or_else(|| derive_error(feature, "the column is not numeric")),
    }
}

fn categorical<'a>(profile: &'a DatasetProfile, feature: &str) -> Result<&'a CategoricalProfile> {
    match profile.get(feature) {
        None => Err(derive_error(feature, "the profile has no such column")),
        Some(p) => {
            let c = p
                .as_categorical()
                .ok_or_else(|| derive_error(feature, "the column is not categorical"))?;
            if c.counts().len() > MAX_CATEGORIES {
                return Err(HumilityError::Limit {
                    what: "categories in a rule",
                    limit: MAX_CATEGORIES,
                    found: c.counts().len(),
                });
            }
            Ok(c)
        }
    }
}

impl Trigger {
    /// An uncertain-score band at the `lower` and `upper` quantiles (NumPy's linear
    /// interpolation) of a holdout's finite scores. With [`BandSide::Outside`] this is the
    /// usual regression rule (predictions outside the holdout's p0.5–p99.5 are uncertain); with
    /// [`BandSide::Inside`], a classifier's band around its threshold. The scores are copied
    /// once to sort them.
    ///
    /// # Errors
    /// [`HumilityError::InvalidParameter`] for quantiles outside [0, 1] or inverted;
    /// [`HumilityError::Derive`] when no score is finite.
    pub fn uncertain_from_holdout(
        scores: &[f64],
        lower: f64,
        upper: f64,
        fires: BandSide,
    ) -> Result<Self> {
        check_quantiles(lower, upper)?;
        let sorted = sorted_finite(scores);
        if sorted.is_empty() {
            return Err(derive_error("", "the holdout has no finite score"));
        }
        Ok(Self::UncertainScore {
            low: quantile_sorted(&sorted, lower),
            high: quantile_sorted(&sorted, upper),
            fires,
        })
    }

    /// Outlier bounds for `feature` at the `lower` and `upper` quantiles of the reference
    /// profile's finite values.
    ///
    /// # Errors
    /// [`HumilityError::InvalidParameter`] for bad quantiles; [`HumilityError::Derive`] for a
    /// column that is missing, not numeric or without a finite value.
    pub fn outlier_from_profile(
        profile: &DatasetProfile,
        feature: &str,
        lower: f64,
        upper: f64,
    ) -> Result<Self> {
        check_quantiles(lower, upper)?;
        let p = numeric(profile, feature)?;
        if p.sorted().is_empty() {
            return Err(derive_error(feature, "the reference has no finite value"));
        }
        Ok(Self::OutlyingInput {
            feature: feature.to_owned(),
            low: p.quantile(lower),
            high: p.quantile(upper),
        })
    }

    /// Fires on a category of `feature` the reference profile never saw.
    ///
    /// # Errors
    /// [`HumilityError::Derive`] for a column that is missing or not categorical;
    /// [`HumilityError::Limit`] for more than [`MAX_CATEGORIES`] categories.
    pub fn unseen_from_profile(profile: &DatasetProfile, feature: &str) -> Result<Self> {
        let c = categorical(profile, feature)?;
        Ok(Self::UnseenCategory {
            feature: feature.to_owned(),
            known: c.counts().keys().cloned().collect(),
        })
    }

    /// Fires on a category of `feature` unseen in the reference profile or below `min_share`
    /// of its rows with a category.
    ///
    /// # Errors
    /// As [`Trigger::unseen_from_profile`], and [`HumilityError::InvalidParameter`] for a share
    /// outside [0, 1].
    pub fn rare_from_profile(
        profile: &DatasetProfile,
        feature: &str,
        min_share: f64,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&min_share) {
            return Err(HumilityError::InvalidParameter {
                name: "min_share",
                reason: format!("must be in [0, 1], not {min_share}"),
            });
        }
        let c = categorical(profile, feature)?;
        Ok(Self::RareCategory {
            feature: feature.to_owned(),
            counts: c.counts().clone(),
            min_share,
        })
    }

    /// Fires on a value of `feature` in a PSI bin of the reference profile with fewer than
    /// `min_rows` reference rows.
    ///
    /// # Errors
    /// [`HumilityError::Derive`] for a column that is missing or not numeric.
    pub fn sparse_bins_from_profile(
        profile: &DatasetProfile,
        feature: &str,
        min_rows: u64,
    ) -> Result<Self> {
        let bins = numeric(profile, feature)?.psi_bins();
        Ok(Self::SparseBin {
            feature: feature.to_owned(),
            edges: bins.edges().to_vec(),
            counts: bins.reference_counts().to_vec(),
            min_rows,
        })
    }
}

/// A rule name for `feature`: `kind:feature`, with control characters escaped.
fn rule_name(kind: &str, feature: &str) -> String {
    if feature.chars().any(char::is_control) {
        format!("{kind}:{}", feature.escape_debug())
    } else {
        format!("{kind}:{feature}")
    }
}

impl HumilityPolicy {
    /// The rules a reference profile suggests, in one call, per column in the profile's order:
    ///
    /// | rule | for | fires when |
    /// |---|---|---|
    /// | `missing:<column>` | columns chosen by [`RecommendOptions::missing`] | the value is absent, missing or NaN |
    /// | `outlier:<column>` | numeric columns with a finite value | the value is outside the reference's `lower_quantile`–`upper_quantile` (p0.5–p99.5) |
    /// | `sparse_bin:<column>` | numeric columns with a profile bin below [`RecommendOptions::min_bin_rows`] | the value falls in such a bin |
    /// | `unseen:<column>` or `rare:<column>` | categorical columns | the category is unseen (or rarer than `min_share`) |
    ///
    /// Every action is the option's (no-op by default). No score band: a profile does not know
    /// the model's scores; add one from a holdout with [`Trigger::uncertain_from_holdout`].
    ///
    /// # Errors
    /// [`HumilityError::InvalidParameter`] for bad quantiles or share;
    /// [`HumilityError::Limit`] when the profile needs more than [`MAX_RULES`] rules or a column
    /// has more than [`MAX_CATEGORIES`] categories; as [`HumilityPolicy::validate`].
    pub fn recommended(profile: &DatasetProfile, options: &RecommendOptions) -> Result<Self> {
        check_quantiles(options.lower_quantile, options.upper_quantile)?;
        let mut rules = Vec::new();
        for column in profile.columns() {
            let f = column.name.as_str();
            let complete = match &column.profile {
                ReferenceProfile::Categorical(c) => c.n_missing() == 0,
                ReferenceProfile::Numeric(n) => n.n_nan() == 0,
            };
            let missing = match options.missing {
                MissingRecommendation::Skip => false,
                MissingRecommendation::WhereReferenceComplete => complete,
                MissingRecommendation::Every => true,
            };
            if missing {
                rules.push(Rule::new(
                    rule_name("missing", f),
                    Trigger::MissingFeature {
                        feature: f.to_owned(),
                    },
                    options.missing_action,
                ));
            }
            match &column.profile {
                ReferenceProfile::Categorical(_) => match options.categories {
                    CategoryRecommendation::Skip => {}
                    CategoryRecommendation::Unseen => rules.push(Rule::new(
                        rule_name("unseen", f),
                        Trigger::unseen_from_profile(profile, f)?,
                        options.category_action,
                    )),
                    CategoryRecommendation::Rare { min_share } => rules.push(Rule::new(
                        rule_name("rare", f),
                        Trigger::rare_from_profile(profile, f, min_share)?,
                        options.category_action,
                    )),
                },
                ReferenceProfile::Numeric(n) => {
                    if !n.sorted().is_empty() {
                        rules.push(Rule::new(
                            rule_name("outlier", f),
                            Trigger::outlier_from_profile(
                                profile,
                                f,
                                options.lower_quantile,
                                options.upper_quantile,
                            )?,
                            options.outlier_action,
                        ));
                    }
                    if let Some(min_rows) = options.min_bin_rows
                        && n.psi_bins()
                            .reference_counts()
                            .iter()
                            .any(|&c| c < min_rows)
                    {
                        rules.push(Rule::new(
                            rule_name("sparse_bin", f),
                            Trigger::sparse_bins_from_profile(profile, f, min_rows)?,
                            options.sparse_action,
                        ));
                    }
                }
            }
            if rules.len() > MAX_RULES {
                return Err(HumilityError::Limit {
                    what: "humility rules",
                    limit: MAX_RULES,
                    found: rules.len(),
                });
            }
        }
        let policy = Self {
            rules,
            ..Self::new(options.combine)
        };
        policy.validate()?;
        Ok(policy)
    }
}
