//! The data directory: the signing key, the log's identity (tree ID and creation time), the
//! entry log and a lock file so two servers never share one directory.
//!
//! ```text
//! DIR/signing-key.pem   PKCS#8 PEM, mode 0600 (generated on first start unless --key is used)
//! DIR/log.json          {"treeID": <positive int64>, "created": <unix seconds>}
//! DIR/entries.log       the append-only entry log (see `wal`)
//! DIR/tree-head.slots   the newest signed tree head, stored before it is served (see `head`;
//!                       older directories have DIR/tree-head.json instead, until migrated)
//! DIR/LOCK              held (flock) by the running server
//! ```
//!
//! Small files are written atomically (temporary file, fsync, rename, fsync of the directory).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use base64::Engine;
use cosign_crypto::PrivateKey;
use serde::{Deserialize, Serialize};

use crate::head::{self, HEAD_FILE, HeadSlots, StoredHead};
use crate::wal::sync_dir;

const KEY_FILE: &str = "signing-key.pem";
const META_FILE: &str = "log.json";
const ENTRIES_FILE: &str = "entries.log";
const LOCK_FILE: &str = "LOCK";

/// The log's persistent identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogIdentity {
    /// The tree ID (positive int64), part of the checkpoint origin and of 80-hex entry IDs.
    #[serde(rename = "treeID")]
    pub tree_id: i64,
    /// When the log was created (Unix seconds); the start of the key's validity.
    pub created: i64,
    /// Whether the directory keeps a stored tree head (every directory made or opened by a
    /// server that stores one); if so, a missing `tree-head.slots` is refused, not recreated.
    #[serde(
        rename = "treeHead",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub tree_head: bool,
    /// Whether the Rekor v2 log (`v2/`) keeps a stored tree head (`v2/tree-head.slots`); if
    /// so, a missing one is refused, not recreated.
    #[serde(
        rename = "v2TreeHead",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub v2_tree_head: bool,
}

/// A data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    path: PathBuf,
}

/// Holds the directory lock until dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DataDir {
    /// Opens `path`, creating it (mode 0700) if needed.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .with_context(|| format!("creating data directory {}", path.display()))?;
        }
        if !path.is_dir() {
            bail!("{} is not a directory", path.display());
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The entry log file.
    pub fn entries_path(&self) -> PathBuf {
        self.path.join(ENTRIES_FILE)
    }

    /// Takes the directory lock; fails at once if another process holds it.
    pub fn lock(&self) -> Result<DirLock> {
        let path = self.path.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "{} is in use by another tlog-server (lock {} is held)",
                self.path.display(),
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// The signing key: `key_file` if given, else the directory's key, generated (ECDSA P-256)
    /// if there is none yet. Generation needs `lock` (proof that this process owns the
    /// directory).
    pub fn signing_key(&self, key_file: Option<&Path>, _lock: &DirLock) -> Result<PrivateKey> {
        if let Some(file) = key_file {
            return read_key(file);
        }
        let path = self.path.join(KEY_FILE);
        if path.exists() {
            return read_key(&path);
        }
        let key = PrivateKey::generate_ecdsa_p256().context("generating the signing key")?;
        let der = key.to_pkcs8_der().context("encoding the signing key")?;
        let pem = pem_encode("PRIVATE KEY", &der);
        self.write_atomic(KEY_FILE, pem.as_bytes(), 0o600)?;
        Ok(key)
    }

    /// The signing key, without creating anything (for read-only commands on a directory that
    /// may be in use): `key_file`, else the directory's key.
    pub fn existing_signing_key(&self, key_file: Option<&Path>) -> Result<Option<PrivateKey>> {
        if let Some(file) = key_file {
            return read_key(file).map(Some);
        }
        let path = self.path.join(KEY_FILE);
        if path.exists() {
            read_key(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The log identity, created (random positive tree ID, now) if there is none yet.
    pub fn identity(&self, _lock: &DirLock) -> Result<LogIdentity> {
        if let Some(id) = self.existing_identity()? {
            return Ok(id);
        }
        // A new tree ID would change every entry ID of an existing log: refuse instead.
        let entries = self.entries_path();
        if std::fs::metadata(&entries).is_ok_and(|m| m.len() > crate::wal::MAGIC.len() as u64) {
            bail!(
                "{} holds entries but {} is missing; restore it (it holds the tree ID)",
                entries.display(),
                self.path.join(META_FILE).display()
            );
        }
        let id = LogIdentity {
            tree_id: random_tree_id()?,
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            tree_head: true,
            v2_tree_head: false,
        };
        let json = serde_json::to_vec_pretty(&id)?;
        self.write_atomic(META_FILE, &json, 0o644)?;
        Ok(id)
    }

    /// The log identity if the directory has one.
    pub fn existing_identity(&self) -> Result<Option<LogIdentity>> {
        let path = self.path.join(META_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let id: LogIdentity = serde_json::from_slice(&bytes)
            .with_context(|| format!("parsing {}", path.display()))?;
        if id.tree_id <= 0 {
            bail!("{}: treeID must be positive", path.display());
        }
        Ok(Some(id))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored tree head file.
    pub fn head_path(&self) -> PathBuf {
        self.path.join(HEAD_FILE)
    }

    /// The stored signed tree head, if there is one (the newest valid slot; for a directory
    /// from an older server, `tree-head.json`).
    pub fn load_head(&self) -> Result<Option<StoredHead>> {
        head::load(&self.path)
    }

    /// Opens the stored head for writing (only the process holding the lock may).
    pub fn head_slots(&self) -> Result<HeadSlots> {
        HeadSlots::open(&self.path)
    }

    /// Records in `log.json` that the directory keeps a stored tree head (after migrating a
    /// directory from an older server).
    pub fn mark_tree_head(&self, id: &LogIdentity, _lock: &DirLock) -> Result<LogIdentity> {
        let id = LogIdentity {
            tree_head: true,
            ..*id
        };
        let json = serde_json::to_vec_pretty(&id)?;
        self.write_atomic(META_FILE, &json, 0o644)?;
        Ok(id)
    }

    /// Records in `log.json` that the v2 log keeps a stored tree head (once it has one).
    pub fn mark_v2_tree_head(&self, lock: &DirLock) -> Result<()> {
        let id = self.identity(lock)?;
        if !id.v2_tree_head {
            let id = LogIdentity {
                v2_tree_head: true,
                ..id
            };
            let json = serde_json::to_vec_pretty(&id)?;
            self.write_atomic(META_FILE, &json, 0o644)?;
        }
        Ok(())
    }

    fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
        let tmp = self.path.join(format!(".{name}.tmp"));
        let dst = self.path.join(name);
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        drop(f);
        std::fs::rename(&tmp, &dst).with_context(|| format!("creating {}", dst.display()))?;
        sync_dir(&self.path).with_context(|| format!("syncing {}", self.path.display()))?;
        Ok(())
    }
}

fn read_key(path: &Path) -> Result<PrivateKey> {
    let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    PrivateKey::from_pem(&pem)
        .with_context(|| format!("reading the signing key {}", path.display()))
}

/// A random tree ID in `1..=i64::MAX`.
fn random_tree_id() -> Result<i64> {
    let r = getrandom::u64().map_err(|e| anyhow::anyhow!("random tree ID: {e}"))?;
    let id = i64::try_from(r >> 1).unwrap_or(1);
    Ok(if id == 0 { 1 } else { id })
}

/// PEM with 64-column base64 lines and a trailing newline (Go's `pem.Encode`).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn first_start_creates_key_and_identity_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(&tmp.path().join("data")).unwrap();
        let lock = dir.lock().unwrap();
        let key = dir.signing_key(None, &lock).unwrap();
        let id = dir.identity(&lock).unwrap();
        assert!(id.tree_id > 0);
        let mode = std::fs::metadata(dir.path.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = dir.signing_key(None, &lock).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        assert_eq!(dir.identity(&lock).unwrap(), id);
        assert_eq!(dir.existing_identity().unwrap(), Some(id));
    }

    #[test]
    fn an_existing_log_without_identity_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        std::fs::write(dir.entries_path(), b"TLOGWAL1 and some frames").unwrap();
        let lock = dir.lock().unwrap();
        let err = dir.identity(&lock).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn lock_is_exclusive() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        let lock = dir.lock().unwrap();
        let err = dir.lock().unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
        drop(lock);
        dir.lock().unwrap();
    }

    #[test]
    fn pem_lines_are_64_columns() {
        let pem = pem_encode("X", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN X-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END X-----"));
    }
}
