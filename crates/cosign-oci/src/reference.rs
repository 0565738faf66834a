//! Image references, parsed by go-containerregistry's rules (`pkg/name`).
//!
//! - The first path component is the registry only if it contains `.` or `:`
//!   (`localhost:5000/x`, `gcr.io/a/b`); otherwise the registry is Docker Hub
//!   (`index.docker.io`), and a single-component path gets the `library/` namespace.
//!   `docker.io` is rewritten to `index.docker.io`.
//! - Repository paths are lowercase `[a-z0-9_.-]` components joined by `/`, 1 to 255
//!   characters in all (ggcr wants at least 2; one is accepted here, as distribution does).
//!   Each component must start and end with a letter or digit (the distribution grammar;
//!   stricter than ggcr, which would pass `a/../b` on to the URL).
//! - Tags match `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a name without tag or digest gets
//!   `latest`. Digests are `<algorithm>:<hex>` ([`Digest`]).
//! - `repo:tag@digest` keeps both parts; requests use the digest.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use cosign_types::Digest;

use crate::OciError;

/// Docker Hub's registry host, the default registry.
pub const DEFAULT_REGISTRY: &str = "index.docker.io";
/// The alias users type for Docker Hub.
const DEFAULT_REGISTRY_ALIAS: &str = "docker.io";
/// The tag of a reference that names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Docker Hub's namespace for official images.
const DEFAULT_NAMESPACE: &str = "library";

const MAX_TAG_LEN: usize = 128;
/// ggcr requires 2; single-character names (`localhost:5000/x`) are valid for distribution
/// and accepted here.
const MIN_REPO_LEN: usize = 1;
const MAX_REPO_LEN: usize = 255;

/// A repository: a registry host and a path in it.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// Parses `registry/path` or a Docker Hub short name (`busybox` becomes
    /// `index.docker.io/library/busybox`). Tags and digests are refused here.
    pub fn parse(s: &str) -> Result<Self, OciError> {
        parse_repository(s, s)
    }

    /// The registry host (`index.docker.io`, `127.0.0.1:5000`, `localhost:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The path in the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `registry/path` (ggcr's `Repository.Name()`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

impl FromStr for Repository {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What a request names in a repository: a tag or a digest.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Reference {
    /// A tag (`latest`, `sha256-<hex>.sig`).
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl Reference {
    /// The digest, if this reference is one.
    pub fn as_digest(&self) -> Option<&Digest> {
        match self {
            Self::Digest(d) => Some(d),
            Self::Tag(_) => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(t) => f.write_str(t),
            Self::Digest(d) => write!(f, "{d}"),
        }
    }
}

impl From<Digest> for Reference {
    fn from(d: Digest) -> Self {
        Self::Digest(d)
    }
}

/// An image reference: a repository with a tag, a digest, or both.
#[derive(Clone, Debug)]
pub struct ImageRef {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
    original: String,
}

impl PartialEq for ImageRef {
    fn eq(&self, other: &Self) -> bool {
        self.repository == other.repository && self.tag == other.tag && self.digest == other.digest
    }
}

impl Eq for ImageRef {}

impl ImageRef {
    /// Parses a reference: `busybox` (tag `latest`), `reg:5000/x:v1`, `reg/x@sha256:...`,
    /// `reg/x:v1@sha256:...` (both kept).
    pub fn parse(s: &str) -> Result<Self, OciError> {
        if s.is_empty() {
            return Err(OciError::invalid_reference(
                s,
                "a repository name must be specified",
            ));
        }
        let (base, digest) = match s.split_once('@') {
            Some((base, dig)) => {
                if dig.contains('@') {
                    return Err(OciError::invalid_reference(
                        s,
                        "a digest must contain exactly one '@' separator (e.g. registry/repository@digest)",
                    ));
                }
                let digest: Digest = dig
                    .parse()
                    .map_err(|e| OciError::invalid_reference(s, format!("{e}")))?;
                (base, Some(digest))
            }
            None => (s, None),
        };
        // ggcr NewTag: the part after the last ':' is a tag unless it contains '/', in which
        // case the ':' belonged to a registry port.
        let (repo_text, tag) = match base.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => {
                if tag.is_empty() {
                    return Err(OciError::invalid_reference(
                        s,
                        "must specify a tag name after the colon",
                    ));
                }
                check_tag(tag).map_err(|reason| OciError::invalid_reference(s, reason))?;
                (repo, Some(tag.to_owned()))
            }
            _ => (base, None),
        };
        let repository = parse_repository(repo_text, s)?;
        let tag = if tag.is_none() && digest.is_none() {
            Some(DEFAULT_TAG.to_owned())
        } else {
            tag
        };
        Ok(Self {
            repository,
            tag,
            digest,
            original: s.to_owned(),
        })
    }

    /// The repository.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The tag (`latest` when the reference named neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference names one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to request: the digest if there is one, else the tag (default `latest`).
    pub fn reference(&self) -> Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Reference::Digest(d.clone()),
            (None, Some(t)) => Reference::Tag(t.clone()),
            (None, None) => Reference::Tag(DEFAULT_TAG.to_owned()),
        }
    }

    /// `repo@digest` (the tag is dropped).
    pub fn with_digest(&self, d: Digest) -> ImageRef {
        let mut r = Self {
            repository: self.repository.clone(),
            tag: None,
            digest: Some(d),
            original: String::new(),
        };
        r.original = r.to_string();
        r
    }

    /// `repo:tag` (the digest is dropped).
    pub fn with_tag(&self, tag: &str) -> ImageRef {
        let mut r = Self {
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
            original: String::new(),
        };
        r.original = r.to_string();
        r
    }

    /// The text this reference was parsed from (ggcr's `String()`; [`fmt::Display`] gives
    /// the normalised name instead).
    pub fn original(&self) -> &str {
        &self.original
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageRef {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn check_tag(tag: &str) -> Result<(), String> {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
    let bytes = tag.as_bytes();
    match bytes.first() {
        None => return Err("tag must not be empty".into()),
        Some(b) if !(b.is_ascii_alphanumeric() || *b == b'_') => {
            return Err(format!(
                "tag {tag:?} must start with a letter, digit or '_'"
            ));
        }
        _ => {}
    }
    if bytes.len() > MAX_TAG_LEN {
        return Err(format!(
            "tag must be between 1 and {MAX_TAG_LEN} characters in length"
        ));
    }
    if !bytes.iter().all(|b| ok_char(*b)) {
        return Err(format!(
            "tag {tag:?} can only contain the characters `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.`"
        ));
    }
    Ok(())
}

fn parse_repository(name: &str, input: &str) -> Result<Repository, OciError> {
    if name.is_empty() {
        return Err(OciError::invalid_reference(
            input,
            "a repository name must be specified",
        ));
    }
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') => (first, rest),
        _ => ("", name),
    };
    check_repository(repo).map_err(|reason| OciError::invalid_reference(input, reason))?;
    let registry = if registry.is_empty() {
        DEFAULT_REGISTRY.to_owned()
    } else {
        check_registry(registry).map_err(|reason| OciError::invalid_reference(input, reason))?;
        if registry == DEFAULT_REGISTRY_ALIAS {
            DEFAULT_REGISTRY.to_owned()
        } else {
            registry.to_owned()
        }
    };
    let path = if registry == DEFAULT_REGISTRY && !repo.contains('/') {
        format!("{DEFAULT_NAMESPACE}/{repo}")
    } else {
        repo.to_owned()
    };
    Ok(Repository { registry, path })
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.len() < MIN_REPO_LEN || repo.len() > MAX_REPO_LEN {
        return Err(format!(
            "repository must be between {MIN_REPO_LEN} and {MAX_REPO_LEN} characters in length"
        ));
    }
    let allowed = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'/');
    if !repo.bytes().all(allowed) {
        return Err(format!(
            "repository {repo:?} can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`"
        ));
    }
    for component in repo.split('/') {
        let b = component.as_bytes();
        let alnum = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !alnum(b.first()) || !alnum(b.last()) {
            return Err(format!(
                "repository {repo:?}: each path component must start and end with a lowercase letter or digit"
            ));
        }
    }
    Ok(())
}

/// Checks `host[:port]`, with `host` a DNS name, an IPv4 address or a bracketed IPv6 address.
fn check_registry(registry: &str) -> Result<(), String> {
    let bad = || format!("registries must be valid RFC 3986 URI authorities: {registry}");
    let (host, port) = split_host_port(registry).ok_or_else(bad)?;
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    if registry.starts_with('[') {
        host.parse::<Ipv6Addr>().map_err(|_| bad())?;
    } else if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(bad());
    }
    Ok(())
}

/// Splits `host[:port]` / `[v6]:port`; the host is returned without brackets.
pub(crate) fn split_host_port(registry: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = registry.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => Some((host, Some(port))),
            None => Some((registry, None)),
        }
    }
}

/// The scheme ggcr's `Registry.Scheme()` picks: `http` for `localhost`, loopback
/// (127.0.0.0/8, `::1`) and RFC 1918 private addresses and `*.local` names, or for any
/// registry when `allow_http` (`--allow-http-registry` / `--allow-insecure-registry`) is set;
/// `https` otherwise.
///
/// As in ggcr, `http` means "http is allowed": the client tries https first and falls back to
/// http when the TLS connection cannot be made.
pub fn scheme(registry: &str, allow_http: bool) -> &'static str {
    if allow_http || is_local(registry) {
        "http"
    } else {
        "https"
    }
}

fn is_local(registry: &str) -> bool {
    let Some((host, _)) = split_host_port(registry) else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".local") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback() || v4.is_private();
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return v6.is_loopback();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    fn dig() -> String {
        format!("sha256:{HEX}")
    }

    #[test]
    fn normalisation_table() {
        let d = dig();
        type Case = (
            String,
            &'static str,
            &'static str,
            Option<&'static str>,
            bool,
            String,
        );
        let cases: Vec<Case> = vec![
            // input, registry, path, tag, has digest, display
            (
                "ubuntu".into(),
                "index.docker.io",
                "library/ubuntu",
                Some("latest"),
                false,
                "index.docker.io/library/ubuntu:latest".into(),
            ),
            (
                "gcr.io/a/b:v1".into(),
                "gcr.io",
                "a/b",
                Some("v1"),
                false,
                "gcr.io/a/b:v1".into(),
            ),
            (
                format!("localhost:5000/x@{d}"),
                "localhost:5000",
                "x",
                None,
                true,
                format!("localhost:5000/x@{d}"),
            ),
            (
                "docker.io/x/y".into(),
                "index.docker.io",
                "x/y",
                Some("latest"),
                false,
                "index.docker.io/x/y:latest".into(),
            ),
            (
                "docker.io/busybox".into(),
                "index.docker.io",
                "library/busybox",
                Some("latest"),
                false,
                "index.docker.io/library/busybox:latest".into(),
            ),
            (
                format!("r/x:v1@{d}"),
                "index.docker.io",
                "r/x",
                Some("v1"),
                true,
                format!("index.docker.io/r/x:v1@{d}"),
            ),
            (
                "127.0.0.1:5000/a/b/c:sha256-abc.sig".into(),
                "127.0.0.1:5000",
                "a/b/c",
                Some("sha256-abc.sig"),
                false,
                "127.0.0.1:5000/a/b/c:sha256-abc.sig".into(),
            ),
            (
                "[::1]:5000/app".into(),
                "[::1]:5000",
                "app",
                Some("latest"),
                false,
                "[::1]:5000/app:latest".into(),
            ),
            (
                "localhost/foo".into(),
                "index.docker.io",
                "localhost/foo",
                Some("latest"),
                false,
                "index.docker.io/localhost/foo:latest".into(),
            ),
            (
                "my.reg/a_b/c-d/e.f__g".into(),
                "my.reg",
                "a_b/c-d/e.f__g",
                Some("latest"),
                false,
                "my.reg/a_b/c-d/e.f__g:latest".into(),
            ),
        ];
        for (input, registry, path, tag, has_digest, display) in cases {
            let r = ImageRef::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.repository().registry(), registry, "{input}");
            assert_eq!(r.repository().path(), path, "{input}");
            assert_eq!(r.tag(), tag, "{input}");
            assert_eq!(r.digest().is_some(), has_digest, "{input}");
            assert_eq!(r.to_string(), display, "{input}");
            assert_eq!(r.original(), input);
            // Display round trips.
            let again = ImageRef::parse(&r.to_string()).unwrap();
            assert_eq!(again, r, "{input}");
            assert_eq!(again.to_string(), display);
        }
    }

    #[test]
    fn reference_prefers_digest() {
        let d = dig();
        let r = ImageRef::parse(&format!("reg.io/x:v1@{d}")).unwrap();
        assert_eq!(r.reference().to_string(), d);
        assert_eq!(r.reference(), Reference::Digest(d.parse().unwrap()));
        let r = ImageRef::parse("reg.io/x").unwrap();
        assert_eq!(r.reference(), Reference::Tag("latest".into()));
        let with_d = r.with_digest(d.parse().unwrap());
        assert_eq!(with_d.to_string(), format!("reg.io/x@{d}"));
        assert_eq!(with_d.tag(), None);
        let with_t = with_d.with_tag("v2");
        assert_eq!(with_t.to_string(), "reg.io/x:v2");
        assert_eq!(with_t.digest(), None);
        assert_eq!(with_t.original(), "reg.io/x:v2");
        let parsed: ImageRef = "reg.io/x:v2".parse().unwrap();
        assert_eq!(parsed, with_t);
    }

    #[test]
    fn refusals() {
        let d = dig();
        let bad = [
            "".to_owned(),
            "Ubuntu".to_owned(),
            "gcr.io/A/b".to_owned(),
            "gcr.io/a/b:".to_owned(),
            "gcr.io/a/b:-v1".to_owned(),
            "gcr.io/a/b:.v1".to_owned(),
            "gcr.io/a/b:v 1".to_owned(),
            format!("gcr.io/a/b:{}", "a".repeat(129)),
            "gcr.io/a/b@sha256:abc".to_owned(),
            "gcr.io/a/b@md5:abc".to_owned(),
            format!("gcr.io/a/b@{d}@{d}"),
            "gcr.io/a//b".to_owned(),
            "gcr.io/a/../b".to_owned(),
            "gcr.io/a/./b".to_owned(),
            "gcr.io/-a".to_owned(),
            "gcr.io/a/".to_owned(),
            "reg:port/x".to_owned(),
            "reg:123456/x".to_owned(),
            "re g.io/x".to_owned(),
            "[::1/x".to_owned(),
            "[zz]:5000/x".to_owned(),
            "reg.io/x?y".to_owned(),
            format!("reg.io/{}", "a".repeat(256)),
        ];
        for input in bad {
            let e = ImageRef::parse(&input).expect_err(&input);
            assert!(
                matches!(e, OciError::InvalidReference { .. }),
                "{input}: {e:?}"
            );
        }
        // A tag of exactly 128 characters is fine.
        ImageRef::parse(&format!("gcr.io/a/b:{}", "a".repeat(128))).unwrap();
        ImageRef::parse("gcr.io/a/b:_x").unwrap();
        assert_eq!(
            ImageRef::parse("a").unwrap().to_string(),
            "index.docker.io/library/a:latest"
        );
    }

    #[test]
    fn repositories() {
        let r = Repository::parse("busybox").unwrap();
        assert_eq!(r.name(), "index.docker.io/library/busybox");
        assert_eq!(r.to_string(), r.name());
        let r: Repository = "reg:5000/a/b".parse().unwrap();
        assert_eq!((r.registry(), r.path()), ("reg:5000", "a/b"));
        assert!(Repository::parse("reg:5000/a/b:tag").is_err());
        assert!(Repository::parse(&format!("reg/a@{}", dig())).is_err());
        assert_eq!(
            Repository::parse("docker.io/library/busybox").unwrap(),
            Repository::parse("busybox").unwrap()
        );
    }

    #[test]
    fn scheme_rules() {
        for local in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "10.0.0.1:5000",
            "172.16.3.4",
            "192.168.1.1:443",
            "myhost.local:5000",
        ] {
            assert_eq!(scheme(local, false), "http", "{local}");
        }
        for remote in [
            "index.docker.io",
            "gcr.io",
            "172.32.0.1:5000",
            "8.8.8.8",
            "[2001:db8::1]:5000",
            "local.example.com",
            "localhost.example.com",
        ] {
            assert_eq!(scheme(remote, false), "https", "{remote}");
            assert_eq!(scheme(remote, true), "http", "{remote}");
        }
    }

    #[test]
    fn tag_check() {
        assert!(check_tag("sha256-abc.sig").is_ok());
        assert!(check_tag("v1/x").is_err());
        assert!(check_tag("a?b").is_err());
    }
}
