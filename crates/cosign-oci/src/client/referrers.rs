//! The referrers API: the artifacts that name a manifest as their subject.

use std::collections::HashSet;

use cosign_types::media_types::OCI_INDEX_MEDIA_TYPE;
use cosign_types::oci::{ImageIndex, MAX_ENTRIES, MAX_MANIFEST_BYTES};
use cosign_types::{Digest, TypesError};
use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};

use super::transport::{Req, static_header};
use super::{MAX_PAGES, Registry};
use crate::OciError;
use crate::reference::Repository;

impl Registry {
    /// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: `Some(index)` on 200 (filtered by
    /// `artifact_type` here too, since registries may ignore the filter), `None` on 404 or
    /// 400 (no referrers API: use the `sha256-<hex>` tag). Pages (`Link: rel="next"`) are
    /// followed; each page is capped at [`MAX_MANIFEST_BYTES`] and all pages together at
    /// [`MAX_ENTRIES`] entries.
    pub async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<ImageIndex>, OciError> {
        let mut path = format!("/v2/{}/referrers/{subject}", repo.path());
        if let Some(at) = artifact_type {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("artifactType", at)
                .finish();
            path = format!("{path}?{q}");
        }
        let name = format!("{repo}@{subject}");
        let mut req = Req::new(Method::GET, repo, path, "listing referrers")
            .header(ACCEPT, static_header(OCI_INDEX_MEDIA_TYPE))
            .named(name.clone())
            .capped(MAX_MANIFEST_BYTES, "referrers index");
        let mut result: Option<ImageIndex> = None;
        let mut seen = HashSet::new();
        for page in 0..MAX_PAGES {
            let f = self.execute(&req).await?;
            match f.status {
                StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST if page == 0 => return Ok(None),
                StatusCode::OK => {}
                _ => return Err(req.status_error(&f)),
            }
            let index = ImageIndex::from_json(&f.body).map_err(|e| match e {
                TypesError::TooMany {
                    what, count, max, ..
                } => OciError::TooMany {
                    action: req.action,
                    target: name.clone(),
                    what,
                    count,
                    max,
                },
                other => OciError::InvalidResponse {
                    action: req.action,
                    target: name.clone(),
                    reason: "the referrers answer is not an OCI image index".into(),
                    source: Some(Box::new(other)),
                },
            })?;
            match &mut result {
                None => result = Some(index),
                Some(r) => {
                    let count = r.manifests.len() + index.manifests.len();
                    if count > MAX_ENTRIES {
                        return Err(OciError::TooMany {
                            action: req.action,
                            target: name.clone(),
                            what: "referrers",
                            count,
                            max: MAX_ENTRIES,
                        });
                    }
                    r.manifests.extend(index.manifests);
                }
            }
            match req.next_page(&f, &mut seen)? {
                Some(url) => req = req.at_url(url),
                None => {
                    let mut index = result.unwrap_or_else(ImageIndex::empty);
                    if let Some(at) = artifact_type {
                        index
                            .manifests
                            .retain(|d| d.artifact_type.as_deref() == Some(at));
                    }
                    return Ok(Some(index));
                }
            }
        }
        Err(req.too_many_pages(MAX_PAGES))
    }
}
