//! Container-image commands end to end against real registries: the Debian distribution
//! registry (no referrers API) and ferro-oci-server (referrers API), started per test.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use test_support::{Auth, ImageSpec, Registry, RegistryConfig, push_image};

use crate::common::Scratch;

const NO_TLOG: &str = "--tlog-upload=false";
const IGNORE_TLOG: &str = "--insecure-ignore-tlog";

fn distribution() -> Registry {
    Registry::distribution(RegistryConfig::default())
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json";

/// GETs a manifest by tag or digest: (status, body).
fn get_manifest(reg: &Registry, repo: &str, reference: &str) -> (u16, Vec<u8>) {
    let r = http()
        .get(format!("{}/v2/{repo}/manifests/{reference}", reg.url()))
        .header("Accept", ACCEPT)
        .send()
        .unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

fn get_blob(reg: &Registry, repo: &str, digest: &str) -> Vec<u8> {
    http()
        .get(format!("{}/v2/{repo}/blobs/{digest}", reg.url()))
        .send()
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec()
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

fn sign(s: &Scratch, key: &str, image: &str, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["sign", "--key", key, NO_TLOG];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, &[("COSIGN_PASSWORD", "pw")], None)
}

fn verify(s: &Scratch, key: &str, image: &str, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["verify", "--key", key, IGNORE_TLOG];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, &[], None)
}

#[test]
fn sign_and_verify_legacy_layout_byte_for_byte() {
    let reg = distribution();
    let img = push_image(&reg, "test/hello:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let run = sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    assert_eq!(
        run.stderr,
        format!("Pushing signature to: {}/test/hello\n", reg.host())
    );

    // The .sig image, as cosign lays it out.
    let (status, body) = get_manifest(&reg, "test/hello", &sig_tag(&img.digest));
    assert_eq!(status, 200);
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layer = &m["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":"#), "{text}");
    let payload = get_blob(&reg, "test/hello", layer["digest"].as_str().unwrap());
    assert_eq!(
        String::from_utf8(payload.clone()).unwrap(),
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{}/test/hello"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
            reg.host(),
            img.digest
        )
    );
    // openssl verifies the stored signature over the stored payload.
    let sig = STANDARD
        .decode(
            layer["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    std::fs::write(s.path("payload"), &payload).unwrap();
    std::fs::write(s.path("sig"), &sig).unwrap();
    s.tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            "cosign.pub",
            "-signature",
            "sig",
            "payload",
        ],
    );

    // verify, by digest and by tag.
    for reference in [img.digest_ref.as_str(), img.reference.as_str()] {
        let run = verify(&s, "cosign.pub", reference, &[]).ok();
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(out.as_array().unwrap().len(), 1);
        assert_eq!(
            out[0]["critical"]["image"]["docker-manifest-digest"],
            img.digest.as_str()
        );
        assert!(run.stderr.contains(&format!("\nVerification for {reference} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n")), "{}", run.stderr);
    }
    // Signing the same image again with the same key adds nothing.
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    let (_, body) = get_manifest(&reg, "test/hello", &sig_tag(&img.digest));
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
}

#[test]
fn exit_codes_and_errors() {
    let reg = distribution();
    let img = push_image(&reg, "test/codes:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.keypair("other", "pw");
    // Unsigned image: 10.
    let run = verify(&s, "cosign.pub", &img.digest_ref, &[]);
    assert_eq!(run.code, 10, "{}", run.stderr);
    assert!(run.stderr.contains("no signatures found"));
    // Missing tag: 11.
    let run = verify(
        &s,
        "cosign.pub",
        &format!("{}/test/codes:nope", reg.host()),
        &[],
    );
    assert_eq!(run.code, 11, "{}", run.stderr);
    // Wrong key: 12.
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    let run = verify(&s, "other.pub", &img.digest_ref, &[]);
    assert_eq!(run.code, 12, "{}", run.stderr);
    assert!(run.stderr.contains("no matching signatures"));
    // Registry down.
    let run = sign(&s, "cosign.key", "127.0.0.1:9/test/x@sha256:0000000000000000000000000000000000000000000000000000000000000000", &[]).fails();
    assert!(run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    // Sign without --tlog-upload=false is refused and writes nothing.
    let img2 = push_image(
        &reg,
        "test/codes:v2",
        &ImageSpec {
            seed: "two".into(),
            ..ImageSpec::default()
        },
    );
    s.run(
        &["sign", "--key", "cosign.key", &img2.digest_ref],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .fails();
    assert_eq!(
        get_manifest(&reg, "test/codes", &sig_tag(&img2.digest)).0,
        404
    );
}

#[test]
fn multiple_signatures_annotations_and_tag_signing() {
    let reg = distribution();
    let img = push_image(&reg, "dlorenc/demo:sign-me", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.keypair("other", "pw");
    sign(&s, "cosign.key", &img.reference, &[]).ok();
    sign(&s, "other.key", &img.reference, &[]).ok();
    sign(
        &s,
        "other.key",
        &img.digest_ref,
        &["-a", "foo=bar", "-a", "tag=sign-me"],
    )
    .ok();
    let (_, body) = get_manifest(&reg, "dlorenc/demo", &sig_tag(&img.digest));
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 3);

    let run = verify(&s, "other.pub", &img.reference, &[]).ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 2);
    let run = verify(&s, "other.pub", &img.reference, &["-a", "tag=sign-me"]).ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 1);
    assert_eq!(out[0]["optional"]["tag"], "sign-me");
    assert!(
        run.stderr
            .contains("  - The specified annotations were verified.\n")
    );
    let run = verify(
        &s,
        "other.pub",
        &img.reference,
        &["-a", "tag=sign-me", "-a=foo=baz"],
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
    // -o text prints the raw payloads.
    let run = verify(&s, "cosign.pub", &img.reference, &["-o", "text"]).ok();
    assert!(run.stdout_text().starts_with(r#"{"critical":"#));
    // The tag warning when signing by tag.
    let run = sign(&s, "cosign.key", &img.reference, &[]).ok();
    assert!(
        run.stderr
            .contains("uses a tag, not a digest, to identify the image to sign.")
    );
}

#[test]
fn counter_signing_a_signature() {
    let reg = distribution();
    let img = push_image(&reg, "dlorenc/demo:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, "cosign.key", &img.digest_ref, &["-a", "sig=original"]).ok();
    let sig_ref = s
        .run(&["triangulate", &img.digest_ref], &[], None)
        .ok()
        .stdout_text();
    assert_eq!(
        sig_ref.trim(),
        format!("{}/dlorenc/demo:{}", reg.host(), sig_tag(&img.digest))
    );
    // crane tag $(cosign triangulate ...) mysignature
    let (_, body) = get_manifest(&reg, "dlorenc/demo", &sig_tag(&img.digest));
    let r = http()
        .put(format!(
            "{}/v2/dlorenc/demo/manifests/mysignature",
            reg.url()
        ))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body(body)
        .send()
        .unwrap();
    assert!(r.status().is_success());
    let counter = format!("{}/dlorenc/demo:mysignature", reg.host());
    sign(&s, "cosign.key", &counter, &["-a", "sig=counter"]).ok();
    let run = verify(&s, "cosign.pub", &counter, &[]).ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(out[0]["optional"]["sig"], "counter");
    let run = verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(out[0]["optional"]["sig"], "original");
}

#[test]
fn openssl_signature_attached_and_verified() {
    let reg = distribution();
    let img = push_image(&reg, "dlorenc-vmtest2/demo:latest", &ImageSpec::default());
    let s = Scratch::new();
    s.tool(
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "openssl.key",
        ],
    );
    s.tool(
        "openssl",
        &["ec", "-in", "openssl.key", "-pubout", "-out", "openssl.pub"],
    );
    let run = s.run(&["generate", &img.reference], &[], None).ok();
    assert!(!run.stdout.ends_with(b"\n"));
    std::fs::write(s.path("payload.json"), &run.stdout).unwrap();
    s.tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-sign",
            "openssl.key",
            "-out",
            "payload.sig",
            "payload.json",
        ],
    );
    let run = s.sh("base64 payload.sig > payloadbase64.sig", &[]);
    assert_eq!(run.code, 0);
    s.run(
        &[
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "payloadbase64.sig",
            &img.reference,
        ],
        &[],
        None,
    )
    .ok();
    // Without --payload the image's payload is implied (cosign's obsolete behaviour, with its
    // warning): it is the one generate made, so the same signature is already there.
    let run = s
        .run(
            &[
                "attach",
                "signature",
                "--signature",
                "payloadbase64.sig",
                &img.reference,
            ],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains("WARNING: using obsolete implied signature payload data"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("already attached"), "{}", run.stderr);
    let run = verify(&s, "openssl.pub", &img.reference, &[]).ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        out[0]["critical"]["type"],
        "cosign container image signature"
    );
    // The signature from standard input, and from --upload=false output.
    s.keypair("cosign", "pw");
    let sig = sign(&s, "cosign.key", &img.digest_ref, &["--upload=false"])
        .ok()
        .stdout_text();
    assert_eq!(STANDARD.decode(sig.trim()).unwrap()[0], 0x30);
    assert_eq!(
        verify(&s, "cosign.pub", &img.digest_ref, &[]).code,
        12,
        "--upload=false must not upload"
    );
    let generated = s.run(&["generate", &img.digest_ref], &[], None).ok();
    std::fs::write(s.path("p2.json"), &generated.stdout).unwrap();
    s.run(
        &[
            "attach",
            "signature",
            "--payload",
            "p2.json",
            "--signature",
            "-",
            &img.digest_ref,
        ],
        &[],
        Some(sig.as_bytes()),
    )
    .ok();
    verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();
    // download signature prints one JSON object per signature.
    let run = s
        .run(&["download", "signature", &img.digest_ref], &[], None)
        .ok();
    let lines: Vec<serde_json::Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(run.stdout_text().starts_with(r#"{"Base64Signature":""#));
    assert!(lines[1]["Payload"].is_string());
}

#[test]
fn clean_removes_everything() {
    let reg = distribution();
    let img = push_image(&reg, "test/clean:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    sign(&s, "cosign.key", &img.digest_ref, &["--new-bundle-format"]).ok();
    // Declining the prompt keeps them.
    let run = s
        .run(&["clean", &img.digest_ref], &[], Some(b"n\n"))
        .fails();
    assert!(run.stderr.contains(
        "WARNING: this will remove all signatures, SBOMs and attestations from the image"
    ));
    verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();
    let run = s.run(&["clean", "-f", &img.digest_ref], &[], None).ok();
    assert!(
        run.stderr.contains(&format!(
            "Removed {}/test/clean:{}",
            reg.host(),
            sig_tag(&img.digest)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(verify(&s, "cosign.pub", &img.digest_ref, &[]).code, 10);
}

#[test]
fn new_bundle_format_on_both_registries() {
    for (name, reg) in [
        ("distribution", distribution()),
        ("ferro", Registry::ferro()),
    ] {
        let img = push_image(&reg, "test/bundle:v1", &ImageSpec::default());
        let s = Scratch::new();
        s.keypair("cosign", "pw");
        sign(
            &s,
            "cosign.key",
            &img.digest_ref,
            &["--new-bundle-format", "-a", "k=v"],
        )
        .ok();
        let run = verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(
            out[0]["critical"]["type"], "https://sigstore.dev/cosign/sign/v1",
            "{name}"
        );
        assert_eq!(
            out[0]["critical"]["image"]["docker-manifest-digest"],
            img.digest.as_str()
        );
        assert_eq!(out[0]["optional"]["k"], "v");
        verify(&s, "cosign.pub", &img.digest_ref, &["-a", "k=v"]).ok();
        assert_eq!(
            verify(&s, "cosign.pub", &img.digest_ref, &["-a", "k=w"]).code,
            12
        );
        let (fallback, _) = get_manifest(&reg, "test/bundle", &img.digest.replace(':', "-"));
        if name == "distribution" {
            assert_eq!(
                fallback, 200,
                "the fallback index tag is written without a referrers API"
            );
        } else {
            assert_eq!(
                fallback, 404,
                "no fallback tag when the registry has the referrers API"
            );
        }
        // download prints the bundle.
        let run = s
            .run(&["download", "signature", &img.digest_ref], &[], None)
            .ok();
        let b: serde_json::Value = serde_json::from_str(run.stdout_text().trim()).unwrap();
        assert_eq!(
            b["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert!(b["dsseEnvelope"]["payload"].is_string());
    }
}

#[test]
fn recursive_signing_of_a_multi_arch_index() {
    let reg = distribution();
    let img = push_image(
        &reg,
        "test/multi:v1",
        &ImageSpec {
            platforms: vec![
                "linux/amd64".into(),
                "linux/arm64".into(),
                "linux/arm/v7".into(),
            ],
            ..ImageSpec::default()
        },
    );
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, "cosign.key", &img.digest_ref, &["-r"]).ok();
    verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();
    assert_eq!(img.platform_digests.len(), 3);
    for (_, d) in &img.platform_digests {
        verify(
            &s,
            "cosign.pub",
            &format!("{}/test/multi@{d}", reg.host()),
            &[],
        )
        .ok();
    }
}

#[test]
fn cosign_repository_stores_signatures_elsewhere() {
    let reg = distribution();
    let img = push_image(&reg, "test/app:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let sigs = format!("{}/test/signatures", reg.host());
    let env = [
        ("COSIGN_PASSWORD", "pw"),
        ("COSIGN_REPOSITORY", sigs.as_str()),
    ];
    let run = s
        .run(
            &["sign", "--key", "cosign.key", NO_TLOG, &img.digest_ref],
            &env,
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains(&format!("Pushing signature to: {sigs}"))
    );
    assert_eq!(
        get_manifest(&reg, "test/signatures", &sig_tag(&img.digest)).0,
        200
    );
    assert_eq!(get_manifest(&reg, "test/app", &sig_tag(&img.digest)).0, 404);
    s.run(
        &[
            "verify",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            &img.digest_ref,
        ],
        &[("COSIGN_REPOSITORY", sigs.as_str())],
        None,
    )
    .ok();
    let run = s
        .run(
            &["triangulate", &img.digest_ref],
            &[("COSIGN_REPOSITORY", sigs.as_str())],
            None,
        )
        .ok();
    assert!(run.stdout_text().starts_with(&sigs));
}

#[test]
fn ten_concurrent_signers_lose_nothing() {
    let reg = distribution();
    let img = push_image(&reg, "test/race:v1", &ImageSpec::default());
    let s = Scratch::new();
    for i in 0..10 {
        s.keypair(&format!("k{i}"), "pw");
    }
    let bin = env!("CARGO_BIN_EXE_cosign");
    let children: Vec<_> = (0..10)
        .map(|i| {
            s.command(
                &[
                    "sign",
                    "--key",
                    &format!("k{i}.key"),
                    NO_TLOG,
                    &img.digest_ref,
                ],
                &[("COSIGN_PASSWORD", "pw")],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {bin}: {e}"))
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_, body) = get_manifest(&reg, "test/race", &sig_tag(&img.digest));
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let sigs: BTreeSet<String> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(sigs.len(), 10, "a concurrent signer's signature was lost");
    for i in 0..10 {
        verify(&s, &format!("k{i}.pub"), &img.digest_ref, &[]).ok();
    }
}

#[test]
fn ten_concurrent_bundle_signers_on_the_fallback_index() {
    let reg = distribution();
    let img = push_image(&reg, "test/race2:v1", &ImageSpec::default());
    let s = Scratch::new();
    for i in 0..10 {
        s.keypair(&format!("k{i}"), "pw");
    }
    let children: Vec<_> = (0..10)
        .map(|i| {
            s.command(
                &[
                    "sign",
                    "--key",
                    &format!("k{i}.key"),
                    NO_TLOG,
                    "--new-bundle-format",
                    &img.digest_ref,
                ],
                &[("COSIGN_PASSWORD", "pw")],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_, body) = get_manifest(&reg, "test/race2", &img.digest.replace(':', "-"));
    let index: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 10);
    for i in 0..10 {
        verify(&s, &format!("k{i}.pub"), &img.digest_ref, &[]).ok();
    }
}

#[test]
fn request_budgets() {
    // Legacy sign of a new digest: at most 8 requests on a registry without referrers.
    let reg = distribution();
    let img = push_image(&reg, "test/budget:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    reg.clear_requests();
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    let reqs = reg.requests();
    assert!(
        reqs.len() <= 8,
        "sign used {} requests: {reqs:#?}",
        reqs.len()
    );
    // verify with N signatures: at most 2 + distinct payloads (here all payloads are equal).
    for i in 0..4 {
        s.keypair(&format!("k{i}"), "pw");
        sign(&s, &format!("k{i}.key"), &img.digest_ref, &[]).ok();
    }
    reg.clear_requests();
    verify(&s, "cosign.pub", &img.reference, &[]).ok();
    let reqs = reg.requests();
    assert!(
        reqs.len() <= 3,
        "verify used {} requests: {reqs:#?}",
        reqs.len()
    );

    // New-format sign on a registry with the referrers API: at most 6 (config already there).
    let ferro = Registry::ferro();
    let img = push_image(&ferro, "test/budget:v1", &ImageSpec::default());
    let img2 = push_image(
        &ferro,
        "test/budget:v2",
        &ImageSpec {
            seed: "b".into(),
            ..ImageSpec::default()
        },
    );
    sign(&s, "cosign.key", &img.digest_ref, &["--new-bundle-format"]).ok();
    ferro.clear_requests();
    sign(&s, "cosign.key", &img2.digest_ref, &["--new-bundle-format"]).ok();
    let reqs = ferro.requests();
    assert!(
        reqs.len() <= 6,
        "bundle sign used {} requests: {reqs:#?}",
        reqs.len()
    );
}

#[test]
fn authenticated_registries() {
    // Basic auth through docker config.json, and bearer tokens through --registry-username/password.
    let basic = Registry::distribution(RegistryConfig {
        auth: Auth::Htpasswd {
            user: "alice".into(),
            password: "s3cret".into(),
        },
        tls: false,
    });
    let img = test_support::push_image_with_auth(
        &basic,
        "test/private:v1",
        &ImageSpec::default(),
        "alice",
        "s3cret",
    );
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let run = sign(&s, "cosign.key", &img.digest_ref, &[]).fails();
    assert!(
        run.stderr.to_lowercase().contains("unauthorized") || run.stderr.contains("401"),
        "{}",
        run.stderr
    );
    std::fs::create_dir_all(s.path(".docker")).unwrap();
    std::fs::write(
        s.path(".docker/config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            basic.host(),
            STANDARD.encode("alice:s3cret")
        ),
    )
    .unwrap();
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    verify(&s, "cosign.pub", &img.digest_ref, &[]).ok();

    let token = Registry::distribution(RegistryConfig {
        auth: Auth::Token {
            user: "bob".into(),
            password: "pa55".into(),
            anonymous_pull: false,
        },
        tls: false,
    });
    let img = test_support::push_image_with_auth(
        &token,
        "test/tok:v1",
        &ImageSpec::default(),
        "bob",
        "pa55",
    );
    let creds = ["--registry-username", "bob", "--registry-password", "pa55"];
    sign(&s, "cosign.key", &img.digest_ref, &creds).ok();
    verify(&s, "cosign.pub", &img.digest_ref, &creds).ok();
    let run = verify(
        &s,
        "cosign.pub",
        &img.digest_ref,
        &["--registry-username", "bob", "--registry-password", "wrong"],
    );
    assert_ne!(run.code, 0);
}

#[test]
fn tls_registry_needs_its_ca() {
    let reg = Registry::distribution(RegistryConfig {
        auth: Auth::None,
        tls: true,
    });
    let img = push_image(&reg, "test/tls:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    std::fs::write(s.path("ca.pem"), reg.ca_pem().unwrap()).unwrap();
    // Loopback registries may speak either protocol: https is tried first (as ggcr does), so a
    // TLS registry is reached with its CA and refused without it.
    let run = sign(&s, "cosign.key", &img.digest_ref, &[]);
    assert_ne!(
        run.code, 0,
        "an unknown CA must not be trusted: {}",
        run.stderr
    );
    sign(
        &s,
        "cosign.key",
        &img.digest_ref,
        &["--registry-cacert", "ca.pem"],
    )
    .ok();
    verify(
        &s,
        "cosign.pub",
        &img.digest_ref,
        &["--registry-cacert", "ca.pem"],
    )
    .ok();
    // --allow-insecure-registry skips certificate verification.
    verify(
        &s,
        "cosign.pub",
        &img.digest_ref,
        &["--allow-insecure-registry"],
    )
    .ok();
}

#[test]
fn hostile_sizes_are_refused() {
    let reg = distribution();
    let img = push_image(&reg, "test/big:v1", &ImageSpec::default());
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, "cosign.key", &img.digest_ref, &[]).ok();
    // A cap below the payload size refuses the layer before downloading it.
    let run = s.run(
        &[
            "verify",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            &img.digest_ref,
        ],
        &[("COSIGN_MAX_ATTACHMENT_SIZE", "100")],
        None,
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("attachment size limit"),
        "{}",
        run.stderr
    );
}
