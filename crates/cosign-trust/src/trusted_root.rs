//! The whole Sigstore trusted root (`dev.sigstore.trustedroot.v1.TrustedRoot`, protojson,
//! media type v0.1 or v0.2): certificate authorities, CT logs, transparency logs and timestamp
//! authorities, each with its validity window, and the lookups verification needs.
//!
//! Rules follow sigstore-go's `pkg/root`: a log (transparency or CT) must have a key with a
//! `validFor` that has a `start`; a certificate or timestamp authority's `validFor` is optional
//! and an absent bound is open; every `end` is inclusive.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cosign_crypto::PublicKey;
use cosign_types::time::parse_rfc3339;
use serde_json::{Map, Value};

use crate::TrustError;
use crate::x509::Certificate;

/// Media type of trusted root v0.1.
pub const MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Media type of trusted root v0.2.
pub const MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";

/// Largest trusted root read (bytes).
pub const MAX_TRUSTED_ROOT_LEN: usize = 4 * 1024 * 1024;
/// Most entries in each list of a trusted root.
const MAX_ENTRIES: usize = 128;
/// Most certificates in one authority's chain.
const MAX_CHAIN: usize = 10;

/// A validity window in Unix seconds; an absent bound is open, both bounds are inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidityPeriod {
    /// First second of validity.
    pub start: Option<i64>,
    /// Last second of validity (inclusive).
    pub end: Option<i64>,
}

impl ValidityPeriod {
    /// Whether `time` (Unix seconds) falls within the window.
    pub fn contains(&self, time: i64) -> bool {
        self.start.is_none_or(|s| s <= time) && self.end.is_none_or(|e| time <= e)
    }
}

/// The `subject` of an authority (informational).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthoritySubject {
    /// `organization`.
    pub organization: String,
    /// `commonName`.
    pub common_name: String,
}

/// A certificate authority (Fulcio) or timestamp authority of the trusted root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// Who runs it.
    pub subject: AuthoritySubject,
    /// Its URL.
    pub uri: String,
    /// The chain as listed: the first is the one closest to the leaf, the last is the root.
    pub cert_chain: Vec<Certificate>,
    /// When it may be trusted.
    pub valid_for: ValidityPeriod,
}

impl CertificateAuthority {
    /// The root (last certificate of the chain).
    pub fn root(&self) -> Option<&Certificate> {
        self.cert_chain.last()
    }

    /// The certificates between leaf and root (all but the last).
    pub fn intermediates(&self) -> &[Certificate] {
        let n = self.cert_chain.len();
        self.cert_chain.get(..n.saturating_sub(1)).unwrap_or(&[])
    }

    /// For a timestamp authority: the first certificate of the chain when it is not a CA (the
    /// TSA's own signing certificate), as sigstore-go reads it.
    pub fn tsa_leaf(&self) -> Option<&Certificate> {
        let first = self.cert_chain.first()?;
        (self.cert_chain.len() > 1 && !first.is_ca().unwrap_or(false)).then_some(first)
    }
}

/// A transparency log or CT log of the trusted root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInstance {
    /// Its URL.
    pub base_url: String,
    /// Tree hash algorithm (protobuf enum name; `SHA2_256`).
    pub hash_algorithm: String,
    /// `publicKey.keyDetails` (protobuf enum name, e.g. `PKIX_ECDSA_P256_SHA_256`).
    pub key_details: String,
    /// The log's key.
    pub public_key: PublicKey,
    /// `logId.keyId`.
    pub log_id: Vec<u8>,
    /// When the key may be trusted (start always set).
    pub valid_for: ValidityPeriod,
}

/// A parsed trusted root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedRoot {
    /// The media type (v0.1 or v0.2).
    pub media_type: String,
    /// Transparency logs (Rekor).
    pub tlogs: Vec<LogInstance>,
    /// Certificate authorities (Fulcio).
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs.
    pub ctlogs: Vec<LogInstance>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

fn bad(reason: impl std::fmt::Display) -> TrustError {
    TrustError::BadTrustedRoot {
        reason: reason.to_string(),
    }
}

/// A protojson field by its JSON name or proto name; `null` counts as absent.
fn field<'a>(obj: &'a Map<String, Value>, json: &str, proto: &str) -> Option<&'a Value> {
    obj.get(json)
        .or_else(|| obj.get(proto))
        .filter(|v| !v.is_null())
}

fn text<'a>(
    obj: &'a Map<String, Value>,
    json: &str,
    proto: &str,
) -> Result<Option<&'a str>, TrustError> {
    match field(obj, json, proto) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{json} is not a string"))),
    }
}

fn object<'a>(
    obj: &'a Map<String, Value>,
    json: &str,
    proto: &str,
) -> Result<Option<&'a Map<String, Value>>, TrustError> {
    match field(obj, json, proto) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(bad(format!("{json} is not an object"))),
    }
}

fn list<'a>(
    obj: &'a Map<String, Value>,
    json: &str,
    proto: &str,
) -> Result<&'a [Value], TrustError> {
    match field(obj, json, proto) {
        None => Ok(&[]),
        Some(Value::Array(items)) if items.len() > MAX_ENTRIES => {
            Err(bad(format!("more than {MAX_ENTRIES} entries in {json}")))
        }
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(bad(format!("{json} is not a list"))),
    }
}

/// protojson `bytes`: base64, either alphabet, padded or not.
fn bytes(obj: &Map<String, Value>, json: &str, proto: &str) -> Result<Vec<u8>, TrustError> {
    let Some(s) = text(obj, json, proto)? else {
        return Ok(Vec::new());
    };
    // Go's decoder skips line breaks.
    let url: String = s
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r'))
        .collect::<String>()
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    URL_SAFE_NO_PAD
        .decode(url.as_bytes())
        .map_err(|e| bad(format!("{json} is not base64: {e}")))
}

fn enum_name(v: Option<&Value>, names: &[&str], what: &str) -> Result<String, TrustError> {
    match v {
        None => Ok(names.first().copied().unwrap_or_default().to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|i| names.get(usize::try_from(i).ok()?))
            .map(|s| (*s).to_owned())
            .ok_or_else(|| bad(format!("unknown {what} {n}"))),
        Some(_) => Err(bad(format!("{what} is not a string"))),
    }
}

fn validity(obj: &Map<String, Value>, owner: &str) -> Result<Option<ValidityPeriod>, TrustError> {
    let Some(window) = object(obj, "validFor", "valid_for")? else {
        return Ok(None);
    };
    let time = |name: &str| -> Result<Option<i64>, TrustError> {
        text(window, name, name)?
            .map(|t| {
                parse_rfc3339(t).ok_or_else(|| bad(format!("{owner}: bad validFor.{name} {t:?}")))
            })
            .transpose()
    };
    Ok(Some(ValidityPeriod {
        start: time("start")?,
        end: time("end")?,
    }))
}

fn parse_log(item: &Value, kind: &str) -> Result<LogInstance, TrustError> {
    let obj = item
        .as_object()
        .ok_or_else(|| bad(format!("a {kind} is not an object")))?;
    let base_url = text(obj, "baseUrl", "base_url")?
        .unwrap_or_default()
        .to_owned();
    let owner = format!("{kind} {base_url}");
    let hash_algorithm = enum_name(
        field(obj, "hashAlgorithm", "hash_algorithm"),
        &[
            "HASH_ALGORITHM_UNSPECIFIED",
            "SHA2_256",
            "SHA2_384",
            "SHA2_512",
        ],
        "hashAlgorithm",
    )?;
    if hash_algorithm != "SHA2_256" {
        return Err(bad(format!(
            "{owner}: unsupported hash algorithm {hash_algorithm}"
        )));
    }
    let key = object(obj, "publicKey", "public_key")?
        .ok_or_else(|| bad(format!("{owner}: missing public key")))?;
    let raw = bytes(key, "rawBytes", "raw_bytes")?;
    if raw.is_empty() {
        return Err(bad(format!("{owner}: missing public key raw bytes")));
    }
    let key_details = match field(key, "keyDetails", "key_details") {
        Some(Value::String(s)) => s.clone(),
        None => String::new(),
        Some(other) => other.to_string(),
    };
    // PKCS1_RSA_PKCS1V5 (deprecated) is a bare PKCS#1 RSAPublicKey; every other kind is PKIX.
    let public_key = if key_details == "PKCS1_RSA_PKCS1V5" {
        PublicKey::from_rsa_pkcs1_der(&raw)
    } else {
        PublicKey::from_spki_der(&raw)
    }
    .map_err(|e| bad(format!("{owner}: reading the public key: {e}")))?;
    let valid_for = validity(key, &owner)?
        .ok_or_else(|| bad(format!("{owner}: missing public key validity period")))?;
    if valid_for.start.is_none() {
        return Err(bad(format!(
            "{owner}: missing public key validity period start time"
        )));
    }
    let log_id = object(obj, "logId", "log_id")?
        .map(|id| bytes(id, "keyId", "key_id"))
        .transpose()?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad(format!("{owner}: missing log ID")))?;
    Ok(LogInstance {
        base_url,
        hash_algorithm,
        key_details,
        public_key,
        log_id,
        valid_for,
    })
}

fn parse_authority(item: &Value, kind: &str) -> Result<CertificateAuthority, TrustError> {
    let obj = item
        .as_object()
        .ok_or_else(|| bad(format!("a {kind} is not an object")))?;
    let uri = text(obj, "uri", "uri")?.unwrap_or_default().to_owned();
    let owner = format!("{kind} {uri}");
    let subject = match object(obj, "subject", "subject")? {
        None => AuthoritySubject::default(),
        Some(s) => AuthoritySubject {
            organization: text(s, "organization", "organization")?
                .unwrap_or_default()
                .to_owned(),
            common_name: text(s, "commonName", "common_name")?
                .unwrap_or_default()
                .to_owned(),
        },
    };
    let chain = object(obj, "certChain", "cert_chain")?
        .ok_or_else(|| bad(format!("{owner}: missing cert chain")))?;
    let certs = list(chain, "certificates", "certificates")?;
    if certs.is_empty() {
        return Err(bad(format!("{owner}: cert chain is empty")));
    }
    if certs.len() > MAX_CHAIN {
        return Err(bad(format!("{owner}: more than {MAX_CHAIN} certificates")));
    }
    let cert_chain = certs
        .iter()
        .map(|c| {
            let c = c
                .as_object()
                .ok_or_else(|| bad(format!("{owner}: a certificate is not an object")))?;
            Certificate::from_der(&bytes(c, "rawBytes", "raw_bytes")?)
                .map_err(|e| bad(format!("{owner}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CertificateAuthority {
        subject,
        uri,
        cert_chain,
        valid_for: validity(obj, &owner)?.unwrap_or_default(),
    })
}

impl TrustedRoot {
    /// Parses a trusted root (protojson; JSON or proto field names).
    pub fn from_json(json: &[u8]) -> Result<Self, TrustError> {
        if json.len() > MAX_TRUSTED_ROOT_LEN {
            return Err(bad(format!("more than {MAX_TRUSTED_ROOT_LEN} bytes")));
        }
        let value: Value = serde_json::from_slice(json).map_err(bad)?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let media_type = text(obj, "mediaType", "media_type")?
            .unwrap_or_default()
            .to_owned();
        if media_type != MEDIA_TYPE_V01 && media_type != MEDIA_TYPE_V02 {
            return Err(bad(format!(
                "unsupported TrustedRoot media type: {media_type}"
            )));
        }
        let logs = |name: &str, proto: &str, kind: &str| -> Result<Vec<LogInstance>, TrustError> {
            list(obj, name, proto)?
                .iter()
                .map(|v| parse_log(v, kind))
                .collect()
        };
        let cas = |name: &str, proto: &str, kind: &str| {
            list(obj, name, proto)?
                .iter()
                .map(|v| parse_authority(v, kind))
                .collect::<Result<Vec<_>, TrustError>>()
        };
        Ok(Self {
            tlogs: logs("tlogs", "tlogs", "tlog")?,
            ctlogs: logs("ctlogs", "ctlogs", "ctlog")?,
            certificate_authorities: cas(
                "certificateAuthorities",
                "certificate_authorities",
                "certificate authority",
            )?,
            timestamp_authorities: cas(
                "timestampAuthorities",
                "timestamp_authorities",
                "timestamp authority",
            )?,
            media_type,
        })
    }

    /// The certificate authorities whose validity window contains `time`.
    pub fn certificate_authorities_at(
        &self,
        time: i64,
    ) -> impl Iterator<Item = &CertificateAuthority> {
        self.certificate_authorities
            .iter()
            .filter(move |ca| ca.valid_for.contains(time))
    }

    /// The timestamp authorities whose validity window contains `time`.
    pub fn timestamp_authorities_at(
        &self,
        time: i64,
    ) -> impl Iterator<Item = &CertificateAuthority> {
        self.timestamp_authorities
            .iter()
            .filter(move |ca| ca.valid_for.contains(time))
    }

    /// The CT log with this log ID (any validity).
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&LogInstance> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The transparency log with this log ID (any validity).
    pub fn tlog(&self, log_id: &[u8]) -> Option<&LogInstance> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}
