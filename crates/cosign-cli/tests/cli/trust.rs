//! `cosign initialize` and trust from an initialized TUF repository: a repository built and
//! signed by the test (served as a `file://` mirror) whose `trusted_root.json` names our own
//! transparency log; verification takes the log key from it once `initialize` has run.

use std::path::Path;

use test_support::TlogServer;

use crate::common::Scratch;

#[allow(dead_code, clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../../cosign-trust/tests/tuf/repo.rs"]
mod tuf_repo;

/// Writes the repository's files under `dir` (a `file://` mirror).
fn write_mirror(repo: &tuf_repo::Repo, dir: &Path) {
    for (name, body) in repo.files.lock().unwrap().iter() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

struct Setup {
    s: Scratch,
    _log: TlogServer,
    repo: tuf_repo::Repo,
    mirror: String,
}

fn setup() -> Setup {
    let log = TlogServer::start();
    let s = Scratch::new();
    s.keypair("cosign", "pw");
    s.write("blob", "release artifact\n");
    s.run(
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--rekor-url",
            log.url(),
            "--new-bundle-format",
            "--bundle",
            "blob.sigstore.json",
            "blob",
        ],
        &[("COSIGN_PASSWORD", "pw")],
        None,
    )
    .ok();
    let mut repo = tuf_repo::Repo::new();
    repo.targets.insert(
        "trusted_root.json".into(),
        log.trusted_root_json().into_bytes(),
    );
    repo.publish();
    let dir = s.path("mirror");
    write_mirror(&repo, &dir);
    std::fs::write(s.path("root.json"), &repo.roots[&1]).unwrap();
    let mirror = format!("file://{}", dir.display());
    Setup {
        s,
        _log: log,
        repo,
        mirror,
    }
}

fn verify(s: &Scratch, cache: &str) -> crate::common::Run {
    s.run(
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "blob.sigstore.json",
            "--offline",
            "blob",
        ],
        &[("TUF_ROOT", cache)],
        None,
    )
}

#[test]
fn initialize_then_verify_with_the_repository_trusted_root() {
    let t = setup();
    let cache = t.s.path("tuf-cache").display().to_string();
    // Not initialized: no log key, and nothing is fetched.
    let run = verify(&t.s, &cache).fails();
    assert!(
        run.stderr
            .contains("no transparency log key to verify against"),
        "{}",
        run.stderr
    );
    t.s.run(
        &["initialize", "--mirror", &t.mirror, "--root", "root.json"],
        &[("TUF_ROOT", &cache)],
        None,
    )
    .ok();
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&cache).join("remote.json")).unwrap())
            .unwrap();
    assert_eq!(remote["mirror"], t.mirror.as_str());
    let run = verify(&t.s, &cache).ok();
    assert!(run.stderr.contains("Verified OK"), "{}", run.stderr);
    // The cache answers for a day: with the mirror gone, verification still works.
    std::fs::remove_dir_all(t.s.path("mirror")).unwrap();
    verify(&t.s, &cache).ok();
}

#[test]
fn initialize_refuses_what_tuf_does_not_vouch_for() {
    let t = setup();
    let cache = t.s.path("tuf-cache").display().to_string();
    let env = [("TUF_ROOT", cache.as_str())];
    // A wrong checksum of the initial root.
    let run =
        t.s.run(
            &[
                "initialize",
                "--mirror",
                &t.mirror,
                "--root",
                "root.json",
                "--root-checksum",
                &format!("sha256:{}", "00".repeat(32)),
            ],
            &env,
            None,
        )
        .fails();
    assert!(run.stderr.contains("checksum"), "{}", run.stderr);
    // An initial root that is not this repository's: the metadata does not verify.
    let other = tuf_repo::Repo::new();
    std::fs::write(t.s.path("other-root.json"), &other.roots[&1]).unwrap();
    t.s.run(
        &[
            "initialize",
            "--mirror",
            &t.mirror,
            "--root",
            "other-root.json",
        ],
        &env,
        None,
    )
    .fails();
    // A trusted_root.json swapped on the mirror (the targets metadata names other bytes).
    let name = t
        .repo
        .files
        .lock()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("targets/") && k.ends_with("trusted_root.json"))
        .cloned()
        .unwrap();
    std::fs::write(
        t.s.path("mirror").join(&name),
        br#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": []}"#,
    )
    .unwrap();
    let run =
        t.s.run(
            &["initialize", "--mirror", &t.mirror, "--root", "root.json"],
            &env,
            None,
        )
        .fails();
    assert!(run.stderr.contains("trusted_root.json"), "{}", run.stderr);
    // No embedded root for an unknown mirror.
    let run =
        t.s.run(&["initialize", "--mirror", &t.mirror], &env, None)
            .fails();
    assert!(run.stderr.contains("--root"), "{}", run.stderr);
}
