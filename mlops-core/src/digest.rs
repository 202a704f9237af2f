//! SHA-256 digests that pin artifacts and datasets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{IdError, IdKind, shorten};

/// A SHA-256 digest. Displays and serializes as 64 lowercase hex characters; parses from 64 hex
/// characters in either case, with an optional `sha256:` prefix.
///
/// ```
/// use mlops_core::Digest;
/// let d = Digest::of(b"hello");
/// assert_eq!(d.to_string(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
/// assert_eq!(d, format!("sha256:{d}").parse()?);
/// # Ok::<(), mlops_core::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps 32 raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s.strip_prefix("sha256:").unwrap_or(s);
        if hex_part.is_empty() {
            return Err(IdError::Empty {
                kind: IdKind::Digest,
            });
        }
        if let Some((position, ch)) = hex_part
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
        {
            return Err(IdError::InvalidChar {
                kind: IdKind::Digest,
                value: shorten(s),
                ch,
                position,
                allowed: "hexadecimal digits",
            });
        }
        let mut bytes = [0_u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| IdError::Malformed {
            kind: IdKind::Digest,
            value: shorten(s),
            expected: "64 hexadecimal characters (a SHA-256 digest)",
        })?;
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for Digest {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // sha256("") from FIPS 180-2 examples.
        assert_eq!(
            Digest::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rules() {
        let upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(upper.parse::<Digest>().unwrap(), Digest::of(b""));
        assert!(matches!("".parse::<Digest>(), Err(IdError::Empty { .. })));
        assert!(matches!(
            "sha256:".parse::<Digest>(),
            Err(IdError::Empty { .. })
        ));
        assert!(matches!(
            "abc".parse::<Digest>(),
            Err(IdError::Malformed { .. })
        ));
        assert!(matches!(
            "g".repeat(64).parse::<Digest>(),
            Err(IdError::InvalidChar { ch: 'g', .. })
        ));
        assert!(matches!(
            "a".repeat(66).parse::<Digest>(),
            Err(IdError::Malformed { .. })
        ));
        let bad: Result<Digest, _> = serde_json::from_str("\"xyz\"");
        assert!(bad.is_err());
    }
}
