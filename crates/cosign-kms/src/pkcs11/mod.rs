//! Keys on PKCS#11 tokens (HSMs, smart cards, SoftHSM), through the module named by the URI's
//! `module-path` (or `COSIGN_PKCS11_MODULE_PATH`), loaded at run time.
//!
//! Only digests reach the token: ECDSA keys sign with `CKM_ECDSA` over the digest (the raw
//! `r || s` answer is re-encoded as ASN.1 DER), RSA keys with `CKM_RSA_PKCS` over a PKCS#1
//! DigestInfo. This is how Go cosign's crypto11 signs too, and it works with tokens such as
//! SoftHSM that have no hashing mechanisms (`CKM_ECDSA_SHA256`). A certificate object with the
//! key's id (or label) becomes the signing certificate unless the caller ignores certificates.
//!
//! Nothing here reads the environment or prompts: the caller passes the module path and PIN it
//! found ([`Pkcs11Settings`]) and a PIN prompt to call when the token needs one.

mod list;
mod locate;
mod module;
mod session;
mod sign;

use std::path::PathBuf;

use cryptoki::error::Error as CkError;

use crate::pkcs11_uri::{Pkcs11Pin, Pkcs11UriError};

pub use list::{KeyListing, KeysListing, TokenListing, list_keys, list_tokens};
pub use locate::read_pkcs11_public_key;
pub use sign::Pkcs11Signer;

/// Values the caller found outside the URI (cosign: `COSIGN_PKCS11_MODULE_PATH`,
/// `COSIGN_PKCS11_PIN`, `COSIGN_PKCS11_IGNORE_CERTIFICATE`). The URI's own values win.
#[derive(Clone, Debug, Default)]
pub struct Pkcs11Settings {
    /// The module to load when the URI has no `module-path`.
    pub module_path: Option<PathBuf>,
    /// The PIN to use when the URI has no `pin-value`.
    pub pin: Option<Pkcs11Pin>,
    /// Do not look for a certificate beside the key.
    pub ignore_certificate: bool,
}

/// What a PIN prompt is asked for: the token, and the key when one is being opened.
#[derive(Clone, Debug)]
pub struct PinRequest {
    /// The token's label.
    pub token_label: String,
    /// The key's label from the URI (`object`), when a key is being opened; may be empty.
    pub key_label: Option<String>,
}

/// Called for a PIN when neither the URI nor the settings have one and the token needs a login.
pub type PinPrompt<'a> = &'a mut dyn FnMut(&PinRequest) -> Result<Pkcs11Pin, Pkcs11Error>;

/// A failed PKCS#11 call: the function and the token's return value (`C_Login returned
/// CKR_PIN_INCORRECT`), or a failure before any call (the module did not load).
#[derive(Debug, thiserror::Error)]
#[error("{}", match .function {
    Some(f) => format!("C_{f} returned {}", .code),
    None => .code.clone(),
})]
pub struct Pkcs11CallError {
    /// The PKCS#11 function, without its `C_` prefix (`Login`, `Sign` ...).
    pub function: Option<String>,
    /// The return value (`CKR_PIN_INCORRECT` ...) or the library's own failure.
    pub code: String,
}

impl Pkcs11CallError {
    fn from_ck(e: &CkError) -> Self {
        match e {
            CkError::Pkcs11(rv, function) => Self {
                function: Some(format!("{function:?}")),
                code: format!("CKR_{}", screaming_snake(&format!("{rv:?}"))),
            },
            CkError::LibraryLoading(inner) => Self {
                function: None,
                code: inner.to_string(),
            },
            other => Self {
                function: None,
                code: other.to_string(),
            },
        }
    }
}

fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Why a PKCS#11 operation failed. Messages name the module, token and key, never the PIN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The URI is malformed.
    #[error(transparent)]
    Uri(#[from] Pkcs11UriError),
    /// No module path in the URI nor in the settings.
    #[error(
        "invalid pkcs11 uri: module-path or COSIGN_PKCS11_MODULE_PATH must be set to the absolute path of the PKCS11 module"
    )]
    NoModulePath,
    /// The module path is unusable.
    #[error("PKCS11 module {path}: {reason}")]
    ModulePath {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Loading or initialising the module failed.
    #[error("loading PKCS11 module {path}: {source}")]
    Module {
        /// The path.
        path: PathBuf,
        /// The failure.
        #[source]
        source: Pkcs11CallError,
    },
    /// No token matches the URI.
    #[error("could not find PKCS11 token {token} in module {module}")]
    TokenNotFound {
        /// The token as the URI describes it.
        token: String,
        /// The module path.
        module: PathBuf,
    },
    /// The token needs a PIN and none was given (and no prompt was possible).
    #[error(
        "PKCS11 token '{token}' requires a PIN: add pin-value to the URI or set COSIGN_PKCS11_PIN"
    )]
    PinRequired {
        /// The token label.
        token: String,
    },
    /// Reading the PIN from the user failed.
    #[error("reading the PIN for PKCS11 token '{token}': {reason}")]
    PinPrompt {
        /// The token label.
        token: String,
        /// What failed.
        reason: String,
    },
    /// The token refused the PIN.
    #[error("logging in to PKCS11 token '{token}': incorrect PIN")]
    WrongPin {
        /// The token label.
        token: String,
    },
    /// The token's user PIN is locked (too many wrong PINs).
    #[error("logging in to PKCS11 token '{token}': the PIN is locked")]
    PinLocked {
        /// The token label.
        token: String,
    },
    /// No private key matches the URI.
    #[error("no private key {key} on PKCS11 token '{token}'{hint}")]
    KeyNotFound {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// A hint (private keys are only visible after login).
        hint: &'static str,
    },
    /// Several private keys match the URI.
    #[error("{count} private keys match {key} on PKCS11 token '{token}': give both id and object")]
    AmbiguousKey {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// How many matched.
        count: usize,
    },
    /// The key's public half could not be found or read.
    #[error("reading the public key of {key} on PKCS11 token '{token}': {reason}")]
    PublicKey {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// What failed.
        reason: String,
    },
    /// The key is of a type cosign cannot sign with here.
    #[error("key {key} on PKCS11 token '{token}': {reason}")]
    UnsupportedKey {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// Why.
        reason: String,
    },
    /// The certificate beside the key holds another public key.
    #[error("pkcs11 key and certificate do not match (key {key} on PKCS11 token '{token}')")]
    CertificateMismatch {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
    },
    /// The certificate beside the key cannot be read.
    #[error("reading the certificate of {key} on PKCS11 token '{token}': {reason}")]
    Certificate {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// What failed.
        reason: String,
    },
    /// The token lacks the mechanism the key needs.
    #[error(
        "PKCS11 token '{token}' does not offer {mechanism}, which signing with key {key} needs"
    )]
    MechanismUnsupported {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// The mechanism name.
        mechanism: &'static str,
    },
    /// A PKCS#11 call on the token failed.
    #[error("{action} on PKCS11 token '{token}': {source}")]
    Token {
        /// What was being done.
        action: String,
        /// The token label.
        token: String,
        /// The failed call.
        #[source]
        source: Pkcs11CallError,
    },
    /// The signature request does not fit the key.
    #[error("signing with key {key} on PKCS11 token '{token}': {reason}")]
    Signing {
        /// The token label.
        token: String,
        /// The key as the URI describes it.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptoki::error::RvError;

    #[test]
    fn error_code_names() {
        let e = Pkcs11CallError::from_ck(&CkError::Pkcs11(
            RvError::PinIncorrect,
            cryptoki::context::Function::Login,
        ));
        assert_eq!(e.to_string(), "C_Login returned CKR_PIN_INCORRECT");
    }
}
