//! # mlops-core
//!
//! The shared vocabulary of the mlops SDK. Every other crate (`mlops-drift`, `mlops-registry`,
//! `mlops-governance`) speaks in these types, so values cross crate boundaries without the crates
//! depending on each other.
//!
//! - **Identifiers** ([`ModelName`], [`VersionNumber`], [`ModelRef`], [`AliasName`]) are validated
//!   once, when constructed or deserialized, and are then always valid.
//! - **Who acts** ([`Actor`], [`ActorId`], [`ActorKind`], [`Role`]) and **how risky a model is**
//!   ([`RiskTier`]).
//! - **Time** is injected through the [`Clock`] trait: [`SystemClock`] in production,
//!   [`ManualClock`] in tests, so every decision can be replayed.
//! - **Evidence** ([`Evidence`]) carries a measured check (a drift statistic, a validation metric,
//!   a challenger comparison) from the crate that measured it to the governance policies that
//!   consume it, with the threshold, the side of it that passes, the outcome, when it was measured
//!   and what it is about.
//! - **Digests** ([`Digest`]) pin artifacts and datasets by SHA-256.
//!
//! ```
//! use mlops_core::{ModelRef, ModelName, VersionNumber};
//!
//! let r: ModelRef = "fraud-scorer@v3".parse()?;
//! assert_eq!(r.name(), &ModelName::new("fraud-scorer")?);
//! assert_eq!(r.version(), VersionNumber::new(3)?);
//! assert_eq!(r.to_string(), "fraud-scorer@v3");
//! # Ok::<(), mlops_core::IdError>(())
//! ```

pub mod actor;
pub mod clock;
pub mod digest;
pub mod error;
pub mod evidence;
pub mod float_serde;
pub mod id;
pub mod risk;

pub use actor::{Actor, ActorId, ActorKind, Role};
pub use clock::{Clock, ManualClock, SystemClock};
pub use digest::Digest;
pub use error::IdError;
pub use evidence::{CheckName, Direction, Evidence, Outcome, Subject};
pub use id::{AliasName, ModelName, ModelRef, VersionNumber};
pub use risk::RiskTier;

/// Re-exported because [`Clock`] and [`Evidence`] use its types in their signatures.
pub use chrono;
