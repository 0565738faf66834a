//! What the four REST providers (AWS KMS, Vault/OpenBao transit, Google Cloud KMS, Azure Key
//! Vault) share on top of [`crate::http`]: reading a provider's error answer into an
//! [`ApiError`] and that into a [`KmsError`] naming the provider and key, the bearer-token JSON
//! client of Google and Azure, and the [`RemoteSigner`] side of an open key.

use cosign_crypto::{PublicKey, SignatureScheme};
use cosign_types::Digest;
use serde_json::Value;

use crate::config::{KmsConfig, Secret};
use crate::http::{self, Ctx, Response, Tls, snippet};
use crate::{ApiError, BoxFuture, KmsError, RemoteSigner};

impl ApiError {
    /// Reads an error answer in any of the providers' formats: `{"__type", "message"}` (AWS),
    /// `{"error": {"status" | "code", "message"}}` (Google, Azure), `{"errors": [...]}` (Vault),
    /// `{"error": "...", "error_description": "..."}` (OAuth 2.0), `{"message", "reason"}`
    /// (Kubernetes). Anything else keeps the start of the body as the message.
    pub(crate) fn from_response(resp: &Response) -> Self {
        let status = resp.status.as_u16();
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let (code, message) = if let Some(kind) = v.get("__type").and_then(Value::as_str) {
            // `com.amazonaws.kms#NotFoundException` -> `NotFoundException`
            let kind = kind.rsplit('#').next().unwrap_or(kind).to_owned();
            (
                kind,
                text(
                    v.get("message")
                        .or(v.get("Message"))
                        .unwrap_or(&Value::Null),
                ),
            )
        } else if let Some(err) = v.get("error").filter(|e| e.is_object()) {
            let code = err
                .get("status")
                .and_then(Value::as_str)
                .or(err.get("code").and_then(Value::as_str))
                .unwrap_or_default();
            (code.to_owned(), text(&err["message"]))
        } else if let Some(code) = v.get("error").and_then(Value::as_str) {
            (code.to_owned(), text(&v["error_description"]))
        } else if let Some(errors) = v.get("errors").and_then(Value::as_array) {
            let list: Vec<String> = errors.iter().map(text).filter(|e| !e.is_empty()).collect();
            (String::new(), list.join("; "))
        } else if let Some(message) = v.get("message").and_then(Value::as_str) {
            (text(&v["reason"]), message.to_owned())
        } else {
            (String::new(), String::new())
        };
        let message = if message.is_empty() && code.is_empty() {
            snippet(&resp.body)
        } else {
            message
        };
        Self {
            status,
            code,
            message,
        }
    }

    /// Whether the key (or another named resource) does not exist.
    pub(crate) fn not_found(&self) -> bool {
        self.status == 404 || matches!(self.code.as_str(), "NotFoundException" | "NOT_FOUND")
    }

    /// Whether the credentials were refused.
    pub(crate) fn denied(&self) -> bool {
        matches!(self.status, 401 | 403)
            || matches!(
                self.code.as_str(),
                "InvalidSignatureException"
                    | "UnrecognizedClientException"
                    | "AccessDeniedException"
                    | "IncompleteSignatureException"
                    | "invalid_client"
            )
    }
}

/// The error for a refused request: `<what>: key not found` / `permission denied (check the
/// credentials)` / `the server answered <status>`, with the answer as the cause.
pub(crate) fn refused(ctx: &Ctx, what: &str, e: ApiError) -> KmsError {
    let kind = if e.not_found() {
        "key not found".to_owned()
    } else if e.denied() {
        "permission denied (check the credentials)".to_owned()
    } else {
        format!("the server answered {}", e.status)
    };
    ctx.caused(format!("{what}: {kind}"), e)
}

/// A JSON API called with an OAuth 2.0 bearer token (Google Cloud KMS, Azure Key Vault).
pub(crate) struct BearerApi {
    http: reqwest::Client,
    /// The API root, ending in `/`.
    base: String,
    /// A query parameter every call carries (Azure's `api-version=`).
    query: Option<&'static str>,
    token: Secret,
    pub ctx: Ctx,
}

impl BearerApi {
    /// A client of `base` for `ctx`, without a token yet (see [`BearerApi::set_token`]).
    pub(crate) fn new(
        cfg: &KmsConfig,
        ctx: Ctx,
        base: String,
        query: Option<&'static str>,
    ) -> Result<Self, KmsError> {
        Ok(Self {
            http: http::client(cfg, &ctx, &Tls::default())?,
            base,
            query,
            token: Secret::new(""),
            ctx,
        })
    }

    /// The HTTP client, to get the token with.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The token every call carries.
    pub(crate) fn set_token(&mut self, token: Secret) {
        self.token = token;
    }

    /// The same API and token with a fresh connection pool: signing runs on the caller's
    /// (maybe another) runtime.
    pub(crate) fn for_signing(&self, cfg: &KmsConfig) -> Result<Self, KmsError> {
        Ok(Self {
            http: http::client(cfg, &self.ctx, &Tls::default())?,
            base: self.base.clone(),
            query: self.query,
            token: self.token.clone(),
            ctx: self.ctx.clone(),
        })
    }

    /// Calls `method base+path` with a JSON `body`; an error answer is `Ok(Err(..))`.
    pub(crate) async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Result<Value, ApiError>, KmsError> {
        let mut url = format!("{}{path}", self.base);
        if let Some(q) = self.query {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str(q);
        }
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = http::send(&self.ctx, what, req).await?;
        if resp.status.is_success() {
            return resp.json(&self.ctx, what).map(Ok);
        }
        Ok(Err(ApiError::from_response(&resp)))
    }

    /// [`BearerApi::call`], with an error answer turned into a [`KmsError`].
    pub(crate) async fn call_ok(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, KmsError> {
        self.call(what, method, path, body)
            .await?
            .map_err(|e| refused(&self.ctx, what, e))
    }

    /// A JSON answer read as `T`.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        v: Value,
    ) -> Result<T, KmsError> {
        serde_json::from_value(v)
            .map_err(|e| self.ctx.caused(format!("{what}: unexpected JSON"), e))
    }
}

/// An open key of a REST provider: what signs, given the key's context and public key.
pub(crate) trait RestKey: Send + Sync {
    /// The provider and key, for messages.
    fn ctx(&self) -> &Ctx;
    /// The public key fetched when the key was opened.
    fn public_key(&self) -> &PublicKey;
    /// Asks the provider to sign `digest` with `scheme`.
    fn sign<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>>;
}

/// A [`RestKey`] as a [`RemoteSigner`].
pub(crate) struct Remote<K>(pub K);

impl<K: RestKey> RemoteSigner for Remote<K> {
    fn public_key(&self) -> &PublicKey {
        self.0.public_key()
    }

    fn reference(&self) -> String {
        let ctx = self.0.ctx();
        format!("{} key {}", ctx.provider, ctx.key)
    }

    fn sign_digest<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>> {
        self.0.sign(scheme, digest)
    }
}

/// Decodes a base64 field of an answer (`Signature`, `PublicKey` ...).
pub(crate) fn base64_field(
    ctx: &Ctx,
    what: &str,
    engine: &impl base64::Engine,
    text: &str,
) -> Result<Vec<u8>, KmsError> {
    engine
        .decode(text)
        .map_err(|e| ctx.caused(format!("{what} is not base64"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ApiError {
        ApiError::from_response(&Response {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn reads_every_error_format() {
        let aws = answer(
            400,
            r#"{"__type":"com.amazonaws.kms#NotFoundException","message":"Alias x is not found."}"#,
        );
        assert_eq!(aws.code, "NotFoundException");
        assert_eq!(aws.message, "Alias x is not found.");
        assert!(aws.not_found());
        let gcp = answer(
            403,
            r#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#,
        );
        assert_eq!(
            (gcp.code.as_str(), gcp.message.as_str()),
            ("PERMISSION_DENIED", "denied")
        );
        assert!(gcp.denied());
        let azure = answer(404, r#"{"error":{"code":"KeyNotFound","message":"gone"}}"#);
        assert_eq!(azure.code, "KeyNotFound");
        let vault = answer(500, r#"{"errors":["one","two"]}"#);
        assert_eq!(vault.message, "one; two");
        assert_eq!(vault.to_string(), "HTTP 500: one; two");
        let oauth = answer(
            401,
            r#"{"error":"invalid_client","error_description":"bad"}"#,
        );
        assert_eq!(oauth.to_string(), "HTTP 401: invalid_client: bad");
        let html = answer(502, "<html>bad gateway</html>");
        assert_eq!(html.message, "<html>bad gateway</html>");
        assert!(!html.not_found() && !html.denied());
    }

    #[test]
    fn refusals_keep_the_answer_as_the_cause() {
        let ctx = Ctx::new("Test KMS", "test://k");
        let e = refused(&ctx, "reading the key", answer(500, "boom"));
        assert_eq!(
            e.to_string(),
            "Test KMS (test://k): reading the key: the server answered 500: HTTP 500: boom"
        );
        assert_eq!(e.api_error().map(|a| a.status), Some(500));
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.to_string(), "HTTP 500: boom");
    }
}
