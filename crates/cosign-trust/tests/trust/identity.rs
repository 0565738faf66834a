//! The identity policy: Go cosign's and sigstore-go's rules and wording.

use cosign_trust::TrustError;
use cosign_trust::identity::{CertificatePolicy, GithubWorkflow, Identity};
use cosign_trust::x509::fulcio::{FulcioExtensions, San, subject_alternative_names};
use rcgen::{CustomExtension, SanType};

use crate::pki::*;
use crate::real::case;

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn policy(subject: &str, subject_re: &str, issuer: &str, issuer_re: &str) -> CertificatePolicy {
    CertificatePolicy {
        identities: vec![Identity::new(subject, subject_re, issuer, issuer_re).unwrap()],
        github_workflow: GithubWorkflow::default(),
    }
}

#[test]
fn real_fulcio_certificate_extensions_and_sans() {
    let leaf = case("happy-path-v0.3").leaf();
    let ext = FulcioExtensions::from_certificate(&leaf).unwrap();
    assert_eq!(ext.issuer(), GITHUB);
    assert_eq!(ext.issuer_v1, GITHUB);
    assert_eq!(ext.github_workflow_trigger, ext.build_trigger);
    assert_eq!(
        ext.github_workflow_repository,
        "sigstore-conformance/extremely-dangerous-public-oidc-beacon"
    );
    assert!(ext.source_repository_uri.starts_with("https://github.com/"));
    assert_eq!(
        subject_alternative_names(&leaf).unwrap(),
        [San::Uri(BEACON.into())]
    );
    for check in [
        CertificatePolicy::check_cosign,
        CertificatePolicy::check_sigstore_go,
    ] {
        check(&policy(BEACON, "", GITHUB, ""), &leaf).unwrap();
        check(
            &policy("", "extremely-dangerous", "", "githubusercontent"),
            &leaf,
        )
        .unwrap();
        assert!(
            check(
                &policy(BEACON, "", "https://accounts.google.com", ""),
                &leaf
            )
            .is_err()
        );
    }
}

#[test]
fn cosign_wording_on_mismatch() {
    let f = Fulcio::new();
    let leaf = f
        .leaf(leaf_params("a@test.example", "https://issuer.test.example"))
        .parsed();
    let e = policy("b@test.example", "", "https://issuer.test.example", "")
        .check_cosign(&leaf)
        .unwrap_err();
    assert!(matches!(e, TrustError::IdentityMismatch { .. }));
    assert_eq!(
        e.to_string(),
        "none of the expected identities matched what was in the certificate, got subjects [a@test.example] with issuer https://issuer.test.example"
    );
    // Issuer mismatch, exact and by regexp.
    assert!(
        policy("a@test.example", "", "https://other", "")
            .check_cosign(&leaf)
            .is_err()
    );
    assert!(
        policy("a@test.example", "", "", "^https://other")
            .check_cosign(&leaf)
            .is_err()
    );
    policy("a@test.example", "", "", "issuer")
        .check_cosign(&leaf)
        .unwrap();
}

#[test]
fn regexps_are_unanchored_like_go() {
    let f = Fulcio::new();
    let leaf = f
        .leaf(leaf_params(
            "alice@test.example",
            "https://issuer.test.example",
        ))
        .parsed();
    // Go's MatchString finds the pattern anywhere.
    policy("", "alice", "https://issuer.test.example", "")
        .check_cosign(&leaf)
        .unwrap();
    policy("", "ice@test", "", "issuer")
        .check_sigstore_go(&leaf)
        .unwrap();
    // Anchors are the caller's to write.
    let e = policy("", "^alice$", "https://issuer.test.example", "")
        .check_cosign(&leaf)
        .unwrap_err();
    assert!(
        e.to_string().contains("got subjects [alice@test.example]"),
        "{e}"
    );
    // A regexp takes precedence over the exact value in cosign; sigstore-go needs both.
    policy("nobody", "alice", "https://issuer.test.example", "")
        .check_cosign(&leaf)
        .unwrap();
    let e = policy("nobody", "alice", "https://issuer.test.example", "")
        .check_sigstore_go(&leaf)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to verify certificate identity: no matching CertificateIdentity found, last error: expected SAN value \"nobody\", got \"alice@test.example\""
    );
    let e = policy("", "bob", "https://issuer.test.example", "")
        .check_sigstore_go(&leaf)
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("expected SAN value to match regex \"bob\", got \"alice@test.example\""),
        "{e}"
    );
    let e = policy("alice@test.example", "", "", "^issuer")
        .check_sigstore_go(&leaf)
        .unwrap_err();
    assert!(
        e.to_string().ends_with(
            "expected issuer value to match regex \"^issuer\", got \"https://issuer.test.example\""
        ),
        "{e}"
    );
}

#[test]
fn bad_regexps_are_named() {
    let e = Identity::new("", "(", "", "").unwrap_err();
    assert!(
        matches!(
            e,
            TrustError::BadRegexp {
                which: "subject",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("malformed subject in identity: ( : "),
        "{e}"
    );
    let e = Identity::new("", "", "", "[z-a]").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("malformed issuer in identity: [z-a]"),
        "{e}"
    );
}

#[test]
fn any_identity_may_match() {
    let f = Fulcio::new();
    let leaf = f
        .leaf(leaf_params("a@test.example", "https://issuer.test.example"))
        .parsed();
    let p = CertificatePolicy {
        identities: vec![
            Identity::new("x@test.example", "", "", "").unwrap(),
            Identity::new("a@test.example", "", "https://issuer.test.example", "").unwrap(),
        ],
        github_workflow: GithubWorkflow::default(),
    };
    p.check_cosign(&leaf).unwrap();
    p.check_sigstore_go(&leaf).unwrap();
}

#[test]
fn github_workflow_claims() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", GITHUB);
    for (n, v) in [
        (2, "push"),
        (3, "abc123"),
        (4, "ci"),
        (5, "org/repo"),
        (6, "refs/heads/main"),
    ] {
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &fulcio_oid(n),
            v.as_bytes().to_vec(),
        ));
    }
    let leaf = f.leaf(p).parsed();
    let mut policy = policy("a@test.example", "", GITHUB, "");
    policy.github_workflow = GithubWorkflow {
        trigger: "push".into(),
        sha: "abc123".into(),
        name: "ci".into(),
        repository: "org/repo".into(),
        git_ref: "refs/heads/main".into(),
    };
    policy.check_cosign(&leaf).unwrap();
    policy.check_sigstore_go(&leaf).unwrap();
    policy.github_workflow.repository = "org/other".into();
    let e = policy.check_cosign(&leaf).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected GitHub Workflow Repository not found in certificate"
    );
    assert!(
        matches!(e, TrustError::WorkflowClaimMismatch { claim: "Repository", ref found, .. } if found == "org/repo")
    );
    let e = policy.check_sigstore_go(&leaf).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("expected GithubWorkflowRepository to be \"org/other\", got \"org/repo\""),
        "{e}"
    );
    policy.github_workflow.repository = "org/repo".into();
    policy.github_workflow.sha = "fff".into();
    assert_eq!(
        policy.check_cosign(&leaf).unwrap_err().to_string(),
        "expected GitHub Workflow SHA not found in certificate"
    );
}

#[test]
fn uri_and_username_sans() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.subject_alt_names = vec![
        SanType::Rfc822Name("a@test.example".try_into().unwrap()),
        SanType::URI("https://ci.test.example/job".try_into().unwrap()),
        SanType::OtherName((
            fulcio_oid(7),
            rcgen::OtherNameValue::Utf8String("alice!test.example".into()),
        )),
    ];
    let leaf = f.leaf(p).parsed();
    assert_eq!(
        subject_alternative_names(&leaf).unwrap(),
        [
            San::Email("a@test.example".into()),
            San::Uri("https://ci.test.example/job".into()),
            San::Username("alice!test.example".into()),
        ]
    );
    // cosign: any SAN, exact or by regexp; sigstore-go: the URI first.
    policy("", r"ci\.test\.example", "https://issuer.test.example", "")
        .check_cosign(&leaf)
        .unwrap();
    policy("alice!test.example", "", "", "")
        .check_cosign(&leaf)
        .unwrap();
    policy(
        "https://ci.test.example/job",
        "",
        "https://issuer.test.example",
        "",
    )
    .check_sigstore_go(&leaf)
    .unwrap();
    assert!(
        policy("a@test.example", "", "https://issuer.test.example", "")
            .check_sigstore_go(&leaf)
            .is_err()
    );
    // Only a username: sigstore-go uses it.
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.subject_alt_names = vec![SanType::OtherName((
        fulcio_oid(7),
        rcgen::OtherNameValue::Utf8String("bob!x".into()),
    ))];
    let leaf = f.leaf(p).parsed();
    policy("bob!x", "", "https://issuer.test.example", "")
        .check_sigstore_go(&leaf)
        .unwrap();
}

#[test]
fn v2_issuer_must_be_a_utf8_string() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        &fulcio_oid(8),
        b"raw".to_vec(),
    )];
    let leaf = f.leaf(p).parsed();
    let e = FulcioExtensions::from_certificate(&leaf).unwrap_err();
    assert!(e.to_string().contains("UTF8String"), "{e}");
    // v2 only: cosign's legacy check reads v1 and sees no issuer.
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        &fulcio_oid(8),
        utf8("https://v2.test.example"),
    )];
    let leaf = f.leaf(p).parsed();
    policy("a@test.example", "", "https://v2.test.example", "")
        .check_sigstore_go(&leaf)
        .unwrap();
    let e = policy("a@test.example", "", "https://v2.test.example", "")
        .check_cosign(&leaf)
        .unwrap_err();
    assert!(e.to_string().ends_with("with issuer "), "{e}");
}
