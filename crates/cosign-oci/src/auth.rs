//! Registry authentication: `WWW-Authenticate` challenges, credentials and token responses.
//!
//! The flow itself (when to send what) lives in the client; this module holds the parts that
//! need no network: parsing challenges (RFC 7235 auth-params), the credential kinds, and the
//! token endpoint's answer.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

/// A challenge from a `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm="..."`.
    Basic,
    /// `Bearer realm="...",service="...",scope="..."`: get a token from `realm`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses the `WWW-Authenticate` header values of a 401 answer. A Bearer challenge wins over
/// Basic when both are offered; unknown schemes are skipped.
pub(crate) fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for value in values {
        for (scheme, params) in parse_header(value) {
            if scheme.eq_ignore_ascii_case("bearer") {
                let get = |k: &str| {
                    params
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.clone())
                };
                if let Some(realm) = get("realm").filter(|r| !r.is_empty()) {
                    return Some(Challenge::Bearer {
                        realm,
                        service: get("service"),
                        scope: get("scope").filter(|s| !s.is_empty()),
                    });
                }
            } else if scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            }
        }
    }
    basic.then_some(Challenge::Basic)
}

/// Splits one header value into challenges: `scheme` followed by comma-separated
/// `key=value` / `key="quoted value"` parameters. A bare token not followed by `=` starts the
/// next challenge.
fn parse_header(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut p = Lexer {
        s: value.as_bytes(),
        i: 0,
    };
    loop {
        p.skip_ws_and_commas();
        if p.i >= p.s.len() {
            break;
        }
        let Some(token) = p.token() else {
            // A stray '=' or quoted string: skip it.
            if p.peek() == Some(b'"') {
                let _ = p.quoted();
            } else {
                p.i += 1;
            }
            continue;
        };
        p.skip_ws();
        if p.peek() == Some(b'=') {
            p.i += 1;
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            // A parameter before any scheme is dropped.
            if let Some((_, params)) = out.last_mut() {
                params.push((token, value));
            }
        } else {
            out.push((token, Vec::new()));
        }
    }
    out
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b'=' || c == b',' || c == b' ' || c == b'\t' || c == b'"' {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> String {
        // At the opening quote.
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'"' => break,
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A secret string: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Credential {
    /// Username and password: Basic auth, or Basic auth at the token endpoint.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (docker `identitytoken`, helper user `<token>`), exchanged at
    /// the token endpoint with a POST.
    IdentityToken(Secret),
    /// A bearer token sent as it is (`--registry-token`, docker `registrytoken`).
    RegistryToken(Secret),
}

impl Credential {
    /// `Basic base64(user:pass)`, for Basic credentials.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.0))
            )),
            _ => None,
        }
    }
}

/// The token endpoint's JSON answer (Docker token spec and OAuth2).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Tokens live at least this long when the server does not say (Docker token spec: 60 s).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

impl TokenResponse {
    /// The token (`token`, else `access_token`) and how long it may be used.
    pub(crate) fn into_token(self) -> Option<(Secret, Duration)> {
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))?;
        let lifetime = self
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .max(DEFAULT_TOKEN_LIFETIME);
        // Leave a margin so a token does not expire between check and use.
        Some((
            Secret(token),
            lifetime.saturating_sub(Duration::from_secs(10)),
        ))
    }
}

/// `repository:<path>:pull` or `repository:<path>:pull,push`.
pub(crate) fn repository_scope(path: &str, push: bool) -> String {
    if push {
        format!("repository:{path}:pull,push")
    } else {
        format!("repository:{path}:pull")
    }
}

/// The scopes to ask for: ours plus any the challenge names, deduplicated, in a stable order
/// (the order is part of the token cache key).
pub(crate) fn merge_scopes(ours: &[String], challenge: Option<&str>) -> Vec<String> {
    let mut all: Vec<String> = ours.to_vec();
    if let Some(c) = challenge {
        for s in c.split(' ').filter(|s| !s.is_empty()) {
            if !all.iter().any(|x| x == s) {
                all.push(s.to_owned());
            }
        }
    }
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let c = parse_challenges([
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        ]);
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
    }

    #[test]
    fn bearer_with_spaces_escapes_and_error() {
        let c = parse_challenges([
            r#"bearer  realm = "http://127.0.0.1:1/tok\"en" , service=reg, scope="repository:a:pull repository:b:pull", error="insufficient_scope""#,
        ]);
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/tok\"en".into(),
                service: Some("reg".into()),
                scope: Some("repository:a:pull repository:b:pull".into()),
            })
        );
    }

    #[test]
    fn basic_and_multiple() {
        assert_eq!(
            parse_challenges([r#"Basic realm="test-registry""#]),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenges([r#"Basic realm="x", Bearer realm="https://t/token",service="s""#]),
            Some(Challenge::Bearer {
                realm: "https://t/token".into(),
                service: Some("s".into()),
                scope: None,
            })
        );
        assert_eq!(
            parse_challenges([r#"Basic realm="x""#, r#"Bearer realm="https://t""#]),
            Some(Challenge::Bearer {
                realm: "https://t".into(),
                service: None,
                scope: None,
            })
        );
        assert_eq!(parse_challenges([r#"Negotiate abc=="#]), None);
        assert_eq!(parse_challenges(["Bearer"]), None);
        assert_eq!(parse_challenges([r#"Bearer realm="""#]), None);
        assert_eq!(parse_challenges([""]), None);
        assert_eq!(parse_challenges([r#"=,=,"""#]), None);
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::Basic {
            username: "u".into(),
            password: Secret("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.basic_header().unwrap(), "Basic dTpodW50ZXIy");
        let t = Credential::IdentityToken(Secret("refresh".into()));
        assert!(!format!("{t:?}").contains("refresh"));
        assert!(t.basic_header().is_none());
    }

    #[test]
    fn token_responses() {
        let t: TokenResponse = serde_json::from_str(r#"{"token":"a","expires_in":300}"#).unwrap();
        let (tok, life) = t.into_token().unwrap();
        assert_eq!(tok.0, "a");
        assert_eq!(life, Duration::from_secs(290));
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"b"}"#).unwrap();
        assert_eq!(t.into_token().unwrap().0.0, "b");
        let t: TokenResponse = serde_json::from_str(r#"{"token":"","access_token":"c"}"#).unwrap();
        assert_eq!(t.into_token().unwrap().0.0, "c");
        let t: TokenResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert!(t.into_token().is_none());
    }

    #[test]
    fn scopes() {
        assert_eq!(repository_scope("a/b", false), "repository:a/b:pull");
        assert_eq!(repository_scope("a/b", true), "repository:a/b:pull,push");
        let merged = merge_scopes(
            &["repository:a:pull,push".into()],
            Some("repository:b:pull repository:a:pull,push"),
        );
        assert_eq!(
            merged,
            vec![
                "repository:a:pull,push".to_owned(),
                "repository:b:pull".into()
            ]
        );
    }
}
