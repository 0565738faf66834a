//! The TUF client against repositories built and signed here, served from memory and over
//! HTTP on 127.0.0.1, plus the real embedded Sigstore roots, and the signing config read
//! through it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod repo;
mod server;

use std::fs;
use std::path::{Path, PathBuf};

use cosign_trust::TrustError;
use cosign_trust::tuf::{Freshness, Limits, TufClient, TufOptions, check_root_checksum};
use repo::{MIRROR, MemFetcher, NoNetwork, Repo, Signer, TRUSTED_ROOT, date, sign};
use serde_json::{Value, json};

fn options(repo: &Repo, cache: Option<&Path>) -> TufOptions {
    TufOptions::new(
        MIRROR,
        repo.root_v1(),
        "test root.json",
        cache.map(Path::to_path_buf),
    )
}

fn client(repo: &Repo, cache: Option<&Path>) -> (TufClient<MemFetcher>, MemFetcher) {
    let fetcher = repo.fetcher();
    let client = TufClient::new(options(repo, cache), fetcher.clone()).unwrap();
    (client, fetcher)
}

fn mirror_dir(cache: &Path) -> PathBuf {
    cache.join("tuf.test")
}

#[test]
fn happy_path_fills_the_cache_like_sigstore_go() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    let (mut c, fetcher) = client(&repo, Some(cache.path()));
    let report = c.update().unwrap();
    assert!(report.online);
    assert_eq!(report.root_version, 1);
    assert_eq!(report.root_rotations, 0);
    assert_eq!(
        (
            report.timestamp_version,
            report.snapshot_version,
            report.targets_version
        ),
        (1, 1, 1)
    );
    assert_eq!(report.cache_error, None);
    assert_eq!(c.trusted_root_json().unwrap(), TRUSTED_ROOT);
    let hash = repo::sha256_hex(TRUSTED_ROOT);
    assert_eq!(
        fetcher.requests(),
        [
            format!("{MIRROR}/2.root.json"),
            format!("{MIRROR}/timestamp.json"),
            format!("{MIRROR}/1.snapshot.json"),
            format!("{MIRROR}/1.targets.json"),
            format!("{MIRROR}/targets/{hash}.trusted_root.json"),
        ]
    );
    let dir = mirror_dir(cache.path());
    assert_eq!(fs::read(dir.join("root.json")).unwrap(), repo.root_v1());
    assert_eq!(
        fs::read(dir.join("timestamp.json")).unwrap(),
        repo.file("timestamp.json")
    );
    assert_eq!(
        fs::read(dir.join("snapshot.json")).unwrap(),
        repo.file("1.snapshot.json")
    );
    assert_eq!(
        fs::read(dir.join("targets.json")).unwrap(),
        repo.file("1.targets.json")
    );
    assert_eq!(
        fs::read(dir.join("targets").join("trusted_root.json")).unwrap(),
        TRUSTED_ROOT
    );
    let config: Value =
        serde_json::from_slice(&fs::read(cache.path().join("tuf.test.json")).unwrap()).unwrap();
    assert!(config["lastTimestamp"].as_str().unwrap().ends_with('Z'));
    // No temporary files left behind.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn second_update_reuses_cached_snapshot_targets_and_target() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    let (mut first, _) = client(&repo, Some(cache.path()));
    first.update().unwrap();
    first.trusted_root_json().unwrap();

    let (mut second, fetcher) = client(&repo, Some(cache.path()));
    second.update().unwrap();
    assert_eq!(second.trusted_root_json().unwrap(), TRUSTED_ROOT);
    assert_eq!(
        fetcher.requests(),
        [
            format!("{MIRROR}/2.root.json"),
            format!("{MIRROR}/timestamp.json")
        ]
    );
}

#[test]
fn in_memory_client_without_cache() {
    let repo = Repo::new();
    let (mut c, _) = client(&repo, None);
    let report = c.update().unwrap();
    assert_eq!(report.cache_error, None);
    assert_eq!(c.trusted_root_json().unwrap(), TRUSTED_ROOT);
    assert_eq!(c.cache_path(), None);
}

#[test]
fn non_consistent_repository_uses_plain_names() {
    let mut repo = Repo::new();
    repo.consistent = false;
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.publish();
    let (mut c, fetcher) = client(&repo, None);
    c.update().unwrap();
    assert_eq!(c.trusted_root_json().unwrap(), TRUSTED_ROOT);
    let requests = fetcher.requests();
    assert!(
        requests.contains(&format!("{MIRROR}/snapshot.json")),
        "{requests:?}"
    );
    assert!(requests.contains(&format!("{MIRROR}/targets/trusted_root.json")));
}

#[test]
fn root_rotation_with_threshold_change() {
    let mut repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    let (mut old_client, _) = client(&repo, Some(cache.path()));
    old_client.update().unwrap();

    // v2: three new root keys, threshold 2; signed by 1 old key (old threshold 1) and 2 new.
    repo.rotate_root(
        |r| {
            r.root_keys = vec![Signer::ecdsa(), Signer::ed25519(), Signer::ecdsa()];
            r.root_threshold = 2;
        },
        &[1],
        &[0, 2],
    );
    // v3: threshold back to 1 with a new timestamp key; signed by 2 of v2's keys.
    repo.rotate_root(
        |r| {
            r.root_keys.truncate(2);
            r.root_threshold = 1;
            r.timestamp_key = Signer::ed25519();
        },
        &[0, 1],
        &[0],
    );
    repo.bump_all();

    let (mut c, _) = client(&repo, Some(cache.path()));
    let report = c.update().unwrap();
    assert_eq!(report.root_version, 3);
    assert_eq!(report.root_rotations, 2);
    assert_eq!(report.timestamp_version, 2);
    assert_eq!(
        fs::read(mirror_dir(cache.path()).join("root.json")).unwrap(),
        repo.roots[&3]
    );
    assert_eq!(c.trusted_root_json().unwrap(), TRUSTED_ROOT);

    // A client starting from the cache does not walk the chain again.
    let (mut again, fetcher) = client(&repo, Some(cache.path()));
    assert_eq!(again.update().unwrap().root_rotations, 0);
    assert_eq!(fetcher.requests()[0], format!("{MIRROR}/4.root.json"));
}

#[test]
fn rotation_not_signed_by_old_threshold_is_refused() {
    let mut repo = Repo::new();
    repo.rotate_root(|r| r.root_keys = vec![Signer::ecdsa()], &[], &[0]);
    repo.publish();
    let (mut c, _) = client(&repo, None);
    let err = c.update().unwrap_err();
    match &err {
        TrustError::Threshold {
            role,
            valid,
            threshold,
            file,
            ..
        } => {
            assert_eq!((role.as_str(), *valid, *threshold), ("root", 0, 1));
            assert!(file.ends_with("/2.root.json"), "{file}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn rotation_not_signed_by_new_threshold_is_refused() {
    let mut repo = Repo::new();
    repo.rotate_root(
        |r| {
            r.root_keys = vec![Signer::ecdsa(), Signer::ecdsa()];
            r.root_threshold = 2;
        },
        &[0],
        &[1],
    );
    repo.publish();
    let (mut c, _) = client(&repo, None);
    let err = c.update().unwrap_err();
    assert!(
        matches!(
            &err,
            TrustError::Threshold {
                valid: 1,
                threshold: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn rotation_skipping_a_version_is_refused() {
    let mut repo = Repo::new();
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.publish();
    // Serve version 3 as 2.root.json.
    repo.set_file("2.root.json", repo.roots[&3].clone());
    let (mut c, _) = client(&repo, None);
    let err = c.update().unwrap_err();
    assert!(
        matches!(
            &err,
            TrustError::RootVersion {
                expected: 2,
                found: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("2.root.json"), "{err}");
}

#[test]
fn expired_final_root_is_refused_but_expired_intermediate_root_is_not() {
    let mut repo = Repo::new();
    repo.root_expires = date(-10);
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.root_expires = date(86400);
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.publish();
    let (mut c, _) = client(&repo, None);
    assert_eq!(c.update().unwrap().root_version, 3);

    let mut repo = Repo::new();
    repo.root_expires = date(-10);
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.publish();
    let (mut c, _) = client(&repo, None);
    let err = c.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "root"),
        "{err:?}"
    );
}

#[test]
fn timestamp_rollback_is_refused() {
    let mut repo = Repo::new();
    repo.timestamp_version = 5;
    repo.publish();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();

    repo.timestamp_version = 4;
    repo.publish();
    let (mut c, _) = client(&repo, Some(cache.path()));
    let err = c.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Rollback { trusted: 5, new: 4, what, .. } if what == "timestamp"),
        "{err:?}"
    );
}

#[test]
fn equal_timestamp_version_keeps_the_trusted_one() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();
    let cached = fs::read(mirror_dir(cache.path()).join("timestamp.json")).unwrap();
    // Same version, signed by a key the root does not know: refused for its signature.
    let stranger = Signer::ecdsa();
    let forged = sign(&repo.timestamp_signed(b"x"), &[&stranger]);
    repo.set_file("timestamp.json", forged);
    let err = client(&repo, Some(cache.path())).0.update().unwrap_err();
    assert!(matches!(err, TrustError::Threshold { .. }), "{err:?}");
    assert_eq!(
        fs::read(mirror_dir(cache.path()).join("timestamp.json")).unwrap(),
        cached
    );
    // The genuine same-version timestamp is fine.
    repo.set_file("timestamp.json", cached);
    client(&repo, Some(cache.path())).0.update().unwrap();
}

#[test]
fn snapshot_version_rollback_in_timestamp_is_refused() {
    let mut repo = Repo::new();
    repo.snapshot_version = 3;
    repo.publish();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();

    repo.timestamp_version = 2;
    repo.snapshot_version = 2;
    repo.publish();
    let err = client(&repo, Some(cache.path())).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Rollback { trusted: 3, new: 2, what, .. } if what.contains("snapshot.json")),
        "{err:?}"
    );
}

#[test]
fn targets_version_rollback_in_snapshot_is_refused() {
    let mut repo = Repo::new();
    repo.targets_version = 4;
    repo.publish();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();

    repo.timestamp_version = 2;
    repo.snapshot_version = 2;
    repo.targets_version = 3;
    repo.publish();
    let err = client(&repo, Some(cache.path())).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Rollback { trusted: 4, new: 3, what, .. } if what.contains("targets.json")),
        "{err:?}"
    );
}

#[test]
fn snapshot_rotation_forgets_cached_timestamp_and_snapshot() {
    // The repository recovers from a fast-forward attack: new snapshot key, versions reset.
    let mut repo = Repo::new();
    repo.timestamp_version = 50;
    repo.snapshot_version = 50;
    repo.publish();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();

    repo.rotate_root(|r| r.snapshot_key = Signer::ecdsa(), &[0], &[0]);
    repo.timestamp_version = 1;
    repo.snapshot_version = 1;
    repo.publish();
    let report = client(&repo, Some(cache.path())).0.update().unwrap();
    assert_eq!((report.timestamp_version, report.snapshot_version), (1, 1));
    assert_eq!(
        fs::read(mirror_dir(cache.path()).join("timestamp.json")).unwrap(),
        repo.file("timestamp.json")
    );
}

#[test]
fn expired_timestamp_is_a_freeze_attack() {
    let mut repo = Repo::new();
    repo.timestamp_expires = date(-60);
    repo.publish();
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert!(err.to_string().contains("freeze"), "{err}");
}

#[test]
fn expired_snapshot_and_targets_are_refused() {
    let mut repo = Repo::new();
    repo.snapshot_expires = date(-60);
    repo.publish();
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "snapshot"),
        "{err:?}"
    );

    let mut repo = Repo::new();
    repo.targets_expires = date(-60);
    repo.publish();
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "targets"),
        "{err:?}"
    );
}

#[test]
fn snapshot_not_matching_timestamp_hash_is_refused() {
    let repo = Repo::new();
    let mut snapshot: Value = serde_json::from_slice(&repo.file("1.snapshot.json")).unwrap();
    snapshot["signed"]["expires"] = json!(date(8 * 86400));
    let tampered = sign(&snapshot["signed"], &[&repo.snapshot_key]);
    repo.set_file("1.snapshot.json", tampered);
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(
            &err,
            TrustError::LengthMismatch { .. } | TrustError::HashMismatch { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn metadata_signed_by_the_wrong_role_is_refused() {
    let repo = Repo::new();
    let snapshot = repo.snapshot_signed();
    // Signed by the targets key instead of the snapshot key; timestamp lists no hash then.
    let bad = sign(&snapshot, &[&repo.targets_key]);
    let mut ts = repo.timestamp_signed(&bad);
    ts["meta"]["snapshot.json"] = json!({"version": 1});
    repo.set_file("timestamp.json", sign(&ts, &[&repo.timestamp_key]));
    repo.set_file("1.snapshot.json", bad);
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::Threshold { role, valid: 0, .. } if role == "snapshot"),
        "{err:?}"
    );
}

#[test]
fn target_with_wrong_hash_or_length_is_refused() {
    let repo = Repo::new();
    let served = format!(
        "targets/{}.trusted_root.json",
        repo::sha256_hex(TRUSTED_ROOT)
    );
    let mut evil = TRUSTED_ROOT.to_vec();
    evil[5] ^= 1;
    repo.set_file(&served, evil);
    let (mut client1, _) = client(&repo, None);
    let err = client1.trusted_root_json().unwrap_err();
    assert!(
        matches!(&err, TrustError::HashMismatch { algorithm, .. } if algorithm == "sha256"),
        "{err:?}"
    );

    let mut longer = TRUSTED_ROOT.to_vec();
    longer.push(b' ');
    repo.set_file(&served, longer);
    let err = client(&repo, None).0.trusted_root_json().unwrap_err();
    assert!(matches!(&err, TrustError::TooLarge { .. }), "{err:?}");

    repo.set_file(&served, TRUSTED_ROOT[..10].to_vec());
    let err = client(&repo, None).0.trusted_root_json().unwrap_err();
    assert!(
        matches!(&err, TrustError::LengthMismatch { found: 10, .. }),
        "{err:?}"
    );
}

#[test]
fn corrupted_cached_target_is_downloaded_again() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path()))
        .0
        .trusted_root_json()
        .unwrap();
    let path = mirror_dir(cache.path())
        .join("targets")
        .join("trusted_root.json");
    fs::write(&path, b"tampered").unwrap();
    assert_eq!(
        client(&repo, Some(cache.path()))
            .0
            .trusted_root_json()
            .unwrap(),
        TRUSTED_ROOT
    );
    assert_eq!(fs::read(&path).unwrap(), TRUSTED_ROOT);
}

#[test]
fn oversized_metadata_is_refused() {
    let mut repo = Repo::new();
    repo.publish();
    let mut ts = repo.timestamp_signed(&repo.file("1.snapshot.json"));
    ts["padding"] = json!("x".repeat(20_000));
    repo.set_file("timestamp.json", sign(&ts, &[&repo.timestamp_key]));
    let err = client(&repo, None).0.update().unwrap_err();
    assert!(
        matches!(&err, TrustError::TooLarge { limit: 16_384, url } if url.ends_with("/timestamp.json")),
        "{err:?}"
    );

    // A target bigger than the configured cap is refused before any download.
    let repo = Repo::new();
    let mut opts = options(&repo, None);
    opts.limits = Limits {
        target_max: 10,
        ..Limits::default()
    };
    let fetcher = repo.fetcher();
    let mut c = TufClient::new(opts, fetcher.clone()).unwrap();
    let err = c.trusted_root_json().unwrap_err();
    assert!(
        matches!(&err, TrustError::TooLarge { limit: 10, .. }),
        "{err:?}"
    );
    assert!(!fetcher.requests().iter().any(|u| u.contains("/targets/")));
}

#[test]
fn malformed_metadata_is_an_error_not_a_panic() {
    let repo = Repo::new();
    for body in [
        &b"not json"[..],
        br#"{"signatures": [], "signed": {"_type": "timestamp"}}"#,
        br#"{"signatures": [], "signed": {"_type": "snapshot", "spec_version": "1.0", "version": 2, "expires": "2099-01-01T00:00:00Z", "meta": {}}}"#,
        br#"{"signatures": [{"keyid": "x", "sig": "zz"}], "signed": {"_type": "timestamp", "spec_version": "1.0", "version": 2, "expires": "2099-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 1.5}}}}"#,
        br#"{"signatures": [], "signed": {"_type": "timestamp", "spec_version": "2.0", "version": 2, "expires": "2099-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 1}}}}"#,
    ] {
        repo.set_file("timestamp.json", body.to_vec());
        let err = client(&repo, None).0.update().unwrap_err();
        assert!(matches!(err, TrustError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains("timestamp.json"), "{err}");
    }
}

#[test]
fn unknown_target_is_not_found() {
    let repo = Repo::new();
    let (mut c, _) = client(&repo, None);
    let err = c.target("nope.json").unwrap_err();
    assert!(matches!(&err, TrustError::TargetNotFound { .. }), "{err:?}");
    let info = c.target_info("trusted_root.json").unwrap();
    assert_eq!(info.custom.unwrap()["sigstore"]["status"], "Active");
}

#[test]
fn offline_mode_uses_only_the_cache() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path()))
        .0
        .trusted_root_json()
        .unwrap();

    let mut opts = options(&repo, Some(cache.path()));
    opts.freshness = Freshness::Offline;
    let mut offline = TufClient::new(opts.clone(), NoNetwork).unwrap();
    let report = offline.update().unwrap();
    assert!(!report.online);
    assert_eq!(offline.trusted_root_json().unwrap(), TRUSTED_ROOT);

    // Later than the timestamp's expiry: refused offline too.
    opts.reference_time = Some(cosign_types::time::now_unix() + 2 * 86400);
    let err = TufClient::new(opts, NoNetwork)
        .unwrap()
        .update()
        .unwrap_err();
    assert!(
        matches!(&err, TrustError::Expired { role, .. } if role == "timestamp"),
        "{err:?}"
    );

    // Empty cache.
    let empty = tempfile::tempdir().unwrap();
    let mut opts = options(&repo, Some(empty.path()));
    opts.freshness = Freshness::Offline;
    let err = TufClient::new(opts, NoNetwork)
        .unwrap()
        .update()
        .unwrap_err();
    assert!(matches!(&err, TrustError::CacheUnusable { .. }), "{err:?}");
}

#[test]
fn cache_validity_skips_the_network_while_fresh() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    client(&repo, Some(cache.path())).0.update().unwrap();
    let mut opts = options(&repo, Some(cache.path()));
    opts.freshness = Freshness::CacheFor(std::time::Duration::from_secs(3600));
    let fetcher = repo.fetcher();
    let mut fresh = TufClient::new(opts.clone(), fetcher.clone()).unwrap();
    assert!(!fresh.update().unwrap().online);
    assert!(fetcher.requests().is_empty());

    // Two hours later the cache is stale: a refresh happens.
    opts.reference_time = Some(cosign_types::time::now_unix() + 7200);
    let mut stale = TufClient::new(opts, fetcher.clone()).unwrap();
    assert!(stale.update().unwrap().online);
    assert!(!fetcher.requests().is_empty());
}

#[test]
fn initialize_writes_remote_json_and_restarts_from_the_given_root() {
    let mut repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.publish();
    client(&repo, Some(cache.path())).0.update().unwrap();

    let (mut init, fetcher) = client(&repo, Some(cache.path()));
    let report = init.initialize().unwrap();
    assert_eq!(report.root_rotations, 1, "walks from the given root again");
    assert_eq!(fetcher.requests()[0], format!("{MIRROR}/2.root.json"));
    assert_eq!(
        fs::read_to_string(cache.path().join("remote.json")).unwrap(),
        format!(r#"{{"mirror":"{MIRROR}"}}"#)
    );
    assert_eq!(
        cosign_trust::tuf::read_remote_hint(cache.path())
            .unwrap()
            .as_deref(),
        Some(MIRROR)
    );
}

#[test]
fn root_checksum_is_checked() {
    let repo = Repo::new();
    let root = repo.root_v1();
    let sha256 = repo::sha256_hex(&root);
    check_root_checksum(&root, &sha256, "root.json").unwrap();
    check_root_checksum(&root, &format!("sha256:{sha256}"), "root.json").unwrap();
    let sha512 = hex::encode(<sha2::Sha512 as sha2::Digest>::digest(&root));
    check_root_checksum(&root, &format!("sha512:{sha512}"), "root.json").unwrap();
    let err = check_root_checksum(&root, &"0".repeat(64), "/tmp/root.json").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("incorrect checksum for file /tmp/root.json: expected 000"),
        "{err}"
    );
    assert!(matches!(
        check_root_checksum(&root, "md5:00", "r").unwrap_err(),
        TrustError::BadChecksum { .. }
    ));

    let mut opts = options(&repo, None);
    opts.root_checksum = Some("sha256:00".to_owned());
    assert!(matches!(
        TufClient::new(opts, repo.fetcher()).unwrap_err(),
        TrustError::RootChecksum { .. }
    ));
}

#[test]
fn initial_root_must_be_self_signed() {
    let repo = Repo::new();
    let mut root: Value = serde_json::from_slice(&repo.root_v1()).unwrap();
    root["signed"]["version"] = json!(7);
    let mut opts = options(&repo, None);
    opts.initial_root.json = serde_json::to_vec(&root).unwrap();
    let err = TufClient::new(opts, repo.fetcher()).unwrap_err();
    assert!(
        matches!(&err, TrustError::Threshold { role, .. } if role == "root"),
        "{err:?}"
    );
}

#[test]
fn bad_mirror_is_refused() {
    let repo = Repo::new();
    let mut opts = options(&repo, None);
    opts.mirror = "ftp://example.test".to_owned();
    assert!(matches!(
        TufClient::new(opts, repo.fetcher()).unwrap_err(),
        TrustError::BadMirror { .. }
    ));
}

mod concurrency;
mod delegation;
mod embedded;
#[cfg(unix)]
mod readonly;
mod real;
mod signing_config;
