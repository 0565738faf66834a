//! Registry authentication: `WWW-Authenticate` challenges, credentials, tokens, and the
//! flow that decides what to send.
//!
//! The parts that need no network come first: parsing challenges (RFC 7235 auth-params),
//! the credential kinds, and the token endpoint's answer. Then the flow ([`Auth`]): what to
//! send up front (what the registry's last challenge asked for), how to answer a 401 (Basic
//! credentials, or a bearer token: challenge -> token request -> token service -> cache) and
//! where credentials come from (the explicit options, else the docker config). Token
//! requests go out through the client's [`Transport`]; this module is the only reader of
//! credentials and challenges.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use crate::OciError;
use crate::client::transport::{Fetched, Req, Transport, error_detail};
use crate::docker_config::DockerConfig;
use crate::reference::scheme;

mod challenge;
use challenge::{Challenge, parse_challenges};

/// A secret string: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Credential {
    /// Username and password: Basic auth, or Basic auth at the token endpoint.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (docker `identitytoken`, helper user `<token>`), exchanged at
    /// the token endpoint with a POST.
    IdentityToken(Secret),
    /// A bearer token sent as it is (`--registry-token`, docker `registrytoken`).
    RegistryToken(Secret),
}

impl Credential {
    /// `Basic base64(user:pass)`, for Basic credentials.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.0))
            )),
            _ => None,
        }
    }
}

/// The token endpoint's JSON answer (Docker token spec and OAuth2).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Tokens live at least this long when the server does not say (Docker token spec: 60 s).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

impl TokenResponse {
    /// The token (`token`, else `access_token`) and how long it may be used.
    pub(crate) fn into_token(self) -> Option<(Secret, Duration)> {
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))?;
        let lifetime = self
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .max(DEFAULT_TOKEN_LIFETIME);
        // Leave a margin so a token does not expire between check and use.
        Some((
            Secret(token),
            lifetime.saturating_sub(Duration::from_secs(10)),
        ))
    }
}

/// `repository:<path>:pull` or `repository:<path>:pull,push`.
pub(crate) fn repository_scope(path: &str, push: bool) -> String {
    if push {
        format!("repository:{path}:pull,push")
    } else {
        format!("repository:{path}:pull")
    }
}

/// The scopes to ask for: ours plus any the challenge names, deduplicated, in a stable order
/// (the order is part of the token cache key).
pub(crate) fn merge_scopes(ours: &[String], challenge: Option<&str>) -> Vec<String> {
    let mut all: Vec<String> = ours.to_vec();
    if let Some(c) = challenge {
        for s in c.split(' ').filter(|s| !s.is_empty()) {
            if !all.iter().any(|x| x == s) {
                all.push(s.to_owned());
            }
        }
    }
    all.sort();
    all.dedup();
    all
}

// ----- the flow --------------------------------------------------------------------------

/// The largest token endpoint answer read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;

type Slot<T> = Arc<tokio::sync::OnceCell<T>>;
type TokenSlot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

struct CachedToken {
    token: Secret,
    expires: Instant,
}

/// The authentication state of a client, shared by its clones: the explicit credentials,
/// the docker config (read once), the credentials resolved per registry, the challenge each
/// registry sent last and the bearer tokens per registry and scope.
pub(crate) struct Auth {
    explicit: Option<Credential>,
    docker_config_path: Option<PathBuf>,
    docker_config: tokio::sync::OnceCell<Option<Arc<DockerConfig>>>,
    credentials: Mutex<HashMap<String, Slot<Option<Credential>>>>,
    challenges: Mutex<HashMap<String, Challenge>>,
    tokens: Mutex<HashMap<(String, String), TokenSlot>>,
}

/// The `Authorization` value sent, and the bearer token in it (to tell a stale token).
#[derive(Clone)]
pub(crate) struct AuthHeader {
    value: HeaderValue,
    bearer: Option<Secret>,
}

impl AuthHeader {
    /// The header value.
    pub(crate) fn value(&self) -> &HeaderValue {
        &self.value
    }

    /// Whether this is a bearer token (else Basic credentials).
    pub(crate) fn is_bearer(&self) -> bool {
        self.bearer.is_some()
    }

    fn bearer(token: &Secret) -> Result<Self, OciError> {
        Ok(Self {
            value: auth_value(&format!("Bearer {}", token.0))?,
            bearer: Some(token.clone()),
        })
    }

    /// What to send for `credential` to a registry that asked for Basic auth: the Basic
    /// header, or a registry token as bearer; `None` for an identity token.
    fn for_basic(credential: &Credential) -> Result<Option<Self>, OciError> {
        match credential {
            Credential::RegistryToken(t) => Self::bearer(t).map(Some),
            c @ Credential::Basic { .. } => c
                .basic_header()
                .map(|h| {
                    Ok(Self {
                        value: auth_value(&h)?,
                        bearer: None,
                    })
                })
                .transpose(),
            Credential::IdentityToken(_) => Ok(None),
        }
    }
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

/// The token scopes of `req`: its repository (`pull`, or `pull,push`), and the repository
/// a mount reads from.
fn scopes(req: &Req<'_>) -> Vec<String> {
    let mut scopes = vec![repository_scope(req.repo.path(), req.push)];
    if let Some(from) = req.also_pulls {
        scopes.push(repository_scope(from.path(), false));
    }
    scopes
}

/// A token request to make: where, and what the errors name.
struct TokenRequest<'r> {
    realm: Url,
    realm_host: String,
    service: Option<&'r str>,
    scopes: &'r [String],
    /// `<realm> for <repository>`.
    target: String,
}

const TOKEN_ACTION: &str = "requesting a registry token";

impl Auth {
    /// The state for a client: explicit credentials are a username with a password, else a
    /// registry token (empty values are ignored); the docker config at `docker_config` is
    /// read when credentials are first needed.
    pub(crate) fn new(
        username: Option<&str>,
        password: Option<&str>,
        token: Option<&str>,
        docker_config: Option<PathBuf>,
    ) -> Self {
        let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        let explicit = match (non_empty(username), non_empty(password), non_empty(token)) {
            (Some(username), Some(password), _) => Some(Credential::Basic {
                username,
                password: Secret(password),
            }),
            (_, _, Some(token)) => Some(Credential::RegistryToken(Secret(token))),
            _ => None,
        };
        Self {
            explicit,
            docker_config_path: docker_config,
            docker_config: tokio::sync::OnceCell::new(),
            credentials: Mutex::new(HashMap::new()),
            challenges: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn challenges(&self) -> MutexGuard<'_, HashMap<String, Challenge>> {
        self.challenges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What to send with `req` before any challenge: a registry token, or what the
    /// registry's last challenge asked for; `None` = go anonymously.
    pub(crate) async fn upfront(
        &self,
        t: &Transport,
        req: &Req<'_>,
    ) -> Result<Option<AuthHeader>, OciError> {
        if let Some(Credential::RegistryToken(token)) = &self.explicit {
            return AuthHeader::bearer(token).map(Some);
        }
        let challenge = self.challenges().get(req.repo.registry()).cloned();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => match self.credentials(req.repo.registry()).await? {
                Some(c) => AuthHeader::for_basic(&c),
                None => Ok(None),
            },
            Some(Challenge::Bearer { realm, service, .. }) => self
                .bearer(t, req, &realm, service.as_deref(), None, None)
                .await
                .map(Some),
        }
    }

    /// The answer to a 401 with `headers` (after `sent`): the challenge is remembered for
    /// the registry, then answered with Basic credentials or a (fresh) bearer token.
    pub(crate) async fn answer(
        &self,
        t: &Transport,
        req: &Req<'_>,
        headers: &HeaderMap,
        sent: Option<&AuthHeader>,
    ) -> Result<AuthHeader, OciError> {
        if matches!(self.explicit, Some(Credential::RegistryToken(_))) {
            return Err(req.unauthorized("the registry refused the registry token".into()));
        }
        let challenge = parse_challenges(
            headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let Some(challenge) = challenge else {
            return Err(req.unauthorized(
                "the registry answered 401 without a Basic or Bearer challenge".into(),
            ));
        };
        self.challenges()
            .insert(req.repo.registry().to_owned(), challenge.clone());
        match challenge {
            Challenge::Basic => {
                let Some(credential) = self.credentials(req.repo.registry()).await? else {
                    return Err(req.unauthorized(
                        "authentication required and no credentials are configured".into(),
                    ));
                };
                let Some(header) = AuthHeader::for_basic(&credential)? else {
                    return Err(req.unauthorized(
                        "the registry wants Basic auth but only an identity token is configured"
                            .into(),
                    ));
                };
                if sent.is_some_and(|s| s.value == header.value) {
                    return Err(req.unauthorized("the registry refused the credentials".into()));
                }
                Ok(header)
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let stale = sent.and_then(|s| s.bearer.as_ref());
                self.bearer(t, req, &realm, service.as_deref(), scope.as_deref(), stale)
                    .await
            }
        }
    }

    /// A bearer token for `req`'s scopes (plus `extra_scope` from a fresh challenge): from the
    /// cache unless it is `stale` or expired, else from the token service. Concurrent callers
    /// for one scope wait for a single fetch.
    async fn bearer(
        &self,
        t: &Transport,
        req: &Req<'_>,
        realm: &str,
        service: Option<&str>,
        extra_scope: Option<&str>,
        stale: Option<&Secret>,
    ) -> Result<AuthHeader, OciError> {
        let registry = req.repo.registry();
        let creds = self.credentials(registry).await?;
        if let Some(Credential::RegistryToken(token)) = &creds {
            return AuthHeader::bearer(token);
        }
        let scopes = merge_scopes(&scopes(req), extra_scope);
        let slot = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((registry.to_owned(), scopes.join(" ")))
            .or_default()
            .clone();
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expires > Instant::now()
            && stale != Some(&c.token)
        {
            return AuthHeader::bearer(&c.token);
        }
        let token_req = token_request(t, req, realm, service, &scopes)?;
        let answer = self.fetch_token(t, &token_req, creds.as_ref()).await?;
        let (token, lifetime) = read_token(req, &token_req, &answer, creds.is_some())?;
        let header = AuthHeader::bearer(&token)?;
        *cached = Some(CachedToken {
            token,
            expires: Instant::now() + lifetime,
        });
        Ok(header)
    }

    /// Asks the token service: an OAuth2 refresh-token POST with an identity token (falling
    /// back to GET where the service does not speak OAuth2), else a GET, with Basic
    /// credentials when there are some.
    async fn fetch_token(
        &self,
        t: &Transport,
        tr: &TokenRequest<'_>,
        creds: Option<&Credential>,
    ) -> Result<Fetched, OciError> {
        let ctx = (
            TOKEN_ACTION,
            tr.target.as_str(),
            "token response",
            MAX_TOKEN_BYTES,
        );
        if let Some(Credential::IdentityToken(refresh)) = creds {
            // The serializer is not `Send`: finish it before any await.
            let body = {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", &refresh.0)
                    .append_pair("client_id", "cosign");
                if let Some(s) = tr.service {
                    form.append_pair("service", s);
                }
                if !tr.scopes.is_empty() {
                    form.append_pair("scope", &tr.scopes.join(" "));
                }
                Bytes::from(form.finish())
            };
            let form_type = HeaderValue::from_static("application/x-www-form-urlencoded");
            let f = t
                .exchange(
                    Method::POST,
                    &tr.realm,
                    &[(CONTENT_TYPE, form_type)],
                    Some(body),
                    None,
                    ctx,
                )
                .await?;
            // Not every token service speaks OAuth2: fall back to GET as the spec says.
            if !matches!(
                f.status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) {
                return Ok(f);
            }
        }
        let mut url = tr.realm.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = tr.service {
                q.append_pair("service", s);
            }
            for s in tr.scopes {
                q.append_pair("scope", s);
            }
        }
        let basic = match creds {
            Some(c @ Credential::Basic { .. }) => {
                c.basic_header().map(|h| auth_value(&h)).transpose()?
            }
            _ => None,
        };
        t.exchange(Method::GET, &url, &[], None, basic.as_ref(), ctx)
            .await
    }

    /// The credentials for `registry`: the explicit options, else the docker config (read and
    /// resolved once per registry).
    async fn credentials(&self, registry: &str) -> Result<Option<Credential>, OciError> {
        if let Some(c) = &self.explicit {
            return Ok(Some(c.clone()));
        }
        let Some(path) = &self.docker_config_path else {
            return Ok(None);
        };
        let slot = self
            .credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(registry.to_owned())
            .or_default()
            .clone();
        slot.get_or_try_init(|| async {
            let config = self
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
}

fn invalid_token_answer(req: &Req<'_>, reason: String) -> OciError {
    OciError::InvalidResponse {
        action: TOKEN_ACTION,
        target: format!("for {}", req.repo),
        reason,
        source: None,
    }
}

/// The token request for a Bearer challenge: its realm must be an https URL (or http where
/// http is allowed for the registry, or the realm is a local address).
fn token_request<'r>(
    t: &Transport,
    req: &Req<'_>,
    realm: &str,
    service: Option<&'r str>,
    scopes: &'r [String],
) -> Result<TokenRequest<'r>, OciError> {
    let realm_url = Url::parse(realm).map_err(|_| {
        invalid_token_answer(req, format!("the token realm {realm:?} is not a URL"))
    })?;
    let realm_host = realm_url.host_str().unwrap_or_default().to_owned();
    match realm_url.scheme() {
        "https" => {}
        "http" if t.http_allowed(req.repo.registry()) || scheme(&realm_host, false) == "http" => {}
        _ => {
            return Err(invalid_token_answer(
                req,
                format!(
                    "the token realm {realm:?} is not https (allow http for this registry to use it)"
                ),
            ));
        }
    }
    Ok(TokenRequest {
        target: format!("{} for {}", realm_url, req.repo),
        realm: realm_url,
        realm_host,
        service,
        scopes,
    })
}

/// The token and its lifetime from the token service's answer `f`.
fn read_token(
    req: &Req<'_>,
    tr: &TokenRequest<'_>,
    f: &Fetched,
    with_credentials: bool,
) -> Result<(Secret, Duration), OciError> {
    match f.status {
        StatusCode::OK => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            let who = if with_credentials {
                "the credentials"
            } else {
                "anonymous access"
            };
            return Err(OciError::Unauthorized {
                action: TOKEN_ACTION,
                target: tr.target.clone(),
                registry: req.repo.registry().to_owned(),
                repository: req.repo.path().to_owned(),
                reason: format!(
                    "the token service {} refused {who} (HTTP {}){}",
                    tr.realm_host,
                    f.status.as_u16(),
                    error_detail(&f.body)
                ),
            });
        }
        s => {
            return Err(OciError::Status {
                action: TOKEN_ACTION,
                target: tr.target.clone(),
                status: s.as_u16(),
                detail: error_detail(&f.body),
                attempts: f.attempts,
            });
        }
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&f.body).map_err(|e| OciError::InvalidResponse {
            action: TOKEN_ACTION,
            target: tr.target.clone(),
            reason: "the token answer is not JSON".into(),
            source: Some(Box::new(e)),
        })?;
    parsed
        .into_token()
        .ok_or_else(|| invalid_token_answer(req, "the token answer has no token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::Basic {
            username: "u".into(),
            password: Secret("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.basic_header().unwrap(), "Basic dTpodW50ZXIy");
        let t = Credential::IdentityToken(Secret("refresh".into()));
        assert!(!format!("{t:?}").contains("refresh"));
        assert!(t.basic_header().is_none());
    }

    #[test]
    fn token_responses() {
        let t: TokenResponse = serde_json::from_str(r#"{"token":"a","expires_in":300}"#).unwrap();
        let (tok, life) = t.into_token().unwrap();
        assert_eq!(tok.0, "a");
        assert_eq!(life, Duration::from_secs(290));
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"b"}"#).unwrap();
        assert_eq!(t.into_token().unwrap().0.0, "b");
        let t: TokenResponse = serde_json::from_str(r#"{"token":"","access_token":"c"}"#).unwrap();
        assert_eq!(t.into_token().unwrap().0.0, "c");
        let t: TokenResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert!(t.into_token().is_none());
    }

    #[test]
    fn scopes() {
        assert_eq!(repository_scope("a/b", false), "repository:a/b:pull");
        assert_eq!(repository_scope("a/b", true), "repository:a/b:pull,push");
        let merged = merge_scopes(
            &["repository:a:pull,push".into()],
            Some("repository:b:pull repository:a:pull,push"),
        );
        assert_eq!(
            merged,
            vec![
                "repository:a:pull,push".to_owned(),
                "repository:b:pull".into()
            ]
        );
    }
}
