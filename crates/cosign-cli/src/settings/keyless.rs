//! Keyless signing and the signing services: which Fulcio, OIDC issuer, transparency log and
//! timestamp authorities a signing command uses (a signing config, else the flags), the
//! witnesses built from them, and the keyless key: an identity token (flag, ambient CI
//! provider, or an interactive flow) exchanged at Fulcio for a certificate of an ephemeral key,
//! checked against the trusted root before anything is signed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cosign::certs::Certificate;
use cosign::tlog::LogFuture;
use cosign::witness::{
    TimestampAuthority, TimestampFuture, Timestamping, TlogUploadV2, TransparencyLogV2, WarmFuture,
    Witnesses,
};
use cosign_crypto::{KeyType, PrivateKey};
use cosign_keyless::fulcio::FulcioClient;
use cosign_keyless::oidc::{AmbientEnv, IdTokenRequest, Interaction, OidcOptions};
use cosign_keyless::tsa::{TsaClient, TsaTlsOptions};
use cosign_tlog::entry::V2Verifier;
use cosign_tlog::{LogEntry, TrustedLogs};
use cosign_trust::signing_config::SigningConfig;
use cosign_trust::trusted_root::TrustedRoot;
use cosign_types::Digest;

use super::signing::SigningRequest;
use crate::ctx::Ctx;

/// `--signing-algorithm` values (Go 3.1.2's list, sorted as Go prints it).
pub const SIGNING_ALGORITHMS: [&str; 6] = [
    "ecdsa-sha2-256-nistp256",
    "ecdsa-sha2-384-nistp384",
    "ecdsa-sha2-512-nistp521",
    "rsa-sign-pkcs1-2048-sha256",
    "rsa-sign-pkcs1-3072-sha256",
    "rsa-sign-pkcs1-4096-sha256",
];

/// The ephemeral key type of a `--signing-algorithm`.
pub fn key_type_of(alg: &str) -> Option<KeyType> {
    Some(match alg {
        "ecdsa-sha2-256-nistp256" => KeyType::EcdsaP256,
        "ecdsa-sha2-384-nistp384" => KeyType::EcdsaP384,
        "ecdsa-sha2-512-nistp521" => KeyType::EcdsaP521,
        "rsa-sign-pkcs1-2048-sha256" => KeyType::Rsa { bits: 2048 },
        "rsa-sign-pkcs1-3072-sha256" => KeyType::Rsa { bits: 3072 },
        "rsa-sign-pkcs1-4096-sha256" => KeyType::Rsa { bits: 4096 },
        _ => return None,
    })
}

/// Client timeout of the Fulcio and TSA requests (Go's 30 s).
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);

/// Client timeout of the Rekor v2 requests (cosign's 90 s for Rekor).
const REKOR_TIMEOUT: Duration = Duration::from_secs(90);

/// The services one signing command uses.
#[derive(Debug)]
pub struct Services {
    /// Fulcio (keyless).
    pub fulcio_url: String,
    /// The OIDC issuer of the interactive flows.
    pub oidc_issuer: String,
    /// A Rekor v1 log.
    pub rekor_v1: Option<String>,
    /// A Rekor v2 log.
    pub rekor_v2: Option<String>,
    /// Timestamp authorities.
    pub tsas: Vec<String>,
}

impl Services {
    /// From the signing config (validity now, supported API versions, its selectors), else
    /// from the flags.
    pub fn select(req: &SigningRequest<'_>, config: Option<&SigningConfig>) -> Result<Self> {
        let s = req.services;
        let Some(config) = config else {
            let tsas = s
                .timestamp_server_url
                .iter()
                .filter(|u| !u.is_empty())
                .cloned()
                .collect();
            return Ok(Self {
                fulcio_url: s.fulcio_url.clone(),
                oidc_issuer: s.oidc_issuer.clone(),
                rekor_v1: req.rekor.tlog_upload.then(|| req.rekor.rekor_url.clone()),
                rekor_v2: None,
                tsas,
            });
        };
        let now = cosign::time::now_unix();
        let fulcio = config
            .fulcio(now)
            .context("selecting a certificate authority from the signing config")?;
        if req.keyless() && fulcio.is_none() {
            bail!("the signing config names no certificate authority (caUrls) valid now");
        }
        let oidc = config
            .oidc_provider(now)
            .context("selecting an OIDC provider from the signing config")?;
        let logs = config
            .rekor_logs(now, &[1, 2])
            .context("selecting transparency logs from the signing config")?;
        if logs.len() > 1 {
            bail!(
                "the signing config selects {} transparency logs; this build records a signature in one log (use a signing config whose rekorTlogConfig selects one)",
                logs.len()
            );
        }
        let (mut rekor_v1, mut rekor_v2) = (None, None);
        if let Some(log) = logs.into_iter().next() {
            match log.major_api_version {
                1 => rekor_v1 = Some(log.url),
                _ => rekor_v2 = Some(log.url),
            }
        }
        let tsas: Vec<String> = config
            .tsas(now)
            .context("selecting timestamp authorities from the signing config")?
            .into_iter()
            .map(|t| t.url)
            .collect();
        // A Rekor v2 entry has no signed time: only a timestamp proves when it was made.
        if rekor_v2.is_some() && tsas.is_empty() {
            if req.keyless() {
                bail!(
                    "a timestamp authority must be provided to request a short-lived certificate that will be logged to Rekor"
                );
            }
            bail!(
                "the signing config names a Rekor v2 log and no timestamp authority: Rekor v2 entries need a timestamp to be verified"
            );
        }
        Ok(Self {
            fulcio_url: fulcio.map_or_else(|| s.fulcio_url.clone(), |f| f.url),
            oidc_issuer: oidc.map_or_else(|| s.oidc_issuer.clone(), |o| o.url),
            rekor_v1,
            rekor_v2,
            tsas,
        })
    }

    /// The witnesses: the log (v1 checked against `--trusted-root`'s logs when given, else
    /// `SIGSTORE_REKOR_PUBLIC_KEY`, else the log's own key; v2 against the trusted root, which
    /// names its checkpoint origin) and the timestamp authorities (checked against `root`).
    pub fn witnesses(
        &self,
        req: &SigningRequest<'_>,
        ctx: &Ctx<'_>,
        root: Option<Arc<TrustedRoot>>,
        root_json: Option<&[u8]>,
    ) -> Result<Witnesses> {
        let mut witnesses = Witnesses::default();
        if let Some(url) = &self.rekor_v1 {
            let mut up = super::tlog::upload(ctx, true, url, req.key.yes)?;
            if let (Some(up), Some(path)) = (up.as_mut(), &req.services.trusted_root)
                && let Some(logs) = super::tlog::explicit_trusted_logs(Some(path))?
            {
                up.trusted = Some(logs);
            }
            witnesses.tlog = up;
        }
        if let Some(url) = &self.rekor_v2 {
            let json = root_json.context("a Rekor v2 log needs a trusted root")?;
            let logs_root = cosign_tlog::trusted_root::TrustedRoot::from_json(json)
                .context("reading the transparency logs of the trusted root")?;
            let trusted = TrustedLogs::from_trusted_root(&logs_root);
            if trusted.is_empty() {
                bail!(
                    "the trusted root names no transparency log to check the Rekor v2 log {url} with"
                );
            }
            let client =
                cosign_tlog::v2client::RekorV2Client::new(url, REKOR_TIMEOUT, &super::user_agent())
                    .with_context(|| format!("setting up the Rekor v2 client for {url}"))?;
            witnesses.tlog_v2 = Some(TlogUploadV2 {
                client: Arc::new(RekorV2 {
                    client,
                    url: url.clone(),
                }),
                trusted,
            });
        }
        if !self.tsas.is_empty() {
            let root = root.context("timestamp authorities need a trusted root")?;
            if root.timestamp_authorities.is_empty() {
                bail!(
                    "the trusted root names no timestamp authority to check the timestamps of {} with",
                    self.tsas.join(", ")
                );
            }
            let s = req.services;
            let tls = TsaTlsOptions {
                ca_cert: s.timestamp_client_cacert.clone(),
                client_cert: s.timestamp_client_cert.clone(),
                client_key: s.timestamp_client_key.clone(),
                server_name: s.timestamp_server_name.clone(),
            };
            let mut authorities: Vec<Arc<dyn TimestampAuthority>> = Vec::new();
            for url in &self.tsas {
                let http = cosign_keyless::tsa::tsa_http_client(
                    &tls,
                    reqwest::Client::builder()
                        .timeout(SERVICE_TIMEOUT)
                        .user_agent(super::user_agent()),
                )
                .with_context(|| format!("setting up the timestamp authority client for {url}"))?;
                let client = TsaClient::new(url, http).with_context(|| {
                    format!("setting up the timestamp authority client for {url}")
                })?;
                authorities.push(Arc::new(Tsa {
                    client,
                    url: url.clone(),
                }));
            }
            witnesses.timestamps = Some(Timestamping {
                authorities,
                trusted_root: root,
            });
        }
        Ok(witnesses)
    }
}

struct Tsa {
    client: TsaClient,
    url: String,
}

impl TimestampAuthority for Tsa {
    fn url(&self) -> &str {
        &self.url
    }
    fn timestamp<'a>(&'a self, data: &'a [u8]) -> TimestampFuture<'a> {
        Box::pin(async move { self.client.timestamp(data).await.map_err(|e| e.to_string()) })
    }
    fn warm(&self) -> WarmFuture<'_> {
        Box::pin(self.client.warm())
    }
}

struct RekorV2 {
    client: cosign_tlog::v2client::RekorV2Client,
    url: String,
}

impl TransparencyLogV2 for RekorV2 {
    fn url(&self) -> &str {
        &self.url
    }
    fn create_hashedrekord<'a>(
        &'a self,
        digest: &'a Digest,
        signature: &'a [u8],
        verifier: &'a V2Verifier,
    ) -> LogFuture<'a, LogEntry> {
        Box::pin(self.client.create_hashedrekord(digest, signature, verifier))
    }
    fn warm(&self) -> WarmFuture<'_> {
        Box::pin(self.client.warm())
    }
}

/// A keyless signing key: the ephemeral (or `--issue-certificate`) key and its checked Fulcio
/// certificate.
pub struct Keyless {
    /// The key.
    pub signer: cosign::Signer,
    /// Its Fulcio certificate.
    pub certificate: Certificate,
    /// What legacy signatures store as the chain: nothing, as Go 3.1.2 (which keeps only
    /// Fulcio's leaf; verifiers build the chain from the trusted root).
    pub chain: String,
}

/// What the user sees of an interactive OIDC flow: lines on standard error, and a browser
/// opened with `xdg-open` (`open` on macOS) when there is one.
struct CliInteraction;

impl Interaction for CliInteraction {
    fn message(&self, text: &str) {
        // The printer is not shared across the flow's tasks; these lines go straight to
        // standard error, as Go prints them.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{text}");
    }
    fn open_browser(&self, url: &str) -> Result<(), String> {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        match std::process::Command::new(opener)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
        {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("{opener} exited with {status}")),
            Err(e) => Err(format!("{opener}: {e}")),
        }
    }
}

/// Gets the keyless key: the key (ephemeral, of `--signing-algorithm`, or the `--key` with
/// `--issue-certificate`), an identity token, and Fulcio's certificate for it, whose chain,
/// SCT and key are checked against `root` before it is used.
pub fn obtain(
    req: &SigningRequest<'_>,
    ctx: &Ctx<'_>,
    services: &Services,
    root: &TrustedRoot,
    witnesses: &Witnesses,
) -> Result<Keyless> {
    let s = req.services;
    let key = match &req.key.key {
        Some(_) => {
            let (signer, _) = super::signing::resolve_key(req.key, ctx, req.stdin_busy)?;
            match signer {
                cosign::Signer::Local(k) => *k,
                cosign::Signer::Remote(r) => bail!(
                    "--issue-certificate needs a key this process holds (a key file or env://): {} signs remotely",
                    r.reference()
                ),
            }
        }
        None => {
            ctx.printer.info("Generating ephemeral keys...");
            let key_type =
                key_type_of(&s.signing_algorithm).context("checked by SigningRequest::check")?;
            PrivateKey::generate(key_type).context("generating the ephemeral key")?
        }
    };
    let client_secret = s
        .oidc_client_secret_file
        .as_deref()
        .map(OidcOptions::read_client_secret)
        .transpose()?;
    let stdin_terminal = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let flow = cosign_keyless::oidc::choose_flow(
        s.fulcio_auth_flow.as_deref(),
        stdin_terminal && req.stdin_busy.is_none(),
    )?;
    let interaction = CliInteraction;
    let request = IdTokenRequest {
        token_or_path: s.identity_token.as_deref().unwrap_or(""),
        options: OidcOptions {
            issuer: services.oidc_issuer.clone(),
            client_id: s.oidc_client_id.clone(),
            client_secret,
            redirect_url: s.oidc_redirect_url.clone(),
            provider: s.oidc_provider.clone(),
            disable_ambient_providers: s.oidc_disable_ambient_providers,
        },
        flow,
        ambient: AmbientEnv::from_lookup(
            crate::env::lookup,
            crate::env::home().map(std::path::PathBuf::from),
        ),
        interaction: &interaction,
        browser_timeout: Duration::from_secs(120),
        poll_second: Duration::from_secs(1),
    };
    let fulcio_url = services.fulcio_url.clone();
    let ignore_sct = s.insecure_skip_verify;
    let issued = ctx.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(SERVICE_TIMEOUT)
            .user_agent(super::user_agent())
            .build()
            .context("setting up the Fulcio client")?;
        let client = FulcioClient::new(&fulcio_url, http)
            .with_context(|| format!("setting up the Fulcio client for {fulcio_url}"))?;
        // The token, then Fulcio; the log's and the TSAs' connections open meanwhile, and
        // Fulcio's too when the token has to be fetched (a token at hand goes to Fulcio at
        // once, on the connection its request opens).
        let certificate = async {
            let token = cosign_keyless::oidc::retrieve_id_token(&request);
            tokio::pin!(token);
            let token = match futures_util::poll!(&mut token) {
                std::task::Poll::Ready(t) => t,
                std::task::Poll::Pending => tokio::join!(token, client.warm()).0,
            };
            let (token, _source) = token.context("getting an OIDC identity token")?;
            client
                .signing_certificate(&token, &key)
                .await
                .with_context(|| format!("getting a signing certificate from {fulcio_url}"))
        };
        tokio::join!(certificate, witnesses.warm()).0
    })?;
    issued
        .check(
            &key.public_key(),
            root,
            cosign::time::now_unix(),
            ignore_sct,
        )
        .with_context(|| format!("checking the certificate {fulcio_url} issued"))?;
    let leaf_pem = issued.leaf_pem();
    let certificate = cosign::certs::parse_certificate(leaf_pem.as_bytes(), &fulcio_url)?;
    Ok(Keyless {
        signer: cosign::Signer::Local(Box::new(key)),
        certificate,
        chain: String::new(),
    })
}
