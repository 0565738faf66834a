//! The real Sigstore roots built into the crate.

use cosign_trust::TrustError;
use cosign_trust::tuf::{Instance, TufClient, TufOptions, verify_self_signed_root};
use serde_json::{Value, json};

use super::repo::{NoNetwork, sha256_hex};

#[test]
fn embedded_public_good_and_staging_roots_verify_against_themselves() {
    assert_eq!(
        verify_self_signed_root("public-good", Instance::PublicGood.root_json()).unwrap(),
        15
    );
    // Staging's root carries two empty signatures: they must simply not count.
    assert_eq!(
        verify_self_signed_root("staging", Instance::Staging.root_json()).unwrap(),
        14
    );
}

/// SHA-256 of the copies in `shared/conformance/{public-good,staging}/` (sigstore-python 4.5.1).
const ORIGIN: [(Instance, &str, &str); 2] = [
    (
        Instance::PublicGood,
        "73747011d0857ada15479a16c4cae0f3ed03aac698b523b97e1de314ac9d9ca8",
        "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66",
    ),
    (
        Instance::Staging,
        "353d172f05f9e73b4a647b1a464f16726d929cbfd030cc42bffb86cd742fb61f",
        "81f5af777952d2c3955062ad56924c05ca916b5d49f3a0bce945faa475a8b1cc",
    ),
];

#[test]
fn embedded_files_are_the_published_copies() {
    for (instance, root, trusted_root) in ORIGIN {
        assert_eq!(
            sha256_hex(instance.root_json()),
            root,
            "{}",
            instance.name()
        );
        assert_eq!(
            sha256_hex(instance.trusted_root_json()),
            trusted_root,
            "{}",
            instance.name()
        );
        assert_eq!(Instance::for_mirror(instance.mirror()), Some(instance));
        assert_eq!(
            Instance::for_mirror(&format!("{}/", instance.mirror())),
            Some(instance)
        );
    }
    assert_eq!(Instance::for_mirror("https://example.test"), None);
    // The public-good trusted_root.json is also the one the real repository served.
    assert_eq!(
        Instance::PublicGood.trusted_root_json(),
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/tuf/data/public-good/targets/trusted_root.json")
        )
        .unwrap()
    );
}

#[test]
fn reformatting_keeps_the_signature_but_any_change_breaks_it() {
    for instance in [Instance::PublicGood, Instance::Staging] {
        let mut root: Value = serde_json::from_slice(instance.root_json()).unwrap();
        // Compact form, same content: the canonical form is unchanged.
        let compact = serde_json::to_vec(&root).unwrap();
        verify_self_signed_root("compact", &compact).unwrap();

        root["signed"]["expires"] = json!("2099-01-01T00:00:00Z");
        let changed = serde_json::to_vec(&root).unwrap();
        let err = verify_self_signed_root("changed", &changed).unwrap_err();
        assert!(
            matches!(&err, TrustError::Threshold { valid: 0, .. }),
            "{err:?}"
        );

        // An extension field is covered by the signature as well.
        let mut root: Value = serde_json::from_slice(instance.root_json()).unwrap();
        root["signed"]["x-tuf-on-ci-expiry-period"] = json!(1);
        let err =
            verify_self_signed_root("x-field", &serde_json::to_vec(&root).unwrap()).unwrap_err();
        assert!(matches!(err, TrustError::Threshold { .. }), "{err:?}");
    }
}

#[test]
fn clients_for_the_embedded_instances_can_be_built() {
    for instance in [Instance::PublicGood, Instance::Staging] {
        let client = TufClient::new(TufOptions::for_instance(instance, None), NoNetwork).unwrap();
        assert_eq!(client.options().mirror, instance.mirror());
    }
}
