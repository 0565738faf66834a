//! Moving manifests and blobs between registries and OCI image layouts: the engine under
//! `copy`, `save` and `load`.
//!
//! Both sides are a [`Store`] (a registry or a layout) and a repository in it. Blobs move in
//! parallel ([`CONCURRENCY`] at once). Within one registry a blob is mounted from the source
//! repository (one request, no data); otherwise small blobs pass through memory and larger
//! ones stream through a temporary file (a layout's own blob file when the source is one),
//! hashed on the way. Every manifest read is checked against its digest, and every blob
//! against the digest its manifest names.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cosign_oci::{Manifest, Progress, Reference, Repository};
use cosign_types::media_types::OCI_MANIFEST_MEDIA_TYPE;
use cosign_types::oci::{Descriptor, ImageIndex, ImageManifest, MAX_MANIFEST_BYTES};
use cosign_types::{Digest, HashAlgorithm};
use futures_util::future::Either;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::storage::{append_fallback_entries, reg_err};
use super::store::{self, Store};
use crate::Error;

/// Transfers in flight at once (whatever the CPU count: the work is waiting on the network).
pub const CONCURRENCY: usize = 16;

/// Attachment and referrer pipelines in flight at once in a [`Batch`]. Each is a chain of
/// small requests (manifest GET, blob GET, POST, PUT, manifest PUT), so across a network the
/// time is round trips, not bytes: 100 referrers at 20 ms RTT take 7 waves (0.7 s) at 16 and
/// 2 waves at 64.
pub const PIPELINES: usize = 64;

/// Blobs up to this size pass through memory; larger ones stream through a temporary file.
const IN_MEMORY_LIMIT: u64 = 8 << 20;

/// How deep indexes may nest.
const MAX_DEPTH: usize = 4;

/// Where progress of long transfers is shown (a progress bar in the CLI). Libraries never
/// draw; they ask for a callback per blob.
pub trait ProgressSink: Sync {
    /// A callback for a transfer of `total` bytes described by `label`, or None for no
    /// progress display.
    fn start(&self, label: &str, total: u64) -> Option<Progress>;
}

/// No progress display.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn start(&self, _: &str, _: u64) -> Option<Progress> {
        None
    }
}

/// One side of a transfer: a repository in a store (layouts ignore the repository).
#[derive(Clone, Copy)]
pub struct Endpoint<'a> {
    /// The registry or layout.
    pub store: &'a dyn Store,
    /// The repository.
    pub repo: &'a Repository,
}

impl<'a> Endpoint<'a> {
    /// `repo` in `store`.
    pub fn new(store: &'a dyn Store, repo: &'a Repository) -> Self {
        Self { store, repo }
    }

    fn name(&self) -> String {
        self.store.name(self.repo)
    }

    /// Whether both sides are the same store (blobs can be mounted between its repositories).
    fn same_store(&self, other: &Endpoint<'_>) -> bool {
        std::ptr::addr_eq(self.store, other.store)
    }

    /// Fetches a manifest by digest or tag (checked against its digest); None when missing.
    pub async fn get_manifest(&self, reference: &Reference) -> Result<Option<Manifest>, Error> {
        let repo = self.repo;
        store::get_manifest(self.store, repo, reference)
            .await
            .map_err(reg_err(format!("fetching {repo}@{reference}")))
    }

    /// Stores a manifest (layouts store it as a blob; the caller records index entries).
    pub async fn put_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<cosign_oci::PutManifest, Error> {
        let repo = self.repo;
        self.store
            .put_manifest(repo, reference, media_type, bytes)
            .await
            .map_err(reg_err(format!("pushing manifest {repo}:{reference}")))
    }
}

/// Copies one blob from `src` to `dst` (mounted within a registry, skipped when present).
pub async fn copy_blob(
    src: Endpoint<'_>,
    dst: Endpoint<'_>,
    desc: &Descriptor,
    progress: &dyn ProgressSink,
) -> Result<(), Error> {
    let digest = &desc.digest;
    let ctx = || {
        format!(
            "copying blob {digest} from {} to {}",
            src.name(),
            dst.name()
        )
    };
    let (srepo, drepo) = (src.repo, dst.repo);
    if src.same_store(&dst) {
        if srepo == drepo {
            return Ok(());
        }
        if srepo.registry() == drepo.registry()
            && dst
                .store
                .mount_blob(drepo, digest, srepo)
                .await
                .map_err(reg_err(ctx()))?
        {
            return Ok(());
        }
    }
    if dst.store.local_blob(digest).is_some() {
        return Ok(());
    }
    if desc.size <= IN_MEMORY_LIMIT {
        // Copies usually go to fresh repositories: fetch, then one POST that ends the upload
        // when the blob is there already (no HEAD first).
        let data = store::get_blob(src.store, srepo, digest, desc.size.max(1))
            .await
            .map_err(reg_err(ctx()))?;
        return dst
            .store
            .push_blob(drepo, digest, &data)
            .await
            .map_err(reg_err(ctx()));
    }
    if let Some(path) = src.store.local_blob(digest) {
        // A layout's blob file is uploaded as it is.
        let size = std::fs::metadata(&path)
            .map_err(|e| Error::io("reading", &path, e))?
            .len();
        if size != desc.size {
            return Err(Error::Verification(format!(
                "blob {digest} in {} is {size} bytes, its manifest says {}",
                src.name(),
                desc.size
            )));
        }
        let p = progress.start(&format!("{digest}"), desc.size);
        return dst
            .store
            .push_blob_from_file(drepo, digest, desc.size, &path, p)
            .await
            .map_err(reg_err(ctx()));
    }
    if dst
        .store
        .blob_exists(drepo, digest)
        .await
        .map_err(reg_err(ctx()))?
        .is_some()
    {
        return Ok(());
    }
    let mut tmp = dst.store.staging_file()?;
    let p = progress.start(&format!("{digest}"), desc.size);
    src.store
        .get_blob_to_writer(srepo, digest, desc.size, tmp.as_file_mut(), p)
        .await
        .map_err(reg_err(ctx()))?;
    dst.store
        .store_staged(drepo, digest, desc.size, tmp)
        .await
        .map_err(reg_err(ctx()))
}

/// What a manifest points at: its blobs, and (indexes) its child manifests.
pub fn children(manifest: &Manifest) -> Result<(Vec<Descriptor>, Vec<Descriptor>), Error> {
    if manifest.is_index() {
        let index = ImageIndex::from_json(&manifest.bytes)
            .map_err(|e| Error::format(format!("parsing index {}", manifest.digest), e))?;
        Ok((Vec::new(), index.manifests))
    } else {
        let m = ImageManifest::from_json(&manifest.bytes)
            .map_err(|e| Error::format(format!("parsing manifest {}", manifest.digest), e))?;
        let mut blobs = vec![m.config];
        blobs.extend(m.layers);
        Ok((blobs, Vec::new()))
    }
}

/// Copies everything `manifest` needs (child manifests of an index, each with its blobs; the
/// blobs of an image) from `src` to `dst`, but not `manifest` itself. Child manifests are
/// stored by digest.
pub fn copy_contents<'a>(
    src: Endpoint<'a>,
    dst: Endpoint<'a>,
    manifest: &'a Manifest,
    progress: &'a dyn ProgressSink,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>> {
    Box::pin(async move {
        if depth > MAX_DEPTH {
            return Err(Error::Verification(format!(
                "{} nests indexes deeper than {MAX_DEPTH} levels",
                manifest.digest
            )));
        }
        let (blobs, manifests) = children(manifest)?;
        let mut seen = HashSet::new();
        let blobs: Vec<Descriptor> = blobs
            .into_iter()
            .filter(|b| seen.insert(b.digest.clone()))
            .collect();
        stream::iter(blobs.iter())
            .map(|b| copy_blob(src, dst, b, progress))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        stream::iter(manifests.iter())
            .map(|child| async move {
                let m = fetch_manifest(src, &child.digest).await?;
                copy_contents(src, dst, &m, progress, depth + 1).await?;
                dst.put_manifest(
                    &Reference::Digest(m.digest.clone()),
                    &m.media_type,
                    &m.bytes,
                )
                .await?;
                Ok::<_, Error>(())
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    })
}

/// Fetches a manifest that must exist.
pub async fn fetch_manifest(src: Endpoint<'_>, digest: &Digest) -> Result<Manifest, Error> {
    src.get_manifest(&Reference::Digest(digest.clone()))
        .await?
        .ok_or_else(|| Error::ImageNotFound(format!("{}@{digest}", src.name())))
}

/// Copies a manifest with everything it needs, then stores it at `reference` in `dst`.
pub async fn copy_manifest(
    src: Endpoint<'_>,
    dst: Endpoint<'_>,
    manifest: &Manifest,
    reference: &Reference,
    progress: &dyn ProgressSink,
) -> Result<cosign_oci::PutManifest, Error> {
    copy_contents(src, dst, manifest, progress, 0).await?;
    dst.put_manifest(reference, &manifest.media_type, &manifest.bytes)
        .await
}

/// Manifests to store in one registry repository, each under its reference, with the blobs
/// they need: the batch behind `copy` and `load`. The image (`first`: its children and
/// blobs, then itself) moves at the same time as everything else: attachment images
/// (`rest`) and referrers (fetched here, stored by digest). Each attachment or referrer is a
/// pipeline of its own (fetch, blobs, manifest), [`PIPELINES`] at once, so manifests are
/// stored while other blobs still move; distinct blobs are copied once. Subjects whose
/// referrers the registry did not index get their fallback index in one update each.
pub struct Batch<'a> {
    /// The image: stored with its contents.
    pub first: Option<(Endpoint<'a>, Manifest, Reference)>,
    /// Attachment images, stored in parallel.
    pub rest: Vec<(Endpoint<'a>, Manifest, Reference)>,
    /// Referrers: (source, listed descriptor, subject), stored by digest.
    pub referrers: Vec<(Endpoint<'a>, Descriptor, Digest)>,
    /// Whether the destination has the referrers API, when already known (else it is asked
    /// once referrers are stored, unless a PUT answered with `OCI-Subject`).
    pub referrers_api: Option<bool>,
}

/// Blobs copied (or being copied) in one batch: each distinct digest moves once, and a
/// manifest that needs a blob another manifest is copying waits for that copy.
#[derive(Default)]
struct BlobsOnce {
    cells: std::sync::Mutex<HashMap<Digest, Arc<OnceCell<()>>>>,
}

impl BlobsOnce {
    async fn copy(
        &self,
        src: Endpoint<'_>,
        dst: Endpoint<'_>,
        desc: &Descriptor,
        progress: &dyn ProgressSink,
    ) -> Result<(), Error> {
        let cell = {
            // A poisoned map only means another copy panicked; the map itself is intact.
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(cells.entry(desc.digest.clone()).or_default())
        };
        // A failed copy leaves the cell empty: the next manifest needing the blob tries again.
        cell.get_or_try_init(|| copy_blob(src, dst, desc, progress))
            .await
            .map(|_| ())
    }

    /// Copies everything `m` needs (its blobs; an index's child manifests) to `dst`.
    async fn copy_contents(
        &self,
        src: Endpoint<'_>,
        dst: Endpoint<'_>,
        m: &Manifest,
        progress: &dyn ProgressSink,
    ) -> Result<(), Error> {
        let (blobs, nested) = children(m)?;
        if !nested.is_empty() {
            return copy_contents(src, dst, m, progress, 1).await;
        }
        futures_util::future::try_join_all(blobs.iter().map(|d| self.copy(src, dst, d, progress)))
            .await?;
        Ok(())
    }
}

/// Runs a [`Batch`] into `dst_repo` of `reg`.
pub async fn run_batch(
    reg: &dyn Store,
    dst_repo: &Repository,
    batch: &Batch<'_>,
    progress: &dyn ProgressSink,
) -> Result<(), Error> {
    let dst = Endpoint::new(reg, dst_repo);
    let image = async {
        if let Some((src, m, r)) = &batch.first {
            copy_contents(*src, dst, m, progress, 0).await?;
            dst.put_manifest(r, &m.media_type, &m.bytes).await?;
        }
        Ok::<_, Error>(())
    };
    let blobs = BlobsOnce::default();
    let blobs = &blobs;
    let attachments = async {
        // Both kinds in one stream: Left for attachment images, Right for referrers.
        let rest = stream::iter(batch.rest.iter()).map(|(src, m, r)| {
            Either::Left(async move {
                blobs.copy_contents(*src, dst, m, progress).await?;
                dst.put_manifest(r, &m.media_type, &m.bytes).await?;
                Ok::<_, Error>(None)
            })
        });
        let referrers = stream::iter(batch.referrers.iter()).map(|(src, listed, subject)| {
            Either::Right(async move {
                let m = fetch_manifest(*src, &listed.digest).await?;
                blobs.copy_contents(*src, dst, &m, progress).await?;
                let put = dst
                    .put_manifest(
                        &Reference::Digest(m.digest.clone()),
                        &m.media_type,
                        &m.bytes,
                    )
                    .await?;
                let indexed = put.oci_subject.is_some();
                Ok::<_, Error>(Some((subject, fallback_entry(listed, &m), indexed)))
            })
        });
        let stored: Vec<Option<(&Digest, Descriptor, bool)>> = rest
            .chain(referrers)
            .buffer_unordered(PIPELINES)
            .try_collect()
            .await?;
        // Fallback index entries (manifests are copied byte for byte: same digests), written
        // after the manifests they list (distribution checks that they exist). A registry
        // that answered a referrer's PUT with OCI-Subject indexes referrers itself.
        let mut by_subject: BTreeMap<String, (&Digest, bool, Vec<Descriptor>)> = BTreeMap::new();
        for (subject, entry, indexed) in stored.into_iter().flatten() {
            let e = by_subject
                .entry(subject.to_string())
                .or_insert_with(|| (subject, false, Vec::new()));
            e.1 |= indexed;
            e.2.push(entry);
        }
        for (subject, indexed, mut entries) in by_subject.into_values() {
            if indexed {
                continue;
            }
            let has_api = match batch.referrers_api {
                Some(known) => known,
                None => reg
                    .referrers(dst_repo, subject, None)
                    .await
                    .map_err(reg_err(format!("probing the referrers API of {dst_repo}")))?
                    .is_some(),
            };
            if has_api {
                continue;
            }
            entries.sort_by_key(|d| d.digest.to_string());
            append_fallback_entries(reg, dst_repo, subject, &entries).await?;
        }
        Ok::<_, Error>(())
    };
    futures_util::future::try_join(image, attachments).await?;
    Ok(())
}

/// The fallback index entry for a referrer manifest: media type, size, digest, artifact type
/// (the manifest's, else its config media type) and its annotations.
pub fn fallback_entry(listed: &Descriptor, m: &Manifest) -> Descriptor {
    let mut d = Descriptor::new(m.media_type.clone(), m.bytes.len() as u64, m.digest.clone());
    let parsed = ImageManifest::from_json(&m.bytes).ok();
    d.artifact_type = listed.artifact_type.clone().or_else(|| {
        parsed.as_ref().and_then(|p| {
            p.artifact_type
                .clone()
                .or(Some(p.config.media_type.clone()))
        })
    });
    d.annotations = if listed.annotations.is_empty() {
        parsed.map(|p| p.annotations).unwrap_or_default()
    } else {
        listed.annotations.clone()
    };
    d
}

/// Pushes a referrer manifest (its blobs already pushed) by digest and, when the registry has
/// no referrers API, records it in the fallback index.
pub async fn publish_referrer(
    reg: &dyn Store,
    repo: &Repository,
    subject: &Digest,
    manifest: &ImageManifest,
) -> Result<Digest, Error> {
    let body = manifest.to_json();
    let digest = cosign_crypto::hash(HashAlgorithm::Sha256, &body);
    let put = reg
        .put_manifest(
            repo,
            &Reference::Digest(digest.clone()),
            OCI_MANIFEST_MEDIA_TYPE,
            &body,
        )
        .await
        .map_err(reg_err(format!("pushing referrer manifest to {repo}")))?;
    if put.oci_subject.is_some() {
        return Ok(digest);
    }
    let api = reg
        .referrers(repo, subject, None)
        .await
        .map_err(reg_err(format!("probing the referrers API of {repo}")))?;
    if api.is_some() {
        return Ok(digest);
    }
    let mut entry = Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, body.len() as u64, digest.clone());
    entry.artifact_type = manifest
        .artifact_type
        .clone()
        .or_else(|| Some(manifest.config.media_type.clone()));
    entry.annotations = manifest.annotations.clone();
    append_fallback_entries(reg, repo, subject, std::slice::from_ref(&entry)).await?;
    Ok(digest)
}

/// Annotations of a manifest (empty when it does not parse).
pub fn manifest_annotations(m: &Manifest) -> BTreeMap<String, String> {
    ImageManifest::from_json(&m.bytes)
        .map(|p| p.annotations)
        .unwrap_or_default()
}

/// Refuses manifests larger than registries accept.
pub fn check_manifest_size(len: usize, what: &str) -> Result<(), Error> {
    if len as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::Verification(format!(
            "{what} is {len} bytes, over the manifest limit of {MAX_MANIFEST_BYTES} bytes"
        )));
    }
    Ok(())
}
