//! Cross-checks against the `openssl` command line (OpenSSL 3): encodings and signatures.

use std::path::Path;

use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};

use crate::support::{generated_keys, openssl, openssl_ok, pem, pem_body, read};

/// Plain private keys whose encodings OpenSSL can show us.
const KEY_FILES: [&str; 7] = [
    "third-party/ecdsa_private.key",
    "third-party/ed25519_private.key",
    "third-party/rsa_private.key",
    "openssl/rsa2048_pkcs1.key",
    "openssl/p384_sec1.key",
    "openssl/p521_pkcs8.key",
    "openssl/p256_cert.key",
];

fn digest_flag(scheme: SignatureScheme) -> &'static str {
    match scheme {
        SignatureScheme::EcdsaP256Sha256 | SignatureScheme::RsaPkcs1Sha256 => "-sha256",
        SignatureScheme::EcdsaP384Sha384 => "-sha384",
        _ => "-sha512",
    }
}

fn write_key(dir: &Path, key: &PrivateKey) {
    let text = pem("PRIVATE KEY", &key.to_pkcs8_der().unwrap());
    std::fs::write(dir.join("key.pem"), text).unwrap();
    std::fs::write(dir.join("pub.pem"), key.public_key().to_pem()).unwrap();
}

#[test]
fn public_key_pem_equals_openssl_pkey_pubout() {
    // OpenSSL 3.0 cannot read the PKCS#8 v2 Ed25519 fixture; its key is checked through our
    // re-encoding in `ed25519_pkcs8_is_gos_v1_form`.
    for file in KEY_FILES.into_iter().filter(|f| !f.contains("ed25519")) {
        let key = PrivateKey::from_pem(&read(file)).unwrap();
        let path = crate::support::data(file);
        let theirs = openssl(
            Path::new("."),
            &["pkey", "-in", path.to_str().unwrap(), "-pubout"],
        );
        assert_eq!(
            key.public_key().to_pem(),
            String::from_utf8(theirs).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn pkcs8_equals_openssl_for_ecdsa_and_rsa() {
    // OpenSSL and Go write the same PKCS#8 for these (EC: no inner parameters, public key
    // included; RSA: rsaEncryption with NULL).
    for file in [
        "third-party/ecdsa_private.key",
        "third-party/rsa_private.key",
        "openssl/rsa2048_pkcs1.key",
        "openssl/p384_sec1.key",
        "openssl/p521_pkcs8.key",
    ] {
        let key = PrivateKey::from_pem(&read(file)).unwrap();
        let path = crate::support::data(file);
        let theirs = openssl(
            Path::new("."),
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-outform",
                "DER",
                "-in",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(*key.to_pkcs8_der().unwrap(), theirs, "{file}");
    }
}

#[test]
fn ed25519_pkcs8_is_gos_v1_form() {
    // Go's MarshalPKCS8PrivateKey writes version 0 with the seed only, even if the input had
    // the public key (PKCS#8 v2).
    let key = PrivateKey::from_pem(&read("third-party/ed25519_private.key")).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let original = pem_body(&read("third-party/ed25519_private.key"));
    assert_eq!(der.len(), 48);
    assert_eq!(
        &der[..16],
        hex::decode("302e020100300506032b657004220420").unwrap()
    );
    assert_eq!(der[16..], original[16..48]);
    // OpenSSL reads it back to the same public key.
    let dir = tempfile::tempdir().unwrap();
    write_key(dir.path(), &key);
    let theirs = openssl(dir.path(), &["pkey", "-in", "key.pem", "-pubout"]);
    assert_eq!(
        key.public_key().to_pem(),
        String::from_utf8(theirs).unwrap()
    );
}

#[test]
fn our_signatures_verify_with_openssl() {
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let mut keys = generated_keys();
    keys.push(PrivateKey::from_pem(&read("third-party/rsa_private.key")).unwrap());
    for key in keys {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_key(d, &key);
        std::fs::write(d.join("msg"), &msg).unwrap();
        std::fs::write(d.join("other"), b"another message").unwrap();
        let scheme = key.key_type().default_scheme(false);
        let sig = key.sign_message(scheme, &msg).unwrap();
        std::fs::write(d.join("sig"), &sig).unwrap();
        let check = |file: &str| {
            if key.key_type() == KeyType::Ed25519 {
                openssl_ok(
                    d,
                    &[
                        "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", file,
                        "-sigfile", "sig",
                    ],
                )
            } else {
                openssl_ok(
                    d,
                    &[
                        "dgst",
                        digest_flag(scheme),
                        "-verify",
                        "pub.pem",
                        "-signature",
                        "sig",
                        file,
                    ],
                )
            }
        };
        assert!(check("msg"), "{} {scheme}", key.key_type());
        assert!(!check("other"), "{} {scheme}", key.key_type());
        // OpenSSL also reads our PKCS#8 private key.
        let theirs = openssl(d, &["pkey", "-in", "key.pem", "-pubout"]);
        assert_eq!(
            key.public_key().to_pem(),
            String::from_utf8(theirs).unwrap()
        );
    }
}

#[test]
fn openssl_signatures_verify_with_ours() {
    let msg = b"signed by openssl".repeat(1000);
    for key in generated_keys() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_key(d, &key);
        std::fs::write(d.join("msg"), &msg).unwrap();
        let scheme = key.key_type().default_scheme(false);
        if key.key_type() == KeyType::Ed25519 {
            openssl(
                d,
                &[
                    "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "msg", "-out", "sig",
                ],
            );
        } else {
            openssl(
                d,
                &[
                    "dgst",
                    digest_flag(scheme),
                    "-sign",
                    "key.pem",
                    "-out",
                    "sig",
                    "msg",
                ],
            );
        }
        let sig = std::fs::read(d.join("sig")).unwrap();
        let public = key.public_key();
        public
            .verify_message(scheme, &msg, &sig)
            .unwrap_or_else(|e| panic!("{} {scheme}: {e}", key.key_type()));
        assert!(
            public
                .verify_message(scheme, b"something else", &sig)
                .is_err()
        );
    }
}

#[test]
fn pkcs1_rsa_public_key_pem() {
    let path = crate::support::data("openssl/rsa2048_pkcs1.key");
    let theirs = openssl(
        Path::new("."),
        &["rsa", "-in", path.to_str().unwrap(), "-RSAPublicKey_out"],
    );
    assert!(theirs.starts_with(b"-----BEGIN RSA PUBLIC KEY-----"));
    let public = PublicKey::from_pem(&theirs).unwrap();
    let key = PrivateKey::from_pem(&read("openssl/rsa2048_pkcs1.key")).unwrap();
    assert_eq!(public, key.public_key());
    assert_eq!(public.key_type(), KeyType::Rsa { bits: 2048 });
}

#[test]
fn openssl_certificate_public_key() {
    let path = crate::support::data("openssl/p256_cert.pem");
    let theirs = openssl(
        Path::new("."),
        &["x509", "-in", path.to_str().unwrap(), "-pubkey", "-noout"],
    );
    let ours = PublicKey::from_pem(&read("openssl/p256_cert.pem")).unwrap();
    assert_eq!(ours.to_pem(), String::from_utf8(theirs).unwrap());
}

#[test]
fn pkcs8_always_carries_the_public_key_like_go() {
    // SEC1 without the optional public key: Go's MarshalPKCS8PrivateKey would still write it.
    let dir = tempfile::tempdir().unwrap();
    let path = crate::support::data("openssl/p384_sec1.key");
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            path.to_str().unwrap(),
            "-no_public",
            "-out",
            "nopub.pem",
        ],
    );
    let nopub = std::fs::read(dir.path().join("nopub.pem")).unwrap();
    let full = PrivateKey::from_pem(&read("openssl/p384_sec1.key")).unwrap();
    let stripped = PrivateKey::from_pem(&nopub).unwrap();
    assert_eq!(stripped.public_key(), full.public_key());
    assert_eq!(
        *stripped.to_pkcs8_der().unwrap(),
        *full.to_pkcs8_der().unwrap()
    );
}
