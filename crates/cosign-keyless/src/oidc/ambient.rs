//! Go cosign's ambient OIDC providers (`pkg/providers/*`), each enabled only when its
//! environment says so, in Go cosign 3.1.2's registration order (as printed by its
//! `providers.Providers()`): `filesystem`, `envvar`, `github-actions`, `buildkite-agent`,
//! `spiffe`, `google-workload-identity`, `google-impersonate`.
//!
//! - `filesystem`: the file [`FILESYSTEM_TOKEN_PATH`], when it exists.
//! - `envvar`: `SIGSTORE_ID_TOKEN`, when set (even empty).
//! - `github-actions`: `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
//! - `buildkite-agent`: `BUILDKITE_AGENT_ACCESS_TOKEN` (the agent API's OIDC endpoint).
//! - `spiffe`: a JWT-SVID from the SPIFFE Workload API on the unix socket
//!   `SPIFFE_ENDPOINT_SOCKET` (a path; default [`spiffe::DEFAULT_SOCKET_PATH`]), enabled when
//!   the socket exists ([`super::spiffe`]).
//! - `google-workload-identity`: Google application default credentials' ID token, enabled on
//!   GCE only, and only when a token can be had ([`super::google`]).
//! - `google-impersonate`: the IAM Credentials API's `generateIdToken` for
//!   `GOOGLE_SERVICE_ACCOUNT_NAME`, enabled when that is set ([`super::google`]).
//!
//! As in Go, checking whether `google-workload-identity` is enabled asks for a token (audience
//! `garbage`), so it costs the probes of `metadata.OnGCE` and a request; it is only checked
//! when no provider before it is enabled.

use std::path::PathBuf;

use serde::Deserialize;

use super::OidcError;
use super::google::GoogleEnv;
use super::http::{self, send};
use super::spiffe;
use super::token::sanitize;

/// Where the `filesystem` provider reads a token (Go's `FilesystemTokenPath`).
pub const FILESYSTEM_TOKEN_PATH: &str = "/var/run/sigstore/cosign/oidc-token";

/// Every provider name Go cosign registers, in its order.
pub const PROVIDER_NAMES: [&str; 7] = [
    "filesystem",
    "envvar",
    "github-actions",
    "buildkite-agent",
    "spiffe",
    "google-workload-identity",
    "google-impersonate",
];

/// The default Buildkite agent API (Go's `buildkite.go`).
const BUILDKITE_DEFAULT_ENDPOINT: &str = "https://agent.buildkite.com/v3";

/// The supported providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The token file.
    Filesystem,
    /// `SIGSTORE_ID_TOKEN`.
    EnvVar,
    /// GitHub Actions' OIDC endpoint.
    GitHubActions,
    /// The Buildkite agent API.
    Buildkite,
    /// The SPIFFE Workload API.
    Spiffe,
    /// Google application default credentials (GCE).
    GoogleWorkloadIdentity,
    /// The IAM Credentials API, impersonating `GOOGLE_SERVICE_ACCOUNT_NAME`.
    GoogleImpersonate,
}

impl Provider {
    /// Go's name.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Filesystem => "filesystem",
            Provider::EnvVar => "envvar",
            Provider::GitHubActions => "github-actions",
            Provider::Buildkite => "buildkite-agent",
            Provider::Spiffe => "spiffe",
            Provider::GoogleWorkloadIdentity => "google-workload-identity",
            Provider::GoogleImpersonate => "google-impersonate",
        }
    }
}

/// Every provider, in Go's order.
pub const ORDER: [Provider; 7] = [
    Provider::Filesystem,
    Provider::EnvVar,
    Provider::GitHubActions,
    Provider::Buildkite,
    Provider::Spiffe,
    Provider::GoogleWorkloadIdentity,
    Provider::GoogleImpersonate,
];

/// The provider `--oidc-provider` names.
pub fn by_name(name: &str) -> Result<Provider, OidcError> {
    ORDER
        .iter()
        .find(|p| p.name() == name)
        .copied()
        .ok_or_else(|| OidcError::UnknownProvider(name.to_owned()))
}

/// What the ambient providers look at. The CLI fills it from the process environment
/// ([`AmbientEnv::from_lookup`]); tests set the fields.
#[derive(Clone, Default)]
pub struct AmbientEnv {
    /// `SIGSTORE_ID_TOKEN` (set, even empty, enables `envvar`).
    pub sigstore_id_token: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub github_request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub github_request_token: Option<String>,
    /// `BUILDKITE_AGENT_ACCESS_TOKEN`.
    pub buildkite_agent_token: Option<String>,
    /// `BUILDKITE_AGENT_ENDPOINT` (default `https://agent.buildkite.com/v3`).
    pub buildkite_endpoint: Option<String>,
    /// `BUILDKITE_JOB_ID`.
    pub buildkite_job_id: Option<String>,
    /// The `filesystem` provider's file (default [`FILESYSTEM_TOKEN_PATH`]; `None`: off).
    pub token_file: Option<PathBuf>,
    /// `SPIFFE_ENDPOINT_SOCKET`: the Workload API socket's path (set and non-empty: wins over
    /// `spiffe_default_socket`).
    pub spiffe_endpoint_socket: Option<String>,
    /// The socket used without `SPIFFE_ENDPOINT_SOCKET` (default
    /// [`spiffe::DEFAULT_SOCKET_PATH`]; `None`: none).
    pub spiffe_default_socket: Option<PathBuf>,
    /// `GOOGLE_SERVICE_ACCOUNT_NAME` (non-empty enables `google-impersonate`).
    pub google_service_account_name: Option<String>,
    /// Google credentials and the GCE metadata server.
    pub google: GoogleEnv,
}

impl std::fmt::Debug for AmbientEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| v.as_ref().map(|_| "[set]");
        f.debug_struct("AmbientEnv")
            .field("sigstore_id_token", &set(&self.sigstore_id_token))
            .field("github_request_url", &self.github_request_url)
            .field("github_request_token", &set(&self.github_request_token))
            .field("buildkite_agent_token", &set(&self.buildkite_agent_token))
            .field("buildkite_endpoint", &self.buildkite_endpoint)
            .field("buildkite_job_id", &self.buildkite_job_id)
            .field("token_file", &self.token_file)
            .field("spiffe_endpoint_socket", &self.spiffe_endpoint_socket)
            .field("spiffe_default_socket", &self.spiffe_default_socket)
            .field(
                "google_service_account_name",
                &self.google_service_account_name,
            )
            .field("google", &self.google)
            .finish()
    }
}

impl AmbientEnv {
    /// Reads the variables through `lookup` (e.g. `|k| std::env::var(k).ok()`); the token file
    /// is [`FILESYSTEM_TOKEN_PATH`], the SPIFFE socket defaults to
    /// [`spiffe::DEFAULT_SOCKET_PATH`], gcloud's credentials file is under `home`, and the GCE
    /// metadata server is probed at its documented address.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        home: Option<PathBuf>,
    ) -> AmbientEnv {
        AmbientEnv {
            sigstore_id_token: lookup("SIGSTORE_ID_TOKEN"),
            github_request_url: lookup("ACTIONS_ID_TOKEN_REQUEST_URL"),
            github_request_token: lookup("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            buildkite_agent_token: lookup("BUILDKITE_AGENT_ACCESS_TOKEN"),
            buildkite_endpoint: lookup("BUILDKITE_AGENT_ENDPOINT"),
            buildkite_job_id: lookup("BUILDKITE_JOB_ID"),
            token_file: Some(PathBuf::from(FILESYSTEM_TOKEN_PATH)),
            spiffe_endpoint_socket: lookup("SPIFFE_ENDPOINT_SOCKET"),
            spiffe_default_socket: Some(PathBuf::from(spiffe::DEFAULT_SOCKET_PATH)),
            google_service_account_name: lookup("GOOGLE_SERVICE_ACCOUNT_NAME"),
            google: GoogleEnv {
                application_credentials: lookup("GOOGLE_APPLICATION_CREDENTIALS")
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from),
                well_known_file: home
                    .filter(|h| !h.as_os_str().is_empty())
                    .map(|h| h.join(".config/gcloud/application_default_credentials.json")),
                gce: Some(super::google::GceEnv {
                    metadata_host: lookup("GCE_METADATA_HOST"),
                    ..super::google::GceEnv::default()
                }),
                iam_credentials_endpoint: None,
                on_gce_cache: Default::default(),
            },
        }
    }

    /// The Workload API socket (Go's `getSocketPath`).
    pub fn spiffe_socket(&self) -> Option<PathBuf> {
        match self.spiffe_endpoint_socket.as_deref() {
            Some(s) if !s.is_empty() => Some(PathBuf::from(s)),
            _ => self.spiffe_default_socket.clone(),
        }
    }

    /// Whether `provider` is enabled (Go's `Enabled`).
    pub async fn enabled(&self, provider: Provider) -> bool {
        let non_empty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match provider {
            Provider::Filesystem => self
                .token_file
                .as_ref()
                .is_some_and(|p| std::fs::metadata(p).is_ok()),
            Provider::EnvVar => self.sigstore_id_token.is_some(),
            Provider::GitHubActions => {
                non_empty(&self.github_request_url) && non_empty(&self.github_request_token)
            }
            Provider::Buildkite => non_empty(&self.buildkite_agent_token),
            Provider::Spiffe => self
                .spiffe_socket()
                .is_some_and(|p| std::fs::metadata(p).is_ok()),
            Provider::GoogleWorkloadIdentity => {
                self.google.on_gce().await
                    && self.google.workload_identity_token("garbage").await.is_ok()
            }
            Provider::GoogleImpersonate => non_empty(&self.google_service_account_name),
        }
    }

    /// Whether any provider is enabled (in order, stopping at the first, as Go).
    pub async fn any_enabled(&self) -> bool {
        for provider in ORDER {
            if self.enabled(provider).await {
                return true;
            }
        }
        false
    }

    /// Asks the enabled providers in order; the first answer wins, else the last error.
    pub async fn provide_first(&self, audience: &str) -> Result<(&'static str, String), OidcError> {
        let mut last = None;
        for provider in ORDER {
            if !self.enabled(provider).await {
                continue;
            }
            match self.provide(provider, audience).await {
                Ok(token) => return Ok((provider.name(), token)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| OidcError::Ambient {
            provider: "none",
            detail: "no providers are enabled".into(),
        }))
    }

    /// One provider's token for `audience` (whether enabled or not, as Go's `ProvideFrom`).
    pub async fn provide(&self, provider: Provider, audience: &str) -> Result<String, OidcError> {
        let fail = |detail: String| OidcError::Ambient {
            provider: provider.name(),
            detail,
        };
        match provider {
            Provider::Filesystem => {
                let path = self.token_file.clone().unwrap_or_default();
                let bytes = std::fs::read(&path)
                    .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
                String::from_utf8(bytes).map_err(|_| fail("the token file is not UTF-8".into()))
            }
            Provider::EnvVar => Ok(self.sigstore_id_token.clone().unwrap_or_default()),
            Provider::GitHubActions => self.github(audience).await.map_err(fail),
            Provider::Buildkite => self.buildkite(audience).await.map_err(fail),
            Provider::Spiffe => {
                let socket = self.spiffe_socket().unwrap_or_default();
                spiffe::fetch_jwt_svid(&socket, audience)
                    .await
                    .map_err(fail)
            }
            Provider::GoogleWorkloadIdentity => self
                .google
                .workload_identity_token(audience)
                .await
                .map_err(fail),
            Provider::GoogleImpersonate => self
                .google
                .impersonated_id_token(
                    self.google_service_account_name
                        .as_deref()
                        .unwrap_or_default(),
                    audience,
                )
                .await
                .map_err(fail),
        }
    }

    /// GET `ACTIONS_ID_TOKEN_REQUEST_URL&audience=A` with `Authorization: bearer T`; the answer
    /// is `{"value": JWT}`. Transport failures are retried twice, a second apart (as Go).
    async fn github(&self, audience: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Payload {
            #[serde(default)]
            value: String,
        }
        let url = format!(
            "{}&audience={audience}",
            self.github_request_url.as_deref().unwrap_or_default()
        );
        let bearer = format!(
            "bearer {}",
            self.github_request_token.as_deref().unwrap_or_default()
        );
        let client = http::client().map_err(|e| e.to_string())?;
        let what = "the GitHub Actions OIDC token endpoint";
        let mut attempt = 0;
        let answer = loop {
            let request = client
                .get(&url)
                .header(reqwest::header::AUTHORIZATION, &bearer);
            match send(request, what).await {
                Ok(answer) => break answer,
                Err(OidcError::Http { .. }) if attempt < 2 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        if !answer.status.is_success() {
            return Err(answer.status_error(what).to_string());
        }
        let payload: Payload = answer.json(what).map_err(|e| e.to_string())?;
        if payload.value.is_empty() {
            return Err(format!("{what}: the answer has no token (\"value\")"));
        }
        Ok(payload.value)
    }

    /// POST `{endpoint}/jobs/{job}/oidc/tokens` with `Authorization: Token T` and
    /// `{"audience": A}`; the answer is `{"token": JWT}` (the Buildkite agent API).
    async fn buildkite(&self, audience: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Payload {
            #[serde(default)]
            token: String,
        }
        let endpoint = self
            .buildkite_endpoint
            .as_deref()
            .filter(|e| !e.is_empty())
            .unwrap_or(BUILDKITE_DEFAULT_ENDPOINT)
            .trim_end_matches('/');
        let job: String = form_urlencoded::byte_serialize(
            self.buildkite_job_id
                .as_deref()
                .unwrap_or_default()
                .as_bytes(),
        )
        .collect();
        let url = format!("{endpoint}/jobs/{job}/oidc/tokens");
        let client = http::client().map_err(|e| e.to_string())?;
        let what = "the Buildkite agent OIDC endpoint";
        let request = client
            .post(url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!(
                    "Token {}",
                    self.buildkite_agent_token.as_deref().unwrap_or_default()
                ),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({ "audience": audience }).to_string());
        let answer = send(request, what).await.map_err(|e| e.to_string())?;
        if !answer.status.is_success() {
            return Err(format!(
                "buildkite agent request failed with status: {}",
                sanitize(&answer.status.to_string())
            ));
        }
        let payload: Payload = answer.json(what).map_err(|e| e.to_string())?;
        if payload.token.is_empty() {
            return Err(format!("{what}: the answer has no token"));
        }
        Ok(payload.token)
    }
}
