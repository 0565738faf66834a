//! A fake of Azure Key Vault (REST `api-version` 7.x) and the Microsoft Entra ID token endpoint,
//! checked against the public documentation:
//! - token: `POST /{tenant}/oauth2/v2.0/token`, form `grant_type=client_credentials`,
//!   `client_id`, `client_secret`, `scope=https://vault.azure.net/.default` ("client credentials
//!   flow");
//! - `GET /keys/{name}[/{version}]` (JWK: `kid`, `kty`, `crv`/`x`/`y` or `n`/`e`, `key_ops`),
//!   `POST /keys/{name}/{version}/sign` (`alg` fitting the key, `value` base64url of a digest of
//!   that algorithm's length; answers JWS `r||s` for EC), `POST /keys/{name}/create` (`kty`,
//!   `crv`, `key_ops`); every call with `?api-version=7.x` and `Authorization: Bearer <issued
//!   token>`, bodies `Content-Type: application/json`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cosign_crypto::{KeyType, PrivateKey, SignatureScheme};
use cosign_types::Digest;
use serde_json::{Value, json};

use super::{ecdsa_der_to_raw, rsa_n_e, spki_key_bits, violation};
use crate::tls_server::{self, Captured, Reply, TlsServer};
use crate::{LoggedRequest, TestCa};

const FAKE: &str = "fake-azure-key-vault";

/// The kind of a key to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureKeySpec {
    /// EC P-256 (ES256).
    EcP256,
    /// EC P-384 (ES384).
    EcP384,
    /// RSA 2048 (RS256).
    Rsa2048,
    /// EC secp256k1 (`P-256K`): a curve cosign refuses (no private key is kept).
    EcP256K,
}

struct KeyVersion {
    key: Option<PrivateKey>,
    spec: AzureKeySpec,
    enabled: bool,
}

struct State {
    host: String,
    tenant: String,
    client_id: String,
    client_secret: String,
    token: String,
    keys: BTreeMap<String, Vec<(String, KeyVersion)>>,
    lying: bool,
    canned: Vec<super::Canned>,
}

/// A fake Key Vault; see the module documentation.
pub struct FakeAzureKeyVault {
    server: TlsServer,
    state: Arc<Mutex<State>>,
    violations: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("random");
    hex::encode(b)
}

impl FakeAzureKeyVault {
    /// Starts the fake with a service principal (tenant, client ID, secret).
    pub fn start() -> Self {
        let ca = TestCa::new();
        let state = Arc::new(Mutex::new(State {
            host: String::new(),
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
            client_id: "00000000-1111-2222-3333-444444444444".to_owned(),
            client_secret: format!("secret-{}", random_hex()),
            token: format!("eyJ0eXAiOiJKV1Qi.fake.{}", random_hex()),
            keys: BTreeMap::new(),
            lying: false,
            canned: Vec::new(),
        }));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let (st, vi) = (Arc::clone(&state), Arc::clone(&violations));
        let server = tls_server::start(&ca, false, move |req| handle(&st, &vi, req));
        state.lock().expect("state").host = format!("127.0.0.1:{}", server.port);
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), &ca.ca_pem).expect("write ca.pem");
        Self {
            server,
            state,
            violations,
            dir,
        }
    }

    /// The vault host for `azurekms://HOST/...`.
    pub fn vault_host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    /// The environment cosign needs: service principal, authority and trust.
    pub fn env(&self) -> Vec<(String, String)> {
        let st = self.state.lock().expect("state");
        vec![
            ("AZURE_TENANT_ID".into(), st.tenant.clone()),
            ("AZURE_CLIENT_ID".into(), st.client_id.clone()),
            ("AZURE_CLIENT_SECRET".into(), st.client_secret.clone()),
            (
                "AZURE_AUTHORITY_HOST".into(),
                format!("https://127.0.0.1:{}/", self.server.port),
            ),
            (
                "SSL_CERT_FILE".into(),
                self.dir.path().join("ca.pem").display().to_string(),
            ),
        ]
    }

    /// The client secret (to check it never shows up in output).
    pub fn client_secret(&self) -> String {
        self.state.lock().expect("state").client_secret.clone()
    }

    /// Adds a key (a new version when the name exists); returns the version.
    pub fn add_key(&self, name: &str, spec: AzureKeySpec) -> String {
        let key = match spec {
            AzureKeySpec::EcP256 => Some(KeyType::EcdsaP256),
            AzureKeySpec::EcP384 => Some(KeyType::EcdsaP384),
            AzureKeySpec::Rsa2048 => Some(KeyType::Rsa { bits: 2048 }),
            AzureKeySpec::EcP256K => None,
        }
        .map(|kt| PrivateKey::generate(kt).expect("generate"));
        let version = random_hex();
        self.state
            .lock()
            .expect("state")
            .keys
            .entry(name.to_owned())
            .or_default()
            .push((
                version.clone(),
                KeyVersion {
                    key,
                    spec,
                    enabled: true,
                },
            ));
        version
    }

    /// The public key PEM of the latest version of a key.
    pub fn public_key_pem(&self, name: &str) -> String {
        let st = self.state.lock().expect("state");
        st.keys[name]
            .last()
            .and_then(|(_, v)| v.key.as_ref())
            .expect("key")
            .public_key()
            .to_pem()
    }

    /// Makes the fake sign a different digest than asked.
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

fn jwk(host: &str, name: &str, version: &str, v: &KeyVersion) -> Value {
    let kid = format!("https://{host}/keys/{name}/{version}");
    let ops = json!(["sign", "verify"]);
    let attrs = json!({ "enabled": v.enabled, "created": 1_767_225_600, "updated": 1_767_225_600, "recoveryLevel": "Recoverable+Purgeable" });
    let Some(key) = &v.key else {
        // secp256k1: any point will do, cosign must refuse the curve before using it.
        return json!({
            "key": { "kid": kid, "kty": "EC", "crv": "P-256K", "key_ops": ops,
                     "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32]) },
            "attributes": attrs,
        });
    };
    let spki = key.public_key().to_spki_der();
    let key_json = match v.spec {
        AzureKeySpec::Rsa2048 => {
            let (n, e) = rsa_n_e(&spki);
            json!({ "kid": kid, "kty": "RSA", "key_ops": ops,
                    "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e) })
        }
        spec => {
            let point = spki_key_bits(&spki);
            let n = (point.len() - 1) / 2;
            let crv = if spec == AzureKeySpec::EcP384 {
                "P-384"
            } else {
                "P-256"
            };
            json!({ "kid": kid, "kty": "EC", "crv": crv, "key_ops": ops,
                    "x": URL_SAFE_NO_PAD.encode(&point[1..1 + n]),
                    "y": URL_SAFE_NO_PAD.encode(&point[1 + n..]) })
        }
    };
    json!({ "key": key_json, "attributes": attrs })
}

fn handle(state: &Mutex<State>, violations: &Mutex<Vec<String>>, req: Captured) -> Reply {
    let bad = |status: u16, code: &str, what: String| {
        error(status, code, &violation(violations, FAKE, what))
    };
    let mut st = state.lock().expect("state");
    if let Some(reply) = super::take_canned(&mut st.canned, &req.path) {
        return reply;
    }
    let segments: Vec<String> = req
        .path
        .trim_start_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    // Token endpoint.
    if segments.len() == 4
        && segments[1] == "oauth2"
        && segments[2] == "v2.0"
        && segments[3] == "token"
    {
        if req.method != "POST"
            || !req
                .header("content-type")
                .starts_with("application/x-www-form-urlencoded")
        {
            return bad(400, "invalid_request", "token: POST a form".into());
        }
        let form: BTreeMap<String, String> = req.form().into_iter().collect();
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        if segments[0] != st.tenant {
            return bad(400, "invalid_tenant", format!("tenant {}", segments[0]));
        }
        if get("grant_type") != "client_credentials"
            || get("scope") != "https://vault.azure.net/.default"
        {
            return bad(
                400,
                "invalid_request",
                format!(
                    "grant_type {:?} scope {:?}",
                    get("grant_type"),
                    get("scope")
                ),
            );
        }
        if get("client_id") != st.client_id || get("client_secret") != st.client_secret {
            return Reply::json(
                401,
                &json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided." }),
            );
        }
        return Reply::json(
            200,
            &json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": st.token }),
        );
    }
    if segments.first().map(String::as_str) != Some("keys") {
        return bad(404, "NotFound", format!("no such endpoint {}", req.path));
    }
    let api = req.query_param("api-version").unwrap_or_default();
    if !api.starts_with("7.") {
        return bad(
            400,
            "BadParameter",
            format!("api-version {api:?} (want 7.x)"),
        );
    }
    if req.header("authorization") != format!("Bearer {}", st.token) {
        return error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
        );
    }
    if req.method == "POST" && !req.header("content-type").starts_with("application/json") {
        return bad(
            400,
            "BadParameter",
            "POST without Content-Type: application/json".into(),
        );
    }
    let host = st.host.clone();
    let lying = st.lying;
    match (req.method.as_str(), &segments[1..]) {
        ("GET", [name]) | ("GET", [name, _]) => {
            let Some(versions) = st.keys.get(name) else {
                return error(
                    404,
                    "KeyNotFound",
                    &format!("A key with (name/id) {name} was not found in this key vault."),
                );
            };
            let found = match segments.get(2) {
                Some(v) => versions.iter().find(|(id, _)| id == v),
                None => versions.last(),
            };
            match found {
                Some((id, v)) => Reply::json(200, &jwk(&host, name, id, v)),
                None => error(404, "KeyNotFound", "A key with this version was not found."),
            }
        }
        ("POST", [name, op]) if op == "create" => {
            let body = req.json().unwrap_or(Value::Null);
            let spec = match (body["kty"].as_str(), body["crv"].as_str()) {
                (Some("EC"), Some("P-256")) => AzureKeySpec::EcP256,
                (Some("EC"), Some("P-384")) => AzureKeySpec::EcP384,
                (Some("RSA"), None) => AzureKeySpec::Rsa2048,
                (kty, crv) => {
                    return bad(400, "BadParameter", format!("kty {kty:?} crv {crv:?}"));
                }
            };
            let ops: Vec<&str> = body["key_ops"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !ops.contains(&"sign") {
                return bad(400, "BadParameter", format!("key_ops {ops:?} lack sign"));
            }
            let key = PrivateKey::generate(match spec {
                AzureKeySpec::EcP384 => KeyType::EcdsaP384,
                AzureKeySpec::Rsa2048 => KeyType::Rsa { bits: 2048 },
                _ => KeyType::EcdsaP256,
            })
            .expect("generate");
            let version = random_hex();
            let kv = KeyVersion {
                key: Some(key),
                spec,
                enabled: true,
            };
            let out = jwk(&host, name, &version, &kv);
            st.keys.entry(name.clone()).or_default().push((version, kv));
            Reply::json(200, &out)
        }
        ("POST", [name, version, op]) if op == "sign" => {
            let Some((_, v)) = st
                .keys
                .get(name)
                .and_then(|vs| vs.iter().find(|(id, _)| id == version))
            else {
                return error(
                    404,
                    "KeyNotFound",
                    &format!(
                        "A key with (name/id) {name}/{version} was not found in this key vault."
                    ),
                );
            };
            let Some(key) = &v.key else {
                return error(400, "BadParameter", "this fake cannot sign with P-256K");
            };
            let (want_alg, scheme) = match v.spec {
                AzureKeySpec::EcP256 => ("ES256", SignatureScheme::EcdsaP256Sha256),
                AzureKeySpec::EcP384 => ("ES384", SignatureScheme::EcdsaP384Sha384),
                AzureKeySpec::Rsa2048 => ("RS256", SignatureScheme::RsaPkcs1Sha256),
                AzureKeySpec::EcP256K => ("ES256K", SignatureScheme::EcdsaP256Sha256),
            };
            let body = req.json().unwrap_or(Value::Null);
            if body["alg"].as_str() != Some(want_alg) {
                return bad(
                    400,
                    "BadParameter",
                    format!("alg {} for a {want_alg} key", body["alg"]),
                );
            }
            let value = body["value"].as_str().unwrap_or("");
            let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')) else {
                return bad(400, "BadParameter", "value is not base64url".into());
            };
            let alg = scheme.prehash().expect("prehash");
            if bytes.len() != alg.output_len() {
                return bad(
                    400,
                    "BadParameter",
                    format!(
                        "digest is {} bytes, {want_alg} needs {}",
                        bytes.len(),
                        alg.output_len()
                    ),
                );
            }
            if lying {
                bytes[0] ^= 0xff;
            }
            let sig = key
                .sign_digest(scheme, &Digest::new(alg, bytes).expect("digest"))
                .expect("sign");
            let out = match v.spec {
                AzureKeySpec::Rsa2048 => sig,
                AzureKeySpec::EcP384 => ecdsa_der_to_raw(&sig, 48),
                _ => ecdsa_der_to_raw(&sig, 32),
            };
            Reply::json(
                200,
                &json!({ "kid": format!("https://{host}/keys/{name}/{version}"), "value": URL_SAFE_NO_PAD.encode(out) }),
            )
        }
        (m, rest) => bad(405, "BadParameter", format!("{m} /keys/{}", rest.join("/"))),
    }
}
