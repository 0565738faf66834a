//! `cosign bundle create`: a Sigstore bundle (v0.3) from the parts older cosign releases write
//! (`sign-blob --output-signature/--output-certificate`, `--rfc3161-timestamp`, the legacy
//! `--bundle` JSON, `attest-blob --output-attestation`), with the log entry looked up in Rekor.
//! Written to `--out` (mode 0600, atomically) or printed.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cosign::blob::BlobInput;
use cosign::blob::bundle::decode_b64;
use cosign::blob::create::{CreateParts, SignedContent, create_bundle};
use cosign::certs::Certificate;
use cosign::fsutil::{read_small_file, write_atomic};
use cosign_types::dsse::Envelope;
use cosign_types::legacy_bundle::LocalSignedPayload;

use crate::args::{BundleCommand, BundleCreateArgs, BundleUpgradeArgs};
use crate::ctx::Ctx;

/// Largest input file read (signature, certificate, legacy bundle, attestation, timestamp).
const PART_LIMIT: u64 = 16 << 20;

/// Go cosign's notice for the deprecated `--rekor-url`.
const REKOR_URL_DEPRECATED: &str = "Flag --rekor-url has been deprecated, please use a signing config to specify a rekor url; see `cosign signing-config --help`";

/// The log Go cosign looks entries up in when `--rekor-url` is not given.
const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// Dispatches `cosign bundle <command>`.
pub fn run(cmd: &BundleCommand, ctx: &Ctx<'_>) -> Result<()> {
    match cmd {
        BundleCommand::Create(a) => create_cmd(a, ctx),
        BundleCommand::Inspect(a) => super::bundle_inspect::run(a, ctx),
        BundleCommand::Upgrade(a) => upgrade_cmd(a, ctx),
    }
}

/// The parts a legacy bundle gives.
#[derive(Default)]
struct LegacyParts {
    certificate: Option<Certificate>,
    key: Option<cosign_crypto::PublicKey>,
    signature: Option<Vec<u8>>,
    /// The envelope and its JSON as read.
    envelope: Option<(Envelope, Vec<u8>)>,
}

fn create_cmd(a: &BundleCreateArgs, ctx: &Ctx<'_>) -> Result<()> {
    // cobra's mutually exclusive flag groups, checked before the command runs.
    if a.bundle.is_some() {
        for (flag, set) in [
            ("certificate", a.certificate.is_some()),
            ("signature", a.signature.is_some()),
        ] {
            if set {
                bail!(
                    "if any flags in the group [bundle {flag}] are set none of the others can be; [bundle {flag}] were all set"
                );
            }
        }
    }
    if a.rekor_url.is_some() {
        ctx.printer.info(REKOR_URL_DEPRECATED);
    }
    let Some(artifact) = a.artifact.as_deref().filter(|s| !s.is_empty()) else {
        bail!("must supply --artifact");
    };
    if a.bundle.is_none() && a.signature.is_none() {
        bail!("must at least supply signature via --bundle or --signature");
    }
    crate::settings::keys::refuse_sk(a.sk)?;

    let mut parts = match &a.bundle {
        Some(path) => read_legacy(Path::new(path), a.ignore_tlog)?,
        None => LegacyParts::default(),
    };
    if let Some(path) = &a.signature {
        parts.signature = Some(read_signature_file(Path::new(path))?);
    }
    let timestamp = a
        .rfc3161_timestamp
        .as_deref()
        .map(|p| super::verify_blob::read_timestamp(Path::new(p)))
        .transpose()?;
    if let Some(path) = &a.certificate {
        let data = read_small_file(Path::new(path), "certificate file", PART_LIMIT)?;
        parts.certificate = Some(
            cosign::certs::parse_certificate(&data, path)
                .context("unable to decode provided certificate")?,
        );
    }
    if let Some(path) = &a.attestation {
        let data = read_small_file(Path::new(path), "attestation file", PART_LIMIT)?;
        let env = Envelope::from_json(&data)
            .with_context(|| format!("parsing attestation {path} (a DSSE envelope)"))?;
        parts.envelope = Some((env, data));
    }
    let key = a
        .key
        .as_deref()
        .map(|k| crate::settings::keys::load_verification_key(ctx, k).context("loading public key"))
        .transpose()?
        .or(parts.key);
    let content = match (parts.envelope, parts.signature) {
        (Some((env, raw)), _) if !env.signatures.is_empty() => SignedContent::Envelope(env, raw),
        (_, Some(sig)) if !sig.is_empty() => SignedContent::Signature(sig),
        _ => bail!(
            "no signature to put in the bundle: the --bundle holds no base64Signature and no --signature or --attestation with one was given"
        ),
    };
    let tlog = if a.ignore_tlog {
        None
    } else {
        let url = a.rekor_url.as_deref().unwrap_or(DEFAULT_REKOR_URL);
        Some(crate::settings::tlog::client(url)?)
    };
    let input = BlobInput::parse(artifact);
    let bundle = ctx.block_on(async {
        Ok(create_bundle(CreateParts {
            artifact: &input,
            content,
            certificate: parts.certificate,
            key,
            timestamp,
            tlog: tlog.as_ref(),
        })
        .await?)
    })?;
    let json = bundle.to_json();
    match &a.out {
        Some(out) => write_atomic(Path::new(out), &json, 0o600)?,
        None => {
            let mut line = json;
            line.push(b'\n');
            ctx.printer.out_bytes(&line)?;
        }
    }
    Ok(())
}

/// `--signature FILE`: base64 text (line breaks and surrounding spaces ignored).
fn read_signature_file(path: &Path) -> Result<Vec<u8>> {
    let data = read_small_file(path, "signature file", PART_LIMIT)?;
    let text = String::from_utf8(data)
        .map_err(|_| anyhow::anyhow!("signature file {} is not base64 text", path.display()))?;
    decode_b64(&text)
        .with_context(|| format!("signature file {} is not valid base64", path.display()))
}

/// `--bundle FILE`: cosign's legacy bundle (`sign-blob --bundle` before cosign 3, or
/// `--new-bundle-format=false`): its certificate, and its signature, which is an attestation's
/// DSSE envelope when it parses as one.
fn read_legacy(path: &Path, ignore_tlog: bool) -> Result<LegacyParts> {
    let name = format!("bundle {}", path.display());
    let data = read_small_file(path, "bundle", PART_LIMIT)?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).with_context(|| format!("{name}: not JSON"))?;
    if value.get("mediaType").is_some() {
        bail!("{name} is already a Sigstore bundle; --bundle takes cosign's older bundle format");
    }
    let legacy = LocalSignedPayload::from_json(&data).with_context(|| format!("parsing {name}"))?;
    if ignore_tlog
        && legacy
            .rekor_bundle
            .as_ref()
            .is_some_and(|b| !b.signed_entry_timestamp.is_empty())
    {
        bail!(
            "cannot ignore transparency log when the provided bundle contains a Signed Entry Timestamp"
        );
    }
    let mut parts = LegacyParts::default();
    if let Some(cert) = legacy.cert.as_deref().filter(|c| !c.trim().is_empty()) {
        // A certificate (keyless), or the public key a key-signed legacy bundle names (Go
        // cosign refuses the latter; the key is as good as --key).
        let pem = decode_b64(cert)
            .filter(|b| b.starts_with(b"-----BEGIN"))
            .unwrap_or_else(|| cert.as_bytes().to_vec());
        if cosign::keys::pem_label(&pem) == Some("PUBLIC KEY") {
            parts.key =
                Some(cosign_crypto::PublicKey::from_pem(&pem).with_context(|| {
                    format!("{name}: reading the public key in its cert field")
                })?);
        } else {
            parts.certificate = Some(
                cosign::certs::parse_certificate(&pem, &name)
                    .with_context(|| format!("{name}: its cert field holds no certificate"))?,
            );
        }
    }
    if !legacy.base64_signature.is_empty() {
        let signature = decode_b64(&legacy.base64_signature)
            .with_context(|| format!("{name}: base64Signature is not valid base64"))?;
        // An attestation's legacy bundle carries the envelope's JSON as its "signature".
        match Envelope::from_json(&signature) {
            Ok(env) => parts.envelope = Some((env, signature)),
            Err(_) => parts.signature = Some(signature),
        }
    }
    Ok(parts)
}

/// `cosign bundle upgrade BUNDLE`: v0.1/v0.2 to v0.3, the missing inclusion proofs from the log.
fn upgrade_cmd(a: &BundleUpgradeArgs, ctx: &Ctx<'_>) -> Result<()> {
    let data = read_small_file(Path::new(&a.bundle), "bundle", PART_LIMIT)
        .context("reading input file")?;
    let client = crate::settings::tlog::client(&a.rekor_url).context("creating rekor client")?;
    let printer = ctx.printer;
    let mut notices: Vec<String> = Vec::new();
    let result = ctx.block_on(async {
        let mut notice = |line: &str| notices.push(line.to_owned());
        Ok(cosign::blob::upgrade::upgrade_bundle(&data, &client, &mut notice).await?)
    });
    for line in &notices {
        printer.info(line);
    }
    let bytes = match result.context("upgrading bundle")? {
        cosign::blob::upgrade::Upgraded::AlreadyCurrent(b)
        | cosign::blob::upgrade::Upgraded::Upgraded(b) => b,
    };
    match &a.out {
        Some(out) => {
            write_atomic(Path::new(out), &bytes, 0o600).context("writing upgraded bundle")?;
            printer.info(&format!("Successfully upgraded bundle written to {out}"));
        }
        None => {
            let mut line = bytes;
            line.push(b'\n');
            printer.out_bytes(&line)?;
        }
    }
    Ok(())
}
