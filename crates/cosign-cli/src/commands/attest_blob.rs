//! `cosign attest-blob` and `cosign verify-blob-attestation`: in-toto attestations about files,
//! whose digest is computed in one streaming pass.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::attest_blob::{
    check_statement, digest_input, parse_subject_hash, predicate_statement, subject_name,
};
use cosign::attestation::{
    AttestationPolicy, Candidate, RekorEntryType, bundle_candidate, sign_statement, verify_one,
};
use cosign::blob::BlobInput;
use cosign::fsutil::write_atomic;
use cosign_crypto::PublicKey;
use cosign_types::bundle::Bundle;
use cosign_types::legacy_bundle::LocalSignedPayload;
use cosign_types::predicate::PredicateType;
use cosign_types::{Digest, HashAlgorithm};

use super::Ctx;
use super::attest::{read_input, read_predicate};
use super::keys::load_signing_key;
use crate::args::{AttestBlobArgs, VerifyBlobAttestationArgs};

/// `-` is standard input; an existing path is a file; otherwise `alg:hex` is a digest.
fn parse_input(arg: &str) -> BlobInput {
    if arg == "-" {
        return BlobInput::Stdin;
    }
    let path = Path::new(arg);
    if !path.exists()
        && let Ok(d) = arg.parse::<Digest>()
    {
        return BlobInput::Digest(d);
    }
    BlobInput::File(PathBuf::from(arg))
}

pub fn attest(args: &AttestBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.key.sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    if args.predicate.is_some() == args.statement.is_some() {
        bail!("one of --predicate or --statement must be set");
    }
    let entry_type = RekorEntryType::parse(&args.rekor_entry_type)?;
    let Some(key_ref) = &args.key.key else {
        bail!(
            "keyless signing (Fulcio and OIDC) is not supported by this build yet: pass --key <key>"
        );
    };
    if args.new_bundle_format {
        if args.bundle.is_none() {
            bail!("must specify --bundle with --new-bundle-format");
        }
        for (flag, given) in [
            ("--output-signature", args.output_signature.is_some()),
            ("--output-attestation", args.output_attestation.is_some()),
            ("--output-certificate", args.output_certificate.is_some()),
        ] {
            if given {
                ctx.printer.warn(&format!(
                    "{flag} is deprecated when using --new-bundle-format and will be ignored"
                ));
            }
        }
    }
    let mut stdin_busy = None;
    let statement = if let Some(path) = &args.statement {
        ctx.printer
            .info(&format!("Using statement from: {}", path.display()));
        let arg = path.display().to_string();
        if arg == "-" {
            stdin_busy = Some("the statement");
        }
        let data = read_input(&arg, "statement")?;
        check_statement(&data)?;
        data
    } else {
        let predicate_type = PredicateType::parse(&args.predicate_type)?;
        let predicate_arg = args
            .predicate
            .as_deref()
            .filter(|p| !p.is_empty())
            .context("predicate cannot be empty")?;
        let Some(blob) = &args.blob else {
            bail!(
                "attest-blob needs the blob (its name and digest are the statement's subject), or --statement"
            );
        };
        if blob == "-" && predicate_arg == "-" {
            bail!("standard input (-) can be given only once: for the blob or for --predicate");
        }
        if blob == "-" || predicate_arg == "-" {
            stdin_busy = Some("the attested data");
        }
        let subject = match &args.hash {
            Some(hex) => parse_subject_hash(hex)?,
            None => {
                let input = if blob == "-" {
                    BlobInput::Stdin
                } else {
                    ctx.printer.info(&format!("Using payload from: {blob}"));
                    BlobInput::File(PathBuf::from(blob))
                };
                digest_input(&input, HashAlgorithm::Sha256)?
            }
        };
        let predicate = read_predicate(ctx, predicate_arg)?;
        predicate_statement(
            &predicate_type,
            &predicate,
            &subject_name(blob),
            &subject,
            &cosign::time::rfc3339(cosign::time::now_unix()),
        )?
    };
    let certificate = args
        .key
        .certificate
        .as_deref()
        .map(cosign::certs::load_certificate)
        .transpose()?;
    let key = load_signing_key(ctx, key_ref, stdin_busy)?;
    if let Some(cert) = &certificate
        && cert.public_key != key.public_key()
    {
        bail!("public key in certificate does not match that in the signing key");
    }
    let tlog = super::tlog::upload(
        ctx,
        args.rekor.tlog_upload,
        &args.rekor.rekor_url,
        args.key.yes,
    )?;
    let signed = ctx.block_on(async {
        Ok(sign_statement(
            &key,
            statement,
            certificate.as_ref(),
            tlog.as_ref(),
            entry_type,
        )
        .await?)
    })?;
    if let Some(e) = &signed.entry {
        ctx.printer
            .info(&format!("tlog entry created with index: {}", e.log_index));
    }
    if let Some(path) = &args.bundle {
        let bytes = if args.new_bundle_format {
            signed.sigstore_bundle(&key.public_key(), certificate.as_ref())?
        } else {
            signed.legacy_bundle(certificate.as_ref())
        };
        write_atomic(path, &bytes, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if args.new_bundle_format {
        return Ok(());
    }
    match &args.output_signature {
        Some(path) => {
            write_atomic(path, &signed.envelope_json, 0o600)?;
            ctx.printer
                .info(&format!("Signature written in {}", path.display()));
        }
        None => ctx
            .printer
            .out_line(&String::from_utf8_lossy(&signed.envelope_json))?,
    }
    if let Some(path) = &args.output_attestation {
        write_atomic(path, &signed.statement, 0o600)?;
        ctx.printer
            .info(&format!("Attestation written in {}", path.display()));
    }
    if let Some(path) = &args.output_certificate {
        match &certificate {
            Some(cert) => {
                write_atomic(path, cert.pem.as_bytes(), 0o600)?;
                ctx.printer
                    .info(&format!("Certificate written to file {}", path.display()));
            }
            None => ctx
                .printer
                .info("Could not output signer certificate. Was a certificate used?"),
        }
    }
    Ok(())
}

/// The envelope and log entry of a `--bundle` file (Sigstore bundle or cosign's legacy JSON).
fn read_bundle(path: &Path, key: &PublicKey) -> Result<Candidate> {
    let name = format!("bundle {}", path.display());
    let data = read_input(&path.display().to_string(), "bundle")?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).with_context(|| format!("{name} is not JSON"))?;
    if value.get("mediaType").is_some() {
        let bundle = Bundle::from_json(&data).with_context(|| format!("parsing {name}"))?;
        if bundle.version().is_none() {
            bail!("{name}: unsupported media type {:?}", bundle.media_type);
        }
        return Ok(bundle_candidate(&name, &bundle)?);
    }
    if value.get("base64Signature").is_none() {
        bail!("{name} is neither a Sigstore bundle nor a cosign legacy bundle");
    }
    let legacy =
        LocalSignedPayload::from_json(&data).with_context(|| format!("parsing legacy {name}"))?;
    let envelope_json = STANDARD
        .decode(legacy.base64_signature.trim())
        .with_context(|| format!("{name}: base64Signature is not valid base64"))?;
    if let Some(cert) = legacy.cert.as_deref().filter(|c| !c.is_empty()) {
        let pem = STANDARD
            .decode(cert.trim())
            .ok()
            .filter(|b| b.starts_with(b"-----BEGIN"))
            .unwrap_or_else(|| cert.as_bytes().to_vec());
        let bundled = match cosign::keys::pem_label(&pem) {
            Some("CERTIFICATE") => cosign::certs::parse_certificate(&pem, &name)?.public_key,
            _ => PublicKey::from_pem(&pem)
                .with_context(|| format!("{name}: reading the public key in `cert`"))?,
        };
        if &bundled != key {
            bail!(
                "{name} names a different key than --key: the attestation was not signed with this key"
            );
        }
    }
    let entry = legacy
        .rekor_bundle
        .as_ref()
        .map(cosign_tlog::LogEntry::from_legacy_bundle)
        .transpose()
        .with_context(|| format!("{name}: reading rekorBundle"))?;
    Ok(Candidate {
        name,
        envelope_json,
        entry,
    })
}

pub fn verify(args: &VerifyBlobAttestationArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.signature.is_none() && args.bundle.is_none() {
        bail!("please specify path to the DSSE envelope signature via --signature or --bundle");
    }
    if args.sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    let Some(key_ref) = &args.key else {
        if args.bundle.is_some() {
            bail!(
                "verifying a bundle without --key (keyless, against Fulcio certificates) is not supported by this build yet: pass --key"
            );
        }
        bail!(
            "provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle"
        );
    };
    let predicate_type = PredicateType::parse(&args.predicate_type)?;
    let tlog = super::tlog::verify_flags(&args.log, ctx, "blob attestation")?;
    let key = super::keys::load_verification_key(ctx, key_ref)?;
    let subject = if args.check_claims {
        Some(match (&args.digest, &args.blob) {
            (Some(hex), _) => {
                let alg: HashAlgorithm = args
                    .digest_alg
                    .parse()
                    .with_context(|| format!("--digestAlg {}", args.digest_alg))?;
                Digest::from_hex(alg, &hex.trim().to_ascii_lowercase())
                    .with_context(|| format!("--digest {hex:?} is not a {alg} digest in hex"))?
            }
            (None, Some(blob)) => digest_input(&parse_input(blob), HashAlgorithm::Sha256)?,
            (None, None) => bail!(
                "the blob or --digest is needed to check the claims (or pass --check-claims=false)"
            ),
        })
    } else {
        None
    };
    let mut candidate = match &args.bundle {
        Some(path) => Some(read_bundle(path, &key)?),
        None => None,
    };
    if let Some(path) = &args.signature {
        let envelope_json = read_input(&path.display().to_string(), "signature")?;
        match &candidate {
            Some(c) if c.envelope_json != envelope_json => {
                bail!("the envelope given with --signature differs from the one in the bundle")
            }
            Some(_) => {}
            None => {
                candidate = Some(Candidate {
                    name: format!("attestation {}", path.display()),
                    envelope_json,
                    entry: None,
                });
            }
        }
    }
    let Some(candidate) = candidate else {
        bail!("please specify path to the DSSE envelope signature via --signature or --bundle");
    };
    let policy = AttestationPolicy {
        key: &key,
        predicate_type: &predicate_type,
        subject: subject.as_ref(),
        tlog: tlog.as_ref(),
    };
    let verified = ctx.block_on(async { Ok(verify_one(&policy, candidate).await?) })?;
    if verified.tlog.as_ref().is_some_and(|t| t.entry.inactive_key) {
        ctx.printer.info(super::tlog::INACTIVE_KEY_INFO);
    }
    ctx.printer.info("Verified OK");
    Ok(())
}
