//! `cosign signing-config`: flags of `create`, with Go cosign 3.1.2's help texts.

use clap::{Args, Subcommand};

/// `cosign signing-config` subcommands.
#[derive(Debug, Subcommand)]
pub enum SigningConfigCommand {
    /// Create a Sigstore protobuf signing config
    // Not wrapped: the examples' long lines end in `\`, which must stay at their ends.
    #[command(
        term_width = 0,
        long_about = "Create a Sigstore protobuf signing config by supplying verification material for Fulcio, Rekor, OIDC, and TSA services.\nEach service is specified via a repeatable flag (--fulcio, --rekor, --oidc-provider, --tsa) that takes a comma-separated list of key-value pairs.\n\nUse --base-config to start from an existing signing config and override specific services. Service flags will replace services from the base config.",
        after_help = "Examples:\n  # Create from scratch\n  cosign signing-config create \\\n      --fulcio=\"url=https://fulcio.sigstore.dev,api-version=1,start-time=2024-01-01T00:00:00Z,end-time=2025-01-01T00:00:00Z,operator=sigstore.dev\" \\\n      --rekor=\"url=https://rekor.sigstore.dev,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev\" \\\n      --rekor-config=\"ANY\" \\\n      --oidc-provider=\"url=https://oauth2.sigstore.dev/auth,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev\" \\\n      --tsa=\"url=https://timestamp.sigstore.dev/api/v1/timestamp,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev\" \\\n      --tsa-config=\"EXACT:1\" \\\n      --out signing-config.json\n\n  # Use Sigstore TUF defaults\n  cosign signing-config create \\\n      --with-default-services \\\n      --out sigstore-signing-config.json\n\n  # Override OIDC provider from base config\n  cosign signing-config create \\\n      --base-config signing_config.v0.2.json \\\n      --oidc-provider=\"url=https://custom-oidc.example.com,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example.com\" \\\n      --out custom-signing-config.json"
    )]
    Create(SigningConfigCreateArgs),
}

/// `cosign signing-config create`.
#[derive(Debug, Args)]
pub struct SigningConfigCreateArgs {
    #[arg(
        long,
        value_name = "FILE",
        help = "path to base signing config file to use as starting point. Service flags will replace services from the base config."
    )]
    pub base_config: Option<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "fulcio service specification, as a comma-separated key-value list.\nRequired keys: url, api-version (integer), start-time, operator. Optional keys: end-time."
    )]
    pub fulcio: Vec<String>,
    #[arg(
        long,
        help = "removes the default Fulcio URLs from the signing config."
    )]
    pub no_default_fulcio: bool,
    #[arg(
        long,
        help = "removes the default OIDC provider URLs from the signing config."
    )]
    pub no_default_oidc: bool,
    #[arg(long, help = "removes the default Rekor URLs from the signing config.")]
    pub no_default_rekor: bool,
    #[arg(long, help = "removes the default TSA URLs from the signing config.")]
    pub no_default_tsa: bool,
    #[arg(
        long,
        value_name = "SPEC",
        help = "oidc provider specification, as a comma-separated key-value list.\nRequired keys: url, api-version (integer), start-time, operator. Optional keys: end-time."
    )]
    pub oidc_provider: Vec<String>,
    /// path to output signing config
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "rekor service specification, as a comma-separated key-value list.\nRequired keys: url, api-version (integer), start-time, operator. Optional keys: end-time."
    )]
    pub rekor: Vec<String>,
    /// rekor configuration. Required if --rekor is provided. One of: ANY, ALL, EXACT:<count>
    #[arg(long, value_name = "SELECTOR")]
    pub rekor_config: Option<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "timestamping authority specification, as a comma-separated key-value list.\nRequired keys: url, api-version (integer), start-time, operator. Optional keys: end-time."
    )]
    pub tsa: Vec<String>,
    /// timestamping authority configuration. Required if --tsa is provided. One of: ANY, ALL, EXACT:<count>
    #[arg(long, value_name = "SELECTOR")]
    pub tsa_config: Option<String>,
    #[arg(
        long = "with-default-rekor-v2",
        help = "use the Sigstore TUF root, with the Rekor v2 service, as default values to populate the signing config. Specifying the other service flags will override the default values."
    )]
    pub with_default_rekor_v2: bool,
    #[arg(
        long,
        help = "use the Sigstore TUF root as default values to populate the signing config. Specifying the other service flags will override the default values."
    )]
    pub with_default_services: bool,
    /// Arguments cosign takes and ignores
    #[arg(hide = true, value_name = "ARG")]
    pub ignored: Vec<String>,
}
