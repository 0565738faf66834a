//! Key references: what a user may pass to `--key`, parsed once into a [`KeyRef`].
//!
//! cosign accepts a file path, an `env://VAR`, an `http(s)://` URL (public keys), a KMS URI
//! (`awskms://`, `gcpkms://`, `azurekms://`, `hashivault://`, `openbao://`), a `pkcs11:` URI, or a
//! `k8s://namespace/secret` / `gitlab://...` reference. This crate turns the text into a typed value
//! (in cosign's resolution order, contract section 3); the KMS providers themselves live here too
//! ([`open_signer`], [`public_key`], [`create_key`]; [`k8s`] for Kubernetes secrets). Parsing
//! does no I/O; the providers talk HTTPS and read the credential files a [`KmsConfig`] points
//! at, never the environment (the CLI fills the config).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aws;
mod azure;
mod config;
mod encoding;
mod gcp;
mod http;
pub mod k8s;
mod pkcs11;
mod pkcs11_uri;
mod providers;
mod rest;
mod signer;
mod vault;

pub use config::{AwsConfig, AzureConfig, GcpConfig, KmsConfig, KubeConfig, Secret, VaultConfig};
pub use pkcs11::{
    KeyListing, KeysListing, PinPrompt, PinRequest, Pkcs11CallError, Pkcs11Error, Pkcs11Settings,
    Pkcs11Signer, TokenListing, list_keys, list_tokens, read_pkcs11_public_key,
};
pub use pkcs11_uri::{PKCS11_SCHEME, Pkcs11Pin, Pkcs11Uri, Pkcs11UriError};
pub use providers::{CreatedKey, check_uri, create_key, open_signer, public_key};
pub use signer::{ApiError, BoxFuture, KmsError, RemoteSigner};

use std::fmt;
use std::path::PathBuf;

/// A KMS provider that cosign knows by its URI scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmsProvider {
    /// `awskms://`
    Aws,
    /// `azurekms://`
    Azure,
    /// `gcpkms://`
    Gcp,
    /// `hashivault://` or `openbao://`
    Vault,
}

impl KmsProvider {
    fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "awskms" => Some(Self::Aws),
            "azurekms" => Some(Self::Azure),
            "gcpkms" => Some(Self::Gcp),
            "hashivault" | "openbao" => Some(Self::Vault),
            _ => None,
        }
    }

    /// A human name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aws => "AWS KMS",
            Self::Azure => "Azure Key Vault",
            Self::Gcp => "Google Cloud KMS",
            Self::Vault => "HashiCorp Vault / OpenBao transit",
        }
    }
}

/// A parsed `--key` value.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A local file (PEM public key, or encrypted cosign private key).
    File(PathBuf),
    /// `env://NAME`: the key's PEM is the value of the environment variable `NAME`.
    Env(String),
    /// `http://` or `https://`: a public key fetched from the URL.
    Url(String),
    /// A KMS key, kept as the full URI.
    Kms {
        /// Which provider.
        provider: KmsProvider,
        /// The URI as given.
        uri: String,
    },
    /// A `pkcs11:` URI (RFC 7512), parsed; its PIN never prints.
    Pkcs11(Pkcs11Uri),
    /// `k8s://namespace/secret`.
    Kubernetes {
        /// Namespace of the secret.
        namespace: String,
        /// Name of the secret.
        name: String,
    },
    /// `gitlab://...`
    GitLab(String),
}

impl fmt::Debug for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyRef({self})")
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Env(name) => write!(f, "env://{name}"),
            Self::Url(u) | Self::GitLab(u) => f.write_str(u),
            Self::Pkcs11(uri) => write!(f, "{uri}"),
            Self::Kms { uri, .. } => f.write_str(uri),
            Self::Kubernetes { namespace, name } => write!(f, "k8s://{namespace}/{name}"),
        }
    }
}

/// Why a key reference was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRefError {
    /// The reference is empty.
    #[error("empty key reference")]
    Empty,
    /// `scheme://` that cosign does not know.
    #[error("loading URL: unrecognized scheme: {0}://")]
    UnknownScheme(String),
    /// A known scheme with a malformed remainder.
    #[error("malformed key reference {reference:?}: {reason}")]
    Malformed {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A malformed `pkcs11:` URI.
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11UriError),
}

impl KeyRef {
    /// Parses a `--key` value in cosign's resolution order: `pkcs11:` URI, `k8s://`, `gitlab://`,
    /// KMS schemes, `env://`, `http(s)://`, any other `scheme://` (refused), else a file path.
    pub fn parse(text: &str) -> Result<Self, KeyRefError> {
        if text.is_empty() {
            return Err(KeyRefError::Empty);
        }
        let malformed = |reason| KeyRefError::Malformed {
            reference: text.to_owned(),
            reason,
        };
        if text.starts_with(PKCS11_SCHEME) {
            return Ok(Self::Pkcs11(Pkcs11Uri::parse(text)?));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(Self::File(PathBuf::from(text)));
        };
        // A path such as `./a://b` is not a URI: schemes are letters, digits, `+`, `-`, `.`.
        let is_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !is_scheme {
            return Ok(Self::File(PathBuf::from(text)));
        }
        match scheme {
            "k8s" => {
                let (namespace, name) = rest
                    .split_once('/')
                    .filter(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains('/'))
                    .ok_or_else(|| malformed("expected k8s://<namespace>/<secret>"))?;
                Ok(Self::Kubernetes {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                })
            }
            "gitlab" => {
                if rest.is_empty() {
                    return Err(malformed("expected gitlab://<project>"));
                }
                Ok(Self::GitLab(text.to_owned()))
            }
            "env" => {
                if rest.is_empty() {
                    return Err(malformed("expected env://<VARIABLE>"));
                }
                Ok(Self::Env(rest.to_owned()))
            }
            "http" | "https" => {
                if rest.is_empty() {
                    return Err(malformed("URL has no host"));
                }
                Ok(Self::Url(text.to_owned()))
            }
            other => match KmsProvider::from_scheme(other) {
                Some(provider) => {
                    if rest.is_empty() && provider != KmsProvider::Aws {
                        return Err(malformed("KMS URI names no key"));
                    }
                    Ok(Self::Kms {
                        provider,
                        uri: text.to_owned(),
                    })
                }
                None => Err(KeyRefError::UnknownScheme(other.to_owned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!(
            KeyRef::parse("cosign.key").unwrap(),
            KeyRef::File("cosign.key".into())
        );
        assert_eq!(
            KeyRef::parse("/tmp/x/cosign.pub").unwrap(),
            KeyRef::File("/tmp/x/cosign.pub".into())
        );
        assert_eq!(
            KeyRef::parse("env://MY_KEY").unwrap(),
            KeyRef::Env("MY_KEY".into())
        );
        assert_eq!(
            KeyRef::parse("https://example.com/cosign.pub").unwrap(),
            KeyRef::Url("https://example.com/cosign.pub".into())
        );
        assert!(matches!(
            KeyRef::parse("awskms:///alias/foo").unwrap(),
            KeyRef::Kms {
                provider: KmsProvider::Aws,
                ..
            }
        ));
        assert!(matches!(
            KeyRef::parse("openbao://transit-key").unwrap(),
            KeyRef::Kms {
                provider: KmsProvider::Vault,
                ..
            }
        ));
        assert_eq!(
            KeyRef::parse("k8s://default/cosign").unwrap(),
            KeyRef::Kubernetes {
                namespace: "default".into(),
                name: "cosign".into()
            }
        );
        assert!(matches!(
            KeyRef::parse("pkcs11:token=a;id=%01?module-path=/x.so").unwrap(),
            KeyRef::Pkcs11(_)
        ));
    }

    #[test]
    fn refuses_unknown_and_malformed() {
        assert_eq!(
            KeyRef::parse("foo://bar").unwrap_err().to_string(),
            "loading URL: unrecognized scheme: foo://"
        );
        assert!(KeyRef::parse("").is_err());
        assert!(KeyRef::parse("env://").is_err());
        assert!(KeyRef::parse("k8s://onlyns").is_err());
        assert!(KeyRef::parse("gcpkms://").is_err());
        // Not a scheme: stays a path.
        assert_eq!(
            KeyRef::parse("./dir://x").unwrap(),
            KeyRef::File("./dir://x".into())
        );
    }
}
