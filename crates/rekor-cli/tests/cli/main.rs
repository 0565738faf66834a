//! The rekor-cli binary against a fake Rekor: the seed's "Hard mode" flow (upload, search by
//! artifact, get as JSON and take the signature), and every command's output lines.

// The fake server is test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod server;

use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{PrivateKey, SignatureScheme, hash};
use cosign_types::HashAlgorithm;
use serde_json::Value;

use server::FakeRekor;

async fn rekor_cli(server: &str, args: &[&str]) -> Output {
    let mut all = vec!["--rekor_server".to_owned(), server.to_owned()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rekor-cli"))
            .args(&all)
            .env_remove("REKOR_SERVER")
            .env_remove("REKOR_REKOR_SERVER")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stderr(o), stdout(o));
    stdout(o)
}

/// A signed artifact as `cosign sign-blob --key` leaves it: the artifact, a base64 signature
/// file and the PEM public key.
struct Signed {
    artifact: String,
    signature: String,
    public_key: String,
    sig_b64: String,
}

fn sign(dir: &Path, name: &str, data: &[u8]) -> Signed {
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let digest = hash(HashAlgorithm::Sha256, data);
    let sig = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let sig_b64 = STANDARD.encode(&sig);
    let artifact = dir.join(name);
    std::fs::write(&artifact, data).unwrap();
    let signature = dir.join(format!("{name}.sig"));
    std::fs::write(&signature, format!("{sig_b64}\n")).unwrap();
    let public_key = dir.join(format!("{name}.pub"));
    std::fs::write(&public_key, key.public_key().to_pem()).unwrap();
    Signed {
        artifact: artifact.display().to_string(),
        signature: signature.display().to_string(),
        public_key: public_key.display().to_string(),
        sig_b64,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_mode_flow() {
    let server = FakeRekor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = sign(
        dir.path(),
        "HEAD",
        b"0123456789abcdef0123456789abcdef01234567\n",
    );

    let up = ok(&rekor_cli(
        &server.url,
        &[
            "upload",
            "--artifact",
            &s.artifact,
            "--signature",
            &s.signature,
            "--public-key",
            &s.public_key,
        ],
    )
    .await);
    let uuid = server.log.lock().unwrap().entries[0].uuid.clone();
    assert_eq!(
        up,
        format!(
            "Created entry at index 0, available at: {}/api/v1/log/entries/{uuid}\n",
            server.url
        )
    );
    let again = ok(&rekor_cli(
        &server.url,
        &[
            "upload",
            "--artifact",
            &s.artifact,
            "--signature",
            &s.signature,
            "--public-key",
            &s.public_key,
        ],
    )
    .await);
    assert_eq!(
        again,
        format!(
            "Entry already exists; available at: {}/api/v1/log/entries/{uuid}\n",
            server.url
        )
    );

    // uuid=$(rekor-cli search --artifact <file> | tail -n 1)
    let found = rekor_cli(&server.url, &["search", "--artifact", &s.artifact]).await;
    assert_eq!(ok(&found), format!("{uuid}\n"));
    assert_eq!(stderr(&found), "Found matching entries (listed by UUID):\n");
    let by_key = ok(&rekor_cli(
        &server.url,
        &[
            "search",
            "--public-key",
            &s.public_key,
            "--pki-format",
            "x509",
        ],
    )
    .await);
    assert_eq!(by_key, format!("{uuid}\n"));

    // sig=$(rekor-cli get --uuid=$uuid --format=json | jq -r .Body.HashedRekordObj.signature.content)
    let get = ok(&rekor_cli(
        &server.url,
        &["get", &format!("--uuid={uuid}"), "--format=json"],
    )
    .await);
    let v: Value = serde_json::from_str(&get).unwrap();
    assert_eq!(
        v["Body"]["HashedRekordObj"]["signature"]["content"],
        s.sig_b64.as_str()
    );
    assert!(get.starts_with(r#"{"Attestation":"","AttestationType":"","Body":{"HashedRekordObj":{"data":{"hash":{"algorithm":"sha256","value":""#));
    assert!(get.ends_with(&format!(
        r#""LogIndex":0,"IntegratedTime":1700000000,"UUID":"{uuid}","LogID":"{}"}}
"#,
        v["LogID"].as_str().unwrap()
    )));

    // The default text form.
    let text = ok(&rekor_cli(&server.url, &["get", "--log-index", "0"]).await);
    let log_id = v["LogID"].as_str().unwrap();
    let head = format!(
        "LogID: {log_id}\nIndex: 0\nIntegratedTime: 2023-11-14T22:13:20Z\nUUID: {uuid}\nBody: {{\n  \"HashedRekordObj\": {{\n    \"data\": {{\n      \"hash\": {{\n        \"algorithm\": \"sha256\",\n"
    );
    assert!(text.starts_with(&head), "{text}");
    assert!(text.ends_with("    }\n  }\n}\n\n"), "{text:?}");
    assert!(text.contains(&format!("      \"content\": \"{}\",\n", s.sig_b64)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_loginfo_logproof() {
    let server = FakeRekor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = sign(dir.path(), "a", b"first");
    let b = sign(dir.path(), "b", b"second");
    for s in [&a, &b] {
        ok(&rekor_cli(
            &server.url,
            &[
                "upload",
                "--artifact",
                &s.artifact,
                "--signature",
                &s.signature,
                "--public-key",
                &s.public_key,
            ],
        )
        .await);
    }
    let (uuid, root) = {
        let log = server.log.lock().unwrap();
        (log.entries[0].uuid.clone(), hex::encode(log.tree.root()))
    };

    let verified = ok(&rekor_cli(&server.url, &["verify", "--uuid", &uuid]).await);
    let expected_head = format!(
        "Current Root Hash: {root}\nEntry Hash: {uuid}\nEntry Index: 0\nCurrent Tree Size: 2\nCheckpoint:\nrekor.fake - 3904496407287907110\n2\n"
    );
    assert!(verified.starts_with(&expected_head), "{verified}");
    assert!(
        verified.contains("\n\n\nInclusion Proof:\nSHA256(0x01 | "),
        "{verified}"
    );
    let by_artifact = ok(&rekor_cli(
        &server.url,
        &[
            "verify",
            "--artifact",
            &b.artifact,
            "--signature",
            &b.signature,
            "--public-key",
            &b.public_key,
            "--format",
            "json",
        ],
    )
    .await);
    let v: Value = serde_json::from_str(&by_artifact).unwrap();
    assert_eq!(v["Index"], 1);
    assert_eq!(v["Size"], 2);
    assert_eq!(v["RootHash"], root.as_str());
    let by_index = ok(&rekor_cli(&server.url, &["verify", "--log-index", "1"]).await);
    assert!(by_index.contains("Entry Index: 1\n"));

    let info = rekor_cli(&server.url, &["loginfo"]).await;
    assert_eq!(
        ok(&info),
        format!(
            "Verification Successful!\nActive Tree Size:       2\nTotal Tree Size:        2\nRoot Hash:              {root}\nTreeID:                 3904496407287907110\n"
        )
    );
    assert!(stderr(&info).contains("No previous log state stored, unable to prove consistency"));
    let info_json = ok(&rekor_cli(&server.url, &["loginfo", "--format", "json"]).await);
    assert_eq!(
        info_json,
        format!(
            "{{\"ActiveTreeSize\":2,\"TotalTreeSize\":2,\"RootHash\":\"{root}\",\"TreeID\":\"3904496407287907110\"}}\n"
        )
    );

    let proof = ok(&rekor_cli(&server.url, &["logproof", "--last-size", "2"]).await);
    let expected_proof = {
        let log = server.log.lock().unwrap();
        let hashes: Vec<String> = log
            .tree
            .consistency_proof(1, 2)
            .unwrap()
            .iter()
            .map(hex::encode)
            .collect();
        format!(
            "Current Root Hash: {root}\nHashes: [{}]\n",
            hashes.join(",")
        )
    };
    assert_eq!(proof, expected_proof);
    let bad = rekor_cli(
        &server.url,
        &["logproof", "--first-size", "3", "--last-size", "2"],
    )
    .await;
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("last-size must be >= to first-size"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_1_with_a_message() {
    let server = FakeRekor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = sign(dir.path(), "x", b"data");

    let none = rekor_cli(&server.url, &["search", "--sha", &"ab".repeat(32)]).await;
    assert_eq!(none.status.code(), Some(1));
    assert_eq!(stderr(&none), "no matching entries found\n");

    let missing = rekor_cli(&server.url, &["get", "--uuid", &"cd".repeat(32)]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );

    let neither = rekor_cli(&server.url, &["get"]).await;
    assert_eq!(neither.status.code(), Some(1));
    assert_eq!(
        stderr(&neither),
        "either --uuid or --log-index must be specified\n"
    );

    let bad_uuid = rekor_cli(&server.url, &["get", "--uuid", "xyz"]).await;
    assert_eq!(bad_uuid.status.code(), Some(1));

    // A signature that does not verify is refused by the log.
    let other = sign(dir.path(), "y", b"other data");
    let refused = rekor_cli(
        &server.url,
        &[
            "upload",
            "--artifact",
            &s.artifact,
            "--signature",
            &other.signature,
            "--public-key",
            &s.public_key,
        ],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("400"), "{}", stderr(&refused));

    // A log whose answers are signed by another key is caught.
    ok(&rekor_cli(
        &server.url,
        &[
            "upload",
            "--artifact",
            &s.artifact,
            "--signature",
            &s.signature,
            "--public-key",
            &s.public_key,
        ],
    )
    .await);
    server.log.lock().unwrap().rogue = Some(PrivateKey::generate_ecdsa_p256().unwrap());
    let lying = rekor_cli(&server.url, &["get", "--log-index", "0"]).await;
    assert_eq!(lying.status.code(), Some(1));
    assert!(
        stderr(&lying).starts_with("unable to verify entry was added to log"),
        "{}",
        stderr(&lying)
    );
    let lying_info = rekor_cli(&server.url, &["loginfo"]).await;
    assert_eq!(
        stderr(&lying_info),
        "signature on tree head did not verify\n"
    );

    // Unsupported kinds and formats say so.
    let rekord = rekor_cli(
        &server.url,
        &["upload", "--type", "rekord", "--artifact", &s.artifact],
    )
    .await;
    assert!(stderr(&rekord).contains("not supported"));
    let pgp = rekor_cli(
        &server.url,
        &["upload", "--pki-format", "pgp", "--artifact", &s.artifact],
    )
    .await;
    assert!(stderr(&pgp).contains("only x509"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsse_upload_and_entry_file() {
    let server = FakeRekor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let mut env = cosign_types::Envelope {
        payload_type: "application/vnd.in-toto+json".to_owned(),
        payload: br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec(),
        signatures: vec![],
    };
    let sig = key
        .sign_message(SignatureScheme::EcdsaP256Sha256, &env.pae())
        .unwrap();
    env.signatures.push(cosign_types::EnvelopeSignature {
        keyid: String::new(),
        sig,
    });
    let env_path = dir.path().join("att.json");
    std::fs::write(&env_path, env.to_json()).unwrap();
    let pub_path = dir.path().join("k.pub");
    std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
    let up = ok(&rekor_cli(
        &server.url,
        &[
            "upload",
            "--type",
            "dsse",
            "--artifact",
            env_path.to_str().unwrap(),
            "--public-key",
            pub_path.to_str().unwrap(),
        ],
    )
    .await);
    assert!(up.starts_with("Created entry at index 0, available at: "));
    let get = ok(&rekor_cli(
        &server.url,
        &["get", "--log-index", "0", "--format", "json"],
    )
    .await);
    let v: Value = serde_json::from_str(&get).unwrap();
    assert!(v["Body"]["DSSEObj"]["payloadHash"]["value"].is_string());

    // --entry with a pre-formatted proposed entry (intoto 0.0.2).
    let proposed = cosign_tlog::entry::intoto(&env.to_json(), key.public_key().to_pem().as_bytes());
    let entry_path = dir.path().join("entry.json");
    std::fs::write(&entry_path, serde_json::to_vec(&proposed).unwrap()).unwrap();
    let up = ok(&rekor_cli(
        &server.url,
        &[
            "upload",
            "--entry",
            entry_path.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
    .await);
    let v: Value = serde_json::from_str(&up).unwrap();
    assert_eq!(v["AlreadyExists"], false);
    assert_eq!(v["Index"], 1);
    let get = ok(&rekor_cli(
        &server.url,
        &["get", "--log-index", "1", "--format", "json"],
    )
    .await);
    let v: Value = serde_json::from_str(&get).unwrap();
    assert!(v["Body"]["IntotoObj"]["content"]["hash"]["value"].is_string());
}
