//! Champion/challenger contests with always-valid sequential statistics, guardrails, automated
//! promotion and rollback, and bandit allocation.
//!
//! - [`ContestConfig`]: a primary metric ([`MetricSpec`]: a proportion or a mean, with its
//!   [`Better`] direction), guardrails with tolerated degradation, `α`, a minimum improvement,
//!   warm-up, minimum sample and duration, the [`Method`] (sequential mSPRT or fixed horizon).
//! - [`Contest`]: outcomes per arm go in with [`Contest::record`] (O(1), NaN and out-of-range
//!   values rejected and counted); [`Contest::look`] evaluates every challenger with the
//!   statistics of [`stats`] (formulas and citation there) and latches a [`ChallengerOutcome`]:
//!   keep running, promote, stop, roll back now, or invalid. Each is [`mlops_core::Evidence`]
//!   through [`ChallengerReport::to_evidence`].
//! - Invalid data never promotes: the router's sample-ratio-mismatch evidence
//!   ([`Contest::apply_srm`], [`Contest::check_table`]), a route table moved by someone else
//!   ([`ContestError::RevisionMoved`], removed challengers stop as [`StopReason::Removed`]) and
//!   too many rejected outcomes invalidate the contest; a change the host makes on purpose (a
//!   ramp step) is followed with [`Contest::follow`].
//! - [`automation`]: [`request_promotion`] turns a promotion into a governance transition
//!   request carrying the evidence; [`Contest::roll_back`] removes the harmful challenger
//!   from the route table (or engages the kill switch for the last one) and audits it.
//! - [`bandit`]: Thompson sampling and epsilon-greedy weights, recomputed off the hot path and
//!   published as route-table revisions.
//!
//! Governance does not depend on `mlops-drift`: the host feeds outcomes (a conversion, a log
//! loss, a latency) per arm.

pub mod automation;
pub mod bandit;
mod engine;
mod error;
mod spec;
pub mod stats;

pub use automation::{Promotion, request_promotion};
pub use bandit::{Bandit, BanditConfig, BanditPolicy, Reward};
pub use engine::{
    ChallengerOutcome, ChallengerReport, Contest, ContestReport, MetricReport, MetricRole,
    StopReason,
};
pub use error::ContestError;
pub use spec::{
    Better, ContestConfig, ContestConfigBuilder, Guardrail, GuardrailProof, Method, MetricKind,
    MetricSpec,
};
