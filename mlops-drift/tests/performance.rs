//! Performance monitoring with late ground truth: metric oracles (scikit-learn documentation
//! examples), bounded pending memory with counters, bad input, segments, evidence and threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use mlops_core::chrono::TimeDelta;
use mlops_core::{Clock, Direction, ManualClock, Outcome};
use mlops_drift::PerformanceError;
use mlops_drift::monitor::performance::{
    GroundTruth, Metric, MetricThreshold, PerformanceConfig, PerformanceMonitor, Prediction,
};

fn monitor(config: PerformanceConfig) -> (PerformanceMonitor, ManualClock) {
    let clock = ManualClock::default();
    (
        PerformanceMonitor::new(config, Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn classification_metrics_match_scikit_learn() {
    let (m, clock) = monitor(PerformanceConfig {
        low_confidence_band: None,
        ..PerformanceConfig::default()
    });
    // y_true = [0, 1, 1, 0], scores = [0.1, 0.9, 0.8, 0.3]:
    // brier_score_loss(...) == 0.0375 (scikit-learn docs); roc_auc_score == 1.0;
    // log_loss == mean(-ln 0.9, -ln 0.9, -ln 0.8, -ln 0.7).
    let y = [false, true, true, false];
    let s = [0.1, 0.9, 0.8, 0.3];
    for (i, &p) in s.iter().enumerate() {
        m.record_prediction(&format!("r{i}"), clock.now(), Prediction::Score(p), None)
            .unwrap();
    }
    for (i, &t) in y.iter().enumerate().rev() {
        m.record_outcome(&format!("r{i}"), GroundTruth::Class(t))
            .unwrap();
    }
    let c = m.close_window().overall.classification.unwrap();
    assert!(close(c.brier, 0.0375), "{}", c.brier);
    assert_eq!(c.roc_auc, 1.0);
    let ll = -(0.9f64.ln() + 0.9f64.ln() + 0.8f64.ln() + 0.7f64.ln()) / 4.0;
    assert!(close(c.log_loss, ll));
    assert_eq!(
        (c.accuracy, c.precision, c.recall, c.f1),
        (1.0, 1.0, 1.0, 1.0)
    );

    // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75 (scikit-learn docs); at the
    // 0.5 threshold: one TP (0.8), one FN (0.35), two TN: precision 1, recall 0.5, F1 2/3.
    let y = [false, false, true, true];
    let s = [0.1, 0.4, 0.35, 0.8];
    for (i, &p) in s.iter().enumerate() {
        m.record_prediction(&format!("q{i}"), clock.now(), Prediction::Score(p), None)
            .unwrap();
        m.record_outcome(&format!("q{i}"), GroundTruth::Class(y[i]))
            .unwrap();
    }
    let c = m.close_window().overall.classification.unwrap();
    assert!(close(c.roc_auc, 0.75));
    assert_eq!((c.accuracy, c.precision, c.recall), (0.75, 1.0, 0.5));
    assert!(close(c.f1, 2.0 / 3.0));
}

#[test]
fn regression_metrics_match_scikit_learn() {
    let (m, clock) = monitor(PerformanceConfig::default());
    // y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8] (scikit-learn docs):
    // MAE 0.5, RMSE sqrt(0.375), MAPE 0.3273809523809524.
    let y = [3.0, -0.5, 2.0, 7.0];
    let p = [2.5, 0.0, 2.0, 8.0];
    for i in 0..4 {
        m.record_prediction(
            &i.to_string(),
            clock.now(),
            Prediction::Value(p[i]),
            Some("all"),
        )
        .unwrap();
        m.record_outcome(&i.to_string(), GroundTruth::Value(y[i]))
            .unwrap();
    }
    let r = m.close_window();
    let reg = r.overall.regression.unwrap();
    assert!(close(reg.mae, 0.5));
    assert!(close(reg.rmse, 0.375f64.sqrt()));
    assert!(close(reg.mape, 0.327_380_952_380_952_4));
    assert_eq!(r.segments["all"].regression.unwrap(), reg);
}

#[test]
fn pending_memory_is_bounded_and_every_drop_is_counted() {
    let (m, clock) = monitor(PerformanceConfig {
        ttl: TimeDelta::minutes(10),
        capacity: 3,
        ..PerformanceConfig::default()
    });
    let t0 = clock.now();
    for i in 0..5 {
        m.record_prediction(&format!("p{i}"), t0, Prediction::Class(true), None)
            .unwrap();
    }
    assert_eq!(m.pending(), 3);
    // p0 and p1 were evicted: their outcomes match nothing.
    assert!(matches!(
        m.record_outcome("p0", GroundTruth::Class(true)),
        Err(PerformanceError::UnknownPrediction { .. })
    ));
    m.record_outcome("p2", GroundTruth::Class(false)).unwrap();
    // A duplicate of a pending id is refused; an already matched id may be reused.
    assert!(matches!(
        m.record_prediction("p3", t0, Prediction::Class(true), None),
        Err(PerformanceError::DuplicatePrediction { .. })
    ));
    clock.advance(TimeDelta::minutes(11));
    assert_eq!(m.pending(), 0, "p3 and p4 expired");
    // Out-of-order time is accepted and counted.
    let f = m
        .record_prediction(
            "late",
            t0 - TimeDelta::minutes(1),
            Prediction::Score(0.5),
            None,
        )
        .unwrap();
    assert!(f.out_of_order && f.low_confidence);
    assert!(matches!(
        m.record_prediction("nan", clock.now(), Prediction::Score(f64::NAN), None),
        Err(PerformanceError::InvalidValue { .. })
    ));
    assert!(matches!(
        m.record_prediction("big", clock.now(), Prediction::Score(1.5), None),
        Err(PerformanceError::InvalidValue { .. })
    ));
    m.record_prediction("reg", clock.now(), Prediction::Value(1.0), None)
        .unwrap();
    assert!(matches!(
        m.record_outcome("reg", GroundTruth::Class(true)),
        Err(PerformanceError::KindMismatch { .. })
    ));
    assert!(matches!(
        m.record_outcome("reg", GroundTruth::Value(f64::INFINITY)),
        Err(PerformanceError::InvalidValue { .. })
    ));
    let r = m.close_window();
    let c = r.counters;
    assert_eq!(c.predictions, 7);
    assert_eq!(c.evicted, 2);
    // "late" was made 11 minutes before now with a 10-minute TTL: it expires at once.
    assert_eq!(c.expired, 3);
    assert_eq!(c.matched, 1);
    assert_eq!(c.unmatched_outcomes, 1);
    assert_eq!(c.duplicate_ids, 1);
    assert_eq!(c.out_of_order, 1);
    assert_eq!(c.low_confidence, 1);
    assert_eq!(c.invalid, 4);
    assert_eq!(r.pending, 1);
    assert_eq!(
        c.predictions,
        c.matched + c.evicted + c.expired + r.pending as u64
    );
}

#[test]
fn windows_close_on_outcome_count_and_segments_become_evidence() {
    let (m, clock) = monitor(PerformanceConfig {
        window_outcomes: 100,
        ..PerformanceConfig::default()
    });
    let mut closed = 0;
    for i in 0..250 {
        let seg = if i % 2 == 0 { "eu" } else { "us" };
        // "us" is always wrong, "eu" always right.
        let truth = i % 2 == 0;
        m.record_prediction(
            &i.to_string(),
            clock.now(),
            Prediction::Class(true),
            Some(seg),
        )
        .unwrap();
        if m.record_outcome(&i.to_string(), GroundTruth::Class(truth))
            .unwrap()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 2);
    let reports = m.poll();
    assert_eq!(reports.len(), 2);
    let r = &reports[0];
    assert_eq!(r.overall.classification.unwrap().n, 100);
    assert_eq!(r.segments["eu"].classification.unwrap().accuracy, 1.0);
    assert_eq!(r.segments["us"].classification.unwrap().accuracy, 0.0);
    let thresholds = [MetricThreshold {
        metric: Metric::Accuracy,
        direction: Direction::AtLeast,
        threshold: 0.8,
    }];
    let ev = r
        .to_evidence(&"churn@v2".parse().unwrap(), &thresholds)
        .unwrap();
    assert_eq!(ev.len(), 3);
    let by = |name: &str| {
        ev.iter()
            .find(|e| e.check.as_str() == name)
            .unwrap()
            .outcome
    };
    assert_eq!(by("performance.accuracy"), Outcome::Fail);
    assert_eq!(by("performance.accuracy.eu"), Outcome::Pass);
    assert_eq!(by("performance.accuracy.us"), Outcome::Fail);
}

#[test]
fn threads_lose_no_prediction_or_outcome() {
    let (m, clock) = monitor(PerformanceConfig {
        capacity: 500,
        window_outcomes: 777,
        ..PerformanceConfig::default()
    });
    let m = Arc::new(m);
    let threads = 4;
    let per = 5_000;
    std::thread::scope(|s| {
        for t in 0..threads {
            let m = Arc::clone(&m);
            let now = clock.now();
            s.spawn(move || {
                for i in 0..per {
                    let id = format!("{t}-{i}");
                    m.record_prediction(&id, now, Prediction::Score(0.7), None)
                        .unwrap();
                    if i % 3 != 0 {
                        let _ = m.record_outcome(&id, GroundTruth::Class(i % 2 == 0));
                    }
                }
            });
        }
    });
    let mut reports = m.poll();
    reports.push(m.close_window());
    let sum = |f: fn(&mlops_drift::monitor::performance::PerformanceCounters) -> u64| {
        reports.iter().map(|r| f(&r.counters)).sum::<u64>()
    };
    let predictions = sum(|c| c.predictions);
    let matched = sum(|c| c.matched);
    let evicted = sum(|c| c.evicted);
    let unmatched = sum(|c| c.unmatched_outcomes);
    assert_eq!(predictions, threads * per);
    let pending = reports.last().unwrap().pending as u64;
    assert_eq!(predictions, matched + evicted + pending);
    // Each thread answers 2/3 of its ids; an answer either matched or found its id evicted.
    let answered = threads * (per - per.div_ceil(3));
    assert_eq!(matched + unmatched, answered);
    let n: u64 = reports
        .iter()
        .filter_map(|r| r.overall.classification.map(|c| c.n))
        .sum();
    assert_eq!(n, matched);
}

/// Tumbling time windows on the injected clock, cut by outcome arrival time.
#[test]
fn time_windows_close_at_clock_boundaries_by_outcome_arrival() {
    let hour = TimeDelta::hours(1);
    let (m, clock) = monitor(PerformanceConfig {
        window_outcomes: 1_000_000,
        window_length: Some(hour),
        ttl: TimeDelta::days(1),
        ..PerformanceConfig::default()
    });
    let t0 = clock.now();
    let predict = |id: &str, p: bool| {
        m.record_prediction(id, clock.now(), Prediction::Class(p), None)
            .unwrap();
    };
    // Window 1: two right answers, and a prediction whose outcome comes in window 2.
    predict("a", true);
    predict("b", false);
    predict("late", true);
    clock.advance(TimeDelta::minutes(30));
    assert!(!m.record_outcome("a", GroundTruth::Class(true)).unwrap());
    assert!(!m.record_outcome("b", GroundTruth::Class(false)).unwrap());
    assert!(m.poll().is_empty(), "the hour has not passed");
    // Just before the boundary nothing closes; at it, window 1 closes with its boundary as end.
    clock.advance(TimeDelta::minutes(30) - TimeDelta::milliseconds(1));
    assert!(m.poll().is_empty());
    clock.advance(TimeDelta::minutes(10));
    // Window 2: the late outcome is wrong; it counts where it arrives.
    m.record_outcome("late", GroundTruth::Class(false)).unwrap();
    let w1 = m.poll();
    assert_eq!(w1.len(), 1);
    let w1 = &w1[0];
    assert_eq!((w1.start, w1.end), (t0, t0 + hour));
    let c1 = w1.overall.classification.unwrap();
    assert_eq!((c1.n, c1.accuracy), (2, 1.0));
    assert_eq!(w1.counters.predictions, 3);
    assert_eq!(w1.pending, 1, "the late prediction was still waiting");
    // Five idle hours: window 2 closes at its boundary, the idle hours produce nothing, and
    // the open window is the one holding the clock.
    clock.advance(TimeDelta::hours(5));
    let w2 = m.poll();
    assert_eq!(w2.len(), 1);
    assert_eq!((w2[0].start, w2[0].end), (t0 + hour, t0 + hour * 2));
    let c2 = w2[0].overall.classification.unwrap();
    assert_eq!((c2.n, c2.accuracy), (1, 0.0));
    assert_eq!(w2[0].counters.predictions, 0);
    predict("c", true);
    m.record_outcome("c", GroundTruth::Class(true)).unwrap();
    let now = clock.now();
    let w3 = m.close_window();
    assert_eq!((w3.start, w3.end), (t0 + hour * 6, now));
    assert_eq!(w3.overall.classification.unwrap().n, 1);
    // Closed by hand, the next window still ends on the hour grid (the clock is a millisecond
    // short of 6:10).
    clock.advance(TimeDelta::minutes(50));
    assert!(m.poll().is_empty());
    clock.advance(TimeDelta::milliseconds(1));
    let w4 = m.poll();
    assert_eq!(w4.len(), 1, "the 7th hour's window closed at its boundary");
    assert_eq!((w4[0].start, w4[0].end), (now, t0 + hour * 7));
}

#[test]
fn predictions_expiring_before_a_time_boundary_count_in_the_window_they_expired_in() {
    let (m, clock) = monitor(PerformanceConfig {
        window_length: Some(TimeDelta::minutes(10)),
        ttl: TimeDelta::minutes(5),
        ..PerformanceConfig::default()
    });
    m.record_prediction("x", clock.now(), Prediction::Value(1.0), None)
        .unwrap();
    // The prediction expires at minute 5; the monitor only looks at minute 25.
    clock.advance(TimeDelta::minutes(25));
    let reports = m.poll();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].counters.expired, 1);
    assert_eq!(reports[0].pending, 0);
    assert!(
        PerformanceMonitor::new(
            PerformanceConfig {
                window_length: Some(TimeDelta::zero()),
                ..PerformanceConfig::default()
            },
            Arc::new(ManualClock::default()),
        )
        .is_err()
    );
}

/// The JSON form of a performance report is a wire format (reports become evidence and are
/// stored): pinned by a golden file. Regenerate with
/// `UPDATE_GOLDEN=1 cargo test -p mlops-drift --test performance` after an intended change.
#[test]
fn performance_report_json_matches_golden_file() {
    let (m, clock) = monitor(PerformanceConfig {
        ttl: TimeDelta::minutes(10),
        window_length: Some(TimeDelta::hours(1)),
        ..PerformanceConfig::default()
    });
    let scores = [0.9, 0.2, 0.65, 0.45, 0.1, 0.8];
    let truths = [true, false, false, true, false, true];
    for (i, (&s, &t)) in scores.iter().zip(&truths).enumerate() {
        let seg = ["eu", "us"][i % 2];
        m.record_prediction(
            &format!("c{i}"),
            clock.now(),
            Prediction::Score(s),
            Some(seg),
        )
        .unwrap();
        m.record_outcome(&format!("c{i}"), GroundTruth::Class(t))
            .unwrap();
    }
    // One segment without predicted positives: precision and F1 are NaN there.
    m.record_prediction("n1", clock.now(), Prediction::Class(false), Some("apac"))
        .unwrap();
    m.record_outcome("n1", GroundTruth::Class(true)).unwrap();
    for (i, (p, y)) in [(10.0, 12.0), (3.0, 2.5), (7.5, 7.5)]
        .into_iter()
        .enumerate()
    {
        m.record_prediction(&format!("r{i}"), clock.now(), Prediction::Value(p), None)
            .unwrap();
        m.record_outcome(&format!("r{i}"), GroundTruth::Value(y))
            .unwrap();
    }
    // Counted, never silent: an expiry, an unmatched outcome, a duplicate, an invalid score.
    m.record_prediction("expires", clock.now(), Prediction::Score(0.3), None)
        .unwrap();
    assert!(
        m.record_outcome("nobody", GroundTruth::Class(true))
            .is_err()
    );
    assert!(
        m.record_prediction("c-dup", clock.now(), Prediction::Score(0.5), None)
            .is_ok()
    );
    assert!(
        m.record_prediction("c-dup", clock.now(), Prediction::Score(0.5), None)
            .is_err()
    );
    assert!(
        m.record_prediction("bad", clock.now(), Prediction::Score(1.5), None)
            .is_err()
    );
    clock.advance(TimeDelta::minutes(20));
    let report = m.close_window();
    assert_eq!(report.counters.expired, 2);
    let json = serde_json::to_string_pretty(&report).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/performance_report.json"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert_eq!(json, golden.trim_end());
    let back: mlops_drift::monitor::performance::PerformanceReport =
        serde_json::from_str(&golden).unwrap();
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
}

#[test]
fn time_windows_stay_on_their_grid_at_any_resolution() {
    let (m, clock) = monitor(PerformanceConfig {
        window_length: Some(TimeDelta::nanoseconds(10)),
        ..PerformanceConfig::default()
    });
    let t0 = clock.now();
    clock.advance(TimeDelta::nanoseconds(25));
    let reports = m.poll();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].end, t0 + TimeDelta::nanoseconds(10));
    let w = m.close_window();
    assert_eq!(w.start, t0 + TimeDelta::nanoseconds(20));
}
