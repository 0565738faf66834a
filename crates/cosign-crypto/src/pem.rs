//! PEM blocks the way Go's `encoding/pem` reads and writes them.
//!
//! Reading finds the first well-formed block (text before it is ignored, a broken block is
//! skipped like Go does), tolerates headers and any line length; writing produces Go's
//! `pem.Encode` output: 64-character base64 lines and a trailing newline.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Go's `base64.StdEncoding` for decoding: padding required, trailing bits tolerated.
const GO_STD_DECODE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// One decoded PEM block. The body is zeroized on drop since it may be a private key.
pub(crate) struct Block {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// How many broken blocks are skipped before giving up (each attempt may scan the rest of
/// the input, so this keeps hostile input linear).
const MAX_ATTEMPTS: usize = 64;

/// Decodes the first well-formed PEM block in `input`.
pub(crate) fn decode_first(input: &[u8]) -> Result<Block, CryptoError> {
    let mut first_error = None;
    let mut from = 0;
    let mut attempts = 0;
    while let Some(start) = find_begin(input, from) {
        attempts += 1;
        if attempts > MAX_ATTEMPTS {
            break;
        }
        match decode_at(&input[start + BEGIN.len()..]) {
            Ok(block) => return Ok(block),
            Err(reason) => {
                first_error.get_or_insert(reason);
            }
        }
        from = start + BEGIN.len();
    }
    Err(match first_error {
        Some(reason) => CryptoError::MalformedPem(reason),
        None => CryptoError::NoPem,
    })
}

/// Finds `-----BEGIN ` at the start of the input or of a line, at or after `from`.
fn find_begin(input: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    while pos < input.len() {
        let rest = &input[pos..];
        let idx = find(rest, BEGIN)?;
        let abs = pos + idx;
        if abs == 0 || input[abs - 1] == b'\n' {
            return Some(abs);
        }
        pos = abs + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits off one line (without its `\n`), trimming trailing spaces, tabs and `\r`.
fn line(input: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &input[input.len()..]),
    };
    (line.trim_ascii_end(), rest)
}

/// Decodes a block whose `-----BEGIN ` has already been consumed.
fn decode_at(after_begin: &[u8]) -> Result<Block, String> {
    let (type_line, mut rest) = line(after_begin);
    let label = type_line
        .strip_suffix(DASHES)
        .ok_or_else(|| "the BEGIN line does not end with -----".to_owned())?;
    let label = std::str::from_utf8(label)
        .map_err(|_| "the block type is not UTF-8".to_owned())?
        .to_owned();

    // Skip RFC 1421 headers ("Key: value" lines); base64 never contains ':'.
    let mut had_headers = false;
    loop {
        let (l, next) = line(rest);
        if l.contains(&b':') {
            had_headers = true;
            rest = next;
        } else {
            if had_headers && l.is_empty() {
                rest = next;
            }
            break;
        }
    }

    let mut end_marker = Vec::with_capacity(label.len() + 16);
    end_marker.extend_from_slice(b"-----END ");
    end_marker.extend_from_slice(label.as_bytes());
    end_marker.extend_from_slice(DASHES);
    let (body, after_end) = if rest.starts_with(&end_marker) {
        (&rest[..0], &rest[end_marker.len()..])
    } else {
        let mut needle = Vec::with_capacity(end_marker.len() + 1);
        needle.push(b'\n');
        needle.extend_from_slice(&end_marker);
        let idx = find(rest, &needle).ok_or_else(|| format!("no END line for {label}"))?;
        (&rest[..idx], &rest[idx + needle.len()..])
    };
    let (end_rest, _) = line(after_end);
    if !end_rest.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(format!("unexpected text after the END line of {label}"));
    }

    let compact: Zeroizing<Vec<u8>> = Zeroizing::new(
        body.iter()
            .copied()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .collect(),
    );
    let mut der = Zeroizing::new(Vec::with_capacity(compact.len() / 4 * 3 + 3));
    GO_STD_DECODE
        .decode_vec(&*compact, &mut der)
        .map_err(|e| format!("{label} body is not valid base64: {e}"))?;
    Ok(Block { label, der })
}

/// Encodes `der` as a PEM block exactly like Go's `pem.Encode` (no headers).
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(64));
        out.push_str(chunk);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_line_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        let text = encode("PUBLIC KEY", &data);
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(text.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert!(text.lines().all(|l| l.len() <= 64));
        let block = decode_first(text.as_bytes()).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(*block.der, data);
    }

    #[test]
    fn go_compatible_reading() {
        // Leading text, CRLF, headers, odd line lengths, trailing text.
        let text = b"some preamble\r\n-----BEGIN X-----\r\nProc-Type: 4,ENCRYPTED\r\n\r\nAAEC\r\nAw==\r\n-----END X-----\r\ntrailer";
        let block = decode_first(text).unwrap();
        assert_eq!(block.label, "X");
        assert_eq!(*block.der, vec![0, 1, 2, 3]);

        // An empty block is legal.
        let block = decode_first(b"-----BEGIN E-----\n-----END E-----\n").unwrap();
        assert!(block.der.is_empty());
    }

    #[test]
    fn skips_a_broken_block() {
        let text =
            b"-----BEGIN A-----\n!!!!\n-----END A-----\n-----BEGIN B-----\nAAE=\n-----END B-----\n";
        let block = decode_first(text).unwrap();
        assert_eq!(block.label, "B");
    }

    #[test]
    fn gives_up_after_many_broken_blocks() {
        let mut text = b"-----BEGIN A-----\n!\n-----END A-----\n".repeat(1_000);
        text.extend_from_slice(b"-----BEGIN B-----\nAAE=\n-----END B-----\n");
        assert!(matches!(
            decode_first(&text),
            Err(CryptoError::MalformedPem(_))
        ));
        let unterminated = b"-----BEGIN A-----\n".repeat(10_000);
        assert!(matches!(
            decode_first(&unterminated),
            Err(CryptoError::MalformedPem(_))
        ));
    }

    #[test]
    fn refuses_broken_input() {
        assert!(matches!(decode_first(b""), Err(CryptoError::NoPem)));
        assert!(matches!(decode_first(b"hello"), Err(CryptoError::NoPem)));
        // BEGIN not at the start of a line.
        assert!(matches!(
            decode_first(b"x-----BEGIN A-----\nAAE=\n-----END A-----\n"),
            Err(CryptoError::NoPem)
        ));
        for bad in [
            &b"-----BEGIN A-----\nAAE=\n"[..],
            b"-----BEGIN A-----\nAAE=\n-----END B-----\n",
            b"-----BEGIN A-----\nAAE\n-----END A-----\n",
            b"-----BEGIN A\nAAE=\n-----END A-----\n",
            b"-----BEGIN A-----\nAAE=\n-----END A-----junk\n",
        ] {
            assert!(
                matches!(decode_first(bad), Err(CryptoError::MalformedPem(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
