//! The in-memory view of the durable log: the Merkle tree, where each body is stored, the
//! leaf-hash and search indexes, and the published signed head.
//!
//! Only the writer mutates it, and only with entries that are already on disk. Entries beyond
//! the published head (pushed but not yet covered by a stored signed head) are invisible to
//! readers: everything a reader can see here is durable and covered by the stored head.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};

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
    /// Where the body (and its stored SET) is.
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
    /// SETs of entries stored before SETs were stored with them, signed once on first use.
    legacy_sets: Mutex<HashMap<u64, String>>,
}

impl Default for LogState {
    fn default() -> Self {
        Self::new()
    }
}

impl LogState {
    /// An empty log; nothing is visible until a head is published.
    pub fn new() -> Self {
        let tree = Tree::new();
        let root = tree.root();
        Self {
            tree,
            entries: Vec::new(),
            by_leaf: HashMap::new(),
            index: HashMap::new(),
            head: Arc::new(TreeHead {
                size: 0,
                root,
                note: String::new(),
            }),
            legacy_sets: Mutex::new(HashMap::new()),
        }
    }

    /// Adds a durable entry; it stays invisible until [`LogState::publish`] covers it.
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

    /// Number of entries pushed (published or not).
    pub fn pending_size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The root over every pushed entry.
    pub fn pending_root(&self) -> Hash {
        self.tree.root()
    }

    /// The root of the first `size` pushed entries.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(self.tree.root_at(size)?)
    }

    /// Makes `head` (signed and stored durably by the caller) the one readers see. Refuses a
    /// head smaller than the current one, larger than what was pushed, or with another root.
    pub fn publish(&mut self, head: TreeHead) -> Result<()> {
        if head.size < self.head.size && !self.head.note.is_empty() {
            bail!(
                "refusing to publish a tree head of size {} below the published size {}",
                head.size,
                self.head.size
            );
        }
        if head.size > self.pending_size() {
            bail!("refusing to publish a tree head beyond the stored entries");
        }
        if self.tree.root_at(head.size)? != head.root {
            bail!("refusing to publish a tree head whose root is not this log's");
        }
        self.head = Arc::new(head);
        Ok(())
    }

    /// Number of visible entries (the published head's size).
    pub fn size(&self) -> u64 {
        self.head.size
    }

    /// The current signed head.
    pub fn head(&self) -> Arc<TreeHead> {
        Arc::clone(&self.head)
    }

    /// The index of the visible entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Option<u64> {
        self.find_any(leaf).filter(|&i| i < self.head.size)
    }

    /// The index of the entry with this leaf hash, published or not (for the writer).
    pub fn find_any(&self, leaf: &Hash) -> Option<u64> {
        self.by_leaf.get(leaf).copied()
    }

    /// The leaf hash of visible entry `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        if index >= self.head.size {
            return None;
        }
        let i = usize::try_from(index).ok()?;
        self.entries.get(i).map(|m| m.leaf)
    }

    /// Visible entry indexes filed under a search key, in log order.
    pub fn search(&self, key: &str) -> &[u64] {
        let all = self.index.get(key).map(Vec::as_slice).unwrap_or(&[]);
        &all[..all.partition_point(|&i| i < self.head.size)]
    }

    /// The SET of a legacy entry (stored without one), signing it with `sign` the first time.
    pub fn legacy_set(
        &self,
        index: u64,
        sign: impl FnOnce() -> Result<String, String>,
    ) -> Result<String, String> {
        let mut cache = self
            .legacy_sets
            .lock()
            .map_err(|_| "SET cache lock poisoned".to_owned())?;
        if let Some(set) = cache.get(&index) {
            return Ok(set.clone());
        }
        let set = sign()?;
        cache.insert(index, set.clone());
        Ok(set)
    }

    /// The visible entry at `index` with its inclusion proof against the current head; `None`
    /// if there is no such entry.
    pub fn entry_proof(&self, index: u64) -> Option<Result<EntryProof>> {
        if index >= self.head.size {
            return None;
        }
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

    /// A consistency proof between two visible sizes, with the root at `last`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::leaf_hash;

    fn entry(n: u8) -> NewEntry {
        NewEntry {
            meta: EntryMeta {
                leaf: leaf_hash(&[n]),
                location: BodyLocation {
                    offset: 0,
                    len: 1,
                    set_len: 0,
                },
                integrated_time: 0,
            },
            keys: vec!["k".to_owned()],
        }
    }

    #[test]
    fn unpublished_entries_are_invisible_and_heads_only_grow() {
        let mut s = LogState::new();
        s.push(entry(1));
        s.push(entry(2));
        assert_eq!(s.find_leaf(&leaf_hash(&[1])), None);
        assert_eq!(s.find_any(&leaf_hash(&[1])), Some(0));
        assert!(s.search("k").is_empty());
        let root1 = s.root_at(1).unwrap();
        s.publish(TreeHead {
            size: 1,
            root: root1,
            note: "n1".into(),
        })
        .unwrap();
        assert_eq!(s.find_leaf(&leaf_hash(&[1])), Some(0));
        assert_eq!(s.search("k"), &[0]);
        assert!(s.entry_proof(1).is_none());
        // Another root at a size, a smaller size, a size beyond the entries: refused.
        let bad = TreeHead {
            size: 2,
            root: [0u8; 32],
            note: "x".into(),
        };
        assert!(s.publish(bad).is_err());
        let smaller = TreeHead {
            size: 0,
            root: s.root_at(0).unwrap(),
            note: "x".into(),
        };
        assert!(s.publish(smaller).is_err());
        let beyond = TreeHead {
            size: 3,
            root: [0u8; 32],
            note: "x".into(),
        };
        assert!(s.publish(beyond).is_err());
        let root2 = s.pending_root();
        s.publish(TreeHead {
            size: 2,
            root: root2,
            note: "n2".into(),
        })
        .unwrap();
        assert_eq!(s.search("k"), &[0, 1]);
    }
}
