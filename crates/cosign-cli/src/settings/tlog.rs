//! Transparency-log settings: the log to record in (`--rekor-url`, `--tlog-upload`), the log keys
//! trusted for verification (`--trusted-root`, `SIGSTORE_REKOR_PUBLIC_KEY`), and the notice cosign
//! shows before recording in the public-good instance.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cosign::tlog::{TlogUpload, TlogVerify};
use cosign_crypto::PublicKey;
use cosign_tlog::trusted_root::TrustedRoot;
use cosign_tlog::{RekorClient, TrustedLogs};

use crate::ctx::Ctx;
use crate::env;
use crate::prompt::confirm_continue;

/// The public-good Rekor instance.
pub const PUBLIC_REKOR: &str = "https://rekor.sigstore.dev";

/// Timeout of each TUF request.
const TUF_TIMEOUT: Duration = Duration::from_secs(60);

/// Client timeout for Rekor requests (cosign uses 90 s).
const REKOR_TIMEOUT: Duration = Duration::from_secs(90);

/// cosign's terms-of-use notice for the public-good instance.
const TERMS_OF_USE: &str = "The sigstore service, hosted by sigstore a Series of LF Projects, LLC, is provided pursuant to the Hosted Project Tools Terms of Use, available at https://lfprojects.org/policies/hosted-project-tools-terms-of-use/.
Note that if your submission includes personal data associated with this signed artifact, it will be part of an immutable record.
This may include the email address associated with the account with which you authenticate your contractual Agreement.
This information will be used for signing this artifact and will be stored in public transparency logs and cannot be removed later, and is subject to the Immutable Record notice at https://lfprojects.org/policies/hosted-project-tools-immutable-records/.

By typing 'y', you attest that (1) you are not submitting the personal data of any other person; and (2) you understand and agree to the statement and the Agreement terms at the URLs listed above.";

pub(crate) fn client(url: &str) -> Result<RekorClient> {
    RekorClient::new(url, REKOR_TIMEOUT, &super::user_agent())
        .with_context(|| format!("setting up the transparency log client for {url}"))
}

/// The trusted log keys given explicitly: `--trusted-root FILE` (its `tlogs`), else the PEM
/// file named by `SIGSTORE_REKOR_PUBLIC_KEY`; None when neither is given.
pub fn explicit_trusted_logs(trusted_root: Option<&Path>) -> Result<Option<TrustedLogs>> {
    if let Some(path) = trusted_root {
        let data = std::fs::read(path)
            .with_context(|| format!("reading --trusted-root {}", path.display()))?;
        let root = TrustedRoot::from_json(&data)
            .with_context(|| format!("parsing trusted root {}", path.display()))?;
        if root.tlogs.is_empty() {
            bail!(
                "trusted root {} names no transparency log (tlogs is empty)",
                path.display()
            );
        }
        return Ok(Some(TrustedLogs::from_trusted_root(&root)));
    }
    if let Some(path) = env::lookup("SIGSTORE_REKOR_PUBLIC_KEY").filter(|p| !p.is_empty()) {
        let data = std::fs::read(&path)
            .with_context(|| format!("reading SIGSTORE_REKOR_PUBLIC_KEY={path}"))?;
        let key = PublicKey::from_pem(&data)
            .with_context(|| format!("parsing the Rekor public key in {path}"))?;
        return Ok(Some(TrustedLogs::from_public_key(key)));
    }
    Ok(None)
}

/// [`explicit_trusted_logs`], else the log keys of the `trusted_root.json` of the TUF
/// repository that `cosign initialize` set up; None when there is none of these.
pub fn trusted_logs(trusted_root: Option<&Path>) -> Result<Option<TrustedLogs>> {
    if let Some(logs) = explicit_trusted_logs(trusted_root)? {
        return Ok(Some(logs));
    }
    if let Some(json) = super::trust::initialized_trusted_root(TUF_TIMEOUT)? {
        let root = TrustedRoot::from_json(&json)
            .context("parsing the trusted_root.json of the initialized TUF repository")?;
        if !root.tlogs.is_empty() {
            return Ok(Some(TrustedLogs::from_trusted_root(&root)));
        }
    }
    Ok(None)
}

/// The upload settings, or None for `--tlog-upload=false`. Shows cosign's notice (and asks,
/// unless `-y`) before recording in the public-good instance.
pub fn upload(
    ctx: &Ctx<'_>,
    tlog_upload: bool,
    rekor_url: &str,
    yes: bool,
) -> Result<Option<TlogUpload>> {
    if !tlog_upload {
        return Ok(None);
    }
    if rekor_url.trim_end_matches('/') == PUBLIC_REKOR {
        ctx.printer.info(TERMS_OF_USE);
        if !yes {
            confirm_continue(ctx.printer)?;
        }
    }
    Ok(Some(TlogUpload {
        client: client(rekor_url)?,
        // Signing checks the log's answer against a key given explicitly, else the log's own
        // (an initialized TUF root names the public-good logs, not a private `--rekor-url`).
        trusted: explicit_trusted_logs(None)?,
    }))
}

/// The verification settings, or None when the log is skipped (`--insecure-ignore-tlog`,
/// `--private-infrastructure`). `offline` forbids online lookups.
pub fn verify(
    ignore: bool,
    rekor_url: &str,
    trusted_root: Option<&Path>,
    offline: bool,
    fallback: Option<&[u8]>,
) -> Result<Option<TlogVerify>> {
    if ignore {
        return Ok(None);
    }
    let mut trusted = trusted_logs(trusted_root)?;
    if trusted.is_none()
        && let Some(json) = fallback
    {
        let root = TrustedRoot::from_json(json).context("parsing the embedded trusted root")?;
        trusted = Some(TrustedLogs::from_trusted_root(&root));
    }
    let Some(trusted) = trusted else {
        bail!(
            "no transparency log key to verify against: pass --trusted-root FILE, set SIGSTORE_REKOR_PUBLIC_KEY to the log's public key file, or run cosign initialize to use a TUF repository's trusted root; or skip the log with --insecure-ignore-tlog"
        );
    };
    Ok(Some(TlogVerify {
        trusted,
        client: if offline {
            None
        } else {
            Some(client(rekor_url)?)
        },
    }))
}

/// The verification settings from the verify commands' log flags; prints cosign's warning
/// when the log is skipped (`what`: signature, blob, blob attestation ...). `fallback` is the
/// trusted root JSON whose logs are trusted when nothing else names one (keyless: the
/// embedded public-good root).
pub fn verify_flags(
    flags: &crate::args::VerifyLogArgs,
    ctx: &Ctx<'_>,
    what: &str,
    fallback: Option<&[u8]>,
) -> Result<Option<TlogVerify>> {
    let tlog = verify(
        flags.insecure_ignore_tlog || flags.private_infrastructure,
        &flags.rekor_url,
        flags.trusted_root.as_deref(),
        flags.offline,
        fallback,
    )?;
    if flags.insecure_ignore_tlog {
        ctx.printer.warn(&format!("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the {what}."));
    }
    Ok(tlog)
}

/// cosign's line for an entry verified with a key outside its validity window.
pub const INACTIVE_KEY_INFO: &str =
    "**Info** Successfully verified Rekor entry using an expired verification key";
