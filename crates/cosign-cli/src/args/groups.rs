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
    /// security key slot to use for generated key (default: signature) (authentication|signature|card-authentication|key-management)
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
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

/// The certificate (keyless) flags of the verify commands, as Go cosign's `CertVerifyOptions`.
/// The flags Go marks deprecated are accepted and hidden, as cobra hides them.
#[derive(Debug, Args, Clone, Default)]
pub struct CertVerifyArgs {
    /// The identity expected in a valid Fulcio certificate. Valid values include email address, DNS names, IP addresses, and URIs. Either --certificate-identity or --certificate-identity-regexp must be set for keyless flows.
    #[arg(long, value_name = "IDENTITY")]
    pub certificate_identity: Option<String>,
    /// A regular expression alternative to --certificate-identity. Accepts the Go regular expression syntax described at https://golang.org/s/re2syntax (unanchored: it matches anywhere in the value unless anchored with ^ and $). Either --certificate-identity or --certificate-identity-regexp must be set for keyless flows.
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer expected in a valid Fulcio certificate, e.g. https://token.actions.githubusercontent.com or https://oauth2.sigstore.dev/auth. Either --certificate-oidc-issuer or --certificate-oidc-issuer-regexp must be set for keyless flows.
    #[arg(long, value_name = "ISSUER")]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression alternative to --certificate-oidc-issuer. Accepts the Go regular expression syntax described at https://golang.org/s/re2syntax (unanchored). Either --certificate-oidc-issuer or --certificate-oidc-issuer-regexp must be set for keyless flows.
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// contains the event_name claim from the GitHub OIDC Identity token that contains the name of the event that triggered the workflow run
    #[arg(long, value_name = "TRIGGER")]
    pub certificate_github_workflow_trigger: Option<String>,
    /// contains the sha claim from the GitHub OIDC Identity token that contains the commit SHA that the workflow run was based upon.
    #[arg(long, value_name = "SHA")]
    pub certificate_github_workflow_sha: Option<String>,
    /// contains the workflow claim from the GitHub OIDC Identity token that contains the name of the executed workflow.
    #[arg(long, value_name = "NAME")]
    pub certificate_github_workflow_name: Option<String>,
    /// contains the repository claim from the GitHub OIDC Identity token that contains the repository that the workflow run was based upon
    #[arg(long, value_name = "REPOSITORY")]
    pub certificate_github_workflow_repository: Option<String>,
    /// contains the ref claim from the GitHub OIDC Identity token that contains the git ref that the workflow run was based upon.
    #[arg(long, value_name = "REF")]
    pub certificate_github_workflow_ref: Option<String>,
    /// when set, verification will not check that a certificate contains an embedded SCT, a proof of inclusion in a certificate transparency log
    #[arg(long)]
    pub insecure_ignore_sct: bool,
    /// verify rfc3161 timestamps
    #[arg(long)]
    pub use_signed_timestamps: bool,
    /// path to the public certificate. The certificate will be verified against the Fulcio roots if the --certificate-chain option is not passed.
    #[arg(long, value_name = "FILE", hide = true)]
    pub certificate: Option<PathBuf>,
    /// path to a list of CA certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate. Conflicts with --ca-roots and --ca-intermediates.
    #[arg(long, value_name = "FILE", hide = true, conflicts_with_all = ["ca_roots", "ca_intermediates"])]
    pub certificate_chain: Option<PathBuf>,
    /// path to a bundle file of CA certificates in PEM format which will be needed when building the certificate chains for the signing certificate. Conflicts with --certificate-chain.
    #[arg(long, value_name = "FILE", hide = true)]
    pub ca_roots: Option<PathBuf>,
    /// path to a file of intermediate CA certificates in PEM format which will be needed when building the certificate chains for the signing certificate. The flag is optional and must be used together with --ca-roots, conflicts with --certificate-chain.
    #[arg(long, value_name = "FILE", hide = true)]
    pub ca_intermediates: Option<PathBuf>,
    /// path to a detached Signed Certificate Timestamp, formatted as a RFC6962 AddChainResponse struct. If a certificate contains an SCT, verification will check both the detached and embedded SCTs.
    #[arg(long, value_name = "FILE", hide = true)]
    pub sct: Option<PathBuf>,
    /// path to PEM-encoded certificate chain file for the RFC3161 timestamp authority. Must contain the root CA certificate. Optionally may contain intermediate CA certificates, and may contain the leaf TSA certificate if not present in the timestamp
    #[arg(long, value_name = "FILE", hide = true)]
    pub timestamp_certificate_chain: Option<PathBuf>,
}

impl CertVerifyArgs {
    /// Whether any identity flag was given.
    pub fn has_identity(&self) -> bool {
        self.certificate_identity.is_some() || self.certificate_identity_regexp.is_some()
    }
}

/// The keyless and service flags of the signing commands (sign, sign-blob, attest,
/// attest-blob): Fulcio, the OIDC identity token, timestamp authorities, signing configs and the
/// trusted root that checks what the services answer. Go's deprecated flags are hidden, as Go
/// hides them.
#[derive(Debug, Args)]
pub struct SigningServicesArgs {
    /// address of sigstore PKI server
    #[arg(
        long,
        default_value = "https://fulcio.sigstore.dev",
        value_name = "URL",
        hide = true
    )]
    pub fulcio_url: String,
    /// identity token to use for certificate from fulcio. the token or a path to a file containing the token is accepted.
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,
    /// fulcio interactive oauth2 flow to use for certificate from fulcio. Defaults to determining the flow based on the runtime environment. (options) normal|device|token|client_credentials
    #[arg(long, value_name = "FLOW")]
    pub fulcio_auth_flow: Option<String>,
    /// skip verifying fulcio published to the SCT (this should only be used for testing).
    #[arg(long, hide = true)]
    pub insecure_skip_verify: bool,
    /// OIDC provider to be used to issue ID token
    #[arg(
        long,
        default_value = cosign_keyless::oidc::DEFAULT_OIDC_ISSUER,
        value_name = "URL",
        hide = true
    )]
    pub oidc_issuer: String,
    /// OIDC client ID for application
    #[arg(long, default_value = "sigstore", value_name = "ID")]
    pub oidc_client_id: String,
    /// Path to file containing OIDC client secret for application
    #[arg(long, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// OIDC redirect URL (Optional). The default oidc-redirect-url is 'http://localhost:0/auth/callback'.
    #[arg(long, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// Specify the provider to get the OIDC token from (Optional). If unset, all options will be tried. Options include: [spiffe, google, github-actions, filesystem, buildkite-agent]
    #[arg(long, value_name = "PROVIDER")]
    pub oidc_provider: Option<String>,
    /// Disable ambient OIDC providers. When true, ambient credentials will not be read
    #[arg(long)]
    pub oidc_disable_ambient_providers: bool,
    /// issue a code signing certificate from Fulcio, even if a key is provided
    #[arg(long, hide = true)]
    pub issue_certificate: bool,
    /// signing algorithm to use for signing/hashing (allowed ecdsa-sha2-256-nistp256, ecdsa-sha2-384-nistp384, ecdsa-sha2-512-nistp521, rsa-sign-pkcs1-2048-sha256, rsa-sign-pkcs1-3072-sha256, rsa-sign-pkcs1-4096-sha256)
    #[arg(
        long,
        default_value = "ecdsa-sha2-256-nistp256",
        value_name = "ALGORITHM"
    )]
    pub signing_algorithm: String,
    /// path to the X.509 CA certificate file in PEM format to be used for the connection to the TSA Server
    #[arg(long, value_name = "FILE")]
    pub timestamp_client_cacert: Option<PathBuf>,
    /// path to the X.509 certificate file in PEM format to be used for the connection to the TSA Server
    #[arg(long, value_name = "FILE")]
    pub timestamp_client_cert: Option<PathBuf>,
    /// path to the X.509 private key file in PEM format to be used, together with the 'timestamp-client-cert' value, for the connection to the TSA Server
    #[arg(long, value_name = "FILE")]
    pub timestamp_client_key: Option<PathBuf>,
    /// SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the TSA Server
    #[arg(long, value_name = "NAME")]
    pub timestamp_server_name: Option<String>,
    /// url to the Timestamp RFC3161 server, default none. Must be the path to the API to request timestamp responses, e.g. https://freetsa.org/tsr
    #[arg(long, value_name = "URL", hide = true)]
    pub timestamp_server_url: Option<String>,
    /// whether to use a TUF-provided signing config for the service URLs (used when a Sigstore bundle is written and no service URL flag is given)
    #[arg(long, default_value_t = true)]
    pub use_signing_config: bool,
    /// path to a signing config file
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
    /// optional path to a TrustedRoot JSON file to verify a signature after signing
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}
