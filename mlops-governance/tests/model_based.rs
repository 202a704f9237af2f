//! Model-based test: random sequences of requests, approvals, rejections, overrides and clock
//! moves, applied to the real engine (with the registry's in-memory store) and to a plain model
//! of the rules; the states agree after every step, and nothing reaches production without its
//! guards met except by an audited override.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::EventName;
use std::sync::Arc;

use mlops_core::chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{Clock, ManualClock, ModelRef, RiskTier, Role};
use mlops_governance::GovernanceError;
use mlops_governance::approval::{RequestKind, RequestStatus};
use mlops_governance::audit::AuditLogExt;
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::lifecycle::Lifecycle;
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_registry::audit::AuditAction;
use mlops_registry::store::{InMemoryStore, ModelStore};
use proptest::prelude::*;
use support::{Cast, start, state};

const EVENTS: [&str; 9] = [
    "submit",
    "validate",
    "promote",
    "retire",
    "rollback",
    "reject",
    "reinstate",
    "archive",
    "rework",
];
const TTL_HOURS: i64 = 72;
const MIN_HOURS_BEFORE_PRODUCTION: i64 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Eve,
    Aud,
    Val,
    Rita,
    Alice,
}

#[derive(Debug, Clone)]
enum Op {
    Request { v: usize, event: usize, who: Who },
    Approve { v: usize, who: Who },
    Reject { v: usize, who: Who },
    Override { v: usize, event: usize },
    Advance { hours: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let requester = prop_oneof![4 => Just(Who::Eve), 1 => Just(Who::Aud)];
    let approver = prop_oneof![
        3 => Just(Who::Val),
        3 => Just(Who::Rita),
        1 => Just(Who::Alice),
        1 => Just(Who::Eve),
        1 => Just(Who::Aud)
    ];
    prop_oneof![
        // The main path (submit, validate, promote) is drawn more often so that sequences reach
        // production; every other event stays possible.
        8 => (0..2usize, 0..3usize, requester.clone()).prop_map(|(v, event, who)| Op::Request { v, event, who }),
        2 => (0..2usize, 0..EVENTS.len(), requester).prop_map(|(v, event, who)| Op::Request { v, event, who }),
        5 => (0..2usize, approver.clone()).prop_map(|(v, who)| Op::Approve { v, who }),
        1 => (0..2usize, approver).prop_map(|(v, who)| Op::Reject { v, who }),
        1 => (0..2usize, 0..EVENTS.len()).prop_map(|(v, event)| Op::Override { v, event }),
        3 => (1..60i64).prop_map(|hours| Op::Advance { hours }),
    ]
}

/// What an operation returned, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Ok,
    Denied {
        opened: bool,
    },
    Unauthorized,
    Approval,
    Lifecycle,
    /// The last request for this transition was rejected: re-open it to ask again.
    Rejected,
    Skipped,
}

#[derive(Debug, Clone, PartialEq)]
struct MRequest {
    kind: RequestKind,
    v: usize,
    from: String,
    event: String,
    to: String,
    requester: Who,
    signoffs: Vec<Who>,
    decided: Vec<Who>,
    expires: DateTime<Utc>,
    status: RequestStatus,
    /// The version's stay (state changes so far) when it was opened.
    stay: u64,
}

/// The plain model of the rules.
#[derive(Debug, Clone)]
struct Model {
    lifecycle: Lifecycle,
    now: DateTime<Utc>,
    states: [String; 2],
    entered: [DateTime<Utc>; 2],
    stays: [u64; 2],
    requests: Vec<MRequest>,
}

fn roles(w: Who) -> &'static [&'static str] {
    match w {
        Who::Eve => &["ml-engineer", "risk-officer"],
        Who::Aud => &["auditor"],
        Who::Val => &["model-validator"],
        Who::Rita => &["risk-officer"],
        Who::Alice => &["data-scientist", "model-validator"],
    }
}

fn has(w: Who, role: &str) -> bool {
    roles(w).contains(&role)
}

fn can_approve(w: Who) -> bool {
    [
        "model-validator",
        "risk-officer",
        "compliance-officer",
        "business-owner",
    ]
    .iter()
    .any(|r| has(w, r))
}

/// The role whose sign-off counts for entering `to`, if any.
fn gate_role(to: &str) -> Option<&'static str> {
    match to {
        "pre_production" => Some("model-validator"),
        "production" => Some("risk-officer"),
        _ => None,
    }
}

impl Model {
    fn new() -> Self {
        Self {
            lifecycle: Lifecycle::default_lifecycle(),
            now: start(),
            states: ["development".into(), "development".into()],
            entered: [start(), start()],
            stays: [0, 0],
            requests: Vec::new(),
        }
    }

    fn expire(&mut self) {
        for r in &mut self.requests {
            if r.status == RequestStatus::Open && self.now >= r.expires {
                r.status = RequestStatus::Expired;
            }
        }
    }

    fn target(&self, v: usize, event: &str) -> Option<String> {
        self.lifecycle
            .transition(&state(&self.states[v]), &ev(event))
            .ok()
            .map(|t| t.to.to_string())
    }

    fn open_transition_request(&self, v: usize, event: &str) -> Option<usize> {
        self.requests.iter().position(|r| {
            r.status == RequestStatus::Open
                && r.kind == RequestKind::Transition
                && r.v == v
                && r.from == self.states[v]
                && r.event == event
        })
    }

    /// Counted sign-offs: separation of duties (author alice, the requester) applied.
    fn signoffs_met(&self, v: usize, event: &str, to: &str, requester: Who) -> bool {
        let Some(role) = gate_role(to) else {
            return true;
        };
        self.open_transition_request(v, event).is_some_and(|i| {
            self.requests[i]
                .signoffs
                .iter()
                .any(|w| *w != Who::Alice && *w != requester && has(*w, role))
        })
    }

    fn apply(&mut self, v: usize, event: &str, to: &str) {
        if let Some(i) = self.open_transition_request(v, event) {
            self.requests[i].status = RequestStatus::Fulfilled;
        }
        let mut moved = vec![v];
        if to == "production" {
            let other = 1 - v;
            if self.states[other] == "production" {
                self.states[other] = "retired".into();
                self.entered[other] = self.now;
                self.stays[other] += 1;
                moved.push(other);
            }
        }
        self.states[v] = to.to_owned();
        self.entered[v] = self.now;
        self.stays[v] += 1;
        // Sign-offs are for one stay: the moved versions' open requests lapse.
        for r in &mut self.requests {
            if r.kind == RequestKind::Transition
                && r.status == RequestStatus::Open
                && moved.contains(&r.v)
            {
                r.status = RequestStatus::Superseded;
            }
        }
    }

    /// The latest transition request for `v` leaving its state on `event` in this stay.
    fn latest_request(&self, v: usize, event: &str) -> Option<&MRequest> {
        self.requests.iter().rev().find(|r| {
            r.kind == RequestKind::Transition
                && r.v == v
                && r.from == self.states[v]
                && r.event == event
                && r.stay == self.stays[v]
        })
    }

    fn request(&mut self, v: usize, event: &str, who: Who) -> Res {
        self.expire();
        let Some(to) = self.target(v, event) else {
            return Res::Lifecycle;
        };
        let permitted = has(who, "data-scientist") || has(who, "ml-engineer");
        let time_ok = to != "production"
            || self.now - self.entered[v] >= TimeDelta::hours(MIN_HOURS_BEFORE_PRODUCTION);
        let signed = self.signoffs_met(v, event, &to, who);
        if permitted && time_ok && signed {
            self.apply(v, event, &to);
            return Res::Ok;
        }
        if permitted && time_ok && !signed {
            match self.latest_request(v, event).map(|r| r.status) {
                Some(RequestStatus::Open) => return Res::Denied { opened: true },
                // A rejection is sticky: no new request until someone re-opens it.
                Some(RequestStatus::Rejected) => return Res::Rejected,
                _ => {}
            }
            self.requests.push(MRequest {
                kind: RequestKind::Transition,
                v,
                from: self.states[v].clone(),
                event: event.to_owned(),
                to,
                requester: who,
                signoffs: Vec::new(),
                decided: Vec::new(),
                expires: self.now + TimeDelta::hours(TTL_HOURS),
                status: RequestStatus::Open,
                stay: self.stays[v],
            });
            return Res::Denied { opened: true };
        }
        Res::Denied { opened: false }
    }

    fn first_open(&self, v: usize) -> Option<usize> {
        self.requests
            .iter()
            .position(|r| r.v == v && r.status == RequestStatus::Open)
    }

    fn decide(&mut self, i: usize, who: Who, approve: bool) -> Res {
        let r = &self.requests[i];
        let authorized = can_approve(who)
            && match r.kind {
                RequestKind::Transition => gate_role(&r.to).is_some_and(|role| has(who, role)),
                RequestKind::PostHocReview => true,
            };
        if !authorized {
            return Res::Unauthorized;
        }
        // The version's author may approve neither its transitions nor the review of an
        // override on it.
        let author = Some(Who::Alice);
        let requester = r.requester;
        if who == requester || Some(who) == author || r.decided.contains(&who) {
            return Res::Approval;
        }
        let r = &mut self.requests[i];
        r.decided.push(who);
        if approve {
            r.signoffs.push(who);
            if r.kind == RequestKind::PostHocReview {
                r.status = RequestStatus::Fulfilled;
            }
        } else {
            r.status = RequestStatus::Rejected;
        }
        Res::Ok
    }

    fn override_(&mut self, v: usize, event: &str) -> Res {
        self.expire();
        let Some(to) = self.target(v, event) else {
            return Res::Lifecycle;
        };
        let from = self.states[v].clone();
        self.apply(v, event, &to);
        self.requests.push(MRequest {
            kind: RequestKind::PostHocReview,
            v,
            from,
            event: event.to_owned(),
            to,
            // Ivan never approves in this test; stand him in with a marker that matches no one.
            requester: Who::Aud,
            signoffs: Vec::new(),
            decided: Vec::new(),
            expires: self.now + TimeDelta::hours(TTL_HOURS),
            status: RequestStatus::Open,
            stay: self.stays[v],
        });
        Res::Ok
    }
}

struct Real {
    clock: ManualClock,
    store: Arc<InMemoryStore>,
    gov: Governance,
    cast: Cast,
    versions: [ModelRef; 2],
}

fn policy() -> mlops_governance::policy::Policy {
    let rules = TierRules::default()
        .entering(
            state("pre_production"),
            Guard::approvals(1, [Role::model_validator()]),
        )
        .entering(
            state("production"),
            Guard::approvals(1, [Role::risk_officer()]),
        )
        .entering(
            state("production"),
            Guard::min_time_in_state("48h".parse().unwrap()),
        );
    PolicySpec::new("model-based")
        .tier(RiskTier::High, rules)
        .validate()
        .unwrap()
}

impl Real {
    fn new() -> Self {
        let clock = ManualClock::new(start());
        let store = Arc::new(InMemoryStore::new());
        let cast = Cast::new();
        let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
            .policy(policy())
            .unwrap()
            .actors(cast.all())
            .approval_ttl("72h".parse().unwrap())
            .build();
        let a = gov
            .register_version_for_test("scorer", &cast.alice, RiskTier::High)
            .unwrap();
        let b = gov
            .register_version_for_test("scorer", &cast.alice, RiskTier::High)
            .unwrap();
        Self {
            clock,
            store,
            gov,
            cast,
            versions: [a, b],
        }
    }

    fn id(&self, w: Who) -> &mlops_core::ActorId {
        match w {
            Who::Eve => &self.cast.eve.id,
            Who::Aud => &self.cast.aud.id,
            Who::Val => &self.cast.val.id,
            Who::Rita => &self.cast.rita.id,
            Who::Alice => &self.cast.alice.id,
        }
    }
}

fn classify<T>(r: Result<T, GovernanceError>) -> Res {
    match r {
        Ok(_) => Res::Ok,
        Err(GovernanceError::Denied { approval, .. }) => Res::Denied {
            opened: approval.is_some(),
        },
        Err(GovernanceError::Unauthorized(_)) => Res::Unauthorized,
        Err(GovernanceError::Approval(_)) => Res::Approval,
        Err(GovernanceError::Lifecycle(_)) => Res::Lifecycle,
        Err(GovernanceError::Rejected { .. }) => Res::Rejected,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn step(model: &mut Model, real: &Real, op: &Op) -> (Res, Res) {
    let ctx = PlanContext::default();
    match *op {
        Op::Request { v, event, who } => (
            model.request(v, EVENTS[event], who),
            classify(real.gov.transition(
                &real.versions[v],
                &ev(EVENTS[event]),
                real.id(who),
                &ctx,
            )),
        ),
        Op::Approve { v, who } | Op::Reject { v, who } => {
            let approve = matches!(op, Op::Approve { .. });
            model.expire();
            real.gov.expire_due().unwrap();
            let Some(i) = model.first_open(v) else {
                return (Res::Skipped, Res::Skipped);
            };
            let id = real
                .gov
                .approvals()
                .unwrap()
                .iter()
                .find(|r| r.version == real.versions[v] && r.status == RequestStatus::Open)
                .map(|r| r.id.clone())
                .expect("the engine has the open request the model has");
            assert_eq!(id.number, i as u64 + 1, "request ids agree");
            let m = model.decide(i, who, approve);
            let r = if approve {
                real.gov.approve(&id, real.id(who), "")
            } else {
                real.gov.reject(&id, real.id(who), "not convinced")
            };
            (m, classify(r))
        }
        Op::Override { v, event } => (
            model.override_(v, EVENTS[event]),
            classify(real.gov.break_glass(
                &real.versions[v],
                &ev(EVENTS[event]),
                &real.cast.ivan.id,
                "incident 42: instant rollback",
                &ctx,
            )),
        ),
        Op::Advance { hours } => {
            model.now += TimeDelta::hours(hours);
            real.clock.advance(TimeDelta::hours(hours));
            (Res::Skipped, Res::Skipped)
        }
    }
}

fn compare(model: &Model, real: &Real, ops: &[Op]) {
    for v in 0..2 {
        let s = real.store.get_version(&real.versions[v]).unwrap();
        assert_eq!(
            s.state().as_str(),
            model.states[v],
            "version {v} after {ops:?}"
        );
    }
    let book = real.gov.approvals().unwrap();
    let real_requests: Vec<_> = book.iter().collect();
    assert_eq!(
        real_requests.len(),
        model.requests.len(),
        "request count after {ops:?}"
    );
    for (r, m) in real_requests.iter().zip(&model.requests) {
        assert_eq!(r.status, m.status, "request {} after {ops:?}", r.id);
        assert_eq!(r.kind, m.kind);
        assert_eq!(r.to.as_str(), m.to);
        assert_eq!(r.signoffs().len(), m.signoffs.len());
    }
    assert_eq!(real.clock.now(), model.now);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut model = Model::new();
        let real = Real::new();
        for (i, op) in ops.iter().enumerate() {
            let (m, r) = step(&mut model, &real, op);
            prop_assert_eq!(m, r, "step {} {:?} of {:?}", i, op, ops);
            compare(&model, &real, &ops[..=i]);
            // Invariant: the exclusive state holds at most one version.
            prop_assert!(model.states.iter().filter(|s| *s == "production").count() <= 1);
        }
        // The audit: the chain verifies, and every entry into production was either allowed
        // by a verdict with every guard met, or an audited override with a justification.
        let log = real.gov.audit_log();
        log.verify().unwrap();
        for rec in log.read_all().unwrap() {
            let into_production = rec.draft.state_after.as_ref().map(|s| s.as_str()) == Some("production")
                && rec.draft.state_before.as_ref().map(|s| s.as_str()) != Some("production");
            match rec.draft.action.as_str() {
                a if a == AuditAction::TRANSITION_APPLIED.as_str() && into_production => {
                    prop_assert_eq!(&rec.draft.details["verdict"]["decision"], "allow");
                    let approvers = rec.draft.details["approvers"].as_array().unwrap();
                    prop_assert!(approvers.iter().any(|a| a == "rita"), "{:?}", rec);
                }
                a if a == AuditAction::TRANSITION_OVERRIDDEN.as_str() => {
                    prop_assert!(rec.draft.justification.as_deref().is_some_and(|j| !j.is_empty()));
                }
                _ => {}
            }
        }
        let _ = real.store.read_audit(1, 1).unwrap();
    }
}

/// The model speaks in strings; the engine takes typed event names.
fn ev(name: &str) -> EventName {
    EventName::new(name).unwrap()
}
