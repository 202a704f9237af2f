//! Validated identifiers for models, versions and aliases.
//!
//! Each identifier is a newtype with a private field: the only ways to get one are its
//! constructor, [`FromStr`] and serde, and all three run the same validation. Once you hold a
//! [`ModelName`], it is valid.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{IdError, IdKind, shorten};

/// Checks length and character set, the rules every string identifier shares.
pub(crate) fn check_chars(
    kind: IdKind,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    allowed_words: &'static str,
) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = value.chars().count();
    if len > max {
        return Err(IdError::TooLong {
            kind,
            value: shorten(value),
            len,
            max,
        });
    }
    if let Some((position, ch)) = value.chars().enumerate().find(|&(_, c)| !allowed(c)) {
        return Err(IdError::InvalidChar {
            kind,
            value: shorten(value),
            ch,
            position,
            allowed: allowed_words,
        });
    }
    Ok(())
}

/// The name of a registered model: 1–128 characters of `[A-Za-z0-9._-]`, not starting with `.`,
/// never containing `..` (so a name is always safe as a path component or URL segment).
///
/// ```
/// use mlops_core::ModelName;
/// assert!(ModelName::new("churn.v2_gbm-eu").is_ok());
/// assert!(ModelName::new("../etc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelName(String);

impl ModelName {
    /// The longest allowed name, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates `name`.
    ///
    /// # Errors
    /// [`IdError`] naming the rule broken: empty, too long, a character outside
    /// `[A-Za-z0-9._-]`, a leading `.`, or `..` anywhere.
    pub fn new(name: impl Into<String>) -> Result<Self, IdError> {
        let name = name.into();
        Self::validate(&name)?;
        Ok(Self(name))
    }

    fn validate(name: &str) -> Result<(), IdError> {
        const KIND: IdKind = IdKind::ModelName;
        // Traversal first: `../x` is better explained as traversal than as a bad `/`.
        if name.contains("..") {
            return Err(IdError::PathTraversal {
                kind: KIND,
                value: shorten(name),
            });
        }
        check_chars(
            KIND,
            name,
            Self::MAX_LEN,
            |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
            "ASCII letters, digits, `.`, `_` and `-`",
        )?;
        if name.starts_with('.') {
            return Err(IdError::BadStart {
                kind: KIND,
                value: shorten(name),
                ch: '.',
            });
        }
        Ok(())
    }

    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A model version number, allocated by the registry: 1, 2, 3, … (never 0, never reused).
///
/// Displays as `v3`; parses from `3` or `v3`; serializes as a plain JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct VersionNumber(u64);

impl VersionNumber {
    /// The first version of every model.
    pub const FIRST: Self = Self(1);

    /// Validates `n ≥ 1`.
    ///
    /// # Errors
    /// [`IdError::ZeroVersion`] for 0.
    pub fn new(n: u64) -> Result<Self, IdError> {
        if n == 0 {
            Err(IdError::ZeroVersion)
        } else {
            Ok(Self(n))
        }
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }

    /// The version after this one, or `None` at `u64::MAX`.
    #[must_use]
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

/// A reference to one version of one model, written `name@v3`.
///
/// ```
/// use mlops_core::ModelRef;
/// let r: ModelRef = "credit-risk@v12".parse()?;
/// assert_eq!(r.version().get(), 12);
/// # Ok::<(), mlops_core::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelRef {
    name: ModelName,
    version: VersionNumber,
}

impl ModelRef {
    /// Pairs a model name with a version.
    #[must_use]
    pub fn new(name: ModelName, version: VersionNumber) -> Self {
        Self { name, version }
    }

    /// The model's name.
    #[must_use]
    pub fn name(&self) -> &ModelName {
        &self.name
    }

    /// The version.
    #[must_use]
    pub fn version(&self) -> VersionNumber {
        self.version
    }
}

/// An alias of a model version, such as `champion` or `challenger-2`: 1–64 characters of
/// `[A-Za-z0-9_-]`, starting with a letter. Reserved: `latest` (the newest version is a query,
/// not an alias) and names shaped like a version number (`v3`), which would be ambiguous.
///
/// ```
/// use mlops_core::AliasName;
/// assert!(AliasName::new("champion").is_ok());
/// assert!(AliasName::new("latest").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AliasName(Cow<'static, str>);

impl AliasName {
    /// The longest allowed alias, in characters.
    pub const MAX_LEN: usize = 64;
    /// Aliases that cannot be set because they mean something else.
    pub const RESERVED: &'static [&'static str] = &["latest", "current", "none", "all"];

    /// Validates `alias`.
    ///
    /// # Errors
    /// [`IdError`] naming the rule broken: empty, too long, a character outside `[A-Za-z0-9_-]`,
    /// not starting with a letter, or reserved.
    pub fn new(alias: impl Into<String>) -> Result<Self, IdError> {
        let alias = alias.into();
        Self::validate(&alias)?;
        Ok(Self(Cow::Owned(alias)))
    }

    fn validate(alias: &str) -> Result<(), IdError> {
        const KIND: IdKind = IdKind::AliasName;
        check_chars(
            KIND,
            alias,
            Self::MAX_LEN,
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
            "ASCII letters, digits, `_` and `-`",
        )?;
        if let Some(ch) = alias.chars().next().filter(|c| !c.is_ascii_alphabetic()) {
            return Err(IdError::BadStart {
                kind: KIND,
                value: shorten(alias),
                ch,
            });
        }
        let lower = alias.to_ascii_lowercase();
        if Self::RESERVED.contains(&lower.as_str()) {
            return Err(IdError::Reserved {
                kind: KIND,
                value: shorten(alias),
                reason: "it names a query, not a pointer",
            });
        }
        if let Some(digits) = lower.strip_prefix('v')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(IdError::Reserved {
                kind: KIND,
                value: shorten(alias),
                reason: "it looks like a version number",
            });
        }
        Ok(())
    }

    /// `champion`: the conventional alias of the serving model.
    pub const CHAMPION: Self = Self::from_static("champion");
    /// `challenger`: the conventional alias of the model competing with the champion.
    pub const CHALLENGER: Self = Self::from_static("challenger");

    /// The conventional alias of the serving model ([`AliasName::CHAMPION`]).
    #[must_use]
    pub fn champion() -> Self {
        Self::CHAMPION
    }

    /// The conventional alias of the model competing with the champion
    /// ([`AliasName::CHALLENGER`]).
    #[must_use]
    pub fn challenger() -> Self {
        Self::CHALLENGER
    }

    /// An alias from a literal, for `const` items, where an invalid literal is a compile error
    /// (as [`StateName::from_static`](crate::StateName::from_static)).
    ///
    /// # Panics
    /// If `alias` breaks the rules of [`AliasName::new`]: at compile time in a `const` item.
    #[must_use]
    pub const fn from_static(alias: &'static str) -> Self {
        assert!(Self::accepts(alias), "not a valid AliasName literal");
        Self(Cow::Borrowed(alias))
    }

    /// [`AliasName::validate`] as a yes/no, in a `const fn`.
    const fn accepts(alias: &str) -> bool {
        let bytes = alias.as_bytes();
        let [first, ..] = bytes else {
            return false;
        };
        if bytes.len() > Self::MAX_LEN || !first.is_ascii_alphabetic() {
            return false;
        }
        let mut rest = bytes;
        while let [b, tail @ ..] = rest {
            if !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-') {
                return false;
            }
            rest = tail;
        }
        let mut reserved = Self::RESERVED;
        while let [word, tail @ ..] = reserved {
            if bytes.eq_ignore_ascii_case(word.as_bytes()) {
                return false;
            }
            reserved = tail;
        }
        // `v` followed by digits only looks like a version number.
        if let [b'v' | b'V', digits @ ..] = bytes
            && !digits.is_empty()
        {
            let mut d = digits;
            while let [b, tail @ ..] = d {
                if !b.is_ascii_digit() {
                    return true;
                }
                d = tail;
            }
            return false;
        }
        true
    }

    /// The alias as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// --- conversions shared by the string identifiers -------------------------------------------

macro_rules! string_id_conversions {
    ($ty:ident) => {
        impl ::std::str::FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }
        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.0.into()
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_id_conversions;

string_id_conversions!(ModelName);
string_id_conversions!(AliasName);

impl fmt::Display for VersionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl FromStr for VersionNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix('v').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Malformed {
                kind: IdKind::VersionNumber,
                value: shorten(s),
                expected: "a positive integer such as `3` or `v3`",
            });
        }
        let n = digits.parse::<u64>().map_err(|_| IdError::Malformed {
            kind: IdKind::VersionNumber,
            value: shorten(s),
            expected: "a positive integer that fits in 64 bits",
        })?;
        Self::new(n)
    }
}

impl TryFrom<u64> for VersionNumber {
    type Error = IdError;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<VersionNumber> for u64 {
    fn from(v: VersionNumber) -> u64 {
        v.0
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl FromStr for ModelRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || IdError::Malformed {
            kind: IdKind::ModelRef,
            value: shorten(s),
            expected: "`name@vN`",
        };
        let (name, version) = s.rsplit_once('@').ok_or_else(malformed)?;
        let version = version.strip_prefix('v').ok_or_else(malformed)?;
        Ok(Self {
            name: name.parse()?,
            version: version.parse()?,
        })
    }
}

impl TryFrom<String> for ModelRef {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ModelRef> for String {
    fn from(r: ModelRef) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_literal_check_agrees_with_validation() {
        for s in [
            "",
            "champion",
            "challenger",
            "a",
            "A-b_9",
            "9a",
            "_a",
            "a b",
            "latest",
            "LaTeSt",
            "all",
            "v1",
            "V22",
            "v",
            "v1a",
            "vx",
            "é",
            "aé",
            "x".repeat(64).as_str(),
            "x".repeat(65).as_str(),
        ] {
            assert_eq!(AliasName::accepts(s), AliasName::new(s).is_ok(), "{s:?}");
        }
        assert_eq!(AliasName::CHAMPION, AliasName::new("champion").unwrap());
    }

    #[test]
    fn model_name_accepts_the_allowed_alphabet() {
        for ok in [
            "a",
            "A9",
            "churn.v2_gbm-eu",
            "x.y",
            "-lead-dash",
            "_u",
            &"m".repeat(128),
        ] {
            assert!(ModelName::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn model_name_rejects_each_rule() {
        assert_eq!(
            ModelName::new(""),
            Err(IdError::Empty {
                kind: IdKind::ModelName
            })
        );
        assert!(matches!(
            ModelName::new("m".repeat(129)),
            Err(IdError::TooLong {
                len: 129,
                max: 128,
                ..
            })
        ));
        assert!(matches!(
            ModelName::new("a b"),
            Err(IdError::InvalidChar {
                ch: ' ',
                position: 1,
                ..
            })
        ));
        assert!(matches!(
            ModelName::new("a/b"),
            Err(IdError::InvalidChar { ch: '/', .. })
        ));
        assert!(matches!(
            ModelName::new("tab\there"),
            Err(IdError::InvalidChar { ch: '\t', .. })
        ));
        assert!(matches!(
            ModelName::new("é"),
            Err(IdError::InvalidChar { ch: 'é', .. })
        ));
        assert!(matches!(
            ModelName::new(".hidden"),
            Err(IdError::BadStart { ch: '.', .. })
        ));
        assert!(matches!(
            ModelName::new("a..b"),
            Err(IdError::PathTraversal { .. })
        ));
        assert!(matches!(
            ModelName::new("../x"),
            Err(IdError::PathTraversal { .. })
        ));
        assert!(matches!(
            ModelName::new(".."),
            Err(IdError::PathTraversal { .. })
        ));
    }

    #[test]
    fn error_messages_name_the_value_and_rule() {
        let e = ModelName::new("a..b").unwrap_err().to_string();
        assert_eq!(e, "model name `a..b` contains `..` (path traversal)");
        let e = AliasName::new("latest").unwrap_err().to_string();
        assert!(e.contains("`latest`") && e.contains("reserved"), "{e}");
        let long = ModelName::new("x".repeat(500)).unwrap_err().to_string();
        assert!(long.len() < 200, "long values are shortened: {long}");
    }

    #[test]
    fn version_number_rules() {
        assert_eq!(VersionNumber::new(0), Err(IdError::ZeroVersion));
        assert_eq!(VersionNumber::new(7).unwrap().get(), 7);
        assert_eq!("v7".parse::<VersionNumber>().unwrap().get(), 7);
        assert_eq!("7".parse::<VersionNumber>().unwrap().get(), 7);
        assert_eq!("0".parse::<VersionNumber>(), Err(IdError::ZeroVersion));
        for bad in ["", "v", "-1", "+1", "1.0", "v 1", "99999999999999999999"] {
            assert!(
                matches!(bad.parse::<VersionNumber>(), Err(IdError::Malformed { .. })),
                "{bad}"
            );
        }
        assert_eq!(VersionNumber::new(u64::MAX).unwrap().next(), None);
        assert_eq!(VersionNumber::FIRST.next().unwrap().get(), 2);
    }

    #[test]
    fn model_ref_round_trips_and_rejects() {
        let r: ModelRef = "fraud.gbm@v12".parse().unwrap();
        assert_eq!(r.name().as_str(), "fraud.gbm");
        assert_eq!(r.version().get(), 12);
        assert_eq!(r.to_string().parse::<ModelRef>().unwrap(), r);
        assert!(matches!(
            "a@b@v3".parse::<ModelRef>(),
            Err(IdError::InvalidChar { ch: '@', .. })
        ));
        for bad in ["m", "m@3", "m@", "@v3", "m@vx", "m@v0"] {
            assert!(bad.parse::<ModelRef>().is_err(), "{bad}");
        }
        assert_eq!("m@v0".parse::<ModelRef>(), Err(IdError::ZeroVersion));
    }

    #[test]
    fn alias_rules() {
        for ok in ["champion", "challenger-2", "Shadow_A", "v", "vx1", "b2"] {
            assert!(AliasName::new(ok).is_ok(), "{ok}");
        }
        assert!(matches!(AliasName::new(""), Err(IdError::Empty { .. })));
        assert!(matches!(
            AliasName::new("2nd"),
            Err(IdError::BadStart { ch: '2', .. })
        ));
        assert!(matches!(
            AliasName::new("-x"),
            Err(IdError::BadStart { ch: '-', .. })
        ));
        assert!(matches!(
            AliasName::new("a.b"),
            Err(IdError::InvalidChar { ch: '.', .. })
        ));
        for reserved in ["latest", "LATEST", "current", "v3", "V12"] {
            assert!(
                matches!(AliasName::new(reserved), Err(IdError::Reserved { .. })),
                "{reserved}"
            );
        }
        assert!(matches!(
            AliasName::new("a".repeat(65)),
            Err(IdError::TooLong { .. })
        ));
        assert_eq!(AliasName::champion().as_str(), "champion");
    }

    #[test]
    fn serde_validates_on_deserialize() {
        let bad: Result<ModelName, _> = serde_json::from_str("\"../etc\"");
        assert!(bad.is_err());
        let bad: Result<VersionNumber, _> = serde_json::from_str("0");
        assert!(bad.is_err());
        let bad: Result<AliasName, _> = serde_json::from_str("\"latest\"");
        assert!(bad.is_err());
        let bad: Result<ModelRef, _> = serde_json::from_str("\"m@3\"");
        assert!(bad.is_err());
        let ok: ModelRef = serde_json::from_str("\"m@v3\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"m@v3\"");
        let v: VersionNumber = serde_json::from_str("4").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "4");
    }
}
