//! Container images: signing, verifying and managing signatures stored in OCI registries, in
//! cosign's legacy layout (`sha256-<hex>.sig` tags) and as OCI 1.1 referrers (Sigstore bundles).

pub mod attest;
pub mod clean;
pub mod copy;
pub mod download;
pub mod layout;
pub mod refs;
pub mod sbom;
pub mod sign;
pub mod storage;
pub mod store;
pub mod transfer;
pub mod tree;
pub mod upload;
pub mod verify;

use cosign_oci::{ImageRef, Reference};
use cosign_types::Digest;
use cosign_types::oci::Descriptor;

use self::store::Store;
use crate::Error;

pub use crate::report::{Event, Reporter, Silent};

/// An image resolved to its digest.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The reference as given.
    pub given: ImageRef,
    /// `repository@digest`.
    pub digest_ref: ImageRef,
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's descriptor, when the registry was asked.
    pub descriptor: Option<Descriptor>,
}

/// Resolves a reference to a digest. A digest reference costs no request unless `need_descriptor`.
pub async fn resolve(
    store: &dyn Store,
    image: &ImageRef,
    need_descriptor: bool,
) -> Result<Resolved, Error> {
    if let Some(d) = image.digest()
        && !need_descriptor
    {
        return Ok(Resolved {
            given: image.clone(),
            digest_ref: image.with_digest(d.clone()),
            digest: d.clone(),
            descriptor: None,
        });
    }
    let desc = store
        .head_manifest(image.repository(), &image.reference())
        .await
        .map_err(|e| e.into_error(format!("resolving {image}")))?
        .ok_or_else(|| Error::ImageNotFound(image.to_string()))?;
    if let Some(d) = image.digest()
        && d != &desc.digest
    {
        return Err(Error::Verification(format!(
            "registry answered digest {} for {image}",
            desc.digest
        )));
    }
    Ok(Resolved {
        given: image.clone(),
        digest_ref: image.with_digest(desc.digest.clone()),
        digest: desc.digest.clone(),
        descriptor: Some(desc),
    })
}

/// The digest reference used for a stored attachment (`Reference::Digest`).
pub fn by_digest(d: &Digest) -> Reference {
    Reference::Digest(d.clone())
}
