//! RFC 3161 timestamps carried by Sigstore bundles. A timestamp is verified or the bundle is
//! refused: its message imprint must be the hash of the signature, and its signer must chain to
//! a timestamp authority of the trusted root that was valid at its time. A bundle with
//! timestamps and no trusted timestamp authority fails closed.

use cosign_trust::timestamp::TimestampToken;
use cosign_trust::trusted_root::TrustedRoot;
use cosign_types::Bundle;

use crate::Error;

/// The DER timestamps of a bundle (`timestampVerificationData.rfc3161Timestamps`).
pub fn bundle_timestamps(bundle: &Bundle) -> Vec<Vec<u8>> {
    bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .map(|t| {
            t.rfc3161_timestamps
                .iter()
                .map(|ts| ts.signed_timestamp.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Verifies every timestamp over `signature` against the timestamp authorities of `root`;
/// returns their times. `name` names the bundle in errors.
pub fn verify_timestamps(
    tokens: &[Vec<u8>],
    signature: &[u8],
    root: Option<&TrustedRoot>,
    name: &str,
) -> Result<Vec<i64>, Error> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let Some(root) = root.filter(|r| !r.timestamp_authorities.is_empty()) else {
        return Err(Error::Verification(format!(
            "{name} carries an RFC 3161 timestamp, and no timestamp authority is trusted to check it (a trusted root with timestampAuthorities is needed)"
        )));
    };
    tokens
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let context = || format!("{name}: verifying RFC 3161 timestamp {}", i + 1);
            let token = TimestampToken::from_der(der).map_err(|e| Error::Trust {
                context: context(),
                source: Box::new(e),
            })?;
            let verified = token.verify(signature, root).map_err(|e| Error::Trust {
                context: context(),
                source: Box::new(e),
            })?;
            Ok(verified.time)
        })
        .collect()
}
