//! `cosign bundle`: flags of `create`, with Go cosign 3.1.2's help texts. The deprecated
//! `--rekor-url` is hidden, as cobra hides deprecated flags.

use clap::{Args, Subcommand};

/// `cosign bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Create a Sigstore protobuf bundle
    // Not wrapped: the examples' long lines stay whole.
    #[command(
        term_width = 0,
        long_about = "Create a Sigstore protobuf bundle by supplying signed material",
        after_help = "Examples:\n  # create a bundle from a signature and certificate\n  cosign bundle create --artifact <path> --signature <sig> --certificate <cert> --out bundle.sigstore.json\n\n  # create a bundle from an attestation\n  cosign bundle create --artifact <path> --attestation <att> --out bundle.sigstore.json"
    )]
    Create(BundleCreateArgs),
    /// Inspect a Sigstore protobuf bundle
    Inspect(BundleInspectArgs),
    /// Upgrade a Sigstore protobuf bundle
    #[command(
        long_about = "Upgrade a Sigstore Protobuf bundle to the latest version. This command only supports standardized bundles."
    )]
    Upgrade(BundleUpgradeArgs),
}

/// `cosign bundle inspect BUNDLE`.
#[derive(Debug, Args)]
pub struct BundleInspectArgs {
    /// The bundle to inspect.
    #[arg(value_name = "BUNDLE")]
    pub bundle: String,
}

/// `cosign bundle upgrade <bundle>`.
#[derive(Debug, Args)]
pub struct BundleUpgradeArgs {
    /// The bundle to upgrade.
    #[arg(value_name = "bundle")]
    pub bundle: String,
    /// path to the output upgraded bundle file
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// URL of the transparency log
    #[arg(long, value_name = "URL", default_value = "https://rekor.sigstore.dev")]
    pub rekor_url: String,
}

/// `cosign bundle create`.
#[derive(Debug, Args)]
pub struct BundleCreateArgs {
    /// path to artifact FILE
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<String>,
    /// path to attestation FILE
    #[arg(long, value_name = "FILE")]
    pub attestation: Option<String>,
    /// path to old format bundle FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<String>,
    #[arg(
        long,
        value_name = "FILE",
        help = "path to the signing certificate, likely from Fulcio."
    )]
    pub certificate: Option<String>,
    #[arg(
        long,
        help = "ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log."
    )]
    pub ignore_tlog: bool,
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// path to output bundle
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// address of rekor STL server
    #[arg(long, value_name = "URL", hide = true)]
    pub rekor_url: Option<String>,
    /// path to RFC3161 timestamp FILE
    #[arg(long, value_name = "FILE")]
    pub rfc3161_timestamp: Option<String>,
    /// path to base64-encoded signature over attestation in DSSE format
    #[arg(long, value_name = "FILE")]
    pub signature: Option<String>,
    /// whether to use a hardware security key
    #[arg(long)]
    pub sk: bool,
    /// security key slot to use for generated key (authentication|signature|card-authentication|key-management)
    #[arg(long, value_name = "SLOT", default_value = "signature")]
    pub slot: String,
}
