//! `cosign attest`, `attach attestation` and `download attestation`.

use anyhow::{Result, bail};
use cosign::attestation::RekorEntryType;
use cosign::fsutil::write_atomic;
use cosign::image::attest::{
    AttestOptions, AttestationFile, attach_attestations, attest_image, download_attestations,
};
use cosign_types::predicate::PredicateType;

use crate::args::{AttachAttestationArgs, AttestArgs, DownloadAttestationArgs};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::settings::inputs::{read_input, read_predicate};
use crate::settings::registry;
use crate::settings::signing::{SigningRequest, SigningSettings};

pub fn run(args: &AttestArgs, ctx: &Ctx<'_>) -> Result<()> {
    crate::settings::keys::refuse_sk(args.key.sk)?;
    let Some(predicate_arg) = args.predicate.as_deref().filter(|p| !p.is_empty()) else {
        bail!("predicate cannot be empty");
    };
    let entry_type = RekorEntryType::from(args.rekor_entry_type);
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    if args.new_bundle_format && args.no_upload && args.bundle.is_none() {
        bail!(
            "must enable upload to the OCI registry or specify a local --bundle path with --new-bundle-format"
        );
    }
    let image = args.image.clone();
    let predicate = read_predicate(ctx, predicate_arg)?;
    let req = SigningRequest {
        key: &args.key,
        rekor: &args.rekor,
        services: &args.services,
        stdin_busy: (predicate_arg == "-").then_some("the predicate"),
        sigstore_bundle: args.new_bundle_format,
    };
    req.check()?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let SigningSettings {
        signer: key,
        certificate,
        chain,
        witnesses,
    } = SigningSettings::resolve(&req, ctx)?;
    let opts = AttestOptions {
        predicate_type,
        predicate,
        timestamp: cosign::time::rfc3339(cosign::time::now_unix()),
        upload: !args.no_upload,
        replace: args.replace,
        new_bundle_format: args.new_bundle_format,
        storage: registry::storage(&args.registry)?,
        certificate,
        certificate_chain: chain,
        witnesses,
        entry_type,
    };
    let out = ctx
        .block_on(async { Ok(attest_image(&reg, &key, &image, &opts, &StderrReporter).await?) })?;
    if let Some(path) = &args.bundle {
        write_atomic(path, &out.bundle, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if args.no_upload && args.bundle.is_none() {
        ctx.printer
            .out_line(&String::from_utf8_lossy(&out.signed.envelope_json))?;
    }
    Ok(())
}

pub fn attach(args: &AttachAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let mut files = Vec::new();
    for p in &args.attestation {
        // cosign prints this line without a newline.
        ctx.printer
            .info_partial(&format!("Using payload from: {}", p.display()));
        let name = p.display().to_string();
        let data = read_input(&name, "attestation")?;
        if data.iter().all(u8::is_ascii_whitespace) {
            bail!("attestation file {name} is empty");
        }
        files.push(AttestationFile { name, data });
    }
    ctx.block_on(async { Ok(attach_attestations(&reg, &image, &files, &storage).await?) })?;
    Ok(())
}

pub fn download(args: &DownloadAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(PredicateType::parse)
        .transpose()?;
    let platform = args.platform.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let lines = ctx.block_on(async {
        Ok(download_attestations(
            &reg,
            &image,
            predicate_type.as_ref(),
            platform.as_ref(),
            &storage,
        )
        .await?)
    })?;
    for l in lines {
        ctx.printer.out_bytes(&l)?;
        ctx.printer.out_bytes(b"\n")?;
    }
    Ok(())
}
