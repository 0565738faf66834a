//! One registry request ([`Req`]), a read answer ([`Fetched`]), and the errors and pages
//! made from them.

use std::collections::HashSet;

use bytes::Bytes;
use cosign_types::Digest;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, LINK};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::OciError;
use crate::reference::{Repository, split_host_port};

/// The header with the digest of what the registry served or stored.
pub(crate) const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";
/// How much of an error answer is read (for its error codes).
pub(crate) const MAX_ERROR_BODY: u64 = 64 << 10;

/// A fully read answer.
pub(crate) struct Fetched {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) url: Url,
    /// The attempt that got this answer (1 = first).
    pub(crate) attempts: u32,
}

impl Fetched {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn content_length(&self) -> Option<u64> {
        content_length(&self.headers)
    }
}

pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Why one attempt failed.
pub(crate) enum AttemptError {
    /// Not worth retrying.
    Fatal(OciError),
    /// No answer, or the answer broke off.
    Transport(reqwest::Error),
    /// A status worth retrying (429, 5xx).
    Status(Box<Fetched>),
}

impl From<OciError> for AttemptError {
    fn from(e: OciError) -> Self {
        Self::Fatal(e)
    }
}

/// Where a request goes.
pub(crate) enum Target {
    /// A path (and query) on the registry, `/v2/...`.
    Path(String),
    /// An absolute URL (upload `Location`, a `Link` page).
    Url(Url),
}

/// One registry request.
pub(crate) struct Req<'a> {
    pub(crate) method: Method,
    pub(crate) repo: &'a Repository,
    pub(crate) target: Target,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Option<Bytes>,
    /// Whether the request writes to `repo` (token scope `pull,push`).
    pub(crate) push: bool,
    /// Another repository of the registry the request reads from (a cross-repository
    /// mount): its `pull` scope is asked for too.
    pub(crate) also_pulls: Option<&'a Repository>,
    /// Most bytes read from a 2xx answer.
    pub(crate) cap: u64,
    /// What the capped body is ("manifest", "blob" ...), for errors.
    pub(crate) what: &'static str,
    pub(crate) action: &'static str,
    pub(crate) name: String,
}

impl<'a> Req<'a> {
    pub(crate) fn new(
        method: Method,
        repo: &'a Repository,
        path: String,
        action: &'static str,
    ) -> Self {
        Self {
            method,
            repo,
            target: Target::Path(path),
            headers: Vec::new(),
            body: None,
            push: false,
            also_pulls: None,
            cap: MAX_ERROR_BODY,
            what: "response",
            action,
            name: repo.name(),
        }
    }

    pub(crate) fn push(mut self) -> Self {
        self.push = true;
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn named(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    pub(crate) fn capped(mut self, cap: u64, what: &'static str) -> Self {
        self.cap = cap;
        self.what = what;
        self
    }

    pub(crate) fn body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn at_url(mut self, url: Url) -> Self {
        self.target = Target::Url(url);
        self
    }

    /// Whether the request goes to the registry itself (not to a URL elsewhere).
    pub(crate) fn to_registry(&self) -> bool {
        match &self.target {
            Target::Path(_) => true,
            Target::Url(u) => same_origin(self.repo.registry(), u),
        }
    }

    /// The error of a non-2xx answer.
    pub(crate) fn status_error(&self, f: &Fetched) -> OciError {
        self.status_error_n(f, f.attempts)
    }

    /// The error of a non-2xx answer got at attempt `attempts`.
    pub(crate) fn status_error_n(&self, f: &Fetched, attempts: u32) -> OciError {
        OciError::Status {
            action: self.action,
            target: self.name.clone(),
            status: f.status.as_u16(),
            detail: error_detail(&f.body),
            attempts,
        }
    }

    /// The error of a 404 where the thing must exist.
    pub(crate) fn not_found(&self, body: &[u8]) -> OciError {
        OciError::NotFound {
            action: self.action,
            target: self.name.clone(),
            detail: error_detail(body),
        }
    }

    /// The error of a 403.
    pub(crate) fn forbidden(&self, body: &[u8]) -> OciError {
        OciError::Forbidden {
            action: self.action,
            target: self.name.clone(),
            registry: self.repo.registry().to_owned(),
            repository: self.repo.path().to_owned(),
            detail: error_detail(body),
        }
    }

    /// The error of a 401 that cannot be answered.
    pub(crate) fn unauthorized(&self, reason: String) -> OciError {
        OciError::Unauthorized {
            action: self.action,
            target: self.name.clone(),
            registry: self.repo.registry().to_owned(),
            repository: self.repo.path().to_owned(),
            reason,
        }
    }

    /// An answer the registry should not have given.
    pub(crate) fn invalid(
        &self,
        reason: String,
        source: Option<crate::error::BoxError>,
    ) -> OciError {
        OciError::InvalidResponse {
            action: self.action,
            target: self.name.clone(),
            reason,
            source,
        }
    }

    /// More pages than `max` followed.
    pub(crate) fn too_many_pages(&self, max: usize) -> OciError {
        OciError::TooMany {
            action: self.action,
            target: self.name.clone(),
            what: "pages",
            count: max + 1,
            max,
        }
    }

    /// `Ok(None)` on 404, the answer on 2xx, else the status error.
    pub(crate) fn found(&self, f: Fetched) -> Result<Option<Fetched>, OciError> {
        match f.status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(f)),
            _ => Err(self.status_error(&f)),
        }
    }

    /// The next page named by `Link: <...>; rel="next"` of the answer `f`, which must stay
    /// on the registry and not repeat.
    pub(crate) fn next_page(
        &self,
        f: &Fetched,
        seen: &mut HashSet<String>,
    ) -> Result<Option<Url>, OciError> {
        let links = f
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let Some(next) = next_link(links) else {
            return Ok(None);
        };
        let url = f
            .url
            .join(&next)
            .map_err(|_| self.invalid(format!("invalid Link {next:?}"), None))?;
        if !same_origin(self.repo.registry(), &url) || url.scheme() != f.url.scheme() {
            return Err(self.invalid(
                format!("the next page {next:?} is not on the registry"),
                None,
            ));
        }
        seen.insert(f.url.to_string());
        if !seen.insert(url.to_string()) {
            return Err(self.invalid(format!("the pages loop back to {next:?}"), None));
        }
        Ok(Some(url))
    }
}

/// The `Docker-Content-Digest` of an answer, when it parses.
pub(crate) fn announced_digest(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get(DOCKER_CONTENT_DIGEST)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.trim().parse::<Digest>().ok())
}

pub(crate) fn static_header(v: &'static str) -> HeaderValue {
    HeaderValue::from_static(v)
}

/// `: CODE: message; CODE: message` from an OCI error body, or a short sanitised snippet of
/// any other body; empty when there is nothing.
pub(crate) fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let clean = |s: &str, n: usize| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(n)
            .collect::<String>()
            .trim()
            .to_owned()
    };
    if let Ok(e) = serde_json::from_slice::<Errors>(body)
        && !e.errors.is_empty()
    {
        let parts: Vec<String> = e
            .errors
            .iter()
            .take(5)
            .map(|x| match (x.code.is_empty(), x.message.is_empty()) {
                (false, false) => format!("{}: {}", clean(&x.code, 64), clean(&x.message, 200)),
                (false, true) => clean(&x.code, 64),
                _ => clean(&x.message, 200),
            })
            .collect();
        return format!(": {}", parts.join("; "));
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let text = clean(&text, 200);
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Whether `url` points at `registry` (same host and port).
pub(crate) fn same_origin(registry: &str, url: &Url) -> bool {
    let Some((host, port)) = split_host_port(registry) else {
        return false;
    };
    let url_host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .unwrap_or("");
    if !url_host.eq_ignore_ascii_case(host) {
        return false;
    }
    match port.and_then(|p| p.parse::<u16>().ok()) {
        Some(p) => url.port_or_known_default() == Some(p),
        // No port in the name: whatever the scheme's default is.
        None => url.port().is_none(),
    }
}

/// The target of the first `Link` with `rel="next"` (RFC 8288).
pub(crate) fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    for value in values {
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let target = &after[..end];
            let params_and_more = &after[end + 1..];
            // Parameters run to the next link (a ',' outside quotes).
            let mut in_quotes = false;
            let mut cut = params_and_more.len();
            for (i, c) in params_and_more.char_indices() {
                match c {
                    '"' => in_quotes = !in_quotes,
                    ',' if !in_quotes => {
                        cut = i;
                        break;
                    }
                    _ => {}
                }
            }
            let params = &params_and_more[..cut];
            for param in params.split(';') {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                {
                    return Some(target.trim().to_owned());
                }
            }
            rest = &params_and_more[cut..];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link([r#"</v2/x/tags/list?n=2&last=b>; rel="next""#]),
            Some("/v2/x/tags/list?n=2&last=b".into())
        );
        assert_eq!(
            next_link([
                r#"<https://r/v2/x/tags/list?last=a,b>; rel="prev", <https://r/v2/x/tags/list?last=c>; rel="next""#
            ]),
            Some("https://r/v2/x/tags/list?last=c".into())
        );
        assert_eq!(
            next_link([r#"<a>; title="x, y"; rel=next"#]),
            Some("a".into())
        );
        assert_eq!(next_link([r#"<a>; rel="first last""#]), None);
        assert_eq!(next_link([r#"<a>; rel="prev next""#]), Some("a".into()));
        assert_eq!(
            next_link([r#"<a>; rel="prev""#, r#"<b>; rel=next"#]),
            Some("b".into())
        );
        assert_eq!(next_link(["garbage", "<unterminated"]), None);
        assert_eq!(next_link([""]), None);
    }

    #[test]
    fn origins() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            "127.0.0.1:5000",
            &u("http://127.0.0.1:5000/v2/x")
        ));
        assert!(!same_origin(
            "127.0.0.1:5000",
            &u("http://127.0.0.1:5001/v2/x")
        ));
        assert!(!same_origin("127.0.0.1:5000", &u("http://evil:5000/v2/x")));
        assert!(same_origin("gcr.io", &u("https://gcr.io/v2/")));
        assert!(same_origin("GCR.io", &u("https://gcr.io/v2/")));
        assert!(!same_origin("gcr.io", &u("https://gcr.io:8443/v2/")));
        assert!(same_origin("gcr.io:443", &u("https://gcr.io/v2/")));
        assert!(same_origin("[::1]:5000", &u("http://[::1]:5000/v2/")));
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(
                br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#
            ),
            ": UNSUPPORTED: The operation is unsupported."
        );
        assert_eq!(
            error_detail(b"404 page not found\n"),
            ": 404 page not found"
        );
        assert_eq!(error_detail(b""), "");
        assert_eq!(error_detail(b"a\x1b[31mb"), ": a [31mb");
    }
}
