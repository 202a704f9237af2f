//! Humility rules: what a service does, per prediction and before it answers, with a
//! prediction it should not trust.
//!
//! A [`HumilityPolicy`] is a list of [`Rule`]s, each a [`Trigger`] and an [`Action`]:
//!
//! - triggers: an **uncertain prediction** (the score inside a band, or outside it for a
//!   regressor; given by hand or [derived from a holdout](Trigger::uncertain_from_holdout)),
//!   an **outlying input** (a numeric feature outside bounds; by hand or
//!   [from the reference profile's quantiles](Trigger::outlier_from_profile)), a
//!   **low-observation region** (a category [unseen](Trigger::unseen_from_profile) or
//!   [rarer than a share](Trigger::rare_from_profile) in the reference, or a numeric value in
//!   a [profile bin with few reference rows](Trigger::sparse_bins_from_profile)), and a
//!   **missing required feature** (absent, missing, NaN or of the wrong kind);
//! - actions: [`Action::NoOp`] (count and log only), [`Action::Override`] (serve a given value
//!   instead) and [`Action::Reject`] (the caller gets [`Verdict::Reject`] and turns it into an
//!   error response, for example through [`Decision::apply`] and [`Rejected`]).
//!
//! ## Combining fired rules
//!
//! Every rule is evaluated on every prediction, and every rule that fired is counted and
//! reported in [`Decision::fired`]. The policy's [`Combine`] picks the one that decides:
//!
//! - [`Combine::MostSevere`] (the default): the most severe action wins, in the order
//!   reject > override > no-op; among equally severe rules the first in the policy wins (so of
//!   two fired overrides, the earlier one's value is served).
//! - [`Combine::FirstMatch`]: the first fired rule, in the policy's order, whose action is not
//!   a no-op.
//!
//! A no-op rule never decides; when only no-op rules fire (or none), the verdict is
//! [`Verdict::Accept`] and [`Decision::rule`] is `None`. The outcome depends only on the policy
//! and the input: the same row gives the same decision on every thread, machine and run.
//!
//! ## The request path
//!
//! [`HumilityPolicy::compile`] validates the policy and resolves its feature names against a
//! [`FeatureSchema`] once (an unknown feature or one of the wrong kind is a typed error), so
//! [`CompiledPolicy::evaluate`] addresses features by index in a row of [`FeatureValue`]s,
//! the same borrowed row type a [`DriftMonitor`](crate::stream::DriftMonitor) observes. It
//! neither allocates nor locks: bounds are two comparisons, a sparse-bin check one binary search
//! over the edges, and a category check one XXH3-64 hash of the value, a binary search over
//! pre-hashed `u64`s and one string comparison (no SipHash). The [`Decision`] is a small
//! `Copy` value. Counting costs one relaxed atomic increment per evaluation and per fired
//! rule, on counters sharded per thread on their own cache lines. The `humility` benchmark
//! (`cargo bench -p mlops-benches --bench humility`) measures a 5-rule policy on a 20-feature
//! row against the 50 ns target, and `tests/humility_alloc.rs` proves the path allocation-free
//! with a counting allocator.
//!
//! ## Counters and evidence
//!
//! [`CompiledPolicy::counters`] sums the shards into a [`CounterSnapshot`]: evaluations,
//! accepted, overridden and rejected predictions, and how often each rule fired and decided.
//! [`CounterSnapshot::to_evidence`] turns the shares of rejected and overridden predictions
//! into `mlops_core::Evidence` against [`EvidenceThresholds`], for governance.
//!
//! ## Rules are data
//!
//! A policy serializes to JSON and TOML (`tests/golden/humility_policy.{json,toml}` pin the
//! wire format, with a `format_version`) and is validated when it is read: NaN bounds, inverted
//! bands, unsorted edges, shares outside [0, 1], duplicate names, unknown fields and sizes
//! above the limits below are typed [`HumilityError`]s, never panics. Store it with the model
//! version it belongs to, beside the drift profile it was derived from.
//!
//! | limit | value |
//! |---|---|
//! | rules per policy | [`MAX_RULES`] = 256 |
//! | features in a schema | [`MAX_FEATURES`] = 65,536 |
//! | bytes in a feature name | [`MAX_NAME_BYTES`] = 256 |
//! | bytes in a rule name | [`MAX_RULE_NAME_BYTES`] = 512 |
//! | categories per rule | [`MAX_CATEGORIES`] = 100,000 |
//! | bytes in a category | [`MAX_CATEGORY_BYTES`] = 4,096 |
//! | bin edges per rule | [`MAX_EDGES`] = 4,096 |
//! | bytes of a policy read by `from_json` / `from_toml` | [`MAX_POLICY_BYTES`] = 16 MiB |
//!
//! ## Recommended rules
//!
//! [`HumilityPolicy::recommended`] writes, from a fitted profile in one call, a missing-feature
//! rule for each column the reference had no missing value in, outlier bounds at the reference
//! p0.5 and p99.5 of each numeric column, a sparse-bin rule where a profile bin holds fewer
//! than 30 reference rows, and an unseen-category rule for each categorical column, all no-op:
//! count first, then promote the rules whose counts justify it ([`RecommendOptions`] changes
//! quantiles, thresholds and actions).
//!
//! ```
//! use mlops_drift::humility::{
//!     Action, BandSide, FeatureSchema, FeatureValue, HumilityPolicy, RecommendOptions, Trigger,
//!     Verdict,
//! };
//! use mlops_drift::profile::DatasetProfile;
//! use mlops_drift::table::Table;
//!
//! // Training time: fit the profile, derive the rules, add two by hand, store them as JSON.
//! let ages: Vec<f64> = (0..1_000).map(|i| 20.0 + f64::from(i % 50)).collect();
//! let plans: Vec<&str> = (0..1_000).map(|i| ["basic", "pro"][i % 2]).collect();
//! let profile = DatasetProfile::fit(
//!     &Table::new().with_numeric("age", &ages)?.with_categorical("plan", &plans)?,
//! );
//! let uncertain = Trigger::UncertainScore { low: 0.45, high: 0.55, fires: BandSide::Inside };
//! let implausible = Trigger::OutlyingInput { feature: "age".into(), low: 18.0, high: 100.0 };
//! let json = HumilityPolicy::recommended(&profile, &RecommendOptions::default())?
//!     .with("uncertain", uncertain, Action::Override { value: 0.0 })
//!     .with("implausible-age", implausible, Action::Reject)
//!     .to_json()?;
//!
//! // Serving: load and compile once, evaluate every prediction.
//! let policy = HumilityPolicy::from_json(&json)?.compile(&FeatureSchema::from_profile(&profile)?)?;
//! let usual = [FeatureValue::Number(31.0), FeatureValue::Category("pro")];
//! assert_eq!(policy.evaluate(0.9, &usual).verdict, Verdict::Accept);
//! assert_eq!(policy.evaluate(0.5, &usual).apply(0.5), Ok(0.0)); // overridden
//!
//! let odd = [FeatureValue::Number(130.0), FeatureValue::Category("gold")];
//! let decision = policy.evaluate(0.9, &odd);
//! assert_eq!(decision.verdict, Verdict::Reject);
//! assert_eq!(decision.rule.and_then(|r| policy.rule_name(r)), Some("implausible-age"));
//! assert_eq!(decision.fired.len(), 3); // outlier:age and unseen:plan (no-op) fired too
//! assert!(decision.apply(0.9).is_err());
//!
//! let counts = policy.counters();
//! assert_eq!((counts.evaluations, counts.overridden, counts.rejected), (3, 1, 1));
//! assert_eq!(counts.rule("unseen:plan").map(|r| r.fired), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod categories;
mod counters;
mod error;
mod evaluation;
mod recommend;
mod rules;
mod schema;
mod triggers;

pub use counters::{CounterSnapshot, EvidenceThresholds, RuleCounts};
pub use error::{HumilityError, Rejected, Result};
pub use evaluation::{CompiledPolicy, Decision, FiredRules, RuleId, Verdict};
pub use recommend::{CategoryRecommendation, MissingRecommendation, RecommendOptions};
pub use rules::{Action, Combine, HUMILITY_FORMAT_VERSION, HumilityPolicy, Rule};
pub use schema::{FeatureKind, FeatureSchema};
pub use triggers::{BandSide, Trigger};

/// The row type: one value per feature, in schema order (the type the streaming monitor
/// observes, so one row serves both).
pub use crate::stream::FeatureValue;

/// The most rules in a policy.
pub const MAX_RULES: usize = 256;
/// The most features in a [`FeatureSchema`].
pub const MAX_FEATURES: usize = 65_536;
/// The longest feature name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// The longest rule name, in bytes.
pub const MAX_RULE_NAME_BYTES: usize = 512;
/// The most categories in one rule.
pub const MAX_CATEGORIES: usize = 100_000;
/// The longest category, in bytes.
pub const MAX_CATEGORY_BYTES: usize = 4_096;
/// The most bin edges in one rule.
pub const MAX_EDGES: usize = 4_096;
/// The largest policy text [`HumilityPolicy::from_json`] and [`HumilityPolicy::from_toml`]
/// read, in bytes.
pub const MAX_POLICY_BYTES: usize = 16 << 20;
