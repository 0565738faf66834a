//! Predicate types of attestations: the `--type` shortcuts of `attest`, `attest-blob`,
//! `verify-attestation`, `verify-blob-attestation` and `download attestation`, and the predicate
//! each shortcut builds from a file.
//!
//! | shortcut | predicateType | predicate built from the file |
//! |---|---|---|
//! | `custom` (default) | `https://cosign.sigstore.dev/attestation/v1` | `{"Data": "<file as text>", "Timestamp": "<RFC 3339>"}` |
//! | `slsaprovenance`, `slsaprovenance02` | `https://slsa.dev/provenance/v0.2` | JSON object with `builder` and `buildType` |
//! | `slsaprovenance1` | `https://slsa.dev/provenance/v1` | JSON object with `buildDefinition` and `runDetails` |
//! | `link` | `https://in-toto.io/Link/v1` | in-toto link JSON object |
//! | `spdx` | `https://spdx.dev/Document` | the file as a JSON string (tag-value SPDX) |
//! | `spdxjson` | `https://spdx.dev/Document` | any JSON value |
//! | `cyclonedx` | `https://cyclonedx.org/bom` | any JSON value |
//! | `vuln` | `https://cosign.sigstore.dev/attestation/vuln/v1` | cosign's vulnerability scan predicate |
//! | `openvex` | `https://openvex.dev/ns` | JSON object |
//! | any absolute URI | that URI | JSON object |
//!
//! Predicates are written as Go's `encoding/json` writes the value cosign decodes them into:
//! object keys sorted, numbers as Go `float64`s, `<`, `>`, `&` escaped. (cosign decodes the SLSA
//! and link shortcuts into Go structs, which also drops unknown fields and adds zero values; this
//! implementation keeps the document as given, after the same required-field checks.)

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::TypesError;
use crate::go_json::to_go_json;

/// `custom`: cosign's own predicate type.
pub const CUSTOM_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/v1";
/// `vuln`: cosign's vulnerability scan predicate type.
pub const VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// `slsaprovenance`, `slsaprovenance02`.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// `slsaprovenance1`.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// `link`.
pub const LINK_PREDICATE_TYPE: &str = "https://in-toto.io/Link/v1";
/// `spdx`, `spdxjson`.
pub const SPDX_PREDICATE_TYPE: &str = "https://spdx.dev/Document";
/// `cyclonedx`.
pub const CYCLONEDX_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";
/// `openvex`.
pub const OPENVEX_PREDICATE_TYPE: &str = "https://openvex.dev/ns";

/// Every shortcut `--type` accepts, with its predicate type URI.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("custom", CUSTOM_PREDICATE_TYPE),
    ("slsaprovenance", SLSA_PROVENANCE_V02),
    ("slsaprovenance02", SLSA_PROVENANCE_V02),
    ("slsaprovenance1", SLSA_PROVENANCE_V1),
    ("link", LINK_PREDICATE_TYPE),
    ("spdx", SPDX_PREDICATE_TYPE),
    ("spdxjson", SPDX_PREDICATE_TYPE),
    ("cyclonedx", CYCLONEDX_PREDICATE_TYPE),
    ("vuln", VULN_PREDICATE_TYPE),
    ("openvex", OPENVEX_PREDICATE_TYPE),
];

/// How a predicate file is turned into a predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredicateKind {
    /// `{"Data": .., "Timestamp": ..}`.
    Custom,
    /// SLSA provenance v0.2.
    SlsaProvenance02,
    /// SLSA provenance v1.
    SlsaProvenance1,
    /// in-toto link.
    Link,
    /// Tag-value SPDX: the file as a string.
    Spdx,
    /// SPDX JSON.
    SpdxJson,
    /// CycloneDX JSON.
    CycloneDx,
    /// cosign's vulnerability scan.
    Vuln,
    /// OpenVEX.
    OpenVex,
    /// Any other URI: a JSON object.
    Uri,
}

/// A parsed `--type`: the shortcut (or URI) as given and the predicate type URI it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredicateType {
    given: String,
    uri: String,
    kind: PredicateKind,
}

impl PredicateType {
    /// Parses a shortcut (`custom`, `slsaprovenance` ...) or an absolute URI; anything else is
    /// refused with cosign's "invalid predicate type: X".
    pub fn parse(text: &str) -> Result<Self, TypesError> {
        let kind = match text {
            "custom" => PredicateKind::Custom,
            "slsaprovenance" | "slsaprovenance02" => PredicateKind::SlsaProvenance02,
            "slsaprovenance1" => PredicateKind::SlsaProvenance1,
            "link" => PredicateKind::Link,
            "spdx" => PredicateKind::Spdx,
            "spdxjson" => PredicateKind::SpdxJson,
            "cyclonedx" => PredicateKind::CycloneDx,
            "vuln" => PredicateKind::Vuln,
            "openvex" => PredicateKind::OpenVex,
            // cosign treats its own type's URI like the `custom` shortcut.
            CUSTOM_PREDICATE_TYPE => PredicateKind::Custom,
            _ if is_absolute_uri(text) => PredicateKind::Uri,
            _ => return Err(TypesError::InvalidPredicateType(text.to_owned())),
        };
        let uri = SHORTCUTS
            .iter()
            .find(|(name, _)| *name == text)
            .map_or(text, |(_, uri)| uri);
        Ok(Self {
            given: text.to_owned(),
            uri: uri.to_owned(),
            kind,
        })
    }

    /// The shortcut or URI as given.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// The predicate type URI statements carry.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// How predicates of this type are built and checked.
    pub fn kind(&self) -> PredicateKind {
        self.kind
    }

    /// Builds the predicate (its JSON, as cosign writes it) from the bytes of a predicate file.
    /// `timestamp` (RFC 3339) is recorded by the `custom` type.
    pub fn build_predicate(&self, raw: &[u8], timestamp: &str) -> Result<Vec<u8>, TypesError> {
        let value = match self.kind {
            PredicateKind::Custom => {
                return to_go_json(&CustomPredicate {
                    data: String::from_utf8_lossy(raw).into_owned(),
                    timestamp: timestamp.to_owned(),
                });
            }
            PredicateKind::Spdx => Value::String(String::from_utf8_lossy(raw).into_owned()),
            PredicateKind::SpdxJson | PredicateKind::CycloneDx => self.parse_json(raw)?,
            PredicateKind::Uri | PredicateKind::OpenVex => self.parse_object(raw)?,
            PredicateKind::SlsaProvenance02 => {
                let v = self.parse_object(raw)?;
                check_slsa02(&v)
                    .map_err(|e| predicate_err(format!("provenance predicate: {e}")))?;
                v
            }
            PredicateKind::SlsaProvenance1 => {
                let mut v = self.parse_object(raw)?;
                check_slsa1(&v).map_err(|e| predicate_err(format!("provenance predicate: {e}")))?;
                rename_invocation_id(&mut v);
                v
            }
            PredicateKind::Link => {
                let v = self.parse_object(raw)?;
                check_link(&v).map_err(|e| predicate_err(format!("link statement: {e}")))?;
                v
            }
            PredicateKind::Vuln => {
                let v = self.parse_json(raw)?;
                return to_go_json(&VulnPredicate::from_value(&v).map_err(|e| {
                    predicate_err(format!(
                        "invalid JSON payload for predicate type {}: {e}",
                        self.given
                    ))
                })?);
            }
        };
        to_go_json(&go_numbers(value))
    }

    /// Checks a verified statement's predicate against this type (fail closed,
    /// GHSA-w6c6-c85g-mmv6): the shapes `build_predicate` produces must be there.
    pub fn check_predicate(&self, predicate: &Value) -> Result<(), TypesError> {
        let bad = |reason: String| {
            TypesError::Statement(format!(
                "the predicate is not a valid {} predicate: {reason}",
                self.given
            ))
        };
        if predicate.is_null() {
            return Err(bad("the statement has no predicate".into()));
        }
        match self.kind {
            PredicateKind::Custom => {
                let obj = predicate
                    .as_object()
                    .ok_or_else(|| bad("expected a JSON object".into()))?;
                if obj.get("Timestamp").is_some_and(|t| !t.is_string()) {
                    return Err(bad("Timestamp is not a string".into()));
                }
                Ok(())
            }
            PredicateKind::Spdx | PredicateKind::SpdxJson | PredicateKind::CycloneDx => Ok(()),
            PredicateKind::Uri | PredicateKind::OpenVex => predicate
                .as_object()
                .map(|_| ())
                .ok_or_else(|| bad("expected a JSON object".into())),
            PredicateKind::SlsaProvenance02 => slsa02_types(predicate).map_err(bad),
            PredicateKind::SlsaProvenance1 => slsa1_types(predicate).map_err(bad),
            PredicateKind::Link => link_types(predicate).map_err(bad),
            PredicateKind::Vuln => VulnPredicate::from_value(predicate)
                .map(|_| ())
                .map_err(bad),
        }
    }

    fn parse_json(&self, raw: &[u8]) -> Result<Value, TypesError> {
        serde_json::from_slice(raw).map_err(|e| {
            predicate_err(format!(
                "invalid JSON payload for predicate type {}: {e}",
                self.given
            ))
        })
    }

    fn parse_object(&self, raw: &[u8]) -> Result<Value, TypesError> {
        let v = self.parse_json(raw)?;
        if !v.is_object() {
            return Err(predicate_err(format!(
                "invalid JSON payload for predicate type {}: expected a JSON object, found {}",
                self.given,
                json_kind(&v)
            )));
        }
        Ok(v)
    }
}

impl std::fmt::Display for PredicateType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.uri)
    }
}

fn predicate_err(reason: String) -> TypesError {
    TypesError::Predicate(reason)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An absolute URI: `scheme:rest` with an RFC 3986 scheme and no whitespace or control
/// characters.
pub fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
}

/// Numbers as Go's `interface{}` decoding holds them (`float64`), so they print as Go prints.
fn go_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(go_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, go_numbers(v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

/// `{"Data": .., "Timestamp": ..}` (Go field names, capitalised).
#[derive(Serialize)]
struct CustomPredicate {
    #[serde(rename = "Data")]
    data: String,
    #[serde(rename = "Timestamp")]
    timestamp: String,
}

fn require(v: &Value, fields: &[&str]) -> Result<(), String> {
    for f in fields {
        if v.get(f).is_none() {
            return Err(format!("required field {f} missing"));
        }
    }
    Ok(())
}

fn expect(v: &Value, field: &str, ok: fn(&Value) -> bool, what: &str) -> Result<(), String> {
    match v.get(field) {
        Some(x) if !x.is_null() && !ok(x) => Err(format!("{field} must be {what}")),
        _ => Ok(()),
    }
}

fn check_slsa02(v: &Value) -> Result<(), String> {
    require(v, &["builder", "buildType"])?;
    slsa02_types(v)
}

fn slsa02_types(v: &Value) -> Result<(), String> {
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    expect(v, "builder", Value::is_object, "an object")?;
    expect(v, "buildType", Value::is_string, "a string")?;
    expect(v, "invocation", Value::is_object, "an object")?;
    expect(v, "metadata", Value::is_object, "an object")?;
    expect(v, "materials", Value::is_array, "an array")?;
    if let Some(b) = v.get("builder") {
        expect(b, "id", Value::is_string, "a string").map_err(|e| format!("builder.{e}"))?;
    }
    Ok(())
}

fn check_slsa1(v: &Value) -> Result<(), String> {
    require(v, &["buildDefinition", "runDetails"])?;
    slsa1_types(v)
}

fn slsa1_types(v: &Value) -> Result<(), String> {
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    expect(v, "buildDefinition", Value::is_object, "an object")?;
    expect(v, "runDetails", Value::is_object, "an object")
}

/// SLSA v1's `runDetails.metadata.invocationId`: cosign's Go struct reads the key
/// case-insensitively and writes `invocationId`.
fn rename_invocation_id(v: &mut Value) {
    let Some(meta) = v
        .get_mut("runDetails")
        .and_then(|r| r.get_mut("metadata"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let key = meta
        .keys()
        .find(|k| k.eq_ignore_ascii_case("invocationId") && k.as_str() != "invocationId")
        .cloned();
    if let Some(key) = key
        && let Some(value) = meta.remove(&key)
    {
        meta.insert("invocationId".to_owned(), value);
    }
}

const LINK_FIELDS: &[&str] = &[
    "_type",
    "name",
    "materials",
    "products",
    "byproducts",
    "command",
    "environment",
];

fn check_link(v: &Value) -> Result<(), String> {
    require(v, LINK_FIELDS)?;
    link_types(v)
}

fn link_types(v: &Value) -> Result<(), String> {
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    expect(v, "_type", Value::is_string, "a string")?;
    expect(v, "name", Value::is_string, "a string")?;
    expect(v, "materials", Value::is_object, "an object")?;
    expect(v, "products", Value::is_object, "an object")?;
    expect(v, "byproducts", Value::is_object, "an object")?;
    expect(v, "command", Value::is_array, "an array")?;
    expect(v, "environment", Value::is_object, "an object")
}

/// cosign's `CosignVulnPredicate`, in Go field order; every field is always written.
#[derive(Serialize, Deserialize, Default)]
struct VulnPredicate {
    #[serde(default, deserialize_with = "null_default")]
    invocation: VulnInvocation,
    #[serde(default, deserialize_with = "null_default")]
    scanner: VulnScanner,
    #[serde(default, deserialize_with = "null_default")]
    metadata: VulnMetadata,
}

#[derive(Serialize, Deserialize, Default)]
struct VulnInvocation {
    #[serde(default)]
    parameters: Value,
    #[serde(default, deserialize_with = "null_default")]
    uri: String,
    #[serde(default, deserialize_with = "null_default")]
    event_id: String,
    #[serde(rename = "builder.id", default, deserialize_with = "null_default")]
    builder_id: String,
}

#[derive(Serialize, Deserialize, Default)]
struct VulnScanner {
    #[serde(default, deserialize_with = "null_default")]
    uri: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(default, deserialize_with = "null_default")]
    db: VulnDb,
    #[serde(default)]
    result: Value,
}

#[derive(Serialize, Deserialize, Default)]
struct VulnDb {
    #[serde(default, deserialize_with = "null_default")]
    uri: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
}

/// Go's zero `time.Time`, as `encoding/json` writes it.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Serialize, Deserialize)]
struct VulnMetadata {
    #[serde(
        rename = "scanStartedOn",
        default = "zero_time",
        deserialize_with = "null_time"
    )]
    scan_started_on: String,
    #[serde(
        rename = "scanFinishedOn",
        default = "zero_time",
        deserialize_with = "null_time"
    )]
    scan_finished_on: String,
}

impl Default for VulnMetadata {
    fn default() -> Self {
        Self {
            scan_started_on: zero_time(),
            scan_finished_on: zero_time(),
        }
    }
}

fn zero_time() -> String {
    GO_ZERO_TIME.to_owned()
}

fn null_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(zero_time))
}

/// Go's `json.Unmarshal` leaves the zero value for `null`.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl VulnPredicate {
    fn from_value(v: &Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err(format!("expected a JSON object, found {}", json_kind(v)));
        }
        for section in ["invocation", "scanner", "metadata"] {
            if let Some(x) = v.get(section)
                && !x.is_null()
                && !x.is_object()
            {
                return Err(format!("{section} must be an object"));
            }
        }
        let p: VulnPredicate =
            serde_json::from_value(go_numbers(v.clone())).map_err(|e| e.to_string())?;
        for (name, t) in [
            ("metadata.scanStartedOn", &p.metadata.scan_started_on),
            ("metadata.scanFinishedOn", &p.metadata.scan_finished_on),
        ] {
            if crate::time::parse_rfc3339(t).is_none() {
                return Err(format!("{name}: {t:?} is not an RFC 3339 time"));
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(t: &str, raw: &str) -> Result<String, TypesError> {
        PredicateType::parse(t)?
            .build_predicate(raw.as_bytes(), "2024-01-02T03:04:05Z")
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn shortcuts_and_uris() {
        for (name, uri) in SHORTCUTS {
            let p = PredicateType::parse(name).unwrap();
            assert_eq!(p.uri(), *uri);
            assert_eq!(p.given(), *name);
        }
        let p = PredicateType::parse("https://example.com/my/type/v1").unwrap();
        assert_eq!(p.kind(), PredicateKind::Uri);
        assert_eq!(p.uri(), "https://example.com/my/type/v1");
        assert_eq!(
            PredicateType::parse(CUSTOM_PREDICATE_TYPE).unwrap().kind(),
            PredicateKind::Custom
        );
        for bad in [
            "",
            "nope",
            "slsa",
            "/relative",
            "http:",
            "ht tp://x",
            "https://a b",
            "1x:y",
        ] {
            let e = PredicateType::parse(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("invalid predicate type: {bad}"));
        }
    }

    #[test]
    fn custom_predicate_shape() {
        assert_eq!(
            built("custom", "hello <world> & \"x\"\n").unwrap(),
            r#"{"Data":"hello \u003cworld\u003e \u0026 \"x\"\n","Timestamp":"2024-01-02T03:04:05Z"}"#
        );
    }

    #[test]
    fn json_predicates_are_go_normalised() {
        assert_eq!(
            built(
                "https://example.com/t",
                r#"{"b": 1.0, "a": [1e3, 12345678901234567890], "c": "<"}"#
            )
            .unwrap(),
            r#"{"a":[1000,12345678901234567000],"b":1,"c":"\u003c"}"#
        );
        assert_eq!(
            built("spdx", "SPDXVersion: SPDX-2.2\n").unwrap(),
            r#""SPDXVersion: SPDX-2.2\n""#
        );
        assert_eq!(built("spdxjson", "[1]").unwrap(), "[1]");
        assert_eq!(
            built("cyclonedx", r#"{"bomFormat":"CycloneDX"}"#).unwrap(),
            r#"{"bomFormat":"CycloneDX"}"#
        );
        assert!(built("openvex", "[]").is_err());
        assert!(
            built("https://example.com/t", "[]")
                .unwrap_err()
                .to_string()
                .contains("expected a JSON object")
        );
        assert!(built("https://example.com/t", "{").is_err());
        assert!(built("spdxjson", "").is_err());
    }

    #[test]
    fn slsa_and_link_required_fields() {
        assert_eq!(
            built("slsaprovenance", r#"{"buildType":"x"}"#)
                .unwrap_err()
                .to_string(),
            "provenance predicate: required field builder missing"
        );
        assert!(built("slsaprovenance", r#"{"builder":"x","buildType":"x"}"#).is_err());
        built(
            "slsaprovenance02",
            r#"{"builder":{"id":"b"},"buildType":"x"}"#,
        )
        .unwrap();
        assert!(built("slsaprovenance1", r#"{"buildDefinition":{}}"#).is_err());
        assert_eq!(
            built(
                "slsaprovenance1",
                r#"{"buildDefinition":{},"runDetails":{"metadata":{"invocationID":"i"}}}"#
            )
            .unwrap(),
            r#"{"buildDefinition":{},"runDetails":{"metadata":{"invocationId":"i"}}}"#
        );
        assert_eq!(
            built("link", r#"{"name":"x"}"#).unwrap_err().to_string(),
            "link statement: required field _type missing"
        );
        built(
            "link",
            r#"{"_type":"link","name":"x","materials":{},"products":{},"byproducts":{},"command":[],"environment":{}}"#,
        )
        .unwrap();
    }

    #[test]
    fn vuln_predicate() {
        assert_eq!(
            built("vuln", r#"{"scanner":{"uri":"u","result":{"x":1}},"metadata":{"scanStartedOn":"2022-01-01T00:00:00Z"}}"#).unwrap(),
            r#"{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"u","version":"","db":{"uri":"","version":""},"result":{"x":1}},"metadata":{"scanStartedOn":"2022-01-01T00:00:00Z","scanFinishedOn":"0001-01-01T00:00:00Z"}}"#
        );
        assert!(built("vuln", r#"{"metadata":{"scanStartedOn":"yesterday"}}"#).is_err());
        assert!(built("vuln", r#"{"scanner":{"uri":7}}"#).is_err());
        assert!(built("vuln", r#"[]"#).is_err());
    }

    #[test]
    fn predicate_checks_fail_closed() {
        let t = |name: &str, v: Value| PredicateType::parse(name).unwrap().check_predicate(&v);
        assert!(t("custom", serde_json::json!({"Data": "x"})).is_ok());
        assert!(t("custom", serde_json::json!("x")).is_err());
        assert!(t("custom", Value::Null).is_err());
        assert!(
            t(
                "vuln",
                serde_json::json!({"metadata": {"scanStartedOn": "nope"}})
            )
            .is_err()
        );
        assert!(t("slsaprovenance", serde_json::json!({"builder": 1})).is_err());
        assert!(t("https://x.example/t", serde_json::json!([])).is_err());
        assert!(t("spdx", serde_json::json!("text")).is_ok());
    }
}
