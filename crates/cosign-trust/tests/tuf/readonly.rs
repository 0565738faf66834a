//! Caches that cannot be written: the client verifies in memory instead.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::repo::{Repo, TRUSTED_ROOT};
use super::{client, mirror_dir};

#[test]
fn cache_dir_that_cannot_be_created() {
    let repo = Repo::new();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, b"x").unwrap();
    let cache = file.join("cache");
    let (mut client, _) = client(&repo, Some(&cache));
    let report = client.update().unwrap();
    assert!(report.online);
    let why = report.cache_error.unwrap();
    assert!(why.contains("creating the TUF cache directory"), "{why}");
    assert_eq!(client.trusted_root_json().unwrap(), TRUSTED_ROOT);
    assert!(!cache.exists());
}

/// Sets `mode` on `dir` and its subdirectories, `mode` without execute bits on files.
fn set_mode(dir: &Path, mode: u32) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            set_mode(&path, mode);
        } else {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o666)).unwrap();
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn read_only_prefilled_cache_is_read_and_left_alone() {
    let mut repo = Repo::new();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("root");
    client(&repo, Some(&cache)).0.trusted_root_json().unwrap();
    let before = fs::read(mirror_dir(&cache).join("timestamp.json")).unwrap();

    repo.bump_all();
    set_mode(&cache, 0o555);
    // Root ignores permission bits: only check what a normal user would see.
    let privileged = fs::write(mirror_dir(&cache).join("probe"), b"x").is_ok();
    let (mut client, _) = client(&repo, Some(&cache));
    let report = client.update();
    let data = client.trusted_root_json();
    set_mode(&cache, 0o755);
    let report = report.unwrap();
    assert_eq!(report.timestamp_version, 2);
    assert_eq!(data.unwrap(), TRUSTED_ROOT);
    if !privileged {
        assert!(report.cache_error.is_some());
        assert_eq!(
            fs::read(mirror_dir(&cache).join("timestamp.json")).unwrap(),
            before
        );
    }
}
