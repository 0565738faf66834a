//! The `spiffe` provider: a JWT-SVID from the SPIFFE Workload API (go-spiffe's
//! `workloadapi.FetchJWTSVID`), a unary gRPC call over HTTP/2 on a unix socket.
//!
//! The request is `POST /SpiffeWorkloadAPI/FetchJWTSVID` with `content-type: application/grpc`,
//! `te: trailers` and the security header `workload.spiffe.io: true`; its one message is a
//! `JWTSVIDRequest { repeated string audience = 1; string spiffe_id = 2; }` (no SPIFFE ID: any).
//! The answer's `JWTSVIDResponse { repeated JWTSVID svids = 1; }` holds
//! `JWTSVID { string spiffe_id = 1; string svid = 2; string hint = 3; }`; the first SVID is
//! checked as go-spiffe's `jwtsvid.ParseInsecure` does (no signature check: the agent is
//! trusted, and Fulcio verifies the token) and returned as is.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::{Buf as _, Bytes};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::token::sanitize;

/// Go cosign's default Workload API socket (`pkg/providers/spiffe`).
pub const DEFAULT_SOCKET_PATH: &str = "/tmp/spire-agent/public/api.sock";

/// The gRPC method.
pub const FETCH_JWT_SVID_PATH: &str = "/SpiffeWorkloadAPI/FetchJWTSVID";

/// The largest answer read (gRPC's default receive limit).
const MAX_MESSAGE: usize = 4 << 20;

/// How long the whole call may take (Go has no limit of its own).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// JWT-SVID signature algorithms go-spiffe accepts.
const ALLOWED_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
];

/// go-jose's default clock leeway for `exp`, `nbf` and `iat`.
const LEEWAY: i64 = 60;

// ---- protobuf ---------------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_string(out: &mut Vec<u8>, field: u32, value: &str) {
    put_varint(out, u64::from(field) << 3 | 2);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value.as_bytes());
}

/// `JWTSVIDRequest` (proto3: an empty `spiffe_id` is not written).
pub fn encode_request(audience: &[&str], spiffe_id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for a in audience {
        put_string(&mut out, 1, a);
    }
    if !spiffe_id.is_empty() {
        put_string(&mut out, 2, spiffe_id);
    }
    out
}

/// One field of a protobuf message: its number and, for length-delimited fields, the bytes.
pub enum Field<'a> {
    /// Wire type 2.
    Bytes(u32, &'a [u8]),
    /// Any other wire type (skipped).
    Other(u32),
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = buf.split_first() else {
            return Err("truncated varint".into());
        };
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

/// Splits a protobuf message into its fields.
pub fn fields(mut buf: &[u8]) -> Result<Vec<Field<'_>>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let number = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        if number == 0 {
            return Err("field number 0".into());
        }
        let skip = |buf: &mut &[u8], n: usize| -> Result<(), String> {
            if buf.len() < n {
                return Err("truncated field".into());
            }
            *buf = &buf[n..];
            Ok(())
        };
        match key & 7 {
            0 => {
                varint(&mut buf)?;
                out.push(Field::Other(number));
            }
            1 => {
                skip(&mut buf, 8)?;
                out.push(Field::Other(number));
            }
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| "length out of range")?;
                if buf.len() < len {
                    return Err("truncated field".into());
                }
                let (value, rest) = buf.split_at(len);
                buf = rest;
                out.push(Field::Bytes(number, value));
            }
            5 => {
                skip(&mut buf, 4)?;
                out.push(Field::Other(number));
            }
            other => return Err(format!("unsupported wire type {other}")),
        }
    }
    Ok(out)
}

fn string(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "a string field is not UTF-8".to_owned())
}

/// One `JWTSVID` of a response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwtSvid {
    /// `spiffe_id`.
    pub spiffe_id: String,
    /// `svid`: the JWT.
    pub svid: String,
    /// `hint`.
    pub hint: String,
}

/// Decodes a `JWTSVIDResponse`.
pub fn decode_response(message: &[u8]) -> Result<Vec<JwtSvid>, String> {
    let mut svids = Vec::new();
    for field in fields(message)? {
        if let Field::Bytes(1, bytes) = field {
            let mut svid = JwtSvid::default();
            for inner in fields(bytes)? {
                match inner {
                    Field::Bytes(1, v) => svid.spiffe_id = string(v)?,
                    Field::Bytes(2, v) => svid.svid = string(v)?,
                    Field::Bytes(3, v) => svid.hint = string(v)?,
                    _ => {}
                }
            }
            svids.push(svid);
        }
    }
    Ok(svids)
}

/// A gRPC message frame (uncompressed).
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(0);
    out.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(message);
    out
}

/// grpc-go's name of a status code.
fn code_name(code: u32) -> String {
    const NAMES: [&str; 17] = [
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    NAMES
        .get(code as usize)
        .map_or_else(|| format!("Code({code})"), |n| (*n).to_owned())
}

fn rpc_error(code: u32, desc: &str) -> String {
    format!(
        "rpc error: code = {} desc = {}",
        code_name(code),
        sanitize(desc)
    )
}

/// `grpc-message` is percent-encoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- the call ---------------------------------------------------------------------------------

/// Fetches a JWT-SVID for `audience` from the Workload API on `socket`, checked as go-spiffe's
/// `FetchJWTSVID` checks it; the token is returned as is.
pub async fn fetch_jwt_svid(socket: &Path, audience: &str) -> Result<String, String> {
    match tokio::time::timeout(CALL_TIMEOUT, call(socket, audience)).await {
        Ok(result) => result,
        Err(_) => Err(rpc_error(4, "context deadline exceeded")),
    }
}

async fn call(socket: &Path, audience: &str) -> Result<String, String> {
    let unavailable = |detail: String| {
        rpc_error(
            14,
            &format!("connection error: dial unix {}: {detail}", socket.display()),
        )
    };
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| unavailable(format!("HTTP/2 handshake: {e}")))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = async {
        let body = frame(&encode_request(&[audience], ""));
        let request = hyper::Request::post(format!("http://localhost{FETCH_JWT_SVID_PATH}"))
            .header(hyper::header::CONTENT_TYPE, "application/grpc")
            .header(hyper::header::TE, "trailers")
            .header(hyper::header::USER_AGENT, "cosign-rs grpc")
            .header("workload.spiffe.io", "true")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| rpc_error(13, &e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| rpc_error(14, &e.to_string()))?;
        read_answer(response).await
    }
    .await;
    driver.abort();
    let svids = result?;
    let first = svids
        .into_iter()
        .next()
        .ok_or_else(|| "there were no SVIDs in the response".to_owned())?;
    check_svid(&first.svid, &[audience], crate::oidc::now_unix())?;
    Ok(first.svid)
}

async fn read_answer(
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<Vec<JwtSvid>, String> {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if status != hyper::StatusCode::OK {
        return Err(rpc_error(
            2,
            &format!("unexpected HTTP status code received from server: {status}"),
        ));
    }
    if !content_type.starts_with("application/grpc") {
        return Err(rpc_error(
            2,
            &format!("unexpected content-type {content_type:?}"),
        ));
    }
    let mut body = response.into_body();
    let mut data = Vec::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| rpc_error(13, &e.to_string()))?;
        match frame.into_data() {
            Ok(mut chunk) => {
                if data.len() + chunk.remaining() > MAX_MESSAGE + 5 {
                    return Err(rpc_error(8, "the answer is too large"));
                }
                while chunk.has_remaining() {
                    let piece = chunk.chunk().to_vec();
                    chunk.advance(piece.len());
                    data.extend_from_slice(&piece);
                }
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    // A trailers-only answer carries the status in the headers.
    let status_map = trailers.as_ref().unwrap_or(&headers);
    let Some(code) = status_map.get("grpc-status") else {
        return Err(rpc_error(
            13,
            "server closed the stream without sending trailers",
        ));
    };
    let code: u32 = code
        .to_str()
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| rpc_error(13, "malformed grpc-status"))?;
    if code != 0 {
        let message = status_map
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .map(percent_decode)
            .unwrap_or_default();
        return Err(rpc_error(code, &message));
    }
    if data.len() < 5 {
        return Err(rpc_error(13, "the answer holds no message"));
    }
    if data[0] != 0 {
        return Err(rpc_error(
            13,
            "the answer is compressed, which was not asked for",
        ));
    }
    let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
    if data.len() != 5 + len {
        return Err(rpc_error(13, "the answer is not exactly one gRPC message"));
    }
    decode_response(&data[5..]).map_err(|e| {
        rpc_error(
            13,
            &format!("grpc: failed to unmarshal the received message: {e}"),
        )
    })
}

// ---- the JWT-SVID -----------------------------------------------------------------------------

fn jwtsvid_err(detail: impl std::fmt::Display) -> String {
    format!("jwtsvid: {detail}")
}

/// Whether `id` is a SPIFFE ID (`spiffe://trust-domain[/path]`, spiffeid's rules).
pub fn valid_spiffe_id(id: &str) -> Result<(), String> {
    let rest = id
        .strip_prefix("spiffe://")
        .ok_or("scheme is missing or invalid")?;
    let (td, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if td.is_empty() {
        return Err("trust domain is missing".into());
    }
    if !td
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(
            "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores"
                .into(),
        );
    }
    if !path.is_empty() {
        for segment in path[1..].split('/') {
            if segment.is_empty() {
                return Err("path cannot contain empty segments".into());
            }
            if segment == "." || segment == ".." {
                return Err("path cannot contain dot segments".into());
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err(
                    "path segment characters are limited to letters, numbers, dots, dashes, and underscores"
                        .into(),
                );
            }
        }
    }
    Ok(())
}

/// go-spiffe's `jwtsvid.ParseInsecure`: a JWS of an allowed algorithm, `typ` absent or
/// `JWT`/`JOSE`, a SPIFFE ID `sub`, an `exp`, one of `audience` in `aud`, and the times valid
/// (with go-jose's minute of leeway). The signature is not checked.
pub fn check_svid(token: &str, audience: &[&str], now: i64) -> Result<(), String> {
    let parse_err = || jwtsvid_err("unable to parse JWT token");
    let (header, _, payload_b64, _) =
        super::token::split_jws(token.trim()).ok_or_else(parse_err)?;
    if !ALLOWED_ALGS.contains(&header["alg"].as_str().unwrap_or_default()) {
        return Err(parse_err());
    }
    if let Some(typ) = header.get("typ")
        && typ.as_str() != Some("JWT")
        && typ.as_str() != Some("JOSE")
    {
        return Err(jwtsvid_err(
            "token header type not equal to either JWT or JOSE",
        ));
    }
    let claims: serde_json::Value = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(serde_json::Value::is_object)
        .ok_or_else(|| jwtsvid_err("unable to get claims from token"))?;
    let subject = claims["sub"].as_str().unwrap_or_default();
    if subject.is_empty() {
        return Err(jwtsvid_err("token missing subject claim"));
    }
    let Some(exp) = claims["exp"].as_f64() else {
        return Err(jwtsvid_err("token missing exp claim"));
    };
    valid_spiffe_id(subject)
        .map_err(|e| jwtsvid_err(format!("token has an invalid subject claim: {e}")))?;
    let aud: Vec<String> = match &claims["aud"] {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if !audience.iter().any(|want| aud.iter().any(|a| a == want)) {
        return Err(jwtsvid_err(format!(
            "expected audience in {audience:?} (audience={:?})",
            aud.iter().map(|a| sanitize(a)).collect::<Vec<_>>()
        )));
    }
    let now = now as f64;
    if let Some(nbf) = claims["nbf"].as_f64()
        && now + (LEEWAY as f64) < nbf
    {
        return Err("go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)".into());
    }
    if now - (LEEWAY as f64) > exp {
        return Err(jwtsvid_err("token has expired"));
    }
    if let Some(iat) = claims["iat"].as_f64()
        && now + (LEEWAY as f64) < iat
    {
        return Err(
            "go-jose/go-jose/jwt: validation field, token issued in the future (iat)".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding_is_protobuf() {
        assert_eq!(
            encode_request(&["sigstore"], ""),
            b"\x0a\x08sigstore".to_vec()
        );
        assert_eq!(
            encode_request(&["a", "b"], "spiffe://x"),
            b"\x0a\x01a\x0a\x01b\x12\x0aspiffe://x".to_vec()
        );
    }

    #[test]
    fn response_decoding_skips_unknown_fields() {
        let mut svid = Vec::new();
        put_string(&mut svid, 1, "spiffe://td/w");
        put_string(&mut svid, 2, "a.b.c");
        svid.extend_from_slice(&[0x20, 0x96, 0x01]); // field 4, varint
        put_string(&mut svid, 3, "h");
        let mut message = Vec::new();
        put_varint(&mut message, 1 << 3 | 2);
        put_varint(&mut message, svid.len() as u64);
        message.extend_from_slice(&svid);
        message.extend_from_slice(&[0x15, 1, 2, 3, 4]); // field 2, fixed32
        let got = decode_response(&message).unwrap_or_default();
        assert_eq!(
            got,
            [JwtSvid {
                spiffe_id: "spiffe://td/w".into(),
                svid: "a.b.c".into(),
                hint: "h".into()
            }]
        );
        assert!(decode_response(&[0x0a, 0x05, 1]).is_err(), "truncated");
        assert!(decode_response(&[0x0b]).is_err(), "wire type 3");
    }

    #[test]
    fn spiffe_ids_follow_spiffeid() {
        assert!(valid_spiffe_id("spiffe://example.org/ns/default/sa/x").is_ok());
        assert!(valid_spiffe_id("spiffe://example.org").is_ok());
        for bad in [
            "https://example.org/x",
            "spiffe:///x",
            "spiffe://Example.org/x",
            "spiffe://example.org/",
            "spiffe://example.org//x",
            "spiffe://example.org/./x",
            "spiffe://example.org/x y",
        ] {
            assert!(valid_spiffe_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("no%20identity%3A x"), "no identity: x");
        assert_eq!(percent_decode("trailing%2"), "trailing%2");
    }
}
