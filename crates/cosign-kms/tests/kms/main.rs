//! cosign-kms on its own, without the CLI: key references, and for every provider the public
//! key, signing a digest (checked here with the public key), key creation and the errors, against
//! moto (AWS KMS), OpenBao (Vault transit), test-support's Google Cloud KMS and Azure Key Vault
//! fakes, SoftHSM2 (PKCS#11), and a lying plain-HTTP server ([`canned`]) that answers whatever a
//! case needs (server errors, malformed JSON, garbage signatures and public keys).

// A test binary: a failure is a panic, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod aws;
mod azure;
mod canned;
mod gcp;
mod pkcs11;
mod refs;
mod vault;

use std::future::Future;

use cosign_crypto::{PublicKey, SignatureScheme};
use cosign_kms::{KmsError, KmsProvider, RemoteSigner};
use cosign_types::{Digest, HashAlgorithm};

/// Runs `f` on a fresh runtime (the servers of test-support run on their own).
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The digest of `msg` with `alg`.
pub fn digest(alg: HashAlgorithm, msg: &[u8]) -> Digest {
    cosign_crypto::hash(alg, msg)
}

/// Signs a fresh digest with `signer` and checks the signature with `expected` (the public key
/// as the provider's own tooling exported it) and with the signer's public key.
pub fn sign_and_verify(
    signer: &dyn RemoteSigner,
    scheme: SignatureScheme,
    expected: &PublicKey,
) -> Vec<u8> {
    assert_eq!(signer.public_key(), expected, "{}", signer.reference());
    let alg = scheme.prehash().unwrap();
    let d = digest(alg, b"a digest signed by cosign-kms's own tests");
    let sig = block_on(signer.sign_digest(scheme, &d)).unwrap();
    expected
        .verify_digest(scheme, &d, &sig)
        .unwrap_or_else(|e| panic!("{}: signature does not verify: {e}", signer.reference()));
    // And not over another digest.
    let other = digest(alg, b"something else");
    assert!(expected.verify_digest(scheme, &other, &sig).is_err());
    sig
}

/// Asserts that the signature `signer` returns for a digest does not verify (a lying provider:
/// the crate hands the signature on, its callers check it).
pub fn signature_does_not_verify(signer: &dyn RemoteSigner, scheme: SignatureScheme) {
    let d = digest(scheme.prehash().unwrap(), b"a digest");
    match block_on(signer.sign_digest(scheme, &d)) {
        Ok(sig) => assert!(
            signer.public_key().verify_digest(scheme, &d, &sig).is_err(),
            "a lying provider's signature verified"
        ),
        Err(e) => panic!("the lie was not a signature: {e}"),
    }
}

/// Opens the key, expecting an error; returns it.
pub fn open_err(provider: KmsProvider, uri: &str, cfg: &cosign_kms::KmsConfig) -> KmsError {
    match block_on(cosign_kms::open_signer(provider, uri, cfg)) {
        Ok(s) => panic!("{uri}: opened {}", s.reference()),
        Err(e) => e,
    }
}

/// Asserts an error names the provider and key (`<provider> (<uri>): `) and says `want`, and
/// that no secret shows.
#[track_caller]
pub fn assert_err(e: &KmsError, provider: &str, uri: &str, want: &str, secrets: &[&str]) {
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{provider} ({uri}): ")),
        "{want}: names no provider and key: {text}"
    );
    assert!(text.contains(want), "want {want:?}: {text}");
    for s in secrets {
        assert!(!text.contains(s), "secret in {text}");
        assert!(!format!("{e:?}").contains(s), "secret in {e:?}");
    }
}

/// Walks an error's sources: their messages, outermost first (the error itself not included).
pub fn sources(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out
}
