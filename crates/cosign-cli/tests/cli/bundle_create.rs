//! `cosign bundle create` against our `tlog-server`: the parts older cosign releases leave
//! behind (a signature file, a public key, a legacy bundle, an attestation) become a Sigstore
//! bundle v0.3 whose log entry is looked up in the log, and that bundle verifies offline; Go
//! cosign 3.1.2's bundle of the same parts verifies with ours and ours with Go's; a log that
//! answers with another signature's entry fails the command with nothing written.
//! `cosign bundle upgrade`: a v0.1 bundle (no inclusion proof) made v0.3 with the proof from the
//! log, as Go does it; a log answering with another entry is refused.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use test_support::TlogServer;

use crate::common::{Run, Scratch};

/// A scratch dir with a key pair, the log's key in `rekor.pub`, a blob signed with the key
/// (logged): `sig.txt` (base64) and the legacy bundle `legacy.json`.
fn signed(log: &TlogServer) -> Scratch {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("rekor.pub", log.public_key_pem());
    s.write("blob", "a release artifact\n");
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format=false",
            "--bundle",
            "legacy.json",
            "--output-signature",
            "sig.txt",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    s
}

fn trust(s: &Scratch) -> [(&'static str, String); 1] {
    [(
        "SIGSTORE_REKOR_PUBLIC_KEY",
        s.path("rekor.pub").display().to_string(),
    )]
}

fn run_with_trust(s: &Scratch, args: &[&str]) -> Run {
    let env = trust(s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.run(args, &env, None)
}

fn json(s: &Scratch, name: &str) -> Value {
    serde_json::from_slice(&s.read(name)).unwrap()
}

#[test]
fn a_signature_and_key_become_a_bundle_that_verifies_offline() {
    let mut log = TlogServer::start();
    let s = signed(&log);
    let run = s
        .run(
            &[
                "bundle",
                "create",
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--key",
                "cosign.pub",
                "--rekor-url",
                log.url(),
                "--out",
                "new.sigstore.json",
            ],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr.contains("Flag --rekor-url has been deprecated, please use a signing config to specify a rekor url; see `cosign signing-config --help`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, b"", "--out writes nothing to stdout");
    let b = json(&s, "new.sigstore.json");
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
    );
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert!(b["verificationMaterial"]["publicKey"]["hint"].is_string());
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
    let sig = String::from_utf8(s.read("sig.txt")).unwrap();
    assert_eq!(b["messageSignature"]["signature"], sig.trim());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("new.sigstore.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    log.stop();
    let run = run_with_trust(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "new.sigstore.json",
            "--offline",
            "blob",
        ],
    )
    .ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    // The bundle is bound to the blob.
    s.write("other", "another artifact\n");
    run_with_trust(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "new.sigstore.json",
            "--offline",
            "other",
        ],
    )
    .fails();
}

#[test]
fn a_legacy_bundle_becomes_a_bundle_printed_to_stdout() {
    let log = TlogServer::start();
    let s = signed(&log);
    // The legacy bundle of a key signature names the key in `cert`; no --key needed.
    let run = s
        .run(
            &[
                "bundle",
                "create",
                "--artifact",
                "blob",
                "--bundle",
                "legacy.json",
                "--rekor-url",
                log.url(),
            ],
            &[],
            None,
        )
        .ok();
    assert!(run.stdout.ends_with(b"\n"));
    s.write("printed.json", &run.stdout);
    let b = json(&s, "printed.json");
    // Index 0, which protojson leaves out as the default.
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert!(entry["inclusionProof"].is_object(), "{b}");
    assert!(entry.get("logIndex").is_none(), "{b}");
    run_with_trust(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "printed.json",
            "blob",
        ],
    )
    .ok();
}

#[test]
fn an_attestation_legacy_bundle_becomes_a_dsse_bundle() {
    let log = TlogServer::start();
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("rekor.pub", log.public_key_pem());
    s.write("blob", "a release artifact\n");
    s.write("predicate.json", r#"{"release":"v1.0.0"}"#);
    s.run(
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--predicate",
            "predicate.json",
            "--type",
            "https://example.com/release/v1",
            "--new-bundle-format=false",
            "--bundle",
            "att-legacy.json",
            "--output-attestation",
            "att.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    s.run(
        &[
            "bundle",
            "create",
            "--artifact",
            "blob",
            "--bundle",
            "att-legacy.json",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--out",
            "att.sigstore.json",
        ],
        &[],
        None,
    )
    .ok();
    let b = json(&s, "att.sigstore.json");
    assert_eq!(
        b["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    let kind = &b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"];
    assert!(kind == "dsse" || kind == "intoto", "{kind}");
    run_with_trust(
        &s,
        &[
            "verify-blob-attestation",
            "--key",
            "cosign.pub",
            "--type",
            "https://example.com/release/v1",
            "--bundle",
            "att.sigstore.json",
            "blob",
        ],
    )
    .ok();
}

#[test]
fn ignore_tlog_leaves_the_log_out_and_refuses_a_legacy_bundle_with_a_set() {
    let log = TlogServer::start();
    let s = signed(&log);
    let run = s
        .run(
            &[
                "bundle",
                "create",
                "--artifact",
                "blob",
                "--bundle",
                "legacy.json",
                "--ignore-tlog",
                "--out",
                "x.json",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("cannot ignore transparency log when the provided bundle contains a Signed Entry Timestamp"),
        "{}",
        run.stderr
    );
    assert!(!s.path("x.json").exists());

    s.run(
        &[
            "bundle",
            "create",
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "cosign.pub",
            "--ignore-tlog",
            "--out",
            "notlog.json",
        ],
        &[],
        None,
    )
    .ok();
    let b = json(&s, "notlog.json");
    assert!(
        b["verificationMaterial"].get("tlogEntries").is_none(),
        "{b}"
    );
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "notlog.json",
            "--insecure-ignore-tlog",
            "blob",
        ],
        &[],
        None,
    )
    .ok();
}

#[test]
fn bad_flags_fail_as_go_cosign_does_and_write_nothing() {
    let log = TlogServer::start();
    let s = signed(&log);
    let cases: [(&[&str], &str); 4] = [
        (&["--signature", "sig.txt"], "must supply --artifact"),
        (
            &["--artifact", "blob"],
            "must at least supply signature via --bundle or --signature",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--bundle",
                "legacy.json",
                "--signature",
                "sig.txt",
            ],
            "if any flags in the group [bundle signature] are set none of the others can be; [bundle signature] were all set",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--rekor-url",
                log.url(),
            ],
            "no certificate and no public key",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["bundle", "create", "--out", "out.json"];
        args.extend_from_slice(flags);
        let run = s.run(&args, &[], None).fails();
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(!s.path("out.json").exists(), "{args:?}");
    }
}

#[test]
fn a_log_answering_with_another_signatures_entry_fails_and_writes_nothing() {
    let log = TlogServer::start();
    let s = signed(&log);
    // A second signature, logged too.
    s.write("blob2", "another release artifact\n");
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--output-signature",
            "sig2.txt",
            "blob2",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    // The proxy answers every search with the answer to the first one.
    let first: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let liar = test_support::Tamper::responses(log.url(), move |ex| {
        if !ex.path.contains("/log/entries/retrieve") {
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
    let create = |blob: &str, sig: &str, out: &str| {
        s.run(
            &[
                "bundle",
                "create",
                "--artifact",
                blob,
                "--signature",
                sig,
                "--key",
                "cosign.pub",
                "--rekor-url",
                &liar.url(),
                "--out",
                out,
            ],
            &[],
            None,
        )
    };
    create("blob", "sig.txt", "one.json").ok();
    let run = create("blob2", "sig2.txt", "two.json").fails();
    assert!(
        run.stderr.contains("unable to find tlog entry"),
        "{}",
        run.stderr
    );
    assert!(!s.path("two.json").exists());
    assert_eq!(liar.exchanges().len(), 2);
}

/// Go cosign 3.1.2 builds a bundle from the same parts; each binary verifies the other's.
#[test]
fn go_cosign_and_ours_verify_each_others_created_bundles() {
    let go = test_support::cosign_go_bin();
    let log = TlogServer::start();
    let s = signed(&log);
    let parts = |out: &str| -> Vec<String> {
        [
            "bundle",
            "create",
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--out",
            out,
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect()
    };
    let ours = parts("ours.json");
    s.run(
        &ours.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        None,
    )
    .ok();
    let out = std::process::Command::new(&go)
        .args(parts("go.json"))
        .current_dir(s.path("."))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Go cosign bundle create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Same bundle, field for field (Go's protojson spacing aside).
    assert_eq!(json(&s, "ours.json"), json(&s, "go.json"));

    for bundle in ["ours.json", "go.json"] {
        run_with_trust(
            &s,
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "blob",
            ],
        )
        .ok();
        s.write("rekor_root.json", log.trusted_root_json());
        let out = std::process::Command::new(&go)
            .args([
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--trusted-root",
                "rekor_root.json",
                "blob",
            ])
            .current_dir(s.path("."))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "Go cosign verify-blob {bundle}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A v0.3 bundle of `blob` (`new.json`), and `old.json`: the same made v0.1 the way older
/// clients wrote it (no inclusion proof, only the signed entry timestamp).
fn old_bundle(log: &TlogServer, s: &Scratch) {
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--bundle",
            "new.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let mut b = json(s, "new.json");
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    let entry = b["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap();
    assert!(entry.remove("inclusionProof").is_some());
    assert!(entry.contains_key("inclusionPromise"));
    s.write("old.json", serde_json::to_vec(&b).unwrap());
}

#[test]
fn upgrade_fetches_the_missing_inclusion_proof() {
    let mut log = TlogServer::start();
    let s = signed(&log);
    old_bundle(&log, &s);
    let run = s
        .run(
            &[
                "bundle",
                "upgrade",
                "old.json",
                "--rekor-url",
                log.url(),
                "--out",
                "up.json",
            ],
            &[],
            None,
        )
        .ok();
    for line in [
        "Upgrading from v0.1 to v0.3...",
        "Fetching missing inclusion proof from Rekor for log index 1...",
        "Successfully upgraded bundle written to up.json",
    ] {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    let up = json(&s, "up.json");
    assert_eq!(
        up["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let entry = &up["verificationMaterial"]["tlogEntries"][0];
    assert!(
        entry["inclusionProof"]["checkpoint"]["envelope"].is_string(),
        "{up}"
    );
    assert_eq!(
        entry["canonicalizedBody"],
        json(&s, "new.json")["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
    );

    // Already v0.3: printed as it is.
    let run = s
        .run(
            &["bundle", "upgrade", "up.json", "--rekor-url", log.url()],
            &[],
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains("Bundle is already at v0.3, no upgrade needed.")
    );
    let mut expected = s.read("up.json");
    expected.push(b'\n');
    assert_eq!(run.stdout, expected);

    log.stop();
    run_with_trust(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "up.json",
            "--offline",
            "blob",
        ],
    )
    .ok();
}

#[test]
fn upgrade_refuses_a_proof_for_another_entry_and_unknown_versions() {
    let log = TlogServer::start();
    let s = signed(&log);
    old_bundle(&log, &s);
    // The bundle claims index 0, where the log holds the legacy signature's entry, not this one.
    let mut b = json(&s, "old.json");
    b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = "0".into();
    s.write("wrong.json", serde_json::to_vec(&b).unwrap());
    let run = s
        .run(
            &[
                "bundle",
                "upgrade",
                "wrong.json",
                "--rekor-url",
                log.url(),
                "--out",
                "up.json",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("is not the bundle's entry"),
        "{}",
        run.stderr
    );
    assert!(!s.path("up.json").exists());

    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.9".into();
    s.write("future.json", serde_json::to_vec(&b).unwrap());
    let run = s
        .run(
            &["bundle", "upgrade", "future.json", "--rekor-url", log.url()],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains(
            "unsupported bundle version: application/vnd.dev.sigstore.bundle+json;version=0.9"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn go_cosign_upgrades_to_the_same_bundle() {
    let go = test_support::cosign_go_bin();
    let log = TlogServer::start();
    let s = signed(&log);
    old_bundle(&log, &s);
    s.run(
        &[
            "bundle",
            "upgrade",
            "old.json",
            "--rekor-url",
            log.url(),
            "--out",
            "ours.json",
        ],
        &[],
        None,
    )
    .ok();
    let out = std::process::Command::new(&go)
        .args([
            "bundle",
            "upgrade",
            "old.json",
            "--rekor-url",
            log.url(),
            "--out",
            "go.json",
        ])
        .current_dir(s.path("."))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Go cosign bundle upgrade: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&s, "ours.json"), json(&s, "go.json"));
}
