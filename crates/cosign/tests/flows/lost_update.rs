//! Decision 0004: concurrent writers of one `.sig` image or one fallback index lose nothing,
//! and a store that keeps losing our writes makes the flow fail, never pass silently.

use std::collections::BTreeMap;
use std::time::Duration;

use cosign::image::storage::{
    AppendOutcome, AttachmentKind, NewLayer, Storage, append_fallback_entries, append_layer,
};
use cosign_types::media_types::{OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE};
use cosign_types::oci::{Descriptor, ImageIndex, ImageManifest};
use futures_util::future::join_all;

use crate::fakes::{Lie, MemStore, repo, sha256};
use crate::subject;

const SIGNERS: usize = 6;

fn interleaving_store() -> MemStore {
    // Every writer reads, waits 30 ms, then writes: all of them read the same document.
    MemStore {
        read_delay: Some(Duration::from_millis(30)),
        ..MemStore::new()
    }
}

fn layers() -> Vec<NewLayer> {
    (0..SIGNERS)
        .map(|i| {
            NewLayer::new(
                format!("payload {i}").into_bytes(),
                SIMPLE_SIGNING_MEDIA_TYPE,
                BTreeMap::new(),
            )
        })
        .collect()
}

fn never_duplicate(_: &Descriptor) -> bool {
    false
}

#[tokio::test]
async fn concurrent_signers_lose_no_signature() {
    let store = interleaving_store();
    let (repo, storage) = (repo(), Storage::default());
    let tag = storage.tag(&subject(), AttachmentKind::Signature);
    let layers = layers();
    let outcomes = join_all(
        layers
            .iter()
            .map(|l| append_layer(&store, &storage, &repo, &tag, l, &never_duplicate)),
    )
    .await;
    let attempts: Vec<u32> = outcomes
        .into_iter()
        .map(|o| match o.unwrap() {
            AppendOutcome::Written { attempts } => attempts,
            AppendOutcome::AlreadyPresent => panic!("nothing was there"),
        })
        .collect();
    assert!(
        attempts.iter().any(|a| *a > 1),
        "the writers did not interleave: {attempts:?}"
    );
    let stored = ImageManifest::from_json(&store.tagged(&tag).unwrap()).unwrap();
    for l in &layers {
        assert!(
            stored.layers.contains(&l.descriptor),
            "signature {} lost (attempts {attempts:?})",
            l.descriptor.digest
        );
    }
    assert_eq!(stored.layers.len(), SIGNERS);
}

#[tokio::test]
async fn concurrent_referrers_lose_no_fallback_entry() {
    let store = interleaving_store();
    let repo = repo();
    let entries: Vec<Descriptor> = (0..SIGNERS)
        .map(|i| {
            let mut d = Descriptor::new(
                OCI_MANIFEST_MEDIA_TYPE,
                100,
                sha256(format!("referrer {i}").as_bytes()),
            );
            d.artifact_type = Some("application/example".into());
            d
        })
        .collect();
    let subject = subject();
    let results = join_all(
        entries
            .iter()
            .map(|e| append_fallback_entries(&store, &repo, &subject, std::slice::from_ref(e))),
    )
    .await;
    for r in results {
        r.unwrap();
    }
    let puts = store
        .calls()
        .iter()
        .filter(|c| c.starts_with("put_manifest"))
        .count();
    assert!(
        puts > SIGNERS,
        "the writers did not interleave ({puts} PUTs)"
    );
    let tag = Storage::fallback_tag(&subject);
    let index = ImageIndex::from_json(&store.tagged(&tag).unwrap()).unwrap();
    for e in &entries {
        assert!(
            index.manifests.iter().any(|d| d.digest == e.digest),
            "referrer {} lost",
            e.digest
        );
    }
    let mut sorted = index.manifests.clone();
    sorted.sort_by_key(|d| d.digest.to_string());
    assert_eq!(index.manifests, sorted, "the index is kept sorted");
}

#[tokio::test]
async fn a_store_that_drops_writes_makes_the_writers_give_up() {
    let store = MemStore {
        lie: Lie::DropTagWrites,
        ..MemStore::new()
    };
    let (repo, storage) = (repo(), Storage::default());
    let tag = storage.tag(&subject(), AttachmentKind::Signature);
    let layer = &layers()[0];
    let entry = Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, 10, sha256(b"referrer"));
    let (sig, index) = futures_util::future::join(
        append_layer(&store, &storage, &repo, &tag, layer, &never_duplicate),
        append_fallback_entries(&store, &repo, &subject(), std::slice::from_ref(&entry)),
    )
    .await;
    for (what, result) in [("signature", sig.map(|_| ())), ("fallback index", index)] {
        let err = result.expect_err(what).to_string();
        assert!(
            err.contains("kept changing under concurrent writers; gave up after 12 attempts"),
            "{what}: {err}"
        );
    }
    let puts = store
        .calls()
        .iter()
        .filter(|c| c.starts_with("put_manifest"))
        .count();
    assert_eq!(puts, 24, "12 attempts each");
}
