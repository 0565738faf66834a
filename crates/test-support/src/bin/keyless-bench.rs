//! Keyless signing benchmark for `cosign` (run by `bench/keyless-sign.sh`): wall time in round
//! trips of an emulated network, with every service the keyless path talks to behind a proxy
//! adding the same round-trip time to each request and each new connection (a TCP handshake):
//! the test OIDC issuer, the real Fulcio, our `tlog-server` (Rekor v1 and v2), the real
//! timestamp authority and, for `sign`, the registry.
//!
//! Usage: keyless-bench <path to cosign> [RTT_MS [RUNS [IMAGES]]]  (defaults 50, 5, 50)
//!
//! Every command is timed twice: through proxies adding the RTT, and through the same proxies
//! on loopback (no RTT); the difference over the RTT is the network's share in round trips,
//! the rest is local work (process start, key generation, signing, the services' own work).
//!
//! Targets (issue "Keyless signing"): keyless `sign-blob` takes at most 4 round trips (token,
//! Fulcio, then the log and the TSA at once); signing IMAGES images in one call asks Fulcio for
//! one certificate.

// A benchmark driver: a failure aborts the run with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use test_support::fulcio::TrustedRootJson;
use test_support::oidc::{Identity, OidcIssuer};
use test_support::{
    CtLogServer, FulcioOptions, FulcioServer, ImageSpec, Latency, Registry, RegistryConfig,
    TimestampServer, TlogServer, TrustedIssuer, push_image,
};

const EMAIL: &str = "bench@keyless.example";

/// The services, each behind one proxy.
struct Net {
    rtt: Duration,
    issuer: Latency,
    fulcio: Latency,
    log: Latency,
    tsa: Latency,
    registry: Latency,
}

impl Net {
    fn new(s: &Services, rtt: Duration) -> Net {
        Net {
            rtt,
            issuer: Latency::in_front_of(s.issuer.url(), rtt),
            fulcio: Latency::in_front_of(s.fulcio.url(), rtt),
            log: Latency::in_front_of(s.log.url(), rtt),
            tsa: Latency::in_front_of(s.tsa.base_url(), rtt),
            registry: Latency::in_front_of(&s.registry.url(), rtt),
        }
    }

    fn all(&self) -> [(&'static str, &Latency); 5] {
        [
            ("issuer", &self.issuer),
            ("fulcio", &self.fulcio),
            ("log", &self.log),
            ("tsa", &self.tsa),
            ("registry", &self.registry),
        ]
    }

    fn clear(&self) {
        for (_, p) in self.all() {
            p.clear();
        }
    }

    /// `service: N requests (M connections)` for every service that saw traffic.
    fn traffic(&self) -> String {
        let mut parts = Vec::new();
        for (name, p) in self.all() {
            let reqs = p.requests();
            if reqs.is_empty() && p.connections() == 0 {
                continue;
            }
            let mut what: Vec<String> = Vec::new();
            for r in &reqs {
                let path = r.path.split('?').next().unwrap_or_default();
                let line = format!("{} {path}", r.method);
                if !what.contains(&line) {
                    what.push(line);
                }
            }
            let shown = if what.len() > 3 {
                format!("{} kinds", what.len())
            } else {
                what.join(", ")
            };
            parts.push(format!(
                "{name} {} req/{} conn [{shown}]",
                reqs.len(),
                p.connections()
            ));
        }
        parts.join("; ")
    }

    /// Every connection and request through the proxies since `start`, in time order, as
    /// `+T ms (N RTT)  service  what` lines: a connection at its accept (its handshake's round
    /// trip follows), a request from when the proxy had it to when it answered.
    fn timeline(&self, start: Instant) -> Vec<String> {
        let rtt_ms = self.rtt.as_secs_f64() * 1e3;
        let at = |t: Instant| t.saturating_duration_since(start).as_secs_f64() * 1e3;
        let mut events: Vec<(f64, String)> = Vec::new();
        for (name, p) in self.all() {
            for c in p.connection_times() {
                events.push((at(c), format!("{name:<8} new connection (handshake)")));
            }
            for r in p.timeline() {
                events.push((
                    at(r.received),
                    format!(
                        "{name:<8} {} -> {} at +{:.0} ms ({:.1} RTT)",
                        r.what,
                        r.status,
                        at(r.answered),
                        at(r.answered) / rtt_ms
                    ),
                ));
            }
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        events
            .into_iter()
            .map(|(t, what)| format!("+{t:>5.0} ms ({:>4.1} RTT)  {what}", t / rtt_ms))
            .collect()
    }

    /// Rekor v1 and the TSA, by flags.
    fn flags(&self, token_file: &str) -> Vec<String> {
        let mut v = self.service_flags();
        v.splice(0..0, ["--identity-token".to_owned(), token_file.to_owned()]);
        v
    }

    fn service_flags(&self) -> Vec<String> {
        vec![
            "--fulcio-url".into(),
            self.fulcio.url(),
            "--rekor-url".into(),
            self.log.url(),
            "--timestamp-server-url".into(),
            format!("{}/api/v1/timestamp", self.tsa.url()),
            "--trusted-root".into(),
            "root.json".into(),
        ]
    }

    /// A signing config naming the proxies: Fulcio, the issuer, the Rekor v2 log, the TSA.
    fn signing_config_v2(&self) -> String {
        let service = |url: String, v: u32| {
            json!({"url": url, "majorApiVersion": v,
                   "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "bench"})
        };
        serde_json::to_string_pretty(&json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.fulcio.url(), 1)],
            "oidcUrls": [service(self.issuer.url(), 1)],
            "rekorTlogUrls": [service(self.log.url(), 2)],
            "tsaUrls": [service(format!("{}/api/v1/timestamp", self.tsa.url()), 1)],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }))
        .unwrap()
    }
}

struct Services {
    issuer: OidcIssuer,
    ct: CtLogServer,
    fulcio: FulcioServer,
    tsa: TimestampServer,
    log: TlogServer,
    registry: Registry,
}

struct Bench {
    cosign: PathBuf,
    dir: tempfile::TempDir,
    runs: usize,
    failed: std::cell::Cell<bool>,
}

impl Bench {
    fn run(&self, args: &[String], env: &[(&str, String)]) {
        let mut cmd = Command::new(&self.cosign);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TUF_ROOT", self.dir.path().join("tuf"))
            .env("HOME", self.dir.path());
        for var in [
            "SIGSTORE_ID_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "BUILDKITE_AGENT_ACCESS_TOKEN",
            "COSIGN_EXPERIMENTAL",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_PROXY", "*");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "cosign {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Median wall seconds of `self.runs` runs; `before` runs untimed before each (a fresh
    /// token file).
    fn time(&self, before: &dyn Fn(), args: &[String], env: &[(&str, String)]) -> f64 {
        let mut t: Vec<f64> = (0..self.runs)
            .map(|_| {
                before();
                let start = Instant::now();
                self.run(args, env);
                start.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }

    fn report(&self, name: &str, value: f64, limit: f64, unit: &str) {
        let ok = value <= limit;
        if !ok {
            self.failed.set(true);
        }
        println!(
            "{name:<66} {value:>8.2} {unit:<11} (target <= {limit}) {}",
            if ok { "PASS" } else { "FAIL" }
        );
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let cosign = PathBuf::from(
        argv.next()
            .expect("usage: keyless-bench <cosign> [RTT_MS [RUNS [IMAGES]]]"),
    );
    let rtt_ms: u64 = argv.next().map_or(50, |s| s.parse().expect("RTT_MS"));
    let runs: usize = argv.next().map_or(5, |s| s.parse().expect("RUNS"));
    let n_images: usize = argv.next().map_or(50, |s| s.parse().expect("IMAGES"));
    assert!(rtt_ms > 0 && runs > 0 && n_images > 1);
    let b = Bench {
        cosign: std::fs::canonicalize(&cosign).unwrap(),
        dir: tempfile::tempdir().unwrap(),
        runs,
        failed: std::cell::Cell::new(false),
    };
    let rtt = Duration::from_millis(rtt_ms);

    let issuer = OidcIssuer::start();
    issuer.set_identity(Identity::Email(EMAIL.into()));
    let ct = CtLogServer::start();
    let fulcio = FulcioServer::start_with(
        &ct,
        FulcioOptions::new(vec![TrustedIssuer::email(issuer.url())]),
    );
    let tsa = TimestampServer::start();
    let log = TlogServer::start();
    let registry = Registry::distribution(RegistryConfig::default());
    let s = Services {
        issuer,
        ct,
        fulcio,
        tsa,
        log,
        registry,
    };
    TrustedRootJson::keyless(&s.fulcio, &s.ct, Some(&s.log), Some(&s.tsa))
        .write(b.dir.path().join("root.json"));
    std::fs::write(b.dir.path().join("artifact.txt"), b"keyless benchmark\n").unwrap();
    let fresh_token = || {
        std::fs::write(b.dir.path().join("token.txt"), s.issuer.token()).unwrap();
    };
    let loopback = Net::new(&s, Duration::ZERO);
    let wan = Net::new(&s, rtt);
    for net in [&loopback, &wan] {
        let name = if net.rtt.is_zero() { "loopback" } else { "rtt" };
        std::fs::write(
            b.dir.path().join(format!("sc-{name}.json")),
            net.signing_config_v2(),
        )
        .unwrap();
    }
    println!(
        "keyless signing: every service behind a proxy adding {rtt_ms} ms per request and per new connection; medians of {runs} runs; 2 cores: load {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // Warm-up: Fulcio fetches the issuer's discovery document and keys once.
    fresh_token();
    let mut warm = strings(&["sign-blob", "--yes"]);
    warm.extend(loopback.flags("token.txt"));
    warm.extend(strings(&["--bundle", "warm.json", "artifact.txt"]));
    b.run(&warm, &[]);

    // (a) sign-blob: a given token, an ambient (GitHub Actions) token, Rekor v2.
    let sign_blob = |net: &Net, variant: &str| -> (Vec<String>, Vec<(&'static str, String)>) {
        let mut args = strings(&["sign-blob", "--yes"]);
        let mut env = Vec::new();
        match variant {
            "token" => args.extend(net.flags("token.txt")),
            "ambient" => {
                args.extend(net.service_flags());
                env.push((
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    format!("{}/github/token?api-version=2.0", net.issuer.url()),
                ));
                env.push((
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                    s.issuer.github_request_token().to_owned(),
                ));
            }
            "v2" => {
                let name = if net.rtt.is_zero() { "loopback" } else { "rtt" };
                args.extend(strings(&[
                    "--identity-token",
                    "token.txt",
                    "--signing-config",
                    &format!("sc-{name}.json"),
                    "--trusted-root",
                    "root.json",
                ]));
            }
            _ => unreachable!(),
        }
        args.extend(strings(&["--bundle", "b.json", "artifact.txt"]));
        (args, env)
    };
    for (variant, title) in [
        ("token", "sign-blob --identity-token (Rekor v1 + TSA)"),
        (
            "ambient",
            "sign-blob, GitHub Actions token (Rekor v1 + TSA)",
        ),
        ("v2", "sign-blob --signing-config (Rekor v2 + TSA)"),
    ] {
        let (la, le) = sign_blob(&loopback, variant);
        let (wa, we) = sign_blob(&wan, variant);
        let t0 = b.time(&fresh_token, &la, &le);
        let t = b.time(&fresh_token, &wa, &we);
        wan.clear();
        fresh_token();
        let start = Instant::now();
        b.run(&wa, &we);
        let took = start.elapsed().as_secs_f64() * 1e3;
        let conns: usize = wan.all().iter().map(|(_, p)| p.connections()).sum();
        let round_trips = (t - t0) / rtt.as_secs_f64();
        println!(
            "{title}: {:.0} ms ({:.2} RTT of wall time), {:.0} ms on loopback; traffic: {}",
            t * 1e3,
            t / rtt.as_secs_f64(),
            t0 * 1e3,
            wan.traffic()
        );
        println!(
            "  = {round_trips:.2} round trips on the network ({conns} new connections, each a TCP handshake)"
        );
        println!("  one run at {rtt_ms} ms RTT ({took:.0} ms), from the start of cosign:");
        for line in wan.timeline(start) {
            println!("    {line}");
        }
        b.report(
            &format!("{title}: round trips"),
            round_trips,
            4.0,
            "round trips",
        );
    }

    // (b) sign IMAGES images in one call against 1: legacy .sig, Rekor v1 + TSA, the registry
    // behind the proxy too.
    let images: Vec<String> = (0..=n_images)
        .map(|i| {
            let img = push_image(
                &s.registry,
                &format!("bench/keyless:i{i}"),
                &ImageSpec {
                    seed: format!("k{i}"),
                    ..ImageSpec::default()
                },
            );
            img.digest_ref
                .replacen(&s.registry.host(), &wan.registry.host(), 1)
        })
        .collect();
    let sign = |imgs: &[String]| -> Vec<String> {
        let mut args = strings(&["sign", "--yes"]);
        args.extend(wan.flags("token.txt"));
        args.extend(imgs.iter().cloned());
        args
    };
    fresh_token();
    wan.clear();
    let start = Instant::now();
    b.run(&sign(&images[..1]), &[]);
    let t_one = start.elapsed().as_secs_f64();
    let one_traffic = wan.traffic();
    let one_timeline = wan.timeline(start);
    let ct_before = s.ct.submissions().len();
    fresh_token();
    wan.clear();
    let start = Instant::now();
    b.run(&sign(&images[1..]), &[]);
    let t_all = start.elapsed().as_secs_f64();
    let certs = s.ct.submissions().len() - ct_before;
    let fulcio_posts = wan
        .fulcio
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    println!(
        "sign 1 image: {:.0} ms ({:.1} RTT); traffic: {one_traffic}",
        t_one * 1e3,
        t_one / rtt.as_secs_f64()
    );
    for line in one_timeline {
        println!("    {line}");
    }
    println!(
        "sign {n_images} images in one call: {:.0} ms ({:.1} RTT); traffic: {}",
        t_all * 1e3,
        t_all / rtt.as_secs_f64(),
        wan.traffic()
    );
    println!(
        "  {certs} certificate(s) issued (CT log submissions), {fulcio_posts} Fulcio request(s); {:.2}x the time of 1 image",
        t_all / t_one
    );
    b.report(
        &format!("sign {n_images} images in one call: Fulcio certificates issued"),
        certs as f64,
        1.0,
        "certs",
    );
    let failed = b.failed.get();
    // Stop every service first: exit skips destructors, which would leave them running (the
    // timestamp-server's fixed metrics port 2112 then blocks every later one on the machine).
    drop(wan);
    drop(loopback);
    drop(s);
    std::process::exit(i32::from(failed));
}
