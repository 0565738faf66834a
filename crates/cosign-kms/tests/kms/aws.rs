//! AWS KMS: moto (SigV4 checked) and the lying server.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};
use cosign_kms::{AwsConfig, KmsConfig, KmsProvider, Secret, create_key, open_signer, public_key};
use serde_json::json;
use test_support::{MOTO_ACCESS_KEY_ID, MOTO_REGION, Moto};

use crate::canned::Canned;
use crate::{assert_err, block_on, open_err, sign_and_verify, signature_does_not_verify};

const AWS: &str = "AWS KMS";

fn config(moto: &Moto) -> KmsConfig {
    KmsConfig {
        aws: AwsConfig {
            access_key_id: Some(MOTO_ACCESS_KEY_ID.to_owned()),
            secret_access_key: Some(Secret::new(moto.secret_access_key())),
            region: Some(MOTO_REGION.to_owned()),
            ca_bundle: Some(moto.ca_file()),
            ..AwsConfig::default()
        },
        ..KmsConfig::default()
    }
}

#[test]
fn moto_keys_public_key_sign_and_create() {
    let moto = Moto::start();
    let cfg = config(&moto);
    let ep = moto.endpoint();
    let ec = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", Some("alias/ec"));
    let rsa = moto.create_key("RSA_2048", "SIGN_VERIFY", None);
    let ec_pub = PublicKey::from_pem(ec.public_key_pem.as_bytes()).unwrap();
    let rsa_pub = PublicKey::from_pem(rsa.public_key_pem.as_bytes()).unwrap();

    for uri in [
        format!("awskms://{ep}/alias/ec"),
        format!("awskms://{ep}/{}", ec.key_id),
        format!("awskms://{ep}/{}", ec.arn),
    ] {
        let got = block_on(public_key(KmsProvider::Aws, &uri, &cfg)).unwrap();
        assert_eq!(got, ec_pub, "{uri}");
        let signer = block_on(open_signer(KmsProvider::Aws, &uri, &cfg)).unwrap();
        assert_eq!(signer.reference(), format!("AWS KMS key {uri}"));
        sign_and_verify(&*signer, SignatureScheme::EcdsaP256Sha256, &ec_pub);
        // A scheme that does not fit the key is refused before any request.
        let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"x");
        let e = block_on(signer.sign_digest(SignatureScheme::RsaPkcs1Sha256, &d)).unwrap_err();
        assert_err(&e, AWS, &uri, "cannot sign a", &[]);
        // A digest of another algorithm than the scheme's is refused too.
        let d384 = crate::digest(cosign_crypto::HashAlgorithm::Sha384, b"x");
        let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d384)).unwrap_err();
        assert_err(&e, AWS, &uri, "cannot sign a sha384 digest", &[]);
    }
    let uri = format!("awskms://{ep}/{}", rsa.key_id);
    let signer = block_on(open_signer(KmsProvider::Aws, &uri, &cfg)).unwrap();
    sign_and_verify(&*signer, SignatureScheme::RsaPkcs1Sha256, &rsa_pub);

    // Creation: an alias is made once, then found; no key in the URI makes a named key.
    let uri = format!("awskms://{ep}/alias/made");
    let made = block_on(create_key(KmsProvider::Aws, &uri, &cfg)).unwrap();
    assert!(made.created);
    assert_eq!(made.reference, uri);
    assert_eq!(made.public_key.key_type(), KeyType::EcdsaP256);
    let again = block_on(create_key(KmsProvider::Aws, &uri, &cfg)).unwrap();
    assert!(!again.created);
    assert_eq!(again.public_key, made.public_key);
    let signer = block_on(open_signer(KmsProvider::Aws, &uri, &cfg)).unwrap();
    sign_and_verify(&*signer, SignatureScheme::EcdsaP256Sha256, &made.public_key);
    let fresh = block_on(create_key(
        KmsProvider::Aws,
        &format!("awskms://{ep}/"),
        &cfg,
    ))
    .unwrap();
    assert!(fresh.created);
    assert!(fresh.reference.starts_with(&format!("awskms://{ep}/")));
    let reopened = block_on(public_key(KmsProvider::Aws, &fresh.reference, &cfg)).unwrap();
    assert_eq!(reopened, fresh.public_key);
    // A key ID cannot be chosen.
    let e = block_on(create_key(
        KmsProvider::Aws,
        &format!("awskms://{ep}/{}", rsa.key_id),
        &cfg,
    ))
    .unwrap_err();
    assert!(e.to_string().contains("a key ID cannot be chosen"), "{e}");
}

#[test]
fn moto_errors_name_the_provider_and_key() {
    let moto = Moto::start();
    let cfg = config(&moto);
    let ep = moto.endpoint();
    let secret = moto.secret_access_key().to_owned();
    let sym = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", None);
    let k1 = moto.create_key("ECC_SECG_P256K1", "SIGN_VERIFY", None);
    let disabled = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", Some("alias/off"));
    moto.disable_key(&disabled.key_id);

    // Unknown key: "key not found", and the answer is the structured cause.
    let uri = format!("awskms://{ep}/alias/missing");
    let e = open_err(KmsProvider::Aws, &uri, &cfg);
    assert_err(&e, AWS, &uri, "DescribeKey: key not found", &[&secret]);
    let api = e.api_error().expect("an API error");
    assert_eq!(api.code, "NotFoundException");
    assert_eq!(api.status, 400);
    assert!(std::error::Error::source(&e).is_some());

    // Wrong secret: moto's SigV4 check refuses it.
    let mut wrong = cfg.clone();
    wrong.aws.secret_access_key = Some(Secret::new("not-the-secret"));
    let uri = format!("awskms://{ep}/alias/off");
    let e = open_err(KmsProvider::Aws, &uri, &wrong);
    assert_err(
        &e,
        AWS,
        &uri,
        "permission denied",
        &[&secret, "not-the-secret"],
    );
    assert!(e.to_string().contains("InvalidSignatureException"), "{e}");

    for (uri, want) in [
        (format!("awskms://{ep}/alias/off"), "the key is Disabled"),
        (
            format!("awskms://{ep}/{}", sym.key_id),
            "usage is ENCRYPT_DECRYPT",
        ),
        (
            format!("awskms://{ep}/{}", k1.key_id),
            "key spec ECC_SECG_P256K1 is not supported",
        ),
    ] {
        let e = open_err(KmsProvider::Aws, &uri, &cfg);
        assert_err(&e, AWS, &uri, want, &[&secret]);
    }

    // No credentials, no region, nothing listening.
    let mut none = cfg.clone();
    none.aws.secret_access_key = None;
    let uri = format!("awskms://{ep}/alias/off");
    assert_err(
        &open_err(KmsProvider::Aws, &uri, &none),
        AWS,
        &uri,
        "no AWS credentials",
        &[],
    );
    let mut no_region = cfg.clone();
    no_region.aws.region = None;
    assert_err(
        &open_err(KmsProvider::Aws, &uri, &no_region),
        AWS,
        &uri,
        "no AWS region",
        &[],
    );
    let uri = "awskms://127.0.0.1:1/alias/x";
    let e = open_err(KmsProvider::Aws, uri, &cfg);
    assert_err(&e, AWS, uri, "DescribeKey", &[&secret]);
    assert!(
        !crate::sources(&e).is_empty(),
        "the transport error is the cause"
    );
}

// ---- the lying server ------------------------------------------------------------------------

const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn describe(spec: &str) -> String {
    json!({ "KeyMetadata": {
        "Arn": ARN, "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "KeyState": "Enabled",
        "KeyUsage": "SIGN_VERIFY", "KeySpec": spec, "SigningAlgorithms": ["ECDSA_SHA_256"],
    }})
    .to_string()
}

fn public_key_answer(spki: &[u8]) -> String {
    json!({ "KeyId": ARN, "PublicKey": STANDARD.encode(spki) }).to_string()
}

fn canned_config(server: &Canned) -> KmsConfig {
    KmsConfig {
        aws: AwsConfig {
            access_key_id: Some("AKIDCANNED".to_owned()),
            secret_access_key: Some(Secret::new("canned-secret")),
            region: Some("us-east-1".to_owned()),
            endpoint_url: Some(format!("{}/", server.url())),
            ..AwsConfig::default()
        },
        ..KmsConfig::default()
    }
}

#[test]
fn a_lying_aws_endpoint_is_caught() {
    let server = Canned::start();
    let cfg = canned_config(&server);
    let uri = "awskms:///alias/liar";
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let spki = key.public_key().to_spki_der();
    server
        .on("TrentService.DescribeKey", 200, describe("ECC_NIST_P256"))
        .on("TrentService.GetPublicKey", 200, public_key_answer(&spki));

    // An honest answer first, to show the server is good enough to sign through.
    let d = crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"a digest");
    let sig = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &d)
        .unwrap();
    server.on(
        "TrentService.Sign",
        200,
        json!({ "Signature": STANDARD.encode(&sig) }).to_string(),
    );
    let signer = block_on(open_signer(KmsProvider::Aws, uri, &cfg)).unwrap();
    let got = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap();
    assert_eq!(got, sig);
    let sign_request = server.requests().into_iter().last().unwrap();
    assert!(
        sign_request.contains(r#""MessageType":"DIGEST""#),
        "{sign_request}"
    );
    assert!(
        sign_request.contains(&STANDARD.encode(d.as_bytes())),
        "{sign_request}"
    );

    // A signature of something else: handed on, and it does not verify.
    let other = key
        .sign_digest(
            SignatureScheme::EcdsaP256Sha256,
            &crate::digest(cosign_crypto::HashAlgorithm::Sha256, b"else"),
        )
        .unwrap();
    server.on(
        "TrentService.Sign",
        200,
        json!({ "Signature": STANDARD.encode(other) }).to_string(),
    );
    signature_does_not_verify(&*signer, SignatureScheme::EcdsaP256Sha256);

    // Signatures that are not signatures.
    for (answer, want) in [
        (
            json!({ "Signature": "***" }).to_string(),
            "Sign: Signature is not base64",
        ),
        (
            json!({ "KeyId": ARN }).to_string(),
            "Sign: the answer has no Signature",
        ),
        (
            "{not json".to_owned(),
            "Sign: the server's answer is not the expected JSON",
        ),
        (
            "<html>oops</html>".to_owned(),
            "Sign: the server answered 500",
        ),
    ] {
        let status = if answer.starts_with('<') { 500 } else { 200 };
        server.on("TrentService.Sign", status, answer);
        let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err();
        assert_err(&e, AWS, uri, want, &["canned-secret"]);
    }
    let e = block_on(signer.sign_digest(SignatureScheme::EcdsaP256Sha256, &d)).unwrap_err();
    assert_eq!(e.api_error().map(|a| a.status), Some(500));

    // Public keys that are not the key.
    let p384 = PrivateKey::generate(KeyType::EcdsaP384)
        .unwrap()
        .public_key()
        .to_spki_der();
    for (answer, want) in [
        (public_key_answer(&p384), "the public key is"),
        (
            public_key_answer(b"garbage"),
            "GetPublicKey: unusable public key",
        ),
        (
            json!({ "PublicKey": "%%%" }).to_string(),
            "GetPublicKey: PublicKey is not base64",
        ),
    ] {
        server.on("TrentService.GetPublicKey", 200, answer);
        let e = open_err(KmsProvider::Aws, uri, &cfg);
        assert_err(&e, AWS, uri, want, &["canned-secret"]);
    }
    server.on("TrentService.GetPublicKey", 200, public_key_answer(&spki));
    // Malformed key metadata.
    server.on(
        "TrentService.DescribeKey",
        200,
        json!({ "KeyMetadata": {} }).to_string(),
    );
    assert_err(
        &open_err(KmsProvider::Aws, uri, &cfg),
        AWS,
        uri,
        "DescribeKey: the answer has no Arn",
        &[],
    );
    server.on("TrentService.DescribeKey", 503, "");
    let e = open_err(KmsProvider::Aws, uri, &cfg);
    assert_err(&e, AWS, uri, "DescribeKey: the server answered 503", &[]);
}
