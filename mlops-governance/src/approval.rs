//! Approval requests as objects: opened by a transition that awaits sign-offs (or by a
//! break-glass override, for post-hoc review), signed or rejected by actors with a comment,
//! expiring after a configured time measured by the injected clock, cancellable.
//!
//! The methods here check the request's own rules (open, not expired, separation of duties, one
//! decision per actor, a meaningful comment on rejection); role permissions are the policy's
//! business and are checked by the engine before it calls them.
//!
//! Requests live in the store, inside their model's aggregate
//! ([`GovernanceRecords`](mlops_registry::governed::GovernanceRecords)), and every change is a
//! governance-sealed compare-and-swap commit carrying its audit record: every engine on the
//! store (threads, processes, replicas) sees one truth, and ids (`model/req-N`, numbered per
//! model) are unique per store. The audit records carry snapshots for the auditor; the engine
//! never rebuilds requests from them.
//!
//! ```
//! use mlops_core::{Actor, ManualClock, Clock, Role, chrono::TimeDelta};
//! use mlops_governance::approval::{ApprovalBook, ApprovalId, ApprovalRequest, RequestKind, RequestStatus, Vote};
//! use mlops_governance::Period;
//!
//! let clock = ManualClock::default();
//! let alice = Actor::human("alice")?.with_role(Role::data_scientist());
//! let rita = Actor::human("rita")?.with_role(Role::risk_officer());
//! let mut book = ApprovalBook::default();
//! let id = ApprovalId::new("fraud".parse()?, 1);
//! let mut req = ApprovalRequest::open(
//!     id.clone(), RequestKind::Transition, "fraud@v3".parse()?,
//!     "pre_production".parse()?, "promote".parse()?, "production".parse()?,
//!     &alice, Some(alice.id.clone()), clock.now(), Some("3d".parse::<Period>()?),
//! );
//! req.decide(&rita, Vote::Approve, "looks good", clock.now())?;
//! assert_eq!(req.signoffs().len(), 1);
//! assert!(req.decide(&alice, Vote::Approve, "mine", clock.now()).is_err()); // own model
//! clock.advance(TimeDelta::days(4));
//! assert!(req.is_due(clock.now()));
//! book.insert(req);
//! assert_eq!(book.expire_due(clock.now()).len(), 1);
//! assert_eq!(book.get(&id).unwrap().status, RequestStatus::Expired);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, ActorId, ModelName, ModelRef};
use mlops_registry::model::ModelAggregate;
use serde::{Deserialize, Serialize};

use crate::error::ApprovalError;
use crate::lifecycle::{EventName, StateName};
use crate::names::Period;
use crate::policy::Signoff;

/// The identity of an approval request: its model and a positive number counted per model,
/// displayed as `model/req-N` (model names cannot contain `/`). Unique per store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApprovalId {
    /// The model whose aggregate holds the request.
    pub model: ModelName,
    /// Its number within the model (1, 2, 3, … never reused).
    pub number: u64,
}

impl ApprovalId {
    /// The id of request `number` of `model`.
    #[must_use]
    pub fn new(model: ModelName, number: u64) -> Self {
        Self { model, number }
    }
}

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/req-{}", self.model, self.number)
    }
}

impl FromStr for ApprovalId {
    type Err = ApprovalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ApprovalError::MalformedId {
            value: crate::names::shorten(s),
        };
        let (model, n) = s.rsplit_once("/req-").ok_or_else(bad)?;
        let number: u64 = n.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(Self::new(ModelName::new(model).map_err(|_| bad())?, number))
    }
}

/// Why a request exists.
///
/// Exhaustive on purpose: the engine treats each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A transition awaits sign-offs before it can be committed.
    Transition,
    /// A break-glass override was applied; it must be reviewed after the fact.
    PostHocReview,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestStatus {
    /// Collecting decisions.
    Open,
    /// Done: the transition was committed, or the review was signed.
    Fulfilled,
    /// An approver rejected it.
    Rejected,
    /// Its time ran out.
    Expired,
    /// Withdrawn.
    Cancelled,
    /// Its version left the state the request was for (sign-offs are given for one entry into
    /// one state and stop counting when the version moves).
    Superseded,
}

/// An approver's decision.
///
/// Exhaustive on purpose: there are exactly two answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Signs off.
    Approve,
    /// Refuses (a comment is mandatory).
    Reject,
}

/// One decision on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    /// Who decided, with their roles at the time.
    pub signoff: Signoff,
    /// Approve or reject.
    pub vote: Vote,
    /// Why.
    pub comment: String,
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Its identity.
    pub id: ApprovalId,
    /// Why it exists.
    pub kind: RequestKind,
    /// The version concerned.
    pub version: ModelRef,
    /// The state the transition leaves.
    pub from: StateName,
    /// The transition's event.
    pub event: EventName,
    /// The state the transition enters.
    pub to: StateName,
    /// Who asked (or who overrode, for a review).
    pub requested_by: ActorId,
    /// Who registered the version, if known.
    pub author: Option<ActorId>,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it left `Open`.
    pub closed_at: Option<DateTime<Utc>>,
    /// The decisions so far, in order.
    pub decisions: Vec<ApprovalDecision>,
    /// Which stay of the version in `from` the request is for: the number of state changes the
    /// version had when it was opened. Sign-offs count only while the version is still in that
    /// stay (a version rejected, reworked and back in `from` needs new sign-offs).
    #[serde(default)]
    pub stay: Option<u64>,
    /// The rejected request this one re-opens, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopens: Option<ApprovalId>,
    /// The decisions of the re-opened request (its rejection among them), shown to the next
    /// approvers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior_decisions: Vec<ApprovalDecision>,
}

impl ApprovalRequest {
    /// Opens a request at `now`, expiring after `ttl` if given.
    #[expect(
        clippy::too_many_arguments,
        reason = "a request is exactly these facts"
    )]
    #[must_use]
    pub fn open(
        id: ApprovalId,
        kind: RequestKind,
        version: ModelRef,
        from: StateName,
        event: EventName,
        to: StateName,
        requester: &Actor,
        author: Option<ActorId>,
        now: DateTime<Utc>,
        ttl: Option<Period>,
    ) -> Self {
        Self {
            id,
            kind,
            version,
            from,
            event,
            to,
            requested_by: requester.id.clone(),
            author,
            opened_at: now,
            expires_at: ttl.and_then(|t| now.checked_add_signed(t.as_delta())),
            status: RequestStatus::Open,
            closed_at: None,
            decisions: Vec::new(),
            stay: None,
            reopens: None,
            prior_decisions: Vec::new(),
        }
    }

    /// Whether it is open and its time has run out at `now`.
    #[must_use]
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.status == RequestStatus::Open && self.expires_at.is_some_and(|e| now >= e)
    }

    fn check_open(&self, now: DateTime<Utc>) -> Result<(), ApprovalError> {
        if self.is_due(now) {
            return Err(ApprovalError::Expired {
                id: self.id.clone(),
                expired_at: self.expires_at.unwrap_or(now),
            });
        }
        if self.status != RequestStatus::Open {
            return Err(ApprovalError::NotOpen {
                id: self.id.clone(),
                status: self.status,
            });
        }
        Ok(())
    }

    /// Records `actor`'s decision at `now`. A rejection closes the request; a post-hoc review is
    /// fulfilled by its first approval.
    ///
    /// # Errors
    /// [`ApprovalError::Expired`] or [`ApprovalError::NotOpen`] if it is not open at `now`;
    /// [`ApprovalError::SeparationOfDuties`] if `actor` is the version's author or the requester;
    /// [`ApprovalError::AlreadyDecided`] if `actor` decided before;
    /// [`ApprovalError::MissingComment`] for a rejection without a comment.
    /// Nothing changes on error.
    pub fn decide(
        &mut self,
        actor: &Actor,
        vote: Vote,
        comment: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApprovalError> {
        self.check_open(now)?;
        if actor.id == self.requested_by || self.author.as_ref() == Some(&actor.id) {
            return Err(ApprovalError::SeparationOfDuties {
                id: self.id.clone(),
                actor: actor.id.clone(),
                reason: match (actor.id == self.requested_by, self.kind) {
                    (true, RequestKind::Transition) => "it requested the transition",
                    (true, RequestKind::PostHocReview) => "it applied the override",
                    (false, _) => "it is the version's author",
                },
            });
        }
        if self.decisions.iter().any(|d| d.signoff.actor == actor.id) {
            return Err(ApprovalError::AlreadyDecided {
                id: self.id.clone(),
                actor: actor.id.clone(),
            });
        }
        if vote == Vote::Reject && crate::names::is_blank(comment) {
            return Err(ApprovalError::MissingComment {
                id: self.id.clone(),
            });
        }
        self.decisions.push(ApprovalDecision {
            signoff: Signoff::of(actor, now),
            vote,
            comment: comment.to_owned(),
        });
        match (vote, self.kind) {
            (Vote::Reject, _) => self.close(RequestStatus::Rejected, now),
            (Vote::Approve, RequestKind::PostHocReview) => {
                self.close(RequestStatus::Fulfilled, now)
            }
            (Vote::Approve, RequestKind::Transition) => {}
        }
        Ok(())
    }

    /// Withdraws the request.
    ///
    /// # Errors
    /// [`ApprovalError::NotOpen`] or [`ApprovalError::Expired`] if it is not open at `now`.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), ApprovalError> {
        self.check_open(now)?;
        self.close(RequestStatus::Cancelled, now);
        Ok(())
    }

    /// Marks it superseded: its version left the state it was for.
    ///
    /// # Errors
    /// As [`ApprovalRequest::cancel`].
    pub fn supersede(&mut self, now: DateTime<Utc>) -> Result<(), ApprovalError> {
        self.check_open(now)?;
        self.close(RequestStatus::Superseded, now);
        Ok(())
    }

    /// Marks it fulfilled (its transition was committed).
    ///
    /// # Errors
    /// As [`ApprovalRequest::cancel`].
    pub fn fulfil(&mut self, now: DateTime<Utc>) -> Result<(), ApprovalError> {
        self.check_open(now)?;
        self.close(RequestStatus::Fulfilled, now);
        Ok(())
    }

    /// Marks it expired if it is due at `now`; returns whether it did.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        if self.is_due(now) {
            let at = self.expires_at.unwrap_or(now);
            self.close(RequestStatus::Expired, at);
            true
        } else {
            false
        }
    }

    fn close(&mut self, status: RequestStatus, at: DateTime<Utc>) {
        self.status = status;
        self.closed_at = Some(at);
    }

    /// The approvals given so far.
    #[must_use]
    pub fn signoffs(&self) -> Vec<Signoff> {
        self.decisions
            .iter()
            .filter(|d| d.vote == Vote::Approve)
            .map(|d| d.signoff.clone())
            .collect()
    }

    /// Whether it concerns the transition of `version` from `from` on `event`.
    #[must_use]
    pub fn concerns(&self, version: &ModelRef, from: &StateName, event: &EventName) -> bool {
        &self.version == version && &self.from == from && &self.event == event
    }
}

/// A set of approval requests, by id: a snapshot read from the store
/// ([`Governance::approvals`](crate::Governance::approvals)), or one model's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalBook {
    requests: BTreeMap<ApprovalId, ApprovalRequest>,
}

impl ApprovalBook {
    /// The requests kept in `aggregate`, with the count of requests ever opened for its model.
    ///
    /// # Errors
    /// [`ApprovalError::Corrupt`] for a stored request that does not parse or is filed under
    /// another id (the book fails closed rather than skip it).
    pub fn of_model(aggregate: &ModelAggregate) -> Result<Self, ApprovalError> {
        let mut book = Self::default();
        for (number, value) in &aggregate.governance_records().approvals {
            let id = ApprovalId::new(aggregate.name().clone(), *number);
            let request: ApprovalRequest =
                serde_json::from_value(value.clone()).map_err(|e| ApprovalError::Corrupt {
                    id: id.clone(),
                    reason: e.to_string(),
                })?;
            if request.id != id {
                return Err(ApprovalError::Corrupt {
                    id,
                    reason: format!("it is filed under another id ({})", request.id),
                });
            }
            book.insert(request);
        }
        Ok(book)
    }

    /// Inserts or replaces a request.
    pub fn insert(&mut self, request: ApprovalRequest) {
        self.requests.insert(request.id.clone(), request);
    }

    /// Adds every request of `other`.
    pub fn extend(&mut self, other: Self) {
        self.requests.extend(other.requests);
    }

    /// The number of requests.
    #[must_use]
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// A request by id.
    #[must_use]
    pub fn get(&self, id: &ApprovalId) -> Option<&ApprovalRequest> {
        self.requests.get(id)
    }

    /// A request by id.
    ///
    /// # Errors
    /// [`ApprovalError::NotFound`] if there is none.
    pub fn require(&self, id: &ApprovalId) -> Result<&ApprovalRequest, ApprovalError> {
        self.get(id)
            .ok_or_else(|| ApprovalError::NotFound { id: id.clone() })
    }

    /// The most recent transition request for `version` leaving `from` on `event` during the
    /// version's current `stay` in `from` (see [`ApprovalRequest::stay`]), whatever its status.
    #[must_use]
    pub fn latest_for(
        &self,
        version: &ModelRef,
        from: &StateName,
        event: &EventName,
        stay: u64,
    ) -> Option<&ApprovalRequest> {
        self.requests
            .values()
            .filter(|r| {
                r.kind == RequestKind::Transition
                    && r.concerns(version, from, event)
                    && r.stay == Some(stay)
            })
            .max_by_key(|r| r.id.number)
    }

    /// The open transition request for `version` leaving `from` on `event`, if any.
    #[must_use]
    pub fn open_for(
        &self,
        version: &ModelRef,
        from: &StateName,
        event: &EventName,
    ) -> Option<&ApprovalRequest> {
        self.requests.values().find(|r| {
            r.status == RequestStatus::Open
                && r.kind == RequestKind::Transition
                && r.concerns(version, from, event)
        })
    }

    /// Every request, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ApprovalRequest> {
        self.requests.values()
    }

    /// The open requests due at `now` (not yet marked).
    #[must_use]
    pub fn due(&self, now: DateTime<Utc>) -> Vec<ApprovalId> {
        self.requests
            .values()
            .filter(|r| r.is_due(now))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Marks every request due at `now` expired and returns their snapshots.
    pub fn expire_due(&mut self, now: DateTime<Utc>) -> Vec<ApprovalRequest> {
        self.requests
            .values_mut()
            .filter_map(|r| r.expire(now).then(|| r.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use mlops_core::Role;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }

    fn request(ttl: Option<&str>) -> (ApprovalRequest, Actor) {
        let alice = Actor::human("alice")
            .unwrap()
            .with_role(Role::data_scientist());
        let req = ApprovalRequest::open(
            id(1),
            RequestKind::Transition,
            "m@v1".parse().unwrap(),
            "pre_production".parse().unwrap(),
            "promote".parse().unwrap(),
            "production".parse().unwrap(),
            &alice,
            Some(ActorId::new("bob").unwrap()),
            t0(),
            ttl.map(|t| t.parse().unwrap()),
        );
        (req, alice)
    }

    fn id(n: u64) -> ApprovalId {
        ApprovalId::new("m".parse().unwrap(), n)
    }

    fn person(id: &str) -> Actor {
        Actor::human(id).unwrap().with_role(Role::risk_officer())
    }

    #[test]
    fn separation_of_duties_and_duplicates() {
        let (mut req, alice) = request(None);
        let bob = person("bob");
        assert!(matches!(
            req.decide(&alice, Vote::Approve, "", t0()),
            Err(ApprovalError::SeparationOfDuties {
                reason: "it requested the transition",
                ..
            })
        ));
        assert!(matches!(
            req.decide(&bob, Vote::Approve, "", t0()),
            Err(ApprovalError::SeparationOfDuties {
                reason: "it is the version's author",
                ..
            })
        ));
        let rita = person("rita");
        req.decide(&rita, Vote::Approve, "", t0()).unwrap();
        assert!(matches!(
            req.decide(&rita, Vote::Approve, "", t0()),
            Err(ApprovalError::AlreadyDecided { .. })
        ));
        assert_eq!(req.signoffs().len(), 1);
        assert_eq!(req.status, RequestStatus::Open);
    }

    #[test]
    fn rejection_needs_a_comment_and_closes() {
        let (mut req, _) = request(None);
        let rita = person("rita");
        for blank in ["  ", "\u{200b}", " \u{feff}\u{2060} \t"] {
            assert!(
                matches!(
                    req.decide(&rita, Vote::Reject, blank, t0()),
                    Err(ApprovalError::MissingComment { .. })
                ),
                "{blank:?}"
            );
        }
        assert!(req.decisions.is_empty());
        req.decide(&rita, Vote::Reject, "calibration is off", t0())
            .unwrap();
        assert_eq!(req.status, RequestStatus::Rejected);
        assert!(matches!(
            req.decide(&person("carol"), Vote::Approve, "", t0()),
            Err(ApprovalError::NotOpen {
                status: RequestStatus::Rejected,
                ..
            })
        ));
        assert!(req.cancel(t0()).is_err());
    }

    #[test]
    fn expiry_is_measured_by_the_given_time() {
        let (mut req, _) = request(Some("1d"));
        let almost = t0() + TimeDelta::seconds(86_399);
        assert!(!req.is_due(almost));
        req.decide(&person("rita"), Vote::Approve, "", almost)
            .unwrap();
        let at = t0() + TimeDelta::days(1);
        assert!(matches!(
            req.decide(&person("carol"), Vote::Approve, "", at),
            Err(ApprovalError::Expired { .. })
        ));
        let mut book = ApprovalBook::default();
        book.insert(req);
        assert_eq!(book.due(at), vec![id(1)]);
        let expired = book.expire_due(at);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].status, RequestStatus::Expired);
        assert!(book.expire_due(at).is_empty(), "expires once");
    }

    #[test]
    fn cancel_and_ids() {
        let (mut req, _) = request(None);
        req.cancel(t0()).unwrap();
        assert_eq!(req.status, RequestStatus::Cancelled);
        assert!(matches!(
            req.fulfil(t0()),
            Err(ApprovalError::NotOpen { .. })
        ));
        assert_eq!("m/req-7".parse::<ApprovalId>().unwrap(), id(7));
        assert_eq!(id(7).to_string(), "m/req-7");
        assert_eq!(
            "fraud.v2/req-12".parse::<ApprovalId>().unwrap(),
            ApprovalId::new("fraud.v2".parse().unwrap(), 12)
        );
        for bad in ["x", "req-7", "m/req-0", "m/req-x", "../m/req-1", "/req-1"] {
            assert!(
                matches!(
                    bad.parse::<ApprovalId>(),
                    Err(ApprovalError::MalformedId { .. })
                ),
                "{bad}"
            );
        }
    }
}
