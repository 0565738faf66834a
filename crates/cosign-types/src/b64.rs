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

#[cfg(test)]
mod tests {
    use super::*;

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
