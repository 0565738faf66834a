//! The rustls configuration of the registry client.
//!
//! Built here rather than through reqwest's builder so that `--registry-server-name` can be
//! honoured: the server's certificate is verified against that name instead of the host in
//! the URL (the SNI sent is still the URL's host; rustls derives both from one name and
//! reqwest gives no hook for the SNI).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::OciError;

/// What the TLS configuration is built from.
pub(crate) struct TlsOptions<'a> {
    pub(crate) skip_verify: bool,
    pub(crate) ca_certs_pem: Option<&'a [u8]>,
    pub(crate) client_cert_pem: Option<&'a [u8]>,
    pub(crate) client_key_pem: Option<&'a [u8]>,
    pub(crate) server_name: Option<&'a str>,
}

pub(crate) fn client_config(o: &TlsOptions<'_>) -> Result<rustls::ClientConfig, OciError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| OciError::config("TLS protocol versions", Some(Box::new(e))))?;

    let verifier: Arc<dyn ServerCertVerifier> = if o.skip_verify {
        Arc::new(Fixed {
            refusal: None,
            provider: provider.clone(),
        })
    } else {
        let extra = match o.ca_certs_pem {
            Some(pem) => parse_certs(pem, "--registry-cacert")?,
            None => Vec::new(),
        };
        let platform: Arc<dyn ServerCertVerifier> =
            match rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            {
                Ok(v) => Arc::new(v),
                // No usable roots (a minimal container): plain-http registries still work, and
                // https ones fail with this message.
                Err(e) => Arc::new(Fixed {
                    refusal: Some(e.to_string()),
                    provider: provider.clone(),
                }),
            };
        match o.server_name {
            Some(name) => {
                let name = ServerName::try_from(name.to_owned()).map_err(|e| {
                    OciError::config(
                        format!("--registry-server-name {name:?} is not a DNS name or IP address"),
                        Some(Box::new(e)),
                    )
                })?;
                Arc::new(NameOverride {
                    inner: platform,
                    name,
                })
            }
            None => platform,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (o.client_cert_pem, o.client_key_pem) {
        (Some(cert), Some(key)) => {
            let certs = parse_certs(cert, "--registry-client-cert")?;
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                OciError::config(
                    "--registry-client-key holds no PEM private key",
                    Some(Box::new(e)),
                )
            })?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                OciError::config("the registry client certificate", Some(Box::new(e)))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(OciError::config(
                "--registry-client-cert and --registry-client-key must be given together",
                None,
            ));
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, OciError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| OciError::config(format!("{what}: invalid PEM"), Some(Box::new(e))))?;
    if certs.is_empty() {
        return Err(OciError::config(
            format!("{what}: no PEM certificate found"),
            None,
        ));
    }
    Ok(certs)
}

/// Verifies the chain as `inner` does, but for a fixed name.
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

/// A verifier with a fixed verdict on every server certificate: accept
/// (`--allow-insecure-registry`), or refuse with the reason (the system roots could not be
/// loaded). Handshake signatures are still checked.
#[derive(Debug)]
struct Fixed {
    refusal: Option<String>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Fixed {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.refusal {
            None => Ok(ServerCertVerified::assertion()),
            Some(reason) => Err(rustls::Error::General(format!(
                "cannot verify the registry certificate: {reason}"
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> TlsOptions<'static> {
        TlsOptions {
            skip_verify: false,
            ca_certs_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
            server_name: None,
        }
    }

    #[test]
    fn builds_and_refuses() {
        client_config(&opts()).unwrap();
        client_config(&TlsOptions {
            skip_verify: true,
            ..opts()
        })
        .unwrap();
        client_config(&TlsOptions {
            server_name: Some("registry.test"),
            ..opts()
        })
        .unwrap();
        let e = client_config(&TlsOptions {
            ca_certs_pem: Some(b"not pem"),
            ..opts()
        })
        .unwrap_err();
        assert!(e.to_string().contains("--registry-cacert"), "{e}");
        let e = client_config(&TlsOptions {
            client_cert_pem: Some(b"x"),
            ..opts()
        })
        .unwrap_err();
        assert!(e.to_string().contains("together"), "{e}");
        let e = client_config(&TlsOptions {
            server_name: Some("bad name!"),
            ..opts()
        })
        .unwrap_err();
        assert!(e.to_string().contains("server-name"), "{e}");
    }
}
