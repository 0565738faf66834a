//! Registries as child processes on `127.0.0.1`: [`Registry::distribution`] (Debian
//! `docker-registry` 2.8.2) and [`Registry::ferro`] (`ferro-oci-server`, OCI referrers API).
//!
//! Start-up: a free port is picked by binding `127.0.0.1:0`; the child is started; every 10 ms
//! we check that it is alive, that its log says it is listening (so the port is really ours,
//! not another test's registry), and that `GET /v2/` answers. A child that lost the port race
//! ("address already in use") is retried on a new port (up to 5 times). After 10 s we panic with
//! the registry's log.
//!
//! Request logs ([`Registry::requests`]):
//! - distribution: its access log (Apache combined format, one line per request, 401s and 404s
//!   included) on the child's stdout. Go writes the line before it flushes a small response, so
//!   a request's line is normally there by the time its client has the answer; `requests()`
//!   still waits until the log has not grown for 50 ms, to be safe.
//! - ferro does not log requests, so a counting reverse proxy (in process) stands in front of
//!   it and [`Registry::host`] is the proxy's address. The proxy records a request before it
//!   forwards the response head, so `requests()` needs no wait.
//!
//! Drop kills the child (and stops the token server / proxy) and removes the temp dir.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::ca::TestCa;
use crate::client::http_client;
use crate::proxy::{Proxy, TimedRequest};
use crate::rt;
use crate::token::{TokenConfig, TokenServer};

/// The Debian package's binary.
pub const DISTRIBUTION_BIN: &str = "/usr/bin/docker-registry";
/// `service` of the token auth challenge and token audience.
pub const TOKEN_SERVICE: &str = "test-registry";
/// `iss` of the tokens.
pub const TOKEN_ISSUER: &str = "test-support-token-issuer";
/// The `realm` of the htpasswd `Basic` challenge.
pub const BASIC_REALM: &str = "test-registry";

const POLL: Duration = Duration::from_millis(10);
const START_TIMEOUT: Duration = Duration::from_secs(10);
const PORT_ATTEMPTS: usize = 5;
/// User-Agent of the readiness probe; its access-log lines are not reported.
const PROBE_UA: &str = "test-support-readiness-probe";

/// How clients authenticate to a distribution registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// Anyone may pull and push.
    #[default]
    None,
    /// HTTP Basic against a bcrypt htpasswd file: `401` with
    /// `Www-Authenticate: Basic realm="test-registry"` without credentials.
    Htpasswd { user: String, password: String },
    /// Bearer tokens from an in-process token server: `401` with
    /// `Www-Authenticate: Bearer realm="http://127.0.0.1:TPORT/token",service="test-registry",scope=..`.
    /// With `anonymous_pull`, a client without credentials gets pull-only tokens.
    Token {
        user: String,
        password: String,
        anonymous_pull: bool,
    },
}

/// Options of [`Registry::distribution`]. `Default`: no auth, plain HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    pub auth: Auth,
    /// Serve HTTPS with a leaf (`IP:127.0.0.1`, `DNS:localhost`) from a throw-away CA
    /// ([`Registry::ca_pem`]).
    pub tls: bool,
}

/// One request a registry served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The request target: path and query, as sent.
    pub path: String,
    pub status: u16,
}

enum RequestLog {
    /// distribution's access log file; `skip` lines were cleared.
    AccessLog {
        path: PathBuf,
        skip: Mutex<usize>,
    },
    Proxy(Proxy),
    /// Not recorded ([`Registry::ferro_unlogged`]).
    None,
}

/// A server behind an emulated network ([`Registry::behind_rtt`], [`Latency::in_front_of`]):
/// a counting proxy adding a round-trip time to every request and new connection; stops with
/// its drop.
pub struct Latency {
    proxy: Proxy,
}

impl Latency {
    /// A proxy with round-trip time `rtt` in front of the plain HTTP server at `url`
    /// (`http://127.0.0.1:PORT`, any path ignored).
    pub fn in_front_of(url: &str, rtt: Duration) -> Latency {
        let port: u16 = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("Latency::in_front_of: not http://127.0.0.1:PORT: {url}"));
        Latency {
            proxy: Proxy::start_with_rtt(port, rtt),
        }
    }

    /// `127.0.0.1:PORT` of the proxy.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.proxy.port)
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy.port)
    }

    /// The requests forwarded so far, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.proxy.log.lock().expect("proxy log lock").clone()
    }

    /// The requests answered so far, with when each was received and answered.
    pub fn timeline(&self) -> Vec<TimedRequest> {
        self.proxy
            .timeline
            .lock()
            .expect("proxy timeline lock")
            .clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connection_times().len()
    }

    /// When each connection so far was accepted.
    pub fn connection_times(&self) -> Vec<std::time::Instant> {
        self.proxy
            .connections
            .lock()
            .expect("proxy connection log lock")
            .clone()
    }

    /// Forgets the requests and connections counted so far.
    pub fn clear(&self) {
        self.proxy.log.lock().expect("proxy log lock").clear();
        self.proxy
            .timeline
            .lock()
            .expect("proxy timeline lock")
            .clear();
        self.proxy
            .connections
            .lock()
            .expect("proxy connection log lock")
            .clear();
    }
}

/// A running registry; dropping it kills the process and removes its files.
pub struct Registry {
    child: Child,
    host: String,
    scheme: &'static str,
    ca_pem: Option<Vec<u8>>,
    credentials: Option<(String, String)>,
    token: Option<TokenServer>,
    requests: RequestLog,
    log_path: PathBuf,
    data_dir: PathBuf,
    startup: Duration,
    _dir: TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// The Debian CNCF distribution registry (`/usr/bin/docker-registry`, no referrers API).
    pub fn distribution(config: RegistryConfig) -> Registry {
        if !Path::new(DISTRIBUTION_BIN).exists() {
            panic!("docker-registry not installed: run scripts/install-test-deps.sh");
        }
        let t0 = Instant::now();
        let dir = temp_dir();
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir).expect("create data dir");
        let mut extra_yaml = String::new();

        let mut ca_pem = None;
        if config.tls {
            let ca = TestCa::new();
            let (cert, key) = ca.leaf(&["localhost"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)]);
            let (cert_path, key_path) =
                (dir.path().join("server.crt"), dir.path().join("server.key"));
            fs::write(&cert_path, cert).expect("write server.crt");
            fs::write(&key_path, key).expect("write server.key");
            fs::write(dir.path().join("ca.crt"), &ca.ca_pem).expect("write ca.crt");
            extra_yaml += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                yaml_str(&cert_path),
                yaml_str(&key_path)
            );
            ca_pem = Some(ca.ca_pem.into_bytes());
        }

        let mut token = None;
        let credentials = match &config.auth {
            Auth::None => None,
            Auth::Htpasswd { user, password } => {
                // distribution accepts bcrypt only; cost 4 keeps every request fast.
                let hash = bcrypt::hash(password, 4).expect("bcrypt");
                let path = dir.path().join("htpasswd");
                fs::write(&path, format!("{user}:{hash}\n")).expect("write htpasswd");
                extra_yaml += &format!(
                    "auth:\n  htpasswd:\n    realm: {BASIC_REALM}\n    path: {}\n",
                    yaml_str(&path)
                );
                Some((user.clone(), password.clone()))
            }
            Auth::Token {
                user,
                password,
                anonymous_pull,
            } => {
                let server = TokenServer::start(TokenConfig {
                    issuer: TOKEN_ISSUER.to_owned(),
                    service: TOKEN_SERVICE.to_owned(),
                    user: user.clone(),
                    password: password.clone(),
                    anonymous_pull: *anonymous_pull,
                });
                let path = dir.path().join("token.crt");
                fs::write(&path, &server.cert_pem).expect("write token.crt");
                extra_yaml += &format!(
                    "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    server.realm,
                    yaml_str(&path)
                );
                token = Some(server);
                Some((user.clone(), password.clone()))
            }
        };

        let scheme = if config.tls { "https" } else { "http" };
        let access_log = dir.path().join("access.log");
        let log_path = dir.path().join("registry.log");
        let config_path = dir.path().join("config.yml");
        let (child, port) = start_with_retries(&log_path, scheme, ca_pem.as_deref(), |port| {
            let yaml = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n  \
                 cache:\n    blobdescriptor: inmemory\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  headers:\n    X-Content-Type-Options: [nosniff]\n\
                 {extra_yaml}",
                data = yaml_str(&data_dir),
            );
            fs::write(&config_path, yaml).expect("write config.yml");
            let mut cmd = Command::new(DISTRIBUTION_BIN);
            cmd.arg("serve").arg(&config_path);
            // REGISTRY_* variables override the config file: keep the caller's out.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("REGISTRY_") {
                    cmd.env_remove(name);
                }
            }
            cmd.stdout(log_file(&access_log))
                .stderr(log_file(&log_path));
            cmd
        });
        Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            scheme,
            ca_pem,
            credentials,
            token,
            requests: RequestLog::AccessLog {
                path: access_log,
                skip: Mutex::new(0),
            },
            log_path,
            data_dir,
            startup: t0.elapsed(),
            _dir: dir,
        }
    }

    /// `ferro-oci-server` (OCI 1.1 referrers API), no auth, plain HTTP, behind a counting proxy.
    /// The binary is `$FERRO_OCI_SERVER`, else `target/test-tools/bin/ferro-oci-server` in the
    /// workspace (installed by `scripts/install-test-deps.sh`).
    pub fn ferro() -> Registry {
        Self::ferro_with(true)
    }

    /// `ferro-oci-server` with clients talking to it directly: no counting proxy (whose work
    /// would be measured with the client's), so [`Registry::requests`] panics. For benchmarks.
    pub fn ferro_unlogged() -> Registry {
        Self::ferro_with(false)
    }

    fn ferro_with(logged: bool) -> Registry {
        let bin = ferro_bin();
        let t0 = Instant::now();
        let dir = temp_dir();
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir).expect("create data dir");
        let log_path = dir.path().join("ferro.log");
        let (child, port) = start_with_retries(&log_path, "http", None, |port| {
            let log = fs::File::create(&log_path).expect("create log file");
            let mut cmd = Command::new(&bin);
            cmd.env("FERRO_OCI_LISTEN", format!("127.0.0.1:{port}"))
                .env("FERRO_OCI_STORAGE_DIR", &data_dir)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .stderr(Stdio::from(log.try_clone().expect("clone log file")))
                .stdout(Stdio::from(log));
            cmd
        });
        let (host_port, requests) = if logged {
            let proxy = Proxy::start(port);
            (proxy.port, RequestLog::Proxy(proxy))
        } else {
            (port, RequestLog::None)
        };
        Registry {
            child,
            host: format!("127.0.0.1:{host_port}"),
            scheme: "http",
            ca_pem: None,
            credentials: None,
            token: None,
            requests,
            log_path,
            data_dir,
            startup: t0.elapsed(),
            _dir: dir,
        }
    }

    /// A proxy in front of this registry that adds `rtt` to every request and new connection
    /// (plain HTTP only): the registry across a network, for benchmarks. Use its
    /// [`Latency::host`] in references; the registry stays reachable directly too.
    pub fn behind_rtt(&self, rtt: Duration) -> Latency {
        assert_eq!(
            self.scheme, "http",
            "behind_rtt: plain HTTP registries only"
        );
        let port: u16 = self
            .host
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("registry port");
        Latency {
            proxy: Proxy::start_with_rtt(port, rtt),
        }
    }

    /// `127.0.0.1:PORT`: the registry part of image references.
    pub fn host(&self) -> String {
        self.host.clone()
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    /// With TLS: the PEM of the throw-away CA that signed the registry's certificate.
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.ca_pem.clone()
    }

    /// Where the registry stores blobs and manifests.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The `(user, password)` of its htpasswd or token auth, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// With token auth: the token endpoint (`http://127.0.0.1:TPORT/token`).
    pub fn token_realm(&self) -> Option<String> {
        self.token.as_ref().map(|t| t.realm.clone())
    }

    /// How long [`Registry::distribution`] / [`Registry::ferro`] took.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// User + system CPU seconds the registry process has used so far (from /proc).
    pub fn cpu_seconds(&self) -> f64 {
        crate::proc_cpu_seconds(&format!("/proc/{}/stat", self.child.id()), false)
    }

    /// The registry process's own log (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Requests served since start (or the last [`Registry::clear_requests`]), in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        match &self.requests {
            RequestLog::AccessLog { path, skip } => {
                let all = parse_access_log(&settled_read(path));
                let skip = *skip.lock().expect("skip lock");
                all.into_iter().skip(skip).collect()
            }
            RequestLog::Proxy(proxy) => proxy.log.lock().expect("proxy log lock").clone(),
            RequestLog::None => panic!("this registry does not record requests"),
        }
    }

    /// Forgets the requests served so far.
    pub fn clear_requests(&self) {
        match &self.requests {
            RequestLog::AccessLog { path, skip } => {
                let count = parse_access_log(&settled_read(path)).len();
                *skip.lock().expect("skip lock") = count;
            }
            RequestLog::Proxy(proxy) => proxy.log.lock().expect("proxy log lock").clear(),
            RequestLog::None => {}
        }
    }
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("test-registry.")
        .tempdir()
        .expect("create temp dir")
}

fn log_file(path: &Path) -> Stdio {
    Stdio::from(fs::File::create(path).expect("create log file"))
}

/// A path as a double-quoted YAML string.
fn yaml_str(path: &Path) -> String {
    serde_json::to_string(&path.to_string_lossy()).expect("quote path")
}

fn ferro_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("FERRO_OCI_SERVER") {
        return PathBuf::from(path);
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/bin/ferro-oci-server");
    if !path.exists() {
        panic!(
            "ferro-oci-server not found at {} (nor $FERRO_OCI_SERVER): run scripts/install-test-deps.sh",
            path.display()
        );
    }
    path
}

fn free_port() -> u16 {
    crate::server::bind_loopback().1
}

/// Starts `command(port)` on fresh ports until one comes up; returns the child and its port.
fn start_with_retries(
    log_path: &Path,
    scheme: &str,
    ca_pem: Option<&[u8]>,
    mut command: impl FnMut(u16) -> Command,
) -> (Child, u16) {
    let client = http_client(ca_pem);
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port();
        let mut child = command(port)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start registry: {e}"));
        let url = format!("{scheme}://127.0.0.1:{port}/v2/");
        match rt::block_on(wait_ready(&mut child, &client, &url, log_path)) {
            Ok(()) => return (child, port),
            Err(PortTaken) => continue,
        }
    }
    panic!("registry lost the port race {PORT_ATTEMPTS} times");
}

struct PortTaken;

async fn wait_ready(
    child: &mut Child,
    client: &reqwest::Client,
    url: &str,
    log_path: &Path,
) -> Result<(), PortTaken> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let log = fs::read_to_string(log_path).unwrap_or_default();
        if let Some(status) = child.try_wait().expect("poll registry process") {
            if log.contains("already in use") {
                return Err(PortTaken);
            }
            panic!("registry exited ({status}) while starting; its log:\n{log}");
        }
        // "listening on 127.0.0.1:P" (distribution) / "listening addr=127.0.0.1:P" (ferro):
        // the bind succeeded, so whatever answers on the port is this child.
        if log.contains("listening") {
            let probe = client
                .get(url)
                .header("User-Agent", PROBE_UA)
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if probe.is_ok() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("registry did not answer {url} within {START_TIMEOUT:?}; its log:\n{log}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The file's content once it has not grown for 50 ms (at most 2 s).
fn settled_read(path: &Path) -> String {
    let len = || fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let start = Instant::now();
    let mut last = len();
    let mut stable_since = Instant::now();
    while stable_since.elapsed() < Duration::from_millis(50)
        && start.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(POLL);
        let now = len();
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    fs::read_to_string(path).unwrap_or_default()
}

/// Parses Apache combined log lines:
/// `127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "referer" "user-agent"`.
fn parse_access_log(log: &str) -> Vec<LoggedRequest> {
    log.lines().filter_map(parse_access_line).collect()
}

fn parse_access_line(line: &str) -> Option<LoggedRequest> {
    let (_, rest) = line.split_once('"')?;
    let (request, rest) = rest.split_once('"')?;
    if line.trim_end().ends_with(&format!("\"{PROBE_UA}\"")) {
        return None;
    }
    let mut request = request.split(' ');
    let method = request.next()?.to_owned();
    let path = request.next()?.to_owned();
    let status = rest.split_whitespace().next()?.parse().ok()?;
    Some(LoggedRequest {
        method,
        path,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_lines() {
        let log = format!(
            "127.0.0.1 - - [21/Nov/2026:06:35:00 +0000] \"GET /v2/ HTTP/1.1\" 200 2 \"\" \"{PROBE_UA}\"\n\
             127.0.0.1 - - [21/Nov/2026:06:35:00 +0000] \"PUT /v2/a/blobs/uploads/x?_state=y&digest=sha256:00 HTTP/1.1\" 201 0 \"\" \"curl/7.88\"\n\
             time=\"2026\" level=info msg=\"not an access log line\"\n"
        );
        let got = parse_access_log(&log);
        assert_eq!(
            got,
            [LoggedRequest {
                method: "PUT".into(),
                path: "/v2/a/blobs/uploads/x?_state=y&digest=sha256:00".into(),
                status: 201
            }]
        );
    }
}
