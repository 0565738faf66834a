//! The real public-good repository (see `data/README.md`): the whole root chain, the
//! timestamp, snapshot, targets and target files as signed by Sigstore.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use cosign_trust::TrustError;
use cosign_trust::tuf::{Instance, TufClient, TufOptions};

use super::repo::{MemFetcher, sha256_hex};

const MIRROR: &str = "https://tuf.test";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tuf/data/public-good")
            .join(name),
    )
    .unwrap()
}

/// The files at the names the CDN serves them under.
fn served() -> MemFetcher {
    let mut files = BTreeMap::new();
    for v in 1..=15 {
        files.insert(format!("{v}.root.json"), data(&format!("{v}.root.json")));
    }
    files.insert("timestamp.json".to_owned(), data("timestamp.json"));
    files.insert("165.snapshot.json".to_owned(), data("snapshot.json"));
    files.insert("14.targets.json".to_owned(), data("targets.json"));
    files.insert(
        "8.registry.npmjs.org.json".to_owned(),
        data("registry.npmjs.org.json"),
    );
    for name in ["trusted_root.json", "signing_config.v0.2.json"] {
        let body = data(&format!("targets/{name}"));
        files.insert(format!("targets/{}.{name}", sha256_hex(&body)), body);
    }
    let npm = data("targets/registry.npmjs.org/keys.json");
    files.insert(
        format!("targets/registry.npmjs.org/{}.keys.json", sha256_hex(&npm)),
        npm,
    );
    MemFetcher::new(Arc::new(Mutex::new(files)))
}

/// 2026-08-22T12:00:00Z: after the timestamp was signed, before anything expired.
const WHEN_VALID: i64 = 1_787_400_000;

fn options(root: Vec<u8>) -> TufOptions {
    let mut opts = TufOptions::new(MIRROR, root, "root.json", None);
    opts.reference_time = Some(WHEN_VALID);
    opts
}

#[test]
fn real_repository_from_the_embedded_root() {
    let fetcher = served();
    let mut client = TufClient::new(
        options(Instance::PublicGood.root_json().to_vec()),
        fetcher.clone(),
    )
    .unwrap();
    let report = client.update().unwrap();
    assert_eq!(
        (
            report.root_version,
            report.root_rotations,
            report.timestamp_version,
            report.snapshot_version,
            report.targets_version
        ),
        (15, 0, 762, 165, 14)
    );
    assert_eq!(
        client.trusted_root_json().unwrap(),
        data("targets/trusted_root.json")
    );
    assert_eq!(
        client.target("signing_config.v0.2.json").unwrap(),
        data("targets/signing_config.v0.2.json")
    );
    // Legacy targets carry Sigstore's custom metadata; trusted_root.json has none.
    let info = client.target_info("rekor.pub").unwrap();
    assert_eq!(info.custom.unwrap()["sigstore"]["usage"], "Rekor");
    assert!(
        client
            .target_info("trusted_root.json")
            .unwrap()
            .custom
            .is_none()
    );
    // The npm keys are delegated to the registry.npmjs.org role.
    assert_eq!(
        client.target("registry.npmjs.org/keys.json").unwrap(),
        data("targets/registry.npmjs.org/keys.json")
    );
    assert!(
        fetcher
            .requests()
            .contains(&format!("{MIRROR}/8.registry.npmjs.org.json"))
    );
    let err = client.target("registry.npmjs.org/other.json").unwrap_err();
    assert!(matches!(err, TrustError::TargetNotFound { .. }), "{err:?}");
}

#[test]
fn real_root_chain_from_version_1() {
    // Roots 1-4 were written by the old go-tuf (hex keys, fractional-second dates, no
    // consistent snapshots); 5-15 by later tooling.
    let mut client = TufClient::new(options(data("1.root.json")), served()).unwrap();
    let report = client.update().unwrap();
    assert_eq!((report.root_version, report.root_rotations), (15, 14));
    assert_eq!(
        client.trusted_root_json().unwrap(),
        data("targets/trusted_root.json")
    );
}

#[test]
fn real_repository_today_is_expired() {
    // Root 15 expires on 2026-11-20, the timestamp on 2026-08-28.
    let mut opts = options(Instance::PublicGood.root_json().to_vec());
    opts.reference_time = Some(1_790_000_000); // 2026-09-21
    let err = TufClient::new(opts, served())
        .unwrap()
        .update()
        .unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    let mut opts = options(Instance::PublicGood.root_json().to_vec());
    opts.reference_time = Some(1_800_000_000); // 2027-01-15
    let err = TufClient::new(opts, served())
        .unwrap()
        .update()
        .unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "root"),
        "{err:?}"
    );
}
