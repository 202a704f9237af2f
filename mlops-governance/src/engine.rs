//! The governance engine: plans transitions (pure, synchronous, every guard evaluated) and
//! commits them through the registry's [`ModelStore`] compare-and-swap, with their audit records
//! in the same atomic commit.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_core::{Actor, ManualClock, Role, RiskTier};
//! use mlops_governance::engine::{Governance, PlanContext};
//! use mlops_governance::policy::Policy;
//! use mlops_registry::store::InMemoryStore;
//!
//! let store = Arc::new(InMemoryStore::new());
//! let alice = Actor::human("alice")?.with_role(Role::data_scientist());
//! let gov = Governance::builder(store.clone(), Arc::new(ManualClock::default()))
//!     .policy(Policy::permissive("anything-goes"))?
//!     .actor(alice.clone())
//!     .build();
//! let v1 = gov.register_version_for_test("fraud", &alice, RiskTier::Low)?;
//! let applied = gov.transition(&v1, "submit", &alice.id, &PlanContext::default())?;
//! assert_eq!(applied.to.as_str(), "validation");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mlops_core::{
    Actor, ActorId, Clock, Digest, Evidence, ModelName, ModelRef, Subject, VersionNumber,
};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::{ModelAggregate, ModelVersion, Protection, Revision, StateName};
use mlops_registry::store::ModelStore;
use parking_lot::{Mutex, RwLock};
use serde_json::json;

use crate::approval::{ApprovalBook, ApprovalId, ApprovalRequest, RequestKind, Vote};
use crate::audit::{AuditLogExt, StoreAuditLog};
use crate::error::{GovernanceError, PolicyError};
use crate::lifecycle::{Effect, EventName, Lifecycle};
use crate::names::Period;
use crate::policy::{Action, GuardInput, Policy, PolicyEngine, PolicyEngineExt, Verdict};

/// The engine's result type.
pub type Result<T, E = GovernanceError> = std::result::Result<T, E>;

/// What a request brings besides who and what: the environment (which selects the enforcement
/// mode), evidence, and model-card fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanContext {
    /// The environment, such as `prod` (empty: the policy's default mode).
    pub environment: String,
    /// Evidence offered for the transition.
    pub evidence: Vec<Evidence>,
    /// Model-card fields. Version tags named `card.<field>` are added (the context wins).
    pub card: BTreeMap<String, String>,
}

impl PlanContext {
    /// An empty context in `environment`.
    #[must_use]
    pub fn in_environment(environment: impl Into<String>) -> Self {
        Self {
            environment: environment.into(),
            ..Self::default()
        }
    }

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
/// revision. Commit it with [`Governance::commit`]; if the model changed since, plan again.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The version moving.
    pub version: ModelRef,
    /// The event.
    pub event: EventName,
    /// Its current state.
    pub from: StateName,
    /// The target state.
    pub to: StateName,
    /// Who requests it.
    pub actor: Actor,
    /// Every guard's outcome.
    pub verdict: Verdict,
    /// The effects committing applies.
    pub effects: Vec<Effect>,
    /// The previous occupant of an exclusive target state, and where it goes.
    pub evicts: Option<(VersionNumber, StateName)>,
    /// The open approval request whose sign-offs were counted.
    pub approval: Option<ApprovalId>,
    /// The approvers counted (separation of duties already applied).
    pub approvers: Vec<ActorId>,
    /// The model revision the plan was made at.
    pub revision: Revision,
    /// When it was planned.
    pub at: DateTime<Utc>,
    /// The environment.
    pub environment: String,
}

/// How a transition was applied.
///
/// Exhaustive on purpose: audits and reports distinguish each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// Every guard was met.
    Allowed,
    /// Denied, but the environment's mode is warn or observe.
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

    /// Approval requests expire after `ttl` (default: never).
    #[must_use]
    pub fn approval_ttl(mut self, ttl: Period) -> Self {
        self.approval_ttl = Some(ttl);
        self
    }

    /// Builds the engine. Approval requests are rebuilt from the store's audit log.
    #[must_use]
    pub fn build(self) -> Governance {
        let mut book = ApprovalBook::default();
        let log = StoreAuditLog::new(self.store.clone());
        if let Ok(requests) = log.approval_snapshots() {
            for r in requests {
                book.insert(r);
            }
        }
        Governance {
            store: self.store,
            clock: self.clock,
            lifecycle: self.lifecycle,
            policy: RwLock::new(self.policy),
            actors: RwLock::new(self.actors),
            approvals: Mutex::new(book),
            approval_ttl: self.approval_ttl,
            system: self.system,
        }
    }
}

/// The governance engine. Share it behind an `Arc`; every method takes `&self`.
pub struct Governance {
    store: Arc<dyn ModelStore>,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    policy: RwLock<Arc<dyn PolicyEngine>>,
    actors: RwLock<HashMap<ActorId, Actor>>,
    approvals: Mutex<ApprovalBook>,
    approval_ttl: Option<Period>,
    system: Actor,
}

impl fmt::Debug for GovernanceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernanceBuilder")
            .field("store", &self.store.name())
            .field("lifecycle", &self.lifecycle.name())
            .field("policy", &self.policy.identity())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Governance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Governance")
            .field("store", &self.store.name())
            .field("lifecycle", &self.lifecycle.name())
            .field("policy", &self.policy.read().identity())
            .finish_non_exhaustive()
    }
}

fn system_actor() -> Actor {
    Actor::service("mlops-governance").unwrap_or_else(|_| {
        // Unreachable: the literal is a valid id. Keep a usable value rather than panic.
        Actor::new(
            ActorId::new("governance").unwrap_or_else(|_| unreachable_id()),
            mlops_core::ActorKind::Service,
        )
    })
}

#[allow(clippy::unwrap_used)] // reason: "x" is a valid actor id; this is never reached
fn unreachable_id() -> ActorId {
    ActorId::new("x").unwrap()
}

fn version_subject(version: &ModelRef) -> Subject {
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

    /// A snapshot of every approval request.
    #[must_use]
    pub fn approvals(&self) -> ApprovalBook {
        self.approvals.lock().clone()
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

    /// Adds or replaces an actor in the directory.
    pub fn add_actor(&self, actor: Actor) {
        self.actors.write().insert(actor.id.clone(), actor);
    }

    /// Plans `event` for `version` requested by `actor`: reads the model, evaluates every guard
    /// and returns the plan (a denial is a plan whose verdict denies; nothing is written).
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Registry`] for an unknown model or
    /// version; [`GovernanceError::Lifecycle`] if the version's state or the event is unknown.
    pub fn plan(
        &self,
        model: &ModelName,
        version: VersionNumber,
        event: &str,
        actor: &ActorId,
        context: &PlanContext,
    ) -> Result<Plan> {
        let actor = self.actor(actor)?;
        let aggregate = self.store.get_model(model)?;
        let v = self
            .store
            .get_version(&ModelRef::new(model.clone(), version))?;
        self.plan_on(&aggregate, &v, event, &actor, context)
    }

    /// Plans against an aggregate and version already read (pure: no store access).
    ///
    /// # Errors
    /// As [`Governance::plan`], without the store errors.
    pub fn plan_on(
        &self,
        aggregate: &ModelAggregate,
        version: &ModelVersion,
        event: &str,
        actor: &Actor,
        context: &PlanContext,
    ) -> Result<Plan> {
        let now = self.clock.now();
        let number = version.number();
        let version_ref = version.model_ref();
        let current = aggregate.state(number).ok_or_else(|| {
            GovernanceError::Registry(mlops_registry::RegistryError::version_not_found(
                aggregate.name(),
                number,
            ))
        })?;
        let from = self.lifecycle.state(current)?;
        let transition = self.lifecycle.transition(current, event)?;
        let to = self.lifecycle.state(&transition.to)?;
        let entered_at = aggregate
            .state_history()
            .iter()
            .rev()
            .find(|e| e.version == number)
            .map_or_else(|| version.core().created_at(), |e| e.at);
        let (approval, signoffs) = {
            let book = self.approvals.lock();
            match book.open_for(&version_ref, &from.name, &transition.event) {
                Some(r) if !r.is_due(now) => (Some(r.id), r.signoffs()),
                _ => (None, Vec::new()),
            }
        };
        let mut card = context.card.clone();
        for (k, v) in version.annotations().tags.iter() {
            if let Some(field) = k.strip_prefix("card.") {
                card.entry(field.to_owned()).or_insert_with(|| v.to_owned());
            }
        }
        let author = &version.core().created_by().id;
        let input = GuardInput {
            version: &version_ref,
            tier: aggregate.model().risk_tier,
            author: Some(author),
            requester: actor,
            from,
            event: &transition.event,
            to,
            entered_at,
            now,
            signoffs: &signoffs,
            evidence: &context.evidence,
            card: &card,
            environment: &context.environment,
            transition_guards: &transition.guards,
        };
        let verdict = self.policy.read().evaluate_or_deny(&input);
        let approvers = counted_approvers(&input);
        let evicts = match (to.exclusive, transition.eviction_target()) {
            (true, Some(target)) => aggregate
                .versions()
                .iter()
                .find(|(n, s)| **n != number && s.state == to.name)
                .map(|(n, _)| (*n, target.clone())),
            _ => None,
        };
        Ok(Plan {
            version: version_ref,
            event: transition.event.clone(),
            from: from.name.clone(),
            to: to.name.clone(),
            actor: actor.clone(),
            verdict,
            effects: transition.effects.clone(),
            evicts,
            approval,
            approvers,
            revision: aggregate.revision(),
            at: now,
            environment: context.environment.clone(),
        })
    }

    /// Commits `plan`: if its verdict proceeds (allowed, or denied in warn / observe mode), the
    /// state change, effects and audit records are written in one compare-and-swap commit at the
    /// plan's revision; otherwise the denial is audited and returned as an error.
    ///
    /// # Errors
    /// [`GovernanceError::Denied`] (audited); [`GovernanceError::Conflict`] if the model changed
    /// since the plan (plan again); [`GovernanceError::Approval`] if the counted approval request
    /// closed meanwhile; [`GovernanceError::Registry`] on store failure.
    pub fn commit(&self, plan: &Plan) -> Result<Transitioned> {
        if !plan.verdict.proceeds() {
            return Err(self.deny(plan, None));
        }
        let applied = if plan.verdict.is_allowed() {
            Applied::Allowed
        } else {
            tracing::warn!(version = %plan.version, event = %plan.event, verdict = %plan.verdict,
                mode = ?plan.verdict.mode, "transition proceeds despite denial (not enforced here)");
            Applied::Unenforced
        };
        self.apply(plan, applied, None)
    }

    fn deny(&self, plan: &Plan, approval: Option<ApprovalId>) -> GovernanceError {
        let draft = self.transition_draft(plan, AuditAction::TRANSITION_DENIED, None, plan.at);
        if let Err(e) = self.store.append_audit(vec![draft]) {
            tracing::error!(error = %e, "cannot audit a denied transition");
            return e.into();
        }
        tracing::info!(version = %plan.version, event = %plan.event, verdict = %plan.verdict, "transition denied");
        GovernanceError::Denied {
            verdict: Box::new(plan.verdict.clone()),
            approval,
        }
    }

    fn transition_draft(
        &self,
        plan: &Plan,
        action: AuditAction,
        justification: Option<&str>,
        at: DateTime<Utc>,
    ) -> AuditDraft {
        let denied = action == AuditAction::TRANSITION_DENIED;
        let mut d = AuditDraft::new(
            at,
            plan.actor.clone(),
            action,
            version_subject(&plan.version),
        )
        .with_states(Some(plan.from.clone()), Some(plan.to.clone()))
        .with_details(json!({
            "event": plan.event.as_str(),
            "environment": plan.environment,
            "policy": plan.verdict.policy.to_string(),
            "verdict": plan.verdict,
            "approval": plan.approval.map(|a| a.0),
            "approvers": plan.approvers.iter().map(ActorId::as_str).collect::<Vec<_>>(),
            "revision": plan.revision.to_string(),
        }));
        if denied {
            d.state_after = Some(plan.from.clone());
        }
        if let Some(j) = justification {
            d = d.with_justification(j);
        }
        d
    }

    fn apply(
        &self,
        plan: &Plan,
        applied: Applied,
        justification: Option<&str>,
    ) -> Result<Transitioned> {
        let now = self.clock.now();
        let mut agg = self.store.get_model(plan.version.name())?;
        if agg.revision() != plan.revision {
            return Err(GovernanceError::Conflict {
                model: plan.version.name().clone(),
                expected: plan.revision,
                actual: agg.revision(),
            });
        }
        let number = plan.version.version();
        let by = &plan.actor.id;
        let action = match applied {
            Applied::Overridden => AuditAction::TRANSITION_OVERRIDDEN,
            Applied::Allowed | Applied::Unenforced => AuditAction::TRANSITION_APPLIED,
        };
        let mut drafts = vec![self.transition_draft(plan, action, justification, now)];
        agg.set_state(number, plan.to.clone(), by, now)?;
        if let Some((evicted, target)) = &plan.evicts {
            agg.set_state(*evicted, target.clone(), by, now)?;
            let evicted_ref = ModelRef::new(plan.version.name().clone(), *evicted);
            drafts.push(
                AuditDraft::new(
                    now,
                    plan.actor.clone(),
                    AuditAction::TRANSITION_EVICTED,
                    version_subject(&evicted_ref),
                )
                .with_states(Some(plan.to.clone()), Some(target.clone()))
                .with_details(json!({ "by_version": plan.version.to_string() })),
            );
        }
        for effect in &plan.effects {
            match effect {
                Effect::MoveAlias { alias } => {
                    let before = agg.set_alias(alias.clone(), number, by, now)?;
                    agg.set_protected(alias.clone(), Protection::Protected);
                    if before != Some(number) {
                        drafts.push(
                            AuditDraft::new(
                                now,
                                plan.actor.clone(),
                                AuditAction::alias_moved(),
                                version_subject(&plan.version),
                            )
                            .with_details(json!({
                                "alias": alias.as_str(),
                                "from": before.map(VersionNumber::get),
                                "to": number.get(),
                            })),
                        );
                    }
                }
                Effect::RemoveAlias { alias } => {
                    if agg.alias(alias) == Some(number) {
                        agg.remove_alias(alias, by, now)?;
                        drafts.push(
                            AuditDraft::new(
                                now,
                                plan.actor.clone(),
                                AuditAction::alias_removed(),
                                version_subject(&plan.version),
                            )
                            .with_details(json!({ "alias": alias.as_str(), "from": number.get() })),
                        );
                    }
                }
                Effect::Evict { .. } => {}
            }
        }
        // Close the approval request that was counted, in the same commit.
        let mut book = self.approvals.lock();
        let mut fulfilled = None;
        if let Some(id) = plan.approval {
            let mut req = book.require(id)?.clone();
            req.fulfil(now)?;
            drafts.push(self.approval_draft(
                &plan.actor,
                AuditAction::APPROVAL_FULFILLED,
                &req,
                None,
                now,
            ));
            fulfilled = Some(req);
        }
        let mut review = None;
        if applied == Applied::Overridden {
            let req = ApprovalRequest::open(
                book.next_id(),
                RequestKind::PostHocReview,
                plan.version.clone(),
                plan.from.clone(),
                plan.event.clone(),
                plan.to.clone(),
                &plan.actor,
                None,
                now,
                self.approval_ttl,
            );
            drafts.push(self.approval_draft(
                &plan.actor,
                AuditAction::APPROVAL_OPENED,
                &req,
                None,
                now,
            ));
            review = Some(req);
        }
        let revision = self
            .store
            .commit(plan.version.name(), plan.revision, agg, drafts)?;
        if let Some(req) = fulfilled {
            book.insert(req);
        }
        let review_id = review.as_ref().map(|r| r.id);
        if let Some(req) = review {
            book.insert(req);
        }
        drop(book);
        tracing::info!(version = %plan.version, from = %plan.from, to = %plan.to, applied = ?applied, "transition committed");
        Ok(Transitioned {
            version: plan.version.clone(),
            from: plan.from.clone(),
            to: plan.to.clone(),
            revision,
            evicted: plan.evicts.clone(),
            applied,
            verdict: plan.verdict.clone(),
            review: review_id,
        })
    }

    fn approval_draft(
        &self,
        actor: &Actor,
        action: AuditAction,
        request: &ApprovalRequest,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> AuditDraft {
        let mut d = AuditDraft::new(at, actor.clone(), action, version_subject(&request.version))
            .with_states(Some(request.from.clone()), Some(request.to.clone()))
            .with_details(
                json!({ "request": request, "policy": self.policy.read().identity().to_string() }),
            );
        if let Some(c) = comment {
            d = d.with_justification(c);
        }
        d
    }

    /// Plans and commits `event`, planning again (up to 3 times) when the model changed in
    /// between. When the only unmet guards are sign-offs, an approval request is opened (or the
    /// open one kept) and returned in the denial.
    ///
    /// # Errors
    /// As [`Governance::plan`] and [`Governance::commit`]; [`GovernanceError::Conflict`] after
    /// the retries.
    pub fn transition(
        &self,
        version: &ModelRef,
        event: &str,
        actor: &ActorId,
        context: &PlanContext,
    ) -> Result<Transitioned> {
        self.expire_due()?;
        let mut attempt = 0;
        loop {
            let plan = self.plan(version.name(), version.version(), event, actor, context)?;
            if !plan.verdict.proceeds() && plan.verdict.awaits_only_signoffs() {
                return Err(self.deny_awaiting_signoffs(&plan));
            }
            match self.commit(&plan) {
                Err(GovernanceError::Conflict { .. }) if attempt < 3 => attempt += 1,
                other => return other,
            }
        }
    }

    fn deny_awaiting_signoffs(&self, plan: &Plan) -> GovernanceError {
        if plan.approval.is_some() {
            return self.deny(plan, plan.approval);
        }
        let now = self.clock.now();
        let mut book = self.approvals.lock();
        let req = ApprovalRequest::open(
            book.next_id(),
            RequestKind::Transition,
            plan.version.clone(),
            plan.from.clone(),
            plan.event.clone(),
            plan.to.clone(),
            &plan.actor,
            self.store
                .get_version(&plan.version)
                .ok()
                .map(|v| v.core().created_by().id.clone()),
            now,
            self.approval_ttl,
        );
        let drafts = vec![
            self.transition_draft(plan, AuditAction::TRANSITION_DENIED, None, now),
            self.approval_draft(&plan.actor, AuditAction::APPROVAL_OPENED, &req, None, now),
        ];
        match self.store.append_audit(drafts) {
            Ok(_) => {
                let id = req.id;
                book.insert(req);
                tracing::info!(version = %plan.version, request = %id, "approval request opened");
                GovernanceError::Denied {
                    verdict: Box::new(plan.verdict.clone()),
                    approval: Some(id),
                }
            }
            Err(e) => e.into(),
        }
    }

    fn audit_unauthorized(
        &self,
        actor: &Actor,
        action: Action,
        subject: Subject,
        error: PolicyError,
    ) -> GovernanceError {
        let draft = AuditDraft::new(
            self.clock.now(),
            actor.clone(),
            AuditAction::UNAUTHORIZED,
            subject,
        )
        .with_details(json!({ "action": action.as_str(), "reason": error.to_string() }));
        if let Err(e) = self.store.append_audit(vec![draft]) {
            return e.into();
        }
        tracing::warn!(actor = %actor.id, action = %action, "unauthorized attempt denied");
        GovernanceError::Unauthorized(error)
    }

    /// Applies `event` as a break-glass override: the actor must hold an override role and give
    /// a justification; the guards are evaluated and recorded but do not block; the record is an
    /// override; a post-hoc review request is opened in the same commit.
    ///
    /// # Errors
    /// [`GovernanceError::MissingJustification`] (nothing written);
    /// [`GovernanceError::Unauthorized`] (audited); otherwise as [`Governance::plan`] and
    /// [`Governance::commit`] (a conflict is retried 3 times).
    pub fn break_glass(
        &self,
        version: &ModelRef,
        event: &str,
        actor: &ActorId,
        justification: &str,
        context: &PlanContext,
    ) -> Result<Transitioned> {
        let who = self.actor(actor)?;
        if justification.trim().is_empty() {
            return Err(GovernanceError::MissingJustification);
        }
        self.expire_due()?;
        if let Err(e) = self.policy.read().authorize(&who, Action::Override, None) {
            return Err(self.audit_unauthorized(
                &who,
                Action::Override,
                version_subject(version),
                e,
            ));
        }
        let mut attempt = 0;
        loop {
            let plan = self.plan(version.name(), version.version(), event, actor, context)?;
            tracing::warn!(version = %version, event, actor = %actor, "break-glass override");
            match self.apply(&plan, Applied::Overridden, Some(justification)) {
                Err(GovernanceError::Conflict { .. }) if attempt < 3 => attempt += 1,
                other => return other,
            }
        }
    }

    fn guard_input_for_request<R>(
        &self,
        request: &ApprovalRequest,
        f: impl FnOnce(&GuardInput<'_>) -> R,
    ) -> Result<R> {
        let aggregate = self.store.get_model(request.version.name())?;
        let version = self.store.get_version(&request.version)?;
        let from = self.lifecycle.state(&request.from)?;
        let transition = self
            .lifecycle
            .transition(&request.from, request.event.as_str())?;
        let to = self.lifecycle.state(&transition.to)?;
        let requester = self.actor(&request.requested_by).unwrap_or_else(|_| {
            Actor::new(request.requested_by.clone(), mlops_core::ActorKind::Human)
        });
        let input = GuardInput {
            version: &request.version,
            tier: aggregate.model().risk_tier,
            author: Some(&version.core().created_by().id),
            requester: &requester,
            from,
            event: &transition.event,
            to,
            entered_at: self.clock.now(),
            now: self.clock.now(),
            signoffs: &[],
            evidence: &[],
            card: &BTreeMap::new(),
            environment: "",
            transition_guards: &transition.guards,
        };
        Ok(f(&input))
    }

    /// Signs off on (or rejects) request `id` as `actor` with `comment`.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited) for an actor
    /// without the approve permission or a role that counts for this transition (wrong role);
    /// [`GovernanceError::Approval`] for an unknown, closed or expired request, separation of
    /// duties (audited as an unauthorized attempt), a second decision, or a rejection without
    /// comment. Nothing else is written on error.
    pub fn decide(
        &self,
        id: ApprovalId,
        actor: &ActorId,
        vote: Vote,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.expire_due()?;
        let who = self.actor(actor)?;
        let now = self.clock.now();
        let mut book = self.approvals.lock();
        let mut req = book.require(id)?.clone();
        if req.kind == RequestKind::Transition {
            let policy = self.policy.read().clone();
            let auth = self.guard_input_for_request(&req, |input| {
                policy.authorize(&who, Action::Approve, Some(input))
            })?;
            if let Err(e) = auth {
                drop(book);
                return Err(self.audit_unauthorized(
                    &who,
                    Action::Approve,
                    version_subject(&req.version),
                    e,
                ));
            }
        } else if let Err(e) = self.policy.read().authorize(&who, Action::Approve, None) {
            drop(book);
            return Err(self.audit_unauthorized(
                &who,
                Action::Approve,
                version_subject(&req.version),
                e,
            ));
        }
        if let Err(e) = req.decide(&who, vote, comment, now) {
            if matches!(e, crate::error::ApprovalError::SeparationOfDuties { .. }) {
                // A conflicted sign-off is an unauthorized attempt: audit it.
                let draft = AuditDraft::new(now, who.clone(), AuditAction::UNAUTHORIZED, version_subject(&req.version))
                    .with_details(json!({ "action": Action::Approve.as_str(), "reason": e.to_string(), "request": id.0 }));
                self.store.append_audit(vec![draft])?;
            }
            return Err(e.into());
        }
        let action = match vote {
            Vote::Approve => AuditAction::APPROVAL_APPROVED,
            Vote::Reject => AuditAction::APPROVAL_REJECTED,
        };
        let draft = self.approval_draft(
            &who,
            action,
            &req,
            Some(comment).filter(|c| !c.is_empty()),
            now,
        );
        self.store.append_audit(vec![draft])?;
        book.insert(req.clone());
        tracing::info!(request = %id, actor = %actor, vote = ?vote, "approval decision recorded");
        Ok(req)
    }

    /// Signs off on request `id`. See [`Governance::decide`].
    ///
    /// # Errors
    /// As [`Governance::decide`].
    pub fn approve(
        &self,
        id: ApprovalId,
        actor: &ActorId,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.decide(id, actor, Vote::Approve, comment)
    }

    /// Rejects request `id` (a comment is mandatory). See [`Governance::decide`].
    ///
    /// # Errors
    /// As [`Governance::decide`].
    pub fn reject(
        &self,
        id: ApprovalId,
        actor: &ActorId,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.decide(id, actor, Vote::Reject, comment)
    }

    /// Cancels request `id`: its requester may, and so may holders of the cancel permission.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited);
    /// [`GovernanceError::Approval`] if it is unknown or not open.
    pub fn cancel(&self, id: ApprovalId, actor: &ActorId) -> Result<ApprovalRequest> {
        self.expire_due()?;
        let who = self.actor(actor)?;
        let now = self.clock.now();
        let mut book = self.approvals.lock();
        let mut req = book.require(id)?.clone();
        if req.requested_by != who.id
            && let Err(e) = self.policy.read().authorize(&who, Action::Cancel, None)
        {
            drop(book);
            return Err(self.audit_unauthorized(
                &who,
                Action::Cancel,
                version_subject(&req.version),
                e,
            ));
        }
        req.cancel(now)?;
        let draft = self.approval_draft(&who, AuditAction::APPROVAL_CANCELLED, &req, None, now);
        self.store.append_audit(vec![draft])?;
        book.insert(req.clone());
        Ok(req)
    }

    /// Marks every approval request whose time ran out as expired, auditing each; returns them.
    ///
    /// # Errors
    /// [`GovernanceError::Registry`] if the audit cannot be written (nothing changes).
    pub fn expire_due(&self) -> Result<Vec<ApprovalId>> {
        let now = self.clock.now();
        let mut book = self.approvals.lock();
        let due = book.due(now);
        if due.is_empty() {
            return Ok(due);
        }
        let mut snapshots = Vec::with_capacity(due.len());
        for id in &due {
            if let Some(r) = book.get(*id) {
                let mut r = r.clone();
                r.expire(now);
                snapshots.push(r);
            }
        }
        let drafts = snapshots
            .iter()
            .map(|r| self.approval_draft(&self.system, AuditAction::APPROVAL_EXPIRED, r, None, now))
            .collect();
        self.store.append_audit(drafts)?;
        for r in snapshots {
            book.insert(r);
        }
        tracing::info!(count = due.len(), "approval requests expired");
        Ok(due)
    }

    /// Replaces the policy engine, auditing the change with both identities.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited) unless the
    /// current policy lets `actor` change policy.
    pub fn change_policy(
        &self,
        actor: &ActorId,
        new: Arc<dyn PolicyEngine>,
        justification: &str,
    ) -> Result<Digest> {
        let who = self.actor(actor)?;
        let mut guard = self.policy.write();
        if let Err(e) = guard.authorize(&who, Action::ChangePolicy, None) {
            let current = guard.identity();
            drop(guard);
            return Err(self.audit_unauthorized(
                &who,
                Action::ChangePolicy,
                crate::audit::policy_subject(current),
                e,
            ));
        }
        let old = guard.identity();
        let id = new.identity();
        let mut draft = AuditDraft::new(
            self.clock.now(),
            who,
            AuditAction::POLICY_CHANGED,
            crate::audit::policy_subject(id),
        )
        .with_details(json!({ "from": old.to_string(), "to": id.to_string() }));
        if !justification.trim().is_empty() {
            draft = draft.with_justification(justification);
        }
        self.store.append_audit(vec![draft])?;
        *guard = new;
        tracing::info!(from = %old, to = %id, "policy changed");
        Ok(id)
    }

    /// Replaces the policy with a declarative one after checking it against the lifecycle. See
    /// [`Governance::change_policy`].
    ///
    /// # Errors
    /// [`GovernanceError::Policy`] if it names a state the lifecycle lacks (nothing written);
    /// otherwise as [`Governance::change_policy`].
    pub fn change_to_policy(
        &self,
        actor: &ActorId,
        policy: Policy,
        justification: &str,
    ) -> Result<Digest> {
        policy.check_against(&self.lifecycle)?;
        self.change_policy(actor, Arc::new(policy), justification)
    }

    /// Registers model `name` (if new) with `tier` and a first-state version authored by
    /// `author`; for examples and tests.
    ///
    /// # Errors
    /// [`GovernanceError::Registry`] on store failure.
    pub fn register_version_for_test(
        &self,
        name: &str,
        author: &Actor,
        tier: mlops_core::RiskTier,
    ) -> Result<ModelRef> {
        use mlops_registry::model::RegisteredModel;
        use mlops_registry::store::NewVersion;
        let now = self.clock.now();
        let name = ModelName::new(name).map_err(|e| {
            GovernanceError::Registry(mlops_registry::RegistryError::invalid(
                "model name",
                name,
                e.to_string(),
            ))
        })?;
        if self.store.get_model(&name).is_err() {
            let mut model = RegisteredModel::new(name.clone(), author.id.clone(), now);
            model.risk_tier = tier;
            self.store
                .create_model(ModelAggregate::new(model), Vec::new())?;
        }
        let core = mlops_registry::model::VersionCore::builder(author.clone(), now)
            .artifact("model.bin", "mem://model.bin", Digest::of(b"model"), 5)
            .build()?;
        let created = self.store.create_version(
            NewVersion::new(name, core).with_initial_state(self.lifecycle.initial().clone()),
        )?;
        Ok(created.version.model_ref())
    }
}

fn counted_approvers(input: &GuardInput<'_>) -> Vec<ActorId> {
    let mut out: Vec<ActorId> = Vec::new();
    for s in input.signoffs {
        if !input.conflicted(&s.actor) && !out.contains(&s.actor) {
            out.push(s.actor.clone());
        }
    }
    out
}
