//! [`RegistryClient`]: a small blocking client for the distribution API, for setting up and
//! inspecting registry state in tests. It is independent of the project's own registry client
//! (so it can check it), trusts the registry's throw-away CA, and answers `401` challenges
//! itself: `Basic` with its credentials, or `Bearer` by fetching a token from the challenge's
//! realm for the challenge's scope (with Basic credentials if it has any), then retrying once.

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};

use crate::{Registry, rt};

/// The `Accept` header for manifests: every OCI and Docker type (distribution 2.8 answers 404
/// for an OCI manifest unless OCI types are accepted).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// The `sha256:<hex>` digest of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    format!("sha256:{}", hex::encode(hash.as_ref()))
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header's value as text (`""` when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A manifest as the registry returned it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// `Content-Type` of the response.
    pub media_type: String,
    /// `Docker-Content-Digest` of the response.
    pub digest: String,
    /// The raw bytes (their SHA-256 is checked against `digest`).
    pub bytes: Vec<u8>,
}

/// A blocking client for one registry.
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    credentials: Option<(String, String)>,
    authorization: Mutex<Option<String>>,
}

impl RegistryClient {
    /// A client with the registry's own credentials (if it has auth), trusting its CA.
    pub fn new(registry: &Registry) -> Self {
        let credentials = registry
            .credentials()
            .map(|(u, p)| (u.to_owned(), p.to_owned()));
        Self::build(registry, credentials)
    }

    /// A client without credentials (anonymous tokens where the token server gives them).
    pub fn anonymous(registry: &Registry) -> Self {
        Self::build(registry, None)
    }

    /// A client with these credentials.
    pub fn with_credentials(registry: &Registry, user: &str, password: &str) -> Self {
        Self::build(registry, Some((user.to_owned(), password.to_owned())))
    }

    /// An anonymous client for a plain-HTTP registry at `host` (`127.0.0.1:PORT`), such as a
    /// [`crate::Latency`] proxy.
    pub fn at_host(host: &str) -> Self {
        Self {
            base: format!("http://{host}"),
            http: http_client(None),
            credentials: None,
            authorization: Mutex::new(None),
        }
    }

    fn build(registry: &Registry, credentials: Option<(String, String)>) -> Self {
        Self {
            base: registry.url(),
            http: http_client(registry.ca_pem().as_deref()),
            credentials,
            authorization: Mutex::new(None),
        }
    }

    /// Sends `method base+path` (path includes the query) with these headers and body, answering
    /// an auth challenge once. Never panics on an HTTP status.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> RawResponse {
        let method = Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let url = format!("{}{path}", self.base);
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.map(<[u8]>::to_vec);
        rt::block_on(self.send(method, &url, &headers, body))
    }

    /// Uploads a blob (HEAD, then POST + PUT `?digest=` unless present); returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        rt::block_on(self.push_blob_async(repo, data.to_vec()))
    }

    /// PUTs a manifest under `reference` (tag or digest) with this `Content-Type`; checks the
    /// registry's `Docker-Content-Digest` against the bytes and returns the digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        rt::block_on(self.push_manifest_async(repo, reference, media_type, bytes.to_vec()))
    }

    /// GETs a manifest by tag or digest with [`MANIFEST_ACCEPT`]; panics unless `200` and the
    /// bytes match the `Docker-Content-Digest` header.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> FetchedManifest {
        let resp = self.request(
            "GET",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
        );
        assert_eq!(
            resp.status,
            200,
            "GET manifest {repo}:{reference}: {}",
            resp.text()
        );
        let digest = resp.header("docker-content-digest").to_owned();
        assert_eq!(
            sha256_digest(&resp.body),
            digest,
            "manifest bytes vs Docker-Content-Digest"
        );
        FetchedManifest {
            media_type: resp.header("content-type").to_owned(),
            digest,
            bytes: resp.body,
        }
    }

    /// Uploads a blob with one POST + PUT `?digest=`, without asking first whether it is there
    /// (for benchmarks: the fewest requests a client can send); returns its digest.
    pub fn upload_blob(&self, repo: &str, data: &[u8]) -> String {
        rt::block_on(self.upload_blob_async(repo, sha256_digest(data), data.to_vec()))
    }

    pub(crate) async fn push_blob_async(&self, repo: &str, data: Vec<u8>) -> String {
        let digest = sha256_digest(&data);
        let head = self
            .send(
                Method::HEAD,
                &format!("{}/v2/{repo}/blobs/{digest}", self.base),
                &[],
                None,
            )
            .await;
        if head.status == 200 {
            return digest;
        }
        self.upload_blob_async(repo, digest, data).await
    }

    async fn upload_blob_async(&self, repo: &str, digest: String, data: Vec<u8>) -> String {
        let start = self
            .send(
                Method::POST,
                &format!("{}/v2/{repo}/blobs/uploads/", self.base),
                &[],
                None,
            )
            .await;
        assert_eq!(start.status, 202, "POST blob upload: {}", start.text());
        let location = start.header(LOCATION.as_str());
        assert!(!location.is_empty(), "blob upload without Location");
        let mut url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("digest=");
        url.push_str(&digest);
        let headers = [(
            CONTENT_TYPE.as_str().to_owned(),
            "application/octet-stream".to_owned(),
        )];
        let put = self.send(Method::PUT, &url, &headers, Some(data)).await;
        assert_eq!(put.status, 201, "PUT blob {digest}: {}", put.text());
        digest
    }

    pub(crate) async fn push_manifest_async(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> String {
        let digest = sha256_digest(&bytes);
        let headers = [(CONTENT_TYPE.as_str().to_owned(), media_type.to_owned())];
        let resp = self
            .send(
                Method::PUT,
                &format!("{}/v2/{repo}/manifests/{reference}", self.base),
                &headers,
                Some(bytes),
            )
            .await;
        assert_eq!(
            resp.status,
            201,
            "PUT manifest {repo}:{reference}: {}",
            resp.text()
        );
        let returned = resp.header("docker-content-digest");
        assert!(
            returned.is_empty() || returned == digest,
            "registry says {returned}, expected {digest}"
        );
        digest
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> RawResponse {
        let mut retried = false;
        loop {
            let mut req = self.http.request(method.clone(), url);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let auth = self.authorization.lock().expect("auth lock").clone();
            if let Some(auth) = auth {
                req = req.header(AUTHORIZATION, auth);
            }
            if let Some(body) = &body {
                req = req.body(body.clone());
            }
            let resp = read(req.send().await, &method, url).await;
            if resp.status != StatusCode::UNAUTHORIZED.as_u16() || retried {
                return resp;
            }
            let challenge = resp.header(WWW_AUTHENTICATE.as_str()).to_owned();
            match self.answer(&challenge).await {
                Some(auth) => *self.authorization.lock().expect("auth lock") = Some(auth),
                None => return resp,
            }
            retried = true;
        }
    }

    /// The `Authorization` value that answers this challenge, if we can.
    async fn answer(&self, challenge: &str) -> Option<String> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            let (user, password) = self.credentials.as_ref()?;
            return Some(basic(user, password));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let realm = param(&params, "realm")?;
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for name in ["service", "scope"] {
                if let Some(value) = param(&params, name) {
                    query.append_pair(name, value);
                }
            }
            query.finish()
        };
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{query}");
        let mut req = self.http.get(&url);
        if let Some((user, password)) = &self.credentials {
            req = req.header(AUTHORIZATION, basic(user, password));
        }
        let resp = read(req.send().await, &Method::GET, &url).await;
        if resp.status != 200 {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("token JSON");
        let token = json
            .get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .expect("token in token response");
        Some(format!("Bearer {token}"))
    }
}

async fn read(
    result: reqwest::Result<reqwest::Response>,
    method: &Method,
    url: &str,
) -> RawResponse {
    let resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: reading body: {e:?}"))
        .to_vec();
    RawResponse {
        status,
        headers,
        body,
    }
}

/// An HTTP client that trusts only `ca_pem` (when given), with no proxy and a 30 s timeout.
pub(crate) fn http_client(ca_pem: Option<&[u8]>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca_pem {
        let cert = reqwest::Certificate::from_pem(pem).expect("CA PEM");
        builder = builder.tls_certs_only([cert]);
    }
    builder.build().expect("build HTTP client")
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Splits `Bearer realm="..",service="..",scope=".."` into the scheme and its parameters.
pub fn parse_challenge(challenge: &str) -> (String, Vec<(String, String)>) {
    let challenge = challenge.trim();
    let (scheme, rest) = challenge.split_once(' ').unwrap_or((challenge, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim_start();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((key, value.to_owned()));
        rest = remaining.trim_start_matches(',').trim_start();
    }
    (scheme.to_owned(), params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="test-registry",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(param(&params, "realm"), Some("http://127.0.0.1:1/token"));
        assert_eq!(param(&params, "service"), Some("test-registry"));
        assert_eq!(param(&params, "scope"), Some("repository:a/b:pull,push"));
        let (scheme, params) = parse_challenge(r#"Basic realm="test-registry""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(param(&params, "realm"), Some("test-registry"));
    }

    #[test]
    fn digest_of_empty() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
