//! Helpers shared by the unit tests: a fixed pseudo-random sequence and rayon pools of a given
//! size (for the tests that check work split over threads gives the serial result).

/// xorshift64*: a fixed sequence of 64-bit patterns from `seed` (not zero).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Uniform values in [0, 1) from [`xorshift`].
pub(crate) fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut next = xorshift(seed);
    #[expect(clippy::cast_precision_loss, reason = "53 bits, exact")]
    move || (next() >> 11) as f64 / (1_u64 << 53) as f64
}

/// A rayon pool of exactly `threads` threads.
pub(crate) fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap_or_else(|e| panic!("a pool of {threads} threads: {e}"))
}
