//! Starts the real `tlog-server` binary on 127.0.0.1:0 and builds signed proposals.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use cosign_crypto::{Digest, HashAlgorithm, PrivateKey, SignatureScheme};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_tlog-server");

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// A running server; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// Server stderr lines after `listening on` (kept so the reader thread never blocks).
    _stderr: std::sync::Mutex<mpsc::Receiver<String>>,
}

impl Server {
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        match Self::try_start(data_dir, extra) {
            Ok(server) => server,
            Err(stderr) => panic!("tlog-server did not start; stderr: {stderr}"),
        }
    }

    /// Starts a server; `Err` with its stderr if it exits (or hangs) instead of listening.
    pub fn try_start(data_dir: &Path, extra: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(BIN)
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tlog-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let url = loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        break addr.trim().to_owned();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(seen.join("\n"));
                }
            }
        };
        Ok(Self {
            child,
            url,
            _stderr: std::sync::Mutex::new(rx),
        })
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn client(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client()
            .get(format!("{}{path}", self.url))
            .send()
            .unwrap()
    }

    pub fn post(&self, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.client()
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .unwrap()
    }

    pub fn public_key_pem(&self) -> String {
        self.get("/api/v1/log/publicKey").text().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A signer for test entries.
pub struct Signer {
    pub key: PrivateKey,
}

impl Signer {
    pub fn new() -> Self {
        Self {
            key: PrivateKey::generate_ecdsa_p256().unwrap(),
        }
    }

    pub fn pem(&self) -> String {
        self.key.public_key().to_pem()
    }

    /// A hashedrekord proposal for an artifact with this content.
    pub fn hashedrekord(&self, artifact: &[u8]) -> (Value, String) {
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, artifact);
        (self.hashedrekord_digest(&digest), digest.hex())
    }

    pub fn hashedrekord_digest(&self, digest: &Digest) -> Value {
        let sig = self
            .key
            .sign_digest(SignatureScheme::EcdsaP256Sha256, digest)
            .unwrap();
        json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": b64(&sig), "publicKey": {"content": b64(self.pem().as_bytes())}},
            },
        })
    }

    /// A dsse proposal for an in-toto statement about `subject_sha256`.
    pub fn dsse(&self, subject_sha256: &str) -> (Value, Vec<u8>) {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://cosign.sigstore.dev/attestation/v1",
            "subject": [{"name": "artifact", "digest": {"sha256": subject_sha256}}],
            "predicate": {"Data": "hello", "Timestamp": "2024-01-01T00:00:00Z"},
        });
        let payload = serde_json::to_vec(&statement).unwrap();
        let pae = cosign_types::pae(cosign_types::IN_TOTO_PAYLOAD_TYPE, &payload);
        let sig = self
            .key
            .sign_message(SignatureScheme::EcdsaP256Sha256, &pae)
            .unwrap();
        let envelope = json!({
            "payloadType": cosign_types::IN_TOTO_PAYLOAD_TYPE,
            "payload": b64(&payload),
            "signatures": [{"keyid": "", "sig": b64(&sig)}],
        });
        let proposal = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {
                "envelope": envelope.to_string(),
                "verifiers": [b64(self.pem().as_bytes())],
            }},
        });
        (proposal, payload)
    }
}

/// Random bytes for unique artifacts.
pub fn random_artifact() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    getrandom::fill(&mut b).unwrap();
    b
}

/// `tlog-server check --data-dir DIR`: (exit code, stdout).
pub fn check(data_dir: &Path) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["check", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// One frame of an entry log file (see the server's `wal` module).
#[derive(Debug, Clone)]
pub struct Frame {
    pub start: usize,
    pub body_start: usize,
    pub end: usize,
    pub set: Option<Vec<u8>>,
}

/// Parses the frames of an intact entry log.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos + 16 <= bytes.len() {
        let word = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        let len = (word & 0x7fff_ffff) as usize;
        let mut at = pos + 16;
        let mut set = None;
        if word & 0x8000_0000 != 0 {
            let n = u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
            set = Some(bytes[at + 2..at + 2 + n].to_vec());
            at += 2 + n;
        }
        out.push(Frame {
            start: pos,
            body_start: at,
            end: at + len,
            set,
        });
        pos = at + len;
    }
    out
}

/// Serialises the load-heavy tests (kill -9 under load, the slow-client flood) so that their
/// timing assertions hold on a small machine while the other tests run in parallel.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The stored tree head file of a data directory (two fixed-size slots, see `head.rs`).
pub fn head_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("tree-head.slots")
}

/// The newest valid head slot's payload (magic, sequence, length, CRC32 over sequence, length
/// and payload; 4096-byte slots).
pub fn stored_head(data_dir: &Path) -> Value {
    let bytes = std::fs::read(head_file(data_dir)).unwrap();
    assert_eq!(bytes.len(), 8192);
    let mut best: Option<(u64, Value)> = None;
    for slot in bytes.chunks(4096) {
        if &slot[..8] != b"TLOGHDS1" {
            continue;
        }
        let seq = u64::from_le_bytes(slot[8..16].try_into().unwrap());
        let len = u32::from_le_bytes(slot[16..20].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(slot[20..24].try_into().unwrap());
        let Some(payload) = slot.get(24..24 + len) else {
            continue;
        };
        let mut h = crc32fast::Hasher::new();
        h.update(&slot[8..20]);
        h.update(payload);
        if h.finalize() != crc || best.as_ref().is_some_and(|(s, _)| *s > seq) {
            continue;
        }
        best = Some((seq, serde_json::from_slice(payload).unwrap()));
    }
    best.expect("no valid head slot").1
}
