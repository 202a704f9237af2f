//! Hostile input for the registry's input parsing (issue 17): route tables built from JSON
//! mutated from a full builder (every kind of arm, segment and override), with named
//! regression tests. Every build runs under a wall-clock and a heap bound (the counting
//! allocator of `support/hostile.rs`); a table that builds keeps the layout invariants and
//! routes every request to one of its arms.
#![allow(unsafe_code)] // reason: the counting allocator of `support/hostile.rs`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../mlops-core/tests/support/hostile.rs"]
mod hostile;

use std::time::Duration;

use hostile::{MIB, bounded};
use mlops_core::ModelRef;
use mlops_registry::routing::{
    ArmRole, ConfigRevision, Ramp, Request, RouteTable, RouteTableBuilder, RoutingError,
    SegmentRule,
};
use proptest::prelude::*;

const TIME: Duration = Duration::from_secs(5);

fn r(s: &str) -> ModelRef {
    s.parse().unwrap()
}

fn seed_builder() -> RouteTableBuilder {
    RouteTable::builder(r("fraud@v3"))
        .salt("fraud-2026".parse().unwrap())
        .revision(ConfigRevision::new(7))
        .challenger(r("fraud@v4"), 10.0)
        .challenger_with_lane(r("fraud@v7"), 2.0, 5.0)
        .ramped_challenger(r("fraud@v5"), Ramp::new([1.0, 5.0, 10.0, 20.0]).unwrap(), 1)
        .shadow(r("fraud@v6"), 50.0)
        .segment(SegmentRule::new("eu", "v3".parse().unwrap()).when_equals("region", "eu"))
        .override_unit("qa-1", "v5".parse().unwrap())
}

fn seed() -> serde_json::Value {
    serde_json::to_value(seed_builder()).unwrap()
}

/// The invariants of a table that built: buckets add up to 10 000, probabilities to 1, and
/// every request routes to one of its arms, the same way twice.
fn check_table(table: &RouteTable) {
    let buckets: u32 = table.arms().iter().map(|a| u32::from(a.buckets)).sum();
    assert_eq!(buckets, 10_000, "{:?}", table.arms());
    let p: f64 = table.arms().iter().map(|a| a.probability).sum();
    assert!((p - 1.0).abs() < 1e-9, "{p}");
    assert!((0.0..=1.0).contains(&table.champion_share()));
    assert_eq!(table.arms()[0].role, ArmRole::Champion);
    let attributes = [("region", "eu")];
    for unit in [&b"qa-1"[..], b"user-1", b"", &[0xff; 300]] {
        for req in [
            Request::new(unit),
            Request::new(unit).with_attributes(&attributes),
        ] {
            let d = table.route(&req);
            assert!(table.arms().iter().any(|a| a.version == d.version), "{d:?}");
            assert_eq!(table.route(&req), d);
        }
    }
}

#[test]
fn seed_table_builds() {
    check_table(&seed_builder().build().unwrap());
}

#[test]
fn huge_lanes_are_refused_not_wrapped() {
    // Lanes were turned into buckets with a saturating cast and summed in u32: two lanes far
    // beyond the total overflowed (a panic in debug builds, a wrapped and accepted sum in
    // release).
    for lane in [1e12, 4.294_967_295e5, f64::MAX] {
        let b = RouteTable::builder(r("m@v1"))
            .challenger_with_lane(r("m@v2"), 1.0, lane)
            .challenger_with_lane(r("m@v3"), 1.0, lane);
        let err = bounded("huge lanes", TIME, MIB, || b.build()).unwrap_err();
        assert!(
            matches!(
                err,
                RoutingError::InvalidWeight { .. } | RoutingError::LanesExceedBuckets { .. }
            ),
            "{err}"
        );
    }
    // Lanes that wrap a u32 exactly to a small sum.
    let b = RouteTable::builder(r("m@v1"))
        .challenger_with_lane(r("m@v2"), 1.0, 429_496.729_6)
        .challenger_with_lane(r("m@v3"), 1.0, 429_496.729_6);
    assert!(b.build().is_err());
}

#[test]
fn a_weight_above_the_total_is_refused() {
    let b = RouteTable::builder(r("m@v1"))
        .weights_total(1.0)
        .challenger(r("m@v2"), 1e300);
    assert!(b.build().is_err());
    let b = RouteTable::builder(r("m@v1"))
        .champion_weight(f64::MAX)
        .challenger(r("m@v2"), 1.0);
    assert!(b.build().is_err());
}

proptest! {
    #![proptest_config(hostile::fuzz_config(768))]

    #[test]
    fn fuzz_route_table_json(m in hostile::mutated_json()) {
        let text = hostile::render(&seed(), &m);
        let built = bounded("route table json", TIME, 128 * MIB, || {
            serde_json::from_str::<RouteTableBuilder>(&text).map(|b| b.build())
        });
        if let Ok(Ok(table)) = built {
            bounded("route table use", TIME, 128 * MIB, || {
                check_table(&table);
                // The spec round-trips and builds the same table again.
                let again = table.to_builder().build().unwrap();
                assert_eq!(again.arms(), table.arms());
            });
        }
    }

    #[test]
    fn arbitrary_weights_build_or_fail(
        total in hostile::hostile_f64(),
        weights in prop::collection::vec((hostile::hostile_f64(), hostile::hostile_f64()), 0..6),
        champion in prop::option::of(hostile::hostile_f64()),
    ) {
        let mut b = RouteTable::builder(r("m@v1")).weights_total(total);
        if let Some(c) = champion {
            b = b.champion_weight(c);
        }
        for (i, (w, lane)) in weights.iter().enumerate() {
            b = b.challenger_with_lane(r(&format!("m@v{}", i + 2)), *w, *lane);
        }
        if let Ok(table) = bounded("weights", TIME, 8 * MIB, || b.build()) {
            check_table(&table);
        }
    }
}
