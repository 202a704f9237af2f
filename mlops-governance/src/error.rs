//! Errors, one enum per operation family.

use std::sync::Arc;

use mlops_core::{EventName, StateName};

/// The result of an engine operation (and, with `E`, of any operation in this crate).
pub type Result<T, E = GovernanceError> = std::result::Result<T, E>;

/// A governance document (lifecycle, policy, RACI matrix, governance matrix, risk scoring,
/// questionnaire, change plan) that cannot be read from, or written as, JSON or TOML. Every
/// loader reports it; the parser's own error is kept as the source.
///
/// Two load errors are equal when they are of the same kind with the same message (the parsers'
/// errors carry nothing else a caller can compare).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Not valid JSON, or a field of the wrong shape (or, writing, not representable as JSON).
    #[error("invalid json: {0}")]
    Json(#[source] Arc<serde_json::Error>),
    /// Not valid TOML, or a field of the wrong shape.
    #[error("invalid toml: {0}")]
    Toml(#[source] toml::de::Error),
    /// Not representable as TOML.
    #[error("cannot write toml: {0}")]
    TomlWrite(#[source] toml::ser::Error),
}

impl LoadError {
    /// The format: `json` or `toml`.
    #[must_use]
    pub fn format(&self) -> &'static str {
        match self {
            Self::Json(_) => "json",
            Self::Toml(_) | Self::TomlWrite(_) => "toml",
        }
    }
}

impl From<serde_json::Error> for LoadError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(Arc::new(e))
    }
}

impl From<toml::de::Error> for LoadError {
    fn from(e: toml::de::Error) -> Self {
        Self::Toml(e)
    }
}

impl From<toml::ser::Error> for LoadError {
    fn from(e: toml::ser::Error) -> Self {
        Self::TomlWrite(e)
    }
}

impl PartialEq for LoadError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

impl Eq for LoadError {}

/// A period that does not follow its rules. (Event and state names are `mlops-core`
/// identifiers and fail with [`IdError`](mlops_core::IdError).)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// A period such as `7d` is malformed or out of range.
    #[error("period `{value}` is invalid: {reason}")]
    InvalidPeriod {
        /// The offending value (shortened).
        value: String,
        /// The rule it breaks.
        reason: &'static str,
    },
}

/// A lifecycle definition that cannot be used, or a lookup in one that fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The definition has no states.
    #[error("lifecycle `{lifecycle}` defines no states")]
    NoStates {
        /// The lifecycle's name.
        lifecycle: String,
    },
    /// Two states share a name.
    #[error("state `{state}` is defined twice")]
    DuplicateState {
        /// The repeated name.
        state: StateName,
    },
    /// The initial state is not among the states.
    #[error("initial state `{state}` is not defined")]
    UnknownInitial {
        /// The missing state.
        state: StateName,
    },
    /// A transition (or an effect) names a state that is not defined.
    #[error("transition `{from}` --{event}--> `{to}` refers to undefined state `{missing}`")]
    OrphanTransition {
        /// Source state of the transition.
        from: StateName,
        /// Its event.
        event: EventName,
        /// Target state.
        to: StateName,
        /// The state that is not defined.
        missing: StateName,
    },
    /// Two transitions leave the same state on the same event.
    #[error("state `{from}` has two transitions on event `{event}`")]
    AmbiguousTransition {
        /// The source state.
        from: StateName,
        /// The repeated event.
        event: EventName,
    },
    /// A state cannot be reached from the initial state.
    #[error("state `{state}` cannot be reached from the initial state `{initial}`")]
    Unreachable {
        /// The unreachable state.
        state: StateName,
        /// The initial state.
        initial: StateName,
    },
    /// A terminal state has an outgoing transition.
    #[error("terminal state `{state}` has an outgoing transition on `{event}`")]
    TerminalHasExit {
        /// The terminal state.
        state: StateName,
        /// The event of the outgoing transition.
        event: EventName,
    },
    /// A transition into an exclusive state lacks an eviction effect.
    #[error(
        "transition `{from}` --{event}--> `{to}` enters exclusive state `{to}` without an `evict` effect"
    )]
    MissingEviction {
        /// Source state.
        from: StateName,
        /// Event.
        event: EventName,
        /// The exclusive target state.
        to: StateName,
    },
    /// An eviction sends the previous occupant somewhere it cannot go.
    #[error("eviction from `{state}` targets `{target}`, which is {reason}")]
    BadEviction {
        /// The exclusive state being entered.
        state: StateName,
        /// The eviction's target.
        target: StateName,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A state name is not part of the lifecycle.
    #[error("unknown state `{state}`")]
    UnknownState {
        /// The name looked up.
        state: String,
    },
    /// No transition leaves `from` on `event`.
    #[error("no transition leaves state `{from}` on event `{event}`")]
    UnknownEvent {
        /// The current state.
        from: StateName,
        /// The event looked up.
        event: String,
    },
    /// The definition could not be read or written (JSON or TOML).
    #[error("lifecycle definition: {0}")]
    Load(#[from] LoadError),
}

/// A policy that cannot be loaded, checked or evaluated. (An action it does not permit is an
/// [`AuthorizationError`].)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy could not be read or written (JSON or TOML).
    #[error("policy: {0}")]
    Load(#[from] LoadError),
    /// A risk tier has no rules (write an empty table to require nothing).
    #[error("policy has no rules for risk tier `{tier}`")]
    MissingTier {
        /// The missing tier.
        tier: mlops_core::RiskTier,
    },
    /// A guard cannot be satisfied or is ill-formed.
    #[error("invalid guard for entering `{state}` at tier `{tier}`: {reason}")]
    InvalidGuard {
        /// The tier.
        tier: mlops_core::RiskTier,
        /// The state being entered.
        state: StateName,
        /// What is wrong.
        reason: String,
    },
    /// The policy names a state the lifecycle does not define.
    #[error("policy tier `{tier}` names unknown state `{state}`")]
    UnknownState {
        /// The tier.
        tier: mlops_core::RiskTier,
        /// The unknown state.
        state: StateName,
    },
    /// A host policy engine failed to evaluate a transition.
    #[error("policy evaluation failed: {reason}")]
    Evaluation {
        /// Why.
        reason: String,
    },
}

/// An action the policy does not permit this actor (what
/// [`PolicyEngine::authorize`](crate::policy::PolicyEngine::authorize) returns). The engine
/// audits every such refusal and returns it as [`GovernanceError::Unauthorized`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// The actor holds no role permitted for the action.
    #[error("`{actor}` may not {action}: it needs one of the roles [{allowed}]")]
    MissingRole {
        /// Who tried.
        actor: String,
        /// What they tried.
        action: crate::policy::Action,
        /// The roles that would permit it.
        allowed: String,
    },
    /// The approver's roles do not count toward any sign-off this transition needs.
    #[error("`{actor}` cannot sign off on this transition: it needs one of the roles [{required}]")]
    WrongRole {
        /// The would-be approver.
        actor: String,
        /// The roles that count.
        required: String,
    },
    /// A host policy engine could not decide (fail closed: the action is refused).
    #[error("authorization failed: {reason}")]
    Evaluation {
        /// Why.
        reason: String,
    },
}

/// An approval action that is not possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// No request has this id.
    #[error("no approval request `{id}`")]
    NotFound {
        /// The id looked up.
        id: crate::approval::ApprovalId,
    },
    /// The id does not parse.
    #[error("malformed approval request id `{value}`: expected `model/req-N`")]
    MalformedId {
        /// The offending value.
        value: String,
    },
    /// The request is no longer open.
    #[error("approval request `{id}` is {status:?}, not open")]
    NotOpen {
        /// The request.
        id: crate::approval::ApprovalId,
        /// Its status.
        status: crate::approval::RequestStatus,
    },
    /// The request's time ran out.
    #[error("approval request `{id}` expired at {expired_at}")]
    Expired {
        /// The request.
        id: crate::approval::ApprovalId,
        /// When it expired.
        expired_at: chrono::DateTime<chrono::Utc>,
    },
    /// The actor may not decide on this request.
    #[error("`{actor}` may not decide on `{id}`: {reason} (separation of duties)")]
    SeparationOfDuties {
        /// The request.
        id: crate::approval::ApprovalId,
        /// The conflicted actor.
        actor: mlops_core::ActorId,
        /// The conflict.
        reason: &'static str,
    },
    /// The actor already decided.
    #[error("`{actor}` already decided on `{id}`")]
    AlreadyDecided {
        /// The request.
        id: crate::approval::ApprovalId,
        /// The actor.
        actor: mlops_core::ActorId,
    },
    /// A rejection without a reason.
    #[error("rejecting `{id}` needs a comment")]
    MissingComment {
        /// The request.
        id: crate::approval::ApprovalId,
    },
    /// A stored request does not parse (the store was edited outside governance).
    #[error("approval request `{id}` is corrupt: {reason}")]
    Corrupt {
        /// The request.
        id: crate::approval::ApprovalId,
        /// What is wrong.
        reason: String,
    },
    /// Only a rejected request can be re-opened.
    #[error("approval request `{id}` is {status:?}; only a rejected request can be re-opened")]
    NotRejected {
        /// The request.
        id: crate::approval::ApprovalId,
        /// Its status.
        status: crate::approval::RequestStatus,
    },
}

/// An engine operation that failed. Nothing was committed, except where a variant says the
/// refusal itself was audited.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// The policy denied the transition (audited). `approval` is the request opened or still
    /// open for the missing sign-offs, if that is all that is missing.
    #[error("transition denied: {verdict}")]
    Denied {
        /// Every guard's outcome.
        verdict: Box<crate::policy::Verdict>,
        /// The approval request collecting sign-offs, if any.
        approval: Option<crate::approval::ApprovalId>,
    },
    /// The model changed between plan and commit: plan again.
    #[error(
        "model `{model}` changed concurrently (expected revision {expected}, found {actual}): plan again"
    )]
    Conflict {
        /// The model.
        model: mlops_core::ModelName,
        /// The revision the plan was made at.
        expected: mlops_registry::model::Revision,
        /// The revision found.
        actual: mlops_registry::model::Revision,
    },
    /// The actor is not in the engine's directory.
    #[error("unknown actor `{actor}`")]
    UnknownActor {
        /// The id looked up.
        actor: mlops_core::ActorId,
    },
    /// The actor may not perform the action (audited).
    #[error(transparent)]
    Unauthorized(AuthorizationError),
    /// A justification that is blank once whitespace and invisible characters are removed.
    #[error("a justification is required (blank or invisible text does not count)")]
    MissingJustification,
    /// An earlier request for this transition was rejected: re-open it with
    /// [`Governance::reopen`](crate::Governance::reopen) (which records the rejection) rather
    /// than asking again.
    #[error("transition rejected in `{request}`: re-open the request to ask again")]
    Rejected {
        /// The rejected request.
        request: crate::approval::ApprovalId,
    },
    /// This process's governance capability was claimed by other code before any engine was
    /// built, so no engine here can commit (fails closed).
    #[error(
        "the governance seal was claimed by other code in this process; governance cannot commit"
    )]
    SealUnavailable,
    /// The lifecycle has no such state or transition.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The policy is unusable: it does not fit the lifecycle, or it cannot be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Evidence that cannot be recorded against the version (nothing written).
    #[error("evidence `{check}` cannot be recorded against `{version}`: {reason}")]
    InvalidEvidence {
        /// The version.
        version: mlops_core::ModelRef,
        /// The evidence's check.
        check: mlops_core::CheckName,
        /// Why.
        reason: String,
    },
    /// The approval action is not possible.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// The registry store failed (or the model or version does not exist).
    #[error(transparent)]
    Registry(mlops_registry::RegistryError),
}

impl From<mlops_registry::RegistryError> for GovernanceError {
    fn from(e: mlops_registry::RegistryError) -> Self {
        match e {
            mlops_registry::RegistryError::Conflict {
                model,
                expected,
                actual,
            } => Self::Conflict {
                model,
                expected,
                actual,
            },
            other => Self::Registry(other),
        }
    }
}

/// An audit log that cannot be read, written or verified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The chain is broken: a record was modified, reordered or removed.
    #[error(transparent)]
    Broken(#[from] mlops_registry::audit::ChainBreak),
    /// The log ends before a checkpoint it must contain (records were cut off the end).
    #[error(
        "audit log truncated: checkpoint at record {checkpoint_seq} but the log ends at {head_seq}"
    )]
    Truncated {
        /// The checkpoint's sequence number.
        checkpoint_seq: u64,
        /// The last sequence number in the log (0 if empty).
        head_seq: u64,
    },
    /// The record at a checkpoint's position has a different hash (the log was rewritten).
    #[error("audit log diverges from the checkpoint at record {seq}")]
    CheckpointMismatch {
        /// The checkpoint's sequence number.
        seq: u64,
    },
    /// The log ends before the head its store recorded (records were cut off the end).
    #[error(
        "audit log truncated: the store's head is record {head_seq} but the log ends at {last_seq}"
    )]
    HeadTruncated {
        /// The head's sequence number.
        head_seq: u64,
        /// The last record that verifies (0: none).
        last_seq: u64,
    },
    /// The record at the head's position is not the head the store recorded (the tail was
    /// rewritten and re-chained).
    #[error("audit log does not end at the store's head: record {seq} has another hash")]
    HeadMismatch {
        /// The head's sequence number.
        seq: u64,
    },
    /// Records follow the head the store recorded (added without moving the head).
    #[error("audit log continues after the store's head at record {head_seq}")]
    BeyondHead {
        /// The head's sequence number (0: the store has no head).
        head_seq: u64,
    },
    /// The backing store failed.
    #[error(transparent)]
    Registry(#[from] mlops_registry::RegistryError),
}

/// A use-case questionnaire or a scoring configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassificationError {
    /// Questions were left unanswered (every question must be answered, even with "none").
    #[error("questionnaire incomplete: unanswered {}", .missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))]
    Incomplete {
        /// The unanswered questions, by field name.
        missing: Vec<String>,
    },
    /// The scoring gives no points for an answer.
    #[error("scoring has no points for answer `{answer}` of `{factor}`")]
    MissingPoints {
        /// The question.
        factor: &'static str,
        /// The answer without points.
        answer: String,
    },
    /// The tier thresholds are not increasing.
    #[error(
        "scoring thresholds must increase: medium {medium} <= high {high} <= critical {critical}"
    )]
    Thresholds {
        /// Least score for medium.
        medium: u32,
        /// Least score for high.
        high: u32,
        /// Least score for critical.
        critical: u32,
    },
    /// A scoring or questionnaire file could not be read or written (JSON or TOML).
    #[error("scoring: {0}")]
    Load(#[from] LoadError),
}

/// A RACI matrix that breaks its rules, or a lookup in one that fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RaciError {
    /// The matrix has no tasks.
    #[error("RACI matrix has no tasks")]
    Empty,
    /// A task name breaks its rules.
    #[error("task name `{value}` is invalid: {reason}")]
    InvalidTask {
        /// The offending name (shortened).
        value: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A task has no Accountable role.
    #[error("task `{task}` has no Accountable role (exactly one is required)")]
    NoAccountable {
        /// The task.
        task: String,
    },
    /// A task has more than one Accountable role.
    #[error("task `{task}` has {} Accountable roles [{}] (exactly one is required)", .roles.len(), .roles.join(", "))]
    SeveralAccountable {
        /// The task.
        task: String,
        /// The roles marked Accountable.
        roles: Vec<String>,
    },
    /// The matrix has no such task.
    #[error("RACI matrix has no task `{task}`")]
    UnknownTask {
        /// The task looked up.
        task: String,
    },
    /// A RACI file could not be read (JSON or TOML).
    #[error("RACI matrix: {0}")]
    Load(#[from] LoadError),
}

/// A governance matrix that cannot be loaded or compiled into a policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// A cell names a measure the catalogue does not know.
    #[error("unknown measure `{measure}` for `{consideration}` at tier `{tier}`; known: {known}")]
    UnknownMeasure {
        /// The tier.
        tier: mlops_core::RiskTier,
        /// The consideration.
        consideration: String,
        /// The unknown name.
        measure: String,
        /// The known names.
        known: String,
    },
    /// A measure's parameters are ill-formed.
    #[error("invalid measure `{measure}` at tier `{tier}`: {reason}")]
    InvalidMeasure {
        /// The tier.
        tier: mlops_core::RiskTier,
        /// The measure's name.
        measure: String,
        /// What is wrong.
        reason: String,
    },
    /// A measure needs the RACI matrix, which lacks its task.
    #[error(transparent)]
    Raci(#[from] RaciError),
    /// The compiled policy is invalid (or names a state the lifecycle lacks).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A matrix file could not be read or written (JSON or TOML).
    #[error("governance matrix: {0}")]
    Load(#[from] LoadError),
}

/// A model card, inventory, report or KPI computation that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The period ends before (or when) it starts.
    #[error("reporting period is empty or reversed: `{start}` .. `{end}`")]
    InvalidPeriod {
        /// Its start.
        start: chrono::DateTime<chrono::Utc>,
        /// Its end.
        end: chrono::DateTime<chrono::Utc>,
    },
    /// The audit log could not be read.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The registry store failed (or the model or version does not exist).
    #[error(transparent)]
    Registry(#[from] mlops_registry::RegistryError),
    /// Rendering to JSON failed.
    #[error("cannot render as JSON: {reason}")]
    Render {
        /// The serializer's message.
        reason: String,
    },
}

/// A change assessment that cannot grant inherited approvals.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// The change is material: the candidate needs full re-approval (the assessment is audited).
    #[error("`{candidate}` is a material change from `{baseline}` and needs full re-approval: {}", .findings.join("; "))]
    Material {
        /// The new version.
        candidate: mlops_core::ModelRef,
        /// The approved version the plan is about.
        baseline: mlops_core::ModelRef,
        /// The material findings.
        findings: Vec<String>,
    },
    /// The candidate is not a later version of the plan's model.
    #[error("`{candidate}` is not a later version of `{baseline}`'s model")]
    NotASuccessor {
        /// The new version.
        candidate: mlops_core::ModelRef,
        /// The plan's baseline.
        baseline: mlops_core::ModelRef,
    },
    /// A plan file could not be read (JSON or TOML).
    #[error("change plan: {0}")]
    Load(#[from] LoadError),
    /// The engine or the store failed.
    #[error(transparent)]
    Governance(#[from] GovernanceError),
}
