//! Manifests: HEAD, GET (checked against their digests), PUT and DELETE.

use std::fmt;

use bytes::Bytes;
use cosign_types::media_types::{OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use cosign_types::oci::{
    Descriptor, ImageIndex, ImageManifest, MAX_MANIFEST_BYTES, declared_media_type,
    is_index_media_type,
};
use cosign_types::{Digest, HashAlgorithm, TypesError};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use tracing::debug;

use super::Registry;
use super::transport::{DOCKER_CONTENT_DIGEST, Fetched, Req, announced_digest, static_header};
use crate::OciError;
use crate::reference::{Reference, Repository, check_tag};

/// The `Accept` header of every manifest GET and HEAD: OCI manifest and index, Docker
/// manifest and manifest list. (distribution answers 404 for an OCI manifest unless an OCI
/// type is accepted.)
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

const OCI_SUBJECT: &str = "oci-subject";

/// A manifest as fetched: its media type, digest and exact bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Manifest {
    /// From `Content-Type`, or the body's `mediaType` when the header is missing or generic.
    pub media_type: String,
    /// The digest of `bytes` (checked against the requested digest and the registry's
    /// `Docker-Content-Digest`).
    pub digest: Digest,
    /// The manifest bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Manifest {
    /// A descriptor of this manifest (media type, size, digest).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.bytes.len() as u64,
            self.digest.clone(),
        )
    }

    /// Whether this is an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        is_index_media_type(&self.media_type)
    }

    /// Parses the bytes as an image manifest, refusing more than [`MAX_ENTRIES`](cosign_types::oci::MAX_ENTRIES) layers.
    pub fn image_manifest(&self) -> Result<ImageManifest, OciError> {
        ImageManifest::from_json(&self.bytes).map_err(|e| parse_error(e, &self.digest, "manifest"))
    }

    /// Parses the bytes as an image index, refusing more than [`MAX_ENTRIES`](cosign_types::oci::MAX_ENTRIES) entries.
    pub fn image_index(&self) -> Result<ImageIndex, OciError> {
        ImageIndex::from_json(&self.bytes).map_err(|e| parse_error(e, &self.digest, "index"))
    }
}

fn parse_error(e: TypesError, digest: &Digest, what: &'static str) -> OciError {
    match e {
        TypesError::TooMany {
            what: counted,
            count,
            max,
        } => OciError::TooMany {
            action: "parsing",
            target: format!("{what} {digest}"),
            what: counted,
            count,
            max,
        },
        other => OciError::InvalidResponse {
            action: "parsing",
            target: format!("{what} {digest}"),
            reason: format!("not a valid {what}"),
            source: Some(Box::new(other)),
        },
    }
}

/// The result of a manifest PUT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutManifest {
    /// The manifest's digest (computed here; the registry's `Docker-Content-Digest`, when
    /// sent, must agree).
    pub digest: Digest,
    /// The `OCI-Subject` response header: the registry processed the manifest's `subject`
    /// (it has the referrers API).
    pub oci_subject: Option<String>,
}

fn manifest_path(repo: &Repository, reference: &Reference) -> Result<String, OciError> {
    if let Reference::Tag(t) = reference {
        check_tag(t).map_err(|reason| OciError::InvalidReference {
            input: format!("{}:{t}", repo.name()),
            reason,
        })?;
    }
    Ok(format!("/v2/{}/manifests/{reference}", repo.path()))
}

fn manifest_name(repo: &Repository, reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("{repo}:{t}"),
        Reference::Digest(d) => format!("{repo}@{d}"),
    }
}

/// The request of a manifest operation.
fn manifest_req<'a>(
    method: Method,
    repo: &'a Repository,
    reference: &Reference,
    action: &'static str,
) -> Result<Req<'a>, OciError> {
    Ok(
        Req::new(method, repo, manifest_path(repo, reference)?, action)
            .named(manifest_name(repo, reference)),
    )
}

impl Registry {
    /// HEAD or GET a manifest (the one request both share): `None` on 404, else the 2xx
    /// answer with the request (for errors). A GET reads at most [`MAX_MANIFEST_BYTES`].
    async fn read_manifest<'a>(
        &self,
        method: Method,
        repo: &'a Repository,
        reference: &Reference,
        action: &'static str,
    ) -> Result<Option<(Req<'a>, Fetched)>, OciError> {
        let req = manifest_req(method, repo, reference, action)?
            .header(ACCEPT, static_header(MANIFEST_ACCEPT))
            .capped(MAX_MANIFEST_BYTES, "manifest");
        let f = self.execute(&req).await?;
        Ok(req.found(f)?.map(|f| (req, f)))
    }

    /// HEAD a manifest: `None` on 404. The descriptor comes from `Content-Type`,
    /// `Docker-Content-Digest` and `Content-Length`; when one of them is missing (or the
    /// type is generic) the manifest is fetched and hashed instead.
    pub async fn head_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<Option<Descriptor>, OciError> {
        let Some((req, f)) = self
            .read_manifest(Method::HEAD, repo, reference, "checking manifest")
            .await?
        else {
            return Ok(None);
        };
        let media_type = content_type(&f.headers).filter(|m| !is_generic(m));
        let size = f.content_length();
        let digest = match f.header(DOCKER_CONTENT_DIGEST) {
            Some(text) => Some(text.trim().parse::<Digest>().map_err(|e| {
                req.invalid(
                    format!("invalid Docker-Content-Digest header {text:?}"),
                    Some(Box::new(e)),
                )
            })?),
            None => None,
        };
        if let (Some(wanted), Some(got)) = (reference.as_digest(), &digest)
            && wanted != got
        {
            return Err(OciError::DigestMismatch {
                action: req.action,
                target: req.name.clone(),
                expected: wanted.clone(),
                actual: got.clone(),
            });
        }
        match (media_type, size, digest) {
            (Some(mt), Some(size), Some(digest)) => Ok(Some(Descriptor::new(mt, size, digest))),
            _ => Ok(self
                .get_manifest(repo, reference)
                .await?
                .map(|m| m.descriptor())),
        }
    }

    /// GET a manifest: `None` on 404. At most [`MAX_MANIFEST_BYTES`] are read (a larger
    /// `Content-Length` is refused before reading); the bytes must hash to the requested
    /// digest and to `Docker-Content-Digest` when the registry sends one.
    pub async fn get_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<Option<Manifest>, OciError> {
        let Some((req, f)) = self
            .read_manifest(Method::GET, repo, reference, "fetching manifest")
            .await?
        else {
            return Ok(None);
        };
        let mismatch = |expected: &Digest, actual: Digest| OciError::DigestMismatch {
            action: req.action,
            target: req.name.clone(),
            expected: expected.clone(),
            actual,
        };
        let sha256 = cosign_crypto::hash(HashAlgorithm::Sha256, &f.body);
        let of = |d: &Digest| {
            if d.algorithm() == HashAlgorithm::Sha256 {
                sha256.clone()
            } else {
                cosign_crypto::hash(d.algorithm(), &f.body)
            }
        };
        if let Some(wanted) = reference.as_digest() {
            let got = of(wanted);
            if &got != wanted {
                return Err(mismatch(wanted, got));
            }
        }
        if let Some(text) = f.header(DOCKER_CONTENT_DIGEST) {
            match text.trim().parse::<Digest>() {
                Ok(announced) => {
                    let got = of(&announced);
                    if got != announced {
                        return Err(mismatch(&announced, got));
                    }
                }
                Err(e) => {
                    debug!(header = text, error = %e, "ignoring unparseable Docker-Content-Digest")
                }
            }
        }
        let digest = reference.as_digest().cloned().unwrap_or(sha256);
        let media_type = content_type(&f.headers)
            .filter(|m| !is_generic(m))
            .or_else(|| declared_media_type(&f.body))
            .unwrap_or_else(|| guess_media_type(&f.body).to_owned());
        Ok(Some(Manifest {
            media_type,
            digest,
            bytes: f.body,
        }))
    }

    /// PUT a manifest with `Content-Type: media_type`. The digest is computed here (and must
    /// equal `reference` when that is a digest, and the registry's `Docker-Content-Digest`).
    pub async fn put_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
        media_type: &str,
        body: &[u8],
    ) -> Result<PutManifest, OciError> {
        let name = manifest_name(repo, reference);
        let action = "pushing manifest";
        if body.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(OciError::TooLarge {
                action,
                target: name,
                what: "manifest",
                limit: MAX_MANIFEST_BYTES,
                size: Some(body.len() as u64),
            });
        }
        let digest = match reference {
            Reference::Digest(d) => {
                let got = cosign_crypto::hash(d.algorithm(), body);
                if &got != d {
                    return Err(OciError::DigestMismatch {
                        action,
                        target: name,
                        expected: d.clone(),
                        actual: got,
                    });
                }
                d.clone()
            }
            Reference::Tag(_) => cosign_crypto::hash(HashAlgorithm::Sha256, body),
        };
        let ct = HeaderValue::from_str(media_type).map_err(|_| OciError::InvalidReference {
            input: media_type.to_owned(),
            reason: "not a valid media type".into(),
        })?;
        let req = manifest_req(Method::PUT, repo, reference, action)?
            .push()
            .header(CONTENT_TYPE, ct)
            .body(Bytes::copy_from_slice(body));
        let f = self.execute(&req).await?;
        if !f.status.is_success() {
            return Err(req.status_error(&f));
        }
        if let Some(announced) = announced_digest(&f.headers) {
            let ours = if announced.algorithm() == digest.algorithm() {
                digest.clone()
            } else {
                cosign_crypto::hash(announced.algorithm(), body)
            };
            if ours != announced {
                return Err(OciError::DigestMismatch {
                    action,
                    target: req.name.clone(),
                    expected: ours,
                    actual: announced,
                });
            }
        }
        Ok(PutManifest {
            digest,
            oci_subject: f.header(OCI_SUBJECT).map(|s| s.trim().to_owned()),
        })
    }

    /// DELETE a manifest: `true` when deleted, `false` on 404. Other answers are
    /// [`OciError::Status`] with the status kept (distribution answers 400 for a tag; delete
    /// by digest then).
    pub async fn delete_manifest(
        &self,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<bool, OciError> {
        let req = manifest_req(Method::DELETE, repo, reference, "deleting manifest")?.push();
        let f = self.execute(&req).await?;
        Ok(req.found(f)?.is_some())
    }
}

/// The media type of a `Content-Type` header, without parameters.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let mt = v.split(';').next().unwrap_or("").trim();
    (!mt.is_empty()).then(|| mt.to_owned())
}

/// A `Content-Type` that says nothing about the manifest kind (`application/json` ...).
fn is_generic(media_type: &str) -> bool {
    !media_type.starts_with("application/vnd.")
}

fn guess_media_type(body: &[u8]) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Probe {
        manifests: Option<serde::de::IgnoredAny>,
        #[serde(rename = "schemaVersion")]
        _schema_version: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(body) {
        Ok(Probe {
            manifests: Some(_), ..
        }) => OCI_INDEX_MEDIA_TYPE,
        _ => OCI_MANIFEST_MEDIA_TYPE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_types::media_types::{DOCKER_MANIFEST_LIST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE};
    use reqwest::header::HeaderValue;

    #[test]
    fn media_types() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
        );
        assert_eq!(content_type(&h).unwrap(), OCI_MANIFEST_MEDIA_TYPE);
        assert!(is_generic("application/json"));
        assert!(!is_generic(OCI_INDEX_MEDIA_TYPE));
        assert_eq!(
            guess_media_type(br#"{"manifests":[]}"#),
            OCI_INDEX_MEDIA_TYPE
        );
        assert_eq!(
            guess_media_type(br#"{"layers":[]}"#),
            OCI_MANIFEST_MEDIA_TYPE
        );
        assert!(MANIFEST_ACCEPT.contains(DOCKER_MANIFEST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(DOCKER_MANIFEST_LIST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(OCI_MANIFEST_MEDIA_TYPE));
        assert!(MANIFEST_ACCEPT.contains(OCI_INDEX_MEDIA_TYPE));
    }
}
