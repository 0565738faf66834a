//! The cosign flows: what each command does, as library functions.
//!
//! This crate reads and writes files and talks to the network, but it never prints, never reads
//! environment variables (callers pass lookups in) and never exits; `cosign-cli` does those.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attestation;
pub mod blob;
pub mod certs;
mod error;
pub mod fsutil;
pub mod image;
pub mod keyless;
pub mod keys;
pub mod policy;
pub mod report;
pub mod signer;
pub use cosign_types::time;
pub mod timestamps;
pub mod tlog;
pub mod witness;

pub use error::Error;
pub use signer::Signer;
