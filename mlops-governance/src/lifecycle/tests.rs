use super::*;
use crate::policy::Guard;

fn sn(s: &str) -> StateName {
    s.parse().unwrap()
}

fn en(s: &str) -> EventName {
    s.parse().unwrap()
}

fn small() -> LifecycleSpec {
    LifecycleSpec::new("small", sn("A"))
        .state(StateDef::new(sn("A")))
        .state(StateDef::new(sn("B")).exclusive().protected())
        .state(StateDef::new(sn("C")).terminal())
        .transition(
            TransitionDef::new(sn("A"), en("go"), sn("B")).effect(Effect::Evict { to: sn("C") }),
        )
        .transition(TransitionDef::new(sn("B"), en("end"), sn("C")))
}

#[test]
fn default_lifecycle_is_valid_and_shaped_as_documented() {
    let spec = default::spec();
    let lc = Lifecycle::new(spec).unwrap();
    assert_eq!(lc.initial().as_str(), names::DEVELOPMENT);
    let names: Vec<&str> = lc.states().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Development",
            "Validation",
            "PreProduction",
            "Production",
            "Retired",
            "Rejected",
            "Archived"
        ]
    );
    let prod = lc.state(&sn("Production")).unwrap();
    assert!(prod.exclusive && prod.protected && !prod.terminal);
    assert!(lc.state(&sn("Archived")).unwrap().terminal);
    let promote = lc.transition(&sn("PreProduction"), "promote").unwrap();
    assert_eq!(promote.eviction_target().unwrap().as_str(), "Retired");
    assert!(promote.effects.contains(&Effect::MoveAlias {
        alias: mlops_core::AliasName::champion()
    }));
    assert_eq!(lc.events_from(&sn("Development")).count(), 2);
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
initial = "Draft"
[[states]]
name = "Draft"
[[states]]
name = "Live"
exclusive = true
protected = true
[[states]]
name = "Gone"
terminal = true
[[transitions]]
from = "Draft"
event = "ship"
to = "Live"
guards = [{ kind = "min_time_in_state", period = "1d" }]
effects = [{ kind = "evict", to = "Gone" }, { kind = "move_alias", alias = "champion" }]
[[transitions]]
from = "Live"
event = "drop"
to = "Gone"
"#;
    let lc = Lifecycle::from_toml(text).unwrap();
    let ship = lc.transition(&sn("Draft"), "ship").unwrap();
    assert_eq!(
        ship.guards,
        vec![Guard::min_time_in_state("1d".parse().unwrap())]
    );
}

#[test]
fn validation_rejects_each_broken_rule() {
    assert!(small().validate().is_ok());

    let no_states = LifecycleSpec::new("x", sn("A"));
    assert!(matches!(
        no_states.validate(),
        Err(LifecycleError::NoStates { .. })
    ));

    let dup = small().state(StateDef::new(sn("A")));
    assert!(
        matches!(dup.validate(), Err(LifecycleError::DuplicateState { state }) if state == sn("A"))
    );

    let mut bad_initial = small();
    bad_initial.initial = sn("Z");
    assert!(matches!(
        bad_initial.validate(),
        Err(LifecycleError::UnknownInitial { .. })
    ));

    let orphan = small().transition(TransitionDef::new(sn("A"), en("x"), sn("Nowhere")));
    assert!(matches!(
        orphan.validate(),
        Err(LifecycleError::OrphanTransition { missing, .. }) if missing == sn("Nowhere")
    ));

    let ambiguous = small().transition(TransitionDef::new(sn("B"), en("end"), sn("A")));
    assert!(matches!(
        ambiguous.validate(),
        Err(LifecycleError::AmbiguousTransition { .. })
    ));

    let terminal_exit = small().transition(TransitionDef::new(sn("C"), en("revive"), sn("A")));
    assert!(matches!(
        terminal_exit.validate(),
        Err(LifecycleError::TerminalHasExit { .. })
    ));

    let mut no_evict = small();
    no_evict.transitions[0].effects.clear();
    assert!(
        matches!(no_evict.validate(), Err(LifecycleError::MissingEviction { to, .. }) if to == sn("B"))
    );

    let mut evict_to_self = small();
    evict_to_self.transitions[0].effects = vec![Effect::Evict { to: sn("B") }];
    assert!(matches!(
        evict_to_self.validate(),
        Err(LifecycleError::BadEviction { .. })
    ));

    let mut evict_nowhere = small();
    evict_nowhere.transitions[0].effects = vec![Effect::Evict { to: sn("Q") }];
    assert!(matches!(
        evict_nowhere.validate(),
        Err(LifecycleError::BadEviction { .. })
    ));

    let unreachable = small().state(StateDef::new(sn("Island")));
    assert!(matches!(
        unreachable.validate(),
        Err(LifecycleError::Unreachable { state, .. }) if state == sn("Island")
    ));
}

#[test]
fn malformed_files_and_unknown_lookups_are_typed_errors() {
    assert!(matches!(
        Lifecycle::from_json("{"),
        Err(LifecycleError::Malformed { format: "json", .. })
    ));
    assert!(matches!(
        Lifecycle::from_toml("name = 3"),
        Err(LifecycleError::Malformed { format: "toml", .. })
    ));
    // An invalid state name inside a file is a parse error naming the value.
    let e = Lifecycle::from_json(r#"{"name":"x","initial":"1bad","states":[]}"#).unwrap_err();
    assert!(e.to_string().contains("1bad"), "{e}");
    let lc = Lifecycle::default_lifecycle();
    assert!(matches!(
        lc.state_named("Limbo"),
        Err(LifecycleError::UnknownState { .. })
    ));
    assert!(matches!(
        lc.transition(&sn("Development"), "promote"),
        Err(LifecycleError::UnknownEvent { .. })
    ));
    assert!(matches!(
        lc.transition(&sn("Development"), "not an event"),
        Err(LifecycleError::UnknownEvent { .. })
    ));
    assert!(matches!(
        lc.transition(&sn("Limbo"), "go"),
        Err(LifecycleError::UnknownState { .. })
    ));
}
