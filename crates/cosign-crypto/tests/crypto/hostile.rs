//! Hostile and broken key files are refused with the right error, and scrypt never runs on
//! unbounded parameters.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{CryptoError, PrivateKey, PublicKey, decrypt_private_key};

use crate::support::{pem, read};

const LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";

fn key_file(kdf: &str, n: u64, r: u64, p: u64, cipher: &str, salt: &[u8], nonce: &[u8]) -> String {
    let json = format!(
        r#"{{"kdf":{{"name":"{kdf}","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"{}"}},"cipher":{{"name":"{cipher}","nonce":"{}"}},"ciphertext":"{}"}}"#,
        STANDARD.encode(salt),
        STANDARD.encode(nonce),
        STANDARD.encode([0u8; 64]),
    );
    pem(LABEL, json.as_bytes())
}

fn good_shape(n: u64, r: u64, p: u64) -> String {
    key_file("scrypt", n, r, p, "nacl/secretbox", &[1; 32], &[2; 24])
}

#[test]
fn unbounded_scrypt_parameters_are_refused_before_scrypt() {
    // Each of these would take minutes or terabytes if scrypt ran.
    for (n, r, p) in [
        (1u64 << 20, 8, 1),
        (1 << 40, 8, 1),
        (1 << 62, 1 << 30, 1 << 30),
        (65536, 16, 1),
        (65536, 8, 1000),
        (3, 8, 1),
        (0, 0, 0),
    ] {
        let err = decrypt_private_key(good_shape(n, r, p).as_bytes(), b"").unwrap_err();
        match err {
            CryptoError::UnsupportedKdfParams {
                n: en,
                r: er,
                p: ep,
            } => assert_eq!((en, er, ep), (n, r, p)),
            other => panic!("N={n} r={r} p={p}: {other:?}"),
        }
    }
    let err = decrypt_private_key(good_shape(1 << 20, 8, 1).as_bytes(), b"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "decrypt: encrypted: unsupported scrypt parameters: N=1048576, r=8, p=1"
    );
}

#[test]
fn accepted_parameters_reach_the_cipher() {
    // Right shape, garbage ciphertext: scrypt runs (N=2^15) and the box does not open.
    assert!(matches!(
        decrypt_private_key(good_shape(32768, 8, 1).as_bytes(), b""),
        Err(CryptoError::DecryptionFailed)
    ));
}

#[test]
fn unknown_kdf_and_cipher() {
    let f = key_file(
        "argon2id",
        65536,
        8,
        1,
        "nacl/secretbox",
        &[1; 32],
        &[2; 24],
    );
    let err = decrypt_private_key(f.as_bytes(), b"").unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedKdf(n) if n == "argon2id"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        r#"decrypt: encrypted: unknown kdf name "argon2id""#
    );

    // An unknown KDF is refused even with absurd parameters.
    let f = key_file(
        "pbkdf2",
        1 << 60,
        8,
        1,
        "nacl/secretbox",
        &[1; 32],
        &[2; 24],
    );
    assert!(matches!(
        decrypt_private_key(f.as_bytes(), b""),
        Err(CryptoError::UnsupportedKdf(_))
    ));

    let f = key_file("scrypt", 65536, 8, 1, "aes-256-gcm", &[1; 32], &[2; 24]);
    let err = decrypt_private_key(f.as_bytes(), b"").unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedCipher(n) if n == "aes-256-gcm"),
        "{err:?}"
    );
}

#[test]
fn wrong_salt_or_nonce_sizes() {
    for (salt, nonce) in [
        (&[1u8; 16][..], &[2u8; 24][..]),
        (&[1; 33], &[2; 24]),
        (&[1; 32], &[2; 12]),
        (&[1; 32], &[]),
    ] {
        let f = key_file("scrypt", 65536, 8, 1, "nacl/secretbox", salt, nonce);
        assert!(
            matches!(
                decrypt_private_key(f.as_bytes(), b""),
                Err(CryptoError::MalformedKeyFile(_))
            ),
            "salt {} nonce {}",
            salt.len(),
            nonce.len()
        );
    }
}

#[test]
fn broken_bodies() {
    let good = r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="},"cipher":{"name":"nacl/secretbox","nonce":"AgICAgICAgICAgICAgICAgICAgICAgIC"},"ciphertext":"AAAA"}"#;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated JSON", good.as_bytes()[..good.len() / 2].to_vec()),
        ("not JSON", b"\x00\x01 this is not json".to_vec()),
        ("empty", Vec::new()),
        ("JSON array", b"[1,2,3]".to_vec()),
        ("missing params", br#"{"kdf":{"name":"scrypt","salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#.to_vec()),
        ("negative N", good.replace("65536", "-1").into_bytes()),
        ("huge N", good.replace("65536", "1e400").into_bytes()),
        ("bad salt base64", good.replace("AQEBAQEB", "!!!!!!!!").into_bytes()),
        ("unpadded salt base64", good.replace("AQE=", "AQE").into_bytes()),
        ("bad ciphertext base64", good.replace(r#""AAAA""#, r#""A""#).into_bytes()),
        ("ciphertext shorter than tag", good.into()),
    ];
    for (what, body) in bodies {
        let err = decrypt_private_key(pem(LABEL, &body).as_bytes(), b"").unwrap_err();
        assert!(
            matches!(err, CryptoError::MalformedKeyFile(_)),
            "{what}: {err:?}"
        );
    }
}

#[test]
fn not_pem_or_wrong_type() {
    assert!(matches!(
        decrypt_private_key(b"", b""),
        Err(CryptoError::NoPem)
    ));
    assert!(matches!(
        decrypt_private_key(b"{\"kdf\":{}}", b""),
        Err(CryptoError::NoPem)
    ));
    assert!(matches!(
        decrypt_private_key(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n%%%%\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", b""),
        Err(CryptoError::MalformedPem(_))
    ));
    let wrong = pem("ENCRYPTED PRIVATE KEY", b"{}");
    let err = decrypt_private_key(wrong.as_bytes(), b"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported pem type: ENCRYPTED PRIVATE KEY"
    );
    let err = PrivateKey::from_pem(pem("OPENSSH PRIVATE KEY", b"x").as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "unsupported pem type: OPENSSH PRIVATE KEY");
    let err = PublicKey::from_pem(pem("PRIVATE KEY", b"x").as_bytes()).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedPemType(_)));
}

#[test]
fn weak_rsa_is_refused() {
    for file in ["openssl/rsa1024_pkcs8.key", "openssl/rsa1024_pkcs1.key"] {
        let err = PrivateKey::from_pem(&read(file)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rsa key size too small: 1024 bits (minimum 2048)",
            "{file}"
        );
        assert!(matches!(err, CryptoError::KeyTooWeak(_)));
    }
    assert!(matches!(
        PublicKey::from_pem(&read("openssl/rsa1024_public.pem")),
        Err(CryptoError::KeyTooWeak(_))
    ));
}

#[test]
fn unsupported_curves_are_refused() {
    for (file, curve) in [
        ("openssl/secp256k1_sec1.key", "secp256k1"),
        ("openssl/secp256k1_pkcs8.key", "secp256k1"),
        ("openssl/p224_pkcs8.key", "P-224"),
    ] {
        match PrivateKey::from_pem(&read(file)) {
            Err(CryptoError::UnsupportedCurve(c)) => assert_eq!(c, curve, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
    for (file, curve) in [
        ("openssl/secp256k1_public.pem", "secp256k1"),
        ("openssl/p224_public.pem", "P-224"),
    ] {
        match PublicKey::from_pem(&read(file)) {
            Err(CryptoError::UnsupportedCurve(c)) => assert_eq!(c, curve, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
    assert!(matches!(
        PrivateKey::from_pem(&read("openssl/p256_explicit_sec1.key")),
        Err(CryptoError::UnsupportedCurve(_) | CryptoError::MalformedKey { .. })
    ));
}

#[test]
fn non_signing_algorithms_are_refused() {
    let err = PrivateKey::from_pem(&read("openssl/x25519_pkcs8.key")).unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedKeyAlgorithm(a) if a.starts_with("1.3.101.110")),
        "{err:?}"
    );
}

#[test]
fn garbage_der_never_panics() {
    // Truncations and bit flips of real keys: every call returns, most with an error.
    let mut inputs = Vec::new();
    for file in [
        "third-party/ecdsa_private.key",
        "third-party/ed25519_private.key",
        "openssl/rsa2048_pkcs1.key",
        "openssl/p384_sec1.key",
        "openssl/p256_cert.pem",
    ] {
        let der = crate::support::pem_body(&read(file));
        for cut in 0..der.len() {
            inputs.push(der[..cut].to_vec());
        }
        for i in 0..der.len() {
            let mut flipped = der.clone();
            flipped[i] ^= 0x41;
            inputs.push(flipped);
        }
    }
    for der in &inputs {
        let _ = PrivateKey::from_pkcs8_der(der);
        let _ = PublicKey::from_spki_der(der);
        let _ = PublicKey::from_certificate_der(der);
        for label in ["EC PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY"] {
            let _ = PrivateKey::from_pem(pem(label, der).as_bytes());
        }
        let _ = PublicKey::from_pem(pem("RSA PUBLIC KEY", der).as_bytes());
    }
}

/// A SubjectPublicKeyInfo with any algorithm, parameters and key bits.
fn spki(oid: &str, params: Option<der::asn1::AnyRef<'_>>, key: &[u8]) -> Vec<u8> {
    use der::Encode as _;
    spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: der::asn1::ObjectIdentifier::new(oid).unwrap(),
            parameters: params,
        },
        subject_public_key: der::asn1::BitStringRef::from_bytes(key).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn malformed_public_keys() {
    let p256 = der::asn1::ObjectIdentifier::new("1.2.840.10045.3.1.7").unwrap();
    let good = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    let der = good.to_spki_der();
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 4);

    // Compressed point (Go refuses these too).
    let mut compressed = vec![2 + (point[64] & 1)];
    compressed.extend_from_slice(&point[1..33]);
    let err = PublicKey::from_spki_der(&spki(
        "1.2.840.10045.2.1",
        Some((&p256).into()),
        &compressed,
    ))
    .unwrap_err();
    assert!(matches!(err, CryptoError::MalformedKey { .. }), "{err:?}");

    // Point not on the curve.
    let mut off = point.to_vec();
    off[64] ^= 1;
    let err = PublicKey::from_spki_der(&spki("1.2.840.10045.2.1", Some((&p256).into()), &off))
        .unwrap_err();
    assert!(matches!(err, CryptoError::MalformedKey { .. }), "{err:?}");

    // The same point, well-formed, is accepted and equals the original.
    let ok =
        PublicKey::from_spki_der(&spki("1.2.840.10045.2.1", Some((&p256).into()), point)).unwrap();
    assert_eq!(ok, good);

    // EC key without a curve.
    assert!(matches!(
        PublicKey::from_spki_der(&spki("1.2.840.10045.2.1", None, point)),
        Err(CryptoError::UnsupportedCurve(_))
    ));

    // RSA without the NULL parameters.
    let rsa = PrivateKey::from_pem(&read("openssl/rsa2048_pkcs1.key"))
        .unwrap()
        .public_key();
    let rsa_der = rsa.to_spki_der();
    let pkcs1 = &rsa_der[rsa_der.len() - 270..];
    assert_eq!(PublicKey::from_rsa_pkcs1_der(pkcs1).unwrap(), rsa);
    assert!(matches!(
        PublicKey::from_spki_der(&spki("1.2.840.113549.1.1.1", None, pkcs1)),
        Err(CryptoError::MalformedKey { .. })
    ));
    assert_eq!(
        PublicKey::from_spki_der(&spki(
            "1.2.840.113549.1.1.1",
            Some(der::asn1::AnyRef::NULL),
            pkcs1
        ))
        .unwrap(),
        rsa
    );

    // Ed25519 with parameters or a wrong length.
    let ed = [9u8; 32];
    assert!(
        PublicKey::from_spki_der(&spki("1.3.101.112", Some(der::asn1::AnyRef::NULL), &ed)).is_err()
    );
    assert!(PublicKey::from_spki_der(&spki("1.3.101.112", None, &ed[..31])).is_err());

    // DSA.
    assert!(matches!(
        PublicKey::from_spki_der(&spki("1.2.840.10040.4.1", None, &[1, 2, 3])),
        Err(CryptoError::UnsupportedKeyAlgorithm(_))
    ));
    // Trailing garbage after the SPKI.
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(PublicKey::from_spki_der(&trailing).is_err());
}
