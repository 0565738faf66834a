//! The transport under the registry client: one HTTP exchange read in full (or handed over
//! for streaming), the scheme choice per registry, the retry policy and the error answers.
//!
//! Its parts: [`request`] (one request, a read answer, the errors and pages made from them)
//! and [`retry`] (the retry policy, backoff, TLS-refusal detection).
//!
//! Nothing here knows about authentication: the caller passes the `Authorization` value to
//! send, and the auth flow ([`crate::auth`]) sits on top of this module.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use tracing::debug;
use url::Url;

use crate::OciError;
use crate::reference::scheme;

mod request;
mod retry;

use request::MAX_ERROR_BODY;
pub(crate) use request::{
    AttemptError, DOCKER_CONTENT_DIGEST, Fetched, Req, Target, announced_digest, content_length,
    error_detail, same_origin, static_header,
};
use retry::is_tls_refusal;
pub(crate) use retry::{Retry, is_retryable_status};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence while reading an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTP side of a client: the connection pool, the scheme learnt per registry, the
/// attempt budget and the request counter.
pub(crate) struct Transport {
    http: reqwest::Client,
    allow_http: bool,
    max_attempts: u32,
    schemes: Mutex<HashMap<String, &'static str>>,
    requests: AtomicU64,
}

/// What a read answer is, for errors: `(action, target, what, cap)`.
pub(crate) type Ctx<'s> = (&'static str, &'s str, &'static str, u64);

impl Transport {
    /// The HTTP client: one connection pool with `tls`, the timeouts and the user agent.
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        user_agent: &str,
        request_timeout: Option<Duration>,
        allow_http: bool,
        max_attempts: u32,
    ) -> Result<Self, OciError> {
        let user_agent = HeaderValue::from_str(user_agent).map_err(|e| {
            OciError::config(
                "the user agent is not a valid header value",
                Some(Box::new(e)),
            )
        })?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(user_agent)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT);
        if let Some(t) = request_timeout {
            builder = builder.timeout(t);
        }
        let http = builder
            .build()
            .map_err(|e| OciError::config("building the HTTP client", Some(Box::new(e))))?;
        Ok(Self {
            http,
            allow_http,
            max_attempts: max_attempts.max(1),
            schemes: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests that reached a server so far.
    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A retry policy for one operation, with this client's attempt budget.
    pub(crate) fn retry<'t>(&self, action: &'static str, target: &'t str) -> Retry<'t> {
        Retry::new(self.max_attempts, action, target)
    }

    /// Whether plain http may be used for `registry`.
    pub(crate) fn http_allowed(&self, registry: &str) -> bool {
        scheme(registry, self.allow_http) == "http"
    }

    fn schemes(&self) -> std::sync::MutexGuard<'_, HashMap<String, &'static str>> {
        self.schemes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember_scheme(&self, registry: &str, scheme: &'static str) {
        self.schemes().insert(registry.to_owned(), scheme);
    }

    /// The URL of `req`: its own, or its path on the registry with the scheme learnt so far
    /// (https when none yet).
    pub(crate) fn url_of(&self, req: &Req<'_>) -> Result<Url, AttemptError> {
        match &req.target {
            Target::Url(u) => Ok(u.clone()),
            Target::Path(p) => {
                let registry = req.repo.registry();
                let known = self.schemes().get(registry).copied();
                registry_url(known.unwrap_or("https"), registry, p)
            }
        }
    }

    /// Runs `attempt` until it gets an answer that is not worth retrying, or the attempts
    /// run out (429 and 5xx answers count as failures).
    pub(crate) async fn retried<Fut>(
        &self,
        action: &'static str,
        target: &str,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<Fetched, OciError>
    where
        Fut: Future<Output = Result<Fetched, AttemptError>>,
    {
        let mut retry = self.retry(action, target);
        loop {
            match attempt().await {
                Ok(f) if is_retryable_status(f.status) => {
                    retry.failed(AttemptError::Status(Box::new(f))).await?
                }
                Ok(mut f) => {
                    f.attempts = retry.attempt;
                    return Ok(f);
                }
                Err(e) => retry.failed(e).await?,
            }
        }
    }

    /// A request outside the registry protocol (the token service), retried.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        auth: Option<&HeaderValue>,
        ctx: Ctx<'_>,
    ) -> Result<Fetched, OciError> {
        self.retried(ctx.0, ctx.1, || {
            self.send_raw(
                method.clone(),
                url.clone(),
                headers,
                body.clone(),
                auth,
                ctx,
            )
        })
        .await
    }

    /// Sends `req` once to the registry with `auth`, picking the scheme (https first where
    /// http is allowed, remembered per registry).
    pub(crate) async fn send(
        &self,
        req: &Req<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Fetched, AttemptError> {
        let ctx = (req.action, req.name.as_str(), req.what, req.cap);
        let send_to = |url: Url| {
            self.send_raw(
                req.method.clone(),
                url,
                &req.headers,
                req.body.clone(),
                auth,
                ctx,
            )
        };
        let path = match &req.target {
            Target::Url(u) => return send_to(u.clone()).await,
            Target::Path(p) => p,
        };
        let registry = req.repo.registry();
        let known = self.schemes().get(registry).copied();
        if let Some(s) = known {
            return send_to(registry_url(s, registry, path)?).await;
        }
        let mut used = "https";
        let mut result = send_to(registry_url(used, registry, path)?).await;
        if let Err(AttemptError::Transport(e)) = &result
            && self.http_allowed(registry)
            && e.is_connect()
            && !is_tls_refusal(e)
        {
            debug!(registry, error = %e, "no TLS connection; trying http");
            used = "http";
            result = send_to(registry_url(used, registry, path)?).await;
        }
        if matches!(&result, Ok(_) | Err(AttemptError::Status(_))) {
            self.remember_scheme(registry, used);
        }
        result
    }

    /// Sends one request and hands the answer over unread (counted and logged).
    pub(crate) async fn dispatch(
        &self,
        method: Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        auth: Option<&HeaderValue>,
        body: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, AttemptError> {
        let mut rb = self.http.request(method.clone(), url.clone());
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        if let Some(a) = auth {
            rb = rb.header(AUTHORIZATION, a.clone());
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        match rb.send().await {
            Ok(r) => {
                self.requests.fetch_add(1, Ordering::Relaxed);
                debug!(method = %method, url = %url, status = r.status().as_u16(), "registry request");
                Ok(r)
            }
            Err(e) => {
                if !e.is_connect() {
                    self.requests.fetch_add(1, Ordering::Relaxed);
                }
                debug!(method = %method, url = %url, error = %e, "registry request failed");
                Err(AttemptError::Transport(e))
            }
        }
    }

    /// One HTTP exchange, the answer read in full: a 2xx body up to `cap` bytes (more is
    /// [`OciError::TooLarge`]), an error body up to 64 KiB (the rest dropped).
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        url: Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        auth: Option<&HeaderValue>,
        (action, target, what, cap): Ctx<'_>,
    ) -> Result<Fetched, AttemptError> {
        let resp = self
            .dispatch(method.clone(), &url, headers, auth, body.map(Into::into))
            .await?;
        let status = resp.status();
        if method == Method::HEAD || !status.is_success() {
            let f = if method == Method::HEAD {
                Fetched {
                    status,
                    headers: resp.headers().clone(),
                    url: resp.url().clone(),
                    body: Vec::new(),
                    attempts: 1,
                }
            } else {
                // Only for the error codes: read a little, ignore failures.
                read_error_body(resp).await
            };
            return Ok(f);
        }
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        let too_large = |size| {
            AttemptError::Fatal(OciError::TooLarge {
                action,
                target: target.to_owned(),
                what,
                limit: cap,
                size,
            })
        };
        let announced = content_length(&headers);
        if let Some(len) = announced
            && len > cap
        {
            return Err(too_large(Some(len)));
        }
        // Grow with the data: a lying Content-Length must not reserve memory.
        let mut buf = Vec::with_capacity(announced.unwrap_or(0).min(cap).min(1 << 20) as usize);
        let mut resp = resp;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() as u64 + chunk.len() as u64 > cap {
                        return Err(too_large(announced));
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(AttemptError::Transport(e)),
            }
        }
        Ok(Fetched {
            status,
            headers,
            body: buf,
            url: final_url,
            attempts: 1,
        })
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of an answer (for its error codes), ignoring
/// failures.
pub(crate) async fn read_error_body(mut resp: reqwest::Response) -> Fetched {
    let status = resp.status();
    let headers = resp.headers().clone();
    let url = resp.url().clone();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = (MAX_ERROR_BODY as usize).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() as u64 >= MAX_ERROR_BODY {
            break;
        }
    }
    Fetched {
        status,
        headers,
        body,
        url,
        attempts: 1,
    }
}

fn registry_url(scheme: &str, registry: &str, path: &str) -> Result<Url, AttemptError> {
    Url::parse(&format!("{scheme}://{registry}{path}")).map_err(|e| {
        AttemptError::Fatal(OciError::InvalidReference {
            input: format!("{registry}{path}"),
            reason: format!("cannot make a URL: {e}"),
        })
    })
}
