//! `cosign save` and `cosign load`.

use anyhow::Result;
use cosign::image::layout::{load, save};

use super::Ctx;
use super::progress::Bars;
use super::registry::{self, StderrReporter};
use crate::args::{LoadArgs, SaveArgs};

pub fn save_cmd(args: &SaveArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = registry::parse_images(std::slice::from_ref(&args.image))?.remove(0);
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.block_on(async {
        save(&reg, &image, &storage, &args.dir, &Bars::new()).await?;
        Ok(())
    })
}

pub fn load_cmd(args: &LoadArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = registry::parse_images(std::slice::from_ref(&args.image))?.remove(0);
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.block_on(async {
        load(
            &reg,
            &image,
            &storage,
            &args.dir,
            &Bars::new(),
            &StderrReporter,
        )
        .await?;
        Ok(())
    })
}
