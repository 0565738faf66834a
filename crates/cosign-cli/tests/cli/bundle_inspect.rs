//! `cosign bundle inspect`: our binary and Go cosign 3.1.2 print the same tree for the same
//! bundle (public-good keyless bundles of the conformance suite, key-signed bundles, DSSE,
//! chains, RFC 3161 timestamps, rekor v2 checkpoints, bundles that break their media type's
//! rules, malformed files), with and without an initialized TUF repository.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{Run, Scratch};

#[allow(dead_code, clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../../cosign-trust/tests/tuf/repo.rs"]
mod tuf_repo;

fn conformance(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/bundle-verify")
        .join(case)
        .join("bundle.sigstore.json")
}

/// The environment both binaries get: the scratch HOME, a TUF cache, UTC (Go prints SCT times
/// in the local zone), and for Go a proxy that refuses connections, so that Go's attempt to
/// fetch the public-good TUF root fails at once instead of reaching the network.
fn env(s: &Scratch, tuf_root: &str) -> Vec<(String, String)> {
    let home = s.path("").display().to_string();
    vec![
        ("HOME".into(), home.clone()),
        ("TMPDIR".into(), home),
        ("TUF_ROOT".into(), tuf_root.into()),
        ("TZ".into(), "UTC".into()),
        ("HTTPS_PROXY".into(), "http://127.0.0.1:9".into()),
        ("HTTP_PROXY".into(), "http://127.0.0.1:9".into()),
        ("NO_PROXY".into(), "127.0.0.1".into()),
    ]
}

fn run(program: &Path, s: &Scratch, args: &[&str], env: &[(String, String)]) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(s.path(""))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What must differ between the two binaries' stderr, normalized:
/// - the reason after "some details will be omitted: ": without `cosign initialize`, Go tries
///   to fetch the public-good TUF repository (its error names the URL and the refused proxy)
///   while we fetch nothing and say that no repository was initialized;
/// - the date Go's `log` line carries in our binary: every command of ours prints
///   `YYYY/MM/DD hh:mm:ss error during command execution: ...` (crate::exit), Go 3.1.2 leaves
///   the date out.
fn normalized_stderr(text: &str) -> String {
    const TUF: &str = "some details will be omitted: ";
    text.lines()
        .map(|line| {
            if let Some(i) = line.find(TUF) {
                return format!("{}{TUF}<reason>", &line[..i]);
            }
            let b = line.as_bytes();
            let dated = b.len() > 20 && b[4] == b'/' && b[7] == b'/' && b[13] == b':';
            if dated && line[20..].starts_with("error during command execution") {
                return line[20..].to_owned();
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `cosign bundle inspect <bundle>` with both binaries; asserts the same exit code, the
/// same stdout and the same (normalized) stderr; returns our run.
#[track_caller]
fn same_as_go(s: &Scratch, bundle: &Path, tuf_root: &str) -> Run {
    let env = env(s, tuf_root);
    let path = bundle.display().to_string();
    let args = ["bundle", "inspect", path.as_str()];
    let ours = run(Path::new(env!("CARGO_BIN_EXE_cosign")), s, &args, &env);
    let go = run(&test_support::cosign_go_bin(), s, &args, &env);
    assert_eq!(
        ours.code, go.code,
        "exit codes differ for {path}\nours: {}\ngo: {}",
        ours.stderr, go.stderr
    );
    assert_eq!(
        ours.stdout_text(),
        go.stdout_text(),
        "stdout differs for {path}"
    );
    assert_eq!(
        normalized_stderr(&ours.stderr),
        normalized_stderr(&go.stderr),
        "stderr differs for {path}"
    );
    ours
}

/// [`same_as_go`] without a TUF repository; checks the notice about it.
#[track_caller]
fn same_offline(s: &Scratch, bundle: &Path) -> String {
    let tuf = s.path("tuf").display().to_string();
    let run = same_as_go(s, bundle, &tuf);
    assert!(
        run.stderr.starts_with(
            "WARNING: This command only inspects the contents of the bundle.\n\
             It does not perform cryptographic verification or verify log inclusion.\n\n\
             Local TUF environment not initialized, some details will be omitted: "
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no TUF repository initialized in"),
        "{}",
        run.stderr
    );
    run.stdout_text()
}

#[track_caller]
fn assert_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            out.lines().any(|l| l == *line),
            "no line {line:?} in\n{out}"
        );
    }
}

/// Writes a bundle built in the test.
fn write_bundle(s: &Scratch, name: &str, bundle: &Value) -> PathBuf {
    s.write(name, serde_json::to_vec_pretty(bundle).unwrap())
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn keyless_bundles_of_each_media_type_print_as_go_cosign() {
    let s = Scratch::new();
    // Without `cosign initialize`, nothing is fetched and nothing cached.
    s.run(
        &[
            "bundle",
            "inspect",
            &conformance("happy-path-v0.3").display().to_string(),
        ],
        &[("TUF_ROOT", "tuf-untouched")],
        None,
    )
    .ok();
    assert!(!s.path("tuf-untouched").exists());
    // v0.1 and v0.2: certificate chains; v0.3 under both spellings: one certificate.
    let out = same_offline(&s, &conformance("happy-path-v0.1"));
    assert_lines(
        &out,
        &[
            "- Bundle Media Type: application/vnd.dev.sigstore.bundle+json;version=0.1",
            "  - Content: X.509 Certificate Chain",
            "    - Certificates: 1",
            "        - Key Usage: Digital Signature",
            "        - Extended Key Usage: Code Signing",
            "            - Version: v1",
            "      - Kind: hashedrekord",
            "        - Signed Entry Timestamp: Present (71 bytes)",
            "  - Type: Message Signature",
            "    - Algorithm: SHA2_256",
        ],
    );
    let out = same_offline(&s, &conformance("happy-path-v0.2"));
    assert_lines(
        &out,
        &["- Bundle Media Type: application/vnd.dev.sigstore.bundle+json;version=0.2"],
    );
    let out = same_offline(&s, &conformance("happy-path-v0.3"));
    assert_lines(
        &out,
        &[
            "- Bundle Media Type: application/vnd.dev.sigstore.bundle+json;version=0.3",
            "  - Content: X.509 Certificate",
            "    - Signature Algorithm: ECDSA-SHA384",
            "      - Common Name: sigstore-intermediate",
            "      - Public Key: 04db64b5...2d89a1a3 (65 bytes)",
            "      - Authority Key ID: dfd3e9cf56241196f9a8d8e92855a2c62e18643f",
            "      - OIDC Issuer: https://token.actions.githubusercontent.com",
            "      - Source Repository Visibility At Signing: public",
            "          - Log ID: dd3d306ac6c7113263191e1c99673702a24a5eb8de3cadff878a72802f29ee8e",
            "      - Log ID: c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d",
            "          - Origin: rekor.sigstore.dev - 2605736670972794746",
            "            - rekor.sigstore.dev: Signature Present (71 bytes)",
        ],
    );
    let out = same_offline(&s, &conformance("happy-path-v0.3-new-mediaType"));
    assert_lines(
        &out,
        &["- Bundle Media Type: application/vnd.dev.sigstore.bundle.v0.3+json"],
    );
    // An SCT with extensions; a log v1 checkpoint with other content.
    let out = same_offline(&s, &conformance("bundle-with-sct-with-extensions"));
    assert!(out.contains("          - Extensions: "), "{out}");
    // An unrecognized media type is only a warning.
    let out = same_offline(&s, &conformance("bundle-unknown-version_fail"));
    assert_lines(
        &out,
        &[
            "- Bundle Media Type: application/vnd.dev.sigstore.bundle+json;version=99.9",
            "- [!] WARNING: Unrecognized Media Type",
        ],
    );
}

#[test]
fn dsse_timestamps_and_rekor_v2_checkpoints_print_as_go_cosign() {
    let s = Scratch::new();
    // DSSE with an in-toto statement.
    let out = same_offline(&s, &conformance("happy-path-intoto-in-dsse-v3"));
    assert_lines(
        &out,
        &[
            "  - Type: DSSE Envelope",
            "  - Payload Type: application/vnd.in-toto+json",
            "  - Payload Content (in-toto):",
            "  - Signatures: 1",
            "    - Signature [0]:",
        ],
    );
    // A v0.2 chain bundle with DSSE and an RFC 3161 timestamp.
    let out = same_offline(&s, &conformance("intoto-with-custom-trust-root"));
    assert_lines(&out, &["  - Timestamp Verification Data:"]);
    // RFC 3161 timestamps with and without the TSA's certificate; rekor v2 entries (no
    // integrated time) with witnessed checkpoints.
    for case in [
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-without-embedded-cert",
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-dsse-happy-path",
        // The TSA certificate had expired when it signed: Go's timestamp parser refuses it,
        // the timestamp node stays empty.
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
    ] {
        same_offline(&s, &conformance(case));
    }
    let out = same_offline(&s, &conformance("rekor2-timestamp-with-embedded-cert"));
    assert_lines(
        &out,
        &[
            "    - RFC3161 Timestamps: 1",
            "      - Hash Algorithm: SHA-256",
            "      - Message Imprint: Present (32 bytes)",
            "      - Policy: 1.3.6.1.4.1.57264.2",
            "      - Integrated Time: 0 (Not set)",
        ],
    );
    let out = same_offline(&s, &conformance("rekor2-checkpoint-cosigned"));
    assert!(out.contains("          - Witnesses: 2\n"), "{out}");
}

#[test]
fn key_signed_bundles_print_as_go_cosign() {
    let s = Scratch::new();
    // A public key hint (the conformance suite's managed key, with a timestamp).
    let out = same_offline(&s, &conformance("managed-key-happy-path"));
    assert_lines(&out, &["  - Content: Public Key Identifier"]);
    // A bundle of our own sign-blob, with a DSSE twin from attest-blob.
    s.keypair("cosign", "pw");
    s.write("blob", "inspect me\n");
    s.write("predicate.json", r#"{"a":1}"#);
    let pw = [("COSIGN_PASSWORD", "pw")];
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--bundle",
            "blob.sigstore.json",
            "blob",
        ],
        &pw,
        None,
    )
    .ok();
    s.run(
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format",
            "--type",
            "custom",
            "--predicate",
            "predicate.json",
            "--bundle",
            "att.sigstore.json",
            "blob",
        ],
        &pw,
        None,
    )
    .ok();
    let out = same_offline(&s, &s.path("blob.sigstore.json"));
    let hint = serde_json::from_slice::<Value>(&s.read("blob.sigstore.json")).unwrap()
        ["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap()
        .to_owned();
    let hint_hex = hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(&hint)
            .unwrap(),
    );
    assert_lines(
        &out,
        &[
            "  - Content: Public Key Identifier",
            &format!("    - Hint: {hint_hex}"),
            "  - Type: Message Signature",
        ],
    );
    let out = same_offline(&s, &s.path("att.sigstore.json"));
    assert_lines(
        &out,
        &[
            "    - Predicate Type: https://cosign.sigstore.dev/attestation/v1",
            "    - Subjects: 1",
            "      - Name: blob",
        ],
    );
}

#[test]
fn bundles_breaking_their_rules_get_go_cosigns_warnings() {
    let s = Scratch::new();
    let v01 = "application/vnd.dev.sigstore.bundle+json;version=0.1";
    let v02 = "application/vnd.dev.sigstore.bundle+json;version=0.2";
    let v03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let leaf =
        serde_json::from_slice::<Value>(&std::fs::read(conformance("happy-path-v0.3")).unwrap())
            .unwrap()["verificationMaterial"]["certificate"]["rawBytes"]
            .clone();
    let in_toto = |statement: &Value| b64(statement.to_string().as_bytes());
    // The leaf with a `}` in its URI SAN (Go's net/url prints it escaped) and an SCT of
    // version 2 (printed "v3"): same lengths, so the DER stays well formed.
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(leaf.as_str().unwrap())
        .unwrap();
    let at = der.windows(5).position(|w| w == b".yml@").unwrap();
    der[at + 1] = b'}';
    let log_id =
        hex::decode("dd3d306ac6c7113263191e1c99673702a24a5eb8de3cadff878a72802f29ee8e").unwrap();
    let at = der.windows(32).position(|w| w == log_id).unwrap();
    der[at - 1] = 2;
    let cases = [
        ("empty.json", json!({})),
        (
            "v01.json",
            json!({"mediaType": v01, "verificationMaterial": {"certificate": {"rawBytes": leaf},
                "tlogEntries": [{"logIndex": "1", "logId": {}, "kindVersion": {}}]},
                "messageSignature": {"messageDigest": {"algorithm": 7}}}),
        ),
        (
            "v02.json",
            json!({"mediaType": v02, "verificationMaterial": {"certificate": {},
                "tlogEntries": [{"inclusionPromise": {}, "inclusionProof": {"checkpoint": {}}}],
                "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": "MAA="}]}},
                "messageSignature": {}}),
        ),
        (
            "v03-chain.json",
            json!({"mediaType": v03, "verificationMaterial": {"x509CertificateChain":
                {"certificates": [{"rawBytes": leaf}, {"rawBytes": "AAAA"}]}}}),
        ),
        (
            "no-content.json",
            json!({"mediaType": "application/json", "verificationMaterial": {"x509CertificateChain": {}}}),
        ),
        (
            "dsse-two-sigs.json",
            json!({"mediaType": v03, "verificationMaterial": {"publicKey": {"hint": "AQ=="}},
                "dsseEnvelope": {"payloadType": "text/plain", "payload": "AA==",
                    "signatures": [{"sig": "AQ==", "keyid": "AQ=="}, {"sig": "AQ=="}]}}),
        ),
        (
            "dsse-two-sigs-in-toto.json",
            json!({"mediaType": v03, "verificationMaterial": {"publicKey": {"hint": "AQ=="}},
                "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json",
                    "payload": in_toto(&json!({"predicateType": "p", "subject": [{"name": "a"}, {"digest": {}}, "x"]})),
                    "signatures": [{"sig": "AQ==", "keyid": "Ag=="}, {"keyid": "not base64"}]}}),
        ),
        (
            "odd-leaf.json",
            json!({"mediaType": v03, "verificationMaterial": {"certificate": {"rawBytes": b64(&der)}},
                "messageSignature": {}}),
        ),
        (
            "dsse-no-sigs.json",
            json!({"mediaType": v03, "verificationMaterial": {"publicKey": {}},
                "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": in_toto(&Value::Null)}}),
        ),
    ];
    let mut outputs = Vec::new();
    for (name, bundle) in &cases {
        outputs.push(same_offline(&s, &write_bundle(&s, name, bundle)));
    }
    assert_lines(
        &outputs[0],
        &[
            "- Bundle Media Type:",
            "- [!] WARNING: Missing Bundle Media Type",
            "- [!] WARNING: Missing Verification Material",
            "- [!] WARNING: Missing Content",
        ],
    );
    assert_lines(
        &outputs[1],
        &[
            "    - [!] WARNING: v0.1/v0.2 bundle should use certificate chain, not single certificate",
            "      - Log ID:",
            "      - Kind:",
            "      - [!] WARNING: v0.1 bundle tlog entry MUST contain an inclusion promise",
            "    - Algorithm: 7",
        ],
    );
    assert_lines(
        &outputs[2],
        &[
            "    - [!] WARNING: Certificate raw_bytes is empty",
            "      - Integrated Time: 0 (Not set)",
            "          - Envelope: Present (0 bytes)",
            "    - Timestamp [0]:",
            "  - Signature: Present (0 bytes)",
        ],
    );
    assert_lines(
        &outputs[3],
        &[
            "      - Error: parsing certificate: x509: malformed certificate",
            "    - [!] WARNING: v0.3 bundle should use single certificate, not chain",
            "- [!] WARNING: Missing Content",
        ],
    );
    assert_lines(
        &outputs[4],
        &[
            "- [!] WARNING: Unrecognized Media Type",
            "    - [!] WARNING: Certificate chain is empty",
        ],
    );
    // Go cosign loses the signatures of a DSSE envelope with two of them unless the in-toto
    // node came before (its node pointer goes stale when the warning is appended).
    assert!(!outputs[5].contains("Signature [0]"), "{}", outputs[5]);
    assert_lines(
        &outputs[6],
        &[
            "      - Key Hint: 02",
            "      - [!] WARNING: Key hint mismatch with Verification Material",
            "      - Key Hint: not base64",
            "  - [!] WARNING: DSSE envelope MUST contain only one signature",
        ],
    );
    let odd = &outputs[7];
    assert!(
        odd.contains("/extremely-dangerous-oidc-beacon.%7Dml@refs/heads/main\n"),
        "{odd}"
    );
    assert_lines(odd, &["          - Version: v3"]);
    assert_lines(
        &outputs[8],
        &[
            "    - [!] WARNING: Public key hint is empty",
            "  - Payload Content (in-toto):",
            "  - Signatures: 0",
        ],
    );
}

#[test]
fn malformed_files_fail_as_go_cosign_fails() {
    let s = Scratch::new();
    let cases: [(&str, &[u8]); 6] = [
        ("not-json.json", b"not json at all"),
        ("empty.json", b""),
        (
            "unknown-field.json",
            b"{\n  \"mediaType\": \"x\",\n  \"extra\": 1\n}",
        ),
        (
            "bad-base64.json",
            br#"{"messageSignature": {"signature": "A"}}"#,
        ),
        (
            "two-contents.json",
            br#"{"messageSignature": {}, "dsseEnvelope": {}}"#,
        ),
        (
            "truncated.json",
            br#"{"verificationMaterial": {"tlogEntries": [{"#,
        ),
    ];
    for (name, data) in cases {
        let run = same_offline(&s, &s.write(name, data));
        assert_eq!(run, "", "{name}");
    }
    let tuf = s.path("tuf").display().to_string();
    let run = same_as_go(&s, &s.path("not-json.json"), &tuf);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "Error: unmarshaling bundle: proto: syntax error (line 1:1): invalid value not\n"
        ),
        "{}",
        run.stderr
    );
    let run = same_as_go(&s, &s.path("unknown-field.json"), &tuf);
    assert!(
        run.stderr
            .contains("Error: unmarshaling bundle: proto: (line 3:3): unknown field \"extra\"\n"),
        "{}",
        run.stderr
    );
    // A missing file and a directory.
    let run = same_as_go(&s, &s.path("missing.json"), &tuf);
    assert!(
        run.stderr.contains("Error: opening bundle file: open "),
        "{}",
        run.stderr
    );
    std::fs::create_dir(s.path("dir")).unwrap();
    let run = same_as_go(&s, &s.path("dir"), &tuf);
    assert!(
        run.stderr.contains("Error: reading bundle: read "),
        "{}",
        run.stderr
    );
}

/// Serves a TUF repository over HTTP (Go's TUF client reads no `file://` mirror).
struct HttpMirror {
    url: String,
}

impl HttpMirror {
    fn serve(files: Arc<Mutex<std::collections::BTreeMap<String, Vec<u8>>>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let files = Arc::clone(&files);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    if reader.read_line(&mut request).is_err() {
                        return;
                    }
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                    }
                    let path = request.split(' ').nth(1).unwrap_or("/");
                    let body = files.lock().unwrap().get(&path[1..]).cloned();
                    let response = match body {
                        Some(body) => {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            )
                            .into_bytes();
                            r.extend_from_slice(&body);
                            r
                        }
                        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec(),
                    };
                    let _ = stream.write_all(&response);
                });
            }
        });
        Self { url }
    }
}

#[test]
fn the_initialized_trusted_root_names_logs_and_authorities_as_go_cosign() {
    let s = Scratch::new();
    // A repository whose trusted root is the public-good one built into cosign.
    let mut repo = tuf_repo::Repo::new();
    repo.targets.insert(
        "trusted_root.json".into(),
        cosign_trust::tuf::Instance::PublicGood
            .trusted_root_json()
            .to_vec(),
    );
    repo.publish();
    std::fs::write(s.path("root.json"), &repo.roots[&1]).unwrap();
    let mirror = HttpMirror::serve(Arc::clone(&repo.files));
    // Initialized by Go cosign, read by both.
    let tuf = s.path("tuf").display().to_string();
    let env = env(&s, &tuf);
    let init = ["initialize", "--mirror", &mirror.url, "--root", "root.json"];
    let go_init = run(&test_support::cosign_go_bin(), &s, &init, &env);
    assert_eq!(go_init.code, 0, "{}", go_init.stderr);
    let warning = "WARNING: This command only inspects the contents of the bundle.\n\
                   It does not perform cryptographic verification or verify log inclusion.\n\n";
    // Public-good bundles: every log and the CA named by URL. A staging (rekor v2) bundle: its
    // logs are not in the public-good root, their IDs stay.
    for (case, public_good) in [
        ("happy-path-v0.3", true),
        ("happy-path-v0.1", true),
        ("rekor2-checkpoint-cosigned", false),
    ] {
        let run = same_as_go(&s, &conformance(case), &tuf);
        assert_eq!(run.stderr, warning);
        let out = run.stdout_text();
        assert_eq!(!out.contains("Log ID"), public_good, "{out}");
    }
    let out = same_as_go(&s, &conformance("happy-path-v0.3"), &tuf).stdout_text();
    assert_lines(
        &out,
        &[
            "      - Authority URL: https://fulcio.sigstore.dev",
            "          - Log URL: https://ctfe.sigstore.dev/2022",
            "      - Log URL: https://rekor.sigstore.dev",
        ],
    );
    // Initialized by us: the same.
    let ours = s.path("tuf-ours").display().to_string();
    s.run(&init, &[("TUF_ROOT", ours.as_str())], None).ok();
    let run = same_as_go(&s, &conformance("happy-path-v0.3"), &ours);
    assert_eq!(run.stderr, warning);
    assert_eq!(run.stdout_text(), out);
}

/// The one known difference: Go prints an SCT's time in the local time zone (`time.Unix`),
/// we print every time in UTC (as our Go-style log lines do), so outside UTC that line differs.
#[test]
fn sct_times_are_utc_where_go_uses_the_local_zone() {
    let s = Scratch::new();
    let tuf = s.path("tuf").display().to_string();
    let mut env = env(&s, &tuf);
    for (k, v) in &mut env {
        if k == "TZ" {
            *v = "Asia/Tokyo".into();
        }
    }
    let bundle = conformance("happy-path-v0.3").display().to_string();
    let args = ["bundle", "inspect", bundle.as_str()];
    let ours = run(Path::new(env!("CARGO_BIN_EXE_cosign")), &s, &args, &env).stdout_text();
    let go = run(&test_support::cosign_go_bin(), &s, &args, &env).stdout_text();
    let differing: Vec<(&str, &str)> = ours
        .lines()
        .zip(go.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        differing,
        [(
            "          - Timestamp: 2024-03-19T17:26:26Z",
            "          - Timestamp: 2024-03-20T02:26:26+09:00"
        )]
    );
}
