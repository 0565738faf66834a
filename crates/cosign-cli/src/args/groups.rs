//! Flag groups shared by many commands (flattened where each command declares them, so that
//! help lists flags in cosign's order).

use std::path::PathBuf;

use clap::Args;

use super::*;

/// The signing key source group (sign, sign-blob, attest, attest-blob).
#[derive(Debug, Args)]
pub struct SigningKeyArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long)]
    pub sk: bool,
    /// security key slot to use for generated key (default: signature)
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
    /// path to the X.509 certificate in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// The transparency log group.
#[derive(Debug, Args)]
pub struct RekorArgs {
    /// address of rekor STL server (also COSIGN_REKOR_URL)
    #[arg(long, default_value = "https://rekor.sigstore.dev", value_name = "URL")]
    pub rekor_url: String,
    /// whether or not to upload to the tlog
    #[arg(long, default_value_t = true)]
    pub tlog_upload: bool,
}

/// Transparency log flags of the verify commands.
#[derive(Debug, Args, Clone)]
pub struct VerifyLogArgs {
    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long)]
    pub insecure_ignore_tlog: bool,
    /// Path to a Sigstore TrustedRoot JSON file (its tlogs are the trusted transparency logs)
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// skip transparency log verification when verifying artifacts in a privately deployed infrastructure
    #[arg(long, hide = true)]
    pub private_infrastructure: bool,
    /// address of rekor STL server
    #[arg(
        long,
        default_value = "https://rekor.sigstore.dev",
        value_name = "URL",
        hide = true
    )]
    pub rekor_url: String,
    /// only allow offline verification (a log entry must come with the signature)
    #[arg(long, hide = true)]
    pub offline: bool,
}

/// Registry access flags (every command that talks to a registry).
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// whether to allow insecure connections to registries (e.g., with expired or self-signed TLS certificates). Don't use this for anything but testing
    #[arg(long)]
    pub allow_insecure_registry: bool,
    /// whether to allow using HTTP protocol while connecting to registries. Don't use this for anything but testing
    #[arg(long)]
    pub allow_http_registry: bool,
    /// registry basic auth username
    #[arg(long, value_name = "USER")]
    pub registry_username: Option<String>,
    /// registry basic auth password
    #[arg(long, value_name = "PASSWORD")]
    pub registry_password: Option<String>,
    /// registry bearer auth token
    #[arg(long, value_name = "TOKEN")]
    pub registry_token: Option<String>,
    /// path to the X.509 CA certificate file in PEM format to be used for the connection to the registry
    #[arg(long, value_name = "FILE")]
    pub registry_cacert: Option<PathBuf>,
    /// path to the X.509 certificate file in PEM format to be used for the connection to the registry
    #[arg(long, value_name = "FILE")]
    pub registry_client_cert: Option<PathBuf>,
    /// path to the X.509 private key file in PEM format to be used, together with the 'registry-client-cert' value, for the connection to the registry
    #[arg(long, value_name = "FILE")]
    pub registry_client_key: Option<PathBuf>,
    /// SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the registry
    #[arg(long, value_name = "NAME")]
    pub registry_server_name: Option<String>,
    /// optional custom prefix to use for attached image tags. Attachment images are tagged as: `[AttachmentTagPrefix]sha256-[TargetImageDigest].[AttachmentName]`
    #[arg(long, value_name = "PREFIX", hide = true)]
    pub attachment_tag_prefix: Option<String>,
}

// ----- artifacts: SBOMs, uploads, copy, save/load, tree, Dockerfile/manifest verify --------

/// The `--registry-referrers-mode` flag (registry experimental group).
#[derive(Debug, Args, Clone)]
pub struct ReferrersModeArgs {
    /// mode for fetching references from the registry. allowed: legacy, oci-1-1
    #[arg(long, value_enum, default_value = "legacy")]
    pub registry_referrers_mode: ReferrersMode,
}

/// The verification key of the verify commands.
#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long)]
    pub sk: bool,
}

/// Where `verify` and `verify-attestation` read images from, and how many at once.
#[derive(Debug, Args)]
pub struct ImageVerifyArgs {
    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: u32,
    /// whether the specified image is a path to an image saved locally via 'cosign save'
    #[arg(long)]
    pub local_image: bool,
    /// check referrers too (always on: both storage formats are searched)
    #[arg(long, default_value_t = true, hide = true)]
    pub experimental_oci11: bool,
}
