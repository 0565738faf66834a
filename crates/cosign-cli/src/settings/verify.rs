//! Who a verify command trusts: `--key`, or (keyless) a certificate policy built from the
//! identity flags, with the certificate authorities, CT logs and timestamp authorities of the
//! trusted root and the overrides Go cosign reads (`--certificate-chain`, `--ca-roots`,
//! `--ca-intermediates`, `--timestamp-certificate-chain`, `SIGSTORE_ROOT_FILE`,
//! `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, `SIGSTORE_TSA_CERTIFICATE_FILE`); and the transparency
//! log keys.
//!
//! The trusted root is, in order: `--trusted-root FILE`; the TUF repository `cosign initialize`
//! set up; for keyless verification, the public-good trusted root embedded in the binary (no
//! network is touched in any of these cases but a stale TUF cache).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cosign::keyless::{Authority, CertificateVerifier};
use cosign::tlog::TlogVerify;
use cosign_trust::identity::{CertificatePolicy, GithubWorkflow, Identity};
use cosign_trust::trusted_root::{
    AuthoritySubject, CertificateAuthority, LogInstance, TrustedRoot, ValidityPeriod,
};
use cosign_trust::x509::Certificate;

use crate::args::{CertVerifyArgs, VerifyKeyArgs, VerifyLogArgs};
use crate::ctx::Ctx;
use crate::env;

/// Go cosign's `KeyAndIdentityParseError`.
pub const KEY_AND_IDENTITY: &str = "exactly one of: key reference (--key) or certificate identity (--certificate-identity or --certificate-identity-regexp), must be provided. To determine which to use, inspect the bundle's 'verificationMaterial' field: if 'publicKey' is present, use key reference; if 'certificate' or 'x509CertificateChain' is present, use certificate identity";

/// Go cosign's `PubKeyParseError`.
pub const KEY_AND_CERTIFICATE: &str = "exactly one of: key reference (--key), certificate (--cert) or hardware token (--sk) must be provided";

/// What a verify command checks signatures against.
pub struct VerifyTrust {
    /// The key or the certificate policy.
    pub authority: Authority,
    /// The trusted root (timestamp authorities check RFC 3161 timestamps), with overrides.
    pub trusted_root: Option<TrustedRoot>,
    /// The transparency log check (None: skipped).
    pub tlog: Option<TlogVerify>,
}

impl VerifyTrust {
    /// Whether signatures are checked against certificates (keyless).
    pub fn keyless(&self) -> bool {
        matches!(self.authority, Authority::Certificate(_))
    }
}

/// Resolves the verification settings of a verify command (`what` names the artifacts in the
/// tlog warning: signature, blob ...).
pub fn resolve(
    ctx: &Ctx<'_>,
    key: &VerifyKeyArgs,
    cert: &CertVerifyArgs,
    log: &VerifyLogArgs,
    what: &str,
) -> Result<VerifyTrust> {
    super::keys::refuse_sk(key.sk)?;
    if key.key.is_some() && cert.has_identity() {
        bail!(KEY_AND_IDENTITY);
    }
    if key.key.is_some() && cert.certificate.is_some() {
        bail!(KEY_AND_CERTIFICATE);
    }
    let Some(key_ref) = &key.key else {
        return resolve_keyless(ctx, cert, log, what);
    };
    let tlog = super::tlog::verify_flags(log, ctx, what, None)?;
    let mut trusted_root = super::trust::trusted_root(log.trusted_root.as_deref(), ctx.timeout)?;
    apply_tsa_overrides(&mut trusted_root, cert)?;
    let public = super::keys::load_verification_key(ctx, key_ref)?;
    Ok(VerifyTrust {
        authority: Authority::Key(public),
        trusted_root,
        tlog,
    })
}

fn resolve_keyless(
    ctx: &Ctx<'_>,
    cert: &CertVerifyArgs,
    log: &VerifyLogArgs,
    what: &str,
) -> Result<VerifyTrust> {
    let policy = certificate_policy(cert)?;
    let mut embedded = None;
    let mut root = match super::trust::trusted_root(log.trusted_root.as_deref(), ctx.timeout)? {
        Some(root) => root,
        None => {
            let json = cosign_trust::tuf::Instance::PublicGood.trusted_root_json();
            embedded = Some(json);
            TrustedRoot::from_json(json).context("parsing the embedded public-good trusted root")?
        }
    };
    let mut intermediates = Vec::new();
    if let Some(path) = &cert.certificate_chain {
        let chain = read_certificates(path, "--certificate-chain")?;
        root.certificate_authorities = vec![authority("--certificate-chain", chain)];
    } else if let Some(path) = &cert.ca_roots {
        let roots = read_certificates(path, "--ca-roots")?;
        root.certificate_authorities = roots
            .into_iter()
            .map(|r| authority("--ca-roots", vec![r]))
            .collect();
        if let Some(path) = &cert.ca_intermediates {
            intermediates = read_certificates(path, "--ca-intermediates")?;
        }
    } else if let Some(path) = env::lookup("SIGSTORE_ROOT_FILE").filter(|p| !p.is_empty()) {
        let certs = read_certificates(Path::new(&path), "SIGSTORE_ROOT_FILE")?;
        let (roots, others): (Vec<_>, Vec<_>) = certs
            .into_iter()
            .partition(|c| c.subject_der() == c.issuer_der());
        if roots.is_empty() {
            bail!("SIGSTORE_ROOT_FILE={path} holds no self-signed root certificate");
        }
        root.certificate_authorities = roots
            .into_iter()
            .map(|r| authority("SIGSTORE_ROOT_FILE", vec![r]))
            .collect();
        intermediates = others;
    } else if cert.ca_intermediates.is_some() {
        bail!("--ca-intermediates must be used together with --ca-roots");
    }
    if let Some(path) = env::lookup("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE").filter(|p| !p.is_empty()) {
        let data = std::fs::read(&path)
            .with_context(|| format!("reading SIGSTORE_CT_LOG_PUBLIC_KEY_FILE={path}"))?;
        let key = cosign_crypto::PublicKey::from_pem(&data)
            .with_context(|| format!("parsing the CT log public key in {path}"))?;
        root.ctlogs = vec![LogInstance {
            base_url: String::new(),
            hash_algorithm: "SHA2_256".into(),
            key_details: String::new(),
            log_id: key.hint().to_vec(),
            public_key: key,
            valid_for: ValidityPeriod::default(),
        }];
    }
    let mut root = Some(root);
    apply_tsa_overrides(&mut root, cert)?;
    let root = root.unwrap_or_else(|| unreachable!("set above"));
    let certificate = cert.certificate.as_deref().map(read_leaf).transpose()?;
    let detached_sct = cert
        .sct
        .as_deref()
        .map(|p| {
            cosign::fsutil::read_small_file(
                p,
                "SCT file",
                cosign_trust::sct::MAX_DETACHED_SCT_LEN as u64,
            )
        })
        .transpose()?;
    let tlog = super::tlog::verify_flags(log, ctx, what, embedded)?;
    Ok(VerifyTrust {
        authority: Authority::Certificate(Box::new(CertificateVerifier {
            trusted_root: root.clone(),
            policy,
            ignore_sct: cert.insecure_ignore_sct,
            detached_sct,
            certificate,
            intermediates,
        })),
        trusted_root: Some(root),
        tlog,
    })
}

/// The identity policy of the flags, with Go cosign's errors when one is missing.
pub fn certificate_policy(cert: &CertVerifyArgs) -> Result<CertificatePolicy> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (id, id_re) = (
        s(&cert.certificate_identity),
        s(&cert.certificate_identity_regexp),
    );
    let (iss, iss_re) = (
        s(&cert.certificate_oidc_issuer),
        s(&cert.certificate_oidc_issuer_regexp),
    );
    if id.is_empty() && id_re.is_empty() {
        bail!(
            "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"
        );
    }
    if iss.is_empty() && iss_re.is_empty() {
        bail!(
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
        );
    }
    Ok(CertificatePolicy {
        identities: vec![Identity::new(&id, &id_re, &iss, &iss_re)?],
        github_workflow: GithubWorkflow {
            trigger: s(&cert.certificate_github_workflow_trigger),
            sha: s(&cert.certificate_github_workflow_sha),
            name: s(&cert.certificate_github_workflow_name),
            repository: s(&cert.certificate_github_workflow_repository),
            git_ref: s(&cert.certificate_github_workflow_ref),
        },
    })
}

/// `--timestamp-certificate-chain` or `SIGSTORE_TSA_CERTIFICATE_FILE`: the timestamp authority
/// (leaf first, root last) that replaces the trusted root's.
fn apply_tsa_overrides(root: &mut Option<TrustedRoot>, cert: &CertVerifyArgs) -> Result<()> {
    let (path, what) = match (
        &cert.timestamp_certificate_chain,
        env::lookup("SIGSTORE_TSA_CERTIFICATE_FILE").filter(|p| !p.is_empty()),
    ) {
        (Some(p), _) => (p.clone(), "--timestamp-certificate-chain"),
        (None, Some(p)) => (p.into(), "SIGSTORE_TSA_CERTIFICATE_FILE"),
        (None, None) => return Ok(()),
    };
    let chain = read_certificates(&path, what)?;
    let root = root.get_or_insert_with(empty_root);
    root.timestamp_authorities = vec![authority(what, chain)];
    Ok(())
}

fn empty_root() -> TrustedRoot {
    TrustedRoot {
        media_type: String::new(),
        tlogs: Vec::new(),
        certificate_authorities: Vec::new(),
        ctlogs: Vec::new(),
        timestamp_authorities: Vec::new(),
    }
}

/// An authority of certificates given on the command line (trusted at any time).
fn authority(source: &str, chain: Vec<Certificate>) -> CertificateAuthority {
    CertificateAuthority {
        subject: AuthoritySubject::default(),
        uri: source.to_owned(),
        cert_chain: chain,
        valid_for: ValidityPeriod::default(),
    }
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<Certificate>> {
    let data = cosign::fsutil::read_small_file(path, "certificate file", 1 << 20)
        .with_context(|| format!("reading {what}"))?;
    let certs = Certificate::from_pem(&data)
        .with_context(|| format!("parsing {what} {}", path.display()))?;
    if certs.is_empty() {
        bail!("{what} {} holds no certificate", path.display());
    }
    Ok(certs)
}

/// `--certificate`: PEM, or base64 of PEM (as cosign's outputs write it).
fn read_leaf(path: &Path) -> Result<Certificate> {
    let c = cosign::certs::load_certificate(path)?;
    Certificate::from_der(&c.der)
        .with_context(|| format!("parsing --certificate {}", path.display()))
}
