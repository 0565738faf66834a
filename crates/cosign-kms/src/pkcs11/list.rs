//! The listings of `pkcs11-tool`: a module's tokens, and a token's private keys as URIs.

use std::path::Path;

use cryptoki::object::{Attribute, AttributeType, ObjectClass};

use super::module::{load_module, module_err};
use super::session::{Login, attributes, bytes_attr, find, open_session};
use super::{PinPrompt, PinRequest, Pkcs11Error};
use crate::pkcs11_uri::{Pkcs11Pin, Pkcs11Uri};

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

/// Lists the tokens of a module (`pkcs11-tool list-tokens`).
pub fn list_tokens(module: &Path) -> Result<Vec<TokenListing>, Pkcs11Error> {
    let ctx = load_module(module)?;
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| module_err(module, &e))?;
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
    let slots = ctx.get_all_slots().map_err(|e| module_err(module, &e))?;
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
    let (session, _) = open_session(
        &ctx,
        slot,
        &token,
        info.login_required(),
        Login {
            given: pin,
            needed: true,
            prompt,
            request: PinRequest {
                token_label: token.clone(),
                key_label: None,
            },
        },
    )?;
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
