//! Log entries as the Rekor v1 REST API returns them, and their two bundle forms (the Sigstore
//! bundle's `TransparencyLogEntry` and cosign's legacy Rekor bundle).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_types::bundle::{
    Checkpoint as BundleCheckpoint, InclusionPromise, InclusionProof as BundleInclusionProof,
    KindVersion, LogId, TransparencyLogEntry,
};
use cosign_types::legacy_bundle::{RekorBundle, RekorPayload};
use serde_json::{Map, Value};

use crate::TlogError;
use crate::entry::Body;
use crate::merkle::{self, Hash};

/// Most entries read from one response.
const MAX_ENTRIES: usize = 1000;
/// Most hashes read from one inclusion proof.
const MAX_PROOF_HASHES: usize = 64;

const WHAT: &str = "log entry response";

/// One log entry: the value of a `{"<uuid>": {...}}` map of the REST API, or an entry taken from
/// a bundle (where the UUID is not known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The entry UUID (64 hex) or entry ID (80 hex: tree ID + UUID); empty when not known.
    pub uuid: String,
    /// The decoded entry body (canonical JSON of the entry).
    pub body: Vec<u8>,
    /// Unix seconds at which the log integrated the entry (0 when unknown).
    pub integrated_time: i64,
    /// Hex SHA-256 of the log's public key (SPKI DER).
    pub log_id: String,
    /// Global index of the entry.
    pub log_index: i64,
    /// The inclusion proof with its signed checkpoint.
    pub inclusion_proof: Option<InclusionProof>,
    /// The signed entry timestamp.
    pub signed_entry_timestamp: Option<Vec<u8>>,
}

/// A Merkle inclusion proof with the signed checkpoint of its tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// Index of the entry in its shard's tree (not the global index).
    pub log_index: i64,
    /// Root hash of the tree the proof leads to.
    pub root_hash: [u8; 32],
    /// Size of that tree.
    pub tree_size: i64,
    /// Sibling hashes from the leaf up.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint (signed note text) for the tree head.
    pub checkpoint: String,
}

fn bad(reason: impl std::fmt::Display) -> TlogError {
    TlogError::malformed(WHAT, reason)
}

fn hex32(text: &str, field: &str) -> Result<Hash, TlogError> {
    let bytes = hex::decode(text).map_err(|_| bad(format!("{field} is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| bad(format!("{field} is not 32 bytes")))
}

/// Whether `text` is a 64-hex UUID or an 80-hex entry ID.
pub(crate) fn is_entry_id(text: &str) -> bool {
    (text.len() == 64 || text.len() == 80) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn int(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, TlogError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("{field} is not an integer"))),
    }
}

fn string<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, TlogError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{field} is not a string"))),
    }
}

impl LogEntry {
    /// Parses a REST API answer: a `{"<uuid>": {...}}` map (one or more entries) or an array of
    /// such maps (`/api/v1/log/entries/retrieve`).
    pub fn from_response(json: &[u8]) -> Result<Vec<LogEntry>, TlogError> {
        let value: Value = serde_json::from_slice(json).map_err(bad)?;
        let maps: Vec<&Map<String, Value>> = match &value {
            Value::Object(map) => vec![map],
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_object()
                        .ok_or_else(|| bad("array item is not an object"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(bad("neither an object nor an array")),
        };
        let mut out = Vec::new();
        for map in maps {
            for (uuid, entry) in map {
                if out.len() >= MAX_ENTRIES {
                    return Err(bad(format!("more than {MAX_ENTRIES} entries")));
                }
                if !is_entry_id(uuid) {
                    return Err(bad(format!("entry key {uuid:?} is not a UUID")));
                }
                let obj = entry
                    .as_object()
                    .ok_or_else(|| bad(format!("entry {uuid} is not an object")))?;
                out.push(Self::from_api_object(uuid, obj)?);
            }
        }
        Ok(out)
    }

    fn from_api_object(uuid: &str, obj: &Map<String, Value>) -> Result<Self, TlogError> {
        let body_b64 = string(obj, "body")?.ok_or_else(|| bad("missing body"))?;
        let body = STANDARD
            .decode(body_b64)
            .map_err(|e| bad(format!("body is not base64: {e}")))?;
        let integrated_time =
            int(obj, "integratedTime")?.ok_or_else(|| bad("missing integratedTime"))?;
        let log_id = string(obj, "logID")?
            .ok_or_else(|| bad("missing logID"))?
            .to_owned();
        let log_index = int(obj, "logIndex")?.ok_or_else(|| bad("missing logIndex"))?;
        if log_index < 0 {
            return Err(bad("negative logIndex"));
        }
        let mut inclusion_proof = None;
        let mut signed_entry_timestamp = None;
        if let Some(verification) = obj.get("verification").filter(|v| !v.is_null()) {
            let verification = verification
                .as_object()
                .ok_or_else(|| bad("verification is not an object"))?;
            if let Some(set) = string(verification, "signedEntryTimestamp")? {
                signed_entry_timestamp = Some(
                    STANDARD
                        .decode(set)
                        .map_err(|e| bad(format!("signedEntryTimestamp is not base64: {e}")))?,
                );
            }
            if let Some(proof) = verification.get("inclusionProof").filter(|v| !v.is_null()) {
                let proof = proof
                    .as_object()
                    .ok_or_else(|| bad("inclusionProof is not an object"))?;
                inclusion_proof = Some(parse_proof(proof)?);
            }
        }
        Ok(Self {
            uuid: uuid.to_owned(),
            body,
            integrated_time,
            log_id,
            log_index,
            inclusion_proof,
            signed_entry_timestamp,
        })
    }

    /// The REST API form of this entry (the value under its UUID in a response map):
    /// `{"body", "integratedTime", "logID", "logIndex", "verification": {"inclusionProof":
    /// {"checkpoint", "hashes", "logIndex", "rootHash", "treeSize"}, "signedEntryTimestamp"}}`,
    /// hashes in hex, SET in base64.
    pub fn to_api_value(&self) -> Value {
        let mut verification = Map::new();
        if let Some(p) = &self.inclusion_proof {
            verification.insert(
                "inclusionProof".to_owned(),
                serde_json::json!({
                    "checkpoint": p.checkpoint,
                    "hashes": p.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": p.log_index,
                    "rootHash": hex::encode(p.root_hash),
                    "treeSize": p.tree_size,
                }),
            );
        }
        if let Some(set) = &self.signed_entry_timestamp {
            verification.insert(
                "signedEntryTimestamp".to_owned(),
                Value::String(STANDARD.encode(set)),
            );
        }
        let mut obj = Map::new();
        obj.insert(
            "body".to_owned(),
            Value::String(STANDARD.encode(&self.body)),
        );
        obj.insert("integratedTime".to_owned(), self.integrated_time.into());
        obj.insert("logID".to_owned(), Value::String(self.log_id.clone()));
        obj.insert("logIndex".to_owned(), self.log_index.into());
        if !verification.is_empty() {
            obj.insert("verification".to_owned(), Value::Object(verification));
        }
        Value::Object(obj)
    }

    /// A REST API response holding these entries: `{"<uuid>": {...}, ...}`.
    pub fn to_response(entries: &[LogEntry]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|e| (e.uuid.clone(), e.to_api_value()))
                .collect(),
        )
    }

    /// The RFC 6962 leaf hash of the body (the UUID's last 64 hex characters).
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.body)
    }

    /// An entry from a Sigstore bundle's `TransparencyLogEntry` (UUID unknown). A malformed
    /// inclusion proof (a hash that is not 32 bytes) is kept in a form that never verifies.
    pub fn from_bundle_entry(e: &TransparencyLogEntry) -> LogEntry {
        let inclusion_proof = e.inclusion_proof.as_ref().map(|p| {
            let root: Option<Hash> = p.root_hash.clone().try_into().ok();
            let hashes: Option<Vec<Hash>> =
                p.hashes.iter().map(|h| h.clone().try_into().ok()).collect();
            match (root, hashes) {
                (Some(root_hash), Some(hashes)) => InclusionProof {
                    log_index: p.log_index,
                    root_hash,
                    tree_size: p.tree_size,
                    hashes,
                    checkpoint: p.checkpoint.envelope.clone(),
                },
                _ => InclusionProof {
                    log_index: p.log_index,
                    root_hash: [0; 32],
                    tree_size: 0,
                    hashes: Vec::new(),
                    checkpoint: String::new(),
                },
            }
        });
        LogEntry {
            uuid: String::new(),
            body: e.canonicalized_body.clone(),
            integrated_time: e.integrated_time,
            log_id: hex::encode(&e.log_id.key_id),
            log_index: e.log_index,
            inclusion_proof,
            signed_entry_timestamp: e
                .inclusion_promise
                .as_ref()
                .map(|p| p.signed_entry_timestamp.clone())
                .filter(|s| !s.is_empty()),
        }
    }

    /// The Sigstore bundle form; `kindVersion` comes from the body.
    pub fn to_bundle_entry(&self) -> Result<TransparencyLogEntry, TlogError> {
        let body = Body::parse(&self.body)?;
        let key_id = hex::decode(&self.log_id)
            .map_err(|_| TlogError::malformed("log entry", "logID is not hex"))?;
        Ok(TransparencyLogEntry {
            log_index: self.log_index,
            log_id: LogId { key_id },
            kind_version: KindVersion {
                kind: body.kind().to_owned(),
                version: body.version().to_owned(),
            },
            integrated_time: self.integrated_time,
            inclusion_promise: self
                .signed_entry_timestamp
                .as_ref()
                .map(|set| InclusionPromise {
                    signed_entry_timestamp: set.clone(),
                }),
            inclusion_proof: self.inclusion_proof.as_ref().map(|p| BundleInclusionProof {
                log_index: p.log_index,
                root_hash: p.root_hash.to_vec(),
                tree_size: p.tree_size,
                hashes: p.hashes.iter().map(|h| h.to_vec()).collect(),
                checkpoint: BundleCheckpoint {
                    envelope: p.checkpoint.clone(),
                },
            }),
            canonicalized_body: self.body.clone(),
        })
    }

    /// cosign's legacy Rekor bundle: the SET and the payload it covers.
    pub fn to_legacy_bundle(&self) -> RekorBundle {
        RekorBundle {
            signed_entry_timestamp: STANDARD
                .encode(self.signed_entry_timestamp.as_deref().unwrap_or_default()),
            payload: RekorPayload {
                body: Value::String(STANDARD.encode(&self.body)),
                integrated_time: self.integrated_time,
                log_index: self.log_index,
                log_id: self.log_id.clone(),
            },
        }
    }

    /// An entry from cosign's legacy Rekor bundle (no UUID, no inclusion proof).
    pub fn from_legacy_bundle(b: &RekorBundle) -> Result<LogEntry, TlogError> {
        let body = b
            .payload
            .body_bytes()
            .map_err(|e| TlogError::malformed("Rekor bundle", e))?;
        let set = b
            .signed_entry_timestamp_bytes()
            .map_err(|e| TlogError::malformed("Rekor bundle", e))?;
        Ok(LogEntry {
            uuid: String::new(),
            body,
            integrated_time: b.payload.integrated_time,
            log_id: b.payload.log_id.clone(),
            log_index: b.payload.log_index,
            inclusion_proof: None,
            signed_entry_timestamp: Some(set).filter(|s| !s.is_empty()),
        })
    }
}

fn parse_proof(proof: &Map<String, Value>) -> Result<InclusionProof, TlogError> {
    let log_index =
        int(proof, "logIndex")?.ok_or_else(|| bad("missing inclusionProof.logIndex"))?;
    let tree_size =
        int(proof, "treeSize")?.ok_or_else(|| bad("missing inclusionProof.treeSize"))?;
    let root_hash = hex32(
        string(proof, "rootHash")?.ok_or_else(|| bad("missing inclusionProof.rootHash"))?,
        "inclusionProof.rootHash",
    )?;
    let hashes = match proof.get("hashes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_PROOF_HASHES {
                return Err(bad("inclusionProof.hashes has too many hashes"));
            }
            items
                .iter()
                .map(|h| {
                    h.as_str()
                        .ok_or_else(|| bad("inclusionProof.hashes item is not a string"))
                        .and_then(|s| hex32(s, "inclusionProof.hashes item"))
                })
                .collect::<Result<_, _>>()?
        }
        Some(_) => return Err(bad("inclusionProof.hashes is not an array")),
    };
    let checkpoint = string(proof, "checkpoint")?.unwrap_or_default().to_owned();
    Ok(InclusionProof {
        log_index,
        root_hash,
        tree_size,
        hashes,
        checkpoint,
    })
}
