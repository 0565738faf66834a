//! Decision 0006: `verify` reads the legacy `.sig` image first and consults referrers only
//! when no legacy signature verified; both formats are still found.

use std::collections::BTreeMap;

use cosign::Error;
use cosign::image::verify::verify_image_from;

use crate::fakes::{MemStore, image_ref};
use crate::{Key, legacy_layer, put_bundle_referrer, put_sig_image, subject, verify_options};

#[tokio::test]
async fn a_verified_legacy_signature_costs_two_reads_and_no_referrers() {
    let (key, store) = (Key::new(), MemStore::new());
    let (layer, payload, _) = legacy_layer(&store, &key, BTreeMap::new());
    let payload_digest = layer.digest.clone();
    put_sig_image(&store, vec![layer]);
    put_bundle_referrer(&store, &key);
    store.clear_calls();

    let verified = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap();
    assert_eq!(verified.signatures.len(), 1);
    assert_eq!(verified.signatures[0].payload, payload);
    let tag = format!("{}.sig", subject().tag_form());
    assert_eq!(
        store.calls(),
        [
            format!("get_manifest {tag}"),
            format!("get_blob {payload_digest}")
        ]
    );
}

#[tokio::test]
async fn a_failing_legacy_signature_falls_back_to_the_bundles() {
    let (key, other, store) = (Key::new(), Key::new(), MemStore::new());
    let (layer, _, _) = legacy_layer(&store, &other, BTreeMap::new());
    put_sig_image(&store, vec![layer]);
    let statement = put_bundle_referrer(&store, &key);
    store.clear_calls();

    let verified = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap();
    assert_eq!(verified.signatures.len(), 1);
    assert_eq!(verified.signatures[0].payload, statement);
    let calls = store.calls();
    assert!(
        calls[0].starts_with("get_manifest") && calls[0].ends_with(".sig"),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with("referrers")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_bundle_alone_verifies() {
    let (key, store) = (Key::new(), MemStore::new());
    let statement = put_bundle_referrer(&store, &key);
    let verified = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap();
    assert_eq!(verified.signatures[0].payload, statement);
}

#[tokio::test]
async fn nothing_attached_is_no_signatures_and_nothing_verified_is_no_match() {
    let (key, other, store) = (Key::new(), Key::new(), MemStore::new());
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoSignatures), "{err}");
    let (layer, _, _) = legacy_layer(&store, &other, BTreeMap::new());
    put_sig_image(&store, vec![layer]);
    put_bundle_referrer(&store, &other);
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoMatchingSignatures(_)), "{err}");
}
