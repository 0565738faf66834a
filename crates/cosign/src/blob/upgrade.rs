//! `cosign bundle upgrade`: a Sigstore bundle v0.1 or v0.2 made v0.3, as Go cosign does it: a
//! certificate chain cut to its leaf, each log entry that has only a signed entry timestamp
//! completed with its inclusion proof from Rekor (by log index), the media type set to v0.3.
//!
//! Unlike Go, the entry Rekor returns replaces the bundle's only when it is the same entry
//! (same canonicalized body) and carries an inclusion proof; anything else fails the upgrade.

use cosign_tlog::{LogEntry, RekorClient};
use cosign_types::bundle::{
    BUNDLE_V01_MEDIA_TYPE, BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE, Bundle,
    VerificationMaterialContent,
};

use crate::Error;

/// The result of an upgrade.
#[derive(Debug)]
pub enum Upgraded {
    /// The bundle is v0.3 already: its bytes, unchanged.
    AlreadyCurrent(Vec<u8>),
    /// The upgraded bundle's JSON.
    Upgraded(Vec<u8>),
}

/// Upgrades the bundle in `data`, reporting each step through `notice` in Go cosign's words.
/// The log is asked only for entries without an inclusion proof.
pub async fn upgrade_bundle(
    data: &[u8],
    client: &RekorClient,
    notice: &mut (dyn FnMut(&str) + Send),
) -> Result<Upgraded, Error> {
    let mut bundle =
        Bundle::from_json(data).map_err(|e| Error::format("unmarshaling bundle", e))?;
    match bundle.media_type.as_str() {
        BUNDLE_V03_MEDIA_TYPE | "application/vnd.dev.sigstore.bundle+json;version=0.3" => {
            notice("Bundle is already at v0.3, no upgrade needed.");
            return Ok(Upgraded::AlreadyCurrent(data.to_vec()));
        }
        BUNDLE_V01_MEDIA_TYPE => notice("Upgrading from v0.1 to v0.3..."),
        BUNDLE_V02_MEDIA_TYPE => notice("Upgrading from v0.2 to v0.3..."),
        other => {
            return Err(Error::Invalid {
                what: "upgrading bundle".into(),
                reason: format!("unsupported bundle version: {other}"),
            });
        }
    }

    if let VerificationMaterialContent::X509CertificateChain(chain) =
        &bundle.verification_material.content
        && !chain.certificates.is_empty()
    {
        notice("Truncating certificate chain to only the leaf certificate...");
        for (i, cert) in chain.certificates.iter().enumerate() {
            match cosign_trust::x509::Certificate::from_der(&cert.raw_bytes) {
                Ok(c) => notice(&format!("  Certificate {i} Identity: {}", identity(&c))),
                Err(e) => notice(&format!("  Certificate {i}: <unable to parse: {e}>")),
            }
        }
        let leaf = chain.certificates[0].clone();
        bundle.verification_material.content = VerificationMaterialContent::Certificate(leaf);
    }

    for entry in &mut bundle.verification_material.tlog_entries {
        if entry.inclusion_promise.is_none() || entry.inclusion_proof.is_some() {
            continue;
        }
        let index = entry.log_index;
        notice(&format!(
            "Fetching missing inclusion proof from Rekor for log index {index}..."
        ));
        let fetched: LogEntry =
            client
                .get_entry_by_index(index)
                .await
                .map_err(|e| Error::Tlog {
                    context: "fetching log entry by index".into(),
                    source: Box::new(e),
                })?;
        if fetched.body != entry.canonicalized_body {
            return Err(Error::Verification(format!(
                "the log's entry at index {index} ({}) is not the bundle's entry: refusing its proof",
                client.base_url()
            )));
        }
        if fetched.inclusion_proof.is_none() {
            return Err(Error::Verification(format!(
                "the log's entry at index {index} ({}) has no inclusion proof",
                client.base_url()
            )));
        }
        *entry = fetched.to_bundle_entry().map_err(|e| Error::Tlog {
            context: "generating proto entry".into(),
            source: Box::new(e),
        })?;
    }
    bundle.media_type = BUNDLE_V03_MEDIA_TYPE.to_owned();
    Ok(Upgraded::Upgraded(bundle.to_json()))
}

/// What Go cosign prints for a certificate: its first email, else its first URI, else its
/// subject, else `<none>`.
fn identity(cert: &cosign_trust::x509::Certificate) -> String {
    use cosign_trust::x509::fulcio::{San, subject_alternative_names};
    let sans = subject_alternative_names(cert).unwrap_or_default();
    let email = sans.iter().find(|s| matches!(s, San::Email(_)));
    let uri = sans.iter().find(|s| matches!(s, San::Uri(_)));
    match email.or(uri) {
        Some(san) => san.to_string(),
        None => {
            let subject = cert.subject_string();
            if subject.is_empty() {
                "<none>".to_owned()
            } else {
                subject
            }
        }
    }
}
