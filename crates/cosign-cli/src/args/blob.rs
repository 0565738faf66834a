//! Flags of the blob commands: `sign-blob`, `verify-blob`, `attest-blob`,
//! `verify-blob-attestation`.

use std::path::PathBuf;

use clap::Args;

use super::*;

/// `cosign sign-blob`.
#[derive(Debug, Args)]
pub struct SignBlobArgs {
    /// The blobs to sign: file paths, or - for standard input
    #[arg(required = true, value_name = "BLOB")]
    pub blobs: Vec<String>,
    /// Signing key flags.
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Transparency log flags.
    #[command(flatten)]
    pub rekor: RekorArgs,
    /// Keyless and service flags.
    #[command(flatten)]
    pub services: SigningServicesArgs,
    /// write everything required to verify the blob to a FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// output bundle in new format that contains all verification material (the default with --bundle; =false writes cosign's legacy bundle)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = crate::settings::parse_go_bool)]
    pub new_bundle_format: Option<bool>,
    /// write the RFC3161 timestamp to a file
    #[arg(long, value_name = "FILE", hide = true)]
    pub rfc3161_timestamp: Option<PathBuf>,
    /// whether to base64 encode the output
    #[arg(long, default_value_t = true, hide = true)]
    pub b64: bool,
    /// write the signature to FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub output_signature: Option<PathBuf>,
    /// write the signature to FILE (deprecated: use --output-signature)
    #[arg(long, value_name = "FILE", hide = true)]
    pub output: Option<PathBuf>,
    /// write the certificate to FILE
    #[arg(long, alias = "output-cert", value_name = "FILE", hide = true)]
    pub output_certificate: Option<PathBuf>,
}

/// `cosign verify-blob`.
#[derive(Debug, Args)]
pub struct VerifyBlobArgs {
    /// The blob: a file path, - for standard input, or sha256:<hex>
    #[arg(value_name = "BLOB")]
    pub blob: String,
    /// Verification key flags.
    #[command(flatten)]
    pub key: VerifyKeyArgs,
    /// Certificate (keyless) verification flags.
    #[command(flatten)]
    pub cert: CertVerifyArgs,
    /// signature content or path or remote URL
    #[arg(long, value_name = "SIGNATURE")]
    pub signature: Option<String>,
    /// path to RFC3161 timestamp FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub rfc3161_timestamp: Option<PathBuf>,
    /// path to bundle FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
    /// expect a Sigstore bundle (the format is detected either way)
    #[arg(long, hide = true)]
    pub new_bundle_format: bool,
    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: u32,
}

/// `cosign attest-blob`.
#[derive(Debug, Args)]
pub struct AttestBlobArgs {
    /// The blob the statement is about (a file, or - for standard input); not needed with --statement
    #[arg(value_name = "BLOB")]
    pub blob: Option<String>,
    /// Signing key flags.
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Transparency log flags.
    #[command(flatten)]
    pub rekor: RekorArgs,
    /// Keyless and service flags.
    #[command(flatten)]
    pub services: SigningServicesArgs,
    /// path to the predicate file, or - for standard input
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub predicate: Option<String>,
    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,
    /// path to an in-toto statement to sign as is (instead of --predicate and --type)
    #[arg(long, value_name = "FILE")]
    pub statement: Option<PathBuf>,
    /// hex-encoded SHA-256 of the blob, used as the subject digest instead of reading the blob
    #[arg(long, value_name = "HEX")]
    pub hash: Option<String>,
    /// write everything required to verify the attestation to FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// output bundle in new format that contains all verification material (the default with --bundle; =false writes cosign's legacy bundle)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = crate::settings::parse_go_bool)]
    pub new_bundle_format: Option<bool>,
    /// write the RFC3161 timestamp to a file
    #[arg(long, value_name = "FILE", hide = true)]
    pub rfc3161_timestamp: Option<PathBuf>,
    /// write the signed DSSE envelope to FILE instead of standard output
    #[arg(long, value_name = "FILE", hide = true)]
    pub output_signature: Option<PathBuf>,
    /// write the signed statement to FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub output_attestation: Option<PathBuf>,
    /// write the certificate to FILE
    #[arg(long, alias = "output-cert", value_name = "FILE", hide = true)]
    pub output_certificate: Option<PathBuf>,
    /// specifies the type to be used for a rekor entry upload (dsse|intoto)
    #[arg(long, value_enum, default_value = "dsse", value_name = "TYPE")]
    pub rekor_entry_type: EntryType,
}

/// `cosign verify-blob-attestation`.
#[derive(Debug, Args)]
pub struct VerifyBlobAttestationArgs {
    /// The blob the attestation is about (a file, or - for standard input); not needed with --digest or --check-claims=false
    #[arg(value_name = "BLOB")]
    pub blob: Option<String>,
    /// Verification key flags.
    #[command(flatten)]
    pub key: VerifyKeyArgs,
    /// Certificate (keyless) verification flags.
    #[command(flatten)]
    pub cert: CertVerifyArgs,
    /// path to the signed DSSE envelope (as attest-blob prints it)
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// path to RFC3161 timestamp FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub rfc3161_timestamp: Option<PathBuf>,
    /// path to bundle FILE (legacy or Sigstore bundle, detected)
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,
    /// if true, verifies the digest exists in the in-toto subject (using either the provided digest and digest algorithm or the provided blob's sha256 digest)
    #[arg(long, default_value_t = true)]
    pub check_claims: bool,
    /// Digest to use for verifying in-toto subject (instead of providing a blob)
    #[arg(long, value_name = "HEX")]
    pub digest: Option<String>,
    /// Digest algorithm to use for verifying in-toto subject (instead of providing a blob)
    #[arg(
        long = "digestAlg",
        default_value = "sha256",
        value_enum,
        value_name = "ALG"
    )]
    pub digest_alg: DigestAlg,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
    /// expect a Sigstore bundle (the format is detected either way)
    #[arg(long, hide = true)]
    pub new_bundle_format: bool,
    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: u32,
}
