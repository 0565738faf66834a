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

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cosign_types::media_types::{OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use cosign_types::oci::{
    Descriptor, ImageIndex, ImageManifest, MAX_ENTRIES, MAX_MANIFEST_BYTES, declared_media_type,
    is_index_media_type,
};
use cosign_types::{Digest, HashAlgorithm, TypesError};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LINK,
    LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use tracing::debug;
use url::Url;

use crate::OciError;
use crate::auth::{
    Challenge, Credential, Secret, TokenResponse, merge_scopes, parse_challenges, repository_scope,
};
use crate::docker_config::DockerConfig;
use crate::reference::{Reference, Repository, check_tag, scheme, split_host_port};

#[path = "stream.rs"]
mod stream;
pub use stream::Progress;

/// The `Accept` header of every manifest GET and HEAD: OCI manifest and index, Docker
/// manifest and manifest list. (distribution answers 404 for an OCI manifest unless an OCI
/// type is accepted.)
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";
const OCI_SUBJECT: &str = "oci-subject";

/// The largest token endpoint answer read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;
/// The largest page of a tag list read.
const MAX_TAGS_PAGE_BYTES: u64 = 16 << 20;
/// All pages of a tag list together.
const MAX_TAGS_TOTAL_BYTES: u64 = 64 << 20;
/// How many pages of a tag list or referrers answer are followed.
const MAX_PAGES: usize = 100;
/// How much of an error answer is read (for its error codes).
const MAX_ERROR_BODY: u64 = 64 << 10;
/// Longest wait between attempts, and the cap on `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence while reading an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

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

/// A manifest as fetched: its media type, digest and exact bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Manifest {
    /// From `Content-Type`, or the body's `mediaType` when the header is missing or generic.
    pub media_type: String,
    /// The digest of `bytes` (checked against the requested digest and the registry's
    /// `Docker-Content-Digest`).
    pub digest: Digest,
    /// The manifest bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Manifest {
    /// A descriptor of this manifest (media type, size, digest).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.bytes.len() as u64,
            self.digest.clone(),
        )
    }

    /// Whether this is an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        is_index_media_type(&self.media_type)
    }

    /// Parses the bytes as an image manifest, refusing more than [`MAX_ENTRIES`] layers.
    pub fn image_manifest(&self) -> Result<ImageManifest, OciError> {
        ImageManifest::from_json(&self.bytes).map_err(|e| parse_error(e, &self.digest, "manifest"))
    }

    /// Parses the bytes as an image index, refusing more than [`MAX_ENTRIES`] entries.
    pub fn image_index(&self) -> Result<ImageIndex, OciError> {
        ImageIndex::from_json(&self.bytes).map_err(|e| parse_error(e, &self.digest, "index"))
    }
}

fn parse_error(e: TypesError, digest: &Digest, what: &'static str) -> OciError {
    match e {
        TypesError::TooMany {
            what: counted,
            count,
            max,
        } => OciError::TooMany {
            action: "parsing",
            target: format!("{what} {digest}"),
            what: counted,
            count,
            max,
        },
        other => OciError::InvalidResponse {
            action: "parsing",
            target: format!("{what} {digest}"),
            reason: format!("not a valid {what}"),
            source: Some(Box::new(other)),
        },
    }
}

/// The result of a manifest PUT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutManifest {
    /// The manifest's digest (computed here; the registry's `Docker-Content-Digest`, when
    /// sent, must agree).
    pub digest: Digest,
    /// The `OCI-Subject` response header: the registry processed the manifest's `subject`
    /// (it has the referrers API).
    pub oci_subject: Option<String>,
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

type Slot<T> = Arc<tokio::sync::OnceCell<T>>;
type TokenSlot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

struct Inner {
    http: reqwest::Client,
    allow_http: bool,
    max_attempts: u32,
    explicit: Option<Credential>,
    docker_config_path: Option<PathBuf>,
    docker_config: tokio::sync::OnceCell<Option<Arc<DockerConfig>>>,
    credentials: Mutex<HashMap<String, Slot<Option<Credential>>>>,
    registries: Mutex<HashMap<String, RegistryState>>,
    tokens: Mutex<HashMap<(String, String), TokenSlot>>,
    requests: AtomicU64,
}

#[derive(Clone, Default)]
struct RegistryState {
    scheme: Option<&'static str>,
    challenge: Option<Challenge>,
}

struct CachedToken {
    token: Secret,
    expires: Instant,
}

/// A fully read answer.
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    url: Url,
    /// The attempt that got this answer (1 = first).
    attempts: u32,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn content_length(&self) -> Option<u64> {
        content_length(&self.headers)
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Why one attempt failed.
enum AttemptError {
    /// Not worth retrying.
    Fatal(OciError),
    /// No answer, or the answer broke off.
    Transport(reqwest::Error),
    /// A status worth retrying (429, 5xx).
    Status(Box<Fetched>),
}

impl From<OciError> for AttemptError {
    fn from(e: OciError) -> Self {
        Self::Fatal(e)
    }
}

/// Where a request goes.
enum Target {
    /// A path (and query) on the registry, `/v2/...`.
    Path(String),
    /// An absolute URL (upload `Location`, a `Link` page).
    Url(Url),
}

/// One registry request.
struct Req<'a> {
    method: Method,
    repo: &'a Repository,
    target: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    /// Token scopes.
    scopes: Vec<String>,
    /// Most bytes read from a 2xx answer.
    cap: u64,
    /// What the capped body is ("manifest", "blob" ...), for errors.
    what: &'static str,
    action: &'static str,
    name: String,
}

impl<'a> Req<'a> {
    fn new(method: Method, repo: &'a Repository, path: String, action: &'static str) -> Self {
        Self {
            method,
            repo,
            target: Target::Path(path),
            headers: Vec::new(),
            body: None,
            scopes: vec![repository_scope(repo.path(), false)],
            cap: MAX_ERROR_BODY,
            what: "response",
            action,
            name: repo.name(),
        }
    }

    fn push(mut self) -> Self {
        self.scopes = vec![repository_scope(self.repo.path(), true)];
        self
    }

    fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    fn named(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    fn capped(mut self, cap: u64, what: &'static str) -> Self {
        self.cap = cap;
        self.what = what;
        self
    }
}

/// The `Authorization` value sent, and the bearer token in it (to tell a stale token).
#[derive(Clone)]
struct AuthHeader {
    value: HeaderValue,
    bearer: Option<Secret>,
}

fn auth_value(text: &str) -> Result<HeaderValue, OciError> {
    let mut v = HeaderValue::from_str(text).map_err(|_| {
        OciError::config(
            "the registry credentials contain characters not allowed in an HTTP header",
            None,
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn bearer_header(token: &Secret) -> Result<AuthHeader, OciError> {
    Ok(AuthHeader {
        value: auth_value(&format!("Bearer {}", token.0))?,
        bearer: Some(token.clone()),
    })
}

fn manifest_path(repo: &Repository, reference: &Reference) -> Result<String, OciError> {
    if let Reference::Tag(t) = reference {
        check_tag(t).map_err(|reason| OciError::InvalidReference {
            input: format!("{}:{t}", repo.name()),
            reason,
        })?;
    }
    Ok(format!("/v2/{}/manifests/{reference}", repo.path()))
}

fn manifest_name(repo: &Repository, reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("{repo}:{t}"),
        Reference::Digest(d) => format!("{repo}@{d}"),
    }
}

fn static_header(v: &'static str) -> HeaderValue {
    HeaderValue::from_static(v)
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
        let user_agent = HeaderValue::from_str(&opts.user_agent).map_err(|e| {
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
        if let Some(t) = opts.request_timeout {
            builder = builder.timeout(t);
        }
        let http = builder
            .build()
            .map_err(|e| OciError::config("building the HTTP client", Some(Box::new(e))))?;
        let non_empty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
        let explicit = match (
            non_empty(&opts.username),
            non_empty(&opts.password),
            non_empty(&opts.token),
        ) {
            (Some(username), Some(password), _) => Some(Credential::Basic {
                username,
                password: Secret(password),
            }),
            (_, _, Some(token)) => Some(Credential::RegistryToken(Secret(token))),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                allow_http: opts.allow_http || opts.allow_insecure,
                max_attempts: opts.max_attempts.max(1),
                explicit,
                docker_config_path: opts.docker_config,
                docker_config: tokio::sync::OnceCell::new(),
                credentials: Mutex::new(HashMap::new()),
                registries: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// Requests that reached a server so far (including token requests and retries; not
    /// connection attempts that failed, such as the https probe of a plain-http registry).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    // ----- manifests -----------------------------------------------------------------------

    /// HEAD a manifest: `None` on 404. The descriptor comes from `Content-Type`,
    /// `Docker-Content-Digest` and `Content-Length`; when one of them is missing (or the
    /// type is generic) the manifest is fetched and hashed instead.
    pub async fn head_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<Option<Descriptor>, OciError> {
        let req = Req::new(
            Method::HEAD,
            repo,
            manifest_path(repo, reference)?,
            "checking manifest",
        )
        .header(ACCEPT, static_header(MANIFEST_ACCEPT))
        .named(manifest_name(repo, reference));
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            _ => return Err(status_error(&req, &f)),
        }
        let media_type = content_type(&f.headers).filter(|m| !is_generic(m));
        let size = f.content_length();
        let digest = match f.header(DOCKER_CONTENT_DIGEST) {
            Some(text) => {
                Some(
                    text.trim()
                        .parse::<Digest>()
                        .map_err(|e| OciError::InvalidResponse {
                            action: req.action,
                            target: req.name.clone(),
                            reason: format!("invalid Docker-Content-Digest header {text:?}"),
                            source: Some(Box::new(e)),
                        })?,
                )
            }
            None => None,
        };
        if let (Some(wanted), Some(got)) = (reference.as_digest(), &digest)
            && wanted != got
        {
            return Err(OciError::DigestMismatch {
                action: req.action,
                target: req.name.clone(),
                expected: wanted.clone(),
                actual: got.clone(),
            });
        }
        match (media_type, size, digest) {
            (Some(mt), Some(size), Some(digest)) => Ok(Some(Descriptor::new(mt, size, digest))),
            _ => Ok(self
                .get_manifest(repo, reference)
                .await?
                .map(|m| m.descriptor())),
        }
    }

    /// GET a manifest: `None` on 404. At most [`MAX_MANIFEST_BYTES`] are read (a larger
    /// `Content-Length` is refused before reading); the bytes must hash to the requested
    /// digest and to `Docker-Content-Digest` when the registry sends one.
    pub async fn get_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<Option<Manifest>, OciError> {
        let req = Req::new(
            Method::GET,
            repo,
            manifest_path(repo, reference)?,
            "fetching manifest",
        )
        .header(ACCEPT, static_header(MANIFEST_ACCEPT))
        .named(manifest_name(repo, reference))
        .capped(MAX_MANIFEST_BYTES, "manifest");
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            _ => return Err(status_error(&req, &f)),
        }
        let mismatch = |expected: &Digest, actual: Digest| OciError::DigestMismatch {
            action: req.action,
            target: req.name.clone(),
            expected: expected.clone(),
            actual,
        };
        let sha256 = cosign_crypto::hash(HashAlgorithm::Sha256, &f.body);
        let of = |d: &Digest| {
            if d.algorithm() == HashAlgorithm::Sha256 {
                sha256.clone()
            } else {
                cosign_crypto::hash(d.algorithm(), &f.body)
            }
        };
        if let Some(wanted) = reference.as_digest() {
            let got = of(wanted);
            if &got != wanted {
                return Err(mismatch(wanted, got));
            }
        }
        if let Some(text) = f.header(DOCKER_CONTENT_DIGEST) {
            match text.trim().parse::<Digest>() {
                Ok(announced) => {
                    let got = of(&announced);
                    if got != announced {
                        return Err(mismatch(&announced, got));
                    }
                }
                Err(e) => {
                    debug!(header = text, error = %e, "ignoring unparseable Docker-Content-Digest")
                }
            }
        }
        let digest = reference.as_digest().cloned().unwrap_or(sha256);
        let media_type = content_type(&f.headers)
            .filter(|m| !is_generic(m))
            .or_else(|| declared_media_type(&f.body))
            .unwrap_or_else(|| guess_media_type(&f.body).to_owned());
        Ok(Some(Manifest {
            media_type,
            digest,
            bytes: f.body,
        }))
    }

    /// PUT a manifest with `Content-Type: media_type`. The digest is computed here (and must
    /// equal `reference` when that is a digest, and the registry's `Docker-Content-Digest`).
    pub async fn put_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
        media_type: &str,
        body: &[u8],
    ) -> Result<PutManifest, OciError> {
        let name = manifest_name(repo, reference);
        let action = "pushing manifest";
        if body.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(OciError::TooLarge {
                action,
                target: name,
                what: "manifest",
                limit: MAX_MANIFEST_BYTES,
                size: Some(body.len() as u64),
            });
        }
        let digest = match reference {
            Reference::Digest(d) => {
                let got = cosign_crypto::hash(d.algorithm(), body);
                if &got != d {
                    return Err(OciError::DigestMismatch {
                        action,
                        target: name,
                        expected: d.clone(),
                        actual: got,
                    });
                }
                d.clone()
            }
            Reference::Tag(_) => cosign_crypto::hash(HashAlgorithm::Sha256, body),
        };
        let ct = HeaderValue::from_str(media_type).map_err(|_| OciError::InvalidReference {
            input: media_type.to_owned(),
            reason: "not a valid media type".into(),
        })?;
        let mut req = Req::new(Method::PUT, repo, manifest_path(repo, reference)?, action)
            .push()
            .header(CONTENT_TYPE, ct)
            .named(name);
        req.body = Some(Bytes::copy_from_slice(body));
        let f = self.execute(&req).await?;
        if !f.status.is_success() {
            return Err(status_error(&req, &f));
        }
        if let Some(announced) = f
            .header(DOCKER_CONTENT_DIGEST)
            .and_then(|t| t.trim().parse::<Digest>().ok())
        {
            let ours = if announced.algorithm() == digest.algorithm() {
                digest.clone()
            } else {
                cosign_crypto::hash(announced.algorithm(), body)
            };
            if ours != announced {
                return Err(OciError::DigestMismatch {
                    action,
                    target: req.name.clone(),
                    expected: ours,
                    actual: announced,
                });
            }
        }
        Ok(PutManifest {
            digest,
            oci_subject: f.header(OCI_SUBJECT).map(|s| s.trim().to_owned()),
        })
    }

    /// DELETE a manifest: `true` when deleted, `false` on 404. Other answers are
    /// [`OciError::Status`] with the status kept (distribution answers 400 for a tag; delete
    /// by digest then).
    pub async fn delete_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<bool, OciError> {
        let req = Req::new(
            Method::DELETE,
            repo,
            manifest_path(repo, reference)?,
            "deleting manifest",
        )
        .push()
        .named(manifest_name(repo, reference));
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            _ => Err(status_error(&req, &f)),
        }
    }

    // ----- blobs ---------------------------------------------------------------------------

    /// HEAD a blob: its size when present (0 if the registry sends no length), `None` on 404.
    pub async fn blob_exists(
        &self,
        repo: &Repository,
        digest: &Digest,
    ) -> Result<Option<u64>, OciError> {
        let req = Req::new(
            Method::HEAD,
            repo,
            format!("/v2/{}/blobs/{digest}", repo.path()),
            "checking blob",
        )
        .named(format!("{repo}@{digest}"));
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(f.content_length().unwrap_or(0))),
            _ => Err(status_error(&req, &f)),
        }
    }

    /// GET a blob of at most `max_size` bytes: a larger `Content-Length` is refused before
    /// reading, and reading stops as soon as the body passes `max_size` (no or lying length,
    /// endless body). The bytes must hash to `digest`. 404 is [`OciError::NotFound`].
    pub async fn get_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        max_size: u64,
    ) -> Result<Vec<u8>, OciError> {
        let req = Req::new(
            Method::GET,
            repo,
            format!("/v2/{}/blobs/{digest}", repo.path()),
            "fetching blob",
        )
        .named(format!("{repo}@{digest}"))
        .capped(max_size, "blob");
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => {
                return Err(OciError::NotFound {
                    action: req.action,
                    target: req.name.clone(),
                    detail: error_detail(&f.body),
                });
            }
            s if s.is_success() => {}
            _ => return Err(status_error(&req, &f)),
        }
        let got = cosign_crypto::hash(digest.algorithm(), &f.body);
        if &got != digest {
            return Err(OciError::DigestMismatch {
                action: req.action,
                target: req.name.clone(),
                expected: digest.clone(),
                actual: got,
            });
        }
        Ok(f.body)
    }

    /// Uploads a blob: `POST /blobs/uploads/`, then `PUT <Location>?digest=` with the body
    /// (distribution has no single-POST upload). A 201 to the POST ends it. The data must
    /// hash to `digest` (checked before sending).
    pub async fn push_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), OciError> {
        check_data_digest(repo, digest, data)?;
        let data = Bytes::copy_from_slice(data);
        match self.upload(repo, digest, &data, None).await? {
            Upload::Done | Upload::AlreadyThere => Ok(()),
            // Without a mount query the POST's status is checked in `upload`.
            Upload::MountRefused => Ok(()),
        }
    }

    /// Uploads a blob unless the repository has it, in one request when it does:
    /// `POST /blobs/uploads/?mount=<digest>&from=<repo>` answers 201 when the blob is there,
    /// or 202 with an upload session the body is then PUT into. Registries that refuse the
    /// mount get a HEAD and an upload.
    pub async fn push_blob_if_missing(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), OciError> {
        check_data_digest(repo, digest, data)?;
        let data = Bytes::copy_from_slice(data);
        match self.upload(repo, digest, &data, Some(repo)).await? {
            Upload::Done | Upload::AlreadyThere => Ok(()),
            Upload::MountRefused => {
                if self.blob_exists(repo, digest).await?.is_some() {
                    return Ok(());
                }
                match self.upload(repo, digest, &data, None).await? {
                    Upload::Done | Upload::AlreadyThere | Upload::MountRefused => Ok(()),
                }
            }
        }
    }

    /// Asks the registry to mount `digest` from `from` (same registry) into `repo`: `true`
    /// when mounted (201), `false` when the registry answered otherwise (or `from` is on
    /// another registry). An upload session the registry may have opened instead is left to
    /// expire.
    pub async fn mount_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        from: &Repository,
    ) -> Result<bool, OciError> {
        if from.registry() != repo.registry() {
            return Ok(false);
        }
        let mut req = Req::new(
            Method::POST,
            repo,
            format!(
                "/v2/{}/blobs/uploads/?mount={digest}&from={}",
                repo.path(),
                from.path()
            ),
            "mounting blob",
        )
        .push()
        .named(format!("{repo}@{digest} from {from}"));
        if from != repo {
            req.scopes.push(repository_scope(from.path(), false));
        }
        req.body = Some(Bytes::new());
        let f = self.execute(&req).await?;
        Ok(f.status == StatusCode::CREATED)
    }

    /// One upload, retried as a whole (new session per attempt).
    async fn upload(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &Bytes,
        mount_from: Option<&Repository>,
    ) -> Result<Upload, OciError> {
        let name = format!("{repo}@{digest}");
        let path = match mount_from {
            Some(from) => format!(
                "/v2/{}/blobs/uploads/?mount={digest}&from={}",
                repo.path(),
                from.path()
            ),
            None => format!("/v2/{}/blobs/uploads/", repo.path()),
        };
        let mut post = Req::new(Method::POST, repo, path, "uploading blob")
            .push()
            .named(name.clone());
        post.body = Some(Bytes::new());
        let mut retry = Retry::new(self.inner.max_attempts, post.action, &name);
        loop {
            match self
                .upload_once(repo, digest, data, mount_from, &post, retry.attempt)
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => retry.failed(e).await?,
            }
        }
    }

    /// One POST (+ PUT) of an upload.
    async fn upload_once(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &Bytes,
        mount_from: Option<&Repository>,
        post: &Req<'_>,
        attempt: u32,
    ) -> Result<Upload, AttemptError> {
        let name = &post.name;
        let f = self.attempt(post).await?;
        match f.status {
            StatusCode::CREATED => return Ok(Upload::AlreadyThere),
            StatusCode::ACCEPTED => {}
            s if is_retryable_status(s) => return Err(AttemptError::Status(Box::new(f))),
            _ if mount_from.is_some() => return Ok(Upload::MountRefused),
            _ => return Err(AttemptError::Fatal(status_error_n(post, &f, attempt))),
        }
        let location = f.header(LOCATION.as_str()).ok_or_else(|| {
            AttemptError::Fatal(OciError::InvalidResponse {
                action: post.action,
                target: name.clone(),
                reason: "the upload session answer has no Location header".into(),
                source: None,
            })
        })?;
        let mut url = f.url.join(location.trim()).map_err(|e| {
            AttemptError::Fatal(OciError::InvalidResponse {
                action: post.action,
                target: name.clone(),
                reason: format!("invalid upload Location {location:?}"),
                source: Some(Box::new(e)),
            })
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AttemptError::Fatal(OciError::InvalidResponse {
                action: post.action,
                target: name.clone(),
                reason: format!("upload Location {location:?} is not http(s)"),
                source: None,
            }));
        }
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let mut put = Req::new(Method::PUT, repo, String::new(), "uploading blob")
            .push()
            .named(name.clone())
            .header(CONTENT_TYPE, static_header("application/octet-stream"));
        put.target = Target::Url(url);
        put.body = Some(data.clone());
        let f = self.attempt(&put).await?;
        match f.status {
            s if s.is_success() => {
                if let Some(announced) = f
                    .header(DOCKER_CONTENT_DIGEST)
                    .and_then(|t| t.trim().parse::<Digest>().ok())
                    && announced.algorithm() == digest.algorithm()
                    && &announced != digest
                {
                    return Err(AttemptError::Fatal(OciError::DigestMismatch {
                        action: put.action,
                        target: name.clone(),
                        expected: digest.clone(),
                        actual: announced,
                    }));
                }
                Ok(Upload::Done)
            }
            s if is_retryable_status(s) => Err(AttemptError::Status(Box::new(f))),
            _ => Err(AttemptError::Fatal(status_error_n(&put, &f, attempt))),
        }
    }

    // ----- referrers and tags --------------------------------------------------------------

    /// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: `Some(index)` on 200 (filtered by
    /// `artifact_type` here too, since registries may ignore the filter), `None` on 404 or
    /// 400 (no referrers API: use the `sha256-<hex>` tag). Pages (`Link: rel="next"`) are
    /// followed; each page is capped at [`MAX_MANIFEST_BYTES`] and all pages together at
    /// [`MAX_ENTRIES`] entries.
    pub async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<ImageIndex>, OciError> {
        let mut path = format!("/v2/{}/referrers/{subject}", repo.path());
        if let Some(at) = artifact_type {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("artifactType", at)
                .finish();
            path = format!("{path}?{q}");
        }
        let name = format!("{repo}@{subject}");
        let mut req = Req::new(Method::GET, repo, path, "listing referrers")
            .header(ACCEPT, static_header(OCI_INDEX_MEDIA_TYPE))
            .named(name.clone())
            .capped(MAX_MANIFEST_BYTES, "referrers index");
        let mut result: Option<ImageIndex> = None;
        let mut seen = HashSet::new();
        for page in 0..MAX_PAGES {
            let f = self.execute(&req).await?;
            match f.status {
                StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST if page == 0 => return Ok(None),
                StatusCode::OK => {}
                _ => return Err(status_error(&req, &f)),
            }
            let index = ImageIndex::from_json(&f.body).map_err(|e| match e {
                TypesError::TooMany {
                    what, count, max, ..
                } => OciError::TooMany {
                    action: req.action,
                    target: name.clone(),
                    what,
                    count,
                    max,
                },
                other => OciError::InvalidResponse {
                    action: req.action,
                    target: name.clone(),
                    reason: "the referrers answer is not an OCI image index".into(),
                    source: Some(Box::new(other)),
                },
            })?;
            match &mut result {
                None => result = Some(index),
                Some(r) => {
                    let count = r.manifests.len() + index.manifests.len();
                    if count > MAX_ENTRIES {
                        return Err(OciError::TooMany {
                            action: req.action,
                            target: name.clone(),
                            what: "referrers",
                            count,
                            max: MAX_ENTRIES,
                        });
                    }
                    r.manifests.extend(index.manifests);
                }
            }
            match self.next_page(&req, &f, &mut seen)? {
                Some(url) => req.target = Target::Url(url),
                None => {
                    let mut index = result.unwrap_or_else(ImageIndex::empty);
                    if let Some(at) = artifact_type {
                        index
                            .manifests
                            .retain(|d| d.artifact_type.as_deref() == Some(at));
                    }
                    return Ok(Some(index));
                }
            }
        }
        Err(OciError::TooMany {
            action: req.action,
            target: name,
            what: "pages",
            count: MAX_PAGES + 1,
            max: MAX_PAGES,
        })
    }

    /// Lists a repository's tags, following `Link: rel="next"` pages (at most 100 pages,
    /// 16 MiB each, 64 MiB in all). A repository the registry does not know is
    /// [`OciError::NotFound`].
    pub async fn list_tags(&self, repo: &Repository) -> Result<Vec<String>, OciError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut req = Req::new(
            Method::GET,
            repo,
            format!("/v2/{}/tags/list", repo.path()),
            "listing tags",
        )
        .capped(MAX_TAGS_PAGE_BYTES, "tag list page");
        let mut budget = MAX_TAGS_TOTAL_BYTES;
        let mut tags = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            req.cap = MAX_TAGS_PAGE_BYTES.min(budget);
            let f = self.execute(&req).await?;
            match f.status {
                StatusCode::NOT_FOUND => {
                    return Err(OciError::NotFound {
                        action: req.action,
                        target: req.name.clone(),
                        detail: error_detail(&f.body),
                    });
                }
                StatusCode::OK => {}
                _ => return Err(status_error(&req, &f)),
            }
            budget = budget.saturating_sub(f.body.len() as u64);
            let page: TagList =
                serde_json::from_slice(&f.body).map_err(|e| OciError::InvalidResponse {
                    action: req.action,
                    target: req.name.clone(),
                    reason: "the tag list is not the expected JSON".into(),
                    source: Some(Box::new(e)),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match self.next_page(&req, &f, &mut seen)? {
                Some(url) => req.target = Target::Url(url),
                None => return Ok(tags),
            }
        }
        Err(OciError::TooMany {
            action: req.action,
            target: req.name,
            what: "pages",
            count: MAX_PAGES + 1,
            max: MAX_PAGES,
        })
    }

    /// The next page named by `Link: <...>; rel="next"`, which must stay on the registry and
    /// not repeat.
    fn next_page(
        &self,
        req: &Req<'_>,
        f: &Fetched,
        seen: &mut HashSet<String>,
    ) -> Result<Option<Url>, OciError> {
        let links = f
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let Some(next) = next_link(links) else {
            return Ok(None);
        };
        let invalid = |reason: String| OciError::InvalidResponse {
            action: req.action,
            target: req.name.clone(),
            reason,
            source: None,
        };
        let url = f
            .url
            .join(&next)
            .map_err(|_| invalid(format!("invalid Link {next:?}")))?;
        if !same_origin(req.repo.registry(), &url) || url.scheme() != f.url.scheme() {
            return Err(invalid(format!(
                "the next page {next:?} is not on the registry"
            )));
        }
        seen.insert(f.url.to_string());
        if !seen.insert(url.to_string()) {
            return Err(invalid(format!("the pages loop back to {next:?}")));
        }
        Ok(Some(url))
    }

    // ----- the request machinery -------------------------------------------------------------

    /// One request, retried.
    async fn execute(&self, req: &Req<'_>) -> Result<Fetched, OciError> {
        let mut retry = Retry::new(self.inner.max_attempts, req.action, &req.name);
        loop {
            match self.attempt(req).await {
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
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        auth: Option<&HeaderValue>,
        (action, target, what, cap): (&'static str, &str, &'static str, u64),
    ) -> Result<Fetched, OciError> {
        let mut retry = Retry::new(self.inner.max_attempts, action, target);
        loop {
            let r = self
                .send_raw(
                    method.clone(),
                    url.clone(),
                    headers,
                    body.clone(),
                    auth,
                    (action, target, what, cap),
                )
                .await;
            match r {
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

    /// One attempt of a registry request: credentials up front if the registry asked for
    /// them before, and one answer to a 401 challenge.
    async fn attempt(&self, req: &Req<'_>) -> Result<Fetched, AttemptError> {
        let registry = req.repo.registry();
        let ours = match &req.target {
            Target::Path(_) => true,
            Target::Url(u) => same_origin(registry, u),
        };
        let sent = if ours {
            self.upfront_auth(req).await?
        } else {
            None
        };
        let f = self.send(req, sent.as_ref()).await?;
        if f.status != StatusCode::UNAUTHORIZED {
            return self.check_forbidden(req, f);
        }
        if !ours {
            return Err(self.unauthorized(req, "the upload location answered 401".into()));
        }
        let challenge = parse_challenges(
            f.headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let auth = self.answer_challenge(req, challenge, sent.as_ref()).await?;
        let f = self.send(req, Some(&auth)).await?;
        if f.status == StatusCode::UNAUTHORIZED {
            let reason = match auth.bearer {
                Some(_) => "the registry refused the token it issued".to_owned(),
                None => "the registry refused the credentials".to_owned(),
            };
            return Err(self.unauthorized(req, reason));
        }
        self.check_forbidden(req, f)
    }

    fn check_forbidden(&self, req: &Req<'_>, f: Fetched) -> Result<Fetched, AttemptError> {
        if f.status == StatusCode::FORBIDDEN {
            return Err(AttemptError::Fatal(OciError::Forbidden {
                action: req.action,
                target: req.name.clone(),
                registry: req.repo.registry().to_owned(),
                repository: req.repo.path().to_owned(),
                detail: error_detail(&f.body),
            }));
        }
        Ok(f)
    }

    fn unauthorized(&self, req: &Req<'_>, reason: String) -> AttemptError {
        AttemptError::Fatal(OciError::Unauthorized {
            action: req.action,
            target: req.name.clone(),
            registry: req.repo.registry().to_owned(),
            repository: req.repo.path().to_owned(),
            reason,
        })
    }

    fn state(&self) -> MutexGuard<'_, HashMap<String, RegistryState>> {
        self.inner
            .registries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn upfront_auth(&self, req: &Req<'_>) -> Result<Option<AuthHeader>, OciError> {
        if let Some(Credential::RegistryToken(t)) = &self.inner.explicit {
            return bearer_header(t).map(Some);
        }
        let challenge = self
            .state()
            .get(req.repo.registry())
            .and_then(|s| s.challenge.clone());
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => match self.credentials(req.repo.registry()).await? {
                Some(Credential::RegistryToken(t)) => bearer_header(&t).map(Some),
                Some(c @ Credential::Basic { .. }) => Ok(c
                    .basic_header()
                    .map(|h| auth_value(&h))
                    .transpose()?
                    .map(|value| AuthHeader {
                        value,
                        bearer: None,
                    })),
                _ => Ok(None),
            },
            Some(Challenge::Bearer { realm, service, .. }) => self
                .bearer(req, &realm, service.as_deref(), None, None)
                .await
                .map(Some),
        }
    }

    async fn answer_challenge(
        &self,
        req: &Req<'_>,
        challenge: Option<Challenge>,
        sent: Option<&AuthHeader>,
    ) -> Result<AuthHeader, AttemptError> {
        if matches!(self.inner.explicit, Some(Credential::RegistryToken(_))) {
            return Err(self.unauthorized(req, "the registry refused the registry token".into()));
        }
        let Some(challenge) = challenge else {
            return Err(self.unauthorized(
                req,
                "the registry answered 401 without a Basic or Bearer challenge".into(),
            ));
        };
        self.state()
            .entry(req.repo.registry().to_owned())
            .or_default()
            .challenge = Some(challenge.clone());
        match challenge {
            Challenge::Basic => {
                let header = match self.credentials(req.repo.registry()).await? {
                    Some(Credential::RegistryToken(t)) => bearer_header(&t)?,
                    Some(c @ Credential::Basic { .. }) => AuthHeader {
                        value: auth_value(&c.basic_header().unwrap_or_default())?,
                        bearer: None,
                    },
                    Some(Credential::IdentityToken(_)) => {
                        return Err(self.unauthorized(
                            req,
                            "the registry wants Basic auth but only an identity token is configured"
                                .into(),
                        ));
                    }
                    None => {
                        return Err(self.unauthorized(
                            req,
                            "authentication required and no credentials are configured".into(),
                        ));
                    }
                };
                if sent.is_some_and(|s| s.value == header.value) {
                    return Err(
                        self.unauthorized(req, "the registry refused the credentials".into())
                    );
                }
                Ok(header)
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let stale = sent.and_then(|s| s.bearer.as_ref());
                Ok(self
                    .bearer(req, &realm, service.as_deref(), scope.as_deref(), stale)
                    .await?)
            }
        }
    }

    /// A bearer token for `req`'s scopes (plus `extra_scope` from a fresh challenge): from the
    /// cache unless it is `stale` or expired, else from the token service. Concurrent callers
    /// for one scope wait for a single fetch.
    async fn bearer(
        &self,
        req: &Req<'_>,
        realm: &str,
        service: Option<&str>,
        extra_scope: Option<&str>,
        stale: Option<&Secret>,
    ) -> Result<AuthHeader, OciError> {
        let registry = req.repo.registry();
        let creds = self.credentials(registry).await?;
        if let Some(Credential::RegistryToken(t)) = &creds {
            return bearer_header(t);
        }
        let scopes = merge_scopes(&req.scopes, extra_scope);
        let key = (registry.to_owned(), scopes.join(" "));
        let slot = self
            .inner
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expires > Instant::now()
            && stale != Some(&c.token)
        {
            return bearer_header(&c.token);
        }
        let (token, lifetime) = self
            .fetch_token(req, realm, service, &scopes, creds.as_ref())
            .await?;
        let header = bearer_header(&token)?;
        *cached = Some(CachedToken {
            token,
            expires: Instant::now() + lifetime,
        });
        Ok(header)
    }

    async fn fetch_token(
        &self,
        req: &Req<'_>,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        creds: Option<&Credential>,
    ) -> Result<(Secret, Duration), OciError> {
        let action = "requesting a registry token";
        let registry = req.repo.registry();
        let invalid = |reason: String| OciError::InvalidResponse {
            action,
            target: format!("for {}", req.repo),
            reason,
            source: None,
        };
        let realm_url = Url::parse(realm)
            .map_err(|_| invalid(format!("the token realm {realm:?} is not a URL")))?;
        let realm_host = realm_url.host_str().unwrap_or_default().to_owned();
        match realm_url.scheme() {
            "https" => {}
            "http" if self.http_allowed(registry) || scheme(&realm_host, false) == "http" => {}
            _ => {
                return Err(invalid(format!(
                    "the token realm {realm:?} is not https (allow http for this registry to use it)"
                )));
            }
        }
        let target = format!("{} for {}", realm_url, req.repo);
        let refresh = match creds {
            Some(Credential::IdentityToken(t)) => Some(t),
            _ => None,
        };
        let mut answer = None;
        if let Some(refresh) = refresh {
            // OAuth2 refresh-token grant.
            // The serializer is not `Send`: finish it before any await.
            let body = {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", &refresh.0)
                    .append_pair("client_id", "cosign");
                if let Some(s) = service {
                    form.append_pair("service", s);
                }
                if !scopes.is_empty() {
                    form.append_pair("scope", &scopes.join(" "));
                }
                Bytes::from(form.finish())
            };
            let f = self
                .exchange(
                    Method::POST,
                    &realm_url,
                    &[(
                        CONTENT_TYPE,
                        static_header("application/x-www-form-urlencoded"),
                    )],
                    Some(body),
                    None,
                    (action, &target, "token response", MAX_TOKEN_BYTES),
                )
                .await?;
            // Not every token service speaks OAuth2: fall back to GET as the spec says.
            if !matches!(
                f.status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) {
                answer = Some(f);
            }
        }
        let f = match answer {
            Some(f) => f,
            None => {
                let mut url = realm_url.clone();
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                let basic = match creds {
                    Some(c @ Credential::Basic { .. }) => {
                        c.basic_header().map(|h| auth_value(&h)).transpose()?
                    }
                    _ => None,
                };
                self.exchange(
                    Method::GET,
                    &url,
                    &[],
                    None,
                    basic.as_ref(),
                    (action, &target, "token response", MAX_TOKEN_BYTES),
                )
                .await?
            }
        };
        match f.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let who = if creds.is_some() {
                    "the credentials"
                } else {
                    "anonymous access"
                };
                return Err(OciError::Unauthorized {
                    action,
                    target: target.clone(),
                    registry: registry.to_owned(),
                    repository: req.repo.path().to_owned(),
                    reason: format!(
                        "the token service {realm_host} refused {who} (HTTP {}){}",
                        f.status.as_u16(),
                        error_detail(&f.body)
                    ),
                });
            }
            s => {
                return Err(OciError::Status {
                    action,
                    target: target.clone(),
                    status: s.as_u16(),
                    detail: error_detail(&f.body),
                    attempts: f.attempts,
                });
            }
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&f.body).map_err(|e| OciError::InvalidResponse {
                action,
                target: target.clone(),
                reason: "the token answer is not JSON".into(),
                source: Some(Box::new(e)),
            })?;
        parsed
            .into_token()
            .ok_or_else(|| invalid("the token answer has no token".into()))
    }

    fn http_allowed(&self, registry: &str) -> bool {
        scheme(registry, self.inner.allow_http) == "http"
    }

    /// The credentials for `registry`: the explicit options, else the docker config (read and
    /// resolved once per registry).
    async fn credentials(&self, registry: &str) -> Result<Option<Credential>, OciError> {
        if let Some(c) = &self.inner.explicit {
            return Ok(Some(c.clone()));
        }
        let Some(path) = &self.inner.docker_config_path else {
            return Ok(None);
        };
        let slot = self
            .inner
            .credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(registry.to_owned())
            .or_default()
            .clone();
        slot.get_or_try_init(|| async {
            let config = self
                .inner
                .docker_config
                .get_or_try_init(|| async { DockerConfig::load(path).map(|c| c.map(Arc::new)) })
                .await?;
            match config {
                Some(c) => c.credential_for(registry, None).await,
                None => Ok(None),
            }
        })
        .await
        .cloned()
    }

    /// Sends `req` once to the registry, picking the scheme (https first where http is
    /// allowed, remembered per registry).
    async fn send(
        &self,
        req: &Req<'_>,
        auth: Option<&AuthHeader>,
    ) -> Result<Fetched, AttemptError> {
        let ctx = (req.action, req.name.as_str(), req.what, req.cap);
        let auth = auth.map(|a| &a.value);
        let path = match &req.target {
            Target::Url(u) => {
                return self
                    .send_raw(
                        req.method.clone(),
                        u.clone(),
                        &req.headers,
                        req.body.clone(),
                        auth,
                        ctx,
                    )
                    .await;
            }
            Target::Path(p) => p,
        };
        let registry = req.repo.registry();
        let url_for = |scheme: &str| {
            Url::parse(&format!("{scheme}://{registry}{path}")).map_err(|e| {
                AttemptError::Fatal(OciError::InvalidReference {
                    input: format!("{registry}{path}"),
                    reason: format!("cannot make a URL: {e}"),
                })
            })
        };
        let known = self.state().get(registry).and_then(|s| s.scheme);
        if let Some(s) = known {
            return self
                .send_raw(
                    req.method.clone(),
                    url_for(s)?,
                    &req.headers,
                    req.body.clone(),
                    auth,
                    ctx,
                )
                .await;
        }
        let https = self
            .send_raw(
                req.method.clone(),
                url_for("https")?,
                &req.headers,
                req.body.clone(),
                auth,
                ctx,
            )
            .await;
        let result = match https {
            Err(AttemptError::Transport(e))
                if self.http_allowed(registry) && e.is_connect() && !is_tls_refusal(&e) =>
            {
                debug!(registry, error = %e, "no TLS connection; trying http");
                let r = self
                    .send_raw(
                        req.method.clone(),
                        url_for("http")?,
                        &req.headers,
                        req.body.clone(),
                        auth,
                        ctx,
                    )
                    .await;
                if matches!(&r, Ok(_) | Err(AttemptError::Status(_))) {
                    self.state().entry(registry.to_owned()).or_default().scheme = Some("http");
                }
                return r;
            }
            other => other,
        };
        if matches!(&result, Ok(_) | Err(AttemptError::Status(_))) {
            self.state().entry(registry.to_owned()).or_default().scheme = Some("https");
        }
        result
    }

    /// One HTTP exchange, the answer read in full: a 2xx body up to `cap` bytes (more is
    /// [`OciError::TooLarge`]), an error body up to 64 KiB (the rest dropped).
    async fn send_raw(
        &self,
        method: Method,
        url: Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        auth: Option<&HeaderValue>,
        (action, target, what, cap): (&'static str, &str, &'static str, u64),
    ) -> Result<Fetched, AttemptError> {
        let mut rb = self.inner.http.request(method.clone(), url.clone());
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        if let Some(a) = auth {
            rb = rb.header(AUTHORIZATION, a.clone());
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let mut resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                if !e.is_connect() {
                    self.inner.requests.fetch_add(1, Ordering::Relaxed);
                }
                debug!(method = %method, url = %url, error = %e, "registry request failed");
                return Err(AttemptError::Transport(e));
            }
        };
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        debug!(method = %method, url = %url, status = status.as_u16(), "registry request");
        let mut buf = Vec::new();
        if method != Method::HEAD {
            if status.is_success() {
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
                buf.reserve(announced.unwrap_or(0).min(cap).min(1 << 20) as usize);
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
            } else {
                // Only for the error codes: read a little, ignore failures.
                while let Ok(Some(chunk)) = resp.chunk().await {
                    let room = (MAX_ERROR_BODY as usize).saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if buf.len() as u64 >= MAX_ERROR_BODY {
                        break;
                    }
                }
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

/// The retry policy of one operation: counts attempts and sleeps between them.
struct Retry<'a> {
    attempt: u32,
    max: u32,
    action: &'static str,
    target: &'a str,
}

impl<'a> Retry<'a> {
    fn new(max: u32, action: &'static str, target: &'a str) -> Self {
        Self {
            attempt: 1,
            max: max.max(1),
            action,
            target,
        }
    }

    /// After a failed attempt: waits and returns `Ok` to try again, or the final error.
    async fn failed(&mut self, e: AttemptError) -> Result<(), OciError> {
        let (action, target, attempt) = (self.action, self.target, self.attempt);
        let delay = match e {
            AttemptError::Fatal(e) => return Err(e),
            AttemptError::Transport(e) => {
                if attempt >= self.max || !is_retryable_error(&e) {
                    return Err(OciError::Transport {
                        action,
                        target: target.to_owned(),
                        attempts: attempt,
                        source: e,
                    });
                }
                debug!(action, target, attempt, error = %e, "retrying after a transport error");
                backoff(attempt, None)
            }
            AttemptError::Status(f) => {
                if attempt >= self.max {
                    return Err(OciError::Status {
                        action,
                        target: target.to_owned(),
                        status: f.status.as_u16(),
                        detail: error_detail(&f.body),
                        attempts: attempt,
                    });
                }
                debug!(
                    action,
                    target,
                    attempt,
                    status = f.status.as_u16(),
                    "retrying"
                );
                backoff(attempt, retry_after(&f.headers))
            }
        };
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        Ok(())
    }
}

enum Upload {
    Done,
    AlreadyThere,
    MountRefused,
}

fn check_data_digest(repo: &Repository, digest: &Digest, data: &[u8]) -> Result<(), OciError> {
    let got = cosign_crypto::hash(digest.algorithm(), data);
    if &got != digest {
        return Err(OciError::DigestMismatch {
            action: "uploading blob",
            target: format!("{repo}@{digest}"),
            expected: digest.clone(),
            actual: got,
        });
    }
    Ok(())
}

fn status_error(req: &Req<'_>, f: &Fetched) -> OciError {
    status_error_n(req, f, f.attempts)
}

fn status_error_n(req: &Req<'_>, f: &Fetched, attempts: u32) -> OciError {
    OciError::Status {
        action: req.action,
        target: req.name.clone(),
        status: f.status.as_u16(),
        detail: error_detail(&f.body),
        attempts,
    }
}

fn is_retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn is_retryable_error(e: &reqwest::Error) -> bool {
    !e.is_builder() && !e.is_redirect() && !is_tls_refusal(e)
}

/// Whether the peer speaks TLS and refused the handshake (certificate not trusted or not for
/// this name, alert received ...): not worth a retry or an http fallback. A peer that
/// answers with something that is not TLS at all (a plain-http registry) is not a refusal. rustls errors arrive wrapped in (nested) `io::Error`s, whose `source()`
/// skips the wrapped error, so those are unwrapped with `get_ref`.
fn is_tls_refusal(e: &reqwest::Error) -> bool {
    fn rustls_error<'a>(
        mut err: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a rustls::Error> {
        loop {
            if let Some(t) = err.downcast_ref::<rustls::Error>() {
                return Some(t);
            }
            err = err.downcast_ref::<std::io::Error>()?.get_ref()?;
        }
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = rustls_error(err)
            && !matches!(t, rustls::Error::InvalidMessage(_))
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Exponential backoff with jitter, or the server's `Retry-After` (capped).
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(MAX_RETRY_AFTER);
    }
    let exp = BASE_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    // Jitter: up to +50%, from the clock's low bits (no need for a random source here).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
    exp + jitter
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The media type of a `Content-Type` header, without parameters.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let mt = v.split(';').next().unwrap_or("").trim();
    (!mt.is_empty()).then(|| mt.to_owned())
}

/// A `Content-Type` that says nothing about the manifest kind (`application/json` ...).
fn is_generic(media_type: &str) -> bool {
    !media_type.starts_with("application/vnd.")
}

fn guess_media_type(body: &[u8]) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Probe {
        manifests: Option<serde::de::IgnoredAny>,
        #[serde(rename = "schemaVersion")]
        _schema_version: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(body) {
        Ok(Probe {
            manifests: Some(_), ..
        }) => OCI_INDEX_MEDIA_TYPE,
        _ => OCI_MANIFEST_MEDIA_TYPE,
    }
}

/// `: CODE: message; CODE: message` from an OCI error body, or a short sanitised snippet of
/// any other body; empty when there is nothing.
fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let clean = |s: &str, n: usize| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(n)
            .collect::<String>()
            .trim()
            .to_owned()
    };
    if let Ok(e) = serde_json::from_slice::<Errors>(body)
        && !e.errors.is_empty()
    {
        let parts: Vec<String> = e
            .errors
            .iter()
            .take(5)
            .map(|x| match (x.code.is_empty(), x.message.is_empty()) {
                (false, false) => format!("{}: {}", clean(&x.code, 64), clean(&x.message, 200)),
                (false, true) => clean(&x.code, 64),
                _ => clean(&x.message, 200),
            })
            .collect();
        return format!(": {}", parts.join("; "));
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let text = clean(&text, 200);
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Whether `url` points at `registry` (same host and port).
fn same_origin(registry: &str, url: &Url) -> bool {
    let Some((host, port)) = split_host_port(registry) else {
        return false;
    };
    let url_host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .unwrap_or("");
    if !url_host.eq_ignore_ascii_case(host) {
        return false;
    }
    match port.and_then(|p| p.parse::<u16>().ok()) {
        Some(p) => url.port_or_known_default() == Some(p),
        // No port in the name: whatever the scheme's default is.
        None => url.port().is_none(),
    }
}

/// The target of the first `Link` with `rel="next"` (RFC 8288).
pub(crate) fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    for value in values {
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let target = &after[..end];
            let params_and_more = &after[end + 1..];
            // Parameters run to the next link (a ',' outside quotes).
            let mut in_quotes = false;
            let mut cut = params_and_more.len();
            for (i, c) in params_and_more.char_indices() {
                match c {
                    '"' => in_quotes = !in_quotes,
                    ',' if !in_quotes => {
                        cut = i;
                        break;
                    }
                    _ => {}
                }
            }
            let params = &params_and_more[..cut];
            for param in params.split(';') {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                {
                    return Some(target.trim().to_owned());
                }
            }
            rest = &params_and_more[cut..];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_types::media_types::{DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE};

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link([r#"</v2/x/tags/list?n=2&last=b>; rel="next""#]),
            Some("/v2/x/tags/list?n=2&last=b".into())
        );
        assert_eq!(
            next_link([
                r#"<https://r/v2/x/tags/list?last=a,b>; rel="prev", <https://r/v2/x/tags/list?last=c>; rel="next""#
            ]),
            Some("https://r/v2/x/tags/list?last=c".into())
        );
        assert_eq!(
            next_link([r#"<a>; title="x, y"; rel=next"#]),
            Some("a".into())
        );
        assert_eq!(next_link([r#"<a>; rel="first last""#]), None);
        assert_eq!(next_link([r#"<a>; rel="prev next""#]), Some("a".into()));
        assert_eq!(
            next_link([r#"<a>; rel="prev""#, r#"<b>; rel=next"#]),
            Some("b".into())
        );
        assert_eq!(next_link(["garbage", "<unterminated"]), None);
        assert_eq!(next_link([""]), None);
    }

    #[test]
    fn origins() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            "127.0.0.1:5000",
            &u("http://127.0.0.1:5000/v2/x")
        ));
        assert!(!same_origin(
            "127.0.0.1:5000",
            &u("http://127.0.0.1:5001/v2/x")
        ));
        assert!(!same_origin("127.0.0.1:5000", &u("http://evil:5000/v2/x")));
        assert!(same_origin("gcr.io", &u("https://gcr.io/v2/")));
        assert!(same_origin("GCR.io", &u("https://gcr.io/v2/")));
        assert!(!same_origin("gcr.io", &u("https://gcr.io:8443/v2/")));
        assert!(same_origin("gcr.io:443", &u("https://gcr.io/v2/")));
        assert!(same_origin("[::1]:5000", &u("http://[::1]:5000/v2/")));
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(
                br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#
            ),
            ": UNSUPPORTED: The operation is unsupported."
        );
        assert_eq!(
            error_detail(b"404 page not found\n"),
            ": 404 page not found"
        );
        assert_eq!(error_detail(b""), "");
        assert_eq!(error_detail(b"a\x1b[31mb"), ": a [31mb");
    }

    #[test]
    fn backoffs() {
        assert_eq!(
            backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(backoff(1, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
        let b1 = backoff(1, None);
        assert!(b1 >= BASE_BACKOFF && b1 <= BASE_BACKOFF * 2);
        let b30 = backoff(30, None);
        assert!(b30 >= MAX_BACKOFF && b30 <= MAX_BACKOFF * 2);
    }

    #[test]
    fn media_types() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
        );
        assert_eq!(content_type(&h).unwrap(), OCI_MANIFEST_MEDIA_TYPE);
        assert!(is_generic("application/json"));
        assert!(!is_generic(OCI_INDEX_MEDIA_TYPE));
        assert_eq!(
            guess_media_type(br#"{"manifests":[]}"#),
            OCI_INDEX_MEDIA_TYPE
        );
        assert_eq!(
            guess_media_type(br#"{"layers":[]}"#),
            OCI_MANIFEST_MEDIA_TYPE
        );
        assert!(MANIFEST_ACCEPT.contains(DOCKER_MANIFEST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(DOCKER_MANIFEST_LIST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(OCI_MANIFEST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(OCI_INDEX_MEDIA_TYPE));
    }

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
