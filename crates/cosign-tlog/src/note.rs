//! Rekor v2 checkpoints: C2SP signed notes (c2sp.org/signed-note) carrying a C2SP tlog
//! checkpoint (c2sp.org/tlog-checkpoint), verified the way rekor-tiles and sigstore-go do.
//!
//! ```text
//! log2025-alpha1.rekor.sigstage.dev              <- origin: the host of the log's base URL
//! 736                                            <- tree size
//! rs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=   <- base64 root hash
//!                                                <- (optional extension lines before this)
//! — log2025-alpha1.rekor.sigstage.dev 8w1amdbj…  <- "— <name> base64(key ID[..4] || signature)"
//! — witness.example O8PH5AAAAABo…                <- witness cosignatures (ignored)
//! ```
//!
//! Key IDs ([`key_id`]; the first 4 bytes are the hint in signature lines, the whole 32 bytes
//! are the log ID in the trusted root):
//! - Ed25519: SHA-256(origin || `\n` || 0x01 || raw 32-byte key), the signed-note standard;
//!   the signature is pure Ed25519 over the note text.
//! - ECDSA: SHA-256 of the key's SPKI DER (rekor-tiles' own, non-standard choice; the origin
//!   is not part of it); the signature is ASN.1 ECDSA over the curve's hash of the text.
//! - RSA: SHA-256(origin || `\n` || 0xff || `PKIX-RSA-PKCS#1v1.5` || SPKI DER).
//!
//! Verification ([`verify_checkpoint`]), as `golang.org/x/mod/sumdb/note.Open` plus
//! `transparency-dev/formats/log.ParseCheckpoint`: the text must start with the expected origin
//! line; every signature line must be well formed; lines from other names or other key IDs
//! (witnesses, other logs) are ignored; a line from the log's name and key ID that does not
//! verify fails the whole note; at least one line must verify with the log's key.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey, PublicKey};
use sha2::{Digest as _, Sha256};

use crate::TlogError;
use crate::checkpoint::Checkpoint;
use crate::schemes::log_scheme;

/// The em dash that starts every signature line.
const EM_DASH: char = '\u{2014}';
/// Most signature lines read from one note (as Go's note package).
const MAX_SIGNATURES: usize = 100;
/// Largest note read.
const MAX_NOTE: usize = 1 << 20;
/// Signed-note signature type of Ed25519 keys.
const ALG_ED25519: u8 = 0x01;
/// Signed-note "undefined" signature type, used by rekor-tiles for RSA keys.
const ALG_UNDEF: u8 = 0xff;
/// What rekor-tiles appends to [`ALG_UNDEF`] for RSA keys.
const RSA_ID: &[u8] = b"PKIX-RSA-PKCS#1v1.5";

fn malformed(reason: impl Into<String>) -> TlogError {
    TlogError::MalformedCheckpoint {
        reason: reason.into(),
    }
}

fn signature_error(reason: impl Into<String>) -> TlogError {
    TlogError::CheckpointSignature {
        reason: reason.into(),
    }
}

/// Whether `name` may be a signed-note key name or checkpoint origin: non-empty, no white
/// space, no `+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

/// The 32-byte key ID of a log key for a note signed as `origin` (see the module docs); its
/// first 4 bytes are the key hint of the signature lines, the whole is the Rekor v2 log ID.
pub fn key_id(origin: &str, key: &PublicKey) -> [u8; 32] {
    let spki = key.to_spki_der();
    let mut h = Sha256::new();
    match key.key_type() {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => h.update(&spki),
        KeyType::Ed25519 => {
            // The raw key is the last 32 bytes of the SPKI (a BIT STRING at the end).
            let raw = spki
                .get(spki.len().saturating_sub(32)..)
                .unwrap_or_default();
            h.update(origin.as_bytes());
            h.update(b"\n");
            h.update([ALG_ED25519]);
            h.update(raw);
        }
        KeyType::Rsa { .. } => {
            h.update(origin.as_bytes());
            h.update(b"\n");
            h.update([ALG_UNDEF]);
            h.update(RSA_ID);
            h.update(&spki);
        }
    }
    h.finalize().into()
}

/// The 4-byte key hint of signature lines by `key` as `origin`.
pub fn key_hint(origin: &str, key: &PublicKey) -> [u8; 4] {
    let id = key_id(origin, key);
    [id[0], id[1], id[2], id[3]]
}

/// One signature line of a signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteLine {
    /// The key name.
    pub name: String,
    /// The first 4 bytes of the signer's key ID.
    pub key_hint: [u8; 4],
    /// The signature (for witness cosignatures, the 8-byte timestamp then the signature).
    pub signature: Vec<u8>,
}

/// A signed note split into its text and signature lines; nothing is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The note text, including its final newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteLine>,
}

/// Parses a signed note the way Go's `note.Open` reads it: UTF-8 without control characters
/// other than newline, text ending in a newline, a blank line, then one or more lines
/// `— <name> <base64>` whose base64 holds a 4-byte key hint and a signature.
pub fn parse_signed_note(msg: &str) -> Result<Note, TlogError> {
    if msg.len() > MAX_NOTE {
        return Err(malformed(format!(
            "the note is larger than {MAX_NOTE} bytes"
        )));
    }
    if msg.chars().any(|c| c < ' ' && c != '\n') {
        return Err(malformed("the note contains control characters"));
    }
    let split = msg
        .rfind("\n\n")
        .ok_or_else(|| malformed("no blank line before the signatures"))?;
    let text = &msg[..split + 1];
    let sigs = &msg[split + 2..];
    if sigs.is_empty() {
        return Err(signature_error("the checkpoint carries no signature line"));
    }
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(malformed("the signature block does not end with a newline"));
    };
    let mut signatures = Vec::new();
    for line in sigs.split('\n') {
        if signatures.len() >= MAX_SIGNATURES {
            return Err(malformed("too many signature lines"));
        }
        let rest = line
            .strip_prefix(EM_DASH)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| {
                malformed(format!("signature line {line:?} does not start with '— '"))
            })?;
        let (name, b64) = rest.split_once(' ').unwrap_or((rest, ""));
        if !is_valid_name(name) || b64.is_empty() {
            return Err(malformed(format!(
                "signature line {line:?} is not '— <name> <signature>'"
            )));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|e| malformed(format!("signature of {name} is not base64: {e}")))?;
        if blob.len() < 5 {
            return Err(malformed(format!("signature of {name} is too short")));
        }
        signatures.push(NoteLine {
            name: name.to_owned(),
            key_hint: [blob[0], blob[1], blob[2], blob[3]],
            signature: blob[4..].to_vec(),
        });
    }
    Ok(Note {
        text: text.to_owned(),
        signatures,
    })
}

/// Verifies a Rekor v2 checkpoint signed by the log `origin` with `key` and returns the tree
/// head it states (see the module docs for the rules).
pub fn verify_checkpoint(
    msg: &str,
    origin: &str,
    key: &PublicKey,
) -> Result<Checkpoint, TlogError> {
    if !is_valid_name(origin) {
        return Err(malformed(format!(
            "{origin:?} cannot be a checkpoint origin"
        )));
    }
    let first = msg.split('\n').next().unwrap_or_default();
    if first != origin || !msg.starts_with(&format!("{origin}\n")) {
        return Err(TlogError::CheckpointOrigin {
            expected: origin.to_owned(),
            found: first.chars().take(200).collect(),
        });
    }
    let note = parse_signed_note(msg)?;
    // The tree head must be well formed whatever the signatures say.
    let checkpoint = Checkpoint::parse_body(&note.text)?;
    let hint = key_hint(origin, key);
    let scheme = log_scheme(key.key_type());
    let mut seen = HashSet::new();
    let mut verified = false;
    for line in &note.signatures {
        if line.name != origin || line.key_hint != hint {
            // Another log's or a witness's line: not ours to judge.
            continue;
        }
        if !seen.insert(line.signature.as_slice()) {
            continue;
        }
        key.verify_message(scheme, note.text.as_bytes(), &line.signature)
            .map_err(|_| {
                signature_error(format!(
                    "the signature of {origin} (key hint {}) does not verify",
                    hex::encode(hint)
                ))
            })?;
        verified = true;
    }
    if !verified {
        return Err(signature_error(format!(
            "no signature by the log {origin} (key hint {}) among {} signature line(s)",
            hex::encode(hint),
            note.signatures.len()
        )));
    }
    Ok(checkpoint)
}

/// Signs a checkpoint as the Rekor v2 log `origin` (which must be the checkpoint's origin);
/// returns the signed note text.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    origin: &str,
    key: &PrivateKey,
) -> Result<String, TlogError> {
    if !is_valid_name(origin) || checkpoint.origin != origin {
        return Err(malformed(format!(
            "the checkpoint origin {:?} is not the signer name {origin:?}",
            checkpoint.origin
        )));
    }
    if checkpoint
        .other
        .iter()
        .any(|l| l.is_empty() || l.contains('\n'))
    {
        return Err(malformed("every extension line must be one non-empty line"));
    }
    let body = checkpoint.body();
    let sig = key
        .sign_message(log_scheme(key.key_type()), body.as_bytes())
        .map_err(|source| TlogError::Crypto {
            what: "signing the checkpoint",
            source,
        })?;
    let mut blob = key_hint(origin, &key.public_key()).to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!(
        "{body}\n{EM_DASH} {origin} {}\n",
        STANDARD.encode(blob)
    ))
}

/// The origin a Rekor v2 log signs its checkpoints as: the host name of its base URL (what
/// sigstore-go takes from the trusted root's `baseUrl`, without scheme, port or path).
pub fn origin_from_base_url(base_url: &str) -> Option<String> {
    let url = url::Url::parse(base_url).ok()?;
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    is_valid_name(host).then(|| host.to_owned())
}

/// Whether a checkpoint looks like Rekor v1's (origin `<host> - <tree ID>` and at least four
/// lines): sigstore-go verifies those as v1 signed tree heads, everything else as C2SP
/// checkpoints of a v2 log.
pub fn is_rekor_v1_checkpoint(msg: &str) -> bool {
    let mut lines = msg.split('\n');
    let first = lines.next().unwrap_or_default();
    if lines.count() < 3 {
        return false;
    }
    first
        .rsplit_once(" - ")
        .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests;
