//! The four top-level TUF metadata types, parsed strictly and verified over their canonical
//! `signed` part.
//!
//! Unknown fields (e.g. Sigstore's `x-tuf-on-ci-*`) are accepted and stay in the canonical form
//! that signatures are checked against, because that form is made from the file's own JSON,
//! not from these types.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Digest as _;

use super::canonical::to_canonical_json;
use super::keys::{Key, Role, Signature, verify_threshold};
use crate::TrustError;

/// The role names of the top-level roles, as root's `roles` keys them.
pub const ROOT: &str = "root";
/// See [`ROOT`].
pub const TIMESTAMP: &str = "timestamp";
/// See [`ROOT`].
pub const SNAPSHOT: &str = "snapshot";
/// See [`ROOT`].
pub const TARGETS: &str = "targets";

/// A file listed by timestamp or snapshot metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct MetaFile {
    /// Its version.
    pub version: u64,
    /// Its length in bytes, if listed.
    #[serde(default)]
    pub length: Option<u64>,
    /// Its hashes (algorithm -> hex), if listed.
    #[serde(default)]
    pub hashes: Option<BTreeMap<String, String>>,
}

/// A target file listed by targets metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct TargetFile {
    /// Its exact length in bytes.
    pub length: u64,
    /// Its hashes (algorithm -> hex); at least one.
    pub hashes: BTreeMap<String, String>,
    /// Application-specific data (Sigstore: `{"sigstore": {"usage": ..., "status": ...}}`).
    #[serde(default)]
    pub custom: Option<Value>,
}

/// `root.json`: the keys and thresholds of every top-level role.
#[derive(Clone, Debug, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    kind: String,
    /// The TUF specification version the file follows.
    pub spec_version: String,
    /// The version of this root.
    pub version: u64,
    /// When it expires (RFC 3339).
    pub expires: String,
    /// Whether snapshot/targets/target files are fetched under versioned/hashed names.
    #[serde(default)]
    pub consistent_snapshot: bool,
    /// Key ID -> key.
    pub keys: BTreeMap<String, Key>,
    /// Role name -> key IDs and threshold.
    pub roles: BTreeMap<String, Role>,
}

/// `timestamp.json`: the current snapshot version.
#[derive(Clone, Debug, Deserialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    kind: String,
    /// See [`Root::spec_version`].
    pub spec_version: String,
    /// The version of this timestamp.
    pub version: u64,
    /// When it expires (RFC 3339).
    pub expires: String,
    /// `snapshot.json` -> its version (and maybe length and hashes).
    pub meta: BTreeMap<String, MetaFile>,
}

/// `snapshot.json`: the versions of all targets metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    kind: String,
    /// See [`Root::spec_version`].
    pub spec_version: String,
    /// The version of this snapshot.
    pub version: u64,
    /// When it expires (RFC 3339).
    pub expires: String,
    /// `targets.json` and delegated roles' files -> version (and maybe length and hashes).
    pub meta: BTreeMap<String, MetaFile>,
}

/// `targets.json`: the target files and their lengths and hashes.
#[derive(Clone, Debug, Deserialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    kind: String,
    /// See [`Root::spec_version`].
    pub spec_version: String,
    /// The version of this targets metadata.
    pub version: u64,
    /// When it expires (RFC 3339).
    pub expires: String,
    /// Target name -> length, hashes and custom data.
    pub targets: BTreeMap<String, TargetFile>,
    /// Delegated roles, if any.
    #[serde(default)]
    pub delegations: Option<Delegations>,
}

/// The delegations of a targets role (read, so that targets they own are reported clearly).
#[derive(Clone, Debug, Deserialize)]
pub struct Delegations {
    /// Keys of the delegated roles.
    #[serde(default)]
    pub keys: BTreeMap<String, Key>,
    /// The delegated roles, in order of priority.
    #[serde(default)]
    pub roles: Vec<DelegatedRole>,
}

/// One delegated targets role.
#[derive(Clone, Debug, Deserialize)]
pub struct DelegatedRole {
    /// Its name (its metadata is `<name>.json`).
    pub name: String,
    /// Key IDs (from [`Delegations::keys`]) allowed to sign for it.
    pub keyids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u64,
    /// Whether the search stops at this role when its paths match.
    #[serde(default)]
    pub terminating: bool,
    /// Glob patterns of the target names it is trusted for.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Hex prefixes of SHA-256 of the target names it is trusted for.
    #[serde(default)]
    pub path_hash_prefixes: Option<Vec<String>>,
}

impl DelegatedRole {
    /// Its key IDs and threshold.
    pub fn role(&self) -> Role {
        Role {
            keyids: self.keyids.clone(),
            threshold: self.threshold,
        }
    }

    /// Whether it is trusted for target `name` (by path pattern or name hash prefix).
    pub fn is_trusted_for(&self, name: &str) -> bool {
        let name_hash = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        self.paths
            .iter()
            .flatten()
            .any(|pattern| path_matches(pattern, name))
            || self
                .path_hash_prefixes
                .iter()
                .flatten()
                .any(|prefix| name_hash.starts_with(prefix.as_str()))
    }
}

/// The fields every top-level metadata type has.
pub trait Common {
    /// `_type` that the file must carry.
    const TYPE: &'static str;
    /// `_type` as found.
    fn kind(&self) -> &str;
    /// `spec_version`.
    fn spec_version(&self) -> &str;
    /// `version`.
    fn version(&self) -> u64;
    /// `expires`.
    fn expires(&self) -> &str;
    /// Role-specific checks after parsing.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

macro_rules! common {
    ($t:ty, $name:expr) => {
        impl Common for $t {
            const TYPE: &'static str = $name;
            fn kind(&self) -> &str {
                &self.kind
            }
            fn spec_version(&self) -> &str {
                &self.spec_version
            }
            fn version(&self) -> u64 {
                self.version
            }
            fn expires(&self) -> &str {
                &self.expires
            }
            fn validate(&self) -> Result<(), String> {
                self.check()
            }
        }
    };
}

common!(Root, ROOT);
common!(Timestamp, TIMESTAMP);
common!(Snapshot, SNAPSHOT);
common!(Targets, TARGETS);

fn check_meta(meta: &BTreeMap<String, MetaFile>) -> Result<(), String> {
    for (name, file) in meta {
        if file.version == 0 {
            return Err(format!("meta {name:?} has version 0"));
        }
        if file.hashes.as_ref().is_some_and(BTreeMap::is_empty) {
            return Err(format!("meta {name:?} has an empty hashes object"));
        }
    }
    Ok(())
}

impl Root {
    fn check(&self) -> Result<(), String> {
        for name in [ROOT, TIMESTAMP, SNAPSHOT, TARGETS] {
            let role = self
                .roles
                .get(name)
                .ok_or_else(|| format!("the {name} role is missing"))?;
            if role.threshold == 0 {
                return Err(format!("the {name} role has threshold 0"));
            }
            let mut ids = role.keyids.clone();
            ids.sort();
            ids.dedup();
            if ids.len() != role.keyids.len() {
                return Err(format!("the {name} role lists a key ID twice"));
            }
        }
        Ok(())
    }

    /// The role's key IDs and threshold (validated to exist for the four top-level roles).
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }
}

impl Timestamp {
    fn check(&self) -> Result<(), String> {
        if !self.meta.contains_key("snapshot.json") {
            return Err("meta does not list snapshot.json".to_owned());
        }
        check_meta(&self.meta)
    }

    /// The `snapshot.json` entry (validated to exist).
    pub fn snapshot_meta(&self) -> Option<&MetaFile> {
        self.meta.get("snapshot.json")
    }
}

impl Snapshot {
    fn check(&self) -> Result<(), String> {
        check_meta(&self.meta)
    }
}

impl Targets {
    fn check(&self) -> Result<(), String> {
        for (name, target) in &self.targets {
            if target.hashes.is_empty() {
                return Err(format!("target {name:?} has no hashes"));
            }
        }
        for role in self.delegations.iter().flat_map(|d| &d.roles) {
            if [ROOT, TIMESTAMP, SNAPSHOT, TARGETS].contains(&role.name.as_str())
                || role.name.is_empty()
            {
                return Err(format!(
                    "delegated role name {:?} is not allowed",
                    role.name
                ));
            }
            if role.threshold == 0 {
                return Err(format!("delegated role {:?} has threshold 0", role.name));
            }
        }
        Ok(())
    }

    /// The delegated roles trusted for `name`, in order of priority, up to and including the
    /// first terminating one.
    pub fn roles_for_target(&self, name: &str) -> Vec<&DelegatedRole> {
        let mut roles = Vec::new();
        for role in self.delegations.iter().flat_map(|d| &d.roles) {
            if role.is_trusted_for(name) {
                roles.push(role);
                if role.terminating {
                    break;
                }
            }
        }
        roles
    }
}

/// Shell-style match per `/`-separated part (`*` and `?` do not cross `/`), as python-tuf.
fn path_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    let names: Vec<&str> = name.split('/').collect();
    parts.len() == names.len()
        && parts
            .iter()
            .zip(&names)
            .all(|(p, n)| glob(p.as_bytes(), n.as_bytes()))
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// A parsed metadata file with what its signatures are checked against.
#[derive(Clone, Debug)]
pub struct Metadata<T> {
    /// The typed `signed` part.
    pub signed: T,
    /// The signatures.
    pub signatures: Vec<Signature>,
    /// The canonical JSON of `signed`: the signed message.
    pub canonical: Vec<u8>,
    /// `expires` as Unix seconds.
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct Envelope<T> {
    signatures: Vec<Signature>,
    signed: T,
}

impl<T: Common + DeserializeOwned> Metadata<T> {
    /// Parses `bytes` as metadata of type `T`. `file` names the file in errors. Signatures are
    /// not checked here.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, TrustError> {
        // Typed parse straight from the bytes, so repeated known fields are refused.
        let typed: Envelope<T> =
            serde_json::from_slice(bytes).map_err(|e| TrustError::malformed(file, e))?;
        let raw: Envelope<Value> =
            serde_json::from_slice(bytes).map_err(|e| TrustError::malformed(file, e))?;
        let canonical =
            to_canonical_json(&raw.signed).map_err(|e| TrustError::malformed(file, e))?;
        let signed = typed.signed;
        if signed.kind() != T::TYPE {
            return Err(TrustError::malformed(
                file,
                format!("_type is {:?}, expected {:?}", signed.kind(), T::TYPE),
            ));
        }
        let major = signed.spec_version().split('.').next().unwrap_or_default();
        if major != "1" {
            return Err(TrustError::malformed(
                file,
                format!(
                    "unsupported spec_version {:?} (this client reads 1.x)",
                    signed.spec_version()
                ),
            ));
        }
        if signed.version() == 0 {
            return Err(TrustError::malformed(file, "version is 0"));
        }
        let expires_at = cosign_types::time::parse_rfc3339(signed.expires()).ok_or_else(|| {
            TrustError::malformed(
                file,
                format!("expires {:?} is not a date", signed.expires()),
            )
        })?;
        signed
            .validate()
            .map_err(|e| TrustError::malformed(file, e))?;
        Ok(Self {
            signed,
            signatures: typed.signatures,
            canonical,
            expires_at,
        })
    }

    /// Checks the signatures against `role` of `root` (the keys of `root`).
    pub fn verify_with(&self, file: &str, root: &Root, role_name: &str) -> Result<(), TrustError> {
        let role = root
            .role(role_name)
            .ok_or_else(|| TrustError::malformed(file, format!("root has no {role_name} role")))?;
        verify_threshold(
            file,
            role_name,
            role,
            &root.keys,
            &self.signatures,
            &self.canonical,
        )
    }

    /// Whether it expired at or before `now` (Unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }

    /// [`TrustError::Expired`] if expired at `now`.
    pub fn check_not_expired(&self, file: &str, now: i64) -> Result<(), TrustError> {
        if self.is_expired(now) {
            return Err(TrustError::Expired {
                role: T::TYPE.to_owned(),
                file: file.to_owned(),
                expires: self.signed.expires().to_owned(),
            });
        }
        Ok(())
    }
}

/// Checks `data` against a listed length (exact) and listed hashes (all must match, at least
/// one must be an algorithm this client computes).
pub(crate) fn check_length_and_hashes(
    file: &str,
    parent: &str,
    data: &[u8],
    length: Option<u64>,
    hashes: Option<&BTreeMap<String, String>>,
) -> Result<(), TrustError> {
    let found = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if let Some(expected) = length {
        if expected != found {
            return Err(TrustError::LengthMismatch {
                file: file.to_owned(),
                parent: parent.to_owned(),
                expected,
                found,
            });
        }
    }
    for (algorithm, expected) in hashes.into_iter().flatten() {
        let computed = match algorithm.as_str() {
            "sha224" => hex::encode(sha2::Sha224::digest(data)),
            "sha256" => hex::encode(sha2::Sha256::digest(data)),
            "sha384" => hex::encode(sha2::Sha384::digest(data)),
            "sha512" => hex::encode(sha2::Sha512::digest(data)),
            _ => {
                return Err(TrustError::UnsupportedHash {
                    file: file.to_owned(),
                    parent: parent.to_owned(),
                    algorithm: algorithm.clone(),
                });
            }
        };
        if !computed.eq_ignore_ascii_case(expected) {
            return Err(TrustError::HashMismatch {
                file: file.to_owned(),
                parent: parent.to_owned(),
                algorithm: algorithm.clone(),
                expected: expected.clone(),
                found: computed,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_per_part() {
        assert!(path_matches(
            "registry.npmjs.org/*",
            "registry.npmjs.org/keys.json"
        ));
        assert!(!path_matches(
            "registry.npmjs.org/*",
            "registry.npmjs.org/a/b.json"
        ));
        assert!(!path_matches("*", "a/b"));
        assert!(path_matches("a?c*.json", "abcdef.json"));
        assert!(!path_matches("a?c*.json", "abdef.json"));
        assert!(path_matches("*", "trusted_root.json"));
    }

    #[test]
    fn hashes_are_all_checked() {
        let data = b"hello";
        let sha256 = hex::encode(sha2::Sha256::digest(data));
        let mut hashes = BTreeMap::new();
        hashes.insert("sha256".to_owned(), sha256.clone());
        check_length_and_hashes("f", "p", data, Some(5), Some(&hashes)).unwrap();
        assert!(matches!(
            check_length_and_hashes("f", "p", data, Some(6), Some(&hashes)),
            Err(TrustError::LengthMismatch { .. })
        ));
        hashes.insert("sha512".to_owned(), "00".to_owned());
        assert!(matches!(
            check_length_and_hashes("f", "p", data, Some(5), Some(&hashes)),
            Err(TrustError::HashMismatch { .. })
        ));
        let mut odd = BTreeMap::new();
        odd.insert("blake2b".to_owned(), sha256);
        assert!(matches!(
            check_length_and_hashes("f", "p", data, None, Some(&odd)),
            Err(TrustError::UnsupportedHash { .. })
        ));
    }
}
