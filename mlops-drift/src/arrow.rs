//! Arrow input (feature `arrow`): profiles, reports and monitors fed straight from Arrow
//! [`RecordBatch`]es, as read from Parquet, DataFusion, Lance, Iceberg or Polars.
//!
//! [`ArrowTable`] views a batch (or a slice of batches with one schema) as a [`Table`]:
//!
//! | Arrow type | column | copy |
//! |---|---|---|
//! | `Float64` without nulls, one batch | numeric | none: the table borrows the Arrow buffer |
//! | `Float64` with nulls, or several batches | numeric, null → NaN (missing) | one `f64` per row |
//! | `Int8`…`Int64`, `UInt8`…`UInt64`, `Float16`, `Float32` | numeric, null → NaN | one `f64` per row (`Int64`/`UInt64` beyond 2⁵³ round to the nearest `f64`) |
//! | `Boolean` | categorical `"true"` / `"false"`, null → missing | one pointer per row |
//! | `Utf8`, `LargeUtf8`, `Utf8View` | categorical, null → missing | one `&str` per row, the bytes stay in Arrow |
//! | `Dictionary(any integer, Utf8 / LargeUtf8 / Utf8View)` | categorical, null key or value → missing | one `&str` per row |
//!
//! Any other type is [`DriftError::UnsupportedArrowType`], naming the column and its type;
//! project it away first (`RecordBatch::project`) or cast it. Fitting and scoring from an
//! [`ArrowTable`] gives bit-for-bit the results of the equivalent slices.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch, StringArray, ArrayRef};
//! use mlops_drift::arrow::ArrowTable;
//! use mlops_drift::profile::DatasetProfile;
//! use mlops_drift::report::{DriftReport, ReportConfig};
//!
//! let batch = |shift: f64| -> Result<RecordBatch, Box<dyn std::error::Error>> {
//!     let age: ArrayRef = Arc::new(Float64Array::from_iter_values((0..500).map(|i| f64::from(i % 50) + shift)));
//!     let plan: ArrayRef = Arc::new(StringArray::from_iter_values((0..500).map(|i| ["basic", "pro"][i % 2])));
//!     Ok(RecordBatch::try_from_iter([("age", age), ("plan", plan)])?)
//! };
//! let (train, today) = (batch(0.0)?, batch(20.0)?);
//! let profile = DatasetProfile::fit(&ArrowTable::from_batch(&train)?.table()?);
//! let current = ArrowTable::from_batch(&today)?;
//! assert_eq!(current.zero_copy("age"), Some(true)); // Float64 without nulls: borrowed
//! let report = DriftReport::from_profile(&profile, &current.table()?, &ReportConfig::default())?;
//! assert!(report.column("age").is_some_and(|c| c.drifted));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # From Polars, pandas or PyArrow
//!
//! This crate does not depend on Polars. A Polars `DataFrame` is Arrow inside, and reaches a
//! `RecordBatch` without copying through the Arrow C data interface (`arrow-array`'s `ffi`
//! feature: `arrow_array::ffi::from_ffi` on the `ArrowArray`/`ArrowSchema` pair that
//! `polars-arrow`'s `ffi::export_array_to_c` / `export_field_to_c` produce, or that
//! `df.to_arrow()` hands over from Python through the PyCapsule interface), or by Arrow IPC
//! bytes (`df.write_ipc(...)` in Polars, `arrow_ipc::reader::StreamReader` here). Large string
//! columns (`LargeUtf8`, Polars' default) and string views are read as they are.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_schema::DataType;

pub use arrow_array;
pub use arrow_schema;

use crate::error::{DriftError, Result};
use crate::stream::{ColumnBatch, DriftMonitor};
use crate::table::{Column, ColumnData, Table};

/// Most batches an [`ArrowTable`] concatenates.
pub const MAX_BATCHES: usize = 1 << 20;

/// One converted column: borrowed numbers, owned numbers, or borrowed strings.
#[derive(Debug, Clone)]
enum Values<'b> {
    Borrowed(&'b [f64]),
    Owned(Vec<f64>),
    Categories(Vec<Option<&'b str>>),
}

impl Values<'_> {
    fn column_batch(&self) -> ColumnBatch<'_> {
        match self {
            Self::Borrowed(v) => ColumnBatch::Numeric(v),
            Self::Owned(v) => ColumnBatch::Numeric(v),
            Self::Categories(v) => ColumnBatch::Categorical(v),
        }
    }
}

/// Arrow record batches viewed as a [`Table`]: numeric data borrowed where the layout allows
/// (`Float64` without nulls in one batch), converted once otherwise; strings always borrowed.
#[derive(Debug, Clone)]
pub struct ArrowTable<'b> {
    columns: Vec<(String, Values<'b>)>,
    rows: usize,
}

impl<'b> ArrowTable<'b> {
    /// Every column of `batch`.
    ///
    /// # Errors
    /// [`DriftError::UnsupportedArrowType`] for a column of a type outside the table in the
    /// [module docs](self).
    pub fn from_batch(batch: &'b RecordBatch) -> Result<Self> {
        Self::from_batches(std::slice::from_ref(batch))
    }

    /// Every column of `batches`, concatenated in order. All batches must have the same column
    /// names and types (the first batch's schema); numeric columns are copied unless there is
    /// exactly one batch.
    ///
    /// # Errors
    /// [`DriftError::UnsupportedArrowType`] as [`ArrowTable::from_batch`];
    /// [`DriftError::Shape`] when a batch's columns differ from the first batch's;
    /// [`DriftError::InvalidParameter`] for more than [`MAX_BATCHES`] batches.
    pub fn from_batches(batches: &'b [RecordBatch]) -> Result<Self> {
        if batches.len() > MAX_BATCHES {
            return Err(DriftError::InvalidParameter {
                name: "batches",
                reason: format!("{} batches, at most {MAX_BATCHES}", batches.len()),
            });
        }
        let Some(first) = batches.first() else {
            return Ok(Self {
                columns: Vec::new(),
                rows: 0,
            });
        };
        let schema = first.schema();
        for (i, b) in batches.iter().enumerate().skip(1) {
            let other = b.schema();
            let same = other.fields().len() == schema.fields().len()
                && other
                    .fields()
                    .iter()
                    .zip(schema.fields())
                    .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
            if !same {
                return Err(DriftError::Shape {
                    reason: format!("batch {i} has other columns or types than batch 0"),
                });
            }
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (index, field) in schema.fields().iter().enumerate() {
            let arrays: Vec<&'b dyn Array> = batches
                .iter()
                .filter_map(|b| b.columns().get(index).map(|a| a.as_ref()))
                .collect();
            columns.push((
                field.name().clone(),
                convert(field.name(), field.data_type(), &arrays, rows)?,
            ));
        }
        Ok(Self { columns, rows })
    }

    /// The rows of every batch together.
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// Whether the numeric column `name` borrows the Arrow buffer (`Some(false)` when it was
    /// converted, `None` for an unknown or categorical column).
    #[must_use]
    pub fn zero_copy(&self, name: &str) -> Option<bool> {
        match self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v) {
            Some(Values::Borrowed(_)) => Some(true),
            Some(Values::Owned(_)) => Some(false),
            _ => None,
        }
    }

    /// The table that profiles, reports and monitors read.
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] for an empty or duplicate column name (Arrow allows
    /// both, a [`Table`] does not).
    pub fn table(&self) -> Result<Table<'_>> {
        let mut table = Table::new();
        for (name, values) in &self.columns {
            let data = match values {
                Values::Borrowed(v) => ColumnData::Numeric(ndarray::ArrayView1::from(*v)),
                Values::Owned(v) => ColumnData::Numeric(ndarray::ArrayView1::from(v.as_slice())),
                Values::Categories(v) => ColumnData::OptStrs(v),
            };
            table.push(Column::new(name.clone(), data))?;
        }
        Ok(table)
    }
}

fn unsupported(column: &str, data_type: &DataType) -> DriftError {
    DriftError::UnsupportedArrowType {
        column: column.to_owned(),
        data_type: data_type.to_string(),
    }
}

fn convert<'b>(
    name: &str,
    data_type: &DataType,
    arrays: &[&'b dyn Array],
    rows: usize,
) -> Result<Values<'b>> {
    fn numeric<'b, T: ArrowPrimitiveType>(
        arrays: &[&'b dyn Array],
        rows: usize,
        to_f64: impl Fn(T::Native) -> f64,
    ) -> Option<Values<'b>> {
        let mut out = Vec::with_capacity(rows);
        for a in arrays {
            let a: &PrimitiveArray<T> = a.as_primitive_opt()?;
            match a.nulls() {
                None => out.extend(a.values().iter().map(|&v| to_f64(v))),
                Some(nulls) => out.extend(
                    a.values()
                        .iter()
                        .zip(nulls.iter())
                        .map(|(&v, valid)| if valid { to_f64(v) } else { f64::NAN }),
                ),
            }
        }
        Some(Values::Owned(out))
    }
    let converted = match data_type {
        DataType::Float64 => match arrays {
            [one] => {
                let a: &'b PrimitiveArray<Float64Type> = one
                    .as_primitive_opt()
                    .ok_or_else(|| unsupported(name, data_type))?;
                if a.null_count() == 0 {
                    Some(Values::Borrowed(a.values()))
                } else {
                    numeric::<Float64Type>(arrays, rows, |v| v)
                }
            }
            _ => numeric::<Float64Type>(arrays, rows, |v| v),
        },
        DataType::Float32 => numeric::<Float32Type>(arrays, rows, f64::from),
        DataType::Float16 => numeric::<Float16Type>(arrays, rows, |v| v.to_f64()),
        DataType::Int8 => numeric::<Int8Type>(arrays, rows, f64::from),
        DataType::Int16 => numeric::<Int16Type>(arrays, rows, f64::from),
        DataType::Int32 => numeric::<Int32Type>(arrays, rows, f64::from),
        // Documented: beyond 2^53 the nearest f64.
        DataType::Int64 => numeric::<Int64Type>(arrays, rows, |v| v as f64),
        DataType::UInt8 => numeric::<UInt8Type>(arrays, rows, f64::from),
        DataType::UInt16 => numeric::<UInt16Type>(arrays, rows, f64::from),
        DataType::UInt32 => numeric::<UInt32Type>(arrays, rows, f64::from),
        DataType::UInt64 => numeric::<UInt64Type>(arrays, rows, |v| v as f64),
        DataType::Boolean => {
            let mut out = Vec::with_capacity(rows);
            for a in arrays {
                let b = a
                    .as_boolean_opt()
                    .ok_or_else(|| unsupported(name, data_type))?;
                out.extend(
                    b.iter()
                        .map(|v| v.map(|v| if v { "true" } else { "false" })),
                );
            }
            Some(Values::Categories(out))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let mut out = Vec::with_capacity(rows);
            for a in arrays {
                strings(*a, &mut out).ok_or_else(|| unsupported(name, data_type))?;
            }
            Some(Values::Categories(out))
        }
        DataType::Dictionary(_, value)
            if matches!(
                **value,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let mut out = Vec::with_capacity(rows);
            for a in arrays {
                dictionary(*a, &mut out).ok_or_else(|| unsupported(name, data_type))?;
            }
            Some(Values::Categories(out))
        }
        _ => None,
    };
    converted.ok_or_else(|| unsupported(name, data_type))
}

/// Appends the values of a string array (`None` if it is not one).
fn strings<'b>(a: &'b dyn Array, out: &mut Vec<Option<&'b str>>) -> Option<()> {
    if let Some(s) = a.as_string_opt::<i32>() {
        out.extend(s.iter());
    } else if let Some(s) = a.as_string_opt::<i64>() {
        out.extend(s.iter());
    } else {
        out.extend(a.as_string_view_opt()?.iter());
    }
    Some(())
}

/// Appends the values of a dictionary of strings (`None` if it is not one).
fn dictionary<'b>(a: &'b dyn Array, out: &mut Vec<Option<&'b str>>) -> Option<()> {
    let dict = a.as_any_dictionary_opt()?;
    let mut values = Vec::with_capacity(dict.values().len());
    strings(dict.values().as_ref(), &mut values)?;
    if values.is_empty() {
        // No value to point at: every key is null (an array with a valid key could not exist).
        out.extend(std::iter::repeat_n(None, a.len()));
        return Some(());
    }
    let keys = dict.normalized_keys();
    let nulls = a.logical_nulls();
    out.extend(keys.iter().enumerate().map(|(i, &k)| {
        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            None
        } else {
            values.get(k).copied().flatten()
        }
    }));
    Some(())
}

impl DriftMonitor {
    /// Observes every row of an Arrow batch at once: the monitor's features are looked up by
    /// name (other columns are ignored), converted as [`ArrowTable`] does (a `Float64` column
    /// without nulls is read in place) and handed to [`DriftMonitor::observe_batch`] under one
    /// lock. Values of the wrong kind for a feature (strings for a numeric feature) are counted
    /// as wrong-type, as in [`DriftMonitor::observe`].
    ///
    /// # Errors
    /// [`DriftError::UnknownColumn`] for a monitored feature the batch lacks;
    /// [`DriftError::UnsupportedArrowType`] for a feature column of an unsupported type. The
    /// batch is then not observed at all.
    pub fn observe_record_batch(&self, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        let mut values = Vec::with_capacity(self.features().len());
        for name in self.features() {
            let (index, field) = schema
                .column_with_name(name)
                .ok_or_else(|| DriftError::UnknownColumn { name: name.clone() })?;
            let array = batch
                .columns()
                .get(index)
                .ok_or_else(|| DriftError::UnknownColumn { name: name.clone() })?;
            values.push(convert(
                name,
                field.data_type(),
                &[array.as_ref()],
                batch.num_rows(),
            )?);
        }
        let columns: Vec<ColumnBatch<'_>> = values.iter().map(Values::column_batch).collect();
        self.observe_batch(&columns)
    }
}
