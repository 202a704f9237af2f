//! Streaming monitor: windows, exactness against the batch report, sketches with their bound,
//! mergeable summaries (property tests), bad input and real-thread "no lost count" tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/samples.rs"]
mod samples;
use samples::Lcg;

use std::sync::Arc;

use mlops_core::ManualClock;
use mlops_core::chrono::TimeDelta;
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::{DriftReport, ReportConfig};
use mlops_drift::stream::{
    ColumnBatch, DriftMonitor, FeatureSummary, FeatureValue, MonitorConfig, Quality, Values,
    WindowSpec, WindowSummary,
};
use mlops_drift::table::Table;
use proptest::prelude::*;

fn lcg(seed: u64) -> impl Iterator<Item = f64> {
    Lcg::scrambled(seed)
}

const PLANS: [&str; 3] = ["basic", "plus", "pro"];

fn profile() -> DatasetProfile {
    let age: Vec<f64> = lcg(1).take(2_000).map(|u| 20.0 + 40.0 * u).collect();
    let income: Vec<f64> = lcg(2).take(2_000).map(|u| 1_000.0 * u * u).collect();
    let plan: Vec<&str> = lcg(3)
        .take(2_000)
        .map(|u| PLANS[(u * 3.0) as usize])
        .collect();
    let table = Table::new()
        .with_numeric("age", &age)
        .unwrap()
        .with_numeric("income", &income)
        .unwrap()
        .with_categorical("plan", &plan)
        .unwrap();
    DatasetProfile::fit(&table)
}

fn monitor(config: MonitorConfig) -> DriftMonitor {
    DriftMonitor::new(
        profile(),
        &["age", "income", "plan"],
        config,
        Arc::new(ManualClock::default()),
    )
    .unwrap()
}

struct Rows {
    age: Vec<f64>,
    income: Vec<f64>,
    plan: Vec<&'static str>,
}

fn rows(seed: u64, n: usize, shift: f64) -> Rows {
    Rows {
        age: lcg(seed).take(n).map(|u| 20.0 + shift + 40.0 * u).collect(),
        income: lcg(seed + 1).take(n).map(|u| 1_000.0 * u * u).collect(),
        plan: lcg(seed + 2)
            .take(n)
            .map(|u| PLANS[((u * 3.0) as usize).min(2)])
            .collect(),
    }
}

fn feed(m: &DriftMonitor, r: &Rows) {
    for i in 0..r.age.len() {
        m.observe(&[
            FeatureValue::Number(r.age[i]),
            FeatureValue::Number(r.income[i]),
            FeatureValue::Category(r.plan[i]),
        ])
        .unwrap();
    }
}

fn batch_report(r: &Rows) -> DriftReport {
    let table = Table::new()
        .with_numeric("age", &r.age)
        .unwrap()
        .with_numeric("income", &r.income)
        .unwrap()
        .with_categorical("plan", &r.plan)
        .unwrap();
    DriftReport::from_profile(&profile(), &table, &ReportConfig::default()).unwrap()
}

#[test]
fn an_exact_window_report_equals_the_batch_report_on_the_same_rows() {
    let m = monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 1_000 },
        ..MonitorConfig::default()
    });
    let r = rows(10, 1_000, 8.0);
    feed(&m, &r);
    let reports = m.poll().unwrap();
    assert_eq!(reports.len(), 1);
    let w = &reports[0];
    assert_eq!(w.report, batch_report(&r));
    assert!(w.report.column("age").unwrap().drifted);
    assert!(!w.report.column("plan").unwrap().drifted);
    let age = w.feature("age").unwrap();
    assert!(age.exact);
    assert_eq!(age.rank_error, 0.0);
    assert_eq!(age.count, 1_000);
    assert!(
        age.out_of_range > 0,
        "a shift of 8 leaves the reference range"
    );
    assert_eq!(w.summary.rows, 1_000);
    assert!(m.poll().unwrap().is_empty(), "a window is reported once");
}

#[test]
fn a_sketched_window_reports_its_bound_and_exact_psi() {
    let m = monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 20_000 },
        exact_budget: 1_000,
        sketch_k: 200,
        ..MonitorConfig::default()
    });
    let r = rows(20, 20_000, 0.0);
    feed(&m, &r);
    let w = m.poll().unwrap().pop().unwrap();
    let age = w.feature("age").unwrap();
    assert!(!age.exact);
    assert!(
        age.rank_error > 0.0 && age.rank_error < 0.05,
        "{}",
        age.rank_error
    );
    let batch = batch_report(&r);
    // KS from the sketch is within the stated rank error of the exact KS.
    let ks_stream = w.report.column("age").unwrap().statistic;
    let ks_batch = batch.column("age").unwrap().statistic;
    assert!(
        (ks_stream - ks_batch).abs() <= age.rank_error + 1e-3,
        "{ks_stream} vs {ks_batch} (bound {})",
        age.rank_error
    );
    // PSI from the exact bin counts equals batch PSI on the same values.
    let prof = profile();
    let bins = prof
        .get("age")
        .unwrap()
        .as_numeric()
        .unwrap()
        .psi_bins()
        .clone();
    let counts = bins.count(r.age.iter().copied());
    let want = mlops_drift::stats::psi::psi_from_counts(
        bins.reference_counts(),
        &counts,
        mlops_drift::report::PSI_EPSILON,
    )
    .unwrap()
    .psi;
    assert_eq!(age.exact_psi, Some(want));
    // The categorical table stays exact.
    assert_eq!(
        w.report.column("plan").unwrap(),
        batch.column("plan").unwrap()
    );
}

#[test]
fn bad_input_is_counted_and_never_fatal() {
    let m = monitor(MonitorConfig::default());
    assert!(m.observe(&[FeatureValue::Number(1.0)]).is_err());
    let q = m
        .observe(&[
            FeatureValue::Number(f64::NAN),
            FeatureValue::Number(f64::INFINITY),
            FeatureValue::Category("enterprise"),
        ])
        .unwrap();
    assert!(q.contains(Quality::MISSING));
    assert!(q.contains(Quality::INFINITE));
    assert!(q.contains(Quality::UNSEEN_CATEGORY));
    let q = m
        .observe(&[
            FeatureValue::Category("x"),
            FeatureValue::Number(1e9),
            FeatureValue::Number(3.0),
        ])
        .unwrap();
    assert!(q.contains(Quality::WRONG_TYPE) && q.contains(Quality::OUT_OF_RANGE));
    let clean = m
        .observe(&[
            FeatureValue::Number(30.0),
            FeatureValue::Number(10.0),
            FeatureValue::Category("plus"),
        ])
        .unwrap();
    assert!(clean.is_clean());
    assert!(
        m.observe_batch(&[
            ColumnBatch::Numeric(&[1.0, 2.0]),
            ColumnBatch::Numeric(&[1.0])
        ])
        .is_err()
    );
    let s = m.snapshot();
    assert_eq!(s.rows, 3);
    assert_eq!(s.bad_input.wrong_width, 1);
    assert_eq!(s.bad_input.ragged_batches, 1);
    let FeatureSummary::Categorical(plan) = s.feature("plan").unwrap() else {
        panic!()
    };
    assert_eq!((plan.unseen, plan.wrong_type, plan.count), (1, 1, 2));
    let w = m.close_window().unwrap();
    let age = w.feature("age").unwrap();
    assert_eq!((age.missing, age.wrong_type, age.count), (1, 1, 1));
    assert_eq!(w.feature("income").unwrap().infinite, 1);
    assert_eq!(w.feature("income").unwrap().out_of_range, 1);
}

#[test]
fn time_windows_close_on_the_clock_and_slide_over_panes() {
    let clock = ManualClock::default();
    let m = DriftMonitor::new(
        profile(),
        &["age"],
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::minutes(5),
            },
            panes: 2,
            ..MonitorConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .unwrap();
    for minute in 0..16 {
        for i in 0..10 {
            m.observe(&[FeatureValue::Number(30.0 + f64::from(i))])
                .unwrap();
        }
        clock.advance(TimeDelta::minutes(1));
        let reports = m.poll().unwrap();
        if minute == 4 || minute == 9 || minute == 14 {
            assert_eq!(reports.len(), 1, "minute {minute}");
            let expect = if minute == 4 { 50 } else { 100 };
            assert_eq!(reports[0].summary.rows, expect, "two panes of 50 rows");
        } else {
            assert!(reports.is_empty(), "minute {minute}");
        }
    }
    clock.set(mlops_core::chrono::DateTime::<mlops_core::chrono::Utc>::UNIX_EPOCH);
    assert!(m.poll().unwrap().is_empty());
    assert_eq!(m.counters().clock_regressions, 1);
    assert_eq!(m.counters().windows_closed, 3);
}

#[test]
fn replicas_merge_to_what_one_monitor_sees() {
    let all = rows(30, 3_000, 2.0);
    let single = monitor(MonitorConfig::default());
    feed(&single, &all);
    let replicas: Vec<DriftMonitor> = (0..3).map(|_| monitor(MonitorConfig::default())).collect();
    for (i, rep) in replicas.iter().enumerate() {
        let part = Rows {
            age: all.age[i * 1_000..(i + 1) * 1_000].to_vec(),
            income: all.income[i * 1_000..(i + 1) * 1_000].to_vec(),
            plan: all.plan[i * 1_000..(i + 1) * 1_000].to_vec(),
        };
        feed(rep, &part);
    }
    // Ship as JSON, merge centrally.
    let shipped: Vec<WindowSummary> = replicas
        .iter()
        .map(|r| WindowSummary::from_json(&r.snapshot().to_json().unwrap()).unwrap())
        .collect();
    let mut merged = shipped[0].clone();
    for s in &shipped[1..] {
        merged.merge_from(s).unwrap();
    }
    let one = single.snapshot();
    assert_eq!(merged.features, one.features);
    assert_eq!(merged.rows, one.rows);
    let a = mlops_drift::stream::WindowReport::from_summary(
        &profile(),
        merged,
        &ReportConfig::default(),
    )
    .unwrap();
    assert_eq!(a.report, batch_report(&all));
}

#[test]
fn threads_lose_no_count() {
    let m = Arc::new(monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 7_919 },
        exact_budget: 2_000,
        ..MonitorConfig::default()
    }));
    let threads = 4;
    let per_thread = 25_000;
    std::thread::scope(|s| {
        for t in 0..threads {
            let m = Arc::clone(&m);
            s.spawn(move || {
                for (i, u) in lcg(100 + t).take(per_thread).enumerate() {
                    let row = [
                        FeatureValue::Number(20.0 + 40.0 * u),
                        if i % 97 == 0 {
                            FeatureValue::Missing
                        } else {
                            FeatureValue::Number(u)
                        },
                        FeatureValue::Category(PLANS[i % 3]),
                    ];
                    m.observe(&row).unwrap();
                    if i % 1_000 == 0 {
                        m.observe_batch(&[
                            ColumnBatch::Numeric(&[25.0, 26.0]),
                            ColumnBatch::Numeric(&[1.0, 2.0]),
                            ColumnBatch::Categorical(&[Some("pro"), None]),
                        ])
                        .unwrap();
                    }
                }
            });
        }
    });
    let mut reports = m.poll().unwrap();
    // Windows closed by count hold at least their rows (more when threads keep observing while
    // one of them merges the closing window).
    let sizes: Vec<u64> = reports.iter().map(|r| r.summary.rows).collect();
    assert!(sizes.iter().all(|&n| n >= 7_919), "{sizes:?}");
    reports.push(m.close_window().unwrap());
    let total_rows: u64 = reports.iter().map(|r| r.summary.rows).sum();
    let expected_rows = threads * per_thread as u64 + threads * 25 * 2;
    assert_eq!(total_rows, expected_rows);
    assert_eq!(m.counters().reports_dropped, 0);
    let age_counts: u64 = reports
        .iter()
        .map(|r| r.feature("age").unwrap().count)
        .sum();
    assert_eq!(age_counts, expected_rows);
    let missing: u64 = reports
        .iter()
        .map(|r| r.feature("income").unwrap().missing)
        .sum();
    assert_eq!(missing, threads * (per_thread as u64).div_ceil(97));
    for r in &reports {
        let FeatureSummary::Numeric(age) = r.summary.feature("age").unwrap() else {
            panic!()
        };
        assert_eq!(age.bin_counts.iter().sum::<u64>(), age.count);
        assert_eq!(age.values.len(), age.count);
    }
}

fn summary_of(seed: u64, n: usize, budget: usize) -> WindowSummary {
    let m = monitor(MonitorConfig {
        exact_budget: budget,
        sketch_k: 64,
        ..MonitorConfig::default()
    });
    feed(&m, &rows(seed, n, (seed % 5) as f64));
    m.snapshot()
}

fn counts_only(s: &WindowSummary) -> Vec<(u64, u64, Vec<u64>)> {
    s.features
        .iter()
        .map(|(_, f)| match f {
            FeatureSummary::Numeric(n) => (n.count, n.values.len(), n.bin_counts.clone()),
            FeatureSummary::Categorical(c) => {
                (c.count, c.unseen, c.counts.values().copied().collect())
            }
            other => panic!("a summary kind this test does not know: {other:?}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn merge_is_associative_and_commutative_and_exact_parts_are_exact(
        seeds in prop::array::uniform3(0u64..1_000),
        sizes in prop::array::uniform3(0usize..300),
        budget in prop::sample::select(vec![50usize, 10_000]),
    ) {
        let [a, b, c] = [0, 1, 2].map(|i| summary_of(seeds[i], sizes[i], budget));
        let ab = a.merge(&b).unwrap();
        let ba = b.merge(&a).unwrap();
        let ab_c = ab.merge(&c).unwrap();
        let a_bc = a.merge(&b.merge(&c).unwrap()).unwrap();
        let total = (sizes[0] + sizes[1] + sizes[2]) as u64;
        prop_assert_eq!(ab_c.rows, total);
        if sizes.iter().sum::<usize>() <= budget {
            // Everything exact: the merged summaries are identical.
            prop_assert_eq!(&ab.features, &ba.features);
            prop_assert_eq!(&ab_c.features, &a_bc.features);
            for (_, f) in &ab_c.features {
                if let FeatureSummary::Numeric(n) = f {
                    let Values::Exact { values } = &n.values else { panic!("exact expected") };
                    prop_assert!(values.windows(2).all(|w| w[0] <= w[1]));
                }
            }
        }
        // Exact parts (counts, bins, category tables) agree whatever the order.
        prop_assert_eq!(counts_only(&ab), counts_only(&ba));
        prop_assert_eq!(counts_only(&ab_c), counts_only(&a_bc));
        // Merging all at once agrees with pairwise merging on the exact parts, and on
        // everything while the values stay exact.
        let all = WindowSummary::merge_all([&c, &a, &b]).unwrap();
        prop_assert_eq!(counts_only(&all), counts_only(&ab_c));
        prop_assert_eq!(all.rows, total);
        if sizes.iter().sum::<usize>() <= budget {
            prop_assert_eq!(&all.features, &ab_c.features);
        }
    }
}

#[test]
fn bins_only_keeps_psi_exact_and_states_the_bin_bound() {
    use mlops_drift::report::{ColumnConfig, Method};
    use mlops_drift::stream::ValueRetention;
    let report = ReportConfig::default().default_column(ColumnConfig::new().method(Method::Psi));
    let m = monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 5_000 },
        retention: ValueRetention::BinsOnly,
        report: report.clone(),
        ..MonitorConfig::default()
    });
    let r = rows(40, 5_000, 5.0);
    feed(&m, &r);
    assert!(
        m.heap_bytes_of_feature(0) < 1_024,
        "bins only: no values kept"
    );
    let w = m.poll().unwrap().pop().unwrap();
    let table = Table::new()
        .with_numeric("age", &r.age)
        .unwrap()
        .with_numeric("income", &r.income)
        .unwrap()
        .with_categorical("plan", &r.plan)
        .unwrap();
    let batch = DriftReport::from_profile(&profile(), &table, &report).unwrap();
    for name in ["age", "income"] {
        let got = w.report.column(name).unwrap().statistic;
        let want = batch.column(name).unwrap().statistic;
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{name}: {got} vs {want}"
        );
        let f = w.feature(name).unwrap();
        assert!(!f.exact && f.rank_error > 0.0 && f.rank_error <= 1.0);
    }
    assert_eq!(
        w.report.column("plan").unwrap(),
        batch.column("plan").unwrap()
    );
    let merged = w.summary.merge(&w.summary).unwrap();
    let FeatureSummary::Numeric(age) = merged.feature("age").unwrap() else {
        panic!()
    };
    assert_eq!(age.values.len(), 10_000);
    assert_eq!(age.bin_counts.iter().sum::<u64>(), 10_000);
}

#[test]
fn memory_per_feature_does_not_grow_with_the_stream() {
    let m = DriftMonitor::new(
        profile(),
        &["age"],
        MonitorConfig {
            window: WindowSpec::Time {
                length: TimeDelta::days(365),
            },
            exact_budget: 4_096,
            sketch_k: 200,
            shards: 1,
            ..MonitorConfig::default()
        },
        Arc::new(ManualClock::default()),
    )
    .unwrap();
    let mut sizes = Vec::new();
    for (i, u) in lcg(9).take(400_000).enumerate() {
        m.observe(&[FeatureValue::Number(u)]).unwrap();
        if (i + 1) % 100_000 == 0 {
            sizes.push(m.heap_bytes_of_feature(0));
        }
    }
    let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(*hi < 64 * 1_024, "{sizes:?}");
    assert!(*hi <= lo + lo / 2, "memory grew with the stream: {sizes:?}");
    // Once sketched, the footprint is one fixed allocation: the same bytes at every size.
    assert!(
        sizes.windows(2).all(|w| w[0] == w[1]),
        "memory changed with the stream: {sizes:?}"
    );
}

#[test]
fn window_evidence_carries_the_rank_error_and_quality_counts() {
    let m = monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 3_000 },
        exact_budget: 500,
        ..MonitorConfig::default()
    });
    feed(&m, &rows(50, 3_000, 6.0));
    let w = m.poll().unwrap().pop().unwrap();
    let clock = ManualClock::default();
    let ev = w.to_evidence(&"churn@v1".parse().unwrap(), &clock).unwrap();
    let age = ev
        .iter()
        .find(|e| matches!(&e.subject, mlops_core::Subject::Feature { feature, .. } if feature == "age"))
        .unwrap();
    assert_eq!(age.details["exact"], 0.0);
    assert_eq!(
        age.details["rank_error"],
        w.feature("age").unwrap().rank_error
    );
    assert!(age.details["rank_error"] > 0.0);
    assert!(age.details["out_of_range"] > 0.0);
    assert_eq!(
        age.outcome,
        mlops_core::Outcome::Fail,
        "a shift of 6 drifts"
    );
}

fn arb_value() -> impl Strategy<Value = (u8, f64)> {
    (
        0u8..4,
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            -1e308f64..1e308,
            0.0f64..60.0
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn arbitrary_rows_never_panic_and_every_row_is_accounted_for(
        rows in prop::collection::vec(prop::collection::vec(arb_value(), 0..5), 0..200)
    ) {
        let m = monitor(MonitorConfig {
            window: WindowSpec::Count { rows: 37 },
            exact_budget: 16,
            sketch_k: 16,
            ..MonitorConfig::default()
        });
        let names = ["basic", "enterprise", ""];
        let mut accepted = 0u64;
        for row in &rows {
            let values: Vec<FeatureValue<'_>> = row
                .iter()
                .map(|&(kind, x)| match kind {
                    0 => FeatureValue::Number(x),
                    1 => FeatureValue::Category(names[(x.abs() as usize) % 3]),
                    2 => FeatureValue::Missing,
                    _ => FeatureValue::Number(-x),
                })
                .collect();
            match m.observe(&values) {
                Ok(_) => accepted += 1,
                Err(e) => {
                    let is_shape = matches!(e, mlops_drift::DriftError::Shape { .. });
                    prop_assert!(is_shape, "unexpected error {}", e);
                }
            }
        }
        let mut reports = m.poll().unwrap();
        reports.push(m.close_window().unwrap());
        let total: u64 = reports.iter().map(|r| r.summary.rows).sum();
        prop_assert_eq!(total, accepted);
        let rejected: u64 = reports.iter().map(|r| r.summary.bad_input.wrong_width).sum();
        prop_assert_eq!(rejected, rows.len() as u64 - accepted);
    }
}

#[test]
fn merging_many_replicas_matches_one_monitor_within_the_reported_bound() {
    let parts: Vec<WindowSummary> = (0..40).map(|i| summary_of(500 + i, 400, 100)).collect();
    assert!(WindowSummary::merge_all(std::iter::empty()).is_err());
    let mut other = parts[0].clone();
    other.features.pop();
    assert!(WindowSummary::merge_all([&parts[0], &other]).is_err());
    let all = WindowSummary::merge_all(&parts).unwrap();
    let mut pairwise = parts[0].clone();
    for p in &parts[1..] {
        pairwise.merge_from(p).unwrap();
    }
    assert_eq!(counts_only(&all), counts_only(&pairwise));
    assert_eq!(all.rows, 40 * 400);
    let FeatureSummary::Numeric(age) = all.feature("age").unwrap() else {
        panic!("numeric")
    };
    let Values::Sketch { sketch } = &age.values else {
        panic!("sketched beyond the budget")
    };
    // Every replica's exact values, against the merged sketch's ranks.
    let mut exact: Vec<f64> = Vec::new();
    for i in 0..40 {
        let m = monitor(MonitorConfig {
            exact_budget: 1_000_000,
            ..MonitorConfig::default()
        });
        feed(&m, &rows(500 + i, 400, ((500 + i) % 5) as f64));
        let FeatureSummary::Numeric(n) = m.snapshot().feature("age").unwrap().clone() else {
            panic!("numeric")
        };
        let Values::Exact { values } = n.values else {
            panic!("exact")
        };
        exact.extend(values);
    }
    exact.sort_by(f64::total_cmp);
    assert_eq!(sketch.len(), exact.len() as u64);
    let bound = sketch.rank_error();
    assert!(bound > 0.0 && bound < 0.2, "{bound}");
    for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
        let x = exact[(q * exact.len() as f64) as usize];
        let truth = exact.partition_point(|&v| v <= x) as f64;
        let err = (sketch.rank(x) as f64 - truth).abs() / exact.len() as f64;
        assert!(err <= bound, "q {q}: {err} > {bound}");
    }
}

#[test]
fn compacted_summaries_ship_small_and_merge_within_the_reported_bound() {
    // Replicas with exact values (budget 1000) and with sketches (beyond it).
    let parts: Vec<WindowSummary> = (0..60)
        .map(|i| summary_of(700 + i, if i % 2 == 0 { 600 } else { 1_500 }, 1_000))
        .collect();
    let shipped: Vec<WindowSummary> = parts.iter().map(|p| p.compacted(16)).collect();
    for (full, small) in parts.iter().zip(&shipped) {
        // Counts, bins and category tables are untouched; the values shrink.
        assert_eq!(counts_only(full), counts_only(small));
        assert_eq!(small.sketch_k, full.sketch_k);
        assert!(small.to_json().unwrap().len() < full.to_json().unwrap().len());
        let FeatureSummary::Numeric(age) = small.feature("age").unwrap() else {
            panic!("numeric")
        };
        let Values::Sketch { sketch } = &age.values else {
            panic!("more than 16 values become a sketch")
        };
        assert!(sketch.retained() <= 16 + sketch.levels());
        assert_eq!(sketch.len(), age.count);
    }
    // Short exact lists stay exact; bins-only stays bins-only.
    let few = summary_of(1, 10, 1_000);
    assert_eq!(few.compacted(16), few);
    let all = WindowSummary::merge_all(&shipped).unwrap();
    assert_eq!(
        counts_only(&all),
        counts_only(&WindowSummary::merge_all(&parts).unwrap())
    );
    let FeatureSummary::Numeric(age) = all.feature("age").unwrap() else {
        panic!("numeric")
    };
    let Values::Sketch { sketch } = &age.values else {
        panic!("sketched")
    };
    assert_eq!(sketch.k(), 64);
    let mut exact: Vec<f64> = Vec::new();
    for i in 0..60_u64 {
        let r = rows(
            700 + i,
            if i % 2 == 0 { 600 } else { 1_500 },
            ((700 + i) % 5) as f64,
        );
        exact.extend(r.age.iter().copied().filter(|v| v.is_finite()));
    }
    exact.sort_by(f64::total_cmp);
    assert_eq!(sketch.len(), exact.len() as u64);
    let bound = sketch.rank_error();
    assert!(bound > 0.0 && bound < 0.1, "{bound}");
    for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
        let x = exact[(q * exact.len() as f64) as usize];
        let truth = exact.partition_point(|&v| v <= x) as f64;
        let err = (sketch.rank(x) as f64 - truth).abs() / exact.len() as f64;
        assert!(err <= bound, "q {q}: {err} > {bound}");
    }
}

/// The JSON form of a window summary is a wire format (replicas ship it to a collector):
/// pinned by a golden file holding a sketched, an exact and a bins-only summary. Regenerate
/// with `UPDATE_GOLDEN=1 cargo test -p mlops-drift --test stream` after an intended change.
#[test]
fn window_summary_json_matches_golden_file() {
    use mlops_drift::stream::ValueRetention;
    let summary = |retention: ValueRetention, budget: usize, n: usize| {
        let m = monitor(MonitorConfig {
            retention,
            exact_budget: budget,
            sketch_k: 8,
            shards: 1,
            ..MonitorConfig::default()
        });
        for i in 0..n {
            let x = i as f64;
            m.observe(&[
                FeatureValue::Number(20.0 + (x * 7.0) % 40.0),
                FeatureValue::Number(if i == 3 { f64::INFINITY } else { x * 12.5 }),
                FeatureValue::Category(PLANS[i % 3]),
            ])
            .unwrap();
        }
        m.observe(&[
            FeatureValue::Number(f64::NAN),
            FeatureValue::Category("oops"),
            FeatureValue::Category("platinum"),
        ])
        .unwrap();
        assert!(m.observe(&[FeatureValue::Missing]).is_err());
        m.snapshot()
    };
    let summaries = [
        summary(ValueRetention::ExactThenSketch, 12, 150),
        summary(ValueRetention::ExactThenSketch, 1_000, 5),
        summary(ValueRetention::BinsOnly, 1_000, 5),
    ];
    assert!(matches!(
        summaries[0].feature("age"),
        Some(FeatureSummary::Numeric(n)) if matches!(n.values, Values::Sketch { .. })
    ));
    let json = serde_json::to_string_pretty(&summaries).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/window_summary.json"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert_eq!(json, golden.trim_end());
    // It reads back to the same summaries, which serialize to the same text.
    let back: Vec<WindowSummary> = serde_json::from_str(&golden).unwrap();
    assert_eq!(back, summaries);
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
}

#[test]
fn count_windows_close_at_exactly_their_rows_with_one_thread() {
    let m = monitor(MonitorConfig {
        window: WindowSpec::Count { rows: 997 },
        exact_budget: 50,
        ..MonitorConfig::default()
    });
    let r = rows(77, 3 * 997 + 5, 0.0);
    feed(&m, &r);
    let reports = m.poll().unwrap();
    assert_eq!(reports.len(), 3);
    assert!(
        reports.iter().all(|w| w.summary.rows == 997),
        "windows of exactly 997 rows"
    );
    assert_eq!(m.close_window().unwrap().summary.rows, 5);
    // Batches count whole; the window closes as soon as it holds its rows.
    let ages = vec![30.0; 600];
    let incomes = vec![10.0; 600];
    let plans = vec![Some("pro"); 600];
    let batch = [
        ColumnBatch::Numeric(&ages),
        ColumnBatch::Numeric(&incomes),
        ColumnBatch::Categorical(&plans),
    ];
    m.observe_batch(&batch).unwrap();
    assert!(m.poll().unwrap().is_empty());
    m.observe_batch(&batch).unwrap();
    let w = m.poll().unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].summary.rows, 1_200);
    assert_eq!(m.close_window().unwrap().summary.rows, 0);
}
