//! The TUF client: the update workflow of the specification's section 5 over a [`Fetcher`]
//! and the on-disk cache, and target downloads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::Digest as _;

use super::cache::{Cache, CacheLock, write_remote_hint};
use super::embedded::{Instance, TRUSTED_ROOT_TARGET};
use super::fetcher::Fetcher;
use super::metadata::{SNAPSHOT, TIMESTAMP, TargetFile, Targets, check_length_and_hashes};
use super::trusted::{TimestampUpdate, TrustedSet};
use crate::TrustError;

/// When [`TufClient::update`] goes to the network.
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
}

impl Default for Limits {
    /// go-tuf's and python-tuf's defaults, and 32 MiB for a target.
    fn default() -> Self {
        Self {
            root_max: 512_000,
            timestamp_max: 16_384,
            snapshot_max: 2_000_000,
            targets_max: 5_000_000,
            target_max: 32 * 1024 * 1024,
            max_root_rotations: 256,
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

/// How to build a [`TufClient`].
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

/// A TUF client for one mirror. Blocking; not for concurrent use from several threads (make
/// one per thread: they coordinate through the cache lock).
#[derive(Debug)]
pub struct TufClient<F> {
    opts: TufOptions,
    fetcher: F,
    cache: Option<Cache>,
    trusted: Option<TrustedSet>,
    cache_error: Option<String>,
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

fn check_mirror(mirror: &str) -> Result<(), TrustError> {
    let bad = |reason: String| TrustError::BadMirror {
        mirror: mirror.to_owned(),
        reason,
    };
    let url = url::Url::parse(mirror).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "https" | "http" | "file" => Ok(()),
        other => Err(bad(format!(
            "unsupported scheme {other:?} (https, http or file)"
        ))),
    }
}

/// Refuses target names that cannot be a relative path inside the targets directory.
fn check_target_name(name: &str) -> Result<(), TrustError> {
    let bad = |reason: &str| TrustError::BadTargetName {
        target: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() || name.starts_with('/') || name.contains('\\') {
        return Err(bad("not a relative path"));
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad("empty, `.` or `..` path segment"));
    }
    Ok(())
}

/// A locked (or knowingly unlocked) view of the cache for one operation.
struct Session<'a> {
    cache: Option<&'a Cache>,
    writable: bool,
    _lock: Option<CacheLock>,
    error: Option<String>,
}

impl Session<'_> {
    fn read(&self, name: &str, limit: u64) -> Option<Vec<u8>> {
        self.cache.and_then(|c| c.read_metadata(name, limit))
    }

    fn path(&self, name: &str) -> String {
        self.cache.map_or_else(
            || name.to_owned(),
            |c| c.dir().join(name).display().to_string(),
        )
    }

    fn note(&mut self, err: &TrustError) {
        if self.error.is_none() {
            self.error = Some(err.to_string());
        }
    }

    fn persist(&mut self, name: &str, body: &[u8]) {
        if let (Some(cache), true) = (self.cache, self.writable) {
            if let Err(e) = cache.write_metadata(name, body) {
                self.note(&e);
            }
        }
    }

    fn remove(&mut self, name: &str) {
        if let (Some(cache), true) = (self.cache, self.writable) {
            if let Err(e) = cache.remove_metadata(name) {
                self.note(&e);
            }
        }
    }
}

impl<F: Fetcher> TufClient<F> {
    /// Checks the options (mirror URL, initial root parses and is self-signed, checksum);
    /// no I/O.
    pub fn new(opts: TufOptions, fetcher: F) -> Result<Self, TrustError> {
        check_mirror(&opts.mirror)?;
        if let Some(spec) = &opts.root_checksum {
            check_root_checksum(&opts.initial_root.json, spec, &opts.initial_root.source)?;
        }
        TrustedSet::new(&opts.initial_root.source, &opts.initial_root.json, 0)?;
        let cache = opts
            .cache_dir
            .as_deref()
            .map(|dir| Cache::new(dir, &opts.mirror));
        Ok(Self {
            opts,
            fetcher,
            cache,
            trusted: None,
            cache_error: None,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &TufOptions {
        &self.opts
    }

    /// The mirror's cache subdirectory, if there is a cache.
    pub fn cache_path(&self) -> Option<&Path> {
        self.cache.as_ref().map(Cache::dir)
    }

    /// Why the cache could not be written during the last operation, if so.
    pub fn cache_error(&self) -> Option<&str> {
        self.cache_error.as_deref()
    }

    fn now(&self) -> i64 {
        self.opts
            .reference_time
            .unwrap_or_else(cosign_types::time::now_unix)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.opts.mirror.trim_end_matches('/'))
    }

    fn session(&self) -> Session<'_> {
        let Some(cache) = self.cache.as_ref() else {
            return Session {
                cache: None,
                writable: false,
                _lock: None,
                error: None,
            };
        };
        let mut error = None;
        let dirs_ok = match cache.create_dirs() {
            Ok(()) => true,
            Err(e) => {
                error = Some(e.to_string());
                false
            }
        };
        let lock = cache.lock(self.opts.lock_timeout);
        if lock.is_none() && error.is_none() {
            error = Some(format!(
                "could not lock the TUF cache {}; not writing it",
                cache.dir().display()
            ));
        }
        Session {
            cache: Some(cache),
            writable: dirs_ok && lock.is_some(),
            _lock: lock,
            error,
        }
    }

    /// `cosign initialize`: records the mirror in `<cache>/remote.json`, then runs a full
    /// refresh starting from the initial root (not a cached one).
    pub fn initialize(&mut self) -> Result<UpdateReport, TrustError> {
        if let Some(dir) = &self.opts.cache_dir {
            write_remote_hint(dir, &self.opts.mirror)?;
        }
        self.opts.initial_root.replace_cached = true;
        self.opts.freshness = Freshness::Always;
        self.trusted = None;
        self.update()
    }

    /// Brings the trusted metadata up to date as [`TufOptions::freshness`] says. On success
    /// the targets can be read with [`TufClient::target`].
    pub fn update(&mut self) -> Result<UpdateReport, TrustError> {
        let now = self.now();
        let mut session = self.session();
        let fresh_enough = match self.opts.freshness {
            Freshness::Always => false,
            Freshness::Offline => true,
            Freshness::CacheFor(validity) => {
                let age_limit = i64::try_from(validity.as_secs()).unwrap_or(i64::MAX);
                session
                    .cache
                    .and_then(Cache::last_refresh)
                    .is_some_and(|last| now.saturating_sub(last) < age_limit)
            }
        };
        let mut report = UpdateReport::default();
        let cached = if fresh_enough {
            match self.load_cached(&session, now) {
                Ok(set) => Some(set),
                Err(e) if self.opts.freshness == Freshness::Offline => return Err(e),
                Err(_) => None,
            }
        } else {
            None
        };
        let set = match cached {
            Some(set) => set,
            None => {
                report.online = true;
                let set = self.refresh_online(&mut session, now, &mut report)?;
                if session.writable {
                    if let Some(Err(e)) = session.cache.map(|c| c.record_refresh(now)) {
                        session.note(&e);
                    }
                }
                set
            }
        };
        report.root_version = set.root().signed.version;
        report.timestamp_version = set.timestamp().map_or(0, |m| m.signed.version);
        report.snapshot_version = set.snapshot().map_or(0, |m| m.signed.version);
        report.targets_version = set.targets().map_or(0, |m| m.signed.version);
        report.cache_error = session.error.take();
        drop(session);
        self.cache_error = report.cache_error.clone();
        self.trusted = Some(set);
        Ok(report)
    }

    /// The root trust starts from: the initial one, or a valid cached one that is at least
    /// as new (unless told to replace it). The bool says whether it came from the cache.
    fn start_root(
        &self,
        session: &Session<'_>,
        now: i64,
    ) -> Result<(TrustedSet, bool), TrustError> {
        let initial = &self.opts.initial_root;
        let set = TrustedSet::new(&initial.source, &initial.json, now)?;
        if initial.replace_cached {
            return Ok((set, false));
        }
        let cached = session
            .read("root.json", self.opts.limits.root_max)
            .and_then(|bytes| TrustedSet::new(&session.path("root.json"), &bytes, now).ok());
        match cached {
            Some(c) if c.root().signed.version >= set.root().signed.version => Ok((c, true)),
            _ => Ok((set, false)),
        }
    }

    fn cache_unusable(&self, reason: &str) -> TrustError {
        TrustError::CacheUnusable {
            mirror: self.opts.mirror.clone(),
            dir: self
                .cache
                .as_ref()
                .map_or_else(PathBuf::new, |c| c.dir().to_path_buf()),
            reason: reason.to_owned(),
        }
    }

    /// The cached metadata, verified as the update would verify it, without the network.
    fn load_cached(&self, session: &Session<'_>, now: i64) -> Result<TrustedSet, TrustError> {
        if session.cache.is_none() {
            return Err(self.cache_unusable("no cache directory was given"));
        }
        let limits = self.opts.limits;
        let (mut set, _) = self.start_root(session, now)?;
        set.check_root_not_expired(&session.path("root.json"))?;
        let steps: [(&str, u64); 3] = [
            ("timestamp.json", limits.timestamp_max),
            ("snapshot.json", limits.snapshot_max),
            ("targets.json", limits.targets_max),
        ];
        for (name, limit) in steps {
            let bytes = session
                .read(name, limit)
                .ok_or_else(|| self.cache_unusable(&format!("{name} is missing")))?;
            let path = session.path(name);
            match name {
                "timestamp.json" => set.update_timestamp(&path, &bytes).map(|_| ())?,
                "snapshot.json" => set.update_snapshot(&path, &bytes)?,
                _ => set.update_targets(&path, &bytes)?,
            }
        }
        Ok(set)
    }

    /// The full workflow of specification section 5.
    fn refresh_online(
        &self,
        session: &mut Session<'_>,
        now: i64,
        report: &mut UpdateReport,
    ) -> Result<TrustedSet, TrustError> {
        let limits = self.opts.limits;
        let (mut set, from_cache) = self.start_root(session, now)?;
        if !from_cache {
            session.persist("root.json", &self.opts.initial_root.json);
        }
        let roles_before = (
            set.root().signed.role(TIMESTAMP).cloned(),
            set.root().signed.role(SNAPSHOT).cloned(),
        );

        // 5.3: root rotation, one version at a time, until the next one is not found.
        while report.root_rotations < limits.max_root_rotations {
            let next = set.root().signed.version.saturating_add(1);
            let url = self.url(&format!("{next}.root.json"));
            match self.fetcher.fetch(&url, limits.root_max) {
                Ok(bytes) => {
                    set.update_root(&url, &bytes)?;
                    session.persist("root.json", &bytes);
                    report.root_rotations += 1;
                }
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(e),
            }
        }
        set.check_root_not_expired(&format!("{}.root.json", set.root().signed.version))?;

        // 5.3.11: timestamp or snapshot keys rotated -> forget the cached files they signed
        // (recovery from fast-forward attacks).
        let roles_after = (
            set.root().signed.role(TIMESTAMP).cloned(),
            set.root().signed.role(SNAPSHOT).cloned(),
        );
        let keys_rotated = roles_before != roles_after;
        if keys_rotated {
            session.remove("timestamp.json");
            session.remove("snapshot.json");
        }

        // 5.4: timestamp, with the cached one as the rollback baseline.
        if !keys_rotated {
            if let Some(bytes) = session.read("timestamp.json", limits.timestamp_max) {
                // An invalid cached timestamp is simply not a baseline.
                let _ = set.load_cached_timestamp(&session.path("timestamp.json"), &bytes);
            }
        }
        let url = self.url("timestamp.json");
        let bytes = self.fetcher.fetch(&url, limits.timestamp_max)?;
        if set.update_timestamp(&url, &bytes)? == TimestampUpdate::New {
            session.persist("timestamp.json", &bytes);
        }

        // 5.5: snapshot; the cached one is used if it is the listed version.
        let meta = set.snapshot_meta()?;
        let mut have_snapshot = false;
        if !keys_rotated {
            if let Some(bytes) = session.read("snapshot.json", limits.snapshot_max) {
                let path = session.path("snapshot.json");
                if set.update_snapshot(&path, &bytes).is_ok() {
                    have_snapshot = true;
                } else {
                    let _ = set.load_snapshot_baseline(&path, &bytes);
                }
            }
        }
        if !have_snapshot {
            let name = if set.root().signed.consistent_snapshot {
                format!("{}.snapshot.json", meta.version)
            } else {
                "snapshot.json".to_owned()
            };
            let url = self.url(&name);
            let limit = meta
                .length
                .map_or(limits.snapshot_max, |l| l.min(limits.snapshot_max));
            let bytes = self.fetcher.fetch(&url, limit)?;
            set.update_snapshot(&url, &bytes)?;
            session.persist("snapshot.json", &bytes);
        }

        // 5.6: top-level targets; the cached one is used if it is the listed version.
        let meta = set.targets_meta()?;
        let cached_ok = session
            .read("targets.json", limits.targets_max)
            .is_some_and(|bytes| {
                set.update_targets(&session.path("targets.json"), &bytes)
                    .is_ok()
            });
        if !cached_ok {
            let name = if set.root().signed.consistent_snapshot {
                format!("{}.targets.json", meta.version)
            } else {
                "targets.json".to_owned()
            };
            let url = self.url(&name);
            let limit = meta
                .length
                .map_or(limits.targets_max, |l| l.min(limits.targets_max));
            let bytes = self.fetcher.fetch(&url, limit)?;
            set.update_targets(&url, &bytes)?;
            session.persist("targets.json", &bytes);
        }
        Ok(set)
    }

    /// The trusted top-level targets metadata (after an update).
    pub fn targets_metadata(&self) -> Option<&Targets> {
        self.trusted
            .as_ref()
            .and_then(TrustedSet::targets)
            .map(|m| &m.signed)
    }

    /// The trusted root version (after an update).
    pub fn root_version(&self) -> Option<u64> {
        self.trusted.as_ref().map(|s| s.root().signed.version)
    }

    /// What targets metadata says about `name` (updating first if never updated).
    pub fn target_info(&mut self, name: &str) -> Result<TargetFile, TrustError> {
        if self.trusted.is_none() {
            self.update()?;
        }
        let targets = self
            .targets_metadata()
            .ok_or_else(|| TrustError::malformed("targets.json", "no trusted targets metadata"))?;
        if let Some(info) = targets.targets.get(name) {
            return Ok(info.clone());
        }
        Err(match targets.delegated_role_for(name) {
            Some(role) => TrustError::DelegationUnsupported {
                target: name.to_owned(),
                role: role.to_owned(),
                mirror: self.opts.mirror.clone(),
            },
            None => TrustError::TargetNotFound {
                target: name.to_owned(),
                mirror: self.opts.mirror.clone(),
            },
        })
    }

    /// The verified contents of target `name`: from the cache if its length and hashes match
    /// targets metadata, else downloaded (as `<hash>.<name>` with consistent snapshots),
    /// checked and cached. Updates first if never updated.
    pub fn target(&mut self, name: &str) -> Result<Vec<u8>, TrustError> {
        let info = self.target_info(name)?;
        check_target_name(name)?;
        if info.length > self.opts.limits.target_max {
            return Err(TrustError::TooLarge {
                url: self.url(&format!("targets/{name}")),
                limit: self.opts.limits.target_max,
            });
        }
        if let Some(cache) = &self.cache {
            if let Some(bytes) = cache.read_target(name, info.length) {
                let path = cache.target_path(name).display().to_string();
                if check_length_and_hashes(
                    &path,
                    "targets.json",
                    &bytes,
                    Some(info.length),
                    Some(&info.hashes),
                )
                .is_ok()
                {
                    return Ok(bytes);
                }
            }
        }
        let consistent = self
            .trusted
            .as_ref()
            .is_some_and(|s| s.root().signed.consistent_snapshot);
        let remote = if consistent {
            let hash = info
                .hashes
                .get("sha256")
                .or_else(|| info.hashes.values().next())
                .cloned()
                .unwrap_or_default();
            match name.rsplit_once('/') {
                Some((dir, base)) => format!("{dir}/{hash}.{base}"),
                None => format!("{hash}.{name}"),
            }
        } else {
            name.to_owned()
        };
        let url = self.url(&format!("targets/{remote}"));
        let bytes = self.fetcher.fetch(&url, info.length)?;
        check_length_and_hashes(
            &url,
            "targets.json",
            &bytes,
            Some(info.length),
            Some(&info.hashes),
        )?;
        let mut session = self.session();
        if let (Some(cache), true) = (session.cache, session.writable) {
            if let Err(e) = cache.write_target(name, &bytes) {
                session.note(&e);
            }
        }
        self.cache_error = session.error.take();
        Ok(bytes)
    }

    /// The verified `trusted_root.json` target.
    pub fn trusted_root_json(&mut self) -> Result<Vec<u8>, TrustError> {
        self.target(TRUSTED_ROOT_TARGET)
    }
}
