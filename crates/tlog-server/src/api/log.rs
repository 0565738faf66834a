//! `/api/v1/log`: tree head, public key, consistency proofs; `/api/v1/version`.

use hyper::StatusCode;

use super::model::{ConsistencyProof, LogInfo, Version};
use super::response::{self, Resp};
use super::{App, query_param};

/// Refuses a `treeID` parameter naming another tree.
fn check_tree(app: &App, query: &str) -> Option<Resp> {
    let tree = query_param(query, "treeID").filter(|t| !t.is_empty())?;
    if tree == app.signer.tree_id().to_string() {
        None
    } else {
        Some(response::bad_request(&format!("unknown treeID {tree}")))
    }
}

/// `GET /api/v1/log`.
pub fn info(app: &App, query: &str) -> Resp {
    if let Some(resp) = check_tree(app, query) {
        return resp;
    }
    let head = match app.read() {
        Ok(s) => s.head(),
        Err(resp) => return *resp,
    };
    response::json(
        StatusCode::OK,
        &LogInfo {
            inactive_shards: Vec::new(),
            root_hash: hex::encode(head.root),
            signed_tree_head: head.note.clone(),
            tree_id: app.signer.tree_id().to_string(),
            tree_size: head.size,
        },
    )
}

/// `GET /api/v1/log/publicKey`: PEM.
pub fn public_key(app: &App, query: &str) -> Resp {
    if let Some(resp) = check_tree(app, query) {
        return resp;
    }
    response::bytes(
        StatusCode::OK,
        "application/x-pem-file",
        app.signer.public_pem().to_owned(),
    )
}

fn size_param(query: &str, name: &str, default: Option<u64>) -> Result<u64, Box<Resp>> {
    match query_param(query, name).filter(|v| !v.is_empty()) {
        None => {
            default.ok_or_else(|| Box::new(response::bad_request(&format!("{name} is required"))))
        }
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Box::new(response::bad_request(&format!(
                "invalid {name} {raw:?}"
            )))),
        },
    }
}

/// `GET /api/v1/log/proof?firstSize=&lastSize=`: a consistency proof and the root at
/// `lastSize`.
pub fn proof(app: &App, query: &str) -> Resp {
    if let Some(resp) = check_tree(app, query) {
        return resp;
    }
    let (first, last) = match (
        size_param(query, "firstSize", Some(1)),
        size_param(query, "lastSize", None),
    ) {
        (Ok(f), Ok(l)) => (f, l),
        (Err(resp), _) | (_, Err(resp)) => return *resp,
    };
    if first > last {
        return response::bad_request(&format!(
            "firstSize({first}) must be less than lastSize({last})"
        ));
    }
    let state = match app.read() {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let size = state.head().size;
    if last > size {
        return response::bad_request(&format!(
            "the tree size requested({last}) was greater than what is currently observable({size})"
        ));
    }
    let result = state.consistency(first, last);
    drop(state);
    match result {
        Ok((hashes, root)) => response::json(
            StatusCode::OK,
            &ConsistencyProof {
                hashes: hashes.iter().map(hex::encode).collect(),
                root_hash: hex::encode(root),
            },
        ),
        Err(e) => response::internal(&format!("building the consistency proof: {e}")),
    }
}

/// `GET /api/v1/version`.
pub fn version() -> Resp {
    response::json(
        StatusCode::OK,
        &Version {
            builddate: "",
            commit: "",
            treestate: "",
            version: format!("v{}", env!("CARGO_PKG_VERSION")),
        },
    )
}
