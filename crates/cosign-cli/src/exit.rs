//! Turning errors into cosign's stderr format and exit codes, in one place.
//!
//! Go cosign prints `Error: <msg>` and then a `log` line
//! `<date> <time> error during command execution: <msg>`, and exits 1, or with a typed code for
//! verification failures (10 no signatures, 11 tag not found, 12 no matching signature,
//! 13 no certificate).

use std::time::{SystemTime, UNIX_EPOCH};

/// What to add after a library error about an input: the flag it is about (the library names
/// no flags), in cosign's words where cosign has some.
fn flag_hint(err: &anyhow::Error) -> Option<&'static str> {
    let lib = err.chain().find_map(|c| {
        c.downcast_ref::<cosign::Error>()
            .or_else(|| c.downcast_ref::<VerifyFailure>().map(|f| &f.0))
    })?;
    match lib {
        cosign::Error::Missing(
            "a signature or a bundle" | "a DSSE envelope (signature or bundle)",
        ) => Some(" (--signature or --bundle)"),
        cosign::Error::Missing("a signature") => Some(" (--signature)"),
        cosign::Error::Missing("at least one file") => Some(" (-f)"),
        cosign::Error::Mismatch { .. } => Some(" (--signature and --bundle)"),
        cosign::Error::Exists { .. } => Some(". Use `-f` to overwrite"),
        _ => None,
    }
}

/// The message of an error with its causes, `a: b: c`, without repeating a cause that the
/// message above it already includes, and the flags a library error is about.
pub fn message(err: &anyhow::Error) -> String {
    let mut text = chain_message(err);
    if let Some(hint) = flag_hint(err) {
        text.push_str(hint);
    }
    text
}

fn chain_message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

/// A failure of `cosign verify` for one image; only these get cosign's typed exit codes.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct VerifyFailure(pub cosign::Error);

/// The exit code for an error.
pub fn code(err: &anyhow::Error) -> i32 {
    match err.downcast_ref::<VerifyFailure>() {
        Some(VerifyFailure(cosign::Error::NoSignatures)) => 10,
        Some(VerifyFailure(cosign::Error::ImageNotFound(_))) => 11,
        Some(VerifyFailure(cosign::Error::NoMatchingSignatures(_))) => 12,
        Some(VerifyFailure(cosign::Error::NoAttestations)) => 10,
        Some(VerifyFailure(cosign::Error::NoMatchingAttestations(_))) => 12,
        _ => 1,
    }
}

/// Now as Go's `log` package prints it (UTC).
fn log_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    cosign_types::time::go_log_timestamp(secs)
}

/// The two stderr lines cosign prints for a failed command.
pub fn report(msg: &str) -> String {
    format!(
        "Error: {msg}\n{} error during command execution: {msg}\n",
        log_timestamp()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_without_repeats() {
        let inner = anyhow::anyhow!("decryption failed");
        let err = inner.context("loading key: decryption failed");
        assert_eq!(message(&err), "loading key: decryption failed");
        let err = anyhow::anyhow!("b").context("a");
        assert_eq!(message(&err), "a: b");
    }

    #[test]
    fn timestamp_shape() {
        let ts = log_timestamp();
        assert_eq!(ts.len(), 19);
        assert_eq!(&ts[4..5], "/");
        assert_eq!(&ts[13..14], ":");
    }
}
