//! generate-key-pair, import-key-pair and public-key, against real files and the third-party
//! fixtures.

use std::os::unix::fs::PermissionsExt;

use crate::common::{Scratch, fixture};

fn mode(s: &Scratch, name: &str) -> u32 {
    std::fs::metadata(s.path(name))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn generate_key_pair_writes_encrypted_key_and_public_key() {
    let s = Scratch::new();
    let run = s
        .run(
            &["generate-key-pair"],
            &[("COSIGN_PASSWORD", "hunter2")],
            None,
        )
        .ok();
    insta::assert_snapshot!(run.stderr, @r"
    Private key written to cosign.key
    Public key written to cosign.pub
    ");
    assert!(run.stdout.is_empty());
    let key = String::from_utf8(s.read("cosign.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let pubkey = String::from_utf8(s.read("cosign.pub")).unwrap();
    assert!(pubkey.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pubkey.ends_with("-----END PUBLIC KEY-----\n"));
    assert_eq!(mode(&s, "cosign.key"), 0o600);
    assert_eq!(mode(&s, "cosign.pub"), 0o644);
    // openssl reads the public key: it is an ECDSA P-256 SPKI.
    let text = String::from_utf8(s.tool(
        "openssl",
        &["pkey", "-pubin", "-in", "cosign.pub", "-noout", "-text"],
    ))
    .unwrap();
    assert!(
        text.contains("prime256v1") || text.contains("P-256"),
        "{text}"
    );
    // The key decrypts with the same password and yields the same public key.
    let out = s
        .run(
            &["public-key", "--key", "cosign.key"],
            &[("COSIGN_PASSWORD", "hunter2")],
            None,
        )
        .ok();
    assert_eq!(out.stdout, pubkey.as_bytes());
}

#[test]
fn password_is_read_from_all_of_stdin_when_not_a_terminal() {
    let s = Scratch::new();
    s.run(
        &["generate-key-pair", "--output-key-prefix", "piped"],
        &[],
        Some(b"from-stdin\n"),
    )
    .ok();
    // All of stdin is the password, newline included (as Go's io.ReadAll).
    s.run(
        &["public-key", "--key", "piped.key"],
        &[],
        Some(b"from-stdin\n"),
    )
    .ok();
    let wrong = s
        .run(
            &["public-key", "--key", "piped.key"],
            &[],
            Some(b"from-stdin"),
        )
        .fails();
    assert!(
        wrong
            .stderr
            .contains("decrypt: encrypted: decryption failed"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn empty_password_is_legal() {
    let s = Scratch::new();
    s.keypair("empty", "");
    s.run(
        &["public-key", "--key", "empty.key"],
        &[("COSIGN_PASSWORD", "")],
        None,
    )
    .ok();
}

#[test]
fn overwrite_needs_confirmation_and_decline_keeps_the_old_key() {
    let s = Scratch::new();
    s.keypair("cosign", "a");
    let before = s.read("cosign.key");
    let run = s
        .run(
            &["generate-key-pair"],
            &[("COSIGN_PASSWORD", "b")],
            Some(b"n\n"),
        )
        .fails();
    assert!(
        run.stderr
            .contains("WARNING: File cosign.key already exists. Overwrite?")
    );
    assert!(
        run.stderr
            .contains("Are you sure you would like to continue? [y/N] ")
    );
    assert!(run.stderr.contains("user declined the prompt"));
    assert_eq!(s.read("cosign.key"), before);
    s.run(
        &["generate-key-pair"],
        &[("COSIGN_PASSWORD", "b")],
        Some(b"y\n"),
    )
    .ok();
    assert_ne!(s.read("cosign.key"), before);
}

#[test]
fn failed_generation_leaves_no_partial_files() {
    let s = Scratch::new();
    let run = s
        .run(
            &[
                "generate-key-pair",
                "--output-key-prefix",
                "missing-dir/cosign",
            ],
            &[("COSIGN_PASSWORD", "x")],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("missing-dir/cosign.key"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), 0);
    // A public-key destination that is a directory: the private key must not be written either.
    std::fs::create_dir(s.path("dir.pub")).unwrap();
    s.run(
        &["generate-key-pair", "--output-key-prefix", "dir"],
        &[("COSIGN_PASSWORD", "x")],
        None,
    )
    .fails();
    assert!(!s.path("dir.key").exists());
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(leftovers, ["dir.pub"]);
}

#[test]
fn terminal_prompts_ask_twice_and_catch_mismatches() {
    // `script` gives cosign a pseudo-terminal, so the no-echo prompt path runs for real.
    let s = Scratch::new();
    let run = s.sh(
        "printf 'first\\nsecond\\n' | script -qec 'cosign generate-key-pair' /dev/null",
        &[],
    );
    let all = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(all.contains("Enter password for private key: "), "{all}");
    assert!(
        all.contains("Enter password for private key again: "),
        "{all}"
    );
    assert!(all.contains("passwords do not match"), "{all}");
    assert!(!s.path("cosign.key").exists());
    let run = s.sh(
        "printf 'same\\nsame\\n' | script -qec 'cosign generate-key-pair' /dev/null",
        &[],
    );
    let all = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(all.contains("Private key written to cosign.key"), "{all}");
    s.run(
        &["public-key", "--key", "cosign.key"],
        &[("COSIGN_PASSWORD", "same")],
        None,
    )
    .ok();
}

#[test]
fn piped_password_is_read_once() {
    let s = Scratch::new();
    let run = s.run(&["generate-key-pair"], &[], Some(b"pw")).ok();
    assert!(!run.stderr.contains("again"));
    s.run(
        &["public-key", "--key", "cosign.key"],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
}

#[test]
fn every_third_party_encrypted_key_loads() {
    let s = Scratch::new();
    for (name, pw) in [
        ("cosign_generated_encrypted_empty_private.key", ""),
        ("ecdsa_encrypted_private.key", "123"),
        ("ed25519_encrypted_private.key", "123"),
        ("rsa_encrypted_private.key", "123"),
    ] {
        let key = fixture(name);
        let run = s
            .run(
                &["public-key", "--key", key.to_str().unwrap()],
                &[("COSIGN_PASSWORD", pw)],
                None,
            )
            .ok();
        assert!(
            run.stdout_text().starts_with("-----BEGIN PUBLIC KEY-----"),
            "{name}"
        );
        let bad = s
            .run(
                &["public-key", "--key", key.to_str().unwrap()],
                &[("COSIGN_PASSWORD", "nope")],
                None,
            )
            .fails();
        assert!(
            bad.stderr.contains("decrypt: encrypted: decryption failed"),
            "{name}: {}",
            bad.stderr
        );
    }
}

#[test]
fn public_key_outfile_and_env_reference() {
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    let run = s
        .run(
            &["public-key", "--key", "cosign.key", "--outfile", "out.pub"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok();
    assert_eq!(run.stderr, "Public key written to out.pub\n");
    assert_eq!(s.read("out.pub"), s.read("cosign.pub"));
    let key_text = String::from_utf8(s.read("cosign.key")).unwrap();
    let run = s
        .run(
            &["public-key", "--key", "env://MY_SIGNING_KEY"],
            &[("COSIGN_PASSWORD", "pw"), ("MY_SIGNING_KEY", &key_text)],
            None,
        )
        .ok();
    assert_eq!(run.stdout, s.read("cosign.pub"));
    let run = s
        .run(
            &["public-key", "--key", "env://UNSET_VAR"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("env://UNSET_VAR"));
}

#[test]
fn import_key_pair_accepts_each_plain_pem_kind() {
    let s = Scratch::new();
    // Third-party PKCS#8 keys, and PKCS#1 / SEC1 / P-384 / P-521 keys made by openssl.
    s.tool(
        "openssl",
        &["genrsa", "-traditional", "-out", "rsa1.pem", "2048"],
    );
    s.tool(
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "sec1.pem",
        ],
    );
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
    let cases = [
        fixture("ecdsa_private.key"),
        fixture("ed25519_private.key"),
        fixture("rsa_private.key"),
        s.path("rsa1.pem"),
        s.path("sec1.pem"),
        s.path("p384.pem"),
        s.path("p521.pem"),
    ];
    for (i, key) in cases.iter().enumerate() {
        let prefix = format!("imp{i}");
        let run = s
            .run(
                &[
                    "import-key-pair",
                    "--key",
                    key.to_str().unwrap(),
                    "--output-key-prefix",
                    &prefix,
                ],
                &[("COSIGN_PASSWORD", "pw")],
                None,
            )
            .ok();
        assert_eq!(
            run.stderr,
            format!("Private key written to {prefix}.key\nPublic key written to {prefix}.pub\n")
        );
        let encrypted = String::from_utf8(s.read(&format!("{prefix}.key"))).unwrap();
        assert!(encrypted.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
        // The public key matches what openssl derives from the original PEM (OpenSSL 3.0
        // cannot read the PKCS#8 v2 Ed25519 fixture; it still reads our public key).
        if key.ends_with("ed25519_private.key") {
            let text = s.tool(
                "openssl",
                &[
                    "pkey",
                    "-pubin",
                    "-in",
                    &format!("{prefix}.pub"),
                    "-noout",
                    "-text",
                ],
            );
            assert!(String::from_utf8_lossy(&text).contains("ED25519"));
        } else {
            let expected = s.tool(
                "openssl",
                &["pkey", "-in", key.to_str().unwrap(), "-pubout"],
            );
            assert_eq!(
                s.read(&format!("{prefix}.pub")),
                expected,
                "{}",
                key.display()
            );
        }
    }
}

#[test]
fn import_key_pair_default_prefix_and_refusals() {
    let s = Scratch::new();
    let key = fixture("ecdsa_private.key");
    s.run(
        &["import-key-pair", "-k", key.to_str().unwrap()],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    assert!(s.path("import-cosign.key").exists());
    assert!(s.path("import-cosign.pub").exists());
    // -y skips the overwrite prompt.
    s.run(
        &["import-key-pair", "-k", key.to_str().unwrap(), "-y"],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();

    s.tool("openssl", &["genrsa", "-out", "weak.pem", "1024"]);
    let run = s
        .run(
            &["import-key-pair", "--key", "weak.pem", "-o", "weak"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("1024"), "{}", run.stderr);
    assert!(!s.path("weak.key").exists());

    s.tool(
        "openssl",
        &[
            "ecparam",
            "-name",
            "secp256k1",
            "-genkey",
            "-noout",
            "-out",
            "k1.pem",
        ],
    );
    s.run(
        &["import-key-pair", "--key", "k1.pem", "-o", "k1"],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .fails();

    s.write(
        "cert.pem",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    );
    let run = s
        .run(
            &["import-key-pair", "--key", "cert.pem"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("unsupported pem type: CERTIFICATE REQUEST"),
        "{}",
        run.stderr
    );

    let run = s
        .run(
            &["import-key-pair", "--key", "nope.pem"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("nope.pem"), "{}", run.stderr);
    std::fs::create_dir(s.path("adir")).unwrap();
    let run = s
        .run(
            &["import-key-pair", "--key", "adir"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    s.write("empty.pem", "");
    let run = s
        .run(
            &["import-key-pair", "--key", "empty.pem"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

#[test]
fn hostile_and_broken_key_files_fail_clearly() {
    let s = Scratch::new();
    s.keypair("good", "pw");
    let good = String::from_utf8(s.read("good.key")).unwrap();
    // Truncated file.
    s.write("trunc.key", &good[..good.len() / 2]);
    let run = s
        .run(
            &["public-key", "--key", "trunc.key"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(run.stderr.contains("trunc.key"), "{}", run.stderr);
    // A PEM whose body is not JSON.
    s.write(
        "notjson.key",
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
    );
    s.run(
        &["public-key", "--key", "notjson.key"],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .fails();
    // An unsupported scrypt cost must be refused at once, without running scrypt.
    let body = r#"{"kdf":{"name":"scrypt","params":{"N":1099511627776,"r":8,"p":1},"salt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
    use base64::Engine as _;
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(body)
    );
    s.write("costly.key", pem);
    let start = std::time::Instant::now();
    let run = s
        .run(
            &["public-key", "--key", "costly.key"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("unsupported scrypt parameters"),
        "{}",
        run.stderr
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    // An unencrypted key is not a signing key file.
    let run = s
        .run(
            &[
                "public-key",
                "--key",
                fixture("ecdsa_private.key").to_str().unwrap(),
            ],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains("unsupported pem type: PRIVATE KEY"),
        "{}",
        run.stderr
    );
    // Unknown scheme.
    let run = s
        .run(
            &["public-key", "--key", "foo://bar"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("loading URL: unrecognized scheme: foo://"),
        "{}",
        run.stderr
    );
    // Secrets never appear in output.
    assert!(!run.stderr.contains("pw"));
}
