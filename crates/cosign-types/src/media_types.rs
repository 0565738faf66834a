//! Media types cosign reads and writes.
//!
//! Registries and verifiers dispatch on these strings, so they are defined once here and every
//! crate names them through these constants.

/// Layer media type of a legacy image signature (the simple-signing payload).
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer media type of a legacy attestation (a DSSE envelope).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// in-toto statements (also the DSSE payload type of attestations).
pub const IN_TOTO_MEDIA_TYPE: &str = "application/vnd.in-toto+json";

/// Sigstore bundle v0.3, the layer and artifact type of new-format referrers.
pub const SIGSTORE_BUNDLE_V03_MEDIA_TYPE: &str = crate::bundle::BUNDLE_V03_MEDIA_TYPE;
/// Prefix shared by every Sigstore bundle media type.
pub const SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX: &str = crate::bundle::BUNDLE_MEDIA_TYPE_PREFIX;

/// OCI image manifest.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config (the config of legacy signature images).
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// OCI empty descriptor media type (config of new-format referrer manifests).
pub const OCI_EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob `{}`.
pub const OCI_EMPTY_CONFIG: &[u8] = b"{}";
/// Digest of [`OCI_EMPTY_CONFIG`].
pub const OCI_EMPTY_CONFIG_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// Size of [`OCI_EMPTY_CONFIG`] in bytes.
pub const OCI_EMPTY_CONFIG_SIZE: u64 = 2;

/// Docker v2 schema 2 manifest (`COSIGN_DOCKER_MEDIA_TYPES=1`).
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config (`COSIGN_DOCKER_MEDIA_TYPES=1`).
pub const DOCKER_CONFIG_MEDIA_TYPE: &str = "application/vnd.docker.container.image.v1+json";

/// Artifact/config type of legacy signatures stored as OCI 1.1 referrers.
pub const COSIGN_ARTIFACT_SIG_MEDIA_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// Artifact/config type of SBOMs attached as OCI 1.1 referrers.
pub const COSIGN_ARTIFACT_SBOM_MEDIA_TYPE: &str =
    "application/vnd.dev.cosign.artifact.sbom.v1+json";

/// `application/vnd.dev.cosign.artifact.<name>.v1+json`, the generic referrer artifact type.
pub fn cosign_artifact_media_type(name: &str) -> String {
    format!("application/vnd.dev.cosign.artifact.{name}.v1+json")
}

/// SPDX tag-value SBOM.
pub const SPDX_MEDIA_TYPE: &str = "text/spdx";
/// SPDX JSON SBOM.
pub const SPDX_JSON_MEDIA_TYPE: &str = "text/spdx+json";
/// CycloneDX XML SBOM.
pub const CYCLONEDX_XML_MEDIA_TYPE: &str = "application/vnd.cyclonedx+xml";
/// CycloneDX JSON SBOM.
pub const CYCLONEDX_JSON_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
/// Syft JSON SBOM.
pub const SYFT_MEDIA_TYPE: &str = "application/vnd.syft+json";

/// Layer of `upload wasm`.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// Config of `upload wasm`.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v1+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_digest_matches() {
        assert_eq!(OCI_EMPTY_CONFIG.len() as u64, OCI_EMPTY_CONFIG_SIZE);
        assert_eq!(
            cosign_artifact_media_type("sig"),
            COSIGN_ARTIFACT_SIG_MEDIA_TYPE
        );
        assert_eq!(
            cosign_artifact_media_type("sbom"),
            COSIGN_ARTIFACT_SBOM_MEDIA_TYPE
        );
        assert!(SIGSTORE_BUNDLE_V03_MEDIA_TYPE.starts_with(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX));
    }
}
