//! Canonical JSON as TUF signs it: the OLPC form written by securesystemslib and
//! go-securesystemslib's `cjson` (not RFC 8785).
//!
//! - object members sorted by key (byte order of the UTF-8 key, which is code point order);
//! - no whitespace;
//! - strings in double quotes with only `"` and `\` escaped, everything else (control
//!   characters, non-ASCII) written raw;
//! - integers only: a number with a fraction or exponent cannot be canonicalized.

use serde_json::Value;

/// Writes `value` in canonical form. Errors on a non-integer number.
pub fn to_canonical_json(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(1024);
    write_value(value, &mut out, 0)?;
    Ok(out)
}

/// Nesting deeper than this is refused (serde_json itself stops at 128 when parsing).
const MAX_DEPTH: usize = 256;

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("JSON nested too deeply".to_owned());
    }
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(format!(
                    "the number {n} is not an integer and has no canonical JSON form"
                ));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map keeps insertion order when its
            // `preserve_order` feature is on somewhere in the build.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s.as_bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        let value: Value = serde_json::from_str(text).unwrap();
        String::from_utf8(to_canonical_json(&value).unwrap()).unwrap()
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canon(r#"{ "b": [1, 2, {"z": null, "a": true}], "a": -3, "B": false }"#),
            r#"{"B":false,"a":-3,"b":[1,2,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn escapes_only_quote_and_backslash() {
        assert_eq!(
            canon(r#"{"k": "a\"b\\c\nd\u0001é\/"}"#),
            "{\"k\":\"a\\\"b\\\\c\nd\u{1}é/\"}"
        );
    }

    #[test]
    fn sorts_by_bytes_not_utf16() {
        // U+FF61 sorts after U+1F600 in UTF-16 code units, before it in UTF-8 bytes.
        assert_eq!(
            canon("{\"\u{1F600}\": 1, \"\u{FF61}\": 2}"),
            "{\"\u{FF61}\":2,\"\u{1F600}\":1}"
        );
    }

    #[test]
    fn refuses_fractions() {
        let value: Value = serde_json::from_str(r#"{"x": 1.5}"#).unwrap();
        assert!(to_canonical_json(&value).unwrap_err().contains("1.5"));
        let value: Value = serde_json::from_str(r#"{"x": 1e3}"#).unwrap();
        assert!(to_canonical_json(&value).is_err());
    }
}
