//! A fake Kubernetes API server for core/v1 Secrets, checked against the API reference:
//! `GET /api/v1/namespaces/{ns}/secrets/{name}`, `POST /api/v1/namespaces/{ns}/secrets` (201,
//! 409 AlreadyExists), `PUT .../secrets/{name}` (needs the current `metadata.resourceVersion`;
//! 422 when an immutable Secret's data would change); bodies are `kind: Secret`,
//! `apiVersion: v1` with `metadata.name`/`namespace` matching the path and base64 `data`; errors
//! are `Status` objects. Clients authenticate with a bearer token or a client certificate signed
//! by the fake's CA, and must send `Accept: application/json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::violation;
use crate::tls_server::{self, Captured, Reply, TlsServer};
use crate::{LoggedRequest, TestCa};

const FAKE: &str = "fake-kube-apiserver";

/// How kubeconfig users of this fake authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeAuth {
    /// `Authorization: Bearer <token>`.
    Token(String),
    /// A client certificate signed by the fake's CA.
    ClientCert,
}

struct State {
    auth: KubeAuth,
    secrets: BTreeMap<(String, String), Value>,
    next_version: u64,
}

/// A fake API server; see the module documentation.
pub struct FakeKubeApi {
    server: TlsServer,
    ca: TestCa,
    state: Arc<Mutex<State>>,
    violations: Arc<Mutex<Vec<String>>>,
}

fn status(code: u16, reason: &str, message: &str) -> Reply {
    Reply::json(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code,
        }),
    )
}

impl FakeKubeApi {
    /// Starts the fake.
    pub fn start(auth: KubeAuth) -> Self {
        let ca = TestCa::new();
        let state = Arc::new(Mutex::new(State {
            auth,
            secrets: BTreeMap::new(),
            next_version: 100,
        }));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let (st, vi) = (Arc::clone(&state), Arc::clone(&violations));
        let server = tls_server::start(&ca, true, move |req| handle(&st, &vi, req));
        Self {
            server,
            ca,
            state,
            violations,
        }
    }

    /// `https://127.0.0.1:PORT`
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.server.port)
    }

    /// Writes a kubeconfig for this server (current context `fake`) into `dir`; returns its path.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let auth = self.state.lock().expect("state").auth.clone();
        let user = match auth {
            KubeAuth::Token(t) => format!("    token: {t}\n"),
            KubeAuth::ClientCert => {
                let (cert, key) = self.ca.client_cert("cosign-test");
                format!(
                    "    client-certificate-data: {}\n    client-key-data: {}\n",
                    STANDARD.encode(cert),
                    STANDARD.encode(key)
                )
            }
        };
        let yaml = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake-cluster\n  cluster:\n    server: {}\n    certificate-authority-data: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake-cluster\n    user: fake-user\n    namespace: default\nusers:\n- name: fake-user\n  user:\n{user}",
            self.server_url(),
            STANDARD.encode(&self.ca.ca_pem),
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, yaml).expect("write kubeconfig");
        path
    }

    /// A Secret's decoded data, if it exists.
    pub fn secret_data(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let st = self.state.lock().expect("state");
        let s = st.secrets.get(&(namespace.to_owned(), name.to_owned()))?;
        Some(
            s["data"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                STANDARD.decode(v.as_str().unwrap_or("")).expect("b64"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The whole stored Secret object.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        let st = self.state.lock().expect("state");
        st.secrets
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Stores a Secret directly (test setup).
    pub fn put_secret(&self, namespace: &str, name: &str, data: &[(&str, &[u8])]) {
        let mut st = self.state.lock().expect("state");
        st.next_version += 1;
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(STANDARD.encode(v))))
            .collect();
        let rv = st.next_version.to_string();
        st.secrets.insert(
            (namespace.to_owned(), name.to_owned()),
            json!({ "kind": "Secret", "apiVersion": "v1",
                    "metadata": { "name": name, "namespace": namespace, "resourceVersion": rv },
                    "type": "Opaque", "data": data }),
        );
    }

    /// Requests served so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.server.log.lock().expect("log").clone()
    }

    /// Rules of the API that clients broke.
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().expect("violations").clone()
    }
}

fn handle(state: &Mutex<State>, violations: &Mutex<Vec<String>>, req: Captured) -> Reply {
    let bad = |code: u16, reason: &str, what: String| {
        status(code, reason, &violation(violations, FAKE, what))
    };
    let mut st = state.lock().expect("state");
    let authed = match &st.auth {
        KubeAuth::Token(t) => req.header("authorization") == format!("Bearer {t}"),
        KubeAuth::ClientCert => req.client_cert,
    };
    if !authed {
        return status(401, "Unauthorized", "Unauthorized");
    }
    if !req.header("accept").contains("application/json") {
        return bad(
            406,
            "NotAcceptable",
            "Accept must include application/json".into(),
        );
    }
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let (ns, name) = match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "secrets"] => ((*ns).to_owned(), None),
        ["api", "v1", "namespaces", ns, "secrets", name] => {
            ((*ns).to_owned(), Some((*name).to_owned()))
        }
        _ => {
            return bad(
                404,
                "NotFound",
                format!("the server could not find {}", req.path),
            );
        }
    };
    let check_body = |body: &Value, want_name: Option<&str>| -> Result<(String, Value), String> {
        if body["kind"] != "Secret" || body["apiVersion"] != "v1" {
            return Err(format!(
                "kind {} apiVersion {}",
                body["kind"], body["apiVersion"]
            ));
        }
        let Some(n) = body["metadata"]["name"].as_str() else {
            return Err("metadata.name is missing".into());
        };
        if want_name.is_some_and(|w| w != n) {
            return Err(format!("metadata.name {n} does not match the path"));
        }
        if let Some(bns) = body["metadata"]["namespace"].as_str()
            && bns != ns
        {
            return Err(format!("metadata.namespace {bns} does not match the path"));
        }
        let data = body["data"].as_object().cloned().unwrap_or_default();
        for (k, v) in &data {
            if v.as_str().and_then(|s| STANDARD.decode(s).ok()).is_none() {
                return Err(format!("data.{k} is not base64"));
            }
        }
        Ok((n.to_owned(), Value::Object(data)))
    };
    match (req.method.as_str(), name) {
        ("GET", Some(name)) => match st.secrets.get(&(ns.clone(), name.clone())) {
            Some(s) => Reply::json(200, s),
            None => status(404, "NotFound", &format!("secrets \"{name}\" not found")),
        },
        ("POST", None) => {
            if !req.header("content-type").starts_with("application/json") {
                return bad(
                    415,
                    "UnsupportedMediaType",
                    "POST without application/json".into(),
                );
            }
            let body = req.json().unwrap_or(Value::Null);
            let (n, data) = match check_body(&body, None) {
                Ok(x) => x,
                Err(e) => return bad(422, "Invalid", e),
            };
            if st.secrets.contains_key(&(ns.clone(), n.clone())) {
                return status(
                    409,
                    "AlreadyExists",
                    &format!("secrets \"{n}\" already exists"),
                );
            }
            st.next_version += 1;
            let mut obj = json!({
                "kind": "Secret", "apiVersion": "v1",
                "metadata": { "name": n, "namespace": ns, "resourceVersion": st.next_version.to_string(),
                              "uid": "00000000-0000-0000-0000-000000000001" },
                "type": "Opaque", "data": data,
            });
            if let Some(i) = body.get("immutable") {
                obj["immutable"] = i.clone();
            }
            st.secrets.insert((ns, n), obj.clone());
            Reply::json(201, &obj)
        }
        ("PUT", Some(name)) => {
            if !req.header("content-type").starts_with("application/json") {
                return bad(
                    415,
                    "UnsupportedMediaType",
                    "PUT without application/json".into(),
                );
            }
            let body = req.json().unwrap_or(Value::Null);
            let (_, data) = match check_body(&body, Some(&name)) {
                Ok(x) => x,
                Err(e) => return bad(422, "Invalid", e),
            };
            let key = (ns.clone(), name.clone());
            let Some(old) = st.secrets.get(&key).cloned() else {
                return status(404, "NotFound", &format!("secrets \"{name}\" not found"));
            };
            if body["metadata"]["resourceVersion"] != old["metadata"]["resourceVersion"] {
                return status(
                    409,
                    "Conflict",
                    "the object has been modified; please apply your changes to the latest version and try again",
                );
            }
            if old["immutable"] == true && old["data"] != data {
                return status(
                    422,
                    "Invalid",
                    &format!(
                        "Secret \"{name}\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
                    ),
                );
            }
            st.next_version += 1;
            let mut obj = old;
            obj["data"] = data;
            obj["metadata"]["resourceVersion"] = json!(st.next_version.to_string());
            if let Some(i) = body.get("immutable") {
                obj["immutable"] = i.clone();
            }
            st.secrets.insert(key, obj.clone());
            Reply::json(200, &obj)
        }
        (m, _) => bad(405, "MethodNotAllowed", format!("{m} {}", req.path)),
    }
}
