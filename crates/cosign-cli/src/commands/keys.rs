//! `generate-key-pair`, `import-key-pair` and `public-key`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use cosign::fsutil::StagedFile;
use cosign_crypto::PrivateKey;
use cosign_kms::KeyRef;
use zeroize::Zeroizing;

use super::{Ctx, env_lookup};
use crate::args::{GenerateKeyPairArgs, ImportKeyPairArgs, PublicKeyArgs};
use crate::prompt::{PasswordSource, confirm_continue};

/// Writes `<prefix>.key` (0600) and `<prefix>.pub` (0644) all-or-nothing, after the overwrite
/// check, printing cosign's two lines.
fn write_key_pair(
    ctx: &Ctx<'_>,
    key: &PrivateKey,
    password: &[u8],
    prefix: &str,
    skip_confirm: bool,
) -> Result<()> {
    let key_path = PathBuf::from(format!("{prefix}.key"));
    let pub_path = PathBuf::from(format!("{prefix}.pub"));
    let encrypted =
        cosign_crypto::encrypt_private_key(key, password).context("encrypting the private key")?;
    let public_pem = key.public_key().to_pem();
    if key_path.exists() && !skip_confirm {
        ctx.printer.warn(&format!(
            "File {} already exists. Overwrite?",
            key_path.display()
        ));
        confirm_continue(ctx.printer)?;
    }
    // Stage both files first so that a failure leaves neither behind.
    let staged_key = StagedFile::stage(&key_path, encrypted.as_bytes(), 0o600)?;
    let staged_pub = StagedFile::stage(&pub_path, public_pem.as_bytes(), 0o644)?;
    staged_key.commit()?;
    ctx.printer
        .info(&format!("Private key written to {}", key_path.display()));
    staged_pub.commit()?;
    ctx.printer
        .info(&format!("Public key written to {}", pub_path.display()));
    Ok(())
}

fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() {
        bail!("--output-key-prefix must not be empty");
    }
    Ok(())
}

pub fn generate_key_pair(args: &GenerateKeyPairArgs, ctx: &Ctx<'_>) -> Result<()> {
    if let Some(uri) = &args.kms {
        let keyref = KeyRef::parse(uri)?;
        bail!("creating keys in a KMS ({keyref}) is not supported by this build yet");
    }
    if let Some(dest) = &args.destination {
        bail!(
            "storing generated keys in {dest} (Kubernetes, GitHub or GitLab) is not supported by this build yet"
        );
    }
    check_prefix(&args.output_key_prefix)?;
    let password = PasswordSource::detect().read(ctx.printer, true, None)?;
    let key = PrivateKey::generate_ecdsa_p256().context("generating an ECDSA P-256 key")?;
    write_key_pair(ctx, &key, &password, &args.output_key_prefix, false)
}

pub fn import_key_pair(args: &ImportKeyPairArgs, ctx: &Ctx<'_>) -> Result<()> {
    check_prefix(&args.output_key_prefix)?;
    let key = cosign::keys::read_importable_key(&args.key)?;
    let password = PasswordSource::detect().read(ctx.printer, true, None)?;
    write_key_pair(ctx, &key, &password, &args.output_key_prefix, args.yes)
}

/// Loads a private key from `--key`, asking for its password when it is encrypted.
pub fn load_signing_key(ctx: &Ctx<'_>, key: &str, stdin_busy: Option<&str>) -> Result<cosign::Signer> {
    let keyref = KeyRef::parse(key)?;
    let source = PasswordSource::detect();
    let printer = ctx.printer;
    let mut password = || -> Result<Zeroizing<Vec<u8>>, cosign::Error> {
        source
            .read(printer, false, stdin_busy)
            .map_err(|e| cosign::Error::Password(crate::exit::message(&e)))
    };
    let timeout = ctx.timeout;
    let key = ctx.block_on(async {
        Ok(cosign::keys::load_signing_key(&keyref, &env_lookup, &mut password, timeout).await?)
    })?;
    Ok(key)
}

pub fn public_key(args: &PublicKeyArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    let Some(key) = &args.key else {
        bail!("one of --key or --sk is required");
    };
    let private = load_signing_key(ctx, key, None)?;
    let pem = private.public_key().to_pem();
    match &args.outfile {
        Some(path) => {
            write_public(path, &pem)?;
            ctx.printer
                .info(&format!("Public key written to {}", path.display()));
        }
        None => ctx.printer.out_bytes(pem.as_bytes())?,
    }
    Ok(())
}

fn write_public(path: &Path, pem: &str) -> Result<()> {
    cosign::fsutil::write_atomic(path, pem.as_bytes(), 0o644)?;
    Ok(())
}
