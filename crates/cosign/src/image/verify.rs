//! `cosign verify`: find an image's signatures (legacy `.sig` layers, then Sigstore bundles
//! stored as referrers) and verify them with a public key, the claims and the annotations.
//!
//! Fetching: one manifest GET for the `.sig` image, then each distinct payload once, in
//! parallel. Referrers are consulted only when the legacy image has no signature that verifies.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_oci::{ImageRef, Registry};
use cosign_types::annotations::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION,
    SIGNATURE_ANNOTATION,
};
use cosign_types::bundle::BundleContent;
use cosign_types::dsse::IN_TOTO_PAYLOAD_TYPE;
use cosign_types::{Digest, SimpleSigning};
use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};

use super::storage::{AttachmentKind, ReferrerBundle, Storage};
use super::store::Store;
use crate::Error;
use crate::keyless::{Authority, IdentityMatch, SigningCertificate};

/// The policy a signature must satisfy.
pub struct VerifyOptions {
    /// Who must have signed: a key, or a certificate policy (keyless).
    pub authority: Authority,
    /// `-a key=value`: each must equal the payload's annotation.
    pub annotations: BTreeMap<String, String>,
    /// `--check-claims`: the payload must name the image digest.
    pub check_claims: bool,
    /// Where attachments live.
    pub storage: Storage,
    /// Transparency log verification (None: `--insecure-ignore-tlog`).
    pub tlog: Option<crate::tlog::TlogVerify>,
    /// The trusted root whose timestamp authorities check RFC 3161 timestamps in bundles.
    pub trusted_root: Option<cosign_trust::trusted_root::TrustedRoot>,
}

/// A signature that verified, in the form `cosign verify` prints.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    /// The signed payload as stored (legacy) or the DSSE statement (bundles).
    pub payload: Vec<u8>,
    /// The simple-signing object printed by `-o json`.
    pub json: Value,
    /// The log entry that proved the signature was recorded (None when the log was skipped).
    pub tlog: Option<crate::tlog::TlogOutcome>,
    /// The certificate it was verified with (keyless).
    pub certificate: Option<SigningCertificate>,
    /// Whether it came from a Sigstore bundle (its `-o text` form is then `json`, as Go cosign
    /// prints it, not the statement).
    pub from_bundle: bool,
}

impl VerifiedSignature {
    /// What `verify -o text` prints for it: the signed payload of a legacy signature; for a
    /// bundle, the simple-signing object Go cosign makes of its statement (compact, Go's field
    /// order).
    pub fn text_output(&self) -> Vec<u8> {
        if self.from_bundle {
            cosign_types::go_json::to_go_json(&self.json).unwrap_or_default()
        } else {
            self.payload.clone()
        }
    }
}

/// What the log check of a signature needs, gathered by the synchronous checks.
struct Pending {
    verified: VerifiedSignature,
    signature: Vec<u8>,
    bundled: Option<cosign_tlog::LogEntry>,
    /// The envelope as logged (DSSE bundles).
    envelope: Option<Vec<u8>>,
    /// The key the signature verified with.
    key: PublicKey,
    /// The times of its verified RFC 3161 timestamps.
    times: Vec<i64>,
    /// How the certificate's identity is matched.
    identity_match: IdentityMatch,
    /// How errors name it.
    name: String,
}

/// The outcome of verifying one image.
#[derive(Clone, Debug)]
pub struct ImageVerification {
    /// `repository@digest` of the verified manifest.
    pub digest_ref: ImageRef,
    /// Every signature that verified.
    pub signatures: Vec<VerifiedSignature>,
}

/// The schemes an Ed25519 key may have signed with (pure without a tlog, prehashed with one).
pub fn schemes_for(key: &PublicKey) -> Vec<SignatureScheme> {
    match key.key_type() {
        KeyType::Ed25519 => vec![SignatureScheme::Ed25519, SignatureScheme::Ed25519ph],
        other => vec![other.default_scheme(false)],
    }
}

fn verifies(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
    schemes_for(key)
        .into_iter()
        .any(|s| key.verify_message(s, message, signature).is_ok())
}

/// Verifies the signatures of one image. Errors: [`Error::ImageNotFound`] (tag missing),
/// [`Error::NoSignatures`], [`Error::NoMatchingSignatures`].
pub async fn verify_image(
    reg: &Registry,
    image: &ImageRef,
    opts: &VerifyOptions,
) -> Result<ImageVerification, Error> {
    verify_image_from(reg, image, opts).await
}

/// Images verified at once.
pub const IMAGE_CONCURRENCY: usize = 8;

/// Where the images of one verify command are read from: each a `cosign save` directory
/// (`--local-image`), or all from the registry.
pub struct ImageSources<'a> {
    /// The registry.
    pub registry: &'a Registry,
    /// The opened layouts, in argument order (empty: every image is in the registry).
    pub layouts: Vec<super::layout::Layout>,
    /// The images, in argument order.
    pub images: Vec<ImageRef>,
}

impl<'a> ImageSources<'a> {
    /// Images in the registry.
    pub fn registry(registry: &'a Registry, images: Vec<ImageRef>) -> Self {
        Self {
            registry,
            layouts: Vec::new(),
            images,
        }
    }

    /// `cosign save` directories, each holding one image.
    pub fn layouts(registry: &'a Registry, dirs: &[std::path::PathBuf]) -> Result<Self, Error> {
        let layouts = dirs
            .iter()
            .map(|d| super::layout::Layout::open(d))
            .collect::<Result<Vec<_>, _>>()?;
        let images = layouts
            .iter()
            .map(|l| Ok(l.resolved()?.given))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            registry,
            layouts,
            images,
        })
    }

    /// Runs `check` on every image, [`IMAGE_CONCURRENCY`] at once, with the store it is read
    /// from; results in argument order.
    pub async fn verify_each<'s, T, F, Fut>(&'s self, check: F) -> Vec<Result<T, Error>>
    where
        F: Fn(&'s dyn Store, &'s ImageRef) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        stream::iter(self.images.iter().enumerate())
            .map(|(i, image)| {
                let src: &'s dyn Store = match self.layouts.get(i) {
                    Some(l) => l,
                    None => self.registry,
                };
                check(src, image)
            })
            .buffered(IMAGE_CONCURRENCY)
            .collect()
            .await
    }
}

/// [`verify_image`] reading from a registry or a saved layout (`--local-image`).
pub async fn verify_image_from(
    src: &dyn Store,
    image: &ImageRef,
    opts: &VerifyOptions,
) -> Result<ImageVerification, Error> {
    let resolved = src.resolve(image, false).await?;
    let repo = image.repository();
    let mut errors: Vec<String> = Vec::new();
    let mut found_any = false;
    let mut pending = Vec::new();

    if let Some(entries) = src
        .legacy_entries(
            &opts.storage,
            repo,
            &resolved.digest,
            AttachmentKind::Signature,
        )
        .await?
    {
        found_any |= !entries.is_empty();
        for e in &entries {
            match check_legacy(
                &e.descriptor.annotations,
                &e.payload,
                &resolved.digest,
                opts,
            ) {
                Ok(p) => pending.push(p),
                Err(msg) => errors.push(msg),
            }
        }
    }
    let mut verified = check_log(opts, pending, &mut errors).await;
    if verified.is_empty() {
        let bundles = src
            .referrer_bundles(&opts.storage, repo, &resolved.digest)
            .await?;
        found_any |= !bundles.is_empty();
        let mut pending = Vec::new();
        // Go cosign names the image as ggcr's `Reference.Name()`: `repo@digest` when the
        // reference has a digest, else `repo:tag` (`latest` when none was given).
        let go_name = match (image.digest(), image.tag()) {
            (Some(d), _) => format!("{}@{d}", repo.name()),
            (None, t) => format!("{}:{}", repo.name(), t.unwrap_or("latest")),
        };
        for b in &bundles {
            match check_bundle(b, &resolved.digest, &go_name, opts) {
                Ok(p) => pending.push(p),
                Err(msg) => errors.push(msg),
            }
        }
        verified = check_log(opts, pending, &mut errors).await;
    }
    if verified.is_empty() {
        if !found_any {
            return Err(Error::NoSignatures);
        }
        errors.dedup();
        return Err(Error::NoMatchingSignatures(errors.join("\n")));
    }
    Ok(ImageVerification {
        digest_ref: resolved.digest_ref,
        signatures: verified,
    })
}

/// Checks each signature's transparency log entry (unless the log is skipped), then the
/// certificate of a keyless signature at the signing times proven.
async fn check_log(
    opts: &VerifyOptions,
    pending: Vec<Pending>,
    errors: &mut Vec<String>,
) -> Vec<VerifiedSignature> {
    let mut out = Vec::new();
    for mut p in pending {
        let result = match &opts.tlog {
            None => Ok(None),
            Some(tv) => check_entry(tv, &p).await.map(Some),
        };
        let result = result.and_then(|tlog| {
            opts.authority.check_certificate(
                p.verified.certificate.as_ref(),
                tlog.as_ref(),
                &p.times,
                opts.tlog.is_some(),
                p.identity_match,
                &p.name,
            )?;
            Ok(tlog)
        });
        match result {
            Ok(tlog) => {
                p.verified.tlog = tlog;
                if let Some(cert) = &p.verified.certificate {
                    add_certificate_claims(&mut p.verified.json, cert);
                }
                out.push(p.verified);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    out
}

/// The claims Go cosign adds to a keyless signature's `optional` map.
fn add_certificate_claims(json: &mut Value, cert: &SigningCertificate) {
    let Some(obj) = json.as_object_mut() else {
        return;
    };
    let optional = obj
        .entry("optional")
        .or_insert_with(|| Value::Object(Map::new()));
    if optional.is_null() {
        *optional = Value::Object(Map::new());
    }
    if let Some(m) = optional.as_object_mut() {
        for (k, v) in cert.optional_claims() {
            m.insert(k, Value::String(v));
        }
    }
}

async fn check_entry(
    tv: &crate::tlog::TlogVerify,
    p: &Pending,
) -> Result<crate::tlog::TlogOutcome, Error> {
    let (verifier, verifier_cert_der) =
        crate::keyless::expected_signer(&p.key, p.verified.certificate.as_ref());
    let at = p.times.first().copied();
    match &p.envelope {
        Some(envelope) => {
            let expected = cosign_tlog::Expected {
                artifact_digest: None,
                signature: Some(&p.signature),
                verifier,
                verifier_cert_der,
                envelope: Some(envelope),
            };
            match &p.bundled {
                Some(entry) => {
                    crate::tlog::verify_signature_entry_at(tv, Some(entry), None, &expected, at)
                        .await
                }
                None => Err(Error::Verification(
                    "the bundle has no transparency log entry".into(),
                )),
            }
        }
        None => {
            let alg = p
                .bundled
                .as_ref()
                .and_then(|e| cosign_tlog::entry::Body::parse(&e.body).ok())
                .map(|b| body_hash_algorithm(&b))
                .unwrap_or_else(|| {
                    schemes_for(&p.key)
                        .last()
                        .and_then(|s| s.prehash())
                        .unwrap_or(cosign_types::HashAlgorithm::Sha256)
                });
            let digest = cosign_crypto::hash(alg, &p.verified.payload);
            let expected = cosign_tlog::Expected {
                artifact_digest: Some(&digest),
                signature: Some(&p.signature),
                verifier,
                verifier_cert_der,
                envelope: None,
            };
            crate::tlog::verify_signature_entry_at(
                tv,
                p.bundled.as_ref(),
                Some(&digest),
                &expected,
                at,
            )
            .await
        }
    }
}

fn body_hash_algorithm(body: &cosign_tlog::entry::Body) -> cosign_types::HashAlgorithm {
    use cosign_tlog::entry::Body;
    match body {
        Body::HashedRekord { digest, .. }
        | Body::Rekord { digest, .. }
        | Body::HashedRekordV002 { digest, .. } => digest.algorithm(),
        _ => cosign_types::HashAlgorithm::Sha256,
    }
}

fn check_annotations(
    optional: Option<&Map<String, Value>>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in wanted {
        let ok = optional
            .and_then(|m| m.get(k))
            .is_some_and(|got| got.as_str() == Some(v.as_str()));
        if !ok {
            return Err(format!("invalid or missing annotation in claim: {k}={v}"));
        }
    }
    Ok(())
}

fn check_legacy(
    annotations: &BTreeMap<String, String>,
    payload: &[u8],
    digest: &Digest,
    opts: &VerifyOptions,
) -> Result<Pending, String> {
    let sig_b64 = annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or("signature layer has no signature annotation")?;
    let sig = STANDARD
        .decode(sig_b64.trim())
        .map_err(|_| "the signature annotation is not base64".to_owned())?;
    let name = "signature".to_owned();
    let carried = legacy_certificate(annotations).map_err(|e| e.to_string())?;
    let (key, certificate) = opts
        .authority
        .signing_key(carried, &name)
        .map_err(|e| e.to_string())?;
    if !verifies(&key, payload, &sig) {
        return Err("invalid signature when validating ASN.1 encoded signature".to_owned());
    }
    let times = match annotations.get(RFC3161_TIMESTAMP_ANNOTATION) {
        None => Vec::new(),
        Some(text) => {
            let ts = cosign_types::Rfc3161Timestamp::from_json(text.as_bytes()).map_err(|e| {
                format!("the signature's RFC 3161 timestamp annotation is malformed: {e}")
            })?;
            crate::timestamps::verify_timestamps(
                &[ts.signed_rfc3161_timestamp],
                &sig,
                opts.trusted_root.as_ref(),
                &name,
            )
            .map_err(|e| e.to_string())?
        }
    };
    let parsed = SimpleSigning::from_json(payload);
    if opts.check_claims {
        let ss = parsed
            .as_ref()
            .map_err(|e| format!("invalid payload: {e}"))?;
        ss.claims_match(digest, &BTreeMap::new())
            .map_err(|e| e.to_string())?;
    }
    let mut json = match &parsed {
        Ok(ss) => simple_signing_json(
            &ss.docker_reference,
            &ss.docker_manifest_digest,
            &ss.type_,
            ss.optional
                .as_ref()
                .map(|m| m.clone().into_iter().collect()),
        ),
        Err(_) => Value::Null,
    };
    if !opts.annotations.is_empty() {
        check_annotations(
            json.get("optional").and_then(Value::as_object),
            &opts.annotations,
        )?;
    }
    let mut bundled = None;
    if let Some(b) = annotations.get(BUNDLE_ANNOTATION) {
        if opts.tlog.is_some() {
            let rb = cosign_types::RekorBundle::from_json(b.as_bytes()).map_err(|e| {
                format!("the signature's transparency log bundle is malformed: {e}")
            })?;
            bundled = Some(cosign_tlog::LogEntry::from_legacy_bundle(&rb).map_err(|e| {
                format!("the signature's transparency log bundle is malformed: {e}")
            })?);
        }
        if let Ok(bundle) = serde_json::from_str::<Value>(b)
            && let Some(opt) = json.get_mut("optional")
        {
            if opt.is_null() {
                *opt = Value::Object(Map::new());
            }
            if let Some(m) = opt.as_object_mut() {
                m.insert("Bundle".into(), bundle);
            }
        }
    }
    Ok(Pending {
        verified: VerifiedSignature {
            payload: payload.to_vec(),
            json,
            tlog: None,
            certificate,
            from_bundle: false,
        },
        signature: sig,
        bundled,
        envelope: None,
        key,
        times,
        identity_match: IdentityMatch::Cosign,
        name,
    })
}

/// The certificate and chain annotations of a legacy signature or attestation layer.
pub(crate) fn legacy_certificate(
    annotations: &BTreeMap<String, String>,
) -> Result<Option<SigningCertificate>, Error> {
    let Some(cert) = annotations
        .get(CERTIFICATE_ANNOTATION)
        .filter(|c| !c.trim().is_empty())
    else {
        return Ok(None);
    };
    let mut pem = cert.as_bytes().to_vec();
    if let Some(chain) = annotations.get(CHAIN_ANNOTATION) {
        pem.push(b'\n');
        pem.extend_from_slice(chain.as_bytes());
    }
    SigningCertificate::from_pem(&pem, "the signature's certificate annotation").map(Some)
}

fn simple_signing_json(
    reference: &str,
    digest: &str,
    type_: &str,
    optional: Option<Map<String, Value>>,
) -> Value {
    serde_json::json!({
        "critical": {
            "identity": { "docker-reference": reference },
            "image": { "docker-manifest-digest": digest },
            "type": type_,
        },
        "optional": optional.map_or(Value::Null, Value::Object),
    })
}

fn check_bundle(
    rb: &ReferrerBundle,
    digest: &Digest,
    image_name: &str,
    opts: &VerifyOptions,
) -> Result<Pending, String> {
    let name = &rb.manifest_digest;
    let bundle_name = format!("bundle {name}");
    opts.authority
        .check_bundle(&rb.bundle, &bundle_name)
        .map_err(|e| e.to_string())?;
    let carried = crate::attestation::bundle_certificate(&rb.bundle, &bundle_name)
        .map_err(|e| e.to_string())?;
    let (key, certificate) = opts
        .authority
        .signing_key(carried, &bundle_name)
        .map_err(|e| e.to_string())?;
    let BundleContent::DsseEnvelope(env) = &rb.bundle.content else {
        return Err(format!(
            "bundle {name} holds a message signature, not a DSSE envelope"
        ));
    };
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "bundle {name}: invalid payloadType {} on envelope. Expected {IN_TOTO_PAYLOAD_TYPE}",
            env.payload_type
        ));
    }
    let pae = env.pae();
    let Some(good) = env.signatures.iter().find(|s| verifies(&key, &pae, &s.sig)) else {
        return Err(format!(
            "bundle {name}: invalid signature over the DSSE envelope"
        ));
    };
    let signature = good.sig.clone();
    let statement: Value = serde_json::from_slice(&env.payload)
        .map_err(|e| format!("bundle {name}: the statement is not JSON: {e}"))?;
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("bundle {name}: the statement has no predicateType"))?;
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("bundle {name}: the statement has no subjects"))?;
    if subjects.len() > 1024 {
        return Err(format!("bundle {name}: too many subjects"));
    }
    let matching = subjects.iter().find(|s| {
        s.get("digest")
            .and_then(|d| d.get(digest.algorithm().name()))
            .and_then(Value::as_str)
            == Some(digest.hex().as_str())
    });
    let subject = match (matching, opts.check_claims) {
        (Some(s), _) => Some(s),
        (None, true) => {
            return Err(format!(
                "bundle {name}: no subject of the statement matches {digest}"
            ));
        }
        (None, false) => subjects.first(),
    };
    let annotations = subject
        .and_then(|s| s.get("annotations"))
        .and_then(Value::as_object)
        .cloned();
    check_annotations(annotations.as_ref(), &opts.annotations)?;
    let subject_digest = subject
        .and_then(|s| s.get("digest"))
        .and_then(|d| d.get("sha256"))
        .and_then(Value::as_str)
        .map(|h| format!("sha256:{h}"))
        .unwrap_or_default();
    let bundled = crate::tlog::bundle_log_entry_if(
        opts.tlog.is_some(),
        &rb.bundle,
        &format!("bundle {name}"),
    )
    .map_err(|e| e.to_string())?;
    let times = crate::timestamps::verify_timestamps(
        &crate::timestamps::bundle_timestamps(&rb.bundle),
        &signature,
        opts.trusted_root.as_ref(),
        &bundle_name,
    )
    .map_err(|e| e.to_string())?;
    Ok(Pending {
        verified: VerifiedSignature {
            payload: env.payload.clone(),
            json: simple_signing_json(image_name, &subject_digest, predicate_type, annotations),
            tlog: None,
            certificate,
            from_bundle: true,
        },
        signature,
        bundled,
        envelope: Some(env.to_json()),
        key,
        times,
        identity_match: IdentityMatch::SigstoreBundle,
        name: bundle_name,
    })
}
