//! A TUF client for Sigstore's trust roots, following the TUF specification
//! (<https://theupdateframework.github.io/specification/latest/>, section 5 "Detailed client
//! workflow") and interoperating with go-tuf / sigstore-go repositories and caches.
//!
//! - [`TufClient`]: load the trusted root (cache, else the initial root), follow root rotations
//!   (`N+1.root.json`, each signed by a threshold of the old and the new root keys), then
//!   timestamp, snapshot and targets with their signature, version, rollback, expiry (freeze),
//!   length and hash checks, and download targets such as `trusted_root.json`. Consistent
//!   snapshots (`<version>.snapshot.json`, `<hash>.<target>`) as Sigstore's repositories use
//!   them. Every download is size-capped ([`Limits`]).
//! - Signatures are checked over the OLPC canonical JSON of `signed` (see [`canonical`]), with
//!   ECDSA P-256/P-384 and Ed25519 keys ([`keys`]).
//! - The cache (see [`cache`]) is laid out as sigstore-go lays it out, locked with `flock`
//!   around every update and written by temp file + fsync + rename. A cache that cannot be
//!   written (read-only home) only means the update is verified in memory; the report says
//!   so.
//! - [`Fetcher`] abstracts the network; [`HttpFetcher`] is the real one (blocking reqwest,
//!   and `file://` mirrors).
//! - [`Instance`]: the embedded public-good and staging roots and their fallback
//!   `trusted_root.json`.
//!
//! Not supported: delegated targets roles (Sigstore's own targets are all listed by the
//! top-level targets role; a target that would need a delegation is refused with
//! [`crate::TrustError::DelegationUnsupported`]), and `rsassa-pss` keys.

pub mod cache;
pub mod canonical;
mod client;
mod embedded;
mod fetcher;
pub mod keys;
pub mod metadata;
mod trusted;

pub use cache::{mirror_dir_name, read_remote_hint, write_remote_hint};
pub use client::{
    Freshness, InitialRoot, Limits, TufClient, TufOptions, UpdateReport, check_root_checksum,
};
pub use embedded::{Instance, PUBLIC_GOOD_MIRROR, STAGING_MIRROR, TRUSTED_ROOT_TARGET};
pub use fetcher::{Fetcher, HttpFetcher, read_limited};

/// Verifies that a `root.json` is signed by a threshold of its own root keys and returns its
/// version (for checking an embedded or user-supplied root without a repository).
pub fn verify_self_signed_root(file: &str, root_json: &[u8]) -> Result<u64, crate::TrustError> {
    let set = trusted::TrustedSet::new(file, root_json, 0)?;
    Ok(set.root().signed.version)
}
