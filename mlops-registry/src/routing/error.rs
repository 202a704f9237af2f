//! Errors of the routing family. Every one is raised when a route table, ramp or shadow runner is
//! built, never while routing: a built [`RouteTable`](super::RouteTable) always routes.

use mlops_core::{AliasName, ModelName, ModelRef, VersionNumber};

use crate::error::RegistryError;

/// A result with a [`RoutingError`].
pub type Result<T, E = RoutingError> = std::result::Result<T, E>;

/// Why a route table, ramp, salt or shadow runner could not be built or published.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingError {
    /// A weight (or lane, or mirror share) is negative, NaN or infinite, or a lane or mirror
    /// share is wider than all traffic.
    #[error(
        "weight of `{arm}` is `{weight}`: weights must be finite and not negative, lanes and \
         mirror shares at most all traffic"
    )]
    InvalidWeight {
        /// The arm it was given for.
        arm: ModelRef,
        /// The bad weight.
        weight: f64,
    },
    /// The declared total of the weights is not a finite positive number.
    #[error("weights total `{total}` must be finite and positive")]
    InvalidTotal {
        /// The bad total.
        total: f64,
    },
    /// The weights do not add up to the declared total (with an explicit champion weight), or the
    /// challengers alone exceed it.
    #[error("weights sum to `{sum}` but the total is `{total}`")]
    WeightsDoNotSum {
        /// Their sum.
        sum: f64,
        /// The declared total.
        total: f64,
    },
    /// The challengers' lanes, rounded to buckets, need more than the 10 000 buckets there are.
    #[error("challenger lanes need `{needed}` buckets but there are only 10000")]
    LanesExceedBuckets {
        /// Buckets the lanes need.
        needed: u32,
    },
    /// A challenger's weight is larger than the lane reserved for it.
    #[error("challenger `{arm}` has weight `{weight}` but its lane is only `{lane}`")]
    LaneTooSmall {
        /// The challenger.
        arm: ModelRef,
        /// Its weight.
        weight: f64,
        /// Its lane.
        lane: f64,
    },
    /// The same version appears twice among the champion, challengers and shadows.
    #[error("`{arm}` appears more than once in the route table")]
    DuplicateArm {
        /// The repeated arm.
        arm: ModelRef,
    },
    /// A challenger is also the champion.
    #[error("challenger `{arm}` is also the champion")]
    ChallengerIsChampion {
        /// The arm.
        arm: ModelRef,
    },
    /// An arm belongs to a different model than the champion.
    #[error("`{arm}` is not a version of `{model}`, the champion's model")]
    ModelMismatch {
        /// The champion's model.
        model: ModelName,
        /// The arm that does not belong.
        arm: ModelRef,
    },
    /// More challengers or shadows than a table can hold.
    #[error("`{count}` {what} given, at most `{max}` allowed")]
    TooManyArms {
        /// `challengers` or `shadows`.
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A segment rule or unit override names a version that is not a champion or challenger of
    /// the table, or a ramp operation names one that is not ramped.
    #[error("version `{version}` is not a serving arm of this table")]
    UnknownArm {
        /// The version.
        version: VersionNumber,
    },
    /// The same unit id has two overrides.
    #[error("unit `{unit}` has more than one override")]
    DuplicateOverride {
        /// The unit id (lossy UTF-8, shortened).
        unit: String,
    },
    /// A segment rule has no conditions (it would silently take all traffic).
    #[error("segment rule `{name}` has no conditions")]
    EmptySegment {
        /// The rule's name.
        name: String,
    },
    /// A ramp has no steps.
    #[error("a ramp needs at least one step")]
    EmptyRamp,
    /// A ramp step is outside (0, 100] percent or not a number.
    #[error("ramp step `{share}` % is outside (0, 100]")]
    InvalidRampStep {
        /// The bad step.
        share: f64,
    },
    /// A ramp decreases.
    #[error("ramp decreases from `{from}` % to `{to}` % at step `{step}`")]
    RampDecreases {
        /// The index of the step that is lower than the one before it.
        step: usize,
        /// The share before.
        from: f64,
        /// The lower share.
        to: f64,
    },
    /// A ramp step index is past the end of the ramp.
    #[error("ramp step `{step}` does not exist: the ramp has `{len}` steps")]
    RampStepOutOfRange {
        /// The requested step.
        step: usize,
        /// The number of steps.
        len: usize,
    },
    /// A salt is empty, too long, or has a character outside `[A-Za-z0-9._-]`.
    #[error("salt `{salt}` must be 1-64 characters of `[A-Za-z0-9._-]`")]
    InvalidSalt {
        /// The bad salt (shortened).
        salt: String,
    },
    /// A published table's config revision is not newer than the one serving.
    #[error("config revision `{proposed}` is not newer than the serving revision `{current}`")]
    StaleRevision {
        /// The serving revision.
        current: u64,
        /// The rejected revision.
        proposed: u64,
    },
    /// A published table routes a different model than the router.
    #[error("table routes `{found}` but the router serves `{expected}`")]
    WrongModel {
        /// The router's model.
        expected: ModelName,
        /// The table's model.
        found: ModelName,
    },
    /// A shadow runner setting is out of range (zero queue capacity, zero workers, zero budget).
    #[error("shadow setting `{setting}` is invalid: {reason}")]
    InvalidShadowConfig {
        /// The setting.
        setting: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// An alias the table needs does not exist on the model.
    #[error("alias `{alias}` of `{model}` does not resolve to a version")]
    AliasNotFound {
        /// The model.
        model: ModelName,
        /// The alias.
        alias: AliasName,
    },
    /// Reading the registry failed.
    #[error("reading the registry: {0}")]
    Store(#[from] RegistryError),
    /// A shadow worker thread could not be started.
    #[error("could not start a shadow worker thread: {reason}")]
    WorkerSpawn {
        /// The operating system's message.
        reason: String,
    },
}

/// User input quoted in a routing error: at most 64 characters.
pub(crate) fn shorten(s: &str) -> String {
    mlops_core::error::shorten_to(s, 64)
}
