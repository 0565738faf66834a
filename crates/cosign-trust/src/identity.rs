//! The certificate identity policy of Go cosign's verify flags: `--certificate-identity`,
//! `--certificate-identity-regexp`, `--certificate-oidc-issuer`,
//! `--certificate-oidc-issuer-regexp` and `--certificate-github-workflow-{trigger,sha,name,
//! repository,ref}`.
//!
//! Go cosign checks a certificate in one of two ways, and so does this module:
//! - [`CertificatePolicy::check_cosign`]: `cosign.CheckCertificatePolicy`, used for signatures
//!   without a Sigstore bundle. Every SAN of the certificate is a candidate; a regexp, when
//!   given, is used instead of the exact value; the issuer is the v1 extension (.1.1); errors
//!   are cosign's ("none of the expected identities matched what was in the certificate, got
//!   subjects [..] with issuer ..").
//! - [`CertificatePolicy::check_sigstore_go`]: sigstore-go's `CertificateIdentity`, used for
//!   Sigstore bundles. The SAN is the certificate's first URI, else first email, else Fulcio
//!   username; the issuer is the v2 extension (.1.8), else v1; an exact value and a regexp, when
//!   both given, must both match; errors are sigstore-go's.
//!
//! Regular expressions are RE2 (the `regex` crate) and unanchored, like Go's `MatchString`. The
//! `regex` crate's Perl classes (`\d`, `\w`, `\s`, `\b`) are Unicode-aware where Go's are
//! ASCII-only; SANs are IA5Strings (ASCII), on which both agree. Go's `\Q..\E` quoting is not
//! supported (the pattern is refused, never misread).

use regex::Regex;

use crate::TrustError;
use crate::x509::Certificate;
use crate::x509::fulcio::{FulcioExtensions, San, subject_alternative_names};

/// Largest regular expression accepted (bytes of compiled program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One expected identity: a subject (SAN) and an OIDC issuer, each exact or by regexp. An empty
/// or absent criterion is no constraint.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// `--certificate-identity`.
    pub subject: String,
    /// `--certificate-identity-regexp`, compiled.
    pub subject_regexp: Option<Regex>,
    /// `--certificate-oidc-issuer`.
    pub issuer: String,
    /// `--certificate-oidc-issuer-regexp`, compiled.
    pub issuer_regexp: Option<Regex>,
}

fn compile(which: &'static str, pattern: &str) -> Result<Option<Regex>, TrustError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Some)
        .map_err(|e| TrustError::BadRegexp {
            which,
            pattern: pattern.to_owned(),
            reason: e.to_string(),
        })
}

impl Identity {
    /// Builds an identity from the four flags (empty strings for unset flags); regexps are
    /// compiled here.
    pub fn new(
        subject: &str,
        subject_regexp: &str,
        issuer: &str,
        issuer_regexp: &str,
    ) -> Result<Self, TrustError> {
        Ok(Self {
            subject: subject.to_owned(),
            subject_regexp: compile("subject", subject_regexp)?,
            issuer: issuer.to_owned(),
            issuer_regexp: compile("issuer", issuer_regexp)?,
        })
    }
}

/// The `--certificate-github-workflow-*` flags (empty for unset). They are compared with the
/// certificate's v1 GitHub extensions (.1.2 to .1.6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GithubWorkflow {
    /// `--certificate-github-workflow-trigger`.
    pub trigger: String,
    /// `--certificate-github-workflow-sha`.
    pub sha: String,
    /// `--certificate-github-workflow-name`.
    pub name: String,
    /// `--certificate-github-workflow-repository`.
    pub repository: String,
    /// `--certificate-github-workflow-ref`.
    pub git_ref: String,
}

/// What a certificate must say about its holder.
#[derive(Clone, Debug, Default)]
pub struct CertificatePolicy {
    /// Any one of these must match (none: no identity constraint).
    pub identities: Vec<Identity>,
    /// Workflow claims that must all match.
    pub github_workflow: GithubWorkflow,
}

impl CertificatePolicy {
    /// Cosign's `CheckCertificatePolicy` (signatures without a bundle).
    pub fn check_cosign(&self, cert: &Certificate) -> Result<(), TrustError> {
        let ext = FulcioExtensions::from_certificate(cert)?;
        let gw = &self.github_workflow;
        let claims: [(&'static str, &str, &str); 5] = [
            ("Trigger", &gw.trigger, &ext.github_workflow_trigger),
            ("SHA", &gw.sha, &ext.github_workflow_sha),
            ("Name", &gw.name, &ext.github_workflow_name),
            (
                "Repository",
                &gw.repository,
                &ext.github_workflow_repository,
            ),
            ("Ref", &gw.git_ref, &ext.github_workflow_ref),
        ];
        for (claim, expected, found) in claims {
            if !expected.is_empty() && expected != found {
                return Err(TrustError::WorkflowClaimMismatch {
                    claim,
                    expected: expected.to_owned(),
                    found: found.to_owned(),
                });
            }
        }
        if self.identities.is_empty() {
            return Ok(());
        }
        let issuer = ext.issuer_v1.as_str();
        let sans: Vec<String> = subject_alternative_names(cert)?
            .iter()
            .map(ToString::to_string)
            .collect();
        for id in &self.identities {
            let issuer_matches = match (&id.issuer_regexp, id.issuer.as_str()) {
                (Some(re), _) => re.is_match(issuer),
                (None, "") => true,
                (None, exact) => exact == issuer,
            };
            let subject_matches = match (&id.subject_regexp, id.subject.as_str()) {
                (Some(re), _) => sans.iter().any(|s| re.is_match(s)),
                (None, "") => true,
                (None, exact) => sans.iter().any(|s| s == exact),
            };
            if issuer_matches && subject_matches {
                return Ok(());
            }
        }
        Err(TrustError::IdentityMismatch {
            subjects: sans,
            issuer: issuer.to_owned(),
        })
    }

    /// sigstore-go's `CertificateIdentities.Verify` (Sigstore bundles).
    pub fn check_sigstore_go(&self, cert: &Certificate) -> Result<(), TrustError> {
        let ext = FulcioExtensions::from_certificate(cert)?;
        let san = summary_san(cert)?;
        let issuer = ext.issuer();
        let mut last_error = String::from("no identity given");
        for id in &self.identities {
            match verify_one(id, &self.github_workflow, &san, issuer, &ext) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = e,
            }
        }
        Err(TrustError::NoMatchingIdentity { last_error })
    }
}

/// sigstore-go's summary SAN: first URI, else first email, else the Fulcio username.
fn summary_san(cert: &Certificate) -> Result<String, TrustError> {
    let sans = subject_alternative_names(cert)?;
    let pick = |f: fn(&San) -> bool| sans.iter().find(|s| f(s)).map(ToString::to_string);
    pick(|s| matches!(s, San::Uri(_)))
        .or_else(|| pick(|s| matches!(s, San::Email(_))))
        .or_else(|| pick(|s| matches!(s, San::Username(_))))
        .ok_or_else(|| TrustError::Parse {
            what: "certificate",
            reason: "no Subject Alternative Name found".into(),
        })
}

fn verify_one(
    id: &Identity,
    gw: &GithubWorkflow,
    san: &str,
    issuer: &str,
    ext: &FulcioExtensions,
) -> Result<(), String> {
    let value = |object: &str, expected: &str, regexp: &Option<Regex>, actual: &str| {
        if !expected.is_empty() && expected != actual {
            return Err(format!(
                "expected {object} value \"{expected}\", got \"{actual}\""
            ));
        }
        match regexp {
            Some(re) if !re.is_match(actual) => Err(format!(
                "expected {object} value to match regex \"{}\", got \"{actual}\"",
                re.as_str()
            )),
            _ => Ok(()),
        }
    };
    value("SAN", &id.subject, &id.subject_regexp, san)?;
    value("issuer", &id.issuer, &id.issuer_regexp, issuer)?;
    let fields: [(&str, &str, &str); 5] = [
        (
            "GithubWorkflowTrigger",
            &gw.trigger,
            &ext.github_workflow_trigger,
        ),
        ("GithubWorkflowSHA", &gw.sha, &ext.github_workflow_sha),
        ("GithubWorkflowName", &gw.name, &ext.github_workflow_name),
        (
            "GithubWorkflowRepository",
            &gw.repository,
            &ext.github_workflow_repository,
        ),
        ("GithubWorkflowRef", &gw.git_ref, &ext.github_workflow_ref),
    ];
    for (field, expected, actual) in fields {
        if !expected.is_empty() && expected != actual {
            return Err(format!(
                "expected {field} to be \"{expected}\", got \"{actual}\""
            ));
        }
    }
    Ok(())
}
