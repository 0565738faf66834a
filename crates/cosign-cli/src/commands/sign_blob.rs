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
use crate::settings::signing::{SigningRequest, SigningSettings};

pub fn run(args: &SignBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.new_bundle_format == Some(true) && args.bundle.is_none() {
        bail!("must specify --bundle with --new-bundle-format");
    }
    // cosign 3 writes a Sigstore bundle to --bundle unless --new-bundle-format=false; without
    // --bundle the signature is printed (decision 0015).
    let sigstore_bundle = args.bundle.is_some() && args.new_bundle_format != Some(false);
    let req = SigningRequest {
        key: &args.key,
        rekor: &args.rekor,
        services: &args.services,
        stdin_busy: None,
        sigstore_bundle,
    };
    req.check()?;
    let mut output_signature = args.output_signature.clone();
    if let Some(o) = &args.output {
        ctx.printer.warn(
            "the '--output' flag is deprecated and will be removed in the future. Use '--output-signature'",
        );
        output_signature.get_or_insert_with(|| o.clone());
    }
    if sigstore_bundle {
        for (flag, given) in [
            ("--output-signature", output_signature.is_some()),
            ("--output-certificate", args.output_certificate.is_some()),
            ("--rfc3161-timestamp", args.rfc3161_timestamp.is_some()),
        ] {
            if given {
                ctx.printer.warn(&format!(
                    "{flag} is deprecated when using --new-bundle-format and will be ignored"
                ));
            }
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
    // Fail on a missing or unreadable input before asking for a password or a token.
    for input in &inputs {
        if let BlobInput::File(p) = input {
            cosign::fsutil::check_regular_or_stream(p, "reading")?;
        }
    }
    let req = SigningRequest {
        stdin_busy: inputs
            .contains(&BlobInput::Stdin)
            .then_some("the blob to sign"),
        ..req
    };
    // cosign's order: the log notice, then per blob "Using payload from", the key (and its
    // password, or the keyless certificate) obtained at the first blob.
    let prepared = SigningSettings::prepare(&req, ctx)?;
    let mut loaded = None;
    for input in &inputs {
        if let BlobInput::File(p) = input {
            ctx.printer
                .info(&format!("Using payload from: {}", p.display()));
        }
        let (key, certificate, _chain) = match &loaded {
            Some(k) => k,
            None => loaded.insert(prepared.key(&req, ctx)?),
        };
        let signed = ctx.block_on(async {
            Ok(cosign::blob::sign(
                key,
                input,
                &SignBlobOptions {
                    certificate: certificate.as_ref(),
                    witnesses: Some(&prepared.witnesses),
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
            sigstore_bundle,
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
    sigstore_bundle: bool,
) -> Result<()> {
    let sig_b64 = STANDARD.encode(&signed.signature);
    if let Some(path) = &args.bundle {
        let bytes = if sigstore_bundle {
            signed.sigstore_bundle(key, certificate)?
        } else {
            signed.legacy_bundle(key, certificate)
        };
        write_atomic(path, &bytes, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if sigstore_bundle {
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
    if let Some(path) = &args.rfc3161_timestamp {
        match signed.timestamps.first() {
            Some(ts) => {
                write_atomic(path, cosign::witness::rfc3161_annotation(ts).as_bytes(), 0o600)?;
                ctx.printer
                    .info(&format!("Wrote timestamp to file {}", path.display()));
            }
            None => ctx.printer.warn(&format!(
                "no RFC3161 timestamp written to {}: no timestamp authority was used (--timestamp-server-url)",
                path.display()
            )),
        }
    }
    Ok(())
}
