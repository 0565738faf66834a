//! The Rekor v2 log: recovery from `entries.log`, and the single writer thread that commits
//! submissions in groups (one write and one `fdatasync` per group), signs a checkpoint for the
//! new size and answers every submission of the group with its inclusion proof against that
//! checkpoint. A publisher thread grows the static tiles behind it, coalescing groups (at most
//! every [`PUBLISH_INTERVAL`]), and writes `checkpoint` only once the tiles it covers are
//! written, so the static files are always self-consistent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::bail;
use anyhow::{Context, Result};
use cosign_crypto::{PrivateKey, PublicKey};
use cosign_tlog::checkpoint::Checkpoint;
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use tokio::sync::{mpsc, oneshot};

use super::store::{Acked, EntryFile, TileDir};
use super::tiles::{
    Subtrees, TILE_WIDTH, entry_bundle, entry_bundle_path, grown_entry_bundles, grown_hash_tiles,
    hash_tile_path,
};
use crate::head::{self, HEAD_FILE, HeadSlots, StoredHead};
use crate::tlog::Hash;

/// The entry log in the v2 directory.
pub const ENTRIES_FILE: &str = "entries.log";

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
    /// Whether the entry was already in the log (at `index`): nothing was added.
    pub duplicate: bool,
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
    heads: HeadSlots,
    /// Size and root of the stored head.
    stored: (u64, Hash),
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

/// Where a submitted entry went: its index, and whether it was already there (a duplicate).
type Placed = (u64, bool);

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

/// What [`Log::open`] found and did.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Torn-tail bytes cut off the entry log (never acknowledged).
    pub truncated: u64,
    /// Entries after the stored head (durable, never acknowledged) now covered by a new one.
    pub uncovered: u64,
    /// Whether the log had no stored head yet (made by an older server) and now has one.
    pub migrated: bool,
}

impl Log {
    /// Opens the log in `dir` (`DATA/v2`): replays `entries.log` and checks it against the
    /// stored signed tree head (`tree-head.slots`) and the published checkpoint (no damage in
    /// the acknowledged part, no rollback, no fork: each refuses to start, changing nothing);
    /// then checks (and repairs) every tile against it, stores a head for the recovered size
    /// if it grew, and writes the checkpoint. `head_required`: the directory has kept a stored
    /// head before, so a missing one is refused rather than made anew.
    pub fn open(
        dir: &std::path::Path,
        tiles: TileDir,
        key: PrivateKey,
        origin: &str,
        head_required: bool,
    ) -> Result<(Self, Recovered)> {
        let public = key.public_key();
        let file_path = dir.join(ENTRIES_FILE);
        let head_path = dir.join(HEAD_FILE);
        let head = head::load(dir)?;
        if let Some(h) = &head {
            verify_head(h, &public).with_context(|| {
                format!(
                    "{}: the stored signed tree head does not verify with the v2 log key {}. \
                     Refusing to start; restore both from the same backup",
                    head_path.display(),
                    dir.join(super::KEY_FILE).display()
                )
            })?;
        } else if head_required && std::fs::metadata(&file_path).is_ok_and(|m| m.len() > 0) {
            bail!(
                "{} is missing but {} holds entries: without it a rollback or fork cannot be \
                 detected. Refusing to start; restore it from a backup (with the entry log)",
                head_path.display(),
                file_path.display()
            );
        }
        let covered = match &head {
            Some(h) => format!(
                "the stored signed tree head {} covers {} entries, up to byte offset {}",
                head_path.display(),
                h.size,
                h.log_offset
            ),
            None => String::new(),
        };
        let (file, opened) = EntryFile::open(
            &file_path,
            Acked {
                end: head.as_ref().map_or(0, |h| h.log_offset),
                covered_by: &covered,
            },
        )?;
        let mut log = Self {
            file,
            tree: MerkleTree::new(),
            by_leaf: HashMap::new(),
            key,
            origin: origin.to_owned(),
            checkpoint: Arc::new(String::new()),
            heads: HeadSlots::open(dir)?,
            stored: (0, cosign_tlog::merkle::empty_root()),
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
        if let Some(h) = &head {
            if opened.size_at_ack != Some(h.size) {
                bail!(
                    "{}: {} entries end at byte offset {} but the stored signed tree head {} \
                     says {}: the entry log does not belong to this tree head (replaced or \
                     rolled back). Refusing to start; the files were left untouched. Restore \
                     the newest entry log from a backup",
                    file_path.display(),
                    opened
                        .size_at_ack
                        .map_or_else(|| "no".to_owned(), |n| n.to_string()),
                    h.log_offset,
                    head_path.display(),
                    h.size
                );
            }
            let root = log.tree.root_at(h.size)?;
            if root != h.root()? {
                bail!(
                    "{}: the tree of its first {} entries has root {} but the stored signed \
                     tree head {} has root {}: serving it would fork the log. Refusing to \
                     start; the files were left untouched. Restore the entry log from a backup",
                    file_path.display(),
                    h.size,
                    hex::encode(root),
                    head_path.display(),
                    h.root_hash
                );
            }
            log.stored = (h.size, root);
        }
        log.check_published(&file_path, &public)?;

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

        let reuse = head
            .as_ref()
            .filter(|h| h.size == size && note_origin(&h.checkpoint) == origin);
        log.checkpoint = match reuse {
            // The stored head covers everything and names this origin: serve it as is.
            Some(h) => Arc::new(h.checkpoint.clone()),
            // New entries (a group commit durable but not acknowledged), a log without a
            // stored head yet, or a new origin: sign, store, then publish.
            None => log.store_head()?,
        };
        log.publisher
            .tiles
            .write("checkpoint", log.checkpoint.as_bytes(), true)
            .context("writing the v2 checkpoint")?;
        if let Ok(mut p) = log.publisher.published.write() {
            *p = Arc::clone(&log.checkpoint);
        }
        let recovered = Recovered {
            truncated: opened.truncated,
            uncovered: size - head.as_ref().map_or(size, |h| h.size),
            migrated: head.is_none(),
        };
        Ok((log, recovered))
    }

    /// The published checkpoint (`tiles/checkpoint`) is a second witness of what was served:
    /// if it verifies with the log key, the entry log must hold its tree.
    fn check_published(&self, file_path: &std::path::Path, public: &PublicKey) -> Result<()> {
        let path = self.publisher.tiles.root().join("checkpoint");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        // Unreadable or unsigned: derived data, rewritten below.
        let Ok(cp) = verify_note(&text, public) else {
            return Ok(());
        };
        let size = self.tree.size();
        if cp.size > size {
            bail!(
                "{}: the published checkpoint {} covers {} entries but the entry log holds {}: \
                 it was truncated or rolled back to an older copy. Refusing to serve or sign a \
                 smaller tree; the files were left untouched. Restore the newest entry log \
                 from a backup",
                file_path.display(),
                path.display(),
                cp.size,
                size
            );
        }
        let root = self.tree.root_at(cp.size)?;
        if root != cp.root_hash {
            bail!(
                "{}: the tree of its first {} entries has root {} but the published checkpoint \
                 {} has root {}: serving it would fork the log. Refusing to start; the files \
                 were left untouched. Restore the entry log from a backup",
                file_path.display(),
                cp.size,
                hex::encode(root),
                path.display(),
                hex::encode(cp.root_hash)
            );
        }
        Ok(())
    }

    /// Signs the checkpoint of the whole tree and stores it as the head (before it is served).
    fn store_head(&mut self) -> Result<Arc<String>> {
        let note = sign_note(&self.tree, &self.origin, &self.key)?;
        let head = StoredHead::new(
            self.tree.size(),
            &self.tree.root(),
            self.file.end(),
            (*note).clone(),
        );
        self.heads.store(&head)?;
        self.stored = (self.tree.size(), self.tree.root());
        Ok(note)
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
                heads: self.heads,
                stored: self.stored,
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
    heads: HeadSlots,
    /// Size and root of the stored head: every head signed grows it.
    stored: (u64, Hash),
}

impl Writer {
    /// Stores a group: returns the index of each body and whether it was a duplicate (of an
    /// entry in the log or earlier in the group: its index), and the publisher's update, if
    /// the log grew.
    fn commit(&mut self, bodies: &[&[u8]]) -> Result<(Vec<Placed>, Option<Update>)> {
        let old = self.tree.size();
        let mut indexes = Vec::with_capacity(bodies.len());
        let mut fresh: Vec<&[u8]> = Vec::new();
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        for body in bodies {
            let leaf = leaf_hash(body);
            if let Some(i) = self.by_leaf.get(&leaf).or_else(|| in_batch.get(&leaf)) {
                indexes.push((*i, true));
                continue;
            }
            let i = old + fresh.len() as u64;
            in_batch.insert(leaf, i);
            fresh.push(body);
            indexes.push((i, false));
        }
        if fresh.is_empty() {
            return Ok((indexes, None));
        }
        self.file
            .write(&fresh)
            .context("appending to the v2 entry log")?;
        self.file.sync().context("fdatasync of the v2 entry log")?;
        let mut new_bodies = Vec::with_capacity(fresh.len());
        for body in &fresh {
            let leaf = leaf_hash(body);
            let index = self.tree.push(leaf);
            self.by_leaf.entry(leaf).or_insert(index);
            new_bodies.push(body.to_vec());
        }
        // Never sign a tree that does not extend the stored head.
        let (size, root) = (self.tree.size(), self.tree.root());
        if size <= self.stored.0 || self.tree.root_at(self.stored.0)? != self.stored.1 {
            bail!(
                "refusing to sign a tree of {size} entries: it does not extend the stored head \
                 ({} entries)",
                self.stored.0
            );
        }
        let note = sign_note(&self.tree, &self.origin, &self.key)?;
        let head = StoredHead::new(size, &root, self.file.end(), (*note).clone());
        self.heads
            .store(&head)
            .context("storing the v2 tree head")?;
        self.stored = (size, root);
        self.checkpoint = note;
        Ok((
            indexes,
            Some(Update {
                bodies: new_bodies,
                checkpoint: Arc::clone(&self.checkpoint),
            }),
        ))
    }

    fn accepted(&self, index: u64, duplicate: bool, root: Hash) -> Result<Accepted, String> {
        let size = self.tree.size();
        let hashes = self
            .tree
            .inclusion_proof(index, size)
            .map_err(|e| e.to_string())?;
        Ok(Accepted {
            index,
            duplicate,
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

/// The origin (first line) of a checkpoint.
pub(crate) fn note_origin(text: &str) -> &str {
    text.split('\n').next().unwrap_or_default()
}

/// Verifies a checkpoint signed by the v2 log `key` as whatever origin it names.
pub(crate) fn verify_note(text: &str, key: &PublicKey) -> Result<Checkpoint> {
    Ok(cosign_tlog::note::verify_checkpoint(
        text,
        note_origin(text),
        key,
    )?)
}

/// Checks that a stored head's checkpoint is signed by `key` and states its size and root.
pub(crate) fn verify_head(head: &StoredHead, key: &PublicKey) -> Result<()> {
    let cp = verify_note(&head.checkpoint, key)?;
    if cp.size != head.size || cp.root_hash != head.root()? {
        bail!(
            "the checkpoint (size {}) does not match size {} / rootHash {}",
            cp.size,
            head.size,
            head.root_hash
        );
    }
    Ok(())
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
                let committed = log.commit(&bodies);
                match committed {
                    Ok((indexes, update)) => {
                        commits += 1;
                        if let Some(update) = update {
                            let _ = updates.send(update);
                        }
                        let root = log.tree.root();
                        for (p, (i, duplicate)) in batch.drain(..).zip(indexes) {
                            let _ = p.reply.send(log.accepted(i, duplicate, root));
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
