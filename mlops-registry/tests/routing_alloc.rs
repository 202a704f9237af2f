//! The routing decision path allocates nothing: a counting global allocator watches every
//! decision kind (hash, override, segment, mirrored, kill switch) and long unit ids.
//!
//! This is the one file in the crate that needs `unsafe`: implementing `GlobalAlloc` is an unsafe
//! trait impl. The workspace denies (rather than forbids) `unsafe_code` so that this test can
//! allow it locally; library code stays free of `unsafe`.
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use mlops_core::ModelRef;
use mlops_registry::routing::{Ramp, Reason, Request, RouteTable, Router, SegmentRule};

struct Counting;

thread_local! {
    // Per thread: the harness's other threads (its main thread, output capture) may allocate
    // at any moment; what is measured is the calling thread's own allocations.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_allocation() {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
