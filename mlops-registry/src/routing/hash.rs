//! The routing hash: a specified, portable function from (salt, unit id) to one of 10 000
//! buckets.
//!
//! # Specification
//!
//! 1. The message is the salt's bytes (ASCII, 1–64 characters of `[A-Za-z0-9._-]`), then one
//!    colon byte `0x3A`, then the unit id's bytes exactly as given (any bytes, any length,
//!    possibly none): `message = salt ‖ b":" ‖ unit`. A salt cannot contain `:`, so the split is
//!    unambiguous.
//! 2. `h = XXH3_64bits(message)` — the 64-bit XXH3 of the xxHash specification with seed 0 and
//!    the default secret (as in the `xxhash` Python package's `xxh3_64_intdigest`).
//! 3. `bucket = (h × 10 000) >> 64`, computed in 128-bit integers: a multiply-shift, which maps
//!    the 2⁶⁴ hash values onto 10 000 buckets whose sizes differ by at most one hash value (no
//!    modulo bias). Buckets are `0..=9_999`.
//! 4. Shadow mirroring uses the low 32 bits of the same hash:
//!    `mirror_bucket = ((h mod 2³²) × 10 000) >> 32`.
//!
//! # Test vectors
//!
//! Pinned by a test in this module; reproduce them anywhere, for example in Python with
//! `h = xxhash.xxh3_64_intdigest(b"exp-42:user-1"); (h * 10000) >> 64`.
//!
//! | salt | unit id | xxh3-64 | bucket | mirror bucket |
//! |---|---|---|---|---|
//! | `exp-42` | *(empty)* | `0x6edc1d83a2768904` | 4330 | 6346 |
//! | `exp-42` | `user-1` | `0x99437ff1d7a8eebb` | 5986 | 8424 |
//! | `exp-42` | `user-2` | `0x800667ee7a7c5b40` | 5000 | 4784 |
//! | `checkout.v2` | `3f2b8c1e-9d4a-4f6b-8a7e-2c1d5e9f0a3b` | `0xdfec3104573b1f5f` | 8746 | 3407 |
//! | `a` | `a` | `0xd63166a567acdecf` | 8366 | 4049 |
//! | `fraud_2026-q1` | `acct:000123` | `0x451075227124602f` | 2697 | 4419 |
//! | `s` | `x` repeated 100 times | `0x1ba337f9e9df9cf5` | 1079 | 9135 |
//!
//! ```
//! use mlops_registry::routing::{Salt, bucket};
//!
//! let salt = Salt::new("exp-42")?;
//! assert_eq!(bucket(&salt, b"user-1").get(), 5986);
//! # Ok::<(), mlops_registry::routing::RoutingError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

use super::error::{Result, RoutingError, shorten};

/// The number of buckets the hash maps onto. Weights resolve to 0.01 % steps.
pub const BUCKETS: u16 = 10_000;

/// The longest salt, in bytes.
const MAX_SALT: usize = 64;
/// Messages up to this length are assembled on the stack and hashed in one shot; longer ones are
/// streamed (same result, also without allocating).
const INLINE: usize = 128;

/// A per-experiment salt: 1–64 characters of `[A-Za-z0-9._-]`. Changing the salt reshuffles
/// every unit, so a new experiment gets a fresh, independent assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Salt(String);

impl Salt {
    /// Validates `salt`.
    ///
    /// # Errors
    /// [`RoutingError::InvalidSalt`] if it is empty, longer than 64 bytes or has a character
    /// outside `[A-Za-z0-9._-]`.
    pub fn new(salt: impl Into<String>) -> Result<Self> {
        let salt = salt.into();
        let ok = !salt.is_empty()
            && salt.len() <= MAX_SALT
            && salt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(salt))
        } else {
            Err(RoutingError::InvalidSalt {
                salt: shorten(&salt),
            })
        }
    }

    /// The salt as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Salt {
    type Error = RoutingError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<Salt> for String {
    fn from(s: Salt) -> Self {
        s.0
    }
}

impl std::str::FromStr for Salt {
    type Err = RoutingError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// One of the 10 000 buckets, `0..=9_999`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Bucket(u16);

impl Bucket {
    /// The bucket number, `0..=9_999`.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0
    }

    /// The bucket a 64-bit hash falls in: `(h × 10 000) >> 64`.
    #[must_use]
    #[inline]
    pub fn of_hash(h: u64) -> Self {
        // (h * 10_000) >> 64 < 10_000 for every u64 h, so the narrowing cannot truncate.
        #[allow(clippy::cast_possible_truncation)] // reason: the result is below 10 000
        Self(((u128::from(h) * u128::from(BUCKETS)) >> 64) as u16)
    }

    /// The mirror bucket of a hash (its low 32 bits, multiply-shifted), used to sample shadows
    /// independently of the arm assignment.
    #[must_use]
    #[inline]
    pub fn mirror_of_hash(h: u64) -> Self {
        #[allow(clippy::cast_possible_truncation)] // reason: the result is below 10 000
        Self((((h & 0xFFFF_FFFF) * u64::from(BUCKETS)) >> 32) as u16)
    }
}

/// The routing hash of a unit id under a salt: `XXH3_64(salt ‖ ":" ‖ unit)`. Never allocates.
#[must_use]
#[inline]
pub fn unit_hash(salt: &Salt, unit: &[u8]) -> u64 {
    let salt = salt.0.as_bytes();
    let len = salt.len() + 1 + unit.len();
    let mut buf = [0_u8; INLINE];
    if let Some(msg) = buf.get_mut(..len)
        && let Some((head, rest)) = msg.split_at_mut_checked(salt.len())
        && let Some((colon, tail)) = rest.split_first_mut()
    {
        head.copy_from_slice(salt);
        *colon = b':';
        tail.copy_from_slice(unit);
        xxh3_64(msg)
    } else {
        let mut h = Xxh3Default::new();
        h.update(salt);
        h.update(b":");
        h.update(unit);
        h.digest()
    }
}

/// The bucket of a unit id under a salt (see the module documentation for the specification).
#[must_use]
#[inline]
pub fn bucket(salt: &Salt, unit: &[u8]) -> Bucket {
    Bucket::of_hash(unit_hash(salt, unit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (salt, unit, xxh3-64, bucket, mirror bucket), computed with the `xxhash` Python package
    /// (`xxhash.xxh3_64_intdigest(salt + b":" + unit)`), independently of this crate.
    const VECTORS: &[(&str, &str, u64, u16, u16)] = &[
        ("exp-42", "", 0x6edc_1d83_a276_8904, 4330, 6346),
        ("exp-42", "user-1", 0x9943_7ff1_d7a8_eebb, 5986, 8424),
        ("exp-42", "user-2", 0x8006_67ee_7a7c_5b40, 5000, 4784),
        (
            "checkout.v2",
            "3f2b8c1e-9d4a-4f6b-8a7e-2c1d5e9f0a3b",
            0xdfec_3104_573b_1f5f,
            8746,
            3407,
        ),
        ("a", "a", 0xd631_66a5_67ac_decf, 8366, 4049),
        (
            "fraud_2026-q1",
            "acct:000123",
            0x4510_7522_7124_602f,
            2697,
            4419,
        ),
    ];

    #[test]
    fn published_test_vectors_are_pinned() {
        for &(salt, unit, h, b, m) in VECTORS {
            let salt = Salt::new(salt).unwrap();
            assert_eq!(unit_hash(&salt, unit.as_bytes()), h, "{salt}:{unit}");
            assert_eq!(bucket(&salt, unit.as_bytes()).get(), b, "{salt}:{unit}");
            assert_eq!(Bucket::mirror_of_hash(h).get(), m, "{salt}:{unit}");
        }
        // A message longer than the inline buffer takes the streaming path.
        let long = "x".repeat(100);
        let salt = Salt::new("s").unwrap();
        assert_eq!(unit_hash(&salt, long.as_bytes()), 0x1ba3_37f9_e9df_9cf5);
        assert_eq!(bucket(&salt, long.as_bytes()).get(), 1079);
        // The spec's own anchor: XXH3_64 of the empty input.
        assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn multiply_shift_covers_the_range_evenly() {
        assert_eq!(Bucket::of_hash(0).get(), 0);
        assert_eq!(Bucket::of_hash(u64::MAX).get(), 9_999);
        // Each bucket's first hash value: ceil(b * 2^64 / 10_000).
        for b in [1_u16, 2, 4_999, 5_000, 9_999] {
            let first = (u128::from(b) << 64).div_ceil(10_000);
            let first = u64::try_from(first).unwrap();
            assert_eq!(Bucket::of_hash(first).get(), b);
            assert_eq!(Bucket::of_hash(first - 1).get(), b - 1);
        }
    }

    #[test]
    fn salts_are_validated() {
        assert!(Salt::new("exp-42.v_2").is_ok());
        for bad in ["", "has:colon", "spa ce", "ü", &"a".repeat(65)] {
            assert!(
                matches!(Salt::new(bad), Err(RoutingError::InvalidSalt { .. })),
                "{bad}"
            );
        }
        assert!(Salt::new("a".repeat(64)).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Inline and streaming paths agree, and both equal the one-shot hash of the message.
        #[test]
        fn hash_equals_the_hash_of_the_specified_message(
            salt in "[A-Za-z0-9._-]{1,64}",
            unit in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let s = Salt::new(salt.clone()).unwrap();
            let mut msg = salt.into_bytes();
            msg.push(b':');
            msg.extend_from_slice(&unit);
            prop_assert_eq!(unit_hash(&s, &unit), xxh3_64(&msg));
            prop_assert!(bucket(&s, &unit).get() < BUCKETS);
        }
    }
}
