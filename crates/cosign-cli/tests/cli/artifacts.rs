//! SBOMs, uploads (blobs, WASM), OCI artifacts and Tekton bundles, copy, save/load and
//! `--local-image`, tree, Dockerfile/manifest verify: end to end against the Debian
//! distribution registry (no referrers API) and ferro-oci-server (referrers API).

use test_support::{ImageSpec, Registry, RegistryClient, RegistryConfig, push_image};

use crate::common::{Run, Scratch};

const NO_TLOG: &str = "--tlog-upload=false";
const IGNORE_TLOG: &str = "--insecure-ignore-tlog";
const EXPERIMENTAL: (&str, &str) = ("COSIGN_EXPERIMENTAL", "1");

fn both() -> Vec<(&'static str, Registry)> {
    vec![
        (
            "distribution",
            Registry::distribution(RegistryConfig::default()),
        ),
        ("ferro", Registry::ferro()),
    ]
}

fn sign(s: &Scratch, image: &str, extra: &[&str]) -> Run {
    let mut args = vec!["sign", "--key", "cosign.key", NO_TLOG];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, &[("COSIGN_PASSWORD", "pw")], None)
}

fn verify(s: &Scratch, image: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify", "--key", "cosign.pub", IGNORE_TLOG];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, &[], None)
}

fn manifest_json(reg: &Registry, repo: &str, reference: &str) -> serde_json::Value {
    let m = RegistryClient::new(reg).get_manifest(repo, reference);
    serde_json::from_slice(&m.bytes).unwrap()
}

fn manifest_status(reg: &Registry, repo: &str, reference: &str) -> u16 {
    RegistryClient::new(reg)
        .request(
            "HEAD",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", test_support::MANIFEST_ACCEPT)],
            None,
        )
        .status
}

fn tag_of(digest: &str, suffix: &str) -> String {
    format!("{}.{suffix}", digest.replace(':', "-"))
}

fn seeded(seed: &str) -> ImageSpec {
    ImageSpec {
        seed: seed.into(),
        ..ImageSpec::default()
    }
}

const SPDX: &str =
    "SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: alpine\n";
const CYCLONEDX: &str =
    r#"{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[]}"#;

#[test]
fn sbom_attach_download_sign_and_verify() {
    for (name, reg) in both() {
        let img = push_image(&reg, "test/sbom:v1", &ImageSpec::default());
        let s = Scratch::new();
        s.keypair("cosign", "pw");
        s.write("latest.spdx", SPDX);
        // Subcommands of command groups bind COSIGN_<FLAG> too (here --sbom).
        let run = s
            .run(
                &["attach", "sbom", &img.reference],
                &[("COSIGN_SBOM", "latest.spdx")],
                None,
            )
            .ok();
        let sbom_tag = tag_of(&img.digest, "sbom");
        let host = reg.host();
        assert!(
            run.stderr
                .starts_with("Command \"attach\" is deprecated, attach will be removed in v4.0.0"),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("WARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.\n"), "{}", run.stderr);
        assert!(run.stderr.contains("WARNING: Attaching SBOMs this way does not sign them. To sign them, use 'cosign attest --predicate latest.spdx --key <key path>'.\n"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "Uploading SBOM file for [{host}/test/sbom:v1] to [{host}/test/sbom:{sbom_tag}] with mediaType [text/spdx].\n"
            )),
            "{name}: {}",
            run.stderr
        );
        let m = manifest_json(&reg, "test/sbom", &sbom_tag);
        assert_eq!(m["layers"].as_array().unwrap().len(), 1);
        assert_eq!(m["layers"][0]["mediaType"], "text/spdx");
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.oci.image.config.v1+json"
        );

        let run = s.run(&["download", "sbom", &img.reference], &[], None).ok();
        assert_eq!(run.stdout_text(), format!("{SPDX}\n"));
        assert!(
            run.stderr.contains("Found SBOM of media type: text/spdx\n"),
            "{}",
            run.stderr
        );

        // Attaching again replaces: CycloneDX JSON from standard input.
        s.run(
            &[
                "attach",
                "sbom",
                "--type",
                "cyclonedx",
                "--input-format",
                "json",
                "--sbom",
                "-",
                &img.digest_ref,
            ],
            &[],
            Some(CYCLONEDX.as_bytes()),
        )
        .ok();
        let m = manifest_json(&reg, "test/sbom", &sbom_tag);
        assert_eq!(
            m["layers"].as_array().unwrap().len(),
            1,
            "{name}: replaced, not appended"
        );
        assert_eq!(
            m["layers"][0]["mediaType"],
            "application/vnd.cyclonedx+json"
        );
        let run = s
            .run(&["download", "sbom", &img.digest_ref], &[], None)
            .ok();
        assert_eq!(run.stdout_text(), format!("{CYCLONEDX}\n"));

        // The seed: sign the SBOM through its tag, then verify it.
        let sbom_ref = format!("{host}/test/sbom:{sbom_tag}");
        sign(&s, &sbom_ref, &[]).ok();
        let run = verify(&s, &sbom_ref, &[]).ok();
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let sbom_digest = RegistryClient::new(&reg)
            .get_manifest("test/sbom", &sbom_tag)
            .digest;
        assert_eq!(
            out[0]["critical"]["image"]["docker-manifest-digest"],
            sbom_digest.as_str()
        );

        // oci-1-1 needs COSIGN_EXPERIMENTAL.
        let args = [
            "attach",
            "sbom",
            "--registry-referrers-mode",
            "oci-1-1",
            "--sbom",
            "latest.spdx",
            &img.digest_ref,
        ];
        let run = s.run(&args, &[], None).fails();
        assert!(
            run.stderr
                .contains("in order to use mode \"oci-1-1\", you must set COSIGN_EXPERIMENTAL=1"),
            "{}",
            run.stderr
        );
        let run = s.run(&args, &[EXPERIMENTAL], None).ok();
        assert!(run.stderr.contains("with config.mediaType [application/vnd.dev.cosign.artifact.sbom.v1+json] layers[0].mediaType [text/spdx]."), "{}", run.stderr);
        let run = s.run(&["tree", &img.digest_ref], &[], None).ok();
        let out = run.stdout_text();
        assert!(
            out.contains(&format!(
                "└── 📦 SBOMs for an image tag: {host}/test/sbom:{sbom_tag}\n"
            )),
            "{name}: {out}"
        );
        assert!(out.contains("└── 🔗 application/vnd.dev.cosign.artifact.sbom.v1+json artifacts via OCI referrer: "), "{name}: {out}");
    }
}

#[test]
fn sbom_download_limits_platforms_and_errors() {
    let reg = Registry::distribution(RegistryConfig::default());
    let index = push_image(
        &reg,
        "test/multi:v1",
        &ImageSpec {
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            ..ImageSpec::default()
        },
    );
    let s = Scratch::new();
    let arm = &index.platform_digests[1].1;
    s.write("arm.spdx", "arm sbom");
    s.run(
        &[
            "attach",
            "sbom",
            "--sbom",
            "arm.spdx",
            &format!("{}/test/multi@{arm}", reg.host()),
        ],
        &[],
        None,
    )
    .ok();
    let run = s
        .run(
            &[
                "download",
                "sbom",
                "--platform",
                "linux/arm64",
                &index.reference,
            ],
            &[],
            None,
        )
        .ok();
    assert_eq!(run.stdout_text(), "arm sbom\n");
    let run = s
        .run(&["download", "sbom", &index.reference], &[], None)
        .fails();
    assert!(run.stderr.contains("no SBOM found attached to image index, use --platform to select one of: linux/amd64, linux/arm64"), "{}", run.stderr);
    let run = s
        .run(
            &[
                "download",
                "sbom",
                "--platform",
                "linux/s390x",
                &index.reference,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("unable to find an SBOM for linux/s390x, try a different platform"),
        "{}",
        run.stderr
    );

    // Oversized: refused from the manifest, the layer is never requested.
    let single = push_image(&reg, "test/big:v1", &ImageSpec::default());
    s.write("big.spdx", "x".repeat(4096));
    s.run(
        &["attach", "sbom", "--sbom", "big.spdx", &single.reference],
        &[],
        None,
    )
    .ok();
    reg.clear_requests();
    let run = s
        .run(
            &["download", "sbom", &single.reference],
            &[("COSIGN_MAX_ATTACHMENT_SIZE", "1K")],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("over the attachment size limit of 1000 bytes"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    assert!(
        !reg.requests().iter().any(|r| r.path.contains("/blobs/")),
        "{:?}",
        reg.requests()
    );
    let run = s
        .run(
            &[
                "download",
                "sbom",
                "--platform",
                "linux/amd64",
                &single.reference,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("specified reference is not a multiarch image"),
        "{}",
        run.stderr
    );

    // Malformed input.
    let run = s
        .run(
            &[
                "attach",
                "sbom",
                "--type",
                "foo",
                "--sbom",
                "big.spdx",
                &single.reference,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("unknown SBOM type: \"foo\""),
        "{}",
        run.stderr
    );
    let run = s
        .run(
            &[
                "attach",
                "sbom",
                "--type",
                "syft",
                "--input-format",
                "xml",
                "--sbom",
                "big.spdx",
                &single.reference,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("is not compatible with --type \"syft\""),
        "{}",
        run.stderr
    );
    let unsigned = push_image(&reg, "test/nosbom:v1", &seeded("nosbom"));
    let run = s
        .run(&["download", "sbom", &unsigned.reference], &[], None)
        .fails();
    assert!(
        run.stderr.contains("no SBOM attached to reference"),
        "{}",
        run.stderr
    );
}

fn wasm_module() -> Vec<u8> {
    // The smallest valid module: magic and version.
    b"\x00asm\x01\x00\x00\x00".to_vec()
}

#[test]
fn upload_blob_and_wasm_then_sign() {
    for (name, reg) in both() {
        let s = Scratch::new();
        s.keypair("cosign", "pw");
        let host = reg.host();
        s.write("foo.txt", "hello blob\n");
        let target = format!("{host}/test/blob:v1");
        let run = s
            .run(
                &[
                    "upload",
                    "blob",
                    "-f",
                    "foo.txt",
                    "-a",
                    "team=infra",
                    &target,
                ],
                &[],
                None,
            )
            .ok();
        let digest_ref = run.stdout_text().trim().to_owned();
        assert!(
            digest_ref.starts_with(&format!("{host}/test/blob@sha256:")),
            "{digest_ref}"
        );
        assert!(
            run.stderr.starts_with("Command \"upload\" is deprecated, "),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(&format!("Uploading file from [foo.txt] to [{target}] with media type [text/plain; charset=utf-8]\n")), "{}", run.stderr);
        let layer = test_support::sha256_digest(b"hello blob\n");
        assert!(
            run.stderr.contains(&format!(
                "File [foo.txt] is available directly at [{host}/v2/test/blob/blobs/{layer}]\n"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.ends_with("Uploaded image to:\n"),
            "{}",
            run.stderr
        );
        let m = manifest_json(&reg, "test/blob", "v1");
        assert_eq!(m["layers"][0]["mediaType"], "text/plain; charset=utf-8");
        assert_eq!(m["annotations"]["team"], "infra");
        let blob = RegistryClient::new(&reg).request(
            "GET",
            &format!("/v2/test/blob/blobs/{layer}"),
            &[],
            None,
        );
        assert_eq!(blob.body, b"hello blob\n");

        // --ct, and two files with platforms make an index.
        s.write("a.bin", [0u8, 1, 2, 3]);
        s.write("b.bin", [4u8, 5, 6, 7]);
        let run = s
            .run(
                &[
                    "upload",
                    "blob",
                    "--ct",
                    "application/x-thing",
                    "-f",
                    "a.bin:linux/amd64",
                    "-f",
                    "b.bin:darwin/arm64",
                    &format!("{host}/test/blob:multi"),
                ],
                &[],
                None,
            )
            .ok();
        let index_ref = run.stdout_text().trim().to_owned();
        let m = manifest_json(&reg, "test/blob", "multi");
        assert_eq!(
            m["mediaType"], "application/vnd.oci.image.index.v1+json",
            "{name}"
        );
        assert_eq!(m["manifests"][1]["platform"]["os"], "darwin");
        assert!(
            index_ref.ends_with(
                &RegistryClient::new(&reg)
                    .get_manifest("test/blob", "multi")
                    .digest
            )
        );
        let child = m["manifests"][0]["digest"].as_str().unwrap();
        let cm = manifest_json(&reg, "test/blob", child);
        assert_eq!(cm["layers"][0]["mediaType"], "application/x-thing");

        // WASM: the seed's upload, sign and verify.
        s.write("hello.wasm", wasm_module());
        let wasm_ref = format!("{host}/test/wasm");
        let run = s
            .run(
                &["upload", "wasm", "-f", "hello.wasm", &wasm_ref],
                &[],
                None,
            )
            .ok();
        assert!(
            run.stderr.contains(&format!(
                "Uploading wasm file from [hello.wasm] to [{host}/test/wasm:latest].\n"
            )),
            "{}",
            run.stderr
        );
        let m = manifest_json(&reg, "test/wasm", "latest");
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.wasm.config.v1+json"
        );
        assert_eq!(
            m["layers"][0]["mediaType"],
            "application/vnd.wasm.content.layer.v1+wasm"
        );
        let run = sign(&s, &wasm_ref, &[]).ok();
        assert!(
            run.stderr
                .contains(&format!("Pushing signature to: {host}/test/wasm"))
        );
        verify(&s, &wasm_ref, &[]).ok();

        // Malformed inputs.
        s.write("bad.wasm", "not wasm");
        let run = s
            .run(&["upload", "wasm", "-f", "bad.wasm", &wasm_ref], &[], None)
            .fails();
        assert!(run.stderr.contains("invalid wasm file"), "{}", run.stderr);
        let run = s
            .run(&["upload", "blob", "-f", "missing.txt", &target], &[], None)
            .fails();
        assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
        let run = s
            .run(&["upload", "blob", "-f", "foo.txt:", &target], &[], None)
            .fails();
        assert!(run.stderr.contains("os[/arch[/variant]]"), "{}", run.stderr);
    }
}

#[test]
fn oci_artifact_and_tekton_bundle_sign_and_verify() {
    for (name, reg) in both() {
        let s = Scratch::new();
        s.keypair("cosign", "pw");
        let client = RegistryClient::new(&reg);
        let host = reg.host();
        // An ORAS-style artifact: artifactType, an empty config, a custom layer type.
        let payload = b"#!/bin/sh\necho cosign\n";
        let layer = client.push_blob("test/artifact", payload);
        let config = client.push_blob("test/artifact", b"{}");
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.example.tool",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.example.tool.binary", "digest": layer, "size": payload.len(),
                        "annotations": {"org.opencontainers.image.title": "cosign"}}],
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let digest = client.push_manifest(
            "test/artifact",
            &test_support::sha256_digest(&bytes),
            "application/vnd.oci.image.manifest.v1+json",
            &bytes,
        );
        let by_digest = format!("{host}/test/artifact@{digest}");
        let run = sign(&s, &by_digest, &[]).ok();
        assert_eq!(
            run.stderr,
            format!("Pushing signature to: {host}/test/artifact\n"),
            "{name}"
        );
        let run = verify(&s, &by_digest, &[]).ok();
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(
            out[0]["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );

        // A Tekton bundle: layers annotated with the Tekton resource, signed by tag.
        let task = b"apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: hello\n";
        let layer = client.push_blob("test/pipeline", task);
        let config = client.push_blob("test/pipeline", b"{}");
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.cncf.tekton.config.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.cncf.tekton.task.v1+yaml", "digest": layer, "size": task.len(),
                        "annotations": {"dev.tekton.image.apiVersion": "v1", "dev.tekton.image.kind": "task", "dev.tekton.image.name": "hello"}}],
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let digest = client.push_manifest(
            "test/pipeline",
            "latest",
            "application/vnd.oci.image.manifest.v1+json",
            &bytes,
        );
        let by_tag = format!("{host}/test/pipeline:latest");
        let run = sign(&s, &by_tag, &[]).ok();
        assert!(
            run.stderr.contains("uses a tag, not a digest"),
            "{}",
            run.stderr
        );
        assert_eq!(
            manifest_status(&reg, "test/pipeline", &tag_of(&digest, "sig")),
            200
        );
        verify(&s, &by_tag, &[]).ok();
    }
}

/// An image signed in both formats, with an SBOM: (image, scratch with keys).
fn signed_image(
    reg: &Registry,
    repo_tag: &str,
    seed: &str,
) -> (test_support::PushedImage, Scratch) {
    let img = push_image(reg, repo_tag, &seeded(seed));
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, &img.digest_ref, &[]).ok();
    sign(&s, &img.digest_ref, &["--new-bundle-format"]).ok();
    s.write("sbom.spdx", SPDX);
    s.run(
        &["attach", "sbom", "--sbom", "sbom.spdx", &img.digest_ref],
        &[],
        None,
    )
    .ok();
    (img, s)
}

#[test]
fn copy_image_with_signatures_sbom_and_referrers() {
    for (name, reg) in both() {
        let (img, s) = signed_image(&reg, "test/src:v1", "copy");
        let host = reg.host();
        let dst = format!("{host}/test/dst:v1");
        let run = s.run(&["copy", &img.reference, &dst], &[], None).ok();
        assert!(run.stderr.starts_with("Command \"copy\" is deprecated, there are several options you can use instead:\n  - \"oras copy -r\" will copy images and referring artifacts\n"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("Copying {host}/test/src:v1 to {dst}...\n")),
            "{}",
            run.stderr
        );
        let sig_tag = tag_of(&img.digest, "sig");
        assert!(
            run.stderr.contains(&format!(
                "Copying {host}/test/src:{sig_tag} to {host}/test/dst:{sig_tag}...\n"
            )),
            "{}",
            run.stderr
        );
        // Same digests, both formats verify at the destination, the SBOM came along.
        assert_eq!(
            RegistryClient::new(&reg)
                .get_manifest("test/dst", "v1")
                .digest,
            img.digest
        );
        let run = verify(&s, &dst, &[]).ok();
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(
            out.as_array().unwrap().len(),
            1,
            "{name}: the legacy signature"
        );
        let run = s.run(&["download", "signature", &dst], &[], None).ok();
        assert!(
            run.stdout_text()
                .contains("\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\""),
            "{name}: the bundle referrer: {}",
            run.stdout_text()
        );
        let run = s.run(&["download", "sbom", &dst], &[], None).ok();
        assert_eq!(run.stdout_text(), format!("{SPDX}\n"));
        if name == "distribution" {
            let fallback = manifest_json(&reg, "test/dst", &img.digest.replace(':', "-"));
            assert_eq!(fallback["manifests"].as_array().unwrap().len(), 1);
            assert_eq!(
                fallback["manifests"][0]["artifactType"],
                "application/vnd.dev.sigstore.bundle.v0.3+json"
            );
        }
        // Blobs were mounted within the registry, not uploaded again.
        if name == "distribution" {
            reg.clear_requests();
            s.run(
                &["copy", &img.reference, &format!("{host}/test/mounted:v1")],
                &[],
                None,
            )
            .ok();
            let reqs = reg.requests();
            assert!(
                reqs.iter()
                    .any(|r| r.method == "POST" && r.path.contains("mount=")),
                "{reqs:?}"
            );
            assert!(
                !reqs.iter().any(|r| r.method == "PATCH"
                    || (r.method == "PUT" && r.path.contains("/blobs/uploads/"))),
                "{reqs:?}"
            );
        }

        // Again without -f: refused before anything is written.
        let run = s.run(&["copy", &img.reference, &dst], &[], None).fails();
        assert!(
            run.stderr.contains(&format!(
                "image \"{dst}\" already exists. Use `-f` to overwrite"
            )),
            "{}",
            run.stderr
        );
        s.run(&["copy", "-f", &img.reference, &dst], &[], None).ok();

        // --only sig: the signature image only, not the image itself nor the SBOM.
        let only = format!("{host}/test/only:v1");
        s.run(&["copy", "--only", "sig", &img.reference, &only], &[], None)
            .ok();
        assert_eq!(manifest_status(&reg, "test/only", "v1"), 404, "{name}");
        assert_eq!(manifest_status(&reg, "test/only", &sig_tag), 200, "{name}");
        assert_eq!(
            manifest_status(&reg, "test/only", &tag_of(&img.digest, "sbom")),
            404,
            "{name}"
        );
        let run = s
            .run(
                &["copy", "--only", "sign", &img.reference, &only],
                &[],
                None,
            )
            .fails();
        assert!(
            run.stderr.contains("invalid value for --only: sign"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn copy_across_registries_and_platforms() {
    let from = Registry::ferro();
    let to = Registry::distribution(RegistryConfig::default());
    let (img, s) = signed_image(&from, "test/cross:v1", "cross");
    let dst = format!("{}/mirror/cross:v1", to.host());
    s.run(&["copy", &img.reference, &dst], &[], None).ok();
    verify(&s, &dst, &[]).ok();
    let run = s.run(&["download", "signature", &dst], &[], None).ok();
    assert_eq!(run.stdout_text().lines().count(), 1);

    // --platform copies one image of an index, with its signature.
    let index = push_image(
        &from,
        "test/plat:v1",
        &ImageSpec {
            seed: "plat".into(),
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            ..ImageSpec::default()
        },
    );
    let arm = index.platform_digests[1].1.clone();
    sign(&s, &format!("{}/test/plat@{arm}", from.host()), &[]).ok();
    let dst = format!("{}/mirror/plat:arm", to.host());
    s.run(
        &["copy", "--platform", "linux/arm64", &index.reference, &dst],
        &[],
        None,
    )
    .ok();
    assert_eq!(
        RegistryClient::new(&to)
            .get_manifest("mirror/plat", "arm")
            .digest,
        arm
    );
    verify(&s, &dst, &[]).ok();
    // A whole index, with the signature of a child.
    let dst = format!("{}/mirror/plat-all:all", to.host());
    s.run(&["copy", &index.reference, &dst], &[], None).ok();
    verify(&s, &format!("{}/mirror/plat-all@{arm}", to.host()), &[]).ok();
    // Into the repository that already has the child's signature: refused without -f.
    let run = s
        .run(
            &[
                "copy",
                &index.reference,
                &format!("{}/mirror/plat:all", to.host()),
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains(".sig\" already exists. Use `-f` to overwrite"),
        "{}",
        run.stderr
    );
    let run = s
        .run(
            &[
                "copy",
                "--platform",
                "linux/arm64",
                &img.reference,
                &format!("{}/x/y:z", to.host()),
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("not a multi-platform index"),
        "{}",
        run.stderr
    );
}

/// `n` referrers of `digest` in `repo`, each with its own layer and the shared empty config.
fn push_referrers(reg: &Registry, repo: &str, digest: &str, size: usize, n: usize) {
    let client = RegistryClient::new(reg);
    let empty = client.push_blob(repo, b"{}");
    for i in 0..n {
        let layer = format!("{{\"referrer\":{i}}}");
        let l = client.push_blob(repo, layer.as_bytes());
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/example",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": empty},
            "layers": [{"mediaType": "application/example", "size": layer.len(), "digest": l}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": size, "digest": digest},
            "annotations": {"n": i.to_string()},
        }))
        .unwrap();
        client.push_manifest(
            repo,
            &test_support::sha256_digest(&manifest),
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        );
    }
}

#[test]
fn copy_many_referrers_moves_each_blob_once() {
    const N: usize = 40;
    let from = Registry::ferro();
    let img = push_image(&from, "test/many:v1", &seeded("many"));
    let size = RegistryClient::new(&from)
        .get_manifest("test/many", "v1")
        .bytes
        .len();
    push_referrers(&from, "test/many", &img.digest, size, N);
    let s = Scratch::new();
    for (name, to) in both() {
        to.clear_requests();
        let dst = format!("{}/mirror/many:v1", to.host());
        let run = s.run(&["copy", &img.reference, &dst], &[], None).ok();
        assert_eq!(
            run.stderr.matches("Copying ").count(),
            1 + N,
            "{name}: {}",
            run.stderr
        );
        let reqs = to.requests();
        let count = |method: &str, part: &str| {
            reqs.iter()
                .filter(|r| r.method == method && r.path.contains(part))
                .count()
        };
        // The image's blobs, then one upload per distinct referrer blob: the shared config
        // once, each layer once. One PUT per manifest (+ the fallback index without the API).
        let image_blobs = count("PUT", "/blobs/uploads/") - (N + 1);
        assert!(image_blobs <= 3, "{name}: {reqs:#?}");
        assert_eq!(
            count("POST", "/blobs/uploads/"),
            N + 1 + image_blobs,
            "{name}"
        );
        let manifest_puts = count("PUT", "/manifests/");
        let listed = if name == "distribution" {
            let fallback = manifest_json(&to, "mirror/many", &img.digest.replace(':', "-"));
            fallback["manifests"].as_array().unwrap().len()
        } else {
            let index: serde_json::Value = serde_json::from_slice(
                &RegistryClient::new(&to)
                    .request(
                        "GET",
                        &format!("/v2/mirror/many/referrers/{}", img.digest),
                        &[],
                        None,
                    )
                    .body,
            )
            .unwrap();
            index["manifests"].as_array().unwrap().len()
        };
        assert_eq!(
            listed, N,
            "{name}: every referrer is listed at the destination"
        );
        let fallback_puts = usize::from(name == "distribution");
        assert_eq!(manifest_puts, 1 + N + fallback_puts, "{name}: {reqs:#?}");
        // No request was sent twice for the same blob.
        assert_eq!(count("HEAD", "/blobs/"), 0, "{name}: {reqs:#?}");
    }
}

#[test]
fn save_load_and_verify_local_image() {
    for (name, reg) in both() {
        let (img, s) = signed_image(&reg, "test/saved:v1", "save");
        let run = s
            .run(&["save", "--dir", "saved", &img.reference], &[], None)
            .ok();
        assert!(run.stdout.is_empty());
        let index: serde_json::Value = serde_json::from_slice(&s.read("saved/index.json")).unwrap();
        let kinds: Vec<&str> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["annotations"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "dev.cosignproject.cosign/image",
                "dev.cosignproject.cosign/sigs",
                "dev.cosignproject.cosign/sboms"
            ],
            "{name}"
        );
        assert_eq!(index["manifests"][0]["digest"], img.digest.as_str());
        assert_eq!(
            s.read("saved/oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#
        );
        assert!(
            s.path(&format!("saved/blobs/sha256/{}", &img.digest[7..]))
                .is_file()
        );

        // Verify from the layout, no registry involved.
        drop(reg);
        let run = verify(&s, "saved", &["--local-image"]).ok();
        assert!(
            run.stderr.contains("\nVerification for saved --\n"),
            "{}",
            run.stderr
        );
        let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(out.as_array().unwrap().len(), 1);
        // The bundle alone verifies too (drop the legacy signature from index.json).
        let mut only_bundle = index.clone();
        only_bundle["manifests"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["annotations"]["kind"] != "dev.cosignproject.cosign/sigs");
        s.tool("cp", &["-r", "saved", "bundle-only"]);
        s.write(
            "bundle-only/index.json",
            serde_json::to_vec(&only_bundle).unwrap(),
        );
        let run = verify(&s, "bundle-only", &["--local-image"]).ok();
        assert!(
            run.stdout_text()
                .contains("https://sigstore.dev/cosign/sign/v1"),
            "{}",
            run.stdout_text()
        );
        s.keypair("other", "pw");
        let run = s.run(
            &[
                "verify",
                "--key",
                "other.pub",
                IGNORE_TLOG,
                "--local-image",
                "saved",
            ],
            &[],
            None,
        );
        assert_eq!(run.code, 12, "{}", run.stderr);
        let run = verify(&s, "nowhere", &["--local-image"]).fails();
        assert!(
            run.stderr.contains("not an OCI image layout"),
            "{}",
            run.stderr
        );

        // Load into another registry and verify there.
        let other = Registry::distribution(RegistryConfig::default());
        let dst = format!("{}/loaded/app:v1", other.host());
        s.run(&["load", "--dir", "saved", &dst], &[], None).ok();
        assert_eq!(
            RegistryClient::new(&other)
                .get_manifest("loaded/app", "v1")
                .digest,
            img.digest
        );
        let run = verify(&s, &dst, &[]).ok();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&run.stdout)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let run = s.run(&["download", "signature", &dst], &[], None).ok();
        assert!(
            run.stdout_text()
                .contains("application/vnd.dev.sigstore.bundle.v0.3+json"),
            "{name}: referrer reloaded"
        );
        let run = s.run(&["download", "sbom", &dst], &[], None).ok();
        assert_eq!(run.stdout_text(), format!("{SPDX}\n"));
        let fallback = manifest_json(&other, "loaded/app", &img.digest.replace(':', "-"));
        assert_eq!(fallback["manifests"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn saved_layout_is_readable_by_skopeo() {
    if std::process::Command::new("skopeo")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skopeo not installed (scripts/install-test-deps.sh installs it); skipped");
        return;
    }
    let reg = Registry::distribution(RegistryConfig::default());
    let (img, s) = signed_image(&reg, "test/skopeo:v1", "skopeo");
    s.run(&["save", "--dir", "saved", &img.reference], &[], None)
        .ok();
    let out = s.tool("skopeo", &["inspect", "--raw", "oci:saved:v1"]);
    assert_eq!(test_support::sha256_digest(&out), img.digest);
    let sig = tag_of(&img.digest, "sig");
    let dst = format!("docker://{}/skopeo/copied:sig", reg.host());
    s.tool(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:saved:{sig}"),
            &dst,
        ],
    );
    let m = manifest_json(&reg, "skopeo/copied", "sig");
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
}

/// Replaces digests with `[DIGEST]` and the registry address with `[REGISTRY]`.
fn redact(text: &str, host: &str) -> String {
    let text = text.replace(host, "[REGISTRY]");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("sha256") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 7..];
        let hex_len = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if hex_len == 64 {
            out.push_str("[DIGEST]");
            rest = &tail[64..];
        } else {
            out.push_str("sha256");
            rest = &rest[i + 6..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn tree_output() {
    let reg = Registry::distribution(RegistryConfig::default());
    let host = reg.host();
    let img = push_image(&reg, "test/tree:v1", &seeded("tree"));
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let run = s.run(&["tree", &img.reference], &[], None).ok();
    assert_eq!(
        run.stdout_text(),
        format!(
            "📦 Supply Chain Security Related artifacts for an image: {0}\nNo Supply Chain Security Related Artifacts found for image {0},\n start creating one with simply running$ cosign sign <img>",
            img.reference
        )
    );
    sign(&s, &img.digest_ref, &[]).ok();
    sign(&s, &img.digest_ref, &["-a", "second=1"]).ok();
    sign(&s, &img.digest_ref, &["--new-bundle-format"]).ok();
    s.write("sbom.spdx", SPDX);
    s.run(
        &["attach", "sbom", "--sbom", "sbom.spdx", &img.digest_ref],
        &[],
        None,
    )
    .ok();
    let run = s.run(&["tree", &img.reference], &[], None).ok();
    insta::assert_snapshot!("tree_signed", redact(&run.stdout_text(), &host));
}

#[test]
fn dockerfile_and_manifest_verify() {
    let reg = Registry::distribution(RegistryConfig::default());
    let host = reg.host();
    let signed = push_image(&reg, "test/base:v1", &seeded("base"));
    let other = push_image(&reg, "test/tool:v1", &seeded("tool"));
    let unsigned = push_image(&reg, "test/unsigned:v1", &seeded("unsigned"));
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    sign(&s, &signed.digest_ref, &[]).ok();
    sign(&s, &other.digest_ref, &[]).ok();
    s.write(
        "Dockerfile",
        format!("ARG REG={host}\nARG TAG\nFROM ${{REG}}/test/tool:${{TAG:-v1}} AS build\nRUN make\nFROM build AS test\nFROM scratch AS empty\nFROM $REG/test/base:v1\nCOPY --from=build /out /out\n"),
    );
    let run = s
        .run(
            &[
                "dockerfile",
                "verify",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "Dockerfile",
            ],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr
            .starts_with("Command \"dockerfile\" is deprecated, "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("- scratch image ignored\n"));
    assert!(
        run.stderr
            .contains(&format!("Verification for {host}/test/tool:v1 --")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("Verification for {host}/test/base:v1 --")),
        "{}",
        run.stderr
    );
    // One JSON line per image, each after Go's blank line.
    assert_eq!(
        run.stdout_text().lines().filter(|l| !l.is_empty()).count(),
        2
    );
    let run = s
        .run(
            &[
                "dockerfile",
                "verify",
                "--base-image-only",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "Dockerfile",
            ],
            &[],
            None,
        )
        .ok();
    assert!(!run.stderr.contains("test/tool"), "{}", run.stderr);
    // A value from the environment wins over the ARG default, like --build-arg: exit 11.
    let run = s.run(
        &[
            "dockerfile",
            "verify",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            "Dockerfile",
        ],
        &[("TAG", "missing")],
        None,
    );
    assert_eq!(run.code, 11, "{}", run.stderr);
    assert!(run.stderr.contains("test/tool:missing"), "{}", run.stderr);
    s.write(
        "Unsigned.Dockerfile",
        format!("FROM {}\n", unsigned.reference),
    );
    let run = s.run(
        &[
            "dockerfile",
            "verify",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            "Unsigned.Dockerfile",
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 10, "{}", run.stderr);
    assert!(run.stderr.contains("no signatures found"));
    s.write("Empty.Dockerfile", "# nothing\nRUN true\n");
    let run = s
        .run(
            &[
                "dockerfile",
                "verify",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "Empty.Dockerfile",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("no images found in Empty.Dockerfile"),
        "{}",
        run.stderr
    );

    s.write(
        "deploy.yaml",
        format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: {0}\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: b\n          image: \"{1}\"\n", signed.reference, other.digest_ref),
    );
    let run = s
        .run(
            &[
                "manifest",
                "verify",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "deploy.yaml",
            ],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr
            .starts_with("Command \"manifest\" is deprecated, "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "Extracted image(s): {}, {}\n",
            signed.reference, other.digest_ref
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout_text().lines().filter(|l| !l.is_empty()).count(),
        2
    );
    s.write(
        "bad.yaml",
        format!(
            "spec:\n  containers:\n  - image: {}\n  - image: {}\n",
            signed.reference, unsigned.reference
        ),
    );
    let run = s.run(
        &[
            "manifest",
            "verify",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            "bad.yaml",
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 10, "{}", run.stderr);
    s.write("none.yaml", "kind: ConfigMap\n");
    let run = s
        .run(
            &[
                "manifest",
                "verify",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "none.yaml",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("no images found in manifest none.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn deprecated_generate_and_triangulate_say_so() {
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/dep:v1", &ImageSpec::default());
    let s = Scratch::new();
    let run = s.run(&["triangulate", &img.reference], &[], None).ok();
    assert!(run.stderr.starts_with("Command \"triangulate\" is deprecated, triangulate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `oras discover` or `cosign tree` to show referring artifacts\n"), "{}", run.stderr);
    let run = s.run(&["generate", &img.reference], &[], None).ok();
    assert!(
        run.stderr
            .starts_with("Command \"generate\" is deprecated, generate will be removed in v4.0.0"),
        "{}",
        run.stderr
    );
    let run = s
        .run(&["load", "--dir", "nowhere", &img.reference], &[], None)
        .fails();
    assert!(
        run.stderr.contains("not an OCI image layout"),
        "{}",
        run.stderr
    );
}
