//! The single writer: group commit of new entries.
//!
//! Request handlers validate and canonicalise entries in parallel, then hand them to this
//! writer over a bounded channel. The writer thread takes everything queued (up to a cap),
//! drops duplicates, signs each entry's SET (once: it is stored in the entry's frame), appends
//! the batch to the entry log with one write and one `fdatasync`, signs the new tree head and
//! stores it durably (overwriting the older slot of `tree-head.slots` in place), then publishes it to the in-memory state and answers
//! every request of the batch. An entry is therefore acknowledged only once it is on disk and
//! covered by the stored head, and readers never see a head that is not stored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use base64::Engine;

use crate::datadir::DataDir;
use crate::head::{HeadSlots, StoredHead};
use crate::signer::LogSigner;
use crate::state::{EntryMeta, LogState, NewEntry, TreeHead};
use crate::tlog::Hash;
use crate::wal::{BodyLocation, EntryLog, encode_frame};

/// Most entries per batch.
pub const MAX_BATCH_ENTRIES: usize = 1024;
/// Most body bytes per batch (a batch always takes at least one entry).
pub const MAX_BATCH_BYTES: usize = 16 << 20;
/// Queue depth before handlers wait.
pub const QUEUE_DEPTH: usize = 4096;

/// A validated, canonicalised entry waiting to be stored.
#[derive(Debug)]
pub struct Proposal {
    /// Canonical body.
    pub body: Vec<u8>,
    /// Its leaf hash.
    pub leaf: Hash,
    /// Its search-index keys.
    pub keys: Vec<String>,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Outcome>,
}

/// What became of a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (durably) at this log index.
    Stored(u64),
    /// An equal entry is already stored at this index.
    Duplicate(u64),
    /// Not stored: the storage failed.
    Failed(String),
}

/// Sends proposals to the writer.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    tx: mpsc::Sender<Proposal>,
    failed: Arc<AtomicBool>,
}

impl WriterHandle {
    /// Queues `body` and waits until it is durable (or refused).
    pub async fn submit(&self, body: Vec<u8>, leaf: Hash, keys: Vec<String>) -> Outcome {
        if self.failed.load(Ordering::Acquire) {
            return Outcome::Failed("the log storage failed; restart the server".to_owned());
        }
        let (reply, rx) = oneshot::channel();
        let proposal = Proposal {
            body,
            leaf,
            keys,
            reply,
        };
        if self.tx.send(proposal).await.is_err() {
            return Outcome::Failed("the log writer has stopped".to_owned());
        }
        rx.await
            .unwrap_or_else(|_| Outcome::Failed("the log writer has stopped".to_owned()))
    }
}

/// What the writer did, reported when it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Entries stored.
    pub entries: u64,
    /// Group commits (one write and one `fdatasync` each).
    pub commits: u64,
}

/// Starts the writer thread; it runs until every [`WriterHandle`] is dropped or the storage
/// fails, and returns its statistics.
pub fn spawn(
    dir: DataDir,
    log: EntryLog,
    state: Arc<RwLock<LogState>>,
    signer: Arc<LogSigner>,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<WriterStats>)> {
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    let failed = Arc::new(AtomicBool::new(false));
    let mut writer = Writer {
        dir,
        heads: None,
        log,
        state,
        signer,
        failed: Arc::clone(&failed),
        stats: WriterStats::default(),
    };
    let thread = std::thread::Builder::new()
        .name("tlog-writer".to_owned())
        .spawn(move || {
            writer.run(rx);
            writer.stats
        })?;
    Ok((WriterHandle { tx, failed }, thread))
}

struct Writer {
    dir: DataDir,
    /// The stored head, opened on the first commit.
    heads: Option<HeadSlots>,
    log: EntryLog,
    state: Arc<RwLock<LogState>>,
    signer: Arc<LogSigner>,
    failed: Arc<AtomicBool>,
    stats: WriterStats,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn reply(p: Proposal, outcome: Outcome) {
    // The requester may have gone away; the outcome stands regardless.
    let _ = p.reply.send(outcome);
}

impl Writer {
    fn run(&mut self, mut rx: mpsc::Receiver<Proposal>) {
        let mut batch = Vec::with_capacity(MAX_BATCH_ENTRIES);
        while let Some(first) = rx.blocking_recv() {
            let mut bytes = first.body.len();
            batch.push(first);
            while batch.len() < MAX_BATCH_ENTRIES && bytes < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(p) => {
                        bytes += p.body.len();
                        batch.push(p);
                    }
                    Err(_) => break,
                }
            }
            if let Err(message) = self.commit(&mut batch) {
                self.failed.store(true, Ordering::Release);
                crate::out::error(&format!("tlog-server: {message}; refusing new entries"));
                for p in batch.drain(..) {
                    reply(p, Outcome::Failed(message.clone()));
                }
                rx.close();
                while let Some(p) = rx.blocking_recv() {
                    reply(p, Outcome::Failed(message.clone()));
                }
                return;
            }
        }
    }

    /// Stores `batch` (drained on return). `Err` means the storage can no longer be trusted.
    fn commit(&mut self, batch: &mut Vec<Proposal>) -> Result<(), String> {
        // Drop what is already stored (durable, so a 409 may be answered at once) and hold
        // back duplicates inside the batch until their first copy is durable.
        let mut fresh: Vec<Proposal> = Vec::with_capacity(batch.len());
        let mut repeats: Vec<(Proposal, usize)> = Vec::new();
        let base = {
            let state = self.state.read().map_err(|_| "state lock poisoned")?;
            let mut seen: HashMap<Hash, usize> = HashMap::new();
            for p in batch.drain(..) {
                if let Some(index) = state.find_any(&p.leaf) {
                    reply(p, Outcome::Duplicate(index));
                } else if let Some(&pos) = seen.get(&p.leaf) {
                    repeats.push((p, pos));
                } else {
                    seen.insert(p.leaf, fresh.len());
                    fresh.push(p);
                }
            }
            state.pending_size()
        };
        if fresh.is_empty() {
            return Ok(());
        }

        let time = now_unix();
        let mut frames = Vec::with_capacity(fresh.iter().map(|p| p.body.len() + 128).sum());
        let mut offsets = Vec::with_capacity(fresh.len());
        let mut encoded = Vec::with_capacity(fresh.len());
        for p in fresh {
            // The SET is signed once, here, and stored with the entry.
            let index = base + encoded.len() as u64;
            let body_b64 = base64::engine::general_purpose::STANDARD.encode(&p.body);
            let set = match self.signer.sign_set(&body_b64, time, index) {
                Ok(set) => set,
                Err(e) => {
                    reply(
                        p,
                        Outcome::Failed(format!("signing the entry timestamp: {e}")),
                    );
                    continue;
                }
            };
            match encode_frame(&mut frames, time, Some(set.as_bytes()), &p.body) {
                Ok(at) => {
                    offsets.push((at, set.len()));
                    encoded.push(p);
                }
                Err(e) => reply(p, Outcome::Failed(e.to_string())),
            }
        }
        let mut fresh = encoded;
        if fresh.is_empty() {
            for (p, _) in repeats {
                reply(p, Outcome::Failed("entry not stored".to_owned()));
            }
            return Ok(());
        }

        let start = match self.log.append(&frames) {
            Ok(start) => start,
            Err(e) => {
                let message = format!("writing the entry log failed: {}", e.error);
                for p in fresh {
                    reply(p, Outcome::Failed(message.clone()));
                }
                for (p, _) in repeats {
                    reply(p, Outcome::Failed(message.clone()));
                }
                return if e.fatal { Err(message) } else { Ok(()) };
            }
        };

        self.stats.commits += 1;
        self.stats.entries += fresh.len() as u64;

        // Durable: add to the state (invisible until published), then sign the new head, store
        // it durably and publish it.
        let mut indexes = Vec::with_capacity(fresh.len());
        let (size, root) = {
            let mut state = self.state.write().map_err(|_| "state lock poisoned")?;
            for (p, (at, set_len)) in fresh.iter_mut().zip(&offsets) {
                indexes.push(state.pending_size());
                state.push(NewEntry {
                    meta: EntryMeta {
                        leaf: p.leaf,
                        location: BodyLocation {
                            offset: start + at,
                            len: u32::try_from(p.body.len()).unwrap_or(u32::MAX),
                            set_len: u16::try_from(*set_len).unwrap_or(0),
                        },
                        integrated_time: time,
                    },
                    keys: std::mem::take(&mut p.keys),
                });
            }
            (state.pending_size(), state.pending_root())
        };
        if let Err(message) = self.publish(size, root) {
            for p in fresh {
                reply(p, Outcome::Failed(message.clone()));
            }
            for (p, _) in repeats {
                reply(p, Outcome::Failed(message.clone()));
            }
            return Err(message);
        }
        for (p, &index) in fresh.into_iter().zip(&indexes) {
            reply(p, Outcome::Stored(index));
        }
        for (p, pos) in repeats {
            let index = indexes.get(pos).copied().unwrap_or_default();
            reply(p, Outcome::Duplicate(index));
        }
        Ok(())
    }

    /// Signs the head for `size`/`root`, stores it durably, then publishes it.
    fn publish(&mut self, size: u64, root: Hash) -> Result<(), String> {
        let note = self
            .signer
            .sign_checkpoint(size, &root)
            .map_err(|e| format!("signing the tree head failed: {e}"))?;
        let stored = StoredHead::new(size, &root, self.log.len(), note.clone());
        let heads = match &mut self.heads {
            Some(heads) => heads,
            None => self.heads.insert(
                self.dir
                    .head_slots()
                    .map_err(|e| format!("storing the tree head failed: {e:#}"))?,
            ),
        };
        heads
            .store(&stored)
            .map_err(|e| format!("storing the tree head failed: {e:#}"))?;
        let mut state = self.state.write().map_err(|_| "state lock poisoned")?;
        state
            .publish(TreeHead { size, root, note })
            .map_err(|e| format!("{e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::leaf_hash;

    fn setup(dir: &std::path::Path) -> (Arc<RwLock<LogState>>, Arc<LogSigner>, EntryLog) {
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
        let signer = Arc::new(LogSigner::new(key, 42, "test.local"));
        let state = Arc::new(RwLock::new(LogState::new()));
        let (log, _) = EntryLog::open(&dir.join("entries.log"), 0, |_| {}).unwrap();
        (state, signer, log)
    }

    #[test]
    fn concurrent_submissions_are_stored_once_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (state, signer, log) = setup(dir.path());
        let data = DataDir::open(dir.path()).unwrap();
        let (handle, thread) = spawn(data.clone(), log, Arc::clone(&state), signer).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        // 40 distinct bodies, each submitted three times at once.
        let outcomes = rt.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..120u32 {
                let handle = handle.clone();
                tasks.push(tokio::spawn(async move {
                    let body = format!("{{\"n\":{}}}", i % 40).into_bytes();
                    let leaf = leaf_hash(&body);
                    (
                        i % 40,
                        handle
                            .submit(body, leaf, vec![format!("k{}", i % 40)])
                            .await,
                    )
                }));
            }
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        });
        let mut stored: HashMap<u32, u64> = HashMap::new();
        for (n, outcome) in &outcomes {
            if let Outcome::Stored(index) = outcome {
                assert!(stored.insert(*n, *index).is_none(), "{n} stored twice");
            }
        }
        assert_eq!(stored.len(), 40);
        for (n, outcome) in &outcomes {
            match outcome {
                Outcome::Stored(_) => {}
                Outcome::Duplicate(index) => assert_eq!(Some(index), stored.get(n)),
                Outcome::Failed(m) => panic!("failed: {m}"),
            }
        }
        drop(handle);
        let stats = thread.join().unwrap();
        assert_eq!(stats.entries, 40);
        assert!(stats.commits >= 1 && stats.commits <= 40);
        let state = state.read().unwrap();
        assert_eq!(state.size(), 40);
        assert_eq!(state.head().size, 40);
        for (n, index) in &stored {
            assert_eq!(state.search(&format!("k{n}")), &[*index]);
        }

        // Everything is on disk, in the order of the indexes.
        let head = data.load_head().unwrap().unwrap();
        assert_eq!(head.size, 40);
        let mut bodies = Vec::new();
        EntryLog::open(&dir.path().join("entries.log"), head.log_offset, |r| {
            assert!(r.set.is_some());
            bodies.push(r.body.to_vec())
        })
        .unwrap();
        assert_eq!(bodies.len(), 40);
        for (n, index) in &stored {
            assert_eq!(
                bodies[*index as usize],
                format!("{{\"n\":{n}}}").into_bytes()
            );
        }
    }
}
