//! Responsibilities: a RACI matrix as data.
//!
//! Each task of the model lifecycle (identification, data preparation,
//! modelling, model acceptance, productionalization, deployments, monitoring, and the tasks a
//! host adds) maps roles to [`Responsibility`]: Responsible, Accountable, Consulted, Informed.
//! [`Raci::new`] validates that every task has **exactly one** Accountable role.
//!
//! A RACI matrix feeds the lifecycle's guards: [`Raci::accountable_guard`] is a sign-off guard
//! that only the holder of the task's Accountable role can satisfy (the engine's separation of
//! duties still applies: the author and the requester never count), and
//! [`Raci::bind`] adds such guards to a policy for the states that complete each task.
//!
//! ```
//! use mlops_core::Role;
//! use mlops_governance::raci::{Raci, Task};
//!
//! let raci = Raci::default_raci();
//! assert_eq!(raci.accountable(&Task::model_acceptance())?, &Role::risk_officer());
//! # Ok::<(), mlops_governance::RaciError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use mlops_core::{RiskTier, Role};
use serde::{Deserialize, Serialize};

use crate::error::RaciError;
use crate::lifecycle::StateName;
use crate::policy::{Guard, PolicySpec};

/// A lifecycle task, such as `model-acceptance`: 1–64 lowercase ASCII letters, digits, `-` and
/// `_`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Task(String);

impl Task {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`RaciError::InvalidTask`].
    pub fn new(name: impl Into<String>) -> Result<Self, RaciError> {
        let name = name.into();
        let bad = |reason| RaciError::InvalidTask {
            value: name.chars().take(80).collect(),
            reason,
        };
        if name.is_empty() || name.len() > 64 {
            return Err(bad("it must have 1 to 64 characters"));
        }
        if !name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            return Err(bad("it must start with a lowercase ASCII letter"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        {
            return Err(bad(
                "only lowercase ASCII letters, digits, `-` and `_` are allowed",
            ));
        }
        Ok(Self(name))
    }

    fn known(name: &str) -> Self {
        Self(name.to_owned())
    }

    /// Identifying the use case and classifying its risk.
    #[must_use]
    pub fn identification() -> Self {
        Self::known("identification")
    }
    /// Preparing the data.
    #[must_use]
    pub fn data_preparation() -> Self {
        Self::known("data-preparation")
    }
    /// Building and training the model.
    #[must_use]
    pub fn modelling() -> Self {
        Self::known("modelling")
    }
    /// Accepting the model for production (validation sign-off).
    #[must_use]
    pub fn model_acceptance() -> Self {
        Self::known("model-acceptance")
    }
    /// Making the model production-ready.
    #[must_use]
    pub fn productionalization() -> Self {
        Self::known("productionalization")
    }
    /// Deploying versions to production.
    #[must_use]
    pub fn deployments() -> Self {
        Self::known("deployments")
    }
    /// Monitoring the model in production.
    #[must_use]
    pub fn monitoring() -> Self {
        Self::known("monitoring")
    }
    /// Retiring the model.
    #[must_use]
    pub fn retirement() -> Self {
        Self::known("retirement")
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Task {
    type Err = RaciError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Task {
    type Error = RaciError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<Task> for String {
    fn from(t: Task) -> Self {
        t.0
    }
}

/// A role's part in a task.
///
/// Exhaustive on purpose: RACI has exactly four letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Responsibility {
    /// Does the work.
    #[serde(rename = "R", alias = "responsible")]
    Responsible,
    /// Answers for the result and signs it off; exactly one per task.
    #[serde(rename = "A", alias = "accountable")]
    Accountable,
    /// Is asked before.
    #[serde(rename = "C", alias = "consulted")]
    Consulted,
    /// Is told after.
    #[serde(rename = "I", alias = "informed")]
    Informed,
}

impl Responsibility {
    /// The letter: `R`, `A`, `C` or `I`.
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            Self::Responsible => "R",
            Self::Accountable => "A",
            Self::Consulted => "C",
            Self::Informed => "I",
        }
    }
}

/// An unvalidated RACI matrix: task → role → responsibility.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaciSpec {
    /// The tasks, each with its roles.
    pub tasks: BTreeMap<Task, BTreeMap<Role, Responsibility>>,
}

impl RaciSpec {
    /// Sets `role`'s part in `task`.
    #[must_use]
    pub fn assign(mut self, task: Task, role: Role, part: Responsibility) -> Self {
        self.tasks.entry(task).or_default().insert(role, part);
        self
    }
}

/// A validated RACI matrix: every task has exactly one Accountable role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raci {
    spec: RaciSpec,
}

impl Raci {
    /// Validates `spec`.
    ///
    /// # Errors
    /// [`RaciError::Empty`]; [`RaciError::NoAccountable`] or [`RaciError::SeveralAccountable`]
    /// naming the first task without exactly one Accountable role.
    pub fn new(spec: RaciSpec) -> Result<Self, RaciError> {
        if spec.tasks.is_empty() {
            return Err(RaciError::Empty);
        }
        for (task, roles) in &spec.tasks {
            let accountable: Vec<String> = roles
                .iter()
                .filter(|(_, p)| **p == Responsibility::Accountable)
                .map(|(r, _)| r.to_string())
                .collect();
            match accountable.len() {
                1 => {}
                0 => {
                    return Err(RaciError::NoAccountable {
                        task: task.to_string(),
                    });
                }
                _ => {
                    return Err(RaciError::SeveralAccountable {
                        task: task.to_string(),
                        roles: accountable,
                    });
                }
            }
        }
        Ok(Self { spec })
    }

    /// The default matrix: data scientists identify, prepare data and model; model validators do
    /// the acceptance, risk officers are accountable for it; ML engineers productionalize, deploy
    /// and monitor; business owners are accountable for identification and deployments.
    ///
    /// | task | data-scientist | ml-engineer | model-validator | risk-officer | compliance-officer | business-owner |
    /// |---|---|---|---|---|---|---|
    /// | identification | R | I | I | C | C | A |
    /// | data-preparation | A | R | I | I | C | I |
    /// | modelling | A | C | I | I |  | I |
    /// | model-acceptance | C | I | R | A | C | I |
    /// | productionalization | C | A | C | I |  | I |
    /// | deployments | I | R | I | C |  | A |
    /// | monitoring | C | A | I | I |  | I |
    /// | retirement | I | R | I | C | C | A |
    #[must_use]
    pub fn default_raci() -> Self {
        use Responsibility::{Accountable as A, Consulted as C, Informed as I, Responsible as R};
        let roles = [
            Role::data_scientist(),
            Role::ml_engineer(),
            Role::model_validator(),
            Role::risk_officer(),
            Role::compliance_officer(),
            Role::business_owner(),
        ];
        let rows: [(Task, [Option<Responsibility>; 6]); 8] = [
            (
                Task::identification(),
                [Some(R), Some(I), Some(I), Some(C), Some(C), Some(A)],
            ),
            (
                Task::data_preparation(),
                [Some(A), Some(R), Some(I), Some(I), Some(C), Some(I)],
            ),
            (
                Task::modelling(),
                [Some(A), Some(C), Some(I), Some(I), None, Some(I)],
            ),
            (
                Task::model_acceptance(),
                [Some(C), Some(I), Some(R), Some(A), Some(C), Some(I)],
            ),
            (
                Task::productionalization(),
                [Some(C), Some(A), Some(C), Some(I), None, Some(I)],
            ),
            (
                Task::deployments(),
                [Some(I), Some(R), Some(I), Some(C), None, Some(A)],
            ),
            (
                Task::monitoring(),
                [Some(C), Some(A), Some(I), Some(I), None, Some(I)],
            ),
            (
                Task::retirement(),
                [Some(I), Some(R), Some(I), Some(C), Some(C), Some(A)],
            ),
        ];
        let mut spec = RaciSpec::default();
        for (task, parts) in rows {
            for (role, part) in roles.iter().zip(parts) {
                if let Some(p) = part {
                    spec = spec.assign(task.clone(), role.clone(), p);
                }
            }
        }
        // Every row above has exactly one `A`; a test pins that this validates.
        Self { spec }
    }

    /// Parses and validates a JSON matrix (`{"tasks": {"modelling": {"data-scientist": "A"}}}`).
    ///
    /// # Errors
    /// [`RaciError::Load`]; otherwise as [`Raci::new`].
    pub fn from_json(text: &str) -> Result<Self, RaciError> {
        let spec: RaciSpec = serde_json::from_str(text).map_err(|e| RaciError::Load(e.into()))?;
        Self::new(spec)
    }

    /// Parses and validates a TOML matrix (`[tasks.modelling]` then `data-scientist = "A"`).
    ///
    /// # Errors
    /// As [`Raci::from_json`].
    pub fn from_toml(text: &str) -> Result<Self, RaciError> {
        let spec: RaciSpec = toml::from_str(text).map_err(|e| RaciError::Load(e.into()))?;
        Self::new(spec)
    }

    /// The validated definition.
    #[must_use]
    pub fn spec(&self) -> &RaciSpec {
        &self.spec
    }

    /// The tasks, in name order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.spec.tasks.keys()
    }

    fn row(&self, task: &Task) -> Result<&BTreeMap<Role, Responsibility>, RaciError> {
        self.spec
            .tasks
            .get(task)
            .ok_or_else(|| RaciError::UnknownTask {
                task: task.to_string(),
            })
    }

    /// The one Accountable role of `task`.
    ///
    /// # Errors
    /// [`RaciError::UnknownTask`].
    pub fn accountable(&self, task: &Task) -> Result<&Role, RaciError> {
        self.row(task)?
            .iter()
            .find(|(_, p)| **p == Responsibility::Accountable)
            .map(|(r, _)| r)
            .ok_or_else(|| RaciError::NoAccountable {
                task: task.to_string(),
            })
    }

    /// The roles with `part` in `task`.
    ///
    /// # Errors
    /// [`RaciError::UnknownTask`].
    pub fn roles_with(&self, task: &Task, part: Responsibility) -> Result<Vec<&Role>, RaciError> {
        Ok(self
            .row(task)?
            .iter()
            .filter(|(_, p)| **p == part)
            .map(|(r, _)| r)
            .collect())
    }

    /// `role`'s part in `task`, if any.
    ///
    /// # Errors
    /// [`RaciError::UnknownTask`].
    pub fn part(&self, task: &Task, role: &Role) -> Result<Option<Responsibility>, RaciError> {
        Ok(self.row(task)?.get(role).copied())
    }

    /// A guard requiring the sign-off of a person holding `task`'s Accountable role (other than
    /// the version's author and the transition's requester).
    ///
    /// # Errors
    /// [`RaciError::UnknownTask`].
    pub fn accountable_guard(&self, task: &Task) -> Result<Guard, RaciError> {
        Ok(Guard::approvals(1, [self.accountable(task)?.clone()]))
    }

    /// Adds to `spec`, at every tier in `tiers`, the accountable sign-off of each bound task to
    /// the transitions entering its state (for example `pre_production` → `model-acceptance`,
    /// `production` → `deployments`).
    ///
    /// # Errors
    /// [`RaciError::UnknownTask`] for a binding to a task the matrix lacks.
    pub fn bind(
        &self,
        mut spec: PolicySpec,
        tiers: &[RiskTier],
        bindings: &[(StateName, Task)],
    ) -> Result<PolicySpec, RaciError> {
        for (state, task) in bindings {
            let guard = self.accountable_guard(task)?;
            for tier in tiers {
                spec.tiers
                    .entry(*tier)
                    .or_default()
                    .entering
                    .entry(state.clone())
                    .or_default()
                    .push(guard.clone());
            }
        }
        Ok(spec)
    }

    /// The matrix as a Markdown table (tasks as rows, roles as columns).
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut roles: Vec<&Role> = self.spec.tasks.values().flat_map(BTreeMap::keys).collect();
        roles.sort();
        roles.dedup();
        let mut out = String::from("| task |");
        for r in &roles {
            out.push_str(&format!(" {r} |"));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(roles.len()));
        out.push('\n');
        for (task, row) in &self.spec.tasks {
            out.push_str(&format!("| {task} |"));
            for r in &roles {
                let cell = row.get(*r).map_or("", |p| p.letter());
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out
    }
}

impl Default for Raci {
    fn default() -> Self {
        Self::default_raci()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix_validates_and_round_trips() {
        let raci = Raci::default_raci();
        assert_eq!(Raci::new(raci.spec().clone()).unwrap(), raci);
        assert_eq!(raci.tasks().count(), 8);
        let json = serde_json::to_string(raci.spec()).unwrap();
        assert_eq!(Raci::from_json(&json).unwrap(), raci);
        let toml = toml::to_string(raci.spec()).unwrap();
        assert_eq!(Raci::from_toml(&toml).unwrap(), raci);
        assert_eq!(
            raci.accountable(&Task::deployments()).unwrap(),
            &Role::business_owner()
        );
        assert_eq!(
            raci.roles_with(&Task::model_acceptance(), Responsibility::Responsible)
                .unwrap(),
            [&Role::model_validator()]
        );
        let md = raci.to_markdown();
        assert!(
            md.contains("| model-acceptance | I | C | C | I | R | A |"),
            "{md}"
        );
    }

    #[test]
    fn zero_or_two_accountable_roles_are_rejected() {
        let none = RaciSpec::default().assign(
            Task::modelling(),
            Role::data_scientist(),
            Responsibility::Responsible,
        );
        assert_eq!(
            Raci::new(none),
            Err(RaciError::NoAccountable {
                task: "modelling".into()
            })
        );
        let two = RaciSpec::default()
            .assign(
                Task::deployments(),
                Role::ml_engineer(),
                Responsibility::Accountable,
            )
            .assign(
                Task::deployments(),
                Role::business_owner(),
                Responsibility::Accountable,
            );
        assert_eq!(
            Raci::new(two),
            Err(RaciError::SeveralAccountable {
                task: "deployments".into(),
                roles: vec!["business-owner".into(), "ml-engineer".into()]
            })
        );
        assert_eq!(Raci::new(RaciSpec::default()), Err(RaciError::Empty));
        assert!(matches!(
            Raci::from_toml("[tasks.monitoring]\nml-engineer = \"X\"\n"),
            Err(RaciError::Load(crate::error::LoadError::Toml(_)))
        ));
        assert!(matches!(
            Task::new("Bad Task"),
            Err(RaciError::InvalidTask { .. })
        ));
    }

    #[test]
    fn bind_adds_accountable_signoffs_to_a_policy() {
        let raci = Raci::default_raci();
        let pre = StateName::new("pre_production").unwrap();
        let prod = StateName::new("production").unwrap();
        let spec = raci
            .bind(
                PolicySpec::new("p"),
                &[RiskTier::High, RiskTier::Critical],
                &[
                    (pre.clone(), Task::model_acceptance()),
                    (prod.clone(), Task::deployments()),
                ],
            )
            .unwrap();
        let policy = spec.validate().unwrap();
        assert_eq!(
            policy.guards(RiskTier::High, &pre),
            [Guard::approvals(1, [Role::risk_officer()])]
        );
        assert_eq!(
            policy.guards(RiskTier::Critical, &prod),
            [Guard::approvals(1, [Role::business_owner()])]
        );
        assert!(policy.guards(RiskTier::Medium, &prod).is_empty());
        assert!(matches!(
            raci.bind(
                PolicySpec::new("p"),
                &[RiskTier::High],
                &[(prod, Task::new("juggling").unwrap())]
            ),
            Err(RaciError::UnknownTask { .. })
        ));
        assert_eq!(
            raci.part(&Task::monitoring(), &Role::ml_engineer())
                .unwrap(),
            Some(Responsibility::Accountable)
        );
        assert_eq!(
            raci.part(&Task::monitoring(), &Role::compliance_officer())
                .unwrap(),
            None
        );
    }

    #[test]
    fn accountable_guard_names_only_the_accountable_role() {
        let raci = Raci::default_raci();
        let g = raci.accountable_guard(&Task::model_acceptance()).unwrap();
        assert_eq!(g, Guard::approvals(1, [Role::risk_officer()]));
        assert!(matches!(
            raci.accountable_guard(&Task::new("painting").unwrap()),
            Err(RaciError::UnknownTask { task }) if task == "painting"
        ));
    }
}
