//! Hostile or broken issuers: every failure is clear, bounded, and holds no token.

use cosign_keyless::oidc::AuthFlow;
use test_support::oidc::{Answer, OidcIssuer};

use crate::{Play, User, error_without_token, get, request};

fn secrets() -> [&'static str; 1] {
    [OidcIssuer::CLIENT_SECRET]
}

#[tokio::test(flavor = "multi_thread")]
async fn token_endpoint_answers_are_checked() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let req = request(&issuer, AuthFlow::ClientCredentials, &user);
    let cases = [
        (Answer::NoIdToken, "unexpected error in client flow"),
        (Answer::BadJson, "not the expected JSON"),
        (Answer::Huge(3 << 20), "over 1048576 bytes"),
        (Answer::BadSignature, "does not verify"),
        (Answer::ServerError(issuer.token()), "500"),
    ];
    for (answer, expected) in cases {
        issuer.set_answer(answer.clone());
        let error = error_without_token(get(&req).await, &secrets());
        assert!(error.contains(expected), "{answer:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_flow_checks_the_nonce_and_the_id_token() {
    let issuer = OidcIssuer::start();
    for (answer, expected) in [
        (Answer::WrongNonce, "nonce does not match value sent"),
        (Answer::NoIdToken, "id_token not present"),
        (Answer::Huge(2 << 20), "over 1048576 bytes"),
    ] {
        issuer.set_answer(answer.clone());
        let user = User::new(Play::Follow);
        let req = request(&issuer, AuthFlow::Normal, &user);
        let error = error_without_token(get(&req).await, &[]);
        assert!(error.contains(expected), "{answer:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_hostile_answers() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let req = request(&issuer, AuthFlow::Device, &user);
    for (answer, expected) in [
        (Answer::NoIdToken, "unexpected error in device flow"),
        (Answer::BadJson, "not the expected JSON"),
        (Answer::BadSignature, "does not verify"),
    ] {
        issuer.set_answer(answer.clone());
        let error = error_without_token(get(&req).await, &[]);
        assert!(error.contains(expected), "{answer:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ambient_endpoints_hostile_answers() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient.github_request_url = Some(issuer.github_request_url());
    req.ambient.github_request_token = Some(issuer.github_request_token().into());
    for (answer, expected) in [
        (Answer::NoIdToken, "no token"),
        (Answer::BadJson, "not the expected JSON"),
        (Answer::Huge(2 << 20), "over 1048576 bytes"),
        (
            Answer::ServerError(format!("leak {}", issuer.token())),
            "500",
        ),
    ] {
        issuer.set_answer(answer.clone());
        let error = error_without_token(get(&req).await, &[issuer.github_request_token()]);
        assert!(error.contains(expected), "{answer:?}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_must_name_the_issuer_asked_for() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let mut req = request(&issuer, AuthFlow::ClientCredentials, &user);
    req.options.issuer = format!("{}/", issuer.url());
    let error = error_without_token(get(&req).await, &secrets());
    assert!(error.contains("issuer did not match"), "{error}");
}
