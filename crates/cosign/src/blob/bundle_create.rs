//! `cosign bundle create`: a Sigstore bundle assembled from the parts older cosign wrote
//! separately (a base64 signature, a certificate, a legacy bundle, an RFC 3161 timestamp
//! file, a DSSE attestation), as Go cosign 3.1.2 assembles it.
//!
//! What Go cosign does, and so this flow does:
//! - The media type is spelled `application/vnd.dev.sigstore.bundle+json;version=0.3`
//!   ([`CREATED_BUNDLE_MEDIA_TYPE`]), not the `.v0.3+json` form `sign-blob` writes.
//! - A DSSE envelope (from `--attestation` or a legacy bundle whose signature is one) becomes
//!   the `dsseEnvelope` content with its first signature only (no `keyid`); otherwise the
//!   content is a message signature over the artifact's SHA-256 digest. The artifact is read
//!   in both cases.
//! - The verification material is the certificate when there is one, else the key's hint.
//! - The log entry is never taken from the legacy bundle: the log is searched for the
//!   signature (`POST /api/v1/log/entries/retrieve` with the proposed `hashedrekord`, or
//!   `dsse` and `intoto` 0.0.1 for an envelope) and the one entry found, with its inclusion
//!   proof, goes into the bundle. Entries whose UUID is not their body's leaf hash are
//!   skipped. Not searching (`ignore_tlog`) is refused when the legacy bundle holds a signed
//!   entry timestamp.
//! - The RFC 3161 timestamp is copied as it is, unchecked; so is the signature.
//!
//! Beyond Go: the entry the log returns must record this signature, artifact (or envelope)
//! and key or certificate ([`cosign_tlog::check_entry_body`]), and an envelope must verify
//! with the key before it is looked up (Go's Rekor client checks that too). Nothing here is a
//! verification of the signature against trust material: `verify-blob` does that.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cosign_crypto::{Hasher, PublicKey};
use cosign_kms::KeyRef;
use cosign_tlog::{Expected, LogEntry, entry};
use cosign_types::bundle::{
    Bundle, BundleContent, MessageDigest, MessageSignature, PublicKeyIdentifier,
    Rfc3161SignedTimestamp, TimestampVerificationData, VerificationMaterial,
    VerificationMaterialContent, X509Certificate,
};
use cosign_types::legacy_bundle::{LocalSignedPayload, Rfc3161Timestamp};
use cosign_types::{
    Digest, Envelope, EnvelopeSignature, GoDsseEnvelope, HashAlgorithm, go_std_decode,
};

use crate::Error;
use crate::keys::EnvLookup;
use crate::tlog::TransparencyLog;

/// The media type Go cosign 3.1.2 gives the bundles `bundle create` writes (bundle v0.3).
pub const CREATED_BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// Largest signature, certificate, bundle, attestation or timestamp file read.
const PART_LIMIT: u64 = 16 << 20;

/// Where the artifact comes from: Go cosign's `LoadFileOrURL` rules, and `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactSource {
    /// `-`: standard input.
    Stdin,
    /// A file path.
    File(PathBuf),
    /// `http://` or `https://`: fetched.
    Url(String),
    /// `env://NAME`: the value of the environment variable `NAME`.
    Env(String),
}

impl ArtifactSource {
    /// Parses `--artifact` as Go cosign does: `-`, then `<scheme>://` (http, https, env; any
    /// other scheme is refused), else a path.
    pub fn parse(arg: &str) -> Result<Self, Error> {
        if arg == "-" {
            return Ok(Self::Stdin);
        }
        match arg.split_once("://") {
            None => Ok(Self::File(PathBuf::from(arg))),
            Some(("http" | "https", _)) => Ok(Self::Url(arg.to_owned())),
            Some(("env", name)) => Ok(Self::Env(name.to_owned())),
            Some((scheme, _)) => Err(Error::Message(format!(
                "loading URL: unrecognized scheme: {scheme}://"
            ))),
        }
    }
}

/// Where the public key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// No key: the bundle names a certificate (or nothing, which is refused).
    None,
    /// `--key`: a public key file, `env://`, URL, KMS, PKCS#11 or Kubernetes reference (parsed
    /// when it is loaded, after the files are read, as Go cosign does).
    Ref(String),
    /// `--sk`: a hardware security key (refused: this build has no PIV support).
    SecurityKey,
}

/// What `cosign bundle create` is given. Paths are `None` when not given (or given empty).
pub struct BundleCreateOptions<'a, L> {
    /// The artifact that was signed, as [`ArtifactSource::parse`] reads it (read in every
    /// case).
    pub artifact: String,
    /// A legacy bundle (`LocalSignedPayload`): its signature (or envelope) and certificate.
    pub legacy_bundle: Option<PathBuf>,
    /// A file holding the base64 signature.
    pub signature: Option<PathBuf>,
    /// A file holding the base64 of the PEM signing certificate.
    pub certificate: Option<PathBuf>,
    /// A DSSE envelope (JSON).
    pub attestation: Option<PathBuf>,
    /// An RFC 3161 timestamp file: `{"SignedRFC3161Timestamp": "<base64 DER>"}`.
    pub rfc3161_timestamp: Option<PathBuf>,
    /// The public key.
    pub key: KeySource,
    /// The log searched for the signature's entry; `None` leaves the log out
    /// (`--ignore-tlog`).
    pub log: Option<L>,
    /// Environment lookups for `env://` references.
    pub env: EnvLookup<'a>,
    /// Timeout of each network request (key and artifact URLs, KMS).
    pub timeout: Duration,
}

/// The signing certificate, as parsed.
struct SigningCert {
    der: Vec<u8>,
    key: PublicKey,
}

/// Creates the bundle. Inputs are read, and their errors reported, in Go cosign's order:
/// legacy bundle, signature, timestamp, certificate, attestation, key, artifact.
pub async fn create_bundle<L: TransparencyLog>(
    opts: &BundleCreateOptions<'_, L>,
) -> Result<Bundle, Error> {
    let mut cert = None;
    let mut envelope = GoDsseEnvelope::default();
    let mut signature = Vec::new();

    if let Some(path) = &opts.legacy_bundle {
        let data = read_part(path)
            .map_err(|e| Error::Message(format!("reading {}: {e}", path.display())))?;
        let legacy = LocalSignedPayload::from_json(&data)
            .map_err(|e| Error::format(format!("parsing legacy bundle {}", path.display()), e))?;
        let has_set = legacy.rekor_bundle.as_ref().is_some_and(|b| {
            b.signed_entry_timestamp_bytes()
                .is_ok_and(|set| !set.is_empty())
        });
        if opts.log.is_none() && has_set {
            return Err(Error::Message(
                "cannot ignore transparency log when the provided bundle contains a Signed Entry Timestamp"
                    .into(),
            ));
        }
        if let Some(text) = &legacy.cert {
            cert = Some(legacy_certificate(text)?);
        }
        if !legacy.base64_signature.is_empty() {
            let decoded = go_base64(legacy.base64_signature.as_bytes())?;
            // A DSSE envelope (attestations) or a plain signature.
            if envelope.unmarshal(&decoded).is_err() {
                signature = decoded;
            }
        }
    }
    if let Some(path) = &opts.signature {
        signature = go_base64(&read_part(path)?)?;
    }
    let mut timestamp = Vec::new();
    if let Some(path) = &opts.rfc3161_timestamp {
        timestamp = Rfc3161Timestamp::from_json(&read_part(path)?)
            .map_err(|e| Error::format(format!("parsing {}", path.display()), e))?
            .signed_rfc3161_timestamp;
    }
    if let Some(path) = &opts.certificate {
        cert = Some(flag_certificate(&read_part(path)?)?);
    }
    if let Some(path) = &opts.attestation {
        envelope
            .unmarshal(&read_part(path)?)
            .map_err(|e| Error::format(format!("parsing {}", path.display()), e))?;
    }
    let key = match &opts.key {
        KeySource::None => None,
        KeySource::Ref(keyref) => {
            let keyref = KeyRef::parse(keyref)?;
            // Go's wording for a key file that cannot be opened.
            if let KeyRef::File(path) = &keyref
                && let Err(e) = std::fs::File::open(path)
            {
                return Err(Error::Message(format!(
                    "loading public key: {}",
                    go_io_error("open", path, &e)
                )));
            }
            Some(crate::keys::load_public_key(&keyref, opts.env, opts.timeout).await?)
        }
        KeySource::SecurityKey => {
            return Err(Error::Unsupported {
                what: "opening piv token: hardware security keys (--sk)".into(),
            });
        }
    };

    let artifact = ArtifactSource::parse(&opts.artifact)?;
    let digest = artifact_digest(&artifact, opts.env, opts.timeout).await?;
    let dsse = envelope.signatures.first().map(|first| {
        Ok::<_, Error>(Envelope {
            payload_type: envelope.payload_type.clone(),
            payload: go_base64(envelope.payload.as_bytes())?,
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: go_base64(first.sig.as_bytes())?,
            }],
        })
    });
    let content = match dsse {
        // Go decodes the signature before the payload.
        Some(env) => BundleContent::DsseEnvelope(env?),
        None => BundleContent::MessageSignature(MessageSignature {
            message_digest: Some(MessageDigest {
                algorithm: HashAlgorithm::Sha256.proto_name().to_owned(),
                digest: digest.as_bytes().to_vec(),
            }),
            signature: signature.clone(),
        }),
    };
    let material = match (&cert, &key) {
        (Some(c), _) => VerificationMaterialContent::Certificate(X509Certificate {
            raw_bytes: c.der.clone(),
        }),
        (None, Some(k)) => VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
            hint: base64_std(&k.hint()),
        }),
        (None, None) => {
            return Err(Error::Message(
                "invalid bundle: validation error: missing verification material".into(),
            ));
        }
    };

    let mut tlog_entries = Vec::new();
    if let Some(log) = &opts.log {
        let verifier = Verifier {
            cert: cert.as_ref(),
            key: key.as_ref(),
        };
        let found = match &content {
            BundleContent::DsseEnvelope(_) => {
                find_envelope_entry(log, &envelope.to_json(), &verifier).await?
            }
            BundleContent::MessageSignature(_) => {
                find_signature_entry(log, &digest, &signature, &verifier).await?
            }
        };
        tlog_entries.push(found.to_bundle_entry().map_err(|e| Error::Tlog {
            context: "recording the log entry in the bundle".into(),
            source: Box::new(e),
        })?);
    }

    Ok(Bundle {
        media_type: CREATED_BUNDLE_MEDIA_TYPE.to_owned(),
        verification_material: VerificationMaterial {
            content: material,
            tlog_entries,
            timestamp_verification_data: (!timestamp.is_empty()).then(|| {
                TimestampVerificationData {
                    rfc3161_timestamps: vec![Rfc3161SignedTimestamp {
                        signed_timestamp: timestamp,
                    }],
                }
            }),
        },
        content,
    })
}

/// The key or certificate the log entry must name.
struct Verifier<'a> {
    cert: Option<&'a SigningCert>,
    key: Option<&'a PublicKey>,
}

impl Verifier<'_> {
    /// PEM as Go cosign sends it to the log: the certificate, else the key.
    fn pem(&self) -> Vec<u8> {
        match (self.cert, self.key) {
            (Some(c), _) => pem_encode("CERTIFICATE", &c.der).into_bytes(),
            (None, Some(k)) => k.to_pem().into_bytes(),
            (None, None) => Vec::new(),
        }
    }

    fn public_key(&self) -> Option<&PublicKey> {
        self.cert.map(|c| &c.key).or(self.key)
    }

    fn expected<'a>(&'a self, base: Expected<'a>) -> Expected<'a> {
        match self.cert {
            Some(c) => Expected {
                verifier_cert_der: Some(&c.der),
                ..base
            },
            None => Expected {
                verifier: self.key,
                ..base
            },
        }
    }
}

async fn find_signature_entry<L: TransparencyLog>(
    log: &L,
    digest: &Digest,
    signature: &[u8],
    verifier: &Verifier<'_>,
) -> Result<LogEntry, Error> {
    let proposed = [entry::hashedrekord(digest, signature, &verifier.pem())];
    let expected = verifier.expected(Expected {
        artifact_digest: Some(digest),
        signature: Some(signature),
        ..Expected::default()
    });
    the_entry(log, &proposed, &expected).await
}

async fn find_envelope_entry<L: TransparencyLog>(
    log: &L,
    envelope_json: &[u8],
    verifier: &Verifier<'_>,
) -> Result<LogEntry, Error> {
    let pem = verifier.pem();
    let proposed = [
        entry::dsse(envelope_json, &[&pem]),
        entry::intoto_v001(envelope_json, &pem),
    ];
    // Rekor's client verifies the envelope with the key before it proposes it.
    if let Some(key) = verifier.public_key() {
        check_envelope_signatures(envelope_json, key)?;
    }
    let expected = verifier.expected(Expected {
        envelope: Some(envelope_json),
        ..Expected::default()
    });
    the_entry(log, &proposed, &expected).await
}

/// Every signature of the envelope must verify with `key`, as Rekor's `dsse` type requires.
fn check_envelope_signatures(envelope_json: &[u8], key: &PublicKey) -> Result<(), Error> {
    let env = Envelope::from_json(envelope_json)
        .map_err(|e| Error::format("payload must be a valid DSSE envelope", e))?;
    let pae = env.pae();
    let schemes = crate::image::verify::schemes_for(key);
    let verified = env
        .signatures
        .iter()
        .filter(|s| {
            schemes
                .iter()
                .any(|scheme| key.verify_message(*scheme, &pae, &s.sig).is_ok())
        })
        .count();
    if verified == 0 {
        return Err(Error::Message(
            "could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1"
                .into(),
        ));
    }
    if verified < env.signatures.len() {
        return Err(Error::Message(
            "all signatures must have a key that verifies it".into(),
        ));
    }
    Ok(())
}

/// Searches the log for the proposed entries and returns the one entry found, as Go cosign
/// picks it (entries whose UUID is not their leaf hash skipped), checked against `expected`.
async fn the_entry<L: TransparencyLog>(
    log: &L,
    proposed: &[serde_json::Value],
    expected: &Expected<'_>,
) -> Result<LogEntry, Error> {
    let found = log
        .retrieve_entries(proposed)
        .await
        .map_err(|e| Error::Tlog {
            context: "searching log query".into(),
            source: Box::new(e),
        })?;
    if found.is_empty() {
        return Err(Error::NotFound(
            "signature not found in transparency log".into(),
        ));
    }
    let mut consistent: Vec<LogEntry> = found.into_iter().filter(uuid_is_leaf_hash).collect();
    let entry = match consistent.len() {
        0 => return Err(Error::NotFound("unable to find tlog entry".into())),
        1 => consistent.remove(0),
        _ => {
            return Err(Error::Message(
                "too many tlog entries; should only have 1".into(),
            ));
        }
    };
    cosign_tlog::check_entry_body(&entry, expected).map_err(|e| Error::Tlog {
        context: format!(
            "the transparency log answered with entry {} that is not the one searched for",
            entry.uuid
        ),
        source: Box::new(e),
    })?;
    if entry.inclusion_proof.is_none() {
        return Err(Error::Message(format!(
            "the transparency log entry {} has no inclusion proof",
            entry.uuid
        )));
    }
    Ok(entry)
}

/// Go cosign's filter on search results: the UUID (or entry ID) ends in the leaf hash of the
/// body.
fn uuid_is_leaf_hash(entry: &LogEntry) -> bool {
    let leaf: String = entry
        .leaf_hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    cosign_tlog::is_entry_uuid(&entry.uuid)
        && entry.uuid[entry.uuid.len() - 64..].eq_ignore_ascii_case(&leaf)
}

/// Reads an input file as Go's `os.ReadFile` (errors worded as Go words them), capped.
fn read_part(path: &Path) -> Result<Vec<u8>, Error> {
    let file = std::fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
    let mut data = Vec::new();
    file.take(PART_LIMIT + 1)
        .read_to_end(&mut data)
        .map_err(|e| go_io_error("read", path, &e))?;
    if data.len() as u64 > PART_LIMIT {
        return Err(Error::TooLarge {
            what: "input file",
            path: path.to_owned(),
            limit: PART_LIMIT,
        });
    }
    Ok(data)
}

/// `op path: text` as Go's `*PathError` prints (`open x: no such file or directory`).
fn go_io_error(op: &str, path: &Path, err: &std::io::Error) -> Error {
    let text = err.to_string();
    let text = text
        .split_once(" (os error")
        .map_or(text.as_str(), |(t, _)| t);
    let mut chars = text.chars();
    let text = chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().collect::<String>() + chars.as_str()
    });
    Error::Message(format!("{op} {}: {text}", path.display()))
}

fn go_base64(text: &[u8]) -> Result<Vec<u8>, Error> {
    go_std_decode(text).map_err(|e| Error::Message(e.to_string()))
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_std(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A certificate from DER, with Go's x509 wording for what is not one.
fn parse_der_certificate(label: &str, der: &[u8]) -> Result<SigningCert, Error> {
    match PublicKey::from_certificate_der(der) {
        Ok(key) => Ok(SigningCert {
            der: der.to_vec(),
            key,
        }),
        // Go's parser meets the key's algorithm where a certificate has its serial number.
        Err(_) if label == "PUBLIC KEY" => {
            Err(Error::Message("x509: malformed serial number".into()))
        }
        Err(e) => Err(Error::Message(format!("x509: malformed certificate: {e}"))),
    }
}

/// The `cert` of a legacy bundle: base64 of PEM certificates, the first one used (Go's
/// `UnmarshalCertificatesFromPEM`: every block must be a certificate).
fn legacy_certificate(text: &str) -> Result<SigningCert, Error> {
    let pem = go_base64(text.as_bytes())?;
    let pem = String::from_utf8_lossy(&pem);
    let trimmed = pem.trim();
    if trimmed.is_empty() {
        return Err(Error::Message("no certs found in bundle".into()));
    }
    let blocks = crate::certs::pem_blocks(trimmed)
        .ok()
        .filter(|b| !b.is_empty() && trimmed.starts_with("-----BEGIN "))
        .ok_or_else(|| Error::Message("error during PEM decoding".into()))?;
    let mut first = None;
    for (label, der) in &blocks {
        let cert = parse_der_certificate(label, der)?;
        first.get_or_insert(cert);
    }
    first.ok_or_else(|| Error::Message("no certs found in bundle".into()))
}

/// `--certificate`: the file holds base64 of PEM; the first PEM block is the certificate.
fn flag_certificate(data: &[u8]) -> Result<SigningCert, Error> {
    let pem = go_base64(data)?;
    let pem = String::from_utf8_lossy(&pem);
    let (label, der) = crate::certs::pem_blocks(&pem)
        .ok()
        .and_then(|b| b.into_iter().next())
        .ok_or_else(|| Error::Message("unable to decode provided certificate".into()))?;
    parse_der_certificate(&label, &der)
}

/// The SHA-256 digest of the artifact, read once.
async fn artifact_digest(
    source: &ArtifactSource,
    env: EnvLookup<'_>,
    timeout: Duration,
) -> Result<Digest, Error> {
    let mut hasher = Hasher::new(HashAlgorithm::Sha256);
    match source {
        ArtifactSource::Stdin => {
            super::pump(
                &mut std::io::stdin().lock(),
                Path::new("standard input"),
                &mut |c| hasher.update(c),
            )?;
        }
        ArtifactSource::File(path) => {
            if path.is_dir() {
                return Err(Error::Message(format!(
                    "read {}: is a directory",
                    path.display()
                )));
            }
            let mut file = std::fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
            super::pump(&mut file, path, &mut |c| hasher.update(c))?;
        }
        ArtifactSource::Env(name) => {
            let value = env(name)
                .ok_or_else(|| Error::Message(format!("loading URL: env var ${name} not found")))?;
            hasher.update(value.as_bytes());
        }
        ArtifactSource::Url(url) => fetch_into(url, timeout, &mut hasher).await?,
    }
    Ok(hasher.finish())
}

/// Streams the body of a GET of `url` into `hasher`.
async fn fetch_into(url: &str, timeout: Duration, hasher: &mut Hasher) -> Result<(), Error> {
    let http_err = |reason: String| Error::Http {
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| http_err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| http_err(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Message(format!(
            "loading URL {url}: server returned HTTP {}",
            status.as_u16()
        )));
    }
    while let Some(chunk) = resp.chunk().await.map_err(|e| http_err(e.to_string()))? {
        hasher.update(&chunk);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_sources_follow_go() {
        assert_eq!(ArtifactSource::parse("-").unwrap(), ArtifactSource::Stdin);
        assert_eq!(
            ArtifactSource::parse("a/b.txt").unwrap(),
            ArtifactSource::File("a/b.txt".into())
        );
        // A digest is a file name here: bundle create reads the artifact.
        assert_eq!(
            ArtifactSource::parse("sha256:abcd").unwrap(),
            ArtifactSource::File("sha256:abcd".into())
        );
        assert_eq!(
            ArtifactSource::parse("https://x/y").unwrap(),
            ArtifactSource::Url("https://x/y".into())
        );
        assert_eq!(
            ArtifactSource::parse("env://BLOB").unwrap(),
            ArtifactSource::Env("BLOB".into())
        );
        assert_eq!(
            ArtifactSource::parse("s3://b/k").unwrap_err().to_string(),
            "loading URL: unrecognized scheme: s3://"
        );
    }

    #[test]
    fn certificates_are_base64_of_pem() {
        // Plain PEM is refused as Go refuses it (base64 first).
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            flag_certificate(pem.as_bytes())
                .err()
                .map(|e| e.to_string()),
            Some("illegal base64 data at input byte 0".to_owned())
        );
        assert_eq!(
            flag_certificate(base64_std(b"no pem here").as_bytes())
                .err()
                .map(|e| e.to_string()),
            Some("unable to decode provided certificate".to_owned())
        );
        let key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            legacy_certificate(&base64_std(key.as_bytes()))
                .err()
                .map(|e| e.to_string()),
            Some("x509: malformed serial number".to_owned())
        );
        assert_eq!(
            legacy_certificate(&base64_std(b"  \n"))
                .err()
                .map(|e| e.to_string()),
            Some("no certs found in bundle".to_owned())
        );
        assert_eq!(
            legacy_certificate(&base64_std(b"junk"))
                .err()
                .map(|e| e.to_string()),
            Some("error during PEM decoding".to_owned())
        );
    }

    #[test]
    fn pem_lines_are_64_columns() {
        let pem = pem_encode("CERTIFICATE", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
    }
}
