//! Sessions on a token: logging in (with the PIN given, or asked for), and reading objects.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use cryptoki::context::Pkcs11;
use cryptoki::slot::Slot;

use super::{PinPrompt, PinRequest, Pkcs11CallError, Pkcs11Error};
use crate::pkcs11_uri::Pkcs11Pin;

/// A failed call on the token `token`, while doing `action`.
pub(super) fn token_err(action: &str, token: &str, e: &CkError) -> Pkcs11Error {
    Pkcs11Error::Token {
        action: action.to_owned(),
        token: token.to_owned(),
        source: Pkcs11CallError::from_ck(e),
    }
}

/// Logs in as the user; a wrong or locked PIN gets its own error.
pub(super) fn login(session: &Session, token: &str, pin: &Pkcs11Pin) -> Result<(), Pkcs11Error> {
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

/// How to log in to a session: the PIN given, else (when the token requires a login and
/// `needed`) the prompt's answer to `request`; with neither, [`Pkcs11Error::PinRequired`].
pub(super) struct Login<'p, 'a> {
    pub given: Option<&'p Pkcs11Pin>,
    pub needed: bool,
    pub prompt: Option<PinPrompt<'a>>,
    pub request: PinRequest,
}

/// Opens a read-only session on `slot` and logs in as `how` says; returns the session and
/// whether it is logged in.
pub(super) fn open_session(
    ctx: &Pkcs11,
    slot: Slot,
    token: &str,
    login_required: bool,
    how: Login<'_, '_>,
) -> Result<(Session, bool), Pkcs11Error> {
    let session = ctx
        .open_ro_session(slot)
        .map_err(|e| token_err("opening a session", token, &e))?;
    let pin = match how.given {
        Some(p) => Some(p.clone()),
        None if how.needed && login_required => match how.prompt {
            Some(ask) => Some(ask(&how.request)?),
            None => {
                return Err(Pkcs11Error::PinRequired {
                    token: token.to_owned(),
                });
            }
        },
        None => None,
    };
    match &pin {
        Some(p) => {
            login(&session, token, p)?;
            Ok((session, true))
        }
        None => Ok((session, false)),
    }
}

/// Attributes of an object.
pub(super) fn attributes(
    session: &Session,
    token: &str,
    handle: ObjectHandle,
    types: &[AttributeType],
) -> Result<Vec<Attribute>, Pkcs11Error> {
    session
        .get_attributes(handle, types)
        .map_err(|e| token_err("reading object attributes", token, &e))
}

pub(super) fn bytes_attr(attrs: &[Attribute], kind: AttributeType) -> Option<Vec<u8>> {
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

pub(super) fn key_type_attr(attrs: &[Attribute]) -> Option<CkKeyType> {
    attrs.iter().find_map(|a| match a {
        Attribute::KeyType(k) => Some(*k),
        _ => None,
    })
}

/// A template for `class` objects with the given id and/or label.
pub(super) fn template(
    class: ObjectClass,
    id: Option<&[u8]>,
    label: Option<&[u8]>,
) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(id) = id.filter(|i| !i.is_empty()) {
        t.push(Attribute::Id(id.to_vec()));
    }
    if let Some(label) = label.filter(|l| !l.is_empty()) {
        t.push(Attribute::Label(label.to_vec()));
    }
    t
}

pub(super) fn find(
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
pub(super) struct Related {
    pub id: Option<Vec<u8>>,
    pub label: Option<Vec<u8>>,
}

impl Related {
    pub(super) fn candidates(&self, class: ObjectClass) -> Vec<Vec<Attribute>> {
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
