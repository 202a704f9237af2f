//! Serde for `f64` that survives JSON: finite numbers as numbers, and NaN and the infinities as
//! the strings `"nan"`, `"inf"` and `"-inf"` (the convention of the conformance files), instead
//! of serde_json's lossy `null`.
//!
//! Use with `#[serde(with = "mlops_core::float_serde")]` on an `f64` field, or
//! `#[serde(with = "mlops_core::float_serde::map")]` on a `BTreeMap<String, f64>`.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number or a string. `Cow`, not `&str`: a deserializer that owns its strings
/// (`serde_json::from_reader`, `from_value`, or a struct buffered by an enclosing tagged enum)
/// cannot lend one.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr<'a> {
    Number(f64),
    Text(#[serde(borrow)] Cow<'a, str>),
}

/// Serializes `value`, writing non-finite values as strings.
///
/// # Errors
/// Whatever the serializer returns.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("nan")
    } else if value.is_infinite() {
        serializer.serialize_str(if *value > 0.0 { "inf" } else { "-inf" })
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Deserializes a number or one of `"nan"`, `"inf"`, `"-inf"`.
///
/// # Errors
/// Any other string or type.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let text = match Repr::deserialize(deserializer)? {
        Repr::Number(n) => return Ok(n),
        Repr::Text(t) => t,
    };
    parse_special(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "expected a number or one of `nan`, `inf`, `-inf`, got `{text}`"
        ))
    })
}

fn parse_special(text: &str) -> Option<f64> {
    match text {
        "nan" | "NaN" => Some(f64::NAN),
        "inf" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// The same convention for `BTreeMap<String, f64>` values.
pub mod map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Wrapped(#[serde(with = "super")] f64);

    /// Serializes the map, writing non-finite values as strings.
    ///
    /// # Errors
    /// Whatever the serializer returns.
    pub fn serialize<S: Serializer>(
        value: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(value.iter().map(|(k, v)| (k, Wrapped(*v))))
    }

    /// Deserializes a map whose values are numbers or `"nan"`, `"inf"`, `"-inf"`.
    ///
    /// # Errors
    /// A value of any other form.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let raw = BTreeMap::<String, Wrapped>::deserialize(deserializer)?;
        Ok(raw.into_iter().map(|(k, Wrapped(v))| (k, v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct S(#[serde(with = "super")] f64);

    #[test]
    fn reads_non_finite_values_from_deserializers_that_own_their_strings() {
        // `from_reader` and `from_value` cannot lend a `&str`; nor can a `"\u0069nf"` escape.
        for json in ["\"inf\"", "\"-inf\"", "\"nan\"", "\"\\u0069nf\"", "2.5"] {
            let want = serde_json::from_str::<S>(json).unwrap().0;
            let from_reader: S = serde_json::from_reader(json.as_bytes()).unwrap();
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let from_value: S = serde_json::from_value(value).unwrap();
            for got in [from_reader.0, from_value.0] {
                assert!(got == want || (got.is_nan() && want.is_nan()), "{json}");
            }
        }
    }

    #[test]
    fn round_trips_non_finite() {
        for (v, json) in [
            (f64::INFINITY, "\"inf\""),
            (f64::NEG_INFINITY, "\"-inf\""),
            (1.5, "1.5"),
        ] {
            assert_eq!(serde_json::to_string(&S(v)).unwrap(), json);
            assert_eq!(serde_json::from_str::<S>(json).unwrap().0, v);
        }
        assert_eq!(serde_json::to_string(&S(f64::NAN)).unwrap(), "\"nan\"");
        assert!(serde_json::from_str::<S>("\"nan\"").unwrap().0.is_nan());
        assert!(serde_json::from_str::<S>("\"big\"").is_err());
        assert!(serde_json::from_str::<S>("null").is_err());
    }
}
