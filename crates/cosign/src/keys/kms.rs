//! Keys held by a KMS (`awskms://`, `hashivault://`, `openbao://`, `gcpkms://`, `azurekms://`)
//! and key pairs kept in Kubernetes secrets (`k8s://namespace/secret`).
//!
//! The providers' settings come from the caller's environment lookup, through one table of
//! variable names ([`KMS_ENV_VARS`], all registered in the CLI's environment registry), into a
//! [`KmsConfig`] for `cosign-kms`; nothing here reads the environment itself.

use std::path::PathBuf;
use std::time::Duration;

use cosign_crypto::PublicKey;
use cosign_kms::{CreatedKey, KmsConfig, KmsProvider, Secret, k8s};
use zeroize::Zeroizing;

use super::{EnvLookup, decrypt_key_material};
use crate::{Error, Signer};

/// Every environment variable the KMS providers and the Kubernetes client use.
pub const KMS_ENV_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_CA_BUNDLE",
    "AWS_CONFIG_FILE",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "BAO_ADDR",
    "BAO_TOKEN",
    "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "HOME",
    "KUBECONFIG",
    "SSL_CERT_FILE",
    "TRANSIT_SECRET_ENGINE_PATH",
    "VAULT_ADDR",
    "VAULT_CACERT",
    "VAULT_NAMESPACE",
    "VAULT_TOKEN",
];

/// The providers' settings from an environment lookup (only the names in [`KMS_ENV_VARS`]).
pub fn kms_config(env: EnvLookup<'_>, timeout: Duration) -> KmsConfig {
    let get = |name: &str| {
        debug_assert!(KMS_ENV_VARS.contains(&name), "{name} not in KMS_ENV_VARS");
        env(name).filter(|v| !v.is_empty())
    };
    let path = |name: &str| get(name).map(PathBuf::from);
    let secret = |name: &str| get(name).map(Secret::new);
    KmsConfig {
        home: path("HOME"),
        extra_ca_file: path("SSL_CERT_FILE"),
        request_timeout: Some(timeout).filter(|t| !t.is_zero()),
        aws: cosign_kms::AwsConfig {
            access_key_id: get("AWS_ACCESS_KEY_ID"),
            secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
            session_token: secret("AWS_SESSION_TOKEN"),
            region: get("AWS_REGION"),
            default_region: get("AWS_DEFAULT_REGION"),
            profile: get("AWS_PROFILE"),
            shared_credentials_file: path("AWS_SHARED_CREDENTIALS_FILE"),
            config_file: path("AWS_CONFIG_FILE"),
            ca_bundle: path("AWS_CA_BUNDLE"),
            endpoint_url: get("AWS_ENDPOINT_URL_KMS").or_else(|| get("AWS_ENDPOINT_URL")),
        },
        vault: cosign_kms::VaultConfig {
            vault_addr: get("VAULT_ADDR"),
            bao_addr: get("BAO_ADDR"),
            vault_token: secret("VAULT_TOKEN"),
            bao_token: secret("BAO_TOKEN"),
            transit_path: get("TRANSIT_SECRET_ENGINE_PATH"),
            namespace: get("VAULT_NAMESPACE"),
            ca_cert: path("VAULT_CACERT"),
        },
        gcp: cosign_kms::GcpConfig {
            application_credentials: path("GOOGLE_APPLICATION_CREDENTIALS"),
            access_token: secret("GOOGLE_OAUTH_ACCESS_TOKEN"),
            endpoint: get("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS"),
        },
        azure: cosign_kms::AzureConfig {
            tenant_id: get("AZURE_TENANT_ID"),
            client_id: get("AZURE_CLIENT_ID"),
            client_secret: secret("AZURE_CLIENT_SECRET"),
            authority_host: get("AZURE_AUTHORITY_HOST"),
        },
        kube: cosign_kms::KubeConfig {
            kubeconfig: get("KUBECONFIG"),
        },
    }
}

/// Opens a KMS key for signing (the key stays in the KMS).
pub(crate) async fn kms_signer(
    provider: KmsProvider,
    uri: &str,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<Signer, Error> {
    let signer = cosign_kms::open_signer(provider, uri, &kms_config(env, timeout))
        .await
        .map_err(Error::Kms)?;
    Ok(Signer::Remote(signer))
}

/// The public key of a KMS key.
pub(crate) async fn kms_public_key(
    provider: KmsProvider,
    uri: &str,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<PublicKey, Error> {
    cosign_kms::public_key(provider, uri, &kms_config(env, timeout))
        .await
        .map_err(Error::Kms)
}

/// `generate-key-pair --kms URI`: creates the key in the KMS (or finds the existing key of
/// that name) and returns its public key.
pub async fn create_kms_key(
    provider: KmsProvider,
    uri: &str,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<CreatedKey, Error> {
    cosign_kms::create_key(provider, uri, &kms_config(env, timeout))
        .await
        .map_err(Error::Kms)
}

fn secret_ref(namespace: &str, name: &str) -> String {
    format!("k8s://{namespace}/{name}")
}

fn missing(namespace: &str, name: &str, key: &str) -> Error {
    Error::Kms(cosign_kms::KmsError::provider(
        "Kubernetes",
        format!("secret {}", secret_ref(namespace, name)),
        format!("the secret has no {key} data key (was it made by cosign generate-key-pair?)"),
    ))
}

/// The signing key of a `k8s://` secret: `cosign.key` decrypted with `cosign.password`.
pub(crate) async fn k8s_signing_key(
    namespace: &str,
    name: &str,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<Signer, Error> {
    let secret = k8s::read_secret(namespace, name, &kms_config(env, timeout))
        .await
        .map_err(Error::Kms)?;
    let key = secret
        .data
        .get(k8s::PRIVATE_KEY)
        .ok_or_else(|| missing(namespace, name, k8s::PRIVATE_KEY))?;
    let password = secret
        .data
        .get(k8s::PASSWORD)
        .ok_or_else(|| missing(namespace, name, k8s::PASSWORD))?;
    let mut from_secret = || Ok(Zeroizing::new(password.to_vec()));
    let private = decrypt_key_material(key, &secret_ref(namespace, name), &mut from_secret)?;
    Ok(Signer::Local(Box::new(private)))
}

/// The public key of a `k8s://` secret (`cosign.pub`).
pub(crate) async fn k8s_public_key(
    namespace: &str,
    name: &str,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<PublicKey, Error> {
    let secret = k8s::read_secret(namespace, name, &kms_config(env, timeout))
        .await
        .map_err(Error::Kms)?;
    let public = secret
        .data
        .get(k8s::PUBLIC_KEY)
        .ok_or_else(|| missing(namespace, name, k8s::PUBLIC_KEY))?;
    PublicKey::from_pem(public).map_err(|e| {
        Error::crypto(
            format!("loading public key {}", secret_ref(namespace, name)),
            e,
        )
    })
}

/// `generate-key-pair k8s://ns/name`: stores the encrypted key, public key and password in the
/// secret (created immutable, or updated as cosign does).
pub async fn store_k8s_key_pair(
    namespace: &str,
    name: &str,
    private_pem: &[u8],
    public_pem: &[u8],
    password: &[u8],
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<k8s::Stored, Error> {
    k8s::store_key_pair(
        namespace,
        name,
        private_pem,
        public_pem,
        password,
        &kms_config(env, timeout),
    )
    .await
    .map_err(Error::Kms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_lookup() {
        let env = |name: &str| match name {
            "VAULT_ADDR" => Some("http://127.0.0.1:8200".to_owned()),
            "AWS_ENDPOINT_URL" => Some("https://a".to_owned()),
            "AWS_ENDPOINT_URL_KMS" => Some("https://kms".to_owned()),
            "AWS_REGION" => Some(String::new()),
            _ => None,
        };
        let cfg = kms_config(&env, Duration::from_secs(5));
        assert_eq!(
            cfg.vault.vault_addr.as_deref(),
            Some("http://127.0.0.1:8200")
        );
        assert_eq!(cfg.aws.endpoint_url.as_deref(), Some("https://kms"));
        assert_eq!(cfg.aws.region, None, "empty means unset");
        assert_eq!(cfg.request_timeout, Some(Duration::from_secs(5)));
        let names: Vec<_> = KMS_ENV_VARS.to_vec();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
