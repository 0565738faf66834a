//! `cosign verify-blob`: check a blob's signature with a public key, from `--signature` or a
//! bundle (legacy JSON or Sigstore bundle, detected by content).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::blob::{BlobInput, VerifyBlob, verify_blob};
use cosign::fsutil::read_small_file;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::bundle::{Bundle, BundleContent, VerificationMaterialContent, bundle_version};
use cosign_types::legacy_bundle::LocalSignedPayload;
use cosign_types::{Digest, HashAlgorithm};

use super::Ctx;
use crate::args::VerifyBlobArgs;

/// Largest bundle or signature file read.
const BUNDLE_LIMIT: u64 = 16 << 20;

/// The signature and the checks a bundle adds.
struct SignatureMaterial {
    signature: Vec<u8>,
    expected_digest: Option<Digest>,
    /// The log entry the bundle carries.
    entry: Option<cosign_tlog::LogEntry>,
}

pub fn run(args: &VerifyBlobArgs, ctx: &Ctx<'_>) -> Result<()> {
    if args.max_workers == 0 {
        bail!("please set the --max-worker flag to a value that is greater than 0");
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
    if args.signature.is_none() && args.bundle.is_none() {
        bail!("provide the signature with --signature or a bundle with --bundle");
    }
    let tlog = super::tlog::verify_flags(&args.log, ctx, "blob")?;

    let key = super::keys::load_verification_key(ctx, key_ref)?;

    let input = parse_input(&args.blob);
    let mut material = match &args.bundle {
        Some(path) => read_bundle(path, &key)?,
        None => SignatureMaterial {
            signature: Vec::new(),
            expected_digest: None,
            entry: None,
        },
    };
    if let Some(sig_arg) = &args.signature {
        let from_flag = read_signature(sig_arg)?;
        if args.bundle.is_some() && from_flag != material.signature {
            bail!("the signature given with --signature differs from the one in the bundle");
        }
        material.signature = from_flag;
    }

    let schemes: Vec<SignatureScheme> = match key.key_type() {
        // Ed25519 keys sign pure Ed25519 without a tlog and Ed25519ph with one.
        KeyType::Ed25519 => vec![SignatureScheme::Ed25519, SignatureScheme::Ed25519ph],
        other => vec![other.default_scheme(false)],
    };
    // The log records a digest: the body says which; without a bundle, the key's scheme does.
    let log_alg = tlog.as_ref().map(|_| {
        material
            .entry
            .as_ref()
            .and_then(|e| cosign_tlog::entry::Body::parse(&e.body).ok())
            .and_then(|b| match b {
                cosign_tlog::entry::Body::HashedRekord { digest, .. }
                | cosign_tlog::entry::Body::Rekord { digest, .. } => Some(digest.algorithm()),
                _ => None,
            })
            .unwrap_or_else(|| {
                schemes
                    .last()
                    .and_then(|s| s.prehash())
                    .unwrap_or(HashAlgorithm::Sha256)
            })
    });
    let digest = verify_blob(&VerifyBlob {
        key: &key,
        schemes: &schemes,
        input: &input,
        signature: &material.signature,
        expected_digest: material.expected_digest.as_ref(),
        want_digest: log_alg,
    })?;
    if let (Some(tv), Some(digest)) = (&tlog, &digest) {
        let expected = cosign_tlog::Expected {
            artifact_digest: Some(digest),
            signature: Some(&material.signature),
            verifier: Some(&key),
            verifier_cert_der: None,
            envelope: None,
        };
        let outcome = ctx.block_on(async {
            Ok(cosign::tlog::verify_signature_entry(
                tv,
                material.entry.as_ref(),
                Some(digest),
                &expected,
            )
            .await?)
        })?;
        if outcome.entry.inactive_key {
            ctx.printer.info(super::tlog::INACTIVE_KEY_INFO);
        }
    }
    ctx.printer.info("Verified OK");
    Ok(())
}

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

/// Decodes standard base64, ignoring line breaks and surrounding whitespace as Go's decoder and
/// `base64`'s wrapped output need.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    STANDARD.decode(compact.as_bytes()).ok()
}

/// `--signature`: a file holding base64, or base64 text itself.
fn read_signature(arg: &str) -> Result<Vec<u8>> {
    let path = Path::new(arg);
    if path.exists() {
        let data = read_small_file(path, "signature file", BUNDLE_LIMIT)?;
        let text = std::str::from_utf8(&data)
            .ok()
            .with_context(|| format!("signature file {arg} does not hold base64 text"))?;
        return decode_b64(text)
            .with_context(|| format!("decoding signature file {arg}: not valid base64"));
    }
    decode_b64(arg).with_context(|| {
        format!("--signature {arg:?} is neither a readable file nor a base64 signature")
    })
}

fn read_bundle(path: &Path, key: &PublicKey) -> Result<SignatureMaterial> {
    let name = path.display();
    let data = read_small_file(path, "bundle file", BUNDLE_LIMIT)?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).with_context(|| format!("bundle {name} is not JSON"))?;
    if value.get("mediaType").is_some() {
        read_sigstore_bundle(&data, &name.to_string())
    } else if value.get("base64Signature").is_some() {
        read_legacy_bundle(&data, &name.to_string(), key)
    } else {
        bail!("bundle {name} is neither a Sigstore bundle nor a cosign legacy bundle");
    }
}

fn read_legacy_bundle(data: &[u8], name: &str, key: &PublicKey) -> Result<SignatureMaterial> {
    let bundle = LocalSignedPayload::from_json(data)
        .with_context(|| format!("parsing legacy bundle {name}"))?;
    let signature = decode_b64(&bundle.base64_signature)
        .with_context(|| format!("bundle {name}: base64Signature is not valid base64"))?;
    if let Some(cert) = &bundle.cert {
        let pem = decode_b64(cert)
            .filter(|b| b.starts_with(b"-----BEGIN"))
            .unwrap_or_else(|| cert.as_bytes().to_vec());
        let bundled = match cosign::keys::pem_label(&pem) {
            Some("CERTIFICATE") => cosign::certs::parse_certificate(&pem, name)?.public_key,
            _ => PublicKey::from_pem(&pem)
                .with_context(|| format!("bundle {name}: reading the public key in `cert`"))?,
        };
        if &bundled != key {
            bail!(
                "bundle {name} names a different key than --key: the blob was not signed with this key"
            );
        }
    }
    let entry = bundle
        .rekor_bundle
        .as_ref()
        .map(cosign_tlog::LogEntry::from_legacy_bundle)
        .transpose()
        .with_context(|| format!("bundle {name}: reading rekorBundle"))?;
    Ok(SignatureMaterial {
        signature,
        expected_digest: None,
        entry,
    })
}

fn read_sigstore_bundle(data: &[u8], name: &str) -> Result<SignatureMaterial> {
    let bundle =
        Bundle::from_json(data).with_context(|| format!("parsing Sigstore bundle {name}"))?;
    if bundle_version(&bundle.media_type).is_none() {
        bail!(
            "bundle {name}: unsupported media type {:?}",
            bundle.media_type
        );
    }
    match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(_) => {}
        _ => bail!(
            "bundle {name} carries a certificate: keyless verification is not supported by this build yet"
        ),
    }
    let BundleContent::MessageSignature(ms) = &bundle.content else {
        bail!("bundle {name} holds a DSSE envelope (an attestation), not a blob signature");
    };
    let expected_digest = match &ms.message_digest {
        Some(md) => {
            let alg = HashAlgorithm::from_proto_name(&md.algorithm).with_context(|| {
                format!(
                    "bundle {name}: unsupported digest algorithm {:?}",
                    md.algorithm
                )
            })?;
            Some(Digest::new(alg, md.digest.clone()).with_context(|| {
                format!("bundle {name}: the message digest has the wrong length for {alg}")
            })?)
        }
        None => None,
    };
    let entry = bundle
        .verification_material
        .tlog_entries
        .first()
        .map(cosign_tlog::LogEntry::from_bundle_entry);
    Ok(SignatureMaterial {
        signature: ms.signature.clone(),
        expected_digest,
        entry,
    })
}
