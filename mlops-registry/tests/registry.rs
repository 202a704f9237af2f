//! The `Registry` facade: the everyday operations, retries, protection, capability checks,
//! lineage, history, and bad input (typed errors, nothing written).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/double.rs"]
mod double;
use double::{Double, Doubled};

use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, AliasName, Digest, IdError, ManualClock, ModelName, ModelRef, VersionNumber,
};
use mlops_registry::audit::AuditAction;
use mlops_registry::model::{DatasetRole, IdempotencyKey, Protection, Tags, VersionCore};
use mlops_registry::store::{
    Capabilities, CreateOutcome, InMemoryStore, ModelStore, VersionFilter, VersionQuery,
};
use mlops_registry::{EntityKind, Registry, RegistryError};
use proptest::prelude::*;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
    ))
}

fn alice() -> Actor {
    Actor::human("alice@example.com").unwrap()
}

fn name(s: &str) -> ModelName {
    ModelName::new(s).unwrap()
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

fn core_of<S: ModelStore>(reg: &Registry<S>, seed: u64, parent: Option<ModelRef>) -> VersionCore {
    let mut b = VersionCore::builder(alice(), reg.now())
        .artifact(
            "model",
            format!("s3://m/{seed}"),
            Digest::of(&seed.to_le_bytes()),
            100 + seed,
        )
        .dataset(
            "train",
            DatasetRole::Training,
            "s3://d/train",
            Digest::of(format!("train-{}", seed % 2).as_bytes()),
        )
        .code(
            "git@example.com:ml/fraud.git",
            "0123abcd",
            Some("train.py".into()),
        )
        .run_id(format!("run-{seed}"));
    if let Some(p) = parent {
        b = b.parent(p);
    }
    b.build().unwrap()
}

fn audit_len(store: &dyn ModelStore) -> usize {
    store.read_audit(1, usize::MAX).unwrap().len()
}

#[test]
fn register_add_alias_resolve_history_and_rollback() {
    let clock = clock();
    let reg = Registry::new(InMemoryStore::new(), clock.clone()).unwrap();
    let fraud = name("fraud");
    reg.register_model(&fraud, &alice(), "card fraud").unwrap();
    let mut times = Vec::new();
    for seed in 1..=3 {
        let c = core_of(&reg, seed, None);
        reg.add_version(&fraud, c, None).unwrap();
    }
    let champion = AliasName::challenger();
    for n in [1, 2, 3] {
        clock.advance(TimeDelta::hours(1));
        times.push(reg.now());
        reg.set_alias(&fraud, &champion, v(n), &alice()).unwrap();
    }
    assert_eq!(reg.resolve(&fraud, &champion).unwrap().number(), v(3));
    assert_eq!(
        reg.alias_at(&fraud, &champion, times[1]).unwrap(),
        Some(v(2))
    );
    assert_eq!(
        reg.alias_at(&fraud, &champion, times[0] - TimeDelta::seconds(1))
            .unwrap(),
        None
    );
    // Roll back: champion goes to v2, then (its previous being v3) back to v3.
    assert_eq!(
        reg.rollback_alias(&fraud, &champion, &alice()).unwrap(),
        v(2)
    );
    assert_eq!(reg.resolve(&fraud, &champion).unwrap().number(), v(2));
    let hist = reg.alias_history(&fraud, &champion).unwrap();
    assert_eq!(
        hist.iter().map(|e| (e.from, e.to)).collect::<Vec<_>>(),
        vec![
            (None, Some(v(1))),
            (Some(v(1)), Some(v(2))),
            (Some(v(2)), Some(v(3))),
            (Some(v(3)), Some(v(2)))
        ]
    );
    // Every change has its audit record, in order.
    let actions: Vec<String> = reg
        .store()
        .read_audit(1, 100)
        .unwrap()
        .iter()
        .map(|r| r.draft.action.to_string())
        .collect();
    assert_eq!(actions[0], "registry.model.registered");
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "registry.version.created")
            .count(),
        3
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "registry.alias.moved")
            .count(),
        4
    );
    // Removing the alias, then resolving it, is NotFound for the alias.
    assert_eq!(reg.remove_alias(&fraud, &champion, &alice()).unwrap(), v(2));
    assert!(matches!(
        reg.resolve(&fraud, &champion),
        Err(RegistryError::NotFound {
            kind: EntityKind::Alias,
            ..
        })
    ));
}

#[test]
fn rollback_without_history_is_not_found() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("m");
    reg.register_model(&m, &alice(), "").unwrap();
    assert!(matches!(
        reg.rollback_alias(&m, &AliasName::challenger(), &alice()),
        Err(RegistryError::NotFound {
            kind: EntityKind::Alias,
            ..
        })
    ));
}

#[test]
fn set_alias_retries_under_contention_and_loses_nothing() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("contended");
    reg.register_model(&m, &alice(), "").unwrap();
    for seed in 1..=8 {
        reg.add_version(&m, core_of(&reg, seed, None), None)
            .unwrap();
    }
    let champion = AliasName::challenger();
    let moves: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=8_u64)
            .map(|t| {
                let (reg, m, champion) = (&reg, &m, &champion);
                s.spawn(move || {
                    let mut real_moves = 0;
                    for _ in 0..50 {
                        let from = reg.set_alias(m, champion, v(t), &alice()).unwrap();
                        if from != Some(v(t)) {
                            real_moves += 1;
                        }
                    }
                    real_moves
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let agg = reg.model(&m).unwrap();
    assert_eq!(agg.alias_history().len(), moves, "an alias move was lost");
    // Each recorded move starts where the previous one ended.
    for w in agg.alias_history().windows(2) {
        assert_eq!(w[0].to, w[1].from);
    }
}

#[test]
fn retries_are_bounded() {
    /// A store whose commits always conflict.
    struct AlwaysConflicts(InMemoryStore);
    impl Double for AlwaysConflicts {
        fn inner(&self) -> &dyn ModelStore {
            &self.0
        }
        fn name(&self) -> String {
            "always-conflicts".into()
        }
        fn commit(
            &self,
            m: &ModelName,
            e: mlops_registry::model::Revision,
            _: mlops_registry::model::ModelAggregate,
            _: Vec<mlops_registry::audit::AuditDraft>,
        ) -> mlops_registry::Result<mlops_registry::model::Revision> {
            Err(RegistryError::Conflict {
                model: m.clone(),
                expected: e,
                actual: e.next(),
            })
        }
    }
    let reg = Registry::new(Doubled(AlwaysConflicts(InMemoryStore::new())), clock())
        .unwrap()
        .with_retry(mlops_registry::RetryPolicy { max_attempts: 5 });
    let m = name("m");
    reg.register_model(&m, &alice(), "").unwrap();
    reg.add_version(&m, core_of(&reg, 1, None), None).unwrap();
    assert!(matches!(
        reg.set_alias(&m, &AliasName::challenger(), v(1), &alice()),
        Err(RegistryError::RetriesExhausted { attempts: 5, .. })
    ));
}

#[test]
fn a_store_lacking_capabilities_is_refused() {
    // A store that forwards to the reference store but declares chosen capabilities.
    #[derive(Debug)]
    struct Declares<'a>(&'a InMemoryStore, Capabilities);
    impl Double for Declares<'_> {
        fn inner(&self) -> &dyn ModelStore {
            self.0
        }
        fn name(&self) -> String {
            "declares".into()
        }
        fn capabilities(&self) -> Capabilities {
            self.1
        }
    }
    let inner = InMemoryStore::new();
    use mlops_registry::store::Capability;
    let without_cas = Capabilities::none()
        .with(Capability::AtomicAudit)
        .with(Capability::AtomicVersionNumbers)
        .with(Capability::IdempotentCreate);
    let err = Registry::new(Doubled(Declares(&inner, without_cas)), clock()).unwrap_err();
    assert!(matches!(
        err,
        RegistryError::MissingCapability {
            capability: Capability::CompareAndSwap,
            ..
        }
    ));
    let without_audit = Capabilities::none()
        .with(Capability::CompareAndSwap)
        .with(Capability::AtomicVersionNumbers)
        .with(Capability::IdempotentCreate);
    assert!(matches!(
        Registry::new(Doubled(Declares(&inner, without_audit)), clock()),
        Err(RegistryError::MissingCapability {
            capability: Capability::AtomicAudit,
            ..
        })
    ));
    assert!(Registry::new(Doubled(Declares(&inner, Capabilities::required())), clock()).is_ok());
}

#[test]
fn protected_aliases_are_refused_and_nothing_is_written() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("gov");
    reg.register_model(&m, &alice(), "").unwrap();
    reg.add_version(&m, core_of(&reg, 1, None), None).unwrap();
    // `champion` is protected from the model's creation.
    let before = reg.model(&m).unwrap();
    let audit_before = audit_len(reg.store());
    let err = reg
        .set_alias(&m, &AliasName::champion(), v(1), &alice())
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::ProtectedAlias { ref alias, .. } if alias == &AliasName::champion())
    );
    assert_eq!(reg.model(&m).unwrap(), before);
    assert_eq!(audit_len(reg.store()), audit_before);
    // Anyone may add protection (it only restricts); nobody but governance removes it.
    let shadow = AliasName::new("shadow").unwrap();
    let mut agg = reg.model(&m).unwrap();
    let rev = agg.revision();
    agg.set_protected(shadow.clone(), Protection::Protected);
    reg.store().commit(&m, rev, agg, vec![]).unwrap();
    assert!(matches!(
        reg.set_alias(&m, &shadow, v(1), &alice()),
        Err(RegistryError::ProtectedAlias { .. })
    ));
    let err = reg
        .update(&m, |agg| {
            agg.set_protected(shadow.clone(), Protection::Unprotected);
            Ok(((), vec![]))
        })
        .unwrap_err();
    assert!(matches!(err, RegistryError::Protected { .. }), "{err:?}");
    // Other aliases still move.
    reg.set_alias(&m, &AliasName::challenger(), v(1), &alice())
        .unwrap();
}

#[test]
fn lineage_descendants_and_trained_on() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let base = name("base");
    let tuned = name("tuned");
    reg.register_model(&base, &alice(), "").unwrap();
    reg.register_model(&tuned, &alice(), "").unwrap();
    let b1 = reg
        .add_version(&base, core_of(&reg, 1, None), None)
        .unwrap()
        .version
        .model_ref();
    let b2 = reg
        .add_version(&base, core_of(&reg, 2, Some(b1.clone())), None)
        .unwrap()
        .version
        .model_ref();
    let t1 = reg
        .add_version(&tuned, core_of(&reg, 3, Some(b2.clone())), None)
        .unwrap()
        .version
        .model_ref();
    let unrelated = reg
        .add_version(&base, core_of(&reg, 4, None), None)
        .unwrap()
        .version
        .model_ref();
    let chain: Vec<ModelRef> = reg
        .lineage(&t1)
        .unwrap()
        .iter()
        .map(|v| v.model_ref())
        .collect();
    assert_eq!(chain, vec![t1.clone(), b2.clone(), b1.clone()]);
    let desc: Vec<ModelRef> = reg
        .descendants(&b1)
        .unwrap()
        .iter()
        .map(|v| v.model_ref())
        .collect();
    assert_eq!(desc, vec![b2.clone(), t1.clone()]);
    assert!(reg.descendants(&unrelated).unwrap().is_empty());
    // Seeds 1 and 3 train on `train-1`; 2 and 4 on `train-0`.
    let on1: Vec<ModelRef> = reg
        .trained_on(Digest::of(b"train-1"))
        .unwrap()
        .iter()
        .map(|v| v.model_ref())
        .collect();
    assert_eq!(on1, vec![b1, t1]);
    // A parent that does not exist is refused, and no version is created.
    let missing = ModelRef::new(base.clone(), v(99));
    assert!(matches!(
        reg.add_version(&base, core_of(&reg, 5, Some(missing)), None),
        Err(RegistryError::NotFound {
            kind: EntityKind::Version,
            ..
        })
    ));
    assert_eq!(reg.model(&base).unwrap().latest_version(), Some(v(3)));
}

#[test]
fn idempotent_add_version_through_the_registry() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("idem");
    reg.register_model(&m, &alice(), "").unwrap();
    let key = IdempotencyKey::new("pipeline-run-7").unwrap();
    let c = core_of(&reg, 7, None);
    let a = reg.add_version(&m, c.clone(), Some(key.clone())).unwrap();
    let b = reg.add_version(&m, c, Some(key)).unwrap();
    assert_eq!(a.outcome, CreateOutcome::Created);
    assert_eq!(b.outcome, CreateOutcome::Replayed);
    assert_eq!(a.version.number(), b.version.number());
}

#[test]
fn tags_and_search_through_the_registry() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("tagged");
    reg.register_model(&m, &alice(), "").unwrap();
    for seed in 1..=5 {
        reg.add_version(&m, core_of(&reg, seed, None), None)
            .unwrap();
    }
    for n in [2, 4] {
        reg.tag_version(
            &ModelRef::new(m.clone(), v(n)),
            "stage",
            "candidate",
            &alice(),
        )
        .unwrap();
    }
    reg.tag_model(&m, "team", "fraud", &alice()).unwrap();
    assert_eq!(
        reg.model(&m).unwrap().model().tags.get("team"),
        Some("fraud")
    );
    let found = reg
        .search_all(vec![VersionFilter::Tag {
            key: "stage".into(),
            value: "candidate".into(),
        }])
        .unwrap();
    assert_eq!(
        found.iter().map(|v| v.number().get()).collect::<Vec<_>>(),
        vec![2, 4]
    );
    let audit = reg.store().read_audit(1, 1000).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.draft.action == AuditAction::version_annotated())
            .count(),
        2
    );
}

#[test]
fn bad_input_is_a_typed_error_naming_the_value_and_writes_nothing() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("strict");
    reg.register_model(&m, &alice(), "").unwrap();
    reg.add_version(&m, core_of(&reg, 1, None), None).unwrap();
    let r1 = ModelRef::new(m.clone(), v(1));
    let before = reg.model(&m).unwrap();
    let audit_before = audit_len(reg.store());

    // Names: empty, too long, control characters, path traversal.
    assert!(matches!(ModelName::new(""), Err(IdError::Empty { .. })));
    assert!(matches!(
        ModelName::new("x".repeat(200)),
        Err(IdError::TooLong { .. })
    ));
    assert!(matches!(
        ModelName::new("a\u{7}b"),
        Err(IdError::InvalidChar { .. })
    ));
    assert!(matches!(
        ModelName::new("../etc/passwd"),
        Err(IdError::PathTraversal { .. })
    ));
    assert!(matches!(
        AliasName::new("v3"),
        Err(IdError::Reserved { .. })
    ));
    // ... which convert into the registry's error.
    let as_registry: RegistryError = ModelName::new("../x").unwrap_err().into();
    assert!(matches!(
        as_registry,
        RegistryError::InvalidId(IdError::PathTraversal { .. })
    ));

    // Tags: bad key, oversized value, too many.
    let err = reg.tag_version(&r1, "bad key!", "x", &alice()).unwrap_err();
    assert!(
        matches!(&err, RegistryError::InvalidInput { field: "tag key", value, .. } if value == "bad key!"),
        "{err:?}"
    );
    let huge = "v".repeat(Tags::MAX_VALUE_LEN + 1);
    assert!(matches!(
        reg.tag_version(&r1, "k", &huge, &alice()),
        Err(RegistryError::InvalidInput {
            field: "tag value",
            ..
        })
    ));
    assert!(matches!(
        reg.tag_version(&r1, "k", "line\u{0}break", &alice()),
        Err(RegistryError::InvalidInput {
            field: "tag value",
            ..
        })
    ));
    // Unknown version / model.
    assert!(matches!(
        reg.tag_version(&ModelRef::new(m.clone(), v(9)), "k", "v", &alice()),
        Err(RegistryError::NotFound { kind: EntityKind::Version, ref id }) if id == "strict@v9"
    ));
    assert!(matches!(
        reg.set_alias(&name("nope"), &AliasName::challenger(), v(1), &alice()),
        Err(RegistryError::NotFound { kind: EntityKind::Model, ref id }) if id == "nope"
    ));
    // Alias to a missing version.
    assert!(matches!(
        reg.set_alias(&m, &AliasName::challenger(), v(2), &alice()),
        Err(RegistryError::NotFound {
            kind: EntityKind::Version,
            ..
        })
    ));
    // Description too long.
    let long = "d".repeat(mlops_registry::model::MAX_DESCRIPTION_LEN + 1);
    assert!(matches!(
        reg.annotate_version(
            &r1,
            mlops_registry::model::Annotations {
                description: long,
                tags: Tags::new()
            },
            &alice()
        ),
        Err(RegistryError::InvalidInput {
            field: "description",
            ..
        })
    ));
    assert_eq!(
        reg.model(&m).unwrap(),
        before,
        "bad input changed the model"
    );
    assert_eq!(
        audit_len(reg.store()),
        audit_before,
        "bad input wrote audit"
    );

    // Version cores: NaN metric, empty URI, duplicate artifact, malformed digest text.
    let b = || VersionCore::builder(alice(), reg.now());
    assert!(matches!(
        b().metric("auc", f64::NAN).build(),
        Err(RegistryError::InvalidInput {
            field: "metric value",
            ..
        })
    ));
    assert!(matches!(
        b().artifact("model", "", Digest::of(b""), 0).build(),
        Err(RegistryError::InvalidInput {
            field: "artifact uri",
            ..
        })
    ));
    assert!(matches!(
        b().artifact("model", "a", Digest::of(b""), 0)
            .artifact("model", "b", Digest::of(b""), 0)
            .build(),
        Err(RegistryError::InvalidInput {
            field: "artifact name",
            ..
        })
    ));
    assert!(matches!(
        "sha256:xyz".parse::<Digest>(),
        Err(IdError::InvalidChar { .. })
    ));
    // A core deserialized with a NaN-free but invalid field is caught by the store too.
    assert_eq!(reg.model(&m).unwrap().latest_version(), Some(v(1)));
}

#[test]
fn too_many_tags_is_refused() {
    let mut t = Tags::new();
    for i in 0..Tags::MAX_TAGS {
        t.insert(format!("k{i}"), "v").unwrap();
    }
    let err = t.insert("one-more", "v").unwrap_err();
    assert!(
        matches!(err, RegistryError::InvalidInput { field: "tag key", ref value, .. } if value == "one-more")
    );
    // Overwriting an existing key at the limit is fine.
    t.insert("k0", "w").unwrap();
    assert_eq!(t.len(), Tags::MAX_TAGS);
    // Deserialization applies the same rules.
    let bad: Result<Tags, _> = serde_json::from_str(r#"{"bad key": "x"}"#);
    assert!(bad.is_err());
}

#[test]
fn search_pages_with_registry_and_opaque_tokens() {
    let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
    let m = name("paged");
    reg.register_model(&m, &alice(), "").unwrap();
    for seed in 1..=7 {
        reg.add_version(&m, core_of(&reg, seed, None), None)
            .unwrap();
    }
    let q = VersionQuery::new().page_size(3);
    let p1 = reg.search(&q).unwrap();
    let p2 = reg.search(&q.clone().after(p1.next.clone())).unwrap();
    let p3 = reg.search(&q.clone().after(p2.next.clone())).unwrap();
    assert_eq!(p1.items.len() + p2.items.len() + p3.items.len(), 7);
    assert!(p3.next.is_none());
    // Tokens do not expose the position in plain text.
    assert!(!p1.next.unwrap().as_str().contains("paged"));
}

#[derive(Debug, Clone)]
enum Op {
    AddVersion,
    SetAlias(u8, u64),
    RemoveAlias(u8),
    SetState(u64, u8),
    Tag(u64, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::AddVersion),
        (0_u8..3, 1_u64..8).prop_map(|(a, n)| Op::SetAlias(a, n)),
        (0_u8..3).prop_map(Op::RemoveAlias),
        (1_u64..8, 0_u8..3).prop_map(|(n, s)| Op::SetState(n, s)),
        (1_u64..8, 0_u8..4).prop_map(|(n, t)| Op::Tag(n, t)),
    ]
}

/// Applies random operations to the registry and to a plain model, comparing after each.
fn model_based<S: ModelStore>(reg: &Registry<S>, ops: &[Op]) {
    use std::collections::BTreeMap;
    let aliases = ["champion", "challenger", "shadow"].map(|a| AliasName::new(a).unwrap());
    let states = ["development", "validation", "production"];
    let m = name("mbt");
    reg.register_model(&m, &alice(), "").unwrap();
    let mut n_versions = 0_u64;
    let mut alias_model: BTreeMap<usize, u64> = BTreeMap::new();
    let mut state_model: BTreeMap<u64, &str> = BTreeMap::new();
    let mut tag_model: BTreeMap<u64, u8> = BTreeMap::new();
    let mut alias_moves = 0;
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::AddVersion => {
                let got = reg
                    .add_version(&m, core_of(reg, i as u64, None), None)
                    .unwrap();
                n_versions += 1;
                assert_eq!(got.version.number().get(), n_versions);
                state_model.insert(n_versions, "development");
            }
            Op::SetAlias(0, n) => {
                // `champion` is protected: only governance moves it.
                let res = reg.set_alias(&m, &aliases[0], v(n), &alice());
                assert!(
                    matches!(
                        res,
                        Err(RegistryError::ProtectedAlias { .. } | RegistryError::NotFound { .. })
                    ),
                    "{res:?}"
                );
            }
            Op::RemoveAlias(0) => {
                let res = reg.remove_alias(&m, &aliases[0], &alice());
                assert!(
                    matches!(
                        res,
                        Err(RegistryError::ProtectedAlias { .. } | RegistryError::NotFound { .. })
                    ),
                    "{res:?}"
                );
            }
            Op::SetAlias(a, n) => {
                let res = reg.set_alias(&m, &aliases[a as usize], v(n), &alice());
                if n <= n_versions {
                    let prev = res.unwrap();
                    assert_eq!(prev, alias_model.get(&(a as usize)).map(|&x| v(x)));
                    if prev != Some(v(n)) {
                        alias_moves += 1;
                    }
                    alias_model.insert(a as usize, n);
                } else {
                    assert!(matches!(res, Err(RegistryError::NotFound { .. })));
                }
            }
            Op::RemoveAlias(a) => {
                let res = reg.remove_alias(&m, &aliases[a as usize], &alice());
                match alias_model.remove(&(a as usize)) {
                    Some(n) => {
                        assert_eq!(res.unwrap(), v(n));
                        alias_moves += 1;
                    }
                    None => assert!(matches!(res, Err(RegistryError::NotFound { .. }))),
                }
            }
            Op::SetState(n, s) => {
                let res = reg.update(&m, |agg| {
                    let prev = agg.set_state(
                        v(n),
                        mlops_registry::model::StateName::new(states[s as usize]).unwrap(),
                        &alice().id,
                        reg.now(),
                    )?;
                    Ok((prev, vec![]))
                });
                if n <= n_versions && states[s as usize] == "production" {
                    // A protected state is entered only through governance.
                    assert!(
                        matches!(res, Err(RegistryError::Protected { .. })),
                        "{res:?}"
                    );
                } else if n <= n_versions {
                    let (prev, _) = res.unwrap();
                    assert_eq!(prev.as_str(), state_model[&n]);
                    state_model.insert(n, states[s as usize]);
                } else {
                    assert!(matches!(res, Err(RegistryError::NotFound { .. })));
                }
            }
            Op::Tag(n, t) => {
                let res = reg.tag_version(
                    &ModelRef::new(m.clone(), v(n)),
                    "t",
                    &t.to_string(),
                    &alice(),
                );
                if n <= n_versions {
                    res.unwrap();
                    tag_model.insert(n, t);
                } else {
                    assert!(matches!(res, Err(RegistryError::NotFound { .. })));
                }
            }
        }
        let agg = reg.model(&m).unwrap();
        assert_eq!(agg.versions().len() as u64, n_versions);
        for (a, alias) in aliases.iter().enumerate() {
            assert_eq!(agg.alias(alias), alias_model.get(&a).map(|&x| v(x)));
        }
        for (&n, &s) in &state_model {
            assert_eq!(agg.state(v(n)).unwrap().as_str(), s);
        }
        for (&n, &t) in &tag_model {
            assert_eq!(
                agg.version(v(n)).unwrap().annotations.tags.get("t"),
                Some(t.to_string().as_str())
            );
        }
        assert_eq!(agg.alias_history().len(), alias_moves);
    }
    mlops_registry::audit::verify_chain(&reg.store().read_audit(1, usize::MAX).unwrap()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn model_based_in_memory(ops in proptest::collection::vec(op(), 1..40)) {
        let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
        model_based(&reg, &ops);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn model_based_sqlite(ops in proptest::collection::vec(op(), 1..40)) {
        let store = mlops_registry::store::SqliteStore::open_in_memory().unwrap();
        let reg = Registry::new(store, clock()).unwrap();
        model_based(&reg, &ops);
    }
}

/// Paging through a filtered search with any page size yields exactly the filtered versions,
/// in (model, number) order, each once.
fn pagination_matches_a_full_scan<S: ModelStore>(
    reg: &Registry<S>,
    layout: &[(u8, bool)],
    page_size: usize,
) {
    let models = [name("pa"), name("pb"), name("pc")];
    for m in &models {
        reg.register_model(m, &alice(), "").unwrap();
    }
    let mut expected = Vec::new();
    for (i, &(which, tagged)) in layout.iter().enumerate() {
        let m = &models[usize::from(which % 3)];
        let created = reg
            .add_version(m, core_of(reg, i as u64, None), None)
            .unwrap();
        if tagged {
            reg.tag_version(&created.version.model_ref(), "keep", "yes", &alice())
                .unwrap();
            expected.push(created.version.model_ref());
        }
    }
    expected.sort();
    let mut query = VersionQuery::new()
        .filter(VersionFilter::ModelNamePrefix("p".into()))
        .filter(VersionFilter::Tag {
            key: "keep".into(),
            value: "yes".into(),
        })
        .page_size(page_size);
    let mut seen = Vec::new();
    loop {
        let page = reg.search(&query).unwrap();
        assert!(page.items.len() <= page_size);
        assert!(page.next.is_none() || page.items.len() == page_size);
        seen.extend(page.items.iter().map(|v| v.model_ref()));
        match page.next {
            Some(t) => query.page_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn pagination_in_memory(layout in proptest::collection::vec((0_u8..3, any::<bool>()), 0..30), page in 1_usize..7) {
        let reg = Registry::new(InMemoryStore::new(), clock()).unwrap();
        pagination_matches_a_full_scan(&reg, &layout, page);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn pagination_sqlite(layout in proptest::collection::vec((0_u8..3, any::<bool>()), 0..30), page in 1_usize..7) {
        let reg = Registry::new(mlops_registry::store::SqliteStore::open_in_memory().unwrap(), clock()).unwrap();
        pagination_matches_a_full_scan(&reg, &layout, page);
    }
}
