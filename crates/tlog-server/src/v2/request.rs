//! `POST /api/v2/log/entries` request bodies (rekor-tiles' `CreateEntryRequest` as protojson)
//! checked and turned into the canonical entry body the log stores. Pure functions of the
//! request bytes, so they can be fuzzed.
//!
//! ```text
//! {"hashedRekordRequestV002": {"digest": "<b64>", "signature": {"content": "<b64>",
//!    "verifier": {"publicKey": {"rawBytes": "<b64 SPKI>"} | "x509Certificate": {...},
//!                 "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}
//! {"dsseRequestV002": {"envelope": {"payload": "<b64>", "payloadType": "...",
//!    "signatures": [{"sig": "<b64>", "keyid": ""}]}, "verifiers": [<verifier>, ...]}}
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use cosign_crypto::{KeyType, PublicKey, SignatureScheme, hash};
use cosign_tlog::entry::{V2Verifier, default_key_details, dsse_v002, hashedrekord_v002};
use cosign_types::{Digest, HashAlgorithm};
use serde_json::{Map, Value};

/// Most signatures or verifiers in a DSSE request.
const MAX_SIGNATURES: usize = 16;

/// A checked request: the body to log and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical JSON body (what the leaf hash covers).
    pub body: Vec<u8>,
    /// `hashedrekord` or `dsse`.
    pub kind: &'static str,
}

type Res<T> = Result<T, String>;

fn field<'a>(m: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    m.get(camel).or_else(|| m.get(snake))
}

fn object<'a>(v: &'a Value, what: &str) -> Res<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be an object"))
}

fn required<'a>(m: &'a Map<String, Value>, camel: &str, snake: &str, what: &str) -> Res<&'a Value> {
    field(m, camel, snake).ok_or_else(|| format!("{what}.{camel} is missing"))
}

/// protojson bytes: standard or URL-safe base64, padding optional.
fn bytes(v: &Value, what: &str) -> Res<Vec<u8>> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what} must be a base64 string"))?;
    let padded = if s.len() % 4 == 0 {
        s.to_owned()
    } else {
        format!("{s}{}", "=".repeat(4 - s.len() % 4))
    };
    STANDARD
        .decode(&padded)
        .or_else(|_| URL_SAFE.decode(&padded))
        .map_err(|_| format!("{what} is not base64"))
}

/// A `Verifier`: the key (or certificate) and its key details, which must be sigstore's
/// default for the key (what verifiers rebuild the body with).
fn verifier(v: &Value, what: &str) -> Res<(V2Verifier, PublicKey)> {
    let m = object(v, what)?;
    let parsed = if let Some(pk) = field(m, "publicKey", "public_key") {
        let raw = bytes(
            required(object(pk, what)?, "rawBytes", "raw_bytes", what)?,
            &format!("{what}.publicKey.rawBytes"),
        )?;
        let key = PublicKey::from_spki_der(&raw)
            .map_err(|e| format!("{what}.publicKey is not a public key: {e}"))?;
        V2Verifier::from_public_key(&key).map_err(|e| e.to_string())?
    } else if let Some(cert) = field(m, "x509Certificate", "x509_certificate") {
        let raw = bytes(
            required(object(cert, what)?, "rawBytes", "raw_bytes", what)?,
            &format!("{what}.x509Certificate.rawBytes"),
        )?;
        V2Verifier::from_certificate_der(&raw).map_err(|e| e.to_string())?
    } else {
        return Err(format!("{what} has neither publicKey nor x509Certificate"));
    };
    let details = required(m, "keyDetails", "key_details", what)?
        .as_str()
        .ok_or_else(|| format!("{what}.keyDetails must be a string"))?;
    if details != parsed.key_details {
        return Err(format!(
            "{what}.keyDetails {details:?} is not {:?}, the details of its key",
            parsed.key_details
        ));
    }
    let key = parsed.public_key().map_err(|e| e.to_string())?;
    Ok((parsed, key))
}

/// Checks a `CreateEntryRequest` and returns the body to log.
pub fn canonicalize(request: &[u8]) -> Res<Canonical> {
    let v: Value =
        serde_json::from_slice(request).map_err(|e| format!("the request is not JSON: {e}"))?;
    let m = object(&v, "the request")?;
    if m.len() != 1 {
        return Err(
            "the request must hold exactly one of hashedRekordRequestV002 and dsseRequestV002"
                .into(),
        );
    }
    if let Some(r) = field(m, "hashedRekordRequestV002", "hashed_rekord_request_v002") {
        return hashedrekord(r);
    }
    if let Some(r) = field(m, "dsseRequestV002", "dsse_request_v002") {
        return dsse(r);
    }
    Err("the request must hold hashedRekordRequestV002 or dsseRequestV002".into())
}

fn hashedrekord(r: &Value) -> Res<Canonical> {
    let what = "hashedRekordRequestV002";
    let m = object(r, what)?;
    let digest = bytes(required(m, "digest", "digest", what)?, "digest")?;
    let sig = object(required(m, "signature", "signature", what)?, "signature")?;
    let content = bytes(
        required(sig, "content", "content", "signature")?,
        "signature.content",
    )?;
    if content.is_empty() {
        return Err("signature.content is empty".into());
    }
    let (verifier, key) = verifier(
        required(sig, "verifier", "verifier", "signature")?,
        "signature.verifier",
    )?;
    let (_, alg) = default_key_details(&key).ok_or("unsupported key")?;
    let digest = Digest::new(alg, digest).ok_or_else(|| {
        format!(
            "digest is not a {} digest, the hash of a {} key",
            alg.proto_name(),
            key.key_type()
        )
    })?;
    key.verify_digest(key.key_type().default_scheme(true), &digest, &content)
        .map_err(|_| {
            "the signature does not verify with the verifier over the digest".to_owned()
        })?;
    let body = hashedrekord_v002(&digest, &content, &verifier).map_err(|e| e.to_string())?;
    Ok(Canonical {
        body,
        kind: "hashedrekord",
    })
}

fn message_schemes(key: &PublicKey) -> Vec<SignatureScheme> {
    match key.key_type() {
        KeyType::Ed25519 => vec![SignatureScheme::Ed25519, SignatureScheme::Ed25519ph],
        other => vec![other.default_scheme(false)],
    }
}

fn dsse(r: &Value) -> Res<Canonical> {
    let what = "dsseRequestV002";
    let m = object(r, what)?;
    let env = object(required(m, "envelope", "envelope", what)?, "envelope")?;
    let payload = bytes(
        required(env, "payload", "payload", "envelope")?,
        "envelope.payload",
    )?;
    let payload_type = required(env, "payloadType", "payload_type", "envelope")?
        .as_str()
        .ok_or("envelope.payloadType must be a string")?;
    let sigs = required(env, "signatures", "signatures", "envelope")?
        .as_array()
        .ok_or("envelope.signatures must be an array")?;
    let verifiers = required(m, "verifiers", "verifiers", what)?
        .as_array()
        .ok_or("verifiers must be an array")?;
    if sigs.is_empty() || verifiers.is_empty() {
        return Err("the envelope needs signatures and the request verifiers".into());
    }
    if sigs.len() > MAX_SIGNATURES || verifiers.len() > MAX_SIGNATURES {
        return Err(format!(
            "more than {MAX_SIGNATURES} signatures or verifiers"
        ));
    }
    let verifiers = verifiers
        .iter()
        .enumerate()
        .map(|(i, v)| verifier(v, &format!("verifiers[{i}]")))
        .collect::<Res<Vec<_>>>()?;
    let pae = cosign_types::dsse::pae(payload_type, &payload);
    let mut signed = Vec::new();
    for (i, s) in sigs.iter().enumerate() {
        let s = object(s, "envelope signature")?;
        let sig = bytes(
            required(s, "sig", "sig", "envelope signature")?,
            &format!("envelope.signatures[{i}].sig"),
        )?;
        let found = verifiers.iter().find(|(_, key)| {
            message_schemes(key)
                .into_iter()
                .any(|scheme| key.verify_message(scheme, &pae, &sig).is_ok())
        });
        let Some((v, _)) = found else {
            return Err(format!(
                "envelope signature {i} does not verify with any verifier"
            ));
        };
        signed.push((sig, v.clone()));
    }
    let payload_hash = hash(HashAlgorithm::Sha256, &payload);
    let body = dsse_v002(&payload_hash, &signed).map_err(|e| e.to_string())?;
    Ok(Canonical { body, kind: "dsse" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_crypto::PrivateKey;
    use serde_json::json;

    fn b64(b: &[u8]) -> String {
        STANDARD.encode(b)
    }

    #[test]
    fn hashedrekord_requests() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let digest = hash(HashAlgorithm::Sha256, b"blob");
        let sig = key
            .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
            .unwrap();
        let spki = key.public_key().to_spki_der();
        let req = |details: &str, sig: &[u8]| {
            json!({"hashedRekordRequestV002": {"digest": b64(digest.as_bytes()),
                "signature": {"content": b64(sig), "verifier": {
                    "publicKey": {"rawBytes": b64(&spki)}, "keyDetails": details}}}})
            .to_string()
        };
        let c = canonicalize(req("PKIX_ECDSA_P256_SHA_256", &sig).as_bytes()).unwrap();
        assert_eq!(c.kind, "hashedrekord");
        let v = V2Verifier::from_public_key(&key.public_key()).unwrap();
        assert_eq!(c.body, hashedrekord_v002(&digest, &sig, &v).unwrap());
        let body = cosign_tlog::entry::Body::parse(&c.body).unwrap();
        assert!(body.is_rekor_v2());

        assert!(canonicalize(req("PKIX_ED25519_PH", &sig).as_bytes()).is_err());
        let mut bad = sig.clone();
        bad[8] ^= 1;
        assert!(canonicalize(req("PKIX_ECDSA_P256_SHA_256", &bad).as_bytes()).is_err());
        assert!(canonicalize(b"{}").is_err());
        assert!(canonicalize(b"[").is_err());
    }

    #[test]
    fn dsse_requests() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let pae = cosign_types::dsse::pae("application/vnd.in-toto+json", payload);
        let sig = key
            .sign_message(SignatureScheme::EcdsaP256Sha256, &pae)
            .unwrap();
        let req = json!({"dsseRequestV002": {
            "envelope": {"payload": b64(payload), "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": b64(&sig), "keyid": ""}]},
            "verifiers": [{"publicKey": {"rawBytes": b64(&key.public_key().to_spki_der())},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256"}]}});
        let c = canonicalize(req.to_string().as_bytes()).unwrap();
        assert_eq!(c.kind, "dsse");
        assert!(
            cosign_tlog::entry::Body::parse(&c.body)
                .unwrap()
                .is_rekor_v2()
        );
    }
}
