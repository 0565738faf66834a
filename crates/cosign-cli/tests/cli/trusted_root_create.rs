//! `cosign trusted-root create`: roots built from PEM files made here, read back by both
//! trusted-root parsers and by `verify-blob --trusted-root` against our own log, the deprecated
//! flags, `--with-default-services` from an initialized TUF repository, and bad inputs.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use test_support::{TestCa, TlogServer};

use crate::common::Scratch;

#[allow(dead_code, clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../../cosign-trust/tests/tuf/repo.rs"]
mod tuf_repo;

const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

fn spki(s: &Scratch, pem: &str) -> Vec<u8> {
    cosign_crypto::PublicKey::from_pem(&s.read(pem))
        .unwrap()
        .to_spki_der()
}

fn b64_sha256(data: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(data))
}

fn json(s: &Scratch, name: &str) -> Value {
    serde_json::from_slice(&s.read(name)).unwrap()
}

/// A scratch dir with a cosign key pair (`cosign.pub`, P-256), an Ed25519 key (`ed.pub`), a
/// CA (`ca.pem`) and a TSA chain (`tsa-chain.pem`: leaf then CA).
fn material() -> Scratch {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.tool(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.key"],
    );
    s.tool(
        "openssl",
        &["pkey", "-in", "ed.key", "-pubout", "-out", "ed.pub"],
    );
    let ca = TestCa::new();
    s.write("ca.pem", &ca.ca_pem);
    let (leaf, _) = ca.client_cert("test TSA");
    s.write("tsa-chain.pem", format!("{leaf}{}", ca.ca_pem));
    s
}

#[test]
fn spec_flags_write_a_root_both_parsers_read() {
    let s = material();
    let args = [
        "trusted-root",
        "create",
        "--fulcio",
        "url=https://fulcio.example,certificate-chain=ca.pem,end-time=2099-01-01T00:00:00Z",
        "--rekor",
        "url=https://rekor.example,public-key=cosign.pub,start-time=2024-01-01T00:00:00Z",
        "--rekor",
        "url=https://rekor2.example,public-key=ed.pub,start-time=2025-01-01T01:00:00.5+01:00,origin=rekor2.example",
        "--ctfe",
        " url = https://ctfe.example , public-key=ed.pub,start-time=2023-01-01T00:00:00Z",
        "--tsa",
        "url=https://tsa.example,certificate-chain=tsa-chain.pem",
    ];
    let mut with_out = args.to_vec();
    with_out.extend(["--out", "tr.json"]);
    let run = s.run(&with_out, &[], None).ok();
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr, "");
    // The same root on stdout, with a newline; the file has none.
    let printed = s.run(&args, &[], None).ok().stdout;
    let file = s.read("tr.json");
    assert_eq!(printed, [file.as_slice(), b"\n"].concat());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("tr.json")).unwrap().permissions();
        assert_eq!(mode.mode() & 0o777, 0o600);
    }

    let root = json(&s, "tr.json");
    assert_eq!(root["mediaType"], MEDIA_TYPE);
    // Rekor v1: the log ID is the SHA-256 of the key's SPKI.
    let tlogs = root["tlogs"].as_array().unwrap();
    assert_eq!(tlogs.len(), 2);
    let v1 = &tlogs[0];
    assert_eq!(v1["baseUrl"], "https://rekor.example");
    assert_eq!(v1["hashAlgorithm"], "SHA2_256");
    assert_eq!(v1["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
    assert_eq!(v1["publicKey"]["validFor"]["start"], "2024-01-01T00:00:00Z");
    assert!(v1["publicKey"]["validFor"].get("end").is_none());
    let cosign_spki = spki(&s, "cosign.pub");
    assert_eq!(v1["publicKey"]["rawBytes"], STANDARD.encode(&cosign_spki));
    assert_eq!(v1["logId"]["keyId"], b64_sha256(&cosign_spki));
    // Rekor v2 (origin given): the signed-note key ID of the origin and the key; times in UTC.
    let v2 = &tlogs[1];
    let ed = cosign_crypto::PublicKey::from_pem(&s.read("ed.pub")).unwrap();
    assert_eq!(v2["publicKey"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(
        v2["publicKey"]["validFor"]["start"],
        "2025-01-01T00:00:00.500Z"
    );
    assert_eq!(
        v2["logId"]["keyId"],
        STANDARD.encode(cosign_tlog::note::key_id("rekor2.example", &ed))
    );
    assert_ne!(v2["logId"]["keyId"], b64_sha256(&ed.to_spki_der()));
    // The CT log: spaces around keys and values are trimmed.
    let ct = &root["ctlogs"][0];
    assert_eq!(ct["baseUrl"], "https://ctfe.example");
    assert_eq!(ct["logId"]["keyId"], b64_sha256(&ed.to_spki_der()));
    // The CA: subject from the root, validity from its notBefore to the end given.
    let ca = &root["certificateAuthorities"][0];
    assert_eq!(ca["uri"], "https://fulcio.example");
    assert_eq!(ca["subject"]["commonName"], "test-support CA");
    assert_eq!(ca["certChain"]["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(ca["validFor"]["start"], "1975-01-01T00:00:00Z");
    assert_eq!(ca["validFor"]["end"], "2099-01-01T00:00:00Z");
    // The TSA: leaf then root.
    let tsa = &root["timestampAuthorities"][0];
    assert_eq!(tsa["uri"], "https://tsa.example");
    assert_eq!(
        tsa["certChain"]["certificates"].as_array().unwrap().len(),
        2
    );

    // Both trusted-root parsers read it back.
    let parsed = cosign_trust::trusted_root::TrustedRoot::from_json(&file).unwrap();
    assert_eq!(parsed.tlogs.len(), 2);
    assert_eq!(parsed.ctlogs.len(), 1);
    assert_eq!(parsed.certificate_authorities.len(), 1);
    assert!(parsed.timestamp_authorities[0].tsa_leaf().is_some());
    let tlog_view = cosign_tlog::trusted_root::TrustedRoot::from_json(&file).unwrap();
    assert_eq!(
        tlog_view.tlogs[0].log_id.as_slice(),
        Sha256::digest(&cosign_spki).as_slice()
    );
}

#[test]
fn a_created_root_verifies_a_bundle_from_our_log() {
    let log = TlogServer::start();
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.keypair("other", "pw");
    s.write("rekor.pub", log.public_key_pem());
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
            "blob.sigstore.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let spec = format!(
        "url={},public-key=rekor.pub,start-time=2000-01-01T00:00:00Z",
        log.url()
    );
    s.run(
        &[
            "trusted-root",
            "create",
            "--rekor",
            &spec,
            "--out",
            "tr.json",
        ],
        &[],
        None,
    )
    .ok();
    let verify = |root: &str| {
        s.run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                "blob.sigstore.json",
                "--trusted-root",
                root,
                "--offline",
                "blob",
            ],
            &[],
            None,
        )
    };
    let run = verify("tr.json").ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    // A root naming another log key does not verify the entry.
    s.run(
        &[
            "trusted-root",
            "create",
            "--rekor",
            &spec.replace("rekor.pub", "other.pub"),
            "--out",
            "wrong.json",
        ],
        &[],
        None,
    )
    .ok();
    verify("wrong.json").fails();
}

#[test]
fn deprecated_flags_warn_and_build_the_same_root() {
    let s = material();
    let run = s
        .run(
            &[
                "trusted-root",
                "create",
                "--rekor-key",
                "ed.pub,rekor2.example",
                "--rekor-url",
                "https://rekor2.example",
                "--rekor-start-time",
                "2024-01-01T00:00:00Z",
                "--certificate-chain",
                "ca.pem",
                "--fulcio-uri=https://fulcio.example",
                "--ctfe-key",
                "cosign.pub",
                "--timestamp-certificate-chain",
                "tsa-chain.pem",
            ],
            &[],
            None,
        )
        .ok();
    assert_eq!(
        run.stderr,
        "Flag --rekor-key has been deprecated, use --rekor instead\n\
         Flag --rekor-url has been deprecated, use --rekor instead\n\
         Flag --rekor-start-time has been deprecated, use --rekor instead\n\
         Flag --certificate-chain has been deprecated, use --fulcio instead\n\
         Flag --fulcio-uri has been deprecated, use --fulcio instead\n\
         Flag --ctfe-key has been deprecated, use --ctfe instead\n\
         Flag --timestamp-certificate-chain has been deprecated, use --tsa instead\n"
    );
    let old: Value = serde_json::from_slice(&run.stdout).unwrap();
    let new = s
        .run(
            &[
                "trusted-root",
                "create",
                "--rekor",
                "url=https://rekor2.example,public-key=ed.pub,start-time=2024-01-01T00:00:00Z,origin=rekor2.example",
            ],
            &[],
            None,
        )
        .ok();
    let new: Value = serde_json::from_slice(&new.stdout).unwrap();
    assert_eq!(old["tlogs"], new["tlogs"]);
    // Without a start time, a deprecated log key is valid from the Unix epoch.
    assert_eq!(
        old["ctlogs"][0]["publicKey"]["validFor"]["start"],
        "1970-01-01T00:00:00Z"
    );
    assert_eq!(
        old["certificateAuthorities"][0]["uri"],
        "https://fulcio.example"
    );
    assert_eq!(
        old["timestampAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn with_default_services_starts_from_the_initialized_repository() {
    let s = material();
    // The repository's trusted root: a Rekor log and a CA.
    s.run(
        &[
            "trusted-root",
            "create",
            "--rekor",
            "url=https://rekor.example,public-key=cosign.pub,start-time=2024-01-01T00:00:00Z",
            "--fulcio",
            "url=https://fulcio.example,certificate-chain=ca.pem",
            "--out",
            "repo-root.json",
        ],
        &[],
        None,
    )
    .ok();
    let mut repo = tuf_repo::Repo::new();
    repo.targets
        .insert("trusted_root.json".into(), s.read("repo-root.json"));
    repo.publish();
    let dir = s.path("mirror");
    for (name, body) in repo.files.lock().unwrap().iter() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    std::fs::write(s.path("root.json"), &repo.roots[&1]).unwrap();
    let mirror = format!("file://{}", dir.display());
    let cache = s.path("tuf-cache").display().to_string();
    let env = [("TUF_ROOT", cache.as_str())];
    s.run(
        &["initialize", "--mirror", &mirror, "--root", "root.json"],
        &env,
        None,
    )
    .ok();

    let ctfe = "url=https://ctfe.example,public-key=ed.pub,start-time=2023-01-01T00:00:00Z";
    let run = s
        .run(
            &[
                "trusted-root",
                "create",
                "--with-default-services",
                "--ctfe",
                ctfe,
            ],
            &env,
            None,
        )
        .ok();
    let root: Value = serde_json::from_slice(&run.stdout).unwrap();
    let defaults = json(&s, "repo-root.json");
    assert_eq!(root["tlogs"], defaults["tlogs"]);
    assert_eq!(
        root["certificateAuthorities"],
        defaults["certificateAuthorities"]
    );
    assert_eq!(root["ctlogs"][0]["baseUrl"], "https://ctfe.example");
    // --no-default-* leave a kind out.
    let run = s
        .run(
            &[
                "trusted-root",
                "create",
                "--with-default-services",
                "--no-default-rekor",
                "--no-default-fulcio",
                "--ctfe",
                ctfe,
            ],
            &env,
            None,
        )
        .ok();
    let root: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(root.get("tlogs").is_none());
    assert!(root.get("certificateAuthorities").is_none());
    assert_eq!(root["ctlogs"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_inputs_fail_naming_the_input_and_write_nothing() {
    let s = material();
    s.write("junk.txt", "not PEM at all\n");
    let rekor = |extra: &str| {
        format!(
            "url=https://rekor.example,public-key=cosign.pub,start-time=2024-01-01T00:00:00Z{extra}"
        )
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--fulcio".into(), "url=https://f".into()],
            "parsing fulcio spec: missing or empty required key 'certificate-chain' in fulcio spec",
        ),
        (
            vec!["--fulcio".into(), "url=https://f,certificate-chain=".into()],
            "missing or empty required key 'certificate-chain' in fulcio spec",
        ),
        (
            vec![
                "--fulcio".into(),
                "url=https://f,certificate-chain=missing.pem".into(),
            ],
            "parsing fulcio spec: parsing Fulcio certificate-chain: open missing.pem: no such file or directory",
        ),
        (
            vec![
                "--fulcio".into(),
                "url=https://f,certificate-chain=junk.txt".into(),
            ],
            "parsing Fulcio certificate-chain: no certificates in file junk.txt",
        ),
        (
            vec![
                "--fulcio".into(),
                "url=https://f,certificate-chain=cosign.pub".into(),
            ],
            "parsing Fulcio certificate-chain: cosign.pub: ",
        ),
        (
            vec!["--fulcio".into(), "oops".into()],
            "parsing fulcio spec: invalid key-value pair: oops",
        ),
        (
            vec![
                "--rekor".into(),
                "url=https://r,public-key=cosign.pub".into(),
            ],
            "parsing rekor spec: missing or empty required key 'start-time' in tlog spec",
        ),
        (
            vec!["--rekor".into(), rekor("").replace("cosign.pub", "ca.pem")],
            "parsing rekor spec: parsing public-key: unknown Public key PEM file type: CERTIFICATE. Are you passing the correct public key?",
        ),
        (
            vec!["--ctfe".into(), rekor("").replace("cosign.pub", "junk.txt")],
            "parsing ctfe spec: parsing public-key: PEM decoding failed",
        ),
        (
            vec![
                "--rekor".into(),
                rekor("").replace("2024-01-01T00:00:00Z", "2024-01-01"),
            ],
            r#"parsing rekor spec: parsing start-time: parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T""#,
        ),
        (
            vec!["--rekor".into(), rekor(",end-time=2024-02-30T00:00:00Z")],
            r#"parsing rekor spec: parsing end-time: parsing time "2024-02-30T00:00:00Z": day out of range"#,
        ),
        (
            vec![
                "--tsa".into(),
                "url=https://t,certificate-chain=ca.pem".into(),
            ],
            "parsing tsa spec: first certificate in chain must be a leaf certificate",
        ),
        (
            vec![
                "--rekor".into(),
                rekor(""),
                "--rekor-url".into(),
                "https://r".into(),
            ],
            "cannot use --rekor and old rekor flags at the same time",
        ),
        (
            vec![
                "--fulcio".into(),
                "url=https://f,certificate-chain=ca.pem".into(),
                "--fulcio-uri".into(),
                "https://f".into(),
            ],
            "cannot use --fulcio and old fulcio flags at the same time",
        ),
        (
            vec!["--timestamp-certificate-chain".into(), "ca.pem".into()],
            "first certificate in chain must be a leaf certificate",
        ),
        (
            vec![
                "--rekor-key".into(),
                "cosign.pub".into(),
                "--rekor-start-time".into(),
                "soon".into(),
            ],
            r#"parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006""#,
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["trusted-root", "create", "--out", "out.json"];
        args.extend(extra.iter().map(String::as_str));
        let run = s.run(&args, &[], None).fails();
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains(want), "{extra:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(!Path::new(&s.path("out.json")).exists(), "{extra:?}");
    }
    // An output path that cannot be created.
    let run = s
        .run(
            &[
                "trusted-root",
                "create",
                "--rekor",
                &rekor(""),
                "--out",
                "no/such/dir/tr.json",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("Error: open no/such/dir/tr.json: no such file or directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_services_give_an_empty_root() {
    let s = Scratch::new();
    let run = s.run(&["trusted-root", "create"], &[], None).ok();
    assert_eq!(
        run.stdout_text(),
        format!("{{\"mediaType\":\"{MEDIA_TYPE}\"}}\n")
    );
}
