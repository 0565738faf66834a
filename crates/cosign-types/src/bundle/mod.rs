//! The Sigstore protobuf bundle (`dev.sigstore.bundle.v1.Bundle`) in its protojson form.
//!
//! cosign v3 writes signatures and attestations as bundles (media type
//! [`BUNDLE_V03_MEDIA_TYPE`]), stores them as OCI referrers and reads `--bundle` files with
//! them; sigstore-go and older cosign also wrote v0.1 and v0.2. This module parses every
//! version the way protojson does (lowerCamelCase or proto field names, `int64` as string or
//! number, either base64 alphabet, unknown fields ignored), enforces sigstore-go's size limits,
//! and writes bundles in proto field order with default values left out, as cosign does.

mod material;
#[cfg(test)]
mod tests;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::dsse::{Envelope, ProtoEnvelope};
use crate::{HashAlgorithm, TypesError, protojson};

pub use material::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, PublicKeyIdentifier,
    Rfc3161SignedTimestamp, TimestampVerificationData, TransparencyLogEntry, VerificationMaterial,
    VerificationMaterialContent, X509Certificate, X509CertificateChain,
};

/// The media type cosign writes: bundle v0.3.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The older spelling of bundle v0.1.
pub const BUNDLE_V01_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// The older spelling of bundle v0.2.
pub const BUNDLE_V02_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Every bundle media type starts with this; OCI readers match layer media types against it.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// sigstore-go's limit on transparency-log entries per bundle (CVE-2024-45395).
pub const MAX_TLOG_ENTRIES: usize = 32;
/// sigstore-go's limit on RFC 3161 timestamps per bundle (CVE-2024-45395).
pub const MAX_RFC3161_TIMESTAMPS: usize = 32;

const WHAT: &str = "Sigstore bundle";

/// The bundle version `(major, minor)` a media type names, as sigstore-go reads it:
/// `application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3`, or
/// `application/vnd.dev.sigstore.bundle.v<semver>+json` where the version may be shortened to
/// `vX` or `vX.Y` (the patch number is ignored). `None` for anything else.
pub fn bundle_version(media_type: &str) -> Option<(u32, u32)> {
    match media_type {
        BUNDLE_V01_MEDIA_TYPE => return Some((0, 1)),
        BUNDLE_V02_MEDIA_TYPE => return Some((0, 2)),
        "application/vnd.dev.sigstore.bundle+json;version=0.3" => return Some((0, 3)),
        _ => {}
    }
    let version = media_type
        .strip_prefix("application/vnd.dev.sigstore.bundle.v")?
        .strip_suffix("+json")?;
    let mut parts = version.split('.');
    let major = semver_number(parts.next()?)?;
    let minor = parts.next().map(semver_number).unwrap_or(Some(0))?;
    if let Some(patch) = parts.next() {
        semver_number(patch)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor))
}

/// A semver numeric identifier: digits, no leading zero unless it is `0`.
fn semver_number(text: &str) -> Option<u32> {
    let valid = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if valid { text.parse().ok() } else { None }
}

/// A Sigstore bundle: a signature or DSSE envelope plus everything needed to verify it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle media type, which carries its version (see [`bundle_version`]).
    pub media_type: String,
    /// Key hint or certificates, log entries, timestamps.
    pub verification_material: VerificationMaterial,
    /// What was signed (protobuf oneof `content`).
    pub content: BundleContent,
}

/// The signed content of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleContent {
    /// A plain signature over an artifact's digest (`sign-blob`).
    MessageSignature(MessageSignature),
    /// A DSSE envelope (attestations, and image signatures in the new format).
    DsseEnvelope(Envelope),
}

/// `dev.sigstore.common.v1.MessageSignature`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageSignature {
    /// The digest of the signed artifact, when recorded.
    #[serde(
        rename = "messageDigest",
        alias = "message_digest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_digest: Option<MessageDigest>,
    /// The raw signature.
    #[serde(
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub signature: Vec<u8>,
}

/// `dev.sigstore.common.v1.HashOutput`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageDigest {
    /// The protobuf `HashAlgorithm` name, e.g. `SHA2_256` (numbers are read as their names).
    #[serde(
        default,
        with = "protojson::hash_algorithm",
        skip_serializing_if = "protojson::is_unspecified_hash"
    )]
    pub algorithm: String,
    /// The digest bytes.
    #[serde(
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub digest: Vec<u8>,
}

impl MessageDigest {
    /// The algorithm, when it is one cosign supports.
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        HashAlgorithm::from_proto_name(&self.algorithm)
    }
}

/// The bundle as read, before its oneofs are checked.
#[derive(Deserialize)]
struct WireBundle {
    #[serde(
        rename = "mediaType",
        alias = "media_type",
        default,
        deserialize_with = "protojson::null_default"
    )]
    media_type: String,
    #[serde(
        rename = "verificationMaterial",
        alias = "verification_material",
        default
    )]
    verification_material: Option<material::WireVerificationMaterial>,
    #[serde(rename = "messageSignature", alias = "message_signature", default)]
    message_signature: Option<MessageSignature>,
    #[serde(rename = "dsseEnvelope", alias = "dsse_envelope", default)]
    dsse_envelope: Option<ProtoEnvelope>,
}

impl TryFrom<WireBundle> for Bundle {
    type Error = TypesError;

    fn try_from(wire: WireBundle) -> Result<Self, TypesError> {
        let material = wire.verification_material.ok_or(TypesError::MissingField {
            what: WHAT,
            field: "verificationMaterial",
        })?;
        let verification_material = VerificationMaterial::try_from(material)?;
        let content = match (wire.message_signature, wire.dsse_envelope) {
            (Some(sig), None) => BundleContent::MessageSignature(sig),
            (None, Some(env)) => BundleContent::DsseEnvelope(env.into()),
            (sig, env) => {
                return Err(TypesError::OneOf {
                    what: WHAT,
                    fields: "messageSignature, dsseEnvelope",
                    found: usize::from(sig.is_some()) + usize::from(env.is_some()),
                });
            }
        };
        let bundle = Self {
            media_type: wire.media_type,
            verification_material,
            content,
        };
        bundle.check_limits()?;
        Ok(bundle)
    }
}

impl Bundle {
    /// Parses a bundle's protojson. Unknown fields are ignored; exactly one signer identity and
    /// one content must be present; more than [`MAX_TLOG_ENTRIES`] log entries or
    /// [`MAX_RFC3161_TIMESTAMPS`] timestamps are refused. The media type is not checked here:
    /// callers decide which [`Bundle::version`]s they accept.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TypesError> {
        let wire: WireBundle = serde_json::from_slice(bytes)
            .map_err(|source| TypesError::Json { what: WHAT, source })?;
        Self::try_from(wire)
    }

    /// Compact protojson in proto field order, default values left out, as cosign writes it
    /// (Go's protojson may add random spaces; readers must not depend on either form).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The version named by the media type, see [`bundle_version`].
    pub fn version(&self) -> Option<(u32, u32)> {
        bundle_version(&self.media_type)
    }

    fn check_limits(&self) -> Result<(), TypesError> {
        let entries = self.verification_material.tlog_entries.len();
        if entries > MAX_TLOG_ENTRIES {
            return Err(TypesError::TooMany {
                what: "tlog entries",
                count: entries,
                max: MAX_TLOG_ENTRIES,
            });
        }
        let timestamps = self
            .verification_material
            .timestamp_verification_data
            .as_ref()
            .map_or(0, |d| d.rfc3161_timestamps.len());
        if timestamps > MAX_RFC3161_TIMESTAMPS {
            return Err(TypesError::TooMany {
                what: "rfc3161 timestamps",
                count: timestamps,
                max: MAX_RFC3161_TIMESTAMPS,
            });
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Bundle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::try_from(WireBundle::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Bundle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.media_type.is_empty() {
            map.serialize_entry("mediaType", &self.media_type)?;
        }
        map.serialize_entry("verificationMaterial", &self.verification_material)?;
        match &self.content {
            BundleContent::MessageSignature(sig) => map.serialize_entry("messageSignature", sig)?,
            BundleContent::DsseEnvelope(env) => {
                map.serialize_entry("dsseEnvelope", &ProtoEnvelope::from(env))?;
            }
        }
        map.end()
    }
}
