//! Small encodings the providers' wire formats need: DER for keys and signatures that arrive in
//! other shapes (JWK, raw ECDSA `r||s`), CRC32C (Google Cloud KMS integrity fields), UTC dates.

use std::time::{SystemTime, UNIX_EPOCH};

/// DER length octets.
fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    der_len(content.len(), out);
    out.extend_from_slice(content);
}

/// One DER TLV, on its own.
pub(crate) fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    der_tlv(tag, content, &mut out);
    out
}

/// A DER INTEGER for an unsigned big-endian magnitude.
fn der_uint(magnitude: &[u8], out: &mut Vec<u8>) {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let mut m = magnitude[skip..].to_vec();
    if m.is_empty() {
        m.push(0);
    }
    if m[0] & 0x80 != 0 {
        m.insert(0, 0);
    }
    der_tlv(0x02, &m, out);
}

/// The named curves a JWK / KMS may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// Field element length in bytes.
    pub(crate) fn coord_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    fn oid(self) -> &'static [u8] {
        match self {
            // 1.2.840.10045.3.1.7
            Self::P256 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            // 1.3.132.0.34
            Self::P384 => &[0x2b, 0x81, 0x04, 0x00, 0x22],
            // 1.3.132.0.35
            Self::P521 => &[0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }
}

/// SubjectPublicKeyInfo DER of an uncompressed EC point given as JWK `x` and `y`.
pub(crate) fn ec_spki(curve: Curve, x: &[u8], y: &[u8]) -> Option<Vec<u8>> {
    let n = curve.coord_len();
    if x.len() > n || y.len() > n {
        return None;
    }
    let mut point = vec![0x04];
    point.extend(std::iter::repeat_n(0, n - x.len()));
    point.extend_from_slice(x);
    point.extend(std::iter::repeat_n(0, n - y.len()));
    point.extend_from_slice(y);
    let mut alg = Vec::new();
    // id-ecPublicKey 1.2.840.10045.2.1
    der_tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], &mut alg);
    der_tlv(0x06, curve.oid(), &mut alg);
    let mut bits = vec![0];
    bits.extend_from_slice(&point);
    let mut body = Vec::new();
    der_tlv(0x30, &alg, &mut body);
    der_tlv(0x03, &bits, &mut body);
    let mut out = Vec::new();
    der_tlv(0x30, &body, &mut out);
    Some(out)
}

/// PKCS#1 RSAPublicKey DER from a modulus and exponent (big-endian magnitudes).
pub(crate) fn rsa_pkcs1(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    der_uint(n, &mut body);
    der_uint(e, &mut body);
    let mut out = Vec::new();
    der_tlv(0x30, &body, &mut out);
    out
}

/// ASN.1 DER ECDSA signature from the fixed-width `r||s` form (JWS, Azure Key Vault).
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || raw.len() % 2 != 0 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::new();
    der_uint(r, &mut body);
    der_uint(s, &mut body);
    let mut out = Vec::new();
    der_tlv(0x30, &body, &mut out);
    Some(out)
}

/// CRC32C (Castagnoli), as Google Cloud KMS uses for its integrity fields.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    const POLY: u32 = 0x82f6_3b78;
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `(year, month, day, hour, minute, second)` in UTC of a Unix time.
pub(crate) fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        // 2015-08-30T12:36:00Z, the AWS SigV4 examples' date.
        assert_eq!(civil(1_440_938_160), (2015, 8, 30, 12, 36, 0));
        // A leap day.
        assert_eq!(civil(1_709_210_096), (2024, 2, 29, 12, 34, 56));
    }

    #[test]
    fn der_lengths_and_integers() {
        let long = der(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let mut out = Vec::new();
        der_uint(&[0, 0, 0], &mut out);
        der_uint(&[], &mut out);
        der_uint(&[0x80], &mut out);
        assert_eq!(
            out,
            [0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x80]
        );
    }

    #[test]
    fn raw_ecdsa_to_der() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero
        raw[63] = 1; // s = 1
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x26, 0x02, 0x21]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_none());
    }

    #[test]
    fn ec_spki_parses() {
        // A real P-256 point: the generator.
        let x = hex::decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
            .unwrap();
        let y = hex::decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
            .unwrap();
        let der = ec_spki(Curve::P256, &x, &y).unwrap();
        let key = cosign_crypto::PublicKey::from_spki_der(&der).unwrap();
        assert_eq!(key.key_type(), cosign_crypto::KeyType::EcdsaP256);
    }
}
