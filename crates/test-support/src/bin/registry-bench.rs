//! Registry benchmark for `cosign` (run by `bench/registry.sh`): request counts taken from the
//! registries' own request logs, and wall-time ratios measured in the same run.
//!
//! Usage: registry-bench <path to cosign>
//!
//! Targets (issue "Container images"): `sign` of a new digest uses at most 8 requests on a
//! registry without the referrers API (legacy `.sig`) and at most 6 with it (bundle referrer);
//! `verify` of an image with N signatures uses at most 2 + distinct payloads requests and N=100
//! takes at most 2x the time of N=1; signing 200 images in one call decrypts the key once and
//! takes at most 15x the time of one image.

// A benchmark driver: a failure aborts the run with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use test_support::{ImageSpec, Registry, RegistryClient, RegistryConfig, push_image};

struct Bench {
    cosign: PathBuf,
    dir: tempfile::TempDir,
    failed: std::cell::Cell<bool>,
}

impl Bench {
    fn cosign(&self, args: &[&str], stdin: Option<&[u8]>) -> (bool, Vec<u8>, String) {
        let mut cmd = Command::new(&self.cosign);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("COSIGN_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::piped());
        if stdin.is_none() {
            cmd.env("COSIGN_PASSWORD", "bench");
        }
        let mut child = cmd.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        let data = stdin.unwrap_or_default().to_vec();
        let w = std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        w.join().unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn must(&self, args: &[&str]) -> Vec<u8> {
        let (ok, out, err) = self.cosign(args, None);
        assert!(ok, "cosign {args:?} failed: {err}");
        out
    }

    /// Median wall seconds of `runs` runs.
    fn time(&self, args: &[&str], runs: usize) -> f64 {
        let mut t: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                self.must(args);
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
            "{name:<64} {value:>9.3} {unit:<9} (target <= {limit}) {}",
            if ok { "PASS" } else { "FAIL" }
        );
    }
}

/// Builds a `.sig` image with `n` signatures, signed by `cosign sign-blob`: over `n` distinct
/// payloads, or all over one payload (ECDSA signatures differ each time, as when several signers
/// sign the same digest).
fn attach_many(b: &Bench, reg: &Registry, repo: &str, digest: &str, n: usize, distinct: bool) {
    let mut files = Vec::new();
    for i in 0..n {
        let marker = if distinct { i } else { 0 };
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{}/{repo}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":{{"n":"{marker}"}}}}"#,
            reg.host()
        );
        let name = format!("payload-{i}.json");
        std::fs::write(b.dir.path().join(&name), payload).unwrap();
        files.push(name);
    }
    let mut args = vec!["sign-blob", "--key", "cosign.key", "--tlog-upload=false"];
    args.extend(files.iter().map(String::as_str));
    let sigs = String::from_utf8(b.must(&args)).unwrap();
    let client = RegistryClient::new(reg);
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (file, sig) in files.iter().zip(sigs.lines()) {
        let payload = std::fs::read(b.dir.path().join(file)).unwrap();
        let d = client.push_blob(repo, &payload);
        layers.push(serde_json::json!({
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "size": payload.len(),
            "digest": d,
            "annotations": {"dev.cosignproject.cosign/signature": sig}
        }));
        diff_ids.push(d);
    }
    let config = serde_json::to_vec(
        &serde_json::json!({"rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    )
    .unwrap();
    let config_digest = client.push_blob(repo, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": layers,
    }))
    .unwrap();
    let tag = format!("{}.sig", digest.replace(':', "-"));
    client.push_manifest(
        repo,
        &tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
}

fn main() {
    let cosign = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: registry-bench <cosign>"),
    );
    let b = Bench {
        cosign: std::fs::canonicalize(&cosign).unwrap(),
        dir: tempfile::tempdir().unwrap(),
        failed: std::cell::Cell::new(false),
    };
    b.must(&["generate-key-pair"]);
    let dist = Registry::distribution(RegistryConfig::default());
    let ferro = Registry::ferro();

    // 1. Request counts of one signature on a new digest.
    let img = push_image(&dist, "bench/one:v1", &ImageSpec::default());
    dist.clear_requests();
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        &img.digest_ref,
    ]);
    let n = dist.requests().len();
    b.report(
        "sign, new digest, legacy .sig, no referrers API: requests",
        n as f64,
        8.0,
        "requests",
    );

    let warm = push_image(
        &ferro,
        "bench/one:warm",
        &ImageSpec {
            seed: "warm".into(),
            ..ImageSpec::default()
        },
    );
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        "--new-bundle-format",
        &warm.digest_ref,
    ]);
    let img = push_image(&ferro, "bench/one:v1", &ImageSpec::default());
    ferro.clear_requests();
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        "--new-bundle-format",
        &img.digest_ref,
    ]);
    let n = ferro.requests().len();
    b.report(
        "sign, new digest, bundle referrer, referrers API: requests",
        n as f64,
        6.0,
        "requests",
    );

    // 2. verify with N=1 and N=100 signatures: over one payload (the target), and over 100
    //    distinct payloads (for information: then the registry serving 100 blobs dominates).
    let one = push_image(
        &dist,
        "bench/verify:one",
        &ImageSpec {
            seed: "one".into(),
            ..ImageSpec::default()
        },
    );
    let same = push_image(
        &dist,
        "bench/verify:same",
        &ImageSpec {
            seed: "same".into(),
            ..ImageSpec::default()
        },
    );
    let many = push_image(
        &dist,
        "bench/verify:many",
        &ImageSpec {
            seed: "many".into(),
            ..ImageSpec::default()
        },
    );
    attach_many(&b, &dist, "bench/verify", &one.digest, 1, false);
    attach_many(&b, &dist, "bench/verify", &same.digest, 100, false);
    attach_many(&b, &dist, "bench/verify", &many.digest, 100, true);
    let verify = |r: &str| -> Vec<String> {
        ["verify", "--key", "cosign.pub", "--insecure-ignore-tlog", r]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    let (v_one, v_same, v_many) = (
        verify(&one.digest_ref),
        verify(&same.digest_ref),
        verify(&many.digest_ref),
    );
    let as_args = |v: &Vec<String>| -> Vec<String> { v.clone() };
    let run = |v: &Vec<String>| {
        let a: Vec<&str> = v.iter().map(String::as_str).collect();
        b.must(&a)
    };
    for (v, n) in [(&v_same, 100), (&v_many, 100)] {
        let out: serde_json::Value = serde_json::from_slice(&run(v)).unwrap();
        assert_eq!(out.as_array().unwrap().len(), n);
    }
    dist.clear_requests();
    run(&v_same);
    let n = dist.requests().len();
    b.report(
        "verify, 100 signatures / 1 distinct payload: requests - 1",
        n as f64 - 1.0,
        2.0,
        "requests",
    );
    dist.clear_requests();
    run(&v_many);
    let n = dist.requests().len();
    b.report(
        "verify, 100 signatures / 100 distinct payloads: requests - 100",
        n as f64 - 100.0,
        2.0,
        "requests",
    );
    let time = |v: &Vec<String>| {
        let a = as_args(v);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        b.time(&a, 7)
    };
    let t1 = time(&v_one);
    let t_same = time(&v_same);
    let t_many = time(&v_many);
    println!(
        "verify wall time (medians of 7): N=1 {t1:.3} s; N=100 same payload {t_same:.3} s; N=100 distinct payloads {t_many:.3} s ({:.2}x, for information: 100 blob GETs from the registry)",
        t_many / t1
    );
    b.report(
        "verify time N=100 (one payload) / N=1",
        t_same / t1,
        2.0,
        "x",
    );

    // 3. Signing 200 images in one call: one key decryption (password read once from a pipe).
    let images: Vec<String> = (0..200)
        .map(|i| {
            push_image(
                &dist,
                &format!("bench/many:i{i}"),
                &ImageSpec {
                    seed: format!("s{i}"),
                    ..ImageSpec::default()
                },
            )
            .digest_ref
        })
        .collect();
    let single = push_image(
        &dist,
        "bench/many:single",
        &ImageSpec {
            seed: "single".into(),
            ..ImageSpec::default()
        },
    );
    let start = Instant::now();
    b.must(&[
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        &single.digest_ref,
    ]);
    let t_one = start.elapsed().as_secs_f64();
    let mut args = vec!["sign", "--key", "cosign.key", "--tlog-upload=false"];
    args.extend(images.iter().map(String::as_str));
    let start = Instant::now();
    // The password comes from standard input, which can be read only once: a second key
    // decryption would get an empty password and fail.
    let (ok, _, err) = b.cosign(&args, Some(b"bench"));
    let t_all = start.elapsed().as_secs_f64();
    assert!(ok, "signing 200 images failed: {err}");
    println!(
        "sign wall time: 1 image {t_one:.3} s, 200 images in one call {t_all:.3} s; key decrypted once (password piped once)"
    );
    b.report("sign 200 images / sign 1 image", t_all / t_one, 15.0, "x");
    std::process::exit(i32::from(b.failed.get()));
}
