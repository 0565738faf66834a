//! Signed entry timestamps (SET, Rekor's "inclusion promise").
//!
//! The log signs the RFC 8785 JSON of `{"body", "integratedTime", "logID", "logIndex"}` (the log
//! entry without its verification data): ECDSA (ASN.1) or RSA over SHA-256 of those bytes, pure
//! Ed25519 over the bytes themselves.

use cosign_crypto::{PrivateKey, PublicKey};
use serde_json::{Map, Value};

use crate::TlogError;
use crate::schemes::log_scheme;

/// The bytes a SET signs: RFC 8785 JSON of
/// `{"body": <base64 body>, "integratedTime": t, "logID": "<hex>", "logIndex": i}`.
pub fn payload(body_b64: &str, integrated_time: i64, log_id_hex: &str, log_index: i64) -> Vec<u8> {
    let mut map = Map::new();
    map.insert("body".to_owned(), Value::String(body_b64.to_owned()));
    map.insert("integratedTime".to_owned(), integrated_time.into());
    map.insert("logID".to_owned(), Value::String(log_id_hex.to_owned()));
    map.insert("logIndex".to_owned(), log_index.into());
    // Strings and integers always canonicalise; the fallback is never taken.
    cosign_types::to_canonical_json(&Value::Object(map)).unwrap_or_default()
}

/// Signs a SET payload with the log's key.
pub fn sign(payload: &[u8], key: &PrivateKey) -> Result<Vec<u8>, TlogError> {
    key.sign_message(log_scheme(key.key_type()), payload)
        .map_err(|source| TlogError::Crypto {
            what: "signing the signed entry timestamp",
            source,
        })
}

/// Verifies a SET over `payload` with the log's key.
pub fn verify(payload: &[u8], signature: &[u8], key: &PublicKey) -> Result<(), TlogError> {
    key.verify_message(log_scheme(key.key_type()), payload, signature)
        .map_err(|e| TlogError::SignedEntryTimestamp {
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_canonical() {
        assert_eq!(
            payload("eyJ9", 1_700_000_000, "c0d2", 12),
            br#"{"body":"eyJ9","integratedTime":1700000000,"logID":"c0d2","logIndex":12}"#
        );
    }

    #[test]
    fn sign_and_verify() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let p = payload("eyJ9", 1, "ab", 2);
        let sig = sign(&p, &key).unwrap();
        verify(&p, &sig, &key.public_key()).unwrap();
        assert!(verify(&payload("eyJ9", 1, "ab", 3), &sig, &key.public_key()).is_err());
        let other = PrivateKey::generate_ecdsa_p256().unwrap();
        assert!(verify(&p, &sig, &other.public_key()).is_err());
        assert!(verify(&p, b"junk", &key.public_key()).is_err());
    }
}
