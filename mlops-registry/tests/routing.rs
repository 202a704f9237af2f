//! Integration tests of the router: table validation, layout and ramp properties, precedence,
//! kill switch, hot swap under real threads, exposure counters, SRM and shadows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Direction, ManualClock, ModelRef, Outcome, Subject, VersionNumber};
use mlops_registry::routing::{
    ArmExposure, ArmRole, BUCKETS, Bucket, Condition, ConfigRevision, ExposureSnapshot, Prediction,
    Ramp, Reason, Request, RouteTable, RouteTableBuilder, Router, RoutingError, SegmentRule,
    ShadowConfig, ShadowError, ShadowModel, ShadowRunner, Submitted,
};
use proptest::prelude::*;

fn r(s: &str) -> ModelRef {
    s.parse().unwrap()
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("unit-{i:08}")).collect()
}

/// Arm of every bucket, by the hash layout.
fn layout(t: &RouteTable) -> Vec<u8> {
    (0..BUCKETS)
        .map(|b| t.arm_of_bucket(Bucket::of_hash(first_hash_of(b))))
        .collect()
}

/// The smallest hash value that falls in bucket `b`.
fn first_hash_of(b: u16) -> u64 {
    u64::try_from((u128::from(b) << 64).div_ceil(10_000)).unwrap()
}

// ---------------------------------------------------------------- validation

#[test]
fn bad_tables_are_typed_errors_at_build_time() {
    let b = || RouteTable::builder(r("m@v1"));
    let err = |b: RouteTableBuilder| b.build().unwrap_err();

    assert!(matches!(
        err(b().challenger(r("m@v2"), -1.0)),
        RoutingError::InvalidWeight { weight, .. } if weight == -1.0
    ));
    assert!(matches!(
        err(b().challenger(r("m@v2"), f64::NAN)),
        RoutingError::InvalidWeight { .. }
    ));
    assert!(matches!(
        err(b().challenger(r("m@v2"), f64::INFINITY)),
        RoutingError::InvalidWeight { .. }
    ));
    assert!(matches!(
        err(b().champion_weight(50.0).challenger(r("m@v2"), 40.0)),
        RoutingError::WeightsDoNotSum { sum, total } if sum == 90.0 && total == 100.0
    ));
    assert!(matches!(
        err(b().challenger(r("m@v2"), 60.0).challenger(r("m@v3"), 50.0)),
        RoutingError::WeightsDoNotSum { sum, .. } if sum == 110.0
    ));
    assert!(matches!(
        err(b().weights_total(0.0)),
        RoutingError::InvalidTotal { .. }
    ));
    assert_eq!(
        err(b().challenger(r("m@v2"), 5.0).challenger(r("m@v2"), 5.0)),
        RoutingError::DuplicateArm { arm: r("m@v2") }
    );
    assert_eq!(
        err(b().challenger(r("m@v2"), 5.0).shadow(r("m@v2"), 10.0)),
        RoutingError::DuplicateArm { arm: r("m@v2") }
    );
    assert_eq!(
        err(b().challenger(r("m@v1"), 5.0)),
        RoutingError::ChallengerIsChampion { arm: r("m@v1") }
    );
    assert!(matches!(
        err(b().challenger(r("other@v2"), 5.0)),
        RoutingError::ModelMismatch { .. }
    ));
    assert!(matches!(
        err(b().challenger_with_lane(r("m@v2"), 20.0, 10.0)),
        RoutingError::LaneTooSmall { .. }
    ));
    assert!(matches!(
        err(b()
            .ramped_challenger(r("m@v2"), Ramp::standard(), 0)
            .challenger(r("m@v3"), 5.0)),
        RoutingError::LanesExceedBuckets { needed: 10_500 }
    ));
    assert!(matches!(
        err(b().ramped_challenger(r("m@v2"), Ramp::standard(), 9)),
        RoutingError::RampStepOutOfRange { step: 9, len: 6 }
    ));
    assert_eq!(
        err(b().override_unit("u", v(7))),
        RoutingError::UnknownArm { version: v(7) }
    );
    assert_eq!(
        err(b().segment(SegmentRule::new("s", v(7)).when_equals("a", "b"))),
        RoutingError::UnknownArm { version: v(7) }
    );
    assert!(matches!(
        err(b().segment(SegmentRule::new("all", v(1)))),
        RoutingError::EmptySegment { .. }
    ));
    assert!(matches!(
        err(b().override_unit("u", v(1)).override_unit("u", v(1))),
        RoutingError::DuplicateOverride { .. }
    ));
    assert!(matches!(
        err(b().shadow(r("m@v9"), 120.0)),
        RoutingError::InvalidWeight { .. }
    ));
    let mut many = b();
    for i in 2..=17 {
        many = many.challenger(r(&format!("m@v{i}")), 1.0);
    }
    assert!(matches!(
        err(many),
        RoutingError::TooManyArms {
            what: "challengers",
            count: 16,
            max: 15
        }
    ));
    // Ramps that decrease cannot even be made.
    assert!(matches!(
        Ramp::new([1.0, 10.0, 5.0]),
        Err(RoutingError::RampDecreases { step: 2, .. })
    ));
    // An explicit champion weight summing exactly is fine, and a non-percent total works.
    let t = b()
        .weights_total(1.0)
        .champion_weight(0.7)
        .challenger(r("m@v2"), 0.2)
        .challenger(r("m@v3"), 0.1)
        .build()
        .unwrap();
    let buckets: Vec<u16> = t.arms().iter().map(|a| a.buckets).collect();
    assert_eq!(buckets, [7_000, 2_000, 1_000]);
}

#[test]
fn layout_serves_exactly_the_weights_from_the_top_down() {
    let t = RouteTable::builder(r("m@v1"))
        .challenger(r("m@v2"), 10.0)
        .challenger_with_lane(r("m@v3"), 5.0, 20.0)
        .challenger(r("m@v4"), 2.5)
        .build()
        .unwrap();
    let l = layout(&t);
    // v2: top 1000 buckets; v3: lane [7000, 9000), serving its top 500; v4: [6750, 7000).
    assert!(l[9_000..].iter().all(|&a| a == 1));
    assert!(l[8_500..9_000].iter().all(|&a| a == 2));
    assert!(l[7_000..8_500].iter().all(|&a| a == 0));
    assert!(l[6_750..7_000].iter().all(|&a| a == 3));
    assert!(l[..6_750].iter().all(|&a| a == 0));
    let probs: Vec<f64> = t.arms().iter().map(|a| a.probability).collect();
    assert_eq!(probs, [0.825, 0.1, 0.05, 0.025]);
}

// ---------------------------------------------------------------- ramp properties

/// Challenger weights (in buckets/100 units) with lanes at least as wide.
fn challengers() -> impl Strategy<Value = Vec<(f64, f64)>> {
    proptest::collection::vec((0_u32..=2_000, 0_u32..=1_000), 1..=4).prop_map(|v| {
        v.into_iter()
            .map(|(w, extra)| (f64::from(w) / 100.0, f64::from(w + extra) / 100.0))
            .collect()
    })
}

fn with_lanes(ws: &[(f64, f64)]) -> RouteTable {
    ws.iter()
        .enumerate()
        .fold(RouteTable::builder(r("m@v1")), |b, (i, &(w, lane))| {
            b.challenger_with_lane(r(&format!("m@v{}", i + 2)), w, lane)
        })
        .build()
        .unwrap()
}

fn tight(ws: &[f64]) -> RouteTable {
    ws.iter()
        .enumerate()
        .fold(RouteTable::builder(r("m@v1")), |b, (i, &w)| {
            b.challenger(r(&format!("m@v{}", i + 2)), w)
        })
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Same lanes: raising shares moves units only from the champion to a raised challenger.
    #[test]
    fn raising_shares_within_lanes_moves_only_champion_units(
        before in challengers(),
        raise in proptest::collection::vec(0.0_f64..=1.0, 4),
    ) {
        let after: Vec<(f64, f64)> = before
            .iter()
            .zip(&raise)
            .map(|(&(w, lane), f)| (((w + (lane - w) * f) * 100.0).round() / 100.0, lane))
            .collect();
        let (a, b) = (layout(&with_lanes(&before)), layout(&with_lanes(&after)));
        for (old, new) in a.iter().zip(&b) {
            prop_assert!(old == new || *old == 0, "unit moved {old} -> {new}");
        }
        // Each arm serves exactly its weight.
        for (i, &(w, _)) in after.iter().enumerate() {
            let n = b.iter().filter(|&&x| usize::from(x) == i + 1).count();
            prop_assert_eq!(n as f64, (w * 100.0).round());
        }
    }

    /// Tight lanes (no ramp, no explicit lane): raising any challenger never moves a unit back to
    /// the champion.
    #[test]
    fn raising_tight_shares_never_returns_a_unit_to_the_champion(
        before in proptest::collection::vec(0_u32..=2_000, 1..=4),
        raise in proptest::collection::vec(0_u32..=500, 4),
    ) {
        let w0: Vec<f64> = before.iter().map(|&w| f64::from(w) / 100.0).collect();
        let w1: Vec<f64> = before
            .iter()
            .zip(&raise)
            .map(|(&w, &d)| f64::from(w + d) / 100.0)
            .collect();
        let (a, b) = (layout(&tight(&w0)), layout(&tight(&w1)));
        for (old, new) in a.iter().zip(&b) {
            prop_assert!(!(*old != 0 && *new == 0), "unit moved back {old} -> champion");
        }
    }
}

#[test]
fn stepping_a_standard_ramp_never_moves_a_unit_back() {
    let mut b = RouteTable::builder(r("m@v1"))
        .salt("ramp-test".parse().unwrap())
        .ramped_challenger(r("m@v2"), Ramp::standard(), 0);
    let units = ids(20_000);
    let mut prev: Vec<bool> = vec![false; units.len()];
    for (step, share) in [1.0, 5.0, 10.0, 25.0, 50.0, 100.0].into_iter().enumerate() {
        if step > 0 {
            assert_eq!(b.advance_ramp(v(2)).unwrap(), share);
        }
        let t = b
            .clone()
            .revision(ConfigRevision::new(step as u64 + 1))
            .build()
            .unwrap();
        let on: Vec<bool> = units
            .iter()
            .map(|u| t.route(&Request::new(u.as_bytes())).role == ArmRole::Challenger)
            .collect();
        for (p, n) in prev.iter().zip(&on) {
            assert!(!p || *n, "a unit went back to the champion at step {step}");
        }
        let frac = on.iter().filter(|&&x| x).count() as f64 / units.len() as f64;
        assert!((frac - share / 100.0).abs() < 0.01, "step {step}: {frac}");
        prev = on;
    }
    assert!(matches!(
        b.advance_ramp(v(2)),
        Err(RoutingError::RampStepOutOfRange { step: 6, len: 6 })
    ));
    assert_eq!(
        b.advance_ramp(v(9)),
        Err(RoutingError::UnknownArm { version: v(9) })
    );
}

// ---------------------------------------------------------------- decisions

#[test]
fn decisions_are_sticky_deterministic_and_explain_themselves() {
    let build = || {
        RouteTable::builder(r("m@v1"))
            .salt("exp-42".parse().unwrap())
            .revision(ConfigRevision::new(9))
            .challenger(r("m@v2"), 30.0)
            .build()
            .unwrap()
    };
    let (a, b) = (build(), build());
    // The published vectors: `user-1` is in bucket 4131 and the empty id in 1965 (below 7000:
    // the champion), `user-2` in 9324 (the challenger's top 3000 buckets).
    for (unit, bucket, version, role, p) in [
        ("user-1", 4_131, 1, ArmRole::Champion, 0.7),
        ("", 1_965, 1, ArmRole::Champion, 0.7),
        ("user-2", 9_324, 2, ArmRole::Challenger, 0.3),
    ] {
        let d = a.route(&Request::new(unit.as_bytes()));
        assert_eq!(d, b.route(&Request::new(unit.as_bytes())));
        assert_eq!(d.bucket.map(Bucket::get), Some(bucket));
        assert_eq!(
            (d.role, d.reason, d.version),
            (role, Reason::Hash, v(version))
        );
        assert_eq!(d.revision, ConfigRevision::new(9));
        assert_eq!(d.probability, p);
    }
    // Shares over many units match the weights.
    let n = 50_000;
    let on = ids(n)
        .iter()
        .filter(|u| a.route(&Request::new(u.as_bytes())).version == v(2))
        .count();
    assert!((on as f64 / n as f64 - 0.3).abs() < 0.01);
    let d = a.route(&Request::new(b"any"));
    if d.version == v(2) {
        assert_eq!((d.role, d.probability), (ArmRole::Challenger, 0.3));
    }
}

#[test]
fn override_beats_segment_beats_hash() {
    let t = RouteTable::builder(r("m@v1"))
        .challenger(r("m@v2"), 10.0)
        .challenger(r("m@v3"), 10.0)
        .segment(SegmentRule::new("eu", v(1)).when_equals("region", "eu"))
        .segment(
            SegmentRule::new("beta", v(3))
                .when(Condition::OneOf {
                    attribute: "plan".into(),
                    values: vec!["beta".into(), "alpha".into()],
                })
                .when(Condition::NotOneOf {
                    attribute: "country".into(),
                    values: vec!["de".into()],
                }),
        )
        .override_unit("qa-1", v(2))
        .override_unit("", v(3))
        .build()
        .unwrap();
    let eu = [("region", "eu")];
    let d = t.route(&Request::new(b"qa-1").with_attributes(&eu));
    assert_eq!(
        (d.version, d.reason, d.probability),
        (v(2), Reason::Override, 1.0)
    );
    // The empty unit id is a valid id, and may be overridden.
    let d = t.route(&Request::new(b""));
    assert_eq!((d.version, d.reason), (v(3), Reason::Override));
    let d = t.route(&Request::new(b"someone").with_attributes(&eu));
    assert_eq!(
        (d.version, d.reason, d.bucket),
        (v(1), Reason::Segment, None)
    );
    let beta_fr = [("plan", "alpha"), ("country", "fr")];
    let d = t.route(&Request::new(b"someone").with_attributes(&beta_fr));
    assert_eq!((d.version, d.reason), (v(3), Reason::Segment));
    // A missing attribute satisfies no condition, NotOneOf included.
    let beta = [("plan", "beta")];
    assert_eq!(
        t.route(&Request::new(b"x").with_attributes(&beta)).reason,
        Reason::Hash
    );
    let beta_de = [("plan", "beta"), ("country", "de")];
    assert_eq!(
        t.route(&Request::new(b"x").with_attributes(&beta_de))
            .reason,
        Reason::Hash
    );
}

#[test]
fn shadows_mirror_only_champion_traffic_at_their_share() {
    let t = RouteTable::builder(r("m@v1"))
        .challenger(r("m@v2"), 50.0)
        .shadow(r("m@v8"), 25.0)
        .shadow(r("m@v9"), 0.0)
        .build()
        .unwrap();
    let (mut champion, mut mirrored) = (0, 0);
    for u in ids(40_000) {
        let d = t.route(&Request::new(u.as_bytes()));
        assert!(!d.shadows.contains(1));
        if d.is_champion() {
            champion += 1;
            mirrored += usize::from(d.shadows.contains(0));
        } else {
            assert!(d.shadows.is_empty(), "challenger traffic is never mirrored");
        }
    }
    let frac = mirrored as f64 / champion as f64;
    assert!((frac - 0.25).abs() < 0.02, "{frac}");
    let sd = t.shadow_decision(0).unwrap();
    assert_eq!(
        (sd.version, sd.role, sd.reason, sd.probability),
        (v(8), ArmRole::Shadow, Reason::Mirror, 0.25)
    );
    assert!(t.shadow_decision(2).is_none());
}

// ---------------------------------------------------------------- router, kill switch, swap

#[test]
fn kill_switch_and_publish_rules() {
    let b = RouteTable::builder(r("m@v1"))
        .revision(ConfigRevision::new(3))
        .challenger(r("m@v2"), 50.0)
        .shadow(r("m@v3"), 100.0)
        .override_unit("qa", v(2));
    let router = Router::new(b.build().unwrap());
    for u in ids(100) {
        router.route(u.as_bytes());
    }
    assert_eq!(
        router
            .exposures()
            .arms
            .iter()
            .map(ArmExposure::total)
            .sum::<u64>(),
        100
    );

    let killed = router.kill();
    assert_eq!(killed, ConfigRevision::new(4));
    assert!(router.table().is_killed());
    // Everything goes to the champion, overrides included, and nothing is mirrored.
    for u in ids(1_000)
        .iter()
        .map(String::as_bytes)
        .chain([&b"qa"[..], b""])
    {
        let d = router.route(u);
        assert_eq!(
            (d.version, d.reason, d.revision),
            (v(1), Reason::KillSwitch, killed)
        );
        assert!(d.shadows.is_empty());
    }
    // Counters reset by construction with the new revision.
    let ex = router.exposures();
    assert_eq!(ex.revision, killed);
    assert_eq!((ex.arms[0].other, ex.arms[1].total()), (1_002, 0));
    assert!(
        ex.sample_ratio_check().is_none(),
        "one arm with a positive share"
    );

    assert_eq!(
        router.publish(b.clone().build().unwrap()),
        Err(RoutingError::StaleRevision {
            current: 4,
            proposed: 3
        })
    );
    assert!(matches!(
        router.publish(
            RouteTable::builder(r("other@v1"))
                .revision(ConfigRevision::new(9))
                .build()
                .unwrap()
        ),
        Err(RoutingError::WrongModel { .. })
    ));
    let resumed = router
        .publish(b.revision(ConfigRevision::new(5)).build().unwrap())
        .unwrap();
    assert_eq!(router.route(b"qa").reason, Reason::Override);
    assert_eq!(router.revision(), resumed);
    assert_eq!(router.reclaim(), 0, "no reader holds an old table");
}

#[test]
fn hot_swap_under_real_threads_is_consistent_and_counts_every_decision() {
    // Revision k gives challenger v2 a share of k %; replay every decision against its table.
    let builder = |k: u64| {
        RouteTable::builder(r("m@v1"))
            .revision(ConfigRevision::new(k))
            .challenger(r("m@v2"), k as f64)
    };
    let router = Arc::new(Router::new(builder(1).build().unwrap()));
    let units = Arc::new(ids(2_000));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(4));
    let readers: Vec<_> = (0..3)
        .map(|t| {
            let (router, units, stop, start) =
                (router.clone(), units.clone(), stop.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let mut seen = Vec::new();
                let mut last = 0;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) || seen.len() < 1_000 {
                    let u = &units[i % units.len()];
                    let d = router.route(u.as_bytes());
                    assert!(d.revision.get() >= last, "revision went backwards");
                    last = d.revision.get();
                    seen.push((i % units.len(), d));
                    i += 7;
                }
                seen
            })
        })
        .collect();
    start.wait();
    for k in 2..=40 {
        router.publish(builder(k).build().unwrap()).unwrap();
        thread::sleep(Duration::from_micros(200));
    }
    stop.store(true, Ordering::Relaxed);
    let tables: HashMap<u64, RouteTable> =
        (1..=40).map(|k| (k, builder(k).build().unwrap())).collect();
    let mut total = 0;
    for h in readers {
        for (i, d) in h.join().unwrap() {
            let replay = tables[&d.revision.get()].route(&Request::new(units[i].as_bytes()));
            assert_eq!(d, replay);
            total += 1;
        }
    }
    assert!(total >= 3_000);
    assert_eq!(router.reclaim(), 0);
}

#[test]
fn exposure_counters_are_exact_across_threads() {
    let router = Arc::new(Router::new(
        RouteTable::builder(r("m@v1"))
            .challenger(r("m@v2"), 20.0)
            .challenger(r("m@v3"), 20.0)
            .build()
            .unwrap(),
    ));
    let units = Arc::new(ids(10_000));
    let expected: BTreeMap<VersionNumber, u64> = {
        let t = router.table();
        let fresh = t.to_builder().build().unwrap();
        let mut m = BTreeMap::new();
        for u in units.iter() {
            *m.entry(fresh.route(&Request::new(u.as_bytes())).version)
                .or_default() += 4;
        }
        m
    };
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (router, units) = (router.clone(), units.clone());
            thread::spawn(move || {
                for u in units.iter() {
                    router.route(u.as_bytes());
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let got: BTreeMap<VersionNumber, u64> = router
        .exposures()
        .arms
        .iter()
        .map(|a| (a.version, a.hashed))
        .collect();
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------- SRM

fn snapshot(counts: &[(u64, f64)]) -> ExposureSnapshot {
    ExposureSnapshot {
        model: "m".parse().unwrap(),
        revision: ConfigRevision::new(1),
        arms: counts
            .iter()
            .enumerate()
            .map(|(i, &(hashed, share))| ArmExposure {
                version: v(i as u64 + 1),
                role: if i == 0 {
                    ArmRole::Champion
                } else {
                    ArmRole::Challenger
                },
                intended_share: share,
                hashed,
                other: 1_000, // never tested: overrides and segments are not hash-assigned
            })
            .collect(),
    }
}

#[test]
fn srm_matches_closed_form_chi_squared_tails() {
    // df = 1: sf(x) = erfc(sqrt(x / 2)); Python: math.erfc(math.sqrt(0.8)).
    let s = snapshot(&[(520, 0.5), (480, 0.5)])
        .sample_ratio_check()
        .unwrap();
    assert!((s.chi_squared - 1.6).abs() < 1e-12);
    assert!((s.p_value - 0.205_903_210_732_068_33).abs() < 1e-12);
    assert!(!s.alarm);
    // df = 2: sf(x) = exp(-x / 2); chi2 = 16, Python: math.exp(-8).
    let s = snapshot(&[(5_200, 0.5), (2_400, 0.25), (2_400, 0.25), (0, 0.0)])
        .sample_ratio_check()
        .unwrap();
    assert_eq!(s.degrees_of_freedom, 2);
    assert!((s.chi_squared - 16.0).abs() < 1e-9);
    assert!((s.p_value - 0.000_335_462_627_902_511_85).abs() < 1e-15);
    assert!(s.alarm);
    let ev = s.to_evidence(DateTime::UNIX_EPOCH);
    assert_eq!(ev.check.as_str(), "routing.sample_ratio");
    assert_eq!(
        (ev.direction, ev.outcome, ev.threshold),
        (Direction::AtLeast, Outcome::Fail, 0.001)
    );
    assert_eq!(ev.details["n"], 10_000.0);
    assert!(matches!(ev.subject, Subject::Model { .. }));
    assert!(ev.is_consistent());
    assert!(
        snapshot(&[(0, 0.5), (0, 0.5)])
            .sample_ratio_check()
            .is_none()
    );
}

#[test]
fn live_srm_passes_honest_traffic_and_alarms_on_lost_exposures() {
    let b = RouteTable::builder(r("m@v1"))
        .challenger(r("m@v2"), 10.0)
        .challenger(r("m@v3"), 10.0);
    let honest = Router::new(b.build().unwrap());
    let lossy = Router::new(b.build().unwrap());
    let probe = b.build().unwrap();
    for (i, u) in ids(50_000).iter().enumerate() {
        honest.route(u.as_bytes());
        // A pipeline that loses every tenth exposure of challenger v3.
        let lost = probe.route(&Request::new(u.as_bytes())).version == v(3) && i % 10 == 0;
        if !lost {
            lossy.route(u.as_bytes());
        }
    }
    let ok = honest.exposures().sample_ratio_check().unwrap();
    assert!(!ok.alarm, "p = {}", ok.p_value);
    assert!(ok.to_evidence(DateTime::UNIX_EPOCH).passed());
    let bad = lossy.exposures().sample_ratio_check().unwrap();
    assert!(bad.alarm, "p = {}", bad.p_value);
}

// ---------------------------------------------------------------- shadows

/// A shadow model that sleeps, fails or answers, depending on the version.
struct Host {
    sleep: Duration,
}

impl ShadowModel<u64> for Host {
    fn predict(
        &self,
        version: VersionNumber,
        input: &u64,
        _: Instant,
    ) -> Result<Prediction, ShadowError> {
        thread::sleep(self.sleep);
        match version.get() {
            9 => Err(ShadowError {
                message: "boom".into(),
            }),
            _ => Ok(Prediction::new(Some(input % 2), Some(0.5))),
        }
    }
}

fn shadow_router(shadows: &[&str]) -> Router {
    let b = shadows
        .iter()
        .fold(RouteTable::builder(r("m@v1")), |b, s| b.shadow(r(s), 100.0));
    Router::new(b.build().unwrap())
}

#[test]
fn shadow_work_never_blocks_and_drops_on_full() {
    let router = shadow_router(&["m@v8"]);
    let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let config = ShadowConfig {
        queue_capacity: 4,
        budget: Duration::from_secs(5),
        ..ShadowConfig::default()
    };
    let runner = ShadowRunner::start(
        &router,
        Arc::new(Host {
            sleep: Duration::from_millis(100),
        }),
        &config,
        clock,
    )
    .unwrap();
    let begin = Instant::now();
    let mut outcomes = Vec::new();
    for i in 0..200_u64 {
        let d = router.route(format!("u{i}").as_bytes());
        outcomes.push(runner.submit(
            &d,
            i,
            Prediction::new(Some(i % 2), Some(0.5)),
            Duration::ZERO,
        ));
    }
    // 200 submissions against a model taking 100 ms each: they cannot have waited for it.
    assert!(
        begin.elapsed() < Duration::from_millis(90),
        "{:?}",
        begin.elapsed()
    );
    let queued = outcomes.iter().filter(|&&o| o == Submitted::Queued).count() as u64;
    let dropped = outcomes
        .iter()
        .filter(|&&o| o == Submitted::Dropped)
        .count() as u64;
    assert_eq!(queued + dropped, 200);
    assert!(queued <= 6 && dropped >= 194, "queued {queued}");
    let c = runner.shutdown();
    assert_eq!((c.queued, c.dropped_full), (queued, dropped));
    assert_eq!(
        c.completed, queued,
        "queued jobs finish before shutdown returns"
    );
}

#[test]
fn shadow_budget_errors_staleness_and_windows() {
    let router = shadow_router(&["m@v8", "m@v9"]);
    let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let config = ShadowConfig {
        budget: Duration::from_millis(1),
        window: TimeDelta::seconds(10),
        ..ShadowConfig::default()
    };
    let slow = ShadowRunner::start(
        &router,
        Arc::new(Host {
            sleep: Duration::from_millis(20),
        }),
        &config,
        clock.clone(),
    )
    .unwrap();
    let d = router.route(b"u");
    assert_eq!(d.shadows.len(), 2);
    assert_eq!(
        slow.submit(&d, 1, Prediction::default(), Duration::ZERO),
        Submitted::Queued
    );
    let c = slow.shutdown();
    assert_eq!((c.timed_out, c.completed, c.failed), (2, 0, 0));

    let config = ShadowConfig {
        budget: Duration::from_secs(5),
        ..config
    };
    let fast = ShadowRunner::start(
        &router,
        Arc::new(Host {
            sleep: Duration::ZERO,
        }),
        &config,
        clock.clone(),
    )
    .unwrap();
    for i in 0..10_u64 {
        let d = router.route(format!("u{i}").as_bytes());
        // The champion says class 1 always; the shadow says input % 2: agreement 1/2.
        fast.submit(
            &d,
            i,
            Prediction::new(Some(1), Some(0.75)),
            Duration::from_millis(2),
        );
    }
    // Wait for the workers without depending on timing: poll the counters.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fast.counters().completed + fast.counters().failed < 20 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    clock.advance(TimeDelta::seconds(10));
    fast.recorder().flush();
    let windows = fast.recorder().take_completed();
    let w8 = windows.iter().find(|w| w.shadow == v(8)).unwrap();
    let w9 = windows.iter().find(|w| w.shadow == v(9)).unwrap();
    assert_eq!((w8.compared, w8.class_pairs), (10, 10));
    assert_eq!(w8.class_agreement, Some(0.5));
    assert_eq!(w8.mean_abs_score_diff, Some(0.25));
    assert!(
        w8.mean_latency_diff_ms.unwrap() < 0.0,
        "shadow answered faster than 2 ms"
    );
    assert_eq!((w9.compared, w9.errors), (0, 10));
    assert_eq!(
        (w8.start, w8.end),
        (
            DateTime::UNIX_EPOCH,
            DateTime::UNIX_EPOCH + TimeDelta::seconds(10)
        )
    );
    let ev = w8.agreement_evidence(&"m".parse().unwrap(), 0.9).unwrap();
    assert_eq!((ev.value, ev.outcome), (0.5, Outcome::Fail));

    // A decision from a replaced table is not mirrored with the new table's shadows.
    let old = router.route(b"u");
    router.kill();
    assert_eq!(
        fast.submit(&old, 0, Prediction::default(), Duration::ZERO),
        Submitted::Stale
    );
    assert_eq!(
        fast.submit(
            &router.route(b"u"),
            0,
            Prediction::default(),
            Duration::ZERO
        ),
        Submitted::NotMirrored
    );
    assert_eq!(fast.counters().stale, 1);

    assert!(matches!(
        ShadowRunner::start(
            &router,
            Arc::new(Host {
                sleep: Duration::ZERO
            }),
            &ShadowConfig {
                queue_capacity: 0,
                ..ShadowConfig::default()
            },
            clock
        ),
        Err(RoutingError::InvalidShadowConfig {
            setting: "queue_capacity",
            ..
        })
    ));
}

// ---------------------------------------------------------------- registry aliases

mod aliases {
    use super::*;
    use mlops_core::chrono::{TimeZone, Utc};
    use mlops_core::{Actor, AliasName, Digest, ModelName};
    use mlops_registry::RegistryError;
    use mlops_registry::model::{DatasetRole, ModelAggregate, RegisteredModel, VersionCore};
    use mlops_registry::routing::AliasRoutes;
    use mlops_registry::store::{InMemoryStore, ModelStore, NewVersion};

    fn setup(store: &InMemoryStore, name: &ModelName, aliases: &[(&str, u64)]) {
        let actor = Actor::human("ml@example.com").unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let agg = ModelAggregate::new(RegisteredModel::new(name.clone(), actor.id.clone(), t0));
        store.create_model(agg, vec![]).unwrap();
        for seed in 1..=4_u64 {
            let core = VersionCore::builder(actor.clone(), t0)
                .artifact(
                    "model",
                    format!("mem://{seed}"),
                    Digest::of(&seed.to_be_bytes()),
                    seed,
                )
                .dataset("train", DatasetRole::Training, "mem://d", Digest::of(b"d"))
                .build()
                .unwrap();
            store
                .create_version(NewVersion::new(name.clone(), core))
                .unwrap();
        }
        for &(alias, version) in aliases {
            let mut agg = store.get_model(name).unwrap();
            let rev = agg.revision();
            agg.set_alias(alias.parse().unwrap(), v(version), &actor.id, t0)
                .unwrap();
            // `champion` is protected: this test plays governance and holds the seal.
            agg.authorize(seal());
            store.commit(name, rev, agg, vec![]).unwrap();
        }
    }

    fn seal() -> &'static mlops_registry::governed::GovernanceSeal {
        static SEAL: std::sync::OnceLock<
            Option<&'static mlops_registry::governed::GovernanceSeal>,
        > = std::sync::OnceLock::new();
        SEAL.get_or_init(mlops_registry::governed::GovernanceSeal::claim)
            .expect("this test binary claims the seal once")
    }

    #[test]
    fn tables_are_built_from_registry_aliases() {
        let store = InMemoryStore::new();
        let name: ModelName = "fraud".parse().unwrap();
        setup(
            &store,
            &name,
            &[("champion", 2), ("challenger", 3), ("challenger-b", 4)],
        );
        let routes = AliasRoutes::load(&store, &name).unwrap();
        assert_eq!(routes.challenger_aliases().len(), 2);
        let revision = store.get_model(&name).unwrap().revision().as_u64();
        assert_eq!(routes.revision(), ConfigRevision::new(revision));
        let weights: Vec<(AliasName, f64)> = routes
            .challenger_aliases()
            .into_iter()
            .map(|a| (a, 10.0))
            .collect();
        let table = routes.builder_with(&weights).unwrap().build().unwrap();
        let versions: Vec<u64> = table.arms().iter().map(|a| a.version.get()).collect();
        assert_eq!(versions, [2, 3, 4]);
        assert_eq!(table.revision(), ConfigRevision::new(revision));

        // Aliases that do not resolve are typed errors.
        let missing: AliasName = "challenger-z".parse().unwrap();
        assert_eq!(
            routes.builder_with(&[(missing.clone(), 5.0)]).unwrap_err(),
            RoutingError::AliasNotFound {
                model: name.clone(),
                alias: missing
            }
        );
        let store2 = InMemoryStore::new();
        setup(&store2, &name, &[("challenger", 3)]);
        assert!(matches!(
            AliasRoutes::load(&store2, &name).unwrap().builder(),
            Err(RoutingError::AliasNotFound { .. })
        ));
        assert!(matches!(
            AliasRoutes::load(&store2, &"nope".parse().unwrap()),
            Err(RoutingError::Store(RegistryError::NotFound { .. }))
        ));
        // An alias pointing at the champion's version as a challenger is caught at build time.
        let store3 = InMemoryStore::new();
        setup(&store3, &name, &[("champion", 2), ("challenger", 2)]);
        let r3 = AliasRoutes::load(&store3, &name).unwrap();
        assert!(matches!(
            r3.builder_with(&[(AliasName::challenger(), 5.0)])
                .unwrap()
                .build(),
            Err(RoutingError::ChallengerIsChampion { .. })
        ));
    }
}

#[test]
fn exposure_counts_stay_exact_beyond_the_leased_shards_and_across_thread_exits() {
    let router = Arc::new(Router::new(
        RouteTable::builder(r("m@v1"))
            .challenger(r("m@v2"), 50.0)
            .build()
            .unwrap(),
    ));
    // 80 threads alive at once: more than the 64 leased shards, so some share the overflow one.
    let barrier = Arc::new(Barrier::new(80));
    let hs: Vec<_> = (0..80)
        .map(|t| {
            let (router, barrier) = (router.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for i in 0..250 {
                    router.route(format!("t{t}-u{i}").as_bytes());
                }
                barrier.wait();
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    // Then 100 short-lived threads one after another, reusing released leases.
    for t in 0..100 {
        let router = router.clone();
        thread::spawn(move || {
            for i in 0..10 {
                router.route(format!("s{t}-u{i}").as_bytes());
            }
        })
        .join()
        .unwrap();
    }
    let total: u64 = router.exposures().arms.iter().map(|a| a.hashed).sum();
    assert_eq!(total, 80 * 250 + 100 * 10);
}

#[test]
fn replaced_tables_are_dropped_by_a_writer_once_no_reader_holds_them() {
    let b = |k: u64| {
        RouteTable::builder(r("m@v1"))
            .revision(ConfigRevision::new(k))
            .challenger(r("m@v2"), 10.0)
            .build()
            .unwrap()
    };
    let router = Router::new(b(1));
    let held = router.table(); // a reader still holding revision 1
    router.publish(b(2)).unwrap();
    assert_eq!(router.reclaim(), 1, "revision 1 is still held");
    assert_eq!(
        Arc::strong_count(&held),
        2,
        "the retire list keeps it alive, not the reader"
    );
    drop(held); // the reader lets go: nothing is freed on its thread
    assert_eq!(router.reclaim(), 0, "the writer frees it");
    router.publish(b(3)).unwrap();
    assert_eq!(router.reclaim(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any unit id and attributes route without panicking, to an arm of the table, and the same
    /// input gives the same decision.
    #[test]
    fn routing_any_input_is_total_and_deterministic(
        unit in proptest::collection::vec(any::<u8>(), 0..100),
        key in "[a-z]{0,6}",
        value in ".{0,6}",
    ) {
        let t = RouteTable::builder(r("m@v1"))
            .challenger(r("m@v2"), 33.33)
            .challenger_with_lane(r("m@v3"), 12.5, 30.0)
            .shadow(r("m@v4"), 50.0)
            .segment(SegmentRule::new("s", v(3)).when_equals("plan", "beta"))
            .override_unit([0_u8, 1], v(2))
            .build()
            .unwrap();
        let attrs = [(key.as_str(), value.as_str())];
        let req = Request::new(&unit).with_attributes(&attrs);
        let d = t.route(&req);
        prop_assert_eq!(d, t.route(&req));
        prop_assert!(t.arms().iter().any(|a| a.version == d.version));
        prop_assert!(d.probability > 0.0 && d.probability <= 1.0);
        if d.reason == Reason::Hash {
            let b = d.bucket.unwrap();
            prop_assert_eq!(t.arms()[usize::from(t.arm_of_bucket(b))].version, d.version);
        }
    }
}
