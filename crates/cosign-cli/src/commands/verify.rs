//! `cosign verify`: verify image signatures with a public key, many images in parallel, and
//! print cosign's checks block (stderr) and the verified payloads (stdout).

use anyhow::{Result, bail};
use cosign::image::verify::{ImageSources, VerifyOptions, verify_image_from};
use cosign::tlog::LogCheck;

use crate::args::{ImageVerifyArgs, OutputFormat, VerifyArgs};
use crate::ctx::Ctx;
use crate::exit::VerifyFailure;
use crate::output::verification_header;
use crate::settings::registry;

pub fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> Result<()> {
    check_workers(args.images_from.max_workers)?;
    let annotations = registry::parse_annotations(&args.annotations)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let sources = image_sources(&reg, &args.images_from, &args.images)?;
    let trust =
        crate::settings::verify::resolve(ctx, &args.key, &args.cert, &args.log, "signature")?;
    let keyless = trust.keyless();
    let opts = VerifyOptions {
        authority: trust.authority,
        annotations,
        check_claims: args.check_claims,
        storage: registry::storage(&args.registry)?,
        tlog: trust.tlog,
        trusted_root: trust.trusted_root,
    };
    let results = ctx.block_on(async {
        Ok(sources
            .verify_each(|src, image| verify_image_from(src, image, &opts))
            .await)
    })?;
    for ((image, given), result) in sources.images.iter().zip(&args.images).zip(results) {
        let verified = result.map_err(VerifyFailure)?;
        let outcomes: Vec<_> = verified
            .signatures
            .iter()
            .filter_map(|s| s.tlog.as_ref())
            .collect();
        if outcomes.iter().any(|o| o.entry.inactive_key) {
            ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
        }
        let log = LogCheck::of(opts.tlog.is_some(), outcomes);
        let shown = shown_name(&args.images_from, image, given);
        verification_header(
            ctx.printer,
            &shown,
            args.check_claims,
            !opts.annotations.is_empty(),
            log,
            keyless,
        );
        if args.output == OutputFormat::Text {
            for s in &verified.signatures {
                for line in s.certificate.iter().flat_map(|c| c.text_lines()) {
                    ctx.printer.info(&line);
                }
                ctx.printer
                    .out_line(&String::from_utf8_lossy(&s.text_output()))?;
            }
        } else {
            let values: Vec<&serde_json::Value> =
                verified.signatures.iter().map(|s| &s.json).collect();
            let json = cosign_types::go_json::to_go_json(&values)?;
            // Go cosign prints a blank line first (`fmt.Printf("\n%s\n", ...)`).
            ctx.printer.out_bytes(b"\n")?;
            ctx.printer.out_bytes(&json)?;
            ctx.printer.out_bytes(b"\n")?;
        }
    }
    Ok(())
}

/// The flag check `verify` and `verify-attestation` share.
pub(super) fn check_workers(max_workers: u32) -> Result<()> {
    if max_workers == 0 {
        bail!("please set the --max-worker flag to a value that is greater than 0");
    }
    Ok(())
}

/// The images to verify: with `--local-image` each argument is a `cosign save` directory,
/// else an image reference.
pub(super) fn image_sources<'a>(
    reg: &'a cosign_oci::Registry,
    flags: &ImageVerifyArgs,
    args: &[String],
) -> Result<ImageSources<'a>> {
    if flags.local_image {
        let dirs: Vec<std::path::PathBuf> = args.iter().map(Into::into).collect();
        Ok(ImageSources::layouts(reg, &dirs)?)
    } else {
        Ok(ImageSources::registry(reg, registry::parse_images(args)?))
    }
}

/// How the checks block names an image: the directory as given for `--local-image`.
pub(super) fn shown_name(
    flags: &ImageVerifyArgs,
    image: &cosign_oci::ImageRef,
    given: &str,
) -> String {
    if flags.local_image {
        given.to_owned()
    } else {
        image.to_string()
    }
}
