//! Our Rekor-compatible `tlog-server` as a test fixture: started on `127.0.0.1:0` in a temp data
//! directory, killed on drop (or on demand, to prove verification works offline).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `tlog-server`.
pub struct TlogServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    url: String,
}

/// A binary of this workspace: `$<NAME>` (upper-cased, `-` as `_`), else
/// `target/{debug,release}/<name>`, built with cargo when missing.
pub fn workspace_bin(name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(name.to_ascii_uppercase().replace('-', "_")) {
        return PathBuf::from(p);
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    for profile in ["debug", "release"] {
        let p = target.join(profile).join(name);
        if p.exists() {
            return p;
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", name, "--bin", name])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .status()
        .unwrap_or_else(|e| panic!("running cargo build -p {name}: {e}"));
    assert!(status.success(), "cargo build -p {name} failed");
    target.join("debug").join(name)
}

/// The `tlog-server` binary (see [`workspace_bin`]).
pub fn tlog_server_bin() -> PathBuf {
    workspace_bin("tlog-server")
}

impl TlogServer {
    /// Starts a fresh log.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let mut child = Command::new(tlog_server_bin())
            .args(["serve", "--data-dir"])
            .arg(&data)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tlog-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!("tlog-server did not report its address within 20 s");
            }
        };
        Self {
            child: Some(child),
            dir,
            url,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(tlog_server_bin())
            .args(args)
            .output()
            .expect("running tlog-server");
        assert!(
            out.status.success(),
            "tlog-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The log's public key (PEM).
    pub fn public_key_pem(&self) -> String {
        let data = self.data_dir();
        self.run(&[
            "public-key",
            "--data-dir",
            data.to_str().expect("utf-8 path"),
        ])
    }

    /// A trusted_root.json naming this log.
    pub fn trusted_root_json(&self) -> String {
        let data = self.data_dir();
        self.run(&[
            "trusted-root",
            "--data-dir",
            data.to_str().expect("utf-8 path"),
            "--url",
            &self.url,
        ])
    }

    /// Stops the server (e.g. to prove that verification needs no network).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TlogServer {
    fn drop(&mut self) {
        self.stop();
    }
}
