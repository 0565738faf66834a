//! The error type of the flows.

use std::path::PathBuf;

/// What went wrong in a cosign flow. Messages say what was being done and name the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file (or stdin/stdout) failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing` ...).
        action: &'static str,
        /// The path (or `standard input`).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path names a directory where a file was expected.
    #[error("{action} {path}: is a directory, not a file")]
    IsDirectory {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// A file that must have content is empty.
    #[error("{what} {path} is empty")]
    EmptyFile {
        /// What the file should hold (`key file`, `signature file` ...).
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// An input is over its size limit (checked before it is read whole).
    #[error("{what} {path} is larger than {limit} bytes")]
    TooLarge {
        /// What the input holds (`predicate`, `bundle file` ...).
        what: &'static str,
        /// The path (or `standard input`).
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A key or signature operation failed.
    #[error("{context}: {source}")]
    Crypto {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: cosign_crypto::CryptoError,
    },
    /// A KMS or hardware-token signer failed.
    #[error(transparent)]
    Kms(cosign_kms::KmsError),
    /// The key reference could not be parsed.
    #[error(transparent)]
    KeyRef(#[from] cosign_kms::KeyRefError),
    /// A key reference kind that this build cannot use for this operation.
    #[error("{0}")]
    UnsupportedKeyRef(String),
    /// An `env://` key reference names an unset variable.
    #[error("loading key from env://{0}: the environment variable is not set")]
    EnvKeyUnset(String),
    /// Fetching a key over HTTP failed.
    #[error("fetching {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// Reading the password failed.
    #[error("reading password: {0}")]
    Password(String),
    /// A format (bundle, payload, base64) could not be parsed.
    #[error("{context}: {reason}")]
    Format {
        /// What was being parsed.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// Verification failed (the signature, or a check tied to it).
    #[error("{0}")]
    Verification(String),
    /// An input (a file, a document, a value) is not what the operation needs.
    #[error("{what}: {reason}")]
    Invalid {
        /// The input, named as the user gave it.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value outside a closed set, in cosign's words.
    #[error("unknown {what}: {value:?}, must be one of {allowed}")]
    UnknownValue {
        /// What the value is (`SBOM type` ...).
        what: &'static str,
        /// The value given.
        value: String,
        /// The values accepted, as cosign lists them.
        allowed: &'static str,
    },
    /// Something the operation needs was not given.
    #[error("{0} is required")]
    Missing(&'static str),
    /// Two inputs that must agree do not.
    #[error("the {what} given differs from the one in the {other}")]
    Mismatch {
        /// The input given on its own.
        what: &'static str,
        /// Where the other copy is.
        other: &'static str,
    },
    /// Something this build does not do (yet).
    #[error("{what} is not supported by this build yet")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// A stored document kept changing under concurrent writers (decision 0004).
    #[error("{location} kept changing under concurrent writers; gave up after {attempts} attempts")]
    ConcurrentUpdate {
        /// The repository and tag.
        location: String,
        /// The attempts made.
        attempts: u32,
    },
    /// More entries than cosign accepts in one place.
    #[error("{location} would hold {count} {what}; cosign refuses more than {max}")]
    TooMany {
        /// Where (`repo:tag`).
        location: String,
        /// What is counted (`layers`, `referrers`).
        what: &'static str,
        /// How many there would be.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A destination exists and would be overwritten (cosign's wording; the CLI names the
    /// flag that allows it).
    #[error("image \"{what}\" already exists")]
    Exists {
        /// The destination.
        what: String,
    },
    /// Some deletions failed (`clean`); each was reported as it failed.
    #[error("could not delete {}", .0.join(", "))]
    CouldNotDelete(Vec<String>),
    /// Something asked for is not there.
    #[error("{0}")]
    NotFound(String),
    /// A format or value check of `cosign-types` failed.
    #[error(transparent)]
    Types(#[from] cosign_types::TypesError),
    /// A policy file that is neither Rego nor CUE (cosign's wording).
    #[error("invalid policy format, expected .cue or .rego")]
    UnsupportedPolicy(PathBuf),
    /// An internal invariant did not hold (a bug, never a user error).
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A registry request failed.
    #[error("{context}: {source}")]
    Registry {
        /// What was being done.
        context: String,
        /// The registry client's error.
        #[source]
        source: Box<cosign_oci::OciError>,
    },
    /// A transparency log operation failed.
    #[error("{context}: {source}")]
    Tlog {
        /// What was being done.
        context: String,
        /// The log client's error.
        #[source]
        source: Box<cosign_tlog::TlogError>,
    },
    /// A check against Sigstore trust material failed (timestamps, certificates).
    #[error("{context}: {source}")]
    Trust {
        /// What was being checked.
        context: String,
        /// The trust crate's error.
        #[source]
        source: Box<cosign_trust::TrustError>,
    },
    /// The image (tag or digest) does not exist (exit code 11 for verify).
    #[error("image tag not found: {0}")]
    ImageNotFound(String),
    /// The image has no signatures at all (exit code 10).
    #[error("no signatures found")]
    NoSignatures,
    /// Signatures exist but none verified (exit code 12).
    #[error("no matching signatures: {0}")]
    NoMatchingSignatures(String),
    /// The image has no attestations at all (exit code 10 for verify-attestation).
    #[error("no matching attestations: no attestations found")]
    NoAttestations,
    /// Attestations exist but none verified (exit code 12 for verify-attestation).
    #[error("no matching attestations: {0}")]
    NoMatchingAttestations(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn crypto(context: impl Into<String>, source: cosign_crypto::CryptoError) -> Self {
        Self::Crypto {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn registry(context: impl Into<String>, source: cosign_oci::OciError) -> Self {
        Self::Registry {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn format(context: impl Into<String>, reason: impl ToString) -> Self {
        Self::Format {
            context: context.into(),
            reason: reason.to_string(),
        }
    }
}
