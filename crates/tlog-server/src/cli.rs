//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The default listen port (Rekor's).
pub const DEFAULT_PORT: u16 = 3000;

const EXAMPLES: &str = "\
Examples:
  # Serve a log kept in ./tlog-data on http://127.0.0.1:3000
  tlog-server serve --data-dir ./tlog-data

  # Any free port; the bound address is printed as `listening on http://ADDR` on stderr
  tlog-server serve --data-dir ./tlog-data --addr 127.0.0.1:0

  # The log's public key (PEM) and a trusted_root.json naming it, for cosign
  tlog-server public-key --data-dir ./tlog-data > rekor.pub
  tlog-server trusted-root --data-dir ./tlog-data --url http://127.0.0.1:3000 > trusted_root.json
  cosign verify-blob --key cosign.pub --signature f.sig --rekor-url http://127.0.0.1:3000 \\
      --trusted-root trusted_root.json f

  # Verify the whole log offline (exit 0 intact, 3 torn unacknowledged tail, 1 damaged)
  tlog-server check --data-dir ./tlog-data
";

/// A Rekor v1 API compatible transparency log server with durable embedded storage.
#[derive(Debug, Parser)]
#[command(name = "tlog-server", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Rekor v1 REST API.
    #[command(after_help = EXAMPLES)]
    Serve(ServeArgs),
    /// Print the log's public key (PEM).
    PublicKey(KeyArgs),
    /// Print a trusted_root.json whose tlogs entry names this log.
    TrustedRoot(TrustedRootArgs),
    /// Print a signing_config.json (v0.2) naming the Rekor v1 and v2 logs at --url.
    SigningConfig(TrustedRootArgs),
    /// Verify both logs offline: every record's framing and checksum, bodies, stored SETs (v1),
    /// the tree against the stored signed tree head, and (v2) the published checkpoint and
    /// tiles. Changes nothing. Exit status 0: intact;
    /// 3: intact but for a torn unacknowledged tail (cut on the next start); 1: damaged,
    /// rolled back or forked (the server refuses to start).
    Check(KeyArgs),
}

/// Where the log lives and which key signs for it.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Data directory (created on first use): entry log, signing key, tree ID.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Signing key (PKCS#8 or SEC1 PEM) to use instead of the data directory's own.
    #[arg(long, value_name = "FILE.pem")]
    pub key: Option<PathBuf>,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory, key file.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Listen address, `HOST:PORT` or `HOST` (port 3000); port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Log name: v1 checkpoint origin `<NAME> - <tree id>` and signature name, v2 checkpoint
    /// origin. Default: the host of --url, else the --addr IP (`localhost` if unspecified).
    #[arg(long, value_name = "NAME", value_parser = parse_hostname)]
    pub hostname: Option<String>,
    /// The base URL clients reach the log at (the trusted root's `baseUrl`); names the log.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Most open connections; at the cap, the connection waiting longest on its client is
    /// closed to make room for a new one.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers (also the keep-alive idle timeout).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub header_timeout: u32,
    /// Seconds a client has to send a request's body.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub body_timeout: u32,
}

/// `trusted-root`.
#[derive(Debug, Args)]
pub struct TrustedRootArgs {
    /// Data directory, key file.
    #[command(flatten)]
    pub key: KeyArgs,
    /// The log's base URL as clients reach it, e.g. `http://127.0.0.1:3000`.
    #[arg(long, value_name = "URL")]
    pub url: String,
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: std::net::IpAddr = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("invalid address {s:?}: expected HOST:PORT or an IP address"))?;
    Ok(SocketAddr::new(ip, DEFAULT_PORT))
}

fn parse_hostname(s: &str) -> Result<String, String> {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '+')
    {
        return Err(
            "the hostname must be non-empty, without spaces, '+' or control characters".into(),
        );
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("127.0.0.1").unwrap().port(), 3000);
        assert_eq!(parse_addr("127.0.0.1:0").unwrap().port(), 0);
        assert!(parse_addr("[::1]").unwrap().is_ipv6());
        assert!(parse_addr("localhost:3").is_err());
    }

    #[test]
    fn hostnames() {
        assert!(parse_hostname("rekor.local").is_ok());
        assert!(parse_hostname("a b").is_err());
        assert!(parse_hostname("").is_err());
        assert!(parse_hostname("a+b").is_err());
    }
}
