//! Keyless signing end to end against the real services on 127.0.0.1: the test OIDC issuer
//! (`test_support::oidc`), the real Fulcio (file CA, SCTs from our RFC 6962 CT log), the real
//! timestamp authority, and our `tlog-server` (Rekor v1 and v2). Every signing command signs
//! with no key anywhere, in both storage formats, and the results verify by identity; each
//! token source works; signing configs select the services; hostile services fail the signing
//! before anything is written.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;

use serde_json::{Value, json};
use test_support::ambient_fakes::{FakeGoogle, FakeWorkloadApi};
use test_support::fulcio::TrustedRootJson;
use test_support::oidc::{Identity, OidcIssuer};
use test_support::{
    CtBehaviour, CtLogServer, FulcioOptions, FulcioServer, ImageSpec, PushedImage, Registry,
    RegistryConfig, TimestampServer, TlogServer, TrustedIssuer, push_image,
};

use crate::common::{Run, Scratch};

const EMAIL: &str = "keyless@test.example";

/// The keyless stack and a scratch dir holding `root.json` (trusting Fulcio's CA, the CT log,
/// both logs and the TSA), `artifact.txt` and a token file.
struct Stack {
    s: Scratch,
    issuer: OidcIssuer,
    ct: CtLogServer,
    fulcio: FulcioServer,
    tsa: TimestampServer,
    log: TlogServer,
}

impl Stack {
    fn new() -> Self {
        Self::with(true)
    }

    /// `check_sct`: whether Fulcio checks the CT log's SCTs (off for hostile-log tests).
    fn with(check_sct: bool) -> Self {
        let issuer = OidcIssuer::start();
        issuer.set_identity(Identity::Email(EMAIL.into()));
        let ct = CtLogServer::start();
        let mut opts = FulcioOptions::new(vec![TrustedIssuer::email(issuer.url())]);
        opts.check_sct = check_sct;
        let fulcio = FulcioServer::start_with(&ct, opts);
        let tsa = TimestampServer::start();
        let log = TlogServer::start();
        let s = Scratch::new();
        TrustedRootJson::keyless(&fulcio, &ct, Some(&log), Some(&tsa)).write(s.path("root.json"));
        s.write("artifact.txt", b"keyless artifact\n");
        let stack = Self {
            s,
            issuer,
            ct,
            fulcio,
            tsa,
            log,
        };
        stack.write_signing_config("v2.json", 2, true);
        stack.write_signing_config("v1.json", 1, true);
        stack
    }

    /// A signing config naming Fulcio, the issuer, the log (API `rekor_version`) and, when
    /// `tsa`, the TSA.
    fn write_signing_config(&self, name: &str, rekor_version: u32, tsa: bool) {
        let service = |url: &str, v: u32| {
            json!({"url": url, "majorApiVersion": v,
                   "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "test"})
        };
        let mut cfg = json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.fulcio.url(), 1)],
            "oidcUrls": [service(self.issuer.url(), 1)],
            "rekorTlogUrls": [service(self.log.url(), rekor_version)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        });
        if tsa {
            cfg["tsaUrls"] = json!([service(&self.tsa.url(), 1)]);
        }
        self.s
            .write(name, serde_json::to_string_pretty(&cfg).unwrap());
    }

    /// The service flags (Rekor v1, the TSA, the trusted root) and a fresh token.
    fn flags(&self) -> Vec<String> {
        vec![
            "--identity-token".into(),
            self.issuer.token(),
            "--fulcio-url".into(),
            self.fulcio.url().into(),
            "--rekor-url".into(),
            self.log.url().into(),
            "--timestamp-server-url".into(),
            self.tsa.url(),
            "--trusted-root".into(),
            "root.json".into(),
        ]
    }

    fn run(&self, args: &[String]) -> Run {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.s.run(&args, &[], None)
    }

    fn cmd(&self, head: &[&str], flags: Vec<String>, tail: &[&str]) -> Run {
        let mut args: Vec<String> = head.iter().map(|s| (*s).to_owned()).collect();
        args.extend(flags);
        args.extend(tail.iter().map(|s| (*s).to_owned()));
        self.run(&args)
    }

    fn verify_blob(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "verify-blob",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            self.issuer.url(),
        ];
        args.extend_from_slice(extra);
        args.push("artifact.txt");
        self.s.run(&args, &[], None)
    }

    fn bundle(&self, name: &str) -> Value {
        serde_json::from_slice(&self.s.read(name)).unwrap()
    }

    fn log_size(&self) -> i64 {
        let body = reqwest::blocking::get(format!("{}/api/v1/log", self.log.url()))
            .unwrap()
            .bytes()
            .unwrap();
        let info: Value = serde_json::from_slice(&body).unwrap();
        info["treeSize"].as_i64().unwrap()
    }
}

fn image(reg: &Registry, seed: &str) -> PushedImage {
    push_image(
        reg,
        &format!("test/keyless-sign:{seed}"),
        &ImageSpec {
            seed: seed.to_owned(),
            ..ImageSpec::default()
        },
    )
}

/// The annotations of the first layer of the legacy `.sig` (or `.att`) image of `img`.
fn layer_annotations(reg: &Registry, img: &PushedImage, suffix: &str) -> Value {
    let tag = format!("{}.{suffix}", img.digest.replace(':', "-"));
    let body = reqwest::blocking::Client::new()
        .get(format!(
            "{}/v2/test/keyless-sign/manifests/{tag}",
            reg.url()
        ))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let m: Value = serde_json::from_slice(&body).unwrap();
    m["layers"][0]["annotations"].clone()
}

fn leaf_der(bundle: &Value) -> Vec<u8> {
    let vm = &bundle["verificationMaterial"];
    let b64 = vm["certificate"]["rawBytes"]
        .as_str()
        .unwrap_or_else(|| panic!("no certificate in {vm}"));
    STANDARD.decode(b64).unwrap()
}

#[test]
fn sign_blob_keyless_writes_a_sigstore_bundle_that_verifies_by_identity() {
    let k = Stack::new();
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .ok();
    assert!(
        run.stderr.contains("Generating ephemeral keys..."),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(&k.issuer.token()[..20]),
        "the token leaked"
    );
    let b = k.bundle("b.json");
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let vm = &b["verificationMaterial"];
    assert!(!leaf_der(&b).is_empty());
    assert_eq!(vm["tlogEntries"][0]["kindVersion"]["version"], "0.0.1");
    assert!(vm["tlogEntries"][0]["inclusionPromise"].is_object());
    assert_eq!(
        vm["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // Another identity is refused.
    k.s.run(
        &[
            "verify-blob",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            "someone@else.example",
            "--certificate-oidc-issuer",
            k.issuer.url(),
            "--bundle",
            "b.json",
            "artifact.txt",
        ],
        &[],
        None,
    )
    .fails();
}

#[test]
fn sign_blob_keyless_with_a_signing_config_logs_to_rekor_v2_and_verifies_offline() {
    let k = Stack::new();
    let token = k.issuer.token();
    k.s.run(
        &[
            "sign-blob",
            "--identity-token",
            &token,
            "--signing-config",
            "v2.json",
            "--trusted-root",
            "root.json",
            "--bundle",
            "b.json",
            "artifact.txt",
        ],
        &[],
        None,
    )
    .ok();
    let b = k.bundle("b.json");
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2");
    assert!(entry["inclusionPromise"].is_null());
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // The v1 log was not used.
    assert_eq!(k.log_size(), 0);
}

#[test]
fn sign_blob_keyless_legacy_outputs_verify() {
    let k = Stack::new();
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &[
                "--output-certificate",
                "cert.pem",
                "--rfc3161-timestamp",
                "ts.json",
                "artifact.txt",
            ],
        )
        .ok();
    let sig = run.stdout_text().trim().to_owned();
    assert!(STANDARD.decode(&sig).is_ok(), "{sig}");
    let cert = String::from_utf8(k.s.read("cert.pem")).unwrap();
    let pem = String::from_utf8(STANDARD.decode(cert.trim()).unwrap()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    k.verify_blob(&[
        "--signature",
        &sig,
        "--certificate",
        "cert.pem",
        "--rfc3161-timestamp",
        "ts.json",
        "--rekor-url",
        k.log.url(),
    ])
    .ok();
    // The legacy bundle, asked for.
    k.cmd(
        &["sign-blob", "--yes"],
        k.flags(),
        &[
            "--bundle",
            "legacy.json",
            "--new-bundle-format=false",
            "artifact.txt",
        ],
    )
    .ok();
    let legacy = k.bundle("legacy.json");
    assert!(legacy["cert"].is_string() && legacy["rekorBundle"].is_object());
    k.verify_blob(&["--bundle", "legacy.json"]).ok();
}

#[test]
fn sign_keyless_signs_every_image_with_one_certificate_and_verifies_by_identity() {
    let k = Stack::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let a = image(&reg, "a");
    let b = image(&reg, "b");
    k.cmd(
        &["sign", "--yes"],
        k.flags(),
        &[&a.digest_ref, &b.digest_ref],
    )
    .ok();
    // One certificate (one CT submission) for both images.
    assert_eq!(k.ct.submissions().len(), 1);
    let ann_a = layer_annotations(&reg, &a, "sig");
    let ann_b = layer_annotations(&reg, &b, "sig");
    let cert = ann_a["dev.sigstore.cosign/certificate"].as_str().unwrap();
    assert_eq!(cert, ann_b["dev.sigstore.cosign/certificate"]);
    assert_eq!(ann_a["dev.sigstore.cosign/chain"], "");
    assert!(ann_a["dev.sigstore.cosign/bundle"].is_string());
    assert!(ann_a["dev.sigstore.cosign/rfc3161timestamp"].is_string());
    for img in [&a, &b] {
        k.s.run(
            &[
                "verify",
                "--trusted-root",
                "root.json",
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                k.issuer.url(),
                &img.digest_ref,
            ],
            &[],
            None,
        )
        .ok();
    }
}

#[test]
fn sign_keyless_bundle_referrer_with_a_signing_config_verifies() {
    let k = Stack::new();
    let reg = Registry::ferro();
    let img = image(&reg, "bundle");
    let token = k.issuer.token();
    k.s.run(
        &[
            "sign",
            "--identity-token",
            &token,
            "--signing-config",
            "v2.json",
            "--trusted-root",
            "root.json",
            "--new-bundle-format",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    k.s.run(
        &[
            "verify",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            k.issuer.url(),
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
}

#[test]
fn attest_and_attest_blob_keyless_verify_by_identity() {
    let k = Stack::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let img = image(&reg, "att");
    k.s.write("pred.json", br#"{"built":"here"}"#);
    k.cmd(
        &["attest", "--yes"],
        k.flags(),
        &["--predicate", "pred.json", &img.digest_ref],
    )
    .ok();
    let ann = layer_annotations(&reg, &img, "att");
    assert!(ann["dev.sigstore.cosign/certificate"].is_string());
    assert!(ann["dev.sigstore.cosign/rfc3161timestamp"].is_string());
    k.s.run(
        &[
            "verify-attestation",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            k.issuer.url(),
            "--type",
            "custom",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    // attest-blob: a Sigstore bundle (v1 log + TSA), then a Rekor v2 one from a signing config.
    k.cmd(
        &["attest-blob", "--yes"],
        k.flags(),
        &[
            "--predicate",
            "pred.json",
            "--bundle",
            "att.json",
            "artifact.txt",
        ],
    )
    .ok();
    let token = k.issuer.token();
    k.s.run(
        &[
            "attest-blob",
            "--identity-token",
            &token,
            "--signing-config",
            "v2.json",
            "--trusted-root",
            "root.json",
            "--predicate",
            "pred.json",
            "--bundle",
            "att2.json",
            "artifact.txt",
        ],
        &[],
        None,
    )
    .ok();
    for bundle in ["att.json", "att2.json"] {
        k.s.run(
            &[
                "verify-blob-attestation",
                "--trusted-root",
                "root.json",
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                k.issuer.url(),
                "--bundle",
                bundle,
                "--type",
                "custom",
                "artifact.txt",
            ],
            &[],
            None,
        )
        .ok();
    }
}

/// Signs with the stack's flags minus the token, with `env`; the bundle must verify.
fn sign_with_env(k: &Stack, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args: Vec<String> = vec!["sign-blob".into(), "--yes".into()];
    let flags = k.flags();
    args.extend(flags[2..].iter().cloned());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(["--bundle".into(), "b.json".into(), "artifact.txt".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    k.s.run(&args, env, None)
}

#[test]
fn each_token_source_signs() {
    let k = Stack::new();
    // --identity-token naming a file.
    k.s.write("token.txt", k.issuer.token());
    sign_with_env(&k, &["--identity-token", "token.txt"], &[]).ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // SIGSTORE_ID_TOKEN (GitLab id_tokens).
    let token = k.issuer.token();
    sign_with_env(&k, &[], &[("SIGSTORE_ID_TOKEN", &token)]).ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // GitHub Actions' token endpoint.
    let url = k.issuer.github_request_url();
    sign_with_env(
        &k,
        &[],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                k.issuer.github_request_token(),
            ),
        ],
    )
    .ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // The device flow at the OIDC issuer (standard input is not a terminal).
    let run = sign_with_env(
        &k,
        &[
            "--oidc-issuer",
            k.issuer.url(),
            "--oidc-disable-ambient-providers",
        ],
        &[],
    );
    // --oidc-issuer is a service URL: the flags path, so no signing-config conflict.
    run.ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    // client_credentials.
    k.s.write("secret", OidcIssuer::CLIENT_SECRET);
    sign_with_env(
        &k,
        &[
            "--oidc-issuer",
            k.issuer.url(),
            "--fulcio-auth-flow",
            "client_credentials",
            "--oidc-client-secret-file",
            "secret",
        ],
        &[],
    )
    .ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
}

#[test]
fn spiffe_and_google_workload_identity_tokens_sign() {
    let k = Stack::new();
    // SPIFFE: a JWT-SVID from the Workload API socket (a SPIFFE ID subject; the email is what
    // the stack's Fulcio certifies).
    let now = cosign_types::time::now_unix();
    let spiffe_id = "spiffe://example.org/ci/signer";
    let svid = k.issuer.token_with_claims(&json!({
        "iss": k.issuer.url(), "aud": "sigstore", "sub": spiffe_id, "email": EMAIL,
        "email_verified": true, "iat": now, "nbf": now - 10, "exp": now + 600,
    }));
    let api = FakeWorkloadApi::start();
    api.set_svids(vec![(spiffe_id.into(), svid)]);
    let socket = api.socket().display().to_string();
    sign_with_env(&k, &[], &[("SPIFFE_ENDPOINT_SOCKET", &socket)]).ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    assert_eq!(api.requests().len(), 1);
    assert!(api.violations().is_empty(), "{:?}", api.violations());
    // GCE (GCE_METADATA_HOST set): the metadata server's identity token.
    let google = FakeGoogle::start();
    let token = k.issuer.token();
    google.set_id_tokens(Arc::new(move |_: &str| token.clone()));
    sign_with_env(&k, &[], &[("GCE_METADATA_HOST", &google.host())]).ok();
    k.verify_blob(&["--bundle", "b.json"]).ok();
    assert!(
        google
            .requests()
            .iter()
            .any(|r| r.ends_with("identity?audience=sigstore&format=full")),
        "{:?}",
        google.requests()
    );
    assert!(google.violations().is_empty(), "{:?}", google.violations());
}

#[test]
fn an_untrusted_fulcio_ca_fails_before_anything_is_logged_or_written() {
    let k = Stack::new();
    // A trusted root without Fulcio's CA.
    let other = FulcioServer::start(k.issuer.url(), &k.ct);
    TrustedRootJson::keyless(&other, &k.ct, Some(&k.log), Some(&k.tsa))
        .write(k.s.path("root.json"));
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(
        run.stderr.contains("checking the certificate"),
        "{}",
        run.stderr
    );
    assert!(!k.s.path("b.json").exists());
    assert_eq!(k.log_size(), 0);
}

#[test]
fn a_lying_ct_log_fails_the_signing() {
    let k = Stack::with(false);
    k.ct.set_behaviour(CtBehaviour::SignOtherData);
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(run.stderr.contains("SCT"), "{}", run.stderr);
    assert!(!k.s.path("b.json").exists());
    assert_eq!(k.log_size(), 0);
    // --insecure-skip-verify (testing only) skips the SCT check.
    k.cmd(
        &["sign-blob", "--yes", "--insecure-skip-verify"],
        k.flags(),
        &["--bundle", "b.json", "artifact.txt"],
    )
    .ok();
}

#[test]
fn an_expired_token_is_refused_before_fulcio() {
    let k = Stack::new();
    k.issuer.set_lifetime(-60);
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
    assert!(k.ct.submissions().is_empty());
}

#[test]
fn signing_config_conflicts_fail_as_go_does() {
    let k = Stack::new();
    let token = k.issuer.token();
    let base = [
        "sign-blob",
        "--identity-token",
        &token,
        "--signing-config",
        "v2.json",
        "--trusted-root",
        "root.json",
        "--bundle",
        "b.json",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.push("artifact.txt");
        k.s.run(&args, &[], None)
    };
    let run = with(&["--rekor-url", "http://127.0.0.1:1"]).fails();
    assert!(
        run.stderr
            .contains("cannot specify service URLs and use signing config"),
        "{}",
        run.stderr
    );
    let run = with(&["--tlog-upload=false"]).fails();
    assert!(
        run.stderr
            .contains("--tlog-upload=false is not supported with --signing-config"),
        "{}",
        run.stderr
    );
    // Rekor v2 with no timestamp authority: refused before a certificate is asked for.
    k.write_signing_config("v2-no-tsa.json", 2, false);
    let run =
        k.s.run(
            &[
                "sign-blob",
                "--identity-token",
                &token,
                "--signing-config",
                "v2-no-tsa.json",
                "--trusted-root",
                "root.json",
                "--bundle",
                "b.json",
                "artifact.txt",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("a timestamp authority must be provided"),
        "{}",
        run.stderr
    );
    assert!(k.ct.submissions().is_empty());
    assert!(!k.s.path("b.json").exists());
}

#[test]
fn the_browser_flow_signs_through_the_loopback_redirect() {
    let k = Stack::new();
    // A "browser" that follows the authorization URL: the issuer approves at once and
    // redirects to cosign's loopback listener with the code.
    let bin = k.s.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let opener = bin.join("xdg-open");
    std::fs::write(&opener, "#!/bin/sh\ncurl -fsSL \"$1\" >/dev/null 2>&1 &\n").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = sign_with_env(
        &k,
        &[
            "--oidc-issuer",
            k.issuer.url(),
            "--fulcio-auth-flow",
            "normal",
            "--oidc-disable-ambient-providers",
        ],
        &[("PATH", &path)],
    )
    .ok();
    assert!(
        !run.stderr.contains("eyJ"),
        "a token leaked: {}",
        run.stderr
    );
    k.verify_blob(&["--bundle", "b.json"]).ok();
}

#[test]
fn signing_config_selection_is_sigstore_gos() {
    let k = Stack::new();
    let token = k.issuer.token();
    let sign = |config: &str| {
        k.s.run(
            &[
                "sign-blob",
                "--identity-token",
                &token,
                "--signing-config",
                config,
                "--trusted-root",
                "root.json",
                "--bundle",
                "b.json",
                "artifact.txt",
            ],
            &[],
            None,
        )
    };
    let service = |url: &str, v: u32, start: &str, end: Option<&str>, op: &str| {
        let mut s = json!({"url": url, "majorApiVersion": v,
                           "validFor": {"start": start}, "operator": op});
        if let Some(end) = end {
            s["validFor"]["end"] = json!(end);
        }
        s
    };
    let write = |name: &str, rekor: Value, rekor_config: Value, ca: Value| {
        let cfg = json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": ca,
            "oidcUrls": [],
            "rekorTlogUrls": rekor,
            "tsaUrls": [service(&k.tsa.url(), 1, "2020-01-01T00:00:00Z", None, "test")],
            "rekorTlogConfig": rekor_config,
            "tsaConfig": {"selector": "ANY"},
        });
        k.s.write(name, serde_json::to_vec(&cfg).unwrap());
    };
    let fulcio = json!([service(
        k.fulcio.url(),
        1,
        "2020-01-01T00:00:00Z",
        None,
        "test"
    )]);
    // The v2 log is preferred over the v1 log of the same operator (highest API version).
    write(
        "both.json",
        json!([
            service(k.log.url(), 1, "2020-01-01T00:00:00Z", None, "test"),
            service(k.log.url(), 2, "2020-01-01T00:00:00Z", None, "test"),
        ]),
        json!({"selector": "ANY"}),
        fulcio.clone(),
    );
    sign("both.json").ok();
    assert_eq!(
        k.bundle("b.json")["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"],
        "0.0.2"
    );
    assert_eq!(k.log_size(), 0);
    // An expired log is skipped: the v1 one is used.
    write(
        "expired-v2.json",
        json!([
            service(k.log.url(), 1, "2020-01-01T00:00:00Z", None, "test"),
            service(
                k.log.url(),
                2,
                "2020-01-01T00:00:00Z",
                Some("2021-01-01T00:00:00Z"),
                "test"
            ),
        ]),
        json!({"selector": "ANY"}),
        fulcio.clone(),
    );
    sign("expired-v2.json").ok();
    assert_eq!(
        k.bundle("b.json")["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"],
        "0.0.1"
    );
    assert_eq!(k.log_size(), 1);
    // EXACT:2 with logs of two operators: refused (one entry per signature here), and EXACT:3
    // with two is sigstore-go's error; nothing is asked of Fulcio either way.
    let two_operators = json!([
        service(k.log.url(), 2, "2020-01-01T00:00:00Z", None, "one"),
        service(k.log.url(), 1, "2020-01-01T00:00:00Z", None, "two"),
    ]);
    write(
        "exact2.json",
        two_operators.clone(),
        json!({"selector": "EXACT", "count": 2}),
        fulcio.clone(),
    );
    let submissions = k.ct.submissions().len();
    let run = sign("exact2.json").fails();
    assert!(run.stderr.contains("transparency logs"), "{}", run.stderr);
    write(
        "exact3.json",
        two_operators,
        json!({"selector": "EXACT", "count": 3}),
        fulcio.clone(),
    );
    sign("exact3.json").fails();
    assert_eq!(k.ct.submissions().len(), submissions);
    // No certificate authority valid now: keyless signing cannot start.
    write(
        "no-ca.json",
        json!([service(
            k.log.url(),
            1,
            "2020-01-01T00:00:00Z",
            None,
            "test"
        )]),
        json!({"selector": "ANY"}),
        json!([service(
            k.fulcio.url(),
            1,
            "2020-01-01T00:00:00Z",
            Some("2021-01-01T00:00:00Z"),
            "test"
        )]),
    );
    sign("no-ca.json").fails();
}

#[test]
fn attest_blob_keyless_legacy_outputs_verify() {
    let k = Stack::new();
    k.s.write("pred.json", br#"{"built":"here"}"#);
    k.cmd(
        &["attest-blob", "--yes"],
        k.flags(),
        &[
            "--predicate",
            "pred.json",
            "--new-bundle-format=false",
            "--bundle",
            "att.json",
            "--rfc3161-timestamp",
            "ts.json",
            "artifact.txt",
        ],
    )
    .ok();
    let legacy = k.bundle("att.json");
    assert!(legacy["cert"].is_string() && legacy["rekorBundle"].is_object());
    k.s.run(
        &[
            "verify-blob-attestation",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            k.issuer.url(),
            "--bundle",
            "att.json",
            "--type",
            "custom",
            "artifact.txt",
        ],
        &[],
        None,
    )
    .ok();
}

// --- Hostile services: each lie is caught before anything is stored ---------------------------

/// The service flags with other URLs for Fulcio, the (v1) log and the TSA.
fn flags_via(k: &Stack, fulcio: &str, log: &str, tsa: &str) -> Vec<String> {
    let mut flags = k.flags();
    for (flag, url) in [
        ("--fulcio-url", fulcio),
        ("--rekor-url", log),
        ("--timestamp-server-url", tsa),
    ] {
        let at = flags.iter().position(|f| f == flag).unwrap();
        flags[at + 1] = url.to_owned();
    }
    flags
}

/// Whether `img` has a legacy `.sig` image.
fn has_signature(reg: &Registry, img: &PushedImage) -> bool {
    let tag = format!("{}.sig", img.digest.replace(':', "-"));
    let status = reqwest::blocking::Client::new()
        .get(format!(
            "{}/v2/test/keyless-sign/manifests/{tag}",
            reg.url()
        ))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .status();
    status.is_success()
}

/// Flips the first byte of the SHA-256 imprint of an RFC 3161 request (`04 20` + 32 bytes: the
/// only OCTET STRING of that length in a TimeStampReq), so a real TSA signs other bytes.
fn other_imprint(mut der: Vec<u8>) -> Vec<u8> {
    let at = der
        .windows(2)
        .position(|w| w == [0x04, 0x20])
        .expect("a SHA-256 imprint in the timestamp request");
    der[at + 2] ^= 0x01;
    der
}

/// Damages the first hash of the inclusion proof in a log's answer (Rekor v1: the one entry of
/// the map; Rekor v2: the TransparencyLogEntry).
fn damaged_proof(body: &[u8]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let proof = if v.get("inclusionProof").is_some() {
        &mut v["inclusionProof"]
    } else {
        let entry = v.as_object_mut()?.values_mut().next()?;
        &mut entry["verification"]["inclusionProof"]
    };
    let hash = proof["hashes"].get_mut(0)?;
    let s = hash.as_str()?.to_owned();
    // v1 proofs are hex, v2 proofs base64: change one character either way.
    let flipped = match s.strip_prefix('0') {
        Some(rest) => format!("1{rest}"),
        None => format!("0{}", s.get(1..).unwrap_or_default()),
    };
    *hash = Value::String(flipped);
    serde_json::to_vec(&v).ok()
}

#[test]
fn fulcio_answering_with_another_keys_certificate_fails_before_the_log_and_the_tsa() {
    let k = Stack::new();
    // Fulcio's first certificate, replayed for every later request: a real chain, for the key
    // of the first signing.
    let first = std::sync::Mutex::new(None::<Vec<u8>>);
    let fulcio = test_support::Tamper::responses(k.fulcio.url(), move |ex| {
        if !ex.path.contains("signingCert") {
            return None;
        }
        let mut first = first.lock().unwrap();
        match &*first {
            None => {
                *first = Some(ex.response.clone());
                None
            }
            Some(old) => Some(old.clone()),
        }
    });
    let tsa = test_support::Tamper::responses(k.tsa.base_url(), |_| None);
    let via = |k: &Stack| {
        flags_via(
            k,
            &fulcio.url(),
            k.log.url(),
            &format!("{}/api/v1/timestamp", tsa.url()),
        )
    };
    k.cmd(
        &["sign-blob", "--yes"],
        via(&k),
        &["--bundle", "a.json", "artifact.txt"],
    )
    .ok();
    let (logged, stamped) = (k.log_size(), posts(&tsa));
    assert_eq!((logged, stamped), (1, 1));

    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            via(&k),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(
        run.stderr.contains("checking the certificate"),
        "{}",
        run.stderr
    );
    assert!(!k.s.path("b.json").exists());
    // Neither the log nor the TSA was asked.
    assert_eq!(k.log_size(), logged);
    assert_eq!(posts(&tsa), stamped);
}

#[test]
fn a_timestamp_over_other_bytes_fails_the_signing_and_stores_nothing() {
    let k = Stack::new();
    let tsa =
        test_support::Tamper::start(k.tsa.base_url(), |_, _, body| other_imprint(body), |_| None);
    let tsa_url = format!("{}/api/v1/timestamp", tsa.url());
    let flags = || flags_via(&k, k.fulcio.url(), k.log.url(), &tsa_url);
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(run.stderr.contains("timestamp"), "{}", run.stderr);
    assert!(!k.s.path("b.json").exists());
    assert_eq!(posts(&tsa), 1, "the TSA was asked once");

    let reg = Registry::distribution(RegistryConfig::default());
    let img = image(&reg, "tsa");
    let run = k
        .cmd(&["sign", "--yes"], flags(), &[&img.digest_ref])
        .fails();
    assert!(run.stderr.contains("timestamp"), "{}", run.stderr);
    assert!(!has_signature(&reg, &img));
}

#[test]
fn a_log_answering_with_a_wrong_inclusion_proof_fails_the_signing_and_stores_nothing() {
    let k = Stack::new();
    // A first entry in each log, so the next proof has a hash to damage.
    k.cmd(
        &["sign-blob", "--yes"],
        k.flags(),
        &["--bundle", "first-v1.json", "artifact.txt"],
    )
    .ok();
    k.s.run(
        &[
            "sign-blob",
            "--identity-token",
            &k.issuer.token(),
            "--signing-config",
            "v2.json",
            "--trusted-root",
            "root.json",
            "--bundle",
            "first-v2.json",
            "artifact.txt",
        ],
        &[],
        None,
    )
    .ok();
    let log = test_support::Tamper::responses(k.log.url(), |ex| {
        (ex.method == "POST" && ex.path.contains("/log/entries"))
            .then(|| damaged_proof(&ex.response).expect("a proof with a hash"))
    });
    let reg = Registry::distribution(RegistryConfig::default());

    // Rekor v1, by flags: sign-blob and sign.
    let flags = || flags_via(&k, k.fulcio.url(), &log.url(), &k.tsa.url());
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            flags(),
            &["--bundle", "b.json", "artifact.txt"],
        )
        .fails();
    assert!(run.stderr.contains("inclusion proof"), "{}", run.stderr);
    assert!(!k.s.path("b.json").exists());
    let img = image(&reg, "log-v1");
    let run = k
        .cmd(&["sign", "--yes"], flags(), &[&img.digest_ref])
        .fails();
    assert!(run.stderr.contains("inclusion proof"), "{}", run.stderr);
    assert!(!has_signature(&reg, &img));

    // Rekor v2, from a signing config naming the lying log.
    let mut cfg = k.bundle("v2.json");
    cfg["rekorTlogUrls"][0]["url"] = json!(log.url());
    k.s.write("lying-v2.json", serde_json::to_vec(&cfg).unwrap());
    let run =
        k.s.run(
            &[
                "sign-blob",
                "--identity-token",
                &k.issuer.token(),
                "--signing-config",
                "lying-v2.json",
                "--trusted-root",
                "root.json",
                "--bundle",
                "b.json",
                "artifact.txt",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("inclusion proof"), "{}", run.stderr);
    assert!(!k.s.path("b.json").exists());
    assert!(
        log.exchanges()
            .iter()
            .any(|ex| ex.path.starts_with("/api/v2/")),
        "the v2 log was asked"
    );
}

/// `bundle create` from keyless legacy parts (signature, base64 PEM certificate, RFC 3161
/// timestamp file), and `bundle upgrade` of a v0.1 bundle whose certificate comes as a chain:
/// both verify by identity against the real Fulcio, TSA and log, and match Go cosign's.
#[test]
fn keyless_legacy_parts_become_bundles_that_verify_by_identity() {
    let k = Stack::new();
    let run = k
        .cmd(
            &["sign-blob", "--yes"],
            k.flags(),
            &[
                "--output-certificate",
                "cert.b64",
                "--rfc3161-timestamp",
                "ts.json",
                "artifact.txt",
            ],
        )
        .ok();
    k.s.write("artifact.sig", run.stdout_text().trim());
    let create = |bin: &std::path::Path, out: &str| {
        let status = std::process::Command::new(bin)
            .args([
                "bundle",
                "create",
                "--artifact",
                "artifact.txt",
                "--signature",
                "artifact.sig",
                "--certificate",
                "cert.b64",
                "--rfc3161-timestamp",
                "ts.json",
                "--rekor-url",
                k.log.url(),
                "--out",
                out,
            ])
            .current_dir(k.s.path("."))
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{} bundle create: {}",
            bin.display(),
            String::from_utf8_lossy(&status.stderr)
        );
    };
    create(&test_support::workspace_bin("cosign"), "created.json");
    create(&test_support::cosign_go_bin(), "created-go.json");
    let created = k.bundle("created.json");
    assert_eq!(created, k.bundle("created-go.json"));
    assert!(created["verificationMaterial"]["certificate"]["rawBytes"].is_string());
    assert!(
        created["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"]
            .is_string()
    );
    k.verify_blob(&["--bundle", "created.json"]).ok();

    // A v0.1 bundle as older clients wrote it: the chain, no inclusion proof.
    k.cmd(
        &["sign-blob", "--yes"],
        k.flags(),
        &["--bundle", "new.json", "artifact.txt"],
    )
    .ok();
    let mut old = k.bundle("new.json");
    let vm = old["verificationMaterial"].as_object_mut().unwrap();
    let leaf = vm.remove("certificate").unwrap();
    let root = {
        let root: Value = serde_json::from_slice(&k.s.read("root.json")).unwrap();
        root["certificateAuthorities"][0]["certChain"]["certificates"][0].clone()
    };
    vm.insert(
        "x509CertificateChain".into(),
        json!({"certificates": [leaf, root]}),
    );
    let entry = vm["tlogEntries"][0].as_object_mut().unwrap();
    entry.remove("inclusionProof").unwrap();
    old["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    k.s.write("old.json", serde_json::to_vec(&old).unwrap());
    let run =
        k.s.run(
            &[
                "bundle",
                "upgrade",
                "old.json",
                "--rekor-url",
                k.log.url(),
                "--out",
                "up.json",
            ],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr.contains(&format!(
            "Truncating certificate chain to only the leaf certificate...\n  Certificate 0 Identity: {EMAIL}\n"
        )),
        "{}",
        run.stderr
    );
    let up = k.bundle("up.json");
    assert_eq!(
        up["verificationMaterial"]["certificate"],
        k.bundle("new.json")["verificationMaterial"]["certificate"]
    );
    assert!(up["verificationMaterial"]["tlogEntries"][0]["inclusionProof"].is_object());
    k.verify_blob(&["--bundle", "up.json"]).ok();
}

/// Keyless both ways with Go cosign 3.1.2 against the same real Fulcio, TSA and log: Go's
/// bundles (blob and image) verify by identity with ours, and ours with Go's.
#[test]
fn keyless_signatures_verify_both_ways_with_go_cosign() {
    let k = Stack::new();
    let go = test_support::cosign_go_bin();
    let go_run = |args: &[&str]| {
        let home = k.s.path("go-home");
        std::fs::create_dir_all(&home).unwrap();
        let out = std::process::Command::new(&go)
            .args(args)
            .current_dir(k.s.path("."))
            .env("HOME", &home)
            .env("TUF_ROOT", home.join("tuf"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "Go cosign {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let token = k.issuer.token();
    let tsa = k.tsa.url();
    let go_flags = [
        "--identity-token",
        &token,
        "--fulcio-url",
        k.fulcio.url(),
        "--rekor-url",
        k.log.url(),
        "--timestamp-server-url",
        &tsa,
        "--use-signing-config=false",
        "--trusted-root",
        "root.json",
        "--yes",
    ];
    let mut args = vec!["sign-blob"];
    args.extend(go_flags);
    args.extend(["--bundle", "go.json", "artifact.txt"]);
    go_run(&args);
    k.verify_blob(&["--bundle", "go.json"]).ok();

    k.cmd(
        &["sign-blob", "--yes"],
        k.flags(),
        &["--bundle", "ours.json", "artifact.txt"],
    )
    .ok();
    let issuer = k.issuer.url().to_owned();
    go_run(&[
        "verify-blob",
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        &issuer,
        "--trusted-root",
        "root.json",
        "--bundle",
        "ours.json",
        "artifact.txt",
    ]);

    // Images, in the bundle format Go 3.1.2 writes by default and in ours (legacy .sig).
    let reg = Registry::distribution(RegistryConfig::default());
    let by_go = image(&reg, "go");
    let mut args = vec!["sign"];
    args.extend(go_flags);
    args.push(&by_go.digest_ref);
    go_run(&args);
    let by_ours = image(&reg, "ours");
    k.cmd(&["sign", "--yes"], k.flags(), &[&by_ours.digest_ref])
        .ok();
    let verify = |img: &str| {
        [
            "verify",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            k.issuer.url(),
            "--trusted-root",
            "root.json",
            img,
        ]
        .map(str::to_owned)
    };
    let ours = verify(&by_go.digest_ref);
    k.run(&ours).ok();
    let theirs = verify(&by_ours.digest_ref);
    go_run(&theirs.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The POSTs a proxy passed (the signing's requests; connections are opened ahead with HEADs).
fn posts(proxy: &test_support::Tamper) -> usize {
    proxy
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST")
        .count()
}
