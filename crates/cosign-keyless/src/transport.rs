//! One POST to a keyless service, as sigstore-go's Fulcio and TSA clients send it: retried once,
//! after one second, when the answer is a 5xx or 429 (`Retries: 1`); the body read up to
//! [`MAX_RESPONSE_BYTES`].

use std::time::Duration;

use crate::error::{KeylessError, Service, redact};

/// The most any answer may hold (Go reads at most 1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// How many times a 5xx or 429 answer is retried (sigstore-go's `Retries: 1` in cosign).
const RETRIES: u32 = 1;

/// A status and a body.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The status error for this answer: the `message` of a JSON error body (grpc-gateway's
    /// `{"code":..,"message":..}`, the TSA's `{"code":..,"message":..}`), else the body.
    pub fn status_error(&self, service: Service, secret: Option<&str>) -> KeylessError {
        let text = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(v) => match v.get("message").and_then(|m| m.as_str()) {
                Some(m) => m.to_owned(),
                None => String::from_utf8_lossy(&self.body).into_owned(),
            },
            Err(_) => String::from_utf8_lossy(&self.body).into_owned(),
        };
        KeylessError::Status {
            service,
            status: self.status,
            message: redact(&text, secret),
        }
    }
}

/// The error and its causes, one line (reqwest's own message leaves the cause out).
fn describe(e: &reqwest::Error, secret: Option<&str>) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    redact(&text, secret)
}

/// Sends the request `build` makes (called again for the retry) and reads the answer.
/// `secret` (the identity token) is kept out of every error.
pub(crate) async fn send(
    service: Service,
    secret: Option<&str>,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, KeylessError> {
    let transport = |e: reqwest::Error| KeylessError::Transport {
        service,
        detail: describe(&e, secret),
    };
    let mut attempt = 0;
    loop {
        let mut response = build().send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retryable = (500..600).contains(&status) || status == 429;
        if retryable && attempt < RETRIES {
            drop(response);
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            attempt += 1;
            continue;
        }
        let too_large = || KeylessError::BadResponse {
            service,
            detail: format!("the answer is over {MAX_RESPONSE_BYTES} bytes"),
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Answer { status, body });
    }
}

/// Checks that `url` is an absolute http(s) URL; `what` names it in the error.
pub(crate) fn check_url(url: &str, what: &str) -> Result<url::Url, KeylessError> {
    let parsed = url::Url::parse(url).map_err(|e| KeylessError::Config {
        what: what.to_owned(),
        detail: format!("{url:?} is not a URL: {e}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(KeylessError::Config {
            what: what.to_owned(),
            detail: format!("{url:?} is not an http(s) URL"),
        });
    }
    Ok(parsed)
}
