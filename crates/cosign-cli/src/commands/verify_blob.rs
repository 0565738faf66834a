//! `cosign verify-blob`: check a blob's signature with a public key or, keyless, against a
//! certificate bound to an identity; the signature from `--signature` or a bundle (legacy JSON
//! or Sigstore bundle, detected by content).

use anyhow::{Context as _, Result, bail};
use cosign::blob::bundle::read_signature;
use cosign::blob::{BlobInput, VerifyBlobOptions};

use crate::args::VerifyBlobArgs;
use crate::ctx::Ctx;

pub fn run(args: &VerifyBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.max_workers == 0 {
        bail!("please set the --max-worker flag to a value that is greater than 0");
    }
    if args.key.key.is_none()
        && !args.key.sk
        && args.cert.certificate.is_none()
        && args.bundle.is_none()
    {
        bail!(
            "provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle"
        );
    }
    if args.signature.is_none() && args.bundle.is_none() {
        bail!("provide the signature with --signature or a bundle with --bundle");
    }
    let trust = crate::settings::verify::resolve(ctx, &args.key, &args.cert, &args.log, "blob")?;
    let opts = VerifyBlobOptions {
        authority: &trust.authority,
        signature: args.signature.as_deref().map(read_signature).transpose()?,
        bundle: args.bundle.as_deref(),
        tlog: trust.tlog.as_ref(),
        trusted_root: trust.trusted_root.as_ref(),
        timestamp: args
            .rfc3161_timestamp
            .as_deref()
            .map(read_timestamp)
            .transpose()?,
    };
    let input = BlobInput::parse(&args.blob);
    let verified = ctx.block_on(async { Ok(cosign::blob::verify(&input, &opts).await?) })?;
    if verified.tlog.as_ref().is_some_and(|t| t.entry.inactive_key) {
        ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
    }
    ctx.printer.info("Verified OK");
    Ok(())
}

/// `--rfc3161-timestamp FILE`: `{"SignedRFC3161Timestamp":"<base64>"}` as `sign-blob
/// --rfc3161-timestamp` writes it.
pub(crate) fn read_timestamp(path: &std::path::Path) -> Result<Vec<u8>> {
    let data = cosign::fsutil::read_small_file(path, "timestamp file", 1 << 20)?;
    let ts = cosign_types::Rfc3161Timestamp::from_json(&data)
        .with_context(|| format!("parsing RFC 3161 timestamp file {}", path.display()))?;
    Ok(ts.signed_rfc3161_timestamp)
}
