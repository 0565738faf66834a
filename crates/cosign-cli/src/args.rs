//! The command line, as clap types: the root command, reusable flag groups and each command's
//! flags. Values are raw here; `commands::*` turn them into typed library requests.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::settings::parse_go_duration;

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

impl Cli {
    /// The command line as it is parsed: Go booleans ([`crate::settings::go_bool_flags`]) and
    /// `COSIGN_<FLAG>` bindings ([`crate::env::bind_flag_env`]) applied to the derived command.
    pub fn full_command() -> clap::Command {
        crate::env::bind_flag_env(crate::settings::go_bool_flags(
            <Self as clap::CommandFactory>::command(),
        ))
    }
}

/// Persistent flags of the root command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// log output to a file
    #[arg(long, global = true, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// log debug output
    #[arg(short = 'd', long, global = true)]
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
        after_help = "Examples:\n  # extract public key from private key to a specified out file.\n  cosign public-key --key <PRIVATE KEY FILE> --outfile <OUTPUT>\n\n  # extract public key from an encrypted key held in an environment variable\n  cosign public-key --key env://COSIGN_PRIVATE_KEY\n\n  # extract the public key of a key on a PKCS11 token (URIs: cosign pkcs11-tool list-keys-uris)\n  cosign public-key --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234'"
    )]
    PublicKey(PublicKeyArgs),
    /// Sign the supplied blob, outputting the base64-encoded signature to stdout.
    #[command(
        name = "sign-blob",
        after_help = "Examples:\n  cosign sign-blob --key <key path> --tlog-upload=false <blob>\n\n  # sign standard input (set COSIGN_PASSWORD: standard input carries the blob)\n  git rev-parse HEAD | COSIGN_PASSWORD=... cosign sign-blob --key cosign.key --tlog-upload=false -\n\n  # write a legacy bundle (signature and public key) next to the blob\n  cosign sign-blob --key cosign.key --tlog-upload=false --bundle file.bundle file\n\n  # write a Sigstore bundle v0.3 instead\n  cosign sign-blob --key cosign.key --tlog-upload=false --new-bundle-format --bundle file.sigstore.json file\n\n  # record the signature in your own transparency log (tlog-server), and print its index\n  cosign sign-blob --key cosign.key --rekor-url http://127.0.0.1:3000 --bundle file.bundle file\n\n  # sign with a key on a PKCS11 token (PIN from pin-value, COSIGN_PKCS11_PIN, else asked for)\n  cosign sign-blob --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --tlog-upload=false file"
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
        after_help = "Examples:\n  # sign a container image with a local key pair file (by digest, as recommended)\n  cosign sign --key cosign.key --tlog-upload=false <IMAGE DIGEST>\n\n  # sign with extra annotations, checked later with verify -a\n  cosign sign --key cosign.key --tlog-upload=false -a tag=v1 -a team=infra <IMAGE DIGEST>\n\n  # sign every manifest of a multi-platform index too\n  cosign sign --key cosign.key --tlog-upload=false -r <IMAGE INDEX DIGEST>\n\n  # only print the signature, do not upload it\n  cosign sign --key cosign.key --tlog-upload=false --upload=false <IMAGE DIGEST>\n\n  # store a Sigstore bundle as an OCI 1.1 referrer instead of the .sig tag\n  cosign sign --key cosign.key --tlog-upload=false --new-bundle-format <IMAGE DIGEST>\n\n  # record the signature in your own transparency log (tlog-server); the proof is stored\n  # with the signature\n  cosign sign --key cosign.key --rekor-url http://127.0.0.1:3000 <IMAGE DIGEST>\n\n  # sign with a key on a PKCS11 token; a certificate stored beside the key is attached\n  COSIGN_PKCS11_PIN=1234 cosign sign --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --tlog-upload=false <IMAGE DIGEST>"
    )]
    Sign(SignArgs),
    /// Verify a signature on the supplied container image
    #[command(
        long_about = "Verify signature and annotations on an image by checking the claims\nagainst the transparency log.\n\nBoth storage formats are found: the legacy .sig tag and Sigstore bundles attached as OCI 1.1\nreferrers (or their sha256-<hex> fallback tag). Exit codes: 10 no signatures, 11 image tag\nnot found, 12 no matching signature.",
        after_help = "Examples:\n  # verify cosign claims and signing certificates on the image with a public key\n  cosign verify --key cosign.pub --insecure-ignore-tlog <IMAGE>\n\n  # additionally verify specified annotations\n  cosign verify --key cosign.pub --insecure-ignore-tlog -a key1=val1 -a key2=val2 <IMAGE>\n\n  # print the raw payloads instead of JSON\n  cosign verify --key cosign.pub --insecure-ignore-tlog -o text <IMAGE>\n\n  # verify with the public key of a key on a PKCS11 token (no PIN needed)\n  cosign verify --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --insecure-ignore-tlog <IMAGE>\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
    )]
    Verify(VerifyArgs),
    /// Attest the supplied container image.
    #[command(
        long_about = "Attest the supplied container image.\n\nThe predicate file is wrapped in an in-toto statement about the image digest, signed as a\nDSSE envelope and stored beside the image: as a layer of the sha256-<hex>.att tag by default,\nor as a Sigstore bundle attached as an OCI 1.1 referrer with --new-bundle-format.",
        after_help = "Examples:\n  # attest a container image with a local key pair file (by digest, as recommended)\n  cosign attest --predicate <FILE> --type <TYPE> --key cosign.key <IMAGE DIGEST>\n\n  # an SPDX JSON SBOM, recorded in your own transparency log\n  cosign attest --predicate sbom.spdx.json --type spdxjson --key cosign.key --rekor-url http://127.0.0.1:3000 <IMAGE DIGEST>\n\n  # any predicate type URI; replace the image's earlier attestations of that type\n  cosign attest --predicate p.json --type https://example.com/my/v1 --replace --key cosign.key --tlog-upload=false <IMAGE DIGEST>\n\n  # print the signed envelope instead of uploading it\n  cosign attest --predicate <FILE> --key cosign.key --tlog-upload=false --no-upload <IMAGE DIGEST>\n\n  # store a Sigstore bundle as an OCI 1.1 referrer, and keep a copy\n  cosign attest --predicate <FILE> --key cosign.key --tlog-upload=false --new-bundle-format --bundle att.sigstore.json <IMAGE DIGEST>\n\nPredicate types: custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1, link,\nspdx, spdxjson, cyclonedx, vuln, openvex, or any absolute URI."
    )]
    Attest(AttestArgs),
    /// Verify an attestation on the supplied container image
    #[command(
        name = "verify-attestation",
        long_about = "Verify an attestation on an image by checking the claims\nagainst the transparency log.\n\nOnly attestations whose statement has the --type predicate type count. Both storage formats\nare found: the legacy .att tag and Sigstore bundles attached as OCI 1.1 referrers. Each\nverified DSSE envelope is printed on standard output, one per line. Exit codes: 10 no\nattestations, 11 image tag not found, 12 no matching attestation.",
        after_help = "Examples:\n  # verify cosign attestations on the image against the public key\n  cosign verify-attestation --key cosign.pub --insecure-ignore-tlog <IMAGE>\n\n  # verify attestations of a predicate type, and decode their statements\n  cosign verify-attestation --key cosign.pub --type spdxjson --insecure-ignore-tlog <IMAGE> | jq -r .payload | base64 -d\n\n  # check them against Rego policies (package signature, rule allow; input is the statement)\n  cosign verify-attestation --key cosign.pub --type custom --policy policy.rego --insecure-ignore-tlog <IMAGE>\n\n  # verify the log entries offline against your log's key\n  SIGSTORE_REKOR_PUBLIC_KEY=rekor.pub cosign verify-attestation --key cosign.pub <IMAGE>\n\n  # verify an image saved with cosign save\n  cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --local-image <DIRECTORY>\n\nCUE policies (.cue) need the cue program on PATH (cue vet is run on them)."
    )]
    VerifyAttestation(VerifyAttestationArgs),
    /// Attest the supplied blob.
    #[command(
        name = "attest-blob",
        long_about = "Attest the supplied blob.\n\nThe blob is read once, in constant memory, for the subject's SHA-256 (or --hash gives it);\nthe subject's name is the blob's base name. The signed DSSE envelope is printed on standard\noutput unless --output-signature is given.",
        after_help = "Examples:\n  # attest a file; the DSSE envelope goes to stdout\n  cosign attest-blob --predicate <FILE> --type <TYPE> --key cosign.key --tlog-upload=false <BLOB> > blob.att.json\n\n  # write a Sigstore bundle v0.3, recorded in your own transparency log\n  cosign attest-blob --predicate <FILE> --key cosign.key --rekor-url http://127.0.0.1:3000 --new-bundle-format --bundle blob.sigstore.json <BLOB>\n\n  # sign an in-toto statement as is\n  cosign attest-blob --statement statement.json --key cosign.key --tlog-upload=false\n\n  # attest by digest, without reading the blob\n  cosign attest-blob --predicate <FILE> --hash <SHA256 HEX> --key cosign.key --tlog-upload=false <NAME>"
    )]
    AttestBlob(AttestBlobArgs),
    /// Verify an attestation on the supplied blob
    #[command(
        name = "verify-blob-attestation",
        long_about = "Verify an attestation on the supplied blob input using the specified key reference.\nThe attestation comes from --signature (the DSSE envelope attest-blob printed) or --bundle\n(legacy or Sigstore bundle, detected). Any statement or predicate that does not parse, a\nmissing predicate type, another predicate type or a subject that does not match fails.",
        after_help = "Examples:\n  # verify an envelope written by attest-blob (prints Verified OK on stderr)\n  cosign verify-blob-attestation --key cosign.pub --signature blob.att.json --type <TYPE> --insecure-ignore-tlog <BLOB>\n\n  # verify a bundle against a digest instead of the blob\n  cosign verify-blob-attestation --key cosign.pub --bundle blob.sigstore.json --digest <HEX> --digestAlg sha256 --insecure-ignore-tlog\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
    )]
    VerifyBlobAttestation(VerifyBlobAttestationArgs),
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
    /// Copy the supplied container image and signatures.
    #[command(
        long_about = "Copy the supplied container image and signatures.\n\nThe image (or index), its .sig/.att/.sbom images and its OCI 1.1 referrers (any artifact\ntype) are copied; blobs are mounted when both sides are on one registry. A destination\nwithout the referrers API gets the sha256-<hex> fallback index.",
        after_help = "Examples:\n  cosign copy <source image> <destination image>\n\n  # copy a container image and its signatures\n  cosign copy example.com/src:latest example.com/dest:latest\n\n  # copy the signatures only\n  cosign copy --only=sig example.com/src example.com/dest\n\n  # copy the signatures, attestations, sbom only\n  cosign copy --only=sig,att,sbom example.com/src example.com/dest\n\n  # overwrite destination image and signatures\n  cosign copy -f example.com/src example.com/dest\n\n  # copy a container image and its signatures for a specific platform\n  cosign copy --platform=linux/amd64 example.com/src:latest example.com/dest:latest"
    )]
    Copy(CopyArgs),
    /// Save the container image and associated signatures to disk at the specified directory.
    #[command(
        long_about = "Save the container image and associated signatures to disk at the specified directory.\n\nThe directory is an OCI image layout (oci-layout, index.json, blobs/sha256) that skopeo's\noci: transport also reads; referrers are kept as blobs.",
        after_help = "Examples:\n  cosign save --dir <path to directory> <IMAGE>\n\n  # verify the saved image without a registry\n  cosign verify --key cosign.pub --insecure-ignore-tlog --local-image <path to directory>"
    )]
    Save(SaveArgs),
    /// Load a signed image on disk to a remote registry
    #[command(
        long_about = "Load a signed image on disk to a remote registry: the image (or index), its .sig/.att/.sbom\nimages (tags computed for the destination repository) and its referrers.",
        after_help = "Examples:\n  cosign load --dir <path to directory> <IMAGE>"
    )]
    Load(LoadArgs),
    /// Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations
    #[command(after_help = "Examples:\n  cosign tree <IMAGE>")]
    Tree(TreeArgs),
    /// Provides utilities for uploading artifacts to a registry
    #[command(subcommand)]
    Upload(UploadCommand),
    /// Provides utilities for discovering images in and performing operations on Dockerfiles
    #[command(subcommand)]
    Dockerfile(DockerfileCommand),
    /// Provides utilities for discovering images in and performing operations on Kubernetes manifests
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Provides utilities for retrieving information from a PKCS11 token.
    #[command(
        name = "pkcs11-tool",
        long_about = "Provides utilities for retrieving information from a PKCS11 token.\n\nThe PKCS11 module (a shared library such as SoftHSM2's libsofthsm2.so or a vendor's HSM\nmodule) is loaded at run time from --module-path or COSIGN_PKCS11_MODULE_PATH.",
        after_help = "Examples:\n  cosign pkcs11-tool list-tokens --module-path /usr/lib/softhsm/libsofthsm2.so\n  cosign pkcs11-tool list-keys-uris --module-path /usr/lib/softhsm/libsofthsm2.so --slot-id <SLOT> --pin <PIN>"
    )]
    Pkcs11Tool(Pkcs11ToolArgs),
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
    #[arg(long)]
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
    #[arg(long)]
    pub new_bundle_format: bool,
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
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long)]
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
    #[arg(long)]
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
    #[arg(long, default_value_t = true)]
    pub check_claims: bool,
    /// output format for the signing image information (json|text)
    #[arg(short = 'o', long, default_value = "json", value_parser = ["json", "text"])]
    pub output: String,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
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
    #[arg(short = 'f', long)]
    pub force: bool,
}

// ----- artifacts: SBOMs, uploads, copy, save/load, tree, Dockerfile/manifest verify --------

/// The `--registry-referrers-mode` flag (registry experimental group).
#[derive(Debug, Args, Clone)]
pub struct ReferrersModeArgs {
    /// mode for fetching references from the registry. allowed: legacy, oci-1-1
    #[arg(long, default_value = "legacy", value_parser = ["legacy", "oci-1-1"])]
    pub registry_referrers_mode: String,
}

/// `cosign attach sbom`.
#[derive(Debug, Args)]
pub struct AttachSbomArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// download SBOM for a specific platform image (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The destination image
    #[arg(value_name = "DESTINATION")]
    pub destination: String,
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
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
}

/// `cosign save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
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

/// `cosign attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The image to attest (by digest, preferably)
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Signing key flags.
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Transparency log flags.
    #[command(flatten)]
    pub rekor: RekorArgs,
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
    #[arg(long, default_value = "dsse", value_parser = ["dsse", "intoto"], value_name = "TYPE")]
    pub rekor_entry_type: String,
}

/// `cosign verify-attestation`.
#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// The images to verify (with --local-image: a directory written by cosign save)
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long)]
    pub sk: bool,
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
    #[arg(short = 'o', long, default_value = "json", value_parser = ["json", "text"])]
    pub output: String,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
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
    /// write a Sigstore bundle v0.3 (protobuf JSON) to --bundle instead of the legacy format
    #[arg(long)]
    pub new_bundle_format: bool,
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
    #[arg(long, default_value = "dsse", value_parser = ["dsse", "intoto"], value_name = "TYPE")]
    pub rekor_entry_type: String,
}

/// `cosign verify-blob-attestation`.
#[derive(Debug, Args)]
pub struct VerifyBlobAttestationArgs {
    /// The blob the attestation is about (a file, or - for standard input); not needed with --digest or --check-claims=false
    #[arg(value_name = "BLOB")]
    pub blob: Option<String>,
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// whether to use a hardware security key (not supported by this build)
    #[arg(long)]
    pub sk: bool,
    /// path to the signed DSSE envelope (as attest-blob prints it)
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
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
    #[arg(long = "digestAlg", default_value = "sha256", value_parser = ["sha256", "sha384", "sha512"], value_name = "ALG")]
    pub digest_alg: String,
    /// Transparency log flags.
    #[command(flatten)]
    pub log: VerifyLogArgs,
    /// expect a Sigstore bundle (the format is detected either way)
    #[arg(long, hide = true)]
    pub new_bundle_format: bool,
}

/// `cosign attach attestation`.
#[derive(Debug, Args)]
pub struct AttachAttestationArgs {
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// download attestations of this predicate type only (a --type shortcut or a URI)
    #[arg(long, value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// download the attestations of the image of this platform in a multi-platform index (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
}
