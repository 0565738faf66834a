//! Opening a data directory's log for serving: rebuild the tree from the entry log, check it
//! against the stored signed tree head (no damage inside the acknowledged part, no rollback,
//! no fork), cut only a torn tail of the last group commit, and store and publish the head.

use std::path::Path;

use anyhow::{Result, bail};
use cosign_crypto::PublicKey;

use crate::datadir::{DataDir, DirLock, LogIdentity};
use crate::head::StoredHead;
use crate::signer::LogSigner;
use crate::state::{EntryMeta, LogState, NewEntry, TreeHead};
use crate::tlog;
use crate::wal::{self, EntryLog, OpenError, Recovery};

/// A log ready to serve.
#[derive(Debug)]
pub struct Opened {
    /// The entry log, positioned for appending.
    pub log: EntryLog,
    /// The rebuilt state, with the stored head published.
    pub state: LogState,
    /// What recovery did.
    pub recovery: Recovery,
}

fn refuse_damage(
    dir: &DataDir,
    path: &Path,
    err: &OpenError,
    head: Option<&StoredHead>,
    ack_end: u64,
) -> anyhow::Error {
    let covered = match head {
        Some(h) => format!(
            "the stored signed tree head {} covers {} entries, up to byte offset {}",
            dir.head_path().display(),
            h.size,
            h.log_offset
        ),
        None => format!(
            "the directory has no stored tree head yet (made by an older tlog-server), so \
             every one of its {ack_end} bytes counts as acknowledged"
        ),
    };
    let check = format!(
        "`tlog-server check --data-dir {}` reports every problem",
        dir.path().display()
    );
    match err {
        OpenError::Damaged(d) => anyhow::anyhow!(
            "{}: damaged record at byte offset {} ({}) inside the acknowledged log ({covered}). \
             A crash cannot cause this, so nothing was repaired and the file was left \
             untouched. Restore the data directory from a backup; {check}",
            path.display(),
            d.offset,
            d.reason
        ),
        OpenError::Short { len } => anyhow::anyhow!(
            "{}: the entry log ends at byte offset {len}, but {covered}: it was truncated or \
             rolled back to an older copy. Refusing to serve a smaller tree; the file was left \
             untouched. Restore the newest entry log from a backup; {check}",
            path.display()
        ),
        OpenError::Foreign => anyhow::anyhow!("{} is not a tlog-server entry log", path.display()),
        OpenError::Io(e) => anyhow::anyhow!("opening {}: {e}", path.display()),
    }
}

/// Opens the log of `dir` (locked by the caller) for serving.
pub fn open(
    dir: &DataDir,
    lock: &DirLock,
    identity: LogIdentity,
    signer: &LogSigner,
    public: &PublicKey,
) -> Result<Opened> {
    let path = dir.entries_path();
    let head = dir.load_head()?;
    let file_len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let has_entries = file_len > wal::MAGIC.len() as u64;
    let ack_end = match &head {
        Some(h) => {
            h.verify(public)?;
            h.log_offset
        }
        None if identity.tree_head && has_entries => bail!(
            "{} is missing but {} holds entries: without it a rollback or fork cannot be \
             detected. Restore it from a backup (with the entry log); `tlog-server check \
             --data-dir {}` reports what the entry log holds",
            dir.head_path().display(),
            path.display(),
            dir.path().display()
        ),
        // An older directory: everything in it was acknowledged.
        None => file_len,
    };

    let mut state = LogState::new();
    let mut size_at_ack_end = (ack_end <= wal::MAGIC.len() as u64).then_some(0u64);
    let mut count = 0u64;
    let (log, recovery) = EntryLog::open(&path, ack_end, |rec| {
        count += 1;
        if rec.end == ack_end {
            size_at_ack_end = Some(count);
        }
        state.push(NewEntry {
            meta: EntryMeta {
                leaf: tlog::leaf_hash(rec.body),
                location: rec.location,
                integrated_time: rec.integrated_time,
            },
            keys: tlog::index_keys(rec.body),
        });
    })
    .map_err(|e| refuse_damage(dir, &path, &e, head.as_ref(), ack_end))?;

    if let Some(h) = &head {
        if size_at_ack_end != Some(h.size) {
            bail!(
                "{}: {} entries end at byte offset {} but the stored signed tree head {} \
                     says {}: the entry log does not belong to this tree head (replaced or \
                     rolled back). Refusing to start; restore the data directory from a backup",
                path.display(),
                size_at_ack_end.map_or("no".to_owned(), |n| n.to_string()),
                h.log_offset,
                dir.head_path().display(),
                h.size
            );
        }
        let root = state.root_at(h.size)?;
        if root != h.root()? {
            bail!(
                "{}: the tree of its first {} entries has root {} but the stored signed tree \
                     head {} has root {}: serving it would fork the log. Refusing to start; \
                     restore the data directory from a backup",
                path.display(),
                h.size,
                hex::encode(root),
                dir.head_path().display(),
                h.root_hash
            );
        }
        if state.pending_size() == h.size {
            state.publish(TreeHead {
                size: h.size,
                root,
                note: h.checkpoint.clone(),
            })?;
        }
    }
    if state.size() != state.pending_size() || head.is_none() {
        // New entries (the last group commit, durable but not yet covered), a new directory,
        // or an older directory being migrated: sign, store, then publish.
        let size = state.pending_size();
        let root = state.pending_root();
        let note = signer.sign_checkpoint(size, &root)?;
        dir.head_slots()?
            .store(&StoredHead::new(size, &root, log.len(), note.clone()))?;
        state.publish(TreeHead { size, root, note })?;
    }
    if !identity.tree_head {
        dir.mark_tree_head(&identity, lock)?;
    }
    Ok(Opened {
        log,
        state,
        recovery,
    })
}
