//! Keys from `--key`: signing keys (encrypted files, `env://`, KMS, Kubernetes secrets and
//! PKCS#11 tokens, with their password or PIN prompts), verification keys, and the certificate
//! that goes with a signing key.

use anyhow::{Result, bail};
use cosign_kms::{KeyRef, PinRequest, Pkcs11Error, Pkcs11Pin, Pkcs11Uri};
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::prompt::{PasswordSource, read_pin};

/// The environment lookup handed to library flows for `env://` key references and the KMS
/// providers' settings.
pub fn env_lookup(name: &str) -> Option<String> {
    crate::env::user_named(name)
}

/// `--sk` (hardware security keys) is refused by every command that takes it.
pub fn refuse_sk(sk: bool) -> Result<()> {
    if sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    Ok(())
}

/// Loads a private key from `--key`, asking for its password when it is encrypted (or for the
/// PIN of a PKCS#11 token).
pub fn load_signing_key(
    ctx: &Ctx<'_>,
    key: &str,
    stdin_busy: Option<&str>,
) -> Result<cosign::Signer> {
    load_signing_keyref(ctx, &KeyRef::parse(key)?, stdin_busy)
}

/// [`load_signing_key`] for a parsed reference.
pub fn load_signing_keyref(
    ctx: &Ctx<'_>,
    keyref: &KeyRef,
    stdin_busy: Option<&str>,
) -> Result<cosign::Signer> {
    if let KeyRef::Pkcs11(uri) = keyref {
        return open_pkcs11_key(ctx, uri, stdin_busy);
    }
    let source = PasswordSource::detect();
    let printer = ctx.printer;
    let mut password = || -> Result<Zeroizing<Vec<u8>>, cosign::Error> {
        source
            .read(printer, false, stdin_busy)
            .map_err(|e| cosign::Error::Password(crate::exit::message(&e)))
    };
    let timeout = ctx.timeout;
    let key = ctx.block_on(async {
        Ok(cosign::keys::load_signing_key(keyref, &env_lookup, &mut password, timeout).await?)
    })?;
    Ok(key)
}

/// Opens a PKCS#11 key: PIN from the URI, `COSIGN_PKCS11_PIN`, else asked as cosign asks.
fn open_pkcs11_key(
    ctx: &Ctx<'_>,
    uri: &Pkcs11Uri,
    stdin_busy: Option<&str>,
) -> Result<cosign::Signer> {
    let settings = cosign::keys::pkcs11_settings(&env_lookup);
    let printer = ctx.printer;
    let mut prompt = |req: &PinRequest| -> Result<Pkcs11Pin, Pkcs11Error> {
        let text = match &req.key_label {
            Some(key) => format!(
                "Enter PIN for key '{key}' in PKCS11 token '{}': ",
                req.token_label
            ),
            None => format!("Enter PIN for PKCS11 token '{}': ", req.token_label),
        };
        read_pin(printer, &text, stdin_busy)
            .map(|pin| Pkcs11Pin::new(pin.as_str()))
            .map_err(|e| Pkcs11Error::PinPrompt {
                token: req.token_label.clone(),
                reason: crate::exit::message(&e),
            })
    };
    Ok(cosign::keys::open_pkcs11_signer(
        uri,
        &settings,
        Some(&mut prompt),
    )?)
}

/// The certificate to sign with: `--certificate` when given, else the certificate stored on
/// the PKCS#11 token beside the key. Like cosign, warns when a token key has no certificate.
pub fn signing_certificate(
    ctx: &Ctx<'_>,
    key_ref: &KeyRef,
    key: &cosign::Signer,
    flag: Option<cosign::certs::Certificate>,
) -> Result<Option<cosign::certs::Certificate>> {
    if !matches!(key_ref, KeyRef::Pkcs11(_)) {
        return Ok(flag);
    }
    let token_cert = key.certificate_pem();
    if token_cert.is_none() {
        ctx.printer
            .warn("no x509 certificate retrieved from the PKCS11 token");
    }
    match (flag, token_cert) {
        (Some(cert), _) => Ok(Some(cert)),
        (None, Some(pem)) => Ok(Some(cosign::certs::parse_certificate(
            pem.as_bytes(),
            "from the PKCS11 token",
        )?)),
        (None, None) => Ok(None),
    }
}

/// Loads the verification (public) key named by `--key`: a file, `env://`, URL, KMS or token.
pub fn load_verification_key(ctx: &Ctx<'_>, key: &str) -> Result<cosign_crypto::PublicKey> {
    let keyref = KeyRef::parse(key)?;
    let timeout = ctx.timeout;
    ctx.block_on(async { Ok(cosign::keys::load_public_key(&keyref, &env_lookup, timeout).await?) })
}
