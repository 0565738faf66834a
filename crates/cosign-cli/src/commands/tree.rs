//! `cosign tree`.

use anyhow::{Result, bail};
use cosign::image::tree::{render, tree};

use super::Ctx;
use super::registry;
use crate::args::TreeArgs;

pub fn run(args: &TreeArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.referrers.registry_referrers_mode == "oci-1-1" && !registry::experimental() {
        bail!("in order to use mode \"oci-1-1\", you must set COSIGN_EXPERIMENTAL=1");
    }
    let image = registry::parse_images(std::slice::from_ref(&args.image))?.remove(0);
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
    if !args.experimental_oci11 && args.referrers.registry_referrers_mode != "oci-1-1" {
        found.referrers.clear();
    }
    ctx.printer
        .out_bytes(render(&found, image.original()).as_bytes())?;
    Ok(())
}
