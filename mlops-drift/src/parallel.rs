//! Column-level parallelism for dataset profiles and reports.
//!
//! Columns are independent, so a report scores them on the threads of the current
//! [rayon](https://docs.rs/rayon) pool (the global one unless the host calls the report inside
//! its own `ThreadPool::install`), at most as many at a time as the caller allows. Each task
//! claims the next unscored column from a shared counter, so a slow column never holds back a
//! queue of others, and every result lands in its column's slot: the output is the serial
//! output, in the same order, bit for bit (each column is computed by the same code on one
//! thread either way). Memory stays linear in the data: a task holds one column's working
//! copy at a time.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};

/// Whether one column's work (a sort, a merge walk, a binning pass) may split over two threads.
///
/// A report scores its columns in parallel under its own thread cap, so its per-column work
/// stays on one thread ([`Threads::One`]); a single-column call such as
/// [`crate::report::score_numeric`] splits a large sample over two threads of the current rayon
/// pool ([`Threads::UpToTwo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// The caller's thread alone.
    One,
    /// Two threads of the current rayon pool when the work is large and the pool has them.
    UpToTwo,
}

impl Threads {
    /// Whether work on `len` values splits: asked for, at least `min_len`, and a pool of two.
    pub(crate) fn split(self, len: usize, min_len: usize) -> bool {
        self == Self::UpToTwo && len >= min_len && rayon::current_num_threads() >= 2
    }
}

/// Below this many values in all (current side) the thread hand-off costs more than it saves.
pub(crate) const MIN_PARALLEL_VALUES: usize = 1 << 15;

/// How many threads to use for `items` items holding `values` values in all, under the cap.
pub(crate) fn threads_for(items: usize, values: usize, cap: Option<NonZeroUsize>) -> usize {
    if items < 2 || values < MIN_PARALLEL_VALUES {
        return 1;
    }
    let pool = rayon::current_num_threads().max(1);
    let cap = cap.map_or(pool, NonZeroUsize::get);
    pool.min(cap).min(items)
}

/// `items.iter().map(f).collect()`, run on up to `threads` threads of the current rayon pool
/// (on the caller's thread alone when `threads` ≤ 1).
pub(crate) fn map_columns<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let claim = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let per_task: Vec<Vec<(usize, R)>> = (0..threads)
        .into_par_iter()
        .with_max_len(1)
        .map(|_| claim())
        .collect();
    let mut all: Vec<(usize, R)> = per_task.into_iter().flatten().collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}
