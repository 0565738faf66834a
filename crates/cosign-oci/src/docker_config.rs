//! Credentials from a docker `config.json`, as docker's CLI and ggcr's default keychain find
//! them: `credHelpers[<registry>]`, else `credsStore`, else `auths[<registry>]`.
//!
//! Docker Hub's key is `https://index.docker.io/v1/`. `auths` entries hold `auth`
//! (base64 `user:password`), `username`/`password`, `identitytoken` (an OAuth2 refresh
//! token) or `registrytoken` (a bearer token used as it is). A helper is run as
//! `docker-credential-<name> get` with the server address on stdin and answers
//! `{"ServerURL":..,"Username":..,"Secret":..}`; the user name `<token>` marks an identity
//! token.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;

use crate::OciError;
use crate::auth::{Credential, Secret};
use crate::reference::DEFAULT_REGISTRY;

/// Docker Hub's key in `config.json` and for credential helpers.
pub(crate) const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// The largest `config.json` we read.
const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// How long a credential helper may take (some ask the user or a cloud service).
const HELPER_TIMEOUT: Duration = Duration::from_secs(120);

/// A parsed docker `config.json`.
#[derive(Debug, Default)]
pub(crate) struct DockerConfig {
    path: PathBuf,
    auths: BTreeMap<String, AuthEntry>,
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl DockerConfig {
    /// Reads `path`; `Ok(None)` when the file does not exist.
    pub(crate) fn load(path: &Path) -> Result<Option<Self>, OciError> {
        let err = |reason: String, source: Option<crate::error::BoxError>| OciError::DockerConfig {
            path: path.to_owned(),
            reason,
            source,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err("cannot read the file".into(), Some(Box::new(e)))),
        };
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(err(
                format!("the file is larger than {MAX_CONFIG_BYTES} bytes"),
                None,
            ));
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err("cannot read the file".into(), Some(Box::new(e)))),
        };
        Self::parse(&bytes, path).map(Some)
    }

    /// Parses the contents of a `config.json`.
    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Self, OciError> {
        let raw: RawConfig = serde_json::from_slice(bytes).map_err(|e| OciError::DockerConfig {
            path: path.to_owned(),
            reason: "invalid JSON".into(),
            source: Some(Box::new(e)),
        })?;
        Ok(Self {
            path: path.to_owned(),
            auths: raw.auths,
            cred_helpers: raw.cred_helpers,
            creds_store: raw.creds_store.filter(|s| !s.is_empty()),
        })
    }

    /// The credentials for `registry` (a host such as `index.docker.io` or `127.0.0.1:5000`),
    /// or `None` (anonymous). `helper_dir` names the directory of `docker-credential-*`
    /// programs; `None` runs them through the process `PATH`.
    pub(crate) async fn credential_for(
        &self,
        registry: &str,
        helper_dir: Option<&Path>,
    ) -> Result<Option<Credential>, OciError> {
        let key = if registry == DEFAULT_REGISTRY {
            DOCKER_HUB_AUTH_KEY
        } else {
            registry
        };
        if let Some(helper) = self.cred_helpers.get(key).filter(|h| !h.is_empty()) {
            return run_helper(helper, key, registry, helper_dir).await;
        }
        if let Some(store) = &self.creds_store {
            return run_helper(store, key, registry, helper_dir).await;
        }
        match self.find_auth(key, registry) {
            Some(entry) => self.entry_credential(entry, key),
            None => Ok(None),
        }
    }

    fn find_auth(&self, key: &str, registry: &str) -> Option<&AuthEntry> {
        if let Some(e) = self.auths.get(key) {
            return Some(e);
        }
        self.auths.iter().find_map(|(k, e)| {
            let host = convert_to_hostname(k);
            let hub =
                registry == DEFAULT_REGISTRY && matches!(host, "index.docker.io" | "docker.io");
            (host == key || hub).then_some(e)
        })
    }

    fn entry_credential(&self, e: &AuthEntry, key: &str) -> Result<Option<Credential>, OciError> {
        let non_empty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
        if let Some(t) = non_empty(&e.registrytoken) {
            return Ok(Some(Credential::RegistryToken(Secret(t))));
        }
        if let Some(t) = non_empty(&e.identitytoken) {
            return Ok(Some(Credential::IdentityToken(Secret(t))));
        }
        if let Some(auth) = non_empty(&e.auth) {
            let bad = |source: Option<crate::error::BoxError>| OciError::DockerConfig {
                path: self.path.clone(),
                reason: format!("the \"auth\" entry for {key:?} is not base64 of user:password"),
                source,
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|e| bad(Some(Box::new(e))))?;
            let text = String::from_utf8(decoded).map_err(|_| bad(None))?;
            let (user, pass) = text.split_once(':').ok_or_else(|| bad(None))?;
            return Ok(Some(Credential::Basic {
                username: user.to_owned(),
                password: Secret(pass.trim_end_matches('\0').to_owned()),
            }));
        }
        match (non_empty(&e.username), non_empty(&e.password)) {
            (Some(username), Some(password)) => Ok(Some(Credential::Basic {
                username,
                password: Secret(password),
            })),
            _ => Ok(None),
        }
    }
}

/// docker's `ConvertToHostname`: strips `http(s)://` and any path.
fn convert_to_hostname(key: &str) -> &str {
    let stripped = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    stripped.split('/').next().unwrap_or(stripped)
}

async fn run_helper(
    helper: &str,
    server: &str,
    registry: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<Credential>, OciError> {
    let fail =
        |reason: String, source: Option<crate::error::BoxError>| OciError::CredentialHelper {
            helper: helper.to_owned(),
            registry: registry.to_owned(),
            reason,
            source,
        };
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(fail("invalid helper name".into(), None));
    }
    let program = format!("docker-credential-{helper}");
    let program: PathBuf = match helper_dir {
        Some(dir) => dir.join(program),
        None => PathBuf::from(program),
    };
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail("cannot start the helper".into(), Some(Box::new(e))))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes()).await;
        let _ = stdin.shutdown().await;
    }
    let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            fail(
                format!("no answer within {} s", HELPER_TIMEOUT.as_secs()),
                None,
            )
        })?
        .map_err(|e| fail("waiting for the helper".into(), Some(Box::new(e))))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stdout.contains("credentials not found") || stderr.contains("credentials not found") {
            return Ok(None);
        }
        let first = stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let first: String = first
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        return Err(fail(
            format!("exited with {}: {first}", output.status),
            None,
        ));
    }
    let answer: HelperAnswer = serde_json::from_str(stdout.trim()).map_err(|e| {
        fail(
            "the answer is not the expected JSON".into(),
            Some(Box::new(e)),
        )
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    if answer.username == "<token>" {
        return Ok(Some(Credential::IdentityToken(Secret(answer.secret))));
    }
    Ok(Some(Credential::Basic {
        username: answer.username,
        password: Secret(answer.secret),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn cfg(json: &str) -> DockerConfig {
        DockerConfig::parse(json.as_bytes(), Path::new("/x/config.json")).unwrap()
    }

    fn basic(u: &str, p: &str) -> Credential {
        Credential::Basic {
            username: u.into(),
            password: Secret(p.into()),
        }
    }

    #[tokio::test]
    async fn auths_entries() {
        let c = cfg(r#"{
            "auths": {
                "https://index.docker.io/v1/": {"auth": "dXNlcjpwYTpzcw=="},
                "reg.example.com": {"username": "bob", "password": "pw"},
                "https://legacy.example.com/v1/": {"auth": "YTpi"},
                "tok.example.com": {"identitytoken": "refresh-me"},
                "bearer.example.com": {"registrytoken": "bear"},
                "empty.example.com": {},
                "bad.example.com": {"auth": "!!!"}
            }
        }"#);
        assert_eq!(
            c.credential_for("index.docker.io", None).await.unwrap(),
            Some(basic("user", "pa:ss"))
        );
        assert_eq!(
            c.credential_for("reg.example.com", None).await.unwrap(),
            Some(basic("bob", "pw"))
        );
        assert_eq!(
            c.credential_for("legacy.example.com", None).await.unwrap(),
            Some(basic("a", "b"))
        );
        assert_eq!(
            c.credential_for("tok.example.com", None).await.unwrap(),
            Some(Credential::IdentityToken(Secret("refresh-me".into())))
        );
        assert_eq!(
            c.credential_for("bearer.example.com", None).await.unwrap(),
            Some(Credential::RegistryToken(Secret("bear".into())))
        );
        assert_eq!(
            c.credential_for("empty.example.com", None).await.unwrap(),
            None
        );
        assert_eq!(
            c.credential_for("other.example.com", None).await.unwrap(),
            None
        );
        let e = c.credential_for("bad.example.com", None).await.unwrap_err();
        assert!(matches!(e, OciError::DockerConfig { .. }), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("pa:ss"));
    }

    #[tokio::test]
    async fn hub_short_keys() {
        let c = cfg(r#"{"auths": {"docker.io": {"auth": "YTpi"}}}"#);
        assert_eq!(
            c.credential_for("index.docker.io", None).await.unwrap(),
            Some(basic("a", "b"))
        );
    }

    #[test]
    fn malformed_and_missing() {
        assert!(DockerConfig::parse(b"{", Path::new("c.json")).is_err());
        assert!(DockerConfig::parse(br#"{"auths": 5}"#, Path::new("c.json")).is_err());
        let dir = tempfile::tempdir().unwrap();
        assert!(
            DockerConfig::load(&dir.path().join("nope.json"))
                .unwrap()
                .is_none()
        );
        let p = dir.path().join("config.json");
        std::fs::write(&p, r#"{"credsStore":""}"#).unwrap();
        let c = DockerConfig::load(&p).unwrap().unwrap();
        assert!(c.creds_store.is_none());
    }

    fn write_helper(dir: &Path, name: &str, script: &str) {
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[tokio::test]
    async fn credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        // Answers according to the server address read from stdin.
        write_helper(
            dir.path(),
            "test",
            r#"[ "$1" = get ] || exit 3
read -r server || true
case "$server" in
  reg.example.com) echo '{"ServerURL":"reg.example.com","Username":"helper-user","Secret":"helper-pass"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh"}' ;;
  broken.example.com) echo 'this is not json' ;;
  fail.example.com) echo 'boom: the keychain is locked' >&2; exit 1 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac"#,
        );
        let c = cfg(r#"{
            "auths": {"reg.example.com": {"auth": "YTpi"}, "store.example.com": {"auth": "YTpi"}},
            "credHelpers": {"reg.example.com": "test", "https://index.docker.io/v1/": "test",
                            "broken.example.com": "test", "fail.example.com": "test",
                            "missing.example.com": "test", "nohelper.example.com": "absent"}
        }"#);
        let d = Some(dir.path());
        assert_eq!(
            c.credential_for("reg.example.com", d).await.unwrap(),
            Some(basic("helper-user", "helper-pass"))
        );
        assert_eq!(
            c.credential_for("index.docker.io", d).await.unwrap(),
            Some(Credential::IdentityToken(Secret("refresh".into())))
        );
        assert_eq!(
            c.credential_for("missing.example.com", d).await.unwrap(),
            None
        );
        let e = c.credential_for("broken.example.com", d).await.unwrap_err();
        assert!(matches!(e, OciError::CredentialHelper { .. }), "{e:?}");
        let e = c.credential_for("fail.example.com", d).await.unwrap_err();
        assert!(e.to_string().contains("keychain is locked"), "{e}");
        let e = c
            .credential_for("nohelper.example.com", d)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("docker-credential-absent"), "{e}");
        // No helper for this registry: the auths entry counts.
        assert_eq!(
            c.credential_for("store.example.com", d).await.unwrap(),
            Some(basic("a", "b"))
        );

        // credsStore replaces auths for every registry without its own helper.
        let c = cfg(r#"{"auths": {"store.example.com": {"auth": "YTpi"}}, "credsStore": "test"}"#);
        assert_eq!(
            c.credential_for("store.example.com", d).await.unwrap(),
            None
        );
        assert_eq!(
            c.credential_for("reg.example.com", d).await.unwrap(),
            Some(basic("helper-user", "helper-pass"))
        );
        let c = cfg(r#"{"credsStore": "../evil"}"#);
        assert!(c.credential_for("reg.example.com", d).await.is_err());
    }
}
