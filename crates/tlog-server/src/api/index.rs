//! `POST /api/v1/index/retrieve`: search by artifact hash, public key or email.

use std::collections::BTreeSet;

use base64::Engine;
use hyper::StatusCode;

use super::App;
use super::model::SearchIndex;
use super::render::entry_id;
use super::response::{self, Resp};
use crate::tlog;

/// The index key for a `hash` query: lowercase `<alg>:<hex>`, the algorithm taken from the
/// length when there is no prefix (as Rekor's `PrefixSHA`).
pub fn hash_key(hash: &str) -> Result<String, String> {
    let hash = hash.trim().to_ascii_lowercase();
    let (alg, hex_part) = match hash.split_once(':') {
        Some((alg, hex_part)) => (alg.to_owned(), hex_part),
        None => {
            let alg = match hash.len() {
                40 => "sha1",
                64 => "sha256",
                96 => "sha384",
                128 => "sha512",
                _ => return Err(format!("invalid hash {hash:?}")),
            };
            (alg.to_owned(), hash.as_str())
        }
    };
    let want = match alg.as_str() {
        "sha1" => 40,
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(format!("unsupported hash algorithm {alg:?}")),
    };
    if hex_part.len() != want || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("invalid hash {hash:?}"));
    }
    Ok(format!("{alg}:{hex_part}"))
}

fn criteria(query: &SearchIndex) -> Result<Vec<String>, Box<Resp>> {
    let mut keys = Vec::new();
    if let Some(hash) = query.hash.as_deref().filter(|h| !h.is_empty()) {
        keys.push(hash_key(hash).map_err(|m| Box::new(response::bad_request(&m)))?);
    }
    if let Some(pk) = &query.public_key {
        let format = pk.format.as_deref().unwrap_or("");
        if format != "x509" {
            return Err(Box::new(response::bad_request(
                "the PKI format requested is not supported by this server",
            )));
        }
        if pk.url.as_deref().is_some_and(|u| !u.is_empty()) {
            return Err(Box::new(response::bad_request(
                "publicKey.url is not supported by this server; send the content",
            )));
        }
        let content = pk.content.as_deref().unwrap_or("");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|_| {
                Box::new(response::bad_request(
                    "public key provided could not be parsed",
                ))
            })?;
        let key = tlog::public_key_index_key(&raw).ok_or_else(|| {
            Box::new(response::bad_request(
                "public key provided could not be parsed",
            ))
        })?;
        keys.push(key);
    }
    if let Some(email) = query.email.as_deref().filter(|e| !e.is_empty()) {
        keys.push(email.to_ascii_lowercase());
    }
    Ok(keys)
}

/// Answers with the entry IDs (80-hex) matching every (`and`) or any (`or`, the default)
/// criterion, in log order.
pub fn search(app: &App, body: &[u8]) -> Resp {
    let query: SearchIndex = match serde_json::from_slice(body) {
        Ok(q) => q,
        Err(e) => return response::bad_request(&format!("parsing the query: {e}")),
    };
    let and = match query.operator.as_deref().unwrap_or("or") {
        "and" => true,
        "or" | "" => false,
        other => return response::bad_request(&format!("invalid operator {other:?}")),
    };
    let keys = match criteria(&query) {
        Ok(k) => k,
        Err(resp) => return *resp,
    };
    let state = match app.read() {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let mut result: Option<BTreeSet<u64>> = None;
    for key in &keys {
        let found: BTreeSet<u64> = state.search(key).iter().copied().collect();
        result = Some(match result {
            None => found,
            Some(acc) if and => acc.intersection(&found).copied().collect(),
            Some(mut acc) => {
                acc.extend(found);
                acc
            }
        });
    }
    let mut ids = Vec::new();
    for index in result.unwrap_or_default() {
        if let Some(leaf) = state.leaf(index) {
            ids.push(entry_id(app, &leaf));
        }
    }
    drop(state);
    response::json(StatusCode::OK, &ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_keys() {
        let h = "AB".repeat(32);
        assert_eq!(hash_key(&h).unwrap(), format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(
            hash_key(&format!("sha256:{h}")).unwrap(),
            format!("sha256:{}", "ab".repeat(32))
        );
        assert!(hash_key("sha256:abc").is_err());
        assert!(hash_key("md5:abcd").is_err());
        assert!(hash_key(&"zz".repeat(32)).is_err());
        assert_eq!(
            hash_key(&"a".repeat(40)).unwrap(),
            format!("sha1:{}", "a".repeat(40))
        );
    }
}
