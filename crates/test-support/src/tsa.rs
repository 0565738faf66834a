//! The real RFC 3161 timestamp authority (sigstore/timestamp-authority 2.1.3,
//! `timestamp-server serve`) on `127.0.0.1` with its in-memory signer ([`TimestampServer`]),
//! and the DER `TimeStampReq` clients send it ([`timestamp_query`]).
//!
//! Command line (in a temp dir, which is also `$HOME`, so no `timestamp-server.yaml` of the
//! user's is read):
//!
//! ```text
//! timestamp-server serve --host 127.0.0.1 --port 0 --timestamp-signer memory
//!   --disable-ntp-monitoring --log-type dev
//! ```
//!
//! - `--port 0`: the server picks a port and logs `Serving timestamp server at
//!   http://127.0.0.1:PORT`, which is read back (no port race).
//! - `--disable-ntp-monitoring`: otherwise it queries public NTP servers (its embedded
//!   `ntpsync.yaml`) and stops serving when they disagree with the clock.
//! - The memory signer makes a fresh ECDSA P-256 chain (root → intermediate → timestamping leaf,
//!   EKU timeStamping critical), served at `/api/v1/timestamp/certchain`. Responses hold only the
//!   leaf (`--include-chain-in-response` is false), as from the public-good TSA.
//!
//! Its Prometheus server always listens on `:2112` (hard-coded in 2.1.3, all interfaces; a
//! second instance exits with `listen tcp :2112: bind: address already in use`). So a test
//! binary runs one TSA, shared by every [`TimestampServer`] handle alive at the same time, and
//! test processes take turns through a file lock (`$TMPDIR/cosign-rs-timestamp-server-2112.lock`)
//! held while it runs. Starting takes 35 to 60 ms here (until the chain is served).

use std::fs::File;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fulcio::{TrustedRootJson, ValidFor, authority_from_pem, der, sha256};
use crate::go_tools::{ChildService, http_get_ok, timestamp_server_bin};

/// The OID of SHA-256 (2.16.840.1.101.3.4.2.1), DER.
const SHA256_OID: [u8; 11] = [
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];

/// A DER INTEGER holding the unsigned big-endian `bytes`.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    if v.is_empty() || v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    der(0x02, &v)
}

/// A DER `TimeStampReq` (RFC 3161 §2.4.1): version 1, the SHA-256 `message_digest` as the
/// message imprint (algorithm parameters NULL), `nonce` (unsigned big-endian, e.g. 16 random
/// bytes), `certReq` when `cert_req` (the TSA then includes its certificate); no policy, no
/// extensions.
pub fn timestamp_query(message_digest: &[u8; 32], nonce: &[u8], cert_req: bool) -> Vec<u8> {
    let alg = der(0x30, &[&SHA256_OID[..], &[0x05, 0x00]].concat());
    let imprint = der(0x30, &[alg, der(0x04, message_digest)].concat());
    let mut body = [der_uint(&[1]), imprint, der_uint(nonce)].concat();
    if cert_req {
        body.extend_from_slice(&[0x01, 0x01, 0xff]);
    }
    der(0x30, &body)
}

struct Process {
    service: ChildService,
    base_url: String,
    chain_pem: String,
    /// Released (closed) after the process is gone.
    lock: Option<File>,
}

impl Drop for Process {
    fn drop(&mut self) {
        self.service.stop();
        drop(self.lock.take());
    }
}

/// The process's one TSA, while a handle to it is alive.
static SHARED: Mutex<Weak<Process>> = Mutex::new(Weak::new());

/// A handle to the running timestamp authority; the process is killed when the last handle of
/// the test binary is dropped.
#[derive(Clone)]
pub struct TimestampServer {
    process: Arc<Process>,
}

/// How long to wait for another test process's TSA to finish.
const LOCK_WAIT: Duration = Duration::from_secs(300);

fn take_metrics_port_lock() -> File {
    let path = std::env::temp_dir().join("cosign-rs-timestamp-server-2112.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return file,
            Err(fs4::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!(
                "locking {} (another test process runs a timestamp-server, whose metrics port \
                 2112 is fixed) failed after {LOCK_WAIT:?}: {e}",
                path.display()
            ),
        }
    }
}

impl TimestampServer {
    /// The test binary's TSA: started now, or the one already running.
    pub fn start() -> Self {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(process) = shared.upgrade() {
            return Self { process };
        }
        let process = Arc::new(Self::spawn());
        *shared = Arc::downgrade(&process);
        Self { process }
    }

    fn spawn() -> Process {
        let bin = timestamp_server_bin();
        let lock = take_metrics_port_lock();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(&bin);
        cmd.args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .args(["--timestamp-signer", "memory", "--disable-ntp-monitoring"])
            .args(["--log-type", "dev"])
            .current_dir(dir.path())
            .env("HOME", dir.path());
        let mut service = ChildService::spawn("timestamp-server", cmd, dir);
        let marker = "Serving timestamp server at http://";
        let base_url = service
            .wait_for(Duration::from_secs(30), |s| {
                let log = s.log();
                let at = log.find(marker)? + marker.len();
                let addr: String = log[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                Some(format!("http://{addr}"))
            })
            .unwrap_or_else(|log| panic!("timestamp-server did not start:\n{log}"));
        let client = crate::client::http_client(None);
        let chain_url = format!("{base_url}/api/v1/timestamp/certchain");
        let chain_pem = service
            .wait_for(Duration::from_secs(10), |_| {
                http_get_ok(&client, &chain_url)
            })
            .unwrap_or_else(|log| panic!("timestamp-server serves no chain:\n{log}"));
        Process {
            service,
            base_url,
            chain_pem,
            lock: Some(lock),
        }
    }

    /// `http://127.0.0.1:PORT/api/v1/timestamp`: where RFC 3161 queries are POSTed
    /// (`Content-Type: application/timestamp-query`; answers `application/timestamp-reply`).
    pub fn url(&self) -> String {
        format!("{}/api/v1/timestamp", self.process.base_url)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.process.base_url
    }

    /// The signing chain (PEM: timestamping leaf, intermediate, root) from
    /// `/api/v1/timestamp/certchain`.
    pub fn chain_pem(&self) -> &str {
        &self.process.chain_pem
    }

    /// The `timestampAuthorities` entry of a trusted root naming this TSA.
    pub fn authority_json(&self, valid_for: ValidFor) -> Value {
        authority_from_pem(&self.process.chain_pem, self.base_url(), valid_for)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.process.service.log()
    }

    /// The temp dir holding the log.
    pub fn dir(&self) -> PathBuf {
        self.process.service.dir().to_path_buf()
    }

    /// Timestamps `data` (SHA-256, a fixed nonce, certReq): the DER `TimeStampResp`.
    pub fn timestamp(&self, data: &[u8]) -> Vec<u8> {
        let query = timestamp_query(&sha256(data), &[0x5c; 8], true);
        let client = crate::client::http_client(None);
        let url = self.url();
        crate::rt::block_on(async move {
            let resp = client
                .post(&url)
                .header("Content-Type", "application/timestamp-query")
                .body(query)
                .send()
                .await
                .expect("timestamp request");
            let status = resp.status();
            let body = resp.bytes().await.expect("timestamp response").to_vec();
            assert!(
                status.is_success(),
                "timestamp-server answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            body
        })
    }
}

impl TrustedRootJson {
    /// Adds a running TSA, valid from 2000 on.
    pub fn timestamp_server(mut self, tsa: &TimestampServer) -> Self {
        self.timestamp_authorities
            .push(tsa.authority_json(ValidFor::always()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_rfc_3161_der() {
        let q = timestamp_query(&[0xab; 32], &[0x80, 1], true);
        let expected = [
            &[0x30, 0x3e, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d][..],
            &SHA256_OID,
            &[0x05, 0x00, 0x04, 0x20],
            &[0xab; 32],
            &[0x02, 0x03, 0x00, 0x80, 0x01, 0x01, 0x01, 0xff],
        ]
        .concat();
        assert_eq!(q, expected);
        let plain = timestamp_query(&[0; 32], &[0, 0, 7], false);
        assert!(plain.ends_with(&[0x02, 0x01, 0x07]));
    }
}
