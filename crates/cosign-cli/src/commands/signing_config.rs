//! `cosign signing-config create`: a `signing_config.v0.2.json` from service specifications
//! (and optionally a base config or the Sigstore instance's own), written to `--out` or
//! printed.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cosign_trust::TrustError;
use cosign_trust::create::go_io_error;
use cosign_trust::signing_config::create::{CreateRequest, create_json};
use cosign_trust::signing_config::{
    MAX_SIGNING_CONFIG_LEN, SIGNING_CONFIG_REKOR_V2_TARGET, SIGNING_CONFIG_TARGET, SigningConfig,
    embedded_json, embedded_rekor_v2_json,
};
use cosign_trust::tuf::{
    Freshness, HttpFetcher, Instance, TufClient, TufOptions, mirror_dir_name, read_remote_hint,
};

use crate::args::{SigningConfigCommand, SigningConfigCreateArgs};
use crate::ctx::Ctx;
use crate::settings::trust as tuf_settings;

/// How long a refreshed TUF cache answers without the network (sigstore-go's one day).
const CACHE_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// Dispatches `cosign signing-config <command>`.
pub fn run(cmd: &SigningConfigCommand, ctx: &Ctx<'_>) -> Result<()> {
    match cmd {
        SigningConfigCommand::Create(a) => create_cmd(a, ctx),
    }
}

/// The TUF client of the repository cosign uses: the one `cosign initialize` recorded, else
/// the public-good instance; and the Sigstore instance it is, if it is one.
fn tuf_client(timeout: Duration) -> Result<(TufClient<HttpFetcher>, Option<Instance>)> {
    let dir = tuf_settings::cache_dir();
    let initialized = match &dir {
        Some(d) => read_remote_hint(d)?,
        None => None,
    };
    let mirror = initialized.unwrap_or_else(|| Instance::PublicGood.mirror().to_owned());
    let instance = Instance::for_mirror(&mirror);
    let (root_json, source) = match instance {
        Some(i) => (
            i.root_json().to_vec(),
            format!("embedded {} root.json", i.name()),
        ),
        None => {
            let path = dir
                .as_deref()
                .map(|d| d.join(mirror_dir_name(&mirror)).join("root.json"))
                .context("no TUF cache directory")?;
            let data = std::fs::read(&path).with_context(|| {
                format!(
                    "reading the cached TUF root {} of {mirror} (run cosign initialize again)",
                    path.display()
                )
            })?;
            (data, path.display().to_string())
        }
    };
    let mut opts = TufOptions::new(&mirror, root_json, &source, dir);
    opts.freshness = Freshness::CacheFor(CACHE_VALIDITY);
    let client = TufClient::new(opts, tuf_settings::fetcher(timeout)?)?;
    Ok((client, instance))
}

/// The instance's signing config for `--with-default-services` (`--with-default-rekor-v2`:
/// the one with its Rekor v2 log), as Go cosign reads it from TUF. When the repository is the
/// public-good or staging one and cannot be read (offline), the copy of that instance built
/// into cosign is used, with a warning (Go cosign fails); a repository without the target,
/// and any other repository, fail as in Go.
fn default_config(ctx: &Ctx<'_>, rekor_v2: bool) -> Result<SigningConfig> {
    let target = if rekor_v2 {
        SIGNING_CONFIG_REKOR_V2_TARGET
    } else {
        SIGNING_CONFIG_TARGET
    };
    let (mut client, instance) = tuf_client(ctx.timeout).context("error creating TUF client")?;
    let json = match client.target(target) {
        Ok(json) => json,
        Err(e) => {
            let embedded = match instance {
                _ if matches!(e, TrustError::TargetNotFound { .. }) => None,
                Some(i) if rekor_v2 => embedded_rekor_v2_json(i),
                Some(i) => Some(embedded_json(i)),
                None => None,
            };
            let Some(embedded) = embedded else {
                return Err(e).context("error getting signing config from TUF");
            };
            ctx.printer.warn(&format!(
                "could not read {target} from the TUF repository {} ({e}); using the copy built into cosign",
                client.options().mirror
            ));
            embedded.to_vec()
        }
    };
    Ok(SigningConfig::from_json(&json)?)
}

/// Reads `--base-config` (size-capped), with Go's wording for I/O errors.
fn read_base(path: &str) -> Result<SigningConfig> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
    let mut data = Vec::new();
    file.take(MAX_SIGNING_CONFIG_LEN as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| go_io_error("read", path, &e))?;
    Ok(SigningConfig::from_json(&data)?)
}

fn create_cmd(a: &SigningConfigCreateArgs, ctx: &Ctx<'_>) -> Result<()> {
    // cobra's mutually exclusive flag groups, checked in its (sorted) order.
    if a.base_config.is_some() {
        for (flag, set) in [
            ("with-default-rekor-v2", a.with_default_rekor_v2),
            ("with-default-services", a.with_default_services),
        ] {
            if set {
                bail!(
                    "if any flags in the group [base-config {flag}] are set none of the others can be; [base-config {flag}] were all set"
                );
            }
        }
    }
    let mut req = CreateRequest {
        fulcio: a.fulcio.clone(),
        rekor: a.rekor.clone(),
        oidc_provider: a.oidc_provider.clone(),
        tsa: a.tsa.clone(),
        rekor_config: a.rekor_config.clone().unwrap_or_default(),
        tsa_config: a.tsa_config.clone().unwrap_or_default(),
        no_default_fulcio: a.no_default_fulcio,
        no_default_rekor: a.no_default_rekor,
        no_default_oidc: a.no_default_oidc,
        no_default_tsa: a.no_default_tsa,
        ..CreateRequest::default()
    };
    req.check()?;
    if let Some(path) = a.base_config.as_deref().filter(|p| !p.is_empty()) {
        req.base =
            Some(read_base(path).with_context(|| format!("loading base config from {path}"))?);
    }
    if a.with_default_services || a.with_default_rekor_v2 {
        req.defaults = Some(
            default_config(ctx, a.with_default_rekor_v2).context("getting default trusted root")?,
        );
    }
    let json = create_json(&req)?;
    match a.out.as_deref().filter(|o| !o.is_empty()) {
        Some(out) => super::trusted_root::write_private(out, json.as_bytes())?,
        None => ctx.printer.out_line(&json)?,
    }
    Ok(())
}
