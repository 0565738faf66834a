//! Annotation keys (and fixed values) cosign puts on layers, manifests and index entries.
//!
//! Legacy signature layers carry the signature, certificate, chain, Rekor bundle and timestamp
//! in annotations; new-format referrer manifests describe their bundle in annotations; `cosign
//! save` labels index entries with a `kind`. Defined once so readers and writers agree.

/// Layer annotation: standard base64 of the signature (empty for attestations).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation: PEM of the signing certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation: concatenated PEM of the certificate chain (set, maybe empty, with a cert).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation: legacy Rekor bundle JSON ([`crate::RekorBundle`]).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation: `{"SignedRFC3161Timestamp":"<base64>"}` ([`crate::Rfc3161Timestamp`]).
pub const RFC3161_TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// Layer annotation of legacy attestations: the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// Referrer manifest annotation: creation time (RFC 3339, UTC, seconds).
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// Referrer manifest annotation: which content the bundle holds.
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Referrer manifest annotation: the predicate type of the bundled statement.
pub const BUNDLE_PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// [`BUNDLE_CONTENT_ANNOTATION`] value for DSSE bundles (all that cosign writes).
pub const BUNDLE_CONTENT_DSSE: &str = "dsse-envelope";
/// [`BUNDLE_CONTENT_ANNOTATION`] value for message-signature bundles.
pub const BUNDLE_CONTENT_MESSAGE_SIGNATURE: &str = "message-signature";

/// `cosign save` index.json annotation key naming what an entry is.
pub const KIND_ANNOTATION: &str = "kind";
/// [`KIND_ANNOTATION`] value: the saved image.
pub const KIND_IMAGE: &str = "dev.cosignproject.cosign/image";
/// [`KIND_ANNOTATION`] value: the saved image index.
pub const KIND_IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
/// [`KIND_ANNOTATION`] value: the legacy signatures image.
pub const KIND_SIGNATURES: &str = "dev.cosignproject.cosign/sigs";
/// [`KIND_ANNOTATION`] value: the legacy attestations image.
pub const KIND_ATTESTATIONS: &str = "dev.cosignproject.cosign/atts";
