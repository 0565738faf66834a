//! Building a trusted root from verification material, as Go cosign's
//! `cosign trusted-root create` does: service specifications (`url=...,public-key=...`), the
//! deprecated per-field flags, and optionally the services of an existing root, written as the
//! protojson sigstore-go's `TrustedRoot.MarshalJSON` produces (media type v0.1).
//!
//! What is written follows sigstore-go: a log is keyed by its log ID (a later one with the same
//! ID replaces the earlier), its key is re-encoded as PKIX with `keyDetails` derived from the
//! key, an authority's `subject` comes from its root certificate, and each list is sorted by
//! the start of its validity (ties keep their order). Messages are Go cosign's.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use const_oid::db::rfc4519::{COMMON_NAME, ORGANIZATION_NAME};
use cosign_crypto::{KeyType, PublicKey};
use cosign_types::time::{civil_from_days, days_from_civil};
use der::{Tag, Tagged as _};
use x509_cert::ext::pkix::name::DirectoryString;

use crate::trusted_root::{CertificateAuthority, MEDIA_TYPE_V01, TrustedRoot};
use crate::x509::Certificate;

/// Go's `time.RFC3339` layout, as its parse errors quote it.
const RFC3339_LAYOUT: &str = "2006-01-02T15:04:05Z07:00";
/// Unix seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), also protobuf's earliest
/// timestamp.
pub(crate) const GO_ZERO_SECS: i64 = -62_135_596_800;
/// Unix seconds of 9999-12-31T23:59:59Z, protobuf's latest timestamp.
pub(crate) const MAX_TIMESTAMP_SECS: i64 = 253_402_300_799;
/// Largest PEM file read for a key or a certificate chain.
const MAX_PEM_FILE: u64 = 1024 * 1024;

/// Why a trusted root could not be created; the message is Go cosign's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CreateError(String);

impl CreateError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }

    pub(crate) fn wrap(self, context: &str) -> Self {
        Self(format!("{context}: {}", self.0))
    }
}

/// A point in time with nanoseconds (a protobuf `Timestamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Unix seconds.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Instant {
    /// A whole second.
    pub fn from_secs(secs: i64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// Go's zero `time.Time`, which sigstore-go treats as "not set" for an end.
    pub(crate) fn is_go_zero(self) -> bool {
        self.secs == GO_ZERO_SECS && self.nanos == 0
    }

    /// protojson's form: RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits.
    pub(crate) fn protojson(self) -> Result<String, CreateError> {
        if !(GO_ZERO_SECS..=MAX_TIMESTAMP_SECS).contains(&self.secs) {
            return Err(CreateError::new(format!(
                "proto: google.protobuf.Timestamp: seconds out of range {}",
                self.secs
            )));
        }
        let (y, m, d) = civil_from_days(self.secs.div_euclid(86_400));
        let rem = self.secs.rem_euclid(86_400);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        );
        let n = self.nanos;
        if n != 0 {
            if n % 1_000_000 == 0 {
                out.push_str(&format!(".{:03}", n / 1_000_000));
            } else if n % 1_000 == 0 {
                out.push_str(&format!(".{:06}", n / 1_000));
            } else {
                out.push_str(&format!(".{n:09}"));
            }
        }
        out.push('Z');
        Ok(out)
    }
}

fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A number of one or two digits at the start of `s` (exactly two when `fixed`), as Go's
/// `getnum`.
fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i64::from(c - b'0'))
    };
    let first = digit(0)?;
    match digit(1) {
        Some(second) => Some((first * 10 + second, &s[2..])),
        None if fixed => None,
        None => Some((first, &s[1..])),
    }
}

fn cannot_parse(value: &str, rest: &str, elem: &str) -> CreateError {
    CreateError::new(format!(
        "parsing time {} as \"{RFC3339_LAYOUT}\": cannot parse {} as \"{elem}\"",
        go_quote(value),
        go_quote(rest)
    ))
}

fn skip_literal<'a>(value: &str, rest: &'a str, lit: &str) -> Result<&'a str, CreateError> {
    rest.strip_prefix(lit)
        .ok_or_else(|| cannot_parse(value, rest, lit))
}

/// Parses `value` as Go's `time.Parse(time.RFC3339, value)` does (fractional seconds accepted,
/// one-digit hours too), with Go's error messages.
pub fn parse_go_rfc3339(value: &str) -> Result<Instant, CreateError> {
    let cannot = |rest: &str, elem: &str| cannot_parse(value, rest, elem);
    let range = |what: &str| {
        CreateError::new(format!(
            "parsing time {}: {what} out of range",
            go_quote(value)
        ))
    };
    let literal = |rest, lit| skip_literal(value, rest, lit);
    let rest = value;
    let year_text = rest
        .get(..4)
        .filter(|y| y.bytes().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| cannot(rest, "2006"))?;
    let year: i64 = year_text.parse().map_err(|_| cannot(rest, "2006"))?;
    let rest = literal(&rest[4..], "-")?;
    let (month, after) = getnum(rest, true).ok_or_else(|| cannot(rest, "01"))?;
    if !(1..=12).contains(&month) {
        return Err(range("month"));
    }
    let rest = literal(after, "-")?;
    let (day, after) = getnum(rest, true).ok_or_else(|| cannot(rest, "02"))?;
    let rest = literal(after, "T")?;
    let (hour, after) = getnum(rest, false).ok_or_else(|| cannot(rest, "15"))?;
    if hour >= 24 {
        return Err(range("hour"));
    }
    let rest = literal(after, ":")?;
    let (minute, after) = getnum(rest, true).ok_or_else(|| cannot(rest, "04"))?;
    if minute >= 60 {
        return Err(range("minute"));
    }
    let rest = literal(after, ":")?;
    let (second, mut rest) = getnum(rest, true).ok_or_else(|| cannot(rest, "05"))?;
    if second >= 60 {
        return Err(range("second"));
    }
    let mut nanos: u32 = 0;
    let b = rest.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Go reads at most nine digits and drops the rest.
        let digits = &rest[1..n.min(10)];
        let scale = 9 - digits.len();
        nanos = digits
            .parse::<u32>()
            .map_err(|_| range("fractional second"))?
            * 10u32.pow(u32::try_from(scale).unwrap_or(0));
        rest = &rest[n..];
    }
    let offset = if let Some(after) = rest.strip_prefix('Z') {
        rest = after;
        0
    } else {
        let b = rest.as_bytes();
        if b.len() < 6 || b[3] != b':' {
            return Err(cannot(rest, "Z07:00"));
        }
        let hh = rest.get(1..3).and_then(|t| getnum(t, true)).map(|(n, _)| n);
        let mm = rest.get(4..6).and_then(|t| getnum(t, true)).map(|(n, _)| n);
        let (Some(hh), Some(mm)) = (hh, mm) else {
            return Err(cannot(rest, "Z07:00"));
        };
        if hh > 24 {
            return Err(range("time zone offset hour"));
        }
        if mm > 60 {
            return Err(range("time zone offset minute"));
        }
        let offset = (hh * 60 + mm) * 60;
        let offset = match b[0] {
            b'+' => offset,
            b'-' => -offset,
            _ => return Err(cannot(rest, "Z07:00")),
        };
        rest = rest.get(6..).unwrap_or_default();
        offset
    };
    if !rest.is_empty() {
        return Err(CreateError::new(format!(
            "parsing time {}: extra text: {}",
            go_quote(value),
            go_quote(rest)
        )));
    }
    if day < 1 || day > days_in(month, year) {
        return Err(range("day"));
    }
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(Instant { secs, nanos })
}

/// One PEM block: its type and its decoded bytes.
struct PemBlock {
    label: String,
    der: Vec<u8>,
}

/// The PEM blocks of `data` in order, as Go's `pem.Decode` finds them: text around and between
/// blocks is skipped, and so is a block whose body is not base64.
fn pem_blocks(data: &[u8]) -> Vec<PemBlock> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body.find(&end_marker) else {
            rest = body;
            continue;
        };
        // Headers (`Name: value` lines up to a blank line) are not part of the body.
        let raw = &body[..body_end];
        let content = if raw.lines().nth(1).is_some_and(|l| l.contains(':')) {
            raw.split_once("\n\n")
                .or_else(|| raw.split_once("\r\n\r\n"))
                .map_or(raw, |(_, b)| b)
        } else {
            raw
        };
        let b64: String = content
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if !label.contains('\n')
            && let Ok(der) = STANDARD.decode(b64.as_bytes())
        {
            out.push(PemBlock {
                label: label.to_owned(),
                der,
            });
        }
        rest = &body[body_end + end_marker.len()..];
    }
    out
}

/// An I/O error as Go's `os` package words it: `open PATH: no such file or directory`.
pub fn go_io_error(op: &str, path: &str, err: &std::io::Error) -> CreateError {
    let text = err.to_string();
    let text = text
        .split_once(" (os error")
        .map_or(text.as_str(), |(t, _)| t);
    let mut chars = text.chars();
    let text = chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().collect::<String>() + chars.as_str()
    });
    CreateError::new(format!("{op} {path}: {text}"))
}

fn read_file(path: &str) -> Result<Vec<u8>, CreateError> {
    use std::io::Read as _;
    let file = std::fs::File::open(Path::new(path)).map_err(|e| go_io_error("open", path, &e))?;
    let mut data = Vec::new();
    file.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| go_io_error("read", path, &e))?;
    if data.len() as u64 > MAX_PEM_FILE {
        return Err(CreateError::new(format!(
            "read {path}: more than {MAX_PEM_FILE} bytes"
        )));
    }
    Ok(data)
}

/// Every PEM block of the file as a certificate, in order (Go cosign's `parseCerts`).
fn parse_certs(path: &str) -> Result<Vec<Certificate>, CreateError> {
    let data = read_file(path)?;
    let certs = pem_blocks(&data)
        .into_iter()
        .map(|b| {
            Certificate::from_der(&b.der).map_err(|e| CreateError::new(format!("{path}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(CreateError::new(format!("no certificates in file {path}")));
    }
    Ok(certs)
}

/// The first PEM block of the file as a public key: `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY`
/// (PKCS#1), as sigstore's `UnmarshalPEMToPublicKey`.
fn parse_public_key(path: &str) -> Result<PublicKey, CreateError> {
    let data = read_file(path)?;
    let block = pem_blocks(&data)
        .into_iter()
        .next()
        .ok_or_else(|| CreateError::new("PEM decoding failed"))?;
    let key = match block.label.as_str() {
        "PUBLIC KEY" => PublicKey::from_spki_der(&block.der),
        "RSA PUBLIC KEY" => PublicKey::from_rsa_pkcs1_der(&block.der),
        other => {
            return Err(CreateError::new(format!(
                "unknown Public key PEM file type: {other}. Are you passing the correct public key?"
            )));
        }
    };
    key.map_err(|e| CreateError::new(format!("{path}: {e}")))
}

fn is_ca(cert: &Certificate) -> bool {
    cert.is_ca().unwrap_or(false)
}

/// The `key=value,...` pairs of a service specification (keys and values trimmed; a later key
/// replaces an earlier one).
pub(crate) fn parse_kvs(spec: &str) -> Result<Vec<(String, String)>, CreateError> {
    let mut kvs: Vec<(String, String)> = Vec::new();
    for pair in spec.split(',') {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| CreateError::new(format!("invalid key-value pair: {pair}")))?;
        let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
        match kvs.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => kvs.push((k, v)),
        }
    }
    Ok(kvs)
}

pub(crate) fn kv<'a>(kvs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn require(kvs: &[(String, String)], keys: &[&str], what: &str) -> Result<(), CreateError> {
    for key in keys {
        if kv(kvs, key).is_none_or(str::is_empty) {
            return Err(CreateError::new(format!(
                "missing or empty required key '{key}' in {what} spec"
            )));
        }
    }
    Ok(())
}

/// An optional time key of a specification; `None` when absent or empty.
fn spec_time(kvs: &[(String, String)], key: &str) -> Result<Option<Instant>, CreateError> {
    match kv(kvs, key) {
        Some(t) if !t.is_empty() => parse_go_rfc3339(t)
            .map(Some)
            .map_err(|e| e.wrap(&format!("parsing {key}"))),
        _ => Ok(None),
    }
}

/// A transparency log or CT log to write.
#[derive(Clone, Debug)]
struct Log {
    base_url: String,
    public_key: PublicKey,
    log_id: Vec<u8>,
    start: Instant,
    end: Option<Instant>,
}

/// A certificate or timestamp authority to write: its chain as written (leaf or intermediates
/// first, root last).
#[derive(Clone, Debug)]
struct Authority {
    uri: String,
    chain: Vec<Certificate>,
    start: Instant,
    end: Option<Instant>,
}

impl Authority {
    fn from_root(ca: &CertificateAuthority) -> Self {
        Self {
            uri: ca.uri.clone(),
            chain: ca.cert_chain.clone(),
            start: Instant::from_secs(ca.valid_for.start.unwrap_or(GO_ZERO_SECS)),
            end: ca.valid_for.end.map(Instant::from_secs),
        }
    }
}

/// Logs keyed by their hex log ID, in insertion order.
#[derive(Default)]
struct Logs(Vec<(String, Log)>);

impl Logs {
    fn insert(&mut self, id: String, log: Log) {
        match self.0.iter_mut().find(|(k, _)| *k == id) {
            Some(slot) => slot.1 = log,
            None => self.0.push((id, log)),
        }
    }
}

/// The services of an existing trusted root to start from (`--with-default-services`), and
/// which kinds of them to keep.
#[derive(Clone, Debug)]
pub struct DefaultServices {
    /// The root (the Sigstore TUF repository's `trusted_root.json`).
    pub root: TrustedRoot,
    /// Keep its certificate authorities.
    pub fulcio: bool,
    /// Keep its CT logs.
    pub ctfe: bool,
    /// Keep its timestamp authorities.
    pub tsa: bool,
    /// Keep its transparency logs.
    pub rekor: bool,
}

/// What `cosign trusted-root create` was given. Paths are as the user wrote them (messages
/// quote them).
#[derive(Clone, Debug)]
pub struct CreateRequest {
    /// `--fulcio` specifications: `url`, `certificate-chain`, optional `start-time`, `end-time`.
    pub fulcio: Vec<String>,
    /// `--rekor` specifications: `url`, `public-key`, `start-time`, optional `end-time`,
    /// `origin`.
    pub rekor: Vec<String>,
    /// `--ctfe` specifications (as `--rekor`).
    pub ctfe: Vec<String>,
    /// `--tsa` specifications (as `--fulcio`).
    pub tsa: Vec<String>,
    /// Services to start from.
    pub defaults: Option<DefaultServices>,
    /// Deprecated `--certificate-chain` files.
    pub cert_chain: Vec<String>,
    /// Deprecated `--fulcio-uri`, by position.
    pub fulcio_uri: Vec<String>,
    /// Deprecated `--ctfe-key` files.
    pub ctfe_key: Vec<String>,
    /// Deprecated `--ctfe-start-time`, by position.
    pub ctfe_start_time: Vec<String>,
    /// Deprecated `--ctfe-end-time`, by position.
    pub ctfe_end_time: Vec<String>,
    /// Deprecated `--ctfe-url`, by position.
    pub ctfe_url: Vec<String>,
    /// Deprecated `--rekor-key` files, each optionally `,ORIGIN`.
    pub rekor_key: Vec<String>,
    /// Deprecated `--rekor-start-time`, by position.
    pub rekor_start_time: Vec<String>,
    /// Deprecated `--rekor-end-time`, by position.
    pub rekor_end_time: Vec<String>,
    /// Deprecated `--rekor-url`, by position.
    pub rekor_url: Vec<String>,
    /// Deprecated `--timestamp-certificate-chain` files.
    pub tsa_cert_chain: Vec<String>,
    /// Deprecated `--timestamp-uri`, by position.
    pub tsa_uri: Vec<String>,
    /// The signed-note key ID of a log key for a checkpoint origin (Rekor v2 and static CT
    /// log IDs): `cosign_tlog::note::key_id`.
    pub checkpoint_key_id: fn(&str, &PublicKey) -> [u8; 32],
}

impl CreateRequest {
    /// A request with nothing set.
    pub fn new(checkpoint_key_id: fn(&str, &PublicKey) -> [u8; 32]) -> Self {
        Self {
            fulcio: Vec::new(),
            rekor: Vec::new(),
            ctfe: Vec::new(),
            tsa: Vec::new(),
            defaults: None,
            cert_chain: Vec::new(),
            fulcio_uri: Vec::new(),
            ctfe_key: Vec::new(),
            ctfe_start_time: Vec::new(),
            ctfe_end_time: Vec::new(),
            ctfe_url: Vec::new(),
            rekor_key: Vec::new(),
            rekor_start_time: Vec::new(),
            rekor_end_time: Vec::new(),
            rekor_url: Vec::new(),
            tsa_cert_chain: Vec::new(),
            tsa_uri: Vec::new(),
            checkpoint_key_id,
        }
    }

    fn old_fulcio(&self) -> bool {
        !self.cert_chain.is_empty() || !self.fulcio_uri.is_empty()
    }

    fn old_rekor(&self) -> bool {
        !self.rekor_key.is_empty()
            || !self.rekor_url.is_empty()
            || !self.rekor_start_time.is_empty()
            || !self.rekor_end_time.is_empty()
    }

    fn old_ctfe(&self) -> bool {
        !self.ctfe_key.is_empty()
            || !self.ctfe_url.is_empty()
            || !self.ctfe_start_time.is_empty()
            || !self.ctfe_end_time.is_empty()
    }

    fn old_tsa(&self) -> bool {
        !self.tsa_cert_chain.is_empty() || !self.tsa_uri.is_empty()
    }

    /// Refuses a service given both by its specification flag and by its deprecated flags
    /// (checked before anything is read or fetched).
    pub fn check(&self) -> Result<(), CreateError> {
        let pairs = [
            (!self.fulcio.is_empty() && self.old_fulcio(), "fulcio"),
            (!self.rekor.is_empty() && self.old_rekor(), "rekor"),
            (!self.ctfe.is_empty() && self.old_ctfe(), "ctfe"),
            (!self.tsa.is_empty() && self.old_tsa(), "tsa"),
        ];
        for (conflict, name) in pairs {
            if conflict {
                return Err(CreateError::new(format!(
                    "cannot use --{name} and old {name} flags at the same time"
                )));
            }
        }
        Ok(())
    }

    /// A log from a `--rekor`/`--ctfe` specification, with its hex ID (the checkpoint key ID
    /// when the specification has an `origin`).
    fn tlog_spec(&self, spec: &str) -> Result<(String, Log), CreateError> {
        let kvs = parse_kvs(spec)?;
        require(&kvs, &["url", "public-key", "start-time"], "tlog")?;
        let public_key = parse_public_key(kv(&kvs, "public-key").unwrap_or_default())
            .map_err(|e| e.wrap("parsing public-key"))?;
        let start = parse_go_rfc3339(kv(&kvs, "start-time").unwrap_or_default())
            .map_err(|e| e.wrap("parsing start-time"))?;
        let end = spec_time(&kvs, "end-time")?;
        let log_id = match kv(&kvs, "origin") {
            Some(origin) => (self.checkpoint_key_id)(origin, &public_key).to_vec(),
            None => public_key.hint().to_vec(),
        };
        Ok((
            hex::encode(&log_id),
            Log {
                base_url: kv(&kvs, "url").unwrap_or_default().to_owned(),
                public_key,
                log_id,
                start,
                end,
            },
        ))
    }

    /// A log from the deprecated flags at position `i`.
    fn tlog_old(
        &self,
        key_path: &str,
        origin: Option<&str>,
        start: Option<&String>,
        end: Option<&String>,
        url: Option<&String>,
    ) -> Result<(String, Log), CreateError> {
        let public_key = parse_public_key(key_path)?;
        let log_id = match origin.filter(|o| !o.is_empty()) {
            Some(origin) => (self.checkpoint_key_id)(origin, &public_key).to_vec(),
            None => public_key.hint().to_vec(),
        };
        let start = match start {
            Some(s) => parse_go_rfc3339(s)?,
            None => Instant::from_secs(0),
        };
        let end = end.map(|e| parse_go_rfc3339(e)).transpose()?;
        Ok((
            hex::encode(&log_id),
            Log {
                base_url: url.cloned().unwrap_or_default(),
                public_key,
                log_id,
                start,
                end,
            },
        ))
    }
}

fn fulcio_spec(spec: &str) -> Result<Authority, CreateError> {
    let kvs = parse_kvs(spec)?;
    require(&kvs, &["url", "certificate-chain"], "fulcio")?;
    let chain = parse_certs(kv(&kvs, "certificate-chain").unwrap_or_default())
        .map_err(|e| e.wrap("parsing Fulcio certificate-chain"))?;
    let root_start = chain.last().map_or(0, Certificate::not_before);
    Ok(Authority {
        uri: kv(&kvs, "url").unwrap_or_default().to_owned(),
        start: spec_time(&kvs, "start-time")?.unwrap_or(Instant::from_secs(root_start)),
        end: spec_time(&kvs, "end-time")?,
        chain,
    })
}

/// The chain sigstore-go writes for a timestamp authority: the leaf, the intermediates, the
/// root (a one-certificate chain is its own leaf and root, written twice).
fn tsa_chain(certs: Vec<Certificate>) -> Vec<Certificate> {
    match certs.len() {
        1 => {
            let mut out = certs.clone();
            out.extend(certs);
            out
        }
        _ => certs,
    }
}

fn tsa_spec(spec: &str) -> Result<Authority, CreateError> {
    let kvs = parse_kvs(spec)?;
    require(&kvs, &["url", "certificate-chain"], "tsa")?;
    let certs = parse_certs(kv(&kvs, "certificate-chain").unwrap_or_default())
        .map_err(|e| e.wrap("parsing TSA certificate-chain"))?;
    if certs.first().is_some_and(is_ca) {
        return Err(CreateError::new(
            "first certificate in chain must be a leaf certificate",
        ));
    }
    let leaf_start = certs.first().map_or(0, Certificate::not_before);
    Ok(Authority {
        uri: kv(&kvs, "url").unwrap_or_default().to_owned(),
        start: spec_time(&kvs, "start-time")?.unwrap_or(Instant::from_secs(leaf_start)),
        end: spec_time(&kvs, "end-time")?,
        chain: tsa_chain(certs),
    })
}

/// `--certificate-chain` (deprecated): the root's notBefore starts its validity.
fn fulcio_old(path: &str, uri: Option<&String>) -> Result<Authority, CreateError> {
    let chain = parse_certs(path)?;
    let root_start = chain.last().map_or(0, Certificate::not_before);
    Ok(Authority {
        uri: uri.cloned().unwrap_or_default(),
        start: Instant::from_secs(root_start),
        end: None,
        chain,
    })
}

/// `--timestamp-certificate-chain` (deprecated): a leaf and at least a root; the root's
/// notBefore starts its validity.
fn tsa_old(path: &str, uri: Option<&String>) -> Result<Authority, CreateError> {
    let certs = parse_certs(path)?;
    if certs.first().is_some_and(is_ca) {
        return Err(CreateError::new(
            "first certificate in chain must be a leaf certificate",
        ));
    }
    if certs.len() < 2 {
        return Err(CreateError::new(
            "certificate chain must have at least two certificates",
        ));
    }
    let root_start = certs.last().map_or(0, Certificate::not_before);
    Ok(Authority {
        uri: uri.cloned().unwrap_or_default(),
        start: Instant::from_secs(root_start),
        end: None,
        chain: certs,
    })
}

fn default_log(log: &crate::trusted_root::LogInstance) -> (String, Log) {
    (
        hex::encode(&log.log_id),
        Log {
            base_url: log.base_url.clone(),
            public_key: log.public_key.clone(),
            log_id: log.log_id.clone(),
            start: Instant::from_secs(log.valid_for.start.unwrap_or(GO_ZERO_SECS)),
            end: log.valid_for.end.map(Instant::from_secs),
        },
    )
}

/// Builds the trusted root of `req` and returns its protojson (without a trailing newline).
pub fn create(req: &CreateRequest) -> Result<Vec<u8>, CreateError> {
    req.check()?;
    let mut cas: Vec<Authority> = Vec::new();
    let mut ctlogs = Logs::default();
    let mut tsas: Vec<Authority> = Vec::new();
    let mut tlogs = Logs::default();

    if let Some(d) = &req.defaults {
        if d.fulcio {
            cas.extend(
                d.root
                    .certificate_authorities
                    .iter()
                    .map(Authority::from_root),
            );
        }
        if d.ctfe {
            for log in &d.root.ctlogs {
                let (id, log) = default_log(log);
                ctlogs.insert(id, log);
            }
        }
        if d.rekor {
            for log in &d.root.tlogs {
                let (id, log) = default_log(log);
                tlogs.insert(id, log);
            }
        }
        if d.tsa {
            tsas.extend(
                d.root
                    .timestamp_authorities
                    .iter()
                    .map(Authority::from_root),
            );
        }
    }

    if !req.fulcio.is_empty() {
        for spec in &req.fulcio {
            cas.push(fulcio_spec(spec).map_err(|e| e.wrap("parsing fulcio spec"))?);
        }
    } else {
        for (i, path) in req.cert_chain.iter().enumerate() {
            cas.push(fulcio_old(path, req.fulcio_uri.get(i))?);
        }
    }

    if !req.ctfe.is_empty() {
        for spec in &req.ctfe {
            let (id, log) = req
                .tlog_spec(spec)
                .map_err(|e| e.wrap("parsing ctfe spec"))?;
            ctlogs.insert(id, log);
        }
    } else {
        for (i, path) in req.ctfe_key.iter().enumerate() {
            let (id, log) = req.tlog_old(
                path,
                None,
                req.ctfe_start_time.get(i),
                req.ctfe_end_time.get(i),
                req.ctfe_url.get(i),
            )?;
            ctlogs.insert(id, log);
        }
    }

    if !req.rekor.is_empty() {
        for spec in &req.rekor {
            let (id, log) = req
                .tlog_spec(spec)
                .map_err(|e| e.wrap("parsing rekor spec"))?;
            tlogs.insert(id, log);
        }
    } else {
        for (i, arg) in req.rekor_key.iter().enumerate() {
            let (path, origin) = match arg.split_once(',') {
                Some((p, o)) => (p, Some(o)),
                None => (arg.as_str(), None),
            };
            let (id, log) = req.tlog_old(
                path,
                origin,
                req.rekor_start_time.get(i),
                req.rekor_end_time.get(i),
                req.rekor_url.get(i),
            )?;
            tlogs.insert(id, log);
        }
    }

    if !req.tsa.is_empty() {
        for spec in &req.tsa {
            tsas.push(tsa_spec(spec).map_err(|e| e.wrap("parsing tsa spec"))?);
        }
    } else {
        for (i, path) in req.tsa_cert_chain.iter().enumerate() {
            tsas.push(tsa_old(path, req.tsa_uri.get(i))?);
        }
    }

    marshal(&tlogs, &cas, &ctlogs, &tsas)
        .map_err(|e| e.wrap("failed constructing protobuf TrustRoot representation"))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `"validFor":{"start":...,"end":...}` members (end left out when unset or Go's zero time).
fn valid_for(start: Instant, end: Option<Instant>) -> Result<String, CreateError> {
    let mut out = format!("{{\"start\":{}", json_str(&start.protojson()?));
    if let Some(end) = end.filter(|e| !e.is_go_zero()) {
        out.push_str(&format!(",\"end\":{}", json_str(&end.protojson()?)));
    }
    out.push('}');
    Ok(out)
}

fn key_details(key: &PublicKey) -> Result<&'static str, CreateError> {
    Ok(match key.key_type() {
        KeyType::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyType::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        KeyType::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
        KeyType::Ed25519 => "PKIX_ED25519",
        KeyType::Rsa { bits: 2048 } => "PKIX_RSA_PKCS1V15_2048_SHA256",
        KeyType::Rsa { bits: 3072 } => "PKIX_RSA_PKCS1V15_3072_SHA256",
        KeyType::Rsa { bits: 4096 } => "PKIX_RSA_PKCS1V15_4096_SHA256",
        KeyType::Rsa { bits } => {
            return Err(CreateError::new(format!(
                "unsupported public modulus for RSA key: {}",
                bits.div_ceil(8)
            )));
        }
    })
}

fn log_json(log: &Log) -> Result<String, CreateError> {
    let details = key_details(&log.public_key)
        .map_err(|e| e.wrap("failed converting public key to protobuf"))?;
    let mut out = String::from("{");
    if !log.base_url.is_empty() {
        out.push_str(&format!("\"baseUrl\":{},", json_str(&log.base_url)));
    }
    out.push_str(&format!(
        "\"hashAlgorithm\":\"SHA2_256\",\"publicKey\":{{\"rawBytes\":\"{}\",\"keyDetails\":\"{details}\",\"validFor\":{}}},\"logId\":{{",
        STANDARD.encode(log.public_key.to_spki_der()),
        valid_for(log.start, log.end)?
    ));
    if !log.log_id.is_empty() {
        out.push_str(&format!("\"keyId\":\"{}\"", STANDARD.encode(&log.log_id)));
    }
    out.push_str("}}");
    Ok(out)
}

/// The first organization and the last common name of a certificate's subject, as Go's
/// `pkix.Name` reads them.
fn subject(cert: &Certificate) -> (String, String) {
    let mut org = None;
    let mut cn = String::new();
    for atv in cert.inner().tbs_certificate().subject().iter() {
        let value = match DirectoryString::try_from(&atv.value) {
            Ok(s) => s.value().into_owned(),
            Err(_) if atv.value.tag() == Tag::Ia5String => {
                match std::str::from_utf8(atv.value.value()) {
                    Ok(s) => s.to_owned(),
                    Err(_) => continue,
                }
            }
            Err(_) => continue,
        };
        if atv.oid == ORGANIZATION_NAME && org.is_none() {
            org = Some(value);
        } else if atv.oid == COMMON_NAME {
            cn = value;
        }
    }
    (org.unwrap_or_default(), cn)
}

fn authority_json(ca: &Authority) -> Result<String, CreateError> {
    let root = ca
        .chain
        .last()
        .ok_or_else(|| CreateError::new("root certificate is nil"))?;
    let (org, cn) = subject(root);
    let mut subject = Vec::new();
    if !org.is_empty() {
        subject.push(format!("\"organization\":{}", json_str(&org)));
    }
    if !cn.is_empty() {
        subject.push(format!("\"commonName\":{}", json_str(&cn)));
    }
    let mut out = format!("{{\"subject\":{{{}}},", subject.join(","));
    if !ca.uri.is_empty() {
        out.push_str(&format!("\"uri\":{},", json_str(&ca.uri)));
    }
    let certs: Vec<String> = ca
        .chain
        .iter()
        .map(|c| format!("{{\"rawBytes\":\"{}\"}}", STANDARD.encode(c.der())))
        .collect();
    out.push_str(&format!(
        "\"certChain\":{{\"certificates\":[{}]}},\"validFor\":{}}}",
        certs.join(","),
        valid_for(ca.start, ca.end)?
    ));
    Ok(out)
}

fn sorted_logs(logs: &Logs) -> Vec<&(String, Log)> {
    let mut v: Vec<&(String, Log)> = logs.0.iter().collect();
    v.sort_by_key(|(_, l)| l.start);
    v
}

fn sorted_authorities(cas: &[Authority]) -> Vec<&Authority> {
    let mut v: Vec<&Authority> = cas.iter().collect();
    v.sort_by_key(|a| a.start);
    v
}

fn marshal(
    tlogs: &Logs,
    cas: &[Authority],
    ctlogs: &Logs,
    tsas: &[Authority],
) -> Result<Vec<u8>, CreateError> {
    let mut members = vec![format!("\"mediaType\":{}", json_str(MEDIA_TYPE_V01))];
    let logs = |logs: &Logs, kind: &str| -> Result<Vec<String>, CreateError> {
        sorted_logs(logs)
            .into_iter()
            .map(|(id, log)| {
                log_json(log)
                    .map_err(|e| e.wrap(&format!("failed converting {kind} {id} to protobuf")))
            })
            .collect()
    };
    let tlogs = logs(tlogs, "rekor log")?;
    let ctlogs = logs(ctlogs, "ctlog")?;
    let cas = sorted_authorities(cas)
        .into_iter()
        .map(authority_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.wrap("failed converting fulcio cert chain to protobuf"))?;
    let tsas = sorted_authorities(tsas)
        .into_iter()
        .map(authority_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.wrap("failed converting TSA cert chain to protobuf"))?;
    for (name, items) in [
        ("tlogs", tlogs),
        ("certificateAuthorities", cas),
        ("ctlogs", ctlogs),
        ("timestampAuthorities", tsas),
    ] {
        if !items.is_empty() {
            members.push(format!("\"{name}\":[{}]", items.join(",")));
        }
    }
    Ok(format!("{{{}}}", members.join(",")).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_rfc3339() {
        let t = parse_go_rfc3339("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(t, Instant::from_secs(1_704_067_200));
        let t = parse_go_rfc3339("2024-01-01T01:00:00.5+01:00").unwrap();
        assert_eq!(
            t,
            Instant {
                secs: 1_704_067_200,
                nanos: 500_000_000
            }
        );
        assert_eq!(t.protojson().unwrap(), "2024-01-01T00:00:00.500Z");
        // One-digit hours pass, as in Go; ten fraction digits are cut to nine.
        assert_eq!(
            parse_go_rfc3339("2024-01-01T1:00:00.1234567891Z").unwrap(),
            Instant {
                secs: 1_704_070_800,
                nanos: 123_456_789
            }
        );
        assert_eq!(
            Instant {
                secs: 0,
                nanos: 1_000
            }
            .protojson()
            .unwrap(),
            "1970-01-01T00:00:00.000001Z"
        );
        let err = |s: &str| parse_go_rfc3339(s).unwrap_err().to_string();
        assert_eq!(
            err("2024-01-01"),
            r#"parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T""#
        );
        assert_eq!(
            err("yesterday"),
            r#"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#
        );
        assert_eq!(
            err("2024-13-01T00:00:00Z"),
            r#"parsing time "2024-13-01T00:00:00Z": month out of range"#
        );
        assert_eq!(
            err("2023-02-29T00:00:00Z"),
            r#"parsing time "2023-02-29T00:00:00Z": day out of range"#
        );
        assert_eq!(
            err("2024-01-01T00:00:00"),
            r#"parsing time "2024-01-01T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00""#
        );
        assert_eq!(
            err("2024-01-01T00:00:00Zjunk"),
            r#"parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk""#
        );
    }

    #[test]
    fn kvs() {
        let kvs = parse_kvs(" url = https://x , public-key=a.pub,origin=").unwrap();
        assert_eq!(kv(&kvs, "url"), Some("https://x"));
        assert_eq!(kv(&kvs, "origin"), Some(""));
        assert_eq!(
            parse_kvs("url=x,oops").unwrap_err().to_string(),
            "invalid key-value pair: oops"
        );
        assert_eq!(
            parse_kvs("").unwrap_err().to_string(),
            "invalid key-value pair: "
        );
    }
}
