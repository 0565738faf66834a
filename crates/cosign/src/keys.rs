//! Loading keys from key references: files, `env://`, `http(s)://`.
//!
//! KMS, PKCS#11, Kubernetes and GitLab references are recognised (so errors name them) but
//! resolved by their providers, which are added separately.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cosign_crypto::{PrivateKey, PublicKey};
use cosign_kms::{KeyRef, PinPrompt, Pkcs11Pin, Pkcs11Settings, Pkcs11Signer, Pkcs11Uri};
use zeroize::Zeroizing;

use crate::Error;
use crate::fsutil::{StagedFile, read_small_file};

mod kms;

pub use kms::{KMS_ENV_VARS, create_kms_key, kms_config, store_k8s_key_pair};

/// Largest key file we read (keys are a few KiB at most).
pub const KEY_SIZE_LIMIT: u64 = 1 << 20;

/// PEM labels of cosign's encrypted private key file.
pub const ENCRYPTED_KEY_LABELS: [&str; 2] = [
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

/// Environment lookups are passed in by the caller (libraries read no environment themselves).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Supplies the password for an encrypted key, asked only when one is needed.
pub type PasswordSource<'a> = &'a mut dyn FnMut() -> Result<Zeroizing<Vec<u8>>, Error>;

/// Reads the bytes that a file, `env://` or URL reference names.
pub async fn read_key_material(
    keyref: &KeyRef,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    match keyref {
        KeyRef::File(path) => Ok(Zeroizing::new(read_small_file(
            path,
            "key file",
            KEY_SIZE_LIMIT,
        )?)),
        KeyRef::Env(name) => {
            let value = env(name).ok_or_else(|| Error::EnvKeyUnset(name.clone()))?;
            if value.is_empty() {
                return Err(Error::Invalid {
                    what: format!("loading key from env://{name}"),
                    reason: "the environment variable is empty".into(),
                });
            }
            Ok(Zeroizing::new(value.into_bytes()))
        }
        KeyRef::Url(url) => fetch_url(url, timeout).await.map(Zeroizing::new),
        other => Err(unsupported(other)),
    }
}

fn unsupported(keyref: &KeyRef) -> Error {
    let what = match keyref {
        KeyRef::Kms { provider, .. } => format!("{} keys", provider.name()),
        KeyRef::Pkcs11(_) => "PKCS#11 keys".to_owned(),
        KeyRef::Kubernetes { .. } => "Kubernetes secret keys".to_owned(),
        KeyRef::GitLab(_) => "GitLab keys".to_owned(),
        _ => "this key reference".to_owned(),
    };
    Error::UnsupportedKeyRef(format!(
        "{what} ({keyref}) are not supported by this build yet; use a key file, env:// or https:// reference"
    ))
}

/// Fetches a small document (a public key) over HTTP(S), capped in size.
async fn fetch_url(url: &str, timeout: Duration) -> Result<Vec<u8>, Error> {
    let http_err = |reason: String| Error::Http {
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| http_err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| http_err(error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(http_err(format!("server answered {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| http_err(error_chain(&e)))? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > KEY_SIZE_LIMIT {
            return Err(http_err(format!(
                "response is larger than {KEY_SIZE_LIMIT} bytes"
            )));
        }
    }
    if body.is_empty() {
        return Err(http_err("empty response".to_owned()));
    }
    Ok(body)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        text.push_str(": ");
        text.push_str(&s.to_string());
        cur = s.source();
    }
    text
}

/// The label of the first PEM block in `data`, if any.
pub fn pem_label(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &text[start..];
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

/// Decrypts an encrypted cosign key file's bytes, asking for the password only after the PEM
/// type was checked.
pub fn decrypt_key_material(
    material: &[u8],
    source_name: &str,
    password: PasswordSource<'_>,
) -> Result<PrivateKey, Error> {
    match pem_label(material) {
        Some(label) if ENCRYPTED_KEY_LABELS.contains(&label) => {}
        Some(label) => {
            return Err(Error::Invalid {
                what: format!("loading private key {source_name}"),
                reason: format!("unsupported pem type: {label}"),
            });
        }
        None => {
            return Err(Error::Invalid {
                what: format!("loading private key {source_name}"),
                reason: "no PEM block found (expected an encrypted cosign private key)".into(),
            });
        }
    }
    let pass = password()?;
    cosign_crypto::decrypt_private_key(material, &pass)
        .map_err(|e| Error::crypto(format!("loading private key {source_name}"), e))
}

/// The PKCS#11 settings cosign takes from the environment: `COSIGN_PKCS11_MODULE_PATH`,
/// `COSIGN_PKCS11_PIN` and `COSIGN_PKCS11_IGNORE_CERTIFICATE` (`1` or another true value).
pub fn pkcs11_settings(env: EnvLookup<'_>) -> Pkcs11Settings {
    Pkcs11Settings {
        module_path: env("COSIGN_PKCS11_MODULE_PATH")
            .filter(|p| !p.is_empty())
            .map(Into::into),
        pin: env("COSIGN_PKCS11_PIN")
            .filter(|p| !p.is_empty())
            .map(Pkcs11Pin::new),
        ignore_certificate: env("COSIGN_PKCS11_IGNORE_CERTIFICATE")
            .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True")),
    }
}

/// Opens a signing key on a PKCS#11 token. The PIN comes from the URI, else `settings`, else
/// `prompt` (only when the token requires a login). A certificate on the token beside the key
/// becomes [`crate::Signer::certificate_pem`] unless `settings.ignore_certificate`.
pub fn open_pkcs11_signer(
    uri: &Pkcs11Uri,
    settings: &Pkcs11Settings,
    prompt: Option<PinPrompt<'_>>,
) -> Result<crate::Signer, Error> {
    let signer = Pkcs11Signer::open(uri, settings, prompt).map_err(|e| Error::Kms(e.into()))?;
    Ok(crate::Signer::Remote(Box::new(signer)))
}

/// Loads a signing key from a reference: a key file / `env://` / URL is decrypted with a
/// password from `password`; KMS and token references open a remote signer. A PKCS#11 key
/// takes its PIN from the URI or `COSIGN_PKCS11_PIN` (use [`open_pkcs11_signer`] to prompt).
pub async fn load_signing_key(
    keyref: &KeyRef,
    env: EnvLookup<'_>,
    password: PasswordSource<'_>,
    timeout: Duration,
) -> Result<crate::Signer, Error> {
    if let KeyRef::Pkcs11(uri) = keyref {
        return open_pkcs11_signer(uri, &pkcs11_settings(env), None);
    }
    match keyref {
        KeyRef::Kms { provider, uri } => {
            return kms::kms_signer(*provider, uri, env, timeout).await;
        }
        KeyRef::Kubernetes { namespace, name } => {
            return kms::k8s_signing_key(namespace, name, env, timeout).await;
        }
        _ => {}
    }
    let material = read_key_material(keyref, env, timeout).await?;
    Ok(crate::Signer::Local(Box::new(decrypt_key_material(
        &material,
        &keyref.to_string(),
        password,
    )?)))
}

/// Loads a verification key: a PEM public key, or the public key of a PEM certificate; for a
/// PKCS#11 URI, the key's public key read from the token (never prompting for a PIN).
pub async fn load_public_key(
    keyref: &KeyRef,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<PublicKey, Error> {
    if let KeyRef::Pkcs11(uri) = keyref {
        return cosign_kms::read_pkcs11_public_key(uri, &pkcs11_settings(env))
            .map_err(|e| Error::Kms(e.into()));
    }
    match keyref {
        KeyRef::Kms { provider, uri } => {
            return kms::kms_public_key(*provider, uri, env, timeout).await;
        }
        KeyRef::Kubernetes { namespace, name } => {
            return kms::k8s_public_key(namespace, name, env, timeout).await;
        }
        _ => {}
    }
    let material = read_key_material(keyref, env, timeout).await?;
    if let Some(label) = pem_label(&material)
        && ENCRYPTED_KEY_LABELS.contains(&label)
    {
        return Err(Error::Invalid {
            what: format!("loading public key {keyref}"),
            reason: format!(
                "this is a private key; verify with the public key (cosign public-key --key {keyref} > cosign.pub)"
            ),
        });
    }
    PublicKey::from_pem(&material)
        .map_err(|e| Error::crypto(format!("loading public key {keyref}"), e))
}

/// Reads a plain PEM private key for `import-key-pair`.
pub fn read_importable_key(path: &Path) -> Result<PrivateKey, Error> {
    let material = Zeroizing::new(read_small_file(path, "key file", KEY_SIZE_LIMIT)?);
    PrivateKey::from_pem(&material)
        .map_err(|e| Error::crypto(format!("importing private key {}", path.display()), e))
}

/// A key pair in cosign's file formats.
pub struct KeyPairPem {
    /// The encrypted private key (`ENCRYPTED SIGSTORE PRIVATE KEY`).
    pub private: Zeroizing<String>,
    /// The public key (`PUBLIC KEY`).
    pub public: String,
}

impl KeyPairPem {
    /// Encrypts `key` with `password` (scrypt + secretbox, as cosign writes it).
    pub fn encode(key: &PrivateKey, password: &[u8]) -> Result<Self, Error> {
        let private = cosign_crypto::encrypt_private_key(key, password)
            .map_err(|e| Error::crypto("encrypting the private key", e))?;
        Ok(Self {
            private: Zeroizing::new(private),
            public: key.public_key().to_pem(),
        })
    }

    /// The file names cosign writes for `prefix`: `<prefix>.key` and `<prefix>.pub`.
    pub fn paths(prefix: &str) -> (PathBuf, PathBuf) {
        (
            PathBuf::from(format!("{prefix}.key")),
            PathBuf::from(format!("{prefix}.pub")),
        )
    }

    /// Writes `<prefix>.key` (0600) and `<prefix>.pub` (0644) all-or-nothing: both are staged
    /// before either is renamed into place. Returns the two paths.
    pub fn write(&self, prefix: &str) -> Result<(PathBuf, PathBuf), Error> {
        let (key_path, pub_path) = Self::paths(prefix);
        let staged_key = StagedFile::stage(&key_path, self.private.as_bytes(), 0o600)?;
        let staged_pub = StagedFile::stage(&pub_path, self.public.as_bytes(), 0o644)?;
        staged_key.commit()?;
        staged_pub.commit()?;
        Ok((key_path, pub_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pem_label() {
        assert_eq!(
            pem_label(b"-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n"),
            Some("PUBLIC KEY")
        );
        assert_eq!(pem_label(b"not pem"), None);
        assert_eq!(pem_label(&[0xff, 0xfe]), None);
    }

    #[test]
    fn wrong_pem_type_fails_before_password() {
        let mut asked = false;
        let mut pw = || {
            asked = true;
            Ok(Zeroizing::new(Vec::new()))
        };
        let err = decrypt_key_material(
            b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "k",
            &mut pw,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("unsupported pem type: EC PRIVATE KEY")
        );
        assert!(!asked);
    }
}
