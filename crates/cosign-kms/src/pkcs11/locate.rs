//! Finding a key on its token: the private key, its public key (object, RSA modulus, or
//! certificate), and the certificate stored beside it.

use base64::Engine as _;
use cosign_crypto::PublicKey;
use cryptoki::context::Pkcs11;
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType as CkKeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::Session;
use cryptoki::slot::Slot;

use super::module::{find_token, load_module, module_path};
use super::session::{
    Login, Related, attributes, bytes_attr, find, key_type_attr, open_session, template,
};
use super::{PinPrompt, PinRequest, Pkcs11Error, Pkcs11Settings};
use crate::encoding::{der, rsa_pkcs1};
use crate::pkcs11_uri::Pkcs11Uri;

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
    let mut body = der(0x30, &alg);
    body.extend(der(0x03, &bits));
    der(0x30, &body)
}

/// PEM with 64-character lines.
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

/// Everything found on the token for one key.
pub(super) struct Located {
    pub ctx: Pkcs11,
    pub session: Session,
    pub slot: Slot,
    pub token: String,
    pub key: String,
    pub private: Option<(ObjectHandle, CkKeyType)>,
    pub public_key: PublicKey,
    pub certificate: Option<(String, PublicKey)>,
}

/// Opens a session on the URI's token, logs in when a PIN is known (asking `prompt` when the
/// token requires a login and none is), and finds the key.
pub(super) fn locate(
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
    let (session, logged_in) = open_session(
        &ctx,
        slot,
        &token,
        info.login_required(),
        Login {
            given: uri.pin().or(settings.pin.as_ref()),
            needed: need_private,
            prompt,
            request: PinRequest {
                token_label: uri.token.clone().unwrap_or_else(|| token.clone()),
                key_label: Some(uri.object.clone().unwrap_or_default()),
            },
        },
    )?;

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

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_crypto::KeyType;

    #[test]
    fn der_unwrap_takes_exactly_one_tlv() {
        let long = der(0x04, &[0u8; 300]);
        assert_eq!(der_unwrap(0x04, &long), Some(&[0u8; 300][..]));
        assert_eq!(der_unwrap(0x04, &long[..long.len() - 1]), None);
        assert_eq!(der_unwrap(0x30, &long), None);
        assert_eq!(der_unwrap(0x04, &[]), None);
    }

    #[test]
    fn ec_spki_from_token_attributes() {
        // A real P-256 public key (from a SoftHSM token) as PKCS#11 returns it.
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
        let spki = key.public_key().to_spki_der();
        // The point is the last 65 bytes of a P-256 SPKI.
        let point = &spki[spki.len() - 65..];
        let params = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let wrapped = der(0x04, point);
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
}
