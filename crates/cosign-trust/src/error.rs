//! The crate's one error type.
//!
//! Every message says what was being done and names the file or URL involved. No variant
//! carries key material.

use std::path::PathBuf;

/// Why trust material could not be fetched, verified, cached or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A file or directory of the TUF cache could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "writing TUF metadata".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The repository has no such file (HTTP 403/404, or a missing local file).
    #[error("fetching {url}: not found")]
    NotFound {
        /// What was fetched.
        url: String,
    },
    /// A download was bigger than allowed for what it holds.
    #[error("fetching {url}: more than the limit of {limit} bytes")]
    TooLarge {
        /// What was fetched.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A download failed for another reason (connection, HTTP status, timeout ...).
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The TUF mirror URL cannot be used.
    #[error("invalid TUF mirror {mirror:?}: {reason}")]
    BadMirror {
        /// The mirror as given.
        mirror: String,
        /// Why it was refused.
        reason: String,
    },
    /// A metadata file is not valid TUF metadata (JSON, field types, canonical form ...).
    #[error("parsing TUF metadata {file}: {reason}")]
    Malformed {
        /// The file (name or URL).
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A metadata file was not signed by a threshold of the role's keys.
    #[error(
        "verifying {file}: {valid} valid signature(s) of the {role} role's keys, threshold is {threshold}{detail}"
    )]
    Threshold {
        /// The file (name or URL).
        file: String,
        /// The role whose keys must sign (`root`, `timestamp` ...).
        role: String,
        /// How many distinct keys of the role signed correctly.
        valid: usize,
        /// How many are needed.
        threshold: u64,
        /// Why some signatures did not count (starts with "; " when not empty).
        detail: String,
    },
    /// A new root is not version N+1 of the trusted root N.
    #[error("updating the TUF root: {file} has version {found}, expected {expected}")]
    RootVersion {
        /// The file (name or URL).
        file: String,
        /// N+1.
        expected: u64,
        /// What the file says.
        found: u64,
    },
    /// More root rotations than allowed in one update.
    #[error("updating the TUF root: more than {limit} new root versions at {mirror}")]
    TooManyRootRotations {
        /// The mirror.
        mirror: String,
        /// The limit.
        limit: u32,
    },
    /// A version number went down (rollback attack).
    #[error(
        "possible rollback attack: {file}: {what} version {new} is lower than the trusted version {trusted}"
    )]
    Rollback {
        /// The file (name or URL).
        file: String,
        /// Which version (e.g. "timestamp", "snapshot meta of timestamp", "targets.json in snapshot").
        what: String,
        /// The trusted version.
        trusted: u64,
        /// The new version.
        new: u64,
    },
    /// A role that was listed in the trusted snapshot is missing from the new one.
    #[error("possible rollback attack: {file} no longer lists {name}")]
    MetaRemoved {
        /// The new snapshot file.
        file: String,
        /// The role file that disappeared.
        name: String,
    },
    /// Metadata expired before the update started (freeze attack, or a stale cache offline).
    #[error("possible freeze attack: {role} metadata {file} expired at {expires}")]
    Expired {
        /// The role.
        role: String,
        /// The file (name or URL).
        file: String,
        /// The `expires` field.
        expires: String,
    },
    /// A file's version differs from the one its parent metadata lists.
    #[error("{file} has version {found}, but {parent} lists version {expected}")]
    VersionMismatch {
        /// The file (name or URL).
        file: String,
        /// The metadata that lists it.
        parent: String,
        /// The listed version.
        expected: u64,
        /// The file's own version.
        found: u64,
    },
    /// A file's length differs from the one its metadata lists.
    #[error("{file} is {found} bytes long, but {parent} says {expected}")]
    LengthMismatch {
        /// The file (name or URL).
        file: String,
        /// The metadata that lists it.
        parent: String,
        /// The listed length.
        expected: u64,
        /// The actual length.
        found: u64,
    },
    /// A file's hash differs from the one its metadata lists.
    #[error("{file} has {algorithm} {found}, but {parent} says {expected}")]
    HashMismatch {
        /// The file (name or URL).
        file: String,
        /// The metadata that lists it.
        parent: String,
        /// The hash algorithm.
        algorithm: String,
        /// The listed hash (hex).
        expected: String,
        /// The computed hash (hex).
        found: String,
    },
    /// A metadata file lists a hash algorithm this client cannot compute.
    #[error("{parent} lists {file} with unsupported hash algorithm {algorithm:?}")]
    UnsupportedHash {
        /// The file whose hash is listed.
        file: String,
        /// The metadata that lists it.
        parent: String,
        /// The algorithm name.
        algorithm: String,
    },
    /// A metadata file does not list a file it must list.
    #[error("{parent} does not list {name}")]
    MissingMeta {
        /// The metadata that should list it.
        parent: String,
        /// The missing entry.
        name: String,
    },
    /// The targets metadata has no such target.
    #[error("target {target:?} not found in the TUF targets metadata of {mirror}")]
    TargetNotFound {
        /// The target name.
        target: String,
        /// The mirror.
        mirror: String,
    },
    /// The target name cannot be a file name (`..`, absolute, empty parts ...).
    #[error("refusing TUF target name {target:?}: {reason}")]
    BadTargetName {
        /// The name.
        target: String,
        /// Why.
        reason: String,
    },
    /// Offline use was asked for, but the cache does not hold complete, valid metadata.
    #[error("no usable TUF metadata for {mirror} in the cache {}: {reason}", dir.display())]
    CacheUnusable {
        /// The mirror.
        mirror: String,
        /// The cache directory.
        dir: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The initial root does not match the checksum given for it.
    #[error("incorrect checksum for file {source_name}: expected {expected} but got {computed}")]
    RootChecksum {
        /// Where the root came from (path or URL).
        source_name: String,
        /// The expected hex digest.
        expected: String,
        /// The computed hex digest.
        computed: String,
    },
    /// The checksum option is not `[sha256:|sha512:]HEX`.
    #[error("invalid root checksum {spec:?}: {reason}")]
    BadChecksum {
        /// The checksum as given.
        spec: String,
        /// Why it was refused.
        reason: String,
    },
    /// A trusted root (`trusted_root.json`) is not valid.
    #[error("parsing the trusted root: {reason}")]
    BadTrustedRoot {
        /// What is wrong.
        reason: String,
    },
    /// A signing config (`signing_config.v0.2.json`) is not valid; the reason is protojson's
    /// or sigstore-go's wording (callers say which file).
    #[error("{reason}")]
    BadSigningConfig {
        /// What is wrong.
        reason: String,
    },
    /// No service of a signing config fits (validity, API version, selector), in sigstore-go's
    /// wording.
    #[error("{reason}")]
    ServiceSelection {
        /// Why none was selected.
        reason: String,
    },
    /// A certificate, SCT, timestamp or other DER structure could not be parsed.
    #[error("parsing {what}: {reason}")]
    Parse {
        /// What was parsed, e.g. "certificate".
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A certificate does not chain to a trusted certificate authority at the given time, or
    /// breaks a rule on the way (validity, CA flag, path length, key usage ...).
    #[error("certificate chain verification failed for {subject}: {reason}")]
    Chain {
        /// The subject (or SAN) of the certificate being verified.
        subject: String,
        /// Why no chain was accepted (one reason per authority tried).
        reason: String,
    },
    /// None of the identities of the policy matched the certificate (cosign's wording).
    #[error(
        "none of the expected identities matched what was in the certificate, got subjects [{}] with issuer {issuer}",
        subjects.join(", ")
    )]
    IdentityMismatch {
        /// The certificate's subject alternative names.
        subjects: Vec<String>,
        /// The certificate's OIDC issuer (empty when it has none).
        issuer: String,
    },
    /// A GitHub workflow claim of the policy differs from the certificate's (cosign's wording).
    #[error("expected GitHub Workflow {claim} not found in certificate")]
    WorkflowClaimMismatch {
        /// `Trigger`, `SHA`, `Name`, `Repository` or `Ref`.
        claim: &'static str,
        /// The expected value.
        expected: String,
        /// What the certificate holds (empty when absent).
        found: String,
    },
    /// An identity regular expression does not compile (cosign's wording).
    #[error("malformed {which} in identity: {pattern} : {reason}")]
    BadRegexp {
        /// `subject` or `issuer`.
        which: &'static str,
        /// The expression.
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
    /// sigstore-go's identity check failed (the bundle path of `cosign verify*`).
    #[error(
        "failed to verify certificate identity: no matching CertificateIdentity found, last error: {last_error}"
    )]
    NoMatchingIdentity {
        /// Why the last identity did not match, in sigstore-go's wording (e.g.
        /// `expected SAN value "a", got "b"`).
        last_error: String,
    },
    /// A signed certificate timestamp does not verify.
    #[error("verifying SCT: {reason}")]
    Sct {
        /// Why.
        reason: String,
    },
    /// An RFC 3161 timestamp does not verify.
    #[error("verifying RFC 3161 timestamp: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
}

impl TrustError {
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

    pub(crate) fn malformed(file: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            file: file.into(),
            reason: reason.to_string(),
        }
    }

    /// Whether this is a missing file (HTTP 403/404 or no such local file).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}
