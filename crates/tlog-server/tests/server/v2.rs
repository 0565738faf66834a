//! The Rekor v2 log (`/api/v2/log/entries`, C2SP tiles) and peer-accepted checkpoint origins.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cosign_crypto::{HashAlgorithm, PrivateKey, SignatureScheme, hash};
use cosign_tlog::merkle::{Hash, MerkleTree, leaf_hash, verify_consistency};
use cosign_tlog::trusted_root::TrustedRoot;
use cosign_tlog::{Expected, LogEntry, TrustedLogs, checkpoint, note, verify_entry_at};
use cosign_types::Bundle;
use serde_json::{Value, json};

use super::support::{BIN, Server, Signer, b64, random_artifact, unb64};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn trusted_root(data: &std::path::Path, url: &str) -> (Value, TrustedRoot) {
    let out = Command::new(BIN)
        .args(["trusted-root", "--url", url, "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v, TrustedRoot::from_json(&out.stdout).unwrap())
}

/// A key-signed blob's hashedrekord 0.0.2 request, with its digest and signature.
pub(crate) fn request(key: &PrivateKey, blob: &[u8]) -> (Value, cosign_crypto::Digest, Vec<u8>) {
    let digest = hash(HashAlgorithm::Sha256, blob);
    let sig = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let req = json!({"hashedRekordRequestV002": {
        "digest": b64(digest.as_bytes()),
        "signature": {"content": b64(&sig), "verifier": {
            "publicKey": {"rawBytes": b64(&key.public_key().to_spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
    (req, digest, sig)
}

fn hashes_of(tile: &[u8]) -> Vec<Hash> {
    tile.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

/// The tree of a log as its static tile files alone state it, for `size` entries (< 65536).
pub(crate) fn tree_from_tiles(tiles: &std::path::Path, size: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    let full = size / 256;
    for t in 0..=full {
        let width = if t < full { 256 } else { size % 256 };
        if width == 0 {
            break;
        }
        let name = if width == 256 {
            format!("tile/0/{t:03}")
        } else {
            format!("tile/0/{t:03}.p/{width}")
        };
        let data = std::fs::read(tiles.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.len() as u64, width * 32, "{name}");
        for h in hashes_of(&data) {
            tree.push(h);
        }
        // The entry bundle holds the entries of those leaves.
        let name = name.replace("tile/0/", "tile/entries/");
        let bundle = std::fs::read(tiles.join(&name)).unwrap();
        let mut rest = &bundle[..];
        let mut i = 0;
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let leaf = leaf_hash(&rest[2..2 + len]);
            assert_eq!(tree.leaf(t * 256 + i).unwrap(), leaf, "{name} entry {i}");
            rest = &rest[2 + len..];
            i += 1;
        }
        assert_eq!(i, width);
    }
    if size >= 256 {
        // Level 1 holds the roots of the full level-0 tiles.
        let name = format!("tile/1/000.p/{full}");
        let data = std::fs::read(tiles.join(&name)).unwrap();
        for (t, h) in hashes_of(&data).iter().enumerate() {
            assert_eq!(
                *h,
                tree.root_at((t as u64 + 1) * 256)
                    .map(|_| subtree(&tree, t))
                    .unwrap()
            );
        }
    }
    tree
}

fn subtree(tree: &MerkleTree, t: usize) -> Hash {
    let mut sub = MerkleTree::new();
    for i in 0..256 {
        sub.push(tree.leaf((t * 256 + i) as u64).unwrap());
    }
    sub.root()
}

#[test]
fn v2_entries_verify_and_tiles_prove_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let (root_json, root) = trusted_root(&data, &server.url);
    // Two logs at the same base URL: v1 (ECDSA, SPKI log ID) and v2 (Ed25519, C2SP key ID).
    let tlogs = root_json["tlogs"].as_array().unwrap();
    assert_eq!(tlogs.len(), 2);
    assert_eq!(tlogs[1]["baseUrl"], server.url.as_str());
    assert_eq!(tlogs[1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    let origin = note::origin_from_base_url(&server.url).unwrap();
    assert_eq!(origin, "127.0.0.1");
    let v2_key = root.tlogs[1].public_key.clone();
    assert_eq!(root.tlogs[1].log_id, note::key_id(&origin, &v2_key));

    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let mut last = None;
    for i in 0..300u32 {
        let blob = format!("blob {i}");
        let (req, digest, sig) = request(&key, blob.as_bytes());
        let resp = server.post("/api/v2/log/entries", &req);
        assert_eq!(resp.status(), 201);
        let entry: Value = resp.json().unwrap();
        if i == 0 || i == 299 {
            last = Some((entry, digest, sig));
        }
    }
    let (entry, digest, sig) = last.unwrap();
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    assert_eq!(entry["logIndex"], "299");
    assert!(entry["inclusionPromise"].is_null());
    assert_eq!(entry["logId"]["keyId"], b64(&root.tlogs[1].log_id));

    // A Sigstore bundle v0.3 of the key-signed blob; the entry verifies with cosign's verifier
    // against the trusted root `tlog-server trusted-root` wrote.
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": [entry]},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256",
            "digest": b64(digest.as_bytes())}, "signature": b64(&sig)},
    });
    let bundle = Bundle::from_json(bundle.to_string().as_bytes()).unwrap();
    let tle = LogEntry::from_bundle_entry(&bundle.verification_material.tlog_entries[0]);
    let logs = TrustedLogs::from_trusted_root(&root);
    let public = key.public_key();
    let expected = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&sig),
        verifier: Some(&public),
        ..Expected::default()
    };
    let verified = verify_entry_at(&tle, &logs, &expected, now()).unwrap();
    assert!(verified.checked_online_proof);
    assert_eq!(verified.log_index, 299);
    // Another artifact is refused.
    let other = hash(HashAlgorithm::Sha256, b"other");
    assert!(
        verify_entry_at(
            &tle,
            &logs,
            &Expected {
                artifact_digest: Some(&other),
                ..expected
            },
            now()
        )
        .is_err()
    );

    // The checkpoint is a C2SP signed note by the v2 log as its origin.
    let cp_text = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let parsed = note::parse_signed_note(cp_text).unwrap();
    assert_eq!(parsed.signatures[0].name, origin);
    let cp = note::verify_checkpoint(cp_text, &origin, &v2_key).unwrap();
    assert_eq!(cp.size, 300);
    assert!(!note::is_rekor_v1_checkpoint(cp_text));

    // The static files alone: the published checkpoint, the tiles, the entry bundles.
    // (The tiles are published behind the commits, at most every 50 ms.)
    let tiles = data.join("v2/tiles");
    let mut published = String::new();
    for _ in 0..200 {
        published = std::fs::read_to_string(tiles.join("checkpoint")).unwrap();
        if note::verify_checkpoint(&published, &origin, &v2_key)
            .unwrap()
            .size
            == 300
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.get("/checkpoint").text().unwrap(), published);
    let head = note::verify_checkpoint(&published, &origin, &v2_key).unwrap();
    assert_eq!(head.size, 300);
    let tree = tree_from_tiles(&tiles, head.size);
    assert_eq!(tree.root(), head.root_hash);
    let body = unb64(entry["canonicalizedBody"].as_str().unwrap());
    assert_eq!(tree.leaf(299).unwrap(), leaf_hash(&body));
    let proof: Vec<Hash> = entry["inclusionProof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| unb64(h.as_str().unwrap()).try_into().unwrap())
        .collect();
    assert_eq!(tree.inclusion_proof(299, 300).unwrap(), proof);
    // Served over HTTP too, byte for byte, under both prefixes.
    for path in [
        "/tile/0/001.p/44",
        "/api/v2/tile/0/001.p/44",
        "/tile/entries/000",
    ] {
        let resp = server.get(path);
        assert_eq!(resp.status(), 200, "{path}");
        let file = tiles.join(path.trim_start_matches("/api/v2/").trim_start_matches('/'));
        assert_eq!(resp.bytes().unwrap().to_vec(), std::fs::read(file).unwrap());
    }
    assert_eq!(server.get("/tile/0/../../signing-key.pem").status(), 404);
    assert_eq!(server.get("/tile/0/002").status(), 404);

    // Bad requests.
    let (mut bad, _, _) = request(&key, b"x");
    bad["hashedRekordRequestV002"]["digest"] = json!(b64(&[0u8; 32]));
    assert_eq!(server.post("/api/v2/log/entries", &bad).status(), 400);
    assert_eq!(server.post("/api/v2/log/entries", &json!({})).status(), 400);
    // The v1 API is untouched by all this.
    let info: Value = server.get("/api/v1/log").json().unwrap();
    assert_eq!(info["treeSize"], 0);

    // signing-config names both logs.
    let out = Command::new(BIN)
        .args(["signing-config", "--url", &server.url, "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let config: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        config["mediaType"],
        "application/vnd.dev.sigstore.signingconfig.v0.2+json"
    );
    let versions: Vec<i64> = config["rekorTlogUrls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            assert_eq!(u["url"], server.url.as_str());
            u["majorApiVersion"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(versions, vec![2, 1]);

    // A restart keeps the log, the key and the log ID.
    drop(server);
    let server = Server::start(&data);
    let again: Value = server
        .post("/api/v2/log/entries", &request(&key, b"after restart").0)
        .json()
        .unwrap();
    assert_eq!(again["logIndex"], "300");
    assert_eq!(again["logId"]["keyId"], entry["logId"]["keyId"]);
}

#[test]
fn v1_checkpoint_origin_is_the_host_of_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // By default the log is named after the address it listens on ...
    let server = Server::start(&data);
    let url = server.url.clone();
    let (_, root) = trusted_root(&data, &url);
    let signer = Signer::new();
    let (p, digest_hex) = signer.hashedrekord(b"peer accepted");
    let resp = server.post("/api/v1/log/entries", &p);
    assert_eq!(resp.status(), 201);
    let text = resp.text().unwrap();
    let entries = LogEntry::from_response(text.as_bytes()).unwrap();
    let cp_text = entries[0]
        .inclusion_proof
        .as_ref()
        .unwrap()
        .checkpoint
        .clone();
    let log_key = &root.tlogs[0].public_key;
    let cp = checkpoint::verify_note(&cp_text, log_key).unwrap();
    let tree_id: Value = server.get("/api/v1/log").json().unwrap();
    // sigstore-go: url.Parse(baseUrl).Hostname(); Rekor v1 origin "<hostname> - <tree ID>".
    let host = note::origin_from_base_url(&root.tlogs[0].base_url).unwrap();
    assert_eq!(
        cp.origin,
        format!("{host} - {}", tree_id["treeID"].as_str().unwrap())
    );
    assert!(cp_text.contains(&format!("\n\u{2014} {host} ")));
    assert!(note::is_rekor_v1_checkpoint(&cp_text));
    let digest = cosign_crypto::Digest::from_hex(HashAlgorithm::Sha256, &digest_hex).unwrap();
    let logs = TrustedLogs::from_trusted_root(&root);
    let verified = verify_entry_at(
        &entries[0],
        &logs,
        &Expected {
            artifact_digest: Some(&digest),
            ..Expected::default()
        },
        now(),
    )
    .unwrap();
    assert!(verified.checked_online_proof);
    assert!(verified.signed_time.is_some());
    drop(server);

    // ... and with --url, after the host clients reach it at (the same data directory).
    // (The stored tree head keeps its old name until the tree grows.)
    let server = Server::start_with(&data, &["--url", "https://rekor.example:8443/"]);
    let (p, _) = signer.hashedrekord(b"renamed");
    assert_eq!(server.post("/api/v1/log/entries", &p).status(), 201);
    let info: Value = server.get("/api/v1/log").json().unwrap();
    let cp = checkpoint::verify_note(info["signedTreeHead"].as_str().unwrap(), log_key).unwrap();
    assert_eq!(
        cp.origin,
        format!("rekor.example - {}", info["treeID"].as_str().unwrap())
    );
    assert_eq!(cp.size, 2);
}

#[test]
fn v2_kill_9_under_16_clients_loses_nothing_acknowledged() {
    let _heavy = crate::support::heavy();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let url = server.url.clone();
    // (log index, leaf hash, checkpoint size, checkpoint root) of every 201.
    type Ack = (u64, Hash, u64, Hash);
    let acked: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (acked, stop, url) = (Arc::clone(&acked), Arc::clone(&stop), url.clone());
            std::thread::spawn(move || {
                let key = PrivateKey::generate_ecdsa_p256().unwrap();
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (req, _, _) = request(&key, &random_artifact());
                    let Ok(resp) = client
                        .post(format!("{url}/api/v2/log/entries"))
                        .json(&req)
                        .send()
                    else {
                        continue;
                    };
                    if resp.status() != 201 {
                        continue;
                    }
                    let Ok(e) = resp.json::<Value>() else {
                        continue;
                    };
                    let body = unb64(e["canonicalizedBody"].as_str().unwrap());
                    let p = &e["inclusionProof"];
                    acked.lock().unwrap().push((
                        e["logIndex"].as_str().unwrap().parse().unwrap(),
                        leaf_hash(&body),
                        p["treeSize"].as_str().unwrap().parse().unwrap(),
                        unb64(p["rootHash"].as_str().unwrap()).try_into().unwrap(),
                    ));
                }
            })
        })
        .collect();
    // Every checkpoint GET /checkpoint served meanwhile.
    let served: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (served, stop, url) = (Arc::clone(&served), Arc::clone(&stop), url.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(text) = client
                    .get(format!("{url}/checkpoint"))
                    .send()
                    .and_then(|r| r.error_for_status())
                    .and_then(|r| r.text())
                {
                    served.lock().unwrap().push(text);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let start = std::time::Instant::now();
    while acked.lock().unwrap().len() < 700 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    reader.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    let served = served.lock().unwrap().clone();
    assert!(acked.len() >= 700, "only {} acknowledged", acked.len());
    assert!(served.len() > 10, "only {} checkpoints read", served.len());
    // The stored head covers every checkpoint handed out (it is stored before any is).
    let stored = crate::support::stored_head(&data.join("v2"));
    let stored_size = stored["size"].as_u64().unwrap();
    assert!(
        acked.iter().all(|a| a.2 <= stored_size),
        "stored head {stored_size} behind"
    );

    let server = Server::start(&data);
    let (_, root) = trusted_root(&data, &server.url);
    let head = note::verify_checkpoint(
        &server.get("/checkpoint").text().unwrap(),
        "127.0.0.1",
        &root.tlogs[1].public_key,
    )
    .unwrap();
    assert!(head.size >= acked.len() as u64);
    let tree = tree_from_tiles(&data.join("v2/tiles"), head.size);
    assert_eq!(tree.root(), head.root_hash);
    for (index, leaf, size, root_hash) in &acked {
        assert_eq!(
            tree.leaf(*index).as_ref(),
            Some(leaf),
            "acknowledged entry {index} lost"
        );
        // Every checkpoint a client was shown is consistent with the final tree.
        let proof = tree.consistency_proof(*size, head.size).unwrap();
        verify_consistency(*size, head.size, &proof, root_hash, &head.root_hash).unwrap();
    }
    for text in &served {
        let cp = note::verify_checkpoint(text, "127.0.0.1", &root.tlogs[1].public_key).unwrap();
        assert!(cp.size <= stored_size);
        if cp.size > 0 {
            let proof = tree.consistency_proof(cp.size, head.size).unwrap();
            verify_consistency(cp.size, head.size, &proof, &cp.root_hash, &head.root_hash).unwrap();
        }
    }
    eprintln!(
        "v2 kill -9: {} acknowledged, all present; {} answered and {} served checkpoints \
         consistent with the final tree of {}",
        acked.len(),
        acked.len(),
        served.len(),
        head.size
    );
    drop(server);
    assert!(matches!(crate::support::check(&data).0, 0 | 3));
}

#[test]
fn v2_answers_duplicates_dsse_and_unknown_fields_as_rekor_tiles_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let (req, _, _) = request(&key, b"once");
    let resp = server.post("/api/v2/log/entries", &req);
    assert_eq!(resp.status(), 201);
    let entry: Value = resp.json().unwrap();
    // protojson with EmitUnpopulated, as rekor-tiles' gateway writes it.
    assert_eq!(entry["integratedTime"], "0");
    assert!(entry["inclusionPromise"].is_null());
    assert_eq!(
        server
            .post("/api/v2/log/entries", &request(&key, b"two").0)
            .status(),
        201
    );

    // The same request again: 409 Conflict naming the existing entry, nothing added.
    let resp = server.post("/api/v2/log/entries", &req);
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.headers()["x-log-index"], "0");
    let body: Value = resp.json().unwrap();
    assert_eq!(
        body,
        json!({"code": 6, "message":
            "an equivalent entry already exists in the transparency log with index 0",
            "details": []})
    );
    // The static checkpoint is published after the commit: wait for it (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut cp = server.get("/checkpoint").text().unwrap();
    while cp.lines().nth(1) != Some("2") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        cp = server.get("/checkpoint").text().unwrap();
    }
    assert_eq!(cp.lines().nth(1), Some("2"), "{cp}");

    // DSSE requests are refused (rekor-tiles 2.1+), as are fields the proto does not have;
    // errors are google.rpc.Status.
    let dsse = json!({"dsseRequestV002": {"envelope": {"payload": "e30=",
        "payloadType": "application/vnd.in-toto+json", "signatures": []}, "verifiers": []}});
    let resp = server.post("/api/v2/log/entries", &dsse);
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().unwrap();
    assert_eq!(
        body,
        json!({"code": 3, "message": "invalid type, must be hashedrekord", "details": []})
    );
    let mut unknown = request(&key, b"three").0;
    unknown["hashedRekordRequestV002"]["signature"]["extra"] = json!("x");
    let resp = server.post("/api/v2/log/entries", &unknown);
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"extra\""),
        "{body}"
    );
}
