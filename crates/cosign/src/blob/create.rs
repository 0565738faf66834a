//! `cosign bundle create`: a Sigstore bundle v0.3 assembled from the parts older cosign releases
//! left behind: a signature (or a DSSE envelope), the certificate or key that made it, an RFC
//! 3161 timestamp, and the transparency-log entry, looked up in the log by its content as Go
//! cosign does (the legacy bundle's signed entry timestamp carries no inclusion proof, which a
//! v0.3 bundle needs).
//!
//! The artifact is hashed in one streaming pass. The log's answer is not trusted blindly: only
//! entries whose UUID is the hash of their body, and whose body records this very signature
//! (and, for a plain signature, this artifact's digest), are taken; anything else fails the
//! command before a bundle is written.

use cosign_crypto::PublicKey;
use cosign_tlog::entry::Body;
use cosign_tlog::{LogEntry, RekorClient};
use cosign_types::bundle::{Bundle, BundleContent, MessageDigest, MessageSignature};
use cosign_types::dsse::Envelope;
use cosign_types::{Digest, HashAlgorithm};

use crate::Error;
use crate::blob::BlobInput;
use crate::blob::bundle::verification_material;
use crate::certs::Certificate;

/// The media type Go cosign's `bundle create` writes (bundle v0.3, in its older spelling).
pub const CREATED_BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// What the signature was made over.
#[derive(Clone, Debug)]
pub enum SignedContent {
    /// A plain signature over the artifact (`--signature`, or a legacy bundle's).
    Signature(Vec<u8>),
    /// A DSSE envelope (`--attestation`, or a legacy attestation bundle's), and its JSON as
    /// read: the log recorded those exact bytes, which may be spelled otherwise than Go's.
    Envelope(Envelope, Vec<u8>),
}

/// The parts of a bundle.
#[derive(Debug)]
pub struct CreateParts<'a> {
    /// The signed artifact (hashed for a plain signature's `messageDigest`).
    pub artifact: &'a BlobInput,
    /// The signature or envelope.
    pub content: SignedContent,
    /// The signing certificate, when the signature is keyless (or certified).
    pub certificate: Option<Certificate>,
    /// The public key, when there is no certificate.
    pub key: Option<PublicKey>,
    /// An RFC 3161 timestamp (DER) over the signature.
    pub timestamp: Option<Vec<u8>>,
    /// The log to find the entry in; None with `--ignore-tlog`.
    pub tlog: Option<&'a RekorClient>,
}

/// Assembles the bundle: the artifact's SHA-256 (always SHA-256, as Go cosign), the signer
/// (certificate, else the key's hint), the timestamp, and the one log entry that records the
/// signature.
pub async fn create_bundle(parts: CreateParts<'_>) -> Result<Bundle, Error> {
    let digest = crate::blob::digest_input(parts.artifact, HashAlgorithm::Sha256)?;
    let signer_pem = match (&parts.certificate, &parts.key) {
        // The leaf alone, PEM-encoded afresh (a certificate file may carry its chain).
        (Some(c), _) => cosign_trust::x509::Certificate::from_der(&c.der)
            .map_err(|e| Error::Trust {
                context: "reading the signing certificate".into(),
                source: Box::new(e),
            })?
            .to_pem()
            .into_bytes(),
        (None, Some(k)) => k.to_pem().into_bytes(),
        (None, None) => {
            return Err(Error::Invalid {
                what: "the bundle's signer".into(),
                reason: "no certificate and no public key: give --certificate, --key, or a \
                         --bundle whose cert field holds the certificate"
                    .into(),
            });
        }
    };
    let signer_key = match &parts.certificate {
        Some(c) => c.public_key.clone(),
        None => parts
            .key
            .clone()
            .ok_or(Error::Internal("signer key checked above"))?,
    };
    let entry = match parts.tlog {
        None => None,
        Some(client) => Some(find_entry(client, &parts.content, &digest, &signer_pem).await?),
    };
    let timestamps: Vec<Vec<u8>> = parts.timestamp.into_iter().collect();
    let verification_material = verification_material(
        &signer_key,
        parts.certificate.as_ref(),
        entry.as_ref(),
        &timestamps,
    )?;
    let content = match parts.content {
        SignedContent::Signature(signature) => BundleContent::MessageSignature(MessageSignature {
            message_digest: Some(MessageDigest {
                algorithm: "SHA2_256".into(),
                digest: digest.as_bytes().to_vec(),
            }),
            signature,
        }),
        SignedContent::Envelope(env, _) => {
            let mut env = env;
            // A bundle's envelope carries one signature, as Go cosign writes it.
            env.signatures.truncate(1);
            BundleContent::DsseEnvelope(env)
        }
    };
    Ok(Bundle {
        media_type: CREATED_BUNDLE_MEDIA_TYPE.to_owned(),
        verification_material,
        content,
    })
}

/// Looks the signature up in the log (`POST /api/v1/log/entries/retrieve`): a `hashedrekord`
/// for a plain signature; `dsse` and `intoto` for an envelope. Exactly one matching entry must
/// come back.
async fn find_entry(
    client: &RekorClient,
    content: &SignedContent,
    digest: &Digest,
    signer_pem: &[u8],
) -> Result<LogEntry, Error> {
    let (proposed, signature) = match content {
        SignedContent::Signature(sig) => (
            vec![cosign_tlog::entry::hashedrekord(digest, sig, signer_pem)],
            sig.clone(),
        ),
        SignedContent::Envelope(env, raw) => {
            let sig = env
                .signatures
                .first()
                .map(|s| s.sig.clone())
                .ok_or_else(|| Error::Invalid {
                    what: "the attestation".into(),
                    reason: "the DSSE envelope holds no signature".into(),
                })?;
            // The bytes as read, then Go's spelling (what Go cosign searches for), then the
            // protojson spelling cosign 3 logs: whichever the log recorded.
            let mut proposed = Vec::new();
            for json in [raw.clone(), env.to_json(), env.to_json_compact_new()] {
                for p in [
                    cosign_tlog::entry::dsse(&json, &[signer_pem]),
                    cosign_tlog::entry::intoto(&json, signer_pem),
                ] {
                    if !proposed.contains(&p) {
                        proposed.push(p);
                    }
                }
            }
            (proposed, sig)
        }
    };
    let tlog_err = |context: &str, e| Error::Tlog {
        context: context.to_owned(),
        source: Box::new(e),
    };
    let found = client
        .retrieve_entries(&proposed)
        .await
        .map_err(|e| tlog_err("searching log query", e))?;
    if found.is_empty() {
        return Err(Error::NotFound(
            "signature not found in transparency log".into(),
        ));
    }
    let base = client.base_url().to_string();
    let mut matching: Vec<LogEntry> = Vec::new();
    for entry in found {
        // Go cosign drops entries whose UUID is not the hash of their body; so do we, and
        // entries that record another signature (or, for a plain signature, another digest).
        if !uuid_matches(&entry) || !records(&entry, &signature, content, digest) {
            continue;
        }
        if !matching.iter().any(|m| m.uuid == entry.uuid) {
            matching.push(entry);
        }
    }
    match matching.len() {
        0 => Err(Error::Verification(format!(
            "unable to find tlog entry: the entries {base} returned do not record this signature"
        ))),
        1 => {
            let entry = matching.remove(0);
            if entry.inclusion_proof.is_none() {
                return Err(Error::Verification(format!(
                    "the entry {} returned by {base} has no inclusion proof, which a v0.3 bundle needs",
                    entry.uuid
                )));
            }
            Ok(entry)
        }
        _ => Err(Error::Verification(
            "too many tlog entries; should only have 1".into(),
        )),
    }
}

/// Whether the entry's UUID (its last 64 hex digits; a tree ID may come first) is the RFC 6962
/// leaf hash of its body.
fn uuid_matches(entry: &LogEntry) -> bool {
    let uuid = entry.uuid.to_ascii_lowercase();
    let leaf = &uuid[uuid.len().saturating_sub(64)..];
    let hash: String = entry
        .leaf_hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    leaf == hash
}

/// Whether the entry's body records `signature` (and `digest` for a plain signature).
fn records(entry: &LogEntry, signature: &[u8], content: &SignedContent, digest: &Digest) -> bool {
    let Ok(body) = Body::parse(&entry.body) else {
        return false;
    };
    if let (SignedContent::Signature(_), Body::HashedRekord { digest: d, .. }) = (content, &body)
        && d != digest
    {
        return false;
    }
    if matches!(content, SignedContent::Signature(_)) != matches!(body, Body::HashedRekord { .. }) {
        return false;
    }
    body.signatures().iter().any(|(s, _)| *s == signature)
}
