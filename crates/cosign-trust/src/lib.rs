//! Sigstore trust material and every check made against it (see `docs/architecture.md`):
//!
//! - [`tuf`]: the TUF client that keeps a trusted root up to date (root rotation chain,
//!   thresholds, expiry, rollback and freeze protection), its process-safe cache and the
//!   embedded public-good and staging roots.
//! - [`trusted_root`]: the whole `trusted_root.json` (certificate authorities, CT logs,
//!   transparency logs, timestamp authorities, each with its validity window).
//! - [`x509`]: certificates, chains to the trusted root's authorities at signing time, Fulcio
//!   extensions and subject alternative names.
//! - [`identity`]: Go cosign's certificate identity policy (`--certificate-identity[-regexp]`,
//!   `--certificate-oidc-issuer[-regexp]`, `--certificate-github-workflow-*`).
//! - [`timestamp`]: RFC 3161 timestamp tokens against the trusted root's timestamp authorities.
//! - [`sct`]: signed certificate timestamps (embedded and detached) against its CT logs.
//! - [`signing_config`]: Sigstore signing configs (which Fulcio, OIDC provider, Rekor logs and
//!   timestamp authorities a signer uses) and `cosign signing-config create`.
//!
//! The crate prints nothing, reads no environment variables (callers pass paths and URLs) and
//! never panics on data from a file or the network.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod create;
mod error;
pub mod identity;
pub mod sct;
pub mod signing_config;
pub mod timestamp;
pub mod trusted_root;
pub mod tuf;
pub mod x509;

pub use error::TrustError;
