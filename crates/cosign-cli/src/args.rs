//! The command line, as clap types: the root command, reusable flag groups and each command's
//! flags. Values are raw here; `commands::*` turn them into typed library requests.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::settings::{parse_go_bool, parse_go_duration};

/// Help text shown at the top of `cosign --help`.
const ABOUT: &str = "A tool for Container Signing, Verification and Storage in an OCI registry.";

/// The `cosign` command line.
#[derive(Debug, Parser)]
#[command(
    name = "cosign",
    about = ABOUT,
    disable_version_flag = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Persistent flags of the root command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// log output to a file
    #[arg(long, global = true, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// log debug output
    #[arg(short = 'd', long, global = true, default_value_t = false, action = ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = parse_go_bool)]
    pub verbose: bool,
    /// timeout for commands
    #[arg(short = 't', long, global = true, default_value = "3m0s", value_name = "DURATION",
          value_parser = parse_go_duration)]
    pub timeout: Duration,
}

/// All commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generates a key-pair.
    #[command(
        name = "generate-key-pair",
        long_about = "Generates a key-pair for signing.",
        after_help = "Examples:\n  # generate key-pair and write to cosign.key and cosign.pub files\n  cosign generate-key-pair\n\n  # generate key-pair and write to custom named my-name.key and my-name.pub files\n  cosign generate-key-pair --output-key-prefix my-name\n\n  # the password is read from COSIGN_PASSWORD when set (it may be empty), else asked twice on\n  # the terminal, else read from all of standard input\n  COSIGN_PASSWORD=secret cosign generate-key-pair"
    )]
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Imports a PEM-encoded RSA, EC or Ed25519 private key.
    #[command(
        name = "import-key-pair",
        long_about = "Imports a PEM-encoded private key (PKCS#1 RSA, SEC1 EC, or PKCS#8 RSA/ECDSA/Ed25519) and writes it as an encrypted cosign key pair.",
        after_help = "Examples:\n  # import a PEM key and write import-cosign.key and import-cosign.pub\n  cosign import-key-pair --key openssl.key\n\n  # choose the output names\n  cosign import-key-pair --key openssl.key --output-key-prefix my-key"
    )]
    ImportKeyPair(ImportKeyPairArgs),
    /// Gets a public key from the key-pair.
    #[command(
        name = "public-key",
        long_about = "Gets a public key from the key-pair and writes to a specified file. By default, it will write to standard out.",
        after_help = "Examples:\n  # extract public key from private key to a specified out file.\n  cosign public-key --key <PRIVATE KEY FILE> --outfile <OUTPUT>\n\n  # extract public key from an encrypted key held in an environment variable\n  cosign public-key --key env://COSIGN_PRIVATE_KEY"
    )]
    PublicKey(PublicKeyArgs),
    /// Sign the supplied blob, outputting the base64-encoded signature to stdout.
    #[command(
        name = "sign-blob",
        after_help = "Examples:\n  cosign sign-blob --key <key path> --tlog-upload=false <blob>\n\n  # sign standard input (set COSIGN_PASSWORD: standard input carries the blob)\n  git rev-parse HEAD | COSIGN_PASSWORD=... cosign sign-blob --key cosign.key --tlog-upload=false -\n\n  # write a legacy bundle (signature and public key) next to the blob\n  cosign sign-blob --key cosign.key --tlog-upload=false --bundle file.bundle file\n\n  # write a Sigstore bundle v0.3 instead\n  cosign sign-blob --key cosign.key --tlog-upload=false --new-bundle-format --bundle file.sigstore.json file\n\n  # record the signature in your own transparency log (tlog-server), and print its index\n  cosign sign-blob --key cosign.key --rekor-url http://127.0.0.1:3000 --bundle file.bundle file"
    )]
    SignBlob(SignBlobArgs),
    /// Verify a signature on the supplied blob.
    #[command(
        name = "verify-blob",
        long_about = "Verify a signature on the supplied blob input using the specified key reference.\nYou may specify either a key or a bundle. The blob may be a file, - for standard input, or\nsha256:<hex> (a digest) when the signature scheme signs a digest.",
        after_help = "Examples:\n  # verify a signature with a public key (prints Verified OK on stderr)\n  cosign verify-blob --key cosign.pub --signature sig --insecure-ignore-tlog <blob>\n\n  # the signature may be given as base64 text instead of a file\n  cosign verify-blob --key cosign.pub --signature MEUCIQ... --insecure-ignore-tlog <blob>\n\n  # verify a bundle written by sign-blob --bundle (legacy or Sigstore v0.3: detected)\n  cosign verify-blob --key cosign.pub --bundle file.bundle --insecure-ignore-tlog <blob>\n\n  # verify by digest\n  cosign verify-blob --key cosign.pub --bundle file.sigstore.json --insecure-ignore-tlog sha256:<hex>\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
    )]
    VerifyBlob(VerifyBlobArgs),
    /// Sign the supplied container image.
    #[command(
        long_about = "Sign the supplied container image.\n\nThe signature is stored beside the image: in the legacy layout (a sha256-<hex>.sig tag\nholding one layer per signature) by default, or as a Sigstore bundle attached as an OCI 1.1\nreferrer with --new-bundle-format.",
        after_help = "Examples:\n  # sign a container image with a local key pair file (by digest, as recommended)\n  cosign sign --key cosign.key --tlog-upload=false <IMAGE DIGEST>\n\n  # sign with extra annotations, checked later with verify -a\n  cosign sign --key cosign.key --tlog-upload=false -a tag=v1 -a team=infra <IMAGE DIGEST>\n\n  # sign every manifest of a multi-platform index too\n  cosign sign --key cosign.key --tlog-upload=false -r <IMAGE INDEX DIGEST>\n\n  # only print the signature, do not upload it\n  cosign sign --key cosign.key --tlog-upload=false --upload=false <IMAGE DIGEST>\n\n  # store a Sigstore bundle as an OCI 1.1 referrer instead of the .sig tag\n  cosign sign --key cosign.key --tlog-upload=false --new-bundle-format <IMAGE DIGEST>\n\n  # record the signature in your own transparency log (tlog-server); the proof is stored\n  # with the signature\n  cosign sign --key cosign.key --rekor-url http://127.0.0.1:3000 <IMAGE DIGEST>"
    )]
    Sign(SignArgs),
    /// Verify a signature on the supplied container image
    #[command(
        long_about = "Verify signature and annotations on an image by checking the claims\nagainst the transparency log.\n\nBoth storage formats are found: the legacy .sig tag and Sigstore bundles attached as OCI 1.1\nreferrers (or their sha256-<hex> fallback tag). Exit codes: 10 no signatures, 11 image tag\nnot found, 12 no matching signature.",
        after_help = "Examples:\n  # verify cosign claims and signing certificates on the image with a public key\n  cosign verify --key cosign.pub --insecure-ignore-tlog <IMAGE>\n\n  # additionally verify specified annotations\n  cosign verify --key cosign.pub --insecure-ignore-tlog -a key1=val1 -a key2=val2 <IMAGE>\n\n  # print the raw payloads instead of JSON\n  cosign verify --key cosign.pub --insecure-ignore-tlog -o text <IMAGE>\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
    )]
    Verify(VerifyArgs),
    /// Generates (unsigned) signature payloads from the supplied container image.
    #[command(
        long_about = "Generates an unsigned payload from the supplied container image and flags.\nThis payload matches the one generated by the \"cosign sign\" command and can be used if you need\nto sign payloads with another tool.",
        after_help = "Examples:\n  # generate a payload for an image and sign it with openssl\n  cosign generate <IMAGE> > payload.json\n  openssl dgst -sha256 -sign openssl.key -out payload.sig payload.json"
    )]
    Generate(GenerateArgs),
    /// Provides utilities for attaching artifacts to other artifacts in a registry
    #[command(subcommand)]
    Attach(AttachCommand),
    /// Provides utilities for downloading artifacts and attached artifacts in a registry
    #[command(subcommand)]
    Download(DownloadCommand),
    /// Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type.
    #[command(
        after_help = "Examples:\n  cosign triangulate <IMAGE>\n  cosign triangulate --type attestation <IMAGE>"
    )]
    Triangulate(TriangulateArgs),
    /// Remove all signatures from an image.
    #[command(
        after_help = "Examples:\n  # remove all signatures, attestations, SBOMs and bundle referrers, without asking\n  cosign clean -f <IMAGE>\n\n  # remove only the .sig signatures\n  cosign clean --type signature <IMAGE>"
    )]
    Clean(CleanArgs),
    /// Prints the cosign version
    Version(VersionArgs),
    /// Generate completion script
    #[command(
        long_about = "To load completions:\n\nBash:\n  $ source <(cosign completion bash)\n\nZsh:\n  $ cosign completion zsh > \"${fpath[1]}/_cosign\"\n\nfish:\n  $ cosign completion fish | source\n\nPowerShell:\n  PS> cosign completion powershell | Out-String | Invoke-Expression"
    )]
    Completion(CompletionArgs),
    /// Prints Cosign environment variables
    Env(EnvArgs),
}

/// `cosign version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// print JSON instead of text
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub json: bool,
}

/// `cosign completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh, fish or powershell
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell"])]
    pub shell: String,
}

/// `cosign env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// show descriptions for environment variables
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub show_descriptions: bool,
    /// show values of sensitive environment variables
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub show_sensitive_values: bool,
}

/// `cosign generate-key-pair`.
#[derive(Debug, Args)]
pub struct GenerateKeyPairArgs {
    /// create key pair in KMS service to use for signing
    #[arg(long, value_name = "URI")]
    pub kms: Option<String>,
    /// name used for generated .pub and .key files (defaults to `cosign`)
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub output_key_prefix: String,
    /// k8s://ns/secret, github://owner/repo or gitlab://project to store the keys in (not supported by this build yet)
    pub destination: Option<String>,
}

/// `cosign import-key-pair`.
#[derive(Debug, Args)]
pub struct ImportKeyPairArgs {
    /// import key pair to use for signing
    #[arg(short = 'k', long, value_name = "FILE")]
    pub key: PathBuf,
    /// name used for outputted key pairs (defaults to `import-cosign`)
    #[arg(
        short = 'o',
        long,
        default_value = "import-cosign",
        value_name = "PREFIX"
    )]
    pub output_key_prefix: String,
    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub yes: bool,
}

/// `cosign public-key`.
#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// path to the public key file (default: standard output)
    #[arg(long, value_name = "FILE")]
    pub outfile: Option<PathBuf>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub sk: bool,
    /// security key slot to use for generated key
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
}

/// The signing key source group (sign, sign-blob, attest, attest-blob).
#[derive(Debug, Args)]
pub struct SigningKeyArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub sk: bool,
    /// security key slot to use for generated key (default: signature)
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
    /// path to the X.509 certificate in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub yes: bool,
}

/// The transparency log group.
#[derive(Debug, Args)]
pub struct RekorArgs {
    /// address of rekor STL server (also COSIGN_REKOR_URL)
    #[arg(long, default_value = "https://rekor.sigstore.dev", value_name = "URL")]
    pub rekor_url: String,
    /// whether or not to upload to the tlog
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub tlog_upload: bool,
}

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
    /// write everything required to verify the blob to a FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// write a Sigstore bundle v0.3 (protobuf JSON) to --bundle instead of the legacy formats
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub new_bundle_format: bool,
    /// whether to base64 encode the output
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
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
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub sk: bool,
    /// security key slot to use for generated key
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
    /// signature content or path or remote URL
    #[arg(long, value_name = "SIGNATURE")]
    pub signature: Option<String>,
    /// path to bundle FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub insecure_ignore_tlog: bool,
    /// skip transparency log verification when verifying artifacts in a privately deployed infrastructure
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub private_infrastructure: bool,
    /// only allow offline verification
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub offline: bool,
    /// expect a Sigstore bundle (the format is detected either way)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub new_bundle_format: bool,
    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: u32,
    /// address of rekor STL server
    #[arg(
        long,
        default_value = "https://rekor.sigstore.dev",
        value_name = "URL",
        hide = true
    )]
    pub rekor_url: String,
    /// Path to a Sigstore TrustedRoot JSON file (its tlogs are the trusted transparency logs)
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

/// Registry access flags (every command that talks to a registry).
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// whether to allow insecure connections to registries (e.g., with expired or self-signed TLS certificates). Don't use this for anything but testing
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub allow_insecure_registry: bool,
    /// whether to allow using HTTP protocol while connecting to registries. Don't use this for anything but testing
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
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
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub upload: bool,
    /// if a multi-arch image is specified, additionally sign each discrete image
    #[arg(short = 'r', long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub recursive: bool,
    /// store a Sigstore bundle (DSSE, v0.3) as an OCI 1.1 referrer instead of the legacy .sig tag
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub new_bundle_format: bool,
    /// write the Sigstore bundle (new format) to FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// mode for fetching references from the registry. allowed: legacy, oci-1-1
    #[arg(long, default_value = "legacy", value_parser = ["legacy", "oci-1-1"])]
    pub registry_referrers_mode: String,
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
}

/// `cosign verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The images to verify
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub sk: bool,
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
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub check_claims: bool,
    /// output format for the signing image information (json|text)
    #[arg(short = 'o', long, default_value = "json", value_parser = ["json", "text"])]
    pub output: String,
    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub insecure_ignore_tlog: bool,
    /// skip transparency log verification when verifying artifacts in a privately deployed infrastructure
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub private_infrastructure: bool,
    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: u32,
    /// address of rekor STL server
    #[arg(
        long,
        default_value = "https://rekor.sigstore.dev",
        value_name = "URL",
        hide = true
    )]
    pub rekor_url: String,
    /// Path to a Sigstore TrustedRoot JSON file (its tlogs are the trusted transparency logs)
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// only allow offline verification (a log entry must come with the signature)
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub offline: bool,
    /// check referrers too (always on: both storage formats are searched)
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool,
          hide = true)]
    pub experimental_oci11: bool,
}

/// `cosign generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
}

/// `cosign attach signature`.
#[derive(Debug, Args)]
pub struct AttachSignatureArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
}

/// `cosign download signature`.
#[derive(Debug, Args)]
pub struct DownloadSignatureArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `cosign triangulate`.
#[derive(Debug, Args)]
pub struct TriangulateArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// related attachment to triangulate (attestation|sbom|signature|digest)
    #[arg(long = "type", default_value = "signature", value_parser = ["signature", "attestation", "sbom", "digest"])]
    pub kind: String,
}

/// `cosign clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// a type of clean: <signature|attestation|sbom|referrer|all> (sbom is deprecated)
    #[arg(long = "type", default_value = "all", value_parser = ["all", "signature", "attestation", "sbom", "referrer"])]
    pub kind: String,
    /// do not prompt for confirmation
    #[arg(short = 'f', long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub force: bool,
}
