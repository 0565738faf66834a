//! A fake Rekor v1 server on 127.0.0.1, built from cosign-tlog's pieces (the same validation,
//! tree, checkpoints and SETs a real log produces), serving one request per connection.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PrivateKey;
use cosign_tlog::checkpoint::{Checkpoint, sign_note};
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use cosign_tlog::{InclusionProof, LogEntry, entry, set};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The log's state.
pub struct FakeLog {
    pub key: PrivateKey,
    pub tree: MerkleTree,
    pub entries: Vec<LogEntry>,
    /// Sign SETs and checkpoints with this key instead (a lying log).
    pub rogue: Option<PrivateKey>,
}

impl FakeLog {
    fn signer(&self) -> &PrivateKey {
        self.rogue.as_ref().unwrap_or(&self.key)
    }

    fn sth(&self, size: u64) -> String {
        sign_note(
            &Checkpoint {
                origin: "rekor.fake - 3904496407287907110".to_owned(),
                size,
                root_hash: self.tree.root_at(size).unwrap(),
                other: vec!["Timestamp: 1700000000000000000".to_owned()],
            },
            "rekor.fake",
            self.signer(),
        )
        .unwrap()
    }

    fn add(&mut self, body: Vec<u8>) -> LogEntry {
        let leaf = leaf_hash(&body);
        let index = self.tree.push(leaf);
        let log_id = hex::encode(self.key.public_key().hint());
        let time = 1_700_000_000;
        let payload = set::payload(&STANDARD.encode(&body), time, &log_id, index as i64);
        let e = LogEntry {
            uuid: format!("362f8ecba72f4326{}", hex::encode(leaf)),
            body,
            integrated_time: time,
            log_id,
            log_index: index as i64,
            inclusion_proof: None,
            signed_entry_timestamp: Some(set::sign(&payload, self.signer()).unwrap()),
        };
        self.entries.push(e.clone());
        e
    }

    /// The entry with a fresh proof to the current tree head.
    fn with_proof(&self, e: &LogEntry) -> LogEntry {
        let mut e = e.clone();
        let size = self.tree.size();
        let index = e.log_index as u64;
        e.inclusion_proof = Some(InclusionProof {
            log_index: e.log_index,
            root_hash: self.tree.root(),
            tree_size: size as i64,
            hashes: self.tree.inclusion_proof(index, size).unwrap(),
            checkpoint: self.sth(size),
        });
        e
    }

    fn response(&self, e: &LogEntry) -> Value {
        LogEntry::to_response(&[self.with_proof(e)])
    }
}

pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn json_response(status: u16, v: &Value) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(v).unwrap(),
    }
}

fn error(status: u16, message: &str) -> Response {
    json_response(status, &json!({"code": status, "message": message}))
}

fn handle(log: &mut FakeLog, method: &str, target: &str, body: &[u8]) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    match (method, path) {
        ("POST", "/api/v1/log/entries") => {
            let proposed: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return error(400, &e.to_string()),
            };
            let stored = match entry::canonicalize_proposed(&proposed) {
                Ok(b) => b,
                Err(e) => return error(400, &e.to_string()),
            };
            if let Some(existing) = log.entries.iter().find(|e| e.body == stored) {
                let uuid = existing.uuid.clone();
                let mut r = error(
                    409,
                    &format!(
                        "an equivalent entry already exists in the transparency log with UUID {uuid}"
                    ),
                );
                r.headers
                    .push(("Location".into(), format!("/api/v1/log/entries/{uuid}")));
                return r;
            }
            let e = log.add(stored);
            let mut r = json_response(201, &log.response(&e));
            r.headers.push(("ETag".into(), e.uuid.clone()));
            r.headers
                .push(("Location".into(), format!("/api/v1/log/entries/{}", e.uuid)));
            r
        }
        ("GET", "/api/v1/log/entries") => {
            let index: usize = param("logIndex")
                .and_then(|i| i.parse().ok())
                .unwrap_or(usize::MAX);
            match log.entries.get(index) {
                Some(e) => json_response(200, &log.response(e)),
                None => error(404, "entry not found"),
            }
        }
        ("GET", p) if p.starts_with("/api/v1/log/entries/") => {
            let uuid = p.rsplit('/').next().unwrap_or_default();
            let tail = &uuid[uuid.len().saturating_sub(64)..];
            match log.entries.iter().find(|e| e.uuid.ends_with(tail)) {
                Some(e) => json_response(200, &log.response(e)),
                None => error(404, "entry not found"),
            }
        }
        ("POST", "/api/v1/log/entries/retrieve") => {
            let q: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let mut found = Vec::new();
            for uuid in q["entryUUIDs"].as_array().into_iter().flatten() {
                let uuid = uuid.as_str().unwrap_or_default();
                let tail = &uuid[uuid.len().saturating_sub(64)..];
                if let Some(e) = log.entries.iter().find(|e| e.uuid.ends_with(tail)) {
                    found.push(log.response(e));
                }
            }
            for index in q["logIndexes"].as_array().into_iter().flatten() {
                if let Some(e) = index.as_u64().and_then(|i| log.entries.get(i as usize)) {
                    found.push(log.response(e));
                }
            }
            for proposed in q["entries"].as_array().into_iter().flatten() {
                let Ok(stored) = entry::canonicalize_proposed(proposed) else {
                    continue;
                };
                if let Some(e) = log.entries.iter().find(|e| e.body == stored) {
                    found.push(log.response(e));
                }
            }
            json_response(200, &Value::Array(found))
        }
        ("POST", "/api/v1/index/retrieve") => {
            let q: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let mut wanted = Vec::new();
            if let Some(h) = q["hash"].as_str() {
                wanted.push(h.to_owned());
            }
            if let Some(content) = q["publicKey"]["content"].as_str() {
                let pem = STANDARD.decode(content).unwrap_or_default();
                wanted.extend(entry::key_index(&pem));
            }
            let uuids: Vec<String> = log
                .entries
                .iter()
                .filter(|e| {
                    let keys = entry::Body::parse(&e.body)
                        .map(|b| entry::index_keys(&b))
                        .unwrap_or_default();
                    wanted.iter().all(|w| keys.contains(w))
                })
                .map(|e| e.uuid.clone())
                .collect();
            json_response(200, &json!(uuids))
        }
        ("GET", "/api/v1/log") => json_response(
            200,
            &json!({
                "rootHash": hex::encode(log.tree.root()),
                "treeSize": log.tree.size(),
                "signedTreeHead": log.sth(log.tree.size()),
                "treeID": "3904496407287907110",
            }),
        ),
        ("GET", "/api/v1/log/publicKey") => Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/x-pem-file".into())],
            body: log.key.public_key().to_pem().into_bytes(),
        },
        ("GET", "/api/v1/log/proof") => {
            let first: u64 = param("firstSize").and_then(|v| v.parse().ok()).unwrap_or(0);
            let last: u64 = param("lastSize").and_then(|v| v.parse().ok()).unwrap_or(0);
            match log.tree.consistency_proof(first, last) {
                Ok(proof) => json_response(
                    200,
                    &json!({
                        "rootHash": hex::encode(log.tree.root_at(last).unwrap()),
                        "hashes": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                    }),
                ),
                Err(e) => error(400, &e.to_string()),
            }
        }
        _ => error(404, "no such route"),
    }
}

/// A running fake log.
pub struct FakeRekor {
    pub url: String,
    pub log: Arc<Mutex<FakeLog>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRekor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRekor {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(FakeLog {
            key: PrivateKey::generate_ecdsa_p256().unwrap(),
            tree: MerkleTree::new(),
            entries: Vec::new(),
            rogue: None,
        }));
        let state = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        Self { url, log, task }
    }
}

async fn serve(mut stream: TcpStream, log: Arc<Mutex<FakeLog>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 1 << 20 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let response = {
        let mut log = log.lock().unwrap();
        handle(&mut log, &method, &target, &body)
    };
    let mut out = format!(
        "HTTP/1.1 {} Fake\r\nConnection: close\r\nContent-Length: {}\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.shutdown().await
}
