//! A fake of Google Cloud KMS (REST v1) and Google's OAuth 2.0 token endpoint, checked against
//! the public documentation:
//! - token: `POST /token`, form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an
//!   RS256 JWT `assertion` whose signature verifies with the service account's key and whose
//!   claims are `iss` = the account, `aud` = the token URI, `scope` naming cloudkms, `iat`/`exp`
//!   at most an hour apart ("Using OAuth 2.0 for Server to Server Applications");
//! - `GET /v1/{cryptoKeyVersion}`, `GET /v1/{cryptoKey}/cryptoKeyVersions` (with `filter`),
//!   `GET /v1/{cryptoKeyVersion}/publicKey`, `POST /v1/{cryptoKeyVersion}:asymmetricSign` (body
//!   `digest` with exactly the algorithm's hash field, of the hash's length, and
//!   `digestCrc32c` when given), `GET /v1/{cryptoKey}`, `GET /v1/{keyRing}`,
//!   `POST /v1/{location}/keyRings?keyRingId=`, `POST /v1/{keyRing}/cryptoKeys?cryptoKeyId=`,
//!   `POST /v1/{cryptoKey}/cryptoKeyVersions`; all with `Authorization: Bearer <issued token>`.
//!
//! New versions start `PENDING_GENERATION` and are `ENABLED` from the second read on, as real
//! asymmetric key versions become usable a moment after creation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cosign_crypto::{HashAlgorithm, KeyType, PrivateKey, PublicKey, SignatureScheme};
use cosign_types::Digest;
use serde_json::{Value, json};

use super::{crc32c, pem, violation};
use crate::tls_server::{self, Captured, Reply, TlsServer};
use crate::{LoggedRequest, TestCa};

const FAKE: &str = "fake-gcp-kms";

struct Version {
    state: String,
    reads: u32,
    key: Option<PrivateKey>,
}

struct CryptoKey {
    purpose: String,
    algorithm: String,
    versions: BTreeMap<u32, Version>,
}

struct State {
    port: u16,
    sa_email: String,
    sa_key: PublicKey,
    token: String,
    key_rings: Vec<String>,
    keys: BTreeMap<String, CryptoKey>,
    lying: bool,
    canned: Vec<super::Canned>,
}

/// A fake Cloud KMS; see the module documentation.
pub struct FakeGcpKms {
    server: TlsServer,
    ca: TestCa,
    state: Arc<Mutex<State>>,
    violations: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

fn algorithm_key(algorithm: &str) -> Option<(KeyType, SignatureScheme)> {
    match algorithm {
        "EC_SIGN_P256_SHA256" => Some((KeyType::EcdsaP256, SignatureScheme::EcdsaP256Sha256)),
        "EC_SIGN_P384_SHA384" => Some((KeyType::EcdsaP384, SignatureScheme::EcdsaP384Sha384)),
        "RSA_SIGN_PKCS1_2048_SHA256" => {
            Some((KeyType::Rsa { bits: 2048 }, SignatureScheme::RsaPkcs1Sha256))
        }
        "EC_SIGN_ED25519" => Some((KeyType::Ed25519, SignatureScheme::Ed25519)),
        _ => None,
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": { "code": status, "message": message, "status": code } }),
    )
}

impl FakeGcpKms {
    /// Starts the fake with a fresh service account.
    pub fn start() -> Self {
        let ca = TestCa::new();
        let sa = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).expect("service-account key");
        let state = Arc::new(Mutex::new(State {
            port: 0,
            sa_email: "cosign-test@test-project.iam.gserviceaccount.com".to_owned(),
            sa_key: sa.public_key(),
            token: format!("ya29.fake-{}", hex::encode(rand16())),
            key_rings: Vec::new(),
            keys: BTreeMap::new(),
            lying: false,
            canned: Vec::new(),
        }));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let (st, vi) = (Arc::clone(&state), Arc::clone(&violations));
        let server = tls_server::start(&ca, false, move |req| handle(&st, &vi, req));
        state.lock().expect("state").port = server.port;
        let dir = tempfile::tempdir().expect("temp dir");
        let creds = json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "0123456789abcdef",
            "private_key": pem("PRIVATE KEY", &sa.to_pkcs8_der().expect("pkcs8")),
            "client_email": "cosign-test@test-project.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": format!("https://127.0.0.1:{}/token", server.port),
        });
        std::fs::write(dir.path().join("sa.json"), creds.to_string()).expect("write sa.json");
        std::fs::write(dir.path().join("ca.pem"), &ca.ca_pem).expect("write ca.pem");
        Self {
            server,
            ca,
            state,
            violations,
            dir,
        }
    }

    /// The API root, for `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`.
    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}/", self.server.port)
    }

    /// The CA that signed the server's certificate (PEM file), for `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The CA PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca.ca_pem
    }

    /// A service-account JSON file (its `token_uri` points at this fake), for
    /// `GOOGLE_APPLICATION_CREDENTIALS`.
    pub fn credentials_file(&self) -> PathBuf {
        self.dir.path().join("sa.json")
    }

    /// The environment cosign needs: endpoint, credentials and trust.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS".into(),
                self.endpoint(),
            ),
            (
                "GOOGLE_APPLICATION_CREDENTIALS".into(),
                self.credentials_file().display().to_string(),
            ),
            ("SSL_CERT_FILE".into(), self.ca_file().display().to_string()),
        ]
    }

    /// Adds a key ring (`projects/P/locations/L/keyRings/R`).
    pub fn add_key_ring(&self, name: &str) {
        self.state
            .lock()
            .expect("state")
            .key_rings
            .push(name.to_owned());
    }

    /// Adds a crypto key with one ENABLED version of `algorithm` (`EC_SIGN_P256_SHA256`,
    /// `EC_SIGN_P384_SHA384`, `RSA_SIGN_PKCS1_2048_SHA256`, `EC_SIGN_ED25519`, or
    /// `GOOGLE_SYMMETRIC_ENCRYPTION` for an ENCRYPT_DECRYPT key); its key ring too.
    /// Returns the key's resource name.
    pub fn add_key(&self, key_ring: &str, key: &str, algorithm: &str) -> String {
        let mut st = self.state.lock().expect("state");
        if !st.key_rings.iter().any(|r| r == key_ring) {
            st.key_rings.push(key_ring.to_owned());
        }
        let purpose = if algorithm == "GOOGLE_SYMMETRIC_ENCRYPTION" {
            "ENCRYPT_DECRYPT"
        } else {
            "ASYMMETRIC_SIGN"
        };
        let name = format!("{key_ring}/cryptoKeys/{key}");
        let mut ck = CryptoKey {
            purpose: purpose.to_owned(),
            algorithm: algorithm.to_owned(),
            versions: BTreeMap::new(),
        };
        ck.versions.insert(1, new_version(algorithm, "ENABLED"));
        st.keys.insert(name.clone(), ck);
        name
    }

    /// Adds a version to a key (state `ENABLED`, `DISABLED` ...); returns its number.
    pub fn add_version(&self, key: &str, state: &str) -> u32 {
        let mut st = self.state.lock().expect("state");
        let ck = st.keys.get_mut(key).expect("no such key");
        let n = ck.versions.keys().max().copied().unwrap_or(0) + 1;
        let v = new_version(&ck.algorithm, state);
        ck.versions.insert(n, v);
        n
    }

    /// The public key PEM of a version.
    pub fn public_key_pem(&self, key: &str, version: u32) -> String {
        let st = self.state.lock().expect("state");
        st.keys[key].versions[&version]
            .key
            .as_ref()
            .expect("asymmetric key")
            .public_key()
            .to_pem()
    }

    /// Makes the fake sign a different digest than asked (a KMS that lies).
    pub fn set_lying(&self, lying: bool) {
        self.state.lock().expect("state").lying = lying;
    }

    /// Answers the next request whose path contains `path_part` with `status` and `body`
    /// (JSON content type) instead of serving it: a server error, a malformed answer, a
    /// garbage signature or public key. Several canned answers are used in order.
    pub fn answer_next(&self, path_part: &str, status: u16, body: &str) {
        self.state
            .lock()
            .expect("state")
            .canned
            .push(super::Canned::new(path_part, status, body));
    }

    /// Requests served so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.server.log.lock().expect("log").clone()
    }

    /// Forgets the requests served so far.
    pub fn clear_requests(&self) {
        self.server.log.lock().expect("log").clear();
    }

    /// Rules of the API that clients broke.
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().expect("violations").clone()
    }
}

fn rand16() -> [u8; 16] {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("random");
    b
}

fn new_version(algorithm: &str, state: &str) -> Version {
    Version {
        state: state.to_owned(),
        reads: 0,
        key: algorithm_key(algorithm)
            .map(|(kt, _)| PrivateKey::generate(kt).expect("generate key")),
    }
}

fn version_json(key_name: &str, n: u32, ck: &CryptoKey, v: &Version) -> Value {
    json!({
        "name": format!("{key_name}/cryptoKeyVersions/{n}"),
        "state": v.state,
        "algorithm": ck.algorithm,
        "protectionLevel": "SOFTWARE",
        "createTime": "2026-01-01T00:00:00Z",
    })
}

fn handle(state: &Mutex<State>, violations: &Mutex<Vec<String>>, req: Captured) -> Reply {
    let bad = |status: u16, code: &str, what: String| {
        error(status, code, &violation(violations, FAKE, what))
    };
    let mut st = state.lock().expect("state");
    if let Some(reply) = super::take_canned(&mut st.canned, &req.path) {
        return reply;
    }
    if req.path == "/token" {
        return token(&mut st, &req, &bad);
    }
    let Some(resource) = req.path.strip_prefix("/v1/") else {
        return bad(404, "NOT_FOUND", format!("no such endpoint {}", req.path));
    };
    if req.header("authorization") != format!("Bearer {}", st.token) {
        return error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    if req.method == "POST" && !req.header("content-type").starts_with("application/json") {
        return bad(
            400,
            "INVALID_ARGUMENT",
            format!("POST {} without Content-Type: application/json", req.path),
        );
    }
    let resource = resource.to_owned();
    // :asymmetricSign
    if let Some(version) = resource.strip_suffix(":asymmetricSign") {
        if req.method != "POST" {
            return bad(
                405,
                "INVALID_ARGUMENT",
                "asymmetricSign must be POST".into(),
            );
        }
        return sign(&mut st, version, &req, &bad);
    }
    if let Some(version) = resource.strip_suffix("/publicKey") {
        if req.method != "GET" {
            return bad(405, "INVALID_ARGUMENT", "publicKey must be GET".into());
        }
        let Some((key_name, n)) = split_version(version) else {
            return bad(
                400,
                "INVALID_ARGUMENT",
                format!("malformed version name {version}"),
            );
        };
        let Some(ck) = st.keys.get(key_name) else {
            return error(404, "NOT_FOUND", &format!("{key_name} not found."));
        };
        if ck.purpose != "ASYMMETRIC_SIGN" {
            return error(
                400,
                "FAILED_PRECONDITION",
                &format!("{version} is not an asymmetric key."),
            );
        }
        let Some(v) = ck.versions.get(&n) else {
            return error(404, "NOT_FOUND", &format!("{version} not found."));
        };
        if v.state != "ENABLED" {
            return error(
                400,
                "FAILED_PRECONDITION",
                &format!("{version} is not enabled, current state is: {}.", v.state),
            );
        }
        let pem = v.key.as_ref().expect("asymmetric").public_key().to_pem();
        return Reply::json(
            200,
            &json!({
                "pem": pem,
                "algorithm": ck.algorithm,
                "pemCrc32c": crc32c(pem.as_bytes()).to_string(),
                "name": version,
                "protectionLevel": "SOFTWARE",
            }),
        );
    }
    if let Some(key_name) = resource.strip_suffix("/cryptoKeyVersions") {
        let key_name = key_name.to_owned();
        let Some(ck) = st.keys.get_mut(&key_name) else {
            return error(404, "NOT_FOUND", &format!("{key_name} not found."));
        };
        return match req.method.as_str() {
            "GET" => {
                let filter = req.query_param("filter");
                if let Some(f) = &filter
                    && f.replace(' ', "") != "state=ENABLED"
                {
                    return bad(400, "INVALID_ARGUMENT", format!("unsupported filter {f:?}"));
                }
                let list: Vec<Value> = ck
                    .versions
                    .iter()
                    .filter(|(_, v)| filter.is_none() || v.state == "ENABLED")
                    .map(|(n, v)| version_json(&key_name, *n, ck, v))
                    .collect();
                Reply::json(
                    200,
                    &json!({ "cryptoKeyVersions": list, "totalSize": list.len() }),
                )
            }
            "POST" => {
                if req.json().is_none() {
                    return bad(400, "INVALID_ARGUMENT", "body is not JSON".into());
                }
                let n = ck.versions.keys().max().copied().unwrap_or(0) + 1;
                let v = new_version(&ck.algorithm, "PENDING_GENERATION");
                let out = version_json(&key_name, n, ck, &v);
                ck.versions.insert(n, v);
                Reply::json(200, &out)
            }
            m => bad(405, "INVALID_ARGUMENT", format!("{m} on cryptoKeyVersions")),
        };
    }
    if let Some(ring) = resource.strip_suffix("/cryptoKeys") {
        if req.method != "POST" {
            return bad(405, "INVALID_ARGUMENT", "listing keys is not faked".into());
        }
        let ring = ring.to_owned();
        if !st.key_rings.contains(&ring) {
            return error(404, "NOT_FOUND", &format!("{ring} not found."));
        }
        let Some(id) = req.query_param("cryptoKeyId") else {
            return bad(400, "INVALID_ARGUMENT", "cryptoKeyId is required".into());
        };
        let body = req.json().unwrap_or(Value::Null);
        let purpose = body["purpose"].as_str().unwrap_or("");
        let algorithm = body["versionTemplate"]["algorithm"].as_str().unwrap_or("");
        if purpose != "ASYMMETRIC_SIGN" || algorithm_key(algorithm).is_none() {
            return bad(
                400,
                "INVALID_ARGUMENT",
                format!("purpose {purpose:?} / versionTemplate.algorithm {algorithm:?}"),
            );
        }
        let name = format!("{ring}/cryptoKeys/{id}");
        if st.keys.contains_key(&name) {
            return error(409, "ALREADY_EXISTS", &format!("{name} already exists."));
        }
        let mut ck = CryptoKey {
            purpose: purpose.to_owned(),
            algorithm: algorithm.to_owned(),
            versions: BTreeMap::new(),
        };
        ck.versions
            .insert(1, new_version(algorithm, "PENDING_GENERATION"));
        st.keys.insert(name.clone(), ck);
        return Reply::json(
            200,
            &json!({ "name": name, "purpose": purpose, "versionTemplate": { "algorithm": algorithm } }),
        );
    }
    if let Some(location) = resource.strip_suffix("/keyRings") {
        if req.method != "POST" {
            return bad(
                405,
                "INVALID_ARGUMENT",
                "listing key rings is not faked".into(),
            );
        }
        let Some(id) = req.query_param("keyRingId") else {
            return bad(400, "INVALID_ARGUMENT", "keyRingId is required".into());
        };
        let name = format!("{location}/keyRings/{id}");
        if st.key_rings.contains(&name) {
            return error(409, "ALREADY_EXISTS", &format!("{name} already exists."));
        }
        st.key_rings.push(name.clone());
        return Reply::json(200, &json!({ "name": name }));
    }
    if req.method != "GET" {
        return bad(
            405,
            "INVALID_ARGUMENT",
            format!("{} {}", req.method, req.path),
        );
    }
    // A version, a key, or a key ring.
    if let Some((key_name, n)) = split_version(&resource) {
        let Some(ck) = st.keys.get_mut(key_name) else {
            return error(404, "NOT_FOUND", &format!("{key_name} not found."));
        };
        let Some(v) = ck.versions.get_mut(&n) else {
            return error(404, "NOT_FOUND", &format!("{resource} not found."));
        };
        v.reads += 1;
        if v.state == "PENDING_GENERATION" && v.reads > 1 {
            v.state = "ENABLED".to_owned();
        }
        let v = &ck.versions[&n];
        return Reply::json(200, &version_json(key_name, n, ck, v));
    }
    if let Some(ck) = st.keys.get(&resource) {
        return Reply::json(
            200,
            &json!({
                "name": resource,
                "purpose": ck.purpose,
                "versionTemplate": { "algorithm": ck.algorithm },
            }),
        );
    }
    if st.key_rings.contains(&resource) {
        return Reply::json(200, &json!({ "name": resource }));
    }
    error(404, "NOT_FOUND", &format!("{resource} not found."))
}

fn split_version(name: &str) -> Option<(&str, u32)> {
    let (key, n) = name.rsplit_once("/cryptoKeyVersions/")?;
    Some((key, n.parse().ok()?))
}

fn token(st: &mut State, req: &Captured, bad: &dyn Fn(u16, &str, String) -> Reply) -> Reply {
    if req.method != "POST"
        || !req
            .header("content-type")
            .starts_with("application/x-www-form-urlencoded")
    {
        return bad(400, "invalid_request", "token: POST a form".into());
    }
    let form = req.form();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return bad(
            400,
            "invalid_grant",
            format!("grant_type {:?}", get("grant_type")),
        );
    }
    let assertion = get("assertion");
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return bad(400, "invalid_grant", "assertion is not a JWS".into());
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).ok();
    let header: Value = decode(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let claims: Value = decode(c)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    if header["alg"] != "RS256" {
        return bad(400, "invalid_grant", format!("JWT alg {}", header["alg"]));
    }
    let Some(sig) = decode(s) else {
        return bad(
            400,
            "invalid_grant",
            "JWT signature is not base64url".into(),
        );
    };
    if st
        .sa_key
        .verify_message(
            SignatureScheme::RsaPkcs1Sha256,
            format!("{h}.{c}").as_bytes(),
            &sig,
        )
        .is_err()
    {
        return bad(400, "invalid_grant", "Invalid JWT Signature.".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let iat = claims["iat"].as_i64().unwrap_or(0);
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let aud = format!("https://127.0.0.1:{}/token", st.port);
    if claims["iss"] != st.sa_email.as_str()
        || claims["aud"] != aud.as_str()
        || !claims["scope"].as_str().unwrap_or("").split(' ').any(|s| {
            s == "https://www.googleapis.com/auth/cloudkms"
                || s == "https://www.googleapis.com/auth/cloud-platform"
        })
        || iat > now + 60
        || exp <= now
        || exp - iat > 3600
    {
        return bad(
            400,
            "invalid_grant",
            format!("JWT claims rejected: {claims}"),
        );
    }
    Reply::json(
        200,
        &json!({ "access_token": st.token, "expires_in": 3599, "token_type": "Bearer" }),
    )
}

fn sign(
    st: &mut State,
    version: &str,
    req: &Captured,
    bad: &dyn Fn(u16, &str, String) -> Reply,
) -> Reply {
    let Some((key_name, n)) = split_version(version) else {
        return bad(
            400,
            "INVALID_ARGUMENT",
            format!("malformed version name {version}"),
        );
    };
    let lying = st.lying;
    let Some(ck) = st.keys.get(key_name) else {
        return error(404, "NOT_FOUND", &format!("{key_name} not found."));
    };
    let Some(v) = ck.versions.get(&n) else {
        return error(404, "NOT_FOUND", &format!("{version} not found."));
    };
    if v.state != "ENABLED" {
        return error(
            400,
            "FAILED_PRECONDITION",
            &format!("{version} is not enabled."),
        );
    }
    let Some((_, scheme)) = algorithm_key(&ck.algorithm) else {
        return error(
            400,
            "FAILED_PRECONDITION",
            &format!("{version} cannot sign."),
        );
    };
    let Some(body) = req.json() else {
        return bad(400, "INVALID_ARGUMENT", "body is not JSON".into());
    };
    let Some(alg) = scheme.prehash() else {
        return bad(
            400,
            "INVALID_ARGUMENT",
            "EC_SIGN_ED25519 takes data, not a digest".into(),
        );
    };
    let field = match alg {
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Sha384 => "sha384",
        HashAlgorithm::Sha512 => "sha512",
    };
    let digest_obj = body["digest"].as_object().cloned().unwrap_or_default();
    if digest_obj.len() != 1 || !digest_obj.contains_key(field) {
        return bad(
            400,
            "INVALID_ARGUMENT",
            format!(
                "digest must have exactly the field {field} for {}",
                ck.algorithm
            ),
        );
    }
    let Some(bytes) = digest_obj[field]
        .as_str()
        .and_then(|d| STANDARD.decode(d).ok())
    else {
        return bad(400, "INVALID_ARGUMENT", "digest is not base64".into());
    };
    if bytes.len() != alg.output_len() {
        return bad(
            400,
            "INVALID_ARGUMENT",
            format!(
                "digest.{field} is {} bytes, want {}",
                bytes.len(),
                alg.output_len()
            ),
        );
    }
    if let Some(crc) = body.get("digestCrc32c") {
        let want = crc32c(&bytes).to_string();
        if crc.as_str() != Some(want.as_str()) {
            return bad(
                400,
                "INVALID_ARGUMENT",
                format!("digestCrc32c {crc} does not match (int64 as a string: {want})"),
            );
        }
    }
    let mut to_sign = bytes;
    if lying {
        to_sign[0] ^= 0xff;
    }
    let digest = Digest::new(alg, to_sign).expect("digest length");
    let sig = v
        .key
        .as_ref()
        .expect("asymmetric")
        .sign_digest(scheme, &digest)
        .expect("sign");
    Reply::json(
        200,
        &json!({
            "signature": STANDARD.encode(&sig),
            "signatureCrc32c": crc32c(&sig).to_string(),
            "verifiedDigestCrc32c": body.get("digestCrc32c").is_some(),
            "name": version,
            "protectionLevel": "SOFTWARE",
        }),
    )
}
