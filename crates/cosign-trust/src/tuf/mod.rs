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
//! Where the trusted root comes from when things go wrong (the caller decides, this module
//! only reports):
//! - read-only home or cache directory: nothing is cached; the update runs online and is
//!   verified in memory ([`UpdateReport::cache_error`] says why nothing was written); a cache
//!   that is read-only but already filled is still read (its files are the rollback baseline
//!   and the cached snapshot/targets/targets files are reused when still current);
//! - no network: [`Freshness::Offline`] verifies the cached metadata from the trusted root,
//!   expiry included, without fetching anything; when that fails too, the caller may fall back
//!   to [`Instance::trusted_root_json`], the copy embedded at build time.
//!
//! The client is blocking (it takes a file lock and uses reqwest's blocking client): from async
//! code run it on a blocking thread (`tokio::task::spawn_blocking`).
//!
//! Delegated targets roles are followed (pre-order depth-first, terminating roles, path
//! patterns and hash prefixes), as Sigstore's repository delegates `registry.npmjs.org/*`.
//!
//! Not supported: succinct hash bin delegations (TAP 15) and `rsassa-pss` keys.

pub mod cache;
pub mod canonical;
mod client;
mod embedded;
mod fetcher;
pub mod keys;
pub mod metadata;
mod options;
mod trusted;

pub use cache::{mirror_dir_name, read_remote_hint, write_remote_hint};
pub use client::TufClient;
pub use embedded::{Instance, PUBLIC_GOOD_MIRROR, STAGING_MIRROR, TRUSTED_ROOT_TARGET};
pub use fetcher::{Fetcher, HttpFetcher, read_limited};
pub use options::{Freshness, InitialRoot, Limits, TufOptions, UpdateReport, check_root_checksum};

/// The default cache directory under a home directory: `<home>/.sigstore/root` (Go cosign's
/// default when `$TUF_ROOT` is not set).
pub fn default_cache_dir(home: &std::path::Path) -> std::path::PathBuf {
    home.join(".sigstore").join("root")
}

/// Verifies that a `root.json` is signed by a threshold of its own root keys and returns its
/// version (for checking an embedded or user-supplied root without a repository).
pub fn verify_self_signed_root(file: &str, root_json: &[u8]) -> Result<u64, crate::TrustError> {
    let set = trusted::TrustedSet::new(file, root_json, 0)?;
    Ok(set.root().signed.version)
}
