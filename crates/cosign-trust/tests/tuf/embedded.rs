//! The real Sigstore roots built into the crate.

use cosign_trust::TrustError;
use cosign_trust::tuf::{Instance, TufClient, TufOptions, verify_self_signed_root};
use serde_json::{Value, json};

use super::repo::NoNetwork;

fn shared(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

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

#[test]
fn embedded_files_are_the_shared_copies() {
    for (instance, dir) in [
        (Instance::PublicGood, "public-good"),
        (Instance::Staging, "staging"),
    ] {
        assert_eq!(instance.root_json(), shared(&format!("{dir}/root.json")));
        assert_eq!(
            instance.trusted_root_json(),
            shared(&format!("{dir}/trusted_root.json"))
        );
        assert_eq!(Instance::for_mirror(instance.mirror()), Some(instance));
        assert_eq!(
            Instance::for_mirror(&format!("{}/", instance.mirror())),
            Some(instance)
        );
    }
    assert_eq!(Instance::for_mirror("https://example.test"), None);
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
