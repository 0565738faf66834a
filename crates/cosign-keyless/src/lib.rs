//! The signing-side Sigstore services for keyless signing (`docs/architecture.md`, "Where
//! keyless and Sigstore trust go"). Silent: it reads no environment and prints nothing; the CLI
//! passes the environment in ([`oidc::AmbientEnv::from_lookup`]) and words the messages
//! ([`oidc::Interaction`]).
//!
//! What is here:
//! - [`oidc`]: identity tokens in Go cosign 3.1.2's order: `--identity-token` (a token or a file
//!   holding one), the ambient providers (the file `/var/run/sigstore/cosign/oidc-token`,
//!   `SIGSTORE_ID_TOKEN`, GitHub Actions, Buildkite; `--oidc-disable-ambient-providers`,
//!   `--oidc-provider`), then the interactive flows (`normal`: browser, authorization code +
//!   PKCE + loopback redirect; `device`: RFC 8628; `client_credentials`; `token`). Tokens never
//!   appear in errors or `Debug` output.
//!
//! - [`fulcio`]: the Fulcio v2 client (`POST /api/v2/signingCert`, the token as bearer, proof
//!   of possession over the token's subject) and [`IssuedCertificate::check`], which refuses a
//!   certificate for another key, outside the trusted root's CAs, without a valid SCT, or not a
//!   code-signing Fulcio leaf, before anything is signed.
//! - [`tsa`]: the RFC 3161 client (SHA-256 imprint, nonce, `certReq`), the mTLS client of the
//!   `--timestamp-client-*` flags, and [`check_timestamp`] against the trusted root.
//!
//! What comes next (issue 13): signing configs v0.2 (choosing Fulcio, Rekor v1/v2 and TSA
//! URLs); the CLI's `settings/signing.rs` wires the flags to these clients.

mod error;
pub mod fulcio;
pub mod oidc;
mod transport;
pub mod tsa;

pub use error::{CertificateCheck, KeylessError, Service};
pub use fulcio::{FulcioClient, IssuedCertificate};
pub use transport::MAX_RESPONSE_BYTES;
pub use tsa::{TsaClient, TsaTlsOptions, check_timestamp, tsa_http_client};
