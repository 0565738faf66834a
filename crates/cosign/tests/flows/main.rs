//! The flows crate's own tests: image and log flows against in-memory fakes of the registry
//! ([`fakes::MemStore`]) and of the transparency log ([`fakes::FakeLog`]), honest and lying.
//!
//! - `lost_update`: concurrent writers of one `.sig` image or fallback index (decision 0004).
//! - `legacy_first`: `verify` reads the `.sig` image before referrers (decision 0006).
//! - `caps`: counts and sizes refused before anything is read.
//! - `digests`: bytes that do not match their digest.
//! - `log_binding`: log entries for another artifact, signature or key (decision 0007).

// The fakes and helpers are test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod caps;
mod digests;
mod fakes;
mod legacy_first;
mod log_binding;
mod lost_update;
mod timestamps;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::image::storage::{AttachmentKind, Storage};
use cosign::image::verify::VerifyOptions;
use cosign_crypto::{PrivateKey, SignatureScheme};
use cosign_types::annotations::SIGNATURE_ANNOTATION;
use cosign_types::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, PublicKeyIdentifier, VerificationMaterial,
    VerificationMaterialContent,
};
use cosign_types::dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE};
use cosign_types::media_types::{OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE};
use cosign_types::oci::Descriptor;
use cosign_types::{Digest, simple_signing_payload};

use fakes::{MemStore, image_manifest, index_json, sha256};

/// A signing key and its scheme.
pub struct Key {
    pub private: PrivateKey,
}

impl Default for Key {
    fn default() -> Self {
        Self {
            private: PrivateKey::generate_ecdsa_p256().unwrap(),
        }
    }
}

impl Key {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scheme(&self) -> SignatureScheme {
        self.private.key_type().default_scheme(false)
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.private.sign_message(self.scheme(), message).unwrap()
    }

    pub fn pem(&self) -> String {
        self.private.public_key().to_pem()
    }
}

/// The digest of the (imaginary) image under test.
pub fn subject() -> Digest {
    sha256(b"the image")
}

pub fn subject_descriptor() -> Descriptor {
    Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, 9, subject())
}

pub fn verify_options(key: &Key) -> VerifyOptions {
    VerifyOptions {
        authority: cosign::keyless::Authority::Key(key.private.public_key()),
        annotations: BTreeMap::new(),
        check_claims: true,
        storage: Storage::default(),
        tlog: None,
        trusted_root: None,
    }
}

/// A legacy signature layer of `subject` by `key` (its payload stored in `store`), with
/// `extra` annotations.
pub fn legacy_layer(
    store: &MemStore,
    key: &Key,
    extra: BTreeMap<String, String>,
) -> (Descriptor, Vec<u8>, Vec<u8>) {
    let payload = simple_signing_payload("registry.test/app", &subject(), None);
    let signature = key.sign(&payload);
    let d = store.add_blob(&payload);
    let mut layer = Descriptor::new(SIMPLE_SIGNING_MEDIA_TYPE, payload.len() as u64, d);
    layer.annotations = extra;
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(&signature));
    (layer, payload, signature)
}

/// Stores a `.sig` image of `subject` with `layers`.
pub fn put_sig_image(store: &MemStore, layers: Vec<Descriptor>) {
    let tag = Storage::default().tag(&subject(), AttachmentKind::Signature);
    store.add_manifest(
        OCI_MANIFEST_MEDIA_TYPE,
        &image_manifest(layers, None, None),
        Some(&tag),
    );
}

/// Stores a Sigstore bundle signed by `key` as a referrer of `subject`, listed in the fallback
/// index; returns the statement.
pub fn put_bundle_referrer(store: &MemStore, key: &Key) -> Vec<u8> {
    let statement = cosign::image::sign::sign_statement(&subject(), &BTreeMap::new());
    let signature = key.sign(&cosign_types::pae(IN_TOTO_PAYLOAD_TYPE, &statement));
    let bundle = Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        verification_material: VerificationMaterial {
            content: VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
                hint: STANDARD.encode(key.private.public_key().hint()),
            }),
            tlog_entries: Vec::new(),
            timestamp_verification_data: None,
        },
        content: BundleContent::DsseEnvelope(Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: statement.clone(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: signature,
            }],
        }),
    }
    .to_json();
    let bundle_digest = store.add_blob(&bundle);
    let manifest = image_manifest(
        vec![Descriptor::new(
            BUNDLE_V03_MEDIA_TYPE,
            bundle.len() as u64,
            bundle_digest,
        )],
        Some(BUNDLE_V03_MEDIA_TYPE),
        Some(subject_descriptor()),
    );
    let d = store.add_manifest(OCI_MANIFEST_MEDIA_TYPE, &manifest, None);
    let mut entry = Descriptor::new(OCI_MANIFEST_MEDIA_TYPE, manifest.len() as u64, d);
    entry.artifact_type = Some(BUNDLE_V03_MEDIA_TYPE.to_owned());
    add_fallback_entry(store, entry);
    statement
}

/// Adds `entry` to the fallback index of `subject` in `store` (no lost-update check: setup).
pub fn add_fallback_entry(store: &MemStore, entry: Descriptor) {
    let tag = Storage::fallback_tag(&subject());
    let mut entries = store
        .tagged(&tag)
        .map(|b| {
            cosign_types::oci::ImageIndex::from_json(&b)
                .unwrap()
                .manifests
        })
        .unwrap_or_default();
    entries.push(entry);
    store.add_manifest(
        cosign_types::media_types::OCI_INDEX_MEDIA_TYPE,
        &index_json(entries),
        Some(&tag),
    );
}
