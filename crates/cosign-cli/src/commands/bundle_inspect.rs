//! `cosign bundle inspect BUNDLE`: prints what a Sigstore bundle holds as Go cosign 3.1.2 does,
//! a tree of `- Label: value` lines, with `[!] WARNING` nodes where the bundle breaks the rules
//! of its media type. Nothing is verified. The trusted root of an initialized TUF repository
//! (`cosign initialize`) names the logs and the certificate authority; without one the IDs are
//! printed, and nothing is fetched.
//!
//! What is printed, and what fails to parse, follows the Go readers, so each part is read as
//! they read it: the bundle as protojson ([`wire`], [`json`]), certificates as `crypto/x509`
//! ([`x509`], [`der`]) with their URIs as `net/url` ([`url`]), checkpoints as Rekor's
//! `util.SignedCheckpoint` ([`note`]), SCT lists as certificate-transparency-go ([`sct`]).
//! RFC 3161 timestamps are read by `cosign_trust::timestamp`, with digitorus/timestamp's checks.
//! (The workspace's own parsers of these, built for verification, are stricter in places; Go
//! cosign prints what its readers accept.)

mod der;
mod json;
mod note;
mod sct;
mod url;
mod wire;
mod x509;

use std::io::Read as _;
use std::time::Duration;

use anyhow::{Result, anyhow};
use base64::Engine as _;
use cosign_trust::create::go_io_error;
use cosign_trust::trusted_root::TrustedRoot;

use crate::args::BundleInspectArgs;
use crate::ctx::Ctx;
use der::{Der, GoTime, OCTET_STRING, SEQUENCE};
use wire::{Content, MaterialContent};
use x509::{GoCertificate, PublicKey};

/// Largest bundle read (Go reads any size; DSSE payloads of SBOMs can be large).
const BUNDLE_LIMIT: u64 = 256 << 20;

/// The media types Go cosign recognizes, with the bundle minor version each names.
const MEDIA_TYPES: [(&str, u32); 4] = [
    ("application/vnd.dev.sigstore.bundle+json;version=0.1", 1),
    ("application/vnd.dev.sigstore.bundle+json;version=0.2", 2),
    ("application/vnd.dev.sigstore.bundle+json;version=0.3", 3),
    ("application/vnd.dev.sigstore.bundle.v0.3+json", 3),
];

/// Fulcio's certificate extensions, by OID (docs/oid-info.md of Fulcio), as Go cosign names
/// them.
const FULCIO_EXTENSIONS: [(&str, &str); 24] = [
    ("1.3.6.1.4.1.57264.1.1", "OIDC Issuer"),
    ("1.3.6.1.4.1.57264.1.2", "GitHub Workflow Trigger"),
    ("1.3.6.1.4.1.57264.1.3", "GitHub Workflow SHA"),
    ("1.3.6.1.4.1.57264.1.4", "GitHub Workflow Name"),
    ("1.3.6.1.4.1.57264.1.5", "GitHub Workflow Repository"),
    ("1.3.6.1.4.1.57264.1.6", "GitHub Workflow Ref"),
    ("1.3.6.1.4.1.57264.1.7", "OtherName SAN"),
    ("1.3.6.1.4.1.57264.1.8", "Issuer (V2)"),
    ("1.3.6.1.4.1.57264.1.9", "Build Signer URI"),
    ("1.3.6.1.4.1.57264.1.10", "Build Signer Digest"),
    ("1.3.6.1.4.1.57264.1.11", "Runner Environment"),
    ("1.3.6.1.4.1.57264.1.12", "Source Repository URI"),
    ("1.3.6.1.4.1.57264.1.13", "Source Repository Digest"),
    ("1.3.6.1.4.1.57264.1.14", "Source Repository Ref"),
    ("1.3.6.1.4.1.57264.1.15", "Source Repository Identifier"),
    ("1.3.6.1.4.1.57264.1.16", "Source Repository Owner URI"),
    (
        "1.3.6.1.4.1.57264.1.17",
        "Source Repository Owner Identifier",
    ),
    ("1.3.6.1.4.1.57264.1.18", "Build Config URI"),
    ("1.3.6.1.4.1.57264.1.19", "Build Config Digest"),
    ("1.3.6.1.4.1.57264.1.20", "Build Trigger"),
    ("1.3.6.1.4.1.57264.1.21", "Run Invocation URI"),
    (
        "1.3.6.1.4.1.57264.1.22",
        "Source Repository Visibility At Signing",
    ),
    ("1.3.6.1.4.1.57264.1.23", "Deployment Environment"),
    ("1.3.6.1.4.1.57264.1.24", "Token Subject"),
];

/// Extensions printed before the others (key usages, key IDs, SAN), skipped in their loop.
const HANDLED_EXTENSIONS: [&str; 5] = [
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.17",
];

/// The precertificate SCT list extension.
const SCT_EXTENSION: &str = "1.3.6.1.4.1.11129.2.4.2";

/// Go's `x509.KeyUsage` bits in order, with cosign's names.
const KEY_USAGES: [&str; 9] = [
    "Digital Signature",
    "Content Commitment",
    "Key Encipherment",
    "Data Encipherment",
    "Key Agreement",
    "Cert Sign",
    "CRL Sign",
    "Encipher Only",
    "Decipher Only",
];

const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Runs `cosign bundle inspect`.
pub fn run(a: &BundleInspectArgs, ctx: &Ctx<'_>) -> Result<()> {
    let p = ctx.printer;
    p.info("WARNING: This command only inspects the contents of the bundle.");
    p.info("It does not perform cryptographic verification or verify log inclusion.");
    p.info("");
    let trusted = match trusted_root(ctx.timeout) {
        Ok(root) => Some(root),
        Err(e) => {
            p.info(&format!(
                "Local TUF environment not initialized, some details will be omitted: {e}"
            ));
            None
        }
    };
    let data = read_bundle(&a.bundle)?;
    let bundle = wire::parse(&data).map_err(|e| anyhow!("unmarshaling bundle: {e}"))?;
    let mut out = Vec::new();
    summarize(&bundle, trusted.as_ref()).print(&mut out, 0);
    p.out_bytes(&out)?;
    Ok(())
}

/// The trusted root of the TUF repository `cosign initialize` set up (Go's
/// `cosign.TrustedRoot()`); the error is the reason printed when there is none. Nothing is
/// fetched when no repository was initialized (Go would fetch the public-good one).
fn trusted_root(timeout: Duration) -> Result<TrustedRoot, String> {
    const HEAD: &str = "error getting live trusted root";
    match crate::settings::trust::initialized_trusted_root(timeout) {
        Ok(Some(json)) => TrustedRoot::from_json(&json).map_err(|e| format!("{HEAD}: {e}")),
        Ok(None) => Err(match crate::settings::trust::cache_dir() {
            Some(dir) => format!(
                "{HEAD}: no TUF repository initialized in {} (run cosign initialize)",
                dir.display()
            ),
            None => format!("{HEAD}: no TUF cache directory (neither TUF_ROOT nor HOME is set)"),
        }),
        Err(e) => Err(format!("{HEAD}: {}", crate::exit::message(&e))),
    }
}

fn read_bundle(path: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow!("opening bundle file: {}", go_io_error("open", path, &e)))?;
    let mut data = Vec::new();
    file.take(BUNDLE_LIMIT + 1)
        .read_to_end(&mut data)
        .map_err(|e| anyhow!("reading bundle: {}", go_io_error("read", path, &e)))?;
    if data.len() as u64 > BUNDLE_LIMIT {
        return Err(anyhow!(
            "reading bundle: read {path}: more than {BUNDLE_LIMIT} bytes"
        ));
    }
    Ok(data)
}

/// One line of the tree and the lines under it.
#[derive(Debug, Default)]
struct Node {
    label: String,
    value: Vec<u8>,
    children: Vec<Node>,
}

impl Node {
    fn add(&mut self, label: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut Node {
        let i = self.children.len();
        self.children.push(Node {
            label: label.into(),
            value: value.into(),
            children: Vec::new(),
        });
        &mut self.children[i]
    }

    fn warn(&mut self, text: impl Into<Vec<u8>>) {
        self.add("[!] WARNING", text);
    }

    /// `- Label: value` (or `- Label:`) indented two spaces a level; the unlabelled root prints
    /// only its children.
    fn print(&self, out: &mut Vec<u8>, mut depth: usize) {
        if !self.label.is_empty() {
            out.extend_from_slice("  ".repeat(depth).as_bytes());
            out.extend_from_slice(b"- ");
            out.extend_from_slice(self.label.as_bytes());
            out.push(b':');
            if !self.value.is_empty() {
                out.push(b' ');
                out.extend_from_slice(&self.value);
            }
            out.push(b'\n');
            depth += 1;
        }
        for child in &self.children {
            child.print(out, depth);
        }
    }
}

fn present(len: usize) -> String {
    format!("Present ({len} bytes)")
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, line breaks skipped, non-zero
/// trailing bits allowed.
fn std_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
            .with_decode_allow_trailing_bits(true),
    );
    let text: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    engine.decode(text).ok()
}

/// A key or hint in hex, or the text itself when it is not standard base64.
fn hint_text(hint: &str) -> String {
    std_base64(hint).map_or_else(|| hint.to_owned(), hex::encode)
}

/// Long hex shortened to its first and last 8 digits with the byte count.
fn short_hex(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    if h.len() > 20 {
        format!(
            "{}...{} ({} bytes)",
            &h[..8],
            &h[h.len() - 8..],
            bytes.len()
        )
    } else {
        h
    }
}

fn summarize(bundle: &wire::Bundle, tr: Option<&TrustedRoot>) -> Node {
    let mut root = Node::default();
    root.add("Bundle Media Type", bundle.media_type.as_str());
    let version = MEDIA_TYPES
        .iter()
        .find(|(m, _)| *m == bundle.media_type)
        .map(|(_, v)| *v);
    if bundle.media_type.is_empty() {
        root.warn("Missing Bundle Media Type");
    } else if version.is_none() {
        root.warn("Unrecognized Media Type");
    }
    match &bundle.verification_material {
        Some(vm) => material_summary(&mut root, vm, tr, version.unwrap_or(0)),
        None => root.warn("Missing Verification Material"),
    }
    match &bundle.content {
        Some(content) => content_summary(&mut root, content, bundle),
        None => root.warn("Missing Content"),
    }
    root
}

fn material_summary(
    root: &mut Node,
    vm: &wire::VerificationMaterial,
    tr: Option<&TrustedRoot>,
    version: u32,
) {
    let vm_node = root.add("Verification Material", "");
    match &vm.content {
        Some(MaterialContent::Certificate(der)) => {
            let node = vm_node.add("Content", "X.509 Certificate");
            if der.is_empty() {
                node.warn("Certificate raw_bytes is empty");
            } else {
                certificate_summary(node, der, tr);
            }
            if version > 0 && version < 3 {
                node.warn("v0.1/v0.2 bundle should use certificate chain, not single certificate");
            }
        }
        Some(MaterialContent::Chain(certs)) => {
            let node = vm_node.add("Content", "X.509 Certificate Chain");
            if certs.is_empty() {
                node.warn("Certificate chain is empty");
            } else {
                node.add("Certificates", certs.len().to_string());
                for (i, der) in certs.iter().enumerate() {
                    certificate_summary(node.add(format!("Certificate [{i}]"), ""), der, tr);
                }
            }
            if version >= 3 {
                node.warn("v0.3 bundle should use single certificate, not chain");
            }
        }
        Some(MaterialContent::PublicKey(hint)) => {
            let node = vm_node.add("Content", "Public Key Identifier");
            if hint.is_empty() {
                node.warn("Public key hint is empty");
            } else {
                node.add("Hint", hint_text(hint));
            }
        }
        None => vm_node.warn(
            "Missing Verification Material Content (must be certificate, chain, or public key)",
        ),
    }

    if !vm.tlog_entries.is_empty() {
        let tlog_node = vm_node.add(
            "Transparency Log Entries",
            vm.tlog_entries.len().to_string(),
        );
        for (i, entry) in vm.tlog_entries.iter().enumerate() {
            let node = tlog_node.add(format!("Entry [{i}]"), "");
            tlog_entry_summary(node, entry, tr);
            if version == 1 && entry.inclusion_promise.is_none() {
                node.warn("v0.1 bundle tlog entry MUST contain an inclusion promise");
            }
            if version >= 2 && entry.inclusion_proof.is_none() {
                node.warn(format!(
                    "v0.{version} bundle tlog entry MUST contain an inclusion proof"
                ));
            }
        }
    }

    if let Some(stamps) = &vm.timestamps {
        timestamp_summary(vm_node.add("Timestamp Verification Data", ""), stamps);
    }
}

fn certificate_summary(n: &mut Node, der: &[u8], tr: Option<&TrustedRoot>) {
    let cert = match GoCertificate::parse(der) {
        Ok(c) => c,
        Err(e) => {
            n.add("Error", format!("parsing certificate: {e}"));
            return;
        }
    };
    n.add("Signature Algorithm", cert.signature_algorithm);
    let subject = cert.subject.go_string();
    if !subject.is_empty() {
        n.add("Subject", subject);
    }
    let issuer_cn = cert.issuer.common_name();
    let (org, country) = (cert.issuer.organization(), cert.issuer.country());
    if !issuer_cn.is_empty() || org.is_some() || country.is_some() {
        let issuer = n.add("Issuer", "");
        if !issuer_cn.is_empty() {
            issuer.add("Common Name", issuer_cn);
        }
        if let Some(o) = org {
            issuer.add("Organization", o);
        }
        if let Some(c) = country {
            issuer.add("Country", c);
        }
    }
    let validity = n.add("Validity", "");
    validity.add("Not Before", cert.not_before.rfc3339());
    validity.add("Not After", cert.not_after.rfc3339());

    let spki = n.add("Subject Public Key Info", "");
    match &cert.public_key {
        PublicKey::Ecdsa { curve, point } => {
            spki.add("Algorithm", "ECDSA");
            spki.add("Curve", *curve);
            spki.add(
                "Public Key",
                match point {
                    Some(p) => short_hex(p),
                    None => "Error extracting key: ecdsa: unsupported curve by crypto/ecdh".into(),
                },
            );
        }
        PublicKey::Ed25519(key) => {
            spki.add("Algorithm", "Ed25519");
            spki.add("Public Key", short_hex(key));
        }
        PublicKey::Rsa(bits) => {
            spki.add("Algorithm", "RSA");
            spki.add("Key Size", format!("{bits} bits"));
        }
        PublicKey::Other => {
            spki.add("Algorithm", "Unknown");
        }
    }

    let exts = n.add("Extensions", "");
    let cn = cert.subject.common_name();
    if !cn.is_empty() || !cert.email_addresses.is_empty() || !cert.uris.is_empty() {
        let identity = exts.add("Identity (Subject Alternative Name)", "");
        if !cn.is_empty() {
            identity.add("Common Name", cn);
        }
        for email in &cert.email_addresses {
            identity.add("Email", email.as_str());
        }
        for uri in &cert.uris {
            identity.add("URI", uri.as_str());
        }
    }
    let usages: Vec<&str> = KEY_USAGES
        .iter()
        .enumerate()
        .filter(|(i, _)| cert.key_usage & (1 << i) != 0)
        .map(|(_, name)| *name)
        .collect();
    if !usages.is_empty() {
        exts.add("Key Usage", usages.join(", "));
    }
    if !cert.ext_key_usage.is_empty() {
        exts.add("Extended Key Usage", cert.ext_key_usage.join(", "));
    }
    if !cert.unknown_ext_key_usage.is_empty() {
        exts.add(
            "Unknown Extended Key Usage",
            cert.unknown_ext_key_usage.join(", "),
        );
    }
    if !cert.subject_key_id.is_empty() {
        exts.add("Subject Key ID", hex::encode(&cert.subject_key_id));
    }
    if !cert.authority_key_id.is_empty() {
        let key_id = hex::encode(&cert.authority_key_id);
        match fulcio_url(tr, &key_id) {
            Some(url) => exts.add("Authority URL", url),
            None => exts.add("Authority Key ID", key_id),
        };
    }

    for ext in &cert.extensions {
        let oid = ext.id.to_string();
        if HANDLED_EXTENSIONS.contains(&oid.as_str()) {
            continue;
        }
        if oid == SCT_EXTENSION && sct_summary(exts, &ext.value, tr) {
            continue;
        }
        match FULCIO_EXTENSIONS.iter().find(|(o, _)| *o == oid) {
            Some((_, name)) => {
                let value = asn1_string(&ext.value).unwrap_or_else(|| ext.value.clone());
                exts.add(*name, value);
            }
            None => {
                exts.add(
                    format!("OID: {oid}"),
                    format!("(Critical: {}) [{} bytes]", ext.critical, ext.value.len()),
                );
            }
        }
    }

    n.add("Signature", present(cert.signature_len));
}

/// The embedded SCTs, when the extension holds any that parse; false otherwise (the extension
/// is then listed as an unknown OID, as Go cosign does).
fn sct_summary(exts: &mut Node, value: &[u8], tr: Option<&TrustedRoot>) -> bool {
    let scts = sct::parse_list(value).unwrap_or_default();
    if scts.is_empty() {
        return false;
    }
    let node = exts.add("Signed Certificate Timestamps", scts.len().to_string());
    for (i, sct) in scts.iter().enumerate() {
        let s = node.add(format!("Signed Certificate Timestamp [{i}]"), "");
        s.add("Version", format!("v{}", u16::from(sct.version) + 1));
        match tr.and_then(|t| last_log(&t.ctlogs, &sct.log_id)) {
            Some(url) => s.add("Log URL", url),
            None => s.add("Log ID", hex::encode(sct.log_id)),
        };
        // Go: time.Unix(0, int64(ms)*1e6), whose int64 arithmetic wraps.
        let nanos = (sct.timestamp_ms as i64).wrapping_mul(1_000_000);
        s.add(
            "Timestamp",
            GoTime::utc(nanos.div_euclid(1_000_000_000)).rfc3339(),
        );
        let ext = if sct.extensions_len == 0 {
            "none".to_owned()
        } else {
            format!("{} bytes", sct.extensions_len)
        };
        s.add("Extensions", ext);
        s.add("Signature", present(sct.signature_len));
    }
    true
}

/// Go's `asn1.Unmarshal` into a string: the contents of a universal string type (trailing
/// data ignored); None for anything else.
fn asn1_string(value: &[u8]) -> Option<Vec<u8>> {
    let (tag, body, _) = Der(value).read_any()?;
    match tag {
        // PrintableString (with `*` and `&`).
        0x13 => body
            .iter()
            .all(|&b| {
                b.is_ascii_alphanumeric()
                    || (b'\''..=b')').contains(&b)
                    || (b'+'..=b'/').contains(&b)
                    || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
            })
            .then(|| body.to_vec()),
        0x12 => body
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b' ')
            .then(|| body.to_vec()),
        0x16 => body.is_ascii().then(|| body.to_vec()),
        // T61String and GeneralString: the bytes as they are.
        0x14 | 0x1b => Some(body.to_vec()),
        0x0c => std::str::from_utf8(body)
            .ok()
            .map(|s| s.as_bytes().to_vec()),
        0x1e => {
            if body.len() % 2 != 0 {
                return None;
            }
            let body = match body {
                [rest @ .., 0, 0] => rest,
                b => b,
            };
            let units: Vec<u16> = body
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or_default()]))
                .collect();
            Some(String::from_utf16_lossy(&units).into_bytes())
        }
        _ => None,
    }
}

/// The URI of the certificate authority whose root or intermediate has this key ID.
fn fulcio_url(tr: Option<&TrustedRoot>, key_id: &str) -> Option<String> {
    for ca in &tr?.certificate_authorities {
        let certs = ca.root().into_iter().chain(ca.intermediates());
        for cert in certs {
            // sigstore-go reads them with crypto/x509.
            let ski = GoCertificate::parse(cert.der()).map(|c| c.subject_key_id);
            if ski.is_ok_and(|ski| hex::encode(ski) == key_id) {
                return Some(ca.uri.clone()).filter(|u| !u.is_empty());
            }
        }
    }
    None
}

/// The base URL of the log with this ID: the last one listed, as a map keyed by log ID keeps
/// it; None when it has none.
fn last_log(logs: &[cosign_trust::trusted_root::LogInstance], id: &[u8]) -> Option<String> {
    logs.iter()
        .rev()
        .find(|l| l.log_id == id)
        .map(|l| l.base_url.clone())
        .filter(|u| !u.is_empty())
}

fn tlog_entry_summary(n: &mut Node, e: &wire::TlogEntry, tr: Option<&TrustedRoot>) {
    n.add("Log Index", e.log_index.to_string());
    if let Some(id) = &e.log_id {
        match tr.and_then(|t| last_log(&t.tlogs, id)) {
            Some(url) => n.add("Log URL", url),
            None => n.add("Log ID", hex::encode(id)),
        };
    }
    if let Some((kind, version)) = &e.kind_version {
        n.add("Kind", kind.as_str());
        n.add("Version", version.as_str());
    }
    if e.integrated_time == 0 {
        n.add("Integrated Time", "0 (Not set)");
    } else {
        n.add("Integrated Time", GoTime::utc(e.integrated_time).rfc3339());
    }
    if let Some(set) = &e.inclusion_promise {
        n.add("Inclusion Promise", "")
            .add("Signed Entry Timestamp", present(set.len()));
    }
    if let Some(proof) = &e.inclusion_proof {
        let p = n.add("Inclusion Proof", "");
        p.add("Log Index", proof.log_index.to_string());
        p.add("Tree Size", proof.tree_size.to_string());
        p.add("Hashes", proof.hashes.to_string());
        if let Some(envelope) = &proof.checkpoint {
            let c = p.add("Checkpoint", "");
            match note::parse(envelope) {
                Some(cp) => {
                    c.add("Origin", cp.origin.as_str());
                    c.add("Tree Size", cp.size.to_string());
                    if !cp.other.is_empty() {
                        let o = c.add("Other Content", format!("{} lines", cp.other.len()));
                        for (i, line) in cp.other.iter().enumerate() {
                            o.add(format!("[{i}]"), line.as_str());
                        }
                    }
                    let w = c.add("Witnesses", cp.signatures.len().to_string());
                    for (name, len) in &cp.signatures {
                        w.add(name.as_str(), format!("Signature Present ({len} bytes)"));
                    }
                }
                None => {
                    c.add("Envelope", present(envelope.len()));
                }
            }
        }
    }
    if !e.canonicalized_body.is_empty() {
        n.add("Canonicalized Body", present(e.canonicalized_body.len()));
    }
}

/// What Go cosign prints of an RFC 3161 timestamp.
struct TimestampInfo {
    time: GoTime,
    hash: &'static str,
    imprint_len: usize,
    serial: String,
    policy: String,
}

fn timestamp_summary(n: &mut Node, stamps: &[Vec<u8>]) {
    n.add("RFC3161 Timestamps", stamps.len().to_string());
    for (i, der) in stamps.iter().enumerate() {
        let node = n.add(format!("Timestamp [{i}]"), "");
        if let Some(info) = parse_timestamp(der) {
            node.add("Time", info.time.rfc3339());
            node.add("Hash Algorithm", info.hash);
            node.add("Message Imprint", present(info.imprint_len));
            node.add("Serial Number", info.serial);
            node.add("Policy", info.policy);
        }
    }
}

/// A `TimeStampResp` as digitorus/timestamp's `ParseResponse` accepts it: status granted, a CMS
/// SignedData token whose signature verifies with its embedded signer certificate when it
/// embeds certificates (nothing is checked when it embeds none), a TSTInfo with a known imprint
/// hash. None otherwise (Go cosign then prints nothing under the timestamp).
fn parse_timestamp(der: &[u8]) -> Option<TimestampInfo> {
    let mut input = Der(der);
    let mut resp = Der(input.read(SEQUENCE)?);
    if !input.is_empty() {
        return None;
    }
    let mut status = Der(resp.read(SEQUENCE)?);
    if status.read_i64()? > 0 {
        return None;
    }
    let (_, _, token) = resp.read_any()?;
    let (tst_info, embeds_certificates) = signed_content(token)?;
    if embeds_certificates {
        let token = cosign_trust::timestamp::TimestampToken::from_der(der).ok()?;
        token.verify_embedded_signer().ok()?;
    }
    let mut info = Der(Der(&tst_info).read(SEQUENCE)?);
    info.read_i64()?;
    let policy = info.read_oid()?;
    let mut imprint = Der(info.read(SEQUENCE)?);
    let mut alg = Der(imprint.read(SEQUENCE)?);
    let hash = match alg.read_oid()?.0.as_slice() {
        [1, 3, 14, 3, 2, 26] => "SHA-1",
        [2, 16, 840, 1, 101, 3, 4, 2, 1] => "SHA-256",
        [2, 16, 840, 1, 101, 3, 4, 2, 2] => "SHA-384",
        [2, 16, 840, 1, 101, 3, 4, 2, 3] => "SHA-512",
        _ => return None,
    };
    let hashed = imprint.read(OCTET_STRING)?;
    if hashed.is_empty() {
        return None;
    }
    let serial = info.read_integer()?;
    let time = der::generalized_time_fraction(info.read(der::GENERALIZED_TIME)?)?;
    Some(TimestampInfo {
        time,
        hash,
        imprint_len: hashed.len(),
        serial: der::integer_decimal(serial),
        policy: policy.to_string(),
    })
}

/// The signed content of a CMS SignedData token and whether it embeds certificates, read as
/// digitorus/pkcs7's `Parse` reads it: the fields after the content are not needed to parse
/// (Go ignores their errors), embedded certificates must parse as Go parses certificates.
fn signed_content(token: &[u8]) -> Option<(Vec<u8>, bool)> {
    const SIGNED_DATA: [u32; 7] = [1, 2, 840, 113549, 1, 7, 2];
    let mut info = Der(Der(token).read(SEQUENCE)?);
    if !info.read_oid()?.is(&SIGNED_DATA) {
        return None;
    }
    let mut sd = Der(Der(info.read(0xa0)?).read(SEQUENCE)?);
    sd.read_i64()?;
    sd.read(der::SET)?;
    let mut encap = Der(sd.read(SEQUENCE)?);
    encap.read_oid()?;
    let (tag, body, _) = Der(encap.read(0xa0)?).read_any()?;
    // A constructed OCTET STRING holds its first chunk; any other element its contents.
    let content = if tag & 0x20 != 0 && tag & 0x1f == 4 {
        Der(body).read(OCTET_STRING)?.to_vec()
    } else {
        body.to_vec()
    };
    let mut certificates = 0;
    if let Some(Some(certs)) = sd.read_optional(0xa0) {
        let mut certs = Der(certs);
        while !certs.is_empty() {
            let (_, _, cert) = certs.read_any()?;
            GoCertificate::parse(cert).ok()?;
            certificates += 1;
        }
    }
    Some((content, certificates > 0))
}

fn content_summary(root: &mut Node, content: &Content, bundle: &wire::Bundle) {
    let node = root.add("Content", "");
    match content {
        Content::Dsse(env) => {
            node.add("Type", "DSSE Envelope");
            node.add("Payload Type", env.payload_type.as_str());
            node.add("Payload", present(env.payload.len()));
            if env.payload_type == IN_TOTO_PAYLOAD_TYPE {
                if let Some(statement) = go_json_object(&env.payload) {
                    let p = node.add("Payload Content (in-toto)", "");
                    if let Some(statement) = statement {
                        if let Some(serde_json::Value::String(t)) = statement.get("predicateType") {
                            p.add("Predicate Type", t.as_str());
                        }
                        if let Some(serde_json::Value::Array(subjects)) = statement.get("subject") {
                            let s = p.add("Subjects", subjects.len().to_string());
                            for subject in subjects {
                                if let Some(serde_json::Value::String(name)) = subject.get("name") {
                                    s.add("Name", name.as_str());
                                }
                            }
                        }
                    }
                }
            }
            node.add("Signatures", env.signatures.len().to_string());
            let sigs_at = node.children.len() - 1;
            let one = env.signatures.len() == 1;
            // Go cosign adds this warning to the content node while it still holds a pointer to
            // the Signatures node, then adds the signatures through that pointer. When the
            // append moves the node's children (Go's slice grows 1, 2, 4, 8...), the signatures
            // land in the old copy and are not printed.
            let lost = !one && node.children.len().is_power_of_two();
            if !one {
                node.warn("DSSE envelope MUST contain only one signature");
            }
            if lost {
                return;
            }
            let material_hint = match bundle.verification_material.as_ref().map(|m| &m.content) {
                Some(Some(MaterialContent::PublicKey(hint))) => Some(hint.as_str()),
                _ => None,
            };
            let sigs = &mut node.children[sigs_at];
            for (i, (sig, keyid)) in env.signatures.iter().enumerate() {
                let s = sigs.add(format!("Signature [{i}]"), "");
                s.add("Signature", present(sig.len()));
                if !keyid.is_empty() {
                    s.add("Key Hint", hint_text(keyid));
                    if material_hint.is_some_and(|h| h != keyid) {
                        s.warn("Key hint mismatch with Verification Material");
                    }
                }
            }
        }
        Content::MessageSignature(ms) => {
            node.add("Type", "Message Signature");
            if let Some((alg, digest)) = &ms.digest {
                let d = node.add("Message Digest", "");
                let name = usize::try_from(*alg)
                    .ok()
                    .and_then(|i| wire::HASH_ALGORITHMS.get(i))
                    .map_or_else(|| alg.to_string(), |n| (*n).to_owned());
                d.add("Algorithm", name);
                d.add("Digest", present(digest.len()));
            }
            node.add("Signature", present(ms.signature.len()));
        }
    }
}

/// Go's `json.Unmarshal` into a `map[string]interface{}`: Some(None) for `null`, None when it
/// fails (not JSON, not an object). Invalid UTF-8 in strings becomes U+FFFD, as in Go.
fn go_json_object(payload: &[u8]) -> Option<Option<serde_json::Map<String, serde_json::Value>>> {
    let text = String::from_utf8_lossy(payload);
    match serde_json::from_str::<serde_json::Value>(&text).ok()? {
        serde_json::Value::Null => Some(None),
        serde_json::Value::Object(map) => Some(Some(map)),
        _ => None,
    }
}
