//! PKCS#11 with a real SoftHSM2 token. SoftHSM reads its configuration (`SOFTHSM2_CONF`) once,
//! when the module is initialised, and this crate initialises a module once per process; so
//! each token's checks run in a child process of this test binary ([`child`]), started by the
//! parent test with the token's configuration in its environment. A failing child fails the
//! parent, with the child's output.

use std::process::Command;

use cosign_crypto::{PublicKey, SignatureScheme};
use cosign_kms::{
    KmsError, PinRequest, Pkcs11Error, Pkcs11Pin, Pkcs11Settings, Pkcs11Signer, Pkcs11Uri,
    RemoteSigner, list_keys, list_tokens, read_pkcs11_public_key,
};
use serde_json::{Value, json};
use test_support::{SoftHsmToken, TokenKeyType};

const CHILD_ENV: &str = "COSIGN_KMS_TEST_PKCS11";

#[test]
fn softhsm_token_keys_certificates_pins_and_listings() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let rsa = token.add_key("rsa-key", "02", TokenKeyType::Rsa2048);
    let p384 = token.add_key("p384-key", "03", TokenKeyType::EcP384);
    let (cert_der, cert_pem) = token.certificate_for(&token.key);
    token.import_certificate(&cert_der, "01", "cosign-key");
    let spec = json!({
        "module": token.module,
        "label": token.label,
        "slot": token.slot_id,
        "pin": token.pin,
        "ec_uri": token.uri_without_pin(),
        "ec_pub": token.key.public_key_pem,
        "cert_pem": cert_pem,
        "rsa_uri": token.uri_without_pin_for(&rsa),
        "rsa_pub": rsa.public_key_pem,
        "p384_uri": token.uri_without_pin_for(&p384),
        "p384_pub": p384.public_key_pem,
    });
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pkcs11::child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &token.conf)
        .env(CHILD_ENV, spec.to_string())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

/// The checks, in the child process the parent test starts (`SOFTHSM2_CONF` set).
#[test]
#[ignore = "run by softhsm_token_keys_certificates_pins_and_listings in a child process"]
#[allow(clippy::disallowed_methods)] // the parent's token, handed over in the environment
fn child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        panic!("run by the parent test only");
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let s = |k: &str| spec[k].as_str().unwrap().to_owned();
    let pin = s("pin");
    let module = std::path::PathBuf::from(s("module"));
    let with_pin = Pkcs11Settings {
        pin: Some(Pkcs11Pin::new(pin.clone())),
        ..Pkcs11Settings::default()
    };
    let ec_uri = Pkcs11Uri::parse(&s("ec_uri")).unwrap();
    let ec_pub = PublicKey::from_pem(s("ec_pub").as_bytes()).unwrap();

    // The public key without a PIN (public objects), for verification.
    assert_eq!(
        read_pkcs11_public_key(&ec_uri, &Pkcs11Settings::default()).unwrap(),
        ec_pub
    );

    // No PIN, and a wrong one. First, while no session of this process is logged in: a token
    // logs in all of an application's sessions at once, and this crate takes "already logged
    // in" as success, so a wrong PIN goes unnoticed once a session is logged in.
    let e = Pkcs11Signer::open(&ec_uri, &Pkcs11Settings::default(), None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::PinRequired { .. }), "{e}");
    let wrong = Pkcs11Settings {
        pin: Some(Pkcs11Pin::new("9999")),
        ..Pkcs11Settings::default()
    };
    let e = Pkcs11Signer::open(&ec_uri, &wrong, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::WrongPin { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("logging in to PKCS11 token '{}': incorrect PIN", s("label"))
    );
    assert!(!e.to_string().contains("9999") && !format!("{e:?}").contains("9999"));

    // Signing: EC with the certificate beside the key, RSA, P-384.
    let signer = Pkcs11Signer::open(&ec_uri, &with_pin, None).unwrap();
    assert_eq!(signer.token_label(), s("label"));
    crate::sign_and_verify(&signer, SignatureScheme::EcdsaP256Sha256, &ec_pub);
    assert_eq!(
        signer.certificate_pem().as_deref(),
        Some(s("cert_pem").as_str())
    );
    assert!(!format!("{signer:?}").contains(&pin));
    let ignoring = Pkcs11Settings {
        ignore_certificate: true,
        ..with_pin.clone()
    };
    assert_eq!(
        Pkcs11Signer::open(&ec_uri, &ignoring, None)
            .unwrap()
            .certificate_pem(),
        None
    );
    for (uri, public, scheme) in [
        ("rsa_uri", "rsa_pub", SignatureScheme::RsaPkcs1Sha256),
        ("p384_uri", "p384_pub", SignatureScheme::EcdsaP384Sha384),
    ] {
        let uri = Pkcs11Uri::parse(&s(uri)).unwrap();
        let expected = PublicKey::from_pem(s(public).as_bytes()).unwrap();
        let signer = Pkcs11Signer::open(&uri, &with_pin, None).unwrap();
        crate::sign_and_verify(&signer, scheme, &expected);
        // A scheme that does not fit the key.
        let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"x");
        let wrong = if scheme == SignatureScheme::RsaPkcs1Sha256 {
            SignatureScheme::EcdsaP256Sha256
        } else {
            SignatureScheme::RsaPkcs1Sha256
        };
        let e = crate::block_on(signer.sign_digest(wrong, &d)).unwrap_err();
        assert!(
            matches!(e, KmsError::Pkcs11(Pkcs11Error::Signing { .. })),
            "{e}"
        );
    }

    // PINs: in the URI, from a prompt, missing, wrong.
    let uri_with_pin = Pkcs11Uri::parse(&format!("{}&pin-value={pin}", s("ec_uri"))).unwrap();
    Pkcs11Signer::open(&uri_with_pin, &Pkcs11Settings::default(), None).unwrap();
    let mut asked: Vec<PinRequest> = Vec::new();
    let mut prompt = |req: &PinRequest| {
        asked.push(req.clone());
        Ok(Pkcs11Pin::new(pin.clone()))
    };
    Pkcs11Signer::open(&ec_uri, &Pkcs11Settings::default(), Some(&mut prompt)).unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].token_label, s("label"));
    assert_eq!(asked[0].key_label.as_deref(), Some("cosign-key"));
    // Unknown key and token, and module paths.
    let missing = Pkcs11Uri::parse(&format!(
        "pkcs11:token={};id=%7f;object=missing?module-path={}",
        s("label"),
        module.display()
    ))
    .unwrap();
    let e = Pkcs11Signer::open(&missing, &with_pin, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::KeyNotFound { .. }), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");
    let no_token = Pkcs11Uri::parse(&format!(
        "pkcs11:token=nope;id=%01?module-path={}",
        module.display()
    ))
    .unwrap();
    let e = Pkcs11Signer::open(&no_token, &with_pin, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::TokenNotFound { .. }), "{e}");
    let no_module = Pkcs11Uri::parse(&format!("pkcs11:token={};id=%01", s("label"))).unwrap();
    let e = Pkcs11Signer::open(&no_module, &with_pin, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::NoModulePath), "{e}");
    let bad_module =
        Pkcs11Uri::parse("pkcs11:token=t;id=%01?module-path=/nonexistent/lib.so").unwrap();
    let e = Pkcs11Signer::open(&bad_module, &with_pin, None).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/lib.so"), "{e}");

    // Listings.
    let slot = spec["slot"].as_u64().unwrap();
    let tokens = list_tokens(&module).unwrap();
    assert!(
        tokens
            .iter()
            .any(|t| t.slot_id == slot && t.label == s("label")),
        "{tokens:?}"
    );
    let keys = list_keys(&module, slot, Some(&Pkcs11Pin::new(pin.clone())), None).unwrap();
    assert_eq!(keys.token_label, s("label"));
    let ids: Vec<Vec<u8>> = keys.keys.iter().map(|k| k.id.clone()).collect();
    assert_eq!(ids, [vec![1u8], vec![2], vec![3]]);
    assert_eq!(keys.keys[1].label, b"rsa-key");
    let listed = keys.keys[0].uri.to_string();
    assert!(
        listed.contains("object=cosign-key") && !listed.contains(&pin),
        "{listed}"
    );
    // Signing through a listed URI works.
    let signer = Pkcs11Signer::open(&keys.keys[0].uri, &with_pin, None).unwrap();
    crate::sign_and_verify(&signer, SignatureScheme::EcdsaP256Sha256, &ec_pub);
    let e = list_keys(&module, slot, None, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::PinRequired { .. }), "{e}");
    let e = list_keys(&module, slot + 1000, None, None).unwrap_err();
    assert!(matches!(e, Pkcs11Error::TokenNotFound { .. }), "{e}");
}
