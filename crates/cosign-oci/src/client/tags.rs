//! Tag lists.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};

use super::transport::Req;
use super::{MAX_PAGES, Registry};
use crate::OciError;
use crate::reference::Repository;

/// The largest page of a tag list read.
const MAX_TAGS_PAGE_BYTES: u64 = 16 << 20;
/// All pages of a tag list together.
const MAX_TAGS_TOTAL_BYTES: u64 = 64 << 20;

impl Registry {
    /// Lists a repository's tags, following `Link: rel="next"` pages (at most 100 pages,
    /// 16 MiB each, 64 MiB in all). A repository the registry does not know is
    /// [`OciError::NotFound`].
    pub async fn list_tags(&self, repo: &Repository) -> Result<Vec<String>, OciError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut req = Req::new(
            Method::GET,
            repo,
            format!("/v2/{}/tags/list", repo.path()),
            "listing tags",
        )
        .capped(MAX_TAGS_PAGE_BYTES, "tag list page");
        let mut budget = MAX_TAGS_TOTAL_BYTES;
        let mut tags = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            req.cap = MAX_TAGS_PAGE_BYTES.min(budget);
            let f = self.execute(&req).await?;
            match f.status {
                StatusCode::NOT_FOUND => return Err(req.not_found(&f.body)),
                StatusCode::OK => {}
                _ => return Err(req.status_error(&f)),
            }
            budget = budget.saturating_sub(f.body.len() as u64);
            let page: TagList = serde_json::from_slice(&f.body).map_err(|e| {
                req.invalid(
                    "the tag list is not the expected JSON".into(),
                    Some(Box::new(e)),
                )
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match req.next_page(&f, &mut seen)? {
                Some(url) => req = req.at_url(url),
                None => return Ok(tags),
            }
        }
        Err(req.too_many_pages(MAX_PAGES))
    }
}
