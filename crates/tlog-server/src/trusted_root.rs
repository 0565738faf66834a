//! `trusted-root`: a Sigstore trusted_root.json naming this server's logs (the Rekor v1 log,
//! and the Rekor v2 log when its key is given), `signing-config`: a signing_config.json (v0.2)
//! naming both, and the log name clients derive from the base URL.

use std::net::SocketAddr;

use anyhow::{Result, bail};
use cosign_crypto::PublicKey;
use cosign_tlog::trusted_root::{TransparencyLogInstance, TrustedRoot};
use serde_json::{Value, json};

/// Media type of signing_config.json v0.2.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// The log name (v1 checkpoint `<name> - <tree ID>`, v2 checkpoint origin `<name>`): `--hostname`
/// if given, else the host of `--url` (what sigstore-go and cosign take from the trusted root's
/// `baseUrl`: no scheme, port or path), else the listen address's IP (`localhost` if it is
/// unspecified).
pub fn log_name(hostname: Option<&str>, url: Option<&str>, addr: SocketAddr) -> Result<String> {
    if let Some(name) = hostname {
        return Ok(name.to_owned());
    }
    if let Some(url) = url {
        check_url(url)?;
        return cosign_tlog::note::origin_from_base_url(url)
            .ok_or_else(|| anyhow::anyhow!("--url {url:?} has no host name usable as a log name"));
    }
    let ip = addr.ip();
    Ok(if ip.is_unspecified() {
        "localhost".to_owned()
    } else {
        ip.to_string()
    })
}

fn check_url(base_url: &str) -> Result<&str> {
    let url = base_url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() <= "https://".len()
    {
        bail!("--url must be an http:// or https:// URL, got {base_url:?}");
    }
    Ok(url)
}

/// [`json`] with the Rekor v2 log (`v2_key`) at the same base URL listed too; its log ID is
/// the C2SP key ID for the origin derived from the URL.
pub fn json_with_v2(
    key: &PublicKey,
    v2_key: &PublicKey,
    base_url: &str,
    created: i64,
) -> Result<String> {
    let url = check_url(base_url)?;
    let origin = cosign_tlog::note::origin_from_base_url(url)
        .ok_or_else(|| anyhow::anyhow!("--url {base_url:?} has no host name"))?;
    let mut root = root(key, url, created);
    root.tlogs.push(TransparencyLogInstance {
        base_url: url.to_owned(),
        hash_algorithm: "SHA2_256".to_owned(),
        public_key: v2_key.clone(),
        log_id: cosign_tlog::note::key_id(&origin, v2_key),
        valid_from: Some(created),
        valid_until: None,
    });
    Ok(String::from_utf8_lossy(&root.to_json()).into_owned())
}

/// A signing_config.json (v0.2) naming the Rekor v2 and v1 logs at `base_url` (v2 first, as
/// the public-good config orders them), valid from `created`; no CA, OIDC or TSA.
pub fn signing_config(base_url: &str, created: i64) -> Result<String> {
    let url = check_url(base_url)?;
    let start = rfc3339(created);
    let log = |version: u32| {
        json!({"url": url, "majorApiVersion": version, "validFor": {"start": start},
               "operator": "tlog-server"})
    };
    let config = json!({
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [],
        "oidcUrls": [],
        "rekorTlogUrls": [log(2), log(1)],
        "tsaUrls": [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&config)?))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn root(key: &PublicKey, url: &str, created: i64) -> TrustedRoot {
    TrustedRoot {
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
    }
}

#[cfg(test)]
/// The trusted root naming the log at `base_url` with `key`, valid from `created` (Unix
/// seconds) on.
pub fn json(key: &PublicKey, base_url: &str, created: i64) -> Result<String> {
    let url = check_url(base_url)?;
    Ok(String::from_utf8_lossy(&root(key, url, created).to_json()).into_owned())
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

    #[test]
    fn names_both_logs_and_the_signing_config() {
        let v1 = cosign_crypto::PrivateKey::generate_ecdsa_p256()
            .unwrap()
            .public_key();
        let v2 = cosign_crypto::PrivateKey::generate(cosign_crypto::KeyType::Ed25519)
            .unwrap()
            .public_key();
        let text = json_with_v2(&v1, &v2, "http://127.0.0.1:3000", 1_700_000_000).unwrap();
        let parsed = TrustedRoot::from_json(text.as_bytes()).unwrap();
        assert_eq!(parsed.tlogs.len(), 2);
        assert_eq!(
            parsed.tlogs[1].log_id,
            cosign_tlog::note::key_id("127.0.0.1", &v2)
        );
        let config: Value =
            serde_json::from_str(&signing_config("http://127.0.0.1:3000/", 1_700_000_000).unwrap())
                .unwrap();
        assert_eq!(config["mediaType"], SIGNING_CONFIG_MEDIA_TYPE);
        assert_eq!(config["rekorTlogUrls"][0]["majorApiVersion"], 2);
        assert_eq!(config["rekorTlogUrls"][1]["url"], "http://127.0.0.1:3000");
        assert_eq!(
            config["rekorTlogUrls"][0]["validFor"]["start"],
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn log_names() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(
            log_name(Some("x.y"), Some("http://a.b"), addr).unwrap(),
            "x.y"
        );
        assert_eq!(
            log_name(None, Some("https://rekor.example:8443/x"), addr).unwrap(),
            "rekor.example"
        );
        assert_eq!(log_name(None, None, addr).unwrap(), "127.0.0.1");
        assert_eq!(log_name(None, None, any).unwrap(), "localhost");
        assert!(log_name(None, Some("ftp://x"), addr).is_err());
    }
}
