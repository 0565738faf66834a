//! Round trips: key files, PEM, and every signing path against every verification path.

use std::io;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{
    CryptoError, HashAlgorithm, KeyType, MessageSource, PrivateKey, PublicKey, SignatureScheme,
    decrypt_private_key, encrypt_private_key, hash,
};

use crate::support::{generated_keys, independent_decrypt, pem_body, read};

const ALL_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::EcdsaP256Sha256,
    SignatureScheme::EcdsaP384Sha384,
    SignatureScheme::EcdsaP521Sha512,
    SignatureScheme::RsaPkcs1Sha256,
    SignatureScheme::Ed25519,
    SignatureScheme::Ed25519ph,
];

/// Feeds a buffer in 64 KiB chunks and counts the passes.
struct Chunked {
    data: Vec<u8>,
    passes: usize,
}

impl Chunked {
    fn new(data: &[u8]) -> Self {
        Self {
            data: data.to_vec(),
            passes: 0,
        }
    }
}

impl MessageSource for Chunked {
    fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.passes += 1;
        for chunk in self.data.chunks(65_536) {
            sink(chunk);
        }
        Ok(())
    }
}

/// Fails on the given pass (1-based).
struct FailsOn(usize, usize);

impl MessageSource for FailsOn {
    fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.1 += 1;
        sink(b"some bytes");
        if self.1 == self.0 {
            return Err(io::Error::other("disk on fire"));
        }
        Ok(())
    }
}

fn message() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect()
}

fn all_keys() -> Vec<PrivateKey> {
    let mut keys = generated_keys();
    for file in [
        "third-party/ecdsa_private.key",
        "third-party/ed25519_private.key",
        "third-party/rsa_private.key",
    ] {
        keys.push(PrivateKey::from_pem(&read(file)).unwrap());
    }
    keys
}

fn stream_verify(
    public: &PublicKey,
    scheme: SignatureScheme,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let mut verifier = public.stream_verifier(scheme, sig)?;
    for chunk in msg.chunks(10_000) {
        verifier.update(chunk);
    }
    verifier.finish()
}

#[test]
fn generate_encrypt_decrypt() {
    // (Each scrypt run costs ~0.1 s: every key type once, the password variants on one key.)
    for (i, key) in generated_keys().into_iter().enumerate() {
        let passwords: &[&[u8]] = if i == 0 {
            &[b"", b"correct horse", "p\u{e4}ssw\u{f6}rd".as_bytes()]
        } else {
            &[b"pw"]
        };
        for &password in passwords {
            let text = encrypt_private_key(&key, password).unwrap();
            let back = decrypt_private_key(text.as_bytes(), password).unwrap();
            assert_eq!(back.public_key(), key.public_key(), "{}", key.key_type());
            assert_eq!(*back.to_pkcs8_der().unwrap(), *key.to_pkcs8_der().unwrap());
        }
        if i == 0 {
            let text = encrypt_private_key(&key, b"").unwrap();
            assert!(matches!(
                decrypt_private_key(text.as_bytes(), b" "),
                Err(CryptoError::DecryptionFailed)
            ));
        }
    }
}

#[test]
fn encrypted_file_layout_is_cosigns() {
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let text = encrypt_private_key(&key, b"pw").unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(text.ends_with("\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let body_lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let (last, full) = body_lines.split_last().unwrap();
    assert!(full.iter().all(|l| l.len() == 64));
    assert!(!last.is_empty() && last.len() <= 64);

    let json = String::from_utf8(pem_body(text.as_bytes())).unwrap();
    assert!(
        json.starts_with(r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#),
        "{json}"
    );
    assert!(json.contains(r#""},"cipher":{"name":"nacl/secretbox","nonce":""#));
    assert!(json.contains(r#""},"ciphertext":""#) && json.ends_with("\"}"));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let b64 = |v: &serde_json::Value| STANDARD.decode(v.as_str().unwrap()).unwrap();
    assert_eq!(b64(&value["kdf"]["salt"]).len(), 32);
    assert_eq!(b64(&value["cipher"]["nonce"]).len(), 24);
    let pkcs8 = key.to_pkcs8_der().unwrap();
    // secretbox: 16-byte tag + ciphertext of the PKCS#8 DER.
    assert_eq!(b64(&value["ciphertext"]).len(), pkcs8.len() + 16);
    assert_eq!(independent_decrypt(text.as_bytes(), b"pw"), *pkcs8);

    // Fresh salt and nonce every time.
    let again = encrypt_private_key(&key, b"pw").unwrap();
    assert_ne!(text, again);
}

#[test]
fn every_path_verifies_every_other() {
    let msg = message();
    for key in all_keys() {
        let public = key.public_key();
        for scheme in ALL_SCHEMES.into_iter().filter(|s| s.fits(key.key_type())) {
            let label = format!("{} {scheme}", key.key_type());
            let mut source = Chunked::new(&msg);
            let mut sigs = vec![
                key.sign_message(scheme, &msg).unwrap(),
                key.sign_stream(scheme, &mut source).unwrap(),
            ];
            let expected_passes = if scheme.prehash().is_none() { 2 } else { 1 };
            assert_eq!(source.passes, expected_passes, "{label}");
            if let Some(alg) = scheme.prehash() {
                sigs.push(key.sign_digest(scheme, &hash(alg, &msg)).unwrap());
            }
            for sig in &sigs {
                public
                    .verify_message(scheme, &msg, sig)
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                stream_verify(&public, scheme, &msg, sig)
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                if let Some(alg) = scheme.prehash() {
                    public.verify_digest(scheme, &hash(alg, &msg), sig).unwrap();
                }
            }
            if scheme == SignatureScheme::Ed25519 || scheme == SignatureScheme::Ed25519ph {
                // Deterministic schemes: all paths give the same bytes.
                assert!(sigs.windows(2).all(|w| w[0] == w[1]), "{label}");
                assert_eq!(sigs[0].len(), 64);
            }
        }
    }
}

#[test]
fn tampering_is_detected() {
    let msg = message();
    let mut other = msg.clone();
    other[123_456] ^= 1;
    for key in all_keys() {
        let public = key.public_key();
        for scheme in ALL_SCHEMES.into_iter().filter(|s| s.fits(key.key_type())) {
            let sig = key.sign_message(scheme, &msg).unwrap();
            let mut bad_sig = sig.clone();
            let last = bad_sig.len() - 1;
            bad_sig[last] ^= 0x80;
            for (m, s) in [(&other, &sig), (&msg, &bad_sig)] {
                assert!(public.verify_message(scheme, m, s).is_err());
                assert!(stream_verify(&public, scheme, m, s).is_err());
                if let Some(alg) = scheme.prehash() {
                    assert!(matches!(
                        public.verify_digest(scheme, &hash(alg, m), s),
                        Err(CryptoError::InvalidSignature)
                    ));
                }
            }
            for junk in [&[][..], &[0u8; 1][..], &[0u8; 64][..], &[0xffu8; 600][..]] {
                assert!(public.verify_message(scheme, &msg, junk).is_err());
                assert!(stream_verify(&public, scheme, &msg, junk).is_err());
            }
        }
    }
}

#[test]
fn ed25519_signature_matches_the_other_key_never() {
    let a = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let b = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let sig = a.sign_message(SignatureScheme::Ed25519, b"m").unwrap();
    assert!(
        b.public_key()
            .verify_message(SignatureScheme::Ed25519, b"m", &sig)
            .is_err()
    );
    // Pure and prehashed signatures are not interchangeable.
    assert!(
        a.public_key()
            .verify_message(SignatureScheme::Ed25519ph, b"m", &sig)
            .is_err()
    );
}

#[test]
fn scheme_and_digest_mismatches() {
    let ec = PrivateKey::generate_ecdsa_p256().unwrap();
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let d256 = hash(HashAlgorithm::Sha256, b"x");
    let d512 = hash(HashAlgorithm::Sha512, b"x");

    assert!(matches!(
        ec.sign_message(SignatureScheme::EcdsaP384Sha384, b"x"),
        Err(CryptoError::SchemeMismatch {
            key: KeyType::EcdsaP256,
            ..
        })
    ));
    assert!(matches!(
        ec.sign_digest(SignatureScheme::EcdsaP256Sha256, &d512),
        Err(CryptoError::DigestMismatch {
            digest: HashAlgorithm::Sha512,
            ..
        })
    ));
    assert!(matches!(
        ed.sign_digest(SignatureScheme::Ed25519, &d512),
        Err(CryptoError::DigestMismatch { .. })
    ));
    assert!(ed.sign_digest(SignatureScheme::Ed25519ph, &d256).is_err());
    assert!(matches!(
        ed.public_key()
            .verify_digest(SignatureScheme::Ed25519, &d512, &[0; 64]),
        Err(CryptoError::DigestMismatch { .. })
    ));
    assert!(matches!(
        ec.public_key()
            .stream_verifier(SignatureScheme::Ed25519, &[0; 64]),
        Err(CryptoError::SchemeMismatch { .. })
    ));
    let err = ec.sign_message(SignatureScheme::Ed25519, b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "signature scheme ed25519 cannot be used with key type ECDSA P-256"
    );
}

#[test]
fn io_errors_come_back_as_io() {
    let ec = PrivateKey::generate_ecdsa_p256().unwrap();
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
    assert!(matches!(
        ec.sign_stream(SignatureScheme::EcdsaP256Sha256, &mut FailsOn(1, 0)),
        Err(CryptoError::Io(_))
    ));
    for scheme in [SignatureScheme::Ed25519, SignatureScheme::Ed25519ph] {
        for pass in [1, 2] {
            let result = ed.sign_stream(scheme, &mut FailsOn(pass, 0));
            if scheme == SignatureScheme::Ed25519ph && pass == 2 {
                // Prehash schemes read once: there is no second pass to fail.
                assert!(result.is_ok());
                continue;
            }
            let err = result.unwrap_err();
            assert!(
                matches!(err, CryptoError::Io(_)),
                "{scheme} pass {pass}: {err:?}"
            );
        }
    }
    // Slices are sources too.
    let mut slice: &[u8] = b"hello";
    let sig = ed
        .sign_stream(SignatureScheme::Ed25519, &mut slice)
        .unwrap();
    ed.public_key()
        .verify_message(SignatureScheme::Ed25519, b"hello", &sig)
        .unwrap();
}

#[test]
fn public_key_pem_round_trip_and_hint() {
    for key in all_keys() {
        let public = key.public_key();
        let text = public.to_pem();
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(text.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(text.lines().all(|l| l.len() <= 64));
        let back = PublicKey::from_pem(text.as_bytes()).unwrap();
        assert_eq!(back, public);
        assert_eq!(back.key_type(), key.key_type());
        assert_eq!(
            PublicKey::from_spki_der(&public.to_spki_der()).unwrap(),
            public
        );
        assert_eq!(
            public.hint().to_vec(),
            hash(HashAlgorithm::Sha256, &public.to_spki_der()).as_bytes()
        );
    }
}

#[test]
fn certificate_public_key() {
    let from_cert = PublicKey::from_pem(&read("openssl/p256_cert.pem")).unwrap();
    let from_key = PrivateKey::from_pem(&read("openssl/p256_cert.key"))
        .unwrap()
        .public_key();
    assert_eq!(from_cert, from_key);
    let der = pem_body(&read("openssl/p256_cert.pem"));
    assert_eq!(PublicKey::from_certificate_der(&der).unwrap(), from_key);
    // A certificate is not a SubjectPublicKeyInfo.
    assert!(PublicKey::from_spki_der(&der).is_err());
    // With leading text and a second certificate after it, the first block is used.
    let mut chain = b"subject=CN = test\n".to_vec();
    chain.extend_from_slice(&read("openssl/p256_cert.pem"));
    chain.extend_from_slice(&read("openssl/p256_cert.pem"));
    assert_eq!(PublicKey::from_pem(&chain).unwrap(), from_key);
}

#[test]
fn key_type_and_default_schemes_of_fixtures() {
    let rsa = PrivateKey::from_pem(&read("third-party/rsa_private.key")).unwrap();
    assert_eq!(rsa.key_type().to_string(), "RSA 4096");
    assert_eq!(
        rsa.key_type().default_scheme(true),
        SignatureScheme::RsaPkcs1Sha256
    );
    let sig = rsa
        .sign_message(SignatureScheme::RsaPkcs1Sha256, b"x")
        .unwrap();
    assert_eq!(sig.len(), 512);
}
