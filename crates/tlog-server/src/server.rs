//! The HTTP/1.1 server: accept loop, per-connection tasks and limits against slow and hostile
//! clients, graceful stop.
//!
//! - Headers must arrive within the header timeout, which also closes idle keep-alive
//!   connections (hyper starts it whenever the connection waits for a request).
//! - A request body must arrive whole within the body timeout (408) and be at most
//!   [`api::MAX_REQUEST_BODY`] bytes (413); both close the connection.
//! - At most `max_connections` connections are open. At the cap, a new connection does not
//!   wait behind the open ones: the connection that has been waiting longest on its client
//!   (idle, sending headers or dribbling a body; never one whose request is being handled) is
//!   closed to make room, so a flood of slow clients cannot starve fresh ones.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use crate::api::response::{self, Resp};
use crate::api::{self, App};

/// Connection limits and timeouts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most open connections.
    pub max_connections: usize,
    /// Time allowed to send a request's headers; also the keep-alive idle timeout.
    pub header_timeout: Duration,
    /// Time allowed to send a request's body.
    pub body_timeout: Duration,
    /// Largest request body.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body: api::MAX_REQUEST_BODY,
        }
    }
}

/// One open connection as the evictor sees it.
struct ConnInfo {
    /// When its current phase (waiting on the client, or being handled) began.
    since: Instant,
    /// Whether a request of it is being handled.
    busy: bool,
    /// Closes it.
    evict: Arc<Notify>,
}

/// The open connections.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, ConnInfo>>,
    next: AtomicU64,
}

impl Registry {
    fn add(&self) -> (u64, Arc<Notify>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let evict = Arc::new(Notify::new());
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(
                id,
                ConnInfo {
                    since: Instant::now(),
                    busy: false,
                    evict: Arc::clone(&evict),
                },
            );
        }
        (id, evict)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&id);
        }
    }

    fn set_busy(&self, id: u64, busy: bool) {
        if let Ok(mut conns) = self.conns.lock()
            && let Some(c) = conns.get_mut(&id)
        {
            c.busy = busy;
            c.since = Instant::now();
        }
    }

    /// Closes the connection that has waited longest on its client; false if every
    /// connection is busy.
    fn evict_oldest_waiting(&self) -> bool {
        let Ok(mut conns) = self.conns.lock() else {
            return false;
        };
        let oldest = conns
            .iter()
            .filter(|(_, c)| !c.busy)
            .min_by_key(|(_, c)| c.since)
            .map(|(id, _)| *id);
        match oldest.and_then(|id| conns.remove(&id)) {
            Some(c) => {
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Queue length for connections not yet accepted (the kernel caps it at `somaxconn`). The
/// standard library's 128 overflows under a burst of connections, and a dropped handshake
/// costs a client a one-second SYN retransmission.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds a listener with a [`LISTEN_BACKLOG`] queue (needs a runtime).
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and gives open
/// connections a few seconds to finish.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let registry = Arc::new(Registry::default());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors and the like: make room, back off briefly.
                    registry.evict_oldest_waiting();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // At the cap: close the connection waiting longest on its client, or wait a
                // little for a busy one to finish; else turn this one away.
                registry.evict_oldest_waiting();
                let wait = Arc::clone(&permits).acquire_owned();
                match tokio::time::timeout(Duration::from_secs(1), wait).await {
                    Ok(Ok(p)) => p,
                    _ => continue,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = Arc::clone(&app);
        let registry = Arc::clone(&registry);
        connections.spawn(async move {
            let (id, evict) = registry.add();
            let reg = Arc::clone(&registry);
            let service = service_fn(move |req| {
                let app = Arc::clone(&app);
                let reg = Arc::clone(&reg);
                async move { Ok::<_, Infallible>(handle(app, req, limits, &reg, id).await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = evict.notified() => {}
            }
            registry.remove(id);
            drop(permit);
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        connections.abort_all();
    }
}

/// Reads the body (bounded in size and time), then hands the request to the API.
async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    limits: Limits,
    registry: &Registry,
    id: u64,
) -> Resp {
    let (parts, body) = req.into_parts();
    let too_large = || {
        closing(response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {} bytes", limits.max_body),
        ))
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return too_large();
    }
    let read = Limited::new(body, limits.max_body).collect();
    let bytes: Bytes = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(e)) => {
            return closing(response::bad_request(&format!(
                "reading the request body: {e}"
            )));
        }
        Err(_) => {
            return closing(response::error(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            ));
        }
    };
    registry.set_busy(id, true);
    let resp = api::handle(app, Request::from_parts(parts, Full::new(bytes))).await;
    registry.set_busy(id, false);
    resp
}

/// Asks hyper to close the connection after this response.
fn closing(mut resp: Resp) -> Resp {
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}
