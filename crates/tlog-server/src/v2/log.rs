//! The Rekor v2 log: recovery from `entries.log`, and the single writer thread that commits
//! submissions in groups (one write and one `fdatasync` per group), signs a checkpoint for the
//! new size and answers every submission of the group with its inclusion proof against that
//! checkpoint. A publisher thread grows the static tiles behind it, coalescing groups (at most
//! every [`PUBLISH_INTERVAL`]), and writes `checkpoint` only once the tiles it covers are
//! written, so the static files are always self-consistent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use cosign_crypto::PrivateKey;
use cosign_tlog::checkpoint::Checkpoint;
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use tokio::sync::{mpsc, oneshot};

use super::store::{EntryFile, TileDir};
use super::tiles::{
    Subtrees, TILE_WIDTH, entry_bundle, entry_bundle_path, grown_entry_bundles, grown_hash_tiles,
    hash_tile_path,
};
use crate::tlog::Hash;

/// Most entries per group commit.
pub const MAX_BATCH: usize = 2048;
/// Queue depth before submitters wait.
pub const QUEUE_DEPTH: usize = 8192;
/// Most often the static tiles and checkpoint are rewritten.
pub const PUBLISH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// An entry stored, with its proof against the checkpoint of the group that stored it.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// Log index.
    pub index: u64,
    /// Tree size of the checkpoint.
    pub tree_size: u64,
    /// Root hash at that size.
    pub root: Hash,
    /// Audit path, leaf to root.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint (C2SP signed note).
    pub checkpoint: Arc<String>,
}

struct Proposal {
    body: Vec<u8>,
    reply: oneshot::Sender<Result<Accepted, String>>,
}

/// Submits entries to the writer.
#[derive(Clone, Debug)]
pub struct Submitter {
    tx: mpsc::Sender<Proposal>,
    failed: Arc<AtomicBool>,
}

impl Submitter {
    /// Queues a canonical body and waits until it is durable (or refused).
    pub async fn submit(&self, body: Vec<u8>) -> Result<Accepted, String> {
        if self.failed.load(Ordering::Acquire) {
            return Err("the v2 log storage failed; restart the server".to_owned());
        }
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Proposal { body, reply }).await.is_err() {
            return Err("the v2 log writer has stopped".to_owned());
        }
        rx.await
            .unwrap_or_else(|_| Err("the v2 log writer has stopped".to_owned()))
    }
}

/// The log as the writer owns it.
pub struct Log {
    file: EntryFile,
    tree: MerkleTree,
    by_leaf: HashMap<Hash, u64>,
    key: PrivateKey,
    origin: String,
    checkpoint: Arc<String>,
    publisher: Publisher,
}

/// The static files as the publisher thread owns them.
pub struct Publisher {
    tiles: TileDir,
    subtrees: Subtrees,
    size: u64,
    /// Bodies of the entries of the last, incomplete entry bundle.
    open_bundle: Vec<Vec<u8>>,
    published: Arc<RwLock<Arc<String>>>,
}

/// New entries and the checkpoint covering them, for the publisher.
struct Update {
    bodies: Vec<Vec<u8>>,
    checkpoint: Arc<String>,
}

impl Publisher {
    fn apply(&mut self, update: Update) {
        for body in update.bodies {
            self.subtrees.push(leaf_hash(&body));
            self.open_bundle.push(body);
        }
    }

    /// Writes the tiles grown since the last publication, then the checkpoint.
    fn publish(&mut self, checkpoint: &Arc<String>) -> Result<()> {
        let old = self.size;
        let new = self.subtrees.tile_level(0).len() as u64;
        let base = old - old % TILE_WIDTH;
        for (b, w) in grown_entry_bundles(old, new) {
            let start = usize::try_from(b * TILE_WIDTH - base)?;
            let end = start + usize::try_from(w)?;
            let data = entry_bundle(self.open_bundle[start..end].iter().map(Vec::as_slice));
            let path = entry_bundle_path(b, w);
            self.tiles.write(&path, &data, false)?;
            if w == TILE_WIDTH {
                self.tiles.drop_partials(&path);
            }
        }
        let done = usize::try_from(new - new % TILE_WIDTH - base)?;
        self.open_bundle.drain(..done);
        for (l, t, w) in grown_hash_tiles(old, new) {
            let data = self.subtrees.hash_tile(l, t, w);
            let path = hash_tile_path(l, t, w);
            self.tiles.write(&path, &data, false)?;
            if w == TILE_WIDTH {
                self.tiles.drop_partials(&path);
            }
        }
        self.tiles
            .write("checkpoint", checkpoint.as_bytes(), false)
            .context("writing the v2 checkpoint")?;
        self.size = new;
        if let Ok(mut p) = self.published.write() {
            *p = Arc::clone(checkpoint);
        }
        Ok(())
    }

    fn run(mut self, rx: &std::sync::mpsc::Receiver<Update>) {
        let mut last = std::time::Instant::now();
        while let Ok(first) = rx.recv() {
            let wait = PUBLISH_INTERVAL.saturating_sub(last.elapsed());
            std::thread::sleep(wait);
            let mut checkpoint = Arc::clone(&first.checkpoint);
            self.apply(first);
            while let Ok(more) = rx.try_recv() {
                checkpoint = Arc::clone(&more.checkpoint);
                self.apply(more);
            }
            if let Err(e) = self.publish(&checkpoint) {
                crate::out::error(&format!(
                    "tlog-server: v2 tiles: {e:#} (rebuilt on restart)"
                ));
            }
            last = std::time::Instant::now();
        }
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.origin)
            .field("size", &self.tree.size())
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Opens the log: replays `entries.log`, checks (and repairs) every tile against it,
    /// and signs and writes a checkpoint for the recovered size. Returns the log and the
    /// number of torn-tail bytes cut off.
    pub fn open(
        file_path: &std::path::Path,
        tiles: TileDir,
        key: PrivateKey,
        origin: &str,
    ) -> Result<(Self, u64)> {
        let (file, opened) = EntryFile::open(file_path)?;
        let mut log = Self {
            file,
            tree: MerkleTree::new(),
            by_leaf: HashMap::new(),
            key,
            origin: origin.to_owned(),
            checkpoint: Arc::new(String::new()),
            publisher: Publisher {
                tiles,
                subtrees: Subtrees::default(),
                size: 0,
                open_bundle: Vec::new(),
                published: Arc::new(RwLock::new(Arc::new(String::new()))),
            },
        };
        for body in &opened.entries {
            log.add(body);
        }
        let size = log.tree.size();
        for (b, w) in grown_entry_bundles(0, size) {
            let start = usize::try_from(b * TILE_WIDTH)?;
            let end = start + usize::try_from(w)?;
            let data = entry_bundle(opened.entries[start..end].iter().map(Vec::as_slice));
            log.publisher
                .tiles
                .ensure(&entry_bundle_path(b, w), &data)?;
        }
        for (l, t, w) in grown_hash_tiles(0, size) {
            let data = log.publisher.subtrees.hash_tile(l, t, w);
            log.publisher
                .tiles
                .ensure(&hash_tile_path(l, t, w), &data)?;
        }
        let tail = usize::try_from(size - size % TILE_WIDTH)?;
        log.publisher.open_bundle = opened.entries[tail..].to_vec();
        log.publisher.size = size;
        log.checkpoint = sign_note(&log.tree, &log.origin, &log.key)?;
        log.publisher
            .tiles
            .write("checkpoint", log.checkpoint.as_bytes(), true)
            .context("writing the v2 checkpoint")?;
        if let Ok(mut p) = log.publisher.published.write() {
            *p = Arc::clone(&log.checkpoint);
        }
        Ok((log, opened.truncated))
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The newest checkpoint, shared with readers.
    pub fn published(&self) -> Arc<RwLock<Arc<String>>> {
        Arc::clone(&self.publisher.published)
    }

    fn add(&mut self, body: &[u8]) -> u64 {
        let leaf = leaf_hash(body);
        let index = self.tree.push(leaf);
        self.publisher.subtrees.push(leaf);
        self.by_leaf.entry(leaf).or_insert(index);
        index
    }

    fn split(self) -> (Writer, Publisher) {
        (
            Writer {
                file: self.file,
                tree: self.tree,
                by_leaf: self.by_leaf,
                key: self.key,
                origin: self.origin,
                checkpoint: self.checkpoint,
            },
            self.publisher,
        )
    }
}

/// The log as the writer thread owns it (the publisher split off).
struct Writer {
    file: EntryFile,
    tree: MerkleTree,
    by_leaf: HashMap<Hash, u64>,
    key: PrivateKey,
    origin: String,
    checkpoint: Arc<String>,
}

impl Writer {
    /// Stores a group: returns the index of each body (existing index for duplicates) and
    /// the publisher's update, if the log grew.
    fn commit(&mut self, bodies: &[&[u8]]) -> Result<(Vec<u64>, Option<Update>)> {
        let old = self.tree.size();
        let mut indexes = Vec::with_capacity(bodies.len());
        let mut fresh: Vec<&[u8]> = Vec::new();
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        for body in bodies {
            let leaf = leaf_hash(body);
            if let Some(i) = self.by_leaf.get(&leaf).or_else(|| in_batch.get(&leaf)) {
                indexes.push(*i);
                continue;
            }
            let i = old + fresh.len() as u64;
            in_batch.insert(leaf, i);
            fresh.push(body);
            indexes.push(i);
        }
        if fresh.is_empty() {
            return Ok((indexes, None));
        }
        self.file
            .write(&fresh)
            .context("appending to the v2 entry log")?;
        let mut new_bodies = Vec::with_capacity(fresh.len());
        for body in &fresh {
            let leaf = leaf_hash(body);
            let index = self.tree.push(leaf);
            self.by_leaf.entry(leaf).or_insert(index);
            new_bodies.push(body.to_vec());
        }
        self.checkpoint = sign_note(&self.tree, &self.origin, &self.key)?;
        Ok((
            indexes,
            Some(Update {
                bodies: new_bodies,
                checkpoint: Arc::clone(&self.checkpoint),
            }),
        ))
    }

    fn accepted(&self, index: u64, root: Hash) -> Result<Accepted, String> {
        let size = self.tree.size();
        let hashes = self
            .tree
            .inclusion_proof(index, size)
            .map_err(|e| e.to_string())?;
        Ok(Accepted {
            index,
            tree_size: size,
            root,
            hashes,
            checkpoint: Arc::clone(&self.checkpoint),
        })
    }
}

/// Signs the checkpoint of `tree` as the log `origin`.
fn sign_note(tree: &MerkleTree, origin: &str, key: &PrivateKey) -> Result<Arc<String>> {
    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        size: tree.size(),
        root_hash: tree.root(),
        other: Vec::new(),
    };
    Ok(Arc::new(cosign_tlog::note::sign_checkpoint(
        &checkpoint,
        origin,
        key,
    )?))
}

/// Starts the writer thread; it runs until every [`Submitter`] is dropped, and returns the
/// number of group commits (one write and one `fdatasync` each). The publisher follows it.
pub fn spawn(log: Log) -> std::io::Result<(Submitter, std::thread::JoinHandle<u64>)> {
    let (tx, mut rx) = mpsc::channel::<Proposal>(QUEUE_DEPTH);
    let (mut log, publisher) = log.split();
    let (updates, update_rx) = std::sync::mpsc::channel();
    let publisher = std::thread::Builder::new()
        .name("tlog-v2-tiles".to_owned())
        .spawn(move || publisher.run(&update_rx))?;
    let failed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&failed);
    let thread = std::thread::Builder::new()
        .name("tlog-v2-writer".to_owned())
        .spawn(move || {
            let mut commits = 0u64;
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let bodies: Vec<&[u8]> = batch.iter().map(|p| p.body.as_slice()).collect();
                let committed = log.commit(&bodies).and_then(|(indexes, update)| {
                    log.file.sync().context("fdatasync of the v2 entry log")?;
                    Ok((indexes, update))
                });
                match committed {
                    Ok((indexes, update)) => {
                        commits += 1;
                        if let Some(update) = update {
                            let _ = updates.send(update);
                        }
                        let root = log.tree.root();
                        for (p, i) in batch.drain(..).zip(indexes) {
                            let _ = p.reply.send(log.accepted(i, root));
                        }
                    }
                    Err(e) => {
                        crate::out::error(&format!("tlog-server: v2 log: {e:#}"));
                        flag.store(true, Ordering::Release);
                        for p in batch.drain(..) {
                            let _ = p.reply.send(Err(format!("storing the entry: {e:#}")));
                        }
                        break;
                    }
                }
            }
            drop(updates);
            let _ = publisher.join();
            commits
        })?;
    Ok((Submitter { tx, failed }, thread))
}
