//! cosign's storage conventions in a registry.
//!
//! Legacy attachments live in one image per subject, tagged `[prefix]sha256-<hex>.sig|.att|.sbom`
//! in the subject's repository (or `COSIGN_REPOSITORY`), one layer per signature. New-format
//! bundles are OCI 1.1 referrer manifests; registries without the referrers API get the
//! `sha256-<hex>` fallback index tag.
//!
//! Both tags are shared, mutable documents updated by read-modify-write, so concurrent signers
//! can overwrite each other (cosign issue #2432). Every update here is followed by a check that
//! the new entry survived, after a settle delay longer than any writer's read-to-write window
//! seen here; a lost entry is merged again. See docs/decisions/0004-no-lost-signatures.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosign_oci::{Reference, Repository};
use cosign_types::bundle::{Bundle, bundle_version};
use cosign_types::media_types::{
    DOCKER_CONFIG_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE,
    OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
};
use cosign_types::oci::{
    Descriptor, ImageIndex, ImageManifest, MAX_ENTRIES, signature_image_config,
};
use cosign_types::{Digest, HashAlgorithm};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::store::{self, Store, StoreError};
use crate::Error;

/// Most signatures or attestations processed for one subject (`maxAllowedSigsOrAtts`,
/// GHSA-vfp6-jrw2-99g9).
pub const MAX_SIGNATURES: usize = 100;

/// Default cap on one attachment layer (`COSIGN_MAX_ATTACHMENT_SIZE`, GHSA-88jx-383q-w4qc).
pub const DEFAULT_MAX_ATTACHMENT_SIZE: u64 = 128 << 20;

/// Concurrent fetches per subject.
const FETCH_CONCURRENCY: usize = 16;

/// Attempts at a read-modify-write update before giving up.
pub(super) const MAX_UPDATE_ATTEMPTS: u32 = 12;

/// Which legacy attachment tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentKind {
    /// `.sig`
    Signature,
    /// `.att`
    Attestation,
    /// `.sbom`
    Sbom,
}

impl AttachmentKind {
    /// The tag suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Signature => "sig",
            Self::Attestation => "att",
            Self::Sbom => "sbom",
        }
    }
}

/// Where attachments go, as configured by flags and environment.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    /// `--attachment-tag-prefix`.
    pub tag_prefix: String,
    /// `COSIGN_REPOSITORY`.
    pub cosign_repository: Option<Repository>,
    /// `COSIGN_DOCKER_MEDIA_TYPES`: Docker schema 2 signature images.
    pub docker_media_types: bool,
    /// `COSIGN_MAX_ATTACHMENT_SIZE`.
    pub max_attachment_size: u64,
}

impl Storage {
    /// The repository attachments of `subject` live in.
    pub fn target_repo(&self, subject: &Repository) -> Repository {
        self.cosign_repository
            .clone()
            .unwrap_or_else(|| subject.clone())
    }

    /// `[prefix]sha256-<hex>.<suffix>`
    pub fn tag(&self, digest: &Digest, kind: AttachmentKind) -> String {
        format!("{}{}.{}", self.tag_prefix, digest.tag_form(), kind.suffix())
    }

    /// The full reference of an attachment tag, as text (`registry/repo:sha256-<hex>.sig`).
    pub fn tag_ref(&self, subject: &Repository, digest: &Digest, kind: AttachmentKind) -> String {
        format!(
            "{}:{}",
            self.target_repo(subject).name(),
            self.tag(digest, kind)
        )
    }

    /// The referrers fallback tag `sha256-<hex>`.
    pub fn fallback_tag(digest: &Digest) -> String {
        digest.tag_form()
    }

    /// The attachment size cap in force (`COSIGN_MAX_ATTACHMENT_SIZE`, default 128 MiB).
    pub fn max_attachment_limit(&self) -> u64 {
        self.max_attachment()
    }

    /// The manifest and config media types of attachment images (OCI, or Docker schema 2
    /// with `COSIGN_DOCKER_MEDIA_TYPES`).
    pub fn attachment_manifest_types(&self) -> (&'static str, &'static str) {
        self.manifest_types()
    }

    fn max_attachment(&self) -> u64 {
        if self.max_attachment_size == 0 {
            DEFAULT_MAX_ATTACHMENT_SIZE
        } else {
            self.max_attachment_size
        }
    }

    fn manifest_types(&self) -> (&'static str, &'static str) {
        if self.docker_media_types {
            (DOCKER_MANIFEST_MEDIA_TYPE, DOCKER_CONFIG_MEDIA_TYPE)
        } else {
            (OCI_MANIFEST_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE)
        }
    }
}

/// Wraps a registry error with what was being done (other store errors say it already).
pub(super) fn reg_err<E: Into<StoreError>>(context: impl Into<String>) -> impl FnOnce(E) -> Error {
    let context = context.into();
    move |e| e.into().into_error(context)
}

/// A layer to add to a legacy attachment image.
#[derive(Clone, Debug)]
pub struct NewLayer {
    /// Descriptor (media type, size, digest, annotations).
    pub descriptor: Descriptor,
    /// The layer's bytes (the payload).
    pub data: Vec<u8>,
}

impl NewLayer {
    /// A layer of `data` with `media_type` and `annotations`.
    pub fn new(data: Vec<u8>, media_type: &str, annotations: BTreeMap<String, String>) -> Self {
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, &data);
        let mut descriptor = Descriptor::new(media_type, data.len() as u64, digest);
        descriptor.annotations = annotations;
        Self { descriptor, data }
    }
}

/// The outcome of adding a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The layer was written (after this many attempts).
    Written {
        /// Attempts needed (1 when nobody else wrote at the same time).
        attempts: u32,
    },
    /// An equivalent layer was already there; nothing was written.
    AlreadyPresent,
}

/// Reads the legacy attachment image at `tag` (None when the tag does not exist).
pub async fn read_attachment_image(
    store: &dyn Store,
    repo: &Repository,
    tag: &str,
) -> Result<Option<(ImageManifest, Digest)>, Error> {
    let reference = Reference::Tag(tag.to_owned());
    let Some(m) = store::get_manifest(store, repo, &reference)
        .await
        .map_err(reg_err(format!("reading {repo}:{tag}")))?
    else {
        return Ok(None);
    };
    let manifest = ImageManifest::from_json(&m.bytes)
        .map_err(|e| Error::format(format!("parsing {repo}:{tag}"), e))?;
    Ok(Some((manifest, m.digest)))
}

/// Adds `layer` to the legacy attachment image `tag` of `repo`, keeping every existing layer,
/// and makes sure it survived concurrent writers. `is_duplicate` says whether an existing layer
/// (descriptor and its signature annotation) already stands for the new one.
pub async fn append_layer(
    store: &dyn Store,
    storage: &Storage,
    repo: &Repository,
    tag: &str,
    layer: &NewLayer,
    is_duplicate: &(dyn Fn(&Descriptor) -> bool + Sync),
) -> Result<AppendOutcome, Error> {
    let ctx = || format!("writing signature image {repo}:{tag}");
    store
        .push_blob(repo, &layer.descriptor.digest, &layer.data)
        .await
        .map_err(reg_err(ctx()))?;
    for attempt in 1..=MAX_UPDATE_ATTEMPTS {
        let started = Instant::now();
        let existing = read_attachment_image(store, repo, tag).await?;
        let mut layers = match &existing {
            Some((m, _)) => m.layers.clone(),
            None => Vec::new(),
        };
        if layers.iter().any(is_duplicate) {
            return Ok(AppendOutcome::AlreadyPresent);
        }
        layers.push(layer.descriptor.clone());
        let ours = put_attachment_image(store, storage, repo, tag, layers, &ctx()).await?;
        if layer_survived(
            store,
            repo,
            tag,
            &ours,
            started.elapsed(),
            &layer.descriptor,
        )
        .await?
        {
            return Ok(AppendOutcome::Written { attempts: attempt });
        }
        tracing::debug!(%repo, tag, attempt, "a concurrent writer replaced our update; merging again");
    }
    Err(gave_up(repo, tag))
}

/// The error when a read-modify-write kept losing to concurrent writers.
pub(super) fn gave_up(repo: &Repository, tag: &str) -> Error {
    Error::ConcurrentUpdate {
        location: format!("{repo}:{tag}"),
        attempts: MAX_UPDATE_ATTEMPTS,
    }
}

/// Stores `layers` (their blobs already pushed; the last one is the new entry) as the legacy
/// attachment image `tag` of `repo`: refuses more than [`MAX_ENTRIES`] layers, pushes the
/// config, PUTs the manifest; returns the digest written. `ctx` names the write in errors.
pub(super) async fn put_attachment_image(
    store: &dyn Store,
    storage: &Storage,
    repo: &Repository,
    tag: &str,
    layers: Vec<Descriptor>,
    ctx: &str,
) -> Result<Digest, Error> {
    if layers.len() > MAX_ENTRIES {
        return Err(Error::TooMany {
            location: format!("{repo}:{tag}"),
            what: "layers",
            count: layers.len(),
            max: MAX_ENTRIES,
        });
    }
    let (manifest_type, config_type) = storage.manifest_types();
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.digest.clone()).collect();
    let config = signature_image_config(&diff_ids);
    let config_digest = cosign_crypto::hash(HashAlgorithm::Sha256, &config);
    store
        .push_blob(repo, &config_digest, &config)
        .await
        .map_err(reg_err(ctx))?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: manifest_type.to_owned(),
        artifact_type: None,
        config: Descriptor::new(config_type, config.len() as u64, config_digest),
        layers,
        annotations: BTreeMap::new(),
        subject: None,
    };
    let put = store
        .put_manifest(
            repo,
            &Reference::Tag(tag.to_owned()),
            manifest_type,
            &manifest.to_json(),
        )
        .await
        .map_err(reg_err(ctx))?;
    Ok(put.digest)
}

/// [`survived`] for a legacy attachment image: our manifest is still at `tag`, or the
/// manifest there now still holds `layer`.
pub(super) async fn layer_survived(
    store: &dyn Store,
    repo: &Repository,
    tag: &str,
    ours: &Digest,
    window: Duration,
    layer: &Descriptor,
) -> Result<bool, Error> {
    survived(store, repo, tag, ours, window, |m: &[u8]| {
        ImageManifest::from_json(m)
            .map(|m| m.layers.iter().any(|l| l == layer))
            .unwrap_or(false)
    })
    .await
}

/// Waits longer than any writer's read-to-write window, then checks that the document at `tag`
/// is still ours (one HEAD) or, if it changed, still contains our entry.
async fn survived(
    store: &dyn Store,
    repo: &Repository,
    tag: &str,
    ours: &Digest,
    window: Duration,
    contains_ours: impl Fn(&[u8]) -> bool,
) -> Result<bool, Error> {
    let settle = (window * 4).clamp(Duration::from_millis(250), Duration::from_secs(3));
    tokio::time::sleep(settle).await;
    let reference = Reference::Tag(tag.to_owned());
    let head = store
        .head_manifest(repo, &reference)
        .await
        .map_err(reg_err(format!("checking {repo}:{tag}")))?;
    match head {
        Some(d) if &d.digest == ours => Ok(true),
        None => Ok(false),
        Some(_) => {
            let now = store::get_manifest(store, repo, &reference)
                .await
                .map_err(reg_err(format!("checking {repo}:{tag}")))?;
            Ok(now.is_some_and(|m| contains_ours(&m.bytes)))
        }
    }
}

/// One signature (or attestation) layer of a legacy attachment image, with its payload.
#[derive(Clone, Debug)]
pub struct LegacyEntry {
    /// The layer descriptor (annotations carry the signature, certificate, bundle ...).
    pub descriptor: Descriptor,
    /// The layer's bytes.
    pub payload: Arc<Vec<u8>>,
}

/// Fetches every layer of the legacy attachment image of `digest`, or None when there is none.
/// Refuses more than [`MAX_SIGNATURES`] layers and layers over the attachment size cap before
/// downloading anything; identical payloads are fetched once, in parallel.
pub async fn legacy_entries(
    store: &dyn Store,
    storage: &Storage,
    subject: &Repository,
    digest: &Digest,
    kind: AttachmentKind,
) -> Result<Option<Vec<LegacyEntry>>, Error> {
    let repo = storage.target_repo(subject);
    let tag = storage.tag(digest, kind);
    let Some((manifest, _)) = read_attachment_image(store, &repo, &tag).await? else {
        return Ok(None);
    };
    if manifest.layers.len() > MAX_SIGNATURES {
        return Err(Error::Verification(format!(
            "{repo}:{tag} has {} layers: more than the {MAX_SIGNATURES} signatures cosign accepts",
            manifest.layers.len()
        )));
    }
    let cap = storage.max_attachment();
    for l in &manifest.layers {
        if l.size > cap {
            return Err(Error::Verification(format!(
                "layer {} of {repo}:{tag} is {} bytes, over the attachment size limit of {cap} bytes (COSIGN_MAX_ATTACHMENT_SIZE)",
                l.digest, l.size
            )));
        }
    }
    let mut distinct: Vec<(Digest, u64)> = Vec::new();
    for l in &manifest.layers {
        if !distinct.iter().any(|(d, _)| d == &l.digest) {
            distinct.push((l.digest.clone(), l.size));
        }
    }
    let fetched: Vec<(Digest, Arc<Vec<u8>>)> = stream::iter(distinct)
        .map(|(d, size)| {
            let repo = &repo;
            async move {
                let data = store::get_blob(store, repo, &d, size.max(1).min(cap))
                    .await
                    .map_err(reg_err(format!("fetching layer {d} of {repo}")))?;
                Ok::<_, Error>((d, Arc::new(data)))
            }
        })
        .buffered(FETCH_CONCURRENCY)
        .try_collect()
        .await?;
    let entries = manifest
        .layers
        .into_iter()
        .filter_map(|descriptor| {
            let payload = fetched
                .iter()
                .find(|(d, _)| d == &descriptor.digest)?
                .1
                .clone();
            Some(LegacyEntry {
                descriptor,
                payload,
            })
        })
        .collect();
    Ok(Some(entries))
}

/// A Sigstore bundle stored as a referrer of an image.
#[derive(Clone, Debug)]
pub struct ReferrerBundle {
    /// The referrer manifest's digest.
    pub manifest_digest: Digest,
    /// The parsed bundle.
    pub bundle: Bundle,
    /// The bundle's JSON as stored.
    pub raw: Vec<u8>,
}

/// Lists the referrers of `digest` (API, or the `sha256-<hex>` fallback index), keeping entries
/// whose artifact type starts with `artifact_prefix`.
pub async fn list_referrers(
    store: &dyn Store,
    storage: &Storage,
    subject: &Repository,
    digest: &Digest,
    artifact_prefix: &str,
) -> Result<Vec<Descriptor>, Error> {
    let repo = storage.target_repo(subject);
    let index = match store
        .referrers(&repo, digest, None)
        .await
        .map_err(reg_err(format!("listing referrers of {repo}@{digest}")))?
    {
        Some(index) => index,
        None => {
            match store::get_manifest(store, &repo, &Reference::Tag(Storage::fallback_tag(digest)))
                .await
                .map_err(reg_err(format!(
                    "reading the referrers fallback tag of {repo}@{digest}"
                )))? {
                Some(m) => ImageIndex::from_json(&m.bytes).map_err(|e| {
                    Error::format(
                        format!("parsing the referrers fallback index of {repo}@{digest}"),
                        e,
                    )
                })?,
                None => return Ok(Vec::new()),
            }
        }
    };
    Ok(index
        .manifests
        .into_iter()
        .filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| t.starts_with(artifact_prefix))
        })
        .collect())
}

/// Fetches the Sigstore bundles (v0.3 and later) attached to `digest` as referrers. Manifests
/// that are not single-layer Sigstore bundles are skipped, as cosign does.
pub async fn referrer_bundles(
    store: &dyn Store,
    storage: &Storage,
    subject: &Repository,
    digest: &Digest,
) -> Result<Vec<ReferrerBundle>, Error> {
    let repo = storage.target_repo(subject);
    let entries = list_referrers(
        store,
        storage,
        subject,
        digest,
        SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
    )
    .await?;
    if entries.len() > MAX_SIGNATURES {
        return Err(Error::Verification(format!(
            "{repo}@{digest} has {} bundle referrers: more than the {MAX_SIGNATURES} cosign accepts",
            entries.len()
        )));
    }
    let cap = storage.max_attachment();
    let found: Vec<Option<ReferrerBundle>> = stream::iter(entries)
        .map(|entry| {
            let repo = &repo;
            async move { fetch_bundle(store, repo, &entry.digest, cap).await }
        })
        .buffered(FETCH_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn fetch_bundle(
    store: &dyn Store,
    repo: &Repository,
    manifest_digest: &Digest,
    cap: u64,
) -> Result<Option<ReferrerBundle>, Error> {
    let Some(m) = store::get_manifest(store, repo, &Reference::Digest(manifest_digest.clone()))
        .await
        .map_err(reg_err(format!(
            "fetching referrer {repo}@{manifest_digest}"
        )))?
    else {
        return Ok(None);
    };
    let Ok(manifest) = ImageManifest::from_json(&m.bytes) else {
        return Ok(None);
    };
    let [layer] = manifest.layers.as_slice() else {
        return Ok(None);
    };
    if !layer
        .media_type
        .starts_with(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX)
    {
        return Ok(None);
    }
    if layer.size > cap {
        return Err(Error::Verification(format!(
            "bundle {} in {repo} is {} bytes, over the attachment size limit of {cap} bytes",
            layer.digest, layer.size
        )));
    }
    let raw = store::get_blob(store, repo, &layer.digest, layer.size.max(1))
        .await
        .map_err(reg_err(format!(
            "fetching bundle {} from {repo}",
            layer.digest
        )))?;
    let Ok(bundle) = Bundle::from_json(&raw) else {
        return Ok(None);
    };
    if bundle_version(&bundle.media_type).is_none_or(|v| v < (0, 3)) {
        return Ok(None);
    }
    Ok(Some(ReferrerBundle {
        manifest_digest: manifest_digest.clone(),
        bundle,
        raw,
    }))
}

/// Adds `entry` to the referrers fallback index: [`append_fallback_entries`] with one entry.
pub async fn append_fallback_index(
    store: &dyn Store,
    repo: &Repository,
    subject: &Digest,
    entry: &Descriptor,
) -> Result<(), Error> {
    append_fallback_entries(store, repo, subject, std::slice::from_ref(entry)).await
}

/// Adds `entries` to the referrers fallback index `sha256-<hex>` of `subject` (registries
/// without the referrers API) in one update: one read, one write, one lost-update check
/// (decision 0004), entries kept sorted by digest, at most [`MAX_ENTRIES`] in all. Entries
/// already listed (by digest) are not added again. The one writer of fallback indexes: a
/// signer adds one entry, copy and load add many at once.
pub async fn append_fallback_entries(
    store: &dyn Store,
    repo: &Repository,
    subject: &Digest,
    entries: &[Descriptor],
) -> Result<(), Error> {
    let tag = Storage::fallback_tag(subject);
    let reference = Reference::Tag(tag.clone());
    for attempt in 1..=MAX_UPDATE_ATTEMPTS {
        let started = Instant::now();
        let mut index = match store::get_manifest(store, repo, &reference)
            .await
            .map_err(reg_err(format!("reading {repo}:{tag}")))?
        {
            Some(m) => ImageIndex::from_json(&m.bytes)
                .map_err(|e| Error::format(format!("parsing {repo}:{tag}"), e))?,
            None => ImageIndex::empty(),
        };
        let missing: Vec<&Descriptor> = entries
            .iter()
            .filter(|e| !index.manifests.iter().any(|d| d.digest == e.digest))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        index.manifests.extend(missing.into_iter().cloned());
        if index.manifests.len() > MAX_ENTRIES {
            return Err(Error::TooMany {
                location: format!("{repo}:{tag}"),
                what: "referrers",
                count: index.manifests.len(),
                max: MAX_ENTRIES,
            });
        }
        index.manifests.sort_by_key(|d| d.digest.to_string());
        let put = store
            .put_manifest(repo, &reference, OCI_INDEX_MEDIA_TYPE, &index.to_json())
            .await
            .map_err(reg_err(format!("writing {repo}:{tag}")))?;
        if survived(
            store,
            repo,
            &tag,
            &put.digest,
            started.elapsed(),
            |m: &[u8]| {
                ImageIndex::from_json(m)
                    .map(|i| {
                        entries
                            .iter()
                            .all(|e| i.manifests.iter().any(|d| d.digest == e.digest))
                    })
                    .unwrap_or(false)
            },
        )
        .await?
        {
            return Ok(());
        }
        tracing::debug!(%repo, tag, attempt, "a concurrent writer replaced our update; merging again");
    }
    Err(gave_up(repo, &tag))
}

/// The three questions the verify flows ask of a registry or a saved layout
/// (`--local-image`).
impl dyn Store + '_ {
    /// Resolves `image` to its digest ([`super::resolve`]).
    pub async fn resolve(
        &self,
        image: &cosign_oci::ImageRef,
        need_descriptor: bool,
    ) -> Result<super::Resolved, Error> {
        super::resolve(self, image, need_descriptor).await
    }

    /// The legacy attachment layers of `digest` ([`legacy_entries`]).
    pub async fn legacy_entries(
        &self,
        storage: &Storage,
        subject: &Repository,
        digest: &Digest,
        kind: AttachmentKind,
    ) -> Result<Option<Vec<LegacyEntry>>, Error> {
        legacy_entries(self, storage, subject, digest, kind).await
    }

    /// The Sigstore bundles attached to `digest` as referrers ([`referrer_bundles`]).
    pub async fn referrer_bundles(
        &self,
        storage: &Storage,
        subject: &Repository,
        digest: &Digest,
    ) -> Result<Vec<ReferrerBundle>, Error> {
        referrer_bundles(self, storage, subject, digest).await
    }
}
