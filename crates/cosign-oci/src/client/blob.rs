//! Blobs held in memory: HEAD, GET (checked against the digest), uploads and
//! cross-repository mounts. The upload session steps are shared with the streamed uploads.

use bytes::Bytes;
use cosign_types::Digest;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use url::Url;

use super::Registry;
use super::transport::{
    AttemptError, Fetched, Req, announced_digest, is_retryable_status, static_header,
};
use crate::OciError;
use crate::reference::Repository;

/// How an upload ended.
enum Upload {
    Done,
    AlreadyThere,
    MountRefused,
}

/// The answer to the POST that opens an upload session.
pub(super) enum Session {
    /// 202: send the blob to this URL (`?digest=` added).
    Open(Url),
    /// 201: the blob is there (mounted) and nothing is to be sent.
    AlreadyThere,
    /// The registry refused the mount (the POST asked for one).
    MountRefused,
}

/// The request of a blob operation: `/v2/<repo>/blobs/<digest>`, named `repo@digest`.
pub(super) fn blob_req<'a>(
    method: Method,
    repo: &'a Repository,
    digest: &Digest,
    action: &'static str,
) -> Req<'a> {
    Req::new(
        method,
        repo,
        format!("/v2/{}/blobs/{digest}", repo.path()),
        action,
    )
    .named(format!("{repo}@{digest}"))
}

/// The POST that opens an upload session, asking to mount `digest` from `mount_from`.
pub(super) fn upload_post<'a>(
    repo: &'a Repository,
    digest: &Digest,
    mount_from: Option<&Repository>,
    action: &'static str,
) -> Req<'a> {
    let path = match mount_from {
        Some(from) => format!(
            "/v2/{}/blobs/uploads/?mount={digest}&from={}",
            repo.path(),
            from.path()
        ),
        None => format!("/v2/{}/blobs/uploads/", repo.path()),
    };
    Req::new(Method::POST, repo, path, action)
        .push()
        .named(format!("{repo}@{digest}"))
        .body(Bytes::new())
}

/// Reads the answer `f` to the upload POST `post`: the session URL (with `?digest=`), or
/// how the upload already ended. `mount` says whether the POST asked for a mount; a status
/// error names attempt `attempt`.
pub(super) fn read_session(
    post: &Req<'_>,
    f: Fetched,
    digest: &Digest,
    mount: bool,
    attempt: u32,
) -> Result<Session, AttemptError> {
    match f.status {
        StatusCode::CREATED => return Ok(Session::AlreadyThere),
        StatusCode::ACCEPTED => {}
        s if is_retryable_status(s) => return Err(AttemptError::Status(Box::new(f))),
        _ if mount => return Ok(Session::MountRefused),
        _ => return Err(post.status_error_n(&f, attempt).into()),
    }
    let location = f.header(LOCATION.as_str()).ok_or_else(|| {
        post.invalid(
            "the upload session answer has no Location header".into(),
            None,
        )
    })?;
    let mut url = f.url.join(location.trim()).map_err(|e| {
        post.invalid(
            format!("invalid upload Location {location:?}"),
            Some(Box::new(e)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(post
            .invalid(format!("upload Location {location:?} is not http(s)"), None)
            .into());
    }
    url.query_pairs_mut()
        .append_pair("digest", &digest.to_string());
    Ok(Session::Open(url))
}

/// After a successful upload PUT: the registry's `Docker-Content-Digest`, when it is of the
/// same algorithm, must be `digest`.
pub(super) fn check_stored_digest(
    put: &Req<'_>,
    headers: &HeaderMap,
    digest: &Digest,
) -> Result<(), AttemptError> {
    if let Some(announced) = announced_digest(headers)
        && announced.algorithm() == digest.algorithm()
        && &announced != digest
    {
        return Err(AttemptError::Fatal(OciError::DigestMismatch {
            action: put.action,
            target: put.name.clone(),
            expected: digest.clone(),
            actual: announced,
        }));
    }
    Ok(())
}

fn check_data_digest(repo: &Repository, digest: &Digest, data: &[u8]) -> Result<(), OciError> {
    let got = cosign_crypto::hash(digest.algorithm(), data);
    if &got != digest {
        return Err(OciError::DigestMismatch {
            action: "uploading blob",
            target: format!("{repo}@{digest}"),
            expected: digest.clone(),
            actual: got,
        });
    }
    Ok(())
}

impl Registry {
    /// HEAD a blob: its size when present (0 if the registry sends no length), `None` on 404.
    pub async fn blob_exists(
        &self,
        repo: &Repository,
        digest: &Digest,
    ) -> Result<Option<u64>, OciError> {
        let req = blob_req(Method::HEAD, repo, digest, "checking blob");
        let f = self.execute(&req).await?;
        Ok(req.found(f)?.map(|f| f.content_length().unwrap_or(0)))
    }

    /// GET a blob of at most `max_size` bytes: a larger `Content-Length` is refused before
    /// reading, and reading stops as soon as the body passes `max_size` (no or lying length,
    /// endless body). The bytes must hash to `digest`. 404 is [`OciError::NotFound`].
    pub async fn get_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        max_size: u64,
    ) -> Result<Vec<u8>, OciError> {
        let req = blob_req(Method::GET, repo, digest, "fetching blob").capped(max_size, "blob");
        let f = self.execute(&req).await?;
        match f.status {
            StatusCode::NOT_FOUND => return Err(req.not_found(&f.body)),
            s if s.is_success() => {}
            _ => return Err(req.status_error(&f)),
        }
        let got = cosign_crypto::hash(digest.algorithm(), &f.body);
        if &got != digest {
            return Err(OciError::DigestMismatch {
                action: req.action,
                target: req.name.clone(),
                expected: digest.clone(),
                actual: got,
            });
        }
        Ok(f.body)
    }

    /// Uploads a blob: `POST /blobs/uploads/`, then `PUT <Location>?digest=` with the body
    /// (distribution has no single-POST upload). A 201 to the POST ends it. The data must
    /// hash to `digest` (checked before sending).
    pub async fn push_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), OciError> {
        check_data_digest(repo, digest, data)?;
        let data = Bytes::copy_from_slice(data);
        match self.upload(repo, digest, &data, None).await? {
            Upload::Done | Upload::AlreadyThere => Ok(()),
            // Without a mount query the POST's status is checked in `upload`.
            Upload::MountRefused => Ok(()),
        }
    }

    /// Uploads a blob unless the repository has it, in one request when it does:
    /// `POST /blobs/uploads/?mount=<digest>&from=<repo>` answers 201 when the blob is there,
    /// or 202 with an upload session the body is then PUT into. Registries that refuse the
    /// mount get a HEAD and an upload.
    pub async fn push_blob_if_missing(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), OciError> {
        check_data_digest(repo, digest, data)?;
        let data = Bytes::copy_from_slice(data);
        match self.upload(repo, digest, &data, Some(repo)).await? {
            Upload::Done | Upload::AlreadyThere => Ok(()),
            Upload::MountRefused => {
                if self.blob_exists(repo, digest).await?.is_some() {
                    return Ok(());
                }
                match self.upload(repo, digest, &data, None).await? {
                    Upload::Done | Upload::AlreadyThere | Upload::MountRefused => Ok(()),
                }
            }
        }
    }

    /// Asks the registry to mount `digest` from `from` (same registry) into `repo`: `true`
    /// when mounted (201), `false` when the registry answered otherwise (or `from` is on
    /// another registry). An upload session the registry may have opened instead is left to
    /// expire.
    pub async fn mount_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        from: &Repository,
    ) -> Result<bool, OciError> {
        if from.registry() != repo.registry() {
            return Ok(false);
        }
        let mut req = upload_post(repo, digest, Some(from), "mounting blob")
            .named(format!("{repo}@{digest} from {from}"));
        if from != repo {
            req.also_pulls = Some(from);
        }
        let f = self.execute(&req).await?;
        Ok(f.status == StatusCode::CREATED)
    }

    /// One upload, retried as a whole (new session per attempt).
    async fn upload(
        &self,
        repo: &Repository,
        digest: &Digest,
        data: &Bytes,
        mount_from: Option<&Repository>,
    ) -> Result<Upload, OciError> {
        let post = upload_post(repo, digest, mount_from, "uploading blob");
        let mut retry = self.transport().retry(post.action, &post.name);
        loop {
            match self
                .upload_once(digest, data, mount_from.is_some(), &post, retry.attempt)
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => retry.failed(e).await?,
            }
        }
    }

    /// One POST (+ PUT) of an upload.
    async fn upload_once(
        &self,
        digest: &Digest,
        data: &Bytes,
        mount: bool,
        post: &Req<'_>,
        attempt: u32,
    ) -> Result<Upload, AttemptError> {
        let f = self.attempt(post).await?;
        let url = match read_session(post, f, digest, mount, attempt)? {
            Session::Open(url) => url,
            Session::AlreadyThere => return Ok(Upload::AlreadyThere),
            Session::MountRefused => return Ok(Upload::MountRefused),
        };
        let put = Req::new(Method::PUT, post.repo, String::new(), "uploading blob")
            .push()
            .named(post.name.clone())
            .header(CONTENT_TYPE, static_header("application/octet-stream"))
            .at_url(url)
            .body(data.clone());
        let f = self.attempt(&put).await?;
        match f.status {
            s if s.is_success() => {
                check_stored_digest(&put, &f.headers, digest)?;
                Ok(Upload::Done)
            }
            s if is_retryable_status(s) => Err(AttemptError::Status(Box::new(f))),
            _ => Err(AttemptError::Fatal(put.status_error_n(&f, attempt))),
        }
    }
}
