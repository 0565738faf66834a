//! Rekor transparency log support for cosign: the Rekor v1 REST client, and everything needed
//! to verify a Rekor v1 or v2 entry offline.
//!
//! - [`merkle`]: RFC 6962 hashes, inclusion and consistency proofs, an in-memory tree.
//! - [`checkpoint`]: the signed note that carries a tree head (Rekor v1).
//! - [`note`]: C2SP signed notes and checkpoints as Rekor v2 signs them (origin, key IDs,
//!   witness cosignatures ignored).
//! - [`set`]: signed entry timestamps.
//! - [`entry`]: entry kinds (hashedrekord, dsse, intoto, rekord; hashedrekord and dsse 0.0.2
//!   of Rekor v2): proposed entries, stored bodies, server-side validation and index keys.
//! - [`trusted_root`]: the `tlogs` of a Sigstore trusted root.
//! - [`LogEntry`], [`verify_entry`]: an entry from the API or a bundle, verified against
//!   [`TrustedLogs`] and bound to the artifact, signature and key ([`Expected`]).
//! - [`RekorClient`]: the REST API, with every answer size-capped.
//! - [`RekorV2Client`]: the Rekor v2 (rekor-tiles) write API, `POST /api/v2/log/entries`.
//!
//! The crate prints nothing, reads no environment and never panics on server data.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
mod client;
pub mod entry;
mod error;
mod log_entry;
pub mod merkle;
pub mod note;
mod pem;
mod schemes;
pub mod set;
mod time;
pub mod trusted_root;
pub mod v2client;
mod verify;

pub use client::{
    ConsistencyProof, InactiveShard, LogInfo, MAX_ENTRY_RESPONSE, MAX_INFO_RESPONSE,
    MAX_KEY_RESPONSE, MAX_RETRIEVE, RekorClient, SearchQuery,
};
pub use error::TlogError;
pub use log_entry::{InclusionProof, LogEntry};
pub use v2client::RekorV2Client;
pub use verify::{Expected, TrustedLog, TrustedLogs, VerifiedEntry, verify_entry, verify_entry_at};

/// Whether `text` is an entry UUID (64 hex) or entry ID (80 hex: 16-hex tree ID + UUID).
pub fn is_entry_uuid(text: &str) -> bool {
    log_entry::is_entry_id(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<RekorClient>();
        send_sync::<RekorV2Client>();
        send_sync::<TlogError>();
        send_sync::<LogEntry>();
        send_sync::<TrustedLogs>();
        send_sync::<merkle::MerkleTree>();
    }
}
