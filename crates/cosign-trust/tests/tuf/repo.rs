//! A TUF repository built and signed by the tests, served from memory.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cosign_crypto::{KeyType, PrivateKey, SignatureScheme};
use cosign_trust::TrustError;
use cosign_trust::tuf::Fetcher;
use cosign_trust::tuf::canonical::to_canonical_json;
use serde_json::{Value, json};
use sha2::Digest as _;

pub const MIRROR: &str = "https://tuf.test";

/// A signing key with its TUF key definition and key ID.
pub struct Signer {
    key: PrivateKey,
    scheme: SignatureScheme,
    pub id: String,
    pub def: Value,
}

impl Signer {
    pub fn ed25519() -> Self {
        let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let spki = key.public_key().to_spki_der();
        let raw = &spki[spki.len() - 32..];
        let def = json!({"keytype": "ed25519", "scheme": "ed25519",
            "keyval": {"public": hex::encode(raw)}});
        Self::with_def(key, SignatureScheme::Ed25519, def)
    }

    pub fn ecdsa() -> Self {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let def = json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
            "keyval": {"public": key.public_key().to_pem()}});
        Self::with_def(key, SignatureScheme::EcdsaP256Sha256, def)
    }

    fn with_def(key: PrivateKey, scheme: SignatureScheme, def: Value) -> Self {
        let id = hex::encode(sha2::Sha256::digest(to_canonical_json(&def).unwrap()));
        Self {
            key,
            scheme,
            id,
            def,
        }
    }

    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign_message(self.scheme, message).unwrap())
    }
}

/// Wraps `signed` with signatures of `signers` over its canonical form.
pub fn sign(signed: &Value, signers: &[&Signer]) -> Vec<u8> {
    let canonical = to_canonical_json(signed).unwrap();
    let signatures: Vec<Value> = signers
        .iter()
        .map(|s| json!({"keyid": s.id, "sig": s.sign(&canonical)}))
        .collect();
    serde_json::to_vec_pretty(&json!({"signatures": signatures, "signed": signed})).unwrap()
}

pub fn date(offset_secs: i64) -> String {
    cosign_types::time::rfc3339(cosign_types::time::now_unix() + offset_secs)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// A delegated targets role of the top-level targets role.
pub struct Delegated {
    pub name: String,
    pub key: Signer,
    /// Who actually signs its metadata (normally `key`).
    pub signer: Option<Signer>,
    pub paths: Vec<String>,
    pub terminating: bool,
    pub version: u64,
    pub targets: BTreeMap<String, Vec<u8>>,
}

impl Delegated {
    pub fn new(name: &str, paths: &[&str], terminating: bool) -> Self {
        Self {
            name: name.to_owned(),
            key: Signer::ecdsa(),
            signer: None,
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            terminating,
            version: 1,
            targets: BTreeMap::new(),
        }
    }
}

fn targets_json(version: u64, expires: &str, files: &BTreeMap<String, Vec<u8>>) -> Value {
    let mut targets = serde_json::Map::new();
    for (name, body) in files {
        targets.insert(
            name.clone(),
            json!({"length": body.len(), "hashes": {"sha256": sha256_hex(body)},
                "custom": {"sigstore": {"status": "Active", "usage": "Unknown"}}}),
        );
    }
    json!({
        "_type": "targets", "spec_version": "1.0",
        "version": version, "expires": expires,
        "targets": targets,
    })
}

/// Keys and versions of a repository; `publish` writes the served files.
pub struct Repo {
    pub root_keys: Vec<Signer>,
    pub root_threshold: u64,
    pub timestamp_key: Signer,
    pub snapshot_key: Signer,
    pub targets_key: Signer,
    pub root_version: u64,
    pub timestamp_version: u64,
    pub snapshot_version: u64,
    pub targets_version: u64,
    pub root_expires: String,
    pub timestamp_expires: String,
    pub snapshot_expires: String,
    pub targets_expires: String,
    pub targets: BTreeMap<String, Vec<u8>>,
    pub delegated: Vec<Delegated>,
    pub consistent: bool,
    /// Path (relative to the mirror) -> bytes served.
    pub files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    /// Root files by version, as signed.
    pub roots: BTreeMap<u64, Vec<u8>>,
}

pub const TRUSTED_ROOT: &[u8] =
    br#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": []}"#;

impl Repo {
    /// Root v1 (two root keys, threshold 1), timestamp/snapshot/targets v1, one target
    /// `trusted_root.json`; published.
    pub fn new() -> Self {
        let mut repo = Self {
            root_keys: vec![Signer::ed25519(), Signer::ecdsa()],
            root_threshold: 1,
            timestamp_key: Signer::ecdsa(),
            snapshot_key: Signer::ed25519(),
            targets_key: Signer::ecdsa(),
            root_version: 1,
            timestamp_version: 1,
            snapshot_version: 1,
            targets_version: 1,
            root_expires: date(365 * 86400),
            timestamp_expires: date(86400),
            snapshot_expires: date(7 * 86400),
            targets_expires: date(30 * 86400),
            targets: BTreeMap::from([("trusted_root.json".to_owned(), TRUSTED_ROOT.to_vec())]),
            delegated: Vec::new(),
            consistent: true,
            files: Arc::new(Mutex::new(BTreeMap::new())),
            roots: BTreeMap::new(),
        };
        let root = repo.root_signed();
        let keys: Vec<&Signer> = repo.root_keys.iter().collect();
        let bytes = sign(&root, &keys);
        repo.roots.insert(1, bytes);
        repo.publish();
        repo
    }

    pub fn root_signed(&self) -> Value {
        let mut keys = serde_json::Map::new();
        for s in self.root_keys.iter().chain([
            &self.timestamp_key,
            &self.snapshot_key,
            &self.targets_key,
        ]) {
            keys.insert(s.id.clone(), s.def.clone());
        }
        let root_ids: Vec<&str> = self.root_keys.iter().map(|s| s.id.as_str()).collect();
        json!({
            "_type": "root",
            "spec_version": "1.0",
            "version": self.root_version,
            "expires": self.root_expires,
            "consistent_snapshot": self.consistent,
            "keys": keys,
            "roles": {
                "root": {"keyids": root_ids, "threshold": self.root_threshold},
                "timestamp": {"keyids": [self.timestamp_key.id], "threshold": 1},
                "snapshot": {"keyids": [self.snapshot_key.id], "threshold": 1},
                "targets": {"keyids": [self.targets_key.id], "threshold": 1},
            },
            "x-tuf-on-ci-expiry-period": 182,
        })
    }

    /// The root file the client starts from.
    pub fn root_v1(&self) -> Vec<u8> {
        self.roots[&1].clone()
    }

    /// Adds root version `root_version + 1` after `change` edits keys/threshold, signed by
    /// `old_signers` (indices into the old root keys) and `new_signers` (into the new ones).
    pub fn rotate_root(
        &mut self,
        change: impl FnOnce(&mut Self),
        old_signers: &[usize],
        new_signers: &[usize],
    ) {
        let old_keys = std::mem::take(&mut self.root_keys);
        self.root_keys = old_keys.iter().map(clone_signer).collect();
        change(self);
        self.root_version += 1;
        let signed = self.root_signed();
        let signers: Vec<&Signer> = old_signers
            .iter()
            .map(|&i| &old_keys[i])
            .chain(new_signers.iter().map(|&i| &self.root_keys[i]))
            .collect();
        let bytes = sign(&signed, &signers);
        self.roots.insert(self.root_version, bytes);
    }

    pub fn timestamp_signed(&self, snapshot_bytes: &[u8]) -> Value {
        json!({
            "_type": "timestamp", "spec_version": "1.0",
            "version": self.timestamp_version, "expires": self.timestamp_expires,
            "meta": {"snapshot.json": {"version": self.snapshot_version,
                "length": snapshot_bytes.len(),
                "hashes": {"sha256": sha256_hex(snapshot_bytes)}}},
        })
    }

    pub fn snapshot_signed(&self) -> Value {
        let mut meta = serde_json::Map::new();
        meta.insert(
            "targets.json".to_owned(),
            json!({"version": self.targets_version}),
        );
        for d in &self.delegated {
            meta.insert(format!("{}.json", d.name), json!({"version": d.version}));
        }
        json!({
            "_type": "snapshot", "spec_version": "1.0",
            "version": self.snapshot_version, "expires": self.snapshot_expires,
            "meta": meta,
        })
    }

    pub fn targets_signed(&self) -> Value {
        let mut signed = targets_json(self.targets_version, &self.targets_expires, &self.targets);
        if !self.delegated.is_empty() {
            let mut keys = serde_json::Map::new();
            let mut roles = Vec::new();
            for d in &self.delegated {
                keys.insert(d.key.id.clone(), d.key.def.clone());
                roles.push(json!({"name": d.name, "keyids": [d.key.id], "threshold": 1,
                    "terminating": d.terminating, "paths": d.paths}));
            }
            signed["delegations"] = json!({"keys": keys, "roles": roles});
        }
        signed
    }

    /// Signs and serves everything at the current versions.
    pub fn publish(&mut self) {
        let targets = sign(&self.targets_signed(), &[&self.targets_key]);
        let snapshot = sign(&self.snapshot_signed(), &[&self.snapshot_key]);
        let timestamp = sign(&self.timestamp_signed(&snapshot), &[&self.timestamp_key]);
        let mut files = self.files.lock().unwrap();
        files.clear();
        for (version, bytes) in &self.roots {
            files.insert(format!("{version}.root.json"), bytes.clone());
        }
        files.insert(
            "root.json".to_owned(),
            self.roots[&self.root_version].clone(),
        );
        files.insert("timestamp.json".to_owned(), timestamp);
        let (snap_name, targets_name) = if self.consistent {
            (
                format!("{}.snapshot.json", self.snapshot_version),
                format!("{}.targets.json", self.targets_version),
            )
        } else {
            ("snapshot.json".to_owned(), "targets.json".to_owned())
        };
        files.insert(snap_name, snapshot);
        files.insert(targets_name, targets);
        let mut all_targets = self.targets.clone();
        for d in &self.delegated {
            let signed = targets_json(d.version, &self.targets_expires, &d.targets);
            let bytes = sign(&signed, &[d.signer.as_ref().unwrap_or(&d.key)]);
            let name = if self.consistent {
                format!("{}.{}.json", d.version, d.name)
            } else {
                format!("{}.json", d.name)
            };
            files.insert(name, bytes);
            all_targets.extend(d.targets.clone());
        }
        for (name, body) in &all_targets {
            let served = if self.consistent {
                match name.rsplit_once('/') {
                    Some((dir, base)) => format!("targets/{dir}/{}.{base}", sha256_hex(body)),
                    None => format!("targets/{}.{name}", sha256_hex(body)),
                }
            } else {
                format!("targets/{name}")
            };
            files.insert(served, body.clone());
        }
    }

    /// Bumps timestamp, snapshot and targets versions and republishes.
    pub fn bump_all(&mut self) {
        self.timestamp_version += 1;
        self.snapshot_version += 1;
        self.targets_version += 1;
        self.publish();
    }

    pub fn set_file(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_owned(), body);
    }

    pub fn file(&self, path: &str) -> Vec<u8> {
        self.files.lock().unwrap()[path].clone()
    }

    pub fn fetcher(&self) -> MemFetcher {
        MemFetcher {
            files: Arc::clone(&self.files),
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

fn clone_signer(s: &Signer) -> Signer {
    let der = s.key.to_pkcs8_der().unwrap();
    Signer {
        key: PrivateKey::from_pkcs8_der(&der).unwrap(),
        scheme: s.scheme,
        id: s.id.clone(),
        def: s.def.clone(),
    }
}

/// Serves a [`Repo`]'s files under [`MIRROR`] and records every URL asked for.
#[derive(Clone, Debug)]
pub struct MemFetcher {
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl MemFetcher {
    pub fn new(files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>) -> Self {
        Self {
            files,
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Fetcher for MemFetcher {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, TrustError> {
        self.log.lock().unwrap().push(url.to_owned());
        let path = url
            .strip_prefix(MIRROR)
            .and_then(|p| p.strip_prefix('/'))
            .unwrap_or(url);
        let files = self.files.lock().unwrap();
        let body = files.get(path).ok_or_else(|| TrustError::NotFound {
            url: url.to_owned(),
        })?;
        cosign_trust::tuf::read_limited(&body[..], url, max_len)
    }
}

/// A fetcher for tests that must not touch the network.
#[derive(Debug)]
pub struct NoNetwork;

impl Fetcher for NoNetwork {
    fn fetch(&self, url: &str, _max_len: u64) -> Result<Vec<u8>, TrustError> {
        panic!("unexpected fetch of {url}")
    }
}
