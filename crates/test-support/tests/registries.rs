//! Starts every kind of registry and checks it with plain HTTP requests.
// Test code: a failed unwrap is a failed test; start-up times go to stderr (see --nocapture).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::thread;

use test_support::{
    Auth, ImageSpec, LoggedRequest, Registry, RegistryClient, RegistryConfig, TestCa, basic,
    parse_challenge, push_image, push_image_with_auth, sha256_digest,
};

const USER: &str = "testuser";
const PASSWORD: &str = "testpass";

fn started(kind: &str, registry: &Registry) {
    eprintln!(
        "{kind}: started in {:?} at {}",
        registry.startup_time(),
        registry.url()
    );
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {params:?}"))
}

/// `repository:REPO:pull,push` in either order (distribution's order varies).
fn assert_push_scope(scope: &str, repo: &str) {
    let actions = scope
        .strip_prefix(&format!("repository:{repo}:"))
        .unwrap_or_else(|| panic!("scope {scope}"));
    let mut actions: Vec<&str> = actions.split(',').collect();
    actions.sort_unstable();
    assert_eq!(actions, ["pull", "push"], "{scope}");
}

/// Pushes `spec`, then reads the top manifest (and each platform's) back by digest.
fn push_and_check(registry: &Registry, repo: &str, spec: &ImageSpec) {
    let pushed = push_image(registry, &format!("{repo}:v1"), spec);
    let host = registry.host();
    assert_eq!(pushed.reference, format!("{host}/{repo}:v1"));
    assert_eq!(
        pushed.digest_ref,
        format!("{host}/{repo}@{}", pushed.digest)
    );
    let client = RegistryClient::new(registry);
    let top = client.get_manifest(repo, &pushed.digest);
    assert_eq!(top.digest, pushed.digest);
    assert_eq!(client.get_manifest(repo, "v1").digest, pushed.digest);
    let docker = spec.docker_media_types;
    let expected_type = match (spec.platforms.is_empty(), docker) {
        (true, false) => "application/vnd.oci.image.manifest.v1+json",
        (true, true) => "application/vnd.docker.distribution.manifest.v2+json",
        (false, false) => "application/vnd.oci.image.index.v1+json",
        (false, true) => "application/vnd.docker.distribution.manifest.list.v2+json",
    };
    assert_eq!(top.media_type, expected_type);
    assert_eq!(pushed.platform_digests.len(), spec.platforms.len());
    for (platform, digest) in &pushed.platform_digests {
        let m = client.get_manifest(repo, digest);
        assert_eq!(&m.digest, digest, "{platform}");
        let json: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
        let layer = json["layers"][0]["digest"].as_str().unwrap();
        let blob = client.request("GET", &format!("/v2/{repo}/blobs/{layer}"), &[], None);
        assert_eq!(blob.status, 200);
        assert_eq!(sha256_digest(&blob.body), layer);
    }
    // Same spec, same digests.
    let again = push_image(registry, &format!("{repo}:v2"), spec);
    assert_eq!(again.digest, pushed.digest);
}

#[test]
fn distribution_without_auth() {
    let registry = Registry::distribution(RegistryConfig::default());
    started("distribution", &registry);
    assert!(registry.ca_pem().is_none());
    assert!(registry.data_dir().is_dir());
    let client = RegistryClient::anonymous(&registry);
    let v2 = client.request("GET", "/v2/", &[], None);
    assert_eq!(v2.status, 200);
    assert_eq!(v2.header("docker-distribution-api-version"), "registry/2.0");

    push_and_check(&registry, "test/single", &ImageSpec::default());
    push_and_check(
        &registry,
        "test/multi",
        &ImageSpec {
            platforms: vec![
                "linux/amd64".into(),
                "linux/arm64".into(),
                "linux/arm/v7".into(),
            ],
            ..ImageSpec::default()
        },
    );
    push_and_check(
        &registry,
        "test/docker-multi",
        &ImageSpec {
            seed: "docker".into(),
            platforms: vec!["linux/amd64".into(), "linux/arm/v7".into()],
            docker_media_types: true,
        },
    );
    // The digest does not depend on the registry or the run.
    let other = Registry::ferro();
    let a = push_image(&registry, "x/y:z", &ImageSpec::default());
    let b = push_image(&other, "x/y:z", &ImageSpec::default());
    assert_eq!(a.digest, b.digest);

    // requests() sees what was served, 401s and 404s included, and clear_requests() resets it.
    registry.clear_requests();
    assert_eq!(registry.requests(), []);
    let m = client.request(
        "GET",
        &format!("/v2/x/y/manifests/{}", a.digest),
        &[("Accept", test_support::MANIFEST_ACCEPT)],
        None,
    );
    assert_eq!(m.status, 200);
    let r = client.request("GET", &format!("/v2/x/y/referrers/{}", a.digest), &[], None);
    assert_eq!(r.status, 404, "distribution 2.8 has no referrers API");
    let t = client.request("GET", "/v2/x/y/tags/list?n=10", &[], None);
    assert_eq!(t.status, 200);
    assert_eq!(
        registry.requests(),
        [
            LoggedRequest {
                method: "GET".into(),
                path: format!("/v2/x/y/manifests/{}", a.digest),
                status: 200
            },
            LoggedRequest {
                method: "GET".into(),
                path: format!("/v2/x/y/referrers/{}", a.digest),
                status: 404
            },
            LoggedRequest {
                method: "GET".into(),
                path: "/v2/x/y/tags/list?n=10".into(),
                status: 200
            },
        ]
    );
}

#[test]
fn distribution_htpasswd() {
    let registry = Registry::distribution(RegistryConfig {
        auth: Auth::Htpasswd {
            user: USER.into(),
            password: PASSWORD.into(),
        },
        tls: false,
    });
    started("distribution htpasswd", &registry);
    let anonymous = RegistryClient::anonymous(&registry);
    let v2 = anonymous.request("GET", "/v2/", &[], None);
    assert_eq!(v2.status, 401);
    assert_eq!(
        v2.header("www-authenticate"),
        "Basic realm=\"test-registry\""
    );
    let wrong = anonymous.request(
        "GET",
        "/v2/",
        &[("Authorization", &basic(USER, "nope"))],
        None,
    );
    assert_eq!(wrong.status, 401);
    let right = anonymous.request(
        "GET",
        "/v2/",
        &[("Authorization", &basic(USER, PASSWORD))],
        None,
    );
    assert_eq!(right.status, 200);

    let pushed = push_image_with_auth(
        &registry,
        "test/hello:v1",
        &ImageSpec {
            docker_media_types: true,
            ..ImageSpec::default()
        },
        USER,
        PASSWORD,
    );
    assert_eq!(
        RegistryClient::new(&registry)
            .get_manifest("test/hello", &pushed.digest)
            .media_type,
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    push_and_check(
        &registry,
        "test/multi",
        &ImageSpec {
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            ..ImageSpec::default()
        },
    );
    registry.clear_requests();
    let denied = anonymous.request(
        "GET",
        &format!("/v2/test/hello/manifests/{}", pushed.digest),
        &[],
        None,
    );
    assert_eq!(denied.status, 401);
    assert_eq!(
        registry.requests(),
        [LoggedRequest {
            method: "GET".into(),
            path: format!("/v2/test/hello/manifests/{}", pushed.digest),
            status: 401
        }]
    );
}

#[test]
fn distribution_token() {
    let registry = Registry::distribution(RegistryConfig {
        auth: Auth::Token {
            user: USER.into(),
            password: PASSWORD.into(),
            anonymous_pull: false,
        },
        tls: false,
    });
    started("distribution token", &registry);
    let realm = registry.token_realm().unwrap();
    let raw = RegistryClient::anonymous(&registry);

    // The challenge names our token server.
    let v2 = raw.request("GET", "/v2/", &[], None);
    assert_eq!(v2.status, 401);
    let (scheme, params) = parse_challenge(v2.header("www-authenticate"));
    assert_eq!(scheme, "Bearer");
    assert_eq!(param(&params, "realm"), realm);
    assert_eq!(param(&params, "service"), "test-registry");
    let push = raw.request("POST", "/v2/test/hello/blobs/uploads/", &[], None);
    let (_, params) = parse_challenge(push.header("www-authenticate"));
    assert_push_scope(param(&params, "scope"), "test/hello");

    // GET /token with Basic credentials; the token then works.
    let http = reqwest::blocking::Client::new();
    let url = format!("{realm}?service=test-registry&scope=repository:test/hello:pull,push");
    assert_eq!(http.get(&url).send().unwrap().status(), 401, "anonymous");
    assert_eq!(
        http.get(&url)
            .basic_auth(USER, Some("nope"))
            .send()
            .unwrap()
            .status(),
        401,
        "wrong password"
    );
    let reply: serde_json::Value = http
        .get(&url)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = reply["token"].as_str().unwrap();
    assert_eq!(reply["access_token"], token);
    assert_eq!(reply["expires_in"], 300);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        raw.request("GET", "/v2/", &[("Authorization", &bearer)], None)
            .status,
        200
    );
    let upload = raw.request(
        "POST",
        "/v2/test/hello/blobs/uploads/",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(upload.status, 202, "{}", upload.text());

    // POST /token: OAuth2 password grant, then refresh_token grant.
    let form = |body: String| {
        http.post(&realm)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap()
    };
    let scope = "repository%3Atest%2Fhello%3Apull";
    let denied = form(format!(
        "grant_type=password&username={USER}&password=nope&service=test-registry&scope={scope}"
    ));
    assert_eq!(denied.status(), 401);
    let reply: serde_json::Value = form(format!(
        "grant_type=password&username={USER}&password={PASSWORD}&service=test-registry&scope={scope}&client_id=test"
    ))
    .json()
    .unwrap();
    let refresh = reply["refresh_token"].as_str().unwrap().to_owned();
    let reply: serde_json::Value = form(format!(
        "grant_type=refresh_token&refresh_token={refresh}&service=test-registry&scope={scope}"
    ))
    .json()
    .unwrap();
    let bearer = format!("Bearer {}", reply["access_token"].as_str().unwrap());
    assert_eq!(
        raw.request(
            "GET",
            "/v2/test/hello/tags/list",
            &[("Authorization", &bearer)],
            None
        )
        .status,
        404,
        "authorized (repository unknown)"
    );

    push_and_check(
        &registry,
        "test/multi",
        &ImageSpec {
            platforms: vec!["linux/amd64".into(), "linux/arm/v7".into()],
            docker_media_types: true,
            ..ImageSpec::default()
        },
    );
    // Without anonymous_pull, a client without credentials gets nothing.
    let anonymous_list = thread::spawn({
        let url = registry.url();
        move || {
            reqwest::blocking::get(format!("{url}/v2/test/multi/tags/list"))
                .unwrap()
                .status()
        }
    });
    assert_eq!(anonymous_list.join().unwrap(), 401);
}

#[test]
fn distribution_token_anonymous_pull() {
    let registry = Registry::distribution(RegistryConfig {
        auth: Auth::Token {
            user: USER.into(),
            password: PASSWORD.into(),
            anonymous_pull: true,
        },
        tls: false,
    });
    started("distribution token anonymous", &registry);
    let pushed = push_image(&registry, "test/hello:v1", &ImageSpec::default());
    let anonymous = RegistryClient::anonymous(&registry);
    // Pull works with an anonymous (pull-only) token ...
    let m = anonymous.get_manifest("test/hello", &pushed.digest);
    assert_eq!(m.digest, pushed.digest);
    // ... push does not.
    registry.clear_requests();
    let put = anonymous.request(
        "PUT",
        "/v2/test/hello/manifests/v2",
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&m.bytes),
    );
    assert_eq!(put.status, 401, "{}", put.text());
    let (_, params) = parse_challenge(put.header("www-authenticate"));
    assert_push_scope(param(&params, "scope"), "test/hello");
    let served = registry.requests();
    assert_eq!(served.len(), 2, "{served:?}");
    assert!(served.iter().all(|r| r.method == "PUT" && r.status == 401));
    // The token the server gave for pull,push grants pull only.
    let realm = registry.token_realm().unwrap();
    let reply: serde_json::Value = reqwest::blocking::get(format!(
        "{realm}?service=test-registry&scope=repository:test/hello:pull,push"
    ))
    .unwrap()
    .json()
    .unwrap();
    let token = reply["token"].as_str().unwrap();
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
    assert_eq!(claims["aud"], "test-registry");
}

#[test]
fn distribution_tls() {
    let registry = Registry::distribution(RegistryConfig {
        auth: Auth::Htpasswd {
            user: USER.into(),
            password: PASSWORD.into(),
        },
        tls: true,
    });
    started("distribution TLS+htpasswd", &registry);
    assert!(registry.url().starts_with("https://127.0.0.1:"));
    let ca = registry.ca_pem().unwrap();
    let trusting = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap();
    let v2 = trusting
        .get(format!("{}/v2/", registry.url()))
        .send()
        .unwrap();
    assert_eq!(v2.status(), 401);
    let localhost = registry.url().replace("127.0.0.1", "localhost");
    let v2 = trusting
        .get(format!("{localhost}/v2/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .unwrap();
    assert_eq!(v2.status(), 200);
    let other_ca = TestCa::new();
    let distrusting = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(other_ca.ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    assert!(
        distrusting
            .get(format!("{}/v2/", registry.url()))
            .send()
            .is_err()
    );
    push_and_check(
        &registry,
        "test/tls",
        &ImageSpec {
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            ..ImageSpec::default()
        },
    );
}

#[test]
fn ferro_referrers() {
    let registry = Registry::ferro();
    started("ferro", &registry);
    let client = RegistryClient::new(&registry);
    assert_eq!(client.request("GET", "/v2/", &[], None).status, 200);
    push_and_check(&registry, "test/single", &ImageSpec::default());
    push_and_check(
        &registry,
        "test/multi",
        &ImageSpec {
            platforms: vec![
                "linux/amd64".into(),
                "linux/arm64".into(),
                "linux/arm/v7".into(),
            ],
            docker_media_types: true,
            ..ImageSpec::default()
        },
    );
    let subject = push_image(&registry, "test/hello:v1", &ImageSpec::default());
    let subject_manifest = client.get_manifest("test/hello", &subject.digest);

    // A referrer: OCI 1.1 manifest with artifactType, the empty config and a subject.
    registry.clear_requests();
    let empty = client.push_blob("test/hello", b"{}");
    let payload = client.push_blob("test/hello", b"signature payload");
    let referrer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": payload, "size": 17}],
        "subject": {
            "mediaType": subject_manifest.media_type,
            "digest": subject.digest,
            "size": subject_manifest.bytes.len(),
        },
    });
    let bytes = serde_json::to_vec(&referrer).unwrap();
    let referrer_digest = client.push_manifest(
        "test/hello",
        &sha256_digest(&bytes),
        "application/vnd.oci.image.manifest.v1+json",
        &bytes,
    );
    let referrers = client.request(
        "GET",
        &format!("/v2/test/hello/referrers/{}", subject.digest),
        &[],
        None,
    );
    assert_eq!(referrers.status, 200, "{}", referrers.text());
    let index: serde_json::Value = serde_json::from_slice(&referrers.body).unwrap();
    assert_eq!(index["manifests"][0]["digest"], referrer_digest.as_str());
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.dev.cosign.artifact.sig.v1+json"
    );

    // The proxy saw all of it, in order.
    let served: Vec<(String, String, u16)> = registry
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.status))
        .collect();
    // (ferro may already know the empty `{}` blob: the first HEAD is 200 or 404.)
    assert_eq!(served[0].0, "HEAD", "{served:#?}");
    assert_eq!(served[0].1, format!("/v2/test/hello/blobs/{empty}"));
    assert!(
        served
            .iter()
            .all(|(_, path, _)| path.starts_with("/v2/test/hello/"))
    );
    assert!(
        served.iter().any(|(m, path, status)| m == "PUT"
            && path.ends_with(&format!("?digest={payload}"))
            && *status == 201),
        "{served:#?}"
    );
    let n = served.len();
    assert_eq!(
        served[n - 2..],
        [
            (
                "PUT".into(),
                format!("/v2/test/hello/manifests/{referrer_digest}"),
                201
            ),
            (
                "GET".into(),
                format!("/v2/test/hello/referrers/{}", subject.digest),
                200
            ),
        ]
    );
}

#[test]
fn registries_started_at_once_get_different_ports() {
    let starts: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                if i % 2 == 0 {
                    Registry::distribution(RegistryConfig::default())
                } else {
                    Registry::ferro()
                }
            })
        })
        .collect();
    let registries: Vec<Registry> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let mut hosts: Vec<String> = registries.iter().map(Registry::host).collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), registries.len(), "{hosts:?}");
    for registry in &registries {
        started("concurrent", registry);
        let client = RegistryClient::anonymous(registry);
        assert_eq!(client.request("GET", "/v2/", &[], None).status, 200);
    }
    // Dropping kills the process and removes the temp dir.
    let dir = registries[0].data_dir().to_owned();
    let url = registries[0].url();
    drop(registries);
    assert!(!dir.exists());
    assert!(reqwest::blocking::get(format!("{url}/v2/")).is_err());
}

#[tokio::test]
async fn works_inside_an_async_test() {
    let registry = Registry::ferro();
    let pushed = push_image(&registry, "test/async:v1", &ImageSpec::default());
    registry.clear_requests();
    let m = RegistryClient::new(&registry).get_manifest("test/async", "v1");
    assert_eq!(m.digest, pushed.digest);
    assert_eq!(registry.requests().len(), 1);
}
