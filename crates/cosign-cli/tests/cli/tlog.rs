//! The transparency log end to end: cosign against our `tlog-server`, the seed's "Hard mode"
//! with `rekor-cli`, offline verification from both bundle formats with the server stopped, and
//! tampered or unrelated entries refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use test_support::{ImageSpec, Registry, RegistryConfig, TlogServer, push_image, workspace_bin};

use crate::common::Scratch;

/// A scratch dir with a key pair and the log's public key in `rekor.pub`.
fn setup(log: &TlogServer) -> Scratch {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("rekor.pub", log.public_key_pem());
    s.write("trusted_root.json", log.trusted_root_json());
    s
}

fn trust_env(s: &Scratch) -> Vec<(String, String)> {
    vec![(
        "SIGSTORE_REKOR_PUBLIC_KEY".into(),
        s.path("rekor.pub").display().to_string(),
    )]
}

fn env_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

#[test]
fn seed_hard_mode_with_rekor_cli() {
    let log = TlogServer::start();
    let s = setup(&log);
    let rekor_cli = workspace_bin("rekor-cli");
    let script = format!(
        r#"
        head=455d1988360dcfdcf0fa17b0736fbbc33b4924c0
        cosign sign-blob --key cosign.key --rekor-url {url} <(echo $head) > sig.txt 2> sign.err
        uuid=$({rc} --rekor_server {url} search --artifact <(echo $head) | tail -n 1)
        sig=$({rc} --rekor_server {url} get --uuid=$uuid --format=json | jq -r .Body.HashedRekordObj.signature.content)
        test "$sig" = "$(cat sig.txt)"
        cosign verify-blob --key cosign.pub --rekor-url {url} --signature <(echo $sig) <(echo $head)
        "#,
        url = log.url(),
        rc = rekor_cli.display()
    );
    let mut env = trust_env(&s);
    env.push(("COSIGN_PASSWORD".into(), "pw".into()));
    let run = s.sh(&script, &env_refs(&env));
    let sign_err = String::from_utf8(s.read("sign.err")).unwrap_or_default();
    assert_eq!(run.code, 0, "stderr: {}\nsign: {sign_err}", run.stderr);
    assert!(
        sign_err.contains("tlog entry created with index: 0"),
        "{sign_err}"
    );
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
}

#[test]
fn blob_bundles_verify_offline_with_the_log_stopped() {
    let mut log = TlogServer::start();
    let s = setup(&log);
    s.write("blob", "release artifact\n");
    let env = [("COSIGN_PASSWORD", "pw")];
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
            "blob",
        ],
        &env,
        None,
    )
    .ok();
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format",
            "--bundle",
            "new.json",
            "blob",
        ],
        &env,
        None,
    )
    .ok();
    let legacy: serde_json::Value = serde_json::from_slice(&s.read("legacy.json")).unwrap();
    assert!(legacy["rekorBundle"]["SignedEntryTimestamp"].is_string());
    assert!(legacy["rekorBundle"]["Payload"]["logIndex"].is_number());
    let new: serde_json::Value = serde_json::from_slice(&s.read("new.json")).unwrap();
    let entry = &new["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());

    log.stop();
    let trust = trust_env(&s);
    for bundle in ["legacy.json", "new.json"] {
        let run = s
            .run(
                &[
                    "verify-blob",
                    "--key",
                    "cosign.pub",
                    "--bundle",
                    bundle,
                    "--offline",
                    "blob",
                ],
                &env_refs(&trust),
                None,
            )
            .ok();
        assert_eq!(run.stderr, "Verified OK\n");
        // The same with a trusted root instead of the key variable.
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--trusted-root",
                "trusted_root.json",
                "--offline",
                "blob",
            ],
            &[],
            None,
        )
        .ok();
        // A different artifact fails, the log entry does not make it pass.
        s.write("other", "something else\n");
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--offline",
                "other",
            ],
            &env_refs(&trust),
            None,
        )
        .fails();
    }
    // Without a trusted log key the log cannot be verified: a clear error, not a pass.
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                "new.json",
                "blob",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("SIGSTORE_REKOR_PUBLIC_KEY"),
        "{}",
        run.stderr
    );
    // A signature with no bundle needs the (stopped) log: it fails offline.
    let sig = legacy["base64Signature"].as_str().unwrap().to_owned();
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            &sig,
            "--offline",
            "blob",
        ],
        &env_refs(&trust),
        None,
    )
    .fails();
}

#[test]
fn tampered_bundles_fail() {
    let log = TlogServer::start();
    let s = setup(&log);
    s.write("blob", "payload one\n");
    s.write("blob2", "payload two\n");
    let env = [("COSIGN_PASSWORD", "pw")];
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format=false",
            "--bundle",
            "b1.json",
            "blob",
        ],
        &env,
        None,
    )
    .ok();
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format=false",
            "--bundle",
            "b2.json",
            "blob2",
        ],
        &env,
        None,
    )
    .ok();
    let trust = trust_env(&s);
    let verify = |bundle: &str| {
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--offline",
                "blob",
            ],
            &env_refs(&trust),
            None,
        )
    };
    verify("b1.json").ok();
    let b1: serde_json::Value = serde_json::from_slice(&s.read("b1.json")).unwrap();
    let b2: serde_json::Value = serde_json::from_slice(&s.read("b2.json")).unwrap();

    // GHSA-ccxc-vr6p-4858: a valid log entry for another signature must not vouch for this one.
    let mut swapped = b1.clone();
    swapped["rekorBundle"] = b2["rekorBundle"].clone();
    s.write("swapped.json", serde_json::to_vec(&swapped).unwrap());
    verify("swapped.json").fails();

    // A modified SET.
    let mut bad_set = b1.clone();
    let set = STANDARD
        .decode(b1["rekorBundle"]["SignedEntryTimestamp"].as_str().unwrap())
        .unwrap();
    let mut set2 = set.clone();
    let last = set2.len() - 1;
    set2[last] ^= 1;
    bad_set["rekorBundle"]["SignedEntryTimestamp"] = STANDARD.encode(set2).into();
    s.write("badset.json", serde_json::to_vec(&bad_set).unwrap());
    verify("badset.json").fails();

    // A modified body (integrated time) breaks the SET.
    let mut bad_time = b1.clone();
    let t = b1["rekorBundle"]["Payload"]["integratedTime"]
        .as_i64()
        .unwrap();
    bad_time["rekorBundle"]["Payload"]["integratedTime"] = (t + 1).into();
    s.write("badtime.json", serde_json::to_vec(&bad_time).unwrap());
    verify("badtime.json").fails();

    // A log key we do not trust.
    let other = TlogServer::start();
    s.write("other-rekor.pub", other.public_key_pem());
    let run = s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "b1.json",
            "--offline",
            "blob",
        ],
        &[(
            "SIGSTORE_REKOR_PUBLIC_KEY",
            s.path("other-rekor.pub").to_str().unwrap(),
        )],
        None,
    );
    assert_ne!(run.code, 0, "an entry from an untrusted log was accepted");

    // New-format bundle: a tampered inclusion proof or checkpoint fails.
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format",
            "--bundle",
            "n.json",
            "blob",
        ],
        &env,
        None,
    )
    .ok();
    let n: serde_json::Value = serde_json::from_slice(&s.read("n.json")).unwrap();
    let mut bad_root = n.clone();
    bad_root["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"] =
        STANDARD.encode([7u8; 32]).into();
    bad_root["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"] =
        serde_json::Value::Null;
    s.write("badroot.json", serde_json::to_vec(&bad_root).unwrap());
    verify("badroot.json").fails();
    let mut bad_cp = n.clone();
    let cp =
        n["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap();
    bad_cp["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
        cp.replacen('\n', "0\n", 2).into();
    bad_cp["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"] = serde_json::Value::Null;
    s.write("badcp.json", serde_json::to_vec(&bad_cp).unwrap());
    verify("badcp.json").fails();
}

#[test]
fn images_carry_verified_log_bundles() {
    let mut log = TlogServer::start();
    let s = setup(&log);
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/tlog:v1", &ImageSpec::default());
    let img2 = push_image(
        &reg,
        "test/tlog:v2",
        &ImageSpec {
            seed: "2".into(),
            ..ImageSpec::default()
        },
    );
    let env = [("COSIGN_PASSWORD", "pw")];
    let run = s
        .run(
            &[
                "sign",
                "--key",
                "cosign.key",
                "--rekor-url",
                log.url(),
                &img.digest_ref,
            ],
            &env,
            None,
        )
        .ok();
    assert!(
        run.stderr.contains("tlog entry created with index: 0"),
        "{}",
        run.stderr
    );
    s.run(
        &[
            "sign",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format",
            &img2.digest_ref,
        ],
        &env,
        None,
    )
    .ok();
    // The legacy layer carries the bundle annotation.
    let manifest = test_support::RegistryClient::new(&reg).get_manifest(
        "test/tlog",
        &format!("{}.sig", img.digest.replace(':', "-")),
    );
    let m: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
    let bundle = m["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"]
        .as_str()
        .unwrap();
    let b: serde_json::Value = serde_json::from_str(bundle).unwrap();
    assert!(b["SignedEntryTimestamp"].is_string());

    log.stop();
    let trust = trust_env(&s);
    for image in [&img.digest_ref, &img2.digest_ref] {
        let run = s
            .run(
                &["verify", "--key", "cosign.pub", image],
                &env_refs(&trust),
                None,
            )
            .ok();
        assert!(
            run.stderr.contains(
                "  - Existence of the claims in the transparency log was verified offline\n"
            ),
            "{}",
            run.stderr
        );
    }
    let run = s
        .run(
            &["verify", "--key", "cosign.pub", &img.digest_ref],
            &env_refs(&trust),
            None,
        )
        .ok();
    let out: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(out[0]["optional"]["Bundle"]["SignedEntryTimestamp"].is_string());
    // --insecure-ignore-tlog still works without any log key.
    s.run(
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
}

#[test]
fn online_lookup_for_signatures_without_bundles() {
    let log = TlogServer::start();
    let s = setup(&log);
    s.write("blob", "looked up online\n");
    let env = [("COSIGN_PASSWORD", "pw")];
    let sig = s
        .run(
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                "--rekor-url",
                log.url(),
                "blob",
            ],
            &env,
            None,
        )
        .ok()
        .stdout_text();
    let trust = trust_env(&s);
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--signature",
            sig.trim(),
            "blob",
        ],
        &env_refs(&trust),
        None,
    )
    .ok();
    // A signature that was never logged is not found.
    let unlogged = s
        .run(
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                "--tlog-upload=false",
                "blob",
            ],
            &env,
            None,
        )
        .ok()
        .stdout_text();
    let run = s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--rekor-url",
            log.url(),
            "--signature",
            unlogged.trim(),
            "blob",
        ],
        &env_refs(&trust),
        None,
    );
    assert_ne!(run.code, 0, "{}", run.stderr);
}

#[test]
fn bundle_entries_without_proof_or_trusted_time_fail() {
    // Issue 11: a v0.2+ bundle's entry must carry its inclusion proof (the SET alone is not
    // taken), and an entry with neither a SET nor an RFC 3161 timestamp gives no trusted time.
    let log = TlogServer::start();
    let s = setup(&log);
    s.write("blob", "release artifact\n");
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format",
            "--bundle",
            "new.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let trust = trust_env(&s);
    let verify = |bundle: &str| {
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--offline",
                "blob",
            ],
            &env_refs(&trust),
            None,
        )
    };
    verify("new.json").ok();
    let bundle: serde_json::Value = serde_json::from_slice(&s.read("new.json")).unwrap();
    for (field, file, expected) in [
        ("inclusionProof", "no-proof.json", "no inclusion proof"),
        ("inclusionPromise", "no-set.json", "no trusted time"),
    ] {
        let mut b = bundle.clone();
        b["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove(field);
        s.write(file, serde_json::to_vec(&b).unwrap());
        let run = verify(file).fails();
        assert!(run.stderr.contains(expected), "{field}: {}", run.stderr);
        // With the log skipped, as Go cosign, the entry is not looked at.
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                file,
                "--insecure-ignore-tlog",
                "blob",
            ],
            &[],
            None,
        )
        .ok();
    }
}

#[test]
fn verify_blob_takes_dsse_bundles() {
    // As Go cosign's verify-blob: a DSSE bundle verifies the envelope's signature, a subject
    // with the blob's digest (any predicate type) and the log entry bound to the envelope.
    let log = TlogServer::start();
    let s = setup(&log);
    s.write("blob", "release artifact\n");
    s.write("other", "another artifact\n");
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
            "--new-bundle-format",
            "--bundle",
            "att.sigstore.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let trust = trust_env(&s);
    let verify = |subject: &str, bundle: &str| {
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                bundle,
                "--offline",
                subject,
            ],
            &env_refs(&trust),
            None,
        )
    };
    let run = verify("blob", "att.sigstore.json").ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    let digest = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            b"release artifact\n"
        ))
    );
    verify(&digest, "att.sigstore.json").ok();
    let run = verify("other", "att.sigstore.json").fails();
    assert!(run.stderr.contains("no matching subject"), "{}", run.stderr);
    // Another signature on the envelope: it does not verify.
    let mut b: serde_json::Value = serde_json::from_slice(&s.read("att.sigstore.json")).unwrap();
    b["dsseEnvelope"]["signatures"][0]["sig"] = serde_json::Value::String(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        [7u8; 64],
    ));
    s.write("forged.json", serde_json::to_vec(&b).unwrap());
    let run = verify("blob", "forged.json").fails();
    assert!(run.stderr.contains("invalid signature"), "{}", run.stderr);
}
