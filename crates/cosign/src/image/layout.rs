//! `cosign save` / `cosign load` and `--local-image`: an image with its signatures,
//! attestations, SBOMs and referrers in an OCI image layout directory (contract 2.13).
//!
//! Layout: `oci-layout`, `index.json`, `blobs/sha256/<hex>`. `index.json` lists the image (or
//! index) with annotation `kind: dev.cosignproject.cosign/image` (`.../imageIndex`), and the
//! legacy attachment images with `kind: dev.cosignproject.cosign/sigs` / `.../atts` (and
//! `.../sboms`, an extension cosign's loader ignores). Each entry also carries
//! `org.opencontainers.image.ref.name` (the image's tag; `sha256-<hex>.sig` for attachments)
//! so skopeo's `oci:DIR:NAME` transport can name it. Referrer manifests are written as blobs
//! only, as cosign does; readers find them by scanning `blobs/sha256` for manifests whose
//! `subject` is the image.
//!
//! Reading is as careful as reading a registry: `index.json` and manifests are size-capped,
//! every blob read is checked against its digest, and attachment layers are capped before
//! they are read.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cosign_oci::{ImageRef, Manifest, PutManifest, Reference, Repository};
use cosign_types::annotations::{
    KIND_ANNOTATION, KIND_ATTESTATIONS, KIND_IMAGE, KIND_IMAGE_INDEX, KIND_SIGNATURES,
};
use cosign_types::media_types::OCI_INDEX_MEDIA_TYPE;
use cosign_types::oci::{
    Descriptor, ImageIndex, ImageManifest, MAX_MANIFEST_BYTES, declared_media_type,
    is_index_media_type,
};
use cosign_types::{Digest, HashAlgorithm};

use super::storage::{AttachmentKind, Storage, list_referrers};
use super::store::{Store, StoreError, StoreFuture};
use super::transfer::{
    Batch, CONCURRENCY, Endpoint, ProgressSink, copy_manifest, fetch_manifest, run_batch,
};
use super::{Event, Reporter, Resolved, resolve};
use crate::Error;

/// `index.json` annotation naming an entry (OCI image-spec), read by skopeo's `oci:` transport.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// [`KIND_ANNOTATION`] value of saved `.sbom` images (not written by Go cosign).
pub const KIND_SBOMS: &str = "dev.cosignproject.cosign/sboms";

const OCI_LAYOUT_FILE: &str = "oci-layout";
const OCI_LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Most referrer manifests considered in one layout.
const MAX_REFERRERS: usize = 1000;

fn kind_value(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Signature => KIND_SIGNATURES,
        AttachmentKind::Attestation => KIND_ATTESTATIONS,
        AttachmentKind::Sbom => KIND_SBOMS,
    }
}

/// An OCI image layout directory.
#[derive(Debug)]
pub struct Layout {
    dir: PathBuf,
    index: ImageIndex,
}

impl Layout {
    /// Opens an existing layout (reads `oci-layout` and `index.json`).
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let marker = dir.join(OCI_LAYOUT_FILE);
        if !marker.is_file() {
            return Err(Error::Invalid {
                what: dir.display().to_string(),
                reason: format!(
                    "not an OCI image layout (no {OCI_LAYOUT_FILE} file): write one with cosign save"
                ),
            });
        }
        let path = dir.join("index.json");
        let bytes = crate::fsutil::read_small_file(&path, "index.json", MAX_MANIFEST_BYTES)?;
        let index = ImageIndex::from_json(&bytes)
            .map_err(|e| Error::format(format!("parsing {}", path.display()), e))?;
        Ok(Self {
            dir: dir.to_owned(),
            index,
        })
    }

    /// Creates (or reuses) `dir` as an empty layout: `oci-layout`, an empty `index.json`,
    /// `blobs/sha256/`.
    pub fn create(dir: &Path) -> Result<Self, Error> {
        fs::create_dir_all(dir.join("blobs").join("sha256"))
            .map_err(|e| Error::io("creating", dir, e))?;
        crate::fsutil::write_atomic(&dir.join(OCI_LAYOUT_FILE), OCI_LAYOUT_CONTENT, 0o644)?;
        let layout = Self {
            dir: dir.to_owned(),
            index: ImageIndex::empty(),
        };
        layout.write_index()?;
        Ok(layout)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entries of `index.json`.
    pub fn entries(&self) -> &[Descriptor] {
        &self.index.manifests
    }

    fn write_index(&self) -> Result<(), Error> {
        crate::fsutil::write_atomic(&self.dir.join("index.json"), &self.index.to_json(), 0o644)
    }

    /// Adds (or replaces, by `kind` and digest) an `index.json` entry and rewrites the file.
    pub fn add_entry(&mut self, desc: Descriptor) -> Result<(), Error> {
        let kind = desc.annotations.get(KIND_ANNOTATION).cloned();
        self.index.manifests.retain(|d| {
            d.digest != desc.digest
                && (kind.is_none() || d.annotations.get(KIND_ANNOTATION) != kind.as_ref())
        });
        self.index.manifests.push(desc);
        self.write_index()
    }

    /// `blobs/<alg>/<hex>`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// Whether the blob is present.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Reads a blob of at most `max` bytes, checking its digest.
    pub fn read_blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, Error> {
        let path = self.blob_path(digest);
        let file = fs::File::open(&path).map_err(|e| Error::io("reading", &path, e))?;
        let mut data = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut data)
            .map_err(|e| Error::io("reading", &path, e))?;
        if data.len() as u64 > max {
            return Err(Error::Verification(format!(
                "blob {} is larger than the limit of {max} bytes",
                path.display()
            )));
        }
        let got = cosign_crypto::hash(digest.algorithm(), &data);
        if &got != digest {
            return Err(Error::Verification(format!(
                "blob {} does not match its digest: it hashes to {got}",
                path.display()
            )));
        }
        Ok(data)
    }

    /// Writes a blob atomically (no-op when present).
    pub fn write_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), Error> {
        if self.has_blob(digest) {
            return Ok(());
        }
        crate::fsutil::write_atomic(&self.blob_path(digest), data, 0o644)
    }

    /// A temporary file beside the blobs, to stream a blob into.
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, Error> {
        let dir = self.dir.join("blobs").join("sha256");
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io("creating a temporary file in", dir, e))
    }

    /// Moves a fully written, digest-checked temporary file into place as `digest`.
    pub fn persist_blob(
        &self,
        mut tmp: tempfile::NamedTempFile,
        digest: &Digest,
    ) -> Result<(), Error> {
        let dest = self.blob_path(digest);
        tmp.as_file_mut()
            .flush()
            .map_err(|e| Error::io("writing", &dest, e))?;
        tmp.persist(&dest)
            .map_err(|e| Error::io("writing", &dest, e.error))?;
        Ok(())
    }

    /// Reads a manifest blob by digest (None when missing).
    pub fn manifest(&self, digest: &Digest) -> Result<Option<Manifest>, Error> {
        if !self.has_blob(digest) {
            return Ok(None);
        }
        let bytes = self.read_blob(digest, MAX_MANIFEST_BYTES)?;
        let media_type = self
            .index
            .manifests
            .iter()
            .find(|d| &d.digest == digest)
            .map(|d| d.media_type.clone())
            .filter(|m| !m.is_empty())
            .or_else(|| declared_media_type(&bytes))
            .unwrap_or_else(|| guess_media_type(&bytes));
        Ok(Some(Manifest {
            media_type,
            digest: digest.clone(),
            bytes,
        }))
    }

    /// The manifest of the `index.json` entry named `name` (`org.opencontainers.image.ref.name`).
    pub fn manifest_by_ref_name(&self, name: &str) -> Result<Option<Manifest>, Error> {
        let Some(d) = self
            .index
            .manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) == Some(name))
        else {
            return Ok(None);
        };
        self.manifest(&d.digest.clone())
    }

    /// The saved image: the entry of kind image or imageIndex, else the only entry.
    pub fn image_entry(&self) -> Result<&Descriptor, Error> {
        let kinded = self.index.manifests.iter().find(|d| {
            matches!(
                d.annotations.get(KIND_ANNOTATION).map(String::as_str),
                Some(KIND_IMAGE | KIND_IMAGE_INDEX)
            )
        });
        match (kinded, self.index.manifests.as_slice()) {
            (Some(d), _) => Ok(d),
            (None, [only]) => Ok(only),
            _ => Err(Error::Invalid {
                what: self.dir.display().to_string(),
                reason: format!(
                    "index.json names no image (no entry of kind {KIND_IMAGE} or {KIND_IMAGE_INDEX})"
                ),
            }),
        }
    }

    /// The saved legacy attachment image of `subject` of `kind`.
    pub fn attachment_entry(&self, subject: &Digest, kind: AttachmentKind) -> Option<&Descriptor> {
        let tag = format!("{}.{}", subject.tag_form(), kind.suffix());
        let image = self.image_entry().ok().map(|d| d.digest.clone());
        self.index.manifests.iter().find(|d| {
            d.annotations.get(KIND_ANNOTATION).map(String::as_str) == Some(kind_value(kind))
                && match d.annotations.get(REF_NAME_ANNOTATION) {
                    Some(name) => name == &tag,
                    // Go cosign names no tag: its attachments belong to the saved image.
                    None => image.as_ref() == Some(subject),
                }
        })
    }

    /// Referrer manifests in `blobs/` whose `subject` is `subject` (at most 1000).
    pub fn referrers(&self, subject: &Digest) -> Result<Vec<(Descriptor, ImageManifest)>, Error> {
        let dir = self.dir.join("blobs").join("sha256");
        let rd = fs::read_dir(&dir).map_err(|e| Error::io("reading", &dir, e))?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("reading", &dir, e))?;
            let name = entry.file_name();
            let Some(hex) = name.to_str() else { continue };
            let Ok(digest) = Digest::from_hex(HashAlgorithm::Sha256, hex) else {
                continue;
            };
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES || meta.len() < 2 {
                continue;
            }
            let mut head = [0u8; 1];
            let Ok(mut f) = fs::File::open(entry.path()) else {
                continue;
            };
            if f.read_exact(&mut head).is_err() || head[0] != b'{' {
                continue;
            }
            let Ok(bytes) = self.read_blob(&digest, MAX_MANIFEST_BYTES) else {
                continue;
            };
            let Ok(m) = ImageManifest::from_json(&bytes) else {
                continue;
            };
            if m.subject.as_ref().is_none_or(|s| &s.digest != subject) {
                continue;
            }
            let mut d = Descriptor::new(
                if m.media_type.is_empty() {
                    cosign_types::media_types::OCI_MANIFEST_MEDIA_TYPE.to_owned()
                } else {
                    m.media_type.clone()
                },
                bytes.len() as u64,
                digest,
            );
            d.artifact_type = m
                .artifact_type
                .clone()
                .or_else(|| Some(m.config.media_type.clone()));
            d.annotations = m.annotations.clone();
            out.push((d, m));
            if out.len() > MAX_REFERRERS {
                return Err(Error::Verification(format!(
                    "{} holds more than {MAX_REFERRERS} referrers of {subject}",
                    self.dir.display()
                )));
            }
        }
        out.sort_by_key(|(d, _)| d.digest.to_string());
        Ok(out)
    }

    /// The manifest a tag names: a legacy attachment tag (`[prefix]sha256-<hex>.sig|.att|.sbom`)
    /// names the saved attachment image of that kind ([`Layout::attachment_entry`]), any
    /// other tag the entry of that `org.opencontainers.image.ref.name`. An entry whose blob is
    /// missing is an error.
    pub fn manifest_by_tag(&self, tag: &str) -> Result<Option<Manifest>, Error> {
        let Some((subject, kind)) = attachment_tag(tag) else {
            return self.manifest_by_ref_name(tag);
        };
        let Some(entry) = self.attachment_entry(&subject, kind) else {
            return Ok(None);
        };
        match self.manifest(&entry.digest)? {
            Some(m) => Ok(Some(m)),
            None => Err(Error::Verification(format!(
                "{}: index.json names {} but its blob is missing",
                self.dir.display(),
                entry.digest
            ))),
        }
    }

    /// The saved image as a resolved reference (for verifying from the layout). The name is
    /// the directory (`local/<dir name>`) since a layout keeps no registry name.
    pub fn resolved(&self) -> Result<Resolved, Error> {
        let entry = self.image_entry()?.clone();
        let name = self
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| {
                n.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect::<String>()
            })
            .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "image".to_owned());
        let given = ImageRef::parse(&format!("local/{name}@{}", entry.digest))
            .map_err(|e| Error::format("naming the saved image", e))?;
        Ok(Resolved {
            given: given.clone(),
            digest_ref: given,
            digest: entry.digest.clone(),
            descriptor: Some(entry),
        })
    }
}

/// The subject and kind of a legacy attachment tag `[prefix]sha256-<hex>.<suffix>` (the prefix
/// is ignored: a layout keeps one attachment image of each kind per subject).
fn attachment_tag(tag: &str) -> Option<(Digest, AttachmentKind)> {
    const FORM_LEN: usize = "sha256-".len() + 64;
    [
        AttachmentKind::Signature,
        AttachmentKind::Attestation,
        AttachmentKind::Sbom,
    ]
    .into_iter()
    .find_map(|kind| {
        let stem = tag.strip_suffix(kind.suffix())?.strip_suffix('.')?;
        let form = stem.get(stem.len().checked_sub(FORM_LEN)?..)?;
        let hex = form.strip_prefix("sha256-")?;
        let digest = Digest::from_hex(HashAlgorithm::Sha256, hex).ok()?;
        Some((digest, kind))
    })
}

/// A layout as a [`Store`]: one image and its attachments, addressed by digest (manifests and
/// blobs) or tag ([`Layout::manifest_by_tag`]); the repository is ignored. Referrers are the
/// manifests in `blobs/` whose `subject` is the image (as if the layout had the referrers API).
/// Manifests are stored as blobs; `index.json` entries are the caller's.
impl Store for Layout {
    fn name(&self, _repo: &Repository) -> String {
        self.dir.display().to_string()
    }

    fn head_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Descriptor>> {
        Box::pin(async move {
            let m = self.get_manifest(repo, reference).await?;
            Ok(m.map(|m| m.descriptor()))
        })
    }

    fn get_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Manifest>> {
        Box::pin(async move {
            Ok(match reference {
                Reference::Digest(d) => self.manifest(d)?,
                Reference::Tag(t) => self.manifest_by_tag(t)?,
            })
        })
    }

    fn put_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
        _media_type: &'a str,
        bytes: &'a [u8],
    ) -> StoreFuture<'a, PutManifest> {
        Box::pin(async move {
            let digest = cosign_crypto::hash(HashAlgorithm::Sha256, bytes);
            if let Reference::Digest(d) = reference
                && d != &digest
            {
                return Err(Error::Verification(format!(
                    "manifest stored as {d} hashes to {digest}"
                ))
                .into());
            }
            self.write_blob(&digest, bytes)?;
            Ok(PutManifest {
                digest,
                oci_subject: None,
            })
        })
    }

    fn delete_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        _reference: &'a Reference,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            Err(Error::Invalid {
                what: self.dir.display().to_string(),
                reason: "deleting from an image layout is not supported".into(),
            }
            .into())
        })
    }

    fn blob_exists<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
    ) -> StoreFuture<'a, Option<u64>> {
        Box::pin(async move {
            let path = self.blob_path(digest);
            Ok(match fs::metadata(&path) {
                Ok(m) if m.is_file() => Some(m.len()),
                Ok(_) => None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io("reading", &path, e).into()),
            })
        })
    }

    fn get_blob<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
        max_size: u64,
    ) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move { Ok(self.read_blob(digest, max_size)?) })
    }

    fn push_blob<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
        data: &'a [u8],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let got = cosign_crypto::hash(digest.algorithm(), data);
            if &got != digest {
                return Err(StoreError::Other(Error::Verification(format!(
                    "blob {digest} to store in {} hashes to {got}",
                    self.dir.display()
                ))));
            }
            Ok(self.write_blob(digest, data)?)
        })
    }

    fn referrers<'a>(
        &'a self,
        _repo: &'a Repository,
        subject: &'a Digest,
        artifact_type: Option<&'a str>,
    ) -> StoreFuture<'a, Option<ImageIndex>> {
        Box::pin(async move {
            let mut index = ImageIndex::empty();
            index.manifests = Layout::referrers(self, subject)?
                .into_iter()
                .map(|(d, _)| d)
                .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
                .collect();
            Ok(Some(index))
        })
    }

    fn local_blob(&self, digest: &Digest) -> Option<PathBuf> {
        self.has_blob(digest).then(|| self.blob_path(digest))
    }

    fn staging_file(&self) -> Result<tempfile::NamedTempFile, Error> {
        self.temp_file()
    }

    fn store_staged<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
        _size: u64,
        file: tempfile::NamedTempFile,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.persist_blob(file, digest)?) })
    }
}

fn guess_media_type(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        manifests: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe { manifests: Some(_) }) => OCI_INDEX_MEDIA_TYPE.to_owned(),
        _ => cosign_types::media_types::OCI_MANIFEST_MEDIA_TYPE.to_owned(),
    }
}

/// What `save` wrote.
#[derive(Clone, Debug, Default)]
pub struct SaveSummary {
    /// The saved image's digest.
    pub digest: Option<Digest>,
    /// Legacy attachment images saved.
    pub attachments: usize,
    /// Referrer manifests saved.
    pub referrers: usize,
}

/// `cosign save`: writes `image`, its legacy `.sig`/`.att`/`.sbom` images and its referrers
/// (any artifact type) to an OCI image layout at `dir`.
pub async fn save(
    reg: &dyn Store,
    image: &ImageRef,
    storage: &Storage,
    dir: &Path,
    progress: &dyn ProgressSink,
) -> Result<SaveSummary, Error> {
    let resolved = resolve(reg, image, true).await?;
    let repo = image.repository();
    let src = Endpoint::new(reg, repo);
    let manifest = fetch_manifest(src, &resolved.digest).await?;
    let mut layout = Layout::create(dir)?;
    let mut summary = SaveSummary {
        digest: Some(resolved.digest.clone()),
        ..SaveSummary::default()
    };
    {
        let dst = Endpoint::new(&layout, repo);
        copy_manifest(
            src,
            dst,
            &manifest,
            &Reference::Digest(manifest.digest.clone()),
            progress,
        )
        .await?;
    }
    let kind = if manifest.is_index() {
        KIND_IMAGE_INDEX
    } else {
        KIND_IMAGE
    };
    let mut entry = manifest.descriptor();
    entry
        .annotations
        .insert(KIND_ANNOTATION.to_owned(), kind.to_owned());
    entry.annotations.insert(
        REF_NAME_ANNOTATION.to_owned(),
        image
            .tag()
            .map_or_else(|| resolved.digest.tag_form(), str::to_owned),
    );
    layout.add_entry(entry)?;

    // Legacy attachments of the image.
    let att_repo = storage.target_repo(repo);
    let att_src = Endpoint::new(reg, &att_repo);
    for kind in [
        AttachmentKind::Signature,
        AttachmentKind::Attestation,
        AttachmentKind::Sbom,
    ] {
        let tag = storage.tag(&resolved.digest, kind);
        let Some(m) = att_src.get_manifest(&Reference::Tag(tag.clone())).await? else {
            continue;
        };
        copy_manifest(
            att_src,
            Endpoint::new(&layout, repo),
            &m,
            &Reference::Digest(m.digest.clone()),
            progress,
        )
        .await?;
        let mut entry = m.descriptor();
        entry
            .annotations
            .insert(KIND_ANNOTATION.to_owned(), kind_value(kind).to_owned());
        entry.annotations.insert(
            REF_NAME_ANNOTATION.to_owned(),
            format!("{}.{}", resolved.digest.tag_form(), kind.suffix()),
        );
        layout.add_entry(entry)?;
        summary.attachments += 1;
    }

    // Referrers (any artifact type), as blobs only.
    let referrers = list_referrers(reg, storage, repo, &resolved.digest, "").await?;
    let dst = Endpoint::new(&layout, repo);
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    summary.referrers = stream::iter(referrers.iter())
        .map(|r| async move {
            let m = fetch_manifest(att_src, &r.digest).await?;
            copy_manifest(
                att_src,
                dst,
                &m,
                &Reference::Digest(m.digest.clone()),
                progress,
            )
            .await?;
            Ok::<_, Error>(())
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?
        .len();
    Ok(summary)
}

/// What `load` pushed.
#[derive(Clone, Debug)]
pub struct LoadSummary {
    /// `repository@digest` of the loaded image.
    pub digest_ref: ImageRef,
    /// Legacy attachment images pushed.
    pub attachments: usize,
    /// Referrer manifests pushed.
    pub referrers: usize,
}

/// `cosign load`: pushes the layout's image to `image` (its tag, or by digest), its legacy
/// attachment images to their tags (computed for the destination repository) and its
/// referrer manifests by digest (with the fallback index where the registry has no
/// referrers API).
pub async fn load(
    reg: &dyn Store,
    image: &ImageRef,
    storage: &Storage,
    dir: &Path,
    progress: &dyn ProgressSink,
    reporter: &dyn Reporter,
) -> Result<LoadSummary, Error> {
    let layout = Layout::open(dir)?;
    let entry = layout.image_entry()?.clone();
    let repo = image.repository();
    let src = Endpoint::new(&layout, repo);
    let manifest = fetch_manifest(src, &entry.digest).await?;
    let dst = Endpoint::new(reg, repo);
    if let Some(d) = image.digest()
        && d != &manifest.digest
    {
        return Err(Error::Invalid {
            what: image.to_string(),
            reason: format!(
                "names digest {d} but {} holds {}",
                dir.display(),
                manifest.digest
            ),
        });
    }
    let reference = match image.tag() {
        Some(t) if image.digest().is_none() => Reference::Tag(t.to_owned()),
        _ => Reference::Digest(manifest.digest.clone()),
    };
    let mut summary = LoadSummary {
        digest_ref: image.with_digest(manifest.digest.clone()),
        attachments: 0,
        referrers: 0,
    };
    let att_repo = storage.target_repo(repo);
    let mut subjects = vec![manifest.digest.clone()];
    if is_index_media_type(&manifest.media_type) {
        let (_, children) = super::transfer::children(&manifest)?;
        subjects.extend(children.into_iter().map(|c| c.digest));
    }
    let mut batch = Batch {
        first: None,
        rest: Vec::new(),
        referrers: Vec::new(),
        referrers_api: None,
    };
    for subject in &subjects {
        for kind in [
            AttachmentKind::Signature,
            AttachmentKind::Attestation,
            AttachmentKind::Sbom,
        ] {
            let Some(e) = layout.attachment_entry(subject, kind) else {
                continue;
            };
            let m = fetch_manifest(src, &e.digest).await?;
            batch
                .rest
                .push((src, m, Reference::Tag(storage.tag(subject, kind))));
            summary.attachments += 1;
        }
        let referrers: Vec<Descriptor> = layout
            .referrers(subject)?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        summary.referrers += referrers.len();
        batch
            .referrers
            .extend(referrers.into_iter().map(|d| (src, d, subject.clone())));
    }
    if &att_repo == repo {
        batch.first = Some((src, manifest.clone(), reference));
        run_batch(reg, repo, &batch, progress).await?;
    } else {
        copy_manifest(src, dst, &manifest, &reference, progress).await?;
        run_batch(reg, &att_repo, &batch, progress).await?;
    }
    if summary.attachments + summary.referrers == 0 {
        reporter.event(Event::LayoutWithoutAttachments {
            dir: dir.to_owned(),
        });
    }
    Ok(summary)
}
