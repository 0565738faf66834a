//! The retry policy: which failures are worth another attempt, and how long to wait.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tracing::debug;

use super::request::{AttemptError, error_detail};
use crate::OciError;

/// Longest wait between attempts, and the cap on `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const BASE_BACKOFF: Duration = Duration::from_millis(200);

/// The retry policy of one operation: counts attempts and sleeps between them.
pub(crate) struct Retry<'a> {
    pub(crate) attempt: u32,
    max: u32,
    action: &'static str,
    target: &'a str,
}

impl<'a> Retry<'a> {
    pub(super) fn new(max: u32, action: &'static str, target: &'a str) -> Self {
        Self {
            attempt: 1,
            max: max.max(1),
            action,
            target,
        }
    }

    /// After a failed attempt: waits and returns `Ok` to try again, or the final error.
    pub(crate) async fn failed(&mut self, e: AttemptError) -> Result<(), OciError> {
        let (action, target, attempt) = (self.action, self.target, self.attempt);
        let delay = match e {
            AttemptError::Fatal(e) => return Err(e),
            AttemptError::Transport(e) => {
                if attempt >= self.max || !is_retryable_error(&e) {
                    return Err(OciError::Transport {
                        action,
                        target: target.to_owned(),
                        attempts: attempt,
                        source: e,
                    });
                }
                debug!(action, target, attempt, error = %e, "retrying after a transport error");
                backoff(attempt, None)
            }
            AttemptError::Status(f) => {
                if attempt >= self.max {
                    return Err(OciError::Status {
                        action,
                        target: target.to_owned(),
                        status: f.status.as_u16(),
                        detail: error_detail(&f.body),
                        attempts: attempt,
                    });
                }
                debug!(
                    action,
                    target,
                    attempt,
                    status = f.status.as_u16(),
                    "retrying"
                );
                backoff(attempt, retry_after(&f.headers))
            }
        };
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        Ok(())
    }
}

pub(crate) fn is_retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 500 | 502 | 503 | 504)
}

fn is_retryable_error(e: &reqwest::Error) -> bool {
    !e.is_builder() && !e.is_redirect() && !is_tls_refusal(e)
}

/// Whether the peer speaks TLS and refused the handshake (certificate not trusted or not for
/// this name, alert received ...): not worth a retry or an http fallback. A peer that
/// answers with something that is not TLS at all (a plain-http registry) is not a refusal.
/// rustls errors arrive wrapped in (nested) `io::Error`s, whose `source()` skips the wrapped
/// error, so those are unwrapped with `get_ref`.
pub(super) fn is_tls_refusal(e: &reqwest::Error) -> bool {
    fn rustls_error<'a>(
        mut err: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a rustls::Error> {
        loop {
            if let Some(t) = err.downcast_ref::<rustls::Error>() {
                return Some(t);
            }
            err = err.downcast_ref::<std::io::Error>()?.get_ref()?;
        }
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = rustls_error(err)
            && !matches!(t, rustls::Error::InvalidMessage(_))
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Exponential backoff with jitter, or the server's `Retry-After` (capped).
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(MAX_RETRY_AFTER);
    }
    let exp = BASE_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    // Jitter: up to +50%, from the clock's low bits (no need for a random source here).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
    exp + jitter
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoffs() {
        assert_eq!(
            backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(backoff(1, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
        let b1 = backoff(1, None);
        assert!(b1 >= BASE_BACKOFF && b1 <= BASE_BACKOFF * 2);
        let b30 = backoff(30, None);
        assert!(b30 >= MAX_BACKOFF && b30 <= MAX_BACKOFF * 2);
    }
}
