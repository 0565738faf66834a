//! The HTTP client for a timestamp authority behind (mutual) TLS, as Go cosign's
//! `--timestamp-client-cacert`, `--timestamp-client-cert`, `--timestamp-client-key` and
//! `--timestamp-server-name` make it (`internal/pkg/cosign/tsa/client.GetHTTPTransport`):
//!
//! - used only when a CA file is given, or a client certificate and key both are (else the
//!   caller's client is built as it is, and `--timestamp-server-name` has no effect, as in Go);
//! - TLS 1.3 only;
//! - with a CA file, the server is trusted through those certificates alone (Go's `RootCAs`);
//!   without, through the platform's roots;
//! - the client certificate chain and key (PEM; PKCS#8, SEC1 or PKCS#1) when both are given;
//! - `--timestamp-server-name`: the server certificate is verified for that name instead of the
//!   URL's host. (Go also sends it as SNI; reqwest offers no hook for the SNI, which stays the
//!   URL's host.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::KeylessError;

/// The TLS options of the timestamp authority connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsaTlsOptions {
    /// `--timestamp-client-cacert`: PEM CA certificates the server must chain to.
    pub ca_cert: Option<PathBuf>,
    /// `--timestamp-client-cert`: PEM client certificate (chain).
    pub client_cert: Option<PathBuf>,
    /// `--timestamp-client-key`: PEM private key of the client certificate.
    pub client_key: Option<PathBuf>,
    /// `--timestamp-server-name`: the name the server's certificate must carry.
    pub server_name: Option<String>,
}

impl TsaTlsOptions {
    /// Whether Go would build its own transport for these options.
    pub fn is_custom(&self) -> bool {
        self.ca_cert.is_some() || (self.client_cert.is_some() && self.client_key.is_some())
    }
}

fn config_err(what: &str, detail: impl std::fmt::Display) -> KeylessError {
    KeylessError::Config {
        what: what.to_owned(),
        detail: detail.to_string(),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, KeylessError> {
    std::fs::read(path).map_err(|e| config_err(what, format!("reading {}: {e}", path.display())))
}

fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, KeylessError> {
    let pem = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_err(what, format!("{}: invalid PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(config_err(
            what,
            format!("no valid CA certs found in {}", path.display()),
        ));
    }
    Ok(certs)
}

/// The client for a timestamp authority: `base` as it is, or with the TLS configuration the
/// options ask for (see the module documentation).
pub fn tsa_http_client(
    opts: &TsaTlsOptions,
    base: reqwest::ClientBuilder,
) -> Result<reqwest::Client, KeylessError> {
    let build = |b: reqwest::ClientBuilder| {
        b.build()
            .map_err(|e| config_err("the timestamp authority's HTTP client", e))
    };
    if !opts.is_custom() {
        return build(base);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| config_err("TLS 1.3", e))?;
    let verifier: Arc<dyn ServerCertVerifier> = match &opts.ca_cert {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in certs(path, "--timestamp-client-cacert")? {
                roots
                    .add(cert)
                    .map_err(|e| config_err("--timestamp-client-cacert", e))?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| config_err("--timestamp-client-cacert", e))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
                .map_err(|e| config_err("the platform's root certificates", e))?,
        ),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match &opts.server_name {
        Some(name) => Arc::new(NameOverride {
            inner: verifier,
            name: ServerName::try_from(name.clone()).map_err(|e| {
                config_err(
                    "--timestamp-server-name",
                    format!("{name:?} is not a DNS name or IP address: {e}"),
                )
            })?,
        }),
        None => verifier,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&opts.client_cert, &opts.client_key) {
        (Some(cert_path), Some(key_path)) => {
            let chain = certs(cert_path, "--timestamp-client-cert")?;
            let key_pem = zeroize::Zeroizing::new(read(key_path, "--timestamp-client-key")?);
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                config_err(
                    "--timestamp-client-key",
                    format!("{}: no PEM private key: {e}", key_path.display()),
                )
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| config_err("the timestamp client certificate and key", e))?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    build(base.tls_backend_preconfigured(config))
}

/// Verifies the server's chain as `inner` does, for a fixed name.
#[derive(Debug)]
struct NameOverride {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NameOverride {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
