//! The transparency log in the flows: recording signatures (and checking the log's answer is
//! bound to what was sent), and verifying a signature's log entry offline (from a bundle) or
//! online (search by artifact hash), always tied to the artifact, signature and key
//! (GHSA-ccxc-vr6p-4858, GHSA-8gw7-4j42-w388, GHSA-whqx-f9j3-ch6m).

use cosign_crypto::PublicKey;
use cosign_tlog::entry;
use cosign_tlog::{
    Expected, LogEntry, RekorClient, SearchQuery, TlogError, TrustedLogs, VerifiedEntry,
    verify_entry,
};
use cosign_types::Digest;

use crate::Error;

/// Most log entries examined in an online lookup.
const MAX_ONLINE_CANDIDATES: usize = 32;

fn tlog_err(context: impl Into<String>) -> impl FnOnce(TlogError) -> Error {
    let context = context.into();
    move |e| Error::Tlog {
        context,
        source: Box::new(e),
    }
}

/// Where signatures are recorded.
#[derive(Clone)]
pub struct TlogUpload {
    /// The log.
    pub client: RekorClient,
    /// The log keys to check its answers with (`SIGSTORE_REKOR_PUBLIC_KEY`, a trusted root); when
    /// absent the log's own key is fetched and used (it still proves the answer is well formed
    /// and bound to our entry).
    pub trusted: Option<TrustedLogs>,
}

/// How log entries are verified.
#[derive(Clone)]
pub struct TlogVerify {
    /// The log keys trusted.
    pub trusted: TrustedLogs,
    /// For online lookups when a signature carries no bundle (None: offline only).
    pub client: Option<RekorClient>,
}

/// The outcome of checking one signature's log entry.
#[derive(Clone, Debug)]
pub struct TlogOutcome {
    /// The verified entry.
    pub entry: VerifiedEntry,
    /// True when proven from the bundle alone, false when found online.
    pub offline: bool,
}

async fn trusted_for_upload(up: &TlogUpload) -> Result<TrustedLogs, Error> {
    match &up.trusted {
        Some(t) => Ok(t.clone()),
        None => {
            let key = up
                .client
                .public_key(None)
                .await
                .map_err(tlog_err("fetching the transparency log's public key"))?;
            Ok(TrustedLogs::from_public_key(key))
        }
    }
}

async fn create_or_fetch(
    client: &RekorClient,
    proposed: &serde_json::Value,
) -> Result<LogEntry, Error> {
    match client.create_entry(proposed).await {
        Ok(e) => Ok(e),
        Err(TlogError::AlreadyExists { uuid }) => client
            .get_entry(&uuid)
            .await
            .map_err(tlog_err(format!("fetching the existing log entry {uuid}"))),
        Err(e) => Err(tlog_err("uploading to the transparency log")(e)),
    }
}

/// Sends `proposed` to the log (an existing identical entry is fetched instead) and verifies
/// the answer against the trusted log keys and `expected`.
async fn record(
    up: &TlogUpload,
    proposed: &serde_json::Value,
    expected: &Expected<'_>,
) -> Result<LogEntry, Error> {
    let logged = create_or_fetch(&up.client, proposed).await?;
    let trusted = trusted_for_upload(up).await?;
    verify_entry(&logged, &trusted, expected)
        .map_err(tlog_err("checking the transparency log's answer"))?;
    Ok(logged)
}

/// What an envelope's log entry must carry: its signature, key and the envelope itself.
fn envelope_expected<'a>(
    envelope_json: &'a [u8],
    signature: &'a [u8],
    key: &'a PublicKey,
) -> Expected<'a> {
    Expected {
        artifact_digest: None,
        signature: Some(signature),
        verifier: Some(key),
        verifier_cert_der: None,
        envelope: Some(envelope_json),
    }
}

/// Records a signature over `digest` (hashedrekord) and verifies the log's answer.
pub async fn upload_hashedrekord(
    up: &TlogUpload,
    digest: &Digest,
    signature: &[u8],
    key: &PublicKey,
    verifier_pem: &[u8],
) -> Result<LogEntry, Error> {
    let expected = Expected {
        artifact_digest: Some(digest),
        signature: Some(signature),
        verifier: Some(key),
        verifier_cert_der: None,
        envelope: None,
    };
    record(
        up,
        &entry::hashedrekord(digest, signature, verifier_pem),
        &expected,
    )
    .await
}

/// Records a DSSE envelope (dsse 0.0.1) and verifies the log's answer.
pub async fn upload_dsse(
    up: &TlogUpload,
    envelope_json: &[u8],
    signature: &[u8],
    key: &PublicKey,
    verifier_pem: &[u8],
) -> Result<LogEntry, Error> {
    let proposed = entry::dsse(envelope_json, &[verifier_pem]);
    record(
        up,
        &proposed,
        &envelope_expected(envelope_json, signature, key),
    )
    .await
}

/// Records a DSSE envelope as an `intoto` 0.0.2 entry (`--rekor-entry-type intoto`) and
/// verifies the log's answer.
pub async fn upload_intoto(
    up: &TlogUpload,
    envelope_json: &[u8],
    signature: &[u8],
    key: &PublicKey,
    verifier_pem: &[u8],
) -> Result<LogEntry, Error> {
    let proposed = entry::intoto(envelope_json, verifier_pem);
    record(
        up,
        &proposed,
        &envelope_expected(envelope_json, signature, key),
    )
    .await
}

/// Verifies the log entry of a signature: from `bundled` when the signature carries one, else
/// by searching the log for `search_digest`. Every entry must match `expected`.
pub async fn verify_signature_entry(
    tv: &TlogVerify,
    bundled: Option<&LogEntry>,
    search_digest: Option<&Digest>,
    expected: &Expected<'_>,
) -> Result<TlogOutcome, Error> {
    if let Some(entry) = bundled {
        let verified = verify_entry(entry, &tv.trusted, expected).map_err(tlog_err(
            "verifying the transparency log entry in the bundle",
        ))?;
        return Ok(TlogOutcome {
            entry: verified,
            offline: true,
        });
    }
    let Some(client) = &tv.client else {
        return Err(Error::Verification(
            "the signature has no transparency log bundle and offline verification was requested"
                .into(),
        ));
    };
    let Some(digest) = search_digest else {
        return Err(Error::Verification(
            "the signature has no transparency log bundle to verify".into(),
        ));
    };
    let uuids = client
        .search_index(&SearchQuery {
            hash: Some(digest.clone()),
            public_key: None,
            operator: None,
        })
        .await
        .map_err(tlog_err(format!(
            "searching the transparency log for {digest}"
        )))?;
    let mut last_error = None;
    for uuid in uuids.iter().take(MAX_ONLINE_CANDIDATES) {
        let entry = match client.get_entry(uuid).await {
            Ok(e) => e,
            Err(e) => {
                last_error = Some(e.to_string());
                continue;
            }
        };
        match verify_entry(&entry, &tv.trusted, expected) {
            Ok(verified) => {
                return Ok(TlogOutcome {
                    entry: verified,
                    offline: false,
                });
            }
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    Err(Error::Verification(match last_error {
        Some(e) => format!("no matching transparency log entry found for {digest}: {e}"),
        None => format!("no transparency log entry found for {digest}"),
    }))
}
