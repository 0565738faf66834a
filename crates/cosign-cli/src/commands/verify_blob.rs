//! `cosign verify-blob`: check a blob's signature with a public key, from `--signature` or a
//! bundle (legacy JSON or Sigstore bundle, detected by content).

use anyhow::{Result, bail};
use cosign::blob::bundle::read_signature;
use cosign::blob::{BlobInput, VerifyBlobOptions};

use crate::args::VerifyBlobArgs;
use crate::ctx::Ctx;

pub fn run(args: &VerifyBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.max_workers == 0 {
        bail!("please set the --max-worker flag to a value that is greater than 0");
    }
    crate::settings::keys::refuse_sk(args.key.sk)?;
    let Some(key_ref) = &args.key.key else {
        if args.bundle.is_some() {
            bail!(
                "verifying a bundle without --key (keyless, against Fulcio certificates) is not supported by this build yet: pass --key"
            );
        }
        bail!(
            "provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle"
        );
    };
    if args.signature.is_none() && args.bundle.is_none() {
        bail!("provide the signature with --signature or a bundle with --bundle");
    }
    let tlog = crate::settings::tlog::verify_flags(&args.log, ctx, "blob")?;
    let trusted_root =
        crate::settings::trust::trusted_root(args.log.trusted_root.as_deref(), ctx.timeout)?;
    let key = crate::settings::keys::load_verification_key(ctx, key_ref)?;
    let opts = VerifyBlobOptions {
        key: &key,
        signature: args.signature.as_deref().map(read_signature).transpose()?,
        bundle: args.bundle.as_deref(),
        tlog: tlog.as_ref(),
        trusted_root: trusted_root.as_ref(),
    };
    let input = BlobInput::parse(&args.blob);
    let verified = ctx.block_on(async { Ok(cosign::blob::verify(&input, &opts).await?) })?;
    if verified.tlog.as_ref().is_some_and(|t| t.entry.inactive_key) {
        ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
    }
    ctx.printer.info("Verified OK");
    Ok(())
}
