//! Shared helpers: fixture paths, independent key-file decryption, OpenSSL runner.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey};

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Wraps `der` in a PEM block (Go layout), for building test inputs.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The body of the first PEM block (no validation beyond what the tests need).
pub fn pem_body(text: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(text).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).unwrap()
}

/// Decrypts a cosign key file with scrypt and secretbox directly (an implementation
/// independent of the crate's), returning the plaintext PKCS#8 DER.
pub fn independent_decrypt(pem_text: &[u8], password: &[u8]) -> Vec<u8> {
    use crypto_secretbox::aead::Aead as _;
    use crypto_secretbox::{KeyInit as _, XSalsa20Poly1305};

    let json: serde_json::Value = serde_json::from_slice(&pem_body(pem_text)).unwrap();
    let n = json["kdf"]["params"]["N"].as_u64().unwrap();
    let r = json["kdf"]["params"]["r"].as_u64().unwrap();
    let p = json["kdf"]["params"]["p"].as_u64().unwrap();
    let salt = STANDARD
        .decode(json["kdf"]["salt"].as_str().unwrap())
        .unwrap();
    let nonce = STANDARD
        .decode(json["cipher"]["nonce"].as_str().unwrap())
        .unwrap();
    let ct = STANDARD
        .decode(json["ciphertext"].as_str().unwrap())
        .unwrap();
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r as u32, p as u32).unwrap();
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salt, &params, &mut key).unwrap();
    let cipher = XSalsa20Poly1305::new_from_slice(&key).unwrap();
    let nonce: [u8; 24] = nonce.try_into().unwrap();
    cipher
        .decrypt(&crypto_secretbox::Nonce::from(nonce), ct.as_slice())
        .unwrap()
}

/// Runs openssl with `args` in `dir`; returns stdout, panicking with stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed for the cross-check tests");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether openssl accepts the command (for verifications expected to fail).
pub fn openssl_ok(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed for the cross-check tests")
        .status
        .success()
}

/// One freshly generated key of each supported type.
pub fn generated_keys() -> Vec<PrivateKey> {
    [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa { bits: 2048 },
        KeyType::Ed25519,
    ]
    .into_iter()
    .map(|t| PrivateKey::generate(t).unwrap())
    .collect()
}
