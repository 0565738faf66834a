//! The crate's error type. No variant holds an identity token: server answers are redacted
//! ([`redact`]) before they are kept.

use std::fmt;

use crate::oidc::OidcError;

/// The service a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// A Fulcio certificate authority (`/api/v2/signingCert`).
    Fulcio,
    /// An RFC 3161 timestamp authority.
    TimestampAuthority,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As Go words them: "Fulcio returned 400: ..", "timestamp authority returned 500: ..".
        f.write_str(match self {
            Self::Fulcio => "Fulcio",
            Self::TimestampAuthority => "timestamp authority",
        })
    }
}

/// Which check of [`crate::fulcio::IssuedCertificate::check`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateCheck {
    /// The leaf certifies another public key than the one that asked for it.
    PublicKey,
    /// The leaf is not a Fulcio code-signing certificate (extended key usage, key usage, CA
    /// flag, identity, OIDC issuer extension).
    Usage,
    /// The leaf does not chain to a certificate authority of the trusted root at signing time,
    /// or the returned chain is not its chain.
    Chain,
    /// No signed certificate timestamp verifies against the trusted root's CT logs.
    Sct,
}

impl fmt::Display for CertificateCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PublicKey => "is not for the signing key",
            Self::Usage => "is not a Fulcio code-signing certificate",
            Self::Chain => "does not chain to a trusted certificate authority",
            Self::Sct => "has no valid signed certificate timestamp",
        })
    }
}

/// Why a keyless service could not be used, or refused what it answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeylessError {
    /// Getting or reading the identity token failed.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// A URL, file or option cannot be used.
    #[error("{what}: {detail}")]
    Config {
        /// The option or file.
        what: String,
        /// Why.
        detail: String,
    },
    /// The request got no answer (connection, TLS, timeout).
    #[error("{service}: {detail}")]
    Transport {
        /// Where the request went.
        service: Service,
        /// The error (with the URL, never a token).
        detail: String,
    },
    /// The service answered with an HTTP error status (after Go's one retry of 5xx and 429).
    #[error("{service} returned {status}: {message}")]
    Status {
        /// Who answered.
        service: Service,
        /// The HTTP status.
        status: u16,
        /// The service's message (the `message` of a JSON error body, else the body), redacted.
        message: String,
    },
    /// The answer is unusable (not the documented shape, too large).
    #[error("{service}: {detail}")]
    BadResponse {
        /// Who answered.
        service: Service,
        /// What is wrong with it.
        detail: String,
    },
    /// The identity token names no identity to sign for the proof of possession.
    #[error("getting the subject of the identity token for Fulcio: {0}")]
    Subject(#[source] OidcError),
    /// The proof of possession could not be signed.
    #[error("signing the proof of possession for Fulcio: {0}")]
    ProofOfPossession(#[source] cosign_crypto::CryptoError),
    /// The certificate Fulcio issued failed a check; nothing may be signed with it.
    #[error("the certificate from Fulcio {check}: {reason}")]
    Certificate {
        /// The check.
        check: CertificateCheck,
        /// Why it failed.
        reason: String,
    },
    /// A timestamp was refused: the authority's status, a malformed response, another
    /// message imprint or nonce, or (when checked) no trusted authority vouching for it.
    #[error("timestamp: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
}

/// The longest server text kept in an error.
const MAX_MESSAGE_CHARS: usize = 1000;

/// Server-supplied text made safe for an error: every occurrence of `secret` (and of each of
/// its dot-separated parts) and every JWT-looking run is replaced by `[redacted]`, control
/// characters become spaces, and the text is cut to [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    let mut text = text.to_owned();
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        text = text.replace(secret, "[redacted]");
        for part in secret.split('.').filter(|p| p.len() >= 8) {
            text = text.replace(part, "[redacted]");
        }
    }
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=');
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let len = rest[start..]
            .find(|c: char| !is_token_char(c))
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + len];
        if run.starts_with("eyJ") || (run.len() > 40 && run.matches('.').count() >= 2) {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    let out: String = out
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.chars().count() > MAX_MESSAGE_CHARS {
        out.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "..."
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_token_and_its_parts() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl";
        let text = format!(
            "bad token {token}; payload eyJzdWIiOiJhbGljZSJ9; sig c2lnbmF0dXJlc2lnbmF0dXJl"
        );
        let clean = redact(&text, Some(token));
        assert!(!clean.contains("c2lnbmF0dXJl"), "{clean}");
        assert!(!clean.contains("eyJ"), "{clean}");
        assert!(clean.starts_with("bad token [redacted]"), "{clean}");
        assert_eq!(redact(&"x".repeat(2000), None).chars().count(), 1003);
        assert_eq!(redact("a\nb", None), "a b");
    }
}
