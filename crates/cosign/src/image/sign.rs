//! `cosign sign`: sign images in a registry, in the legacy format (simple-signing payload in the
//! `.sig` image) or as a DSSE Sigstore bundle stored as an OCI 1.1 referrer.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::SignatureScheme;
use cosign_oci::{ImageRef, Reference, Registry};
use cosign_types::annotations::{
    BUNDLE_ANNOTATION, BUNDLE_CONTENT_ANNOTATION, BUNDLE_CONTENT_DSSE,
    BUNDLE_PREDICATE_TYPE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, CREATED_ANNOTATION,
    RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
};
use cosign_types::bundle::{BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent};
use cosign_types::dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE};
use cosign_types::media_types::{
    COSIGN_ARTIFACT_SIG_MEDIA_TYPE, OCI_EMPTY_CONFIG, OCI_EMPTY_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE,
};
use cosign_types::oci::{Descriptor, ImageManifest, is_index_media_type, signature_image_config};
use cosign_types::{Digest, HashAlgorithm, simple_signing_payload};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::storage::{
    AppendOutcome, AttachmentKind, NewLayer, Storage, append_fallback_index, append_layer,
};
use super::{Event, Reporter, Resolved, resolve};
use crate::attestation::RekorEntryType;
use crate::certs::Certificate;
use crate::witness::{Signed, SignedBy, Witnessed, Witnesses, rfc3161_annotation};
use crate::{Error, Signer};

/// The predicate type of `cosign sign` statements in the new bundle format.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// How many images are signed at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// What to sign and how.
pub struct SignOptions {
    /// `-a key=value` annotations stored in the payload.
    pub annotations: BTreeMap<String, String>,
    /// `--upload` (false: only compute signatures).
    pub upload: bool,
    /// `--payload FILE`: a payload to sign instead of the generated one.
    pub payload: Option<Vec<u8>>,
    /// `-r`: also sign every manifest of an index.
    pub recursive: bool,
    /// `--new-bundle-format`: DSSE bundle as an OCI 1.1 referrer.
    pub new_bundle_format: bool,
    /// `--registry-referrers-mode=oci-1-1` for legacy signatures.
    pub referrers_mode_oci: bool,
    /// Where attachments go.
    pub storage: Storage,
    /// `--certificate`: stored with the signature.
    pub certificate: Option<Certificate>,
    /// `--certificate-chain` (PEM): stored with the certificate in legacy signatures.
    pub certificate_chain: Option<String>,
    /// Images signed at once.
    pub concurrency: usize,
    /// Where signatures are recorded and dated (default: nowhere).
    pub witnesses: Witnesses,
}

/// One signed image.
#[derive(Clone, Debug)]
pub struct SignedImage {
    /// `repository@digest` of the signed manifest.
    pub subject: ImageRef,
    /// The signed payload (simple-signing JSON, or the in-toto statement).
    pub payload: Vec<u8>,
    /// The raw signature.
    pub signature: Vec<u8>,
    /// The Sigstore bundle JSON (new format).
    pub bundle: Option<Vec<u8>>,
    /// Whether a signature was written (false for `--upload=false` or a duplicate).
    pub written: bool,
}

/// Ed25519 keys sign Ed25519ph with a log (hashedrekord records a digest); `tlog` false
/// selects pure Ed25519.
fn scheme_for(key: &Signer, tlog: bool) -> SignatureScheme {
    key.scheme(tlog)
}

/// The PEM the log records as the verifier: the certificate when there is one, else the key.
fn verifier_pem(key: &Signer, certificate: Option<&Certificate>) -> String {
    certificate
        .map(|c| c.pem.clone())
        .or_else(|| key.certificate_pem())
        .unwrap_or_else(|| key.public_key().to_pem())
}

/// Resolves every image (and, with `recursive`, the manifests of indexes) to digests.
async fn resolve_all(
    reg: &Registry,
    images: &[ImageRef],
    opts: &SignOptions,
    reporter: &dyn Reporter,
) -> Result<Vec<Resolved>, Error> {
    let need_descriptor = opts.recursive || opts.new_bundle_format || opts.referrers_mode_oci;
    for image in images {
        if image.digest().is_none() {
            reporter.event(Event::SigningByTag {
                reference: image.to_string(),
            });
        }
    }
    let resolved: Vec<Resolved> = stream::iter(images)
        .map(|image| resolve(reg, image, need_descriptor))
        .buffered(opts.concurrency.max(1))
        .try_collect()
        .await?;
    if !opts.recursive {
        return Ok(resolved);
    }
    let mut all = Vec::new();
    for r in resolved {
        let is_index = r
            .descriptor
            .as_ref()
            .is_some_and(|d| is_index_media_type(&d.media_type));
        all.push(r.clone());
        if !is_index {
            continue;
        }
        let repo = r.given.repository();
        let m = reg
            .get_manifest(repo, &Reference::Digest(r.digest.clone()))
            .await
            .map_err(|e| Error::registry(format!("reading index {}", r.digest_ref), e))?
            .ok_or_else(|| Error::ImageNotFound(r.digest_ref.to_string()))?;
        let index = cosign_types::oci::ImageIndex::from_json(&m.bytes)
            .map_err(|e| Error::format(format!("parsing index {}", r.digest_ref), e))?;
        for child in index.manifests {
            all.push(Resolved {
                given: r.given.clone(),
                digest_ref: r.given.with_digest(child.digest.clone()),
                digest: child.digest.clone(),
                descriptor: Some(child),
            });
        }
    }
    Ok(all)
}

/// Signs `images` with `key`. All images are resolved first, then signed with bounded
/// concurrency; results come back in input order.
pub async fn sign_images(
    reg: &Registry,
    key: &Signer,
    images: &[ImageRef],
    opts: &SignOptions,
    reporter: &dyn Reporter,
) -> Result<Vec<SignedImage>, Error> {
    let targets = resolve_all(reg, images, opts, reporter).await?;
    stream::iter(targets)
        .map(|target| sign_one(reg, key, target, opts, reporter))
        .buffered(opts.concurrency.max(1))
        .try_collect()
        .await
}

async fn sign_one(
    reg: &Registry,
    key: &Signer,
    target: Resolved,
    opts: &SignOptions,
    reporter: &dyn Reporter,
) -> Result<SignedImage, Error> {
    if opts.new_bundle_format {
        return sign_bundle(reg, key, target, opts, reporter).await;
    }
    let repo_name = target.given.repository().name();
    let payload = match &opts.payload {
        Some(p) => p.clone(),
        None => simple_signing_payload(&repo_name, &target.digest, Some(&opts.annotations)),
    };
    // Go cosign 3.1.2 signs image payloads with Ed25519ph whether or not a log is used (only
    // sign-blob without a log keeps pure Ed25519): the same key and payload then give the same
    // `.sig` manifest, byte for byte.
    let scheme = scheme_for(key, true);
    let signature = key.sign_message(scheme, &payload).await?;
    let mut rekor_bundle = None;
    let mut timestamp = None;
    if opts.witnesses.any() {
        if opts.witnesses.tlog_v2.is_some() {
            return Err(Error::Invalid {
                what: "a Rekor v2 log".into(),
                reason: "its entries carry no signed entry timestamp, which legacy signatures store: sign with --new-bundle-format".into(),
            });
        }
        let digest =
            cosign_crypto::hash(scheme.prehash().unwrap_or(HashAlgorithm::Sha256), &payload);
        let pem = verifier_pem(key, opts.certificate.as_ref());
        let witnessed = opts
            .witnesses
            .witness(
                Signed::Message {
                    digest: &digest,
                    signature: &signature,
                },
                SignedBy {
                    key: &key.public_key(),
                    certificate: opts.certificate.as_ref(),
                    verifier_pem: &pem,
                },
                &signature,
            )
            .await?;
        if let Some(entry) = &witnessed.entry {
            reporter.event(Event::TlogEntryCreated {
                index: entry.log_index,
            });
            rekor_bundle =
                Some(String::from_utf8_lossy(&entry.to_legacy_bundle().to_json()).into_owned());
        }
        timestamp = witnessed.timestamps.first().map(|t| rfc3161_annotation(t));
    }
    let mut signed = SignedImage {
        subject: target.digest_ref.clone(),
        payload,
        signature,
        bundle: None,
        written: false,
    };
    if !opts.upload {
        return Ok(signed);
    }
    let sig_b64 = STANDARD.encode(&signed.signature);
    let mut annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), sig_b64)]);
    if let Some(b) = rekor_bundle {
        annotations.insert(BUNDLE_ANNOTATION.to_owned(), b);
    }
    if let Some(cert) = &opts.certificate {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), cert.pem.clone());
        annotations.insert(
            CHAIN_ANNOTATION.to_owned(),
            opts.certificate_chain.clone().unwrap_or_default(),
        );
    }
    if let Some(ts) = timestamp {
        annotations.insert(RFC3161_TIMESTAMP_ANNOTATION.to_owned(), ts);
    }
    let layer = NewLayer::new(
        signed.payload.clone(),
        SIMPLE_SIGNING_MEDIA_TYPE,
        annotations,
    );
    let target_repo = opts.storage.target_repo(target.given.repository());
    if opts.referrers_mode_oci {
        push_signature_referrer(reg, &target, &layer, opts, reporter).await?;
        signed.written = true;
        return Ok(signed);
    }
    reporter.event(Event::PushingSignature {
        repository: target_repo.to_string(),
    });
    let public = key.public_key();
    let is_dup = |existing: &Descriptor| -> bool {
        existing.digest == layer.descriptor.digest
            && existing.media_type == layer.descriptor.media_type
            && same_except_signature(&existing.annotations, &layer.descriptor.annotations)
            && existing
                .annotations
                .get(SIGNATURE_ANNOTATION)
                .and_then(|s| STANDARD.decode(s).ok())
                .is_some_and(|sig| public.verify_message(scheme, &signed.payload, &sig).is_ok())
    };
    let tag = opts.storage.tag(&target.digest, AttachmentKind::Signature);
    let outcome = append_layer(reg, &opts.storage, &target_repo, &tag, &layer, &is_dup).await?;
    signed.written = matches!(outcome, AppendOutcome::Written { .. });
    Ok(signed)
}

fn same_except_signature(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    let strip = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.iter()
            .filter(|(k, _)| k.as_str() != SIGNATURE_ANNOTATION && k.as_str() != BUNDLE_ANNOTATION)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    strip(a) == strip(b)
}

/// `--registry-referrers-mode=oci-1-1`: the legacy signature image pushed as a referrer.
async fn push_signature_referrer(
    reg: &Registry,
    target: &Resolved,
    layer: &NewLayer,
    opts: &SignOptions,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let repo = opts.storage.target_repo(target.given.repository());
    let subject = target
        .descriptor
        .clone()
        .ok_or(Error::Internal("subject descriptor missing"))?;
    let config = signature_image_config(std::slice::from_ref(&layer.descriptor.digest));
    let config_digest = cosign_crypto::hash(HashAlgorithm::Sha256, &config);
    let ctx = || format!("pushing signature referrer to {repo}");
    reg.push_blob_if_missing(&repo, &layer.descriptor.digest, &layer.data)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    reg.push_blob_if_missing(&repo, &config_digest, &config)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.to_owned(),
        artifact_type: Some(COSIGN_ARTIFACT_SIG_MEDIA_TYPE.to_owned()),
        config: Descriptor::new(
            COSIGN_ARTIFACT_SIG_MEDIA_TYPE,
            config.len() as u64,
            config_digest,
        ),
        layers: vec![layer.descriptor.clone()],
        annotations: BTreeMap::new(),
        subject: Some(Descriptor::new(
            subject.media_type.clone(),
            subject.size,
            subject.digest.clone(),
        )),
    };
    let body = manifest.to_json();
    let manifest_digest = cosign_crypto::hash(HashAlgorithm::Sha256, &body);
    reporter.event(Event::UploadingSignatureReferrer {
        subject: target.digest_ref.to_string(),
        repository: repo.name(),
        manifest: manifest_digest.clone(),
    });
    publish_referrer(reg, &repo, &target.digest, &manifest, &body).await
}

/// PUTs a referrer manifest by digest and, when the registry has no referrers API, records it
/// in the fallback index.
async fn publish_referrer(
    reg: &Registry,
    repo: &cosign_oci::Repository,
    subject: &Digest,
    manifest: &ImageManifest,
    body: &[u8],
) -> Result<(), Error> {
    let digest = cosign_crypto::hash(HashAlgorithm::Sha256, body);
    let put = reg
        .put_manifest(
            repo,
            &Reference::Digest(digest.clone()),
            OCI_MANIFEST_MEDIA_TYPE,
            body,
        )
        .await
        .map_err(|e| Error::registry(format!("pushing referrer manifest to {repo}"), e))?;
    if put.oci_subject.is_some() {
        return Ok(());
    }
    let api = reg
        .referrers(repo, subject, None)
        .await
        .map_err(|e| Error::registry(format!("probing the referrers API of {repo}"), e))?;
    if api.is_some() {
        return Ok(());
    }
    let mut entry = Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, body.len() as u64, digest);
    entry.artifact_type = manifest
        .artifact_type
        .clone()
        .or_else(|| Some(manifest.config.media_type.clone()));
    // Unlike ggcr (cosign issue #4641), carry the annotations into the fallback index.
    entry.annotations = manifest.annotations.clone();
    append_fallback_index(reg, repo, subject, &entry).await
}

/// The in-toto v1 statement `cosign sign` signs in the new format (protojson field order).
pub fn sign_statement(digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let mut subject = serde_json::Map::new();
    subject.insert(
        "digest".into(),
        serde_json::json!({ digest.algorithm().name(): digest.hex() }),
    );
    if !annotations.is_empty() {
        subject.insert("annotations".into(), serde_json::json!(annotations));
    }
    let text = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{}],"predicateType":"{SIGN_PREDICATE_TYPE}","predicate":{{}}}}"#,
        serde_json::Value::Object(subject)
    );
    text.into_bytes()
}

async fn sign_bundle(
    reg: &Registry,
    key: &Signer,
    target: Resolved,
    opts: &SignOptions,
    reporter: &dyn Reporter,
) -> Result<SignedImage, Error> {
    let statement = sign_statement(&target.digest, &opts.annotations);
    let scheme = scheme_for(key, opts.witnesses.logs());
    let pae = cosign_types::pae(IN_TOTO_PAYLOAD_TYPE, &statement);
    let signature = key.sign_message(scheme, &pae).await?;
    let envelope = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
        payload: statement.clone(),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: signature.clone(),
        }],
    };
    let mut witnessed = Witnessed::default();
    if opts.witnesses.any() {
        let pem = verifier_pem(key, opts.certificate.as_ref());
        witnessed = opts
            .witnesses
            .witness(
                Signed::Envelope {
                    json: &envelope.to_json(),
                    signature: &signature,
                    entry_type: RekorEntryType::Dsse,
                    pae: &pae,
                },
                SignedBy {
                    key: &key.public_key(),
                    certificate: opts.certificate.as_ref(),
                    verifier_pem: &pem,
                },
                &signature,
            )
            .await?;
        if let Some(entry) = &witnessed.entry {
            reporter.event(Event::TlogEntryCreated {
                index: entry.log_index,
            });
        }
    }
    let bundle = Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        verification_material: crate::blob::bundle::verification_material(
            &key.public_key(),
            opts.certificate.as_ref(),
            witnessed.entry.as_ref(),
            &witnessed.timestamps,
        )?,
        content: BundleContent::DsseEnvelope(envelope),
    }
    .to_json();
    let mut signed = SignedImage {
        subject: target.digest_ref.clone(),
        payload: statement,
        signature,
        bundle: Some(bundle.clone()),
        written: false,
    };
    if !opts.upload {
        return Ok(signed);
    }
    let repo = opts.storage.target_repo(target.given.repository());
    reporter.event(Event::PushingSignature {
        repository: repo.to_string(),
    });
    push_bundle_referrer(reg, &repo, &target, &bundle, SIGN_PREDICATE_TYPE).await?;
    signed.written = true;
    Ok(signed)
}

/// Stores a Sigstore bundle as an OCI 1.1 referrer of `target` (contract section 2.5).
pub async fn push_bundle_referrer(
    reg: &Registry,
    repo: &cosign_oci::Repository,
    target: &Resolved,
    bundle: &[u8],
    predicate_type: &str,
) -> Result<(), Error> {
    let subject = target
        .descriptor
        .clone()
        .ok_or(Error::Internal("subject descriptor missing"))?;
    let ctx = || format!("pushing bundle to {repo}");
    let empty_digest = cosign_crypto::hash(HashAlgorithm::Sha256, OCI_EMPTY_CONFIG);
    reg.push_blob_if_missing(repo, &empty_digest, OCI_EMPTY_CONFIG)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    let bundle_digest = cosign_crypto::hash(HashAlgorithm::Sha256, bundle);
    reg.push_blob(repo, &bundle_digest, bundle)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    let mut config = Descriptor::new(
        OCI_EMPTY_MEDIA_TYPE,
        OCI_EMPTY_CONFIG.len() as u64,
        empty_digest,
    );
    config.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.to_owned(),
        artifact_type: Some(BUNDLE_V03_MEDIA_TYPE.to_owned()),
        config,
        layers: vec![Descriptor::new(
            BUNDLE_V03_MEDIA_TYPE,
            bundle.len() as u64,
            bundle_digest,
        )],
        annotations: BTreeMap::from([
            (
                CREATED_ANNOTATION.to_owned(),
                crate::time::rfc3339(crate::time::now_unix()),
            ),
            (
                BUNDLE_CONTENT_ANNOTATION.to_owned(),
                BUNDLE_CONTENT_DSSE.to_owned(),
            ),
            (
                BUNDLE_PREDICATE_TYPE_ANNOTATION.to_owned(),
                predicate_type.to_owned(),
            ),
        ]),
        subject: Some(Descriptor::new(
            subject.media_type.clone(),
            subject.size,
            subject.digest.clone(),
        )),
    };
    let body = manifest.to_json();
    publish_referrer(reg, repo, &target.digest, &manifest, &body).await
}

/// `cosign attach signature`: stores a signature made elsewhere (with its payload) in the
/// image's `.sig` image, or a Sigstore bundle as a referrer.
pub struct AttachSignature {
    /// The signed payload (simple-signing JSON), or a Sigstore bundle; empty: the image's
    /// simple-signing payload is implied (cosign's obsolete behaviour, reported as a warning).
    pub payload: Vec<u8>,
    /// The raw signature (None when `payload` is a bundle).
    pub signature: Option<Vec<u8>>,
    /// `--certificate` PEM and `--certificate-chain` PEM.
    pub certificate: Option<(String, String)>,
}

/// Attaches a signature to `image`. Returns whether anything was written.
pub async fn attach_signature(
    reg: &Registry,
    image: &ImageRef,
    req: &AttachSignature,
    storage: &Storage,
    reporter: &dyn Reporter,
) -> Result<bool, Error> {
    if req.payload.is_empty() {
        let resolved = resolve(reg, image, false).await?;
        reporter.event(Event::ImpliedPayload {
            reference: resolved.digest_ref.to_string(),
        });
        let implied = AttachSignature {
            payload: cosign_types::simple_signing_payload(
                &image.repository().name(),
                &resolved.digest,
                None,
            ),
            signature: req.signature.clone(),
            certificate: req.certificate.clone(),
        };
        return Box::pin(attach_signature(reg, image, &implied, storage, reporter)).await;
    }
    let bundle = Bundle::from_json(&req.payload).ok();
    let target = resolve(reg, image, bundle.is_some()).await?;
    let repo = storage.target_repo(image.repository());
    if let Some(b) = bundle {
        let predicate_type = match &b.content {
            BundleContent::DsseEnvelope(env) => {
                serde_json::from_slice::<serde_json::Value>(&env.payload)
                    .ok()
                    .and_then(|v| {
                        v.get("predicateType")
                            .and_then(|p| p.as_str())
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| SIGN_PREDICATE_TYPE.to_owned())
            }
            BundleContent::MessageSignature(_) => SIGN_PREDICATE_TYPE.to_owned(),
        };
        reporter.event(Event::PushingSignature {
            repository: repo.to_string(),
        });
        push_bundle_referrer(reg, &repo, &target, &req.payload, &predicate_type).await?;
        return Ok(true);
    }
    let signature = req
        .signature
        .as_ref()
        .ok_or(Error::Missing("a signature"))?;
    let mut annotations =
        BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature))]);
    if let Some((cert, chain)) = &req.certificate {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), cert.clone());
        annotations.insert(CHAIN_ANNOTATION.to_owned(), chain.clone());
    }
    let layer = NewLayer::new(req.payload.clone(), SIMPLE_SIGNING_MEDIA_TYPE, annotations);
    let tag = storage.tag(&target.digest, AttachmentKind::Signature);
    reporter.event(Event::PushingSignature {
        repository: repo.to_string(),
    });
    let is_dup = |existing: &Descriptor| existing == &layer.descriptor;
    let outcome = append_layer(reg, storage, &repo, &tag, &layer, &is_dup).await?;
    Ok(matches!(outcome, AppendOutcome::Written { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_shape() {
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let s = String::from_utf8(sign_statement(&d, &BTreeMap::new())).unwrap();
        assert_eq!(
            s,
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"digest":{{"sha256":"{}"}}}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{{}}}}"#,
                "a".repeat(64)
            )
        );
        let a = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
        let s = String::from_utf8(sign_statement(&d, &a)).unwrap();
        assert!(s.contains(r#""annotations":{"k":"v"}"#));
    }
}
