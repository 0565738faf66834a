//! The bridge to `cosign-tlog`, the one place this server calls it: Merkle tree and hashes,
//! SET and checkpoint signing, proposed-entry validation and canonicalisation, index keys.

use anyhow::Result;
use cosign_crypto::PrivateKey;

pub use cosign_tlog::TlogError;
pub use cosign_tlog::merkle::{Hash, MerkleTree as Tree, leaf_hash};

/// Signs the SET of an entry: the canonical JSON of `{body, integratedTime, logID,
/// logIndex}`.
pub fn sign_set(
    key: &PrivateKey,
    body_b64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    log_index: u64,
) -> Result<Vec<u8>> {
    let index = i64::try_from(log_index)?;
    let payload = cosign_tlog::set::payload(body_b64, integrated_time, log_id_hex, index);
    Ok(cosign_tlog::set::sign(&payload, key)?)
}

/// A signed note for a checkpoint.
pub fn sign_checkpoint(
    key: &PrivateKey,
    origin: &str,
    name: &str,
    size: u64,
    root: &Hash,
    other: Vec<String>,
) -> Result<String> {
    let checkpoint = cosign_tlog::checkpoint::Checkpoint {
        origin: origin.to_owned(),
        size,
        root_hash: *root,
        other,
    };
    Ok(cosign_tlog::checkpoint::sign_note(&checkpoint, name, key)?)
}

/// Validates a proposed entry (its signature must verify) and returns the canonical body to
/// store.
pub fn canonicalize_proposed(value: &serde_json::Value) -> Result<Vec<u8>, TlogError> {
    cosign_tlog::entry::canonicalize_proposed(value)
}

/// The search-index keys of a stored body; none if it does not parse (the entry is still in
/// the log, just not searchable).
pub fn index_keys(body: &[u8]) -> Vec<String> {
    match cosign_tlog::entry::Body::parse(body) {
        Ok(parsed) => cosign_tlog::entry::index_keys(&parsed),
        Err(_) => Vec::new(),
    }
}

/// The search-index key of a public key or certificate sent to `/api/v1/index/retrieve`
/// (PEM, or DER which is wrapped in PEM first): hex SHA-256 of its canonical PEM.
pub fn public_key_index_key(raw: &[u8]) -> Option<String> {
    if raw.windows(11).any(|w| w == b"-----BEGIN ") {
        return cosign_tlog::entry::key_index(raw);
    }
    let label = if cosign_crypto::PublicKey::from_spki_der(raw).is_ok() {
        "PUBLIC KEY"
    } else {
        "CERTIFICATE"
    };
    cosign_tlog::entry::key_index(crate::datadir::pem_encode(label, raw).as_bytes())
}
