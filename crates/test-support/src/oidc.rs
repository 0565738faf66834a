//! A test OpenID Connect issuer on `127.0.0.1` ([`OidcIssuer`]), for keyless signing tests.
//!
//! - `GET /.well-known/openid-configuration`: the discovery document (`issuer` is
//!   [`OidcIssuer::url`], `code_challenge_methods_supported: ["S256"]`).
//! - `GET /keys`: the JWKS, one RSA 2048 key (`kid`, `alg: RS256`, `use: sig`).
//! - `GET /auth`: approves at once: `302` to `redirect_uri?code=..&state=..`. Requires an S256
//!   `code_challenge`.
//! - `POST /token`: `authorization_code` (checks the `code_verifier` against the S256 challenge,
//!   the `redirect_uri` and client id), `urn:ietf:params:oauth:grant-type:device_code` (answers
//!   `slow_down` / `authorization_pending` first as [`OidcIssuer::set_device_script`] says, then
//!   checks the verifier), `client_credentials` (checks [`OidcIssuer::CLIENT_SECRET`]).
//! - `POST /device/code`: RFC 8628 device authorization (`interval` 1).
//! - `GET /github/token?api-version=2.0&audience=A`: GitHub Actions' token endpoint (bearer
//!   [`OidcIssuer::github_request_token`]), answers `{"count": 1, "value": JWT}` with `aud` = A.
//! - `POST /buildkite/v3/jobs/{job}/oidc/tokens`: the Buildkite agent API (`Authorization:
//!   Token ..`, body `{"audience": A}`), answers `{"token": JWT}`.
//!
//! ID tokens are RS256 JWTs (header `kid`, `typ: JWT`) that an OIDC verifier such as Fulcio's
//! checks against the JWKS: `iss`, `sub`, `aud` (`sigstore` unless asked), `iat`, `nbf`, `exp`
//! ([`OidcIssuer::set_lifetime`]; negative for expired tokens), `email` + `email_verified` for an
//! [`Identity::Email`], and `nonce` when the authorization request had one.
//! [`OidcIssuer::set_answer`] makes the token endpoints misbehave (hostile issuer tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::server::{self, Body, ServerHandle};

/// Who the issued tokens name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// `email` (verified) plus an opaque `sub`, as Dex / Google / sigstore's issuer issue.
    Email(String),
    /// `sub` only (e.g. a CI workflow or a SPIFFE ID).
    Subject(String),
}

/// What the token endpoints (`/token`, `/github/token`, `/buildkite/..`) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A correct answer.
    Normal,
    /// `200` JSON without an ID token.
    NoIdToken,
    /// `200` with a body that is not JSON.
    BadJson,
    /// `200` JSON whose body is `n` bytes long (padding in a field before the token).
    Huge(usize),
    /// The token's `nonce` claim is not the one requested.
    WrongNonce,
    /// The token's signature is not the issuer key's.
    BadSignature,
    /// `500` with the given body.
    ServerError(String),
}

struct Pending {
    challenge: String,
    redirect_uri: String,
    client_id: String,
    nonce: Option<String>,
}

struct Device {
    challenge: String,
    client_id: String,
}

struct State {
    url: String,
    key: RsaKeyPair,
    kid: String,
    rng: SystemRandom,
    identity: Mutex<Identity>,
    lifetime: Mutex<i64>,
    answer: Mutex<Answer>,
    codes: Mutex<HashMap<String, Pending>>,
    devices: Mutex<HashMap<String, Device>>,
    /// Errors the device grant answers before the token, in order.
    device_script: Mutex<Vec<&'static str>>,
    device_polls: Mutex<Vec<Instant>>,
    requests: Mutex<Vec<String>>,
}

/// A running test OIDC issuer. Dropping it stops the server.
pub struct OidcIssuer {
    state: Arc<State>,
    _server: ServerHandle,
}

/// The key is generated once per test binary (RSA generation is slow in debug builds).
fn issuer_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use aws_lc_rs::encoding::AsDer as _;
        let key = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).expect("generate RSA key");
        key.as_der()
            .expect("PKCS#8 of the RSA key")
            .as_ref()
            .to_vec()
    })
}

impl OidcIssuer {
    /// The client id the flows use by default.
    pub const CLIENT_ID: &'static str = "sigstore";
    /// The secret the `client_credentials` grant accepts.
    pub const CLIENT_SECRET: &'static str = "test-client-secret";

    /// Starts an issuer whose tokens name `alice@example.com`, valid for 10 minutes.
    pub fn start() -> OidcIssuer {
        let (listener, port) = server::bind_loopback();
        let key = RsaKeyPair::from_pkcs8(issuer_key()).expect("RSA key");
        let kid = hex::encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            key.public_key().as_ref(),
        ))[..16]
            .to_owned();
        let state = Arc::new(State {
            url: format!("http://127.0.0.1:{port}"),
            key,
            kid,
            rng: SystemRandom::new(),
            identity: Mutex::new(Identity::Email("alice@example.com".into())),
            lifetime: Mutex::new(600),
            answer: Mutex::new(Answer::Normal),
            codes: Mutex::default(),
            devices: Mutex::default(),
            device_script: Mutex::default(),
            device_polls: Mutex::default(),
            requests: Mutex::default(),
        });
        let handler_state = Arc::clone(&state);
        let server = server::spawn(listener, move |req| {
            let state = Arc::clone(&handler_state);
            async move { handle(&state, req).await }
        });
        OidcIssuer {
            state,
            _server: server,
        }
    }

    /// The issuer URL (`http://127.0.0.1:PORT`), exactly as in the tokens' `iss`.
    pub fn url(&self) -> &str {
        &self.state.url
    }

    /// The `ACTIONS_ID_TOKEN_REQUEST_URL` value (already has a query, as GitHub's does).
    pub fn github_request_url(&self) -> String {
        format!("{}/github/token?api-version=2.0", self.state.url)
    }

    /// The `ACTIONS_ID_TOKEN_REQUEST_TOKEN` value the GitHub endpoint accepts.
    pub fn github_request_token(&self) -> &'static str {
        "gh-request-token"
    }

    /// The `BUILDKITE_AGENT_ENDPOINT` value (the agent API base).
    pub fn buildkite_endpoint(&self) -> String {
        format!("{}/buildkite/v3", self.state.url)
    }

    /// The `BUILDKITE_AGENT_ACCESS_TOKEN` value the Buildkite endpoint accepts.
    pub fn buildkite_agent_token(&self) -> &'static str {
        "bk-agent-token"
    }

    /// The identity of the tokens issued from now on.
    pub fn set_identity(&self, identity: Identity) {
        *self.state.identity.lock().expect("lock") = identity;
    }

    /// Seconds from issue to `exp` of the tokens issued from now on (negative: already expired).
    pub fn set_lifetime(&self, seconds: i64) {
        *self.state.lifetime.lock().expect("lock") = seconds;
    }

    /// How the token endpoints answer from now on.
    pub fn set_answer(&self, answer: Answer) {
        *self.state.answer.lock().expect("lock") = answer;
    }

    /// The device grant answers `slow_down` `slow_downs` times, then `authorization_pending`
    /// `pending` times, before it issues the token.
    pub fn set_device_script(&self, slow_downs: usize, pending: usize) {
        let mut script = vec!["slow_down"; slow_downs];
        script.extend(std::iter::repeat_n("authorization_pending", pending));
        *self.state.device_script.lock().expect("lock") = script;
    }

    /// When each device-grant poll arrived.
    pub fn device_polls(&self) -> Vec<Instant> {
        self.state.device_polls.lock().expect("lock").clone()
    }

    /// `METHOD path` of every request served, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().expect("lock").clone()
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        jwks(&self.state)
    }

    /// A token for the current identity and lifetime, audience `sigstore`.
    pub fn token(&self) -> String {
        mint(&self.state, "sigstore", None)
    }

    /// A token with exactly these claims (anything: for malformed-claim tests).
    pub fn token_with_claims(&self, claims: &Value) -> String {
        sign(&self.state, claims)
    }
}

fn now() -> i64 {
    cosign_types::time::now_unix()
}

fn claims(state: &State, audience: &str, nonce: Option<&str>) -> Value {
    let now = now();
    let lifetime = *state.lifetime.lock().expect("lock");
    let mut claims = json!({
        "iss": state.url,
        "aud": audience,
        "iat": now,
        "nbf": now - 10,
        "exp": now + lifetime,
    });
    match &*state.identity.lock().expect("lock") {
        Identity::Email(email) => {
            claims["sub"] = json!(format!("uid-{}", hex::encode(email.as_bytes())));
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        Identity::Subject(sub) => claims["sub"] = json!(sub),
    }
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    claims
}

fn mint(state: &State, audience: &str, nonce: Option<&str>) -> String {
    sign(state, &claims(state, audience, nonce))
}

fn sign(state: &State, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": state.kid, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; state.key.public_modulus_len()];
    state
        .key
        .sign(
            &RSA_PKCS1_SHA256,
            &state.rng,
            input.as_bytes(),
            &mut signature,
        )
        .expect("sign JWT");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn jwks(state: &State) -> Value {
    let components = PublicKeyComponents::<Vec<u8>>::from(state.key.public_key());
    json!({"keys": [{
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": state.kid,
        "n": URL_SAFE_NO_PAD.encode(&components.n),
        "e": URL_SAFE_NO_PAD.encode(&components.e),
    }]})
}

fn discovery(state: &State) -> Value {
    let u = &state.url;
    json!({
        "issuer": u,
        "authorization_endpoint": format!("{u}/auth"),
        "token_endpoint": format!("{u}/token"),
        "jwks_uri": format!("{u}/keys"),
        "device_authorization_endpoint": format!("{u}/device/code"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email"],
        "grant_types_supported": [
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:device_code",
            "client_credentials"
        ],
    })
}

fn random(state: &State) -> String {
    let mut bytes = [0u8; 16];
    state.rng.fill(&mut bytes).expect("random bytes");
    hex::encode(bytes)
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    server::full(status, "application/json", body.to_string())
}

fn oauth_error(code: &str, description: &str) -> Response<Body> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": code, "error_description": description}),
    )
}

fn params(raw: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(raw).into_owned().collect()
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    state
        .requests
        .lock()
        .expect("lock")
        .push(format!("{} {path}", req.method()));
    let query = params(req.uri().query().unwrap_or("").as_bytes());
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return oauth_error("invalid_request", "body too large"),
    };
    match (method, path.as_str()) {
        (Method::GET, "/.well-known/openid-configuration") => {
            json_response(StatusCode::OK, &discovery(state))
        }
        (Method::GET, "/keys") => json_response(StatusCode::OK, &jwks(state)),
        (Method::GET, "/auth") => authorize(state, &query),
        (Method::POST, "/token") => token(state, &params(&body), authorization.as_deref()),
        (Method::POST, "/device/code") => device_code(state, &params(&body)),
        (Method::GET, "/github/token") => {
            let bearer = authorization.as_deref().and_then(|a| {
                a.strip_prefix("bearer ")
                    .or_else(|| a.strip_prefix("Bearer "))
            });
            if bearer != Some("gh-request-token") {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"message": "bad request token"}),
                );
            }
            let Some(audience) = query.get("audience") else {
                return oauth_error("invalid_request", "no audience");
            };
            let token = mint(state, audience, None);
            answer(state, json!({"count": 1, "value": token}), "value")
        }
        (Method::POST, p)
            if p.starts_with("/buildkite/v3/jobs/") && p.ends_with("/oidc/tokens") =>
        {
            if authorization.as_deref() != Some("Token bk-agent-token") {
                return json_response(StatusCode::UNAUTHORIZED, &json!({"message": "no"}));
            }
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let audience = request["audience"].as_str().unwrap_or("buildkite-agent");
            let token = mint(state, audience, None);
            answer(state, json!({"token": token}), "token")
        }
        _ => server::full(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

fn authorize(state: &State, query: &HashMap<String, String>) -> Response<Body> {
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code" {
        return oauth_error("unsupported_response_type", "code only");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return oauth_error("invalid_request", "PKCE with S256 is required");
    }
    let redirect_uri = get("redirect_uri");
    let Ok(mut location) = url_with_query(&redirect_uri) else {
        return oauth_error("invalid_request", "bad redirect_uri");
    };
    let code = random(state);
    state.codes.lock().expect("lock").insert(
        code.clone(),
        Pending {
            challenge: get("code_challenge"),
            redirect_uri,
            client_id: get("client_id"),
            nonce: query.get("nonce").cloned(),
        },
    );
    location.push_str(
        &form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", &get("state"))
            .finish(),
    );
    Response::builder()
        .status(StatusCode::FOUND)
        .header(hyper::header::LOCATION, location)
        .body(
            http_body_util::Full::new(bytes::Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("redirect")
}

/// `uri` followed by `?` or `&`, ready for more parameters.
fn url_with_query(uri: &str) -> Result<String, ()> {
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err(());
    }
    Ok(format!(
        "{uri}{}",
        if uri.contains('?') { '&' } else { '?' }
    ))
}

fn token(
    state: &State,
    form: &HashMap<String, String>,
    authorization: Option<&str>,
) -> Response<Body> {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(pending) = state.codes.lock().expect("lock").remove(&get("code")) else {
                return oauth_error("invalid_grant", "unknown or used code");
            };
            if s256(&get("code_verifier")) != pending.challenge {
                return oauth_error("invalid_grant", "PKCE verification failed");
            }
            if get("redirect_uri") != pending.redirect_uri {
                return oauth_error("invalid_grant", "redirect_uri does not match");
            }
            let client = basic_client(authorization).unwrap_or_else(|| get("client_id"));
            if client != pending.client_id {
                return oauth_error("invalid_client", "client_id does not match");
            }
            issue(state, &pending.client_id, pending.nonce.as_deref())
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state
                .device_polls
                .lock()
                .expect("lock")
                .push(Instant::now());
            let code = get("device_code");
            if !state.devices.lock().expect("lock").contains_key(&code) {
                return oauth_error("invalid_grant", "unknown device code");
            }
            {
                let mut script = state.device_script.lock().expect("lock");
                if !script.is_empty() {
                    let error = script.remove(0);
                    return oauth_error(error, error);
                }
            }
            let Some(device) = state.devices.lock().expect("lock").remove(&code) else {
                return oauth_error("invalid_grant", "unknown device code");
            };
            if s256(&get("code_verifier")) != device.challenge {
                return oauth_error("invalid_grant", "PKCE verification failed");
            }
            issue(state, &device.client_id, None)
        }
        "client_credentials" => {
            let (client, secret) = match authorization.and_then(basic_pair) {
                Some(pair) => pair,
                None => (get("client_id"), get("client_secret")),
            };
            if secret != OidcIssuer::CLIENT_SECRET {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"error": "invalid_client", "error_description": "bad secret"}),
                );
            }
            issue(state, &client, None)
        }
        _ => oauth_error("unsupported_grant_type", "unsupported grant"),
    }
}

fn basic_pair(authorization: &str) -> Option<(String, String)> {
    let b64 = authorization
        .strip_prefix("Basic ")
        .or_else(|| authorization.strip_prefix("basic "))?;
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (user, password) = raw.split_once(':')?;
    let decode = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(user), decode(password)))
}

fn basic_client(authorization: Option<&str>) -> Option<String> {
    authorization.and_then(basic_pair).map(|(user, _)| user)
}

fn issue(state: &State, client_id: &str, nonce: Option<&str>) -> Response<Body> {
    let answer_kind = state.answer.lock().expect("lock").clone();
    let token = match answer_kind {
        Answer::WrongNonce => mint(state, client_id, Some("not-the-nonce")),
        Answer::BadSignature => {
            let good = mint(state, client_id, nonce);
            let (input, _) = good.rsplit_once('.').expect("three parts");
            format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
        }
        _ => mint(state, client_id, nonce),
    };
    answer(
        state,
        json!({
            "access_token": random(state),
            "token_type": "bearer",
            "expires_in": 300,
            "id_token": token,
        }),
        "id_token",
    )
}

/// `body` as the current [`Answer`] says; `field` is where the token is.
fn answer(state: &State, mut body: Value, field: &str) -> Response<Body> {
    match state.answer.lock().expect("lock").clone() {
        Answer::Normal | Answer::WrongNonce | Answer::BadSignature => {
            json_response(StatusCode::OK, &body)
        }
        Answer::NoIdToken => {
            if let Some(map) = body.as_object_mut() {
                map.remove(field);
            }
            json_response(StatusCode::OK, &body)
        }
        Answer::BadJson => server::full(StatusCode::OK, "application/json", "{\"id_token\": "),
        Answer::Huge(n) => {
            let token = body[field].as_str().unwrap_or_default().to_owned();
            let mut text = String::from("{\"padding\": \"");
            text.push_str(&"a".repeat(n.saturating_sub(text.len() + token.len() + 32)));
            text.push_str(&format!("\", \"{field}\": \"{token}\"}}"));
            server::full(StatusCode::OK, "application/json", text)
        }
        Answer::ServerError(text) => {
            server::full(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", text)
        }
    }
}

fn device_code(state: &State, form: &HashMap<String, String>) -> Response<Body> {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return oauth_error("invalid_request", "PKCE with S256 is required");
    }
    let device_code = random(state);
    state.devices.lock().expect("lock").insert(
        device_code.clone(),
        Device {
            challenge: get("code_challenge"),
            client_id: get("client_id"),
        },
    );
    let verification_uri = format!("{}/device", state.url);
    json_response(
        StatusCode::OK,
        &json!({
            "device_code": device_code,
            "user_code": "ABCD-EFGH",
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code=ABCD-EFGH"),
            "interval": 1,
            "expires_in": 300,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_against_the_jwks() {
        let issuer = OidcIssuer::start();
        let token = issuer.token();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        let jwks = issuer.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(header["kid"], key["kid"]);
        assert_eq!(header["alg"], "RS256");
        let n = URL_SAFE_NO_PAD
            .decode(key["n"].as_str().expect("n"))
            .expect("n");
        let e = URL_SAFE_NO_PAD
            .decode(key["e"].as_str().expect("e"))
            .expect("e");
        let public = aws_lc_rs::signature::RsaPublicKeyComponents { n, e };
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
        public
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &signature,
            )
            .expect("signature verifies");
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["iss"], issuer.url());
        assert_eq!(claims["aud"], "sigstore");
        assert_eq!(claims["email"], "alice@example.com");
    }
}
