//! Planning a transition, and committing it: the commit plans again and decides.

use crate::lifecycle::names;
use chrono::{DateTime, Utc};
use mlops_core::EventName;
use mlops_core::{Actor, ActorId, ModelName, ModelRef, VersionNumber};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::{ModelAggregate, ModelVersion};
use serde_json::json;

use super::{
    Applied, Governance, Plan, PlanContext, RETRIES, Result, Transitioned, version_subject,
};
use crate::approval::{ApprovalBook, ApprovalId, ApprovalRequest, RequestKind, RequestStatus};
use crate::error::GovernanceError;
use crate::lifecycle::Effect;
use crate::policy::{GuardInput, PolicyEngineExt, Signoff};

impl Governance {
    /// Plans `event` for `version` requested by `actor`: reads the model, evaluates every guard
    /// and returns the plan (a denial is a plan whose verdict denies; nothing is written).
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Registry`] for an unknown model or
    /// version; [`GovernanceError::Lifecycle`] if the version's state or the event is unknown;
    /// [`GovernanceError::Approval`] for a corrupt stored request.
    pub fn plan(
        &self,
        model: &ModelName,
        version: VersionNumber,
        event: &EventName,
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
        event: &EventName,
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
        // Only a request opened during the version's current stay in `from` counts: sign-offs
        // are given for one stay in one state.
        let stay = stay_of(aggregate, number);
        let book = ApprovalBook::of_model(aggregate)?;
        let (approval, rejected, signoffs) =
            match book.latest_for(&version_ref, &from.name, &transition.event, stay) {
                Some(r) if r.status == RequestStatus::Open && !r.is_due(now) => {
                    (Some(r.id.clone()), None, self.current_signoffs(r))
                }
                Some(r) if r.status == RequestStatus::Rejected => {
                    (None, Some(r.id.clone()), Vec::new())
                }
                _ => (None, None, Vec::new()),
            };
        // Evidence recorded in the store counts as well as what the caller brings.
        let mut evidence = super::evidence::recorded_for(aggregate, number);
        evidence.extend(context.evidence.iter().cloned());
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
            evidence: &evidence,
            card: &card,
            environment: &self.environment,
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
            author: author.clone(),
            verdict,
            effects: transition.effects.clone(),
            evicts,
            approval,
            rejected,
            approvers,
            revision: aggregate.revision(),
            at: now,
            environment: self.environment.clone(),
            context: context.clone(),
            evidence,
            amend_rules: None,
        })
    }

    /// The sign-offs of `request` that still count: their approver is still in the directory,
    /// and only with the roles they held when signing and still hold.
    fn current_signoffs(&self, request: &ApprovalRequest) -> Vec<Signoff> {
        let actors = self.actors.read();
        request
            .signoffs()
            .into_iter()
            .filter_map(|mut s| {
                let now = actors.get(&s.actor)?;
                s.roles.retain(|r| now.roles.contains(r));
                Some(s)
            })
            .collect()
    }

    /// Commits the transition `plan` describes. The plan is only a preview: the transition is
    /// planned again against the stored model, the current policy and the clock, and that
    /// verdict decides (a plan edited, made before a policy change or before a freeze window
    /// began commits nothing the current evaluation denies). If the verdict proceeds (allowed,
    /// or denied in a warn / observe environment), the state change, effects and audit records
    /// are written in one sealed compare-and-swap commit; otherwise the denial is audited and
    /// returned as an error.
    ///
    /// # Errors
    /// [`GovernanceError::Denied`] (audited); [`GovernanceError::Conflict`] if the model changed
    /// since the plan (plan again); [`GovernanceError::Approval`] if the counted approval
    /// request closed meanwhile; [`GovernanceError::Registry`] on store failure.
    pub fn commit(&self, plan: &Plan) -> Result<Transitioned> {
        let fresh = self.plan(
            plan.version.name(),
            plan.version.version(),
            &plan.event,
            &plan.actor.id,
            &plan.context,
        )?;
        if fresh.revision != plan.revision {
            return Err(GovernanceError::Conflict {
                model: plan.version.name().clone(),
                expected: plan.revision,
                actual: fresh.revision,
            });
        }
        let mut fresh = fresh;
        fresh.amend_rules = plan.amend_rules.clone();
        self.commit_fresh(&fresh)
    }

    /// Commits a plan this engine just made.
    fn commit_fresh(&self, plan: &Plan) -> Result<Transitioned> {
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

    pub(super) fn deny(&self, plan: &Plan, approval: Option<ApprovalId>) -> GovernanceError {
        let draft = self.transition_draft(plan, AuditAction::TRANSITION_DENIED, None, plan.at);
        if let Err(e) = self.append_governed(vec![draft]) {
            tracing::error!(error = %e, "cannot audit a denied transition");
            return e;
        }
        #[cfg(feature = "metrics")]
        mlops_registry::metrics::record_governance(
            mlops_registry::metrics::GovernanceOutcome::Denied,
        );
        tracing::info!(version = %plan.version, event = %plan.event, verdict = %plan.verdict, "transition denied");
        GovernanceError::Denied {
            verdict: Box::new(plan.verdict.clone()),
            approval,
        }
    }

    pub(super) fn transition_draft(
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
            "approval": plan.approval.as_ref().map(ToString::to_string),
            "approvers": plan.approvers.iter().map(ActorId::as_str).collect::<Vec<_>>(),
            "revision": plan.revision.to_string(),
            "humility_rules": plan.amend_rules.as_ref().map(|r| r.as_ref().map(|r| json!({
                "uri": r.uri, "digest": r.digest.to_string(),
            }))),
            "evidence": plan.evidence.iter().map(|e| json!({
                "check": e.check.as_str(),
                "value": e.value,
                "outcome": e.outcome,
                "measured_at": e.measured_at,
                "source": e.source,
            })).collect::<Vec<_>>(),
        }));
        if denied {
            d.state_after = Some(plan.from.clone());
        }
        if let Some(j) = justification {
            d = d.with_justification(j);
        }
        d
    }

    pub(super) fn apply(
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
        if let Some(rules) = &plan.amend_rules {
            agg.set_humility_rules(number, rules.clone())?;
        }
        // A version that stays in its state (an amendment) keeps its other requests.
        let mut moved = if plan.from == plan.to {
            Vec::new()
        } else {
            vec![number]
        };
        if let Some((evicted, target)) = &plan.evicts {
            agg.set_state(*evicted, target.clone(), by, now)?;
            moved.push(*evicted);
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
            self.apply_effect(&mut agg, plan, effect, now, &mut drafts)?;
        }
        let mut book = ApprovalBook::of_model(&agg)?;
        // Close the approval request that was counted, in the same commit.
        if let Some(id) = &plan.approval {
            let mut req = book.require(id)?.clone();
            req.fulfil(now)?;
            drafts.push(self.approval_draft(
                &plan.actor,
                AuditAction::APPROVAL_FULFILLED,
                &req,
                None,
                now,
            ));
            super::approvals::store_request(&mut agg, &req)?;
            book.insert(req);
        }
        // Sign-offs are for one stay in one state: requests of the versions that moved lapse.
        let stale: Vec<ApprovalRequest> = book
            .iter()
            .filter(|r| {
                r.kind == RequestKind::Transition
                    && r.status == RequestStatus::Open
                    && r.version.name() == plan.version.name()
                    && moved.contains(&r.version.version())
            })
            .cloned()
            .collect();
        for mut req in stale {
            req.supersede(now)?;
            drafts.push(self.approval_draft(
                &self.system,
                AuditAction::APPROVAL_SUPERSEDED,
                &req,
                None,
                now,
            ));
            super::approvals::store_request(&mut agg, &req)?;
        }
        let review = if applied == Applied::Overridden {
            let req = super::approvals::open_request(
                &mut agg,
                RequestKind::PostHocReview,
                plan,
                now,
                self.approval_ttl,
            )?;
            drafts.push(self.approval_draft(
                &plan.actor,
                AuditAction::APPROVAL_OPENED,
                &req,
                None,
                now,
            ));
            Some(req.id)
        } else {
            None
        };
        let revision = self.commit_governed(plan.revision, agg, drafts)?;
        #[cfg(feature = "metrics")]
        mlops_registry::metrics::record_governance(match applied {
            Applied::Overridden => mlops_registry::metrics::GovernanceOutcome::Overridden,
            Applied::Allowed | Applied::Unenforced => {
                mlops_registry::metrics::GovernanceOutcome::Applied
            }
        });
        tracing::info!(version = %plan.version, from = %plan.from, to = %plan.to, applied = ?applied, "transition committed");
        Ok(Transitioned {
            version: plan.version.clone(),
            from: plan.from.clone(),
            to: plan.to.clone(),
            revision,
            evicted: plan.evicts.clone(),
            applied,
            verdict: plan.verdict.clone(),
            review,
        })
    }

    fn apply_effect(
        &self,
        agg: &mut ModelAggregate,
        plan: &Plan,
        effect: &Effect,
        now: DateTime<Utc>,
        drafts: &mut Vec<AuditDraft>,
    ) -> Result<()> {
        let number = plan.version.version();
        let by = &plan.actor.id;
        let alias_draft = |action: AuditAction, details| {
            AuditDraft::new(
                now,
                plan.actor.clone(),
                action,
                version_subject(&plan.version),
            )
            .with_details(details)
        };
        match effect {
            Effect::MoveAlias { alias } => {
                let before = agg.set_alias(alias.clone(), number, by, now)?;
                if before != Some(number) {
                    drafts.push(alias_draft(
                        AuditAction::GOVERNANCE_ALIAS_MOVED,
                        json!({
                            "alias": alias.as_str(),
                            "from": before.map(VersionNumber::get),
                            "to": number.get(),
                        }),
                    ));
                }
            }
            Effect::RemoveAlias { alias } => {
                if agg.alias(alias) == Some(number) {
                    agg.remove_alias(alias, by, now)?;
                    drafts.push(alias_draft(
                        AuditAction::GOVERNANCE_ALIAS_REMOVED,
                        json!({ "alias": alias.as_str(), "from": number.get() }),
                    ));
                }
            }
            Effect::Evict { .. } => {}
        }
        Ok(())
    }

    pub(super) fn approval_draft(
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

    /// Changes the humility rules `version` serves with while it is in a protected state: a
    /// governed `amend` transition (the version stays in its state) that needs what the policy
    /// requires for entering that state (sign-offs, evidence…), with the new rules committed in
    /// the same sealed commit and named in its audit record. When only sign-offs are missing,
    /// the denial names the approval request, as for any transition. (In an unprotected state,
    /// set them with `Registry::set_humility_rules`.)
    ///
    /// # Errors
    /// As [`Governance::transition`]; [`GovernanceError::Lifecycle`] if the version's state has
    /// no `amend` event.
    pub fn amend_rules(
        &self,
        version: &ModelRef,
        rules: Option<mlops_registry::model::RulesRef>,
        actor: &ActorId,
        context: &PlanContext,
    ) -> Result<Transitioned> {
        self.run_transition(version, &names::AMEND, actor, context, Some(rules))
    }

    /// Plans and commits `event`, planning again (up to 3 times) when the model changed in
    /// between. When the only unmet guards are sign-offs, an approval request is opened (or the
    /// open one kept) and returned in the denial; when the last request for this transition was
    /// rejected, the denial names it ([`GovernanceError::Rejected`]) and no new request opens
    /// until someone re-opens it ([`Governance::reopen`]).
    ///
    /// # Errors
    /// As [`Governance::plan`] and [`Governance::commit`]; [`GovernanceError::Rejected`];
    /// [`GovernanceError::Conflict`] after the retries.
    pub fn transition(
        &self,
        version: &ModelRef,
        event: &EventName,
        actor: &ActorId,
        context: &PlanContext,
    ) -> Result<Transitioned> {
        self.run_transition(version, event, actor, context, None)
    }

    fn run_transition(
        &self,
        version: &ModelRef,
        event: &EventName,
        actor: &ActorId,
        context: &PlanContext,
        amend_rules: Option<Option<mlops_registry::model::RulesRef>>,
    ) -> Result<Transitioned> {
        self.expire_model(version.name())?;
        let mut attempt = 0;
        loop {
            let mut plan = self.plan(version.name(), version.version(), event, actor, context)?;
            plan.amend_rules = amend_rules.clone();
            let outcome = if !plan.verdict.proceeds() && plan.verdict.awaits_only_signoffs() {
                self.await_signoffs(&plan)
            } else {
                self.commit_fresh(&plan)
            };
            match outcome {
                Err(GovernanceError::Conflict { .. }) if attempt < RETRIES => attempt += 1,
                other => return other,
            }
        }
    }

    /// The denial of a transition that only lacks sign-offs: names the open request, or the
    /// rejected one, or opens a request in a sealed commit with the denial's record.
    fn await_signoffs(&self, plan: &Plan) -> Result<Transitioned> {
        if let Some(rejected) = &plan.rejected {
            let denial = self.deny(plan, Some(rejected.clone()));
            return Err(match denial {
                GovernanceError::Denied { .. } => GovernanceError::Rejected {
                    request: rejected.clone(),
                },
                other => other,
            });
        }
        if plan.approval.is_some() {
            return Err(self.deny(plan, plan.approval.clone()));
        }
        let now = self.clock.now();
        let mut agg = self.store.get_model(plan.version.name())?;
        if agg.revision() != plan.revision {
            return Err(GovernanceError::Conflict {
                model: plan.version.name().clone(),
                expected: plan.revision,
                actual: agg.revision(),
            });
        }
        let req = super::approvals::open_request(
            &mut agg,
            RequestKind::Transition,
            plan,
            now,
            self.approval_ttl,
        )?;
        let drafts = vec![
            self.transition_draft(plan, AuditAction::TRANSITION_DENIED, None, now),
            self.approval_draft(&plan.actor, AuditAction::APPROVAL_OPENED, &req, None, now),
        ];
        self.commit_governed(plan.revision, agg, drafts)?;
        #[cfg(feature = "metrics")]
        mlops_registry::metrics::record_governance(
            mlops_registry::metrics::GovernanceOutcome::Denied,
        );
        tracing::info!(version = %plan.version, request = %req.id, "approval request opened");
        Err(GovernanceError::Denied {
            verdict: Box::new(plan.verdict.clone()),
            approval: Some(req.id),
        })
    }
}

/// The version's current stay: how many state changes it has had.
pub(super) fn stay_of(aggregate: &ModelAggregate, version: VersionNumber) -> u64 {
    aggregate
        .state_history()
        .iter()
        .filter(|e| e.version == version)
        .count() as u64
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
