//! Attestations, whatever they are attached to: signing an in-toto statement as a DSSE envelope
//! (and recording it in the transparency log as a `dsse` or `intoto` entry), the bundles that
//! carry it, and verifying an envelope against a key, a predicate type, a subject digest and
//! its log entry.
//!
//! Verification fails closed (GHSA-w6c6-c85g-mmv6): an envelope whose payload type is not
//! in-toto, whose statement does not parse, lacks a predicate type or subjects, or whose
//! predicate does not fit the requested type is an error, never a success. Only statements of
//! the requested predicate type count (GHSA-vjxv-45g9-9296): others are reported as such.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;
use cosign_tlog::LogEntry;
use cosign_types::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, VerificationMaterialContent,
};
use cosign_types::dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE};
use cosign_types::intoto::Statement;
use cosign_types::legacy_bundle::LocalSignedPayload;
use cosign_types::predicate::PredicateType;
use cosign_types::{Digest, HashAlgorithm};

use crate::certs::Certificate;
use crate::keyless::{Authority, IdentityMatch, SigningCertificate};
use crate::tlog::{TlogOutcome, TlogVerify};
use crate::witness::{Signed, SignedBy, Witnessed, Witnesses};
use crate::{Error, Signer};

/// Most signatures examined on one envelope.
pub const MAX_ENVELOPE_SIGNATURES: usize = 32;

/// The transparency log entry kind an attestation is recorded as (`--rekor-entry-type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RekorEntryType {
    /// `dsse` 0.0.1 (the default).
    #[default]
    Dsse,
    /// `intoto` 0.0.2.
    Intoto,
}

/// A signed attestation.
#[derive(Clone, Debug)]
pub struct SignedAttestation {
    /// The statement (the envelope's payload).
    pub statement: Vec<u8>,
    /// The envelope.
    pub envelope: Envelope,
    /// The envelope JSON as stored and logged (cosign v3's protojson form:
    /// `{"payload":..,"payloadType":..,"signatures":[{"sig":..}]}`).
    pub envelope_json: Vec<u8>,
    /// The raw signature over the PAE.
    pub signature: Vec<u8>,
    /// The log entry, when recorded.
    pub entry: Option<LogEntry>,
    /// RFC 3161 timestamps (DER) over what [`Stamped`] said: the signature (bundles) or
    /// the envelope JSON (legacy `.att` layers and attestation files).
    pub timestamps: Vec<Vec<u8>>,
}

/// What the timestamps of an attestation cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamped {
    /// The raw signature (Sigstore bundles, as sigstore-go stamps them).
    Signature,
    /// The envelope JSON (Go cosign's legacy attestation layers and files).
    Envelope,
}

impl SignedAttestation {
    /// A Sigstore bundle v0.3 holding the envelope, the key hint (or certificate) and the log
    /// entry.
    pub fn sigstore_bundle(
        &self,
        key: &PublicKey,
        certificate: Option<&Certificate>,
    ) -> Result<Vec<u8>, Error> {
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material: crate::blob::bundle::verification_material(
                key,
                certificate,
                self.entry.as_ref(),
                &self.timestamps,
            )?,
            content: BundleContent::DsseEnvelope(self.envelope.clone()),
        }
        .to_json())
    }

    /// cosign's legacy bundle file for an attestation: `base64Signature` is the base64 of the
    /// envelope JSON, `cert` the base64 of the certificate PEM (when there is one),
    /// `rekorBundle` the log entry.
    pub fn legacy_bundle(&self, certificate: Option<&Certificate>) -> Vec<u8> {
        LocalSignedPayload {
            base64_signature: STANDARD.encode(&self.envelope_json),
            cert: certificate.map(|c| STANDARD.encode(c.pem.as_bytes())),
            rekor_bundle: self.entry.as_ref().map(LogEntry::to_legacy_bundle),
        }
        .to_json()
    }

    /// The `dev.sigstore.cosign/bundle` annotation of a legacy attestation layer.
    pub fn rekor_bundle_annotation(&self) -> Option<String> {
        self.entry
            .as_ref()
            .map(|e| String::from_utf8_lossy(&e.to_legacy_bundle().to_json()).into_owned())
    }
}

/// Signs `statement` as a DSSE envelope (payload type `application/vnd.in-toto+json`, signature
/// over the PAE); then the witnesses record it (as `entry_type` on Rekor v1) and timestamp
/// what `stamped` says, and their answers are checked.
pub async fn sign_statement(
    signer: &Signer,
    statement: Vec<u8>,
    certificate: Option<&Certificate>,
    witnesses: Option<&Witnesses>,
    entry_type: RekorEntryType,
    stamped: Stamped,
) -> Result<SignedAttestation, Error> {
    // DSSE signs the whole PAE, which is in memory: Ed25519 keys sign it pure, as Rekor's dsse
    // and intoto types verify it (only a digest-only remote signer falls back to Ed25519ph).
    let scheme = signer.scheme(false);
    let pae = cosign_types::pae(IN_TOTO_PAYLOAD_TYPE, &statement);
    let signature = signer.sign_message(scheme, &pae).await?;
    let envelope = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
        payload: statement.clone(),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: signature.clone(),
        }],
    };
    let envelope_json = envelope.to_json_compact_new();
    let mut witnessed = Witnessed::default();
    if let Some(w) = witnesses.filter(|w| w.any()) {
        let pem = certificate
            .map(|c| c.pem.clone())
            .or_else(|| signer.certificate_pem())
            .unwrap_or_else(|| signer.public_key().to_pem());
        let key = signer.public_key();
        let stamped = match stamped {
            Stamped::Signature => signature.as_slice(),
            Stamped::Envelope => envelope_json.as_slice(),
        };
        witnessed = w
            .witness(
                Signed::Envelope {
                    json: &envelope_json,
                    signature: &signature,
                    entry_type,
                    pae: &pae,
                },
                SignedBy {
                    key: &key,
                    certificate,
                    verifier_pem: &pem,
                },
                stamped,
            )
            .await?;
    }
    Ok(SignedAttestation {
        statement,
        envelope,
        envelope_json,
        signature,
        entry: witnessed.entry,
        timestamps: witnessed.timestamps,
    })
}

/// What an attestation must satisfy.
#[derive(Clone, Copy)]
pub struct AttestationPolicy<'a> {
    /// Who must have signed: a key, or a certificate policy (keyless).
    pub authority: &'a Authority,
    /// Only statements of this predicate type count (None: any type, as `verify-blob` takes
    /// a DSSE bundle).
    pub predicate_type: Option<&'a PredicateType>,
    /// `--check-claims`: a subject must carry this digest.
    pub subject: Option<&'a Digest>,
    /// Transparency log verification (None: `--insecure-ignore-tlog`).
    pub tlog: Option<&'a TlogVerify>,
    /// The trusted root whose timestamp authorities check RFC 3161 timestamps (a candidate
    /// with timestamps and no authority fails).
    pub trusted_root: Option<&'a cosign_trust::trusted_root::TrustedRoot>,
}

/// An envelope to verify, with where it came from.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// How errors name it (`attestation sha256:...`, `bundle ...`).
    pub name: String,
    /// The envelope JSON as stored (what the log entry hashed, and what is printed).
    pub envelope_json: Vec<u8>,
    /// The log entry stored with it (bundle annotation, bundle `tlogEntries`).
    pub entry: Option<LogEntry>,
    /// RFC 3161 timestamps over its signature (DER), from its bundle.
    pub timestamps: Vec<Vec<u8>>,
    /// RFC 3161 timestamps over the envelope JSON itself: the `rfc3161timestamp` annotation of
    /// a legacy `.att` layer (Go cosign stamps an attestation's payload, having no raw
    /// signature there).
    pub payload_timestamps: Vec<Vec<u8>>,
    /// The certificate stored with it (keyless signatures).
    pub certificate: Option<SigningCertificate>,
    /// How a certificate's identity is matched (Sigstore bundles: sigstore-go's way).
    pub identity_match: IdentityMatch,
}

/// A verified attestation of the requested type.
#[derive(Clone, Debug)]
pub struct VerifiedAttestation {
    /// The envelope JSON as stored.
    pub envelope_json: Vec<u8>,
    /// The statement.
    pub statement: Statement,
    /// The log entry that proved it was recorded (None when the log was skipped).
    pub tlog: Option<TlogOutcome>,
}

/// The outcome of one candidate whose signature verified.
#[derive(Clone, Debug)]
pub enum Checked {
    /// Of the requested type, and every check passed.
    Verified(Box<VerifiedAttestation>),
    /// Signed by the key, but of another predicate type (which is named).
    OtherType(String),
}

/// A candidate whose synchronous checks passed.
struct Passed {
    env: Envelope,
    statement: Statement,
    /// The signature that verified.
    signature: Vec<u8>,
    /// The key it verified with.
    key: PublicKey,
    /// The certificate still to check (keyless).
    certificate: Option<SigningCertificate>,
}

/// What the synchronous checks of a candidate found.
enum EnvelopeCheck {
    /// Every check passed.
    Passed(Box<Passed>),
    /// A verified statement of another predicate type.
    OtherType(String),
}

/// The synchronous checks of a candidate: the envelope, its signature, the statement, the
/// predicate type, the claims and the predicate.
fn check_envelope(policy: &AttestationPolicy<'_>, c: &Candidate) -> Result<EnvelopeCheck, String> {
    let name = &c.name;
    let env = Envelope::from_json(&c.envelope_json)
        .map_err(|e| format!("{name}: not a DSSE envelope: {e}"))?;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "{name}: invalid payloadType {} on envelope. Expected {IN_TOTO_PAYLOAD_TYPE}",
            env.payload_type
        ));
    }
    if env.signatures.is_empty() {
        return Err(format!("{name}: the envelope has no signatures"));
    }
    if env.signatures.len() > MAX_ENVELOPE_SIGNATURES {
        return Err(format!(
            "{name}: the envelope has {} signatures, more than the {MAX_ENVELOPE_SIGNATURES} examined",
            env.signatures.len()
        ));
    }
    let pae = env.pae();
    let (key, certificate) = policy
        .authority
        .signing_key(c.certificate.clone(), name)
        .map_err(|e| e.to_string())?;
    let schemes = crate::image::verify::schemes_for(&key);
    let good = env
        .signatures
        .iter()
        .find(|s| {
            schemes
                .iter()
                .any(|scheme| key.verify_message(*scheme, &pae, &s.sig).is_ok())
        })
        .map(|s| s.sig.clone())
        .ok_or_else(|| format!("{name}: invalid signature when validating the DSSE envelope"))?;
    let statement = Statement::from_json(&env.payload).map_err(|e| format!("{name}: {e}"))?;
    if let Some(wanted) = policy.predicate_type
        && statement.predicate_type != wanted.uri()
    {
        return Ok(EnvelopeCheck::OtherType(statement.predicate_type));
    }
    if let Some(d) = policy.subject
        && statement.subject_matching(d).is_none()
    {
        return Err(format!(
            "{name}: no matching subject digest found: the statement names no subject with digest {d}"
        ));
    }
    if let Some(wanted) = policy.predicate_type {
        wanted
            .check_predicate(&statement.predicate)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(EnvelopeCheck::Passed(Box::new(Passed {
        env,
        statement,
        signature: good,
        key,
        certificate,
    })))
}

/// Verifies one candidate: every check of [`check_envelope`], then its transparency log entry
/// (from the candidate, else looked up online by the payload's hash). `Err` says why it failed.
pub async fn check_candidate(
    policy: &AttestationPolicy<'_>,
    c: Candidate,
) -> Result<Checked, String> {
    let Passed {
        env,
        statement,
        signature,
        key,
        certificate,
    } = match check_envelope(policy, &c)? {
        EnvelopeCheck::Passed(passed) => *passed,
        EnvelopeCheck::OtherType(other) => return Ok(Checked::OtherType(other)),
    };
    let mut times = crate::timestamps::verify_timestamps(
        &c.timestamps,
        &signature,
        policy.trusted_root,
        &c.name,
    )
    .map_err(|e| e.to_string())?;
    times.extend(
        crate::timestamps::verify_timestamps(
            &c.payload_timestamps,
            &c.envelope_json,
            policy.trusted_root,
            &c.name,
        )
        .map_err(|e| e.to_string())?,
    );
    let tlog = match policy.tlog {
        None => None,
        Some(tv) => Some(
            check_log(tv, &c, &env, &signature, &key, certificate.as_ref(), &times)
                .await
                .map_err(|e| format!("{}: {e}", c.name))?,
        ),
    };
    policy
        .authority
        .check_certificate(
            certificate.as_ref(),
            tlog.as_ref(),
            &times,
            policy.tlog.is_some(),
            c.identity_match,
            &c.name,
        )
        .map_err(|e| e.to_string())?;
    Ok(Checked::Verified(Box::new(VerifiedAttestation {
        envelope_json: c.envelope_json,
        statement,
        tlog,
    })))
}

async fn check_log(
    tv: &TlogVerify,
    c: &Candidate,
    env: &Envelope,
    signature: &[u8],
    key: &PublicKey,
    certificate: Option<&SigningCertificate>,
    times: &[i64],
) -> Result<TlogOutcome, Error> {
    // intoto 0.0.1 bodies record no signature: only the envelope hash and key bind them.
    let records_signatures = c
        .entry
        .as_ref()
        .and_then(|e| cosign_tlog::entry::Body::parse(&e.body).ok())
        .is_none_or(|b| b.signatures().iter().any(|(s, _)| !s.is_empty()));
    let (verifier, verifier_cert_der) = crate::keyless::expected_signer(key, certificate);
    let expected = cosign_tlog::Expected {
        artifact_digest: None,
        signature: records_signatures.then_some(signature),
        verifier,
        verifier_cert_der,
        envelope: Some(&c.envelope_json),
    };
    let payload_digest = cosign_crypto::hash(HashAlgorithm::Sha256, &env.payload);
    crate::tlog::verify_signature_entry_at(
        tv,
        c.entry.as_ref(),
        Some(&payload_digest),
        &expected,
        times.first().copied(),
    )
    .await
}

/// Verifies one attestation that must be of the requested type (blobs): another type fails with
/// cosign's "invalid predicate type, expected X got Y".
pub async fn verify_one(
    policy: &AttestationPolicy<'_>,
    c: Candidate,
) -> Result<VerifiedAttestation, Error> {
    match check_candidate(policy, c).await {
        Ok(Checked::Verified(v)) => Ok(*v),
        Ok(Checked::OtherType(got)) => Err(Error::Verification(format!(
            "invalid predicate type, expected {} got {got}",
            policy.predicate_type.map_or("any", PredicateType::uri)
        ))),
        Err(e) => Err(Error::Verification(e)),
    }
}

/// The envelope of a Sigstore bundle that must hold an attestation, with its log entry
/// (checked by [`crate::tlog::bundle_log_entry`] when `checked`: the log is verified).
pub fn bundle_candidate(name: &str, bundle: &Bundle, checked: bool) -> Result<Candidate, Error> {
    let BundleContent::DsseEnvelope(env) = &bundle.content else {
        return Err(Error::Verification(format!(
            "{name} holds a message signature, not a DSSE attestation"
        )));
    };
    Ok(Candidate {
        name: name.to_owned(),
        envelope_json: env.to_json_compact_new(),
        entry: crate::tlog::bundle_log_entry_if(checked, bundle, name)?,
        timestamps: crate::timestamps::bundle_timestamps(bundle),
        payload_timestamps: Vec::new(),
        certificate: bundle_certificate(bundle, name)?,
        identity_match: IdentityMatch::SigstoreBundle,
    })
}

/// The certificate of a Sigstore bundle (leaf and any chain), None for a key's bundle.
pub fn bundle_certificate(
    bundle: &Bundle,
    name: &str,
) -> Result<Option<SigningCertificate>, Error> {
    match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(_) => Ok(None),
        VerificationMaterialContent::Certificate(c) => {
            SigningCertificate::from_der(&c.raw_bytes, &[], name).map(Some)
        }
        VerificationMaterialContent::X509CertificateChain(chain) => {
            let Some((leaf, rest)) = chain.certificates.split_first() else {
                return Err(Error::format(name, "its certificate chain is empty"));
            };
            let rest: Vec<Vec<u8>> = rest.iter().map(|c| c.raw_bytes.clone()).collect();
            let cert = SigningCertificate::from_der(&leaf.raw_bytes, &rest, name)?;
            // Trust comes from the trusted root alone: a bundle that ships a root is refused
            // rather than have it mistaken for an anchor.
            if cert.chain.iter().any(|c| c.subject_der() == c.issuer_der()) {
                return Err(Error::Verification(format!(
                    "{name}: its certificate chain contains a root certificate; trust anchors come from the trusted root only"
                )));
            }
            Ok(Some(cert))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_crypto::PrivateKey;
    use cosign_types::intoto::statement_v01;

    fn digest() -> Digest {
        cosign_crypto::hash(HashAlgorithm::Sha256, b"artifact")
    }

    async fn signed(key: &Signer, statement: Vec<u8>) -> SignedAttestation {
        sign_statement(
            key,
            statement,
            None,
            None,
            RekorEntryType::Dsse,
            Stamped::Signature,
        )
        .await
        .unwrap()
    }

    fn statement(ptype: &str, predicate: &str) -> Vec<u8> {
        statement_v01("file", &digest().hex(), ptype, predicate.as_bytes())
    }

    fn candidate(json: Vec<u8>) -> Candidate {
        Candidate {
            timestamps: Vec::new(),
            payload_timestamps: Vec::new(),
            name: "test".into(),
            envelope_json: json,
            entry: None,
            certificate: None,
            identity_match: IdentityMatch::Cosign,
        }
    }

    #[tokio::test]
    async fn verifies_and_fails_closed() {
        let private = PrivateKey::generate_ecdsa_p256().unwrap();
        let public = Authority::Key(private.public_key());
        let key = Signer::Local(Box::new(private));
        let custom = PredicateType::parse("custom").unwrap();
        let d = digest();
        let policy = AttestationPolicy {
            authority: &public,
            predicate_type: Some(&custom),
            subject: Some(&d),
            tlog: None,
            trusted_root: None,
        };
        let ok = signed(
            &key,
            statement(custom.uri(), r#"{"Data":"x","Timestamp":"t"}"#),
        )
        .await;
        let v = verify_one(&policy, candidate(ok.envelope_json.clone()))
            .await
            .unwrap();
        assert_eq!(v.statement.predicate_type, custom.uri());

        // Another predicate type: GHSA-vjxv-45g9-9296.
        let other = signed(&key, statement("https://example.com/t", "{}")).await;
        let e = verify_one(&policy, candidate(other.envelope_json))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "invalid predicate type, expected {} got https://example.com/t",
                custom.uri()
            )
        );

        // Statements and predicates that do not parse fail: GHSA-w6c6-c85g-mmv6.
        for bad in [
            b"not json".to_vec(),
            br#"{"_type":"x","subject":[{"digest":{"sha256":"a"}}]}"#.to_vec(),
            format!(
                r#"{{"_type":"x","predicateType":"{}","subject":[{{"digest":{{"sha256":"{}"}}}}],"predicate":"text"}}"#,
                custom.uri(),
                d.hex()
            )
            .into_bytes(),
            format!(
                r#"{{"_type":"x","predicateType":"{}","subject":null}}"#,
                custom.uri()
            )
            .into_bytes(),
        ] {
            let s = signed(&key, bad).await;
            assert!(
                verify_one(&policy, candidate(s.envelope_json)).await.is_err()
            );
        }

        // Wrong subject digest.
        let wrong = Digest::from_hex(HashAlgorithm::Sha256, &"0".repeat(64)).unwrap();
        let p2 = AttestationPolicy {
            subject: Some(&wrong),
            ..policy
        };
        let e = verify_one(&p2, candidate(ok.envelope_json.clone()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no matching subject digest found"));

        // Wrong payload type, wrong key, no signatures.
        let mut env = ok.envelope.clone();
        env.payload_type = "text/plain".into();
        let e = verify_one(&policy, candidate(env.to_json_compact_new()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("invalid payloadType text/plain"));
        let other_key = Authority::Key(PrivateKey::generate_ecdsa_p256().unwrap().public_key());
        let p3 = AttestationPolicy {
            authority: &other_key,
            ..policy
        };
        assert!(
            verify_one(&p3, candidate(ok.envelope_json.clone()))
                .await
                .is_err()
        );
        let mut env = ok.envelope.clone();
        env.signatures.clear();
        assert!(verify_one(&policy, candidate(env.to_json())).await.is_err());
        // Both envelope spellings verify.
        verify_one(&policy, candidate(ok.envelope.to_json()))
            .await
            .unwrap();
    }
}
