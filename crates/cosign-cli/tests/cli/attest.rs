//! Attestations end to end: `attest`, `verify-attestation`, `attest-blob`,
//! `verify-blob-attestation`, `attach attestation` and `download attestation` against the
//! distribution registry (no referrers API), ferro-oci-server (referrers API) and our
//! transparency log; the advisories GHSA-vjxv-45g9-9296 and GHSA-w6c6-c85g-mmv6; hostile input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use test_support::{ImageSpec, Registry, RegistryClient, RegistryConfig, TlogServer, push_image};

use crate::common::{Run, Scratch};

const NO_TLOG: &str = "--tlog-upload=false";
const IGNORE_TLOG: &str = "--insecure-ignore-tlog";
const PW: &[(&str, &str)] = &[("COSIGN_PASSWORD", "pw")];
const CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";
const LINK: &str = "https://in-toto.io/Link/v1";
const MY_TYPE: &str = "https://example.com/predicates/test/v1";

/// Every `--type` with a predicate file that fits it, and the URI it names.
const TYPES: &[(&str, &str, &str)] = &[
    ("custom", "hello attestation <&>\n", CUSTOM),
    (
        "slsaprovenance",
        r#"{"builder":{"id":"https://example.com/builder"},"buildType":"https://example.com/type","materials":[]}"#,
        "https://slsa.dev/provenance/v0.2",
    ),
    (
        "slsaprovenance02",
        r#"{"builder":{"id":"https://example.com/builder"},"buildType":"https://example.com/type"}"#,
        "https://slsa.dev/provenance/v0.2",
    ),
    (
        "slsaprovenance1",
        r#"{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{"builder":{"id":"b"},"metadata":{"invocationID":"i-1"}}}"#,
        "https://slsa.dev/provenance/v1",
    ),
    (
        "link",
        r#"{"_type":"link","name":"build","materials":{},"products":{},"byproducts":{},"command":["make"],"environment":{}}"#,
        LINK,
    ),
    (
        "spdx",
        "SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n",
        "https://spdx.dev/Document",
    ),
    (
        "spdxjson",
        r#"{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.2"}"#,
        "https://spdx.dev/Document",
    ),
    (
        "cyclonedx",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.4"}"#,
        "https://cyclonedx.org/bom",
    ),
    (
        "vuln",
        r#"{"scanner":{"uri":"pkg:github/aquasecurity/trivy","version":"0.40.0","result":{}},"metadata":{"scanStartedOn":"2023-01-01T00:00:00Z","scanFinishedOn":"2023-01-01T00:01:00Z"}}"#,
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ),
    (
        "openvex",
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}"#,
        "https://openvex.dev/ns",
    ),
    (MY_TYPE, r#"{"hello":"world","n":1.0}"#, MY_TYPE),
];

fn distribution() -> Registry {
    Registry::distribution(RegistryConfig::default())
}

fn setup() -> Scratch {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s
}

fn attest(s: &Scratch, image: &str, ptype: &str, predicate: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "attest",
        "--key",
        "cosign.key",
        "--predicate",
        predicate,
        "--type",
        ptype,
    ];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, PW, None)
}

fn verify_att(s: &Scratch, image: &str, ptype: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify-attestation", "--key", "cosign.pub", "--type", ptype];
    args.extend_from_slice(extra);
    args.push(image);
    s.run(&args, &[], None)
}

/// The statements of the envelopes printed one per line.
fn statements(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let env: Value = serde_json::from_str(l).unwrap();
            assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
            let payload = STANDARD.decode(env["payload"].as_str().unwrap()).unwrap();
            serde_json::from_slice(&payload).unwrap()
        })
        .collect()
}

fn att_tag(digest: &str) -> String {
    format!("{}.att", digest.replace(':', "-"))
}

fn manifest(reg: &Registry, repo: &str, reference: &str) -> Option<Value> {
    let c = RegistryClient::new(reg);
    let r = c.request(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", test_support::MANIFEST_ACCEPT)],
        None,
    );
    (r.status == 200).then(|| serde_json::from_slice(&r.body).unwrap())
}

fn blob(reg: &Registry, repo: &str, digest: &str) -> Vec<u8> {
    let c = RegistryClient::new(reg);
    let r = c.request("GET", &format!("/v2/{repo}/blobs/{digest}"), &[], None);
    assert_eq!(r.status, 200);
    r.body
}

fn redact(text: &str, host: &str, digest: &str) -> String {
    text.replace(host, "[HOST]")
        .replace(digest, "[DIGEST]")
        .lines()
        .map(|l| {
            let b = l.as_bytes();
            if b.len() > 20 && b[4] == b'/' && b[7] == b'/' && b[13] == b':' {
                format!("[TIMESTAMP]{}", &l[19..])
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_type_attests_and_verifies_in_the_legacy_layout() {
    let reg = distribution();
    let img = push_image(&reg, "test/att:v1", &ImageSpec::default());
    let s = setup();
    for (i, (ptype, content, _)) in TYPES.iter().enumerate() {
        let file = format!("predicate-{i}");
        s.write(&file, content);
        let run = attest(&s, &img.digest_ref, ptype, &file, &[NO_TLOG]).ok();
        assert_eq!(
            run.stderr,
            format!("Using payload from: {file}\n"),
            "{ptype}"
        );
        assert!(run.stdout.is_empty());
    }
    // The .att image: one layer per attestation, as cosign lays it out.
    let m = manifest(&reg, "test/att", &att_tag(&img.digest)).unwrap();
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), TYPES.len());
    for (layer, (_, _, uri)) in layers.iter().zip(TYPES) {
        assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
        assert_eq!(
            layer["annotations"]["dev.cosignproject.cosign/signature"],
            ""
        );
        assert_eq!(layer["annotations"]["predicateType"], *uri);
        let data = blob(&reg, "test/att", layer["digest"].as_str().unwrap());
        let text = String::from_utf8(data).unwrap();
        assert!(
            text.starts_with(r#"{"payload":""#)
                && text.contains(
                    r#""payloadType":"application/vnd.in-toto+json","signatures":[{"sig":""#
                ),
            "{text}"
        );
    }
    for (ptype, content, uri) in TYPES {
        let run = verify_att(&s, &img.digest_ref, ptype, &[IGNORE_TLOG]).ok();
        let found = statements(&run.stdout_text());
        assert!(!found.is_empty(), "{ptype}");
        for st in &found {
            assert_eq!(st["predicateType"], *uri, "{ptype}");
            assert_eq!(st["_type"], "https://in-toto.io/Statement/v0.1");
            assert_eq!(st["subject"][0]["name"], format!("{}/test/att", reg.host()));
            assert_eq!(
                st["subject"][0]["digest"]["sha256"],
                img.digest.trim_start_matches("sha256:")
            );
        }
        let st = found
            .iter()
            .find(|st| match *ptype {
                "custom" => st["predicate"]["Data"] == *content,
                "spdx" => st["predicate"] == *content,
                "slsaprovenance" => st["predicate"]["materials"].is_array(),
                "spdxjson" => st["predicate"].is_object(),
                "slsaprovenance02" => st["predicate"]["materials"].is_null(),
                _ => true,
            })
            .unwrap_or_else(|| panic!("{ptype}: {found:?}"));
        match *ptype {
            "custom" => assert!(
                st["predicate"]["Timestamp"]
                    .as_str()
                    .unwrap()
                    .ends_with('Z')
            ),
            "slsaprovenance1" => {
                assert_eq!(
                    st["predicate"]["runDetails"]["metadata"]["invocationId"],
                    "i-1"
                )
            }
            "vuln" => assert_eq!(st["predicate"]["invocation"]["builder.id"], ""),
            MY_TYPE => assert_eq!(
                st["predicate"],
                serde_json::json!({"hello": "world", "n": 1})
            ),
            _ => {}
        }
        assert!(
            run.stderr.contains(&format!(
                "\nVerification for {} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n",
                img.digest_ref
            )),
            "{}",
            run.stderr
        );
    }
    // By tag too, and the shortcut's URI works as --type.
    verify_att(&s, &img.reference, CUSTOM, &[IGNORE_TLOG]).ok();
}

#[test]
fn seed_single_dash_flags_and_tag_warning() {
    let reg = distribution();
    let img = push_image(&reg, "test/seed:latest", &ImageSpec::default());
    let s = setup();
    s.write(
        "myattestations",
        r#"{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.2"}"#,
    );
    let run = s
        .run(
            &[
                "attest",
                "-predicate",
                "myattestations",
                "-key",
                "cosign.key",
                NO_TLOG,
                &img.reference,
            ],
            PW,
            None,
        )
        .ok();
    assert!(
        run.stderr.contains("the -predicate flag is deprecated"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("uses a tag, not a digest"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Using payload from: myattestations"));
    let run = verify_att(&s, &img.reference, "custom", &[IGNORE_TLOG]).ok();
    let st = &statements(&run.stdout_text())[0];
    assert_eq!(
        st["predicate"]["Data"],
        r#"{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.2"}"#
    );
}

#[test]
fn wrong_type_fails_ghsa_vjxv_45g9_9296_and_exit_codes() {
    let reg = distribution();
    let img = push_image(&reg, "test/vjxv:v1", &ImageSpec::default());
    let s = setup();
    s.keypair("other", "pw");
    // Nothing attached: 10.
    let run = verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).fails();
    assert_eq!(run.code, 10, "{}", run.stderr);
    assert!(
        run.stderr.contains("no attestations found"),
        "{}",
        run.stderr
    );
    s.write("p", "data");
    attest(&s, &img.digest_ref, "custom", "p", &[NO_TLOG]).ok();
    // The default type is custom.
    s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    // Another type: the attestation verifies, but is not of that type.
    let run = verify_att(&s, &img.digest_ref, "slsaprovenance", &[IGNORE_TLOG]).fails();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "Error: none of the attestations matched the predicate type: slsaprovenance, found: {CUSTOM}"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    // Wrong key: 12.
    let run = s.run(
        &[
            "verify-attestation",
            "--key",
            "other.pub",
            IGNORE_TLOG,
            &img.digest_ref,
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
    assert!(
        run.stderr.contains("no matching attestations"),
        "{}",
        run.stderr
    );
    // Missing tag: 11.
    let run = verify_att(
        &s,
        &format!("{}/test/vjxv:nope", reg.host()),
        "custom",
        &[IGNORE_TLOG],
    );
    assert_eq!(run.code, 11, "{}", run.stderr);
    // A claim about another image (--check-claims=false lets it through).
    let other = push_image(
        &reg,
        "test/vjxv:v2",
        &ImageSpec {
            seed: "two".into(),
            ..ImageSpec::default()
        },
    );
    let env = attest(
        &s,
        &img.digest_ref,
        "custom",
        "p",
        &[NO_TLOG, "--no-upload"],
    )
    .ok()
    .stdout_text();
    s.write("env.json", env.trim());
    s.run(
        &[
            "attach",
            "attestation",
            "--attestation",
            "env.json",
            &other.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    let run = verify_att(&s, &other.digest_ref, "custom", &[IGNORE_TLOG]);
    assert_eq!(run.code, 12, "{}", run.stderr);
    assert!(
        run.stderr.contains("no matching subject digest found"),
        "{}",
        run.stderr
    );
    verify_att(
        &s,
        &other.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--check-claims=false"],
    )
    .ok();
    // Without --insecure-ignore-tlog and no log key, a clear error.
    let run = verify_att(&s, &img.digest_ref, "custom", &[]).fails();
    assert!(
        run.stderr.contains("no transparency log key"),
        "{}",
        run.stderr
    );
}

const ALLOW: &str = r#"package signature

allow {
  input.predicateType == "https://cosign.sigstore.dev/attestation/v1"
  input.predicate.Data == "hello rego"
}
"#;

const DENY: &str = r#"package signature

default allow = false

allow {
  input.predicate.Data == "something else"
}
"#;

#[test]
fn rego_and_cue_policies() {
    let reg = distribution();
    let img = push_image(&reg, "test/policy:v1", &ImageSpec::default());
    let s = setup();
    s.write("p", "hello rego");
    attest(&s, &img.digest_ref, "custom", "p", &[NO_TLOG]).ok();
    s.write("allow.rego", ALLOW);
    s.write("deny.rego", DENY);
    s.write("undefined.rego", "package signature\nallow { false }\n");
    let run = verify_att(
        &s,
        &img.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--policy", "allow.rego"],
    )
    .ok();
    assert!(
        run.stderr
            .contains("will be validating against Rego policies: [allow.rego]")
    );
    assert_eq!(statements(&run.stdout_text()).len(), 1);

    let run = verify_att(
        &s,
        &img.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--policy", "deny.rego"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("rego_deny", redact(&run.stderr, &reg.host(), &img.digest));
    let run = verify_att(
        &s,
        &img.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--policy", "undefined.rego,allow.rego"],
    )
    .ok();
    assert!(
        run.stderr
            .contains("will be validating against Rego policies: [undefined.rego allow.rego]"),
        "{}",
        run.stderr
    );
    let run = verify_att(
        &s,
        &img.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--policy", "undefined.rego"],
    )
    .fails();
    assert!(
        run.stderr
            .contains("- result is undefined for query 'data.signature.allow'"),
        "{}",
        run.stderr
    );
    // A policy of another format.
    s.write("p.yaml", "x");
    let run = verify_att(
        &s,
        &img.digest_ref,
        "custom",
        &[IGNORE_TLOG, "--policy", "p.yaml"],
    )
    .fails();
    assert!(
        run.stderr
            .contains("invalid policy format, expected .cue or .rego")
    );

    // CUE without the cue program: a clear error.
    s.write(
        "policy.cue",
        "predicateType: \"https://cosign.sigstore.dev/attestation/v1\"\n",
    );
    let empty_path = s.path("empty-bin");
    std::fs::create_dir(&empty_path).unwrap();
    let path_env = empty_path.display().to_string();
    let run = s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
            "--policy",
            "policy.cue",
            &img.digest_ref,
        ],
        &[("PATH", &path_env)],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("will be validating against CUE policies: [policy.cue]")
    );
    assert!(
        run.stderr
            .contains("need the `cue` program (https://cuelang.org), which was not found on PATH"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Error: 1 validation errors occurred"));
    // With a `cue` on PATH, `cue vet POLICY INPUT.json` decides.
    let bin = s.path("fake-bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("cue");
    std::fs::write(
        &script,
        "#!/bin/sh\n[ \"$1\" = vet ] || exit 2\necho \"$@\" > \"$(dirname \"$0\")/args\"\ngrep -q '\"hello rego\"' \"$3\" && exit 0\necho 'predicate.Data: conflicting values' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path_env = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let args = [
        "verify-attestation",
        "--key",
        "cosign.pub",
        IGNORE_TLOG,
        "--policy",
        "policy.cue",
        &img.digest_ref,
    ];
    s.run(&args, &[("PATH", &path_env)], None).ok();
    let called = std::fs::read_to_string(bin.join("args")).unwrap();
    assert!(called.starts_with("vet policy.cue "), "{called}");
    s.write("p2", "other data");
    let img2 = push_image(
        &reg,
        "test/policy:v2",
        &ImageSpec {
            seed: "2".into(),
            ..ImageSpec::default()
        },
    );
    attest(&s, &img2.digest_ref, "custom", "p2", &[NO_TLOG]).ok();
    let mut args2 = args;
    args2[6] = &img2.digest_ref;
    let run = s.run(&args2, &[("PATH", &path_env)], None).fails();
    assert!(
        run.stderr.contains("predicate.Data: conflicting values"),
        "{}",
        run.stderr
    );
}

#[test]
fn replace_drops_only_the_same_predicate_type() {
    let reg = distribution();
    let img = push_image(&reg, "test/replace:v1", &ImageSpec::default());
    let s = setup();
    s.write("one", "first");
    s.write("two", "second");
    s.write("three", "third");
    s.write("link.json", TYPES[4].1);
    attest(&s, &img.digest_ref, "custom", "one", &[NO_TLOG]).ok();
    attest(&s, &img.digest_ref, "custom", "two", &[NO_TLOG]).ok();
    attest(&s, &img.digest_ref, "link", "link.json", &[NO_TLOG]).ok();
    let tag = att_tag(&img.digest);
    assert_eq!(
        manifest(&reg, "test/replace", &tag).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let run = attest(
        &s,
        &img.digest_ref,
        "custom",
        "three",
        &[NO_TLOG, "--replace"],
    )
    .ok();
    assert_eq!(
        run.stderr,
        format!(
            "Using payload from: three\nReplacing attestation predicate: {CUSTOM}\nReplacing attestation predicate: {CUSTOM}\nNot replacing attestation predicate: {LINK}\n"
        )
    );
    let m = manifest(&reg, "test/replace", &tag).unwrap();
    let types: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["annotations"]["predicateType"].as_str().unwrap())
        .collect();
    assert_eq!(types, [LINK, CUSTOM]);
    let run = verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).ok();
    let found = statements(&run.stdout_text());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["predicate"]["Data"], "third");
    verify_att(&s, &img.digest_ref, "link", &[IGNORE_TLOG]).ok();
}

#[test]
fn new_bundle_format_on_both_registries() {
    for (name, reg) in [
        ("distribution", distribution()),
        ("ferro", Registry::ferro()),
    ] {
        let img = push_image(&reg, "test/attbundle:v1", &ImageSpec::default());
        let s = setup();
        s.write("p", r#"{"a":"b"}"#);
        let run = attest(
            &s,
            &img.digest_ref,
            MY_TYPE,
            "p",
            &[
                NO_TLOG,
                "--new-bundle-format",
                "--bundle",
                "att.sigstore.json",
            ],
        )
        .ok();
        assert!(
            run.stderr
                .contains("Wrote bundle to file att.sigstore.json"),
            "{}",
            run.stderr
        );
        let bundle: Value = serde_json::from_slice(&s.read("att.sigstore.json")).unwrap();
        assert_eq!(
            bundle["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert!(bundle["verificationMaterial"]["publicKey"]["hint"].is_string());
        assert_eq!(
            bundle["dsseEnvelope"]["payloadType"],
            "application/vnd.in-toto+json"
        );
        // No .att tag; the referrer (or its fallback index) instead.
        assert!(
            manifest(&reg, "test/attbundle", &att_tag(&img.digest)).is_none(),
            "{name}"
        );
        let fallback = manifest(&reg, "test/attbundle", &img.digest.replace(':', "-"));
        assert_eq!(fallback.is_some(), name == "distribution", "{name}");
        let run = verify_att(&s, &img.digest_ref, MY_TYPE, &[IGNORE_TLOG]).ok();
        let found = statements(&run.stdout_text());
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0]["predicate"]["a"], "b");
        let run = verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).fails();
        assert!(
            run.stderr.contains(&format!("found: {MY_TYPE}")),
            "{}",
            run.stderr
        );
        // download prints the bundle; the predicate type filter applies to it.
        let run = s
            .run(&["download", "attestation", &img.digest_ref], &[], None)
            .ok();
        let b: Value = serde_json::from_str(run.stdout_text().trim()).unwrap();
        assert_eq!(b, bundle, "{name}");
        let run = s.run(
            &[
                "download",
                "attestation",
                "--predicate-type",
                "custom",
                &img.digest_ref,
            ],
            &[],
            None,
        );
        assert!(
            run.stderr
                .contains("no attestations with predicate type 'custom' found"),
            "{}",
            run.stderr
        );
        // The image's signatures are unaffected by the attestation referrer... except for
        // cosign's own quirk: verify accepts any verified bundle referrer.
        // --new-bundle-format with --no-upload needs --bundle.
        let run = attest(
            &s,
            &img.digest_ref,
            MY_TYPE,
            "p",
            &[NO_TLOG, "--new-bundle-format", "--no-upload"],
        )
        .fails();
        assert!(
            run.stderr.contains(
                "must enable upload to the OCI registry or specify a local --bundle path"
            )
        );
    }
}

fn trust_env(s: &Scratch, log: &TlogServer) -> Vec<(String, String)> {
    s.write("rekor.pub", log.public_key_pem());
    s.write("trusted_root.json", log.trusted_root_json());
    vec![(
        "SIGSTORE_REKOR_PUBLIC_KEY".into(),
        s.path("rekor.pub").display().to_string(),
    )]
}

fn env_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn body_kind(layer_or_bundle_body_b64: &str) -> (String, String) {
    let body: Value =
        serde_json::from_slice(&STANDARD.decode(layer_or_bundle_body_b64).unwrap()).unwrap();
    (
        body["kind"].as_str().unwrap().to_owned(),
        body["apiVersion"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn tlog_entries_are_verified_offline_with_the_log_stopped() {
    let mut log = TlogServer::start();
    let reg = distribution();
    let img = push_image(&reg, "test/atttlog:v1", &ImageSpec::default());
    let img2 = push_image(
        &reg,
        "test/atttlog:v2",
        &ImageSpec {
            seed: "2".into(),
            ..ImageSpec::default()
        },
    );
    let s = setup();
    let trust = trust_env(&s, &log);
    let mut env = trust.clone();
    env.push(("COSIGN_PASSWORD".into(), "pw".into()));
    s.write("p", "logged");
    s.write("link.json", TYPES[4].1);
    let url = log.url().to_owned();
    let run = s
        .run(
            &[
                "attest",
                "--key",
                "cosign.key",
                "--predicate",
                "p",
                "--rekor-url",
                &url,
                &img.digest_ref,
            ],
            &env_refs(&env),
            None,
        )
        .ok();
    assert!(
        run.stderr.contains("tlog entry created with index: 0"),
        "{}",
        run.stderr
    );
    let run = s
        .run(
            &[
                "attest",
                "--key",
                "cosign.key",
                "--predicate",
                "link.json",
                "--type",
                "link",
                "--rekor-entry-type",
                "intoto",
                "--rekor-url",
                &url,
                &img.digest_ref,
            ],
            &env_refs(&env),
            None,
        )
        .ok();
    assert!(
        run.stderr.contains("tlog entry created with index: 1"),
        "{}",
        run.stderr
    );
    s.run(
        &[
            "attest",
            "--key",
            "cosign.key",
            "--predicate",
            "p",
            "--rekor-url",
            &url,
            "--new-bundle-format",
            &img2.digest_ref,
        ],
        &env_refs(&env),
        None,
    )
    .ok();
    // Each .att layer carries the proof; dsse by default, intoto 0.0.2 on request.
    let m = manifest(&reg, "test/atttlog", &att_tag(&img.digest)).unwrap();
    let kinds: Vec<(String, String)> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let b: Value = serde_json::from_str(
                l["annotations"]["dev.sigstore.cosign/bundle"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            body_kind(b["Payload"]["body"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("dsse".into(), "0.0.1".into()),
            ("intoto".into(), "0.0.2".into())
        ]
    );
    log.stop();
    for (ptype, image) in [
        ("custom", &img.digest_ref),
        ("link", &img.digest_ref),
        ("custom", &img2.digest_ref),
    ] {
        let run = s
            .run(
                &[
                    "verify-attestation",
                    "--key",
                    "cosign.pub",
                    "--type",
                    ptype,
                    "--rekor-url",
                    &url,
                    image,
                ],
                &env_refs(&trust),
                None,
            )
            .ok();
        assert!(
            run.stderr.contains(
                "  - Existence of the claims in the transparency log was verified offline"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(statements(&run.stdout_text()).len(), 1);
    }
    // --trusted-root works the same, offline.
    s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--trusted-root",
            "trusted_root.json",
            "--offline",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    // A proof from another attestation does not prove this one: move a layer's bundle
    // annotation onto another layer.
    let client = RegistryClient::new(&reg);
    let mut m2 = m.clone();
    let first_bundle = m["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"].clone();
    m2["layers"][1]["annotations"]["dev.sigstore.cosign/bundle"] = first_bundle;
    m2["layers"].as_array_mut().unwrap().remove(0);
    client.push_manifest(
        "test/atttlog",
        &att_tag(&img.digest),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&m2).unwrap(),
    );
    let run = s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--type",
            "link",
            "--offline",
            &img.digest_ref,
        ],
        &env_refs(&trust),
        None,
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
}

#[test]
fn blob_attestations_round_trip() {
    let s = setup();
    s.write("artifact.bin", "release artifact\n".repeat(1000));
    s.write("p", "hello blob");
    let digest = test_support::sha256_digest(&s.read("artifact.bin"));
    let hex = digest.trim_start_matches("sha256:").to_owned();
    // Legacy: the envelope on stdout.
    let run = s
        .run(
            &[
                "attest-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--predicate",
                "p",
                "artifact.bin",
            ],
            PW,
            None,
        )
        .ok();
    assert_eq!(
        run.stderr,
        "Using payload from: artifact.bin\nUsing payload from: p\n"
    );
    let st = &statements(&run.stdout_text())[0];
    assert_eq!(st["subject"][0]["name"], "artifact.bin");
    assert_eq!(st["subject"][0]["digest"]["sha256"], hex.as_str());
    s.write("att.json", run.stdout_text());
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify-blob-attestation",
            "--key",
            "cosign.pub",
            IGNORE_TLOG,
        ];
        args.extend_from_slice(extra);
        s.run(&args, &[], None)
    };
    let run = verify(&["--signature", "att.json", "artifact.bin"]).ok();
    assert!(run.stderr.ends_with("Verified OK\n"), "{}", run.stderr);
    // Another type fails.
    let run = verify(&["--signature", "att.json", "--type", "vuln", "artifact.bin"]).fails();
    assert!(
        run.stderr.contains(&format!(
            "invalid predicate type, expected https://cosign.sigstore.dev/attestation/vuln/v1 got {CUSTOM}"
        )),
        "{}",
        run.stderr
    );
    // Another blob fails the claim; --check-claims=false skips it.
    s.write("other.bin", "other");
    let run = verify(&["--signature", "att.json", "other.bin"]).fails();
    assert!(
        run.stderr.contains("no matching subject digest found"),
        "{}",
        run.stderr
    );
    verify(&["--signature", "att.json", "--check-claims=false"]).ok();
    // --digest / --digestAlg instead of the blob.
    verify(&[
        "--signature",
        "att.json",
        "--digest",
        &hex,
        "--digestAlg",
        "sha256",
    ])
    .ok();
    let sha512 = String::from_utf8(s.tool("openssl", &["dgst", "-sha512", "-r", "artifact.bin"]))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    verify(&[
        "--signature",
        "att.json",
        "--digest",
        &sha512,
        "--digestAlg",
        "sha512",
    ])
    .fails();
    // --output-signature / --output-attestation, and --hash.
    s.run(
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--predicate",
            "p",
            "--hash",
            &hex,
            "--output-signature",
            "sig.json",
            "--output-attestation",
            "statement.json",
            "renamed.bin",
        ],
        PW,
        None,
    )
    .ok();
    let st: Value = serde_json::from_slice(&s.read("statement.json")).unwrap();
    assert_eq!(st["subject"][0]["name"], "renamed.bin");
    verify(&["--signature", "sig.json", "artifact.bin"]).ok();
    // Legacy bundle.
    s.run(
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--predicate",
            "p",
            "--new-bundle-format=false",
            "--bundle",
            "legacy.json",
            "artifact.bin",
        ],
        PW,
        None,
    )
    .ok();
    let legacy: Value = serde_json::from_slice(&s.read("legacy.json")).unwrap();
    assert!(legacy["base64Signature"].is_string());
    verify(&["--bundle", "legacy.json", "artifact.bin"]).ok();
    // Sigstore bundle (nothing on stdout).
    let run = s
        .run(
            &[
                "attest-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--predicate",
                "p",
                "--type",
                "spdx",
                "--new-bundle-format",
                "--bundle",
                "b.sigstore.json",
                "artifact.bin",
            ],
            PW,
            None,
        )
        .ok();
    assert!(run.stdout.is_empty());
    verify(&[
        "--bundle",
        "b.sigstore.json",
        "--type",
        "spdx",
        "artifact.bin",
    ])
    .ok();
    verify(&["--bundle", "b.sigstore.json", "--type", "spdx", &digest]).ok();
    verify(&["--bundle", "b.sigstore.json", "artifact.bin"]).fails();
    // --statement: signed verbatim (here with a sha512 subject).
    let statement = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"artifact.bin","digest":{{"sha512":"{sha512}"}}}}],"predicateType":"{MY_TYPE}","predicate":{{"k":"v"}}}}"#
    );
    s.write("statement.in.json", &statement);
    let run = s
        .run(
            &[
                "attest-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--statement",
                "statement.in.json",
            ],
            PW,
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains("Using statement from: statement.in.json")
    );
    let env: Value = serde_json::from_str(run.stdout_text().trim()).unwrap();
    assert_eq!(
        STANDARD.decode(env["payload"].as_str().unwrap()).unwrap(),
        statement.as_bytes()
    );
    s.write("stmt-att.json", run.stdout_text());
    verify(&[
        "--signature",
        "stmt-att.json",
        "--type",
        MY_TYPE,
        "--digest",
        &sha512,
        "--digestAlg",
        "sha512",
    ])
    .ok();
    verify(&[
        "--signature",
        "stmt-att.json",
        "--type",
        MY_TYPE,
        "artifact.bin",
    ])
    .fails();
    // A statement that is not one is refused before signing.
    s.write(
        "bad-statement.json",
        r#"{"_type":"x","predicateType":"p","subject":[]}"#,
    );
    let run = s
        .run(
            &[
                "attest-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--statement",
                "bad-statement.json",
            ],
            PW,
            None,
        )
        .fails();
    assert!(run.stderr.contains("invalid statement"), "{}", run.stderr);
    // Standard input as the blob.
    let run = s
        .run(
            &[
                "attest-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--predicate",
                "p",
                "-",
            ],
            PW,
            Some(&s.read("artifact.bin")),
        )
        .ok();
    assert_eq!(statements(&run.stdout_text())[0]["subject"][0]["name"], "-");
    s.write("stdin-att.json", run.stdout_text());
    verify(&["--signature", "stdin-att.json", "artifact.bin"]).ok();
}

#[test]
fn blob_attestation_bundles_verify_offline_with_the_log_stopped() {
    let mut log = TlogServer::start();
    let s = setup();
    let trust = trust_env(&s, &log);
    let mut env = trust.clone();
    env.push(("COSIGN_PASSWORD".into(), "pw".into()));
    s.write("artifact.bin", "logged artifact");
    s.write("p", "hello");
    let url = log.url().to_owned();
    for (bundle, extra) in [
        ("legacy.json", None),
        ("new.json", Some("--new-bundle-format")),
    ] {
        let mut args = vec![
            "attest-blob",
            "--key",
            "cosign.key",
            "--predicate",
            "p",
            "--rekor-url",
            &url,
            "--bundle",
            bundle,
        ];
        args.extend(extra);
        args.push("artifact.bin");
        s.run(&args, &env_refs(&env), None).ok();
    }
    log.stop();
    for bundle in ["legacy.json", "new.json"] {
        s.run(
            &[
                "verify-blob-attestation",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--offline",
                "artifact.bin",
            ],
            &env_refs(&trust),
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob-attestation",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--trusted-root",
                "trusted_root.json",
                "--offline",
                "artifact.bin",
            ],
            &[],
            None,
        )
        .ok();
    }
    // A bundle without its log entry fails when the log is checked offline.
    let mut b: Value = serde_json::from_slice(&s.read("new.json")).unwrap();
    b["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
    s.write("stripped.json", serde_json::to_vec(&b).unwrap());
    s.run(
        &[
            "verify-blob-attestation",
            "--key",
            "cosign.pub",
            "--bundle",
            "stripped.json",
            "--offline",
            "artifact.bin",
        ],
        &env_refs(&trust),
        None,
    )
    .fails();
}

/// Signs a DSSE envelope over `payload` with openssl (so that any payload, even one cosign
/// would refuse to sign, can be made).
fn openssl_envelope(s: &Scratch, payload: &[u8]) -> Value {
    let payload_type = "application/vnd.in-toto+json";
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(payload);
    s.write("pae.bin", &pae);
    s.tool(
        "openssl",
        &[
            "dgst", "-sha256", "-sign", "ossl.key", "-out", "pae.sig", "pae.bin",
        ],
    );
    serde_json::json!({
        "payloadType": payload_type,
        "payload": STANDARD.encode(payload),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(s.read("pae.sig"))}],
    })
}

#[test]
fn unparseable_statements_fail_ghsa_w6c6_c85g_mmv6() {
    let s = Scratch::new();
    s.tool(
        "openssl",
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "ossl.key",
        ],
    );
    s.tool(
        "openssl",
        &["ec", "-in", "ossl.key", "-pubout", "-out", "ossl.pub"],
    );
    s.write("artifact.bin", "x");
    let hex = test_support::sha256_digest(b"x")
        .trim_start_matches("sha256:")
        .to_owned();
    let good = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"{CUSTOM}","subject":[{{"name":"artifact.bin","digest":{{"sha256":"{hex}"}}}}],"predicate":{{"Data":"x","Timestamp":"2024-01-01T00:00:00Z"}}}}"#
    );
    let bad = [
        "not json at all".to_owned(),
        "[1,2,3]".to_owned(),
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","subject":[{{"digest":{{"sha256":"{hex}"}}}}]}}"#
        ),
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"{CUSTOM}","subject":null,"predicate":{{"Data":"x"}}}}"#
        ),
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"{CUSTOM}","subject":[null],"predicate":{{"Data":"x"}}}}"#
        ),
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"{CUSTOM}","subject":[{{"digest":{{"sha256":"{hex}"}}}}],"predicate":"not an object"}}"#
        ),
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"{CUSTOM}","subject":[{{"digest":{{"sha256":"{hex}"}}}}]}}"#
        ),
    ];
    let key_hint = s
        .sh(
            "openssl pkey -pubin -in ossl.pub -outform DER | openssl dgst -sha256 -binary | base64",
            &[],
        )
        .ok()
        .stdout_text()
        .trim()
        .to_owned();
    let check = |payload: &str, ok: bool| {
        let env = openssl_envelope(&s, payload.as_bytes());
        s.write("env.json", serde_json::to_vec(&env).unwrap());
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": key_hint}},
            "dsseEnvelope": {"payload": env["payload"], "payloadType": env["payloadType"], "signatures": [{"sig": env["signatures"][0]["sig"]}]},
        });
        s.write("bundle.json", serde_json::to_vec(&bundle).unwrap());
        let legacy = serde_json::json!({"base64Signature": STANDARD.encode(serde_json::to_vec(&env).unwrap())});
        s.write("legacy.json", serde_json::to_vec(&legacy).unwrap());
        for source in [
            ["--signature", "env.json"],
            ["--bundle", "bundle.json"],
            ["--bundle", "legacy.json"],
        ] {
            for claims in ["--check-claims=true", "--check-claims=false"] {
                let run = s.run(
                    &[
                        "verify-blob-attestation",
                        "--key",
                        "ossl.pub",
                        IGNORE_TLOG,
                        source[0],
                        source[1],
                        claims,
                        "artifact.bin",
                    ],
                    &[],
                    None,
                );
                if ok {
                    run.ok();
                } else {
                    let run = run.fails();
                    assert!(
                        !run.stderr.contains("Verified OK"),
                        "{payload}: {}",
                        run.stderr
                    );
                }
            }
        }
    };
    check(&good, true);
    for payload in &bad {
        check(payload, false);
    }
}

#[test]
fn attach_and_download_attestations() {
    let reg = distribution();
    let img = push_image(
        &reg,
        "test/attach:v1",
        &ImageSpec {
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            ..ImageSpec::default()
        },
    );
    let (_, arm) = img.platform_digests[1].clone();
    let arm_ref = format!("{}/test/attach@{arm}", reg.host());
    let s = setup();
    s.write("p", "attached");
    s.write("link.json", TYPES[4].1);
    let one = attest(&s, &arm_ref, "custom", "p", &[NO_TLOG, "--no-upload"])
        .ok()
        .stdout_text();
    let two = attest(&s, &arm_ref, "link", "link.json", &[NO_TLOG, "--no-upload"])
        .ok()
        .stdout_text();
    assert!(
        manifest(&reg, "test/attach", &att_tag(&arm)).is_none(),
        "--no-upload wrote"
    );
    s.write("envs.jsonl", format!("{one}{two}"));
    let run = s
        .run(
            &[
                "attach",
                "attestation",
                "--attestation",
                "envs.jsonl",
                &arm_ref,
            ],
            &[],
            None,
        )
        .ok();
    assert_eq!(run.stderr, "Using payload from: envs.jsonl");
    // download: legacy envelopes in Go's field order, one per line.
    let run = s
        .run(&["download", "attestation", &arm_ref], &[], None)
        .ok();
    let lines: Vec<String> = run.stdout_text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert!(
            l.starts_with(r#"{"payloadType":"application/vnd.in-toto+json","payload":""#),
            "{l}"
        );
        assert!(l.contains(r#""signatures":[{"keyid":"","sig":""#), "{l}");
    }
    let run = s
        .run(
            &[
                "download",
                "attestation",
                "--predicate-type",
                "link",
                &arm_ref,
            ],
            &[],
            None,
        )
        .ok();
    let found = statements(&run.stdout_text());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["predicateType"], LINK);
    let run = s
        .run(
            &[
                "download",
                "attestation",
                "--predicate-type",
                "vuln",
                &arm_ref,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("no attestations with predicate type 'vuln' found"),
        "{}",
        run.stderr
    );
    // --platform picks the child of the index.
    let run = s
        .run(
            &[
                "download",
                "attestation",
                "--platform",
                "linux/arm64",
                &img.reference,
            ],
            &[],
            None,
        )
        .ok();
    assert_eq!(run.stdout_text().lines().count(), 2);
    s.run(
        &[
            "download",
            "attestation",
            "--platform",
            "linux/amd64",
            &img.reference,
        ],
        &[],
        None,
    )
    .fails();
    // The attached envelopes verify.
    verify_att(&s, &arm_ref, "link", &[IGNORE_TLOG]).ok();
    // Attaching the same file again adds nothing.
    s.run(
        &[
            "attach",
            "attestation",
            "--attestation",
            "envs.jsonl",
            &arm_ref,
        ],
        &[],
        None,
    )
    .ok();
    assert_eq!(
        manifest(&reg, "test/attach", &att_tag(&arm)).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A Sigstore bundle file is stored as a referrer.
    attest(
        &s,
        &arm_ref,
        MY_TYPE,
        "link.json",
        &[
            NO_TLOG,
            "--no-upload",
            "--new-bundle-format",
            "--bundle",
            "b.json",
        ],
    )
    .ok();
    s.run(
        &["attach", "attestation", "--attestation", "b.json", &arm_ref],
        &[],
        None,
    )
    .ok();
    let run = s
        .run(
            &[
                "download",
                "attestation",
                "--predicate-type",
                MY_TYPE,
                &arm_ref,
            ],
            &[],
            None,
        )
        .ok();
    let b: Value = serde_json::from_str(run.stdout_text().trim()).unwrap();
    assert_eq!(
        b,
        serde_json::from_slice::<Value>(&s.read("b.json")).unwrap()
    );
    verify_att(&s, &arm_ref, MY_TYPE, &[IGNORE_TLOG]).ok();
}

#[test]
fn hostile_and_malformed_inputs() {
    let reg = distribution();
    let img = push_image(&reg, "test/hostile:v1", &ImageSpec::default());
    let s = setup();
    s.write("p", "data");
    // Predicates.
    let run = s
        .run(
            &["attest", "--key", "cosign.key", NO_TLOG, &img.digest_ref],
            PW,
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("Error: predicate cannot be empty"),
        "{}",
        run.stderr
    );
    s.write("empty", "");
    let run = attest(&s, &img.digest_ref, "custom", "empty", &[NO_TLOG]).fails();
    assert!(
        run.stderr.contains("predicate cannot be empty"),
        "{}",
        run.stderr
    );
    let run = attest(&s, &img.digest_ref, "nope", "p", &[NO_TLOG]).fails();
    assert!(
        run.stderr.contains("Error: invalid predicate type: nope"),
        "{}",
        run.stderr
    );
    s.write("slsa.json", r#"{"buildType":"x"}"#);
    let run = attest(
        &s,
        &img.digest_ref,
        "slsaprovenance",
        "slsa.json",
        &[NO_TLOG],
    )
    .fails();
    assert!(
        run.stderr
            .contains("provenance predicate: required field builder missing"),
        "{}",
        run.stderr
    );
    s.write("array.json", "[1]");
    let run = attest(&s, &img.digest_ref, MY_TYPE, "array.json", &[NO_TLOG]).fails();
    assert!(
        run.stderr.contains("expected a JSON object"),
        "{}",
        run.stderr
    );
    s.write("broken.json", "{\"a\":");
    attest(&s, &img.digest_ref, "cyclonedx", "broken.json", &[NO_TLOG]).fails();
    assert!(manifest(&reg, "test/hostile", &att_tag(&img.digest)).is_none());
    let run = attest(
        &s,
        &img.digest_ref,
        "custom",
        "p",
        &[NO_TLOG, "--rekor-entry-type", "rekord"],
    );
    assert_ne!(run.code, 0);

    // Envelopes given to attach attestation.
    let env = attest(
        &s,
        &img.digest_ref,
        "custom",
        "p",
        &[NO_TLOG, "--no-upload"],
    )
    .ok()
    .stdout_text();
    let mut wrong_type: Value = serde_json::from_str(env.trim()).unwrap();
    wrong_type["payloadType"] = "text/plain".into();
    s.write("wrong-type.json", serde_json::to_vec(&wrong_type).unwrap());
    let run = s
        .run(
            &[
                "attach",
                "attestation",
                "--attestation",
                "wrong-type.json",
                &img.digest_ref,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains(
            "invalid payloadType text/plain on envelope. Expected application/vnd.in-toto+json"
        ),
        "{}",
        run.stderr
    );
    let mut unsigned: Value = serde_json::from_str(env.trim()).unwrap();
    unsigned["signatures"] = serde_json::json!([]);
    s.write("unsigned.json", serde_json::to_vec(&unsigned).unwrap());
    let run = s
        .run(
            &[
                "attach",
                "attestation",
                "--attestation",
                "unsigned.json",
                &img.digest_ref,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("could not attach attestation without having signatures")
    );
    let mut no_subject: Value = serde_json::from_str(env.trim()).unwrap();
    no_subject["payload"] = STANDARD
        .encode(format!(
            r#"{{"_type":"x","predicateType":"{CUSTOM}","subject":[],"predicate":{{}}}}"#
        ))
        .into();
    s.write("no-subject.json", serde_json::to_vec(&no_subject).unwrap());
    let run = s
        .run(
            &[
                "attach",
                "attestation",
                "--attestation",
                "no-subject.json",
                &img.digest_ref,
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("the statement has no subjects"),
        "{}",
        run.stderr
    );
    s.write("garbage.json", "{not json");
    s.run(
        &[
            "attach",
            "attestation",
            "--attestation",
            "garbage.json",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .fails();
    // A good envelope after a bad one in the same call: nothing is written.
    s.write("good.json", env.trim());
    s.run(
        &[
            "attach",
            "attestation",
            "--attestation",
            "good.json",
            "--attestation",
            "unsigned.json",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .fails();
    assert!(manifest(&reg, "test/hostile", &att_tag(&img.digest)).is_none());

    // A registry that stores a layer of an envelope with a forged statement type annotation:
    // the statement decides, not the annotation.
    s.run(
        &[
            "attach",
            "attestation",
            "--attestation",
            "good.json",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    let client = RegistryClient::new(&reg);
    let mut m = manifest(&reg, "test/hostile", &att_tag(&img.digest)).unwrap();
    m["layers"][0]["annotations"]["predicateType"] = LINK.into();
    client.push_manifest(
        "test/hostile",
        &att_tag(&img.digest),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&m).unwrap(),
    );
    verify_att(&s, &img.digest_ref, "link", &[IGNORE_TLOG]).fails();
    verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).ok();
    // Oversized layers are refused before they are downloaded.
    let run = s.run(
        &[
            "verify-attestation",
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
    // A layer that is not an envelope fails that attestation only.
    let junk = client.push_blob("test/hostile", b"{\"junk\":true}");
    let mut m = manifest(&reg, "test/hostile", &att_tag(&img.digest)).unwrap();
    let mut extra = m["layers"][0].clone();
    extra["digest"] = junk.clone().into();
    extra["size"] = 13.into();
    m["layers"].as_array_mut().unwrap().push(extra);
    client.push_manifest(
        "test/hostile",
        &att_tag(&img.digest),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&m).unwrap(),
    );
    let run = verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).ok();
    assert_eq!(statements(&run.stdout_text()).len(), 1);
    // download prints what is stored (cosign does the same).
    let run = s
        .run(&["download", "attestation", &img.digest_ref], &[], None)
        .ok();
    assert_eq!(run.stdout_text().lines().count(), 2);
}

#[test]
fn help_texts() {
    let s = Scratch::new();
    for cmd in [
        "attest",
        "verify-attestation",
        "attest-blob",
        "verify-blob-attestation",
        "attach attestation",
        "download attestation",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let run = s.run(&args, &[], None).ok();
        insta::assert_snapshot!(format!("help_{}", cmd.replace(' ', "_")), run.stdout_text());
    }
}

#[test]
fn local_image_from_cosign_save() {
    let reg = distribution();
    let img = push_image(&reg, "test/attlocal:v1", &ImageSpec::default());
    let s = setup();
    s.write("p", "saved");
    s.write("link.json", TYPES[4].1);
    attest(&s, &img.digest_ref, "custom", "p", &[NO_TLOG]).ok();
    attest(
        &s,
        &img.digest_ref,
        "link",
        "link.json",
        &[NO_TLOG, "--new-bundle-format"],
    )
    .ok();
    s.run(&["save", "--dir", "saved", &img.digest_ref], &[], None)
        .ok();
    drop(reg);
    for (ptype, uri) in [("custom", CUSTOM), ("link", LINK)] {
        let run = s
            .run(
                &[
                    "verify-attestation",
                    "--key",
                    "cosign.pub",
                    IGNORE_TLOG,
                    "--type",
                    ptype,
                    "--local-image",
                    "saved",
                ],
                &[],
                None,
            )
            .ok();
        assert!(
            run.stderr.contains("\nVerification for saved --\n"),
            "{}",
            run.stderr
        );
        let found = statements(&run.stdout_text());
        assert_eq!(found.len(), 1, "{ptype}");
        assert_eq!(found[0]["predicateType"], uri);
    }
    let run = s
        .run(
            &[
                "verify-attestation",
                "--key",
                "cosign.pub",
                IGNORE_TLOG,
                "--type",
                "vuln",
                "--local-image",
                "saved",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("none of the attestations matched the predicate type: vuln"),
        "{}",
        run.stderr
    );
}

#[test]
fn concurrent_attesters_lose_nothing() {
    let reg = distribution();
    let img = push_image(&reg, "test/attconc:v1", &ImageSpec::default());
    let s = setup();
    for i in 0..4 {
        s.write(&format!("p{i}"), format!("attestation {i}"));
    }
    std::thread::scope(|scope| {
        for i in 0..4 {
            let s = &s;
            let image = img.digest_ref.clone();
            scope.spawn(move || {
                attest(s, &image, "custom", &format!("p{i}"), &[NO_TLOG]).ok();
            });
        }
    });
    let run = verify_att(&s, &img.digest_ref, "custom", &[IGNORE_TLOG]).ok();
    let mut data: Vec<String> = statements(&run.stdout_text())
        .iter()
        .map(|st| st["predicate"]["Data"].as_str().unwrap().to_owned())
        .collect();
    data.sort();
    assert_eq!(
        data,
        (0..4)
            .map(|i| format!("attestation {i}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn attestations_without_a_stored_proof_are_looked_up_online() {
    let log = TlogServer::start();
    let reg = distribution();
    let img = push_image(&reg, "test/attonline:v1", &ImageSpec::default());
    let s = setup();
    let trust = trust_env(&s, &log);
    let mut env = trust.clone();
    env.push(("COSIGN_PASSWORD".into(), "pw".into()));
    s.write("p", "online");
    let url = log.url().to_owned();
    s.run(
        &[
            "attest",
            "--key",
            "cosign.key",
            "--predicate",
            "p",
            "--rekor-url",
            &url,
            &img.digest_ref,
        ],
        &env_refs(&env),
        None,
    )
    .ok();
    // Drop the stored proof: the entry is found in the log by the payload's hash.
    let client = RegistryClient::new(&reg);
    let mut m = manifest(&reg, "test/attonline", &att_tag(&img.digest)).unwrap();
    m["layers"][0]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dev.sigstore.cosign/bundle");
    client.push_manifest(
        "test/attonline",
        &att_tag(&img.digest),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&m).unwrap(),
    );
    let run = s
        .run(
            &[
                "verify-attestation",
                "--key",
                "cosign.pub",
                "--rekor-url",
                &url,
                &img.digest_ref,
            ],
            &env_refs(&trust),
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains("  - The claims were present in the transparency log"),
        "{}",
        run.stderr
    );
    // Offline, there is nothing to prove it.
    let run = s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--rekor-url",
            &url,
            "--offline",
            &img.digest_ref,
        ],
        &env_refs(&trust),
        None,
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
    // An attestation that was never logged is not found.
    let img2 = push_image(
        &reg,
        "test/attonline:v2",
        &ImageSpec {
            seed: "2".into(),
            ..ImageSpec::default()
        },
    );
    attest(&s, &img2.digest_ref, "custom", "p", &[NO_TLOG]).ok();
    let run = s.run(
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--rekor-url",
            &url,
            &img2.digest_ref,
        ],
        &env_refs(&trust),
        None,
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
}

#[test]
fn ed25519_keys_attest_with_a_log() {
    let log = TlogServer::start();
    let s = Scratch::new();
    s.tool(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"],
    );
    s.run(
        &[
            "import-key-pair",
            "--key",
            "ed.pem",
            "--output-key-prefix",
            "ed",
        ],
        PW,
        None,
    )
    .ok();
    let trust = trust_env(&s, &log);
    let mut env = trust.clone();
    env.push(("COSIGN_PASSWORD".into(), "pw".into()));
    s.write("blob", "ed25519 blob");
    s.write("p", "hello");
    let url = log.url().to_owned();
    for entry_type in ["dsse", "intoto"] {
        let bundle = format!("{entry_type}.json");
        s.run(
            &[
                "attest-blob",
                "--key",
                "ed.key",
                "--predicate",
                "p",
                "--rekor-url",
                &url,
                "--rekor-entry-type",
                entry_type,
                "--new-bundle-format",
                "--bundle",
                &bundle,
                "blob",
            ],
            &env_refs(&env),
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob-attestation",
                "--key",
                "ed.pub",
                "--bundle",
                &bundle,
                "--offline",
                "blob",
            ],
            &env_refs(&trust),
            None,
        )
        .ok();
    }
}
