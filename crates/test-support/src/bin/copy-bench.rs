//! `cosign copy` benchmark (run by `bench/copy.sh`): copying an image with 3 tag attachments
//! (`.sig`, `.att`, `.sbom`) and 100 referrers must take at most 2x the time of copying the
//! same image alone.
//!
//! Usage: copy-bench <path to cosign> [LAYER_MIB [RTT_MS]]
//!
//! The image has 4 incompressible layers of LAYER_MIB MiB each (default 64: a 256 MiB
//! application image). It is pushed twice to a ferro-oci-server (referrers API): once bare,
//! once with the attachments and referrers. Both are copied across registries (so layers
//! really move) to a fresh ferro and to a fresh Debian distribution registry (no referrers API:
//! the fallback index is written), on loopback and with both registries behind a proxy that
//! adds RTT_MS (default 20) to every request and connection. Median of 3 runs each.
//!
//! Each scenario also prints a floor: the same attachments pushed to a fresh registry by a
//! minimal client (each blob POST + PUT, then each manifest, 16 at once; no reads, no checks)
//! and the CPU the destination registry spent. distribution spends ~5 ms of CPU and 11 fsyncs
//! per blob upload, so with a small image (e.g. LAYER_MIB=8) the attachments alone cost it
//! more than 2x the image, whatever the client does. Exit 1 on FAIL.

// A benchmark driver: a failure aborts the run with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::{Latency, Registry, RegistryClient, RegistryConfig, sha256_digest};

const RUNS: usize = 3;
const REFERRERS: usize = 100;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

struct Bench {
    cosign: PathBuf,
    dir: tempfile::TempDir,
}

impl Bench {
    fn must(&self, args: &[&str]) {
        let out = Command::new(&self.cosign)
            .args(args)
            .current_dir(self.dir.path())
            .env("COSIGN_PASSWORD", "bench")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cosign {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// (wall seconds, cosign's CPU seconds).
    fn time(&self, args: &[&str]) -> (f64, f64) {
        let cpu = children_cpu();
        let start = Instant::now();
        self.must(args);
        (start.elapsed().as_secs_f64(), children_cpu() - cpu)
    }
}

fn children_cpu() -> f64 {
    test_support::proc_cpu_seconds("/proc/self/stat", true)
}

/// Deterministic incompressible bytes (xorshift64*).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Pushes the image to `repo:v1`; returns (digest, manifest size).
fn push_image(client: &RegistryClient, repo: &str, layers: &[Vec<u8>]) -> (String, usize) {
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        let d = client.push_blob(repo, l);
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "size": l.len(), "digest": d
        }));
        diff_ids.push(d);
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap();
    let cd = client.push_blob(repo, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": cd},
        "layers": descs,
    }))
    .unwrap();
    (
        client.push_manifest(repo, "v1", OCI_MANIFEST, &manifest),
        manifest.len(),
    )
}

/// 100 referrers (Sigstore-bundle-shaped artifacts, distinct blobs) of `digest` in `repo`.
fn push_referrers(client: &RegistryClient, repo: &str, digest: &str, size: usize) {
    let empty = client.push_blob(repo, b"{}");
    for i in 0..REFERRERS {
        let bundle = format!(
            r#"{{"mediaType":"{BUNDLE}","verificationMaterial":{{"publicKey":{{"hint":"bench"}}}},"n":{i}}}"#
        );
        let b = client.push_blob(repo, bundle.as_bytes());
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": empty},
            "layers": [{"mediaType": BUNDLE, "size": bundle.len(), "digest": b}],
            "subject": {"mediaType": OCI_MANIFEST, "size": size, "digest": digest},
            "annotations": {"dev.sigstore.bundle.predicateType": format!("https://example.com/bench/{i}")},
        }))
        .unwrap();
        client.push_manifest(repo, &sha256_digest(&manifest), OCI_MANIFEST, &manifest);
    }
}

/// A `.att` image with one DSSE layer.
fn push_attestation(client: &RegistryClient, repo: &str, digest: &str) {
    let env = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AAAA"}]}"#;
    let l = client.push_blob(repo, env);
    let config =
        serde_json::to_vec(&serde_json::json!({"rootfs": {"type": "layers", "diff_ids": [l]}}))
            .unwrap();
    let cd = client.push_blob(repo, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": cd},
        "layers": [{"mediaType": "application/vnd.dsse.envelope.v1+json", "size": env.len(), "digest": l,
                    "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": "https://example.com/bench"}}],
    }))
    .unwrap();
    client.push_manifest(
        repo,
        &format!("{}.att", digest.replace(':', "-")),
        OCI_MANIFEST,
        &manifest,
    );
}

/// One manifest of the attachment set, with the blobs it needs.
struct Item {
    reference: String,
    media_type: String,
    bytes: Vec<u8>,
    blobs: Vec<String>,
}

/// Everything `copy` moves besides the image: the three tag images and the referrers, read
/// from the source (untimed) so a minimal client can push them.
struct AttachmentSet {
    items: Vec<Item>,
    blobs: Vec<(String, Vec<u8>)>,
    /// The `sha256-<hex>` fallback index listing the referrers.
    fallback: (String, Vec<u8>),
}

fn read_attachments(client: &RegistryClient, repo: &str, digest: &str) -> AttachmentSet {
    let tag = digest.replace(':', "-");
    let mut items = Vec::new();
    let mut refs: Vec<(String, String)> = ["sig", "att", "sbom"]
        .iter()
        .map(|s| (format!("{tag}.{s}"), format!("{tag}.{s}")))
        .collect();
    let listing = client.request("GET", &format!("/v2/{repo}/referrers/{digest}"), &[], None);
    assert_eq!(listing.status, 200, "referrers of the source");
    let index: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let listed = index["manifests"].as_array().unwrap().clone();
    for d in &listed {
        let d = d["digest"].as_str().unwrap().to_owned();
        refs.push((d.clone(), d));
    }
    let mut blobs = std::collections::BTreeMap::new();
    for (src_ref, dst_ref) in refs {
        let m = client.get_manifest(repo, &src_ref);
        let parsed: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
        let mut needs = vec![parsed["config"]["digest"].as_str().unwrap().to_owned()];
        for l in parsed["layers"].as_array().unwrap() {
            needs.push(l["digest"].as_str().unwrap().to_owned());
        }
        for b in &needs {
            blobs.entry(b.clone()).or_insert_with(|| {
                let r = client.request("GET", &format!("/v2/{repo}/blobs/{b}"), &[], None);
                assert_eq!(r.status, 200, "blob {b}");
                r.body
            });
        }
        items.push(Item {
            reference: dst_ref,
            media_type: m.media_type,
            bytes: m.bytes,
            blobs: needs,
        });
    }
    let fallback = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": listed,
    }))
    .unwrap();
    AttachmentSet {
        items,
        blobs: blobs.into_iter().collect(),
        fallback: (tag, fallback),
    }
}

/// Runs `f` on every element of `v`, 16 threads at once (as cosign copies).
fn parallel<T: Sync>(v: &[T], f: impl Fn(&T) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                while let Some(x) = v.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    f(x);
                }
            });
        }
    });
}

/// The fewest requests that store the attachment set in `repo`: each distinct blob uploaded
/// once (POST + PUT, nothing asked first), then every manifest, then (`fallback`) the
/// fallback index; 16 at once, no reads and no checks. Returns wall seconds.
fn push_minimal(client: &RegistryClient, repo: &str, set: &AttachmentSet, fallback: bool) -> f64 {
    let start = Instant::now();
    parallel(&set.blobs, |(_, data)| {
        client.upload_blob(repo, data);
    });
    parallel(&set.items, |i| {
        debug_assert!(!i.blobs.is_empty());
        client.push_manifest(repo, &i.reference, &i.media_type, &i.bytes);
    });
    if fallback {
        client.push_manifest(
            repo,
            &set.fallback.0,
            "application/vnd.oci.image.index.v1+json",
            &set.fallback.1,
        );
    }
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A destination for one copy: a fresh registry, reached directly or across the emulated
/// network.
struct Dest {
    registry: Registry,
    latency: Option<Latency>,
}

impl Dest {
    fn new(kind: Kind, rtt: Duration) -> Dest {
        let registry = match kind {
            Kind::Ferro => Registry::ferro_unlogged(),
            Kind::Distribution => Registry::distribution(RegistryConfig::default()),
        };
        let latency = (!rtt.is_zero()).then(|| registry.behind_rtt(rtt));
        Dest { registry, latency }
    }

    fn host(&self) -> String {
        self.latency
            .as_ref()
            .map_or_else(|| self.registry.host(), Latency::host)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ferro,
    Distribution,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cosign = PathBuf::from(
        args.next()
            .expect("usage: copy-bench <cosign> [LAYER_MIB [RTT_MS]]"),
    );
    let layer_mib: usize = args.next().map_or(64, |s| s.parse().expect("LAYER_MIB"));
    let rtt_ms: u64 = args.next().map_or(20, |s| s.parse().expect("RTT_MS"));
    let b = Bench {
        cosign: std::fs::canonicalize(&cosign).unwrap(),
        dir: tempfile::tempdir().unwrap(),
    };
    b.must(&["generate-key-pair"]);
    let src = Registry::ferro_unlogged();
    let client = RegistryClient::new(&src);
    let layers: Vec<Vec<u8>> = (0..4).map(|i| noise(i + 1, layer_mib << 20)).collect();
    let (digest, size) = push_image(&client, "bench/plain", &layers);
    let (digest2, _) = push_image(&client, "bench/full", &layers);
    assert_eq!(digest, digest2);
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        &format!("{}/bench/full@{digest}", src.host()),
    ]);
    std::fs::write(b.dir.path().join("sbom.spdx"), "SPDXVersion: SPDX-2.2\n").unwrap();
    b.must(&[
        "attach",
        "sbom",
        "--sbom",
        "sbom.spdx",
        &format!("{}/bench/full:v1", src.host()),
    ]);
    push_attestation(&client, "bench/full", &digest);
    push_referrers(&client, "bench/full", &digest, size);
    let set = read_attachments(&client, "bench/full", &digest);

    println!(
        "image: 4 layers x {layer_mib} MiB; with attachments: .sig, .att, .sbom and {REFERRERS} referrers; median of {RUNS} runs"
    );
    let mut failed = false;
    for rtt in [Duration::ZERO, Duration::from_millis(rtt_ms)] {
        // The source across the same network as the destination.
        let src_latency = (!rtt.is_zero()).then(|| src.behind_rtt(rtt));
        let src_host = src_latency
            .as_ref()
            .map_or_else(|| src.host(), Latency::host);
        let full = format!("{src_host}/bench/full:v1");
        let plain = format!("{src_host}/bench/plain:v1");
        let network = if rtt.is_zero() {
            "loopback".to_owned()
        } else {
            format!("{} ms RTT", rtt.as_millis())
        };
        for (name, kind) in [
            ("ferro (referrers API)", Kind::Ferro),
            ("distribution (fallback index)", Kind::Distribution),
        ] {
            if let Ok(path) = std::env::var("COPY_BENCH_DEBUG") {
                let dst = Dest::new(kind, rtt);
                let out = Command::new(&b.cosign)
                    .args(["-d", "copy", &full, &format!("{}/debug/img:v1", dst.host())])
                    .current_dir(b.dir.path())
                    .output()
                    .unwrap();
                std::fs::write(
                    format!(
                        "{path}.{}.{}",
                        rtt.as_millis(),
                        dst.host().replace(':', "_")
                    ),
                    &out.stderr,
                )
                .unwrap();
            }
            let (mut alone, mut with) = (Vec::new(), Vec::new());
            let (mut alone_cpu, mut with_cpu) = (Vec::new(), Vec::new());
            let (mut alone_dst_cpu, mut with_dst_cpu) = (Vec::new(), Vec::new());
            let mut floor = Vec::new();
            // A fresh destination registry per copy: no blob is there already.
            for _ in 0..RUNS {
                let d = Dest::new(kind, rtt);
                let dst0 = d.registry.cpu_seconds();
                let (t, c) = b.time(&["copy", &plain, &format!("{}/alone/img:v1", d.host())]);
                alone.push(t);
                alone_cpu.push(c);
                alone_dst_cpu.push(d.registry.cpu_seconds() - dst0);

                let d = Dest::new(kind, rtt);
                let dst0 = d.registry.cpu_seconds();
                let (t, c) = b.time(&["copy", &full, &format!("{}/with/img:v1", d.host())]);
                with.push(t);
                with_cpu.push(c);
                with_dst_cpu.push(d.registry.cpu_seconds() - dst0);
                if with.len() == 1 {
                    // The copy is complete: the referrers and tags are all there.
                    let out = Command::new(&b.cosign)
                        .args(["tree", &format!("{}/with/img:v1", d.registry.host())])
                        .output()
                        .unwrap();
                    let text = String::from_utf8_lossy(&out.stdout);
                    let refs = text.matches("artifacts via OCI referrer").count();
                    assert_eq!(refs, REFERRERS, "referrers at the destination:\n{text}");
                    assert!(
                        text.contains(".att") && text.contains(".sig") && text.contains(".sbom")
                    );
                }

                // The floor: the attachment set pushed by a minimal client.
                let d = Dest::new(kind, rtt);
                floor.push(push_minimal(
                    &RegistryClient::at_host(&d.host()),
                    "floor/img",
                    &set,
                    kind == Kind::Distribution,
                ));
            }
            let (a, w, f) = (median(alone), median(with), median(floor));
            let ratio = w / a;
            let ok = ratio <= 2.0;
            failed |= !ok;
            println!(
                "copy to {name:<30} {network:<9} image alone {a:>7.3} s, with attachments {w:>7.3} s, ratio {ratio:>5.2} (target <= 2.0) {}",
                if ok { "PASS" } else { "FAIL" }
            );
            println!(
                "  floor: the attachments alone pushed by a minimal client (no reads, no checks, 16 at once): {f:.3} s"
            );
            println!(
                "  CPU (user+sys) alone / with: cosign {:.2} / {:.2} s, destination registry {:.2} / {:.2} s",
                median(alone_cpu),
                median(with_cpu),
                median(alone_dst_cpu),
                median(with_dst_cpu),
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}
