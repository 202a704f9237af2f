//! The default lifecycle.

use mlops_core::AliasName;

use super::{Effect, EventName, Lifecycle, LifecycleSpec, StateDef, StateName, TransitionDef};

/// Names of the default lifecycle's states and events, for hosts and tests.
pub mod names {
    /// Where new versions start.
    pub const DEVELOPMENT: &str = "development";
    /// Under independent validation.
    pub const VALIDATION: &str = "validation";
    /// Validated, waiting for (or running) a production trial.
    pub const PRE_PRODUCTION: &str = "pre_production";
    /// Serving: at most one version per model.
    pub const PRODUCTION: &str = "production";
    /// Left production.
    pub const RETIRED: &str = "retired";
    /// Failed validation or review.
    pub const REJECTED: &str = "rejected";
    /// Kept for the record only; terminal.
    pub const ARCHIVED: &str = "archived";
}

fn s(name: &str) -> StateName {
    // The names above are valid; a test pins that `lifecycle()` validates with all of them.
    StateName::new(name).unwrap_or_default()
}

fn e(name: &str) -> EventName {
    EventName(name.to_owned())
}

fn t(from: &str, event: &str, to: &str) -> TransitionDef {
    TransitionDef::new(s(from), e(event), s(to))
}

pub(super) fn spec() -> LifecycleSpec {
    use names::*;
    let champion = AliasName::champion();
    let enter_production = |td: TransitionDef| {
        td.effect(Effect::MoveAlias {
            alias: champion.clone(),
        })
        .effect(Effect::Evict { to: s(RETIRED) })
    };
    let leave_production = |td: TransitionDef| {
        td.effect(Effect::RemoveAlias {
            alias: champion.clone(),
        })
    };
    LifecycleSpec::new("default", s(DEVELOPMENT))
        .state(StateDef::new(s(DEVELOPMENT)).describe("being built; not governed"))
        .state(StateDef::new(s(VALIDATION)).describe("under independent validation"))
        .state(
            StateDef::new(s(PRE_PRODUCTION))
                .protected()
                .describe("validated; waiting for or running a production trial"),
        )
        .state(
            StateDef::new(s(PRODUCTION))
                .protected()
                .exclusive()
                .describe("serving; at most one version per model"),
        )
        .state(StateDef::new(s(RETIRED)).describe("left production"))
        .state(StateDef::new(s(REJECTED)).describe("failed validation or review"))
        .state(
            StateDef::new(s(ARCHIVED))
                .terminal()
                .describe("kept for the record only"),
        )
        .transition(t(DEVELOPMENT, "submit", VALIDATION))
        .transition(t(DEVELOPMENT, "archive", ARCHIVED))
        .transition(t(VALIDATION, "validate", PRE_PRODUCTION))
        .transition(t(VALIDATION, "reject", REJECTED))
        .transition(enter_production(t(PRE_PRODUCTION, "promote", PRODUCTION)))
        .transition(t(PRE_PRODUCTION, "reject", REJECTED))
        .transition(leave_production(t(PRODUCTION, "retire", RETIRED)))
        .transition(leave_production(t(PRODUCTION, "rollback", PRE_PRODUCTION)))
        .transition(enter_production(t(RETIRED, "reinstate", PRODUCTION)))
        .transition(t(RETIRED, "archive", ARCHIVED))
        // A change to what serves without a state change (the humility rules): gated by the
        // guards of the state the version stays in.
        .transition(t(PRE_PRODUCTION, "amend", PRE_PRODUCTION))
        .transition(t(PRODUCTION, "amend", PRODUCTION).effect(Effect::Evict { to: s(RETIRED) }))
        .transition(t(REJECTED, "rework", DEVELOPMENT))
        .transition(t(REJECTED, "archive", ARCHIVED))
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
