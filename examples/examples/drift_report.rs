//! A dataset drift report, end to end: fit a reference profile at "training time", store it as
//! JSON, load it at "serving time", score a day of traffic against it, and turn the report into
//! governance evidence.
//!
//! `cargo run --example drift_report`

use mlops_core::chrono::{TimeZone, Utc};
use mlops_core::{ManualClock, ModelRef};
use mlops_drift::correction::Correction;
use mlops_drift::policy::NanPolicy;
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::{ColumnConfig, ColumnStatus, DriftReport, Method, ReportConfig};
use mlops_drift::table::{Column, ColumnData, Table};
use rand::{RngExt as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let plans = ["basic", "plus", "pro"];

    // Training data: 5 000 applications.
    let n = 5_000;
    let age: Vec<f64> = (0..n).map(|_| normal(&mut rng, 40.0, 10.0)).collect();
    let income: Vec<f64> = (0..n).map(|_| normal(&mut rng, 3_000.0, 800.0)).collect();
    let plan: Vec<Option<&str>> = (0..n)
        .map(|_| Some(plans[rng.random_range(0..3_usize)]))
        .collect();
    let train = Table::new()
        .with_numeric("age", &age)?
        .with_numeric("income", &income)?
        .with(Column::new("plan", ColumnData::OptStrs(&plan)))?;
    let stored = DatasetProfile::fit(&train).to_json()?;
    println!(
        "fitted a profile of 3 columns ({} bytes of JSON)",
        stored.len()
    );

    // Serving: a day of 2 000 requests. Incomes shifted up, the form now often omits the plan
    // and a new "enterprise" plan appears.
    let m = 2_000;
    let age: Vec<f64> = (0..m).map(|_| normal(&mut rng, 40.5, 10.0)).collect();
    let income: Vec<f64> = (0..m).map(|_| normal(&mut rng, 3_400.0, 800.0)).collect();
    let plan: Vec<Option<&str>> = (0..m)
        .map(|_| match rng.random_range(0..10_u32) {
            0 | 1 => None,
            2 => Some("enterprise"),
            k => Some(plans[(k % 3) as usize]),
        })
        .collect();
    let today = Table::new()
        .with_numeric("age", &age)?
        .with_numeric("income", &income)?
        .with(Column::new("plan", ColumnData::OptStrs(&plan)))?;

    let profile = DatasetProfile::from_json(&stored)?;
    let config = ReportConfig::new()
        .correction(Correction::Holm)
        .column("age", ColumnConfig::new().method(Method::Ks))
        .column("income", ColumnConfig::new().method(Method::Psi))
        .column(
            "plan",
            ColumnConfig::new().nan_policy(NanPolicy::AsCategory),
        );
    let report = DriftReport::from_profile(&profile, &today, &config)?;

    for c in &report.columns {
        match &c.status {
            ColumnStatus::Tested => println!(
                "{:<7} {:<19} statistic {:>8.4}  p {:>10}  threshold {:<5} -> {}",
                c.column,
                c.method.map_or("-", |m| m.name()),
                c.statistic,
                c.adjusted_p_value
                    .map_or("-".to_owned(), |p| format!("{p:.3e}")),
                c.threshold,
                if c.drifted { "DRIFT" } else { "ok" }
            ),
            other => println!("{:<7} not scored: {other:?}", c.column),
        }
        if let Some(m) = &c.missing {
            println!(
                "        missing share {:.3} -> {:.3} (p {:.2e})",
                m.reference_share, m.current_share, m.p_value
            );
        }
        if let Some(top) = c.explanation.top_contributors.first() {
            println!(
                "        largest change: {} ({:.3} -> {:.3})",
                top.label, top.reference_share, top.current_share
            );
        }
        if !c.explanation.new_categories.is_empty() {
            println!("        new categories: {:?}", c.explanation.new_categories);
        }
    }
    println!(
        "{} of {} columns drifted (share {:.2}); dataset drifted: {}; ranked by effect size: {:?}",
        report.n_drifted,
        report.n_tested,
        report.drift_share,
        report.dataset_drifted,
        report.ranking
    );

    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .ok_or("date")?,
    );
    let version: ModelRef = "credit-scorer@v4".parse()?;
    for e in report.to_evidence(&version, &clock)? {
        println!(
            "evidence {:<32} {:>10.4} {} {:<6} -> {:?}",
            e.check.as_str(),
            e.value,
            e.direction.symbol(),
            e.threshold,
            e.outcome
        );
    }
    Ok(())
}
