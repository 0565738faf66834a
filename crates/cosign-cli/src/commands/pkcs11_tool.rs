//! `cosign pkcs11-tool`: list the tokens of a PKCS#11 module and the URIs of a token's keys,
//! in Go cosign's output format.

use std::cell::Cell;
use std::path::PathBuf;

use anyhow::{Result, bail};
use cosign_kms::{PinRequest, Pkcs11Error, Pkcs11Pin};

use crate::args::{
    Pkcs11ListKeysUrisArgs, Pkcs11ListTokensArgs, Pkcs11ToolArgs, Pkcs11ToolCommand,
};
use crate::ctx::Ctx;
use crate::env;
use crate::prompt::read_pin;

pub fn run(args: &Pkcs11ToolArgs, ctx: &Ctx<'_>) -> Result<()> {
    match &args.command {
        Pkcs11ToolCommand::ListTokens(a) => list_tokens(a, ctx),
        Pkcs11ToolCommand::ListKeysUris(a) => list_keys_uris(a, ctx),
    }
}

/// `--module-path`, else `COSIGN_PKCS11_MODULE_PATH`; it must be absolute.
fn module_path(flag: Option<&PathBuf>) -> Result<PathBuf> {
    let path = flag
        .cloned()
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| {
            env::lookup("COSIGN_PKCS11_MODULE_PATH")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
    match path {
        Some(p) if p.is_absolute() => Ok(p),
        Some(p) => bail!(
            "--module-path {} is not absolute: give the absolute path of the PKCS11 module",
            p.display()
        ),
        None => bail!(
            "--module-path (or COSIGN_PKCS11_MODULE_PATH) must be set to the absolute path of the PKCS11 module"
        ),
    }
}

fn list_tokens(args: &Pkcs11ListTokensArgs, ctx: &Ctx<'_>) -> Result<()> {
    let module = module_path(args.module_path.as_ref())?;
    let tokens = cosign_kms::list_tokens(&module)?;
    let mut out = format!("\nListing tokens of PKCS11 module '{}'\n", module.display());
    for t in tokens {
        out.push_str(&format!(
            "Token in slot {}\n\tLabel: {}\n\tManufacturer: {}\n\tModel: {}\n\tS/N: {}\n\n",
            t.slot_id, t.label, t.manufacturer, t.model, t.serial
        ));
    }
    ctx.printer.out_bytes(out.as_bytes())?;
    Ok(())
}

fn list_keys_uris(args: &Pkcs11ListKeysUrisArgs, ctx: &Ctx<'_>) -> Result<()> {
    let module = module_path(args.module_path.as_ref())?;
    let pin = args
        .pin
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| env::lookup("COSIGN_PKCS11_PIN").filter(|p| !p.is_empty()))
        .map(Pkcs11Pin::new);
    let printer = ctx.printer;
    let prompted = Cell::new(false);
    let mut prompt = |req: &PinRequest| -> Result<Pkcs11Pin, Pkcs11Error> {
        prompted.set(true);
        let text = format!("Enter PIN for PKCS11 token '{}': ", req.token_label);
        read_pin(printer, &text, None)
            .map(|p| Pkcs11Pin::new(p.as_str()))
            .map_err(|e| Pkcs11Error::PinPrompt {
                token: req.token_label.clone(),
                reason: crate::exit::message(&e),
            })
    };
    let listing = cosign_kms::list_keys(&module, args.slot_id, pin.as_ref(), Some(&mut prompt))?;
    // Like cosign, the URIs carry the PIN given with --pin or COSIGN_PKCS11_PIN, ready to use
    // with --key. A PIN typed at the prompt is not echoed back.
    let uri_pin = if prompted.get() { None } else { pin.as_ref() };
    let mut out = format!(
        "\nListing URIs of keys in slot '{}' of PKCS11 module '{}'\n",
        args.slot_id,
        module.display()
    );
    for (i, key) in listing.keys.iter().enumerate() {
        out.push_str(&format!("Object {i}\n"));
        if !key.label.is_empty() {
            out.push_str(&format!(
                "\tLabel: {}\n",
                String::from_utf8_lossy(&key.label)
            ));
        }
        if !key.id.is_empty() {
            out.push_str(&format!("\tID: {}\n", hex_lower(&key.id)));
        }
        out.push_str(&format!("\tURI: {}\n", key.uri.to_string_with_pin(uri_pin)));
    }
    ctx.printer.out_bytes(out.as_bytes())?;
    Ok(())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
