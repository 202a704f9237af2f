//! Routing decision benchmarks against the targets in DESIGN.md:
//!
//! - `routing/one_thread`: one decision for a 36-byte unit id, 1 champion + 3 challengers, next to
//!   the bare baselines "atomic load + hash" (an `ArcSwap` load and a plain `AtomicU64` load, each
//!   followed by xxh3-64 of the id). Target: ≤ 20 ns median, within 2× of the baseline.
//! - `routing/threads`: per-decision time with 1 and 2 threads routing through one router, next to
//!   `RwLock<Arc<RouteTable>>` and `Mutex<Arc<RouteTable>>` routers. Target: 2 threads ≤ 1.5× one.
//! - `routing/under_swap`: decisions while another thread publishes 1 000 tables a second; and a
//!   printed latency distribution (p50 / p99 / p99.9 of individually timed decisions, timer
//!   overhead included). Target: p99.9 < 1 µs.
//!
//! Every timed loop walks 2²⁰ distinct pre-generated ids through `black_box`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mlops_registry::routing::{
    ConfigRevision, Request, RouteTable, RouteTableBuilder, Router, Salt,
};
use parking_lot::{Mutex, RwLock};
use xxhash_rust::xxh3::xxh3_64;

const N_IDS: usize = 1 << 20;

fn ids() -> Vec<String> {
    let ids = mlops_benches::unit_ids(42, N_IDS);
    assert!(ids.iter().all(|i| i.len() == 36));
    ids
}

fn builder() -> RouteTableBuilder {
    let r = |s: &str| s.parse().expect("valid model ref");
    RouteTable::builder(r("fraud@v1"))
        .salt(Salt::new("bench-exp-1").expect("valid salt"))
        .challenger(r("fraud@v2"), 10.0)
        .challenger(r("fraud@v3"), 10.0)
        .challenger(r("fraud@v4"), 5.0)
}

fn table(revision: u64) -> RouteTable {
    builder()
        .revision(ConfigRevision::new(revision))
        .build()
        .expect("valid table")
}

/// Walks the ids in order, wrapping around; the index update is in every measured loop alike.
struct Cursor<'a> {
    ids: &'a [String],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(ids: &'a [String], start: usize) -> Self {
        Self { ids, i: start }
    }

    #[inline]
    fn next(&mut self) -> &'a [u8] {
        self.i = (self.i + 1) & (N_IDS - 1);
        black_box(self.ids.get(self.i).map_or(&b""[..], |s| s.as_bytes()))
    }
}

fn one_thread(c: &mut Criterion) {
    let ids = ids();
    let mut g = c.benchmark_group("routing/one_thread");

    let cell = ArcSwap::from_pointee(Salt::new("bench-exp-1").expect("valid salt"));
    let mut cur = Cursor::new(&ids, 0);
    g.bench_function("baseline_arcswap_load_plus_xxh3", |b| {
        b.iter(|| {
            let id = cur.next();
            let guard = cell.load();
            black_box(xxh3_64(id) ^ guard.as_str().len() as u64)
        })
    });

    let atomic = AtomicU64::new(7);
    let mut cur = Cursor::new(&ids, 0);
    g.bench_function("baseline_atomic_u64_load_plus_xxh3", |b| {
        b.iter(|| {
            let id = cur.next();
            black_box(xxh3_64(id) ^ atomic.load(Ordering::Acquire))
        })
    });

    // The decision is materialized in memory (`black_box(&d)`), as a host reading its fields
    // would; the variant below also copies the whole value out through `black_box(d)`, which
    // adds a store-forwarding stall on the freshly written struct.
    let router = Router::new(table(1));
    let mut cur = Cursor::new(&ids, 0);
    g.bench_function("router_1_champion_3_challengers", |b| {
        b.iter(|| {
            let d = router.route(cur.next());
            black_box(&d);
        })
    });
    let mut cur = Cursor::new(&ids, 0);
    g.bench_function("router_1_champion_3_challengers_copied_out", |b| {
        b.iter(|| black_box(router.route(cur.next())))
    });
    g.finish();
}

/// A router behind a lock, for comparison.
trait Routes: Sync {
    fn route(&self, unit: &[u8]) -> u64;
}

impl Routes for Router {
    #[inline]
    fn route(&self, unit: &[u8]) -> u64 {
        Router::route(self, unit).version.get()
    }
}

struct RwLockRouter(RwLock<Arc<RouteTable>>);
impl Routes for RwLockRouter {
    #[inline]
    fn route(&self, unit: &[u8]) -> u64 {
        self.0.read().route(&Request::new(unit)).version.get()
    }
}

struct MutexRouter(Mutex<Arc<RouteTable>>);
impl Routes for MutexRouter {
    #[inline]
    fn route(&self, unit: &[u8]) -> u64 {
        self.0.lock().route(&Request::new(unit)).version.get()
    }
}

/// Each of `threads` threads makes `iters` decisions at once; returns the wall time, i.e. the
/// per-thread time per decision × `iters`.
fn run_threads(router: &dyn Routes, ids: &[String], threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                let mut cur = Cursor::new(ids, t * (N_IDS / 2));
                barrier.wait();
                for _ in 0..iters {
                    black_box(router.route(cur.next()));
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

fn threads(c: &mut Criterion) {
    let ids = ids();
    let mut g = c.benchmark_group("routing/threads");
    let arc_swap = Router::new(table(1));
    let rwlock = RwLockRouter(RwLock::new(Arc::new(table(1))));
    let mutex = MutexRouter(Mutex::new(Arc::new(table(1))));
    let routers: [(&str, &dyn Routes); 3] = [
        ("arc_swap", &arc_swap),
        ("rwlock_arc", &rwlock),
        ("mutex_arc", &mutex),
    ];
    for (name, router) in routers {
        for n in [1_usize, 2] {
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_custom(|iters| run_threads(router, &ids, n, iters))
            });
        }
    }
    g.finish();
}

/// Publishes a new table every millisecond until `stop`, counting swaps in `count`.
fn swapper(router: &Router, stop: &AtomicBool, count: &AtomicU64) -> u64 {
    let mut revision = router.revision().get();
    let mut next = Instant::now();
    let mut swaps = 0;
    while !stop.load(Ordering::Relaxed) {
        revision += 1;
        if router.publish(table(revision)).is_ok() {
            swaps += 1;
            count.fetch_add(1, Ordering::Relaxed);
        }
        next += Duration::from_millis(1);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    swaps
}

fn under_swap(c: &mut Criterion) {
    let ids = ids();
    let router = Router::new(table(1));
    let stop = AtomicBool::new(false);
    let count = AtomicU64::new(0);
    std::thread::scope(|s| {
        let swaps = s.spawn(|| swapper(&router, &stop, &count));

        let mut g = c.benchmark_group("routing/under_swap");
        let mut cur = Cursor::new(&ids, 0);
        g.bench_function("router_while_swapping_1000_per_s", |b| {
            b.iter(|| black_box(router.route(cur.next())))
        });
        g.finish();

        // Latency distribution of individually timed decisions (timer overhead included).
        let started = Instant::now();
        let swaps_before = count.load(Ordering::Relaxed);
        let samples = 4_000_000;
        let mut lat: Vec<u32> = Vec::with_capacity(samples);
        let mut cur = Cursor::new(&ids, 0);
        for _ in 0..samples {
            let id = cur.next();
            let t0 = Instant::now();
            black_box(router.route(id));
            lat.push(u32::try_from(t0.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        let seconds = started.elapsed().as_secs_f64();
        let swaps_during = count.load(Ordering::Relaxed) - swaps_before;
        let mut timer: Vec<u32> = Vec::with_capacity(1_000_000);
        for _ in 0..1_000_000 {
            let t0 = Instant::now();
            timer.push(u32::try_from(t0.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        stop.store(true, Ordering::Relaxed);
        let total_swaps = swaps.join().unwrap_or(0);
        lat.sort_unstable();
        timer.sort_unstable();
        let q = |v: &[u32], p: f64| {
            let i = ((v.len() as f64 - 1.0) * p).round() as usize;
            v.get(i).copied().unwrap_or(0)
        };
        eprintln!(
            "routing/under_swap latency over {samples} decisions in {seconds:.2} s with \
             {swaps_during} swaps meanwhile ({:.0}/s; {total_swaps} in the whole bench): p50 {} ns, \
             p99 {} ns, p99.9 {} ns, max {} ns (empty timer: p50 {} ns, p99.9 {} ns); revision \
             now {}",
            swaps_during as f64 / seconds.max(1e-9),
            q(&lat, 0.5),
            q(&lat, 0.99),
            q(&lat, 0.999),
            lat.last().copied().unwrap_or(0),
            q(&timer, 0.5),
            q(&timer, 0.999),
            router.revision(),
        );
    });
}

criterion_group!(benches, one_thread, threads, under_swap);
criterion_main!(benches);
