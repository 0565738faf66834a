//! Google Cloud KMS: test-support's documented-API fake, lying when asked to.

use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_kms::{GcpConfig, KmsConfig, KmsProvider, Secret, create_key, open_signer};
use serde_json::json;
use test_support::FakeGcpKms;

use crate::{assert_err, block_on, open_err, sign_and_verify, signature_does_not_verify};

const GCP: &str = "Google Cloud KMS";
const RING: &str = "projects/test-project/locations/global/keyRings/cosign";

fn config(gcp: &FakeGcpKms) -> KmsConfig {
    KmsConfig {
        extra_ca_file: Some(gcp.ca_file()),
        gcp: GcpConfig {
            application_credentials: Some(gcp.credentials_file()),
            endpoint: Some(gcp.endpoint()),
            ..GcpConfig::default()
        },
        ..KmsConfig::default()
    }
}

#[test]
fn fake_gcp_public_key_sign_create_and_errors() {
    let gcp = FakeGcpKms::start();
    let cfg = config(&gcp);
    let ec = gcp.add_key(RING, "ec", "EC_SIGN_P256_SHA256");
    let rsa = gcp.add_key(RING, "rsa", "RSA_SIGN_PKCS1_2048_SHA256");
    let p384 = gcp.add_key(RING, "p384", "EC_SIGN_P384_SHA384");
    gcp.add_version(&ec, "ENABLED");
    gcp.add_version(&ec, "DISABLED");
    for (key, version, scheme) in [
        (&ec, 2, SignatureScheme::EcdsaP256Sha256),
        (&rsa, 1, SignatureScheme::RsaPkcs1Sha256),
        (&p384, 1, SignatureScheme::EcdsaP384Sha384),
    ] {
        let expected = PublicKey::from_pem(gcp.public_key_pem(key, version).as_bytes()).unwrap();
        // No version: the highest ENABLED one.
        let uri = format!("gcpkms://{key}");
        let signer = block_on(open_signer(KmsProvider::Gcp, &uri, &cfg)).unwrap();
        sign_and_verify(&*signer, scheme, &expected);
    }
    let v1 = PublicKey::from_pem(gcp.public_key_pem(&ec, 1).as_bytes()).unwrap();
    let uri = format!("gcpkms://{ec}/cryptoKeyVersions/1");
    let signer = block_on(open_signer(KmsProvider::Gcp, &uri, &cfg)).unwrap();
    sign_and_verify(&*signer, SignatureScheme::EcdsaP256Sha256, &v1);

    // Creation of ring, key and version; then found as it is.
    let uri =
        "gcpkms://projects/test-project/locations/global/keyRings/new/cryptoKeys/made".to_owned();
    let made = block_on(create_key(KmsProvider::Gcp, &uri, &cfg)).unwrap();
    assert!(made.created);
    assert_eq!(made.public_key.key_type(), KeyType::EcdsaP256);
    let again = block_on(create_key(KmsProvider::Gcp, &uri, &cfg)).unwrap();
    assert!(!again.created);
    assert_eq!(again.public_key, made.public_key);

    let uri = format!("gcpkms://{RING}/cryptoKeys/missing");
    let e = open_err(KmsProvider::Gcp, &uri, &cfg);
    assert_err(&e, GCP, &uri, "key not found", &[]);
    assert_eq!(e.api_error().map(|a| a.code.as_str()), Some("NOT_FOUND"));
    let uri = format!("gcpkms://{ec}/cryptoKeyVersions/3");
    assert_err(
        &open_err(KmsProvider::Gcp, &uri, &cfg),
        GCP,
        &uri,
        "is DISABLED, not ENABLED",
        &[],
    );
    // A token the server did not issue.
    let mut wrong = cfg.clone();
    wrong.gcp.access_token = Some(Secret::new("ya29.not-issued"));
    let uri = format!("gcpkms://{ec}");
    let e = open_err(KmsProvider::Gcp, &uri, &wrong);
    assert_err(&e, GCP, &uri, "permission denied", &["ya29.not-issued"]);
    assert_eq!(e.api_error().map(|a| a.status), Some(401));
    assert_err(
        &open_err(KmsProvider::Gcp, &uri, &KmsConfig::default()),
        GCP,
        &uri,
        "no Google credentials",
        &[],
    );
    assert!(gcp.violations().is_empty(), "{:?}", gcp.violations());
}

#[test]
fn a_lying_gcp_is_caught() {
    let gcp = FakeGcpKms::start();
    let cfg = config(&gcp);
    let key = gcp.add_key(RING, "liar", "EC_SIGN_P256_SHA256");
    let uri = format!("gcpkms://{key}");
    let signer = block_on(open_signer(KmsProvider::Gcp, &uri, &cfg)).unwrap();
    gcp.set_lying(true);
    signature_does_not_verify(&*signer, SignatureScheme::EcdsaP256Sha256);
    gcp.set_lying(false);

    let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"a digest");
    let sign = ":asymmetricSign";
    for (status, answer, want) in [
        (
            500,
            json!({"error": {"code": 500, "message": "backend error", "status": "INTERNAL"}})
                .to_string(),
            "signing: the server answered 500",
        ),
        (
            200,
            "not json".to_owned(),
            "signing: the server's answer is not the expected JSON",
        ),
        (
            200,
            json!({"signature": "AAAA", "signatureCrc32c": "1", "verifiedDigestCrc32c": true})
                .to_string(),
            "signatureCrc32c does not match",
        ),
        (
            200,
            json!({"signature": "AAAA", "verifiedDigestCrc32c": false}).to_string(),
            "did not confirm the digest's checksum",
        ),
        (
            200,
            json!({"signature": "@@", "verifiedDigestCrc32c": true}).to_string(),
            "signing: the signature is not base64",
        ),
    ] {
        gcp.answer_next(sign, status, &answer);
        let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err();
        assert_err(&e, GCP, &uri, want, &[]);
    }
    let e = {
        gcp.answer_next(sign, 500, "{}");
        block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err()
    };
    assert_eq!(e.api_error().map(|a| a.status), Some(500));
    // The fake is honest again.
    let expected = PublicKey::from_pem(gcp.public_key_pem(&key, 1).as_bytes()).unwrap();
    sign_and_verify(&*signer, SignatureScheme::EcdsaP256Sha256, &expected);

    // Public keys that are not the key.
    let p384 = cosign_crypto::PrivateKey::generate(KeyType::EcdsaP384)
        .unwrap()
        .public_key()
        .to_pem();
    // pemCrc32c is checked when present.
    for (answer, want) in [
        (json!({ "pem": p384 }).to_string(), "the public key is"),
        (
            json!({ "pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" })
                .to_string(),
            "fetching the public key",
        ),
        (
            json!({ "pem": p384, "pemCrc32c": "12345" }).to_string(),
            "pemCrc32c does not match",
        ),
        (
            json!({}).to_string(),
            "fetching the public key: the answer has no pem",
        ),
    ] {
        gcp.answer_next("/publicKey", 200, &answer);
        assert_err(
            &open_err(KmsProvider::Gcp, &uri, &cfg),
            GCP,
            &uri,
            want,
            &[],
        );
    }
    // The token endpoint fails.
    gcp.answer_next("/token", 500, r#"{"error":"internal_failure"}"#);
    let e = open_err(KmsProvider::Gcp, &uri, &cfg);
    assert_err(&e, GCP, &uri, "getting an access token", &[]);
    assert_eq!(
        e.api_error().map(|a| a.code.as_str()),
        Some("internal_failure")
    );
    assert!(gcp.violations().is_empty(), "{:?}", gcp.violations());
}
