//! `trusted-root`: a Sigstore trusted_root.json whose one `tlogs` entry is this log.

use anyhow::{Result, bail};
use cosign_crypto::PublicKey;
use cosign_tlog::trusted_root::{TransparencyLogInstance, TrustedRoot};
use serde_json::Value;

/// The trusted root naming the log at `base_url` with `key`, valid from `created` (Unix
/// seconds) on.
pub fn json(key: &PublicKey, base_url: &str, created: i64) -> Result<String> {
    let url = base_url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() <= "https://".len()
    {
        bail!("--url must be an http:// or https:// URL, got {base_url:?}");
    }
    let root = TrustedRoot {
        media_type: String::new(),
        tlogs: vec![TransparencyLogInstance {
            base_url: url.to_owned(),
            hash_algorithm: "SHA2_256".to_owned(),
            public_key: key.clone(),
            log_id: key.hint(),
            valid_from: Some(created),
            valid_until: None,
        }],
        certificate_authorities: Value::Array(Vec::new()),
        ctlogs: Value::Array(Vec::new()),
        timestamp_authorities: Value::Array(Vec::new()),
    };
    Ok(String::from_utf8_lossy(&root.to_json()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_log() {
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256()
            .unwrap()
            .public_key();
        let text = json(&key, "http://127.0.0.1:3000/", 1_700_000_000).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let tlog = &v["tlogs"][0];
        assert_eq!(tlog["baseUrl"], "http://127.0.0.1:3000");
        assert_eq!(tlog["hashAlgorithm"], "SHA2_256");
        assert_eq!(tlog["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(
            tlog["publicKey"]["validFor"]["start"],
            "2023-11-14T22:13:20Z"
        );
        let parsed = TrustedRoot::from_json(text.as_bytes()).unwrap();
        assert_eq!(parsed.tlogs[0].public_key, key);
        assert_eq!(parsed.tlogs[0].log_id, key.hint());
        assert!(json(&key, "ftp://x", 0).is_err());
    }
}
