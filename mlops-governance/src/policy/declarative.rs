//! The built-in declarative policy.

use std::collections::{BTreeMap, BTreeSet};

use mlops_core::{Actor, Digest, RiskTier, Role};
use serde::{Deserialize, Serialize};

use super::{
    Action, EnforcementMode, Guard, GuardInput, GuardKind, GuardOutcome, GuardSource, PolicyEngine,
    Verdict,
};
use crate::error::{AuthorizationError, PolicyError};
use crate::lifecycle::{Lifecycle, StateName};
use crate::policy::GuardStatus;

/// What a risk tier requires: the guards for entering each state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierRules {
    /// Guards evaluated on every transition into the named state.
    #[serde(default)]
    pub entering: BTreeMap<StateName, Vec<Guard>>,
}

impl TierRules {
    /// Adds `guard` to the transitions entering `state`.
    #[must_use]
    pub fn entering(mut self, state: StateName, guard: Guard) -> Self {
        self.entering.entry(state).or_default().push(guard);
        self
    }
}

/// Who may perform each action, by role. An actor holding any listed role may; an empty list
/// means nobody may (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// May request transitions.
    #[serde(default)]
    pub request: BTreeSet<Role>,
    /// May approve or reject approval requests (also subject to the guards' roles).
    #[serde(default)]
    pub approve: BTreeSet<Role>,
    /// May apply break-glass overrides.
    #[serde(default, rename = "override")]
    pub override_: BTreeSet<Role>,
    /// May replace the policy.
    #[serde(default)]
    pub change_policy: BTreeSet<Role>,
    /// May cancel anyone's approval request (requesters may always cancel their own).
    #[serde(default)]
    pub cancel: BTreeSet<Role>,
    /// May record evidence against a version (monitoring services, validators).
    #[serde(default = "default_evidence_recorders")]
    pub record_evidence: BTreeSet<Role>,
}

fn default_evidence_recorders() -> BTreeSet<Role> {
    [
        Role::data_scientist(),
        Role::ml_engineer(),
        Role::model_validator(),
        Role::risk_officer(),
    ]
    .into()
}

impl Default for Permissions {
    /// Data scientists and ML engineers request; validators, risk, compliance and business owners
    /// approve; incident responders override; governance admins change policy and cancel; data
    /// scientists, ML engineers, validators and risk officers record evidence.
    fn default() -> Self {
        Self {
            request: [Role::data_scientist(), Role::ml_engineer()].into(),
            approve: [
                Role::model_validator(),
                Role::risk_officer(),
                Role::compliance_officer(),
                Role::business_owner(),
            ]
            .into(),
            override_: [Role::incident_responder()].into(),
            change_policy: [Role::governance_admin()].into(),
            cancel: [Role::governance_admin()].into(),
            record_evidence: default_evidence_recorders(),
        }
    }
}

impl Permissions {
    /// The roles allowed to perform `action`.
    #[must_use]
    pub fn roles(&self, action: Action) -> &BTreeSet<Role> {
        match action {
            Action::Request => &self.request,
            Action::Approve => &self.approve,
            Action::Override => &self.override_,
            Action::ChangePolicy => &self.change_policy,
            Action::Cancel => &self.cancel,
            Action::RecordEvidence => &self.record_evidence,
        }
    }
}

/// Enforcement mode per environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// The mode where no environment entry matches.
    #[serde(default)]
    pub default: EnforcementMode,
    /// Modes by environment name (for example `staging = "warn"`).
    #[serde(default)]
    pub environments: BTreeMap<String, EnforcementMode>,
}

impl Enforcement {
    /// The mode in `environment`.
    #[must_use]
    pub fn mode(&self, environment: &str) -> EnforcementMode {
        self.environments
            .get(environment)
            .copied()
            .unwrap_or(self.default)
    }
}

/// An unvalidated declarative policy, as written by a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// The policy's name.
    pub name: String,
    /// Who may do what.
    #[serde(default)]
    pub permissions: Permissions,
    /// Enforcement per environment.
    #[serde(default)]
    pub enforcement: Enforcement,
    /// What each risk tier requires; every tier must be present.
    pub tiers: BTreeMap<RiskTier, TierRules>,
}

impl PolicySpec {
    /// A policy with default permissions, enforcement everywhere, and no requirements at any
    /// tier (add them with [`PolicySpec::tier`]).
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            permissions: Permissions::default(),
            enforcement: Enforcement::default(),
            tiers: RiskTier::ALL
                .into_iter()
                .map(|t| (t, TierRules::default()))
                .collect(),
        }
    }

    /// Sets the rules of `tier`.
    #[must_use]
    pub fn tier(mut self, tier: RiskTier, rules: TierRules) -> Self {
        self.tiers.insert(tier, rules);
        self
    }

    /// Sets the mode of `environment`.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>, mode: EnforcementMode) -> Self {
        self.enforcement
            .environments
            .insert(environment.into(), mode);
        self
    }

    /// Sets the permissions.
    #[must_use]
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// Validates the policy.
    ///
    /// # Errors
    /// As [`Policy::new`].
    pub fn validate(self) -> Result<Policy, PolicyError> {
        Policy::new(self)
    }
}

/// A validated declarative policy with its content hash.
///
/// At [`RiskTier::Critical`] every transition into a protected state also requires the
/// two-person rule (two distinct people other than the author and the requester), whatever the
/// policy file says. Sign-offs by the version's author or the transition's requester never count.
///
/// ```
/// use mlops_governance::policy::Policy;
/// let policy = Policy::from_toml(r#"
/// name = "bank"
/// [tiers.low]
/// [tiers.medium]
/// [tiers.high]
/// [[tiers.high.entering.production]]
/// kind = "approvals"
/// count = 1
/// roles = ["risk-officer"]
/// [tiers.critical]
/// "#)?;
/// assert_eq!(policy.spec().name, "bank");
/// # Ok::<(), mlops_governance::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    spec: PolicySpec,
    identity: Digest,
}

impl Policy {
    /// Validates `spec` and computes its identity (SHA-256 of its canonical JSON encoding).
    ///
    /// # Errors
    /// [`PolicyError::MissingTier`] if a risk tier has no entry, [`PolicyError::InvalidGuard`]
    /// for an approvals guard asking for zero sign-offs or naming no roles, an evidence guard with
    /// a non-finite threshold, a documentation guard with no fields, or a freeze window that ends
    /// before it starts.
    pub fn new(spec: PolicySpec) -> Result<Self, PolicyError> {
        for tier in RiskTier::ALL {
            let rules = spec
                .tiers
                .get(&tier)
                .ok_or(PolicyError::MissingTier { tier })?;
            for (state, guards) in &rules.entering {
                for guard in guards {
                    check_guard(guard).map_err(|reason| PolicyError::InvalidGuard {
                        tier,
                        state: state.clone(),
                        reason,
                    })?;
                }
            }
        }
        let canonical = serde_json::to_vec(&spec).map_err(|e| PolicyError::Load(e.into()))?;
        Ok(Self {
            identity: Digest::of(&canonical),
            spec,
        })
    }

    /// A policy that requires nothing but permissions: every tier empty.
    #[must_use]
    pub fn permissive(name: &str) -> Self {
        let spec = PolicySpec::new(name);
        let identity = Digest::of(serde_json::to_vec(&spec).unwrap_or_default().as_slice());
        Self { spec, identity }
    }

    /// Parses and validates a JSON policy.
    ///
    /// # Errors
    /// [`PolicyError::Load`] for bad JSON or a field of the wrong shape; otherwise as
    /// [`Policy::new`].
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let spec: PolicySpec =
            serde_json::from_str(text).map_err(|e| PolicyError::Load(e.into()))?;
        Self::new(spec)
    }

    /// Parses and validates a TOML policy.
    ///
    /// # Errors
    /// As [`Policy::from_json`].
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let spec: PolicySpec = toml::from_str(text).map_err(|e| PolicyError::Load(e.into()))?;
        Self::new(spec)
    }

    /// The policy as pretty JSON.
    ///
    /// # Errors
    /// [`PolicyError::Load`] if serialization fails.
    pub fn to_json(&self) -> Result<String, PolicyError> {
        serde_json::to_string_pretty(&self.spec).map_err(|e| PolicyError::Load(e.into()))
    }

    /// The policy as TOML.
    ///
    /// # Errors
    /// [`PolicyError::Load`] if serialization fails.
    pub fn to_toml(&self) -> Result<String, PolicyError> {
        toml::to_string(&self.spec).map_err(|e| PolicyError::Load(e.into()))
    }

    /// The validated definition.
    #[must_use]
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// Checks that every state the policy names exists in `lifecycle`.
    ///
    /// # Errors
    /// [`PolicyError::UnknownState`] naming the first state that does not.
    pub fn check_against(&self, lifecycle: &Lifecycle) -> Result<(), PolicyError> {
        for (tier, rules) in &self.spec.tiers {
            for state in rules.entering.keys() {
                if lifecycle.state(state).is_err() {
                    return Err(PolicyError::UnknownState {
                        tier: *tier,
                        state: state.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The guards of `tier` for entering `state`.
    #[must_use]
    pub fn guards(&self, tier: RiskTier, state: &StateName) -> &[Guard] {
        self.spec
            .tiers
            .get(&tier)
            .and_then(|r| r.entering.get(state))
            .map_or(&[], Vec::as_slice)
    }
}

fn check_guard(guard: &Guard) -> Result<(), String> {
    match guard {
        Guard::Approvals { count, roles, .. } => {
            if *count == 0 {
                return Err("an approvals guard must ask for at least one sign-off".into());
            }
            if roles.is_empty() {
                return Err("an approvals guard must name at least one role".into());
            }
        }
        Guard::Evidence {
            threshold: Some(t), ..
        } if !t.value.is_finite() => {
            return Err(format!("evidence threshold `{}` is not finite", t.value));
        }
        Guard::Documentation { fields } if fields.is_empty() => {
            return Err("a documentation guard must name at least one field".into());
        }
        Guard::FreezeWindow { start, end, .. } if end <= start => {
            return Err(format!(
                "freeze window ends ({end}) before it starts ({start})"
            ));
        }
        _ => {}
    }
    Ok(())
}

fn outcome(
    source: GuardSource,
    index: usize,
    kind: GuardKind,
    status: GuardStatus,
) -> GuardOutcome {
    GuardOutcome {
        source,
        index: u16::try_from(index).unwrap_or(u16::MAX),
        kind,
        status,
    }
}

impl PolicyEngine for Policy {
    fn identity(&self) -> Digest {
        self.identity
    }

    fn evaluate(&self, input: &GuardInput<'_>) -> Result<Verdict, PolicyError> {
        let policy_guards = self.guards(input.tier, &input.to.name);
        let lifecycle_guards = input.transition_guards;
        let mut outcomes = Vec::with_capacity(lifecycle_guards.len() + policy_guards.len() + 2);
        // The requester's permission is a guard like any other: it shows in the verdict.
        let permission = match self.authorize(input.requester, Action::Request, Some(input)) {
            Ok(()) => GuardStatus::Met,
            Err(e) => GuardStatus::Unmet {
                reason: e.to_string(),
            },
        };
        outcomes.push(outcome(
            GuardSource::Builtin,
            0,
            GuardKind::Permission,
            permission,
        ));
        for (i, g) in lifecycle_guards.iter().enumerate() {
            outcomes.push(outcome(
                GuardSource::Lifecycle,
                i,
                g.kind(),
                g.evaluate(input),
            ));
        }
        for (i, g) in policy_guards.iter().enumerate() {
            outcomes.push(outcome(GuardSource::Policy, i, g.kind(), g.evaluate(input)));
        }
        if input.tier == RiskTier::Critical && input.to.protected {
            outcomes.push(outcome(
                GuardSource::Builtin,
                1,
                GuardKind::TwoPersonRule,
                Guard::TwoPersonRule.evaluate(input),
            ));
        }
        Ok(Verdict::from_outcomes(
            self.identity,
            self.spec.enforcement.mode(input.environment),
            outcomes,
        ))
    }

    fn authorize(
        &self,
        actor: &Actor,
        action: Action,
        input: Option<&GuardInput<'_>>,
    ) -> Result<(), AuthorizationError> {
        let allowed = self.spec.permissions.roles(action);
        let unauthorized = |allowed: &BTreeSet<Role>| AuthorizationError::MissingRole {
            actor: actor.id.to_string(),
            action,
            allowed: allowed
                .iter()
                .map(Role::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        };
        if !actor.roles.iter().any(|r| allowed.contains(r)) {
            return Err(unauthorized(allowed));
        }
        if action == Action::Approve
            && let Some(input) = input
        {
            // The sign-off must count toward some approvals guard of this transition.
            let mut eligible = BTreeSet::new();
            let mut two_person = input.tier == RiskTier::Critical && input.to.protected;
            for g in input
                .transition_guards
                .iter()
                .chain(self.guards(input.tier, &input.to.name))
            {
                match g {
                    Guard::Approvals { roles, .. } => eligible.extend(roles.iter().cloned()),
                    Guard::TwoPersonRule => two_person = true,
                    _ => {}
                }
            }
            let counts = actor.roles.iter().any(|r| eligible.contains(r))
                || (two_person && actor.kind == mlops_core::ActorKind::Human);
            if !counts {
                return Err(AuthorizationError::WrongRole {
                    actor: actor.id.to_string(),
                    required: eligible
                        .iter()
                        .map(Role::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }
}
