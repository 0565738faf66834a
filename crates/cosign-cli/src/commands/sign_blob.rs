//! `cosign sign-blob`: sign files or standard input with a key, writing the signature, a legacy
//! bundle, or a Sigstore bundle v0.3.

use std::path::PathBuf;

use anyhow::{Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::blob::{BlobInput, SignBlobOptions, SignedBlob};
use cosign::certs::Certificate;
use cosign::fsutil::write_atomic;

use crate::args::SignBlobArgs;
use crate::ctx::Ctx;
use crate::settings::signing::resolve_key;

pub fn run(args: &SignBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    crate::settings::signing::signing_key_ref(&args.key)?;
    if args.new_bundle_format && args.bundle.is_none() {
        bail!("must specify --bundle with --new-bundle-format");
    }
    let mut output_signature = args.output_signature.clone();
    if let Some(o) = &args.output {
        ctx.printer.warn(
            "the '--output' flag is deprecated and will be removed in the future. Use '--output-signature'",
        );
        output_signature.get_or_insert_with(|| o.clone());
    }
    if args.new_bundle_format {
        if output_signature.is_some() {
            ctx.printer.warn(
                "--output-signature is deprecated when using --new-bundle-format and will be ignored",
            );
        }
        if args.output_certificate.is_some() {
            ctx.printer.warn(
                "--output-certificate is deprecated when using --new-bundle-format and will be ignored",
            );
        }
    }
    let inputs: Vec<BlobInput> = args
        .blobs
        .iter()
        .map(|b| {
            if b == "-" {
                BlobInput::Stdin
            } else {
                BlobInput::File(PathBuf::from(b))
            }
        })
        .collect();
    if inputs.iter().filter(|i| **i == BlobInput::Stdin).count() > 1 {
        bail!("standard input (-) can be given only once");
    }
    // Fail on a missing or unreadable input before asking for a password.
    for input in &inputs {
        if let BlobInput::File(p) = input {
            cosign::fsutil::check_regular_or_stream(p, "reading")?;
        }
    }
    let stdin_busy = inputs
        .contains(&BlobInput::Stdin)
        .then_some("the blob to sign");
    // cosign's order: the log notice, then per blob "Using payload from", the key (and its
    // password) loaded at the first blob.
    let tlog = crate::settings::tlog::upload(
        ctx,
        args.rekor.tlog_upload,
        &args.rekor.rekor_url,
        args.key.yes,
    )?;
    let mut loaded = None;
    for input in &inputs {
        if let BlobInput::File(p) = input {
            ctx.printer
                .info(&format!("Using payload from: {}", p.display()));
        }
        let (key, certificate) = match &loaded {
            Some(k) => k,
            None => loaded.insert(resolve_key(&args.key, ctx, stdin_busy)?),
        };
        let signed = ctx.block_on(async {
            Ok(cosign::blob::sign(
                key,
                input,
                &SignBlobOptions {
                    certificate: certificate.as_ref(),
                    tlog: tlog.as_ref(),
                },
            )
            .await?)
        })?;
        if let Some(entry) = &signed.entry {
            ctx.printer
                .info(&crate::output::tlog_entry_created(entry.log_index));
        }
        write_outputs(
            args,
            ctx,
            key,
            certificate.as_ref(),
            &signed,
            output_signature.as_ref(),
        )?;
    }
    Ok(())
}

fn write_outputs(
    args: &SignBlobArgs,
    ctx: &Ctx<'_>,
    key: &cosign::Signer,
    certificate: Option<&Certificate>,
    signed: &SignedBlob,
    output_signature: Option<&PathBuf>,
) -> Result<()> {
    let sig_b64 = STANDARD.encode(&signed.signature);
    if let Some(path) = &args.bundle {
        let bytes = if args.new_bundle_format {
            signed.sigstore_bundle(key, certificate)?
        } else {
            signed.legacy_bundle(key, certificate)
        };
        write_atomic(path, &bytes, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if args.new_bundle_format {
        return Ok(());
    }
    let sig_out = if args.b64 {
        sig_b64.into_bytes()
    } else {
        signed.signature.clone()
    };
    match output_signature {
        Some(path) => {
            write_atomic(path, &sig_out, 0o600)?;
            ctx.printer
                .info(&format!("Wrote signature to file {}", path.display()));
        }
        None if args.b64 => {
            ctx.printer.out_bytes(&sig_out)?;
            ctx.printer.out_bytes(b"\n")?;
        }
        None => ctx.printer.out_bytes(&sig_out)?,
    }
    if let Some(path) = &args.output_certificate {
        match certificate {
            Some(cert) => {
                let bytes = if args.b64 {
                    STANDARD.encode(cert.pem.as_bytes()).into_bytes()
                } else {
                    cert.pem.clone().into_bytes()
                };
                write_atomic(path, &bytes, 0o600)?;
                ctx.printer
                    .info(&format!("Wrote certificate to file {}", path.display()));
            }
            None => ctx.printer.warn(&format!(
                "no certificate written to {}: the blob was signed with a key and no --certificate was given",
                path.display()
            )),
        }
    }
    Ok(())
}
