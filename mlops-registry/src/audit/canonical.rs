//! The canonical JSON writer behind the audit hash: a serde [`Serializer`] that writes any
//! `Serialize` value straight to bytes with no whitespace and the keys of every object sorted by
//! their UTF-8 bytes, whatever order the type's serde implementation emits its fields in.
//!
//! It produces exactly the bytes of "serialize to a `serde_json::Value`, then print it with keys
//! sorted" (the definition in the [audit module docs](super)): scalars, strings and map keys are
//! printed by `serde_json` itself, `f32` is widened to `f64` as `serde_json::to_value` does, a
//! repeated key keeps its last value, and 128-bit integers outside the 64-bit range are refused
//! as `to_value` refuses them. Objects are written in place while their keys arrive in order;
//! only an object whose keys arrive out of order is re-sorted, by moving its already-written
//! entries, so no JSON tree is built and, once warm, nothing is allocated per record.

use std::fmt::{self, Write as _};
use std::ops::Range;

use serde::Serialize;
use serde::ser;

/// An error from the canonical writer (a value `serde_json` could not represent either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CanonicalError(String);

impl fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

impl ser::Error for CanonicalError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

type Res<T = ()> = Result<T, CanonicalError>;

/// One written object entry: its raw key (in `keys`) and its `"key":value` bytes (in `out`).
#[derive(Debug, Clone)]
struct Entry {
    key: Range<usize>,
    bytes: Range<usize>,
}

/// Reusable buffers for canonical JSON. [`Canonical::write`] appends one value to `out`.
#[derive(Debug, Default)]
pub(crate) struct Canonical {
    /// The output.
    pub(crate) out: Vec<u8>,
    /// Raw (unescaped) key bytes of the objects being written, a stack.
    keys: Vec<u8>,
    /// Entries of the objects being written, a stack.
    entries: Vec<Entry>,
    /// Where an out-of-order object is moved while it is re-sorted.
    scratch: Vec<u8>,
    /// Where `collect_str` values are formatted.
    text: String,
}

fn json<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Res {
    serde_json::to_writer(out, v).map_err(|e| CanonicalError(e.to_string()))
}

impl Canonical {
    /// Appends the canonical JSON of `value` to `self.out`.
    pub(crate) fn write<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let result = value.serialize(&mut *self);
        self.entries.clear();
        self.keys.clear();
        result
    }

    fn key_bytes(&self, e: &Entry) -> &[u8] {
        self.keys.get(e.key.clone()).unwrap_or_default()
    }

    /// Writes an object key (`"key":`), remembering its raw bytes. Returns the entry start.
    fn begin_entry(&mut self, obj: &Object, key: &str) -> (Range<usize>, usize) {
        if self.entries.len() > obj.entries_base {
            self.out.push(b',');
        }
        let start = self.out.len();
        let k = self.keys.len();
        self.keys.extend_from_slice(key.as_bytes());
        // A `&str` always serializes.
        let _ = json(&mut self.out, key);
        self.out.push(b':');
        (k..self.keys.len(), start)
    }

    fn end_entry(&mut self, obj: &mut Object, key: Range<usize>, start: usize) {
        let e = Entry {
            key,
            bytes: start..self.out.len(),
        };
        if obj.sorted
            && self.entries.len() > obj.entries_base
            && let Some(prev) = self.entries.last()
            && self.key_bytes(prev) >= self.key_bytes(&e)
        {
            obj.sorted = false;
        }
        self.entries.push(e);
    }

    /// Closes an object: re-sorts its entries by raw key bytes if they arrived out of order
    /// (a repeated key keeps its last value) and writes `}`.
    fn end_object(&mut self, obj: Object) {
        if !obj.sorted {
            let Self {
                out,
                keys,
                entries,
                scratch,
                ..
            } = self;
            let mine = entries.get_mut(obj.entries_base..).unwrap_or_default();
            let key = |e: &Entry| keys.get(e.key.clone()).unwrap_or_default();
            mine.sort_by(|a, b| key(a).cmp(key(b)));
            scratch.clear();
            scratch.extend_from_slice(out.get(obj.start..).unwrap_or_default());
            out.truncate(obj.start);
            out.push(b'{');
            let mut first = true;
            for (i, e) in mine.iter().enumerate() {
                // The stable sort keeps equal keys in arrival order: the last one wins.
                if mine.get(i + 1).is_some_and(|n| key(n) == key(e)) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                let r = (e.bytes.start - obj.start)..(e.bytes.end - obj.start);
                out.extend_from_slice(scratch.get(r).unwrap_or_default());
            }
        }
        self.out.push(b'}');
        self.entries.truncate(obj.entries_base);
        self.keys.truncate(obj.keys_base);
    }

    /// Writes `{"variant":`, the opening of an externally tagged enum variant.
    fn open_variant(&mut self, variant: &str) -> Res {
        self.out.push(b'{');
        json(&mut self.out, variant)?;
        self.out.push(b':');
        Ok(())
    }

    fn begin_object(&mut self) -> Object {
        let start = self.out.len();
        self.out.push(b'{');
        Object {
            start,
            entries_base: self.entries.len(),
            keys_base: self.keys.len(),
            sorted: true,
            pending: None,
        }
    }
}

/// The state of one object being written.
#[derive(Debug)]
struct Object {
    /// The position of its `{` in `out`.
    start: usize,
    entries_base: usize,
    keys_base: usize,
    sorted: bool,
    /// A map key written, waiting for its value.
    pending: Option<(Range<usize>, usize)>,
}

/// A serializer for map keys: strings as they are, and the other keys `serde_json` accepts
/// (integers, booleans, chars, finite floats, unit variants) as their text.
struct KeySerializer<'a>(&'a mut String);

fn key_must_be_a_string() -> CanonicalError {
    CanonicalError("key must be a string".to_owned())
}

macro_rules! key_display {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Res {
            let _ = write!(self.0, "{v}");
            Ok(())
        }
    )*};
}

macro_rules! key_refused {
    ($($f:ident($($t:ty),*)),*) => {$(
        fn $f(self, $(_: $t),*) -> Res {
            Err(key_must_be_a_string())
        }
    )*};
}

impl<'a> ser::Serializer for KeySerializer<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = ser::Impossible<(), CanonicalError>;
    type SerializeTuple = ser::Impossible<(), CanonicalError>;
    type SerializeTupleStruct = ser::Impossible<(), CanonicalError>;
    type SerializeTupleVariant = ser::Impossible<(), CanonicalError>;
    type SerializeMap = ser::Impossible<(), CanonicalError>;
    type SerializeStruct = ser::Impossible<(), CanonicalError>;
    type SerializeStructVariant = ser::Impossible<(), CanonicalError>;

    key_display!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str);
    key_refused!(
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str)
    );

    fn serialize_f32(self, v: f32) -> Res {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Res {
        if !v.is_finite() {
            return Err(CanonicalError("float key must be finite".to_owned()));
        }
        let s = serde_json::to_string(&v).map_err(|e| CanonicalError(e.to_string()))?;
        self.0.push_str(&s);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Res {
        self.0.push_str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Res {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Res<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Res<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Res<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Res<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Res<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Res<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Res<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

/// An array being written.
pub(crate) struct Seq<'a> {
    c: &'a mut Canonical,
    first: bool,
    /// Whether it is the payload of a tuple variant (`{"variant":[…]}`), closing one more `}`.
    variant: bool,
}

/// An object being written.
pub(crate) struct Map<'a> {
    c: &'a mut Canonical,
    obj: Object,
    /// Whether it is the payload of a struct variant (`{"variant":{…}}`), closing one more `}`.
    variant: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Res {
        if !self.first {
            self.c.out.push(b',');
        }
        self.first = false;
        v.serialize(&mut *self.c)
    }
    fn finish(self) -> Res {
        self.c.out.push(b']');
        if self.variant {
            self.c.out.push(b'}');
        }
        Ok(())
    }
}

impl Map<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Res {
        let (k, start) = self.c.begin_entry(&self.obj, key);
        v.serialize(&mut *self.c)?;
        self.c.end_entry(&mut self.obj, k, start);
        Ok(())
    }
    fn finish(self) -> Res {
        let Self { c, obj, variant } = self;
        c.end_object(obj);
        if variant {
            c.out.push(b'}');
        }
        Ok(())
    }
}

macro_rules! seq_impls {
    ($($tr:ident :: $f:ident),*) => {$(
        impl ser::$tr for Seq<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn $f<T: Serialize + ?Sized>(&mut self, v: &T) -> Res {
                self.element(v)
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    )*};
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Res {
        let mut text = std::mem::take(&mut self.c.text);
        text.clear();
        let r = key.serialize(KeySerializer(&mut text));
        let entry = r.map(|()| self.c.begin_entry(&self.obj, &text));
        self.c.text = text;
        self.obj.pending = Some(entry?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Res {
        let (k, start) = self
            .obj
            .pending
            .take()
            .ok_or_else(|| CanonicalError("a map value without a key".to_owned()))?;
        v.serialize(&mut *self.c)?;
        self.c.end_entry(&mut self.obj, k, start);
        Ok(())
    }
    fn end(self) -> Res {
        self.finish()
    }
}

macro_rules! struct_impls {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Map<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Res {
                self.field(key, v)
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    )*};
}

struct_impls!(SerializeStruct, SerializeStructVariant);

macro_rules! scalar {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Res {
            json(&mut self.out, &v)
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Canonical {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    scalar!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f64: f64, serialize_str: &str);

    fn serialize_i128(self, v: i128) -> Res {
        // As `serde_json::to_value`: within the 64-bit range, or refused.
        if let Ok(u) = u64::try_from(v) {
            self.serialize_u64(u)
        } else if let Ok(i) = i64::try_from(v) {
            self.serialize_i64(i)
        } else {
            Err(CanonicalError("number out of range".to_owned()))
        }
    }
    fn serialize_u128(self, v: u128) -> Res {
        match u64::try_from(v) {
            Ok(u) => self.serialize_u64(u),
            Err(_) => Err(CanonicalError("number out of range".to_owned())),
        }
    }
    fn serialize_f32(self, v: f32) -> Res {
        // `serde_json::to_value` widens an f32 to f64.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_char(self, v: char) -> Res {
        let mut b = [0; 4];
        self.serialize_str(v.encode_utf8(&mut b))
    }
    fn serialize_bytes(self, v: &[u8]) -> Res {
        // As `serde_json::to_value`: an array of numbers.
        json(&mut self.out, v)
    }
    fn serialize_none(self) -> Res {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Res {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Res {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Res {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Res {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Res {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Res {
        self.open_variant(variant)?;
        v.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Res<Self::SerializeSeq> {
        self.out.push(b'[');
        Ok(Seq {
            c: self,
            first: true,
            variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Res<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Res<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Res<Self::SerializeTupleVariant> {
        self.open_variant(variant)?;
        self.out.push(b'[');
        Ok(Seq {
            c: self,
            first: true,
            variant: true,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Res<Self::SerializeMap> {
        let obj = self.begin_object();
        Ok(Map {
            c: self,
            obj,
            variant: false,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Res<Self::SerializeStruct> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Res<Self::SerializeStructVariant> {
        self.open_variant(variant)?;
        let obj = self.begin_object();
        Ok(Map {
            c: self,
            obj,
            variant: true,
        })
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Res {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let _ = write!(text, "{v}");
        let r = json(&mut self.out, text.as_str());
        self.text = text;
        r
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    /// The definition: `serde_json::to_value`, printed with keys sorted at every level (which
    /// `serde_json` does itself: without its `preserve_order` feature a map is a `BTreeMap`).
    fn reference<T: Serialize>(v: &T) -> Vec<u8> {
        serde_json::to_vec(&serde_json::to_value(v).unwrap()).unwrap()
    }

    fn canonical<T: Serialize>(v: &T) -> Vec<u8> {
        let mut c = Canonical::default();
        c.write(v).unwrap();
        c.out
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        Zed { z: u8, a: Option<String> },
        Unit,
    }

    #[derive(Serialize)]
    enum External {
        New(f32),
        Tuple(i128, char),
        Struct { y: bool, b: Vec<u8> },
        Plain,
    }

    #[derive(Serialize)]
    struct Unordered {
        zulu: u64,
        alpha: Tagged,
        #[serde(flatten)]
        rest: BTreeMap<String, i64>,
        mike: (External, External, External, External),
        bravo: (),
        keys: BTreeMap<u32, bool>,
    }

    #[test]
    fn typed_values_in_any_field_order_match_the_definition() {
        let v = Unordered {
            zulu: u64::MAX,
            alpha: Tagged::Zed {
                z: 3,
                a: Some("é\"\u{1}\n".into()),
            },
            rest: [("b".to_owned(), -1), ("zz".to_owned(), 2)].into(),
            mike: (
                External::New(0.1),
                External::Tuple(-5, 'ÿ'),
                External::Struct {
                    y: true,
                    b: vec![0, 255],
                },
                External::Plain,
            ),
            bravo: (),
            keys: [(10, true), (9, false)].into(),
        };
        assert_eq!(canonical(&v), reference(&v));
        assert_eq!(canonical(&Tagged::Unit), reference(&Tagged::Unit));
        let s = String::from_utf8(canonical(&v)).unwrap();
        assert!(s.starts_with(r#"{"alpha":{"a":"é\"\u0001\n","kind":"zed","z":3},"b":-1,"#));
    }

    #[test]
    fn keys_sort_by_raw_bytes_not_by_their_escapes_and_repeats_keep_the_last() {
        // Raw 0x01 sorts before raw 0x0A, although the escape `\n` sorts before `\u0001`.
        let v = json!({"a\n": 1, "a\u{1}": 2, "": 0, "é": 3, "e": 4});
        assert_eq!(canonical(&v), reference(&v));
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ser::SerializeMap as _;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("b", &1)?;
                m.serialize_entry("a", &2)?;
                m.serialize_entry("b", &3)?;
                m.end()
            }
        }
        assert_eq!(canonical(&Twice), br#"{"a":2,"b":3}"#);
        assert_eq!(canonical(&Twice), reference(&Twice));
    }

    #[test]
    fn values_serde_json_cannot_hold_are_refused() {
        let mut c = Canonical::default();
        assert!(c.write(&u128::MAX).is_err());
        let bad: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(c.write(&bad).is_err());
        assert_eq!(canonical(&f64::NAN), b"null");
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
            "[\\x00-\\x1f\"\\\\a-c]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[\\x00-\\x1fa-c\"é]{0,3}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_json_matches_the_definition(v in arb_json()) {
            prop_assert_eq!(canonical(&v), reference(&v));
        }
    }
}
