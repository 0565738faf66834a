//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Rekor signs the RFC 8785 form of a log entry (the signed entry timestamp covers
//! `{body, integratedTime, logID, logIndex}`), so verifying a SET means rebuilding those exact
//! bytes: object keys sorted by UTF-16 code units, no whitespace, minimal string escaping, and
//! numbers written the way ECMAScript's `Number.prototype.toString` writes an IEEE double.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use crate::TypesError;

/// Largest integer magnitude an IEEE double holds exactly (2^53).
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Serialises `value` as RFC 8785 canonical JSON.
///
/// Integers of magnitude up to 2^53 are printed exactly. Larger integers are, as RFC 8785 and
/// Rekor's Go canonicaliser do, converted to the nearest double and printed in ECMAScript form
/// (`9223372036854775807` becomes `9223372036854776000`).
pub fn to_canonical_json(value: &Value) -> Result<Vec<u8>, TypesError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out.into_bytes())
}

fn write_value(out: &mut String, value: &Value) -> Result<(), TypesError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

fn write_object(out: &mut String, map: &Map<String, Value>) -> Result<(), TypesError> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push('{');
    for (i, (key, item)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, item)?;
    }
    out.push('}');
    Ok(())
}

fn write_number(out: &mut String, n: &Number) -> Result<(), TypesError> {
    if let Some(u) = n.as_u64() {
        if u <= MAX_EXACT_INTEGER {
            let _ = write!(out, "{u}");
            return Ok(());
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_EXACT_INTEGER {
            let _ = write!(out, "{i}");
            return Ok(());
        }
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            write_es6_number(out, f);
            Ok(())
        }
        _ => Err(TypesError::BadNumber(n.to_string())),
    }
}

/// Writes a finite double the way ECMAScript's `Number.prototype.toString` does
/// (ECMA-262 Number::toString, via `ryu-js`): shortest round-tripping digits (ties to even),
/// plain notation for decimal exponents in [-6, 21), exponent notation (`1e+21`, `1.5e-7`)
/// otherwise; `-0` is `0`.
pub(crate) fn write_es6_number(out: &mut String, value: f64) {
    if value == 0.0 {
        out.push('0');
        return;
    }
    out.push_str(ryu_js::Buffer::new().format(value));
}

/// Writes a JSON string with RFC 8785 escaping: `"` and `\`, the short escapes for
/// backspace, form feed, newline, carriage return and tab, `\u00xx` (lowercase) for the other
/// control characters, and everything else as raw UTF-8.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        let value: Value = serde_json::from_str(text).unwrap();
        String::from_utf8(to_canonical_json(&value).unwrap()).unwrap()
    }

    fn es6(value: f64) -> String {
        let mut out = String::new();
        write_es6_number(&mut out, value);
        out
    }

    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            "{\"literals\":[null,true,false],\
             \"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
             \"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
            \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, expected) in cases {
            assert_eq!(es6(f64::from_bits(bits)), expected, "bits {bits:#x}");
        }
        assert_eq!(es6(1e-7), "1e-7");
        assert_eq!(es6(123.0), "123");
        assert_eq!(es6(0.5), "0.5");
    }

    #[test]
    fn integers_exact_and_large_ones_as_doubles() {
        assert_eq!(
            canon("[0,-1,42,9007199254740992,-9007199254740992]"),
            "[0,-1,42,9007199254740992,-9007199254740992]"
        );
        assert_eq!(canon("[9223372036854775807]"), "[9223372036854776000]");
        assert_eq!(canon("[18446744073709551615]"), "[18446744073709552000]");
        assert_eq!(canon("[-9223372036854775808]"), "[-9223372036854776000]");
        assert_eq!(canon("[1.0, -0.0, 1e2]"), "[1,0,100]");
    }

    #[test]
    fn control_characters_and_unicode() {
        assert_eq!(
            canon(r#"["\u0000\u0001\u0008\u000c\u001f\u007f<>&\u2028\u00e9"]"#),
            "[\"\\u0000\\u0001\\b\\f\\u001f\u{7f}<>&\u{2028}é\"]"
        );
    }

    #[test]
    fn rekor_set_payload_key_order() {
        let value = json!({"logIndex": 2, "logID": "ab", "integratedTime": 1, "body": "..."});
        assert_eq!(
            to_canonical_json(&value).unwrap(),
            br#"{"body":"...","integratedTime":1,"logID":"ab","logIndex":2}"#
        );
    }

    #[test]
    fn nested_and_empty() {
        assert_eq!(
            canon(r#" { "b" : [ { } , [ ] ] , "a" : { "d" : 1 , "c" : "" } } "#),
            r#"{"a":{"c":"","d":1},"b":[{},[]]}"#
        );
    }
}
