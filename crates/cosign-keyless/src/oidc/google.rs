//! The two Google providers, as Go cosign builds them on `google.golang.org/api`:
//!
//! - `google-workload-identity` (`idtoken.NewTokenSource`): application default credentials
//!   (`GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's well-known file): a service account signs
//!   a JWT (RS256, `target_audience` = the audience) and exchanges it at its `token_uri` for an
//!   `id_token`; without a credentials file, on GCE, the metadata server's
//!   `instance/service-accounts/default/identity?audience=A&format=full`. Enabled only on GCE
//!   (`metadata.OnGCE`) and when a token for the audience `garbage` can be had.
//! - `google-impersonate` (`impersonate.IDTokenSource`): the IAM Credentials API's
//!   `projects/-/serviceAccounts/{GOOGLE_SERVICE_ACCOUNT_NAME}:generateIdToken` with
//!   `{"audience": A, "includeEmail": true}`, authorised by an access token (scope
//!   `cloud-platform`) from the application default credentials: a service account (JWT
//!   bearer grant), an authorized user (refresh token grant) or the metadata server.
//!
//! `metadata.OnGCE`: true when `GCE_METADATA_HOST` is set; else two probes race, a `GET` of
//! the metadata IP answering `Metadata-Flavor: Google` and the DNS name
//! `metadata.google.internal.` resolving to that IP. The first answer decides, unless
//! `/sys/class/dmi/id/product_name` says `Google` / `Google Compute Engine`, when a `false`
//! waits up to 5 s for the other probe. The answer is computed once per [`GoogleEnv`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cosign_crypto::{KeyType, PrivateKey, SignatureScheme};
use serde::Deserialize;
use serde_json::json;

use super::http::{self, Answer, send};
use super::token::{sanitize, split_jws};

/// The metadata server's documented address.
pub const METADATA_IP: &str = "169.254.169.254";
/// The metadata server's DNS name, as Go probes it.
pub const METADATA_DNS_NAME: &str = "metadata.google.internal.";
/// The file whose content says the machine is a Google VM.
pub const PRODUCT_NAME_FILE: &str = "/sys/class/dmi/id/product_name";
/// The IAM Credentials API.
pub const IAM_CREDENTIALS_ENDPOINT: &str = "https://iamcredentials.googleapis.com";
/// Google's OAuth 2.0 token endpoint (the default `token_uri`).
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The scope of the access token that authorises impersonation.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The `User-Agent` of the metadata requests (Go's `cloud.google.com/go/compute/metadata`).
const METADATA_USER_AGENT: &str = "gcloud-golang/0.1";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const NO_CREDENTIALS: &str = "google: could not find default credentials. See https://cloud.google.com/docs/authentication/external/set-up-adc for more information";

/// Where the GCE metadata server is, and how to tell a Google VM.
#[derive(Clone, Debug)]
pub struct GceEnv {
    /// `GCE_METADATA_HOST` (`host[:port]`; set and non-empty: on GCE, no probing).
    pub metadata_host: Option<String>,
    /// The metadata server's address when `metadata_host` is unset ([`METADATA_IP`]).
    pub metadata_ip: String,
    /// The DNS probe's name ([`METADATA_DNS_NAME`]; `None`: that probe says no at once).
    pub dns_name: Option<String>,
    /// The DMI product name file ([`PRODUCT_NAME_FILE`]).
    pub product_name_file: PathBuf,
}

impl Default for GceEnv {
    fn default() -> GceEnv {
        GceEnv {
            metadata_host: None,
            metadata_ip: METADATA_IP.into(),
            dns_name: Some(METADATA_DNS_NAME.into()),
            product_name_file: PathBuf::from(PRODUCT_NAME_FILE),
        }
    }
}

impl GceEnv {
    /// `host[:port]` of the metadata requests.
    fn host(&self) -> &str {
        self.metadata_host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or(&self.metadata_ip)
    }
}

/// What the Google providers read. `Default`: no credentials files, not on GCE (no probe).
#[derive(Clone, Debug, Default)]
pub struct GoogleEnv {
    /// `GOOGLE_APPLICATION_CREDENTIALS` (non-empty: that file, and no other source).
    pub application_credentials: Option<PathBuf>,
    /// gcloud's `$HOME/.config/gcloud/application_default_credentials.json`.
    pub well_known_file: Option<PathBuf>,
    /// The metadata server (`None`: never on GCE).
    pub gce: Option<GceEnv>,
    /// The IAM Credentials API root (default [`IAM_CREDENTIALS_ENDPOINT`]).
    pub iam_credentials_endpoint: Option<String>,
    /// `metadata.OnGCE`'s answer, once known.
    pub on_gce_cache: Arc<tokio::sync::OnceCell<bool>>,
}

/// A credentials JSON file (the fields used here).
#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    client_email: String,
    #[serde(default)]
    private_key: String,
    #[serde(default)]
    private_key_id: String,
    #[serde(default)]
    token_uri: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    refresh_token: String,
}

impl std::fmt::Debug for CredentialsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsFile")
            .field("type", &self.kind)
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

/// Where the application default credentials come from.
enum Adc {
    /// A JSON file's content.
    Json(CredentialsFile),
    /// The metadata server.
    Metadata(GceEnv),
}

impl GoogleEnv {
    /// Go's `metadata.OnGCE` (see the module docs), computed once.
    pub async fn on_gce(&self) -> bool {
        let Some(gce) = self.gce.clone() else {
            return false;
        };
        *self
            .on_gce_cache
            .get_or_init(|| async move { probe_gce(&gce).await })
            .await
    }

    /// `golang.org/x/oauth2/google.FindDefaultCredentials`: the file of
    /// `GOOGLE_APPLICATION_CREDENTIALS`, else the well-known file, else the metadata server.
    async fn default_credentials(&self) -> Result<Adc, String> {
        if let Some(path) = self
            .application_credentials
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            return read_credentials(path).map(Adc::Json).map_err(|e| {
                format!(
                    "google: error getting credentials using GOOGLE_APPLICATION_CREDENTIALS environment variable: {e}"
                )
            });
        }
        if let Some(path) = &self.well_known_file
            && let Ok(bytes) = std::fs::read(path)
        {
            return parse_credentials(&bytes).map(Adc::Json);
        }
        match &self.gce {
            Some(gce) if self.on_gce().await => Ok(Adc::Metadata(gce.clone())),
            _ => Err(NO_CREDENTIALS.into()),
        }
    }

    /// `google-workload-identity`'s token for `audience` (`idtoken.NewTokenSource`).
    pub async fn workload_identity_token(&self, audience: &str) -> Result<String, String> {
        if audience.is_empty() {
            return Err("idtoken: must supply a non-empty audience".into());
        }
        match self.default_credentials().await? {
            Adc::Json(creds) => match creds.kind.as_str() {
                "service_account" => service_account_id_token(&creds, audience).await,
                "impersonated_service_account" | "external_account" => Err(format!(
                    "idtoken: {} credentials are not supported by this build",
                    creds.kind
                )),
                _ => Err("idtoken: unsupported credentials type".into()),
            },
            Adc::Metadata(gce) => {
                let query = http::form(&[("audience", audience), ("format", "full")]);
                let token = metadata_get(
                    &gce,
                    &format!("instance/service-accounts/default/identity?{query}"),
                )
                .await?;
                if token.is_empty() {
                    return Err("idtoken: invalid response from metadata service".into());
                }
                Ok(token)
            }
        }
    }

    /// `google-impersonate`'s token: `generateIdToken` for `target` and `audience`.
    pub async fn impersonated_id_token(
        &self,
        target: &str,
        audience: &str,
    ) -> Result<String, String> {
        if audience.is_empty() {
            return Err("impersonate: an audience must be provided".into());
        }
        if target.is_empty() {
            return Err("impersonate: a target service account must be provided".into());
        }
        let access_token = match self.default_credentials().await? {
            Adc::Json(creds) => json_access_token(&creds).await?,
            Adc::Metadata(gce) => metadata_access_token(&gce).await?,
        };
        let endpoint = self
            .iam_credentials_endpoint
            .as_deref()
            .filter(|e| !e.is_empty())
            .unwrap_or(IAM_CREDENTIALS_ENDPOINT)
            .trim_end_matches('/');
        let url = format!(
            "{endpoint}/v1/projects/-/serviceAccounts/{}:generateIdToken",
            path_escape(target)
        );
        let body = json!({ "audience": audience, "includeEmail": true }).to_string();
        let client = http::client().map_err(|e| e.to_string())?;
        let request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", access_token.as_str()),
            )
            .body(body);
        let answer = send(request, "impersonate: unable to generate ID token")
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status.is_success() {
            return Err(format!(
                "impersonate: status code {}: {}",
                answer.status.as_u16(),
                sanitize(String::from_utf8_lossy(&answer.body).trim())
            ));
        }
        #[derive(Deserialize)]
        struct Generated {
            #[serde(default)]
            token: String,
        }
        let generated: Generated = serde_json::from_slice(&answer.body).map_err(|e| {
            format!(
                "impersonate: unable to parse response: {}",
                sanitize(&e.to_string())
            )
        })?;
        Ok(generated.token)
    }
}

/// Escapes a path segment the way the target is put in the URL (email addresses pass as is).
fn path_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b'+') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn read_credentials(path: &std::path::Path) -> Result<CredentialsFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    parse_credentials(&bytes)
}

fn parse_credentials(bytes: &[u8]) -> Result<CredentialsFile, String> {
    let creds: CredentialsFile = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "the credentials file is not JSON: {}",
            sanitize(&e.to_string())
        )
    })?;
    match creds.kind.as_str() {
        "" => Err("missing 'type' field in credentials".into()),
        "service_account"
        | "authorized_user"
        | "impersonated_service_account"
        | "external_account"
        | "external_account_authorized_user"
        | "gdch_service_account" => Ok(creds),
        other => Err(format!("unknown credential type: {:?}", sanitize(other))),
    }
}

fn now_unix() -> i64 {
    super::now_unix()
}

/// A JWT signed RS256 by the service account's key: `iss` = the account, `aud` = the token
/// URI, `iat` ten seconds ago (as golang.org/x/oauth2/jws), `exp` an hour after, plus `extra`.
fn service_account_assertion(
    creds: &CredentialsFile,
    token_uri: &str,
    extra: &[(&str, &str)],
) -> Result<String, String> {
    let key = PrivateKey::from_pem(creds.private_key.as_bytes()).map_err(|e| {
        format!("private key should be a PEM or plain PKCS1 or PKCS8; parse error: {e}")
    })?;
    if !matches!(key.key_type(), KeyType::Rsa { .. }) {
        return Err("private key is invalid".into());
    }
    let mut header = json!({ "alg": "RS256", "typ": "JWT" });
    if !creds.private_key_id.is_empty() {
        header["kid"] = json!(creds.private_key_id);
    }
    let iat = now_unix() - 10;
    let mut claims = json!({
        "iss": creds.client_email,
        "aud": token_uri,
        "exp": iat + 3600,
        "iat": iat,
    });
    for (k, v) in extra {
        claims[*k] = json!(v);
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key
        .sign_message(SignatureScheme::RsaPkcs1Sha256, input.as_bytes())
        .map_err(|e| format!("signing the token request: {e}"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn token_uri(creds: &CredentialsFile) -> &str {
    if creds.token_uri.is_empty() {
        DEFAULT_TOKEN_URI
    } else {
        &creds.token_uri
    }
}

/// The token endpoint's JSON answer.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    id_token: String,
    #[serde(default)]
    expires_in: i64,
}

async fn post_token(uri: &str, pairs: &[(&str, &str)]) -> Result<TokenAnswer, String> {
    let client = http::client().map_err(|e| e.to_string())?;
    let what = "oauth2: cannot fetch token";
    let answer: Answer = http::post_form(&client, uri, pairs, what)
        .await
        .map_err(|e| e.to_string())?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what).to_string());
    }
    serde_json::from_slice(&answer.body)
        .map_err(|e| format!("{what}: {}", sanitize(&e.to_string())))
}

/// `idtoken`'s service-account source: the JWT bearer grant with `target_audience`; the answer's
/// `id_token` is the token.
async fn service_account_id_token(
    creds: &CredentialsFile,
    audience: &str,
) -> Result<String, String> {
    let uri = token_uri(creds);
    let assertion = service_account_assertion(creds, uri, &[("target_audience", audience)])?;
    let answer = post_token(
        uri,
        &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
    )
    .await?;
    if answer.id_token.is_empty() {
        return Err("oauth2: response doesn't have JWT token".into());
    }
    if split_jws(&answer.id_token).is_none() {
        return Err("oauth2: error decoding JWT token: jws: invalid token received".into());
    }
    Ok(answer.id_token)
}

/// An access token (scope `cloud-platform`) from credentials JSON.
async fn json_access_token(creds: &CredentialsFile) -> Result<zeroize::Zeroizing<String>, String> {
    let answer = match creds.kind.as_str() {
        "service_account" => {
            let uri = token_uri(creds);
            let assertion =
                service_account_assertion(creds, uri, &[("scope", CLOUD_PLATFORM_SCOPE)])?;
            post_token(
                uri,
                &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
            )
            .await?
        }
        "authorized_user" => {
            post_token(
                token_uri(creds),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &creds.refresh_token),
                    ("client_id", &creds.client_id),
                    ("client_secret", &creds.client_secret),
                ],
            )
            .await?
        }
        other => {
            return Err(format!(
                "{other} credentials are not supported by this build (service_account, authorized_user or the metadata server)"
            ));
        }
    };
    if answer.access_token.is_empty() {
        return Err("oauth2: server response missing access_token".into());
    }
    Ok(zeroize::Zeroizing::new(answer.access_token))
}

/// An access token of the instance's default service account (scope `cloud-platform`).
async fn metadata_access_token(gce: &GceEnv) -> Result<zeroize::Zeroizing<String>, String> {
    let query = http::form(&[("scopes", CLOUD_PLATFORM_SCOPE)]);
    let body = zeroize::Zeroizing::new(
        metadata_get(
            gce,
            &format!("instance/service-accounts/default/token?{query}"),
        )
        .await?,
    );
    let answer: TokenAnswer = serde_json::from_str(&body).map_err(|e| {
        format!(
            "oauth2/google: invalid token JSON from metadata: {}",
            sanitize(&e.to_string())
        )
    })?;
    if answer.expires_in == 0 || answer.access_token.is_empty() {
        return Err("oauth2/google: incomplete token received from metadata".into());
    }
    Ok(zeroize::Zeroizing::new(answer.access_token))
}

/// The metadata server's HTTP client: 2 s to connect, 5 s in all (Go's default client).
fn metadata_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .map_err(|e| format!("the HTTP client: {e}"))
}

/// `GET http://{host}/computeMetadata/v1/{suffix}` with `Metadata-Flavor: Google`. Server
/// errors and failed connections are retried (five times, from 50 ms, doubling, as Go's
/// jittered backoff does on average).
async fn metadata_get(gce: &GceEnv, suffix: &str) -> Result<String, String> {
    let client = metadata_client()?;
    let url = format!(
        "http://{}/computeMetadata/v1/{}",
        gce.host(),
        suffix.trim_start_matches('/')
    );
    let what = "metadata";
    let mut pause = Duration::from_millis(50);
    let mut attempt = 0;
    let answer = loop {
        let request = client
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .header(reqwest::header::USER_AGENT, METADATA_USER_AGENT);
        let result = send(request, what).await;
        let retry = match &result {
            Ok(a) => a.status.is_server_error(),
            Err(super::OidcError::Http { .. }) => true,
            Err(_) => false,
        };
        if !retry || attempt == 5 {
            break result.map_err(|e| e.to_string())?;
        }
        attempt += 1;
        tokio::time::sleep(pause).await;
        pause *= 2;
    };
    let path = suffix.split('?').next().unwrap_or(suffix);
    if answer.status == reqwest::StatusCode::NOT_FOUND {
        return Err(format!("metadata: GCE metadata {path:?} not defined"));
    }
    if answer.status != reqwest::StatusCode::OK {
        return Err(format!(
            "compute: Received {} `{}`",
            answer.status.as_u16(),
            sanitize(String::from_utf8_lossy(&answer.body).trim())
        ));
    }
    String::from_utf8(answer.body).map_err(|_| "metadata: the answer is not UTF-8".into())
}

/// Go's `testOnGCE`.
async fn probe_gce(gce: &GceEnv) -> bool {
    if gce.metadata_host.as_deref().is_some_and(|h| !h.is_empty()) {
        return true;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bool>(2);
    let http_probe = {
        let tx = tx.clone();
        let url = format!("http://{}", gce.metadata_ip);
        tokio::spawn(async move {
            let answer = match metadata_client() {
                Ok(client) => client
                    .get(url)
                    .header(reqwest::header::USER_AGENT, METADATA_USER_AGENT)
                    .send()
                    .await
                    .ok(),
                Err(_) => None,
            };
            let flavor = answer.is_some_and(|a| {
                a.headers()
                    .get("Metadata-Flavor")
                    .is_some_and(|v| v.as_bytes() == b"Google")
            });
            let _ = tx.send(flavor).await;
        })
    };
    let dns_probe = {
        let name = gce.dns_name.clone();
        let ip = gce.metadata_ip.clone();
        tokio::spawn(async move {
            let found = match name {
                Some(name) => match tokio::net::lookup_host((name.as_str(), 80)).await {
                    Ok(addrs) => addrs.map(|a| a.ip().to_string()).any(|a| a == ip),
                    Err(_) => false,
                },
                None => false,
            };
            let _ = tx.send(found).await;
        })
    };
    let product = std::fs::read_to_string(&gce.product_name_file).unwrap_or_default();
    let try_harder = matches!(product.trim(), "Google" | "Google Compute Engine");
    let first = rx.recv().await.unwrap_or(false);
    let answer = if first || !try_harder {
        first
    } else {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or(false)
    };
    http_probe.abort();
    dns_probe.abort();
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_escaped_in_the_path() {
        assert_eq!(
            path_escape("signer@project.iam.gserviceaccount.com"),
            "signer@project.iam.gserviceaccount.com"
        );
        assert_eq!(path_escape("a/b?c"), "a%2Fb%3Fc");
    }

    #[test]
    fn credential_types_follow_oauth2_google() {
        assert!(parse_credentials(br#"{"type":"service_account"}"#).is_ok());
        let missing = parse_credentials(b"{}").err().unwrap_or_default();
        assert_eq!(missing, "missing 'type' field in credentials");
        let unknown = parse_credentials(br#"{"type":"x"}"#)
            .err()
            .unwrap_or_default();
        assert_eq!(unknown, "unknown credential type: \"x\"");
    }
}
