//! The real Fulcio (sigstore/fulcio 1.8.8, `fulcio serve`) on `127.0.0.1`, trusting test OIDC
//! issuers ([`crate::oidc::OidcIssuer`], plain http is accepted) and logging every certificate
//! to a [`CtLogServer`], whose SCT it embeds ([`FulcioServer`]).
//!
//! Command line (ports are free ports; everything else in a temp dir):
//!
//! ```text
//! fulcio serve --ca fileca --fileca-cert chain.pem --fileca-key key.pem --fileca-key-passwd unused
//!   --fileca-watch=false --config-path config.json
//!   --host 127.0.0.1 --port HTTP --grpc-host 127.0.0.1 --grpc-port GRPC --metrics-port 0
//!   --legacy-unix-domain-socket DIR/legacy.sock
//!   --ct-log-url http://127.0.0.1:CT/test --ct-log-public-key-path ct.pub --log_type dev
//! ```
//!
//! - `--ca fileca` (default, [`FulcioCaSource::File`]): a [`FulcioCa`] (root → intermediate,
//!   the intermediate signs, as the public-good instance); its key is written unencrypted
//!   (PKCS#8), which Fulcio's loader accepts with any password. `--ca ephemeralca`
//!   ([`FulcioCaSource::Ephemeral`]): a fresh self-signed root only; the chain is then read from
//!   `/api/v2/trustBundle`.
//! - `--ct-log-url` is the log's base URL with its prefix; Fulcio's CT client posts to
//!   `<url>/ct/v1/add-pre-chain`. With `--ct-log-public-key-path` Fulcio checks each SCT before
//!   embedding it ([`FulcioOptions::check_sct`], on by default; off for hostile CT logs).
//! - `--metrics-port 0`: Prometheus on a random port (Fulcio binds it on all interfaces);
//!   `--legacy-unix-domain-socket` in the temp dir, as the default (`@fulcio-legacy-grpc-socket`,
//!   an abstract socket) would clash between two instances.
//! - The config (`--config-path`, JSON) maps each issuer URL to `{"IssuerURL", "ClientID":
//!   "sigstore", "Type"}`; Fulcio fetches each issuer's discovery document at start.
//!
//! Starting takes 40 to 75 ms here (until `/api/v2/trustBundle` answers; 2 shared cores).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::ctlog::CtLogServer;
use crate::fulcio::{FulcioCa, TrustedRootJson, ValidFor, authority_from_pem};
use crate::go_tools::{ChildService, free_port, fulcio_bin, http_get_ok};

/// How Fulcio names the subject of a token (its config's issuer `Type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuerType {
    /// `email`: the SAN is the verified `email` claim; proof of possession signs the email.
    Email,
    /// `github-workflow`: GitHub Actions tokens (the SAN is `https://github.com/` +
    /// `job_workflow_ref`, the workflow claims become extensions); proof signs `sub`.
    GithubWorkflow,
    /// `uri`: the SAN is the `sub` claim, a URI under `subject_domain` (same scheme and host as
    /// the issuer, e.g. `http://127.0.0.1`); proof signs `sub`.
    Uri {
        /// `SubjectDomain`.
        subject_domain: String,
    },
    /// `username`: the SAN is `sub@subject_domain` (an email SAN); proof signs `sub`.
    Username {
        /// `SubjectDomain` (no scheme; the issuer's host, e.g. `127.0.0.1`).
        subject_domain: String,
    },
}

impl IssuerType {
    fn name(&self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::GithubWorkflow => "github-workflow",
            Self::Uri { .. } => "uri",
            Self::Username { .. } => "username",
        }
    }
}

/// One OIDC issuer Fulcio trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// The issuer URL, exactly as in the tokens' `iss` (e.g. [`crate::oidc::OidcIssuer::url`]).
    pub url: String,
    /// The audience Fulcio requires (`sigstore`).
    pub client_id: String,
    /// How the subject is named.
    pub issuer_type: IssuerType,
}

impl TrustedIssuer {
    /// An `email` issuer with client ID `sigstore`.
    pub fn email(url: &str) -> Self {
        Self::new(url, IssuerType::Email)
    }

    /// An issuer of this type with client ID `sigstore`.
    pub fn new(url: &str, issuer_type: IssuerType) -> Self {
        Self {
            url: url.to_owned(),
            client_id: "sigstore".to_owned(),
            issuer_type,
        }
    }

    fn config(&self) -> Value {
        let mut v = json!({
            "IssuerURL": self.url,
            "ClientID": self.client_id,
            "Type": self.issuer_type.name(),
        });
        match &self.issuer_type {
            IssuerType::Uri { subject_domain } | IssuerType::Username { subject_domain } => {
                v["SubjectDomain"] = json!(subject_domain);
            }
            IssuerType::Email | IssuerType::GithubWorkflow => {}
        }
        v
    }
}

/// Where Fulcio's signing key and chain come from.
pub enum FulcioCaSource {
    /// `--ca fileca` with this CA's intermediate key and chain (intermediate, root).
    File(Box<FulcioCa>),
    /// `--ca ephemeralca`: a self-signed root made at start, the only certificate of the chain.
    Ephemeral,
}

/// What to start Fulcio with.
pub struct FulcioOptions {
    /// The issuers it trusts.
    pub issuers: Vec<TrustedIssuer>,
    /// Its CA.
    pub ca: FulcioCaSource,
    /// Pass the CT log's key (`--ct-log-public-key-path`), so Fulcio checks the SCT before
    /// embedding it. Off, Fulcio embeds whatever the log answers (hostile-log tests).
    pub check_sct: bool,
}

impl FulcioOptions {
    /// Trusts `issuers`; a fresh file CA; SCTs checked.
    pub fn new(issuers: Vec<TrustedIssuer>) -> Self {
        Self {
            issuers,
            ca: FulcioCaSource::File(Box::new(FulcioCa::named("test-fulcio"))),
            check_sct: true,
        }
    }
}

/// A running Fulcio. Dropping it kills the process (its log is printed when that happens during
/// a panic).
pub struct FulcioServer {
    service: ChildService,
    url: String,
    grpc_addr: String,
    chain_pem: String,
    ca: Option<FulcioCa>,
}

impl FulcioServer {
    /// Fulcio trusting the `email` issuer at `issuer_url` (e.g. an
    /// [`crate::oidc::OidcIssuer`]'s URL), with a file CA, logging to `ct`.
    pub fn start(issuer_url: &str, ct: &CtLogServer) -> Self {
        Self::start_with(
            ct,
            FulcioOptions::new(vec![TrustedIssuer::email(issuer_url)]),
        )
    }

    /// Fulcio as `options` say, logging to `ct`.
    pub fn start_with(ct: &CtLogServer, options: FulcioOptions) -> Self {
        let bin = fulcio_bin();
        let mut last = String::new();
        let FulcioOptions {
            issuers,
            ca,
            check_sct,
        } = options;
        let mut ca = Some(ca);
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let config = json!({
                "OIDCIssuers": issuers
                    .iter()
                    .map(|i| (i.url.clone(), i.config()))
                    .collect::<serde_json::Map<_, _>>(),
            });
            let config_path = dir.path().join("config.json");
            std::fs::write(&config_path, config.to_string()).expect("write Fulcio config");
            let (http_port, grpc_port) = (free_port(), free_port());
            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .args(["--log_type", "dev", "--config-path"])
                .arg(&config_path)
                .args(["--host", "127.0.0.1", "--port", &http_port.to_string()])
                .args(["--grpc-host", "127.0.0.1"])
                .args(["--grpc-port", &grpc_port.to_string()])
                .args(["--metrics-port", "0", "--legacy-unix-domain-socket"])
                .arg(dir.path().join("legacy.sock"))
                .args(["--ct-log-url", ct.url()])
                .current_dir(dir.path());
            if check_sct {
                let key = dir.path().join("ct.pub");
                std::fs::write(&key, ct.public_key_pem()).expect("write CT log key");
                cmd.arg("--ct-log-public-key-path").arg(key);
            }
            match ca.as_ref().expect("CA") {
                FulcioCaSource::File(file_ca) => {
                    let (chain, key) = (dir.path().join("ca.pem"), dir.path().join("ca-key.pem"));
                    std::fs::write(&chain, file_ca.chain_pem()).expect("write CA chain");
                    std::fs::write(&key, file_ca.intermediate_key_pem()).expect("write CA key");
                    cmd.args(["--ca", "fileca", "--fileca-cert"])
                        .arg(&chain)
                        .arg("--fileca-key")
                        .arg(&key)
                        .args(["--fileca-key-passwd", "unused", "--fileca-watch=false"]);
                }
                FulcioCaSource::Ephemeral => {
                    cmd.args(["--ca", "ephemeralca"]);
                }
            }
            // Fulcio reads FULCIO_SERVE_* variables as flags: keep the caller's out.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("FULCIO_SERVE") {
                    cmd.env_remove(&name);
                }
            }
            let mut service = ChildService::spawn("fulcio", cmd, dir);
            let url = format!("http://127.0.0.1:{http_port}");
            let client = crate::client::http_client(None);
            let bundle = format!("{url}/api/v2/trustBundle");
            match service.wait_for(Duration::from_secs(30), |_| http_get_ok(&client, &bundle)) {
                Ok(body) => {
                    let chain_pem = chain_from_bundle(&body);
                    let ca = match ca.take().expect("CA") {
                        FulcioCaSource::File(c) => Some(*c),
                        FulcioCaSource::Ephemeral => None,
                    };
                    if let Some(c) = &ca {
                        assert_eq!(
                            crate::fulcio::certs_der_from_pem(&chain_pem),
                            crate::fulcio::certs_der_from_pem(&c.chain_pem()),
                            "Fulcio's trust bundle is not the file CA's chain"
                        );
                    }
                    return Self {
                        service,
                        url,
                        grpc_addr: format!("127.0.0.1:{grpc_port}"),
                        chain_pem,
                        ca,
                    };
                }
                Err(log) if log.contains("address already in use") => {
                    last = log;
                    continue;
                }
                Err(log) => panic!("Fulcio did not start:\n{log}"),
            }
        }
        panic!("Fulcio: no free ports after 5 attempts:\n{last}");
    }

    /// `http://127.0.0.1:PORT`: the HTTP API (`/api/v2/signingCert`, `/api/v2/trustBundle`,
    /// `/api/v2/configuration`, legacy `/api/v1/signingCert`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `127.0.0.1:PORT` of the gRPC API (plaintext).
    pub fn grpc_addr(&self) -> &str {
        &self.grpc_addr
    }

    /// The CA chain (PEM, the issuing certificate first, the root last) from
    /// `/api/v2/trustBundle` at start.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// The file CA, when it has one (its keys can issue other certificates under the same
    /// chain).
    pub fn ca(&self) -> Option<&FulcioCa> {
        self.ca.as_ref()
    }

    /// The `certificateAuthorities` entry of a trusted root naming this Fulcio.
    pub fn authority_json(&self, valid_for: ValidFor) -> Value {
        authority_from_pem(&self.chain_pem, &self.url, valid_for)
    }

    /// Fulcio's log so far.
    pub fn log(&self) -> String {
        self.service.log()
    }

    /// The temp dir holding the config, keys and log.
    pub fn dir(&self) -> PathBuf {
        self.service.dir().to_path_buf()
    }

    /// Stops Fulcio.
    pub fn stop(&mut self) {
        self.service.stop();
    }
}

/// The first chain of a `/api/v2/trustBundle` answer, PEM.
fn chain_from_bundle(body: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("trust bundle JSON");
    v["chains"][0]["certificates"]
        .as_array()
        .expect("a chain in the trust bundle")
        .iter()
        .map(|c| {
            let pem = c.as_str().expect("PEM string");
            if pem.ends_with('\n') {
                pem.to_owned()
            } else {
                format!("{pem}\n")
            }
        })
        .collect()
}

impl TrustedRootJson {
    /// Adds a running Fulcio's CA, valid from 2000 on.
    pub fn fulcio(mut self, fulcio: &FulcioServer) -> Self {
        self.certificate_authorities
            .push(fulcio.authority_json(ValidFor::always()));
        self
    }

    /// Adds a running CT log, valid from 2000 on.
    pub fn ct_log_server(self, ct: &CtLogServer) -> Self {
        self.ctlog(ct.log(), ValidFor::always())
    }

    /// A trusted root for the whole keyless stack: Fulcio's CA, the CT log, the Rekor v1 and
    /// v2 logs of `tlog` and the TSA, each given.
    pub fn keyless(
        fulcio: &FulcioServer,
        ct: &CtLogServer,
        tlog: Option<&crate::TlogServer>,
        tsa: Option<&crate::TimestampServer>,
    ) -> Self {
        let mut root = Self::new().fulcio(fulcio).ct_log_server(ct);
        if let Some(t) = tlog {
            root = root.tlog_server_v1_v2(t);
        }
        if let Some(t) = tsa {
            root = root.timestamp_server(t);
        }
        root
    }
}
