//! Fakes of the services behind Go cosign's `spiffe` and `google-*` ambient OIDC providers,
//! written from the public API documentation and checking every request.
//!
//! [`FakeWorkloadApi`]: the SPIFFE Workload API (`workload.proto`) on a unix socket, real gRPC
//! over HTTP/2 (h2c with prior knowledge). `POST /SpiffeWorkloadAPI/FetchJWTSVID` must carry
//! `content-type: application/grpc`, `te: trailers` and the security header
//! `workload.spiffe.io: true`, and one uncompressed message `JWTSVIDRequest` with at least one
//! audience. It answers `JWTSVIDResponse` with the SVIDs set by the test and `grpc-status: 0`
//! in the trailers, or a trailers-only error status (`InvalidArgument` for a bad request, as
//! SPIRE's agent does; `PermissionDenied` "no identity issued" without SVIDs).
//!
//! [`FakeGoogle`]: one plain-HTTP server on `127.0.0.1` playing
//! - the GCE metadata server: `GET /` answers `Metadata-Flavor: Google` (the `OnGCE` probe);
//!   `GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=A&format=full`
//!   (an ID token for `A`) and `.../default/token?scopes=S` (an access token; `S` must name
//!   `cloud-platform`), both requiring `Metadata-Flavor: Google` (else `403`, as the real one);
//! - Google's OAuth 2.0 token endpoint `POST /token`: the JWT bearer grant (an RS256 assertion
//!   signed by the service account's key, `kid` its key id, `iss` the account, `aud` this token
//!   URI, `iat`/`exp` at most an hour apart) with either `target_audience` (answers an
//!   `id_token`) or a `scope` naming `cloud-platform` (answers an `access_token`), and the
//!   `refresh_token` grant of the authorized user (client id, secret and refresh token checked);
//! - the IAM Credentials API's `POST /v1/projects/-/serviceAccounts/{email}:generateIdToken`
//!   (`Authorization: Bearer` an access token this fake issued, JSON body with `audience` and
//!   `includeEmail`; unknown accounts get `403 PERMISSION_DENIED`).
//!
//! The ID tokens come from a function the test sets (e.g. the test OIDC issuer's tokens).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::rt;
use crate::server::{self, Body, ServerHandle};

/// Makes the ID token for an audience.
pub type TokenSource = Arc<dyn Fn(&str) -> String + Send + Sync>;

fn placeholder_token(audience: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({ "aud": audience, "sub": "fake" }).to_string());
    format!("{header}.{claims}.c2ln")
}

// ---- SPIFFE Workload API ----------------------------------------------------------------------

/// One `FetchJWTSVID` request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvidRequest {
    /// `audience`.
    pub audience: Vec<String>,
    /// `spiffe_id`.
    pub spiffe_id: String,
}

#[derive(Default)]
struct WorkloadState {
    /// `(spiffe_id, svid)` answered.
    svids: Vec<(String, String)>,
    /// A status answered instead.
    error: Option<(u32, String)>,
    requests: Vec<SvidRequest>,
    violations: Vec<String>,
}

/// A fake SPIFFE Workload API; see the module documentation. Dropping it stops the server.
pub struct FakeWorkloadApi {
    state: Arc<Mutex<WorkloadState>>,
    socket: PathBuf,
    _dir: tempfile::TempDir,
    _server: ServerHandle,
}

impl FakeWorkloadApi {
    /// Starts the server on a socket in a fresh temporary directory; it has no SVIDs yet.
    pub fn start() -> FakeWorkloadApi {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("agent.sock");
        let state = Arc::new(Mutex::new(WorkloadState::default()));
        let handle = rt::handle();
        let listener = {
            let _guard = handle.enter();
            tokio::net::UnixListener::bind(&socket).expect("bind the workload API socket")
        };
        let st = Arc::clone(&state);
        let task = handle.spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let st = Arc::clone(&st);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let st = Arc::clone(&st);
                        async move { Ok::<_, Infallible>(workload_api(&st, req).await) }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        FakeWorkloadApi {
            state,
            socket,
            _dir: dir,
            _server: ServerHandle::from_task(task),
        }
    }

    /// The socket's path (for `SPIFFE_ENDPOINT_SOCKET`).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The SVIDs answered, `(spiffe_id, JWT)`, in order.
    pub fn set_svids(&self, svids: Vec<(String, String)>) {
        self.state.lock().expect("lock").svids = svids;
    }

    /// Answers the gRPC status `code` with `message` instead.
    pub fn set_error(&self, code: u32, message: &str) {
        self.state.lock().expect("lock").error = Some((code, message.to_owned()));
    }

    /// The requests received.
    pub fn requests(&self) -> Vec<SvidRequest> {
        self.state.lock().expect("lock").requests.clone()
    }

    /// What was wrong with the requests (empty when all were well-formed).
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().expect("lock").violations.clone()
    }
}

fn grpc_status(code: u32, message: &str) -> Response<Body> {
    let encoded: String = message
        .bytes()
        .map(|b| {
            if (0x20..0x7f).contains(&b) && b != b'%' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/grpc")
        .header("grpc-status", code.to_string())
        .header("grpc-message", encoded)
        .body(
            Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("build response")
}

fn read_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// `JWTSVIDRequest`: audience (1) and spiffe_id (2), both strings; nothing else is expected.
fn parse_svid_request(mut buf: &[u8]) -> Result<SvidRequest, String> {
    let mut request = SvidRequest {
        audience: Vec::new(),
        spiffe_id: String::new(),
    };
    while !buf.is_empty() {
        let key = read_varint(&mut buf).ok_or("bad field key")?;
        if key & 7 != 2 {
            return Err(format!("field {} has wire type {}", key >> 3, key & 7));
        }
        let len = read_varint(&mut buf).ok_or("bad length")? as usize;
        if buf.len() < len {
            return Err("truncated field".into());
        }
        let (value, rest) = buf.split_at(len);
        buf = rest;
        let value = String::from_utf8(value.to_vec()).map_err(|_| "a string is not UTF-8")?;
        match key >> 3 {
            1 => request.audience.push(value),
            2 => request.spiffe_id = value,
            other => return Err(format!("unknown field {other}")),
        }
    }
    Ok(request)
}

fn put_bytes(out: &mut Vec<u8>, field: u64, value: &[u8]) {
    let mut v = field << 3 | 2;
    let put = |out: &mut Vec<u8>, mut v: u64| {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    };
    put(out, v);
    v = value.len() as u64;
    put(out, v);
    out.extend_from_slice(value);
}

async fn workload_api(state: &Mutex<WorkloadState>, req: Request<Incoming>) -> Response<Body> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut problems = Vec::new();
    if req.version() != hyper::Version::HTTP_2 {
        problems.push(format!("HTTP version {:?}", req.version()));
    }
    if req.method() != Method::POST {
        problems.push(format!("method {}", req.method()));
    }
    if req.uri().path() != "/SpiffeWorkloadAPI/FetchJWTSVID" {
        problems.push(format!("path {}", req.uri().path()));
    }
    let content_type = header("content-type");
    if content_type != "application/grpc" && content_type != "application/grpc+proto" {
        problems.push(format!("content-type {content_type:?}"));
    }
    if header("te") != "trailers" {
        problems.push(format!("te {:?}", header("te")));
    }
    let security_header = header("workload.spiffe.io") == "true";
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let request = if body.len() < 5 || body[0] != 0 {
        Err("the body is not one uncompressed gRPC message".to_owned())
    } else {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        if body.len() != 5 + len {
            Err("the body is not exactly one gRPC message".to_owned())
        } else {
            parse_svid_request(&body[5..])
        }
    };
    let mut st = state.lock().expect("lock");
    if !security_header {
        // SPIRE's agent refuses calls without the header.
        st.violations
            .push("no workload.spiffe.io: true header".into());
        return grpc_status(3, "security header missing from request");
    }
    let request = request.unwrap_or_else(|e| {
        problems.push(e);
        SvidRequest {
            audience: Vec::new(),
            spiffe_id: String::new(),
        }
    });
    if !problems.is_empty() {
        let text = problems.join("; ");
        st.violations.push(text.clone());
        return grpc_status(3, &text);
    }
    st.requests.push(request.clone());
    if request.audience.is_empty() {
        st.violations.push("no audience".into());
        return grpc_status(3, "audience must be specified");
    }
    if let Some((code, message)) = st.error.clone() {
        return grpc_status(code, &message);
    }
    let svids: Vec<(String, String)> = st
        .svids
        .iter()
        .filter(|(id, _)| request.spiffe_id.is_empty() || *id == request.spiffe_id)
        .cloned()
        .collect();
    if svids.is_empty() {
        return grpc_status(7, "no identity issued");
    }
    let mut message = Vec::new();
    for (id, svid) in &svids {
        let mut inner = Vec::new();
        put_bytes(&mut inner, 1, id.as_bytes());
        put_bytes(&mut inner, 2, svid.as_bytes());
        put_bytes(&mut message, 1, &inner);
    }
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    let mut trailers = hyper::HeaderMap::new();
    trailers.insert("grpc-status", hyper::header::HeaderValue::from_static("0"));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/grpc")
        .body(
            Full::new(Bytes::from(framed))
                .map_err(|never| match never {})
                .with_trailers(async move { Some(Ok(trailers)) })
                .boxed(),
        )
        .expect("build response")
}

// ---- Google -----------------------------------------------------------------------------------

struct GoogleState {
    url: String,
    sa_email: String,
    sa_key_id: String,
    sa_key: PublicKey,
    user: (String, String, String),
    access_tokens: Vec<String>,
    id_tokens: TokenSource,
    metadata_flavor: bool,
    requests: Vec<String>,
    violations: Vec<String>,
    generate_requests: Vec<Value>,
}

/// A fake GCE metadata server, OAuth 2.0 token endpoint and IAM Credentials API; see the
/// module documentation. Dropping it stops the server.
pub struct FakeGoogle {
    state: Arc<Mutex<GoogleState>>,
    port: u16,
    dir: tempfile::TempDir,
    _server: ServerHandle,
}

/// The service account this fake knows.
pub const FAKE_SERVICE_ACCOUNT: &str = "signer@test-project.iam.gserviceaccount.com";

fn service_account_key() -> &'static PrivateKey {
    static KEY: std::sync::OnceLock<PrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyType::Rsa { bits: 2048 }).expect("RSA key"))
}

impl FakeGoogle {
    /// Starts the fake (a GCE metadata server too: the probe answers `Metadata-Flavor: Google`).
    /// It writes a service-account and an authorized-user credentials file whose `token_uri` is
    /// this fake's.
    pub fn start() -> FakeGoogle {
        let (listener, port) = server::bind_loopback();
        let key = service_account_key();
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(GoogleState {
            url: url.clone(),
            sa_email: FAKE_SERVICE_ACCOUNT.into(),
            sa_key_id: "fake-key-id-0123".into(),
            sa_key: key.public_key(),
            user: (
                "fake-client.apps.googleusercontent.com".into(),
                "fake-client-secret".into(),
                "fake-refresh-token".into(),
            ),
            access_tokens: Vec::new(),
            id_tokens: Arc::new(placeholder_token),
            metadata_flavor: true,
            requests: Vec::new(),
            violations: Vec::new(),
            generate_requests: Vec::new(),
        }));
        let st = Arc::clone(&state);
        let server = server::spawn(listener, move |req| {
            let st = Arc::clone(&st);
            async move { google(&st, req).await }
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let der = key.to_pkcs8_der().expect("PKCS#8");
        let sa = json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "fake-key-id-0123",
            "private_key": crate::kms_fakes::pem("PRIVATE KEY", &der),
            "client_email": FAKE_SERVICE_ACCOUNT,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{url}/token"),
        });
        std::fs::write(dir.path().join("sa.json"), sa.to_string()).expect("write sa.json");
        let user = json!({
            "type": "authorized_user",
            "client_id": "fake-client.apps.googleusercontent.com",
            "client_secret": "fake-client-secret",
            "refresh_token": "fake-refresh-token",
            "token_uri": format!("{url}/token"),
        });
        std::fs::write(dir.path().join("user.json"), user.to_string()).expect("write user.json");
        FakeGoogle {
            state,
            port,
            dir,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT` (the IAM Credentials endpoint, the token URI's root).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT` (for `GCE_METADATA_HOST` or the metadata IP).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A service-account credentials file.
    pub fn service_account_file(&self) -> PathBuf {
        self.dir.path().join("sa.json")
    }

    /// An authorized-user (gcloud login) credentials file.
    pub fn authorized_user_file(&self) -> PathBuf {
        self.dir.path().join("user.json")
    }

    /// Where the ID tokens come from.
    pub fn set_id_tokens(&self, source: TokenSource) {
        self.state.lock().expect("lock").id_tokens = source;
    }

    /// Whether the `OnGCE` probe (`GET /`) answers `Metadata-Flavor: Google`.
    pub fn set_metadata_flavor(&self, on: bool) {
        self.state.lock().expect("lock").metadata_flavor = on;
    }

    /// `METHOD path?query` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("lock").requests.clone()
    }

    /// The JSON bodies of the `generateIdToken` requests.
    pub fn generate_requests(&self) -> Vec<Value> {
        self.state.lock().expect("lock").generate_requests.clone()
    }

    /// What was wrong with the requests.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().expect("lock").violations.clone()
    }
}

fn json_reply(status: StatusCode, v: &Value) -> Response<Body> {
    server::full(status, "application/json", v.to_string())
}

fn google_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json_reply(
        status,
        &json!({ "error": { "code": status.as_u16(), "message": message, "status": code } }),
    )
}

async fn google(state: &Mutex<GoogleState>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let flavor = header("metadata-flavor");
    let content_type = header("content-type");
    let authorization = header("authorization");
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut st = state.lock().expect("lock");
    let line = match req_query(&query) {
        q if q.is_empty() => format!("{method} {path}"),
        q => format!("{method} {path}?{q}"),
    };
    st.requests.push(line);
    let violation = |st: &mut GoogleState, text: String| st.violations.push(text);
    if path.starts_with("/computeMetadata/") && flavor != "Google" {
        violation(&mut st, format!("{path} without Metadata-Flavor: Google"));
        return server::full(
            StatusCode::FORBIDDEN,
            "text/html",
            "Missing Metadata-Flavor",
        );
    }
    match (method, path.as_str()) {
        (Method::GET, "/") => {
            let mut reply = server::full(StatusCode::OK, "application/text", "computeMetadata/\n");
            if st.metadata_flavor {
                reply.headers_mut().insert(
                    "metadata-flavor",
                    hyper::header::HeaderValue::from_static("Google"),
                );
            }
            reply
        }
        (Method::GET, "/computeMetadata/v1/instance/service-accounts/default/identity") => {
            let audience = query.get("audience").cloned().unwrap_or_default();
            if audience.is_empty() || query.get("format").map(String::as_str) != Some("full") {
                violation(&mut st, format!("identity query {query:?}"));
                return server::full(StatusCode::BAD_REQUEST, "text/plain", "bad query");
            }
            let token = (st.id_tokens)(&audience);
            server::full(StatusCode::OK, "text/html", token)
        }
        (Method::GET, "/computeMetadata/v1/instance/service-accounts/default/token") => {
            let scopes = query.get("scopes").cloned().unwrap_or_default();
            if !scopes
                .split(',')
                .any(|s| s == "https://www.googleapis.com/auth/cloud-platform")
            {
                violation(&mut st, format!("token scopes {scopes:?}"));
                return server::full(StatusCode::BAD_REQUEST, "text/plain", "bad scopes");
            }
            let token = issue_access_token(&mut st);
            json_reply(
                StatusCode::OK,
                &json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" }),
            )
        }
        (Method::POST, "/token") => {
            if !content_type.starts_with("application/x-www-form-urlencoded") {
                violation(&mut st, format!("token content-type {content_type:?}"));
            }
            let form: HashMap<String, String> =
                form_urlencoded::parse(&body).into_owned().collect();
            token_endpoint(&mut st, &form)
        }
        (Method::POST, p) if p.starts_with("/v1/projects/-/serviceAccounts/") => {
            let Some(email) = p
                .strip_prefix("/v1/projects/-/serviceAccounts/")
                .and_then(|r| r.strip_suffix(":generateIdToken"))
            else {
                return google_error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such method");
            };
            let email = email.to_owned();
            let bearer = authorization.strip_prefix("Bearer ").unwrap_or_default();
            if !st.access_tokens.iter().any(|t| t == bearer) {
                violation(
                    &mut st,
                    "generateIdToken without a valid access token".into(),
                );
                return google_error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                );
            }
            if content_type != "application/json" {
                violation(
                    &mut st,
                    format!("generateIdToken content-type {content_type:?}"),
                );
            }
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            st.generate_requests.push(request.clone());
            let audience = request["audience"].as_str().unwrap_or_default().to_owned();
            if audience.is_empty() {
                violation(&mut st, format!("generateIdToken body {request}"));
                return google_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "Audience is required.",
                );
            }
            if email != st.sa_email {
                return google_error(
                    StatusCode::FORBIDDEN,
                    "PERMISSION_DENIED",
                    "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).",
                );
            }
            let token = (st.id_tokens)(&audience);
            json_reply(StatusCode::OK, &json!({ "token": token }))
        }
        _ => server::full(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

fn req_query(query: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = query.iter().collect();
    pairs.sort();
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn issue_access_token(st: &mut GoogleState) -> String {
    let token = format!("ya29.fake-access-{}", st.access_tokens.len() + 1);
    st.access_tokens.push(token.clone());
    token
}

fn oauth_error(st: &mut GoogleState, code: &str, description: String) -> Response<Body> {
    st.violations.push(format!("{code}: {description}"));
    json_reply(
        StatusCode::BAD_REQUEST,
        &json!({ "error": code, "error_description": description }),
    )
}

fn token_endpoint(st: &mut GoogleState, form: &HashMap<String, String>) -> Response<Body> {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    match get("grant_type").as_str() {
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let assertion = get("assertion");
            let claims = match check_assertion(st, &assertion) {
                Ok(c) => c,
                Err(e) => return oauth_error(st, "invalid_grant", e),
            };
            if let Some(audience) = claims["target_audience"].as_str() {
                if claims.get("scope").is_some() || audience.is_empty() {
                    return oauth_error(st, "invalid_request", format!("claims {claims}"));
                }
                let token = (st.id_tokens)(audience);
                return json_reply(StatusCode::OK, &json!({ "id_token": token }));
            }
            let scope = claims["scope"].as_str().unwrap_or_default();
            if !scope
                .split(' ')
                .any(|s| s == "https://www.googleapis.com/auth/cloud-platform")
            {
                return oauth_error(st, "invalid_scope", format!("scope {scope:?}"));
            }
            let token = issue_access_token(st);
            json_reply(
                StatusCode::OK,
                &json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" }),
            )
        }
        "refresh_token" => {
            let (id, secret, refresh) = st.user.clone();
            if get("client_id") != id || get("client_secret") != secret {
                return oauth_error(
                    st,
                    "invalid_client",
                    "The OAuth client was not found.".into(),
                );
            }
            if get("refresh_token") != refresh {
                return oauth_error(st, "invalid_grant", "Bad Request".into());
            }
            let token = issue_access_token(st);
            json_reply(
                StatusCode::OK,
                &json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer",
                         "scope": "https://www.googleapis.com/auth/cloud-platform openid" }),
            )
        }
        other => oauth_error(
            st,
            "unsupported_grant_type",
            format!("grant_type {other:?}"),
        ),
    }
}

/// Checks the service account's JWT: RS256 by its key, `kid`, `iss`, `aud`, `iat`, `exp`.
fn check_assertion(st: &GoogleState, assertion: &str) -> Result<Value, String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err("the assertion is not a JWS".into());
    };
    let decode = |p: &str| -> Result<Value, String> {
        URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| "undecodable JWT part".to_owned())
    };
    let header = decode(h)?;
    let claims = decode(c)?;
    if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != st.sa_key_id.as_str()
    {
        return Err(format!("JWT header {header}"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| "the signature is not base64url")?;
    st.sa_key
        .verify_message(
            SignatureScheme::RsaPkcs1Sha256,
            format!("{h}.{c}").as_bytes(),
            &signature,
        )
        .map_err(|_| "Invalid JWT Signature.".to_owned())?;
    let now = cosign_types::time::now_unix();
    let iat = claims["iat"].as_i64().unwrap_or(0);
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if claims["iss"] != st.sa_email.as_str()
        || claims["aud"] != format!("{}/token", st.url).as_str()
        || iat > now + 60
        || exp <= now
        || exp - iat > 3600
    {
        return Err(format!("JWT claims rejected: {claims}"));
    }
    Ok(claims)
}
