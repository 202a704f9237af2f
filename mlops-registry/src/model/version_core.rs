//! The immutable core of a version (artifacts, lineage, drift profile, author) and its builder.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use mlops_core::{Actor, Digest, ModelRef};
use serde::{Deserialize, Serialize};

use super::{MAX_LINEAGE_ENTRIES, MAX_TEXT_LEN, Tags, check_text};
use crate::error::{RegistryError, Result};

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
/// to change them afterwards. A [`ModelVersion`](super::ModelVersion) exposes it only by shared reference, and no
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
