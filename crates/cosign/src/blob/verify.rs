//! `verify-blob`: a blob's signature checked against a key in one streaming pass, with the
//! signature from `--signature` or a bundle, and the bundle's (or the log's) entry checked.

use std::path::Path;

use cosign_crypto::{PublicKey, SignatureScheme};
use cosign_tlog::LogEntry;
use cosign_tlog::entry::Body;
use cosign_types::bundle::{Bundle, BundleContent, MessageSignature};
use cosign_types::{Digest, HashAlgorithm};

use super::bundle::{BUNDLE_LIMIT, BundleFile, read_bundle};
use super::{BlobInput, MultiHasher, one_pass, pick};
use crate::Error;
use crate::attestation::{AttestationPolicy, Candidate};
use crate::keyless::{Authority, IdentityMatch, SigningCertificate};
use crate::tlog::{TlogOutcome, TlogVerify};

/// What `verify-blob` checks a blob against.
pub struct VerifyBlobOptions<'a> {
    /// Who must have signed: a key, or a certificate policy (keyless).
    pub authority: &'a Authority,
    /// The signature from `--signature` (decoded), if given.
    pub signature: Option<Vec<u8>>,
    /// `--bundle`: a Sigstore bundle or cosign's legacy bundle.
    pub bundle: Option<&'a Path>,
    /// Transparency log verification (None: the log is skipped).
    pub tlog: Option<&'a TlogVerify>,
    /// The trusted root whose timestamp authorities check a bundle's RFC 3161 timestamps.
    pub trusted_root: Option<&'a cosign_trust::trusted_root::TrustedRoot>,
    /// `--rfc3161-timestamp`: an RFC 3161 timestamp (DER) over the signature.
    pub timestamp: Option<Vec<u8>>,
}

/// A verified blob.
#[derive(Clone, Debug)]
pub struct VerifiedBlob {
    /// The log entry that proved the signature was recorded (None when the log was skipped).
    pub tlog: Option<TlogOutcome>,
}

/// The signature and the checks a bundle adds.
struct SignatureMaterial {
    signature: Vec<u8>,
    expected_digest: Option<Digest>,
    /// The log entry the bundle carries.
    entry: Option<LogEntry>,
    /// The bundle's RFC 3161 timestamps (DER).
    timestamps: Vec<Vec<u8>>,
    /// The certificate stored with the signature.
    certificate: Option<SigningCertificate>,
    /// How the certificate's identity is matched.
    identity_match: IdentityMatch,
    /// How errors name the bundle.
    name: String,
}

/// Verifies a blob: the signature (from the bundle and/or `--signature`, which must agree), the
/// bundle's message digest, then the log entry bound to the blob's digest, the signature and
/// the key or certificate, then (keyless) the certificate at the proven signing times. A bundle
/// holding a DSSE envelope is verified as an attestation about the blob.
pub async fn verify(
    input: &BlobInput,
    opts: &VerifyBlobOptions<'_>,
) -> Result<VerifiedBlob, Error> {
    let mut material = match opts.bundle {
        Some(path) => match bundle_material(path, opts.authority, opts.tlog.is_some())? {
            Material::Signature(m) => *m,
            Material::Envelope(c) => return verify_envelope(input, opts, *c).await,
        },
        None => SignatureMaterial {
            signature: Vec::new(),
            expected_digest: None,
            entry: None,
            timestamps: Vec::new(),
            certificate: None,
            identity_match: IdentityMatch::Cosign,
            name: "the signature".to_owned(),
        },
    };
    match (&opts.signature, opts.bundle) {
        (Some(given), Some(_)) if *given != material.signature => {
            return Err(Error::Mismatch {
                what: "signature",
                other: "bundle",
            });
        }
        (Some(given), _) => material.signature = given.clone(),
        (None, Some(_)) => {}
        (None, None) => {
            return Err(Error::Missing("a signature or a bundle"));
        }
    }
    if let Some(ts) = &opts.timestamp {
        material.timestamps.push(ts.clone());
    }
    let (key, certificate) = opts
        .authority
        .signing_key(material.certificate.take(), &material.name)?;
    let schemes = crate::image::verify::schemes_for(&key);
    // The log records a digest: the body says which; without a bundle, the key's scheme does.
    let log_alg = opts.tlog.map(|_| {
        material
            .entry
            .as_ref()
            .and_then(|e| Body::parse(&e.body).ok())
            .and_then(|b| match b {
                Body::HashedRekord { digest, .. }
                | Body::Rekord { digest, .. }
                | Body::HashedRekordV002 { digest, .. } => Some(digest.algorithm()),
                _ => None,
            })
            .unwrap_or_else(|| {
                schemes
                    .last()
                    .and_then(|s| s.prehash())
                    .unwrap_or(HashAlgorithm::Sha256)
            })
    });
    let digest = verify_blob(&VerifyBlob {
        key: &key,
        schemes: &schemes,
        input,
        signature: &material.signature,
        expected_digest: material.expected_digest.as_ref(),
        want_digest: log_alg,
    })?;
    let times = crate::timestamps::verify_timestamps(
        &material.timestamps,
        &material.signature,
        opts.trusted_root,
        &material.name,
    )?;
    let tlog = match (opts.tlog, &digest) {
        (Some(tv), Some(digest)) => {
            let (verifier, verifier_cert_der) =
                crate::keyless::expected_signer(&key, certificate.as_ref());
            let expected = cosign_tlog::Expected {
                artifact_digest: Some(digest),
                signature: Some(&material.signature),
                verifier,
                verifier_cert_der,
                envelope: None,
            };
            Some(
                crate::tlog::verify_signature_entry_at(
                    tv,
                    material.entry.as_ref(),
                    Some(digest),
                    &expected,
                    times.first().copied(),
                )
                .await?,
            )
        }
        _ => None,
    };
    opts.authority.check_certificate(
        certificate.as_ref(),
        tlog.as_ref(),
        &times,
        opts.tlog.is_some(),
        material.identity_match,
        &material.name,
    )?;
    Ok(VerifiedBlob { tlog })
}

/// What a bundle holds: a signature over the blob, or a DSSE envelope about it.
enum Material {
    Signature(Box<SignatureMaterial>),
    Envelope(Box<Candidate>),
}

fn bundle_material(path: &Path, authority: &Authority, checked: bool) -> Result<Material, Error> {
    match read_bundle(path, BUNDLE_LIMIT)? {
        (name, BundleFile::Legacy(legacy)) => {
            let certificate = legacy.check_authority(&name, authority, "the blob")?;
            Ok(Material::Signature(Box::new(SignatureMaterial {
                signature: legacy.signature,
                expected_digest: None,
                entry: legacy.entry,
                timestamps: Vec::new(),
                certificate,
                identity_match: IdentityMatch::Cosign,
                name,
            })))
        }
        (name, BundleFile::Sigstore(bundle)) => {
            authority.check_bundle(&bundle, &name)?;
            match &bundle.content {
                BundleContent::DsseEnvelope(_) => Ok(Material::Envelope(Box::new(
                    crate::attestation::bundle_candidate(&name, &bundle, checked)?,
                ))),
                BundleContent::MessageSignature(ms) => Ok(Material::Signature(Box::new(
                    sigstore_material(&bundle, ms, &name, checked)?,
                ))),
            }
        }
    }
}

/// A DSSE bundle given to `verify-blob` (as Go cosign takes it): the envelope's signature,
/// an in-toto statement of any predicate type, a subject with the blob's digest (SHA-256, or
/// the algorithm of a given `alg:hex`), and the log entry bound to the envelope.
async fn verify_envelope(
    input: &BlobInput,
    opts: &VerifyBlobOptions<'_>,
    candidate: Candidate,
) -> Result<VerifiedBlob, Error> {
    if opts.signature.is_some() {
        return Err(Error::Invalid {
            what: candidate.name,
            reason: "holds a DSSE envelope: its signature is the envelope's, not a separate one"
                .into(),
        });
    }
    let subject = match input {
        BlobInput::Digest(d) => d.clone(),
        _ => super::digest_input(input, HashAlgorithm::Sha256)?,
    };
    let policy = AttestationPolicy {
        authority: opts.authority,
        predicate_type: None,
        subject: Some(&subject),
        tlog: opts.tlog,
        trusted_root: opts.trusted_root,
    };
    let verified = crate::attestation::verify_one(&policy, candidate).await?;
    Ok(VerifiedBlob {
        tlog: verified.tlog,
    })
}

fn sigstore_material(
    bundle: &Bundle,
    ms: &MessageSignature,
    name: &str,
    checked: bool,
) -> Result<SignatureMaterial, Error> {
    let expected_digest = match &ms.message_digest {
        Some(md) => {
            let alg = HashAlgorithm::from_proto_name(&md.algorithm).ok_or_else(|| {
                Error::format(
                    name,
                    format!("unsupported digest algorithm {:?}", md.algorithm),
                )
            })?;
            Some(Digest::new(alg, md.digest.clone()).ok_or_else(|| {
                Error::format(
                    name,
                    format!("the message digest has the wrong length for {alg}"),
                )
            })?)
        }
        None => None,
    };
    Ok(SignatureMaterial {
        signature: ms.signature.clone(),
        expected_digest,
        entry: crate::tlog::bundle_log_entry_if(checked, bundle, name)?,
        timestamps: crate::timestamps::bundle_timestamps(bundle),
        certificate: crate::attestation::bundle_certificate(bundle, name)?,
        identity_match: IdentityMatch::SigstoreBundle,
        name: name.to_owned(),
    })
}

/// What a blob verification must check.
pub struct VerifyBlob<'a> {
    /// The verification key.
    pub key: &'a PublicKey,
    /// Schemes to accept (Ed25519 keys accept pure and prehashed signatures).
    pub schemes: &'a [SignatureScheme],
    /// The blob.
    pub input: &'a BlobInput,
    /// The raw signature.
    pub signature: &'a [u8],
    /// A digest the blob must have (e.g. a bundle's message digest), checked as well.
    pub expected_digest: Option<&'a Digest>,
    /// A digest of the blob to compute in the same pass and return (e.g. for a log lookup).
    pub want_digest: Option<HashAlgorithm>,
}

fn invalid_signature(input: &BlobInput) -> Error {
    Error::Verification(format!(
        "invalid signature for {}: it was not made over this content with this key",
        input.describe()
    ))
}

fn digest_mismatch(input: &BlobInput, expected: &Digest, actual: &Digest) -> Error {
    Error::Verification(format!(
        "the bundle's message digest {expected} does not match {} (digest {actual})",
        input.describe()
    ))
}

/// Verifies a blob signature in one pass over the input: every digest needed (the schemes'
/// prehashes, the expected digest, the wanted digest) is computed once from the same bytes.
/// Returns the wanted digest.
pub fn verify_blob(req: &VerifyBlob<'_>) -> Result<Option<Digest>, Error> {
    if let BlobInput::Digest(given) = req.input {
        verify_digest_only(req, given)?;
        return match req.want_digest {
            None => Ok(None),
            Some(alg) if alg == given.algorithm() => Ok(Some(given.clone())),
            Some(alg) => Err(Error::Invalid {
                what: given.to_string(),
                reason: format!(
                    "a {alg} digest is needed, but only the {} digest was given",
                    given.algorithm()
                ),
            }),
        };
    }
    let mut algs: Vec<HashAlgorithm> = req.schemes.iter().filter_map(|s| s.prehash()).collect();
    algs.extend(req.expected_digest.map(Digest::algorithm));
    algs.extend(req.want_digest);
    let mut hashers = MultiHasher::new(&algs);
    // Pure Ed25519 hashes R || A || message itself: it needs its own streaming verifier.
    let mut pure = None;
    if req.schemes.contains(&SignatureScheme::Ed25519) {
        pure = req
            .key
            .stream_verifier(SignatureScheme::Ed25519, req.signature)
            .ok();
    }
    one_pass(req.input, &mut |chunk| {
        hashers.update(chunk);
        if let Some(v) = pure.as_mut() {
            v.update(chunk);
        }
    })?;
    let digests = hashers.finish();
    if let Some(expected) = req.expected_digest {
        let actual = pick(&digests, expected.algorithm())?;
        if &actual != expected {
            return Err(digest_mismatch(req.input, expected, &actual));
        }
    }
    let prehashed_ok = req.schemes.iter().any(|s| {
        s.prehash().is_some_and(|alg| {
            pick(&digests, alg).is_ok_and(|d| req.key.verify_digest(*s, &d, req.signature).is_ok())
        })
    });
    let pure_ok = !prehashed_ok && pure.is_some_and(|v| v.finish().is_ok());
    if !(prehashed_ok || pure_ok) {
        return Err(invalid_signature(req.input));
    }
    req.want_digest.map(|alg| pick(&digests, alg)).transpose()
}

fn verify_digest_only(req: &VerifyBlob<'_>, given: &Digest) -> Result<(), Error> {
    if let Some(expected) = req.expected_digest
        && expected != given
    {
        return Err(digest_mismatch(req.input, expected, given));
    }
    let usable: Vec<_> = req
        .schemes
        .iter()
        .filter(|s| s.prehash() == Some(given.algorithm()))
        .collect();
    if usable.is_empty() {
        return Err(Error::Invalid {
            what: given.to_string(),
            reason: format!(
                "cannot verify it with a {} key: the signature scheme does not sign a {} digest{}",
                req.key.key_type(),
                given.algorithm(),
                if req.schemes.contains(&SignatureScheme::Ed25519) {
                    " (pure Ed25519 signs the whole message: pass the file instead)"
                } else {
                    ""
                }
            ),
        });
    }
    if usable
        .iter()
        .any(|s| req.key.verify_digest(**s, given, req.signature).is_ok())
    {
        Ok(())
    } else if req.schemes.contains(&SignatureScheme::Ed25519) {
        Err(Error::Verification(format!(
            "invalid signature for {given}: not an Ed25519ph signature over this digest, and a pure Ed25519 signature covers the whole message: pass the file instead"
        )))
    } else {
        Err(invalid_signature(req.input))
    }
}
