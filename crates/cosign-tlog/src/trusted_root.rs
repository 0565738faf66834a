//! The Sigstore trusted root (`dev.sigstore.trustedroot.v1.TrustedRoot`, protojson): the
//! transparency logs are parsed into keys with their validity windows; certificate
//! authorities, CT logs and timestamp authorities are kept as raw JSON for other crates.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cosign_crypto::{KeyType, PublicKey};
use serde_json::{Map, Value, json};

use crate::TlogError;
use crate::time::{format_rfc3339, parse_rfc3339};

/// The media type of trusted root v0.1.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Most transparency logs read from one trusted root.
const MAX_TLOGS: usize = 64;

const WHAT: &str = "trusted root";

/// One transparency log of the trusted root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransparencyLogInstance {
    /// The log's URL.
    pub base_url: String,
    /// The tree hash algorithm (protobuf enum name, `SHA2_256`).
    pub hash_algorithm: String,
    /// The log's key.
    pub public_key: PublicKey,
    /// The log ID (`logId.keyId`; SHA-256 of the key's SPKI for Rekor v1).
    pub log_id: [u8; 32],
    /// Start of the key's validity (Unix seconds), if bounded.
    pub valid_from: Option<i64>,
    /// End of the key's validity (Unix seconds), if bounded.
    pub valid_until: Option<i64>,
}

/// A trusted root: its logs parsed, the rest kept as JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrustedRoot {
    /// The media type as read (any is accepted; written as [`TRUSTED_ROOT_MEDIA_TYPE`] when
    /// empty).
    pub media_type: String,
    /// The transparency logs (Rekor).
    pub tlogs: Vec<TransparencyLogInstance>,
    /// `certificateAuthorities` as read (`Value::Null` when absent).
    pub certificate_authorities: Value,
    /// `ctlogs` as read (`Value::Null` when absent).
    pub ctlogs: Value,
    /// `timestampAuthorities` as read (`Value::Null` when absent).
    pub timestamp_authorities: Value,
}

fn bad(reason: impl std::fmt::Display) -> TlogError {
    TlogError::malformed(WHAT, reason)
}

/// A protojson field by its JSON name or its proto name.
fn field<'a>(obj: &'a Map<String, Value>, json_name: &str, proto_name: &str) -> Option<&'a Value> {
    obj.get(json_name)
        .or_else(|| obj.get(proto_name))
        .filter(|v| !v.is_null())
}

fn text<'a>(
    obj: &'a Map<String, Value>,
    json_name: &str,
    proto_name: &str,
) -> Result<Option<&'a str>, TlogError> {
    match field(obj, json_name, proto_name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{json_name} is not a string"))),
    }
}

fn bytes(
    obj: &Map<String, Value>,
    json_name: &str,
    proto_name: &str,
) -> Result<Vec<u8>, TlogError> {
    let Some(s) = text(obj, json_name, proto_name)? else {
        return Ok(Vec::new());
    };
    // protojson accepts either alphabet, padded or not.
    let trimmed = s.trim_end_matches('=');
    let url = trimmed.replace('+', "-").replace('/', "_");
    URL_SAFE_NO_PAD
        .decode(url.as_bytes())
        .map_err(|e| bad(format!("{json_name} is not base64: {e}")))
}

fn object<'a>(
    obj: &'a Map<String, Value>,
    json_name: &str,
    proto_name: &str,
) -> Result<Option<&'a Map<String, Value>>, TlogError> {
    match field(obj, json_name, proto_name) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(bad(format!("{json_name} is not an object"))),
    }
}

fn hash_algorithm_name(v: Option<&Value>) -> Result<String, TlogError> {
    Ok(match v {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => "HASH_ALGORITHM_UNSPECIFIED".to_owned(),
            Some(1) => "SHA2_256".to_owned(),
            Some(2) => "SHA2_384".to_owned(),
            Some(3) => "SHA2_512".to_owned(),
            _ => return Err(bad(format!("unknown hashAlgorithm {n}"))),
        },
        Some(_) => return Err(bad("hashAlgorithm is not a string")),
    })
}

fn parse_tlog(item: &Value) -> Result<TransparencyLogInstance, TlogError> {
    let obj = item
        .as_object()
        .ok_or_else(|| bad("a tlog is not an object"))?;
    let base_url = text(obj, "baseUrl", "base_url")?
        .unwrap_or_default()
        .to_owned();
    let hash_algorithm = hash_algorithm_name(field(obj, "hashAlgorithm", "hash_algorithm"))?;
    let key_obj = object(obj, "publicKey", "public_key")?
        .ok_or_else(|| bad(format!("tlog {base_url}: missing publicKey")))?;
    let raw = bytes(key_obj, "rawBytes", "raw_bytes")?;
    if raw.is_empty() {
        return Err(bad(format!("tlog {base_url}: publicKey has no rawBytes")));
    }
    let public_key = PublicKey::from_spki_der(&raw).map_err(|source| TlogError::Crypto {
        what: "reading a transparency log key of the trusted root",
        source,
    })?;
    let (mut valid_from, mut valid_until) = (None, None);
    if let Some(window) = object(key_obj, "validFor", "valid_for")? {
        if let Some(start) = text(window, "start", "start")? {
            valid_from =
                Some(parse_rfc3339(start).ok_or_else(|| {
                    bad(format!("tlog {base_url}: bad validFor.start {start:?}"))
                })?);
        }
        if let Some(end) = text(window, "end", "end")? {
            valid_until = Some(
                parse_rfc3339(end)
                    .ok_or_else(|| bad(format!("tlog {base_url}: bad validFor.end {end:?}")))?,
            );
        }
    }
    let log_id = match object(obj, "logId", "log_id")? {
        Some(id) => bytes(id, "keyId", "key_id")?,
        None => Vec::new(),
    };
    let log_id: [u8; 32] = if log_id.is_empty() {
        public_key.hint()
    } else {
        log_id
            .try_into()
            .map_err(|_| bad(format!("tlog {base_url}: logId.keyId is not 32 bytes")))?
    };
    Ok(TransparencyLogInstance {
        base_url,
        hash_algorithm,
        public_key,
        log_id,
        valid_from,
        valid_until,
    })
}

/// protojson's `keyDetails` name for a key.
fn key_details(key: &PublicKey) -> &'static str {
    match key.key_type() {
        KeyType::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyType::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        KeyType::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
        KeyType::Ed25519 => "PKIX_ED25519",
        KeyType::Rsa { bits: 3072 } => "PKIX_RSA_PKCS1V15_3072_SHA256",
        KeyType::Rsa { bits: 4096 } => "PKIX_RSA_PKCS1V15_4096_SHA256",
        KeyType::Rsa { .. } => "PKIX_RSA_PKCS1V15_2048_SHA256",
    }
}

impl TrustedRoot {
    /// Parses a trusted root (protojson; JSON or proto field names).
    pub fn from_json(bytes: &[u8]) -> Result<Self, TlogError> {
        let value: Value = serde_json::from_slice(bytes).map_err(bad)?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let tlogs = match field(obj, "tlogs", "tlogs") {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > MAX_TLOGS {
                    return Err(bad(format!("more than {MAX_TLOGS} tlogs")));
                }
                items.iter().map(parse_tlog).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(bad("tlogs is not an array")),
        };
        let raw = |json_name: &str, proto_name: &str| {
            field(obj, json_name, proto_name)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let media_type = text(obj, "mediaType", "media_type")?
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            media_type,
            tlogs,
            certificate_authorities: raw("certificateAuthorities", "certificate_authorities"),
            ctlogs: raw("ctlogs", "ctlogs"),
            timestamp_authorities: raw("timestampAuthorities", "timestamp_authorities"),
        })
    }

    /// protojson with JSON field names, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        let tlogs: Vec<Value> = self
            .tlogs
            .iter()
            .map(|t| {
                let mut key = Map::new();
                key.insert(
                    "rawBytes".to_owned(),
                    Value::String(STANDARD.encode(t.public_key.to_spki_der())),
                );
                key.insert(
                    "keyDetails".to_owned(),
                    Value::String(key_details(&t.public_key).to_owned()),
                );
                if t.valid_from.is_some() || t.valid_until.is_some() {
                    let mut window = Map::new();
                    if let Some(s) = t.valid_from {
                        window.insert("start".to_owned(), Value::String(format_rfc3339(s)));
                    }
                    if let Some(e) = t.valid_until {
                        window.insert("end".to_owned(), Value::String(format_rfc3339(e)));
                    }
                    key.insert("validFor".to_owned(), Value::Object(window));
                }
                json!({
                    "baseUrl": t.base_url,
                    "hashAlgorithm": t.hash_algorithm,
                    "publicKey": key,
                    "logId": {"keyId": STANDARD.encode(t.log_id)},
                })
            })
            .collect();
        let mut out = Map::new();
        let media_type = if self.media_type.is_empty() {
            TRUSTED_ROOT_MEDIA_TYPE
        } else {
            &self.media_type
        };
        out.insert("mediaType".to_owned(), Value::String(media_type.to_owned()));
        out.insert("tlogs".to_owned(), Value::Array(tlogs));
        for (name, value) in [
            ("certificateAuthorities", &self.certificate_authorities),
            ("ctlogs", &self.ctlogs),
            ("timestampAuthorities", &self.timestamp_authorities),
        ] {
            if !value.is_null() {
                out.insert(name.to_owned(), value.clone());
            }
        }
        let mut bytes = serde_json::to_vec_pretty(&Value::Object(out)).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}
