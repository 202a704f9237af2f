//! The governance engine: plans transitions (pure, synchronous, every guard evaluated) and
//! commits them through the registry's [`ModelStore`] compare-and-swap, with their audit records
//! in the same atomic commit.
//!
//! The engine holds the process's [`GovernanceSeal`]: its commits are the only ones the store
//! accepts for protected states and aliases, risk tiers and approval requests (see
//! [`mlops_registry::governed`]). A [`Plan`] is a preview: [`Governance::commit`] evaluates the
//! policy again against the stored model, the current policy and the clock, and the commit
//! decides.
//!
//! - `transition.rs`: planning and committing;
//! - `approvals.rs`: approval requests kept in the store, decisions, re-opening, expiry;
//! - `break_glass.rs`: audited overrides with their post-hoc review;
//! - `evidence.rs`: evidence recorded against versions and counted by the guards;
//! - `alarm.rs`: what an alarm on a serving version does, by policy;
//! - `policy_change.rs`: replacing the policy;
//! - `registration.rs`: registering models and versions the way governance does.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_core::chrono::DateTime;
//! use mlops_core::{Actor, Digest, ManualClock, ModelName, Role};
//! use mlops_governance::engine::{Governance, PlanContext};
//! use mlops_governance::lifecycle::names;
//! use mlops_governance::policy::Policy;
//! use mlops_registry::model::VersionCore;
//! use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};
//!
//! let store = Arc::new(InMemoryStore::new());
//! let alice = Actor::human("alice")?.with_role(Role::data_scientist());
//! let gov = Governance::builder(store.clone(), Arc::new(ManualClock::default()))
//!     .policy(Policy::permissive("anything-goes"))?
//!     .actor(alice.clone())
//!     .build();
//! // The model is registered through governance (its protected names from creation), its
//! // versions through the store.
//! let fraud: ModelName = "fraud".parse()?;
//! gov.register_model(&fraud, &alice, "card fraud scoring")?;
//! let core = VersionCore::builder(alice.clone(), DateTime::UNIX_EPOCH)
//!     .artifact("model.bin", "mem://fraud/1/model.bin", Digest::of(b"weights"), 7)
//!     .build()?;
//! let v1 = store.create_version(NewVersion::new(fraud, core))?.version.model_ref();
//! let applied = gov.transition(&v1, &names::SUBMIT, &alice.id, &PlanContext::default())?;
//! assert_eq!(applied.to.as_str(), "validation");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alarm;
mod approvals;
mod break_glass;
mod evidence;
mod policy_change;
mod registration;
mod transition;

pub use alarm::{AlarmAction, AlarmPolicy, AlarmResponse};
pub use evidence::MAX_RECORDED_CHECKS;
pub(crate) use evidence::recorded_for as recorded_evidence_of;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use mlops_core::{Actor, ActorId, Clock, Evidence, ModelName, ModelRef, Subject, VersionNumber};
use mlops_registry::audit::AuditDraft;
use mlops_registry::governed::GovernanceSeal;
use mlops_registry::model::{ModelAggregate, Protection, Revision, StateName};
use mlops_registry::store::ModelStore;
use parking_lot::RwLock;

use crate::approval::ApprovalId;
use crate::audit::StoreAuditLog;
use crate::error::{GovernanceError, PolicyError};
use crate::lifecycle::{Effect, EventName, Lifecycle};
use crate::names::Period;
use crate::policy::{Policy, PolicyEngine, Verdict};

pub use crate::error::Result;

/// How many times a governed read–modify–commit is retried on a conflict.
const RETRIES: u32 = 8;

/// What a request brings besides who and what: evidence and model-card fields. (The
/// environment, which selects the enforcement mode, is the engine's: see
/// [`GovernanceBuilder::environment`].)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanContext {
    /// Evidence offered for the transition.
    pub evidence: Vec<Evidence>,
    /// Model-card fields. Version tags named `card.<field>` are added (the context wins).
    pub card: BTreeMap<String, String>,
}

impl PlanContext {
    /// Adds evidence.
    #[must_use]
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Sets a model-card field.
    #[must_use]
    pub fn with_card_field(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.card.insert(field.into(), value.into());
        self
    }
}

/// A planned transition: the verdict and what committing it would change, made at a model
/// revision. It is a preview: its fields are read-only, and [`Governance::commit`] evaluates
/// the policy again at commit time (a stale plan cannot commit anything the current policy
/// would not allow). If the model changed since, plan again.
///
/// A plan cannot be edited or forged:
///
/// ```compile_fail
/// # fn edit(mut plan: mlops_governance::Plan) {
/// plan.to = "production".parse().unwrap(); // error: field `to` is private
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    version: ModelRef,
    event: EventName,
    from: StateName,
    to: StateName,
    actor: Actor,
    author: ActorId,
    verdict: Verdict,
    effects: Vec<crate::lifecycle::Effect>,
    evicts: Option<(VersionNumber, StateName)>,
    approval: Option<ApprovalId>,
    rejected: Option<ApprovalId>,
    approvers: Vec<ActorId>,
    revision: Revision,
    at: DateTime<Utc>,
    environment: String,
    context: PlanContext,
    evidence: Vec<Evidence>,
    /// The humility rules an `amend` commits (set only by [`Governance::amend_rules`]).
    amend_rules: Option<Option<mlops_registry::model::RulesRef>>,
}

impl Plan {
    /// The version moving.
    #[must_use]
    pub fn version(&self) -> &ModelRef {
        &self.version
    }
    /// The event.
    #[must_use]
    pub fn event(&self) -> &EventName {
        &self.event
    }
    /// Its current state.
    #[must_use]
    pub fn from(&self) -> &StateName {
        &self.from
    }
    /// The target state.
    #[must_use]
    pub fn to(&self) -> &StateName {
        &self.to
    }
    /// Who requests it (as found in the engine's directory).
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    /// Every guard's outcome.
    #[must_use]
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }
    /// The effects committing applies.
    #[must_use]
    pub fn effects(&self) -> &[crate::lifecycle::Effect] {
        &self.effects
    }
    /// The previous occupant of an exclusive target state, and where it goes.
    #[must_use]
    pub fn evicts(&self) -> Option<&(VersionNumber, StateName)> {
        self.evicts.as_ref()
    }
    /// The open approval request whose sign-offs were counted.
    #[must_use]
    pub fn approval(&self) -> Option<&ApprovalId> {
        self.approval.as_ref()
    }
    /// The rejected request standing in the way, if the last request for this transition was
    /// rejected (re-open it with [`Governance::reopen`]).
    #[must_use]
    pub fn rejected(&self) -> Option<&ApprovalId> {
        self.rejected.as_ref()
    }
    /// The approvers counted (separation of duties applied; approvers no longer in the
    /// directory, or no longer holding the role, dropped).
    #[must_use]
    pub fn approvers(&self) -> &[ActorId] {
        &self.approvers
    }
    /// The model revision the plan was made at.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }
    /// When it was planned.
    #[must_use]
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// The evidence the guards saw: what the store recorded for the version, then what the
    /// request brought.
    #[must_use]
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
    /// The engine's environment (which selected the enforcement mode).
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.environment
    }
}

/// How a transition was applied.
///
/// Exhaustive on purpose: audits and reports distinguish each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// Every guard was met.
    Allowed,
    /// Denied, but the engine's environment runs the policy in warn or observe mode.
    Unenforced,
    /// A break-glass override.
    Overridden,
}

/// The result of a committed transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Transitioned {
    /// The version moved.
    pub version: ModelRef,
    /// The state it left.
    pub from: StateName,
    /// The state it entered.
    pub to: StateName,
    /// The model's new revision.
    pub revision: Revision,
    /// The evicted previous occupant and where it went.
    pub evicted: Option<(VersionNumber, StateName)>,
    /// How it was applied.
    pub applied: Applied,
    /// The verdict at commit time.
    pub verdict: Verdict,
    /// The post-hoc review request opened by an override.
    pub review: Option<ApprovalId>,
}

/// Builds a [`Governance`] engine from its required parts.
pub struct GovernanceBuilder {
    store: Arc<dyn ModelStore>,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    policy: Arc<dyn PolicyEngine>,
    actors: HashMap<ActorId, Actor>,
    approval_ttl: Option<Period>,
    environment: String,
    alarm_policy: AlarmPolicy,
    system: Actor,
}

impl GovernanceBuilder {
    /// Uses `lifecycle` instead of the default one. Call before [`GovernanceBuilder::policy`] so
    /// the policy is checked against it.
    #[must_use]
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Uses the declarative `policy`.
    ///
    /// # Errors
    /// [`PolicyError::UnknownState`] if it names a state the lifecycle does not define.
    pub fn policy(mut self, policy: Policy) -> Result<Self, PolicyError> {
        policy.check_against(&self.lifecycle)?;
        self.policy = Arc::new(policy);
        Ok(self)
    }

    /// Uses a host policy engine.
    #[must_use]
    pub fn policy_engine(mut self, engine: Arc<dyn PolicyEngine>) -> Self {
        self.policy = engine;
        self
    }

    /// The environment this engine serves, such as `prod` (default: empty, the policy's default
    /// mode). It selects the policy's enforcement mode (enforce, warn, observe); it is the
    /// host's configuration, never part of a request.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Adds an actor to the directory (their roles are looked up here, never taken from the
    /// caller).
    #[must_use]
    pub fn actor(mut self, actor: Actor) -> Self {
        self.actors.insert(actor.id.clone(), actor);
        self
    }

    /// Adds actors.
    #[must_use]
    pub fn actors(mut self, actors: impl IntoIterator<Item = Actor>) -> Self {
        for a in actors {
            self.actors.insert(a.id.clone(), a);
        }
        self
    }

    /// What alarms on serving versions do ([`Governance::respond_to_alarm`]; default: open a
    /// review at every tier).
    #[must_use]
    pub fn alarm_policy(mut self, policy: AlarmPolicy) -> Self {
        self.alarm_policy = policy;
        self
    }

    /// Approval requests expire after `ttl` (default: never).
    #[must_use]
    pub fn approval_ttl(mut self, ttl: Period) -> Self {
        self.approval_ttl = Some(ttl);
        self
    }

    /// Builds the engine. Approval requests are read from the store whenever they are needed,
    /// so engines built on one store (in threads, processes or replicas) share them.
    ///
    /// The first engine built in a process claims the process's [`GovernanceSeal`]; every
    /// engine shares it. If other code claimed it first, the engine still plans but every
    /// commit fails with [`GovernanceError::SealUnavailable`] (fail closed).
    #[must_use]
    pub fn build(self) -> Governance {
        let seal = process_seal();
        if seal.is_none() {
            tracing::error!(
                "the governance seal was claimed outside mlops-governance: this engine cannot commit"
            );
        }
        Governance {
            store: self.store,
            clock: self.clock,
            lifecycle: self.lifecycle,
            policy: RwLock::new(self.policy),
            actors: RwLock::new(self.actors),
            approval_ttl: self.approval_ttl,
            environment: self.environment,
            alarm_policy: self.alarm_policy,
            seal,
            system: self.system,
        }
    }
}

/// The process's seal, claimed once for every engine of the process.
fn process_seal() -> Option<&'static GovernanceSeal> {
    static SEAL: OnceLock<Option<&'static GovernanceSeal>> = OnceLock::new();
    *SEAL.get_or_init(GovernanceSeal::claim)
}

/// The governance engine. Share it behind an `Arc`; every method takes `&self`.
pub struct Governance {
    store: Arc<dyn ModelStore>,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    policy: RwLock<Arc<dyn PolicyEngine>>,
    actors: RwLock<HashMap<ActorId, Actor>>,
    approval_ttl: Option<Period>,
    environment: String,
    alarm_policy: AlarmPolicy,
    seal: Option<&'static GovernanceSeal>,
    system: Actor,
}

impl fmt::Debug for GovernanceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernanceBuilder")
            .field("store", &self.store.name())
            .field("lifecycle", &self.lifecycle.name())
            .field("policy", &self.policy.identity())
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Governance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Governance")
            .field("store", &self.store.name())
            .field("lifecycle", &self.lifecycle.name())
            .field("policy", &self.policy.read().identity())
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

fn system_actor() -> Actor {
    Actor::new(
        const { ActorId::from_static("mlops-governance") },
        mlops_core::ActorKind::Service,
    )
}

pub(crate) fn version_subject(version: &ModelRef) -> Subject {
    Subject::Version {
        version: version.clone(),
    }
}

impl Governance {
    /// Starts building an engine over `store`, reading time from `clock`, with the default
    /// lifecycle and a policy that requires nothing but default permissions.
    #[must_use]
    pub fn builder(store: Arc<dyn ModelStore>, clock: Arc<dyn Clock>) -> GovernanceBuilder {
        GovernanceBuilder {
            store,
            clock,
            lifecycle: Lifecycle::default_lifecycle(),
            policy: Arc::new(Policy::permissive("permissive")),
            actors: HashMap::new(),
            approval_ttl: None,
            environment: String::new(),
            alarm_policy: AlarmPolicy::default(),
            system: system_actor(),
        }
    }

    /// The lifecycle.
    #[must_use]
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// The current policy engine.
    #[must_use]
    pub fn policy(&self) -> Arc<dyn PolicyEngine> {
        self.policy.read().clone()
    }

    /// The environment this engine serves (see [`GovernanceBuilder::environment`]).
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ModelStore> {
        &self.store
    }

    /// The injected clock (for modules that build on the engine and record times).
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The audit log of the store (its hash-chained records).
    #[must_use]
    pub fn audit_log(&self) -> StoreAuditLog {
        StoreAuditLog::new(self.store.clone())
    }

    /// Checks that every version in a protected state, every protected alias and every risk
    /// tier in the store is explained by governance records in the audit chain (see
    /// [`mlops_registry::consistency`]); `Ok(Err(_))` names the first that is not (state edited
    /// directly in the storage).
    ///
    /// # Errors
    /// [`GovernanceError::Registry`] on store failure.
    pub fn verify_consistency(
        &self,
    ) -> Result<std::result::Result<(), mlops_registry::consistency::Inconsistency>> {
        Ok(mlops_registry::consistency::verify_consistency(
            self.store.as_ref(),
        )?)
    }

    /// Looks an actor up in the directory.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`].
    pub fn actor(&self, id: &ActorId) -> Result<Actor> {
        self.actors
            .read()
            .get(id)
            .cloned()
            .ok_or_else(|| GovernanceError::UnknownActor { actor: id.clone() })
    }

    /// Adds or replaces an actor in the directory. A sign-off counts only while its approver is
    /// in the directory and still holds the role it signed with.
    pub fn add_actor(&self, actor: Actor) {
        self.actors.write().insert(actor.id.clone(), actor);
    }

    /// Deactivates an actor: removes them from the directory, so they can no longer act and
    /// their sign-offs on requests not yet committed stop counting. Returns them, if present.
    pub fn deactivate_actor(&self, id: &ActorId) -> Option<Actor> {
        self.actors.write().remove(id)
    }

    /// The states and aliases this engine's lifecycle protects: its protected states and every
    /// alias its transitions move or remove. The engine adds them to a model's protection in
    /// its first commit on the model; register models with
    /// [`Governance::register_model`] to have them from creation.
    #[must_use]
    pub fn protected_names(
        &self,
    ) -> (
        std::collections::BTreeSet<StateName>,
        std::collections::BTreeSet<mlops_core::AliasName>,
    ) {
        let states = self
            .lifecycle
            .states()
            .filter(|s| s.protected)
            .map(|s| s.name.clone())
            .collect();
        let aliases = self
            .lifecycle
            .transitions()
            .flat_map(|t| t.effects.iter())
            .filter_map(|e| match e {
                Effect::MoveAlias { alias } | Effect::RemoveAlias { alias } => Some(alias.clone()),
                Effect::Evict { .. } => None,
            })
            .collect();
        (states, aliases)
    }

    fn seal(&self) -> Result<&'static GovernanceSeal> {
        self.seal.ok_or(GovernanceError::SealUnavailable)
    }

    /// Appends governance records that change no state (a denial, an unauthorized attempt),
    /// sealed: the only way records in the `governance.` namespace reach the store.
    pub(crate) fn append_governed(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>> {
        let seal = self.seal()?;
        let drafts = drafts.into_iter().map(|d| d.authorize(seal)).collect();
        Ok(self.store.append_audit(drafts)?)
    }

    /// Commits `aggregate` (read at `expected`) with `drafts`, sealed, after adding the
    /// lifecycle's protected names to the model's protection.
    pub(crate) fn commit_governed(
        &self,
        expected: Revision,
        mut aggregate: ModelAggregate,
        drafts: Vec<AuditDraft>,
    ) -> Result<Revision> {
        let seal = self.seal()?;
        self.protect_lifecycle_names(&mut aggregate);
        aggregate.authorize(seal);
        let model = aggregate.name().clone();
        let drafts = drafts.into_iter().map(|d| d.authorize(seal)).collect();
        Ok(self.store.commit(&model, expected, aggregate, drafts)?)
    }

    /// Reads `model`, lets `change` edit it and list the audit records, and commits sealed;
    /// re-reads and retries on a conflict (up to [`RETRIES`] times).
    pub(crate) fn update_governed<T>(
        &self,
        model: &ModelName,
        mut change: impl FnMut(&mut ModelAggregate) -> Result<(T, Vec<AuditDraft>)>,
    ) -> Result<(T, Revision)> {
        let mut attempt = 0;
        loop {
            let mut aggregate = self.store.get_model(model)?;
            let expected = aggregate.revision();
            let (value, drafts) = change(&mut aggregate)?;
            match self.commit_governed(expected, aggregate, drafts) {
                Err(GovernanceError::Conflict { .. }) if attempt < RETRIES => attempt += 1,
                Ok(revision) => return Ok((value, revision)),
                Err(e) => return Err(e),
            }
        }
    }

    fn protect_lifecycle_names(&self, aggregate: &mut ModelAggregate) {
        let (states, aliases) = self.protected_names();
        for s in states {
            aggregate.protect_state(s);
        }
        for a in aliases {
            aggregate.set_protected(a, Protection::Protected);
        }
    }
}
