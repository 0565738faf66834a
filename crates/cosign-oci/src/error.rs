//! The one error type of this crate.
//!
//! Every variant that comes from a registry exchange carries `action` (what was being done,
//! e.g. "fetching manifest") and `target` (the registry, repository and reference, e.g.
//! `127.0.0.1:5000/app@sha256:...`), so messages name what failed without the caller adding
//! context. Credentials never appear in any variant.

use std::path::PathBuf;

use cosign_types::Digest;

/// A boxed error source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a reference could not be parsed or a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// An image reference, repository or tag is malformed.
    #[error("parsing image reference {input:?}: {reason}")]
    InvalidReference {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The client options are unusable (bad CA bundle, client key without certificate ...).
    #[error("configuring the registry client: {what}")]
    Config {
        /// What was wrong.
        what: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// A feature this client does not implement.
    #[error("{what} is not supported")]
    Unsupported {
        /// The feature.
        what: String,
    },

    /// The request could not be sent or its response not read (connection refused or reset,
    /// TLS failure, timeout), after every attempt.
    #[error("{action} {target}: {source} (after {attempts} attempt(s))")]
    Transport {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference (or the URL for token requests).
        target: String,
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The registry answered with a status the operation does not accept.
    #[error(
        "{action} {target}: registry answered HTTP {status}{detail} (after {attempts} attempt(s))"
    )]
    Status {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's error codes and messages (`: CODE: message`), or empty.
        detail: String,
        /// How many attempts were made.
        attempts: u32,
    },

    /// The registry has no such blob or repository.
    #[error("{action} {target}: not found{detail}")]
    NotFound {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// The registry's error codes and messages, or empty.
        detail: String,
    },

    /// The registry (or its token service) refused the request even after authenticating.
    #[error(
        "{action} {target}: unauthorized: registry {registry} refused access to repository {repository}: {reason}"
    )]
    Unauthorized {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// The registry host.
        registry: String,
        /// The repository path.
        repository: String,
        /// Why (no credentials, credentials refused, token refused ...).
        reason: String,
    },

    /// The registry answered 403 Forbidden.
    #[error(
        "{action} {target}: forbidden: registry {registry} denied access to repository {repository}{detail}"
    )]
    Forbidden {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// The registry host.
        registry: String,
        /// The repository path.
        repository: String,
        /// The registry's error codes and messages, or empty.
        detail: String,
    },

    /// Content does not hash to the digest it was requested or announced by.
    #[error("{action} {target}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// The digest that was asked for or announced.
        expected: Digest,
        /// The digest of the content received (or the other announced digest).
        actual: Digest,
    },

    /// A response (or a body to send) is larger than its limit; nothing beyond the limit was
    /// read.
    #[error("{action} {target}: {what} is larger than the limit of {limit} bytes{}", size_note(*.size))]
    TooLarge {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// What was too large ("manifest", "blob", "token response" ...).
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
        /// The announced size, when the registry sent one.
        size: Option<u64>,
    },

    /// A list (layers, index entries, tags, pages) is longer than its limit.
    #[error("{action} {target}: too many {what}: {count} > {max}")]
    TooMany {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// What was counted.
        what: &'static str,
        /// How many there were (at least).
        count: usize,
        /// The limit.
        max: usize,
    },

    /// The registry's answer is malformed (missing `Location`, unparseable header or JSON ...).
    #[error("{action} {target}: invalid response: {reason}")]
    InvalidResponse {
        /// What was being done.
        action: &'static str,
        /// Registry, repository and reference.
        target: String,
        /// What is wrong.
        reason: String,
        /// The underlying parse error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The docker `config.json` could not be read or parsed.
    #[error("reading docker config {path}: {reason}", path = .path.display())]
    DockerConfig {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// A docker credential helper failed.
    #[error("getting credentials for {registry} from docker-credential-{helper}: {reason}")]
    CredentialHelper {
        /// The helper name (`docker-credential-<helper>`).
        helper: String,
        /// The registry credentials were asked for.
        registry: String,
        /// What went wrong.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

fn size_note(size: Option<u64>) -> String {
    match size {
        Some(s) => format!(" (announced {s} bytes)"),
        None => String::new(),
    }
}

impl OciError {
    /// The HTTP status behind this error, if the registry answered with one.
    ///
    /// Lets callers react to a specific answer, e.g. retry a DELETE by digest after a 400 for
    /// a DELETE by tag.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// Whether the registry said the thing does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub(crate) fn invalid_reference(input: &str, reason: impl Into<String>) -> Self {
        Self::InvalidReference {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(what: impl Into<String>, source: Option<BoxError>) -> Self {
        Self::Config {
            what: what.into(),
            source,
        }
    }
}
