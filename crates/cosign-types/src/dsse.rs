//! DSSE envelopes and their pre-authentication encoding (PAE).
//!
//! cosign signs attestations (and, in the new format, image signatures) as DSSE envelopes: the
//! signature covers PAE(payloadType, payload), never the JSON. Envelopes live on the wire in
//! two spellings that differ in key order and in whether an empty `keyid` is written; Rekor's
//! dsse/intoto entries hash the stored bytes, so both writers here are byte-exact.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::go_json::{GoObject, parse_value, to_go_json};
use crate::{TypesError, b64, protojson};

/// The payload type of in-toto statements, the only one cosign's verifiers accept.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// PAE: `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    );
    let mut out = Vec::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope with its payload and signatures decoded.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Envelope {
    /// Media type of the payload (normally [`IN_TOTO_PAYLOAD_TYPE`]).
    pub payload_type: String,
    /// The payload bytes (base64 on the wire).
    pub payload: Vec<u8>,
    /// The signatures over `pae(payload_type, payload)`.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of a DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EnvelopeSignature {
    /// Key hint; cosign leaves it empty.
    pub keyid: String,
    /// The raw signature (base64 on the wire).
    pub sig: Vec<u8>,
}

/// The older cosign spelling (Go `dsse.Envelope` through `encoding/json`).
#[derive(Serialize)]
struct GoEnvelope<'a> {
    #[serde(rename = "payloadType")]
    payload_type: &'a str,
    payload: String,
    signatures: Vec<GoSignature<'a>>,
}

#[derive(Serialize)]
struct GoSignature<'a> {
    keyid: &'a str,
    sig: String,
}

/// The protojson spelling (`io.intoto.Envelope`), as inside Sigstore bundles.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct ProtoEnvelope {
    #[serde(
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    payload: Vec<u8>,
    #[serde(
        rename = "payloadType",
        alias = "payload_type",
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    payload_type: String,
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    signatures: Vec<ProtoSignature>,
}

#[derive(Serialize, Deserialize, Default)]
struct ProtoSignature {
    #[serde(
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    sig: Vec<u8>,
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    keyid: String,
}

impl From<&Envelope> for ProtoEnvelope {
    fn from(env: &Envelope) -> Self {
        Self {
            payload: env.payload.clone(),
            payload_type: env.payload_type.clone(),
            signatures: env
                .signatures
                .iter()
                .map(|s| ProtoSignature {
                    sig: s.sig.clone(),
                    keyid: s.keyid.clone(),
                })
                .collect(),
        }
    }
}

impl From<ProtoEnvelope> for Envelope {
    fn from(env: ProtoEnvelope) -> Self {
        Self {
            payload_type: env.payload_type,
            payload: env.payload,
            signatures: env
                .signatures
                .into_iter()
                .map(|s| EnvelopeSignature {
                    keyid: s.keyid,
                    sig: s.sig,
                })
                .collect(),
        }
    }
}

const WHAT: &str = "DSSE envelope";

impl Envelope {
    /// The bytes the signatures cover.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The older cosign form, Go `encoding/json` of `dsse.Envelope`:
    /// `{"payloadType":..,"payload":..,"signatures":[{"keyid":"","sig":".."}]}`.
    pub fn to_json(&self) -> Vec<u8> {
        let go = GoEnvelope {
            payload_type: &self.payload_type,
            payload: b64::encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| GoSignature {
                    keyid: &s.keyid,
                    sig: b64::encode(&s.sig),
                })
                .collect(),
        };
        to_go_json(&go).unwrap_or_default()
    }

    /// The current cosign form, protojson of the envelope:
    /// `{"payload":..,"payloadType":..,"signatures":[{"sig":..}]}`; like protojson it leaves
    /// out empty fields (an empty `keyid` in particular).
    pub fn to_json_compact_new(&self) -> Vec<u8> {
        serde_json::to_vec(&ProtoEnvelope::from(self)).unwrap_or_default()
    }

    /// Parses either form (or any other key order). Keys match case-insensitively as with
    /// Go's `json.Unmarshal`; payload and signatures may use either base64 alphabet.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let value = parse_value(WHAT, bytes)?;
        let Some(obj) = GoObject::parse_root(WHAT, &value)? else {
            return Err(TypesError::WrongType {
                what: WHAT,
                field: "(document)",
                expected: "a JSON object",
            });
        };
        let payload =
            b64::decode_lenient(obj.string("payload")?.unwrap_or_default(), "DSSE payload")?;
        let payload_type = obj.string("payloadType")?.unwrap_or_default().to_owned();
        let signatures = match obj.get("signatures")? {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(parse_signature)
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(TypesError::WrongType {
                    what: WHAT,
                    field: "signatures",
                    expected: "an array",
                });
            }
        };
        Ok(Self {
            payload_type,
            payload,
            signatures,
        })
    }
}

fn parse_signature(value: &Value) -> Result<EnvelopeSignature, TypesError> {
    let Some(obj) = GoObject::parse_root(WHAT, value)? else {
        return Ok(EnvelopeSignature::default());
    };
    Ok(EnvelopeSignature {
        keyid: obj.string("keyid")?.unwrap_or_default().to_owned(),
        sig: b64::decode_lenient(obj.string("sig")?.unwrap_or_default(), "DSSE signature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: b"{\"a\":1}".to_vec(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: vec![0x30, 0x45, 0xff],
            }],
        }
    }

    #[test]
    fn pae_matches_spec() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        assert_eq!(
            sample().pae(),
            b"DSSEv1 28 application/vnd.in-toto+json 7 {\"a\":1}"
        );
    }

    #[test]
    fn old_form_bytes() {
        assert_eq!(
            String::from_utf8(sample().to_json()).unwrap(),
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJhIjoxfQ==","signatures":[{"keyid":"","sig":"MEX/"}]}"#
        );
    }

    #[test]
    fn new_form_bytes() {
        assert_eq!(
            String::from_utf8(sample().to_json_compact_new()).unwrap(),
            r#"{"payload":"eyJhIjoxfQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEX/"}]}"#
        );
        let mut keyed = sample();
        keyed.signatures[0].keyid = "k1".to_owned();
        assert_eq!(
            String::from_utf8(keyed.to_json_compact_new()).unwrap(),
            r#"{"payload":"eyJhIjoxfQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEX/","keyid":"k1"}]}"#
        );
    }

    #[test]
    fn parses_both_forms() {
        let env = sample();
        assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
        assert_eq!(
            Envelope::from_json(&env.to_json_compact_new()).unwrap(),
            env
        );
        let url_safe = br#"{"PayloadType":"application/vnd.in-toto+json","payload":"eyJhIjoxfQ","signatures":[{"sig":"MEX_"}]}"#;
        assert_eq!(Envelope::from_json(url_safe).unwrap(), env);
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            &b"null"[..],
            b"[]",
            b"{\"payload\":\"***\"}",
            b"{\"payload\":1}",
            b"{\"signatures\":{}}",
            b"{\"signatures\":[{\"sig\":7}]}",
            b"{\"signatures\":[1]}",
            b"{\"payload\":\"\",\"Payload\":\"\"}",
            b"{",
        ] {
            assert!(
                Envelope::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
