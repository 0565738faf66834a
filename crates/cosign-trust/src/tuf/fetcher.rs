//! Getting repository files: the [`Fetcher`] trait and its HTTP(S) + `file://` implementation.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use crate::TrustError;

/// Downloads one file of a TUF repository.
///
/// Implementations must return [`TrustError::NotFound`] for a missing file (HTTP 403 and 404
/// included: object stores answer 403 for missing keys), and [`TrustError::TooLarge`] as soon
/// as the body exceeds `max_len` bytes, without reading the rest.
pub trait Fetcher {
    /// The whole body of `url`, at most `max_len` bytes.
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError>;
}

impl<F: Fetcher + ?Sized> Fetcher for &F {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError> {
        (**self).fetch(url, max_len)
    }
}

impl<F: Fetcher + ?Sized> Fetcher for Box<F> {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError> {
        (**self).fetch(url, max_len)
    }
}

impl<F: Fetcher + ?Sized> Fetcher for Arc<F> {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError> {
        (**self).fetch(url, max_len)
    }
}

/// Reads `reader` up to `max_len` bytes; more is [`TrustError::TooLarge`].
pub fn read_limited(
    reader: impl std::io::Read,
    url: &str,
    max_len: u64,
) -> Result<Vec<u8>, TrustError> {
    let mut body = Vec::new();
    reader
        .take(max_len.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| TrustError::Fetch {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > max_len {
        return Err(TrustError::TooLarge {
            url: url.to_owned(),
            limit: max_len,
        });
    }
    Ok(body)
}

/// Fetches `http://` and `https://` URLs with a blocking reqwest client, and reads `file://`
/// URLs from disk (air-gapped mirrors, as `cosign initialize --mirror file:///...`).
///
/// It is blocking: from async code, call the TUF client inside `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::blocking::Client,
}

impl HttpFetcher {
    /// A fetcher with its own client: the given `User-Agent`, `timeout` for each request
    /// (connect + whole body), rustls with the platform's roots.
    pub fn new(user_agent: &str, timeout: Duration) -> Result<Self, TrustError> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .build()
            .map_err(|e| TrustError::Fetch {
                url: "the TUF mirror".to_owned(),
                reason: format!("building the HTTP client: {e}"),
            })?;
        Ok(Self { client })
    }

    /// A fetcher using a client configured by the caller (proxies, extra roots ...).
    pub fn with_client(client: reqwest::blocking::Client) -> Self {
        Self { client }
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError> {
        let fetch_err = |reason: String| TrustError::Fetch {
            url: url.to_owned(),
            reason,
        };
        if url.starts_with("file:") {
            let path = url::Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| fetch_err("not a local file URL".to_owned()))?;
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(TrustError::NotFound {
                        url: url.to_owned(),
                    });
                }
                Err(e) => return Err(fetch_err(e.to_string())),
            };
            return read_limited(file, url, max_len);
        }
        let response = self
            .client
            .get(url)
            .send()
            .map_err(|e| fetch_err(error_chain(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            return Err(TrustError::NotFound {
                url: url.to_owned(),
            });
        }
        if !status.is_success() {
            return Err(fetch_err(format!("HTTP status {status}")));
        }
        if response.content_length().is_some_and(|n| n > max_len) {
            return Err(TrustError::TooLarge {
                url: url.to_owned(),
                limit: max_len,
            });
        }
        read_limited(response, url, max_len)
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
