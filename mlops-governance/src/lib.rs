//! # mlops-governance
//!
//! No model reaches production without the right checks and sign-offs, and every step is
//! provable. This crate makes the model lifecycle a state machine defined as data, whose
//! transitions are gated by policies keyed on the model's risk tier (sign-offs with separation of
//! duties, evidence, documentation, freeze windows), with break-glass overrides that are always
//! audited, and a hash-chained audit log that an auditor can verify.
//!
//! Transitions are planned here and committed through `mlops-registry`'s `ModelStore`, atomically
//! with their audit records.
//!
//! - [`lifecycle`]: states and transitions as data, validated on load; the default lifecycle.
//! - [`policy`]: the [`PolicyEngine`](policy::PolicyEngine) trait (fails closed) and the
//!   declarative [`Policy`](policy::Policy) with approvals, evidence, documentation and time
//!   guards, enforcement modes and role permissions.
//! - [`approval`]: approval requests as objects: opened, signed, rejected, expired, cancelled.
//! - [`engine`]: [`Governance`] plans transitions (pure) and commits them through the store with
//!   their audit records; break-glass overrides; approvals; policy changes.
//! - [`contest`]: champion/challenger contests with always-valid sequential statistics,
//!   guardrails, automated promotion and rollback, and bandit allocation.
//! - [`audit`]: the [`AuditLog`](audit::AuditLog) trait, verification, checkpoints, queries.
//!
//! A model-governance template, as code built on the engine: the steps a model-risk function
//! takes (classify the use case's risk, assign responsibilities, require measures per tier,
//! manage changes, document, report and measure), in the spirit of published supervisory
//! guidance on model risk management (for example the US Federal Reserve's SR 11-7):
//!
//! - [`classification`]: the use-case questionnaire and a configurable scoring into a risk tier
//!   with its reasons; assigning a model's tier is an audited, permissioned action.
//! - [`raci`]: the RACI matrix (exactly one Accountable per task) and the guard requiring the
//!   Accountable role's sign-off.
//! - [`matrix`]: the governance matrix (tier × consideration → measures), compiled into policy
//!   guards; a default ships, hosts load their own from JSON or TOML.
//! - [`change`]: change classification against an approved change plan; within-plan versions
//!   inherit their baseline's approvals, material changes need full re-approval.
//! - [`card`]: model cards generated from registry and audit records (Markdown, JSON, the fields
//!   the documentation guard checks).
//! - [`report`]: the inventory of every model and the auditor's report for a period.
//! - [`kpi`]: governance KPIs computed from the audit log.
//!
//! With the `testkit` feature, `testkit` holds the conformance kits for the traits hosts
//! implement ([`AuditLog`](audit::AuditLog), [`PolicyEngine`](policy::PolicyEngine)) and the
//! registration shortcuts tests use.
//!
//! ## Lifecycle
//!
//! A version's lifecycle is a state machine defined as data
//! ([`Lifecycle`](lifecycle::Lifecycle), loadable from JSON or TOML and validated on load). The
//! default one is `development → validation → pre_production → production`, with `rejected`,
//! `retired` and `archived` on the side. Events (`submit`, `validate`, `promote`, `rollback`, …)
//! move a version; `production` is exclusive and protected: entering it moves the `champion`
//! alias and retires the previous champion, in the same commit. No version enters or leaves a
//! protected state, no protected alias moves and no risk tier changes except through the
//! engine: it holds the process's [`GovernanceSeal`](mlops_registry::governed::GovernanceSeal),
//! and the store refuses such commits from anyone else (see [`mlops_registry::governed`]). A
//! [`Plan`] is only a preview; [`Governance::commit`] evaluates the policy again and decides.
//!
//! ```
//! use mlops_governance::lifecycle::{Lifecycle, names};
//!
//! let lifecycle = Lifecycle::default_lifecycle();
//! assert_eq!(lifecycle.initial(), &names::DEVELOPMENT);
//! let promote = lifecycle.transition(&names::PRE_PRODUCTION, &names::PROMOTE)?;
//! assert_eq!(promote.to, names::PRODUCTION);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Policies, verdicts and evidence
//!
//! A [`Policy`](policy::Policy) says what entering each state requires at each
//! `mlops_core::RiskTier`: sign-offs by roles (never from the version's author or the requester),
//! fresh passing evidence (`mlops_core::Evidence`: a validation metric, a drift check, a contest
//! result), documentation fields of the model card, time spent in the previous state, freeze
//! windows. [`Governance::transition`] plans the event against the policy and commits it through
//! the store with its audit record, or denies it with a [`Verdict`](policy::Verdict) listing
//! every unmet guard at once. When only sign-offs are missing, an approval request is opened and
//! returned in the denial; approvers sign it with [`Governance::approve`] and the requester tries
//! again. Evaluation fails closed: an error in a policy is a denial with its reason. Break-glass
//! overrides ([`Governance::break_glass`]) are for incident responders, need a justification, and
//! open a post-hoc review.
//!
//! ## The audit chain
//!
//! Every applied, denied or overridden transition, approval, rejection and policy change is an
//! audit record, written in the same atomic commit as the state change it describes. Approval
//! requests themselves live in the store, inside their model's aggregate, so every engine on a
//! store sees the same requests. Records are
//! hash-chained: [`verify`](audit::AuditLogExt::verify) finds any modified, reordered
//! or removed record and names the first bad one, and an exported checkpoint reveals truncation.
//! Model cards, the inventory, the auditor's report and the KPIs are all computed from these
//! records and the registry, so they cannot disagree with what happened.
//!
//! The workspace README has a complete example (a denied promotion, a refused self-approval, a
//! sign-off, a verified chain); `cargo run --example quickstart` tells the whole story.

pub mod approval;
pub mod audit;
pub mod card;
pub mod change;
pub mod classification;
pub mod contest;
pub mod engine;
pub mod error;
pub mod kpi;
pub mod lifecycle;
pub mod matrix;
mod names;
pub mod policy;
pub mod raci;
pub mod report;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use engine::{Governance, GovernanceBuilder, Plan, PlanContext, Transitioned};
pub use error::{
    ApprovalError, AuditError, AuthorizationError, GovernanceError, LifecycleError, LoadError,
    NameError, PolicyError,
};
pub use error::{ChangeError, ClassificationError, MatrixError, RaciError, ReportError};
pub use names::Period;

pub use mlops_core;
pub use mlops_registry;
