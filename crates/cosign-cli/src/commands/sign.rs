//! `cosign sign`: sign container images with a key.

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::fsutil::write_atomic;
use cosign::image::sign::{DEFAULT_CONCURRENCY, SignOptions, sign_images};

use crate::args::{ReferrersMode, SignArgs};
use crate::ctx::Ctx;
use crate::output::StderrReporter;
use crate::settings::registry;
use crate::settings::signing::{SigningRequest, SigningSettings};

pub fn run(args: &SignArgs, ctx: &Ctx<'_>) -> Result<()> {
    let req = SigningRequest {
        key: &args.key,
        rekor: &args.rekor,
        services: &args.services,
        stdin_busy: None,
        sigstore_bundle: args.new_bundle_format,
    };
    req.check()?;
    let oci_mode = args.referrers.registry_referrers_mode == ReferrersMode::Oci11;
    if oci_mode && !registry::experimental() {
        bail!("in order to use mode \"oci-1-1\", you must set COSIGN_EXPERIMENTAL=1");
    }
    if args.new_bundle_format && !args.upload && args.bundle.is_none() {
        bail!(
            "must enable upload to the OCI registry or specify a local --bundle path with --new-bundle-format"
        );
    }
    let images = registry::parse_images(&args.images)?;
    let annotations = registry::parse_annotations(&args.annotations)?;
    let payload = match &args.payload {
        Some(p) => {
            ctx.printer
                .info(&format!("Using payload from: {}", p.display()));
            Some(std::fs::read(p).with_context(|| format!("reading payload {}", p.display()))?)
        }
        None => None,
    };
    let reg = registry::client(&args.registry, ctx.timeout)?;
    let SigningSettings {
        signer: key,
        certificate,
        chain,
        witnesses,
    } = SigningSettings::resolve(&req, ctx)?;
    let opts = SignOptions {
        annotations,
        upload: args.upload,
        payload,
        recursive: args.recursive,
        new_bundle_format: args.new_bundle_format,
        referrers_mode_oci: oci_mode,
        storage: registry::storage(&args.registry)?,
        certificate,
        certificate_chain: match &args.certificate_chain {
            Some(path) => Some(read_chain(path)?),
            None => chain,
        },
        concurrency: DEFAULT_CONCURRENCY,
        witnesses,
    };
    let signed = ctx
        .block_on(async { Ok(sign_images(&reg, &key, &images, &opts, &StderrReporter).await?) })?;
    for s in &signed {
        let sig_b64 = STANDARD.encode(&s.signature);
        if let Some(path) = &args.output_signature {
            write_atomic(path, sig_b64.as_bytes(), 0o600)?;
        }
        if let Some(path) = &args.output_payload {
            write_atomic(path, &s.payload, 0o600)?;
        }
        if let (Some(path), Some(cert)) = (&args.output_certificate, &opts.certificate) {
            write_atomic(path, cert.pem.as_bytes(), 0o600)?;
        }
        if let (Some(path), Some(bundle)) = (&args.bundle, &s.bundle) {
            write_atomic(path, bundle, 0o600)?;
            ctx.printer
                .info(&format!("Wrote bundle to file {}", path.display()));
        }
        if !args.upload && !args.new_bundle_format && args.output_signature.is_none() {
            ctx.printer.out_line(&sig_b64)?;
        }
    }
    Ok(())
}

/// `--certificate-chain`: PEM certificates, stored as given (checked to parse).
fn read_chain(path: &std::path::Path) -> Result<String> {
    let data = cosign::fsutil::read_small_file(path, "certificate chain file", 1 << 20)?;
    let certs = cosign_trust::x509::Certificate::from_pem(&data)
        .with_context(|| format!("parsing --certificate-chain {}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "--certificate-chain {} holds no certificate",
            path.display()
        );
    }
    String::from_utf8(data)
        .with_context(|| format!("--certificate-chain {} is not PEM text", path.display()))
}
