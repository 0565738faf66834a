//! RekorClient against a fake server: the happy paths end to end (answers verified with
//! verify_entry), the error statuses, and the answers a hostile server can give.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cosign_crypto::{PrivateKey, SignatureScheme, hash};
use cosign_tlog::{
    Expected, LogEntry, MAX_ENTRY_RESPONSE, RekorClient, SearchQuery, TlogError, entry,
    verify_entry,
};
use cosign_types::HashAlgorithm;
use serde_json::{Value, json};

use crate::support::{FakeLog, FakeServer, Request, Response};

fn client(server: &FakeServer) -> RekorClient {
    RekorClient::new(&server.url, Duration::from_secs(20), "cosign-tlog-test/1").unwrap()
}

/// A fake Rekor that logs what it is sent, like the real one.
async fn rekor() -> (FakeServer, Arc<Mutex<FakeLog>>) {
    let log = Arc::new(Mutex::new(FakeLog::new()));
    let state = log.clone();
    let server = FakeServer::start(move |req: &Request| {
        let mut log = state.lock().unwrap();
        match (req.method.as_str(), req.target.as_str()) {
            ("POST", "/api/v1/log/entries") => {
                let proposed = req.json();
                let body = match entry::canonicalize_proposed(&proposed) {
                    Ok(b) => b,
                    Err(e) => {
                        return Response::json(400, &json!({"code": 400, "message": e.to_string()}));
                    }
                };
                if let Some(existing) = log.entries.iter().find(|e| e.body == body) {
                    let uuid = existing.uuid.clone();
                    return Response::json(
                        409,
                        &json!({"code": 409, "message": format!("an equivalent entry already exists in the transparency log with UUID {uuid}")}),
                    )
                    .header("Location", &format!("/api/v1/log/entries/{uuid}"));
                }
                let e = log.add(&proposed);
                Response::json(201, &LogEntry::to_response(std::slice::from_ref(&e)))
                    .header("ETag", &e.uuid)
                    .header("Location", &format!("/api/v1/log/entries/{}", e.uuid))
            }
            ("GET", "/api/v1/log") => Response::json(
                200,
                &json!({
                    "rootHash": hex::encode(log.tree.root()),
                    "treeSize": log.tree.size(),
                    "signedTreeHead": log.signed_tree_head(),
                    "treeID": "7",
                }),
            ),
            ("GET", "/api/v1/log/publicKey") => {
                Response::text(200, &log.key.public_key().to_pem())
            }
            ("POST", "/api/v1/index/retrieve") => {
                let q = req.json();
                let hash = q["hash"].as_str().unwrap_or_default().to_owned();
                let uuids: Vec<String> = log
                    .entries
                    .iter()
                    .filter(|e| {
                        entry::Body::parse(&e.body)
                            .map(|b| entry::index_keys(&b).contains(&hash))
                            .unwrap_or(false)
                    })
                    .map(|e| e.uuid.clone())
                    .collect();
                Response::json(200, &json!(uuids))
            }
            ("POST", "/api/v1/log/entries/retrieve") => {
                let q = req.json();
                let mut found = Vec::new();
                for proposed in q["entries"].as_array().unwrap() {
                    let body = entry::canonicalize_proposed(proposed).unwrap();
                    if let Some(e) = log.entries.iter().find(|e| e.body == body) {
                        found.push(LogEntry::to_response(std::slice::from_ref(e)));
                    }
                }
                Response::json(200, &Value::Array(found))
            }
            (_, target) if target.starts_with("/api/v1/log/entries?logIndex=") => {
                let index: usize = target.rsplit('=').next().unwrap().parse().unwrap();
                match log.entries.get(index) {
                    Some(e) => Response::json(200, &LogEntry::to_response(std::slice::from_ref(e))),
                    None => Response::json(404, &json!({"code": 404, "message": "not found"})),
                }
            }
            (_, target) if target.starts_with("/api/v1/log/entries/") => {
                let uuid = target.rsplit('/').next().unwrap();
                match log.entries.iter().find(|e| uuid.ends_with(&e.uuid)) {
                    Some(e) => Response::json(200, &LogEntry::to_response(std::slice::from_ref(e))),
                    None => Response::json(404, &json!({"code": 404, "message": "not found"})),
                }
            }
            (_, target) if target.starts_with("/api/v1/log/proof?") => {
                let param = |name: &str| -> u64 {
                    target
                        .split(['?', '&'])
                        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                let (first, last) = (param("firstSize"), param("lastSize"));
                let proof = log.tree.consistency_proof(first, last).unwrap();
                Response::json(
                    200,
                    &json!({
                        "rootHash": hex::encode(log.tree.root_at(last).unwrap()),
                        "hashes": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                    }),
                )
            }
            _ => Response::json(404, &json!({"code": 404, "message": "no route"})),
        }
    })
    .await;
    (server, log)
}

struct Blob {
    key: PrivateKey,
    digest: cosign_types::Digest,
    signature: Vec<u8>,
    proposed: Value,
}

fn blob(data: &[u8]) -> Blob {
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let digest = hash(HashAlgorithm::Sha256, data);
    let signature = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let proposed = entry::hashedrekord(&digest, &signature, key.public_key().to_pem().as_bytes());
    Blob {
        key,
        digest,
        signature,
        proposed,
    }
}

#[tokio::test]
async fn upload_get_search_and_verify() {
    let (server, log) = rekor().await;
    let client = client(&server);
    let b = blob(b"hello");
    let created = client.create_entry(&b.proposed).await.unwrap();
    let key = client.public_key(None).await.unwrap();
    assert_eq!(key, log.lock().unwrap().key.public_key());
    let trusted = cosign_tlog::TrustedLogs::from_public_key(key);
    let signer = b.key.public_key();
    let expected = Expected {
        artifact_digest: Some(&b.digest),
        signature: Some(&b.signature),
        verifier: Some(&signer),
        verifier_cert_der: None,
        envelope: None,
    };
    let v = verify_entry(&created, &trusted, &expected).unwrap();
    assert!(v.checked_online_proof);

    // The same entry again: 409 with its UUID.
    match client.create_entry(&b.proposed).await {
        Err(TlogError::AlreadyExists { uuid }) => assert_eq!(uuid, created.uuid),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let fetched = client.get_entry(&created.uuid).await.unwrap();
    assert_eq!(fetched, created);
    let by_tree_id = client
        .get_entry(&format!("0000000000000007{}", created.uuid))
        .await
        .unwrap();
    assert_eq!(by_tree_id.body, created.body);
    let by_index = client.get_entry_by_index(0).await.unwrap();
    assert_eq!(by_index, created);

    let uuids = client
        .search_index(&SearchQuery {
            hash: Some(b.digest.clone()),
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(uuids, vec![created.uuid.clone()]);
    let requests = server.requests();
    let search = requests
        .iter()
        .find(|r| r.target == "/api/v1/index/retrieve")
        .unwrap();
    assert_eq!(search.json(), json!({"hash": b.digest.to_string()}));

    let retrieved = client
        .retrieve_entries(std::slice::from_ref(&b.proposed))
        .await
        .unwrap();
    assert_eq!(retrieved, vec![created.clone()]);

    // A server-refused entry surfaces the server's message.
    let mut bad = b.proposed.clone();
    bad["spec"]["signature"]["content"] = json!("AAAA");
    match client.create_entry(&bad).await {
        Err(TlogError::Status {
            status: 400,
            message,
            ..
        }) => assert!(message.contains("does not verify"), "{message}"),
        other => panic!("expected 400, got {other:?}"),
    }

    // Log info and consistency between two tree heads.
    let first = client.log_info().await.unwrap();
    client
        .create_entry(&blob(b"second").proposed)
        .await
        .unwrap();
    client.create_entry(&blob(b"third").proposed).await.unwrap();
    let info = client.log_info().await.unwrap();
    assert_eq!(info.tree_size, 3);
    assert_eq!(info.tree_id, "7");
    let cp =
        cosign_tlog::checkpoint::verify_note(&info.signed_tree_head, &signer_of(&log)).unwrap();
    assert_eq!(cp.root_hash, info.root_hash);
    let proof = client
        .consistency_proof(first.tree_size, info.tree_size, None)
        .await
        .unwrap();
    assert_eq!(proof.root_hash, info.root_hash);
    cosign_tlog::merkle::verify_consistency(
        first.tree_size,
        info.tree_size,
        &proof.hashes,
        &first.root_hash,
        &info.root_hash,
    )
    .unwrap();
    // Every request carried our user agent.
    assert!(server.requests().iter().all(|r| {
        r.headers
            .iter()
            .any(|(k, v)| k == "user-agent" && v == "cosign-tlog-test/1")
    }));
}

fn signer_of(log: &Arc<Mutex<FakeLog>>) -> cosign_crypto::PublicKey {
    log.lock().unwrap().key.public_key()
}

#[tokio::test]
async fn error_statuses() {
    let server = FakeServer::start(|req: &Request| match req.target.as_str() {
        "/api/v1/log/entries" => Response::json(409, &json!({"code": 409, "message": "an equivalent entry already exists in the transparency log with UUID 24296fb24b8ad77a0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})),
        "/api/v1/log" => Response::json(500, &json!({"code": 500, "message": "boom"})),
        "/api/v1/log/publicKey" => Response::text(503, "down for maintenance"),
        _ => Response::json(404, &json!({"code": 404, "message": "not found"})),
    })
    .await;
    let client = client(&server);
    match client.create_entry(&json!({})).await {
        Err(TlogError::AlreadyExists { uuid }) => assert_eq!(
            uuid,
            "24296fb24b8ad77a0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let uuid = "ab".repeat(32);
    assert!(matches!(
        client.get_entry(&uuid).await,
        Err(TlogError::NotFound { .. })
    ));
    match client.log_info().await {
        Err(TlogError::Status {
            status: 500,
            message,
            ..
        }) => assert_eq!(message, "boom"),
        other => panic!("expected 500, got {other:?}"),
    }
    match client.public_key(None).await {
        Err(e @ TlogError::Status { status: 503, .. }) => {
            assert!(e.to_string().contains("down for maintenance"), "{e}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // Bad arguments never reach the server.
    let before = server.requests().len();
    assert!(matches!(
        client.get_entry("../../etc/passwd").await,
        Err(TlogError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.get_entry_by_index(-1).await,
        Err(TlogError::InvalidArgument(_))
    ));
    let eleven = vec![json!({}); 11];
    assert!(client.retrieve_entries(&eleven).await.is_err());
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn conflict_without_uuid_is_a_bad_response() {
    let server = FakeServer::start(|_: &Request| Response::text(409, "conflict")).await;
    assert!(matches!(
        client(&server).create_entry(&json!({})).await,
        Err(TlogError::BadResponse { .. })
    ));
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    // A body larger than the cap.
    let big = vec![b' '; MAX_ENTRY_RESPONSE + 1];
    let server = FakeServer::start(move |_: &Request| Response {
        status: 200,
        headers: vec![],
        body: big.clone(),
        declared_length: None,
        endless: false,
    })
    .await;
    let uuid = "ab".repeat(32);
    assert!(matches!(
        client(&server).get_entry(&uuid).await,
        Err(TlogError::TooLarge { .. })
    ));
    // A declared length above the cap is refused before reading.
    let server = FakeServer::start(|_: &Request| Response {
        status: 200,
        headers: vec![],
        body: b"{}".to_vec(),
        declared_length: Some(1 << 40),
        endless: false,
    })
    .await;
    assert!(matches!(
        client(&server).log_info().await,
        Err(TlogError::TooLarge { .. })
    ));
    // An endless (chunked) answer stops at the cap.
    let server = FakeServer::start(|_: &Request| Response {
        status: 200,
        headers: vec![],
        body: vec![],
        declared_length: None,
        endless: true,
    })
    .await;
    assert!(matches!(
        client(&server).public_key(None).await,
        Err(TlogError::TooLarge { .. })
    ));
    // An endless error body is cut, not read to the end.
    let server = FakeServer::start(|_: &Request| Response {
        status: 500,
        headers: vec![],
        body: vec![],
        declared_length: None,
        endless: true,
    })
    .await;
    assert!(matches!(
        client(&server).log_info().await,
        Err(TlogError::Status { status: 500, .. })
    ));
}

#[tokio::test]
async fn lying_answers_are_refused() {
    let mut log = FakeLog::new();
    let a = log.add(&blob(b"a").proposed);
    let b = log.add(&blob(b"b").proposed);
    let other_body = LogEntry::to_response(std::slice::from_ref(&b));
    let two = LogEntry::to_response(&[a.clone(), b.clone()]);
    let server = FakeServer::start(move |req: &Request| match req.target.as_str() {
        "/api/v1/log/entries/retrieve" => Response::text(200, "{\"truncated"),
        // Asked for one entry, answers with another.
        t if t.starts_with("/api/v1/log/entries/") => Response::json(200, &other_body),
        // Asked for index 0, answers with two entries.
        t if t.starts_with("/api/v1/log/entries?") => Response::json(200, &two),
        "/api/v1/index/retrieve" => Response::json(200, &json!(["not-a-uuid"])),
        "/api/v1/log" => Response::json(200, &json!({"rootHash": "00", "treeSize": 1})),
        "/api/v1/log/publicKey" => Response::text(200, "not a key"),
        _ => Response::text(200, "{\"truncated"),
    })
    .await;
    let client = client(&server);
    assert!(matches!(
        client.get_entry(&a.uuid).await,
        Err(TlogError::BadResponse { .. })
    ));
    assert!(matches!(
        client.get_entry_by_index(0).await,
        Err(TlogError::BadResponse { .. })
    ));
    assert!(matches!(
        client.search_index(&SearchQuery::default()).await,
        Err(TlogError::BadResponse { .. })
    ));
    assert!(matches!(
        client.log_info().await,
        Err(TlogError::BadResponse { .. })
    ));
    assert!(matches!(
        client.public_key(None).await,
        Err(TlogError::BadResponse { .. })
    ));
    assert!(client.consistency_proof(1, 2, None).await.is_err());
    assert!(client.retrieve_entries(&[json!({})]).await.is_err());
}

#[tokio::test]
async fn unreachable_server_and_bad_urls() {
    assert!(matches!(
        RekorClient::new("ftp://example.invalid", Duration::from_secs(1), "x"),
        Err(TlogError::InvalidUrl { .. })
    ));
    assert!(RekorClient::new("not a url", Duration::from_secs(1), "x").is_err());
    // A port nobody listens on (bound then released).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = RekorClient::new(&format!("http://{addr}"), Duration::from_secs(5), "x").unwrap();
    assert!(matches!(
        client.log_info().await,
        Err(TlogError::Http { .. })
    ));
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = FakeServer::start(|_: &Request| Response::json(404, &json!({}))).await;
    let client = RekorClient::new(
        &format!("{}/rekor/", server.url),
        Duration::from_secs(5),
        "x",
    )
    .unwrap();
    let _ = client.get_entry_by_index(3).await;
    assert_eq!(
        server.requests()[0].target,
        "/rekor/api/v1/log/entries?logIndex=3"
    );
}
