//! The one error type of this crate.
//!
//! Variants carry what was being done (a request, a proof, a field), so a message read alone
//! says what failed. None carries key material.

use cosign_crypto::CryptoError;

/// Why a log operation, proof or entry was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlogError {
    /// A Merkle inclusion proof does not lead to the expected root (or is malformed).
    #[error("verifying the inclusion proof of leaf {index} in a tree of size {size}: {reason}")]
    InclusionProof {
        /// Index of the leaf in the tree.
        index: u64,
        /// Size of the tree.
        size: u64,
        /// What is wrong.
        reason: String,
    },
    /// A Merkle consistency proof does not link the two tree heads (or is malformed).
    #[error("verifying the consistency proof between tree sizes {size1} and {size2}: {reason}")]
    ConsistencyProof {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
        /// What is wrong.
        reason: String,
    },
    /// A tree-size or index argument is out of range for the tree at hand.
    #[error("{what}: {reason}")]
    OutOfRange {
        /// The operation.
        what: &'static str,
        /// Why the arguments do not fit.
        reason: String,
    },
    /// The signed checkpoint (signed note) is not well formed.
    #[error("parsing the signed checkpoint: {reason}")]
    MalformedCheckpoint {
        /// What is wrong.
        reason: String,
    },
    /// No signature on the checkpoint verifies with the log's key.
    #[error("verifying the signed checkpoint: {reason}")]
    CheckpointSignature {
        /// What is wrong.
        reason: String,
    },
    /// A Rekor v2 checkpoint is not from the expected log: its origin line is not the log's
    /// origin (the host of its base URL).
    #[error(
        "verifying the signed checkpoint: its origin line {found:?} is not the log's origin {expected:?}"
    )]
    CheckpointOrigin {
        /// The origin of the trusted log.
        expected: String,
        /// The first line of the checkpoint (truncated).
        found: String,
    },
    /// A Rekor v2 entry cannot be verified without an inclusion proof (it has no signed entry
    /// timestamp), or was given a signed entry timestamp it cannot have.
    #[error("Rekor v2 entry: {reason}")]
    RekorV2 {
        /// What is wrong.
        reason: String,
    },
    /// The log key was not valid at the time given for the entry (a trusted timestamp, since
    /// Rekor v2 entries have no integrated time).
    #[error("the log key {log_id} was not valid at {time} (Unix seconds)")]
    LogKeyNotValidAt {
        /// The time checked (Unix seconds).
        time: i64,
        /// The log ID (hex).
        log_id: String,
    },
    /// The signed entry timestamp does not verify with the log's key.
    #[error("verifying the signed entry timestamp: {reason}")]
    SignedEntryTimestamp {
        /// What is wrong.
        reason: String,
    },
    /// A signing or key operation failed.
    #[error("{what}: {source}")]
    Crypto {
        /// The operation (e.g. "signing the checkpoint").
        what: &'static str,
        /// The underlying error.
        #[source]
        source: CryptoError,
    },
    /// A document (entry body, server response, trusted root, bundle) is not of the expected
    /// shape.
    #[error("parsing {what}: {reason}")]
    Malformed {
        /// The document being parsed.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A proposed entry was refused (server side validation).
    #[error("invalid {kind} entry: {reason}")]
    InvalidEntry {
        /// The entry kind.
        kind: String,
        /// Why it was refused.
        reason: String,
    },
    /// The entry kind or version is not one this crate handles.
    #[error("unsupported entry kind {kind:?} (version {version:?})")]
    UnsupportedKind {
        /// The `kind` field.
        kind: String,
        /// The `apiVersion` field.
        version: String,
    },
    /// The entry names a log that is not trusted.
    #[error("the transparency log entry was made by log ID {log_id:?}, which is not a trusted log")]
    UnknownLog {
        /// The log ID (hex) from the entry.
        log_id: String,
    },
    /// Neither a signed entry timestamp nor an inclusion proof with a checkpoint was given.
    #[error(
        "the transparency log entry has neither a signed entry timestamp nor an inclusion proof with a signed checkpoint"
    )]
    NoProof,
    /// The UUID of the entry is not the leaf hash of its body.
    #[error("the entry UUID {uuid} does not match the leaf hash {leaf} of its body")]
    UuidMismatch {
        /// The UUID (or entry ID) the log gave.
        uuid: String,
        /// Hex of the body's RFC 6962 leaf hash.
        leaf: String,
    },
    /// The entry is a valid log entry but not about the artifact, signature or key being
    /// verified (GHSA-ccxc-vr6p-4858, GHSA-8gw7-4j42-w388, GHSA-whqx-f9j3-ch6m).
    #[error("the transparency log entry does not match the {field} being verified: {reason}")]
    Mismatch {
        /// What differs: "artifact hash", "signature", "public key", "envelope".
        field: &'static str,
        /// Details.
        reason: String,
    },
    /// The entry was integrated outside the validity window of the log key that signed it.
    #[error(
        "the entry was integrated at {integrated_time}, outside the validity window of the log key {log_id}"
    )]
    OutsideValidity {
        /// The entry's integrated time (Unix seconds).
        integrated_time: i64,
        /// The log ID (hex).
        log_id: String,
    },
    /// The Rekor URL cannot be used.
    #[error("invalid Rekor URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A request could not be sent or its answer not read.
    #[error("{what}: request to {url} failed: {source}")]
    Http {
        /// The operation.
        what: String,
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{what}: {url} answered HTTP {status}: {message}")]
    Status {
        /// The operation.
        what: String,
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The server's message (from its error body), or the status text.
        message: String,
    },
    /// The server has no such entry (HTTP 404).
    #[error("{what}: not found ({url})")]
    NotFound {
        /// The operation.
        what: String,
        /// The URL requested.
        url: String,
    },
    /// The log already holds an equivalent entry (HTTP 409).
    #[error("an equivalent entry already exists in the transparency log with UUID {uuid}")]
    AlreadyExists {
        /// The existing entry's UUID (or entry ID).
        uuid: String,
    },
    /// The server's answer is larger than the limit for that kind of answer.
    #[error("{what}: the response from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The operation.
        what: String,
        /// The URL requested.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The server's answer is not what the API defines.
    #[error("{what}: unexpected response from {url}: {reason}")]
    BadResponse {
        /// The operation.
        what: String,
        /// The URL requested.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// An argument is not valid (a UUID that is not hex, a negative index ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl TlogError {
    pub(crate) fn malformed(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn mismatch(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Mismatch {
            field,
            reason: reason.into(),
        }
    }
}
