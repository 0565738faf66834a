//! Where verification reads an image and its attachments from: a registry, or an OCI image
//! layout written by `cosign save` (`--local-image`). The verify flows ask only three
//! questions (resolve the image, its legacy attachment layers, its referrer bundles), so one
//! source answers them for both.
//!
//! For another flow (e.g. `verify-attestation --local-image`): open the directory with
//! [`super::layout::Layout::open`], take `ImageSource::Layout(&layout)`, and call
//! [`ImageSource::resolve`] (the image argument is ignored for layouts),
//! [`ImageSource::legacy_entries`] with [`AttachmentKind::Attestation`] and
//! [`ImageSource::referrer_bundles`] where the registry flow calls `resolve`,
//! `storage::legacy_entries` and `storage::referrer_bundles`.

use cosign_oci::{ImageRef, Registry, Repository};
use cosign_types::Digest;

use super::layout::Layout;
use super::storage::{self, AttachmentKind, LegacyEntry, ReferrerBundle, Storage};
use super::{Resolved, resolve};
use crate::Error;

/// A registry, or a saved layout.
#[derive(Clone, Copy, Debug)]
pub enum ImageSource<'a> {
    /// Read from the registry named by the image reference.
    Registry(&'a Registry),
    /// Read from an OCI image layout (`cosign save --dir`).
    Layout(&'a Layout),
}

impl ImageSource<'_> {
    /// Resolves the image to its digest. For a layout, the saved image (the reference is not
    /// consulted).
    pub async fn resolve(
        &self,
        image: &ImageRef,
        need_descriptor: bool,
    ) -> Result<Resolved, Error> {
        match self {
            Self::Registry(reg) => resolve(reg, image, need_descriptor).await,
            Self::Layout(l) => l.resolved(),
        }
    }

    /// The legacy attachment layers of `digest` (None when there is no attachment image).
    pub async fn legacy_entries(
        &self,
        storage: &Storage,
        subject: &Repository,
        digest: &Digest,
        kind: AttachmentKind,
    ) -> Result<Option<Vec<LegacyEntry>>, Error> {
        match self {
            Self::Registry(reg) => {
                storage::legacy_entries(reg, storage, subject, digest, kind).await
            }
            Self::Layout(l) => l.legacy_entries(storage, digest, kind),
        }
    }

    /// The Sigstore bundles (v0.3+) attached to `digest` as referrers.
    pub async fn referrer_bundles(
        &self,
        storage: &Storage,
        subject: &Repository,
        digest: &Digest,
    ) -> Result<Vec<ReferrerBundle>, Error> {
        match self {
            Self::Registry(reg) => storage::referrer_bundles(reg, storage, subject, digest).await,
            Self::Layout(l) => l.referrer_bundles(storage, digest),
        }
    }
}
