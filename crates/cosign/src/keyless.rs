//! Certificate ("keyless") verification: a signature made with the key of a short-lived Fulcio
//! certificate is trusted when the certificate chains to a certificate authority of the trusted
//! root at every verified signing time, carries a valid SCT from a trusted CT log, and names
//! the expected identity and OIDC issuer.
//!
//! The times are the ones the verify flows proved: the integrated time of a Rekor v1 entry
//! whose signed entry timestamp verified, and the times of verified RFC 3161 timestamps. Every
//! one must fall inside the certificate's validity (sigstore-go validates the chain once per
//! verified time). With the log skipped (`--insecure-ignore-tlog`) and no timestamp, the
//! current time is used, as Go cosign does; with the log checked and no verified time at all,
//! verification fails closed.

use cosign_crypto::PublicKey;
use cosign_trust::identity::CertificatePolicy;
use cosign_trust::sct::{Sct, embedded_scts, verify_embedded_scts};
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::Certificate;
use cosign_trust::x509::chain::{Purpose, verify_against};

use crate::Error;

/// How the identity flags are matched against a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityMatch {
    /// Go cosign's `CheckCertificatePolicy` (signatures without a Sigstore bundle): any SAN,
    /// the v1 issuer extension, a regexp replacing the exact value.
    Cosign,
    /// sigstore-go's certificate identity (Sigstore bundles): the summary SAN, the v2 issuer
    /// (else v1), exact value and regexp both applied.
    SigstoreBundle,
}

/// What a certificate must satisfy to be trusted.
#[derive(Clone, Debug)]
pub struct CertificateVerifier {
    /// The certificate authorities and CT logs (and the rest of the trust material).
    pub trusted_root: TrustedRoot,
    /// The expected identities and workflow claims.
    pub policy: CertificatePolicy,
    /// `--insecure-ignore-sct`: no SCT is required.
    pub ignore_sct: bool,
    /// `--sct`: a detached SCT (JSON) for a certificate without an embedded one.
    pub detached_sct: Option<Vec<u8>>,
    /// `--certificate`: the signing certificate, when given on the command line (a signature
    /// carrying another one fails).
    pub certificate: Option<Certificate>,
    /// `--certificate-chain` (and `--ca-intermediates`): intermediates offered for chain
    /// building.
    pub intermediates: Vec<Certificate>,
}

/// Who must have made a signature.
#[derive(Clone, Debug)]
// One per command; the key is used on every signature, so it stays inline.
#[allow(clippy::large_enum_variant)]
pub enum Authority {
    /// A public key (`--key`).
    Key(PublicKey),
    /// A certificate issued to an identity (keyless).
    Certificate(Box<CertificateVerifier>),
}

impl Authority {
    /// The key, when verifying with a key.
    pub fn key(&self) -> Option<&PublicKey> {
        match self {
            Self::Key(k) => Some(k),
            Self::Certificate(_) => None,
        }
    }

    /// The key to check a signature with, and the certificate to check once the signature and
    /// its log entry and timestamps are verified. With a key, a certificate stored beside the
    /// signature is ignored (as Go cosign does); keyless, the signature's certificate (else
    /// `--certificate`) gives the key.
    pub fn signing_key(
        &self,
        carried: Option<SigningCertificate>,
        name: &str,
    ) -> Result<(PublicKey, Option<SigningCertificate>), Error> {
        match self {
            Self::Key(k) => Ok((k.clone(), None)),
            Self::Certificate(cv) => {
                let cert = match (carried, &cv.certificate) {
                    (Some(c), _) => c,
                    (None, Some(given)) => SigningCertificate {
                        leaf: given.clone(),
                        chain: Vec::new(),
                    },
                    (None, None) => {
                        return Err(Error::Verification(format!(
                            "{name} carries no certificate to verify against (it was signed with a key: pass --key)"
                        )));
                    }
                };
                Ok((cert.public_key(name)?, Some(cert)))
            }
        }
    }

    /// A Sigstore bundle made with a certificate is verified by identity, one made with a key
    /// by `--key` (sigstore-go: "expected key signature, not certificate").
    pub fn check_bundle(&self, bundle: &cosign_types::Bundle, name: &str) -> Result<(), Error> {
        let keyed = matches!(
            bundle.verification_material.content,
            cosign_types::bundle::VerificationMaterialContent::PublicKey(_)
        );
        match (self, keyed) {
            (Self::Key(_), false) => Err(Error::Verification(format!(
                "{name}: expected key signature, not certificate (it was signed keyless: verify it with --certificate-identity and --certificate-oidc-issuer)"
            ))),
            (Self::Certificate(_), true) => Err(Error::Verification(format!(
                "{name} was signed with a key, not a certificate: verify it with --key"
            ))),
            _ => Ok(()),
        }
    }

    /// The last step of verifying a signature made with a certificate: the certificate checked
    /// at the signing times proven by its log entry (`tlog`) and timestamps; `log_checked` is
    /// false when the log was skipped. Nothing to do for a key.
    pub fn check_certificate(
        &self,
        cert: Option<&SigningCertificate>,
        tlog: Option<&crate::tlog::TlogOutcome>,
        timestamp_times: &[i64],
        log_checked: bool,
        style: IdentityMatch,
        name: &str,
    ) -> Result<(), Error> {
        let Self::Certificate(cv) = self else {
            return Ok(());
        };
        // Keyless, every signature came with a certificate (see `signing_key`): none here
        // would be a flow that skipped it, so it fails rather than passes.
        let Some(cert) = cert else {
            return Err(Error::Verification(format!(
                "{name}: no certificate was checked for this keyless signature"
            )));
        };
        let times = signing_times(
            tlog.and_then(|t| t.entry.signed_time),
            timestamp_times,
            log_checked,
            name,
        )?;
        cv.check(cert, &times, style, name).map(drop)
    }
}

/// The log-entry expectation of who signed: the certificate's exact bytes when there is one,
/// else the key.
pub fn expected_signer<'a>(
    key: &'a PublicKey,
    cert: Option<&'a SigningCertificate>,
) -> (Option<&'a PublicKey>, Option<&'a [u8]>) {
    match cert {
        Some(c) => (None, Some(c.leaf.der())),
        None => (Some(key), None),
    }
}

/// The certificate a signature came with: its leaf and the chain stored beside it (bundle
/// chain, `dev.sigstore.cosign/chain` annotation), leaf excluded.
#[derive(Clone, Debug)]
pub struct SigningCertificate {
    /// The leaf.
    pub leaf: Certificate,
    /// Certificates offered as intermediates (a root among them is not trusted for being
    /// there).
    pub chain: Vec<Certificate>,
}

impl SigningCertificate {
    /// Parses a leaf (DER) and chain (DER each).
    pub fn from_der(leaf: &[u8], chain: &[Vec<u8>], name: &str) -> Result<Self, Error> {
        let parse = |der: &[u8]| {
            Certificate::from_der(der).map_err(|e| Error::Trust {
                context: format!("{name}: reading its certificate"),
                source: Box::new(e),
            })
        };
        Ok(Self {
            leaf: parse(leaf)?,
            chain: chain.iter().map(|c| parse(c)).collect::<Result<_, _>>()?,
        })
    }

    /// Parses PEM text holding the leaf first, then its chain.
    pub fn from_pem(pem: &[u8], name: &str) -> Result<Self, Error> {
        let mut certs = Certificate::from_pem(pem).map_err(|e| Error::Trust {
            context: format!("{name}: reading its certificate"),
            source: Box::new(e),
        })?;
        if certs.is_empty() {
            return Err(Error::format(name, "no certificate"));
        }
        let leaf = certs.remove(0);
        Ok(Self { leaf, chain: certs })
    }

    /// The leaf's public key.
    pub fn public_key(&self, name: &str) -> Result<PublicKey, Error> {
        self.leaf.public_key().map_err(|e| Error::Trust {
            context: format!("{name}: the certificate's public key"),
            source: Box::new(e),
        })
    }
}

/// The times a signature is proven to have been made at: the signed integrated times of its
/// log entries and its verified RFC 3161 timestamps. `log_checked` is false with
/// `--insecure-ignore-tlog`; then, without timestamps, the current time is used.
pub fn signing_times(
    log_times: impl IntoIterator<Item = i64>,
    timestamp_times: &[i64],
    log_checked: bool,
    name: &str,
) -> Result<Vec<i64>, Error> {
    let mut times: Vec<i64> = log_times.into_iter().collect();
    times.extend_from_slice(timestamp_times);
    if times.is_empty() {
        if log_checked {
            return Err(Error::Verification(format!(
                "{name}: no verified signing time: a certificate needs the signed integrated time of a transparency log entry or an RFC 3161 timestamp"
            )));
        }
        times.push(crate::time::now_unix());
    }
    Ok(times)
}

impl CertificateVerifier {
    /// Checks `cert` (the certificate a signature verified with): the `--certificate` given
    /// must be it; it must chain to a trusted authority at every time in `times`; carry a
    /// valid SCT (unless ignored); and match the identity policy. Returns the verified chain,
    /// leaf first.
    pub fn check(
        &self,
        cert: &SigningCertificate,
        times: &[i64],
        style: IdentityMatch,
        name: &str,
    ) -> Result<Vec<Certificate>, Error> {
        if let Some(given) = &self.certificate
            && given != &cert.leaf
        {
            return Err(Error::Verification(format!(
                "{name}: the certificate passed in does not match the certificate of the signature"
            )));
        }
        let trust = |context: &str, e: cosign_trust::TrustError| Error::Trust {
            context: format!("{name}: {context}"),
            source: Box::new(e),
        };
        if times.is_empty() {
            return Err(Error::Verification(format!(
                "{name}: no signing time to check the certificate at"
            )));
        }
        let extra: Vec<Certificate> = cert
            .chain
            .iter()
            .chain(&self.intermediates)
            .cloned()
            .collect();
        let mut chain = Vec::new();
        for &time in times {
            chain = verify_against(
                &cert.leaf,
                &extra,
                &self.trusted_root.certificate_authorities,
                time,
                Purpose::CodeSigning,
            )
            .map_err(|e| trust("verifying the certificate chain", e))?;
        }
        if !self.ignore_sct {
            self.check_sct(&chain, name)?;
        }
        match style {
            IdentityMatch::Cosign => self.policy.check_cosign(&cert.leaf),
            IdentityMatch::SigstoreBundle => self.policy.check_sigstore_go(&cert.leaf),
        }
        .map_err(|e| trust("checking the certificate identity", e))?;
        Ok(chain)
    }

    fn check_sct(&self, chain: &[Certificate], name: &str) -> Result<(), Error> {
        let trust = |e: cosign_trust::TrustError| Error::Trust {
            context: format!("{name}: verifying the certificate's SCT"),
            source: Box::new(e),
        };
        let leaf = &chain[0];
        let embedded = embedded_scts(leaf).map_err(trust)?;
        if !embedded.is_empty() {
            verify_embedded_scts(chain, &self.trusted_root, 1).map_err(trust)?;
            return Ok(());
        }
        match &self.detached_sct {
            Some(json) => Sct::from_json(json)
                .and_then(|sct| sct.verify_detached(leaf, &self.trusted_root))
                .map_err(trust),
            None => Err(Error::Verification(format!(
                "{name}: certificate does not include required embedded SCT and no detached SCT was set"
            ))),
        }
    }
}

impl SigningCertificate {
    /// What `cosign verify` adds to a keyless signature's `optional` claims (Go's
    /// `PrintVerification`): the first SAN as `Subject`, the OIDC issuer as `Issuer` and under
    /// its OID, and the GitHub workflow claims under their names and OIDs.
    pub fn optional_claims(&self) -> Vec<(String, String)> {
        use cosign_trust::x509::fulcio::{FulcioExtensions, subject_alternative_names};
        let mut out = Vec::new();
        let subject = subject_alternative_names(&self.leaf)
            .ok()
            .and_then(|s| s.first().map(ToString::to_string))
            .unwrap_or_default();
        out.push(("Subject".to_owned(), subject));
        let Ok(ext) = FulcioExtensions::from_certificate(&self.leaf) else {
            return out;
        };
        let issuer = if ext.issuer_v1.is_empty() {
            ext.issuer_v2.clone()
        } else {
            ext.issuer_v1.clone()
        };
        if !issuer.is_empty() {
            out.push(("Issuer".to_owned(), issuer.clone()));
            out.push(("1.3.6.1.4.1.57264.1.1".to_owned(), issuer));
        }
        for (n, name, value) in [
            (2, "githubWorkflowTrigger", &ext.github_workflow_trigger),
            (3, "githubWorkflowSha", &ext.github_workflow_sha),
            (4, "githubWorkflowName", &ext.github_workflow_name),
            (
                5,
                "githubWorkflowRepository",
                &ext.github_workflow_repository,
            ),
            (6, "githubWorkflowRef", &ext.github_workflow_ref),
        ] {
            if !value.is_empty() {
                out.push((name.to_owned(), value.clone()));
                out.push((format!("1.3.6.1.4.1.57264.1.{n}"), value.clone()));
            }
        }
        out
    }
}

impl SigningCertificate {
    /// The lines `cosign verify -o text` prints about a keyless signature's certificate.
    pub fn text_lines(&self) -> Vec<String> {
        let claims = self.optional_claims();
        let get = |k: &str| {
            claims
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        let mut out = vec![format!(
            "Certificate subject: {}",
            get("Subject").unwrap_or_default()
        )];
        for (key, label) in [
            ("Issuer", "Certificate issuer URL"),
            ("githubWorkflowTrigger", "GitHub Workflow Trigger"),
            ("githubWorkflowSha", "GitHub Workflow SHA"),
            ("githubWorkflowName", "GitHub Workflow Name"),
            ("githubWorkflowRepository", "GitHub Workflow Repository"),
            ("githubWorkflowRef", "GitHub Workflow Ref"),
        ] {
            if let Some(v) = get(key) {
                out.push(format!("{label}: {v}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_times_fail_closed() {
        // Log checked, nothing proven: refused.
        let e = signing_times([], &[], true, "sig").unwrap_err();
        assert!(e.to_string().contains("no verified signing time"), "{e}");
        // Every proven time counts, log times first.
        assert_eq!(
            signing_times([5], &[7, 9], true, "sig").unwrap(),
            vec![5, 7, 9]
        );
        assert_eq!(signing_times([], &[7], true, "sig").unwrap(), vec![7]);
        // Log skipped and no timestamp: the current time, as Go's WithCurrentTime.
        let now = crate::time::now_unix();
        let t = signing_times([], &[], false, "sig").unwrap();
        assert_eq!(t.len(), 1);
        assert!((t[0] - now).abs() < 60);
        // A timestamp still wins over the current time when the log is skipped.
        assert_eq!(signing_times([], &[7], false, "sig").unwrap(), vec![7]);
    }

    #[test]
    fn a_keyless_signature_without_certificate_fails() {
        let cv = CertificateVerifier {
            trusted_root: TrustedRoot {
                media_type: String::new(),
                tlogs: Vec::new(),
                certificate_authorities: Vec::new(),
                ctlogs: Vec::new(),
                timestamp_authorities: Vec::new(),
            },
            policy: CertificatePolicy::default(),
            ignore_sct: false,
            detached_sct: None,
            certificate: None,
            intermediates: Vec::new(),
        };
        let auth = Authority::Certificate(Box::new(cv));
        let e = auth
            .check_certificate(None, None, &[1], true, IdentityMatch::Cosign, "sig")
            .unwrap_err();
        assert!(e.to_string().contains("no certificate was checked"), "{e}");
        let e = auth.signing_key(None, "sig").unwrap_err();
        assert!(e.to_string().contains("carries no certificate"), "{e}");
    }
}
