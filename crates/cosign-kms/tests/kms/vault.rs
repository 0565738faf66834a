//! Vault transit: OpenBao in dev mode, and the lying server.

use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};
use cosign_kms::{KmsConfig, KmsProvider, Secret, VaultConfig, create_key, open_signer};
use serde_json::json;
use test_support::OpenBao;

use crate::canned::Canned;
use crate::{assert_err, block_on, open_err, sign_and_verify, signature_does_not_verify};

const VAULT: &str = "HashiCorp Vault transit";

fn config(addr: String, token: &str) -> KmsConfig {
    KmsConfig {
        vault: VaultConfig {
            vault_addr: Some(addr),
            vault_token: Some(Secret::new(token)),
            ..VaultConfig::default()
        },
        ..KmsConfig::default()
    }
}

#[test]
fn openbao_keys_public_key_sign_create_and_errors() {
    let bao = OpenBao::start();
    let cfg = config(bao.addr(), bao.token());
    bao.create_key("ec", "ecdsa-p256");
    bao.create_key("rsa", "rsa-2048");
    bao.create_key("ed", "ed25519");
    for (name, scheme) in [
        ("ec", SignatureScheme::EcdsaP256Sha256),
        ("rsa", SignatureScheme::RsaPkcs1Sha256),
    ] {
        let expected = PublicKey::from_pem(bao.public_key_pem(name, 1).as_bytes()).unwrap();
        for uri in [format!("hashivault://{name}"), format!("openbao://{name}")] {
            let signer = block_on(open_signer(KmsProvider::Vault, &uri, &cfg)).unwrap();
            sign_and_verify(&*signer, scheme, &expected);
        }
    }
    // Rotation: a signer opened before keeps signing with the version it exported.
    let before = block_on(open_signer(KmsProvider::Vault, "hashivault://ec", &cfg)).unwrap();
    bao.rotate("ec");
    let v1 = PublicKey::from_pem(bao.public_key_pem("ec", 1).as_bytes()).unwrap();
    sign_and_verify(&*before, SignatureScheme::EcdsaP256Sha256, &v1);
    let v2 = PublicKey::from_pem(bao.public_key_pem("ec", 2).as_bytes()).unwrap();
    let after = block_on(open_signer(KmsProvider::Vault, "hashivault://ec", &cfg)).unwrap();
    sign_and_verify(&*after, SignatureScheme::EcdsaP256Sha256, &v2);

    let made = block_on(create_key(KmsProvider::Vault, "hashivault://made", &cfg)).unwrap();
    assert!(made.created);
    assert_eq!(made.public_key.key_type(), KeyType::EcdsaP256);
    assert_eq!(
        made.public_key.to_pem(),
        PublicKey::from_pem(bao.public_key_pem("made", 1).as_bytes())
            .unwrap()
            .to_pem()
    );

    let token = bao.token().to_owned();
    let e = open_err(KmsProvider::Vault, "hashivault://missing", &cfg);
    assert_err(
        &e,
        VAULT,
        "hashivault://missing",
        "not found under /v1/transit/",
        &[&token],
    );
    assert_eq!(e.api_error().map(|a| a.status), Some(404));
    let e = open_err(
        KmsProvider::Vault,
        "hashivault://ec",
        &config(bao.addr(), "s.wrong"),
    );
    assert_err(
        &e,
        VAULT,
        "hashivault://ec",
        "permission denied",
        &[&token, "s.wrong"],
    );
    assert_eq!(e.api_error().map(|a| a.status), Some(403));
    let e = open_err(KmsProvider::Vault, "hashivault://ed", &cfg);
    assert_err(
        &e,
        VAULT,
        "hashivault://ed",
        "transit key type ed25519 cannot sign",
        &[&token],
    );
    let e = open_err(KmsProvider::Vault, "hashivault://ec", &KmsConfig::default());
    assert_err(&e, VAULT, "hashivault://ec", "no server address", &[]);
    let e = open_err(
        KmsProvider::Vault,
        "openbao://ec",
        &config("http://127.0.0.1:1".into(), "t"),
    );
    assert_err(
        &e,
        "OpenBao transit",
        "openbao://ec",
        "reading the key",
        &[],
    );
}

fn key_answer(key_type: &str, pem: &str) -> String {
    json!({ "data": { "type": key_type, "latest_version": 1, "keys": { "1": { "public_key": pem } } } })
        .to_string()
}

#[test]
fn a_lying_vault_is_caught() {
    let server = Canned::start();
    let cfg = config(server.url(), "canned-token");
    let uri = "hashivault://liar";
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    server.on(
        "GET /v1/transit/keys/liar",
        200,
        key_answer("ecdsa-p256", &key.public_key().to_pem()),
    );
    let signer = block_on(open_signer(KmsProvider::Vault, uri, &cfg)).unwrap();
    let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"a digest");
    let honest = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &d)
        .unwrap();
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let signed = |sig: String| json!({ "data": { "signature": sig } }).to_string();
    server.on(
        "/v1/transit/sign/liar/sha2-256",
        200,
        signed(format!("vault:v1:{}", b64(&honest))),
    );
    assert_eq!(
        block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap(),
        honest
    );
    let sent = server.requests().into_iter().last().unwrap();
    assert!(
        sent.contains(r#""prehashed":true"#) && sent.contains(r#""key_version":1"#),
        "{sent}"
    );

    server.on(
        "/v1/transit/sign/liar/sha2-256",
        200,
        signed(format!("vault:v1:{}", b64(b"garbage"))),
    );
    signature_does_not_verify(&*signer, SignatureScheme::EcdsaP256Sha256);
    for (status, answer, want) in [
        (
            200,
            signed(format!("vault:v2:{}", b64(&honest))),
            "expected a signature starting \"vault:v1:\"",
        ),
        (
            200,
            signed("vault:v1:!!!".into()),
            "signing: the signature is not base64",
        ),
        (
            200,
            "[]".to_owned(),
            "signing: the server's answer is not the expected JSON",
        ),
        (
            500,
            r#"{"errors":["internal error"]}"#.to_owned(),
            "signing: the server answered 500",
        ),
    ] {
        server.on("/v1/transit/sign/liar/sha2-256", status, answer);
        let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err();
        assert_err(&e, VAULT, uri, want, &["canned-token"]);
    }
    // Public keys that are not the key.
    let p384 = PrivateKey::generate(KeyType::EcdsaP384)
        .unwrap()
        .public_key()
        .to_pem();
    for (answer, want) in [
        (key_answer("ecdsa-p256", &p384), "the public key is"),
        (
            key_answer(
                "ecdsa-p256",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            ),
            "the public key of version 1",
        ),
        (
            key_answer("ecdsa-p256", ""),
            "version 1 of the key has no public key",
        ),
        (
            r#"{"data":{}}"#.to_owned(),
            "reading the key: the server's answer is not the expected JSON",
        ),
    ] {
        server.on("GET /v1/transit/keys/liar", 200, answer);
        assert_err(
            &open_err(KmsProvider::Vault, uri, &cfg),
            VAULT,
            uri,
            want,
            &["canned-token"],
        );
    }
    // The token travels only in its header.
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.contains("canned-token"))
    );
}
