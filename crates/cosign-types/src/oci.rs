//! OCI image manifests, indexes and descriptors, written in go-containerregistry's field order.
//!
//! cosign's signature images are built by ggcr, so byte-exact compatibility (and therefore the
//! same manifest digests for the same content) needs ggcr's JSON: `schemaVersion`, `mediaType`,
//! `config`, `layers`, `annotations`, `subject`; descriptors as `mediaType`, `size`, `digest`,
//! `annotations`, `platform`, `artifactType`. Readers are lenient about order and unknown fields
//! but bound every list ([`MAX_ENTRIES`]) before anything iterates over it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Digest, TypesError};

/// The most layers (or index entries) a manifest may have: cosign's `maxLayers`
/// (GHSA-95pr-fxf5-86gv).
pub const MAX_ENTRIES: usize = 1000;

/// The largest manifest we read: ggcr's limit for manifests.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// A platform of an index entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant (`v7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let architecture = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let variant = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            architecture,
            os,
            variant,
            ..Self::default()
        })
    }

    /// Whether `self` (an index entry's platform) satisfies a wanted platform.
    pub fn matches(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || self.variant == wanted.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Digest of the content.
    #[serde(with = "digest_serde")]
    pub digest: Digest,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Platform (index entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Artifact type (referrers, index entries).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with no annotations, platform or artifact type.
    pub fn new(media_type: impl Into<String>, size: u64, digest: Digest) -> Self {
        Self {
            media_type: media_type.into(),
            size,
            digest,
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

mod digest_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Digest;

    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(
        rename = "mediaType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    /// Artifact type (OCI 1.1 artifacts).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
}

/// An image index (OCI index or Docker manifest list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The index's media type.
    #[serde(
        rename = "mediaType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    /// Artifact type.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The entries.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, TypesError> {
    serde_json::from_slice(bytes).map_err(|source| TypesError::Json { what, source })
}

impl ImageManifest {
    /// Parses a manifest, refusing more than [`MAX_ENTRIES`] layers.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        // Count before building the typed value: a hostile manifest may list a million layers.
        let m: Self = parse_json(bytes, "image manifest")?;
        if m.layers.len() > MAX_ENTRIES {
            return Err(TypesError::TooMany {
                what: "layers in manifest",
                count: m.layers.len(),
                max: MAX_ENTRIES,
            });
        }
        Ok(m)
    }

    /// Compact JSON in ggcr's field order.
    pub fn to_json(&self) -> Vec<u8> {
        crate::go_json::to_go_json(self).unwrap_or_default()
    }
}

impl ImageIndex {
    /// Parses an index, refusing more than [`MAX_ENTRIES`] entries.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let i: Self = parse_json(bytes, "image index")?;
        if i.manifests.len() > MAX_ENTRIES {
            return Err(TypesError::TooMany {
                what: "manifests in index",
                count: i.manifests.len(),
                max: MAX_ENTRIES,
            });
        }
        Ok(i)
    }

    /// Compact JSON in ggcr's field order.
    pub fn to_json(&self) -> Vec<u8> {
        crate::go_json::to_go_json(self).unwrap_or_default()
    }

    /// An empty OCI index.
    pub fn empty() -> Self {
        Self {
            schema_version: 2,
            media_type: crate::media_types::OCI_INDEX_MEDIA_TYPE.to_owned(),
            artifact_type: None,
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
            subject: None,
        }
    }
}

/// Whether a media type names an index (OCI index or Docker manifest list).
pub fn is_index_media_type(media_type: &str) -> bool {
    media_type == crate::media_types::OCI_INDEX_MEDIA_TYPE
        || media_type == crate::media_types::DOCKER_MANIFEST_LIST_MEDIA_TYPE
}

/// The media type a manifest's bytes declare (`mediaType`), if any.
pub fn declared_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).ok()?.media_type
}

/// The config blob ggcr writes for cosign's signature images: an empty image config with one
/// history entry and one `diff_id` per layer (layers are uncompressed, so `diff_id` = digest).
pub fn signature_image_config(diff_ids: &[Digest]) -> Vec<u8> {
    let mut out =
        String::from(r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":["#);
    for i in 0..diff_ids.len() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"created":"0001-01-01T00:00:00Z"}"#);
    }
    out.push_str(r#"],"os":"","rootfs":{"type":"layers","diff_ids":["#);
    for (i, d) in diff_ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&d.to_string());
        out.push('"');
    }
    out.push_str(r#"]},"config":{}}"#);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        format!("sha256:{}", c.to_string().repeat(64))
            .parse()
            .unwrap()
    }

    #[test]
    fn manifest_in_ggcr_order() {
        let mut layer = Descriptor::new(
            "application/vnd.dev.cosign.simplesigning.v1+json",
            210,
            d('a'),
        );
        layer
            .annotations
            .insert("dev.cosignproject.cosign/signature".into(), "MEUC".into());
        let m = ImageManifest {
            schema_version: 2,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: None,
            config: Descriptor::new("application/vnd.oci.image.config.v1+json", 233, d('b')),
            layers: vec![layer],
            annotations: BTreeMap::new(),
            subject: None,
        };
        let json = String::from_utf8(m.to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"{}"}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":210,"digest":"{}","annotations":{{"dev.cosignproject.cosign/signature":"MEUC"}}}}]}}"#,
                d('b'),
                d('a')
            )
        );
        assert_eq!(ImageManifest::from_json(json.as_bytes()).unwrap(), m);
    }

    #[test]
    fn config_matches_ggcr() {
        assert_eq!(
            String::from_utf8(signature_image_config(&[d('a'), d('b')])).unwrap(),
            format!(
                r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}},{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{}","{}"]}},"config":{{}}}}"#,
                d('a'),
                d('b')
            )
        );
    }

    #[test]
    fn refuses_too_many_layers_and_bad_digests() {
        let layer = format!(r#"{{"mediaType":"x","size":1,"digest":"{}"}}"#, d('a'));
        let layers = vec![layer; MAX_ENTRIES + 1].join(",");
        let json = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","size":1,"digest":"{}"}},"layers":[{layers}]}}"#,
            d('b')
        );
        assert!(matches!(
            ImageManifest::from_json(json.as_bytes()),
            Err(TypesError::TooMany { .. })
        ));
        let bad = r#"{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"md5:00"},"layers":[]}"#;
        assert!(ImageManifest::from_json(bad.as_bytes()).is_err());
        assert!(ImageIndex::from_json(b"[]").is_err());
    }

    #[test]
    fn platforms() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        assert!(Platform::parse("linux").is_none());
        let entry = Platform::parse("linux/arm/v7").unwrap();
        assert!(entry.matches(&Platform::parse("linux/arm").unwrap()));
        assert!(!entry.matches(&Platform::parse("linux/amd64").unwrap()));
    }
}
