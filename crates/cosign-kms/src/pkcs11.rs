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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::{Digest, HashAlgorithm};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType as CkKeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;

use crate::pkcs11_uri::{Pkcs11Pin, Pkcs11Uri, Pkcs11UriError};
use crate::signer::{BoxFuture, KmsError, RemoteSigner};

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

/// One token, as `pkcs11-tool list-tokens` shows it.
#[derive(Clone, Debug)]
pub struct TokenListing {
    /// The slot the token is in.
    pub slot_id: u64,
    /// Token label.
    pub label: String,
    /// Manufacturer ID.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
}

/// One private key, as `pkcs11-tool list-keys-uris` shows it.
#[derive(Clone, Debug)]
pub struct KeyListing {
    /// `CKA_LABEL` (may be empty).
    pub label: Vec<u8>,
    /// `CKA_ID` (may be empty).
    pub id: Vec<u8>,
    /// The key's URI (without the PIN).
    pub uri: Pkcs11Uri,
}

/// The keys of one token.
#[derive(Clone, Debug)]
pub struct KeysListing {
    /// The token's label.
    pub token_label: String,
    /// Its private keys with a label or an id.
    pub keys: Vec<KeyListing>,
}

// ------------------------------------------------------------------------------------------
// Modules

/// Modules loaded and initialised in this process, by path. PKCS#11 allows one
/// `C_Initialize` per process, so every key on the same module shares one context; modules are
/// never finalised (the process exit does it).
static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());

fn check_module_path(path: &Path) -> Result<(), Pkcs11Error> {
    let bad = |reason: String| Pkcs11Error::ModulePath {
        path: path.to_owned(),
        reason,
    };
    if !path.is_absolute() {
        return Err(bad("module-path does not point to an absolute path".into()));
    }
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot access it: {e}")))?;
    if !meta.is_file() {
        return Err(bad("module-path does not point to a regular file".into()));
    }
    Ok(())
}

fn load_module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    check_module_path(path)?;
    let mut modules = MODULES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(ctx.clone());
    }
    let module_err = |e: &CkError| Pkcs11Error::Module {
        path: path.to_owned(),
        source: Pkcs11CallError::from_ck(e),
    };
    let ctx = Pkcs11::new(path).map_err(|e| module_err(&e))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_err(&e)),
    }
    modules.push((path.to_owned(), ctx.clone()));
    Ok(ctx)
}

fn module_path(uri: &Pkcs11Uri, settings: &Pkcs11Settings) -> Result<PathBuf, Pkcs11Error> {
    uri.module_path
        .clone()
        .or_else(|| settings.module_path.clone())
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or(Pkcs11Error::NoModulePath)
}

// ------------------------------------------------------------------------------------------
// Tokens and login

fn token_matches(uri: &Pkcs11Uri, info: &TokenInfo) -> bool {
    uri.token.as_deref().is_none_or(|t| t == info.label())
        && uri
            .manufacturer
            .as_deref()
            .is_none_or(|m| m == info.manufacturer_id())
        && uri.model.as_deref().is_none_or(|m| m == info.model())
        && uri
            .serial
            .as_deref()
            .is_none_or(|s| s == info.serial_number())
}

/// The slot of the token the URI names: by `slot-id` when given (the other attributes must
/// then match too), else the first token whose label/serial/model/manufacturer match.
fn find_token(
    ctx: &Pkcs11,
    uri: &Pkcs11Uri,
    module: &Path,
) -> Result<(Slot, TokenInfo), Pkcs11Error> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| Pkcs11Error::Module {
            path: module.to_owned(),
            source: Pkcs11CallError::from_ck(&e),
        })?;
    for slot in slots {
        if uri.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        if token_matches(uri, &info) {
            return Ok((slot, info));
        }
    }
    Err(Pkcs11Error::TokenNotFound {
        token: uri.token_description(),
        module: module.to_owned(),
    })
}

fn token_err(action: &str, token: &str, e: &CkError) -> Pkcs11Error {
    Pkcs11Error::Token {
        action: action.to_owned(),
        token: token.to_owned(),
        source: Pkcs11CallError::from_ck(e),
    }
}

fn login(session: &Session, token: &str, pin: &Pkcs11Pin) -> Result<(), Pkcs11Error> {
    let secret = AuthPin::from(pin.expose().to_owned());
    match session.login(UserType::User, Some(&secret)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid, _)) => {
            Err(Pkcs11Error::WrongPin {
                token: token.to_owned(),
            })
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked {
            token: token.to_owned(),
        }),
        Err(e) => Err(token_err("logging in", token, &e)),
    }
}

// ------------------------------------------------------------------------------------------
// Objects

fn attributes(
    session: &Session,
    token: &str,
    handle: ObjectHandle,
    types: &[AttributeType],
) -> Result<Vec<Attribute>, Pkcs11Error> {
    session
        .get_attributes(handle, types)
        .map_err(|e| token_err("reading object attributes", token, &e))
}

fn bytes_attr(attrs: &[Attribute], kind: AttributeType) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match (a, kind) {
        (Attribute::Id(v), AttributeType::Id)
        | (Attribute::Label(v), AttributeType::Label)
        | (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::Value(v), AttributeType::Value) => Some(v.clone()),
        _ => None,
    })
}

fn key_type_attr(attrs: &[Attribute]) -> Option<CkKeyType> {
    attrs.iter().find_map(|a| match a {
        Attribute::KeyType(k) => Some(*k),
        _ => None,
    })
}

/// A template for `class` objects with the given id and/or label.
fn template(class: ObjectClass, id: Option<&[u8]>, label: Option<&[u8]>) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(id) = id.filter(|i| !i.is_empty()) {
        t.push(Attribute::Id(id.to_vec()));
    }
    if let Some(label) = label.filter(|l| !l.is_empty()) {
        t.push(Attribute::Label(label.to_vec()));
    }
    t
}

fn find(
    session: &Session,
    token: &str,
    tmpl: &[Attribute],
) -> Result<Vec<ObjectHandle>, Pkcs11Error> {
    session
        .find_objects(tmpl)
        .map_err(|e| token_err("searching objects", token, &e))
}

/// The id and label a related object (public key, certificate) is looked up by: the private
/// key's `CKA_ID` when it has one, else its label.
struct Related {
    id: Option<Vec<u8>>,
    label: Option<Vec<u8>>,
}

impl Related {
    fn candidates(&self, class: ObjectClass) -> Vec<Vec<Attribute>> {
        let mut out = Vec::new();
        if let Some(id) = self.id.as_deref().filter(|i| !i.is_empty()) {
            out.push(template(class, Some(id), None));
        }
        if let Some(label) = self.label.as_deref().filter(|l| !l.is_empty()) {
            out.push(template(class, None, Some(label)));
        }
        out
    }
}

// ------------------------------------------------------------------------------------------
// DER helpers

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    der_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from unsigned big-endian bytes.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let mut content = Vec::with_capacity(bytes.len() + 1);
    let rest = &bytes[skip..];
    if rest.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(rest);
    der_tlv(0x02, &content)
}

/// Reads one DER TLV of `tag` that spans all of `data`, returning its content.
fn der_unwrap(tag: u8, data: &[u8]) -> Option<&[u8]> {
    let (&t, rest) = data.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() == len).then_some(rest)
}

const ID_EC_PUBLIC_KEY_DER: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// An EC SubjectPublicKeyInfo from `CKA_EC_PARAMS` (a DER namedCurve OID) and `CKA_EC_POINT`
/// (a DER OCTET STRING holding the uncompressed point; some tokens give the bare point).
fn ec_spki(params: &[u8], point: &[u8]) -> Vec<u8> {
    let bare = match der_unwrap(0x04, point) {
        Some(inner) if inner.first() == Some(&0x04) => inner,
        _ => point,
    };
    let mut alg = ID_EC_PUBLIC_KEY_DER.to_vec();
    alg.extend_from_slice(params);
    let mut bits = vec![0u8];
    bits.extend_from_slice(bare);
    let mut body = der_tlv(0x30, &alg);
    body.extend(der_tlv(0x03, &bits));
    der_tlv(0x30, &body)
}

/// A PKCS#1 RSAPublicKey from `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`.
fn rsa_pkcs1(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut body = der_uint(modulus);
    body.extend(der_uint(exponent));
    der_tlv(0x30, &body)
}

/// ASN.1 DER `ECDSA-Sig-Value` from PKCS#11's raw `r || s`.
fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || raw.len() % 2 != 0 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = der_uint(r);
    body.extend(der_uint(s));
    Some(der_tlv(0x30, &body))
}

/// The DER DigestInfo prefix of PKCS#1 v1.5 signatures.
fn digest_info_prefix(alg: HashAlgorithm) -> &'static [u8] {
    match alg {
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

// ------------------------------------------------------------------------------------------
// Opening a key

/// How the token signs for this key.
#[derive(Clone, Copy, Debug)]
enum SignKind {
    Ecdsa,
    Rsa,
}

/// Everything found on the token for one key.
struct Located {
    ctx: Pkcs11,
    session: Session,
    slot: Slot,
    token: String,
    key: String,
    private: Option<(ObjectHandle, CkKeyType)>,
    public_key: PublicKey,
    certificate: Option<(String, PublicKey)>,
}

/// Opens a session on the URI's token, logs in when a PIN is known (asking `prompt` when the
/// token requires a login and none is), and finds the key.
fn locate(
    uri: &Pkcs11Uri,
    settings: &Pkcs11Settings,
    prompt: Option<PinPrompt<'_>>,
    need_private: bool,
) -> Result<Located, Pkcs11Error> {
    let module = module_path(uri, settings)?;
    let ctx = load_module(&module)?;
    let (slot, info) = find_token(&ctx, uri, &module)?;
    let token = info.label().to_owned();
    let key = uri.key_description();
    let session = ctx
        .open_ro_session(slot)
        .map_err(|e| token_err("opening a session", &token, &e))?;

    let pin = match uri.pin().or(settings.pin.as_ref()) {
        Some(p) => Some(p.clone()),
        None if need_private && info.login_required() => match prompt {
            Some(ask) => Some(ask(&PinRequest {
                token_label: uri.token.clone().unwrap_or_else(|| token.clone()),
                key_label: Some(uri.object.clone().unwrap_or_default()),
            })?),
            None => {
                return Err(Pkcs11Error::PinRequired { token });
            }
        },
        None => None,
    };
    let logged_in = match &pin {
        Some(p) => {
            login(&session, &token, p)?;
            true
        }
        None => false,
    };

    let id = uri.id.as_deref();
    let label = uri.object.as_deref().map(str::as_bytes);
    let privates = find(
        &session,
        &token,
        &template(ObjectClass::PRIVATE_KEY, id, label),
    )?;
    let private = match privates.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => {
            return Err(Pkcs11Error::AmbiguousKey {
                token,
                key,
                count: many.len(),
            });
        }
    };
    if need_private && private.is_none() {
        return Err(Pkcs11Error::KeyNotFound {
            token,
            key,
            hint: if logged_in {
                ""
            } else {
                " (private keys are visible only after logging in: give the PIN)"
            },
        });
    }

    let mut related = Related {
        id: id.map(<[u8]>::to_vec),
        label: label.map(<[u8]>::to_vec),
    };
    let mut private_info = None;
    let mut private_attrs = Vec::new();
    if let Some(handle) = private {
        private_attrs = attributes(
            &session,
            &token,
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Id,
                AttributeType::Label,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )?;
        let kind = key_type_attr(&private_attrs).ok_or_else(|| Pkcs11Error::UnsupportedKey {
            token: token.clone(),
            key: key.clone(),
            reason: "the private key has no CKA_KEY_TYPE".into(),
        })?;
        private_info = Some((handle, kind));
        related = Related {
            id: bytes_attr(&private_attrs, AttributeType::Id).or(related.id),
            label: bytes_attr(&private_attrs, AttributeType::Label).or(related.label),
        };
    }

    let public_key = read_public_key(
        &session,
        &token,
        &key,
        &related,
        private_info.map(|(_, k)| k),
        &private_attrs,
    )?;
    let certificate = if settings.ignore_certificate {
        None
    } else {
        read_certificate(&session, &token, &key, &related)?
    };
    // A key found only through its certificate is still a key: fall back to it for
    // verification when there is no public key object.
    let public_key = match (public_key, &certificate) {
        (Some(k), _) => k,
        (None, Some((_, cert_key))) if !need_private => cert_key.clone(),
        (None, _) => {
            return Err(Pkcs11Error::PublicKey {
                token,
                key,
                reason: if private.is_none() && !logged_in {
                    "no public key object matches (give the PIN if the key is private)".into()
                } else {
                    "no public key object matches, and the private key does not carry its public key"
                        .into()
                },
            });
        }
    };
    Ok(Located {
        ctx,
        session,
        slot,
        token,
        key,
        private: private_info,
        public_key,
        certificate,
    })
}

fn read_public_key(
    session: &Session,
    token: &str,
    key: &str,
    related: &Related,
    private_type: Option<CkKeyType>,
    private_attrs: &[Attribute],
) -> Result<Option<PublicKey>, Pkcs11Error> {
    let bad = |reason: String| Pkcs11Error::PublicKey {
        token: token.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let mut found = None;
    for tmpl in related.candidates(ObjectClass::PUBLIC_KEY) {
        if let Some(h) = find(session, token, &tmpl)?.first() {
            found = Some(*h);
            break;
        }
    }
    let from_rsa = |attrs: &[Attribute]| -> Result<Option<PublicKey>, Pkcs11Error> {
        match (
            bytes_attr(attrs, AttributeType::Modulus),
            bytes_attr(attrs, AttributeType::PublicExponent),
        ) {
            (Some(n), Some(e)) if !n.is_empty() && !e.is_empty() => {
                PublicKey::from_rsa_pkcs1_der(&rsa_pkcs1(&n, &e))
                    .map(Some)
                    .map_err(|e| bad(e.to_string()))
            }
            _ => Ok(None),
        }
    };
    let Some(handle) = found else {
        // RSA private keys carry their modulus and public exponent.
        if private_type == Some(CkKeyType::RSA) {
            return from_rsa(private_attrs);
        }
        return Ok(None);
    };
    let attrs = attributes(
        session,
        token,
        handle,
        &[
            AttributeType::KeyType,
            AttributeType::EcParams,
            AttributeType::EcPoint,
            AttributeType::Modulus,
            AttributeType::PublicExponent,
        ],
    )?;
    let kind = key_type_attr(&attrs);
    if let (Some(pub_kind), Some(priv_kind)) = (kind, private_type)
        && pub_kind != priv_kind
    {
        return Err(bad(format!(
            "the public key object is a {pub_kind} key but the private key is a {priv_kind} key"
        )));
    }
    match kind {
        Some(k) if k == CkKeyType::EC => {
            let params = bytes_attr(&attrs, AttributeType::EcParams)
                .ok_or_else(|| bad("the public key has no CKA_EC_PARAMS".into()))?;
            let point = bytes_attr(&attrs, AttributeType::EcPoint)
                .ok_or_else(|| bad("the public key has no CKA_EC_POINT".into()))?;
            PublicKey::from_spki_der(&ec_spki(&params, &point))
                .map(Some)
                .map_err(|e| bad(e.to_string()))
        }
        Some(k) if k == CkKeyType::RSA => from_rsa(&attrs),
        Some(other) => Err(Pkcs11Error::UnsupportedKey {
            token: token.to_owned(),
            key: key.to_owned(),
            reason: format!("{other} keys are not supported (only EC and RSA)"),
        }),
        None => Err(bad("the public key object has no CKA_KEY_TYPE".into())),
    }
}

fn read_certificate(
    session: &Session,
    token: &str,
    key: &str,
    related: &Related,
) -> Result<Option<(String, PublicKey)>, Pkcs11Error> {
    for mut tmpl in related.candidates(ObjectClass::CERTIFICATE) {
        tmpl.push(Attribute::CertificateType(CertificateType::X_509));
        let Some(handle) = find(session, token, &tmpl)?.first().copied() else {
            continue;
        };
        let attrs = attributes(session, token, handle, &[AttributeType::Value])?;
        let der =
            bytes_attr(&attrs, AttributeType::Value).ok_or_else(|| Pkcs11Error::Certificate {
                token: token.to_owned(),
                key: key.to_owned(),
                reason: "the certificate object has no CKA_VALUE".into(),
            })?;
        let cert_key =
            PublicKey::from_certificate_der(&der).map_err(|e| Pkcs11Error::Certificate {
                token: token.to_owned(),
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
        return Ok(Some((to_pem("CERTIFICATE", &der), cert_key)));
    }
    Ok(None)
}

/// A signing key on a PKCS#11 token. Implements [`RemoteSigner`]; the session stays open (and
/// logged in) until it is dropped.
pub struct Pkcs11Signer {
    reference: String,
    token: String,
    key: String,
    public_key: PublicKey,
    certificate_pem: Option<String>,
    handle: ObjectHandle,
    kind: SignKind,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("reference", &self.reference)
            .field("public_key", &self.public_key)
            .field("certificate", &self.certificate_pem.is_some())
            .finish()
    }
}

impl Pkcs11Signer {
    /// Opens the key the URI names. The PIN comes from the URI, else `settings`, else `prompt`
    /// (called only when the token requires a login). A certificate object beside the key
    /// (same `CKA_ID`, else same label) becomes [`RemoteSigner::certificate_pem`] unless
    /// `settings.ignore_certificate`; it must hold the key's public key.
    pub fn open(
        uri: &Pkcs11Uri,
        settings: &Pkcs11Settings,
        prompt: Option<PinPrompt<'_>>,
    ) -> Result<Self, Pkcs11Error> {
        let located = locate(uri, settings, prompt, true)?;
        let Located {
            ctx,
            session,
            slot,
            token,
            key,
            private,
            public_key,
            certificate,
        } = located;
        let Some((handle, ck_type)) = private else {
            return Err(Pkcs11Error::KeyNotFound {
                token,
                key,
                hint: "",
            });
        };
        let (kind, mechanism, mechanism_name) = match ck_type {
            t if t == CkKeyType::EC => (SignKind::Ecdsa, MechanismType::ECDSA, "CKM_ECDSA"),
            t if t == CkKeyType::RSA => (SignKind::Rsa, MechanismType::RSA_PKCS, "CKM_RSA_PKCS"),
            other => {
                return Err(Pkcs11Error::UnsupportedKey {
                    token,
                    key,
                    reason: format!("{other} keys are not supported (only EC and RSA)"),
                });
            }
        };
        let key_matches_kind = matches!(
            (kind, public_key.key_type()),
            (
                SignKind::Ecdsa,
                KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521
            ) | (SignKind::Rsa, KeyType::Rsa { .. })
        );
        if !key_matches_kind {
            return Err(Pkcs11Error::PublicKey {
                token,
                key,
                reason: format!(
                    "the public key ({}) does not fit the private key",
                    public_key.key_type()
                ),
            });
        }
        let mechanisms = ctx
            .get_mechanism_list(slot)
            .map_err(|e| token_err("listing mechanisms", &token, &e))?;
        if !mechanisms.contains(&mechanism) {
            return Err(Pkcs11Error::MechanismUnsupported {
                token,
                key,
                mechanism: mechanism_name,
            });
        }
        let certificate_pem = match certificate {
            Some((pem, cert_key)) => {
                if cert_key != public_key {
                    return Err(Pkcs11Error::CertificateMismatch { token, key });
                }
                Some(pem)
            }
            None => None,
        };
        Ok(Self {
            reference: uri.to_string(),
            token,
            key,
            public_key,
            certificate_pem,
            handle,
            kind,
            session: Mutex::new(session),
        })
    }

    /// The label of the token the key is on.
    pub fn token_label(&self) -> &str {
        &self.token
    }

    fn sign_now(&self, scheme: SignatureScheme, digest: &Digest) -> Result<Vec<u8>, Pkcs11Error> {
        let bad = |reason: String| Pkcs11Error::Signing {
            token: self.token.clone(),
            key: self.key.clone(),
            reason,
        };
        if !scheme.fits(self.public_key.key_type()) {
            return Err(bad(format!(
                "the {scheme} scheme does not fit this {} key",
                self.public_key.key_type()
            )));
        }
        if scheme.prehash() != Some(digest.algorithm()) {
            return Err(bad(format!(
                "the {scheme} scheme signs a different digest than {}",
                digest.algorithm().name()
            )));
        }
        let (mechanism, input) = match self.kind {
            SignKind::Ecdsa => (Mechanism::Ecdsa, digest.as_bytes().to_vec()),
            SignKind::Rsa => {
                let mut info = digest_info_prefix(digest.algorithm()).to_vec();
                info.extend_from_slice(digest.as_bytes());
                (Mechanism::RsaPkcs, info)
            }
        };
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let raw = session
            .sign(&mechanism, self.handle, &input)
            .map_err(|e| token_err(&format!("signing with key {}", self.key), &self.token, &e))?;
        drop(session);
        match self.kind {
            SignKind::Ecdsa => ecdsa_raw_to_der(&raw).ok_or_else(|| {
                bad(format!(
                    "the token returned a {}-byte ECDSA signature",
                    raw.len()
                ))
            }),
            SignKind::Rsa => Ok(raw),
        }
    }
}

impl RemoteSigner for Pkcs11Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn reference(&self) -> String {
        self.reference.clone()
    }

    fn sign_digest<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>> {
        // PKCS#11 calls are blocking and short (one C_Sign); run them in place.
        let result = self.sign_now(scheme, digest).map_err(KmsError::from);
        Box::pin(async move { result })
    }

    fn certificate_pem(&self) -> Option<String> {
        self.certificate_pem.clone()
    }
}

/// Reads the public key of the key the URI names, for verification. Never prompts: logs in only
/// when the URI or `settings` carry a PIN. Uses the public key object, else (RSA) the private
/// key's modulus, else the certificate beside the key.
pub fn read_pkcs11_public_key(
    uri: &Pkcs11Uri,
    settings: &Pkcs11Settings,
) -> Result<PublicKey, Pkcs11Error> {
    let settings = Pkcs11Settings {
        ignore_certificate: false,
        ..settings.clone()
    };
    Ok(locate(uri, &settings, None, false)?.public_key)
}

/// Lists the tokens of a module (`pkcs11-tool list-tokens`).
pub fn list_tokens(module: &Path) -> Result<Vec<TokenListing>, Pkcs11Error> {
    let ctx = load_module(module)?;
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| Pkcs11Error::Module {
            path: module.to_owned(),
            source: Pkcs11CallError::from_ck(&e),
        })?;
    Ok(slots
        .into_iter()
        .filter_map(|slot| {
            let info = ctx.get_token_info(slot).ok()?;
            Some(TokenListing {
                slot_id: slot.id(),
                label: info.label().to_owned(),
                manufacturer: info.manufacturer_id().to_owned(),
                model: info.model().to_owned(),
                serial: info.serial_number().to_owned(),
            })
        })
        .collect())
}

/// Lists the private keys of the token in `slot_id` (`pkcs11-tool list-keys-uris`), sorted by
/// id and label. The PIN is `pin`, else `prompt` when the token requires a login.
pub fn list_keys(
    module: &Path,
    slot_id: u64,
    pin: Option<&Pkcs11Pin>,
    prompt: Option<PinPrompt<'_>>,
) -> Result<KeysListing, Pkcs11Error> {
    let ctx = load_module(module)?;
    let slots = ctx.get_all_slots().map_err(|e| Pkcs11Error::Module {
        path: module.to_owned(),
        source: Pkcs11CallError::from_ck(&e),
    })?;
    let not_found = || Pkcs11Error::TokenNotFound {
        token: format!("in slot {slot_id}"),
        module: module.to_owned(),
    };
    let slot = slots
        .into_iter()
        .find(|s| s.id() == slot_id)
        .ok_or_else(not_found)?;
    let info = ctx.get_token_info(slot).map_err(|_| not_found())?;
    let token = info.label().to_owned();
    let session = ctx
        .open_ro_session(slot)
        .map_err(|e| token_err("opening a session", &token, &e))?;
    let pin = match pin {
        Some(p) => Some(p.clone()),
        None if info.login_required() => match prompt {
            Some(ask) => Some(ask(&PinRequest {
                token_label: token.clone(),
                key_label: None,
            })?),
            None => return Err(Pkcs11Error::PinRequired { token }),
        },
        None => None,
    };
    if let Some(p) = &pin {
        login(&session, &token, p)?;
    }
    let handles = find(
        &session,
        &token,
        &[Attribute::Class(ObjectClass::PRIVATE_KEY)],
    )?;
    let mut keys = Vec::new();
    for handle in handles {
        let attrs = attributes(
            &session,
            &token,
            handle,
            &[AttributeType::Id, AttributeType::Label],
        )?;
        let id = bytes_attr(&attrs, AttributeType::Id).unwrap_or_default();
        let label = bytes_attr(&attrs, AttributeType::Label).unwrap_or_default();
        if id.is_empty() && label.is_empty() {
            continue;
        }
        let uri = Pkcs11Uri::for_key(
            module.to_owned(),
            slot_id,
            &token,
            &id,
            &String::from_utf8_lossy(&label),
        );
        keys.push(KeyListing { label, id, uri });
    }
    // Tokens return objects in no particular order (SoftHSM: file order); sort by id, then
    // label, so the listing is stable.
    keys.sort_by(|a, b| (&a.id, &a.label).cmp(&(&b.id, &b.label)));
    Ok(KeysListing {
        token_label: token,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers() {
        assert_eq!(der_uint(&[0x00, 0x01]), vec![0x02, 0x01, 0x01]);
        assert_eq!(der_uint(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_uint(&[0, 0, 0]), vec![0x02, 0x01, 0x00]);
        assert_eq!(der_uint(&[]), vec![0x02, 0x01, 0x00]);
        let long = der_tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der_unwrap(0x04, &long), Some(&[0u8; 300][..]));
        assert_eq!(der_unwrap(0x04, &long[..long.len() - 1]), None);
    }

    #[test]
    fn ecdsa_signature_conversion() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero
        raw[63] = 0x01; // s = 1 after stripping zeros
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(der[0], 0x30);
        assert_eq!(&der[2..5], &[0x02, 0x21, 0x00]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_none());
        assert!(ecdsa_raw_to_der(&[]).is_none());
    }

    #[test]
    fn ec_spki_from_token_attributes() {
        // A real P-256 public key (from a SoftHSM token) as PKCS#11 returns it.
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
        let spki = key.public_key().to_spki_der();
        // The point is the last 65 bytes of a P-256 SPKI.
        let point = &spki[spki.len() - 65..];
        let params = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let wrapped = der_tlv(0x04, point);
        assert_eq!(ec_spki(&params, &wrapped), spki);
        // Tokens that return the bare point work too.
        assert_eq!(ec_spki(&params, point), spki);
    }

    #[test]
    fn rsa_public_key_from_modulus() {
        let key = cosign_crypto::PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let spki = key.public_key().to_spki_der();
        let parsed = PublicKey::from_spki_der(&spki).unwrap();
        // Rebuild from n and e extracted from the PKCS#1 inside the SPKI: walk the DER.
        let pkcs1 = &spki[spki.len() - 270..];
        let seq = der_unwrap(0x30, pkcs1).unwrap();
        let n_len = usize::from(seq[2]) << 8 | usize::from(seq[3]);
        let n = &seq[4..4 + n_len];
        let e = &seq[4 + n_len + 2..];
        let rebuilt = PublicKey::from_rsa_pkcs1_der(&rsa_pkcs1(n, e)).unwrap();
        assert_eq!(rebuilt, parsed);
    }

    #[test]
    fn module_path_checks() {
        let uri = Pkcs11Uri::parse("pkcs11:token=t;id=%01").unwrap();
        assert!(matches!(
            module_path(&uri, &Pkcs11Settings::default()),
            Err(Pkcs11Error::NoModulePath)
        ));
        let err = check_module_path(Path::new("relative/lib.so")).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
        let err = check_module_path(Path::new("/nonexistent/lib.so")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/lib.so"), "{err}");
        let err = check_module_path(Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("regular file"), "{err}");
    }

    #[test]
    fn error_code_names() {
        let e = Pkcs11CallError::from_ck(&CkError::Pkcs11(
            RvError::PinIncorrect,
            cryptoki::context::Function::Login,
        ));
        assert_eq!(e.to_string(), "C_Login returned CKR_PIN_INCORRECT");
    }
}
