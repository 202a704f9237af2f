//! Drift from Parquet files: write a training file and a serving file with the `parquet` crate,
//! read each back as Arrow record batches, fit the profile on the first and report on the
//! second (`mlops-drift` itself knows nothing of Parquet: it reads the batches).
//!
//! `cargo run --example arrow_parquet`

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use mlops_drift::arrow::ArrowTable;
use mlops_drift::arrow::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::{DriftReport, ReportConfig};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn write(path: &Path, seed: u64, shift: f64) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = 50_000;
    let amount: ArrayRef =
        Arc::new(Float64Array::from_iter((0..rows).map(|i| {
            (i % 97 != 0).then(|| 20.0 + 80.0 * rng.random::<f64>() + shift)
        })));
    let channels = ["web", "app", "store"];
    let channel: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..rows).map(|_| channels[rng.random_range(0..3_usize)]),
    ));
    let batch = RecordBatch::try_from_iter([("amount", amount), ("channel", channel)])?;
    let mut writer = ArrowWriter::try_new(File::create(path)?, batch.schema(), None)?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}

fn read(path: &Path) -> Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?
        .with_batch_size(8_192)
        .build()?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("mlops-arrow-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (train, today) = (dir.join("train.parquet"), dir.join("today.parquet"));
    write(&train, 1, 0.0)?;
    write(&today, 2, 12.0)?;

    let train_batches = read(&train)?;
    let profile = DatasetProfile::fit(&ArrowTable::from_batches(&train_batches)?.table()?);
    println!(
        "fitted on {} ({} batches)",
        train.display(),
        train_batches.len()
    );

    let today_batches = read(&today)?;
    let current = ArrowTable::from_batches(&today_batches)?;
    let report = DriftReport::from_profile(&profile, &current.table()?, &ReportConfig::default())?;
    for c in &report.columns {
        println!(
            "{:<8} drifted = {:<5} statistic = {:.4}  missing {:.2} % -> {:.2} %",
            c.column,
            c.drifted,
            c.statistic,
            c.missing
                .as_ref()
                .map_or(0.0, |m| m.reference_share * 100.0),
            c.missing.as_ref().map_or(0.0, |m| m.current_share * 100.0),
        );
    }
    println!("dataset drifted: {}", report.dataset_drifted);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
