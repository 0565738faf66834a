//! Base64 as the Go tools read and write it.
//!
//! Writers always emit standard base64 with padding (Go's `base64.StdEncoding`, protojson's
//! bytes). Readers follow the Go decoders they stand in for: `encoding/json`'s `[]byte` and
//! `StdEncoding.DecodeString` want padded standard base64 but skip `\r`/`\n` and tolerate
//! non-zero trailing bits; protojson also accepts the URL-safe alphabet and missing padding.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::TypesError;

const STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const STD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Go's line-break skipping, without copying when there is nothing to skip.
fn without_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\r', '\n']) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padded standard alphabet.
pub(crate) fn decode_std(text: &str, field: &'static str) -> Result<Vec<u8>, TypesError> {
    STD.decode(without_newlines(text).as_bytes())
        .map_err(|source| TypesError::Base64 { field, source })
}

/// protojson's bytes decoding: standard or URL-safe alphabet, padding optional.
pub(crate) fn decode_lenient(text: &str, field: &'static str) -> Result<Vec<u8>, TypesError> {
    let text = without_newlines(text);
    let engine = if text.contains(['-', '_']) {
        &URL_LENIENT
    } else {
        &STD_LENIENT
    };
    engine
        .decode(text.as_bytes())
        .map_err(|source| TypesError::Base64 { field, source })
}

/// Go's `base64.CorruptInputError`: `illegal base64 data at input byte N`, N counted in the
/// input as given (line breaks included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {0}")]
pub struct CorruptInputError(pub usize);

/// Go's `base64.StdEncoding.DecodeString`, errors included: padded standard alphabet, `\r` and
/// `\n` skipped anywhere, non-zero trailing bits tolerated, and the first bad byte reported
/// where Go reports it (a missing or short final quantum is reported at its start).
pub fn go_std_decode(text: &[u8]) -> Result<Vec<u8>, CorruptInputError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut si = 0;
    while si < text.len() {
        si = go_quantum(text, si, &mut out)?;
    }
    Ok(out)
}

fn go_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_line_break(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// One 4-character quantum from `si` (Go's `decodeQuantum`); returns where the next starts.
fn go_quantum(src: &[u8], mut si: usize, out: &mut Vec<u8>) -> Result<usize, CorruptInputError> {
    let mut buf = [0u8; 4];
    let mut len = 4;
    let mut j = 0;
    let mut trailing = None;
    while j < 4 {
        if si == src.len() {
            if j == 0 {
                return Ok(si);
            }
            // A partial quantum without its padding.
            return Err(CorruptInputError(si - j));
        }
        let c = src[si];
        si += 1;
        if let Some(v) = go_value(c) {
            buf[j] = v;
            j += 1;
            continue;
        }
        if is_line_break(c) {
            continue;
        }
        if c != b'=' || j < 2 {
            return Err(CorruptInputError(si - 1));
        }
        if j == 2 {
            // "==" is expected; the first '=' is consumed.
            while si < src.len() && is_line_break(src[si]) {
                si += 1;
            }
            if si == src.len() {
                return Err(CorruptInputError(src.len()));
            }
            if src[si] != b'=' {
                return Err(CorruptInputError(si - 1));
            }
            si += 1;
        }
        while si < src.len() && is_line_break(src[si]) {
            si += 1;
        }
        if si < src.len() {
            trailing = Some(CorruptInputError(si));
        }
        len = j;
        break;
    }
    let val = u32::from(buf[0]) << 18
        | u32::from(buf[1]) << 12
        | u32::from(buf[2]) << 6
        | u32::from(buf[3]);
    let bytes = val.to_be_bytes();
    out.extend_from_slice(&bytes[1..len]);
    match trailing {
        Some(e) => Err(e),
        None => Ok(si),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_std_decode_matches_go() {
        let ok = |t: &str| go_std_decode(t.as_bytes()).unwrap();
        let err = |t: &str| go_std_decode(t.as_bytes()).unwrap_err().0;
        assert_eq!(ok(""), b"");
        assert_eq!(ok("aGk="), b"hi");
        assert_eq!(ok("aGk=\n"), b"hi");
        assert_eq!(ok("aG\r\nk="), b"hi");
        assert_eq!(ok("aGVsbG8h"), b"hello!");
        assert_eq!(ok("aA=="), b"h");
        assert_eq!(ok("aGl="), b"hi"); // trailing bits tolerated
        // Positions as Go's decoder reports them (checked against Go 1.26).
        assert_eq!(err("hello\n"), 5);
        assert_eq!(err("aGk"), 0);
        assert_eq!(err("aGk=x"), 4);
        assert_eq!(err("-aGk"), 0);
        assert_eq!(err("a==="), 1);
        assert_eq!(err("aA="), 3);
        assert_eq!(err("aA=x"), 2);
        assert_eq!(err("aGk=aGk="), 4);
        assert_eq!(err("aA=\n"), 4);
        assert_eq!(ok("aA=\n="), b"h");
        assert_eq!(err("ab\ncd\n="), 6);
        assert_eq!(
            go_std_decode(b"x y").unwrap_err().to_string(),
            "illegal base64 data at input byte 1"
        );
    }

    #[test]
    fn std_requires_padding_and_skips_newlines() {
        assert_eq!(decode_std("aGk=", "f").unwrap(), b"hi");
        assert_eq!(decode_std("aG\nk=", "f").unwrap(), b"hi");
        assert!(decode_std("aGk", "f").is_err());
        assert!(decode_std("a-k=", "f").is_err());
        // Go tolerates non-zero trailing bits.
        assert_eq!(decode_std("aGl=", "f").unwrap(), b"hi");
    }

    #[test]
    fn lenient_accepts_url_safe_and_unpadded() {
        assert_eq!(decode_lenient("aGk", "f").unwrap(), b"hi");
        assert_eq!(decode_lenient("aGk=", "f").unwrap(), b"hi");
        assert_eq!(decode_lenient("-_8=", "f").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_lenient("-_8", "f").unwrap(), [0xfb, 0xff]);
        assert!(decode_lenient("+_8=", "f").is_err());
        assert!(decode_lenient("!!", "f").is_err());
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }
}
