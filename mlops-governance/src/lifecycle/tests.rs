use super::guard::Guard;
use super::*;

fn sn(s: &str) -> StateName {
    s.parse().unwrap()
}

fn en(s: &str) -> EventName {
    s.parse().unwrap()
}

fn small() -> LifecycleSpec {
    LifecycleSpec::new("small", sn("a"))
        .state(StateDef::new(sn("a")))
        .state(StateDef::new(sn("b")).exclusive().protected())
        .state(StateDef::new(sn("c")).terminal())
        .transition(
            TransitionDef::new(sn("a"), en("go"), sn("b")).effect(Effect::Evict { to: sn("c") }),
        )
        .transition(TransitionDef::new(sn("b"), en("end"), sn("c")))
}

#[test]
fn default_lifecycle_is_valid_and_shaped_as_documented() {
    let spec = default::spec();
    let lc = Lifecycle::new(spec).unwrap();
    assert_eq!(lc.initial(), &names::DEVELOPMENT);
    let names: Vec<&str> = lc.states().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "development",
            "validation",
            "pre_production",
            "production",
            "retired",
            "rejected",
            "archived"
        ]
    );
    let prod = lc.state(&sn("production")).unwrap();
    assert!(prod.exclusive && prod.protected && !prod.terminal);
    assert!(lc.state(&sn("archived")).unwrap().terminal);
    let promote = lc
        .transition(&sn("pre_production"), &names::PROMOTE)
        .unwrap();
    assert_eq!(promote.eviction_target().unwrap().as_str(), "retired");
    assert!(promote.effects.contains(&Effect::MoveAlias {
        alias: mlops_core::AliasName::champion()
    }));
    assert_eq!(lc.events_from(&sn("development")).count(), 2);
}

#[test]
fn round_trips_through_json_and_toml() {
    let lc = Lifecycle::default_lifecycle();
    let json = lc.to_json().unwrap();
    assert_eq!(Lifecycle::from_json(&json).unwrap(), lc);
    let toml = lc.to_toml().unwrap();
    assert_eq!(Lifecycle::from_toml(&toml).unwrap(), lc);
    let via_serde: Lifecycle = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, lc);
    // A host-written TOML lifecycle with a guard.
    let text = r#"
name = "two-step"
initial = "draft"
[[states]]
name = "draft"
[[states]]
name = "live"
exclusive = true
protected = true
[[states]]
name = "gone"
terminal = true
[[transitions]]
from = "draft"
event = "ship"
to = "live"
guards = [{ kind = "min_time_in_state", period = "1d" }]
effects = [{ kind = "evict", to = "gone" }, { kind = "move_alias", alias = "champion" }]
[[transitions]]
from = "live"
event = "drop"
to = "gone"
"#;
    let lc = Lifecycle::from_toml(text).unwrap();
    let ship = lc.transition(&sn("draft"), &en("ship")).unwrap();
    assert_eq!(
        ship.guards,
        vec![Guard::min_time_in_state("1d".parse().unwrap())]
    );
}

#[test]
fn validation_rejects_each_broken_rule() {
    assert!(small().validate().is_ok());

    let no_states = LifecycleSpec::new("x", sn("a"));
    assert!(matches!(
        no_states.validate(),
        Err(LifecycleError::NoStates { .. })
    ));

    let dup = small().state(StateDef::new(sn("a")));
    assert!(
        matches!(dup.validate(), Err(LifecycleError::DuplicateState { state }) if state == sn("a"))
    );

    let mut bad_initial = small();
    bad_initial.initial = sn("z");
    assert!(matches!(
        bad_initial.validate(),
        Err(LifecycleError::UnknownInitial { .. })
    ));

    let orphan = small().transition(TransitionDef::new(sn("a"), en("x"), sn("nowhere")));
    assert!(matches!(
        orphan.validate(),
        Err(LifecycleError::OrphanTransition { missing, .. }) if missing == sn("nowhere")
    ));

    let ambiguous = small().transition(TransitionDef::new(sn("b"), en("end"), sn("a")));
    assert!(matches!(
        ambiguous.validate(),
        Err(LifecycleError::AmbiguousTransition { .. })
    ));

    let terminal_exit = small().transition(TransitionDef::new(sn("c"), en("revive"), sn("a")));
    assert!(matches!(
        terminal_exit.validate(),
        Err(LifecycleError::TerminalHasExit { .. })
    ));

    let mut no_evict = small();
    no_evict.transitions[0].effects.clear();
    assert!(
        matches!(no_evict.validate(), Err(LifecycleError::MissingEviction { to, .. }) if to == sn("b"))
    );

    let mut evict_to_self = small();
    evict_to_self.transitions[0].effects = vec![Effect::Evict { to: sn("b") }];
    assert!(matches!(
        evict_to_self.validate(),
        Err(LifecycleError::BadEviction { .. })
    ));

    let mut evict_nowhere = small();
    evict_nowhere.transitions[0].effects = vec![Effect::Evict { to: sn("q") }];
    assert!(matches!(
        evict_nowhere.validate(),
        Err(LifecycleError::BadEviction { .. })
    ));

    let unreachable = small().state(StateDef::new(sn("island")));
    assert!(matches!(
        unreachable.validate(),
        Err(LifecycleError::Unreachable { state, .. }) if state == sn("island")
    ));
}

#[test]
fn malformed_files_and_unknown_lookups_are_typed_errors() {
    assert!(matches!(
        Lifecycle::from_json("{"),
        Err(LifecycleError::Load(crate::error::LoadError::Json(_)))
    ));
    assert!(matches!(
        Lifecycle::from_toml("name = 3"),
        Err(LifecycleError::Load(crate::error::LoadError::Toml(_)))
    ));
    // An invalid state name inside a file is a parse error naming the value.
    let e = Lifecycle::from_json(r#"{"name":"x","initial":"Bad","states":[]}"#).unwrap_err();
    assert!(e.to_string().contains("Bad"), "{e}");
    let lc = Lifecycle::default_lifecycle();
    assert!(matches!(
        lc.state_named("limbo"),
        Err(LifecycleError::UnknownState { .. })
    ));
    assert!(matches!(
        lc.transition(&sn("development"), &names::PROMOTE),
        Err(LifecycleError::UnknownEvent { .. })
    ));
    assert!(matches!(
        lc.transition(&sn("development"), &en("nope")),
        Err(LifecycleError::UnknownEvent { .. })
    ));
    // A malformed event name is refused before any lookup.
    assert!("not an event".parse::<EventName>().is_err());
    assert!(matches!(
        lc.transition(&sn("limbo"), &en("go")),
        Err(LifecycleError::UnknownState { .. })
    ));
}
