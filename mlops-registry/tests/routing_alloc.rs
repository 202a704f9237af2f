//! The routing decision path allocates nothing: a counting global allocator watches every
//! decision kind (hash, override, segment, mirrored, kill switch) and long unit ids.
//!
//! The allocator is the hostile-input suites' (`mlops-core/tests/support/hostile.rs`), which
//! counts each thread's allocations. Implementing `GlobalAlloc` is an unsafe trait impl: the
//! workspace denies (rather than forbids) `unsafe_code` so that this test can allow it locally;
//! library code stays free of `unsafe`.
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use mlops_core::ModelRef;
use mlops_registry::routing::{Ramp, Reason, Request, RouteTable, Router, SegmentRule};

#[path = "../../mlops-core/tests/support/hostile.rs"]
mod hostile;
use hostile::allocations;

fn r(s: &str) -> ModelRef {
    s.parse().unwrap()
}

/// The only test in this binary, so no other test thread allocates while it counts.
#[test]
fn the_decision_path_allocates_nothing() {
    let table = RouteTable::builder(r("m@v1"))
        .challenger(r("m@v2"), 10.0)
        .ramped_challenger(r("m@v3"), Ramp::new([5.0, 20.0]).unwrap(), 0)
        .challenger(r("m@v4"), 10.0)
        .shadow(r("m@v9"), 50.0)
        .segment(SegmentRule::new("eu", "v2".parse().unwrap()).when_equals("region", "eu"))
        .override_unit("qa-1", "v4".parse().unwrap())
        .build()
        .unwrap();
    let router = Router::new(table);
    let units: Vec<String> = (0..10_000)
        .map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}"))
        .collect();
    let long = "L".repeat(500);
    let eu = [("region", "eu"), ("plan", "pro")];
    let us = [("region", "us")];

    // Warm up: the first use on a thread sets up arc-swap's thread-local debt slot.
    black_box(router.route(b"warm-up"));

    let before = allocations();
    let mut reasons = [0_u64; 5];
    for u in &units {
        for d in [
            router.route(u.as_bytes()),
            router.route_request(&Request::new(u.as_bytes()).with_attributes(&eu)),
            router.route_request(&Request::new(u.as_bytes()).with_attributes(&us)),
            router.route(b"qa-1"),
            router.route(b""),
            router.route(long.as_bytes()),
        ] {
            let d = black_box(d);
            reasons[d.reason as usize] += 1;
        }
    }
    let during = allocations() - before;
    assert_eq!(during, 0, "{during} allocations on the decision path");
    assert!(reasons[Reason::Hash as usize] > 0);
    assert!(reasons[Reason::Override as usize] > 0);
    assert!(reasons[Reason::Segment as usize] > 0);

    // The kill switch's table is built off the request path; routing through it is also free.
    router.kill();
    let before = allocations();
    for u in &units {
        assert_eq!(
            black_box(router.route(u.as_bytes())).reason,
            Reason::KillSwitch
        );
    }
    assert_eq!(allocations() - before, 0);

    // The counter can see allocations at all (so the zeros above mean something).
    let before = allocations();
    black_box(vec![1_u8; 16]);
    assert!(allocations() > before);
}
