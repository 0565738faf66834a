//! The newest signed tree head, stored durably in `DIR/tree-head.slots` before it is served.
//!
//! The file holds two fixed-size slots and is created once (temporary file, fsync, rename,
//! fsync of the directory); after that every group commit overwrites the older slot in place
//! (one `pwrite` and one `fdatasync`, no rename, no directory update) with the next sequence
//! number. A slot is
//!
//! ```text
//! magic "TLOGHDS1" | sequence u64 LE | payload length u32 LE | CRC32 u32 LE | payload
//! ```
//!
//! zero-padded to [`SLOT_SIZE`] bytes; the CRC32 covers the sequence, the length and the
//! payload. The payload is the head as JSON:
//!
//! ```json
//! {"size": 12, "rootHash": "<hex>", "logOffset": 3456, "checkpoint": "<signed note>"}
//! ```
//!
//! On start the valid slot with the highest sequence number wins: a write torn by a crash
//! damages only the slot being written (whose head was never served), and the other slot still
//! holds the previous head, which covers every acknowledged entry. Both slots damaged is
//! refused. A directory from an older server keeps its head in `DIR/tree-head.json`: it is read
//! when there is no slots file, and the first head stored creates the slots file and then
//! removes `tree-head.json`.
//!
//! `logOffset` is where the entry log ends with `size` entries: everything before it has been
//! acknowledged, so damage there is refused; only what follows it (at most the one group
//! commit that was being written) may be a torn tail. On start the rebuilt tree must have at
//! least `size` entries and the root `rootHash` at `size` (no rollback, no fork), and the
//! checkpoint must verify with the log's key.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cosign_crypto::PublicKey;
use serde::{Deserialize, Serialize};

use crate::tlog::Hash;
use crate::wal::sync_dir;

/// The file name in the data directory.
pub const HEAD_FILE: &str = "tree-head.slots";
/// Where older servers stored the head (read for migration only).
pub const LEGACY_HEAD_FILE: &str = "tree-head.json";
/// The size of one slot; the file is two slots.
pub const SLOT_SIZE: usize = 4096;
const SLOT_MAGIC: &[u8; 8] = b"TLOGHDS1";
const SLOT_HEADER: usize = 24;

/// A stored signed tree head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHead {
    /// Tree size.
    pub size: u64,
    /// Hex root hash at `size`.
    #[serde(rename = "rootHash")]
    pub root_hash: String,
    /// Entry log length with `size` entries.
    #[serde(rename = "logOffset")]
    pub log_offset: u64,
    /// The signed checkpoint (signed note) for `size` and `rootHash`.
    pub checkpoint: String,
}

impl StoredHead {
    /// A stored head for a signed checkpoint.
    pub fn new(size: u64, root: &Hash, log_offset: u64, checkpoint: String) -> Self {
        Self {
            size,
            root_hash: hex::encode(root),
            log_offset,
            checkpoint,
        }
    }

    /// The root hash.
    pub fn root(&self) -> Result<Hash> {
        let mut root = [0u8; 32];
        hex::decode_to_slice(&self.root_hash, &mut root)
            .with_context(|| format!("{HEAD_FILE}: invalid rootHash"))?;
        Ok(root)
    }

    /// Parses a head's JSON (a slot's payload, or a legacy `tree-head.json`).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let head: Self = serde_json::from_slice(bytes).context("parsing the stored tree head")?;
        head.root()?;
        Ok(head)
    }

    /// Checks that the checkpoint is signed by `key` and names this size and root.
    pub fn verify(&self, key: &PublicKey) -> Result<()> {
        let cp =
            cosign_tlog::checkpoint::verify_note(&self.checkpoint, key).with_context(|| {
                format!("{HEAD_FILE}: the checkpoint does not verify with the log's public key")
            })?;
        if cp.size != self.size || cp.root_hash != self.root()? {
            bail!(
                "{HEAD_FILE}: the checkpoint (size {}) does not match size {} / rootHash {}",
                cp.size,
                self.size,
                self.root_hash
            );
        }
        Ok(())
    }
}

fn slot_crc(seq: &[u8], len: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(seq);
    h.update(len);
    h.update(payload);
    h.finalize()
}

/// Encodes one slot.
fn encode_slot(seq: u64, head: &StoredHead) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(head)?;
    if payload.len() > SLOT_SIZE - SLOT_HEADER {
        bail!(
            "the signed tree head takes {} bytes, more than a {HEAD_FILE} slot holds ({})",
            payload.len(),
            SLOT_SIZE - SLOT_HEADER
        );
    }
    let seq_bytes = seq.to_le_bytes();
    let len_bytes = u32::try_from(payload.len())?.to_le_bytes();
    let mut slot = Vec::with_capacity(SLOT_SIZE);
    slot.extend_from_slice(SLOT_MAGIC);
    slot.extend_from_slice(&seq_bytes);
    slot.extend_from_slice(&len_bytes);
    slot.extend_from_slice(&slot_crc(&seq_bytes, &len_bytes, &payload).to_le_bytes());
    slot.extend_from_slice(&payload);
    slot.resize(SLOT_SIZE, 0);
    Ok(slot)
}

/// Decodes one slot: its sequence number and head, or `None` if it is empty, torn or damaged.
fn decode_slot(slot: &[u8]) -> Option<(u64, StoredHead)> {
    if slot.len() < SLOT_HEADER || &slot[..8] != SLOT_MAGIC {
        return None;
    }
    let seq = u64::from_le_bytes(slot[8..16].try_into().ok()?);
    let len = u32::from_le_bytes(slot[16..20].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(slot[20..24].try_into().ok()?);
    let payload = slot.get(SLOT_HEADER..SLOT_HEADER.checked_add(len)?)?;
    if slot_crc(&slot[8..16], &slot[16..20], payload) != crc {
        return None;
    }
    StoredHead::parse(payload).ok().map(|head| (seq, head))
}

/// The newest valid slot of a slots file's bytes: `(slot index, sequence, head)`.
fn newest_slot(path: &Path, bytes: &[u8]) -> Result<(usize, u64, StoredHead)> {
    let best = (0..2)
        .filter_map(|i| {
            let slot = bytes.get(i * SLOT_SIZE..(i + 1) * SLOT_SIZE)?;
            decode_slot(slot).map(|(seq, head)| (i, seq, head))
        })
        .max_by_key(|(_, seq, _)| *seq);
    match best {
        Some(b) => Ok(b),
        None => bail!(
            "{}: neither of its two head slots holds a valid signed tree head (both are \
             damaged{}). A crash damages at most one; restore the data directory from a backup",
            path.display(),
            if bytes.len() == 2 * SLOT_SIZE {
                String::new()
            } else {
                format!("; the file is {} bytes, not {}", bytes.len(), 2 * SLOT_SIZE)
            }
        ),
    }
}

/// Reads the stored head of the data directory `dir`: the newest valid slot of the slots
/// file, else (a directory from an older server) `tree-head.json`, else `None`.
pub fn load(dir: &Path) -> Result<Option<StoredHead>> {
    let path = dir.join(HEAD_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => return newest_slot(&path, &bytes).map(|(_, _, head)| Some(head)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let legacy = dir.join(LEGACY_HEAD_FILE);
    match std::fs::read(&legacy) {
        Ok(bytes) => StoredHead::parse(&bytes)
            .map(Some)
            .with_context(|| format!("reading {}", legacy.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", legacy.display())),
    }
}

/// Removes `tree-head.json` (once the slots file holds a head).
fn remove_legacy(dir: &Path) -> Result<()> {
    let legacy = dir.join(LEGACY_HEAD_FILE);
    match std::fs::remove_file(&legacy) {
        Ok(()) => sync_dir(dir).with_context(|| format!("syncing {}", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", legacy.display())),
    }
}

/// The slots file, open for storing heads.
#[derive(Debug)]
pub struct HeadSlots {
    dir: PathBuf,
    /// The open file and the sequence number of the newest slot; `None` until the file exists.
    file: Option<(File, u64)>,
}

impl HeadSlots {
    /// Opens the slots file of `dir` (the caller holds the directory lock); it is created by
    /// the first [`store`](Self::store) if there is none yet.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(HEAD_FILE);
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => {
                let mut bytes = Vec::with_capacity(2 * SLOT_SIZE);
                std::io::Read::read_to_end(&mut &f, &mut bytes)
                    .with_context(|| format!("reading {}", path.display()))?;
                let (_, seq, _) = newest_slot(&path, &bytes)?;
                // A crash between creating the slots file and removing `tree-head.json`.
                remove_legacy(dir)?;
                Some((f, seq))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// Stores `head` durably before it may be served: the older slot is overwritten in place
    /// (one `pwrite`, one `fdatasync`).
    pub fn store(&mut self, head: &StoredHead) -> Result<()> {
        let path = self.dir.join(HEAD_FILE);
        match &mut self.file {
            Some((file, seq)) => {
                let next = *seq + 1;
                let slot = encode_slot(next, head)?;
                let at = (next % 2) * SLOT_SIZE as u64;
                file.write_all_at(&slot, at)
                    .and_then(|()| file.sync_data())
                    .with_context(|| format!("writing {}", path.display()))?;
                *seq = next;
                Ok(())
            }
            None => {
                self.file = Some((self.create(head)?, 0));
                Ok(())
            }
        }
    }

    /// Creates the slots file holding `head` in slot 0 (sequence 0), then removes a legacy
    /// `tree-head.json`.
    fn create(&self, head: &StoredHead) -> Result<File> {
        let path = self.dir.join(HEAD_FILE);
        let tmp = self.dir.join(format!(".{HEAD_FILE}.tmp"));
        let mut bytes = encode_slot(0, head)?;
        bytes.resize(2 * SLOT_SIZE, 0);
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o644)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        drop(f);
        std::fs::rename(&tmp, &path).with_context(|| format!("creating {}", path.display()))?;
        sync_dir(&self.dir).with_context(|| format!("syncing {}", self.dir.display()))?;
        remove_legacy(&self.dir)?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::LogSigner;

    fn heads(n: u64) -> (PublicKey, Vec<StoredHead>) {
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
        let public = key.public_key();
        let signer = LogSigner::new(key, 7, "t.local");
        let heads = (0..n)
            .map(|i| {
                let root = [i as u8; 32];
                let note = signer.sign_checkpoint(i, &root).unwrap();
                StoredHead::new(i, &root, 8 + 100 * i, note)
            })
            .collect();
        (public, heads)
    }

    #[test]
    fn round_trip_and_verify() {
        let (public, heads) = heads(6);
        let head = heads[5].clone();
        let bytes = serde_json::to_vec(&head).unwrap();
        let back = StoredHead::parse(&bytes).unwrap();
        assert_eq!(back, head);
        back.verify(&public).unwrap();
        let mut other = back.clone();
        other.size = 6;
        assert!(other.verify(&public).is_err());
        let stranger = cosign_crypto::PrivateKey::generate_ecdsa_p256()
            .unwrap()
            .public_key();
        assert!(back.verify(&stranger).is_err());
        assert!(StoredHead::parse(b"{}").is_err());
    }

    #[test]
    fn slots_alternate_and_the_newest_valid_one_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, heads) = heads(5);
        assert_eq!(load(tmp.path()).unwrap(), None);
        let mut slots = HeadSlots::open(tmp.path()).unwrap();
        for h in &heads {
            slots.store(h).unwrap();
            assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(h));
        }
        drop(slots);
        let path = tmp.path().join(HEAD_FILE);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 * SLOT_SIZE as u64
        );
        // Reopened, it continues the sequence.
        let mut slots = HeadSlots::open(tmp.path()).unwrap();
        slots.store(&heads[1]).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[1]));
        slots.store(&heads[4]).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[4]));
    }

    #[test]
    fn a_torn_newest_slot_falls_back_and_two_damaged_slots_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, heads) = heads(3);
        let mut slots = HeadSlots::open(tmp.path()).unwrap();
        for h in &heads {
            slots.store(h).unwrap();
        }
        drop(slots);
        // Sequences 0, 1, 2: the newest (heads[2]) is in slot 0, the previous in slot 1.
        let path = tmp.path().join(HEAD_FILE);
        let good = std::fs::read(&path).unwrap();

        // Half-written: the second half of the newest slot's payload still holds old bytes
        // (here: zeros), or one flipped byte.
        let mut torn = good.clone();
        torn[SLOT_HEADER + 40..SLOT_SIZE].fill(0);
        std::fs::write(&path, &torn).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[1]));
        let mut flipped = good.clone();
        flipped[SLOT_HEADER + 3] ^= 0x01;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[1]));
        // Only the header written (sequence bumped, payload old): the CRC refuses it.
        let mut header_only = good.clone();
        header_only[SLOT_SIZE + 8..SLOT_SIZE + 16].copy_from_slice(&3u64.to_le_bytes());
        std::fs::write(&path, &header_only).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[2]));

        // The next store after a fallback overwrites the torn slot, never the good one.
        std::fs::write(&path, &torn).unwrap();
        let mut slots = HeadSlots::open(tmp.path()).unwrap();
        slots.store(&heads[0]).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[0]));
        drop(slots);

        // Both damaged: refused, naming the file.
        let mut both = good.clone();
        both[SLOT_HEADER + 3] ^= 0x01;
        both[SLOT_SIZE + SLOT_HEADER + 3] ^= 0x01;
        std::fs::write(&path, &both).unwrap();
        for err in [
            load(tmp.path()).unwrap_err(),
            HeadSlots::open(tmp.path()).unwrap_err(),
        ] {
            let err = format!("{err:#}");
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("both are damaged"), "{err}");
        }
        // A truncated file too.
        std::fs::write(&path, &good[..100]).unwrap();
        let err = format!("{:#}", load(tmp.path()).unwrap_err());
        assert!(
            err.contains(HEAD_FILE) && err.contains("100 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_legacy_tree_head_json_is_read_then_replaced_by_the_slots() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, heads) = heads(2);
        let legacy = tmp.path().join(LEGACY_HEAD_FILE);
        std::fs::write(&legacy, serde_json::to_vec_pretty(&heads[0]).unwrap()).unwrap();
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[0]));
        let mut slots = HeadSlots::open(tmp.path()).unwrap();
        slots.store(&heads[1]).unwrap();
        assert!(!legacy.exists());
        assert_eq!(load(tmp.path()).unwrap().as_ref(), Some(&heads[1]));
    }
}
