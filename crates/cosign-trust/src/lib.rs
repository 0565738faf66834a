//! Sigstore trust material and every check made against it (see `docs/architecture.md`):
//!
//! - [`tuf`]: the TUF client that keeps a trusted root up to date (root rotation chain,
//!   thresholds, expiry, rollback and freeze protection), its process-safe cache and the
//!   embedded public-good and staging roots.
//!
//! The crate prints nothing, reads no environment variables (callers pass paths and URLs) and
//! never panics on data from a file or the network.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod tuf;

pub use error::TrustError;
