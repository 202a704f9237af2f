//! Unit tests of the model records and the aggregate.

use chrono::{DateTime, Utc};
use mlops_core::{AliasName, ModelName, RiskTier, VersionNumber};

use super::*;
use crate::governed::{GovernanceSeal, ProtectedChange};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::seconds(s)
}

fn agg_with(n: u64) -> ModelAggregate {
    let mut a = ModelAggregate::new(RegisteredModel::new(
        ModelName::new("m").unwrap(),
        mlops_core::ActorId::new("a").unwrap(),
        t(0),
    ));
    for i in 1..=n {
        a.insert_version(VersionNumber::new(i).unwrap(), StateName::development())
            .unwrap();
    }
    a
}

#[test]
fn revision_is_opaque_but_ordered() {
    let r = Revision::initial();
    assert_eq!(r.next().as_u64(), 2);
    assert_eq!(Revision::from_u64(r.as_u64()), r);
    assert_eq!(r.to_string(), "r1");
    assert_eq!(Revision::from_u64(u64::MAX).next().as_u64(), u64::MAX);
}

#[test]
fn text_fields_reject_control_characters_except_newlines_in_descriptions() {
    assert!(validate_description("line one\nline two\tand tab").is_ok());
    assert!(validate_description("bell\u{7}").is_err());
    assert!(Tags::validate_value("no\nnewline? allowed in long values").is_ok());
    assert!(IdempotencyKey::new("a\nb").is_err());
    assert!(IdempotencyKey::new("").is_err());
    assert!(IdempotencyKey::new("x".repeat(129)).is_err());
}

#[test]
fn alias_history_answers_point_in_time_and_rollback() {
    let mut a = agg_with(3);
    let by = mlops_core::ActorId::new("b").unwrap();
    let c = AliasName::champion();
    assert_eq!(
        a.set_alias(c.clone(), VersionNumber::FIRST, &by, t(10))
            .unwrap(),
        None
    );
    // Re-setting the same target records nothing.
    assert_eq!(
        a.set_alias(c.clone(), VersionNumber::FIRST, &by, t(11))
            .unwrap(),
        Some(VersionNumber::FIRST)
    );
    assert_eq!(a.alias_history().len(), 1);
    let v2 = VersionNumber::new(2).unwrap();
    a.set_alias(c.clone(), v2, &by, t(20)).unwrap();
    a.remove_alias(&c, &by, t(30)).unwrap();
    assert_eq!(a.alias_at(&c, t(9)), None);
    assert_eq!(a.alias_at(&c, t(10)), Some(VersionNumber::FIRST));
    assert_eq!(a.alias_at(&c, t(29)), Some(v2));
    assert_eq!(a.alias_at(&c, t(30)), None);
    assert_eq!(a.previous_alias_target(&c), Some(v2));
    assert!(matches!(
        a.remove_alias(&c, &by, t(31)),
        Err(RegistryError::NotFound { .. })
    ));
}

#[test]
fn state_changes_are_recorded_once() {
    let mut a = agg_with(1);
    let by = mlops_core::ActorId::new("b").unwrap();
    let v1 = VersionNumber::FIRST;
    let prod = StateName::new("production").unwrap();
    assert_eq!(
        a.set_state(v1, prod.clone(), &by, t(1)).unwrap(),
        StateName::development()
    );
    assert_eq!(a.set_state(v1, prod.clone(), &by, t(2)).unwrap(), prod);
    assert_eq!(a.state_history().len(), 1);
    assert!(matches!(
        a.set_state(VersionNumber::new(2).unwrap(), prod, &by, t(3)),
        Err(RegistryError::NotFound { .. })
    ));
}

#[test]
fn successor_rules() {
    let old = agg_with(2);
    let by = mlops_core::ActorId::new("b").unwrap();
    let mut ok = old.clone();
    ok.set_alias(AliasName::challenger(), VersionNumber::FIRST, &by, t(1))
        .unwrap();
    ok.model_mut().description = "changed".into();
    ok.check_successor_of(&old).unwrap();
    // The reverse drops history.
    assert!(matches!(
        old.check_successor_of(&ok),
        Err(RegistryError::InvalidCommit { .. })
    ));
    let mut more = old.clone();
    more.insert_version(VersionNumber::new(3).unwrap(), StateName::development())
        .unwrap();
    assert!(more.check_successor_of(&old).is_err());
    let mut rewritten = ok.clone();
    rewritten.alias_history[0].by = mlops_core::ActorId::new("mallory").unwrap();
    assert!(rewritten.check_successor_of(&ok).is_err());
    let mut dangling = ok.clone();
    dangling.aliases.insert(
        AliasName::new("shadow").unwrap(),
        AliasTarget {
            version: VersionNumber::new(9).unwrap(),
            set_at: t(2),
            set_by: by,
        },
    );
    assert!(dangling.check_successor_of(&ok).is_err());
    assert!(ModelAggregate::from_parts(dangling.into_parts()).is_err());
}

fn seal() -> &'static GovernanceSeal {
    static SEAL: std::sync::OnceLock<Option<&'static GovernanceSeal>> = std::sync::OnceLock::new();
    SEAL.get_or_init(GovernanceSeal::claim)
        .expect("this test binary claims the seal once")
}

fn protected_change(new: &ModelAggregate, old: &ModelAggregate) -> ProtectedChange {
    match new.check_successor_of(old) {
        Err(RegistryError::Protected { change, .. }) => change,
        other => panic!("expected a protected change, got {other:?}"),
    }
}

#[test]
fn unsealed_commits_cannot_touch_protected_state_aliases_tier_or_records() {
    let old = agg_with(2);
    let by = mlops_core::ActorId::new("b").unwrap();
    let prod = StateName::new("production").unwrap();
    let v1 = VersionNumber::FIRST;

    let mut a = old.clone();
    a.set_state(v1, prod.clone(), &by, t(1)).unwrap();
    assert!(matches!(protected_change(&a, &old), ProtectedChange::State { to, .. } if to == prod));

    let mut a = old.clone();
    a.set_alias(AliasName::champion(), v1, &by, t(1)).unwrap();
    assert!(matches!(
        protected_change(&a, &old),
        ProtectedChange::Alias { .. }
    ));

    let mut a = old.clone();
    a.set_protected(AliasName::champion(), Protection::Unprotected);
    assert!(matches!(
        protected_change(&a, &old),
        ProtectedChange::Unprotect { .. }
    ));

    let mut a = old.clone();
    a.model_mut().risk_tier = RiskTier::Low;
    assert!(matches!(
        protected_change(&a, &old),
        ProtectedChange::RiskTier { .. }
    ));

    let mut a = old.clone();
    a.governance_records_mut().approvals_opened = 1;
    assert!(matches!(
        protected_change(&a, &old),
        ProtectedChange::GovernanceRecords
    ));

    // Protection may grow without the seal; a newly protected alias is then guarded too.
    let mut a = old.clone();
    a.protect_state(StateName::new("serving").unwrap());
    a.set_protected(AliasName::challenger(), Protection::Protected);
    a.check_successor_of(&old).unwrap();
    let mut b = a.clone();
    b.set_alias(AliasName::challenger(), v1, &by, t(2)).unwrap();
    assert!(matches!(
        protected_change(&b, &a),
        ProtectedChange::Alias { .. }
    ));

    // Leaving a protected state is as guarded as entering it.
    let mut sealed = old.clone();
    sealed.set_state(v1, prod.clone(), &by, t(1)).unwrap();
    sealed.authorize(seal());
    sealed.check_successor_of(&old).unwrap();
    let mut after = sealed.clone();
    after.set_revision(Revision::initial().next());
    assert!(
        !after.is_sealed(),
        "a stored aggregate never keeps the seal"
    );
    let mut demoted = after.clone();
    demoted
        .set_state(v1, StateName::development(), &by, t(2))
        .unwrap();
    assert!(matches!(
        protected_change(&demoted, &after),
        ProtectedChange::State { .. }
    ));
}

#[test]
fn sealed_commits_may_make_protected_changes() {
    let old = agg_with(1);
    let by = mlops_core::ActorId::new("b").unwrap();
    let mut a = old.clone();
    a.set_state(
        VersionNumber::FIRST,
        StateName::new("production").unwrap(),
        &by,
        t(1),
    )
    .unwrap();
    a.set_alias(AliasName::champion(), VersionNumber::FIRST, &by, t(1))
        .unwrap();
    a.model_mut().risk_tier = RiskTier::Critical;
    a.governance_records_mut().approvals_opened = 3;
    a.authorize(seal());
    a.check_successor_of(&old).unwrap();
    assert!(
        GovernanceSeal::claim().is_none(),
        "the seal is handed out once per process"
    );
}

#[test]
fn new_models_start_governed() {
    let fresh = ModelAggregate::new(RegisteredModel::new(
        ModelName::new("m").unwrap(),
        mlops_core::ActorId::new("a").unwrap(),
        t(0),
    ));
    assert!(fresh.is_protected(&AliasName::champion()));
    assert!(fresh.is_protected_state(&StateName::new("production").unwrap()));
    fresh.check_new().unwrap();
    let mut critical = fresh.clone();
    critical.model_mut().risk_tier = RiskTier::Low;
    assert!(matches!(
        critical.check_new(),
        Err(RegistryError::Protected {
            change: ProtectedChange::Creation { .. },
            ..
        })
    ));
    let mut bare = fresh.clone();
    bare.set_protected(AliasName::champion(), Protection::Unprotected);
    assert!(bare.check_new().is_err());
    critical.authorize(seal());
    critical.check_new().unwrap();
    let mut v = fresh.clone();
    assert!(matches!(
        v.insert_version(VersionNumber::FIRST, StateName::new("production").unwrap()),
        Err(RegistryError::Protected {
            change: ProtectedChange::InitialState { .. },
            ..
        })
    ));
    assert!(v.versions().is_empty());
}
