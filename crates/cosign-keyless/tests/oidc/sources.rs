//! `--identity-token`, the ambient providers, their order and `--oidc-*` selection.

use std::io::Write as _;

use cosign_keyless::oidc::{AmbientEnv, AuthFlow, TokenSource, choose_flow};
use test_support::oidc::{Identity, OidcIssuer};

use crate::{Play, User, error_without_token, get, request};

fn github_env(issuer: &OidcIssuer) -> AmbientEnv {
    AmbientEnv {
        github_request_url: Some(issuer.github_request_url()),
        github_request_token: Some(issuer.github_request_token().into()),
        ..AmbientEnv::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_takes_a_token_or_a_file() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let token = issuer.token();
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.token_or_path = &token;
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flag);
    assert_eq!(got.expose(), token);
    assert_eq!(got.claims().identity().unwrap(), "alice@example.com");
    assert_eq!(got.claims().issuer, issuer.url());
    assert!(
        !format!("{got:?}").contains(&token),
        "Debug hides the token"
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "{token}").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    req.token_or_path = &path;
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flag);
    assert_eq!(got.expose(), token, "read from the file, newline trimmed");

    req.token_or_path = "/nonexistent/token-file";
    let error = error_without_token(get(&req).await, &["/nonexistent/token-file"]);
    assert!(
        error.contains("neither a JWT nor a readable file"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_wins_over_every_ambient_provider() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_identity(Identity::Email("flag@example.com".into()));
    let flag = issuer.token();
    issuer.set_identity(Identity::Email("env@example.com".into()));
    let env = issuer.token();
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.token_or_path = &flag;
    req.ambient = AmbientEnv {
        sigstore_id_token: Some(env),
        ..github_env(&issuer)
    };
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flag);
    assert_eq!(got.claims().email.as_deref(), Some("flag@example.com"));
    assert!(issuer.requests().is_empty(), "no provider was asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn ambient_order_is_filesystem_envvar_github_buildkite() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let mint = |who: &str| {
        issuer.set_identity(Identity::Subject(who.into()));
        issuer.token()
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "{}", mint("from-file")).unwrap();
    let everything = AmbientEnv {
        token_file: Some(file.path().to_owned()),
        sigstore_id_token: Some(mint("from-env")),
        buildkite_agent_token: Some(issuer.buildkite_agent_token().into()),
        buildkite_endpoint: Some(issuer.buildkite_endpoint()),
        buildkite_job_id: Some("job-1".into()),
        ..github_env(&issuer)
    };
    issuer.set_identity(Identity::Subject("from-issuer".into()));
    let mut req = request(&issuer, AuthFlow::Token, &user);

    let expected = [
        ("filesystem", "from-file"),
        ("envvar", "from-env"),
        ("github-actions", "from-issuer"),
        ("buildkite-agent", "from-issuer"),
    ];
    for (skip, (provider, subject)) in expected.iter().enumerate() {
        let mut env = everything.clone();
        if skip > 0 {
            env.token_file = None;
        }
        if skip > 1 {
            env.sigstore_id_token = None;
        }
        if skip > 2 {
            env.github_request_url = None;
        }
        req.ambient = env;
        let (got, source) = get(&req).await.unwrap();
        assert_eq!(source, TokenSource::Ambient(provider), "step {skip}");
        assert_eq!(got.claims().subject, *subject);
    }
    let requests = issuer.requests();
    assert_eq!(
        requests,
        [
            "GET /github/token",
            "POST /buildkite/v3/jobs/job-1/oidc/tokens"
        ],
        "each CI endpoint asked once, only when the sources before it were absent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_actions_token_has_audience_sigstore() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient = github_env(&issuer);
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("github-actions"));
    assert_eq!(got.claims().audience, ["sigstore"]);

    // A wrong request token: the provider fails, and with it the whole retrieval (as Go).
    req.ambient.github_request_token = Some("wrong-request-token".into());
    let error = error_without_token(get(&req).await, &["wrong-request-token"]);
    assert!(error.contains("github-actions"), "{error}");
    assert!(error.contains("401"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_ambient_providers_are_not_read() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_identity(Identity::Subject("ambient".into()));
    let ambient = issuer.token();
    issuer.set_identity(Identity::Subject("interactive".into()));
    let mut req = request(&issuer, AuthFlow::ClientCredentials, &user);
    req.ambient = AmbientEnv {
        sigstore_id_token: Some(ambient),
        ..github_env(&issuer)
    };
    req.options.disable_ambient_providers = true;
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flow(AuthFlow::ClientCredentials));
    assert_eq!(got.claims().subject, "interactive");
    assert!(!issuer.requests().contains(&"GET /github/token".to_owned()));

    // An empty SIGSTORE_ID_TOKEN enables the provider, which answers nothing: on to the flow.
    req.options.disable_ambient_providers = false;
    req.ambient = AmbientEnv {
        sigstore_id_token: Some(String::new()),
        ..AmbientEnv::default()
    };
    let (_, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Flow(AuthFlow::ClientCredentials));
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_provider_picks_one() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_identity(Identity::Subject("env".into()));
    let env = issuer.token();
    issuer.set_identity(Identity::Subject("github".into()));
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient = AmbientEnv {
        sigstore_id_token: Some(env.clone()),
        ..github_env(&issuer)
    };
    req.options.provider = Some("github-actions".into());
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("github-actions"));
    assert_eq!(got.claims().subject, "github");

    req.options.provider = Some("nope".into());
    let error = error_without_token(get(&req).await, &[]);
    assert_eq!(error, "nope is not a valid provider");
    // A named provider is asked even when it is not enabled (Go's ProvideFrom): no socket.
    req.options.provider = Some("spiffe".into());
    let error = error_without_token(get(&req).await, &[]);
    assert!(
        error.starts_with("fetching ambient OIDC credentials: spiffe: "),
        "{error}"
    );
    assert!(matches!(
        cosign_keyless::oidc::ambient::by_name("google-impersonate"),
        Ok(cosign_keyless::oidc::ambient::Provider::GoogleImpersonate)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_tokens_are_reported_without_the_token() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_lifetime(-60);
    let token = issuer.token();
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.token_or_path = &token;
    let error = error_without_token(get(&req).await, &[&token]);
    assert!(error.contains("expired"), "{error}");
    assert!(error.contains("alice@example.com"), "{error}");
    assert!(error.contains(issuer.url()), "{error}");

    req.token_or_path = "";
    req.ambient = github_env(&issuer);
    let error = error_without_token(get(&req).await, &[]);
    assert!(error.contains("expired"), "{error}");

    req.ambient = AmbientEnv::default();
    req.flow = AuthFlow::ClientCredentials;
    let error = error_without_token(get(&req).await, &[OidcIssuer::CLIENT_SECRET]);
    assert!(error.contains("expired"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_tokens_are_refused_without_echo() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let unverified = issuer.token_with_claims(&serde_json::json!({
        "iss": issuer.url(), "sub": "x", "email": "e@example.com", "email_verified": false,
        "exp": 4_000_000_000_i64,
    }));
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient.sigstore_id_token = Some(unverified.clone());
    let (got, _) = get(&req).await.unwrap();
    let error = got.claims().identity().unwrap_err().to_string();
    assert!(error.contains("not verified"), "{error}");

    let garbage = "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln";
    req.ambient.sigstore_id_token = Some(garbage.into());
    let error = error_without_token(get(&req).await, &[garbage]);
    assert!(error.contains("claims"), "{error}");
}

#[test]
fn flow_choice_follows_go() {
    assert_eq!(choose_flow(Some("device"), true).unwrap(), AuthFlow::Device);
    assert_eq!(choose_flow(None, false).unwrap(), AuthFlow::Device);
    assert_eq!(choose_flow(None, true).unwrap(), AuthFlow::Normal);
    assert_eq!(
        choose_flow(Some("magic"), true).unwrap_err().to_string(),
        "unsupported oauth flow: magic"
    );
}
