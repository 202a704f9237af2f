//! `PostgresStore` against a real server (see `tests/support/postgres.rs` for how the server
//! is found): the conformance kit, migrations, the change feed, async callers, and replicas in
//! several processes (the test binary re-runs itself as child processes).
#![cfg(all(feature = "postgres", feature = "testkit"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/split.rs"]
mod split;
#[path = "support/postgres.rs"]
mod support;

use std::sync::Arc;

use mlops_registry::RegistryError;
use mlops_registry::store::{ModelStore, PostgresStore};
use mlops_registry::testkit;

#[test]
fn postgres_passes_the_kit() {
    let Some(url) = support::url() else { return };
    let store = support::store(&url, &support::fresh_schema("kit"));
    testkit::run_all(&store);
}

#[test]
fn postgres_through_arc_dyn_and_two_replicas_on_one_schema() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("two");
    let a: Arc<dyn ModelStore> = Arc::new(support::store(&url, &schema));
    let b = support::store(&url, &schema);
    testkit::stale_revision_conflicts(&a);
    testkit::change_feed_reports_commits(&a);
    // A commit through `a` is seen through `b` (the cache never hides another replica's
    // commit), and `b` cannot commit from a revision `a` moved past.
    testkit::concurrent_alias_race(&split::Split([&*a, &b]));
    testkit::concurrent_version_creation_sized(&split::Split([&*a, &b]), 4, 50);
}

#[test]
fn migrations_are_numbered_and_refuse_newer_or_foreign_schemas() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("mig");
    drop(support::store(&url, &schema));
    // Reopening is a no-op; several replicas starting at once migrate once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| drop(support::store(&url, &schema)));
        }
    });
    let mut raw = support::raw(&url);
    let v: i64 = raw
        .query_one(
            &format!("SELECT schema_version FROM \"{schema}\".registry_meta"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(v, mlops_registry::store::postgres::SCHEMA_VERSION);
    raw.batch_execute(&format!(
        "UPDATE \"{schema}\".registry_meta SET schema_version = 99"
    ))
    .unwrap();
    let err = PostgresStore::builder(url.parse().unwrap())
        .schema(&schema)
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );

    let foreign = support::fresh_schema("foreign");
    raw.batch_execute(&format!(
        "CREATE SCHEMA \"{foreign}\"; CREATE TABLE \"{foreign}\".payroll (id int)"
    ))
    .unwrap();
    let err = PostgresStore::builder(url.parse().unwrap())
        .schema(&foreign)
        .connect()
        .unwrap_err();
    assert!(matches!(err, RegistryError::Corrupt { .. }), "{err:?}");

    for bad in ["", "Upper", "pg_catalog", "a;drop", &"x".repeat(49)] {
        let err = PostgresStore::builder(url.parse().unwrap())
            .schema(bad)
            .connect()
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidInput { .. }),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn the_audit_log_and_version_cores_are_append_only_in_the_database() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("ro");
    let store = support::store(&url, &schema);
    testkit::versions_are_numbered_and_read_back(&store);
    let mut raw = support::raw(&url);
    for sql in [
        "UPDATE audit SET record = record",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "UPDATE versions SET core = core",
        "DELETE FROM versions",
    ] {
        let err = raw
            .batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}"))
            .unwrap_err();
        let msg = err
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default();
        assert!(
            msg.contains("append-only")
                || msg.contains("immutable")
                || msg.contains("never deleted"),
            "{sql}: {err:?}"
        );
    }
    // The chain head row names the last record.
    let head: (i64, String) = {
        let r = raw
            .query_one(
                &format!("SELECT seq, hash FROM \"{schema}\".audit_head"),
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    let last = store.read_audit(1, 100_000).unwrap();
    let last = last.last().unwrap();
    assert_eq!(head, (last.seq as i64, last.hash.to_string()));
}

#[test]
fn unreachable_server_is_a_typed_error_not_a_panic() {
    let Some(_) = support::url() else { return };
    let err = PostgresStore::builder("host=127.0.0.1 port=1 user=nobody".parse().unwrap())
        .connection_timeout(std::time::Duration::from_millis(300))
        .connect()
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unavailable { .. }), "{err:?}");
}

#[test]
fn async_callers_never_panic() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("async");
    for flavor in ["current", "multi"] {
        let rt = match flavor {
            "current" => tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            _ => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        };
        let (url, schema) = (url.clone(), schema.clone());
        rt.block_on(async move {
            // Straight from async code (blocks the executor thread, but never panics) ...
            let store = Arc::new(support::store(&url, &schema));
            testkit::create_and_get_model(&*store);
            // ... and the recommended way, through spawn_blocking.
            let s = Arc::clone(&store);
            tokio::task::spawn_blocking(move || testkit::stale_revision_conflicts(&*s))
                .await
                .unwrap();
            let s = Arc::clone(&store);
            tokio::spawn(async move { testkit::append_audit_only(&*s) })
                .await
                .unwrap();
        });
    }
}

// ---------------------------------------------------------------------------------------
// Replicas in several processes. The parent re-runs this binary as children executing
// `child_replica` (ignored, so it never runs on its own) with a role in `MLOPS_PG_ROLE`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mlops_core::{ModelName, VersionNumber};

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_default()
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

fn unix_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
#[ignore = "a child process of the multi-process tests"]
fn child_replica() {
    use std::io::Write;
    let url = env("MLOPS_TEST_POSTGRES_URL");
    let store = support::store(&url, &env("MLOPS_PG_SCHEMA"));
    let name: ModelName = env("MLOPS_PG_MODEL").parse().unwrap();
    let mut out = std::io::stdout().lock();
    // libtest has printed `test child_replica ... ` without a line break.
    writeln!(out).unwrap();
    match env("MLOPS_PG_ROLE").as_str() {
        "create" => {
            let per: u64 = env("MLOPS_PG_COUNT").parse().unwrap();
            let numbers: Vec<u64> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..2)
                    .map(|t| {
                        let (store, name) = (&store, &name);
                        s.spawn(move || {
                            (0..per / 2)
                                .map(|i| {
                                    store
                                        .create_version(mlops_registry::store::NewVersion::new(
                                            name.clone(),
                                            support::core(t * 1_000_000 + i),
                                        ))
                                        .unwrap()
                                        .version
                                        .number()
                                        .get()
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
            });
            for n in numbers {
                writeln!(out, "N {n}").unwrap();
            }
        }
        "alias" => {
            let me: u64 = env("MLOPS_PG_ME").parse().unwrap();
            let mut wins = 0;
            while wins < 25 {
                if let Some((read, _, moved)) =
                    support::move_champion(&store, &name, v(me), vec![]).unwrap()
                {
                    writeln!(out, "WIN {read} {}", u8::from(moved)).unwrap();
                    wins += 1;
                    // Give the others a chance to move it back.
                    std::thread::sleep(Duration::from_millis(1));
                }
                let target = if me == 1 { 2 } else { 1 };
                let _ = support::move_champion(&store, &name, v(target), vec![])
                    .unwrap()
                    .map(|(read, _, moved)| {
                        writeln!(out, "WIN {read} {}", u8::from(moved)).unwrap()
                    });
            }
        }
        "writer" => {
            // Commits forever, acknowledging each commit once `commit` has returned; the
            // parent kills it with SIGKILL at an arbitrary point.
            for n in 0.. {
                let target = v(n % 2 + 1);
                if support::move_champion(&store, &name, target, vec![support::marker(&name, n)])
                    .unwrap()
                    .is_some()
                {
                    writeln!(out, "ACK {n}").unwrap();
                    out.flush().unwrap();
                }
            }
        }
        "router" => {
            use mlops_registry::routing::{AliasRoutes, RouteWatcher, Router};
            let store: Arc<dyn ModelStore> = Arc::new(store);
            let last: u64 = env("MLOPS_PG_LAST").parse().unwrap();
            let router = Arc::new(Router::new(
                AliasRoutes::load(&*store, &name)
                    .unwrap()
                    .builder()
                    .unwrap()
                    .build()
                    .unwrap(),
            ));
            let _watcher =
                RouteWatcher::builder(Arc::clone(&store), name.clone(), Arc::clone(&router))
                    .spawn()
                    .unwrap();
            writeln!(out, "READY {}", router.revision().get()).unwrap();
            out.flush().unwrap();
            // Route as a service would; report the first decision on every new table.
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut prev = router.route(b"unit");
            loop {
                let d = router.route(b"unit");
                if d.revision != prev.revision {
                    assert!(d.revision > prev.revision, "went back to an older table");
                    writeln!(
                        out,
                        "SAW {} {} {}",
                        d.revision.get(),
                        d.version.get(),
                        unix_nanos()
                    )
                    .unwrap();
                    out.flush().unwrap();
                    prev = d;
                    if d.version.get() == last {
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "never saw version {last}");
                // A busy service, not a spinning core (the machine has two).
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        other => panic!("unknown role `{other}`"),
    }
}

fn child_env(url: &str, schema: &str, name: &ModelName, role: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MLOPS_TEST_POSTGRES_URL", url.to_owned()),
        ("MLOPS_PG_SCHEMA", schema.to_owned()),
        ("MLOPS_PG_MODEL", name.to_string()),
        ("MLOPS_PG_ROLE", role.to_owned()),
    ]
}

#[test]
fn eight_processes_creating_500_versions_each_get_4000_distinct_numbers() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("procs");
    let store = support::store(&url, &schema);
    let name: ModelName = "shared".parse().unwrap();
    support::register(&store, &name);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut e = child_env(&url, &schema, &name, "create");
            e.push(("MLOPS_PG_COUNT", "500".to_owned()));
            support::spawn_child("child_replica", &e)
        })
        .collect();
    let mut all = Vec::new();
    for mut c in children {
        all.extend(
            support::tagged_lines(c.stdout.take().unwrap(), "N").map(|n| n.parse::<u64>().unwrap()),
        );
        assert!(c.wait().unwrap().success());
    }
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), 4000);
    assert_eq!(
        distinct,
        (1..=4000).collect::<BTreeSet<_>>(),
        "reused or skipped numbers"
    );
    assert_eq!(store.get_model(&name).unwrap().versions().len(), 4000);
    let audit = support::verified_audit(&store);
    assert_eq!(audit.len(), 4000, "one audit record per version");
}

#[test]
fn processes_racing_on_one_alias_have_exactly_one_winner_per_revision() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("race");
    let store = support::store(&url, &schema);
    let name: ModelName = "raced".parse().unwrap();
    support::register(&store, &name);
    support::add_versions(&store, &name, 4);
    let start = store.get_model(&name).unwrap().revision().as_u64();
    let children: Vec<_> = (1..=4)
        .map(|me| {
            let mut e = child_env(&url, &schema, &name, "alias");
            e.push(("MLOPS_PG_ME", me.to_string()));
            support::spawn_child("child_replica", &e)
        })
        .collect();
    let (mut wins, mut moves) = (Vec::new(), 0);
    for mut c in children {
        for l in support::tagged_lines(c.stdout.take().unwrap(), "WIN") {
            let (read, moved) = l.split_once(' ').unwrap();
            wins.push(read.parse::<u64>().unwrap());
            moves += usize::from(moved == "1");
        }
        assert!(c.wait().unwrap().success());
    }
    let end = store.get_model(&name).unwrap();
    let distinct: BTreeSet<u64> = wins.iter().copied().collect();
    assert_eq!(distinct.len(), wins.len(), "two winners from one revision");
    // Every revision between the start and the end was won by exactly one commit.
    assert_eq!(
        distinct,
        (start..end.revision().as_u64()).collect::<BTreeSet<_>>()
    );
    assert_eq!(end.alias_history().len(), moves, "a move was lost");
}

#[test]
fn a_writer_killed_mid_transaction_loses_no_acknowledged_commit() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("kill");
    let store = support::store(&url, &schema);
    let name: ModelName = "killed".parse().unwrap();
    support::register(&store, &name);
    support::add_versions(&store, &name, 2);
    for round in 0..3 {
        let mut child =
            support::spawn_child("child_replica", &child_env(&url, &schema, &name, "writer"));
        let mut acked = Vec::new();
        let mut lines = support::tagged_lines(child.stdout.take().unwrap(), "ACK");
        for l in lines.by_ref() {
            acked.push(l.parse::<u64>().unwrap());
            if acked.len() >= 40 + round * 17 {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines already written before the kill are acknowledged commits too.
        acked.extend(lines.map(|l| l.parse::<u64>().unwrap()));
        let audit = support::verified_audit(&store);
        let present = support::markers(&audit);
        let lost: Vec<_> = acked.iter().filter(|n| !present.contains(n)).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged commits lost: {lost:?}"
        );
        // The killed transaction holds no lock: the model still commits.
        support::move_champion(&store, &name, v(1), vec![]).unwrap();
    }
}

#[test]
fn routers_in_two_processes_follow_the_champion_without_torn_decisions() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("route");
    let store = support::store(&url, &schema);
    let name: ModelName = "routed".parse().unwrap();
    support::register(&store, &name);
    const MOVES: u64 = 40;
    support::add_versions(&store, &name, MOVES + 1);
    support::move_champion(&store, &name, v(1), vec![]).unwrap();
    let routers: Vec<_> = (0..2)
        .map(|_| {
            let mut e = child_env(&url, &schema, &name, "router");
            e.push(("MLOPS_PG_LAST", (MOVES + 1).to_string()));
            support::spawn_child("child_replica", &e)
        })
        .collect();
    let mut outputs = Vec::new();
    for mut r in routers {
        let stdout = r.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in
                std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = rx
            .iter()
            .find(|l| l.starts_with("READY "))
            .expect("the router child did not start");
        assert!(ready.starts_with("READY "), "{ready}");
        outputs.push((r, rx));
    }
    // Replica A moves the champion; remember which version each revision names and when
    // the commit started.
    let mut moved = BTreeMap::new();
    for target in 2..=MOVES + 1 {
        let t = unix_nanos();
        let (_, rev, _) = support::move_champion(&store, &name, v(target), vec![])
            .unwrap()
            .unwrap();
        moved.insert(rev, (target, t));
        std::thread::sleep(Duration::from_millis(25));
    }
    let mut latencies = Vec::new();
    for (mut r, rx) in outputs {
        assert!(r.wait().unwrap().success(), "a router failed");
        let mut saw_last = false;
        for line in rx
            .try_iter()
            .filter_map(|l| l.strip_prefix("SAW ").map(str::to_owned))
        {
            let f: Vec<u128> = line.split(' ').map(|x| x.parse().unwrap()).collect();
            let (rev, version, at) = (f[0] as u64, f[1] as u64, f[2]);
            let (want, t0) = moved[&rev];
            assert_eq!(
                version, want,
                "revision {rev} routed to the wrong version: torn table"
            );
            latencies.push(at.saturating_sub(t0) as f64 / 1e6);
            saw_last |= version == MOVES + 1;
        }
        assert!(saw_last, "a router never reached the last champion");
    }
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "commit in A -> first decision on the new table in B: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        latencies.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    assert!(
        latencies.len() as u64 >= MOVES,
        "routers missed most tables"
    );
}
