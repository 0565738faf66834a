//! `rekor-cli`: the commonly used subset of sigstore's Rekor command line client, with the same
//! flags and the same output (see `commands.rs` for each command's lines).
//!
//! Differences from the Go tool are listed in `--help` where they matter to a user: x509 is the
//! only PKI format (so it is the default `--pki-format`, and `hashedrekord` the default
//! `--type`), and no tree state is kept between runs (`--store_tree_state` is accepted, the
//! consistency check against a previous run is skipped).

mod commands;
mod input;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};
use cosign_types::time::parse_go_duration;

/// The public-good Rekor instance.
const DEFAULT_SERVER: &str = "https://rekor.sigstore.dev";

#[derive(Parser, Debug)]
#[command(
    name = "rekor-cli",
    version,
    about = "Rekor CLI",
    long_about = "Rekor command line interface tool"
)]
struct Cli {
    /// Server address:port [env: REKOR_SERVER or REKOR_REKOR_SERVER] [default: https://rekor.sigstore.dev]
    #[arg(
        long = "rekor_server",
        global = true,
        env = "REKOR_SERVER",
        hide_env = true
    )]
    rekor_server: Option<String>,

    /// Command output format (default, json, tle)
    #[arg(long, global = true, default_value = "default", value_parser = ["default", "json", "tle"])]
    format: String,

    /// HTTP timeout (a Go duration: 30s, 1m, 1m30s ...)
    #[arg(long, global = true, default_value = "30s", value_parser = parse_go_duration)]
    timeout: Duration,

    /// Number of times to retry HTTP requests (accepted for compatibility; requests are not retried)
    #[arg(long, global = true, default_value_t = 3)]
    retry: u32,

    /// Accepted for compatibility: this rekor-cli keeps no tree state between invocations, so
    /// `loginfo` does not prove consistency with a previous run
    #[arg(
        long = "store_tree_state",
        global = true,
        default_value_t = true,
        action = ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    store_tree_state: bool,

    /// PEM file with the log's public key (default: fetched from the server)
    #[arg(long = "rekor_server_public_key", global = true)]
    rekor_server_public_key: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Upload an artifact to Rekor
    #[command(
        long_about = "This command takes the public key, signature and URL of the release artifact and uploads it to the rekor server."
    )]
    Upload(ArtifactArgs),
    /// Rekor get command
    #[command(long_about = "Get information regarding entries in the transparency log")]
    Get(GetArgs),
    /// Rekor search command
    #[command(
        long_about = "Searches the Rekor index to find entries by sha, artifact, or public key"
    )]
    Search(SearchArgs),
    /// Rekor verify command
    #[command(
        long_about = "Verifies an entry exists in the transparency log through an inclusion proof"
    )]
    Verify(VerifyArgs),
    /// Rekor loginfo command
    #[command(long_about = "Prints info about the transparency log")]
    Loginfo,
    /// Rekor logproof command
    #[command(
        long_about = "Prints information required to compute the consistency proof of the transparency log"
    )]
    Logproof(LogproofArgs),
}

/// The flags that describe an entry (upload, verify).
#[derive(Args, Debug, Clone, Default)]
pub struct ArtifactArgs {
    /// path or URL to artifact file (for dsse/intoto: the DSSE envelope)
    #[arg(long)]
    pub artifact: Option<String>,
    /// hex encoded SHA256 hash of artifact (when using URL); sha384:/sha512: prefixes accepted
    #[arg(long = "artifact-hash", value_name = "SHA")]
    pub artifact_hash: Option<String>,
    /// path or URL to detached signature file (raw bytes, or base64 as cosign writes it)
    #[arg(long)]
    pub signature: Option<String>,
    /// path or URL to public key file (PEM public key or certificate; repeat or comma-separate for dsse)
    #[arg(long = "public-key", value_delimiter = ',')]
    pub public_key: Vec<String>,
    /// format of the signature and/or public key; only x509 is supported by this rekor-cli
    #[arg(long = "pki-format", default_value = "x509")]
    pub pki_format: String,
    /// type of entry expressed as type(:version)?; supported types = [hashedrekord dsse intoto]
    #[arg(long = "type", default_value = "hashedrekord")]
    pub kind: String,
    /// path or URL to pre-formatted entry file
    #[arg(long)]
    pub entry: Option<String>,
}

#[derive(Args, Debug)]
struct GetArgs {
    /// UUID of entry in transparency log (if known)
    #[arg(long, value_parser = parse_uuid)]
    uuid: Option<String>,
    /// the index of the entry in the transparency log
    #[arg(long = "log-index")]
    log_index: Option<u64>,
}

#[derive(Args, Debug)]
struct SearchArgs {
    /// path or URL to artifact file
    #[arg(long)]
    artifact: Option<String>,
    /// the SHA512, SHA256 or SHA1 sum of the artifact
    #[arg(long)]
    sha: Option<String>,
    /// path or URL to public key file
    #[arg(long = "public-key")]
    public_key: Option<String>,
    /// format of the signature and/or public key
    #[arg(long = "pki-format", default_value = "x509")]
    pki_format: String,
    /// email associated with the public key's subject (not supported by this rekor-cli)
    #[arg(long)]
    email: Option<String>,
    /// operator to use for the search. supported values are 'and' and 'or'
    #[arg(long, value_parser = ["and", "or"])]
    operator: Option<String>,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    artifact: ArtifactArgs,
    /// UUID of entry in transparency log (if known)
    #[arg(long, value_parser = parse_uuid)]
    uuid: Option<String>,
    /// the index of the entry in the transparency log
    #[arg(long = "log-index")]
    log_index: Option<u64>,
}

#[derive(Args, Debug)]
struct LogproofArgs {
    /// the size of the log where the proof should begin
    #[arg(long = "first-size", default_value_t = 1)]
    first_size: u64,
    /// the size of the log where the proof should end
    #[arg(long = "last-size")]
    last_size: Option<u64>,
    /// the tree ID of the tree you wish to get a proof for
    #[arg(long = "tree-id")]
    tree_id: Option<String>,
}

fn parse_uuid(v: &str) -> Result<String, String> {
    if v.len() != 64 && v.len() != 80 {
        return Err(format!(
            "ID len error, expected 80 (EntryID) or 64 (UUID) but got len {} for ID {v}",
            v.len()
        ));
    }
    if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("invalid uuid: {v}"));
    }
    Ok(v.to_owned())
}

/// The server URL: the flag, else `REKOR_SERVER` (read by clap), else `REKOR_REKOR_SERVER`
/// (what the Go tool's viper reads), else the public-good instance.
fn server_url(flag: Option<String>) -> Result<String, String> {
    #[allow(clippy::disallowed_methods)] // the binary reads its own environment
    let from_env = std::env::var("REKOR_REKOR_SERVER").ok();
    let url = flag
        .or(from_env)
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("URL must be a valid HTTP or HTTPS URL, got {url}"));
    }
    Ok(url)
}

/// Writes a command's output on stdout (the one place that prints it).
#[allow(clippy::print_stdout)]
fn out(text: &str) {
    print!("{text}");
}

/// Writes an informational or error line on stderr, as the Go tool's logger does.
#[allow(clippy::print_stderr)]
pub fn info(line: &str) {
    eprintln!("{line}");
}

/// The error and its causes joined by ": ", leaving out a cause whose text the previous one
/// already includes (errors that print their source as well as returning it).
fn error_message(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    let mut previous = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !previous.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
        previous = text;
    }
    msg
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let server = match server_url(cli.rekor_server.clone()) {
        Ok(s) => s,
        Err(e) => {
            info(&e);
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            info(&format!("starting the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let ctx = commands::Ctx {
        server,
        format: cli.format.clone(),
        timeout: cli.timeout,
        server_key: cli.rekor_server_public_key.clone(),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Upload(a) => commands::upload(&ctx, &a).await,
            Command::Get(a) => commands::get(&ctx, a.uuid.as_deref(), a.log_index).await,
            Command::Search(a) => {
                commands::search(
                    &ctx,
                    &commands::SearchOptions {
                        artifact: a.artifact,
                        sha: a.sha,
                        public_key: a.public_key,
                        pki_format: a.pki_format,
                        email: a.email,
                        operator: a.operator,
                    },
                )
                .await
            }
            Command::Verify(a) => {
                commands::verify(&ctx, &a.artifact, a.uuid.as_deref(), a.log_index).await
            }
            Command::Loginfo => commands::loginfo(&ctx).await,
            Command::Logproof(a) => {
                commands::logproof(&ctx, a.first_size, a.last_size, a.tree_id.as_deref()).await
            }
        }
    });
    match result {
        Ok(text) => {
            out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            info(&error_message(&e));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(parse_uuid(&"a".repeat(64)).is_ok());
        assert!(parse_uuid(&"A".repeat(80)).is_ok());
        assert!(parse_uuid(&"a".repeat(63)).is_err());
        assert!(parse_uuid(&"g".repeat(64)).is_err());
    }

    #[test]
    fn cli_shape() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
