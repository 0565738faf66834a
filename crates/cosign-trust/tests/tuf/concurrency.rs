//! Many clients updating one cache at once: threads, and processes over real HTTP.

use std::fs;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use cosign_trust::tuf::{Freshness, HttpFetcher, TufClient, TufOptions};

use super::repo::{MIRROR, NoNetwork, Repo, TRUSTED_ROOT};
use super::server;

fn assert_cache_valid(cache: &std::path::Path, mirror: &str, root: Vec<u8>) {
    let mut opts = TufOptions::new(mirror, root, "test root", Some(cache.to_path_buf()));
    opts.freshness = Freshness::Offline;
    let mut client = TufClient::new(opts, NoNetwork).unwrap();
    client.update().unwrap();
    assert_eq!(client.trusted_root_json().unwrap(), TRUSTED_ROOT);
}

fn no_temp_files(dir: &std::path::Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(
            !name.starts_with(".tmp"),
            "left behind: {}",
            entry.path().display()
        );
        if entry.file_type().unwrap().is_dir() {
            no_temp_files(&entry.path());
        }
    }
}

#[test]
fn concurrent_thread_updates_share_one_cache() {
    let mut repo = Repo::new();
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.bump_all();
    let cache = tempfile::tempdir().unwrap();
    let root = repo.root_v1();
    let fetcher = repo.fetcher();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let opts = TufOptions::new(
                MIRROR,
                root.clone(),
                "test root",
                Some(cache.path().to_path_buf()),
            );
            let fetcher = fetcher.clone();
            thread::spawn(move || {
                let mut client = TufClient::new(opts, fetcher).unwrap();
                let report = client.update().unwrap();
                assert_eq!(report.cache_error, None);
                assert_eq!(report.root_version, 2);
                client.trusted_root_json().unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), TRUSTED_ROOT);
    }
    assert_cache_valid(cache.path(), MIRROR, root);
    no_temp_files(cache.path());
}

#[test]
fn concurrent_process_updates_over_http_share_one_cache() {
    let mut repo = Repo::new();
    repo.rotate_root(|_| {}, &[0], &[0]);
    repo.bump_all();
    let server = server::serve(Arc::clone(&repo.files));
    let cache = tempfile::tempdir().unwrap();
    let root_file = cache.path().join("initial-root.json");
    fs::write(&root_file, repo.root_v1()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let running: Vec<_> = (0..6)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::child_update",
                    "--ignored",
                    "--nocapture",
                ])
                .env("TUF_TEST_MIRROR", &server.base)
                .env("TUF_TEST_CACHE", cache.path())
                .env("TUF_TEST_ROOT_FILE", &root_file)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in running {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("CHILD-OK"),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_cache_valid(cache.path(), &server.base, repo.root_v1());
    no_temp_files(cache.path());
}

/// Run by `concurrent_process_updates_over_http_share_one_cache` in child processes.
#[test]
#[ignore = "run as a child process by concurrent_process_updates_over_http_share_one_cache"]
#[allow(clippy::disallowed_methods)] // the parent's mirror and cache, handed over in the environment
fn child_update() {
    let (Ok(mirror), Ok(cache), Ok(root)) = (
        std::env::var("TUF_TEST_MIRROR"),
        std::env::var("TUF_TEST_CACHE"),
        std::env::var("TUF_TEST_ROOT_FILE"),
    ) else {
        return;
    };
    let opts = TufOptions::new(
        &mirror,
        fs::read(root).unwrap(),
        "test root",
        Some(cache.into()),
    );
    let fetcher =
        HttpFetcher::new("cosign-trust-test", std::time::Duration::from_secs(30)).unwrap();
    let mut client = TufClient::new(opts, fetcher).unwrap();
    let report = client.update().unwrap();
    assert_eq!(report.cache_error, None);
    assert_eq!(client.trusted_root_json().unwrap(), TRUSTED_ROOT);
    println!("CHILD-OK");
}

#[test]
fn http_fetcher_against_a_real_server() {
    let repo = Repo::new();
    let server = server::serve(Arc::clone(&repo.files));
    let fetcher =
        HttpFetcher::new("cosign-trust-test", std::time::Duration::from_secs(30)).unwrap();
    let opts = TufOptions::new(&server.base, repo.root_v1(), "test root", None);
    let mut client = TufClient::new(opts, fetcher.clone()).unwrap();
    client.update().unwrap();
    assert_eq!(client.trusted_root_json().unwrap(), TRUSTED_ROOT);

    use cosign_trust::TrustError;
    use cosign_trust::tuf::Fetcher as _;
    let err = fetcher
        .fetch(&format!("{}/missing.json", server.base), 100)
        .unwrap_err();
    assert!(matches!(err, TrustError::NotFound { .. }), "{err:?}");
    let err = fetcher
        .fetch(&format!("{}/timestamp.json", server.base), 10)
        .unwrap_err();
    assert!(
        matches!(err, TrustError::TooLarge { limit: 10, .. }),
        "{err:?}"
    );
}

#[test]
fn file_mirror_for_air_gapped_use() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in repo.files.lock().unwrap().iter() {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
    let mirror = url::Url::from_directory_path(dir.path())
        .unwrap()
        .to_string();
    let fetcher = HttpFetcher::new("cosign-trust-test", std::time::Duration::from_secs(5)).unwrap();
    let mut client =
        TufClient::new(TufOptions::new(&mirror, repo.root_v1(), "r", None), fetcher).unwrap();
    client.update().unwrap();
    assert_eq!(client.trusted_root_json().unwrap(), TRUSTED_ROOT);
}

#[test]
fn update_waits_for_the_cache_lock_then_gives_up_writing() {
    let repo = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("tuf.test");
    fs::create_dir_all(&dir).unwrap();
    let held = fs::File::create(dir.join(".lock")).unwrap();
    fs4::FileExt::try_lock(&held).unwrap();

    let mut opts = TufOptions::new(
        MIRROR,
        repo.root_v1(),
        "test root",
        Some(cache.path().to_path_buf()),
    );
    opts.lock_timeout = std::time::Duration::from_millis(200);
    let mut client = TufClient::new(opts.clone(), repo.fetcher()).unwrap();
    let report = client.update().unwrap();
    let why = report.cache_error.unwrap();
    assert!(why.contains("could not lock"), "{why}");
    assert!(!dir.join("timestamp.json").exists());

    // Released while another update waits: that one writes.
    opts.lock_timeout = std::time::Duration::from_secs(60);
    let waiter = {
        let fetcher = repo.fetcher();
        thread::spawn(move || TufClient::new(opts, fetcher).unwrap().update().unwrap())
    };
    thread::sleep(std::time::Duration::from_millis(100));
    drop(held);
    assert_eq!(waiter.join().unwrap().cache_error, None);
    assert!(dir.join("timestamp.json").exists());
}
