//! The lifecycle as data: states with flags, and transitions from a state on an event to a state,
//! with guards (evaluated by the policy engine on every plan) and effects (applied on commit).
//!
//! A [`LifecycleSpec`] is what a host writes (in Rust, JSON or TOML); a [`Lifecycle`] is a spec
//! that passed validation: every state reachable from the initial one, no transition naming an
//! undefined state, no two transitions leaving a state on the same event, no exit from a terminal
//! state, and an `evict` effect on every transition into an exclusive state.
//!
//! ```
//! use mlops_governance::lifecycle::{Lifecycle, names};
//! let lc = Lifecycle::default_lifecycle();
//! let promote = lc.transition(&names::PRE_PRODUCTION, &names::PROMOTE)?;
//! assert_eq!(promote.to.as_str(), "production");
//! assert!(lc.state(&promote.to)?.exclusive);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod default;
pub(crate) mod guard;

pub use default::names;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mlops_core::AliasName;
use serde::{Deserialize, Serialize};

use crate::error::LifecycleError;
use guard::Guard;
pub use mlops_core::{EventName, StateName};

/// One state of a lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDef {
    /// The state's name.
    pub name: StateName,
    /// No transition leaves it (for example `Archived`).
    #[serde(default)]
    pub terminal: bool,
    /// At most one version of a model may be in it at a time (for example `Production`).
    #[serde(default)]
    pub exclusive: bool,
    /// Entering it is governed: it is the stage a policy protects (for example `Production`).
    #[serde(default)]
    pub protected: bool,
    /// What the state means, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl StateDef {
    /// A state with no flags.
    #[must_use]
    pub fn new(name: StateName) -> Self {
        Self {
            name,
            terminal: false,
            exclusive: false,
            protected: false,
            description: String::new(),
        }
    }

    /// Marks it terminal.
    #[must_use]
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// Marks it exclusive.
    #[must_use]
    pub fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }

    /// Marks it protected.
    #[must_use]
    pub fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

/// What committing a transition does besides changing the version's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Point `alias` at the version (entering production moves `champion`).
    MoveAlias {
        /// The alias to move.
        alias: AliasName,
    },
    /// Remove `alias` if it points at the version (leaving production drops `champion`).
    RemoveAlias {
        /// The alias to remove.
        alias: AliasName,
    },
    /// The previous occupant of the (exclusive) target state moves to `to`.
    Evict {
        /// Where the evicted version goes.
        to: StateName,
    },
}

/// One transition: from a state, on an event, to a state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionDef {
    /// Source state.
    pub from: StateName,
    /// The event that triggers it.
    pub event: EventName,
    /// Target state.
    pub to: StateName,
    /// Guards that apply at every risk tier (the policy adds its own per tier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<Guard>,
    /// Effects applied on commit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

impl TransitionDef {
    /// A transition with no guards or effects.
    #[must_use]
    pub fn new(from: StateName, event: EventName, to: StateName) -> Self {
        Self {
            from,
            event,
            to,
            guards: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// Adds a guard.
    #[must_use]
    pub fn guard(mut self, guard: Guard) -> Self {
        self.guards.push(guard);
        self
    }

    /// Adds an effect.
    #[must_use]
    pub fn effect(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }

    /// The state an `evict` effect sends the previous occupant to, if any.
    #[must_use]
    pub fn eviction_target(&self) -> Option<&StateName> {
        self.effects.iter().find_map(|e| match e {
            Effect::Evict { to } => Some(to),
            _ => None,
        })
    }
}

/// An unvalidated lifecycle definition, as written by a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleSpec {
    /// The lifecycle's name.
    pub name: String,
    /// Where new versions start.
    pub initial: StateName,
    /// The states.
    pub states: Vec<StateDef>,
    /// The transitions.
    #[serde(default)]
    pub transitions: Vec<TransitionDef>,
}

impl LifecycleSpec {
    /// An empty definition starting at `initial` (which still has to be added as a state).
    #[must_use]
    pub fn new(name: impl Into<String>, initial: StateName) -> Self {
        Self {
            name: name.into(),
            initial,
            states: Vec::new(),
            transitions: Vec::new(),
        }
    }

    /// Adds a state.
    #[must_use]
    pub fn state(mut self, state: StateDef) -> Self {
        self.states.push(state);
        self
    }

    /// Adds a transition.
    #[must_use]
    pub fn transition(mut self, transition: TransitionDef) -> Self {
        self.transitions.push(transition);
        self
    }

    /// Validates the definition.
    ///
    /// # Errors
    /// The first rule broken, as a [`LifecycleError`]: no states, a duplicate state, an undefined
    /// initial state, an orphan transition, two transitions on one event from one state, an exit
    /// from a terminal state, an exclusive state entered without an eviction (or evicting into
    /// an undefined, terminal-less or exclusive state), or an unreachable state.
    pub fn validate(self) -> Result<Lifecycle, LifecycleError> {
        Lifecycle::new(self)
    }
}

/// A validated lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LifecycleSpec", into = "LifecycleSpec")]
pub struct Lifecycle {
    spec: LifecycleSpec,
    states: BTreeMap<StateName, usize>,
    transitions: BTreeMap<(StateName, EventName), usize>,
}

impl Lifecycle {
    /// Validates `spec`.
    ///
    /// # Errors
    /// As [`LifecycleSpec::validate`].
    pub fn new(spec: LifecycleSpec) -> Result<Self, LifecycleError> {
        if spec.states.is_empty() {
            return Err(LifecycleError::NoStates {
                lifecycle: spec.name.clone(),
            });
        }
        let mut states = BTreeMap::new();
        for (i, s) in spec.states.iter().enumerate() {
            if states.insert(s.name.clone(), i).is_some() {
                return Err(LifecycleError::DuplicateState {
                    state: s.name.clone(),
                });
            }
        }
        if !states.contains_key(&spec.initial) {
            return Err(LifecycleError::UnknownInitial {
                state: spec.initial.clone(),
            });
        }
        let state_def = |name: &StateName| states.get(name).and_then(|&i| spec.states.get(i));
        let mut transitions = BTreeMap::new();
        for (i, t) in spec.transitions.iter().enumerate() {
            let orphan = |missing: &StateName| LifecycleError::OrphanTransition {
                from: t.from.clone(),
                event: t.event.clone(),
                to: t.to.clone(),
                missing: missing.clone(),
            };
            let from = state_def(&t.from).ok_or_else(|| orphan(&t.from))?;
            let to = state_def(&t.to).ok_or_else(|| orphan(&t.to))?;
            if from.terminal {
                return Err(LifecycleError::TerminalHasExit {
                    state: t.from.clone(),
                    event: t.event.clone(),
                });
            }
            if to.exclusive {
                let target =
                    t.eviction_target()
                        .ok_or_else(|| LifecycleError::MissingEviction {
                            from: t.from.clone(),
                            event: t.event.clone(),
                            to: t.to.clone(),
                        })?;
                let bad = |reason| LifecycleError::BadEviction {
                    state: t.to.clone(),
                    target: target.clone(),
                    reason,
                };
                let evicted = state_def(target).ok_or_else(|| bad("not defined"))?;
                if evicted.exclusive {
                    return Err(bad("itself exclusive"));
                }
            }
            for effect in &t.effects {
                if let Effect::Evict { to: target } = effect
                    && state_def(target).is_none()
                {
                    return Err(orphan(target));
                }
            }
            if transitions
                .insert((t.from.clone(), t.event.clone()), i)
                .is_some()
            {
                return Err(LifecycleError::AmbiguousTransition {
                    from: t.from.clone(),
                    event: t.event.clone(),
                });
            }
        }
        // Reachability from the initial state (evictions count as edges: they move versions).
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([spec.initial.clone()]);
        while let Some(s) = queue.pop_front() {
            if !seen.insert(s.clone()) {
                continue;
            }
            for t in spec.transitions.iter().filter(|t| t.from == s) {
                queue.push_back(t.to.clone());
                if let Some(target) = t.eviction_target() {
                    queue.push_back(target.clone());
                }
            }
        }
        if let Some(s) = spec.states.iter().find(|s| !seen.contains(&s.name)) {
            return Err(LifecycleError::Unreachable {
                state: s.name.clone(),
                initial: spec.initial.clone(),
            });
        }
        Ok(Self {
            spec,
            states,
            transitions,
        })
    }

    /// The default lifecycle: `development → validation → pre_production → production →
    /// retired`, with `rejected` (from validation and pre-production) and `archived` (terminal).
    /// Entering `production` (on `promote`, or `reinstate` from `retired`) moves the `champion`
    /// alias and evicts the previous champion to `retired`; `retire` and `rollback` (back to
    /// `pre_production`) remove it. See [`names`] for the state names.
    #[must_use]
    pub fn default_lifecycle() -> Self {
        default::lifecycle()
    }

    /// Parses and validates a JSON definition.
    ///
    /// # Errors
    /// [`LifecycleError::Load`] for bad JSON or a field of the wrong shape; otherwise as
    /// [`LifecycleSpec::validate`].
    pub fn from_json(text: &str) -> Result<Self, LifecycleError> {
        let spec: LifecycleSpec =
            serde_json::from_str(text).map_err(|e| LifecycleError::Load(e.into()))?;
        Self::new(spec)
    }

    /// Parses and validates a TOML definition.
    ///
    /// # Errors
    /// As [`Lifecycle::from_json`].
    pub fn from_toml(text: &str) -> Result<Self, LifecycleError> {
        let spec: LifecycleSpec =
            toml::from_str(text).map_err(|e| LifecycleError::Load(e.into()))?;
        Self::new(spec)
    }

    /// The definition as pretty JSON.
    ///
    /// # Errors
    /// [`LifecycleError::Load`] if serialization fails (it does not for valid names).
    pub fn to_json(&self) -> Result<String, LifecycleError> {
        serde_json::to_string_pretty(&self.spec).map_err(|e| LifecycleError::Load(e.into()))
    }

    /// The definition as TOML.
    ///
    /// # Errors
    /// [`LifecycleError::Load`] if serialization fails.
    pub fn to_toml(&self) -> Result<String, LifecycleError> {
        toml::to_string(&self.spec).map_err(|e| LifecycleError::Load(e.into()))
    }

    fn unchecked(spec: LifecycleSpec) -> Self {
        let states = spec
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let transitions = spec
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.from.clone(), t.event.clone()), i))
            .collect();
        Self {
            spec,
            states,
            transitions,
        }
    }

    /// The validated definition.
    #[must_use]
    pub fn spec(&self) -> &LifecycleSpec {
        &self.spec
    }

    /// The lifecycle's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Where new versions start.
    #[must_use]
    pub fn initial(&self) -> &StateName {
        &self.spec.initial
    }

    /// The states, in definition order.
    pub fn states(&self) -> impl Iterator<Item = &StateDef> {
        self.spec.states.iter()
    }

    /// The transitions, in definition order.
    pub fn transitions(&self) -> impl Iterator<Item = &TransitionDef> {
        self.spec.transitions.iter()
    }

    /// Looks a state up by name.
    ///
    /// # Errors
    /// [`LifecycleError::UnknownState`] if it is not defined.
    pub fn state(&self, name: &StateName) -> Result<&StateDef, LifecycleError> {
        self.states
            .get(name)
            .and_then(|&i| self.spec.states.get(i))
            .ok_or_else(|| LifecycleError::UnknownState {
                state: name.to_string(),
            })
    }

    /// Looks a state up by its string name (as stored by the registry).
    ///
    /// # Errors
    /// [`LifecycleError::UnknownState`] if it is not defined.
    pub fn state_named(&self, name: &str) -> Result<&StateDef, LifecycleError> {
        self.spec
            .states
            .iter()
            .find(|s| s.name.as_str() == name)
            .ok_or_else(|| LifecycleError::UnknownState {
                state: crate::names::shorten(name),
            })
    }

    /// The transition leaving `from` on `event`.
    ///
    /// # Errors
    /// [`LifecycleError::UnknownState`] if `from` is not defined, [`LifecycleError::UnknownEvent`]
    /// if no transition leaves it on `event`.
    pub fn transition(
        &self,
        from: &StateName,
        event: &EventName,
    ) -> Result<&TransitionDef, LifecycleError> {
        self.state(from)?;
        self.transitions
            .get(&(from.clone(), event.clone()))
            .and_then(|&i| self.spec.transitions.get(i))
            .ok_or_else(|| LifecycleError::UnknownEvent {
                from: from.clone(),
                event: event.to_string(),
            })
    }

    /// The events that leave `from`.
    pub fn events_from<'a>(
        &'a self,
        from: &'a StateName,
    ) -> impl Iterator<Item = &'a EventName> + 'a {
        self.spec
            .transitions
            .iter()
            .filter(move |t| &t.from == from)
            .map(|t| &t.event)
    }
}

impl TryFrom<LifecycleSpec> for Lifecycle {
    type Error = LifecycleError;
    fn try_from(spec: LifecycleSpec) -> Result<Self, Self::Error> {
        Self::new(spec)
    }
}

impl From<Lifecycle> for LifecycleSpec {
    fn from(lc: Lifecycle) -> Self {
        lc.spec
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::default_lifecycle()
    }
}

#[cfg(test)]
mod tests;
