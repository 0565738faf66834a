//! The log's signing identity: signed entry timestamps (SETs) and signed checkpoints.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use base64::Engine;
use cosign_crypto::PrivateKey;

use crate::tlog::{self, Hash};

/// Signs SETs and checkpoints for one log (key, tree ID, hostname).
#[derive(Debug)]
pub struct LogSigner {
    key: PrivateKey,
    public_pem: String,
    log_id_hex: String,
    tree_id: i64,
    hostname: String,
}

impl LogSigner {
    /// A signer for the log `tree_id` named `hostname`.
    pub fn new(key: PrivateKey, tree_id: i64, hostname: &str) -> Self {
        let public = key.public_key();
        Self {
            public_pem: public.to_pem(),
            log_id_hex: hex::encode(public.hint()),
            key,
            tree_id,
            hostname: hostname.to_owned(),
        }
    }

    /// The public key as PEM.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The log ID: hex SHA-256 of the public key's SPKI DER.
    pub fn log_id_hex(&self) -> &str {
        &self.log_id_hex
    }

    /// The tree ID.
    pub fn tree_id(&self) -> i64 {
        self.tree_id
    }

    /// The tree ID as the 16-hex prefix of entry IDs.
    pub fn tree_id_hex(&self) -> String {
        format!("{:016x}", self.tree_id)
    }

    /// The checkpoint origin, `<hostname> - <tree id>`.
    pub fn origin(&self) -> String {
        format!("{} - {}", self.hostname, self.tree_id)
    }

    /// The SET for an entry, base64.
    pub fn sign_set(&self, body_b64: &str, integrated_time: i64, log_index: u64) -> Result<String> {
        let sig = tlog::sign_set(
            &self.key,
            body_b64,
            integrated_time,
            &self.log_id_hex,
            log_index,
        )?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }

    /// A signed checkpoint (signed note) for a tree of `size` leaves with root `root`, with a
    /// `Timestamp: <unix nanos>` line as Rekor writes.
    pub fn sign_checkpoint(&self, size: u64, root: &Hash) -> Result<String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        tlog::sign_checkpoint(
            &self.key,
            &self.origin(),
            &self.hostname,
            size,
            root,
            vec![format!("Timestamp: {nanos}")],
        )
    }
}
