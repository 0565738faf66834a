//! `cosign copy` benchmark (run by `bench/copy.sh`): copying an image with 3 tag attachments
//! (`.sig`, `.att`, `.sbom`) and 100 referrers must take at most 2x the time of copying the
//! same image alone.
//!
//! Usage: copy-bench <path to cosign> [LAYER_MIB]
//!
//! The image has 4 incompressible layers of LAYER_MIB MiB each (default 8). It is pushed twice
//! to a ferro-oci-server (referrers API): once bare, once with the attachments and referrers.
//! Both are copied across registries (so layers really move) to a second ferro and to the
//! Debian distribution registry (no referrers API: the fallback index is written). Each copy
//! goes to a fresh repository; the median of 3 runs is reported. Exit 1 on FAIL.

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
use std::time::Instant;

use test_support::{Registry, RegistryClient, RegistryConfig, sha256_digest};

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

    fn time(&self, args: &[&str]) -> f64 {
        let start = Instant::now();
        self.must(args);
        start.elapsed().as_secs_f64()
    }
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cosign = PathBuf::from(args.next().expect("usage: copy-bench <cosign> [LAYER_MIB]"));
    let layer_mib: usize = args.next().map_or(8, |s| s.parse().expect("LAYER_MIB"));
    let b = Bench {
        cosign: std::fs::canonicalize(&cosign).unwrap(),
        dir: tempfile::tempdir().unwrap(),
    };
    b.must(&["generate-key-pair"]);
    let src = Registry::ferro();
    let client = RegistryClient::new(&src);
    let layers: Vec<Vec<u8>> = (0..4).map(|i| noise(i + 1, layer_mib << 20)).collect();
    let (digest, size) = push_image(&client, "bench/plain", &layers);
    let (digest2, _) = push_image(&client, "bench/full", &layers);
    assert_eq!(digest, digest2);
    let full = format!("{}/bench/full:v1", src.host());
    let plain = format!("{}/bench/plain:v1", src.host());
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        &format!("{}/bench/full@{digest}", src.host()),
    ]);
    std::fs::write(b.dir.path().join("sbom.spdx"), "SPDXVersion: SPDX-2.2\n").unwrap();
    b.must(&["attach", "sbom", "--sbom", "sbom.spdx", &full]);
    push_attestation(&client, "bench/full", &digest);
    push_referrers(&client, "bench/full", &digest, size);

    println!(
        "image: 4 layers x {layer_mib} MiB; with attachments: .sig, .att, .sbom and {REFERRERS} referrers; median of {RUNS} runs"
    );
    let mut failed = false;
    let fresh = |kind: &str| match kind {
        "ferro" => Registry::ferro(),
        _ => Registry::distribution(RegistryConfig::default()),
    };
    for (name, kind) in [
        ("ferro (referrers API)", "ferro"),
        ("distribution (fallback index)", "distribution"),
    ] {
        let dst = fresh(kind);
        if let Ok(path) = std::env::var("COPY_BENCH_DEBUG") {
            let out = Command::new(&b.cosign)
                .args(["-d", "copy", &full, &format!("{}/debug/img:v1", dst.host())])
                .current_dir(b.dir.path())
                .output()
                .unwrap();
            std::fs::write(
                format!("{path}.{}", dst.host().replace(':', "_")),
                &out.stderr,
            )
            .unwrap();
        }
        let mut alone = Vec::new();
        let mut with = Vec::new();
        // A fresh destination registry per copy: no blob is there already.
        for run in 0..RUNS {
            let d = fresh(kind);
            alone.push(b.time(&["copy", &plain, &format!("{}/alone{run}/img:v1", d.host())]));
            let d = fresh(kind);
            with.push(b.time(&["copy", &full, &format!("{}/with{run}/img:v1", d.host())]));
        }
        b.must(&["copy", &full, &format!("{}/with0/img:v1", dst.host())]);
        let (a, w) = (median(alone), median(with));
        let ratio = w / a;
        let ok = ratio <= 2.0;
        failed |= !ok;
        println!(
            "copy to {name:<30} image alone {a:>7.3} s, with attachments {w:>7.3} s, ratio {ratio:>5.2} (target <= 2.0) {}",
            if ok { "PASS" } else { "FAIL" }
        );
        // The copy is complete: the referrers are all there.
        let out = Command::new(&b.cosign)
            .args(["tree", &format!("{}/with0/img:v1", dst.host())])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let refs = text.matches("artifacts via OCI referrer").count();
        assert_eq!(refs, REFERRERS, "referrers at the destination:\n{text}");
        assert!(text.contains(".att") && text.contains(".sig") && text.contains(".sbom"));
    }
    if failed {
        std::process::exit(1);
    }
}
