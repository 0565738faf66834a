//! Keyless verification end to end: signatures made with the key of a Fulcio-like certificate
//! (test PKI of `test_support::fulcio`, embedded SCTs from a test CT log) and logged in our
//! `tlog-server`, verified by identity (`--certificate-identity`, `--certificate-oidc-issuer`
//! and their regexps) against a `trusted_root.json` naming the CA, the CT log and the log; then
//! every way such a signature must be refused.
//!
//! Keyless signing (OIDC → Fulcio) is not in this build, so signing is "keyless-style": a key
//! pair, a certificate for its public key from the test CA, and `--certificate` on the signing
//! commands (the certificate is stored beside the signature and logged in the Rekor entry).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use test_support::fulcio::{
    CtLog, FulcioCa, GithubWorkflow, Leaf, LeafSpec, TrustedRootJson, ValidFor, cert_der_from_pem,
};
use test_support::{ImageSpec, PushedImage, Registry, RegistryConfig, TlogServer, push_image};

use crate::common::{Run, Scratch};

const EMAIL: &str = "signer@test.example";
const ISSUER: &str = "https://oidc.test.example";
/// Unix seconds of 2020-01-01T00:00:00Z.
const Y2020: i64 = 1_577_836_800;

const CHECKS_HEADER: &str = "The following checks were performed on each of these signatures:";
const CA_CHECK: &str = "  - The code-signing certificate was verified using trusted certificate authority certificates";
const KEY_CHECK: &str = "  - The signatures were verified against the specified public key";
const CLAIMS_CHECK: &str = "  - The cosign claims were validated";
const OFFLINE_TLOG_CHECK: &str =
    "  - Existence of the claims in the transparency log was verified offline";

/// Go cosign's errors for keyless verification without identity flags.
const NEED_IDENTITY: &str = "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode";
const NEED_ISSUER: &str = "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode";

/// A scratch dir with a key pair (`cosign.key`, password `pw`), a running log, a test CA and
/// CT log, and `root.json` trusting the three.
struct Keyless {
    s: Scratch,
    log: TlogServer,
    ca: FulcioCa,
    ct: CtLog,
    rekor_pub: String,
}

fn id_flags() -> Vec<&'static str> {
    vec![
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
    ]
}

impl Keyless {
    fn new() -> Self {
        let log = TlogServer::start();
        let s = Scratch::new();
        s.keypair("cosign", "pw");
        let rekor_pub = s
            .write("rekor.pub", log.public_key_pem())
            .display()
            .to_string();
        let ca = FulcioCa::new();
        let ct = CtLog::new();
        s.write("ct.pub", ct.public_key_pem());
        s.write("chain.pem", ca.chain_pem());
        s.write("ca-root.pem", ca.root_pem());
        s.write("ca-intermediate.pem", ca.intermediate_pem());
        TrustedRootJson::new()
            .ca(&ca, ValidFor::always())
            .ctlog(&ct, ValidFor::always())
            .tlog_server(&log)
            .write(s.path("root.json"));
        Self {
            s,
            log,
            ca,
            ct,
            rekor_pub,
        }
    }

    fn public_key_pem(&self) -> String {
        String::from_utf8(self.s.read("cosign.pub")).unwrap()
    }

    /// The default leaf spec: [`EMAIL`] from [`ISSUER`], SCT by the trusted CT log.
    fn spec(&self) -> LeafSpec {
        LeafSpec::email(EMAIL, ISSUER, &self.ct)
    }

    /// Issues a leaf for `cosign.pub` from `ca` and writes it to `file`.
    fn issue_by(&self, ca: &FulcioCa, file: &str, spec: &LeafSpec) -> Leaf {
        let leaf = ca.issue(&self.public_key_pem(), spec);
        leaf.write(self.s.path(file));
        leaf
    }

    fn issue(&self, file: &str, spec: &LeafSpec) -> Leaf {
        self.issue_by(&self.ca, file, spec)
    }

    /// `cosign <cmd> --key cosign.key --certificate <cert> --rekor-url <log> <extra> <target>`.
    fn sign(&self, cmd: &str, cert: &str, extra: &[&str], target: &str) -> Run {
        let mut args = vec![
            cmd,
            "--key",
            "cosign.key",
            "--certificate",
            cert,
            "--rekor-url",
            self.log.url(),
        ];
        args.extend_from_slice(extra);
        args.push(target);
        self.s.run(
            &args,
            &[
                ("COSIGN_PASSWORD", "pw"),
                ("SIGSTORE_REKOR_PUBLIC_KEY", &self.rekor_pub),
            ],
            None,
        )
    }

    /// `cosign <cmd> --trusted-root root.json <flags> <target>`, no other trust.
    fn verify(&self, cmd: &str, flags: &[&str], target: &str) -> Run {
        let mut args = vec![cmd, "--trusted-root", "root.json"];
        args.extend_from_slice(flags);
        args.push(target);
        self.s.run(&args, &[], None)
    }

    /// [`Self::verify`] with the default identity flags and `extra`.
    fn verify_id(&self, cmd: &str, extra: &[&str], target: &str) -> Run {
        let mut flags = id_flags();
        flags.extend_from_slice(extra);
        self.verify(cmd, &flags, target)
    }

    /// `cosign <cmd> <flags> <target>` with the legacy trust environment (no trusted root):
    /// `SIGSTORE_REKOR_PUBLIC_KEY` and `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, plus `env`.
    fn verify_legacy(&self, cmd: &str, flags: &[&str], env: &[(&str, &str)], target: &str) -> Run {
        let ct = self.s.path("ct.pub").display().to_string();
        let mut all = vec![
            ("SIGSTORE_REKOR_PUBLIC_KEY", self.rekor_pub.as_str()),
            ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", ct.as_str()),
        ];
        all.extend_from_slice(env);
        let mut args = vec![cmd];
        args.extend_from_slice(flags);
        args.push(target);
        self.s.run(&args, &all, None)
    }
}

/// Asserts failure with every one of `needles` in stderr.
#[track_caller]
fn fails_with(run: Run, needles: &[&str]) -> Run {
    let run = run.fails();
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "stderr does not name {n:?}:\n{}",
            run.stderr
        );
    }
    run
}

/// Asserts failure with at least one of `needles` in stderr.
#[track_caller]
fn fails_with_any(run: Run, needles: &[&str]) -> Run {
    let run = run.fails();
    assert!(
        needles.iter().any(|n| run.stderr.contains(n)),
        "stderr names none of {needles:?}:\n{}",
        run.stderr
    );
    run
}

fn image(reg: &Registry, seed: &str) -> PushedImage {
    push_image(
        reg,
        &format!("test/keyless:{seed}"),
        &ImageSpec {
            seed: seed.to_owned(),
            ..ImageSpec::default()
        },
    )
}

/// The annotations of the first layer of the legacy `.sig` image of `img`.
fn sig_annotations(reg: &Registry, img: &PushedImage) -> Value {
    let tag = format!("{}.sig", img.digest.replace(':', "-"));
    let body = reqwest::blocking::Client::new()
        .get(format!("{}/v2/test/keyless/manifests/{tag}", reg.url()))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let m: Value = serde_json::from_slice(&body).unwrap();
    m["layers"][0]["annotations"].clone()
}

/// The JSON verify printed.
fn verified(run: &Run) -> Vec<Value> {
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("verify output is not JSON ({e}): {}", run.stdout_text()))
}

#[track_caller]
fn assert_keyless_header(run: &Run) {
    for line in [CHECKS_HEADER, CA_CHECK] {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains(KEY_CHECK), "{}", run.stderr);
}

#[test]
fn an_image_signed_with_a_certificate_verifies_by_identity() {
    let k = Keyless::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let img = image(&reg, "legacy");
    let leaf = k.issue("leaf.pem", &k.spec());
    k.sign(
        "sign",
        "leaf.pem",
        &["--certificate-chain", "chain.pem"],
        &img.digest_ref,
    )
    .ok();

    // The certificate, chain and bundle annotations; the log entry names the certificate.
    let ann = sig_annotations(&reg, &img);
    let cert = ann["dev.sigstore.cosign/certificate"].as_str().unwrap();
    assert_eq!(cert_der_from_pem(cert), leaf.der);
    assert_eq!(
        ann["dev.sigstore.cosign/chain"].as_str().unwrap(),
        std::fs::read_to_string(k.s.path("chain.pem")).unwrap(),
        "{ann}"
    );
    let bundle: Value =
        serde_json::from_str(ann["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
    let body: Value = serde_json::from_slice(
        &STANDARD
            .decode(bundle["Payload"]["body"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let logged = STANDARD
        .decode(
            body["spec"]["signature"]["publicKey"]["content"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        cert_der_from_pem(std::str::from_utf8(&logged).unwrap()),
        leaf.der
    );

    // Exact identity and issuer.
    let run = k.verify_id("verify", &[], &img.digest_ref).ok();
    assert_keyless_header(&run);
    for line in [
        format!("Verification for {} --", img.digest_ref),
        CLAIMS_CHECK.to_owned(),
        OFFLINE_TLOG_CHECK.to_owned(),
    ] {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            run.stderr
        );
    }
    let out = verified(&run);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0]["critical"]["image"]["docker-manifest-digest"],
        img.digest.as_str()
    );
    assert_eq!(out[0]["optional"]["Subject"], EMAIL);
    assert_eq!(out[0]["optional"]["Issuer"], ISSUER);
    assert_eq!(out[0]["optional"]["1.3.6.1.4.1.57264.1.1"], ISSUER);

    // Regexps, and mixed.
    let run = k
        .verify(
            "verify",
            &[
                "--certificate-identity-regexp",
                r"^signer@test\.example$",
                "--certificate-oidc-issuer-regexp",
                r"oidc\.test",
            ],
            &img.digest_ref,
        )
        .ok();
    assert_keyless_header(&run);
    k.verify(
        "verify",
        &[
            "--certificate-identity-regexp",
            "signer@",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &img.digest_ref,
    )
    .ok();

    // -o text prints the certificate's subject and issuer.
    let run = k.verify_id("verify", &["-o", "text"], &img.digest_ref).ok();
    assert!(
        run.stderr
            .contains(&format!("Certificate subject: {EMAIL}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("Certificate issuer URL: {ISSUER}")),
        "{}",
        run.stderr
    );

    // The same with the log stopped: everything is in the signature's bundle.
    let mut k = k;
    k.log.stop();
    k.verify_id("verify", &["--offline"], &img.digest_ref).ok();
}

#[test]
fn an_image_bundle_referrer_with_a_certificate_verifies_by_identity() {
    let k = Keyless::new();
    let reg = Registry::ferro();
    let img = image(&reg, "bundle");
    let leaf = k.issue("leaf.pem", &k.spec());
    k.sign(
        "sign",
        "leaf.pem",
        &["--new-bundle-format"],
        &img.digest_ref,
    )
    .ok();
    let run =
        k.s.run(&["download", "signature", &img.digest_ref], &[], None)
            .ok();
    let b: Value = serde_json::from_str(run.stdout_text().trim()).unwrap();
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        b["verificationMaterial"]["certificate"]["rawBytes"],
        STANDARD.encode(&leaf.der)
    );
    assert!(b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"].is_object());

    let run = k.verify_id("verify", &[], &img.digest_ref).ok();
    assert_keyless_header(&run);
    let out = verified(&run);
    assert_eq!(out[0]["optional"]["Subject"], EMAIL);
    assert_eq!(out[0]["optional"]["Issuer"], ISSUER);
    k.verify(
        "verify",
        &[
            "--certificate-identity-regexp",
            "^signer@",
            "--certificate-oidc-issuer-regexp",
            "^https://oidc",
        ],
        &img.digest_ref,
    )
    .ok();

    // sigstore-go's identity checks for Sigstore bundles.
    fails_with(
        k.verify(
            "verify",
            &[
                "--certificate-identity",
                "other@test.example",
                "--certificate-oidc-issuer",
                ISSUER,
            ],
            &img.digest_ref,
        ),
        &["expected SAN value"],
    );
    fails_with(
        k.verify(
            "verify",
            &[
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer-regexp",
                "^https://elsewhere",
            ],
            &img.digest_ref,
        ),
        &["expected issuer value"],
    );
}

#[test]
fn blob_bundles_with_a_certificate_verify_by_identity() {
    let k = Keyless::new();
    k.s.write("blob", "release artifact\n");
    let leaf = k.issue("leaf.pem", &k.spec());
    k.sign(
        "sign-blob",
        "leaf.pem",
        &["--new-bundle-format=false", "--bundle", "legacy.json"],
        "blob",
    )
    .ok();
    k.sign(
        "sign-blob",
        "leaf.pem",
        &["--new-bundle-format", "--bundle", "new.json"],
        "blob",
    )
    .ok();
    let legacy: Value = serde_json::from_slice(&k.s.read("legacy.json")).unwrap();
    let cert_pem = STANDARD.decode(legacy["cert"].as_str().unwrap()).unwrap();
    assert_eq!(
        cert_der_from_pem(std::str::from_utf8(&cert_pem).unwrap()),
        leaf.der
    );
    let new: Value = serde_json::from_slice(&k.s.read("new.json")).unwrap();
    assert_eq!(
        new["verificationMaterial"]["certificate"]["rawBytes"],
        STANDARD.encode(&leaf.der)
    );

    for bundle in ["legacy.json", "new.json"] {
        let run = k
            .verify_id("verify-blob", &["--bundle", bundle], "blob")
            .ok();
        assert!(
            run.stderr.contains("Verified OK"),
            "{bundle}: {}",
            run.stderr
        );
        k.verify(
            "verify-blob",
            &[
                "--bundle",
                bundle,
                "--certificate-identity-regexp",
                "test\\.example$",
                "--certificate-oidc-issuer-regexp",
                "^https://oidc\\.test\\.example$",
            ],
            "blob",
        )
        .ok();
        // Another blob does not verify.
        k.s.write("other", "another artifact\n");
        k.verify_id("verify-blob", &["--bundle", bundle], "other")
            .fails();
    }

    // Identity mismatches: cosign's wording for the legacy bundle, sigstore-go's for the
    // Sigstore bundle.
    let other_id = [
        "--certificate-identity",
        "other@test.example",
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let mut flags = vec!["--bundle", "legacy.json"];
    flags.extend_from_slice(&other_id);
    fails_with(
        k.verify("verify-blob", &flags, "blob"),
        &["none of the expected identities matched", EMAIL],
    );
    let mut flags = vec!["--bundle", "new.json"];
    flags.extend_from_slice(&other_id);
    fails_with(
        k.verify("verify-blob", &flags, "blob"),
        &["expected SAN value"],
    );
    fails_with(
        k.verify(
            "verify-blob",
            &[
                "--bundle",
                "new.json",
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                "https://elsewhere.example",
            ],
            "blob",
        ),
        &["expected issuer value"],
    );
    fails_with(
        k.verify(
            "verify-blob",
            &[
                "--bundle",
                "new.json",
                "--certificate-identity-regexp",
                "^other@",
                "--certificate-oidc-issuer",
                ISSUER,
            ],
            "blob",
        ),
        &["expected SAN value to match regex"],
    );

    // Flags: keyless needs both identity and issuer; --key and an identity exclude each other.
    fails_with(
        k.verify(
            "verify-blob",
            &["--bundle", "new.json", "--certificate-oidc-issuer", ISSUER],
            "blob",
        ),
        &[NEED_IDENTITY],
    );
    fails_with(
        k.verify(
            "verify-blob",
            &["--bundle", "new.json", "--certificate-identity", EMAIL],
            "blob",
        ),
        &[NEED_ISSUER],
    );
    let mut flags = vec!["--bundle", "new.json", "--key", "cosign.pub"];
    flags.extend(id_flags());
    fails_with(k.verify("verify-blob", &flags, "blob"), &["exactly one of"]);
}

#[test]
fn blob_attestations_with_a_certificate_verify_by_identity() {
    let k = Keyless::new();
    k.s.write("blob", "release artifact\n");
    k.s.write("predicate.json", r#"{"builder":"test"}"#);
    k.issue("leaf.pem", &k.spec());
    let predicate = ["--predicate", "predicate.json", "--type", "custom"];
    let mut legacy = predicate.to_vec();
    legacy.extend_from_slice(&["--bundle", "att-legacy.json"]);
    k.sign("attest-blob", "leaf.pem", &legacy, "blob").ok();
    let mut new = predicate.to_vec();
    new.extend_from_slice(&["--new-bundle-format", "--bundle", "att-new.json"]);
    k.sign("attest-blob", "leaf.pem", &new, "blob").ok();

    for bundle in ["att-legacy.json", "att-new.json"] {
        let run = k
            .verify_id(
                "verify-blob-attestation",
                &["--bundle", bundle, "--type", "custom"],
                "blob",
            )
            .ok();
        assert!(
            run.stderr.contains("Verified OK"),
            "{bundle}: {}",
            run.stderr
        );
        let run = k
            .verify(
                "verify-blob-attestation",
                &[
                    "--bundle",
                    bundle,
                    "--type",
                    "custom",
                    "--certificate-identity",
                    "other@test.example",
                    "--certificate-oidc-issuer",
                    ISSUER,
                ],
                "blob",
            )
            .fails();
        assert!(
            run.stderr
                .contains("none of the expected identities matched")
                || run.stderr.contains("expected SAN value"),
            "{bundle}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_image_attestation_with_a_certificate_verifies_by_identity() {
    let k = Keyless::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let img = image(&reg, "attest");
    k.s.write("predicate.json", r#"{"builder":"test"}"#);
    k.issue("leaf.pem", &k.spec());
    k.sign(
        "attest",
        "leaf.pem",
        &["--predicate", "predicate.json", "--type", "custom"],
        &img.digest_ref,
    )
    .ok();
    let run = k
        .verify_id("verify-attestation", &["--type", "custom"], &img.digest_ref)
        .ok();
    assert_keyless_header(&run);
    let out: Value = serde_json::from_str(run.stdout_text().lines().next().unwrap()).unwrap();
    let statement: Value =
        serde_json::from_slice(&STANDARD.decode(out["payload"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://cosign.sigstore.dev/attestation/v1"
    );
    assert_eq!(statement["predicate"]["Data"], r#"{"builder":"test"}"#);
    fails_with(
        k.verify(
            "verify-attestation",
            &[
                "--type",
                "custom",
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                "https://elsewhere.example",
            ],
            &img.digest_ref,
        ),
        &["none of the expected identities matched"],
    );
    fails_with(
        k.verify("verify-attestation", &["--type", "custom"], &img.digest_ref),
        &[NEED_IDENTITY],
    );
}

/// Every way a keyless image signature must be refused, each on its own image (a verify
/// passes when any signature verifies).
#[test]
fn hostile_certificates_and_identities_are_refused() {
    let k = Keyless::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let signed = |seed: &str, leaf_file: &str| {
        let img = image(&reg, seed);
        k.sign("sign", leaf_file, &[], &img.digest_ref).ok();
        img
    };

    // Control: the good one verifies.
    k.issue("good.pem", &k.spec());
    let good = signed("good", "good.pem");
    k.verify_id("verify", &[], &good.digest_ref).ok();
    // ... also without the log (checked at the current time, inside the validity window).
    k.verify_id("verify", &["--insecure-ignore-tlog"], &good.digest_ref)
        .ok();

    // A CA the trusted root does not name.
    let rogue = FulcioCa::named("rogue");
    k.issue_by(&rogue, "rogue.pem", &k.spec());
    let img = signed("rogue", "rogue.pem");
    fails_with(
        k.verify_id("verify", &[], &img.digest_ref),
        &["unknown authority"],
    );

    // Expired when it was logged: valid for ten minutes in 2020.
    k.issue("expired.pem", &k.spec().valid(Y2020, Y2020 + 600));
    let img = signed("expired", "expired.pem");
    fails_with_any(
        k.verify_id("verify", &[], &img.digest_ref),
        &["expired", "not valid at"],
    );
    // Without the log, the certificate is checked at the current time: still expired.
    fails_with_any(
        k.verify_id("verify", &["--insecure-ignore-tlog"], &img.digest_ref),
        &["expired", "not valid at"],
    );

    // An SCT from a log the trusted root does not name.
    let stranger = CtLog::new();
    k.issue("unknown-ct.pem", &k.spec().sct_by(&stranger));
    let img = signed("unknown-ct", "unknown-ct.pem");
    fails_with(
        k.verify_id("verify", &[], &img.digest_ref),
        &["SCT", "threshold"],
    );

    // An SCT of another certificate (a valid log signature over another TBS).
    let donor = k.ca.issue(
        &k.public_key_pem(),
        &LeafSpec::email("donor@test.example", ISSUER, &k.ct),
    );
    k.issue("copied-sct.pem", &k.spec().sct_copied_from(&donor));
    let img = signed("copied-sct", "copied-sct.pem");
    fails_with(
        k.verify_id("verify", &[], &img.digest_ref),
        &["SCT", "threshold"],
    );

    // No SCT: refused, unless --insecure-ignore-sct.
    k.issue("no-sct.pem", &k.spec().without_sct());
    let img = signed("no-sct", "no-sct.pem");
    fails_with(
        k.verify_id("verify", &[], &img.digest_ref),
        &["certificate does not include required embedded SCT"],
    );
    k.verify_id("verify", &["--insecure-ignore-sct"], &img.digest_ref)
        .ok();

    // Identity and issuer mismatches, exact and regexp (cosign's wording for signatures
    // without a Sigstore bundle, naming what the certificate holds).
    let mismatch = ["none of the expected identities matched", EMAIL];
    for flags in [
        [
            "--certificate-identity",
            "other@test.example",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        [
            "--certificate-identity-regexp",
            "^other@",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        // Unanchored regexps match anywhere, so this one must not match "signer@test.example".
        [
            "--certificate-identity-regexp",
            "^test\\.example",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        [
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            "https://elsewhere.example",
        ],
        [
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer-regexp",
            "^https://elsewhere",
        ],
        // The exact issuer must be equal, not a prefix.
        [
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            "https://oidc.test",
        ],
    ] {
        fails_with(k.verify("verify", &flags, &good.digest_ref), &mismatch);
    }

    // GitHub workflow claims.
    let workflow = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main";
    k.issue(
        "github.pem",
        &LeafSpec::uri(
            workflow,
            "https://token.actions.githubusercontent.com",
            &k.ct,
        )
        .github(GithubWorkflow {
            trigger: "push".into(),
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            name: "release".into(),
            repository: "org/repo".into(),
            git_ref: "refs/heads/main".into(),
        }),
    );
    let img = signed("github", "github.pem");
    let gh = |extra: &[&str]| {
        let mut flags = vec![
            "--certificate-identity",
            workflow,
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
        ];
        flags.extend_from_slice(extra);
        k.verify("verify", &flags, &img.digest_ref)
    };
    let run = gh(&[
        "--certificate-github-workflow-repository",
        "org/repo",
        "--certificate-github-workflow-trigger",
        "push",
        "--certificate-github-workflow-ref",
        "refs/heads/main",
    ])
    .ok();
    let out = verified(&run);
    assert_eq!(out[0]["optional"]["Subject"], workflow);
    assert_eq!(out[0]["optional"]["githubWorkflowRepository"], "org/repo");
    assert_eq!(out[0]["optional"]["1.3.6.1.4.1.57264.1.5"], "org/repo");
    fails_with(
        gh(&["--certificate-github-workflow-repository", "org/other"]),
        &["GitHub Workflow Repository"],
    );
    fails_with(
        gh(&["--certificate-github-workflow-trigger", "pull_request"]),
        &["GitHub Workflow Trigger"],
    );

    // Flags: keyless needs identity and issuer; --key excludes an identity.
    fails_with(k.verify("verify", &[], &good.digest_ref), &[NEED_IDENTITY]);
    fails_with(
        k.verify(
            "verify",
            &["--certificate-identity", EMAIL],
            &good.digest_ref,
        ),
        &[NEED_ISSUER],
    );
    fails_with(
        k.verify(
            "verify",
            &["--certificate-oidc-issuer", ISSUER],
            &good.digest_ref,
        ),
        &[NEED_IDENTITY],
    );
    let mut flags = vec!["--key", "cosign.pub"];
    flags.extend(id_flags());
    fails_with(
        k.verify("verify", &flags, &good.digest_ref),
        &["exactly one of"],
    );
    // The key itself still verifies the same signature (the certificate is ignored).
    let run = k
        .verify("verify", &["--key", "cosign.pub"], &good.digest_ref)
        .ok();
    assert!(run.stderr.contains(KEY_CHECK), "{}", run.stderr);
}

/// Without a trusted root: the CA from `SIGSTORE_ROOT_FILE`, `--ca-roots`/`--ca-intermediates`
/// or `--certificate-chain`, the CT log key from `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, the log key
/// from `SIGSTORE_REKOR_PUBLIC_KEY`; and a detached SCT (`--sct`) for a certificate without an
/// embedded one.
#[test]
fn legacy_trust_material_and_a_detached_sct() {
    let k = Keyless::new();
    let reg = Registry::distribution(RegistryConfig::default());
    let img = image(&reg, "legacy-trust");
    k.issue("leaf.pem", &k.spec());
    k.sign("sign", "leaf.pem", &[], &img.digest_ref).ok();
    let chain = k.s.path("chain.pem").display().to_string();
    let run = k
        .verify_legacy(
            "verify",
            &id_flags(),
            &[("SIGSTORE_ROOT_FILE", &chain)],
            &img.digest_ref,
        )
        .ok();
    assert_keyless_header(&run);
    let mut flags = id_flags();
    flags.extend_from_slice(&[
        "--ca-roots",
        "ca-root.pem",
        "--ca-intermediates",
        "ca-intermediate.pem",
    ]);
    k.verify_legacy("verify", &flags, &[], &img.digest_ref).ok();
    // Another CA's root refuses it.
    let rogue = FulcioCa::named("rogue");
    k.s.write("rogue-root.pem", rogue.root_pem());
    let mut flags = id_flags();
    flags.extend_from_slice(&["--ca-roots", "rogue-root.pem"]);
    fails_with(
        k.verify_legacy("verify", &flags, &[], &img.digest_ref),
        &["unknown authority"],
    );

    // A blob whose certificate has no embedded SCT, with a detached one.
    k.s.write("blob", "release artifact\n");
    let spec = k.spec().without_sct();
    let leaf = k.issue("no-sct.pem", &spec);
    k.sign("sign-blob", "no-sct.pem", &["--bundle", "b.json"], "blob")
        .ok();
    let time_ms = u64::try_from(spec.not_before).unwrap() * 1000;
    k.s.write("sct.json", k.ct.detached_sct(&leaf.pem, time_ms));
    let stranger = CtLog::new();
    k.s.write(
        "stranger-sct.json",
        stranger.detached_sct(&leaf.pem, time_ms),
    );
    let with = |sct: &str| {
        let mut flags = id_flags();
        flags.extend_from_slice(&[
            "--bundle",
            "b.json",
            "--certificate",
            "no-sct.pem",
            "--certificate-chain",
            "chain.pem",
            "--sct",
            sct,
        ]);
        k.verify_legacy("verify-blob", &flags, &[], "blob")
    };
    let run = with("sct.json").ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    fails_with(with("stranger-sct.json"), &["SCT"]);
    // Without it, the missing SCT is named.
    let mut flags = id_flags();
    flags.extend_from_slice(&[
        "--bundle",
        "b.json",
        "--certificate",
        "no-sct.pem",
        "--certificate-chain",
        "chain.pem",
    ]);
    fails_with(
        k.verify_legacy("verify-blob", &flags, &[], "blob"),
        &["certificate does not include required embedded SCT"],
    );
}

/// Tampered Sigstore bundles of a keyless blob signature: the inclusion proof removed, and the
/// checkpoint replaced by one of another log (another origin and key).
#[test]
fn tampered_tlog_proofs_in_a_keyless_bundle_are_refused() {
    let k = Keyless::new();
    k.s.write("blob", "release artifact\n");
    k.issue("leaf.pem", &k.spec());
    k.sign(
        "sign-blob",
        "leaf.pem",
        &["--new-bundle-format", "--bundle", "new.json"],
        "blob",
    )
    .ok();
    k.verify_id("verify-blob", &["--bundle", "new.json"], "blob")
        .ok();
    let bundle: Value = serde_json::from_slice(&k.s.read("new.json")).unwrap();

    // No inclusion proof (bundles v0.2 and later must carry one).
    let mut b = bundle.clone();
    b["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionProof");
    k.s.write("no-proof.json", serde_json::to_vec(&b).unwrap());
    fails_with(
        k.verify_id("verify-blob", &["--bundle", "no-proof.json"], "blob"),
        &["inclusion proof"],
    );

    // The checkpoint of another log.
    let other = TlogServer::start();
    let s2 = Scratch::new();
    s2.keypair("cosign", "pw");
    s2.write("blob", "another artifact\n");
    s2.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            other.url(),
            "--new-bundle-format",
            "--bundle",
            "other.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let theirs: Value = serde_json::from_slice(&s2.read("other.json")).unwrap();
    let foreign = theirs["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .clone();
    let ours = &bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
    assert_ne!(
        foreign.as_str().unwrap().lines().next(),
        ours.as_str().unwrap().lines().next(),
        "the two logs have different origins"
    );
    let mut b = bundle.clone();
    b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
        foreign;
    k.s.write("foreign-checkpoint.json", serde_json::to_vec(&b).unwrap());
    fails_with(
        k.verify_id(
            "verify-blob",
            &["--bundle", "foreign-checkpoint.json"],
            "blob",
        ),
        &["checkpoint"],
    );
}
