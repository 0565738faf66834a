//! A counting reverse proxy: forwards every request to an upstream `http://127.0.0.1:PORT` and
//! records `(method, path?query, status)` before the response head goes back to the client, so
//! a request is in the log by the time its client has the answer. Bodies stream through
//! untouched; the client's `Host` header is kept, so absolute URLs the upstream builds point at
//! the proxy. Used in front of `ferro-oci-server`, which does not log requests, and (with a
//! round-trip time) to put an emulated network between a client and a registry.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderName};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::LoggedRequest;
use crate::server::{self, Body, ServerHandle};

/// A running proxy.
pub(crate) struct Proxy {
    pub port: u16,
    pub log: Arc<Mutex<Vec<LoggedRequest>>>,
    /// When each connection was accepted (each costs an emulated handshake).
    pub connections: Arc<Mutex<Vec<Instant>>>,
    /// Every request: `(method path, received, answered)`, in the order they were answered.
    pub timeline: Arc<Mutex<Vec<TimedRequest>>>,
    _server: ServerHandle,
}

impl Proxy {
    pub(crate) fn start(upstream_port: u16) -> Proxy {
        Self::start_with_rtt(upstream_port, Duration::ZERO)
    }

    /// A proxy that adds `rtt` to every request (half before forwarding it, half before
    /// answering) and to every new connection (its TCP handshake). Bandwidth is not limited.
    pub(crate) fn start_with_rtt(upstream_port: u16, rtt: Duration) -> Proxy {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).build(connector);
        let (listener, port) = server::bind_loopback();
        let shared_log = Arc::clone(&log);
        let connections = Arc::default();
        let timeline: Arc<Mutex<Vec<TimedRequest>>> = Arc::default();
        let shared_timeline = Arc::clone(&timeline);
        let server =
            server::spawn_with_accept_delay(listener, rtt, Arc::clone(&connections), move |req| {
                let client = client.clone();
                let log = Arc::clone(&shared_log);
                let timeline = Arc::clone(&shared_timeline);
                async move {
                    let received = Instant::now();
                    let what = format!("{} {}", req.method(), req.uri().path());
                    if !rtt.is_zero() {
                        tokio::time::sleep(rtt / 2).await;
                    }
                    let resp = forward(&client, upstream_port, &log, req).await;
                    if !rtt.is_zero() {
                        tokio::time::sleep(rtt / 2).await;
                    }
                    timeline
                        .lock()
                        .expect("proxy timeline lock")
                        .push(TimedRequest {
                            what,
                            status: resp.status().as_u16(),
                            received,
                            answered: Instant::now(),
                        });
                    resp
                }
            });
        Proxy {
            port,
            log,
            connections,
            timeline,
            _server: server,
        }
    }
}

/// A request through a proxy and when it happened.
#[derive(Clone, Debug)]
pub struct TimedRequest {
    /// `METHOD /path` (no query).
    pub what: String,
    pub status: u16,
    /// When the proxy had the request head (the emulated half round trip to the server
    /// follows).
    pub received: Instant,
    /// When the proxy sent the response head (after the half round trip back).
    pub answered: Instant,
}

const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(HeaderName::from_static(name));
    }
    headers.remove(CONNECTION);
}

async fn forward(
    client: &Client<HttpConnector, Incoming>,
    upstream_port: u16,
    log: &Mutex<Vec<LoggedRequest>>,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let record = |status: u16| {
        log.lock().expect("proxy log lock").push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            status,
        });
    };
    let uri: Uri = format!("http://127.0.0.1:{upstream_port}{path}")
        .parse()
        .expect("upstream URI");
    *req.uri_mut() = uri;
    strip_hop_by_hop(req.headers_mut());
    match client.request(req).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            record(parts.status.as_u16());
            Response::from_parts(parts, body.boxed())
        }
        Err(err) => {
            record(StatusCode::BAD_GATEWAY.as_u16());
            server::full(
                StatusCode::BAD_GATEWAY,
                "text/plain",
                format!("test-support proxy: upstream error: {err}"),
            )
        }
    }
}
