//! A lying service: a reverse proxy in front of a real one (Fulcio, a timestamp authority, a
//! log) that may rewrite each request before forwarding it and each answer before returning
//! it. Hostile-service tests use it to make a real service answer for other bytes, replay an
//! earlier answer or damage a proof, so the client's checks meet real data with one lie in it.

use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use hyper::{Request, StatusCode};

use crate::server::{self, ServerHandle};

/// One request and the upstream's answer, as they passed the proxy (before any rewriting of
/// the answer; after rewriting of the request).
#[derive(Clone, Debug)]
pub struct Exchange {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The request body sent upstream.
    pub request: Vec<u8>,
    /// The upstream's status code.
    pub status: u16,
    /// The upstream's body.
    pub response: Vec<u8>,
}

/// Rewrites a request body (given method, path and body) before it goes upstream.
pub type RequestRewrite = dyn Fn(&str, &str, Vec<u8>) -> Vec<u8> + Send + Sync;
/// Returns the body to answer with instead of the upstream's, or `None` to pass it through.
pub type ResponseRewrite = dyn Fn(&Exchange) -> Option<Vec<u8>> + Send + Sync;

/// A running lying proxy; stops with its drop.
pub struct Tamper {
    port: u16,
    log: Arc<Mutex<Vec<Exchange>>>,
    _server: ServerHandle,
}

impl Tamper {
    /// A proxy in front of `upstream` (`http://127.0.0.1:PORT`, any path ignored) that passes
    /// requests through `request` and answers through `response`.
    pub fn start(
        upstream: &str,
        request: impl Fn(&str, &str, Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
        response: impl Fn(&Exchange) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Tamper {
        let base = upstream
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse::<u16>().ok())
            .map(|port| format!("http://127.0.0.1:{port}"))
            .unwrap_or_else(|| panic!("Tamper::start: not http://127.0.0.1:PORT: {upstream}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (listener, port) = server::bind_loopback();
        let request: Arc<RequestRewrite> = Arc::new(request);
        let response: Arc<ResponseRewrite> = Arc::new(response);
        let client = reqwest::Client::new();
        let shared = Arc::clone(&log);
        let server = server::spawn(listener, move |req: Request<Incoming>| {
            let (client, base, log) = (client.clone(), base.clone(), Arc::clone(&shared));
            let (request, response) = (Arc::clone(&request), Arc::clone(&response));
            async move {
                match exchange(&client, &base, req, &*request).await {
                    Ok((ex, content_type)) => {
                        let body = response(&ex).unwrap_or_else(|| ex.response.clone());
                        let status = StatusCode::from_u16(ex.status).unwrap_or(StatusCode::OK);
                        log.lock().expect("tamper log lock").push(ex);
                        server::full(status, &content_type, body)
                    }
                    Err(err) => server::full(
                        StatusCode::BAD_GATEWAY,
                        "text/plain",
                        format!("test-support tamper proxy: {err}"),
                    ),
                }
            }
        });
        Tamper {
            port,
            log,
            _server: server,
        }
    }

    /// A proxy that only rewrites answers.
    pub fn responses(
        upstream: &str,
        response: impl Fn(&Exchange) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Tamper {
        Self::start(upstream, |_, _, body| body, response)
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The exchanges so far, in the order they were answered.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().expect("tamper log lock").clone()
    }
}

async fn exchange(
    client: &reqwest::Client,
    base: &str,
    req: Request<Incoming>,
    rewrite: &RequestRewrite,
) -> Result<(Exchange, String), String> {
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the request: {e}"))?
        .to_bytes()
        .to_vec();
    let body = rewrite(&method, &path, body);
    let mut upstream = client.request(parts.method.clone(), format!("{base}{path}"));
    for (name, value) in &parts.headers {
        if name != HOST && name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            upstream = upstream.header(name, value);
        }
    }
    let resp = upstream
        .body(body.clone())
        .send()
        .await
        .map_err(|e| format!("upstream: {e}"))?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let response = resp
        .bytes()
        .await
        .map_err(|e| format!("upstream body: {e}"))?
        .to_vec();
    let ex = Exchange {
        method,
        path,
        request: body,
        status,
        response,
    };
    Ok((ex, content_type))
}
