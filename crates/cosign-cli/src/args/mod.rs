//! The command line, as clap types: the root command, reusable flag groups and each command's
//! flags, with closed value sets as [`clap::ValueEnum`]s. `crate::settings` turns them into typed
//! library requests.

mod artifacts;
mod blob;
mod bundle;
mod groups;
mod image;
mod keys;
mod signing_config;
mod trusted_root;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use artifacts::*;
pub use blob::*;
pub use bundle::*;
pub use groups::*;
pub use image::*;
pub use keys::*;
pub use signing_config::*;
pub use trusted_root::*;
pub use values::*;

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
        after_help = "Examples:\n  cosign sign-blob --key <key path> --tlog-upload=false <blob>\n\n  # sign standard input (set COSIGN_PASSWORD: standard input carries the blob)\n  git rev-parse HEAD | COSIGN_PASSWORD=... cosign sign-blob --key cosign.key --tlog-upload=false -\n\n  # write a Sigstore bundle v0.3 next to the blob (cosign 3's format)\n  cosign sign-blob --key cosign.key --tlog-upload=false --bundle file.sigstore.json file\n\n  # write cosign's legacy bundle (signature and public key) instead\n  cosign sign-blob --key cosign.key --tlog-upload=false --new-bundle-format=false --bundle file.bundle file\n\n  # keyless: an OIDC token (--identity-token, CI ambient, else a browser or device login)\n  # buys a Fulcio certificate; services from the signing config (TUF, or --signing-config)\n  cosign sign-blob --bundle file.sigstore.json file\n\n  # keyless with services of your own, checked against your trusted root\n  cosign sign-blob --identity-token $TOKEN --fulcio-url https://fulcio.internal --rekor-url https://rekor.internal --timestamp-server-url https://tsa.internal/api/v1/timestamp --trusted-root trusted_root.json --bundle file.sigstore.json file\n\n  # record the signature in your own transparency log (tlog-server), and print its index\n  cosign sign-blob --key cosign.key --rekor-url http://127.0.0.1:3000 --bundle file.sigstore.json file\n\n  # sign with a key on a PKCS11 token (PIN from pin-value, COSIGN_PKCS11_PIN, else asked for)\n  cosign sign-blob --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --tlog-upload=false file"
    )]
    SignBlob(SignBlobArgs),
    /// Verify a signature on the supplied blob.
    #[command(
        name = "verify-blob",
        long_about = "Verify a signature on the supplied blob input using the specified key reference.\nYou may specify either a key or a bundle. Without --key, the signature must come with a Fulcio\ncertificate (keyless) that chains to a trusted certificate authority, carries a valid SCT and\nnames the --certificate-identity and --certificate-oidc-issuer given.\n\nThe blob may be a file, - for standard input, or sha256:<hex> (a digest) when the signature\nscheme signs a digest. A Sigstore bundle holding a DSSE envelope (attest-blob\n--new-bundle-format) verifies when a subject of its in-toto statement has the blob's digest.",
        after_help = "Examples:\n  # verify a keyless (Fulcio certificate) bundle of a GitHub Actions release by its workflow\n  # identity; the trust material comes from --trusted-root, else the TUF root of cosign\n  # initialize, else the public-good trusted root built into cosign\n  cosign verify-blob --bundle <blob>.sigstore.json --certificate-identity https://github.com/<owner>/<repo>/.github/workflows/<workflow>.yml@refs/tags/<tag> --certificate-oidc-issuer https://token.actions.githubusercontent.com <blob>\n\n  # any release of the repository: an RE2 regexp, unanchored unless you anchor it\n  cosign verify-blob --bundle <blob>.sigstore.json --certificate-identity-regexp '^https://github.com/<owner>/<repo>/' --certificate-oidc-issuer https://token.actions.githubusercontent.com <blob>\n\n  # verify a signature with a public key (prints Verified OK on stderr)\n  cosign verify-blob --key cosign.pub --signature sig --insecure-ignore-tlog <blob>\n\n  # the signature may be given as base64 text instead of a file\n  cosign verify-blob --key cosign.pub --signature MEUCIQ... --insecure-ignore-tlog <blob>\n\n  # verify a bundle written by sign-blob --bundle (legacy or Sigstore v0.3: detected)\n  cosign verify-blob --key cosign.pub --bundle file.bundle --insecure-ignore-tlog <blob>\n\n  # verify by digest\n  cosign verify-blob --key cosign.pub --bundle file.sigstore.json --insecure-ignore-tlog sha256:<hex>\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
    )]
    VerifyBlob(VerifyBlobArgs),
    /// Sign the supplied container image.
    #[command(
        long_about = "Sign the supplied container image.\n\nThe signature is stored beside the image: in the legacy layout (a sha256-<hex>.sig tag\nholding one layer per signature) by default, or as a Sigstore bundle attached as an OCI 1.1\nreferrer with --new-bundle-format.\n\nWithout --key the image is signed keyless: an OIDC identity token (--identity-token, a CI\nprovider's ambient token, else a browser or device login) buys a short-lived Fulcio\ncertificate for an ephemeral key, stored beside the signature; one certificate serves every\nimage of the call.",
        after_help = "Examples:\n  # sign a container image with a local key pair file (by digest, as recommended)\n  cosign sign --key cosign.key --tlog-upload=false <IMAGE DIGEST>\n\n  # sign with extra annotations, checked later with verify -a\n  cosign sign --key cosign.key --tlog-upload=false -a tag=v1 -a team=infra <IMAGE DIGEST>\n\n  # sign every manifest of a multi-platform index too\n  cosign sign --key cosign.key --tlog-upload=false -r <IMAGE INDEX DIGEST>\n\n  # only print the signature, do not upload it\n  cosign sign --key cosign.key --tlog-upload=false --upload=false <IMAGE DIGEST>\n\n  # store a Sigstore bundle as an OCI 1.1 referrer instead of the .sig tag\n  cosign sign --key cosign.key --tlog-upload=false --new-bundle-format <IMAGE DIGEST>\n\n  # record the signature in your own transparency log (tlog-server); the proof is stored\n  # with the signature\n  cosign sign --key cosign.key --rekor-url http://127.0.0.1:3000 <IMAGE DIGEST>\n\n  # sign with a key on a PKCS11 token; a certificate stored beside the key is attached\n  COSIGN_PKCS11_PIN=1234 cosign sign --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --tlog-upload=false <IMAGE DIGEST>"
    )]
    Sign(SignArgs),
    /// Verify a signature on the supplied container image
    #[command(
        long_about = "Verify signature and annotations on an image by checking the claims\nagainst the transparency log.\n\nBoth storage formats are found: the legacy .sig tag and Sigstore bundles attached as OCI 1.1\nreferrers (or their sha256-<hex> fallback tag). Exit codes: 10 no signatures, 11 image tag\nnot found, 12 no matching signature.",
        after_help = "Examples:\n  # verify a keyless signature by the identity and OIDC issuer of its Fulcio certificate\n  cosign verify --certificate-identity=name@example.com --certificate-oidc-issuer=https://accounts.example.com <IMAGE>\n\n  # verify an image signed by a GitHub Actions workflow of a repository\n  cosign verify --certificate-identity-regexp '^https://github.com/<owner>/<repo>/' --certificate-oidc-issuer https://token.actions.githubusercontent.com --certificate-github-workflow-trigger push <IMAGE>\n\n  # verify cosign claims and signing certificates on the image with a public key\n  cosign verify --key cosign.pub --insecure-ignore-tlog <IMAGE>\n\n  # additionally verify specified annotations\n  cosign verify --key cosign.pub --insecure-ignore-tlog -a key1=val1 -a key2=val2 <IMAGE>\n\n  # print the raw payloads instead of JSON\n  cosign verify --key cosign.pub --insecure-ignore-tlog -o text <IMAGE>\n\n  # verify with the public key of a key on a PKCS11 token (no PIN needed)\n  cosign verify --key 'pkcs11:token=my-token;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so' --insecure-ignore-tlog <IMAGE>\n\nThe transparency log entry is verified against the log key in --trusted-root FILE or\nSIGSTORE_REKOR_PUBLIC_KEY=FILE: offline from a bundle, else looked up at --rekor-url.\n--insecure-ignore-tlog skips it."
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
    /// Initializes SigStore root to retrieve trusted certificate and key targets for verification.
    #[command(
        long_about = "Initializes SigStore root to retrieve trusted certificate and key targets for verification.\n\nThe following options are used by default:\n - The current trusted Sigstore TUF root is embedded inside cosign at the time of release.\n - SigStore remote TUF repository is pulled from the CDN mirror at tuf-repo-cdn.sigstore.dev.\n\nTo provide an out-of-band trusted initial root.json, use the -root flag with a file or URL reference.\nThis will enable you to point cosign to a separate TUF root.\n\nAny updated TUF repository will be written to $HOME/.sigstore/root/ ($TUF_ROOT when set).\n\nTrusted keys and certificate used in cosign verification (e.g. verifying Fulcio issued certificates\nwith Fulcio root CA) are pulled form the trusted metadata. Once initialized, the verify commands\ntake the transparency log keys from the cached trusted_root.json when neither --trusted-root nor\nSIGSTORE_REKOR_PUBLIC_KEY is given (refreshed from the mirror once a day).",
        after_help = "Examples:\n  # initialize root with distributed root keys, default mirror, and default out path.\n  cosign initialize\n\n  # initialize with an out-of-band root key file, using the default mirror.\n  cosign initialize --root <url>\n\n  # initialize with an out-of-band root key file and custom repository mirror.\n  cosign initialize --mirror <url> --root <url>\n\n  # initialize with an out-of-band root key file and custom repository mirror while verifying root checksum.\n  cosign initialize --mirror <url> --root <url> --root-checksum <sha256>\n\n  # an air-gapped mirror on disk\n  cosign initialize --mirror file:///srv/tuf --root /srv/tuf/1.root.json"
    )]
    Initialize(InitializeArgs),
    /// Interact with a Sigstore protobuf bundle
    #[command(
        long_about = "Tools for interacting with a Sigstore protobuf bundle",
        subcommand
    )]
    Bundle(BundleCommand),
    /// Interact with a Sigstore protobuf trusted root
    #[command(
        name = "trusted-root",
        long_about = "Tools for interacting with a Sigstore protobuf trusted root",
        subcommand
    )]
    TrustedRoot(TrustedRootCommand),
    /// Interact with a Sigstore protobuf signing config
    #[command(
        name = "signing-config",
        long_about = "Tool for interacting with a Sigstore protobuf signing config",
        subcommand
    )]
    SigningConfig(SigningConfigCommand),
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
