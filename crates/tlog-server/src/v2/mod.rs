//! The Rekor v2 (rekor-tiles) log, a second log beside the v1 one with its own key, origin
//! and storage: `POST /api/v2/log/entries` and the C2SP tlog-tiles read API.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v2/log/entries` | [`create`]: `hashedRekordRequestV002` |
//! | GET | `/checkpoint`, `/api/v2/checkpoint` | the newest checkpoint (C2SP signed note) |
//! | GET | `/tile/<L>/<N>[.p/<W>]`, `/api/v2/tile/...` | hash tiles |
//! | GET | `/tile/entries/<N>[.p/<W>]`, `/api/v2/tile/entries/...` | entry bundles |
//!
//! The read API is a directory of immutable files (`DATA/v2/tiles`, see [`store`]) that any
//! static file server can serve at the log's base URL. The checkpoint origin is the host name
//! of that base URL (what sigstore-go and cosign derive from the trusted root's `baseUrl`),
//! the log ID the C2SP key ID of the key for that origin ([`cosign_tlog::note::key_id`]).

pub mod log;
pub mod request;
pub mod store;
pub mod tiles;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey, PublicKey};
use hyper::StatusCode;
use serde_json::json;

use crate::api::response::{self, Resp};
pub use log::Submitter;

/// The v2 log's directory in the data directory.
pub const DIR: &str = "v2";
pub(crate) const KEY_FILE: &str = "signing-key.pem";

/// The v2 directory of a data directory.
pub fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR)
}

/// The v2 log's checkpoint key: `DATA/v2/signing-key.pem`, an Ed25519 key made on first use
/// (an ECDSA PKCS#8 key put there before the first start is used as is).
pub fn signing_key(data_dir: &Path) -> Result<PrivateKey> {
    let dir = dir_of(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(KEY_FILE);
    if let Ok(pem) = std::fs::read(&path) {
        return PrivateKey::from_pem(&pem)
            .with_context(|| format!("reading the v2 log key {}", path.display()));
    }
    let key = PrivateKey::generate(KeyType::Ed25519)?;
    let der = key.to_pkcs8_der()?;
    let pem = crate::datadir::pem_encode("PRIVATE KEY", &der);
    let tmp = dir.join(format!(".{KEY_FILE}.tmp-{}", std::process::id()));
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(pem.as_bytes())?;
        f.sync_all()?;
    }
    // Another process may have made one meanwhile: the first one wins.
    if std::fs::hard_link(&tmp, &path).is_err() && !path.exists() {
        std::fs::rename(&tmp, &path)?;
    }
    let _ = std::fs::remove_file(&tmp);
    std::fs::File::open(&dir)?.sync_all()?;
    let pem = std::fs::read(&path)?;
    Ok(PrivateKey::from_pem(&pem)?)
}

/// The log ID of the v2 log (the C2SP key ID of `key` for `origin`).
pub fn log_id(origin: &str, key: &PublicKey) -> [u8; 32] {
    cosign_tlog::note::key_id(origin, key)
}

/// The running v2 log, as handlers see it.
#[derive(Debug)]
pub struct Service {
    submitter: Submitter,
    checkpoint: Arc<RwLock<Arc<String>>>,
    tiles: PathBuf,
    log_id_b64: String,
}

/// What [`start`] reports.
#[derive(Debug)]
pub struct Started {
    /// The service for the handlers.
    pub service: Arc<Service>,
    /// The writer thread (returns its group-commit count when every handle is gone).
    pub writer: std::thread::JoinHandle<u64>,
    /// Entries recovered.
    pub entries: u64,
    /// What opening the log found and did.
    pub recovered: log::Recovered,
    /// The log ID, hex.
    pub log_id_hex: String,
}

/// Opens (creating) the v2 log of `data_dir` signing as `origin` and starts its writer. The
/// caller holds the data directory's lock. `head_required`: the directory has kept a stored
/// v2 tree head before (`log.json`'s `v2TreeHead`), so a missing one is refused.
pub fn start(data_dir: &Path, origin: &str, head_required: bool) -> Result<Started> {
    let key = signing_key(data_dir)?;
    let id = log_id(origin, &key.public_key());
    let dir = dir_of(data_dir);
    let tiles = store::TileDir::new(dir.join("tiles"))?;
    let tiles_path = tiles.root().to_path_buf();
    let (log, recovered) =
        log::Log::open(&dir, tiles, key, origin, head_required).context("opening the v2 log")?;
    let entries = log.size();
    let checkpoint = log.published();
    let (submitter, writer) = log::spawn(log)?;
    Ok(Started {
        service: Arc::new(Service {
            submitter,
            checkpoint,
            tiles: tiles_path,
            log_id_b64: STANDARD.encode(id),
        }),
        writer,
        entries,
        recovered,
        log_id_hex: hex::encode(id),
    })
}

/// gRPC status codes rekor-tiles answers with (through grpc-gateway).
const INVALID_ARGUMENT: u16 = 3;
const ALREADY_EXISTS: u16 = 6;
const UNKNOWN: u16 = 2;

/// An error as rekor-tiles' grpc-gateway writes it: the `google.rpc.Status` as protojson,
/// `{"code": <gRPC code>, "message": "...", "details": []}`.
pub fn error(status: StatusCode, code: u16, message: &str) -> Resp {
    response::json(
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

/// `POST /api/v2/log/entries`: 201 with the TransparencyLogEntry (protojson, unpopulated
/// fields emitted as rekor-tiles does) once durable; 409 with the existing entry's index in
/// `x-log-index` for an entry already in the log; 400 for an invalid request.
pub async fn create(service: &Service, body: &[u8]) -> Resp {
    let canonical = match request::canonicalize(body) {
        Ok(c) => c,
        Err(message) => return error(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, &message),
    };
    let body_b64 = STANDARD.encode(&canonical.body);
    match service.submitter.submit(canonical.body).await {
        Ok(a) if a.duplicate => {
            let resp = error(
                StatusCode::CONFLICT,
                ALREADY_EXISTS,
                &format!(
                    "an equivalent entry already exists in the transparency log with index {}",
                    a.index
                ),
            );
            response::with_header(
                resp,
                hyper::header::HeaderName::from_static("x-log-index"),
                &a.index.to_string(),
            )
        }
        Ok(a) => {
            let entry = json!({
                "logIndex": a.index.to_string(),
                "logId": {"keyId": service.log_id_b64},
                "kindVersion": {"kind": canonical.kind, "version": "0.0.2"},
                "integratedTime": "0",
                "inclusionPromise": null,
                "inclusionProof": {
                    "logIndex": a.index.to_string(),
                    "rootHash": STANDARD.encode(a.root),
                    "treeSize": a.tree_size.to_string(),
                    "hashes": a.hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
                    "checkpoint": {"envelope": a.checkpoint.as_str()},
                },
                "canonicalizedBody": body_b64,
            });
            response::json(StatusCode::CREATED, &entry)
        }
        Err(message) => error(StatusCode::INTERNAL_SERVER_ERROR, UNKNOWN, &message),
    }
}

/// `GET /checkpoint`: the newest checkpoint.
pub fn checkpoint(service: &Service) -> Resp {
    let note = match service.checkpoint.read() {
        Ok(c) => Arc::clone(&c),
        Err(_) => return response::internal("checkpoint lock poisoned"),
    };
    let resp = response::bytes(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        note.as_bytes().to_vec(),
    );
    response::with_header(resp, hyper::header::CACHE_CONTROL, "no-cache")
}

/// `GET /tile/...`: a tile or entry bundle file (`rel` without the leading `/`).
pub fn tile(service: &Service, rel: &str) -> Resp {
    if !tiles::is_tile_path(rel) {
        return response::not_found();
    }
    match std::fs::read(service.tiles.join(rel)) {
        Ok(data) => {
            let resp = response::bytes(StatusCode::OK, "application/octet-stream", data);
            response::with_header(
                resp,
                hyper::header::CACHE_CONTROL,
                "public, max-age=31536000, immutable",
            )
        }
        Err(_) => response::not_found(),
    }
}

/// Whether `path` is one of the v2 read paths (for method-not-allowed answers).
pub fn is_read_path(path: &str) -> bool {
    matches!(path, "/checkpoint" | "/api/v2/checkpoint")
        || path.starts_with("/tile/")
        || path.starts_with("/api/v2/tile/")
}

/// [`start`], reporting what it found on stderr, then recording in `log.json` that the
/// directory keeps a stored v2 tree head; returns the service and the writer thread.
pub fn start_logged(
    dir: &crate::datadir::DataDir,
    lock: &crate::datadir::DirLock,
    origin: &str,
) -> Result<(Arc<Service>, std::thread::JoinHandle<u64>)> {
    let head_required = dir.existing_identity()?.is_some_and(|id| id.v2_tree_head);
    let started = start(dir.path(), origin, head_required)?;
    if !head_required {
        dir.mark_v2_tree_head(lock)?;
    }
    let r = &started.recovered;
    if r.truncated > 0 {
        crate::out::error(&format!(
            "tlog-server: cut a torn tail of {} bytes off the v2 entry log (never acknowledged)",
            r.truncated
        ));
    }
    if r.migrated && started.entries > 0 {
        crate::out::error(&format!(
            "tlog-server: the v2 log had no stored tree head (an older tlog-server): stored \
             one for its {} entries",
            started.entries
        ));
    }
    if r.uncovered > 0 {
        crate::out::error(&format!(
            "tlog-server: the v2 tree head now covers {} more entries (durable, never \
             acknowledged)",
            r.uncovered
        ));
    }
    crate::out::error(&format!(
        "tlog-server: v2 log {origin} (log ID {}) with {} entries",
        started.log_id_hex, started.entries
    ));
    Ok((started.service, started.writer))
}
