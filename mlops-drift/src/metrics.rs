//! Drift results through the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`).
//!
//! This crate never installs a recorder: without one every call below is a no-op. The host
//! installs one (for example `metrics-exporter-prometheus`) and the values appear under the
//! names below. Nothing is recorded per observed value: the monitor records when a window is
//! scored ([`DriftMonitor::poll`](crate::stream::DriftMonitor::poll) and
//! [`close_window`](crate::stream::DriftMonitor::close_window)), so the observe path costs the
//! same with the feature on. Batch reports are recorded when the host calls [`record_report`].
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `mlops_drift_column_score` | gauge | `column` | the last scored statistic of the column |
//! | `mlops_drift_column_p_value` | gauge | `column` | its (adjusted) p-value, p-value tests only |
//! | `mlops_drift_column_drifted` | gauge | `column` | 1 if the column drifted, else 0 |
//! | `mlops_drift_dataset_drift_share` | gauge | — | drifted over tested columns |
//! | `mlops_drift_windows_total` | counter | — | windows (or reports) scored |
//! | `mlops_drift_dataset_drifts_total` | counter | — | of which the dataset drifted |
//! | `mlops_drift_column_labels_dropped_total` | counter | — | columns beyond [`MAX_COLUMN_LABELS`] not recorded |
//! | `mlops_drift_alerts_fired_total` | counter | `check` | alerts fired ([`AlertState`](crate::monitor::alert)) |
//! | `mlops_drift_detector_drifts_total` | counter | `detector` | drifts flagged by an online detector ([`record_detector_drift`]) |
//! | `mlops_drift_humility_evaluations_total` | counter | `verdict` | humility-rule evaluations by verdict ([`record_humility`]) |
//! | `mlops_drift_humility_rule_fired_total` | counter | `rule` | times each humility rule fired (at most [`MAX_COLUMN_LABELS`] rules) |
//!
//! Label cardinality is bounded: at most [`MAX_COLUMN_LABELS`] columns of a report are
//! recorded (in report order; the rest are counted as dropped), a column label is cut to
//! [`MAX_LABEL_CHARS`] characters, `check` is one of the host's alert rules and `detector` a
//! detector kind.

use crate::report::DriftReport;

/// Most columns of one report recorded with a `column` label.
pub const MAX_COLUMN_LABELS: usize = 100;
/// Longest label value, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

/// The names, for hosts that describe or filter them.
pub mod names {
    /// Gauge: the last statistic per column.
    pub const COLUMN_SCORE: &str = "mlops_drift_column_score";
    /// Gauge: the last p-value per column.
    pub const COLUMN_P_VALUE: &str = "mlops_drift_column_p_value";
    /// Gauge: 1 if the column drifted.
    pub const COLUMN_DRIFTED: &str = "mlops_drift_column_drifted";
    /// Gauge: the dataset drift share.
    pub const DATASET_DRIFT_SHARE: &str = "mlops_drift_dataset_drift_share";
    /// Counter: windows or reports scored.
    pub const WINDOWS: &str = "mlops_drift_windows_total";
    /// Counter: windows or reports where the dataset drifted.
    pub const DATASET_DRIFTS: &str = "mlops_drift_dataset_drifts_total";
    /// Counter: columns beyond the label cap.
    pub const COLUMN_LABELS_DROPPED: &str = "mlops_drift_column_labels_dropped_total";
    /// Counter: alerts fired.
    pub const ALERTS_FIRED: &str = "mlops_drift_alerts_fired_total";
    /// Counter: detector drifts.
    pub const DETECTOR_DRIFTS: &str = "mlops_drift_detector_drifts_total";
    /// Humility-rule evaluations, by verdict.
    pub const HUMILITY_EVALUATIONS: &str = "mlops_drift_humility_evaluations_total";
    /// Times a humility rule fired, by rule.
    pub const HUMILITY_RULE_FIRED: &str = "mlops_drift_humility_rule_fired_total";
}

pub(crate) fn label(s: &str) -> String {
    s.chars().take(MAX_LABEL_CHARS).collect()
}

/// Records one report (a closed window or a batch report): per column gauges, the drift
/// share, and the window counters.
pub fn record_report(report: &DriftReport) {
    metrics::counter!(names::WINDOWS).increment(1);
    if report.dataset_drifted {
        metrics::counter!(names::DATASET_DRIFTS).increment(1);
    }
    metrics::gauge!(names::DATASET_DRIFT_SHARE).set(report.drift_share);
    let tested = report.columns.iter().filter(|c| c.is_tested());
    let mut dropped = 0_u64;
    for (i, c) in tested.enumerate() {
        if i >= MAX_COLUMN_LABELS {
            dropped += 1;
            continue;
        }
        let column = label(&c.column);
        metrics::gauge!(names::COLUMN_SCORE, "column" => column.clone()).set(c.statistic);
        if let Some(p) = c.adjusted_p_value.or(c.p_value) {
            metrics::gauge!(names::COLUMN_P_VALUE, "column" => column.clone()).set(p);
        }
        metrics::gauge!(names::COLUMN_DRIFTED, "column" => column).set(if c.drifted {
            1.0
        } else {
            0.0
        });
    }
    if dropped > 0 {
        metrics::counter!(names::COLUMN_LABELS_DROPPED).increment(dropped);
    }
}

/// Publishes a humility policy's counters (a [`CounterSnapshot`](crate::humility::CounterSnapshot)
/// taken by the host, say once per scrape): evaluations by verdict (`accepted`, `overridden`,
/// `rejected`) and fired counts per rule (at most [`MAX_COLUMN_LABELS`] rules, names cut to
/// [`MAX_LABEL_CHARS`]). Counters are set to the snapshot's absolute values, so publishing
/// twice never double-counts; nothing is recorded on the evaluation path.
pub fn record_humility(snapshot: &crate::humility::CounterSnapshot) {
    for (verdict, n) in [
        ("accepted", snapshot.accepted),
        ("overridden", snapshot.overridden),
        ("rejected", snapshot.rejected),
    ] {
        metrics::counter!(names::HUMILITY_EVALUATIONS, "verdict" => verdict).absolute(n);
    }
    for rule in snapshot.rules.iter().take(MAX_COLUMN_LABELS) {
        metrics::counter!(names::HUMILITY_RULE_FIRED, "rule" => label(&rule.name))
            .absolute(rule.fired);
    }
}

/// Records a fired alert of the rule `check`.
pub fn record_alert(check: &str) {
    metrics::counter!(names::ALERTS_FIRED, "check" => label(check)).increment(1);
}

/// Records a drift flagged by an online detector of kind `detector` (`"adwin"`,
/// `"page_hinkley"`, …): call it where the host sees [`DetectorState::Drift`](crate::detect::DetectorState::Drift).
pub fn record_detector_drift(detector: &'static str) {
    metrics::counter!(names::DETECTOR_DRIFTS, "detector" => detector).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DriftReport, ReportConfig};
    use crate::table::Table;

    #[test]
    fn a_report_is_recorded_with_capped_column_labels() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let a: Vec<f64> = (0..200).map(|i| f64::from(i % 20)).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 7.0).collect();
        let names: Vec<String> = (0..MAX_COLUMN_LABELS + 5)
            .map(|i| format!("c{i:03}"))
            .collect();
        let (mut r, mut c) = (Table::new(), Table::new());
        for n in &names {
            r = r.with_numeric(n.clone(), &a).unwrap();
            c = c.with_numeric(n.clone(), &b).unwrap();
        }
        let report = DriftReport::compute(&r, &c, &ReportConfig::default()).unwrap();
        metrics::with_local_recorder(&recorder, || {
            record_report(&report);
            record_alert("drift.dataset.share");
            record_detector_drift("adwin");
        });
        let text = handle.render();
        assert!(text.contains("mlops_drift_windows_total 1"), "{text}");
        assert!(text.contains("mlops_drift_dataset_drifts_total 1"));
        assert!(text.contains("mlops_drift_column_drifted{column=\"c000\"} 1"));
        assert!(!text.contains("column=\"c100\""), "beyond the cap");
        assert!(text.contains("mlops_drift_column_labels_dropped_total 5"));
        assert!(text.contains("mlops_drift_alerts_fired_total{check=\"drift.dataset.share\"} 1"));
        assert!(text.contains("mlops_drift_detector_drifts_total{detector=\"adwin\"} 1"));
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("mlops_drift_column_score{"))
                .count(),
            MAX_COLUMN_LABELS
        );
    }
}
