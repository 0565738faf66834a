//! Go's `net/url` (1.26) `Parse` and `URL.String`, which `crypto/x509` applies to URI SANs:
//! what fails to parse fails the certificate, and what parses is printed re-escaped (`}` in a
//! path becomes `%7D`, an empty fragment is dropped, the scheme lower-cased).

use super::json::go_quote_bytes;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

/// `shouldEscape` (the generated table of Go 1.26).
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    let allowed: &[u8] = match mode {
        Mode::Path => b"$&+,-./:;=@_~",
        Mode::Fragment => b"!$&()*+,-./:;=?@_~",
        Mode::Host => b"!\"$&'()*+,-.:;<=>[]_~",
        Mode::UserPassword => b"$&+,-.;=_~",
    };
    !allowed.contains(&c)
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// `unescape`; the error is Go's.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let valid =
                    i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
                if !valid {
                    let end = (i + 3).min(b.len());
                    return Err(format!("invalid URL escape {}", go_quote_bytes(&b[i..end])));
                }
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && &b[i..i + 3] != b"%25" {
                    return Err(format!(
                        "invalid URL escape {}",
                        go_quote_bytes(&b[i..i + 3])
                    ));
                }
                out.push(unhex(b[i + 1]) << 4 | unhex(b[i + 2]));
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote_bytes(&[c])
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

/// `validEncoded`.
fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

/// A parsed URL, as far as `String` needs it.
#[derive(Default)]
pub struct Url {
    scheme: String,
    opaque: String,
    /// User name and password, when there is user information.
    user: Option<(String, Option<String>)>,
    pub host: String,
    path: String,
    raw_path: String,
    omit_host: bool,
    force_query: bool,
    raw_query: String,
    fragment: String,
    raw_fragment: String,
}

/// `url.Parse`; the error is Go's `*url.Error` text (`parse "...": ...`).
pub fn parse(raw: &str) -> Result<Url, String> {
    let (reference, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    let mut url = parse_reference(reference)
        .map_err(|e| format!("parse {}: {e}", go_quote_bytes(reference.as_bytes())))?;
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        url.fragment = unescape(f, Mode::Fragment)
            .map_err(|e| format!("parse {}: {e}", go_quote_bytes(raw.as_bytes())))?;
        url.raw_fragment = if escape(&url.fragment, Mode::Fragment) == f {
            String::new()
        } else {
            f.to_owned()
        };
    }
    Ok(url)
}

fn parse_reference(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    // getScheme
    let mut rest = raw;
    for (i, c) in raw.bytes().enumerate() {
        match c {
            c if c.is_ascii_alphabetic() => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => {
                url.scheme = raw[..i].to_ascii_lowercase();
                rest = &raw[i + 1..];
                break;
            }
            _ => break,
        }
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        url.raw_query = q.to_owned();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_owned();
            return Ok(url);
        }
        if rest.split('/').next().is_some_and(|s| s.contains(':')) {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => authority_and_path.split_at(i),
            None => (authority_and_path, ""),
        };
        parse_authority(&mut url, authority)?;
        rest = path;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.path = unescape(rest, Mode::Path)?;
    url.raw_path = if escape(&url.path, Mode::Path) == rest {
        String::new()
    } else {
        rest.to_owned()
    };
    Ok(url)
}

fn parse_authority(url: &mut Url, authority: &str) -> Result<(), String> {
    let at = authority.rfind('@');
    let host = at.map_or(authority, |i| &authority[i + 1..]);
    url.host = parse_host(&url.scheme, host)?;
    let Some(at) = at else {
        return Ok(());
    };
    let userinfo = &authority[..at];
    let valid = userinfo.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    });
    if !valid {
        return Err("net/url: invalid userinfo".into());
    }
    url.user = Some(match userinfo.split_once(':') {
        None => (unescape(userinfo, Mode::UserPassword)?, None),
        Some((user, password)) => (
            unescape(user, Mode::UserPassword)?,
            Some(unescape(password, Mode::UserPassword)?),
        ),
    });
    Ok(())
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_host(scheme: &str, host: &str) -> Result<String, String> {
    match host.rfind('[') {
        Some(i) if i > 0 => return Err("invalid IP-literal".into()),
        Some(_) => {
            let close = host.rfind(']').ok_or("missing ']' in host")?;
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err(format!(
                    "invalid port {} after host",
                    go_quote_bytes(colon_port.as_bytes())
                ));
            }
            let colon_port = unescape(colon_port, Mode::Host)?;
            let hostname = &host[1..close];
            let (address, zone) = match hostname.find("%25") {
                Some(z) => (
                    unescape(&hostname[..z], Mode::Host)?,
                    hostname[z..].to_owned(),
                ),
                None => (unescape(hostname, Mode::Host)?, String::new()),
            };
            match address.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V6(_)) => {}
                Ok(std::net::IpAddr::V4(_)) => return Err("invalid IP-literal".into()),
                Err(_) => {
                    return Err(format!(
                        "invalid host: ParseAddr({}): unable to parse IP",
                        go_quote_bytes(address.as_bytes())
                    ));
                }
            }
            let zone = if zone.is_empty() {
                zone
            } else {
                unescape(&zone, Mode::Host).unwrap_or(zone)
            };
            return Ok(format!("[{address}{zone}]{colon_port}"));
        }
        None => {}
    }
    if let Some(first) = host.find(':') {
        // Only http and https keep the first colon (strict colons, Go's default).
        let i = if scheme == "http" || scheme == "https" {
            first
        } else {
            host.rfind(':').unwrap_or(first)
        };
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!(
                "invalid port {} after host",
                go_quote_bytes(colon_port.as_bytes())
            ));
        }
    }
    unescape(host, Mode::Host)
}

impl Url {
    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Mode::Path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> String {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Mode::Fragment)
            && unescape(&self.raw_fragment, Mode::Fragment).is_ok_and(|f| f == self.fragment)
        {
            return self.raw_fragment.clone();
        }
        escape(&self.fragment, Mode::Fragment)
    }

    /// `URL.String()`.
    pub fn string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            let has_user = self.user.is_some();
            // An empty host is left out when the URL had none (`OmitHost`).
            let omit = self.omit_host && self.host.is_empty() && !has_user;
            if (!self.scheme.is_empty() || !self.host.is_empty() || has_user) && !omit {
                if !self.host.is_empty() || !self.path.is_empty() || has_user {
                    out.push_str("//");
                }
                if let Some((user, password)) = &self.user {
                    out.push_str(&escape(user, Mode::UserPassword));
                    if let Some(p) = password {
                        out.push(':');
                        out.push_str(&escape(p, Mode::UserPassword));
                    }
                    out.push('@');
                }
                out.push_str(&escape(&self.host, Mode::Host));
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&self.escaped_fragment());
        }
        out
    }
}

/// `domainNameValid(s, false)` of `crypto/x509` (Go 1.26's relaxed checks).
pub fn domain_name_valid(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if s.ends_with('.') {
        return false;
    }
    s.split('.')
        .all(|label| !label.is_empty() && label.bytes().all(|b| (33..=126).contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(raw: &str) -> Result<String, String> {
        parse(raw).map(|u| u.string())
    }

    #[test]
    fn urls_as_go_prints_them() {
        for (raw, printed) in [
            (
                "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
                "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
            ),
            ("HTTPS://Example.com/x#", "https://Example.com/x"),
            ("https://h/a}b(c)", "https://h/a%7Db%28c%29"),
            ("https://h/a(b)!", "https://h/a(b)!"),
            ("https://h/a%2Fb", "https://h/a%2Fb"),
            ("https://h/p?q=1 2", "https://h/p?q=1 2"),
            ("https://h/p#a b", "https://h/p#a%20b"),
            ("urn:x:y", "urn:x:y"),
            ("spiffe://td/ns/x", "spiffe://td/ns/x"),
            ("https://u:p@h:8443/x", "https://u:p@h:8443/x"),
            ("https://", "https:"),
            ("/rel:ok", "/rel:ok"),
            ("https://[::1]:80/", "https://[::1]:80/"),
        ] {
            assert_eq!(round_trip(raw).as_deref(), Ok(printed), "{raw}");
        }
        for (raw, error) in [
            (":x", "parse \":x\": missing protocol scheme"),
            (
                "https://h/%zz",
                "parse \"https://h/%zz\": invalid URL escape \"%zz\"",
            ),
            (
                "https://a`b/",
                "parse \"https://a`b/\": invalid character \"`\" in host name",
            ),
            (
                "https://h:x/",
                "parse \"https://h:x/\": invalid port \":x\" after host",
            ),
            (
                "a b:c",
                "parse \"a b:c\": first path segment in URL cannot contain colon",
            ),
            (
                "https://h/#%z",
                "parse \"https://h/#%z\": invalid URL escape \"%z\"",
            ),
        ] {
            assert_eq!(round_trip(raw).err().as_deref(), Some(error), "{raw}");
        }
        assert!(!domain_name_valid("a..b"));
        assert!(!domain_name_valid("a."));
        assert!(domain_name_valid("github.com:443"));
    }
}
