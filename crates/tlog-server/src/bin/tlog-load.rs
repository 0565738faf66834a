//! `tlog-load`: load generator for `tlog-server` (run by `bench/tlog.sh`).
//!
//! Pre-signs unique `hashedrekord` entries (random digests signed with one ECDSA P-256 key)
//! before the clock starts, then runs `--clients` concurrent HTTP/1.1 keep-alive clients that
//! each POST entries one after another for `--seconds` (or until the pre-signed entries run
//! out), and prints throughput and latency percentiles. Exits 1 if fewer than `--min-rate`
//! entries/s were acknowledged (201) or any request failed.
//!
//! Usage: `tlog-load --url http://127.0.0.1:PORT [--clients 16] [--seconds 10]
//! [--entries 150000] [--min-rate 500]`

// A benchmark driver: prints its report on stdout.
#![allow(clippy::print_stdout)]
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use bytes::Bytes;
use clap::Parser;
use cosign_crypto::{Digest, HashAlgorithm, PrivateKey, SignatureScheme};
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

/// Load generator for tlog-server.
#[derive(Debug, Parser)]
#[command(name = "tlog-load")]
struct Args {
    /// Server base URL (http only), e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: String,
    /// Concurrent clients, one keep-alive connection each.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Entries to pre-sign (the run also stops when they are used up).
    #[arg(long, default_value_t = 150_000)]
    entries: usize,
    /// Entries/s needed to PASS.
    #[arg(long, default_value_t = 500.0)]
    min_rate: f64,
    /// Rekor API: 1 (`/api/v1/log/entries`, hashedrekord 0.0.1) or 2 (`/api/v2/log/entries`,
    /// hashedRekordRequestV002).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    api: u8,
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `count` unique, valid hashedrekord proposals.
fn presign(count: usize, api: u8) -> Result<Vec<Bytes>> {
    let key = PrivateKey::generate_ecdsa_p256()?;
    let pem_b64 = b64(key.public_key().to_pem().as_bytes());
    let mut out = Vec::with_capacity(count);
    let mut random = [0u8; 32];
    for _ in 0..count {
        getrandom::fill(&mut random).map_err(|e| anyhow!("random: {e}"))?;
        let digest = Digest::new(HashAlgorithm::Sha256, random.to_vec())
            .ok_or_else(|| anyhow!("digest length"))?;
        let sig = key.sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)?;
        if api == 2 {
            let entry = serde_json::json!({"hashedRekordRequestV002": {
                "digest": b64(digest.as_bytes()),
                "signature": {"content": b64(&sig), "verifier": {
                    "publicKey": {"rawBytes": b64(&key.public_key().to_spki_der())},
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
            out.push(Bytes::from(serde_json::to_vec(&entry)?));
            continue;
        }
        let entry = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": b64(&sig), "publicKey": {"content": pem_b64}},
            },
        });
        out.push(Bytes::from(serde_json::to_vec(&entry)?));
    }
    Ok(out)
}

fn parse_url(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs are supported: {url}"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .parse()
        .with_context(|| format!("the URL must name IP:PORT: {url}"))
}

#[derive(Default)]
struct ClientResult {
    created: usize,
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

async fn client(
    addr: SocketAddr,
    bodies: Arc<Vec<Bytes>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
    path: &'static str,
) -> ClientResult {
    let mut result = ClientResult::default();
    let mut sender = None;
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(i) else { break };
        if sender.is_none() {
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    result.errors.push(format!("connect: {e}"));
                    break;
                }
            }
        }
        let Some(s) = sender.as_mut() else { break };
        let req = match Request::post(path)
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
        {
            Ok(r) => r,
            Err(e) => {
                result.errors.push(format!("request: {e}"));
                break;
            }
        };
        let start = Instant::now();
        match s.send_request(req).await {
            Ok(resp) => {
                let status = resp.status();
                let collected = resp.into_body().collect().await;
                result.latencies.push(start.elapsed());
                if status == StatusCode::CREATED {
                    result.created += 1;
                } else {
                    let text = collected
                        .map(|c| String::from_utf8_lossy(&c.to_bytes()).into_owned())
                        .unwrap_or_default();
                    result.errors.push(format!("status {status}: {text}"));
                }
            }
            Err(e) => {
                result.errors.push(format!("send: {e}"));
                sender = None;
            }
        }
    }
    result
}

async fn connect(addr: SocketAddr) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            println!("tlog-load: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let args = Args::parse();
    if args.clients == 0 || args.clients > 1024 {
        bail!("--clients must be 1..=1024");
    }
    if !(args.seconds > 0.0 && args.seconds <= 300.0) {
        bail!("--seconds must be in (0, 300]");
    }
    if args.entries == 0 || args.entries > 1_000_000 {
        bail!("--entries must be 1..=1000000");
    }
    let addr = parse_url(&args.url)?;
    let t = Instant::now();
    let bodies = Arc::new(presign(args.entries, args.api)?);
    println!(
        "pre-signed {} hashedrekord entries in {:.2}s",
        bodies.len(),
        t.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..args.clients)
            .map(|_| {
                tokio::spawn(client(
                    addr,
                    Arc::clone(&bodies),
                    Arc::clone(&next),
                    deadline,
                    if args.api == 2 {
                        "/api/v2/log/entries"
                    } else {
                        "/api/v1/log/entries"
                    },
                ))
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap_or_default());
        }
        results
    });
    let elapsed = start.elapsed().as_secs_f64();

    let mut latencies: Vec<Duration> = results.iter().flat_map(|r| r.latencies.clone()).collect();
    let errors: Vec<&String> = results.iter().flat_map(|r| &r.errors).collect();
    latencies.sort();
    let ok: usize = results.iter().map(|r| r.created).sum();
    let rate = ok as f64 / elapsed;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "clients {}  requests {}  created {}  errors {}  elapsed {:.2}s",
        args.clients,
        latencies.len(),
        ok,
        errors.len(),
        elapsed
    );
    println!(
        "throughput {:.0} entries/s  latency p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        rate,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    for e in errors.iter().take(5) {
        println!("error: {e}");
    }
    let pass = errors.is_empty() && rate >= args.min_rate;
    println!(
        "{}: {:.0} entries/s (target >= {:.0})",
        if pass { "PASS" } else { "FAIL" },
        rate,
        args.min_rate
    );
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn urls() {
        assert_eq!(parse_url("http://127.0.0.1:3000/").unwrap().port(), 3000);
        assert!(parse_url("https://127.0.0.1:3000").is_err());
    }
}
