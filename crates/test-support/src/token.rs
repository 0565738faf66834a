//! A Docker registry token server (the distribution `auth: token` scheme), in process.
//!
//! - `GET /token?service=..&scope=..[&offline_token=true]` with Basic credentials issues a token
//!   granting the requested actions. Without credentials: a pull-only token when
//!   `anonymous_pull`, else `401`. Wrong credentials: always `401`.
//! - `POST /token` (form body) serves the OAuth2 `password` and `refresh_token` grants and
//!   returns a `refresh_token` (opaque, valid for this server's lifetime).
//!
//! Tokens are ES256 JWTs signed with aws-lc-rs. The header `kid` is the libtrust key ID of the
//! signing key, whose self-signed certificate ([`TokenServer::cert_pem`]) is the registry's
//! `rootcertbundle`. Claims: `iss`, `sub`, `aud` (= service), `exp` (+5 min), `nbf` (-10 s),
//! `iat`, `jti`, and `access` (`[{type, name, actions}]`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData};
use serde::Serialize;

use crate::server::{self, Body, ServerHandle};

/// Token lifetime in seconds.
const TTL: u64 = 300;

/// A running token server.
pub(crate) struct TokenServer {
    /// `http://127.0.0.1:PORT/token`: the realm of the registry's challenge.
    pub realm: String,
    /// PEM of the self-signed certificate of the signing key (the registry's `rootcertbundle`).
    pub cert_pem: String,
    _server: ServerHandle,
}

/// Who may get tokens.
#[derive(Clone)]
pub(crate) struct TokenConfig {
    pub issuer: String,
    pub service: String,
    pub user: String,
    pub password: String,
    pub anonymous_pull: bool,
}

struct State {
    config: TokenConfig,
    key: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
    refresh_tokens: Mutex<HashMap<String, String>>,
}

impl TokenServer {
    /// Generates the signing key and certificate and starts serving on `127.0.0.1:0`.
    pub(crate) fn start(config: TokenConfig) -> TokenServer {
        let key = KeyPair::generate().expect("generate token signing key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, config.issuer.as_str());
        params.distinguished_name = dn;
        let cert_pem = params
            .self_signed(&key)
            .expect("self-sign token cert")
            .pem();
        let kid = libtrust_key_id(&key.subject_public_key_info());
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.serialized_der())
                .expect("load token signing key");
        let state = Arc::new(State {
            config,
            key: signer,
            kid,
            rng: SystemRandom::new(),
            refresh_tokens: Mutex::new(HashMap::new()),
        });
        let (listener, port) = server::bind_loopback();
        let server = server::spawn(listener, move |req| {
            let state = Arc::clone(&state);
            async move { handle(&state, req).await }
        });
        TokenServer {
            realm: format!("http://127.0.0.1:{port}/token"),
            cert_pem,
            _server: server,
        }
    }
}

/// libtrust's key ID: base32 of the first 30 bytes of SHA-256(SPKI DER), in 12 groups of 4
/// separated by colons.
pub(crate) fn libtrust_key_id(spki_der: &[u8]) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki_der);
    let b32 = base32(&hash.as_ref()[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 4648 base32 without padding.
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[derive(Serialize)]
struct Access {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    actions: Vec<String>,
}

/// `repository:test/hello:pull,push` (several may be space-separated in one value).
fn parse_scopes<'a>(scopes: impl Iterator<Item = &'a str>) -> Vec<Access> {
    scopes
        .flat_map(|s| s.split(' '))
        .filter_map(|one| {
            let (kind, rest) = one.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            Some(Access {
                kind: kind.to_owned(),
                name: name.to_owned(),
                actions: actions
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    if req.uri().path() != "/token" {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint");
    }
    match *req.method() {
        Method::GET => {
            let query = req.uri().query().unwrap_or("").to_owned();
            let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let user = match basic_user(state, &req) {
                Credentials::Valid(user) => Some(user),
                Credentials::Invalid => {
                    return error(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED",
                        "wrong credentials",
                    );
                }
                Credentials::Missing => None,
            };
            let offline = param(&params, "offline_token") == Some("true");
            issue(state, user, &params, offline)
        }
        Method::POST => {
            let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "body"),
            };
            let params: Vec<(String, String)> =
                form_urlencoded::parse(&body).into_owned().collect();
            let user = match param(&params, "grant_type") {
                Some("password") => (param(&params, "username") == Some(&state.config.user)
                    && param(&params, "password") == Some(&state.config.password))
                .then(|| state.config.user.clone()),
                Some("refresh_token") => param(&params, "refresh_token").and_then(|t| {
                    state
                        .refresh_tokens
                        .lock()
                        .expect("refresh token lock")
                        .get(t)
                        .cloned()
                }),
                _ => None,
            };
            if user.is_none() {
                return oauth_error("invalid_grant");
            }
            issue(state, user, &params, true)
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "GET or POST"),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

enum Credentials {
    Valid(String),
    Invalid,
    Missing,
}

fn basic_user(state: &State, req: &Request<Incoming>) -> Credentials {
    let Some(value) = req.headers().get(hyper::header::AUTHORIZATION) else {
        return Credentials::Missing;
    };
    let decoded = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    match decoded.as_deref().and_then(|s| s.split_once(':')) {
        Some((user, password))
            if user == state.config.user && password == state.config.password =>
        {
            Credentials::Valid(user.to_owned())
        }
        _ => Credentials::Invalid,
    }
}

fn issue(
    state: &State,
    user: Option<String>,
    params: &[(String, String)],
    want_refresh: bool,
) -> Response<Body> {
    if let Some(service) = param(params, "service")
        && service != state.config.service
    {
        return error(StatusCode::BAD_REQUEST, "UNSUPPORTED", "unknown service");
    }
    let mut access = parse_scopes(
        params
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.as_str()),
    );
    if user.is_none() {
        if !state.config.anonymous_pull {
            return error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "authentication required",
            );
        }
        for a in &mut access {
            a.actions.retain(|action| action == "pull");
        }
    }
    let subject = user.clone().unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let token = sign_jwt(state, &subject, &access, now);
    let mut reply = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": TTL,
        "issued_at": rfc3339(now),
    });
    if want_refresh && let Some(user) = user {
        let refresh = random_hex(&state.rng, 16);
        state
            .refresh_tokens
            .lock()
            .expect("refresh token lock")
            .insert(refresh.clone(), user);
        reply["refresh_token"] = refresh.into();
    }
    server::full(StatusCode::OK, "application/json", reply.to_string())
}

fn sign_jwt(state: &State, subject: &str, access: &[Access], now: u64) -> String {
    #[derive(Serialize)]
    struct Header<'a> {
        typ: &'a str,
        alg: &'a str,
        kid: &'a str,
    }
    #[derive(Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        exp: u64,
        nbf: u64,
        iat: u64,
        jti: String,
        access: &'a [Access],
    }
    let header = Header {
        typ: "JWT",
        alg: "ES256",
        kid: &state.kid,
    };
    let claims = Claims {
        iss: &state.config.issuer,
        sub: subject,
        aud: &state.config.service,
        exp: now + TTL,
        nbf: now - 10,
        iat: now,
        jti: random_hex(&state.rng, 8),
        access,
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("JWT header")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JWT claims"))
    );
    let signature = state
        .key
        .sign(&state.rng, signing_input.as_bytes())
        .expect("sign JWT");
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
}

fn random_hex(rng: &SystemRandom, n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes).expect("random bytes");
    hex::encode(bytes)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    cosign_types::time::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": message }] });
    let mut resp = server::full(status, "application/json", body.to_string());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    resp
}

fn oauth_error(code: &str) -> Response<Body> {
    let body = serde_json::json!({ "error": code });
    server::full(
        StatusCode::UNAUTHORIZED,
        "application/json",
        body.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn key_id_has_12_groups_of_4() {
        let kid = libtrust_key_id(b"any bytes");
        assert_eq!(kid.len(), 12 * 4 + 11);
        assert!(kid.split(':').all(|g| g.len() == 4));
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_763_708_400), "2025-11-21T07:00:00Z");
    }

    #[test]
    fn scopes() {
        let a = parse_scopes(["repository:a/b:pull,push registry:catalog:*"].into_iter());
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].name, "a/b");
        assert_eq!(a[0].actions, ["pull", "push"]);
        assert_eq!(a[1].kind, "registry");
        let a = parse_scopes(["repository:localhost:5000/x:pull"].into_iter());
        assert_eq!(a[0].name, "localhost:5000/x");
    }
}
