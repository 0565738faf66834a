//! `cosign bundle create`: a Sigstore bundle from a signature, certificate, legacy bundle,
//! attestation and RFC 3161 timestamp, written to `--out` or printed.

use std::path::PathBuf;

use anyhow::{Result, bail};
use cosign::blob::bundle_create::{BundleCreateOptions, KeySource, create_bundle};

use crate::args::{BundleCommand, BundleCreateArgs};
use crate::ctx::Ctx;
use crate::settings::keys::env_lookup;
use crate::settings::tlog::{PUBLIC_REKOR, client};

/// Dispatches `cosign bundle <command>`.
pub fn run(cmd: &BundleCommand, ctx: &Ctx<'_>) -> Result<()> {
    match cmd {
        BundleCommand::Create(a) => create_cmd(a, ctx),
    }
}

/// cobra's check of `MarkFlagsMutuallyExclusive` groups, in its order (group names sorted).
fn exclusive_groups(a: &BundleCreateArgs) -> Result<()> {
    let groups = [
        ("bundle certificate", a.certificate.is_some()),
        ("bundle signature", a.signature.is_some()),
    ];
    for (group, other_set) in groups {
        if a.bundle.is_some() && other_set {
            bail!(
                "if any flags in the group [{group}] are set none of the others can be; [{group}] were all set"
            );
        }
    }
    Ok(())
}

fn path(flag: Option<&String>) -> Option<PathBuf> {
    flag.filter(|p| !p.is_empty()).map(PathBuf::from)
}

fn create_cmd(a: &BundleCreateArgs, ctx: &Ctx<'_>) -> Result<()> {
    if a.rekor_url.is_some() {
        ctx.printer.info(
            "Flag --rekor-url has been deprecated, please use a signing config to specify a rekor url; see `cosign signing-config --help`",
        );
    }
    exclusive_groups(a)?;
    let artifact = a.artifact.as_deref().unwrap_or_default();
    if artifact.is_empty() {
        bail!("must supply --artifact");
    }
    let legacy_bundle = path(a.bundle.as_ref());
    let signature = path(a.signature.as_ref());
    if legacy_bundle.is_none() && signature.is_none() {
        bail!("must at least supply signature via --bundle or --signature");
    }
    let log = if a.ignore_tlog {
        None
    } else {
        let url = a.rekor_url.as_deref().unwrap_or(PUBLIC_REKOR);
        if url.is_empty() {
            bail!(
                "--rekor-url is empty: name the transparency log to search, or pass --ignore-tlog"
            );
        }
        Some(client(url)?)
    };
    let key = match a.key.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => KeySource::Ref(k.to_owned()),
        None if a.sk => KeySource::SecurityKey,
        None => KeySource::None,
    };
    let opts = BundleCreateOptions {
        artifact: artifact.to_owned(),
        legacy_bundle,
        signature,
        certificate: path(a.certificate.as_ref()),
        attestation: path(a.attestation.as_ref()),
        rfc3161_timestamp: path(a.rfc3161_timestamp.as_ref()),
        key,
        log,
        env: &env_lookup,
        timeout: ctx.timeout,
    };
    let bundle = ctx.block_on(async { Ok(create_bundle(&opts).await?) })?;
    let json = bundle.to_json();
    match a.out.as_deref().filter(|o| !o.is_empty()) {
        Some(out) => super::trusted_root::write_private(out, &json),
        None => {
            ctx.printer.out_line(&String::from_utf8_lossy(&json))?;
            Ok(())
        }
    }
}
