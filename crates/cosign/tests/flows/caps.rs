//! Counts and sizes a registry announces are refused before anything they describe is read.

use std::collections::BTreeMap;

use cosign::image::storage::{
    AttachmentKind, NewLayer, Storage, append_layer, legacy_entries, referrer_bundles,
};
use cosign::image::verify::verify_image_from;
use cosign_types::bundle::BUNDLE_V03_MEDIA_TYPE;
use cosign_types::media_types::{OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE};
use cosign_types::oci::Descriptor;

use crate::fakes::{MemStore, image_manifest, image_ref, repo, sha256};
use crate::{Key, add_fallback_entry, legacy_layer, put_sig_image, subject, verify_options};

fn fake_layers(n: usize) -> Vec<Descriptor> {
    (0..n)
        .map(|i| {
            Descriptor::new(
                SIMPLE_SIGNING_MEDIA_TYPE,
                10,
                sha256(format!("layer {i}").as_bytes()),
            )
        })
        .collect()
}

fn reads(store: &MemStore, what: &str) -> Vec<String> {
    store
        .calls()
        .into_iter()
        .filter(|c| c.starts_with(what))
        .collect()
}

#[tokio::test]
async fn a_sig_image_of_more_than_1000_layers_is_refused() {
    let (key, store) = (Key::new(), MemStore::new());
    put_sig_image(&store, fake_layers(1001));
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("1000"), "{err}");
    assert!(reads(&store, "get_blob").is_empty());
}

#[tokio::test]
async fn more_than_100_signatures_are_refused_before_reading_one() {
    let (key, store) = (Key::new(), MemStore::new());
    let (good, _, _) = legacy_layer(&store, &key, BTreeMap::new());
    let mut layers = fake_layers(100);
    layers.push(good);
    put_sig_image(&store, layers);
    let err = verify_image_from(&store, &image_ref(&subject()), &verify_options(&key))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than the 100 signatures"), "{err}");
    assert!(reads(&store, "get_blob").is_empty());
}

#[tokio::test]
async fn an_attachment_over_the_size_cap_is_refused_before_reading() {
    let (key, store) = (Key::new(), MemStore::new());
    let (mut layer, payload, _) = legacy_layer(&store, &key, BTreeMap::new());
    let storage = Storage {
        max_attachment_size: payload.len() as u64 - 1,
        ..Storage::default()
    };
    layer.size = payload.len() as u64;
    put_sig_image(&store, vec![layer]);
    let err = legacy_entries(
        &store,
        &storage,
        &repo(),
        &subject(),
        AttachmentKind::Signature,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("over the attachment size limit"), "{err}");
    assert!(reads(&store, "get_blob").is_empty());
}

#[tokio::test]
async fn more_than_100_bundle_referrers_are_refused_before_reading_one() {
    let store = MemStore::new();
    for i in 0..101 {
        let mut d = Descriptor::new(
            OCI_MANIFEST_MEDIA_TYPE,
            500,
            sha256(format!("referrer {i}").as_bytes()),
        );
        d.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
        add_fallback_entry(&store, d);
    }
    store.clear_calls();
    let err = referrer_bundles(&store, &Storage::default(), &repo(), &subject())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than the 100"), "{err}");
    let by_digest: Vec<String> = reads(&store, "get_manifest sha256:");
    assert!(by_digest.is_empty(), "{by_digest:?}");
}

#[tokio::test]
async fn a_bundle_over_the_size_cap_is_refused_before_reading() {
    let store = MemStore::new();
    let bundle = store.add_blob(b"{}");
    let manifest = image_manifest(
        vec![Descriptor::new(BUNDLE_V03_MEDIA_TYPE, 1 << 20, bundle)],
        Some(BUNDLE_V03_MEDIA_TYPE),
        Some(crate::subject_descriptor()),
    );
    let d = store.add_manifest(OCI_MANIFEST_MEDIA_TYPE, &manifest, None);
    let mut entry = Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, manifest.len() as u64, d);
    entry.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
    add_fallback_entry(&store, entry);
    let storage = Storage {
        max_attachment_size: 1000,
        ..Storage::default()
    };
    let err = referrer_bundles(&store, &storage, &repo(), &subject())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("over the attachment size limit"), "{err}");
    assert!(reads(&store, "get_blob").is_empty());
}

#[tokio::test]
async fn a_full_sig_image_takes_no_more_signatures() {
    let store = MemStore::new();
    put_sig_image(&store, fake_layers(1000));
    let storage = Storage::default();
    let tag = storage.tag(&subject(), AttachmentKind::Signature);
    let layer = NewLayer::new(
        b"one more".to_vec(),
        SIMPLE_SIGNING_MEDIA_TYPE,
        BTreeMap::new(),
    );
    store.clear_calls();
    let err = append_layer(
        &store,
        &storage,
        &repo(),
        &tag,
        &layer,
        &|_: &Descriptor| false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("refuses more than 1000"), "{err}");
    assert!(reads(&store, "put_manifest").is_empty());
}
