//! Reading the files and URLs named on the command line, with size caps, and hashing artifacts
//! in constant memory.

use std::io::Read as _;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cosign_crypto::Hasher;
use cosign_types::{Digest, HashAlgorithm};

/// Largest key, signature or entry file read.
pub const MAX_SMALL_FILE: usize = 16 << 20;

/// Whether the argument is an http(s) URL (else it is a path).
pub fn is_url(arg: &str) -> bool {
    let lower = arg.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn http(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("building the HTTP client")
}

/// Feeds the content of a file or URL to `sink`, failing past `limit` bytes.
async fn feed(
    arg: &str,
    what: &str,
    timeout: Duration,
    limit: Option<usize>,
    mut sink: impl FnMut(&[u8]),
) -> Result<()> {
    let mut seen = 0usize;
    let mut check = |n: usize| -> Result<()> {
        seen += n;
        if let Some(limit) = limit {
            if seen > limit {
                bail!("{what} {arg} is larger than {limit} bytes");
            }
        }
        Ok(())
    };
    if is_url(arg) {
        let mut resp = http(timeout)?
            .get(arg)
            .send()
            .await
            .with_context(|| format!("error fetching '{arg}'"))?;
        if !resp.status().is_success() {
            bail!("error fetching '{arg}': HTTP {}", resp.status());
        }
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("error fetching '{arg}'"))?
        {
            check(chunk.len())?;
            sink(&chunk);
        }
        return Ok(());
    }
    let mut file =
        std::fs::File::open(arg).with_context(|| format!("error opening file '{arg}'"))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("error processing '{arg}'"))?;
        if n == 0 {
            return Ok(());
        }
        check(n)?;
        sink(&buf[..n]);
    }
}

/// The whole content of a (small) file or URL.
pub async fn read_small(arg: &str, what: &str, timeout: Duration) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    feed(arg, what, timeout, Some(MAX_SMALL_FILE), |c| {
        out.extend_from_slice(c)
    })
    .await?;
    Ok(out)
}

/// SHA-256 of a file or URL, streamed.
pub async fn sha256_of(arg: &str, timeout: Duration) -> Result<Digest> {
    let mut hasher = Hasher::new(HashAlgorithm::Sha256);
    feed(arg, "artifact", timeout, None, |c| hasher.update(c)).await?;
    Ok(hasher.finish())
}

/// A hash given on the command line: `[sha256:]<64 hex>`, `[sha384:]<96 hex>`,
/// `[sha512:]<128 hex>` (Go's `util.PrefixSHA` rules; SHA-1 is not supported here).
pub fn parse_sha(text: &str) -> Result<Digest> {
    let lower = text.to_ascii_lowercase();
    let prefixed = if lower.contains(':') {
        lower
    } else {
        match lower.len() {
            40 => bail!("SHA-1 hashes are not supported by this rekor-cli: {text}"),
            64 => format!("sha256:{lower}"),
            96 => format!("sha384:{lower}"),
            128 => format!("sha512:{lower}"),
            n => bail!("error parsing sha flag: invalid length {n} for hash {text}"),
        }
    };
    prefixed
        .parse::<Digest>()
        .map_err(|e| anyhow::anyhow!("error parsing sha flag: {e}"))
}

/// A detached signature file: raw bytes, or (as cosign writes them) standard base64 text.
pub fn signature_bytes(content: Vec<u8>) -> Vec<u8> {
    use base64::Engine as _;
    let text = content.trim_ascii();
    let looks_b64 = !text.is_empty()
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if looks_b64 {
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text) {
            return decoded;
        }
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas() {
        let h = "ab".repeat(32);
        assert_eq!(parse_sha(&h).unwrap().to_string(), format!("sha256:{h}"));
        assert_eq!(
            parse_sha(&format!("SHA256:{}", h.to_uppercase()))
                .unwrap()
                .to_string(),
            format!("sha256:{h}")
        );
        assert_eq!(
            parse_sha(&"cd".repeat(64)).unwrap().algorithm(),
            HashAlgorithm::Sha512
        );
        assert!(parse_sha(&"ab".repeat(20)).is_err());
        assert!(parse_sha("abc").is_err());
        assert!(parse_sha(&format!("md5:{h}")).is_err());
    }

    #[test]
    fn signatures() {
        let der = vec![0x30, 0x44, 0x02, 0x20, 0xff];
        assert_eq!(signature_bytes(der.clone()), der);
        assert_eq!(
            signature_bytes(b"MEQCIA==\n".to_vec()),
            vec![0x30, 0x44, 0x02, 0x20]
        );
    }
}
