//! The interactive flows, driven end to end against the test issuer.

use std::time::Duration;

use cosign_keyless::oidc::{AuthFlow, TokenSource};
use test_support::oidc::{Identity, OidcIssuer};

use crate::{Play, User, error_without_token, get, request};

#[tokio::test(flavor = "multi_thread")]
async fn browser_flow_end_to_end() {
    let issuer = OidcIssuer::start();
    issuer.set_identity(Identity::Email("browser@example.com".into()));
    let user = User::new(Play::Follow);
    let req = request(&issuer, AuthFlow::Normal, &user);
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flow(AuthFlow::Normal));
    assert_eq!(got.claims().identity().unwrap(), "browser@example.com");
    assert_eq!(got.claims().audience, ["sigstore"]);
    assert!(got.claims().nonce.is_some());
    let messages = user.messages();
    assert!(
        messages[0].starts_with("Your browser will now be opened to:\n"),
        "{messages:?}"
    );
    assert!(messages[0].contains("code_challenge_method=S256"));
    assert!(messages[0].contains("redirect_uri=http%3A%2F%2Flocalhost%3A"));
    let (status, body) = user.browser_saw.lock().unwrap().clone().unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Sigstore Auth Successful"));
    assert_eq!(
        issuer.requests(),
        [
            "GET /.well-known/openid-configuration",
            "GET /auth",
            "POST /token",
            "GET /keys"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_flow_prints_the_url_when_no_browser_opens() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::NoBrowser);
    let req = request(&issuer, AuthFlow::Normal, &user);
    let (got, _) = get(&req).await.unwrap();
    assert_eq!(got.claims().identity().unwrap(), "alice@example.com");
    let messages = user.messages();
    assert_eq!(messages[0], "error opening browser: no browser here");
    assert!(messages[1].starts_with("Go to the following link in a browser:"));
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_flow_with_a_fixed_redirect_url() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Follow);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut req = request(&issuer, AuthFlow::Normal, &user);
    req.options.redirect_url = Some(format!("http://127.0.0.1:{port}/custom/callback"));
    get(&req).await.unwrap();
    assert!(user.messages()[0].contains("%2Fcustom%2Fcallback"));
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_flow_refuses_a_wrong_state() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::WrongState);
    let req = request(&issuer, AuthFlow::Normal, &user);
    let error = error_without_token(get(&req).await, &[]);
    assert_eq!(error, "invalid state token");
    // The browser's answer may arrive just after the flow has failed.
    let mut saw = None;
    for _ in 0..250 {
        saw = user.browser_saw.lock().unwrap().clone();
        if saw.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = saw.expect("the browser got an answer");
    assert_eq!(status, 400);
    assert!(
        !issuer.requests().contains(&"POST /token".to_owned()),
        "no exchange"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_stops_an_injected_code() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::SwapCode);
    let req = request(&issuer, AuthFlow::Normal, &user);
    let error = error_without_token(get(&req).await, &[]);
    assert!(
        error.contains("exchanging the authorization code"),
        "{error}"
    );
    assert!(error.contains("PKCE verification failed"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_issuer_checks_the_code_verifier() {
    let issuer = OidcIssuer::start();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = "a-verifier-of-enough-length-0123456789-abcdefghijklmnop";
    let challenge = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            verifier.as_bytes(),
        ))
    };
    let authorize = |challenge: String| {
        let client = client.clone();
        let url = format!(
            "{}/auth?response_type=code&client_id=sigstore&redirect_uri=http://localhost:1/cb&state=s&code_challenge_method=S256&code_challenge={challenge}",
            issuer.url()
        );
        async move {
            let answer = client.get(url).send().await.unwrap();
            let location = answer.headers()["location"].to_str().unwrap().to_owned();
            url::Url::parse(&location)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned()
        }
    };
    let exchange = |code: String, verifier: &'static str| {
        let client = client.clone();
        let url = format!("{}/token", issuer.url());
        async move {
            let body = format!(
                "grant_type=authorization_code&client_id=sigstore&redirect_uri=http://localhost:1/cb&code={code}&code_verifier={verifier}"
            );
            let answer = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };
    let code = authorize(challenge.clone()).await;
    let (status, body) = exchange(
        code,
        "a-wrong-verifier-of-enough-length-0123456789-abcdefgh",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("PKCE verification failed"), "{body}");
    let code = authorize(challenge).await;
    let (status, body) = exchange(code, verifier).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("id_token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_waits_through_slow_down_and_pending() {
    let issuer = OidcIssuer::start();
    issuer.set_identity(Identity::Subject("device-user".into()));
    issuer.set_device_script(1, 2);
    let user = User::new(Play::Nothing);
    let req = request(&issuer, AuthFlow::Device, &user);
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flow(AuthFlow::Device));
    assert_eq!(got.claims().subject, "device-user");
    let messages = user.messages();
    assert!(
        messages[0].starts_with("Enter the verification code ABCD-EFGH in your browser at: "),
        "{messages:?}"
    );
    assert_eq!(messages[1], "Code will be valid for 300 seconds");
    assert_eq!(messages[2], "Token received!");
    let polls = issuer.device_polls();
    assert_eq!(polls.len(), 4, "slow_down, pending, pending, token");
    // interval 1 "second" (20 ms here), +5 after slow_down: every wait is 6 units = 120 ms.
    for pair in polls.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(115), "gap {gap:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_flow_checks_the_secret() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let mut req = request(&issuer, AuthFlow::ClientCredentials, &user);
    let (got, _) = get(&req).await.unwrap();
    assert_eq!(got.claims().identity().unwrap(), "alice@example.com");
    assert_eq!(user.messages(), ["Token received!"]);

    req.options.client_secret = Some("a-wrong-client-secret".into());
    let error = error_without_token(get(&req).await, &["a-wrong-client-secret"]);
    assert!(error.contains("invalid_client"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_flow_without_a_token_fails() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let req = request(&issuer, AuthFlow::Token, &user);
    let error = error_without_token(get(&req).await, &[]);
    assert!(error.contains("--identity-token"), "{error}");
}
