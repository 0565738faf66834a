//! The signing service of `sign`, `sign-blob`, `attest` and `attest-blob`: the key (a file,
//! `env://`, KMS, Kubernetes secret or PKCS#11 token, or keyless: an ephemeral key with a
//! short-lived Fulcio certificate for an OIDC identity), its certificate and chain, and the
//! witnesses that record and date the signature (Rekor v1 or v2, timestamp authorities).
//!
//! Where the services are (decision 0015): a signing config (`--signing-config FILE`, or the
//! TUF one with `--use-signing-config`, the default) when the command writes a Sigstore bundle
//! and no service URL flag is given; else the flags (`--fulcio-url`, `--rekor-url`,
//! `--timestamp-server-url`), as Go cosign does with `--use-signing-config=false`. Everything
//! the services answer is checked against the trusted root (`--trusted-root`, the TUF root of
//! `cosign initialize`, else the public-good root built in) before anything is signed or stored.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use cosign::certs::Certificate;
use cosign::witness::Witnesses;
use cosign_kms::KeyRef;
use cosign_trust::trusted_root::TrustedRoot;

use super::keys::{load_signing_keyref, refuse_sk, signing_certificate};
use crate::args::{RekorArgs, SigningKeyArgs, SigningServicesArgs};
use crate::ctx::Ctx;

/// How to sign, resolved from the key, service and log flags.
pub struct SigningSettings {
    /// The key that signs.
    pub signer: cosign::Signer,
    /// Its certificate: keyless (Fulcio), `--certificate`, else one stored beside a token key.
    pub certificate: Option<Certificate>,
    /// The certificate's chain (PEM: intermediates, then root), for legacy storage.
    pub chain: Option<String>,
    /// Where the signature is recorded and dated.
    pub witnesses: Witnesses,
}

/// What a signing command asks for.
pub struct SigningRequest<'a> {
    /// The key flags.
    pub key: &'a SigningKeyArgs,
    /// The log flags.
    pub rekor: &'a RekorArgs,
    /// The keyless and service flags.
    pub services: &'a SigningServicesArgs,
    /// What standard input carries (no password or token is read from it then).
    pub stdin_busy: Option<&'a str>,
    /// Whether the command writes a Sigstore bundle (a signing config applies only then:
    /// legacy storage cannot hold a Rekor v2 entry).
    pub sigstore_bundle: bool,
}

/// The default Fulcio URL.
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";

/// `--key`, unless signing is keyless; refuses `--sk`.
pub fn signing_key_ref(key: &SigningKeyArgs) -> Result<Option<KeyRef>> {
    refuse_sk(key.sk)?;
    key.key
        .as_deref()
        .map(KeyRef::parse)
        .transpose()
        .map_err(Into::into)
}

impl SigningRequest<'_> {
    /// Whether a service URL flag was given (Go: they conflict with a signing config).
    fn urls_given(&self) -> bool {
        let s = self.services;
        self.rekor.rekor_url.trim_end_matches('/') != super::tlog::PUBLIC_REKOR
            || s.fulcio_url.trim_end_matches('/') != DEFAULT_FULCIO_URL
            || s.oidc_issuer != cosign_keyless::oidc::DEFAULT_OIDC_ISSUER
            || s.timestamp_server_url
                .as_deref()
                .is_some_and(|u| !u.is_empty())
    }

    /// Whether signing is keyless: no key, or `--issue-certificate` for the key.
    pub fn keyless(&self) -> bool {
        self.key.key.is_none() || self.services.issue_certificate
    }

    /// The checks Go makes before anything else (`LoadTrustedMaterialAndSigningConfig`).
    pub fn check(&self) -> Result<()> {
        refuse_sk(self.key.sk)?;
        if self.services.signing_config.is_some() {
            if self.urls_given() {
                bail!("cannot specify service URLs and use signing config");
            }
            if !self.rekor.tlog_upload {
                bail!(
                    "--tlog-upload=false is not supported with --signing-config or --use-signing-config. Provide a signing config with --signing-config without a transparency log service, which can be created with `cosign signing-config create` or `curl https://raw.githubusercontent.com/sigstore/root-signing/refs/heads/main/targets/signing_config.v0.2.json | jq 'del(.rekorTlogUrls)'` for the public instance"
                );
            }
            if !self.sigstore_bundle {
                bail!(
                    "must provide --new-bundle-format or --bundle where applicable with --signing-config or --use-signing-config"
                );
            }
        }
        let alg = &self.services.signing_algorithm;
        if super::keyless::key_type_of(alg).is_none() {
            bail!(
                "invalid signing algorithm: {alg}. Supported algorithms are: {}",
                super::keyless::SIGNING_ALGORITHMS.join(", ")
            );
        }
        Ok(())
    }

    /// Whether the signing config is used (see the module docs).
    fn uses_signing_config(&self) -> bool {
        self.services.signing_config.is_some()
            || (self.services.use_signing_config
                && self.sigstore_bundle
                && self.rekor.tlog_upload
                && !self.urls_given())
    }
}

/// The first half of [`SigningSettings::resolve`]: the checks, the services and the witnesses
/// (cosign's log notice is shown here), before the key is loaded or obtained.
pub struct Prepared {
    /// Where signatures are recorded and dated.
    pub witnesses: Witnesses,
    services: super::keyless::Services,
    root: Option<Arc<TrustedRoot>>,
}

impl SigningSettings {
    /// Resolves how to sign: [`SigningSettings::prepare`], then [`Prepared::finish`].
    pub fn resolve(req: &SigningRequest<'_>, ctx: &Ctx<'_>) -> Result<Self> {
        Self::prepare(req, ctx)?.finish(req, ctx)
    }

    /// The checks, the services (a signing config, else the flags), the trusted root that
    /// checks their answers, and the witnesses.
    pub fn prepare(req: &SigningRequest<'_>, ctx: &Ctx<'_>) -> Result<Prepared> {
        req.check()?;
        let config = if req.uses_signing_config() {
            Some(super::trust::signing_config(
                req.services.signing_config.as_deref(),
                ctx.timeout,
            )?)
        } else {
            None
        };
        let services = super::keyless::Services::select(req, config.as_ref())?;
        let needs_root = req.keyless() || !services.tsas.is_empty() || services.rekor_v2.is_some();
        let (root, root_json) = if needs_root {
            let (root, json) = signing_trusted_root(req, ctx)?;
            (Some(Arc::new(root)), Some(json))
        } else {
            (None, None)
        };
        let witnesses = services.witnesses(req, ctx, root.clone(), root_json.as_deref())?;
        Ok(Prepared {
            witnesses,
            services,
            root,
        })
    }
}

impl Prepared {
    /// The key, its certificate and chain: keyless (token → Fulcio, checked), else the key.
    pub fn key(
        &self,
        req: &SigningRequest<'_>,
        ctx: &Ctx<'_>,
    ) -> Result<(cosign::Signer, Option<Certificate>, Option<String>)> {
        if req.keyless() {
            let root = self
                .root
                .as_deref()
                .context("keyless signing needs a trusted root")?;
            let keyless = super::keyless::obtain(req, ctx, &self.services, root, &self.witnesses)?;
            return Ok((
                keyless.signer,
                Some(keyless.certificate),
                Some(keyless.chain),
            ));
        }
        let (signer, certificate) = resolve_key(req.key, ctx, req.stdin_busy)?;
        Ok((signer, certificate, None))
    }

    /// The settings, with the key.
    pub fn finish(self, req: &SigningRequest<'_>, ctx: &Ctx<'_>) -> Result<SigningSettings> {
        let (signer, certificate, chain) = self.key(req, ctx)?;
        Ok(SigningSettings {
            signer,
            certificate,
            chain,
            witnesses: self.witnesses,
        })
    }
}

/// The trusted root that checks the services' answers, and its JSON: `--trusted-root`, else
/// the TUF root of `cosign initialize`, else the public-good root built in.
fn signing_trusted_root(req: &SigningRequest<'_>, ctx: &Ctx<'_>) -> Result<(TrustedRoot, Vec<u8>)> {
    let (json, source) = match &req.services.trusted_root {
        Some(path) => (
            std::fs::read(path)
                .with_context(|| format!("loading trusted root: reading {}", path.display()))?,
            path.display().to_string(),
        ),
        None => match super::trust::initialized_trusted_root(ctx.timeout)? {
            Some(json) => (
                json,
                "the initialized TUF repository's trusted_root.json".to_owned(),
            ),
            None => (
                cosign_trust::tuf::Instance::PublicGood
                    .trusted_root_json()
                    .to_vec(),
                "the embedded public-good trusted root".to_owned(),
            ),
        },
    };
    let root = TrustedRoot::from_json(&json)
        .with_context(|| format!("loading trusted root: parsing {source}"))?;
    Ok((root, json))
}

/// The signing key and its certificate: the refusals, `--certificate`, the key (its password
/// or PIN asked for here), the check that the certificate is the key's, and a token's own
/// certificate.
pub fn resolve_key(
    key: &SigningKeyArgs,
    ctx: &Ctx<'_>,
    stdin_busy: Option<&str>,
) -> Result<(cosign::Signer, Option<Certificate>)> {
    let Some(keyref) = signing_key_ref(key)? else {
        bail!("a signing key is required (--key)");
    };
    let certificate = key
        .certificate
        .as_deref()
        .map(cosign::certs::load_certificate)
        .transpose()?;
    let signer = load_signing_keyref(ctx, &keyref, stdin_busy)?;
    if let Some(cert) = &certificate
        && cert.public_key != signer.public_key()
    {
        bail!("public key in certificate does not match that in the signing key");
    }
    let certificate = signing_certificate(ctx, &keyref, &signer, certificate)?;
    Ok((signer, certificate))
}
