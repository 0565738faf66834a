//! KMS and Kubernetes key references end to end: the real `cosign` binary against moto (AWS
//! KMS, over TLS, with its DIGEST bug corrected by the test setup and SigV4 checked), OpenBao
//! (Vault transit), and documented-API fakes of Google Cloud KMS, Azure Key Vault and the
//! Kubernetes API (no emulator of these exists here; see test-support's kms_fakes). Every
//! signature is checked with the exported public key by our verifier and by openssl.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use test_support::{
    AzureKeySpec, FakeAzureKeyVault, FakeGcpKms, FakeKubeApi, ImageSpec, KubeAuth, Moto, OpenBao,
    Registry, RegistryConfig, push_image,
};

use crate::common::{Run, Scratch};

/// Environment variables for one run.
type Env = Vec<(String, String)>;

fn env_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// `sign-blob --key KEY blob` (no log); returns the run.
fn sign_blob(s: &Scratch, key: &str, env: &[(String, String)]) -> Run {
    if !s.path("blob").exists() {
        s.write("blob", "hello from a KMS test\n");
    }
    s.run(
        &["sign-blob", "--key", key, "--tlog-upload=false", "blob"],
        &env_refs(env),
        None,
    )
}

/// Checks a base64 signature over `blob` with our verifier (`--key key`) and with openssl
/// (against the PEM public key `pub_file`, with `dgst`).
fn check_signature(
    s: &Scratch,
    sig_b64: &str,
    pub_file: &str,
    dgst: &str,
    env: &[(String, String)],
) {
    s.write("blob.sig", sig_b64.trim());
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                pub_file,
                "--signature",
                "blob.sig",
                "--insecure-ignore-tlog",
                "blob",
            ],
            &env_refs(env),
            None,
        )
        .ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    let der = STANDARD.decode(sig_b64.trim()).unwrap();
    s.write("blob.sig.der", der);
    let out = s.tool(
        "openssl",
        &[
            "dgst",
            dgst,
            "-verify",
            pub_file,
            "-signature",
            "blob.sig.der",
            "blob",
        ],
    );
    assert!(String::from_utf8_lossy(&out).contains("Verified OK"));
}

fn targets(reqs: &[test_support::LoggedRequest]) -> Vec<String> {
    reqs.iter().map(|r| r.path.clone()).collect()
}

// ---- AWS KMS (moto) --------------------------------------------------------------------------

#[test]
fn aws_generate_sign_verify_and_openssl() {
    let moto = Moto::start();
    let env = moto.env();
    let s = Scratch::new();
    let uri = format!("awskms://{}/alias/cosign-test", moto.endpoint());

    let run = s
        .run(&["generate-key-pair", "--kms", &uri], &env_refs(&env), None)
        .ok();
    assert_eq!(run.stderr, "Public key written to cosign.pub\n");
    assert!(
        !s.path("cosign.key").exists(),
        "no private key leaves the KMS"
    );
    // The key exists in moto under the alias, and its public key is what we wrote.
    let described = moto.boto3(
        "m = kms.describe_key(KeyId='alias/cosign-test')['KeyMetadata']\nprint(m['KeySpec'], m['KeyUsage'])",
    );
    assert_eq!(described.trim(), "ECC_NIST_P256 SIGN_VERIFY");
    let pub_pem = String::from_utf8(s.read("cosign.pub")).unwrap();

    // A second generate-key-pair finds the existing key (as sigstore does).
    let run = s
        .run(
            &[
                "generate-key-pair",
                "--kms",
                &uri,
                "--output-key-prefix",
                "again",
            ],
            &env_refs(&env),
            None,
        )
        .ok();
    assert_eq!(run.stderr, "Public key written to again.pub\n");
    assert_eq!(String::from_utf8(s.read("again.pub")).unwrap(), pub_pem);

    // public-key prints the same key.
    let run = s
        .run(&["public-key", "--key", &uri], &env_refs(&env), None)
        .ok();
    assert_eq!(run.stdout_text(), pub_pem);

    moto.clear_requests();
    let run = sign_blob(&s, &uri, &env).ok();
    // One key lookup, one public-key fetch, one Sign (MessageType=DIGEST).
    assert_eq!(
        targets(&moto.requests()),
        [
            "TrentService.DescribeKey",
            "TrentService.GetPublicKey",
            "TrentService.Sign"
        ]
    );
    check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &env);
    // Verification with the KMS URI fetches the public key.
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                &uri,
                "--signature",
                "blob.sig",
                "--insecure-ignore-tlog",
                "blob",
            ],
            &env_refs(&env),
            None,
        )
        .ok();
    assert!(run.stderr.contains("Verified OK"));
    // The secret key never shows.
    assert!(!run.stderr.contains(moto.secret_access_key()));
}

#[test]
fn aws_key_id_arn_rsa_and_profiles() {
    let moto = Moto::start();
    let s = Scratch::new();
    let rsa = moto.create_key("RSA_2048", "SIGN_VERIFY", None);
    s.write("rsa.pub", &rsa.public_key_pem);
    let ec = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", None);
    s.write("ec.pub", &ec.public_key_pem);
    let ep = moto.endpoint();

    // Key ID form, credentials from the environment.
    let env = moto.env();
    let run = sign_blob(&s, &format!("awskms://{ep}/{}", rsa.key_id), &env).ok();
    check_signature(&s, &run.stdout_text(), "rsa.pub", "-sha256", &env);

    // ARN form (the region comes from the ARN), credentials from a profile in the shared
    // credentials file, chosen with AWS_PROFILE.
    s.write(
        "aws-credentials",
        format!(
            "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[cosign]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            test_support::MOTO_ACCESS_KEY_ID,
            moto.secret_access_key()
        ),
    );
    let creds = s.path("aws-credentials").display().to_string();
    let ca = moto.ca_file().display().to_string();
    let profile_env = vec![
        ("AWS_SHARED_CREDENTIALS_FILE".to_owned(), creds),
        ("AWS_PROFILE".to_owned(), "cosign".to_owned()),
        ("AWS_CA_BUNDLE".to_owned(), ca),
    ];
    let run = sign_blob(&s, &format!("awskms://{ep}/{}", ec.arn), &profile_env).ok();
    check_signature(&s, &run.stdout_text(), "ec.pub", "-sha256", &env);

    // No key in the URI: generate-key-pair creates one and says how to name it.
    let run = s
        .run(
            &["generate-key-pair", "--kms", &format!("awskms://{ep}/")],
            &env_refs(&env),
            None,
        )
        .ok();
    let first = run.stderr.lines().next().unwrap();
    let created = first
        .strip_prefix("Created AWS KMS key ")
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(run.stderr.ends_with("Public key written to cosign.pub\n"));
    // No endpoint in the URI: AWS_ENDPOINT_URL names it.
    let key_id = created.rsplit('/').next().unwrap();
    let mut endpoint_env = env.clone();
    endpoint_env.push(("AWS_ENDPOINT_URL".into(), format!("https://{ep}")));
    let run = sign_blob(&s, &format!("awskms:///{key_id}"), &endpoint_env).ok();
    check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &env);
}

#[test]
fn aws_refuses_what_cosign_cannot_use() {
    let moto = Moto::start();
    let env = moto.env();
    let s = Scratch::new();
    let ep = moto.endpoint();
    let k1 = moto.create_key("ECC_SECG_P256K1", "SIGN_VERIFY", None);
    let sym = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", None);
    let disabled = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", None);
    moto.disable_key(&disabled.key_id);

    let cases: Vec<(String, Env, &str)> = vec![
        (
            format!("awskms://{ep}/{}", k1.key_id),
            env.clone(),
            "key spec ECC_SECG_P256K1 is not supported by cosign",
        ),
        (
            format!("awskms://{ep}/{}", sym.key_id),
            env.clone(),
            "usage is ENCRYPT_DECRYPT",
        ),
        (
            format!("awskms://{ep}/{}", disabled.key_id),
            env.clone(),
            "the key is Disabled",
        ),
        (
            format!("awskms://{ep}/alias/missing"),
            env.clone(),
            "key not found",
        ),
        (
            format!("awskms://{ep}/alias/cosign-test"),
            {
                let mut e = env.clone();
                e[1].1 = "not-the-secret".into();
                e
            },
            "InvalidSignatureException",
        ),
        (
            "awskms://127.0.0.1:1/alias/x".to_owned(),
            env.clone(),
            "DescribeKey",
        ),
        (
            format!("awskms://{ep}/alias/x"),
            vec![("AWS_REGION".into(), "us-east-1".into())],
            "no AWS credentials",
        ),
        (
            format!("awskms://{ep}/not-a-key"),
            env.clone(),
            "malformed key URI",
        ),
    ];
    for (uri, env, want) in cases {
        let run = sign_blob(&s, &uri, &env).fails();
        assert!(
            run.stderr.contains(&format!("AWS KMS ({uri})")),
            "{uri}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(want),
            "{uri}: want {want:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(moto.secret_access_key()));
        assert!(run.stdout.is_empty());
    }
}

// ---- Vault transit (OpenBao) -----------------------------------------------------------------

#[test]
fn vault_generate_sign_verify_rotate() {
    let bao = OpenBao::start();
    let env = bao.env();
    let s = Scratch::new();

    let run = s
        .run(
            &["generate-key-pair", "--kms", "hashivault://cosign-test"],
            &env_refs(&env),
            None,
        )
        .ok();
    assert_eq!(run.stderr, "Public key written to cosign.pub\n");
    assert!(!s.path("cosign.key").exists());
    assert_eq!(
        String::from_utf8(s.read("cosign.pub")).unwrap(),
        cosign_pem(&bao.public_key_pem("cosign-test", 1))
    );

    bao.clear_requests();
    let run = sign_blob(&s, "hashivault://cosign-test", &env).ok();
    let reqs = bao.requests();
    assert_eq!(
        reqs.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>(),
        [
            "GET /v1/transit/keys/cosign-test",
            "POST /v1/transit/sign/cosign-test/sha2-256"
        ]
    );
    check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &env);

    // After a rotation cosign signs with (and exports) the latest version.
    bao.rotate("cosign-test");
    let run = s
        .run(
            &["public-key", "--key", "hashivault://cosign-test"],
            &env_refs(&env),
            None,
        )
        .ok();
    let v2 = bao.public_key_pem("cosign-test", 2);
    assert_eq!(run.stdout_text(), cosign_pem(&v2));
    s.write("v2.pub", &v2);
    let run = sign_blob(&s, "hashivault://cosign-test", &env).ok();
    check_signature(&s, &run.stdout_text(), "v2.pub", "-sha256", &env);

    // openbao:// with BAO_* variables, an RSA key, and another mount path.
    bao.api(
        "POST",
        "sys/mounts/signing",
        Some(serde_json::json!({ "type": "transit" })),
    );
    bao.api(
        "POST",
        "signing/keys/rsa",
        Some(serde_json::json!({ "type": "rsa-2048" })),
    );
    let v = bao.api("GET", "signing/keys/rsa", None);
    s.write(
        "rsa.pub",
        v["data"]["keys"]["1"]["public_key"].as_str().unwrap(),
    );
    let bao_env = vec![
        ("BAO_ADDR".to_owned(), bao.addr()),
        ("BAO_TOKEN".to_owned(), bao.token().to_owned()),
        (
            "TRANSIT_SECRET_ENGINE_PATH".to_owned(),
            "signing".to_owned(),
        ),
    ];
    let run = sign_blob(&s, "openbao://rsa", &bao_env).ok();
    check_signature(&s, &run.stdout_text(), "rsa.pub", "-sha256", &env);
}

/// The PEM as Go (and cosign) writes it.
fn cosign_pem(pem: &str) -> String {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let mut out = "-----BEGIN PUBLIC KEY-----\n".to_owned();
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

#[test]
fn vault_refuses_what_cosign_cannot_use() {
    let bao = OpenBao::start();
    let env = bao.env();
    let s = Scratch::new();
    bao.create_key("ed", "ed25519");
    bao.create_key("aes", "aes256-gcm96");
    let mut bad_token = env.clone();
    bad_token[1].1 = "s.not-a-token".into();
    let cases: Vec<(&str, Env, &str)> = vec![
        (
            "hashivault://ed",
            env.clone(),
            "transit key type ed25519 cannot sign",
        ),
        (
            "hashivault://aes",
            env.clone(),
            "transit key type aes256-gcm96 cannot sign",
        ),
        ("hashivault://missing", env.clone(), "not found"),
        ("hashivault://ed", bad_token, "permission denied"),
        ("hashivault://ed", vec![], "no server address"),
        (
            "hashivault://ed",
            vec![
                ("VAULT_ADDR".into(), "http://127.0.0.1:1".into()),
                ("VAULT_TOKEN".into(), "t".into()),
            ],
            "reading the key",
        ),
        ("hashivault://a/b", env.clone(), "malformed key URI"),
    ];
    for (uri, env, want) in cases {
        let run = sign_blob(&s, uri, &env).fails();
        assert!(
            run.stderr
                .contains(&format!("HashiCorp Vault transit ({uri})")),
            "{uri}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(want),
            "{uri}: want {want:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(bao.token()));
    }
}

// ---- Google Cloud KMS (documented-API fake) --------------------------------------------------

const RING: &str = "projects/test-project/locations/global/keyRings/cosign";

#[test]
fn gcp_generate_sign_verify() {
    let gcp = FakeGcpKms::start();
    let env = gcp.env();
    let s = Scratch::new();

    // A new key ring and key (the version starts PENDING_GENERATION).
    let uri = format!("gcpkms://{RING}/cryptoKeys/created");
    let run = s
        .run(&["generate-key-pair", "--kms", &uri], &env_refs(&env), None)
        .ok();
    assert_eq!(run.stderr, "Public key written to cosign.pub\n");
    assert_eq!(
        String::from_utf8(s.read("cosign.pub")).unwrap(),
        gcp.public_key_pem(&format!("{RING}/cryptoKeys/created"), 1)
    );
    gcp.clear_requests();
    let run = sign_blob(&s, &uri, &env).ok();
    let paths: Vec<String> = gcp
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /token".to_owned(),
            format!(
                "GET /v1/{RING}/cryptoKeys/created/cryptoKeyVersions?filter=state%3DENABLED&pageSize=100"
            ),
            format!("GET /v1/{RING}/cryptoKeys/created/cryptoKeyVersions/1/publicKey"),
            format!("POST /v1/{RING}/cryptoKeys/created/cryptoKeyVersions/1:asymmetricSign"),
        ]
    );
    check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &env);

    // The highest ENABLED version is used; a named version is used as named.
    let key = gcp.add_key(RING, "rotated", "RSA_SIGN_PKCS1_2048_SHA256");
    gcp.add_version(&key, "ENABLED");
    gcp.add_version(&key, "DISABLED");
    s.write("v2.pub", gcp.public_key_pem(&key, 2));
    s.write("v1.pub", gcp.public_key_pem(&key, 1));
    let run = sign_blob(&s, &format!("gcpkms://{key}"), &env).ok();
    check_signature(&s, &run.stdout_text(), "v2.pub", "-sha256", &env);
    let run = sign_blob(&s, &format!("gcpkms://{key}/cryptoKeyVersions/1"), &env).ok();
    check_signature(&s, &run.stdout_text(), "v1.pub", "-sha256", &env);
    let run = s
        .run(
            &["public-key", "--key", &format!("gcpkms://{key}/versions/1")],
            &env_refs(&env),
            None,
        )
        .ok();
    assert_eq!(run.stdout_text(), gcp.public_key_pem(&key, 1));
    let run = sign_blob(&s, &format!("gcpkms://{key}/cryptoKeyVersions/3"), &env).fails();
    assert!(
        run.stderr.contains("is DISABLED, not ENABLED"),
        "{}",
        run.stderr
    );

    // Refusals.
    gcp.add_key(RING, "ed", "EC_SIGN_ED25519");
    gcp.add_key(RING, "sym", "GOOGLE_SYMMETRIC_ENCRYPTION");
    for (k, want) in [
        ("ed", "algorithm EC_SIGN_ED25519 is not supported by cosign"),
        (
            "sym",
            "algorithm GOOGLE_SYMMETRIC_ENCRYPTION is not supported",
        ),
        ("missing", "not found"),
    ] {
        let uri = format!("gcpkms://{RING}/cryptoKeys/{k}");
        let run = sign_blob(&s, &uri, &env).fails();
        assert!(
            run.stderr.contains(&format!("Google Cloud KMS ({uri})")) && run.stderr.contains(want),
            "{k}: {}",
            run.stderr
        );
    }
    let run = sign_blob(&s, &uri, &[]).fails();
    assert!(
        run.stderr.contains("no Google credentials"),
        "{}",
        run.stderr
    );
    assert!(gcp.violations().is_empty(), "{:?}", gcp.violations());
}

// ---- Azure Key Vault (documented-API fake) ---------------------------------------------------

#[test]
fn azure_generate_sign_verify() {
    let az = FakeAzureKeyVault::start();
    let env = az.env();
    let s = Scratch::new();
    let host = az.vault_host();

    let uri = format!("azurekms://{host}/created");
    let run = s
        .run(&["generate-key-pair", "--kms", &uri], &env_refs(&env), None)
        .ok();
    assert_eq!(run.stderr, "Public key written to cosign.pub\n");
    assert_eq!(
        String::from_utf8(s.read("cosign.pub")).unwrap(),
        az.public_key_pem("created")
    );
    az.clear_requests();
    let run = sign_blob(&s, &uri, &env).ok();
    assert_eq!(
        az.requests().len(),
        3,
        "token, key, sign: {:?}",
        az.requests()
    );
    check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &env);

    // RSA, and a pinned version.
    let v = az.add_key("rsa", AzureKeySpec::Rsa2048);
    s.write("rsa.pub", az.public_key_pem("rsa"));
    let run = sign_blob(&s, &format!("azurekms://{host}/rsa/{v}"), &env).ok();
    check_signature(&s, &run.stdout_text(), "rsa.pub", "-sha256", &env);

    // Refusals.
    az.add_key("k1", AzureKeySpec::EcP256K);
    for (uri, env, want) in [
        (
            format!("azurekms://{host}/k1"),
            env.clone(),
            "curve P-256K is not supported",
        ),
        (
            format!("azurekms://{host}/missing"),
            env.clone(),
            "not found",
        ),
        (
            format!("azurekms://{host}/rsa"),
            {
                let mut e = env.clone();
                e[2].1 = "wrong-secret".into();
                e
            },
            "invalid_client",
        ),
        (
            format!("azurekms://{host}/rsa"),
            vec![],
            "no Azure credentials",
        ),
    ] {
        let run = sign_blob(&s, &uri, &env).fails();
        assert!(
            run.stderr.contains(&format!("Azure Key Vault ({uri})")) && run.stderr.contains(want),
            "{uri}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(&az.client_secret()));
    }
    assert!(az.violations().is_empty(), "{:?}", az.violations());
}

// ---- lying KMSs and image signing ------------------------------------------------------------

#[test]
fn a_lying_kms_is_caught_and_nothing_is_pushed() {
    let reg = Registry::distribution(RegistryConfig::default());
    let img = push_image(&reg, "test/kms:v1", &ImageSpec::default());
    let s = Scratch::new();

    let gcp = FakeGcpKms::start();
    let key = gcp.add_key(RING, "liar", "EC_SIGN_P256_SHA256");
    gcp.set_lying(true);
    let az = FakeAzureKeyVault::start();
    az.add_key("liar", AzureKeySpec::EcP256);
    az.set_lying(true);
    let cases = [
        (format!("gcpkms://{key}"), gcp.env()),
        (format!("azurekms://{}/liar", az.vault_host()), az.env()),
    ];
    for (uri, env) in cases {
        reg.clear_requests();
        let run = s
            .run(
                &[
                    "sign",
                    "--key",
                    &uri,
                    "--tlog-upload=false",
                    &img.digest_ref,
                ],
                &env_refs(&env),
                None,
            )
            .fails();
        assert!(
            run.stderr
                .contains("returned a signature that does not verify with its public key"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(&uri), "{}", run.stderr);
        assert!(
            reg.requests()
                .iter()
                .all(|r| r.method == "GET" || r.method == "HEAD"),
            "nothing may be written: {:?}",
            reg.requests()
        );
        let run = sign_blob(&s, &uri, &env).fails();
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn sign_images_with_kms_and_verify_with_the_uri() {
    let reg = Registry::distribution(RegistryConfig::default());
    let images: Vec<_> = (0..5)
        .map(|i| {
            push_image(
                &reg,
                &format!("test/many:v{i}"),
                &ImageSpec {
                    seed: format!("kms-{i}"),
                    ..ImageSpec::default()
                },
            )
        })
        .collect();
    let refs: Vec<&str> = images.iter().map(|i| i.digest_ref.as_str()).collect();
    let s = Scratch::new();

    let moto = Moto::start();
    moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", Some("alias/images"));
    let bao = OpenBao::start();
    bao.create_key("images", "ecdsa-p256");
    for (uri, env) in [
        (
            format!("awskms://{}/alias/images", moto.endpoint()),
            moto.env(),
        ),
        ("hashivault://images".to_owned(), bao.env()),
    ] {
        moto.clear_requests();
        bao.clear_requests();
        let mut args = vec!["sign", "--key", &uri, "--tlog-upload=false"];
        args.extend(&refs);
        s.run(&args, &env_refs(&env), None).ok();
        let mut args = vec!["verify", "--key", &uri, "--insecure-ignore-tlog"];
        args.extend(&refs);
        let run = s.run(&args, &env_refs(&env), None).ok();
        // One JSON line per image, each after Go's blank line.
        assert_eq!(
            run.stdout_text().lines().filter(|l| !l.is_empty()).count(),
            refs.len()
        );
        if uri.starts_with("awskms") {
            let t = targets(&moto.requests());
            let count = |op: &str| t.iter().filter(|x| x.ends_with(op)).count();
            // sign: one lookup + one public key + 5 Sign; verify: one lookup + one public key.
            assert_eq!(
                (
                    count(".DescribeKey"),
                    count(".GetPublicKey"),
                    count(".Sign")
                ),
                (2, 2, 5),
                "{t:?}"
            );
        } else {
            let r = bao.requests();
            let reads = r.iter().filter(|x| x.method == "GET").count();
            let signs = r.iter().filter(|x| x.path.contains("/sign/")).count();
            assert_eq!((reads, signs), (2, 5), "{r:?}");
        }
    }
}

// ---- Kubernetes secrets (documented-API fake) ------------------------------------------------

#[test]
fn k8s_generate_sign_verify() {
    for auth in [
        KubeAuth::Token("k8s-test-token".into()),
        KubeAuth::ClientCert,
    ] {
        let kube = FakeKubeApi::start(auth);
        let s = Scratch::new();
        let kubeconfig = kube.write_kubeconfig(s.dir.path());
        let env = vec![
            ("KUBECONFIG".to_owned(), kubeconfig.display().to_string()),
            ("COSIGN_PASSWORD".to_owned(), "k8s-pw".to_owned()),
        ];
        let run = s
            .run(
                &["generate-key-pair", "k8s://default/cosign-keys"],
                &env_refs(&env),
                None,
            )
            .ok();
        assert_eq!(
            run.stderr,
            "Successfully created secret cosign-keys in namespace default\nPublic key written to cosign.pub\n"
        );
        let secret = kube.secret("default", "cosign-keys").unwrap();
        assert_eq!(secret["immutable"], true);
        let data = kube.secret_data("default", "cosign-keys").unwrap();
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            ["cosign.key", "cosign.password", "cosign.pub"]
        );
        assert_eq!(data["cosign.password"], b"k8s-pw");
        assert_eq!(data["cosign.pub"], s.read("cosign.pub"));
        assert!(
            String::from_utf8_lossy(&data["cosign.key"])
                .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
        );

        // Signing decrypts cosign.key with cosign.password from the secret (no prompt).
        let sign_env = vec![env[0].clone()];
        let run = sign_blob(&s, "k8s://default/cosign-keys", &sign_env).ok();
        check_signature(&s, &run.stdout_text(), "cosign.pub", "-sha256", &sign_env);
        let run = s
            .run(
                &[
                    "verify-blob",
                    "--key",
                    "k8s://default/cosign-keys",
                    "--signature",
                    "blob.sig",
                    "--insecure-ignore-tlog",
                    "blob",
                ],
                &env_refs(&sign_env),
                None,
            )
            .ok();
        assert!(run.stderr.contains("Verified OK"));

        // The secret is immutable: a second generate-key-pair fails clearly.
        let run = s
            .run(
                &["generate-key-pair", "k8s://default/cosign-keys"],
                &env_refs(&env),
                None,
            )
            .fails();
        assert!(run.stderr.contains("field is immutable"), "{}", run.stderr);
        let run = sign_blob(&s, "k8s://default/missing", &sign_env).fails();
        assert!(
            run.stderr
                .contains("Kubernetes (secret k8s://default/missing): the secret does not exist"),
            "{}",
            run.stderr
        );
        assert!(kube.violations().is_empty(), "{:?}", kube.violations());
        assert!(!run.stderr.contains("k8s-test-token"));
    }
}

#[test]
fn unknown_and_malformed_references() {
    let s = Scratch::new();
    let run = sign_blob(&s, "foo://bar", &[]).fails();
    assert!(
        run.stderr.contains("unrecognized scheme: foo://"),
        "{}",
        run.stderr
    );
    for (uri, provider) in [
        ("awskms://host", "AWS KMS"),
        ("gcpkms://projects/p", "Google Cloud KMS"),
        ("azurekms://vault", "Azure Key Vault"),
    ] {
        let run = sign_blob(&s, uri, &[]).fails();
        assert!(
            run.stderr
                .contains(&format!("{provider} ({uri}): malformed key URI")),
            "{uri}: {}",
            run.stderr
        );
        let run = s
            .run(&["generate-key-pair", "--kms", uri], &[], None)
            .fails();
        assert!(run.stderr.contains("malformed key URI"), "{}", run.stderr);
        assert!(!s.path("cosign.pub").exists());
    }
    let run = s
        .run(&["generate-key-pair", "--kms", "cosign.key"], &[], None)
        .fails();
    assert!(
        run.stderr.contains("--kms takes a KMS URI"),
        "{}",
        run.stderr
    );
}
