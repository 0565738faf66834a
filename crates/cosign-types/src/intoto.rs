//! in-toto statements: the payload of every attestation.
//!
//! `cosign attest` and `attest-blob` write Statement v0.1 with one subject
//! `{name, digest: {sha256}}`; `cosign sign` (new format) writes Statement v1. Readers here are
//! strict, because a statement that cannot be read is a statement that was not verified
//! (GHSA-w6c6-c85g-mmv6): it must be a JSON object with a `_type`, a non-empty `predicateType`
//! and at least one subject, each with a digest; sigstore-go's limits bound the subjects.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::go_json::to_go_json;
use crate::{Digest, TypesError};

/// `_type` of the statements `cosign attest` writes.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of in-toto v1 statements (`cosign sign` in the new format).
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// sigstore-go's limit on subjects per statement (CVE-2024-45395).
pub const MAX_SUBJECTS: usize = 1024;
/// sigstore-go's limit on digests per subject (CVE-2024-45395).
pub const MAX_DIGESTS_PER_SUBJECT: usize = 32;

/// One subject of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The subject's name (repository, file name), empty when absent.
    pub name: String,
    /// Algorithm name (`sha256`) to lowercase hex digest.
    pub digest: BTreeMap<String, String>,
    /// The subject's annotations (in-toto v1), when present.
    pub annotations: Option<Map<String, Value>>,
}

/// A parsed in-toto statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// `_type`.
    pub type_: String,
    /// `predicateType`.
    pub predicate_type: String,
    /// `subject`.
    pub subjects: Vec<Subject>,
    /// `predicate` (null when absent).
    pub predicate: Value,
    /// The whole document, as policies see it.
    pub document: Value,
}

fn bad(reason: impl Into<String>) -> TypesError {
    TypesError::Statement(reason.into())
}

impl Statement {
    /// Parses and checks a statement (the decoded DSSE payload). Every deviation from the
    /// shape is an error: not JSON, not an object, no `_type`, no or empty `predicateType`, no
    /// subjects, a subject that is not an object or has no digest, non-string digests, too many
    /// subjects or digests.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let document: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("the payload is not JSON: {e}")))?;
        let obj = document
            .as_object()
            .ok_or_else(|| bad("the payload is not a JSON object"))?;
        let type_ = match obj.get("_type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(bad("the statement has no _type"));
            }
            Some(_) => return Err(bad("_type is not a string")),
        };
        let predicate_type = match obj.get("predicateType") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(bad("the statement has no predicateType"));
            }
            Some(_) => return Err(bad("predicateType is not a string")),
        };
        let items = match obj.get("subject") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                return Err(bad("the statement has no subjects"));
            }
            Some(_) => return Err(bad("subject is not an array")),
        };
        if items.len() > MAX_SUBJECTS {
            return Err(TypesError::TooMany {
                what: "statement subjects",
                count: items.len(),
                max: MAX_SUBJECTS,
            });
        }
        let subjects = items
            .iter()
            .enumerate()
            .map(|(i, s)| parse_subject(i, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            type_,
            predicate_type,
            subjects,
            predicate: obj.get("predicate").cloned().unwrap_or(Value::Null),
            document,
        })
    }

    /// The subject whose digest for `digest`'s algorithm is `digest` (cosign's
    /// `IntotoSubjectClaimVerifier`), if any.
    pub fn subject_matching(&self, digest: &Digest) -> Option<&Subject> {
        let alg = digest.algorithm().name();
        let hex = digest.hex();
        self.subjects
            .iter()
            .find(|s| s.digest.get(alg).is_some_and(|h| *h == hex))
    }
}

fn parse_subject(index: usize, value: &Value) -> Result<Subject, TypesError> {
    let obj = value
        .as_object()
        .ok_or_else(|| bad(format!("subject {index} is not an object")))?;
    let name = match obj.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(n)) => n.clone(),
        Some(_) => return Err(bad(format!("subject {index}: name is not a string"))),
    };
    let digests = match obj.get("digest") {
        Some(Value::Object(d)) if !d.is_empty() => d,
        _ => return Err(bad(format!("subject {index} has no digest"))),
    };
    if digests.len() > MAX_DIGESTS_PER_SUBJECT {
        return Err(TypesError::TooMany {
            what: "subject digests",
            count: digests.len(),
            max: MAX_DIGESTS_PER_SUBJECT,
        });
    }
    let mut digest = BTreeMap::new();
    for (alg, v) in digests {
        let hex = v
            .as_str()
            .ok_or_else(|| bad(format!("subject {index}: digest {alg} is not a string")))?;
        digest.insert(alg.clone(), hex.to_owned());
    }
    let annotations = match obj.get("annotations") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some(a.clone()),
        Some(_) => {
            return Err(bad(format!(
                "subject {index}: annotations is not an object"
            )));
        }
    };
    Ok(Subject {
        name,
        digest,
        annotations,
    })
}

/// The Statement v0.1 `cosign attest` signs, as Go's `json.Marshal` writes it:
/// `{"_type":..,"predicateType":..,"subject":[{"name":..,"digest":{"sha256":..}}],"predicate":..}`.
/// `predicate_json` is the predicate's JSON (see [`crate::predicate::PredicateType`]).
pub fn statement_v01(
    subject_name: &str,
    sha256_hex: &str,
    predicate_type: &str,
    predicate_json: &[u8],
) -> Vec<u8> {
    let text = |s: &str| to_go_json(s).unwrap_or_default();
    let mut out = Vec::with_capacity(predicate_json.len() + 256);
    out.extend_from_slice(b"{\"_type\":");
    out.extend(text(STATEMENT_V01));
    out.extend_from_slice(b",\"predicateType\":");
    out.extend(text(predicate_type));
    out.extend_from_slice(b",\"subject\":[{\"name\":");
    out.extend(text(subject_name));
    out.extend_from_slice(b",\"digest\":{\"sha256\":");
    out.extend(text(sha256_hex));
    out.extend_from_slice(b"}}],\"predicate\":");
    out.extend_from_slice(predicate_json);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn writes_cosign_statement() {
        let s = statement_v01("reg/app", HEX, "https://example.com/t", br#"{"a":1}"#);
        assert_eq!(
            String::from_utf8(s.clone()).unwrap(),
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://example.com/t","subject":[{{"name":"reg/app","digest":{{"sha256":"{HEX}"}}}}],"predicate":{{"a":1}}}}"#
            )
        );
        let parsed = Statement::from_json(&s).unwrap();
        assert_eq!(parsed.predicate_type, "https://example.com/t");
        assert_eq!(parsed.subjects[0].name, "reg/app");
        let d: Digest = format!("sha256:{HEX}").parse().unwrap();
        assert!(parsed.subject_matching(&d).is_some());
        let other: Digest = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
        assert!(parsed.subject_matching(&other).is_none());
        let name = statement_v01("a<b", HEX, "t:x", b"null");
        assert!(
            String::from_utf8(name)
                .unwrap()
                .contains(r#""name":"a\u003cb""#)
        );
    }

    #[test]
    fn refuses_malformed_statements() {
        let ok = format!(
            r#"{{"_type":"x","predicateType":"p","subject":[{{"digest":{{"sha256":"{HEX}"}}}}]}}"#
        );
        Statement::from_json(ok.as_bytes()).unwrap();
        for bad in [
            "",
            "not json",
            "[]",
            "null",
            r#"{"predicateType":"p","subject":[{"digest":{"sha256":"a"}}]}"#,
            r#"{"_type":"x","subject":[{"digest":{"sha256":"a"}}]}"#,
            r#"{"_type":"x","predicateType":"","subject":[{"digest":{"sha256":"a"}}]}"#,
            r#"{"_type":"x","predicateType":7,"subject":[{"digest":{"sha256":"a"}}]}"#,
            r#"{"_type":"x","predicateType":"p"}"#,
            r#"{"_type":"x","predicateType":"p","subject":null}"#,
            r#"{"_type":"x","predicateType":"p","subject":[]}"#,
            r#"{"_type":"x","predicateType":"p","subject":[null]}"#,
            r#"{"_type":"x","predicateType":"p","subject":[{"name":"n"}]}"#,
            r#"{"_type":"x","predicateType":"p","subject":[{"digest":{}}]}"#,
            r#"{"_type":"x","predicateType":"p","subject":[{"digest":{"sha256":1}}]}"#,
            r#"{"_type":"x","predicateType":"p","subject":{"digest":{"sha256":"a"}}}"#,
        ] {
            assert!(Statement::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..=MAX_SUBJECTS)
            .map(|_| r#"{"digest":{"sha256":"a"}}"#.to_owned())
            .collect();
        let doc = format!(
            r#"{{"_type":"x","predicateType":"p","subject":[{}]}}"#,
            many.join(",")
        );
        assert!(Statement::from_json(doc.as_bytes()).is_err());
    }
}
