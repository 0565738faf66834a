//! Kubernetes secrets as key stores: `k8s://<namespace>/<secret>`.
//!
//! cosign keeps a key pair in a Secret with the data keys `cosign.key` (the encrypted private
//! key), `cosign.pub` and `cosign.password`. This module reads and writes that Secret through the
//! Kubernetes API (`/api/v1/namespaces/<ns>/secrets[/<name>]`), configured from kubeconfig
//! (`KUBECONFIG`, a `:`-separated list merged first-wins as kubectl does, else
//! `~/.kube/config`): the current context's cluster (`server`, `certificate-authority(-data)`)
//! and user (`token`, `tokenFile`, `client-certificate(-data)` + `client-key(-data)`, or
//! `username`/`password`). `exec` and `auth-provider` plugins are not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use crate::KmsError;
use crate::config::{KmsConfig, Secret};
use crate::http::{self, Ctx, Tls};

const PROVIDER: &str = "Kubernetes";

/// The data keys cosign uses.
pub const PRIVATE_KEY: &str = "cosign.key";
/// The public key's data key.
pub const PUBLIC_KEY: &str = "cosign.pub";
/// The password's data key.
pub const PASSWORD: &str = "cosign.password";

/// A secret's data (decoded), as far as cosign reads it.
pub struct SecretData {
    /// Every data key and its decoded value.
    pub data: BTreeMap<String, zeroize::Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretData")
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What `store_key_pair` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new Secret was created.
    Created,
    /// An existing Secret was updated.
    Updated,
}

// ---- YAML -> JSON ------------------------------------------------------------------------------

fn yaml_to_json(y: &Yaml, depth: usize) -> Value {
    if depth > 64 {
        return Value::Null;
    }
    match y {
        Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
        Yaml::Integer(i) => json!(i),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(|v| yaml_to_json(v, depth + 1)).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((key, yaml_to_json(v, depth + 1)))
                })
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

// ---- kubeconfig ---------------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
struct Named<T> {
    name: String,
    #[serde(flatten)]
    inner: T,
}

#[derive(Deserialize, Default, Clone)]
struct ClusterEntry {
    #[serde(default)]
    cluster: Cluster,
}

#[derive(Deserialize, Default, Clone)]
struct Cluster {
    server: Option<String>,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(rename = "certificate-authority")]
    ca_file: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", default)]
    insecure: bool,
}

#[derive(Deserialize, Default, Clone)]
struct UserEntry {
    #[serde(default)]
    user: User,
}

#[derive(Deserialize, Default, Clone)]
struct User {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<String>,
    #[serde(rename = "client-key-data")]
    key_data: Option<String>,
    #[serde(rename = "client-certificate")]
    cert_file: Option<String>,
    #[serde(rename = "client-key")]
    key_file: Option<String>,
    username: Option<String>,
    password: Option<String>,
    exec: Option<Value>,
    #[serde(rename = "auth-provider")]
    auth_provider: Option<Value>,
}

#[derive(Deserialize, Default, Clone)]
struct ContextEntry {
    #[serde(default)]
    context: Context,
}

#[derive(Deserialize, Default, Clone)]
struct Context {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
}

#[derive(Deserialize, Default)]
struct KubeconfigFile {
    #[serde(rename = "current-context")]
    current_context: Option<String>,
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
}

/// How requests authenticate.
enum Auth {
    Bearer(Secret),
    Basic(String, Secret),
    /// A client certificate (in the TLS identity).
    None,
}

/// A Kubernetes API client for one cluster.
struct KubeClient {
    http: reqwest::Client,
    server: String,
    auth: Auth,
    ctx: Ctx,
}

fn resolve_path(base: &Path, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

fn load_client(cfg: &KmsConfig, ctx: &Ctx) -> Result<KubeClient, KmsError> {
    let files: Vec<PathBuf> = match cfg.kube.kubeconfig.as_deref().filter(|k| !k.is_empty()) {
        Some(list) => list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        None => cfg
            .home
            .as_ref()
            .map(|h| vec![h.join(".kube").join("config")])
            .unwrap_or_default(),
    };
    let mut current: Option<String> = None;
    let mut clusters: BTreeMap<String, (Cluster, PathBuf)> = BTreeMap::new();
    let mut users: BTreeMap<String, (User, PathBuf)> = BTreeMap::new();
    let mut contexts: BTreeMap<String, Context> = BTreeMap::new();
    let mut read_any = false;
    for file in &files {
        if !file.exists() {
            continue;
        }
        read_any = true;
        let text = http::read_small(ctx, file, "kubeconfig")?;
        let text = String::from_utf8(text)
            .map_err(|_| ctx.err(format!("kubeconfig {} is not UTF-8", file.display())))?;
        let docs = YamlLoader::load_from_str(&text)
            .map_err(|e| ctx.caused(format!("kubeconfig {} is not YAML", file.display()), e))?;
        let Some(doc) = docs.first() else { continue };
        let parsed: KubeconfigFile = serde_json::from_value(yaml_to_json(doc, 0))
            .map_err(|e| ctx.err(format!("kubeconfig {}: {e}", file.display())))?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if current.is_none() {
            current = parsed.current_context.filter(|c| !c.is_empty());
        }
        for c in parsed.clusters {
            clusters
                .entry(c.name)
                .or_insert((c.inner.cluster, dir.clone()));
        }
        for u in parsed.users {
            users.entry(u.name).or_insert((u.inner.user, dir.clone()));
        }
        for c in parsed.contexts {
            contexts.entry(c.name).or_insert(c.inner.context);
        }
    }
    if !read_any {
        return Err(ctx.err("no kubeconfig: set KUBECONFIG or create ~/.kube/config"));
    }
    let current = current.ok_or_else(|| ctx.err("kubeconfig has no current-context"))?;
    let context = contexts
        .get(&current)
        .ok_or_else(|| ctx.err(format!("kubeconfig has no context {current:?}")))?;
    let (cluster, cluster_dir) = clusters
        .get(&context.cluster)
        .ok_or_else(|| ctx.err(format!("kubeconfig has no cluster {:?}", context.cluster)))?;
    let server = cluster
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ctx.err(format!("cluster {:?} has no server", context.cluster)))?;
    if cluster.insecure {
        return Err(ctx.err(
            "insecure-skip-tls-verify is set for the cluster; this build always verifies the API server's certificate (give certificate-authority-data instead)",
        ));
    }
    let mut tls = Tls::default();
    if let Some(data) = cluster.ca_data.as_deref().filter(|d| !d.is_empty()) {
        let pem = STANDARD
            .decode(data.trim())
            .map_err(|e| ctx.caused("certificate-authority-data is not base64", e))?;
        tls.ca_pems
            .push((pem, "certificate-authority-data".to_owned()));
    } else if let Some(file) = cluster.ca_file.as_deref().filter(|f| !f.is_empty()) {
        tls.ca_file(
            ctx,
            &resolve_path(cluster_dir, file),
            "certificate-authority",
        )?;
    }
    let empty = (User::default(), PathBuf::new());
    let (user, user_dir) = if context.user.is_empty() {
        &empty
    } else {
        users
            .get(&context.user)
            .ok_or_else(|| ctx.err(format!("kubeconfig has no user {:?}", context.user)))?
    };
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err(ctx.err(format!(
            "user {:?} authenticates with an exec or auth-provider plugin, which this build does not run; use a token or a client certificate",
            context.user
        )));
    }
    let decode = |what: &str, d: &str| {
        STANDARD
            .decode(d.trim())
            .map_err(|e| ctx.caused(format!("{what} is not base64"), e))
    };
    let cert = match (&user.cert_data, &user.cert_file) {
        (Some(d), _) if !d.is_empty() => Some(decode("client-certificate-data", d)?),
        (_, Some(f)) if !f.is_empty() => Some(http::read_small(
            ctx,
            &resolve_path(user_dir, f),
            "client-certificate",
        )?),
        _ => None,
    };
    let key = match (&user.key_data, &user.key_file) {
        (Some(d), _) if !d.is_empty() => {
            Some(zeroize::Zeroizing::new(decode("client-key-data", d)?))
        }
        (_, Some(f)) if !f.is_empty() => Some(zeroize::Zeroizing::new(http::read_small(
            ctx,
            &resolve_path(user_dir, f),
            "client-key",
        )?)),
        _ => None,
    };
    match (cert, key) {
        (Some(c), Some(k)) => {
            let mut pem = c;
            pem.push(b'\n');
            pem.extend_from_slice(&k);
            tls.identity_pem = Some(pem);
        }
        (None, None) => {}
        _ => {
            return Err(ctx.err(
                "the user has a client certificate without its key (or a key without its certificate)",
            ));
        }
    }
    let auth = if let Some(t) = user.token.as_deref().filter(|t| !t.is_empty()) {
        Auth::Bearer(Secret::new(t))
    } else if let Some(f) = user.token_file.as_deref().filter(|f| !f.is_empty()) {
        let text = http::read_small(ctx, &resolve_path(user_dir, f), "tokenFile")?;
        Auth::Bearer(Secret::new(String::from_utf8_lossy(&text).trim()))
    } else if let (Some(u), Some(p)) = (&user.username, &user.password) {
        Auth::Basic(u.clone(), Secret::new(p.clone()))
    } else {
        Auth::None
    };
    let http = http::client(cfg, ctx, &tls)?;
    Ok(KubeClient {
        http,
        server: server.trim_end_matches('/').to_owned(),
        auth,
        ctx: ctx.clone(),
    })
}

impl KubeClient {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.server))
            .header("Accept", "application/json");
        match &self.auth {
            Auth::Bearer(t) => req.bearer_auth(t.expose()),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p.expose())),
            Auth::None => req,
        }
    }

    fn failure(&self, what: &str, resp: &http::Response) -> KmsError {
        let e = crate::ApiError::from_response(resp);
        self.ctx.caused(
            format!("{what}: the API server answered {}", resp.status),
            e,
        )
    }
}

fn check_names(ctx: &Ctx, namespace: &str, name: &str) -> Result<(), KmsError> {
    // DNS-1123 labels / subdomains.
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if ok(namespace) && ok(name) {
        Ok(())
    } else {
        Err(ctx.err("namespace and secret names must be lowercase DNS names"))
    }
}

fn ctx_for(namespace: &str, name: &str) -> Ctx {
    Ctx::new(PROVIDER, format!("secret k8s://{namespace}/{name}"))
}

async fn get(client: &KubeClient, namespace: &str, name: &str) -> Result<Option<Value>, KmsError> {
    let what = "reading the secret";
    let resp = http::send(
        &client.ctx,
        what,
        client.request(
            reqwest::Method::GET,
            &format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
        ),
    )
    .await?;
    if resp.status.as_u16() == 404 {
        return Ok(None);
    }
    if !resp.status.is_success() {
        return Err(client.failure(what, &resp));
    }
    resp.json(&client.ctx, what).map(Some)
}

/// Reads a secret's data.
pub async fn read_secret(
    namespace: &str,
    name: &str,
    cfg: &KmsConfig,
) -> Result<SecretData, KmsError> {
    let ctx = ctx_for(namespace, name);
    check_names(&ctx, namespace, name)?;
    let client = load_client(cfg, &ctx)?;
    let secret = get(&client, namespace, name)
        .await?
        .ok_or_else(|| ctx.err("the secret does not exist"))?;
    let mut data = BTreeMap::new();
    if let Some(map) = secret.get("data").and_then(Value::as_object) {
        for (k, v) in map {
            let text = v.as_str().unwrap_or("");
            let bytes = STANDARD
                .decode(text)
                .map_err(|e| ctx.caused(format!("data key {k} is not base64"), e))?;
            data.insert(k.clone(), zeroize::Zeroizing::new(bytes));
        }
    }
    Ok(SecretData { data })
}

/// Stores a key pair: creates the Secret (immutable), or updates an existing one keeping its
/// other data keys, as cosign does.
pub async fn store_key_pair(
    namespace: &str,
    name: &str,
    private_pem: &[u8],
    public_pem: &[u8],
    password: &[u8],
    cfg: &KmsConfig,
) -> Result<Stored, KmsError> {
    let ctx = ctx_for(namespace, name);
    check_names(&ctx, namespace, name)?;
    let client = load_client(cfg, &ctx)?;
    let existing = get(&client, namespace, name).await?;
    let mut data = serde_json::Map::new();
    if let Some(old) = existing
        .as_ref()
        .and_then(|s| s.get("data"))
        .and_then(Value::as_object)
    {
        data.extend(old.clone());
    }
    data.insert(PRIVATE_KEY.into(), json!(STANDARD.encode(private_pem)));
    data.insert(PUBLIC_KEY.into(), json!(STANDARD.encode(public_pem)));
    data.insert(PASSWORD.into(), json!(STANDARD.encode(password)));
    let mut metadata = json!({ "name": name, "namespace": namespace });
    if let Some(rv) = existing
        .as_ref()
        .and_then(|s| s.pointer("/metadata/resourceVersion"))
    {
        metadata["resourceVersion"] = rv.clone();
    }
    let body = zeroize::Zeroizing::new(
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata,
            "data": data,
            "immutable": true,
        })
        .to_string(),
    );
    let (method, path, what, stored) = match existing {
        None => (
            reqwest::Method::POST,
            format!("/api/v1/namespaces/{namespace}/secrets"),
            "creating the secret",
            Stored::Created,
        ),
        Some(_) => (
            reqwest::Method::PUT,
            format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
            "updating the secret",
            Stored::Updated,
        ),
    };
    let resp = http::send(
        &ctx,
        what,
        client
            .request(method, &path)
            .header("Content-Type", "application/json")
            .body(body.as_bytes().to_vec()),
    )
    .await?;
    if !resp.status.is_success() {
        return Err(client.failure(what, &resp));
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_converts() {
        let docs = YamlLoader::load_from_str(
            "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n",
        )
        .unwrap();
        let v = yaml_to_json(&docs[0], 0);
        assert_eq!(v["current-context"], "c");
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            v["clusters"][0]["cluster"]["insecure-skip-tls-verify"],
            true
        );
        let parsed: KubeconfigFile = serde_json::from_value(v).unwrap();
        assert!(parsed.clusters[0].inner.cluster.insecure);
    }

    #[test]
    fn names_are_checked() {
        let ctx = ctx_for("a", "b");
        assert!(check_names(&ctx, "default", "cosign").is_ok());
        assert!(check_names(&ctx, "default", "../x").is_err());
        assert!(check_names(&ctx, "Default", "x").is_err());
    }
}
