//! Drift monitoring inside a service: a reference profile fitted at training time, a shared
//! `DriftMonitor` fed by four request threads, windows closed on a clock, an alert with
//! hysteresis, an ADWIN detector on the error stream, accuracy once late labels arrive, and
//! replicas shipping compacted summaries to one collector.

use std::sync::Arc;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Clock, Direction, ManualClock, Subject};
use mlops_drift::detect::{Adwin, ChangeDetector, DetectorState};
use mlops_drift::monitor::alert::{Alert, AlertEvent, AlertRule};
use mlops_drift::monitor::performance::{
    GroundTruth, PerformanceConfig, PerformanceMonitor, Prediction,
};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::ReportConfig;
use mlops_drift::stream::{
    ColumnBatch, DriftMonitor, FeatureValue, MonitorConfig, WindowReport, WindowSpec, WindowSummary,
};
use mlops_drift::table::Table;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PLANS: [&str; 3] = ["basic", "plus", "pro"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("drift monitoring\n");
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(7);

    // 1. Training time: fit the reference profile once.
    let ages: Vec<f64> = (0..5_000)
        .map(|_| 25.0 + 30.0 * rng.random::<f64>())
        .collect();
    let plans: Vec<&str> = (0..5_000).map(|i| PLANS[i % 3]).collect();
    let profile = DatasetProfile::fit(
        &Table::new()
            .with_numeric("age", &ages)?
            .with_categorical("plan", &plans)?,
    );
    println!("1. reference profile fitted on 5000 rows (age, plan)");

    // 2. Serving: one monitor shared by every request thread, 10-minute windows.
    let monitor = Arc::new(DriftMonitor::new(
        profile.clone(),
        &["age", "plan"],
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::minutes(10),
            },
            ..MonitorConfig::default()
        },
        Arc::new(clock.clone()),
    )?);
    let rule = AlertRule::new("drift.dataset.share".parse()?, Direction::Below, 0.5, 0.25)?
        .fire_after(1)
        .cooldown(TimeDelta::hours(1));
    let mut alert = Alert::new(
        rule,
        Subject::Model {
            model: "churn".parse()?,
        },
    );
    println!("2. four request threads feed one monitor; windows close every 10 minutes\n");

    for window in 0..4u64 {
        // From the third window on, customers are 12 years older and "enterprise" appears.
        let shift = if window >= 2 { 12.0 } else { 0.0 };
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let monitor = Arc::clone(&monitor);
                s.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(100 * window + t);
                    for i in 0..500 {
                        let age = 25.0 + shift + 30.0 * rng.random::<f64>();
                        let plan = if shift > 0.0 && i % 10 == 0 {
                            "enterprise"
                        } else {
                            PLANS[i % 3]
                        };
                        let row = [FeatureValue::Number(age), FeatureValue::Category(plan)];
                        // A wrong-width row is a typed error, counted; the monitor goes on.
                        let _ = monitor.observe(&row);
                    }
                });
            }
        });
        clock.advance(TimeDelta::minutes(10));
        for w in monitor.poll()? {
            let age = w.report.column("age").ok_or("no age column")?;
            let plan = w.feature("plan").ok_or("no plan feature")?;
            println!(
                "   window {window}: {} rows, age {} = {:.3} (drifted: {}), unseen plans: {}, dataset drift share {:.2}",
                w.summary.rows,
                age.method.map_or("-", |m| m.name()),
                age.statistic,
                age.drifted,
                plan.unseen,
                w.report.drift_share,
            );
            let (event, evidence) = alert.evaluate(w.report.drift_share, clock.now());
            match event {
                Some(AlertEvent::Fired { .. }) => println!(
                    "   -> ALERT fired: {} = {:.2} (evidence outcome {:?})",
                    evidence.check, evidence.value, evidence.outcome
                ),
                Some(AlertEvent::Resolved { .. }) => println!("   -> alert resolved"),
                Some(other) => println!("   -> {other:?}"),
                None => {}
            }
        }
    }

    // 3. Online change detection on the model's error stream.
    let mut adwin = Adwin::default();
    let mut first = None;
    for i in 0..4_000 {
        let error_rate = if i < 2_000 { 0.1 } else { 0.35 };
        let err = f64::from(u8::from(rng.random::<f64>() < error_rate));
        if adwin.update(err) == DetectorState::Drift && first.is_none() {
            first = Some(i);
        }
    }
    println!(
        "\n3. ADWIN on the 0/1 error stream (error rate 10% -> 35% at 2000): first drift at {}",
        first.map_or_else(|| "none".to_owned(), |i| format!("value {i}"))
    );

    // 4. Late ground truth: predictions now, labels days later, per segment.
    let perf = PerformanceMonitor::new(PerformanceConfig::default(), Arc::new(clock.clone()))?;
    let mut scores = Vec::new();
    for i in 0..1_000 {
        let segment = if i % 2 == 0 { "eu" } else { "us" };
        let score: f64 = rng.random();
        scores.push(score);
        perf.record_prediction(
            &format!("req-{i}"),
            clock.now(),
            Prediction::Score(score),
            Some(segment),
        )?;
    }
    clock.advance(TimeDelta::days(3));
    for i in 0..900 {
        // Labels agree with the score more often in "eu" than in "us".
        let flip = if i % 2 == 0 { 0.1 } else { 0.3 };
        let truth = (scores.get(i).copied().unwrap_or(0.0) >= 0.5) != (rng.random::<f64>() < flip);
        perf.record_outcome(&format!("req-{i}"), GroundTruth::Class(truth))?;
    }
    let _ = perf.record_outcome("req-unknown", GroundTruth::Class(true));
    let report = perf.close_window();
    println!(
        "4. late labels: {} matched, {} unmatched outcome(s), {} still pending",
        report.counters.matched, report.counters.unmatched_outcomes, report.pending
    );
    for (segment, m) in &report.segments {
        if let Some(c) = m.classification {
            println!(
                "   segment {segment}: accuracy {:.3}, ROC AUC {:.3}, Brier {:.3}",
                c.accuracy, c.roc_auc, c.brier
            );
        }
    }

    // 5. Many replicas: each ships a compacted summary (JSON); one collector merges and scores.
    let mut wire = Vec::new();
    for replica in 0..50u64 {
        let m = DriftMonitor::new(
            profile.clone(),
            &["age", "plan"],
            MonitorConfig {
                sketch_k: 200,
                ..MonitorConfig::default()
            },
            Arc::new(clock.clone()),
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(1_000 + replica);
        let ages: Vec<f64> = (0..2_000)
            .map(|_| 30.0 + 30.0 * rng.random::<f64>())
            .collect();
        let plans: Vec<Option<&str>> = (0..2_000).map(|i| Some(PLANS[i % 3])).collect();
        m.observe_batch(&[
            ColumnBatch::Numeric(&ages),
            ColumnBatch::Categorical(&plans),
        ])?;
        wire.push(m.snapshot().compacted(32).to_json()?);
    }
    let received = wire
        .iter()
        .map(|json| WindowSummary::from_json(json))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = WindowSummary::merge_all(&received)?;
    let scored = WindowReport::from_summary(&profile, merged, &ReportConfig::default())?;
    let age = scored.feature("age").ok_or("no age feature")?;
    let ks = scored.report.column("age").ok_or("no age column")?;
    println!(
        "5. 50 replicas shipped {} bytes of JSON each; merged: {} rows, age {} = {:.3} \
         (rank-error bound {:.2} %), drifted: {}",
        wire.first().map_or(0, String::len),
        scored.summary.rows,
        ks.method.map_or("-", |m| m.name()),
        ks.statistic,
        100.0 * age.rank_error,
        ks.drifted,
    );
    Ok(())
}
