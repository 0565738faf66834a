//! Output exactly as the Go rekor-cli writes it: Go `encoding/json` (HTML-safe escaping,
//! struct fields in declaration order, map keys sorted), compact (`--format json`) or indented
//! with two spaces (the `Body:` of `get`), and RFC 3339 times.

use std::fmt::Write as _;

use serde_json::Value;

/// A value in Go field order: objects keep the order given here.
#[derive(Clone, Debug)]
pub enum GoValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<GoValue>),
    /// A struct (fields in this order).
    Struct(Vec<(&'static str, GoValue)>),
    /// Arbitrary JSON (a map: keys sorted, as Go writes maps and generated models).
    Json(Value),
}

/// Go's JSON string escaping (`json.Marshal` with HTML escaping on).
pub fn go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Writer<'a> {
    out: String,
    indent: Option<&'a str>,
}

impl Writer<'_> {
    fn newline(&mut self, level: usize) {
        if let Some(unit) = self.indent {
            self.out.push('\n');
            for _ in 0..level {
                self.out.push_str(unit);
            }
        }
    }

    fn colon(&mut self) {
        self.out.push(':');
        if self.indent.is_some() {
            self.out.push(' ');
        }
    }

    fn seq<T>(
        &mut self,
        open: char,
        close: char,
        items: &[T],
        level: usize,
        mut each: impl FnMut(&mut Self, &T),
    ) {
        self.out.push(open);
        if items.is_empty() {
            self.out.push(close);
            return;
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(level + 1);
            each(self, item);
        }
        self.newline(level);
        self.out.push(close);
    }

    fn go(&mut self, v: &GoValue, level: usize) {
        match v {
            GoValue::Str(s) => go_string(&mut self.out, s),
            GoValue::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            GoValue::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            GoValue::List(items) => {
                self.seq('[', ']', items, level, |w, item| w.go(item, level + 1));
            }
            GoValue::Struct(fields) => {
                self.seq('{', '}', fields, level, |w, (k, val)| {
                    go_string(&mut w.out, k);
                    w.colon();
                    w.go(val, level + 1);
                });
            }
            GoValue::Json(value) => self.json(value, level),
        }
    }

    fn json(&mut self, v: &Value, level: usize) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::String(s) => go_string(&mut self.out, s),
            Value::Array(items) => {
                self.seq('[', ']', items, level, |w, item| w.json(item, level + 1));
            }
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                self.seq('{', '}', &entries, level, |w, (k, val)| {
                    go_string(&mut w.out, k);
                    w.colon();
                    w.json(val, level + 1);
                });
            }
        }
    }
}

/// `json.Marshal`.
pub fn compact(v: &GoValue) -> String {
    let mut w = Writer {
        out: String::new(),
        indent: None,
    };
    w.go(v, 0);
    w.out
}

/// `json.NewEncoder(..).SetIndent("", "  ").Encode(..)` (with its trailing newline).
pub fn indented(v: &GoValue) -> String {
    let mut w = Writer {
        out: String::new(),
        indent: Some("  "),
    };
    w.go(v, 0);
    w.out.push('\n');
    w.out
}

/// Unix seconds as Go's `time.Unix(s, 0).UTC().Format(time.RFC3339)`.
pub fn rfc3339(secs: i64) -> String {
    cosign_types::time::rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_json_forms() {
        let v = GoValue::Struct(vec![
            ("A", GoValue::Str("x<y>&\"\n\u{1}é".to_owned())),
            ("B", GoValue::Json(json!({"z": [], "a": {"c": 1, "b": {}}}))),
            ("C", GoValue::List(vec![])),
            ("D", GoValue::Int(-3)),
        ]);
        assert_eq!(
            compact(&v),
            r#"{"A":"x\u003cy\u003e\u0026\"\n\u0001é","B":{"a":{"b":{},"c":1},"z":[]},"C":[],"D":-3}"#
        );
        assert_eq!(
            indented(&GoValue::Json(json!({"k": {"a": [1, "s"]}, "e": {}}))),
            "{\n  \"e\": {},\n  \"k\": {\n    \"a\": [\n      1,\n      \"s\"\n    ]\n  }\n}\n"
        );
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_689_177_396), "2023-07-12T15:56:36Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
