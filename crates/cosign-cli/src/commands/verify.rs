//! `cosign verify`: verify image signatures with a public key, many images in parallel, and
//! print cosign's checks block (stderr) and the verified payloads (stdout).

use anyhow::{Result, bail};
use cosign::image::store::Store;
use cosign::image::verify::{ImageVerification, VerifyOptions, verify_image_from};
use futures_util::stream::{self, StreamExt};

use crate::args::{OutputFormat, VerifyArgs, VerifyKeyArgs};
use crate::ctx::Ctx;
use crate::exit::VerifyFailure;
use crate::settings::registry;

/// Images verified at once.
const CONCURRENCY: usize = 8;

pub fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> Result<()> {
    let key_ref = require_key(&args.key, args.images_from.max_workers)?;
    let tlog = crate::settings::tlog::verify_flags(&args.log, ctx, "signature")?;
    let (layouts, images) = images_to_verify(args.images_from.local_image, &args.images)?;
    let annotations = registry::parse_annotations(&args.annotations)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let key = crate::settings::keys::load_verification_key(ctx, key_ref)?;
    let opts = VerifyOptions {
        key,
        annotations,
        check_claims: args.check_claims,
        storage: registry::storage(&args.registry)?,
        tlog,
    };
    let results: Vec<Result<ImageVerification, cosign::Error>> = ctx.block_on(async {
        Ok(stream::iter(images.iter().enumerate())
            .map(|(i, image)| {
                let src: &dyn Store = match layouts.get(i) {
                    Some(l) => l,
                    None => &reg,
                };
                let opts = &opts;
                async move { verify_image_from(src, image, opts).await }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await)
    })?;
    for ((image, given), result) in images.iter().zip(&args.images).zip(results) {
        let verified = result.map_err(VerifyFailure)?;
        let outcomes: Vec<_> = verified
            .signatures
            .iter()
            .filter_map(|s| s.tlog.as_ref())
            .collect();
        if outcomes.iter().any(|o| o.entry.inactive_key) {
            ctx.printer.info(crate::settings::tlog::INACTIVE_KEY_INFO);
        }
        let log = if opts.tlog.is_none() || outcomes.is_empty() {
            LogCheck::None
        } else if outcomes.iter().all(|o| o.offline) {
            LogCheck::Offline
        } else {
            LogCheck::Online
        };
        let shown = if args.images_from.local_image {
            given.clone()
        } else {
            image.to_string()
        };
        print_header(ctx, &shown, args, !opts.annotations.is_empty(), log);
        if args.output == OutputFormat::Text {
            for s in &verified.signatures {
                ctx.printer.out_line(&String::from_utf8_lossy(&s.payload))?;
            }
        } else {
            let values: Vec<&serde_json::Value> =
                verified.signatures.iter().map(|s| &s.json).collect();
            let json = cosign_types::go_json::to_go_json(&values)?;
            ctx.printer.out_bytes(&json)?;
            ctx.printer.out_bytes(b"\n")?;
        }
    }
    Ok(())
}

/// How the signatures' log entries were checked.
enum LogCheck {
    None,
    Offline,
    Online,
}

fn print_header(ctx: &Ctx<'_>, image: &str, args: &VerifyArgs, annotations: bool, log: LogCheck) {
    let p = ctx.printer;
    p.info(&format!("\nVerification for {image} --"));
    p.info("The following checks were performed on each of these signatures:");
    if args.check_claims {
        if annotations {
            p.info("  - The specified annotations were verified.");
        }
        p.info("  - The cosign claims were validated");
    }
    match log {
        LogCheck::None => {}
        LogCheck::Offline => {
            p.info("  - Existence of the claims in the transparency log was verified offline");
        }
        LogCheck::Online => {
            p.info("  - The claims were present in the transparency log");
            p.info("  - The signatures were integrated into the transparency log when the certificate was valid");
        }
    }
    p.info("  - The signatures were verified against the specified public key");
}

/// The flag checks `verify` and `verify-attestation` share; returns the `--key` value.
pub(super) fn require_key(key: &VerifyKeyArgs, max_workers: u32) -> Result<&str> {
    if max_workers == 0 {
        bail!("please set the --max-worker flag to a value that is greater than 0");
    }
    crate::settings::keys::refuse_sk(key.sk)?;
    key.key.as_deref().ok_or_else(|| {
        anyhow::anyhow!(
            "keyless verification (--certificate-identity, Fulcio roots) is not supported by this build yet: pass --key"
        )
    })
}

/// The images to verify: with `--local-image` each argument is a `cosign save` directory
/// (returned opened, in argument order), else an image reference.
pub(super) fn images_to_verify(
    local_image: bool,
    args: &[String],
) -> Result<(
    Vec<cosign::image::layout::Layout>,
    Vec<cosign_oci::ImageRef>,
)> {
    if !local_image {
        return Ok((Vec::new(), registry::parse_images(args)?));
    }
    let layouts = args
        .iter()
        .map(|p| cosign::image::layout::Layout::open(std::path::Path::new(p)))
        .collect::<Result<Vec<_>, _>>()?;
    let images = layouts
        .iter()
        .map(|l| Ok(l.resolved()?.given))
        .collect::<Result<Vec<_>, cosign::Error>>()?;
    Ok((layouts, images))
}
