//! The files that carry a blob's signature: `--signature` (base64, in a file or inline) and
//! `--bundle` (a Sigstore bundle or cosign's legacy JSON, told apart by content), read for
//! `verify-blob` and `verify-blob-attestation` alike; and the verification material written into
//! the Sigstore bundles that `sign-blob`, `attest-blob` and `attest` make.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;
use cosign_tlog::LogEntry;
use cosign_types::bundle::{
    Bundle, PublicKeyIdentifier, VerificationMaterial, VerificationMaterialContent, X509Certificate,
};
use cosign_types::legacy_bundle::LocalSignedPayload;

use crate::Error;
use crate::certs::Certificate;

/// Largest `--signature` file or blob-signature bundle read.
pub const BUNDLE_LIMIT: u64 = 16 << 20;

/// A `--bundle` file, by kind.
#[derive(Clone, Debug)]
pub enum BundleFile {
    /// A Sigstore bundle (`mediaType` present), of a version this build reads.
    Sigstore(Box<Bundle>),
    /// cosign's legacy bundle (`base64Signature` present).
    Legacy(Box<LegacyBundle>),
}

/// A legacy bundle with its fields decoded.
#[derive(Clone, Debug)]
pub struct LegacyBundle {
    /// The decoded `base64Signature` (a raw signature, or an envelope's JSON for attestations).
    pub signature: Vec<u8>,
    /// The log entry in `rekorBundle`.
    pub entry: Option<LogEntry>,
    /// The key of `cert` (a certificate's key, or a PEM public key), when it is set.
    pub key: Option<PublicKey>,
    /// `cert`, when it holds a certificate (and possibly its chain).
    pub certificate: Option<crate::keyless::SigningCertificate>,
}

/// Reads and parses a `--bundle` file of at most `limit` bytes. `name` is how errors name it
/// (`bundle FILE`).
pub fn read_bundle(path: &Path, limit: u64) -> Result<(String, BundleFile), Error> {
    let name = format!("bundle {}", path.display());
    let data = crate::fsutil::read_input(path, "bundle", limit)?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).map_err(|_| Error::format(&name, "not JSON"))?;
    if value.get("mediaType").is_some() {
        let bundle =
            Bundle::from_json(&data).map_err(|e| Error::format(format!("parsing {name}"), e))?;
        if bundle.version().is_none() {
            return Err(Error::format(
                &name,
                format!("unsupported media type {:?}", bundle.media_type),
            ));
        }
        return Ok((name, BundleFile::Sigstore(Box::new(bundle))));
    }
    if value.get("base64Signature").is_none() {
        return Err(Error::format(
            &name,
            "neither a Sigstore bundle nor a cosign legacy bundle",
        ));
    }
    let legacy = read_legacy(&data, &name)?;
    Ok((name, BundleFile::Legacy(Box::new(legacy))))
}

fn read_legacy(data: &[u8], name: &str) -> Result<LegacyBundle, Error> {
    let bundle = LocalSignedPayload::from_json(data)
        .map_err(|e| Error::format(format!("parsing legacy {name}"), e))?;
    let signature = decode_b64(&bundle.base64_signature)
        .ok_or_else(|| Error::format(name, "base64Signature is not valid base64"))?;
    let mut certificate = None;
    let key = match bundle.cert.as_deref().filter(|c| !c.trim().is_empty()) {
        None => None,
        Some(cert) => {
            let pem = decode_b64(cert)
                .filter(|b| b.starts_with(b"-----BEGIN"))
                .unwrap_or_else(|| cert.as_bytes().to_vec());
            Some(match crate::keys::pem_label(&pem) {
                Some("CERTIFICATE") => {
                    let key = crate::certs::parse_certificate(&pem, name)?.public_key;
                    certificate = Some(crate::keyless::SigningCertificate::from_pem(&pem, name)?);
                    key
                }
                _ => PublicKey::from_pem(&pem).map_err(|e| {
                    Error::crypto(format!("{name}: reading the public key in `cert`"), e)
                })?,
            })
        }
    };
    let entry = bundle
        .rekor_bundle
        .as_ref()
        .map(LogEntry::from_legacy_bundle)
        .transpose()
        .map_err(|e| Error::Tlog {
            context: format!("{name}: reading rekorBundle"),
            source: Box::new(e),
        })?;
    Ok(LegacyBundle {
        signature,
        entry,
        key,
        certificate,
    })
}

impl LegacyBundle {
    /// With a key: fails when the bundle's `cert` names a key other than `key` (`what`: the
    /// blob, the attestation). Keyless: fails when `cert` holds a bare public key (Go cosign
    /// would verify with it; a key in the bundle proves no identity). Returns the certificate
    /// to verify with.
    pub fn check_authority(
        &self,
        name: &str,
        authority: &crate::keyless::Authority,
        what: &str,
    ) -> Result<Option<crate::keyless::SigningCertificate>, Error> {
        match (authority, &self.key) {
            (crate::keyless::Authority::Key(key), Some(bundled)) if bundled != key => {
                Err(Error::Verification(format!(
                    "{name} names a different key than --key: {what} was not signed with this key"
                )))
            }
            (crate::keyless::Authority::Certificate(_), Some(_)) if self.certificate.is_none() => {
                Err(Error::Verification(format!(
                    "{name} holds a public key, not a certificate: verify it with --key"
                )))
            }
            _ => Ok(self.certificate.clone()),
        }
    }
}

/// Decodes standard base64, ignoring line breaks and surrounding whitespace as Go's decoder and
/// `base64`'s wrapped output need. None for empty or invalid text.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    STANDARD.decode(compact.as_bytes()).ok()
}

/// A signature argument: `-` (standard input), a file holding base64, or the base64 text
/// itself. Line breaks and surrounding spaces in the base64 are ignored.
pub fn read_signature(arg: &str) -> Result<Vec<u8>, Error> {
    let path = Path::new(arg);
    let from_input = arg == "-" || path.exists();
    let text = if from_input {
        let data = crate::fsutil::read_input(path, "signature file", BUNDLE_LIMIT)?;
        String::from_utf8(data).map_err(|_| Error::Invalid {
            what: format!("signature file {arg}"),
            reason: "does not hold base64 text".into(),
        })?
    } else {
        arg.to_owned()
    };
    if text.trim().is_empty() {
        return Err(Error::Invalid {
            what: format!("signature {arg}"),
            reason: "empty".into(),
        });
    }
    decode_b64(&text).ok_or_else(|| Error::Invalid {
        what: if from_input {
            format!("decoding signature file {arg}")
        } else {
            format!("signature {arg:?}")
        },
        reason: if from_input {
            "not valid base64".into()
        } else {
            "neither a readable file nor a base64 signature".into()
        },
    })
}

/// The verification material of a Sigstore bundle v0.3: the certificate when there is one,
/// else the key's hint; the log entry; the RFC 3161 timestamps (DER) over the signature.
pub fn verification_material(
    key: &PublicKey,
    certificate: Option<&Certificate>,
    entry: Option<&LogEntry>,
    timestamps: &[Vec<u8>],
) -> Result<VerificationMaterial, Error> {
    let tlog_entries = match entry {
        Some(e) => vec![e.to_bundle_entry().map_err(|e| Error::Tlog {
            context: "recording the log entry in the bundle".into(),
            source: Box::new(e),
        })?],
        None => Vec::new(),
    };
    let content = match certificate {
        Some(c) => VerificationMaterialContent::Certificate(X509Certificate {
            raw_bytes: c.der.clone(),
        }),
        None => VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
            hint: STANDARD.encode(key.hint()),
        }),
    };
    Ok(VerificationMaterial {
        content,
        tlog_entries,
        timestamp_verification_data: (!timestamps.is_empty()).then(|| {
            cosign_types::bundle::TimestampVerificationData {
                rfc3161_timestamps: timestamps
                    .iter()
                    .map(|der| cosign_types::bundle::Rfc3161SignedTimestamp {
                        signed_timestamp: der.clone(),
                    })
                    .collect(),
            }
        }),
    })
}
