//! The verification material of a Sigstore bundle: key hint or certificates, transparency-log
//! entries and RFC 3161 timestamps (protobuf `dev.sigstore.bundle.v1.VerificationMaterial` and
//! the messages below it), in their protojson form.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::TypesError;
use crate::protojson;

/// What the verifier needs besides the signature: the key or certificate, log entries and
/// timestamps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationMaterial {
    /// The signing key hint or certificate(s) (protobuf oneof `content`).
    pub content: VerificationMaterialContent,
    /// Transparency-log entries (at most [`super::MAX_TLOG_ENTRIES`] when parsed).
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps, when any were requested.
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

/// The identity of the signer as the bundle carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationMaterialContent {
    /// A key the verifier must already have; `hint` is standard base64 of SHA-256 of its SPKI.
    PublicKey(PublicKeyIdentifier),
    /// A certificate chain, leaf first (v0.1/v0.2 keyless, or signing with a given chain).
    X509CertificateChain(X509CertificateChain),
    /// The leaf certificate alone (v0.3 keyless).
    Certificate(X509Certificate),
}

/// `dev.sigstore.common.v1.PublicKeyIdentifier`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// Opaque hint; cosign writes standard base64 of SHA-256 of the key's SPKI DER.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub hint: String,
}

/// `dev.sigstore.common.v1.X509Certificate`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct X509Certificate {
    /// DER of the certificate.
    #[serde(
        rename = "rawBytes",
        alias = "raw_bytes",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub raw_bytes: Vec<u8>,
}

/// `dev.sigstore.common.v1.X509CertificateChain`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct X509CertificateChain {
    /// The certificates, leaf first.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub certificates: Vec<X509Certificate>,
}

/// `dev.sigstore.bundle.v1.TimestampVerificationData`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimestampVerificationData {
    /// RFC 3161 timestamps over the signature (at most [`super::MAX_RFC3161_TIMESTAMPS`] when
    /// parsed).
    #[serde(
        rename = "rfc3161Timestamps",
        alias = "rfc3161_timestamps",
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

/// `dev.sigstore.common.v1.RFC3161SignedTimestamp`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rfc3161SignedTimestamp {
    /// DER of the RFC 3161 `TimeStampResponse`.
    #[serde(
        rename = "signedTimestamp",
        alias = "signed_timestamp",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub signed_timestamp: Vec<u8>,
}

/// `dev.sigstore.rekor.v1.TransparencyLogEntry`: one log entry with its proofs.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransparencyLogEntry {
    /// Global index of the entry.
    #[serde(
        rename = "logIndex",
        alias = "log_index",
        default,
        with = "protojson::int64",
        skip_serializing_if = "protojson::is_zero"
    )]
    pub log_index: i64,
    /// The log's key ID (SHA-256 of its SPKI DER).
    #[serde(
        rename = "logId",
        alias = "log_id",
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "protojson::is_default"
    )]
    pub log_id: LogId,
    /// Entry type and version, e.g. `hashedrekord` `0.0.1`.
    #[serde(
        rename = "kindVersion",
        alias = "kind_version",
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "protojson::is_default"
    )]
    pub kind_version: KindVersion,
    /// Unix seconds at which the log integrated the entry (0 for Rekor v2).
    #[serde(
        rename = "integratedTime",
        alias = "integrated_time",
        default,
        with = "protojson::int64",
        skip_serializing_if = "protojson::is_zero"
    )]
    pub integrated_time: i64,
    /// The signed entry timestamp (Rekor v1).
    #[serde(
        rename = "inclusionPromise",
        alias = "inclusion_promise",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The Merkle inclusion proof with its signed checkpoint.
    #[serde(
        rename = "inclusionProof",
        alias = "inclusion_proof",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonical entry body the log stored.
    #[serde(
        rename = "canonicalizedBody",
        alias = "canonicalized_body",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub canonicalized_body: Vec<u8>,
}

/// `dev.sigstore.common.v1.LogId`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogId {
    /// SHA-256 of the log's public key (SPKI DER).
    #[serde(
        rename = "keyId",
        alias = "key_id",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub key_id: Vec<u8>,
}

/// `dev.sigstore.rekor.v1.KindVersion`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KindVersion {
    /// Entry kind: `hashedrekord`, `dsse`, `intoto`, `rekord`.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// Kind version, e.g. `0.0.1`.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub version: String,
}

/// `dev.sigstore.rekor.v1.InclusionPromise`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InclusionPromise {
    /// The log's signature over the canonical `{body, integratedTime, logID, logIndex}`.
    #[serde(
        rename = "signedEntryTimestamp",
        alias = "signed_entry_timestamp",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub signed_entry_timestamp: Vec<u8>,
}

/// `dev.sigstore.rekor.v1.InclusionProof`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Index of the entry in the shard's tree (not the global index).
    #[serde(
        rename = "logIndex",
        alias = "log_index",
        default,
        with = "protojson::int64",
        skip_serializing_if = "protojson::is_zero"
    )]
    pub log_index: i64,
    /// Root hash of the tree the proof leads to.
    #[serde(
        rename = "rootHash",
        alias = "root_hash",
        default,
        with = "protojson::bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub root_hash: Vec<u8>,
    /// Size of that tree.
    #[serde(
        rename = "treeSize",
        alias = "tree_size",
        default,
        with = "protojson::int64",
        skip_serializing_if = "protojson::is_zero"
    )]
    pub tree_size: i64,
    /// Sibling hashes from the leaf up.
    #[serde(
        default,
        with = "protojson::bytes_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint for `root_hash`.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "protojson::is_default"
    )]
    pub checkpoint: Checkpoint,
}

/// `dev.sigstore.rekor.v1.Checkpoint`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed note text.
    #[serde(
        default,
        deserialize_with = "protojson::null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub envelope: String,
}

/// `VerificationMaterial` as read, before its oneof is checked.
#[derive(Deserialize)]
pub(crate) struct WireVerificationMaterial {
    #[serde(rename = "publicKey", alias = "public_key", default)]
    public_key: Option<PublicKeyIdentifier>,
    #[serde(
        rename = "x509CertificateChain",
        alias = "x509_certificate_chain",
        default
    )]
    x509_certificate_chain: Option<X509CertificateChain>,
    #[serde(default)]
    certificate: Option<X509Certificate>,
    #[serde(
        rename = "tlogEntries",
        alias = "tlog_entries",
        default,
        deserialize_with = "protojson::null_default"
    )]
    tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(
        rename = "timestampVerificationData",
        alias = "timestamp_verification_data",
        default
    )]
    timestamp_verification_data: Option<TimestampVerificationData>,
}

impl TryFrom<WireVerificationMaterial> for VerificationMaterial {
    type Error = TypesError;

    fn try_from(wire: WireVerificationMaterial) -> Result<Self, TypesError> {
        let found = usize::from(wire.public_key.is_some())
            + usize::from(wire.x509_certificate_chain.is_some())
            + usize::from(wire.certificate.is_some());
        let content = match (
            wire.public_key,
            wire.x509_certificate_chain,
            wire.certificate,
        ) {
            (Some(key), None, None) => VerificationMaterialContent::PublicKey(key),
            (None, Some(chain), None) => VerificationMaterialContent::X509CertificateChain(chain),
            (None, None, Some(cert)) => VerificationMaterialContent::Certificate(cert),
            _ => {
                return Err(TypesError::OneOf {
                    what: "Sigstore bundle verificationMaterial",
                    fields: "publicKey, x509CertificateChain, certificate",
                    found,
                });
            }
        };
        Ok(Self {
            content,
            tlog_entries: wire.tlog_entries,
            timestamp_verification_data: wire.timestamp_verification_data,
        })
    }
}

impl<'de> Deserialize<'de> for VerificationMaterial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::try_from(WireVerificationMaterial::deserialize(deserializer)?)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for VerificationMaterial {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.content {
            VerificationMaterialContent::PublicKey(key) => map.serialize_entry("publicKey", key)?,
            VerificationMaterialContent::X509CertificateChain(chain) => {
                map.serialize_entry("x509CertificateChain", chain)?;
            }
            VerificationMaterialContent::Certificate(cert) => {
                map.serialize_entry("certificate", cert)?;
            }
        }
        if !self.tlog_entries.is_empty() {
            map.serialize_entry("tlogEntries", &self.tlog_entries)?;
        }
        if let Some(data) = &self.timestamp_verification_data {
            map.serialize_entry("timestampVerificationData", data)?;
        }
        map.end()
    }
}
