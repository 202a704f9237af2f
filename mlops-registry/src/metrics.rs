//! Routing and registry figures through the [`metrics`](https://docs.rs/metrics) facade
//! (feature `metrics`).
//!
//! This crate never installs a recorder: without one every call is a no-op. The routing
//! decision path records nothing (it must not allocate, lock or make a system call, and a
//! recorder may do all three): the router already counts exposures per lane without locks, and
//! [`record_exposures`] publishes those counts when the host calls it (on each scrape or a timer).
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `mlops_routing_exposures_total` | counter | `model`, `version`, `role` | routing decisions per lane (hash-assigned plus segment/override) |
//! | `mlops_routing_hashed_total` | counter | `model`, `version`, `role` | of which assigned by the sticky hash |
//! | `mlops_routing_srm_p_value` | gauge | `model` | the sample-ratio-mismatch p-value |
//! | `mlops_routing_shadow_agreement` | gauge | `model`, `shadow` | class agreement of the last shadow window |
//! | `mlops_routing_shadow_compared_total` | counter | `model`, `shadow` | shadow comparisons |
//! | `mlops_routing_shadow_failures_total` | counter | `model`, `shadow`, `kind` | shadow timeouts and errors |
//! | `mlops_registry_cas_conflicts_total` | counter | — | commits refused by the compare-and-swap ([`record_conflict`]) |
//! | `mlops_registry_commit_seconds` | histogram | — | commit latency ([`record_commit`]) |
//! | `mlops_governance_decisions_total` | counter | `outcome` | governance approvals, denials, overrides ([`record_governance`]) |
//!
//! Cardinality: `model` is one of the host's registered models, `version` and `shadow` are the
//! arms of one route table (at most 256), `role` and `kind` are fixed sets, and label values
//! are cut to 64 characters. No unit or user id is ever a label.

use std::time::Duration;

use mlops_core::ModelName;

use crate::routing::{ArmRole, ExposureSnapshot, ShadowWindow};

/// Longest label value, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

/// The names, for hosts that describe or filter them.
pub mod names {
    /// Counter: decisions per lane.
    pub const EXPOSURES: &str = "mlops_routing_exposures_total";
    /// Counter: hash-assigned decisions per lane.
    pub const HASHED: &str = "mlops_routing_hashed_total";
    /// Gauge: the sample-ratio-mismatch p-value.
    pub const SRM_P_VALUE: &str = "mlops_routing_srm_p_value";
    /// Gauge: shadow class agreement.
    pub const SHADOW_AGREEMENT: &str = "mlops_routing_shadow_agreement";
    /// Counter: shadow comparisons.
    pub const SHADOW_COMPARED: &str = "mlops_routing_shadow_compared_total";
    /// Counter: shadow timeouts and errors.
    pub const SHADOW_FAILURES: &str = "mlops_routing_shadow_failures_total";
    /// Counter: compare-and-swap conflicts.
    pub const CAS_CONFLICTS: &str = "mlops_registry_cas_conflicts_total";
    /// Histogram: commit latency in seconds.
    pub const COMMIT_SECONDS: &str = "mlops_registry_commit_seconds";
    /// Counter: governance decisions.
    pub const GOVERNANCE_DECISIONS: &str = "mlops_governance_decisions_total";
}

fn label(s: &str) -> String {
    s.chars().take(MAX_LABEL_CHARS).collect()
}

fn role_name(role: ArmRole) -> &'static str {
    match role {
        ArmRole::Champion => "champion",
        ArmRole::Challenger => "challenger",
        ArmRole::Shadow => "shadow",
    }
}

/// Publishes a router's exposure counts ([`Router::exposures`](crate::routing::Router::exposures)):
/// the counters are set to the router's cumulative counts.
pub fn record_exposures(snapshot: &ExposureSnapshot) {
    let model = label(snapshot.model.as_str());
    for arm in &snapshot.arms {
        let labels = [
            ("model", model.clone()),
            ("version", arm.version.to_string()),
            ("role", role_name(arm.role).to_owned()),
        ];
        metrics::counter!(names::EXPOSURES, &labels).absolute(arm.hashed + arm.other);
        metrics::counter!(names::HASHED, &labels).absolute(arm.hashed);
    }
    if let Some(srm) = snapshot.sample_ratio_check() {
        metrics::gauge!(names::SRM_P_VALUE, "model" => model).set(srm.p_value);
    }
}

/// Records a completed shadow window of `model`.
pub fn record_shadow_window(model: &ModelName, window: &ShadowWindow) {
    let model = label(model.as_str());
    let shadow = window.shadow.to_string();
    if let Some(a) = window.class_agreement {
        metrics::gauge!(names::SHADOW_AGREEMENT, "model" => model.clone(), "shadow" => shadow.clone())
            .set(a);
    }
    metrics::counter!(names::SHADOW_COMPARED, "model" => model.clone(), "shadow" => shadow.clone())
        .increment(window.compared);
    for (kind, n) in [("timeout", window.timeouts), ("error", window.errors)] {
        metrics::counter!(names::SHADOW_FAILURES, "model" => model.clone(), "shadow" => shadow.clone(), "kind" => kind)
            .increment(n);
    }
}

/// Records a commit refused by the compare-and-swap (call where
/// [`RegistryError::Conflict`](crate::RegistryError) is returned by the `Registry` facade).
pub fn record_conflict() {
    metrics::counter!(names::CAS_CONFLICTS).increment(1);
}

/// Records the latency of one commit through the `Registry` facade.
pub fn record_commit(elapsed: Duration) {
    metrics::histogram!(names::COMMIT_SECONDS).record(elapsed.as_secs_f64());
}

/// A governance decision, for [`record_governance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GovernanceOutcome {
    /// A transition was applied.
    Applied,
    /// A transition was denied by policy.
    Denied,
    /// A sign-off was recorded.
    Approved,
    /// A break-glass override was used.
    Overridden,
}

/// Records a governance decision (called by `mlops-governance`).
pub fn record_governance(outcome: GovernanceOutcome) {
    let outcome = match outcome {
        GovernanceOutcome::Applied => "applied",
        GovernanceOutcome::Denied => "denied",
        GovernanceOutcome::Approved => "approved",
        GovernanceOutcome::Overridden => "overridden",
    };
    metrics::counter!(names::GOVERNANCE_DECISIONS, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{RouteTable, Router};

    #[test]
    fn exposures_conflicts_and_governance_are_recorded() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let router = Router::new(
            RouteTable::builder("churn@v1".parse().unwrap())
                .challenger("churn@v2".parse().unwrap(), 50.0)
                .build()
                .unwrap(),
        );
        for i in 0..1_000_u32 {
            router.route(&i.to_le_bytes());
        }
        metrics::with_local_recorder(&recorder, || {
            record_exposures(&router.exposures());
            record_exposures(&router.exposures()); // absolute: no double counting
            record_conflict();
            record_commit(Duration::from_millis(3));
            record_governance(GovernanceOutcome::Denied);
        });
        let text = handle.render();
        let total: u64 = text
            .lines()
            .filter(|l| l.starts_with("mlops_routing_exposures_total{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 1_000, "{text}");
        assert!(text.contains("role=\"champion\"") && text.contains("role=\"challenger\""));
        assert!(text.contains("mlops_registry_cas_conflicts_total 1"));
        assert!(text.contains("mlops_registry_commit_seconds"));
        assert!(text.contains("mlops_governance_decisions_total{outcome=\"denied\"} 1"));
    }
}
