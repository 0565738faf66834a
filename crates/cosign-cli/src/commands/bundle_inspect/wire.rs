//! The bundle as Go's `protojson.Unmarshal` reads it into `protobundle.Bundle`, token by token
//! as Go does (so errors come in the same order, at the same `line:column`, in the same words):
//! every message may be absent (what `bundle inspect` reports), unknown and repeated fields are
//! errors, a oneof takes one member, `null` leaves a field unset, `int64` comes as a number or a
//! string, `bytes` in either base64 alphabet with or without padding, enums by name or number.
//!
//! `cosign_types::bundle::Bundle` is the bundle the verify commands accept; it refuses bundles
//! without material or content and does not keep whether a sub-message was present, both of
//! which `bundle inspect` prints.

use base64::Engine as _;

use super::json::{Decoder, Kind, Token};

type Result<T> = std::result::Result<T, String>;

/// One field of a message: JSON name, proto name, oneof.
struct Field {
    json: &'static str,
    proto: &'static str,
    oneof: Option<&'static str>,
}

const fn f(json: &'static str, proto: &'static str) -> Field {
    Field {
        json,
        proto,
        oneof: None,
    }
}

const fn one(json: &'static str, proto: &'static str, oneof: &'static str) -> Field {
    Field {
        json,
        proto,
        oneof: Some(oneof),
    }
}

/// The `dev.sigstore.common.v1.HashAlgorithm` names, by number.
pub const HASH_ALGORITHMS: [&str; 6] = [
    "HASH_ALGORITHM_UNSPECIFIED",
    "SHA2_256",
    "SHA2_384",
    "SHA2_512",
    "SHA3_256",
    "SHA3_384",
];

/// protojson's `bytes`: the URL alphabet when `-` or `_` appears, padding optional unless the
/// length is a multiple of four, line breaks skipped (Go's base64 decoder skips them).
fn decode_bytes(s: &str) -> Option<Vec<u8>> {
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let alphabet = if s.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    let padding = if s.len() % 4 == 0 {
        DecodePaddingMode::RequireCanonical
    } else {
        DecodePaddingMode::RequireNone
    };
    let engine = GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(padding)
            .with_decode_allow_trailing_bits(true),
    );
    let text: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    engine.decode(text).ok()
}

/// `dev.sigstore.bundle.v1.Bundle`.
#[derive(Debug, Default)]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: Option<VerificationMaterial>,
    pub content: Option<Content>,
}

#[derive(Debug)]
pub enum Content {
    Dsse(Envelope),
    MessageSignature(MessageSignature),
}

#[derive(Debug, Default)]
pub struct VerificationMaterial {
    pub content: Option<MaterialContent>,
    pub tlog_entries: Vec<TlogEntry>,
    /// The RFC 3161 timestamps, when `timestampVerificationData` is present.
    pub timestamps: Option<Vec<Vec<u8>>>,
}

#[derive(Debug)]
pub enum MaterialContent {
    /// The public key hint.
    PublicKey(String),
    /// DER of each certificate.
    Chain(Vec<Vec<u8>>),
    Certificate(Vec<u8>),
}

#[derive(Debug, Default)]
pub struct TlogEntry {
    pub log_index: i64,
    pub log_id: Option<Vec<u8>>,
    /// Kind and version.
    pub kind_version: Option<(String, String)>,
    pub integrated_time: i64,
    /// The signed entry timestamp.
    pub inclusion_promise: Option<Vec<u8>>,
    pub inclusion_proof: Option<InclusionProof>,
    pub canonicalized_body: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct InclusionProof {
    pub log_index: i64,
    pub tree_size: i64,
    pub hashes: usize,
    /// The checkpoint envelope.
    pub checkpoint: Option<String>,
}

#[derive(Debug, Default)]
pub struct Envelope {
    pub payload: Vec<u8>,
    pub payload_type: String,
    /// Signature and key ID of each signature.
    pub signatures: Vec<(Vec<u8>, String)>,
}

#[derive(Debug, Default)]
pub struct MessageSignature {
    /// Algorithm number and digest.
    pub digest: Option<(i32, Vec<u8>)>,
    pub signature: Vec<u8>,
}

/// Reads a bundle's protojson; the error is Go's (`proto: ...`).
pub fn parse(data: &[u8]) -> Result<Bundle> {
    let mut p = Parser {
        d: Decoder::new(data),
    };
    let prefix = |e: String| format!("proto: {e}");
    let bundle = p.bundle().map_err(prefix)?;
    let tok = p.d.read().map_err(prefix)?;
    if tok.kind != Kind::Eof {
        return Err(prefix(p.unexpected(&tok)));
    }
    Ok(bundle)
}

struct Parser<'a> {
    d: Decoder<'a>,
}

impl<'a> Parser<'a> {
    fn unexpected(&self, tok: &Token<'_>) -> String {
        self.d
            .syntax_error(tok.pos, &format!("unexpected token {}", tok.raw_string()))
    }

    fn invalid(&self, tok: &Token<'_>, kind: &str, field: &str) -> String {
        self.d.error_at(
            tok.pos,
            &format!(
                "invalid value for {kind} field {field}: {}",
                tok.raw_string()
            ),
        )
    }

    /// `unmarshalMessage`: calls `on_field` with the index of each field set (not `null`),
    /// its value not yet read.
    fn message(
        &mut self,
        fields: &[Field],
        mut on_field: impl FnMut(&mut Self, usize) -> Result<()>,
    ) -> Result<()> {
        let tok = self.d.read()?;
        if tok.kind != Kind::ObjectOpen {
            return Err(self.unexpected(&tok));
        }
        let mut seen = Vec::new();
        let mut oneofs = Vec::new();
        loop {
            let tok = self.d.read()?;
            match tok.kind {
                Kind::ObjectClose => return Ok(()),
                Kind::Name => {}
                _ => return Err(self.unexpected(&tok)),
            }
            let Some(i) = fields
                .iter()
                .position(|fd| fd.json == tok.text)
                .or_else(|| fields.iter().position(|fd| fd.proto == tok.text))
            else {
                return Err(self
                    .d
                    .error_at(tok.pos, &format!("unknown field {}", tok.raw_string())));
            };
            if seen.contains(&i) {
                return Err(self
                    .d
                    .error_at(tok.pos, &format!("duplicate field {}", tok.raw_string())));
            }
            seen.push(i);
            if self.d.peek().is_ok_and(|t| t.kind == Kind::Null) {
                self.d.read()?;
                continue;
            }
            if let Some(group) = fields[i].oneof {
                if oneofs.contains(&group) {
                    return Err(self.d.error_at(
                        tok.pos,
                        &format!(
                            "error parsing {}, oneof {group} is already set",
                            tok.raw_string()
                        ),
                    ));
                }
                oneofs.push(group);
            }
            on_field(self, i)?;
        }
    }

    /// `unmarshalList`: calls `on_item` for each element.
    fn list(&mut self, mut on_item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        let tok = self.d.read()?;
        if tok.kind != Kind::ArrayOpen {
            return Err(self.unexpected(&tok));
        }
        loop {
            if self.d.peek()?.kind == Kind::ArrayClose {
                self.d.read()?;
                return Ok(());
            }
            on_item(self)?;
        }
    }

    fn string(&mut self, field: &str) -> Result<String> {
        let tok = self.d.read()?;
        match tok.kind {
            Kind::String => Ok(tok.text),
            _ => Err(self.invalid(&tok, "string", field)),
        }
    }

    fn bytes(&mut self, field: &str) -> Result<Vec<u8>> {
        let tok = self.d.read()?;
        let decoded = (tok.kind == Kind::String)
            .then(|| decode_bytes(&tok.text))
            .flatten();
        decoded.ok_or_else(|| self.invalid(&tok, "bytes", field))
    }

    /// `unmarshalInt` for an `int64`: a number, or a string holding exactly one number.
    fn int64(&mut self, field: &str) -> Result<i64> {
        let tok = self.d.read()?;
        let n = match tok.kind {
            Kind::Number => tok.int(64),
            Kind::String if tok.text.trim() == tok.text => {
                let mut inner = Decoder::new(tok.text.as_bytes());
                match (inner.read(), inner.read()) {
                    (Ok(number), Ok(end)) if end.kind == Kind::Eof => number.int(64),
                    _ => None,
                }
            }
            _ => None,
        };
        n.ok_or_else(|| self.invalid(&tok, "int64", field))
    }

    /// `unmarshalEnum` for a `HashAlgorithm`: a known name, or any 32-bit number.
    fn hash_algorithm(&mut self, field: &str) -> Result<i32> {
        let tok = self.d.read()?;
        let n = match tok.kind {
            Kind::String => HASH_ALGORITHMS
                .iter()
                .position(|n| *n == tok.text)
                .and_then(|i| i32::try_from(i).ok()),
            Kind::Number => tok.int(32).and_then(|n| i32::try_from(n).ok()),
            _ => None,
        };
        n.ok_or_else(|| self.invalid(&tok, "enum", field))
    }

    fn bundle(&mut self) -> Result<Bundle> {
        const CONTENT: &str = "dev.sigstore.bundle.v1.Bundle.content";
        const FIELDS: &[Field] = &[
            f("mediaType", "media_type"),
            f("verificationMaterial", "verification_material"),
            one("messageSignature", "message_signature", CONTENT),
            one("dsseEnvelope", "dsse_envelope", CONTENT),
        ];
        let mut out = Bundle::default();
        self.message(FIELDS, |p, i| {
            match i {
                0 => out.media_type = p.string("mediaType")?,
                1 => out.verification_material = Some(p.material()?),
                2 => out.content = Some(Content::MessageSignature(p.message_signature()?)),
                _ => out.content = Some(Content::Dsse(p.envelope()?)),
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn material(&mut self) -> Result<VerificationMaterial> {
        const CONTENT: &str = "dev.sigstore.bundle.v1.VerificationMaterial.content";
        const FIELDS: &[Field] = &[
            one("publicKey", "public_key", CONTENT),
            one("x509CertificateChain", "x509_certificate_chain", CONTENT),
            f("tlogEntries", "tlog_entries"),
            f("timestampVerificationData", "timestamp_verification_data"),
            one("certificate", "certificate", CONTENT),
        ];
        let mut out = VerificationMaterial::default();
        self.message(FIELDS, |p, i| {
            match i {
                0 => {
                    let mut hint = String::new();
                    p.message(&[f("hint", "hint")], |p, _| {
                        hint = p.string("hint")?;
                        Ok(())
                    })?;
                    out.content = Some(MaterialContent::PublicKey(hint));
                }
                1 => {
                    let mut certs = Vec::new();
                    p.message(&[f("certificates", "certificates")], |p, _| {
                        p.list(|p| {
                            certs.push(p.certificate()?);
                            Ok(())
                        })
                    })?;
                    out.content = Some(MaterialContent::Chain(certs));
                }
                2 => p.list(|p| {
                    out.tlog_entries.push(p.tlog_entry()?);
                    Ok(())
                })?,
                3 => {
                    let mut stamps = Vec::new();
                    p.message(&[f("rfc3161Timestamps", "rfc3161_timestamps")], |p, _| {
                        p.list(|p| {
                            let mut der = Vec::new();
                            p.message(&[f("signedTimestamp", "signed_timestamp")], |p, _| {
                                der = p.bytes("signedTimestamp")?;
                                Ok(())
                            })?;
                            stamps.push(der);
                            Ok(())
                        })
                    })?;
                    out.timestamps = Some(stamps);
                }
                _ => out.content = Some(MaterialContent::Certificate(p.certificate()?)),
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn certificate(&mut self) -> Result<Vec<u8>> {
        let mut der = Vec::new();
        self.message(&[f("rawBytes", "raw_bytes")], |p, _| {
            der = p.bytes("rawBytes")?;
            Ok(())
        })?;
        Ok(der)
    }

    fn tlog_entry(&mut self) -> Result<TlogEntry> {
        const FIELDS: &[Field] = &[
            f("logIndex", "log_index"),
            f("logId", "log_id"),
            f("kindVersion", "kind_version"),
            f("integratedTime", "integrated_time"),
            f("inclusionPromise", "inclusion_promise"),
            f("inclusionProof", "inclusion_proof"),
            f("canonicalizedBody", "canonicalized_body"),
        ];
        let mut out = TlogEntry::default();
        self.message(FIELDS, |p, i| {
            match i {
                0 => out.log_index = p.int64("logIndex")?,
                1 => {
                    let mut id = Vec::new();
                    p.message(&[f("keyId", "key_id")], |p, _| {
                        id = p.bytes("keyId")?;
                        Ok(())
                    })?;
                    out.log_id = Some(id);
                }
                2 => {
                    let (mut kind, mut version) = (String::new(), String::new());
                    p.message(&[f("kind", "kind"), f("version", "version")], |p, j| {
                        if j == 0 {
                            kind = p.string("kind")?;
                        } else {
                            version = p.string("version")?;
                        }
                        Ok(())
                    })?;
                    out.kind_version = Some((kind, version));
                }
                3 => out.integrated_time = p.int64("integratedTime")?,
                4 => {
                    let mut set = Vec::new();
                    let fields = [f("signedEntryTimestamp", "signed_entry_timestamp")];
                    p.message(&fields, |p, _| {
                        set = p.bytes("signedEntryTimestamp")?;
                        Ok(())
                    })?;
                    out.inclusion_promise = Some(set);
                }
                5 => out.inclusion_proof = Some(p.inclusion_proof()?),
                _ => out.canonicalized_body = p.bytes("canonicalizedBody")?,
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn inclusion_proof(&mut self) -> Result<InclusionProof> {
        const FIELDS: &[Field] = &[
            f("logIndex", "log_index"),
            f("rootHash", "root_hash"),
            f("treeSize", "tree_size"),
            f("hashes", "hashes"),
            f("checkpoint", "checkpoint"),
        ];
        let mut out = InclusionProof::default();
        self.message(FIELDS, |p, i| {
            match i {
                0 => out.log_index = p.int64("logIndex")?,
                1 => {
                    p.bytes("rootHash")?;
                }
                2 => out.tree_size = p.int64("treeSize")?,
                3 => p.list(|p| {
                    p.bytes("hashes")?;
                    out.hashes += 1;
                    Ok(())
                })?,
                _ => {
                    let mut envelope = String::new();
                    p.message(&[f("envelope", "envelope")], |p, _| {
                        envelope = p.string("envelope")?;
                        Ok(())
                    })?;
                    out.checkpoint = Some(envelope);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn envelope(&mut self) -> Result<Envelope> {
        const FIELDS: &[Field] = &[
            f("payload", "payload"),
            f("payloadType", "payloadType"),
            f("signatures", "signatures"),
        ];
        let mut out = Envelope::default();
        self.message(FIELDS, |p, i| {
            match i {
                0 => out.payload = p.bytes("payload")?,
                1 => out.payload_type = p.string("payloadType")?,
                _ => p.list(|p| {
                    let (mut sig, mut keyid) = (Vec::new(), String::new());
                    p.message(&[f("sig", "sig"), f("keyid", "keyid")], |p, j| {
                        if j == 0 {
                            sig = p.bytes("sig")?;
                        } else {
                            keyid = p.string("keyid")?;
                        }
                        Ok(())
                    })?;
                    out.signatures.push((sig, keyid));
                    Ok(())
                })?,
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn message_signature(&mut self) -> Result<MessageSignature> {
        const FIELDS: &[Field] = &[
            f("messageDigest", "message_digest"),
            f("signature", "signature"),
        ];
        let mut out = MessageSignature::default();
        self.message(FIELDS, |p, i| {
            if i == 0 {
                let (mut alg, mut digest) = (0, Vec::new());
                p.message(
                    &[f("algorithm", "algorithm"), f("digest", "digest")],
                    |p, j| {
                        if j == 0 {
                            alg = p.hash_algorithm("algorithm")?;
                        } else {
                            digest = p.bytes("digest")?;
                        }
                        Ok(())
                    },
                )?;
                out.digest = Some((alg, digest));
            } else {
                out.signature = p.bytes("signature")?;
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protojson_rules() {
        let b = parse(br#"{"media_type":"m","messageSignature":{"signature":"AQ"}}"#).unwrap();
        assert_eq!(b.media_type, "m");
        assert!(b.verification_material.is_none());
        let Some(Content::MessageSignature(sig)) = b.content else {
            panic!("no message signature")
        };
        assert_eq!(sig.signature, vec![1]);
        for (json, error) in [
            (r#"{"foo":1}"#, r#"proto: (line 1:2): unknown field "foo""#),
            (
                r#"{"mediaType":"a","media_type":"b"}"#,
                r#"proto: (line 1:18): duplicate field "media_type""#,
            ),
            (
                r#"{"messageSignature":{},"dsseEnvelope":{}}"#,
                r#"proto: (line 1:24): error parsing "dsseEnvelope", oneof dev.sigstore.bundle.v1.Bundle.content is already set"#,
            ),
            (
                "{\n\"verificationMaterial\":{\"tlogEntries\":[{\"logIndex\":\"x\"}]}}",
                r#"proto: (line 2:52): invalid value for int64 field logIndex: "x""#,
            ),
            ("[]", "proto: syntax error (line 1:1): unexpected token ["),
            (
                "{} {}",
                "proto: syntax error (line 1:4): unexpected token {",
            ),
            ("", "proto: syntax error (line 1:1): unexpected token "),
            ("{", "proto: unexpected EOF"),
        ] {
            assert_eq!(parse(json.as_bytes()).unwrap_err(), error, "{json}");
        }
        // null leaves a oneof member unset.
        let b = parse(br#"{"messageSignature":null,"dsseEnvelope":{"payload":"_w"}}"#).unwrap();
        let Some(Content::Dsse(env)) = b.content else {
            panic!("no envelope")
        };
        assert_eq!(env.payload, vec![0xff]);
        let b = parse(
            br#"{"verificationMaterial":{"tlogEntries":[{"logIndex":"1e3","integratedTime":2.0}]}}"#,
        )
        .unwrap();
        let entry = &b.verification_material.unwrap().tlog_entries[0];
        assert_eq!((entry.log_index, entry.integrated_time), (1000, 2));
    }
}
