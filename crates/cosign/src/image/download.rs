//! `cosign download signature`: the stored signatures of an image, one JSON object per line.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_oci::{ImageRef, Registry};
use cosign_types::annotations::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION,
    SIGNATURE_ANNOTATION,
};
use serde_json::Value;

use super::resolve;
use super::storage::{AttachmentKind, Storage, legacy_entries, referrer_bundles};
use crate::Error;

/// One line of output per signature: the bundle JSON for referrer bundles, else cosign's
/// legacy `SignedPayload` object (`Base64Signature`, `Payload`, `Cert`, `Chain`, `Bundle`,
/// `RFC3161Timestamp`).
pub async fn download_signatures(
    reg: &Registry,
    image: &ImageRef,
    storage: &Storage,
) -> Result<Vec<Vec<u8>>, Error> {
    let resolved = resolve(reg, image, false).await?;
    let repo = image.repository();
    let bundles = referrer_bundles(reg, storage, repo, &resolved.digest).await?;
    if !bundles.is_empty() {
        return Ok(bundles.into_iter().map(|b| b.raw).collect());
    }
    let entries = legacy_entries(
        reg,
        storage,
        repo,
        &resolved.digest,
        AttachmentKind::Signature,
    )
    .await?
    .unwrap_or_default();
    if entries.is_empty() {
        return Err(Error::NoSignatures);
    }
    Ok(entries
        .iter()
        .map(|e| {
            let a = &e.descriptor.annotations;
            let pem_json = |key: &str| {
                a.get(key)
                    .filter(|v| !v.is_empty())
                    .map_or(Value::Null, |pem| serde_json::json!({ "PEM": pem }))
            };
            let obj = serde_json::json!({
                "Base64Signature": a.get(SIGNATURE_ANNOTATION).cloned().unwrap_or_default(),
                "Payload": STANDARD.encode(e.payload.as_slice()),
                "Cert": pem_json(CERTIFICATE_ANNOTATION),
                "Chain": pem_json(CHAIN_ANNOTATION),
                "Bundle": a.get(BUNDLE_ANNOTATION).and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or(Value::Null),
                "RFC3161Timestamp": a.get(RFC3161_TIMESTAMP_ANNOTATION).and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or(Value::Null),
            });
            ordered_signed_payload(&obj)
        })
        .collect())
}

/// Writes the object with Go's struct field order.
fn ordered_signed_payload(obj: &Value) -> Vec<u8> {
    let keys = [
        "Base64Signature",
        "Payload",
        "Cert",
        "Chain",
        "Bundle",
        "RFC3161Timestamp",
    ];
    let mut out = String::from("{");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{k}\":{}", obj.get(*k).unwrap_or(&Value::Null)));
    }
    out.push('}');
    out.into_bytes()
}
