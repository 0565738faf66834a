//! TUF public keys and signature checks against a role's threshold.
//!
//! Supported (what Sigstore's repositories and go-tuf/python-tuf write):
//! - `ecdsa` / `ecdsa-sha2-nistp256` keys with scheme `ecdsa-sha2-nistp256` (P-256, SHA-256,
//!   ASN.1 DER signatures), and the same for `nistp384`; the public key as a PEM
//!   SubjectPublicKeyInfo or, as old go-tuf wrote it, the hex uncompressed point;
//! - `ed25519` keys with scheme `ed25519`, the public key as 64 hex characters.
//!
//! Other key types (e.g. `rsa` with `rsassa-pss-sha256`) are read but never count towards a
//! threshold; the error then says why.

use std::collections::{BTreeMap, BTreeSet};

use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use serde::Deserialize;

use crate::TrustError;

/// A key as listed in root or delegations metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct Key {
    /// `ecdsa`, `ecdsa-sha2-nistp256`, `ed25519`, `rsa` ...
    pub keytype: String,
    /// `ecdsa-sha2-nistp256`, `ed25519`, `rsassa-pss-sha256` ...
    pub scheme: String,
    /// The public key.
    pub keyval: KeyVal,
}

/// The public part of a [`Key`].
#[derive(Clone, Debug, Deserialize)]
pub struct KeyVal {
    /// PEM or hex, depending on the key type.
    pub public: String,
}

/// One signature of a metadata file.
#[derive(Clone, Debug, Deserialize)]
pub struct Signature {
    /// The ID of the key that made it, as listed in the metadata.
    pub keyid: String,
    /// Hex-encoded signature bytes (may be empty in files still being signed).
    pub sig: String,
}

/// A role's key IDs and threshold.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Role {
    /// Key IDs allowed to sign for the role.
    pub keyids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u64,
}

const P256_SPKI_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
const P384_SPKI_PREFIX: &str = "3076301006072a8648ce3d020106052b81040022036200";
const ED25519_SPKI_PREFIX: &str = "302a300506032b6570032100";

impl Key {
    /// The verifying key and scheme, or why this key cannot be used.
    pub fn verifier(&self) -> Result<(PublicKey, SignatureScheme), String> {
        let (want, scheme) = match (self.keytype.as_str(), self.scheme.as_str()) {
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                (KeyType::EcdsaP256, SignatureScheme::EcdsaP256Sha256)
            }
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                (KeyType::EcdsaP384, SignatureScheme::EcdsaP384Sha384)
            }
            ("ed25519", "ed25519") => (KeyType::Ed25519, SignatureScheme::Ed25519),
            (keytype, scheme) => {
                return Err(format!(
                    "unsupported key type {keytype:?} with scheme {scheme:?}"
                ));
            }
        };
        let public = self.keyval.public.trim();
        let key = if public.starts_with("-----BEGIN") {
            PublicKey::from_pem(public.as_bytes()).map_err(|e| e.to_string())?
        } else {
            let raw = hex::decode(public).map_err(|e| format!("public key is not hex: {e}"))?;
            let prefix = match (want, raw.len()) {
                (KeyType::EcdsaP256, 65) => P256_SPKI_PREFIX,
                (KeyType::EcdsaP384, 97) => P384_SPKI_PREFIX,
                (KeyType::Ed25519, 32) => ED25519_SPKI_PREFIX,
                _ => {
                    return Err(format!(
                        "a {} byte public key does not fit {want}",
                        raw.len()
                    ));
                }
            };
            let mut der = hex::decode(prefix).map_err(|e| e.to_string())?;
            der.extend_from_slice(&raw);
            PublicKey::from_spki_der(&der).map_err(|e| e.to_string())?
        };
        if key.key_type() != want {
            return Err(format!(
                "the public key is {}, not {want} as its key type says",
                key.key_type()
            ));
        }
        Ok((key, scheme))
    }
}

/// Checks that `message` (the canonical `signed` part) carries valid signatures of at least
/// `role.threshold` distinct keys of `role`. Signatures by other keys, repeated key IDs, the
/// same public key listed under several key IDs, empty or bad signatures and unusable keys
/// count once or not at all.
pub(crate) fn verify_threshold(
    file: &str,
    role_name: &str,
    role: &Role,
    keys: &BTreeMap<String, Key>,
    signatures: &[Signature],
    message: &[u8],
) -> Result<(), TrustError> {
    let mut valid = 0usize;
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut counted_keys = BTreeSet::new();
    for keyid in &role.keyids {
        if !seen.insert(keyid.as_str()) {
            continue;
        }
        let Some(sig) = signatures.iter().find(|s| &s.keyid == keyid) else {
            continue;
        };
        if sig.sig.is_empty() {
            continue;
        }
        let short = keyid.get(..8).unwrap_or(keyid);
        let Some(key) = keys.get(keyid) else {
            problems.push(format!("key {short} is not listed"));
            continue;
        };
        let (public, scheme) = match key.verifier() {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("key {short}: {e}"));
                continue;
            }
        };
        let Ok(bytes) = hex::decode(&sig.sig) else {
            problems.push(format!("signature by key {short} is not hex"));
            continue;
        };
        match public.verify_message(scheme, message, &bytes) {
            Ok(()) => {
                if counted_keys.insert(public.to_spki_der()) {
                    valid += 1;
                }
            }
            Err(_) => problems.push(format!("signature by key {short} does not verify")),
        }
    }
    let threshold = role.threshold;
    if threshold >= 1 && u64::try_from(valid).unwrap_or(u64::MAX) >= threshold {
        return Ok(());
    }
    let detail = if problems.is_empty() {
        String::new()
    } else {
        problems.truncate(5);
        format!("; {}", problems.join("; "))
    };
    Err(TrustError::Threshold {
        file: file.to_owned(),
        role: role_name.to_owned(),
        valid,
        threshold,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use cosign_crypto::PrivateKey;

    use super::*;

    fn ed25519_key(private: &PrivateKey) -> Key {
        let spki = private.public_key().to_spki_der();
        Key {
            keytype: "ed25519".to_owned(),
            scheme: "ed25519".to_owned(),
            keyval: KeyVal {
                public: hex::encode(&spki[spki.len() - 32..]),
            },
        }
    }

    fn sig(keyid: &str, private: &PrivateKey, message: &[u8]) -> Signature {
        Signature {
            keyid: keyid.to_owned(),
            sig: hex::encode(
                private
                    .sign_message(SignatureScheme::Ed25519, message)
                    .unwrap(),
            ),
        }
    }

    #[test]
    fn one_key_under_two_ids_counts_once() {
        let a = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let b = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let message = b"signed";
        let keys = BTreeMap::from([
            ("id1".to_owned(), ed25519_key(&a)),
            ("id2".to_owned(), ed25519_key(&a)),
            ("id3".to_owned(), ed25519_key(&b)),
        ]);
        let role = Role {
            keyids: vec!["id1".to_owned(), "id2".to_owned(), "id3".to_owned()],
            threshold: 2,
        };
        let twice = [sig("id1", &a, message), sig("id2", &a, message)];
        let err = verify_threshold("f", "root", &role, &keys, &twice, message).unwrap_err();
        assert!(
            matches!(err, TrustError::Threshold { valid: 1, .. }),
            "{err:?}"
        );
        let distinct = [sig("id1", &a, message), sig("id3", &b, message)];
        verify_threshold("f", "root", &role, &keys, &distinct, message).unwrap();
        // A repeated signature entry for one key ID counts once too.
        let repeated = [sig("id3", &b, message), sig("id3", &b, message)];
        assert!(verify_threshold("f", "root", &role, &keys, &repeated, message).is_err());
        // And a signature over another message does not count.
        let other = [sig("id1", &a, b"other"), sig("id3", &b, message)];
        assert!(verify_threshold("f", "root", &role, &keys, &other, message).is_err());
    }

    #[test]
    fn unsupported_and_mismatched_keys_are_explained() {
        let rsa = Key {
            keytype: "rsa".to_owned(),
            scheme: "rsassa-pss-sha256".to_owned(),
            keyval: KeyVal {
                public: String::new(),
            },
        };
        assert!(rsa.verifier().unwrap_err().contains("unsupported key type"));
        let p256 = PrivateKey::generate_ecdsa_p256().unwrap();
        let as_ed25519 = Key {
            keytype: "ed25519".to_owned(),
            scheme: "ed25519".to_owned(),
            keyval: KeyVal {
                public: p256.public_key().to_pem(),
            },
        };
        assert!(as_ed25519.verifier().unwrap_err().contains("not Ed25519"));
    }
}
