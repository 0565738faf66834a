//! The `dev.sigstore.cosign/rfc3161timestamp` annotation of legacy signature layers: a
//! timestamp there is verified over the raw signature against the trusted root's timestamp
//! authorities, or the signature is refused; it is never ignored.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::Error;
use cosign::image::verify::verify_image_from;
use cosign_types::annotations::RFC3161_TIMESTAMP_ANNOTATION;

use crate::fakes::{MemStore, image_ref};
use crate::{Key, legacy_layer, put_sig_image, subject, verify_options};

fn conformance(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../cosign-cli/tests/data/conformance/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A real RFC 3161 timestamp of the public-good TSA (over another signature: the one of the
/// conformance suite's managed-key-happy-path bundle).
fn real_token() -> String {
    let bundle: serde_json::Value = serde_json::from_slice(&conformance(
        "bundle-verify/managed-key-happy-path/bundle.sigstore.json",
    ))
    .unwrap();
    bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn verify_with(annotation: &str, with_root: bool) -> Result<usize, Error> {
    let (key, store) = (Key::new(), MemStore::new());
    let extra = BTreeMap::from([(
        RFC3161_TIMESTAMP_ANNOTATION.to_owned(),
        annotation.to_owned(),
    )]);
    let (layer, _, _) = legacy_layer(&store, &key, extra);
    put_sig_image(&store, vec![layer]);
    let mut opts = verify_options(&key);
    if with_root {
        opts.trusted_root = Some(
            cosign_trust::trusted_root::TrustedRoot::from_json(&conformance(
                "public-good/trusted_root.json",
            ))
            .unwrap(),
        );
    }
    verify_image_from(&store, &image_ref(&subject()), &opts)
        .await
        .map(|v| v.signatures.len())
}

#[tokio::test]
async fn a_timestamp_over_other_bytes_is_refused() {
    let annotation = format!(r#"{{"SignedRFC3161Timestamp":"{}"}}"#, real_token());
    let e = verify_with(&annotation, true).await.unwrap_err();
    assert!(
        e.to_string().contains("message imprint"),
        "a genuine token over another signature must not vouch for this one: {e}"
    );
}

#[tokio::test]
async fn a_timestamp_no_authority_can_check_is_refused() {
    let annotation = format!(r#"{{"SignedRFC3161Timestamp":"{}"}}"#, real_token());
    let e = verify_with(&annotation, false).await.unwrap_err();
    assert!(
        e.to_string().contains("no timestamp authority is trusted"),
        "{e}"
    );
}

#[tokio::test]
async fn a_malformed_timestamp_is_refused() {
    for bad in [
        "not json".to_owned(),
        r#"{"SignedRFC3161Timestamp":"!!"}"#.to_owned(),
        format!(
            r#"{{"SignedRFC3161Timestamp":"{}"}}"#,
            STANDARD.encode(b"not DER")
        ),
    ] {
        let e = verify_with(&bad, true).await.unwrap_err();
        assert!(e.to_string().contains("RFC 3161 timestamp"), "{bad}: {e}");
    }
}
