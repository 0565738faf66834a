//! Turns a stored entry into Rekor's `{uuid: LogEntry}` form: body, stored SET, and an inclusion
//! proof against the signed checkpoint current at the time of the response.

use std::collections::BTreeMap;

use base64::Engine;

use super::App;
use super::model::{InclusionProof, LogEntry, Verification};
use crate::state::EntryProof;

/// The 80-hex entry ID (16-hex tree ID + leaf hash).
pub fn entry_id(app: &App, leaf: &[u8]) -> String {
    format!("{}{}", app.signer.tree_id_hex(), hex::encode(leaf))
}

/// Looks up entry `index` with a proof against the current head. `Ok(None)`: no such entry.
pub fn proof_for(app: &App, index: u64) -> Result<Option<EntryProof>, String> {
    let state = app
        .state
        .read()
        .map_err(|_| "state lock poisoned".to_owned())?;
    match state.entry_proof(index) {
        None => Ok(None),
        Some(Ok(p)) => Ok(Some(p)),
        Some(Err(e)) => Err(format!("building the inclusion proof: {e}")),
    }
}

/// Renders `proof`'s entry with its stored SET (signed once, when the entry was appended).
/// Entries stored before SETs were kept with them get theirs signed on first use and cached.
/// `_body` is ignored: the body is read with the SET in one read.
pub fn render(
    app: &App,
    proof: EntryProof,
    _body: Option<&[u8]>,
) -> Result<(String, LogEntry), String> {
    let (stored_set, body) = app
        .reader
        .read_set_and_body(proof.meta.location)
        .map_err(|e| format!("reading entry {}: {e}", proof.index))?;
    let body_b64 = base64::engine::general_purpose::STANDARD.encode(&body);
    let set = match stored_set {
        Some(set) => set,
        None => {
            let sign = || {
                app.signer
                    .sign_set(&body_b64, proof.meta.integrated_time, proof.index)
                    .map_err(|e| format!("signing the entry timestamp: {e}"))
            };
            app.state
                .read()
                .map_err(|_| "state lock poisoned".to_owned())?
                .legacy_set(proof.index, sign)?
        }
    };
    let entry = LogEntry {
        body: body_b64,
        integrated_time: proof.meta.integrated_time,
        log_id: app.signer.log_id_hex().to_owned(),
        log_index: proof.index,
        verification: Verification {
            inclusion_proof: InclusionProof {
                checkpoint: proof.head.note.clone(),
                hashes: proof.hashes.iter().map(hex::encode).collect(),
                log_index: proof.index,
                root_hash: hex::encode(proof.head.root),
                tree_size: proof.head.size,
            },
            signed_entry_timestamp: set,
        },
    };
    Ok((entry_id(app, &proof.meta.leaf), entry))
}

/// Renders entry `index` as a one-key map. `Ok(None)`: no such entry.
pub fn entry_map(
    app: &App,
    index: u64,
    body: Option<&[u8]>,
) -> Result<Option<BTreeMap<String, LogEntry>>, String> {
    let Some(proof) = proof_for(app, index)? else {
        return Ok(None);
    };
    let (id, entry) = render(app, proof, body)?;
    Ok(Some(BTreeMap::from([(id, entry)])))
}
