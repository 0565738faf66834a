use cosign_crypto::{PrivateKey, SignatureScheme};

use super::*;
use crate::entry::index_keys;

fn parts() -> (Digest, Vec<u8>, V2Verifier, PrivateKey) {
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let digest = cosign_crypto::hash(HashAlgorithm::Sha256, b"artifact");
    let sig = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let verifier = V2Verifier::from_public_key(&key.public_key()).unwrap();
    (digest, sig, verifier, key)
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

fn reencode(v: &Value) -> Vec<u8> {
    cosign_types::to_canonical_json(v).unwrap()
}

#[test]
fn hashedrekord_round_trip() {
    let (digest, sig, verifier, key) = parts();
    let body = hashedrekord_v002(&digest, &sig, &verifier).unwrap();
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.starts_with(r#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":""#));
    assert!(text.contains(
        r#""verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":""#
    ));
    let parsed = Body::parse(&body).unwrap();
    assert!(parsed.is_rekor_v2());
    assert_eq!((parsed.kind(), parsed.version()), ("hashedrekord", "0.0.2"));
    let Body::HashedRekordV002 {
        digest: d,
        signature,
        verifier: v,
    } = &parsed
    else {
        panic!("not v2");
    };
    assert_eq!((d, signature, v), (&digest, &sig, &verifier));
    assert_eq!(v.public_key().unwrap(), key.public_key());
    let pairs = parsed.signatures();
    assert_eq!(pairs[0].1, key.public_key().to_pem().as_bytes());
    assert!(index_keys(&parsed).contains(&digest.to_string()));
}

#[test]
fn hostile_hashedrekord_bodies_are_refused() {
    let (digest, sig, verifier, _) = parts();
    let good = body_json(&hashedrekord_v002(&digest, &sig, &verifier).unwrap());
    let hr = "/spec/hashedRekordV002";
    let mut cases: Vec<Vec<u8>> = Vec::new();
    let mut edit = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        cases.push(reencode(&v));
    };
    // Key details that are not the key's default, or pure Ed25519, or unknown.
    for details in ["PKIX_ECDSA_P384_SHA_384", "PKIX_ED25519", "NOPE"] {
        edit(&|v| {
            *v.pointer_mut(&format!("{hr}/signature/verifier/keyDetails"))
                .unwrap() = Value::String(details.to_owned());
        });
    }
    // A digest of another algorithm than the key's, or of the wrong length.
    edit(&|v| {
        *v.pointer_mut(&format!("{hr}/data/algorithm")).unwrap() = json!("SHA2_512");
    });
    edit(&|v| {
        *v.pointer_mut(&format!("{hr}/data/digest")).unwrap() = json!("AAAA");
    });
    // Both a key and a certificate; neither; a key that is not a key.
    edit(&|v| {
        let ver = v.pointer_mut(&format!("{hr}/signature/verifier")).unwrap();
        let key = ver["publicKey"].clone();
        ver["x509Certificate"] = key;
    });
    edit(&|v| {
        let ver = v.pointer_mut(&format!("{hr}/signature/verifier")).unwrap();
        ver.as_object_mut().unwrap().remove("publicKey");
    });
    edit(&|v| {
        *v.pointer_mut(&format!("{hr}/signature/verifier/publicKey/rawBytes"))
            .unwrap() = json!("AAAA");
    });
    // Empty signature, extra fields, a second spec.
    edit(&|v| {
        *v.pointer_mut(&format!("{hr}/signature/content")).unwrap() = json!("");
    });
    edit(&|v| {
        v.pointer_mut(hr).unwrap()["extra"] = json!(1);
    });
    edit(&|v| {
        v["spec"]["dsseV002"] = json!({});
    });
    edit(&|v| {
        v["spec"] = json!({"dsseV002": v["spec"]["hashedRekordV002"].clone()});
    });
    // Same fields, not canonical: unpadded base64, whitespace.
    let mut unpadded = good.clone();
    let d = unpadded
        .pointer(&format!("{hr}/data/digest"))
        .unwrap()
        .as_str()
        .unwrap()
        .trim_end_matches('=')
        .to_owned();
    *unpadded.pointer_mut(&format!("{hr}/data/digest")).unwrap() = Value::String(d);
    cases.push(reencode(&unpadded));
    cases.push(serde_json::to_vec_pretty(&good).unwrap());
    for case in cases {
        assert!(
            Body::parse(&case).is_err(),
            "{}",
            String::from_utf8_lossy(&case)
        );
    }
}

#[test]
fn dsse_round_trip_and_refusals() {
    let (digest, sig, verifier, _) = parts();
    let body = dsse_v002(&digest, &[(sig.clone(), verifier.clone())]).unwrap();
    let parsed = Body::parse(&body).unwrap();
    assert_eq!((parsed.kind(), parsed.version()), ("dsse", "0.0.2"));
    assert_eq!(parsed.signatures().len(), 1);
    assert!(index_keys(&parsed).contains(&digest.to_string()));
    assert!(Body::parse(&dsse_v002(&digest, &[]).unwrap()).is_err());
    let many: Vec<_> = (0..40).map(|_| (sig.clone(), verifier.clone())).collect();
    assert!(Body::parse(&dsse_v002(&digest, &many).unwrap()).is_err());
}

#[test]
fn key_details_defaults() {
    for (kt, details) in [
        (KeyType::EcdsaP256, "PKIX_ECDSA_P256_SHA_256"),
        (KeyType::EcdsaP384, "PKIX_ECDSA_P384_SHA_384"),
        (KeyType::Ed25519, "PKIX_ED25519_PH"),
    ] {
        let key = PrivateKey::generate(kt).unwrap().public_key();
        assert_eq!(default_key_details(&key).unwrap().0, details);
        assert_eq!(
            V2Verifier::from_public_key(&key).unwrap().key_details,
            details
        );
    }
}
