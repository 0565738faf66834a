//! Attestations of images: `attest`, `verify-attestation`, `attach attestation` and
//! `download attestation`.
//!
//! Storage follows cosign: in the legacy layout each attestation is one layer of the
//! `sha256-<hex>.att` image (media type `application/vnd.dsse.envelope.v1+json`, the layer is
//! the DSSE envelope JSON, annotations `dev.cosignproject.cosign/signature: ""` and
//! `predicateType`, plus the Rekor bundle when logged); with `--new-bundle-format` a Sigstore
//! bundle v0.3 is stored as an OCI 1.1 referrer. Verification reads both (the `.att` image
//! first, then the referrers), and only statements of the requested predicate type count
//! (GHSA-vjxv-45g9-9296).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use cosign_oci::{ImageRef, Reference, Registry, Repository};
use cosign_types::annotations::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, PREDICATE_TYPE_ANNOTATION,
    RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
};
use cosign_types::bundle::{Bundle, BundleContent, bundle_version};
use cosign_types::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use cosign_types::intoto::{Statement, statement_v01};
use cosign_types::media_types::DSSE_MEDIA_TYPE;
use cosign_types::oci::{Descriptor, MAX_ENTRIES, Platform, is_index_media_type};
use cosign_types::predicate::PredicateType;
use cosign_types::{Digest, RekorBundle};
use futures_util::stream::{self, StreamExt};

use super::sign::push_bundle_referrer;
use super::storage::{
    AppendOutcome, AttachmentKind, MAX_UPDATE_ATTEMPTS, NewLayer, Storage, append_layer, gave_up,
    layer_survived, put_attachment_image, read_attachment_image, reg_err,
};
use super::store::Store;
use super::{Event, Reporter, Resolved, resolve};
use crate::attestation::{
    AttestationPolicy, Candidate, Checked, RekorEntryType, SignedAttestation, Stamped,
    VerifiedAttestation, bundle_candidate, check_candidate, sign_statement,
};
use crate::certs::Certificate;
use crate::tlog::TlogVerify;
use crate::witness::{Witnesses, rfc3161_annotation};
use crate::{Error, Signer};

/// Attestations checked at once (online log lookups).
const CHECK_CONCURRENCY: usize = 8;

/// Most envelopes read from one `attach attestation` file.
const MAX_ENVELOPES_PER_FILE: usize = MAX_ENTRIES;

/// What to attest and how (`cosign attest`).
pub struct AttestOptions {
    /// `--type`.
    pub predicate_type: PredicateType,
    /// The bytes of `--predicate`.
    pub predicate: Vec<u8>,
    /// RFC 3339 time recorded by the `custom` predicate.
    pub timestamp: String,
    /// `!--no-upload`.
    pub upload: bool,
    /// `--replace`: drop the image's legacy attestations of the same predicate type.
    pub replace: bool,
    /// `--new-bundle-format`: a Sigstore bundle stored as an OCI 1.1 referrer.
    pub new_bundle_format: bool,
    /// Where attachments go.
    pub storage: Storage,
    /// `--certificate` (or the keyless certificate): stored with the attestation.
    pub certificate: Option<Certificate>,
    /// The certificate's chain (PEM: intermediates, then root), stored in legacy layers.
    pub certificate_chain: Option<String>,
    /// Where the attestation is recorded and dated (default: nowhere).
    pub witnesses: Witnesses,
    /// `--rekor-entry-type`.
    pub entry_type: RekorEntryType,
}

/// An attested image.
#[derive(Clone, Debug)]
pub struct AttestedImage {
    /// `repository@digest` of the attested manifest.
    pub subject: ImageRef,
    /// The signed attestation.
    pub signed: SignedAttestation,
    /// What `--bundle` gets: the Sigstore bundle (new format) or cosign's legacy bundle JSON.
    pub bundle: Vec<u8>,
    /// Whether anything was written to the registry.
    pub written: bool,
}

/// `cosign attest`: builds the statement for `image` (resolved to its digest first), signs it
/// and stores it (unless `!opts.upload`).
pub async fn attest_image(
    reg: &Registry,
    key: &Signer,
    image: &ImageRef,
    opts: &AttestOptions,
    reporter: &dyn Reporter,
) -> Result<AttestedImage, Error> {
    let uri = opts.predicate_type.uri();
    // The predicate is checked before anything goes over the network.
    let predicate_json = opts
        .predicate_type
        .build_predicate(&opts.predicate, &opts.timestamp)?;
    if image.digest().is_none() {
        reporter.event(Event::SigningByTag {
            reference: image.to_string(),
        });
    }
    let target = resolve(reg, image, opts.upload && opts.new_bundle_format).await?;
    let statement = statement_v01(
        &target.given.repository().name(),
        &target.digest.hex(),
        uri,
        &predicate_json,
    );
    // Go stamps a legacy attestation's envelope, a bundle's signature.
    let stamped = if opts.new_bundle_format {
        Stamped::Signature
    } else {
        Stamped::Envelope
    };
    let signed = sign_statement(
        key,
        statement,
        opts.certificate.as_ref(),
        Some(&opts.witnesses),
        opts.entry_type,
        stamped,
    )
    .await?;
    if let Some(e) = &signed.entry {
        reporter.event(Event::TlogEntryCreated { index: e.log_index });
    }
    let bundle = if opts.new_bundle_format {
        signed.sigstore_bundle(&key.public_key(), opts.certificate.as_ref())?
    } else {
        signed.legacy_bundle(opts.certificate.as_ref())
    };
    let mut out = AttestedImage {
        subject: target.digest_ref.clone(),
        signed,
        bundle,
        written: false,
    };
    if !opts.upload {
        return Ok(out);
    }
    let repo = opts.storage.target_repo(target.given.repository());
    if opts.new_bundle_format {
        push_bundle_referrer(reg, &repo, &target, &out.bundle, uri).await?;
        out.written = true;
        return Ok(out);
    }
    let mut annotations = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (PREDICATE_TYPE_ANNOTATION.to_owned(), uri.to_owned()),
    ]);
    if let Some(b) = out.signed.rekor_bundle_annotation() {
        annotations.insert(BUNDLE_ANNOTATION.to_owned(), b);
    }
    if let Some(cert) = &opts.certificate {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), cert.pem.clone());
        annotations.insert(
            CHAIN_ANNOTATION.to_owned(),
            opts.certificate_chain.clone().unwrap_or_default(),
        );
    }
    if let Some(ts) = out.signed.timestamps.first() {
        annotations.insert(
            RFC3161_TIMESTAMP_ANNOTATION.to_owned(),
            rfc3161_annotation(ts),
        );
    }
    let layer = NewLayer::new(
        out.signed.envelope_json.clone(),
        DSSE_MEDIA_TYPE,
        annotations,
    );
    let tag = opts
        .storage
        .tag(&target.digest, AttachmentKind::Attestation);
    let outcome = if opts.replace {
        replace_attestations(reg, &opts.storage, &repo, &tag, &layer, uri, reporter).await?
    } else {
        let is_dup = |existing: &Descriptor| existing == &layer.descriptor;
        append_layer(reg, &opts.storage, &repo, &tag, &layer, &is_dup).await?
    };
    out.written = matches!(outcome, AppendOutcome::Written { .. });
    Ok(out)
}

/// The predicate type of an existing `.att` layer: its `predicateType` annotation, else its
/// statement's (cosign's `getPredicateType`).
async fn layer_predicate_type(
    reg: &Registry,
    storage: &Storage,
    repo: &Repository,
    layer: &Descriptor,
    cache: &mut HashMap<Digest, String>,
) -> Result<String, Error> {
    if let Some(pt) = layer.annotations.get(PREDICATE_TYPE_ANNOTATION) {
        return Ok(pt.clone());
    }
    if let Some(pt) = cache.get(&layer.digest) {
        return Ok(pt.clone());
    }
    let cap = if storage.max_attachment_size == 0 {
        super::storage::DEFAULT_MAX_ATTACHMENT_SIZE
    } else {
        storage.max_attachment_size
    };
    if layer.size > cap {
        return Err(Error::Verification(format!(
            "layer {} of {repo} is {} bytes, over the attachment size limit of {cap} bytes (COSIGN_MAX_ATTACHMENT_SIZE)",
            layer.digest, layer.size
        )));
    }
    let data = reg
        .get_blob(repo, &layer.digest, layer.size.max(1))
        .await
        .map_err(reg_err(format!(
            "fetching attestation {} of {repo}",
            layer.digest
        )))?;
    let pt = Envelope::from_json(&data)
        .ok()
        .and_then(|env| Statement::from_json(&env.payload).ok())
        .map(|s| s.predicate_type)
        .ok_or_else(|| {
            Error::Verification(format!(
                "could not find the predicate type of attestation {} in {repo}: it is not a DSSE envelope holding an in-toto statement",
                layer.digest
            ))
        })?;
    cache.insert(layer.digest.clone(), pt.clone());
    Ok(pt)
}

/// `--replace`: rewrites the `.att` image without the attestations of predicate type `uri`,
/// plus `layer`, printing cosign's "Replacing attestation predicate: X" / "Not replacing
/// attestation predicate: Y" lines; then makes sure the update survived concurrent writers.
async fn replace_attestations(
    reg: &Registry,
    storage: &Storage,
    repo: &Repository,
    tag: &str,
    layer: &NewLayer,
    uri: &str,
    reporter: &dyn Reporter,
) -> Result<AppendOutcome, Error> {
    let ctx = || format!("writing attestation image {repo}:{tag}");
    reg.push_blob_if_missing(repo, &layer.descriptor.digest, &layer.data)
        .await
        .map_err(reg_err(ctx()))?;
    let mut cache = HashMap::new();
    for attempt in 1..=MAX_UPDATE_ATTEMPTS {
        let started = Instant::now();
        let existing = read_attachment_image(reg, repo, tag).await?;
        let mut kept = Vec::new();
        let mut lines = Vec::new();
        for l in existing.map(|(m, _)| m.layers).unwrap_or_default() {
            if l == layer.descriptor {
                continue;
            }
            let pt = layer_predicate_type(reg, storage, repo, &l, &mut cache).await?;
            if pt == uri {
                lines.push(Event::ReplacingAttestation {
                    predicate_type: uri.to_owned(),
                });
            } else {
                lines.push(Event::KeepingAttestation {
                    predicate_type: pt.clone(),
                });
                kept.push(l);
            }
        }
        kept.push(layer.descriptor.clone());
        let ours = put_attachment_image(reg, storage, repo, tag, kept, &ctx()).await?;
        if layer_survived(reg, repo, tag, &ours, started.elapsed(), &layer.descriptor).await? {
            for l in lines {
                reporter.event(l);
            }
            return Ok(AppendOutcome::Written { attempts: attempt });
        }
        tracing::debug!(%repo, tag, attempt, "a concurrent writer replaced our update; merging again");
    }
    Err(gave_up(repo, tag))
}

/// What `verify-attestation` checks.
pub struct VerifyAttestationOptions {
    /// Who must have signed: a key, or a certificate policy (keyless).
    pub authority: crate::keyless::Authority,
    /// `--type`: only statements of this predicate type count.
    pub predicate_type: PredicateType,
    /// `--check-claims`: a subject must name the image digest.
    pub check_claims: bool,
    /// Where attachments live.
    pub storage: Storage,
    /// Transparency log verification (None: `--insecure-ignore-tlog`).
    pub tlog: Option<TlogVerify>,
    /// The trusted root whose timestamp authorities check RFC 3161 timestamps in bundles.
    pub trusted_root: Option<cosign_trust::trusted_root::TrustedRoot>,
}

/// The verified attestations of one image.
#[derive(Clone, Debug)]
pub struct ImageAttestations {
    /// `repository@digest` of the image.
    pub digest_ref: ImageRef,
    /// The attestations of the requested type that verified.
    pub attestations: Vec<VerifiedAttestation>,
}

/// The results of checking a set of candidates.
#[derive(Default)]
struct Tally {
    verified: Vec<VerifiedAttestation>,
    other_types: Vec<String>,
    errors: Vec<String>,
    found: usize,
}

impl Tally {
    async fn check(&mut self, policy: &AttestationPolicy<'_>, candidates: Vec<Candidate>) {
        let results: Vec<Result<Checked, String>> = stream::iter(candidates)
            .map(|c| check_candidate(policy, c))
            .buffered(CHECK_CONCURRENCY)
            .collect()
            .await;
        for r in results {
            match r {
                Ok(Checked::Verified(v)) => self.verified.push(*v),
                Ok(Checked::OtherType(t)) => self.other_types.push(t),
                Err(e) => self.errors.push(e),
            }
        }
    }
}

/// The candidates of a legacy `.att` image. The Rekor bundle annotation is read only when the
/// log is checked; a malformed one fails that attestation.
fn legacy_candidates(
    entries: Vec<super::storage::LegacyEntry>,
    with_log: bool,
    errors: &mut Vec<String>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for e in entries {
        let name = format!("attestation {}", e.descriptor.digest);
        let mut entry = None;
        if with_log && let Some(b) = e.descriptor.annotations.get(BUNDLE_ANNOTATION) {
            match RekorBundle::from_json(b.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|rb| {
                    cosign_tlog::LogEntry::from_legacy_bundle(&rb).map_err(|e| e.to_string())
                }) {
                Ok(le) => entry = Some(le),
                Err(err) => {
                    errors.push(format!(
                        "{name}: the transparency log bundle is malformed: {err}"
                    ));
                    continue;
                }
            }
        }
        let certificate = match super::verify::legacy_certificate(&e.descriptor.annotations) {
            Ok(c) => c,
            Err(err) => {
                errors.push(format!("{name}: {err}"));
                continue;
            }
        };
        let payload_timestamps = match e.descriptor.annotations.get(RFC3161_TIMESTAMP_ANNOTATION) {
            None => Vec::new(),
            Some(text) => match cosign_types::Rfc3161Timestamp::from_json(text.as_bytes()) {
                Ok(ts) => vec![ts.signed_rfc3161_timestamp],
                Err(err) => {
                    errors.push(format!(
                        "{name}: the RFC 3161 timestamp annotation is malformed: {err}"
                    ));
                    continue;
                }
            },
        };
        out.push(Candidate {
            name,
            envelope_json: e.payload.as_ref().clone(),
            entry,
            timestamps: Vec::new(),
            payload_timestamps,
            certificate,
            identity_match: crate::keyless::IdentityMatch::Cosign,
        });
    }
    out
}

/// `cosign verify-attestation` for one image: the `.att` layers, then (when none of them is a
/// verified attestation of the requested type) the referrer bundles.
///
/// Errors: [`Error::ImageNotFound`], [`Error::NoAttestations`] (nothing attached),
/// [`Error::NoMatchingAttestations`] (nothing verified), or "none of the attestations matched
/// the predicate type" when attestations verified but none has the requested type.
pub async fn verify_image_attestations(
    source: &dyn Store,
    image: &ImageRef,
    opts: &VerifyAttestationOptions,
) -> Result<ImageAttestations, Error> {
    let resolved = source.resolve(image, false).await?;
    let repo = image.repository();
    let policy = AttestationPolicy {
        authority: &opts.authority,
        predicate_type: Some(&opts.predicate_type),
        subject: opts.check_claims.then_some(&resolved.digest),
        tlog: opts.tlog.as_ref(),
        trusted_root: opts.trusted_root.as_ref(),
    };
    let mut tally = Tally::default();
    if let Some(entries) = source
        .legacy_entries(
            &opts.storage,
            repo,
            &resolved.digest,
            AttachmentKind::Attestation,
        )
        .await?
    {
        tally.found += entries.len();
        let mut errors = Vec::new();
        let candidates = legacy_candidates(entries, opts.tlog.is_some(), &mut errors);
        tally.errors.extend(errors);
        tally.check(&policy, candidates).await;
    }
    if tally.verified.is_empty() {
        let bundles = source
            .referrer_bundles(&opts.storage, repo, &resolved.digest)
            .await?;
        let mut candidates = Vec::new();
        for b in &bundles {
            tally.found += 1;
            match bundle_candidate(
                &format!("bundle {}", b.manifest_digest),
                &b.bundle,
                opts.tlog.is_some(),
            ) {
                Ok(c) => candidates.push(c),
                Err(e) => tally.errors.push(e.to_string()),
            }
        }
        tally.check(&policy, candidates).await;
    }
    if tally.verified.is_empty() {
        if tally.found == 0 {
            return Err(Error::NoAttestations);
        }
        if !tally.other_types.is_empty() {
            return Err(Error::Verification(format!(
                "none of the attestations matched the predicate type: {}, found: {}",
                opts.predicate_type.given(),
                tally.other_types.join(",")
            )));
        }
        tally.errors.dedup();
        return Err(Error::NoMatchingAttestations(tally.errors.join("\n ")));
    }
    Ok(ImageAttestations {
        digest_ref: resolved.digest_ref,
        attestations: tally.verified,
    })
}

/// One `--attestation` file of `attach attestation`.
#[derive(Clone, Debug)]
pub struct AttestationFile {
    /// The path, for messages.
    pub name: String,
    /// The content: DSSE envelopes (JSON values one after another, one per line as cosign
    /// writes them), or a Sigstore bundle.
    pub data: Vec<u8>,
}

/// What one file holds, checked.
enum Parsed {
    Bundle { predicate_type: String },
    Envelopes(Vec<(Envelope, String)>),
}

/// Checks an envelope before it is attached: in-toto payload, at least one signature, a
/// statement that parses (with a predicate type and subjects).
fn check_attachable(env: &Envelope, what: &str) -> Result<String, Error> {
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(Error::Invalid {
            what: what.to_string(),
            reason: format!(
                "invalid payloadType {} on envelope. Expected {IN_TOTO_PAYLOAD_TYPE}",
                env.payload_type
            ),
        });
    }
    if env.signatures.is_empty() {
        return Err(Error::Invalid {
            what: what.to_string(),
            reason: "could not attach attestation without having signatures".into(),
        });
    }
    let statement = Statement::from_json(&env.payload).map_err(|e| Error::Invalid {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    Ok(statement.predicate_type)
}

fn parse_attestation_file(f: &AttestationFile) -> Result<Parsed, Error> {
    if let Ok(bundle) = Bundle::from_json(&f.data) {
        let what = format!("bundle {}", f.name);
        if bundle_version(&bundle.media_type).is_none_or(|v| v < (0, 3)) {
            return Err(Error::Invalid {
                what: what.to_string(),
                reason: format!(
                    "media type {:?}: only Sigstore bundles v0.3 and later can be stored as referrers",
                    bundle.media_type
                ),
            });
        }
        let BundleContent::DsseEnvelope(env) = &bundle.content else {
            return Err(Error::Invalid {
                what: what.to_string(),
                reason: "holds a message signature, not an attestation".into(),
            });
        };
        return Ok(Parsed::Bundle {
            predicate_type: check_attachable(env, &what)?,
        });
    }
    let mut envelopes = Vec::new();
    for (i, value) in serde_json::Deserializer::from_slice(&f.data)
        .into_iter::<serde_json::Value>()
        .enumerate()
    {
        let what = format!("envelope {} of {}", i + 1, f.name);
        if i >= MAX_ENVELOPES_PER_FILE {
            return Err(Error::Invalid {
                what: f.name.clone(),
                reason: format!("holds more than {MAX_ENVELOPES_PER_FILE} envelopes"),
            });
        }
        let value = value.map_err(|e| Error::format(format!("parsing {what}"), e))?;
        let bytes = serde_json::to_vec(&value).map_err(|e| Error::format(&what, e))?;
        let env = Envelope::from_json(&bytes).map_err(|e| Error::format(&what, e))?;
        let predicate_type = check_attachable(&env, &what)?;
        envelopes.push((env, predicate_type));
    }
    if envelopes.is_empty() {
        return Err(Error::Invalid {
            what: f.name.clone(),
            reason: "holds no DSSE envelope".into(),
        });
    }
    Ok(Parsed::Envelopes(envelopes))
}

/// `cosign attach attestation`: stores signed DSSE envelopes made elsewhere in the image's
/// `.att` image (or a Sigstore bundle as a referrer). Every file is checked before anything is
/// written. Returns how many attestations were written (duplicates are not).
pub async fn attach_attestations(
    reg: &Registry,
    image: &ImageRef,
    files: &[AttestationFile],
    storage: &Storage,
) -> Result<usize, Error> {
    let parsed = files
        .iter()
        .map(parse_attestation_file)
        .collect::<Result<Vec<_>, _>>()?;
    let any_bundle = parsed.iter().any(|p| matches!(p, Parsed::Bundle { .. }));
    let target = resolve(reg, image, any_bundle).await?;
    let repo = storage.target_repo(image.repository());
    let tag = storage.tag(&target.digest, AttachmentKind::Attestation);
    let mut written = 0;
    for (file, p) in files.iter().zip(parsed) {
        match p {
            Parsed::Bundle { predicate_type } => {
                push_bundle_referrer(reg, &repo, &target, &file.data, &predicate_type).await?;
                written += 1;
            }
            Parsed::Envelopes(envelopes) => {
                for (env, predicate_type) in envelopes {
                    let annotations = BTreeMap::from([
                        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
                        (PREDICATE_TYPE_ANNOTATION.to_owned(), predicate_type),
                    ]);
                    // cosign re-marshals the envelope with Go's encoding/json.
                    let layer = NewLayer::new(env.to_json(), DSSE_MEDIA_TYPE, annotations);
                    let is_dup = |existing: &Descriptor| existing == &layer.descriptor;
                    let outcome = append_layer(reg, storage, &repo, &tag, &layer, &is_dup).await?;
                    if matches!(outcome, AppendOutcome::Written { .. }) {
                        written += 1;
                    }
                }
            }
        }
    }
    Ok(written)
}

/// Resolves `image`, and with a platform picks the matching manifest of an index.
async fn resolve_platform(
    reg: &Registry,
    image: &ImageRef,
    platform: Option<&Platform>,
) -> Result<Resolved, Error> {
    let Some(wanted) = platform else {
        return resolve(reg, image, false).await;
    };
    let r = resolve(reg, image, true).await?;
    let is_index = r
        .descriptor
        .as_ref()
        .is_some_and(|d| is_index_media_type(&d.media_type));
    if !is_index {
        return Ok(r);
    }
    let m = reg
        .get_manifest(image.repository(), &Reference::Digest(r.digest.clone()))
        .await
        .map_err(reg_err(format!("reading index {}", r.digest_ref)))?
        .ok_or_else(|| Error::ImageNotFound(r.digest_ref.to_string()))?;
    let index = m
        .image_index()
        .map_err(reg_err(format!("reading index {}", r.digest_ref)))?;
    let child = index
        .manifests
        .into_iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(wanted)))
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no image for platform {wanted} in index {}",
                r.digest_ref
            ))
        })?;
    Ok(Resolved {
        given: r.given.clone(),
        digest_ref: r.given.with_digest(child.digest.clone()),
        digest: child.digest.clone(),
        descriptor: Some(child),
    })
}

/// `cosign download attestation`: the image's attestations, one JSON document per line: the
/// Sigstore bundles attached as referrers, then the legacy envelopes (in Go's
/// `{"payloadType","payload","signatures":[{"keyid","sig"}]}` form). With `predicate_type`,
/// only statements of that type.
pub async fn download_attestations(
    reg: &Registry,
    image: &ImageRef,
    predicate_type: Option<&PredicateType>,
    platform: Option<&Platform>,
    storage: &Storage,
) -> Result<Vec<Vec<u8>>, Error> {
    let resolved = resolve_platform(reg, image, platform).await?;
    let repo = image.repository();
    let matches = |payload: &[u8]| match predicate_type {
        None => true,
        Some(want) => Statement::from_json(payload).is_ok_and(|s| s.predicate_type == want.uri()),
    };
    let mut out = Vec::new();
    for b in super::storage::referrer_bundles(reg, storage, repo, &resolved.digest).await? {
        if let BundleContent::DsseEnvelope(env) = &b.bundle.content
            && matches(&env.payload)
        {
            out.push(b.raw);
        }
    }
    let entries = super::storage::legacy_entries(
        reg,
        storage,
        repo,
        &resolved.digest,
        AttachmentKind::Attestation,
    )
    .await?
    .unwrap_or_default();
    for e in entries {
        let env = Envelope::from_json(&e.payload).map_err(|err| {
            Error::format(
                format!(
                    "reading attestation {} of {}",
                    e.descriptor.digest, resolved.digest_ref
                ),
                err,
            )
        })?;
        if matches(&env.payload) {
            out.push(env.to_json());
        }
    }
    if out.is_empty() {
        return Err(match predicate_type {
            Some(t) => Error::Verification(format!(
                "no attestations with predicate type '{}' found",
                t.given()
            )),
            None => Error::Verification("found no attestations".into()),
        });
    }
    Ok(out)
}
