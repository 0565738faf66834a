//! Turning errors into cosign's stderr format and exit codes, in one place.
//!
//! Go cosign prints `Error: <msg>` and then a `log` line
//! `<date> <time> error during command execution: <msg>`, and exits 1, or with a typed code for
//! verification failures (10 no signatures, 11 tag not found, 12 no matching signature,
//! 13 no certificate).

use std::time::{SystemTime, UNIX_EPOCH};

/// The message of an error with its causes, `a: b: c`, without repeating a cause that the
/// message above it already includes.
pub fn message(err: &anyhow::Error) -> String {
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
        _ => 1,
    }
}

/// `YYYY/MM/DD HH:MM:SS` in UTC, as Go's `log` package prints it.
fn log_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}/{month:02}/{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
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
