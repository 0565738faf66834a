//! Rekor v1 JSON models, with fields in the order Rekor's Go models print them
//! (alphabetical).

use serde::{Deserialize, Serialize};

/// One log entry (the value of the `{uuid: LogEntry}` map).
#[derive(Debug, Serialize)]
pub struct LogEntry {
    /// Base64 of the canonical body.
    pub body: String,
    /// Unix seconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// Hex SHA-256 of the log's SPKI.
    #[serde(rename = "logID")]
    pub log_id: String,
    /// Index in the log.
    #[serde(rename = "logIndex")]
    pub log_index: u64,
    /// SET and inclusion proof.
    pub verification: Verification,
}

/// `verification` of a log entry.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// Inclusion proof against a signed checkpoint.
    #[serde(rename = "inclusionProof")]
    pub inclusion_proof: InclusionProof,
    /// Base64 SET.
    #[serde(rename = "signedEntryTimestamp")]
    pub signed_entry_timestamp: String,
}

/// An RFC 6962 inclusion proof.
#[derive(Debug, Serialize)]
pub struct InclusionProof {
    /// Signed note for `tree_size` / `root_hash`.
    pub checkpoint: String,
    /// Hex audit path, leaf to root.
    pub hashes: Vec<String>,
    /// Index of the leaf in the tree.
    #[serde(rename = "logIndex")]
    pub log_index: u64,
    /// Hex root hash.
    #[serde(rename = "rootHash")]
    pub root_hash: String,
    /// Tree size the proof is for.
    #[serde(rename = "treeSize")]
    pub tree_size: u64,
}

/// `GET /api/v1/log`.
#[derive(Debug, Serialize)]
pub struct LogInfo {
    /// Always empty: one shard.
    #[serde(rename = "inactiveShards")]
    pub inactive_shards: Vec<serde_json::Value>,
    /// Hex root hash.
    #[serde(rename = "rootHash")]
    pub root_hash: String,
    /// Signed checkpoint for the current size.
    #[serde(rename = "signedTreeHead")]
    pub signed_tree_head: String,
    /// Decimal tree ID.
    #[serde(rename = "treeID")]
    pub tree_id: String,
    /// Number of entries.
    #[serde(rename = "treeSize")]
    pub tree_size: u64,
}

/// `GET /api/v1/log/proof`.
#[derive(Debug, Serialize)]
pub struct ConsistencyProof {
    /// Hex consistency proof.
    pub hashes: Vec<String>,
    /// Hex root at `lastSize`.
    #[serde(rename = "rootHash")]
    pub root_hash: String,
}

/// `GET /api/v1/version`.
#[derive(Debug, Serialize)]
pub struct Version {
    /// Build date (unknown).
    pub builddate: &'static str,
    /// Commit (unknown).
    pub commit: &'static str,
    /// Tree state (unknown).
    pub treestate: &'static str,
    /// Server version.
    pub version: String,
}

/// `POST /api/v1/log/entries/retrieve`. A list may be missing or `null` (Rekor's Go client
/// sends `"entryUUIDs":null,"logIndexes":null` beside the proposed entries).
#[derive(Debug, Default, Deserialize)]
pub struct SearchLogQuery {
    /// 64- or 80-hex UUIDs.
    #[serde(rename = "entryUUIDs", default, deserialize_with = "null_as_empty")]
    pub entry_uuids: Vec<String>,
    /// Log indexes.
    #[serde(rename = "logIndexes", default, deserialize_with = "null_as_empty")]
    pub log_indexes: Vec<i64>,
    /// Proposed entries.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub entries: Vec<serde_json::Value>,
}

/// A JSON list, with `null` read as the empty list.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// `POST /api/v1/index/retrieve`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchIndex {
    /// `[sha256:]<hex>` (also sha1/sha384/sha512 by length).
    #[serde(default)]
    pub hash: Option<String>,
    /// A public key or certificate.
    #[serde(rename = "publicKey", default)]
    pub public_key: Option<SearchPublicKey>,
    /// An email address from a certificate.
    #[serde(default)]
    pub email: Option<String>,
    /// `and` or `or` (default).
    #[serde(default)]
    pub operator: Option<String>,
}

/// The `publicKey` of a [`SearchIndex`].
#[derive(Debug, Default, Deserialize)]
pub struct SearchPublicKey {
    /// PKI format; only `x509` is supported.
    #[serde(default)]
    pub format: Option<String>,
    /// Base64 of the key or certificate (PEM or DER).
    #[serde(default)]
    pub content: Option<String>,
    /// A URL to fetch the key from (refused: the server fetches nothing).
    #[serde(default)]
    pub url: Option<String>,
}
