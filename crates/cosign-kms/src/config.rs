//! What the providers need to know from outside: addresses, credentials, trust roots. The CLI
//! fills a [`KmsConfig`] from the environment (its one registry of variables); this crate reads
//! no environment itself. Credentials are [`Secret`]s: never in `Debug`, `Display` or errors.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

/// A credential (token, secret key, password). Its `Debug` says only that it is set.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Settings for every provider.
#[derive(Clone, Debug, Default)]
pub struct KmsConfig {
    /// The user's home directory: `~/.aws/`, `~/.kube/config`, `~/.vault-token`, gcloud's
    /// application default credentials.
    pub home: Option<PathBuf>,
    /// A PEM file of extra trusted CA certificates for every provider (`SSL_CERT_FILE`).
    pub extra_ca_file: Option<PathBuf>,
    /// Limit for each HTTP request (`--timeout`); `None` means the default (30 s).
    pub request_timeout: Option<Duration>,
    /// `awskms://`.
    pub aws: AwsConfig,
    /// `hashivault://` and `openbao://`.
    pub vault: VaultConfig,
    /// `gcpkms://`.
    pub gcp: GcpConfig,
    /// `azurekms://`.
    pub azure: AzureConfig,
    /// `k8s://`.
    pub kube: KubeConfig,
}

/// AWS: the standard AWS environment.
#[derive(Clone, Debug, Default)]
pub struct AwsConfig {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<Secret>,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<Secret>,
    /// `AWS_REGION`.
    pub region: Option<String>,
    /// `AWS_DEFAULT_REGION`.
    pub default_region: Option<String>,
    /// `AWS_PROFILE` (default `default`).
    pub profile: Option<String>,
    /// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).
    pub shared_credentials_file: Option<PathBuf>,
    /// `AWS_CONFIG_FILE` (default `~/.aws/config`).
    pub config_file: Option<PathBuf>,
    /// `AWS_CA_BUNDLE`: PEM CA certificates to trust.
    pub ca_bundle: Option<PathBuf>,
    /// `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`: the endpoint when the URI names none.
    pub endpoint_url: Option<String>,
}

/// HashiCorp Vault / OpenBao transit.
#[derive(Clone, Debug, Default)]
pub struct VaultConfig {
    /// `VAULT_ADDR`.
    pub vault_addr: Option<String>,
    /// `BAO_ADDR`.
    pub bao_addr: Option<String>,
    /// `VAULT_TOKEN`.
    pub vault_token: Option<Secret>,
    /// `BAO_TOKEN`.
    pub bao_token: Option<Secret>,
    /// `TRANSIT_SECRET_ENGINE_PATH` (default `transit`).
    pub transit_path: Option<String>,
    /// `VAULT_NAMESPACE` (Vault Enterprise / OpenBao namespaces).
    pub namespace: Option<String>,
    /// `VAULT_CACERT`: PEM CA certificates to trust.
    pub ca_cert: Option<PathBuf>,
}

/// Google Cloud KMS.
#[derive(Clone, Debug, Default)]
pub struct GcpConfig {
    /// `GOOGLE_APPLICATION_CREDENTIALS`: a service-account (or authorized-user) JSON file.
    pub application_credentials: Option<PathBuf>,
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`: an access token to use as it is.
    pub access_token: Option<Secret>,
    /// `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`: the API root (default
    /// `https://cloudkms.googleapis.com/`).
    pub endpoint: Option<String>,
}

/// Azure Key Vault.
#[derive(Clone, Debug, Default)]
pub struct AzureConfig {
    /// `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `AZURE_CLIENT_SECRET`.
    pub client_secret: Option<Secret>,
    /// `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com/`).
    pub authority_host: Option<String>,
}

/// Kubernetes.
#[derive(Clone, Debug, Default)]
pub struct KubeConfig {
    /// `KUBECONFIG`: kubeconfig files separated by `:` (default `~/.kube/config`).
    pub kubeconfig: Option<String>,
}

impl KmsConfig {
    /// The request limit in force.
    pub(crate) fn timeout(&self) -> Duration {
        self.request_timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let mut cfg = KmsConfig::default();
        cfg.aws.secret_access_key = Some(Secret::new("aws-secret-value"));
        cfg.vault.vault_token = Some(Secret::new("vault-token-value"));
        cfg.azure.client_secret = Some(Secret::new("azure-secret-value"));
        let text = format!("{cfg:?}");
        assert!(!text.contains("-value"), "{text}");
        assert!(text.contains("Secret(..)"));
    }
}
