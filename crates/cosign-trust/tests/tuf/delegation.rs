//! Delegated targets roles: search order, terminating roles, keys, caching.

use cosign_trust::TrustError;

use super::repo::{Delegated, MIRROR, Repo, Signer};
use super::{client, mirror_dir};

fn delegated_repo(first_terminating: bool) -> Repo {
    let mut repo = Repo::new();
    let first = Delegated::new("first", &["shared/*"], first_terminating);
    let mut second = Delegated::new("second", &["shared/*", "other/*"], false);
    second
        .targets
        .insert("shared/t.json".to_owned(), b"from second".to_vec());
    repo.delegated = vec![first, second];
    repo.publish();
    repo
}

#[test]
fn delegated_targets_are_searched_in_order_and_cached() {
    let repo = delegated_repo(false);
    let cache = tempfile::tempdir().unwrap();
    let (mut c, fetcher) = client(&repo, Some(cache.path()));
    assert_eq!(c.target("shared/t.json").unwrap(), b"from second");
    let requests = fetcher.requests();
    assert!(
        requests.contains(&format!("{MIRROR}/1.first.json")),
        "{requests:?}"
    );
    assert!(
        requests.contains(&format!("{MIRROR}/1.second.json")),
        "{requests:?}"
    );
    assert!(mirror_dir(cache.path()).join("second.json").exists());
    assert!(
        mirror_dir(cache.path())
            .join("targets")
            .join("shared%2Ft.json")
            .exists()
    );
    // Outside every delegation's paths: not found without loading anything else.
    assert!(matches!(
        c.target("elsewhere/t.json").unwrap_err(),
        TrustError::TargetNotFound { .. }
    ));

    let (mut again, fetcher) = client(&repo, Some(cache.path()));
    assert_eq!(again.target("shared/t.json").unwrap(), b"from second");
    assert_eq!(
        fetcher.requests(),
        [
            format!("{MIRROR}/2.root.json"),
            format!("{MIRROR}/timestamp.json")
        ]
    );
}

#[test]
fn terminating_delegation_stops_the_search() {
    let repo = delegated_repo(true);
    let (mut c, fetcher) = client(&repo, None);
    let err = c.target("shared/t.json").unwrap_err();
    assert!(matches!(&err, TrustError::TargetNotFound { .. }), "{err:?}");
    assert!(
        !fetcher
            .requests()
            .contains(&format!("{MIRROR}/1.second.json"))
    );
    // A path only the second role is trusted for is still found through it.
    let mut repo = delegated_repo(true);
    repo.delegated[1]
        .targets
        .insert("other/u.json".to_owned(), b"u".to_vec());
    repo.publish();
    assert_eq!(client(&repo, None).0.target("other/u.json").unwrap(), b"u");
}

#[test]
fn delegated_role_signed_by_the_wrong_key_is_refused() {
    let mut repo = delegated_repo(false);
    repo.delegated[1].signer = Some(Signer::ed25519());
    repo.publish();
    let err = client(&repo, None).0.target("shared/t.json").unwrap_err();
    assert!(
        matches!(&err, TrustError::Threshold { role, valid: 0, .. } if role == "second"),
        "{err:?}"
    );
}
