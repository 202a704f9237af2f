//! Arrow input: tables, profiles, reports and monitors from record batches agree bit for bit
//! with the same data given as slices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]
#![cfg(feature = "arrow")]

#[path = "support/samples.rs"]
mod samples;
use samples::Lcg;

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::{Int8Type, UInt32Type};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float16Array, Float32Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    StringViewArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use mlops_core::ManualClock;
use mlops_core::chrono::DateTime;
use mlops_drift::DriftError;
use mlops_drift::arrow::ArrowTable;
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::{DriftReport, ReportConfig};
use mlops_drift::stream::{ColumnBatch, DriftMonitor, FeatureValue, MonitorConfig, WindowSpec};
use mlops_drift::table::{Column, ColumnData, Table};

const CATS: [&str; 5] = ["basic", "pro", "team", "ent", "<b>free</b>"];

/// Deterministic pseudo-random values, so no dependency on rand.
fn lcg(seed: u64, n: usize) -> Vec<u64> {
    let mut g = Lcg::new(seed);
    (0..n).map(|_| g.bits()).collect()
}

/// Rows with a null every `null_every` rows (0: none).
struct Data {
    f64s: Vec<Option<f64>>,
    ints: Vec<Option<i64>>,
    cats: Vec<Option<&'static str>>,
    bools: Vec<Option<bool>>,
}

fn data(seed: u64, n: usize, shift: f64, null_every: usize) -> Data {
    let r = lcg(seed, n);
    let null = |i: usize| null_every > 0 && i.is_multiple_of(null_every);
    Data {
        f64s: r
            .iter()
            .enumerate()
            .map(|(i, &v)| (!null(i)).then(|| (v % 10_000) as f64 / 97.0 + shift))
            .collect(),
        ints: r
            .iter()
            .enumerate()
            .map(|(i, &v)| (!null(i + 1)).then(|| (v % 100) as i64 - 50 + shift as i64))
            .collect(),
        cats: r
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                (!null(i + 2))
                    .then(|| CATS[((v % 8) as usize).min(4).wrapping_add(shift as usize) % 5])
            })
            .collect(),
        bools: r
            .iter()
            .enumerate()
            .map(|(i, &v)| (!null(i + 3)).then_some(v % 3 == 0))
            .collect(),
    }
}

fn nan(v: &[Option<f64>]) -> Vec<f64> {
    v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}

/// One batch holding every supported type.
fn batch(d: &Data) -> RecordBatch {
    let ints = &d.ints;
    let mut dict8 = StringDictionaryBuilder::<Int8Type>::new();
    let mut dict32 = StringDictionaryBuilder::<UInt32Type>::new();
    for c in &d.cats {
        dict8.append_option(*c);
        dict32.append_option(*c);
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("f64", Arc::new(Float64Array::from(d.f64s.clone()))),
        (
            "f32",
            Arc::new(Float32Array::from(
                d.f64s
                    .iter()
                    .map(|v| v.map(|v| v as f32))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "f16",
            Arc::new(Float16Array::from(
                d.f64s
                    .iter()
                    .map(|v| v.map(half::f16::from_f64))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "i8",
            Arc::new(Int8Array::from(
                ints.iter().map(|v| v.map(|v| v as i8)).collect::<Vec<_>>(),
            )),
        ),
        (
            "i16",
            Arc::new(Int16Array::from(
                ints.iter().map(|v| v.map(|v| v as i16)).collect::<Vec<_>>(),
            )),
        ),
        (
            "i32",
            Arc::new(Int32Array::from(
                ints.iter().map(|v| v.map(|v| v as i32)).collect::<Vec<_>>(),
            )),
        ),
        ("i64", Arc::new(Int64Array::from(ints.clone()))),
        (
            "u8",
            Arc::new(UInt8Array::from(
                ints.iter()
                    .map(|v| v.map(|v| (v + 128) as u8))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from(
                ints.iter()
                    .map(|v| v.map(|v| (v + 128) as u16))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from(
                ints.iter()
                    .map(|v| v.map(|v| (v + 128) as u32))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from(
                ints.iter()
                    .map(|v| v.map(|v| (v + 128) as u64))
                    .collect::<Vec<_>>(),
            )),
        ),
        ("bool", Arc::new(BooleanArray::from(d.bools.clone()))),
        ("utf8", Arc::new(StringArray::from(d.cats.clone()))),
        (
            "large_utf8",
            Arc::new(LargeStringArray::from(d.cats.clone())),
        ),
        ("utf8_view", Arc::new(StringViewArray::from(d.cats.clone()))),
        ("dict_i8", Arc::new(dict8.finish())),
        ("dict_u32", Arc::new(dict32.finish())),
    ];
    RecordBatch::try_from_iter(cols).unwrap()
}

/// The same data as slices, converted by hand the way the module documents.
struct Slices {
    numeric: Vec<(&'static str, Vec<f64>)>,
    cats: Vec<(&'static str, Vec<Option<&'static str>>)>,
}

fn slices(d: &Data) -> Slices {
    let ints =
        |f: fn(i64) -> f64| -> Vec<f64> { d.ints.iter().map(|v| v.map_or(f64::NAN, f)).collect() };
    let bools: Vec<Option<&str>> = d
        .bools
        .iter()
        .map(|b| b.map(|b| if b { "true" } else { "false" }))
        .collect();
    Slices {
        numeric: vec![
            ("f64", nan(&d.f64s)),
            (
                "f32",
                d.f64s
                    .iter()
                    .map(|v| v.map_or(f64::NAN, |v| f64::from(v as f32)))
                    .collect(),
            ),
            (
                "f16",
                d.f64s
                    .iter()
                    .map(|v| v.map_or(f64::NAN, |v| half::f16::from_f64(v).to_f64()))
                    .collect(),
            ),
            ("i8", ints(|v| f64::from(v as i8))),
            ("i16", ints(|v| f64::from(v as i16))),
            ("i32", ints(|v| f64::from(v as i32))),
            ("i64", ints(|v| v as f64)),
            ("u8", ints(|v| f64::from((v + 128) as u8))),
            ("u16", ints(|v| f64::from((v + 128) as u16))),
            ("u32", ints(|v| f64::from((v + 128) as u32))),
            ("u64", ints(|v| (v + 128) as u64 as f64)),
        ],
        cats: vec![
            ("bool", bools),
            ("utf8", d.cats.clone()),
            ("large_utf8", d.cats.clone()),
            ("utf8_view", d.cats.clone()),
            ("dict_i8", d.cats.clone()),
            ("dict_u32", d.cats.clone()),
        ],
    }
}

fn slice_table(s: &Slices) -> Table<'_> {
    let mut t = Table::new();
    for (name, v) in &s.numeric {
        t.push(Column::new(*name, ColumnData::Numeric(v.as_slice().into())))
            .unwrap();
    }
    for (name, v) in &s.cats {
        t.push(Column::new(*name, ColumnData::OptStrs(v))).unwrap();
    }
    t
}

#[test]
fn profiles_and_reports_from_batches_equal_those_from_slices_bit_for_bit() {
    for null_every in [0, 7] {
        let (rd, cd) = (
            data(1, 3_000, 0.0, null_every),
            data(2, 2_000, 31.0, null_every),
        );
        let (rb, cb) = (batch(&rd), batch(&cd));
        let (rs, cs) = (slices(&rd), slices(&cd));

        let arrow_ref = ArrowTable::from_batch(&rb).unwrap();
        let arrow_cur = ArrowTable::from_batch(&cb).unwrap();
        assert_eq!(arrow_ref.n_rows(), 3_000);
        let p_arrow = DatasetProfile::fit(&arrow_ref.table().unwrap());
        let p_slice = DatasetProfile::fit(&slice_table(&rs));
        assert_eq!(p_arrow.columns().len(), 17);
        assert_eq!(p_arrow.to_json().unwrap(), p_slice.to_json().unwrap());

        let config = ReportConfig::default();
        let r_arrow =
            DriftReport::from_profile(&p_arrow, &arrow_cur.table().unwrap(), &config).unwrap();
        let r_slice = DriftReport::from_profile(&p_slice, &slice_table(&cs), &config).unwrap();
        assert_eq!(r_arrow.to_json().unwrap(), r_slice.to_json().unwrap());
        assert!(r_arrow.n_drifted > 0, "the shifted data drifts");
        // The string encodings all give the same column.
        let utf8 = r_arrow.column("utf8").unwrap();
        for other in ["large_utf8", "utf8_view", "dict_i8", "dict_u32"] {
            let c = r_arrow.column(other).unwrap();
            assert_eq!(c.statistic.to_bits(), utf8.statistic.to_bits(), "{other}");
            assert_eq!(c.missing, utf8.missing, "{other}");
        }
    }
}

#[test]
fn several_batches_equal_one_batch_and_copy_numeric_data() {
    let d = data(3, 2_500, 0.0, 5);
    let whole = batch(&d);
    let parts = vec![
        whole.slice(0, 1_000),
        whole.slice(1_000, 1),
        whole.slice(1_001, 1_499),
    ];
    let one = ArrowTable::from_batch(&whole).unwrap();
    let many = ArrowTable::from_batches(&parts).unwrap();
    assert_eq!(many.n_rows(), 2_500);
    assert_eq!(many.zero_copy("f64"), Some(false));
    assert_eq!(
        DatasetProfile::fit(&one.table().unwrap())
            .to_json()
            .unwrap(),
        DatasetProfile::fit(&many.table().unwrap())
            .to_json()
            .unwrap()
    );
    let empty = ArrowTable::from_batches(&[]).unwrap();
    assert_eq!(empty.n_rows(), 0);
    assert!(empty.table().unwrap().columns().is_empty());
}

#[test]
fn float64_without_nulls_is_borrowed_not_copied() {
    let values: Vec<f64> = (0..1_000).map(f64::from).collect();
    let array = Float64Array::from(values);
    let with_nulls = Float64Array::from(vec![Some(1.0), None, Some(3.0)]);
    let b = RecordBatch::try_from_iter([
        ("x", Arc::new(array) as ArrayRef),
        (
            "n",
            Arc::new(Int32Array::from((0..1_000).collect::<Vec<i32>>())),
        ),
    ])
    .unwrap();
    let t = ArrowTable::from_batch(&b).unwrap();
    assert_eq!(t.zero_copy("x"), Some(true));
    assert_eq!(t.zero_copy("n"), Some(false));
    assert_eq!(t.zero_copy("nope"), None);
    let table = t.table().unwrap();
    let ColumnData::Numeric(view) = table.get("x").unwrap().data() else {
        panic!("numeric")
    };
    let arrow_ptr = b.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(view.as_ptr(), arrow_ptr.values().as_ptr(), "same memory");
    // A sliced array is still borrowed, at its offset.
    let sliced = b.slice(10, 20);
    let t = ArrowTable::from_batch(&sliced).unwrap();
    let table = t.table().unwrap();
    let ColumnData::Numeric(view) = table.get("x").unwrap().data() else {
        panic!("numeric")
    };
    assert_eq!(view.len(), 20);
    assert_eq!(view[0], 10.0);
    // Nulls force a copy, with NaN in their place.
    let b = RecordBatch::try_from_iter([("y", Arc::new(with_nulls) as ArrayRef)]).unwrap();
    let t = ArrowTable::from_batch(&b).unwrap();
    assert_eq!(t.zero_copy("y"), Some(false));
    let table = t.table().unwrap();
    let ColumnData::Numeric(view) = table.get("y").unwrap().data() else {
        panic!("numeric")
    };
    assert!(view[1].is_nan() && view[0] == 1.0 && view[2] == 3.0);
}

#[test]
fn unsupported_types_and_mismatched_batches_are_typed_errors() {
    let b = RecordBatch::try_from_iter([
        (
            "ok",
            Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef,
        ),
        (
            "signup_day",
            Arc::new(Date32Array::from(vec![1, 2])) as ArrayRef,
        ),
    ])
    .unwrap();
    let err = ArrowTable::from_batch(&b).unwrap_err();
    assert_eq!(
        err,
        DriftError::UnsupportedArrowType {
            column: "signup_day".into(),
            data_type: "Date32".into()
        }
    );
    assert!(err.to_string().contains("`signup_day`") && err.to_string().contains("Date32"));
    // Projecting the column away works.
    let projected = b.project(&[0]).unwrap();
    assert!(ArrowTable::from_batch(&projected).is_ok());

    let a =
        RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)])
            .unwrap();
    let c = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from(vec![1])) as ArrayRef)])
        .unwrap();
    assert!(matches!(
        ArrowTable::from_batches(&[a.clone(), c]),
        Err(DriftError::Shape { .. })
    ));
    // Arrow allows an empty column name; a Table does not.
    let e = RecordBatch::try_from_iter([("", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)])
        .unwrap();
    assert!(matches!(
        ArrowTable::from_batch(&e).unwrap().table(),
        Err(DriftError::InvalidParameter { .. })
    ));
}

#[test]
fn dictionary_with_null_values_and_empty_dictionaries_read_as_missing() {
    use arrow_array::DictionaryArray;
    let keys = Int8Array::from(vec![Some(0), Some(1), None, Some(0)]);
    let values = StringArray::from(vec![Some("a"), None]);
    let dict = DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values)).unwrap();
    let empty = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(vec![None, None, None, None]),
        Arc::new(StringArray::from(Vec::<&str>::new())),
    )
    .unwrap();
    let b = RecordBatch::try_from_iter([
        ("d", Arc::new(dict) as ArrayRef),
        ("e", Arc::new(empty) as ArrayRef),
    ])
    .unwrap();
    let t = ArrowTable::from_batch(&b).unwrap();
    let table = t.table().unwrap();
    let ColumnData::OptStrs(v) = table.get("d").unwrap().data() else {
        panic!("categorical")
    };
    assert_eq!(*v, &[Some("a"), None, None, Some("a")][..]);
    let ColumnData::OptStrs(v) = table.get("e").unwrap().data() else {
        panic!("categorical")
    };
    assert_eq!(*v, &[None, None, None, None][..]);
}

fn monitor(profile: &DatasetProfile, features: &[&str]) -> DriftMonitor {
    let config = MonitorConfig {
        window: WindowSpec::Count { rows: 1_000_000 },
        shards: 1,
        ..MonitorConfig::default()
    };
    DriftMonitor::new(
        profile.clone(),
        features,
        config,
        Arc::new(ManualClock::new(DateTime::UNIX_EPOCH)),
    )
    .unwrap()
}

#[test]
fn observe_record_batch_equals_row_by_row_and_column_batches() {
    let (rd, cd) = (data(4, 3_000, 0.0, 9), data(5, 1_500, 31.0, 9));
    let rb = batch(&rd);
    let profile = DatasetProfile::fit(&ArrowTable::from_batch(&rb).unwrap().table().unwrap());
    let features = ["f64", "i32", "utf8", "dict_u32", "bool"];
    let cb = batch(&cd);
    let cs = slices(&cd);

    let by_batch = monitor(&profile, &features);
    // Two record batches, one of them sliced (offsets).
    by_batch.observe_record_batch(&cb.slice(0, 700)).unwrap();
    by_batch.observe_record_batch(&cb.slice(700, 800)).unwrap();

    let by_row = monitor(&profile, &features);
    let num = |n: &str| cs.numeric.iter().find(|(k, _)| *k == n).unwrap().1.clone();
    let cat = |n: &str| cs.cats.iter().find(|(k, _)| *k == n).unwrap().1.clone();
    let (f, i, u, d, b) = (
        num("f64"),
        num("i32"),
        cat("utf8"),
        cat("dict_u32"),
        cat("bool"),
    );
    for r in 0..1_500 {
        let c = |v: Option<&'static str>| v.map_or(FeatureValue::Missing, FeatureValue::Category);
        by_row
            .observe(&[
                FeatureValue::Number(f[r]),
                FeatureValue::Number(i[r]),
                c(u[r]),
                c(d[r]),
                c(b[r]),
            ])
            .unwrap();
    }
    let by_columns = monitor(&profile, &features);
    by_columns
        .observe_batch(&[
            ColumnBatch::Numeric(&f),
            ColumnBatch::Numeric(&i),
            ColumnBatch::Categorical(&u),
            ColumnBatch::Categorical(&d),
            ColumnBatch::Categorical(&b),
        ])
        .unwrap();
    let a = serde_json::to_string(&by_batch.close_window().unwrap().report).unwrap();
    let r = serde_json::to_string(&by_row.close_window().unwrap().report).unwrap();
    let c = serde_json::to_string(&by_columns.close_window().unwrap().report).unwrap();
    assert_eq!(a, r);
    assert_eq!(a, c);
    assert!(a.contains("\"drifted\":true"));
}

#[test]
fn observe_record_batch_rejects_missing_or_unsupported_feature_columns() {
    let rd = data(6, 500, 0.0, 0);
    let rb = batch(&rd);
    let profile = DatasetProfile::fit(&ArrowTable::from_batch(&rb).unwrap().table().unwrap());
    let m = monitor(&profile, &["f64", "utf8"]);
    let only_f64 = rb.project(&[0]).unwrap();
    assert_eq!(
        m.observe_record_batch(&only_f64),
        Err(DriftError::UnknownColumn {
            name: "utf8".into()
        })
    );
    let wrong = RecordBatch::try_from_iter([
        ("f64", Arc::new(Date32Array::from(vec![1, 2])) as ArrayRef),
        (
            "utf8",
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
        ),
    ])
    .unwrap();
    assert!(matches!(
        m.observe_record_batch(&wrong),
        Err(DriftError::UnsupportedArrowType { ref column, .. }) if column == "f64"
    ));
    // Nothing was observed by the failed calls.
    assert_eq!(m.snapshot().features.len(), 2);
    let report = m.close_window().unwrap();
    assert!(report.features.iter().all(|f| f.count == 0));
    // A string column for a numeric feature counts as wrong type, not fatal.
    let swapped = RecordBatch::try_from_iter([
        (
            "f64",
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
        ),
        (
            "utf8",
            Arc::new(StringArray::from(vec!["basic", "pro"])) as ArrayRef,
        ),
    ])
    .unwrap();
    m.observe_record_batch(&swapped).unwrap();
    let report = m.close_window().unwrap();
    assert_eq!(report.feature("f64").unwrap().wrong_type, 2);
}
