//! `cosign attach sbom` and `cosign download sbom` (deprecated in cosign, kept compatible).
//!
//! An SBOM attachment is a single-layer image at the tag `sha256-<hex>.sbom` (the layer's media
//! type names the SBOM format, contract 2.10), replaced on every attach; with
//! `--registry-referrers-mode=oci-1-1` it is an OCI 1.1 referrer whose config media type is
//! `application/vnd.dev.cosign.artifact.sbom.v1+json`. Downloads refuse a layer over the
//! attachment size cap before reading it and stream it to the caller's sink.

use std::collections::BTreeMap;
use std::io::Write;

use cosign_oci::{ImageRef, Progress, Reference, Registry};
use cosign_types::media_types::{
    COSIGN_ARTIFACT_SBOM_MEDIA_TYPE, CYCLONEDX_JSON_MEDIA_TYPE, CYCLONEDX_XML_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE, SPDX_JSON_MEDIA_TYPE, SPDX_MEDIA_TYPE, SYFT_MEDIA_TYPE,
};
use cosign_types::oci::{Descriptor, ImageIndex, ImageManifest, Platform, signature_image_config};
use cosign_types::{Digest, HashAlgorithm};

use super::storage::{AttachmentKind, Storage, read_attachment_image};
use super::transfer::publish_referrer;
use super::{Event, Reporter, resolve};
use crate::Error;

/// cosign's deprecation warning for SBOM attachments (printed by attach and download).
pub const SBOM_ATTACHMENT_DEPRECATION: &str = "WARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.";

/// The media type for `--type` and `--input-format` (cosign's `AttachSBOMOptions.MediaType`):
/// with no input format, a `.json` file name means JSON.
pub fn sbom_media_type(
    kind: &str,
    input_format: &str,
    sbom_path: &str,
) -> Result<&'static str, Error> {
    let incompatible = || Error::Invalid {
        what: "invalid SBOM input format".into(),
        reason: format!("{input_format:?} is not compatible with --type {kind:?}"),
    };
    let looks_like_json = match input_format {
        "" => std::path::Path::new(sbom_path)
            .extension()
            .is_some_and(|e| e == "json"),
        "json" => true,
        "xml" | "text" => false,
        other => {
            return Err(Error::UnknownValue {
                what: "SBOM input format",
                value: other.to_owned(),
                allowed: r#"["json" "xml" "text"]"#,
            });
        }
    };
    match kind {
        "cyclonedx" => {
            if !matches!(input_format, "" | "xml" | "json") {
                return Err(incompatible());
            }
            Ok(if looks_like_json {
                CYCLONEDX_JSON_MEDIA_TYPE
            } else {
                CYCLONEDX_XML_MEDIA_TYPE
            })
        }
        "spdx" => {
            if !matches!(input_format, "" | "text" | "json") {
                return Err(incompatible());
            }
            Ok(if looks_like_json {
                SPDX_JSON_MEDIA_TYPE
            } else {
                SPDX_MEDIA_TYPE
            })
        }
        "syft" => {
            if !matches!(input_format, "" | "json") {
                return Err(incompatible());
            }
            Ok(SYFT_MEDIA_TYPE)
        }
        other => Err(Error::UnknownValue {
            what: "SBOM type",
            value: other.to_owned(),
            allowed: r#"["cyclonedx" "spdx" "syft"]"#,
        }),
    }
}

/// The single-layer image cosign's `static.NewFile` builds: the ggcr config of one layer and
/// an OCI manifest (Docker schema 2 with `COSIGN_DOCKER_MEDIA_TYPES`). Returns the config
/// blob and the manifest.
pub fn file_image(
    layer: &Descriptor,
    config_media_type: &str,
    manifest_media_type: &str,
    annotations: BTreeMap<String, String>,
) -> (Vec<u8>, ImageManifest) {
    let config = signature_image_config(std::slice::from_ref(&layer.digest));
    let config_digest = cosign_crypto::hash(HashAlgorithm::Sha256, &config);
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: manifest_media_type.to_owned(),
        artifact_type: None,
        config: Descriptor::new(config_media_type, config.len() as u64, config_digest),
        layers: vec![layer.clone()],
        annotations,
        subject: None,
    };
    (config, manifest)
}

/// Attaches an SBOM to `image`: to its `.sbom` tag (replacing what was there), or as an OCI
/// 1.1 referrer with `referrers_mode_oci`. Returns where it went (`repo:tag` or
/// `repo@digest`).
pub async fn attach_sbom(
    reg: &Registry,
    image: &ImageRef,
    sbom: &[u8],
    media_type: &str,
    storage: &Storage,
    referrers_mode_oci: bool,
    reporter: &dyn Reporter,
) -> Result<String, Error> {
    let resolved = resolve(reg, image, referrers_mode_oci).await?;
    let repo = storage.target_repo(image.repository());
    let layer_digest = cosign_crypto::hash(HashAlgorithm::Sha256, sbom);
    let layer = Descriptor::new(media_type, sbom.len() as u64, layer_digest.clone());
    let ctx = || format!("attaching SBOM to {image}");
    reg.push_blob_if_missing(&repo, &layer_digest, sbom)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    if referrers_mode_oci {
        let subject = resolved
            .descriptor
            .clone()
            .ok_or_else(|| Error::ImageNotFound(image.to_string()))?;
        let (config, mut manifest) = file_image(
            &layer,
            COSIGN_ARTIFACT_SBOM_MEDIA_TYPE,
            OCI_MANIFEST_MEDIA_TYPE,
            BTreeMap::new(),
        );
        reg.push_blob_if_missing(&repo, &manifest.config.digest, &config)
            .await
            .map_err(|e| Error::registry(ctx(), e))?;
        manifest.artifact_type = Some(COSIGN_ARTIFACT_SBOM_MEDIA_TYPE.to_owned());
        manifest.subject = Some(Descriptor::new(
            subject.media_type.clone(),
            subject.size,
            subject.digest.clone(),
        ));
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, &manifest.to_json());
        let target = format!("{}@{digest}", repo.name());
        reporter.event(Event::UploadingSbom {
            image: image.to_string(),
            target: target.clone(),
            media_type: media_type.to_string(),
            referrer: true,
        });
        publish_referrer(reg, &repo, &resolved.digest, &manifest).await?;
        return Ok(target);
    }
    let tag = storage.tag(&resolved.digest, AttachmentKind::Sbom);
    let target = format!("{}:{tag}", repo.name());
    reporter.event(Event::UploadingSbom {
        image: image.to_string(),
        target: target.clone(),
        media_type: media_type.to_string(),
        referrer: false,
    });
    let (manifest_type, config_type) = storage.attachment_manifest_types();
    let (config, manifest) = file_image(&layer, config_type, manifest_type, BTreeMap::new());
    reg.push_blob_if_missing(&repo, &manifest.config.digest, &config)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    reg.put_manifest(
        &repo,
        &Reference::Tag(tag),
        manifest_type,
        &manifest.to_json(),
    )
    .await
    .map_err(|e| Error::registry(ctx(), e))?;
    Ok(target)
}

/// The SBOM found for a download: where it is and what it is.
#[derive(Clone, Debug)]
pub struct FoundSbom {
    /// The layer's media type (the SBOM format).
    pub media_type: String,
    /// The layer.
    pub layer: Descriptor,
    /// The repository it is in.
    pub repo: cosign_oci::Repository,
}

fn platform_list(index: &ImageIndex) -> String {
    index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds the SBOM attached to `image` (for `platform`, on an index) and checks its size
/// against the attachment cap, without downloading it.
pub async fn find_sbom(
    reg: &Registry,
    image: &ImageRef,
    platform: Option<&Platform>,
    storage: &Storage,
) -> Result<FoundSbom, Error> {
    let resolved = resolve(reg, image, true).await?;
    let is_index = resolved
        .descriptor
        .as_ref()
        .is_some_and(|d| cosign_types::oci::is_index_media_type(&d.media_type));
    let mut digest: Digest = resolved.digest.clone();
    let mut index = None;
    if is_index {
        let m = reg
            .get_manifest(image.repository(), &Reference::Digest(digest.clone()))
            .await
            .map_err(|e| Error::registry(format!("reading index {image}"), e))?
            .ok_or_else(|| Error::ImageNotFound(image.to_string()))?;
        index = Some(
            ImageIndex::from_json(&m.bytes)
                .map_err(|e| Error::format(format!("parsing index {image}"), e))?,
        );
    }
    if let Some(want) = platform {
        let Some(idx) = &index else {
            return Err(Error::NotFound(
                "specified reference is not a multiarch image".into(),
            ));
        };
        let matching: Vec<&Descriptor> = idx
            .manifests
            .iter()
            .filter(|d| d.platform.as_ref().is_some_and(|p| p.matches(want)))
            .collect();
        match matching.as_slice() {
            [] => {
                return Err(Error::NotFound(format!(
                    "unable to find an SBOM for {want}, try a different platform"
                )));
            }
            [one] => digest = one.digest.clone(),
            many => {
                return Err(Error::NotFound(format!(
                    "platform spec matches more than one image architecture: {}",
                    many.iter()
                        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let repo = storage.target_repo(image.repository());
    let tag = storage.tag(&digest, AttachmentKind::Sbom);
    let Some((manifest, _)) = read_attachment_image(reg, &repo, &tag).await? else {
        return Err(match (&index, platform) {
            (Some(idx), None) if !platform_list(idx).is_empty() => Error::NotFound(format!(
                "no SBOM found attached to image index, use --platform to select one of: {}",
                platform_list(idx)
            )),
            (Some(_), None) => Error::NotFound("unable to find SBOM".into()),
            _ => Error::NotFound("no SBOM attached to reference".into()),
        });
    };
    let [layer] = manifest.layers.as_slice() else {
        return Err(Error::Verification(format!(
            "{repo}:{tag} has {} layers; an SBOM attachment has exactly one",
            manifest.layers.len()
        )));
    };
    let cap = storage.max_attachment_limit();
    if layer.size > cap {
        return Err(Error::Verification(format!(
            "SBOM layer {} of {repo}:{tag} is {} bytes, over the attachment size limit of {cap} bytes (COSIGN_MAX_ATTACHMENT_SIZE)",
            layer.digest, layer.size
        )));
    }
    Ok(FoundSbom {
        media_type: layer.media_type.clone(),
        layer: layer.clone(),
        repo,
    })
}

/// Streams the SBOM found by [`find_sbom`] to `out` (digest checked on the way; never more
/// than the attachment cap). Returns the bytes written.
pub async fn write_sbom(
    reg: &Registry,
    found: &FoundSbom,
    storage: &Storage,
    out: &mut dyn Write,
    progress: Option<Progress>,
) -> Result<u64, Error> {
    let cap = storage.max_attachment_limit().min(found.layer.size.max(1));
    reg.get_blob_to_writer(&found.repo, &found.layer.digest, cap, out, progress)
        .await
        .map_err(|e| {
            Error::registry(
                format!(
                    "downloading SBOM {} from {}",
                    found.layer.digest, found.repo
                ),
                e,
            )
        })
}
