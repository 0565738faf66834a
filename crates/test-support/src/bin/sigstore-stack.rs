//! A private Sigstore on 127.0.0.1 for the demo (`scripts/demo.sh`, Level 11): the test OIDC
//! issuer (with a GitHub Actions-style token endpoint), our RFC 6962 CT log, the real Fulcio
//! (file CA, SCTs checked) and the real timestamp authority, with `tlog-server` as the log.
//!
//! Usage: sigstore-stack DIR TLOG_URL TLOG_TRUSTED_ROOT
//!
//! Writes into DIR:
//! - `trusted_root.json`: Fulcio's CA, the CT log, the TSA, and the logs of TLOG_TRUSTED_ROOT
//!   (as `tlog-server trusted-root` prints it: Rekor v1 and v2);
//! - `signing_config.json` (v0.2): Fulcio, the OIDC issuer, the Rekor v2 log at TLOG_URL, the TSA;
//! - `env`: shell exports (`FULCIO_URL`, `TSA_URL`, `OIDC_ISSUER`, `IDENTITY`, and the
//!   `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` pair that makes `cosign` fetch a token as it does
//!   in GitHub Actions);
//! - `ready` once everything answers.
//!
//! Runs until DIR/stop exists or its parent exits; then stops every service.

// A demo driver: a failure aborts the run with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use test_support::fulcio::TrustedRootJson;
use test_support::oidc::{Identity, OidcIssuer};
use test_support::{CtLogServer, FulcioServer, TimestampServer};

/// The identity the demo's tokens name.
const IDENTITY: &str = "demo@cosign-rs.example";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, tlog_url, tlog_root] = args.as_slice() else {
        panic!("usage: sigstore-stack DIR TLOG_URL TLOG_TRUSTED_ROOT");
    };
    let dir = PathBuf::from(dir);
    let tlog_root =
        std::fs::read_to_string(tlog_root).unwrap_or_else(|e| panic!("reading {tlog_root}: {e}"));

    let issuer = OidcIssuer::start();
    issuer.set_identity(Identity::Email(IDENTITY.into()));
    let ct = CtLogServer::start();
    let fulcio = FulcioServer::start(issuer.url(), &ct);
    let tsa = TimestampServer::start();

    TrustedRootJson::new()
        .fulcio(&fulcio)
        .ct_log_server(&ct)
        .timestamp_server(&tsa)
        .tlogs_from(&tlog_root)
        .write(dir.join("trusted_root.json"));
    let service = |url: &str, version: u32| {
        json!({"url": url, "majorApiVersion": version,
               "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "cosign-rs.demo"})
    };
    let config = json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(fulcio.url(), 1)],
        "oidcUrls": [service(issuer.url(), 1)],
        "rekorTlogUrls": [service(tlog_url, 2)],
        "tsaUrls": [service(&tsa.url(), 1)],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    });
    std::fs::write(
        dir.join("signing_config.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    let env = format!(
        "export FULCIO_URL='{}' TSA_URL='{}' OIDC_ISSUER='{}' IDENTITY='{IDENTITY}'\n\
         export ACTIONS_ID_TOKEN_REQUEST_URL='{}' ACTIONS_ID_TOKEN_REQUEST_TOKEN='{}'\n",
        fulcio.url(),
        tsa.url(),
        issuer.url(),
        issuer.github_request_url(),
        issuer.github_request_token(),
    );
    std::fs::write(dir.join("env"), env).unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    println!(
        "OIDC issuer {}, Fulcio {}, CT log {}, TSA {}",
        issuer.url(),
        fulcio.url(),
        ct.url(),
        tsa.url()
    );

    let parent = std::os::unix::process::parent_id();
    while !dir.join("stop").exists() && std::os::unix::process::parent_id() == parent {
        std::thread::sleep(Duration::from_millis(100));
    }
    // The services stop as they are dropped.
    drop((fulcio, tsa, ct, issuer));
}
