//! The Rekor v1 REST API: routing, request bodies and the shared application state.
//!
//! | method | path | handler |
//! |---|---|---|
//! | POST | `/api/v1/log/entries` | [`entries::create`] |
//! | GET | `/api/v1/log/entries?logIndex=N` | [`entries::by_index`] |
//! | GET | `/api/v1/log/entries/{uuid}` | [`entries::by_uuid`] |
//! | POST | `/api/v1/log/entries/retrieve` | [`entries::retrieve`] |
//! | POST | `/api/v1/index/retrieve` | [`index::search`] |
//! | GET | `/api/v1/log` | [`log::info`] |
//! | GET | `/api/v1/log/publicKey` | [`log::public_key`] |
//! | GET | `/api/v1/log/proof?firstSize=&lastSize=` | [`log::proof`] |
//! | GET | `/api/v1/version` | [`log::version`] |
//! | POST | `/api/v2/log/entries` | [`crate::v2::create`] (the Rekor v2 log) |
//! | GET | `/checkpoint`, `/tile/...` (also under `/api/v2/`) | [`crate::v2`] tiles |

pub mod entries;
pub mod index;
pub mod log;
pub mod model;
pub mod render;
pub mod response;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};

use crate::signer::LogSigner;
use crate::state::LogState;
use crate::wal::LogReader;
use crate::writer::WriterHandle;
use response::Resp;

/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 1 << 20;
/// Most queries in one `entries/retrieve` request (Rekor's limit).
pub const MAX_SEARCH_QUERIES: usize = 10;

/// What every handler shares.
#[derive(Debug)]
pub struct App {
    /// The durable log's in-memory state.
    pub state: Arc<RwLock<LogState>>,
    /// Signs SETs and checkpoints.
    pub signer: Arc<LogSigner>,
    /// Reads stored bodies.
    pub reader: LogReader,
    /// Stores new entries.
    pub writer: WriterHandle,
    /// The Rekor v2 log.
    pub v2: Arc<crate::v2::Service>,
}

impl App {
    /// A read guard on the state; `Err` is a ready 500 response.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, LogState>, Box<Resp>> {
        self.state
            .read()
            .map_err(|_| Box::new(response::internal("state lock poisoned")))
    }
}

/// Answers one request.
pub async fn handle<B>(app: Arc<App>, req: Request<B>) -> Resp
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let path = path.trim_end_matches('/');
    match (method, path) {
        (Method::POST, "/api/v1/log/entries") => match read_body(req).await {
            Ok(body) => entries::create(&app, &body).await,
            Err(resp) => *resp,
        },
        (Method::GET, "/api/v1/log/entries") => entries::by_index(&app, &query),
        (Method::POST, "/api/v1/log/entries/retrieve") => match read_body(req).await {
            Ok(body) => entries::retrieve(&app, &body),
            Err(resp) => *resp,
        },
        (Method::GET, p) if p.starts_with("/api/v1/log/entries/") => {
            entries::by_uuid(&app, &p["/api/v1/log/entries/".len()..])
        }
        (Method::POST, "/api/v1/index/retrieve") => match read_body(req).await {
            Ok(body) => index::search(&app, &body),
            Err(resp) => *resp,
        },
        (Method::GET, "/api/v1/log") => log::info(&app, &query),
        (Method::GET, "/api/v1/log/publicKey") => log::public_key(&app, &query),
        (Method::GET, "/api/v1/log/proof") => log::proof(&app, &query),
        (Method::GET, "/api/v1/version") => log::version(),
        (Method::POST, "/api/v2/log/entries") => match read_body(req).await {
            Ok(body) => crate::v2::create(&app.v2, &body).await,
            Err(resp) => *resp,
        },
        (Method::GET, "/checkpoint" | "/api/v2/checkpoint") => crate::v2::checkpoint(&app.v2),
        (Method::GET, p) if p.starts_with("/tile/") => crate::v2::tile(&app.v2, &p[1..]),
        (Method::GET, p) if p.starts_with("/api/v2/tile/") => {
            crate::v2::tile(&app.v2, &p["/api/v2/".len()..])
        }
        (_, p) if is_known(p) => {
            response::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => response::error(StatusCode::NOT_FOUND, "path not found"),
    }
}

fn is_known(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/log/entries"
            | "/api/v1/log/entries/retrieve"
            | "/api/v1/index/retrieve"
            | "/api/v1/log"
            | "/api/v1/log/publicKey"
            | "/api/v1/log/proof"
            | "/api/v1/version"
            | "/api/v2/log/entries"
    ) || path.starts_with("/api/v1/log/entries/")
        || crate::v2::is_read_path(path)
}

/// Reads a request body of at most [`MAX_REQUEST_BODY`] bytes.
async fn read_body<B>(req: Request<B>) -> Result<Bytes, Box<Resp>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        Box::new(response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {MAX_REQUEST_BODY} bytes"),
        ))
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(Box::new(response::bad_request(&format!(
            "reading the request body: {e}"
        )))),
    }
}

/// The value of `name` in a query string (no percent-decoding: every parameter here is a
/// number).
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params() {
        assert_eq!(query_param("a=1&logIndex=7", "logIndex"), Some("7"));
        assert_eq!(query_param("logIndex", "logIndex"), Some(""));
        assert_eq!(query_param("", "logIndex"), None);
    }
}
