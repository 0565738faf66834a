//! Bytes a store returns that do not match the digest they were asked for are refused.

use std::collections::BTreeMap;

use cosign::image::transfer::{Endpoint, NoProgress, copy_blob};
use cosign::image::verify::verify_image_from;
use cosign_types::media_types::SIMPLE_SIGNING_MEDIA_TYPE;
use cosign_types::oci::Descriptor;

use crate::fakes::{Lie, MemStore, image_ref, repo};
use crate::{Key, legacy_layer, put_bundle_referrer, put_sig_image, subject, verify_options};

fn lying(lie: Lie) -> MemStore {
    MemStore {
        lie,
        ..MemStore::new()
    }
}

#[tokio::test]
async fn a_payload_that_does_not_match_its_digest_is_refused() {
    let (key, store) = (Key::new(), lying(Lie::CorruptBlobs));
    let (layer, _, _) = legacy_layer(&store, &key, BTreeMap::new());
    put_sig_image(&store, vec![layer]);
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not match its digest"), "{err}");
}

#[tokio::test]
async fn a_manifest_that_does_not_match_its_digest_is_refused() {
    let (key, store) = (Key::new(), lying(Lie::CorruptManifests));
    let (layer, _, _) = legacy_layer(&store, &key, BTreeMap::new());
    put_sig_image(&store, vec![layer]);
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not match its digest"), "{err}");
}

#[tokio::test]
async fn another_manifest_than_the_digest_asked_for_is_refused() {
    let (key, store) = (Key::new(), lying(Lie::WrongManifest));
    put_bundle_referrer(&store, &key);
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("asked for manifest"), "{err}");
}

#[tokio::test]
async fn a_copied_blob_that_does_not_match_its_digest_is_not_stored() {
    let (src, dst) = (lying(Lie::CorruptBlobs), MemStore::new());
    let data = b"a layer".to_vec();
    let digest = src.add_blob(&data);
    let desc = Descriptor::new(SIMPLE_SIGNING_MEDIA_TYPE, data.len() as u64, digest.clone());
    let (a, b) = (
        repo(),
        cosign_oci::ImageRef::parse("registry.test/other:v1").unwrap(),
    );
    let err = copy_blob(
        Endpoint::new(&src, &a),
        Endpoint::new(&dst, b.repository()),
        &desc,
        &NoProgress,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("does not match its digest"), "{err}");
    assert!(!dst.has_blob(&digest));
}
