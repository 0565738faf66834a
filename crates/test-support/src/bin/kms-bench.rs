//! KMS benchmark for `cosign` (run by `bench/kms.sh`): signing 50 images in one call with one
//! KMS key, against moto (AWS KMS over TLS) and OpenBao (Vault transit), with request counts taken
//! from the servers' own request logs (moto's wrapper logs every KMS call; OpenBao sits behind
//! the counting proxy) and wall times measured in the same run.
//!
//! Usage: kms-bench <path to cosign>
//!
//! Targets (issue "KMS key providers"): per invocation one key lookup and one public-key fetch
//! (however many images), one signature request per image, signature requests in flight at the
//! same time (moto's log records when each request started and ended), and verification with
//! the KMS URI fetching the key once.

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
use std::time::Instant;

use test_support::{ImageSpec, LoggedRequest, Moto, OpenBao, Registry, RegistryConfig, push_image};

const IMAGES: usize = 50;

struct Bench {
    cosign: PathBuf,
    dir: tempfile::TempDir,
    failed: std::cell::Cell<bool>,
}

impl Bench {
    /// Runs cosign; returns wall seconds.
    fn run(&self, args: &[&str], env: &[(String, String)]) -> f64 {
        let start = Instant::now();
        let out = Command::new(&self.cosign)
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("COSIGN_PASSWORD", "bench")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let t = start.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "cosign {:?} failed: {}",
            &args[..args.len().min(4)],
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn report(&self, name: &str, value: f64, ok: bool, target: &str, unit: &str) {
        if !ok {
            self.failed.set(true);
        }
        println!(
            "{name:<66} {value:>8.3} {unit:<9} ({target}) {}",
            if ok { "PASS" } else { "FAIL" }
        );
    }

    fn at_most(&self, name: &str, value: usize, limit: usize) {
        self.report(
            name,
            value as f64,
            value <= limit,
            &format!("target <= {limit}"),
            "requests",
        );
    }

    fn info(&self, name: &str, value: f64, unit: &str) {
        println!("{name:<66} {value:>8.3} {unit}");
    }
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn count(reqs: &[LoggedRequest], f: impl Fn(&LoggedRequest) -> bool) -> usize {
    reqs.iter().filter(|r| f(r)).count()
}

fn main() {
    let cosign = PathBuf::from(std::env::args().nth(1).expect("usage: kms-bench <cosign>"));
    let b = Bench {
        cosign: std::fs::canonicalize(&cosign).unwrap(),
        dir: tempfile::tempdir().unwrap(),
        failed: std::cell::Cell::new(false),
    };
    let reg = Registry::distribution(RegistryConfig::default());
    let images: Vec<String> = (0..IMAGES)
        .map(|i| {
            push_image(
                &reg,
                &format!("bench/kms:v{i}"),
                &ImageSpec {
                    seed: format!("kms-bench-{i}"),
                    ..ImageSpec::default()
                },
            )
            .digest_ref
        })
        .collect();
    let moto = Moto::start();
    moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", Some("alias/bench"));
    let bao = OpenBao::start();
    bao.create_key("bench", "ecdsa-p256");
    b.run(&["generate-key-pair"], &[]);

    let sign_args = |key: &str, n: usize| -> Vec<String> {
        let mut a: Vec<String> = vec![
            "sign".into(),
            "--key".into(),
            key.into(),
            "--tlog-upload=false".into(),
        ];
        a.extend(images[..n].iter().cloned());
        a
    };
    let verify_args = |key: &str| -> Vec<String> {
        let mut a: Vec<String> = vec![
            "verify".into(),
            "--key".into(),
            key.into(),
            "--insecure-ignore-tlog".into(),
        ];
        a.extend(images.iter().cloned());
        a
    };

    // The floor: the same signing with a local key file (registry work only). The first
    // signature of an image by a key costs the registry more than later ones (new layers), so
    // every key signs the 50 images twice and both times are shown.
    let local_first = b.run(&as_refs(&sign_args("cosign.key", IMAGES)), &[]);
    let local_again = b.run(&as_refs(&sign_args("cosign.key", IMAGES)), &[]);

    // AWS KMS (moto).
    let aws = format!("awskms://{}/alias/bench", moto.endpoint());
    let env = moto.env();
    moto.clear_requests();
    let aws_first = b.run(&as_refs(&sign_args(&aws, IMAGES)), &env);
    let r = moto.requests();
    let in_flight = moto.max_in_flight();
    b.at_most(
        "awskms sign 50 images: DescribeKey (key lookup)",
        count(&r, |x| x.path.ends_with(".DescribeKey")),
        1,
    );
    b.at_most(
        "awskms sign 50 images: GetPublicKey",
        count(&r, |x| x.path.ends_with(".GetPublicKey")),
        1,
    );
    b.at_most(
        "awskms sign 50 images: Sign (MessageType=DIGEST)",
        count(&r, |x| x.path.ends_with(".Sign")),
        IMAGES,
    );
    b.at_most(
        "awskms sign 50 images: all KMS requests",
        r.len(),
        IMAGES + 2,
    );
    b.report(
        "awskms sign 50 images: most KMS requests in flight at once",
        in_flight as f64,
        in_flight >= 2,
        "target >= 2",
        "requests",
    );
    moto.clear_requests();
    let aws_again = b.run(&as_refs(&sign_args(&aws, IMAGES)), &env);
    b.at_most(
        "awskms sign 50 images again: all KMS requests",
        moto.requests().len(),
        IMAGES + 2,
    );
    moto.clear_requests();
    b.run(&as_refs(&verify_args(&aws)), &env);
    b.at_most(
        "awskms verify 50 images: all KMS requests",
        moto.requests().len(),
        2,
    );

    // Vault transit (OpenBao).
    let env = bao.env();
    bao.clear_requests();
    let bao_first = b.run(&as_refs(&sign_args("hashivault://bench", IMAGES)), &env);
    let r = bao.requests();
    b.at_most(
        "hashivault sign 50 images: GET transit/keys (lookup + public key)",
        count(&r, |x| x.method == "GET"),
        1,
    );
    b.at_most(
        "hashivault sign 50 images: POST transit/sign",
        count(&r, |x| x.path.contains("/sign/")),
        IMAGES,
    );
    b.at_most(
        "hashivault sign 50 images: all requests",
        r.len(),
        IMAGES + 1,
    );
    let bao_again = b.run(&as_refs(&sign_args("hashivault://bench", IMAGES)), &env);
    bao.clear_requests();
    b.run(&as_refs(&verify_args("hashivault://bench")), &env);
    b.at_most(
        "hashivault verify 50 images: all requests",
        bao.requests().len(),
        1,
    );

    println!();
    b.info(
        "local key file: sign 50 images, first signature by the key",
        local_first,
        "s",
    );
    b.info(
        "local key file: sign 50 images again (the floor)",
        local_again,
        "s",
    );
    b.info(
        "awskms (moto): sign 50 images, first signature by the key",
        aws_first,
        "s",
    );
    b.info("awskms (moto): sign 50 images again", aws_again, "s");
    b.info(
        "hashivault (OpenBao): sign 50 images, first signature by the key",
        bao_first,
        "s",
    );
    b.info("hashivault (OpenBao): sign 50 images again", bao_again, "s");
    b.info(
        "awskms again / local key file again",
        aws_again / local_again,
        "x",
    );
    b.info(
        "hashivault again / local key file again",
        bao_again / local_again,
        "x",
    );
    if b.failed.get() {
        println!("\nsome targets were missed");
        std::process::exit(1);
    }
}
