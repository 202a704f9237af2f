//! Meet users where their data and dashboards are: fit a drift profile from an Arrow record
//! batch, govern the champion's promotion (a denial, a sign-off), check each prediction against
//! humility rules recommended from the profile, monitor Arrow batches, route traffic, then write
//! `drift_report.html` (one self-contained page) and print the Prometheus exposition text of
//! everything recorded.
//!
//! `cargo run --example observability` (writes `drift_report.html` in the current directory).

use mlops_governance::lifecycle::names;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusBuilder;
use mlops_core::chrono::DateTime;
use mlops_core::{Actor, Clock, Digest, ManualClock, ModelName, RiskTier, Role};
use mlops_drift::arrow::ArrowTable;
use mlops_drift::arrow::arrow_array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray,
};
use mlops_drift::humility::{
    Action, FeatureSchema, FeatureValue, HumilityPolicy, RecommendOptions,
};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::stream::{DriftMonitor, MonitorConfig, WindowSpec};
use mlops_governance::engine::PlanContext;
use mlops_governance::policy::{Guard, PolicySpec, TierRules};
use mlops_governance::{Governance, GovernanceError};
use mlops_registry::model::VersionCore;
use mlops_registry::routing::{RouteTable, Router};
use mlops_registry::store::{InMemoryStore, NewVersion};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn batch(
    rng: &mut ChaCha8Rng,
    rows: usize,
    shift: f64,
) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let plans = ["basic", "pro", "team", "enterprise"];
    let income: ArrayRef =
        Arc::new(Float64Array::from_iter_values((0..rows).map(|_| {
            30_000.0 + 40_000.0 * rng.random::<f64>() + shift * 10_000.0
        })));
    let age: ArrayRef = Arc::new(Int32Array::from_iter_values(
        (0..rows).map(|_| 20 + rng.random_range(0..40) + (shift * 8.0) as i32),
    ));
    let plan: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|_| {
        let k = rng.random_range(0..10_usize);
        if shift > 0.0 && k == 0 {
            "trial"
        } else {
            plans[k.min(3)]
        }
    })));
    Ok(RecordBatch::try_from_iter([
        ("income", income),
        ("age", age),
        ("plan", plan),
    ])?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The host installs the recorder; the libraries only record.
    let handle = PrometheusBuilder::new().install_recorder()?;

    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let training = batch(&mut rng, 20_000, 0.0)?;
    let table = ArrowTable::from_batch(&training)?;
    println!(
        "training batch: {} rows; income read in place: {:?}",
        table.n_rows(),
        table.zero_copy("income")
    );
    let profile = DatasetProfile::fit(&table.table()?);

    // Governed: the champion is promoted only after an independent validator signs off (the
    // denial and the approval are counted).
    let store = Arc::new(InMemoryStore::new());
    let gov_clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let eve = Actor::human("eve")?.with_role(Role::ml_engineer());
    let val = Actor::human("val")?.with_role(Role::model_validator());
    let policy = PolicySpec::new("observed")
        .tier(
            RiskTier::Medium,
            TierRules::default().entering(
                "production".parse()?,
                Guard::approvals(1, [Role::model_validator()]),
            ),
        )
        .validate()?;
    let gov = Governance::builder(store, gov_clock.clone())
        .policy(policy)?
        .actors([eve.clone(), val.clone()])
        .environment("prod")
        .build();
    // Registered the way a host does: the model through governance (at the default tier,
    // medium), its version through the store.
    let credit: ModelName = "credit".parse()?;
    gov.register_model(&credit, &eve, "credit limit scoring")?;
    let core = VersionCore::builder(eve.clone(), gov_clock.now())
        .artifact(
            "model.onnx",
            "mem://credit/1/model.onnx",
            Digest::of(b"credit-v1"),
            9,
        )
        .build()?;
    let v1 = gov
        .store()
        .create_version(NewVersion::new(credit, core))?
        .version
        .model_ref();
    let ctx = PlanContext::default();
    gov.transition(&v1, &names::SUBMIT, &eve.id, &ctx)?;
    gov.transition(&v1, &names::VALIDATE, &eve.id, &ctx)?;
    if let Err(GovernanceError::Denied {
        approval: Some(request),
        ..
    }) = gov.transition(&v1, &names::PROMOTE, &eve.id, &ctx)
    {
        gov.approve(&request, &val.id, "validated")?;
    }
    gov.transition(&v1, &names::PROMOTE, &eve.id, &ctx)?;
    println!("governed: {v1} promoted after a sign-off");

    // Per prediction: humility rules recommended from the profile, outliers rejected.
    let mut rules = HumilityPolicy::recommended(&profile, &RecommendOptions::default())?;
    for rule in &mut rules.rules {
        if rule.name.starts_with("outlier:") {
            rule.action = Action::Reject;
        }
    }
    let humility = rules.compile(&FeatureSchema::from_profile(&profile)?)?;

    let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let config = MonitorConfig {
        window: WindowSpec::Count { rows: 5_000 },
        ..MonitorConfig::default()
    };
    let monitor = DriftMonitor::new(profile, &["income", "age", "plan"], config, clock)?;
    let router = Router::new(
        RouteTable::builder("credit@v1".parse()?)
            .challenger("credit@v2".parse()?, 10.0)
            .build()?,
    );

    let mut last = None;
    for (day, shift) in [0.0, 0.0, 1.0].into_iter().enumerate() {
        let traffic = batch(&mut rng, 5_000, shift)?;
        for unit in 0..5_000_u32 {
            router.route(&(day as u32 * 5_000 + unit).to_le_bytes());
        }
        monitor.observe_record_batch(&traffic)?;
        let column = |i: usize| traffic.column(i).as_any();
        let income = column(0).downcast_ref::<Float64Array>().ok_or("income")?;
        let age = column(1).downcast_ref::<Int32Array>().ok_or("age")?;
        let plan = column(2).downcast_ref::<StringArray>().ok_or("plan")?;
        for i in 0..traffic.num_rows() {
            let row = [
                FeatureValue::Number(income.value(i)),
                FeatureValue::Number(f64::from(age.value(i))),
                FeatureValue::Category(plan.value(i)),
            ];
            let _ = humility.evaluate(0.5, &row);
        }
        for window in monitor.poll()? {
            println!(
                "day {day}: dataset drifted = {}, drifted columns = {}",
                window.report.dataset_drifted, window.report.n_drifted
            );
            last = Some(window.report);
        }
    }
    mlops_registry::metrics::record_exposures(&router.exposures());
    mlops_drift::metrics::record_humility(&humility.counters());

    if let Some(report) = last {
        let html = report.to_html();
        std::fs::write("drift_report.html", &html)?;
        println!(
            "wrote drift_report.html ({} bytes, self-contained)",
            html.len()
        );
    }

    println!("\n--- Prometheus exposition ---\n{}", handle.render());
    Ok(())
}
