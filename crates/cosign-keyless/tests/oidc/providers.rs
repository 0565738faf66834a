//! The `spiffe`, `google-workload-identity` and `google-impersonate` providers against fakes
//! of the SPIFFE Workload API (gRPC on a unix socket) and of Google's metadata server, OAuth
//! token endpoint and IAM Credentials API (test-support's `ambient_fakes`), which check every
//! request. The tokens they hand out are the test issuer's.

use std::sync::Arc;

use cosign_keyless::oidc::ambient::{ORDER, Provider, by_name};
use cosign_keyless::oidc::google::{GceEnv, GoogleEnv};
use cosign_keyless::oidc::{AmbientEnv, AuthFlow, TokenSource};
use serde_json::json;
use test_support::ambient_fakes::{FAKE_SERVICE_ACCOUNT, FakeGoogle, FakeWorkloadApi, SvidRequest};
use test_support::oidc::{Identity, OidcIssuer};

use crate::{Play, User, error_without_token, get, request};

const SPIFFE_ID: &str = "spiffe://example.org/ns/ci/sa/signer";

fn spiffe_env(api: &FakeWorkloadApi) -> AmbientEnv {
    AmbientEnv {
        spiffe_endpoint_socket: Some(api.socket().display().to_string()),
        ..AmbientEnv::default()
    }
}

/// The metadata server at `GCE_METADATA_HOST` (so on GCE without probing).
fn gce(google: &FakeGoogle) -> Option<GceEnv> {
    Some(GceEnv {
        metadata_host: Some(google.host()),
        dns_name: None,
        ..GceEnv::default()
    })
}

/// The fake hands out `token` for the audience `sigstore`, a placeholder for others.
fn hand_out(google: &FakeGoogle, token: &str) {
    let token = token.to_owned();
    google.set_id_tokens(Arc::new(move |audience: &str| {
        if audience == "sigstore" {
            token.clone()
        } else {
            format!("eyJhbGciOiJSUzI1NiJ9.e30.{audience}")
        }
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn spiffe_fetches_a_jwt_svid_over_grpc() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_identity(Identity::Subject(SPIFFE_ID.into()));
    let svid = issuer.token();
    let api = FakeWorkloadApi::start();
    api.set_svids(vec![(SPIFFE_ID.into(), svid.clone())]);
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient = spiffe_env(&api);
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("spiffe"));
    assert_eq!(got.expose(), svid);
    assert_eq!(got.claims().subject, SPIFFE_ID);
    assert_eq!(
        api.requests(),
        [SvidRequest {
            audience: vec!["sigstore".into()],
            spiffe_id: String::new()
        }]
    );

    // Without SPIFFE_ENDPOINT_SOCKET, the default socket (injected here).
    req.ambient = AmbientEnv {
        spiffe_default_socket: Some(api.socket().to_owned()),
        ..AmbientEnv::default()
    };
    let (_, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("spiffe"));
    // An empty SPIFFE_ENDPOINT_SOCKET counts as unset (Go's env.Getenv != "").
    req.ambient.spiffe_endpoint_socket = Some(String::new());
    let (_, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("spiffe"));
    assert_eq!(api.requests().len(), 3);
    assert!(api.violations().is_empty(), "{:?}", api.violations());

    // A socket that does not exist: the provider is off.
    let missing = AmbientEnv {
        spiffe_endpoint_socket: Some("/nonexistent/agent.sock".into()),
        ..AmbientEnv::default()
    };
    assert!(!missing.enabled(Provider::Spiffe).await);
    assert!(!missing.any_enabled().await);
    let error = error_without_token(
        missing
            .provide(Provider::Spiffe, "sigstore")
            .await
            .map(|_| unreachable!()),
        &[],
    );
    assert!(error.contains("code = Unavailable"), "{error}");
    assert!(error.contains("/nonexistent/agent.sock"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spiffe_refusals_and_bad_svids_fail_without_echoing_tokens() {
    let issuer = OidcIssuer::start();
    let api = FakeWorkloadApi::start();
    let env = spiffe_env(&api);

    // The agent issues nothing to this workload.
    let error = error_without_token(
        env.provide(Provider::Spiffe, "sigstore")
            .await
            .map(|_| unreachable!()),
        &[],
    );
    assert!(
        error.starts_with("fetching ambient OIDC credentials: spiffe: "),
        "{error}"
    );
    assert!(
        error.contains("rpc error: code = PermissionDenied desc = no identity issued"),
        "{error}"
    );
    api.set_error(14, "agent is shutting down: 100%");
    let error = env
        .provide(Provider::Spiffe, "sigstore")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("code = Unavailable desc = agent is shutting down: 100%"),
        "{error}"
    );
    api.set_error(0, "");
    // (code 0 with no message: an OK status without a message is not an answer)
    let error = env
        .provide(Provider::Spiffe, "sigstore")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no message"), "{error}");

    let api = FakeWorkloadApi::start();
    let env = spiffe_env(&api);
    let now = cosign_types::time::now_unix();
    let claims = |sub: &str, aud: &str, exp: i64| json!({"iss": issuer.url(), "sub": sub, "aud": aud, "iat": now, "exp": exp});
    for (svid, expected) in [
        (
            issuer.token_with_claims(&claims(SPIFFE_ID, "other", now + 300)),
            "expected audience in [\"sigstore\"]",
        ),
        (
            issuer.token_with_claims(&claims("alice@example.com", "sigstore", now + 300)),
            "token has an invalid subject claim",
        ),
        (
            issuer.token_with_claims(&claims(SPIFFE_ID, "sigstore", now - 120)),
            "jwtsvid: token has expired",
        ),
        (
            issuer.token_with_claims(&json!({"sub": SPIFFE_ID, "aud": "sigstore"})),
            "token missing exp claim",
        ),
        ("not-a-jwt".to_owned(), "unable to parse JWT token"),
    ] {
        api.set_svids(vec![(SPIFFE_ID.into(), svid.clone())]);
        let error = error_without_token(
            env.provide(Provider::Spiffe, "sigstore")
                .await
                .map(|_| unreachable!()),
            &[&svid],
        );
        assert!(error.contains(expected), "{expected}: {error}");
    }
    // The first SVID is the one used.
    let good = issuer.token_with_claims(&claims(SPIFFE_ID, "sigstore", now + 300));
    let other =
        issuer.token_with_claims(&claims("spiffe://example.org/other", "sigstore", now + 300));
    api.set_svids(vec![
        (SPIFFE_ID.into(), good.clone()),
        ("spiffe://example.org/other".into(), other),
    ]);
    assert_eq!(
        env.provide(Provider::Spiffe, "sigstore").await.unwrap(),
        good
    );
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn google_workload_identity_asks_the_metadata_server() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let google = FakeGoogle::start();
    hand_out(&google, &issuer.token());
    let mut req = request(&issuer, AuthFlow::Token, &user);
    req.ambient = AmbientEnv {
        google: GoogleEnv {
            gce: gce(&google),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    let (got, source) = get(&req).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("google-workload-identity"));
    assert_eq!(got.claims().identity().unwrap(), "alice@example.com");
    // Go's Enabled asks for a token for "garbage": once when any provider is looked for, once
    // again before the provider is asked.
    let identity = "GET /computeMetadata/v1/instance/service-accounts/default/identity";
    assert_eq!(
        google.requests(),
        [
            format!("{identity}?audience=garbage&format=full"),
            format!("{identity}?audience=garbage&format=full"),
            format!("{identity}?audience=sigstore&format=full"),
        ]
    );
    assert!(google.violations().is_empty(), "{:?}", google.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn on_gce_follows_the_probes_and_the_product_name() {
    let google = FakeGoogle::start();
    let dir = tempfile::tempdir().unwrap();
    let product = dir.path().join("product_name");
    let probed = |google: &FakeGoogle| GoogleEnv {
        gce: Some(GceEnv {
            metadata_host: None,
            metadata_ip: google.host(),
            dns_name: None,
            product_name_file: product.clone(),
        }),
        ..GoogleEnv::default()
    };
    // A Google VM's product name: a "no" from one probe waits for the other. The metadata IP
    // answers Metadata-Flavor: Google (the DNS probe is off here and says no at once).
    std::fs::write(&product, "Google Compute Engine\n").unwrap();
    assert!(probed(&google).on_gce().await);
    assert_eq!(google.requests(), ["GET /"]);
    // It does not: off.
    google.set_metadata_flavor(false);
    assert!(!probed(&google).on_gce().await);
    // Another machine: the first probe to answer decides (here the DNS probe's "no").
    std::fs::write(&product, "Standard PC (Q35 + ICH9, 2009)\n").unwrap();
    google.set_metadata_flavor(true);
    assert!(!probed(&google).on_gce().await);
    // The answer is computed once per environment.
    let env = probed(&google);
    std::fs::write(&product, "Google\n").unwrap();
    assert!(env.on_gce().await);
    std::fs::remove_file(&product).unwrap();
    assert!(env.on_gce().await, "cached");
    // Nothing listens there: off, and the workload identity provider with it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let env = AmbientEnv {
        google: GoogleEnv {
            gce: Some(GceEnv {
                metadata_ip: addr,
                dns_name: None,
                ..GceEnv::default()
            }),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    assert!(!env.enabled(Provider::GoogleWorkloadIdentity).await);
    // No metadata server configured at all: never on GCE, nothing probed.
    assert!(!GoogleEnv::default().on_gce().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn google_workload_identity_with_a_service_account_key() {
    let issuer = OidcIssuer::start();
    let google = FakeGoogle::start();
    let token = issuer.token();
    hand_out(&google, &token);
    let env = AmbientEnv {
        google: GoogleEnv {
            application_credentials: Some(google.service_account_file()),
            gce: gce(&google),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    let (name, got) = env.provide_first("sigstore").await.unwrap();
    assert_eq!(name, "google-workload-identity");
    assert_eq!(got, token);
    // A self-signed JWT with target_audience, exchanged for an id_token (checked by the fake):
    // once for Enabled ("garbage"), once for the token.
    assert_eq!(google.requests(), ["POST /token", "POST /token"]);
    assert!(google.violations().is_empty(), "{:?}", google.violations());

    // gcloud's well-known file is read when GOOGLE_APPLICATION_CREDENTIALS is not set; an
    // authorized user cannot mint ID tokens (Go: "idtoken: unsupported credentials type").
    let user_env = AmbientEnv {
        google: GoogleEnv {
            well_known_file: Some(google.authorized_user_file()),
            gce: gce(&google),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    assert!(!user_env.enabled(Provider::GoogleWorkloadIdentity).await);
    let error = user_env
        .provide(Provider::GoogleWorkloadIdentity, "sigstore")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("idtoken: unsupported credentials type"),
        "{error}"
    );

    // A missing GOOGLE_APPLICATION_CREDENTIALS file is an error, not a fallback.
    let missing = AmbientEnv {
        google: GoogleEnv {
            application_credentials: Some("/nonexistent/sa.json".into()),
            gce: gce(&google),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    let error = missing
        .provide(Provider::GoogleWorkloadIdentity, "sigstore")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("error getting credentials using GOOGLE_APPLICATION_CREDENTIALS"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn google_impersonate_with_each_credential_source() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    let token = issuer.token();
    let google = FakeGoogle::start();
    hand_out(&google, &token);
    let base = AmbientEnv {
        google_service_account_name: Some(FAKE_SERVICE_ACCOUNT.into()),
        ..AmbientEnv::default()
    };
    let generate =
        format!("POST /v1/projects/-/serviceAccounts/{FAKE_SERVICE_ACCOUNT}:generateIdToken");
    let scopes = "scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform";
    let cases = [
        (
            GoogleEnv {
                application_credentials: Some(google.service_account_file()),
                ..GoogleEnv::default()
            },
            "POST /token".to_owned(),
        ),
        (
            GoogleEnv {
                well_known_file: Some(google.authorized_user_file()),
                ..GoogleEnv::default()
            },
            "POST /token".to_owned(),
        ),
        (
            GoogleEnv {
                gce: gce(&google),
                ..GoogleEnv::default()
            },
            format!("GET /computeMetadata/v1/instance/service-accounts/default/token?{scopes}"),
        ),
    ];
    for (google_env, access_request) in cases {
        let before = google.requests().len();
        let mut req = request(&issuer, AuthFlow::Token, &user);
        req.ambient = AmbientEnv {
            google: GoogleEnv {
                iam_credentials_endpoint: Some(google.url()),
                ..google_env
            },
            ..base.clone()
        };
        // On GCE the workload identity provider comes first: name the provider.
        req.options.provider = Some("google-impersonate".into());
        let (got, source) = get(&req).await.unwrap();
        assert_eq!(source, TokenSource::Ambient("google-impersonate"));
        assert_eq!(got.expose(), token);
        let requests = google.requests()[before..].to_vec();
        assert_eq!(
            requests.last().map(String::as_str),
            Some(generate.as_str()),
            "{requests:?}"
        );
        assert_eq!(requests[requests.len() - 2], access_request, "{requests:?}");
    }
    for body in google.generate_requests() {
        assert_eq!(body, json!({"audience": "sigstore", "includeEmail": true}));
    }
    assert!(google.violations().is_empty(), "{:?}", google.violations());

    // A service account the credentials may not impersonate.
    let denied = AmbientEnv {
        google_service_account_name: Some("other@test-project.iam.gserviceaccount.com".into()),
        google: GoogleEnv {
            application_credentials: Some(google.service_account_file()),
            iam_credentials_endpoint: Some(google.url()),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    assert!(denied.enabled(Provider::GoogleImpersonate).await);
    let error = error_without_token(
        denied
            .provide(Provider::GoogleImpersonate, "sigstore")
            .await
            .map(|_| unreachable!()),
        &["ya29."],
    );
    assert!(error.contains("impersonate: status code 403"), "{error}");
    assert!(error.contains("PERMISSION_DENIED"), "{error}");

    // No credentials anywhere.
    let none = AmbientEnv {
        google_service_account_name: Some(FAKE_SERVICE_ACCOUNT.into()),
        ..AmbientEnv::default()
    };
    let error = none
        .provide(Provider::GoogleImpersonate, "sigstore")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("google: could not find default credentials"),
        "{error}"
    );
    // An empty name: off.
    let empty = AmbientEnv {
        google_service_account_name: Some(String::new()),
        ..AmbientEnv::default()
    };
    assert!(!empty.enabled(Provider::GoogleImpersonate).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn spiffe_comes_after_buildkite_and_before_google() {
    let issuer = OidcIssuer::start();
    let user = User::new(Play::Nothing);
    issuer.set_identity(Identity::Subject(SPIFFE_ID.into()));
    let api = FakeWorkloadApi::start();
    api.set_svids(vec![(SPIFFE_ID.into(), issuer.token())]);
    issuer.set_identity(Identity::Subject("google".into()));
    let google = FakeGoogle::start();
    hand_out(&google, &issuer.token());
    issuer.set_identity(Identity::Subject("buildkite".into()));
    let everything = AmbientEnv {
        buildkite_agent_token: Some(issuer.buildkite_agent_token().into()),
        buildkite_endpoint: Some(issuer.buildkite_endpoint()),
        buildkite_job_id: Some("job-1".into()),
        spiffe_endpoint_socket: Some(api.socket().display().to_string()),
        google_service_account_name: Some(FAKE_SERVICE_ACCOUNT.into()),
        google: GoogleEnv {
            gce: gce(&google),
            iam_credentials_endpoint: Some(google.url()),
            ..GoogleEnv::default()
        },
        ..AmbientEnv::default()
    };
    let mut req = request(&issuer, AuthFlow::Token, &user);
    let steps: [(&str, &str); 4] = [
        ("buildkite-agent", "buildkite"),
        ("spiffe", SPIFFE_ID),
        ("google-workload-identity", "google"),
        ("google-impersonate", "google"),
    ];
    for (skip, (provider, subject)) in steps.iter().enumerate() {
        let mut env = everything.clone();
        if skip > 0 {
            env.buildkite_agent_token = None;
        }
        if skip > 1 {
            env.spiffe_endpoint_socket = None;
        }
        if skip > 2 {
            // Off GCE (a fresh answer), with a key for the impersonation.
            env.google.gce = None;
            env.google.on_gce_cache = Arc::default();
            env.google.application_credentials = Some(google.service_account_file());
        }
        req.ambient = env;
        let (got, source) = get(&req).await.unwrap();
        assert_eq!(source, TokenSource::Ambient(provider), "step {skip}");
        assert_eq!(got.claims().subject, *subject, "step {skip}");
    }
    // Every name resolves, in Go's order.
    let names: Vec<&str> = ORDER.iter().map(|p| p.name()).collect();
    assert_eq!(names, cosign_keyless::oidc::PROVIDER_NAMES);
    for name in names {
        assert_eq!(by_name(name).unwrap().name(), name);
    }
    assert!(google.violations().is_empty(), "{:?}", google.violations());
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}
