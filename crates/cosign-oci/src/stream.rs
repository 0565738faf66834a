//! Streaming blob transfers: downloads written to a sink while they are hashed, and uploads
//! read from a file, so a blob of any size moves in constant memory.
//!
//! A child module of the client: it reuses the client's authentication (remembered
//! challenges, cached tokens), scheme choice and retry policy. A download is retried only
//! while nothing has been written to the sink; an upload is retried as a whole (a new
//! upload session each time).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use cosign_types::Digest;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncReadExt;
use url::Url;

use super::{
    AttemptError, AuthHeader, DOCKER_CONTENT_DIGEST, Fetched, Registry, Req, Retry, Target,
    content_length, error_detail, is_retryable_status, parse_challenges, same_origin,
    static_header, status_error, status_error_n,
};
use crate::{OciError, Repository};

/// Reports bytes moved so far (a progress bar); called after every chunk.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Chunk size of file uploads.
const UPLOAD_CHUNK: usize = 256 << 10;

impl Registry {
    /// GETs a blob of at most `max_size` bytes and writes it to `out` as it arrives, hashing
    /// it on the way: the blob's announced size (HEAD) and `Content-Length` are checked
    /// against `max_size` before anything is read, reading stops past `max_size`, and the
    /// bytes must hash to `digest` (else [`OciError::DigestMismatch`], after the bytes were
    /// written: write to a temporary place when that matters). Returns the bytes written.
    /// A missing blob is [`OciError::NotFound`].
    pub async fn get_blob_to_writer(
        &self,
        repo: &Repository,
        digest: &Digest,
        max_size: u64,
        out: &mut dyn Write,
        progress: Option<Progress>,
    ) -> Result<u64, OciError> {
        let name = format!("{repo}@{digest}");
        let action = "fetching blob";
        // One HEAD: learns the scheme and the auth challenge, and the size before any read.
        match self.blob_exists(repo, digest).await? {
            None => {
                return Err(OciError::NotFound {
                    action,
                    target: name,
                    detail: String::new(),
                });
            }
            Some(size) if size > max_size => {
                return Err(OciError::TooLarge {
                    action,
                    target: name,
                    what: "blob",
                    limit: max_size,
                    size: Some(size),
                });
            }
            Some(_) => {}
        }
        let req = Req::new(
            Method::GET,
            repo,
            format!("/v2/{}/blobs/{digest}", repo.path()),
            action,
        )
        .named(name.clone())
        .capped(max_size, "blob");
        let mut retry = Retry::new(self.inner.max_attempts, action, &name);
        loop {
            let mut written = 0u64;
            let r = self
                .stream_once(&req, digest, out, progress.as_ref(), &mut written)
                .await;
            match r {
                Ok(()) => return Ok(written),
                Err(e) if written == 0 => retry.failed(e).await?,
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Transport(e)) => {
                    return Err(OciError::Transport {
                        action,
                        target: name.clone(),
                        attempts: retry.attempt,
                        source: e,
                    });
                }
                Err(AttemptError::Status(f)) => return Err(status_error(&req, &f)),
            }
        }
    }

    fn url_of(&self, req: &Req<'_>) -> Result<Url, AttemptError> {
        let path = match &req.target {
            Target::Url(u) => return Ok(u.clone()),
            Target::Path(p) => p,
        };
        let registry = req.repo.registry();
        let scheme = self
            .state()
            .get(registry)
            .and_then(|s| s.scheme)
            .unwrap_or("https");
        Url::parse(&format!("{scheme}://{registry}{path}")).map_err(|e| {
            AttemptError::Fatal(OciError::InvalidReference {
                input: format!("{registry}{path}"),
                reason: format!("cannot make a URL: {e}"),
            })
        })
    }

    async fn send_streaming(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&AuthHeader>,
        headers: &[(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
        body: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, AttemptError> {
        let mut rb = self.inner.http.request(method.clone(), url.clone());
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        if let Some(a) = auth {
            rb = rb.header(reqwest::header::AUTHORIZATION, a.value.clone());
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        match rb.send().await {
            Ok(r) => {
                self.inner.requests.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(method = %method, url = %url, status = r.status().as_u16(), "registry request (streamed)");
                Ok(r)
            }
            Err(e) => {
                if !e.is_connect() {
                    self.inner.requests.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(method = %method, url = %url, error = %e, "registry request failed");
                Err(AttemptError::Transport(e))
            }
        }
    }

    /// Turns a non-2xx streamed answer into the attempt error the retry policy expects.
    async fn streamed_failure(&self, req: &Req<'_>, resp: reqwest::Response) -> AttemptError {
        let status = resp.status();
        let headers = resp.headers().clone();
        let url = resp.url().clone();
        let mut body = Vec::new();
        let mut resp = resp;
        while let Ok(Some(chunk)) = resp.chunk().await {
            let room = (64usize << 10).saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room == 0 {
                break;
            }
        }
        let f = Fetched {
            status,
            headers,
            body,
            url,
            attempts: 1,
        };
        match status {
            StatusCode::NOT_FOUND => AttemptError::Fatal(OciError::NotFound {
                action: req.action,
                target: req.name.clone(),
                detail: error_detail(&f.body),
            }),
            StatusCode::UNAUTHORIZED => {
                self.unauthorized(req, "the registry refused the credentials".into())
            }
            StatusCode::FORBIDDEN => AttemptError::Fatal(OciError::Forbidden {
                action: req.action,
                target: req.name.clone(),
                registry: req.repo.registry().to_owned(),
                repository: req.repo.path().to_owned(),
                detail: error_detail(&f.body),
            }),
            s if is_retryable_status(s) => AttemptError::Status(Box::new(f)),
            _ => AttemptError::Fatal(status_error_n(req, &f, 1)),
        }
    }

    /// Sends `req` (no body) with credentials, answering one 401 challenge.
    async fn authed_get(&self, req: &Req<'_>) -> Result<reqwest::Response, AttemptError> {
        let url = self.url_of(req)?;
        let ours = same_origin(req.repo.registry(), &url);
        let auth = if ours {
            self.upfront_auth(req).await?
        } else {
            None
        };
        let resp = self
            .send_streaming(req.method.clone(), &url, auth.as_ref(), &req.headers, None)
            .await?;
        if resp.status() != StatusCode::UNAUTHORIZED || !ours {
            return Ok(resp);
        }
        let challenge = parse_challenges(
            resp.headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let answer = self.answer_challenge(req, challenge, auth.as_ref()).await?;
        self.send_streaming(req.method.clone(), &url, Some(&answer), &req.headers, None)
            .await
    }

    async fn stream_once(
        &self,
        req: &Req<'_>,
        digest: &Digest,
        out: &mut dyn Write,
        progress: Option<&Progress>,
        written: &mut u64,
    ) -> Result<(), AttemptError> {
        let mut resp = self.authed_get(req).await?;
        if !resp.status().is_success() {
            return Err(self.streamed_failure(req, resp).await);
        }
        let too_large = |size| {
            AttemptError::Fatal(OciError::TooLarge {
                action: req.action,
                target: req.name.clone(),
                what: "blob",
                limit: req.cap,
                size,
            })
        };
        let announced = content_length(resp.headers());
        if let Some(len) = announced
            && len > req.cap
        {
            return Err(too_large(Some(len)));
        }
        let mut hasher = cosign_crypto::Hasher::new(digest.algorithm());
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if *written + chunk.len() as u64 > req.cap {
                        return Err(too_large(announced));
                    }
                    hasher.update(&chunk);
                    out.write_all(&chunk).map_err(|e| {
                        AttemptError::Fatal(OciError::InvalidResponse {
                            action: req.action,
                            target: req.name.clone(),
                            reason: format!("writing the blob out failed: {e}"),
                            source: Some(Box::new(e)),
                        })
                    })?;
                    *written += chunk.len() as u64;
                    if let Some(p) = progress {
                        p(*written);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(AttemptError::Transport(e)),
            }
        }
        let got = hasher.finish();
        if &got != digest {
            return Err(AttemptError::Fatal(OciError::DigestMismatch {
                action: req.action,
                target: req.name.clone(),
                expected: digest.clone(),
                actual: got,
            }));
        }
        Ok(())
    }

    /// Uploads the file at `path` (`size` bytes, hashing to `digest`) as a blob, streaming it
    /// from disk: nothing when the repository has the blob (one HEAD), else a new upload
    /// session and one PUT with the file as body. With `mount_from` (same registry) a
    /// cross-repository mount is tried first. The registry checks the digest of what it got.
    pub async fn push_blob_from_file(
        &self,
        repo: &Repository,
        digest: &Digest,
        size: u64,
        path: &Path,
        mount_from: Option<&Repository>,
        progress: Option<Progress>,
    ) -> Result<(), OciError> {
        if let Some(from) = mount_from
            && self.mount_blob(repo, digest, from).await?
        {
            return Ok(());
        }
        if self.blob_exists(repo, digest).await?.is_some() {
            return Ok(());
        }
        let name = format!("{repo}@{digest}");
        let action = "uploading blob";
        let mut retry = Retry::new(self.inner.max_attempts, action, &name);
        loop {
            match self
                .upload_file_once(repo, digest, size, path, &name, progress.clone())
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => retry.failed(e).await?,
            }
        }
    }

    async fn upload_file_once(
        &self,
        repo: &Repository,
        digest: &Digest,
        size: u64,
        path: &Path,
        name: &str,
        progress: Option<Progress>,
    ) -> Result<(), AttemptError> {
        let mut post = Req::new(
            Method::POST,
            repo,
            format!("/v2/{}/blobs/uploads/", repo.path()),
            "uploading blob",
        )
        .push()
        .named(name.to_owned());
        post.body = Some(Bytes::new());
        let f = self.attempt(&post).await?;
        match f.status {
            StatusCode::CREATED => return Ok(()),
            StatusCode::ACCEPTED => {}
            s if is_retryable_status(s) => return Err(AttemptError::Status(Box::new(f))),
            _ => return Err(AttemptError::Fatal(status_error_n(&post, &f, 1))),
        }
        let invalid = |reason: String| {
            AttemptError::Fatal(OciError::InvalidResponse {
                action: post.action,
                target: name.to_owned(),
                reason,
                source: None,
            })
        };
        let location = f
            .header(LOCATION.as_str())
            .ok_or_else(|| invalid("the upload session answer has no Location header".into()))?;
        let mut url = f
            .url
            .join(location.trim())
            .map_err(|_| invalid(format!("invalid upload Location {location:?}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "upload Location {location:?} is not http(s)"
            )));
        }
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let mut put = Req::new(Method::PUT, repo, String::new(), "uploading blob")
            .push()
            .named(name.to_owned());
        put.target = Target::Url(url.clone());
        let auth = if same_origin(repo.registry(), &url) {
            self.upfront_auth(&put).await?
        } else {
            None
        };
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            AttemptError::Fatal(OciError::InvalidResponse {
                action: put.action,
                target: name.to_owned(),
                reason: format!("opening {} failed: {e}", path.display()),
                source: Some(Box::new(e)),
            })
        })?;
        let body = file_body(file, progress);
        let headers = [
            (CONTENT_TYPE, static_header("application/octet-stream")),
            (CONTENT_LENGTH, reqwest::header::HeaderValue::from(size)),
        ];
        let resp = self
            .send_streaming(Method::PUT, &url, auth.as_ref(), &headers, Some(body))
            .await?;
        if !resp.status().is_success() {
            return Err(self.streamed_failure(&put, resp).await);
        }
        if let Some(announced) = resp
            .headers()
            .get(DOCKER_CONTENT_DIGEST)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.trim().parse::<Digest>().ok())
            && announced.algorithm() == digest.algorithm()
            && &announced != digest
        {
            return Err(AttemptError::Fatal(OciError::DigestMismatch {
                action: put.action,
                target: name.to_owned(),
                expected: digest.clone(),
                actual: announced,
            }));
        }
        Ok(())
    }
}

/// A request body that reads `file` in chunks, reporting progress.
fn file_body(file: tokio::fs::File, progress: Option<Progress>) -> reqwest::Body {
    let stream = futures_util::stream::unfold(
        (file, 0u64, progress),
        |(mut file, sent, progress)| async move {
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    let sent = sent + n as u64;
                    if let Some(p) = &progress {
                        p(sent);
                    }
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from(buf)),
                        (file, sent, progress),
                    ))
                }
                Err(e) => Some((Err(e), (file, sent, progress))),
            }
        },
    );
    reqwest::Body::wrap_stream(stream)
}
