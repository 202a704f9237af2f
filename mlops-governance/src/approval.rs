//! Approval requests as objects: opened by a transition that awaits sign-offs (or by a
//! break-glass override, for post-hoc review), signed or rejected by actors with a comment,
//! expiring after a configured time measured by the injected clock, cancellable.
//!
//! The methods here check the request's own rules (open, not expired, separation of duties, one
//! decision per actor, a comment on rejection); role permissions are the policy's business and
//! are checked by the engine before it calls them. Every change is written to the audit log by
//! the engine with a snapshot of the request, so the book can be rebuilt from the log.
//!
//! ```
//! use mlops_core::{Actor, ManualClock, Clock, Role, chrono::TimeDelta};
//! use mlops_governance::approval::{ApprovalBook, ApprovalRequest, RequestKind, RequestStatus, Vote};
//! use mlops_governance::Period;
//!
//! let clock = ManualClock::default();
//! let alice = Actor::human("alice")?.with_role(Role::data_scientist());
//! let rita = Actor::human("rita")?.with_role(Role::risk_officer());
//! let mut book = ApprovalBook::default();
//! let id = book.next_id();
//! let mut req = ApprovalRequest::open(
//!     id, RequestKind::Transition, "fraud@v3".parse()?,
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
//! assert_eq!(book.get(id).unwrap().status, RequestStatus::Expired);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, ActorId, ModelRef};
use serde::{Deserialize, Serialize};

use crate::error::ApprovalError;
use crate::lifecycle::{EventName, StateName};
use crate::names::Period;
use crate::policy::Signoff;

/// The identity of an approval request: a positive sequence number, displayed as `req-N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApprovalId(pub u64);

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req-{}", self.0)
    }
}

impl FromStr for ApprovalId {
    type Err = ApprovalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("req-")
            .unwrap_or(s)
            .parse()
            .map(Self)
            .map_err(|_| ApprovalError::MalformedId {
                value: crate::names::shorten(s),
            })
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
}

impl ApprovalRequest {
    /// Opens a request at `now`, expiring after `ttl` if given.
    #[allow(clippy::too_many_arguments)] // reason: a request is exactly these facts
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
                id: self.id,
                expired_at: self.expires_at.unwrap_or(now),
            });
        }
        if self.status != RequestStatus::Open {
            return Err(ApprovalError::NotOpen {
                id: self.id,
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
                id: self.id,
                actor: actor.id.clone(),
                reason: if actor.id == self.requested_by {
                    "it requested the transition"
                } else {
                    "it is the version's author"
                },
            });
        }
        if self.decisions.iter().any(|d| d.signoff.actor == actor.id) {
            return Err(ApprovalError::AlreadyDecided {
                id: self.id,
                actor: actor.id.clone(),
            });
        }
        if vote == Vote::Reject && comment.trim().is_empty() {
            return Err(ApprovalError::MissingComment { id: self.id });
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

/// All approval requests, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalBook {
    requests: BTreeMap<ApprovalId, ApprovalRequest>,
    last_id: u64,
}

impl ApprovalBook {
    /// The id the next request gets.
    #[must_use]
    pub fn next_id(&self) -> ApprovalId {
        ApprovalId(self.last_id.saturating_add(1))
    }

    /// Inserts or replaces a request (a snapshot from the engine or the audit log).
    pub fn insert(&mut self, request: ApprovalRequest) {
        self.last_id = self.last_id.max(request.id.0);
        self.requests.insert(request.id, request);
    }

    /// A request by id.
    #[must_use]
    pub fn get(&self, id: ApprovalId) -> Option<&ApprovalRequest> {
        self.requests.get(&id)
    }

    /// A request by id.
    ///
    /// # Errors
    /// [`ApprovalError::NotFound`] if there is none.
    pub fn require(&self, id: ApprovalId) -> Result<&ApprovalRequest, ApprovalError> {
        self.get(id).ok_or(ApprovalError::NotFound { id })
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
            .map(|r| r.id)
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
            ApprovalId(1),
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
        assert!(matches!(
            req.decide(&rita, Vote::Reject, "  ", t0()),
            Err(ApprovalError::MissingComment { .. })
        ));
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
        assert_eq!(book.due(at), vec![ApprovalId(1)]);
        let expired = book.expire_due(at);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].status, RequestStatus::Expired);
        assert!(book.expire_due(at).is_empty(), "expires once");
        assert_eq!(book.next_id(), ApprovalId(2));
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
        assert_eq!("req-7".parse::<ApprovalId>().unwrap(), ApprovalId(7));
        assert_eq!(ApprovalId(7).to_string(), "req-7");
        assert!(matches!(
            "x".parse::<ApprovalId>(),
            Err(ApprovalError::MalformedId { .. })
        ));
    }
}
