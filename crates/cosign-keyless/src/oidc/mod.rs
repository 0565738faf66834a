//! OIDC identity tokens for keyless signing, in Go cosign 3.1.2's order
//! (`internal/auth.RetrieveIDToken`):
//!
//! 1. `--identity-token`: a JWT, or a path to a file holding one ([`token_or_path`]).
//! 2. The ambient providers, unless `--oidc-disable-ambient-providers`; in the order Go cosign
//!    registers them: `filesystem` (`/var/run/sigstore/cosign/oidc-token`), `envvar`
//!    (`SIGSTORE_ID_TOKEN`), `github-actions`, `buildkite-agent`, `spiffe` (the SPIFFE Workload
//!    API), `google-workload-identity` (GCE / Google application default credentials),
//!    `google-impersonate` (IAM Credentials `generateIdToken`); see [`ambient`]. The first
//!    enabled provider that answers wins; if all enabled ones fail, the last error is returned.
//!    `--oidc-provider NAME` asks one provider (when any is enabled, as Go).
//! 3. The interactive flow ([`AuthFlow`]) against the issuer's discovery document.
//!
//! Every token obtained is parsed for its claims and refused when expired. No error and no
//! `Debug` output holds a token, a client secret or a request token.

pub mod ambient;
mod flows;
pub mod google;
pub mod http;
pub mod spiffe;
mod token;

use std::path::PathBuf;
use std::time::Duration;

pub use ambient::{AmbientEnv, FILESYSTEM_TOKEN_PATH, PROVIDER_NAMES};
pub use flows::{choose_flow, redirect_listener};
pub use token::{Claims, IdentityToken};

/// The default OIDC issuer (`--oidc-issuer`).
pub const DEFAULT_OIDC_ISSUER: &str = "https://oauth2.sigstore.dev/auth";
/// The default client id (`--oidc-client-id`).
pub const DEFAULT_CLIENT_ID: &str = "sigstore";
/// The audience ambient providers are asked for.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// Errors. None of them holds a token.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// `--identity-token` is neither a JWT nor a readable file (the value is not repeated).
    #[error("--identity-token is neither a JWT nor a readable file: {0}")]
    TokenOrPath(String),
    /// The token is not a compact JWS.
    #[error("the identity token is not a JWT")]
    NotAJwt,
    /// The claims could not be read or name no identity.
    #[error("identity token: {0}")]
    Claims(String),
    /// The token has expired.
    #[error(
        "the identity token of {identity} from {issuer} expired at {expired_at} (Unix seconds)"
    )]
    Expired {
        /// `iss`.
        issuer: String,
        /// The email or subject.
        identity: String,
        /// `exp`.
        expired_at: i64,
    },
    /// A flow's token failed verification.
    #[error("invalid identity token: {0}")]
    InvalidToken(String),
    /// An ambient provider failed.
    #[error("fetching ambient OIDC credentials: {provider}: {detail}")]
    Ambient {
        /// The provider's Go name.
        provider: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// `--oidc-provider` names no provider.
    #[error("{0} is not a valid provider")]
    UnknownProvider(String),
    /// A transport failure.
    #[error("{what}: {detail}")]
    Http {
        /// The request.
        what: String,
        /// The error (URLs and tokens left out).
        detail: String,
    },
    /// A server answered something unusable.
    #[error("{what}: {detail}")]
    BadResponse {
        /// The answer.
        what: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The interactive flow failed.
    #[error("{0}")]
    Flow(String),
    /// `--fulcio-auth-flow` names no flow.
    #[error("unsupported oauth flow: {0}")]
    UnknownFlow(String),
    /// A local I/O failure (client secret file, redirect listener).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// `--fulcio-auth-flow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFlow {
    /// Browser: authorization code + PKCE, redirect to a loopback listener.
    Normal,
    /// RFC 8628 device authorization grant (+ PKCE).
    Device,
    /// The `client_credentials` grant (needs a client secret).
    ClientCredentials,
    /// A given token (Go reaches it only without one, and fails).
    Token,
}

impl std::str::FromStr for AuthFlow {
    type Err = OidcError;
    fn from_str(s: &str) -> Result<AuthFlow, OidcError> {
        match s {
            "normal" => Ok(AuthFlow::Normal),
            "device" => Ok(AuthFlow::Device),
            "client_credentials" => Ok(AuthFlow::ClientCredentials),
            "token" => Ok(AuthFlow::Token),
            other => Err(OidcError::UnknownFlow(other.to_owned())),
        }
    }
}

/// The `--oidc-*` options.
#[derive(Clone)]
pub struct OidcOptions {
    /// `--oidc-issuer` (or the signing config's OIDC service).
    pub issuer: String,
    /// `--oidc-client-id`.
    pub client_id: String,
    /// The content of `--oidc-client-secret-file` ([`OidcOptions::read_client_secret`]).
    pub client_secret: Option<String>,
    /// `--oidc-redirect-url` (default: `http://localhost:PORT/auth/callback`, a free port).
    pub redirect_url: Option<String>,
    /// `--oidc-provider`.
    pub provider: Option<String>,
    /// `--oidc-disable-ambient-providers`.
    pub disable_ambient_providers: bool,
}

impl std::fmt::Debug for OidcOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcOptions")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("provider", &self.provider)
            .field("disable_ambient_providers", &self.disable_ambient_providers)
            .finish()
    }
}

impl Default for OidcOptions {
    fn default() -> OidcOptions {
        OidcOptions {
            issuer: DEFAULT_OIDC_ISSUER.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: None,
            redirect_url: None,
            provider: None,
            disable_ambient_providers: false,
        }
    }
}

impl OidcOptions {
    /// Reads `--oidc-client-secret-file` as Go does: UTF-8, surrounding whitespace trimmed.
    pub fn read_client_secret(path: &std::path::Path) -> Result<String, OidcError> {
        let bytes = std::fs::read(path).map_err(|source| OidcError::Io {
            what: "reading OIDC client secret".into(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            OidcError::Flow(format!(
                "OIDC client secret in file {} not valid utf8",
                path.display()
            ))
        })?;
        Ok(text.trim().to_owned())
    }
}

/// What the user sees and does during an interactive flow. The CLI implements it (stderr,
/// `xdg-open`); tests play the user.
pub trait Interaction: Send + Sync {
    /// A line for the user (the authorization URL, the device code...).
    fn message(&self, text: &str);
    /// Opens `url` in a browser; `Err` (why) when none can be opened, and the flow then
    /// prints the URL and keeps waiting for the redirect.
    fn open_browser(&self, url: &str) -> Result<(), String>;
}

/// Everything [`retrieve_id_token`] needs.
pub struct IdTokenRequest<'a> {
    /// `--identity-token` (empty: none).
    pub token_or_path: &'a str,
    /// The `--oidc-*` options.
    pub options: OidcOptions,
    /// `--fulcio-auth-flow`, or the flow [`choose_flow`] picked.
    pub flow: AuthFlow,
    /// The environment the ambient providers look at.
    pub ambient: AmbientEnv,
    /// The user side of the interactive flows.
    pub interaction: &'a dyn Interaction,
    /// How long the browser flow waits for the redirect (Go: 120 s).
    pub browser_timeout: Duration,
    /// One "second" of the device flow's polling interval (1 s; shorter in tests).
    pub poll_second: Duration,
}

/// Where a token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `--identity-token` (the value or the file).
    Flag,
    /// An ambient provider, by its Go name.
    Ambient(&'static str),
    /// An interactive flow.
    Flow(AuthFlow),
}

/// Reads `--identity-token`: a JWT as is, else the content of the file it names. Empty: none.
/// (Go treats only RS256-signed JWTs as tokens and tries any other value as a path; here any
/// compact JWS counts.)
pub fn token_or_path(value: &str) -> Result<Option<String>, OidcError> {
    if value.is_empty() {
        return Ok(None);
    }
    if token::split_jws(value.trim()).is_some() {
        return Ok(Some(value.trim().to_owned()));
    }
    match std::fs::read(PathBuf::from(value)) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(|s| Some(s.trim().to_owned()))
            .map_err(|_| OidcError::TokenOrPath("the file is not UTF-8".into())),
        Err(e) => Err(OidcError::TokenOrPath(e.kind().to_string())),
    }
}

/// The current time in Unix seconds.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Gets an identity token from the first source that has one (see the module docs), parses
/// its claims and refuses it when expired.
pub async fn retrieve_id_token(
    request: &IdTokenRequest<'_>,
) -> Result<(IdentityToken, TokenSource), OidcError> {
    let (raw, source) = match token_or_path(request.token_or_path)? {
        Some(raw) if !raw.is_empty() => (raw, TokenSource::Flag),
        _ => match ambient_token(request).await? {
            Some((raw, provider)) => (raw, TokenSource::Ambient(provider)),
            None => {
                let token = flows::run(request).await?;
                token.check_not_expired(now_unix())?;
                return Ok((token, TokenSource::Flow(request.flow)));
            }
        },
    };
    let token = IdentityToken::parse(&raw)?;
    token.check_not_expired(now_unix())?;
    Ok((token, source))
}

/// The ambient step: `None` when disabled, when no provider is enabled, or when the provider
/// answered an empty token (Go then goes on to the interactive flow).
async fn ambient_token(
    request: &IdTokenRequest<'_>,
) -> Result<Option<(String, &'static str)>, OidcError> {
    let env = &request.ambient;
    if request.options.disable_ambient_providers || !env.any_enabled().await {
        return Ok(None);
    }
    let found = match request
        .options
        .provider
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        Some(name) => {
            let provider = ambient::by_name(name)?;
            (
                provider.name(),
                env.provide(provider, SIGSTORE_AUDIENCE).await?,
            )
        }
        None => env.provide_first(SIGSTORE_AUDIENCE).await?,
    };
    let (name, raw) = found;
    Ok((!raw.trim().is_empty()).then(|| (raw.trim().to_owned(), name)))
}
