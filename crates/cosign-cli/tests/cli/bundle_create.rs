//! `cosign bundle create`: Sigstore bundles (v0.3) assembled from the parts older cosign wrote
//! separately, against our `tlog-server` (the entry and its inclusion proof are looked up
//! there), the real Fulcio, timestamp authority and OIDC issuer for certificate parts. Every
//! bundle made verifies with `verify-blob --bundle`; bad inputs fail naming what is wrong and
//! write nothing; Go cosign 3.1.2 makes the same bundles from the same parts, and each side
//! verifies the other's.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use test_support::{TlogServer, cosign_go_bin};

use crate::common::{Run, Scratch};
use crate::keyless_sign::Stack;

const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// A scratch dir with a key pair (`cosign.key`, password `pw`), `blob`, the log's trust
/// (`trusted_root.json`, `rekor.pub`), and the blob signed into the log: `legacy.json` (the
/// legacy bundle) and `sig.txt` (the base64 signature).
fn signed_blob(log: &TlogServer) -> Scratch {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("rekor.pub", log.public_key_pem());
    s.write("trusted_root.json", log.trusted_root_json());
    s.write("blob", "release artifact\n");
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

fn create(s: &Scratch, args: &[&str]) -> Run {
    let mut all = vec!["bundle", "create"];
    all.extend_from_slice(args);
    s.run(&all, &[], None)
}

fn json(s: &Scratch, name: &str) -> Value {
    serde_json::from_slice(&s.read(name)).unwrap()
}

/// `verify-blob --key cosign.pub --bundle <bundle>` trusting the log of `trusted_root.json`.
fn verify_with_key(s: &Scratch, bundle: &str, extra: &[&str], blob: &str) -> Run {
    let mut args = vec![
        "verify-blob",
        "--key",
        "cosign.pub",
        "--bundle",
        bundle,
        "--trusted-root",
        "trusted_root.json",
    ];
    args.extend_from_slice(extra);
    args.push(blob);
    s.run(&args, &[], None)
}

/// Runs Go cosign 3.1.2 in the scratch dir, its environment cleared as ours is.
fn go(s: &Scratch, args: &[&str]) -> Run {
    let out = Command::new(cosign_go_bin())
        .args(args)
        .current_dir(s.dir.path())
        .env_clear()
        .env("HOME", s.dir.path())
        .env("TMPDIR", s.dir.path())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn bundle_create_from_a_key_and_signature_verifies() {
    let log = TlogServer::start();
    let s = signed_blob(&log);
    let run = create(
        &s,
        &[
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--out",
            "b.json",
        ],
    )
    .ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    #[cfg(unix)]
    assert_eq!(mode(&s.path("b.json")), 0o600);
    let b = json(&s, "b.json");
    assert_eq!(b["mediaType"], MEDIA_TYPE);
    let vm = &b["verificationMaterial"];
    assert!(vm["publicKey"]["hint"].is_string(), "{vm}");
    let entry = &vm["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );

    // Without --out the same bundle is printed.
    let run = create(
        &s,
        &[
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
        ],
    )
    .ok();
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(printed, b);

    let run = verify_with_key(&s, "b.json", &[], "blob").ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    s.write("other", "another artifact\n");
    verify_with_key(&s, "b.json", &[], "other").fails();

    // A key-signed legacy bundle holds the public key where a certificate goes: Go cosign
    // refuses it as a certificate, and so do we.
    let run = create(
        &s,
        &[
            "--artifact",
            "blob",
            "--bundle",
            "legacy.json",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--out",
            "l.json",
        ],
    )
    .fails();
    assert!(
        run.stderr.contains("x509: malformed serial number"),
        "{}",
        run.stderr
    );
    assert!(!s.path("l.json").exists());
}

#[test]
fn bundle_create_from_keyless_legacy_parts_verifies_by_identity() {
    let k = Stack::new();
    k.cmd(
        &["sign-blob", "--yes"],
        k.flags(),
        &[
            "--new-bundle-format=false",
            "--bundle",
            "legacy.json",
            "--output-signature",
            "sig.txt",
            "--output-certificate",
            "cert.pem",
            "--rfc3161-timestamp",
            "ts.json",
            "artifact.txt",
        ],
    )
    .ok();
    let url = k.log.url();
    let run = |args: &[&str]| {
        let mut all = vec!["bundle", "create", "--artifact", "artifact.txt"];
        all.extend_from_slice(args);
        k.s.run(&all, &[], None)
    };

    // From the legacy bundle: the certificate it holds, the entry from the log.
    run(&[
        "--bundle",
        "legacy.json",
        "--rekor-url",
        url,
        "--out",
        "a.json",
    ])
    .ok();
    let a = k.bundle("a.json");
    assert!(a["verificationMaterial"]["certificate"]["rawBytes"].is_string());
    assert!(a["verificationMaterial"]["timestampVerificationData"].is_null());
    k.verify_blob(&["--bundle", "a.json"]).ok();

    // From the signature, certificate and timestamp files.
    run(&[
        "--signature",
        "sig.txt",
        "--certificate",
        "cert.pem",
        "--rfc3161-timestamp",
        "ts.json",
        "--rekor-url",
        url,
        "--out",
        "b.json",
    ])
    .ok();
    let b = k.bundle("b.json");
    let ts = &b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(ts.as_array().map(Vec::len), Some(1), "{b}");
    let legacy_ts: Value = serde_json::from_slice(&k.s.read("ts.json")).unwrap();
    assert_eq!(
        ts[0]["signedTimestamp"],
        legacy_ts["SignedRFC3161Timestamp"]
    );
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"],
        a["verificationMaterial"]["tlogEntries"]
    );
    k.verify_blob(&["--bundle", "b.json"]).ok();

    // Without the log: the timestamp is the proof of time.
    run(&[
        "--signature",
        "sig.txt",
        "--certificate",
        "cert.pem",
        "--rfc3161-timestamp",
        "ts.json",
        "--ignore-tlog",
        "--out",
        "c.json",
    ])
    .ok();
    let c = k.bundle("c.json");
    assert!(
        c["verificationMaterial"]["tlogEntries"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{c}"
    );
    k.verify_blob(&["--bundle", "c.json", "--insecure-ignore-tlog"])
        .ok();
    k.verify_blob(&["--bundle", "c.json"]).fails();

    // A legacy bundle with a signed entry timestamp cannot drop its log entry.
    let r = run(&[
        "--bundle",
        "legacy.json",
        "--ignore-tlog",
        "--out",
        "d.json",
    ])
    .fails();
    assert!(
        r.stderr.contains(
            "cannot ignore transparency log when the provided bundle contains a Signed Entry Timestamp"
        ),
        "{}",
        r.stderr
    );
    assert!(!k.s.path("d.json").exists());
}

#[test]
fn bundle_create_with_ignore_tlog_leaves_the_log_out() {
    let log = TlogServer::start();
    let s = signed_blob(&log);
    create(
        &s,
        &[
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "cosign.pub",
            "--ignore-tlog",
            "--rekor-url",
            "http://127.0.0.1:9", // never asked
            "--out",
            "b.json",
        ],
    )
    .ok();
    let b = json(&s, "b.json");
    assert!(
        b["verificationMaterial"]["tlogEntries"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{b}"
    );
    verify_with_key(&s, "b.json", &["--insecure-ignore-tlog"], "blob").ok();
    // Without a log entry nothing attests when it was signed.
    verify_with_key(&s, "b.json", &[], "blob").fails();
}

#[test]
fn bundle_create_from_an_attestation_verifies() {
    let log = TlogServer::start();
    let s = signed_blob(&log);
    s.write("predicate.json", r#"{"builder":"ci"}"#);
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
            "https://example.com/predicate/v1",
            "--output-signature",
            "envelope.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    create(
        &s,
        &[
            "--artifact",
            "blob",
            "--attestation",
            "envelope.json",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--out",
            "att.json",
        ],
    )
    .ok();
    let b = json(&s, "att.json");
    assert_eq!(b["mediaType"], MEDIA_TYPE);
    assert_eq!(
        b["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    let run = verify_with_key(&s, "att.json", &[], "blob").ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);

    // Another key did not sign the envelope.
    s.keypair("other", "pw");
    let run = create(
        &s,
        &[
            "--artifact",
            "blob",
            "--attestation",
            "envelope.json",
            "--key",
            "other.pub",
            "--rekor-url",
            log.url(),
            "--out",
            "bad.json",
        ],
    )
    .fails();
    assert!(
        run.stderr.contains("could not verify envelope"),
        "{}",
        run.stderr
    );
    assert!(!s.path("bad.json").exists());
}

#[test]
fn bundle_create_bad_inputs_fail_and_write_nothing() {
    let log = TlogServer::start();
    let s = signed_blob(&log);
    s.keypair("other", "pw");
    s.write("other-blob", "another artifact\n");
    s.write("not-base64.txt", "MEUC!!\n");
    let url = log.url();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--signature", "sig.txt", "--key", "cosign.pub"],
            "must supply --artifact",
        ),
        (
            &["--artifact", "blob", "--key", "cosign.pub"],
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
                "missing.sig",
                "--key",
                "cosign.pub",
            ],
            "open missing.sig: no such file or directory",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--bundle",
                "missing.json",
                "--key",
                "cosign.pub",
            ],
            "reading missing.json: open missing.json: no such file or directory",
        ),
        (
            &[
                "--artifact",
                "missing-blob",
                "--signature",
                "sig.txt",
                "--key",
                "cosign.pub",
            ],
            "open missing-blob: no such file or directory",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "not-base64.txt",
                "--key",
                "cosign.pub",
            ],
            "illegal base64 data at input byte 4",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--key",
                "missing.pub",
            ],
            "loading public key: open missing.pub: no such file or directory",
        ),
        // The signature is not of this artifact: no such entry in the log.
        (
            &[
                "--artifact",
                "other-blob",
                "--signature",
                "sig.txt",
                "--key",
                "cosign.pub",
                "--rekor-url",
                url,
            ],
            "signature not found in transparency log",
        ),
        // Nor by this key.
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--key",
                "other.pub",
                "--rekor-url",
                url,
            ],
            "signature not found in transparency log",
        ),
        // Neither a key nor a certificate.
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--ignore-tlog",
            ],
            "missing verification material",
        ),
        (
            &[
                "--artifact",
                "blob",
                "--signature",
                "sig.txt",
                "--certificate",
                "sig.txt",
                "--ignore-tlog",
            ],
            "unable to decode provided certificate",
        ),
    ];
    for (args, want) in cases {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--out", "out.json"]);
        let run = create(&s, &all).fails();
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
        assert!(!s.path("out.json").exists(), "{args:?} wrote out.json");
    }
}

#[test]
fn bundle_create_matches_go_cosign_and_each_verifies_the_others() {
    let log = TlogServer::start();
    let s = signed_blob(&log);
    let args = [
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
    ];
    let ours = s.run(&args, &[], None).ok();
    let theirs = go(&s, &args);
    assert_eq!(theirs.code, 0, "Go cosign: {}", theirs.stderr);
    let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
    let theirs_json: Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(ours, theirs_json);
    s.write("ours.json", serde_json::to_vec(&ours).unwrap());
    s.write("go.json", &theirs.stdout);
    verify_with_key(&s, "go.json", &[], "blob").ok();
    let go_verify = go(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "ours.json",
            "--trusted-root",
            "trusted_root.json",
            "blob",
        ],
    );
    assert_eq!(go_verify.code, 0, "Go verify-blob: {}", go_verify.stderr);
    assert!(
        go_verify.stderr.contains("Verified OK"),
        "{}",
        go_verify.stderr
    );

    // An attestation: Go looks it up with `dsse` and `intoto` 0.0.1 proposals (and null lists),
    // which tlog-server answers as Rekor does.
    s.write("predicate.json", r#"{"builder":"ci"}"#);
    s.run(
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--predicate",
            "predicate.json",
            "--output-signature",
            "envelope.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let args = [
        "bundle",
        "create",
        "--artifact",
        "blob",
        "--attestation",
        "envelope.json",
        "--key",
        "cosign.pub",
        "--rekor-url",
        log.url(),
    ];
    let ours = s.run(&args, &[], None).ok();
    let theirs = go(&s, &args);
    assert_eq!(theirs.code, 0, "Go cosign: {}", theirs.stderr);
    let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(
        ours,
        serde_json::from_slice::<Value>(&theirs.stdout).unwrap()
    );
    s.write("att-ours.json", serde_json::to_vec(&ours).unwrap());
    let go_verify = go(
        &s,
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "att-ours.json",
            "--trusted-root",
            "trusted_root.json",
            "blob",
        ],
    );
    assert_eq!(go_verify.code, 0, "Go verify-blob: {}", go_verify.stderr);

    // The same errors, worded alike.
    for args in [
        &[
            "--artifact",
            "blob",
            "--bundle",
            "legacy.json",
            "--key",
            "cosign.pub",
        ][..],
        &[
            "--artifact",
            "blob",
            "--signature",
            "missing.sig",
            "--key",
            "cosign.pub",
        ],
        &[
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--key",
            "missing.pub",
        ],
        &[
            "--artifact",
            "blob",
            "--signature",
            "sig.txt",
            "--ignore-tlog",
        ],
    ] {
        let mut all = vec!["bundle", "create"];
        all.extend_from_slice(args);
        let ours = s.run(&all, &[], None).fails();
        let theirs = go(&s, &all);
        assert_eq!(ours.code, theirs.code, "{args:?}: {}", theirs.stderr);
        let first = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("Error: "))
                .map(str::to_owned)
        };
        assert_eq!(first(&ours.stderr), first(&theirs.stderr), "{args:?}");
    }
}
