//! Shared by the hostile-input suites of every crate (included with `#[path]`): a counting
//! global allocator that records each thread's peak heap use and allocation count, a guard that runs one call under
//! a time and memory bound, hostile numbers, and a proptest-driven mutator of JSON (and raw
//! text) seeded from the golden files.
//!
//! The mutation harness is the fuzzing of issue 17 on a stable toolchain: each case parses a
//! golden file, applies a random sequence of structural mutations (hostile numbers and strings,
//! deleted and duplicated fields, deep nesting, truncation, byte flips) and hands the result to
//! the parser under test. `PROPTEST_CASES` sets the number of cases per target (the default of
//! each suite keeps CI within a minute or two).
//!
//! Implementing `GlobalAlloc` is an unsafe trait impl; the workspace denies (rather than
//! forbids) `unsafe_code` so that the test binaries including this file can allow it.
#![allow(dead_code, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::Value;

// --- the counting allocator ---------------------------------------------------------------

struct Counting;

thread_local! {
    static CURRENT: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// How many allocations (and reallocations) this thread has made. Per thread: the test
/// harness's own threads may allocate at any moment.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn count_allocation() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn account(delta: i64) {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now);
            }
        });
    });
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        count_allocation();
        if !p.is_null() {
            account(size(layout));
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        count_allocation();
        if !p.is_null() {
            account(size(layout));
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        count_allocation();
        if !p.is_null() {
            account(i64::try_from(new_size).unwrap_or(i64::MAX) - size(layout));
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        account(-size(layout));
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Calls made under [`bounded`] in this test binary (the executions reported by the suite).
pub static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// What one bounded call cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Peak heap growth of this thread during the call, in bytes.
    pub peak_bytes: i64,
}

/// Runs `f` on this thread and measures its wall-clock time and peak heap growth.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    let peak_bytes = PEAK.with(Cell::get) - base;
    (
        out,
        Cost {
            elapsed,
            peak_bytes,
        },
    )
}

/// Runs `f` and asserts that it took at most `time` and grew the heap by at most `bytes`.
/// The bounds are generous (a shared, loaded machine and debug builds): they catch hangs and
/// allocations sized by a hostile number, not slowness.
pub fn bounded<T>(what: &str, time: Duration, bytes: i64, f: impl FnOnce() -> T) -> T {
    let (out, cost) = measure(f);
    EXECUTIONS.fetch_add(1, Ordering::Relaxed);
    assert!(
        cost.elapsed <= time,
        "{what}: took {:?}, bound {time:?}",
        cost.elapsed
    );
    assert!(
        cost.peak_bytes <= bytes,
        "{what}: peak heap growth {} bytes, bound {bytes}",
        cost.peak_bytes
    );
    out
}

/// The proptest config of a fuzz target: `PROPTEST_CASES` cases when set, else `default`.
pub fn fuzz_config(default: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    proptest::test_runner::Config::with_cases(cases)
}

/// One mebibyte.
pub const MIB: i64 = 1 << 20;

// --- hostile numbers -----------------------------------------------------------------------

/// Finite and non-finite floats with the edge cases over-represented: ±0, ±`f64::MAX`,
/// ±`f64::MIN_POSITIVE`, subnormals, huge and tiny magnitudes, NaN and the infinities.
pub fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3f64..1e3,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(5e-324),
        1 => Just(-5e-324),
        1 => Just(1e308),
        1 => Just(-1e308),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        2 => any::<f64>(),
    ]
}

/// Counts with the edge cases over-represented: 0, 1, 2^53 ± 1, 2^63, `u64::MAX`.
pub fn hostile_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..100,
        1 => Just(0),
        1 => Just(1),
        1 => Just((1 << 53) - 1),
        1 => Just(1 << 53),
        1 => Just((1 << 53) + 1),
        1 => Just(1 << 63),
        1 => Just(u64::MAX),
        1 => Just(u64::MAX - 1),
        2 => any::<u64>(),
    ]
}

// --- JSON mutation -------------------------------------------------------------------------

/// One structural mutation of a JSON document: applied at the node whose index in a pre-order
/// walk is `at` modulo the number of nodes.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Replace the node with a value.
    Replace(usize, Value),
    /// Remove the node from its parent (a key of an object or an element of an array).
    Remove(usize),
    /// Repeat an array's element `times` times (or an object's last entry under new keys).
    Duplicate(usize, usize),
    /// Wrap the node in `depth` arrays.
    Nest(usize, usize),
    /// Swap the node with the next one in the walk (when both are array elements or values).
    Swap(usize),
}

/// One mutation of the serialized text.
#[derive(Debug, Clone)]
pub enum TextMutation {
    /// Cut the text at a position.
    Truncate(usize),
    /// Replace one byte.
    Flip(usize, u8),
    /// Insert a string at a position.
    Insert(usize, String),
}

/// Hostile JSON values: numbers at the edges of `u64`, `i64` and `f64`, the strings the crates
/// use for non-finite floats, long and odd strings, and empty or wrong-typed containers.
pub fn hostile_value() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        hostile_u64().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(-1)),
        hostile_f64().prop_filter_map("finite", |x| serde_json::Number::from_f64(x)
            .map(Value::Number)),
        Just(serde_json::from_str::<Value>("1e400").unwrap_or(Value::Null)),
        Just(serde_json::from_str::<Value>("18446744073709551616").unwrap_or(Value::Null)),
    ];
    let string = prop_oneof![
        Just(String::new()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("-inf".to_owned()),
        Just("../etc/passwd".to_owned()),
        Just("a@v1".to_owned()),
        Just("m@v18446744073709551615".to_owned()),
        Just("\u{0}\u{202e}é🦀".to_owned()),
        (1usize..5000).prop_map(|n| "x".repeat(n)),
        "[a-z0-9@._-]{0,12}",
    ];
    prop_oneof![
        4 => number,
        3 => string.prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Array(Vec::new())),
        1 => Just(Value::Object(serde_json::Map::new())),
    ]
}

/// A sequence of 1–8 structural mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        6 => (any::<usize>(), hostile_value()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), 1usize..2000).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        1 => (any::<usize>(), 1usize..300).prop_map(|(at, d)| Mutation::Nest(at, d)),
        1 => any::<usize>().prop_map(Mutation::Swap),
    ];
    prop::collection::vec(one, 1..8)
}

/// Zero to two text mutations.
pub fn text_mutations() -> impl Strategy<Value = Vec<TextMutation>> {
    let one = prop_oneof![
        (any::<usize>()).prop_map(TextMutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| TextMutation::Flip(at, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just(",".to_owned()),
                Just("]".to_owned()),
                Just("{\"x\":".to_owned()),
                Just("[".repeat(200)),
                Just("1e999".to_owned()),
            ]
        )
            .prop_map(|(at, s)| TextMutation::Insert(at, s)),
    ];
    prop::collection::vec(one, 0..2)
}

/// Every node's JSON pointer, in pre-order (the root is `""`).
fn pointers(v: &Value) -> Vec<String> {
    fn walk(v: &Value, here: String, out: &mut Vec<String>) {
        out.push(here.clone());
        match v {
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    walk(c, format!("{here}/{i}"), out);
                }
            }
            Value::Object(o) => {
                for (k, c) in o {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    walk(c, format!("{here}/{k}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, String::new(), &mut out);
    out
}

/// The parent's pointer and the last segment (unescaped) of a non-root pointer.
fn split(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

/// Applies `mutations` to a copy of `seed`.
pub fn mutate(seed: &Value, mutations: &[Mutation]) -> Value {
    let mut doc = seed.clone();
    for m in mutations {
        let all = pointers(&doc);
        let pick = |i: usize| all[i % all.len()].clone();
        match m {
            Mutation::Replace(i, value) => {
                if let Some(node) = doc.pointer_mut(&pick(*i)) {
                    *node = value.clone();
                }
            }
            Mutation::Remove(i) => {
                let p = pick(*i);
                if let Some((parent, key)) = split(&p) {
                    match doc.pointer_mut(parent) {
                        Some(Value::Array(a)) => {
                            if let Ok(k) = key.parse::<usize>()
                                && k < a.len()
                            {
                                a.remove(k);
                            }
                        }
                        Some(Value::Object(o)) => {
                            o.remove(&key);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Duplicate(i, times) => {
                let p = pick(*i);
                let node = doc.pointer(&p).cloned().unwrap_or_default();
                match (node, split(&p)) {
                    (Value::Array(a), _) if !a.is_empty() => {
                        if let Some(Value::Array(a)) = doc.pointer_mut(&p) {
                            let last = a[a.len() - 1].clone();
                            a.extend(std::iter::repeat_n(last, *times));
                        }
                    }
                    (node, Some((parent, _))) => match doc.pointer_mut(parent) {
                        Some(Value::Array(a)) => a.extend(std::iter::repeat_n(node, *times)),
                        Some(Value::Object(o)) => {
                            for k in 0..(*times).min(64) {
                                o.insert(format!("dup{k}"), node.clone());
                            }
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            Mutation::Nest(i, depth) => {
                if let Some(node) = doc.pointer_mut(&pick(*i)) {
                    let mut v = std::mem::take(node);
                    for _ in 0..*depth {
                        v = Value::Array(vec![v]);
                    }
                    *node = v;
                }
            }
            Mutation::Swap(i) => {
                let (a, b) = (pick(*i), pick(i.wrapping_add(1)));
                let first = doc.pointer(&a).cloned().unwrap_or_default();
                let second = doc.pointer(&b).cloned().unwrap_or_default();
                // Only leaves, so neither contains the other.
                let leaf = |v: &Value| !v.is_array() && !v.is_object();
                if leaf(&first) && leaf(&second) {
                    if let Some(n) = doc.pointer_mut(&a) {
                        *n = second;
                    }
                    if let Some(n) = doc.pointer_mut(&b) {
                        *n = first;
                    }
                }
            }
        }
    }
    doc
}

/// Applies text mutations to serialized JSON (positions modulo the length, on char
/// boundaries).
pub fn mutate_text(text: &str, mutations: &[TextMutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            TextMutation::Truncate(at) => bytes.truncate(at % len),
            TextMutation::Flip(at, b) => {
                if let Some(x) = bytes.get_mut(at % len) {
                    *x = *b;
                }
            }
            TextMutation::Insert(at, s) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, s.bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A mutated document of `seed` as text: structural mutations, then text mutations.
pub fn mutated_json() -> impl Strategy<Value = (Vec<Mutation>, Vec<TextMutation>)> {
    (mutations(), text_mutations())
}

/// Renders a mutated seed.
pub fn render(seed: &Value, m: &(Vec<Mutation>, Vec<TextMutation>)) -> String {
    let doc = mutate(seed, &m.0);
    let text = serde_json::to_string(&doc).unwrap_or_default();
    let mut text = mutate_text(&text, &m.1);
    // Like a fuzzer's maximum input length: repeated duplications can grow a document
    // exponentially, and parsing costs a multiple of the input. Larger inputs have their own
    // size tests in each crate.
    if text.len() > MAX_FUZZ_INPUT {
        let mut end = MAX_FUZZ_INPUT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The longest fuzz input [`render`] produces, in bytes.
pub const MAX_FUZZ_INPUT: usize = 1 << 20;
