//! Sigstore trust material from TUF: the cache directory (`$TUF_ROOT`, default
//! `~/.sigstore/root`), `cosign initialize`'s client, and the trusted root of an initialized
//! cache for the verify commands.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use cosign_trust::tuf::{
    Freshness, HttpFetcher, Instance, TufClient, TufOptions, default_cache_dir, mirror_dir_name,
    read_remote_hint,
};

use crate::env;

/// How long a refreshed cache answers without the network (sigstore-go's default
/// `CacheValidity` of one day).
const CACHE_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// The TUF cache directory: `$TUF_ROOT`, else `$HOME/.sigstore/root`.
pub fn cache_dir() -> Option<PathBuf> {
    env::lookup("TUF_ROOT")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::home().map(|h| default_cache_dir(std::path::Path::new(&h))))
}

/// The HTTP (and `file://`) fetcher for TUF mirrors.
pub fn fetcher(timeout: Duration) -> Result<HttpFetcher> {
    Ok(HttpFetcher::new(&super::user_agent(), timeout)?)
}

/// The `trusted_root.json` of the TUF repository that `cosign initialize` recorded in the
/// cache (`remote.json`), verified through TUF and refreshed from the mirror when the cache is
/// older than a day; None when no repository was initialized (nothing is fetched then).
pub fn initialized_trusted_root(timeout: Duration) -> Result<Option<Vec<u8>>> {
    Ok(initialized(timeout)?.map(|i| i.trusted_root))
}

/// What the initialized TUF repository gives: its trusted root, and its signing config when
/// it has one (`signing_config.v0.2.json`; the error when it could not be read).
#[derive(Clone)]
struct Initialized {
    trusted_root: Vec<u8>,
    signing_config: Result<Vec<u8>, String>,
}

fn initialized(timeout: Duration) -> Result<Option<Initialized>> {
    // One TUF update per process, however many settings ask.
    static ONCE: std::sync::OnceLock<Result<Option<Initialized>, String>> =
        std::sync::OnceLock::new();
    ONCE.get_or_init(|| load_initialized(timeout).map_err(|e| crate::exit::message(&e)))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The name of the signing config target in Sigstore TUF repositories.
const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// The signing config of a signing command: `--signing-config FILE`, else the initialized TUF
/// repository's, else (nothing initialized) the public-good one built in, as Go cosign's
/// embedded TUF root gives it.
pub fn signing_config(
    flag: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<cosign_trust::signing_config::SigningConfig> {
    let (json, source) = match flag {
        Some(path) => (
            std::fs::read(path).with_context(|| {
                format!("error reading signing config from file {}", path.display())
            })?,
            path.display().to_string(),
        ),
        None => match initialized(timeout)? {
            Some(init) => (
                init.signing_config
                    .map_err(anyhow::Error::msg)
                    .context("error getting signing config from TUF")?,
                format!("the initialized TUF repository's {SIGNING_CONFIG_TARGET}"),
            ),
            None => (
                cosign_trust::signing_config::embedded_json(Instance::PublicGood).to_vec(),
                "the embedded public-good signing config".to_owned(),
            ),
        },
    };
    cosign_trust::signing_config::SigningConfig::from_json(&json)
        .with_context(|| format!("error reading signing config from {source}"))
}

fn load_initialized(timeout: Duration) -> Result<Option<Initialized>> {
    let Some(dir) = cache_dir() else {
        return Ok(None);
    };
    let Some(mirror) = read_remote_hint(&dir)? else {
        return Ok(None);
    };
    // Trust starts from the embedded root of a known instance, else from the root that
    // `cosign initialize` verified and cached for this mirror.
    let (root_json, source) = match Instance::for_mirror(&mirror) {
        Some(instance) => (
            instance.root_json().to_vec(),
            format!("embedded {} root.json", instance.name()),
        ),
        None => {
            let path = dir.join(mirror_dir_name(&mirror)).join("root.json");
            let data = std::fs::read(&path).with_context(|| {
                format!(
                    "reading the cached TUF root {} of {mirror} (run cosign initialize again)",
                    path.display()
                )
            })?;
            (data, path.display().to_string())
        }
    };
    let mut opts = TufOptions::new(&mirror, root_json, &source, Some(dir.clone()));
    opts.freshness = Freshness::CacheFor(CACHE_VALIDITY);
    let mut client = TufClient::new(opts, fetcher(timeout)?)?;
    let what = || {
        format!(
            "updating the TUF metadata of {mirror} (cache {})",
            dir.display()
        )
    };
    client.update().with_context(what)?;
    let trusted_root = client.trusted_root_json().with_context(what)?;
    let signing_config = client
        .target(SIGNING_CONFIG_TARGET)
        .map_err(|e| format!("{}: {e}", what()));
    Ok(Some(Initialized {
        trusted_root,
        signing_config,
    }))
}

/// The whole trusted root of a verify command (its timestamp authorities check RFC 3161
/// timestamps): `--trusted-root FILE`, else the initialized TUF repository's unless
/// `SIGSTORE_REKOR_PUBLIC_KEY` names the log key (then, as Go cosign, no trusted root is
/// fetched); None when there is none (a bundle with timestamps then fails closed).
pub fn trusted_root(
    flag: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<Option<cosign_trust::trusted_root::TrustedRoot>> {
    let json = match flag {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("reading --trusted-root {}", path.display()))?,
        None if env::lookup("SIGSTORE_REKOR_PUBLIC_KEY").is_some_and(|k| !k.is_empty()) => {
            return Ok(None);
        }
        None => match initialized_trusted_root(timeout)? {
            Some(json) => json,
            None => return Ok(None),
        },
    };
    let root =
        cosign_trust::trusted_root::TrustedRoot::from_json(&json).with_context(|| match flag {
            Some(p) => format!("parsing trusted root {}", p.display()),
            None => "parsing the initialized TUF repository's trusted_root.json".to_owned(),
        })?;
    Ok(Some(root))
}
