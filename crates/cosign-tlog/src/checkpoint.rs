//! Rekor v1 checkpoints: a signed note (golang.org/x/mod/sumdb/note format) whose text is the
//! tree head.
//!
//! ```text
//! rekor.sigstore.dev - 2605736670972794746      <- origin ("<host> - <tree ID>")
//! 23083062                                      <- tree size
//! dauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=  <- base64 root hash
//! Timestamp: 1689177396617352539                <- other lines (optional)
//!
//! — rekor.sigstore.dev wNI9ajBFAiBxaGyEt...      <- "— <name> base64(key hint || signature)"
//! ```
//!
//! The key hint is the first 4 bytes of SHA-256 of the signer's SPKI DER; ECDSA and RSA keys
//! sign SHA-256 of the note text, Ed25519 keys sign the text itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{PrivateKey, PublicKey};

use crate::TlogError;
use crate::schemes::log_scheme;

/// The em dash that starts every signature line.
const EM_DASH: char = '\u{2014}';
/// Most signature lines read from one note.
const MAX_SIGNATURES: usize = 100;
/// Most "other" lines read from one checkpoint body.
const MAX_OTHER_LINES: usize = 100;

/// The tree head a checkpoint states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line; Rekor v1 writes `<hostname> - <tree ID>`.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash of the tree of that size.
    pub root_hash: [u8; 32],
    /// Further lines (Rekor v1 writes `Timestamp: <unix nanos>`).
    pub other: Vec<String>,
}

/// One signature line of a signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's name (Rekor v1 uses its hostname).
    pub name: String,
    /// First 4 bytes of SHA-256 of the signer's SPKI DER.
    pub key_hint: [u8; 4],
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    /// The checkpoint in the note text.
    pub checkpoint: Checkpoint,
    /// The signature lines.
    pub signatures: Vec<NoteSignature>,
}

fn malformed(reason: impl Into<String>) -> TlogError {
    TlogError::MalformedCheckpoint {
        reason: reason.into(),
    }
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n` then each other line and `\n`.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root_hash)
        );
        for line in &self.other {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses the note text (everything before the blank line, including the final newline).
    pub fn parse_body(text: &str) -> Result<Self, TlogError> {
        let Some(text) = text.strip_suffix('\n') else {
            return Err(malformed("the checkpoint text does not end with a newline"));
        };
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(malformed("the origin line is empty"));
        }
        let size_line = lines
            .next()
            .ok_or_else(|| malformed("the tree size line is missing"))?;
        if size_line.is_empty() || !size_line.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(format!(
                "tree size {size_line:?} is not a number"
            )));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| malformed(format!("tree size {size_line:?} is out of range")))?;
        let hash_line = lines
            .next()
            .ok_or_else(|| malformed("the root hash line is missing"))?;
        let root = STANDARD
            .decode(hash_line)
            .map_err(|e| malformed(format!("root hash is not base64: {e}")))?;
        let root_hash: [u8; 32] = root
            .try_into()
            .map_err(|_| malformed("root hash is not 32 bytes"))?;
        let mut other = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(malformed("empty line inside the checkpoint text"));
            }
            if other.len() >= MAX_OTHER_LINES {
                return Err(malformed("too many lines in the checkpoint text"));
            }
            other.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root_hash,
            other,
        })
    }

    fn check_writable(&self) -> Result<(), TlogError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(malformed("the origin must be one non-empty line"));
        }
        if self.other.iter().any(|l| l.is_empty() || l.contains('\n')) {
            return Err(malformed("every other line must be one non-empty line"));
        }
        Ok(())
    }
}

/// The 4-byte key hint of a log key: the first bytes of SHA-256 of its SPKI DER.
pub fn key_hint(key: &PublicKey) -> [u8; 4] {
    let h = key.hint();
    [h[0], h[1], h[2], h[3]]
}

/// Signs a checkpoint as the log named `name`; returns the full note text (body, blank line,
/// `— <name> <base64(hint || sig)>\n`).
pub fn sign_note(
    checkpoint: &Checkpoint,
    name: &str,
    key: &PrivateKey,
) -> Result<String, TlogError> {
    checkpoint.check_writable()?;
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(malformed("the signer name must be one word"));
    }
    let body = checkpoint.body();
    let sig = key
        .sign_message(log_scheme(key.key_type()), body.as_bytes())
        .map_err(|source| TlogError::Crypto {
            what: "signing the checkpoint",
            source,
        })?;
    let mut blob = key_hint(&key.public_key()).to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!(
        "{body}\n{EM_DASH} {name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Splits a note into its text (with the final newline) and signature block.
fn split_note(text: &str) -> Result<(&str, &str), TlogError> {
    let split = text
        .rfind("\n\n")
        .ok_or_else(|| malformed("no blank line before the signatures"))?;
    let body = &text[..split + 1];
    let sigs = &text[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(malformed("the signature block must end with a newline"));
    }
    Ok((body, sigs))
}

/// Parses a signed note; no signature is checked.
pub fn parse_note(text: &str) -> Result<SignedNote, TlogError> {
    let (body, sigs) = split_note(text)?;
    let checkpoint = Checkpoint::parse_body(body)?;
    let mut signatures = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        if signatures.len() >= MAX_SIGNATURES {
            return Err(malformed("too many signature lines"));
        }
        let rest = line
            .strip_prefix(EM_DASH)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| {
                malformed(format!("signature line {line:?} does not start with '— '"))
            })?;
        let mut parts = rest.split(' ');
        let (Some(name), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed(format!(
                "signature line {line:?} is not '— <name> <signature>'"
            )));
        };
        if name.is_empty() {
            return Err(malformed("empty signer name"));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|e| malformed(format!("signature of {name} is not base64: {e}")))?;
        if blob.len() < 5 {
            return Err(malformed(format!("signature of {name} is too short")));
        }
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_hint: [blob[0], blob[1], blob[2], blob[3]],
            signature: blob[4..].to_vec(),
        });
    }
    Ok(SignedNote {
        checkpoint,
        signatures,
    })
}

/// Parses a signed note and checks that a signature whose key hint is `key`'s verifies with
/// `key`; returns the checkpoint.
pub fn verify_note(text: &str, key: &PublicKey) -> Result<Checkpoint, TlogError> {
    let note = parse_note(text)?;
    let (body, _) = split_note(text)?;
    let hint = key_hint(key);
    let scheme = log_scheme(key.key_type());
    let mut tried = 0;
    for sig in note.signatures.iter().filter(|s| s.key_hint == hint) {
        tried += 1;
        if key
            .verify_message(scheme, body.as_bytes(), &sig.signature)
            .is_ok()
        {
            return Ok(note.checkpoint);
        }
    }
    Err(TlogError::CheckpointSignature {
        reason: if tried == 0 {
            format!(
                "no signature by the log key (key hint {}) among {} signature(s)",
                hex::encode(hint),
                note.signatures.len()
            )
        } else {
            "the signature by the log key does not verify".to_owned()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            origin: "rekor.local - 42".to_owned(),
            size: 7,
            root_hash: [9; 32],
            other: vec!["Timestamp: 1700000000000000000".to_owned()],
        }
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        for key in [
            PrivateKey::generate_ecdsa_p256().unwrap(),
            PrivateKey::generate(cosign_crypto::KeyType::Ed25519).unwrap(),
        ] {
            let note = sign_note(&sample(), "rekor.local", &key).unwrap();
            assert!(note.starts_with(&sample().body()));
            assert!(note.contains("\n\n\u{2014} rekor.local "));
            let parsed = parse_note(&note).unwrap();
            assert_eq!(parsed.checkpoint, sample());
            assert_eq!(parsed.signatures.len(), 1);
            assert_eq!(parsed.signatures[0].key_hint, key_hint(&key.public_key()));
            assert_eq!(verify_note(&note, &key.public_key()).unwrap(), sample());

            let other = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
            assert!(matches!(
                verify_note(&note, &other),
                Err(TlogError::CheckpointSignature { .. })
            ));
            // Any change to the text breaks the signature.
            let tampered = note.replacen("\n7\n", "\n8\n", 1);
            assert!(verify_note(&tampered, &key.public_key()).is_err());
        }
    }

    #[test]
    fn extra_signatures_from_other_keys_are_ignored() {
        let log = PrivateKey::generate_ecdsa_p256().unwrap();
        let witness = PrivateKey::generate_ecdsa_p256().unwrap();
        let note = sign_note(&sample(), "rekor.local", &log).unwrap();
        let witnessed = sign_note(&sample(), "witness", &witness).unwrap();
        let witness_line = witnessed.rsplit_once("\n\n").unwrap().1;
        let both = format!("{note}{witness_line}");
        assert_eq!(parse_note(&both).unwrap().signatures.len(), 2);
        verify_note(&both, &log.public_key()).unwrap();
        verify_note(&both, &witness.public_key()).unwrap();
    }

    #[test]
    fn malformed_notes_are_refused() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let good = sign_note(&sample(), "rekor.local", &key).unwrap();
        let cases = [
            String::new(),
            "no blank line\n".to_owned(),
            good.trim_end().to_owned(),
            good.replace('\u{2014}', "-"),
            good.replacen("\n7\n", "\n+7\n", 1),
            good.replacen("\n7\n", "\n\n", 1),
            "o\n1\nAAAA\n\n\u{2014} n AAAAAAAA\n".to_owned(),
            format!("o\n1\n{}\n\n\u{2014} n AAAA\n", STANDARD.encode([0u8; 32])),
            format!("o\n1\n{}\n\n\u{2014} n a b\n", STANDARD.encode([0u8; 32])),
            format!(
                "\n1\n{}\n\n\u{2014} n AAAAAAAA\n",
                STANDARD.encode([0u8; 32])
            ),
            format!(
                "o\n99999999999999999999\n{}\n\n\u{2014} n AAAAAAAA\n",
                STANDARD.encode([0u8; 32])
            ),
        ];
        for case in cases {
            assert!(parse_note(&case).is_err(), "{case:?}");
        }
        let mut bad = sample();
        bad.origin = "two\nlines".to_owned();
        assert!(sign_note(&bad, "n", &key).is_err());
        assert!(sign_note(&sample(), "two words", &key).is_err());
    }
}
