//! `cosign tree`: the supply-chain artifacts of an image: its legacy `.att`, `.sig` and
//! `.sbom` images (their layers) and its OCI 1.1 referrers (their layers), for cosign's
//! emoji listing.

use cosign_oci::{ImageRef, Reference, Registry};
use cosign_types::Digest;
use cosign_types::annotations::BUNDLE_PREDICATE_TYPE_ANNOTATION;
use cosign_types::media_types::SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX;
use cosign_types::oci::ImageManifest;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::resolve;
use super::storage::{AttachmentKind, Storage, list_referrers, read_attachment_image};
use super::transfer::CONCURRENCY;
use crate::Error;

/// A legacy attachment image.
#[derive(Clone, Debug)]
pub struct TagNode {
    /// Which attachment.
    pub kind: AttachmentKind,
    /// `registry/repo:sha256-<hex>.<suffix>`.
    pub tag_ref: String,
    /// Its layers' digests.
    pub layers: Vec<Digest>,
}

/// A referrer manifest.
#[derive(Clone, Debug)]
pub struct ReferrerNode {
    /// The artifact type, or for Sigstore bundles the bundled predicate type.
    pub label: String,
    /// `registry/repo@sha256:...` of the referrer manifest.
    pub digest_ref: String,
    /// Its layers' digests.
    pub layers: Vec<Digest>,
}

/// What `tree` prints.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Attestations, signatures, SBOMs (in that order), those that exist.
    pub tags: Vec<TagNode>,
    /// Referrers in listing order.
    pub referrers: Vec<ReferrerNode>,
}

impl Tree {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.referrers.is_empty()
    }
}

/// Collects the artifacts of `image`.
pub async fn tree(reg: &Registry, image: &ImageRef, storage: &Storage) -> Result<Tree, Error> {
    let resolved = resolve(reg, image, false).await?;
    let repo = storage.target_repo(image.repository());
    let mut out = Tree::default();
    for kind in [
        AttachmentKind::Attestation,
        AttachmentKind::Signature,
        AttachmentKind::Sbom,
    ] {
        let tag = storage.tag(&resolved.digest, kind);
        if let Some((m, _)) = read_attachment_image(reg, &repo, &tag).await?
            && !m.layers.is_empty()
        {
            out.tags.push(TagNode {
                kind,
                tag_ref: format!("{}:{tag}", repo.name()),
                layers: m.layers.into_iter().map(|l| l.digest).collect(),
            });
        }
    }
    let entries = list_referrers(reg, storage, image.repository(), &resolved.digest, "").await?;
    out.referrers = stream::iter(entries)
        .map(|entry| {
            let repo = &repo;
            async move {
                let m = reg
                    .get_manifest(repo, &Reference::Digest(entry.digest.clone()))
                    .await
                    .map_err(|e| {
                        Error::registry(format!("fetching referrer {repo}@{}", entry.digest), e)
                    })?
                    .ok_or_else(|| Error::ImageNotFound(format!("{repo}@{}", entry.digest)))?;
                let manifest = ImageManifest::from_json(&m.bytes).map_err(|e| {
                    Error::format(format!("parsing referrer {repo}@{}", entry.digest), e)
                })?;
                let artifact_type = entry.artifact_type.clone().unwrap_or_default();
                let label = if artifact_type.starts_with(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX) {
                    entry
                        .annotations
                        .get(BUNDLE_PREDICATE_TYPE_ANNOTATION)
                        .or_else(|| manifest.annotations.get(BUNDLE_PREDICATE_TYPE_ANNOTATION))
                        .cloned()
                        .unwrap_or(artifact_type)
                } else {
                    artifact_type
                };
                Ok::<_, Error>(ReferrerNode {
                    label,
                    digest_ref: format!("{}@{}", repo.name(), entry.digest),
                    layers: manifest.layers.into_iter().map(|l| l.digest).collect(),
                })
            }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(out)
}

/// cosign's text for a tree (after the header line), exactly as it prints it.
pub fn render(tree: &Tree, image_text: &str) -> String {
    if tree.is_empty() {
        return format!(
            "No Supply Chain Security Related Artifacts found for image {image_text},\n start creating one with simply running$ cosign sign <img>"
        );
    }
    let mut out = String::new();
    let layers = |out: &mut String, layers: &[Digest]| {
        for (i, l) in layers.iter().enumerate() {
            let sym = if i + 1 == layers.len() {
                "   └──"
            } else {
                "   ├──"
            };
            out.push_str(&format!("{sym} 🍒 {l}\n"));
        }
    };
    for t in &tree.tags {
        let title = match t.kind {
            AttachmentKind::Signature => "🔐 Signatures",
            AttachmentKind::Sbom => "📦 SBOMs",
            AttachmentKind::Attestation => "💾 Attestations",
        };
        out.push_str(&format!("└── {title} for an image tag: {}\n", t.tag_ref));
        layers(&mut out, &t.layers);
    }
    for r in &tree.referrers {
        out.push_str(&format!(
            "└── 🔗 {} artifacts via OCI referrer: {}\n",
            r.label, r.digest_ref
        ));
        layers(&mut out, &r.layers);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_cosign() {
        let d = |c: char| -> Digest {
            format!("sha256:{}", c.to_string().repeat(64))
                .parse()
                .unwrap()
        };
        assert_eq!(
            render(&Tree::default(), "alpine:3.20"),
            "No Supply Chain Security Related Artifacts found for image alpine:3.20,\n start creating one with simply running$ cosign sign <img>"
        );
        let t = Tree {
            tags: vec![TagNode {
                kind: AttachmentKind::Signature,
                tag_ref: "r/x:sha256-a.sig".into(),
                layers: vec![d('a'), d('b')],
            }],
            referrers: vec![ReferrerNode {
                label: "https://sigstore.dev/cosign/sign/v1".into(),
                digest_ref: "r/x@sha256:c".into(),
                layers: vec![d('c')],
            }],
        };
        let text = render(&t, "r/x:v1");
        assert_eq!(
            text,
            format!(
                "└── 🔐 Signatures for an image tag: r/x:sha256-a.sig\n   ├── 🍒 {}\n   └── 🍒 {}\n└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: r/x@sha256:c\n   └── 🍒 {}\n",
                d('a'),
                d('b'),
                d('c')
            )
        );
    }
}
