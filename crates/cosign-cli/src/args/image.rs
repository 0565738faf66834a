//! Flags of the image commands: `sign`, `verify`, `attest`, `verify-attestation`, `generate`,
//! `attach`, `download`, `triangulate`, `clean`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};

use cosign_oci::ImageRef;

use cosign_types::oci::Platform;

use super::*;

/// `cosign sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The images to sign (by digest, preferably)
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Signing key flags.
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Transparency log flags.
    #[command(flatten)]
    pub rekor: RekorArgs,
    /// Keyless and service flags.
    #[command(flatten)]
    pub services: SigningServicesArgs,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// extra key=value pairs to sign
    #[arg(
        short = 'a',
        long = "annotations",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
    /// whether to upload the signature
    #[arg(long, default_value_t = true)]
    pub upload: bool,
    /// if a multi-arch image is specified, additionally sign each discrete image
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// store a Sigstore bundle (DSSE, v0.3) as an OCI 1.1 referrer instead of the legacy .sig tag
    #[arg(long)]
    pub new_bundle_format: bool,
    /// write the Sigstore bundle (new format) to FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Referrers mode flag.
    #[command(flatten)]
    pub referrers: ReferrersModeArgs,
    /// path to a payload file to use rather than generating one
    #[arg(long, value_name = "FILE", hide = true)]
    pub payload: Option<PathBuf>,
    /// write the signature to FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub output_signature: Option<PathBuf>,
    /// write the signed payload to FILE
    #[arg(long, value_name = "FILE", hide = true)]
    pub output_payload: Option<PathBuf>,
    /// write the certificate to FILE
    #[arg(long, alias = "output-cert", value_name = "FILE", hide = true)]
    pub output_certificate: Option<PathBuf>,
    /// path to a list of CA X.509 certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate. Included in the OCI Signature
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Option<PathBuf>,
}

/// `cosign verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The images to verify
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Verification key flags.
    #[command(flatten)]
    pub key: VerifyKeyArgs,
    /// Certificate (keyless) verification flags.
    #[command(flatten)]
    pub cert: CertVerifyArgs,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// extra key=value pairs to verify
    #[arg(
        short = 'a',
        long = "annotations",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
    /// whether to check the claims found
    #[arg(long, default_value_t = true)]
    pub check_claims: bool,
    /// output format for the signing image information (json|text)
    #[arg(short = 'o', long, value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
    /// Image source and parallelism flags.
    #[command(flatten)]
    pub images_from: ImageVerifyArgs,
}

/// `cosign generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// extra key=value pairs to sign
    #[arg(
        short = 'a',
        long = "annotations",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
}

/// `cosign attach ...`.
#[derive(Debug, Subcommand)]
pub enum AttachCommand {
    /// Attach signatures to the supplied container image
    #[command(
        after_help = "Examples:\n  # attach a payload and a base64 signature made with another tool\n  cosign attach signature --payload payload.json --signature payload.sig <IMAGE>\n\n  # read the signature from standard input\n  openssl dgst -sha256 -sign k.pem payload.json | base64 | cosign attach signature --payload payload.json --signature - <IMAGE>"
    )]
    Signature(AttachSignatureArgs),
    /// DEPRECATED: Attach attestation to the supplied container image
    #[command(
        long_about = "Attach attestation to the supplied container image.\n\nEach --attestation file holds signed DSSE envelopes (JSON lines; payload type\napplication/vnd.in-toto+json, at least one signature), stored as layers of the\nsha256-<hex>.att tag; a Sigstore bundle file is stored as an OCI 1.1 referrer instead.",
        after_help = "Examples:\n  cosign attach attestation --attestation <attestation file path> <image uri>\n\n  # several files\n  cosign attach attestation --attestation a.json --attestation b.json <image uri>"
    )]
    Attestation(AttachAttestationArgs),
    /// DEPRECATED: Attach sbom to the supplied container image
    #[command(
        long_about = "Attach sbom to the supplied container image\n\nWARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.",
        after_help = "Examples:\n  cosign attach sbom --sbom <sbom file> <image uri>\n\n  # a CycloneDX JSON SBOM, read from standard input\n  syft -o cyclonedx-json <image> | cosign attach sbom --type cyclonedx --input-format json --sbom - <image uri>\n\n  # sign the SBOM through its tag, as the image's .sbom attachment\n  cosign sign --key cosign.key <registry>/<repo>:sha256-<hex>.sbom"
    )]
    Sbom(AttachSbomArgs),
}

/// `cosign attach signature`.
#[derive(Debug, Args)]
pub struct AttachSignatureArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to the signature, or the signature itself (base64), or - for standard input
    #[arg(long, value_name = "SIGNATURE", allow_hyphen_values = true)]
    pub signature: Option<String>,
    /// path to the payload covered by the signature (or a Sigstore bundle)
    #[arg(long, alias = "bundle", value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// path to the X.509 certificate in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// path to a list of CA X.509 certificates in PEM format which will be needed when building the certificate chain for the signing certificate
    #[arg(long, alias = "cert-chain", value_name = "FILE")]
    pub certificate_chain: Option<PathBuf>,
}

/// `cosign download ...`.
#[derive(Debug, Subcommand)]
pub enum DownloadCommand {
    /// Download signatures from the supplied container image
    #[command(after_help = "Examples:\n  cosign download signature <IMAGE>")]
    Signature(DownloadSignatureArgs),
    /// Download in-toto attestations from the supplied container image
    #[command(
        after_help = "Examples:\n  cosign download attestation <image uri>\n\n  # only one predicate type, of one platform of a multi-platform index\n  cosign download attestation --predicate-type slsaprovenance --platform linux/amd64 <image uri>"
    )]
    Attestation(DownloadAttestationArgs),
    /// DEPRECATED: Download SBOMs from the supplied container image
    #[command(
        long_about = "Download SBOMs from the supplied container image\n\nWARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.",
        after_help = "Examples:\n  cosign download sbom <image uri>\n\n  # the SBOM of one platform of a multi-platform index\n  cosign download sbom --platform linux/arm64 <image uri>"
    )]
    Sbom(DownloadSbomArgs),
}

/// `cosign download signature`.
#[derive(Debug, Args)]
pub struct DownloadSignatureArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `cosign triangulate`.
#[derive(Debug, Args)]
pub struct TriangulateArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// related attachment to triangulate (attestation|sbom|signature|digest)
    #[arg(long = "type", default_value = "signature", value_enum)]
    pub kind: TriangulateType,
}

/// `cosign clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// a type of clean: <signature|attestation|sbom|referrer|all> (sbom is deprecated)
    #[arg(long = "type", default_value = "all", value_enum)]
    pub kind: CleanKind,
    /// do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `cosign attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The image to attest (by digest, preferably)
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Signing key flags.
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Transparency log flags.
    #[command(flatten)]
    pub rekor: RekorArgs,
    /// Keyless and service flags.
    #[command(flatten)]
    pub services: SigningServicesArgs,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to the predicate file, or - for standard input
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub predicate: Option<String>,
    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,
    /// path to the statement file (accepted and ignored, as cosign does: attest-blob signs statements)
    #[arg(long, value_name = "FILE", hide = true)]
    pub statement: Option<PathBuf>,
    /// do not upload the generated attestation, but send it to stdout
    #[arg(long)]
    pub no_upload: bool,
    /// replace the existing attestations of the same predicate type (legacy .att storage)
    #[arg(long)]
    pub replace: bool,
    /// write everything required to verify the attestation to FILE (a Sigstore bundle with --new-bundle-format, else cosign's legacy bundle JSON)
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// store a Sigstore bundle (DSSE, v0.3) as an OCI 1.1 referrer instead of the legacy .att tag
    #[arg(long)]
    pub new_bundle_format: bool,
    /// specifies the type to be used for a rekor entry upload (dsse|intoto)
    #[arg(long, value_enum, default_value = "dsse", value_name = "TYPE")]
    pub rekor_entry_type: EntryType,
}

/// `cosign verify-attestation`.
#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// The images to verify (with --local-image: a directory written by cosign save)
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Verification key flags.
    #[command(flatten)]
    pub key: VerifyKeyArgs,
    /// Certificate (keyless) verification flags.
    #[command(flatten)]
    pub cert: CertVerifyArgs,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,
    /// specify CUE or Rego files with policies to be used for validation
    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    pub policy: Vec<PathBuf>,
    /// whether to check the claims found
    #[arg(long, default_value_t = true)]
    pub check_claims: bool,
    /// output format for the signing image information (accepted; attestations are always printed as their DSSE envelopes)
    #[arg(short = 'o', long, value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
    /// Image source and parallelism flags.
    #[command(flatten)]
    pub images_from: ImageVerifyArgs,
}

/// `cosign attach attestation`.
#[derive(Debug, Args)]
pub struct AttachAttestationArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to the attestation envelope (JSON lines of signed DSSE envelopes, or a Sigstore bundle); repeatable
    #[arg(long, value_name = "FILE", required = true, action = ArgAction::Append)]
    pub attestation: Vec<PathBuf>,
}

/// `cosign download attestation`.
#[derive(Debug, Args)]
pub struct DownloadAttestationArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// download attestations of this predicate type only (a --type shortcut or a URI)
    #[arg(long, value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// download the attestations of the image of this platform in a multi-platform index (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM", value_parser = platform)]
    pub platform: Option<Platform>,
}
