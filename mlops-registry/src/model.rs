//! The registry's records: registered models, versions with an immutable core and mutable
//! annotations, aliases, lifecycle state names, history, and the per-model aggregate that every
//! commit replaces as a whole.
//!
//! # Limits
//!
//! | what | limit |
//! |---|---|
//! | tags per model or version | [`Tags::MAX_TAGS`] (64) |
//! | tag key | 1–[`Tags::MAX_KEY_LEN`] (128) characters of `[A-Za-z0-9._:/-]` |
//! | tag value | at most [`Tags::MAX_VALUE_LEN`] (4096) characters, no control characters |
//! | description | at most [`MAX_DESCRIPTION_LEN`] (16 384) characters |
//! | URI, code reference, run id, text fields | at most [`MAX_TEXT_LEN`] (2048) characters, no control characters |
//! | parameters / metrics per version | [`MAX_LINEAGE_ENTRIES`] (1024) each |
//! | state name | 1–64 characters of `[a-z0-9_-]`, starting with a letter |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, AliasName, Digest, ModelName, ModelRef, RiskTier, VersionNumber};
use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result, shorten};
use crate::governed::{Authority, GovernanceRecords, GovernanceSeal, ProtectedChange};

/// The longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 16_384;
/// The longest URI, code reference, run id or other short text field, in characters.
pub const MAX_TEXT_LEN: usize = 2048;
/// The most parameters, metrics, datasets or artifacts a version may carry (each).
pub const MAX_LINEAGE_ENTRIES: usize = 1024;

fn check_text(field: &'static str, value: &str, max: usize, allow_empty: bool) -> Result<()> {
    // Descriptions may span lines; short fields may not.
    let multiline = max > MAX_TEXT_LEN;
    if !allow_empty && value.is_empty() {
        return Err(RegistryError::invalid(field, value, "must not be empty"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(RegistryError::invalid(
            field,
            value,
            format!("{len} characters; at most {max} are allowed"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))
    {
        return Err(RegistryError::invalid(
            field,
            value,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(())
}

/// Validates a description: at most [`MAX_DESCRIPTION_LEN`] characters; newlines and tabs are
/// allowed, other control characters are not.
///
/// # Errors
/// [`RegistryError::InvalidInput`] naming the value.
pub fn validate_description(description: &str) -> Result<()> {
    check_text("description", description, MAX_DESCRIPTION_LEN, true)
}

/// The compare-and-swap token of a model aggregate. Opaque to callers: compare it for equality
/// and hand it back to [`ModelStore::commit`](crate::store::ModelStore::commit). Stores create
/// it with [`Revision::initial`] and [`Revision::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(u64);

impl Revision {
    /// The revision of a newly created model.
    #[must_use]
    pub const fn initial() -> Self {
        Self(1)
    }

    /// The revision after this one (saturating; 2⁶⁴ commits are not reachable).
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }

    /// Rebuilds a revision a store persisted with [`Revision::as_u64`].
    #[must_use]
    pub const fn from_u64(n: u64) -> Self {
        Self(n)
    }

    /// The number a store persists.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// The name of a lifecycle state (defined in `mlops-core`, beside the other identifiers).
pub use mlops_core::StateName;

/// Key–value tags with documented limits (see the [module docs](self)). Validated on every
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

/// A registered model: the record at the top of a model's aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    name: ModelName,
    /// Free text (see [`validate_description`]).
    pub description: String,
    /// Who owns the model.
    pub owner: mlops_core::ActorId,
    /// Tags.
    pub tags: Tags,
    /// The risk tier (set by governance).
    pub risk_tier: RiskTier,
    created_at: DateTime<Utc>,
    /// When the model record or anything in its aggregate last changed (set by whoever commits).
    pub updated_at: DateTime<Utc>,
}

impl RegisteredModel {
    /// A new model record, created and updated at `at`.
    #[must_use]
    pub fn new(name: ModelName, owner: mlops_core::ActorId, at: DateTime<Utc>) -> Self {
        Self {
            name,
            description: String::new(),
            owner,
            tags: Tags::new(),
            risk_tier: RiskTier::default(),
            created_at: at,
            updated_at: at,
        }
    }

    /// The model's name (never changes).
    #[must_use]
    pub fn name(&self) -> &ModelName {
        &self.name
    }

    /// When it was registered (never changes).
    #[must_use]
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// One stored artifact of a version (weights, a serialized pipeline, a tokenizer...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// A short name, unique within the version (`model`, `tokenizer`).
    pub name: String,
    /// Where it is stored.
    pub uri: String,
    /// Its SHA-256 digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// What a dataset was used for in training a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DatasetRole {
    /// Training data.
    Training,
    /// Validation (or test) data.
    Validation,
    /// Anything else (calibration, reference for drift).
    Other,
}

/// A dataset a version was built from, pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// A short name (`transactions-2025q4`).
    pub name: String,
    /// What it was used for.
    pub role: DatasetRole,
    /// Where it is stored.
    pub uri: String,
    /// Its SHA-256 digest.
    pub digest: Digest,
}

/// The code a version was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    /// The repository (a URL or a name).
    pub repository: String,
    /// The commit (or other immutable revision).
    pub commit: String,
    /// The entry point within the repository, if any.
    pub path: Option<String>,
}

/// Where a version came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lineage {
    /// Training, validation and other datasets.
    pub datasets: Vec<DatasetRef>,
    /// The code.
    pub code: Option<CodeRef>,
    /// Training parameters.
    pub params: BTreeMap<String, String>,
    /// Training-time metrics (finite numbers).
    #[serde(with = "finite_map")]
    pub metrics: BTreeMap<String, f64>,
    /// The version this one was derived from (fine-tuned, retrained), possibly of another model.
    pub parent: Option<ModelRef>,
    /// The training run's id in the host's experiment tracker.
    pub run_id: Option<String>,
}

mod finite_map {
    //! Metrics are finite; serialized as plain JSON numbers.
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        m: &BTreeMap<String, f64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let m = BTreeMap::<String, f64>::deserialize(d)?;
        if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_finite()) {
            return Err(serde::de::Error::custom(format!(
                "metric `{k}` is not finite"
            )));
        }
        Ok(m)
    }
}

/// A reference to the drift reference profile fitted on a version's training data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRef {
    /// Where the serialized profile is stored.
    pub uri: String,
    /// The SHA-256 digest of the serialized profile.
    pub digest: Digest,
}

/// The immutable core of a version: artifacts, lineage, drift profile reference, author and
/// creation time.
///
/// Built and validated by [`VersionCore::builder`]; its fields are private and there is no way
/// to change them afterwards. A [`ModelVersion`] exposes it only by shared reference, and no
/// store method accepts a changed core for an existing version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionCore {
    artifacts: Vec<ArtifactRef>,
    lineage: Lineage,
    drift_profile: Option<ProfileRef>,
    created_by: Actor,
    created_at: DateTime<Utc>,
}

impl VersionCore {
    /// Starts building a core.
    pub fn builder(created_by: Actor, created_at: DateTime<Utc>) -> VersionCoreBuilder {
        VersionCoreBuilder {
            core: Self {
                artifacts: Vec::new(),
                lineage: Lineage::default(),
                drift_profile: None,
                created_by,
                created_at,
            },
        }
    }

    /// The artifacts.
    #[must_use]
    pub fn artifacts(&self) -> &[ArtifactRef] {
        &self.artifacts
    }
    /// The lineage.
    #[must_use]
    pub fn lineage(&self) -> &Lineage {
        &self.lineage
    }
    /// The drift reference profile, if attached at creation.
    #[must_use]
    pub fn drift_profile(&self) -> Option<&ProfileRef> {
        self.drift_profile.as_ref()
    }
    /// Who created the version.
    #[must_use]
    pub fn created_by(&self) -> &Actor {
        &self.created_by
    }
    /// When it was created.
    #[must_use]
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Whether two cores describe the same build (everything but the creation time equal); used
    /// to recognise an idempotent retry.
    #[must_use]
    pub fn same_content(&self, other: &Self) -> bool {
        self.artifacts == other.artifacts
            && self.lineage == other.lineage
            && self.drift_profile == other.drift_profile
            && self.created_by == other.created_by
    }

    /// Checks every field against the documented limits.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] naming the first bad value.
    pub fn validate(&self) -> Result<()> {
        if self.artifacts.len() > MAX_LINEAGE_ENTRIES {
            return Err(RegistryError::invalid(
                "artifacts",
                &self.artifacts.len().to_string(),
                format!("at most {MAX_LINEAGE_ENTRIES} artifacts"),
            ));
        }
        let mut names = BTreeSet::new();
        for a in &self.artifacts {
            check_text("artifact name", &a.name, 128, false)?;
            check_text("artifact uri", &a.uri, MAX_TEXT_LEN, false)?;
            if !names.insert(a.name.as_str()) {
                return Err(RegistryError::invalid(
                    "artifact name",
                    &a.name,
                    "appears twice in one version",
                ));
            }
        }
        let l = &self.lineage;
        if l.datasets.len() > MAX_LINEAGE_ENTRIES {
            return Err(RegistryError::invalid(
                "datasets",
                &l.datasets.len().to_string(),
                format!("at most {MAX_LINEAGE_ENTRIES} datasets"),
            ));
        }
        for d in &l.datasets {
            check_text("dataset name", &d.name, 256, false)?;
            check_text("dataset uri", &d.uri, MAX_TEXT_LEN, false)?;
        }
        if let Some(c) = &l.code {
            check_text("code repository", &c.repository, MAX_TEXT_LEN, false)?;
            check_text("code commit", &c.commit, 256, false)?;
            if let Some(p) = &c.path {
                check_text("code path", p, MAX_TEXT_LEN, false)?;
            }
        }
        for (what, n) in [("params", l.params.len()), ("metrics", l.metrics.len())] {
            if n > MAX_LINEAGE_ENTRIES {
                return Err(RegistryError::invalid(
                    what,
                    &n.to_string(),
                    format!("at most {MAX_LINEAGE_ENTRIES} entries"),
                ));
            }
        }
        for (k, v) in &l.params {
            Tags::validate_key(k)
                .map_err(|_| RegistryError::invalid("param name", k, "must be a valid tag key"))?;
            check_text("param value", v, Tags::MAX_VALUE_LEN, true)?;
        }
        for (k, v) in &l.metrics {
            Tags::validate_key(k)
                .map_err(|_| RegistryError::invalid("metric name", k, "must be a valid tag key"))?;
            if !v.is_finite() {
                return Err(RegistryError::invalid(
                    "metric value",
                    &format!("{k}={v}"),
                    "must be finite",
                ));
            }
        }
        if let Some(r) = &l.run_id {
            check_text("run id", r, 256, false)?;
        }
        if let Some(p) = &self.drift_profile {
            check_text("drift profile uri", &p.uri, MAX_TEXT_LEN, false)?;
        }
        Ok(())
    }
}

/// Builds a [`VersionCore`]; [`build`](VersionCoreBuilder::build) validates it.
///
/// ```
/// use mlops_core::{Actor, Digest};
/// use mlops_core::chrono::DateTime;
/// use mlops_registry::model::{DatasetRole, VersionCore};
///
/// let core = VersionCore::builder(Actor::human("alice")?, DateTime::UNIX_EPOCH)
///     .artifact("model", "s3://models/fraud/3/model.onnx", Digest::of(b"weights"), 1_024)
///     .dataset("train-2026q1", DatasetRole::Training, "s3://data/train.parquet", Digest::of(b"train"))
///     .param("max_depth", "6")
///     .metric("auc", 0.91)
///     .build()?;
/// assert_eq!(core.lineage().metrics["auc"], 0.91);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct VersionCoreBuilder {
    core: VersionCore,
}

impl VersionCoreBuilder {
    /// Adds an artifact.
    pub fn artifact(
        mut self,
        name: impl Into<String>,
        uri: impl Into<String>,
        digest: Digest,
        size_bytes: u64,
    ) -> Self {
        self.core.artifacts.push(ArtifactRef {
            name: name.into(),
            uri: uri.into(),
            digest,
            size_bytes,
        });
        self
    }

    /// Adds a dataset.
    pub fn dataset(
        mut self,
        name: impl Into<String>,
        role: DatasetRole,
        uri: impl Into<String>,
        digest: Digest,
    ) -> Self {
        self.core.lineage.datasets.push(DatasetRef {
            name: name.into(),
            role,
            uri: uri.into(),
            digest,
        });
        self
    }

    /// Sets the code reference.
    pub fn code(
        mut self,
        repository: impl Into<String>,
        commit: impl Into<String>,
        path: Option<String>,
    ) -> Self {
        self.core.lineage.code = Some(CodeRef {
            repository: repository.into(),
            commit: commit.into(),
            path,
        });
        self
    }

    /// Adds a training parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.core.lineage.params.insert(name.into(), value.into());
        self
    }

    /// Adds a training-time metric.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.core.lineage.metrics.insert(name.into(), value);
        self
    }

    /// Sets the parent version.
    pub fn parent(mut self, parent: ModelRef) -> Self {
        self.core.lineage.parent = Some(parent);
        self
    }

    /// Sets the training run id.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.core.lineage.run_id = Some(run_id.into());
        self
    }

    /// Attaches the drift reference profile.
    pub fn drift_profile(mut self, uri: impl Into<String>, digest: Digest) -> Self {
        self.core.drift_profile = Some(ProfileRef {
            uri: uri.into(),
            digest,
        });
        self
    }

    /// Validates and returns the core.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] naming the first value that breaks a limit.
    pub fn build(self) -> Result<VersionCore> {
        self.core.validate()?;
        Ok(self.core)
    }
}

/// The mutable part of a version: description and tags.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Annotations {
    /// Free text (see [`validate_description`]).
    pub description: String,
    /// Tags.
    pub tags: Tags,
}

/// The per-version mutable record kept in the model aggregate: lifecycle state, annotations and
/// the per-prediction (humility) rules the version serves with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionStatus {
    /// The lifecycle state name.
    pub state: StateName,
    /// Description and tags.
    pub annotations: Annotations,
    /// The humility rules the version serves with, stored beside its drift profile. Changing
    /// them while the version is in a protected state is a governed change (see
    /// [`governed`](crate::governed)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humility_rules: Option<RulesRef>,
}

/// A reference to a version's serialized humility rules (`mlops_drift::humility` JSON or TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesRef {
    /// Where the serialized rules are stored.
    pub uri: String,
    /// The SHA-256 digest of the serialized rules.
    pub digest: Digest,
}

/// A version as read from a store: its number, immutable core, and current state and
/// annotations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    model: ModelName,
    number: VersionNumber,
    core: VersionCore,
    status: VersionStatus,
}

impl ModelVersion {
    /// Assembles a version (for store implementations).
    #[must_use]
    pub fn new(
        model: ModelName,
        number: VersionNumber,
        core: VersionCore,
        status: VersionStatus,
    ) -> Self {
        Self {
            model,
            number,
            core,
            status,
        }
    }
    /// The model's name.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.model
    }
    /// The version number.
    #[must_use]
    pub fn number(&self) -> VersionNumber {
        self.number
    }
    /// `name@vN`.
    #[must_use]
    pub fn model_ref(&self) -> ModelRef {
        ModelRef::new(self.model.clone(), self.number)
    }
    /// The immutable core.
    #[must_use]
    pub fn core(&self) -> &VersionCore {
        &self.core
    }
    /// The lifecycle state name.
    #[must_use]
    pub fn state(&self) -> &StateName {
        &self.status.state
    }
    /// Description and tags.
    #[must_use]
    pub fn annotations(&self) -> &Annotations {
        &self.status.annotations
    }
    /// State and annotations together.
    #[must_use]
    pub fn status(&self) -> &VersionStatus {
        &self.status
    }
}

/// Where an alias points now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasTarget {
    /// The version.
    pub version: VersionNumber,
    /// When it was set.
    pub set_at: DateTime<Utc>,
    /// Who set it.
    pub set_by: mlops_core::ActorId,
}

/// One alias move, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasEvent {
    /// The alias.
    pub alias: AliasName,
    /// The version it pointed at before (`None`: it did not exist).
    pub from: Option<VersionNumber>,
    /// The version it points at after (`None`: it was removed).
    pub to: Option<VersionNumber>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: mlops_core::ActorId,
}

/// One lifecycle state change, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEvent {
    /// The version.
    pub version: VersionNumber,
    /// The state before.
    pub from: StateName,
    /// The state after.
    pub to: StateName,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: mlops_core::ActorId,
}

/// Everything mutable about one model, committed as a unit under one [`Revision`]: the model
/// record, each version's state and annotations, aliases (and which are protected), and the
/// alias and state history.
///
/// Change it through its methods — they keep the history — then hand it to
/// [`ModelStore::commit`](crate::store::ModelStore::commit) with the revision you read. Stores
/// reject a successor that renames the model, adds or removes versions, points an alias at a
/// missing version or rewrites history.
///
/// Cost: the aggregate is a plain value, so a read–modify–commit copies it: O(versions + alias
/// and state history) per commit (tens of microseconds at a thousand of each). Version creation
/// does not copy it.
///
/// ```
/// use mlops_core::{ActorId, AliasName, ModelName, VersionNumber};
/// use mlops_core::chrono::DateTime;
/// use mlops_registry::model::{ModelAggregate, RegisteredModel, StateName, VersionStatus};
///
/// let t = DateTime::UNIX_EPOCH;
/// let by = ActorId::new("alice")?;
/// let mut agg = ModelAggregate::new(RegisteredModel::new(ModelName::new("fraud")?, by.clone(), t));
/// let v1 = VersionNumber::FIRST;
/// agg.insert_version(v1, StateName::development())?; // stores do this when creating a version
/// agg.set_alias(AliasName::champion(), v1, &by, t)?;
/// assert_eq!(agg.alias(&AliasName::champion()), Some(v1));
/// assert_eq!(agg.alias_history().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAggregate {
    model: RegisteredModel,
    revision: Revision,
    versions: BTreeMap<VersionNumber, VersionStatus>,
    aliases: BTreeMap<AliasName, AliasTarget>,
    protected_aliases: BTreeSet<AliasName>,
    #[serde(default = "baseline_states")]
    protected_states: BTreeSet<StateName>,
    alias_history: Vec<AliasEvent>,
    state_history: Vec<StateEvent>,
    #[serde(default)]
    governance: GovernanceRecords,
    #[serde(skip)]
    authority: Authority,
}

fn baseline_states() -> BTreeSet<StateName> {
    crate::governed::baseline_states().collect()
}

impl ModelAggregate {
    /// The aggregate of a newly registered model: no versions, no aliases, [`Revision::initial`],
    /// and the baseline protected states and aliases
    /// ([`governed::BASELINE_PROTECTED_STATES`](crate::governed::BASELINE_PROTECTED_STATES),
    /// [`governed::BASELINE_PROTECTED_ALIASES`](crate::governed::BASELINE_PROTECTED_ALIASES)).
    #[must_use]
    pub fn new(model: RegisteredModel) -> Self {
        Self {
            model,
            revision: Revision::initial(),
            versions: BTreeMap::new(),
            aliases: BTreeMap::new(),
            protected_aliases: crate::governed::baseline_aliases().collect(),
            protected_states: baseline_states(),
            alias_history: Vec::new(),
            state_history: Vec::new(),
            governance: GovernanceRecords::default(),
            authority: Authority::default(),
        }
    }

    /// The model's name.
    #[must_use]
    pub fn name(&self) -> &ModelName {
        self.model.name()
    }
    /// The model record.
    #[must_use]
    pub fn model(&self) -> &RegisteredModel {
        &self.model
    }
    /// The model record, to change description, owner, tags, risk tier or `updated_at`.
    pub fn model_mut(&mut self) -> &mut RegisteredModel {
        &mut self.model
    }
    /// The revision this aggregate was read at.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }
    /// Sets the revision (for store implementations, after a successful commit) and drops the
    /// governance seal: an aggregate a store keeps or hands out never carries it.
    pub fn set_revision(&mut self, revision: Revision) {
        self.revision = revision;
        self.authority = Authority::default();
    }

    /// Every version's state and annotations, by number.
    #[must_use]
    pub fn versions(&self) -> &BTreeMap<VersionNumber, VersionStatus> {
        &self.versions
    }
    /// The newest version number, if any.
    #[must_use]
    pub fn latest_version(&self) -> Option<VersionNumber> {
        self.versions.keys().next_back().copied()
    }
    /// One version's state and annotations.
    #[must_use]
    pub fn version(&self, version: VersionNumber) -> Option<&VersionStatus> {
        self.versions.get(&version)
    }
    /// A version's lifecycle state.
    #[must_use]
    pub fn state(&self, version: VersionNumber) -> Option<&StateName> {
        self.versions.get(&version).map(|s| &s.state)
    }

    /// Adds a newly created version. Only stores call this, inside version creation; a commit
    /// that adds a version is rejected.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyExists`] if the number is taken; [`RegistryError::Protected`] for
    /// a protected initial state (versions enter those only through governance).
    pub fn insert_version(&mut self, version: VersionNumber, state: StateName) -> Result<()> {
        if self.protected_states.contains(&state) {
            return Err(self.protected(ProtectedChange::InitialState { state }));
        }
        if self.versions.contains_key(&version) {
            return Err(RegistryError::AlreadyExists {
                kind: crate::error::EntityKind::Version,
                id: format!("{}@{version}", self.name()),
            });
        }
        self.versions.insert(
            version,
            VersionStatus {
                state,
                annotations: Annotations::default(),
                humility_rules: None,
            },
        );
        Ok(())
    }

    fn status_mut(&mut self, version: VersionNumber) -> Result<&mut VersionStatus> {
        let name = self.model.name.clone();
        self.versions
            .get_mut(&version)
            .ok_or_else(|| RegistryError::version_not_found(&name, version))
    }

    /// A version's annotations, to change.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn annotations_mut(&mut self, version: VersionNumber) -> Result<&mut Annotations> {
        Ok(&mut self.status_mut(version)?.annotations)
    }

    /// Sets a version's lifecycle state and records the change; returns the previous state.
    /// Setting the state it already has records nothing.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn set_state(
        &mut self,
        version: VersionNumber,
        state: StateName,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<StateName> {
        let status = self.status_mut(version)?;
        let from = std::mem::replace(&mut status.state, state.clone());
        if from != state {
            self.state_history.push(StateEvent {
                version,
                from: from.clone(),
                to: state,
                at,
                by: by.clone(),
            });
        }
        Ok(from)
    }

    /// Sets (or clears) the humility rules `version` serves with. A commit that changes them
    /// while the version is in a protected state is refused unless sealed.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version.
    pub fn set_humility_rules(
        &mut self,
        version: VersionNumber,
        rules: Option<RulesRef>,
    ) -> Result<Option<RulesRef>> {
        Ok(std::mem::replace(
            &mut self.status_mut(version)?.humility_rules,
            rules,
        ))
    }

    /// The version an alias points at.
    #[must_use]
    pub fn alias(&self, alias: &AliasName) -> Option<VersionNumber> {
        self.aliases.get(alias).map(|t| t.version)
    }
    /// Every alias and its target.
    #[must_use]
    pub fn aliases(&self) -> &BTreeMap<AliasName, AliasTarget> {
        &self.aliases
    }
    /// The aliases pointing at `version`.
    pub fn aliases_of(&self, version: VersionNumber) -> impl Iterator<Item = &AliasName> {
        self.aliases
            .iter()
            .filter(move |(_, t)| t.version == version)
            .map(|(a, _)| a)
    }

    /// Points `alias` at `version` and records the move; returns where it pointed before.
    /// Setting it to where it already points records nothing. Protection is checked when the
    /// aggregate is committed: a protected alias moves only in a governance-sealed commit.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown version; nothing changes.
    pub fn set_alias(
        &mut self,
        alias: AliasName,
        version: VersionNumber,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<Option<VersionNumber>> {
        if !self.versions.contains_key(&version) {
            return Err(RegistryError::version_not_found(self.name(), version));
        }
        let from = self.alias(&alias);
        if from == Some(version) {
            return Ok(from);
        }
        self.aliases.insert(
            alias.clone(),
            AliasTarget {
                version,
                set_at: at,
                set_by: by.clone(),
            },
        );
        self.alias_history.push(AliasEvent {
            alias,
            from,
            to: Some(version),
            at,
            by: by.clone(),
        });
        Ok(from)
    }

    /// Removes `alias` and records it; returns where it pointed.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] if the alias is not set.
    pub fn remove_alias(
        &mut self,
        alias: &AliasName,
        by: &mlops_core::ActorId,
        at: DateTime<Utc>,
    ) -> Result<VersionNumber> {
        let target = self
            .aliases
            .remove(alias)
            .ok_or_else(|| RegistryError::NotFound {
                kind: crate::error::EntityKind::Alias,
                id: format!("{}#{alias}", self.model.name),
            })?;
        self.alias_history.push(AliasEvent {
            alias: alias.clone(),
            from: Some(target.version),
            to: None,
            at,
            by: by.clone(),
        });
        Ok(target.version)
    }

    /// Whether `alias` is protected (only governance moves it).
    #[must_use]
    pub fn is_protected(&self, alias: &AliasName) -> bool {
        self.protected_aliases.contains(alias)
    }
    /// The protected aliases.
    #[must_use]
    pub fn protected_aliases(&self) -> &BTreeSet<AliasName> {
        &self.protected_aliases
    }
    /// Whether `state` is protected (versions enter and leave it only through governance).
    #[must_use]
    pub fn is_protected_state(&self, state: &StateName) -> bool {
        self.protected_states.contains(state)
    }
    /// The protected lifecycle states.
    #[must_use]
    pub fn protected_states(&self) -> &BTreeSet<StateName> {
        &self.protected_states
    }
    /// Protects `state`. Protection only grows outside governance: a commit that drops a
    /// protected name is refused unless sealed.
    pub fn protect_state(&mut self, state: StateName) {
        self.protected_states.insert(state);
    }
    /// The records governance keeps with the model (approval requests).
    #[must_use]
    pub fn governance_records(&self) -> &GovernanceRecords {
        &self.governance
    }
    /// The records governance keeps with the model, to change (only a sealed commit may).
    pub fn governance_records_mut(&mut self) -> &mut GovernanceRecords {
        &mut self.governance
    }
    /// Seals this aggregate for its next commit: protected changes are then allowed (see
    /// [`governed`](crate::governed)). Only the holder of the process's seal can call it.
    pub fn authorize(&mut self, seal: &'static GovernanceSeal) {
        self.authority = Authority::sealed(seal);
    }
    /// Whether the aggregate carries the seal.
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        self.authority.is_sealed()
    }

    fn protected(&self, change: ProtectedChange) -> RegistryError {
        RegistryError::Protected {
            model: self.name().clone(),
            change,
        }
    }

    /// Checks that the aggregate is a valid new model for
    /// [`ModelStore::create_model`](crate::store::ModelStore::create_model): no versions, a
    /// valid description, and (unless sealed) the default risk tier, the baseline protection and
    /// no governance records. Every store calls it.
    ///
    /// # Errors
    /// [`RegistryError::InvalidCommit`] for versions; [`RegistryError::InvalidInput`] for the
    /// description; [`RegistryError::Protected`] for the rest.
    pub fn check_new(&self) -> Result<()> {
        if !self.versions.is_empty() || !self.aliases.is_empty() {
            return Err(RegistryError::InvalidCommit {
                model: self.name().clone(),
                reason: "a new model has no versions".to_owned(),
            });
        }
        validate_description(&self.model.description)?;
        if self.is_sealed() {
            return Ok(());
        }
        let creation = |reason| self.protected(ProtectedChange::Creation { reason });
        if self.model.risk_tier != RiskTier::default() {
            return Err(creation(
                "starts at the default risk tier; classify it through governance",
            ));
        }
        if !crate::governed::baseline_states().all(|s| self.protected_states.contains(&s))
            || !crate::governed::baseline_aliases().all(|a| self.protected_aliases.contains(&a))
        {
            return Err(creation(
                "protects at least the baseline states and aliases",
            ));
        }
        if !self.governance.is_empty() {
            return Err(creation("has no approval requests"));
        }
        Ok(())
    }

    /// The first change from `old` that only a sealed commit may make.
    fn first_protected_change(&self, old: &Self) -> Option<ProtectedChange> {
        if self.model.risk_tier != old.model.risk_tier {
            return Some(ProtectedChange::RiskTier {
                from: old.model.risk_tier,
                to: self.model.risk_tier,
            });
        }
        let lost = old
            .protected_states
            .iter()
            .find(|s| !self.protected_states.contains(*s))
            .map(ToString::to_string)
            .or_else(|| {
                old.protected_aliases
                    .iter()
                    .find(|a| !self.protected_aliases.contains(*a))
                    .map(ToString::to_string)
            });
        if let Some(name) = lost {
            return Some(ProtectedChange::Unprotect { name });
        }
        let protected_state =
            |s: &StateName| self.protected_states.contains(s) || old.protected_states.contains(s);
        for ((n, new), old_status) in self.versions.iter().zip(old.versions.values()) {
            if new.state != old_status.state
                && (protected_state(&new.state) || protected_state(&old_status.state))
            {
                return Some(ProtectedChange::State {
                    version: *n,
                    from: old_status.state.clone(),
                    to: new.state.clone(),
                });
            }
            if new.humility_rules != old_status.humility_rules
                && (protected_state(&new.state) || protected_state(&old_status.state))
            {
                return Some(ProtectedChange::HumilityRules { version: *n });
            }
        }
        if let Some(alias) = self
            .protected_aliases
            .iter()
            .find(|a| self.aliases.get(*a) != old.aliases.get(*a))
        {
            return Some(ProtectedChange::Alias {
                alias: alias.clone(),
            });
        }
        (self.governance != old.governance).then_some(ProtectedChange::GovernanceRecords)
    }

    /// Marks `alias` protected (or not). Unprotecting is refused at commit unless sealed.
    pub fn set_protected(&mut self, alias: AliasName, protection: Protection) {
        match protection {
            Protection::Protected => {
                self.protected_aliases.insert(alias);
            }
            Protection::Unprotected => {
                self.protected_aliases.remove(&alias);
            }
        }
    }

    /// Every alias move, oldest first.
    #[must_use]
    pub fn alias_history(&self) -> &[AliasEvent] {
        &self.alias_history
    }
    /// Every state change, oldest first.
    #[must_use]
    pub fn state_history(&self) -> &[StateEvent] {
        &self.state_history
    }

    /// The version `alias` pointed at, at instant `at` (the last move at or before `at`).
    #[must_use]
    pub fn alias_at(&self, alias: &AliasName, at: DateTime<Utc>) -> Option<VersionNumber> {
        self.alias_history
            .iter()
            .rev()
            .find(|e| &e.alias == alias && e.at <= at)
            .and_then(|e| e.to)
    }

    /// The version `alias` pointed at before its current target (the `from` of its last move to
    /// the current target), for rollback.
    #[must_use]
    pub fn previous_alias_target(&self, alias: &AliasName) -> Option<VersionNumber> {
        self.alias_history
            .iter()
            .rev()
            .find(|e| &e.alias == alias)
            .and_then(|e| e.from)
    }

    /// Checks that `self` is a valid successor of `old` for a commit: same name and creation
    /// time, the same set of versions, aliases pointing at existing versions, histories that
    /// only grew, and (unless the aggregate is sealed) no protected change (see
    /// [`governed`](crate::governed)). Every store calls it inside its compare-and-swap.
    ///
    /// # Errors
    /// [`RegistryError::InvalidCommit`] naming what is wrong; [`RegistryError::Protected`]
    /// naming the first protected change of an unsealed commit.
    pub fn check_successor_of(&self, old: &Self) -> Result<()> {
        let bad = |reason: String| RegistryError::InvalidCommit {
            model: old.name().clone(),
            reason,
        };
        if self.name() != old.name() {
            return Err(bad(format!(
                "the model cannot be renamed to `{}`",
                self.name()
            )));
        }
        if self.model.created_at != old.model.created_at {
            return Err(bad("the creation time cannot change".to_owned()));
        }
        validate_description(&self.model.description)?;
        if !self.versions.keys().eq(old.versions.keys()) {
            return Err(bad(
                "a commit cannot add or remove versions; create versions with `create_version`"
                    .to_owned(),
            ));
        }
        for status in self.versions.values() {
            validate_description(&status.annotations.description)?;
        }
        if let Some((alias, target)) = self
            .aliases
            .iter()
            .find(|(_, t)| !self.versions.contains_key(&t.version))
        {
            return Err(bad(format!(
                "alias `{alias}` points at missing version {}",
                target.version
            )));
        }
        if self.alias_history.len() < old.alias_history.len()
            || self.alias_history.get(..old.alias_history.len()) != Some(&old.alias_history[..])
        {
            return Err(bad("alias history can only grow".to_owned()));
        }
        if self.state_history.len() < old.state_history.len()
            || self.state_history.get(..old.state_history.len()) != Some(&old.state_history[..])
        {
            return Err(bad("state history can only grow".to_owned()));
        }
        if !self.is_sealed()
            && let Some(change) = self.first_protected_change(old)
        {
            tracing::warn!(model = %old.name(), %change, "unsealed protected change refused");
            return Err(self.protected(change));
        }
        Ok(())
    }
}

/// Whether an alias is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Only governance moves it.
    Protected,
    /// Anyone with write access moves it.
    Unprotected,
}

/// An idempotency key for version creation: a retried create with the same key returns the
/// version the first attempt created. 1–128 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates `key`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for an empty or too long key or a control character.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        check_text("idempotency key", &key, 128, false)?;
        Ok(Self(key))
    }

    /// The key as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = RegistryError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shorten(&self.0))
    }
}

/// The parts of a [`ModelAggregate`], for stores that persist them separately.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateParts {
    /// The model record.
    pub model: RegisteredModel,
    /// The revision.
    pub revision: Revision,
    /// Each version's state and annotations.
    pub versions: BTreeMap<VersionNumber, VersionStatus>,
    /// Current aliases.
    pub aliases: BTreeMap<AliasName, AliasTarget>,
    /// Protected aliases.
    pub protected_aliases: BTreeSet<AliasName>,
    /// Protected lifecycle states.
    pub protected_states: BTreeSet<StateName>,
    /// The records governance keeps with the model.
    pub governance: GovernanceRecords,
    /// Alias moves, oldest first.
    pub alias_history: Vec<AliasEvent>,
    /// State changes, oldest first.
    pub state_history: Vec<StateEvent>,
}

impl ModelAggregate {
    /// Reassembles an aggregate a store persisted in parts. Aliases pointing at missing
    /// versions are rejected.
    ///
    /// # Errors
    /// [`RegistryError::Corrupt`] naming the dangling alias.
    pub fn from_parts(parts: AggregateParts) -> Result<Self> {
        if let Some((alias, t)) = parts
            .aliases
            .iter()
            .find(|(_, t)| !parts.versions.contains_key(&t.version))
        {
            return Err(RegistryError::Corrupt {
                detail: format!(
                    "alias `{alias}` of model `{}` points at missing version {}",
                    parts.model.name, t.version
                ),
            });
        }
        Ok(Self {
            model: parts.model,
            revision: parts.revision,
            versions: parts.versions,
            aliases: parts.aliases,
            protected_aliases: parts.protected_aliases,
            protected_states: parts.protected_states,
            alias_history: parts.alias_history,
            state_history: parts.state_history,
            governance: parts.governance,
            authority: Authority::default(),
        })
    }

    /// Splits the aggregate into its parts.
    #[must_use]
    pub fn into_parts(self) -> AggregateParts {
        AggregateParts {
            model: self.model,
            revision: self.revision,
            versions: self.versions,
            aliases: self.aliases,
            protected_aliases: self.protected_aliases,
            protected_states: self.protected_states,
            alias_history: self.alias_history,
            state_history: self.state_history,
            governance: self.governance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::seconds(s)
    }

    fn agg_with(n: u64) -> ModelAggregate {
        let mut a = ModelAggregate::new(RegisteredModel::new(
            ModelName::new("m").unwrap(),
            mlops_core::ActorId::new("a").unwrap(),
            t(0),
        ));
        for i in 1..=n {
            a.insert_version(VersionNumber::new(i).unwrap(), StateName::development())
                .unwrap();
        }
        a
    }

    #[test]
    fn revision_is_opaque_but_ordered() {
        let r = Revision::initial();
        assert_eq!(r.next().as_u64(), 2);
        assert_eq!(Revision::from_u64(r.as_u64()), r);
        assert_eq!(r.to_string(), "r1");
        assert_eq!(Revision::from_u64(u64::MAX).next().as_u64(), u64::MAX);
    }

    #[test]
    fn text_fields_reject_control_characters_except_newlines_in_descriptions() {
        assert!(validate_description("line one\nline two\tand tab").is_ok());
        assert!(validate_description("bell\u{7}").is_err());
        assert!(Tags::validate_value("no\nnewline? allowed in long values").is_ok());
        assert!(IdempotencyKey::new("a\nb").is_err());
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("x".repeat(129)).is_err());
    }

    #[test]
    fn alias_history_answers_point_in_time_and_rollback() {
        let mut a = agg_with(3);
        let by = mlops_core::ActorId::new("b").unwrap();
        let c = AliasName::champion();
        assert_eq!(
            a.set_alias(c.clone(), VersionNumber::FIRST, &by, t(10))
                .unwrap(),
            None
        );
        // Re-setting the same target records nothing.
        assert_eq!(
            a.set_alias(c.clone(), VersionNumber::FIRST, &by, t(11))
                .unwrap(),
            Some(VersionNumber::FIRST)
        );
        assert_eq!(a.alias_history().len(), 1);
        let v2 = VersionNumber::new(2).unwrap();
        a.set_alias(c.clone(), v2, &by, t(20)).unwrap();
        a.remove_alias(&c, &by, t(30)).unwrap();
        assert_eq!(a.alias_at(&c, t(9)), None);
        assert_eq!(a.alias_at(&c, t(10)), Some(VersionNumber::FIRST));
        assert_eq!(a.alias_at(&c, t(29)), Some(v2));
        assert_eq!(a.alias_at(&c, t(30)), None);
        assert_eq!(a.previous_alias_target(&c), Some(v2));
        assert!(matches!(
            a.remove_alias(&c, &by, t(31)),
            Err(RegistryError::NotFound { .. })
        ));
    }

    #[test]
    fn state_changes_are_recorded_once() {
        let mut a = agg_with(1);
        let by = mlops_core::ActorId::new("b").unwrap();
        let v1 = VersionNumber::FIRST;
        let prod = StateName::new("production").unwrap();
        assert_eq!(
            a.set_state(v1, prod.clone(), &by, t(1)).unwrap(),
            StateName::development()
        );
        assert_eq!(a.set_state(v1, prod.clone(), &by, t(2)).unwrap(), prod);
        assert_eq!(a.state_history().len(), 1);
        assert!(matches!(
            a.set_state(VersionNumber::new(2).unwrap(), prod, &by, t(3)),
            Err(RegistryError::NotFound { .. })
        ));
    }

    #[test]
    fn successor_rules() {
        let old = agg_with(2);
        let by = mlops_core::ActorId::new("b").unwrap();
        let mut ok = old.clone();
        ok.set_alias(AliasName::challenger(), VersionNumber::FIRST, &by, t(1))
            .unwrap();
        ok.model_mut().description = "changed".into();
        ok.check_successor_of(&old).unwrap();
        // The reverse drops history.
        assert!(matches!(
            old.check_successor_of(&ok),
            Err(RegistryError::InvalidCommit { .. })
        ));
        let mut more = old.clone();
        more.insert_version(VersionNumber::new(3).unwrap(), StateName::development())
            .unwrap();
        assert!(more.check_successor_of(&old).is_err());
        let mut rewritten = ok.clone();
        rewritten.alias_history[0].by = mlops_core::ActorId::new("mallory").unwrap();
        assert!(rewritten.check_successor_of(&ok).is_err());
        let mut dangling = ok.clone();
        dangling.aliases.insert(
            AliasName::new("shadow").unwrap(),
            AliasTarget {
                version: VersionNumber::new(9).unwrap(),
                set_at: t(2),
                set_by: by,
            },
        );
        assert!(dangling.check_successor_of(&ok).is_err());
        assert!(ModelAggregate::from_parts(dangling.into_parts()).is_err());
    }

    fn seal() -> &'static GovernanceSeal {
        static SEAL: std::sync::OnceLock<Option<&'static GovernanceSeal>> =
            std::sync::OnceLock::new();
        SEAL.get_or_init(GovernanceSeal::claim)
            .expect("this test binary claims the seal once")
    }

    fn protected_change(new: &ModelAggregate, old: &ModelAggregate) -> ProtectedChange {
        match new.check_successor_of(old) {
            Err(RegistryError::Protected { change, .. }) => change,
            other => panic!("expected a protected change, got {other:?}"),
        }
    }

    #[test]
    fn unsealed_commits_cannot_touch_protected_state_aliases_tier_or_records() {
        let old = agg_with(2);
        let by = mlops_core::ActorId::new("b").unwrap();
        let prod = StateName::new("production").unwrap();
        let v1 = VersionNumber::FIRST;

        let mut a = old.clone();
        a.set_state(v1, prod.clone(), &by, t(1)).unwrap();
        assert!(
            matches!(protected_change(&a, &old), ProtectedChange::State { to, .. } if to == prod)
        );

        let mut a = old.clone();
        a.set_alias(AliasName::champion(), v1, &by, t(1)).unwrap();
        assert!(matches!(
            protected_change(&a, &old),
            ProtectedChange::Alias { .. }
        ));

        let mut a = old.clone();
        a.set_protected(AliasName::champion(), Protection::Unprotected);
        assert!(matches!(
            protected_change(&a, &old),
            ProtectedChange::Unprotect { .. }
        ));

        let mut a = old.clone();
        a.model_mut().risk_tier = RiskTier::Low;
        assert!(matches!(
            protected_change(&a, &old),
            ProtectedChange::RiskTier { .. }
        ));

        let mut a = old.clone();
        a.governance_records_mut().approvals_opened = 1;
        assert!(matches!(
            protected_change(&a, &old),
            ProtectedChange::GovernanceRecords
        ));

        // Protection may grow without the seal; a newly protected alias is then guarded too.
        let mut a = old.clone();
        a.protect_state(StateName::new("serving").unwrap());
        a.set_protected(AliasName::challenger(), Protection::Protected);
        a.check_successor_of(&old).unwrap();
        let mut b = a.clone();
        b.set_alias(AliasName::challenger(), v1, &by, t(2)).unwrap();
        assert!(matches!(
            protected_change(&b, &a),
            ProtectedChange::Alias { .. }
        ));

        // Leaving a protected state is as guarded as entering it.
        let mut sealed = old.clone();
        sealed.set_state(v1, prod.clone(), &by, t(1)).unwrap();
        sealed.authorize(seal());
        sealed.check_successor_of(&old).unwrap();
        let mut after = sealed.clone();
        after.set_revision(Revision::initial().next());
        assert!(
            !after.is_sealed(),
            "a stored aggregate never keeps the seal"
        );
        let mut demoted = after.clone();
        demoted
            .set_state(v1, StateName::development(), &by, t(2))
            .unwrap();
        assert!(matches!(
            protected_change(&demoted, &after),
            ProtectedChange::State { .. }
        ));
    }

    #[test]
    fn sealed_commits_may_make_protected_changes() {
        let old = agg_with(1);
        let by = mlops_core::ActorId::new("b").unwrap();
        let mut a = old.clone();
        a.set_state(
            VersionNumber::FIRST,
            StateName::new("production").unwrap(),
            &by,
            t(1),
        )
        .unwrap();
        a.set_alias(AliasName::champion(), VersionNumber::FIRST, &by, t(1))
            .unwrap();
        a.model_mut().risk_tier = RiskTier::Critical;
        a.governance_records_mut().approvals_opened = 3;
        a.authorize(seal());
        a.check_successor_of(&old).unwrap();
        assert!(
            GovernanceSeal::claim().is_none(),
            "the seal is handed out once per process"
        );
    }

    #[test]
    fn new_models_start_governed() {
        let fresh = ModelAggregate::new(RegisteredModel::new(
            ModelName::new("m").unwrap(),
            mlops_core::ActorId::new("a").unwrap(),
            t(0),
        ));
        assert!(fresh.is_protected(&AliasName::champion()));
        assert!(fresh.is_protected_state(&StateName::new("production").unwrap()));
        fresh.check_new().unwrap();
        let mut critical = fresh.clone();
        critical.model_mut().risk_tier = RiskTier::Low;
        assert!(matches!(
            critical.check_new(),
            Err(RegistryError::Protected {
                change: ProtectedChange::Creation { .. },
                ..
            })
        ));
        let mut bare = fresh.clone();
        bare.set_protected(AliasName::champion(), Protection::Unprotected);
        assert!(bare.check_new().is_err());
        critical.authorize(seal());
        critical.check_new().unwrap();
        let mut v = fresh.clone();
        assert!(matches!(
            v.insert_version(VersionNumber::FIRST, StateName::new("production").unwrap()),
            Err(RegistryError::Protected {
                change: ProtectedChange::InitialState { .. },
                ..
            })
        ));
        assert!(v.versions().is_empty());
    }
}
