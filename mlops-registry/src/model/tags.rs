//! Key–value tags with documented limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::check_text;
use crate::error::{RegistryError, Result};

/// Key–value tags with documented limits (see the [module docs](super)). Validated on every
/// insert and on deserialization.
///
/// ```
/// use mlops_registry::model::Tags;
/// let mut tags = Tags::new();
/// tags.insert("team", "fraud")?;
/// assert_eq!(tags.get("team"), Some("fraud"));
/// assert!(tags.insert("bad key", "x").is_err());
/// # Ok::<(), mlops_registry::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Tags(BTreeMap<String, String>);

impl Tags {
    /// The most tags on one object.
    pub const MAX_TAGS: usize = 64;
    /// The longest key, in characters.
    pub const MAX_KEY_LEN: usize = 128;
    /// The longest value, in characters.
    pub const MAX_VALUE_LEN: usize = 4096;

    /// No tags.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks a key against the rules without inserting it.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] naming the key.
    pub fn validate_key(key: &str) -> Result<()> {
        let len = key.chars().count();
        if len == 0 || len > Self::MAX_KEY_LEN {
            return Err(RegistryError::invalid(
                "tag key",
                key,
                format!("must be 1 to {} characters", Self::MAX_KEY_LEN),
            ));
        }
        if let Some(c) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-')))
        {
            return Err(RegistryError::invalid(
                "tag key",
                key,
                format!("contains {c:?}; allowed: ASCII letters, digits, `.`, `_`, `:`, `/`, `-`"),
            ));
        }
        Ok(())
    }

    /// Checks a value against the rules.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] naming the value.
    pub fn validate_value(value: &str) -> Result<()> {
        check_text("tag value", value, Self::MAX_VALUE_LEN, true)
    }

    /// Sets `key` to `value`, returning the previous value.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for an invalid key or value or when a new key would
    /// exceed [`Tags::MAX_TAGS`]; the tags are unchanged.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>> {
        let (key, value) = (key.into(), value.into());
        Self::validate_key(&key)?;
        Self::validate_value(&value)?;
        if !self.0.contains_key(&key) && self.0.len() >= Self::MAX_TAGS {
            return Err(RegistryError::invalid(
                "tag key",
                &key,
                format!("would exceed the limit of {} tags", Self::MAX_TAGS),
            ));
        }
        Ok(self.0.insert(key, value))
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All tags, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many tags.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no tags.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<BTreeMap<String, String>> for Tags {
    type Error = RegistryError;
    fn try_from(map: BTreeMap<String, String>) -> Result<Self> {
        let mut tags = Self::new();
        for (k, v) in map {
            tags.insert(k, v)?;
        }
        Ok(tags)
    }
}

impl From<Tags> for BTreeMap<String, String> {
    fn from(t: Tags) -> Self {
        t.0
    }
}
