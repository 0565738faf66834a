//! PKCS#11 keys end to end with a real SoftHSM2 token (test-support's `SoftHsmToken`): sign-blob,
//! sign, public-key and verify* with `pkcs11:` URIs, PINs from every source, certificates on the
//! token, `pkcs11-tool`, and bad input. A missing SoftHSM fails these tests (it does not skip
//! them): run scripts/install-test-deps.sh.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use test_support::{ImageSpec, Registry, RegistryConfig, SoftHsmToken, TokenKeyType, push_image};

use crate::common::{Run, Scratch};

const NO_TLOG: &str = "--tlog-upload=false";
const IGNORE_TLOG: &str = "--insecure-ignore-tlog";

/// Runs cosign with the token's `SOFTHSM2_CONF` plus `env`.
fn run(
    s: &Scratch,
    token: &SoftHsmToken,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> Run {
    let conf = token.conf.to_str().unwrap().to_owned();
    let mut all = vec![("SOFTHSM2_CONF", conf.as_str())];
    all.extend_from_slice(env);
    s.run(args, &all, stdin)
}

/// Asserts the PIN never shows (in URIs or anywhere else) in a run's output.
#[track_caller]
fn no_pin_leak(r: &Run, pin: &str) {
    assert!(!r.stderr.contains("pin-value"), "{}", r.stderr);
    assert!(!r.stderr.contains(pin), "PIN in stderr: {}", r.stderr);
}

fn openssl_verify(s: &Scratch, digest: &str, pubkey: &str, sig_b64: &[u8], blob: &str) {
    let sig = STANDARD
        .decode(String::from_utf8_lossy(sig_b64).trim())
        .unwrap();
    s.write("sig.der", sig);
    let out = s.tool(
        "openssl",
        &[
            "dgst",
            digest,
            "-verify",
            pubkey,
            "-signature",
            "sig.der",
            blob,
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
}

fn sign_blob_round_trip(kind: TokenKeyType) {
    let token = SoftHsmToken::new(kind);
    let s = Scratch::new();
    s.write("blob.txt", b"a blob signed by a hardware token\n");
    let uri = token.uri();

    let r = run(
        &s,
        &token,
        &[
            "sign-blob",
            NO_TLOG,
            "--key",
            &uri,
            "--output-signature",
            "blob.sig",
            "blob.txt",
        ],
        &[],
        None,
    )
    .ok();
    no_pin_leak(&r, &token.pin);
    assert!(
        r.stderr
            .contains("WARNING: no x509 certificate retrieved from the PKCS11 token"),
        "{}",
        r.stderr
    );

    // The public key cosign reads from the token is the one pkcs11-tool exports.
    run(
        &s,
        &token,
        &["public-key", "--key", &uri, "--outfile", "token.pub"],
        &[],
        None,
    )
    .ok();
    assert_eq!(
        String::from_utf8(s.read("token.pub")).unwrap(),
        token.key.public_key_pem,
        "{kind:?}"
    );
    let stdout = run(&s, &token, &["public-key", "--key", &uri], &[], None)
        .ok()
        .stdout_text();
    assert_eq!(stdout, token.key.public_key_pem);

    // Our verifier, with the exported key and with the key read from the token (no PIN).
    for key in [String::from("token.pub"), token.uri_without_pin()] {
        let r = run(
            &s,
            &token,
            &[
                "verify-blob",
                IGNORE_TLOG,
                "--key",
                &key,
                "--signature",
                "blob.sig",
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
        assert!(r.stderr.contains("Verified OK"), "{}", r.stderr);
    }
    // openssl, with the curve's digest (cosign's default for the key type).
    openssl_verify(
        &s,
        kind.openssl_digest(),
        "token.pub",
        &s.read("blob.sig"),
        "blob.txt",
    );
    // A changed blob does not verify.
    s.write("other.txt", b"another blob\n");
    run(
        &s,
        &token,
        &[
            "verify-blob",
            IGNORE_TLOG,
            "--key",
            "token.pub",
            "--signature",
            "blob.sig",
            "other.txt",
        ],
        &[],
        None,
    )
    .fails();
}

#[test]
fn sign_blob_with_ec_p256_token_key() {
    sign_blob_round_trip(TokenKeyType::EcP256);
}

#[test]
fn sign_blob_with_ec_p384_token_key() {
    sign_blob_round_trip(TokenKeyType::EcP384);
}

#[test]
fn sign_blob_with_rsa_2048_token_key() {
    sign_blob_round_trip(TokenKeyType::Rsa2048);
}

#[test]
fn sign_blob_bundles_with_token_key() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let s = Scratch::new();
    s.write("blob.txt", b"bundle me\n");
    let pubkey = token.public_key_file();
    let pubkey = pubkey.to_str().unwrap();
    for (bundle, extra) in [
        ("legacy.bundle", None),
        ("new.sigstore.json", Some("--new-bundle-format")),
    ] {
        let mut args = vec!["sign-blob", NO_TLOG, "--key"];
        let uri = token.uri();
        args.push(&uri);
        args.extend(extra);
        args.extend(["--bundle", bundle, "blob.txt"]);
        run(&s, &token, &args, &[], None).ok();
        run(
            &s,
            &token,
            &[
                "verify-blob",
                IGNORE_TLOG,
                "--key",
                pubkey,
                "--bundle",
                bundle,
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
    }
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

fn has_signature(reg: &Registry, repo: &str, digest: &str) -> bool {
    reqwest::blocking::Client::new()
        .get(format!(
            "{}/v2/{repo}/manifests/{}",
            reg.url(),
            sig_tag(digest)
        ))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .status()
        .is_success()
}

#[test]
fn sign_image_with_token_key_and_verify() {
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/token:v1", &ImageSpec::default());
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let s = Scratch::new();
    let pubkey = token.public_key_file();

    // PIN from the environment, module path from the URI.
    let r = run(
        &s,
        &token,
        &[
            "sign",
            NO_TLOG,
            "--key",
            &token.uri_without_pin(),
            &img.digest_ref,
        ],
        &[("COSIGN_PKCS11_PIN", &token.pin)],
        None,
    )
    .ok();
    no_pin_leak(&r, &token.pin);
    assert!(has_signature(&reg, "test/token", &img.digest));

    // Verify with the key on the token and with the exported public key.
    for key in [token.uri_without_pin(), pubkey.to_str().unwrap().to_owned()] {
        let r = run(
            &s,
            &token,
            &["verify", IGNORE_TLOG, "--key", &key, &img.digest_ref],
            &[],
            None,
        )
        .ok();
        let out: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(
            out[0]["critical"]["image"]["docker-manifest-digest"],
            img.digest.as_str()
        );
    }

    // A different key does not verify it.
    let other = token.add_key("other", "07", TokenKeyType::EcP256);
    s.write("other.pub", &other.public_key_pem);
    let r = run(
        &s,
        &token,
        &["verify", IGNORE_TLOG, "--key", "other.pub", &img.digest_ref],
        &[],
        None,
    )
    .fails();
    assert_eq!(r.code, 12, "{}", r.stderr);
}

#[test]
fn sign_image_new_bundle_format_with_rsa_token_key() {
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/token-rsa:v1", &ImageSpec::default());
    let token = SoftHsmToken::new(TokenKeyType::Rsa2048);
    let s = Scratch::new();
    run(
        &s,
        &token,
        &[
            "sign",
            NO_TLOG,
            "--new-bundle-format",
            "--key",
            &token.uri(),
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
    let pubkey = token.public_key_file();
    run(
        &s,
        &token,
        &[
            "verify",
            IGNORE_TLOG,
            "--key",
            pubkey.to_str().unwrap(),
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();
}

#[test]
fn wrong_pin_is_refused_and_nothing_is_written() {
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/wrongpin:v1", &ImageSpec::default());
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let s = Scratch::new();
    let bad = format!("{}&pin-value=987654", token.uri_without_pin());
    reg.clear_requests();
    let r = run(
        &s,
        &token,
        &["sign", NO_TLOG, "--key", &bad, &img.digest_ref],
        &[],
        None,
    )
    .fails();
    assert!(
        r.stderr
            .contains("logging in to PKCS11 token 'cosign-test': incorrect PIN"),
        "{}",
        r.stderr
    );
    no_pin_leak(&r, "987654");
    assert!(
        reg.requests()
            .iter()
            .all(|q| q.method == "GET" || q.method == "HEAD"),
        "{:?}",
        reg.requests()
    );
    assert!(!has_signature(&reg, "test/wrongpin", &img.digest));

    // Same for a wrong PIN from the environment and for sign-blob.
    s.write("blob.txt", b"x");
    let r = run(
        &s,
        &token,
        &[
            "sign-blob",
            NO_TLOG,
            "--key",
            &token.uri_without_pin(),
            "blob.txt",
        ],
        &[("COSIGN_PKCS11_PIN", "987654")],
        None,
    )
    .fails();
    assert!(r.stderr.contains("incorrect PIN"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    no_pin_leak(&r, "987654");
}

#[test]
fn pin_and_module_path_sources() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let s = Scratch::new();
    s.write("blob.txt", b"pins\n");
    let pubkey = token.public_key_file();
    let pubkey = pubkey.to_str().unwrap();
    let module = token.module.to_str().unwrap();
    let no_module = format!(
        "pkcs11:token={};id=%01;object={}",
        token.label, token.key.label
    );
    let verify = |sig: &[u8]| {
        s.write("check.sig", sig);
        run(
            &s,
            &token,
            &[
                "verify-blob",
                IGNORE_TLOG,
                "--key",
                pubkey,
                "--signature",
                "check.sig",
                "blob.txt",
            ],
            &[],
            None,
        )
        .ok();
    };

    // PIN in the URI.
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &token.uri(), "blob.txt"],
        &[],
        None,
    )
    .ok();
    verify(&r.stdout);
    // PIN and module path from the environment; the URI's PIN wins over COSIGN_PKCS11_PIN.
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &no_module, "blob.txt"],
        &[
            ("COSIGN_PKCS11_PIN", &token.pin),
            ("COSIGN_PKCS11_MODULE_PATH", module),
        ],
        None,
    )
    .ok();
    verify(&r.stdout);
    let with_pin = format!("{no_module}?pin-value={}", token.pin);
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &with_pin, "blob.txt"],
        &[
            ("COSIGN_PKCS11_PIN", "000000"),
            ("COSIGN_PKCS11_MODULE_PATH", module),
        ],
        None,
    )
    .ok();
    verify(&r.stdout);
    // Neither: the PIN is asked for (read from standard input when it is not a terminal).
    let r = run(
        &s,
        &token,
        &[
            "sign-blob",
            NO_TLOG,
            "--key",
            &token.uri_without_pin(),
            "blob.txt",
        ],
        &[],
        Some(format!("{}\n", token.pin).as_bytes()),
    )
    .ok();
    assert!(
        r.stderr
            .contains("Enter PIN for key 'cosign-key' in PKCS11 token 'cosign-test': "),
        "{}",
        r.stderr
    );
    no_pin_leak(&r, &token.pin);
    verify(&r.stdout);
    // ... but not when standard input carries the blob.
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &token.uri_without_pin(), "-"],
        &[],
        Some(b"blob"),
    )
    .fails();
    assert!(r.stderr.contains("set COSIGN_PKCS11_PIN"), "{}", r.stderr);
    // The slot ID alone names the token too (SoftHSM's slot IDs are random but stable).
    let by_slot = format!(
        "pkcs11:slot-id={};object={}?module-path={module}&pin-value={}",
        token.slot_id, token.key.label, token.pin
    );
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &by_slot, "blob.txt"],
        &[],
        None,
    )
    .ok();
    verify(&r.stdout);
}

#[test]
fn certificate_on_the_token_is_the_signing_certificate() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let (der, pem) = token.certificate_for(&token.key);
    token.import_certificate(&der, &token.key.id_hex, &token.key.label);
    let s = Scratch::new();
    s.write("blob.txt", b"certified\n");
    let uri = token.uri();

    let r = run(
        &s,
        &token,
        &[
            "sign-blob",
            NO_TLOG,
            "--key",
            &uri,
            "--new-bundle-format=false",
            "--bundle",
            "blob.bundle",
            "--output-certificate",
            "blob.crt",
            "--b64=false",
            "blob.txt",
        ],
        &[],
        None,
    )
    .ok();
    assert!(!r.stderr.contains("no x509 certificate"), "{}", r.stderr);
    let written = String::from_utf8(s.read("blob.crt")).unwrap();
    assert_eq!(
        written.replace('\n', ""),
        pem.replace('\n', ""),
        "the token's certificate"
    );
    let bundle: serde_json::Value = serde_json::from_slice(&s.read("blob.bundle")).unwrap();
    let cert = STANDARD.decode(bundle["cert"].as_str().unwrap()).unwrap();
    assert!(
        String::from_utf8(cert)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );

    // An image signature carries the certificate too, and still verifies with the key.
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/certified:v1", &ImageSpec::default());
    run(
        &s,
        &token,
        &["sign", NO_TLOG, "--key", &uri, &img.digest_ref],
        &[],
        None,
    )
    .ok();
    let manifest: serde_json::Value = serde_json::from_slice(
        &reqwest::blocking::Client::new()
            .get(format!(
                "{}/v2/test/certified/manifests/{}",
                reg.url(),
                sig_tag(&img.digest)
            ))
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .unwrap()
            .bytes()
            .unwrap(),
    )
    .unwrap();
    let annotation = manifest["layers"][0]["annotations"]["dev.sigstore.cosign/certificate"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(annotation.replace('\n', ""), pem.replace('\n', ""));
    let pubkey = token.public_key_file();
    run(
        &s,
        &token,
        &[
            "verify",
            IGNORE_TLOG,
            "--key",
            pubkey.to_str().unwrap(),
            &img.digest_ref,
        ],
        &[],
        None,
    )
    .ok();

    // COSIGN_PKCS11_IGNORE_CERTIFICATE: the certificate is not used.
    let r = run(
        &s,
        &token,
        &[
            "sign-blob",
            NO_TLOG,
            "--key",
            &uri,
            "--new-bundle-format=false",
            "--bundle",
            "plain.bundle",
            "blob.txt",
        ],
        &[("COSIGN_PKCS11_IGNORE_CERTIFICATE", "1")],
        None,
    )
    .ok();
    assert!(
        r.stderr.contains("no x509 certificate retrieved"),
        "{}",
        r.stderr
    );
    let bundle: serde_json::Value = serde_json::from_slice(&s.read("plain.bundle")).unwrap();
    let cert = STANDARD.decode(bundle["cert"].as_str().unwrap()).unwrap();
    assert!(
        String::from_utf8(cert)
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
}

#[test]
fn mismatched_certificate_on_the_token_is_refused() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let other = token.unrelated_certificate();
    token.import_certificate(&other, &token.key.id_hex, &token.key.label);
    let s = Scratch::new();
    s.write("blob.txt", b"x");
    let r = run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &token.uri(), "blob.txt"],
        &[],
        None,
    )
    .fails();
    assert!(
        r.stderr.contains("pkcs11 key and certificate do not match"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    // Ignoring the certificate makes the key usable again.
    run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &token.uri(), "blob.txt"],
        &[("COSIGN_PKCS11_IGNORE_CERTIFICATE", "1")],
        None,
    )
    .ok();
}

#[test]
fn pkcs11_tool_lists_tokens_and_key_uris() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    token.add_key("second key", "a1b2", TokenKeyType::Rsa2048);
    let s = Scratch::new();
    let module = token.module.to_str().unwrap();

    let out = run(
        &s,
        &token,
        &["pkcs11-tool", "list-tokens", "--module-path", module],
        &[],
        None,
    )
    .ok()
    .stdout_text();
    assert!(
        out.starts_with(&format!("\nListing tokens of PKCS11 module '{module}'\n")),
        "{out}"
    );
    let expected = format!(
        "Token in slot {}\n\tLabel: cosign-test\n\tManufacturer: SoftHSM project\n\tModel: SoftHSM v2\n\tS/N: ",
        token.slot_id
    );
    assert!(out.contains(&expected), "{out}");
    // The module path may come from the environment.
    let env_out = run(
        &s,
        &token,
        &["pkcs11-tool", "list-tokens"],
        &[("COSIGN_PKCS11_MODULE_PATH", module)],
        None,
    )
    .ok()
    .stdout_text();
    assert_eq!(env_out, out);

    let slot = token.slot_id.to_string();
    let out = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "list-keys-uris",
            "--module-path",
            module,
            "--slot-id",
            &slot,
            "--pin",
            &token.pin,
        ],
        &[],
        None,
    )
    .ok()
    .stdout_text();
    let first = format!(
        "pkcs11:token=cosign-test;slot-id={slot};id=%01;object=cosign-key?module-path={module}&pin-value={}",
        token.pin
    );
    let second = format!(
        "pkcs11:token=cosign-test;slot-id={slot};id=%a1%b2;object=second%20key?module-path={module}&pin-value={}",
        token.pin
    );
    assert!(
        out.starts_with(&format!(
            "\nListing URIs of keys in slot '{slot}' of PKCS11 module '{module}'\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("\tLabel: cosign-key\n\tID: 01\n\tURI: {first}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\tLabel: second key\n\tID: a1b2\n\tURI: {second}\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("Object 0\n") && out.contains("Object 1\n"),
        "{out}"
    );

    // The printed URIs sign as they are.
    s.write("blob.txt", b"listed\n");
    run(
        &s,
        &token,
        &["sign-blob", NO_TLOG, "--key", &second, "blob.txt"],
        &[],
        None,
    )
    .ok();

    // PIN from COSIGN_PKCS11_PIN, then from the prompt (not echoed back into the URIs).
    let env_out = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "list-keys-uris",
            "--module-path",
            module,
            "--slot-id",
            &slot,
        ],
        &[("COSIGN_PKCS11_PIN", &token.pin)],
        None,
    )
    .ok()
    .stdout_text();
    assert_eq!(env_out, out);
    let r = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "-f",
            "list-keys-uris",
            "--module-path",
            module,
            "--slot-id",
            &slot,
        ],
        &[],
        Some(format!("{}\n", token.pin).as_bytes()),
    )
    .ok();
    assert!(
        r.stderr
            .contains("Enter PIN for PKCS11 token 'cosign-test': "),
        "{}",
        r.stderr
    );
    let prompted = r.stdout_text();
    assert!(prompted.contains("\tLabel: cosign-key\n"), "{prompted}");
    assert!(!prompted.contains("pin-value"), "{prompted}");

    // Errors: wrong PIN, a slot without a token, no module path.
    let r = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "list-keys-uris",
            "--module-path",
            module,
            "--slot-id",
            &slot,
            "--pin",
            "0000",
        ],
        &[],
        None,
    )
    .fails();
    assert!(r.stderr.contains("incorrect PIN"), "{}", r.stderr);
    let r = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "list-keys-uris",
            "--module-path",
            module,
            "--slot-id",
            "4242",
            "--pin",
            "1234",
        ],
        &[],
        None,
    )
    .fails();
    assert!(r.stderr.contains("slot 4242"), "{}", r.stderr);
    let r = run(&s, &token, &["pkcs11-tool", "list-tokens"], &[], None).fails();
    assert!(
        r.stderr.contains("COSIGN_PKCS11_MODULE_PATH"),
        "{}",
        r.stderr
    );
    let r = run(
        &s,
        &token,
        &[
            "pkcs11-tool",
            "list-tokens",
            "--module-path",
            "libsofthsm2.so",
        ],
        &[],
        None,
    )
    .fails();
    assert!(r.stderr.contains("absolute"), "{}", r.stderr);
}

#[test]
fn bad_uris_and_missing_objects_fail_clearly() {
    let token = SoftHsmToken::new(TokenKeyType::EcP256);
    let s = Scratch::new();
    s.write("blob.txt", b"x");
    let module = token.module.to_str().unwrap();
    let pin = &token.pin;
    let cases: Vec<(String, &str)> = vec![
        (
            format!("pkcs11:id=%01?module-path={module}&pin-value={pin}"),
            "one of token and slot-id must be set",
        ),
        (
            format!("pkcs11:token=cosign-test?module-path={module}&pin-value={pin}"),
            "one of object and id must be set",
        ),
        (
            format!("pkcs11:token=cosign-test;id=%0g?module-path={module}&pin-value={pin}"),
            "bad percent-encoding in the value of id",
        ),
        (
            format!("pkcs11:slot-id=abc;id=%01?module-path={module}&pin-value={pin}"),
            "slot-id 'abc' is not a valid number",
        ),
        (
            format!("pkcs11:token=cosign-test;id=%01?pin-value={pin}"),
            "module-path or COSIGN_PKCS11_MODULE_PATH must be set",
        ),
        (
            format!(
                "pkcs11:token=cosign-test;id=%01?module-path=/nonexistent/module.so&pin-value={pin}"
            ),
            "PKCS11 module /nonexistent/module.so",
        ),
        (
            format!("pkcs11:token=cosign-test;id=%01?module-path=/etc/hostname&pin-value={pin}"),
            "loading PKCS11 module /etc/hostname",
        ),
        (
            format!("pkcs11:token=no-such-token;id=%01?module-path={module}&pin-value={pin}"),
            "could not find PKCS11 token 'no-such-token'",
        ),
        (
            format!("pkcs11:token=cosign-test;id=%99?module-path={module}&pin-value={pin}"),
            "no private key id=%99 on PKCS11 token 'cosign-test'",
        ),
        (
            format!(
                "pkcs11:token=cosign-test;id=%01;object=wrong-label?module-path={module}&pin-value={pin}"
            ),
            "no private key id=%01 object='wrong-label' on PKCS11 token 'cosign-test'",
        ),
    ];
    for (uri, message) in &cases {
        let r = run(
            &s,
            &token,
            &["sign-blob", NO_TLOG, "--key", uri, "blob.txt"],
            &[],
            None,
        )
        .fails();
        assert!(r.stderr.contains(message), "{uri}: {}", r.stderr);
        no_pin_leak(&r, pin);
        assert!(r.stdout.is_empty());
    }
    // Verification with a key that is not on the token.
    s.write("blob.sig", b"MEUCIQ==");
    let r = run(
        &s,
        &token,
        &[
            "verify-blob",
            IGNORE_TLOG,
            "--key",
            &format!("pkcs11:token=cosign-test;id=%42?module-path={module}"),
            "--signature",
            "blob.sig",
            "blob.txt",
        ],
        &[],
        None,
    )
    .fails();
    assert!(
        r.stderr.contains("PKCS11 token 'cosign-test'"),
        "{}",
        r.stderr
    );

    // A bad key reference fails an image signing before anything reaches the registry.
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/badkey:v1", &ImageSpec::default());
    reg.clear_requests();
    run(
        &s,
        &token,
        &["sign", NO_TLOG, "--key", &cases[7].0, &img.digest_ref],
        &[],
        None,
    )
    .fails();
    assert!(reg.requests().is_empty(), "{:?}", reg.requests());
}
