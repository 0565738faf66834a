//! RekorV2Client: entries created in our own Rekor v2 log (`tlog-server`) and verified with
//! `verify_entry_at` against the trusted root it prints, for each key type, for certificates
//! and for DSSE envelopes; and a fake rekor-tiles that answers as the real one does
//! (protojson with unpopulated fields) and then lies: a wrong inclusion proof, another
//! entry's body, a checkpoint signed by another key, a SET, error statuses.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey, PublicKey, hash};
use cosign_tlog::checkpoint::Checkpoint;
use cosign_tlog::entry::{V2Verifier, hashedrekord_v002};
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use cosign_tlog::trusted_root::TrustedRoot;
use cosign_tlog::v2client::hashedrekord_request;
use cosign_tlog::{
    Expected, LogEntry, RekorV2Client, TlogError, TrustedLog, TrustedLogs, note, verify_entry_at,
};
use cosign_types::{Digest, HashAlgorithm};
use serde_json::{Value, json};
use test_support::{TestCa, TlogServer};

use crate::support::{FakeServer, Request, Response};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn client(url: &str) -> RekorV2Client {
    RekorV2Client::new(url, Duration::from_secs(30), "cosign-tlog-test/1").unwrap()
}

/// A key of `kind`, a signature over `blob` as cosign makes one for a hashedrekord (the
/// prehash scheme), the digest it covers and the key's verifier.
fn signed(kind: KeyType, blob: &[u8]) -> (PrivateKey, Digest, Vec<u8>, V2Verifier) {
    let key = PrivateKey::generate(kind).unwrap();
    let scheme = kind.default_scheme(true);
    let digest = hash(scheme.prehash().unwrap(), blob);
    let sig = key.sign_digest(scheme, &digest).unwrap();
    let v = V2Verifier::from_public_key(&key.public_key()).unwrap();
    (key, digest, sig, v)
}

/// The DER of the first PEM block.
fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(b64).unwrap()
}

fn expected<'a>(digest: &'a Digest, sig: &'a [u8], key: &'a PublicKey) -> Expected<'a> {
    Expected {
        artifact_digest: Some(digest),
        signature: Some(sig),
        verifier: Some(key),
        ..Expected::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_from_our_log_verify_for_every_key_type() {
    let server = tokio::task::spawn_blocking(TlogServer::start)
        .await
        .unwrap();
    let root = TrustedRoot::from_json(server.trusted_root_json().as_bytes()).unwrap();
    let logs = TrustedLogs::from_trusted_root(&root);
    let v2_log_id = hex::encode(root.tlogs[1].log_id);
    let rekor = client(server.url());
    let mut last_index = -1;
    for kind in [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Ed25519,
        KeyType::Rsa { bits: 2048 },
    ] {
        let (key, digest, sig, v) = signed(kind, format!("blob for {kind}").as_bytes());
        let entry = rekor.create_hashedrekord(&digest, &sig, &v).await.unwrap();
        assert_eq!(entry.log_id, v2_log_id, "{kind}");
        assert_eq!(entry.integrated_time, 0);
        assert!(entry.signed_entry_timestamp.is_none());
        assert!(entry.log_index > last_index);
        last_index = entry.log_index;
        assert_eq!(entry.body, hashedrekord_v002(&digest, &sig, &v).unwrap());
        let public = key.public_key();
        let verified = verify_entry_at(&entry, &logs, &expected(&digest, &sig, &public), now())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(verified.checked_online_proof);
        assert_eq!(verified.signed_time, None);
        // The entry is bound to its artifact and key.
        let other = hash(digest.algorithm(), b"another blob");
        assert!(verify_entry_at(&entry, &logs, &expected(&other, &sig, &public), now()).is_err());
        let stranger = PrivateKey::generate(kind).unwrap().public_key();
        assert!(
            verify_entry_at(&entry, &logs, &expected(&digest, &sig, &stranger), now()).is_err()
        );
    }

    // A certificate as the verifier (keyless signing).
    let ca = TestCa::new();
    let (cert_pem, key_pem) = ca.client_cert("signer");
    let key = PrivateKey::from_pem(key_pem.as_bytes()).unwrap();
    let cert_der = pem_der(&cert_pem);
    let v = V2Verifier::from_certificate_der(&cert_der).unwrap();
    let scheme = key.key_type().default_scheme(true);
    let digest = hash(scheme.prehash().unwrap(), b"keyless blob");
    let sig = key.sign_digest(scheme, &digest).unwrap();
    let entry = rekor.create_hashedrekord(&digest, &sig, &v).await.unwrap();
    let want = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&sig),
        verifier_cert_der: Some(&cert_der),
        ..Expected::default()
    };
    verify_entry_at(&entry, &logs, &want, now()).unwrap();

    // A DSSE envelope, logged as cosign 3.1.2 logs it: a hashedrekord over its PAE.
    let (key, _, _, v) = signed(KeyType::EcdsaP256, b"");
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;
    let pae = cosign_types::dsse::pae("application/vnd.in-toto+json", payload);
    let sig = key
        .sign_message(KeyType::EcdsaP256.default_scheme(false), &pae)
        .unwrap();
    let envelope = json!({"payloadType": "application/vnd.in-toto+json",
        "payload": STANDARD.encode(payload),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(&sig)}]})
    .to_string();
    let entry = rekor.create_dsse(envelope.as_bytes(), &v).await.unwrap();
    let public = key.public_key();
    let want = Expected {
        envelope: Some(envelope.as_bytes()),
        signature: Some(&sig),
        verifier: Some(&public),
        ..Expected::default()
    };
    verify_entry_at(&entry, &logs, &want, now()).unwrap();
    let other_envelope = envelope.replace("in-toto+json", "in-toto+jsonx");
    let want = Expected {
        envelope: Some(other_envelope.as_bytes()),
        ..want
    };
    assert!(verify_entry_at(&entry, &logs, &want, now()).is_err());
}

/// How the fake log misbehaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lie {
    None,
    WrongProof,
    OtherBody,
    ForeignCheckpointKey,
    WithSet,
    Status200,
}

/// A rekor-tiles look-alike at 127.0.0.1: hashedrekord requests only, answers with protojson
/// as grpc-gateway writes it (`EmitUnpopulated`: zero integrated time, null promise).
struct FakeV2 {
    server: FakeServer,
    key: Arc<PrivateKey>,
    origin: String,
}

impl FakeV2 {
    async fn start(lie: Lie) -> Self {
        let key = Arc::new(PrivateKey::generate(KeyType::Ed25519).unwrap());
        let signer = key.clone();
        let tree = Arc::new(Mutex::new(MerkleTree::new()));
        let server = FakeServer::start(move |req: &Request| handle(req, &signer, &tree, lie)).await;
        let origin = note::origin_from_base_url(&server.url).unwrap();
        Self {
            server,
            key,
            origin,
        }
    }

    fn logs(&self) -> TrustedLogs {
        let public = self.key.public_key();
        let log_id = note::key_id(&self.origin, &public);
        let mut logs = TrustedLogs::default();
        logs.push(TrustedLog {
            key: public,
            log_id,
            valid_from: None,
            valid_until: None,
        });
        logs.set_origin(log_id, &self.origin);
        logs
    }
}

fn handle(req: &Request, key: &PrivateKey, tree: &Mutex<MerkleTree>, lie: Lie) -> Response {
    if (req.method.as_str(), req.target.as_str()) != ("POST", "/api/v2/log/entries") {
        return Response::json(404, &json!({"code": 5, "message": "Not Found"}));
    }
    let r = req.json();
    let Some(h) = r.get("hashedRekordRequestV002") else {
        return Response::json(
            400,
            &json!({"code": 3, "message": "invalid type, must be hashedrekord", "details": []}),
        );
    };
    let unb64 = |v: &Value| STANDARD.decode(v.as_str().unwrap()).unwrap();
    let sig = unb64(&h["signature"]["content"]);
    let verifier = &h["signature"]["verifier"];
    let v = V2Verifier::from_public_key(
        &PublicKey::from_spki_der(&unb64(&verifier["publicKey"]["rawBytes"])).unwrap(),
    )
    .unwrap();
    let digest = Digest::new(HashAlgorithm::Sha256, unb64(&h["digest"])).unwrap();
    let mut body = hashedrekord_v002(&digest, &sig, &v).unwrap();
    if lie == Lie::OtherBody {
        let mut other = sig.clone();
        other[10] ^= 1;
        body = hashedrekord_v002(&digest, &other, &v).unwrap();
    }
    let mut tree = tree.lock().unwrap();
    let origin = note::origin_from_base_url(&format!(
        "http://{}",
        req.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.clone())
            .unwrap()
    ))
    .unwrap();
    let index = tree.push(leaf_hash(&body));
    let size = tree.size();
    let mut hashes = tree.inclusion_proof(index, size).unwrap();
    if lie == Lie::WrongProof {
        // A tree of two leaves at least: the first leaf's sibling, flipped.
        tree.push(leaf_hash(b"padding"));
        hashes = tree.inclusion_proof(index, tree.size()).unwrap();
        hashes[0][0] ^= 1;
    }
    let size = tree.size();
    let checkpoint = Checkpoint {
        origin: origin.clone(),
        size,
        root_hash: tree.root(),
        other: Vec::new(),
    };
    let envelope = if lie == Lie::ForeignCheckpointKey {
        let stranger = PrivateKey::generate(KeyType::Ed25519).unwrap();
        note::sign_checkpoint(&checkpoint, &origin, &stranger).unwrap()
    } else {
        note::sign_checkpoint(&checkpoint, &origin, key).unwrap()
    };
    let log_id = note::key_id(&origin, &key.public_key());
    let promise = if lie == Lie::WithSet {
        json!({"signedEntryTimestamp": STANDARD.encode(b"not from Rekor v2")})
    } else {
        Value::Null
    };
    let tle = json!({
        "logIndex": index.to_string(),
        "logId": {"keyId": STANDARD.encode(log_id)},
        "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
        "integratedTime": "0",
        "inclusionPromise": promise,
        "inclusionProof": {
            "logIndex": index.to_string(),
            "rootHash": STANDARD.encode(tree.root()),
            "treeSize": size.to_string(),
            "hashes": hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": envelope},
        },
        "canonicalizedBody": STANDARD.encode(&body),
    });
    Response::json(if lie == Lie::Status200 { 200 } else { 201 }, &tle)
}

async fn create_p256(fake: &FakeV2) -> (Result<LogEntry, TlogError>, Digest, Vec<u8>, PublicKey) {
    let (key, digest, sig, v) = signed(KeyType::EcdsaP256, b"hostile");
    let res = client(&fake.server.url)
        .create_hashedrekord(&digest, &sig, &v)
        .await;
    (res, digest, sig, key.public_key())
}

#[tokio::test]
async fn a_rekor_tiles_answer_is_read_and_verified() {
    let fake = FakeV2::start(Lie::None).await;
    let (res, digest, sig, public) = create_p256(&fake).await;
    let entry = res.unwrap();
    verify_entry_at(
        &entry,
        &fake.logs(),
        &expected(&digest, &sig, &public),
        now(),
    )
    .unwrap();
    // The request went as sigstore-go sends it.
    let reqs = fake.server.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0]
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json")
    );
    let sent: Value = reqs[0].json();
    let want = hashedrekord_request(
        &digest,
        &sig,
        &V2Verifier::from_public_key(&public).unwrap(),
    )
    .unwrap();
    assert_eq!(sent, serde_json::from_slice::<Value>(&want).unwrap());
}

#[tokio::test]
async fn lying_logs_are_refused() {
    // Proofs and checkpoints are the verifier's to check.
    for lie in [Lie::WrongProof, Lie::ForeignCheckpointKey] {
        let fake = FakeV2::start(lie).await;
        let (res, digest, sig, public) = create_p256(&fake).await;
        let entry = res.unwrap();
        let err = verify_entry_at(
            &entry,
            &fake.logs(),
            &expected(&digest, &sig, &public),
            now(),
        )
        .unwrap_err();
        match lie {
            Lie::WrongProof => assert!(matches!(err, TlogError::InclusionProof { .. }), "{err}"),
            _ => assert!(
                matches!(err, TlogError::CheckpointSignature { .. }),
                "{err}"
            ),
        }
    }
    // An answer that is not the entry sent, or not a Rekor v2 one, is refused at once.
    for (lie, want) in [
        (Lie::OtherBody, "another entry than the one sent"),
        (Lie::WithSet, "signed entry timestamp"),
        (Lie::Status200, "HTTP 200"),
    ] {
        let fake = FakeV2::start(lie).await;
        let (res, ..) = create_p256(&fake).await;
        let err = res.unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[tokio::test]
async fn error_statuses_name_the_problem() {
    let server = FakeServer::start(|req: &Request| {
        if req.json()["hashedRekordRequestV002"]["signature"]["content"]
            .as_str()
            .is_some_and(|s| s.len() > 100)
        {
            Response::json(409, &json!({"code": 6, "message": "an equivalent entry already exists in the transparency log"}))
                .header("x-log-index", "41")
        } else {
            Response::json(400, &json!({"code": 3, "message": "invalid hashedrekord request", "details": []}))
        }
    })
    .await;
    let rekor = client(&server.url);
    let (_, digest, sig, v) = signed(KeyType::Rsa { bits: 2048 }, b"dup");
    let err = rekor
        .create_hashedrekord(&digest, &sig, &v)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 409") && err.contains("log index 41"),
        "{err}"
    );
    let (_, digest, sig, v) = signed(KeyType::EcdsaP256, b"bad");
    let err = rekor
        .create_hashedrekord(&digest, &sig, &v)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 400") && err.contains("invalid hashedrekord request"),
        "{err}"
    );
    // A mismatched digest never leaves the client.
    let before = server.requests().len();
    let d384 = hash(HashAlgorithm::Sha384, b"bad");
    assert!(matches!(
        rekor.create_hashedrekord(&d384, &sig, &v).await,
        Err(TlogError::InvalidArgument(_))
    ));
    assert_eq!(server.requests().len(), before);
}
