//! `cosign upload blob` and `cosign upload wasm`.

use anyhow::Result;
use cosign::image::upload::{UploadFile, UploadRequest, upload_blobs, upload_wasm};

use crate::args::{UploadBlobArgs, UploadWasmArgs};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::progress::Bars;
use crate::settings::registry;

pub fn blob(args: &UploadBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let files = args
        .files
        .iter()
        .map(|f| UploadFile::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let annotations = registry::parse_annotations(&args.annotations)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let req = UploadRequest {
        files: &files,
        content_type: args.content_type.as_deref(),
        annotations,
    };
    let uploaded = ctx.block_on(async {
        Ok(upload_blobs(&reg, &image, &req, &StderrReporter, &Bars::new()).await?)
    })?;
    ctx.printer.info("Uploaded image to:");
    ctx.printer.out_line(&uploaded.digest_ref.to_string())?;
    Ok(())
}

pub fn wasm(args: &UploadWasmArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let uploaded = ctx.block_on(async {
        Ok(upload_wasm(&reg, &image, &args.file, &StderrReporter, &Bars::new()).await?)
    })?;
    ctx.printer.info("Uploaded image to:");
    ctx.printer.out_line(&uploaded.digest_ref.to_string())?;
    Ok(())
}
