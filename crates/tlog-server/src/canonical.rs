//! Entry canonicalisation, the parsing run on every `POST /api/v1/log/entries`: request bytes
//! in, the canonical body to store (with its leaf hash and search keys) or an error out.
//!
//! Pure: no I/O, no state, no clock, so a fuzz target can call [`canonicalize`] directly
//! (`fuzz_target!(|data: &[u8]| { let _ = canonicalize(data); })`). It never panics on any
//! input; JSON nesting is bounded by `serde_json`'s recursion limit and the size by
//! [`MAX_INPUT`].

use crate::tlog::{self, Hash};

/// The largest request accepted (the server's request body limit).
pub const MAX_INPUT: usize = 1 << 20;

/// A proposed entry, checked and canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical body to store.
    pub body: Vec<u8>,
    /// Its RFC 6962 leaf hash (the entry UUID).
    pub leaf: Hash,
    /// Its search-index keys.
    pub keys: Vec<String>,
}

/// Why a proposed entry was refused (Rekor's 400 message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a proposed entry (JSON bytes), checks it (kind, version, fields, the signature
/// verifies) and returns its canonical form.
pub fn canonicalize(input: &[u8]) -> Result<Canonical, Refused> {
    if input.len() > MAX_INPUT {
        return Err(Refused(format!(
            "error processing entry: larger than {MAX_INPUT} bytes"
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(input)
        .map_err(|e| Refused(format!("error processing entry: {e}")))?;
    canonicalize_value(&value)
}

/// [`canonicalize`] for an already parsed proposal (the `entries` of a retrieve query).
pub fn canonicalize_value(value: &serde_json::Value) -> Result<Canonical, Refused> {
    let body = tlog::canonicalize_proposed(value)
        .map_err(|e| Refused(format!("error processing entry: {e}")))?;
    let leaf = tlog::leaf_hash(&body);
    let keys = tlog::index_keys(&body);
    Ok(Canonical { body, leaf, keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use cosign_crypto::{HashAlgorithm, PrivateKey, SignatureScheme};
    use serde_json::json;

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    fn proposal(key: &PrivateKey, artifact: &[u8]) -> serde_json::Value {
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, artifact);
        let sig = key
            .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
            .unwrap();
        json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {
                    "content": b64(&sig),
                    "publicKey": {"content": b64(key.public_key().to_pem().as_bytes())},
                },
            },
        })
    }

    #[test]
    fn valid_hashedrekord_is_canonical_and_stable() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let p = proposal(&key, b"artifact");
        let a = canonicalize(p.to_string().as_bytes()).unwrap();
        // Formatting and key order of the request do not matter.
        let pretty = serde_json::to_vec_pretty(&p).unwrap();
        let b = canonicalize(&pretty).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.leaf, tlog::leaf_hash(&a.body));
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, b"artifact").hex();
        assert!(a.keys.contains(&format!("sha256:{digest}")), "{:?}", a.keys);
        // The canonical body is itself a valid proposal with the same canonical form.
        assert_eq!(canonicalize(&a.body).unwrap().body, a.body);
    }

    #[test]
    fn bad_signatures_and_shapes_are_refused() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let mut p = proposal(&key, b"artifact");
        p["spec"]["data"]["hash"]["value"] = json!("00".repeat(32));
        assert!(canonicalize(p.to_string().as_bytes()).is_err());
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"kind\":\"hashedrekord\"}",
            b"{\"apiVersion\":\"9.9.9\",\"kind\":\"hashedrekord\",\"spec\":{}}",
            b"{\"apiVersion\":\"0.0.1\",\"kind\":\"nope\",\"spec\":{}}",
            b"\xff\xfe",
        ] {
            let err = canonicalize(bad).unwrap_err();
            assert!(err.0.starts_with("error processing entry"), "{err}");
        }
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let deep = "[".repeat(100_000);
        assert!(canonicalize(deep.as_bytes()).is_err());
        assert!(canonicalize(&vec![b' '; MAX_INPUT + 1]).is_err());
        // Every prefix of a valid request, and single-byte flips.
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let good = proposal(&key, b"x").to_string().into_bytes();
        for i in (0..good.len()).step_by(7) {
            let _ = canonicalize(&good[..i]);
            let mut flipped = good.clone();
            flipped[i] ^= 0x20;
            let _ = canonicalize(&flipped);
        }
    }
}
