//! The consistency check: state that no audit record explains.
//!
//! The hash chain proves the audit records were not edited; it says nothing about state tables
//! edited directly (a version set to `production` with SQL). [`verify_consistency`] compares
//! every model's aggregate with the governance records in the chain and names the first thing
//! the records do not explain:
//!
//! - a version whose state is not where its state history ends (written without the history
//!   that every commit keeps), or whose entries into a protected state outnumber the governance
//!   transition records putting it there;
//! - a protected alias whose target differs from its last recorded move, or whose moves outnumber
//!   the governance records moving it;
//! - a risk tier other than the last one governance recorded for the model (the default tier if
//!   it recorded none).
//!
//! It reads the log page by page (memory bounded by the number of governance records, not by the
//! log) and every model once.

use std::collections::HashMap;
use std::fmt;

use mlops_core::{AliasName, ModelName, ModelRef, RiskTier, Subject, VersionNumber};

use crate::error::Result;
use crate::model::{ModelAggregate, StateName};
use crate::store::{ModelQuery, ModelStore};

/// Governance actions that put a version into the state named by their `state_after`.
pub const STATE_ENTRY_ACTIONS: [&str; 3] = [
    "governance.transition.applied",
    "governance.transition.overridden",
    "governance.transition.evicted",
];
/// Governance actions that move or remove a protected alias (`details.alias`).
pub const ALIAS_ACTIONS: [&str; 2] = ["governance.alias.moved", "governance.alias.removed"];
/// The governance action that sets a model's risk tier (`details.to`).
pub const TIER_ACTION: &str = "governance.risk_tier.changed";

const PAGE: usize = 4096;

/// What the consistency check found unexplained.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A version is in a protected state that its state history does not end in.
    StateNotInHistory {
        /// The version.
        version: VersionNumber,
        /// Its current state.
        state: StateName,
    },
    /// A version entered a protected state more often than governance records say.
    UnexplainedStateEntry {
        /// The version.
        version: VersionNumber,
        /// The state.
        state: StateName,
        /// Entries in the state history.
        entries: u64,
        /// Governance records putting it there.
        records: u64,
    },
    /// A protected alias points elsewhere than its last recorded move.
    AliasNotInHistory {
        /// The alias.
        alias: AliasName,
        /// Where it points.
        target: Option<VersionNumber>,
    },
    /// A protected alias moved more often than governance records say.
    UnexplainedAliasMove {
        /// The alias.
        alias: AliasName,
        /// Moves in the alias history.
        moves: u64,
        /// Governance records moving it.
        records: u64,
    },
    /// The risk tier is not the one governance last recorded.
    UnexplainedTier {
        /// The stored tier.
        tier: RiskTier,
        /// The tier the records explain.
        recorded: RiskTier,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StateNotInHistory { version, state } => write!(
                f,
                "version {version} is in `{state}` but its state history does not say how it got there"
            ),
            Self::UnexplainedStateEntry {
                version,
                state,
                entries,
                records,
            } => write!(
                f,
                "version {version} entered `{state}` {entries} times but governance recorded {records}"
            ),
            Self::AliasNotInHistory { alias, target } => match target {
                Some(v) => write!(
                    f,
                    "alias `{alias}` points at version {v}, not where its history says"
                ),
                None => write!(f, "alias `{alias}` is unset, not where its history says"),
            },
            Self::UnexplainedAliasMove {
                alias,
                moves,
                records,
            } => write!(
                f,
                "alias `{alias}` moved {moves} times but governance recorded {records}"
            ),
            Self::UnexplainedTier { tier, recorded } => write!(
                f,
                "risk tier {tier} is not the tier governance recorded ({recorded})"
            ),
        }
    }
}

/// The first unexplained state of a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model `{model}` is inconsistent with the audit log: {finding}")]
pub struct Inconsistency {
    /// The model.
    pub model: ModelName,
    /// What is unexplained.
    pub finding: Finding,
}

/// The governance facts of the log that explain protected state.
#[derive(Debug, Default)]
struct Explained {
    state_entries: HashMap<(ModelRef, StateName), u64>,
    alias_moves: HashMap<(ModelName, AliasName), u64>,
    tiers: HashMap<ModelName, RiskTier>,
}

impl Explained {
    fn read(store: &dyn ModelStore) -> Result<Self> {
        let mut out = Self::default();
        let mut from: u64 = 1;
        loop {
            let page = store.read_audit(from, PAGE)?;
            for r in &page {
                out.add(&r.draft);
            }
            if page.len() < PAGE {
                return Ok(out);
            }
            // Page by position, never by the seq stored in a record (which could be edited).
            from = from.saturating_add(page.len() as u64);
        }
    }

    fn add(&mut self, d: &crate::audit::AuditDraft) {
        let action = d.action.as_str();
        if STATE_ENTRY_ACTIONS.contains(&action)
            && let (Subject::Version { version }, Some(state)) = (&d.subject, &d.state_after)
        {
            *self
                .state_entries
                .entry((version.clone(), state.clone()))
                .or_default() += 1;
        } else if ALIAS_ACTIONS.contains(&action)
            && let Some(model) = subject_model(&d.subject)
            && let Some(alias) = d
                .details
                .get("alias")
                .and_then(|a| a.as_str())
                .and_then(|a| AliasName::new(a).ok())
        {
            *self.alias_moves.entry((model, alias)).or_default() += 1;
        } else if action == TIER_ACTION
            && let Some(model) = subject_model(&d.subject)
            && let Some(tier) = d
                .details
                .get("to")
                .and_then(|t| serde_json::from_value::<RiskTier>(t.clone()).ok())
        {
            self.tiers.insert(model, tier);
        }
    }

    fn check(&self, agg: &ModelAggregate) -> Option<Finding> {
        let model = agg.name();
        for (number, status) in agg.versions() {
            let events: Vec<_> = agg
                .state_history()
                .iter()
                .filter(|e| e.version == *number)
                .collect();
            // Every commit records a state change in the history, so the current state is the
            // last entry's (or, with no entry, the unprotected state the version was created in).
            let unexplained = match events.last() {
                Some(e) => e.to != status.state,
                None => agg.is_protected_state(&status.state),
            };
            if unexplained {
                return Some(Finding::StateNotInHistory {
                    version: *number,
                    state: status.state.clone(),
                });
            }
            for state in agg.protected_states() {
                let entries = events.iter().filter(|e| &e.to == state).count() as u64;
                let version = ModelRef::new(model.clone(), *number);
                let records = self
                    .state_entries
                    .get(&(version, state.clone()))
                    .copied()
                    .unwrap_or(0);
                if entries > records {
                    return Some(Finding::UnexplainedStateEntry {
                        version: *number,
                        state: state.clone(),
                        entries,
                        records,
                    });
                }
            }
        }
        for alias in agg.protected_aliases() {
            let moves: Vec<_> = agg
                .alias_history()
                .iter()
                .filter(|e| &e.alias == alias)
                .collect();
            let target = agg.alias(alias);
            if moves.last().and_then(|e| e.to) != target {
                return Some(Finding::AliasNotInHistory {
                    alias: alias.clone(),
                    target,
                });
            }
            let records = self
                .alias_moves
                .get(&(model.clone(), alias.clone()))
                .copied()
                .unwrap_or(0);
            if moves.len() as u64 > records {
                return Some(Finding::UnexplainedAliasMove {
                    alias: alias.clone(),
                    moves: moves.len() as u64,
                    records,
                });
            }
        }
        let recorded = self.tiers.get(model).copied().unwrap_or_default();
        (agg.model().risk_tier != recorded).then(|| Finding::UnexplainedTier {
            tier: agg.model().risk_tier,
            recorded,
        })
    }
}

fn subject_model(subject: &Subject) -> Option<ModelName> {
    match subject {
        Subject::Model { model } => Some(model.clone()),
        Subject::Version { version } => Some(version.name().clone()),
        _ => None,
    }
}

/// Checks every model of `store` against its audit log (see the [module docs](self)).
///
/// # Errors
/// `Ok(Err(Inconsistency))` names the first unexplained state; the outer error is a store
/// failure.
pub fn verify_consistency(store: &dyn ModelStore) -> Result<Result<(), Inconsistency>> {
    let explained = Explained::read(store)?;
    let mut query = ModelQuery {
        page_size: crate::store::MAX_PAGE_SIZE,
        ..ModelQuery::default()
    };
    loop {
        let page = store.list_models(&query)?;
        for m in &page.items {
            let agg = store.get_model(m.name())?;
            if let Some(finding) = explained.check(&agg) {
                return Ok(Err(Inconsistency {
                    model: m.name().clone(),
                    finding,
                }));
            }
        }
        match page.next {
            Some(token) => query.page_token = Some(token),
            None => return Ok(Ok(())),
        }
    }
}
