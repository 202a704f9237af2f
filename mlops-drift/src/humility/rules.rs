//! Rules and policies as data: a trigger and an action per rule, how fired rules combine, and
//! the JSON and TOML wire formats.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::{HumilityError, Result};
use super::evaluation::CompiledPolicy;
use super::schema::FeatureSchema;
use super::triggers::{Trigger, shorten};
use super::{MAX_POLICY_BYTES, MAX_RULE_NAME_BYTES, MAX_RULES};

/// The format version written by this build. Readers accept this version and older ones.
pub const HUMILITY_FORMAT_VERSION: u32 = 1;

/// What a rule does to the prediction when it fires.
///
/// Severity, used by [`Combine::MostSevere`]: `reject` > `override` > `no_op`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Action {
    /// Count the rule and log it (a `debug` event), serve the prediction unchanged. A no-op
    /// rule never decides.
    NoOp,
    /// Serve `value` instead of the model's prediction (a safe default, the base rate).
    Override {
        /// The value served (finite).
        value: f64,
    },
    /// Refuse the prediction: the caller gets [`Verdict::Reject`](super::Verdict::Reject) to
    /// turn into an error response.
    Reject,
}

impl Action {
    /// The action's rank for [`Combine::MostSevere`]: 0 for no-op, 1 for override, 2 for reject.
    #[must_use]
    pub fn severity(&self) -> u8 {
        match self {
            Self::NoOp => 0,
            Self::Override { .. } => 1,
            Self::Reject => 2,
        }
    }
}

/// How the actions of several fired rules combine into one verdict. Every rule is evaluated
/// (and counted) whichever is chosen; no-op rules never decide.
///
/// Exhaustive on purpose: evaluation must handle every way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The most severe action wins (reject > override > no-op); among rules of equal severity
    /// the first in the policy's order wins.
    #[default]
    MostSevere,
    /// The first fired rule (in the policy's order) whose action is not a no-op decides.
    FirstMatch,
}

/// One rule: a named trigger and the action taken when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A unique name: 1 to [`MAX_RULE_NAME_BYTES`] bytes, no control characters. Counters,
    /// logs and evidence name the rule by it.
    pub name: String,
    /// When it fires.
    pub trigger: Trigger,
    /// What it does then.
    pub action: Action,
}

impl Rule {
    /// A rule.
    #[must_use]
    pub fn new(name: impl Into<String>, trigger: Trigger, action: Action) -> Self {
        Self {
            name: name.into(),
            trigger,
            action,
        }
    }
}

/// A policy of humility rules: what a service does with a prediction it should not trust,
/// before answering. Data (JSON or TOML, stored with the model version it belongs to), checked
/// by [`HumilityPolicy::validate`] and compiled against the row's features into the
/// [`CompiledPolicy`] the request path evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumilityPolicy {
    /// The format version ([`HUMILITY_FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// How fired rules combine.
    #[serde(default)]
    pub combine: Combine,
    /// The rules, in order (the order breaks ties).
    pub rules: Vec<Rule>,
}

impl Default for HumilityPolicy {
    fn default() -> Self {
        Self::new(Combine::default())
    }
}

impl HumilityPolicy {
    /// An empty policy combining fired rules by `combine`.
    #[must_use]
    pub fn new(combine: Combine) -> Self {
        Self {
            format_version: HUMILITY_FORMAT_VERSION,
            combine,
            rules: Vec::new(),
        }
    }

    /// Appends a rule.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Appends a rule made of `name`, `trigger` and `action`.
    #[must_use]
    pub fn with(self, name: impl Into<String>, trigger: Trigger, action: Action) -> Self {
        self.rule(Rule::new(name, trigger, action))
    }

    /// Checks everything that does not need the schema: the format version, the number of
    /// rules, names, bounds, bands, bins, shares, category lists and override values.
    ///
    /// # Errors
    /// [`HumilityError::FormatVersion`], [`HumilityError::Limit`] for more than [`MAX_RULES`]
    /// rules, [`HumilityError::DuplicateRule`], or [`HumilityError::InvalidRule`] naming the
    /// first bad rule.
    pub fn validate(&self) -> Result<()> {
        if self.format_version > HUMILITY_FORMAT_VERSION {
            return Err(HumilityError::FormatVersion {
                found: self.format_version,
                supported: HUMILITY_FORMAT_VERSION,
            });
        }
        if self.rules.len() > MAX_RULES {
            return Err(HumilityError::Limit {
                what: "humility rules",
                limit: MAX_RULES,
                found: self.rules.len(),
            });
        }
        let mut names = BTreeSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let name = &rule.name;
            if name.trim().is_empty()
                || name.len() > MAX_RULE_NAME_BYTES
                || name.chars().any(char::is_control)
            {
                return Err(HumilityError::InvalidRule {
                    rule: format!("#{i}"),
                    reason: format!(
                        "a rule name must have 1 to {MAX_RULE_NAME_BYTES} bytes, not blank, \
                         without control characters"
                    ),
                });
            }
            if !names.insert(name.as_str()) {
                return Err(HumilityError::DuplicateRule {
                    name: shorten(name),
                });
            }
            let invalid = |reason: String| HumilityError::InvalidRule {
                rule: shorten(name),
                reason,
            };
            rule.trigger.check().map_err(invalid)?;
            if let Action::Override { value } = rule.action
                && !value.is_finite()
            {
                return Err(invalid(format!(
                    "an override value must be finite, not {value}"
                )));
            }
        }
        Ok(())
    }

    /// Validates and compiles the policy against the features of the rows it will see.
    ///
    /// # Errors
    /// As [`HumilityPolicy::validate`], plus [`HumilityError::UnknownFeature`] and
    /// [`HumilityError::FeatureKind`].
    pub fn compile(&self, schema: &FeatureSchema) -> Result<CompiledPolicy> {
        CompiledPolicy::new(self, schema)
    }

    /// Reads a policy from JSON and validates it.
    ///
    /// # Errors
    /// [`HumilityError::Limit`] for a text above [`MAX_POLICY_BYTES`],
    /// [`HumilityError::Malformed`] for a syntax error, an unknown field or a wrong type, and as
    /// [`HumilityPolicy::validate`].
    pub fn from_json(text: &str) -> Result<Self> {
        check_size(text)?;
        let policy: Self = serde_json::from_str(text).map_err(|e| HumilityError::Malformed {
            format: "json",
            reason: e.to_string(),
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// Reads a policy from TOML and validates it.
    ///
    /// # Errors
    /// As [`HumilityPolicy::from_json`].
    pub fn from_toml(text: &str) -> Result<Self> {
        check_size(text)?;
        let policy: Self = toml::from_str(text).map_err(|e| HumilityError::Malformed {
            format: "toml",
            reason: e.to_string(),
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy as pretty JSON (the wire format pinned by `tests/golden/humility_policy.json`).
    ///
    /// # Errors
    /// [`HumilityError::Malformed`] if serialization fails (it does not for a valid policy).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| HumilityError::Malformed {
            format: "json",
            reason: e.to_string(),
        })
    }

    /// The policy as TOML (pinned by `tests/golden/humility_policy.toml`).
    ///
    /// # Errors
    /// [`HumilityError::Malformed`] if serialization fails (it does not for a valid policy).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| HumilityError::Malformed {
            format: "toml",
            reason: e.to_string(),
        })
    }
}

fn check_size(text: &str) -> Result<()> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(HumilityError::Limit {
            what: "bytes in a humility policy",
            limit: MAX_POLICY_BYTES,
            found: text.len(),
        });
    }
    Ok(())
}
