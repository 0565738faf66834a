//! `cosign attest`, `attach attestation` and `download attestation`.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use cosign::attestation::RekorEntryType;
use cosign::fsutil::write_atomic;
use cosign::image::attest::{
    AttestOptions, AttestationFile, attach_attestations, attest_image, download_attestations,
};
use cosign_oci::ImageRef;
use cosign_types::oci::Platform;
use cosign_types::predicate::PredicateType;

use super::Ctx;
use super::keys::load_signing_key;
use super::registry::{self, StderrReporter};
use crate::args::{AttachAttestationArgs, AttestArgs, DownloadAttestationArgs};

/// Largest predicate or attestation file read (cosign's default attachment size cap: a bigger
/// attestation would be refused by every verifier).
pub const MAX_INPUT_BYTES: u64 = cosign::image::storage::DEFAULT_MAX_ATTACHMENT_SIZE;

/// Reads a predicate/statement/attestation file, or standard input for `-`, up to
/// [`MAX_INPUT_BYTES`].
pub fn read_input(arg: &str, what: &str) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    if arg == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut data)
            .with_context(|| format!("reading the {what} from standard input"))?;
    } else {
        let path = Path::new(arg);
        cosign::fsutil::check_regular_or_stream(path, "reading")?;
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut data))
            .with_context(|| format!("reading {what} {arg}"))?;
    }
    if data.len() as u64 > MAX_INPUT_BYTES {
        bail!("the {what} {arg} is larger than {MAX_INPUT_BYTES} bytes");
    }
    Ok(data)
}

/// Reads `--predicate`, printing cosign's `Using payload from: ...` line.
pub fn read_predicate(ctx: &Ctx<'_>, arg: &str) -> Result<Vec<u8>> {
    if arg == "-" {
        ctx.printer.info("Using payload from: standard input");
    } else {
        ctx.printer.info(&format!("Using payload from: {arg}"));
    }
    let data = read_input(arg, "predicate")?;
    if data.is_empty() {
        bail!("predicate cannot be empty: {arg} has no content");
    }
    Ok(data)
}

fn parse_image(text: &str) -> Result<ImageRef> {
    ImageRef::parse(text).with_context(|| format!("parsing reference {text:?}"))
}

pub fn run(args: &AttestArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.key.sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    let Some(predicate_arg) = args.predicate.as_deref().filter(|p| !p.is_empty()) else {
        bail!("predicate cannot be empty");
    };
    let entry_type = RekorEntryType::parse(&args.rekor_entry_type)?;
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    let Some(key_ref) = &args.key.key else {
        bail!(
            "keyless signing (Fulcio and OIDC) is not supported by this build yet: pass --key <key>"
        );
    };
    if args.new_bundle_format && args.no_upload && args.bundle.is_none() {
        bail!(
            "must enable upload to the OCI registry or specify a local --bundle path with --new-bundle-format"
        );
    }
    let image = parse_image(&args.image)?;
    let predicate = read_predicate(ctx, predicate_arg)?;
    let certificate = args
        .key
        .certificate
        .as_deref()
        .map(cosign::certs::load_certificate)
        .transpose()?;
    let stdin_busy = (predicate_arg == "-").then_some("the predicate");
    let key = load_signing_key(ctx, key_ref, stdin_busy)?;
    if let Some(cert) = &certificate
        && cert.public_key != key.public_key()
    {
        bail!("public key in certificate does not match that in the signing key");
    }
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let tlog = super::tlog::upload(
        ctx,
        args.rekor.tlog_upload,
        &args.rekor.rekor_url,
        args.key.yes,
    )?;
    let opts = AttestOptions {
        predicate_type,
        predicate,
        timestamp: cosign::time::rfc3339(cosign::time::now_unix()),
        upload: !args.no_upload,
        replace: args.replace,
        new_bundle_format: args.new_bundle_format,
        storage: registry::storage(&args.registry)?,
        certificate,
        tlog,
        entry_type,
    };
    let out = ctx
        .block_on(async { Ok(attest_image(&reg, &key, &image, &opts, &StderrReporter).await?) })?;
    if let Some(path) = &args.bundle {
        write_atomic(path, &out.bundle, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if args.no_upload && args.bundle.is_none() {
        ctx.printer
            .out_line(&String::from_utf8_lossy(&out.signed.envelope_json))?;
    }
    Ok(())
}

pub fn attach(args: &AttachAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let mut files = Vec::new();
    for p in &args.attestation {
        // cosign prints this line without a newline.
        ctx.printer
            .info_partial(&format!("Using payload from: {}", p.display()));
        let name = p.display().to_string();
        let data = read_input(&name, "attestation")?;
        if data.iter().all(u8::is_ascii_whitespace) {
            bail!("attestation file {name} is empty");
        }
        files.push(AttestationFile { name, data });
    }
    ctx.block_on(async { Ok(attach_attestations(&reg, &image, &files, &storage).await?) })?;
    Ok(())
}

pub fn download(args: &DownloadAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    let image = parse_image(&args.image)?;
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(PredicateType::parse)
        .transpose()?;
    let platform = args
        .platform
        .as_deref()
        .map(|p| {
            Platform::parse(p)
                .ok_or_else(|| anyhow!("parsing platform {p:?}: expected os/arch[/variant]"))
        })
        .transpose()?;
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let storage = registry::storage(&args.registry)?;
    let lines = ctx.block_on(async {
        Ok(download_attestations(
            &reg,
            &image,
            predicate_type.as_ref(),
            platform.as_ref(),
            &storage,
        )
        .await?)
    })?;
    for l in lines {
        ctx.printer.out_bytes(&l)?;
        ctx.printer.out_bytes(b"\n")?;
    }
    Ok(())
}
