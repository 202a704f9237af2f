//! The per-model aggregate every commit replaces as a whole, and its parts for stores.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use mlops_core::{AliasName, ModelName, RiskTier, VersionNumber};
use serde::{Deserialize, Serialize};

use super::{
    AliasEvent, AliasTarget, Annotations, RegisteredModel, Revision, RulesRef, StateEvent,
    StateName, VersionStatus, validate_description,
};
use crate::error::{RegistryError, Result};
use crate::governed::{Authority, GovernanceRecords, GovernanceSeal, ProtectedChange};

/// Everything mutable about one model, committed as a unit under one [`Revision`]: the model
/// record, each version's state and annotations, aliases (and which are protected), and the
/// alias and state history.
///
/// Change it through its methods — they keep the history — then hand it to
/// [`ModelStore::commit`](crate::store::ModelStore::commit) with the revision you read. Stores
/// reject a successor that renames the model, adds or removes versions, points an alias at a
/// missing version or rewrites history.
///
/// Cost: the aggregate is a plain value, so a read–modify–commit copies it: O(versions + alias
/// and state history) per commit (tens of microseconds at a thousand of each). Version creation
/// does not copy it.
///
/// ```
/// use mlops_core::{ActorId, AliasName, ModelName, VersionNumber};
/// use mlops_core::chrono::DateTime;
/// use mlops_registry::model::{ModelAggregate, RegisteredModel, StateName, VersionStatus};
///
/// let t = DateTime::UNIX_EPOCH;
/// let by = ActorId::new("alice")?;
/// let mut agg = ModelAggregate::new(RegisteredModel::new(ModelName::new("fraud")?, by.clone(), t));
/// let v1 = VersionNumber::FIRST;
/// agg.insert_version(v1, StateName::development())?; // stores do this when creating a version
/// agg.set_alias(AliasName::champion(), v1, &by, t)?;
/// assert_eq!(agg.alias(&AliasName::champion()), Some(v1));
/// assert_eq!(agg.alias_history().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAggregate {
    model: RegisteredModel,
    revision: Revision,
    versions: BTreeMap<VersionNumber, VersionStatus>,
    pub(super) aliases: BTreeMap<AliasName, AliasTarget>,
    protected_aliases: BTreeSet<AliasName>,
    #[serde(default = "baseline_states")]
    protected_states: BTreeSet<StateName>,
    pub(super) alias_history: Vec<AliasEvent>,
    state_history: Vec<StateEvent>,
    #[serde(default)]
    governance: GovernanceRecords,
    #[serde(skip)]
    authority: Authority,
}

fn baseline_states() -> BTreeSet<StateName> {
    crate::governed::baseline_states().collect()
}

impl ModelAggregate {
    /// The aggregate of a newly registered model: no versions, no aliases, [`Revision::initial`],
    /// and the baseline protected states and aliases
    /// ([`governed::BASELINE_PROTECTED_STATES`](crate::governed::BASELINE_PROTECTED_STATES),
    /// [`governed::BASELINE_PROTECTED_ALIASES`](crate::governed::BASELINE_PROTECTED_ALIASES)).
    #[must_use]
    pub fn new(model: RegisteredModel) -> Self {
        Self {
            model,
            revision: Revision::initial(),
            versions: BTreeMap::new(),
            aliases: BTreeMap::new(),
            protected_aliases: crate::governed::baseline_aliases().collect(),
            protected_states: baseline_states(),
            alias_history: Vec::new(),
            state_history: Vec::new(),
            governance: GovernanceRecords::default(),
            authority: Authority::default(),
        }
    }

    /// The model's name.
    #[must_use]
    pub fn name(&self) -> &ModelName {
        self.model.name()
    }
    /// The model record.
    #[must_use]
    pub fn model(&self) -> &RegisteredModel {
        &self.model
    }
    /// The model record, to change description, owner, tags, risk tier or `updated_at`.
    pub fn model_mut(&mut self) -> &mut RegisteredModel {
        &mut self.model
    }
    /// The revision this aggregate was read at.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }
    /// Sets the revision (for store implementations, after a successful commit) and drops the
    /// governance seal: an aggregate a store keeps or hands out never carries it.
    pub fn set_revision(&mut self, revision: Revision) {
        self.revision = revision;
        self.authority = Authority::default();
    }

    /// Every version's state and annotations, by number.
    #[must_use]
    pub fn versions(&self) -> &BTreeMap<VersionNumber, VersionStatus> {
        &self.versions
    }
    /// The newest version number, if any.
    #[must_use]
    pub fn latest_version(&self) -> Option<VersionNumber> {
        self.versions.keys().next_back().copied()
    }
    /// One version's state and annotations.
    #[must_use]
    pub fn version(&self, version: VersionNumber) -> Option<&VersionStatus> {
        self.versions.get(&version)
    }
    /// A version's lifecycle state.
    #[must_use]
    pub fn state(&self, version: VersionNumber) -> Option<&StateName> {
        self.versions.get(&version).map(|s| &s.state)
    }

    /// Adds a newly created version. Only stores call this, inside version creation; a commit
    /// that adds a version is rejected.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyExists`] if the number is taken; [`RegistryError::Protected`] for
    /// a protected initial state (versions enter those only through governance).
    pub fn insert_version(&mut self, version: VersionNumber, state: StateName) -> Result<()> {
        if self.protected_states.contains(&state) {
            return Err(self.protected(ProtectedChange::InitialState { state }));
        }
        if self.versions.contains_key(&version) {
            return Err(RegistryError::AlreadyExists {
                kind: crate::error::EntityKind::Version,
                id: format!("{}@{version}", self.name()),
            });
        }
        self.versions.insert(
            version,
            VersionStatus {
                state,
                annotations: Annotations::default(),
                humility_rules: None,
            },
        );
        Ok(())
    }

    fn status_mut(&mut self, version: VersionNumber) -> Result<&mut VersionStatus> {
        let name = self.model.name.clone();
        self.versions
            .get_mut(&version)
            .ok_or_else(|| RegistryError::version_not_found(&name, version))
    }

    /// A version's annotations, to change.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn annotations_mut(&mut self, version: VersionNumber) -> Result<&mut Annotations> {
        Ok(&mut self.status_mut(version)?.annotations)
    }

    /// Sets a version's lifecycle state and records the change; returns the previous state.
    /// Setting the state it already has records nothing.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn set_state(
        &mut self,
        version: VersionNumber,
        state: StateName,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<StateName> {
        let status = self.status_mut(version)?;
        let from = std::mem::replace(&mut status.state, state.clone());
        if from != state {
            self.state_history.push(StateEvent {
                version,
                from: from.clone(),
                to: state,
                at,
                by: by.clone(),
            });
        }
        Ok(from)
    }

    /// Sets (or clears) the humility rules `version` serves with. A commit that changes them
    /// while the version is in a protected state is refused unless sealed.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn set_humility_rules(
        &mut self,
        version: VersionNumber,
        rules: Option<RulesRef>,
    ) -> Result<Option<RulesRef>> {
        Ok(std::mem::replace(
            &mut self.status_mut(version)?.humility_rules,
            rules,
        ))
    }

    /// The version an alias points at.
    #[must_use]
    pub fn alias(&self, alias: &AliasName) -> Option<VersionNumber> {
        self.aliases.get(alias).map(|t| t.version)
    }
    /// Every alias and its target.
    #[must_use]
    pub fn aliases(&self) -> &BTreeMap<AliasName, AliasTarget> {
        &self.aliases
    }
    /// The aliases pointing at `version`.
    pub fn aliases_of(&self, version: VersionNumber) -> impl Iterator<Item = &AliasName> {
        self.aliases
            .iter()
            .filter(move |(_, t)| t.version == version)
            .map(|(a, _)| a)
    }

    /// Points `alias` at `version` and records the move; returns where it pointed before.
    /// Setting it to where it already points records nothing. Protection is checked when the
    /// aggregate is committed: a protected alias moves only in a governance-sealed commit.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version; nothing changes.
    pub fn set_alias(
        &mut self,
        alias: AliasName,
        version: VersionNumber,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<Option<VersionNumber>> {
        if !self.versions.contains_key(&version) {
            return Err(RegistryError::version_not_found(self.name(), version));
        }
        let from = self.alias(&alias);
        if from == Some(version) {
            return Ok(from);
        }
        self.aliases.insert(
            alias.clone(),
            AliasTarget {
                version,
                set_at: at,
                set_by: by.clone(),
            },
        );
        self.alias_history.push(AliasEvent {
            alias,
            from,
            to: Some(version),
            at,
            by: by.clone(),
        });
        Ok(from)
    }

    /// Removes `alias` and records it; returns where it pointed.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] if the alias is not set.
    pub fn remove_alias(
        &mut self,
        alias: &AliasName,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<VersionNumber> {
        let target = self
            .aliases
            .remove(alias)
            .ok_or_else(|| RegistryError::NotFound {
                kind: crate::error::EntityKind::Alias,
                id: format!("{}#{alias}", self.model.name),
            })?;
        self.alias_history.push(AliasEvent {
            alias: alias.clone(),
            from: Some(target.version),
            to: None,
            at,
            by: by.clone(),
        });
        Ok(target.version)
    }

    /// Whether `alias` is protected (only governance moves it).
    #[must_use]
    pub fn is_protected(&self, alias: &AliasName) -> bool {
        self.protected_aliases.contains(alias)
    }
    /// The protected aliases.
    #[must_use]
    pub fn protected_aliases(&self) -> &BTreeSet<AliasName> {
        &self.protected_aliases
    }
    /// Whether `state` is protected (versions enter and leave it only through governance).
    #[must_use]
    pub fn is_protected_state(&self, state: &StateName) -> bool {
        self.protected_states.contains(state)
    }
    /// The protected lifecycle states.
    #[must_use]
    pub fn protected_states(&self) -> &BTreeSet<StateName> {
        &self.protected_states
    }
    /// Protects `state`. Protection only grows outside governance: a commit that drops a
    /// protected name is refused unless sealed.
    pub fn protect_state(&mut self, state: StateName) {
        self.protected_states.insert(state);
    }
    /// The records governance keeps with the model (approval requests).
    #[must_use]
    pub fn governance_records(&self) -> &GovernanceRecords {
        &self.governance
    }
    /// The records governance keeps with the model, to change (only a sealed commit may).
    pub fn governance_records_mut(&mut self) -> &mut GovernanceRecords {
        &mut self.governance
    }
    /// Seals this aggregate for its next commit: protected changes are then allowed (see
    /// [`governed`](crate::governed)). Only the holder of the process's seal can call it.
    pub fn authorize(&mut self, seal: &'static GovernanceSeal) {
        self.authority = Authority::sealed(seal);
    }
    /// Whether the aggregate carries the seal.
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        self.authority.is_sealed()
    }

    fn protected(&self, change: ProtectedChange) -> RegistryError {
        RegistryError::Protected {
            model: self.name().clone(),
            change,
        }
    }

    /// Checks that the aggregate is a valid new model for
    /// [`ModelStore::create_model`](crate::store::ModelStore::create_model): no versions, a
    /// valid description, and (unless sealed) the default risk tier, the baseline protection and
    /// no governance records. Every store calls it.
    ///
    /// # Errors
    /// [`RegistryError::InvalidCommit`] for versions; [`RegistryError::InvalidInput`] for the
    /// description; [`RegistryError::Protected`] for the rest.
    pub fn check_new(&self) -> Result<()> {
        if !self.versions.is_empty() || !self.aliases.is_empty() {
            return Err(RegistryError::InvalidCommit {
                model: self.name().clone(),
                reason: "a new model has no versions".to_owned(),
            });
        }
        validate_description(&self.model.description)?;
        if self.is_sealed() {
            return Ok(());
        }
        let creation = |reason| self.protected(ProtectedChange::Creation { reason });
        if self.model.risk_tier != RiskTier::default() {
            return Err(creation(
                "starts at the default risk tier; classify it through governance",
            ));
        }
        if !crate::governed::baseline_states().all(|s| self.protected_states.contains(&s))
            || !crate::governed::baseline_aliases().all(|a| self.protected_aliases.contains(&a))
        {
            return Err(creation(
                "protects at least the baseline states and aliases",
            ));
        }
        if !self.governance.is_empty() {
            return Err(creation("has no approval requests"));
        }
        Ok(())
    }

    /// The first change from `old` that only a sealed commit may make.
    fn first_protected_change(&self, old: &Self) -> Option<ProtectedChange> {
        if self.model.risk_tier != old.model.risk_tier {
            return Some(ProtectedChange::RiskTier {
                from: old.model.risk_tier,
                to: self.model.risk_tier,
            });
        }
        let lost = old
            .protected_states
            .iter()
            .find(|s| !self.protected_states.contains(*s))
            .map(ToString::to_string)
            .or_else(|| {
                old.protected_aliases
                    .iter()
                    .find(|a| !self.protected_aliases.contains(*a))
                    .map(ToString::to_string)
            });
        if let Some(name) = lost {
            return Some(ProtectedChange::Unprotect { name });
        }
        let protected_state =
            |s: &StateName| self.protected_states.contains(s) || old.protected_states.contains(s);
        for ((n, new), old_status) in self.versions.iter().zip(old.versions.values()) {
            if new.state != old_status.state
                && (protected_state(&new.state) || protected_state(&old_status.state))
            {
                return Some(ProtectedChange::State {
                    version: *n,
                    from: old_status.state.clone(),
                    to: new.state.clone(),
                });
            }
            if new.humility_rules != old_status.humility_rules
                && (protected_state(&new.state) || protected_state(&old_status.state))
            {
                return Some(ProtectedChange::HumilityRules { version: *n });
            }
        }
        if let Some(alias) = self
            .protected_aliases
            .iter()
            .find(|a| self.aliases.get(*a) != old.aliases.get(*a))
        {
            return Some(ProtectedChange::Alias {
                alias: alias.clone(),
            });
        }
        (self.governance != old.governance).then_some(ProtectedChange::GovernanceRecords)
    }

    /// Marks `alias` protected (or not). Unprotecting is refused at commit unless sealed.
    pub fn set_protected(&mut self, alias: AliasName, protection: Protection) {
        match protection {
            Protection::Protected => {
                self.protected_aliases.insert(alias);
            }
            Protection::Unprotected => {
                self.protected_aliases.remove(&alias);
            }
        }
    }

    /// Every alias move, oldest first.
    #[must_use]
    pub fn alias_history(&self) -> &[AliasEvent] {
        &self.alias_history
    }
    /// Every state change, oldest first.
    #[must_use]
    pub fn state_history(&self) -> &[StateEvent] {
        &self.state_history
    }

    /// The version `alias` pointed at, at instant `at` (the last move at or before `at`).
    #[must_use]
    pub fn alias_at(&self, alias: &AliasName, at: DateTime<Utc>) -> Option<VersionNumber> {
        self.alias_history
            .iter()
            .rev()
            .find(|e| &e.alias == alias && e.at <= at)
            .and_then(|e| e.to)
    }

    /// The version `alias` pointed at before its current target (the `from` of its last move to
    /// the current target), for rollback.
    #[must_use]
    pub fn previous_alias_target(&self, alias: &AliasName) -> Option<VersionNumber> {
        self.alias_history
            .iter()
            .rev()
            .find(|e| &e.alias == alias)
            .and_then(|e| e.from)
    }

    /// Checks that `self` is a valid successor of `old` for a commit: same name and creation
    /// time, the same set of versions, aliases pointing at existing versions, histories that
    /// only grew, and (unless the aggregate is sealed) no protected change (see
    /// [`governed`](crate::governed)). Every store calls it inside its compare-and-swap.
    ///
    /// # Errors
    /// [`RegistryError::InvalidCommit`] naming what is wrong; [`RegistryError::Protected`]
    /// naming the first protected change of an unsealed commit.
    pub fn check_successor_of(&self, old: &Self) -> Result<()> {
        let bad = |reason: String| RegistryError::InvalidCommit {
            model: old.name().clone(),
            reason,
        };
        if self.name() != old.name() {
            return Err(bad(format!(
                "the model cannot be renamed to `{}`",
                self.name()
            )));
        }
        if self.model.created_at != old.model.created_at {
            return Err(bad("the creation time cannot change".to_owned()));
        }
        validate_description(&self.model.description)?;
        if !self.versions.keys().eq(old.versions.keys()) {
            return Err(bad(
                "a commit cannot add or remove versions; create versions with `create_version`"
                    .to_owned(),
            ));
        }
        for status in self.versions.values() {
            validate_description(&status.annotations.description)?;
        }
        if let Some((alias, target)) = self
            .aliases
            .iter()
            .find(|(_, t)| !self.versions.contains_key(&t.version))
        {
            return Err(bad(format!(
                "alias `{alias}` points at missing version {}",
                target.version
            )));
        }
        if self.alias_history.len() < old.alias_history.len()
            || self.alias_history.get(..old.alias_history.len()) != Some(&old.alias_history[..])
        {
            return Err(bad("alias history can only grow".to_owned()));
        }
        if self.state_history.len() < old.state_history.len()
            || self.state_history.get(..old.state_history.len()) != Some(&old.state_history[..])
        {
            return Err(bad("state history can only grow".to_owned()));
        }
        if !self.is_sealed()
            && let Some(change) = self.first_protected_change(old)
        {
            tracing::warn!(model = %old.name(), %change, "unsealed protected change refused");
            return Err(self.protected(change));
        }
        Ok(())
    }
}

/// Whether an alias is protected.
///
/// Exhaustive on purpose: an alias is protected or it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Only governance moves it.
    Protected,
    /// Anyone with write access moves it.
    Unprotected,
}

/// The parts of a [`ModelAggregate`], for stores that persist them separately.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateParts {
    /// The model record.
    pub model: RegisteredModel,
    /// The revision.
    pub revision: Revision,
    /// Each version's state and annotations.
    pub versions: BTreeMap<VersionNumber, VersionStatus>,
    /// Current aliases.
    pub aliases: BTreeMap<AliasName, AliasTarget>,
    /// Protected aliases.
    pub protected_aliases: BTreeSet<AliasName>,
    /// Protected lifecycle states.
    pub protected_states: BTreeSet<StateName>,
    /// The records governance keeps with the model.
    pub governance: GovernanceRecords,
    /// Alias moves, oldest first.
    pub alias_history: Vec<AliasEvent>,
    /// State changes, oldest first.
    pub state_history: Vec<StateEvent>,
}

impl ModelAggregate {
    /// Reassembles an aggregate a store persisted in parts. Aliases pointing at missing
    /// versions are rejected.
    ///
    /// # Errors
    /// [`RegistryError::Corrupt`] naming the dangling alias.
    pub fn from_parts(parts: AggregateParts) -> Result<Self> {
        if let Some((alias, t)) = parts
            .aliases
            .iter()
            .find(|(_, t)| !parts.versions.contains_key(&t.version))
        {
            return Err(RegistryError::Corrupt {
                detail: format!(
                    "alias `{alias}` of model `{}` points at missing version {}",
                    parts.model.name, t.version
                ),
            });
        }
        Ok(Self {
            model: parts.model,
            revision: parts.revision,
            versions: parts.versions,
            aliases: parts.aliases,
            protected_aliases: parts.protected_aliases,
            protected_states: parts.protected_states,
            alias_history: parts.alias_history,
            state_history: parts.state_history,
            governance: parts.governance,
            authority: Authority::default(),
        })
    }

    /// Splits the aggregate into its parts.
    #[must_use]
    pub fn into_parts(self) -> AggregateParts {
        AggregateParts {
            model: self.model,
            revision: self.revision,
            versions: self.versions,
            aliases: self.aliases,
            protected_aliases: self.protected_aliases,
            protected_states: self.protected_states,
            alias_history: self.alias_history,
            state_history: self.state_history,
            governance: self.governance,
        }
    }
}
