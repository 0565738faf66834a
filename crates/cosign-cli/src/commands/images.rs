//! `generate`, `attach signature`, `download signature`, `triangulate` and `clean`.

use anyhow::{Context as _, Result, bail};
use cosign::image::clean::{CleanType, clean};
use cosign::image::download::download_signatures;
use cosign::image::resolve;
use cosign::image::sign::{AttachSignature, attach_signature};
use cosign::image::storage::AttachmentKind;
use cosign_types::simple_signing_payload;

use crate::args::{
    AttachSignatureArgs, CleanArgs, DownloadSignatureArgs, GenerateArgs, TriangulateArgs,
    TriangulateType,
};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::prompt::confirm_continue;
use crate::settings::registry;

pub fn generate(args: &GenerateArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let annotations = registry::parse_annotations(&args.annotations)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let resolved = ctx.block_on(async { Ok(resolve(&reg, &image, false).await?) })?;
    let payload = simple_signing_payload(
        &image.repository().name(),
        &resolved.digest,
        Some(&annotations),
    );
    ctx.printer.out_bytes(&payload)?;
    Ok(())
}

pub fn attach_signature_cmd(args: &AttachSignatureArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let payload = match &args.payload {
        Some(p) => std::fs::read(p).with_context(|| format!("reading payload {}", p.display()))?,
        None => Vec::new(),
    };
    let is_bundle = !payload.is_empty() && cosign_types::Bundle::from_json(&payload).is_ok();
    let signature = match (&args.signature, is_bundle) {
        (Some(s), _) => Some(cosign::blob::bundle::read_signature(s)?),
        (None, true) => None,
        (None, false) => bail!("--signature is required unless --payload is a Sigstore bundle"),
    };
    let certificate = match &args.certificate {
        Some(p) => {
            let cert = cosign::certs::load_certificate(p)?;
            let chain = match &args.certificate_chain {
                Some(c) => std::fs::read_to_string(c)
                    .with_context(|| format!("reading certificate chain {}", c.display()))?,
                None => String::new(),
            };
            Some((cert.pem, chain))
        }
        None => None,
    };
    let req = AttachSignature {
        payload,
        signature,
        certificate,
    };
    let written = ctx.block_on(async {
        Ok(attach_signature(&reg, &image, &req, &storage, &StderrReporter).await?)
    })?;
    if !written {
        ctx.printer
            .info("The signature was already attached; nothing was written.");
    }
    Ok(())
}

pub fn download_signature(args: &DownloadSignatureArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let lines = ctx.block_on(async { Ok(download_signatures(&reg, &image, &storage).await?) })?;
    for l in lines {
        ctx.printer.out_bytes(&l)?;
        ctx.printer.out_bytes(b"\n")?;
    }
    Ok(())
}

pub fn triangulate(args: &TriangulateArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let resolved = ctx.block_on(async { Ok(resolve(&reg, &image, false).await?) })?;
    let kind = match args.kind {
        TriangulateType::Digest => None,
        TriangulateType::Attestation => Some(AttachmentKind::Attestation),
        TriangulateType::Sbom => Some(AttachmentKind::Sbom),
        TriangulateType::Signature => Some(AttachmentKind::Signature),
    };
    let line = match kind {
        None => resolved.digest_ref.to_string(),
        Some(kind) => storage.tag_ref(image.repository(), &resolved.digest, kind),
    };
    ctx.printer.out_line(&line)?;
    Ok(())
}

pub fn clean_cmd(args: &CleanArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let kind = CleanType::from(args.kind);
    if !args.force {
        ctx.printer.warn(kind.prompt());
        confirm_continue(ctx.printer)?;
    }
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.block_on(async { Ok(clean(&reg, &image, kind, &storage, &StderrReporter).await?) })
}
