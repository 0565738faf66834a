//! The protojson form of a signing config, read as Go's `protojson.Unmarshal` reads it (field
//! JSON or proto names, `null` as unset, unknown and duplicate fields refused, numbers for
//! 32-bit integers also as strings, enums by name or number, strict RFC 3339 timestamps) and
//! written as `protojson.Marshal` writes what sigstore-go's `NewSigningConfig` builds.
//!
//! Messages are protojson's without its `(line L:C)` positions.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{
    MEDIA_TYPE_V02, Selector, Service, ServiceConfiguration, ServiceValidity, SigningConfig,
};
use crate::TrustError;
use crate::create::{GO_ZERO_SECS, Instant, MAX_TIMESTAMP_SECS, parse_go_rfc3339};

/// A JSON value that keeps object members in order, duplicates included.
#[derive(Debug)]
enum J {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

#[derive(Clone, Copy, Debug)]
enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl<'de> de::Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_none<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<J, E> {
                Ok(J::Num(Num::U(n)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<J, E> {
                Ok(J::Num(Num::I(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<J, E> {
                Ok(J::Num(Num::F(n)))
            }
            fn visit_str<E>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<J, E> {
                Ok(J::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(J::Arr(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, J>()? {
                    members.push((k, v));
                }
                Ok(J::Obj(members))
            }
        }
        d.deserialize_any(V)
    }
}

fn bad(reason: impl Into<String>) -> TrustError {
    TrustError::BadSigningConfig {
        reason: format!("proto: {}", reason.into()),
    }
}

/// How protojson quotes a value in its messages: strings quoted, others as written.
fn shown(v: &J) -> String {
    match v {
        J::Null => "null".to_owned(),
        J::Bool(b) => b.to_string(),
        J::Num(Num::U(n)) => n.to_string(),
        J::Num(Num::I(n)) => n.to_string(),
        J::Num(Num::F(n)) => n.to_string(),
        J::Str(s) => serde_json::to_string(s).unwrap_or_default(),
        J::Arr(_) => "[".to_owned(),
        J::Obj(_) => "{".to_owned(),
    }
}

fn syntax(v: &J) -> TrustError {
    bad(format!("syntax error: unexpected token {}", shown(v)))
}

/// The members of an object, each name mapped to its field by `fields` (JSON name, proto
/// name, field key); unknown and repeated fields are refused, `null` members dropped.
fn members<'a>(
    v: &'a J,
    fields: &[(&str, &str, &'static str)],
) -> Result<Vec<(&'static str, &'a J)>, TrustError> {
    let J::Obj(items) = v else {
        return Err(syntax(v));
    };
    let mut seen: Vec<&'static str> = Vec::new();
    let mut out = Vec::new();
    for (name, value) in items {
        let Some(&(_, _, key)) = fields
            .iter()
            .find(|(json, proto, _)| name == json || name == proto)
        else {
            return Err(bad(format!(
                "unknown field {}",
                shown(&J::Str(name.clone()))
            )));
        };
        if seen.contains(&key) {
            return Err(bad(format!(
                "duplicate field {}",
                shown(&J::Str(name.clone()))
            )));
        }
        seen.push(key);
        if !matches!(value, J::Null) {
            out.push((key, value));
        }
    }
    Ok(out)
}

fn string(v: &J, field: &str) -> Result<String, TrustError> {
    match v {
        J::Str(s) => Ok(s.clone()),
        other => Err(bad(format!(
            "invalid value for string field {field}: {}",
            shown(other)
        ))),
    }
}

/// An integral number in `range`, as protojson reads 32-bit integers: a number (`1`, `1.0`,
/// `1e0`) or a string holding one.
fn integer(v: &J, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    let num = match v {
        J::Num(n) => *n,
        J::Str(s) => {
            // The string must itself be a JSON number, nothing around it.
            if s.trim() != s || s.is_empty() {
                return None;
            }
            match serde_json::from_str::<serde_json::Number>(s).ok()? {
                n if n.is_u64() => Num::U(n.as_u64()?),
                n if n.is_i64() => Num::I(n.as_i64()?),
                n => Num::F(n.as_f64()?),
            }
        }
        _ => return None,
    };
    let n = match num {
        Num::U(n) => i64::try_from(n).ok()?,
        Num::I(n) => n,
        Num::F(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
        Num::F(_) => return None,
    };
    range.contains(&n).then_some(n)
}

fn uint32(v: &J, field: &str) -> Result<u32, TrustError> {
    integer(v, 0..=i64::from(u32::MAX))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            bad(format!(
                "invalid value for uint32 field {field}: {}",
                shown(v)
            ))
        })
}

fn selector(v: &J) -> Result<Selector, TrustError> {
    let invalid = || {
        bad(format!(
            "invalid value for enum field selector: {}",
            shown(v)
        ))
    };
    match v {
        J::Str(name) => Selector::from_name(name).ok_or_else(invalid),
        J::Num(_) => integer(v, i64::from(i32::MIN)..=i64::from(i32::MAX))
            .and_then(|n| i32::try_from(n).ok())
            .map(Selector::from_number)
            .ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

/// A `google.protobuf.Timestamp`: RFC 3339 as Go parses it, at most nine fraction digits,
/// within years 1 to 9999.
fn timestamp(v: &J) -> Result<Instant, TrustError> {
    let J::Str(s) = v else {
        return Err(bad(format!(
            "invalid google.protobuf.Timestamp value {}",
            shown(v)
        )));
    };
    let invalid = || {
        bad(format!(
            "invalid google.protobuf.Timestamp value {}",
            shown(v)
        ))
    };
    let t = parse_go_rfc3339(s).map_err(|_| invalid())?;
    if !(GO_ZERO_SECS..=MAX_TIMESTAMP_SECS).contains(&t.secs) {
        return Err(bad(format!(
            "google.protobuf.Timestamp value out of range: {}",
            shown(v)
        )));
    }
    if let (Some(dot), Some(zone)) = (s.rfind('.'), s.rfind(['Z', '-', '+'])) {
        if zone >= dot && zone - dot > ".999999999".len() {
            return Err(invalid());
        }
    }
    Ok(t)
}

/// Go's zero time means "not set" in sigstore-go's `Service`.
fn bound(t: Instant) -> Option<Instant> {
    (!t.is_go_zero()).then_some(t)
}

fn validity(v: &J) -> Result<ServiceValidity, TrustError> {
    let mut out = ServiceValidity::default();
    for (key, value) in members(v, &[("start", "start", "start"), ("end", "end", "end")])? {
        let t = timestamp(value)?;
        match key {
            "start" => out.start = bound(t),
            _ => out.end = bound(t),
        }
    }
    Ok(out)
}

fn service(v: &J) -> Result<Service, TrustError> {
    let mut s = Service::default();
    let fields = [
        ("url", "url", "url"),
        ("majorApiVersion", "major_api_version", "majorApiVersion"),
        ("validFor", "valid_for", "validFor"),
        ("operator", "operator", "operator"),
    ];
    for (key, value) in members(v, &fields)? {
        match key {
            "url" => s.url = string(value, "url")?,
            "majorApiVersion" => s.major_api_version = uint32(value, "majorApiVersion")?,
            "validFor" => s.valid_for = validity(value)?,
            _ => s.operator = string(value, "operator")?,
        }
    }
    Ok(s)
}

fn services(v: &J) -> Result<Vec<Service>, TrustError> {
    let J::Arr(items) = v else {
        return Err(syntax(v));
    };
    if items.len() > super::MAX_SERVICES {
        return Err(bad(format!(
            "more than {} services in one list",
            super::MAX_SERVICES
        )));
    }
    items
        .iter()
        .map(|item| match item {
            J::Obj(_) => service(item),
            other => Err(syntax(other)),
        })
        .collect()
}

fn configuration(v: &J) -> Result<ServiceConfiguration, TrustError> {
    let mut c = ServiceConfiguration::default();
    let fields = [
        ("selector", "selector", "selector"),
        ("count", "count", "count"),
    ];
    for (key, value) in members(v, &fields)? {
        match key {
            "selector" => c.selector = selector(value)?,
            _ => c.count = uint32(value, "count")?,
        }
    }
    Ok(c)
}

/// Parses a signing config; the media type must be v0.2 (sigstore-go accepts no other).
pub(super) fn parse(bytes: &[u8]) -> Result<SigningConfig, TrustError> {
    if bytes.len() > super::MAX_SIGNING_CONFIG_LEN {
        return Err(TrustError::BadSigningConfig {
            reason: format!(
                "more than {} bytes of signing config",
                super::MAX_SIGNING_CONFIG_LEN
            ),
        });
    }
    let root: J = serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "syntax error (line {}:{}): {}",
            e.line(),
            e.column(),
            e
        ))
    })?;
    let fields = [
        ("mediaType", "media_type", "mediaType"),
        ("caUrls", "ca_urls", "caUrls"),
        ("oidcUrls", "oidc_urls", "oidcUrls"),
        ("rekorTlogUrls", "rekor_tlog_urls", "rekorTlogUrls"),
        ("rekorTlogConfig", "rekor_tlog_config", "rekorTlogConfig"),
        ("tsaUrls", "tsa_urls", "tsaUrls"),
        ("tsaConfig", "tsa_config", "tsaConfig"),
    ];
    let mut media_type = String::new();
    let mut config = SigningConfig::default();
    for (key, value) in members(&root, &fields)? {
        match key {
            "mediaType" => media_type = string(value, "mediaType")?,
            "caUrls" => config.ca_urls = services(value)?,
            "oidcUrls" => config.oidc_urls = services(value)?,
            "rekorTlogUrls" => config.rekor_tlog_urls = services(value)?,
            "rekorTlogConfig" => config.rekor_tlog_config = configuration(value)?,
            "tsaUrls" => config.tsa_urls = services(value)?,
            _ => config.tsa_config = configuration(value)?,
        }
    }
    if media_type != MEDIA_TYPE_V02 {
        return Err(TrustError::BadSigningConfig {
            reason: format!("unsupported SigningConfig media type: {media_type}"),
        });
    }
    Ok(config)
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn marshal_error(e: &crate::create::CreateError) -> TrustError {
    TrustError::BadSigningConfig {
        reason: e.to_string(),
    }
}

fn service_json(s: &Service) -> Result<String, TrustError> {
    let mut parts = Vec::new();
    if !s.url.is_empty() {
        parts.push(format!("\"url\":{}", quote(&s.url)));
    }
    if s.major_api_version != 0 {
        parts.push(format!("\"majorApiVersion\":{}", s.major_api_version));
    }
    // sigstore-go always writes a start (Go's zero time when there is none) and an end only
    // when it is set.
    let start = s.valid_for.start.unwrap_or(Instant {
        secs: GO_ZERO_SECS,
        nanos: 0,
    });
    let mut valid_for = format!(
        "\"start\":{}",
        quote(&start.protojson().map_err(|e| marshal_error(&e))?)
    );
    if let Some(end) = s.valid_for.end {
        valid_for.push_str(&format!(
            ",\"end\":{}",
            quote(&end.protojson().map_err(|e| marshal_error(&e))?)
        ));
    }
    parts.push(format!("\"validFor\":{{{valid_for}}}"));
    if !s.operator.is_empty() {
        parts.push(format!("\"operator\":{}", quote(&s.operator)));
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

fn configuration_json(c: &ServiceConfiguration) -> String {
    let mut parts = Vec::new();
    match c.selector {
        Selector::Undefined => {}
        other => match other.name() {
            Some(name) => parts.push(format!("\"selector\":{}", quote(name))),
            None => parts.push(format!("\"selector\":{}", other.number())),
        },
    }
    if c.count != 0 {
        parts.push(format!("\"count\":{}", c.count));
    }
    format!("{{{}}}", parts.join(","))
}

/// The protojson sigstore-go writes for a config built by `NewSigningConfig` (both selector
/// configurations always present), compact and without protojson's random spaces.
pub(super) fn marshal(config: &SigningConfig) -> Result<String, TrustError> {
    let list = |name: &str, services: &[Service]| -> Result<Option<String>, TrustError> {
        if services.is_empty() {
            return Ok(None);
        }
        let items = services
            .iter()
            .map(service_json)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(format!("\"{name}\":[{}]", items.join(","))))
    };
    let mut parts = vec![format!("\"mediaType\":{}", quote(MEDIA_TYPE_V02))];
    parts.extend(list("caUrls", &config.ca_urls)?);
    parts.extend(list("oidcUrls", &config.oidc_urls)?);
    parts.extend(list("rekorTlogUrls", &config.rekor_tlog_urls)?);
    parts.push(format!(
        "\"rekorTlogConfig\":{}",
        configuration_json(&config.rekor_tlog_config)
    ));
    parts.extend(list("tsaUrls", &config.tsa_urls)?);
    parts.push(format!(
        "\"tsaConfig\":{}",
        configuration_json(&config.tsa_config)
    ));
    Ok(format!("{{{}}}", parts.join(",")))
}
