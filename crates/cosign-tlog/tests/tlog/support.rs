//! Test helpers: a fake Rekor log built from the crate's own pieces, and a hand-written HTTP
//! server on 127.0.0.1 whose every answer the test chooses.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PrivateKey;
use cosign_tlog::checkpoint::{Checkpoint, sign_note};
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use cosign_tlog::{InclusionProof, LogEntry, entry, set};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A transparency log in memory that signs like Rekor.
pub struct FakeLog {
    pub key: PrivateKey,
    pub tree: MerkleTree,
    pub entries: Vec<LogEntry>,
}

impl FakeLog {
    pub fn new() -> Self {
        Self {
            key: PrivateKey::generate_ecdsa_p256().unwrap(),
            tree: MerkleTree::new(),
            entries: Vec::new(),
        }
    }

    pub fn log_id(&self) -> String {
        hex::encode(self.key.public_key().hint())
    }

    /// Validates and logs a proposed entry; returns the entry as the API would.
    pub fn add(&mut self, proposed: &serde_json::Value) -> LogEntry {
        let body = entry::canonicalize_proposed(proposed).unwrap();
        let leaf = leaf_hash(&body);
        let index = self.tree.push(leaf);
        let size = self.tree.size();
        let root = self.tree.root();
        let checkpoint = sign_note(
            &Checkpoint {
                origin: "rekor.fake - 7".to_owned(),
                size,
                root_hash: root,
                other: vec!["Timestamp: 1700000000000000000".to_owned()],
            },
            "rekor.fake",
            &self.key,
        )
        .unwrap();
        let log_id = self.log_id();
        let time = 1_700_000_000 + index as i64;
        let payload = set::payload(&STANDARD.encode(&body), time, &log_id, index as i64);
        let e = LogEntry {
            uuid: hex::encode(leaf),
            body,
            integrated_time: time,
            log_id,
            log_index: index as i64,
            inclusion_proof: Some(InclusionProof {
                log_index: index as i64,
                root_hash: root,
                tree_size: size as i64,
                hashes: self.tree.inclusion_proof(index, size).unwrap(),
                checkpoint,
            }),
            signed_entry_timestamp: Some(set::sign(&payload, &self.key).unwrap()),
        };
        self.entries.push(e.clone());
        e
    }

    /// The signed tree head of the current tree.
    pub fn signed_tree_head(&self) -> String {
        sign_note(
            &Checkpoint {
                origin: "rekor.fake - 7".to_owned(),
                size: self.tree.size(),
                root_hash: self.tree.root(),
                other: vec!["Timestamp: 1700000000000000000".to_owned()],
            },
            "rekor.fake",
            &self.key,
        )
        .unwrap()
    }
}

/// One request the fake server received.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the fake server answers.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Declare this Content-Length instead of the body's.
    pub declared_length: Option<u64>,
    /// Stream chunks until the client hangs up (at most 64 MiB).
    pub endless: bool,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: serde_json::to_vec(value).unwrap(),
            declared_length: None,
            endless: false,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            declared_length: None,
            endless: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A server on 127.0.0.1 answering every request with `handler` (one request per connection).
pub struct FakeServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    seen.lock().unwrap().push(request.clone());
                    let response = handler(&request);
                    let _ = write_response(&mut stream, response).await;
                });
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 << 10 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

async fn write_response(
    stream: &mut tokio::net::TcpStream,
    response: Response,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Fake\r\nConnection: close\r\n", response.status);
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if response.endless {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        let chunk = vec![b'7'; 64 << 10];
        for _ in 0..1024 {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(&chunk).await?;
            stream.write_all(b"\r\n").await?;
        }
        return Ok(());
    }
    let length = response
        .declared_length
        .unwrap_or(response.body.len() as u64);
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.shutdown().await
}
