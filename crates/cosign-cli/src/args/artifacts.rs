//! Flags of the artifact commands: SBOMs, uploads, `copy`, `save`, `load`, `tree`, and
//! `dockerfile`/`manifest verify`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use cosign_oci::ImageRef;

use cosign_types::oci::Platform;

use super::*;

/// `cosign attach sbom`.
#[derive(Debug, Args)]
pub struct AttachSbomArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Referrers mode flag.
    #[command(flatten)]
    pub referrers: ReferrersModeArgs,
    /// path to the sbom, or {-} for stdin
    #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
    pub sbom: String,
    /// type of sbom (spdx|cyclonedx|syft)
    #[arg(long = "type", default_value = "spdx", value_name = "TYPE")]
    pub kind: String,
    /// type of sbom input format (json|xml|text)
    #[arg(
        long,
        default_value = "",
        value_name = "FORMAT",
        hide_default_value = true
    )]
    pub input_format: String,
}

/// `cosign download sbom`.
#[derive(Debug, Args)]
pub struct DownloadSbomArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// download SBOM for a specific platform image (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM", value_parser = platform)]
    pub platform: Option<Platform>,
}

/// `cosign upload ...`.
#[derive(Debug, Subcommand)]
pub enum UploadCommand {
    /// Upload one or more blobs to the supplied container image address.
    #[command(
        after_help = "Examples:\n  cosign upload blob -f <blob ref> <image uri>\n\n  # upload a blob named foo to the location specified by <IMAGE>\n  cosign upload blob -f foo <IMAGE>\n\n  # upload a blob named foo to the location specified by <IMAGE>, setting the os field to \"MYOS\".\n  cosign upload blob -f foo:MYOS <IMAGE>\n\n  # upload a blob named foo to the location specified by <IMAGE>, setting the os field to \"MYOS\" and the platform field to \"MYPLATFORM\".\n  cosign upload blob -f foo:MYOS/MYPLATFORM <IMAGE>\n\n  # upload two blobs named foo-darwin and foo-linux to the location specified by <IMAGE>, setting the os fields\n  cosign upload blob -f foo-darwin:darwin -f foo-linux:linux <IMAGE>\n\n  # upload a blob named foo to the location specified by <IMAGE>, setting annotations mykey=myvalue.\n  cosign upload blob -a mykey=myvalue -f foo <IMAGE>\n\n  # upload a blob named foo to the location specified by <IMAGE> with the content type application/json\n  cosign upload blob --ct application/json -f foo <IMAGE>"
    )]
    Blob(UploadBlobArgs),
    /// Upload a wasm module to the supplied container image reference
    #[command(after_help = "Examples:\n  cosign upload wasm -f foo.wasm <image uri>")]
    Wasm(UploadWasmArgs),
}

/// `cosign upload blob`.
#[derive(Debug, Args)]
pub struct UploadBlobArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// <filepath>:[platform/arch]
    #[arg(
        short = 'f',
        long = "files",
        value_name = "FILE",
        required = true,
        value_delimiter = ','
    )]
    pub files: Vec<String>,
    /// content type to set
    #[arg(long = "ct", value_name = "TYPE")]
    pub content_type: Option<String>,
    /// annotations to set
    #[arg(
        short = 'a',
        long = "annotation",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
}

/// `cosign upload wasm`.
#[derive(Debug, Args)]
pub struct UploadWasmArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to the wasm file to upload
    #[arg(short = 'f', long = "file", value_name = "FILE", required = true)]
    pub file: PathBuf,
}

/// `cosign copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The source image
    #[arg(value_name = "SOURCE", value_parser = image_ref)]
    pub source: ImageRef,
    /// The destination image
    #[arg(value_name = "DESTINATION", value_parser = image_ref)]
    pub destination: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// custom string array to only copy specific items, this flag is comma delimited. ex: --only=sig,att,sbom
    #[arg(
        long,
        value_name = "ITEMS",
        default_value = "",
        hide_default_value = true
    )]
    pub only: String,
    /// [DEPRECATED] only copy the image signature
    #[arg(long)]
    pub sig_only: bool,
    /// overwrite destination image(s), if necessary
    #[arg(short = 'f', long)]
    pub force: bool,
    /// only copy container image and its signatures for a specific platform image
    #[arg(long, value_name = "PLATFORM", value_parser = platform)]
    pub platform: Option<Platform>,
}

/// `cosign save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to dir where the signed image should be stored on disk
    #[arg(long, value_name = "DIR", required = true)]
    pub dir: PathBuf,
}

/// `cosign load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// path to directory where the signed image is stored on disk
    #[arg(long, value_name = "DIR", required = true)]
    pub dir: PathBuf,
}

/// `cosign tree`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// The image
    #[arg(value_name = "IMAGE", value_parser = image_ref)]
    pub image: ImageRef,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Referrers mode flag.
    #[command(flatten)]
    pub referrers: ReferrersModeArgs,
    /// set to true to enable experimental OCI 1.1 behaviour
    #[arg(long, default_value_t = true, hide = true)]
    pub experimental_oci11: bool,
}

/// `cosign dockerfile ...`.
#[derive(Debug, Subcommand)]
pub enum DockerfileCommand {
    /// Verify a signature on the base image specified in the Dockerfile
    #[command(
        long_about = "Verify signature and annotations on images in a Dockerfile by checking claims\nagainst the transparency log.\n\nShell-style substitution of ARG and ENV values (and of the environment, like --build-arg)\nis applied to FROM lines; build-stage names and scratch are skipped. Every image is then\nverified as `cosign verify` would, with the same flags and exit codes.",
        after_help = "Examples:\n  cosign dockerfile verify --key <key path>|<kms uri> <path/to/Dockerfile>\n\n  # verify only the base image (the last FROM image in the Dockerfile)\n  cosign dockerfile verify --base-image-only --key cosign.pub --insecure-ignore-tlog Dockerfile\n\n  # additionally verify specified annotations\n  cosign dockerfile verify -a key1=val1 -a key2=val2 --key cosign.pub --insecure-ignore-tlog Dockerfile",
        mut_arg("images", |a| a.value_name("DOCKERFILE").num_args(1).help("The Dockerfile"))
    )]
    Verify(DockerfileVerifyArgs),
}

/// `cosign dockerfile verify`.
#[derive(Debug, Args)]
pub struct DockerfileVerifyArgs {
    /// only verify the base image (the last FROM image in the Dockerfile)
    #[arg(long)]
    pub base_image_only: bool,
    /// The flags of `cosign verify` (the positional argument is the Dockerfile).
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// `cosign manifest ...`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Verify all signatures of images specified in the manifest
    #[command(
        long_about = "Verify all signature of images in a Kubernetes resource manifest by checking claims\nagainst the transparency log.\n\nEvery image: field of every document in the file is verified as `cosign verify` would, with\nthe same flags and exit codes.",
        after_help = "Examples:\n  cosign manifest verify --key <key path>|<kms uri> <path/to/manifest>\n\n  # additionally verify specified annotations\n  cosign manifest verify -a key1=val1 -a key2=val2 --key cosign.pub --insecure-ignore-tlog deployment.yaml",
        mut_arg("images", |a| a.value_name("MANIFEST").num_args(1).help("The Kubernetes YAML file"))
    )]
    Verify(ManifestVerifyArgs),
}

/// `cosign manifest verify`.
#[derive(Debug, Args)]
pub struct ManifestVerifyArgs {
    /// The flags of `cosign verify` (the positional argument is the manifest file).
    #[command(flatten)]
    pub verify: VerifyArgs,
}
