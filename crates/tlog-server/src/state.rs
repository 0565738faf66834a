//! The in-memory view of the durable log: the Merkle tree, where each body is stored, the
//! leaf-hash and search indexes, and the signed head for the current size.
//!
//! Only the writer mutates it, and only with entries that are already on disk, so everything a
//! reader can see here is durable.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::signer::LogSigner;
use crate::tlog::{Hash, Tree};
use crate::wal::BodyLocation;

/// A signed tree head.
#[derive(Debug)]
pub struct TreeHead {
    /// Number of leaves.
    pub size: u64,
    /// Root hash at that size.
    pub root: Hash,
    /// The signed checkpoint (signed note) for it.
    pub note: String,
}

/// Where an entry lives and when it was integrated.
#[derive(Clone, Copy, Debug)]
pub struct EntryMeta {
    /// RFC 6962 leaf hash of the body (the 64-hex UUID).
    pub leaf: Hash,
    /// Where the body is stored.
    pub location: BodyLocation,
    /// Integrated time (Unix seconds).
    pub integrated_time: i64,
}

/// An entry to add, already durable.
#[derive(Debug)]
pub struct NewEntry {
    /// Its metadata.
    pub meta: EntryMeta,
    /// Its search-index keys (`sha256:<hex>`, key hashes, emails ...).
    pub keys: Vec<String>,
}

/// An entry with its inclusion proof against the current signed head.
#[derive(Debug)]
pub struct EntryProof {
    /// Log index.
    pub index: u64,
    /// The entry's metadata.
    pub meta: EntryMeta,
    /// Audit path, leaf to root.
    pub hashes: Vec<Hash>,
    /// The head the proof is against.
    pub head: Arc<TreeHead>,
}

/// The log state.
#[derive(Debug)]
pub struct LogState {
    tree: Tree,
    entries: Vec<EntryMeta>,
    by_leaf: HashMap<Hash, u64>,
    index: HashMap<String, Vec<u64>>,
    head: Arc<TreeHead>,
}

impl LogState {
    /// An empty log with a signed head of size 0.
    pub fn new(signer: &LogSigner) -> Result<Self> {
        let tree = Tree::new();
        let root = tree.root();
        let note = signer.sign_checkpoint(0, &root)?;
        Ok(Self {
            tree,
            entries: Vec::new(),
            by_leaf: HashMap::new(),
            index: HashMap::new(),
            head: Arc::new(TreeHead {
                size: 0,
                root,
                note,
            }),
        })
    }

    /// Adds a durable entry; [`LogState::seal`] must follow before readers rely on the head.
    pub fn push(&mut self, entry: NewEntry) {
        let index = self.entries.len() as u64;
        self.tree.push(entry.meta.leaf);
        self.entries.push(entry.meta);
        // A leaf already present (only possible in a hand-edited log) keeps its first index.
        self.by_leaf.entry(entry.meta.leaf).or_insert(index);
        for key in entry.keys {
            let list = self.index.entry(key).or_default();
            if list.last() != Some(&index) {
                list.push(index);
            }
        }
    }

    /// Signs a new head for the current size.
    pub fn seal(&mut self, signer: &LogSigner) -> Result<()> {
        let size = self.size();
        if size == self.head.size {
            return Ok(());
        }
        let root = self.tree.root();
        let note = signer.sign_checkpoint(size, &root)?;
        self.head = Arc::new(TreeHead { size, root, note });
        Ok(())
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The current signed head.
    pub fn head(&self) -> Arc<TreeHead> {
        Arc::clone(&self.head)
    }

    /// The index of the entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Option<u64> {
        self.by_leaf.get(leaf).copied()
    }

    /// The leaf hash of entry `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.entries.get(i).map(|m| m.leaf)
    }

    /// Entry indexes filed under a search key, in log order.
    pub fn search(&self, key: &str) -> &[u64] {
        self.index.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The entry at `index` with its inclusion proof against the current head; `None` if there
    /// is no such entry.
    pub fn entry_proof(&self, index: u64) -> Option<Result<EntryProof>> {
        let meta = *self.entries.get(usize::try_from(index).ok()?)?;
        let head = self.head();
        Some(
            self.tree
                .inclusion_proof(index, head.size)
                .map_err(anyhow::Error::from)
                .map(|hashes| EntryProof {
                    index,
                    meta,
                    hashes,
                    head,
                }),
        )
    }

    /// A consistency proof between two sizes, with the root at `last`.
    pub fn consistency(&self, first: u64, last: u64) -> Result<(Vec<Hash>, Hash)> {
        if first > last || last > self.size() {
            bail!("sizes out of range");
        }
        let root = self.tree.root_at(last)?;
        let hashes = if first == 0 || first == last {
            Vec::new()
        } else {
            self.tree.consistency_proof(first, last)?
        };
        Ok((hashes, root))
    }
}
