//! What a [`TufClient`](super::TufClient) is built from and reports.

use std::path::PathBuf;
use std::time::Duration;

use sha2::Digest as _;

use super::embedded::Instance;
use crate::TrustError;

/// When [`TufClient::update`](super::TufClient::update) goes to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Every update runs the full TUF workflow against the mirror (the specification's way,
    /// and sigstore-go's default).
    Always,
    /// Use the cache without any network access when the last full refresh (recorded in the
    /// cache as sigstore-go records it) is younger than this and the cached metadata verifies
    /// and has not expired; otherwise refresh (sigstore-go's `CacheValidity`).
    CacheFor(Duration),
    /// Never use the network: the cached metadata must verify from the trusted root and must
    /// not have expired, else [`TrustError::CacheUnusable`] or [`TrustError::Expired`]. For
    /// air-gapped machines whose cache was filled elsewhere.
    Offline,
}

/// Size caps of every download and cache read, and the root rotation limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Max bytes of a `N.root.json`.
    pub root_max: u64,
    /// Max bytes of `timestamp.json`.
    pub timestamp_max: u64,
    /// Max bytes of a snapshot when timestamp does not list its length (and upper bound).
    pub snapshot_max: u64,
    /// Max bytes of targets metadata when snapshot does not list its length (and upper bound).
    pub targets_max: u64,
    /// Max bytes of a target file, whatever targets metadata says.
    pub target_max: u64,
    /// Max new root versions taken in one update.
    pub max_root_rotations: u32,
    /// Max targets roles visited when looking a target up through delegations.
    pub max_delegations: u32,
}

impl Default for Limits {
    /// python-tuf's defaults (go-tuf's too), and 32 MiB for a target.
    fn default() -> Self {
        Self {
            root_max: 512_000,
            timestamp_max: 16_384,
            snapshot_max: 2_000_000,
            targets_max: 5_000_000,
            target_max: 32 * 1024 * 1024,
            max_root_rotations: 256,
            max_delegations: 32,
        }
    }
}

/// The root that trust starts from.
#[derive(Debug, Clone)]
pub struct InitialRoot {
    /// The `root.json` bytes.
    pub json: Vec<u8>,
    /// Where they came from, for messages (a path, a URL, "embedded public-good root").
    pub source: String,
    /// Start from `json` even if the cache holds a newer valid root (`cosign initialize`,
    /// which resets trust to the given or embedded root). Otherwise the newer of the two is
    /// used, so a cache that already followed root rotations is not walked again.
    pub replace_cached: bool,
}

/// How to build a [`TufClient`](super::TufClient).
#[derive(Debug, Clone)]
pub struct TufOptions {
    /// The repository base URL (`https://`, `http://` or `file://`), as given: its text also
    /// names the cache subdirectory, as in sigstore-go.
    pub mirror: String,
    /// The cache directory (cosign: `$TUF_ROOT`, default `~/.sigstore/root`); `None` keeps
    /// everything in memory.
    pub cache_dir: Option<PathBuf>,
    /// The trust anchor.
    pub initial_root: InitialRoot,
    /// `[sha256:|sha512:]HEX` that the initial root must hash to (`--root-checksum`).
    pub root_checksum: Option<String>,
    /// When to go to the network.
    pub freshness: Freshness,
    /// Size caps.
    pub limits: Limits,
    /// How long to wait for another process's cache update before going on without writing.
    pub lock_timeout: Duration,
    /// The update start time (Unix seconds) for expiry checks; `None` is the clock.
    pub reference_time: Option<i64>,
}

impl TufOptions {
    /// Options for `mirror` starting from `root_json`, full refresh every time, default caps.
    pub fn new(mirror: &str, root_json: Vec<u8>, source: &str, cache_dir: Option<PathBuf>) -> Self {
        Self {
            mirror: mirror.to_owned(),
            cache_dir,
            initial_root: InitialRoot {
                json: root_json,
                source: source.to_owned(),
                replace_cached: false,
            },
            root_checksum: None,
            freshness: Freshness::Always,
            limits: Limits::default(),
            lock_timeout: Duration::from_secs(120),
            reference_time: None,
        }
    }

    /// Options for an embedded instance: its mirror and embedded root.
    pub fn for_instance(instance: Instance, cache_dir: Option<PathBuf>) -> Self {
        Self::new(
            instance.mirror(),
            instance.root_json().to_vec(),
            &format!("embedded {} root.json", instance.name()),
            cache_dir,
        )
    }
}

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateReport {
    /// Whether the mirror was contacted (false: the cache answered).
    pub online: bool,
    /// The trusted root version after the update.
    pub root_version: u64,
    /// How many new root versions were taken.
    pub root_rotations: u32,
    /// Trusted timestamp version.
    pub timestamp_version: u64,
    /// Trusted snapshot version.
    pub snapshot_version: u64,
    /// Trusted targets version.
    pub targets_version: u64,
    /// Why the cache was not (fully) written or locked, if so: the update still succeeded,
    /// verified in memory.
    pub cache_error: Option<String>,
}

/// Checks `json` against `[sha256:|sha512:]HEX` (cosign's `--root-checksum`; SHA-256 when no
/// algorithm is given). `source` names the file in the error.
pub fn check_root_checksum(json: &[u8], spec: &str, source: &str) -> Result<(), TrustError> {
    let bad = |reason: &str| TrustError::BadChecksum {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    let (algorithm, expected) = match spec.split_once(':') {
        Some((alg, hex)) => (alg, hex),
        None => ("sha256", spec),
    };
    if expected.contains(':') {
        return Err(bad("must have at most 1 colon"));
    }
    let computed = match algorithm {
        "sha256" => hex::encode(sha2::Sha256::digest(json)),
        "sha512" => hex::encode(sha2::Sha512::digest(json)),
        _ => return Err(bad("unsupported checksum algorithm (sha256 or sha512)")),
    };
    if computed != expected.to_ascii_lowercase() {
        return Err(TrustError::RootChecksum {
            source_name: source.to_owned(),
            expected: expected.to_owned(),
            computed,
        });
    }
    Ok(())
}
