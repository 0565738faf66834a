//! A DER reader with the rules of Go's `golang.org/x/crypto/cryptobyte` (what `crypto/x509`
//! parses certificates with): low tag numbers only, minimal definite lengths, minimal INTEGERs,
//! OID arcs below 2^31, BIT STRINGs with zero padding bits; and Go's `UTCTime` and
//! `GeneralizedTime` rules, with the zone offset kept for printing.

pub const BOOLEAN: u8 = 0x01;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OBJECT_IDENTIFIER: u8 = 0x06;
pub const UTF8_STRING: u8 = 0x0c;
pub const NUMERIC_STRING: u8 = 0x12;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const T61_STRING: u8 = 0x14;
pub const IA5_STRING: u8 = 0x16;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const BMP_STRING: u8 = 0x1e;
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;

/// Input not yet read.
#[derive(Clone, Copy, Debug)]
pub struct Der<'a>(pub &'a [u8]);

impl<'a> Der<'a> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element: its tag, contents and whole encoding (cryptobyte's `ReadAnyASN1`).
    pub fn read_any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let s = self.0;
        let (&tag, rest) = s.split_first()?;
        let &len_byte = rest.first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (header, len) = if len_byte & 0x80 == 0 {
            (2usize, usize::from(len_byte))
        } else {
            let len_len = usize::from(len_byte & 0x7f);
            if len_len == 0 || len_len > 4 || s.len() < 2 + len_len {
                return None;
            }
            let len = s
                .get(2..2 + len_len)?
                .iter()
                .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
            // Minimal length encoding (X.690 10.1).
            if len < 128 || len >> ((len_len - 1) * 8) == 0 {
                return None;
            }
            (2 + len_len, usize::try_from(len).ok()?)
        };
        let total = header.checked_add(len)?;
        let whole = s.get(..total)?;
        self.0 = s.get(total..)?;
        Some((tag, whole.get(header..)?, whole))
    }

    /// The contents of the next element, which must have `tag` (`ReadASN1`).
    pub fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read_any()? {
            (t, contents, _) if t == tag => Some(contents),
            _ => None,
        }
    }

    /// The whole encoding of the next element, which must have `tag` (`ReadASN1Element`).
    pub fn read_element(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read_any()? {
            (t, _, whole) if t == tag => Some(whole),
            _ => None,
        }
    }

    pub fn peek_tag(&self, tag: u8) -> bool {
        self.0.first() == Some(&tag)
    }

    /// `ReadOptionalASN1`: `Some(None)` when the next element does not have `tag`, `None` when
    /// it has and is malformed.
    pub fn read_optional(&mut self, tag: u8) -> Option<Option<&'a [u8]>> {
        if self.peek_tag(tag) {
            self.read(tag).map(Some)
        } else {
            Some(None)
        }
    }

    /// An INTEGER's contents, checked as cryptobyte does (minimal two's complement).
    pub fn read_integer(&mut self) -> Option<&'a [u8]> {
        let bytes = self.read(INTEGER)?;
        valid_integer(bytes).then_some(bytes)
    }

    /// An INTEGER that fits an `i64`.
    pub fn read_i64(&mut self) -> Option<i64> {
        integer_i64(self.read_integer()?)
    }

    pub fn read_boolean(&mut self) -> Option<bool> {
        match self.read(BOOLEAN)? {
            [0x00] => Some(false),
            [0xff] => Some(true),
            _ => None,
        }
    }

    pub fn read_oid(&mut self) -> Option<Oid> {
        Oid::from_contents(self.read(OBJECT_IDENTIFIER)?)
    }

    pub fn read_bit_string(&mut self) -> Option<BitString<'a>> {
        BitString::from_contents(self.read(BIT_STRING)?)
    }
}

fn valid_integer(bytes: &[u8]) -> bool {
    match bytes {
        [] => false,
        [_] => true,
        [0x00, b, ..] => b & 0x80 != 0,
        [0xff, b, ..] => b & 0x80 == 0,
        _ => true,
    }
}

fn integer_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.len() > 8 {
        return None;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut out: i64 = if negative { -1 } else { 0 };
    for &b in bytes {
        out = (out << 8) | i64::from(b);
    }
    Some(out)
}

/// A BIT STRING: its bytes and how many trailing bits of the last byte are padding.
#[derive(Clone, Copy, Debug)]
pub struct BitString<'a> {
    pub bytes: &'a [u8],
    pub padding: u8,
}

impl<'a> BitString<'a> {
    fn from_contents(contents: &'a [u8]) -> Option<Self> {
        let (&padding, bytes) = contents.split_first()?;
        if padding > 7 || (bytes.is_empty() && padding > 0) {
            return None;
        }
        if let Some(&last) = bytes.last() {
            if last & ((1u8 << padding) - 1) != 0 {
                return None;
            }
        }
        Some(Self { bytes, padding })
    }

    /// Bit `i` (0 is the most significant bit of the first byte), 0 past the end.
    pub fn at(&self, i: usize) -> bool {
        let bit_len = self.bytes.len() * 8 - usize::from(self.padding);
        if i >= bit_len {
            return false;
        }
        self.bytes
            .get(i / 8)
            .is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1)
    }

    /// Go's `BitString.RightAlign`: the bits shifted so that the padding is at the front.
    pub fn right_align(&self) -> Vec<u8> {
        let shift = u32::from(self.padding);
        if shift == 0 || self.bytes.is_empty() {
            return self.bytes.to_vec();
        }
        let mut out = Vec::with_capacity(self.bytes.len());
        let mut prev = 0u8;
        for (i, &b) in self.bytes.iter().enumerate() {
            let high = if i == 0 {
                0
            } else {
                prev.wrapping_shl(8 - shift)
            };
            out.push(high | (b >> shift));
            prev = b;
        }
        out
    }
}

/// An object identifier, as Go's `asn1.ObjectIdentifier` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    /// Parses OID contents as cryptobyte's `ReadASN1ObjectIdentifier` does.
    pub fn from_contents(mut bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return None;
        }
        let mut arcs = Vec::new();
        let first = base128(&mut bytes)?;
        if first < 80 {
            arcs.push(first / 40);
            arcs.push(first % 40);
        } else {
            arcs.push(2);
            arcs.push(first - 80);
        }
        while !bytes.is_empty() {
            arcs.push(base128(&mut bytes)?);
        }
        Some(Self(arcs))
    }

    pub fn is(&self, arcs: &[u32]) -> bool {
        self.0 == arcs
    }
}

impl std::fmt::Display for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, arc) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

/// One base-128 arc: at most 5 bytes, minimal, below 2^31 (cryptobyte's `readBase128Int`).
fn base128(bytes: &mut &[u8]) -> Option<u32> {
    let mut out: u32 = 0;
    for i in 0..5 {
        let (&b, rest) = bytes.split_first()?;
        if out >= 1 << (31 - 7) {
            return None;
        }
        if i == 0 && b == 0x80 {
            return None;
        }
        out = (out << 7) | u32::from(b & 0x7f);
        *bytes = rest;
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// A time as Go holds it after parsing: the instant and the zone offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    /// Unix seconds (fractions dropped, as RFC 3339 printing drops them).
    pub unix: i64,
    /// Offset east of UTC in seconds.
    pub offset: i64,
}

impl GoTime {
    pub fn utc(unix: i64) -> Self {
        Self { unix, offset: 0 }
    }

    /// Go's `Format(time.RFC3339)`.
    pub fn rfc3339(&self) -> String {
        let local = self.unix + self.offset;
        let (y, m, d) = cosign_types::time::civil_from_days(local.div_euclid(86_400));
        let rem = local.rem_euclid(86_400);
        let zone = if self.offset == 0 {
            "Z".to_owned()
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let abs = self.offset.abs();
            format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
        };
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s.iter()
            .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0')),
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The zone part of Go's `Z0700` layout, which a time must print back to as read: `Z`, or
/// `±hhmm` other than `+0000`.
fn zone(s: &[u8]) -> Option<i64> {
    match s {
        [b'Z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 4 => {
            let h = digits(rest.get(..2)?)?;
            let m = digits(rest.get(2..)?)?;
            if h > 23 || m > 59 || (h == 0 && m == 0) {
                return None;
            }
            let secs = h * 3600 + m * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

fn instant(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, offset: i64) -> Option<GoTime> {
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = cosign_types::time::days_from_civil(y, mo, d);
    Some(GoTime {
        unix: days * 86_400 + h * 3600 + mi * 60 + s - offset,
        offset,
    })
}

/// A `UTCTime` as cryptobyte reads it: `YYMMDDhhmm[ss]Z0700`, years 1950..2049.
pub fn utc_time(bytes: &[u8]) -> Option<GoTime> {
    let field = |r: std::ops::Range<usize>| bytes.get(r).and_then(digits);
    let yy = field(0..2)?;
    let (mo, d, h, mi) = (field(2..4)?, field(4..6)?, field(6..8)?, field(8..10)?);
    // Seconds, else Go's fallback to minute precision.
    let (s, rest) = match bytes.get(10..12).and_then(digits) {
        Some(s) if bytes.get(12..).is_some_and(|z| zone(z).is_some()) => (s, bytes.get(12..)?),
        _ => (0, bytes.get(10..)?),
    };
    let offset = zone(rest)?;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    instant(year, mo, d, h, mi, s, offset)
}

/// A `GeneralizedTime` as cryptobyte reads it (certificates): `YYYYMMDDhhmmssZ0700`.
pub fn generalized_time(bytes: &[u8]) -> Option<GoTime> {
    if bytes.contains(&b'.') {
        return None;
    }
    generalized_time_fraction(bytes)
}

/// A `GeneralizedTime` as `encoding/asn1` reads it (RFC 3161 timestamps):
/// `YYYYMMDDhhmmss[.fff]Z0700`, the fraction without trailing zeros.
pub fn generalized_time_fraction(bytes: &[u8]) -> Option<GoTime> {
    let field = |r: std::ops::Range<usize>| bytes.get(r).and_then(digits);
    let y = field(0..4)?;
    let (mo, d, h, mi, s) = (
        field(4..6)?,
        field(6..8)?,
        field(8..10)?,
        field(10..12)?,
        field(12..14)?,
    );
    let mut rest = bytes.get(14..)?;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 9 || frac.get(n - 1) == Some(&b'0') {
            return None;
        }
        rest = frac.get(n..)?;
    }
    instant(y, mo, d, h, mi, s, zone(rest)?)
}

/// A two's complement big-endian integer in decimal, as Go's `big.Int` prints it.
pub fn integer_decimal(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude: Vec<u8> = bytes.to_vec();
    if negative {
        // Two's complement negation.
        for b in &mut magnitude {
            *b = !*b;
        }
        for b in magnitude.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let mut digits = Vec::new();
    let mut num: Vec<u8> = magnitude.into_iter().skip_while(|&b| b == 0).collect();
    while !num.is_empty() {
        let mut rem = 0u32;
        for b in &mut num {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
        num = num.into_iter().skip_while(|&b| b == 0).collect();
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

/// The bit length of a positive big-endian integer (Go's `big.Int.BitLen`).
pub fn bit_len(bytes: &[u8]) -> usize {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    match trimmed.first() {
        None => 0,
        Some(&first) => (trimmed.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_go_reads_them() {
        let t = utc_time(b"240319172626Z").unwrap();
        assert_eq!(t.rfc3339(), "2024-03-19T17:26:26Z");
        assert_eq!(
            utc_time(b"5001010000Z").unwrap().rfc3339(),
            "1950-01-01T00:00:00Z"
        );
        assert_eq!(
            utc_time(b"240319172626+0130").unwrap().rfc3339(),
            "2024-03-19T17:26:26+01:30"
        );
        assert!(utc_time(b"240319172626+0000").is_none());
        assert!(utc_time(b"240230172626Z").is_none());
        assert!(utc_time(b"240319172660Z").is_none());
        assert_eq!(
            generalized_time_fraction(b"20250101000000.5Z")
                .unwrap()
                .rfc3339(),
            "2025-01-01T00:00:00Z"
        );
        assert!(generalized_time(b"20250101000000.5Z").is_none());
        assert!(generalized_time_fraction(b"20250101000000.50Z").is_none());
        assert!(generalized_time_fraction(b"20250101000000.Z").is_none());
    }

    #[test]
    fn integers() {
        assert_eq!(integer_decimal(&[0x01, 0x00]), "256");
        assert_eq!(integer_decimal(&[0xff]), "-1");
        assert_eq!(integer_decimal(&[0x80]), "-128");
        assert_eq!(integer_decimal(&[0x00]), "0");
        assert_eq!(
            integer_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            "18446744073709551615"
        );
        assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_i64(&[0xff, 0x00]), Some(-256));
        assert!(!valid_integer(&[0x00, 0x01]));
    }

    #[test]
    fn oids_and_bits() {
        let oid = Oid::from_contents(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01])
            .unwrap();
        assert_eq!(oid.to_string(), "1.3.6.1.4.1.57264.1.1");
        assert!(Oid::from_contents(&[0x2b, 0x80, 0x01]).is_none());
        let bits = BitString::from_contents(&[0x07, 0x80]).unwrap();
        assert!(bits.at(0) && !bits.at(1));
        assert!(BitString::from_contents(&[0x01, 0x01]).is_none());
        let bits = BitString::from_contents(&[0x04, 0xab, 0xc0]).unwrap();
        assert_eq!(bits.right_align(), vec![0x0a, 0xbc]);
    }
}
