//! The simple-signing payload: what a legacy cosign image signature signs.
//!
//! A legacy signature covers the exact bytes of this small JSON document naming the image
//! digest (and, unchecked, the repository) plus optional user annotations. The writer
//! reproduces Go's `json.Marshal` output byte for byte (so re-signing deduplicates); the reader
//! follows Go's `json.Unmarshal`, which matches keys case-insensitively, so payloads written by
//! old tools with capitalised keys still verify.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::go_json::{GoObject, parse_value, to_go_json};
use crate::{Digest, TypesError};

/// The `critical.type` of every cosign simple-signing payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

#[derive(Serialize)]
struct Payload<'a> {
    critical: Critical<'a>,
    optional: Option<&'a BTreeMap<String, String>>,
}

#[derive(Serialize)]
struct Critical<'a> {
    identity: Identity<'a>,
    image: Image,
    #[serde(rename = "type")]
    type_: &'a str,
}

#[derive(Serialize)]
struct Identity<'a> {
    #[serde(rename = "docker-reference")]
    docker_reference: &'a str,
}

#[derive(Serialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The payload cosign signs for an image, byte-identical to Go cosign's:
/// `{"critical":{"identity":{"docker-reference":"<ref>"},"image":{"docker-manifest-digest":"<digest>"},"type":"cosign container image signature"},"optional":<annotations or null>}`.
///
/// `optional` is `null` when there are no annotations; map keys come out sorted and strings
/// get Go's HTML escaping.
pub fn simple_signing_payload(
    docker_reference: &str,
    digest: &Digest,
    optional: Option<&BTreeMap<String, String>>,
) -> Vec<u8> {
    let payload = Payload {
        critical: Critical {
            identity: Identity { docker_reference },
            image: Image {
                docker_manifest_digest: digest.to_string(),
            },
            type_: SIMPLE_SIGNING_TYPE,
        },
        optional: optional.filter(|m| !m.is_empty()),
    };
    to_go_json(&payload).unwrap_or_default()
}

/// A parsed simple-signing payload.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference` (not checked by verification).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`, as written.
    pub docker_manifest_digest: String,
    /// `critical.type`.
    pub type_: String,
    /// `optional`: the annotations, with whatever JSON values the signer put there.
    pub optional: Option<BTreeMap<String, Value>>,
}

const WHAT: &str = "simple-signing payload";

impl SimpleSigning {
    /// Parses a payload as Go's `json.Unmarshal` does: keys match case-insensitively, absent
    /// or `null` fields stay empty, unknown fields are ignored, wrongly typed fields are errors.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let value = parse_value(WHAT, bytes)?;
        let Some(root) = GoObject::parse_root(WHAT, &value)? else {
            return Ok(Self::default());
        };
        let mut out = Self::default();
        if let Some(critical) = root.object("critical")? {
            if let Some(identity) = critical.object("identity")? {
                out.docker_reference = identity
                    .string("docker-reference")?
                    .unwrap_or_default()
                    .to_owned();
            }
            if let Some(image) = critical.object("image")? {
                out.docker_manifest_digest = image
                    .string("docker-manifest-digest")?
                    .unwrap_or_default()
                    .to_owned();
            }
            out.type_ = critical.string("type")?.unwrap_or_default().to_owned();
        }
        out.optional = root
            .map("optional")?
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        Ok(out)
    }

    /// cosign's claim check: the payload is of cosign's type, names exactly `digest`, and
    /// carries every wanted annotation with an equal string value.
    pub fn claims_match(
        &self,
        digest: &Digest,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), TypesError> {
        if self.type_ != SIMPLE_SIGNING_TYPE {
            return Err(TypesError::UnknownPayloadType(self.type_.clone()));
        }
        if self.docker_manifest_digest != digest.to_string() {
            return Err(TypesError::DigestClaimMismatch(
                self.docker_manifest_digest.clone(),
            ));
        }
        for (key, wanted) in annotations {
            let found = self
                .optional
                .as_ref()
                .and_then(|m| m.get(key))
                .and_then(Value::as_str);
            if found != Some(wanted.as_str()) {
                return Err(TypesError::AnnotationMismatch { key: key.clone() });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "97fc222cee7991b5b061d4d4afdb5f3428fcb0c9054e1690313786befa1e4e36";

    fn digest() -> Digest {
        format!("sha256:{HEX}").parse().unwrap()
    }

    #[test]
    fn writes_go_bytes_without_annotations() {
        let expected = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"index.docker.io/library/ubuntu"}},"image":{{"docker-manifest-digest":"sha256:{HEX}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let got = simple_signing_payload("index.docker.io/library/ubuntu", &digest(), None);
        assert_eq!(String::from_utf8(got).unwrap(), expected);
        let empty = BTreeMap::new();
        let got = simple_signing_payload("index.docker.io/library/ubuntu", &digest(), Some(&empty));
        assert_eq!(String::from_utf8(got).unwrap(), expected);
    }

    #[test]
    fn writes_go_bytes_with_annotations() {
        let mut ann = BTreeMap::new();
        ann.insert("z".to_owned(), "last".to_owned());
        ann.insert("a&b".to_owned(), "<x>\u{2028}".to_owned());
        let got = simple_signing_payload("r.io/a/b", &digest(), Some(&ann));
        let expected = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r.io/a/b"}},"image":{{"docker-manifest-digest":"sha256:{HEX}"}},"type":"cosign container image signature"}},"optional":{{"a\u0026b":"\u003cx\u003e\u2028","z":"last"}}}}"#
        );
        assert_eq!(String::from_utf8(got).unwrap(), expected);
        let parsed =
            SimpleSigning::from_json(&simple_signing_payload("r.io/a/b", &digest(), Some(&ann)))
                .unwrap();
        assert_eq!(
            parsed.optional.unwrap()["a&b"],
            Value::String("<x>\u{2028}".to_owned())
        );
    }

    #[test]
    fn parses_and_checks_claims() {
        let mut ann = BTreeMap::new();
        ann.insert("env".to_owned(), "prod".to_owned());
        let bytes = simple_signing_payload("r.io/a/b", &digest(), Some(&ann));
        let p = SimpleSigning::from_json(&bytes).unwrap();
        assert_eq!(p.docker_reference, "r.io/a/b");
        assert_eq!(p.docker_manifest_digest, format!("sha256:{HEX}"));
        assert_eq!(p.type_, SIMPLE_SIGNING_TYPE);
        p.claims_match(&digest(), &BTreeMap::new()).unwrap();
        p.claims_match(&digest(), &ann).unwrap();

        let mut other = ann.clone();
        other.insert("env".to_owned(), "dev".to_owned());
        assert!(matches!(
            p.claims_match(&digest(), &other),
            Err(TypesError::AnnotationMismatch { .. })
        ));
        let mut missing = BTreeMap::new();
        missing.insert("team".to_owned(), "x".to_owned());
        assert!(matches!(
            p.claims_match(&digest(), &missing),
            Err(TypesError::AnnotationMismatch { .. })
        ));
        let wrong: Digest = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
        let err = p.claims_match(&wrong, &BTreeMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid or missing digest in claim: sha256:{HEX}")
        );
    }

    #[test]
    fn parses_capitalised_old_payloads() {
        let text = format!(
            r#"{{"Critical":{{"Identity":{{"docker-reference":"r.io/x"}},"Image":{{"Docker-manifest-digest":"sha256:{HEX}"}},"Type":"cosign container image signature"}},"Optional":{{"n":1,"s":"v"}}}}"#
        );
        let p = SimpleSigning::from_json(text.as_bytes()).unwrap();
        assert_eq!(p.docker_reference, "r.io/x");
        p.claims_match(&digest(), &BTreeMap::new()).unwrap();
        let mut want_num = BTreeMap::new();
        want_num.insert("n".to_owned(), "1".to_owned());
        assert!(p.claims_match(&digest(), &want_num).is_err());
        let mut want_s = BTreeMap::new();
        want_s.insert("s".to_owned(), "v".to_owned());
        p.claims_match(&digest(), &want_s).unwrap();
    }

    #[test]
    fn wrong_type_or_missing_fields_fail_claims() {
        let text = format!(
            r#"{{"critical":{{"image":{{"docker-manifest-digest":"sha256:{HEX}"}},"type":"other"}}}}"#
        );
        let p = SimpleSigning::from_json(text.as_bytes()).unwrap();
        assert!(matches!(
            p.claims_match(&digest(), &BTreeMap::new()),
            Err(TypesError::UnknownPayloadType(_))
        ));
        let p = SimpleSigning::from_json(b"null").unwrap();
        assert!(p.claims_match(&digest(), &BTreeMap::new()).is_err());
        let p = SimpleSigning::from_json(b"{}").unwrap();
        assert!(p.claims_match(&digest(), &BTreeMap::new()).is_err());
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            &b""[..],
            b"[]",
            b"\"x\"",
            b"{\"critical\":[]}",
            b"{\"critical\":{\"type\":1}}",
            b"{\"critical\":{\"image\":{\"docker-manifest-digest\":{}}}}",
            b"{\"optional\":\"x\"}",
            b"{\"critical\":{},\"CRITICAL\":{}}",
            b"{\"critical\":{\"type\":\"a\"}",
        ] {
            assert!(
                SimpleSigning::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
