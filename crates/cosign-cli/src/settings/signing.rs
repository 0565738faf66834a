//! The signing service of `sign`, `sign-blob`, `attest` and `attest-blob`: today a key (file,
//! `env://`, KMS, Kubernetes secret or PKCS#11 token) with its certificate, and the
//! transparency log to record in. Keyless signing (an OIDC identity token exchanged at Fulcio
//! for a short-lived certificate), timestamp authorities and signing configs resolve here
//! too when they arrive, so the commands keep asking one question: "how do I sign?".

use anyhow::{Result, bail};
use cosign::certs::Certificate;
use cosign::tlog::TlogUpload;
use cosign_kms::KeyRef;

use super::keys::{load_signing_keyref, refuse_sk, signing_certificate};
use crate::args::{RekorArgs, SigningKeyArgs};
use crate::ctx::Ctx;

/// How to sign, resolved from the key and log flags.
pub struct SigningSettings {
    /// The key that signs.
    pub signer: cosign::Signer,
    /// Its certificate: `--certificate`, else one stored beside a token key.
    pub certificate: Option<Certificate>,
    /// Where to record signatures (None: `--tlog-upload=false`).
    pub tlog: Option<TlogUpload>,
}

/// The `--key` reference, refusing `--sk` and keyless signing (not in this build yet).
pub fn signing_key_ref(key: &SigningKeyArgs) -> Result<KeyRef> {
    refuse_sk(key.sk)?;
    let Some(key_ref) = &key.key else {
        bail!(
            "keyless signing (Fulcio and OIDC) is not supported by this build yet: pass --key <key>"
        );
    };
    Ok(KeyRef::parse(key_ref)?)
}

impl SigningSettings {
    /// Resolves the signing service: the key and its certificate ([`resolve_key`];
    /// `stdin_busy` names what standard input carries, so that no password is read from it),
    /// then the log (with cosign's public-good notice).
    pub fn resolve(
        key: &SigningKeyArgs,
        rekor: &RekorArgs,
        ctx: &Ctx<'_>,
        stdin_busy: Option<&str>,
    ) -> Result<Self> {
        let (signer, certificate) = resolve_key(key, ctx, stdin_busy)?;
        let tlog = super::tlog::upload(ctx, rekor.tlog_upload, &rekor.rekor_url, key.yes)?;
        Ok(Self {
            signer,
            certificate,
            tlog,
        })
    }
}

/// The signing key and its certificate: the refusals, `--certificate`, the key (its password
/// or PIN asked for here), the check that the certificate is the key's, and a token's own
/// certificate.
pub fn resolve_key(
    key: &SigningKeyArgs,
    ctx: &Ctx<'_>,
    stdin_busy: Option<&str>,
) -> Result<(cosign::Signer, Option<Certificate>)> {
    let keyref = signing_key_ref(key)?;
    let certificate = key
        .certificate
        .as_deref()
        .map(cosign::certs::load_certificate)
        .transpose()?;
    let signer = load_signing_keyref(ctx, &keyref, stdin_busy)?;
    if let Some(cert) = &certificate
        && cert.public_key != signer.public_key()
    {
        bail!("public key in certificate does not match that in the signing key");
    }
    let certificate = signing_certificate(ctx, &keyref, &signer, certificate)?;
    Ok((signer, certificate))
}
