//! `cosign tree`.

use anyhow::{Result, bail};
use cosign::image::tree::{render, tree};

use crate::args::TreeArgs;
use crate::ctx::Ctx;
use crate::settings::registry;

pub fn run(args: &TreeArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.referrers.registry_referrers_mode == crate::args::ReferrersMode::Oci11
        && !registry::experimental()
    {
        bail!("in order to use mode \"oci-1-1\", you must set COSIGN_EXPERIMENTAL=1");
    }
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.printer.out_bytes(
        format!(
            "📦 Supply Chain Security Related artifacts for an image: {}\n",
            image.original()
        )
        .as_bytes(),
    )?;
    let mut found = ctx.block_on(async { Ok(tree(&reg, &image, &storage).await?) })?;
    if !args.experimental_oci11
        && args.referrers.registry_referrers_mode != crate::args::ReferrersMode::Oci11
    {
        found.referrers.clear();
    }
    ctx.printer
        .out_bytes(render(&found, image.original()).as_bytes())?;
    Ok(())
}
