//! An HTTPS server for the documented-API fakes (Google Cloud KMS, Azure Key Vault, the
//! Kubernetes API): hyper over rustls with a leaf for `127.0.0.1`/`localhost` from a [`TestCa`],
//! optionally asking for (and verifying) a client certificate. The handler sees the whole
//! request ([`Captured`]) and answers synchronously; every request is logged.

use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::task::JoinSet;

use crate::server::{self, Body};
use crate::{LoggedRequest, TestCa, rt};

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    /// The path, percent-decoding not applied.
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    /// Whether the client presented a certificate (verified against the CA).
    pub client_cert: bool,
}

impl Captured {
    /// A header's value (`""` when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as a form (`application/x-www-form-urlencoded`).
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The body as JSON (`None` when it is not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An answer.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            body: v.to_string().into_bytes(),
        }
    }
}

/// A running fake: its port, CA and request log. Stops when dropped.
pub(crate) struct TlsServer {
    pub port: u16,
    pub log: Arc<Mutex<Vec<LoggedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts the connections.
        self.task.abort();
    }
}

/// Starts a server on `127.0.0.1:0`. With `client_ca`, clients may present a certificate
/// signed by it (requests without one are still served; [`Captured::client_cert`] tells).
pub(crate) fn start<H>(ca: &TestCa, client_ca: bool, handler: H) -> TlsServer
where
    H: Fn(Captured) -> Reply + Send + Sync + 'static,
{
    let (cert_pem, key_pem) = ca.leaf(&["localhost"], &["127.0.0.1".parse().expect("ip")]);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("leaf PEM");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("leaf key PEM");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca.ca_pem.as_bytes()) {
            roots.add(c.expect("CA PEM")).expect("add CA");
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let (listener, port) = server::bind_loopback();
    listener.set_nonblocking(true).expect("set_nonblocking");
    let handle = rt::handle();
    let listener = {
        let _guard = handle.enter();
        tokio::net::TcpListener::from_std(listener).expect("register listener")
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let shared_log = Arc::clone(&log);
    let task = handle.spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let acceptor = acceptor.clone();
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&shared_log);
            connections.spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let client_cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .is_some_and(|c| !c.is_empty());
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let handler = Arc::clone(&handler);
                    let log = Arc::clone(&log);
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let captured = Captured {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_owned(),
                            query: parts.uri.query().unwrap_or("").to_owned(),
                            headers: parts.headers,
                            body,
                            client_cert,
                        };
                        let logged_path = match captured.query.as_str() {
                            "" => captured.path.clone(),
                            q => format!("{}?{q}", captured.path),
                        };
                        let method = captured.method.clone();
                        let reply = handler(captured);
                        log.lock().expect("fake log").push(LoggedRequest {
                            method,
                            path: logged_path,
                            status: reply.status,
                        });
                        let status = StatusCode::from_u16(reply.status).expect("status");
                        Ok::<Response<Body>, std::convert::Infallible>(server::full(
                            status,
                            reply.content_type,
                            reply.body,
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    TlsServer { port, log, task }
}
