//! cosign's legacy bundles: the Rekor bundle and the blob bundle file.
//!
//! Before the Sigstore protobuf bundle, cosign carried a transparency-log proof as a
//! "Rekor bundle" (the signed entry timestamp plus the entry it covers), stored in the
//! `dev.sigstore.cosign/bundle` layer annotation and inside the `sign-blob --bundle` file
//! (`LocalSignedPayload`). Both are Go `encoding/json` documents; they are written byte for
//! byte as Go writes them and read with Go's case-insensitive field matching.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::canonical_json::to_canonical_json;
use crate::go_json::{GoObject, parse_value, to_go_json};
use crate::{TypesError, b64};

/// The `sign-blob --bundle` file of the legacy format (Go `cosign.LocalSignedPayload`).
///
/// Written as `{"base64Signature":"..","cert":"..","rekorBundle":{..}}`, `cert` and
/// `rekorBundle` left out when absent.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct LocalSignedPayload {
    /// Standard base64 of the raw signature.
    #[serde(rename = "base64Signature")]
    pub base64_signature: String,
    /// Base64 of a PEM certificate or PEM public key (base64 of DER in image `sign --bundle`).
    #[serde(rename = "cert", skip_serializing_if = "Option::is_none", default)]
    pub cert: Option<String>,
    /// The Rekor bundle, when the signature was logged.
    #[serde(
        rename = "rekorBundle",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub rekor_bundle: Option<RekorBundle>,
}

/// A signed entry timestamp and the log entry it covers (Go `bundle.RekorBundle`).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RekorBundle {
    /// Standard base64 of the log's signature over [`RekorPayload::canonical_bytes`].
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    /// The log entry.
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

/// The part of a Rekor log entry that the signed entry timestamp covers.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RekorPayload {
    /// The entry body: normally standard base64 of the canonical entry JSON (Go `interface{}`).
    #[serde(rename = "body")]
    pub body: Value,
    /// Unix seconds at which the log integrated the entry.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// Global index of the entry in the log.
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    /// Hex SHA-256 of the log's public key (SPKI DER).
    #[serde(rename = "logID")]
    pub log_id: String,
}

/// The `dev.sigstore.cosign/rfc3161timestamp` annotation (Go `bundle.RFC3161Timestamp`):
/// `{"SignedRFC3161Timestamp":"<base64 DER TimeStampResp>"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rfc3161Timestamp {
    /// DER of the RFC 3161 `TimeStampResp`.
    pub signed_rfc3161_timestamp: Vec<u8>,
}

const LSP: &str = "legacy bundle";
const RB: &str = "Rekor bundle";
const TS: &str = "RFC 3161 timestamp annotation";

impl RekorPayload {
    /// The bytes the signed entry timestamp signs: RFC 8785 JSON of
    /// `{body, integratedTime, logID, logIndex}`.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, TypesError> {
        let mut map = Map::new();
        map.insert("body".to_owned(), self.body.clone());
        map.insert("integratedTime".to_owned(), self.integrated_time.into());
        map.insert("logID".to_owned(), Value::String(self.log_id.clone()));
        map.insert("logIndex".to_owned(), self.log_index.into());
        to_canonical_json(&Value::Object(map))
    }

    /// The decoded entry body (canonical entry JSON).
    pub fn body_bytes(&self) -> Result<Vec<u8>, TypesError> {
        match &self.body {
            Value::String(s) => b64::decode_std(s, "bundle payload body"),
            _ => Err(TypesError::BodyNotString),
        }
    }

    fn from_go(obj: Option<GoObject<'_>>) -> Result<Self, TypesError> {
        let Some(obj) = obj else {
            return Ok(Self {
                body: Value::Null,
                integrated_time: 0,
                log_index: 0,
                log_id: String::new(),
            });
        };
        Ok(Self {
            body: obj.get("body")?.cloned().unwrap_or(Value::Null),
            integrated_time: obj.i64("integratedTime")?.unwrap_or(0),
            log_index: obj.i64("logIndex")?.unwrap_or(0),
            log_id: obj.string("logID")?.unwrap_or_default().to_owned(),
        })
    }
}

impl RekorBundle {
    /// Compact JSON as cosign writes it into the `dev.sigstore.cosign/bundle` annotation.
    pub fn to_json(&self) -> Vec<u8> {
        to_go_json(self).unwrap_or_default()
    }

    /// Parses the annotation JSON the way Go's `json.Unmarshal` does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let value = parse_value(RB, bytes)?;
        Self::from_go(GoObject::parse_root(RB, &value)?)
    }

    /// The decoded signed entry timestamp.
    pub fn signed_entry_timestamp_bytes(&self) -> Result<Vec<u8>, TypesError> {
        b64::decode_std(&self.signed_entry_timestamp, "SignedEntryTimestamp")
    }

    fn from_go(obj: Option<GoObject<'_>>) -> Result<Self, TypesError> {
        let Some(obj) = obj else {
            return Ok(Self {
                signed_entry_timestamp: String::new(),
                payload: RekorPayload::from_go(None)?,
            });
        };
        let set = obj
            .string("SignedEntryTimestamp")?
            .unwrap_or_default()
            .to_owned();
        // Go decodes this `strfmt.Base64` field while parsing: invalid base64 fails the parse.
        b64::decode_std(&set, "SignedEntryTimestamp")?;
        Ok(Self {
            signed_entry_timestamp: set,
            payload: RekorPayload::from_go(obj.object("Payload")?)?,
        })
    }
}

impl LocalSignedPayload {
    /// Compact JSON exactly as Go cosign writes the file (no trailing newline).
    pub fn to_json(&self) -> Vec<u8> {
        to_go_json(self).unwrap_or_default()
    }

    /// Parses the file the way Go's `json.Unmarshal` does (case-insensitive keys, `null` as
    /// absent). An empty `cert` reads as `None`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let value = parse_value(LSP, bytes)?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Self, TypesError> {
        let Some(obj) = GoObject::parse_root(LSP, value)? else {
            return Ok(Self {
                base64_signature: String::new(),
                cert: None,
                rekor_bundle: None,
            });
        };
        let rekor_bundle = obj
            .object("rekorBundle")?
            .map(|o| RekorBundle::from_go(Some(o)))
            .transpose()?;
        Ok(Self {
            base64_signature: obj
                .string("base64Signature")?
                .unwrap_or_default()
                .to_owned(),
            cert: obj
                .string("cert")?
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            rekor_bundle,
        })
    }
}

impl<'de> Deserialize<'de> for LocalSignedPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RekorBundle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        GoObject::parse_root(RB, &value)
            .and_then(Self::from_go)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RekorPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        GoObject::parse_root(RB, &value)
            .and_then(Self::from_go)
            .map_err(serde::de::Error::custom)
    }
}

impl Rfc3161Timestamp {
    /// `{"SignedRFC3161Timestamp":"<base64>"}` as cosign writes it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = b"{\"SignedRFC3161Timestamp\":\"".to_vec();
        out.extend_from_slice(b64::encode(&self.signed_rfc3161_timestamp).as_bytes());
        out.extend_from_slice(b"\"}");
        out
    }

    /// Parses the annotation the way Go's `json.Unmarshal` does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let value = parse_value(TS, bytes)?;
        let text = match GoObject::parse_root(TS, &value)? {
            Some(obj) => obj.string("SignedRFC3161Timestamp")?.unwrap_or_default(),
            None => "",
        };
        Ok(Self {
            signed_rfc3161_timestamp: b64::decode_std(text, "SignedRFC3161Timestamp")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LocalSignedPayload {
        LocalSignedPayload {
            base64_signature: "MEUCIQ==".to_owned(),
            cert: Some("LS0tLS1CRUdJTg==".to_owned()),
            rekor_bundle: Some(RekorBundle {
                signed_entry_timestamp: "MEQCIA==".to_owned(),
                payload: RekorPayload {
                    body: Value::String("eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==".to_owned()),
                    integrated_time: 1_700_000_000,
                    log_index: 12345,
                    log_id: "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
                        .to_owned(),
                },
            }),
        }
    }

    const SAMPLE_JSON: &str = concat!(
        r#"{"base64Signature":"MEUCIQ==","cert":"LS0tLS1CRUdJTg==","rekorBundle":"#,
        r#"{"SignedEntryTimestamp":"MEQCIA==","Payload":{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==","#,
        r#""integratedTime":1700000000,"logIndex":12345,"#,
        r#""logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}}"#
    );

    #[test]
    fn writes_go_bytes() {
        assert_eq!(String::from_utf8(sample().to_json()).unwrap(), SAMPLE_JSON);
        let bare = LocalSignedPayload {
            base64_signature: "c2ln".to_owned(),
            cert: None,
            rekor_bundle: None,
        };
        assert_eq!(bare.to_json(), br#"{"base64Signature":"c2ln"}"#);
    }

    #[test]
    fn round_trips() {
        assert_eq!(
            LocalSignedPayload::from_json(SAMPLE_JSON.as_bytes()).unwrap(),
            sample()
        );
        let via_serde: LocalSignedPayload = serde_json::from_str(SAMPLE_JSON).unwrap();
        assert_eq!(via_serde, sample());
        let bundle = sample().rekor_bundle.unwrap();
        assert_eq!(RekorBundle::from_json(&bundle.to_json()).unwrap(), bundle);
    }

    #[test]
    fn reads_like_go() {
        let text = r#"{"Base64Signature":"c2ln","cert":"","REKORBUNDLE":{"signedEntryTimestamp":"","payload":{"Body":"eA==","IntegratedTime":3,"logid":"ab"}},"extra":1}"#;
        let p = LocalSignedPayload::from_json(text.as_bytes()).unwrap();
        assert_eq!(p.base64_signature, "c2ln");
        assert_eq!(p.cert, None);
        let b = p.rekor_bundle.unwrap();
        assert_eq!(b.payload.integrated_time, 3);
        assert_eq!(b.payload.log_index, 0);
        assert_eq!(b.payload.log_id, "ab");
        assert_eq!(b.payload.body_bytes().unwrap(), b"x");
        let p = LocalSignedPayload::from_json(br#"{"base64Signature":"c2ln","rekorBundle":null}"#)
            .unwrap();
        assert_eq!(p.rekor_bundle, None);
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            &b""[..],
            b"[]",
            b"{\"base64Signature\":1}",
            b"{\"rekorBundle\":\"x\"}",
            b"{\"rekorBundle\":{\"SignedEntryTimestamp\":\"!!\"}}",
            b"{\"rekorBundle\":{\"Payload\":{\"integratedTime\":\"1\"}}}",
            b"{\"rekorBundle\":{\"Payload\":{\"logIndex\":1.5}}}",
            b"{\"rekorBundle\":{\"Payload\":{\"logIndex\":99999999999999999999}}}",
            b"{\"cert\":\"a\",\"Cert\":\"b\"}",
        ] {
            assert!(
                LocalSignedPayload::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn canonical_set_payload() {
        let payload = sample().rekor_bundle.unwrap().payload;
        assert_eq!(
            String::from_utf8(payload.canonical_bytes().unwrap()).unwrap(),
            concat!(
                r#"{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==","integratedTime":1700000000,"#,
                r#""logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d","#,
                r#""logIndex":12345}"#
            )
        );
        assert_eq!(payload.body_bytes().unwrap(), br#"{"apiVersion":"0.0.1"}"#);
    }

    #[test]
    fn body_must_be_a_string() {
        let mut payload = sample().rekor_bundle.unwrap().payload;
        payload.body = serde_json::json!({"a": 1});
        let err = payload.body_bytes().unwrap_err();
        assert_eq!(err.to_string(), "bundle payload body is not a string");
        payload.body = Value::String("%%%".to_owned());
        assert!(matches!(
            payload.body_bytes(),
            Err(TypesError::Base64 { .. })
        ));
    }

    #[test]
    fn rfc3161_annotation() {
        let ts = Rfc3161Timestamp {
            signed_rfc3161_timestamp: vec![0x30, 0x03, 0x02, 0x01, 0x00],
        };
        assert_eq!(ts.to_json(), br#"{"SignedRFC3161Timestamp":"MAMCAQA="}"#);
        assert_eq!(Rfc3161Timestamp::from_json(&ts.to_json()).unwrap(), ts);
        assert!(Rfc3161Timestamp::from_json(br#"{"SignedRFC3161Timestamp":5}"#).is_err());
    }
}
