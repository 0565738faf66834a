//! The TSA client against a fake TSA that signs real RFC 3161 tokens, and its hostile
//! variants; `check_timestamp` against trusted roots.

use std::sync::Arc;

use cosign_keyless::{
    KeylessError, Service, TsaClient, TsaTlsOptions, check_timestamp, tsa_http_client,
};
use cosign_trust::trusted_root::TrustedRoot;
use serde_json::json;
use test_support::fulcio::TrustedRootJson;

use crate::http::{Reply, Server};
use crate::test_tsa::{TestTsa, Tweak, parse_request, request_der};
use crate::{http, now};

const SHA256_OID: [u8; 9] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

async fn fake_tsa(tsa: Arc<TestTsa>, tweak: Tweak, status: u16) -> Server {
    Server::start(move |req| {
        if req.method != "POST" || req.path != "/api/v1/timestamp" {
            return Reply::json(404, &json!({"code": 404, "message": "path not found"}));
        }
        Reply::bytes(
            status,
            "application/timestamp-reply",
            tsa.respond(&req.body, tweak),
        )
    })
    .await
}

fn root_trusting(tsa: &TestTsa) -> TrustedRoot {
    let json =
        TrustedRootJson::new().timestamp_authority(tsa.authority_json("https://tsa.test.example"));
    TrustedRoot::from_json(json.to_json().as_bytes()).unwrap()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

#[tokio::test]
async fn request_is_rfc3161_and_the_response_is_returned_as_received() {
    let tsa = Arc::new(TestTsa::new("honest"));
    // Go accepts 200 and 201 (timestamp-server's --use-http-201).
    for status in [200, 201] {
        let server = fake_tsa(Arc::clone(&tsa), Tweak::Honest, status).await;
        let client = TsaClient::new(&format!("{}/api/v1/timestamp", server.url), http()).unwrap();
        let signature = b"the raw signature bytes";
        let response = client.timestamp(signature).await.unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let req = &requests[0];
        assert_eq!(
            req.header("content-type"),
            Some("application/timestamp-query")
        );
        let parsed = parse_request(&req.body);
        assert_eq!(parsed.algorithm_oid, SHA256_OID);
        assert_eq!(parsed.hashed, sha256(signature));
        let nonce = parsed.nonce.expect("a nonce");
        assert!(
            nonce.len() >= 8 && nonce[0] & 0x80 == 0,
            "a positive random nonce"
        );
        assert!(parsed.cert_req);
        // A second request carries another nonce.
        client.timestamp(signature).await.unwrap();
        assert_ne!(parse_request(&server.requests()[1].body).nonce, Some(nonce));

        // The whole TimeStampResp, as Go stores it in bundles and annotations.
        assert_eq!(response[..2], [0x30, 0x82]);
        let root = root_trusting(&tsa);
        let time = check_timestamp(&response, signature, &root).unwrap();
        assert!((time - now()).abs() < 60, "{time}");
    }
}

#[tokio::test]
async fn check_timestamp_refuses_other_data_and_untrusted_authorities() {
    let tsa = Arc::new(TestTsa::new("honest"));
    let server = fake_tsa(Arc::clone(&tsa), Tweak::Honest, 200).await;
    let client = TsaClient::new(&format!("{}/api/v1/timestamp", server.url), http()).unwrap();
    let response = client.timestamp(b"sig").await.unwrap();
    let root = root_trusting(&tsa);
    check_timestamp(&response, b"sig", &root).unwrap();

    let e = check_timestamp(&response, b"other", &root).unwrap_err();
    assert!(e.to_string().contains("other data"), "{e}");
    let stranger = root_trusting(&TestTsa::new("stranger"));
    let e = check_timestamp(&response, b"sig", &stranger).unwrap_err();
    assert!(matches!(e, KeylessError::Timestamp { .. }), "{e}");
    let empty = TrustedRoot::from_json(TrustedRootJson::new().to_json().as_bytes()).unwrap();
    let e = check_timestamp(&response, b"sig", &empty).unwrap_err();
    assert!(e.to_string().contains("no timestamp authority"), "{e}");
    // A bare token (no status) verifies too; grantedWithMods does not (Go's ParseResponse).
    let bare = tsa.token(&sha256(b"sig"), None, true, Tweak::Honest);
    check_timestamp(&bare, b"sig", &root).unwrap();
    let mods = tsa.respond(&request_der(&sha256(b"sig")), Tweak::GrantedWithMods);
    let e = check_timestamp(&mods, b"sig", &root).unwrap_err();
    assert!(e.to_string().contains("granted with modifications"), "{e}");
    let e = check_timestamp(b"garbage", b"sig", &root).unwrap_err();
    assert!(matches!(e, KeylessError::Timestamp { .. }), "{e}");
}

#[tokio::test]
async fn hostile_timestamp_authorities_are_refused() {
    let tsa = Arc::new(TestTsa::new("hostile"));
    for (tweak, words) in [
        (Tweak::OtherData, "stamped other data"),
        (Tweak::WrongNonce, "another nonce"),
        (Tweak::NoNonce, "no nonce"),
        (
            Tweak::Rejection,
            "did not grant the request: rejection: request refused by policy (unrecognized or unsupported algorithm)",
        ),
        (Tweak::GrantedWithMods, "granted with modifications"),
        (Tweak::Garbage, "not a valid TimeStampResp"),
    ] {
        let server = fake_tsa(Arc::clone(&tsa), tweak, 200).await;
        let client = TsaClient::new(&format!("{}/api/v1/timestamp", server.url), http()).unwrap();
        let e = client.timestamp(b"sig").await.unwrap_err();
        assert!(
            matches!(e, KeylessError::Timestamp { .. }),
            "{tweak:?}: {e}"
        );
        assert!(e.to_string().contains(words), "{tweak:?}: {e}");
    }
    // A token signed by another key passes the client's own checks but not the trusted root's.
    let server = fake_tsa(Arc::clone(&tsa), Tweak::BadSignature, 200).await;
    let client = TsaClient::new(&format!("{}/api/v1/timestamp", server.url), http()).unwrap();
    let response = client.timestamp(b"sig").await.unwrap();
    let e = check_timestamp(&response, b"sig", &root_trusting(&tsa)).unwrap_err();
    assert!(e.to_string().contains("signature"), "{e}");
}

#[tokio::test]
async fn http_errors_carry_status_and_message() {
    // The timestamp-server's error body: {"code":400,"message":"..."}.
    let server = Server::start(|_| {
        Reply::json(
            400,
            &json!({"code": 400, "message": "Error parsing request: weak hash algorithm"}),
        )
    })
    .await;
    let client = TsaClient::new(&format!("{}/api/v1/timestamp", server.url), http()).unwrap();
    let e = client.timestamp(b"sig").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "timestamp authority returned 400: Error parsing request: weak hash algorithm"
    );
    assert!(matches!(
        e,
        KeylessError::Status {
            service: Service::TimestampAuthority,
            status: 400,
            ..
        }
    ));
    assert_eq!(server.requests().len(), 1);

    let server = Server::start(|_| Reply::bytes(502, "text/plain", b"bad gateway".to_vec())).await;
    let client = TsaClient::new(&server.url, http()).unwrap();
    let e = client.timestamp(b"sig").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "timestamp authority returned 502: bad gateway"
    );
    assert_eq!(server.requests().len(), 2, "one retry");

    for bad in ["timestamp.example/api", "file:///tmp/x"] {
        assert!(matches!(
            TsaClient::new(bad, http()),
            Err(KeylessError::Config { .. })
        ));
    }
}

#[test]
fn tls_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let base = || reqwest::Client::builder();
    // Nothing custom (a server name alone does nothing, as Go): the caller's client.
    tsa_http_client(
        &TsaTlsOptions {
            server_name: Some("tsa.example".into()),
            ..TsaTlsOptions::default()
        },
        base(),
    )
    .unwrap();
    // A client certificate without its key is ignored, as Go.
    let opts = TsaTlsOptions {
        client_cert: Some(dir.path().join("missing.pem")),
        ..TsaTlsOptions::default()
    };
    assert!(!opts.is_custom());
    tsa_http_client(&opts, base()).unwrap();

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here").unwrap();
    let ca = test_support::TestCa::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let (cert, key) = ca.client_cert("client");
    let (cert_file, key_file) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    for (opts, words) in [
        (
            TsaTlsOptions {
                ca_cert: Some(dir.path().join("missing.pem")),
                ..Default::default()
            },
            "--timestamp-client-cacert",
        ),
        (
            TsaTlsOptions {
                ca_cert: Some(empty.clone()),
                ..Default::default()
            },
            "no valid CA certs",
        ),
        (
            TsaTlsOptions {
                ca_cert: Some(ca_file.clone()),
                server_name: Some("not a name!".into()),
                ..Default::default()
            },
            "--timestamp-server-name",
        ),
        (
            TsaTlsOptions {
                client_cert: Some(cert_file.clone()),
                client_key: Some(empty.clone()),
                ..Default::default()
            },
            "--timestamp-client-key",
        ),
    ] {
        let e = tsa_http_client(&opts, base()).unwrap_err();
        assert!(matches!(e, KeylessError::Config { .. }), "{e}");
        assert!(e.to_string().contains(words), "{e}");
    }
    tsa_http_client(
        &TsaTlsOptions {
            ca_cert: Some(ca_file),
            client_cert: Some(cert_file),
            client_key: Some(key_file),
            server_name: Some("tsa.test".into()),
        },
        base(),
    )
    .unwrap();
}
