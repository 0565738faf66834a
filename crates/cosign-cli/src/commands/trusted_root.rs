//! `cosign trusted-root create`: a `trusted_root.json` from service specifications (and
//! optionally the Sigstore TUF root's services), written to `--out` or printed.

use std::time::Duration;

use anyhow::{Context as _, Result};
use cosign_trust::create::{CreateRequest, DefaultServices, create, go_io_error};
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::tuf::{Freshness, Instance, TufClient, TufOptions};

use crate::args::{TrustedRootCommand, TrustedRootCreateArgs, deprecated_flags_used};
use crate::ctx::Ctx;
use crate::settings::trust as tuf_settings;

/// How long a refreshed TUF cache answers without the network (sigstore-go's one day).
const CACHE_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// Dispatches `cosign trusted-root <command>`.
pub fn run(cmd: &TrustedRootCommand, ctx: &Ctx<'_>) -> Result<()> {
    match cmd {
        TrustedRootCommand::Create(a) => create_cmd(a, ctx),
    }
}

fn request(a: &TrustedRootCreateArgs) -> CreateRequest {
    let mut req = CreateRequest::new(cosign_tlog::note::key_id);
    req.fulcio.clone_from(&a.fulcio);
    req.rekor.clone_from(&a.rekor);
    req.ctfe.clone_from(&a.ctfe);
    req.tsa.clone_from(&a.tsa);
    req.cert_chain.clone_from(&a.certificate_chain);
    req.fulcio_uri.clone_from(&a.fulcio_uri);
    req.ctfe_key.clone_from(&a.ctfe_key);
    req.ctfe_start_time.clone_from(&a.ctfe_start_time);
    req.ctfe_end_time.clone_from(&a.ctfe_end_time);
    req.ctfe_url.clone_from(&a.ctfe_url);
    req.rekor_key.clone_from(&a.rekor_key);
    req.rekor_start_time.clone_from(&a.rekor_start_time);
    req.rekor_end_time.clone_from(&a.rekor_end_time);
    req.rekor_url.clone_from(&a.rekor_url);
    req.tsa_cert_chain
        .clone_from(&a.timestamp_certificate_chain);
    req.tsa_uri.clone_from(&a.timestamp_uri);
    req
}

/// The trusted root of the TUF repository cosign uses: the one `cosign initialize` recorded,
/// else the public-good instance (from the cache when fresh, else from its mirror).
fn default_trusted_root(timeout: Duration) -> Result<TrustedRoot> {
    let json = match tuf_settings::initialized_trusted_root(timeout)? {
        Some(json) => json,
        None => {
            let instance = Instance::PublicGood;
            let mut opts = TufOptions::new(
                instance.mirror(),
                instance.root_json().to_vec(),
                &format!("embedded {} root.json", instance.name()),
                tuf_settings::cache_dir(),
            );
            opts.freshness = Freshness::CacheFor(CACHE_VALIDITY);
            let mut client = TufClient::new(opts, tuf_settings::fetcher(timeout)?)?;
            client.update()?;
            client.trusted_root_json()?
        }
    };
    Ok(TrustedRoot::from_json(&json)?)
}

fn create_cmd(a: &TrustedRootCreateArgs, ctx: &Ctx<'_>) -> Result<()> {
    // cobra's notice for each deprecated flag given, before the command runs.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for (flag, new) in deprecated_flags_used(&argv) {
        ctx.printer.info(&format!(
            "Flag --{flag} has been deprecated, use --{new} instead"
        ));
    }
    let mut req = request(a);
    req.check()?;
    if a.with_default_services {
        let root = default_trusted_root(ctx.timeout)
            .context("getting default trusted root: error getting live trusted root")?;
        req.defaults = Some(DefaultServices {
            root,
            fulcio: !a.no_default_fulcio,
            ctfe: !a.no_default_ctfe,
            tsa: !a.no_default_tsa,
            rekor: !a.no_default_rekor,
        });
    }
    let json = create(&req)?;
    match a.out.as_deref().filter(|o| !o.is_empty()) {
        Some(out) => write_private(out, &json)?,
        None => {
            let text = String::from_utf8_lossy(&json);
            ctx.printer.out_line(&text)?;
        }
    }
    Ok(())
}

/// Writes `data` to `path` as Go's `os.WriteFile(path, data, 0600)`: created with mode 0600 or
/// truncated.
pub(super) fn write_private(path: &str, data: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| go_io_error("open", path, &e))?;
    file.write_all(data)
        .and_then(|()| file.flush())
        .map_err(|e| go_io_error("write", path, &e))?;
    Ok(())
}
