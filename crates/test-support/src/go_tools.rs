//! The Go programs the keyless tests run (built by `scripts/install-test-deps.sh` with `go
//! install`, pinned, into `target/test-tools/bin`), and the child-process plumbing their
//! launchers share: a log file in a temp dir, readiness polling, kill on drop, the log printed
//! when a test fails while the service runs.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `target/test-tools/bin` of this workspace.
pub fn test_tools_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/bin")
}

/// A Go tool: `$<env>` if set, else `target/test-tools/bin/<name>`; panics with what to run when
/// it is missing.
pub fn go_tool_bin(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let path = test_tools_bin_dir().join(name);
    if !path.exists() {
        panic!(
            "{name} not found at {} (nor ${env}): run scripts/install-test-deps.sh, which builds \
             it with `go install` (Go >= 1.21 and the Go module proxy are needed)",
            path.display()
        );
    }
    path
}

/// Sigstore's Fulcio 1.8.8 (`$FULCIO_BIN`, else `target/test-tools/bin/fulcio`).
pub fn fulcio_bin() -> PathBuf {
    go_tool_bin("fulcio", "FULCIO_BIN")
}

/// Sigstore's timestamp authority 2.1.3 (`$TIMESTAMP_SERVER_BIN`, else
/// `target/test-tools/bin/timestamp-server`).
pub fn timestamp_server_bin() -> PathBuf {
    go_tool_bin("timestamp-server", "TIMESTAMP_SERVER_BIN")
}

/// Go cosign 3.1.2, the test peer (`$COSIGN_GO_BIN`, else `target/test-tools/bin/cosign-go`).
pub fn cosign_go_bin() -> PathBuf {
    go_tool_bin("cosign-go", "COSIGN_GO_BIN")
}

/// A free port on 127.0.0.1 (bound then released: the caller retries if another process takes
/// it first).
pub(crate) fn free_port() -> u16 {
    let (listener, port) = crate::server::bind_loopback();
    drop(listener);
    port
}

/// A child process whose stdout and stderr go to `<dir>/<name>.log`. Killed (and waited for) on
/// drop; when the drop happens during a panic, the log is printed to stderr and the directory
/// kept, so a failed test shows what the service said.
pub(crate) struct ChildService {
    name: &'static str,
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    log: PathBuf,
}

impl ChildService {
    /// Spawns `command` with its output to the log in `dir`.
    pub(crate) fn spawn(name: &'static str, mut command: Command, dir: tempfile::TempDir) -> Self {
        let log = dir.path().join(format!("{name}.log"));
        let out = File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({:?}): {e}", command.get_program()));
        Self {
            name,
            child: Some(child),
            dir: Some(dir),
            log,
        }
    }

    /// The temp dir (config files, sockets, the log).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.as_ref().expect("dir").path()
    }

    /// The log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `max` bytes of the log.
    fn log_tail(&self, max: u64) -> String {
        let Ok(mut f) = File::open(&self.log) else {
            return String::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Whether the process has exited.
    pub(crate) fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Polls `ready` every 25 ms until it answers `Some`, the process exits or `timeout`
    /// passes; the error holds the log.
    pub(crate) fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut ready: impl FnMut(&Self) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = ready(self) {
                return Ok(v);
            }
            if self.exited() {
                return Err(format!(
                    "{} exited:\n{}",
                    self.name,
                    self.log_tail(16 * 1024)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} not ready after {timeout:?}:\n{}",
                    self.name,
                    self.log_tail(16 * 1024)
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Kills and reaps the process.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildService {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            // The one place this crate prints: a failing test's output is where this log
            // helps, and the test harness captures it per test.
            #[allow(clippy::print_stderr)]
            let print = |text: String| eprintln!("{text}");
            let kept = self.dir.take().map(tempfile::TempDir::keep);
            print(format!(
                "---- {} log ({}) ----\n{}\n---- end of {} log ----",
                self.name,
                kept.map(|d| d.display().to_string()).unwrap_or_default(),
                self.log_tail(32 * 1024),
                self.name
            ));
        }
    }
}

/// `GET url` answered 200: its body.
pub(crate) fn http_get_ok(client: &reqwest::Client, url: &str) -> Option<String> {
    crate::rt::block_on(async {
        let resp = client
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        if resp.status() != reqwest::StatusCode::OK {
            return None;
        }
        resp.text().await.ok()
    })
}
