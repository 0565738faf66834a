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

mod ca;
mod client;
mod image;
mod proxy;
mod registry;
mod rt;
mod server;
mod tlog;
mod token;

pub use ca::TestCa;
pub use client::{
    FetchedManifest, MANIFEST_ACCEPT, RawResponse, RegistryClient, basic, parse_challenge,
    sha256_digest,
};
pub use image::{ImageSpec, PushedImage, push_image, push_image_with_auth};
pub use registry::{
    Auth, BASIC_REALM, DISTRIBUTION_BIN, LoggedRequest, Registry, RegistryConfig, TOKEN_ISSUER,
    TOKEN_SERVICE,
};
pub use tlog::{TlogServer, tlog_server_bin, workspace_bin};
