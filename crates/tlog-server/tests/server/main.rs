//! Integration tests: the real `tlog-server` binary on 127.0.0.1:0, driven over HTTP.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durability;
mod hostile;
mod support;
mod v2;
mod v2_durability;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosign_crypto::{HashAlgorithm, PublicKey};
use cosign_tlog::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use cosign_tlog::{Expected, LogEntry, TrustedLogs, checkpoint, set, verify_entry};
use serde_json::{Value, json};

use support::{BIN, Server, Signer, b64, random_artifact, unb64};

fn hash32(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// Checks one `{uuid: LogEntry}` answer by hand: UUID = leaf hash, SET, inclusion proof and
/// checkpoint. Returns (80-hex uuid, entry JSON).
fn check_entry(map: &Value, log_key: &PublicKey, tree_id: &str) -> (String, Value) {
    let obj = map.as_object().unwrap();
    assert_eq!(obj.len(), 1, "{map}");
    let (uuid, entry) = obj.iter().next().unwrap();
    assert_eq!(uuid.len(), 80);
    assert_eq!(
        &uuid[..16],
        format!("{:016x}", tree_id.parse::<i64>().unwrap())
    );
    let body = unb64(entry["body"].as_str().unwrap());
    let leaf = leaf_hash(&body);
    assert_eq!(&uuid[16..], hex::encode(leaf));
    let log_id = hex::encode(log_key.hint());
    assert_eq!(entry["logID"], log_id.as_str());

    let index = entry["logIndex"].as_i64().unwrap();
    let time = entry["integratedTime"].as_i64().unwrap();
    let payload = set::payload(entry["body"].as_str().unwrap(), time, &log_id, index);
    let set_sig = unb64(
        entry["verification"]["signedEntryTimestamp"]
            .as_str()
            .unwrap(),
    );
    set::verify(&payload, &set_sig, log_key).unwrap();

    let proof = &entry["verification"]["inclusionProof"];
    let size = proof["treeSize"].as_u64().unwrap();
    let root = hash32(proof["rootHash"].as_str().unwrap());
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash32(h.as_str().unwrap()))
        .collect();
    assert_eq!(proof["logIndex"].as_i64().unwrap(), index);
    verify_inclusion(index as u64, size, &leaf, &hashes, &root).unwrap();
    let cp = checkpoint::verify_note(proof["checkpoint"].as_str().unwrap(), log_key).unwrap();
    assert_eq!(cp.size, size);
    assert_eq!(cp.root_hash, root);
    // The default log name is the host clients reach the log at (see tests/server/v2.rs).
    assert_eq!(cp.origin, format!("127.0.0.1 - {tree_id}"));
    assert!(cp.other.iter().any(|l| l.starts_with("Timestamp: ")));

    // The workspace's own client-side verifier agrees.
    let parsed = LogEntry::from_response(map.to_string().as_bytes()).unwrap();
    let logs = TrustedLogs::from_public_key(log_key.clone());
    let digest_hex =
        serde_json::from_slice::<Value>(&body).unwrap()["spec"]["data"]["hash"]["value"]
            .as_str()
            .map(str::to_owned);
    if let Some(hex_digest) = digest_hex {
        let digest = cosign_crypto::Digest::from_hex(HashAlgorithm::Sha256, &hex_digest).unwrap();
        let verified = verify_entry(
            &parsed[0],
            &logs,
            &Expected {
                artifact_digest: Some(&digest),
                ..Expected::default()
            },
        )
        .unwrap();
        assert!(verified.checked_online_proof);
        assert_eq!(verified.log_index, index);
    }
    (uuid.clone(), entry.clone())
}

fn log_key(server: &Server) -> PublicKey {
    PublicKey::from_pem(server.public_key_pem().as_bytes()).unwrap()
}

fn log_info(server: &Server) -> Value {
    server.get("/api/v1/log").json().unwrap()
}

#[test]
fn hashedrekord_create_get_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let key = log_key(&server);
    let info = log_info(&server);
    assert_eq!(info["treeSize"], 0);
    assert_eq!(info["inactiveShards"], json!([]));
    let tree_id = info["treeID"].as_str().unwrap().to_owned();
    let signer = Signer::new();

    let resp = server.get("/api/v1/log/publicKey");
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/x-pem-file"
    );

    let (proposal, digest_hex) = signer.hashedrekord(b"hello world");
    let resp = server.post("/api/v1/log/entries", &proposal);
    assert_eq!(resp.status(), 201);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let created: Value = resp.json().unwrap();
    let (uuid, entry) = check_entry(&created, &key, &tree_id);
    assert_eq!(etag, uuid);
    assert_eq!(location, format!("/api/v1/log/entries/{uuid}"));
    assert_eq!(entry["logIndex"], 0);
    assert_eq!(entry["verification"]["inclusionProof"]["treeSize"], 1);
    let body: Value = serde_json::from_slice(&unb64(entry["body"].as_str().unwrap())).unwrap();
    assert_eq!(body["kind"], "hashedrekord");
    assert_eq!(body["spec"]["data"]["hash"]["value"], digest_hex.as_str());

    // A second entry, then read the first back three ways.
    let (second, _) = signer.hashedrekord(b"second");
    assert_eq!(server.post("/api/v1/log/entries", &second).status(), 201);
    for path in [
        format!("/api/v1/log/entries/{uuid}"),
        format!("/api/v1/log/entries/{}", &uuid[16..]),
        format!("/api/v1/log/entries/{}", uuid.to_uppercase()),
        "/api/v1/log/entries?logIndex=0".to_owned(),
    ] {
        let resp = server.get(&path);
        assert_eq!(resp.status(), 200, "{path}");
        let got: Value = resp.json().unwrap();
        let (got_uuid, got_entry) = check_entry(&got, &key, &tree_id);
        assert_eq!(got_uuid, uuid);
        assert_eq!(got_entry["body"], entry["body"]);
        assert_eq!(got_entry["integratedTime"], entry["integratedTime"]);
        // Proofs are against the tree at the time of the response.
        assert_eq!(got_entry["verification"]["inclusionProof"]["treeSize"], 2);
    }
    let info = log_info(&server);
    assert_eq!(info["treeSize"], 2);
    let cp = checkpoint::verify_note(info["signedTreeHead"].as_str().unwrap(), &key).unwrap();
    assert_eq!(
        hex::encode(cp.root_hash),
        info["rootHash"].as_str().unwrap()
    );

    // Not found, malformed.
    assert_eq!(server.get("/api/v1/log/entries?logIndex=2").status(), 404);
    assert_eq!(server.get("/api/v1/log/entries?logIndex=-1").status(), 400);
    assert_eq!(
        server
            .get(&format!("/api/v1/log/entries/{}", "ab".repeat(32)))
            .status(),
        404
    );
    assert_eq!(
        server
            .get(&format!(
                "/api/v1/log/entries/{}{}",
                "0".repeat(16),
                &uuid[16..]
            ))
            .status(),
        404
    );
    assert_eq!(server.get("/api/v1/log/entries/xyz").status(), 400);
    assert_eq!(server.get("/api/v1/nothing").status(), 404);
}

#[test]
fn invalid_entries_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let signer = Signer::new();
    let other = Signer::new();

    // Signature by another key than the one stated.
    let (mut proposal, _) = signer.hashedrekord(b"artifact");
    proposal["spec"]["signature"]["publicKey"]["content"] = json!(b64(other.pem().as_bytes()));
    let resp = server.post("/api/v1/log/entries", &proposal);
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().unwrap();
    assert_eq!(err["code"], 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("error processing entry")
    );

    // Signature over another digest.
    let (mut proposal, _) = signer.hashedrekord(b"artifact");
    let (other_digest, _) = signer.hashedrekord(b"something else");
    proposal["spec"]["data"] = other_digest["spec"]["data"].clone();
    assert_eq!(server.post("/api/v1/log/entries", &proposal).status(), 400);

    // Not JSON, unknown kind, garbage.
    let resp = server
        .client()
        .post(format!("{}/api/v1/log/entries", server.url))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        server
            .post(
                "/api/v1/log/entries",
                &json!({"kind": "rpm", "apiVersion": "0.0.1", "spec": {}})
            )
            .status(),
        400
    );
    // Too large: refused from the declared length, before any of the body is read.
    let addr = server.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /api/v1/log/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        2 << 20
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut conn, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(log_info(&server)["treeSize"], 0);
}

#[test]
fn duplicates_are_409_with_the_existing_uuid() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let signer = Signer::new();
    let (proposal, _) = signer.hashedrekord(b"once");
    let resp = server.post("/api/v1/log/entries", &proposal);
    assert_eq!(resp.status(), 201);
    let uuid = resp.headers()["etag"].to_str().unwrap().to_owned();

    let resp = server.post("/api/v1/log/entries", &proposal);
    assert_eq!(resp.status(), 409);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        format!("/api/v1/log/entries/{uuid}")
    );
    let err: Value = resp.json().unwrap();
    assert_eq!(err["code"], 409);
    assert_eq!(
        err["message"],
        format!("an equivalent entry already exists in the transparency log with UUID {uuid}")
    );

    // Many concurrent copies of one new entry: exactly one 201, the rest 409 with its UUID.
    let (proposal, _) = signer.hashedrekord(b"racing");
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    let resp = server.post("/api/v1/log/entries", &proposal);
                    let status = resp.status().as_u16();
                    let loc = resp
                        .headers()
                        .get("location")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    (status, loc)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|(s, _)| *s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 409).count(), 11);
    let locations: std::collections::HashSet<_> = statuses.iter().map(|(_, l)| l).collect();
    assert_eq!(locations.len(), 1);
    assert_eq!(log_info(&server)["treeSize"], 2);
}

#[test]
fn dsse_entries_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let key = log_key(&server);
    let tree_id = log_info(&server)["treeID"].as_str().unwrap().to_owned();
    let alice = Signer::new();
    let bob = Signer::new();

    let subject = hex::encode(random_artifact());
    let (proposal, payload) = alice.dsse(&subject);
    let resp = server.post("/api/v1/log/entries", &proposal);
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().unwrap();
    let (dsse_uuid, entry) = check_entry(&created, &key, &tree_id);
    let body: Value = serde_json::from_slice(&unb64(entry["body"].as_str().unwrap())).unwrap();
    assert_eq!(body["kind"], "dsse");
    let payload_hash = cosign_crypto::hash(HashAlgorithm::Sha256, &payload).hex();
    assert_eq!(body["spec"]["payloadHash"]["value"], payload_hash.as_str());
    // The same envelope again is a duplicate.
    assert_eq!(server.post("/api/v1/log/entries", &proposal).status(), 409);

    // A DSSE envelope with a bad signature is refused.
    let (mut bad, _) = alice.dsse(&subject);
    bad["spec"]["proposedContent"]["verifiers"] = json!([b64(bob.pem().as_bytes())]);
    assert_eq!(server.post("/api/v1/log/entries", &bad).status(), 400);

    // intoto 0.0.2 of another statement, as rekor's client library builds it.
    let (dsse2, _) = alice.dsse(&hex::encode(random_artifact()));
    let envelope = dsse2["spec"]["proposedContent"]["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let intoto = cosign_tlog::entry::intoto(envelope.as_bytes(), alice.pem().as_bytes());
    let resp = server.post("/api/v1/log/entries", &intoto);
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().unwrap();
    let (intoto_uuid, entry) = check_entry(&created, &key, &tree_id);
    let body: Value = serde_json::from_slice(&unb64(entry["body"].as_str().unwrap())).unwrap();
    assert_eq!(body["kind"], "intoto");
    assert_eq!(body["apiVersion"], "0.0.2");
    assert_eq!(server.post("/api/v1/log/entries", &intoto).status(), 409);
    let bad_intoto = cosign_tlog::entry::intoto(envelope.as_bytes(), bob.pem().as_bytes());
    assert_eq!(
        server.post("/api/v1/log/entries", &bad_intoto).status(),
        400
    );

    let (a1, a1_hash) = alice.hashedrekord(b"alice one");
    let (b1, _) = bob.hashedrekord(b"bob one");
    let (b2, _) = bob.hashedrekord(b"alice one"); // same artifact, other key
    let mut ids = BTreeMap::new();
    for (name, p) in [("a1", &a1), ("b1", &b1), ("b2", &b2)] {
        let resp = server.post("/api/v1/log/entries", p);
        assert_eq!(resp.status(), 201);
        ids.insert(name, resp.headers()["etag"].to_str().unwrap().to_owned());
    }

    let search = |q: Value| -> Vec<String> {
        let resp = server.post("/api/v1/index/retrieve", &q);
        assert_eq!(resp.status(), 200, "{q}");
        resp.json().unwrap()
    };
    let alice_key = json!({"format": "x509", "content": b64(alice.pem().as_bytes())});
    assert_eq!(
        search(json!({"hash": format!("sha256:{a1_hash}")})),
        vec![ids["a1"].clone(), ids["b2"].clone()]
    );
    assert_eq!(search(json!({"hash": a1_hash.to_uppercase()})).len(), 2);
    assert_eq!(
        search(json!({"publicKey": alice_key})),
        vec![dsse_uuid.clone(), intoto_uuid, ids["a1"].clone()]
    );
    assert_eq!(
        search(json!({"publicKey": alice_key, "hash": a1_hash, "operator": "and"})),
        vec![ids["a1"].clone()]
    );
    assert_eq!(
        search(json!({"publicKey": alice_key, "hash": a1_hash, "operator": "or"})).len(),
        4
    );
    assert_eq!(
        search(json!({"hash": format!("sha256:{payload_hash}")})),
        vec![dsse_uuid]
    );
    assert!(search(json!({"hash": "0".repeat(64)})).is_empty());
    // The key as DER works too.
    let der = alice.key.public_key().to_spki_der();
    assert_eq!(
        search(json!({"publicKey": {"format": "x509", "content": b64(&der)}})).len(),
        3
    );
    for bad in [
        json!({"hash": "sha256:xyz"}),
        json!({"publicKey": {"format": "pgp", "content": "AAAA"}}),
        json!({"publicKey": {"format": "x509", "content": b64(b"not a key")}}),
        json!({"hash": a1_hash, "operator": "xor"}),
    ] {
        assert_eq!(
            server.post("/api/v1/index/retrieve", &bad).status(),
            400,
            "{bad}"
        );
    }

    // entries/retrieve: by UUID (64 and 80), by index, by proposed entry.
    let resp = server.post(
        "/api/v1/log/entries/retrieve",
        &json!({"entryUUIDs": [ids["a1"], &ids["b1"][16..]], "logIndexes": [0, 99], "entries": [b2]}),
    );
    assert_eq!(resp.status(), 200);
    let found: Vec<Value> = resp.json().unwrap();
    assert_eq!(found.len(), 4);
    for map in &found {
        check_entry(map, &key, &tree_id);
    }
    // Rekor's Go client sends the lists it does not use as null.
    let resp = server.post(
        "/api/v1/log/entries/retrieve",
        &json!({"entryUUIDs": null, "logIndexes": null, "entries": [b2]}),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Vec<Value>>().unwrap().len(), 1);
    let too_many = json!({"logIndexes": (0..11).collect::<Vec<_>>()});
    assert_eq!(
        server
            .post("/api/v1/log/entries/retrieve", &too_many)
            .status(),
        422
    );
}

#[test]
fn consistency_proofs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let signer = Signer::new();
    let mut roots = vec![hash32(log_info(&server)["rootHash"].as_str().unwrap())];
    for i in 0..13u32 {
        let (p, _) = signer.hashedrekord(&i.to_be_bytes());
        assert_eq!(server.post("/api/v1/log/entries", &p).status(), 201);
        roots.push(hash32(log_info(&server)["rootHash"].as_str().unwrap()));
    }
    for first in 1..=13u64 {
        for last in first..=13u64 {
            let resp = server.get(&format!(
                "/api/v1/log/proof?firstSize={first}&lastSize={last}"
            ));
            assert_eq!(resp.status(), 200);
            let proof: Value = resp.json().unwrap();
            let root = hash32(proof["rootHash"].as_str().unwrap());
            assert_eq!(root, roots[last as usize]);
            let hashes: Vec<Hash> = proof["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| hash32(h.as_str().unwrap()))
                .collect();
            verify_consistency(first, last, &hashes, &roots[first as usize], &root).unwrap();
        }
    }
    let resp = server.get("/api/v1/log/proof?lastSize=5");
    assert_eq!(resp.status(), 200);
    for bad in [
        "firstSize=5&lastSize=3",
        "lastSize=14",
        "firstSize=1",
        "firstSize=0&lastSize=3",
    ] {
        let resp = server.get(&format!("/api/v1/log/proof?{bad}"));
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

#[test]
fn the_workspace_rekor_client_works_against_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let signer = Signer::new();
    let expected_key = log_key(&server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client =
            cosign_tlog::RekorClient::new(&server.url, Duration::from_secs(10), "test").unwrap();
        let (p, digest_hex) = signer.hashedrekord(b"via client");
        let created = client.create_entry(&p).await.unwrap();
        assert_eq!(created.log_index, 0);
        let got = client.get_entry(&created.uuid).await.unwrap();
        assert_eq!(got.body, created.body);
        let by_index = client.get_entry_by_index(0).await.unwrap();
        assert_eq!(by_index.uuid, created.uuid);
        let retrieved = client.retrieve_entries(&[p]).await.unwrap();
        assert_eq!(retrieved.len(), 1);
        let info = client.log_info().await.unwrap();
        assert_eq!(info.tree_size, 1);
        let key = client.public_key(None).await.unwrap();
        assert_eq!(key, expected_key);
        let digest = cosign_crypto::Digest::from_hex(HashAlgorithm::Sha256, &digest_hex).unwrap();
        let logs = TrustedLogs::from_public_key(key);
        verify_entry(
            &got,
            &logs,
            &Expected {
                artifact_digest: Some(&digest),
                ..Expected::default()
            },
        )
        .unwrap();
    });
}

#[test]
fn restart_keeps_key_tree_id_and_entries() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::new();
    let (info, pem, uuids) = {
        let server = Server::start(dir.path());
        let mut uuids = Vec::new();
        for i in 0..20u32 {
            let (p, _) = signer.hashedrekord(&i.to_le_bytes());
            let resp = server.post("/api/v1/log/entries", &p);
            assert_eq!(resp.status(), 201);
            uuids.push(resp.headers()["etag"].to_str().unwrap().to_owned());
        }
        (log_info(&server), server.public_key_pem(), uuids)
    };
    let server = Server::start(dir.path());
    let after = log_info(&server);
    assert_eq!(after["treeID"], info["treeID"]);
    assert_eq!(after["treeSize"], 20);
    assert_eq!(after["rootHash"], info["rootHash"]);
    assert_eq!(server.public_key_pem(), pem);
    let key = log_key(&server);
    let tree_id = after["treeID"].as_str().unwrap().to_owned();
    for (i, uuid) in uuids.iter().enumerate() {
        let got: Value = server
            .get(&format!("/api/v1/log/entries/{uuid}"))
            .json()
            .unwrap();
        let (u, e) = check_entry(&got, &key, &tree_id);
        assert_eq!(&u, uuid);
        assert_eq!(e["logIndex"], i);
    }
    // Search indexes are rebuilt too.
    let found: Vec<String> = server
        .post(
            "/api/v1/index/retrieve",
            &json!({"publicKey": {"format": "x509", "content": b64(signer.pem().as_bytes())}}),
        )
        .json()
        .unwrap();
    assert_eq!(found, uuids);
    // A second server on the same directory is refused.
    let out = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_entry() {
    let _heavy = support::heavy();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let url = server.url.clone();
    // (uuid, tree size and root hash of the proof in the 201 answer)
    let acked: Arc<Mutex<Vec<(String, u64, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let acked = Arc::clone(&acked);
            let stop = Arc::clone(&stop);
            let url = url.clone();
            std::thread::spawn(move || {
                let signer = Signer::new();
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let deadline = Instant::now() + Duration::from_secs(20);
                let mut sent = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && sent < 5000 {
                    sent += 1;
                    let (p, _) = signer.hashedrekord(&random_artifact());
                    let Ok(resp) = client
                        .post(format!("{url}/api/v1/log/entries"))
                        .json(&p)
                        .send()
                    else {
                        continue;
                    };
                    if resp.status() == 201 {
                        let uuid = resp.headers()["etag"].to_str().unwrap().to_owned();
                        // Only an entry whose whole 201 answer arrived counts as acknowledged.
                        if let Ok(body) = resp.json::<Value>() {
                            let proof = &body[&uuid]["verification"]["inclusionProof"];
                            let size = proof["treeSize"].as_u64().unwrap();
                            let root = proof["rootHash"].as_str().unwrap().to_owned();
                            acked.lock().unwrap().push((uuid, size, root));
                        }
                    }
                }
            })
        })
        .collect();
    // Let the load run, then kill -9 in the middle of it.
    let start = Instant::now();
    while acked.lock().unwrap().len() < 300 && start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let killed_at = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(killed_at >= 300, "load too slow: {killed_at} acknowledged");

    let server = Server::start(dir.path());
    let key = log_key(&server);
    let info = log_info(&server);
    let tree_id = info["treeID"].as_str().unwrap().to_owned();
    assert!(info["treeSize"].as_u64().unwrap() >= acked.len() as u64);
    for (uuid, _, _) in &acked {
        let resp = server.get(&format!("/api/v1/log/entries/{uuid}"));
        assert_eq!(resp.status(), 200, "acknowledged entry {uuid} lost");
        let got: Value = resp.json().unwrap();
        check_entry_fast(&got, &key, &tree_id, uuid);
    }
    // The largest tree head any client was shown is a prefix of the recovered log.
    let (_, size, root) = acked.iter().max_by_key(|(_, s, _)| *s).unwrap().clone();
    let now = info["treeSize"].as_u64().unwrap();
    let proof: Value = server
        .get(&format!(
            "/api/v1/log/proof?firstSize={size}&lastSize={now}"
        ))
        .json()
        .unwrap();
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash32(h.as_str().unwrap()))
        .collect();
    verify_consistency(
        size,
        now,
        &hashes,
        &hash32(&root),
        &hash32(info["rootHash"].as_str().unwrap()),
    )
    .unwrap();
    // And the log takes new entries after the restart.
    let (p, _) = Signer::new().hashedrekord(&random_artifact());
    let resp = server.post("/api/v1/log/entries", &p);
    assert_eq!(resp.status(), 201);
}

/// The hand-made checks of [`check_entry`] without the second verifier (faster for many).
fn check_entry_fast(map: &Value, key: &PublicKey, tree_id: &str, uuid: &str) {
    let (u, entry) = map.as_object().unwrap().iter().next().unwrap();
    assert_eq!(u, uuid);
    assert_eq!(
        &uuid[..16],
        format!("{:016x}", tree_id.parse::<i64>().unwrap())
    );
    let body = unb64(entry["body"].as_str().unwrap());
    let leaf = leaf_hash(&body);
    assert_eq!(&uuid[16..], hex::encode(leaf));
    let proof = &entry["verification"]["inclusionProof"];
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash32(h.as_str().unwrap()))
        .collect();
    let root = hash32(proof["rootHash"].as_str().unwrap());
    verify_inclusion(
        proof["logIndex"].as_u64().unwrap(),
        proof["treeSize"].as_u64().unwrap(),
        &leaf,
        &hashes,
        &root,
    )
    .unwrap();
    let cp = checkpoint::verify_note(proof["checkpoint"].as_str().unwrap(), key).unwrap();
    assert_eq!(cp.root_hash, root);
    let payload = set::payload(
        entry["body"].as_str().unwrap(),
        entry["integratedTime"].as_i64().unwrap(),
        entry["logID"].as_str().unwrap(),
        entry["logIndex"].as_i64().unwrap(),
    );
    set::verify(
        &payload,
        &unb64(
            entry["verification"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        ),
        key,
    )
    .unwrap();
}

#[test]
fn torn_tail_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::new();
    let (root, uuids) = {
        let server = Server::start(dir.path());
        let mut uuids = Vec::new();
        for i in 0..5u32 {
            let (p, _) = signer.hashedrekord(&i.to_be_bytes());
            let resp = server.post("/api/v1/log/entries", &p);
            uuids.push(resp.headers()["etag"].to_str().unwrap().to_owned());
        }
        (log_info(&server)["rootHash"].clone(), uuids)
    };
    let log = dir.path().join("entries.log");
    let len = std::fs::metadata(&log).unwrap().len();
    // A torn frame: a plausible header, half a body.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&300u32.to_le_bytes()).unwrap();
    f.write_all(&[0xde, 0xad, 0xbe, 0xef]).unwrap();
    f.write_all(&[7u8; 8]).unwrap();
    f.write_all(&[b'x'; 100]).unwrap();
    drop(f);

    let server = Server::start(dir.path());
    let info = log_info(&server);
    assert_eq!(info["treeSize"], 5);
    assert_eq!(info["rootHash"], root);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), len);
    for uuid in &uuids {
        assert_eq!(
            server.get(&format!("/api/v1/log/entries/{uuid}")).status(),
            200
        );
    }
    // Appending works after recovery.
    let (p, _) = signer.hashedrekord(b"after recovery");
    let resp = server.post("/api/v1/log/entries", &p);
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().unwrap();
    let key = log_key(&server);
    let (_, e) = check_entry(&created, &key, info["treeID"].as_str().unwrap());
    assert_eq!(e["logIndex"], 5);
    drop(server);

    // Garbage appended after a clean end is cut as well.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"garbage").unwrap();
    drop(f);
    let server = Server::start(dir.path());
    assert_eq!(log_info(&server)["treeSize"], 6);
}

#[test]
fn public_key_and_trusted_root_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Before the first start: initialises the directory.
    let out = Command::new(BIN)
        .args(["public-key", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));

    let server = Server::start(&data);
    assert_eq!(server.public_key_pem(), pem);
    let tree_id = log_info(&server)["treeID"].as_str().unwrap().to_owned();
    // While the server runs.
    let out = Command::new(BIN)
        .args(["trusted-root", "--url", &server.url, "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tlog = &root["tlogs"][0];
    assert_eq!(tlog["baseUrl"], server.url.as_str());
    assert_eq!(tlog["hashAlgorithm"], "SHA2_256");
    let key = PublicKey::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(tlog["publicKey"]["rawBytes"], b64(&key.to_spki_der()));
    assert_eq!(tlog["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
    assert!(
        tlog["publicKey"]["validFor"]["start"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(tlog["logId"]["keyId"], b64(&key.hint()));
    let parsed =
        cosign_tlog::trusted_root::TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap())
            .unwrap();
    assert_eq!(parsed.tlogs[0].public_key, key);
    drop(server);
    assert!(!tree_id.is_empty());

    // --key: a key file of one's own; --hostname names the checkpoint.
    let own = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
    let key_file = dir.path().join("own.pem");
    let der = own.to_pkcs8_der().unwrap();
    let body: Vec<String> = b64(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let own_pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.join("\n")
    );
    std::fs::write(&key_file, own_pem).unwrap();
    let server = Server::start_with(
        &dir.path().join("other"),
        &[
            "--key",
            key_file.to_str().unwrap(),
            "--hostname",
            "log.example",
        ],
    );
    assert_eq!(server.public_key_pem(), own.public_key().to_pem());
    let info = log_info(&server);
    let cp = checkpoint::verify_note(info["signedTreeHead"].as_str().unwrap(), &own.public_key())
        .unwrap();
    assert_eq!(
        cp.origin,
        format!("log.example - {}", info["treeID"].as_str().unwrap())
    );

    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}
