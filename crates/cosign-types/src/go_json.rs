//! JSON as Go's `encoding/json` writes and reads it.
//!
//! Several cosign formats are whatever `json.Marshal` of a Go struct produces (the
//! simple-signing payload, the legacy bundles, the older DSSE envelope), and some verifiers hash
//! the stored bytes, so our writers must match Go byte for byte: compact output, struct fields
//! in declaration order, and `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c` ... in strings.
//!
//! On the reading side `json.Unmarshal` matches object keys to struct fields
//! case-insensitively and treats `null` as "leave the zero value". The crate-internal
//! `GoObject` reproduces that for the hand-written readers of this crate; where several keys
//! fold to one field (Go would silently take the last one) it refuses instead.

use std::io;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::TypesError;

/// Serialises `value` exactly as Go's `json.Marshal` would for a struct with the same field
/// order: compact, HTML-escaped strings, Go's float formatting.
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, TypesError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value
        .serialize(&mut ser)
        .map_err(|source| TypesError::Json {
            what: "value to write",
            source,
        })?;
    Ok(out)
}

/// A compact `serde_json` formatter with Go's extra string escapes and float format.
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_f64<W>(&mut self, writer: &mut W, value: f64) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        // Go uses the ECMAScript format too, except that it keeps the sign of -0.
        let mut text = String::new();
        if value == 0.0 && value.is_sign_negative() {
            text.push('-');
        }
        crate::canonical_json::write_es6_number(&mut text, value);
        writer.write_all(text.as_bytes())
    }

    fn write_f32<W>(&mut self, writer: &mut W, value: f32) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        self.write_f64(writer, f64::from(value))
    }
}

/// Go's key folding for ASCII field names: `bytes.EqualFold` semantics, where besides ASCII
/// case the Kelvin sign, long s and the dotted/dotless i fold onto ASCII letters.
fn fold_eq(key: &str, field: &str) -> bool {
    let mut key_chars = key.chars().map(|c| match c {
        '\u{17f}' => 'S',
        '\u{212a}' => 'K',
        '\u{130}' | '\u{131}' => 'I',
        c => c.to_ascii_uppercase(),
    });
    let mut field_chars = field.chars().map(|c| c.to_ascii_uppercase());
    loop {
        match (key_chars.next(), field_chars.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// A JSON object read with Go's `json.Unmarshal` field matching.
#[derive(Clone, Copy)]
pub(crate) struct GoObject<'a> {
    what: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> GoObject<'a> {
    /// Reads the top-level document; `null` gives `None` (Go leaves the zero value).
    pub(crate) fn parse_root(
        what: &'static str,
        value: &'a Value,
    ) -> Result<Option<Self>, TypesError> {
        match value {
            Value::Null => Ok(None),
            Value::Object(map) => Ok(Some(Self { what, map })),
            _ => Err(TypesError::WrongType {
                what,
                field: "(document)",
                expected: "a JSON object",
            }),
        }
    }

    /// The value of `field`, matched case-insensitively; `None` when absent or `null`.
    pub(crate) fn get(&self, field: &'static str) -> Result<Option<&'a Value>, TypesError> {
        let mut found = None;
        for (key, value) in self.map {
            if fold_eq(key, field) {
                if found.is_some() {
                    return Err(TypesError::AmbiguousField {
                        what: self.what,
                        field,
                    });
                }
                found = Some(value);
            }
        }
        Ok(found.filter(|v| !v.is_null()))
    }

    fn wrong(&self, field: &'static str, expected: &'static str) -> TypesError {
        TypesError::WrongType {
            what: self.what,
            field,
            expected,
        }
    }

    /// A string field.
    pub(crate) fn string(&self, field: &'static str) -> Result<Option<&'a str>, TypesError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(field, "a string")),
        }
    }

    /// An `int64` field: a JSON integer in range (Go refuses `1.0`, `1e3` and strings).
    pub(crate) fn i64(&self, field: &'static str) -> Result<Option<i64>, TypesError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(field, "an integer that fits in 64 bits")),
            Some(_) => Err(self.wrong(field, "an integer")),
        }
    }

    /// A nested struct field.
    pub(crate) fn object(&self, field: &'static str) -> Result<Option<GoObject<'a>>, TypesError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(GoObject {
                what: self.what,
                map,
            })),
            Some(_) => Err(self.wrong(field, "an object")),
        }
    }

    /// A `map[string]interface{}` field.
    pub(crate) fn map(
        &self,
        field: &'static str,
    ) -> Result<Option<&'a Map<String, Value>>, TypesError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(self.wrong(field, "an object")),
        }
    }
}

/// Parses bytes into a JSON value, labelling errors with the document name.
pub(crate) fn parse_value(what: &'static str, bytes: &[u8]) -> Result<Value, TypesError> {
    serde_json::from_slice(bytes).map_err(|source| TypesError::Json { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_like_go() {
        let v = json!({"k<>&": "a<b>c&d\u{2028}\u{2029}é\n\u{1}\u{7f}\"\\/"});
        assert_eq!(
            String::from_utf8(to_go_json(&v).unwrap()).unwrap(),
            "{\"k\\u003c\\u003e\\u0026\":\"a\\u003cb\\u003ec\\u0026d\\u2028\\u2029é\\n\\u0001\u{7f}\\\"\\\\/\"}"
        );
    }

    #[test]
    fn floats_like_go() {
        let v = json!([1.5, 1e21, 1e-7, 100.0, -0.0, 0.000001]);
        assert_eq!(to_go_json(&v).unwrap(), b"[1.5,1e+21,1e-7,100,-0,0.000001]");
    }

    #[test]
    fn folds_keys_like_go() {
        assert!(fold_eq("Critical", "critical"));
        assert!(fold_eq("DOCKER-reference", "docker-reference"));
        assert!(fold_eq(
            "\u{17f}ignedEntryTimestamp",
            "SignedEntryTimestamp"
        ));
        assert!(fold_eq("\u{212a}ind", "kind"));
        assert!(!fold_eq("critica", "critical"));
        assert!(!fold_eq("criticall", "critical"));
        assert!(!fold_eq("crit\u{e9}cal", "critical"));
    }

    #[test]
    fn object_lookup() {
        let v = json!({"Type": "x", "n": 5, "f": 1.5, "nul": null, "o": {"A": 1}});
        let o = GoObject::parse_root("doc", &v).unwrap().unwrap();
        assert_eq!(o.string("type").unwrap(), Some("x"));
        assert_eq!(o.string("missing").unwrap(), None);
        assert_eq!(o.string("nul").unwrap(), None);
        assert_eq!(o.i64("n").unwrap(), Some(5));
        assert!(matches!(o.i64("f"), Err(TypesError::WrongType { .. })));
        assert!(matches!(o.string("n"), Err(TypesError::WrongType { .. })));
        assert_eq!(o.object("o").unwrap().unwrap().i64("a").unwrap(), Some(1));
        let dup = json!({"type": "a", "TYPE": "b"});
        let o = GoObject::parse_root("doc", &dup).unwrap().unwrap();
        assert!(matches!(
            o.string("type"),
            Err(TypesError::AmbiguousField { .. })
        ));
        assert!(GoObject::parse_root("doc", &json!(null)).unwrap().is_none());
        assert!(GoObject::parse_root("doc", &json!([1])).is_err());
    }
}
