//! # mlops-core
//!
//! The shared vocabulary of the mlops SDK. Every other crate (`mlops-drift`, `mlops-registry`,
//! `mlops-governance`) speaks in these types, so values cross crate boundaries without the crates
//! depending on each other.
//!
//! - **Identifiers** ([`ModelName`], [`VersionNumber`], [`ModelRef`], [`AliasName`]) are validated
//!   once, when constructed or deserialized, and are then always valid.
//! - **Lifecycle and audit names** ([`StateName`], [`EventName`], [`AuditAction`]) follow the
//!   same rules, and each can be spelled as a compile-time-checked literal (`from_static`).
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
//!
//! ## Evidence
//!
//! Governance never measures anything itself. A policy says, for example, "entering production
//! needs passing `validation.auc` evidence no older than 30 days"; the host (or `mlops-drift`, or
//! a champion/challenger contest) supplies an [`Evidence`] value, and the policy only reads it.
//! This is how drift results reach governance without `mlops-governance` depending on
//! `mlops-drift`.
//!
//! An evidence value names its check ([`CheckName`], such as `validation.auc` or
//! `drift.psi.income`), what it is about ([`Subject`]: a model, a version, a feature or a
//! segment), the measured value, the threshold and the side of it that passes ([`Direction`]),
//! and when it was measured. Its [`Outcome`] is computed once, when it is constructed, so every
//! consumer agrees on it (NaN never passes), and
//! [`Evidence::is_fresh`] lets a policy reject stale measurements.
//!
//! ```
//! use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
//! use mlops_core::{Direction, Evidence, Outcome, Subject};
//!
//! let measured = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let psi = Evidence::new(
//!     "drift.psi.income".parse()?,
//!     Subject::Model { model: "credit-risk".parse()? },
//!     0.31,                // the measured PSI
//!     0.2,                 // passes below 0.2
//!     Direction::Below,
//!     measured,
//! )
//! .with_source("mlops-drift");
//! assert_eq!(psi.outcome, Outcome::Fail);
//! assert!(!psi.is_fresh(measured + TimeDelta::days(40), TimeDelta::days(30)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Actors, roles and time
//!
//! Every action is taken by an [`Actor`] (a human or a service) holding [`Role`]s; governance
//! checks roles for permissions and compares actor ids for separation of duties (an author never
//! signs off on her own model). Nothing reads the system time directly: components take an
//! `Arc<dyn Clock>`, so a test (or the quickstart) drives weeks of history with a
//! [`ManualClock`] in milliseconds.

pub mod actor;
pub mod clock;
pub mod digest;
pub mod error;
pub mod evidence;
pub mod float_serde;
pub mod id;
pub mod name;
pub mod risk;

pub use actor::{Actor, ActorId, ActorKind, Role};
pub use clock::{Clock, ManualClock, SystemClock};
pub use digest::Digest;
pub use error::IdError;
pub use evidence::{CheckName, Direction, Evidence, Outcome, Subject};
pub use id::{AliasName, ModelName, ModelRef, VersionNumber};
pub use name::{AuditAction, AuditNamespace, EventName, StateName};
pub use risk::RiskTier;

/// Re-exported because [`Clock`] and [`Evidence`] use its types in their signatures.
pub use chrono;
