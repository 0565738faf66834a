//! The witnesses of a signature: the transparency logs that record it (Rekor v1, Rekor v2) and
//! the RFC 3161 timestamp authorities that date it.
//!
//! All requests for one signature go out at once (the log and every TSA), so keyless signing
//! costs one round trip for them together. Nothing they answer is trusted: every timestamp is
//! verified over the bytes it must cover against the trusted root's timestamp authorities,
//! and every log entry against the trusted log keys and what was sent (a Rekor v2 entry, which
//! has no signed time, at the time of a verified timestamp). A witness that fails or lies fails
//! the signing before anything is stored.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cosign_crypto::PublicKey;
use cosign_tlog::entry::{V2Verifier, default_key_details};
use cosign_tlog::{Expected, LogEntry, TlogError, TrustedLogs};
use cosign_trust::trusted_root::TrustedRoot;
use cosign_types::Digest;

use crate::Error;
use crate::attestation::RekorEntryType;
use crate::certs::Certificate;
use crate::tlog::{LogFuture, TlogUpload};

/// The future a [`TimestampAuthority`] returns: the DER timestamp as the authority answered
/// it, or why not.
pub type TimestampFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// The future of a service's warm-up (see [`Witnesses::warm`]).
pub type WarmFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// An RFC 3161 timestamp authority (`--timestamp-server-url`, a signing config's `tsaUrls`).
pub trait TimestampAuthority: Send + Sync {
    /// Where it is (for errors).
    fn url(&self) -> &str;
    /// A timestamp over `data` (the authority hashes nothing: the request carries the
    /// SHA-256 of `data`).
    fn timestamp<'a>(&'a self, data: &'a [u8]) -> TimestampFuture<'a>;
    /// Opens a connection ahead of the first request (default: nothing).
    fn warm(&self) -> WarmFuture<'_> {
        Box::pin(async {})
    }
}

/// What the flows ask of a Rekor v2 log (`POST /api/v2/log/entries`). Answers are not
/// trusted: the entry is verified against the trusted log keys at a verified timestamp's time.
pub trait TransparencyLogV2: Send + Sync {
    /// Where it is (for errors).
    fn url(&self) -> &str;
    /// Records a `hashedrekord` 0.0.2 entry (DSSE envelopes too, as cosign 3 logs them to
    /// Rekor v2: the digest of the envelope's PAE with its signature).
    fn create_hashedrekord<'a>(
        &'a self,
        digest: &'a Digest,
        signature: &'a [u8],
        verifier: &'a V2Verifier,
    ) -> LogFuture<'a, LogEntry>;
    /// Opens a connection ahead of the first request (default: nothing).
    fn warm(&self) -> WarmFuture<'_> {
        Box::pin(async {})
    }
}

/// A Rekor v2 log to record in, with the keys its answers must verify with.
#[derive(Clone)]
pub struct TlogUploadV2 {
    /// The log.
    pub client: Arc<dyn TransparencyLogV2>,
    /// Its trusted keys (from the trusted root, which names its checkpoint origin).
    pub trusted: TrustedLogs,
}

/// Timestamp authorities, with the trusted root that must vouch for their answers.
#[derive(Clone)]
pub struct Timestamping {
    /// The authorities; each is asked, and each answer must verify.
    pub authorities: Vec<Arc<dyn TimestampAuthority>>,
    /// The trusted root whose timestamp authorities check the answers.
    pub trusted_root: Arc<TrustedRoot>,
}

/// Where a signature is recorded and dated. The default records nowhere
/// (`--tlog-upload=false` and no timestamp authority).
#[derive(Clone, Default)]
pub struct Witnesses {
    /// Rekor v1 (`--rekor-url`, a signing config's v1 log).
    pub tlog: Option<TlogUpload>,
    /// Rekor v2 (a signing config's v2 log).
    pub tlog_v2: Option<TlogUploadV2>,
    /// RFC 3161 timestamp authorities.
    pub timestamps: Option<Timestamping>,
}

impl std::fmt::Debug for Witnesses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witnesses")
            .field(
                "tlog",
                &self.tlog.as_ref().map(|t| t.client.base_url().to_string()),
            )
            .field(
                "tlog_v2",
                &self.tlog_v2.as_ref().map(|t| t.client.url().to_owned()),
            )
            .field(
                "timestamps",
                &self.timestamps.as_ref().map(|t| {
                    t.authorities
                        .iter()
                        .map(|a| a.url().to_owned())
                        .collect::<Vec<_>>()
                }),
            )
            .finish()
    }
}

/// What was signed, as the log records it.
#[derive(Clone, Copy, Debug)]
pub enum Signed<'a> {
    /// A signature over an artifact's digest (`hashedrekord`).
    Message {
        /// The artifact digest the log records.
        digest: &'a Digest,
        /// The raw signature.
        signature: &'a [u8],
    },
    /// A DSSE envelope (`dsse`, or `intoto` on Rekor v1 when asked).
    Envelope {
        /// The envelope JSON as stored.
        json: &'a [u8],
        /// Its (only) signature.
        signature: &'a [u8],
        /// The Rekor v1 entry type.
        entry_type: RekorEntryType,
        /// The envelope's PAE (what the signature covers; Rekor v2 records its digest).
        pae: &'a [u8],
    },
}

/// What the witnesses returned, verified.
#[derive(Clone, Debug, Default)]
pub struct Witnessed {
    /// The log entry (Rekor v1 or v2), verified.
    pub entry: Option<LogEntry>,
    /// The RFC 3161 timestamps as the authorities answered them (DER), verified.
    pub timestamps: Vec<Vec<u8>>,
    /// Their times (Unix seconds), in the same order.
    pub times: Vec<i64>,
}

/// Who signed, as the log records it.
#[derive(Clone, Copy, Debug)]
pub struct SignedBy<'a> {
    /// The signing key's public key.
    pub key: &'a PublicKey,
    /// Its certificate (keyless, `--certificate`, a token's).
    pub certificate: Option<&'a Certificate>,
    /// The PEM the Rekor v1 entry names: the certificate, else the key.
    pub verifier_pem: &'a str,
}

impl Witnesses {
    /// Records in a Rekor v1 log only (what key-based signing did before signing configs).
    pub fn v1(tlog: Option<TlogUpload>) -> Self {
        Self {
            tlog,
            ..Self::default()
        }
    }

    /// Opens a connection to every service (log, timestamp authorities) at once, ahead of
    /// the signing: run beside the steps that come before (the identity token, Fulcio), it
    /// takes the handshakes off the critical path. Failures are ignored (the real request
    /// reports them).
    pub async fn warm(&self) {
        let mut all: Vec<WarmFuture<'_>> = Vec::new();
        if let Some(t) = &self.tlog {
            all.push(Box::pin(t.client.warm()));
        }
        if let Some(t) = &self.tlog_v2 {
            all.push(t.client.warm());
        }
        if let Some(t) = &self.timestamps {
            all.extend(t.authorities.iter().map(|a| a.warm()));
        }
        futures_util::future::join_all(all).await;
    }

    /// Whether a transparency log records the signature (Ed25519 keys then sign a digest).
    pub fn logs(&self) -> bool {
        self.tlog.is_some() || self.tlog_v2.is_some()
    }

    /// Whether anything witnesses the signature.
    pub fn any(&self) -> bool {
        self.logs() || self.timestamps.is_some()
    }

    /// The Rekor v1 log, when that is where entries go (legacy storage needs its SET).
    pub fn v1_log(&self) -> Option<&TlogUpload> {
        self.tlog.as_ref()
    }

    /// Records and dates a signature: the log entry and every timestamp (over `stamped`, the
    /// bytes the timestamp must cover: the raw signature, or for legacy attestation layers the
    /// envelope) are requested at once, then each answer is verified.
    pub async fn witness(
        &self,
        signed: Signed<'_>,
        by: SignedBy<'_>,
        stamped: &[u8],
    ) -> Result<Witnessed, Error> {
        let stamps = self.stamp(stamped);
        let log = self.log(signed, by);
        let (stamps, log) = futures_util::future::join(stamps, log).await;
        let (timestamps, times) = stamps?;
        let entry = match log? {
            Logged::None => None,
            Logged::Verified(entry) => Some(entry),
            Logged::V2(entry) => Some(self.check_v2(&entry, signed, by, &times)?),
        };
        Ok(Witnessed {
            entry,
            timestamps,
            times,
        })
    }

    async fn stamp(&self, stamped: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<i64>), Error> {
        let Some(ts) = &self.timestamps else {
            return Ok((Vec::new(), Vec::new()));
        };
        let answers = futures_util::future::join_all(
            ts.authorities
                .iter()
                .map(|a| async move { (a.url(), a.timestamp(stamped).await) }),
        )
        .await;
        let mut tokens = Vec::with_capacity(answers.len());
        for (url, answer) in answers {
            let token = answer
                .map_err(|e| Error::Verification(format!("getting a timestamp from {url}: {e}")))?;
            let times = crate::timestamps::verify_timestamps(
                std::slice::from_ref(&token),
                stamped,
                Some(&ts.trusted_root),
                &format!("the timestamp from {url}"),
            )?;
            tokens.push((token, times[0]));
        }
        Ok(tokens.into_iter().unzip())
    }

    async fn log(&self, signed: Signed<'_>, by: SignedBy<'_>) -> Result<Logged, Error> {
        if let Some(up) = &self.tlog {
            let pem = by.verifier_pem.as_bytes();
            let entry = match signed {
                Signed::Message { digest, signature } => {
                    crate::tlog::upload_hashedrekord(up, digest, signature, by.key, pem).await?
                }
                Signed::Envelope {
                    json,
                    signature,
                    entry_type: RekorEntryType::Dsse,
                    ..
                } => crate::tlog::upload_dsse(up, json, signature, by.key, pem).await?,
                Signed::Envelope {
                    json,
                    signature,
                    entry_type: RekorEntryType::Intoto,
                    ..
                } => crate::tlog::upload_intoto(up, json, signature, by.key, pem).await?,
            };
            return Ok(Logged::Verified(entry));
        }
        let Some(v2) = &self.tlog_v2 else {
            return Ok(Logged::None);
        };
        let verifier =
            v2_verifier(by).map_err(tlog_err(v2.client.url(), "describing the signer"))?;
        let (digest, signature) = v2_signed(signed, by.key)?;
        let entry = v2
            .client
            .create_hashedrekord(&digest, signature, &verifier)
            .await
            .map_err(tlog_err(v2.client.url(), "recording the signature"))?;
        Ok(Logged::V2(entry))
    }

    /// A Rekor v2 entry has no signed time: it is verified at the time of a verified
    /// timestamp, so one is required.
    fn check_v2(
        &self,
        entry: &LogEntry,
        signed: Signed<'_>,
        by: SignedBy<'_>,
        times: &[i64],
    ) -> Result<LogEntry, Error> {
        let v2 = self
            .tlog_v2
            .as_ref()
            .ok_or_else(|| Error::Internal("a Rekor v2 entry without a Rekor v2 log"))?;
        let Some(&time) = times.first() else {
            return Err(Error::Verification(format!(
                "{} is a Rekor v2 log, whose entries carry no signed time: a timestamp authority is needed to sign with it",
                v2.client.url()
            )));
        };
        let (digest, signature) = v2_signed(signed, by.key)?;
        let expected = Expected {
            artifact_digest: Some(&digest),
            signature: Some(signature),
            verifier: Some(by.key),
            verifier_cert_der: None,
            envelope: None,
        };
        cosign_tlog::verify_entry_at(entry, &v2.trusted, &expected, time)
            .map_err(tlog_err(v2.client.url(), "checking the log's answer"))?;
        Ok(entry.clone())
    }
}

/// The `dev.sigstore.cosign/rfc3161timestamp` annotation of a legacy layer (and the
/// `--rfc3161-timestamp` file): `{"SignedRFC3161Timestamp":"<base64 DER>"}`.
pub fn rfc3161_annotation(der: &[u8]) -> String {
    let json = cosign_types::legacy_bundle::Rfc3161Timestamp {
        signed_rfc3161_timestamp: der.to_vec(),
    }
    .to_json();
    String::from_utf8_lossy(&json).into_owned()
}

enum Logged {
    None,
    Verified(LogEntry),
    V2(LogEntry),
}

fn tlog_err(url: &str, what: &str) -> impl FnOnce(TlogError) -> Error {
    let context = format!("{what} in the Rekor v2 log {url}");
    move |e| Error::Tlog {
        context,
        source: Box::new(e),
    }
}

/// What a Rekor v2 `hashedrekord` entry records: the artifact digest and signature, or for an
/// envelope the digest of its PAE (with the hash of the key's Rekor v2 key details).
fn v2_signed<'a>(signed: Signed<'a>, key: &PublicKey) -> Result<(Digest, &'a [u8]), Error> {
    match signed {
        Signed::Message { digest, signature } => Ok((digest.clone(), signature)),
        Signed::Envelope { signature, pae, .. } => {
            let (_, alg) = default_key_details(key).ok_or_else(|| Error::Invalid {
                what: format!("a {} key", key.key_type()),
                reason: "Rekor v2 has no key details for it".into(),
            })?;
            Ok((cosign_crypto::hash(alg, pae), signature))
        }
    }
}

/// The Rekor v2 verifier for the signer: its certificate when it has one, else its key.
fn v2_verifier(by: SignedBy<'_>) -> Result<V2Verifier, TlogError> {
    match by.certificate {
        Some(cert) => V2Verifier::from_certificate_der(&cert.der),
        None => V2Verifier::from_public_key(by.key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_witnesses_by_default() {
        let w = Witnesses::default();
        assert!(!w.logs());
        assert!(!w.any());
    }
}
