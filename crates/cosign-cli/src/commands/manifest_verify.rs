//! `cosign dockerfile verify` and `cosign manifest verify`: the images a Dockerfile or a
//! Kubernetes manifest names, verified by `cosign verify`'s own code path and flags.

use anyhow::{Context as _, Result, bail};
use cosign::image::refs::{dockerfile_images, yaml_images};

use crate::args::{DockerfileVerifyArgs, ManifestVerifyArgs};
use crate::ctx::Ctx;

/// The most read from a Dockerfile or manifest.
const MAX_FILE: u64 = 16 << 20;

fn read_text(path: &str, what: &'static str) -> Result<String> {
    let data = cosign::fsutil::read_small_file(std::path::Path::new(path), what, MAX_FILE)?;
    String::from_utf8(data).with_context(|| format!("{what} {path} is not UTF-8 text"))
}

pub fn dockerfile(mut args: DockerfileVerifyArgs, ctx: &Ctx<'_>) -> Result<()> {
    let [path] = args.verify.images.as_slice() else {
        bail!("accepts 1 arg(s), received {}", args.verify.images.len());
    };
    let text = read_text(path, "Dockerfile")?;
    let found = dockerfile_images(&text, &crate::env::user_named)
        .with_context(|| format!("reading images from {path}"))?;
    for _ in 0..found.scratch {
        ctx.printer.info("- scratch image ignored");
    }
    let mut images: Vec<String> = found.images.into_iter().map(|i| i.reference).collect();
    if images.is_empty() {
        bail!("no images found in {path}");
    }
    if args.base_image_only {
        images = images.split_off(images.len() - 1);
    }
    args.verify.images = images;
    super::verify::run(&args.verify, ctx)
}

pub fn manifest(mut args: ManifestVerifyArgs, ctx: &Ctx<'_>) -> Result<()> {
    let [path] = args.verify.images.as_slice() else {
        bail!("accepts 1 arg(s), received {}", args.verify.images.len());
    };
    let text = read_text(path, "manifest")?;
    let images = yaml_images(&text);
    if images.is_empty() {
        bail!("no images found in manifest {path}");
    }
    ctx.printer
        .info(&format!("Extracted image(s): {}", images.join(", ")));
    args.verify.images = images;
    super::verify::run(&args.verify, ctx)
}
