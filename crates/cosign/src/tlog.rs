//! The transparency log in the flows: recording signatures (and checking the log's answer is
//! bound to what was sent), and verifying a signature's log entry offline (from a bundle) or
//! online (search by artifact hash), always tied to the artifact, signature and key
//! (GHSA-ccxc-vr6p-4858, GHSA-8gw7-4j42-w388, GHSA-whqx-f9j3-ch6m).
//!
//! The log is reached through [`TransparencyLog`], implemented by [`RekorClient`]; the
//! settings ([`TlogUpload`], [`TlogVerify`]) hold a `RekorClient` unless told otherwise, so a
//! fake log (tests) fits wherever the real one does. Nothing a log answers is trusted: every
//! entry goes through [`verify_entry`] against the trusted keys and what was sent or is being
//! verified.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cosign_crypto::PublicKey;
use cosign_tlog::entry;
use cosign_tlog::{
    Expected, LogEntry, LogInfo, RekorClient, SearchQuery, TlogError, TrustedLogs, VerifiedEntry,
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

/// The future a [`TransparencyLog`] call returns.
pub type LogFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TlogError>> + Send + 'a>>;

/// What the flows ask of a transparency log (the Rekor v1 API). Answers are not trusted:
/// callers verify every entry against the trusted log keys and what they expect.
pub trait TransparencyLog: Send + Sync {
    /// Records a proposed entry (`POST /api/v1/log/entries`); an identical entry already
    /// in the log is [`TlogError::AlreadyExists`].
    fn create_entry<'a>(&'a self, proposed: &'a serde_json::Value) -> LogFuture<'a, LogEntry>;
    /// The entry with this UUID or entry ID.
    fn get_entry<'a>(&'a self, uuid: &'a str) -> LogFuture<'a, LogEntry>;
    /// The entry at this global index.
    fn get_entry_by_index(&self, index: i64) -> LogFuture<'_, LogEntry>;
    /// The UUIDs of entries matching `query` (by artifact hash, key).
    fn search_index<'a>(&'a self, query: &'a SearchQuery) -> LogFuture<'a, Vec<String>>;
    /// The log's state (tree size, root hash, signed tree head).
    fn log_info(&self) -> LogFuture<'_, LogInfo>;
    /// The log's public key (of the shard `tree_id`, else the active one).
    fn public_key<'a>(&'a self, tree_id: Option<&'a str>) -> LogFuture<'a, PublicKey>;
}

impl TransparencyLog for RekorClient {
    fn create_entry<'a>(&'a self, proposed: &'a serde_json::Value) -> LogFuture<'a, LogEntry> {
        Box::pin(RekorClient::create_entry(self, proposed))
    }
    fn get_entry<'a>(&'a self, uuid: &'a str) -> LogFuture<'a, LogEntry> {
        Box::pin(RekorClient::get_entry(self, uuid))
    }
    fn get_entry_by_index(&self, index: i64) -> LogFuture<'_, LogEntry> {
        Box::pin(RekorClient::get_entry_by_index(self, index))
    }
    fn search_index<'a>(&'a self, query: &'a SearchQuery) -> LogFuture<'a, Vec<String>> {
        Box::pin(RekorClient::search_index(self, query))
    }
    fn log_info(&self) -> LogFuture<'_, LogInfo> {
        Box::pin(RekorClient::log_info(self))
    }
    fn public_key<'a>(&'a self, tree_id: Option<&'a str>) -> LogFuture<'a, PublicKey> {
        Box::pin(RekorClient::public_key(self, tree_id))
    }
}

macro_rules! forward_log {
    ($($ptr:ty),*) => {$(
        impl<L: TransparencyLog + ?Sized> TransparencyLog for $ptr {
            fn create_entry<'a>(&'a self, proposed: &'a serde_json::Value) -> LogFuture<'a, LogEntry> {
                (**self).create_entry(proposed)
            }
            fn get_entry<'a>(&'a self, uuid: &'a str) -> LogFuture<'a, LogEntry> {
                (**self).get_entry(uuid)
            }
            fn get_entry_by_index(&self, index: i64) -> LogFuture<'_, LogEntry> {
                (**self).get_entry_by_index(index)
            }
            fn search_index<'a>(&'a self, query: &'a SearchQuery) -> LogFuture<'a, Vec<String>> {
                (**self).search_index(query)
            }
            fn log_info(&self) -> LogFuture<'_, LogInfo> {
                (**self).log_info()
            }
            fn public_key<'a>(&'a self, tree_id: Option<&'a str>) -> LogFuture<'a, PublicKey> {
                (**self).public_key(tree_id)
            }
        }
    )*};
}
forward_log!(&L, Box<L>, Arc<L>);

/// Where signatures are recorded. `L` is the log client: [`RekorClient`] unless a fake (or
/// a `Box<dyn TransparencyLog>`) is wanted.
#[derive(Clone)]
pub struct TlogUpload<L = RekorClient> {
    /// The log.
    pub client: L,
    /// The log keys to check its answers with (`SIGSTORE_REKOR_PUBLIC_KEY`, a trusted root); when
    /// absent the log's own key is fetched and used (it still proves the answer is well formed
    /// and bound to our entry).
    pub trusted: Option<TrustedLogs>,
}

/// How log entries are verified. `L` is the log client, as in [`TlogUpload`].
#[derive(Clone)]
pub struct TlogVerify<L = RekorClient> {
    /// The log keys trusted.
    pub trusted: TrustedLogs,
    /// For online lookups when a signature carries no bundle (None: offline only).
    pub client: Option<L>,
}

/// The outcome of checking one signature's log entry.
#[derive(Clone, Debug)]
pub struct TlogOutcome {
    /// The verified entry.
    pub entry: VerifiedEntry,
    /// True when proven from the bundle alone, false when found online.
    pub offline: bool,
}

/// The transparency log entry a Sigstore bundle carries, refusing entries that cannot give a
/// trusted, proven record: bundles v0.2 and later must carry the entry's inclusion proof (a
/// signed entry timestamp alone is not enough), and an entry without a signed entry timestamp
/// leaves no trusted time unless the bundle has an RFC 3161 timestamp. `name` names the bundle
/// in errors.
pub fn bundle_log_entry(
    bundle: &cosign_types::Bundle,
    name: &str,
) -> Result<Option<LogEntry>, Error> {
    let Some(entry) = bundle.verification_material.tlog_entries.first() else {
        return Ok(None);
    };
    checked_entry(bundle, entry, name)?;
    Ok(Some(LogEntry::from_bundle_entry(entry)))
}

/// [`bundle_log_entry`] when the log is verified (`checked`), else the entry as it is (it is
/// not used: `--insecure-ignore-tlog` skips the log, as Go cosign does).
pub fn bundle_log_entry_if(
    checked: bool,
    bundle: &cosign_types::Bundle,
    name: &str,
) -> Result<Option<LogEntry>, Error> {
    if checked {
        bundle_log_entry(bundle, name)
    } else {
        Ok(bundle
            .verification_material
            .tlog_entries
            .first()
            .map(LogEntry::from_bundle_entry))
    }
}

fn checked_entry(
    bundle: &cosign_types::Bundle,
    entry: &cosign_types::bundle::TransparencyLogEntry,
    name: &str,
) -> Result<(), Error> {
    if entry.log_index < 0 {
        return Err(Error::Verification(format!(
            "{name}: its transparency log entry has a negative log index {}",
            entry.log_index
        )));
    }
    if bundle.version().is_some_and(|v| v >= (0, 2)) && entry.inclusion_proof.is_none() {
        return Err(Error::Verification(format!(
            "{name}: its transparency log entry has no inclusion proof (bundles v0.2 and later must carry one)"
        )));
    }
    let timestamps = bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .is_some_and(|t| !t.rfc3161_timestamps.is_empty());
    if entry.inclusion_promise.is_none() && !timestamps {
        return Err(Error::Verification(format!(
            "{name}: its transparency log entry has no signed entry timestamp and the bundle no RFC 3161 timestamp: there is no trusted time"
        )));
    }
    Ok(())
}

/// How the log entries of a set of verified signatures were checked, as cosign's verify
/// commands summarise it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogCheck {
    /// The log was skipped, or no entry was checked.
    None,
    /// Every entry was proven from the bundle alone.
    Offline,
    /// At least one entry was found in the log online.
    Online,
}

impl LogCheck {
    /// The summary of `outcomes` (the log being checked at all: `enabled`).
    pub fn of<'a>(enabled: bool, outcomes: impl IntoIterator<Item = &'a TlogOutcome>) -> Self {
        let mut any = false;
        let mut online = false;
        for o in outcomes {
            any = true;
            online |= !o.offline;
        }
        match (enabled && any, online) {
            (false, _) => Self::None,
            (true, false) => Self::Offline,
            (true, true) => Self::Online,
        }
    }
}

async fn trusted_for_upload<L: TransparencyLog>(up: &TlogUpload<L>) -> Result<TrustedLogs, Error> {
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
    client: &dyn TransparencyLog,
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
async fn record<L: TransparencyLog>(
    up: &TlogUpload<L>,
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
pub async fn upload_hashedrekord<L: TransparencyLog>(
    up: &TlogUpload<L>,
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
pub async fn upload_dsse<L: TransparencyLog>(
    up: &TlogUpload<L>,
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
pub async fn upload_intoto<L: TransparencyLog>(
    up: &TlogUpload<L>,
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
pub async fn verify_signature_entry<L: TransparencyLog>(
    tv: &TlogVerify<L>,
    bundled: Option<&LogEntry>,
    search_digest: Option<&Digest>,
    expected: &Expected<'_>,
) -> Result<TlogOutcome, Error> {
    verify_signature_entry_at(tv, bundled, search_digest, expected, None).await
}

/// [`verify_signature_entry`]; a Rekor v2 entry (no signed integrated time) is checked against
/// the log key valid at `at`, the time of a verified RFC 3161 timestamp, when there is one.
pub async fn verify_signature_entry_at<L: TransparencyLog>(
    tv: &TlogVerify<L>,
    bundled: Option<&LogEntry>,
    search_digest: Option<&Digest>,
    expected: &Expected<'_>,
    at: Option<i64>,
) -> Result<TlogOutcome, Error> {
    let verify_entry = |entry: &LogEntry, trusted: &TrustedLogs, expected: &Expected<'_>| match at {
        Some(time) => cosign_tlog::verify_entry_at(entry, trusted, expected, time),
        None => verify_entry(entry, trusted, expected),
    };
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
