//! `cosign copy`: an image (or index) with its signatures, attestations, SBOMs and referrers,
//! to another repository or registry.
//!
//! Everything is checked before anything is written: without `force`, an existing
//! destination tag (the image's, or a `.sig`/`.att`/`.sbom` tag) fails the copy with cosign's
//! message. Legacy attachment tags are recomputed for the destination repository (same
//! digest, same tag name). Referrer manifests of any artifact type are copied by digest
//! with their blobs; a destination without the referrers API gets the `sha256-<hex>`
//! fallback index in one update. Blobs are mounted within a registry and transferred in
//! parallel otherwise.

use cosign_oci::{ImageRef, Manifest, Reference};
use cosign_types::Digest;
use cosign_types::annotations::BUNDLE_PREDICATE_TYPE_ANNOTATION;
use cosign_types::media_types::{
    COSIGN_ARTIFACT_SBOM_MEDIA_TYPE, COSIGN_ARTIFACT_SIG_MEDIA_TYPE,
    SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
};
use cosign_types::oci::{Descriptor, ImageIndex, Platform};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::sign::SIGN_PREDICATE_TYPE;
use super::storage::{AttachmentKind, Storage, list_referrers};
use super::store::Store;
use super::transfer::{Batch, CONCURRENCY, Endpoint, ProgressSink, fetch_manifest, run_batch};
use super::{Event, Reporter};
use crate::Error;

/// What to copy.
#[derive(Clone, Debug)]
pub struct CopyOptions {
    /// `--only`: only these attachment kinds (and matching referrers); the image itself is
    /// not copied. Empty: everything.
    pub only: Vec<AttachmentKind>,
    /// `-f`: overwrite existing destination tags.
    pub force: bool,
    /// `--platform`: copy only this platform's image of an index.
    pub platform: Option<Platform>,
}

/// What was copied.
#[derive(Clone, Debug, Default)]
pub struct CopySummary {
    /// Manifests (image, index children, attachment images, referrers) written.
    pub manifests: usize,
    /// Referrer manifests copied.
    pub referrers: usize,
    /// Legacy attachment images copied.
    pub attachments: usize,
}

/// The attachment kind a referrer stands for, for `--only`.
fn referrer_kind(d: &Descriptor) -> Option<AttachmentKind> {
    let at = d.artifact_type.as_deref()?;
    if at.starts_with(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX) {
        return match d.annotations.get(BUNDLE_PREDICATE_TYPE_ANNOTATION) {
            Some(p) if p != SIGN_PREDICATE_TYPE => Some(AttachmentKind::Attestation),
            _ => Some(AttachmentKind::Signature),
        };
    }
    match at {
        COSIGN_ARTIFACT_SIG_MEDIA_TYPE => Some(AttachmentKind::Signature),
        COSIGN_ARTIFACT_SBOM_MEDIA_TYPE => Some(AttachmentKind::Sbom),
        _ => None,
    }
}

/// A planned attachment-tag copy.
struct TagCopy {
    src_tag: String,
    manifest: Manifest,
}

/// Everything to copy for one subject digest.
struct SubjectPlan {
    digest: Digest,
    tags: Vec<TagCopy>,
    referrers: Vec<Descriptor>,
}

fn exists_error(what: &str) -> Error {
    Error::Exists {
        what: what.to_string(),
    }
}

/// Copies `src` to `dst`. Reports `Copying <src> to <dst>...` for each manifest it writes.
pub async fn copy(
    reg: &dyn Store,
    src: &ImageRef,
    dst: &ImageRef,
    storage: &Storage,
    opts: &CopyOptions,
    reporter: &dyn Reporter,
    progress: &dyn ProgressSink,
) -> Result<CopySummary, Error> {
    let src_repo = src.repository();
    let dst_repo = dst.repository();
    let src_ep = Endpoint::new(reg, src_repo);
    // One GET by tag or digest: the manifest and its digest (checked against the bytes).
    let mut root = src_ep
        .get_manifest(&src.reference())
        .await?
        .ok_or_else(|| Error::ImageNotFound(src.to_string()))?;
    let mut children: Vec<Descriptor> = Vec::new();
    if root.is_index() {
        let index = ImageIndex::from_json(&root.bytes)
            .map_err(|e| Error::format(format!("parsing index {src}"), e))?;
        if let Some(want) = &opts.platform {
            let found = index
                .manifests
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(want)))
                .ok_or_else(|| Error::NotFound(format!("no image for platform {want} in {src}")))?;
            root = fetch_manifest(src_ep, &found.digest).await?;
        } else {
            children = index.manifests;
        }
    } else if let Some(want) = &opts.platform {
        return Err(Error::Invalid {
            what: format!("platform {want}"),
            reason: format!("{src} is a single image, not a multi-platform index"),
        });
    }
    let copy_image = opts.only.is_empty();
    let wanted = |k: AttachmentKind| opts.only.is_empty() || opts.only.contains(&k);
    let kinds: Vec<AttachmentKind> = [
        AttachmentKind::Signature,
        AttachmentKind::Attestation,
        AttachmentKind::Sbom,
    ]
    .into_iter()
    .filter(|k| wanted(*k))
    .collect();
    let kinds = &kinds;

    let dst_reference = match (dst.digest(), dst.tag()) {
        (Some(d), _) => Reference::Digest(d.clone()),
        (None, Some(t)) => Reference::Tag(t.to_owned()),
        (None, None) => Reference::Digest(root.digest.clone()),
    };
    if let Reference::Digest(d) = &dst_reference
        && d != &root.digest
    {
        return Err(Error::Invalid {
            what: dst.to_string(),
            reason: format!("names digest {d} but {src} is {}", root.digest),
        });
    }

    // At the same time: the plan (attachment images and referrers of the root and, for an
    // index, each child), the destination tags that would be overwritten (every tag the copy
    // may write; without -f nothing is written when one exists), and whether the destination
    // has the referrers API.
    let att_repo = storage.target_repo(src_repo);
    let att_src = Endpoint::new(reg, &att_repo);
    let mut subjects = vec![root.digest.clone()];
    subjects.extend(children.iter().map(|c| c.digest.clone()));
    let plan = stream::iter(subjects.iter().cloned())
        .map(|digest| async move {
            let tags = futures_util::future::try_join_all(kinds.iter().map(|kind| {
                let src_tag = storage.tag(&digest, *kind);
                async move {
                    let m = att_src
                        .get_manifest(&Reference::Tag(src_tag.clone()))
                        .await?;
                    Ok::<_, Error>(m.map(|manifest| TagCopy { src_tag, manifest }))
                }
            }));
            let referrers = list_referrers(reg, storage, src_repo, &digest, "");
            let (tags, referrers) = futures_util::future::try_join(tags, referrers).await?;
            let referrers = referrers
                .into_iter()
                .filter(|d| {
                    opts.only.is_empty() || referrer_kind(d).is_some_and(|k| opts.only.contains(&k))
                })
                .collect();
            Ok::<_, Error>(SubjectPlan {
                digest,
                tags: tags.into_iter().flatten().collect(),
                referrers,
            })
        })
        .buffered(CONCURRENCY)
        .try_collect::<Vec<SubjectPlan>>();
    let mut checks: Vec<(Reference, String)> = Vec::new();
    if !opts.force {
        if copy_image {
            checks.push((dst_reference.clone(), dst.to_string()));
        }
        for subject in &subjects {
            for kind in kinds {
                let tag = storage.tag(subject, *kind);
                checks.push((
                    Reference::Tag(tag.clone()),
                    format!("{}:{tag}", dst_repo.name()),
                ));
            }
        }
    }
    let existing = stream::iter(checks)
        .map(|(r, name)| async move {
            let head = reg
                .head_manifest(dst_repo, &r)
                .await
                .map_err(|e| e.into_error(format!("checking {name}")))?;
            Ok::<_, Error>(head.map(|_| (r, name)))
        })
        .buffered(CONCURRENCY)
        .try_collect::<Vec<Option<(Reference, String)>>>();
    // A registry may answer 404 for a repository that does not exist yet even with the API;
    // a referrer PUT answered with OCI-Subject then settles it (see run_batch).
    let probe = async {
        reg.referrers(dst_repo, &root.digest, None)
            .await
            .map(|index| index.is_some())
            .map_err(|e| e.into_error(format!("probing the referrers API of {dst_repo}")))
    };
    let (plans, existing, referrers_api) =
        futures_util::future::try_join3(plan, existing, probe).await?;
    // A destination tag counts only if the copy would write it.
    let writes = |r: &Reference| {
        (copy_image && r == &dst_reference)
            || matches!(r, Reference::Tag(t) if plans.iter().any(|p| p.tags.iter().any(|c| &c.src_tag == t)))
    };
    if let Some((_, name)) = existing.into_iter().flatten().find(|(r, _)| writes(r)) {
        return Err(exists_error(&name));
    }

    let mut summary = CopySummary::default();
    let mut batch = Batch {
        first: None,
        rest: Vec::new(),
        referrers: Vec::new(),
        referrers_api: Some(referrers_api),
    };
    if copy_image {
        reporter.event(Event::Copying {
            from: src.to_string(),
            to: dst.to_string(),
        });
        batch.first = Some((src_ep, root.clone(), dst_reference.clone()));
        summary.manifests += 1 + children.len();
    }
    for plan in &plans {
        for t in &plan.tags {
            reporter.event(Event::Copying {
                from: format!("{}:{}", att_repo.name(), t.src_tag),
                to: format!("{}:{}", dst_repo.name(), t.src_tag),
            });
            batch.rest.push((
                att_src,
                t.manifest.clone(),
                Reference::Tag(t.src_tag.clone()),
            ));
            summary.attachments += 1;
        }
        for r in &plan.referrers {
            reporter.event(Event::Copying {
                from: format!("{}@{}", att_repo.name(), r.digest),
                to: format!("{}@{}", dst_repo.name(), r.digest),
            });
        }
        summary.referrers += plan.referrers.len();
        batch.referrers.extend(
            plan.referrers
                .iter()
                .map(|r| (att_src, r.clone(), plan.digest.clone())),
        );
    }
    summary.manifests += summary.attachments + summary.referrers;
    run_batch(reg, dst_repo, &batch, progress).await?;
    Ok(summary)
}
