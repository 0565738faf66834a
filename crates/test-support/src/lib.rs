//! Test harness for the cosign workspace: real OCI registries on `127.0.0.1`, a token server,
//! throw-away CAs and deterministic test images. Not published; used as a dev-dependency.
//!
//! ```no_run
//! use test_support::{Auth, ImageSpec, Registry, RegistryConfig, push_image};
//!
//! let registry = Registry::distribution(RegistryConfig {
//!     auth: Auth::Htpasswd { user: "u".into(), password: "p".into() },
//!     tls: true,
//! });
//! let image = push_image(&registry, "test/hello:v1", &ImageSpec::default());
//! registry.clear_requests();
//! // ... run a command against image.digest_ref, trusting registry.ca_pem() ...
//! let served = registry.requests();
//! # let _ = served;
//! ```
//!
//! - [`Registry::distribution`]: the CNCF distribution registry 2.8.2 (Debian `docker-registry`;
//!   no referrers API), with optional htpasswd or token auth and TLS.
//! - [`Registry::ferro`]: `ferro-oci-server` (crates.io), which has the OCI 1.1 referrers API.
//! - [`push_image`]: pushes a small deterministic image or index (OCI or Docker media types).
//! - [`RegistryClient`]: plain distribution-API calls, to set up or inspect registry state.
//! - [`TestCa`]: CA and leaf certificates for TLS tests.
//! - [`TlogServer`]: our Rekor-compatible `tlog-server`, started per test.
//! - [`Moto`]: AWS KMS (moto's server over TLS, its `MessageType=DIGEST` bug corrected by
//!   `python/moto_kms_server.py`, SigV4 checked); [`OpenBao`]: Vault transit (OpenBao dev mode).
//! - [`FakeGcpKms`], [`FakeAzureKeyVault`], [`FakeKubeApi`]: documented-API fakes (no emulator
//!   of these exists here) that check every request and sign with real keys.
//! - [`SoftHsmToken`]: a throw-away SoftHSM2 PKCS#11 token with EC/RSA keys (and certificates).
//! - Keyless: the real Sigstore services, built by `scripts/install-test-deps.sh` (`go install`,
//!   pinned): [`FulcioServer`] (Fulcio 1.8.8, trusting a test [`oidc::OidcIssuer`]) logging to a
//!   [`CtLogServer`] (ours, RFC 6962 `add-chain`/`add-pre-chain`), [`TimestampServer`]
//!   (timestamp-authority 2.1.3); [`fulcio::TrustedRootJson::keyless`] names them all.
//!
//! Both registry binaries come from `scripts/install-test-deps.sh`. Every process is killed and
//! every temp dir removed when its owner is dropped. All servers listen on `127.0.0.1` only.
//! Every function is blocking and may be called from plain or `#[tokio::test]` tests.

// A test harness: a failure here is a failed test, so panicking with a clear message is the
// error handling; and it reads a few environment variables (`FERRO_OCI_SERVER`, and the
// caller's `REGISTRY_*` to keep them away from the registry) outside cosign-cli's registry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]
#![forbid(unsafe_code)]

pub mod ambient_fakes;
mod ca;
mod client;
mod ctlog;
pub mod fulcio;
mod fulcio_server;
mod go_tools;
mod image;
mod kms_fakes;
mod moto;
pub mod oidc;
mod openbao;
mod proxy;
mod registry;
mod rt;
mod server;
mod softhsm;
mod tamper;
mod tlog;
mod tls_server;
mod token;
mod tsa;

pub use ca::TestCa;
pub use client::{
    FetchedManifest, MANIFEST_ACCEPT, RawResponse, RegistryClient, basic, parse_challenge,
    sha256_digest,
};
pub use ctlog::{CT_LOG_PREFIX, CtBehaviour, CtLogServer, CtSubmission, add_chain_request};
pub use fulcio_server::{FulcioCaSource, FulcioOptions, FulcioServer, IssuerType, TrustedIssuer};
pub use go_tools::{
    cosign_go_bin, fulcio_bin, go_tool_bin, test_tools_bin_dir, timestamp_server_bin,
};
pub use image::{ImageSpec, PushedImage, push_image, push_image_with_auth};
pub use kms_fakes::{AzureKeySpec, FakeAzureKeyVault, FakeGcpKms, FakeKubeApi, KubeAuth};
pub use moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, Moto, MotoKey, test_python};
pub use openbao::{OpenBao, bao_bin};
pub use proxy::TimedRequest;
pub use registry::{
    Auth, BASIC_REALM, DISTRIBUTION_BIN, Latency, LoggedRequest, Registry, RegistryConfig,
    TOKEN_ISSUER, TOKEN_SERVICE,
};
pub use softhsm::{SOFTHSM_MODULES, SoftHsmToken, TokenKey, TokenKeyType, softhsm_module};
pub use tamper::{Exchange, Tamper};
pub use tlog::{TlogServer, tlog_server_bin, workspace_bin};
pub use tsa::{TimestampServer, timestamp_query};

/// User + system CPU seconds from a `/proc/<pid>/stat` file: the process's own (utime, stime),
/// or with `children` those of its waited-for children (cutime, cstime). Clock ticks are
/// 1/100 s on Linux.
pub fn proc_cpu_seconds(stat_path: &str, children: bool) -> f64 {
    let stat =
        std::fs::read_to_string(stat_path).unwrap_or_else(|e| panic!("reading {stat_path}: {e}"));
    // The fields after the parenthesised command name start at field 3 (state).
    let close = stat.rfind(')').expect("stat has a command name");
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let (u, s) = if children { (13, 14) } else { (11, 12) };
    let ticks: u64 =
        fields[u].parse::<u64>().expect("utime") + fields[s].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}
