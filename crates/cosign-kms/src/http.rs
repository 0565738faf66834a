//! The HTTP side shared by the providers: one reqwest client per use (rustls, the platform's
//! roots plus the provider's CA files), size-capped bodies, and errors that name the provider
//! and the key but never a credential.

use std::path::Path;
use std::time::Duration;

use reqwest::{Certificate, Client, Identity, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::{KmsConfig, KmsError};

/// Largest response body read from a KMS or API server.
pub(crate) const BODY_LIMIT: usize = 1 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is talking to whom, for error messages.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub provider: &'static str,
    pub key: String,
}

impl Ctx {
    pub(crate) fn new(provider: &'static str, key: impl Into<String>) -> Self {
        Self {
            provider,
            key: key.into(),
        }
    }

    /// An error about this provider and key.
    pub(crate) fn err(&self, message: impl Into<String>) -> KmsError {
        KmsError::Provider {
            provider: self.provider.to_owned(),
            key: self.key.clone(),
            message: message.into(),
            source: None,
        }
    }

    /// An error about this provider and key, with its cause.
    pub(crate) fn caused(
        &self,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> KmsError {
        KmsError::Provider {
            provider: self.provider.to_owned(),
            key: self.key.clone(),
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

/// TLS material beyond the platform's roots.
#[derive(Default)]
pub(crate) struct Tls {
    /// PEM CA bundles to trust, with where each came from.
    pub ca_pems: Vec<(Vec<u8>, String)>,
    /// A client certificate and its key, PEM (Kubernetes).
    pub identity_pem: Option<Vec<u8>>,
}

impl Tls {
    /// Adds the CA file at `path` (named `what` in errors).
    pub(crate) fn ca_file(&mut self, ctx: &Ctx, path: &Path, what: &str) -> Result<(), KmsError> {
        let pem = read_small(ctx, path, what)?;
        self.ca_pems
            .push((pem, format!("{what} {}", path.display())));
        Ok(())
    }
}

/// Reads a small local file (a CA bundle, a credentials file).
pub(crate) fn read_small(ctx: &Ctx, path: &Path, what: &str) -> Result<Vec<u8>, KmsError> {
    let failed = |e| ctx.caused(format!("reading {what} {}", path.display()), e);
    let meta = std::fs::metadata(path).map_err(failed)?;
    if meta.len() > BODY_LIMIT as u64 {
        return Err(ctx.err(format!(
            "reading {what} {}: larger than {BODY_LIMIT} bytes",
            path.display()
        )));
    }
    std::fs::read(path).map_err(failed)
}

/// Builds a client: rustls with the platform's roots, the configured extra CA file, and `tls`.
/// Redirects are not followed (a credential must not travel to another host).
pub(crate) fn client(cfg: &KmsConfig, ctx: &Ctx, tls: &Tls) -> Result<Client, KmsError> {
    let mut builder = Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(cfg.timeout())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cosign-rs/", env!("CARGO_PKG_VERSION")));
    let mut extra = Vec::new();
    if let Some(path) = &cfg.extra_ca_file {
        let pem = read_small(ctx, path, "SSL_CERT_FILE")?;
        extra.push((pem, format!("SSL_CERT_FILE {}", path.display())));
    }
    for (pem, what) in extra.iter().chain(tls.ca_pems.iter()) {
        let certs = Certificate::from_pem_bundle(pem)
            .map_err(|e| ctx.caused(format!("reading CA certificates from {what}"), e))?;
        if certs.is_empty() {
            return Err(ctx.err(format!("{what} holds no PEM certificate")));
        }
        builder = builder.tls_certs_merge(certs);
    }
    if let Some(pem) = &tls.identity_pem {
        let identity =
            Identity::from_pem(pem).map_err(|e| ctx.caused("loading the client certificate", e))?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| ctx.caused("building the HTTP client", e))
}

/// A response: status and (capped) body.
pub(crate) struct Response {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub(crate) fn json<T: DeserializeOwned>(&self, ctx: &Ctx, what: &str) -> Result<T, KmsError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ctx.caused(
                format!(
                    "{what}: the server's answer is not the expected JSON ({})",
                    snippet(&self.body)
                ),
                e,
            )
        })
    }
}

/// Sends a request and reads the body, at most [`BODY_LIMIT`] bytes.
pub(crate) async fn send(ctx: &Ctx, what: &str, req: RequestBuilder) -> Result<Response, KmsError> {
    let mut resp = req.send().await.map_err(|e| ctx.caused(what, e))?;
    let status = resp.status();
    if resp.content_length().is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ctx.err(format!(
            "{what}: the answer is larger than {BODY_LIMIT} bytes"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ctx.caused(format!("{what}: reading the answer"), e))?
    {
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ctx.err(format!(
                "{what}: the answer is larger than {BODY_LIMIT} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response { status, body })
}

/// An error and its sources on one line (reqwest hides the interesting part in the sources).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        cur = s.source();
    }
    text
}

/// An OAuth 2.0 token answer.
#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// POSTs an OAuth 2.0 token request (form-encoded `form`) to `url` and returns the access
/// token. The request body, which carries secrets, is zeroized after use.
pub(crate) async fn oauth_token(
    ctx: &Ctx,
    client: &Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<crate::config::Secret, KmsError> {
    let body = zeroize::Zeroizing::new(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().copied())
            .finish(),
    );
    let what = "getting an access token";
    let resp = send(
        ctx,
        what,
        client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.as_bytes().to_vec()),
    )
    .await?;
    if !resp.status.is_success() {
        let e = crate::ApiError::from_response(&resp);
        return Err(ctx.caused(format!("{what} from {url}"), e));
    }
    let token: TokenResponse = resp.json(ctx, what)?;
    Ok(crate::config::Secret::new(token.access_token))
}

/// The start of a body for an error message: printable characters only, at most 300.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        out.push_str("...");
    }
    let trimmed = out.trim();
    if trimmed.is_empty() {
        "(empty body)".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_bounded_and_printable() {
        assert_eq!(snippet(b""), "(empty body)");
        assert_eq!(snippet(b"a\nb"), "a b");
        let long = vec![b'x'; 1000];
        assert_eq!(snippet(&long).len(), 303);
    }
}
