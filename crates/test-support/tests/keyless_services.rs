//! The real keyless path on 127.0.0.1, without any cosign client code: a token from the test
//! OIDC issuer buys a certificate from the real Fulcio (its SCT from our CT log), and the real
//! timestamp authority stamps a signature; cosign-trust verifies both against a trusted root
//! that names the running services.
//!
//! Needs `scripts/install-test-deps.sh` (Fulcio and timestamp-server in
//! `target/test-tools/bin`).
// Test code: a failed unwrap is a failed test; start-up times go to stderr (see --nocapture).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::time::Instant;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_trust::sct::{embedded_scts, verify_embedded_scts};
use cosign_trust::timestamp::TimestampToken;
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::Certificate;
use cosign_trust::x509::chain::verify_leaf_certificate;
use cosign_trust::x509::fulcio::{FulcioExtensions, San, subject_alternative_names};
use serde_json::{Value, json};
use test_support::fulcio::{CtLog, TrustedRootJson, pem, sha256};
use test_support::oidc::OidcIssuer;
use test_support::{
    CtBehaviour, CtLogServer, FulcioCaSource, FulcioOptions, FulcioServer, IssuerType,
    TimestampServer, TlogServer, TrustedIssuer, add_chain_request, timestamp_query,
};

/// An ephemeral P-256 key, and its public key as PEM.
fn ephemeral_key() -> (EcdsaKeyPair, String) {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = key.public_key().as_der().unwrap();
    let pem = pem("PUBLIC KEY", spki.as_ref());
    (key, pem)
}

/// `POST /api/v2/signingCert` with a public key and a proof of possession: a signature over
/// `challenge` (what Fulcio names the principal: the email, or `sub`). Returns the status and
/// the JSON answer.
fn signing_cert(fulcio: &FulcioServer, token: &str, challenge: &str) -> (u16, Value, String) {
    let (key, key_pem) = ephemeral_key();
    let proof = key
        .sign(&SystemRandom::new(), challenge.as_bytes())
        .unwrap();
    let request = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key_pem},
            "proofOfPossession": STANDARD.encode(proof.as_ref()),
        },
    });
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/api/v2/signingCert", fulcio.url()))
        .json(&request)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        key_pem,
    )
}

/// The chain of a `signedCertificateEmbeddedSct` answer.
fn embedded_chain(answer: &Value) -> Vec<Certificate> {
    answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no embedded-SCT chain in {answer}"))
        .iter()
        .map(|c| {
            let mut certs = Certificate::from_pem(c.as_str().unwrap().as_bytes()).unwrap();
            assert_eq!(certs.len(), 1);
            certs.remove(0)
        })
        .collect()
}

fn trusted_root(json: &TrustedRootJson) -> TrustedRoot {
    TrustedRoot::from_json(json.to_json().as_bytes()).unwrap()
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let v = f();
    eprintln!("{what}: {:?}", start.elapsed());
    v
}

#[test]
fn fulcio_issues_a_certificate_with_an_embedded_sct_for_an_email_token() {
    let issuer = OidcIssuer::start();
    let ct = CtLogServer::start();
    let fulcio = timed("Fulcio start (file CA)", || {
        FulcioServer::start(issuer.url(), &ct)
    });

    let (status, answer, key_pem) = signing_cert(&fulcio, &issuer.token(), "alice@example.com");
    assert_eq!(status, 200, "{answer}\n{}", fulcio.log());
    let chain = embedded_chain(&answer);
    // Leaf, the file CA's intermediate and root, as the trust bundle says.
    assert_eq!(chain.len(), 3);
    let bundle = Certificate::from_pem(fulcio.chain_pem().as_bytes()).unwrap();
    assert_eq!(&chain[1..], &bundle[..]);
    let leaf = &chain[0];
    assert_eq!(
        leaf.public_key().unwrap().to_spki_der(),
        cosign_crypto::PublicKey::from_pem(key_pem.as_bytes())
            .unwrap()
            .to_spki_der()
    );
    assert_eq!(
        subject_alternative_names(leaf).unwrap(),
        vec![San::Email("alice@example.com".into())]
    );
    let ext = FulcioExtensions::from_certificate(leaf).unwrap();
    assert_eq!(ext.issuer(), issuer.url());

    // The chain verifies against the trusted root, and so does the SCT with the CT log's key.
    let root = trusted_root(&TrustedRootJson::keyless(&fulcio, &ct, None, None));
    let verified = verify_leaf_certificate(leaf, &root, leaf.not_before()).unwrap();
    assert_eq!(verified.len(), 3);
    assert_eq!(verify_embedded_scts(&verified, &root, 1).unwrap(), 1);
    let scts = embedded_scts(leaf).unwrap();
    assert_eq!(scts.len(), 1);
    assert_eq!(scts[0].log_id, ct.log().log_id());
    assert!(scts[0].extensions.is_empty());

    // Fulcio sent one precertificate chain: the poisoned leaf, the intermediate, the root.
    let sent = ct.submissions();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].precert);
    assert_eq!(sent[0].chain.len(), 3);
    assert_eq!(sent[0].chain[1], chain[1].der());

    // Without the CT log in the trusted root the SCT does not count.
    let no_ct = trusted_root(&TrustedRootJson::new().fulcio(&fulcio));
    assert!(verify_embedded_scts(&verified, &no_ct, 1).is_err());
}

#[test]
fn fulcio_refuses_a_wrong_proof_of_possession_and_a_foreign_token() {
    let issuer = OidcIssuer::start();
    let stranger = OidcIssuer::start();
    let ct = CtLogServer::start();
    let fulcio = FulcioServer::start(issuer.url(), &ct);
    // The proof signs another identity.
    let (status, answer, _) = signing_cert(&fulcio, &issuer.token(), "mallory@example.com");
    assert_eq!(status, 400, "{answer}");
    // A token from an issuer Fulcio does not trust.
    let (status, answer, _) = signing_cert(&fulcio, &stranger.token(), "alice@example.com");
    assert_eq!(status, 400, "{answer}");
    assert!(fulcio.log().contains(&format!(
        "failed to match issuer URL {} from token with any configured providers",
        stranger.url()
    )));
    // An expired token.
    issuer.set_lifetime(-60);
    let (status, answer, _) = signing_cert(&fulcio, &issuer.token(), "alice@example.com");
    assert_eq!(status, 400, "{answer}");
    assert!(
        fulcio.log().contains("token is expired"),
        "{}",
        fulcio.log()
    );
    assert!(ct.submissions().is_empty());
}

#[test]
fn fulcio_with_an_ephemeral_ca_issues_for_a_github_workflow_token() {
    let issuer = OidcIssuer::start();
    let ct = CtLogServer::start();
    let mut options = FulcioOptions::new(vec![TrustedIssuer::new(
        issuer.url(),
        IssuerType::GithubWorkflow,
    )]);
    options.ca = FulcioCaSource::Ephemeral;
    let fulcio = timed("Fulcio start (ephemeral CA)", || {
        FulcioServer::start_with(&ct, options)
    });
    let now = test_support::fulcio::now_unix();
    let sub = "repo:octo/app:ref:refs/heads/main";
    let workflow_ref = "octo/app/.github/workflows/release.yml@refs/heads/main";
    let token = issuer.token_with_claims(&json!({
        "iss": issuer.url(), "aud": "sigstore", "sub": sub,
        "iat": now, "nbf": now - 10, "exp": now + 600,
        "job_workflow_ref": workflow_ref, "job_workflow_sha": "a".repeat(40),
        "sha": "b".repeat(40), "event_name": "push", "repository": "octo/app",
        "workflow": "release", "ref": "refs/heads/main", "runner_environment": "github-hosted",
        "repository_id": "1", "repository_owner": "octo", "repository_owner_id": "2",
        "repository_visibility": "public", "workflow_ref": workflow_ref,
        "workflow_sha": "b".repeat(40), "run_id": "3", "run_attempt": "1",
    }));
    let (status, answer, _) = signing_cert(&fulcio, &token, sub);
    assert_eq!(status, 200, "{answer}\n{}", fulcio.log());
    let chain = embedded_chain(&answer);
    // The ephemeral CA is a lone root.
    assert_eq!(chain.len(), 2);
    assert!(fulcio.ca().is_none());
    let leaf = &chain[0];
    assert_eq!(
        subject_alternative_names(leaf).unwrap(),
        vec![San::Uri(format!("https://github.com/{workflow_ref}"))]
    );
    let ext = FulcioExtensions::from_certificate(leaf).unwrap();
    assert_eq!(ext.github_workflow_repository, "octo/app");
    assert_eq!(ext.runner_environment, "github-hosted");
    let root = trusted_root(&TrustedRootJson::keyless(&fulcio, &ct, None, None));
    let verified = verify_leaf_certificate(leaf, &root, leaf.not_before()).unwrap();
    assert_eq!(verify_embedded_scts(&verified, &root, 1).unwrap(), 1);
}

#[test]
fn a_lying_ct_log_is_caught_by_fulcio_or_by_the_verifier() {
    let issuer = OidcIssuer::start();
    let ct = CtLogServer::start();
    ct.set_behaviour(CtBehaviour::SignOtherData);

    // Fulcio given the log's key checks the SCT and refuses to issue.
    let checking = FulcioServer::start(issuer.url(), &ct);
    let (status, answer, _) = signing_cert(&checking, &issuer.token(), "alice@example.com");
    assert_eq!(status, 500, "{answer}");
    assert!(checking.log().contains("failed to verify ECDSA signature"));

    // Fulcio without the key embeds it; the verifier refuses it.
    let mut options = FulcioOptions::new(vec![TrustedIssuer::email(issuer.url())]);
    options.check_sct = false;
    let trusting = FulcioServer::start_with(&ct, options);
    let (status, answer, _) = signing_cert(&trusting, &issuer.token(), "alice@example.com");
    assert_eq!(status, 200, "{answer}");
    let chain = embedded_chain(&answer);
    let root = trusted_root(&TrustedRootJson::keyless(&trusting, &ct, None, None));
    let verified = verify_leaf_certificate(&chain[0], &root, chain[0].not_before()).unwrap();
    let err = verify_embedded_scts(&verified, &root, 1).unwrap_err();
    assert!(
        err.to_string().contains("unable to meet threshold"),
        "{err}"
    );

    // An SCT from a log the trusted root does not name.
    ct.set_behaviour(CtBehaviour::SignWith(CtLog::new()));
    let (status, answer, _) = signing_cert(&trusting, &issuer.token(), "alice@example.com");
    assert_eq!(status, 200, "{answer}");
    let chain = embedded_chain(&answer);
    let verified = verify_leaf_certificate(&chain[0], &root, chain[0].not_before()).unwrap();
    assert!(verify_embedded_scts(&verified, &root, 1).is_err());

    // A failing log: Fulcio answers 500, nothing is issued.
    ct.set_behaviour(CtBehaviour::Fail(500));
    let (status, _, _) = signing_cert(&trusting, &issuer.token(), "alice@example.com");
    assert_eq!(status, 500);
}

#[test]
fn the_ct_log_checks_what_it_is_sent() {
    let ct = CtLogServer::start();
    let ca = test_support::fulcio::FulcioCa::new();
    let log = test_support::fulcio::CtLog::new();
    let (_, key_pem) = ephemeral_key();
    let leaf = ca.issue(
        &key_pem,
        &test_support::fulcio::LeafSpec::email("a@example.com", "http://issuer", &log)
            .without_sct(),
    );
    let client = reqwest::blocking::Client::new();
    let post = |endpoint: &str, body: &Value| {
        let resp = client
            .post(format!("{}/ct/v1/{endpoint}", ct.url()))
            .json(body)
            .send()
            .unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    };
    let int = ca.intermediate_der().to_vec();
    let root = ca.root_der().to_vec();
    // A final certificate: an x509_entry SCT over it.
    let (status, body) = post("add-chain", &add_chain_request(&[&leaf.der, &int, &root]));
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["sct_version"], 0);
    assert_eq!(answer["id"], STANDARD.encode(ct.log().log_id()));
    assert_eq!(answer["extensions"], "");
    // The same SCT, checked by cosign-trust as a detached SCT.
    let sct = cosign_trust::sct::Sct::from_json(body.as_bytes()).unwrap();
    let trusted = trusted_root(&TrustedRootJson::new().ct_log_server(&ct));
    let cert = Certificate::from_der(&leaf.der).unwrap();
    sct.verify_detached(&cert, &trusted).unwrap();
    // Not a precertificate: no poison.
    let (status, body) = post(
        "add-pre-chain",
        &add_chain_request(&[&leaf.der, &int, &root]),
    );
    assert_eq!(status, 400);
    assert!(body.contains("no precertificate poison"), "{body}");
    // A chain whose links are not signed by each other.
    let other = test_support::fulcio::FulcioCa::new();
    let (status, body) = post(
        "add-chain",
        &add_chain_request(&[&leaf.der, other.intermediate_der()]),
    );
    assert_eq!(status, 400);
    assert!(body.contains("not signed by"), "{body}");
    // Junk.
    let (status, _) = post("add-chain", &json!({"chain": ["***"]}));
    assert_eq!(status, 400);
    let (status, _) = post("add-chain", &json!({"chain": []}));
    assert_eq!(status, 400);
    // Every parsed chain is recorded, refused or not.
    assert_eq!(ct.submissions().len(), 3);
}

#[test]
fn the_tsa_timestamps_a_signature_that_cosign_trust_verifies() {
    let tsa = timed("timestamp-server start", TimestampServer::start);
    let signature = b"the bytes of an artifact signature";
    let mut nonce = [0u8; 16];
    SystemRandom::new().fill(&mut nonce).unwrap();
    nonce[0] |= 0x80;
    let query = timestamp_query(&sha256(signature), &nonce, true);
    let resp = reqwest::blocking::Client::new()
        .post(tsa.url())
        .header("Content-Type", "application/timestamp-query")
        .body(query)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/timestamp-reply"
    );
    let der = resp.bytes().unwrap();
    let token = TimestampToken::from_der(&der).unwrap();
    // certReq: the TSA's own certificate is in the token.
    assert_eq!(token.certificates().len(), 1);
    let root = trusted_root(&TrustedRootJson::new().timestamp_server(&tsa));
    let verified = token.verify(signature, &root).unwrap();
    let now = test_support::fulcio::now_unix();
    assert!((verified.time - now).abs() < 60, "{}", verified.time);
    assert_eq!(verified.authority_uri, tsa.base_url());
    assert_eq!(verified.chain.len(), 3);
    // Over other bytes, or against another TSA's chain, it does not verify.
    assert!(token.verify(b"other bytes", &root).is_err());
    let foreign = test_support::fulcio::FulcioCa::new();
    let wrong = trusted_root(&TrustedRootJson::new().tsa_chain_pem(
        &foreign.chain_pem(),
        "http://tsa.invalid",
        test_support::fulcio::ValidFor::always(),
    ));
    assert!(token.verify(signature, &wrong).is_err());

    // Handles alive at the same time share the one process.
    let again = TimestampServer::start();
    assert_eq!(again.base_url(), tsa.base_url());
    let second = TimestampToken::from_der(&again.timestamp(b"x")).unwrap();
    second.verify(b"x", &root).unwrap();
}

#[test]
fn one_trusted_root_names_fulcio_the_ct_log_both_rekor_logs_and_the_tsa() {
    let issuer = OidcIssuer::start();
    let ct = CtLogServer::start();
    let fulcio = FulcioServer::start(issuer.url(), &ct);
    let tlog = timed("tlog-server start", TlogServer::start);
    let tsa = TimestampServer::start();
    let json = TrustedRootJson::keyless(&fulcio, &ct, Some(&tlog), Some(&tsa));
    let root = trusted_root(&json);
    assert_eq!(root.certificate_authorities.len(), 1);
    assert_eq!(root.ctlogs.len(), 1);
    // Rekor v1 and v2 at the same URL.
    assert_eq!(root.tlogs.len(), 2);
    assert_eq!(root.timestamp_authorities.len(), 1);
    let v = json.to_value();
    assert_eq!(v["certificateAuthorities"][0]["uri"], fulcio.url());
    assert_eq!(v["ctlogs"][0]["baseUrl"], ct.url());
    assert_eq!(v["tlogs"][0]["baseUrl"], tlog.url());
    assert_eq!(v["timestampAuthorities"][0]["uri"], tsa.base_url());
    // A certificate and a timestamp from the running services verify against it.
    let (status, answer, _) = signing_cert(&fulcio, &issuer.token(), "alice@example.com");
    assert_eq!(status, 200, "{answer}");
    let chain = embedded_chain(&answer);
    let verified = verify_leaf_certificate(&chain[0], &root, chain[0].not_before()).unwrap();
    verify_embedded_scts(&verified, &root, 1).unwrap();
    let stamp = TimestampToken::from_der(&tsa.timestamp(b"sig")).unwrap();
    stamp.verify(b"sig", &root).unwrap();
}
