//! The conformance test kit for [`ModelStore`] implementations (feature `testkit`).
//!
//! One public function per behaviour, each taking `&dyn ModelStore` and panicking with a clear
//! message when the store breaks the contract; [`run_all`] runs them all. Every function uses
//! fresh model names, so they can run against a store that already holds data, in any order,
//! and more than once.
//!
//! A host implementing [`ModelStore`] adds `mlops-registry = { features = ["testkit"] }` to its
//! dev-dependencies and calls, in a test:
//!
//! ```
//! use mlops_registry::store::InMemoryStore;
//! mlops_registry::testkit::run_all(&InMemoryStore::new());
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test kit asserts: panicking with a message is how it reports a failure"
)]

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, AliasName, Digest, ModelName, ModelRef, Subject, VersionNumber};
use serde_json::json;

use crate::audit::{self, AuditAction, AuditDraft};
use crate::error::RegistryError;
use crate::model::{
    DatasetRole, IdempotencyKey, ModelAggregate, RegisteredModel, Revision, StateName, VersionCore,
};
use crate::store::{
    Capability, CreateOutcome, ModelQuery, ModelStore, NewVersion, PageToken, VersionFilter,
    VersionQuery,
};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A model name no other test kit call has used in this process.
fn fresh(tag: &str) -> ModelName {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nonce = std::process::id();
    ModelName::new(format!("tk-{tag}-{nonce}-{n}")).unwrap()
}

fn actor() -> Actor {
    Actor::human("testkit@example.com").unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(minutes)
}

/// A core whose artifact digest depends on `seed`, trained on the dataset `dataset`.
fn core(seed: u64, dataset: &str, parent: Option<ModelRef>) -> VersionCore {
    let mut b = VersionCore::builder(actor(), at(i64::try_from(seed % 10_000).unwrap()))
        .artifact(
            "model",
            format!("mem://artifacts/{seed}"),
            Digest::of(&seed.to_be_bytes()),
            seed,
        )
        .dataset(
            dataset,
            DatasetRole::Training,
            format!("mem://data/{dataset}"),
            Digest::of(dataset.as_bytes()),
        )
        .param("seed", seed.to_string())
        .metric("auc", 0.5);
    if let Some(p) = parent {
        b = b.parent(p);
    }
    b.build().unwrap()
}

fn register(store: &dyn ModelStore, name: &ModelName) -> Revision {
    let agg = ModelAggregate::new(RegisteredModel::new(name.clone(), actor().id, t0()));
    store
        .create_model(agg, vec![draft(name, "registry.model.registered")])
        .unwrap()
}

fn draft(name: &ModelName, action: &str) -> AuditDraft {
    AuditDraft::new(
        t0(),
        actor(),
        AuditAction::new(action).unwrap(),
        Subject::Model {
            model: name.clone(),
        },
    )
    .with_details(json!({"by": "testkit"}))
}

fn add_version(store: &dyn ModelStore, name: &ModelName, seed: u64) -> VersionNumber {
    store
        .create_version(NewVersion::new(name.clone(), core(seed, "ds", None)))
        .unwrap()
        .version
        .number()
}

/// The number of audit records, paging by position (never by the seq stored in a record).
fn audit_len(store: &dyn ModelStore) -> u64 {
    let mut from = 1;
    // Bounded: a store whose pages never end fails here instead of hanging the kit.
    for _ in 0..100_000 {
        let batch = store.read_audit(from, 10_000).unwrap();
        assert!(
            batch.len() <= 10_000,
            "read_audit returned more than its limit"
        );
        from += batch.len() as u64;
        if batch.len() < 10_000 {
            return from - 1;
        }
    }
    panic!("read_audit returned full pages past a billion records");
}

/// The last record, by position.
fn last_record(store: &dyn ModelStore) -> Option<audit::AuditRecord> {
    let n = audit_len(store);
    (n > 0)
        .then(|| store.read_audit(n, 1).unwrap().pop())
        .flatten()
}

fn assert_head_is_last(store: &dyn ModelStore, after: &str) {
    let head = store.audit_head().unwrap();
    assert_eq!(
        head,
        last_record(store).as_ref().map(audit::ChainHead::of),
        "after {after}, the store's audit head is not its last record"
    );
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

/// The store declares compare-and-swap, atomic audit, atomic version numbers and idempotent
/// create.
pub fn declares_required_capabilities(store: &dyn ModelStore) {
    let caps = store.capabilities();
    for c in [
        Capability::CompareAndSwap,
        Capability::AtomicAudit,
        Capability::AtomicVersionNumbers,
        Capability::IdempotentCreate,
    ] {
        assert!(
            caps.contains(c),
            "store `{}` does not declare {c:?}",
            store.name()
        );
    }
}

/// A created model reads back equal, at the initial revision; a second create of the same name
/// is `AlreadyExists` and writes no audit record.
pub fn create_and_get_model(store: &dyn ModelStore) {
    let name = fresh("crud");
    let mut agg = ModelAggregate::new(RegisteredModel::new(name.clone(), actor().id, t0()));
    agg.model_mut().description = "a model".to_owned();
    agg.model_mut().tags.insert("team", "risk").unwrap();
    let rev = store.create_model(agg.clone(), vec![]).unwrap();
    assert_eq!(rev, Revision::initial());
    let got = store.get_model(&name).unwrap();
    assert_eq!(got, agg);
    assert_eq!(got.revision(), Revision::initial());
    let before = audit_len(store);
    let again = store.create_model(agg, vec![draft(&name, "registry.model.registered")]);
    assert!(
        matches!(again, Err(RegistryError::AlreadyExists { .. })),
        "second create: {again:?}"
    );
    assert_eq!(audit_len(store), before, "a failed create wrote audit");
}

/// Unknown models and versions are `NotFound`, for reads and writes.
pub fn unknown_is_not_found(store: &dyn ModelStore) {
    let name = fresh("missing");
    assert!(matches!(
        store.get_model(&name),
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        store.get_version(&ModelRef::new(name.clone(), v(1))),
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        store.create_version(NewVersion::new(name.clone(), core(1, "ds", None))),
        Err(RegistryError::NotFound { .. })
    ));
    let agg = ModelAggregate::new(RegisteredModel::new(name.clone(), actor().id, t0()));
    assert!(matches!(
        store.commit(&name, Revision::initial(), agg, vec![]),
        Err(RegistryError::NotFound { .. })
    ));
    register(store, &name);
    assert!(matches!(
        store.get_version(&ModelRef::new(name, v(1))),
        Err(RegistryError::NotFound { .. })
    ));
}

/// Versions are numbered 1, 2, 3…; each reads back with its core, the initial state and
/// annotations; each creation bumps the revision and writes one `registry.version.created`
/// audit record.
pub fn versions_are_numbered_and_read_back(store: &dyn ModelStore) {
    let name = fresh("versions");
    let rev0 = register(store, &name);
    let mut rev = rev0;
    for i in 1..=3_u64 {
        let c = core(i, "ds", None);
        let mut req = NewVersion::new(name.clone(), c.clone())
            .with_initial_state(StateName::new("staging").unwrap());
        req.annotations.description = format!("version {i}");
        req.annotations.tags.insert("i", i.to_string()).unwrap();
        let before = audit_len(store);
        let created = store.create_version(req).unwrap();
        assert_eq!(created.outcome, CreateOutcome::Created);
        assert_eq!(created.version.number(), v(i));
        assert_ne!(
            created.revision, rev,
            "creating a version must bump the revision"
        );
        rev = created.revision;
        let recs = store.read_audit(before + 1, 10).unwrap();
        assert_eq!(recs.len(), 1, "one audit record per created version");
        assert_eq!(recs[0].draft.action, AuditAction::version_created());
        assert_eq!(
            recs[0].draft.subject,
            Subject::Version {
                version: ModelRef::new(name.clone(), v(i))
            }
        );
        let got = store
            .get_version(&ModelRef::new(name.clone(), v(i)))
            .unwrap();
        assert_eq!(got.core(), &c);
        assert_eq!(got.state().as_str(), "staging");
        assert_eq!(got.annotations().description, format!("version {i}"));
        assert_eq!(got, created.version);
    }
    let agg = store.get_model(&name).unwrap();
    assert_eq!(agg.revision(), rev);
    assert_eq!(agg.latest_version(), Some(v(3)));
}

/// Models list in name order; pages of 2 cover every model exactly once; a bad token is
/// `InvalidPageToken`.
pub fn list_models_in_order_with_pagination(store: &dyn ModelStore) {
    let base = fresh("list");
    let names: Vec<ModelName> = ["c", "a", "e", "b", "d"]
        .iter()
        .map(|s| ModelName::new(format!("{base}-{s}")).unwrap())
        .collect();
    for n in &names {
        register(store, n);
    }
    let mut seen = Vec::new();
    let mut token: Option<PageToken> = None;
    loop {
        let page = store
            .list_models(&ModelQuery {
                name_prefix: Some(base.to_string()),
                page_size: 2,
                page_token: token.clone(),
                ..ModelQuery::default()
            })
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|m| m.name().clone()));
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(seen, expected);
    let bad = store.list_models(&ModelQuery {
        page_token: Some(PageToken::from_string("not a token".to_owned())),
        ..ModelQuery::default()
    });
    assert!(matches!(bad, Err(RegistryError::InvalidPageToken { .. })));
}

/// Every search filter selects exactly the versions it should.
pub fn search_filters(store: &dyn ModelStore) {
    let name = fresh("search");
    register(store, &name);
    // v1 on ds-a, v2 on ds-b child of v1, v3 on ds-a child of v2, v4 on ds-b.
    let r = |n| Some(ModelRef::new(name.clone(), v(n)));
    for (seed, ds, parent) in [
        (1, "ds-a", None),
        (2, "ds-b", r(1)),
        (3, "ds-a", r(2)),
        (4, "ds-b", None),
    ] {
        store
            .create_version(NewVersion::new(name.clone(), core(seed, ds, parent)))
            .unwrap();
    }
    let mut agg = store.get_model(&name).unwrap();
    let rev = agg.revision();
    agg.annotations_mut(v(2))
        .unwrap()
        .tags
        .insert("flavour", "gbm")
        .unwrap();
    agg.annotations_mut(v(4))
        .unwrap()
        .tags
        .insert("flavour", "gbm")
        .unwrap();
    agg.annotations_mut(v(3))
        .unwrap()
        .tags
        .insert("flavour", "mlp")
        .unwrap();
    agg.set_alias(AliasName::challenger(), v(3), &actor().id, at(100))
        .unwrap();
    agg.set_state(
        v(4),
        StateName::new("staging").unwrap(),
        &actor().id,
        at(100),
    )
    .unwrap();
    store.commit(&name, rev, agg, vec![]).unwrap();

    let numbers = |filters: Vec<VersionFilter>| -> Vec<u64> {
        let mut q = VersionQuery::new().filter(VersionFilter::Model(name.clone()));
        q.filters.extend(filters);
        store
            .search_versions(&q)
            .unwrap()
            .items
            .iter()
            .map(|mv| mv.number().get())
            .collect()
    };
    assert_eq!(numbers(vec![]), vec![1, 2, 3, 4]);
    assert_eq!(
        numbers(vec![VersionFilter::Tag {
            key: "flavour".into(),
            value: "gbm".into()
        }]),
        vec![2, 4]
    );
    assert_eq!(
        numbers(vec![VersionFilter::Alias(AliasName::challenger())]),
        vec![3]
    );
    assert_eq!(
        numbers(vec![VersionFilter::State(
            StateName::new("staging").unwrap()
        )]),
        vec![4]
    );
    assert_eq!(
        numbers(vec![VersionFilter::State(StateName::development())]),
        vec![1, 2, 3]
    );
    // Core `seed` was created at t0 + seed minutes.
    assert_eq!(
        numbers(vec![VersionFilter::CreatedBetween {
            from: at(2),
            to: at(4)
        }]),
        vec![2, 3]
    );
    assert_eq!(
        numbers(vec![VersionFilter::TrainedOn(Digest::of(b"ds-a"))]),
        vec![1, 3]
    );
    assert_eq!(
        numbers(vec![VersionFilter::DescendantOf(ModelRef::new(
            name.clone(),
            v(1)
        ))]),
        vec![2, 3]
    );
    assert_eq!(
        numbers(vec![
            VersionFilter::TrainedOn(Digest::of(b"ds-b")),
            VersionFilter::Tag {
                key: "flavour".into(),
                value: "gbm".into()
            }
        ]),
        vec![2, 4]
    );
    let prefix = store
        .search_versions(
            &VersionQuery::new().filter(VersionFilter::ModelNamePrefix(name.to_string())),
        )
        .unwrap();
    assert_eq!(prefix.items.len(), 4);
}

/// Paging through versions with a small page size returns each exactly once in (model,
/// number) order, even when versions are added between pages; a bad token is
/// `InvalidPageToken`.
pub fn search_pagination_is_stable(store: &dyn ModelStore) {
    let base = fresh("pages");
    let a = ModelName::new(format!("{base}-a")).unwrap();
    let b = ModelName::new(format!("{base}-b")).unwrap();
    register(store, &a);
    register(store, &b);
    for i in 0..5 {
        add_version(store, &a, 10 + i);
        add_version(store, &b, 20 + i);
    }
    let query = VersionQuery::new()
        .filter(VersionFilter::ModelNamePrefix(base.to_string()))
        .page_size(3);
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = store.search_versions(&query.clone().after(token)).unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(ModelVersion::model_ref));
        pages += 1;
        if pages == 2 {
            // A version added to `a` (already passed) and to `b` (still ahead) between pages.
            add_version(store, &a, 30);
            add_version(store, &b, 31);
        }
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let expected: Vec<ModelRef> = (1..=5)
        .map(|n| ModelRef::new(a.clone(), v(n)))
        .chain((1..=6).map(|n| ModelRef::new(b.clone(), v(n))))
        .collect();
    assert_eq!(seen, expected);
    let bad = store
        .search_versions(&VersionQuery::new().after(Some(PageToken::from_string("zz".to_owned()))));
    assert!(matches!(bad, Err(RegistryError::InvalidPageToken { .. })));
}

use crate::model::ModelVersion;

/// A commit with a stale revision is `Conflict { expected, actual }` and writes nothing, not
/// even its audit records.
pub fn stale_revision_conflicts(store: &dyn ModelStore) {
    let name = fresh("conflict");
    register(store, &name);
    add_version(store, &name, 1);
    add_version(store, &name, 2);
    let stale = store.get_model(&name).unwrap();
    let mut first = stale.clone();
    first
        .set_alias(AliasName::challenger(), v(1), &actor().id, at(1))
        .unwrap();
    let r1 = store
        .commit(
            &name,
            stale.revision(),
            first,
            vec![draft(&name, "test.first")],
        )
        .unwrap();
    let before = audit_len(store);
    let mut second = stale.clone();
    second
        .set_alias(AliasName::challenger(), v(2), &actor().id, at(2))
        .unwrap();
    let res = store.commit(
        &name,
        stale.revision(),
        second,
        vec![draft(&name, "test.second")],
    );
    match res {
        Err(RegistryError::Conflict {
            model,
            expected,
            actual,
        }) => {
            assert_eq!(model, name);
            assert_eq!(expected, stale.revision());
            assert_eq!(actual, r1);
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let now = store.get_model(&name).unwrap();
    assert_eq!(
        now.alias(&AliasName::challenger()),
        Some(v(1)),
        "lost update"
    );
    assert_eq!(now.revision(), r1);
    assert_eq!(
        audit_len(store),
        before,
        "a conflicting commit wrote audit records"
    );
}

/// A commit writes its audit records with consecutive sequence numbers, chained to the log,
/// and the whole log verifies.
pub fn commit_writes_audit_atomically(store: &dyn ModelStore) {
    let name = fresh("audit");
    register(store, &name);
    let before = audit_len(store);
    let mut agg = store.get_model(&name).unwrap();
    let rev = agg.revision();
    agg.model_mut().description = "changed".into();
    let drafts = vec![
        draft(&name, "test.one").with_justification("because"),
        draft(&name, "test.two"),
    ];
    store.commit(&name, rev, agg, drafts.clone()).unwrap();
    let recs = store.read_audit(before + 1, 100).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].seq, before + 1);
    assert_eq!(recs[1].seq, before + 2);
    assert_eq!(recs[0].draft, drafts[0]);
    assert_eq!(recs[1].draft, drafts[1]);
    assert_eq!(recs[1].prev_hash, recs[0].hash);
    let all = store.read_audit(1, usize::MAX).unwrap();
    assert_eq!(all.len() as u64, before + 2);
    audit::verify_chain(&all).unwrap();
    // Reading from a later sequence number starts there.
    let tail = store.read_audit(before + 2, 1).unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].seq, before + 2);
}

/// Audit-only appends (denied transitions) get sequence numbers and chain like the rest.
pub fn append_audit_only(store: &dyn ModelStore) {
    let name = fresh("deny");
    let before = audit_len(store);
    let seqs = store
        .append_audit(vec![
            draft(&name, "lifecycle.transition.denied"),
            draft(&name, "lifecycle.transition.denied"),
        ])
        .unwrap();
    assert_eq!(seqs, vec![before + 1, before + 2]);
    let all = store.read_audit(1, usize::MAX).unwrap();
    audit::verify_chain(&all).unwrap();
    assert_eq!(store.append_audit(vec![]).unwrap(), Vec::<u64>::new());
}

/// The audit head moves with every append (model creation, commit, version creation,
/// audit-only append) to the last record, and a failed write leaves it where it was.
pub fn audit_head_follows_every_append(store: &dyn ModelStore) {
    assert_head_is_last(store, "opening");
    let name = fresh("head");
    let rev = register(store, &name);
    assert_head_is_last(store, "create_model");
    assert!(
        store.audit_head().unwrap().is_some(),
        "a head after a write"
    );
    add_version(store, &name, 7);
    assert_head_is_last(store, "create_version");
    let mut agg = store.get_model(&name).unwrap();
    agg.model_mut().description = "head".into();
    let rev2 = store
        .commit(&name, agg.revision(), agg, vec![draft(&name, "test.head")])
        .unwrap();
    assert_head_is_last(store, "commit");
    store.append_audit(vec![draft(&name, "test.head")]).unwrap();
    assert_head_is_last(store, "append_audit");
    let before = store.audit_head().unwrap();
    // A conflicting commit and an invalid draft move nothing.
    let stale = store.get_model(&name).unwrap();
    assert!(
        store
            .commit(&name, rev, stale, vec![draft(&name, "test.head")])
            .is_err()
    );
    let too_long =
        draft(&name, "test.head").with_justification("x".repeat(audit::MAX_JUSTIFICATION_LEN + 1));
    assert!(store.append_audit(vec![too_long]).is_err());
    assert_eq!(
        store.audit_head().unwrap(),
        before,
        "a failed write moved the head"
    );
    assert_ne!(rev2, rev);
    let head = before.unwrap();
    assert_eq!(head.seq, audit_len(store), "the head is the record count");
}

/// Audit records are read by position: `read_audit(p, n)` returns the records appended
/// `p`-th to `p + n - 1`-th, fewer only at the end of the log, position 0 reads as 1, a limit
/// of 0 reads nothing, and paging with `from += page.len()` visits every record once.
pub fn read_audit_pages_by_position(store: &dyn ModelStore) {
    let name = fresh("pages");
    store
        .append_audit((0..7).map(|_| draft(&name, "test.page")).collect())
        .unwrap();
    let n = audit_len(store);
    assert!(n >= 7);
    let page = store.read_audit(n - 4, 3).unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [n - 4, n - 3, n - 2],
        "positions are append order"
    );
    assert_eq!(
        store.read_audit(n - 1, 10).unwrap().len(),
        2,
        "short only at the end"
    );
    assert!(store.read_audit(n + 1, 10).unwrap().is_empty());
    assert!(store.read_audit(u64::MAX, 10).unwrap().is_empty());
    assert!(store.read_audit(1, 0).unwrap().is_empty());
    assert_eq!(
        store.read_audit(0, 1).unwrap(),
        store.read_audit(1, 1).unwrap()
    );
    let mut from = 1;
    let mut seen = 0;
    for _ in 0..=n / 3 + 1 {
        let page = store.read_audit(from, 3).unwrap();
        for (i, r) in page.iter().enumerate() {
            assert_eq!(
                r.seq,
                from + i as u64,
                "record at position {}",
                from + i as u64
            );
        }
        seen += page.len() as u64;
        from += page.len() as u64;
        if page.len() < 3 {
            break;
        }
    }
    assert_eq!(seen, n);
}

/// Invalid successors (renamed, added versions, alias at a missing version, rewritten
/// history) and invalid audit drafts are rejected and write nothing.
pub fn invalid_commits_write_nothing(store: &dyn ModelStore) {
    let name = fresh("invalid");
    register(store, &name);
    add_version(store, &name, 1);
    let mut base = store.get_model(&name).unwrap();
    let rev0 = base.revision();
    base.set_alias(AliasName::challenger(), v(1), &actor().id, at(1))
        .unwrap();
    let rev = store.commit(&name, rev0, base.clone(), vec![]).unwrap();
    let base = store.get_model(&name).unwrap();
    let before = audit_len(store);

    // A successor with an extra version.
    let mut extra = base.clone();
    extra
        .insert_version(v(2), StateName::development())
        .unwrap();
    assert!(matches!(
        store.commit(&name, rev, extra, vec![draft(&name, "test.bad")]),
        Err(RegistryError::InvalidCommit { .. })
    ));
    // A successor of another model.
    let other = fresh("other");
    let renamed = ModelAggregate::new(RegisteredModel::new(other, actor().id, t0()));
    assert!(matches!(
        store.commit(&name, rev, renamed, vec![]),
        Err(RegistryError::InvalidCommit { .. })
    ));
    // History rewritten: an aggregate from before the alias move, at the current revision.
    let valid_successor = {
        let mut a = base.clone();
        a.remove_alias(&AliasName::challenger(), &actor().id, at(2))
            .unwrap();
        a
    };
    let mut rewritten = ModelAggregate::new(base.model().clone());
    rewritten
        .insert_version(v(1), StateName::development())
        .unwrap();
    assert!(matches!(
        store.commit(&name, rev, rewritten, vec![]),
        Err(RegistryError::InvalidCommit { .. })
    ));
    // A bad audit draft.
    let too_long = "x".repeat(audit::MAX_JUSTIFICATION_LEN + 1);
    assert!(matches!(
        store.commit(
            &name,
            rev,
            valid_successor,
            vec![draft(&name, "test.bad").with_justification(too_long)]
        ),
        Err(RegistryError::InvalidInput { .. })
    ));
    assert_eq!(
        store.get_model(&name).unwrap(),
        base,
        "a rejected commit changed the model"
    );
    assert_eq!(audit_len(store), before, "a rejected commit wrote audit");
}

/// Alias moves are atomic with their history: `alias_at` answers "which version held
/// `champion` at time T", and the previous target is available for rollback.
pub fn alias_moves_keep_history(store: &dyn ModelStore) {
    let name = fresh("alias");
    register(store, &name);
    for i in 1..=3 {
        add_version(store, &name, i);
    }
    let champion = AliasName::challenger();
    for (minute, target) in [(10, 1), (20, 2), (30, 3)] {
        let mut agg = store.get_model(&name).unwrap();
        let rev = agg.revision();
        agg.set_alias(champion.clone(), v(target), &actor().id, at(minute))
            .unwrap();
        store.commit(&name, rev, agg, vec![]).unwrap();
    }
    let agg = store.get_model(&name).unwrap();
    assert_eq!(agg.alias(&champion), Some(v(3)));
    assert_eq!(agg.alias_at(&champion, at(5)), None);
    assert_eq!(agg.alias_at(&champion, at(10)), Some(v(1)));
    assert_eq!(agg.alias_at(&champion, at(25)), Some(v(2)));
    assert_eq!(agg.alias_at(&champion, at(99)), Some(v(3)));
    assert_eq!(agg.previous_alias_target(&champion), Some(v(2)));
    assert_eq!(agg.alias_history().len(), 3);
    // An alias cannot point at a missing version.
    let mut bad = agg.clone();
    assert!(matches!(
        bad.set_alias(champion.clone(), v(9), &actor().id, at(40)),
        Err(RegistryError::NotFound { .. })
    ));
    assert_eq!(bad, agg);
}

/// A version's core never changes: commits that change annotations and state leave it
/// byte-for-byte equal, and the core cannot be replaced through any store method.
pub fn version_core_is_immutable(store: &dyn ModelStore) {
    let name = fresh("immutable");
    register(store, &name);
    let c = core(7, "ds", None);
    store
        .create_version(NewVersion::new(name.clone(), c.clone()))
        .unwrap();
    let r = ModelRef::new(name.clone(), v(1));
    let before = store.get_version(&r).unwrap();
    let mut agg = store.get_model(&name).unwrap();
    let rev = agg.revision();
    agg.annotations_mut(v(1)).unwrap().description = "annotated".into();
    agg.set_state(
        v(1),
        StateName::new("validation").unwrap(),
        &actor().id,
        at(1),
    )
    .unwrap();
    store.commit(&name, rev, agg, vec![]).unwrap();
    let after = store.get_version(&r).unwrap();
    assert_eq!(after.core(), before.core());
    assert_eq!(after.core(), &c);
    assert_eq!(after.annotations().description, "annotated");
    assert_eq!(after.state().as_str(), "validation");
    assert_eq!(
        serde_json::to_string(after.core()).unwrap(),
        serde_json::to_string(&c).unwrap()
    );
}

/// A create retried with the same idempotency key returns the original version and writes
/// nothing; the same key with different content is `IdempotencyMismatch`.
pub fn idempotent_create(store: &dyn ModelStore) {
    let name = fresh("idem");
    register(store, &name);
    let key = IdempotencyKey::new("run-42").unwrap();
    let req = NewVersion::new(name.clone(), core(42, "ds", None)).with_idempotency_key(key.clone());
    let first = store.create_version(req.clone()).unwrap();
    assert_eq!(first.outcome, CreateOutcome::Created);
    let before = audit_len(store);
    let rev = store.get_model(&name).unwrap().revision();
    let retry = store.create_version(req).unwrap();
    assert_eq!(retry.outcome, CreateOutcome::Replayed);
    assert_eq!(retry.version.number(), first.version.number());
    assert_eq!(retry.version.core(), first.version.core());
    assert_eq!(audit_len(store), before, "a replayed create wrote audit");
    assert_eq!(store.get_model(&name).unwrap().revision(), rev);
    let different = NewVersion::new(name.clone(), core(43, "ds", None)).with_idempotency_key(key);
    assert!(matches!(
        store.create_version(different),
        Err(RegistryError::IdempotencyMismatch { version, .. }) if version == first.version.number()
    ));
    // Without a key, a second identical create is a new version.
    let plain = store
        .create_version(NewVersion::new(name.clone(), core(42, "ds", None)))
        .unwrap();
    assert_eq!(plain.version.number(), v(2));
}

/// 8 threads creating 500 versions each on one model get 4 000 distinct numbers, 1 to 4 000.
pub fn concurrent_version_creation(store: &dyn ModelStore) {
    concurrent_version_creation_sized(store, 8, 500);
}

/// [`concurrent_version_creation`] with a chosen size.
pub fn concurrent_version_creation_sized(store: &dyn ModelStore, threads: u64, per_thread: u64) {
    let name = fresh("race-create");
    register(store, &name);
    let barrier = Barrier::new(usize::try_from(threads).unwrap());
    let numbers: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (name, barrier) = (&name, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    (0..per_thread)
                        .map(|i| {
                            store
                                .create_version(NewVersion::new(
                                    name.clone(),
                                    core(t * 100_000 + i, "ds", None),
                                ))
                                .unwrap()
                                .version
                                .number()
                                .get()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: BTreeSet<u64> = numbers.iter().flatten().copied().collect();
    let total = threads * per_thread;
    assert_eq!(all.len() as u64, total, "version numbers were reused");
    assert_eq!(all.first(), Some(&1));
    assert_eq!(all.last(), Some(&total));
    for per in &numbers {
        assert!(
            per.windows(2).all(|w| w[0] < w[1]),
            "numbers went backwards in one thread"
        );
    }
    assert_eq!(
        store.get_model(&name).unwrap().versions().len() as u64,
        total
    );
}

/// 8 threads read the same revision and race to move one alias: exactly one succeeds, 7 get
/// `Conflict`; then 8 threads move it repeatedly with retries: every revision has exactly one
/// successful commit and the history holds every successful move (no lost update).
pub fn concurrent_alias_race(store: &dyn ModelStore) {
    const THREADS: u64 = 8;
    let name = fresh("race-alias");
    register(store, &name);
    for i in 1..=THREADS {
        add_version(store, &name, i);
    }
    let champion = AliasName::challenger();
    let start = store.get_model(&name).unwrap();
    let barrier = Barrier::new(THREADS as usize);
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=THREADS)
            .map(|t| {
                let (start, barrier, champion, name) = (&start, &barrier, &champion, &name);
                s.spawn(move || {
                    let mut mine = start.clone();
                    mine.set_alias(champion.clone(), v(t), &actor().id, at(t as i64))
                        .unwrap();
                    barrier.wait();
                    match store.commit(name, start.revision(), mine, vec![]) {
                        Ok(_) => true,
                        Err(RegistryError::Conflict { expected, .. }) => {
                            assert_eq!(expected, start.revision());
                            false
                        }
                        Err(e) => panic!("unexpected error {e:?}"),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|&&ok| ok).count(),
        1,
        "exactly one winner"
    );
    let after = store.get_model(&name).unwrap();
    assert_eq!(after.alias_history().len(), 1);

    // Retrying movers.
    const MOVES: u64 = 20;
    let won: Vec<Vec<Revision>> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=THREADS)
            .map(|t| {
                let (champion, name) = (&champion, &name);
                s.spawn(move || {
                    let mut won = Vec::new();
                    let mut moves = 0;
                    while moves < MOVES {
                        let mut agg = store.get_model(name).unwrap();
                        let rev = agg.revision();
                        let target = if agg.alias(champion) == Some(v(t)) {
                            (t % THREADS) + 1
                        } else {
                            t
                        };
                        agg.set_alias(champion.clone(), v(target), &actor().id, at(100))
                            .unwrap();
                        match store.commit(name, rev, agg, vec![]) {
                            Ok(_) => {
                                won.push(rev);
                                moves += 1;
                            }
                            Err(RegistryError::Conflict { .. }) => {}
                            Err(e) => panic!("unexpected error {e:?}"),
                        }
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<Revision> = won.into_iter().flatten().collect();
    let distinct: BTreeSet<Revision> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        distinct.len(),
        "two commits succeeded from the same revision"
    );
    let end = store.get_model(&name).unwrap();
    assert_eq!(
        end.alias_history().len() as u64,
        1 + THREADS * MOVES,
        "an alias move was lost"
    );
}

/// Without governance's seal, the store refuses every protected change (a version into or out
/// of a protected state, a protected alias moved, protection dropped, the risk tier changed, the
/// approval records edited, a version created in a protected state, a model created at another
/// tier) and `governance.` audit records in a commit or an append; each refusal writes nothing.
/// The store runs [`ModelAggregate::check_new`], [`ModelAggregate::check_successor_of`] and
/// [`audit::seal`] (or the same checks).
pub fn protected_changes_need_the_seal(store: &dyn ModelStore) {
    use crate::governed::ProtectedChange;
    use crate::model::Protection;
    let name = fresh("protected");
    register(store, &name);
    add_version(store, &name, 1);
    let base = store.get_model(&name).unwrap();
    let by = actor().id;
    let before = audit_len(store);
    let refused = |agg: ModelAggregate, what: &str| {
        let err = store
            .commit(&name, base.revision(), agg, vec![])
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::Protected { .. }),
            "{what}: expected Protected, got {err:?}"
        );
    };
    let mut a = base.clone();
    a.set_state(v(1), StateName::new("production").unwrap(), &by, at(1))
        .unwrap();
    refused(a, "entering production");
    let mut a = base.clone();
    a.set_alias(AliasName::champion(), v(1), &by, at(1))
        .unwrap();
    refused(a, "moving champion");
    let mut a = base.clone();
    a.set_protected(AliasName::champion(), Protection::Unprotected);
    refused(a, "unprotecting champion");
    let mut a = base.clone();
    a.model_mut().risk_tier = mlops_core::RiskTier::Low;
    refused(a, "downgrading the tier");
    let mut a = base.clone();
    a.governance_records_mut().approvals_opened += 1;
    refused(a, "editing approval records");
    let err = store
        .create_version(
            NewVersion::new(name.clone(), core(2, "ds", None))
                .with_initial_state(StateName::new("production").unwrap()),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Protected {
                change: ProtectedChange::InitialState { .. },
                ..
            }
        ),
        "created in production: {err:?}"
    );
    let mut critical = RegisteredModel::new(fresh("protected-tier"), by.clone(), t0());
    critical.risk_tier = mlops_core::RiskTier::Low;
    assert!(matches!(
        store.create_model(ModelAggregate::new(critical), vec![]),
        Err(RegistryError::Protected { .. })
    ));
    let forged = draft(&name, "governance.approval.approved");
    assert!(matches!(
        store.append_audit(vec![forged.clone()]),
        Err(RegistryError::ReservedAction { .. })
    ));
    assert!(matches!(
        store.commit(&name, base.revision(), base.clone(), vec![forged]),
        Err(RegistryError::ReservedAction { .. })
    ));
    assert_eq!(audit_len(store), before, "a refusal writes nothing");
    let now = store.get_model(&name).unwrap();
    assert_eq!(now.revision(), base.revision(), "a refusal writes nothing");
    assert!(
        !now.is_sealed(),
        "a store never hands out a sealed aggregate"
    );
}

/// A store declaring [`Capability::ChangeFeed`] reports every commit to a subscriber (model and
/// revision, in order per model, possibly coalesced); a store without it refuses `subscribe`
/// with `MissingCapability`.
pub fn change_feed_reports_commits(store: &dyn ModelStore) {
    use std::time::{Duration, Instant};

    use crate::store::{ChangeEvent, ChangeFeed as _};

    if !store.capabilities().contains(Capability::ChangeFeed) {
        assert!(
            matches!(
                store.subscribe(),
                Err(RegistryError::MissingCapability {
                    capability: Capability::ChangeFeed,
                    ..
                })
            ),
            "store `{}` declares no change feed but does not refuse `subscribe`",
            store.name()
        );
        return;
    }
    let mut feed = store.subscribe().unwrap();
    let name = fresh("feed");
    register(store, &name);
    let v1 = add_version(store, &name, 1);
    let mut agg = store.get_model(&name).unwrap();
    agg.set_alias(AliasName::challenger(), v1, &actor().id, at(1))
        .unwrap();
    let last = store
        .commit(
            &name,
            agg.revision(),
            agg,
            vec![draft(&name, "registry.alias.moved")],
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Revision::initial();
    let mut first = true;
    while seen < last {
        assert!(
            Instant::now() < deadline,
            "store `{}`: the feed did not report revision {last} of `{name}` within 10 s (saw {seen})",
            store.name()
        );
        match feed.next(Duration::from_millis(200)).unwrap() {
            Some(ChangeEvent::Changed(c)) if c.model == name => {
                assert!(
                    first || c.revision >= seen,
                    "the feed went back from revision {seen} to {}",
                    c.revision
                );
                assert!(
                    c.revision <= last,
                    "the feed reported a revision never committed"
                );
                seen = c.revision;
                first = false;
            }
            Some(ChangeEvent::Lagged) => {
                seen = seen.max(store.get_model(&name).unwrap().revision());
            }
            Some(_) | None => {}
        }
    }
    assert_eq!(seen, last);
}

/// Runs every behaviour above against `store`, with the full-size concurrency tests (8 threads
/// × 500 version creations).
pub fn run_all(store: &dyn ModelStore) {
    run_all_sized(store, 8, 500);
}

/// Runs every behaviour above, with `threads` × `per_thread` concurrent version creations (for
/// slow stores, such as a SQLite file syncing every commit to disk, in debug builds).
pub fn run_all_sized(store: &dyn ModelStore, threads: u64, per_thread: u64) {
    declares_required_capabilities(store);
    create_and_get_model(store);
    unknown_is_not_found(store);
    versions_are_numbered_and_read_back(store);
    list_models_in_order_with_pagination(store);
    search_filters(store);
    search_pagination_is_stable(store);
    stale_revision_conflicts(store);
    commit_writes_audit_atomically(store);
    append_audit_only(store);
    audit_head_follows_every_append(store);
    read_audit_pages_by_position(store);
    invalid_commits_write_nothing(store);
    alias_moves_keep_history(store);
    version_core_is_immutable(store);
    idempotent_create(store);
    concurrent_version_creation_sized(store, threads, per_thread);
    concurrent_alias_race(store);
    protected_changes_need_the_seal(store);
    change_feed_reports_commits(store);
}
