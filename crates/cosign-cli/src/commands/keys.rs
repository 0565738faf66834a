//! `generate-key-pair`, `import-key-pair` and `public-key`.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cosign::keys::KeyPairPem;
use cosign_crypto::PrivateKey;
use cosign_kms::KeyRef;

use crate::args::{GenerateKeyPairArgs, ImportKeyPairArgs, PublicKeyArgs};
use crate::ctx::Ctx;
use crate::prompt::{PasswordSource, confirm_continue};
use crate::settings::keys::{env_lookup, load_signing_key, refuse_sk};

/// Writes `<prefix>.key` (0600) and `<prefix>.pub` (0644) all-or-nothing, after the overwrite
/// check, printing cosign's two lines.
fn write_key_pair(
    ctx: &Ctx<'_>,
    key: &PrivateKey,
    password: &[u8],
    prefix: &str,
    skip_confirm: bool,
) -> Result<()> {
    let pair = KeyPairPem::encode(key, password)?;
    let (key_path, _) = KeyPairPem::paths(prefix);
    if key_path.exists() && !skip_confirm {
        ctx.printer.warn(&format!(
            "File {} already exists. Overwrite?",
            key_path.display()
        ));
        confirm_continue(ctx.printer)?;
    }
    let (key_path, pub_path) = pair.write(prefix)?;
    ctx.printer
        .info(&format!("Private key written to {}", key_path.display()));
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
        return generate_in_kms(ctx, uri, &args.output_key_prefix);
    }
    if let Some(dest) = &args.destination {
        return match KeyRef::parse(dest)? {
            KeyRef::Kubernetes { namespace, name } => {
                generate_in_k8s(ctx, &namespace, &name, &args.output_key_prefix)
            }
            _ => bail!(
                "storing generated keys in {dest} (GitHub or GitLab) is not supported by this build yet"
            ),
        };
    }
    check_prefix(&args.output_key_prefix)?;
    let password = PasswordSource::detect().read(ctx.printer, true, None)?;
    let key = PrivateKey::generate_ecdsa_p256().context("generating an ECDSA P-256 key")?;
    write_key_pair(ctx, &key, &password, &args.output_key_prefix, false)
}

/// `generate-key-pair --kms URI`: the key is made in (or found in) the KMS; only
/// `<prefix>.pub` is written.
fn generate_in_kms(ctx: &Ctx<'_>, uri: &str, prefix: &str) -> Result<()> {
    check_prefix(prefix)?;
    let keyref = KeyRef::parse(uri)?;
    let KeyRef::Kms { provider, uri } = keyref else {
        bail!(
            "--kms takes a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://, openbao://), not {keyref}"
        );
    };
    cosign_kms::check_uri(provider, &uri)?;
    let timeout = ctx.timeout;
    let created = ctx.block_on(async {
        Ok(cosign::keys::create_kms_key(provider, &uri, &env_lookup, timeout).await?)
    })?;
    if created.reference != uri {
        ctx.printer.info(&format!(
            "Created {} key {}",
            provider.name(),
            created.reference
        ));
    }
    let (_, pub_path) = KeyPairPem::paths(prefix);
    write_public(&pub_path, &created.public_key.to_pem())?;
    ctx.printer
        .info(&format!("Public key written to {}", pub_path.display()));
    Ok(())
}

/// `generate-key-pair k8s://NS/NAME`: a new key pair stored in the Secret (`cosign.key`,
/// `cosign.pub`, `cosign.password`), and `<prefix>.pub` written locally, as cosign does.
fn generate_in_k8s(ctx: &Ctx<'_>, namespace: &str, name: &str, prefix: &str) -> Result<()> {
    check_prefix(prefix)?;
    let password = PasswordSource::detect().read(ctx.printer, true, None)?;
    let key = PrivateKey::generate_ecdsa_p256().context("generating an ECDSA P-256 key")?;
    let pair = KeyPairPem::encode(&key, &password)?;
    let timeout = ctx.timeout;
    ctx.block_on(async {
        Ok(cosign::keys::store_k8s_key_pair(
            namespace,
            name,
            pair.private.as_bytes(),
            pair.public.as_bytes(),
            &password,
            &env_lookup,
            timeout,
        )
        .await?)
    })?;
    ctx.printer.info(&format!(
        "Successfully created secret {name} in namespace {namespace}"
    ));
    let (_, pub_path) = KeyPairPem::paths(prefix);
    write_public(&pub_path, &pair.public)?;
    ctx.printer
        .info(&format!("Public key written to {}", pub_path.display()));
    Ok(())
}

pub fn import_key_pair(args: &ImportKeyPairArgs, ctx: &Ctx<'_>) -> Result<()> {
    check_prefix(&args.output_key_prefix)?;
    let key = cosign::keys::read_importable_key(&args.key)?;
    let password = PasswordSource::detect().read(ctx.printer, true, None)?;
    write_key_pair(ctx, &key, &password, &args.output_key_prefix, args.yes)
}

pub fn public_key(args: &PublicKeyArgs, ctx: &Ctx<'_>) -> Result<()> {
    refuse_sk(args.sk)?;
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
