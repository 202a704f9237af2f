//! Approval requests kept in the store: listing, decisions, cancelling, re-opening a rejected
//! request, and expiry. Every change is one sealed compare-and-swap commit on the request's
//! model, with its audit record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, ActorId, ModelName};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::ModelAggregate;
use mlops_registry::store::{ModelQuery, ModelStore};
use serde_json::json;

use super::{Governance, Plan, Result, version_subject};
use crate::approval::{
    ApprovalBook, ApprovalId, ApprovalRequest, RequestKind, RequestStatus, Vote,
};
use crate::error::{ApprovalError, AuthorizationError, GovernanceError};
use crate::names::Period;
use crate::policy::{Action, GuardInput, PolicyEngine};

/// Writes `request` into its model's aggregate (committed by the caller, sealed).
pub(super) fn store_request(agg: &mut ModelAggregate, request: &ApprovalRequest) -> Result<()> {
    let value = serde_json::to_value(request).map_err(|e| ApprovalError::Corrupt {
        id: request.id.clone(),
        reason: e.to_string(),
    })?;
    agg.governance_records_mut()
        .approvals
        .insert(request.id.number, value);
    Ok(())
}

/// Opens a request of `kind` for `plan`'s transition in `agg`, numbered after every request
/// ever opened for the model.
pub(super) fn open_request(
    agg: &mut ModelAggregate,
    kind: RequestKind,
    plan: &Plan,
    now: DateTime<Utc>,
    ttl: Option<Period>,
) -> Result<ApprovalRequest> {
    let records = agg.governance_records_mut();
    let number = records.approvals_opened.checked_add(1).ok_or(
        mlops_registry::RegistryError::Exhausted {
            what: "approval request numbers",
        },
    )?;
    records.approvals_opened = number;
    let mut req = ApprovalRequest::open(
        ApprovalId::new(plan.version.name().clone(), number),
        kind,
        plan.version.clone(),
        plan.from.clone(),
        plan.event.clone(),
        plan.to.clone(),
        &plan.actor,
        Some(plan.author.clone()),
        now,
        ttl,
    );
    req.stay = Some(super::transition::stay_of(agg, plan.version.version()));
    store_request(agg, &req)?;
    Ok(req)
}

/// Every model name in the store, page by page.
fn model_names(store: &dyn ModelStore) -> Result<Vec<ModelName>> {
    let mut names = Vec::new();
    let mut query = ModelQuery {
        page_size: mlops_registry::store::MAX_PAGE_SIZE,
        ..ModelQuery::default()
    };
    loop {
        let page = store.list_models(&query)?;
        names.extend(page.items.iter().map(|m| m.name().clone()));
        match page.next {
            Some(token) => query.page_token = Some(token),
            None => return Ok(names),
        }
    }
}

impl Governance {
    /// Every approval request in the store, read from every model.
    ///
    /// # Errors
    /// [`GovernanceError::Registry`] on store failure; [`GovernanceError::Approval`] for a
    /// corrupt stored request.
    pub fn approvals(&self) -> Result<ApprovalBook> {
        let mut book = ApprovalBook::default();
        for name in model_names(self.store.as_ref())? {
            book.extend(ApprovalBook::of_model(&self.store.get_model(&name)?)?);
        }
        Ok(book)
    }

    /// One approval request, read from the store.
    ///
    /// # Errors
    /// [`ApprovalError::NotFound`]; store errors.
    pub fn approval(&self, id: &ApprovalId) -> Result<ApprovalRequest> {
        let agg = self.store.get_model(&id.model)?;
        Ok(ApprovalBook::of_model(&agg)?.require(id)?.clone())
    }

    fn guard_input_for_request<R>(
        &self,
        agg: &ModelAggregate,
        request: &ApprovalRequest,
        f: impl FnOnce(&GuardInput<'_>) -> R,
    ) -> Result<R> {
        let version = self.store.get_version(&request.version)?;
        let from = self.lifecycle.state(&request.from)?;
        let transition = self.lifecycle.transition(&request.from, &request.event)?;
        let to = self.lifecycle.state(&transition.to)?;
        let requester = self.actor(&request.requested_by).unwrap_or_else(|_| {
            Actor::new(request.requested_by.clone(), mlops_core::ActorKind::Human)
        });
        let now = self.clock.now();
        let input = GuardInput {
            version: &request.version,
            tier: agg.model().risk_tier,
            author: Some(&version.core().created_by().id),
            requester: &requester,
            from,
            event: &transition.event,
            to,
            entered_at: now,
            now,
            signoffs: &[],
            evidence: &[],
            card: &BTreeMap::new(),
            environment: &self.environment,
            transition_guards: &transition.guards,
        };
        Ok(f(&input))
    }

    pub(super) fn audit_unauthorized(
        &self,
        actor: &Actor,
        action: Action,
        subject: mlops_core::Subject,
        error: AuthorizationError,
    ) -> GovernanceError {
        let draft = AuditDraft::new(
            self.clock.now(),
            actor.clone(),
            AuditAction::UNAUTHORIZED,
            subject,
        )
        .with_details(json!({ "action": action.as_str(), "reason": error.to_string() }));
        if let Err(e) = self.append_governed(vec![draft]) {
            return e;
        }
        tracing::warn!(actor = %actor.id, action = %action, "unauthorized attempt denied");
        GovernanceError::Unauthorized(error)
    }

    /// Signs off on (or rejects) request `id` as `actor` with `comment`, in one sealed commit
    /// on the request's model.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited) for an actor
    /// without the approve permission or a role that counts for this transition (wrong role);
    /// [`GovernanceError::Approval`] for an unknown, closed or expired request, separation of
    /// duties (the requester or overrider, or the version's author: audited as an unauthorized
    /// attempt), a second decision, or a rejection without a meaningful comment. Nothing else
    /// is written on error.
    pub fn decide(
        &self,
        id: &ApprovalId,
        actor: &ActorId,
        vote: Vote,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.expire_model(&id.model)?;
        let who = self.actor(actor)?;
        let now = self.clock.now();
        let (req, _) = self.update_governed(&id.model, |agg| {
            let mut req = ApprovalBook::of_model(agg)?.require(id)?.clone();
            let policy = self.policy.read().clone();
            let auth = match req.kind {
                RequestKind::Transition => self.guard_input_for_request(agg, &req, |input| {
                    policy.authorize(&who, Action::Approve, Some(input))
                })?,
                RequestKind::PostHocReview => policy.authorize(&who, Action::Approve, None),
            };
            if let Err(e) = auth {
                return Err(self.audit_unauthorized(
                    &who,
                    Action::Approve,
                    version_subject(&req.version),
                    e,
                ));
            }
            if let Err(e) = req.decide(&who, vote, comment, now) {
                if matches!(e, ApprovalError::SeparationOfDuties { .. }) {
                    // A conflicted sign-off is an unauthorized attempt: audit it.
                    let draft = AuditDraft::new(now, who.clone(), AuditAction::UNAUTHORIZED, version_subject(&req.version))
                        .with_details(json!({ "action": Action::Approve.as_str(), "reason": e.to_string(), "request": id.to_string() }));
                    self.append_governed(vec![draft])?;
                }
                return Err(e.into());
            }
            let action = match vote {
                Vote::Approve => AuditAction::APPROVAL_APPROVED,
                Vote::Reject => AuditAction::APPROVAL_REJECTED,
            };
            store_request(agg, &req)?;
            let draft = self.approval_draft(
                &who,
                action,
                &req,
                Some(comment).filter(|c| !c.is_empty()),
                now,
            );
            Ok((req, vec![draft]))
        })?;
        #[cfg(feature = "metrics")]
        if vote == Vote::Approve {
            mlops_registry::metrics::record_governance(
                mlops_registry::metrics::GovernanceOutcome::Approved,
            );
        }
        tracing::info!(request = %id, actor = %actor, vote = ?vote, "approval decision recorded");
        Ok(req)
    }

    /// Signs off on request `id`. See [`Governance::decide`].
    ///
    /// # Errors
    /// As [`Governance::decide`].
    pub fn approve(
        &self,
        id: &ApprovalId,
        actor: &ActorId,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.decide(id, actor, Vote::Approve, comment)
    }

    /// Rejects request `id` (a meaningful comment is mandatory). The rejection is sticky: the
    /// transition is denied with [`GovernanceError::Rejected`] until someone re-opens the
    /// request ([`Governance::reopen`]). See [`Governance::decide`].
    ///
    /// # Errors
    /// As [`Governance::decide`].
    pub fn reject(
        &self,
        id: &ApprovalId,
        actor: &ActorId,
        comment: &str,
    ) -> Result<ApprovalRequest> {
        self.decide(id, actor, Vote::Reject, comment)
    }

    /// Opens a new request for the transition of the rejected request `id`, recording the
    /// earlier decisions (the rejection among them) for the next approvers to see, with
    /// `actor` as the requester and `justification` (why ask again) in the audit record.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::MissingJustification`] for a blank
    /// justification; [`ApprovalError::NotRejected`] unless `id` was rejected; store errors.
    pub fn reopen(
        &self,
        id: &ApprovalId,
        actor: &ActorId,
        justification: &str,
    ) -> Result<ApprovalRequest> {
        let who = self.actor(actor)?;
        if crate::names::is_blank(justification) {
            return Err(GovernanceError::MissingJustification);
        }
        let now = self.clock.now();
        let (req, _) = self.update_governed(&id.model, |agg| {
            let old = ApprovalBook::of_model(agg)?.require(id)?.clone();
            if old.status != RequestStatus::Rejected {
                return Err(ApprovalError::NotRejected {
                    id: id.clone(),
                    status: old.status,
                }
                .into());
            }
            let records = agg.governance_records_mut();
            let number = records.approvals_opened.checked_add(1).ok_or(
                mlops_registry::RegistryError::Exhausted {
                    what: "approval request numbers",
                },
            )?;
            records.approvals_opened = number;
            let mut req = ApprovalRequest::open(
                ApprovalId::new(id.model.clone(), number),
                old.kind,
                old.version.clone(),
                old.from.clone(),
                old.event.clone(),
                old.to.clone(),
                &who,
                old.author.clone(),
                now,
                self.approval_ttl,
            );
            req.stay = Some(super::transition::stay_of(agg, old.version.version()));
            req.reopens = Some(old.id.clone());
            req.prior_decisions = old.decisions.clone();
            store_request(agg, &req)?;
            let draft = self.approval_draft(
                &who,
                AuditAction::APPROVAL_REOPENED,
                &req,
                Some(justification),
                now,
            );
            Ok((req, vec![draft]))
        })?;
        tracing::info!(request = %req.id, reopens = %id, "rejected approval request re-opened");
        Ok(req)
    }

    /// Cancels request `id`: its requester may, and so may holders of the cancel permission.
    ///
    /// # Errors
    /// [`GovernanceError::UnknownActor`]; [`GovernanceError::Unauthorized`] (audited);
    /// [`GovernanceError::Approval`] if it is unknown or not open.
    pub fn cancel(&self, id: &ApprovalId, actor: &ActorId) -> Result<ApprovalRequest> {
        self.expire_model(&id.model)?;
        let who = self.actor(actor)?;
        let now = self.clock.now();
        let (req, _) = self.update_governed(&id.model, |agg| {
            let mut req = ApprovalBook::of_model(agg)?.require(id)?.clone();
            if req.requested_by != who.id
                && let Err(e) = self.policy.read().authorize(&who, Action::Cancel, None)
            {
                return Err(self.audit_unauthorized(
                    &who,
                    Action::Cancel,
                    version_subject(&req.version),
                    e,
                ));
            }
            req.cancel(now)?;
            store_request(agg, &req)?;
            let draft = self.approval_draft(&who, AuditAction::APPROVAL_CANCELLED, &req, None, now);
            Ok((req, vec![draft]))
        })?;
        Ok(req)
    }

    /// Marks every approval request whose time ran out as expired, in every model, auditing
    /// each; returns them.
    ///
    /// # Errors
    /// [`GovernanceError::Registry`] if a commit fails (the models before it stay expired).
    pub fn expire_due(&self) -> Result<Vec<ApprovalId>> {
        let mut out = Vec::new();
        for name in model_names(self.store.as_ref())? {
            out.extend(self.expire_model(&name)?);
        }
        Ok(out)
    }

    /// Expires the due requests of `model` in one sealed commit (nothing is written when none
    /// is due).
    pub(super) fn expire_model(&self, model: &ModelName) -> Result<Vec<ApprovalId>> {
        let now = self.clock.now();
        let due = ApprovalBook::of_model(&self.store.get_model(model)?)?.due(now);
        if due.is_empty() {
            return Ok(due);
        }
        let (expired, _) = self.update_governed(model, |agg| {
            let book = ApprovalBook::of_model(agg)?;
            let mut drafts = Vec::new();
            let mut ids = Vec::new();
            for id in book.due(now) {
                let mut r = book.require(&id)?.clone();
                r.expire(now);
                store_request(agg, &r)?;
                drafts.push(self.approval_draft(
                    &self.system,
                    AuditAction::APPROVAL_EXPIRED,
                    &r,
                    None,
                    now,
                ));
                ids.push(id);
            }
            Ok((ids, drafts))
        })?;
        tracing::info!(count = expired.len(), model = %model, "approval requests expired");
        Ok(expired)
    }
}
