//! Azure Key Vault: test-support's documented-API fake, lying when asked to.

use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_kms::{AzureConfig, KmsConfig, KmsProvider, Secret, create_key, open_signer};
use serde_json::json;
use test_support::{AzureKeySpec, FakeAzureKeyVault};

use crate::{assert_err, block_on, open_err, sign_and_verify, signature_does_not_verify};

const AZURE: &str = "Azure Key Vault";

fn config(az: &FakeAzureKeyVault) -> KmsConfig {
    let env: std::collections::HashMap<String, String> = az.env().into_iter().collect();
    KmsConfig {
        extra_ca_file: Some(env["SSL_CERT_FILE"].clone().into()),
        azure: AzureConfig {
            tenant_id: Some(env["AZURE_TENANT_ID"].clone()),
            client_id: Some(env["AZURE_CLIENT_ID"].clone()),
            client_secret: Some(Secret::new(env["AZURE_CLIENT_SECRET"].clone())),
            authority_host: Some(env["AZURE_AUTHORITY_HOST"].clone()),
        },
        ..KmsConfig::default()
    }
}

#[test]
fn fake_azure_public_key_sign_create_and_errors() {
    let az = FakeAzureKeyVault::start();
    let cfg = config(&az);
    let host = az.vault_host();
    let secret = az.client_secret();
    for (name, spec, scheme) in [
        ("ec", AzureKeySpec::EcP256, SignatureScheme::EcdsaP256Sha256),
        (
            "p384",
            AzureKeySpec::EcP384,
            SignatureScheme::EcdsaP384Sha384,
        ),
        (
            "rsa",
            AzureKeySpec::Rsa2048,
            SignatureScheme::RsaPkcs1Sha256,
        ),
    ] {
        let version = az.add_key(name, spec);
        let expected = PublicKey::from_pem(az.public_key_pem(name).as_bytes()).unwrap();
        for uri in [
            format!("azurekms://{host}/{name}"),
            format!("azurekms://{host}/{name}/{version}"),
        ] {
            let signer = block_on(open_signer(KmsProvider::Azure, &uri, &cfg)).unwrap();
            let sig = sign_and_verify(&*signer, scheme, &expected);
            if spec != AzureKeySpec::Rsa2048 {
                assert_eq!(sig[0], 0x30, "JWS r||s re-encoded as DER");
            }
        }
    }
    let uri = format!("azurekms://{host}/made");
    let made = block_on(create_key(KmsProvider::Azure, &uri, &cfg)).unwrap();
    assert!(made.created);
    assert_eq!(made.public_key.key_type(), KeyType::EcdsaP256);
    let again = block_on(create_key(KmsProvider::Azure, &uri, &cfg)).unwrap();
    assert!(!again.created);
    assert_eq!(again.public_key, made.public_key);

    az.add_key("k1", AzureKeySpec::EcP256K);
    let uri = format!("azurekms://{host}/k1");
    assert_err(
        &open_err(KmsProvider::Azure, &uri, &cfg),
        AZURE,
        &uri,
        "curve P-256K is not supported",
        &[&secret],
    );
    let uri = format!("azurekms://{host}/missing");
    let e = open_err(KmsProvider::Azure, &uri, &cfg);
    assert_err(&e, AZURE, &uri, "key not found", &[&secret]);
    assert_eq!(e.api_error().map(|a| a.code.as_str()), Some("KeyNotFound"));
    let mut wrong = cfg.clone();
    wrong.azure.client_secret = Some(Secret::new("wrong-secret"));
    let uri = format!("azurekms://{host}/ec");
    let e = open_err(KmsProvider::Azure, &uri, &wrong);
    assert_err(
        &e,
        AZURE,
        &uri,
        "invalid_client",
        &[&secret, "wrong-secret"],
    );
    assert_eq!(e.api_error().map(|a| a.status), Some(401));
    assert_err(
        &open_err(KmsProvider::Azure, &uri, &KmsConfig::default()),
        AZURE,
        &uri,
        "no Azure credentials",
        &[],
    );
    assert!(az.violations().is_empty(), "{:?}", az.violations());
}

#[test]
fn a_lying_azure_is_caught() {
    let az = FakeAzureKeyVault::start();
    let cfg = config(&az);
    let version = az.add_key("liar", AzureKeySpec::EcP256);
    let uri = format!("azurekms://{}/liar", az.vault_host());
    let signer = block_on(open_signer(KmsProvider::Azure, &uri, &cfg)).unwrap();
    az.set_lying(true);
    signature_does_not_verify(&*signer, SignatureScheme::EcdsaP256Sha256);
    az.set_lying(false);

    let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"a digest");
    let sign = format!("/keys/liar/{version}/sign");
    for (status, answer, want) in [
        (
            500,
            json!({"error": {"code": "InternalError", "message": "oops"}}).to_string(),
            "signing: the server answered 500",
        ),
        (
            200,
            "<html/>".to_owned(),
            "signing: the server's answer is not the expected JSON",
        ),
        (
            200,
            json!({"value": "AAAA"}).to_string(),
            "an ES256 signature is 64 bytes, got 3",
        ),
        (
            200,
            json!({"value": "!!"}).to_string(),
            "signing: the signature is not base64",
        ),
        (
            200,
            json!({"kid": "x"}).to_string(),
            "signing: the answer has no value",
        ),
    ] {
        az.answer_next(&sign, status, &answer);
        let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err();
        assert_err(&e, AZURE, &uri, want, &[]);
    }
    let expected = PublicKey::from_pem(az.public_key_pem("liar").as_bytes()).unwrap();
    sign_and_verify(&*signer, SignatureScheme::EcdsaP256Sha256, &expected);

    // JWKs that are not the key.
    let kid = format!("https://{}/keys/liar/{version}", az.vault_host());
    for (answer, want) in [
        (
            json!({"key": {"kid": kid, "kty": "oct"}}),
            "key type oct cannot sign",
        ),
        (
            json!({"key": {"kid": kid, "kty": "EC", "crv": "P-256", "x": "AAAA"}}),
            "the key's JWK has no y",
        ),
        (
            json!({"key": {"kid": kid, "kty": "EC", "crv": "P-256", "x": "%%", "y": "AA"}}),
            "the key's JWK field x is not base64",
        ),
        (
            json!({"key": {"kid": kid, "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}),
            "the key's JWK",
        ),
        (
            json!({"key": {"kid": kid, "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "attributes": {"enabled": false}}),
            "the key is disabled",
        ),
        (json!({"nokey": true}), "reading the key: unexpected JSON"),
    ] {
        az.answer_next("/keys/liar", 200, &answer.to_string());
        assert_err(
            &open_err(KmsProvider::Azure, &uri, &cfg),
            AZURE,
            &uri,
            want,
            &[],
        );
    }
    assert!(az.violations().is_empty(), "{:?}", az.violations());
}
