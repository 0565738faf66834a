//! The registry client: the OCI distribution API on reqwest.
//!
//! Request budget: there is no `/v2/` ping. A request goes out anonymously (or with what the
//! registry asked for last time); a 401 is answered once, from its `WWW-Authenticate`
//! challenge, and the challenge is remembered per registry so later requests carry
//! credentials up front. Bearer tokens are cached per registry and scope, and concurrent
//! requests wait for one token fetch instead of each fetching their own.
//!
//! Scheme: for registries where ggcr would allow http (local addresses, or the
//! allow-http/insecure options) the first request tries https and falls back to http when no
//! TLS connection can be made; the answer is remembered per registry.
//!
//! Retries: 429, 500, 502, 503, 504 and connection-level failures (refused, reset, dropped
//! mid-body, timeouts) are retried up to `max_attempts` in all, with exponential backoff and
//! jitter, honouring a `Retry-After` in seconds (capped). A blob upload is retried as a whole
//! (a new upload session for each attempt).
//!
//! Layout: [`transport`] sends (scheme choice, reading answers with caps, retries);
//! [`crate::auth`] decides what `Authorization` to send and answers challenges (fetching
//! tokens through the transport); this module ties the two into one authenticated request
//! ([`Registry::execute`]); the API sits on top, one concern a file: `manifest`, `blob`,
//! `stream` (blobs in constant memory), `referrers` and `tags`.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::OciError;
use crate::auth::{Auth, AuthHeader};

mod blob;
mod manifest;
mod referrers;
mod stream;
mod tags;
pub(crate) mod transport;

pub use manifest::{MANIFEST_ACCEPT, Manifest, PutManifest};
pub use stream::Progress;
use transport::{AttemptError, Fetched, Req, Transport};

/// How many pages of a tag list or referrers answer are followed.
const MAX_PAGES: usize = 100;

/// How the registry client connects and authenticates (cosign's registry flags).
#[derive(Clone)]
pub struct RegistryOptions {
    /// `--allow-insecure-registry`: skip TLS verification (and allow http).
    pub allow_insecure: bool,
    /// `--allow-http-registry`: allow plain http for any registry.
    pub allow_http: bool,
    /// `--registry-username` (used only together with a password).
    pub username: Option<String>,
    /// `--registry-password` (used only together with a username).
    pub password: Option<String>,
    /// `--registry-token`: a bearer token sent with every request.
    pub token: Option<String>,
    /// `--registry-cacert` contents: extra trusted roots, added to the system's.
    pub ca_certs_pem: Option<Vec<u8>>,
    /// `--registry-client-cert` contents (mTLS).
    pub client_cert_pem: Option<Vec<u8>>,
    /// `--registry-client-key` contents (mTLS).
    pub client_key_pem: Option<Vec<u8>>,
    /// `--registry-server-name`: the name the registry's certificate is verified against.
    pub server_name: Option<String>,
    /// The docker `config.json` to take credentials from; `None` = none.
    pub docker_config: Option<PathBuf>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Attempts per request in all (at least 1), for 429, 5xx and connection failures.
    pub max_attempts: u32,
    /// Limit on each request as a whole (connect to end of body); `None` = no limit.
    pub request_timeout: Option<Duration>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            allow_insecure: false,
            allow_http: false,
            username: None,
            password: None,
            token: None,
            ca_certs_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
            server_name: None,
            docker_config: None,
            user_agent: format!(
                "cosign-rs/{} ({}; {})",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
            max_attempts: 3,
            request_timeout: None,
        }
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        let len = |o: &Option<Vec<u8>>| o.as_ref().map(Vec::len);
        f.debug_struct("RegistryOptions")
            .field("allow_insecure", &self.allow_insecure)
            .field("allow_http", &self.allow_http)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("token", &redacted(&self.token))
            .field("ca_certs_pem_len", &len(&self.ca_certs_pem))
            .field("client_cert_pem_len", &len(&self.client_cert_pem))
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("server_name", &self.server_name)
            .field("docker_config", &self.docker_config)
            .field("user_agent", &self.user_agent)
            .field("max_attempts", &self.max_attempts)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A client for OCI distribution registries. Cloning is cheap and shares the connection
/// pool, the remembered challenges, the token cache and the request counter.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

struct Inner {
    transport: Transport,
    auth: Auth,
}

/// An answer to a request, read or not: what the 401 handshake looks at.
trait Answer {
    fn status(&self) -> StatusCode;
    fn headers(&self) -> &HeaderMap;
}

impl Answer for Fetched {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl Answer for reqwest::Response {
    fn status(&self) -> StatusCode {
        self.status()
    }

    fn headers(&self) -> &HeaderMap {
        self.headers()
    }
}

impl Registry {
    /// Builds the client: one connection pool, TLS from the options. Reads no files but the
    /// PEM contents given; the docker config is read when credentials are first needed.
    pub fn new(opts: RegistryOptions) -> Result<Self, OciError> {
        let tls = crate::tls::client_config(&crate::tls::TlsOptions {
            skip_verify: opts.allow_insecure,
            ca_certs_pem: opts.ca_certs_pem.as_deref(),
            client_cert_pem: opts.client_cert_pem.as_deref(),
            client_key_pem: opts.client_key_pem.as_deref(),
            server_name: opts.server_name.as_deref(),
        })?;
        let transport = Transport::new(
            tls,
            &opts.user_agent,
            opts.request_timeout,
            opts.allow_http || opts.allow_insecure,
            opts.max_attempts,
        )?;
        let auth = Auth::new(
            opts.username.as_deref(),
            opts.password.as_deref(),
            opts.token.as_deref(),
            opts.docker_config,
        );
        Ok(Self {
            inner: Arc::new(Inner { transport, auth }),
        })
    }

    /// Requests that reached a server so far (including token requests and retries; not
    /// connection attempts that failed, such as the https probe of a plain-http registry).
    pub fn request_count(&self) -> u64 {
        self.inner.transport.request_count()
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// One request, retried.
    async fn execute(&self, req: &Req<'_>) -> Result<Fetched, OciError> {
        self.transport()
            .retried(req.action, &req.name, || self.attempt(req))
            .await
    }

    /// One attempt of a registry request, read in full: credentials up front if the
    /// registry asked for them before, and one answer to a 401 challenge.
    async fn attempt(&self, req: &Req<'_>) -> Result<Fetched, AttemptError> {
        let (f, answered) = self
            .authorized(req, req.to_registry(), |auth| async move {
                self.transport().send(req, auth.as_ref()).await
            })
            .await?;
        if f.status == StatusCode::UNAUTHORIZED {
            let reason = match answered {
                None => "the upload location answered 401",
                Some(a) if a.is_bearer() => "the registry refused the token it issued",
                Some(_) => "the registry refused the credentials",
            };
            return Err(req.unauthorized(reason.to_owned()).into());
        }
        if f.status == StatusCode::FORBIDDEN {
            return Err(req.forbidden(&f.body).into());
        }
        Ok(f)
    }

    /// The 401 handshake of one attempt, for read and streamed answers alike: `send` goes
    /// out with what [`Auth::upfront`] gives (nothing when `ours` is false: the request
    /// leaves the registry), and once more with [`Auth::answer`] after a 401 from the
    /// registry. Returns the last answer and the credentials that answered a challenge.
    async fn authorized<T: Answer, Fut>(
        &self,
        req: &Req<'_>,
        ours: bool,
        send: impl Fn(Option<HeaderValue>) -> Fut,
    ) -> Result<(T, Option<AuthHeader>), AttemptError>
    where
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let (transport, auth) = (self.transport(), &self.inner.auth);
        let sent = if ours {
            auth.upfront(transport, req).await?
        } else {
            None
        };
        let first = send(sent.as_ref().map(|a| a.value().clone())).await?;
        if first.status() != StatusCode::UNAUTHORIZED || !ours {
            return Ok((first, None));
        }
        let answer = auth
            .answer(transport, req, first.headers(), sent.as_ref())
            .await?;
        let second = send(Some(answer.value().clone())).await?;
        Ok((second, Some(answer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_debug_hides_secrets() {
        let o = RegistryOptions {
            username: Some("me".into()),
            password: Some("hunter2".into()),
            token: Some("tok-secret".into()),
            client_key_pem: Some(b"-----BEGIN PRIVATE KEY-----".to_vec()),
            ..RegistryOptions::default()
        };
        let d = format!("{o:?}");
        assert!(!d.contains("hunter2") && !d.contains("tok-secret") && !d.contains("PRIVATE"));
        assert!(d.contains("me"));
    }
}
