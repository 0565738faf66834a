//! Rekor entry kinds cosign uses: the proposed entries clients send, the bodies the log stores,
//! the server-side validation that turns the first into the second, and search index keys.
//!
//! | kind | proposed (`spec`) | stored (`spec`, RFC 8785 JSON) |
//! |---|---|---|
//! | hashedrekord 0.0.1 | `data.hash{algorithm,value}`, `signature{content, publicKey.content}` | same, key re-encoded |
//! | dsse 0.0.1 | `proposedContent{envelope: "<JSON string>", verifiers: [b64 PEM]}` | `envelopeHash`, `payloadHash`, `signatures[{signature, verifier}]` |
//! | intoto 0.0.2 | `content{envelope{payload, payloadType, signatures[{keyid, sig, publicKey}]}, hash}` | same without `payload`, plus `payloadHash` |
//!
//! In intoto 0.0.2 `payload` and `sig` are base64 of the envelope's base64 text (encoded twice),
//! as Rekor's Go models write them. Keys are PEM (`PUBLIC KEY`, or `CERTIFICATE` blocks),
//! base64-encoded in the JSON.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use cosign_crypto::SignatureScheme;
use cosign_types::{Digest, HashAlgorithm};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::TlogError;
use crate::pem::{Verifier, parse_verifier};
use crate::schemes::{digest_scheme, message_schemes};

mod v2;
pub use v2::{
    V2_API_VERSION, V2Verifier, V2VerifierKind, default_key_details, dsse_v002, hashedrekord_v002,
};

/// Most signatures (and verifiers) read from one entry.
const MAX_SIGNATURES: usize = 32;

const BODY: &str = "log entry body";

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The proposed `hashedrekord` 0.0.1 entry for a signature over `digest` by the key or
/// certificate in `verifier_pem`.
pub fn hashedrekord(digest: &Digest, signature: &[u8], verifier_pem: &[u8]) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": digest.algorithm().name(), "value": digest.hex()}},
            "signature": {
                "content": b64(signature),
                "publicKey": {"content": b64(verifier_pem)},
            },
        },
    })
}

/// The proposed `dsse` 0.0.1 entry for a DSSE envelope (its JSON exactly as it will be stored
/// and verified) and the keys or certificates that signed it.
pub fn dsse(envelope_json: &[u8], verifiers_pem: &[&[u8]]) -> Value {
    let verifiers: Vec<Value> = verifiers_pem
        .iter()
        .map(|v| Value::String(b64(v)))
        .collect();
    json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": String::from_utf8_lossy(envelope_json),
                "verifiers": verifiers,
            },
        },
    })
}

/// The proposed `intoto` 0.0.2 entry for a DSSE envelope signed by `verifier_pem`, as Rekor's
/// client library builds it (payload and signatures base64-encoded a second time, `hash` the
/// SHA-256 of the envelope bytes). An envelope that is not JSON yields an entry the log refuses.
pub fn intoto(envelope_json: &[u8], verifier_pem: &[u8]) -> Value {
    let env: Value = serde_json::from_slice(envelope_json).unwrap_or(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let key = parse_verifier(verifier_pem)
        .map(|v| v.canonical_pem().into_bytes())
        .unwrap_or_else(|_| verifier_pem.to_vec());
    let signatures: Vec<Value> = env
        .get("signatures")
        .and_then(Value::as_array)
        .map(|sigs| {
            sigs.iter()
                .map(|s| {
                    let mut item = Map::new();
                    let keyid = text(s.get("keyid"));
                    if !keyid.is_empty() {
                        item.insert("keyid".to_owned(), Value::String(keyid));
                    }
                    item.insert("publicKey".to_owned(), Value::String(b64(&key)));
                    item.insert(
                        "sig".to_owned(),
                        Value::String(b64(text(s.get("sig")).as_bytes())),
                    );
                    Value::Object(item)
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payload": b64(text(env.get("payload")).as_bytes()),
                    "payloadType": text(env.get("payloadType")),
                    "signatures": signatures,
                },
                "hash": {"algorithm": "sha256", "value": sha256_hex(envelope_json)},
            },
        },
    })
}

/// A stored entry body, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `hashedrekord` 0.0.1: a signature over a digest.
    HashedRekord {
        /// The signed digest (`data.hash`).
        digest: Digest,
        /// The raw signature.
        signature: Vec<u8>,
        /// PEM of the public key or certificate.
        verifier_pem: Vec<u8>,
    },
    /// `rekord` 0.0.1 (old cosign): a signature over an artifact whose hash is recorded.
    Rekord {
        /// The artifact's hash (`data.hash`).
        digest: Digest,
        /// The raw signature.
        signature: Vec<u8>,
        /// The public key or certificate as recorded (PEM for x509).
        verifier_pem: Vec<u8>,
    },
    /// `dsse` 0.0.1.
    Dsse {
        /// SHA-256 of the envelope JSON as submitted.
        envelope_hash: Digest,
        /// SHA-256 of the decoded payload.
        payload_hash: Digest,
        /// `(raw signature, verifier PEM)` pairs.
        signatures: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// `intoto` 0.0.1 (no signatures recorded: each pair has an empty signature) or 0.0.2.
    Intoto {
        /// SHA-256 of the envelope (`content.hash`).
        envelope_hash: Digest,
        /// SHA-256 of the decoded payload (`content.payloadHash`), when recorded.
        payload_hash: Option<Digest>,
        /// `(raw signature, verifier PEM)` pairs.
        signatures: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Rekor v2 `hashedrekord` 0.0.2: a signature over a digest (for DSSE envelopes, over the
    /// digest of the envelope's PAE).
    HashedRekordV002 {
        /// The signed digest (`data`).
        digest: Digest,
        /// The raw signature.
        signature: Vec<u8>,
        /// The key or certificate.
        verifier: V2Verifier,
    },
    /// Rekor v2 `dsse` 0.0.2 (deprecated by rekor-tiles).
    DsseV002 {
        /// Hash of the decoded payload.
        payload_hash: Digest,
        /// `(raw signature, verifier)` pairs.
        signatures: Vec<(Vec<u8>, V2Verifier)>,
    },
}

fn bad(reason: impl std::fmt::Display) -> TlogError {
    TlogError::malformed(BODY, reason)
}

fn get<'a>(obj: &'a Value, path: &[&str]) -> Result<&'a Value, TlogError> {
    let mut cur = obj;
    for key in path {
        cur = cur
            .get(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| bad(format!("missing {}", path.join("."))))?;
    }
    Ok(cur)
}

fn get_str<'a>(obj: &'a Value, path: &[&str]) -> Result<&'a str, TlogError> {
    get(obj, path)?
        .as_str()
        .ok_or_else(|| bad(format!("{} is not a string", path.join("."))))
}

fn get_b64(obj: &Value, path: &[&str]) -> Result<Vec<u8>, TlogError> {
    let text = get_str(obj, path)?;
    STANDARD
        .decode(text)
        .map_err(|e| bad(format!("{} is not base64: {e}", path.join("."))))
}

fn get_array<'a>(obj: &'a Value, path: &[&str]) -> Result<&'a Vec<Value>, TlogError> {
    let arr = get(obj, path)?
        .as_array()
        .ok_or_else(|| bad(format!("{} is not an array", path.join("."))))?;
    if arr.len() > MAX_SIGNATURES {
        return Err(bad(format!(
            "{} has more than {MAX_SIGNATURES} items",
            path.join(".")
        )));
    }
    Ok(arr)
}

/// A `{"algorithm": .., "value": ..}` object (hex accepted in either case).
fn get_hash(obj: &Value, path: &[&str]) -> Result<Digest, TlogError> {
    let with = |last: &'static str| -> Vec<&str> {
        let mut p = path.to_vec();
        p.push(last);
        p
    };
    let alg_text = get_str(obj, &with("algorithm"))?;
    let value = get_str(obj, &with("value"))?;
    let alg: HashAlgorithm = alg_text
        .parse()
        .map_err(|e| bad(format!("{}: {e}", path.join("."))))?;
    Digest::from_hex(alg, &value.to_ascii_lowercase())
        .map_err(|e| bad(format!("{}: {e}", path.join("."))))
}

/// DSSE signatures are base64 in either alphabet (go-securesystemslib's decoder).
fn decode_dsse_b64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

impl Body {
    /// Parses a stored body (the decoded `body` of a log entry, or a bundle's
    /// `canonicalizedBody`). Kinds: hashedrekord 0.0.1, rekord 0.0.1, dsse 0.0.1, intoto
    /// 0.0.1/0.0.2 (Rekor v1); hashedrekord 0.0.2 and dsse 0.0.2 (Rekor v2, which must be
    /// canonical JSON, see [`hashedrekord_v002`]).
    pub fn parse(body: &[u8]) -> Result<Self, TlogError> {
        let v: Value = serde_json::from_slice(body).map_err(bad)?;
        if !v.is_object() {
            return Err(bad("not a JSON object"));
        }
        let kind = get_str(&v, &["kind"])?;
        let version = get_str(&v, &["apiVersion"])?;
        let spec = get(&v, &["spec"])?;
        match (kind, version) {
            ("hashedrekord" | "dsse", V2_API_VERSION) => v2::parse(kind, body, &v),
            ("hashedrekord", "0.0.1") | ("rekord", "0.0.1") => {
                let digest = get_hash(spec, &["data", "hash"])?;
                let signature = get_b64(spec, &["signature", "content"])?;
                let verifier_pem = get_b64(spec, &["signature", "publicKey", "content"])?;
                Ok(if kind == "rekord" {
                    Self::Rekord {
                        digest,
                        signature,
                        verifier_pem,
                    }
                } else {
                    Self::HashedRekord {
                        digest,
                        signature,
                        verifier_pem,
                    }
                })
            }
            ("dsse", "0.0.1") => {
                let envelope_hash = get_hash(spec, &["envelopeHash"])?;
                let payload_hash = get_hash(spec, &["payloadHash"])?;
                let mut signatures = Vec::new();
                for item in get_array(spec, &["signatures"])? {
                    let text = get_str(item, &["signature"])?;
                    let sig = decode_dsse_b64(text)
                        .ok_or_else(|| bad("signatures.signature is not base64"))?;
                    signatures.push((sig, get_b64(item, &["verifier"])?));
                }
                if signatures.is_empty() {
                    return Err(bad("dsse entry without signatures"));
                }
                Ok(Self::Dsse {
                    envelope_hash,
                    payload_hash,
                    signatures,
                })
            }
            ("intoto", "0.0.1") => {
                let envelope_hash = get_hash(spec, &["content", "hash"])?;
                let payload_hash = match get(spec, &["content", "payloadHash"]) {
                    Ok(_) => Some(get_hash(spec, &["content", "payloadHash"])?),
                    Err(_) => None,
                };
                let key = get_b64(spec, &["publicKey"])?;
                Ok(Self::Intoto {
                    envelope_hash,
                    payload_hash,
                    signatures: vec![(Vec::new(), key)],
                })
            }
            ("intoto", "0.0.2") => {
                let envelope_hash = get_hash(spec, &["content", "hash"])?;
                let payload_hash = match get(spec, &["content", "payloadHash"]) {
                    Ok(_) => Some(get_hash(spec, &["content", "payloadHash"])?),
                    Err(_) => None,
                };
                let mut signatures = Vec::new();
                for item in get_array(spec, &["content", "envelope", "signatures"])? {
                    let sig_text = get_b64(item, &["sig"])?;
                    let sig = std::str::from_utf8(&sig_text)
                        .ok()
                        .and_then(decode_dsse_b64)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| bad("envelope signature is not base64 text"))?;
                    signatures.push((sig, get_b64(item, &["publicKey"])?));
                }
                if signatures.is_empty() {
                    return Err(bad("intoto entry without signatures"));
                }
                Ok(Self::Intoto {
                    envelope_hash,
                    payload_hash,
                    signatures,
                })
            }
            _ => Err(TlogError::UnsupportedKind {
                kind: kind.to_owned(),
                version: version.to_owned(),
            }),
        }
    }

    /// The entry kind (`hashedrekord`, `rekord`, `dsse`, `intoto`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::HashedRekord { .. } => "hashedrekord",
            Self::Rekord { .. } => "rekord",
            Self::Dsse { .. } => "dsse",
            Self::Intoto { .. } => "intoto",
            Self::HashedRekordV002 { .. } => "hashedrekord",
            Self::DsseV002 { .. } => "dsse",
        }
    }

    /// The kind's version (`0.0.1`, or `0.0.2` for intoto entries that record signatures and
    /// Rekor v2 entries).
    pub fn version(&self) -> &'static str {
        match self {
            Self::HashedRekordV002 { .. } | Self::DsseV002 { .. } => V2_API_VERSION,
            Self::Intoto { signatures, .. } if signatures.iter().any(|(s, _)| !s.is_empty()) => {
                "0.0.2"
            }
            _ => "0.0.1",
        }
    }

    /// The `(signature, verifier PEM)` pairs recorded (one for hashedrekord and rekord).
    pub fn signatures(&self) -> Vec<(&[u8], &[u8])> {
        match self {
            Self::HashedRekord {
                signature,
                verifier_pem,
                ..
            }
            | Self::Rekord {
                signature,
                verifier_pem,
                ..
            } => vec![(signature.as_slice(), verifier_pem.as_slice())],
            Self::Dsse { signatures, .. } | Self::Intoto { signatures, .. } => signatures
                .iter()
                .map(|(s, v)| (s.as_slice(), v.as_slice()))
                .collect(),
            Self::HashedRekordV002 {
                signature,
                verifier,
                ..
            } => vec![(signature.as_slice(), verifier.pem.as_slice())],
            Self::DsseV002 { signatures, .. } => signatures
                .iter()
                .map(|(s, v)| (s.as_slice(), v.pem.as_slice()))
                .collect(),
        }
    }

    /// Whether this is a Rekor v2 body (no signed entry timestamp, no integrated time: only an
    /// inclusion proof with a C2SP checkpoint proves it).
    pub fn is_rekor_v2(&self) -> bool {
        matches!(self, Self::HashedRekordV002 { .. } | Self::DsseV002 { .. })
    }
}

fn invalid(kind: &str, reason: impl Into<String>) -> TlogError {
    TlogError::InvalidEntry {
        kind: kind.to_owned(),
        reason: reason.into(),
    }
}

/// Re-labels a body parsing error as a refusal of the proposed entry.
fn refuse(kind: &'static str) -> impl Fn(TlogError) -> TlogError {
    move |e| match e {
        TlogError::Malformed { reason, .. } => invalid(kind, reason),
        other => invalid(kind, other.to_string()),
    }
}

/// Server side: validates a proposed entry (the signature must verify over the stated digest,
/// or over the DSSE PAE with the given verifiers) and returns the body the log stores (RFC 8785
/// JSON), as Rekor computes it. Supported: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2.
pub fn canonicalize_proposed(proposed: &Value) -> Result<Vec<u8>, TlogError> {
    if !proposed.is_object() {
        return Err(invalid(
            "(unknown)",
            "the proposed entry is not a JSON object",
        ));
    }
    let kind = get_str(proposed, &["kind"]).map_err(refuse("(unknown)"))?;
    let version = get_str(proposed, &["apiVersion"]).map_err(refuse("(unknown)"))?;
    let spec = get(proposed, &["spec"]).map_err(refuse("(unknown)"))?;
    let stored = match (kind, version) {
        ("hashedrekord", "0.0.1") => canonical_hashedrekord(spec)?,
        ("dsse", "0.0.1") => canonical_dsse(spec)?,
        ("intoto", "0.0.2") => canonical_intoto(spec)?,
        _ => {
            return Err(TlogError::UnsupportedKind {
                kind: kind.to_owned(),
                version: version.to_owned(),
            });
        }
    };
    cosign_types::to_canonical_json(&stored).map_err(|e| invalid(kind, e.to_string()))
}

fn canonical_hashedrekord(spec: &Value) -> Result<Value, TlogError> {
    const KIND: &str = "hashedrekord";
    let digest = get_hash(spec, &["data", "hash"]).map_err(refuse(KIND))?;
    let signature = get_b64(spec, &["signature", "content"]).map_err(refuse(KIND))?;
    if signature.is_empty() {
        return Err(invalid(KIND, "empty signature"));
    }
    let pem = get_b64(spec, &["signature", "publicKey", "content"]).map_err(refuse(KIND))?;
    let verifier = parse_verifier(&pem).map_err(refuse(KIND))?;
    let scheme = digest_scheme(&verifier.key, digest.algorithm()).ok_or_else(|| {
        invalid(
            KIND,
            format!(
                "a {} key cannot verify a signature over a {} digest",
                verifier.key.key_type(),
                digest.algorithm()
            ),
        )
    })?;
    verifier
        .key
        .verify_digest(scheme, &digest, &signature)
        .map_err(|_| invalid(KIND, "the signature does not verify over the digest"))?;
    Ok(json!({
        "apiVersion": "0.0.1",
        "kind": KIND,
        "spec": {
            "data": {"hash": {"algorithm": digest.algorithm().name(), "value": digest.hex()}},
            "signature": {
                "content": b64(&signature),
                "publicKey": {"content": b64(verifier.canonical_pem().as_bytes())},
            },
        },
    }))
}

/// The parts of a DSSE envelope that signatures cover.
struct ParsedEnvelope {
    payload_type: String,
    payload: Vec<u8>,
    /// `(signature as written, decoded signature)`.
    signatures: Vec<(String, Vec<u8>)>,
}

impl ParsedEnvelope {
    fn pae(&self) -> Vec<u8> {
        cosign_types::pae(&self.payload_type, &self.payload)
    }
}

/// Parses a DSSE envelope JSON the way go-securesystemslib does.
fn parse_envelope(kind: &str, json_bytes: &[u8]) -> Result<ParsedEnvelope, TlogError> {
    let env: Value = serde_json::from_slice(json_bytes)
        .map_err(|e| invalid(kind, format!("the envelope is not JSON: {e}")))?;
    let payload_type = get_str(&env, &["payloadType"]).map_err(refuse_env(kind))?;
    let payload_text = get_str(&env, &["payload"]).map_err(refuse_env(kind))?;
    let payload = decode_dsse_b64(payload_text)
        .ok_or_else(|| invalid(kind, "the envelope payload is not base64"))?;
    let mut signatures = Vec::new();
    for item in get_array(&env, &["signatures"]).map_err(refuse_env(kind))? {
        let text = get_str(item, &["sig"]).map_err(refuse_env(kind))?;
        let sig = decode_dsse_b64(text)
            .ok_or_else(|| invalid(kind, "an envelope signature is not base64"))?;
        signatures.push((text.to_owned(), sig));
    }
    if signatures.is_empty() {
        return Err(invalid(
            kind,
            "DSSE envelope must contain 1 or more signatures",
        ));
    }
    Ok(ParsedEnvelope {
        payload_type: payload_type.to_owned(),
        payload,
        signatures,
    })
}

fn refuse_env(kind: &str) -> impl Fn(TlogError) -> TlogError + '_ {
    move |e| match e {
        TlogError::Malformed { reason, .. } => invalid(kind, format!("envelope: {reason}")),
        other => invalid(kind, other.to_string()),
    }
}

/// The verifier (by index) whose key verifies `sig` over `message`, if any.
fn find_verifier(verifiers: &[Verifier], message: &[u8], sig: &[u8]) -> Option<usize> {
    verifiers.iter().position(|v| {
        message_schemes(&v.key)
            .into_iter()
            .any(|scheme: SignatureScheme| v.key.verify_message(scheme, message, sig).is_ok())
    })
}

fn canonical_dsse(spec: &Value) -> Result<Value, TlogError> {
    const KIND: &str = "dsse";
    // Rekor's Go client sends the fields it leaves empty as null (`"signatures": null`), as
    // Rekor reads them: absent.
    let present = |field: &str| {
        spec.get(field)
            .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
    };
    if present("envelopeHash") || present("payloadHash") || present("signatures") {
        return Err(invalid(
            KIND,
            "either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both",
        ));
    }
    let envelope = get_str(spec, &["proposedContent", "envelope"]).map_err(refuse(KIND))?;
    let verifiers_b64 = get_array(spec, &["proposedContent", "verifiers"]).map_err(refuse(KIND))?;
    if verifiers_b64.is_empty() {
        return Err(invalid(KIND, "missing proposed verifiers"));
    }
    let mut verifiers = Vec::new();
    for v in verifiers_b64 {
        let pem = v
            .as_str()
            .and_then(|t| STANDARD.decode(t).ok())
            .ok_or_else(|| invalid(KIND, "a verifier is not base64"))?;
        verifiers.push(parse_verifier(&pem).map_err(refuse(KIND))?);
    }
    let env = parse_envelope(KIND, envelope.as_bytes())?;
    let pae = env.pae();
    let mut signed: Vec<(String, String)> = Vec::new();
    for (text, sig) in &env.signatures {
        let index = find_verifier(&verifiers, &pae, sig)
            .ok_or_else(|| invalid(KIND, "all signatures must have a key that verifies it"))?;
        signed.push((text.clone(), verifiers[index].canonical_pem()));
    }
    signed.sort();
    signed.dedup_by(|a, b| a.0 == b.0);
    let signatures: Vec<Value> = signed
        .into_iter()
        .map(|(sig, pem)| json!({"signature": sig, "verifier": b64(pem.as_bytes())}))
        .collect();
    Ok(json!({
        "apiVersion": "0.0.1",
        "kind": KIND,
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": sha256_hex(envelope.as_bytes())},
            "payloadHash": {"algorithm": "sha256", "value": sha256_hex(&env.payload)},
            "signatures": signatures,
        },
    }))
}

fn canonical_intoto(spec: &Value) -> Result<Value, TlogError> {
    const KIND: &str = "intoto";
    let envelope = get(spec, &["content", "envelope"]).map_err(refuse(KIND))?;
    let hash = get_hash(spec, &["content", "hash"]).map_err(refuse(KIND))?;
    if hash.algorithm() != HashAlgorithm::Sha256 {
        return Err(invalid(KIND, "content.hash must be sha256"));
    }
    let payload_type = get_str(envelope, &["payloadType"]).map_err(refuse(KIND))?;
    if payload_type.is_empty() {
        return Err(invalid(KIND, "missing payloadType content"));
    }
    let payload_text = get_b64(envelope, &["payload"]).map_err(refuse(KIND))?;
    let payload = std::str::from_utf8(&payload_text)
        .ok()
        .and_then(|t| STANDARD.decode(t).ok())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid(KIND, "missing envelope content"))?;
    let items = get_array(envelope, &["signatures"]).map_err(refuse(KIND))?;
    if items.is_empty() {
        return Err(invalid(KIND, "missing signatures content"));
    }
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    for item in items {
        let sig_text = get_b64(item, &["sig"]).map_err(refuse(KIND))?;
        let sig = std::str::from_utf8(&sig_text)
            .ok()
            .and_then(decode_dsse_b64)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(KIND, "missing signature content"))?;
        let pem = get_b64(item, &["publicKey"]).map_err(refuse(KIND))?;
        keys.push(parse_verifier(&pem).map_err(refuse(KIND))?);
        let keyid = item
            .get("keyid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        sigs.push((keyid.to_owned(), sig_text, sig, pem));
    }
    let pae = cosign_types::pae(payload_type, &payload);
    let mut stored_sigs = Vec::new();
    for (keyid, sig_text, sig, pem) in sigs {
        find_verifier(&keys, &pae, &sig)
            .ok_or_else(|| invalid(KIND, "all signatures must have a key that verifies it"))?;
        let mut item = Map::new();
        if !keyid.is_empty() {
            item.insert("keyid".to_owned(), Value::String(keyid));
        }
        item.insert("publicKey".to_owned(), Value::String(b64(&pem)));
        item.insert("sig".to_owned(), Value::String(b64(&sig_text)));
        stored_sigs.push(Value::Object(item));
    }
    Ok(json!({
        "apiVersion": "0.0.2",
        "kind": KIND,
        "spec": {
            "content": {
                "envelope": {"payloadType": payload_type, "signatures": stored_sigs},
                "hash": {"algorithm": "sha256", "value": hash.hex()},
                "payloadHash": {"algorithm": "sha256", "value": sha256_hex(&payload)},
            },
        },
    }))
}

/// The search index key of a verifier: lowercase hex SHA-256 of its canonical PEM (what
/// Rekor's `/api/v1/index/retrieve` looks up for a `publicKey` query). `None` if the PEM is not
/// a key or certificate.
pub fn key_index(verifier_pem: &[u8]) -> Option<String> {
    let verifier = parse_verifier(verifier_pem).ok()?;
    Some(sha256_hex(verifier.canonical_pem().as_bytes()))
}

/// The search index keys of a stored entry: artifact hashes (`sha256:<hex>`; for dsse the
/// payload and envelope hashes, for intoto the payload hash) and verifier key fingerprints
/// (see [`key_index`]). Duplicates removed, in a stable order.
pub fn index_keys(body: &Body) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (_, pem) in body.signatures() {
        if let Some(k) = key_index(pem) {
            keys.push(k);
        }
    }
    match body {
        Body::HashedRekord { digest, .. }
        | Body::Rekord { digest, .. }
        | Body::HashedRekordV002 { digest, .. } => {
            keys.push(digest.to_string());
        }
        Body::DsseV002 { payload_hash, .. } => keys.push(payload_hash.to_string()),
        Body::Dsse {
            envelope_hash,
            payload_hash,
            ..
        } => {
            keys.push(payload_hash.to_string());
            keys.push(envelope_hash.to_string());
        }
        Body::Intoto { payload_hash, .. } => {
            if let Some(p) = payload_hash {
                keys.push(p.to_string());
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys
}

#[cfg(test)]
mod tests;
