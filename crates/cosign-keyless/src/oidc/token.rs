//! The identity token: the raw JWT (kept out of `Debug`, zeroized on drop) and the claims
//! read from it without verification (for messages and Fulcio's proof of possession).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::OidcError;

/// The claims cosign reads from an ID token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// `iss`.
    #[serde(default, rename = "iss")]
    pub issuer: String,
    /// `sub`.
    #[serde(default, rename = "sub")]
    pub subject: String,
    /// `email`, if any.
    #[serde(default)]
    pub email: Option<String>,
    /// `email_verified` (`true`, `"true"`, `True`...; Go's `stringAsBool`).
    #[serde(default, deserialize_with = "string_as_bool")]
    pub email_verified: bool,
    /// `aud`, a string or a list of strings.
    #[serde(default, rename = "aud", deserialize_with = "audience")]
    pub audience: Vec<String>,
    /// `exp` in Unix seconds.
    #[serde(default, rename = "exp")]
    pub expiry: Option<i64>,
    /// `iat` in Unix seconds.
    #[serde(default, rename = "iat")]
    pub issued_at: Option<i64>,
    /// `nonce`, if any.
    #[serde(default)]
    pub nonce: Option<String>,
}

fn string_as_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::String(s) if s == "true" || s == "True" => Ok(true),
        serde_json::Value::String(s) if s == "false" || s == "False" => Ok(false),
        serde_json::Value::Null => Ok(false),
        _ => Err(serde::de::Error::custom("invalid value for boolean")),
    }
}

fn audience<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(vec![s]),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(serde::de::Error::custom("aud holds a non-string")),
            })
            .collect(),
        serde_json::Value::Null => Ok(Vec::new()),
        _ => Err(serde::de::Error::custom(
            "aud is neither a string nor a list",
        )),
    }
}

impl Claims {
    /// The identity Fulcio will certify, as sigstore's `subjectFromClaims`: the email if there
    /// is one (it must be verified), else `sub`.
    pub fn identity(&self) -> Result<&str, OidcError> {
        match self.email.as_deref() {
            Some(email) if !email.is_empty() => {
                if self.email_verified {
                    Ok(email)
                } else {
                    Err(OidcError::Claims(
                        "email not verified by identity provider".into(),
                    ))
                }
            }
            _ if self.subject.is_empty() => {
                Err(OidcError::Claims("no subject found in claims".into()))
            }
            _ => Ok(&self.subject),
        }
    }
}

/// An OIDC identity token. `Debug` shows the claims, never the token.
#[derive(Clone)]
pub struct IdentityToken {
    raw: Zeroizing<String>,
    claims: Claims,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("token", &"[redacted]")
            .field("claims", &self.claims)
            .finish()
    }
}

/// The three parts of a compact JWS, if `s` has that shape (base64url header naming an `alg`).
pub(crate) fn split_jws(s: &str) -> Option<(serde_json::Value, &str, &str, &str)> {
    let mut parts = s.split('.');
    let (header_b64, payload_b64, signature_b64) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload_b64.is_empty() {
        return None;
    }
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    header.get("alg")?.as_str()?;
    Some((header, header_b64, payload_b64, signature_b64))
}

impl IdentityToken {
    /// Reads the claims of a compact JWS (no signature check; surrounding whitespace is
    /// trimmed). The error never holds the token.
    pub fn parse(raw: &str) -> Result<IdentityToken, OidcError> {
        let raw = raw.trim();
        let (_, _, payload_b64, _) = split_jws(raw).ok_or(OidcError::NotAJwt)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| OidcError::NotAJwt)?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|e| OidcError::Claims(format!("the claims are not valid: {e}")))?;
        Ok(IdentityToken {
            raw: Zeroizing::new(raw.to_owned()),
            claims,
        })
    }

    /// The raw JWT, to send to Fulcio. Never log it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Fails with [`OidcError::Expired`] when `exp` is at or before `now` (Unix seconds).
    pub fn check_not_expired(&self, now: i64) -> Result<(), OidcError> {
        match self.claims.expiry {
            Some(exp) if exp <= now => Err(OidcError::Expired {
                issuer: self.claims.issuer.clone(),
                identity: self
                    .claims
                    .identity()
                    .unwrap_or(&self.claims.subject)
                    .to_owned(),
                expired_at: exp,
            }),
            _ => Ok(()),
        }
    }
}

/// Replaces every JWT-looking run (`eyJ...` with two dots) in server-supplied text, and cuts
/// it to 200 characters, so that no token reaches an error message.
pub(crate) fn sanitize(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=');
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| is_token_char(c)) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..]
            .find(|c: char| !is_token_char(c))
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        if (run.len() > 40 && run.matches('.').count() >= 2) || run.starts_with("eyJ") {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "...";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_hides_tokens() {
        let text = "bad: eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln and abc.def.ghi";
        let clean = sanitize(text);
        assert!(!clean.contains("eyJ"), "{clean}");
        assert!(clean.contains("abc.def.ghi"), "{clean}");
        assert_eq!(sanitize(&"x".repeat(500)).len(), 203);
    }

    #[test]
    fn identity_prefers_a_verified_email() {
        let claims: Claims = serde_json::from_str(
            r#"{"sub":"s","email":"a@b","email_verified":"true","aud":["x","y"]}"#,
        )
        .unwrap_or_default();
        assert_eq!(claims.identity().ok(), Some("a@b"));
        assert_eq!(claims.audience, ["x", "y"]);
        let unverified: Claims =
            serde_json::from_str(r#"{"sub":"s","email":"a@b"}"#).unwrap_or_default();
        assert!(unverified.identity().is_err());
    }
}
