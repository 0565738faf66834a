//! `cosign copy`.

use anyhow::{Result, bail};
use cosign::image::copy::{CopyOptions, copy};
use cosign::image::storage::AttachmentKind;

use crate::args::CopyArgs;
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::progress::Bars;
use crate::settings::registry;

/// `--only sig,att,sbom` (cosign's `parseOnlyOpt`).
fn parse_only(text: &str, sig_only: bool) -> Result<Vec<AttachmentKind>> {
    let mut out = Vec::new();
    if sig_only {
        out.push(AttachmentKind::Signature);
    }
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind = match item {
            "sig" => AttachmentKind::Signature,
            "att" => AttachmentKind::Attestation,
            "sbom" => AttachmentKind::Sbom,
            other => bail!(
                "invalid value for --only: {other}, only following values are supported: sig, att, sbom"
            ),
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

pub fn run(args: &CopyArgs, ctx: &Ctx<'_>) -> Result<()> {
    let only = parse_only(&args.only, args.sig_only)?;
    let images = [args.source.clone(), args.destination.clone()];
    let platform = args.platform.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let opts = CopyOptions {
        only,
        force: args.force,
        platform,
    };
    ctx.block_on(async {
        copy(
            &reg,
            &images[0],
            &images[1],
            &storage,
            &opts,
            &StderrReporter,
            &Bars::new(),
        )
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values() {
        assert_eq!(
            parse_only("sig,att", false).unwrap(),
            [AttachmentKind::Signature, AttachmentKind::Attestation]
        );
        assert_eq!(parse_only("", true).unwrap(), [AttachmentKind::Signature]);
        assert!(parse_only("sign", false).is_err());
    }
}
