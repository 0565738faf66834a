//! Flags of the key commands (`generate-key-pair`, `import-key-pair`, `public-key`,
//! `pkcs11-tool`) and of `version`, `completion` and `env`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::*;

/// `cosign version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `cosign completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh, fish or powershell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `cosign env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// show descriptions for environment variables
    #[arg(long, default_value_t = true)]
    pub show_descriptions: bool,
    /// show values of sensitive environment variables
    #[arg(long)]
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
    /// k8s://namespace/secret: store the keys in a Kubernetes Secret (github:// and gitlab:// are not supported by this build)
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
    #[arg(short = 'y', long)]
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
    #[arg(long)]
    pub sk: bool,
    /// security key slot to use for generated key
    #[arg(long, value_name = "SLOT")]
    pub slot: Option<String>,
}

/// `cosign pkcs11-tool`.
#[derive(Debug, Args)]
pub struct Pkcs11ToolArgs {
    /// skip warnings and confirmations
    #[arg(short = 'f', long = "no-input", global = true)]
    pub no_input: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Pkcs11ToolCommand,
}

/// `cosign pkcs11-tool` subcommands.
#[derive(Debug, Subcommand)]
pub enum Pkcs11ToolCommand {
    /// list-tokens lists all PKCS11 tokens linked to a PKCS11 module
    #[command(
        name = "list-tokens",
        after_help = "Examples:\n  cosign pkcs11-tool list-tokens --module-path /usr/lib/softhsm/libsofthsm2.so\n\n  # the module path may come from the environment\n  COSIGN_PKCS11_MODULE_PATH=/usr/lib/softhsm/libsofthsm2.so cosign pkcs11-tool list-tokens"
    )]
    ListTokens(Pkcs11ListTokensArgs),
    /// list-keys-uris lists URIs of all keys in a PKCS11 token
    #[command(
        name = "list-keys-uris",
        after_help = "Examples:\n  # slot IDs come from list-tokens; the PIN is asked for when neither --pin nor\n  # COSIGN_PKCS11_PIN gives it\n  cosign pkcs11-tool list-keys-uris --module-path /usr/lib/softhsm/libsofthsm2.so --slot-id 0\n\n  # then sign with one of the printed URIs\n  cosign sign-blob --tlog-upload=false --key 'pkcs11:token=...;slot-id=...;id=%01;object=...?module-path=...' file"
    )]
    ListKeysUris(Pkcs11ListKeysUrisArgs),
}

/// `cosign pkcs11-tool list-tokens`.
#[derive(Debug, Args)]
pub struct Pkcs11ListTokensArgs {
    /// absolute path to the PKCS11 module (default: $COSIGN_PKCS11_MODULE_PATH)
    #[arg(long, value_name = "PATH")]
    pub module_path: Option<PathBuf>,
}

/// `cosign pkcs11-tool list-keys-uris`.
#[derive(Debug, Args)]
pub struct Pkcs11ListKeysUrisArgs {
    /// absolute path to the PKCS11 module (default: $COSIGN_PKCS11_MODULE_PATH)
    #[arg(long, value_name = "PATH")]
    pub module_path: Option<PathBuf>,
    /// id of the PKCS11 slot, uses 0 if empty
    #[arg(long, default_value_t = 0)]
    pub slot_id: u64,
    /// pin of the PKCS11 slot, uses environment variable COSIGN_PKCS11_PIN if empty
    #[arg(long)]
    pub pin: Option<String>,
}

/// `cosign initialize`.
#[derive(Debug, Args)]
pub struct InitializeArgs {
    /// GCS bucket to a SigStore TUF repository, or HTTP(S) base URL, or file:/// for local filestore remote (air-gap)
    #[arg(
        long,
        default_value = "https://tuf-repo-cdn.sigstore.dev",
        value_name = "URL"
    )]
    pub mirror: String,
    /// path to trusted initial root. defaults to embedded root
    #[arg(long, value_name = "FILE|URL")]
    pub root: Option<String>,
    /// checksum of the initial root, required if root is downloaded via http(s). expects sha512 by default, can be changed to sha256 by providing sha256:<checksum>
    #[arg(long, value_name = "CHECKSUM")]
    pub root_checksum: Option<String>,
    /// use the Sigstore staging instance: its TUF mirror and embedded root
    #[arg(long)]
    pub staging: bool,
}
