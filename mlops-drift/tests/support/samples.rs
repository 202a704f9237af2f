//! Deterministic test data without `rand`, shared by the drift integration tests (included with
//! `#[path]`; each test binary uses a part of it).
#![allow(dead_code, unreachable_pub)]

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(u64);

impl Lcg {
    /// Starts from `state` as it is.
    pub fn new(state: u64) -> Self {
        Self(state)
    }

    /// Starts from a scrambled `seed`, so neighbouring seeds give unrelated streams.
    pub fn scrambled(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(2_862_933_555_777_941_757)
                .wrapping_add(3_037_000_493),
        )
    }

    /// The next 53 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// The next value in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.bits() as f64 / (1_u64 << 53) as f64
    }
}

impl Iterator for Lcg {
    type Item = f64;
    fn next(&mut self) -> Option<f64> {
        Some(self.unit())
    }
}

/// `n` normal values (xorshift64* and Box–Muller).
pub fn normal(seed: u64, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1_u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let u1 = 1.0 - next();
            let u2 = next();
            mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}
