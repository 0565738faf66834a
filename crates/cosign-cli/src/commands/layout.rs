//! `cosign save` and `cosign load`.

use anyhow::Result;
use cosign::image::layout::{load, save};

use crate::args::{LoadArgs, SaveArgs};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::progress::Bars;
use crate::settings::registry;

pub fn save_cmd(args: &SaveArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    ctx.block_on(async {
        save(&reg, &image, &storage, &args.dir, &Bars::new()).await?;
        Ok(())
    })
}

pub fn load_cmd(args: &LoadArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = args.image.clone();
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
