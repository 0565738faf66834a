//! The newest signed tree head, stored durably in `DIR/tree-head.json` (replaced atomically:
//! temporary file, fsync, rename, fsync of the directory) before it is served.
//!
//! ```json
//! {"size": 12, "rootHash": "<hex>", "logOffset": 3456, "checkpoint": "<signed note>"}
//! ```
//!
//! `logOffset` is where the entry log ends with `size` entries: everything before it has been
//! acknowledged, so damage there is refused; only what follows it (at most the one group
//! commit that was being written) may be a torn tail. On start the rebuilt tree must have at
//! least `size` entries and the root `rootHash` at `size` (no rollback, no fork), and the
//! checkpoint must verify with the log's key.

use anyhow::{Context, Result, bail};
use cosign_crypto::PublicKey;
use serde::{Deserialize, Serialize};

use crate::tlog::Hash;

/// The file name in the data directory.
pub const HEAD_FILE: &str = "tree-head.json";

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

    /// Parses the file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let head: Self =
            serde_json::from_slice(bytes).with_context(|| format!("parsing {HEAD_FILE}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::LogSigner;

    #[test]
    fn round_trip_and_verify() {
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
        let public = key.public_key();
        let signer = LogSigner::new(key, 7, "t.local");
        let root = [3u8; 32];
        let note = signer.sign_checkpoint(5, &root).unwrap();
        let head = StoredHead::new(5, &root, 99, note);
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
}
