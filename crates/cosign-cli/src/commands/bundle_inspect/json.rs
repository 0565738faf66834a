//! The JSON tokenizer of Go's protojson (`google.golang.org/protobuf/internal/encoding/json`),
//! so that a bundle is accepted, refused and reported exactly as Go cosign reads it: the same
//! tokens, the same positions (`line:column`) and the same error texts.

/// A token's kind (`comma` is internal: `read` skips it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Eof,
    Null,
    Bool,
    Number,
    String,
    Name,
    ObjectOpen,
    ObjectClose,
    ArrayOpen,
    ArrayClose,
    Comma,
}

impl Kind {
    fn is_scalar(self) -> bool {
        matches!(self, Kind::Null | Kind::Bool | Kind::Number | Kind::String)
    }
}

/// One token: where it starts, its text as written, and for strings and names the value.
#[derive(Clone, Debug)]
pub struct Token<'a> {
    pub kind: Kind,
    pub pos: usize,
    pub raw: &'a [u8],
    pub text: String,
}

impl Token<'_> {
    /// The token as written (Go's `RawString`).
    pub fn raw_string(&self) -> String {
        String::from_utf8_lossy(self.raw).into_owned()
    }

    /// Go's `Token.Int(bits)`: an integral number that fits.
    pub fn int(&self, bits: u32) -> Option<i64> {
        if self.kind != Kind::Number {
            return None;
        }
        let s = normalize_to_int_string(&parse_number_parts(self.raw)?)?;
        let n: i64 = s.parse().ok()?;
        let limit = 1i128 << (bits - 1);
        (-limit..limit).contains(&i128::from(n)).then_some(n)
    }
}

/// A decoding error, without the `proto: ` prefix.
pub type Error = String;

pub const UNEXPECTED_EOF: &str = "unexpected EOF";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Read,
    Peek,
}

/// Go's `json.Decoder`.
pub struct Decoder<'a> {
    orig: &'a [u8],
    /// Offset of the input not yet read.
    at: usize,
    open: Vec<Kind>,
    /// The kind of the last token read (None before the first, as Go's zero `Kind`).
    last: Option<Kind>,
    last_call: Call,
    peeked: Option<Result<Token<'a>, Error>>,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            orig: input,
            at: 0,
            open: Vec::new(),
            last: None,
            last_call: Call::Read,
            peeked: None,
        }
    }

    /// The next token without consuming it.
    pub fn peek(&mut self) -> Result<Token<'a>, Error> {
        if self.last_call == Call::Read || self.peeked.is_none() {
            let next = self.read_next();
            if next.is_err() {
                self.last = None;
            }
            self.peeked = Some(next);
        }
        self.last_call = Call::Peek;
        self.peeked
            .clone()
            .unwrap_or_else(|| Err(UNEXPECTED_EOF.to_owned()))
    }

    /// The next token.
    pub fn read(&mut self) -> Result<Token<'a>, Error> {
        let out = if self.last_call == Call::Peek {
            self.peeked
                .take()
                .unwrap_or_else(|| Err(UNEXPECTED_EOF.to_owned()))
        } else {
            self.read_next()
        };
        self.last_call = Call::Read;
        out
    }

    fn read_next(&mut self) -> Result<Token<'a>, Error> {
        loop {
            let mut tok = self.parse_next()?;
            let unexpected = |d: &Self, tok: &Token<'_>| {
                Err(d.syntax_error(tok.pos, &format!("unexpected token {}", tok.raw_string())))
            };
            match tok.kind {
                // Go's check `lastToken.kind&scalar|ObjectClose|ArrayClose == 0` is never true
                // (`|` binds before `==`): only an open object or array makes EOF early.
                Kind::Eof if !self.open.is_empty() => return Err(UNEXPECTED_EOF.to_owned()),
                Kind::Null | Kind::Bool | Kind::Number if !self.is_value_next() => {
                    return unexpected(self, &tok);
                }
                Kind::String if !self.is_value_next() => {
                    if !matches!(self.last, Some(Kind::ObjectOpen | Kind::Comma)) {
                        return unexpected(self, &tok);
                    }
                    let Some(&c) = self.orig.get(self.at) else {
                        return Err(UNEXPECTED_EOF.to_owned());
                    };
                    if c != b':' {
                        return Err(self.syntax_error(
                            self.at,
                            &format!(
                                "unexpected character {}, missing \":\" after field name",
                                char::from(c)
                            ),
                        ));
                    }
                    tok.kind = Kind::Name;
                    self.consume(1);
                }
                Kind::ObjectOpen | Kind::ArrayOpen => {
                    if !self.is_value_next() {
                        return unexpected(self, &tok);
                    }
                    self.open.push(tok.kind);
                }
                Kind::ObjectClose => {
                    if self.open.last() != Some(&Kind::ObjectOpen)
                        || matches!(self.last, Some(Kind::Name | Kind::Comma))
                    {
                        return unexpected(self, &tok);
                    }
                    self.open.pop();
                }
                Kind::ArrayClose => {
                    if self.open.last() != Some(&Kind::ArrayOpen) || self.last == Some(Kind::Comma)
                    {
                        return unexpected(self, &tok);
                    }
                    self.open.pop();
                }
                Kind::Comma => {
                    let after_value = self.last.is_some_and(|k| {
                        k.is_scalar() || matches!(k, Kind::ObjectClose | Kind::ArrayClose)
                    });
                    if self.open.is_empty() || !after_value {
                        return unexpected(self, &tok);
                    }
                }
                _ => {}
            }
            self.last = Some(tok.kind);
            if tok.kind != Kind::Comma {
                return Ok(tok);
            }
        }
    }

    fn is_value_next(&self) -> bool {
        match self.open.last() {
            None => self.last.is_none(),
            Some(Kind::ObjectOpen) => self.last == Some(Kind::Name),
            Some(_) => matches!(self.last, Some(Kind::ArrayOpen | Kind::Comma)),
        }
    }

    fn rest(&self) -> &'a [u8] {
        self.orig.get(self.at..).unwrap_or_default()
    }

    /// Skips `n` bytes, then whitespace.
    fn consume(&mut self, n: usize) {
        self.at += n;
        while matches!(self.orig.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn token(&mut self, kind: Kind, size: usize, text: String) -> Token<'a> {
        let pos = self.at;
        let raw = self.orig.get(pos..pos + size).unwrap_or_default();
        self.consume(size);
        Token {
            kind,
            pos,
            raw,
            text,
        }
    }

    fn parse_next(&mut self) -> Result<Token<'a>, Error> {
        self.consume(0);
        let input = self.rest();
        let Some(&first) = input.first() else {
            return Ok(self.token(Kind::Eof, 0, String::new()));
        };
        let keyword = |word: &str, kind: Kind, d: &mut Self| {
            let n = word.len();
            let delimited = input.get(n).is_none_or(|&c| !is_not_delim(c));
            (input.starts_with(word.as_bytes()) && delimited)
                .then(|| d.token(kind, n, String::new()))
        };
        let tok = match first {
            b'n' => keyword("null", Kind::Null, self),
            b't' => keyword("true", Kind::Bool, self),
            b'f' => keyword("false", Kind::Bool, self),
            b'-' | b'0'..=b'9' => {
                parse_number(input).map(|n| self.token(Kind::Number, n, String::new()))
            }
            b'"' => {
                let (text, n) = self.parse_string(input)?;
                Some(self.token(Kind::String, n, text))
            }
            b'{' => Some(self.token(Kind::ObjectOpen, 1, String::new())),
            b'}' => Some(self.token(Kind::ObjectClose, 1, String::new())),
            b'[' => Some(self.token(Kind::ArrayOpen, 1, String::new())),
            b']' => Some(self.token(Kind::ArrayClose, 1, String::new())),
            b',' => Some(self.token(Kind::Comma, 1, String::new())),
            _ => None,
        };
        match tok {
            Some(tok) => Ok(tok),
            None => Err(self.syntax_error(
                self.at,
                &format!("invalid value {}", invalid_value_text(input)),
            )),
        }
    }

    /// Go's `parseString`: the value and the bytes taken, quotes included. Errors point at the
    /// opening quote.
    fn parse_string(&self, input: &[u8]) -> Result<(String, usize), Error> {
        let fail = |msg: String| Err(self.syntax_error(self.at, &msg));
        let mut out: Vec<u8> = Vec::new();
        let mut i = 1;
        loop {
            let Some(&b) = input.get(i) else {
                return Err(UNEXPECTED_EOF.to_owned());
            };
            match b {
                b'"' => {
                    return Ok((String::from_utf8_lossy(&out).into_owned(), i + 1));
                }
                b'\\' => {
                    let Some(&e) = input.get(i + 1) else {
                        return Err(UNEXPECTED_EOF.to_owned());
                    };
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let Some(code) = input.get(i..i + 6) else {
                                return Err(UNEXPECTED_EOF.to_owned());
                            };
                            let Some(v) = hex4(&code[2..]) else {
                                return fail(format!(
                                    "invalid escape code {} in string",
                                    go_quote_bytes(code)
                                ));
                            };
                            i += 6;
                            let c = if (0xd800..0xe000).contains(&v) {
                                let Some(next) = input.get(i..i + 6) else {
                                    return Err(UNEXPECTED_EOF.to_owned());
                                };
                                let low = hex4(&next[2..]);
                                let pair =
                                    low.filter(|_| next.starts_with(b"\\u")).and_then(|lo| {
                                        ((0xd800..0xdc00).contains(&v)
                                            && (0xdc00..0xe000).contains(&lo))
                                        .then(|| 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00))
                                    });
                                let Some(c) = pair.and_then(char::from_u32) else {
                                    return fail(format!(
                                        "invalid escape code {} in string",
                                        go_quote_bytes(next)
                                    ));
                                };
                                i += 6;
                                c
                            } else {
                                char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => {
                            return fail(format!(
                                "invalid escape code {} in string",
                                go_quote_bytes(&input[i..i + 2])
                            ));
                        }
                    }
                    i += 2;
                }
                _ => {
                    let (c, n) = decode_rune(&input[i..]);
                    match c {
                        None => return fail("invalid UTF-8 in string".to_owned()),
                        Some(c) if (c as u32) < 0x20 => {
                            return fail(format!(
                                "invalid character {} in string",
                                go_quote_rune(c)
                            ));
                        }
                        Some(_) => {
                            out.extend_from_slice(&input[i..i + n]);
                            i += n;
                        }
                    }
                }
            }
        }
    }

    /// `syntax error (line L:C): msg`.
    pub fn syntax_error(&self, pos: usize, msg: &str) -> Error {
        let (line, column) = self.position(pos);
        format!("syntax error (line {line}:{column}): {msg}")
    }

    /// `(line L:C): msg`, protojson's error at a token.
    pub fn error_at(&self, pos: usize, msg: &str) -> Error {
        let (line, column) = self.position(pos);
        format!("(line {line}:{column}): {msg}")
    }

    /// Line and column (in characters) of a byte offset, both from 1.
    fn position(&self, pos: usize) -> (usize, usize) {
        let before = self.orig.get(..pos).unwrap_or(self.orig);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let mut column = 1;
        let mut rest = &before[start..];
        while !rest.is_empty() {
            let (_, n) = decode_rune(rest);
            rest = &rest[n.max(1)..];
            column += 1;
        }
        (line, column)
    }
}

fn hex4(text: &[u8]) -> Option<u32> {
    if text.len() != 4 || !text.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

/// One UTF-8 character: None (and 1) for an invalid byte, as Go's `utf8.DecodeRune`.
fn decode_rune(bytes: &[u8]) -> (Option<char>, usize) {
    for n in 1..=4.min(bytes.len()) {
        if let Ok(s) = std::str::from_utf8(&bytes[..n]) {
            return (s.chars().next(), n);
        }
    }
    (None, 1)
}

fn is_not_delim(c: u8) -> bool {
    matches!(c, b'-' | b'+' | b'.' | b'_') || c.is_ascii_alphanumeric()
}

/// `^([-+._a-zA-Z0-9]{1,32}|.)` of the input, as Go prints it after "invalid value".
fn invalid_value_text(input: &[u8]) -> String {
    let n = input
        .iter()
        .take(32)
        .take_while(|&&c| is_not_delim(c))
        .count();
    if n > 0 {
        return String::from_utf8_lossy(&input[..n]).into_owned();
    }
    let (_, len) = decode_rune(input);
    String::from_utf8_lossy(input.get(..len).unwrap_or_default()).into_owned()
}

/// Go's `parseNumber`: the length of the JSON number at the start, if any.
fn parse_number(input: &[u8]) -> Option<usize> {
    let mut n = 0;
    let mut s = input;
    if s.first() == Some(&b'-') {
        s = &s[1..];
        n += 1;
    }
    match s.first()? {
        b'0' => {
            s = &s[1..];
            n += 1;
        }
        b'1'..=b'9' => {
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            s = &s[digits..];
            n += digits;
        }
        _ => return None,
    }
    if s.len() >= 2 && s[0] == b'.' && s[1].is_ascii_digit() {
        let digits = 1 + s[2..].iter().take_while(|c| c.is_ascii_digit()).count();
        s = &s[1 + digits..];
        n += 1 + digits;
    }
    if s.len() >= 2 && (s[0] == b'e' || s[0] == b'E') {
        s = &s[1..];
        n += 1;
        if s[0] == b'+' || s[0] == b'-' {
            s = &s[1..];
            n += 1;
            if s.is_empty() {
                return None;
            }
        }
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        n += digits;
    }
    if input.get(n).is_some_and(|&c| is_not_delim(c)) {
        return None;
    }
    Some(n)
}

struct NumberParts<'a> {
    neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
    exp: &'a [u8],
}

fn parse_number_parts(input: &[u8]) -> Option<NumberParts<'_>> {
    let mut s = input;
    let neg = s.first() == Some(&b'-');
    if neg {
        s = &s[1..];
    }
    let int = match s.first()? {
        b'0' => {
            s = &s[1..];
            &[][..]
        }
        b'1'..=b'9' => {
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            let int = &s[..digits];
            s = &s[digits..];
            int
        }
        _ => return None,
    };
    let mut frac: &[u8] = &[];
    if s.len() >= 2 && s[0] == b'.' && s[1].is_ascii_digit() {
        let digits = 1 + s[2..].iter().take_while(|c| c.is_ascii_digit()).count();
        frac = &s[1..1 + digits];
        s = &s[1 + digits..];
    }
    let mut exp: &[u8] = &[];
    if s.len() >= 2 && (s[0] == b'e' || s[0] == b'E') {
        s = &s[1..];
        let sign = usize::from(s[0] == b'+' || s[0] == b'-');
        if sign == 1 && s.len() == 1 {
            return None;
        }
        let digits = s[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
        exp = &s[..sign + digits];
    }
    while let [rest @ .., b'0'] = frac {
        frac = rest;
    }
    Some(NumberParts {
        neg,
        int,
        frac,
        exp,
    })
}

fn normalize_to_int_string(n: &NumberParts<'_>) -> Option<String> {
    if n.int.is_empty() && n.frac.is_empty() {
        return Some("0".into());
    }
    let exp: i64 = if n.exp.is_empty() {
        0
    } else {
        let text = std::str::from_utf8(n.exp).ok()?;
        let text = text.strip_prefix('+').unwrap_or(text);
        let e: i64 = text.parse().ok()?;
        i32::try_from(e).ok()?;
        e
    };
    let (int_len, frac_len) = (n.int.len() as i64, n.frac.len() as i64);
    let mut num: Vec<u8>;
    if exp >= 0 {
        if frac_len > exp || int_len + exp > 20 {
            return None;
        }
        num = n.int.to_vec();
        num.extend_from_slice(n.frac);
        num.extend(std::iter::repeat_n(b'0', (exp - frac_len) as usize));
    } else {
        if frac_len > 0 {
            return None;
        }
        let index = int_len + exp;
        if index < 0 {
            return None;
        }
        let index = index as usize;
        if n.int[index..].iter().any(|&c| c != b'0') {
            return None;
        }
        num = n.int[..index].to_vec();
    }
    let text = String::from_utf8_lossy(&num).into_owned();
    Some(if n.neg { format!("-{text}") } else { text })
}

/// Go's `%q` of a rune.
fn go_quote_rune(c: char) -> String {
    match c {
        '\u{7}' => "'\\a'".into(),
        '\u{8}' => "'\\b'".into(),
        '\u{c}' => "'\\f'".into(),
        '\n' => "'\\n'".into(),
        '\r' => "'\\r'".into(),
        '\t' => "'\\t'".into(),
        '\u{b}' => "'\\v'".into(),
        c if (c as u32) < 0x20 || c == '\u{7f}' => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Go's `%q` of bytes (`strconv.Quote` of them as a string).
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut rest = bytes;
    while !rest.is_empty() {
        let (c, n) = decode_rune(rest);
        match c {
            None => out.push_str(&format!("\\x{:02x}", rest[0])),
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some(c) if (c as u32) < 0x20 || c == '\u{7f}' => {
                let q = go_quote_rune(c);
                out.push_str(&q[1..q.len() - 1]);
            }
            Some(c) => out.push(c),
        }
        rest = &rest[n..];
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Result<Vec<(Kind, String)>, Error> {
        let mut d = Decoder::new(text.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = d.read()?;
            if t.kind == Kind::Eof {
                return Ok(out);
            }
            out.push((t.kind, t.raw_string()));
        }
    }

    #[test]
    fn tokens_and_errors_as_go() {
        let t = tokens(r#"{"a": [1, -2.5e3, "x\u00e9"], "b": null}"#).unwrap();
        assert_eq!(t.len(), 10);
        assert_eq!(t[1], (Kind::Name, "\"a\"".into()));
        assert_eq!(
            tokens("nope").unwrap_err(),
            "syntax error (line 1:1): invalid value nope"
        );
        assert_eq!(
            tokens("{\n \"a\" 1}").unwrap_err(),
            "syntax error (line 2:6): unexpected character 1, missing \":\" after field name"
        );
        assert_eq!(
            tokens("[1,]").unwrap_err(),
            "syntax error (line 1:4): unexpected token ]"
        );
        assert_eq!(tokens("[1").unwrap_err(), UNEXPECTED_EOF);
        assert_eq!(
            tokens("\"\\x\"").unwrap_err(),
            "syntax error (line 1:1): invalid escape code \"\\\\x\" in string"
        );
        assert_eq!(
            tokens("\"a\tb\"").unwrap_err(),
            "syntax error (line 1:1): invalid character '\\t' in string"
        );
        // An empty input is one EOF token.
        assert!(tokens("").unwrap().is_empty());
    }

    #[test]
    fn integers_as_go() {
        let int = |text: &str| {
            let mut d = Decoder::new(text.as_bytes());
            d.read().ok().and_then(|t| t.int(64))
        };
        assert_eq!(int("1e3"), Some(1000));
        assert_eq!(int("2.50e1"), Some(25));
        assert_eq!(int("-0"), Some(0));
        assert_eq!(int("100e-2"), Some(1));
        assert_eq!(int("1.5"), None);
        assert_eq!(int("9223372036854775808"), None);
        assert_eq!(int("1e"), None);
    }
}
