//! `cosign sign-blob`: sign files or standard input with a key, writing the signature, a legacy
//! bundle, or a Sigstore bundle v0.3.

use std::path::PathBuf;

use anyhow::{Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::blob::{BlobInput, SignedBlob, sign_blob};
use cosign::certs::Certificate;
use cosign::fsutil::write_atomic;
use cosign_crypto::HashAlgorithm;
use cosign_types::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, MessageDigest, MessageSignature,
    PublicKeyIdentifier, VerificationMaterial, VerificationMaterialContent, X509Certificate,
};
use cosign_types::legacy_bundle::LocalSignedPayload;

use super::Ctx;
use super::keys::{load_signing_key, signing_certificate};
use crate::args::SignBlobArgs;

pub fn run(args: &SignBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.key.sk {
        bail!("hardware security keys (--sk) are not supported by this build");
    }
    let Some(key_ref) = &args.key.key else {
        bail!(
            "keyless signing (Fulcio and OIDC) is not supported by this build yet: pass --key <key>"
        );
    };
    if args.new_bundle_format && args.bundle.is_none() {
        bail!("must specify --bundle with --new-bundle-format");
    }
    let mut output_signature = args.output_signature.clone();
    if let Some(o) = &args.output {
        ctx.printer.warn(
            "the '--output' flag is deprecated and will be removed in the future. Use '--output-signature'",
        );
        output_signature.get_or_insert_with(|| o.clone());
    }
    if args.new_bundle_format {
        if output_signature.is_some() {
            ctx.printer.warn(
                "--output-signature is deprecated when using --new-bundle-format and will be ignored",
            );
        }
        if args.output_certificate.is_some() {
            ctx.printer.warn(
                "--output-certificate is deprecated when using --new-bundle-format and will be ignored",
            );
        }
    }
    let mut certificate = args
        .key
        .certificate
        .as_deref()
        .map(cosign::certs::load_certificate)
        .transpose()?;

    let inputs: Vec<BlobInput> = args
        .blobs
        .iter()
        .map(|b| {
            if b == "-" {
                BlobInput::Stdin
            } else {
                BlobInput::File(PathBuf::from(b))
            }
        })
        .collect();
    if inputs.iter().filter(|i| **i == BlobInput::Stdin).count() > 1 {
        bail!("standard input (-) can be given only once");
    }
    // Fail on a missing or unreadable input before asking for a password.
    for input in &inputs {
        if let BlobInput::File(p) = input {
            cosign::fsutil::check_regular_or_stream(p, "reading")?;
        }
    }
    let stdin_busy = inputs
        .contains(&BlobInput::Stdin)
        .then_some("the blob to sign");
    let tlog = super::tlog::upload(
        ctx,
        args.rekor.tlog_upload,
        &args.rekor.rekor_url,
        args.key.yes,
    )?;

    let mut loaded: Option<cosign::Signer> = None;
    for input in &inputs {
        if let BlobInput::File(p) = input {
            ctx.printer
                .info(&format!("Using payload from: {}", p.display()));
        }
        let key = match loaded.take() {
            Some(k) => k,
            None => {
                let k = load_signing_key(ctx, key_ref, stdin_busy)?;
                if let Some(cert) = &certificate
                    && cert.public_key != k.public_key()
                {
                    bail!("public key in certificate does not match that in the signing key");
                }
                certificate = signing_certificate(ctx, key_ref, &k, certificate.take())?;
                k
            }
        };
        // Without a transparency log, Ed25519 keys sign the message itself (pure Ed25519); with
        // one, Ed25519ph, since the log records a digest.
        let scheme = key.scheme(tlog.is_some());
        let digest_alg = scheme.prehash().unwrap_or(HashAlgorithm::Sha512);
        let signed =
            ctx.block_on(async { Ok(sign_blob(&key, scheme, input, digest_alg).await?) })?;
        let entry = match &tlog {
            Some(up) => {
                let pem = certificate
                    .as_ref()
                    .map_or_else(|| key.public_key().to_pem(), |c| c.pem.clone());
                let entry = ctx.block_on(async {
                    Ok(cosign::tlog::upload_hashedrekord(
                        up,
                        &signed.digest,
                        &signed.signature,
                        &key.public_key(),
                        pem.as_bytes(),
                    )
                    .await?)
                })?;
                ctx.printer.info(&format!(
                    "tlog entry created with index: {}",
                    entry.log_index
                ));
                Some(entry)
            }
            None => None,
        };
        write_outputs(
            args,
            ctx,
            &key,
            certificate.as_ref(),
            &signed,
            output_signature.as_ref(),
            entry.as_ref(),
        )?;
        loaded = Some(key);
    }
    Ok(())
}

fn write_outputs(
    args: &SignBlobArgs,
    ctx: &Ctx<'_>,
    key: &cosign::Signer,
    certificate: Option<&Certificate>,
    signed: &SignedBlob,
    output_signature: Option<&PathBuf>,
    entry: Option<&cosign_tlog::LogEntry>,
) -> Result<()> {
    let sig_b64 = STANDARD.encode(&signed.signature);
    if let Some(path) = &args.bundle {
        let bytes = if args.new_bundle_format {
            new_bundle(key, certificate, signed, entry)?
        } else {
            let cert_pem = certificate.map_or_else(|| key.public_key().to_pem(), |c| c.pem.clone());
            LocalSignedPayload {
                base64_signature: sig_b64.clone(),
                cert: Some(STANDARD.encode(cert_pem.as_bytes())),
                rekor_bundle: entry.map(cosign_tlog::LogEntry::to_legacy_bundle),
            }
            .to_json()
        };
        write_atomic(path, &bytes, 0o600)?;
        ctx.printer
            .info(&format!("Wrote bundle to file {}", path.display()));
    }
    if args.new_bundle_format {
        return Ok(());
    }
    let sig_out = if args.b64 {
        sig_b64.into_bytes()
    } else {
        signed.signature.clone()
    };
    match output_signature {
        Some(path) => {
            write_atomic(path, &sig_out, 0o600)?;
            ctx.printer
                .info(&format!("Wrote signature to file {}", path.display()));
        }
        None if args.b64 => {
            ctx.printer.out_bytes(&sig_out)?;
            ctx.printer.out_bytes(b"\n")?;
        }
        None => ctx.printer.out_bytes(&sig_out)?,
    }
    if let Some(path) = &args.output_certificate {
        match certificate {
            Some(cert) => {
                let bytes = if args.b64 {
                    STANDARD.encode(cert.pem.as_bytes()).into_bytes()
                } else {
                    cert.pem.clone().into_bytes()
                };
                write_atomic(path, &bytes, 0o600)?;
                ctx.printer
                    .info(&format!("Wrote certificate to file {}", path.display()));
            }
            None => ctx.printer.warn(&format!(
                "no certificate written to {}: the blob was signed with a key and no --certificate was given",
                path.display()
            )),
        }
    }
    Ok(())
}

/// A Sigstore bundle v0.3 with a message signature and a public-key hint (or the certificate).
fn new_bundle(
    key: &cosign::Signer,
    certificate: Option<&Certificate>,
    signed: &SignedBlob,
    entry: Option<&cosign_tlog::LogEntry>,
) -> Result<Vec<u8>> {
    let tlog_entries = match entry {
        Some(e) => vec![e.to_bundle_entry()?],
        None => Vec::new(),
    };
    let material = match certificate {
        Some(cert) => VerificationMaterialContent::Certificate(X509Certificate {
            raw_bytes: cert.der.clone(),
        }),
        None => VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
            hint: STANDARD.encode(key.public_key().hint()),
        }),
    };
    Ok(Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        verification_material: VerificationMaterial {
            content: material,
            tlog_entries,
            timestamp_verification_data: None,
        },
        content: BundleContent::MessageSignature(MessageSignature {
            message_digest: Some(MessageDigest {
                algorithm: signed.digest.algorithm().proto_name().to_owned(),
                digest: signed.digest.as_bytes().to_vec(),
            }),
            signature: signed.signature.clone(),
        }),
    }
    .to_json())
}
