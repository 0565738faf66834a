//! `cosign trusted-root`: flags of `create`, with Go cosign 3.1.2's help texts. The
//! deprecated per-field flags are hidden, as cobra hides deprecated flags.

use clap::{Args, Subcommand};

/// `cosign trusted-root` subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustedRootCommand {
    /// Create a Sigstore protobuf trusted root
    #[command(
        long_about = "Create a Sigstore protobuf trusted root by supplying verification material.\n\nEach service is specified via a repeatable flag (--fulcio, --rekor, --ctfe, --tsa) that takes a comma-separated list of key-value pairs.",
        after_help = "Examples:\n  cosign trusted-root create \\\n      --fulcio=\"url=https://fulcio.sigstore.dev,certificate-chain=/path/to/fulcio.pem,end-time=2025-01-01T00:00:00Z\" \\\n      --rekor=\"url=https://rekor.sigstore.dev,public-key=/path/to/rekor.pub,start-time=2024-01-01T00:00:00Z\" \\\n      --ctfe=\"url=https://ctfe.sigstore.dev,public-key=/path/to/ctfe.pub,start-time=2024-01-01T00:00:00Z\" \\\n      --tsa=\"url=https://timestamp.sigstore.dev/api/v1/timestamp,certificate-chain=/path/to/tsa.pem\" \\\n      --out trusted-root.json"
    )]
    Create(TrustedRootCreateArgs),
}

/// `cosign trusted-root create`.
#[derive(Debug, Args)]
pub struct TrustedRootCreateArgs {
    #[arg(
        long,
        value_name = "SPEC",
        help = "fulcio service specification, as a comma-separated key-value list.\nRequired keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time."
    )]
    pub fulcio: Vec<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "ctfe service specification, as a comma-separated key-value list.\nRequired keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin."
    )]
    pub ctfe: Vec<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "timestamping authority specification, as a comma-separated key-value list.\nRequired keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time."
    )]
    pub tsa: Vec<String>,
    #[arg(
        long,
        value_name = "SPEC",
        help = "rekor service specification, as a comma-separated key-value list.\nRequired keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin."
    )]
    pub rekor: Vec<String>,
    #[arg(
        long,
        help = "use the Sigstore TUF root as default values to populate the trusted root. Specifying the other service flags will override the default values."
    )]
    pub with_default_services: bool,
    #[arg(long, help = "removes the default Fulcio URLs from the trusted root.")]
    pub no_default_fulcio: bool,
    #[arg(long, help = "removes the default CTFE URLs from the trusted root.")]
    pub no_default_ctfe: bool,
    #[arg(long, help = "removes the default TSA URLs from the trusted root.")]
    pub no_default_tsa: bool,
    #[arg(long, help = "removes the default Rekor URLs from the trusted root.")]
    pub no_default_rekor: bool,

    /// path to a list of CA certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate.
    #[arg(long, value_name = "FILE", hide = true)]
    pub certificate_chain: Vec<String>,
    /// URI of the Fulcio server issuing certificates.
    #[arg(long, value_name = "URI", hide = true)]
    pub fulcio_uri: Vec<String>,
    /// path to a PEM-encoded public key used by certificate authority for certificate transparency log.
    #[arg(long, value_name = "FILE", hide = true)]
    pub ctfe_key: Vec<String>,
    /// RFC 3339 string describing validity start time for key use by certificate transparency log.
    #[arg(long, value_name = "TIME", hide = true)]
    pub ctfe_start_time: Vec<String>,
    /// RFC 3339 string describing validity end time for key use by certificate transparency log.
    #[arg(long, value_name = "TIME", hide = true)]
    pub ctfe_end_time: Vec<String>,
    /// URL of the certificate transparency log.
    #[arg(long, value_name = "URL", hide = true)]
    pub ctfe_url: Vec<String>,
    /// path to output trusted root
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// path to a PEM-encoded public key used by transparency log like Rekor. For Rekor V2, append the Rekor server name with ',', e.g. '--rekor-key=/path/to/key.pub,rekor.example.test'.
    #[arg(long, value_name = "FILE", hide = true)]
    pub rekor_key: Vec<String>,
    /// RFC 3339 string describing validity start time for key use by transparency log like Rekor.
    #[arg(long, value_name = "TIME", hide = true)]
    pub rekor_start_time: Vec<String>,
    /// RFC 3339 string describing validity end time for key use by transparency log like Rekor.
    #[arg(long, value_name = "TIME", hide = true)]
    pub rekor_end_time: Vec<String>,
    /// URL of the transparency log.
    #[arg(long, value_name = "URL", hide = true)]
    pub rekor_url: Vec<String>,
    /// path to PEM-encoded certificate chain file for the RFC3161 timestamp authority. Must contain the root CA certificate. Optionally may contain intermediate CA certificates
    #[arg(long, value_name = "FILE", hide = true)]
    pub timestamp_certificate_chain: Vec<String>,
    /// URI of the timestamp authority server.
    #[arg(long, value_name = "URI", hide = true)]
    pub timestamp_uri: Vec<String>,
}

/// The deprecated flags of `create` and the flag replacing each.
const DEPRECATED: [(&str, &str); 12] = [
    ("certificate-chain", "fulcio"),
    ("fulcio-uri", "fulcio"),
    ("ctfe-key", "ctfe"),
    ("ctfe-start-time", "ctfe"),
    ("ctfe-end-time", "ctfe"),
    ("ctfe-url", "ctfe"),
    ("rekor-key", "rekor"),
    ("rekor-start-time", "rekor"),
    ("rekor-end-time", "rekor"),
    ("rekor-url", "rekor"),
    ("timestamp-certificate-chain", "tsa"),
    ("timestamp-uri", "tsa"),
];

/// Flags of `create` (and global ones) that take no value.
const NO_VALUE: [&str; 9] = [
    "with-default-services",
    "no-default-fulcio",
    "no-default-ctfe",
    "no-default-tsa",
    "no-default-rekor",
    "verbose",
    "d",
    "help",
    "h",
];

/// Each use of a deprecated flag of `create` in `argv` (in order, as cobra reports them) with
/// the flag replacing it.
pub fn deprecated_flags_used(argv: &[String]) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let Some(flag) = arg.strip_prefix('-') else {
            continue;
        };
        let flag = flag.strip_prefix('-').unwrap_or(flag);
        let (name, inline_value) = match flag.split_once('=') {
            Some((n, _)) => (n, true),
            None => (flag, false),
        };
        if let Some(&(old, new)) = DEPRECATED.iter().find(|(old, _)| *old == name) {
            out.push((old, new));
        }
        if !inline_value && !NO_VALUE.contains(&name) {
            // The next argument is this flag's value.
            args.next();
        }
    }
    out
}
