//! A minimal HTTP/1.1 server on the shared runtime (hyper), used by the token server and the
//! counting proxy. The listener is bound by the caller (on `127.0.0.1:0`), so there is no port
//! race; dropping the [`ServerHandle`] stops accepting and aborts every open connection.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

use crate::rt;

/// The body type the in-process servers answer with.
pub(crate) type Body = BoxBody<Bytes, hyper::Error>;

/// A response with a fixed body.
pub(crate) fn full(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(
            Full::new(body.into())
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("build response")
}

/// Stops the server when dropped.
pub(crate) struct ServerHandle {
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// Stops `task` when dropped.
    pub(crate) fn from_task(task: tokio::task::JoinHandle<()>) -> ServerHandle {
        ServerHandle { task }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `127.0.0.1:0`; returns the listener and its port.
pub(crate) fn bind_loopback() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local_addr").port();
    (listener, port)
}

/// Serves `handler` on `listener` until the returned handle is dropped.
pub(crate) fn spawn<H, Fut>(listener: std::net::TcpListener, handler: H) -> ServerHandle
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    spawn_with_accept_delay(listener, Duration::ZERO, Arc::default(), handler)
}

/// [`spawn`], with each new connection served only after `accept_delay` (a TCP handshake's
/// round trip, for emulated latency), the time each was accepted recorded in `accepted`.
pub(crate) fn spawn_with_accept_delay<H, Fut>(
    listener: std::net::TcpListener,
    accept_delay: Duration,
    accepted: Arc<Mutex<Vec<Instant>>>,
    handler: H,
) -> ServerHandle
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    listener.set_nonblocking(true).expect("set_nonblocking");
    let handle = rt::handle();
    let listener = {
        let _guard = handle.enter();
        tokio::net::TcpListener::from_std(listener).expect("register listener")
    };
    let task = handle.spawn(async move {
        // Dropping the set (when this task is aborted) aborts the connections too.
        let mut connections = JoinSet::new();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            accepted
                .lock()
                .expect("accept log lock")
                .push(Instant::now());
            // Responses go out as soon as they are written (no Nagle + delayed-ACK stalls).
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            connections.spawn(async move {
                if !accept_delay.is_zero() {
                    tokio::time::sleep(accept_delay).await;
                }
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                // A client that goes away mid-request is not our failure.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    ServerHandle { task }
}
