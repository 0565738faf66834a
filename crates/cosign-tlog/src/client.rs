//! The Rekor v1 REST client.
//!
//! Every answer is read with a size cap before it is parsed (a log is an untrusted server), and
//! every answer is checked against the question (the entry asked for is the entry returned).
//! Nothing here trusts an answer cryptographically: callers verify entries with
//! [`crate::verify_entry`].

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;
use cosign_types::Digest;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use crate::TlogError;
use crate::log_entry::{LogEntry, is_entry_id};
use crate::merkle::Hash;

/// Largest entry answer read (create, get, retrieve, search).
pub const MAX_ENTRY_RESPONSE: usize = 16 << 20;
/// Largest log info or proof answer read.
pub const MAX_INFO_RESPONSE: usize = 1 << 20;
/// Largest public key answer read.
pub const MAX_KEY_RESPONSE: usize = 64 << 10;
/// Largest error body read for its message.
const MAX_ERROR_BODY: usize = 64 << 10;
/// Most proposed entries Rekor accepts in one retrieve request.
pub const MAX_RETRIEVE: usize = 10;
/// Most inactive shards read from one log info answer.
const MAX_SHARDS: usize = 1000;
/// Most hashes read from one consistency proof.
const MAX_PROOF_HASHES: usize = 130;

/// A Rekor v1 client (cheap to clone: one connection pool).
#[derive(Clone, Debug)]
pub struct RekorClient {
    http: reqwest::Client,
    base: Url,
}

/// An index search (`POST /api/v1/index/retrieve`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// An artifact hash.
    pub hash: Option<Digest>,
    /// A public key: format (`x509`, `pgp`, `minisign`, `ssh`, `tuf`) and content (PEM for x509).
    pub public_key: Option<(String, Vec<u8>)>,
    /// `and` or `or` (the server's default when unset).
    pub operator: Option<String>,
}

/// The log's state (`GET /api/v1/log`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInfo {
    /// Root hash of the active tree.
    pub root_hash: Hash,
    /// Size of the active tree.
    pub tree_size: u64,
    /// The signed checkpoint of the active tree.
    pub signed_tree_head: String,
    /// The active tree's ID (decimal).
    pub tree_id: String,
    /// Earlier (frozen) shards.
    pub inactive_shards: Vec<InactiveShard>,
}

/// A frozen shard of a sharded log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InactiveShard {
    /// Root hash of the shard.
    pub root_hash: Hash,
    /// Size of the shard.
    pub tree_size: u64,
    /// The shard's signed checkpoint.
    pub signed_tree_head: String,
    /// The shard's tree ID.
    pub tree_id: String,
}

/// A consistency proof (`GET /api/v1/log/proof`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Root hash of the tree of the last size.
    pub root_hash: Hash,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
}

fn hex32(text: &str) -> Option<Hash> {
    hex::decode(text).ok()?.try_into().ok()
}

impl RekorClient {
    /// A client for the log at `base_url` (http or https, any path prefix).
    pub fn new(base_url: &str, timeout: Duration, user_agent: &str) -> Result<Self, TlogError> {
        let invalid = |reason: &str| TlogError::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("no query or fragment allowed"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .user_agent(user_agent)
            .build()
            .map_err(|e| invalid(&format!("building the HTTP client: {e}")))?;
        Ok(Self { http, base })
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Opens a connection to the service ahead of the first real request: a `HEAD` whose
    /// answer (and failure) is ignored, so the request that follows finds the connection in the
    /// pool and pays no handshake on the signing's critical path.
    pub async fn warm(&self) {
        let _ = self.http.head(self.base.clone()).send().await;
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// Sends a request and reads the answer (any status) up to `limit` bytes.
    pub(crate) async fn call(
        &self,
        what: &str,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
        accept: &str,
        limit: usize,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), TlogError> {
        let mut req = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, accept);
        if let Some(body) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(body);
        }
        let http_err = |source| TlogError::Http {
            what: what.to_owned(),
            url: url.to_string(),
            source,
        };
        let mut resp = req.send().await.map_err(http_err)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let limit = if status.is_success() || status == StatusCode::CONFLICT {
            limit
        } else {
            MAX_ERROR_BODY
        };
        let too_large = || TlogError::TooLarge {
            what: what.to_owned(),
            url: url.to_string(),
            limit,
        };
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if status.is_success() && declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut data = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
            if data.len() + chunk.len() > limit {
                if status.is_success() {
                    return Err(too_large());
                }
                let room = limit - data.len();
                data.extend_from_slice(&chunk[..room]);
                break;
            }
            data.extend_from_slice(&chunk);
        }
        Ok((status, headers, data))
    }

    /// The error for a non-success answer.
    pub(crate) fn status_error(
        what: &str,
        url: &Url,
        status: StatusCode,
        body: &[u8],
    ) -> TlogError {
        if status == StatusCode::NOT_FOUND {
            return TlogError::NotFound {
                what: what.to_owned(),
                url: url.to_string(),
            };
        }
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_owned()
                } else {
                    text.chars().take(512).collect()
                }
            });
        TlogError::Status {
            what: what.to_owned(),
            url: url.to_string(),
            status: status.as_u16(),
            message,
        }
    }

    pub(crate) fn bad_response(what: &str, url: &Url, reason: impl std::fmt::Display) -> TlogError {
        TlogError::BadResponse {
            what: what.to_owned(),
            url: url.to_string(),
            reason: reason.to_string(),
        }
    }

    async fn json_call(
        &self,
        what: &str,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        limit: usize,
    ) -> Result<Vec<u8>, TlogError> {
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let (status, _, data) = self
            .call(what, method, url, body, "application/json", limit)
            .await?;
        if !status.is_success() {
            return Err(Self::status_error(what, url, status, &data));
        }
        Ok(data)
    }

    fn one_entry(what: &str, url: &Url, data: &[u8]) -> Result<LogEntry, TlogError> {
        let mut entries =
            LogEntry::from_response(data).map_err(|e| Self::bad_response(what, url, e))?;
        if entries.len() != 1 {
            return Err(Self::bad_response(
                what,
                url,
                format!("expected one entry, got {}", entries.len()),
            ));
        }
        entries
            .pop()
            .ok_or_else(|| Self::bad_response(what, url, "no entry"))
    }

    /// `POST /api/v1/log/entries`: records a proposed entry. An existing equivalent entry gives
    /// [`TlogError::AlreadyExists`] with its UUID.
    pub async fn create_entry(&self, proposed: &Value) -> Result<LogEntry, TlogError> {
        const WHAT: &str = "uploading the entry to the transparency log";
        let url = self.url("/api/v1/log/entries", &[]);
        let body = serde_json::to_vec(proposed).unwrap_or_default();
        let (status, headers, data) = self
            .call(
                WHAT,
                Method::POST,
                &url,
                Some(body),
                "application/json",
                MAX_ENTRY_RESPONSE,
            )
            .await?;
        if status == StatusCode::CONFLICT {
            return Err(match conflict_uuid(&headers, &data) {
                Some(uuid) => TlogError::AlreadyExists { uuid },
                None => {
                    Self::bad_response(WHAT, &url, "409 Conflict without the existing entry's UUID")
                }
            });
        }
        if !status.is_success() {
            return Err(Self::status_error(WHAT, &url, status, &data));
        }
        Self::one_entry(WHAT, &url, &data)
    }

    /// `GET /api/v1/log/entries/{uuid}` (64-hex UUID or 80-hex entry ID); the answer must be
    /// that entry.
    pub async fn get_entry(&self, uuid: &str) -> Result<LogEntry, TlogError> {
        if !is_entry_id(uuid) {
            return Err(TlogError::InvalidArgument(format!(
                "entry UUID {uuid:?} is not 64 or 80 hexadecimal characters"
            )));
        }
        let what = format!("fetching transparency log entry {uuid}");
        let url = self.url(&format!("/api/v1/log/entries/{uuid}"), &[]);
        let data = self
            .json_call(&what, Method::GET, &url, None, MAX_ENTRY_RESPONSE)
            .await?;
        let entry = Self::one_entry(&what, &url, &data)?;
        if !same_entry(uuid, &entry.uuid) {
            return Err(Self::bad_response(
                &what,
                &url,
                format!("the server returned entry {} instead", entry.uuid),
            ));
        }
        Ok(entry)
    }

    /// `GET /api/v1/log/entries?logIndex=N`; the answer must be the entry at that index.
    pub async fn get_entry_by_index(&self, index: i64) -> Result<LogEntry, TlogError> {
        if index < 0 {
            return Err(TlogError::InvalidArgument(format!(
                "log index {index} is negative"
            )));
        }
        let what = format!("fetching transparency log entry at index {index}");
        let url = self.url("/api/v1/log/entries", &[("logIndex", index.to_string())]);
        let data = self
            .json_call(&what, Method::GET, &url, None, MAX_ENTRY_RESPONSE)
            .await?;
        let entry = Self::one_entry(&what, &url, &data)?;
        if entry.log_index != index {
            return Err(Self::bad_response(
                &what,
                &url,
                format!("the server returned the entry at index {}", entry.log_index),
            ));
        }
        Ok(entry)
    }

    /// `POST /api/v1/log/entries/retrieve` with `{"entries": [...]}` (at most 10): the logged
    /// entries equivalent to the proposed ones.
    pub async fn retrieve_entries(&self, proposed: &[Value]) -> Result<Vec<LogEntry>, TlogError> {
        if proposed.len() > MAX_RETRIEVE {
            return Err(TlogError::InvalidArgument(format!(
                "at most {MAX_RETRIEVE} entries can be retrieved at once, got {}",
                proposed.len()
            )));
        }
        const WHAT: &str = "searching the transparency log for entries";
        let url = self.url("/api/v1/log/entries/retrieve", &[]);
        let body = json!({ "entries": proposed });
        let data = self
            .json_call(WHAT, Method::POST, &url, Some(&body), MAX_ENTRY_RESPONSE)
            .await?;
        LogEntry::from_response(&data).map_err(|e| Self::bad_response(WHAT, &url, e))
    }

    /// `POST /api/v1/log/entries/retrieve` with `{"entryUUIDs": [...]}` or `{"logIndexes":
    /// [...]}`: used by `rekor-cli verify`. At most 10 of each.
    pub async fn retrieve_by(
        &self,
        uuids: &[String],
        indexes: &[i64],
    ) -> Result<Vec<LogEntry>, TlogError> {
        if uuids.len() > MAX_RETRIEVE || indexes.len() > MAX_RETRIEVE {
            return Err(TlogError::InvalidArgument(format!(
                "at most {MAX_RETRIEVE} entries can be retrieved at once"
            )));
        }
        const WHAT: &str = "retrieving transparency log entries";
        let url = self.url("/api/v1/log/entries/retrieve", &[]);
        let mut body = Map::new();
        if !uuids.is_empty() {
            body.insert("entryUUIDs".to_owned(), json!(uuids));
        }
        if !indexes.is_empty() {
            body.insert("logIndexes".to_owned(), json!(indexes));
        }
        let data = self
            .json_call(
                WHAT,
                Method::POST,
                &url,
                Some(&Value::Object(body)),
                MAX_ENTRY_RESPONSE,
            )
            .await?;
        LogEntry::from_response(&data).map_err(|e| Self::bad_response(WHAT, &url, e))
    }

    /// `POST /api/v1/index/retrieve`: the UUIDs of entries matching the query.
    pub async fn search_index(&self, query: &SearchQuery) -> Result<Vec<String>, TlogError> {
        const WHAT: &str = "searching the transparency log index";
        let url = self.url("/api/v1/index/retrieve", &[]);
        let mut body = Map::new();
        if let Some(hash) = &query.hash {
            body.insert("hash".to_owned(), Value::String(hash.to_string()));
        }
        if let Some((format, content)) = &query.public_key {
            body.insert(
                "publicKey".to_owned(),
                json!({"format": format, "content": STANDARD.encode(content)}),
            );
        }
        if let Some(op) = &query.operator {
            body.insert("operator".to_owned(), Value::String(op.clone()));
        }
        let data = self
            .json_call(
                WHAT,
                Method::POST,
                &url,
                Some(&Value::Object(body)),
                MAX_ENTRY_RESPONSE,
            )
            .await?;
        let value: Value =
            serde_json::from_slice(&data).map_err(|e| Self::bad_response(WHAT, &url, e))?;
        let items = value
            .as_array()
            .ok_or_else(|| Self::bad_response(WHAT, &url, "not a JSON array"))?;
        items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if is_entry_id(s) => Ok(s.to_owned()),
                _ => Err(Self::bad_response(
                    WHAT,
                    &url,
                    format!("{item} is not an entry UUID"),
                )),
            })
            .collect()
    }

    /// `GET /api/v1/log`: the log's current state (not verified here).
    pub async fn log_info(&self) -> Result<LogInfo, TlogError> {
        const WHAT: &str = "fetching the transparency log's state";
        let url = self.url("/api/v1/log", &[]);
        let data = self
            .json_call(WHAT, Method::GET, &url, None, MAX_INFO_RESPONSE)
            .await?;
        let value: Value =
            serde_json::from_slice(&data).map_err(|e| Self::bad_response(WHAT, &url, e))?;
        let bad = |reason: &str| Self::bad_response(WHAT, &url, reason);
        let shard = |v: &Value| -> Result<InactiveShard, TlogError> {
            Ok(InactiveShard {
                root_hash: v
                    .get("rootHash")
                    .and_then(Value::as_str)
                    .and_then(hex32)
                    .ok_or_else(|| bad("rootHash is not 32 bytes of hex"))?,
                tree_size: v
                    .get("treeSize")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad("treeSize is not a non-negative integer"))?,
                signed_tree_head: v
                    .get("signedTreeHead")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("signedTreeHead is missing"))?
                    .to_owned(),
                tree_id: match v.get("treeID") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                },
            })
        };
        let active = shard(&value)?;
        let inactive_shards = match value.get("inactiveShards") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_SHARDS => {
                items.iter().map(shard).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(bad("inactiveShards is not a (reasonable) array")),
        };
        Ok(LogInfo {
            root_hash: active.root_hash,
            tree_size: active.tree_size,
            signed_tree_head: active.signed_tree_head,
            tree_id: active.tree_id,
            inactive_shards,
        })
    }

    /// `GET /api/v1/log/publicKey[?treeID=]`: the log's key, as the log itself states it
    /// (trust it only as far as you trust the connection).
    pub async fn public_key(&self, tree_id: Option<&str>) -> Result<PublicKey, TlogError> {
        const WHAT: &str = "fetching the transparency log's public key";
        let query: Vec<(&str, String)> = tree_id
            .map(|t| vec![("treeID", t.to_owned())])
            .unwrap_or_default();
        let url = self.url("/api/v1/log/publicKey", &query);
        let (status, _, data) = self
            .call(
                WHAT,
                Method::GET,
                &url,
                None,
                "application/x-pem-file",
                MAX_KEY_RESPONSE,
            )
            .await?;
        if !status.is_success() {
            return Err(Self::status_error(WHAT, &url, status, &data));
        }
        PublicKey::from_pem(&data).map_err(|e| Self::bad_response(WHAT, &url, e))
    }

    /// `GET /api/v1/log/proof?firstSize=&lastSize=[&treeID=]` (not verified here).
    pub async fn consistency_proof(
        &self,
        first: u64,
        last: u64,
        tree_id: Option<&str>,
    ) -> Result<ConsistencyProof, TlogError> {
        let what = format!("fetching the consistency proof from {first} to {last}");
        let mut query = vec![
            ("firstSize", first.to_string()),
            ("lastSize", last.to_string()),
        ];
        if let Some(t) = tree_id {
            query.push(("treeID", t.to_owned()));
        }
        let url = self.url("/api/v1/log/proof", &query);
        let data = self
            .json_call(&what, Method::GET, &url, None, MAX_INFO_RESPONSE)
            .await?;
        let value: Value =
            serde_json::from_slice(&data).map_err(|e| Self::bad_response(&what, &url, e))?;
        let root_hash = value
            .get("rootHash")
            .and_then(Value::as_str)
            .and_then(hex32)
            .ok_or_else(|| Self::bad_response(&what, &url, "rootHash is not 32 bytes of hex"))?;
        let hashes = match value.get("hashes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_PROOF_HASHES => items
                .iter()
                .map(|h| {
                    h.as_str().and_then(hex32).ok_or_else(|| {
                        Self::bad_response(&what, &url, "a hash is not 32 bytes of hex")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(Self::bad_response(
                    &what,
                    &url,
                    "hashes is not a (reasonable) array",
                ));
            }
        };
        Ok(ConsistencyProof { root_hash, hashes })
    }
}

/// Whether the entry returned is the one asked for: same UUID, and same tree ID when both
/// name one.
fn same_entry(requested: &str, returned: &str) -> bool {
    if !is_entry_id(returned) {
        return false;
    }
    let tail = |s: &str| s[s.len() - 64..].to_ascii_lowercase();
    if tail(requested) != tail(returned) {
        return false;
    }
    if requested.len() == 80 && returned.len() == 80 {
        return requested[..16].eq_ignore_ascii_case(&returned[..16]);
    }
    true
}

/// The existing entry's UUID from a 409 answer: `Location`, `ETag`, or Rekor's message
/// ("... with UUID <uuid>").
fn conflict_uuid(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(loc) = headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
        let last = loc
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if is_entry_id(last) {
            return Some(last.to_owned());
        }
    }
    if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
        let etag = etag.trim_matches('"');
        if is_entry_id(etag) {
            return Some(etag.to_owned());
        }
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value.get("message")?.as_str()?;
    message
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| is_entry_id(w))
        .map(str::to_owned)
}
