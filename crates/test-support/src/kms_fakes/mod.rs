//! Fakes of cloud key services and the Kubernetes API that no emulator exists for here:
//! [`FakeGcpKms`] (Cloud KMS REST v1 + the OAuth token endpoint), [`FakeAzureKeyVault`] (Key
//! Vault REST 7.x + the Entra ID token endpoint) and [`FakeKubeApi`] (core/v1 Secrets).
//!
//! Each is built from the services' public API documentation and checks every request the way
//! the documentation describes it: method and path, the `Authorization` header (a token the
//! fake itself issued after checking the credentials), content types, the JSON body's fields
//! and the length of digests. A request that breaks a rule gets the service's error format with
//! a message that starts `fake-...:` and is also kept in [`violations`](FakeGcpKms::violations),
//! so a test can assert that none happened. Keys are real (cosign-crypto), so signatures verify
//! with the exported public keys; `set_lying(true)` makes a fake sign a different digest.
//! All of them serve HTTPS on `127.0.0.1` with a leaf from their own [`crate::TestCa`].

mod azure;
mod gcp;
mod k8s;

pub use azure::{AzureKeySpec, FakeAzureKeyVault};
pub use gcp::FakeGcpKms;
pub use k8s::{FakeKubeApi, KubeAuth};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// CRC32C (Castagnoli), for Cloud KMS's integrity fields.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// PEM with 64-character lines.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads one DER TLV at the start of `data`: `(tag, content, rest)`.
pub(crate) fn der_read(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = data[0];
    let (len, hdr) = if data[1] < 0x80 {
        (data[1] as usize, 2)
    } else {
        let n = (data[1] & 0x7f) as usize;
        let len = data[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    (tag, &data[hdr..hdr + len], &data[hdr + len..])
}

/// `r||s`, each `n` bytes, of a DER ECDSA signature.
pub(crate) fn ecdsa_der_to_raw(der: &[u8], n: usize) -> Vec<u8> {
    let (_, seq, _) = der_read(der);
    let (_, r, rest) = der_read(seq);
    let (_, s, _) = der_read(rest);
    let mut out = Vec::with_capacity(2 * n);
    for v in [r, s] {
        let v = &v[v.iter().take_while(|b| **b == 0).count()..];
        out.extend(std::iter::repeat_n(0, n - v.len()));
        out.extend_from_slice(v);
    }
    out
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo.
pub(crate) fn spki_key_bits(spki: &[u8]) -> Vec<u8> {
    let (_, seq, _) = der_read(spki);
    let (_, _alg, rest) = der_read(seq);
    let (_, bits, _) = der_read(rest);
    bits[1..].to_vec()
}

/// `(n, e)` of an RSA SubjectPublicKeyInfo.
pub(crate) fn rsa_n_e(spki: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let key = spki_key_bits(spki);
    let (_, seq, _) = der_read(&key);
    let (_, n, rest) = der_read(seq);
    let (_, e, _) = der_read(rest);
    let strip = |v: &[u8]| v[v.iter().take_while(|b| **b == 0).count()..].to_vec();
    (strip(n), strip(e))
}

/// A canned answer for the next request whose path contains `path_part`.
pub(crate) struct Canned {
    path_part: String,
    status: u16,
    body: String,
}

impl Canned {
    pub(crate) fn new(path_part: &str, status: u16, body: &str) -> Self {
        Self {
            path_part: path_part.to_owned(),
            status,
            body: body.to_owned(),
        }
    }
}

/// The first canned answer for `path`, removed from the list.
pub(crate) fn take_canned(
    canned: &mut Vec<Canned>,
    path: &str,
) -> Option<crate::tls_server::Reply> {
    let i = canned.iter().position(|c| path.contains(&c.path_part))?;
    let c = canned.remove(i);
    Some(crate::tls_server::Reply {
        status: c.status,
        content_type: "application/json; charset=utf-8",
        body: c.body.into_bytes(),
    })
}

/// Records a rule broken by a client and returns its message.
pub(crate) fn violation(list: &std::sync::Mutex<Vec<String>>, fake: &str, what: String) -> String {
    let msg = format!("{fake}: {what}");
    list.lock().expect("violations").push(msg.clone());
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
