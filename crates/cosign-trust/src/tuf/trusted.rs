//! The trusted metadata set: the checks of the TUF client workflow (specification section 5)
//! on metadata already in memory, with no I/O. The client feeds it files from the cache and
//! the network in the order the workflow gives.

use std::collections::BTreeMap;

use super::keys::verify_threshold;
use super::metadata::{
    MetaFile, Metadata, ROOT, Root, SNAPSHOT, Snapshot, TARGETS, TIMESTAMP, Targets, Timestamp,
    check_length_and_hashes,
};
use crate::TrustError;

/// What [`TrustedSet::update_timestamp`] did with a valid new timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampUpdate {
    /// It is newer and is now trusted: persist it.
    New,
    /// It has the trusted version: the trusted one stays (spec 5.4.3.1), nothing to persist.
    Same,
}

#[derive(Debug)]
pub(crate) struct TrustedSet {
    /// The fixed update start time (Unix seconds) every expiry is compared with.
    now: i64,
    root: Metadata<Root>,
    timestamp: Option<Metadata<Timestamp>>,
    snapshot: Option<Metadata<Snapshot>>,
    /// A previously trusted snapshot (from the cache) kept only for the rollback checks.
    previous_snapshot: Option<Metadata<Snapshot>>,
    targets: Option<Metadata<Targets>>,
    /// Delegated targets roles loaded so far, by role name.
    delegated: BTreeMap<String, Metadata<Targets>>,
}

impl TrustedSet {
    /// Starts from a trusted root, which must be signed by a threshold of its own root keys.
    /// Its expiry is not checked here (spec 5.3.10 checks the final root).
    pub(crate) fn new(file: &str, root_json: &[u8], now: i64) -> Result<Self, TrustError> {
        let root = Metadata::<Root>::parse(file, root_json)?;
        root.verify_with(file, &root.signed, ROOT)?;
        Ok(Self {
            now,
            root,
            timestamp: None,
            snapshot: None,
            previous_snapshot: None,
            targets: None,
            delegated: BTreeMap::new(),
        })
    }

    pub(crate) fn root(&self) -> &Metadata<Root> {
        &self.root
    }

    pub(crate) fn timestamp(&self) -> Option<&Metadata<Timestamp>> {
        self.timestamp.as_ref()
    }

    pub(crate) fn snapshot(&self) -> Option<&Metadata<Snapshot>> {
        self.snapshot.as_ref()
    }

    pub(crate) fn targets(&self) -> Option<&Metadata<Targets>> {
        self.targets.as_ref()
    }

    /// The trusted metadata of a targets role: `targets` or a delegated role loaded so far.
    pub(crate) fn targets_of(&self, role: &str) -> Option<&Metadata<Targets>> {
        if role == TARGETS {
            self.targets.as_ref()
        } else {
            self.delegated.get(role)
        }
    }

    /// Spec 5.3.4-5.3.7: `bytes` must be signed by a threshold of the trusted root's root
    /// keys and of its own, and be exactly version N+1.
    pub(crate) fn update_root(&mut self, file: &str, bytes: &[u8]) -> Result<(), TrustError> {
        if self.timestamp.is_some() {
            return Err(TrustError::malformed(
                file,
                "a root cannot be updated after the timestamp was loaded",
            ));
        }
        let new = Metadata::<Root>::parse(file, bytes)?;
        new.verify_with(file, &self.root.signed, ROOT)?;
        new.verify_with(file, &new.signed, ROOT)?;
        let expected = self.root.signed.version.saturating_add(1);
        if new.signed.version != expected {
            return Err(TrustError::RootVersion {
                file: file.to_owned(),
                expected,
                found: new.signed.version,
            });
        }
        self.root = new;
        Ok(())
    }

    /// Spec 5.3.10: the final root must not have expired.
    pub(crate) fn check_root_not_expired(&self, file: &str) -> Result<(), TrustError> {
        self.root.check_not_expired(file, self.now)
    }

    /// Loads the cached timestamp as the rollback baseline: signature checked, expiry not
    /// (an expired cached timestamp still protects against older ones).
    pub(crate) fn load_cached_timestamp(
        &mut self,
        file: &str,
        bytes: &[u8],
    ) -> Result<(), TrustError> {
        let cached = Metadata::<Timestamp>::parse(file, bytes)?;
        cached.verify_with(file, &self.root.signed, TIMESTAMP)?;
        self.timestamp = Some(cached);
        Ok(())
    }

    /// Spec 5.4.2-5.4.4.
    pub(crate) fn update_timestamp(
        &mut self,
        file: &str,
        bytes: &[u8],
    ) -> Result<TimestampUpdate, TrustError> {
        if self.snapshot.is_some() {
            return Err(TrustError::malformed(
                file,
                "a timestamp cannot be updated after the snapshot was loaded",
            ));
        }
        let new = Metadata::<Timestamp>::parse(file, bytes)?;
        new.verify_with(file, &self.root.signed, TIMESTAMP)?;
        if let Some(old) = &self.timestamp {
            if new.signed.version < old.signed.version {
                return Err(TrustError::Rollback {
                    file: file.to_owned(),
                    what: "timestamp".to_owned(),
                    trusted: old.signed.version,
                    new: new.signed.version,
                });
            }
            if new.signed.version == old.signed.version {
                return Ok(TimestampUpdate::Same);
            }
            let old_snap = old.signed.snapshot_meta().map_or(0, |m| m.version);
            let new_snap = new.signed.snapshot_meta().map_or(0, |m| m.version);
            if new_snap < old_snap {
                return Err(TrustError::Rollback {
                    file: file.to_owned(),
                    what: "snapshot.json listed by timestamp".to_owned(),
                    trusted: old_snap,
                    new: new_snap,
                });
            }
        }
        new.check_not_expired(file, self.now)?;
        self.timestamp = Some(new);
        Ok(TimestampUpdate::New)
    }

    fn final_timestamp(&self, file: &str) -> Result<(&Metadata<Timestamp>, &MetaFile), TrustError> {
        let timestamp = self.timestamp.as_ref().ok_or_else(|| {
            TrustError::malformed(file, "no trusted timestamp to check the snapshot against")
        })?;
        timestamp.check_not_expired("timestamp.json", self.now)?;
        let meta = timestamp
            .signed
            .snapshot_meta()
            .ok_or_else(|| TrustError::MissingMeta {
                parent: "timestamp.json".to_owned(),
                name: "snapshot.json".to_owned(),
            })?;
        Ok((timestamp, meta))
    }

    /// The snapshot version, length and hashes the trusted timestamp lists.
    pub(crate) fn snapshot_meta(&self) -> Result<MetaFile, TrustError> {
        Ok(self.final_timestamp("snapshot.json")?.1.clone())
    }

    /// Keeps a cached snapshot signed by the current snapshot keys as the baseline of the
    /// rollback checks, whatever its version and expiry.
    pub(crate) fn load_snapshot_baseline(
        &mut self,
        file: &str,
        bytes: &[u8],
    ) -> Result<(), TrustError> {
        let cached = Metadata::<Snapshot>::parse(file, bytes)?;
        cached.verify_with(file, &self.root.signed, SNAPSHOT)?;
        self.previous_snapshot = Some(cached);
        Ok(())
    }

    /// Spec 5.5.2-5.5.6.
    pub(crate) fn update_snapshot(&mut self, file: &str, bytes: &[u8]) -> Result<(), TrustError> {
        if self.targets.is_some() {
            return Err(TrustError::malformed(
                file,
                "a snapshot cannot be updated after the targets were loaded",
            ));
        }
        let (_, meta) = self.final_timestamp(file)?;
        check_length_and_hashes(
            file,
            "timestamp.json",
            bytes,
            meta.length,
            meta.hashes.as_ref(),
        )?;
        let expected = meta.version;
        let new = Metadata::<Snapshot>::parse(file, bytes)?;
        new.verify_with(file, &self.root.signed, SNAPSHOT)?;
        if new.signed.version != expected {
            return Err(TrustError::VersionMismatch {
                file: file.to_owned(),
                parent: "timestamp.json".to_owned(),
                expected,
                found: new.signed.version,
            });
        }
        for old in [self.snapshot.as_ref(), self.previous_snapshot.as_ref()]
            .into_iter()
            .flatten()
        {
            check_snapshot_rollback(file, &old.signed, &new.signed)?;
        }
        new.check_not_expired(file, self.now)?;
        self.snapshot = Some(new);
        Ok(())
    }

    fn final_snapshot(&self, file: &str) -> Result<&MetaFile, TrustError> {
        let snapshot = self.snapshot.as_ref().ok_or_else(|| {
            TrustError::malformed(file, "no trusted snapshot to check the targets against")
        })?;
        snapshot.check_not_expired("snapshot.json", self.now)?;
        snapshot
            .signed
            .meta
            .get("targets.json")
            .ok_or_else(|| TrustError::MissingMeta {
                parent: "snapshot.json".to_owned(),
                name: "targets.json".to_owned(),
            })
    }

    /// The targets version, length and hashes the trusted snapshot lists.
    pub(crate) fn targets_meta(&self) -> Result<MetaFile, TrustError> {
        self.final_snapshot("targets.json").cloned()
    }

    /// Spec 5.6.2-5.6.5.
    pub(crate) fn update_targets(&mut self, file: &str, bytes: &[u8]) -> Result<(), TrustError> {
        let meta = self.final_snapshot(file)?;
        check_length_and_hashes(
            file,
            "snapshot.json",
            bytes,
            meta.length,
            meta.hashes.as_ref(),
        )?;
        let expected = meta.version;
        let new = Metadata::<Targets>::parse(file, bytes)?;
        new.verify_with(file, &self.root.signed, TARGETS)?;
        if new.signed.version != expected {
            return Err(TrustError::VersionMismatch {
                file: file.to_owned(),
                parent: "snapshot.json".to_owned(),
                expected,
                found: new.signed.version,
            });
        }
        new.check_not_expired(file, self.now)?;
        self.targets = Some(new);
        Ok(())
    }
}

/// Spec 5.5.5: no file listed by the trusted snapshot may disappear or go down in version,
/// and the snapshot's own version may not go down.
fn check_snapshot_rollback(file: &str, old: &Snapshot, new: &Snapshot) -> Result<(), TrustError> {
    if new.version < old.version {
        return Err(TrustError::Rollback {
            file: file.to_owned(),
            what: "snapshot".to_owned(),
            trusted: old.version,
            new: new.version,
        });
    }
    for (name, old_meta) in &old.meta {
        let new_meta = new.meta.get(name).ok_or_else(|| TrustError::MetaRemoved {
            file: file.to_owned(),
            name: name.clone(),
        })?;
        if new_meta.version < old_meta.version {
            return Err(TrustError::Rollback {
                file: file.to_owned(),
                what: format!("{name} listed by snapshot"),
                trusted: old_meta.version,
                new: new_meta.version,
            });
        }
    }
    Ok(())
}

impl TrustedSet {
    /// The version, length and hashes the trusted snapshot lists for a delegated role.
    pub(crate) fn delegated_meta(&self, role: &str) -> Result<MetaFile, TrustError> {
        let name = format!("{role}.json");
        let snapshot = self.snapshot.as_ref().ok_or_else(|| {
            TrustError::malformed(&name, "no trusted snapshot to check the role against")
        })?;
        snapshot.check_not_expired("snapshot.json", self.now)?;
        snapshot
            .signed
            .meta
            .get(&name)
            .cloned()
            .ok_or_else(|| TrustError::MissingMeta {
                parent: "snapshot.json".to_owned(),
                name,
            })
    }

    /// Spec 5.6 for a delegated role: listed by the snapshot (version, length, hashes),
    /// signed by a threshold of the keys its delegating role `parent` gives it, not expired.
    pub(crate) fn update_delegated_targets(
        &mut self,
        file: &str,
        bytes: &[u8],
        role: &str,
        parent: &str,
    ) -> Result<(), TrustError> {
        let meta = self.delegated_meta(role)?;
        check_length_and_hashes(
            file,
            "snapshot.json",
            bytes,
            meta.length,
            meta.hashes.as_ref(),
        )?;
        let delegator = self.targets_of(parent).ok_or_else(|| {
            TrustError::malformed(
                file,
                format!("the delegating role {parent:?} is not loaded"),
            )
        })?;
        let delegations = delegator.signed.delegations.as_ref();
        let delegation = delegations
            .and_then(|d| d.roles.iter().find(|r| r.name == role))
            .ok_or_else(|| {
                TrustError::malformed(file, format!("{parent:?} does not delegate to {role:?}"))
            })?;
        let new = Metadata::<Targets>::parse(file, bytes)?;
        let keys = delegations.map(|d| &d.keys).cloned().unwrap_or_default();
        verify_threshold(
            file,
            role,
            &delegation.role(),
            &keys,
            &new.signatures,
            &new.canonical,
        )?;
        if new.signed.version != meta.version {
            return Err(TrustError::VersionMismatch {
                file: file.to_owned(),
                parent: "snapshot.json".to_owned(),
                expected: meta.version,
                found: new.signed.version,
            });
        }
        new.check_not_expired(file, self.now)?;
        self.delegated.insert(role.to_owned(), new);
        Ok(())
    }
}
