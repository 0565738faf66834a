//! What the image flows ask of a registry or an OCI image layout: the [`Store`] trait.
//!
//! Every flow that reads or writes manifests and blobs goes through a `&dyn Store`: the
//! registry client ([`cosign_oci::Registry`], the repository named per call as the client
//! does), a saved layout ([`super::layout::Layout`], which ignores the repository), or a fake
//! in tests. A `&Registry` or `&Layout` argument coerces to `&dyn Store` at call sites.
//!
//! Stores are not trusted: [`get_manifest`] and [`get_blob`] check what a store answered
//! (sizes, digests) before the flows use it, whatever the store did itself.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use cosign_oci::{Manifest, OciError, Progress, PutManifest, Reference, Registry, Repository};
use cosign_types::Digest;
use cosign_types::oci::{Descriptor, ImageIndex, MAX_MANIFEST_BYTES};

use crate::Error;

/// The future a [`Store`] call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + 'a>>;

/// Why a store call failed: a registry error (the flow names what it was doing), or an error
/// that already says so (layouts, fakes).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The registry client's error.
    #[error(transparent)]
    Registry(#[from] OciError),
    /// Any other failure, complete with its context.
    #[error(transparent)]
    Other(#[from] Error),
}

impl StoreError {
    /// The flow's error: registry errors get `context` (what was being done).
    pub fn into_error(self, context: impl Into<String>) -> Error {
        match self {
            Self::Registry(e) => Error::registry(context, e),
            Self::Other(e) => e,
        }
    }
}

/// A registry or an image layout, as the flows use it. Manifests and blobs are addressed by
/// repository and reference (tag or digest); stores that hold one image (layouts) ignore the
/// repository.
pub trait Store: Send + Sync {
    /// How errors and messages name `repo` in this store.
    fn name(&self, repo: &Repository) -> String;

    /// The descriptor of a manifest (HEAD), None when missing.
    fn head_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Descriptor>>;

    /// A manifest by tag or digest, None when missing. Callers check the bytes with
    /// [`get_manifest`].
    fn get_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Manifest>>;

    /// Stores a manifest at `reference` (layouts store it as a blob; the caller records
    /// `index.json` entries).
    fn put_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
        media_type: &'a str,
        bytes: &'a [u8],
    ) -> StoreFuture<'a, PutManifest>;

    /// Deletes a manifest; false when it was not there.
    fn delete_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, bool>;

    /// A blob's size when present, None when missing.
    fn blob_exists<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
    ) -> StoreFuture<'a, Option<u64>>;

    /// A blob of at most `max_size` bytes. Callers check the bytes with [`get_blob`].
    fn get_blob<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        max_size: u64,
    ) -> StoreFuture<'a, Vec<u8>>;

    /// Stores a blob unless the store has it already.
    fn push_blob<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        data: &'a [u8],
    ) -> StoreFuture<'a, ()>;

    /// Mounts a blob from another repository of the same registry without moving data;
    /// false when the store cannot (then the caller copies it).
    fn mount_blob<'a>(
        &'a self,
        _repo: &'a Repository,
        _digest: &'a Digest,
        _from: &'a Repository,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }

    /// Writes a blob of at most `max_size` bytes to `out` as it arrives. The store must check
    /// the digest (an error after the bytes were written: write to a temporary place).
    fn get_blob_to_writer<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        max_size: u64,
        out: &'a mut dyn Write,
        _progress: Option<Progress>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let data = get_blob(self, repo, digest, max_size).await?;
            out.write_all(&data)
                .map_err(|e| Error::io("writing", "a temporary file", e))?;
            Ok(())
        })
    }

    /// Stores the file at `path` (`size` bytes, hashing to `digest`) as a blob.
    fn push_blob_from_file<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        size: u64,
        path: &'a Path,
        _progress: Option<Progress>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let data = crate::fsutil::read_small_file(path, "blob", size)?;
            self.push_blob(repo, digest, &data).await
        })
    }

    /// The referrers of `subject` (OCI 1.1 API), or None when the store has no referrers API.
    fn referrers<'a>(
        &'a self,
        repo: &'a Repository,
        subject: &'a Digest,
        artifact_type: Option<&'a str>,
    ) -> StoreFuture<'a, Option<ImageIndex>>;

    /// The file holding blob `digest`, for stores that keep blobs as files (layouts): large
    /// transfers stream from it, and a present blob is not fetched again. None otherwise.
    fn local_blob(&self, _digest: &Digest) -> Option<PathBuf> {
        None
    }

    /// A temporary file to receive a large blob bound for this store (layouts: beside their
    /// blobs, so that [`Store::store_staged`] is a rename).
    fn staging_file(&self) -> Result<tempfile::NamedTempFile, Error> {
        tempfile::NamedTempFile::new().map_err(|e| Error::io("creating", "a temporary file", e))
    }

    /// Stores a fully written, digest-checked file from [`Store::staging_file`] as `digest`.
    fn store_staged<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        size: u64,
        file: tempfile::NamedTempFile,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.push_blob_from_file(repo, digest, size, file.path(), None)
                .await
        })
    }
}

/// Fetches a manifest and checks it: at most [`MAX_MANIFEST_BYTES`], its bytes hash to its
/// digest, and that digest is the one asked for (by digest). Map registry errors with the
/// flow's context ([`StoreError::into_error`]).
pub async fn get_manifest(
    store: &(impl Store + ?Sized),
    repo: &Repository,
    reference: &Reference,
) -> Result<Option<Manifest>, StoreError> {
    let Some(m) = store.get_manifest(repo, reference).await? else {
        return Ok(None);
    };
    let name = || format!("{}@{reference}", store.name(repo));
    if m.bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::Verification(format!(
            "manifest {} is {} bytes, over the limit of {MAX_MANIFEST_BYTES} bytes",
            name(),
            m.bytes.len()
        ))
        .into());
    }
    let got = cosign_crypto::hash(m.digest.algorithm(), &m.bytes);
    if got != m.digest {
        return Err(Error::Verification(format!(
            "manifest {} does not match its digest {}: it hashes to {got}",
            name(),
            m.digest
        ))
        .into());
    }
    if let Reference::Digest(want) = reference
        && want != &m.digest
    {
        return Err(Error::Verification(format!(
            "asked for manifest {}, got {}",
            name(),
            m.digest
        ))
        .into());
    }
    Ok(Some(m))
}

/// Fetches a blob of at most `max_size` bytes and checks its size and digest. Map registry
/// errors with the flow's context ([`StoreError::into_error`]).
pub async fn get_blob(
    store: &(impl Store + ?Sized),
    repo: &Repository,
    digest: &Digest,
    max_size: u64,
) -> Result<Vec<u8>, StoreError> {
    let data = store.get_blob(repo, digest, max_size).await?;
    check_blob(store, repo, digest, max_size, &data)?;
    Ok(data)
}

fn check_blob(
    store: &(impl Store + ?Sized),
    repo: &Repository,
    digest: &Digest,
    max_size: u64,
    data: &[u8],
) -> Result<(), Error> {
    if data.len() as u64 > max_size {
        return Err(Error::Verification(format!(
            "blob {}@{digest} is {} bytes, over the limit of {max_size} bytes",
            store.name(repo),
            data.len()
        )));
    }
    let got = cosign_crypto::hash(digest.algorithm(), data);
    if &got != digest {
        return Err(Error::Verification(format!(
            "blob {}@{digest} does not match its digest: it hashes to {got}",
            store.name(repo)
        )));
    }
    Ok(())
}

impl Store for Registry {
    fn name(&self, repo: &Repository) -> String {
        repo.name()
    }

    fn head_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Descriptor>> {
        Box::pin(async move { Ok(Registry::head_manifest(self, repo, reference).await?) })
    }

    fn get_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Manifest>> {
        Box::pin(async move { Ok(Registry::get_manifest(self, repo, reference).await?) })
    }

    fn put_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
        media_type: &'a str,
        bytes: &'a [u8],
    ) -> StoreFuture<'a, PutManifest> {
        Box::pin(async move {
            Ok(Registry::put_manifest(self, repo, reference, media_type, bytes).await?)
        })
    }

    fn delete_manifest<'a>(
        &'a self,
        repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(Registry::delete_manifest(self, repo, reference).await?) })
    }

    fn blob_exists<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
    ) -> StoreFuture<'a, Option<u64>> {
        Box::pin(async move { Ok(Registry::blob_exists(self, repo, digest).await?) })
    }

    fn get_blob<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        max_size: u64,
    ) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move { Ok(Registry::get_blob(self, repo, digest, max_size).await?) })
    }

    fn push_blob<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        data: &'a [u8],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(Registry::push_blob_if_missing(self, repo, digest, data).await?) })
    }

    fn mount_blob<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        from: &'a Repository,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(Registry::mount_blob(self, repo, digest, from).await?) })
    }

    fn get_blob_to_writer<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        max_size: u64,
        out: &'a mut dyn Write,
        progress: Option<Progress>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            Registry::get_blob_to_writer(self, repo, digest, max_size, out, progress).await?;
            Ok(())
        })
    }

    fn push_blob_from_file<'a>(
        &'a self,
        repo: &'a Repository,
        digest: &'a Digest,
        size: u64,
        path: &'a Path,
        progress: Option<Progress>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            Ok(
                Registry::push_blob_from_file(self, repo, digest, size, path, None, progress)
                    .await?,
            )
        })
    }

    fn referrers<'a>(
        &'a self,
        repo: &'a Repository,
        subject: &'a Digest,
        artifact_type: Option<&'a str>,
    ) -> StoreFuture<'a, Option<ImageIndex>> {
        Box::pin(async move { Ok(Registry::referrers(self, repo, subject, artifact_type).await?) })
    }
}
