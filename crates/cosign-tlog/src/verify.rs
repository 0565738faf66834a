//! Offline verification of a log entry: the log's promise (signed entry timestamp) and/or proof
//! (inclusion proof + signed checkpoint) with a trusted log key, and the binding of the entry to
//! the artifact, signature and key being verified.
//!
//! The binding is what cosign's advisories are about: a valid entry proves nothing unless it is
//! *this* signature's entry (GHSA-ccxc-vr6p-4858, GHSA-8gw7-4j42-w388, GHSA-whqx-f9j3-ch6m).
//! So every path compares the body with what the caller expects before succeeding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;
use cosign_types::{Digest, Envelope};

use crate::checkpoint::{Checkpoint, verify_note};
use crate::entry::Body;
use crate::log_entry::{InclusionProof, LogEntry, is_entry_id};
use crate::merkle::{Hash, verify_inclusion};
use crate::note;
use crate::pem::parse_verifier;
use crate::trusted_root::TrustedRoot;
use crate::{TlogError, set};

/// A log key a verifier trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedLog {
    /// The log's public key.
    pub key: PublicKey,
    /// The log ID entries name (SHA-256 of the key's SPKI DER for Rekor v1).
    pub log_id: [u8; 32],
    /// Start of the key's validity (Unix seconds), if bounded.
    pub valid_from: Option<i64>,
    /// End of the key's validity (Unix seconds), if bounded.
    pub valid_until: Option<i64>,
}

/// The log keys a verifier trusts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedLogs {
    logs: Vec<TrustedLog>,
    /// `(log ID, checkpoint origin)` of the logs whose base URL is known (Rekor v2 logs sign
    /// their checkpoints as the host of their base URL).
    origins: Vec<([u8; 32], String)>,
}

impl TrustedLogs {
    /// The `tlogs` of a trusted root.
    pub fn from_trusted_root(root: &TrustedRoot) -> Self {
        let origins = root
            .tlogs
            .iter()
            .filter_map(|t| note::origin_from_base_url(&t.base_url).map(|o| (t.log_id, o)))
            .collect();
        Self {
            origins,
            logs: root
                .tlogs
                .iter()
                .map(|t| TrustedLog {
                    key: t.public_key.clone(),
                    log_id: t.log_id,
                    valid_from: t.valid_from,
                    valid_until: t.valid_until,
                })
                .collect(),
        }
    }

    /// One key, always valid, with log ID SHA-256 of its SPKI DER
    /// (`SIGSTORE_REKOR_PUBLIC_KEY`, or a log's own `/api/v1/log/publicKey`).
    pub fn from_public_key(key: PublicKey) -> Self {
        Self {
            logs: vec![TrustedLog {
                log_id: key.hint(),
                key,
                valid_from: None,
                valid_until: None,
            }],
            origins: Vec::new(),
        }
    }

    /// Names the checkpoint origin of the log `log_id` (for Rekor v2 logs, the host of its
    /// base URL; see [`note::origin_from_base_url`]), replacing any origin it had.
    pub fn set_origin(&mut self, log_id: [u8; 32], origin: &str) {
        self.origins.retain(|(id, _)| *id != log_id);
        self.origins.push((log_id, origin.to_owned()));
    }

    /// The checkpoint origin of the log with this ID, when known.
    pub fn origin(&self, log_id: &[u8]) -> Option<&str> {
        self.origins
            .iter()
            .find(|(id, _)| id.as_slice() == log_id)
            .map(|(_, o)| o.as_str())
    }

    /// The log with this ID whose key was valid at `time` (Unix seconds): how a Rekor v2
    /// entry's log is picked, with the time of a verified timestamp, since such entries have
    /// no integrated time.
    pub fn find_valid_at(&self, log_id: &[u8], time: i64) -> Option<&TrustedLog> {
        self.logs
            .iter()
            .filter(|l| l.log_id.as_slice() == log_id)
            .find(|l| valid_at(l, time))
    }

    /// Adds a log.
    pub fn push(&mut self, log: TrustedLog) {
        self.logs.push(log);
    }

    /// The logs.
    pub fn logs(&self) -> &[TrustedLog] {
        &self.logs
    }

    /// Whether no log is trusted.
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }

    /// The log with this ID.
    pub fn find(&self, log_id: &[u8]) -> Option<&TrustedLog> {
        self.logs.iter().find(|l| l.log_id.as_slice() == log_id)
    }
}

/// What an entry must be about. Every field given is compared; at least one of
/// `artifact_digest`, `signature` and `envelope` must be given.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expected<'a> {
    /// hashedrekord/rekord `data.hash`; for dsse/intoto, the envelope or payload hash.
    pub artifact_digest: Option<&'a Digest>,
    /// The raw signature (None for attestations whose signature annotation is empty).
    pub signature: Option<&'a [u8]>,
    /// The body's key (or certificate's key) must equal this key.
    pub verifier: Option<&'a PublicKey>,
    /// Alternatively, the body's (leaf) certificate must be exactly this DER.
    pub verifier_cert_der: Option<&'a [u8]>,
    /// DSSE: the envelope JSON; its hash must be the entry's envelope hash, or (when the
    /// envelope was re-serialised, as in Sigstore bundles) its payload's hash the entry's
    /// payload hash.
    pub envelope: Option<&'a [u8]>,
}

/// The outcome of [`verify_entry`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// Unix seconds at which the log integrated the entry (cosign's signing time).
    pub integrated_time: i64,
    /// Global index of the entry.
    pub log_index: i64,
    /// The log ID (hex).
    pub log_id: String,
    /// The log key's validity has ended: cosign then prints
    /// `**Info** Successfully verified Rekor entry using an expired verification key`.
    pub inactive_key: bool,
    /// An inclusion proof and its signed checkpoint were verified (not only a SET).
    pub checked_online_proof: bool,
    /// The integrated time, when the log signed it (a verified SET): a trusted signing time.
    /// None for entries proven by an inclusion proof alone and for Rekor v2 entries.
    pub signed_time: Option<i64>,
}

fn valid_at(log: &TrustedLog, t: i64) -> bool {
    log.valid_from.is_none_or(|from| t >= from) && log.valid_until.is_none_or(|until| t <= until)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Verifies a log entry offline.
///
/// 1. The log must be trusted (its ID in `logs`) and the integrated time must lie within the
///    key's validity window (when it has one and the time is known); the body's leaf hash must
///    be the UUID's last 64 hex characters when the UUID is known.
/// 2. The SET, when present, must verify with the log's key; the inclusion proof, when
///    present, must lead to its root, and its checkpoint must be signed by the log's key and
///    state the same root and size. At least one of the two must be present.
/// 3. The body must match every field of `expected`.
///
/// Rekor v2 entries (hashedrekord/dsse 0.0.2 bodies) must carry an inclusion proof and no SET;
/// their checkpoint is a C2SP signed note whose origin must be the log's (see
/// [`TrustedLogs::origin`]); their integrated time is not signed, so it is ignored (reported
/// as 0) and no validity window is checked here: see [`verify_entry_at`]. A checkpoint whose
/// origin looks like Rekor v1's (`<host> - <tree ID>`) is verified as a v1 signed tree head,
/// any other as a C2SP checkpoint, as sigstore-go decides; logs whose origin is not known
/// (trusted by key alone) keep the v1 rules, and their v2 entries are refused.
pub fn verify_entry(
    entry: &LogEntry,
    logs: &TrustedLogs,
    expected: &Expected<'_>,
) -> Result<VerifiedEntry, TlogError> {
    verify_entry_inner(entry, logs, expected, None)
}

/// [`verify_entry`], and when the entry has no signed integrated time (Rekor v2), the log key
/// must have been valid at `time` (Unix seconds; the time of a verified RFC 3161 timestamp).
/// Entries with a signed integrated time are still checked at that time. (Go cosign 3.1.2
/// does not check Rekor v2 log key windows at all; this is the stricter form.)
pub fn verify_entry_at(
    entry: &LogEntry,
    logs: &TrustedLogs,
    expected: &Expected<'_>,
    time: i64,
) -> Result<VerifiedEntry, TlogError> {
    verify_entry_inner(entry, logs, expected, Some(time))
}

fn verify_entry_inner(
    entry: &LogEntry,
    logs: &TrustedLogs,
    expected: &Expected<'_>,
    at: Option<i64>,
) -> Result<VerifiedEntry, TlogError> {
    let unknown = || TlogError::UnknownLog {
        log_id: entry.log_id.clone(),
    };
    let parsed = Body::parse(&entry.body);
    let v2 = parsed.as_ref().is_ok_and(Body::is_rekor_v2);
    let log_id = hex::decode(&entry.log_id).map_err(|_| unknown())?;
    // The same key may be listed more than once (validity windows of a rotated log); the
    // entry's integrated time picks the window.
    let candidates: Vec<&TrustedLog> = logs
        .logs
        .iter()
        .filter(|l| l.log_id.as_slice() == log_id.as_slice())
        .collect();
    // A Rekor v2 entry's integrated time is not signed by anything: never trust it.
    let t = if v2 { 0 } else { entry.integrated_time };
    let window_time = if t > 0 { Some(t) } else { at };
    let in_window = |l: &&&TrustedLog| window_time.is_none_or(|w| valid_at(l, w));
    let log = match candidates.iter().find(in_window) {
        Some(log) => *log,
        None if candidates.is_empty() => return Err(unknown()),
        None if t > 0 => {
            return Err(TlogError::OutsideValidity {
                integrated_time: t,
                log_id: entry.log_id.clone(),
            });
        }
        None => {
            return Err(TlogError::LogKeyNotValidAt {
                time: window_time.unwrap_or_default(),
                log_id: entry.log_id.clone(),
            });
        }
    };
    if v2 {
        if entry.signed_entry_timestamp.is_some() {
            return Err(TlogError::RekorV2 {
                reason: "it carries a signed entry timestamp, which Rekor v2 never issues"
                    .to_owned(),
            });
        }
        if entry.inclusion_proof.is_none() {
            return Err(TlogError::RekorV2 {
                reason: "it has no inclusion proof, the only proof Rekor v2 entries have"
                    .to_owned(),
            });
        }
    }
    let leaf = entry.leaf_hash();

    if !entry.uuid.is_empty() {
        let leaf_hex = hex::encode(leaf);
        let matches = is_entry_id(&entry.uuid)
            && entry.uuid[entry.uuid.len() - 64..].eq_ignore_ascii_case(&leaf_hex);
        if !matches {
            return Err(TlogError::UuidMismatch {
                uuid: entry.uuid.clone(),
                leaf: leaf_hex,
            });
        }
    }

    let mut proven = false;
    let mut signed_time = None;
    if let Some(set_sig) = &entry.signed_entry_timestamp {
        let payload = set::payload(
            &STANDARD.encode(&entry.body),
            entry.integrated_time,
            &entry.log_id,
            entry.log_index,
        );
        set::verify(&payload, set_sig, &log.key)?;
        proven = true;
        signed_time = Some(entry.integrated_time);
    }
    let mut checked_proof = false;
    if let Some(proof) = &entry.inclusion_proof {
        let origin = logs.origin(&log_id);
        match origin {
            // sigstore-go: a checkpoint that does not look like Rekor v1's is a C2SP one,
            // signed as the log's origin.
            Some(origin)
                if !proof.checkpoint.is_empty()
                    && !note::is_rekor_v1_checkpoint(&proof.checkpoint) =>
            {
                verify_c2sp_proof(proof, entry.log_index, &leaf, origin, &log.key)?;
            }
            None if v2 => {
                return Err(TlogError::RekorV2 {
                    reason: format!(
                        "its checkpoint cannot be checked: no origin (base URL) is known for log {}",
                        entry.log_id
                    ),
                });
            }
            // Rekor v1 (also every log trusted by key alone, as before Rekor v2).
            _ => verify_proof(proof, &leaf, &log.key)?,
        }
        proven = true;
        checked_proof = true;
    }
    if !proven {
        return Err(TlogError::NoProof);
    }

    let body = parsed?;
    check_expected(&body, expected)?;

    Ok(VerifiedEntry {
        integrated_time: t,
        log_index: entry.log_index,
        log_id: entry.log_id.clone(),
        inactive_key: log.valid_until.is_some_and(|until| now_unix() > until),
        checked_online_proof: checked_proof,
        signed_time,
    })
}

/// Inclusion proof + checkpoint of one entry.
fn verify_proof(proof: &InclusionProof, leaf: &Hash, key: &PublicKey) -> Result<(), TlogError> {
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index),
        u64::try_from(proof.tree_size),
    ) else {
        return Err(TlogError::InclusionProof {
            index: 0,
            size: 0,
            reason: format!(
                "negative index {} or tree size {}",
                proof.log_index, proof.tree_size
            ),
        });
    };
    verify_inclusion(index, size, leaf, &proof.hashes, &proof.root_hash)?;
    if proof.checkpoint.is_empty() {
        return Err(TlogError::CheckpointSignature {
            reason: "the inclusion proof has no signed checkpoint".to_owned(),
        });
    }
    let checkpoint = verify_note(&proof.checkpoint, key)?;
    if checkpoint.root_hash != proof.root_hash {
        return Err(TlogError::CheckpointSignature {
            reason: format!(
                "the checkpoint's root hash {} is not the inclusion proof's root hash {}",
                hex::encode(checkpoint.root_hash),
                hex::encode(proof.root_hash)
            ),
        });
    }
    if checkpoint.size != size {
        return Err(TlogError::CheckpointSignature {
            reason: format!(
                "the checkpoint's tree size {} is not the inclusion proof's tree size {size}",
                checkpoint.size
            ),
        });
    }
    Ok(())
}

/// Inclusion proof against a C2SP checkpoint (Rekor v2), as rekor-tiles checks it: the
/// checkpoint signed by the log as `origin`, then the leaf at the entry's index in the tree
/// the checkpoint states. The proof's own root hash and tree size must agree with it.
fn verify_c2sp_proof(
    proof: &InclusionProof,
    log_index: i64,
    leaf: &Hash,
    origin: &str,
    key: &PublicKey,
) -> Result<Checkpoint, TlogError> {
    if proof.checkpoint.is_empty() {
        return Err(TlogError::CheckpointSignature {
            reason: "the inclusion proof has no signed checkpoint".to_owned(),
        });
    }
    let checkpoint = note::verify_checkpoint(&proof.checkpoint, origin, key)?;
    let index = u64::try_from(log_index).map_err(|_| TlogError::InclusionProof {
        index: 0,
        size: checkpoint.size,
        reason: format!("negative log index {log_index}"),
    })?;
    verify_inclusion(
        index,
        checkpoint.size,
        leaf,
        &proof.hashes,
        &checkpoint.root_hash,
    )?;
    if proof.root_hash != checkpoint.root_hash
        || u64::try_from(proof.tree_size).ok() != Some(checkpoint.size)
    {
        return Err(TlogError::CheckpointSignature {
            reason: format!(
                "the inclusion proof states root {} at size {}, the checkpoint root {} at size {}",
                hex::encode(proof.root_hash),
                proof.tree_size,
                hex::encode(checkpoint.root_hash),
                checkpoint.size
            ),
        });
    }
    Ok(checkpoint)
}

fn mismatch(field: &'static str, reason: impl Into<String>) -> TlogError {
    TlogError::mismatch(field, reason)
}

fn check_expected(body: &Body, expected: &Expected<'_>) -> Result<(), TlogError> {
    if expected.artifact_digest.is_none()
        && expected.signature.is_none()
        && expected.envelope.is_none()
    {
        return Err(mismatch(
            "artifact",
            "nothing was given to bind the entry to (artifact digest, signature or envelope)",
        ));
    }
    match body {
        Body::HashedRekord { digest, .. }
        | Body::Rekord { digest, .. }
        | Body::HashedRekordV002 { digest, .. } => {
            if let Some(want) = expected.artifact_digest {
                if digest != want {
                    return Err(mismatch(
                        "artifact hash",
                        format!("the entry records {digest}, the artifact is {want}"),
                    ));
                }
            }
            if let Some(envelope) = expected.envelope {
                // A DSSE envelope logged as a signature over its PAE (Rekor v2 style).
                let pae = Envelope::from_json(envelope)
                    .map(|e| e.pae())
                    .map_err(|e| {
                        mismatch("envelope", format!("the envelope cannot be read: {e}"))
                    })?;
                if !hashes_to(&pae, digest) {
                    return Err(mismatch(
                        "envelope",
                        format!(
                            "the entry records {digest}, which is not the hash of the envelope's PAE"
                        ),
                    ));
                }
            }
        }
        Body::Dsse {
            envelope_hash,
            payload_hash,
            ..
        } => check_envelope_hashes(expected, envelope_hash, Some(payload_hash))?,
        Body::Intoto {
            envelope_hash,
            payload_hash,
            ..
        } => check_envelope_hashes(expected, envelope_hash, payload_hash.as_ref())?,
        Body::DsseV002 { payload_hash, .. } => check_payload_hash(expected, payload_hash)?,
    }
    check_signatures(body, expected)
}

/// hash(`data`) with the digest's algorithm equals the digest.
fn hashes_to(data: &[u8], digest: &Digest) -> bool {
    &cosign_crypto::hash(digest.algorithm(), data) == digest
}

fn check_envelope_hashes(
    expected: &Expected<'_>,
    envelope_hash: &Digest,
    payload_hash: Option<&Digest>,
) -> Result<(), TlogError> {
    if let Some(want) = expected.artifact_digest {
        if want != envelope_hash && Some(want) != payload_hash {
            return Err(mismatch(
                "artifact hash",
                format!(
                    "the entry records envelope hash {envelope_hash}{}, the artifact is {want}",
                    payload_hash
                        .map(|p| format!(" and payload hash {p}"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    let Some(envelope) = expected.envelope else {
        return Ok(());
    };
    let payload = Envelope::from_json(envelope).ok().map(|e| e.payload);
    let payload_ok = match (payload_hash, &payload) {
        (Some(ph), Some(p)) => Some(hashes_to(p, ph)),
        _ => None,
    };
    if hashes_to(envelope, envelope_hash) {
        if payload_ok == Some(false) {
            return Err(mismatch(
                "envelope",
                "the envelope hash matches but the payload hash does not",
            ));
        }
        return Ok(());
    }
    if payload_ok == Some(true) {
        // The envelope was re-serialised (protojson in a Sigstore bundle); the payload hash and
        // the signatures (checked next) still bind the entry to it.
        return Ok(());
    }
    Err(mismatch(
        "envelope",
        format!(
            "neither the entry's envelope hash {envelope_hash} nor its payload hash matches the envelope"
        ),
    ))
}

/// dsse 0.0.2 records only the payload hash: the artifact digest must be it, and the
/// envelope's payload must hash to it.
fn check_payload_hash(expected: &Expected<'_>, payload_hash: &Digest) -> Result<(), TlogError> {
    if let Some(want) = expected.artifact_digest {
        if want != payload_hash {
            return Err(mismatch(
                "artifact hash",
                format!("the entry records payload hash {payload_hash}, the artifact is {want}"),
            ));
        }
    }
    if let Some(envelope) = expected.envelope {
        let payload = Envelope::from_json(envelope)
            .map(|e| e.payload)
            .map_err(|e| mismatch("envelope", format!("the envelope cannot be read: {e}")))?;
        if !hashes_to(&payload, payload_hash) {
            return Err(mismatch(
                "envelope",
                format!(
                    "the entry records payload hash {payload_hash}, which is not the hash of the envelope's payload"
                ),
            ));
        }
    }
    Ok(())
}

fn check_signatures(body: &Body, expected: &Expected<'_>) -> Result<(), TlogError> {
    let pairs = body.signatures();
    let candidates: Vec<&(&[u8], &[u8])> = match expected.signature {
        Some(want) => {
            let found: Vec<_> = pairs.iter().filter(|(sig, _)| *sig == want).collect();
            if found.is_empty() {
                let reason = if pairs.iter().all(|(s, _)| s.is_empty()) {
                    format!(
                        "the {} {} entry records no signature to compare",
                        body.kind(),
                        body.version()
                    )
                } else {
                    "the signature in the entry is not the signature being verified".to_owned()
                };
                return Err(mismatch("signature", reason));
            }
            found
        }
        None => pairs.iter().collect(),
    };
    if expected.verifier.is_none() && expected.verifier_cert_der.is_none() {
        return Ok(());
    }
    let mut last_error = String::from("the entry records no key");
    for (_, pem) in candidates {
        match parse_verifier(pem) {
            Ok(v) => {
                let cert_match = expected
                    .verifier_cert_der
                    .is_some_and(|want| v.certs.first().is_some_and(|c| c.as_slice() == want));
                let key_match = expected.verifier.is_some_and(|want| &v.key == want);
                if cert_match || key_match {
                    return Ok(());
                }
                last_error = "the entry was made with another key or certificate".to_owned();
            }
            Err(e) => last_error = format!("the entry's key cannot be read: {e}"),
        }
    }
    Err(mismatch("public key", last_error))
}

#[cfg(test)]
mod tests;
