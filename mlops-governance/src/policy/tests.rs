use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, ActorId, Direction, Evidence, ModelRef, RiskTier, Role, Subject};

use super::*;
use crate::error::{AuthorizationError, LoadError};
use crate::lifecycle::{EventName, Lifecycle, StateName};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn sn(s: &str) -> StateName {
    s.parse().unwrap()
}

fn human(id: &str, role: Role) -> Actor {
    Actor::human(id).unwrap().with_role(role)
}

fn strict_policy() -> Policy {
    let prod = sn("production");
    let rules = TierRules::default()
        .entering(prod.clone(), Guard::approvals(1, [Role::risk_officer()]))
        .entering(
            prod.clone(),
            Guard::evidence("validation.auc".parse().unwrap(), "30d".parse().unwrap()),
        )
        .entering(
            prod.clone(),
            Guard::documentation(["intended_use", "limitations"]),
        )
        .entering(
            prod.clone(),
            Guard::min_time_in_state("7d".parse().unwrap()),
        )
        .entering(
            prod,
            Guard::FreezeWindow {
                start: Utc.with_ymd_and_hms(2026, 12, 20, 0, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap(),
                reason: "year-end".into(),
            },
        );
    PolicySpec::new("strict")
        .tier(RiskTier::High, rules.clone())
        .tier(RiskTier::Critical, rules)
        .environment("staging", EnforcementMode::Warn)
        .environment("sandbox", EnforcementMode::Observe)
        .validate()
        .unwrap()
}

struct Fixture {
    version: ModelRef,
    author: ActorId,
    requester: Actor,
    from: crate::lifecycle::StateDef,
    to: crate::lifecycle::StateDef,
    event: EventName,
    signoffs: Vec<Signoff>,
    evidence: Vec<Evidence>,
    card: BTreeMap<String, String>,
    entered_at: DateTime<Utc>,
    now: DateTime<Utc>,
    tier: RiskTier,
    environment: String,
}

impl Fixture {
    fn new() -> Self {
        let lc = Lifecycle::default_lifecycle();
        Self {
            version: "fraud@v3".parse().unwrap(),
            author: ActorId::new("alice").unwrap(),
            requester: human("eve", Role::ml_engineer()),
            from: lc.state(&sn("pre_production")).unwrap().clone(),
            to: lc.state(&sn("production")).unwrap().clone(),
            event: "promote".parse().unwrap(),
            signoffs: Vec::new(),
            evidence: Vec::new(),
            card: BTreeMap::new(),
            entered_at: now() - TimeDelta::days(1),
            now: now(),
            tier: RiskTier::High,
            environment: "prod".into(),
        }
    }

    fn ready(mut self) -> Self {
        self.signoffs
            .push(Signoff::of(&human("rita", Role::risk_officer()), now()));
        self.evidence.push(Evidence::new(
            "validation.auc".parse().unwrap(),
            Subject::Version {
                version: self.version.clone(),
            },
            0.91,
            0.85,
            Direction::AtLeast,
            now() - TimeDelta::days(2),
        ));
        self.card.insert("intended_use".into(), "card fraud".into());
        self.card.insert("limitations".into(), "EU only".into());
        self.entered_at = now() - TimeDelta::days(8);
        self
    }

    fn input(&self) -> GuardInput<'_> {
        GuardInput {
            version: &self.version,
            tier: self.tier,
            author: Some(&self.author),
            requester: &self.requester,
            from: &self.from,
            event: &self.event,
            to: &self.to,
            entered_at: self.entered_at,
            now: self.now,
            signoffs: &self.signoffs,
            evidence: &self.evidence,
            card: &self.card,
            environment: &self.environment,
            transition_guards: &[],
        }
    }
}

#[test]
fn a_ready_transition_is_allowed() {
    let p = strict_policy();
    let f = Fixture::new().ready();
    let v = p.evaluate(&f.input()).unwrap();
    assert!(v.is_allowed(), "{v}");
    assert_eq!(v.outcomes.len(), 6, "permission + 5 policy guards");
    assert_eq!(v.policy, p.identity());
}

#[test]
fn every_unmet_requirement_is_collected() {
    let p = strict_policy();
    let f = Fixture::new();
    let v = p.evaluate(&f.input()).unwrap();
    assert_eq!(v.decision, Decision::Deny);
    let kinds: Vec<GuardKind> = v.unmet().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [
            GuardKind::Approvals,
            GuardKind::Evidence,
            GuardKind::Documentation,
            GuardKind::MinTimeInState
        ]
    );
    let reasons = v.reasons().join("\n");
    assert!(reasons.contains("0 of 1 sign-offs"), "{reasons}");
    assert!(
        reasons.contains("`intended_use`") && reasons.contains("`limitations`"),
        "{reasons}"
    );
    assert!(!v.proceeds());
    assert!(!v.awaits_only_signoffs());
}

#[test]
fn separation_of_duties_discounts_author_and_requester() {
    let p = strict_policy();
    let mut f = Fixture::new().ready();
    f.signoffs = vec![
        Signoff::of(&human("alice", Role::risk_officer()), now()),
        Signoff::of(&human("eve", Role::risk_officer()), now()),
    ];
    let v = p.evaluate(&f.input()).unwrap();
    assert!(v.awaits_only_signoffs(), "{v}");
    // Wrong role does not count either; the right one does, once.
    f.signoffs
        .push(Signoff::of(&human("dan", Role::data_scientist()), now()));
    assert!(!p.evaluate(&f.input()).unwrap().is_allowed());
    f.signoffs
        .push(Signoff::of(&human("rita", Role::risk_officer()), now()));
    assert!(p.evaluate(&f.input()).unwrap().is_allowed());
}

#[test]
fn critical_tier_adds_the_two_person_rule() {
    let p = strict_policy();
    let mut f = Fixture::new().ready();
    f.tier = RiskTier::Critical;
    let v = p.evaluate(&f.input()).unwrap();
    assert_eq!(
        v.unmet().map(|o| o.kind).collect::<Vec<_>>(),
        [GuardKind::TwoPersonRule]
    );
    // The same person twice is still one person.
    f.signoffs
        .push(Signoff::of(&human("rita", Role::risk_officer()), now()));
    assert!(!p.evaluate(&f.input()).unwrap().is_allowed());
    // A service is not a person.
    let bot = Actor::service("bot")
        .unwrap()
        .with_role(Role::risk_officer());
    f.signoffs.push(Signoff::of(&bot, now()));
    assert!(!p.evaluate(&f.input()).unwrap().is_allowed());
    f.signoffs.push(Signoff::of(
        &human("carol", Role::compliance_officer()),
        now(),
    ));
    assert!(p.evaluate(&f.input()).unwrap().is_allowed());
}

#[test]
fn evidence_must_be_fresh_consistent_and_passing() {
    let p = strict_policy();
    let mut f = Fixture::new().ready();
    f.evidence[0].measured_at = now() - TimeDelta::days(31);
    assert!(p.evaluate(&f.input()).unwrap().reasons()[0].contains("older than 30d"));
    f.evidence[0].measured_at = now() + TimeDelta::days(1);
    assert!(p.evaluate(&f.input()).unwrap().reasons()[0].contains("no evidence"));
    f.evidence[0].measured_at = now();
    f.evidence[0].outcome = mlops_core::Outcome::Fail;
    assert!(p.evaluate(&f.input()).unwrap().reasons()[0].contains("inconsistent"));
    f.evidence[0].value = 0.5;
    assert!(p.evaluate(&f.input()).unwrap().reasons()[0].contains("failed >= 0.85"));
    // Evidence about another version does not count.
    f.evidence[0] = Evidence::new(
        "validation.auc".parse().unwrap(),
        Subject::Version {
            version: "fraud@v2".parse().unwrap(),
        },
        0.99,
        0.85,
        Direction::AtLeast,
        now(),
    );
    assert!(!p.evaluate(&f.input()).unwrap().is_allowed());
}

#[test]
fn threshold_override_rejudges_the_value() {
    let g = Guard::Evidence {
        check: "validation.auc".parse().unwrap(),
        max_age: "30d".parse().unwrap(),
        threshold: Some(Threshold {
            direction: Direction::AtLeast,
            value: 0.95,
        }),
    };
    let f = Fixture::new().ready();
    assert!(!g.evaluate(&f.input()).is_met());
}

#[test]
fn freeze_window_and_min_time_use_the_given_now() {
    let p = strict_policy();
    let mut f = Fixture::new().ready();
    f.now = Utc.with_ymd_and_hms(2026, 12, 24, 0, 0, 0).unwrap();
    f.evidence[0].measured_at = f.now - TimeDelta::days(1);
    let v = p.evaluate(&f.input()).unwrap();
    assert_eq!(
        v.unmet().map(|o| o.kind).collect::<Vec<_>>(),
        [GuardKind::FreezeWindow]
    );
    assert!(v.reasons()[0].contains("year-end"));
    f.now = Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap();
    f.evidence[0].measured_at = f.now;
    f.entered_at = f.now - TimeDelta::days(7) + TimeDelta::seconds(1);
    let v = p.evaluate(&f.input()).unwrap();
    assert_eq!(
        v.unmet().map(|o| o.kind).collect::<Vec<_>>(),
        [GuardKind::MinTimeInState]
    );
    f.entered_at = f.now - TimeDelta::days(7);
    assert!(p.evaluate(&f.input()).unwrap().is_allowed());
}

#[test]
fn enforcement_mode_follows_the_environment() {
    let p = strict_policy();
    let mut f = Fixture::new();
    for (env, mode, proceeds) in [
        ("prod", EnforcementMode::Enforce, false),
        ("staging", EnforcementMode::Warn, true),
        ("sandbox", EnforcementMode::Observe, true),
    ] {
        f.environment = env.into();
        let v = p.evaluate(&f.input()).unwrap();
        assert_eq!(v.mode, mode);
        assert_eq!(v.decision, Decision::Deny);
        assert_eq!(v.proceeds(), proceeds, "{env}");
    }
}

#[test]
fn permissions_gate_every_action() {
    let p = strict_policy();
    let mut f = Fixture::new().ready();
    f.requester = human("mallory", Role::auditor());
    let v = p.evaluate(&f.input()).unwrap();
    assert_eq!(
        v.unmet().map(|o| o.kind).collect::<Vec<_>>(),
        [GuardKind::Permission]
    );
    assert!(matches!(
        p.authorize(&human("x", Role::data_scientist()), Action::Override, None),
        Err(AuthorizationError::MissingRole {
            action: Action::Override,
            ..
        })
    ));
    assert!(
        p.authorize(
            &human("x", Role::incident_responder()),
            Action::Override,
            None
        )
        .is_ok()
    );
    assert!(
        p.authorize(
            &human("x", Role::governance_admin()),
            Action::ChangePolicy,
            None
        )
        .is_ok()
    );
    assert!(
        p.authorize(
            &human("x", Role::risk_officer()),
            Action::ChangePolicy,
            None
        )
        .is_err()
    );
    // Approve: needs the approve permission AND a role that counts for this transition.
    let f = Fixture::new();
    assert!(
        p.authorize(
            &human("r", Role::risk_officer()),
            Action::Approve,
            Some(&f.input())
        )
        .is_ok()
    );
    assert!(matches!(
        p.authorize(
            &human("b", Role::business_owner()),
            Action::Approve,
            Some(&f.input())
        ),
        Err(AuthorizationError::WrongRole { .. })
    ));
    assert!(matches!(
        p.authorize(
            &human("d", Role::data_scientist()),
            Action::Approve,
            Some(&f.input())
        ),
        Err(AuthorizationError::MissingRole { .. })
    ));
}

#[test]
fn identity_is_a_content_hash_and_files_round_trip() {
    let p = strict_policy();
    let json = p.to_json().unwrap();
    let toml = p.to_toml().unwrap();
    assert_eq!(Policy::from_json(&json).unwrap(), p);
    assert_eq!(Policy::from_toml(&toml).unwrap().identity(), p.identity());
    let mut spec = p.spec().clone();
    spec.name = "strict-2".into();
    assert_ne!(spec.validate().unwrap().identity(), p.identity());
    assert!(p.check_against(&Lifecycle::default_lifecycle()).is_ok());
    let other = PolicySpec::new("x")
        .tier(
            RiskTier::Low,
            TierRules::default().entering(sn("limbo"), Guard::TwoPersonRule),
        )
        .validate()
        .unwrap();
    assert!(matches!(
        other.check_against(&Lifecycle::default_lifecycle()),
        Err(PolicyError::UnknownState { .. })
    ));
}

#[test]
fn malformed_and_invalid_policies_are_typed_errors() {
    assert!(matches!(
        Policy::from_json("[1,"),
        Err(PolicyError::Load(LoadError::Json(_)))
    ));
    assert!(matches!(
        Policy::from_toml("name = \"x\"\n[tiers.severe]\n"),
        Err(PolicyError::Load(LoadError::Toml(_)))
    ));
    assert!(matches!(
        Policy::from_toml("name = \"x\"\n[tiers.low]\n[tiers.medium]\n[tiers.high]\n"),
        Err(PolicyError::MissingTier {
            tier: RiskTier::Critical
        })
    ));
    let zero = PolicySpec::new("x").tier(
        RiskTier::Low,
        TierRules::default().entering(
            sn("production"),
            Guard::approvals(0, [Role::risk_officer()]),
        ),
    );
    assert!(matches!(
        zero.validate(),
        Err(PolicyError::InvalidGuard {
            tier: RiskTier::Low,
            ..
        })
    ));
    let freeze = PolicySpec::new("x").tier(
        RiskTier::Low,
        TierRules::default().entering(
            sn("production"),
            Guard::FreezeWindow {
                start: now(),
                end: now(),
                reason: String::new(),
            },
        ),
    );
    assert!(matches!(
        freeze.validate(),
        Err(PolicyError::InvalidGuard { .. })
    ));
    let e = Policy::from_json(r#"{"name":"x","tiers":{"low":{"entering":{"production":[{"kind":"approvals","count":1,"roles":["Risk Officer"]}]}}}}"#)
        .unwrap_err();
    assert!(e.to_string().contains("Risk Officer"), "{e}");
}

#[derive(Debug)]
struct Broken;

impl PolicyEngine for Broken {
    fn identity(&self) -> mlops_core::Digest {
        mlops_core::Digest::of(b"broken")
    }
    fn evaluate(&self, _: &GuardInput<'_>) -> Result<Verdict, PolicyError> {
        Err(PolicyError::Evaluation {
            reason: "rules service unreachable".into(),
        })
    }
    fn authorize(
        &self,
        _: &Actor,
        _: Action,
        _: Option<&GuardInput<'_>>,
    ) -> Result<(), AuthorizationError> {
        Ok(())
    }
}

/// An engine whose evaluation always fails conforms: its errors deny.
#[cfg(feature = "testkit")]
#[test]
fn a_failing_engine_conforms() {
    crate::testkit::policy_engine::run_all(&Broken);
    crate::testkit::policy_engine::run_all(&(Box::new(Broken) as Box<dyn PolicyEngine>));
    crate::testkit::policy_engine::run_all(
        &(std::sync::Arc::new(Broken) as std::sync::Arc<dyn PolicyEngine>),
    );
}

#[test]
fn evaluation_errors_fail_closed_even_in_observe_mode() {
    let mut f = Fixture::new().ready();
    f.environment = "sandbox".into();
    for engine in [
        Box::new(Broken) as Box<dyn PolicyEngine>,
        Box::new(std::sync::Arc::new(Broken)),
    ] {
        let v = engine.evaluate_or_deny(&f.input());
        assert_eq!(v.decision, Decision::Deny);
        assert!(!v.proceeds());
        assert!(v.reasons()[0].contains("rules service unreachable"));
    }
}
