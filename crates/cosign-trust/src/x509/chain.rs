//! Certificate chains at signing time: a leaf must chain through intermediates to the root of
//! an authority of the trusted root, with every certificate of the chain valid at the given time
//! (the "hybrid model" of the Sigstore spec), as sigstore-go does with Go's `x509.Verify`.
//!
//! Checked on the way: names and signatures; validity; CA flag (intermediates) and path length;
//! key usage `keyCertSign` on issuers that carry key usage; extended key usage of the purpose on
//! every certificate that restricts it; no unknown critical extension. On the leaf, for code
//! signing: extended key usage `codeSigning` and key usage `digitalSignature` (both required,
//! stricter than Go, which accepts a leaf without the extensions); for time stamping (RFC 3161,
//! as sigstore's timestamp-authority verifier): an end-entity certificate whose only extended
//! key usage is `timeStamping`, marked critical.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;

use super::Certificate;
use crate::TrustError;
use crate::trusted_root::{CertificateAuthority, TrustedRoot};

/// Longest chain built (leaf included).
const MAX_DEPTH: usize = 8;

/// What the leaf certificate is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Signing artifacts (Fulcio certificates).
    CodeSigning,
    /// Signing RFC 3161 timestamps.
    TimeStamping,
}

impl Purpose {
    fn eku(self) -> ObjectIdentifier {
        match self {
            Self::CodeSigning => rfc5912::ID_KP_CODE_SIGNING,
            Self::TimeStamping => rfc5912::ID_KP_TIME_STAMPING,
        }
    }
}

/// Extensions whose meaning is checked here or does not restrict use (so they may be critical).
const HANDLED: [ObjectIdentifier; 7] = [
    rfc5912::ID_CE_BASIC_CONSTRAINTS,
    rfc5912::ID_CE_KEY_USAGE,
    rfc5912::ID_CE_EXT_KEY_USAGE,
    rfc5912::ID_CE_SUBJECT_ALT_NAME,
    rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc5912::ID_CE_CERTIFICATE_POLICIES,
];

fn no_unknown_critical(cert: &Certificate) -> Result<(), String> {
    match cert
        .extensions()
        .iter()
        .find(|e| e.critical && !HANDLED.contains(&e.extn_id))
    {
        Some(e) => Err(format!(
            "{}: unhandled critical extension {}",
            cert.subject_string(),
            e.extn_id
        )),
        None => Ok(()),
    }
}

fn validity(cert: &Certificate, time: i64) -> Result<(), String> {
    if cert.valid_at(time) {
        return Ok(());
    }
    Err(format!(
        "certificate {} is not valid at {} (valid from {} to {})",
        describe(cert),
        cosign_types::time::rfc3339(time),
        cosign_types::time::rfc3339(cert.not_before()),
        cosign_types::time::rfc3339(cert.not_after()),
    ))
}

fn describe(cert: &Certificate) -> String {
    let s = cert.subject_string();
    if s.is_empty() {
        format!("with serial {}", hex::encode(cert.serial_number()))
    } else {
        format!("{s:?}")
    }
}

fn eku_allows(cert: &Certificate, purpose: Purpose) -> Result<bool, String> {
    Ok(
        match cert.extended_key_usage().map_err(|e| e.to_string())? {
            None => true,
            Some((_, ekus)) => ekus
                .iter()
                .any(|e| *e == purpose.eku() || *e == rfc5912::ANY_EXTENDED_KEY_USAGE),
        },
    )
}

/// The checks on the leaf itself.
fn check_leaf(leaf: &Certificate, time: i64, purpose: Purpose) -> Result<(), String> {
    validity(leaf, time)?;
    no_unknown_critical(leaf)?;
    let err = |e: TrustError| e.to_string();
    match purpose {
        Purpose::CodeSigning => {
            match leaf.extended_key_usage().map_err(err)? {
                Some((_, ekus))
                    if ekus.iter().any(|e| {
                        *e == rfc5912::ID_KP_CODE_SIGNING || *e == rfc5912::ANY_EXTENDED_KEY_USAGE
                    }) => {}
                _ => return Err("the leaf certificate lacks extended key usage codeSigning".into()),
            }
            if !leaf
                .key_usage()
                .map_err(err)?
                .is_some_and(|ku| ku.digital_signature())
            {
                return Err("the leaf certificate lacks key usage digitalSignature".into());
            }
        }
        Purpose::TimeStamping => {
            if leaf.is_ca().map_err(err)? {
                return Err("TSA certificate must be an end-entity certificate, not a CA".into());
            }
            match leaf.extended_key_usage().map_err(err)? {
                Some((true, ekus)) if ekus == [rfc5912::ID_KP_TIME_STAMPING] => {}
                Some((false, _)) => return Err("certificate must set EKU to critical".into()),
                _ => {
                    return Err(
                        "leaf certificate EKU is not set to TimeStamping as required".into(),
                    );
                }
            }
        }
    }
    Ok(())
}

/// The checks on an issuer at `position` in the chain (the leaf is 0).
fn check_issuer(
    cert: &Certificate,
    position: usize,
    is_root: bool,
    time: i64,
    purpose: Purpose,
) -> Result<(), String> {
    validity(cert, time)?;
    no_unknown_critical(cert)?;
    let err = |e: TrustError| e.to_string();
    let bc = cert.basic_constraints().map_err(err)?;
    match &bc {
        Some(bc) if bc.ca => {}
        None if is_root => {}
        _ => {
            return Err(format!(
                "certificate {} is not a CA but issued another",
                describe(cert)
            ));
        }
    }
    if let Some(max) = bc.and_then(|bc| bc.path_len_constraint) {
        if position - 1 > usize::from(max) {
            return Err(format!(
                "certificate {} allows {max} intermediate(s) below it, the chain has {}",
                describe(cert),
                position - 1
            ));
        }
    }
    if let Some(ku) = cert.key_usage().map_err(err)? {
        if !ku.key_cert_sign() {
            return Err(format!(
                "certificate {} lacks key usage keyCertSign",
                describe(cert)
            ));
        }
    }
    if !eku_allows(cert, purpose)? {
        return Err(format!(
            "certificate {} does not allow extended key usage {}",
            describe(cert),
            purpose.eku()
        ));
    }
    Ok(())
}

/// Depth-first search for a path from `chain.last()` to `root`.
fn extend(
    chain: &mut Vec<Certificate>,
    intermediates: &[&Certificate],
    root: &Certificate,
    time: i64,
    purpose: Purpose,
) -> Result<(), String> {
    let Some(current) = chain.last().cloned() else {
        return Err("empty chain".into());
    };
    if chain.len() > MAX_DEPTH {
        return Err(format!("no chain of at most {MAX_DEPTH} certificates"));
    }
    let position = chain.len();
    // The root first: a shorter chain is preferred.
    match current.is_signed_by(root) {
        Ok(()) => {
            check_issuer(root, position, true, time, purpose)?;
            chain.push(root.clone());
            return Ok(());
        }
        Err(e) if current.issuer_der() == root.subject_der() => {
            return Err(format!("signature by root {}: {e}", describe(root)));
        }
        Err(_) => {}
    }
    let mut last = format!(
        "certificate signed by unknown authority ({}; root is {})",
        current.issuer_string(),
        root.subject_string()
    );
    for &candidate in intermediates {
        if chain.contains(candidate) || candidate.subject_der() != current.issuer_der() {
            continue;
        }
        let step = current
            .is_signed_by(candidate)
            .and_then(|()| check_issuer(candidate, position, false, time, purpose));
        if let Err(e) = step {
            last = e;
            continue;
        }
        chain.push(candidate.clone());
        match extend(chain, intermediates, root, time, purpose) {
            Ok(()) => return Ok(()),
            Err(e) => {
                last = e;
                chain.truncate(position);
            }
        }
    }
    Err(last)
}

/// Verifies that `leaf` chains to `authority` at `time`: the authority's validity window must
/// contain `time`, and the chain leaf → intermediates (the authority's, then `extra`) → the
/// authority's root must hold. Returns the chain, leaf first, root last.
pub fn verify_with_authority(
    leaf: &Certificate,
    extra_intermediates: &[Certificate],
    authority: &CertificateAuthority,
    time: i64,
    purpose: Purpose,
) -> Result<Vec<Certificate>, String> {
    if !authority.valid_for.contains(time) {
        return Err(format!(
            "authority {} is not valid at {}",
            authority.uri,
            cosign_types::time::rfc3339(time)
        ));
    }
    let root = authority.root().ok_or("the authority has no certificate")?;
    check_leaf(leaf, time, purpose)?;
    let intermediates: Vec<&Certificate> = authority
        .intermediates()
        .iter()
        .chain(extra_intermediates)
        .collect();
    let mut chain = vec![leaf.clone()];
    if leaf == root {
        return Ok(chain);
    }
    extend(&mut chain, &intermediates, root, time, purpose)?;
    Ok(chain)
}

/// Verifies a Fulcio (code signing) certificate against the certificate authorities of
/// `trusted_root` at `time` (the signing time, Unix seconds), like sigstore-go's
/// `VerifyLeafCertificate`: the first authority that accepts it wins. Returns the chain.
pub fn verify_leaf_certificate(
    leaf: &Certificate,
    trusted_root: &TrustedRoot,
    time: i64,
) -> Result<Vec<Certificate>, TrustError> {
    verify_against(
        leaf,
        &[],
        &trusted_root.certificate_authorities,
        time,
        Purpose::CodeSigning,
    )
}

/// Verifies `leaf` for `purpose` against any of `authorities`; the error lists why each
/// authority refused it.
pub fn verify_against(
    leaf: &Certificate,
    extra_intermediates: &[Certificate],
    authorities: &[CertificateAuthority],
    time: i64,
    purpose: Purpose,
) -> Result<Vec<Certificate>, TrustError> {
    let mut reasons = Vec::new();
    for authority in authorities {
        match verify_with_authority(leaf, extra_intermediates, authority, time, purpose) {
            Ok(chain) => return Ok(chain),
            Err(e) => reasons.push(format!("{}: {e}", authority.uri)),
        }
    }
    if reasons.is_empty() {
        reasons.push("the trusted root has no authority".into());
    }
    Err(TrustError::Chain {
        subject: subject_for_errors(leaf),
        reason: reasons.join("; "),
    })
}

/// The subject, or the first SAN when the subject is empty (Fulcio certificates).
fn subject_for_errors(cert: &Certificate) -> String {
    let s = cert.subject_string();
    if !s.is_empty() {
        return s;
    }
    super::fulcio::subject_alternative_names(cert)
        .ok()
        .and_then(|sans| sans.first().map(ToString::to_string))
        .unwrap_or_else(|| format!("serial {}", hex::encode(cert.serial_number())))
}
