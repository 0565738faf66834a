//! Go cosign's ambient OIDC providers (`pkg/providers/*`), each enabled only when its
//! environment says so, in Go cosign 3.1.2's registration order (as printed by its
//! `providers.Providers()`): `filesystem`, `envvar`, `github-actions`, `buildkite-agent`,
//! `spiffe`, `google-workload-identity`, `google-impersonate`.
//!
//! Not supported here: `spiffe` (a gRPC Workload API client on a unix socket) and the two
//! Google providers (the GCE metadata server / the IAM credentials impersonation API with
//! Google application default credentials). They count as disabled; naming them in
//! `--oidc-provider` fails with [`OidcError::UnsupportedProvider`].

use std::path::PathBuf;

use serde::Deserialize;

use super::OidcError;
use super::http::{self, send};
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
}

impl Provider {
    /// Go's name.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Filesystem => "filesystem",
            Provider::EnvVar => "envvar",
            Provider::GitHubActions => "github-actions",
            Provider::Buildkite => "buildkite-agent",
        }
    }
}

const ORDER: [Provider; 4] = [
    Provider::Filesystem,
    Provider::EnvVar,
    Provider::GitHubActions,
    Provider::Buildkite,
];

/// The provider `--oidc-provider` names.
pub fn by_name(name: &str) -> Result<Provider, OidcError> {
    if let Some(p) = ORDER.iter().find(|p| p.name() == name) {
        return Ok(*p);
    }
    if PROVIDER_NAMES.contains(&name) {
        return Err(OidcError::UnsupportedProvider(name.to_owned()));
    }
    Err(OidcError::UnknownProvider(name.to_owned()))
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
            .finish()
    }
}

impl AmbientEnv {
    /// Reads the variables through `lookup` (e.g. `|k| std::env::var(k).ok()`); the token file
    /// is [`FILESYSTEM_TOKEN_PATH`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> AmbientEnv {
        AmbientEnv {
            sigstore_id_token: lookup("SIGSTORE_ID_TOKEN"),
            github_request_url: lookup("ACTIONS_ID_TOKEN_REQUEST_URL"),
            github_request_token: lookup("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            buildkite_agent_token: lookup("BUILDKITE_AGENT_ACCESS_TOKEN"),
            buildkite_endpoint: lookup("BUILDKITE_AGENT_ENDPOINT"),
            buildkite_job_id: lookup("BUILDKITE_JOB_ID"),
            token_file: Some(PathBuf::from(FILESYSTEM_TOKEN_PATH)),
        }
    }

    /// Whether `provider` is enabled (Go's `Enabled`).
    pub fn enabled(&self, provider: Provider) -> bool {
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
        }
    }

    /// Whether any provider is enabled.
    pub fn any_enabled(&self) -> bool {
        ORDER.iter().any(|p| self.enabled(*p))
    }

    /// Asks the enabled providers in order; the first answer wins, else the last error.
    pub async fn provide_first(&self, audience: &str) -> Result<(&'static str, String), OidcError> {
        let mut last = None;
        for provider in ORDER.iter().filter(|p| self.enabled(**p)) {
            match self.provide(*provider, audience).await {
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
