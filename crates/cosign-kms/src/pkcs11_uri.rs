//! RFC 7512 `pkcs11:` URIs as cosign uses them:
//! `pkcs11:token=<label>;slot-id=<n>;id=<%hex>;object=<label>?module-path=<path>&pin-value=<pin>`.
//!
//! Parsing percent-decodes every value (a literal `+` stays a `+`, as RFC 7512 says), refuses
//! duplicated attributes, and requires a token (`token`, `slot-id`, `serial` ...) and a key
//! (`id` or `object`). The PIN is kept in a [`Pkcs11Pin`], which never prints.

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// The URI scheme, with its colon.
pub const PKCS11_SCHEME: &str = "pkcs11:";

/// A token PIN. Zeroized on drop; `Debug` prints `<redacted>` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs11Pin(Zeroizing<String>);

impl Pkcs11Pin {
    /// Wraps a PIN.
    pub fn new(pin: impl Into<String>) -> Self {
        Self(Zeroizing::new(pin.into()))
    }

    /// The PIN text, for handing to the token.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the PIN is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Pkcs11Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pkcs11Pin(<redacted>)")
    }
}

/// Why a `pkcs11:` URI was refused. Messages never contain the PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11UriError {
    /// The text does not start with `pkcs11:`.
    #[error("invalid pkcs11 uri: not a PKCS11 uri (it must start with \"pkcs11:\")")]
    NotPkcs11,
    /// An attribute is not `name=value`.
    #[error("invalid pkcs11 uri: attribute {attribute:?} is not of the form name=value")]
    NotAnAttribute {
        /// The attribute text (for `pin-value`, only its name).
        attribute: String,
    },
    /// A bad `%XX` escape, or a value that must be text is not UTF-8.
    #[error("invalid pkcs11 uri: bad percent-encoding in the value of {attribute}")]
    BadEncoding {
        /// The attribute name.
        attribute: String,
    },
    /// An attribute given twice (RFC 7512 forbids it).
    #[error("invalid pkcs11 uri: attribute {attribute} appears more than once")]
    Duplicate {
        /// The attribute name.
        attribute: String,
    },
    /// `slot-id` is not a decimal number.
    #[error("invalid pkcs11 uri: slot-id '{value}' is not a valid number")]
    BadSlotId {
        /// The value given.
        value: String,
    },
    /// Neither `token` nor `slot-id` (nor another token attribute) was given.
    #[error("invalid pkcs11 uri: one of token and slot-id must be set")]
    NoToken,
    /// Neither `object` nor `id` was given.
    #[error("invalid pkcs11 uri: one of object and id must be set")]
    NoKey,
    /// `type=` names something other than a key pair's private key.
    #[error("invalid pkcs11 uri: type={value} is not supported (cosign signs with a private key)")]
    BadType {
        /// The value given.
        value: String,
    },
    /// `module-name` / `pin-source` are not supported: the module is loaded from a path.
    #[error(
        "invalid pkcs11 uri: {attribute} is not supported; use module-path and pin-value (or COSIGN_PKCS11_MODULE_PATH and COSIGN_PKCS11_PIN)"
    )]
    Unsupported {
        /// The attribute name.
        attribute: String,
    },
}

/// A parsed `pkcs11:` URI.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `slot-id`: the slot number.
    pub slot_id: Option<u64>,
    /// `manufacturer`: the token's manufacturer ID.
    pub manufacturer: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `id`: the key's `CKA_ID` bytes.
    pub id: Option<Vec<u8>>,
    /// `object`: the key's `CKA_LABEL`.
    pub object: Option<String>,
    /// `module-path`: the PKCS#11 module (a shared library) to load.
    pub module_path: Option<PathBuf>,
    pin: Option<Pkcs11Pin>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({self})")
    }
}

/// Shows the URI in cosign's canonical form, without the PIN.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path: Vec<String> = Vec::new();
        let mut push = |name: &str, value: String| path.push(format!("{name}={value}"));
        if let Some(t) = &self.token {
            push("token", encode(t.as_bytes(), PATH_CHARS));
        }
        if let Some(s) = self.slot_id {
            push("slot-id", s.to_string());
        }
        if let Some(m) = &self.manufacturer {
            push("manufacturer", encode(m.as_bytes(), PATH_CHARS));
        }
        if let Some(m) = &self.model {
            push("model", encode(m.as_bytes(), PATH_CHARS));
        }
        if let Some(s) = &self.serial {
            push("serial", encode(s.as_bytes(), PATH_CHARS));
        }
        if let Some(id) = &self.id {
            push("id", percent_all(id));
        }
        if let Some(o) = &self.object {
            push("object", encode(o.as_bytes(), PATH_CHARS));
        }
        write!(f, "{PKCS11_SCHEME}{}", path.join(";"))?;
        if let Some(m) = &self.module_path {
            write!(
                f,
                "?module-path={}",
                encode(m.as_os_str().as_encoded_bytes(), QUERY_CHARS)
            )?;
        }
        Ok(())
    }
}

/// Characters left as they are in path attribute values (cosign's `pathAttrValueChars`).
const PATH_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]@!$'()*+,=&";
/// Characters left as they are in query attribute values (cosign's `queryAttrValueChars`).
const QUERY_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]@!$'()*+,=/?|";

fn encode(value: &[u8], allowed: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value {
        if allowed.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Every byte as `%xx` (how cosign writes `id`).
fn percent_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

fn decode(value: &str, attribute: &str) -> Result<Vec<u8>, Pkcs11UriError> {
    let bad = || Pkcs11UriError::BadEncoding {
        attribute: attribute.to_owned(),
    };
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let text = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(text, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_text(value: &str, attribute: &str) -> Result<String, Pkcs11UriError> {
    String::from_utf8(decode(value, attribute)?).map_err(|_| Pkcs11UriError::BadEncoding {
        attribute: attribute.to_owned(),
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, attribute: &str) -> Result<(), Pkcs11UriError> {
    if slot.is_some() {
        return Err(Pkcs11UriError::Duplicate {
            attribute: attribute.to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

fn split_attribute(part: &str) -> Result<(&str, &str), Pkcs11UriError> {
    part.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| Pkcs11UriError::NotAnAttribute {
            // Never echo what might be a PIN: an attribute without `=` is shown whole only when
            // it cannot be one (the PIN is always `pin-value=...`).
            attribute: part.chars().take(64).collect(),
        })
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(text: &str) -> Result<Self, Pkcs11UriError> {
        let rest = text
            .strip_prefix(PKCS11_SCHEME)
            .ok_or(Pkcs11UriError::NotPkcs11)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Self {
            token: None,
            slot_id: None,
            manufacturer: None,
            model: None,
            serial: None,
            id: None,
            object: None,
            module_path: None,
            pin: None,
        };
        let mut kind: Option<String> = None;
        for part in path.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = split_attribute(part)?;
            match name {
                "token" => set_once(&mut uri.token, decode_text(value, name)?, name)?,
                "slot-id" => {
                    let text = decode_text(value, name)?;
                    let id = text.parse::<u64>().map_err(|_| Pkcs11UriError::BadSlotId {
                        value: text.clone(),
                    })?;
                    set_once(&mut uri.slot_id, id, name)?;
                }
                "manufacturer" => {
                    set_once(&mut uri.manufacturer, decode_text(value, name)?, name)?;
                }
                "model" => set_once(&mut uri.model, decode_text(value, name)?, name)?,
                "serial" => set_once(&mut uri.serial, decode_text(value, name)?, name)?,
                "id" => set_once(&mut uri.id, decode(value, name)?, name)?,
                "object" => set_once(&mut uri.object, decode_text(value, name)?, name)?,
                "type" => set_once(&mut kind, decode_text(value, name)?, name)?,
                // Library and slot descriptions, and vendor attributes: not needed to find the
                // key; ignored as Go cosign ignores them.
                _ => {}
            }
        }
        if let Some(k) = kind
            && !matches!(k.as_str(), "private" | "public")
        {
            return Err(Pkcs11UriError::BadType { value: k });
        }
        let mut pin_seen = false;
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = match part.strip_prefix("pin-value=") {
                Some(pin) => ("pin-value", pin),
                None => split_attribute(part)?,
            };
            match name {
                "module-path" => {
                    let text = decode_text(value, name)?;
                    set_once(&mut uri.module_path, PathBuf::from(text), name)?;
                }
                "pin-value" => {
                    if pin_seen {
                        return Err(Pkcs11UriError::Duplicate {
                            attribute: name.to_owned(),
                        });
                    }
                    pin_seen = true;
                    let pin = Zeroizing::new(decode(value, name)?);
                    let pin =
                        std::str::from_utf8(&pin).map_err(|_| Pkcs11UriError::BadEncoding {
                            attribute: name.to_owned(),
                        })?;
                    // An empty pin-value means "no PIN given", as in cosign.
                    if !pin.is_empty() {
                        uri.pin = Some(Pkcs11Pin::new(pin));
                    }
                }
                "module-name" | "pin-source" => {
                    return Err(Pkcs11UriError::Unsupported {
                        attribute: name.to_owned(),
                    });
                }
                _ => {}
            }
        }
        if uri.token.is_none()
            && uri.slot_id.is_none()
            && uri.serial.is_none()
            && uri.model.is_none()
            && uri.manufacturer.is_none()
        {
            return Err(Pkcs11UriError::NoToken);
        }
        if uri.id.as_ref().is_none_or(Vec::is_empty)
            && uri.object.as_ref().is_none_or(String::is_empty)
        {
            return Err(Pkcs11UriError::NoKey);
        }
        Ok(uri)
    }

    /// The `pin-value` of the URI, if any.
    pub fn pin(&self) -> Option<&Pkcs11Pin> {
        self.pin.as_ref()
    }

    /// Builds a URI as cosign's `pkcs11-tool list-keys-uris` prints it
    /// (`pkcs11:token=..;slot-id=..;id=%..;object=..?module-path=..[&pin-value=..]`).
    pub fn for_key(
        module_path: PathBuf,
        slot_id: u64,
        token: &str,
        id: &[u8],
        object: &str,
    ) -> Self {
        Self {
            token: (!token.is_empty()).then(|| token.to_owned()),
            slot_id: Some(slot_id),
            manufacturer: None,
            model: None,
            serial: None,
            id: (!id.is_empty()).then(|| id.to_vec()),
            object: (!object.is_empty()).then(|| object.to_owned()),
            module_path: Some(module_path),
            pin: None,
        }
    }

    /// The URI text including `pin-value` when `pin` is given. This is the only way the PIN
    /// leaves a URI: for `pkcs11-tool list-keys-uris`, which prints it as Go cosign does.
    pub fn to_string_with_pin(&self, pin: Option<&Pkcs11Pin>) -> String {
        let mut text = self.to_string();
        if let Some(p) = pin.filter(|p| !p.is_empty()) {
            text.push_str(if self.module_path.is_some() { "&" } else { "?" });
            text.push_str("pin-value=");
            text.push_str(&encode(p.expose().as_bytes(), QUERY_CHARS));
        }
        text
    }

    /// A short description of the key for messages: `id=%01 object='cosign-key'`.
    pub fn key_description(&self) -> String {
        let mut parts = Vec::new();
        if let Some(id) = &self.id {
            parts.push(format!("id={}", percent_all(id)));
        }
        if let Some(o) = &self.object {
            parts.push(format!("object='{o}'"));
        }
        parts.join(" ")
    }

    /// A short description of the token for messages: `'label'`, or the slot / serial.
    pub fn token_description(&self) -> String {
        if let Some(t) = &self.token {
            return format!("'{t}'");
        }
        if let Some(s) = self.slot_id {
            return format!("in slot {s}");
        }
        let mut parts = Vec::new();
        if let Some(s) = &self.serial {
            parts.push(format!("serial={s}"));
        }
        if let Some(m) = &self.model {
            parts.push(format!("model={m}"));
        }
        if let Some(m) = &self.manufacturer {
            parts.push(format!("manufacturer={m}"));
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cosign_style_uri() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=cosign-test;slot-id=303954432;id=%01;object=cosign-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("cosign-test"));
        assert_eq!(uri.slot_id, Some(303_954_432));
        assert_eq!(uri.id.as_deref(), Some(&[1u8][..]));
        assert_eq!(uri.object.as_deref(), Some("cosign-key"));
        assert_eq!(
            uri.module_path.as_deref(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(uri.pin().map(Pkcs11Pin::expose), Some("1234"));
        // Display and Debug never show the PIN.
        let shown = format!("{uri} {uri:?}");
        assert!(!shown.contains("1234"), "{shown}");
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=cosign-test;slot-id=303954432;id=%01;object=cosign-key?module-path=/usr/lib/softhsm/libsofthsm2.so"
        );
        assert!(
            uri.to_string_with_pin(uri.pin())
                .ends_with("&pin-value=1234")
        );
    }

    #[test]
    fn percent_decodes_and_keeps_plus() {
        let uri = Pkcs11Uri::parse("pkcs11:token=my%20token;object=a+b%3Bc;id=%00%64%FF").unwrap();
        assert_eq!(uri.token.as_deref(), Some("my token"));
        assert_eq!(uri.object.as_deref(), Some("a+b;c"));
        assert_eq!(uri.id.as_deref(), Some(&[0u8, 0x64, 0xff][..]));
        assert_eq!(uri.module_path, None);
        assert!(uri.pin().is_none());
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=my%20token;id=%00%64%ff;object=a+b%3bc"
        );
    }

    #[test]
    fn pin_with_special_characters() {
        let uri =
            Pkcs11Uri::parse("pkcs11:token=t;id=%01?pin-value=a%26b=c&module-path=/m.so").unwrap();
        assert_eq!(uri.pin().map(Pkcs11Pin::expose), Some("a&b=c"));
        assert_eq!(format!("{:?}", uri.pin()), "Some(Pkcs11Pin(<redacted>))");
    }

    #[test]
    fn refuses_bad_uris() {
        use Pkcs11UriError as E;
        let err = |s: &str| Pkcs11Uri::parse(s).unwrap_err();
        assert_eq!(err("pkcs12:token=a"), E::NotPkcs11);
        assert_eq!(err("pkcs11:id=%01"), E::NoToken);
        assert_eq!(err("pkcs11:token=a"), E::NoKey);
        assert_eq!(err("pkcs11:token=a;id="), E::NoKey);
        assert_eq!(
            err("pkcs11:slot-id=x;id=%01"),
            E::BadSlotId { value: "x".into() }
        );
        assert_eq!(
            err("pkcs11:token=a;token=b;id=%01"),
            E::Duplicate {
                attribute: "token".into()
            }
        );
        assert_eq!(
            err("pkcs11:token=a;id=%0"),
            E::BadEncoding {
                attribute: "id".into()
            }
        );
        assert_eq!(
            err("pkcs11:token=a;id=%zz"),
            E::BadEncoding {
                attribute: "id".into()
            }
        );
        assert_eq!(
            err("pkcs11:token=a;object=%ff"),
            E::BadEncoding {
                attribute: "object".into()
            }
        );
        assert_eq!(
            err("pkcs11:token=a;junk;id=%01"),
            E::NotAnAttribute {
                attribute: "junk".into()
            }
        );
        assert_eq!(
            err("pkcs11:token=a;id=%01;type=cert"),
            E::BadType {
                value: "cert".into()
            }
        );
        assert!(matches!(
            err("pkcs11:token=a;id=%01?module-name=softhsm2"),
            E::Unsupported { .. }
        ));
        let e = err("pkcs11:token=a;id=%01?pin-value=secret1&pin-value=secret2");
        assert_eq!(
            e,
            E::Duplicate {
                attribute: "pin-value".into()
            }
        );
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn key_ref_never_shows_the_pin() {
        let k = crate::KeyRef::parse("pkcs11:token=t;id=%01?module-path=/m.so&pin-value=s3cr3t")
            .unwrap();
        let shown = format!("{k} {k:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("pkcs11:token=t;id=%01?module-path=/m.so"),
            "{shown}"
        );
        for bad in [
            "pkcs11:id=%01?pin-value=s3cr3t",
            "pkcs11:token=t?pin-value=s3cr3t",
            "pkcs11:token=t;id=%01?pin-value=s3cr3t&pin-value=s3cr3t",
            "pkcs11:token=t;id=%01?pin-value=s3cr3t%",
        ] {
            let e = crate::KeyRef::parse(bad).unwrap_err();
            assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{bad}: {e}");
        }
    }

    #[test]
    fn slot_only_and_label_only() {
        let uri = Pkcs11Uri::parse("pkcs11:slot-id=0;object=k").unwrap();
        assert_eq!(uri.slot_id, Some(0));
        assert_eq!(uri.token_description(), "in slot 0");
        assert_eq!(uri.key_description(), "object='k'");
        // Unknown attributes are ignored, as Go cosign does.
        let uri = Pkcs11Uri::parse("pkcs11:library-manufacturer=x;token=t;id=%02").unwrap();
        assert_eq!(uri.key_description(), "id=%02");
    }

    #[test]
    fn for_key_matches_cosign_construct() {
        let uri = Pkcs11Uri::for_key(
            PathBuf::from("/home/me/lib/yubihsm_pkcs11.so"),
            0,
            "YubiHSM",
            &[0x00, 0x64],
            "label_ecdsa_sign",
        );
        assert_eq!(
            uri.to_string_with_pin(Some(&Pkcs11Pin::new("0001password"))),
            "pkcs11:token=YubiHSM;slot-id=0;id=%00%64;object=label_ecdsa_sign?module-path=/home/me/lib/yubihsm_pkcs11.so&pin-value=0001password"
        );
        let reparsed = Pkcs11Uri::parse(&uri.to_string()).unwrap();
        assert_eq!(reparsed, uri);
    }
}
