//! Keys made by Go cosign and sigstore-rs load, with the right types and byte-exact PKCS#8.

use cosign_crypto::{CryptoError, KeyType, PrivateKey, decrypt_private_key};

use crate::support::{independent_decrypt, read};

const GO_EMPTY: &str = "third-party/cosign_generated_encrypted_empty_private.key";
const ECDSA_ENC: &str = "third-party/ecdsa_encrypted_private.key";
const ED25519_ENC: &str = "third-party/ed25519_encrypted_private.key";
const RSA_ENC: &str = "third-party/rsa_encrypted_private.key";

#[test]
fn go_generated_key_with_empty_password() {
    let pem = read(GO_EMPTY);
    assert!(pem.starts_with(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let key = decrypt_private_key(&pem, b"").unwrap();
    assert_eq!(key.key_type(), KeyType::EcdsaP256);
    // Our PKCS#8 encoding is byte for byte what Go's MarshalPKCS8PrivateKey wrote.
    assert_eq!(*key.to_pkcs8_der().unwrap(), independent_decrypt(&pem, b""));
}

#[test]
fn sigstore_rs_encrypted_keys_with_password_123() {
    for (file, label, expected) in [
        (
            ECDSA_ENC,
            "ENCRYPTED COSIGN PRIVATE KEY",
            KeyType::EcdsaP256,
        ),
        (
            ED25519_ENC,
            "ENCRYPTED SIGSTORE PRIVATE KEY",
            KeyType::Ed25519,
        ),
        (
            RSA_ENC,
            "ENCRYPTED SIGSTORE PRIVATE KEY",
            KeyType::Rsa { bits: 4096 },
        ),
    ] {
        let pem = read(file);
        // (Some of these files have CRLF line ends.)
        assert!(
            pem.starts_with(format!("-----BEGIN {label}-----").as_bytes()),
            "{file}"
        );
        let key = decrypt_private_key(&pem, b"123").unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.key_type(), expected, "{file}");
        // Re-encoding what we read and parsing it again gives the same key.
        let again = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.public_key(), key.public_key(), "{file}");
    }
}

#[test]
fn wrong_password_is_decryption_failed() {
    for (file, wrong) in [
        (GO_EMPTY, &b"x"[..]),
        (ECDSA_ENC, b""),
        (ED25519_ENC, b"1234"),
        (RSA_ENC, b"12"),
    ] {
        let err = decrypt_private_key(&read(file), wrong).unwrap_err();
        assert!(
            matches!(err, CryptoError::DecryptionFailed),
            "{file}: {err:?}"
        );
        assert_eq!(err.to_string(), "decrypt: encrypted: decryption failed");
    }
}

#[test]
fn plain_private_keys_load() {
    for (file, expected) in [
        ("third-party/ecdsa_private.key", KeyType::EcdsaP256),
        ("third-party/ed25519_private.key", KeyType::Ed25519),
        ("third-party/rsa_private.key", KeyType::Rsa { bits: 4096 }),
        ("openssl/rsa2048_pkcs1.key", KeyType::Rsa { bits: 2048 }),
        ("openssl/p384_sec1.key", KeyType::EcdsaP384),
        ("openssl/p521_pkcs8.key", KeyType::EcdsaP521),
        ("openssl/p256_cert.key", KeyType::EcdsaP256),
    ] {
        let key = PrivateKey::from_pem(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.key_type(), expected, "{file}");
        assert_eq!(key.public_key().key_type(), expected, "{file}");
    }
}

#[test]
fn encrypted_and_plain_forms_are_not_interchangeable() {
    assert!(matches!(
        PrivateKey::from_pem(&read(ECDSA_ENC)),
        Err(CryptoError::UnsupportedPemType(t)) if t == "ENCRYPTED COSIGN PRIVATE KEY"
    ));
    assert!(matches!(
        decrypt_private_key(&read("third-party/ecdsa_private.key"), b"123"),
        Err(CryptoError::UnsupportedPemType(t)) if t == "PRIVATE KEY"
    ));
}

#[test]
fn debug_shows_no_key_material() {
    let key = PrivateKey::from_pem(&read("third-party/ed25519_private.key")).unwrap();
    assert_eq!(format!("{key:?}"), "PrivateKey(Ed25519)");
    let public = format!("{:?}", key.public_key());
    assert!(
        public.starts_with("PublicKey { type: Ed25519, hint: "),
        "{public}"
    );
}
