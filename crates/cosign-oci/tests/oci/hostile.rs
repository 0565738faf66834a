//! The client against a registry that lies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cosign_oci::{MANIFEST_ACCEPT, OciError, Reference, Registry, RegistryOptions, Repository};
use cosign_types::media_types::{OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use cosign_types::{Digest, HashAlgorithm};

use crate::server::{Reply, Request, Server};

fn sha(data: &[u8]) -> Digest {
    cosign_crypto::hash(HashAlgorithm::Sha256, data)
}

fn client() -> Registry {
    Registry::new(RegistryOptions::default()).unwrap()
}

fn client_with(opts: RegistryOptions) -> Registry {
    Registry::new(opts).unwrap()
}

fn repo(server: &Server) -> Repository {
    Repository::parse(&format!("{}/app", server.registry())).unwrap()
}

fn tag(t: &str) -> Reference {
    Reference::Tag(t.into())
}

fn manifest(layers: usize) -> Vec<u8> {
    let d = sha(b"layer");
    let layer = format!(r#"{{"mediaType":"application/octet-stream","size":5,"digest":"{d}"}}"#);
    let layers = vec![layer; layers].join(",");
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST_MEDIA_TYPE}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{}"}},"layers":[{layers}]}}"#,
        sha(b"{}")
    )
    .into_bytes()
}

fn oci(status: u16, body: Vec<u8>) -> Reply {
    Reply::Full {
        status,
        headers: vec![("Content-Type".into(), OCI_MANIFEST_MEDIA_TYPE.into())],
        body,
    }
}

#[tokio::test]
async fn manifest_fetch_checks_accept_and_digests() {
    let good = manifest(1);
    let good_digest = sha(&good);
    let body = good.clone();
    let server = Server::start(move |r: &Request| {
        assert_eq!(r.header("accept"), Some(MANIFEST_ACCEPT), "{}", r.target);
        match r.path() {
            p if p.ends_with("/manifests/good") => {
                oci(200, body.clone()).with("Docker-Content-Digest", &sha(&body).to_string())
            }
            p if p.ends_with("/manifests/lying-header") => oci(200, body.clone())
                .with("Docker-Content-Digest", &sha(b"something else").to_string()),
            p if p.contains("/manifests/sha256:") => oci(200, b"{\"not\":\"it\"}".to_vec()),
            _ => Reply::json(404, r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
        }
    })
    .await;
    let reg = client();
    let repo = repo(&server);

    let m = reg
        .get_manifest(&repo, &tag("good"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.digest, good_digest);
    assert_eq!(m.media_type, OCI_MANIFEST_MEDIA_TYPE);
    assert_eq!(m.bytes, good);
    assert_eq!(m.image_manifest().unwrap().layers.len(), 1);

    let e = reg
        .get_manifest(&repo, &tag("lying-header"))
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("{}/app:lying-header", server.registry())),
        "{e}"
    );

    // By digest: the body does not hash to what was asked for.
    let e = reg
        .get_manifest(&repo, &Reference::Digest(good_digest.clone()))
        .await
        .unwrap_err();
    match &e {
        OciError::DigestMismatch { expected, .. } => assert_eq!(expected, &good_digest),
        other => panic!("{other:?}"),
    }
    // The HEAD path falls back to GET (no digest header), which then fails the same way.
    let e = reg
        .head_manifest(&repo, &Reference::Digest(good_digest.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");

    assert!(
        reg.get_manifest(&repo, &tag("missing"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        reg.head_manifest(&repo, &tag("missing"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn head_uses_headers_or_falls_back_to_get() {
    let body = manifest(2);
    let d = sha(&body);
    let b = body.clone();
    let server = Server::start(move |r: &Request| match (r.method.as_str(), r.path()) {
        ("HEAD", p) if p.ends_with("/complete") => {
            oci(200, b.clone()).with("Docker-Content-Digest", &sha(&b).to_string())
        }
        // No digest and a generic type: the client must GET and hash.
        (_, p) if p.ends_with("/sparse") => Reply::json(200, b.clone()),
        ("HEAD", p) if p.contains("/manifests/sha256:") => {
            oci(200, b.clone()).with("Docker-Content-Digest", &sha(b"other").to_string())
        }
        _ => Reply::status(404),
    })
    .await;
    let reg = client();
    let repo = repo(&server);
    let desc = reg
        .head_manifest(&repo, &tag("complete"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (desc.digest.clone(), desc.size),
        (d.clone(), body.len() as u64)
    );
    assert_eq!(desc.media_type, OCI_MANIFEST_MEDIA_TYPE);
    assert_eq!(server.count(|r| r.method == "GET"), 0);
    assert_eq!(reg.request_count(), 1);

    let desc = reg
        .head_manifest(&repo, &tag("sparse"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(desc.digest, d);
    // The body declares its own media type when the header is generic.
    assert_eq!(desc.media_type, OCI_MANIFEST_MEDIA_TYPE);
    assert_eq!(server.count(|r| r.method == "GET"), 1);

    let e = reg
        .head_manifest(&repo, &Reference::Digest(d.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
}

#[tokio::test]
async fn oversized_manifests_and_too_many_layers() {
    let huge = vec![b' '; 5 << 20];
    let many = manifest(1001);
    let m2 = many.clone();
    let server = Server::start(move |r: &Request| match r.path() {
        p if p.ends_with("/honest") => oci(200, huge.clone()),
        p if p.ends_with("/endless") => Reply::Endless {
            status: 200,
            headers: vec![("Content-Type".into(), OCI_MANIFEST_MEDIA_TYPE.into())],
        },
        p if p.ends_with("/many") => oci(200, m2.clone()),
        _ => Reply::status(404),
    })
    .await;
    let reg = client();
    let repo = repo(&server);
    for t in ["honest", "endless"] {
        let e = reg.get_manifest(&repo, &tag(t)).await.unwrap_err();
        match &e {
            OciError::TooLarge { limit, size, .. } => {
                assert_eq!(*limit, 4 << 20);
                assert_eq!(size.is_some(), t == "honest", "{e}");
            }
            other => panic!("{t}: {other:?}"),
        }
    }
    let m = reg
        .get_manifest(&repo, &tag("many"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.digest, sha(&many));
    let e = m.image_manifest().unwrap_err();
    assert!(
        matches!(
            e,
            OciError::TooMany {
                count: 1001,
                max: 1000,
                ..
            }
        ),
        "{e:?}"
    );
    // Not retried: a limit is not a transient failure.
    assert_eq!(server.count(|r| r.path().ends_with("/honest")), 1);
}

#[tokio::test]
async fn blobs_are_capped_and_checked() {
    let data = b"hello blob".to_vec();
    let d = sha(&data);
    let big = vec![7u8; 4096];
    let d_big = sha(&big);
    let (data2, big2) = (data.clone(), big.clone());
    let server = Server::start(move |r: &Request| {
        let path = r.path().to_owned();
        if path.contains("/wrong/") {
            Reply::body(200, b"not the blob".to_vec())
        } else if path.contains("/big/") {
            Reply::body(200, big2.clone())
        } else if path.contains("/endless/") {
            Reply::Endless {
                status: 200,
                headers: vec![],
            }
        } else if path.contains("/lying/") {
            // Announces a small body and sends a big one: only the announced bytes count.
            Reply::Full {
                status: 200,
                headers: vec![("Content-Length".into(), "4".into())],
                body: big2.clone(),
            }
        } else if path.contains("/good/") {
            Reply::body(200, data2.clone())
        } else {
            Reply::json(
                404,
                r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
            )
        }
    })
    .await;
    let reg = client();
    let r = |name: &str| Repository::parse(&format!("{}/{name}/x", server.registry())).unwrap();

    assert_eq!(reg.get_blob(&r("good"), &d, 100).await.unwrap(), data);
    // Exactly at the limit is fine.
    assert_eq!(
        reg.get_blob(&r("good"), &d, data.len() as u64)
            .await
            .unwrap(),
        data
    );

    let e = reg.get_blob(&r("wrong"), &d, 100).await.unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");

    let e = reg.get_blob(&r("big"), &d_big, 1000).await.unwrap_err();
    assert!(
        matches!(
            e,
            OciError::TooLarge {
                size: Some(4096),
                limit: 1000,
                ..
            }
        ),
        "{e:?}"
    );

    let started = Instant::now();
    let e = reg.get_blob(&r("endless"), &d, 1 << 20).await.unwrap_err();
    assert!(matches!(e, OciError::TooLarge { size: None, .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(20));

    let e = reg
        .get_blob(&r("lying"), &d_big, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");

    let e = reg.get_blob(&r("missing"), &d, 100).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("BLOB_UNKNOWN"), "{e}");
}

#[tokio::test]
async fn retries_500_then_succeeds() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let body = manifest(0);
    let b = body.clone();
    let server = Server::start(move |_r: &Request| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(500)
        } else {
            oci(200, b.clone())
        }
    })
    .await;
    let reg = client();
    let m = reg
        .get_manifest(&repo(&server), &tag("v1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.bytes, body);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(reg.request_count(), 2);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = Server::start(|_r: &Request| {
        Reply::json(
            503,
            r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#,
        )
    })
    .await;
    let reg = client_with(RegistryOptions {
        max_attempts: 3,
        ..RegistryOptions::default()
    });
    let e = reg
        .get_manifest(&repo(&server), &tag("v1"))
        .await
        .unwrap_err();
    match &e {
        OciError::Status {
            status: 503,
            attempts: 3,
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("after 3 attempt(s)"), "{e}");
    assert!(e.to_string().contains("UNAVAILABLE: try later"), "{e}");
    assert_eq!(server.requests().len(), 3);
    assert_eq!(e.status(), Some(503));
}

#[tokio::test]
async fn connection_dropped_mid_body_is_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let data = vec![42u8; 100_000];
    let d = sha(&data);
    let b = data.clone();
    let server = Server::start(move |r: &Request| {
        if r.path().contains("/closed/") {
            Reply::Close
        } else if r.path().contains("/always/") || c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::DropMidBody {
                status: 200,
                headers: vec![],
                length: b.len(),
                partial: b[..1000].to_vec(),
            }
        } else {
            Reply::body(200, b.clone())
        }
    })
    .await;
    let reg = client();
    let got = reg.get_blob(&repo(&server), &d, 1 << 20).await.unwrap();
    assert_eq!(got, data);
    assert_eq!(server.requests().len(), 2);

    let always = Repository::parse(&format!("{}/always/x", server.registry())).unwrap();
    let e = reg.get_blob(&always, &d, 1 << 20).await.unwrap_err();
    match &e {
        OciError::Transport { attempts: 3, .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("after 3 attempt(s)"), "{e}");

    // No answer at all: the same.
    server.clear();
    let closed = Repository::parse(&format!("{}/closed/x", server.registry())).unwrap();
    let e = reg.get_blob(&closed, &d, 1 << 20).await.unwrap_err();
    assert!(
        matches!(e, OciError::Transport { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn honours_retry_after() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = Server::start(move |_r: &Request| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).with("Retry-After", "1")
        } else {
            Reply::json(200, r#"{"name":"app","tags":["a"]}"#)
        }
    })
    .await;
    let reg = client();
    let started = Instant::now();
    let tags = reg.list_tags(&repo(&server)).await.unwrap();
    assert_eq!(tags, vec!["a".to_owned()]);
    assert!(started.elapsed() >= Duration::from_millis(990));
    assert_eq!(server.requests().len(), 2);
}

/// A registry with a Bearer token service at `/token`, which issues `token-<n>` for the
/// scope it is asked for; the registry accepts a token only for the scope it needs.
async fn token_registry(required_basic: Option<&'static str>) -> Server {
    let issued = Arc::new(AtomicUsize::new(0));
    Server::start(move |r: &Request| {
        let host = r.header("host").unwrap_or("").to_owned();
        if r.path() == "/token" {
            if let Some(basic) = required_basic
                && r.header("authorization") != Some(basic)
            {
                return Reply::status(401);
            }
            let n = issued.fetch_add(1, Ordering::SeqCst);
            // The token names its scope, so the registry can check it.
            let scope: Vec<&str> = r
                .query()
                .split('&')
                .filter_map(|kv| kv.strip_prefix("scope="))
                .collect();
            let token = format!("token-{n}-{}", scope.join("+"));
            return Reply::json(200, format!(r#"{{"token":"{token}","expires_in":300}}"#));
        }
        let push = r.method != "GET" && r.method != "HEAD";
        let needed = if push {
            "repository%3Aapp%3Apull%2Cpush"
        } else {
            "repository%3Aapp%3Apull"
        };
        let ok = r
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| t.ends_with(needed));
        if !ok {
            let action = if push { "pull,push" } else { "pull" };
            return Reply::json(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#).with(
                "WWW-Authenticate",
                &format!(
                    r#"Bearer realm="http://{host}/token",service="hostile",scope="repository:app:{action}""#
                ),
            );
        }
        if r.path().ends_with("/tags/list") {
            Reply::json(200, r#"{"name":"app","tags":["v1"]}"#)
        } else if r.method == "DELETE" {
            Reply::status(202)
        } else {
            Reply::status(404)
        }
    })
    .await
}

#[tokio::test]
async fn bearer_challenge_then_cached_token() {
    let server = token_registry(None).await;
    let reg = client();
    let repo = repo(&server);
    assert_eq!(reg.list_tags(&repo).await.unwrap(), vec!["v1".to_owned()]);
    // 401, token, retry.
    assert_eq!(reg.request_count(), 3);
    assert_eq!(server.count(|r| r.path() == "/token"), 1);
    // The token request was anonymous and named the service and scope.
    let token_req = server
        .requests()
        .into_iter()
        .find(|r| r.path() == "/token")
        .unwrap();
    assert!(token_req.header("authorization").is_none());
    assert!(
        token_req.query().contains("service=hostile"),
        "{}",
        token_req.query()
    );

    // Same scope: the token is sent up front, one request.
    assert!(reg.get_manifest(&repo, &tag("v1")).await.unwrap().is_none());
    assert_eq!(reg.request_count(), 4);
    assert_eq!(server.count(|r| r.path() == "/token"), 1);

    // A push scope: one new token, fetched up front from the remembered challenge.
    assert!(reg.delete_manifest(&repo, &tag("v1")).await.unwrap());
    assert_eq!(server.count(|r| r.path() == "/token"), 2);
    assert_eq!(reg.request_count(), 6);

    // Clones share the cache.
    let again = reg.clone();
    again.list_tags(&repo).await.unwrap();
    assert_eq!(server.count(|r| r.path() == "/token"), 2);
}

#[tokio::test]
async fn concurrent_requests_share_one_token() {
    let server = token_registry(None).await;
    let reg = client();
    let repo = repo(&server);
    // Learn the challenge first, then many requests at once on a new scope.
    reg.list_tags(&repo).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let reg = reg.clone();
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            reg.delete_manifest(&repo, &tag("v1")).await.unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(server.count(|r| r.path() == "/token"), 2);
}

#[tokio::test]
async fn token_service_gets_docker_config_credentials() {
    // "user:secret-pass"
    let basic = "Basic dXNlcjpzZWNyZXQtcGFzcw==";
    let server = token_registry(Some(basic)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"dXNlcjpzZWNyZXQtcGFzcw=="}}}}}}"#,
            server.registry()
        ),
    )
    .unwrap();
    let reg = client_with(RegistryOptions {
        docker_config: Some(config),
        ..RegistryOptions::default()
    });
    assert_eq!(
        reg.list_tags(&repo(&server)).await.unwrap(),
        vec!["v1".to_owned()]
    );

    // Without the config the token service refuses: Unauthorized, no secret in the message.
    let anon = client();
    let e = anon.list_tags(&repo(&server)).await.unwrap_err();
    assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("anonymous"), "{e}");

    // Explicit wrong credentials: refused, and the password never shows.
    let wrong = client_with(RegistryOptions {
        username: Some("user".into()),
        password: Some("wrong-password".into()),
        ..RegistryOptions::default()
    });
    let e = wrong.list_tags(&repo(&server)).await.unwrap_err();
    assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
    let shown = format!("{e} {e:?} {wrong:?}");
    assert!(!shown.contains("wrong-password"), "{shown}");
}

#[tokio::test]
async fn unauthorized_after_retrying_with_credentials() {
    // The registry refuses every token it is shown.
    let server = Server::start(|r: &Request| {
        let host = r.header("host").unwrap_or("").to_owned();
        if r.path() == "/token" {
            return Reply::json(200, r#"{"access_token":"useless"}"#);
        }
        Reply::status(401).with(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="http://{host}/token",service="s""#),
        )
    })
    .await;
    let reg = client();
    let e = reg
        .get_manifest(&repo(&server), &tag("v1"))
        .await
        .unwrap_err();
    match &e {
        OciError::Unauthorized {
            registry,
            repository,
            ..
        } => {
            assert_eq!(registry, &server.registry());
            assert_eq!(repository, "app");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.status(), Some(401));
    // 401, token, 401 once more: no loop.
    assert_eq!(server.count(|r| r.path() != "/token"), 2);
    assert_eq!(server.count(|r| r.path() == "/token"), 1);
}

#[tokio::test]
async fn basic_challenge_and_forbidden() {
    let server = Server::start(|r: &Request| {
        if r.header("authorization") != Some("Basic Ym9iOnB3") {
            return Reply::status(401).with("WWW-Authenticate", r#"Basic realm="test-registry""#);
        }
        if r.path().contains("/secret/") {
            return Reply::json(403, r#"{"errors":[{"code":"DENIED","message":"no"}]}"#);
        }
        Reply::json(200, r#"{"name":"app","tags":null}"#)
    })
    .await;
    // No credentials: Unauthorized.
    let e = client().list_tags(&repo(&server)).await.unwrap_err();
    assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("no credentials"), "{e}");

    let reg = client_with(RegistryOptions {
        username: Some("bob".into()),
        password: Some("pw".into()),
        ..RegistryOptions::default()
    });
    assert!(reg.list_tags(&repo(&server)).await.unwrap().is_empty());
    assert_eq!(reg.request_count(), 2);
    // Remembered: credentials go up front.
    assert!(reg.list_tags(&repo(&server)).await.unwrap().is_empty());
    assert_eq!(reg.request_count(), 3);

    let secret = Repository::parse(&format!("{}/secret/x", server.registry())).unwrap();
    let e = reg.list_tags(&secret).await.unwrap_err();
    assert!(matches!(e, OciError::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("DENIED"), "{e}");
}

#[tokio::test]
async fn registry_token_goes_up_front() {
    let server = Server::start(|r: &Request| {
        if r.header("authorization") == Some("Bearer static-token") {
            Reply::json(200, r#"{"tags":["x"]}"#)
        } else {
            Reply::status(401).with("WWW-Authenticate", r#"Basic realm="r""#)
        }
    })
    .await;
    let reg = client_with(RegistryOptions {
        token: Some("static-token".into()),
        ..RegistryOptions::default()
    });
    assert_eq!(
        reg.list_tags(&repo(&server)).await.unwrap(),
        vec!["x".to_owned()]
    );
    assert_eq!(reg.request_count(), 1);
    assert!(!format!("{reg:?}").contains("static-token"));
}

#[tokio::test]
async fn referrers_api_or_fallback() {
    let subject = sha(b"subject");
    let a = sha(b"a");
    let b = sha(b"b");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX_MEDIA_TYPE}","manifests":[
            {{"mediaType":"{OCI_MANIFEST_MEDIA_TYPE}","size":1,"digest":"{a}","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}},
            {{"mediaType":"{OCI_MANIFEST_MEDIA_TYPE}","size":1,"digest":"{b}","artifactType":"application/spdx+json"}}]}}"#
    );
    let server = Server::start(move |r: &Request| {
        if r.path().contains("/plain404/") {
            Reply::body(404, "404 page not found\n")
        } else if r.path().contains("/bad400/") {
            Reply::status(400)
        } else if r.path().contains("/broken/") {
            Reply::json(200, "<html>")
        } else {
            assert_eq!(r.header("accept"), Some(OCI_INDEX_MEDIA_TYPE));
            Reply::json(200, index.clone()).with("Content-Type", OCI_INDEX_MEDIA_TYPE)
        }
    })
    .await;
    let reg = client();
    let r = |name: &str| Repository::parse(&format!("{}/{name}/x", server.registry())).unwrap();
    assert!(
        reg.referrers(&r("plain404"), &subject, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        reg.referrers(&r("bad400"), &subject, None)
            .await
            .unwrap()
            .is_none()
    );
    let all = reg
        .referrers(&r("api"), &subject, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.manifests.len(), 2);
    // The registry ignores the filter; the client applies it.
    let bundles = reg
        .referrers(
            &r("api"),
            &subject,
            Some("application/vnd.dev.sigstore.bundle.v0.3+json"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bundles.manifests.len(), 1);
    assert_eq!(bundles.manifests[0].digest, a);
    let q = server.requests().last().unwrap().query().to_owned();
    assert_eq!(
        q,
        "artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"
    );
    let e = reg
        .referrers(&r("broken"), &subject, None)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::InvalidResponse { .. }), "{e:?}");
}

#[tokio::test]
async fn tags_follow_link_pages() {
    let server = Server::start(|r: &Request| {
        let path = r.path().to_owned();
        let host = r.header("host").unwrap_or("").to_owned();
        let page = |tags: &str, next: Option<String>| {
            let reply = Reply::json(200, format!(r#"{{"name":"x","tags":[{tags}]}}"#));
            match next {
                Some(n) => reply.with("Link", &format!(r#"<{n}>; rel="next""#)),
                None => reply,
            }
        };
        if path.contains("/loop/") {
            return page(r#""l""#, Some("/v2/loop/x/tags/list?last=l".to_owned()));
        }
        if path.contains("/offsite/") {
            return page(
                r#""o""#,
                Some("http://example.invalid/v2/x/tags/list".into()),
            );
        }
        match r.query() {
            "" => page(
                r#""a","b""#,
                Some("/v2/paged/x/tags/list?n=2&last=b".into()),
            ),
            "n=2&last=b" => page(
                r#""c","d""#,
                Some(format!("http://{host}/v2/paged/x/tags/list?n=2&last=d")),
            ),
            "n=2&last=d" => page(r#""e""#, None),
            other => panic!("unexpected query {other}"),
        }
    })
    .await;
    let reg = client();
    let r = |name: &str| Repository::parse(&format!("{}/{name}/x", server.registry())).unwrap();
    assert_eq!(
        reg.list_tags(&r("paged")).await.unwrap(),
        vec!["a", "b", "c", "d", "e"]
    );
    assert_eq!(reg.request_count(), 3);
    let e = reg.list_tags(&r("loop")).await.unwrap_err();
    assert!(e.to_string().contains("loop"), "{e}");
    let e = reg.list_tags(&r("offsite")).await.unwrap_err();
    assert!(e.to_string().contains("not on the registry"), "{e}");
}

#[tokio::test]
async fn blob_uploads() {
    let data = b"payload bytes".to_vec();
    let d = sha(&data);
    let expected = data.clone();
    let server = Server::start(move |r: &Request| {
        let host = r.header("host").unwrap_or("").to_owned();
        let path = r.path().to_owned();
        match r.method.as_str() {
            "POST" if path.contains("/present/") && r.query().contains("mount=") => {
                Reply::status(201)
            }
            "POST" if path.contains("/nomount/") && r.query().contains("mount=") => {
                Reply::json(405, r#"{"errors":[{"code":"UNSUPPORTED"}]}"#)
            }
            "POST" if path.contains("/absolute/") => Reply::status(202).with(
                "Location",
                &format!("http://{host}/upload/abs-session?_state=xyz"),
            ),
            "POST" if path.contains("/nolocation/") => Reply::status(202),
            "POST" => Reply::status(202).with("Location", "/upload/rel-session?_state=abc%3D"),
            "PUT" => {
                assert!(r.query().contains("_state="), "{}", r.target);
                assert!(
                    r.query().ends_with(&format!("digest=sha256%3A{}", d.hex())),
                    "{}",
                    r.target
                );
                assert_eq!(r.body, expected);
                assert_eq!(r.header("content-type"), Some("application/octet-stream"));
                Reply::status(201).with("Docker-Content-Digest", &d.to_string())
            }
            "HEAD" => Reply::status(404),
            _ => Reply::status(400),
        }
    })
    .await;
    let d = sha(&data);
    let reg = client();
    let r = |name: &str| Repository::parse(&format!("{}/{name}/x", server.registry())).unwrap();

    reg.push_blob(&r("relative"), &d, &data).await.unwrap();
    assert_eq!(
        server.count(|q| q.target
            == "/upload/rel-session?_state=abc%3D&digest=sha256%3A".to_owned() + &d.hex()),
        1
    );
    reg.push_blob(&r("absolute"), &d, &data).await.unwrap();
    assert_eq!(server.count(|q| q.path() == "/upload/abs-session"), 1);

    // Present: one request.
    server.clear();
    reg.push_blob_if_missing(&r("present"), &d, &data)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
    let post = &server.requests()[0];
    assert_eq!(
        post.query(),
        format!("mount=sha256:{}&from=present/x", d.hex())
    );
    // Missing: the mount POST opens the session, then one PUT.
    server.clear();
    reg.push_blob_if_missing(&r("missing"), &d, &data)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    // Mount refused: HEAD, then a plain upload.
    server.clear();
    reg.push_blob_if_missing(&r("nomount"), &d, &data)
        .await
        .unwrap();
    let methods: Vec<String> = server.requests().iter().map(|q| q.method.clone()).collect();
    assert_eq!(methods, vec!["POST", "HEAD", "POST", "PUT"]);

    let e = reg
        .push_blob(&r("nolocation"), &d, &data)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Location"), "{e}");
    // The data must match its digest before anything is sent.
    server.clear();
    let e = reg
        .push_blob(&r("relative"), &sha(b"other"), &data)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn upload_retried_from_a_new_session() {
    let puts = Arc::new(AtomicUsize::new(0));
    let p = puts.clone();
    let data = b"retry me".to_vec();
    let d = sha(&data);
    let server = Server::start(move |r: &Request| match r.method.as_str() {
        "POST" => Reply::status(202).with("Location", "/upload/s"),
        "PUT" if p.fetch_add(1, Ordering::SeqCst) == 0 => Reply::status(503),
        "PUT" => Reply::status(201),
        _ => Reply::status(400),
    })
    .await;
    let reg = client();
    reg.push_blob(&repo(&server), &d, &data).await.unwrap();
    let methods: Vec<String> = server.requests().iter().map(|q| q.method.clone()).collect();
    assert_eq!(methods, vec!["POST", "PUT", "POST", "PUT"]);
}

#[tokio::test]
async fn manifest_put_and_delete() {
    let body = manifest(1);
    let d = sha(&body);
    let expected = body.clone();
    let server = Server::start(move |r: &Request| match (r.method.as_str(), r.path()) {
        ("PUT", p) if p.ends_with("/manifests/lying") => {
            Reply::status(201).with("Docker-Content-Digest", &sha(b"x").to_string())
        }
        ("PUT", _) => {
            assert_eq!(r.header("content-type"), Some(OCI_MANIFEST_MEDIA_TYPE));
            assert_eq!(r.body, expected);
            Reply::status(201)
                .with("Docker-Content-Digest", &sha(&expected).to_string())
                .with("OCI-Subject", "sha256:abc")
        }
        ("DELETE", p) if p.ends_with("/manifests/v1") => Reply::json(
            400,
            r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
        ),
        ("DELETE", p) if p.contains("/manifests/sha256:") => Reply::status(202),
        _ => Reply::status(404),
    })
    .await;
    let reg = client();
    let repo = repo(&server);
    let put = reg
        .put_manifest(&repo, &tag("v1"), OCI_MANIFEST_MEDIA_TYPE, &body)
        .await
        .unwrap();
    assert_eq!(put.digest, d);
    assert_eq!(put.oci_subject.as_deref(), Some("sha256:abc"));
    let put = reg
        .put_manifest(
            &repo,
            &Reference::Digest(d.clone()),
            OCI_MANIFEST_MEDIA_TYPE,
            &body,
        )
        .await
        .unwrap();
    assert_eq!(put.digest, d);
    // A digest reference that does not match the body is refused locally.
    let sent = server.requests().len();
    let e = reg
        .put_manifest(
            &repo,
            &Reference::Digest(sha(b"x")),
            OCI_MANIFEST_MEDIA_TYPE,
            &body,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
    assert_eq!(server.requests().len(), sent);
    let e = reg
        .put_manifest(&repo, &tag("lying"), OCI_MANIFEST_MEDIA_TYPE, &body)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
    let e = reg
        .put_manifest(&repo, &tag("bad/tag"), OCI_MANIFEST_MEDIA_TYPE, &body)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::InvalidReference { .. }), "{e:?}");

    let e = reg.delete_manifest(&repo, &tag("v1")).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("UNSUPPORTED"), "{e}");
    assert!(
        reg.delete_manifest(&repo, &Reference::Digest(d))
            .await
            .unwrap()
    );
    assert!(!reg.delete_manifest(&repo, &tag("gone")).await.unwrap());
}

/// Every operation's future is `Send`, so callers can spawn them.
#[allow(dead_code)]
fn futures_are_send(reg: &Registry, repo: &Repository, d: &Digest) {
    fn send<T: Send>(_: T) {}
    let r = Reference::Digest(d.clone());
    send(reg.head_manifest(repo, &r));
    send(reg.get_manifest(repo, &r));
    send(reg.put_manifest(repo, &r, "", b""));
    send(reg.delete_manifest(repo, &r));
    send(reg.blob_exists(repo, d));
    send(reg.get_blob(repo, d, 1));
    send(reg.push_blob(repo, d, b""));
    send(reg.push_blob_if_missing(repo, d, b""));
    send(reg.mount_blob(repo, d, repo));
    send(reg.referrers(repo, d, None));
    send(reg.list_tags(repo));
    fn sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    sync(reg);
}

#[tokio::test]
async fn identity_token_uses_the_oauth2_refresh_grant() {
    let server = Server::start(|r: &Request| {
        let host = r.header("host").unwrap_or("").to_owned();
        if r.path() == "/token" {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            let ok = r.method == "POST"
                && r.header("content-type") == Some("application/x-www-form-urlencoded")
                && body.contains("grant_type=refresh_token")
                && body.contains("refresh_token=refresh-abc")
                && body.contains("service=svc")
                && body.contains("scope=repository%3Aapp%3Apull");
            return if ok {
                Reply::json(200, r#"{"access_token":"from-refresh","expires_in":600}"#)
            } else {
                Reply::status(401)
            };
        }
        if r.header("authorization") == Some("Bearer from-refresh") {
            return Reply::json(200, r#"{"tags":["ok"]}"#);
        }
        Reply::status(401).with(
            "WWW-Authenticate",
            &format!(
                r#"Bearer realm="http://{host}/token",service="svc",scope="repository:app:pull""#
            ),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"refresh-abc"}}}}}}"#,
            server.registry()
        ),
    )
    .unwrap();
    let reg = client_with(RegistryOptions {
        docker_config: Some(config),
        ..RegistryOptions::default()
    });
    assert_eq!(
        reg.list_tags(&repo(&server)).await.unwrap(),
        vec!["ok".to_owned()]
    );
    assert_eq!(server.count(|r| r.path() == "/token"), 1);
}

#[tokio::test]
async fn credentials_do_not_follow_redirects_elsewhere() {
    let data = b"blob from the cdn".to_vec();
    let d = sha(&data);
    let cdn_data = data.clone();
    let cdn = Server::start(move |_r: &Request| Reply::body(200, cdn_data.clone())).await;
    let cdn_addr = cdn.registry();
    let server = Server::start(move |r: &Request| {
        if r.header("authorization") != Some("Basic Ym9iOnB3") {
            return Reply::status(401).with("WWW-Authenticate", r#"Basic realm="r""#);
        }
        Reply::status(307).with("Location", &format!("http://{cdn_addr}/blob?sig=1"))
    })
    .await;
    let reg = client_with(RegistryOptions {
        username: Some("bob".into()),
        password: Some("pw".into()),
        ..RegistryOptions::default()
    });
    assert_eq!(reg.get_blob(&repo(&server), &d, 1000).await.unwrap(), data);
    let seen = cdn.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None);
}
