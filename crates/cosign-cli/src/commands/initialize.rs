//! `cosign initialize`: verify a TUF repository from a trusted initial root, cache it in
//! `$TUF_ROOT` (default `~/.sigstore/root`) with `remote.json` naming the mirror, and fetch its
//! `trusted_root.json`.

use anyhow::{Context as _, Result, bail};
use cosign_trust::tuf::{Fetcher as _, Instance, PUBLIC_GOOD_MIRROR, TufClient, TufOptions};

use crate::args::InitializeArgs;
use crate::ctx::Ctx;
use crate::settings::trust;

/// Largest initial `root.json` read.
const MAX_ROOT_BYTES: u64 = 2 << 20;

/// Go cosign's warning for an initial root fetched over http(s) without `--root-checksum`.
const ROOT_WITHOUT_CHECKSUM: &str = "Fetching initial root from URL without providing its checksum is deprecated and will be disallowed in a future Cosign release. Please provide the initial root checksum via the --root-checksum argument.";

pub fn run(args: &InitializeArgs, ctx: &Ctx<'_>) -> Result<()> {
    let mirror = if args.staging && args.mirror.trim_end_matches('/') == PUBLIC_GOOD_MIRROR {
        Instance::Staging.mirror().to_owned()
    } else {
        args.mirror.clone()
    };
    let fetcher = trust::fetcher(ctx.timeout)?;
    let (root_json, source) = match &args.root {
        Some(root) => {
            let remote = root.starts_with("http://") || root.starts_with("https://");
            if remote && args.root_checksum.is_none() {
                ctx.printer.warn(ROOT_WITHOUT_CHECKSUM);
            }
            let data = if remote || root.starts_with("file://") {
                fetcher
                    .fetch(root, MAX_ROOT_BYTES)
                    .with_context(|| format!("fetching --root {root}"))?
            } else {
                cosign::fsutil::read_small_file(
                    std::path::Path::new(root),
                    "root file",
                    MAX_ROOT_BYTES,
                )?
            };
            (data, root.clone())
        }
        None => {
            let instance = if args.staging {
                Some(Instance::Staging)
            } else {
                Instance::for_mirror(&mirror)
            };
            let Some(instance) = instance else {
                bail!(
                    "no root is embedded for the TUF mirror {mirror}: pass its initial root.json with --root"
                );
            };
            (
                instance.root_json().to_vec(),
                format!("embedded {} root.json", instance.name()),
            )
        }
    };
    let Some(cache_dir) = trust::cache_dir() else {
        bail!("no TUF cache directory: set TUF_ROOT or HOME");
    };
    let mut opts = TufOptions::new(&mirror, root_json, &source, Some(cache_dir.clone()));
    opts.root_checksum = args.root_checksum.clone();
    let mut client = TufClient::new(opts, fetcher)?;
    let report = client
        .initialize()
        .with_context(|| format!("initializing the TUF repository {mirror}"))?;
    if let Some(reason) = &report.cache_error {
        ctx.printer.warn(&format!(
            "the TUF metadata could not be cached in {}: {reason}",
            cache_dir.display()
        ));
    }
    if let Err(e) = client.trusted_root_json() {
        ctx.printer.warn(&format!(
            "Could not fetch trusted_root.json from the TUF mirror (encountered error: {e}), falling back to individual targets. It is recommended to update your TUF metadata repository to include trusted_root.json."
        ));
        bail!(
            "the TUF repository {mirror} has no usable trusted_root.json, and this build does not read the legacy individual targets"
        );
    }
    Ok(())
}
