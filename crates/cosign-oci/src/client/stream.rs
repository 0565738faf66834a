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

use bytes::Bytes;
use cosign_types::Digest;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncReadExt;

use super::Registry;
use super::blob::{Session, blob_req, check_stored_digest, read_session, upload_post};
use super::transport::{
    AttemptError, Req, content_length, is_retryable_status, read_error_body, same_origin,
    static_header,
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
        let req = blob_req(Method::GET, repo, digest, action).capped(max_size, "blob");
        let mut retry = self.transport().retry(action, &name);
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
                Err(AttemptError::Status(f)) => return Err(req.status_error(&f)),
            }
        }
    }

    /// Turns a non-2xx streamed answer into the attempt error the retry policy expects.
    async fn streamed_failure(&self, req: &Req<'_>, resp: reqwest::Response) -> AttemptError {
        let f = read_error_body(resp).await;
        match f.status {
            StatusCode::NOT_FOUND => req.not_found(&f.body).into(),
            StatusCode::UNAUTHORIZED => req
                .unauthorized("the registry refused the credentials".into())
                .into(),
            StatusCode::FORBIDDEN => req.forbidden(&f.body).into(),
            s if is_retryable_status(s) => AttemptError::Status(Box::new(f)),
            _ => req.status_error_n(&f, 1).into(),
        }
    }

    /// Sends `req` (no body) with credentials, answering one 401 challenge.
    async fn authed_get(&self, req: &Req<'_>) -> Result<reqwest::Response, AttemptError> {
        let url = self.transport().url_of(req)?;
        let ours = same_origin(req.repo.registry(), &url);
        let (resp, _) = self
            .authorized(req, ours, |auth| {
                let url = &url;
                async move {
                    self.transport()
                        .dispatch(req.method.clone(), url, &req.headers, auth.as_ref(), None)
                        .await
                }
            })
            .await?;
        Ok(resp)
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
        let mut retry = self.transport().retry(action, &name);
        loop {
            match self
                .upload_file_once(repo, digest, size, path, progress.clone())
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
        progress: Option<Progress>,
    ) -> Result<(), AttemptError> {
        let post = upload_post(repo, digest, None, "uploading blob");
        let f = self.attempt(&post).await?;
        // A status error names the first attempt, as it always has here.
        let url = match read_session(&post, f, digest, false, 1)? {
            Session::Open(url) => url,
            Session::AlreadyThere | Session::MountRefused => return Ok(()),
        };
        let put = Req::new(Method::PUT, repo, String::new(), "uploading blob")
            .push()
            .named(post.name.clone())
            .at_url(url.clone());
        let auth = if same_origin(repo.registry(), &url) {
            self.inner.auth.upfront(self.transport(), &put).await?
        } else {
            None
        };
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            put.invalid(
                format!("opening {} failed: {e}", path.display()),
                Some(Box::new(e)),
            )
        })?;
        let body = file_body(file, progress);
        let headers = [
            (CONTENT_TYPE, static_header("application/octet-stream")),
            (CONTENT_LENGTH, HeaderValue::from(size)),
        ];
        let resp = self
            .transport()
            .dispatch(
                Method::PUT,
                &url,
                &headers,
                auth.as_ref().map(|a| a.value()),
                Some(body),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(self.streamed_failure(&put, resp).await);
        }
        check_stored_digest(&put, resp.headers(), digest)
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
