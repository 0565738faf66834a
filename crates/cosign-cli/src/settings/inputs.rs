//! User inputs read whole: predicates, statements and attestation files (a path, or `-` for
//! standard input), capped at cosign's attachment size.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cosign_types::{Digest, HashAlgorithm};

use crate::ctx::Ctx;

/// Reads a predicate/statement/attestation file, or standard input for `-`, up to cosign's
/// attachment size cap.
pub fn read_input(arg: &str, what: &'static str) -> Result<Vec<u8>> {
    Ok(cosign::fsutil::read_input(
        Path::new(arg),
        what,
        cosign::blob::attest::MAX_INPUT_BYTES,
    )?)
}

/// Reads `--predicate`, printing cosign's `Using payload from: ...` line.
pub fn read_predicate(ctx: &Ctx<'_>, arg: &str) -> Result<Vec<u8>> {
    if arg == "-" {
        ctx.printer.info("Using payload from: standard input");
    } else {
        ctx.printer.info(&format!("Using payload from: {arg}"));
    }
    let data = read_input(arg, "predicate")?;
    if data.is_empty() {
        bail!("predicate cannot be empty: {arg} has no content");
    }
    Ok(data)
}

/// Parses a digest flag (`--hash`, `--digest`): hex of `alg`, any case, surrounding spaces
/// ignored.
pub fn parse_hex_digest(flag: &str, alg: HashAlgorithm, text: &str) -> Result<Digest> {
    Digest::from_hex(alg, &text.trim().to_ascii_lowercase())
        .with_context(|| format!("{flag} {text:?} is not a {alg} digest in hex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digests() {
        assert!(parse_hex_digest("--hash", HashAlgorithm::Sha256, "zz").is_err());
        assert_eq!(
            parse_hex_digest("--hash", HashAlgorithm::Sha256, &"AB".repeat(32))
                .unwrap()
                .hex(),
            "ab".repeat(32)
        );
    }
}
