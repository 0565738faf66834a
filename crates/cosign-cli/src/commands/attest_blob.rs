//! `cosign attest-blob` and `cosign verify-blob-attestation`: in-toto attestations about files,
//! whose digest is computed in one streaming pass.

use anyhow::{Context as _, Result, bail};
use cosign::attestation::{RekorEntryType, Stamped, sign_statement};
use cosign::blob::BlobInput;
use cosign::blob::attest::{
    ClaimedSubject, VerifyBlobAttestationOptions, blob_statement, check_statement,
    verify_attestation,
};
use cosign::fsutil::write_atomic;
use cosign_types::HashAlgorithm;
use cosign_types::predicate::PredicateType;

use crate::args::{AttestBlobArgs, VerifyBlobAttestationArgs};
use crate::ctx::Ctx;
use crate::settings::inputs::{parse_hex_digest, read_input, read_predicate};
use crate::settings::signing::{SigningRequest, SigningSettings};

pub fn attest(args: &AttestBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    crate::settings::keys::refuse_sk(args.key.sk)?;
    if args.predicate.is_some() == args.statement.is_some() {
        bail!("one of --predicate or --statement must be set");
    }
    let entry_type = RekorEntryType::from(args.rekor_entry_type);
    if args.new_bundle_format == Some(true) && args.bundle.is_none() {
        bail!("must specify --bundle with --new-bundle-format");
    }
    // A Sigstore bundle to --bundle unless --new-bundle-format=false (decision 0015).
    let sigstore_bundle = args.bundle.is_some() && args.new_bundle_format != Some(false);
    let req = SigningRequest {
        key: &args.key,
        rekor: &args.rekor,
        services: &args.services,
        stdin_busy: None,
        sigstore_bundle,
    };
    req.check()?;
    if sigstore_bundle {
        for (flag, given) in [
            ("--output-signature", args.output_signature.is_some()),
            ("--output-attestation", args.output_attestation.is_some()),
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
    let mut stdin_busy = None;
    let statement = if let Some(path) = &args.statement {
        ctx.printer
            .info(&format!("Using statement from: {}", path.display()));
        let arg = path.display().to_string();
        if arg == "-" {
            stdin_busy = Some("the statement");
        }
        let data = read_input(&arg, "statement")?;
        check_statement(&data)?;
        data
    } else {
        let predicate_type = PredicateType::parse(&args.predicate_type)?;
        let predicate_arg = args
            .predicate
            .as_deref()
            .filter(|p| !p.is_empty())
            .context("predicate cannot be empty")?;
        let Some(blob) = &args.blob else {
            bail!(
                "attest-blob needs the blob (its name and digest are the statement's subject), or --statement"
            );
        };
        if blob == "-" && predicate_arg == "-" {
            bail!("standard input (-) can be given only once: for the blob or for --predicate");
        }
        if blob == "-" || predicate_arg == "-" {
            stdin_busy = Some("the attested data");
        }
        if blob != "-" && args.hash.is_none() {
            ctx.printer.info(&format!("Using payload from: {blob}"));
        }
        let hash = args
            .hash
            .as_deref()
            .map(|h| parse_hex_digest("--hash", HashAlgorithm::Sha256, h))
            .transpose()?;
        let predicate = read_predicate(ctx, predicate_arg)?;
        blob_statement(
            blob,
            hash,
            &predicate_type,
            &predicate,
            &cosign::time::rfc3339(cosign::time::now_unix()),
        )?
    };
    let req = SigningRequest { stdin_busy, ..req };
    let SigningSettings {
        signer: key,
        certificate,
        witnesses,
        ..
    } = SigningSettings::resolve(&req, ctx)?;
    // Go's verifiers check a legacy attestation's timestamp over the envelope, a bundle's over
    // the signature.
    let stamped = if sigstore_bundle {
        Stamped::Signature
    } else {
        Stamped::Envelope
    };
    let signed = ctx.block_on(async {
        Ok(sign_statement(
            &key,
            statement,
            certificate.as_ref(),
            Some(&witnesses),
            entry_type,
            stamped,
        )
        .await?)
    })?;
    if let Some(e) = &signed.entry {
        ctx.printer
            .info(&crate::output::tlog_entry_created(e.log_index));
    }
    if let Some(path) = &args.bundle {
        let bytes = if sigstore_bundle {
            signed.sigstore_bundle(&key.public_key(), certificate.as_ref())?
        } else {
            signed.legacy_bundle(certificate.as_ref())
        };
        write_atomic(path, &bytes, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if sigstore_bundle {
        return Ok(());
    }
    match &args.output_signature {
        Some(path) => {
            write_atomic(path, &signed.envelope_json, 0o600)?;
            ctx.printer
                .info(&format!("Signature written in {}", path.display()));
        }
        None => ctx
            .printer
            .out_line(&String::from_utf8_lossy(&signed.envelope_json))?,
    }
    if let Some(path) = &args.output_attestation {
        write_atomic(path, &signed.statement, 0o600)?;
        ctx.printer
            .info(&format!("Attestation written in {}", path.display()));
    }
    if let Some(path) = &args.output_certificate {
        match &certificate {
            Some(cert) => {
                write_atomic(path, cert.pem.as_bytes(), 0o600)?;
                ctx.printer
                    .info(&format!("Certificate written to file {}", path.display()));
            }
            None => ctx
                .printer
                .info("Could not output signer certificate. Was a certificate used?"),
        }
    }
    if let Some(path) = &args.rfc3161_timestamp {
        let Some(ts) = signed.timestamps.first() else {
            bail!("no RFC3161 timestamp found in bundle");
        };
        write_atomic(
            path,
            cosign::witness::rfc3161_annotation(ts).as_bytes(),
            0o600,
        )?;
        ctx.printer
            .info(&format!("Timestamp wrote in the file  {}", path.display()));
    }
    Ok(())
}

pub fn verify(args: &VerifyBlobAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.signature.is_none() && args.bundle.is_none() {
        bail!("please specify path to the DSSE envelope signature via --signature or --bundle");
    }
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    let trust = crate::settings::verify::resolve(
        ctx,
        &args.key,
        &args.cert,
        &args.log,
        "blob attestation",
    )?;
    let subject = if args.check_claims {
        Some(match (&args.digest, &args.blob) {
            (Some(hex), _) => ClaimedSubject::Digest(parse_hex_digest(
                "--digest",
                HashAlgorithm::from(args.digest_alg),
                hex,
            )?),
            (None, Some(blob)) => ClaimedSubject::Blob(BlobInput::parse(blob)),
            (None, None) => bail!(
                "the blob or --digest is needed to check the claims (or pass --check-claims=false)"
            ),
        })
    } else {
        None
    };
    let opts = VerifyBlobAttestationOptions {
        authority: &trust.authority,
        predicate_type: &predicate_type,
        subject,
        bundle: args.bundle.as_deref(),
        signature: args.signature.as_deref(),
        tlog: trust.tlog.as_ref(),
        trusted_root: trust.trusted_root.as_ref(),
    };
    let verified = ctx.block_on(async { Ok(verify_attestation(&opts).await?) })?;
    if verified.tlog.as_ref().is_some_and(|t| t.entry.inactive_key) {
        ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
    }
    ctx.printer.info("Verified OK");
    Ok(())
}
