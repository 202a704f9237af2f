//! An in-process champion/challenger router: sticky assignment by a specified portable hash,
//! ramps, segment rules, per-unit overrides, shadows, exposure counters with a live
//! sample-ratio-mismatch check, and lock-free hot swap of route tables.
//!
//! - A [`RouteTable`] is an immutable, validated snapshot with a [`ConfigRevision`]: the champion,
//!   challengers with weights (or [`Ramp`]s), shadows, [`SegmentRule`]s and overrides. Every bad
//!   input is a [`RoutingError`] from [`RouteTableBuilder::build`]; routing itself cannot fail.
//! - A [`Router`] serves the current table behind an `ArcSwap`: [`Router::route`] allocates
//!   nothing, takes no lock and makes no system call, and returns a [`Decision`] — a 40-byte
//!   `Copy` value with the version, [`ArmRole`], revision, probability and [`Reason`].
//! - Assignment: `bucket = (XXH3_64_withSeed(unit, XXH3_64(salt)) × 10 000) >> 64`; see [`hash`] for the
//!   specification and published test vectors. The bucket layout (see [`table`]) makes ramps
//!   monotone: raising a challenger's share never moves a unit back to the champion.
//! - [`AliasRoutes`] builds tables from the registry's aliases (`champion`, `challenger…`);
//!   [`RouteWatcher`] follows the store's change feed and hot-swaps the router when the
//!   aliases move in any replica.
//! - [`Router::kill`] sends all traffic to the champion in one atomic step.
//! - Exposures are counted per (revision, arm) inside the table, so they reset by construction on
//!   every new revision; [`ExposureSnapshot::sample_ratio_check`] is the chi-squared SRM test,
//!   reported as [`mlops_core::Evidence`].
//! - [`ShadowRunner`] calls shadow models (through the host's [`ShadowModel`]) on worker threads
//!   behind a bounded, drop-on-full queue, and its [`ShadowRecorder`] compares champion and shadow
//!   outputs per window.
//!
//! ```
//! use mlops_registry::routing::{ArmRole, Ramp, Reason, Request, RouteTable, Router, SegmentRule};
//!
//! let builder = RouteTable::builder("fraud@v3".parse()?)
//!     .salt("fraud-exp-1".parse()?)
//!     .ramped_challenger("fraud@v4".parse()?, Ramp::standard(), 0)
//!     .segment(SegmentRule::new("staff", "v4".parse()?).when_equals("staff", "yes"));
//! let router = Router::new(builder.build()?);
//!
//! let d = router.route_request(&Request::new(b"user-1").with_attributes(&[("staff", "yes")]));
//! assert_eq!((d.role, d.reason), (ArmRole::Challenger, Reason::Segment));
//!
//! // Step the ramp 1 % -> 5 %: units only move from the champion to the challenger.
//! let mut next = router.table().to_builder();
//! next.advance_ramp("v4".parse()?)?;
//! router.publish(next.revision(router.revision().get().saturating_add(1).into()).build()?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aliases;
mod decision;
mod error;
mod exposure;
pub mod hash;
mod ramp;
mod router;
mod shadow;
pub mod table;
pub mod watch;

pub use aliases::AliasRoutes;
pub use decision::{ArmRole, ConfigRevision, Decision, Reason, ShadowSet};
pub use error::{Result, RoutingError};
pub use exposure::{ArmExposure, ExposureSnapshot, SRM_ALPHA, SRM_CHECK, SrmReport};
pub use hash::{BUCKETS, Bucket, Salt, bucket, unit_hash};
pub use ramp::Ramp;
pub use router::Router;
pub use shadow::{
    Prediction, ShadowConfig, ShadowCounters, ShadowError, ShadowModel, ShadowRecorder,
    ShadowRunner, ShadowWindow, Submitted,
};
pub use table::{
    ArmInfo, Condition, MAX_CHALLENGERS, MAX_SHADOWS, Request, RouteTable, RouteTableBuilder,
    SegmentRule, ShadowInfo,
};
pub use watch::{Following, RouteWatcher, RouteWatcherBuilder, TableFn, WatchStatus};
