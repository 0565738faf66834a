//! The TUF client: the update workflow of the specification's section 5 over a [`Fetcher`]
//! and the on-disk cache, and target downloads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cache::{Cache, CacheLock, query_escape, write_remote_hint};
use super::embedded::TRUSTED_ROOT_TARGET;
use super::fetcher::Fetcher;
use super::metadata::{SNAPSHOT, TARGETS, TIMESTAMP, TargetFile, Targets, check_length_and_hashes};
use super::options::{Freshness, TufOptions, UpdateReport, check_root_checksum};
use super::trusted::{TimestampUpdate, TrustedSet};
use crate::TrustError;

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

/// Opens the cache for one operation: creates its directories and takes the lock, or says
/// why it will not be written.
fn open_session(cache: Option<&Cache>, lock_timeout: Duration) -> Session<'_> {
    let Some(cache) = cache else {
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
    let lock = cache.lock(lock_timeout);
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
        open_session(self.cache.as_ref(), self.opts.lock_timeout)
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

    /// What targets metadata says about `name` (updating first if never updated): the
    /// top-level targets role, then its delegations, searched depth-first in order of
    /// priority (spec 5.6.7), loading delegated roles' metadata as needed.
    pub fn target_info(&mut self, name: &str) -> Result<TargetFile, TrustError> {
        if self.trusted.is_none() {
            self.update()?;
        }
        let mut to_visit = vec![(TARGETS.to_owned(), "root".to_owned())];
        let mut visited = BTreeSet::new();
        let mut budget = self.opts.limits.max_delegations;
        while budget > 0 {
            let Some((role, parent)) = to_visit.pop() else {
                break;
            };
            if !visited.insert((role.clone(), parent.clone())) {
                continue;
            }
            if role != TARGETS {
                self.load_delegated(&role, &parent)?;
            }
            let targets = self
                .trusted
                .as_ref()
                .and_then(|s| s.targets_of(&role))
                .ok_or_else(|| TrustError::malformed(&role, "no trusted targets metadata"))?;
            if let Some(info) = targets.signed.targets.get(name) {
                return Ok(info.clone());
            }
            budget -= 1;
            let children = targets.signed.roles_for_target(name);
            if children.last().is_some_and(|r| r.terminating) {
                to_visit.clear();
            }
            to_visit.extend(
                children
                    .iter()
                    .rev()
                    .map(|child| (child.name.clone(), role.clone())),
            );
        }
        Err(TrustError::TargetNotFound {
            target: name.to_owned(),
            mirror: self.opts.mirror.clone(),
        })
    }

    /// Loads delegated role `role` (delegated by `parent`): the cached copy if it is the
    /// version the snapshot lists, else downloaded (`<version>.<role>.json` with consistent
    /// snapshots) and cached.
    fn load_delegated(&mut self, role: &str, parent: &str) -> Result<(), TrustError> {
        let set = self
            .trusted
            .as_mut()
            .ok_or_else(|| TrustError::malformed(role, "no trusted metadata"))?;
        if set.targets_of(role).is_some() {
            return Ok(());
        }
        let meta = set.delegated_meta(role)?;
        let file_name = format!("{}.json", query_escape(role));
        let limits = self.opts.limits;
        let mut session = open_session(self.cache.as_ref(), self.opts.lock_timeout);
        let cached = session
            .read(&file_name, limits.targets_max)
            .is_some_and(|bytes| {
                set.update_delegated_targets(&session.path(&file_name), &bytes, role, parent)
                    .is_ok()
            });
        if !cached {
            let remote = if set.root().signed.consistent_snapshot {
                format!("{}.{file_name}", meta.version)
            } else {
                file_name.clone()
            };
            let url = format!("{}/{remote}", self.opts.mirror.trim_end_matches('/'));
            let limit = meta
                .length
                .map_or(limits.targets_max, |l| l.min(limits.targets_max));
            let bytes = self.fetcher.fetch(&url, limit)?;
            set.update_delegated_targets(&url, &bytes, role, parent)?;
            session.persist(&file_name, &bytes);
        }
        if let Some(e) = session.error.take() {
            self.cache_error = Some(e);
        }
        Ok(())
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
