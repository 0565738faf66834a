//! `POST /api/v2/log/entries` request bodies (rekor-tiles' `CreateEntryRequest` as protojson)
//! checked and turned into the canonical entry body the log stores. Pure functions of the
//! request bytes, so they can be fuzzed.
//!
//! ```text
//! {"hashedRekordRequestV002": {"digest": "<b64>", "signature": {"content": "<b64>",
//!    "verifier": {"publicKey": {"rawBytes": "<b64 SPKI>"} | "x509Certificate": {...},
//!                 "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}
//! ```
//!
//! As rekor-tiles (2.1 and later) does: `dsseRequestV002` is refused ("invalid type, must be
//! hashedrekord"; clients log a DSSE envelope as a hashedrekord over its PAE), and so is any
//! field the proto does not have (protojson with `DiscardUnknown: false`). Field names are
//! accepted in lowerCamelCase or as in the proto, as protojson does.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use cosign_crypto::PublicKey;
use cosign_tlog::entry::{V2Verifier, default_key_details, hashedrekord_v002};
use cosign_types::Digest;
use serde_json::{Map, Value};

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
    known_fields(
        m,
        &[
            ("publicKey", "public_key"),
            ("x509Certificate", "x509_certificate"),
            ("keyDetails", "key_details"),
        ],
        what,
    )?;
    let pk = field(m, "publicKey", "public_key");
    let cert = field(m, "x509Certificate", "x509_certificate");
    if pk.is_some() && cert.is_some() {
        return Err(format!("{what} holds both publicKey and x509Certificate"));
    }
    let parsed = if let Some(pk) = pk {
        let pk = object(pk, what)?;
        known_fields(
            pk,
            &[("rawBytes", "raw_bytes")],
            &format!("{what}.publicKey"),
        )?;
        let raw = bytes(
            required(pk, "rawBytes", "raw_bytes", what)?,
            &format!("{what}.publicKey.rawBytes"),
        )?;
        let key = PublicKey::from_spki_der(&raw)
            .map_err(|e| format!("{what}.publicKey is not a public key: {e}"))?;
        V2Verifier::from_public_key(&key).map_err(|e| e.to_string())?
    } else if let Some(cert) = cert {
        let cert = object(cert, what)?;
        known_fields(
            cert,
            &[("rawBytes", "raw_bytes")],
            &format!("{what}.x509Certificate"),
        )?;
        let raw = bytes(
            required(cert, "rawBytes", "raw_bytes", what)?,
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

/// The message rekor-tiles answers for a request that is not a hashedrekord.
pub const NOT_HASHEDREKORD: &str = "invalid type, must be hashedrekord";

/// Refuses a field `m` has that `known` (lowerCamelCase, proto name) does not list, and a
/// field given under both its names.
fn known_fields(m: &Map<String, Value>, known: &[(&str, &str)], what: &str) -> Res<()> {
    for name in m.keys() {
        if !known.iter().any(|(c, s)| name == c || name == s) {
            return Err(format!("{what}: unknown field {name:?}"));
        }
    }
    for (camel, snake) in known {
        if camel != snake && m.contains_key(*camel) && m.contains_key(*snake) {
            return Err(format!("{what}: field {camel:?} given twice"));
        }
    }
    Ok(())
}

/// Checks a `CreateEntryRequest` and returns the body to log.
pub fn canonicalize(request: &[u8]) -> Res<Canonical> {
    let v: Value =
        serde_json::from_slice(request).map_err(|e| format!("the request is not JSON: {e}"))?;
    let m = object(&v, "the request")?;
    known_fields(
        m,
        &[
            ("hashedRekordRequestV002", "hashed_rekord_request_v002"),
            ("dsseRequestV002", "dsse_request_v002"),
        ],
        "the request",
    )?;
    if m.len() > 1 {
        return Err("the request holds more than one of its oneof spec fields".into());
    }
    match field(m, "hashedRekordRequestV002", "hashed_rekord_request_v002") {
        Some(r) => hashedrekord(r),
        None => Err(NOT_HASHEDREKORD.into()),
    }
}

fn hashedrekord(r: &Value) -> Res<Canonical> {
    let what = "hashedRekordRequestV002";
    let m = object(r, what)?;
    known_fields(m, &[("digest", "digest"), ("signature", "signature")], what)?;
    let digest = bytes(required(m, "digest", "digest", what)?, "digest")?;
    let sig = object(required(m, "signature", "signature", what)?, "signature")?;
    known_fields(
        sig,
        &[("content", "content"), ("verifier", "verifier")],
        "signature",
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_crypto::{HashAlgorithm, PrivateKey, SignatureScheme, hash};
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
    fn dsse_and_unknown_fields_are_refused_as_rekor_tiles_does() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let digest = hash(HashAlgorithm::Sha256, b"blob");
        let sig = key
            .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
            .unwrap();
        let spki = b64(&key.public_key().to_spki_der());
        let good = json!({"hashed_rekord_request_v002": {"digest": b64(digest.as_bytes()),
            "signature": {"content": b64(&sig), "verifier": {
                "public_key": {"raw_bytes": spki}, "key_details": "PKIX_ECDSA_P256_SHA_256"}}}});
        assert!(canonicalize(good.to_string().as_bytes()).is_ok());
        let dsse = json!({"dsseRequestV002": {"envelope": {}, "verifiers": []}});
        assert_eq!(
            canonicalize(dsse.to_string().as_bytes()).unwrap_err(),
            NOT_HASHEDREKORD
        );
        assert_eq!(canonicalize(b"{}").unwrap_err(), NOT_HASHEDREKORD);
        for path in [
            "/extra",
            "/hashed_rekord_request_v002/extra",
            "/hashed_rekord_request_v002/signature/extra",
            "/hashed_rekord_request_v002/signature/verifier/extra",
            "/hashed_rekord_request_v002/signature/verifier/public_key/extra",
        ] {
            let mut req = good.clone();
            let (parent, name) = path.rsplit_once('/').unwrap();
            req.pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert(name.to_owned(), json!(1));
            let e = canonicalize(req.to_string().as_bytes()).unwrap_err();
            assert!(e.contains("unknown field \"extra\""), "{path}: {e}");
        }
        let mut twice = good.clone();
        twice["hashed_rekord_request_v002"]["signature"]["verifier"]["keyDetails"] =
            json!("PKIX_ECDSA_P256_SHA_256");
        assert!(canonicalize(twice.to_string().as_bytes()).is_err());
    }
}
