//! `WWW-Authenticate` challenges (RFC 7235 auth-params): which scheme the registry wants,
//! and for Bearer where to get a token.

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
}
