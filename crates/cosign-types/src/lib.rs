//! Payloads and encodings of cosign, with no I/O.
//!
//! Everything here is a pure data type or a pure function over bytes: digests, hash algorithm
//! names, RFC 8785 canonical JSON, Go-compatible JSON writing, the legacy Rekor and blob
//! bundles, Sigstore protobuf bundles (v0.1-v0.3), DSSE envelopes and PAE, simple-signing
//! payloads, and the media types and annotation keys cosign uses. Parsing happens once, into
//! these types; the rest of the workspace passes the types around, never raw strings.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod annotations;
mod b64;
pub mod bundle;
pub mod canonical_json;
mod digest;
pub mod dsse;
mod error;
pub mod go_json;
pub mod intoto;
pub mod legacy_bundle;
pub mod media_types;
pub mod oci;
pub mod predicate;
mod protojson;
pub mod simple_signing;
pub mod time;

pub use bundle::{BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, bundle_version};
pub use canonical_json::to_canonical_json;
pub use digest::{Digest, DigestError, HashAlgorithm};
pub use dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae};
pub use error::TypesError;
pub use legacy_bundle::{LocalSignedPayload, RekorBundle, RekorPayload, Rfc3161Timestamp};
pub use simple_signing::{SimpleSigning, simple_signing_payload};
