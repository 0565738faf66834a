//! `/api/v1/log/entries`: create (with group commit), get by UUID or index, retrieve.

use hyper::StatusCode;
use hyper::header::{ETAG, LOCATION};

use super::render::{entry_id, entry_map};
use super::response::{self, Resp};
use super::{App, MAX_SEARCH_QUERIES, query_param};
use crate::canonical::{self, Canonical};
use crate::tlog::Hash;
use crate::writer::Outcome;

const ENTRIES_PATH: &str = "/api/v1/log/entries";

fn conflict(app: &App, leaf: &Hash) -> Resp {
    let id = entry_id(app, leaf);
    let resp = response::error(
        StatusCode::CONFLICT,
        &format!("an equivalent entry already exists in the transparency log with UUID {id}"),
    );
    response::with_header(resp, LOCATION, &format!("{ENTRIES_PATH}/{id}"))
}

/// `POST /api/v1/log/entries`: 201 with `{uuid: LogEntry}`, `ETag` and `Location` once the
/// entry is durable; 409 with the existing entry's `Location` for a duplicate; 400 if invalid.
pub async fn create(app: &App, body: &[u8]) -> Resp {
    let Canonical {
        body: canonical,
        leaf,
        keys,
    } = match canonical::canonicalize(body) {
        Ok(x) => x,
        Err(refused) => return response::bad_request(&refused.0),
    };
    // Fast path for duplicates already stored; the writer checks again.
    let existing = match app.read() {
        Ok(state) => state.find_leaf(&leaf),
        Err(resp) => return *resp,
    };
    if existing.is_some() {
        return conflict(app, &leaf);
    }
    let outcome = app.writer.submit(canonical, leaf, keys).await;
    match outcome {
        Outcome::Stored(index) => match entry_map(app, index, None) {
            Ok(Some(map)) => {
                let id = entry_id(app, &leaf);
                let resp = response::json(StatusCode::CREATED, &map);
                let resp = response::with_header(resp, ETAG, &id);
                response::with_header(resp, LOCATION, &format!("{ENTRIES_PATH}/{id}"))
            }
            Ok(None) => response::internal("stored entry not found"),
            Err(message) => response::internal(&message),
        },
        Outcome::Duplicate(_) => conflict(app, &leaf),
        Outcome::Failed(message) => response::internal(&message),
    }
}

fn one_entry(app: &App, index: u64) -> Resp {
    match entry_map(app, index, None) {
        Ok(Some(map)) => response::json(StatusCode::OK, &map),
        Ok(None) => response::not_found(),
        Err(message) => response::internal(&message),
    }
}

/// `GET /api/v1/log/entries?logIndex=N`.
pub fn by_index(app: &App, query: &str) -> Resp {
    let Some(raw) = query_param(query, "logIndex") else {
        return response::bad_request("logIndex is required");
    };
    match raw.parse::<u64>() {
        Ok(index) => one_entry(app, index),
        Err(_) => response::bad_request(&format!("invalid logIndex {raw:?}")),
    }
}

/// A parsed entry UUID.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryRef {
    /// A leaf hash in this log.
    Leaf(Hash),
    /// An 80-hex ID naming another tree.
    OtherTree,
}

/// Parses a 64-hex UUID or an 80-hex entry ID (16-hex tree ID + UUID).
pub fn parse_uuid(app: &App, text: &str) -> Result<EntryRef, String> {
    let text = text.to_ascii_lowercase();
    let (tree, uuid) = match text.len() {
        64 => (None, text.as_str()),
        80 => (Some(&text[..16]), &text[16..]),
        _ => return Err(format!("incorrectly formatted uuid {text}")),
    };
    let mut leaf = [0u8; 32];
    hex::decode_to_slice(uuid, &mut leaf)
        .map_err(|_| format!("incorrectly formatted uuid {text}"))?;
    if let Some(tree) = tree {
        if !tree.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("incorrectly formatted uuid {text}"));
        }
        if tree != app.signer.tree_id_hex() {
            return Ok(EntryRef::OtherTree);
        }
    }
    Ok(EntryRef::Leaf(leaf))
}

fn find(app: &App, leaf: &Hash) -> Result<Option<u64>, Box<Resp>> {
    app.read().map(|s| s.find_leaf(leaf))
}

/// `GET /api/v1/log/entries/{uuid}`.
pub fn by_uuid(app: &App, uuid: &str) -> Resp {
    match parse_uuid(app, uuid) {
        Err(message) => response::bad_request(&message),
        Ok(EntryRef::OtherTree) => response::not_found(),
        Ok(EntryRef::Leaf(leaf)) => match find(app, &leaf) {
            Ok(Some(index)) => one_entry(app, index),
            Ok(None) => response::not_found(),
            Err(resp) => *resp,
        },
    }
}

/// `POST /api/v1/log/entries/retrieve`: `entryUUIDs`, `entries` (proposed) and `logIndexes`,
/// at most 10 in all; entries not found are left out.
pub fn retrieve(app: &App, body: &[u8]) -> Resp {
    let query: super::model::SearchLogQuery = match serde_json::from_slice(body) {
        Ok(q) => q,
        Err(e) => return response::bad_request(&format!("parsing the query: {e}")),
    };
    let total = query.entry_uuids.len() + query.entries.len() + query.log_indexes.len();
    if total > MAX_SEARCH_QUERIES {
        return response::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("more than max allowed {MAX_SEARCH_QUERIES} entries in request"),
        );
    }
    let mut indexes = Vec::with_capacity(total);
    for uuid in &query.entry_uuids {
        match parse_uuid(app, uuid) {
            Err(message) => return response::bad_request(&message),
            Ok(EntryRef::OtherTree) => {}
            Ok(EntryRef::Leaf(leaf)) => match find(app, &leaf) {
                Ok(Some(i)) => indexes.push(i),
                Ok(None) => {}
                Err(resp) => return *resp,
            },
        }
    }
    for proposed in &query.entries {
        let leaf = match canonical::canonicalize_value(proposed) {
            Ok(x) => x.leaf,
            Err(refused) => return response::bad_request(&refused.0),
        };
        match find(app, &leaf) {
            Ok(Some(i)) => indexes.push(i),
            Ok(None) => {}
            Err(resp) => return *resp,
        }
    }
    for &index in &query.log_indexes {
        match u64::try_from(index) {
            Ok(i) => indexes.push(i),
            Err(_) => return response::bad_request(&format!("invalid logIndex {index}")),
        }
    }
    let mut out = Vec::with_capacity(indexes.len());
    for index in indexes {
        match entry_map(app, index, None) {
            Ok(Some(map)) => out.push(map),
            Ok(None) => {}
            Err(message) => return response::internal(&message),
        }
    }
    response::json(StatusCode::OK, &out)
}
