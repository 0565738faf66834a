//! sign-blob and verify-blob end to end: every key type, files, stdin, pipes, both bundle
//! formats, digests, and the refusals.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::{Scratch, fixture};

const NO_TLOG: &str = "--tlog-upload=false";
const IGNORE_TLOG: &str = "--insecure-ignore-tlog";

/// Key files (private, public, password) for every supported key type.
fn all_keys(s: &Scratch) -> Vec<(String, String, String)> {
    s.keypair("p256", "pw");
    s.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.pem",
        ],
    );
    s.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-out",
            "p521.pem",
        ],
    );
    for name in ["p384", "p521"] {
        s.run(
            &[
                "import-key-pair",
                "--key",
                &format!("{name}.pem"),
                "-o",
                name,
            ],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok();
    }
    let mut keys: Vec<(String, String, String)> = ["p256", "p384", "p521"]
        .iter()
        .map(|n| (format!("{n}.key"), format!("{n}.pub"), "pw".to_owned()))
        .collect();
    for name in ["rsa", "ed25519", "ecdsa"] {
        let key = fixture(&format!("{name}_encrypted_private.key"));
        let out = s
            .run(
                &[
                    "public-key",
                    "--key",
                    key.to_str().unwrap(),
                    "--outfile",
                    &format!("{name}3p.pub"),
                ],
                &[("COSIGN_PASSWORD", "123")],
                None,
            )
            .ok();
        drop(out);
        keys.push((
            key.to_str().unwrap().to_owned(),
            format!("{name}3p.pub"),
            "123".to_owned(),
        ));
    }
    keys
}

#[test]
fn sign_and_verify_with_every_key_type_all_ways() {
    let s = Scratch::new();
    s.write("blob.txt", "hello, world\n");
    s.write("other.txt", "hello, world!\n");
    for (key, public, pw) in all_keys(&s) {
        let env = [("COSIGN_PASSWORD", pw.as_str())];
        let run = s
            .run(
                &["sign-blob", "--key", &key, NO_TLOG, "blob.txt"],
                &env,
                None,
            )
            .ok();
        assert_eq!(run.stderr, "Using payload from: blob.txt\n", "{key}");
        let sig = run.stdout_text();
        assert!(sig.ends_with('\n'));
        let sig = sig.trim_end().to_owned();
        STANDARD.decode(&sig).unwrap();

        // From the signature text, from a file, from stdin.
        let ok = s
            .run(
                &[
                    "verify-blob",
                    "--key",
                    &public,
                    "--signature",
                    &sig,
                    IGNORE_TLOG,
                    "blob.txt",
                ],
                &[],
                None,
            )
            .ok();
        assert_eq!(
            ok.stderr,
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.\nVerified OK\n"
        );
        s.write("blob.sig", &sig);
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--signature",
                "blob.sig",
                IGNORE_TLOG,
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--signature",
                "blob.sig",
                IGNORE_TLOG,
                "-",
            ],
            &[],
            Some(b"hello, world\n"),
        )
        .ok();
        // Wrong content, wrong key.
        let bad = s
            .run(
                &[
                    "verify-blob",
                    "--key",
                    &public,
                    "--signature",
                    "blob.sig",
                    IGNORE_TLOG,
                    "other.txt",
                ],
                &[],
                None,
            )
            .fails();
        assert!(bad.stderr.contains("invalid signature"), "{}", bad.stderr);
        let wrong_key = if public == "p256.pub" {
            "p384.pub"
        } else {
            "p256.pub"
        };
        s.run(
            &[
                "verify-blob",
                "--key",
                wrong_key,
                "--signature",
                "blob.sig",
                IGNORE_TLOG,
                "blob.txt",
            ],
            &[],
            None,
        )
        .fails();

        // Signing standard input gives a signature over the same content.
        let run = s
            .run(
                &["sign-blob", "--key", &key, NO_TLOG, "-"],
                &env,
                Some(b"hello, world\n"),
            )
            .ok();
        assert!(!run.stderr.contains("Using payload"), "{}", run.stderr);
        let sig2 = run.stdout_text().trim_end().to_owned();
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--signature",
                &sig2,
                IGNORE_TLOG,
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();

        // Legacy bundle and Sigstore bundle, verified from the file and by digest.
        s.run(
            &[
                "sign-blob",
                "--key",
                &key,
                NO_TLOG,
                "--new-bundle-format=false",
                "--bundle",
                "legacy.json",
                "blob.txt",
            ],
            &env,
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--bundle",
                "legacy.json",
                IGNORE_TLOG,
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--bundle",
                "legacy.json",
                IGNORE_TLOG,
                "other.txt",
            ],
            &[],
            None,
        )
        .fails();
        let run = s
            .run(
                &[
                    "sign-blob",
                    "--key",
                    &key,
                    NO_TLOG,
                    "--new-bundle-format",
                    "--bundle",
                    "new.json",
                    "blob.txt",
                ],
                &env,
                None,
            )
            .ok();
        assert!(run.stdout.is_empty());
        assert!(run.stderr.contains("Wrote bundle to file new.json"));
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--bundle",
                "new.json",
                IGNORE_TLOG,
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
        s.run(
            &[
                "verify-blob",
                "--key",
                &public,
                "--bundle",
                "new.json",
                IGNORE_TLOG,
                "other.txt",
            ],
            &[],
            None,
        )
        .fails();
        let bundle: serde_json::Value = serde_json::from_slice(&s.read("new.json")).unwrap();
        let md = &bundle["messageSignature"]["messageDigest"];
        let alg = md["algorithm"].as_str().unwrap();
        let digest_hex = hex_of(&STANDARD.decode(md["digest"].as_str().unwrap()).unwrap());
        if key.contains("ed25519") {
            assert_eq!(alg, "SHA2_512");
            let run = s
                .run(
                    &[
                        "verify-blob",
                        "--key",
                        &public,
                        "--bundle",
                        "new.json",
                        IGNORE_TLOG,
                        &format!("sha512:{digest_hex}"),
                    ],
                    &[],
                    None,
                )
                .fails();
            assert!(run.stderr.contains("pure Ed25519"), "{}", run.stderr);
        } else {
            let name = match alg {
                "SHA2_256" => "sha256",
                "SHA2_384" => "sha384",
                _ => "sha512",
            };
            s.run(
                &[
                    "verify-blob",
                    "--key",
                    &public,
                    "--bundle",
                    "new.json",
                    IGNORE_TLOG,
                    &format!("{name}:{digest_hex}"),
                ],
                &[],
                None,
            )
            .ok();
            // A different digest fails.
            let zero = "0".repeat(digest_hex.len());
            s.run(
                &[
                    "verify-blob",
                    "--key",
                    &public,
                    "--bundle",
                    "new.json",
                    IGNORE_TLOG,
                    &format!("{name}:{zero}"),
                ],
                &[],
                None,
            )
            .fails();
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn bundles_have_cosign_shapes() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    let env = [("COSIGN_PASSWORD", "pw")];
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--new-bundle-format=false",
            "--bundle",
            "b.json",
            "f",
        ],
        &env,
        None,
    )
    .ok();
    let legacy: serde_json::Value = serde_json::from_slice(&s.read("b.json")).unwrap();
    let keys: Vec<_> = legacy.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["base64Signature", "cert"]);
    let cert = STANDARD.decode(legacy["cert"].as_str().unwrap()).unwrap();
    assert_eq!(cert, s.read("cosign.pub"));

    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--new-bundle-format",
            "--bundle",
            "n.json",
            "f",
        ],
        &env,
        None,
    )
    .ok();
    let text = String::from_utf8(s.read("n.json")).unwrap();
    assert!(text.starts_with(
        r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":""#
    ), "{text}");
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
    // The hint is base64 of SHA-256 over the public key's DER.
    let der = s.tool(
        "openssl",
        &["pkey", "-pubin", "-in", "cosign.pub", "-outform", "DER"],
    );
    std::fs::write(s.path("pub.der"), der).unwrap();
    let digest = s.tool("openssl", &["dgst", "-sha256", "-binary", "pub.der"]);
    assert_eq!(
        b["verificationMaterial"]["publicKey"]["hint"],
        STANDARD.encode(digest)
    );
    let file_digest = s.tool("openssl", &["dgst", "-sha256", "-binary", "f"]);
    assert_eq!(
        b["messageSignature"]["messageDigest"]["digest"],
        STANDARD.encode(file_digest)
    );
}

#[test]
fn output_files_and_raw_signatures() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    let env = [("COSIGN_PASSWORD", "pw")];
    let run = s
        .run(
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--output-signature",
                "f.sig",
                "f",
            ],
            &env,
            None,
        )
        .ok();
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr,
        "Using payload from: f\nWrote signature to file f.sig\n"
    );
    let b64 = s.read("f.sig");
    assert!(!b64.ends_with(b"\n"));
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            "f.sig",
            IGNORE_TLOG,
            "f",
        ],
        &[],
        None,
    )
    .ok();
    // --b64=false writes the raw DER signature.
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--b64=false",
            "--output-signature",
            "raw.sig",
            "f",
        ],
        &env,
        None,
    )
    .ok();
    assert_eq!(s.read("raw.sig")[0], 0x30, "an ASN.1 SEQUENCE");
    // The deprecated --output flag still works, with its warning.
    let run = s
        .run(
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--output",
                "o.sig",
                "f",
            ],
            &env,
            None,
        )
        .ok();
    assert!(
        run.stderr
            .contains("WARNING: the '--output' flag is deprecated")
    );
    assert!(s.path("o.sig").exists());
    // Several blobs in one call: one password read, one signature each.
    s.write("g", "more");
    let run = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "f", "g"],
            &env,
            None,
        )
        .ok();
    assert_eq!(run.stdout_text().lines().count(), 2);
}

#[test]
fn public_log_needs_consent_and_verification_needs_a_log_key() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    // Recording in the public-good log shows cosign's notice and asks first; declined (empty
    // stdin), nothing is signed or printed.
    let run = s
        .run(
            &["sign-blob", "--key", "cosign.key", "f"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("The sigstore service, hosted by sigstore a Series of LF Projects, LLC"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("user declined the prompt"),
        "{}",
        run.stderr
    );
    let sig = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "f"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok()
        .stdout_text();
    // Verifying the log needs a trusted log key; without one it is an error, never a pass.
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                sig.trim(),
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("--insecure-ignore-tlog"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Verified OK"));
    // The setting also comes from the environment, as COSIGN_TLOG_UPLOAD.
    s.run(
        &["sign-blob", "--key", "cosign.key", "f"],
        &[("COSIGN_PASSWORD", "pw"), ("COSIGN_TLOG_UPLOAD", "false")],
        None,
    )
    .ok();
}

#[test]
fn bad_inputs_fail_clearly() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    let env = [("COSIGN_PASSWORD", "pw")];
    let run = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "missing"],
            &env,
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("missing") && run.stderr.contains("No such file"),
        "{}",
        run.stderr
    );
    std::fs::create_dir(s.path("d")).unwrap();
    let run = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "d"],
            &env,
            None,
        )
        .fails();
    assert!(run.stderr.contains("d: is a directory"), "{}", run.stderr);
    // Missing key, keyless, password and payload both on stdin.
    // Keyless without a token on the token flow: Go's refusal, before any network.
    let run = s
        .run(
            &["sign-blob", NO_TLOG, "--fulcio-auth-flow", "token", "f"],
            &env,
            None,
        )
        .fails();
    assert!(run.stderr.contains("--identity-token"), "{}", run.stderr);
    let run = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "-"],
            &[],
            Some(b"data"),
        )
        .fails();
    assert!(run.stderr.contains("COSIGN_PASSWORD"), "{}", run.stderr);
    let run = s
        .run(
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                NO_TLOG,
                "--new-bundle-format",
                "f",
            ],
            &env,
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("must specify --bundle with --new-bundle-format")
    );

    let sig = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "f"],
            &env,
            None,
        )
        .ok()
        .stdout_text();
    let sig = sig.trim();
    // Signature not base64; empty signature file; signature for a directory.
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                "%%%notbase64",
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("base64"), "{}", run.stderr);
    s.write("empty.sig", "");
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                "empty.sig",
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                sig,
                IGNORE_TLOG,
                "d",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                sig,
                IGNORE_TLOG,
                "nothere",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("nothere"), "{}", run.stderr);
    // A private key given to verify; no key at all; bundle that is not JSON.
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.key",
                "--signature",
                sig,
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("private key"), "{}", run.stderr);
    let run = s
        .run(
            &["verify-blob", "--signature", sig, IGNORE_TLOG, "f"],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("provide a key with --key"),
        "{}",
        run.stderr
    );
    s.write("junk.json", "not json");
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                "junk.json",
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("junk.json"), "{}", run.stderr);
    s.write("other.json", r#"{"hello":1}"#);
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "other.json",
            IGNORE_TLOG,
            "f",
        ],
        &[],
        None,
    )
    .fails();
    // A bundle whose signature differs from --signature.
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            NO_TLOG,
            "--new-bundle-format=false",
            "--bundle",
            "b.json",
            "f",
        ],
        &env,
        None,
    )
    .ok();
    s.write("g", "other");
    let other = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "g"],
            &env,
            None,
        )
        .ok()
        .stdout_text();
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                "b.json",
                "--signature",
                other.trim(),
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("differs"), "{}", run.stderr);
}

#[test]
fn empty_blob_signs_and_verifies() {
    // cosign signs an empty file (its digest is the SHA-256 of nothing); so do we.
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("empty", "");
    let sig = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "empty"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok()
        .stdout_text();
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            sig.trim(),
            IGNORE_TLOG,
            "empty",
        ],
        &[],
        None,
    )
    .ok();
}

#[test]
fn seed_easy_and_medium_mode_with_process_substitution() {
    // The seed document signs `<(git rev-parse HEAD)` and verifies with `--signature <(...)`.
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let run = s.sh(
        "sig=$(cosign sign-blob --key cosign.key --tlog-upload=false <(echo 455d1988360dcfdcf0fa17b0736fbbc33b4924c0))\n\
         cosign verify-blob --key cosign.pub --signature \"$sig\" --insecure-ignore-tlog <(echo 455d1988360dcfdcf0fa17b0736fbbc33b4924c0)\n\
         cosign verify-blob --key cosign.pub --signature <(echo \"$sig\") --insecure-ignore-tlog <(echo 455d1988360dcfdcf0fa17b0736fbbc33b4924c0)",
        &[("COSIGN_PASSWORD", "pw")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Using payload from: /dev/fd/"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("Verified OK").count(),
        2,
        "{}",
        run.stderr
    );
}

#[test]
fn ed25519_pipes_spill_and_verify() {
    // Pure Ed25519 needs the message twice: a pipe is spilled to a temporary file.
    let s = Scratch::new();
    let key = fixture("ed25519_encrypted_private.key");
    s.run(
        &[
            "public-key",
            "--key",
            key.to_str().unwrap(),
            "--outfile",
            "ed.pub",
        ],
        &[("COSIGN_PASSWORD", "123")],
        None,
    )
    .ok();
    let run = s.sh(
        &format!(
            "head -c 3000000 /dev/zero | cosign sign-blob --key {} --tlog-upload=false - > sig\n\
             head -c 3000000 /dev/zero > blob\n\
             cosign verify-blob --key ed.pub --signature sig --insecure-ignore-tlog blob\n\
             cosign verify-blob --key ed.pub --signature sig --insecure-ignore-tlog <(head -c 3000000 /dev/zero)",
            key.display()
        ),
        &[("COSIGN_PASSWORD", "123")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with(".tmp") && !n.starts_with(".cosign-tmp")),
        "{names:?}"
    );
}

#[test]
fn key_from_http_url_and_env_binding() {
    use std::io::{Read, Write};
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    let sig = s
        .run(
            &["sign-blob", "--key", "cosign.key", NO_TLOG, "f"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok()
        .stdout_text();
    let pubkey = s.read("cosign.pub");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let (status, body) = if req.starts_with("GET /cosign.pub ") {
                ("200 OK", pubkey.clone())
            } else {
                ("404 Not Found", b"no".to_vec())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(&body).unwrap();
        }
    });
    let url = format!("http://{addr}/cosign.pub");
    s.run(
        &[
            "verify-blob",
            "--key",
            &url,
            "--signature",
            sig.trim(),
            IGNORE_TLOG,
            "f",
        ],
        &[],
        None,
    )
    .ok();
    let missing = format!("http://{addr}/missing.pub");
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                &missing,
                "--signature",
                sig.trim(),
                IGNORE_TLOG,
                "f",
            ],
            &[],
            None,
        )
        .fails();
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    server.join().unwrap();
    // COSIGN_KEY binds --key; an explicit flag wins.
    s.run(
        &["verify-blob", "--signature", sig.trim(), IGNORE_TLOG, "f"],
        &[("COSIGN_KEY", "cosign.pub")],
        None,
    )
    .ok();
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            sig.trim(),
            IGNORE_TLOG,
            "f",
        ],
        &[("COSIGN_KEY", "nonexistent.pub")],
        None,
    )
    .ok();
}

#[test]
fn single_dash_long_flags_still_work() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("f", "data");
    let run = s
        .run(
            &["sign-blob", "-key", "cosign.key", "-tlog-upload=false", "f"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok();
    assert!(run.stderr.contains(
        "WARNING: the -key flag is deprecated and will be removed in a future release. Please use the --key flag instead."
    ));
}
