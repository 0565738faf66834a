//! In-memory fakes of a registry ([`MemStore`], with the lies it can be told to tell) and of a
//! transparency log ([`FakeLog`], which can answer with entries for something else).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign::image::store::{Store, StoreError, StoreFuture};
use cosign::tlog::{LogFuture, TransparencyLog};
use cosign_crypto::{PrivateKey, PublicKey};
use cosign_oci::{ImageRef, Manifest, PutManifest, Reference, Repository};
use cosign_tlog::{LogEntry, LogInfo, SearchQuery, TlogError, TrustedLogs, entry, merkle, set};
use cosign_types::media_types::{OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use cosign_types::oci::{Descriptor, ImageIndex, ImageManifest};
use cosign_types::{Digest, HashAlgorithm};

pub fn sha256(data: &[u8]) -> Digest {
    cosign_crypto::hash(HashAlgorithm::Sha256, data)
}

/// An image reference by digest in the fake registry.
pub fn image_ref(digest: &Digest) -> ImageRef {
    ImageRef::parse(&format!("registry.test/app@{digest}")).unwrap()
}

pub fn repo() -> Repository {
    ImageRef::parse("registry.test/app:v1")
        .unwrap()
        .repository()
        .clone()
}

/// What a [`MemStore`] does wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lie {
    /// Nothing.
    #[default]
    None,
    /// Answers every tag PUT with success and forgets it.
    DropTagWrites,
    /// Flips a byte of every blob it returns.
    CorruptBlobs,
    /// Returns manifests whose bytes do not hash to the digest it names.
    CorruptManifests,
    /// Answers a manifest asked for by digest with another (well-formed) manifest.
    WrongManifest,
}

#[derive(Default)]
pub(crate) struct State {
    manifests: HashMap<Digest, (String, Vec<u8>)>,
    tags: HashMap<String, Digest>,
    blobs: HashMap<Digest, Vec<u8>>,
}

/// A one-repository registry in memory. Every call is recorded in `calls`.
#[derive(Default)]
pub struct MemStore {
    pub(crate) state: Mutex<State>,
    pub calls: Mutex<Vec<String>>,
    /// Whether `referrers` answers (scanning stored manifests for their subject).
    pub referrers_api: bool,
    /// How long a manifest GET waits after reading (widens every writer's read-to-write
    /// window, so that concurrent writers interleave).
    pub read_delay: Option<Duration>,
    pub lie: Lie,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn clear_calls(&self) {
        self.calls.lock().unwrap().clear();
    }

    pub fn add_blob(&self, data: &[u8]) -> Digest {
        let d = sha256(data);
        self.state
            .lock()
            .unwrap()
            .blobs
            .insert(d.clone(), data.to_vec());
        d
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.state.lock().unwrap().blobs.contains_key(d)
    }

    /// Stores a manifest (by digest, and at `tag` when given); returns its digest.
    pub fn add_manifest(&self, media_type: &str, bytes: &[u8], tag: Option<&str>) -> Digest {
        let d = sha256(bytes);
        let mut st = self.state.lock().unwrap();
        st.manifests
            .insert(d.clone(), (media_type.to_owned(), bytes.to_vec()));
        if let Some(t) = tag {
            st.tags.insert(t.to_owned(), d.clone());
        }
        d
    }

    /// The manifest at `tag`.
    pub fn tagged(&self, tag: &str) -> Option<Vec<u8>> {
        let st = self.state.lock().unwrap();
        let d = st.tags.get(tag)?;
        st.manifests.get(d).map(|(_, b)| b.clone())
    }

    fn lookup(&self, reference: &Reference) -> Option<Manifest> {
        let st = self.state.lock().unwrap();
        let d = match reference {
            Reference::Digest(d) => d.clone(),
            Reference::Tag(t) => st.tags.get(t)?.clone(),
        };
        let (media_type, bytes) = st.manifests.get(&d)?.clone();
        Some(Manifest {
            media_type,
            digest: d,
            bytes,
        })
    }
}

fn name(reference: &Reference) -> String {
    match reference {
        Reference::Digest(d) => d.to_string(),
        Reference::Tag(t) => t.clone(),
    }
}

impl Store for MemStore {
    fn name(&self, repo: &Repository) -> String {
        repo.name()
    }

    fn head_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Descriptor>> {
        self.log(format!("head_manifest {}", name(reference)));
        let found = self.lookup(reference).map(|m| m.descriptor());
        Box::pin(async move { Ok(found) })
    }

    fn get_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, Option<Manifest>> {
        self.log(format!("get_manifest {}", name(reference)));
        let mut found = self.lookup(reference);
        if let Some(m) = &mut found {
            match self.lie {
                Lie::CorruptManifests => m.bytes.push(b' '),
                Lie::WrongManifest if matches!(reference, Reference::Digest(_)) => {
                    let other = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
                    m.digest = sha256(&other);
                    m.bytes = other;
                }
                _ => {}
            }
        }
        let delay = self.read_delay;
        Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            Ok(found)
        })
    }

    fn put_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
        media_type: &'a str,
        bytes: &'a [u8],
    ) -> StoreFuture<'a, PutManifest> {
        self.log(format!("put_manifest {}", name(reference)));
        let digest = sha256(bytes);
        let drop = self.lie == Lie::DropTagWrites && matches!(reference, Reference::Tag(_));
        if !drop {
            let mut st = self.state.lock().unwrap();
            st.manifests
                .insert(digest.clone(), (media_type.to_owned(), bytes.to_vec()));
            if let Reference::Tag(t) = reference {
                st.tags.insert(t.clone(), digest.clone());
            }
        }
        Box::pin(async move {
            Ok(PutManifest {
                digest,
                oci_subject: None,
            })
        })
    }

    fn delete_manifest<'a>(
        &'a self,
        _repo: &'a Repository,
        reference: &'a Reference,
    ) -> StoreFuture<'a, bool> {
        self.log(format!("delete_manifest {}", name(reference)));
        let mut st = self.state.lock().unwrap();
        let gone = match reference {
            Reference::Tag(t) => st.tags.remove(t).is_some(),
            Reference::Digest(d) => st.manifests.remove(d).is_some(),
        };
        Box::pin(async move { Ok(gone) })
    }

    fn blob_exists<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
    ) -> StoreFuture<'a, Option<u64>> {
        self.log(format!("blob_exists {digest}"));
        let size = self
            .state
            .lock()
            .unwrap()
            .blobs
            .get(digest)
            .map(|b| b.len() as u64);
        Box::pin(async move { Ok(size) })
    }

    fn get_blob<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
        _max_size: u64,
    ) -> StoreFuture<'a, Vec<u8>> {
        self.log(format!("get_blob {digest}"));
        let found = self.state.lock().unwrap().blobs.get(digest).cloned();
        let lie = self.lie;
        Box::pin(async move {
            let mut data = found.ok_or_else(|| {
                StoreError::Other(cosign::Error::ImageNotFound(format!("blob {digest}")))
            })?;
            if lie == Lie::CorruptBlobs
                && let Some(b) = data.first_mut()
            {
                *b ^= 1;
            }
            Ok(data)
        })
    }

    fn push_blob<'a>(
        &'a self,
        _repo: &'a Repository,
        digest: &'a Digest,
        data: &'a [u8],
    ) -> StoreFuture<'a, ()> {
        self.log(format!("push_blob {digest}"));
        self.state
            .lock()
            .unwrap()
            .blobs
            .insert(digest.clone(), data.to_vec());
        Box::pin(async { Ok(()) })
    }

    fn referrers<'a>(
        &'a self,
        _repo: &'a Repository,
        subject: &'a Digest,
        _artifact_type: Option<&'a str>,
    ) -> StoreFuture<'a, Option<ImageIndex>> {
        self.log(format!("referrers {subject}"));
        let found = self.referrers_api.then(|| {
            let st = self.state.lock().unwrap();
            let mut index = ImageIndex::empty();
            for (d, (mt, bytes)) in &st.manifests {
                let Ok(m) = ImageManifest::from_json(bytes) else {
                    continue;
                };
                if m.subject.as_ref().is_some_and(|s| &s.digest == subject) {
                    let mut desc = Descriptor::new(mt.clone(), bytes.len() as u64, d.clone());
                    desc.artifact_type = m.artifact_type.clone();
                    desc.annotations = m.annotations.clone();
                    index.manifests.push(desc);
                }
            }
            index
        });
        Box::pin(async move { Ok(found) })
    }
}

/// An image manifest with `layers` (their blobs are the caller's), optionally a referrer of
/// `subject`.
pub fn image_manifest(
    layers: Vec<Descriptor>,
    artifact_type: Option<&str>,
    subject: Option<Descriptor>,
) -> Vec<u8> {
    ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.to_owned(),
        artifact_type: artifact_type.map(str::to_owned),
        config: Descriptor::new("application/vnd.oci.empty.v1+json", 2, sha256(b"{}")),
        layers,
        annotations: BTreeMap::new(),
        subject,
    }
    .to_json()
}

/// A referrers fallback index listing `entries`.
pub fn index_json(entries: Vec<Descriptor>) -> Vec<u8> {
    let mut index = ImageIndex::empty();
    index.media_type = OCI_INDEX_MEDIA_TYPE.to_owned();
    index.manifests = entries;
    index.to_json()
}

/// What a [`FakeLog`] answers instead of the truth.
#[derive(Clone, Debug, Default)]
pub enum LogLie {
    #[default]
    None,
    /// Every entry it returns (created, fetched or found) is this proposed entry instead.
    EntryFor(serde_json::Value),
}

/// A transparency log in memory that signs its entries like Rekor (SETs), honest or not.
pub struct FakeLog {
    pub key: PrivateKey,
    pub entries: Mutex<Vec<LogEntry>>,
    pub lie: LogLie,
}

impl FakeLog {
    pub fn new(lie: LogLie) -> Self {
        Self {
            key: PrivateKey::generate_ecdsa_p256().unwrap(),
            entries: Mutex::new(Vec::new()),
            lie,
        }
    }

    pub fn trusted(&self) -> TrustedLogs {
        TrustedLogs::from_public_key(self.key.public_key())
    }

    fn log_id(&self) -> String {
        hex(&self.key.public_key().hint())
    }

    /// Integrates a proposed entry and returns it as the API would.
    pub fn integrate(&self, proposed: &serde_json::Value) -> LogEntry {
        let body = entry::canonicalize_proposed(proposed).unwrap();
        let mut entries = self.entries.lock().unwrap();
        let index = entries.len() as i64;
        let time = 1_700_000_000 + index;
        let log_id = self.log_id();
        let payload = set::payload(&STANDARD.encode(&body), time, &log_id, index);
        let e = LogEntry {
            uuid: hex(&merkle::leaf_hash(&body)),
            body,
            integrated_time: time,
            log_id,
            log_index: index,
            inclusion_proof: None,
            signed_entry_timestamp: Some(set::sign(&payload, &self.key).unwrap()),
        };
        entries.push(e.clone());
        e
    }

    fn answer(&self, honest: LogEntry) -> LogEntry {
        match &self.lie {
            LogLie::None => honest,
            LogLie::EntryFor(other) => self.integrate(other),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TransparencyLog for FakeLog {
    fn create_entry<'a>(&'a self, proposed: &'a serde_json::Value) -> LogFuture<'a, LogEntry> {
        let e = self.integrate(proposed);
        let e = self.answer(e);
        Box::pin(async move { Ok(e) })
    }

    fn get_entry<'a>(&'a self, uuid: &'a str) -> LogFuture<'a, LogEntry> {
        let found = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.uuid == uuid)
            .cloned();
        let found = found.map(|e| self.answer(e));
        Box::pin(async move {
            found.ok_or_else(|| TlogError::AlreadyExists {
                uuid: "not found".into(),
            })
        })
    }

    fn get_entry_by_index(&self, index: i64) -> LogFuture<'_, LogEntry> {
        let found = self
            .entries
            .lock()
            .unwrap()
            .get(index as usize)
            .cloned()
            .unwrap();
        Box::pin(async move { Ok(found) })
    }

    fn search_index<'a>(&'a self, query: &'a SearchQuery) -> LogFuture<'a, Vec<String>> {
        // Every entry whose body names the hash (an honest index); lies come from get_entry.
        let want = query.hash.as_ref().map(|d| d.hex()).unwrap_or_default();
        let uuids = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .filter(|e| String::from_utf8_lossy(&e.body).contains(&want))
            .map(|e| e.uuid.clone())
            .collect();
        Box::pin(async move { Ok(uuids) })
    }

    fn log_info(&self) -> LogFuture<'_, LogInfo> {
        unimplemented!("not used by the flows under test")
    }

    fn public_key<'a>(&'a self, _tree_id: Option<&'a str>) -> LogFuture<'a, PublicKey> {
        let key = self.key.public_key();
        Box::pin(async move { Ok(key) })
    }
}
