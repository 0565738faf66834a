//! The Fulcio client against the fake Fulcio: Go's request, the parsed answer, and every
//! hostile answer refused by `IssuedCertificate::check` before anything is signed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey};
use cosign_keyless::oidc::IdentityToken;
use cosign_keyless::{CertificateCheck, FulcioClient, IssuedCertificate, KeylessError, Service};
use cosign_trust::sct::Sct;
use serde_json::json;

use crate::fake_fulcio::{FakeFulcio, Mode};
use crate::{assert_no_token, email_token, http, jwt, now};

async fn issue(
    mode: Mode,
    key: &PrivateKey,
) -> (FakeFulcio, Result<IssuedCertificate, KeylessError>) {
    let fulcio = FakeFulcio::start(mode).await;
    let (_, token) = email_token();
    let client = FulcioClient::new(fulcio.url(), http()).unwrap();
    let result = client.signing_certificate(&token, key).await;
    (fulcio, result)
}

#[tokio::test]
async fn request_is_gos_and_an_embedded_sct_certificate_passes() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let fulcio = FakeFulcio::start(Mode::Embedded).await;
    let (raw, token) = email_token();
    // A trailing slash is dropped, as it would make Go's URL `//api/v2/..`.
    let client = FulcioClient::new(&format!("{}/", fulcio.url()), http()).unwrap();
    assert_eq!(
        client.endpoint(),
        format!("{}/api/v2/signingCert", fulcio.url())
    );
    let issued = client.signing_certificate(&token, &key).await.unwrap();

    let requests = fulcio.server.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/api/v2/signingCert");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {raw}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    let pem = key.public_key().to_pem();
    let proof = body["publicKeyRequest"]["proofOfPossession"]
        .as_str()
        .unwrap()
        .to_owned();
    // Exactly sigstore-go's body: no `credentials` (the token goes in the header only).
    assert_eq!(
        body,
        json!({"publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": pem},
            "proofOfPossession": proof,
        }})
    );
    assert!(!String::from_utf8_lossy(&req.body).contains(&raw));
    // The proof signs the verified email (not `sub`), ECDSA P-256 SHA-256.
    key.public_key()
        .verify_message(
            cosign_crypto::SignatureScheme::EcdsaP256Sha256,
            b"alice@example.com",
            &STANDARD.decode(&proof).unwrap(),
        )
        .unwrap();

    assert_eq!(issued.chain.len(), 2, "intermediate and root");
    assert_eq!(issued.leaf_pem(), issued.leaf.to_pem());
    assert_eq!(issued.chain_pem(), fulcio.pki.ca.chain_pem());
    assert!(issued.detached_sct.is_none());
    issued
        .check(&key.public_key(), &fulcio.pki.root, now(), false)
        .unwrap();
}

#[tokio::test]
async fn proof_of_possession_signs_sub_without_email_and_names_each_key_type() {
    for (key_type, algorithm) in [
        (KeyType::Ed25519, "ED25519"),
        (KeyType::EcdsaP384, "ECDSA"),
        (KeyType::Rsa { bits: 2048 }, "RSA"),
    ] {
        let key = PrivateKey::generate(key_type).unwrap();
        let fulcio = FakeFulcio::start(Mode::Embedded).await;
        let raw = jwt(&json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:octo/app:ref:refs/heads/main",
            "aud": "sigstore",
            "exp": now() + 600,
        }));
        let token = IdentityToken::parse(&raw).unwrap();
        let client = FulcioClient::new(fulcio.url(), http()).unwrap();
        let result = client.signing_certificate(&token, &key).await;
        let req = &fulcio.server.requests()[0];
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body["publicKeyRequest"]["publicKey"]["algorithm"],
            algorithm
        );
        // The fake verified the proof over `sub` with the key's default scheme (pure
        // Ed25519, ECDSA P-384 SHA-384, RSA PKCS#1 v1.5 SHA-256), as Fulcio does.
        match key_type {
            KeyType::Rsa { .. } => {
                let e = result.unwrap_err();
                assert!(
                    matches!(
                        e,
                        KeylessError::Status {
                            service: Service::Fulcio,
                            status: 500,
                            ..
                        }
                    ),
                    "{e}"
                );
                assert_eq!(fulcio.server.requests().len(), 2, "a 500 is retried once");
            }
            _ => result
                .unwrap()
                .check(&key.public_key(), &fulcio.pki.root, now(), false)
                .unwrap(),
        }
    }
}

#[tokio::test]
async fn an_unverified_email_fails_before_any_request() {
    let fulcio = FakeFulcio::start(Mode::Embedded).await;
    let raw = jwt(
        &json!({"iss": "https://i", "sub": "s", "email": "a@b.example", "email_verified": false}),
    );
    let token = IdentityToken::parse(&raw).unwrap();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let client = FulcioClient::new(fulcio.url(), http()).unwrap();
    let e = client.signing_certificate(&token, &key).await.unwrap_err();
    assert!(matches!(e, KeylessError::Subject(_)), "{e}");
    assert!(e.to_string().contains("not verified"), "{e}");
    assert!(fulcio.server.requests().is_empty());
}

#[tokio::test]
async fn a_detached_sct_is_the_add_chain_json_and_is_verified() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let (fulcio, issued) = issue(Mode::Detached, &key).await;
    let issued = issued.unwrap();
    let json = issued.detached_sct.clone().expect("a detached SCT");
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["sct_version"], 0);
    Sct::from_json(&json).unwrap();
    assert!(!issued.leaf_pem().is_empty());
    issued
        .check(&key.public_key(), &fulcio.pki.root, now(), false)
        .unwrap();

    let (fulcio, issued) = issue(Mode::DetachedUntrustedLog, &key).await;
    let e = issued
        .unwrap()
        .check(&key.public_key(), &fulcio.pki.root, now(), false)
        .unwrap_err();
    assert!(
        matches!(
            e,
            KeylessError::Certificate {
                check: CertificateCheck::Sct,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("detached"), "{e}");
}

#[tokio::test]
async fn the_leaf_alone_passes_with_an_empty_chain() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let (fulcio, issued) = issue(Mode::LeafOnly, &key).await;
    let issued = issued.unwrap();
    assert!(issued.chain.is_empty());
    assert_eq!(issued.chain_pem(), "");
    issued
        .check(&key.public_key(), &fulcio.pki.root, now(), false)
        .unwrap();
}

#[tokio::test]
async fn hostile_certificates_are_refused_before_signing() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    for (mode, check, words) in [
        (
            Mode::OtherKey,
            CertificateCheck::PublicKey,
            "the signing key is",
        ),
        (Mode::UntrustedCa, CertificateCheck::Chain, "rogue-fulcio"),
        (Mode::NoSct, CertificateCheck::Sct, "no SCT"),
        (Mode::UntrustedSct, CertificateCheck::Sct, "embedded"),
        (Mode::CopiedSct, CertificateCheck::Sct, "embedded"),
        (Mode::NotCodeSigning, CertificateCheck::Usage, "codeSigning"),
        (
            Mode::ForeignChain,
            CertificateCheck::Chain,
            "returned chain",
        ),
        (Mode::Expired, CertificateCheck::Chain, "not valid at"),
    ] {
        let (fulcio, issued) = issue(mode.clone(), &key).await;
        let issued = issued.unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let e = issued
            .check(&key.public_key(), &fulcio.pki.root, now(), false)
            .unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(&e, KeylessError::Certificate { check: c, .. } if *c == check),
            "{mode:?}: {text}"
        );
        assert!(text.contains(words), "{mode:?}: {text}");
        // --insecure-ignore-sct skips the SCT alone.
        let ignoring = issued.check(&key.public_key(), &fulcio.pki.root, now(), true);
        match check {
            CertificateCheck::Sct => ignoring.unwrap(),
            _ => assert!(ignoring.is_err(), "{mode:?}"),
        }
    }
}

#[tokio::test]
async fn a_certificate_is_checked_at_the_given_time() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let (fulcio, issued) = issue(Mode::Embedded, &key).await;
    let e = issued
        .unwrap()
        .check(&key.public_key(), &fulcio.pki.root, now() + 3600, false)
        .unwrap_err();
    assert!(
        matches!(
            e,
            KeylessError::Certificate {
                check: CertificateCheck::Chain,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn fulcio_errors_carry_status_and_message_never_the_token() {
    let (raw, token) = email_token();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    // grpc-gateway's error JSON: the message is kept; a server echoing the token gets it
    // redacted, whole or in parts.
    let echo = json!({"code": 3, "message": format!("There was an error processing the identity token {raw}"), "details": []}).to_string();
    let payload = raw.split('.').nth(1).unwrap().to_owned();
    for (status, body, words) in [
        (
            400,
            echo,
            "There was an error processing the identity token",
        ),
        (
            401,
            format!("unauthorized: payload {payload}"),
            "unauthorized: payload",
        ),
        (
            403,
            "<html>forbidden</html>".to_owned(),
            "<html>forbidden</html>",
        ),
    ] {
        let fulcio = FakeFulcio::start(Mode::Status(status, body)).await;
        let client = FulcioClient::new(fulcio.url(), http()).unwrap();
        let e = client.signing_certificate(&token, &key).await.unwrap_err();
        match &e {
            KeylessError::Status {
                service,
                status: s,
                message,
            } => {
                assert_eq!(*service, Service::Fulcio);
                assert_eq!(*s, status);
                assert!(message.contains(words), "{message}");
            }
            other => panic!("{other}"),
        }
        assert!(
            e.to_string()
                .starts_with(&format!("Fulcio returned {status}: ")),
            "{e}"
        );
        assert_no_token(&e.to_string(), &raw);
        assert_no_token(&format!("{e:?}"), &raw);
        assert_eq!(fulcio.server.requests().len(), 1, "a 4xx is not retried");
    }
}

#[tokio::test]
async fn server_errors_are_retried_once_then_reported() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    for status in [503, 429] {
        let (fulcio, result) = issue(Mode::Status(status, "busy".into()), &key).await;
        let e = result.unwrap_err();
        assert_eq!(e.to_string(), format!("Fulcio returned {status}: busy"));
        assert_eq!(
            fulcio.server.requests().len(),
            2,
            "one retry, as sigstore-go"
        );
    }
}

#[tokio::test]
async fn unusable_answers_are_refused() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    for (mode, words) in [
        (Mode::Garbage, "not a SigningCertificate"),
        (Mode::NoCertificates, "no certificates"),
    ] {
        let (_fulcio, result) = issue(mode, &key).await;
        let e = result.unwrap_err();
        assert!(
            matches!(
                e,
                KeylessError::BadResponse {
                    service: Service::Fulcio,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains(words), "{e}");
    }
    for body in [
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["not a PEM"]}}}),
        json!({"signedCertificateDetachedSct": {"chain": {"certificates": []}}}),
        json!({}),
    ] {
        let e = IssuedCertificate::from_response(body.to_string().as_bytes()).unwrap_err();
        assert!(matches!(e, KeylessError::BadResponse { .. }), "{e}");
    }
}

#[tokio::test]
async fn transport_failures_and_bad_urls_hold_no_token() {
    let (raw, token) = email_token();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = FulcioClient::new(&format!("http://127.0.0.1:{port}"), http()).unwrap();
    let e = client.signing_certificate(&token, &key).await.unwrap_err();
    assert!(
        matches!(
            e,
            KeylessError::Transport {
                service: Service::Fulcio,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    assert_no_token(&e.to_string(), &raw);
    for bad in ["fulcio.sigstore.dev", "ftp://fulcio.example", ""] {
        assert!(matches!(
            FulcioClient::new(bad, http()),
            Err(KeylessError::Config { .. })
        ));
    }
}
