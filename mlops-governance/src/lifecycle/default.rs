//! The default lifecycle.

use mlops_core::AliasName;

use super::{Effect, EventName, Lifecycle, LifecycleSpec, StateDef, StateName, TransitionDef};

/// The default lifecycle's states and events as typed constants, for hosts and tests:
/// `gov.transition(&v1, &names::PROMOTE, &actor, &ctx)`.
pub mod names {
    use super::{EventName, StateName};

    /// Where new versions start.
    pub const DEVELOPMENT: StateName = StateName::DEVELOPMENT;
    /// Under independent validation.
    pub const VALIDATION: StateName = StateName::from_static("validation");
    /// Validated, waiting for (or running) a production trial.
    pub const PRE_PRODUCTION: StateName = StateName::from_static("pre_production");
    /// Serving: at most one version per model.
    pub const PRODUCTION: StateName = StateName::from_static("production");
    /// Left production.
    pub const RETIRED: StateName = StateName::from_static("retired");
    /// Failed validation or review.
    pub const REJECTED: StateName = StateName::from_static("rejected");
    /// Kept for the record only; terminal.
    pub const ARCHIVED: StateName = StateName::from_static("archived");

    /// `development` → `validation`.
    pub const SUBMIT: EventName = EventName::from_static("submit");
    /// `validation` → `pre_production`.
    pub const VALIDATE: EventName = EventName::from_static("validate");
    /// `pre_production` → `production` (moves `champion`, retires the previous champion).
    pub const PROMOTE: EventName = EventName::from_static("promote");
    /// `validation` or `pre_production` → `rejected`.
    pub const REJECT: EventName = EventName::from_static("reject");
    /// `production` → `retired` (removes `champion`).
    pub const RETIRE: EventName = EventName::from_static("retire");
    /// `production` → `pre_production` (removes `champion`).
    pub const ROLLBACK: EventName = EventName::from_static("rollback");
    /// `retired` → `production` (moves `champion` back).
    pub const REINSTATE: EventName = EventName::from_static("reinstate");
    /// `development`, `retired` or `rejected` → `archived`.
    pub const ARCHIVE: EventName = EventName::from_static("archive");
    /// A governed change to what serves without a state change (the humility rules).
    pub const AMEND: EventName = EventName::from_static("amend");
    /// `rejected` → `development`.
    pub const REWORK: EventName = EventName::from_static("rework");
}

pub(super) fn spec() -> LifecycleSpec {
    use names::*;
    let champion = AliasName::champion();
    let enter_production = |td: TransitionDef| {
        td.effect(Effect::MoveAlias {
            alias: champion.clone(),
        })
        .effect(Effect::Evict { to: RETIRED })
    };
    let leave_production = |td: TransitionDef| {
        td.effect(Effect::RemoveAlias {
            alias: champion.clone(),
        })
    };
    LifecycleSpec::new("default", DEVELOPMENT)
        .state(StateDef::new(DEVELOPMENT).describe("being built; not governed"))
        .state(StateDef::new(VALIDATION).describe("under independent validation"))
        .state(
            StateDef::new(PRE_PRODUCTION)
                .protected()
                .describe("validated; waiting for or running a production trial"),
        )
        .state(
            StateDef::new(PRODUCTION)
                .protected()
                .exclusive()
                .describe("serving; at most one version per model"),
        )
        .state(StateDef::new(RETIRED).describe("left production"))
        .state(StateDef::new(REJECTED).describe("failed validation or review"))
        .state(
            StateDef::new(ARCHIVED)
                .terminal()
                .describe("kept for the record only"),
        )
        .transition(TransitionDef::new(DEVELOPMENT, SUBMIT, VALIDATION))
        .transition(TransitionDef::new(DEVELOPMENT, ARCHIVE, ARCHIVED))
        .transition(TransitionDef::new(VALIDATION, VALIDATE, PRE_PRODUCTION))
        .transition(TransitionDef::new(VALIDATION, REJECT, REJECTED))
        .transition(enter_production(TransitionDef::new(
            PRE_PRODUCTION,
            PROMOTE,
            PRODUCTION,
        )))
        .transition(TransitionDef::new(PRE_PRODUCTION, REJECT, REJECTED))
        .transition(leave_production(TransitionDef::new(
            PRODUCTION, RETIRE, RETIRED,
        )))
        .transition(leave_production(TransitionDef::new(
            PRODUCTION,
            ROLLBACK,
            PRE_PRODUCTION,
        )))
        .transition(enter_production(TransitionDef::new(
            RETIRED, REINSTATE, PRODUCTION,
        )))
        .transition(TransitionDef::new(RETIRED, ARCHIVE, ARCHIVED))
        // A change to what serves without a state change (the humility rules): gated by the
        // guards of the state the version stays in.
        .transition(TransitionDef::new(PRE_PRODUCTION, AMEND, PRE_PRODUCTION))
        .transition(
            TransitionDef::new(PRODUCTION, AMEND, PRODUCTION).effect(Effect::Evict { to: RETIRED }),
        )
        .transition(TransitionDef::new(REJECTED, REWORK, DEVELOPMENT))
        .transition(TransitionDef::new(REJECTED, ARCHIVE, ARCHIVED))
}

pub(super) fn lifecycle() -> Lifecycle {
    let spec = spec();
    match Lifecycle::new(spec.clone()) {
        Ok(lc) => lc,
        // Unreachable: `default_lifecycle_is_valid` pins that the spec validates. Fall back to
        // the unchecked spec rather than panicking in library code.
        Err(_) => Lifecycle::unchecked(spec),
    }
}
