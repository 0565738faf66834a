//! `cosign attach sbom` and `cosign download sbom`.

use std::io::Read;

use anyhow::{Context as _, Result, bail};
use cosign::image::sbom::{
    SBOM_ATTACHMENT_DEPRECATION, attach_sbom, find_sbom, sbom_media_type, write_sbom,
};

use crate::args::{AttachSbomArgs, DownloadSbomArgs};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::progress::Bars;
use crate::settings::registry;
use cosign::image::transfer::ProgressSink;

/// The most read from `--sbom -` (standard input) or a file: the attachment cap.
fn read_sbom(arg: &str, limit: u64) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    if arg == "-" {
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut data)
            .context("reading the SBOM from standard input")?;
    } else if std::path::Path::new(arg).exists() {
        let f = std::fs::File::open(arg).with_context(|| format!("reading SBOM {arg}"))?;
        f.take(limit + 1)
            .read_to_end(&mut data)
            .with_context(|| format!("reading SBOM {arg}"))?;
    } else {
        // cosign: a value that names no file is the SBOM itself.
        data = arg.as_bytes().to_vec();
    }
    if data.len() as u64 > limit {
        bail!("the SBOM from {arg} is larger than {limit} bytes (COSIGN_MAX_ATTACHMENT_SIZE)");
    }
    if data.is_empty() {
        bail!("the SBOM from {arg} is empty");
    }
    Ok(data)
}

pub fn attach(args: &AttachSbomArgs, ctx: &Ctx<'_>) -> Result<()> {
    ctx.printer.info(SBOM_ATTACHMENT_DEPRECATION);
    let media_type = sbom_media_type(&args.kind, &args.input_format, &args.sbom)?;
    ctx.printer.warn(&format!(
        "Attaching SBOMs this way does not sign them. To sign them, use 'cosign attest --predicate {} --key <key path>'.",
        args.sbom
    ));
    let oci = args.referrers.registry_referrers_mode == crate::args::ReferrersMode::Oci11;
    if oci && !registry::experimental() {
        bail!("in order to use mode \"oci-1-1\", you must set COSIGN_EXPERIMENTAL=1");
    }
    let image = args.image.clone();
    let storage = registry::storage(&args.registry)?;
    let data = read_sbom(&args.sbom, storage.max_attachment_limit())?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    ctx.block_on(async {
        attach_sbom(
            &reg,
            &image,
            &data,
            media_type,
            &storage,
            oci,
            &StderrReporter,
        )
        .await?;
        Ok(())
    })
}

pub fn download(args: &DownloadSbomArgs, ctx: &Ctx<'_>) -> Result<()> {
    ctx.printer.info(SBOM_ATTACHMENT_DEPRECATION);
    let image = args.image.clone();
    let platform = args.platform.clone();
    let storage = registry::storage(&args.registry)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let found =
        ctx.block_on(async { Ok(find_sbom(&reg, &image, platform.as_ref(), &storage).await?) })?;
    ctx.printer
        .info(&format!("Found SBOM of media type: {}", found.media_type));
    let bars = Bars::new();
    let progress = bars.start("SBOM", found.layer.size);
    let mut out = ctx.printer.stdout();
    ctx.block_on(async {
        write_sbom(&reg, &found, &storage, &mut **out, progress).await?;
        Ok(())
    })?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
