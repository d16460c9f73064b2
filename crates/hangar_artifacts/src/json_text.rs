//! Compact JSON into a byte buffer, byte for byte what `serde_json::to_vec`
//! writes, for the manifest's nodes.
//!
//! serde_json escapes strings one byte at a time through a table, and a
//! 10,000-model manifest holds five million strings (keys and values, 70 MB):
//! that loop was the largest single item of `hangar parse`'s CPU profile
//! (8.5 %). Here strings are scanned eight bytes at a time for the bytes JSON
//! must escape, and runs without any are copied whole. Numbers and the rest
//! are handed to serde_json, so they are written exactly as it writes them.

use serde::ser::{self, Impossible, Serialize};
use serde_json::Error;

/// Appends `value` as compact JSON to `out`.
pub(crate) fn write_into<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(JsonText { out })
}

/// `value` as compact JSON.
#[cfg(test)]
fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(128);
    write_into(&mut out, value)?;
    Ok(out)
}

/// serde_json's names for a `RawValue`, and for a `Number` when its
/// `arbitrary_precision` feature is on (another crate of the build can turn
/// it on): each is serialized as a struct whose one field is the JSON text
/// to write as it is.
const RAW_TEXT_TOKENS: [&str; 2] = [
    "$serde_json::private::RawValue",
    "$serde_json::private::Number",
];

struct JsonText<'b> {
    out: &'b mut Vec<u8>,
}

/// Writes a value the way serde_json does: numbers, booleans and bytes.
fn as_serde_json<T: Serialize>(out: &mut Vec<u8>, value: T) -> Result<(), Error> {
    serde_json::to_writer(out, &value)
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'b> ser::Serializer for JsonText<'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'b>;
    type SerializeTuple = Compound<'b>;
    type SerializeTupleStruct = Compound<'b>;
    type SerializeTupleVariant = Compound<'b>;
    type SerializeMap = Compound<'b>;
    type SerializeStruct = Compound<'b>;
    type SerializeStructVariant = Compound<'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        as_serde_json(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        as_serde_json(self.out, Bytes(v))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(JsonText {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'b>, Error> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'b>, Error> {
        Ok(Compound::open_variant(self.out, variant, b'[', b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'b>, Error> {
        Ok(Compound::open(self.out, b"{", b"}"))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'b>, Error> {
        if RAW_TEXT_TOKENS.contains(&name) {
            return Ok(Compound {
                out: self.out,
                first: true,
                close: b"",
                raw: true,
            });
        }
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'b>, Error> {
        Ok(Compound::open_variant(self.out, variant, b'{', b"}}"))
    }
}

/// An array or object being written; `raw` for a `RawValue`, whose one
/// field is written as it is.
struct Compound<'b> {
    out: &'b mut Vec<u8>,
    first: bool,
    close: &'static [u8],
    raw: bool,
}

impl<'b> Compound<'b> {
    fn open(out: &'b mut Vec<u8>, open: &[u8], close: &'static [u8]) -> Self {
        out.extend_from_slice(open);
        Compound {
            out,
            first: true,
            close,
            raw: false,
        }
    }

    /// `{"variant":` then the array or object.
    fn open_variant(out: &'b mut Vec<u8>, variant: &str, open: u8, close: &'static [u8]) -> Self {
        out.push(b'{');
        write_str(out, variant);
        out.push(b':');
        out.push(open);
        Compound {
            out,
            first: true,
            close,
            raw: false,
        }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(JsonText {
            out: &mut *self.out,
        })
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        if self.raw {
            return value.serialize(RawText {
                out: &mut *self.out,
            });
        }
        self.separate();
        write_str(self.out, key);
        self.out.push(b':');
        value.serialize(JsonText {
            out: &mut *self.out,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// serde's traits for arrays (and objects with named fields) differ only in
/// name: each element (field) goes through [`Compound::element`]
/// ([`Compound::field`]).
macro_rules! array_impls {
    ($($name:ident::$method:ident),*) => {
        $(
            impl ser::$name for Compound<'_> {
                type Ok = ();
                type Error = Error;
                fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
                    self.element(value)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
                }
            }
        )*
    };
}

macro_rules! object_impls {
    ($($name:ident),*) => {
        $(
            impl ser::$name for Compound<'_> {
                type Ok = ();
                type Error = Error;
                fn serialize_field<T: ?Sized + Serialize>(
                    &mut self,
                    key: &'static str,
                    value: &T,
                ) -> Result<(), Error> {
                    self.field(key, value)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
                }
            }
        )*
    };
}

array_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);
object_impls!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        key.serialize(MapKey {
            out: &mut *self.out,
        })
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.out.push(b':');
        value.serialize(JsonText {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

const NOT_A_KEY: &str = "an object key must be a string, a number or a boolean";
const INFINITE_KEY: &str = "an object key that is a number must be finite";
const NOT_TEXT: &str = "a raw JSON value must be text";

fn unsupported(why: &str) -> Error {
    ser::Error::custom(why)
}

/// Serializer methods that fail with `$why`, for the kinds of value a
/// serializer does not take.
macro_rules! reject {
    ($why:expr; $($method:ident($($arg:ty),*) -> $out:ty;)*) => {
        $(
            fn $method(self, $(_: $arg),*) -> Result<$out, Error> {
                Err(unsupported($why))
            }
        )*
    };
}

/// [`reject!`] for arrays, objects and enum variants with fields.
macro_rules! reject_compounds {
    ($why:expr) => {
        reject! { $why;
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct(&'static str, usize) -> Self::SerializeStruct;
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
        }
    };
}

/// An object key: a string, or a finite number or a boolean written as a
/// string, as serde_json allows.
struct MapKey<'b> {
    out: &'b mut Vec<u8>,
}

impl MapKey<'_> {
    /// serde_json's text of a number or boolean, quoted.
    fn quoted<T: Serialize>(self, value: T) -> Result<(), Error> {
        self.out.push(b'"');
        as_serde_json(self.out, value)?;
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(unsupported(INFINITE_KEY));
        }
        self.quoted(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(unsupported(INFINITE_KEY));
        }
        self.quoted(v)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(unsupported(NOT_A_KEY))
    }
    reject! { NOT_A_KEY;
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
    }
    reject_compounds! { NOT_A_KEY }
}

/// The JSON text inside a `RawValue`, written as it is.
struct RawText<'b> {
    out: &'b mut Vec<u8>,
}

impl ser::Serializer for RawText<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Error> {
        Err(unsupported(NOT_TEXT))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(unsupported(NOT_TEXT))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(unsupported(NOT_TEXT))
    }
    reject! { NOT_TEXT;
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
    }
    reject_compounds! { NOT_TEXT }
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW_BITS) & !word & HIGH_BITS
}

/// The high bit of each byte of `word` that JSON escapes (a control
/// character, `"` or `\`). Exact for the lowest such byte: a byte is only
/// marked wrongly through a borrow from a marked byte below it, and the
/// caller looks at the lowest alone.
fn escape_mask(word: u64) -> u64 {
    let control = word.wrapping_sub(LOW_BITS * 0x20) & !word & HIGH_BITS;
    let quote = zero_bytes(word ^ (LOW_BITS * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (LOW_BITS * u64::from(b'\\')));
    control | quote | backslash
}

/// Position of the first byte of `bytes[from..]` that JSON escapes.
fn next_escape(bytes: &[u8], mut from: usize) -> Option<usize> {
    while let Some(chunk) = bytes.get(from..from + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let mask = escape_mask(word);
        if mask != 0 {
            return Some(from + (mask.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    // Fewer than eight bytes are left: one more word covers them, so most
    // strings (ids, names: a few dozen bytes) need no byte-by-byte loop.
    if from == bytes.len() {
        return None;
    }
    let (word, start) = match bytes.len().checked_sub(8) {
        // The last eight bytes, those before `from` scanned already.
        Some(start) => (u64::from_le_bytes(word_at(bytes, start)), start),
        // A short string, padded with spaces, which are never escaped.
        None => {
            let mut padded = [b' '; 8];
            padded[..bytes.len()].copy_from_slice(bytes);
            (u64::from_le_bytes(padded), 0)
        }
    };
    // Bytes before `from` were scanned, and one of them may be the escape
    // just written, whose borrow would mark the byte after it: they are
    // replaced by spaces, which are never escaped and borrow nothing.
    let unscanned = u64::MAX << (8 * (from - start));
    let spaces = LOW_BITS * u64::from(b' ');
    let word = (word & unscanned) | (spaces & !unscanned);
    let mask = escape_mask(word);
    (mask != 0).then(|| start + (mask.trailing_zeros() / 8) as usize)
}

/// The eight bytes of `bytes` from `start` (which has eight after it).
fn word_at(bytes: &[u8], start: usize) -> [u8; 8] {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[start..start + 8]);
    word
}

/// `text` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(at) = next_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..at]);
        push_escape(out, bytes[at]);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `"key":` for a key the caller knows JSON does not escape (a field name
/// of this crate's own).
pub(crate) fn write_plain_key(out: &mut Vec<u8>, key: &'static str) {
    debug_assert!(next_escape(key.as_bytes(), 0).is_none(), "{key}");
    out.reserve(key.len() + 3);
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn push_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_DIGITS[usize::from(byte >> 4)]);
            out.push(HEX_DIGITS[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.push(b'\\');
    out.push(short);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;
    use serde_json::value::RawValue;

    use super::to_vec;

    /// Asserts that `value` is written exactly as serde_json writes it.
    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let ours = to_vec(value).unwrap();
        let theirs = serde_json::to_vec(value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    /// An escaped byte followed by any byte, at every place of a string's
    /// last word: the byte after an escape must not be marked through the
    /// escape's borrow (a space after a control byte, `#` after `"`).
    #[test]
    fn every_pair_after_an_escape_in_the_last_word() {
        let escapes = (0u8..0x20).chain([b'"', b'\\']);
        for first in escapes {
            for second in 0u8..0x80 {
                for before in 0..12 {
                    for after in 0..3 {
                        let mut text = "x".repeat(before);
                        text.push(char::from(first));
                        text.push(char::from(second));
                        text.push_str(&"y".repeat(after));
                        same_as_serde_json(&text);
                    }
                }
            }
        }
    }

    #[test]
    fn every_ascii_byte_at_every_offset_of_a_word() {
        for byte in 0u8..0x80 {
            for offset in 0..20 {
                let mut text = "x".repeat(offset);
                text.push(char::from(byte));
                text.push_str("tail after it");
                same_as_serde_json(&text);
                same_as_serde_json(&text[..offset + 1]);
            }
        }
    }

    #[test]
    fn non_ascii_text_and_runs_of_escapes() {
        for text in [
            "",
            "é",
            "naïve \u{7f} café",
            "日本語のテキスト\n二行目",
            "\"\"\"\\\\\\",
            "\n\n\n\n\n\n\n\n\n\n",
            "select *\nfrom {{ ref('a') }}\twhere x = '\\' and y = \"q\"\r\n",
            "\u{1}\u{2}\u{1f}\u{8}\u{c} emoji 🧗 end",
        ] {
            same_as_serde_json(text);
        }
    }

    #[test]
    fn random_text_is_written_as_serde_json_writes_it() {
        // A fixed linear congruential generator: the same cases every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet: Vec<char> = "ab\"\\\n\t\r\u{0}\u{1f} é日🧗/'".chars().collect();
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let len = (state >> 58) as usize;
            let text: String = (0..len)
                .map(|i| {
                    let pick = state.rotate_left(i as u32 * 5) as usize;
                    alphabet[pick % alphabet.len()]
                })
                .collect();
            same_as_serde_json(&text);
        }
    }

    #[test]
    fn values_of_every_kind() {
        same_as_serde_json(&json!({
            "null": null,
            "yes": true,
            "no": false,
            "int": -42,
            "big": u64::MAX,
            "float": 1.5,
            "tiny": 1e-300,
            "huge": 1.7976931348623157e308,
            "negative_zero": -0.0,
            "created_at": 1_764_860_000.123_456,
            "list": [1, "two", [3.0], {"four": 4}],
            "empty_list": [],
            "empty_map": {},
            "nested": {"a": {"b": {"c": "deep\n"}}},
        }));
        same_as_serde_json(&f64::NAN);
        same_as_serde_json(&'"');
        same_as_serde_json(&(1u8, -2i64, 3.25f32, "four"));
        same_as_serde_json(&Some(()));
        same_as_serde_json(&None::<u8>);
    }

    #[test]
    fn map_keys_that_are_numbers_or_booleans_are_quoted() {
        let numbers: BTreeMap<i64, &str> = [(-1, "a"), (7, "b")].into_iter().collect();
        same_as_serde_json(&numbers);
        let booleans: BTreeMap<bool, u8> = [(false, 0), (true, 1)].into_iter().collect();
        same_as_serde_json(&booleans);
        let chars: BTreeMap<char, u8> = [('"', 0), ('é', 1)].into_iter().collect();
        same_as_serde_json(&chars);
    }

    #[test]
    fn float_and_optional_keys_are_written_as_serde_json_writes_them() {
        let floats: Vec<(f64, u8)> = vec![(1.5, 0), (-0.25, 1), (1e300, 2)];
        for (key, value) in &floats {
            same_as_serde_json(&std::collections::HashMap::from([(F64Key(*key), value)]));
        }
        // A list of pairs is not a map: written as arrays by both.
        same_as_serde_json(&floats);
        let optional: BTreeMap<Option<&str>, u8> = [(Some("a\n"), 1)].into_iter().collect();
        same_as_serde_json(&optional);
    }

    /// An `f64` map key (f64 is neither `Eq` nor `Hash`).
    #[derive(PartialEq)]
    struct F64Key(f64);

    impl Eq for F64Key {}

    impl std::hash::Hash for F64Key {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.to_bits().hash(state);
        }
    }

    impl Serialize for F64Key {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_f64(self.0)
        }
    }

    #[test]
    fn keys_that_serde_json_refuses_are_refused() {
        let lists: BTreeMap<Vec<u8>, u8> = [(vec![1], 0)].into_iter().collect();
        assert!(to_vec(&lists).is_err());
        assert!(serde_json::to_vec(&lists).is_err());
        let infinite = std::collections::HashMap::from([(F64Key(f64::INFINITY), 0)]);
        assert!(to_vec(&infinite).is_err());
        assert!(serde_json::to_vec(&infinite).is_err());
        let none: BTreeMap<Option<&str>, u8> = [(None, 0)].into_iter().collect();
        assert!(to_vec(&none).is_err());
        assert!(serde_json::to_vec(&none).is_err());
    }

    #[derive(Serialize)]
    #[serde(rename = "$serde_json::private::Number")]
    struct PreciseNumber {
        #[serde(rename = "$serde_json::private::Number")]
        text: &'static str,
    }

    #[test]
    fn numbers_of_arbitrary_precision_are_written_as_their_text() {
        // What serde_json's `Number` serializes as when its
        // `arbitrary_precision` feature is on.
        let number = PreciseNumber {
            text: "3.141592653589793238462643383279",
        };
        assert_eq!(
            to_vec(&number).unwrap(),
            b"3.141592653589793238462643383279"
        );
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { name: &'static str, sides: Vec<u8> },
    }

    #[derive(Serialize)]
    struct Holder<'a> {
        shapes: Vec<Shape>,
        raw: &'a RawValue,
        unit: (),
        bytes: &'a [u8],
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[test]
    fn structs_enums_and_raw_values() {
        let raw = RawValue::from_string(r#"{"kept":  [1, 2] }"#.to_string()).unwrap();
        same_as_serde_json(&Holder {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(3),
                Shape::Tuple(4, "four\n".into()),
                Shape::Struct {
                    name: "square",
                    sides: vec![1, 2, 3, 4],
                },
            ],
            raw: &raw,
            unit: (),
            bytes: b"\x00\xff",
            skipped: None,
        });
        same_as_serde_json(&*raw);
    }
}
