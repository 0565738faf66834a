use cosign_crypto::{KeyType, PrivateKey, SignatureScheme, hash};
use cosign_types::{Envelope, EnvelopeSignature};

use super::*;

fn p256() -> PrivateKey {
    PrivateKey::generate_ecdsa_p256().unwrap()
}

fn signed_digest(key: &PrivateKey, data: &[u8]) -> (Digest, Vec<u8>) {
    let digest = hash(HashAlgorithm::Sha256, data);
    let sig = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    (digest, sig)
}

fn envelope(keys: &[&PrivateKey], payload: &[u8]) -> Envelope {
    let mut env = Envelope {
        payload_type: "application/vnd.in-toto+json".to_owned(),
        payload: payload.to_vec(),
        signatures: vec![],
    };
    let pae = env.pae();
    for key in keys {
        let scheme = key.key_type().default_scheme(false);
        env.signatures.push(EnvelopeSignature {
            keyid: String::new(),
            sig: key.sign_message(scheme, &pae).unwrap(),
        });
    }
    env
}

#[test]
fn hashedrekord_is_validated_and_stored_canonically() {
    let key = p256();
    let (digest, sig) = signed_digest(&key, b"hello");
    // A PEM with CRLF line ends and surrounding text is stored in Go's canonical form.
    let pem = key.public_key().to_pem();
    let sloppy = format!("key:\r\n{}", pem.replace('\n', "\r\n"));
    let proposed = hashedrekord(&digest, &sig, sloppy.as_bytes());
    assert_eq!(proposed["kind"], "hashedrekord");
    assert_eq!(proposed["spec"]["data"]["hash"]["value"], digest.hex());
    let stored = canonicalize_proposed(&proposed).unwrap();
    let expected = format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        digest.hex(),
        STANDARD.encode(&sig),
        STANDARD.encode(pem.as_bytes())
    );
    assert_eq!(String::from_utf8(stored.clone()).unwrap(), expected);
    let body = Body::parse(&stored).unwrap();
    assert_eq!(
        body,
        Body::HashedRekord {
            digest: digest.clone(),
            signature: sig.clone(),
            verifier_pem: pem.clone().into_bytes(),
        }
    );
    assert_eq!((body.kind(), body.version()), ("hashedrekord", "0.0.1"));
    let keys = index_keys(&body);
    assert_eq!(keys, vec![sha256_hex(pem.as_bytes()), digest.to_string()]);
    assert_eq!(
        key_index(sloppy.as_bytes()),
        Some(sha256_hex(pem.as_bytes()))
    );
}

#[test]
fn hashedrekord_refusals() {
    let key = p256();
    let (digest, sig) = signed_digest(&key, b"hello");
    let pem = key.public_key().to_pem();
    // Signature over another digest.
    let other = hash(HashAlgorithm::Sha256, b"other");
    let e = canonicalize_proposed(&hashedrekord(&other, &sig, pem.as_bytes())).unwrap_err();
    assert!(matches!(e, TlogError::InvalidEntry { .. }), "{e}");
    // Another key.
    let other_key = p256().public_key().to_pem();
    assert!(canonicalize_proposed(&hashedrekord(&digest, &sig, other_key.as_bytes())).is_err());
    // A P-256 key cannot verify a SHA-512 digest here.
    let d512 = hash(HashAlgorithm::Sha512, b"hello");
    assert!(canonicalize_proposed(&hashedrekord(&d512, &sig, pem.as_bytes())).is_err());
    // Not a key.
    assert!(canonicalize_proposed(&hashedrekord(&digest, &sig, b"junk")).is_err());
    // Empty signature, missing fields, wrong types, unknown kinds.
    assert!(canonicalize_proposed(&hashedrekord(&digest, b"", pem.as_bytes())).is_err());
    let mut v = hashedrekord(&digest, &sig, pem.as_bytes());
    v["spec"]["data"]["hash"]["algorithm"] = json!("md5");
    assert!(canonicalize_proposed(&v).is_err());
    v["spec"]["data"] = json!(5);
    assert!(canonicalize_proposed(&v).is_err());
    for bad in [
        json!(null),
        json!([]),
        json!({"kind": "hashedrekord"}),
        json!({"kind": "hashedrekord", "apiVersion": "0.0.1"}),
        json!({"kind": "rpm", "apiVersion": "0.0.1", "spec": {}}),
        json!({"kind": "hashedrekord", "apiVersion": "0.0.2", "spec": {}}),
    ] {
        assert!(canonicalize_proposed(&bad).is_err(), "{bad}");
    }
}

#[test]
fn ed25519_hashedrekord_uses_ed25519ph() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let digest = hash(HashAlgorithm::Sha512, b"data");
    let sig = key
        .sign_digest(SignatureScheme::Ed25519ph, &digest)
        .unwrap();
    let proposed = hashedrekord(&digest, &sig, key.public_key().to_pem().as_bytes());
    let stored = canonicalize_proposed(&proposed).unwrap();
    assert!(
        matches!(Body::parse(&stored).unwrap(), Body::HashedRekord { digest: d, .. } if d == digest)
    );
}

#[test]
fn dsse_stored_form() {
    let a = p256();
    let b = p256();
    let env = envelope(
        &[&a, &b],
        br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#,
    );
    let env_json = env.to_json();
    let pem_a = a.public_key().to_pem();
    let pem_b = b.public_key().to_pem();
    let proposed = dsse(&env_json, &[pem_a.as_bytes(), pem_b.as_bytes()]);
    assert_eq!(
        proposed["spec"]["proposedContent"]["envelope"],
        String::from_utf8(env_json.clone()).unwrap()
    );
    let stored = canonicalize_proposed(&proposed).unwrap();
    let mut sigs = [
        (STANDARD.encode(&env.signatures[0].sig), pem_a.clone()),
        (STANDARD.encode(&env.signatures[1].sig), pem_b.clone()),
    ];
    sigs.sort();
    let expected = format!(
        r#"{{"apiVersion":"0.0.1","kind":"dsse","spec":{{"envelopeHash":{{"algorithm":"sha256","value":"{}"}},"payloadHash":{{"algorithm":"sha256","value":"{}"}},"signatures":[{{"signature":"{}","verifier":"{}"}},{{"signature":"{}","verifier":"{}"}}]}}}}"#,
        sha256_hex(&env_json),
        sha256_hex(&env.payload),
        sigs[0].0,
        STANDARD.encode(sigs[0].1.as_bytes()),
        sigs[1].0,
        STANDARD.encode(sigs[1].1.as_bytes()),
    );
    assert_eq!(String::from_utf8(stored.clone()).unwrap(), expected);
    let body = Body::parse(&stored).unwrap();
    let Body::Dsse {
        envelope_hash,
        payload_hash,
        signatures,
    } = &body
    else {
        panic!("not dsse: {body:?}");
    };
    assert_eq!(envelope_hash, &hash(HashAlgorithm::Sha256, &env_json));
    assert_eq!(payload_hash, &hash(HashAlgorithm::Sha256, &env.payload));
    assert_eq!(signatures.len(), 2);
    assert!(signatures.contains(&(env.signatures[0].sig.clone(), pem_a.clone().into_bytes())));
    let keys = index_keys(&body);
    assert!(keys.contains(&payload_hash.to_string()));
    assert!(keys.contains(&envelope_hash.to_string()));
    assert!(keys.contains(&sha256_hex(pem_a.as_bytes())));
    assert_eq!(keys.len(), 4);
}

#[test]
fn dsse_refusals() {
    let a = p256();
    let env = envelope(&[&a], b"{}").to_json();
    let wrong = p256().public_key().to_pem();
    assert!(canonicalize_proposed(&dsse(&env, &[wrong.as_bytes()])).is_err());
    assert!(canonicalize_proposed(&dsse(&env, &[])).is_err());
    assert!(canonicalize_proposed(&dsse(b"not json", &[wrong.as_bytes()])).is_err());
    let unsigned = envelope(&[], b"{}").to_json();
    let pem = a.public_key().to_pem();
    assert!(canonicalize_proposed(&dsse(&unsigned, &[pem.as_bytes()])).is_err());
    // Client-set server fields are refused.
    let mut v = dsse(&env, &[pem.as_bytes()]);
    v["spec"]["payloadHash"] = json!({"algorithm": "sha256", "value": "00"});
    assert!(canonicalize_proposed(&v).is_err());
    // Null (or empty) server fields are absent, as Rekor's Go client sends them.
    let plain = canonicalize_proposed(&dsse(&env, &[pem.as_bytes()])).unwrap();
    let mut v = dsse(&env, &[pem.as_bytes()]);
    v["spec"]["envelopeHash"] = Value::Null;
    v["spec"]["payloadHash"] = Value::Null;
    v["spec"]["signatures"] = json!([]);
    assert_eq!(canonicalize_proposed(&v).unwrap(), plain);
    // A tampered payload no longer verifies.
    let mut tampered: Value = serde_json::from_slice(&env).unwrap();
    tampered["payload"] = json!(STANDARD.encode(b"{\"x\":1}"));
    let tampered = serde_json::to_vec(&tampered).unwrap();
    assert!(canonicalize_proposed(&dsse(&tampered, &[pem.as_bytes()])).is_err());
}

#[test]
fn intoto_v002_round_trip() {
    let a = p256();
    let env = envelope(&[&a], br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let env_json = env.to_json();
    let pem = a.public_key().to_pem();
    let proposed = intoto(&env_json, pem.as_bytes());
    // Payload and signature are encoded twice, as Rekor's Go models write them.
    let payload_b64 = STANDARD.encode(&env.payload);
    assert_eq!(
        proposed["spec"]["content"]["envelope"]["payload"],
        STANDARD.encode(payload_b64.as_bytes())
    );
    let stored = canonicalize_proposed(&proposed).unwrap();
    let text = String::from_utf8(stored.clone()).unwrap();
    assert!(text.starts_with(r#"{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"application/vnd.in-toto+json","signatures":[{"publicKey":"#));
    assert!(!text.contains("\"payload\":"));
    let body = Body::parse(&stored).unwrap();
    assert_eq!((body.kind(), body.version()), ("intoto", "0.0.2"));
    let Body::Intoto {
        envelope_hash,
        payload_hash,
        signatures,
    } = body
    else {
        panic!("not intoto");
    };
    assert_eq!(envelope_hash, hash(HashAlgorithm::Sha256, &env_json));
    assert_eq!(
        payload_hash,
        Some(hash(HashAlgorithm::Sha256, &env.payload))
    );
    assert_eq!(
        signatures,
        vec![(env.signatures[0].sig.clone(), pem.into_bytes())]
    );

    let wrong = p256().public_key().to_pem();
    assert!(canonicalize_proposed(&intoto(&env_json, wrong.as_bytes())).is_err());
    assert!(canonicalize_proposed(&intoto(b"[]", wrong.as_bytes())).is_err());
}

#[test]
fn real_public_good_body_parses() {
    let bundle = cosign_types::RekorBundle::from_json(include_bytes!(
        "../../tests/data/cosign-legacy-rekor-bundle.json"
    ))
    .unwrap();
    let body = Body::parse(&bundle.payload.body_bytes().unwrap()).unwrap();
    let Body::HashedRekord {
        digest,
        signature,
        verifier_pem,
    } = &body
    else {
        panic!("not hashedrekord");
    };
    assert_eq!(
        digest.to_string(),
        "sha256:4b165d02f5d50618efe3acafb00e9fd279a0aedba43aa3c0f74c077c376e1cfd"
    );
    assert_eq!(signature.len(), 70);
    assert!(cosign_crypto::PublicKey::from_pem(verifier_pem).is_ok());
}

#[test]
fn old_kinds_parse() {
    let key = p256().public_key().to_pem();
    let rekord = json!({"apiVersion": "0.0.1", "kind": "rekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "AB".repeat(32)}},
        "signature": {"content": "AAAA", "format": "x509", "publicKey": {"content": STANDARD.encode(&key)}}}});
    let body = Body::parse(rekord.to_string().as_bytes()).unwrap();
    assert!(matches!(&body, Body::Rekord { digest, .. } if digest.hex() == "ab".repeat(32)));
    assert_eq!((body.kind(), body.version()), ("rekord", "0.0.1"));
    let intoto1 = json!({"apiVersion": "0.0.1", "kind": "intoto", "spec": {
        "content": {"hash": {"algorithm": "sha256", "value": "11".repeat(32)},
                    "payloadHash": {"algorithm": "sha256", "value": "22".repeat(32)}},
        "publicKey": STANDARD.encode(&key)}});
    let body = Body::parse(intoto1.to_string().as_bytes()).unwrap();
    assert_eq!((body.kind(), body.version()), ("intoto", "0.0.1"));
    assert_eq!(body.signatures(), vec![(&[][..], key.as_bytes())]);
}

#[test]
fn hostile_bodies_are_errors_not_panics() {
    let many: Vec<Value> = (0..33)
        .map(|_| json!({"signature": "AAAA", "verifier": "AAAA"}))
        .collect();
    let cases = [
        b"".to_vec(),
        b"null".to_vec(),
        b"[1,2]".to_vec(),
        b"{\"kind\":5}".to_vec(),
        json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": null}).to_string().into_bytes(),
        json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {"data": {"hash": {"algorithm": "sha256", "value": "zz"}}}}).to_string().into_bytes(),
        json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"envelopeHash": {"algorithm": "sha256", "value": "00".repeat(32)}, "payloadHash": {"algorithm": "sha256", "value": "00".repeat(32)}, "signatures": many}}).to_string().into_bytes(),
        json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"envelopeHash": {"algorithm": "sha256", "value": "00".repeat(32)}, "payloadHash": {"algorithm": "sha256", "value": "00".repeat(32)}, "signatures": []}}).to_string().into_bytes(),
        json!({"kind": "intoto", "apiVersion": "0.0.2", "spec": {"content": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}, "envelope": {"signatures": [{"sig": "!!", "publicKey": ""}]}}}}).to_string().into_bytes(),
        json!({"kind": "cose", "apiVersion": "0.0.1", "spec": {}}).to_string().into_bytes(),
    ];
    for case in cases {
        assert!(
            Body::parse(&case).is_err(),
            "{}",
            String::from_utf8_lossy(&case)
        );
    }
}
