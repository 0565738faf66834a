//! Blob attestations (`attest-blob`, `verify-blob-attestation`): the statement's subject is the
//! file's base name and digest, computed in one streaming pass in constant memory (cosign reads
//! the whole file), with no size limit.

use std::path::Path;

use cosign_types::intoto::{Statement, statement_v01};
use cosign_types::predicate::PredicateType;
use cosign_types::{Digest, HashAlgorithm};

use super::bundle::{BundleFile, read_bundle};
use super::{BlobInput, digest_input};
use crate::Error;
use crate::attestation::{AttestationPolicy, Candidate, VerifiedAttestation, bundle_candidate};
use crate::keyless::{Authority, IdentityMatch};
use crate::tlog::TlogVerify;

/// Largest attestation, statement, predicate or attestation bundle read: cosign's default
/// attachment size cap (a bigger attestation would be refused by every verifier).
pub const MAX_INPUT_BYTES: u64 = crate::image::storage::DEFAULT_MAX_ATTACHMENT_SIZE;

/// Where the subject of `--check-claims` comes from.
#[derive(Clone, Debug)]
pub enum ClaimedSubject {
    /// `--digest`/`--digestAlg`.
    Digest(Digest),
    /// The blob, hashed with SHA-256.
    Blob(BlobInput),
}

/// What `verify-blob-attestation` checks.
pub struct VerifyBlobAttestationOptions<'a> {
    /// Who must have signed.
    pub authority: &'a Authority,
    /// Only statements of this predicate type count.
    pub predicate_type: &'a PredicateType,
    /// `--check-claims`: the statement must name this subject.
    pub subject: Option<ClaimedSubject>,
    /// `--bundle`: a Sigstore bundle or cosign's legacy bundle.
    pub bundle: Option<&'a Path>,
    /// `--signature`: the DSSE envelope JSON file (`-`: standard input).
    pub signature: Option<&'a Path>,
    /// Transparency log verification (None: the log is skipped).
    pub tlog: Option<&'a TlogVerify>,
    /// The trusted root whose timestamp authorities check a bundle's RFC 3161 timestamps.
    pub trusted_root: Option<&'a cosign_trust::trusted_root::TrustedRoot>,
}

/// Verifies a blob attestation: the envelope (from the bundle and/or `--signature`, which must
/// agree), its statement of the requested type, the claimed subject and the log entry.
pub async fn verify_attestation(
    opts: &VerifyBlobAttestationOptions<'_>,
) -> Result<VerifiedAttestation, Error> {
    let subject = match &opts.subject {
        None => None,
        Some(ClaimedSubject::Digest(d)) => Some(d.clone()),
        Some(ClaimedSubject::Blob(input)) => Some(digest_input(input, HashAlgorithm::Sha256)?),
    };
    let mut candidate = match opts.bundle {
        Some(path) => Some(bundle_envelope(path, opts.authority, opts.tlog.is_some())?),
        None => None,
    };
    if let Some(path) = opts.signature {
        let envelope_json = crate::fsutil::read_input(path, "signature", MAX_INPUT_BYTES)?;
        match &candidate {
            Some(c) if c.envelope_json != envelope_json => {
                return Err(Error::Mismatch {
                    what: "envelope",
                    other: "bundle",
                });
            }
            Some(_) => {}
            None => {
                candidate = Some(Candidate {
                    name: format!("attestation {}", path.display()),
                    envelope_json,
                    entry: None,
                    timestamps: Vec::new(),
                    payload_timestamps: Vec::new(),
                    certificate: None,
                    identity_match: IdentityMatch::Cosign,
                });
            }
        }
    }
    let Some(candidate) = candidate else {
        return Err(Error::Missing("a DSSE envelope (signature or bundle)"));
    };
    let policy = AttestationPolicy {
        authority: opts.authority,
        predicate_type: Some(opts.predicate_type),
        subject: subject.as_ref(),
        tlog: opts.tlog,
        trusted_root: opts.trusted_root,
    };
    crate::attestation::verify_one(&policy, candidate).await
}

/// The envelope and log entry of a `--bundle` file (Sigstore bundle or cosign's legacy JSON).
fn bundle_envelope(path: &Path, authority: &Authority, checked: bool) -> Result<Candidate, Error> {
    match read_bundle(path, MAX_INPUT_BYTES)? {
        (name, BundleFile::Sigstore(bundle)) => bundle_candidate(&name, &bundle, checked),
        (name, BundleFile::Legacy(legacy)) => {
            let certificate = legacy.check_authority(&name, authority, "the attestation")?;
            Ok(Candidate {
                name,
                envelope_json: legacy.signature,
                entry: legacy.entry,
                timestamps: Vec::new(),
                payload_timestamps: Vec::new(),
                certificate,
                identity_match: IdentityMatch::Cosign,
            })
        }
    }
}

/// The subject name cosign records: Go's `path.Base` of the argument.
pub fn subject_name(arg: &str) -> String {
    if arg.is_empty() {
        return ".".to_owned();
    }
    let trimmed = arg.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// The Statement v0.1 `attest-blob` signs for a predicate file.
pub fn predicate_statement(
    predicate_type: &PredicateType,
    predicate: &[u8],
    subject_name: &str,
    subject: &Digest,
    timestamp: &str,
) -> Result<Vec<u8>, Error> {
    let predicate_json = predicate_type.build_predicate(predicate, timestamp)?;
    Ok(statement_v01(
        subject_name,
        &subject.hex(),
        predicate_type.uri(),
        &predicate_json,
    ))
}

/// The statement `attest-blob --predicate` signs: the predicate about the blob named by
/// `blob_arg` (`-`: standard input), whose SHA-256 is `hash` when given, else computed in one
/// pass over the blob.
pub fn blob_statement(
    blob_arg: &str,
    hash: Option<Digest>,
    predicate_type: &PredicateType,
    predicate: &[u8],
    timestamp: &str,
) -> Result<Vec<u8>, Error> {
    let subject = match hash {
        Some(d) => d,
        None => {
            let input = if blob_arg == "-" {
                BlobInput::Stdin
            } else {
                BlobInput::File(blob_arg.into())
            };
            digest_input(&input, HashAlgorithm::Sha256)?
        }
    };
    predicate_statement(
        predicate_type,
        predicate,
        &subject_name(blob_arg),
        &subject,
        timestamp,
    )
}

/// Checks a statement given with `--statement` before it is signed verbatim.
pub fn check_statement(bytes: &[u8]) -> Result<Statement, Error> {
    Statement::from_json(bytes).map_err(|e| Error::Invalid {
        what: "invalid statement".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(subject_name("dir/file.tar.gz"), "file.tar.gz");
        assert_eq!(subject_name("/a/b/"), "b");
        assert_eq!(subject_name("file"), "file");
        assert_eq!(subject_name("-"), "-");
        assert_eq!(subject_name(""), ".");
        assert_eq!(subject_name("///"), "/");
    }

    #[test]
    fn streaming_digest_matches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("blob");
        let data: Vec<u8> = (0..(crate::blob::CHUNK * 3 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&p, &data).unwrap();
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            assert_eq!(
                digest_input(&BlobInput::File(p.clone()), alg).unwrap(),
                cosign_crypto::hash(alg, &data)
            );
        }
        assert!(
            digest_input(
                &BlobInput::File(dir.path().to_owned()),
                HashAlgorithm::Sha256
            )
            .is_err()
        );
    }
}
