//! `cosign clean`: delete an image's signatures, attestations, SBOMs and bundle referrers.

use cosign_oci::{ImageRef, Reference, Registry, Repository};
use cosign_types::media_types::SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX;

use super::storage::{AttachmentKind, Storage, list_referrers};
use super::{Event, Reporter, resolve};
use crate::Error;

/// What `--type` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CleanType {
    /// Everything.
    All,
    /// `.sig`
    Signature,
    /// `.att`
    Attestation,
    /// `.sbom`
    Sbom,
    /// Sigstore bundle referrers.
    Referrer,
}

impl CleanType {
    /// cosign's prompt text for this type.
    pub fn prompt(self) -> &'static str {
        match self {
            Self::All => "this will remove all signatures, SBOMs and attestations from the image",
            Self::Signature => "this will remove all signatures from the image",
            Self::Attestation => "this will remove all attestations from the image",
            Self::Sbom => "this will remove all SBOMs from the image",
            Self::Referrer => "this will remove all referrers from the image",
        }
    }
}

/// Deletes a manifest by tag; registries that refuse deleting tags (distribution answers 400)
/// get a delete by digest. Missing manifests are fine.
async fn delete_tag(reg: &Registry, repo: &Repository, tag: &str) -> Result<bool, Error> {
    let reference = Reference::Tag(tag.to_owned());
    match reg.delete_manifest(repo, &reference).await {
        Ok(deleted) => Ok(deleted),
        Err(first) => {
            let Some(desc) = reg
                .head_manifest(repo, &reference)
                .await
                .map_err(|e| Error::registry(format!("resolving {repo}:{tag}"), e))?
            else {
                return Ok(false);
            };
            reg.delete_manifest(repo, &Reference::Digest(desc.digest))
                .await
                .map_err(|e| Error::registry(format!("deleting {repo}:{tag} ({first})"), e))
        }
    }
}

/// Removes what `kind` selects, reporting `Removed X from Y` per deletion.
pub async fn clean(
    reg: &Registry,
    image: &ImageRef,
    kind: CleanType,
    storage: &Storage,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let resolved = resolve(reg, image, false).await?;
    let repo = storage.target_repo(image.repository());
    let kinds: &[AttachmentKind] = match kind {
        CleanType::All => &[
            AttachmentKind::Signature,
            AttachmentKind::Attestation,
            AttachmentKind::Sbom,
        ],
        CleanType::Signature => &[AttachmentKind::Signature],
        CleanType::Attestation => &[AttachmentKind::Attestation],
        CleanType::Sbom => &[AttachmentKind::Sbom],
        CleanType::Referrer => &[],
    };
    let mut failures = Vec::new();
    for k in kinds {
        let tag = storage.tag(&resolved.digest, *k);
        let tag_ref = format!("{}:{tag}", repo.name());
        match delete_tag(reg, &repo, &tag).await {
            Ok(true) => reporter.event(Event::Removed {
                reference: tag_ref.clone(),
                image: image.to_string(),
            }),
            Ok(false) => {}
            Err(e) => {
                reporter.event(Event::RemoveFailed {
                    reference: tag_ref.clone(),
                    image: image.to_string(),
                    error: e.to_string(),
                });
                failures.push(tag_ref);
            }
        }
    }
    let referrers = list_referrers(
        reg,
        storage,
        image.repository(),
        &resolved.digest,
        SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
    )
    .await?;
    if matches!(kind, CleanType::All | CleanType::Referrer) {
        for r in &referrers {
            let r_ref = format!("{}@{}", repo.name(), r.digest);
            match reg
                .delete_manifest(&repo, &Reference::Digest(r.digest.clone()))
                .await
            {
                Ok(true) => reporter.event(Event::Removed {
                    reference: r_ref.clone(),
                    image: image.to_string(),
                }),
                Ok(false) => {}
                Err(e) => {
                    reporter.event(Event::RemoveFailed {
                        reference: r_ref.clone(),
                        image: image.to_string(),
                        error: e.to_string(),
                    });
                    failures.push(r_ref);
                }
            }
        }
        if !referrers.is_empty() {
            // The fallback index (registries without the referrers API) now names deleted manifests.
            let _ = delete_tag(reg, &repo, &Storage::fallback_tag(&resolved.digest)).await;
        }
    } else if !referrers.is_empty() && matches!(kind, CleanType::Signature | CleanType::Attestation)
    {
        reporter.event(Event::ReferrersLeft);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::CouldNotDelete(failures))
    }
}
