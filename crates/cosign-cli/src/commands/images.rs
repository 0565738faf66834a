//! `generate`, `attach signature`, `download signature`, `triangulate` and `clean`.

use std::io::Read;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::image::clean::{CleanType, clean};
use cosign::image::download::download_signatures;
use cosign::image::resolve;
use cosign::image::sign::{AttachSignature, attach_signature};
use cosign::image::storage::AttachmentKind;
use cosign_oci::ImageRef;
use cosign_types::simple_signing_payload;

use super::Ctx;
use super::registry::{self, StderrReporter};
use crate::args::{
    AttachSignatureArgs, CleanArgs, DownloadSignatureArgs, GenerateArgs, TriangulateArgs,
};
use crate::prompt::confirm_continue;

fn parse_image(text: &str) -> Result<ImageRef> {
    ImageRef::parse(text).with_context(|| format!("parsing reference {text:?}"))
}

pub fn generate(args: &GenerateArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
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

/// `--signature`: `-` (stdin), a file, or the base64 text itself.
fn read_signature(arg: &str) -> Result<Vec<u8>> {
    let text = if arg == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .context("reading the signature from standard input")?;
        buf
    } else if std::path::Path::new(arg).exists() {
        std::fs::read_to_string(arg).with_context(|| format!("reading signature file {arg}"))?
    } else {
        arg.to_owned()
    };
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        bail!("the signature from {arg} is empty");
    }
    STANDARD
        .decode(compact.as_bytes())
        .with_context(|| format!("decoding the signature from {arg}: not valid base64"))
}

pub fn attach_signature_cmd(args: &AttachSignatureArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let payload = match &args.payload {
        Some(p) => std::fs::read(p).with_context(|| format!("reading payload {}", p.display()))?,
        None => Vec::new(),
    };
    let is_bundle = !payload.is_empty() && cosign_types::Bundle::from_json(&payload).is_ok();
    let signature = match (&args.signature, is_bundle) {
        (Some(s), _) => Some(read_signature(s)?),
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
    let written = ctx.block_on(async {
        let payload = if payload.is_empty() {
            let resolved = resolve(&reg, &image, false).await?;
            ctx.printer.warn(&format!(
                "using obsolete implied signature payload data (with digested reference {}); specify it explicitly with --payload instead",
                resolved.digest_ref
            ));
            simple_signing_payload(&image.repository().name(), &resolved.digest, None)
        } else {
            payload
        };
        let req = AttachSignature {
            payload,
            signature,
            certificate,
        };
        Ok(attach_signature(&reg, &image, &req, &storage, &StderrReporter).await?)
    })?;
    if !written {
        ctx.printer
            .info("The signature was already attached; nothing was written.");
    }
    Ok(())
}

pub fn download_signature(args: &DownloadSignatureArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
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
    let image = parse_image(&args.image)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let resolved = ctx.block_on(async { Ok(resolve(&reg, &image, false).await?) })?;
    let line = match args.kind.as_str() {
        "digest" => resolved.digest_ref.to_string(),
        "attestation" => storage.tag_ref(
            image.repository(),
            &resolved.digest,
            AttachmentKind::Attestation,
        ),
        "sbom" => storage.tag_ref(image.repository(), &resolved.digest, AttachmentKind::Sbom),
        _ => storage.tag_ref(
            image.repository(),
            &resolved.digest,
            AttachmentKind::Signature,
        ),
    };
    ctx.printer.out_line(&line)?;
    Ok(())
}

pub fn clean_cmd(args: &CleanArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
    let kind = match args.kind.as_str() {
        "signature" => CleanType::Signature,
        "attestation" => CleanType::Attestation,
        "sbom" => CleanType::Sbom,
        "referrer" => CleanType::Referrer,
        _ => CleanType::All,
    };
    if !args.force {
        ctx.printer.warn(kind.prompt());
        confirm_continue(ctx.printer)?;
    }
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.block_on(async { Ok(clean(&reg, &image, kind, &storage, &StderrReporter).await?) })
}
