//! The one error type of this crate.
//!
//! Every parser and writer here reports through [`TypesError`], so callers match on a single
//! small enum. Variants carry the name of the field or document being handled, so messages say
//! what was being done without the caller adding context.

/// Why a payload, bundle or envelope could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TypesError {
    /// The bytes are not valid JSON or do not have the expected shape.
    #[error("parsing {what}: {source}")]
    Json {
        /// The document being parsed (e.g. "Sigstore bundle").
        what: &'static str,
        /// The underlying JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON value has the wrong type.
    #[error("parsing {what}: field {field:?} must be {expected}")]
    WrongType {
        /// The document being parsed.
        what: &'static str,
        /// The JSON field name.
        field: &'static str,
        /// What the field should hold (e.g. "a string").
        expected: &'static str,
    },
    /// A required field is absent.
    #[error("parsing {what}: missing {field}")]
    MissingField {
        /// The document being parsed.
        what: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// An object has several keys that Go's case-insensitive field matching maps to one field;
    /// refused because readers could disagree on which one counts.
    #[error("parsing {what}: more than one key matches field {field:?} case-insensitively")]
    AmbiguousField {
        /// The document being parsed.
        what: &'static str,
        /// The field name.
        field: &'static str,
    },
    /// A protobuf `oneof` has none or several of its members set.
    #[error("parsing {what}: expected exactly one of {fields}, found {found}")]
    OneOf {
        /// The message being parsed.
        what: &'static str,
        /// The members of the oneof, for the message.
        fields: &'static str,
        /// How many were set.
        found: usize,
    },
    /// A field holds text that is not valid base64.
    #[error("decoding {field}: invalid base64")]
    Base64 {
        /// The field being decoded.
        field: &'static str,
        /// The underlying decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// A list is longer than the limit sigstore-go enforces (denial-of-service guard).
    #[error("too many {what}: {count} > {max}")]
    TooMany {
        /// What was counted (e.g. "tlog entries").
        what: &'static str,
        /// How many the input has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The legacy Rekor bundle's `Payload.body` is not a JSON string.
    #[error("bundle payload body is not a string")]
    BodyNotString,
    /// A number cannot be written as canonical JSON.
    #[error("canonical JSON: number {0} cannot be represented")]
    BadNumber(String),
    /// The simple-signing payload is not of cosign's type.
    #[error("Cosign signature payload was of an unknown type: {0:?}")]
    UnknownPayloadType(String),
    /// The digest claimed in a simple-signing payload is not the image digest.
    #[error("invalid or missing digest in claim: {0}")]
    DigestClaimMismatch(String),
    /// A required annotation is missing from the payload or has another value.
    #[error("missing or incorrect annotation: {key:?}")]
    AnnotationMismatch {
        /// The annotation key that did not match.
        key: String,
    },
    /// A `--type` is neither a known shortcut nor an absolute URI.
    #[error("invalid predicate type: {0}")]
    InvalidPredicateType(String),
    /// A predicate file does not fit its predicate type.
    #[error("{0}")]
    Predicate(String),
    /// An in-toto statement is malformed (fail closed: GHSA-w6c6-c85g-mmv6).
    #[error("invalid in-toto statement: {0}")]
    Statement(String),
}
