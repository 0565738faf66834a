//! REAL-BINARY tests: the Go `timestamp-server` (sigstore/timestamp-authority v2, in-memory
//! signer, NTP monitoring off) and `fulcio` (ephemeral CA, no CT log, trusting test-support's
//! OIDC issuer), run from `$COSIGN_TEST_GOTOOLS` (default `/tmp/gotools`). A missing binary
//! fails the test with a message (never a skip). To be re-pointed to test-support's launchers
//! (branch `svc`) when they land.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey};
use cosign_keyless::oidc::IdentityToken;
use cosign_keyless::{
    CertificateCheck, FulcioClient, KeylessError, TsaClient, TsaTlsOptions, check_timestamp,
    tsa_http_client,
};
use cosign_trust::timestamp::TimestampToken;
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::Certificate;
use serde_json::json;
use test_support::fulcio::{TrustedRootJson, ValidFor};
use test_support::oidc::OidcIssuer;

use crate::{http, now};

/// Where the Go binaries are: as every other test finds them (`FULCIO_BIN` /
/// `TIMESTAMP_SERVER_BIN`, else `target/test-tools/bin`, built by scripts/install-test-deps.sh).
fn gotool(name: &str) -> PathBuf {
    match name {
        "fulcio" => test_support::fulcio_bin(),
        "timestamp-server" => test_support::timestamp_server_bin(),
        other => panic!("REAL-BINARY test: no Go tool named {other}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Go server process, killed when dropped; its output goes to a file shown on failure.
struct GoServer {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for GoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GoServer {
    fn start(binary: &str, args: &[String], dir: tempfile::TempDir) -> GoServer {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(gotool(binary))
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        GoServer {
            child,
            log,
            _dir: dir,
        }
    }

    /// Waits until `port` accepts connections.
    fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the server did not listen on {port}:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

fn tsa_args(extra: &[&str]) -> Vec<String> {
    [
        "serve",
        "--timestamp-signer",
        "memory",
        "--disable-ntp-monitoring",
        "--log-type",
        "prod",
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .collect()
}

/// A trusted root naming the TSA whose chain (leaf, intermediate, root; PEM) is `chain_pem`.
fn root_for_tsa(chain_pem: &str, uri: &str) -> TrustedRoot {
    let certs = Certificate::from_pem(chain_pem.as_bytes()).unwrap();
    assert_eq!(
        certs.len(),
        3,
        "the memory signer's chain: leaf, intermediate, root"
    );
    let entry = json!({
        "subject": {"organization": "local", "commonName": "Test TSA"},
        "uri": uri,
        "certChain": {"certificates": certs.iter().map(|c| json!({"rawBytes": STANDARD.encode(c.der())})).collect::<Vec<_>>()},
        "validFor": ValidFor::since(now() - 86_400).json(),
    });
    let json = TrustedRootJson::new().timestamp_authority(entry);
    TrustedRoot::from_json(json.to_json().as_bytes()).unwrap()
}

#[tokio::test]
async fn real_timestamp_server_stamps_and_the_stamp_verifies() {
    let port = free_port();
    let mut server = GoServer::start(
        "timestamp-server",
        &tsa_args(&["--host", "127.0.0.1", "--port", &port.to_string()]),
        tempfile::tempdir().unwrap(),
    );
    server.wait_for(port);
    let base = format!("http://127.0.0.1:{port}");
    let chain = http()
        .get(format!("{base}/api/v1/timestamp/certchain"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let root = root_for_tsa(&chain, &base);

    let client = TsaClient::new(&format!("{base}/api/v1/timestamp"), http()).unwrap();
    let signature = b"a signature to timestamp";
    let response = client.timestamp(signature).await.unwrap();
    let time = check_timestamp(&response, signature, &root).unwrap();
    assert!((time - now()).abs() < 60, "{time}");
    // certReq was honoured: the TSA's certificate travels in the token.
    let token = TimestampToken::from_der(&response).unwrap();
    assert!(!token.certificates().is_empty());
    assert!(check_timestamp(&response, b"other bytes", &root).is_err());
}

#[tokio::test]
async fn real_timestamp_server_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_support::TestCa::new();
    // The server certificate names only tsa.test: reaching 127.0.0.1 needs
    // --timestamp-server-name.
    let (server_cert, server_key) = ca.leaf(&["tsa.test"], &[]);
    let (client_cert, client_key) = ca.client_cert("cosign-client");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let ca_file = write("ca.pem", &ca.ca_pem);
    let (server_cert, server_key) = (
        write("server.pem", &server_cert),
        write("server.key", &server_key),
    );
    let (client_cert, client_key) = (
        write("client.pem", &client_cert),
        write("client.key", &client_key),
    );
    let port = free_port();
    let mut server = GoServer::start(
        "timestamp-server",
        &tsa_args(&[
            "--scheme",
            "https",
            "--tls-host",
            "127.0.0.1",
            "--tls-port",
            &port.to_string(),
            "--tls-certificate",
            server_cert.to_str().unwrap(),
            "--tls-key",
            server_key.to_str().unwrap(),
            "--tls-ca",
            ca_file.to_str().unwrap(),
        ]),
        tempfile::tempdir().unwrap(),
    );
    server.wait_for(port);
    let url = format!("https://127.0.0.1:{port}/api/v1/timestamp");
    let full = TsaTlsOptions {
        ca_cert: Some(ca_file.clone()),
        client_cert: Some(client_cert.clone()),
        client_key: Some(client_key.clone()),
        server_name: Some("tsa.test".into()),
    };
    let mtls = tsa_http_client(&full, reqwest::Client::builder()).unwrap();
    let chain = mtls
        .get(format!(
            "https://127.0.0.1:{port}/api/v1/timestamp/certchain"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let root = root_for_tsa(&chain, &url);
    let response = TsaClient::new(&url, mtls)
        .unwrap()
        .timestamp(b"sig")
        .await
        .unwrap();
    check_timestamp(&response, b"sig", &root).unwrap();

    // Without the client certificate, or without the server name, the handshake fails.
    for opts in [
        TsaTlsOptions {
            client_cert: None,
            client_key: None,
            ..full.clone()
        },
        TsaTlsOptions {
            server_name: None,
            ..full.clone()
        },
    ] {
        let client = tsa_http_client(&opts, reqwest::Client::builder()).unwrap();
        let e = TsaClient::new(&url, client)
            .unwrap()
            .timestamp(b"sig")
            .await
            .unwrap_err();
        assert!(matches!(e, KeylessError::Transport { .. }), "{e}");
    }
}

#[tokio::test]
async fn real_fulcio_issues_for_the_key_and_the_detached_answer_is_checked() {
    let issuer = OidcIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"OIDCIssuers": {issuer.url(): {
            "IssuerURL": issuer.url(), "ClientID": "sigstore", "Type": "email"
        }}})
        .to_string(),
    )
    .unwrap();
    let (port, grpc, metrics) = (free_port(), free_port(), free_port());
    let socket = dir.path().join("legacy.sock");
    let args: Vec<String> = [
        "serve",
        "--ca",
        "ephemeralca",
        "--config-path",
        config.to_str().unwrap(),
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        &grpc.to_string(),
        "--metrics-port",
        &metrics.to_string(),
        "--legacy-unix-domain-socket",
        socket.to_str().unwrap(),
        "--ct-log-url",
        "",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut server = GoServer::start("fulcio", &args, dir);
    server.wait_for(port);
    let base = format!("http://127.0.0.1:{port}");

    // The ephemeral CA's root, from the trust bundle, is the trusted root's CA.
    let bundle: serde_json::Value = serde_json::from_str(
        &http()
            .get(format!("{base}/api/v2/trustBundle"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let ca_certs: Vec<Certificate> = bundle["chains"][0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pem| Certificate::from_pem(pem.as_str().unwrap().as_bytes()).unwrap())
        .collect();
    let mut json = TrustedRootJson::new();
    json.certificate_authorities.push(json!({
        "subject": {"organization": "sigstore.dev", "commonName": "sigstore"},
        "uri": base,
        "certChain": {"certificates": ca_certs.iter().map(|c| json!({"rawBytes": STANDARD.encode(c.der())})).collect::<Vec<_>>()},
        "validFor": ValidFor::since(now() - 86_400).json(),
    }));
    let root = TrustedRoot::from_json(json.to_json().as_bytes()).unwrap();

    let token = IdentityToken::parse(&issuer.token()).unwrap();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let client = FulcioClient::new(&base, http()).unwrap();
    let issued = client.signing_certificate(&token, &key).await.unwrap();
    // Without a CT log Fulcio answers signedCertificateDetachedSct without an SCT.
    assert!(issued.detached_sct.is_none());
    assert_eq!(
        issued.chain, ca_certs,
        "the chain after the leaf is the CA's"
    );
    let e = issued
        .check(&key.public_key(), &root, now(), false)
        .unwrap_err();
    assert!(
        matches!(
            e,
            KeylessError::Certificate {
                check: CertificateCheck::Sct,
                ..
            }
        ),
        "{e}"
    );
    issued.check(&key.public_key(), &root, now(), true).unwrap();
    // Another key's check fails; the SAN is the token's email.
    let other = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    assert!(
        issued
            .check(&other.public_key(), &root, now(), true)
            .is_err()
    );
    assert!(
        issued
            .leaf_pem()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );

    // Fulcio's own refusal (a token for another audience) surfaces with its status and
    // message, never the token.
    let raw = issuer.token_with_claims(&json!({
        "iss": issuer.url(), "aud": "another-audience", "sub": "uid-1",
        "email": "alice@example.com", "email_verified": true,
        "iat": now(), "nbf": now() - 10, "exp": now() + 600,
    }));
    let token = IdentityToken::parse(&raw).unwrap();
    let e = client.signing_certificate(&token, &key).await.unwrap_err();
    assert!(
        matches!(
            e,
            KeylessError::Status {
                status: 400 | 401,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("identity token"), "{e}");
    crate::assert_no_token(&e.to_string(), &raw);
}
