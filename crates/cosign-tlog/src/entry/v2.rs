//! Rekor v2 (rekor-tiles) entry bodies: protojson of `dev.sigstore.rekor.v2.Entry`, stored as
//! RFC 8785 JSON.
//!
//! ```text
//! {"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{
//!   "data":{"algorithm":"SHA2_256","digest":"<b64>"},
//!   "signature":{"content":"<b64>","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256",
//!     "publicKey":{"rawBytes":"<b64 SPKI DER>"} | "x509Certificate":{"rawBytes":"<b64 DER>"}}}}}}
//! {"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{
//!   "payloadHash":{"algorithm":"SHA2_256","digest":"<b64>"},
//!   "signatures":[{"content":"<b64>","verifier":{...}}]}}}
//! ```
//!
//! A body must be exactly the canonical JSON of the fields read from it, so the leaf hash the
//! inclusion proof covers is the one sigstore-go reconstructs from the bundle. A hashedrekord
//! body's `keyDetails` must be the default for its key and its digest algorithm that key's
//! hash (what sigstore-go reconstructs too; pure Ed25519 is refused, as Rekor v2 does).
//! `dsse` 0.0.2 is deprecated in rekor-tiles and no longer accepted by sigstore-go ≥ 1.2.1.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cosign_crypto::{KeyType, PublicKey};
use cosign_types::{Digest, HashAlgorithm};
use serde_json::{Map, Value, json};

use super::{Body, MAX_SIGNATURES, bad};
use crate::TlogError;
use crate::pem::encode;

/// The version of the Rekor v2 entry kinds.
pub const V2_API_VERSION: &str = "0.0.2";

/// How a Rekor v2 entry names the signer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V2VerifierKind {
    /// `publicKey.rawBytes`: a DER SubjectPublicKeyInfo.
    PublicKey,
    /// `x509Certificate.rawBytes`: a DER certificate.
    X509Certificate,
}

/// The `verifier` of a Rekor v2 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Verifier {
    /// Key or certificate.
    pub kind: V2VerifierKind,
    /// The DER bytes.
    pub raw_bytes: Vec<u8>,
    /// The `keyDetails` enum name (`PKIX_ECDSA_P256_SHA_256` ...).
    pub key_details: String,
    /// The same key or certificate as PEM (how [`Body::signatures`] reports verifiers).
    pub pem: Vec<u8>,
}

/// sigstore's default `keyDetails` for a key, and the hash it signs (Ed25519 keys as
/// Ed25519ph, the only Ed25519 form a hashedrekord can hold). `None` for RSA sizes sigstore
/// has no default for.
pub fn default_key_details(key: &PublicKey) -> Option<(&'static str, HashAlgorithm)> {
    Some(match key.key_type() {
        KeyType::EcdsaP256 => ("PKIX_ECDSA_P256_SHA_256", HashAlgorithm::Sha256),
        KeyType::EcdsaP384 => ("PKIX_ECDSA_P384_SHA_384", HashAlgorithm::Sha384),
        KeyType::EcdsaP521 => ("PKIX_ECDSA_P521_SHA_512", HashAlgorithm::Sha512),
        KeyType::Ed25519 => ("PKIX_ED25519_PH", HashAlgorithm::Sha512),
        KeyType::Rsa { bits: 2048 } => ("PKIX_RSA_PKCS1V15_2048_SHA256", HashAlgorithm::Sha256),
        KeyType::Rsa { bits: 3072 } => ("PKIX_RSA_PKCS1V15_3072_SHA256", HashAlgorithm::Sha256),
        KeyType::Rsa { bits: 4096 } => ("PKIX_RSA_PKCS1V15_4096_SHA256", HashAlgorithm::Sha256),
        KeyType::Rsa { .. } => return None,
    })
}

impl V2Verifier {
    fn new(kind: V2VerifierKind, raw_bytes: Vec<u8>, key_details: String) -> Self {
        let label = match kind {
            V2VerifierKind::PublicKey => "PUBLIC KEY",
            V2VerifierKind::X509Certificate => "CERTIFICATE",
        };
        let pem = encode(label, &raw_bytes).into_bytes();
        Self {
            kind,
            raw_bytes,
            key_details,
            pem,
        }
    }

    /// A bare key with its default key details.
    pub fn from_public_key(key: &PublicKey) -> Result<Self, TlogError> {
        let (details, _) = default_key_details(key).ok_or_else(|| {
            bad(format!(
                "no Rekor v2 key details for a {} key",
                key.key_type()
            ))
        })?;
        Ok(Self::new(
            V2VerifierKind::PublicKey,
            key.to_spki_der(),
            details.to_owned(),
        ))
    }

    /// A certificate (DER) with the default key details of its key.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, TlogError> {
        let key = PublicKey::from_certificate_der(der).map_err(|source| TlogError::Crypto {
            what: "reading the certificate of a Rekor v2 entry",
            source,
        })?;
        let (details, _) = default_key_details(&key).ok_or_else(|| {
            bad(format!(
                "no Rekor v2 key details for a {} key",
                key.key_type()
            ))
        })?;
        Ok(Self::new(
            V2VerifierKind::X509Certificate,
            der.to_vec(),
            details.to_owned(),
        ))
    }

    /// The key that verifies (a certificate's subject key).
    pub fn public_key(&self) -> Result<PublicKey, TlogError> {
        let key = match self.kind {
            V2VerifierKind::PublicKey => PublicKey::from_spki_der(&self.raw_bytes),
            V2VerifierKind::X509Certificate => PublicKey::from_certificate_der(&self.raw_bytes),
        };
        key.map_err(|source| TlogError::Crypto {
            what: "reading the verifier of a Rekor v2 entry",
            source,
        })
    }

    fn to_json(&self) -> Value {
        let field = match self.kind {
            V2VerifierKind::PublicKey => "publicKey",
            V2VerifierKind::X509Certificate => "x509Certificate",
        };
        let mut obj = Map::new();
        obj.insert(
            "keyDetails".to_owned(),
            Value::String(self.key_details.clone()),
        );
        obj.insert(
            field.to_owned(),
            json!({"rawBytes": STANDARD.encode(&self.raw_bytes)}),
        );
        Value::Object(obj)
    }
}

fn hash_output(digest: &Digest) -> Value {
    json!({
        "algorithm": digest.algorithm().proto_name(),
        "digest": STANDARD.encode(digest.as_bytes()),
    })
}

fn canonical(value: &Value) -> Result<Vec<u8>, TlogError> {
    cosign_types::to_canonical_json(value).map_err(bad)
}

/// The stored body of a `hashedrekord` 0.0.2 entry (canonical JSON): what Rekor v2 logs for a
/// signature over `digest`, and what sigstore-go rebuilds from a bundle to check inclusion.
pub fn hashedrekord_v002(
    digest: &Digest,
    signature: &[u8],
    verifier: &V2Verifier,
) -> Result<Vec<u8>, TlogError> {
    canonical(&json!({
        "apiVersion": V2_API_VERSION,
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": hash_output(digest),
            "signature": {"content": STANDARD.encode(signature), "verifier": verifier.to_json()},
        }},
    }))
}

/// The stored body of a `dsse` 0.0.2 entry (canonical JSON).
pub fn dsse_v002(
    payload_hash: &Digest,
    signatures: &[(Vec<u8>, V2Verifier)],
) -> Result<Vec<u8>, TlogError> {
    let sigs: Vec<Value> = signatures
        .iter()
        .map(|(s, v)| json!({"content": STANDARD.encode(s), "verifier": v.to_json()}))
        .collect();
    canonical(&json!({
        "apiVersion": V2_API_VERSION,
        "kind": "dsse",
        "spec": {"dsseV002": {"payloadHash": hash_output(payload_hash), "signatures": sigs}},
    }))
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, TlogError> {
    v.as_object()
        .ok_or_else(|| bad(format!("{what} is not an object")))
}

fn member<'a>(m: &'a Map<String, Value>, name: &str, what: &str) -> Result<&'a Value, TlogError> {
    m.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| bad(format!("missing {what}.{name}")))
}

fn text<'a>(m: &'a Map<String, Value>, name: &str, what: &str) -> Result<&'a str, TlogError> {
    member(m, name, what)?
        .as_str()
        .ok_or_else(|| bad(format!("{what}.{name} is not a string")))
}

/// protojson bytes: base64 in either alphabet, padded or not.
fn bytes(m: &Map<String, Value>, name: &str, what: &str) -> Result<Vec<u8>, TlogError> {
    let s = text(m, name, what)?;
    let url = s.trim_end_matches('=').replace('+', "-").replace('/', "_");
    URL_SAFE_NO_PAD
        .decode(url.as_bytes())
        .map_err(|e| bad(format!("{what}.{name} is not base64: {e}")))
}

fn parse_hash_output(v: &Value, what: &str) -> Result<Digest, TlogError> {
    let m = obj(v, what)?;
    let alg_name = text(m, "algorithm", what)?;
    let alg = HashAlgorithm::from_proto_name(alg_name)
        .ok_or_else(|| bad(format!("{what}.algorithm {alg_name:?} is not supported")))?;
    let raw = bytes(m, "digest", what)?;
    Digest::new(alg, raw).ok_or_else(|| bad(format!("{what}.digest is not a {alg} digest")))
}

fn parse_verifier(v: &Value, what: &str) -> Result<V2Verifier, TlogError> {
    let m = obj(v, what)?;
    let key_details = text(m, "keyDetails", what)?.to_owned();
    let (kind, inner) = match (m.get("publicKey"), m.get("x509Certificate")) {
        (Some(k), None) => (V2VerifierKind::PublicKey, k),
        (None, Some(c)) => (V2VerifierKind::X509Certificate, c),
        _ => {
            return Err(bad(format!(
                "{what} must hold exactly one of publicKey and x509Certificate"
            )));
        }
    };
    let raw = bytes(obj(inner, what)?, "rawBytes", what)?;
    if raw.is_empty() {
        return Err(bad(format!("{what} has empty rawBytes")));
    }
    let verifier = V2Verifier::new(kind, raw, key_details);
    verifier.public_key()?;
    Ok(verifier)
}

fn parse_signature(v: &Value, what: &str) -> Result<(Vec<u8>, V2Verifier), TlogError> {
    let m = obj(v, what)?;
    let content = bytes(m, "content", what)?;
    if content.is_empty() {
        return Err(bad(format!("{what} has an empty signature")));
    }
    let verifier = parse_verifier(member(m, "verifier", what)?, &format!("{what}.verifier"))?;
    Ok((content, verifier))
}

/// Parses a Rekor v2 body (`kind` hashedrekord or dsse, `apiVersion` 0.0.2).
pub(super) fn parse(kind: &str, body_bytes: &[u8], v: &Value) -> Result<Body, TlogError> {
    let spec = obj(v.get("spec").unwrap_or(&Value::Null), "spec")?;
    if spec.len() != 1 {
        return Err(bad("spec must hold exactly one entry type"));
    }
    let (body, rebuilt) = match kind {
        "hashedrekord" => {
            let hr = member(spec, "hashedRekordV002", "spec")?;
            let hr_obj = obj(hr, "spec.hashedRekordV002")?;
            let digest = parse_hash_output(
                member(hr_obj, "data", "spec.hashedRekordV002")?,
                "spec.hashedRekordV002.data",
            )?;
            let (signature, verifier) = parse_signature(
                member(hr_obj, "signature", "spec.hashedRekordV002")?,
                "spec.hashedRekordV002.signature",
            )?;
            check_key_details(&verifier, &digest)?;
            let rebuilt = hashedrekord_v002(&digest, &signature, &verifier)?;
            let body = Body::HashedRekordV002 {
                digest,
                signature,
                verifier,
            };
            (body, rebuilt)
        }
        "dsse" => {
            let d = obj(member(spec, "dsseV002", "spec")?, "spec.dsseV002")?;
            let payload_hash = parse_hash_output(
                member(d, "payloadHash", "spec.dsseV002")?,
                "spec.dsseV002.payloadHash",
            )?;
            let items = member(d, "signatures", "spec.dsseV002")?
                .as_array()
                .ok_or_else(|| bad("spec.dsseV002.signatures is not an array"))?;
            if items.is_empty() || items.len() > MAX_SIGNATURES {
                return Err(bad(format!(
                    "spec.dsseV002 must hold 1 to {MAX_SIGNATURES} signatures"
                )));
            }
            let signatures = items
                .iter()
                .map(|i| parse_signature(i, "spec.dsseV002.signatures"))
                .collect::<Result<Vec<_>, _>>()?;
            let rebuilt = dsse_v002(&payload_hash, &signatures)?;
            let body = Body::DsseV002 {
                payload_hash,
                signatures,
            };
            (body, rebuilt)
        }
        _ => {
            return Err(TlogError::UnsupportedKind {
                kind: kind.to_owned(),
                version: V2_API_VERSION.to_owned(),
            });
        }
    };
    if rebuilt != body_bytes {
        return Err(bad(format!(
            "the {kind} {V2_API_VERSION} body is not the canonical JSON of its fields"
        )));
    }
    Ok(body)
}

/// A hashedrekord 0.0.2 verifier's key details must be sigstore's default for its key and the
/// digest must be of that key's hash.
fn check_key_details(verifier: &V2Verifier, digest: &Digest) -> Result<(), TlogError> {
    let key = verifier.public_key()?;
    let Some((details, alg)) = default_key_details(&key) else {
        return Err(bad(format!(
            "a {} key cannot sign a Rekor v2 hashedrekord",
            key.key_type()
        )));
    };
    if verifier.key_details != details {
        return Err(bad(format!(
            "keyDetails {} is not {details}, the only form of a {} key in a hashedrekord",
            verifier.key_details,
            key.key_type()
        )));
    }
    if digest.algorithm() != alg {
        return Err(bad(format!(
            "a {} digest cannot be signed with {details}",
            digest.algorithm()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
